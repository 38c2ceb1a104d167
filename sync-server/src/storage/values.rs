//! The text forms of values as both backends store them (ids, times, JSON, the codes of kinds
//! and areas, hand-over states), and the errors of reading them back: one definition, so the two
//! backends' tables hold the same text for the same value.

use chrono::{DateTime, Utc};
use domain::change::Incoming;
use domain::entity::{Area, EntityKind};
use domain::{Id, Labelled};
use protocol::HandOverState;

use super::StorageError;

pub(super) fn kind_ord(kind: EntityKind) -> i64 {
    EntityKind::ALL.iter().position(|k| *k == kind).unwrap_or(usize::MAX) as i64
}

pub(super) fn area_code(kind: EntityKind) -> i64 {
    match kind.area() {
        Area::Organisation => 0,
        Area::Roster => 1,
        Area::Case => 2,
        Area::Workforce => 3,
    }
}

pub(super) fn parse_id(text: &str) -> Result<Id, StorageError> {
    Id::try_parse(text).map_err(|e| corrupt("id", e))
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| corrupt("time", e))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Backend(format!("cannot encode: {e}")))
}

pub(super) fn opt_id(id: Option<Id>) -> Option<String> {
    id.map(|i| i.to_string())
}

pub(super) fn hand_over_state_text(state: HandOverState) -> &'static str {
    match state {
        HandOverState::Offered => "offered",
        HandOverState::TakenOver => "taken_over",
        HandOverState::Dismissed => "dismissed",
    }
}

pub(super) fn parse_hand_over_state(text: &str) -> Result<HandOverState, StorageError> {
    match text {
        "offered" => Ok(HandOverState::Offered),
        "taken_over" => Ok(HandOverState::TakenOver),
        "dismissed" => Ok(HandOverState::Dismissed),
        other => Err(StorageError::Corrupt(format!("hand-over state {other:?}"))),
    }
}

pub(super) fn incoming_subject(item: &Incoming) -> (EntityKind, Id, Option<Id>) {
    match item {
        Incoming::Change(change) => (change.entity, change.entity_id, Some(change.change_id)),
        Incoming::Snapshot(state) => (state.kind, state.id, None),
        Incoming::Evict { entity, entity_id, .. } => (*entity, *entity_id, None),
    }
}

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}
