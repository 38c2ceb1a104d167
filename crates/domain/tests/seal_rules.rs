//! Closure seals as the rules see them (`rules::check_change`): a sign-off is bound to the case's
//! reopen generation, so one made before a reopening can neither be replayed as a new decision
//! nor close the reopened case; reopening moves the generation on by exactly one, and nothing
//! else moves it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::change::{Change, FieldWrite, Op};
use domain::entity::{EntityKind, EntityState, FieldClock};
use domain::hlc::{Clock, Hlc};
use domain::policy::Actor;
use domain::rules::{self, CheckError, LookupError, StateView};
use domain::signoff::{self, SealError};
use domain::{Id, field};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

fn id(n: u128) -> Id {
    Id::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

const STATION: u128 = 1;
const WORKER: u128 = 2;
const SUPERVISOR: u128 = 3;
const RECIPIENT: u128 = 4;
const CASE: u128 = 5;
const DEVICE: u128 = 6;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// A station with a worker, a supervisor (whose device key is `key()`), and one case awaiting
/// the supervisor's sign-off.
struct World {
    entities: BTreeMap<(EntityKind, Id), EntityState>,
    clock: Clock,
    seq: u64,
}

impl World {
    fn new() -> Self {
        let mut w = World { entities: BTreeMap::new(), clock: Clock::new(id(DEVICE)), seq: 0 };
        let s = id(STATION).to_string();
        w.put(EntityKind::Station, STATION, json!({"name": "城关社工站", "county": "某县"}));
        w.put(
            EntityKind::User,
            WORKER,
            json!({"username": "zhang", "display_name": "张社工", "role": "SocialWorker", "station_id": s, "active": true}),
        );
        w.put(
            EntityKind::User,
            SUPERVISOR,
            json!({"username": "li", "display_name": "李督导", "role": "Supervisor", "supervised_station_ids": [s],
                   "signing_keys": [signoff::public_key_hex(&key())], "active": true}),
        );
        w.put(EntityKind::Recipient, RECIPIENT, json!({"station_id": s, "name": "王五"}));
        w.put(
            EntityKind::Case,
            CASE,
            json!({"station_id": s, "recipient_id": id(RECIPIENT).to_string(), "worker_id": id(WORKER).to_string(),
                   "stage": "FollowUp", "stage_entered_on": "2026-10-01", "opened_on": "2026-09-01",
                   "closure_status": "Requested", "closure_summary": "目标达成", "closure_requested_on": "2026-11-20"}),
        );
        w.put(
            EntityKind::Goal,
            20,
            json!({"station_id": s, "case_id": id(CASE).to_string(), "description": "恢复上学",
                   "target_date": "2026-12-01", "evaluation": "Achieved"}),
        );
        w.put(
            EntityKind::FollowUp,
            21,
            json!({"station_id": s, "case_id": id(CASE).to_string(), "worker_id": id(WORKER).to_string(),
                   "visited_on": "2026-11-10", "notes": "已返校"}),
        );
        w
    }

    fn put(&mut self, kind: EntityKind, n: u128, fields: Value) {
        let Value::Object(fields) = fields else { panic!("fields are an object") };
        let created = FieldClock { hlc: Hlc::new(1_700_000_000_000, 0, id(99)), base: None, author: id(SUPERVISOR) };
        let state =
            EntityState { kind, id: id(n), fields: fields.into_iter().collect(), created, clocks: BTreeMap::new() };
        self.entities.insert((kind, id(n)), state);
    }

    fn actor(&self, user: u128) -> Actor {
        let role = self.entities[&(EntityKind::User, id(user))].to_typed::<domain::org::User>().expect("a user").role();
        Actor::new(id(user), role)
    }

    fn case(&self) -> EntityState {
        self.entities[&(EntityKind::Case, id(CASE))].clone()
    }

    fn records(&self) -> Vec<EntityState> {
        self.case_records(id(CASE)).expect("records")
    }

    fn change(&mut self, author: u128, kind: EntityKind, entity: Id, op: Op, fields: Value) -> Change {
        self.seq += 1;
        let Value::Object(fields) = fields else { panic!("fields are an object") };
        Change {
            change_id: id(1000 + u128::from(self.seq)),
            device_id: id(DEVICE),
            device_seq: self.seq,
            author_id: id(author),
            schema_version: domain::SCHEMA_VERSION,
            hlc: self.clock.tick(1_750_000_000_000 + self.seq),
            entity: kind,
            entity_id: entity,
            op,
            fields: fields.into_iter().map(|(k, v)| (k, FieldWrite::new(v))).collect(),
        }
    }

    /// Checks the change as `author`, and applies it when accepted.
    fn record(
        &mut self,
        author: u128,
        kind: EntityKind,
        entity: Id,
        op: Op,
        fields: Value,
    ) -> Result<Change, CheckError> {
        let change = self.change(author, kind, entity, op, fields);
        let normalized = rules::check_change(&self.actor(author), &change, &*self, today())?;
        let current = self.entities.get(&(kind, entity)).cloned();
        let merged = domain::merge::merge(current.as_ref(), &normalized).expect("merged");
        self.entities.insert((kind, entity), merged.state);
        Ok(normalized)
    }

    fn decision_fields(&self, seal: &signoff::Seal) -> Value {
        json!({
            "station_id": id(STATION).to_string(), "case_id": id(CASE).to_string(),
            "supervisor_id": id(SUPERVISOR).to_string(), "decision": "SignedOff",
            "decided_at": "2026-11-24T08:00:00.000Z", "case_digest": seal.case_digest,
            "signature": seal.signature, "public_key": seal.public_key, "case_generation": seal.case_generation,
        })
    }

    fn sign_off(&mut self, decision: u128) -> Result<signoff::Seal, CheckError> {
        let seal = signoff::seal(&key(), &self.case(), &self.records());
        let fields = self.decision_fields(&seal);
        self.record(SUPERVISOR, EntityKind::ClosureDecision, id(decision), Op::Create, fields)?;
        Ok(seal)
    }

    fn close(&mut self) -> Result<Change, CheckError> {
        self.record(
            SUPERVISOR,
            EntityKind::Case,
            id(CASE),
            Op::Update,
            json!({"stage": "Closed", "closure_status": "SignedOff", "stage_entered_on": "2026-11-24"}),
        )
    }

    fn reopen(&mut self) -> Result<Change, CheckError> {
        self.record(
            SUPERVISOR,
            EntityKind::Case,
            id(CASE),
            Op::Update,
            json!({"stage": "FollowUp", "closure_status": "Open", "stage_entered_on": "2026-11-25"}),
        )
    }

    fn request_closure_again(&mut self) {
        self.record(
            WORKER,
            EntityKind::Case,
            id(CASE),
            Op::Update,
            json!({"closure_status": "Requested", "closure_summary": "再次申请结案", "closure_requested_on": "2026-11-25"}),
        )
        .expect("closure requested again");
    }
}

impl StateView for World {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        Ok(self.entities.get(&(kind, id)).cloned())
    }
    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(self
            .entities
            .values()
            .filter(|e| e.kind.is_case_record() && e.get_id(field::CASE_ID) == Some(case_id))
            .cloned()
            .collect())
    }
    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(self
            .entities
            .values()
            .filter(|e| e.kind == EntityKind::Case && e.get_id(field::case::RECIPIENT_ID) == Some(recipient_id))
            .cloned()
            .collect())
    }
}

fn code(result: Result<impl std::fmt::Debug, CheckError>) -> String {
    match result {
        Err(CheckError::Rejected(r)) => r.code().to_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_closed_case_reopened_is_in_its_next_generation() {
    let mut w = World::new();
    w.sign_off(30).expect("signed off");
    w.close().expect("closed");
    assert_eq!(signoff::case_generation(&w.case()), 0);
    // The supervisor's reopening does not name the generation (as an older client's would not):
    // the rules add it, so the change recorded and sent carries it.
    let reopened = w.reopen().expect("reopened");
    assert_eq!(reopened.value(field::case::REOPEN_GENERATION), Some(&json!(1)));
    assert_eq!(signoff::case_generation(&w.case()), 1);
}

#[test]
fn a_reopening_naming_a_generation_other_than_the_next_is_refused() {
    let mut w = World::new();
    w.sign_off(30).expect("signed off");
    w.close().expect("closed");
    let result = w.record(
        SUPERVISOR,
        EntityKind::Case,
        id(CASE),
        Op::Update,
        json!({"stage": "FollowUp", "closure_status": "Open", "reopen_generation": 5}),
    );
    assert_eq!(code(result), "reopen_generation");
}

#[test]
fn only_a_reopening_moves_the_generation() {
    let mut w = World::new();
    // The worker cannot move the generation of an open case (to make a supervisor's earlier
    // sign-off look stale, or a replayed one current).
    let result = w.record(
        WORKER,
        EntityKind::Case,
        id(CASE),
        Op::Update,
        json!({"plan_strategy": "陪伴", "reopen_generation": 1}),
    );
    assert_eq!(code(result), "reopen_generation");
    let new_case = w.change(
        WORKER,
        EntityKind::Case,
        id(40),
        Op::Create,
        json!({"station_id": id(STATION).to_string(), "recipient_id": id(RECIPIENT).to_string(),
               "worker_id": id(WORKER).to_string(), "stage": "Identify", "stage_entered_on": "2026-11-25",
               "opened_on": "2026-11-25", "closure_status": "Open", "reopen_generation": 3}),
    );
    assert_eq!(code(rules::check_change(&w.actor(WORKER), &new_case, &w, today())), "reopen_generation");
}

#[test]
fn a_sign_off_replayed_onto_a_reopened_case_is_refused() {
    let mut w = World::new();
    let first = w.sign_off(30).expect("signed off");
    w.close().expect("closed");
    w.reopen().expect("reopened");
    w.request_closure_again();

    // The same decision sent again, as a new record: it names generation 0.
    let replay = w.decision_fields(&first);
    let result = w.record(SUPERVISOR, EntityKind::ClosureDecision, id(31), Op::Create, replay.clone());
    assert_eq!(code(result), "signature_stale_generation");

    // Claiming the current generation breaks its signature.
    let mut claimed = replay.clone();
    claimed[field::closure_decision::CASE_GENERATION] = json!(1);
    let result = w.record(SUPERVISOR, EntityKind::ClosureDecision, id(32), Op::Create, claimed);
    assert_eq!(code(result), "signature_invalid");

    // Without a generation (as a version 1 seal): its digest covers generation 0.
    let mut legacy = replay;
    legacy.as_object_mut().expect("object").remove(field::closure_decision::CASE_GENERATION);
    legacy[field::closure_decision::SIGNATURE] = json!(signoff::sign(&key(), id(CASE), &first.case_digest));
    let result = w.record(SUPERVISOR, EntityKind::ClosureDecision, id(33), Op::Create, legacy);
    assert_eq!(code(result), "case_tampered");
}

#[test]
fn a_reopened_case_is_not_closed_again_by_the_sign_off_of_an_earlier_generation() {
    let mut w = World::new();
    w.sign_off(30).expect("signed off");
    w.close().expect("closed");
    w.reopen().expect("reopened");
    w.request_closure_again();
    // The latest decision on record is the first one, by the same supervisor.
    assert_eq!(code(w.close()), "signature_stale_generation");
}

#[test]
fn a_reopened_case_closes_with_a_sign_off_of_its_current_generation() {
    let mut w = World::new();
    w.sign_off(30).expect("signed off");
    w.close().expect("closed");
    w.reopen().expect("reopened");
    w.request_closure_again();
    let seal = w.sign_off(34).expect("signed off again");
    assert_eq!(seal.case_generation, 1);
    w.close().expect("closed again");
    let keys = vec![signoff::public_key_hex(&key())];
    let decision = w.entities[&(EntityKind::ClosureDecision, id(34))].clone();
    assert_eq!(signoff::check_seal(&decision, &w.case(), &w.records(), &keys), Ok(()));
    // The first seal is of an earlier generation: superseded, not broken.
    let first = w.entities[&(EntityKind::ClosureDecision, id(30))].clone();
    assert_eq!(signoff::check_seal(&first, &w.case(), &w.records(), &keys), Err(SealError::StaleGeneration));
}

#[test]
fn a_sign_off_over_a_case_changed_since_is_refused_as_tampered() {
    let mut w = World::new();
    let mut seal = signoff::seal(&key(), &w.case(), &w.records());
    // Signed over other content than the case holds.
    let mut other = w.case();
    other.fields.insert(field::case::CLOSURE_SUMMARY.into(), json!("别的内容"));
    seal.case_digest = signoff::case_digest(&other, &w.records());
    seal.signature = signoff::sign_v2(&key(), id(CASE), 0, &seal.case_digest);
    let fields = w.decision_fields(&seal);
    let result = w.record(SUPERVISOR, EntityKind::ClosureDecision, id(30), Op::Create, fields);
    assert_eq!(code(result), "case_tampered");
}
