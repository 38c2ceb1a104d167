//! The supervisor's (督导) supervision records (issue 14): plans announced in advance
//! (督导计划: date, station, mode, hours, topics) and sessions held (督导记录: date, hours, on site or
//! remote, topics, cases discussed), with the feedback written afterwards; shown on
//! `#/supervision` for every station the user sees. Supervisors record them for the stations
//! they cover; who may is `domain::policy` (checked by `Store::record`), and that a record is the
//! supervisor's own is `domain::rules` (`not_self`).

use contract::{FieldValues, NamedRef, SupervisionPage, SupervisionPlanRow, SupervisionSessionRow};
use domain::Id;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::policy::{self, Action, Actor, Target};
use domain::workforce::SupervisionMode;
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::fields::{create_write, update_write};
use crate::standards::{minutes_of, station_ref, user_ref};
use crate::{AppError, Moment};

/// The plans and sessions of every station the actor sees, newest first.
pub fn supervision_page(store: &Store, actor: &Actor) -> Result<SupervisionPage, AppError> {
    let mut stations = Vec::new();
    let mut plans = Vec::new();
    let mut sessions = Vec::new();
    for station_id in actor.stations() {
        let station = station_ref(store, station_id)?;
        let target =
            Target { kind: EntityKind::SupervisionSession, station_id: Some(station_id), case_worker_id: None };
        if policy::authorize(actor, Action::Read, &target).is_err() {
            continue;
        }
        let station_sessions = store.list(EntityKind::SupervisionSession, Some(station_id))?;
        for state in store.list(EntityKind::SupervisionPlan, Some(station_id))? {
            let held = station_sessions.iter().any(|s| s.get_id(field::supervision_session::PLAN_ID) == Some(state.id));
            if let Some(row) = plan_row(store, &state, &station, held)? {
                plans.push(row);
            }
        }
        for state in &station_sessions {
            if let Some(row) = session_row(store, actor, state, &station)? {
                sessions.push(row);
            }
        }
        if policy::authorize(actor, Action::Create, &target).is_ok() {
            stations.push(station);
        }
    }
    plans.sort_by(|a, b| b.planned_on.cmp(&a.planned_on).then(b.id.cmp(&a.id)));
    sessions.sort_by(|a, b| b.held_on.cmp(&a.held_on).then(b.id.cmp(&a.id)));
    Ok(SupervisionPage { may_record: !stations.is_empty(), stations, plans, sessions })
}

/// Announces a plan: the form's values (station, date, mode, hours, topics); the supervisor is
/// the signed-in user.
pub fn save_plan(store: &mut Store, actor: &Actor, values: &FieldValues, at: Moment) -> Result<Uuid, AppError> {
    record_own(store, actor, EntityKind::SupervisionPlan, field::supervision_plan::SUPERVISOR_ID, values, at)
}

/// Records a session held: the form's values; the supervisor is the signed-in user.
pub fn save_session(store: &mut Store, actor: &Actor, values: &FieldValues, at: Moment) -> Result<Uuid, AppError> {
    record_own(store, actor, EntityKind::SupervisionSession, field::supervision_session::SUPERVISOR_ID, values, at)
}

/// Writes (or clears, when empty) the feedback on a session afterwards.
pub fn set_feedback(
    store: &mut Store,
    actor: &Actor,
    session_id: Uuid,
    feedback: &str,
    at: Moment,
) -> Result<(), AppError> {
    let session = store
        .entity(EntityKind::SupervisionSession, session_id)?
        .ok_or(AppError::NotFound(EntityKind::SupervisionSession))?;
    let values = FieldValues::from([(field::supervision_session::FEEDBACK.to_string(), Value::from(feedback))]);
    if let Some(write) = update_write(&session, &values, &[], at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    Ok(())
}

/// Edits a plan the signed-in supervisor announced, from its form started with the stored
/// values: only what changes is written; the station and the supervisor stay (`fixed` and kept).
pub fn update_plan(
    store: &mut Store,
    actor: &Actor,
    plan_id: Uuid,
    values: &FieldValues,
    at: Moment,
) -> Result<(), AppError> {
    update_own(store, actor, EntityKind::SupervisionPlan, plan_id, field::supervision_plan::SUPERVISOR_ID, values, at)
}

/// Writes the changes `values` make to an own record of `kind` (a supervisor's plan, a worker's
/// training); `own_field` and the station are not the form's to change, and whose it is the rules
/// decide (`not_self`) as for a new one.
pub(crate) fn update_own(
    store: &mut Store,
    actor: &Actor,
    kind: EntityKind,
    id: Uuid,
    own_field: &'static str,
    values: &FieldValues,
    at: Moment,
) -> Result<(), AppError> {
    let current = store.entity(kind, id)?.ok_or(AppError::NotFound(kind))?;
    if let Some(write) = update_write(&current, values, &[field::STATION_ID, own_field], at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    Ok(())
}

/// Records a new `kind` record from the form's values, with `own_field` naming the actor. A form
/// may not name someone else there.
pub(crate) fn record_own(
    store: &mut Store,
    actor: &Actor,
    kind: EntityKind,
    own_field: &'static str,
    values: &FieldValues,
    at: Moment,
) -> Result<Uuid, AppError> {
    let id = Uuid::now_v7();
    let write: Write =
        create_write(kind, id, values, &[own_field], at.today)?.set(own_field, actor.user_id.to_string());
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(id)
}

fn plan_row(
    store: &Store,
    state: &EntityState,
    station: &NamedRef,
    held: bool,
) -> Result<Option<SupervisionPlanRow>, AppError> {
    let (Some(planned_on), Some(mode)) = (
        state.get_str(field::supervision_plan::PLANNED_ON).and_then(|d| d.parse().ok()),
        state.get_enum::<SupervisionMode>(field::supervision_plan::MODE),
    ) else {
        return Ok(None);
    };
    Ok(Some(SupervisionPlanRow {
        id: state.id,
        station: station.clone(),
        supervisor: user_ref(store, state.get_id(field::supervision_plan::SUPERVISOR_ID))?,
        planned_on,
        mode,
        planned_minutes: minutes_of(state, field::supervision_plan::PLANNED_MINUTES),
        topics: state.get_str(field::supervision_plan::TOPICS).unwrap_or_default().to_string(),
        held,
        fields: crate::case::stored_fields(state),
    }))
}

fn session_row(
    store: &Store,
    actor: &Actor,
    state: &EntityState,
    station: &NamedRef,
) -> Result<Option<SupervisionSessionRow>, AppError> {
    let (Some(held_on), Some(mode)) = (
        state.get_str(field::supervision_session::HELD_ON).and_then(|d| d.parse().ok()),
        state.get_enum::<SupervisionMode>(field::supervision_session::MODE),
    ) else {
        return Ok(None);
    };
    let supervisor_id: Option<Id> = state.get_id(field::supervision_session::SUPERVISOR_ID);
    let text = |name: &str| state.get_str(name).filter(|t| !t.is_empty()).map(str::to_string);
    Ok(Some(SupervisionSessionRow {
        id: state.id,
        station: station.clone(),
        supervisor: user_ref(store, supervisor_id)?,
        plan_id: state.get_id(field::supervision_session::PLAN_ID),
        held_on,
        mode,
        duration_minutes: minutes_of(state, field::supervision_session::DURATION_MINUTES),
        topics: text(field::supervision_session::TOPICS).unwrap_or_default(),
        cases_discussed: text(field::supervision_session::CASES_DISCUSSED),
        feedback: text(field::supervision_session::FEEDBACK),
        may_give_feedback: supervisor_id == Some(actor.user_id),
    }))
}

#[cfg(test)]
mod tests {
    use contract::CommandError;
    use serde_json::json;

    use super::*;
    use crate::testing::Station;

    fn plan(station: Uuid, minutes: u32, topics: &str) -> FieldValues {
        [
            (field::STATION_ID, json!(station.to_string())),
            (field::supervision_plan::PLANNED_ON, json!("2026-12-03")),
            (field::supervision_plan::MODE, json!("OnSite")),
            (field::supervision_plan::PLANNED_MINUTES, json!(minutes)),
            (field::supervision_plan::TOPICS, json!(topics)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn the_supervisor_edits_a_plan_they_announced_and_only_what_changed_is_written() {
        let mut s = Station::new();
        let supervisor = s.add_supervisor();
        let at = s.moment();
        let id = save_plan(&mut s.store, &supervisor, &plan(s.id, 240, "个案评估"), at).expect("announced");
        let at = s.moment();
        update_plan(&mut s.store, &supervisor, id, &plan(s.id, 360, "个案评估与服务计划"), at).expect("edited");

        let page = supervision_page(&s.store, &supervisor).expect("page");
        assert_eq!((page.plans[0].planned_minutes, page.plans[0].topics.as_str()), (360, "个案评估与服务计划"));
        assert_eq!(page.plans[0].supervisor.as_ref().map(|u| u.id), Some(supervisor.user_id));
    }

    #[test]
    fn a_plan_edit_is_refused_to_anyone_but_its_supervisor_and_a_wrong_value_at_its_field() {
        let mut s = Station::new();
        let supervisor = s.add_supervisor();
        let at = s.moment();
        let id = save_plan(&mut s.store, &supervisor, &plan(s.id, 240, "个案评估"), at).expect("announced");
        let deputy = s.deputy.clone();
        let at = s.moment();
        let refused = update_plan(&mut s.store, &deputy, id, &plan(s.id, 300, "改"), at).expect_err("not theirs");
        assert_eq!(CommandError::from(refused).code, "role_cannot");

        let at = s.moment();
        let wrong = update_plan(&mut s.store, &supervisor, id, &plan(s.id, 0, "个案评估"), at).expect_err("0 min");
        let wrong = CommandError::from(wrong);
        assert_eq!(wrong.field.as_deref(), Some(field::supervision_plan::PLANNED_MINUTES));
        assert!(
            wrong.message_zh.contains("计划时长") && wrong.message_en.to_lowercase().contains("planned duration"),
            "{wrong:?}"
        );
        let page = supervision_page(&s.store, &supervisor).expect("page");
        assert_eq!((page.plans[0].planned_minutes, page.plans[0].topics.as_str()), (240, "个案评估"), "kept");
    }
}
