//! What the status bar and the pages behind its counts show of sync: the outbox's counts and
//! when the data was last verified against the server, the changes waiting to be sent (and
//! those set aside, with a way to send them again). The refused changes are `refused.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contract::{CommandError, FieldLabel, RecordLabel, WaitingChangeView, WaitingChanges};
use domain::change::{Change, FieldWrite};
use domain::entity::{EntityKind, EntityState, field};
use domain::hlc::Hlc;
use store::Store;
use uuid::Uuid;

use crate::AppError;

/// What waits to be sent, what was refused, what conflicts are open, the probable duplicates,
/// and when the data was last verified against the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub rejected: u64,
    pub conflicts_open: u64,
    pub duplicates: u64,
    pub last_verified_at: Option<DateTime<Utc>>,
}

pub fn outbox_counts(store: &Store) -> Result<OutboxCounts, AppError> {
    Ok(OutboxCounts {
        pending: store.pending_count()?,
        rejected: store.rejected_changes()?.len() as u64,
        conflicts_open: store.open_conflicts()?.len() as u64,
        duplicates: store.probable_duplicates(None)?.len() as u64,
        last_verified_at: store.last_verified()?,
    })
}

/// The waiting-changes page: the first [`WaitingChanges::SHOWN`] changes waiting to be sent, in
/// the order they go, and every change set aside with its reason.
pub fn waiting_changes(store: &Store) -> Result<WaitingChanges, AppError> {
    let mut labels = Labels::new(store);
    let waiting = store
        .pending_changes(WaitingChanges::SHOWN)?
        .iter()
        .map(|change| {
            Ok(WaitingChangeView {
                change_id: change.change_id,
                record: labels.of(change.entity, change.entity_id, Some(&change.fields))?,
                op: change.op,
                recorded_at: stamp_time(change.hlc),
                fields: field_labels(change),
                reason: None,
                set_aside_at: None,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let set_aside = store
        .set_aside_changes()?
        .into_iter()
        .map(|row| {
            let change = &row.change;
            Ok(WaitingChangeView {
                change_id: change.change_id,
                record: labels.of(change.entity, change.entity_id, Some(&change.fields))?,
                op: change.op,
                recorded_at: parse_time(&row.recorded_at).or_else(|| stamp_time(change.hlc)),
                fields: field_labels(change),
                reason: Some(CommandError::new(&row.reason.code, row.reason.message_zh, row.reason.message_en)),
                set_aside_at: Some(row.reason.at),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(WaitingChanges { total: store.pending_count()?, waiting, set_aside })
}

/// Why a failed round must sign the user out, if it must: the server has deactivated the
/// account (the engine has dropped the local data), or revoked this laptop and nothing unsent is
/// left here (a revoked device hands its work over first, round after round if need be; signing
/// out before that would stop the hand-over).
pub fn sign_out_reason(error: &sync_client::SyncError, unsent: u64) -> Option<CommandError> {
    let closed = error.is_account_deactivated() || (error.is_device_revoked() && unsent == 0);
    closed.then(|| {
        // The server's own code (not the generic `server_error`): the sign-in page says which.
        let mut said = crate::error::sync_error_to_command(error);
        if let Some(code) = error.server_code() {
            said.code = code.to_string();
        }
        said
    })
}

/// The user asks to send the changes set aside again: each goes back at the end of the queue.
/// Returns how many.
pub fn retry_set_aside(store: &mut Store) -> Result<u64, AppError> {
    Ok(store.retry_set_aside(None)?)
}

/// The instant of a clock stamp.
pub(crate) fn stamp_time(hlc: Hlc) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(i64::try_from(hlc.millis).ok()?)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// A field of `kind` with its labels (its name when the spec lacks it).
pub(crate) fn field_label(kind: EntityKind, name: &str) -> FieldLabel {
    match kind.spec().field(name) {
        Some(spec) => FieldLabel { field: name.into(), label_zh: spec.zh.into(), label_en: spec.en.into() },
        None => FieldLabel { field: name.into(), label_zh: name.into(), label_en: name.into() },
    }
}

/// The fields a change writes, in its kind's order (names the spec lacks last).
fn field_labels(change: &Change) -> Vec<FieldLabel> {
    let spec = change.entity.spec();
    let known = spec.fields.iter().map(|f| f.name).filter(|name| change.fields.contains_key(*name));
    let unknown = change.fields.keys().map(String::as_str).filter(|name| spec.field(name).is_none());
    known.chain(unknown).map(|name| field_label(change.entity, name)).collect()
}

/// Names records for the lists, reading each record and person once.
pub(crate) struct Labels<'s> {
    store: &'s Store,
    names: BTreeMap<(EntityKind, Uuid), Option<EntityState>>,
}

impl<'s> Labels<'s> {
    pub(crate) fn new(store: &'s Store) -> Labels<'s> {
        Labels { store, names: BTreeMap::new() }
    }

    fn entity(&mut self, kind: EntityKind, id: Uuid) -> Result<Option<&EntityState>, AppError> {
        if !self.names.contains_key(&(kind, id)) {
            let state = self.store.entity(kind, id)?;
            self.names.insert((kind, id), state);
        }
        Ok(self.names.get(&(kind, id)).and_then(Option::as_ref))
    }

    /// The name of a record held here (a user's display name), if it has one.
    pub(crate) fn name(&mut self, kind: EntityKind, id: Uuid) -> Result<Option<String>, AppError> {
        let name_field = if kind == EntityKind::User { field::user::DISPLAY_NAME } else { NAME };
        Ok(self.entity(kind, id)?.and_then(|s| s.get_str(name_field)).map(str::to_string))
    }

    /// The record `kind`/`id` as a list names it: its own name, else the person it is about;
    /// `written` (a change's fields) stands in for what the record no longer holds (an undone
    /// creation) or does not hold yet.
    pub(crate) fn of(
        &mut self,
        kind: EntityKind,
        id: Uuid,
        written: Option<&BTreeMap<String, FieldWrite>>,
    ) -> Result<RecordLabel, AppError> {
        let state = self.entity(kind, id)?.cloned();
        let get = |name: &str| -> Option<String> {
            state
                .as_ref()
                .and_then(|s| s.get_str(name))
                .or_else(|| written.and_then(|w| w.get(name)).and_then(|w| w.value.as_str()))
                .map(str::to_string)
        };
        let get_id = |name: &str| get(name).and_then(|s| Uuid::try_parse(&s).ok());
        let case_id = if kind == EntityKind::Case { Some(id) } else { get_id(field::CASE_ID) };
        let mut recipient_id = if kind == EntityKind::Recipient { Some(id) } else { get_id(field::RECIPIENT_ID) };
        if recipient_id.is_none()
            && let Some(case_id) = case_id
        {
            recipient_id = self.entity(EntityKind::Case, case_id)?.and_then(|c| c.get_id(field::RECIPIENT_ID));
        }
        let own_name = if kind == EntityKind::User { get(field::user::DISPLAY_NAME) } else { get(NAME) };
        let name = match (own_name, recipient_id) {
            (Some(name), _) => Some(name),
            (None, Some(person)) => self.name(EntityKind::Recipient, person)?,
            (None, None) => None,
        };
        Ok(RecordLabel { kind, id, name, recipient_id, case_id })
    }
}

/// Every kind with a label calls it `name` (users aside: `display_name`).
const NAME: &str = field::recipient::NAME;

#[cfg(test)]
mod tests {

    fn refused_with(code: &str) -> sync_client::SyncError {
        sync_client::SyncError::Server(protocol::ApiError::new(code, "拒绝", "refused"))
    }

    #[test]
    fn a_deactivated_account_is_signed_out_whatever_waits() {
        let reason = sign_out_reason(&refused_with(protocol::codes::ACCOUNT_DEACTIVATED), 3).expect("signed out");
        assert_eq!(reason.code, protocol::codes::ACCOUNT_DEACTIVATED);
    }

    #[test]
    fn a_revoked_laptop_is_signed_out_only_once_its_work_is_handed_over() {
        let revoked = refused_with(protocol::codes::DEVICE_REVOKED);
        assert_eq!(sign_out_reason(&revoked, 2), None, "still handing over two changes");
        let reason = sign_out_reason(&revoked, 0).expect("signed out");
        assert_eq!(reason.code, protocol::codes::DEVICE_REVOKED);
    }

    #[test]
    fn other_failures_keep_the_user_signed_in() {
        assert_eq!(sign_out_reason(&refused_with("internal"), 0), None);
        let offline = sync_client::SyncError::Offline("no route".into());
        assert_eq!(sign_out_reason(&offline, 0), None);
    }

    use super::*;
    use crate::testing::Station;

    #[test]
    fn a_recorded_write_waits_in_the_outbox_and_nothing_is_refused_yet() {
        let mut station = Station::new();
        let before = outbox_counts(&station.store).expect("counts").pending;
        station.add_recipient("张三", 11);
        let counts = outbox_counts(&station.store).expect("counts");
        assert_eq!(
            counts,
            OutboxCounts { pending: before + 1, rejected: 0, conflicts_open: 0, duplicates: 0, last_verified_at: None }
        );
        assert_eq!(crate::refused::rejected_changes(&station.store).expect("list"), vec![]);
    }

    fn reason(at: DateTime<Utc>) -> store::SetAsideReason {
        store::SetAsideReason {
            code: "too_large".into(),
            message_zh: "修改过大，服务器无法接收".into(),
            message_en: "The change is too large for the server".into(),
            at,
        }
    }

    #[test]
    fn waiting_changes_name_their_record_and_fields_in_the_order_they_are_sent() {
        let mut station = Station::new();
        let person = station.add_recipient("张三", 11);
        let moment = station.moment();
        let worker = station.worker.clone();
        let fields = contract::FieldValues::from([(field::recipient::PHONE.to_string(), "13800138000".into())]);
        crate::recipient::update_recipient(&mut station.store, &worker, person, &fields, moment).expect("edited");

        let page = waiting_changes(&station.store).expect("page");
        assert_eq!(page.total, station.store.pending_count().expect("count"));
        assert!(page.set_aside.is_empty());
        let about_person: Vec<&WaitingChangeView> = page.waiting.iter().filter(|w| w.record.id == person).collect();
        assert_eq!(about_person.len(), 2, "the creation and the edit");
        let (created, edited) = (about_person[0], about_person[1]);
        assert_eq!(created.op, domain::change::Op::Create);
        assert_eq!(edited.op, domain::change::Op::Update);
        for view in [created, edited] {
            assert_eq!(view.record.kind, EntityKind::Recipient);
            assert_eq!(view.record.name.as_deref(), Some("张三"));
            assert_eq!(view.record.recipient_id, Some(person));
        }
        assert_eq!(
            edited.fields,
            vec![FieldLabel { field: "phone".into(), label_zh: "手机号".into(), label_en: "mobile number".into() }]
        );
        assert_eq!(edited.recorded_at, Some(moment.now), "the edit's own clock stamp");
        assert!(created.fields.iter().any(|f| f.field == field::recipient::NAME && f.label_zh == "姓名"));
    }

    #[test]
    fn a_visit_waiting_is_named_after_the_person_visited() {
        let mut station = Station::new();
        let person = station.add_recipient("李四", 13);
        let moment = station.moment();
        let worker = station.worker.clone();
        let draft = contract::VisitDraft { observations: "身体尚可".into(), ..Default::default() };
        let visit = crate::visit::record_visit(&mut station.store, &worker, person, &draft, moment).expect("visit");
        let page = waiting_changes(&station.store).expect("page");
        let shown = page.waiting.iter().find(|w| w.record.id == visit.id).expect("the visit waits");
        assert_eq!(shown.record.kind, EntityKind::Visit);
        assert_eq!(shown.record.name.as_deref(), Some("李四"));
        assert_eq!(shown.record.recipient_id, Some(person));
    }

    #[test]
    fn a_change_set_aside_is_listed_with_its_reason_until_it_is_tried_again() {
        let mut station = Station::new();
        let person = station.add_recipient("王五", 15);
        let at = station.moment().now;
        let seq = station
            .store
            .pending_changes(10_000)
            .expect("outbox")
            .iter()
            .find(|c| c.entity_id == person)
            .expect("the creation waits")
            .device_seq;
        station.store.set_aside(seq, &reason(at)).expect("set aside");
        let total = station.store.pending_count().expect("count");

        let page = waiting_changes(&station.store).expect("page");
        assert_eq!(page.total, total, "set-aside changes are still counted as waiting");
        assert!(page.waiting.iter().all(|w| w.record.id != person));
        assert_eq!(page.set_aside.len(), 1);
        let aside = &page.set_aside[0];
        assert_eq!(aside.record.name.as_deref(), Some("王五"));
        let shown = aside.reason.as_ref().expect("a reason");
        assert_eq!(shown.code, "too_large");
        assert_eq!(shown.message_en, "The change is too large for the server");
        assert_eq!(aside.set_aside_at, Some(at));

        assert_eq!(retry_set_aside(&mut station.store).expect("retried"), 1);
        let page = waiting_changes(&station.store).expect("page");
        assert!(page.set_aside.is_empty());
        assert!(page.waiting.iter().any(|w| w.record.id == person && w.reason.is_none()), "back in the queue");
        assert_eq!(page.total, total);
        assert_eq!(retry_set_aside(&mut station.store).expect("nothing left"), 0);
    }
}
