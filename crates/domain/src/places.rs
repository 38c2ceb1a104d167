//! Deactivated stations and villages. An administrator deactivates a station that closed or a
//! village merged into another (`shegong-sync admin deactivate`); its records stay as they are,
//! readable and editable, but nobody new is placed in it: a new recipient, household or visit
//! naming it, or a recipient moved into it, is refused ([`check_places_active`], run by
//! `rules::check_change` on the device and the server alike).

use serde_json::Value;

use crate::change::Change;
use crate::entity::{EntityKind, EntityState};
use crate::field;
use crate::rules::{CheckError, Rejection, StateView};

/// The kinds whose records are placed in a station and a village, with the fields naming them.
const PLACED: &[(EntityKind, &[(&str, EntityKind)])] = &[
    (
        EntityKind::Recipient,
        &[(field::recipient::STATION_ID, EntityKind::Station), (field::recipient::VILLAGE_ID, EntityKind::Village)],
    ),
    (
        EntityKind::Household,
        &[(field::household::STATION_ID, EntityKind::Station), (field::household::VILLAGE_ID, EntityKind::Village)],
    ),
    (
        EntityKind::Visit,
        &[(field::visit::STATION_ID, EntityKind::Station), (field::visit::VILLAGE_ID, EntityKind::Village)],
    ),
];

/// Whether a station or village is in use: a record made before the field existed has none,
/// and counts as active.
pub fn is_active(place: &EntityState) -> bool {
    let active = match place.kind {
        EntityKind::Station => field::station::ACTIVE,
        EntityKind::Village => field::village::ACTIVE,
        _ => return true,
    };
    place.get(active).and_then(Value::as_bool) != Some(false)
}

/// Refuses a change that places a record in a deactivated station or village: a creation
/// naming one, or an edit moving the record into one. A field the change names again with the
/// value it already had (an edit of someone placed before the deactivation) is not a move.
pub fn check_places_active(
    change: &Change,
    current: Option<&EntityState>,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let Some((_, fields)) = PLACED.iter().find(|(kind, _)| *kind == change.entity) else {
        return Ok(());
    };
    for (name, place_kind) in *fields {
        let Some(place_id) = change.id_value(name) else { continue };
        if current.and_then(|c| c.get_id(name)) == Some(place_id) {
            continue;
        }
        if let Some(place) = view.entity(*place_kind, place_id)?
            && !is_active(&place)
        {
            return Err(Rejection::PlaceDeactivated { kind: *place_kind, field: (*name).to_owned() }.into());
        }
    }
    Ok(())
}
