//! What the pages behind the status bar's counts show: the changes waiting to be sent (and those
//! set aside, with their reasons), the open conflicts (a value that lost a concurrent edit, kept
//! beside the one that stands) and the probable duplicates (one person recorded twice).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::change::Op;
use domain::entity::EntityKind;
use domain::hlc::Hlc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::CommandError;

/// The record a change or a conflict is about, as a list names it and links to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLabel {
    pub kind: EntityKind,
    pub id: Uuid,
    /// The record's name; for a record without one (a visit, a case's stage record), the name of
    /// the person it is about. `None` when neither is known here.
    pub name: Option<String>,
    /// The person whose file shows the record, when known (the record itself for a recipient).
    #[serde(default)]
    pub recipient_id: Option<Uuid>,
    /// The case the record belongs to, when it is a case or one of its stage records.
    #[serde(default)]
    pub case_id: Option<Uuid>,
}

/// A field a change writes, with its label in both languages (the name when the kind's spec
/// lacks it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldLabel {
    pub field: String,
    pub label_zh: String,
    pub label_en: String,
}

/// A change recorded here and not yet accepted by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingChangeView {
    pub change_id: Uuid,
    pub record: RecordLabel,
    pub op: Op,
    /// When it was recorded (its clock stamp).
    pub recorded_at: Option<DateTime<Utc>>,
    /// The fields it writes, in the kind's order.
    pub fields: Vec<FieldLabel>,
    /// Set aside only: why the server could not take it as sent.
    #[serde(default)]
    pub reason: Option<CommandError>,
    /// Set aside only: when it was (last) set aside.
    #[serde(default)]
    pub set_aside_at: Option<DateTime<Utc>>,
}

/// The waiting-changes page: the outbox in the order it is sent, and the changes set aside.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingChanges {
    /// Every change waiting to be sent, set-aside ones included (the status bar's count).
    pub total: u64,
    /// The first changes to be sent, oldest first (at most [`WaitingChanges::SHOWN`]).
    pub waiting: Vec<WaitingChangeView>,
    /// The changes set aside, oldest first: each stays here with its local effect until it is
    /// sent again.
    pub set_aside: Vec<WaitingChangeView>,
}

impl WaitingChanges {
    /// How many waiting changes the page lists (the rest are counted in `total`).
    pub const SHOWN: usize = 500;
}

/// One side of a conflict: a value of the field, who wrote it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    /// `null`: the field was cleared.
    pub value: Value,
    pub hlc: Hlc,
    /// When it was written (its clock stamp).
    pub at: Option<DateTime<Utc>>,
    pub author_id: Option<Uuid>,
    pub author_name: Option<String>,
    /// The device it was written on (its clock stamp's).
    #[serde(default)]
    pub device_id: Option<Uuid>,
    /// Written on this computer (under its current device id).
    #[serde(default)]
    pub this_device: bool,
}

/// An open conflict: a value that lost a concurrent edit of the field, kept beside the value
/// that stands, for a person to choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictView {
    pub record: RecordLabel,
    pub field: FieldLabel,
    pub lost: ConflictValue,
    pub current: ConflictValue,
    /// The names of the records the two values refer to (a village, a household), by id.
    #[serde(default)]
    pub names: BTreeMap<Uuid, String>,
}

/// Which value of a conflict a person keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepValue {
    /// The value that lost the concurrent edit.
    Lost,
    /// The value that stands now.
    Current,
    /// Neither: a third value the person typed ([`ConflictChoice::typed`]).
    Typed,
}

/// A person's choice on a conflict: the conflict (the record, the field and the lost value's
/// stamp), the value that stood when they looked, and which one to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictChoice {
    pub entity_kind: EntityKind,
    pub entity_id: Uuid,
    pub field: String,
    pub lost_hlc: Hlc,
    pub current_hlc: Hlc,
    pub keep: KeepValue,
    /// With [`KeepValue::Typed`]: the value typed, as a spec-driven form sends it (checked
    /// against the field's spec before anything is written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed: Option<Value>,
}

/// A recipient of a probable duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateRecipient {
    pub id: Uuid,
    pub name: String,
    pub village: Option<String>,
    /// When the record was made (its creation stamp).
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
}

/// Recipients of one station sharing a resident ID number: probably one person recorded twice
/// (on two laptops offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateView {
    /// The last four characters of the shared ID number.
    pub id_number_tail: String,
    pub recipients: Vec<DuplicateRecipient>,
}

/// The conflicts page: the open conflicts and the probable duplicates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConflictsPage {
    pub conflicts: Vec<ConflictView>,
    pub duplicates: Vec<DuplicateView>,
}
