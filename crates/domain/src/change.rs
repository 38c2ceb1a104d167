//! A change: one write to one entity, as recorded in a device's outbox, sent to the server, kept
//! in its log and pulled by other devices. It is also the audit trail: who changed what, when.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::Id;
use crate::entity::EntityKind;
use crate::hlc::Hlc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Makes a new entity with every required field.
    Create,
    /// Sets some fields of an existing entity.
    Update,
}

/// The new value of one field, with the stamp of the value the author saw (see
/// [`crate::entity::FieldClock::base`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldWrite {
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Hlc>,
    /// Conflicting values of this field the author has looked at and settled with this write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolves: Vec<Hlc>,
}

impl FieldWrite {
    pub fn new(value: impl Into<Value>) -> Self {
        Self { value: value.into(), base: None, resolves: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// UUIDv7 made on the device.
    pub change_id: Uuid,
    pub device_id: Uuid,
    /// Dense per device: 1, 2, 3, ... with no gaps. The server processes a device's changes in
    /// this order and answers a resend with its stored answer.
    pub device_seq: u64,
    pub author_id: Id,
    /// The change format's version; see `crate::SCHEMA_VERSION`.
    pub schema_version: u32,
    pub hlc: Hlc,
    pub entity: EntityKind,
    pub entity_id: Id,
    pub op: Op,
    pub fields: BTreeMap<String, FieldWrite>,
}

impl Change {
    pub fn value(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).map(|w| &w.value).filter(|v| !v.is_null())
    }

    pub fn str_value(&self, field: &str) -> Option<&str> {
        self.value(field).and_then(Value::as_str)
    }

    pub fn id_value(&self, field: &str) -> Option<Id> {
        self.str_value(field).and_then(|s| Id::try_parse(s).ok())
    }

    pub fn touches(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
}

/// A write as the app asks for it, before the store stamps it into a [`Change`] (change id,
/// device sequence, clock, author, and the base of each field it does not name explicitly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Write {
    pub entity: EntityKind,
    pub entity_id: Id,
    pub op: Op,
    pub fields: BTreeMap<String, FieldWrite>,
}

impl Write {
    pub fn create(entity: EntityKind, entity_id: Id) -> Self {
        Self { entity, entity_id, op: Op::Create, fields: BTreeMap::new() }
    }

    pub fn update(entity: EntityKind, entity_id: Id) -> Self {
        Self { entity, entity_id, op: Op::Update, fields: BTreeMap::new() }
    }

    /// Sets a field; `null`, `""` and `[]` mean "no value".
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.into(), FieldWrite::new(value));
        self
    }

    /// Sets a field only when there is a value.
    pub fn set_opt<V: Into<Value>>(self, field: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.set(field, v),
            None => self,
        }
    }
}

/// What a device receives from the server's log, in the server's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Incoming {
    /// A change someone made, accepted by the server.
    Change(Change),
    /// The whole state of an entity that has come into this device's scope (a transfer in, a
    /// case reassigned to this worker).
    Snapshot(crate::entity::EntityState),
    /// An entity that has left this device's scope: remove it locally.
    Evict { entity: EntityKind, entity_id: Id },
}
