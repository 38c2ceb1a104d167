//! A worker's own records (issue 14): their training (培训: pre-service, practice, policy,
//! continuing education) and working time by kind (professional service or other work, so that
//! the share of professional service has something to divide by), and the qualification the
//! station's deputy head set; shown on `#/training`. Each worker records their own
//! (`domain::rules`: `not_self`), offline like everything else.

use chrono::{Datelike, NaiveDate};
use contract::{FieldValues, NamedRef, TrainingPage, TrainingRow, WorkTimeRow};
use domain::Labelled;
use domain::entity::EntityKind;
use domain::field;
use domain::policy::Actor;
use domain::workforce::{Qualification, TrainingKind};
use store::Store;
use uuid::Uuid;

use crate::standards::{minutes_of, own_station, training_facts, work_facts};
use crate::supervision::{record_own, update_own};
use crate::{AppError, Moment};

/// The signed-in worker's qualification, training and working time, newest first, with this
/// year's totals.
pub fn training_page(store: &Store, actor: &Actor, today: NaiveDate) -> Result<TrainingPage, AppError> {
    let station_id = own_station(actor, EntityKind::TrainingRecord)?;
    let user = store.entity(EntityKind::User, actor.user_id)?;
    let name = user.as_ref().and_then(|u| u.get_str(field::user::DISPLAY_NAME)).unwrap_or_default().to_string();
    let qualification = user.as_ref().and_then(|u| u.get_enum::<Qualification>(field::user::QUALIFICATION));
    let mine = |kind| -> Result<Vec<_>, AppError> {
        Ok(store
            .list(kind, Some(station_id))?
            .into_iter()
            .filter(|s| s.get_id(field::WORKER_ID) == Some(actor.user_id))
            .collect())
    };
    let training_states = mine(EntityKind::TrainingRecord)?;
    let work_states = mine(EntityKind::WorkTime)?;
    let mut training: Vec<TrainingRow> = training_states
        .iter()
        .filter_map(|s| {
            Some(TrainingRow {
                id: s.id,
                kind: s.get_enum(field::training_record::KIND)?,
                title: s.get_str(field::training_record::TITLE).unwrap_or_default().to_string(),
                trained_on: s.get_str(field::training_record::TRAINED_ON)?.parse().ok()?,
                duration_minutes: minutes_of(s, field::training_record::DURATION_MINUTES),
                provider: s.get_str(field::training_record::PROVIDER).map(str::to_string),
                fields: crate::case::stored_fields(s),
            })
        })
        .collect();
    training.sort_by(|a, b| b.trained_on.cmp(&a.trained_on).then(b.id.cmp(&a.id)));
    let mut work: Vec<WorkTimeRow> = work_states
        .iter()
        .filter_map(|s| {
            Some(WorkTimeRow {
                id: s.id,
                worked_on: s.get_str(field::work_time::WORKED_ON)?.parse().ok()?,
                kind: s.get_enum(field::work_time::KIND)?,
                duration_minutes: minutes_of(s, field::work_time::DURATION_MINUTES),
                notes: s.get_str(field::work_time::NOTES).map(str::to_string),
            })
        })
        .collect();
    work.sort_by(|a, b| b.worked_on.cmp(&a.worked_on).then(b.id.cmp(&a.id)));

    let this_year = |day: NaiveDate| day.year() == today.year() && day <= today;
    let training_facts = training_facts(&training_states);
    let training_minutes_this_year = TrainingKind::ALL
        .iter()
        .map(|kind| {
            let minutes = training_facts
                .iter()
                .filter(|t| t.kind == *kind && this_year(t.trained_on))
                .map(|t| u64::from(t.minutes))
                .sum();
            (*kind, minutes)
        })
        .collect();
    let work_facts: Vec<_> = work_facts(&work_states).into_iter().filter(|w| this_year(w.worked_on)).collect();
    let minutes = |professional: bool| {
        work_facts.iter().filter(|w| !professional || w.kind.is_professional()).map(|w| u64::from(w.minutes)).sum()
    };
    Ok(TrainingPage {
        worker: NamedRef { id: actor.user_id, name },
        station_id,
        qualification,
        training,
        work,
        training_minutes_this_year,
        professional_minutes_this_year: minutes(true),
        work_minutes_this_year: minutes(false),
    })
}

/// Records a training the signed-in worker took: the form's values (kind, title, date,
/// minutes, provider) in their own station.
pub fn save_training(store: &mut Store, actor: &Actor, values: &FieldValues, at: Moment) -> Result<Uuid, AppError> {
    let values = in_own_station(actor, EntityKind::TrainingRecord, values)?;
    record_own(store, actor, EntityKind::TrainingRecord, field::WORKER_ID, &values, at)
}

/// Edits a training the signed-in worker recorded, from its form started with the stored values.
pub fn update_training(
    store: &mut Store,
    actor: &Actor,
    training_id: Uuid,
    values: &FieldValues,
    at: Moment,
) -> Result<(), AppError> {
    update_own(store, actor, EntityKind::TrainingRecord, training_id, field::WORKER_ID, values, at)
}

/// Records a stretch of the signed-in worker's working time: date, kind, minutes, notes.
pub fn save_work_time(store: &mut Store, actor: &Actor, values: &FieldValues, at: Moment) -> Result<Uuid, AppError> {
    let values = in_own_station(actor, EntityKind::WorkTime, values)?;
    record_own(store, actor, EntityKind::WorkTime, field::WORKER_ID, &values, at)
}

/// The values with the worker's own station: a worker's records belong to the station they
/// work at, which the form does not ask for.
fn in_own_station(actor: &Actor, kind: EntityKind, values: &FieldValues) -> Result<FieldValues, AppError> {
    let station_id = own_station(actor, kind)?;
    if values.contains_key(field::STATION_ID) {
        let spec = kind.spec().field(field::STATION_ID).ok_or(AppError::NotFound(kind))?;
        return Err(AppError::NotEditableHere(spec));
    }
    let mut values = values.clone();
    values.insert(field::STATION_ID.to_string(), station_id.to_string().into());
    Ok(values)
}

#[cfg(test)]
mod tests {
    use contract::CommandError;
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::{Station, today};

    fn training(title: &str, minutes: u32) -> FieldValues {
        [
            (field::training_record::KIND, json!("Policy")),
            (field::training_record::TITLE, json!(title)),
            (field::training_record::TRAINED_ON, json!("2026-11-10")),
            (field::training_record::DURATION_MINUTES, json!(minutes)),
        ]
        .into_iter()
        .map(|(k, v): (&str, Value)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn a_worker_edits_their_training_and_the_years_hours_follow() {
        let mut s = Station::new();
        let worker = s.worker.clone();
        let at = s.moment();
        let id = save_training(&mut s.store, &worker, &training("社会救助政策", 4 * 60), at).expect("recorded");
        let mut edited = training("社会救助政策解读", 8 * 60);
        edited.insert(field::training_record::PROVIDER.into(), json!("县民政局"));
        let at = s.moment();
        update_training(&mut s.store, &worker, id, &edited, at).expect("edited");

        let page = training_page(&s.store, &worker, today()).expect("page");
        let row = &page.training[0];
        assert_eq!((row.title.as_str(), row.duration_minutes), ("社会救助政策解读", 480));
        assert_eq!(row.provider.as_deref(), Some("县民政局"));
        let policy = page.training_minutes_this_year.iter().find(|(kind, _)| *kind == TrainingKind::Policy);
        assert_eq!(policy.map(|(_, minutes)| *minutes), Some(480));
    }

    #[test]
    fn a_training_is_edited_only_by_its_worker_and_a_wrong_value_is_refused_at_its_field() {
        let mut s = Station::new();
        let worker = s.worker.clone();
        let at = s.moment();
        let id = save_training(&mut s.store, &worker, &training("社会救助政策", 240), at).expect("recorded");
        let deputy = s.deputy.clone();
        let at = s.moment();
        let refused = update_training(&mut s.store, &deputy, id, &training("改", 240), at).expect_err("not theirs");
        assert_eq!(CommandError::from(refused).field.as_deref(), Some(field::WORKER_ID));

        let at = s.moment();
        let wrong = update_training(&mut s.store, &worker, id, &training("", 240), at).expect_err("no title");
        assert_eq!(CommandError::from(wrong).field.as_deref(), Some(field::training_record::TITLE));
        let page = training_page(&s.store, &worker, today()).expect("page");
        assert_eq!(page.training[0].title, "社会救助政策", "kept");
    }
}
