//! The standards view (`#/standards`, issue 14): each station the user sees, and each of its
//! workers, against the station's chosen standards (`station.standard_set`, set by its deputy
//! head) as of today: met, on track or behind, per rule of `domain::standards`. And the two
//! settings behind it: the station's standards and a worker's qualification (the deputy head's;
//! `Action::SetStandards`, `Action::SetQualification`).
//!
//! The sums and the verdicts are `domain::standards::check`; this module only gathers each
//! subject's records: a station's sessions; a worker's own training and working time, and the
//! sessions held at their station, which its resident workers take part in.

use chrono::NaiveDate;
use contract::{NamedRef, StandardsView, StandingRow, StationStandards, WorkerStandings};
use domain::Id;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::org::{RoleKind, User};
use domain::policy::{self, Action, Actor, Denied, DenyReason, Target};
use domain::rules::Rejection;
use domain::standards::{self, Facts, Scope, SessionFact, StandardSet, TrainingFact, WorkFact};
use domain::workforce::{Qualification, SupervisionMode};
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::{AppError, Moment};

/// Every station the actor sees, with its rows and its workers' rows, as of `today`.
pub fn standards_view(store: &Store, actor: &Actor, today: NaiveDate) -> Result<StandardsView, AppError> {
    let mut stations = Vec::new();
    for station_id in actor.stations() {
        let target = |kind| Target { kind, station_id: Some(station_id), case_worker_id: None };
        if policy::authorize(actor, Action::Read, &target(EntityKind::SupervisionSession)).is_err() {
            continue;
        }
        let station = store.entity(EntityKind::Station, station_id)?;
        let standard_set = station.as_ref().and_then(|s| s.get_enum::<StandardSet>(field::station::STANDARD_SET));
        let rules = standard_set.map(standards::rules).unwrap_or_default();
        let sessions = session_facts(&store.list(EntityKind::SupervisionSession, Some(station_id))?);
        let training = store.list(EntityKind::TrainingRecord, Some(station_id))?;
        let work = store.list(EntityKind::WorkTime, Some(station_id))?;
        let station_facts = Facts { sessions: &sessions, ..Facts::default() };
        let station_rows = rows(rules, Scope::Station, &station_facts, today);
        let mut workers = Vec::new();
        for user in station_workers(store, station_id)? {
            let of_worker = |states: &[EntityState]| -> Vec<EntityState> {
                states.iter().filter(|s| s.get_id(field::WORKER_ID) == Some(user.id)).cloned().collect()
            };
            let training = training_facts(&of_worker(&training));
            let work = work_facts(&of_worker(&work));
            let facts = Facts { sessions: &sessions, training: &training, work: &work };
            workers.push(WorkerStandings {
                worker: NamedRef { id: user.id, name: user.display_name.clone() },
                qualification: user.qualification,
                rows: rows(rules, Scope::Worker, &facts, today),
            });
        }
        stations.push(StationStandards {
            station: NamedRef {
                id: station_id,
                name: station.as_ref().and_then(|s| s.get_str(field::station::NAME)).unwrap_or_default().to_string(),
            },
            standard_set,
            may_set_standard_set: policy::authorize(actor, Action::SetStandards, &target(EntityKind::Station)).is_ok(),
            may_set_qualification: policy::authorize(actor, Action::SetQualification, &target(EntityKind::User))
                .is_ok(),
            station_rows,
            workers,
        });
    }
    Ok(StandardsView { today, stations })
}

/// Chooses the standards of a station (`None`: none).
pub fn set_standard_set(
    store: &mut Store,
    actor: &Actor,
    station_id: Uuid,
    standard_set: Option<StandardSet>,
    at: Moment,
) -> Result<(), AppError> {
    let value = standard_set.map_or(Value::Null, |s| Value::from(domain::Labelled::as_str(s)));
    let write = Write::update(EntityKind::Station, station_id).set(field::station::STANDARD_SET, value);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

/// Sets a worker's qualification (`None`: none).
pub fn set_qualification(
    store: &mut Store,
    actor: &Actor,
    user_id: Uuid,
    qualification: Option<Qualification>,
    at: Moment,
) -> Result<(), AppError> {
    store.entity(EntityKind::User, user_id)?.ok_or(AppError::NotFound(EntityKind::User))?;
    let value = qualification.map_or(Value::Null, |q| Value::from(domain::Labelled::as_str(q)));
    let write = Write::update(EntityKind::User, user_id).set(field::user::QUALIFICATION, value);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

fn rows(rules: &[standards::Rule], scope: Scope, facts: &Facts, today: NaiveDate) -> Vec<StandingRow> {
    rules
        .iter()
        .filter(|rule| rule.scope == scope)
        .map(|rule| {
            let evaluation = standards::check(rule, facts, today);
            StandingRow {
                rule_zh: rule.zh.to_string(),
                rule_en: rule.en.to_string(),
                measure: rule.measure,
                period: rule.period,
                standing: evaluation.standing,
                achieved: evaluation.achieved,
                required: evaluation.required,
                due_by_now: evaluation.due_by_now,
            }
        })
        .collect()
}

/// A worker of the station as the view lists them.
pub(crate) struct StationWorker {
    pub(crate) id: Id,
    pub(crate) display_name: String,
    pub(crate) qualification: Option<Qualification>,
}

/// The station's active social workers and deputy heads, by name.
pub(crate) fn station_workers(store: &Store, station_id: Id) -> Result<Vec<StationWorker>, AppError> {
    let mut workers: Vec<StationWorker> = store
        .list(EntityKind::User, Some(station_id))?
        .into_iter()
        .filter_map(|state| {
            let qualification = state.get_enum::<Qualification>(field::user::QUALIFICATION);
            let user = state.to_typed::<User>().ok()?;
            let works_here = user.active
                && matches!(user.role, RoleKind::SocialWorker | RoleKind::DeputyHead)
                && user.station_id == Some(station_id);
            works_here.then_some(StationWorker { id: user.id, display_name: user.display_name, qualification })
        })
        .collect();
    workers.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    Ok(workers)
}

/// The station a worker keeps their own `kind` records in: their own (a worker's or deputy
/// head's). Anyone else (a supervisor, an administrator) is refused as the policy refuses them.
pub(crate) fn own_station(actor: &Actor, kind: EntityKind) -> Result<Id, AppError> {
    let mut denied = Denied { action: Action::Create, kind, reason: DenyReason::RoleCannot };
    for station_id in actor.stations() {
        let target = Target { kind, station_id: Some(station_id), case_worker_id: None };
        match policy::authorize(actor, Action::Create, &target) {
            Ok(()) => return Ok(station_id),
            Err(d) => denied = d,
        }
    }
    if denied.reason == DenyReason::NoRole && actor.role.is_some() {
        denied.reason = DenyReason::RoleCannot;
    }
    Err(AppError::Rejected(Rejection::Denied(denied)))
}

/// A whole number of minutes stored in `name` (0 when absent or out of range).
pub(crate) fn minutes_of(state: &EntityState, name: &str) -> u32 {
    state.get(name).and_then(Value::as_u64).and_then(|m| u32::try_from(m).ok()).unwrap_or(0)
}

fn date_of(state: &EntityState, name: &str) -> Option<NaiveDate> {
    state.get_str(name).and_then(|d| d.parse().ok())
}

pub(crate) fn session_facts(states: &[EntityState]) -> Vec<SessionFact> {
    states
        .iter()
        .filter_map(|s| {
            Some(SessionFact {
                held_on: date_of(s, field::supervision_session::HELD_ON)?,
                minutes: minutes_of(s, field::supervision_session::DURATION_MINUTES),
                mode: s.get_enum::<SupervisionMode>(field::supervision_session::MODE)?,
            })
        })
        .collect()
}

pub(crate) fn training_facts(states: &[EntityState]) -> Vec<TrainingFact> {
    states
        .iter()
        .filter_map(|s| {
            Some(TrainingFact {
                trained_on: date_of(s, field::training_record::TRAINED_ON)?,
                minutes: minutes_of(s, field::training_record::DURATION_MINUTES),
                kind: s.get_enum(field::training_record::KIND)?,
            })
        })
        .collect()
}

pub(crate) fn work_facts(states: &[EntityState]) -> Vec<WorkFact> {
    states
        .iter()
        .filter_map(|s| {
            Some(WorkFact {
                worked_on: date_of(s, field::work_time::WORKED_ON)?,
                minutes: minutes_of(s, field::work_time::DURATION_MINUTES),
                kind: s.get_enum(field::work_time::KIND)?,
            })
        })
        .collect()
}

/// A station's id and name.
pub(crate) fn station_ref(store: &Store, station_id: Id) -> Result<NamedRef, AppError> {
    let name = store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get_str(field::station::NAME).map(str::to_string))
        .unwrap_or_default();
    Ok(NamedRef { id: station_id, name })
}

/// A user's id and name, when this computer holds their record.
pub(crate) fn user_ref(store: &Store, id: Option<Id>) -> Result<Option<NamedRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let name =
        store.entity(EntityKind::User, id)?.and_then(|u| u.get_str(field::user::DISPLAY_NAME).map(str::to_string));
    Ok(name.map(|name| NamedRef { id, name }))
}

#[cfg(test)]
mod tests {
    use contract::{CommandError, FieldValues};
    use domain::standards::Standing;
    use serde_json::json;

    use super::*;
    use crate::supervision::{save_session, set_feedback, supervision_page};
    use crate::testing::{Station, today};
    use crate::training::{save_training, save_work_time, training_page};

    /// The station of `testing` with a supervisor covering it, made by an administrator.
    fn with_supervisor() -> (Station, Actor) {
        let mut s = Station::new();
        let supervisor = s.add_supervisor();
        (s, supervisor)
    }

    fn values(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn session(station: Uuid, on: &str, minutes: u32, mode: &str) -> FieldValues {
        values(&[
            (field::STATION_ID, json!(station.to_string())),
            (field::supervision_session::HELD_ON, json!(on)),
            (field::supervision_session::MODE, json!(mode)),
            (field::supervision_session::DURATION_MINUTES, json!(minutes)),
            (field::supervision_session::TOPICS, json!("个案评估")),
        ])
    }

    fn code(error: AppError) -> String {
        CommandError::from(error).code
    }

    fn standings(rows: &[StandingRow]) -> Vec<Standing> {
        rows.iter().map(|r| r.standing).collect()
    }

    #[test]
    fn a_station_without_standards_shows_its_workers_and_no_rules() {
        let (s, supervisor) = with_supervisor();
        let view = standards_view(&s.store, &supervisor, today()).expect("view");
        let station = &view.stations[0];
        assert_eq!((station.standard_set, station.station_rows.len()), (None, 0));
        let names: Vec<&str> = station.workers.iter().map(|w| w.worker.name.as_str()).collect();
        assert_eq!(names, ["张副站长", "张社工"]);
        assert!(!station.may_set_standard_set, "a supervisor does not choose a station's standards");
    }

    #[test]
    fn the_supervisors_sessions_hold_the_station_against_dongguans_monthly_standard() {
        let (mut s, supervisor) = with_supervisor();
        let deputy = s.deputy.clone();
        let at = s.moment();
        set_standard_set(&mut s.store, &deputy, s.id, Some(StandardSet::Dongguan), at).expect("chosen");
        let at = s.moment();
        save_session(&mut s.store, &supervisor, &session(s.id, "2026-11-03", 8 * 60, "OnSite"), at).expect("held");

        // 25 November: 24 of 30 days past, 12.8 h of 16 due; 8 h held.
        let view = standards_view(&s.store, &deputy, today()).expect("view");
        let station = &view.stations[0];
        assert_eq!(standings(&station.station_rows), [Standing::Met, Standing::Behind]);
        assert_eq!((station.station_rows[1].achieved, station.station_rows[1].due_by_now), (480, 768));

        let at = s.moment();
        save_session(&mut s.store, &supervisor, &session(s.id, "2026-11-20", 8 * 60, "Remote"), at).expect("held");
        let view = standards_view(&s.store, &deputy, today()).expect("view");
        assert_eq!(standings(&view.stations[0].station_rows), [Standing::Met, Standing::Met]);
        assert!(view.stations[0].may_set_standard_set);
    }

    #[test]
    fn only_the_supervisor_records_supervision_and_only_they_write_its_feedback() {
        let (mut s, supervisor) = with_supervisor();
        let (worker, deputy) = (s.worker.clone(), s.deputy.clone());
        let at = s.moment();
        let refused = save_session(&mut s.store, &worker, &session(s.id, "2026-11-03", 60, "OnSite"), at);
        assert_eq!(code(refused.expect_err("a worker")), "role_cannot");
        let at = s.moment();
        let id = save_session(&mut s.store, &supervisor, &session(s.id, "2026-11-03", 60, "OnSite"), at).expect("held");
        let at = s.moment();
        set_feedback(&mut s.store, &supervisor, id, "评估记录需补充家庭支持", at).expect("feedback");
        let page = supervision_page(&s.store, &deputy).expect("page");
        assert_eq!(page.sessions[0].feedback.as_deref(), Some("评估记录需补充家庭支持"));
        assert!(!page.may_record && !page.sessions[0].may_give_feedback);
        let at = s.moment();
        assert_eq!(code(set_feedback(&mut s.store, &deputy, id, "x", at).expect_err("not theirs")), "role_cannot");
        let mine = supervision_page(&s.store, &supervisor).expect("page");
        assert!(mine.may_record && mine.sessions[0].may_give_feedback);
        assert_eq!(mine.stations.iter().map(|st| st.name.as_str()).collect::<Vec<_>>(), ["城关社工站"]);
    }

    #[test]
    fn a_session_with_a_wrong_duration_is_refused_at_its_field_and_nothing_is_saved() {
        let (mut s, supervisor) = with_supervisor();
        let at = s.moment();
        let error = save_session(&mut s.store, &supervisor, &session(s.id, "2026-11-03", 0, "OnSite"), at)
            .expect_err("zero minutes");
        let error = CommandError::from(error);
        assert_eq!(error.field.as_deref(), Some(field::supervision_session::DURATION_MINUTES));
        assert!(error.message_zh.contains("时长") && error.message_en.contains("Duration"), "{error:?}");
        assert!(supervision_page(&s.store, &supervisor).expect("page").sessions.is_empty());
    }

    #[test]
    fn a_worker_records_training_and_working_time_and_sees_the_professional_share() {
        let mut s = Station::new();
        let worker = s.worker.clone();
        let at = s.moment();
        set_standard_set(&mut s.store, &s.deputy.clone(), s.id, Some(StandardSet::HunanCounty), at).expect("chosen");
        let training = values(&[
            (field::training_record::KIND, json!("Policy")),
            (field::training_record::TITLE, json!("社会救助政策")),
            (field::training_record::TRAINED_ON, json!("2026-11-10")),
            (field::training_record::DURATION_MINUTES, json!(8 * 60)),
        ]);
        let at = s.moment();
        save_training(&mut s.store, &worker, &training, at).expect("training");
        for (kind, hours) in [("Casework", 3), ("Administrative", 7)] {
            let time = values(&[
                (field::work_time::WORKED_ON, json!("2026-11-20")),
                (field::work_time::KIND, json!(kind)),
                (field::work_time::DURATION_MINUTES, json!(hours * 60)),
            ]);
            let at = s.moment();
            save_work_time(&mut s.store, &worker, &time, at).expect("time");
        }
        let page = training_page(&s.store, &worker, today()).expect("page");
        assert_eq!((page.training.len(), page.work.len()), (1, 2));
        assert_eq!((page.professional_minutes_this_year, page.work_minutes_this_year), (180, 600));

        let view = standards_view(&s.store, &worker, today()).expect("view");
        let me = view.stations[0].workers.iter().find(|w| w.worker.id == worker.user_id).expect("the worker");
        // County level: 24 h of supervision (none), 40 h of training (8), a 50 % share (30 %).
        assert_eq!(standings(&me.rows), [Standing::Behind, Standing::Behind, Standing::Behind]);
        assert_eq!((me.rows[1].achieved, me.rows[2].achieved), (480, 300));
    }

    #[test]
    fn a_workers_records_are_their_own_and_a_supervisor_keeps_none() {
        let (mut s, supervisor) = with_supervisor();
        let worker = s.worker.clone();
        let someone_else = values(&[
            (field::WORKER_ID, json!(s.deputy.user_id.to_string())),
            (field::work_time::WORKED_ON, json!("2026-11-20")),
            (field::work_time::KIND, json!("Casework")),
            (field::work_time::DURATION_MINUTES, json!(60)),
        ]);
        let at = s.moment();
        let error = save_work_time(&mut s.store, &worker, &someone_else, at).expect_err("another's time");
        assert_eq!(code(error), "not_editable_here");
        let mut mine = someone_else.clone();
        mine.remove(field::WORKER_ID);
        let at = s.moment();
        assert_eq!(
            code(save_work_time(&mut s.store, &supervisor, &mine, at).expect_err("no station of theirs")),
            "role_cannot"
        );
    }

    #[test]
    fn the_deputy_head_sets_a_workers_qualification_and_the_worker_cannot() {
        let mut s = Station::new();
        let (worker, deputy) = (s.worker.clone(), s.deputy.clone());
        let at = s.moment();
        set_qualification(&mut s.store, &deputy, worker.user_id, Some(Qualification::AssistantSocialWorker), at)
            .expect("set");
        let page = training_page(&s.store, &worker, today()).expect("page");
        assert_eq!(page.qualification, Some(Qualification::AssistantSocialWorker));
        let at = s.moment();
        let error = set_qualification(&mut s.store, &worker, worker.user_id, Some(Qualification::SocialWorker), at);
        assert_eq!(code(error.expect_err("a worker")), "role_cannot");
        let at = s.moment();
        let error = set_standard_set(&mut s.store, &worker, s.id, Some(StandardSet::Beijing), at);
        assert_eq!(code(error.expect_err("a worker")), "role_cannot");
    }
}
