//! The deputy head's screens (挂图作战): the station's case board (every case by stage, with its
//! worker, village, days in stage and latest risk; stalled cases and overdue follow-ups marked;
//! filters by worker, village, category and risk), reassigning a case, the station's stall
//! threshold, and the station's counts at a glance. And, on a worker's device, the changes the
//! server refused because their case had been reassigned meanwhile, each written out as a note to
//! hand over to the worker who has the case now.
//!
//! No rule is decided here: a reassignment and the threshold are writes through `Store::record`
//! (`domain::rules::check_change` checks `Action::Reassign`, who may take a case, and
//! `Action::SetStallThreshold`); who has the board is `domain::policy::authorize`.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use contract::{
    BarCount, BoardCard, BoardColumn, BoardFilterOptions, CaseBoard, CaseBoardQuery, HandedOverChange, NamedRef,
    StageCount, StationDashboard,
};
use domain::case::{ClosureStatus, RiskLevel, Stage};
use domain::change::Write;
use domain::entity::{Area, DEFAULT_STALL_DAYS, EntityKind};
use domain::field;
use domain::org::{RoleKind, User};
use domain::policy::{self, Action, Actor, Denied, DenyReason, Target};
use domain::recipient::RecipientCategory;
use domain::rules::Rejection;
use domain::{Id, Labelled};
use serde_json::Value;
use store::{CaseBoardFilter, CaseBoardRow, NamedCount, Store};
use uuid::Uuid;

use crate::{AppError, Moment};

/// The code of a change refused because its case is assigned to another worker.
const NOT_ASSIGNED: &str = "not_assigned";

/// The case board of the signed-in deputy head's station, filtered by `query`.
pub fn case_board(
    store: &Store,
    actor: &Actor,
    query: &CaseBoardQuery,
    today: NaiveDate,
) -> Result<CaseBoard, AppError> {
    let station_id = board_station(actor)?;
    let (stall_days, stall_days_set) = stall_threshold(store, station_id)?;
    let board = store.case_board_by_stage(&board_filter(station_id, query), query.shown(), today)?;
    let overdue = store.overdue_case_ids(station_id, today)?;
    let columns: Vec<BoardColumn> = Stage::ALL
        .iter()
        .copied()
        .filter(|s| *s != Stage::Closed || query.include_closed)
        .map(|stage| BoardColumn {
            stage,
            total: board
                .totals
                .iter()
                .find(|(s, _)| *s == stage)
                .map_or(0, |(_, n)| u32::try_from(*n).unwrap_or(u32::MAX)),
            cards: board
                .rows
                .iter()
                .filter(|row| row.stage.unwrap_or(Stage::Identify) == stage)
                .map(|row| card(row.clone(), stall_days, &overdue))
                .collect(),
        })
        .collect();
    let station_target = Target { kind: EntityKind::Station, station_id: Some(station_id), case_worker_id: None };
    Ok(CaseBoard {
        station: station_ref(store, station_id)?,
        stall_days,
        stall_days_set,
        columns,
        options: BoardFilterOptions {
            workers: station_workers(store, station_id)?,
            villages: station_villages(store, station_id)?,
            categories: RecipientCategory::ALL.to_vec(),
            risk_levels: RiskLevel::ALL.to_vec(),
        },
        may_reassign: true,
        may_set_stall_days: policy::authorize(actor, Action::SetStallThreshold, &station_target).is_ok(),
    })
}

/// Gives the case to `worker_id`, who must be an active social worker or deputy head of its
/// station (the domain's rule). The new worker's devices receive it with their next sync; the
/// previous worker's edits made offline meanwhile are refused by the server, named after the new
/// worker, and kept on that device ([`handed_over_changes`]).
pub fn reassign_case(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    worker_id: Uuid,
    at: Moment,
) -> Result<(), AppError> {
    let case = store.entity(EntityKind::Case, case_id)?.ok_or(AppError::NotFound(EntityKind::Case))?;
    if case.get_id(field::case::WORKER_ID) == Some(worker_id) {
        return Ok(());
    }
    let write = Write::update(EntityKind::Case, case_id).set(field::case::WORKER_ID, worker_id.to_string());
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

/// Sets the stall threshold of the signed-in deputy head's station (1 to 365 days); `None` goes
/// back to [`DEFAULT_STALL_DAYS`].
pub fn set_stall_days(store: &mut Store, actor: &Actor, days: Option<u32>, at: Moment) -> Result<(), AppError> {
    let station_id = board_station(actor)?;
    let value = days.map_or(Value::Null, Value::from);
    let write = Write::update(EntityKind::Station, station_id).set(field::station::STALL_DAYS, value);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

/// The counts of the signed-in deputy head's station: visits this month per worker and per
/// village, open cases per stage, closures waiting, stalled and overdue cases, and this
/// device's refused changes and open conflicts.
pub fn station_dashboard(store: &Store, actor: &Actor, today: NaiveDate) -> Result<StationDashboard, AppError> {
    let station_id = board_station(actor)?;
    let month_from = today.with_day(1).unwrap_or(today);
    let counts = store.station_counts(station_id, month_from, today)?;
    let (stall_days, _) = stall_threshold(store, station_id)?;
    let open_by_stage = Stage::ALL
        .iter()
        .filter(|s| **s != Stage::Closed)
        .map(|stage| StageCount {
            stage: *stage,
            count: counts.open_by_stage.iter().find(|(s, _)| s == stage).map_or(0, |(_, n)| *n),
        })
        .collect();
    Ok(StationDashboard {
        station: station_ref(store, station_id)?,
        month_from,
        month_to: today,
        visits_by_worker: counts.visits_by_worker.into_iter().map(bar).collect(),
        visits_by_village: counts.visits_by_village.into_iter().map(bar).collect(),
        open_by_stage,
        closures_waiting: counts.closures_waiting,
        stalled: store.stalled_count(station_id, today, stall_days)?,
        follow_ups_overdue: store.overdue_case_ids(station_id, today)?.len() as u64,
        refused_changes: store.rejected_changes()?.iter().filter(|r| !r.set_aside).count() as u64,
        conflicts_open: store.open_conflicts()?.len() as u64,
    })
}

/// This device's changes to cases the server refused because the case was assigned to another
/// worker (code `not_assigned`): kept with their content, explained, and written out as a note
/// for the worker who has the case now. Newest first.
pub fn handed_over_changes(store: &Store) -> Result<Vec<HandedOverChange>, AppError> {
    let mut out = Vec::new();
    for row in store.rejected_changes()? {
        if row.set_aside || row.rejection.code != NOT_ASSIGNED || row.entity_kind.area() != Area::Case {
            continue;
        }
        let case_id = match row.entity_kind {
            EntityKind::Case => Some(row.entity_id),
            _ => row
                .fields
                .get(field::CASE_ID)
                .and_then(|w| w.value.as_str())
                .and_then(|s| Uuid::try_parse(s).ok())
                .or(store.entity(row.entity_kind, row.entity_id)?.and_then(|r| r.get_id(field::CASE_ID))),
        };
        let case = match case_id {
            Some(id) => store.entity(EntityKind::Case, id)?,
            None => None,
        };
        let recipient_name = match case.as_ref().and_then(|c| c.get_id(field::case::RECIPIENT_ID)) {
            Some(id) => store
                .entity(EntityKind::Recipient, id)?
                .and_then(|r| r.get_str(field::recipient::NAME).map(str::to_string)),
            None => None,
        };
        // The case as last held here names the worker who has it, once an update of it arrived.
        let now_assigned_to = match case.as_ref().and_then(|c| c.get_id(field::case::WORKER_ID)) {
            Some(id) => user_name(store, id)?,
            None => None,
        };
        let fields: Vec<(String, String, String)> = row
            .fields
            .iter()
            .filter(|(name, _)| ![field::STATION_ID, field::CASE_ID, field::WORKER_ID].contains(&name.as_str()))
            .filter_map(|(name, write)| {
                let value = shown_value(&write.value)?;
                let (zh, en) =
                    row.entity_kind.spec().field(name).map_or((name.as_str(), name.as_str()), |f| (f.zh, f.en));
                Some((zh.to_string(), en.to_string(), value))
            })
            .collect();
        let person = recipient_name.clone().unwrap_or_default();
        let mut note_zh = format!("【{}】{person}（原负责社工离线时记录，个案改派后转交）", row.entity_kind.zh());
        let mut note_en = format!(
            "[{}] {person} (recorded offline by the previous worker, handed over after the case was reassigned)",
            row.entity_kind.en()
        );
        for (zh, en, value) in &fields {
            note_zh.push_str(&format!("\n{zh}：{value}"));
            note_en.push_str(&format!("\n{en}: {value}"));
        }
        out.push(HandedOverChange {
            change_id: row.change_id,
            kind: row.entity_kind,
            case_id,
            recipient_name,
            now_assigned_to,
            message_zh: row.rejection.message_zh,
            message_en: contract::sentence(&row.rejection.message_en),
            note_zh,
            note_en,
            recorded_at: DateTime::parse_from_rfc3339(&row.recorded_at).ok().map(|t| t.with_timezone(&Utc)),
        });
    }
    Ok(out)
}

/// The station whose board the actor runs: the first of theirs where the policy lets them
/// reassign cases (a deputy head's own station). Anyone else is refused.
fn board_station(actor: &Actor) -> Result<Id, AppError> {
    let mut denied = Denied { action: Action::Reassign, kind: EntityKind::Case, reason: DenyReason::NoRole };
    for station_id in actor.stations() {
        let target = Target { kind: EntityKind::Case, station_id: Some(station_id), case_worker_id: None };
        match policy::authorize(actor, Action::Reassign, &target) {
            Ok(()) => return Ok(station_id),
            Err(d) => denied = d,
        }
    }
    if actor.role.is_some() && denied.reason == DenyReason::NoRole {
        denied.reason = DenyReason::RoleCannot;
    }
    Err(AppError::Rejected(Rejection::Denied(denied)))
}

/// The station's stall threshold, and whether it sets one.
fn stall_threshold(store: &Store, station_id: Id) -> Result<(i64, bool), AppError> {
    let set = store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get(field::station::STALL_DAYS).and_then(Value::as_i64));
    Ok((set.unwrap_or(DEFAULT_STALL_DAYS), set.is_some()))
}

fn board_filter(station_id: Id, query: &CaseBoardQuery) -> CaseBoardFilter {
    CaseBoardFilter {
        station_id: Some(station_id),
        stage: None,
        worker_id: query.worker_id,
        village_id: query.village_id,
        category: query.category,
        risk_level: query.risk_level,
        include_closed: query.include_closed,
        limit: usize::MAX,
        offset: 0,
    }
}

fn card(row: CaseBoardRow, stall_days: i64, overdue: &BTreeSet<Uuid>) -> BoardCard {
    let stage = row.stage.unwrap_or(Stage::Identify);
    let closure_status = row.closure_status.unwrap_or(ClosureStatus::Open);
    let open = stage != Stage::Closed;
    let named = |id: Option<Uuid>, name: Option<String>| id.zip(name).map(|(id, name)| NamedRef { id, name });
    BoardCard {
        case_id: row.case_id,
        recipient: named(row.recipient_id, row.recipient_name),
        worker: named(row.worker_id, row.worker_name),
        village: named(row.village_id, row.village_name),
        stage,
        closure_status,
        stage_entered_on: row.stage_entered_on,
        days_in_stage: row.days_in_stage,
        risk_level: row.risk_level,
        stalled: open && row.days_in_stage.is_some_and(|d| d > stall_days),
        follow_up_overdue: open && overdue.contains(&row.case_id),
        reassignable: open && closure_status != ClosureStatus::Requested,
    }
}

/// The station's active social workers and deputy heads, by name.
fn station_workers(store: &Store, station_id: Id) -> Result<Vec<NamedRef>, AppError> {
    let mut workers: Vec<NamedRef> = store
        .list(EntityKind::User, Some(station_id))?
        .into_iter()
        .filter_map(|u| u.to_typed::<User>().ok())
        .filter(|u| {
            u.active
                && matches!(u.role, RoleKind::SocialWorker | RoleKind::DeputyHead)
                && u.station_id == Some(station_id)
        })
        .map(|u| NamedRef { id: u.id, name: u.display_name })
        .collect();
    workers.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(workers)
}

fn station_villages(store: &Store, station_id: Id) -> Result<Vec<NamedRef>, AppError> {
    let mut villages: Vec<NamedRef> = store
        .list(EntityKind::Village, Some(station_id))?
        .into_iter()
        .map(|v| NamedRef { id: v.id, name: v.get_str(field::village::NAME).unwrap_or_default().to_string() })
        .collect();
    villages.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(villages)
}

fn station_ref(store: &Store, station_id: Id) -> Result<NamedRef, AppError> {
    let name = store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get_str(field::station::NAME).map(str::to_string))
        .unwrap_or_default();
    Ok(NamedRef { id: station_id, name })
}

/// A user's display name, when this computer holds their record.
pub(crate) fn user_name(store: &Store, id: Id) -> Result<Option<String>, AppError> {
    Ok(store.entity(EntityKind::User, id)?.and_then(|u| u.get_str(field::user::DISPLAY_NAME).map(str::to_string)))
}

fn bar(count: NamedCount) -> BarCount {
    BarCount { id: count.id, name: count.name.unwrap_or_default(), count: count.count }
}

/// A value as a note shows it; `None` for no value.
fn shown_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("是 / yes".into()),
        Value::Bool(false) => Some("否 / no".into()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use contract::{CaseBoardQuery, CaseRecordKind, CommandError, FieldValues};
    use domain::case::{RiskLevel, Stage};
    use domain::change::Write;
    use domain::entity::{EntityKind, EntityState, field};
    use domain::org::Role;
    use domain::policy::Actor;
    use domain::rules::{LookupError, StateView};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::case::{open_case, save_case_record};
    use crate::testing::{Station, today};

    /// The fixture's station with a second social worker.
    fn with_second_worker(s: &mut Station) -> Actor {
        let id = Uuid::now_v7();
        let admin = Actor::new(Uuid::now_v7(), Some(Role::Admin));
        let write = Write::create(EntityKind::User, id)
            .set(field::user::USERNAME, format!("u{}", id.simple()))
            .set(field::user::DISPLAY_NAME, "李社工")
            .set(field::user::ROLE, "SocialWorker")
            .set(field::STATION_ID, s.id.to_string())
            .set(field::user::ACTIVE, true);
        let at = s.moment();
        s.store.record(&admin, vec![write], at.now, at.today).expect("second worker");
        Actor::new(id, Some(Role::SocialWorker { station_id: s.id }))
    }

    /// The store's state without one record: the server's, which never received it.
    struct Without<'a> {
        store: &'a Store,
        hidden: Uuid,
    }

    impl StateView for Without<'_> {
        fn entity(&self, kind: EntityKind, id: Uuid) -> Result<Option<EntityState>, LookupError> {
            if id == self.hidden { Ok(None) } else { StateView::entity(self.store, kind, id) }
        }
        fn case_records(&self, case_id: Uuid) -> Result<Vec<EntityState>, LookupError> {
            let records = StateView::case_records(self.store, case_id)?;
            Ok(records.into_iter().filter(|r| r.id != self.hidden).collect())
        }
        fn cases_of_recipient(&self, recipient_id: Uuid) -> Result<Vec<EntityState>, LookupError> {
            StateView::cases_of_recipient(self.store, recipient_id)
        }
    }

    fn open(s: &mut Station, name: &str, sequence: u32, opened_days_ago: i64) -> Uuid {
        let recipient = s.add_recipient(name, sequence);
        let at = s.moment();
        let worker = s.worker.clone();
        open_case(&mut s.store, &worker, recipient, Some(today() - Duration::days(opened_days_ago)), at)
            .expect("opened")
            .case_id
    }

    fn cards(board: &CaseBoard) -> Vec<(Stage, Uuid)> {
        board.columns.iter().flat_map(|c| c.cards.iter().map(|card| (c.stage, card.case_id))).collect()
    }

    fn code(error: AppError) -> String {
        CommandError::from(error).code
    }

    #[test]
    fn a_column_carries_a_screenful_longest_waiting_first_and_counts_them_all() {
        let mut s = Station::new();
        let oldest = open(&mut s, "张三", 11, 40);
        open(&mut s, "李四", 13, 20);
        open(&mut s, "王五", 15, 2);
        let deputy = s.deputy.clone();
        let two = CaseBoardQuery { shown_per_column: 2, ..CaseBoardQuery::default() };
        let board = case_board(&s.store, &deputy, &two, today()).expect("board");
        assert_eq!((board.columns[0].cards.len(), board.columns[0].total), (2, 3));
        assert_eq!(board.columns[0].cards[0].case_id, oldest);
        let all = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        assert_eq!((all.columns[0].cards.len(), all.columns[0].total), (3, 3));
    }

    #[test]
    fn the_board_has_a_column_per_open_stage_with_days_in_stage_and_stalled_cases_marked() {
        let mut s = Station::new();
        let old = open(&mut s, "张三", 11, 40);
        let new = open(&mut s, "李四", 13, 2);
        let deputy = s.deputy.clone();
        let board = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        assert_eq!(board.columns.iter().map(|c| c.stage).collect::<Vec<_>>(), &Stage::ALL[..6]);
        assert_eq!(cards(&board), [(Stage::Identify, old), (Stage::Identify, new)], "longest in its stage first");
        let first = &board.columns[0].cards[0];
        assert_eq!(first.days_in_stage, Some(40));
        assert_eq!(first.recipient.as_ref().map(|r| r.name.as_str()), Some("张三"));
        assert_eq!(first.worker.as_ref().map(|w| w.name.as_str()), Some("张社工"));
        assert_eq!(first.village.as_ref().map(|v| v.name.as_str()), Some("青山村"));
        assert_eq!((board.stall_days, board.stall_days_set), (DEFAULT_STALL_DAYS, false));
        assert!(first.stalled && !board.columns[0].cards[1].stalled, "over 30 days in the stage");
        assert!(board.may_reassign && board.may_set_stall_days);
        assert_eq!(board.station.name, "城关社工站");
        let workers: Vec<_> = board.options.workers.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(workers, ["张副站长", "张社工"]);
        assert_eq!(board.options.villages.len(), 2);

        let closed = CaseBoardQuery { include_closed: true, ..CaseBoardQuery::default() };
        let board = case_board(&s.store, &deputy, &closed, today()).expect("board");
        assert_eq!(board.columns.last().map(|c| c.stage), Some(Stage::Closed));
    }

    #[test]
    fn the_stall_threshold_is_the_stations_and_only_the_deputy_head_sets_it() {
        let mut s = Station::new();
        open(&mut s, "张三", 11, 20);
        let deputy = s.deputy.clone();
        let at = s.moment();
        set_stall_days(&mut s.store, &deputy, Some(14), at).expect("set");
        let board = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        assert_eq!((board.stall_days, board.stall_days_set), (14, true));
        assert!(board.columns[0].cards[0].stalled, "20 days is over 14");

        let at = s.moment();
        let error = set_stall_days(&mut s.store, &deputy, Some(0), at).expect_err("out of range");
        let error = CommandError::from(error);
        assert_eq!(error.field.as_deref(), Some(field::station::STALL_DAYS));
        assert!(error.message_zh.contains("停滞提醒天数"), "{}", error.message_zh);

        let at = s.moment();
        set_stall_days(&mut s.store, &deputy, None, at).expect("back to the default");
        let board = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        assert_eq!((board.stall_days, board.stall_days_set), (DEFAULT_STALL_DAYS, false));

        let worker = s.worker.clone();
        let at = s.moment();
        assert_eq!(code(set_stall_days(&mut s.store, &worker, Some(10), at).expect_err("a worker")), "role_cannot");
        assert_eq!(
            code(case_board(&s.store, &worker, &CaseBoardQuery::default(), today()).expect_err("no board")),
            "role_cannot"
        );
    }

    #[test]
    fn the_board_filters_by_worker_village_category_and_latest_risk_and_marks_overdue_goals() {
        let mut s = Station::new();
        let a = open(&mut s, "张三", 11, 10);
        let b = open(&mut s, "李四", 13, 10);
        let worker = s.worker.clone();
        let assess = |risk: &str| {
            FieldValues::from([
                ("assessed_on".to_string(), json!(today().to_string())),
                ("risk_level".to_string(), json!(risk)),
                ("needs_summary".to_string(), json!("日常照料")),
            ])
        };
        let at = s.moment();
        save_case_record(&mut s.store, &worker, b, CaseRecordKind::Assessment, assess("Critical"), None, at)
            .expect("assessed");
        let goal = FieldValues::from([
            ("description".to_string(), json!("落实临时救助")),
            ("target_date".to_string(), json!((today() - Duration::days(1)).to_string())),
        ]);
        let at = s.moment();
        save_case_record(&mut s.store, &worker, a, CaseRecordKind::Goal, goal, None, at).expect("goal");

        let deputy = s.deputy.clone();
        let board = |query: CaseBoardQuery| {
            cards(&case_board(&s.store, &deputy, &query, today()).expect("board"))
                .into_iter()
                .map(|(_, id)| id)
                .collect::<Vec<_>>()
        };
        let critical = CaseBoardQuery { risk_level: Some(RiskLevel::Critical), ..CaseBoardQuery::default() };
        assert_eq!(board(critical), [b]);
        let village2 = CaseBoardQuery { village_id: Some(s.village2), ..CaseBoardQuery::default() };
        assert!(board(village2).is_empty());
        let mine = CaseBoardQuery { worker_id: Some(worker.user_id), ..CaseBoardQuery::default() };
        assert_eq!(board(mine).len(), 2);
        let children =
            CaseBoardQuery { category: Some(RecipientCategory::LeftBehindChild), ..CaseBoardQuery::default() };
        assert!(board(children).is_empty());

        let full = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        let card_of = |id| full.columns.iter().flat_map(|c| &c.cards).find(|c| c.case_id == id).expect("card");
        assert!(card_of(a).follow_up_overdue, "a goal past its target date");
        assert!(!card_of(b).follow_up_overdue);
        assert_eq!(card_of(b).risk_level, Some(RiskLevel::Critical));
    }

    #[test]
    fn a_deputy_head_reassigns_a_case_to_a_worker_of_the_station_only() {
        let mut s = Station::new();
        let case = open(&mut s, "张三", 11, 5);
        let li = with_second_worker(&mut s);
        let deputy = s.deputy.clone();
        let at = s.moment();
        reassign_case(&mut s.store, &deputy, case, li.user_id, at).expect("reassigned");
        let board = case_board(&s.store, &deputy, &CaseBoardQuery::default(), today()).expect("board");
        assert_eq!(board.columns[0].cards[0].worker.as_ref().map(|w| w.name.as_str()), Some("李社工"));

        // A worker of another station, a supervisor's id, a worker reassigning: refused.
        let at = s.moment();
        let stranger = Uuid::now_v7();
        assert_eq!(
            code(reassign_case(&mut s.store, &deputy, case, stranger, at).expect_err("unknown")),
            "unknown_reference"
        );
        let worker = s.worker.clone();
        let at = s.moment();
        let refused = reassign_case(&mut s.store, &li, case, worker.user_id, at).expect_err("a worker");
        assert_eq!(code(refused), "role_cannot");
        // The same worker again changes nothing.
        let at = s.moment();
        reassign_case(&mut s.store, &deputy, case, li.user_id, at).expect("no change");
    }

    #[test]
    fn the_dashboard_counts_visits_this_month_open_cases_by_stage_and_stalled_ones() {
        let mut s = Station::new();
        let recipient = s.add_recipient("王五", 15);
        open(&mut s, "张三", 11, 40);
        let worker = s.worker.clone();
        for days_ago in [0, 3, 40] {
            let visit = Write::create(EntityKind::Visit, Uuid::now_v7())
                .set(field::STATION_ID, s.id.to_string())
                .set(field::visit::VILLAGE_ID, s.village.to_string())
                .set(field::visit::RECIPIENT_ID, recipient.to_string())
                .set(field::WORKER_ID, worker.user_id.to_string())
                .set(field::visit::VISITED_ON, (today() - Duration::days(days_ago)).to_string())
                .set(field::visit::OBSERVATIONS, "身体尚可")
                .set(field::visit::FOLLOW_UP_NEEDED, false);
            let at = s.moment();
            s.store.record(&worker, vec![visit], at.now, at.today).expect("visit");
        }
        let deputy = s.deputy.clone();
        let dashboard = station_dashboard(&s.store, &deputy, today()).expect("dashboard");
        assert_eq!(dashboard.month_from.to_string(), "2026-11-01");
        let by_worker: Vec<_> = dashboard.visits_by_worker.iter().map(|b| (b.name.as_str(), b.count)).collect();
        assert_eq!(by_worker, [("张社工", 2)], "the visit of 40 days ago was last month");
        let by_village: Vec<_> = dashboard.visits_by_village.iter().map(|b| (b.name.as_str(), b.count)).collect();
        assert_eq!(by_village, [("青山村", 2)]);
        assert_eq!(dashboard.open_by_stage.len(), 6);
        assert_eq!(dashboard.open_by_stage[0], StageCount { stage: Stage::Identify, count: 1 });
        assert_eq!((dashboard.closures_waiting, dashboard.stalled), (0, 1));
        assert_eq!((dashboard.refused_changes, dashboard.conflicts_open), (0, 0));
    }

    /// The old worker's offline edit of a case reassigned meanwhile: the server's rules (the same
    /// `check_change`) refuse it, naming the new worker; the device keeps it as a refused change,
    /// and offers it as a note to hand over.
    #[test]
    fn an_offline_edit_of_a_reassigned_case_is_refused_naming_the_new_worker_and_kept_to_hand_over() {
        let mut s = Station::new();
        let case = open(&mut s, "张三", 11, 5);
        let li = with_second_worker(&mut s);
        // Offline, the old worker records a service on the case (still theirs on this device).
        let worker = s.worker.clone();
        let screening = FieldValues::from([
            ("source".to_string(), json!("VisitScreening")),
            ("found_on".to_string(), json!(today().to_string())),
            ("notes".to_string(), json!("邻居反映老人独居")),
        ]);
        let at = s.moment();
        let saved = save_case_record(&mut s.store, &worker, case, CaseRecordKind::Screening, screening, None, at)
            .expect("recorded offline");
        let change = s
            .store
            .pending_changes(100)
            .expect("outbox")
            .into_iter()
            .find(|c| c.entity_id == saved.id)
            .expect("the change waits to be sent");

        // Meanwhile the deputy head reassigned the case. The server checks the change with the
        // same rules on its state: the case reassigned, the screening not there.
        let deputy = s.deputy.clone();
        let at = s.moment();
        reassign_case(&mut s.store, &deputy, case, li.user_id, at).expect("reassigned");
        let server = Without { store: &s.store, hidden: saved.id };
        let refusal = domain::rules::check_change(&worker, &change, &server, today()).expect_err("refused");
        let domain::rules::CheckError::Rejected(rejection) = refusal else { panic!("a lookup error: {refusal}") };
        let info = domain::rules::RejectionInfo::from(&rejection);
        assert_eq!(info.code, "not_assigned");
        assert!(info.message_zh.contains("改派给李社工"), "{}", info.message_zh);
        assert!(info.message_en.contains("now assigned to 李社工"), "{}", info.message_en);

        // The device is told: the screening is undone locally, the change kept with its content.
        s.store.mark_rejected(change.device_seq, info, None).expect("refused");
        assert!(s.store.entity(EntityKind::Screening, saved.id).expect("read").is_none());
        let handed = handed_over_changes(&s.store).expect("handed over");
        assert_eq!(handed.len(), 1);
        let note = &handed[0];
        assert_eq!((note.change_id, note.case_id, note.kind), (change.change_id, Some(case), EntityKind::Screening));
        assert_eq!(note.recipient_name.as_deref(), Some("张三"));
        assert_eq!(note.now_assigned_to.as_deref(), Some("李社工"));
        assert!(note.message_zh.contains("李社工"), "{}", note.message_zh);
        assert!(note.note_zh.contains("邻居反映老人独居") && note.note_zh.contains("备注"), "{}", note.note_zh);
        assert!(note.note_en.contains("notes: 邻居反映老人独居"), "{}", note.note_en);
    }
}
