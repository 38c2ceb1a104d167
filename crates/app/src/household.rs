//! Households (家庭) and their file (一户一档): adding and editing one, and who belongs to it.
//! Membership is the member's own record: a recipient's `household_id` and
//! `household_relation` (their relation to the head, who is `Head`).

use contract::{AddedHousehold, FieldValues, HouseholdFile, HouseholdMember};
use domain::change::Write;
use domain::entity::field::{household as fields_of, recipient};
use domain::entity::{EntityKind, EntityState, field};
use domain::policy::Actor;
use domain::recipient::{Gender, HouseholdRelation};
use domain::validate::Invalid;
use domain::{Id, Labelled};
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::ledger::{history_of, ledger_of};
use crate::places::{name_of, place_of};
use crate::recipient::categories_of;
use crate::{AppError, Moment, fields};

/// The household's record, or [`AppError::NotFound`].
pub(crate) fn household(store: &Store, id: Id) -> Result<EntityState, AppError> {
    store.entity(EntityKind::Household, id)?.ok_or(AppError::NotFound(EntityKind::Household))
}

/// The members of a household, the head first, then by name.
pub fn members_of(store: &Store, household_id: Id) -> Result<Vec<HouseholdMember>, AppError> {
    let mut members: Vec<HouseholdMember> = store.household_members(household_id)?.iter().map(member).collect();
    members.sort_by_key(|m| m.relation != Some(HouseholdRelation::Head));
    Ok(members)
}

fn member(person: &EntityState) -> HouseholdMember {
    HouseholdMember {
        recipient_id: person.id,
        name: name_of(person),
        relation: person.get_enum::<HouseholdRelation>(recipient::HOUSEHOLD_RELATION),
        gender: person.get_enum::<Gender>(recipient::GENDER),
        birth_date: person.get_str(recipient::BIRTH_DATE).and_then(|d| d.parse().ok()),
        categories: categories_of(person),
    }
}

/// The member recorded as the head of the household, if any.
pub fn head_of(store: &Store, household_id: Id) -> Result<Option<EntityState>, AppError> {
    Ok(store
        .household_members(household_id)?
        .into_iter()
        .find(|m| m.get_enum::<HouseholdRelation>(recipient::HOUSEHOLD_RELATION) == Some(HouseholdRelation::Head)))
}

/// The household's file: its fields and place, its members, their ledgers together, its history.
pub fn household_file(store: &Store, id: Id) -> Result<HouseholdFile, AppError> {
    let household = household(store, id)?;
    let people = store.household_members(id)?;
    let text = |name: &str| household.get_str(name).map(str::to_string);
    Ok(HouseholdFile {
        id,
        name: name_of(&household),
        address: text(fields_of::ADDRESS),
        notes: text(fields_of::NOTES),
        place: place_of(store, household.get_id(fields_of::VILLAGE_ID))?,
        members: members_of(store, id)?,
        fields: household.fields.clone().into_iter().filter(|(_, v)| !v.is_null()).collect(),
        ledger: ledger_of(store, &people)?,
        history: history_of(store, EntityKind::Household, id)?,
    })
}

/// Adds a household from its form (`village_id`, `name`, `address`, `notes`); the station follows
/// the village.
pub fn add_household(
    store: &mut Store,
    actor: &Actor,
    values: &FieldValues,
    at: Moment,
) -> Result<AddedHousehold, AppError> {
    let id = Uuid::now_v7();
    let mut write = fields::create_write(EntityKind::Household, id, values, &[field::STATION_ID], at.today)?;
    let village_id =
        write.fields.get(fields_of::VILLAGE_ID).and_then(|w| w.value.as_str()).and_then(|s| Id::try_parse(s).ok());
    if let Some(village_id) = village_id {
        let village = store
            .entity(EntityKind::Village, village_id)?
            .ok_or_else(|| AppError::at(EntityKind::Household, fields_of::VILLAGE_ID, Invalid::Reference))?;
        if let Some(station_id) = village.get_id(field::STATION_ID) {
            write = write.set(field::STATION_ID, station_id.to_string());
        }
    }
    let name = write.fields.get(fields_of::NAME).and_then(|w| w.value.as_str()).unwrap_or_default().to_string();
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(AddedHousehold { id, name })
}

/// Edits a household's fields (each checked; nothing is saved when one is wrong). Its village
/// stays within its station: the rules refuse a village of another.
pub fn update_household(
    store: &mut Store,
    actor: &Actor,
    id: Id,
    values: &FieldValues,
    at: Moment,
) -> Result<HouseholdFile, AppError> {
    let current = household(store, id)?;
    if let Some(write) = fields::update_write(&current, values, &[field::STATION_ID], at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    household_file(store, id)
}

/// Puts a person in a household (leaving any other) with their relation to its head. The rules
/// keep a household to people of its own station.
pub fn set_household_member(
    store: &mut Store,
    actor: &Actor,
    recipient_id: Id,
    household_id: Id,
    relation: HouseholdRelation,
    at: Moment,
) -> Result<(), AppError> {
    let person = crate::recipient::recipient(store, recipient_id)?;
    household(store, household_id)?;
    let same = person.get_id(recipient::HOUSEHOLD_ID) == Some(household_id)
        && person.get_enum::<HouseholdRelation>(recipient::HOUSEHOLD_RELATION) == Some(relation);
    if !same {
        let write = Write::update(EntityKind::Recipient, recipient_id)
            .set(recipient::HOUSEHOLD_ID, household_id.to_string())
            .set(recipient::HOUSEHOLD_RELATION, relation.as_str());
        store.record(actor, vec![write], at.now, at.today)?;
    }
    Ok(())
}

/// Takes a person out of their household (nothing to do when they are in none).
pub fn remove_household_member(store: &mut Store, actor: &Actor, recipient_id: Id, at: Moment) -> Result<(), AppError> {
    let person = crate::recipient::recipient(store, recipient_id)?;
    if person.get(recipient::HOUSEHOLD_ID).is_none() {
        return Ok(());
    }
    let write = Write::update(EntityKind::Recipient, recipient_id)
        .set(recipient::HOUSEHOLD_ID, Value::Null)
        .set(recipient::HOUSEHOLD_RELATION, Value::Null);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use contract::{CommandError, VisitDraft, codes};
    use serde_json::json;

    use super::*;
    use crate::testing::Station;

    fn household_values(station: &Station, name: &str) -> FieldValues {
        FieldValues::from([
            (fields_of::VILLAGE_ID.to_string(), json!(station.village.to_string())),
            (fields_of::NAME.to_string(), json!(name)),
            (fields_of::ADDRESS.to_string(), json!("青山村三组")),
        ])
    }

    fn add(station: &mut Station, name: &str) -> Id {
        let (moment, worker, values) = (station.moment(), station.worker.clone(), household_values(station, name));
        add_household(&mut station.store, &worker, &values, moment).expect("added").id
    }

    fn join(station: &mut Station, person: Id, household: Id, relation: HouseholdRelation) {
        let (moment, worker) = (station.moment(), station.worker.clone());
        set_household_member(&mut station.store, &worker, person, household, relation, moment).expect("joined");
    }

    #[test]
    fn a_new_household_belongs_to_the_station_of_its_village() {
        let mut station = Station::new();
        let id = add(&mut station, "张三户");
        let file = household_file(&station.store, id).expect("file");
        assert_eq!((file.name.as_str(), file.address.as_deref()), ("张三户", Some("青山村三组")));
        assert_eq!(file.place.station.map(|s| s.id), Some(station.id));
        assert_eq!(file.fields.get(field::STATION_ID), Some(&json!(station.id.to_string())));
    }

    #[test]
    fn a_household_without_a_name_is_refused_at_the_name_field() {
        let mut station = Station::new();
        let mut sent = household_values(&station, "");
        sent.remove(fields_of::ADDRESS);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let error = CommandError::from(add_household(&mut station.store, &worker, &sent, moment).expect_err("refused"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some(fields_of::NAME)));
    }

    #[test]
    fn members_are_listed_with_their_relation_the_head_first() {
        let mut station = Station::new();
        let household = add(&mut station, "张三户");
        let (wife, husband) = (station.add_recipient("李四", 12), station.add_recipient("张三", 11));
        join(&mut station, wife, household, HouseholdRelation::Spouse);
        join(&mut station, husband, household, HouseholdRelation::Head);
        let file = household_file(&station.store, household).expect("file");
        let members: Vec<(&str, Option<HouseholdRelation>)> =
            file.members.iter().map(|m| (m.name.as_str(), m.relation)).collect();
        assert_eq!(members, vec![("张三", Some(HouseholdRelation::Head)), ("李四", Some(HouseholdRelation::Spouse))]);
        let in_file = crate::recipient::recipient_file(&station.store, wife).expect("file");
        assert_eq!(in_file.household.map(|h| h.members.len()), Some(2));
        assert_eq!(in_file.household_relation, Some(HouseholdRelation::Spouse));
    }

    #[test]
    fn a_member_taken_out_leaves_the_household_file() {
        let mut station = Station::new();
        let household = add(&mut station, "张三户");
        let person = station.add_recipient("张三", 11);
        join(&mut station, person, household, HouseholdRelation::Head);
        let (moment, worker) = (station.moment(), station.worker.clone());
        remove_household_member(&mut station.store, &worker, person, moment).expect("removed");
        assert!(household_file(&station.store, household).expect("file").members.is_empty());
        let file = crate::recipient::recipient_file(&station.store, person).expect("file");
        assert_eq!((file.household, file.household_relation), (None, None));
    }

    #[test]
    fn the_household_ledger_gathers_its_members_visits() {
        let mut station = Station::new();
        let household = add(&mut station, "张三户");
        let (head, child) = (station.add_recipient("张三", 11), station.add_recipient("张小三", 13));
        join(&mut station, head, household, HouseholdRelation::Head);
        join(&mut station, child, household, HouseholdRelation::Child);
        for (person, seen) in [(head, "户主在家"), (child, "孩子上学")] {
            let (moment, worker) = (station.moment(), station.worker.clone());
            let draft = VisitDraft { observations: seen.into(), ..VisitDraft::default() };
            crate::visit::record_visit(&mut station.store, &worker, person, &draft, moment).expect("visited");
        }
        let file = household_file(&station.store, household).expect("file");
        let ledger: Vec<(&str, &str)> =
            file.ledger.iter().map(|l| (l.recipient_name.as_str(), l.summary.as_str())).collect();
        assert_eq!(ledger, vec![("张小三", "孩子上学"), ("张三", "户主在家")]);
    }

    #[test]
    fn a_household_edit_changes_only_what_was_changed_and_refuses_a_bad_value() {
        let mut station = Station::new();
        let household = add(&mut station, "张三户");
        let (moment, worker) = (station.moment(), station.worker.clone());
        let mut sent = household_values(&station, "张三户");
        sent.insert(fields_of::NOTES.into(), json!("低保户"));
        let file = update_household(&mut station.store, &worker, household, &sent, moment).expect("edited");
        assert_eq!(file.notes.as_deref(), Some("低保户"));
        assert_eq!(file.history.last().map(|h| h.fields.len()), Some(1), "only the notes were written");

        let (moment, worker) = (station.moment(), station.worker.clone());
        sent.insert(fields_of::NAME.into(), json!("户".repeat(101)));
        let error = CommandError::from(
            update_household(&mut station.store, &worker, household, &sent, moment).expect_err("refused"),
        );
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("too_long", Some(fields_of::NAME)));
    }

    #[test]
    fn the_file_of_an_unknown_household_is_not_found() {
        let station = Station::new();
        let error = CommandError::from(household_file(&station.store, Uuid::now_v7()).expect_err("missing"));
        assert_eq!(error.code, codes::NOT_FOUND);
    }
}
