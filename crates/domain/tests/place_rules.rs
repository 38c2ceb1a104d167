//! A deactivated station or village takes nobody new: a new recipient, household or visit
//! naming it is refused (`place_deactivated`, at the field naming it), as is a recipient moved
//! into it; what it holds stays readable and editable, and can be moved out.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::change::{Change, FieldWrite, Op};
use domain::entity::{EntityKind, EntityState, FieldClock};
use domain::hlc::Hlc;
use domain::org::Role;
use domain::policy::Actor;
use domain::rules::{CheckError, LookupError, StateView, check_change};
use domain::{Id, field};
use proptest::prelude::*;
use serde_json::{Value, json};

const STATION: Id = Id::from_u128(1);
const CLOSED_STATION: Id = Id::from_u128(2);
const POINT: Id = Id::from_u128(3);
const VILLAGE: Id = Id::from_u128(4);
const MERGED_VILLAGE: Id = Id::from_u128(5);
const CLOSED_STATION_VILLAGE: Id = Id::from_u128(6);
const DEPUTY: Id = Id::from_u128(7);
/// A recipient of the merged village, placed there before it was deactivated.
const RECIPIENT: Id = Id::from_u128(8);
const NEW_RECORD: Id = Id::from_u128(100);
/// A valid resident ID number (GB 11643 check character X), of a man born 1980-01-01.
const ID_NUMBER: &str = "43012419800101001X";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

#[derive(Default)]
struct World {
    entities: HashMap<(EntityKind, Id), EntityState>,
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

fn id(id: Id) -> Value {
    Value::from(id.to_string())
}

impl World {
    /// Two stations, the second deactivated; in the first an active village and one merged
    /// away (deactivated), where a recipient lives; a village of the closed station.
    fn new() -> World {
        let mut w = World::default();
        w.put(EntityKind::Station, STATION, json!({"name": "城关社工站", "county": "宁乡市"}));
        w.put(EntityKind::Station, CLOSED_STATION, json!({"name": "老街社工站", "county": "宁乡市", "active": false}));
        w.put(EntityKind::ServicePoint, POINT, json!({"station_id": id(STATION), "name": "一点"}));
        w.put(
            EntityKind::Village,
            VILLAGE,
            json!({"station_id": id(STATION), "service_point_id": id(POINT), "name": "东村", "active": true}),
        );
        w.put(
            EntityKind::Village,
            MERGED_VILLAGE,
            json!({"station_id": id(STATION), "service_point_id": id(POINT), "name": "西村", "active": false}),
        );
        w.put(
            EntityKind::Village,
            CLOSED_STATION_VILLAGE,
            json!({"station_id": id(CLOSED_STATION), "service_point_id": id(POINT), "name": "南村"}),
        );
        w.put(EntityKind::User, DEPUTY, json!({"username": "dh", "display_name": "王副站长", "role": "DeputyHead", "station_id": id(STATION), "active": true}));
        let mut recipient = recipient_fields(MERGED_VILLAGE);
        recipient.insert(field::recipient::STATION_ID.into(), id(STATION));
        w.put(EntityKind::Recipient, RECIPIENT, Value::Object(recipient.into_iter().collect()));
        w
    }

    /// Puts an entity in place as given, without the rules (the fixture's own records).
    fn put(&mut self, kind: EntityKind, id: Id, fields: Value) {
        let fields: BTreeMap<String, Value> =
            fields.as_object().map(|o| o.clone().into_iter().collect()).unwrap_or_default();
        let created = FieldClock { hlc: Hlc::new(1, 0, Id::from_u128(900)), base: None, author: DEPUTY };
        self.entities.insert((kind, id), EntityState { kind, id, fields, created, clocks: BTreeMap::new() });
    }

    /// The deputy head of the active station checks a change.
    fn check(
        &self,
        op: Op,
        kind: EntityKind,
        entity_id: Id,
        fields: BTreeMap<String, Value>,
    ) -> Result<Change, CheckError> {
        let change = Change {
            change_id: Id::from_u128(1000),
            device_id: Id::from_u128(900),
            device_seq: 1,
            author_id: DEPUTY,
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(1_800_000_000_000, 0, Id::from_u128(900)),
            entity: kind,
            entity_id,
            op,
            fields: fields.into_iter().map(|(k, v)| (k, FieldWrite::new(v))).collect(),
        };
        let deputy = Actor::new(DEPUTY, Some(Role::DeputyHead { station_id: STATION }));
        check_change(&deputy, &change, self, today())
    }
}

fn recipient_fields(village: Id) -> BTreeMap<String, Value> {
    [
        (field::recipient::STATION_ID, id(STATION)),
        (field::recipient::VILLAGE_ID, id(village)),
        (field::recipient::NAME, json!("李四")),
        (field::recipient::ID_NUMBER, json!(ID_NUMBER)),
        (field::recipient::GENDER, json!("Male")),
        (field::recipient::BIRTH_DATE, json!("1980-01-01")),
        (field::recipient::CATEGORIES, json!(["Dibao"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn household_fields(station: Id, village: Id) -> BTreeMap<String, Value> {
    [
        (field::household::STATION_ID, id(station)),
        (field::household::VILLAGE_ID, id(village)),
        (field::household::NAME, json!("李家")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn visit_fields(village: Id) -> BTreeMap<String, Value> {
    [
        (field::visit::STATION_ID, id(STATION)),
        (field::visit::VILLAGE_ID, id(village)),
        (field::visit::RECIPIENT_ID, id(RECIPIENT)),
        (field::visit::WORKER_ID, id(DEPUTY)),
        (field::visit::VISITED_ON, json!("2026-11-24")),
        (field::visit::OBSERVATIONS, json!("身体尚可")),
        (field::visit::FOLLOW_UP_NEEDED, json!(false)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn fields(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The code and field of a refusal, or "accepted".
fn verdict(result: Result<Change, CheckError>) -> (String, Option<String>) {
    match result {
        Ok(_) => ("accepted".into(), None),
        Err(CheckError::Rejected(r)) => (r.code().into(), r.field().map(Into::into)),
        Err(other) => (format!("{other:?}"), None),
    }
}

fn refused_at(field: &str) -> (String, Option<String>) {
    ("place_deactivated".into(), Some(field.into()))
}

#[test]
fn a_new_recipient_in_a_deactivated_village_is_refused_at_the_village() {
    let w = World::new();
    let result = w.check(Op::Create, EntityKind::Recipient, NEW_RECORD, recipient_fields(MERGED_VILLAGE));
    assert_eq!(verdict(result), refused_at(field::recipient::VILLAGE_ID));
}

#[test]
fn a_new_recipient_in_an_active_village_is_accepted() {
    let w = World::new();
    let result = w.check(Op::Create, EntityKind::Recipient, NEW_RECORD, recipient_fields(VILLAGE));
    assert_eq!(verdict(result).0, "accepted");
}

#[test]
fn a_new_visit_in_a_deactivated_village_is_refused() {
    let w = World::new();
    let result = w.check(Op::Create, EntityKind::Visit, NEW_RECORD, visit_fields(MERGED_VILLAGE));
    assert_eq!(verdict(result), refused_at(field::visit::VILLAGE_ID));
}

#[test]
fn a_new_household_in_a_deactivated_station_is_refused_at_the_station() {
    let mut w = World::new();
    // An administrator's view: the closed station's deputy head would be refused by policy first.
    w.put(EntityKind::User, DEPUTY, json!({"username": "dh", "display_name": "王副站长", "role": "DeputyHead", "station_id": id(CLOSED_STATION), "active": true}));
    let change = Change {
        change_id: Id::from_u128(1000),
        device_id: Id::from_u128(900),
        device_seq: 1,
        author_id: DEPUTY,
        schema_version: domain::SCHEMA_VERSION,
        hlc: Hlc::new(1_800_000_000_000, 0, Id::from_u128(900)),
        entity: EntityKind::Household,
        entity_id: NEW_RECORD,
        op: Op::Create,
        fields: household_fields(CLOSED_STATION, CLOSED_STATION_VILLAGE)
            .into_iter()
            .map(|(k, v)| (k, FieldWrite::new(v)))
            .collect(),
    };
    let deputy = Actor::new(DEPUTY, Some(Role::DeputyHead { station_id: CLOSED_STATION }));
    assert_eq!(verdict(check_change(&deputy, &change, &w, today())), refused_at(field::household::STATION_ID));
}

#[test]
fn a_recipient_of_a_deactivated_village_can_still_be_edited() {
    let w = World::new();
    let result = w.check(
        Op::Update,
        EntityKind::Recipient,
        RECIPIENT,
        fields(&[
            (field::recipient::NOTES, json!("已随西村并入东村，待转移")),
            (field::recipient::VILLAGE_ID, id(MERGED_VILLAGE)),
        ]),
    );
    assert_eq!(verdict(result).0, "accepted");
}

#[test]
fn a_recipient_can_be_moved_out_of_a_deactivated_village_but_not_into_one() {
    let mut w = World::new();
    let out =
        w.check(Op::Update, EntityKind::Recipient, RECIPIENT, fields(&[(field::recipient::VILLAGE_ID, id(VILLAGE))]));
    assert_eq!(verdict(out).0, "accepted");
    let mut moved = w.entities[&(EntityKind::Recipient, RECIPIENT)].clone();
    moved.fields.insert(field::recipient::VILLAGE_ID.into(), id(VILLAGE));
    w.entities.insert((EntityKind::Recipient, RECIPIENT), moved);
    let back = w.check(
        Op::Update,
        EntityKind::Recipient,
        RECIPIENT,
        fields(&[(field::recipient::VILLAGE_ID, id(MERGED_VILLAGE))]),
    );
    assert_eq!(verdict(back), refused_at(field::recipient::VILLAGE_ID));
}

#[test]
fn the_refusal_names_the_place_in_both_languages() {
    let w = World::new();
    let Err(CheckError::Rejected(rejection)) =
        w.check(Op::Create, EntityKind::Visit, NEW_RECORD, visit_fields(MERGED_VILLAGE))
    else {
        panic!("the visit was not refused");
    };
    assert!(rejection.message_zh().contains("村(社区)已停用"), "{}", rejection.message_zh());
    assert!(rejection.to_string().contains("village is deactivated"), "{rejection}");
}

#[test]
fn a_place_made_before_the_field_existed_counts_as_active() {
    let w = World::new();
    let village = &w.entities[&(EntityKind::Village, CLOSED_STATION_VILLAGE)];
    assert!(village.get(field::village::ACTIVE).is_none());
    assert!(domain::places::is_active(village));
    assert!(!domain::places::is_active(&w.entities[&(EntityKind::Station, CLOSED_STATION)]));
}

proptest! {
    /// Whatever a modified client writes into a place's `active` (arbitrary Unicode, numbers,
    /// null), checking the place's edit and then a visit placed there never panics.
    #[test]
    fn any_active_value_is_checked_without_panicking(text in "(?s).{0,40}", number in any::<i64>(), pick in 0..4u8) {
        let value = match pick {
            0 => Value::from(text),
            1 => Value::from(number),
            2 => Value::Null,
            _ => Value::from(number % 2 == 0),
        };
        let mut w = World::new();
        let _ = w.check(Op::Update, EntityKind::Village, VILLAGE, fields(&[(field::village::ACTIVE, value.clone())]));
        let mut village = w.entities[&(EntityKind::Village, VILLAGE)].clone();
        village.fields.insert(field::village::ACTIVE.into(), value.clone());
        w.entities.insert((EntityKind::Village, VILLAGE), village);
        let result = w.check(Op::Create, EntityKind::Visit, NEW_RECORD, visit_fields(VILLAGE));
        prop_assert_eq!(verdict(result).0 == "place_deactivated", value == Value::Bool(false));
    }
}
