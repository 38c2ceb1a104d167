//! The supervisor's (督导) use cases: the queue of closure requests across every station they
//! supervise, signing a closure off (the seal made on this device with its own key, offline
//! too), returning it to the worker with comments, and reopening a signed-off case with the
//! reason.
//!
//! No rule is decided here: who may decide or reopen is `domain::policy::authorize`, and every
//! write goes through `Store::record` (so `domain::rules::check_change`, which verifies the
//! seal, requires a return's comments and moves the reopen generation). A use case only checks
//! what was typed, builds the writes, and shapes what the screens show.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::NaiveDate;
use contract::{CasePage, ClosureQueueRow, NamedRef, ReopeningView};
use domain::Labelled;
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::change::{Op, Write};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::policy::{self, Action, Actor, Target};
use domain::rules::StateView;
use domain::signoff;
use domain::validate::Invalid;
use store::{Store, StoreError};
use uuid::Uuid;

use crate::case::{Names, case_page, held_case};
use crate::{AppError, Moment};

/// The closure requests of every station `actor` may decide closures for (a supervisor's
/// stations; none for other roles), the oldest request first.
pub fn closure_queue(store: &Store, actor: &Actor, at: Moment) -> Result<Vec<ClosureQueueRow>, AppError> {
    let stations: Vec<Uuid> = actor
        .stations()
        .into_iter()
        .filter(|station| {
            let target = Target { kind: EntityKind::ClosureDecision, station_id: Some(*station), case_worker_id: None };
            policy::authorize(actor, Action::DecideClosure, &target).is_ok()
        })
        .collect();
    let cases = store.closure_requests(&stations)?;
    let mut names = Names::new(store);
    let mut station_names: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let Some(station_id) = case.station_id() else { continue };
        let station_name = match station_names.entry(station_id) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(slot) => {
                let name = store
                    .entity(EntityKind::Station, station_id)?
                    .and_then(|s| s.get_str(field::station::NAME).map(str::to_string))
                    .unwrap_or_default();
                slot.insert(name).clone()
            }
        };
        let recipient = match case.get_id(field::case::RECIPIENT_ID) {
            Some(id) => Some(NamedRef {
                id,
                name: store
                    .entity(EntityKind::Recipient, id)?
                    .and_then(|r| r.get_str(field::recipient::NAME).map(str::to_string))
                    .unwrap_or_default(),
            }),
            None => None,
        };
        let requested_on = case.get_str(field::case::CLOSURE_REQUESTED_ON).and_then(|d| d.parse::<NaiveDate>().ok());
        rows.push(ClosureQueueRow {
            case_id: case.id,
            station: NamedRef { id: station_id, name: station_name },
            recipient,
            worker: names.user(case.get_id(field::case::WORKER_ID))?,
            requested_on,
            days_waiting: requested_on.map(|on| (at.today - on).num_days()),
            summary: case.get_str(field::case::CLOSURE_SUMMARY).map(str::to_string),
        });
    }
    Ok(rows)
}

/// Signs the requested closure off: the seal (the case's digest, its reopen generation, the
/// signature and the public key) is made here with this device's signing key, and recorded
/// with the decision and the case's move to 结案 in one batch. Needs no network.
pub fn sign_off_closure(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    comments: Option<&str>,
    at: Moment,
) -> Result<CasePage, AppError> {
    let case = held_case(store, case_id)?;
    let records = store.case_records(case_id).map_err(|e| AppError::Store(StoreError::Lookup(e)))?;
    let key = store.signing_key()?;
    let comments = comments.map(str::trim).filter(|c| !c.is_empty());
    let decision = decision_write(actor, &case, ClosureDecisionKind::SignedOff, comments, at)?;
    let writes = vec![
        signoff::seal(&key, &case, &records).set_on(decision),
        Write::update(EntityKind::Case, case_id)
            .set(field::case::STAGE, Stage::Closed.as_str())
            .set(field::case::CLOSURE_STATUS, ClosureStatus::SignedOff.as_str())
            .set(field::case::STAGE_ENTERED_ON, at.today.to_string()),
    ];
    store.record(actor, writes, at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// Returns the requested closure to the worker with the supervisor's `comments` (required),
/// which the worker then sees on the case.
pub fn return_closure(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    comments: &str,
    at: Moment,
) -> Result<CasePage, AppError> {
    let case = held_case(store, case_id)?;
    let comments = required(EntityKind::ClosureDecision, field::closure_decision::COMMENTS, comments)?;
    let writes = vec![
        decision_write(actor, &case, ClosureDecisionKind::Returned, Some(&comments), at)?,
        Write::update(EntityKind::Case, case_id)
            .set(field::case::CLOSURE_STATUS, ClosureStatus::Returned.as_str())
            .set(field::case::CLOSURE_COMMENTS, comments),
    ];
    store.record(actor, writes, at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// Reopens a signed-off case with the `reason` (required): back to 跟踪问效, open again, in
/// its next reopen generation (which the earlier seal no longer matches). Who may is the
/// policy's `Action::Reopen`; the reason, its author and time are the case's history.
pub fn reopen_case(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    reason: &str,
    at: Moment,
) -> Result<CasePage, AppError> {
    let case = held_case(store, case_id)?;
    let reason = required(EntityKind::Case, field::case::REOPEN_REASON, reason)?;
    let write = Write::update(EntityKind::Case, case_id)
        .set(field::case::STAGE, Stage::FollowUp.as_str())
        .set(field::case::CLOSURE_STATUS, ClosureStatus::Open.as_str())
        .set(field::case::STAGE_ENTERED_ON, at.today.to_string())
        .set(field::case::REOPEN_GENERATION, signoff::case_generation(&case).saturating_add(1))
        .set(field::case::REOPEN_REASON, reason);
    store.record(actor, vec![write], at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// Every reopening of the case, oldest first, from its history: each change that moved the
/// reopen generation, with its author, time and the reason written with it.
pub(crate) fn reopenings(store: &Store, case_id: Uuid, names: &mut Names<'_>) -> Result<Vec<ReopeningView>, AppError> {
    let mut out = Vec::new();
    for entry in store.history(case_id)? {
        if entry.op != Op::Update {
            continue;
        }
        let Some(generation) = entry.fields.get(field::case::REOPEN_GENERATION).and_then(|v| v.as_i64()) else {
            continue;
        };
        out.push(ReopeningView {
            generation,
            reason: entry.fields.get(field::case::REOPEN_REASON).and_then(|v| v.as_str()).map(str::to_string),
            reopened_by: names.user(Some(entry.author_id))?,
            reopened_at: entry.at,
        });
    }
    Ok(out)
}

/// The decision record: the case's station, the deciding supervisor, when.
fn decision_write(
    actor: &Actor,
    case: &EntityState,
    kind: ClosureDecisionKind,
    comments: Option<&str>,
    at: Moment,
) -> Result<Write, AppError> {
    let station_id = case.station_id().ok_or(AppError::NotFound(EntityKind::Station))?;
    Ok(Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
        .set(field::STATION_ID, station_id.to_string())
        .set(field::CASE_ID, case.id.to_string())
        .set(field::closure_decision::SUPERVISOR_ID, actor.user_id.to_string())
        .set(field::closure_decision::DECISION, kind.as_str())
        .set_opt(field::closure_decision::COMMENTS, comments.map(str::to_string))
        .set(field::closure_decision::DECIDED_AT, at.now.to_rfc3339()))
}

/// What was typed for a required text field, trimmed; an empty one is refused at the field, in
/// both languages.
fn required(kind: EntityKind, name: &str, typed: &str) -> Result<String, AppError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(AppError::at(kind, name, Invalid::Required));
    }
    Ok(typed.to_string())
}
