//! Handed-over changes: a change refused only because its case had been reassigned to another
//! worker while its author worked offline is kept on the server (with its payload) and offered
//! to the case's current worker and the station's deputy heads, who take it over (record its
//! content again as their own change, on their device) or dismiss it. See
//! `docs/sync-protocol.md`, "Offline edits of a reassigned case".
//!
//! Who may see and decide an offered change is `domain::policy::authorize` with
//! `Action::TakeOver` on the case as it stands now; this module only gathers and stores.

use chrono::{DateTime, Utc};
use domain::change::Change;
use domain::entity::{Area, EntityKind};
use domain::org::Role;
use domain::policy::{Action, Actor, DenyReason, Target, authorize};
use domain::rules::Rejection;
use domain::{Id, field};
use protocol::{ApiError, HandOverDecisionRequest, HandOverState, HandedOverItem, HandedOverResponse};

use crate::error::{FORBIDDEN, NOT_FOUND};
use crate::scope::actor_of;
use crate::server::{Server, authenticate};
use crate::storage::{HandedOverRecord, ReadTx, StorageError, WriteTx};

/// Keeps `change` as handed over when the server refused it only because its case is assigned
/// to someone else: the rejection is `not_assigned`, the change is to a case or one of its
/// records, its author is the signed-in user and a social worker of the case's station, and it
/// came from the signed-in device. A forged change (another author or device) is refused before
/// the rules and never reaches here; one outside the author's station is `outside_station`.
/// Kept once per change id. Returns whether it was kept now.
pub(crate) fn keep_if_handed_over(
    tx: &mut dyn WriteTx,
    actor: &Actor,
    device_id: Id,
    change: &Change,
    rejection: &Rejection,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let not_assigned = match rejection {
        Rejection::AssignedElsewhere { denied, .. } | Rejection::Denied(denied) => {
            denied.reason == DenyReason::NotAssigned
        }
        _ => false,
    };
    if !not_assigned
        || change.entity.area() != Area::Case
        || change.author_id != actor.user_id
        || change.device_id != device_id
    {
        return Ok(false);
    }
    let Some(Role::SocialWorker { station_id }) = actor.role else { return Ok(false) };
    let Some(case_id) = case_of(&*tx, change)? else { return Ok(false) };
    let Some(case) = tx.entity(EntityKind::Case, case_id)? else { return Ok(false) };
    if case.state.station_id() != Some(station_id) || case.case_worker_id == Some(actor.user_id) {
        return Ok(false);
    }
    tx.put_handed_over(&HandedOverRecord {
        change: change.clone(),
        device_id,
        station_id,
        case_id,
        author_id: actor.user_id,
        refused_at: at,
        state: HandOverState::Offered,
        decided_by: None,
        decided_at: None,
    })
}

/// The case a change is about: itself, or the case its record names (a record's update names
/// none, so the record as the server holds it does).
fn case_of(tx: &dyn ReadTx, change: &Change) -> Result<Option<Id>, StorageError> {
    if change.entity == EntityKind::Case {
        return Ok(Some(change.entity_id));
    }
    if let Some(case_id) = change.id_value(field::CASE_ID) {
        return Ok(Some(case_id));
    }
    Ok(tx.entity(change.entity, change.entity_id)?.and_then(|r| r.state.get_id(field::CASE_ID)))
}

/// Whether `actor` may take over or dismiss the record: the case's current worker, or a deputy
/// head of the case's station (as the case stands now).
fn may_decide(tx: &dyn ReadTx, actor: &Actor, record: &HandedOverRecord) -> Result<bool, StorageError> {
    let (station_id, case_worker_id) = match tx.entity(EntityKind::Case, record.case_id)? {
        Some(case) => (case.state.station_id(), case.case_worker_id),
        None => (Some(record.station_id), None),
    };
    let target = Target { kind: EntityKind::Case, station_id, case_worker_id };
    Ok(authorize(actor, Action::TakeOver, &target).is_ok())
}

fn item(tx: &dyn ReadTx, record: HandedOverRecord) -> Result<HandedOverItem, StorageError> {
    let author_name = tx
        .entity(EntityKind::User, record.author_id)?
        .and_then(|u| u.state.get_str(field::user::DISPLAY_NAME).map(str::to_owned));
    Ok(HandedOverItem {
        change: record.change,
        station_id: record.station_id,
        case_id: record.case_id,
        author_id: record.author_id,
        author_name,
        refused_at: record.refused_at,
        state: record.state,
        decided_by: record.decided_by,
        decided_at: record.decided_at,
    })
}

/// `GET /v1/handed-over`: the offered changes of the caller's stations they may decide on.
pub(crate) fn offered(server: &Server, bearer: &str) -> Result<HandedOverResponse, ApiError> {
    // Lookups that need not agree with each other: each item is offered as its case stands when
    // it is read, and a decision checks again in its own write transaction.
    let tx = server.storage().read_one()?;
    let token = authenticate(&*tx, bearer, server.now())?;
    let actor = actor_of(&*tx, token.user_id)?;
    let mut items = Vec::new();
    for station_id in actor.stations() {
        for record in tx.handed_over_offered(station_id)? {
            if may_decide(&*tx, &actor, &record)? {
                items.push(item(&*tx, record)?);
            }
        }
    }
    Ok(HandedOverResponse { items })
}

/// `POST /v1/handed-over/{change_id}`: records the caller's decision, once; answers the item
/// as it stands (a later decision gets the first one's answer).
pub(crate) fn decide(
    server: &Server,
    bearer: &str,
    change_id: Id,
    request: HandOverDecisionRequest,
) -> Result<HandedOverItem, ApiError> {
    let now = server.now();
    let mut tx = server.storage().write()?;
    let token = authenticate(&*tx, bearer, now)?;
    let actor = actor_of(&*tx, token.user_id)?;
    let not_found = || ApiError::new(NOT_FOUND, "没有这条转交的修改", "no such handed-over change");
    let record = tx.handed_over(change_id)?.ok_or_else(not_found)?;
    if !may_decide(&*tx, &actor, &record)? {
        return Err(ApiError::new(
            FORBIDDEN,
            "只有该个案现在的负责社工或本站副站长可以处理这条转交的修改",
            "only the case's current worker or a deputy head of its station may decide on this handed-over change",
        ));
    }
    if record.state == HandOverState::Offered
        && tx.decide_handed_over(change_id, request.decision.state(), actor.user_id, now)?
    {
        tracing::info!(change = %change_id, by = %actor.user_id, decision = ?request.decision, "handed-over change decided");
    }
    let record = tx.handed_over(change_id)?.ok_or_else(not_found)?;
    let answer = item(&*tx, record)?;
    tx.commit()?;
    Ok(answer)
}
