//! The refused-changes page: each change the server refused, with what was typed (each field
//! labelled from its kind's spec, references named), why it was refused (both languages, at its
//! field), and what the user can do about it: edit and resend it (a new write through
//! `Store::record`, checked by the rules like any other) or discard it. Either way the refused
//! change is marked dealt with (`Store::deal_with_refused`): it leaves the list and the status
//! bar's count, and stays in the change log with its payload and reason, so nothing is dropped
//! without the user's word. Changes set aside (the server could not take them as sent) are
//! listed too, without actions: they keep their local effect and are sent again from the
//! waiting page.

use std::collections::BTreeMap;

use contract::{CommandError, FieldValues, RejectedChangeView};
use domain::Labelled;
use domain::change::{FieldWrite, Op};
use domain::entity::{EntityKind, FieldSpec, FieldType};
use domain::policy::Actor;
use store::{DealtWith, RejectedRow, Store, StoreError};
use uuid::Uuid;

use crate::conflicts::referenced_names;
use crate::fields::{create_write, update_write};
use crate::sync_view::{Labels, field_label};
use crate::{AppError, Moment};

/// The changes the server refused that wait for the user (newest first), then those set aside.
pub fn rejected_changes(store: &Store) -> Result<Vec<RejectedChangeView>, AppError> {
    let mut labels = Labels::new(store);
    store.rejected_changes()?.into_iter().map(|row| view(&mut labels, row)).collect()
}

fn view(labels: &mut Labels<'_>, row: RejectedRow) -> Result<RejectedChangeView, AppError> {
    let kind = row.entity_kind;
    let record = labels.of(kind, row.entity_id, Some(&row.fields))?;
    let names = referenced_names_of(labels, kind, &row.fields)?;
    let ordered = written_in_order(kind, &row.fields);
    let editable = ordered
        .iter()
        .filter_map(|name| kind.spec().field(name))
        .filter(|spec| offered_for_editing(spec, row.op))
        .map(|spec| spec.name.to_string())
        .collect();
    let values = row.fields.iter().map(|(name, write)| (name.clone(), write.value.clone())).collect();
    Ok(RejectedChangeView {
        change_id: row.change_id,
        entity_kind_zh: kind.zh().to_string(),
        entity_kind_en: kind.en().to_string(),
        entity_id: row.entity_id,
        entity_label: record.name.clone(),
        recorded_at: chrono::DateTime::parse_from_rfc3339(&row.recorded_at).ok().map(|t| t.with_timezone(&chrono::Utc)),
        reason: CommandError {
            code: row.rejection.code,
            field: row.rejection.field,
            message_zh: row.rejection.message_zh,
            message_en: row.rejection.message_en,
        },
        record,
        op: row.op,
        fields: ordered.iter().map(|name| field_label(kind, name)).collect(),
        values,
        names,
        editable,
        set_aside: row.set_aside,
    })
}

/// The fields a change writes, in its kind's order (names the spec lacks last).
fn written_in_order(kind: EntityKind, fields: &BTreeMap<String, FieldWrite>) -> Vec<String> {
    let spec = kind.spec();
    let known = spec.fields.iter().map(|f| f.name).filter(|name| fields.contains_key(*name));
    let unknown = fields.keys().map(String::as_str).filter(|name| spec.field(name).is_none());
    known.chain(unknown).map(str::to_string).collect()
}

/// Whether "edit and resend" offers `spec` to change: what a person typed, not the references
/// the use case set (station, village, person, case, the record amended), and, in an update, not
/// a field that cannot change once recorded.
fn offered_for_editing(spec: &FieldSpec, op: Op) -> bool {
    let reference = matches!(spec.ty, FieldType::Ref(_) | FieldType::RefList(_));
    !reference && (op == Op::Create || spec.mutable)
}

fn referenced_names_of(
    labels: &mut Labels<'_>,
    kind: EntityKind,
    fields: &BTreeMap<String, FieldWrite>,
) -> Result<BTreeMap<Uuid, String>, AppError> {
    let mut names = BTreeMap::new();
    for (name, write) in fields {
        names.append(&mut referenced_names(labels, kind, name, [&write.value])?);
    }
    Ok(names)
}

/// The refused change `change_id` still waiting for the user, or [`AppError::RefusedChangeGone`].
fn waiting_refused(store: &Store, change_id: Uuid) -> Result<RejectedRow, AppError> {
    store
        .rejected_changes()?
        .into_iter()
        .find(|row| row.change_id == change_id && !row.set_aside)
        .ok_or(AppError::RefusedChangeGone)
}

/// Records what the refused change `change_id` typed again, with `values` (the edit form's,
/// field name → value) in place of what was typed: a creation when the refused change created
/// the record and it is no longer here (it was undone), else an update of the fields whose value
/// differs from what stands. Each value is checked against its field's spec and the whole write
/// by the rules before anything is written; when one is wrong nothing is written and the refused
/// change stays listed. Then the refused change is marked dealt with. `values` may only name the
/// fields the page offers for editing ([`RejectedChangeView::editable`]). Returns the refused
/// changes as they now stand.
pub fn resend_rejected(
    store: &mut Store,
    actor: &Actor,
    change_id: Uuid,
    values: &FieldValues,
    at: Moment,
) -> Result<Vec<RejectedChangeView>, AppError> {
    let row = waiting_refused(store, change_id)?;
    let kind = row.entity_kind;
    let spec = kind.spec();
    for name in values.keys() {
        let Some(field) = spec.field(name) else { continue };
        let typed_here = row.fields.contains_key(name) || row.op == Op::Create;
        if !typed_here || !offered_for_editing(field, row.op) {
            return Err(AppError::NotEditableHere(field));
        }
    }
    let mut sent: FieldValues = row.fields.iter().map(|(name, write)| (name.clone(), write.value.clone())).collect();
    sent.extend(values.iter().map(|(name, value)| (name.clone(), value.clone())));
    let write = match (row.op, store.entity(kind, row.entity_id)?) {
        (Op::Create, None) => Some(create_write(kind, row.entity_id, &sent, &[], at.today)?),
        (_, Some(current)) => update_write(&current, &sent, &[], at.today)?,
        (Op::Update, None) => return Err(AppError::NotFound(kind)),
    };
    // The new write and the mark land together: a crash between them could list the change
    // again (and it be sent twice) or lose the mark.
    match store.resend_refused(actor, change_id, write.into_iter().collect(), at.now, at.today) {
        Err(StoreError::RefusedChangeGone) => return Err(AppError::RefusedChangeGone),
        result => result?,
    };
    rejected_changes(store)
}

/// The user lets the refused change `change_id` go: it is marked dealt with (kept in the change
/// log with its payload and reason) and nothing is written. Returns the refused changes as they
/// now stand.
pub fn discard_rejected(store: &mut Store, change_id: Uuid, at: Moment) -> Result<Vec<RejectedChangeView>, AppError> {
    waiting_refused(store, change_id)?;
    if !store.deal_with_refused(change_id, DealtWith::Discarded, at.now)? {
        return Err(AppError::RefusedChangeGone);
    }
    rejected_changes(store)
}

#[cfg(test)]
mod tests {
    use contract::codes;
    use domain::change::Change;
    use domain::entity::field;
    use domain::rules::RejectionInfo;
    use serde_json::json;

    use super::*;
    use crate::sync_view::outbox_counts;
    use crate::testing::Station;

    /// A value as a form sends it.
    fn typed(text: &str) -> serde_json::Value {
        serde_json::Value::from(text)
    }

    fn refusal(field: Option<&str>) -> RejectionInfo {
        RejectionInfo {
            code: "outside_station".into(),
            message_zh: "该记录不属于您所在的社工站".into(),
            message_en: "The record is not of your station".into(),
            field: field.map(str::to_string),
        }
    }

    /// The last change waiting about `record`.
    fn waiting_about(station: &Station, record: Uuid) -> Change {
        let pending = station.store.pending_changes(10_000).expect("outbox");
        pending.into_iter().rev().find(|c| c.entity_id == record).expect("a change waits")
    }

    /// A recipient whose creation the server refused (undone here).
    fn refused_creation(station: &mut Station) -> (Uuid, Change) {
        let person = station.add_recipient("张三", 11);
        let create = waiting_about(station, person);
        station.store.mark_rejected(create.device_seq, refusal(None), None).expect("refused");
        (person, create)
    }

    /// A phone edit of a recipient the server refused (undone here: no phone again).
    fn refused_phone_edit(station: &mut Station) -> (Uuid, Change) {
        let person = station.add_recipient("李四", 13);
        let worker = station.worker.clone();
        let moment = station.moment();
        let phone = FieldValues::from([(field::recipient::PHONE.to_string(), json!("13800138000"))]);
        crate::recipient::update_recipient(&mut station.store, &worker, person, &phone, moment).expect("edited");
        let edit = waiting_about(station, person);
        station.store.mark_rejected(edit.device_seq, refusal(Some(field::recipient::PHONE)), None).expect("refused");
        (person, edit)
    }

    #[test]
    fn a_refused_creation_shows_what_was_typed_labelled_with_the_reason_at_its_field() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let create = waiting_about(&station, person);
        station
            .store
            .mark_rejected(create.device_seq, refusal(Some(field::recipient::ID_NUMBER)), None)
            .expect("refused");

        let list = rejected_changes(&station.store).expect("list");
        assert_eq!(list.len(), 1, "{list:?}");
        let shown = &list[0];
        assert_eq!((shown.change_id, shown.op, shown.set_aside), (create.change_id, Op::Create, false));
        assert_eq!((shown.record.kind, shown.record.id), (EntityKind::Recipient, person));
        assert_eq!(shown.record.name.as_deref(), Some("张三"), "named from what was typed: the record was undone");
        assert_eq!(shown.values.get(field::recipient::NAME), Some(&json!("张三")));
        let name = shown.fields.iter().find(|f| f.field == field::recipient::NAME).expect("the name is shown");
        assert_eq!((name.label_zh.as_str(), name.label_en.as_str()), ("姓名", "name"));
        assert_eq!(shown.names.get(&station.village).map(String::as_str), Some("青山村"), "the village by name");
        assert!(shown.editable.contains(&field::recipient::NAME.to_string()));
        assert!(shown.editable.contains(&field::recipient::ID_NUMBER.to_string()));
        assert!(!shown.editable.contains(&field::recipient::VILLAGE_ID.to_string()), "references are kept as typed");
        assert!(!shown.editable.contains(&field::STATION_ID.to_string()));
        assert_eq!(shown.reason.code, "outside_station");
        assert_eq!(shown.reason.field.as_deref(), Some(field::recipient::ID_NUMBER));
        assert_eq!(shown.reason.message_zh, "该记录不属于您所在的社工站");
        assert_eq!(shown.reason.message_en, "The record is not of your station");
        assert_eq!(outbox_counts(&station.store).expect("counts").rejected, 1);
    }

    #[test]
    fn resending_a_refused_creation_as_edited_creates_the_record_again_and_it_leaves_the_list() {
        let mut station = Station::new();
        let (person, create) = refused_creation(&mut station);
        assert!(station.store.entity(EntityKind::Recipient, person).expect("read").is_none(), "undone");
        let worker = station.worker.clone();
        let moment = station.moment();
        let edited = FieldValues::from([(field::recipient::NAME.to_string(), typed(" 张叁 "))]);

        let list = resend_rejected(&mut station.store, &worker, create.change_id, &edited, moment).expect("resent");
        assert_eq!(list, vec![], "dealt with");
        assert_eq!(outbox_counts(&station.store).expect("counts").rejected, 0);
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("created again");
        assert_eq!(state.get_str(field::recipient::NAME), Some("张叁"), "as edited, normalized");
        assert_eq!(state.get_id(field::recipient::VILLAGE_ID), Some(station.village), "the rest as typed");
        let again = waiting_about(&station, person);
        assert_eq!((again.op, again.author_id), (Op::Create, worker.user_id));
        assert_ne!(again.change_id, create.change_id, "a new change");
    }

    #[test]
    fn resending_a_refused_update_writes_the_edited_value_over_what_stands() {
        let mut station = Station::new();
        let (person, edit) = refused_phone_edit(&mut station);
        let before = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(before.get_str(field::recipient::PHONE), None, "the refused edit was undone");
        let shown = rejected_changes(&station.store).expect("list");
        assert_eq!(shown[0].editable, vec![field::recipient::PHONE.to_string()]);
        assert_eq!(shown[0].reason.field.as_deref(), Some(field::recipient::PHONE));
        let worker = station.worker.clone();
        let moment = station.moment();
        let edited = FieldValues::from([(field::recipient::PHONE.to_string(), typed("137 0013 7000"))]);

        resend_rejected(&mut station.store, &worker, edit.change_id, &edited, moment).expect("resent");
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(state.get_str(field::recipient::PHONE), Some("13700137000"));
        let again = waiting_about(&station, person);
        assert_eq!(again.op, Op::Update);
        assert_eq!(again.fields.keys().collect::<Vec<_>>(), vec![field::recipient::PHONE]);
        assert!(rejected_changes(&station.store).expect("list").is_empty());
    }

    #[test]
    fn a_wrong_value_in_the_resend_form_is_refused_at_its_field_and_the_change_stays_listed() {
        let mut station = Station::new();
        let (_, edit) = refused_phone_edit(&mut station);
        let waiting = station.store.pending_count().expect("count");
        let worker = station.worker.clone();
        let moment = station.moment();
        let wrong = FieldValues::from([(field::recipient::PHONE.to_string(), typed("12345"))]);
        let error = CommandError::from(
            resend_rejected(&mut station.store, &worker, edit.change_id, &wrong, moment).expect_err("invalid"),
        );
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("mobile", Some(field::recipient::PHONE)));
        assert!(error.message_zh.starts_with("手机号") && error.message_en.starts_with("Mobile number"), "{error:?}");
        assert_eq!(station.store.pending_count().expect("count"), waiting, "nothing was written");
        assert_eq!(rejected_changes(&station.store).expect("list").len(), 1, "still waiting for the user");
    }

    #[test]
    fn a_reference_set_by_the_use_case_cannot_be_changed_by_resending() {
        let mut station = Station::new();
        let (_, create) = refused_creation(&mut station);
        let worker = station.worker.clone();
        let moment = station.moment();
        let moved =
            FieldValues::from([(field::recipient::VILLAGE_ID.to_string(), typed(&station.village2.to_string()))]);
        let error = CommandError::from(
            resend_rejected(&mut station.store, &worker, create.change_id, &moved, moment).expect_err("not here"),
        );
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            (codes::NOT_EDITABLE_HERE, Some(field::recipient::VILLAGE_ID))
        );
        assert_eq!(rejected_changes(&station.store).expect("list").len(), 1);
    }

    #[test]
    fn discarding_a_refused_change_takes_it_off_the_list_and_writes_nothing() {
        let mut station = Station::new();
        let (person, create) = refused_creation(&mut station);
        let waiting = station.store.pending_count().expect("count");
        let moment = station.moment();
        assert_eq!(discard_rejected(&mut station.store, create.change_id, moment).expect("discarded"), vec![]);
        assert_eq!(outbox_counts(&station.store).expect("counts").rejected, 0);
        assert_eq!(station.store.pending_count().expect("count"), waiting, "nothing was written");
        assert!(station.store.entity(EntityKind::Recipient, person).expect("read").is_none());

        let moment = station.moment();
        let again =
            CommandError::from(discard_rejected(&mut station.store, create.change_id, moment).expect_err("once"));
        assert_eq!(again.code, codes::REFUSED_CHANGE_GONE);
        assert!(!again.message_zh.is_empty() && !again.message_en.is_empty());
        let worker = station.worker.clone();
        let moment = station.moment();
        let resent = resend_rejected(&mut station.store, &worker, create.change_id, &FieldValues::new(), moment);
        assert!(matches!(resent, Err(AppError::RefusedChangeGone)), "{resent:?}");
        assert!(station.store.entity(EntityKind::Recipient, person).expect("read").is_none());
    }

    #[test]
    fn a_change_set_aside_is_listed_without_being_resent_or_discarded_here() {
        let mut station = Station::new();
        let person = station.add_recipient("王五", 15);
        let aside = waiting_about(&station, person);
        let reason = store::SetAsideReason {
            code: "too_large".into(),
            message_zh: "修改过大，服务器无法接收".into(),
            message_en: "The change is too large for the server".into(),
            at: station.moment().now,
        };
        station.store.set_aside(aside.device_seq, &reason).expect("set aside");
        let list = rejected_changes(&station.store).expect("list");
        assert_eq!(list.len(), 1);
        assert!(list[0].set_aside);
        let moment = station.moment();
        let discarded = discard_rejected(&mut station.store, aside.change_id, moment);
        assert!(matches!(discarded, Err(AppError::RefusedChangeGone)), "{discarded:?}");
        assert_eq!(rejected_changes(&station.store).expect("list").len(), 1, "still there, to be sent again");
    }
}
