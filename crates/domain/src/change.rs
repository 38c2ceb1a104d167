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
///
/// On the wire and in storage a write with neither `base` nor `resolves` (every field of a
/// create) is its bare value, `"张三"`; otherwise the object `{"value": …, "base": …, "resolves":
/// […]}`. Field values are never JSON objects, and a write whose value is one is written as the
/// object form all the same, so an object always means the object form. Both forms are read.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWrite {
    pub value: Value,
    pub base: Option<Hlc>,
    /// Conflicting values of this field the author has looked at and settled with this write.
    pub resolves: Vec<Hlc>,
}

impl FieldWrite {
    pub fn new(value: impl Into<Value>) -> Self {
        Self { value: value.into(), base: None, resolves: Vec::new() }
    }
}

impl Serialize for FieldWrite {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if self.base.is_none() && self.resolves.is_empty() && !self.value.is_object() {
            return self.value.serialize(s);
        }
        let len = 1 + usize::from(self.base.is_some()) + usize::from(!self.resolves.is_empty());
        let mut object = s.serialize_struct("FieldWrite", len)?;
        object.serialize_field("value", &self.value)?;
        if let Some(base) = &self.base {
            object.serialize_field("base", base)?;
        }
        if !self.resolves.is_empty() {
            object.serialize_field("resolves", &self.resolves)?;
        }
        object.end()
    }
}

impl<'de> Deserialize<'de> for FieldWrite {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldWriteVisitor)
    }
}

struct FieldWriteVisitor;

impl FieldWriteVisitor {
    fn bare<E>(value: Value) -> Result<FieldWrite, E> {
        Ok(FieldWrite::new(value))
    }
}

impl<'de> serde::de::Visitor<'de> for FieldWriteVisitor {
    type Value = FieldWrite;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field value, or an object with `value` and optionally `base` and `resolves`")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<FieldWrite, E> {
        Self::bare(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<FieldWrite, E> {
        Self::bare(Value::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FieldWrite, E> {
        Self::bare(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<FieldWrite, E> {
        Self::bare(Value::from(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldWrite, E> {
        Self::bare(Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<FieldWrite, E> {
        Self::bare(Value::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<FieldWrite, E> {
        Self::bare(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<FieldWrite, E> {
        Self::bare(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<FieldWrite, D::Error> {
        FieldWrite::deserialize(d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<FieldWrite, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(FieldWrite::new)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FieldWrite, A::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Key {
            Value,
            Base,
            Resolves,
            /// A key a newer client of the same schema version may send: ignored.
            #[serde(other)]
            Other,
        }
        let (mut value, mut base, mut resolves) = (None, None, None);
        while let Some(key) = map.next_key::<Key>()? {
            let duplicate = match key {
                Key::Value => value.replace(map.next_value::<Value>()?).is_some(),
                Key::Base => base.replace(map.next_value::<Option<Hlc>>()?).is_some(),
                Key::Resolves => resolves.replace(map.next_value::<Vec<Hlc>>()?).is_some(),
                Key::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    false
                }
            };
            if duplicate {
                return Err(A::Error::custom("a field write names `value`, `base` or `resolves` twice"));
            }
        }
        let value = value.ok_or_else(|| A::Error::missing_field("value"))?;
        Ok(FieldWrite { value, base: base.flatten(), resolves: resolves.unwrap_or_default() })
    }
}

/// Fields a reader does not know are ignored: a newer client of the same schema version may
/// send more (see `docs/sync-protocol.md`, "Schema versions").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
///
/// Internally tagged (`{"type": "change", …}`). Read with the tag first, as written, an entry
/// goes straight into its variant; a tag elsewhere is read the slow way, through a `Value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Incoming {
    /// A change someone made, accepted by the server.
    Change(Change),
    /// The whole state of an entity that has come into this device's scope (a transfer in, a
    /// case reassigned to this worker).
    Snapshot(crate::entity::EntityState),
    /// An entity that has left this device's scope: remove it locally. A case taken off this
    /// worker by a reassignment names the worker who has it now, so the device can say where
    /// it went.
    Evict {
        entity: EntityKind,
        entity_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reassigned_to: Option<Id>,
    },
}

/// The derived reading of [`Incoming`], for a tag that does not come first.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum IncomingAnyOrder {
    Change(Change),
    Snapshot(crate::entity::EntityState),
    Evict {
        entity: EntityKind,
        entity_id: Id,
        #[serde(default)]
        reassigned_to: Option<Id>,
    },
}

impl From<IncomingAnyOrder> for Incoming {
    fn from(item: IncomingAnyOrder) -> Self {
        match item {
            IncomingAnyOrder::Change(change) => Incoming::Change(change),
            IncomingAnyOrder::Snapshot(state) => Incoming::Snapshot(state),
            IncomingAnyOrder::Evict { entity, entity_id, reassigned_to } => {
                Incoming::Evict { entity, entity_id, reassigned_to }
            }
        }
    }
}

impl<'de> Deserialize<'de> for Incoming {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(IncomingVisitor)
    }
}

struct IncomingVisitor;

impl<'de> serde::de::Visitor<'de> for IncomingVisitor {
    type Value = Incoming;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a log entry: an object with `type` change, snapshot or evict")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Incoming, A::Error> {
        use serde::de::Error;
        use serde::de::value::MapAccessDeserializer;
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Tag {
            Change,
            Snapshot,
            Evict,
        }
        #[derive(Deserialize)]
        struct Evict {
            entity: EntityKind,
            entity_id: Id,
            #[serde(default)]
            reassigned_to: Option<Id>,
        }
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Err(A::Error::missing_field("type"));
        };
        if first != "type" {
            let mut object = serde_json::Map::new();
            object.insert(first.into_owned(), map.next_value::<Value>()?);
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                object.insert(key, value);
            }
            return IncomingAnyOrder::deserialize(Value::Object(object)).map(Incoming::from).map_err(A::Error::custom);
        }
        Ok(match map.next_value::<Tag>()? {
            Tag::Change => Incoming::Change(Change::deserialize(MapAccessDeserializer::new(map))?),
            Tag::Snapshot => {
                Incoming::Snapshot(crate::entity::EntityState::deserialize(MapAccessDeserializer::new(map))?)
            }
            Tag::Evict => {
                let Evict { entity, entity_id, reassigned_to } = Evict::deserialize(MapAccessDeserializer::new(map))?;
                Incoming::Evict { entity, entity_id, reassigned_to }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field;
    use serde_json::json;

    fn stamp(n: u64) -> Hlc {
        Hlc::new(n, 0, Uuid::from_u128(7))
    }

    #[test]
    fn a_write_without_base_or_resolves_is_its_bare_value_on_the_wire() {
        for value in [json!("张三"), json!(60), json!(false), json!(["Dibao"]), json!(null), json!(1.5)] {
            let write = FieldWrite::new(value.clone());
            assert_eq!(serde_json::to_value(&write).expect("json"), value);
            assert_eq!(serde_json::from_value::<FieldWrite>(value).expect("read back"), write);
        }
    }

    #[test]
    fn a_write_with_a_base_or_resolves_is_an_object() {
        let write = FieldWrite { value: json!("13800000000"), base: Some(stamp(1)), resolves: vec![stamp(2)] };
        let wire = serde_json::to_value(&write).expect("json");
        assert_eq!(
            wire,
            json!({"value": "13800000000", "base": stamp(1).to_string(), "resolves": [stamp(2).to_string()]})
        );
        assert_eq!(serde_json::from_value::<FieldWrite>(wire).expect("read back"), write);
        let only_base = FieldWrite { value: json!(3), base: Some(stamp(1)), resolves: vec![] };
        assert_eq!(serde_json::to_value(&only_base).expect("json"), json!({"value": 3, "base": stamp(1).to_string()}));
    }

    #[test]
    fn the_object_form_of_a_plain_write_is_still_read() {
        let read: FieldWrite = serde_json::from_value(json!({"value": "张三"})).expect("object form");
        assert_eq!(read, FieldWrite::new("张三"));
        let read: FieldWrite = serde_json::from_value(json!({"value": "x", "base": null})).expect("null base");
        assert_eq!(read, FieldWrite::new("x"));
    }

    #[test]
    fn an_object_valued_write_keeps_the_object_form_so_it_is_never_ambiguous() {
        let write = FieldWrite::new(json!({"value": 1}));
        let wire = serde_json::to_value(&write).expect("json");
        assert_eq!(wire, json!({"value": {"value": 1}}));
        assert_eq!(serde_json::from_value::<FieldWrite>(wire).expect("read back"), write);
    }

    #[test]
    fn a_malformed_object_form_is_refused_naming_what_is_wrong() {
        // A key this version does not know is ignored: a newer client of the same schema version
        // may send one (docs/sync-protocol.md, "Conventions").
        let unknown = serde_json::from_value::<FieldWrite>(json!({"value": 1, "confidence": "x"})).expect("tolerated");
        assert_eq!(unknown, FieldWrite::new(json!(1)));
        let missing =
            serde_json::from_value::<FieldWrite>(json!({"base": stamp(1).to_string()})).expect_err("no value");
        assert!(missing.to_string().contains("value"), "{missing}");
        let twice = serde_json::from_str::<FieldWrite>(r#"{"value": 1, "value": 2}"#).expect_err("twice");
        assert!(twice.to_string().contains("twice"), "{twice}");
        assert!(serde_json::from_value::<FieldWrite>(json!({"value": 1, "base": "not a stamp"})).is_err());
    }

    #[test]
    fn a_log_entry_reads_whether_its_tag_comes_first_or_not() {
        let id = Uuid::from_u128(5);
        let evict = Incoming::Evict { entity: EntityKind::Case, entity_id: id, reassigned_to: None };
        let first = serde_json::to_string(&evict).expect("json");
        assert!(first.starts_with(r#"{"type":"evict""#), "{first}");
        assert_eq!(serde_json::from_str::<Incoming>(&first).expect("tag first"), evict);
        let last = format!(r#"{{"entity":"Case","entity_id":"{id}","type":"evict"}}"#);
        assert_eq!(serde_json::from_str::<Incoming>(&last).expect("tag last"), evict);
        let unknown = serde_json::from_str::<Incoming>(r#"{"type":"vanish","entity_id":"x"}"#).expect_err("unknown");
        assert!(unknown.to_string().contains("vanish"), "{unknown}");
        assert!(serde_json::from_str::<Incoming>(r#"{"entity":"Case"}"#).is_err());
        // A case reassigned away names its new worker, in either order.
        let moved =
            Incoming::Evict { entity: EntityKind::Case, entity_id: id, reassigned_to: Some(Uuid::from_u128(6)) };
        let first = serde_json::to_string(&moved).expect("json");
        assert!(first.contains("reassigned_to"), "{first}");
        assert_eq!(serde_json::from_str::<Incoming>(&first).expect("tag first"), moved);
        let last = format!(
            r#"{{"entity":"Case","entity_id":"{id}","reassigned_to":"{}","type":"evict"}}"#,
            Uuid::from_u128(6)
        );
        assert_eq!(serde_json::from_str::<Incoming>(&last).expect("tag last"), moved);
    }

    #[test]
    fn a_change_reads_back_as_written() {
        let change = Change {
            change_id: Uuid::from_u128(1),
            device_id: Uuid::from_u128(2),
            device_seq: 3,
            author_id: Uuid::from_u128(4),
            schema_version: crate::SCHEMA_VERSION,
            hlc: stamp(9),
            entity: EntityKind::Recipient,
            entity_id: Uuid::from_u128(5),
            op: Op::Update,
            fields: BTreeMap::from([
                (field::recipient::NAME.to_owned(), FieldWrite::new("李四")),
                (
                    field::recipient::PHONE.to_owned(),
                    FieldWrite { value: json!("13800000000"), base: Some(stamp(3)), resolves: vec![] },
                ),
            ]),
        };
        let text = serde_json::to_string(&change).expect("json");
        assert!(text.contains(r#""name":"李四""#), "{text}");
        assert_eq!(serde_json::from_str::<Change>(&text).expect("read back"), change);
        let incoming = Incoming::Change(change);
        let text = serde_json::to_string(&incoming).expect("json");
        assert_eq!(serde_json::from_str::<Incoming>(&text).expect("read back"), incoming);
    }
}
