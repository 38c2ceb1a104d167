//! Home visits (入户走访): recording one for a person or a household, correcting one, and the
//! visits of a person. Visits are append-only: a correction is a new visit that `amends` the
//! earlier one, which is kept and shown as corrected.

use std::collections::BTreeMap;

use contract::{VisitDraft, VisitView};
use domain::Id;
use domain::change::Write;
use domain::entity::field::visit as fields_of;
use domain::entity::{EntityKind, EntityState, field};
use domain::policy::Actor;
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::ledger::corrections;
use crate::places::name_of;
use crate::{AppError, Moment};

/// Records a visit to a person, on the draft's date or today. The village and station are the
/// person's; the worker is the one signed in.
pub fn record_visit(
    store: &mut Store,
    actor: &Actor,
    recipient_id: Id,
    draft: &VisitDraft,
    at: Moment,
) -> Result<VisitView, AppError> {
    let person = crate::recipient::recipient(store, recipient_id)?;
    let write = visit_write(actor, &person, draft, draft.visited_on.unwrap_or(at.today));
    let id = write.entity_id;
    store.record(actor, vec![write], at.now, at.today)?;
    visit_view(store, id)
}

/// Records a visit to a household: under its head, so it is in the head's ledger and in the
/// household's (which gathers its members'). A household without a head is refused
/// ([`AppError::NoHouseholdHead`]).
pub fn record_household_visit(
    store: &mut Store,
    actor: &Actor,
    household_id: Id,
    draft: &VisitDraft,
    at: Moment,
) -> Result<VisitView, AppError> {
    crate::household::household(store, household_id)?;
    let head = crate::household::head_of(store, household_id)?.ok_or(AppError::NoHouseholdHead)?;
    record_visit(store, actor, head.id, draft, at)
}

/// Corrects a visit: records a new one that amends it, for the same person, on the draft's date
/// or the original's. The original is kept, shown as corrected.
pub fn amend_visit(
    store: &mut Store,
    actor: &Actor,
    visit_id: Id,
    draft: &VisitDraft,
    at: Moment,
) -> Result<VisitView, AppError> {
    let original = store.entity(EntityKind::Visit, visit_id)?.ok_or(AppError::NotFound(EntityKind::Visit))?;
    let recipient_id = original.get_id(fields_of::RECIPIENT_ID).ok_or(AppError::NotFound(EntityKind::Recipient))?;
    let person = crate::recipient::recipient(store, recipient_id)?;
    let original_date = original.get_str(fields_of::VISITED_ON).and_then(|d| d.parse().ok());
    let visited_on = draft.visited_on.or(original_date).unwrap_or(at.today);
    let write = visit_write(actor, &person, draft, visited_on).set(field::AMENDS, visit_id.to_string());
    let id = write.entity_id;
    store.record(actor, vec![write], at.now, at.today)?;
    visit_view(store, id)
}

/// Every visit to a person, newest first; a corrected one names its correction.
pub fn visits_of(store: &Store, recipient_id: Id) -> Result<Vec<VisitView>, AppError> {
    let person = crate::recipient::recipient(store, recipient_id)?;
    let visits = store.visits_of_recipient(recipient_id)?;
    let corrected = corrections(&visits);
    let names = Names::default();
    visits.iter().map(|v| view(store, v, Some(&person), &corrected, &names)).collect()
}

fn visit_write(actor: &Actor, person: &EntityState, draft: &VisitDraft, visited_on: chrono::NaiveDate) -> Write {
    let optional = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    Write::create(EntityKind::Visit, Uuid::now_v7())
        .set(field::STATION_ID, person.get(field::STATION_ID).cloned().unwrap_or(Value::Null))
        .set(fields_of::VILLAGE_ID, person.get(field::recipient::VILLAGE_ID).cloned().unwrap_or(Value::Null))
        .set(fields_of::RECIPIENT_ID, person.id.to_string())
        .set(field::WORKER_ID, actor.user_id.to_string())
        .set(fields_of::VISITED_ON, visited_on.to_string())
        .set_opt(fields_of::PERSONS_SEEN, optional(&draft.persons_seen))
        .set(fields_of::OBSERVATIONS, draft.observations.clone())
        .set_opt(fields_of::NEEDS_FOUND, optional(&draft.needs_found))
        .set(fields_of::FOLLOW_UP_NEEDED, draft.follow_up_needed)
}

/// One visit as shown, just recorded (so corrected by none yet).
fn visit_view(store: &Store, id: Id) -> Result<VisitView, AppError> {
    let visit = store.entity(EntityKind::Visit, id)?.ok_or(AppError::NotFound(EntityKind::Visit))?;
    view(store, &visit, None, &BTreeMap::new(), &Names::default())
}

/// Names of villages and workers, each read once per list.
#[derive(Default)]
struct Names(std::cell::RefCell<BTreeMap<Id, Option<String>>>);

impl Names {
    fn of(
        &self,
        store: &Store,
        kind: EntityKind,
        id: Option<Id>,
        field_name: &str,
    ) -> Result<Option<String>, AppError> {
        let Some(id) = id else { return Ok(None) };
        if let Some(name) = self.0.borrow().get(&id) {
            return Ok(name.clone());
        }
        let name = store.entity(kind, id)?.and_then(|s| s.get_str(field_name).map(str::to_string));
        self.0.borrow_mut().insert(id, name.clone());
        Ok(name)
    }
}

fn view(
    store: &Store,
    visit: &EntityState,
    person: Option<&EntityState>,
    corrected: &BTreeMap<Id, Id>,
    names: &Names,
) -> Result<VisitView, AppError> {
    let recipient_id = visit.get_id(fields_of::RECIPIENT_ID).unwrap_or_default();
    let recipient_name = match person {
        Some(person) => name_of(person),
        None => store.entity(EntityKind::Recipient, recipient_id)?.map(|p| name_of(&p)).unwrap_or_default(),
    };
    let text = |name: &str| visit.get_str(name).map(str::to_string);
    Ok(VisitView {
        id: visit.id,
        recipient_id,
        recipient_name,
        village_name: names.of(
            store,
            EntityKind::Village,
            visit.get_id(fields_of::VILLAGE_ID),
            field::village::NAME,
        )?,
        worker_name: names.of(store, EntityKind::User, visit.get_id(field::WORKER_ID), field::user::DISPLAY_NAME)?,
        visited_on: text(fields_of::VISITED_ON).and_then(|d| d.parse().ok()),
        persons_seen: text(fields_of::PERSONS_SEEN),
        observations: text(fields_of::OBSERVATIONS).unwrap_or_default(),
        needs_found: text(fields_of::NEEDS_FOUND),
        follow_up_needed: visit.get(fields_of::FOLLOW_UP_NEEDED).and_then(Value::as_bool).unwrap_or(false),
        amends: visit.get_id(field::AMENDS),
        corrected_by: corrected.get(&visit.id).copied(),
    })
}

#[cfg(test)]
mod tests {
    use contract::{CommandError, codes};
    use domain::recipient::HouseholdRelation;

    use super::*;
    use crate::testing::{Station, today};

    fn draft(observations: &str) -> VisitDraft {
        VisitDraft {
            persons_seen: "本人".into(),
            observations: observations.into(),
            needs_found: "  ".into(),
            follow_up_needed: true,
            ..VisitDraft::default()
        }
    }

    fn visit(station: &mut Station, person: Id, draft: &VisitDraft) -> Result<VisitView, AppError> {
        let (moment, worker) = (station.moment(), station.worker.clone());
        record_visit(&mut station.store, &worker, person, draft, moment)
    }

    #[test]
    fn a_visit_without_a_date_is_made_today_by_the_signed_in_worker() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let recorded = visit(&mut station, person, &draft("身体尚可")).expect("recorded");
        assert_eq!(recorded.visited_on, Some(today()));
        assert_eq!(recorded.worker_name.as_deref(), Some("张社工"));
        assert_eq!(recorded.village_name.as_deref(), Some("青山村"));
        assert_eq!((recorded.persons_seen.as_deref(), recorded.needs_found), (Some("本人"), None));
        assert!(recorded.follow_up_needed);
    }

    #[test]
    fn a_visit_without_observations_is_refused_at_that_field() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let error = CommandError::from(visit(&mut station, person, &draft(" ")).expect_err("refused"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some(fields_of::OBSERVATIONS)));
        assert!(error.message_zh.starts_with("走访情况") && error.message_en.starts_with("Observations"));
        assert!(visits_of(&station.store, person).expect("visits").is_empty());
    }

    #[test]
    fn a_visit_dated_tomorrow_is_refused() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let tomorrow = VisitDraft { visited_on: today().succ_opt(), ..draft("身体尚可") };
        let error = CommandError::from(visit(&mut station, person, &tomorrow).expect_err("refused"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("date_in_future", Some(fields_of::VISITED_ON)));
    }

    #[test]
    fn a_visit_amendment_keeps_the_original_and_shows_both() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let original = visit(&mut station, person, &draft("身体尚可")).expect("recorded");
        let (moment, worker) = (station.moment(), station.worker.clone());
        let corrected = amend_visit(&mut station.store, &worker, original.id, &draft("腿脚不便，需要轮椅"), moment)
            .expect("amended");
        assert_eq!(corrected.amends, Some(original.id));
        assert_eq!(corrected.visited_on, original.visited_on, "the original's date by default");

        let visits = visits_of(&station.store, person).expect("visits");
        let shown: Vec<(Id, Option<Id>)> = visits.iter().map(|v| (v.id, v.corrected_by)).collect();
        assert_eq!(shown, vec![(corrected.id, None), (original.id, Some(corrected.id))]);
        let ledger = crate::recipient::recipient_file(&station.store, person).expect("file").ledger;
        let marked: Vec<(&str, Option<Id>, Option<Id>)> =
            ledger.iter().map(|l| (l.summary.as_str(), l.amends, l.corrected_by)).collect();
        assert_eq!(
            marked,
            vec![("腿脚不便，需要轮椅", Some(original.id), None), ("身体尚可", None, Some(corrected.id))]
        );
    }

    #[test]
    fn a_household_visit_is_recorded_for_its_head() {
        let mut station = Station::new();
        let head = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let values = contract::FieldValues::from([
            (field::household::VILLAGE_ID.to_string(), serde_json::json!(station.village.to_string())),
            (field::household::NAME.to_string(), serde_json::json!("张三户")),
        ]);
        let household =
            crate::household::add_household(&mut station.store, &worker, &values, moment).expect("added").id;
        let (moment, worker) = (station.moment(), station.worker.clone());
        crate::household::set_household_member(
            &mut station.store,
            &worker,
            head,
            household,
            HouseholdRelation::Head,
            moment,
        )
        .expect("joined");
        let (moment, worker) = (station.moment(), station.worker.clone());
        let recorded = record_household_visit(&mut station.store, &worker, household, &draft("全家在家"), moment)
            .expect("recorded");
        assert_eq!((recorded.recipient_id, recorded.recipient_name.as_str()), (head, "张三"));
    }

    #[test]
    fn a_household_without_a_head_cannot_be_visited_as_a_household() {
        let mut station = Station::new();
        let (moment, worker) = (station.moment(), station.worker.clone());
        let values = contract::FieldValues::from([
            (field::household::VILLAGE_ID.to_string(), serde_json::json!(station.village.to_string())),
            (field::household::NAME.to_string(), serde_json::json!("空户")),
        ]);
        let household =
            crate::household::add_household(&mut station.store, &worker, &values, moment).expect("added").id;
        let (moment, worker) = (station.moment(), station.worker.clone());
        let result = record_household_visit(&mut station.store, &worker, household, &draft("无人"), moment);
        assert_eq!(CommandError::from(result.expect_err("refused")).code, codes::NO_HOUSEHOLD_HEAD);
    }
}
