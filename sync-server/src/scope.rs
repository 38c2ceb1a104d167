//! Who holds what: the reach of a user's devices, the audience of each log entry, the keys of the
//! checksum accumulators, and whether a user may read an entity. All derived from the server's
//! own records (the user's role, the entity's stations, the case's assigned worker).

use domain::entity::{Area, EntityKind, EntityState, checksum_fold};
use domain::org::{Role, User};
use domain::policy::{self, Action, Actor, Target};
use domain::{Id, field};

use crate::storage::{Audience, EntityRecord, Reach, ReadTx, StorageError};

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
        Some(Role::Supervisor { station_ids }) => {
            let mut stations = station_ids.clone();
            stations.sort();
            stations.dedup();
            Reach::Stations { stations, own_cases_of: None }
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
    let stations = record.state.station_ids();
    if stations.is_empty() {
        return vec![Audience { station_id: None, case_worker_id, target_user_id: None, organisation }];
    }
    stations
        .into_iter()
        .map(|s| Audience { station_id: Some(s), case_worker_id, target_user_id: None, organisation })
        .collect()
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
