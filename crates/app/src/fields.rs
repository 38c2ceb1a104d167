//! Writes from field values as a spec-driven form sends them ([`FieldValues`]: field name →
//! JSON value). Each value is checked against its entity's `FieldSpec` with the domain's
//! `normalize_field` before anything is written, so a wrong one is refused with its field named
//! (in both languages) and nothing is saved; `Store::record` checks the whole change again with
//! the rules.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use contract::FieldValues;
use domain::Id;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState, FieldSpec};
use domain::validate::{FieldError, Invalid, normalize_field};
use serde_json::Value;

use crate::AppError;

/// The values checked and normalized, in the spec's order. A name that is not a field of `kind`
/// is refused as `unknown_field`; the first wrong value (in the form's order) is the error.
pub fn normalize_values(
    kind: EntityKind,
    values: &FieldValues,
    today: NaiveDate,
) -> Result<Vec<(&'static FieldSpec, Value)>, AppError> {
    let spec = kind.spec();
    if let Some(unknown) = values.keys().find(|name| spec.field(name).is_none()) {
        return Err(FieldError::unknown(unknown).into());
    }
    let mut normalized = Vec::with_capacity(values.len());
    for field in spec.fields {
        if let Some(value) = values.get(field.name) {
            normalized.push((field, normalize_field(field, value, today)?));
        }
    }
    Ok(normalized)
}

/// The creation of a `kind` record with `values`. `derived` are the fields the use case sets
/// itself (a household's station follows its village): a form may not send them.
pub fn create_write(
    kind: EntityKind,
    id: Id,
    values: &FieldValues,
    derived: &[&str],
    today: NaiveDate,
) -> Result<Write, AppError> {
    let mut write = Write::create(kind, id);
    for (field, value) in normalize_values(kind, values, today)? {
        if derived.contains(&field.name) {
            return Err(AppError::NotEditableHere(field));
        }
        if !value.is_null() {
            write = write.set(field.name, value);
        }
    }
    Ok(write)
}

/// The update of `current` that `values` ask for: only the fields whose value changes (a form
/// sends every field; those left as they were are not written again). `None` when nothing
/// changes. A field that cannot change once recorded is refused as `immutable`, and one of
/// `kept` (changed by a use case of its own) as `not_editable_here`, each only when its value
/// would change.
pub fn update_write(
    current: &EntityState,
    values: &FieldValues,
    kept: &[&str],
    today: NaiveDate,
) -> Result<Option<Write>, AppError> {
    let mut changes: BTreeMap<&str, Value> = BTreeMap::new();
    for (field, value) in normalize_values(current.kind, values, today)? {
        if current.get(field.name).unwrap_or(&Value::Null) == &value {
            continue;
        }
        if !field.mutable {
            return Err(AppError::at_field(field, Invalid::Immutable));
        }
        if kept.contains(&field.name) {
            return Err(AppError::NotEditableHere(field));
        }
        changes.insert(field.name, value);
    }
    if changes.is_empty() {
        return Ok(None);
    }
    let write =
        changes.into_iter().fold(Write::update(current.kind, current.id), |w, (name, value)| w.set(name, value));
    Ok(Some(write))
}

#[cfg(test)]
mod tests {
    use contract::{CommandError, codes};
    use domain::entity::field::recipient;
    use serde_json::json;

    use super::*;
    use crate::testing::{Station, today};

    fn values(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn error_of(result: Result<Option<Write>, AppError>) -> CommandError {
        CommandError::from(result.expect_err("refused"))
    }

    #[test]
    fn only_the_fields_that_change_are_written() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let current = station.store.entity(EntityKind::Recipient, id).expect("read").expect("held");
        let sent = values(&[
            (recipient::NAME, json!(" 张三 ")),
            (recipient::PHONE, json!("138 0013 8000")),
            (recipient::VILLAGE_ID, json!(station.village.to_string())),
        ]);
        let write = update_write(&current, &sent, &[recipient::VILLAGE_ID], today()).expect("valid").expect("a change");
        let written: Vec<&str> = write.fields.keys().map(String::as_str).collect();
        assert_eq!(written, vec![recipient::PHONE]);
        assert_eq!(write.fields[recipient::PHONE].value, json!("13800138000"));
    }

    #[test]
    fn nothing_to_write_when_every_value_is_as_it_was() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let current = station.store.entity(EntityKind::Recipient, id).expect("read").expect("held");
        let same = values(&[(recipient::NAME, json!("张三")), (recipient::PHONE, json!(""))]);
        assert_eq!(update_write(&current, &same, &[], today()).expect("valid"), None);
    }

    #[test]
    fn a_wrong_value_is_refused_at_its_field_in_both_languages() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let current = station.store.entity(EntityKind::Recipient, id).expect("read").expect("held");
        let error = error_of(update_write(&current, &values(&[(recipient::PHONE, json!("12345"))]), &[], today()));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("mobile", Some(recipient::PHONE)));
        assert!(error.message_zh.starts_with("手机号") && error.message_en.starts_with("Mobile number"), "{error:?}");
    }

    #[test]
    fn a_name_that_is_not_a_field_is_refused_as_unknown() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let current = station.store.entity(EntityKind::Recipient, id).expect("read").expect("held");
        let error = error_of(update_write(&current, &values(&[("nickname", json!("三儿"))]), &[], today()));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("unknown_field", Some("nickname")));
    }

    #[test]
    fn a_kept_field_is_refused_only_when_it_would_change() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let current = station.store.entity(EntityKind::Recipient, id).expect("read").expect("held");
        let moved = values(&[(recipient::VILLAGE_ID, json!(station.village2.to_string()))]);
        let error = error_of(update_write(&current, &moved, &[recipient::VILLAGE_ID], today()));
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            (codes::NOT_EDITABLE_HERE, Some(recipient::VILLAGE_ID))
        );
    }
}
