//! Tamper-evident closure: a supervisor signs a digest of the case's content with the Ed25519 key
//! of their device. The server verifies the signature before accepting the sign-off, and every
//! device verifies it again when it shows the case: any later change to the case or its records
//! no longer matches the signed digest.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Id;
use crate::entity::{EntityKind, EntityState};

/// Case fields set by the decision itself, so not part of what is signed.
const DECISION_FIELDS: &[&str] = &["stage", "stage_entered_on", "closure_status", "closure_comments"];

/// Hex SHA-256 of the case's canonical content: its fields (but those the decision sets) and
/// every stage record, by kind and id. Values only, no clocks: every node computes the same.
pub fn case_digest(case: &EntityState, records: &[EntityState]) -> String {
    let case_fields: serde_json::Map<String, Value> = case
        .fields
        .iter()
        .filter(|(k, v)| !v.is_null() && !DECISION_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut signed: Vec<&EntityState> =
        records.iter().filter(|r| r.kind.is_case_record() && r.kind != EntityKind::ClosureDecision).collect();
    signed.sort_by_key(|r| (r.kind, r.id));
    let records: Vec<Value> = signed
        .iter()
        .map(|r| {
            let fields: serde_json::Map<String, Value> =
                r.fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
            json!({ "kind": r.kind, "id": r.id, "fields": fields })
        })
        .collect();
    let canonical = json!({ "case": case.id, "fields": case_fields, "records": records });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The bytes a supervisor signs.
pub fn message(case_id: Id, digest: &str) -> Vec<u8> {
    format!("shegong closure sign-off v1\n{case_id}\n{digest}").into_bytes()
}

/// Signs a case digest; returns the hex signature.
pub fn sign(key: &SigningKey, case_id: Id, digest: &str) -> String {
    hex::encode(key.sign(&message(case_id, digest)).to_bytes())
}

pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
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
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            SealError::Malformed => "signature_malformed",
            SealError::BadSignature => "signature_invalid",
            SealError::UnknownKey => "signature_unknown_key",
            SealError::Tampered => "case_tampered",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            SealError::Malformed => "签名格式错误",
            SealError::BadSignature => "签名验证失败",
            SealError::UnknownKey => "签名公钥不属于该督导",
            SealError::Tampered => "个案在签署后被修改",
        }
    }
}

/// Verifies `signature` over `digest` with `public_key` (all hex).
pub fn verify(public_key: &str, case_id: Id, digest: &str, signature: &str) -> Result<(), SealError> {
    let key: [u8; 32] = hex::decode(public_key).ok().and_then(|b| b.try_into().ok()).ok_or(SealError::Malformed)?;
    let sig: [u8; 64] = hex::decode(signature).ok().and_then(|b| b.try_into().ok()).ok_or(SealError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| SealError::Malformed)?;
    key.verify(&message(case_id, digest), &Signature::from_bytes(&sig)).map_err(|_| SealError::BadSignature)
}

/// Checks a signed-off closure against the case as it stands now: the key must be one of the
/// supervisor's (`supervisor_keys`), the signature must verify, and the digest must still match.
pub fn check_seal(
    decision: &EntityState,
    case: &EntityState,
    records: &[EntityState],
    supervisor_keys: &[String],
) -> Result<(), SealError> {
    let public_key = decision.get_str("public_key").ok_or(SealError::Malformed)?;
    let signature = decision.get_str("signature").ok_or(SealError::Malformed)?;
    let signed_digest = decision.get_str("case_digest").ok_or(SealError::Malformed)?;
    if !supervisor_keys.iter().any(|k| k == public_key) {
        return Err(SealError::UnknownKey);
    }
    verify(public_key, case.id, signed_digest, signature)?;
    if case_digest(case, records) != signed_digest {
        return Err(SealError::Tampered);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::FieldClock;
    use crate::hlc::Hlc;
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
        let case = state(EntityKind::Case, 1, &[("stage", json!("FollowUp")), ("plan_strategy", json!("陪伴"))]);
        let goal = state(EntityKind::Goal, 2, &[("description", json!("恢复上学"))]);
        let digest = case_digest(&case, std::slice::from_ref(&goal));
        let signature = sign(&key(), case.id, &digest);
        let decision = state(
            EntityKind::ClosureDecision,
            3,
            &[
                ("public_key", json!(public_key_hex(&key()))),
                ("signature", json!(signature)),
                ("case_digest", json!(digest)),
            ],
        );
        let keys = vec![public_key_hex(&key())];

        // Closing the case (the decision's own fields) keeps the seal intact.
        let mut closed = case.clone();
        closed.fields.insert("stage".into(), json!("Closed"));
        assert_eq!(check_seal(&decision, &closed, std::slice::from_ref(&goal), &keys), Ok(()));

        let mut edited_goal = goal.clone();
        edited_goal.fields.insert("description".into(), json!("已恢复上学"));
        assert_eq!(check_seal(&decision, &closed, &[edited_goal], &keys), Err(SealError::Tampered));
        assert_eq!(check_seal(&decision, &closed, &[goal.clone()], &["00".repeat(32)]), Err(SealError::UnknownKey));
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
        let a = state(EntityKind::Goal, 2, &[("description", json!("a"))]);
        let b = state(EntityKind::Intervention, 3, &[("notes", json!("b"))]);
        assert_eq!(case_digest(&case, &[a.clone(), b.clone()]), case_digest(&case, &[b, a]));
    }
}
