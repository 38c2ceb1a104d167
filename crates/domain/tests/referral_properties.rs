//! A referral's rules never panic, whatever a modified client sends in any of its fields, and
//! what `check_change` accepts stands where the state machine allows: its state fits its
//! direction and its outcome fits its state, reached from the state before by a legal step.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::change::{Change, FieldWrite, Op};
use domain::entity::{EntityKind, EntityState, FieldClock};
use domain::hlc::Hlc;
use domain::merge;
use domain::org::Role;
use domain::policy::Actor;
use domain::referral::{ReferralDirection, ReferralOutcome, ReferralState, effective_state};
use domain::rules::{LookupError, StateView, check_change};
use domain::{Id, Labelled, field};
use proptest::prelude::*;
use serde_json::{Value, json};

const STATION: Id = Id::from_u128(1);
const WORKER: Id = Id::from_u128(2);
const RECIPIENT: Id = Id::from_u128(3);
const REFERRAL: Id = Id::from_u128(4);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

#[derive(Default)]
struct World {
    entities: HashMap<(EntityKind, Id), EntityState>,
    n: u64,
}

impl StateView for World {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        Ok(self.entities.get(&(kind, id)).cloned())
    }
    fn case_records(&self, _: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(Vec::new())
    }
    fn cases_of_recipient(&self, _: Id) -> Result<Vec<EntityState>, LookupError> {
        Ok(Vec::new())
    }
}

impl World {
    fn change(&mut self, op: Op, kind: EntityKind, id: Id, fields: BTreeMap<String, Value>) -> Change {
        self.n += 1;
        Change {
            change_id: Id::from_u128(1000 + u128::from(self.n)),
            device_id: Id::from_u128(900),
            device_seq: self.n,
            author_id: WORKER,
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(1_800_000_000_000 + self.n, 0, Id::from_u128(900)),
            entity: kind,
            entity_id: id,
            op,
            fields: fields.into_iter().map(|(k, v)| (k, FieldWrite::new(v))).collect(),
        }
    }

    /// Puts an entity in place as given, without the rules (the fixture's own records).
    fn put(&mut self, kind: EntityKind, id: Id, fields: Value) {
        let fields: BTreeMap<String, Value> =
            fields.as_object().map(|o| o.clone().into_iter().collect()).unwrap_or_default();
        let created = FieldClock { hlc: Hlc::new(1, 0, Id::from_u128(900)), base: None, author: WORKER };
        self.entities.insert((kind, id), EntityState { kind, id, fields, created, clocks: BTreeMap::new() });
    }

    fn new() -> World {
        let mut w = World::default();
        w.put(EntityKind::Station, STATION, json!({"name": "城关社工站", "county": "宁乡市"}));
        w.put(EntityKind::Recipient, RECIPIENT, json!({"station_id": STATION.to_string(), "name": "张三"}));
        w
    }

    /// Checks the change as the worker; when accepted, merges it in as a store would.
    fn apply(&mut self, change: &Change) -> Option<Change> {
        let worker = Actor::new(WORKER, Some(Role::SocialWorker { station_id: STATION }));
        let checked = check_change(&worker, change, &*self, today()).ok()?;
        let current = self.entities.get(&(checked.entity, checked.entity_id)).cloned();
        let merged = merge::merge(current.as_ref(), &checked)?;
        self.entities.insert((checked.entity, checked.entity_id), merged.state);
        Some(checked)
    }
}

fn referral_fields() -> &'static [&'static str] {
    field::referral::ALL
}

/// Any JSON a client could send for a field: arbitrary Unicode, the vocabulary's names, dates,
/// ids, numbers, null.
fn any_value() -> impl Strategy<Value = Value> {
    let names: Vec<&'static str> = ReferralState::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(ReferralOutcome::ALL.iter().map(|o| o.as_str()))
        .chain(ReferralDirection::ALL.iter().map(|d| d.as_str()))
        .chain(["Hotline12345", "Service", "BenefitApplication"])
        .collect();
    prop_oneof![
        "(?s).{0,60}".prop_map(Value::from),
        proptest::sample::select(names).prop_map(Value::from),
        "20[0-9]{2}-1[0-2]-[0-3][0-9]".prop_map(Value::from),
        Just(Value::from(RECIPIENT.to_string())),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn any_fields() -> impl Strategy<Value = BTreeMap<String, Value>> {
    proptest::collection::btree_map(proptest::sample::select(referral_fields()), any_value(), 0..8)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn valid_referral(direction: &str) -> BTreeMap<String, Value> {
    [
        (field::referral::STATION_ID, Value::from(STATION.to_string())),
        (field::referral::RECIPIENT_ID, Value::from(RECIPIENT.to_string())),
        (field::referral::DIRECTION, Value::from(direction)),
        (field::referral::COUNTERPART, Value::from("Hotline12345")),
        (field::referral::REASON, Value::from("独居老人无人照料")),
        (field::referral::REFERRED_ON, Value::from("2026-11-01")),
        (field::referral::OUTCOME, Value::from("Pending")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn state_of(entity: &EntityState) -> Option<(ReferralDirection, ReferralState, ReferralOutcome)> {
    let direction = entity.get_enum::<ReferralDirection>(field::referral::DIRECTION)?;
    let outcome = entity.get_enum::<ReferralOutcome>(field::referral::OUTCOME);
    let state = effective_state(direction, entity.get_enum(field::referral::STATE), outcome);
    Some((direction, state, outcome.unwrap_or(ReferralOutcome::Pending)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_creation_is_judged_without_panic_and_what_is_accepted_fits_the_machine(
        extra in any_fields(),
        inbound in any::<bool>(),
    ) {
        let mut world = World::new();
        let mut fields = valid_referral(if inbound { "Inbound" } else { "Outbound" });
        fields.extend(extra);
        let change = world.change(Op::Create, EntityKind::Referral, REFERRAL, fields);
        if world.apply(&change).is_some() {
            let entity = world.entities.get(&(EntityKind::Referral, REFERRAL)).cloned().expect("stored");
            let (direction, state, outcome) = state_of(&entity).expect("a direction");
            prop_assert!(state.fits(direction), "{state:?} {direction:?}");
            prop_assert!(state.outcomes().contains(&outcome), "{state:?} {outcome:?}");
        }
    }

    #[test]
    fn any_update_is_judged_without_panic_and_moves_only_by_legal_steps(
        updates in proptest::collection::vec(any_fields(), 1..6),
        inbound in any::<bool>(),
    ) {
        let mut world = World::new();
        let create = world.change(
            Op::Create, EntityKind::Referral, REFERRAL, valid_referral(if inbound { "Inbound" } else { "Outbound" }),
        );
        prop_assert!(world.apply(&create).is_some(), "the valid referral is accepted");
        for fields in updates {
            let before = world.entities.get(&(EntityKind::Referral, REFERRAL)).and_then(state_of).expect("state");
            let update = world.change(Op::Update, EntityKind::Referral, REFERRAL, fields);
            if world.apply(&update).is_some() {
                let after = world.entities.get(&(EntityKind::Referral, REFERRAL)).and_then(state_of).expect("state");
                prop_assert!(after.1 == before.1 || before.1.next().contains(&after.1), "{before:?} → {after:?}");
                prop_assert!(after.1.outcomes().contains(&after.2), "{after:?}");
            }
        }
    }
}

#[test]
fn an_older_device_moving_only_the_outcome_moves_the_state_with_it() {
    let mut world = World::new();
    let create = world.change(Op::Create, EntityKind::Referral, REFERRAL, valid_referral("Outbound"));
    let mut fields = create.fields.clone();
    fields.insert(field::referral::STATE.into(), FieldWrite::new("Sent"));
    let create = Change { fields, ..create };
    assert!(world.apply(&create).is_some());
    let outcome_only = BTreeMap::from([(field::referral::OUTCOME.to_owned(), Value::from("Accepted"))]);
    let update = world.change(Op::Update, EntityKind::Referral, REFERRAL, outcome_only);
    let checked = world.apply(&update).expect("accepted");
    assert_eq!(checked.str_value(field::referral::STATE), Some("Acknowledged"), "set as if the device had");
}
