//! The conflicts page: values that lost a concurrent edit, each kept beside the value that
//! stands for a person to choose between, and the recipients that are probably one person
//! recorded twice (the same ID number on two laptops offline).
//!
//! Choosing is a write like any other, through `Store::record`: the chosen value, written on
//! top of the one that stands (its base), naming the lost value it settles (`resolves`), so the
//! merge closes the conflict here, on the server and on every other device.

use std::collections::BTreeMap;

use contract::{
    ConflictChoice, ConflictValue, ConflictView, ConflictsPage, DuplicateRecipient, DuplicateView, KeepValue,
};
use domain::change::Write;
use domain::entity::{EntityKind, FieldType, field};
use domain::policy::Actor;
use domain::validate::normalize_field;
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::sync_view::{Labels, field_label, stamp_time};
use crate::{AppError, Moment};

/// The open conflicts, by record and field, and the probable duplicates.
pub fn conflicts_page(store: &Store) -> Result<ConflictsPage, AppError> {
    let mut labels = Labels::new(store);
    let mut conflicts = Vec::new();
    let this_device = store.device_id();
    for row in store.open_conflicts()? {
        // Shown conflicts are about records held here, so the standing value has a stamp.
        let Some(current_hlc) = row.current_hlc else { continue };
        let current_value = row.current_value.clone().unwrap_or(Value::Null);
        let current_author_name = match row.current_author_id {
            Some(author) => labels.name(EntityKind::User, author)?,
            None => None,
        };
        let lost_author_name = match (&row.lost_author_name, row.lost_author_id) {
            (Some(name), _) => Some(name.clone()),
            (None, Some(author)) => labels.name(EntityKind::User, author)?,
            (None, None) => None,
        };
        let names = referenced_names(&mut labels, row.entity_kind, &row.field, [&row.lost_value, &current_value])?;
        conflicts.push(ConflictView {
            record: labels.of(row.entity_kind, row.entity_id, None)?,
            field: field_label(row.entity_kind, &row.field),
            lost: ConflictValue {
                value: row.lost_value,
                hlc: row.lost_hlc,
                at: stamp_time(row.lost_hlc),
                author_id: row.lost_author_id,
                author_name: lost_author_name,
                device_id: Some(row.lost_hlc.device),
                this_device: row.lost_hlc.device == this_device,
            },
            current: ConflictValue {
                value: current_value,
                hlc: current_hlc,
                at: stamp_time(current_hlc),
                author_id: row.current_author_id,
                author_name: current_author_name,
                device_id: Some(current_hlc.device),
                this_device: current_hlc.device == this_device,
            },
            names,
        });
    }
    Ok(ConflictsPage { conflicts, duplicates: duplicates(store, &mut labels)? })
}

/// Keeps the value `choice` names (the lost one, the one that stands, or a third the person
/// typed, checked against the field's spec first and refused at the field when wrong), settling
/// the conflict: the value is written (through `Store::record`, so the rules check it, with its
/// author) on top of the one that stands, resolving the lost one. Refused with [`AppError::ConflictChanged`] when the conflict is no longer open as it
/// was shown (settled meanwhile, or another value stands now). Returns the page as it stands.
pub fn resolve_conflict(
    store: &mut Store,
    actor: &Actor,
    choice: &ConflictChoice,
    at: Moment,
) -> Result<ConflictsPage, AppError> {
    let Some(spec) = choice.entity_kind.spec().field(&choice.field) else {
        return Err(AppError::BadRequest(format!("{:?} has no field {}", choice.entity_kind, choice.field)));
    };
    let open = store.open_conflicts()?;
    let conflict = open
        .into_iter()
        .find(|c| {
            c.entity_kind == choice.entity_kind
                && c.entity_id == choice.entity_id
                && c.field == choice.field
                && c.lost_hlc == choice.lost_hlc
        })
        .ok_or(AppError::ConflictChanged)?;
    if conflict.current_hlc != Some(choice.current_hlc) {
        return Err(AppError::ConflictChanged);
    }
    let value = match choice.keep {
        KeepValue::Lost => conflict.lost_value,
        KeepValue::Current => conflict.current_value.unwrap_or(Value::Null),
        KeepValue::Typed => {
            let typed = choice.typed.as_ref().ok_or_else(|| AppError::BadRequest("no value typed".into()))?;
            normalize_field(spec, typed, at.today)?
        }
    };
    let mut write = Write::update(choice.entity_kind, choice.entity_id).set(spec.name, value);
    if let Some(written) = write.fields.get_mut(spec.name) {
        written.base = Some(choice.current_hlc);
        written.resolves = vec![choice.lost_hlc];
    }
    store.record(actor, vec![write], at.now, at.today)?;
    conflicts_page(store)
}

/// The names of the records a reference field's values point to (a village, a household).
pub(crate) fn referenced_names<'v>(
    labels: &mut Labels<'_>,
    kind: EntityKind,
    field_name: &str,
    values: impl IntoIterator<Item = &'v Value>,
) -> Result<BTreeMap<Uuid, String>, AppError> {
    let target = match kind.spec().field(field_name).map(|f| f.ty) {
        Some(FieldType::Ref(target) | FieldType::RefList(target)) => target,
        _ => return Ok(BTreeMap::new()),
    };
    let mut names = BTreeMap::new();
    for value in values {
        let ids: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for id in ids.into_iter().filter_map(Value::as_str).filter_map(|s| Uuid::try_parse(s).ok()) {
            if let Some(name) = labels.name(target, id)? {
                names.insert(id, name);
            }
        }
    }
    Ok(names)
}

/// Recipients sharing an ID number within a station, each group with what tells its records
/// apart (village, who made it and when).
fn duplicates(store: &Store, labels: &mut Labels<'_>) -> Result<Vec<DuplicateView>, AppError> {
    let mut out = Vec::new();
    for group in store.probable_duplicates(None)? {
        let mut recipients = Vec::with_capacity(group.recipient_ids.len());
        for id in group.recipient_ids {
            let Some(person) = store.entity(EntityKind::Recipient, id)? else { continue };
            let village = match person.get_id(field::recipient::VILLAGE_ID) {
                Some(village) => labels.name(EntityKind::Village, village)?,
                None => None,
            };
            recipients.push(DuplicateRecipient {
                id,
                name: person.get_str(field::recipient::NAME).unwrap_or_default().to_string(),
                village,
                created_at: stamp_time(person.created.hlc),
                created_by: labels.name(EntityKind::User, person.created.author)?,
            });
        }
        let chars: Vec<char> = group.id_number.chars().collect();
        let id_number_tail = chars[chars.len().saturating_sub(4)..].iter().collect();
        out.push(DuplicateView { id_number_tail, recipients });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use domain::change::{Change, FieldWrite, Incoming, Op};
    use domain::hlc::Hlc;
    use serde_json::json;

    use super::*;
    use crate::testing::{Station, id_number};

    /// The worker's phone edit and another laptop's, made without seeing each other: the later
    /// one (the other laptop's) stands and the worker's is kept as an open conflict.
    fn concurrent_phone_edits(station: &mut Station) -> Uuid {
        concurrent_phone_edits_from_elsewhere(station).0
    }

    /// [`concurrent_phone_edits`], with the other laptop's edit.
    fn concurrent_phone_edits_from_elsewhere(station: &mut Station) -> (Uuid, Change) {
        let person = station.add_recipient("张三", 11);
        let worker = station.worker.clone();
        let moment = station.moment();
        let ours = contract::FieldValues::from([(field::recipient::PHONE.to_string(), json!("13800138000"))]);
        crate::recipient::update_recipient(&mut station.store, &worker, person, &ours, moment).expect("edited");
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        let device = Uuid::from_u128(0xdead);
        let millis = u64::try_from(moment.now.timestamp_millis()).expect("millis") + 60_000;
        let theirs = Change {
            change_id: Uuid::now_v7(),
            device_id: device,
            device_seq: 1,
            author_id: station.deputy.user_id,
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(millis, 0, device),
            entity: EntityKind::Recipient,
            entity_id: person,
            op: Op::Update,
            fields: [(
                field::recipient::PHONE.to_string(),
                FieldWrite { value: json!("13900139000"), base: Some(state.created.hlc), resolves: vec![] },
            )]
            .into_iter()
            .collect(),
        };
        station.store.apply_pulled(&[(1, Incoming::Change(theirs.clone()))], 1).expect("pulled");
        (person, theirs)
    }

    fn choice(view: &ConflictView, keep: KeepValue) -> ConflictChoice {
        ConflictChoice {
            entity_kind: view.record.kind,
            entity_id: view.record.id,
            field: view.field.field.clone(),
            lost_hlc: view.lost.hlc,
            current_hlc: view.current.hlc,
            keep,
            typed: None,
        }
    }

    #[test]
    fn a_value_lost_to_a_concurrent_edit_is_shown_beside_the_one_that_stands() {
        let mut station = Station::new();
        let person = concurrent_phone_edits(&mut station);
        let page = conflicts_page(&station.store).expect("page");
        assert_eq!(page.conflicts.len(), 1, "{page:?}");
        let conflict = &page.conflicts[0];
        assert_eq!(conflict.record.id, person);
        assert_eq!(conflict.record.name.as_deref(), Some("张三"));
        assert_eq!((conflict.field.label_zh.as_str(), conflict.field.label_en.as_str()), ("手机号", "mobile number"));
        assert_eq!(conflict.lost.value, json!("13800138000"));
        assert_eq!(conflict.lost.author_name.as_deref(), Some("张社工"));
        assert_eq!(conflict.current.value, json!("13900139000"));
        assert_eq!(conflict.current.author_name.as_deref(), Some("张副站长"));
        assert!(conflict.lost.at < conflict.current.at);
        assert!(page.duplicates.is_empty());
    }

    #[test]
    fn each_side_shows_the_device_it_was_written_on_and_which_one_is_this_laptop() {
        let mut station = Station::new();
        concurrent_phone_edits(&mut station);
        let conflict = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        assert_eq!(conflict.lost.device_id, Some(station.store.device_id()));
        assert!(conflict.lost.this_device, "the worker's edit was made here");
        assert_eq!(conflict.current.device_id, Some(Uuid::from_u128(0xdead)));
        assert!(!conflict.current.this_device);
    }

    #[test]
    fn a_third_value_typed_is_checked_by_the_fields_spec_and_settles_the_conflict_with_its_author() {
        let mut station = Station::new();
        let person = concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let worker = station.worker.clone();
        let mut third = choice(&shown, KeepValue::Typed);

        third.typed = Some(json!("12345"));
        let moment = station.moment();
        let wrong = contract::CommandError::from(
            resolve_conflict(&mut station.store, &worker, &third, moment).expect_err("not a mobile number"),
        );
        assert_eq!((wrong.code.as_str(), wrong.field.as_deref()), ("mobile", Some(field::recipient::PHONE)));
        assert!(wrong.message_zh.starts_with("手机号") && wrong.message_en.starts_with("Mobile number"), "{wrong:?}");
        assert_eq!(station.store.open_conflicts().expect("conflicts").len(), 1, "still open");

        third.typed = Some(json!("137 0013 7000"));
        let moment = station.moment();
        let page = resolve_conflict(&mut station.store, &worker, &third, moment).expect("resolved");
        assert!(page.conflicts.is_empty(), "{page:?}");
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(state.get_str(field::recipient::PHONE), Some("13700137000"));
        let resolving = station.store.pending_changes(10_000).expect("outbox").pop().expect("waits to be sent");
        assert_eq!(resolving.author_id, worker.user_id, "the decision's author");
        assert_eq!(resolving.fields[field::recipient::PHONE].resolves, vec![shown.lost.hlc]);
        assert_eq!(resolving.fields[field::recipient::PHONE].value, json!("13700137000"));
    }

    #[test]
    fn a_third_value_is_required_when_keeping_neither() {
        let mut station = Station::new();
        concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let worker = station.worker.clone();
        let moment = station.moment();
        let refused = resolve_conflict(&mut station.store, &worker, &choice(&shown, KeepValue::Typed), moment);
        assert!(matches!(refused, Err(AppError::BadRequest(_))), "{refused:?}");
        assert_eq!(station.store.open_conflicts().expect("conflicts").len(), 1);
    }

    #[test]
    fn a_conflict_settled_here_closes_on_another_laptop_once_it_pulls_the_decision() {
        let mut station = Station::new();
        let (person, theirs) = concurrent_phone_edits_from_elsewhere(&mut station);
        // Another laptop holds the same history (the server's log): the same conflict is open there.
        let mut elsewhere = store::Store::open_in_memory().expect("another laptop");
        let mut log: Vec<Change> = station.store.pending_changes(10_000).expect("outbox");
        log.push(theirs);
        let page: Vec<(u64, Incoming)> =
            log.into_iter().enumerate().map(|(i, c)| (i as u64 + 1, Incoming::Change(c))).collect();
        let head = page.len() as u64;
        elsewhere.apply_pulled(&page, head).expect("pulled");
        assert_eq!(crate::sync_view::outbox_counts(&elsewhere).expect("counts").conflicts_open, 1);

        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let mut third = choice(&shown, KeepValue::Typed);
        third.typed = Some(json!("13700137000"));
        let worker = station.worker.clone();
        let moment = station.moment();
        resolve_conflict(&mut station.store, &worker, &third, moment).expect("resolved");
        // The decision is pushed and accepted, and the other laptop pulls it.
        let resolving = station.store.pending_changes(10_000).expect("outbox").pop().expect("waits to be sent");
        station.store.mark_accepted(resolving.device_seq, head + 1, None).expect("accepted");
        elsewhere.apply_pulled(&[(head + 1, Incoming::Change(resolving))], head + 1).expect("pulled");

        assert_eq!(elsewhere.open_conflicts().expect("conflicts"), vec![], "settled there too");
        assert_eq!(crate::sync_view::outbox_counts(&elsewhere).expect("counts").conflicts_open, 0);
        assert_eq!(crate::sync_view::outbox_counts(&station.store).expect("counts").conflicts_open, 0);
        let there = elsewhere.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(there.get_str(field::recipient::PHONE), Some("13700137000"));
    }

    #[test]
    fn keeping_the_lost_value_writes_it_back_and_closes_the_conflict() {
        let mut station = Station::new();
        let person = concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let worker = station.worker.clone();
        let moment = station.moment();
        let page =
            resolve_conflict(&mut station.store, &worker, &choice(&shown, KeepValue::Lost), moment).expect("resolved");
        assert!(page.conflicts.is_empty(), "{page:?}");
        assert!(station.store.open_conflicts().expect("conflicts").is_empty());
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(state.get_str(field::recipient::PHONE), Some("13800138000"));
        let sent = station.store.pending_changes(10_000).expect("outbox");
        let resolving = sent.last().expect("the resolution waits to be sent");
        assert_eq!(resolving.fields[field::recipient::PHONE].resolves, vec![shown.lost.hlc]);
        assert_eq!(resolving.fields[field::recipient::PHONE].base, Some(shown.current.hlc));
    }

    #[test]
    fn keeping_the_value_that_stands_closes_the_conflict_and_changes_nothing_else() {
        let mut station = Station::new();
        let person = concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let worker = station.worker.clone();
        let moment = station.moment();
        resolve_conflict(&mut station.store, &worker, &choice(&shown, KeepValue::Current), moment).expect("resolved");
        assert!(station.store.open_conflicts().expect("conflicts").is_empty());
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(state.get_str(field::recipient::PHONE), Some("13900139000"));
    }

    #[test]
    fn a_conflict_settled_meanwhile_is_not_settled_twice() {
        let mut station = Station::new();
        concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let worker = station.worker.clone();
        let moment = station.moment();
        resolve_conflict(&mut station.store, &worker, &choice(&shown, KeepValue::Current), moment).expect("resolved");
        let waiting = station.store.pending_count().expect("count");
        let moment = station.moment();
        let again = resolve_conflict(&mut station.store, &worker, &choice(&shown, KeepValue::Lost), moment);
        let error = contract::CommandError::from(again.expect_err("already settled"));
        assert_eq!(error.code, contract::codes::CONFLICT_CHANGED);
        assert!(!error.message_zh.is_empty() && !error.message_en.is_empty());
        assert_eq!(station.store.pending_count().expect("count"), waiting, "nothing was written");
    }

    #[test]
    fn a_choice_made_on_a_value_that_no_longer_stands_is_refused() {
        let mut station = Station::new();
        let person = concurrent_phone_edits(&mut station);
        let shown = conflicts_page(&station.store).expect("page").conflicts.remove(0);
        let mut stale = choice(&shown, KeepValue::Lost);
        stale.current_hlc = shown.lost.hlc;
        let worker = station.worker.clone();
        let moment = station.moment();
        let refused = resolve_conflict(&mut station.store, &worker, &stale, moment).expect_err("stale");
        assert!(matches!(refused, AppError::ConflictChanged), "{refused:?}");
        assert_eq!(station.store.open_conflicts().expect("conflicts").len(), 1);
        let state = station.store.entity(EntityKind::Recipient, person).expect("read").expect("held");
        assert_eq!(state.get_str(field::recipient::PHONE), Some("13900139000"));
    }

    #[test]
    fn one_person_recorded_twice_shows_as_a_possible_duplicate_with_both_files() {
        let mut station = Station::new();
        let first = station.add_recipient("赵六", 17);
        // The same person recorded on another laptop, offline, arrives with the next pull.
        let other = Uuid::now_v7();
        let device = Uuid::from_u128(0xbeef);
        let created = Change {
            change_id: Uuid::now_v7(),
            device_id: device,
            device_seq: 1,
            author_id: station.deputy.user_id,
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(u64::try_from(station.moment().now.timestamp_millis()).expect("millis"), 0, device),
            entity: EntityKind::Recipient,
            entity_id: other,
            op: Op::Create,
            fields: [
                (field::STATION_ID, json!(station.id.to_string())),
                (field::recipient::VILLAGE_ID, json!(station.village2.to_string())),
                (field::recipient::NAME, json!("赵六")),
                (field::recipient::ID_NUMBER, json!(id_number("19500315", 17))),
                (field::recipient::GENDER, json!("Male")),
                (field::recipient::BIRTH_DATE, json!("1950-03-15")),
                (field::recipient::CATEGORIES, json!(["Dibao"])),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_string(), FieldWrite::new(value)))
            .collect(),
        };
        station.store.apply_pulled(&[(1, Incoming::Change(created))], 1).expect("pulled");

        let page = conflicts_page(&station.store).expect("page");
        assert_eq!(page.duplicates.len(), 1, "{page:?}");
        let group = &page.duplicates[0];
        let tail: String = id_number("19500315", 17).chars().skip(14).collect();
        assert_eq!(group.id_number_tail, tail);
        let mut ids: Vec<Uuid> = group.recipients.iter().map(|r| r.id).collect();
        ids.sort();
        let mut expected = vec![first, other];
        expected.sort();
        assert_eq!(ids, expected);
        let villages: Vec<Option<&str>> = group.recipients.iter().map(|r| r.village.as_deref()).collect();
        assert!(villages.contains(&Some("青山村")) && villages.contains(&Some("绿水村")), "{villages:?}");
        assert!(group.recipients.iter().all(|r| r.name == "赵六"));
        assert_eq!(crate::sync_view::outbox_counts(&station.store).expect("counts").duplicates, 1);
    }
}
