//! Changes written by older clients, upgraded to the current format before the server checks
//! them. Each step is a pure function from one version to the next, with its own tests.
//!
//! - Version 1 (the first release) kept one category per recipient in `category`, and a visit's
//!   observations in `notes`. Version 2 keeps a list in `categories`, and `observations`.

use domain::change::{Change, FieldWrite};
use domain::entity::EntityKind;
use domain::{OLDEST_SUPPORTED_SCHEMA_VERSION, SCHEMA_VERSION, field};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    #[error("change format {0} is too old; the client must be updated")]
    TooOld(u32),
    #[error("change format {0} is newer than this server understands")]
    TooNew(u32),
}

/// Brings `change` to [`SCHEMA_VERSION`].
pub fn upgrade(mut change: Change) -> Result<Change, UpgradeError> {
    if change.schema_version < OLDEST_SUPPORTED_SCHEMA_VERSION {
        return Err(UpgradeError::TooOld(change.schema_version));
    }
    if change.schema_version > SCHEMA_VERSION {
        return Err(UpgradeError::TooNew(change.schema_version));
    }
    if change.schema_version == 1 {
        change = v1_to_v2(change);
    }
    Ok(change)
}

fn v1_to_v2(mut change: Change) -> Change {
    match change.entity {
        EntityKind::Recipient => {
            if let Some(write) = change.fields.remove("category") {
                let list = match write.value {
                    Value::Null => Value::Array(vec![]),
                    single @ Value::String(_) => Value::Array(vec![single]),
                    other => other,
                };
                change.fields.insert(field::recipient::CATEGORIES.into(), FieldWrite { value: list, ..write });
            }
        }
        EntityKind::Visit => {
            if let Some(write) = change.fields.remove("notes") {
                change.fields.insert(field::visit::OBSERVATIONS.into(), write);
            }
        }
        _ => {}
    }
    change.schema_version = 2;
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::change::Op;
    use domain::hlc::Hlc;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn v1(entity: EntityKind, fields: &[(&str, Value)]) -> Change {
        Change {
            change_id: Uuid::from_u128(1),
            device_id: Uuid::from_u128(2),
            device_seq: 1,
            author_id: Uuid::from_u128(3),
            schema_version: 1,
            hlc: Hlc::new(1, 0, Uuid::from_u128(2)),
            entity,
            entity_id: Uuid::from_u128(4),
            op: Op::Create,
            fields: fields.iter().map(|(k, v)| (k.to_string(), FieldWrite::new(v.clone()))).collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn a_version_1_recipient_category_becomes_a_list() {
        let up = upgrade(v1(EntityKind::Recipient, &[("category", Value::from("Dibao"))])).expect("upgrades");
        assert_eq!(up.schema_version, 2);
        assert_eq!(up.value(field::recipient::CATEGORIES), Some(&serde_json::json!(["Dibao"])));
        assert!(!up.touches("category"));
    }

    #[test]
    fn a_version_1_visit_keeps_its_notes_as_observations() {
        let up = upgrade(v1(EntityKind::Visit, &[("notes", Value::from("老人独居"))])).expect("upgrades");
        assert_eq!(up.str_value(field::visit::OBSERVATIONS), Some("老人独居"));
    }

    #[test]
    fn a_current_change_is_left_alone() {
        let mut c = v1(EntityKind::Visit, &[(field::visit::OBSERVATIONS, Value::from("x"))]);
        c.schema_version = SCHEMA_VERSION;
        assert_eq!(upgrade(c.clone()), Ok(c));
    }

    #[test]
    fn versions_outside_the_supported_range_are_refused() {
        let mut c = v1(EntityKind::Visit, &[]);
        c.schema_version = 0;
        assert_eq!(upgrade(c.clone()), Err(UpgradeError::TooOld(0)));
        c.schema_version = SCHEMA_VERSION + 1;
        assert_eq!(upgrade(c), Err(UpgradeError::TooNew(SCHEMA_VERSION + 1)));
    }
}
