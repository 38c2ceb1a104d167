//! Who holds what: the reach of a user's devices, the audience of each log entry, the keys of the
//! checksum accumulators, and whether a user may read an entity. All derived from the server's
//! own records (the user's role, the entity's stations, the case's assigned worker).

use domain::case::ClosureStatus;
use domain::entity::{Area, EntityKind, EntityState, checksum_fold};
use domain::org::{Role, User};
use domain::policy::{self, Action, Actor, Target};
use domain::{Id, field};

use crate::storage::{Audience, EntityRecord, Reach, ReadTx, StorageError, Supervision};

/// The actor of a user, from the server's own user record: an inactive or unknown user, or a
/// record without its station, has no role and may do nothing.
pub(crate) fn actor_of(tx: &dyn ReadTx, user_id: Id) -> Result<Actor, StorageError> {
    let role = tx
        .entity(EntityKind::User, user_id)?
        .and_then(|r| r.state.to_typed::<User>().ok())
        .filter(|u| u.active)
        .and_then(|u| u.role());
    Ok(Actor::new(user_id, role))
}

/// What a user's devices hold.
pub(crate) fn reach_of(actor: &Actor) -> Reach {
    match &actor.role {
        Some(Role::SocialWorker { station_id }) => {
            Reach::Stations { stations: vec![*station_id], own_cases_of: Some(actor.user_id) }
        }
        Some(Role::DeputyHead { station_id }) => Reach::Stations { stations: vec![*station_id], own_cases_of: None },
        // A supervisor decides closures: their laptop holds what waits for them, not five
        // stations' rosters (see `supervised`).
        Some(Role::Supervisor { station_ids }) => {
            let mut stations = station_ids.clone();
            stations.sort();
            stations.dedup();
            Reach::Supervision { stations }
        }
        Some(Role::Admin) => Reach::Organisation,
        None => Reach::Nothing,
    }
}

/// The worker whose devices hold a case-area entity: the case's assigned worker.
pub(crate) fn case_worker_of(tx: &dyn ReadTx, state: &EntityState) -> Result<Option<Id>, StorageError> {
    match state.kind {
        EntityKind::Case => Ok(state.get_id(field::case::WORKER_ID)),
        kind if kind.is_case_record() => {
            let Some(case_id) = state.get_id(field::CASE_ID) else { return Ok(None) };
            Ok(tx.entity(EntityKind::Case, case_id)?.and_then(|case| case.state.get_id(field::case::WORKER_ID)))
        }
        _ => Ok(None),
    }
}

/// The audience rows of an entry about this entity as it now stands: one per station holding it
/// (or one without a station, seen by administrators only, for a user of no station).
pub(crate) fn audiences(record: &EntityRecord) -> Vec<Audience> {
    let kind = record.state.kind;
    let organisation = kind.area() == Area::Organisation;
    let case_worker_id = if kind.area() == Area::Case { record.case_worker_id } else { None };
    let supervision = Supervision::of(record.supervised);
    let stations = record.state.station_ids();
    if stations.is_empty() {
        return vec![Audience { station_id: None, case_worker_id, target_user_id: None, organisation, supervision }];
    }
    stations
        .into_iter()
        .map(|s| Audience { station_id: Some(s), case_worker_id, target_user_id: None, organisation, supervision })
        .collect()
}

/// Whether the supervisors of the entity's stations hold it, as it now stands (`old`: as it
/// stood before this change, if it existed). A supervisor's laptop holds:
/// - the organisation (stations, points, villages, users: names on every screen), the
///   workforce's records (their supervision page) and the resource library (a case's links
///   name its resources);
/// - a case waiting for their decision (`closure_status` Requested) and its stage records;
/// - the recipient of such a case, and the recipient's visits (the review shows the recent
///   ones).
///
/// Nothing else: not the roster, not referrals, not activities, not cases at other stages. A
/// case returned or signed off leaves the laptop at the next round, with what came with it
/// (unless another waiting case of the same person keeps it): the supervisor's screens reach a
/// case only through the queue of waiting ones, so keeping decided cases would grow the laptop
/// by every closure, for years, with what no screen shows; the station's laptops and the server
/// keep them, seals included, and a deputy head reopens one as a supervisor may.
///
/// The recipient's flag is changed only when a case of theirs enters or leaves the queue
/// (`Batch::apply`); a change of the recipient keeps it.
pub(crate) fn supervised(
    tx: &dyn ReadTx,
    state: &EntityState,
    old: Option<&EntityRecord>,
) -> Result<bool, StorageError> {
    let kind = state.kind;
    Ok(match kind.area() {
        Area::Organisation | Area::Workforce => true,
        _ if kind == EntityKind::Resource => true,
        Area::Case if kind == EntityKind::Case => waiting_for_decision(state),
        Area::Case => match state.get_id(field::CASE_ID) {
            Some(case_id) => tx.entity(EntityKind::Case, case_id)?.is_some_and(|case| case.supervised),
            None => false,
        },
        _ if kind == EntityKind::Recipient => old.is_some_and(|o| o.supervised),
        _ if kind == EntityKind::Visit => match state.get_id(field::RECIPIENT_ID) {
            Some(recipient_id) => tx.entity(EntityKind::Recipient, recipient_id)?.is_some_and(|r| r.supervised),
            None => false,
        },
        Area::Roster => false,
    })
}

/// A case whose closure was requested and not yet decided: what a supervisor's queue lists.
pub(crate) fn waiting_for_decision(case: &EntityState) -> bool {
    case.kind == EntityKind::Case
        && case.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS) == Some(ClosureStatus::Requested)
}

/// The accumulators this entity's digest is folded into: the roster's of each of its stations,
/// or for cases and their records, the (station, assigned worker) one.
pub(crate) fn accumulator_keys(record: &EntityRecord) -> Vec<(Id, Option<Id>)> {
    let case_worker = if record.state.kind.area() == Area::Case { record.case_worker_id } else { None };
    record.state.station_ids().into_iter().map(|s| (s, case_worker)).collect()
}

/// The value an entity contributes to its accumulators.
pub(crate) fn contribution(state: &EntityState) -> u64 {
    checksum_fold(0, &state.digest())
}

/// Whether `actor` may read the entity in station `station_id` with this case worker.
pub(crate) fn may_read_in(actor: &Actor, kind: EntityKind, station_id: Option<Id>, case_worker_id: Option<Id>) -> bool {
    policy::authorize(actor, Action::Read, &Target { kind, station_id, case_worker_id }).is_ok()
}

/// Whether `actor` may read the entity anywhere it is held.
pub(crate) fn may_read(actor: &Actor, record: &EntityRecord) -> bool {
    let kind = record.state.kind;
    let stations = record.state.station_ids();
    if stations.is_empty() {
        return may_read_in(actor, kind, None, record.case_worker_id);
    }
    stations.into_iter().any(|s| may_read_in(actor, kind, Some(s), record.case_worker_id))
}

/// The checksum of what a supervisor's devices hold of one station: folded from the station's
/// supervised rows when asked (the supervisors' scope is small; the accumulators are the
/// roster's and the workers').
pub(crate) fn supervision_checksum(tx: &dyn ReadTx, station_id: Id, reach: &Reach) -> Result<u64, StorageError> {
    let mut checksum = 0;
    let mut after = None;
    loop {
        let page = tx.entities_of_station(station_id, reach, after, SUPERVISION_PAGE)?;
        for state in &page {
            checksum ^= contribution(state);
        }
        match page.last() {
            Some(last) if page.len() == SUPERVISION_PAGE as usize => after = Some((last.kind, last.id)),
            _ => return Ok(checksum),
        }
    }
}

/// Rows read at a time for a supervisor's checksum.
const SUPERVISION_PAGE: u32 = 2_000;
