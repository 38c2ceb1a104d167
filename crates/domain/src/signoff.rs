//! Tamper-evident closure: a supervisor signs a digest of the case's content with the Ed25519 key
//! of their device. The server verifies the signature before accepting the sign-off, and every
//! device verifies it again when it shows the case: any later change to the case or its records
//! no longer matches the signed digest.
//!
//! **Seal version 2** (this build signs only these):
//! - The digest ([`case_digest`]) is the hex SHA-256 of `"shegong closure digest v2\n"` followed
//!   by a canonical JSON text ([`canonical_json`]) of
//!   `{"case": id, "fields": {…}, "generation": g, "records": [{"fields": {…}, "id": …, "kind": …}, …]}`:
//!   the case's fields with a value but those the decision itself sets, its reopen generation,
//!   and every stage record but decisions, ordered by kind then id. The text is written by this
//!   module, not by `serde_json`, so no Cargo feature (`serde_json/preserve_order`,
//!   `arbitrary_precision`) can change it; `the_digest_of_a_fixed_case_is_known` pins its bytes.
//! - The signed message ([`message_v2`]) is `"shegong closure sign-off v2\n{case}\n{g}\n{digest}"`,
//!   and the decision records `g` as `case_generation`. A case's generation ([`case_generation`],
//!   the case field `reopen_generation`, absent = 0) goes up by one with every reopening, so a
//!   sign-off made before a reopening can neither be replayed as a new decision nor close the
//!   reopened case (`rules` refuse both with `signature_stale_generation`).
//!
//! **Version 1** seals (decisions without `case_generation`, signed by older builds) still
//! verify: their message is [`message`], without the generation (so they count as generation 0),
//! and their digest was `serde_json`'s text of the same content without the generation and
//! without the tag, whose key order depended on the build. [`check_seal`] accepts either order,
//! both recomputed here byte for byte.
//!
//! Signatures are verified strictly ([`VerifyingKey::verify_strict`]) and weak (small-order)
//! public keys are refused. Signing keys are registered with a proof of possession
//! ([`prove_key`], [`verify_key_proof`]).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::entity::{EntityKind, EntityState};
use crate::{Id, Labelled, field};

/// Case fields set by the decision itself, so not part of what is signed.
const DECISION_FIELDS: &[&str] =
    &[field::case::STAGE, field::case::STAGE_ENTERED_ON, field::case::CLOSURE_STATUS, field::case::CLOSURE_COMMENTS];

/// The seal version this build signs.
pub const SEAL_VERSION: u32 = 2;

const DIGEST_TAG_V2: &str = "shegong closure digest v2\n";

/// The case's reopen generation: its `reopen_generation` field, 0 when absent (never reopened).
pub fn case_generation(case: &EntityState) -> i64 {
    case.get(field::case::REOPEN_GENERATION).and_then(Value::as_i64).unwrap_or(0)
}

/// Writes `value` as canonical JSON text: no white space; object keys in byte order of their
/// UTF-8; strings with the minimal escaping of RFC 8259 (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, and `\u00xx` with lower-case hex for the other control characters below U+0020; every
/// other character as its UTF-8); integers in decimal; other numbers as Rust's `{:?}` writes an
/// `f64` (case fields never hold one: integers are normalized to `i64`). For the compact text
/// of a `Value` whose objects are sorted, the same bytes as `serde_json` writes by default.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                out.push_str(&format!("{:?}", n.as_f64().unwrap_or_default()));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            write_object(out, entries.into_iter().map(|(k, v)| (k.as_str(), v)));
        }
    }
}

/// An object with its entries in the order given.
fn write_object<'a>(out: &mut String, entries: impl Iterator<Item = (&'a str, &'a Value)>) {
    out.push('{');
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_json(out, value);
    }
    out.push('}');
}

fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The case's fields with a value, but those the decision sets.
fn signed_case_fields(case: &EntityState) -> serde_json::Map<String, Value> {
    case.fields
        .iter()
        .filter(|(k, v)| !v.is_null() && !DECISION_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The signed stage records (all but decisions), by kind then id.
fn signed_records(records: &[EntityState]) -> Vec<&EntityState> {
    let mut signed: Vec<&EntityState> =
        records.iter().filter(|r| r.kind.is_case_record() && r.kind != EntityKind::ClosureDecision).collect();
    signed.sort_by_key(|r| (r.kind, r.id));
    signed
}

fn record_fields(r: &EntityState) -> Value {
    Value::Object(r.fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The text [`case_digest`] hashes (see the module documentation), for tests and audits.
pub fn case_digest_input(case: &EntityState, records: &[EntityState]) -> String {
    let records: Vec<Value> = signed_records(records)
        .into_iter()
        .map(|r| {
            let mut object = serde_json::Map::new();
            object.insert("fields".into(), record_fields(r));
            object.insert("id".into(), Value::String(r.id.to_string()));
            object.insert("kind".into(), Value::String(r.kind.as_str().into()));
            Value::Object(object)
        })
        .collect();
    let mut object = serde_json::Map::new();
    object.insert("case".into(), Value::String(case.id.to_string()));
    object.insert("fields".into(), Value::Object(signed_case_fields(case)));
    object.insert("generation".into(), Value::from(case_generation(case)));
    object.insert("records".into(), Value::Array(records));
    let mut out = String::from(DIGEST_TAG_V2);
    write_json(&mut out, &Value::Object(object));
    out
}

/// Hex SHA-256 of the case's canonical content (seal version 2): its fields (but those the
/// decision sets), its reopen generation, and every stage record, by kind and id. Values only,
/// no clocks: every node computes the same, whatever the build.
pub fn case_digest(case: &EntityState, records: &[EntityState]) -> String {
    sha256_hex(case_digest_input(case, records).as_bytes())
}

/// The digests a version 1 seal may hold for this content: `serde_json`'s compact text of
/// `{"case", "fields", "records": [{"kind", "id", "fields"}]}`, with each record's keys sorted
/// (the default build) or in that order (a build with `preserve_order`).
fn case_digests_v1(case: &EntityState, records: &[EntityState]) -> [String; 2] {
    let signed = signed_records(records);
    let write = |kind_first: bool| {
        let mut out = String::from("{\"case\":");
        write_string(&mut out, &case.id.to_string());
        out.push_str(",\"fields\":");
        // Version 1 builds had no generation field: a reopened case's other content compares.
        let mut fields = signed_case_fields(case);
        fields.remove(field::case::REOPEN_GENERATION);
        write_json(&mut out, &Value::Object(fields));
        out.push_str(",\"records\":[");
        for (i, r) in signed.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let fields = record_fields(r);
            let id = Value::String(r.id.to_string());
            let kind = Value::String(r.kind.as_str().into());
            let entries: [(&str, &Value); 3] = if kind_first {
                [("kind", &kind), ("id", &id), ("fields", &fields)]
            } else {
                [("fields", &fields), ("id", &id), ("kind", &kind)]
            };
            write_object(&mut out, entries.into_iter());
        }
        out.push_str("]}");
        sha256_hex(out.as_bytes())
    };
    [write(false), write(true)]
}

/// The bytes a supervisor signed with a version 1 seal (no generation). Kept to verify old
/// seals; new ones sign [`message_v2`].
pub fn message(case_id: Id, digest: &str) -> Vec<u8> {
    format!("shegong closure sign-off v1\n{case_id}\n{digest}").into_bytes()
}

/// The bytes a supervisor signs (seal version 2): the case, its reopen generation and digest.
pub fn message_v2(case_id: Id, generation: i64, digest: &str) -> Vec<u8> {
    format!("shegong closure sign-off v2\n{case_id}\n{generation}\n{digest}").into_bytes()
}

/// Signs a case digest with a version 1 message; returns the hex signature. Kept for old
/// callers: a decision signed so carries no `case_generation` and is accepted only for a case
/// that was never reopened. New code uses [`seal`] or [`sign_v2`].
pub fn sign(key: &SigningKey, case_id: Id, digest: &str) -> String {
    hex::encode(key.sign(&message(case_id, digest)).to_bytes())
}

/// Signs [`message_v2`]; returns the hex signature.
pub fn sign_v2(key: &SigningKey, case_id: Id, generation: i64, digest: &str) -> String {
    hex::encode(key.sign(&message_v2(case_id, generation, digest)).to_bytes())
}

pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// The fields a signed-off closure decision carries (seal version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub case_digest: String,
    pub signature: String,
    pub public_key: String,
    pub case_generation: i64,
}

impl Seal {
    /// Sets the seal's fields on a decision's write.
    pub fn set_on(self, write: crate::change::Write) -> crate::change::Write {
        write
            .set(field::closure_decision::CASE_DIGEST, self.case_digest)
            .set(field::closure_decision::SIGNATURE, self.signature)
            .set(field::closure_decision::PUBLIC_KEY, self.public_key)
            .set(field::closure_decision::CASE_GENERATION, self.case_generation)
    }
}

/// Seals the case as it stands: its digest, the signature of [`message_v2`] and the key.
pub fn seal(key: &SigningKey, case: &EntityState, records: &[EntityState]) -> Seal {
    let digest = case_digest(case, records);
    let generation = case_generation(case);
    Seal {
        signature: sign_v2(key, case.id, generation, &digest),
        public_key: public_key_hex(key),
        case_digest: digest,
        case_generation: generation,
    }
}

/// What checking a signed closure found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SealError {
    #[error("the signature or key is malformed")]
    Malformed,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the signing key is not one of the supervisor's")]
    UnknownKey,
    #[error("the case changed after it was signed")]
    Tampered,
    #[error("the sign-off was made before the case was last reopened")]
    StaleGeneration,
    #[error("the signing key is weak")]
    WeakKey,
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            SealError::Malformed => "signature_malformed",
            SealError::BadSignature => "signature_invalid",
            SealError::UnknownKey => "signature_unknown_key",
            SealError::Tampered => "case_tampered",
            SealError::StaleGeneration => "signature_stale_generation",
            SealError::WeakKey => "signature_weak_key",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            SealError::Malformed => "签名格式错误",
            SealError::BadSignature => "签名验证失败",
            SealError::UnknownKey => "签名公钥不属于该督导",
            SealError::Tampered => "个案在签署后被修改",
            SealError::StaleGeneration => "该签署早于个案最近一次重新开案",
            SealError::WeakKey => "签名公钥不安全",
        }
    }
}

/// A hex public key, refused when malformed or weak (of small order: it would verify
/// signatures nobody made).
fn verifying_key(public_key: &str) -> Result<VerifyingKey, SealError> {
    let key: [u8; 32] = hex::decode(public_key).ok().and_then(|b| b.try_into().ok()).ok_or(SealError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| SealError::Malformed)?;
    if key.is_weak() {
        return Err(SealError::WeakKey);
    }
    Ok(key)
}

/// Verifies a hex signature of `message` strictly (no malleable or small-order signatures).
fn verify_message(public_key: &str, message: &[u8], signature: &str) -> Result<(), SealError> {
    let key = verifying_key(public_key)?;
    let sig: [u8; 64] = hex::decode(signature).ok().and_then(|b| b.try_into().ok()).ok_or(SealError::Malformed)?;
    key.verify_strict(message, &Signature::from_bytes(&sig)).map_err(|_| SealError::BadSignature)
}

/// Verifies a version 1 `signature` over `digest` with `public_key` (all hex).
pub fn verify(public_key: &str, case_id: Id, digest: &str, signature: &str) -> Result<(), SealError> {
    verify_message(public_key, &message(case_id, digest), signature)
}

/// Verifies a version 2 `signature` of [`message_v2`] with `public_key` (all hex).
pub fn verify_v2(
    public_key: &str,
    case_id: Id,
    generation: i64,
    digest: &str,
    signature: &str,
) -> Result<(), SealError> {
    verify_message(public_key, &message_v2(case_id, generation, digest), signature)
}

/// The generation a decision's seal names: `Some(g)` for a version 2 seal, `None` for one
/// without `case_generation` (version 1); `Err` when the field is not a number.
fn signed_generation(decision: &EntityState) -> Result<Option<i64>, SealError> {
    match decision.get(field::closure_decision::CASE_GENERATION) {
        Some(value) => value.as_i64().map(Some).ok_or(SealError::Malformed),
        None => Ok(None),
    }
}

/// Verifies a decision's signature: of [`message_v2`] when the seal names its generation, of
/// [`message`] when it does not (version 1).
pub fn verify_sealed(
    public_key: &str,
    case_id: Id,
    generation: Option<i64>,
    digest: &str,
    signature: &str,
) -> Result<(), SealError> {
    match generation {
        Some(g) => verify_v2(public_key, case_id, g, digest, signature),
        None => verify(public_key, case_id, digest, signature),
    }
}

/// Whether a seal's content (its generation and digest, the signature aside) is the case's as
/// it stands: a version 2 seal must name the case's current generation
/// ([`SealError::StaleGeneration`]) and hold its digest ([`SealError::Tampered`]). A version 1
/// seal names no generation: it holds when its digest is the current one (a version 2 digest
/// covers the generation), or one a version 1 build computed for a case never reopened; a
/// version 1 digest of a reopened case is stale.
pub fn check_sealed_content(
    generation: Option<i64>,
    digest: &str,
    case: &EntityState,
    records: &[EntityState],
) -> Result<(), SealError> {
    let current_generation = case_generation(case);
    if let Some(g) = generation {
        if g != current_generation {
            return Err(SealError::StaleGeneration);
        }
        return if case_digest(case, records) == digest { Ok(()) } else { Err(SealError::Tampered) };
    }
    if case_digest(case, records) == digest {
        return Ok(());
    }
    if case_digests_v1(case, records).iter().any(|d| d == digest) {
        return if current_generation == 0 { Ok(()) } else { Err(SealError::StaleGeneration) };
    }
    Err(SealError::Tampered)
}

/// Whether a signed-off decision was made for the case's current generation (see
/// [`check_sealed_content`]); a decision without a digest (a returned closure) never is.
pub fn is_of_current_generation(decision: &EntityState, case: &EntityState, records: &[EntityState]) -> bool {
    let Some(digest) = decision.get_str(field::closure_decision::CASE_DIGEST) else { return false };
    match signed_generation(decision) {
        Ok(generation) => check_sealed_content(generation, digest, case, records) != Err(SealError::StaleGeneration),
        Err(_) => false,
    }
}

/// Checks a signed-off closure against the case as it stands now: the key must be one of the
/// supervisor's (`supervisor_keys`), the signature must verify (strictly), the seal must be of
/// the case's current generation ([`SealError::StaleGeneration`] for one made before the case
/// was last reopened: superseded, not broken), and the digest must still match
/// ([`SealError::Tampered`]). Version 1 seals verify as [`check_sealed_content`] says.
pub fn check_seal(
    decision: &EntityState,
    case: &EntityState,
    records: &[EntityState],
    supervisor_keys: &[String],
) -> Result<(), SealError> {
    let public_key = decision.get_str(field::closure_decision::PUBLIC_KEY).ok_or(SealError::Malformed)?;
    let signature = decision.get_str(field::closure_decision::SIGNATURE).ok_or(SealError::Malformed)?;
    let signed_digest = decision.get_str(field::closure_decision::CASE_DIGEST).ok_or(SealError::Malformed)?;
    if !supervisor_keys.iter().any(|k| k == public_key) {
        return Err(SealError::UnknownKey);
    }
    let generation = signed_generation(decision)?;
    verify_sealed(public_key, case.id, generation, signed_digest, signature)?;
    check_sealed_content(generation, signed_digest, case, records)
}

/// The bytes a device signs to prove it holds the secret of the signing key it registers for
/// `user_id` on `device_id` (the hex `public_key`, lower-case, as registered). Binding the user
/// and the device keeps a proof from being replayed to register the key elsewhere.
pub fn key_registration_message(user_id: Id, device_id: Id, public_key: &str) -> Vec<u8> {
    format!("shegong signing key registration v1\n{user_id}\n{device_id}\n{}", public_key.to_ascii_lowercase())
        .into_bytes()
}

/// The proof of possession a device sends with its signing key at sign-in (the hex signature of
/// [`key_registration_message`]; `LoginRequest::signing_key_proof` in the protocol).
pub fn prove_key(key: &SigningKey, user_id: Id, device_id: Id) -> String {
    let message = key_registration_message(user_id, device_id, &public_key_hex(key));
    hex::encode(key.sign(&message).to_bytes())
}

/// Checks a proof of possession before a signing key is registered (the server does, at
/// sign-in): the key must be well-formed and not weak, and `proof` must verify strictly.
pub fn verify_key_proof(user_id: Id, device_id: Id, public_key: &str, proof: &str) -> Result<(), SealError> {
    verify_message(public_key, &key_registration_message(user_id, device_id, public_key), proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::FieldClock;
    use crate::hlc::Hlc;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn state(kind: EntityKind, id: u128, fields: &[(&str, Value)]) -> EntityState {
        EntityState {
            kind,
            id: Id::from_u128(id),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
            created: FieldClock { hlc: Hlc::new(1, 0, Id::from_u128(9)), base: None, author: Id::from_u128(8) },
            clocks: BTreeMap::new(),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn a_signed_case_verifies_until_its_content_changes() {
        let case = state(
            EntityKind::Case,
            1,
            &[(field::case::STAGE, json!("FollowUp")), (field::case::PLAN_STRATEGY, json!("陪伴"))],
        );
        let goal = state(EntityKind::Goal, 2, &[(field::goal::DESCRIPTION, json!("恢复上学"))]);
        let digest = case_digest(&case, std::slice::from_ref(&goal));
        let signature = sign(&key(), case.id, &digest);
        let decision = state(
            EntityKind::ClosureDecision,
            3,
            &[
                (field::closure_decision::PUBLIC_KEY, json!(public_key_hex(&key()))),
                (field::closure_decision::SIGNATURE, json!(signature)),
                (field::closure_decision::CASE_DIGEST, json!(digest)),
            ],
        );
        let keys = vec![public_key_hex(&key())];

        // Closing the case (the decision's own fields) keeps the seal intact.
        let mut closed = case.clone();
        closed.fields.insert(field::case::STAGE.into(), json!("Closed"));
        assert_eq!(check_seal(&decision, &closed, std::slice::from_ref(&goal), &keys), Ok(()));

        let mut edited_goal = goal.clone();
        edited_goal.fields.insert(field::goal::DESCRIPTION.into(), json!("已恢复上学"));
        assert_eq!(check_seal(&decision, &closed, &[edited_goal], &keys), Err(SealError::Tampered));
        assert_eq!(
            check_seal(&decision, &closed, std::slice::from_ref(&goal), &["00".repeat(32)]),
            Err(SealError::UnknownKey)
        );
    }

    #[test]
    fn a_signature_over_another_digest_does_not_verify() {
        let case_id = Id::from_u128(1);
        let signature = sign(&key(), case_id, "aa");
        assert_eq!(verify(&public_key_hex(&key()), case_id, "bb", &signature), Err(SealError::BadSignature));
        assert_eq!(verify("zz", case_id, "bb", &signature), Err(SealError::Malformed));
    }

    #[test]
    fn the_digest_ignores_record_order() {
        let case = state(EntityKind::Case, 1, &[]);
        let a = state(EntityKind::Goal, 2, &[(field::goal::DESCRIPTION, json!("a"))]);
        let b = state(EntityKind::Intervention, 3, &[(field::intervention::NOTES, json!("b"))]);
        assert_eq!(case_digest(&case, &[a.clone(), b.clone()]), case_digest(&case, &[b, a]));
    }

    /// A fixed case, as a station would hold it, with records of several kinds (and a decision,
    /// which is never part of what is signed).
    fn fixed_case() -> (EntityState, Vec<EntityState>) {
        let case = state(
            EntityKind::Case,
            0x0190_0000_0000_7000_8000_0000_0000_0001,
            &[
                (field::case::STATION_ID, json!("01900000-0000-7000-8000-000000000002")),
                (field::case::RECIPIENT_ID, json!("01900000-0000-7000-8000-000000000003")),
                (field::case::WORKER_ID, json!("01900000-0000-7000-8000-000000000004")),
                (field::case::STAGE, json!("FollowUp")),
                (field::case::STAGE_ENTERED_ON, json!("2026-10-01")),
                (field::case::OPENED_ON, json!("2026-09-01")),
                (field::case::PLAN_STRATEGY, json!("陪伴 \"小组\"\n每周一次\t\u{1}")),
                (field::case::CLOSURE_STATUS, json!("Requested")),
                (field::case::CLOSURE_SUMMARY, json!("目标达成")),
                (field::case::CLOSURE_COMMENTS, Value::Null),
                (field::case::REOPEN_GENERATION, json!(2)),
            ],
        );
        let records = vec![
            state(
                EntityKind::Intervention,
                0x0190_0000_0000_7000_8000_0000_0000_0011,
                &[
                    (field::intervention::DURATION_MINUTES, json!(45)),
                    (field::intervention::NOTES, json!("心理疏导")),
                    (field::intervention::AMENDS, Value::Null),
                ],
            ),
            state(
                EntityKind::Goal,
                0x0190_0000_0000_7000_8000_0000_0000_0010,
                &[(field::goal::DESCRIPTION, json!("恢复上学")), (field::goal::EVALUATION, json!("Achieved"))],
            ),
            state(
                EntityKind::ClosureDecision,
                0x0190_0000_0000_7000_8000_0000_0000_0012,
                &[(field::closure_decision::DECISION, json!("Returned"))],
            ),
        ];
        (case, records)
    }

    #[test]
    fn the_digest_of_a_fixed_case_is_known() {
        let (case, records) = fixed_case();
        let text = case_digest_input(&case, &records);
        let expected_text = concat!(
            "shegong closure digest v2\n",
            r#"{"case":"01900000-0000-7000-8000-000000000001","#,
            r#""fields":{"closure_summary":"目标达成","opened_on":"2026-09-01","#,
            r#""plan_strategy":"陪伴 \"小组\"\n每周一次\t\u0001","#,
            r#""recipient_id":"01900000-0000-7000-8000-000000000003","reopen_generation":2,"#,
            r#""station_id":"01900000-0000-7000-8000-000000000002","worker_id":"01900000-0000-7000-8000-000000000004"},"#,
            r#""generation":2,"#,
            r#""records":[{"fields":{"description":"恢复上学","evaluation":"Achieved"},"id":"01900000-0000-7000-8000-000000000010","kind":"Goal"},"#,
            r#"{"fields":{"duration_minutes":45,"notes":"心理疏导"},"id":"01900000-0000-7000-8000-000000000011","kind":"Intervention"}]}"#,
        );
        assert_eq!(text, expected_text);
        assert_eq!(case_digest(&case, &records), "48ac46b0d25106c1eaa802865ba75ab690fa99c2eaa1cf24486b66ba500b3c06");
    }

    #[test]
    fn canonical_json_sorts_keys_whatever_order_they_were_inserted_in() {
        let mut object = serde_json::Map::new();
        object.insert("b".into(), json!(1));
        object.insert("a".into(), json!({"z": [true, null, -3, 18446744073709551615u64], "y": "é"}));
        object.insert("A".into(), json!(0.5));
        assert_eq!(
            canonical_json(&Value::Object(object)),
            r#"{"A":0.5,"a":{"y":"é","z":[true,null,-3,18446744073709551615]},"b":1}"#
        );
        assert_eq!(canonical_json(&json!("\u{0}\u{1f}\u{7f}/\u{2028}")), "\"\\u0000\\u001f\u{7f}/\u{2028}\"");
    }

    #[test]
    fn a_seal_is_bound_to_the_generation_it_was_made_for() {
        let (case, records) = fixed_case();
        let seal = seal(&key(), &case, &records);
        assert_eq!(seal.case_generation, 2);
        let decision = decision_of(&seal);
        let keys = vec![public_key_hex(&key())];
        assert_eq!(check_seal(&decision, &case, &records, &keys), Ok(()));

        // Reopened since: the seal is of an earlier generation.
        let mut reopened = case.clone();
        reopened.fields.insert(field::case::REOPEN_GENERATION.into(), json!(3));
        assert_eq!(check_seal(&decision, &reopened, &records, &keys), Err(SealError::StaleGeneration));

        // Claiming the new generation breaks the signature, which names the old one.
        let mut replayed = decision.clone();
        replayed.fields.insert(field::closure_decision::CASE_GENERATION.into(), json!(3));
        assert_eq!(check_seal(&replayed, &reopened, &records, &keys), Err(SealError::BadSignature));
    }

    #[test]
    fn a_case_changed_after_its_seal_shows_tampered() {
        let (case, records) = fixed_case();
        let decision = decision_of(&seal(&key(), &case, &records));
        let keys = vec![public_key_hex(&key())];
        let mut edited = case.clone();
        edited.fields.insert(field::case::CLOSURE_SUMMARY.into(), json!("目标部分达成"));
        assert_eq!(check_seal(&decision, &edited, &records, &keys), Err(SealError::Tampered));
        let mut fewer = records.clone();
        fewer.remove(0);
        assert_eq!(check_seal(&decision, &case, &fewer, &keys), Err(SealError::Tampered));
    }

    /// A version 1 seal's digest as the old code computed it, in either key order.
    fn v1_digest(case: &EntityState, records: &[EntityState], kind_first: bool) -> String {
        let fields: serde_json::Map<String, Value> = case
            .fields
            .iter()
            .filter(|(k, v)| !v.is_null() && !DECISION_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let records: Vec<String> = signed_records(records)
            .iter()
            .map(|r| {
                let fields = serde_json::to_string(&record_fields(r)).expect("json");
                if kind_first {
                    format!(r#"{{"kind":"{}","id":"{}","fields":{fields}}}"#, r.kind.as_str(), r.id)
                } else {
                    format!(r#"{{"fields":{fields},"id":"{}","kind":"{}"}}"#, r.id, r.kind.as_str())
                }
            })
            .collect();
        let text = format!(
            r#"{{"case":"{}","fields":{},"records":[{}]}}"#,
            case.id,
            serde_json::to_string(&fields).expect("json"),
            records.join(",")
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn version_1_seals_of_either_build_still_verify_for_a_case_never_reopened() {
        let (mut case, records) = fixed_case();
        case.fields.remove(field::case::REOPEN_GENERATION);
        let keys = vec![public_key_hex(&key())];
        // The old code itself, in this build (whichever key order it has).
        let old = {
            let fields: serde_json::Map<String, Value> = signed_case_fields(&case);
            let records: Vec<Value> = signed_records(&records)
                .iter()
                .map(|r| json!({ "kind": r.kind, "id": r.id, "fields": record_fields(r) }))
                .collect();
            let canonical = json!({ "case": case.id, "fields": fields, "records": records });
            hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
        };
        assert!(case_digests_v1(&case, &records).contains(&old));
        for kind_first in [false, true] {
            let digest = v1_digest(&case, &records, kind_first);
            let decision = state(
                EntityKind::ClosureDecision,
                3,
                &[
                    (field::closure_decision::PUBLIC_KEY, json!(public_key_hex(&key()))),
                    (field::closure_decision::SIGNATURE, json!(sign(&key(), case.id, &digest))),
                    (field::closure_decision::CASE_DIGEST, json!(digest)),
                ],
            );
            assert_eq!(check_seal(&decision, &case, &records, &keys), Ok(()), "kind first: {kind_first}");
            let mut reopened = case.clone();
            reopened.fields.insert(field::case::REOPEN_GENERATION.into(), json!(1));
            assert_eq!(check_seal(&decision, &reopened, &records, &keys), Err(SealError::StaleGeneration));
        }
    }

    #[test]
    fn a_weak_public_key_is_refused() {
        // The identity point (y = 1): every signature with R = identity and S = 0 "verifies".
        let mut weak = [0u8; 32];
        weak[0] = 1;
        let weak = hex::encode(weak);
        let case_id = Id::from_u128(1);
        let mut forged = [0u8; 64];
        forged[0] = 1;
        assert_eq!(verify(&weak, case_id, "aa", &hex::encode(forged)), Err(SealError::WeakKey));
        assert_eq!(verify_key_proof(case_id, case_id, &weak, &hex::encode(forged)), Err(SealError::WeakKey));
    }

    #[test]
    fn a_signing_key_is_registered_only_with_a_proof_of_possession_for_that_user_and_device() {
        let (user, device, other) = (Id::from_u128(1), Id::from_u128(2), Id::from_u128(3));
        let public = public_key_hex(&key());
        let proof = prove_key(&key(), user, device);
        assert_eq!(verify_key_proof(user, device, &public, &proof), Ok(()));
        assert_eq!(verify_key_proof(user, other, &public, &proof), Err(SealError::BadSignature));
        assert_eq!(verify_key_proof(other, device, &public, &proof), Err(SealError::BadSignature));
        let someone_else = SigningKey::from_bytes(&[9u8; 32]);
        assert_eq!(
            verify_key_proof(user, device, &public_key_hex(&someone_else), &proof),
            Err(SealError::BadSignature)
        );
        assert_eq!(verify_key_proof(user, device, &public, "zz"), Err(SealError::Malformed));
        assert_eq!(verify_key_proof(user, device, "abcd", &proof), Err(SealError::Malformed));
        assert_eq!(SealError::WeakKey.code(), "signature_weak_key");
    }

    fn decision_of(seal: &Seal) -> EntityState {
        state(
            EntityKind::ClosureDecision,
            3,
            &[
                (field::closure_decision::PUBLIC_KEY, json!(seal.public_key)),
                (field::closure_decision::SIGNATURE, json!(seal.signature)),
                (field::closure_decision::CASE_DIGEST, json!(seal.case_digest)),
                (field::closure_decision::CASE_GENERATION, json!(seal.case_generation)),
            ],
        )
    }
}
