//! How a change combines with what a node already knows. The same function runs on every device
//! and on the server, so all of them reach the same state from the same set of changes, whatever
//! order they arrive in.
//!
//! - Each field is a last-writer-wins register ordered by [`Hlc`] (device id breaks ties).
//! - A write that loses, or is overwritten, by one that never saw it is kept as a conflict for a
//!   person to resolve ([`ConflictOp::Lost`]); a write that names it as its base, or resolves it,
//!   marks it seen ([`ConflictOp::Seen`]). The store keeps "seen" over "lost" whatever the order,
//!   so the open conflicts are exactly the overwritten values nobody has seen — a function of the
//!   set of changes, not of their order.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::{Change, Op};
use crate::entity::{EntityState, FieldClock};
use crate::hlc::Hlc;

/// A value that lost to a newer write of the same field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostValue {
    pub field: String,
    pub value: Value,
    pub clock: FieldClock,
}

/// What the store must record about conflicts after a merge; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConflictOp {
    /// Keep this value as an open conflict, unless it is already marked seen.
    Lost(LostValue),
    /// The write with this stamp was seen (written over knowingly, or resolved): close any
    /// conflict about it, now or if it is lost later.
    Seen { field: String, hlc: Hlc },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub state: EntityState,
    /// Whether this change brought the entity into being here.
    pub created: bool,
    /// Fields whose value or clock changed.
    pub changed_fields: Vec<String>,
    pub conflict_ops: Vec<ConflictOp>,
}

/// Merges `change` into `current`. Returns `None` for an update of an entity not known here
/// (the caller decides: the server rejects it, a device counts it as divergence).
pub fn merge(current: Option<&EntityState>, change: &Change) -> Option<Merged> {
    let author_clock = |base| FieldClock { hlc: change.hlc, base, author: change.author_id };
    let Some(current) = current else {
        if change.op != Op::Create {
            return None;
        }
        let state = EntityState {
            kind: change.entity,
            id: change.entity_id,
            fields: change.fields.iter().map(|(k, w)| (k.clone(), w.value.clone())).collect(),
            created: author_clock(None),
            clocks: Default::default(),
        };
        let changed_fields = change.fields.keys().cloned().collect();
        return Some(Merged { state, created: true, changed_fields, conflict_ops: Vec::new() });
    };

    let mut state = current.clone();
    let mut changed_fields = Vec::new();
    let mut conflict_ops = Vec::new();
    for (field, write) in &change.fields {
        let existing = *state.clock(field);
        let written = author_clock(write.base);
        if change.hlc > existing.hlc {
            let old_value = state.fields.get(field).cloned().unwrap_or(Value::Null);
            conflict_ops.push(ConflictOp::Lost(LostValue { field: field.clone(), value: old_value, clock: existing }));
            state.fields.insert(field.clone(), write.value.clone());
            state.clocks.insert(field.clone(), written);
            changed_fields.push(field.clone());
        } else if change.hlc < existing.hlc {
            conflict_ops.push(ConflictOp::Lost(LostValue {
                field: field.clone(),
                value: write.value.clone(),
                clock: written,
            }));
        }
        // Equal stamps: this very write is already here.
        for seen in write.base.iter().chain(&write.resolves) {
            conflict_ops.push(ConflictOp::Seen { field: field.clone(), hlc: *seen });
        }
    }
    Some(Merged { state, created: false, changed_fields, conflict_ops })
}

/// A minimal, in-memory conflict book with the semantics the stores implement in SQL; used by
/// tests and the simulation to state what the stores must agree with.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ConflictBook {
    /// (entity id, field, stamp) → the lost value, or `None` once seen.
    pub entries: std::collections::BTreeMap<(crate::Id, String, Hlc), Option<LostValue>>,
}

impl ConflictBook {
    pub fn record(&mut self, entity_id: crate::Id, ops: &[ConflictOp]) {
        for op in ops {
            match op {
                ConflictOp::Lost(lost) => {
                    self.entries.entry((entity_id, lost.field.clone(), lost.clock.hlc)).or_insert(Some(lost.clone()));
                }
                ConflictOp::Seen { field, hlc } => {
                    self.entries.insert((entity_id, field.clone(), *hlc), None);
                }
            }
        }
    }

    /// Open conflicts: lost and not seen.
    pub fn open(&self) -> Vec<&LostValue> {
        self.entries.values().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::FieldWrite;
    use crate::entity::EntityKind;
    use crate::field;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn device(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn entity() -> Uuid {
        Uuid::from_u128(77)
    }

    fn change(op: Op, millis: u64, dev: u128, fields: &[(&str, &str, Option<Hlc>)]) -> Change {
        Change {
            change_id: Uuid::from_u128(millis as u128 * 1000 + dev),
            device_id: device(dev),
            device_seq: 1,
            author_id: device(100 + dev),
            schema_version: crate::SCHEMA_VERSION,
            hlc: Hlc::new(millis, 0, device(dev)),
            entity: EntityKind::Household,
            entity_id: entity(),
            op,
            fields: fields
                .iter()
                .map(|(k, v, base)| {
                    (k.to_string(), FieldWrite { value: Value::from(*v), base: *base, resolves: vec![] })
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn apply_all(changes: &[&Change]) -> (EntityState, ConflictBook) {
        let mut state: Option<EntityState> = None;
        let mut book = ConflictBook::default();
        for c in changes {
            let merged = merge(state.as_ref(), c).expect("entity known");
            book.record(c.entity_id, &merged.conflict_ops);
            state = Some(merged.state);
        }
        (state.expect("created"), book)
    }

    #[test]
    fn the_later_stamp_wins_whatever_the_arrival_order() {
        let create = change(Op::Create, 1, 1, &[(field::household::NAME, "张三户", None)]);
        let base = Some(create.hlc);
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", base)]);
        let b = change(Op::Update, 20, 3, &[(field::household::NAME, "张三之家", base)]);
        let (s1, c1) = apply_all(&[&create, &a, &b]);
        let (s2, c2) = apply_all(&[&create, &b, &a]);
        assert_eq!(s1, s2);
        assert_eq!(s1.get_str(field::household::NAME), Some("张三之家"));
        assert_eq!(c1, c2);
    }

    #[test]
    fn a_value_overwritten_by_an_edit_that_never_saw_it_is_kept_as_a_conflict() {
        let create = change(Op::Create, 1, 1, &[(field::household::NAME, "张三户", None)]);
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", Some(create.hlc))]);
        let b = change(Op::Update, 20, 3, &[(field::household::NAME, "张三之家", Some(create.hlc))]);
        let (_, book) = apply_all(&[&create, &a, &b]);
        let open = book.open();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].value, Value::from("张三家"));
        assert_eq!(open[0].clock.author, device(102));
    }

    #[test]
    fn an_edit_made_on_top_of_another_leaves_no_conflict() {
        let create = change(Op::Create, 1, 1, &[(field::household::NAME, "张三户", None)]);
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", Some(create.hlc))]);
        let b = change(Op::Update, 20, 3, &[(field::household::NAME, "张三之家", Some(a.hlc))]);
        for order in [[&create, &a, &b], [&create, &b, &a]] {
            let (_, book) = apply_all(&order);
            assert!(book.open().is_empty(), "{:?}", book.open());
        }
    }

    #[test]
    fn applying_a_change_twice_changes_nothing() {
        let create = change(Op::Create, 1, 1, &[(field::household::NAME, "张三户", None)]);
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", Some(create.hlc))]);
        let b = change(Op::Update, 5, 3, &[(field::household::NAME, "李四家", Some(create.hlc))]);
        let once = apply_all(&[&create, &a, &b]);
        let twice = apply_all(&[&create, &a, &a, &b, &b, &create]);
        assert_eq!(once, twice);
    }

    #[test]
    fn resolving_a_conflict_marks_it_seen() {
        let create = change(Op::Create, 1, 1, &[(field::household::NAME, "张三户", None)]);
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", Some(create.hlc))]);
        let b = change(Op::Update, 20, 3, &[(field::household::NAME, "张三之家", Some(create.hlc))]);
        let mut resolve = change(Op::Update, 30, 2, &[(field::household::NAME, "张三家", Some(b.hlc))]);
        resolve.fields.get_mut(field::household::NAME).expect("field").resolves = vec![a.hlc];
        let (state, book) = apply_all(&[&create, &a, &b, &resolve]);
        assert!(book.open().is_empty());
        assert_eq!(state.get_str(field::household::NAME), Some("张三家"));
    }

    #[test]
    fn an_update_of_an_unknown_entity_is_left_to_the_caller() {
        let a = change(Op::Update, 10, 2, &[(field::household::NAME, "张三家", None)]);
        assert!(merge(None, &a).is_none());
    }
}
