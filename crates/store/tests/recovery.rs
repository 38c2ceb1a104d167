//! A device database that went back in time, changes the server cannot take as sent, values
//! pulled while a refused change waited, stamps no clock can make, probable duplicates, and the
//! durability of the file.

mod common;

use chrono::Utc;
use common::World;
use domain::change::{Change, FieldWrite, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::hlc::Hlc;
use domain::rules::RejectionInfo;
use serde_json::{Value, json};
use store::{SetAsideReason, Store, StoreError};
use uuid::Uuid;

fn page(changes: &[Change], first: u64) -> Vec<(u64, Incoming)> {
    changes.iter().enumerate().map(|(i, c)| (first + i as u64, Incoming::Change(c.clone()))).collect()
}

fn update_from(device: u128, entity: &EntityState, field: &str, value: Value, millis: u64, counter: u32) -> Change {
    let device = Uuid::from_u128(device);
    Change {
        change_id: Uuid::now_v7(),
        device_id: device,
        device_seq: 1,
        author_id: Uuid::from_u128(0xa0),
        schema_version: domain::SCHEMA_VERSION,
        hlc: Hlc::new(millis, counter, device),
        entity: entity.kind,
        entity_id: entity.id,
        op: Op::Update,
        fields: [(field.to_string(), FieldWrite { value, base: Some(entity.clock(field).hlc), resolves: vec![] })]
            .into_iter()
            .collect(),
    }
}

fn edit(w: &mut World, recipient: Uuid, field: &str, value: &str) -> Change {
    let worker = w.a.worker.clone();
    w.record(&worker, vec![Write::update(EntityKind::Recipient, recipient).set(field, value)]).expect("edit").remove(0)
}

fn reason() -> RejectionInfo {
    RejectionInfo {
        code: "role_cannot".into(),
        message_zh: "无权".into(),
        message_en: "not allowed".into(),
        field: None,
    }
}

/// Marks everything waiting as accepted by a server, as after a round.
fn accept_everything(w: &mut World) {
    let pending = w.store.pending_changes(10_000).expect("outbox");
    let accepted: Vec<store::AcceptedChange> = pending
        .iter()
        .enumerate()
        .map(|(i, c)| store::AcceptedChange { device_seq: c.device_seq, server_seq: i as u64 + 1, effective_hlc: None })
        .collect();
    w.store.mark_accepted_all(&accepted).expect("accepted");
}

#[test]
fn own_changes_pulled_back_raise_the_counter_past_them() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    accept_everything(&mut w);
    let before = w.store.last_device_seq().expect("seq");
    // Sent and accepted, then lost: the database went back to before these two edits.
    let lost: Vec<Change> =
        ["13800138000", "13900139000"].iter().map(|p| edit(&mut w, recipient, field::recipient::PHONE, p)).collect();
    w.store.connection().execute("DELETE FROM changes WHERE device_seq > ?1", [before as i64]).expect("roll back");
    w.store.connection().execute("UPDATE device SET last_device_seq = ?1", [before as i64]).expect("roll back");
    // Typed after the rollback, before any pull: takes the first lost number again (the
    // server will say so, and it is renumbered then).
    let typed = edit(&mut w, recipient, field::recipient::ADDRESS, "青山村5组");
    assert_eq!(typed.device_seq, lost[0].device_seq, "the rolled-back database reuses a number");

    let report = w.store.apply_pulled(&page(&lost, 50), 51).expect("pulled");
    assert_eq!(report.applied, 2);

    let next = edit(&mut w, recipient, field::recipient::NOTES, "之后");
    assert_eq!(next.device_seq, lost[1].device_seq + 1, "numbered after the device's own changes");
    let pending: Vec<Uuid> = w.store.pending_changes(10).expect("outbox").iter().map(|c| c.change_id).collect();
    assert_eq!(pending, vec![typed.change_id, next.change_id], "what was typed is kept, in order");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(
        (state.get_str(field::recipient::ADDRESS), state.get_str(field::recipient::PHONE)),
        (Some("青山村5组"), Some("13900139000"))
    );
}

#[test]
fn an_outbox_insert_on_a_taken_sequence_number_fails_loudly() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let last = w.store.last_device_seq().expect("seq");
    w.store.connection().execute("UPDATE device SET last_device_seq = ?1", [(last - 1) as i64]).expect("counter back");
    let worker = w.a.worker.clone();
    let result = w.record(
        &worker,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
    );
    assert!(matches!(result, Err(StoreError::SequenceTaken(n)) if n == last), "{result:?}");
    assert_eq!(
        w.get(EntityKind::Recipient, recipient).get_str(field::recipient::PHONE),
        None,
        "nothing of the write is left"
    );
}

#[test]
fn a_change_set_aside_leaves_the_sequence_dense_and_comes_back_at_the_end_when_retried() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    accept_everything(&mut w);
    let first = 0;
    let a = edit(&mut w, recipient, field::recipient::PHONE, "13800138000");
    let b = edit(&mut w, recipient, field::recipient::ADDRESS, "青山村5组");
    let c = edit(&mut w, recipient, field::recipient::NOTES, "独居");
    let why = SetAsideReason {
        code: "too_large".into(),
        message_zh: "太大".into(),
        message_en: "too large".into(),
        at: Utc::now(),
    };
    w.store.set_aside(b.device_seq, &why).expect("set aside");

    let pending = w.store.pending_changes(100).expect("outbox");
    let ids: Vec<Uuid> = pending[first..].iter().map(|c| c.change_id).collect();
    assert_eq!(ids, vec![a.change_id, c.change_id]);
    assert_eq!(pending[first + 1].device_seq, b.device_seq, "the next change moved up into its number");
    let aside = w.store.set_aside_changes().expect("set aside");
    assert_eq!((aside.len(), aside[0].change.change_id, aside[0].reason.code.as_str()), (1, b.change_id, "too_large"));
    assert_eq!(
        w.get(EntityKind::Recipient, recipient).get_str(field::recipient::ADDRESS),
        Some("青山村5组"),
        "kept locally"
    );
    assert_eq!(w.store.set_aside_count().expect("count"), 1);
    // Shown and counted with the refused ones, marked as set aside.
    let shown = w.store.rejected_changes().expect("list");
    assert_eq!(shown.len(), 1);
    assert!(shown[0].set_aside && shown[0].change_id == b.change_id && shown[0].rejection.code == "too_large");

    assert_eq!(w.store.retry_set_aside(None).expect("retry"), 1);
    assert!(w.store.rejected_changes().expect("list").is_empty());
    let pending = w.store.pending_changes(100).expect("outbox");
    let last = pending.last().expect("one");
    assert_eq!((last.change_id, last.device_seq), (b.change_id, c.device_seq));
    assert_eq!(w.store.set_aside_count().expect("count"), 0);
}

#[test]
fn resending_from_the_servers_number_makes_accepted_changes_it_lost_wait_again_in_order() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    accept_everything(&mut w);
    let a = edit(&mut w, recipient, field::recipient::PHONE, "13800138000");
    let b = edit(&mut w, recipient, field::recipient::ADDRESS, "青山村5组");
    let c = edit(&mut w, recipient, field::recipient::NOTES, "独居");
    for (n, change) in [&a, &b].into_iter().enumerate() {
        w.store.mark_accepted(change.device_seq, 10 + n as u64, None).expect("accepted");
    }
    // The server (restored) expects a's number again.
    assert_eq!(w.store.resend_from(a.device_seq).expect("resend"), 3);
    let pending = w.store.pending_changes(100).expect("outbox");
    let tail: Vec<(Uuid, u64)> = pending.iter().map(|c| (c.change_id, c.device_seq)).collect();
    assert_eq!(tail, vec![(a.change_id, a.device_seq), (b.change_id, b.device_seq), (c.change_id, c.device_seq)]);
    assert_eq!(w.store.last_device_seq().expect("seq"), c.device_seq);
}

/// A restored server, noted with its new generation: in the same transaction every change of
/// this database's own that a server had taken waits to be sent again, under its current id —
/// its history under the id it had before it became a new device included, and its own change
/// pulled back under that id after its files went back in time — in the order made, ahead of
/// the unsent ones. Only change ids can tell what the restored server lost (simulation seeds
/// 175, 280 and 6519).
#[test]
fn a_restored_server_makes_every_own_change_it_had_taken_wait_again_under_the_current_id() {
    let mut w = World::new();
    assert_eq!(w.store.note_server_generation("g1").expect("noted"), store::GenerationSeen::Known);
    // The organisation recorded on this store to begin with: its own too.
    let setup = w.store.pending_count().expect("outbox") as usize;
    let recipient = w.add_zhang_san();
    let created = w.store.pending_changes(1000).expect("outbox").remove(setup);
    accept_everything(&mut w);
    let old_id = w.store.device_id();
    let held = w.store.entity(EntityKind::Recipient, recipient).expect("read").expect("held");
    let new_id = Uuid::from_u128(0xbeef);
    w.store.become_device(new_id).expect("a new device");
    // Its own edit under the old id, sent before its files went back in time, pulled back.
    let mut pulled_back = update_from(0, &held, field::recipient::PHONE, json!("13800138000"), 0, 0);
    pulled_back.device_id = old_id;
    pulled_back.device_seq = created.device_seq + 1;
    pulled_back.hlc = Hlc::new(created.hlc.millis + 1, 0, old_id);
    // Another device's edit: not this database's to send.
    let theirs = update_from(0xd2, &held, field::recipient::NOTES, json!("独居"), created.hlc.millis + 2, 0);
    w.store.apply_pulled(&page(&[pulled_back.clone(), theirs.clone()], 10), 11).expect("pulled");
    let accepted = edit(&mut w, recipient, field::recipient::ADDRESS, "青山村5组");
    accept_everything(&mut w);
    let unsent = edit(&mut w, recipient, field::recipient::ADDRESS, "青山村6组");
    assert_eq!(w.store.pending_count().expect("outbox"), 1);

    assert_eq!(w.store.note_server_generation("g2").expect("noted"), store::GenerationSeen::Changed);
    let pending = w.store.pending_changes(1000).expect("outbox");
    let ids: Vec<Uuid> = pending.iter().map(|c| c.change_id).skip(setup).collect();
    assert_eq!(ids, vec![created.change_id, pulled_back.change_id, accepted.change_id, unsent.change_id]);
    assert!(pending.iter().all(|c| c.device_id == new_id), "all under the current id: {pending:?}");
    let first = pending[0].device_seq;
    let seqs: Vec<u64> = pending.iter().map(|c| c.device_seq).collect();
    assert_eq!(seqs, (first..first + setup as u64 + 4).collect::<Vec<_>>(), "numbered densely");
    assert_eq!(w.store.last_device_seq().expect("seq"), first + setup as u64 + 3);
    assert_eq!(w.store.pull_cursor().expect("cursor"), 0);
    // Noted once: the same generation again changes nothing.
    assert_eq!(w.store.note_server_generation("g2").expect("noted"), store::GenerationSeen::Known);
    assert_eq!(w.store.pending_count().expect("outbox") as usize, setup + 4);
}

#[test]
fn undoing_a_refused_change_keeps_a_value_pulled_meanwhile() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let created = w.get(EntityKind::Recipient, recipient);
    let refused = edit(&mut w, recipient, field::recipient::PHONE, "13800138000");
    // Another device's edit of the same field, stamped before the refused one (its clock was
    // behind), pulled while the refused change waited: here it lost to the refused value.
    let theirs = update_from(9, &created, field::recipient::PHONE, json!("13900139000"), refused.hlc.millis - 5, 0);
    w.store.apply_pulled(&page(std::slice::from_ref(&theirs), 20), 20).expect("pulled");
    assert_eq!(w.get(EntityKind::Recipient, recipient).get_str(field::recipient::PHONE), Some("13800138000"));

    w.store.mark_rejected(refused.device_seq, reason(), None).expect("rejected");

    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(
        state.get_str(field::recipient::PHONE),
        Some("13900139000"),
        "the pulled value stands, as on the server"
    );
    assert_eq!(state.clock(field::recipient::PHONE).hlc, theirs.hlc);
    assert!(w.store.open_conflicts().expect("conflicts").is_empty(), "{:?}", w.store.open_conflicts());
}

#[test]
fn a_pulled_entry_with_a_stamp_no_clock_can_make_is_skipped_and_the_page_goes_on() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let created = w.get(EntityKind::Recipient, recipient);
    let now = u64::try_from(Utc::now().timestamp_millis()).expect("after 1970");
    let bad = update_from(9, &created, field::recipient::PHONE, json!("13900139000"), now, Hlc::MAX_COUNTER + 1);
    let far = update_from(8, &created, field::recipient::ADDRESS, json!("远方"), Hlc::MAX_MILLIS, 0);
    let good = update_from(7, &created, field::recipient::NOTES, json!("正常"), now, 3);
    let report = w.store.apply_pulled(&page(&[bad, far, good], 30), 32).expect("the page is applied");
    assert_eq!(report.skipped_bad_stamp, 1);
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.get_str(field::recipient::PHONE), None, "the unwritable one is skipped");
    assert_eq!(state.get_str(field::recipient::NOTES), Some("正常"), "the rest of the page is applied");
    assert_eq!(w.store.pull_cursor().expect("cursor"), 32);
    let clock = w.store.clock().expect("clock");
    assert!(clock.last_millis < Hlc::MAX_MILLIS, "the clock did not jump to the far stamp: {clock:?}");
    // And the device keeps writing stamps that parse.
    let next = edit(&mut w, recipient, field::recipient::PHONE, "13700137000");
    assert_eq!(next.hlc.to_string().parse::<Hlc>(), Ok(next.hlc));
}

#[test]
fn the_same_id_number_twice_in_a_station_is_a_probable_duplicate() {
    let mut w = World::new();
    let first = w.add_zhang_san();
    let second = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let (_other, write) = w.recipient_write("李四", "110105194912310021", "1949-12-31", "Female");
    let _ = w.record(&worker, vec![write]);
    let groups = w.store.probable_duplicates(Some(w.a.id)).expect("duplicates");
    assert_eq!(groups.len(), 1, "{groups:?}");
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(groups[0].recipient_ids, both);
    assert_eq!(groups[0].id_number, "11010519491231002X");
    assert_eq!(w.store.duplicates_of(first).expect("of first"), vec![second]);
    assert!(w.store.probable_duplicates(Some(w.b.id)).expect("other station").is_empty());
}

#[test]
fn the_device_database_syncs_every_commit_to_disk() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("device.db"), "password").expect("open");
    let level: i64 = store.connection().query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("pragma");
    assert_eq!(level, 2, "FULL");
    let mode: String = store.connection().query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("pragma");
    assert_eq!(mode, "wal");
}

#[test]
fn an_own_change_pulled_back_before_its_answer_is_taken_as_accepted_with_the_servers_stamp() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    accept_everything(&mut w);
    let mine = edit(&mut w, recipient, field::recipient::PHONE, "13800138000");
    // The server clamped its stamp (this laptop's clock is a day ahead); the answer was lost,
    // and the round pulled anyway.
    let mut as_logged = mine.clone();
    as_logged.hlc = Hlc::new(mine.hlc.millis - 86_400_000, 0, mine.hlc.device);
    w.store.apply_pulled(&page(std::slice::from_ref(&as_logged), 90), 90).expect("pulled");

    assert_eq!(w.store.pending_count().expect("outbox"), 0, "the log was the answer");
    assert!(w.store.open_conflicts().expect("conflicts").is_empty(), "it is not its own conflict");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(
        (state.get_str(field::recipient::PHONE), state.clock(field::recipient::PHONE).hlc),
        (Some("13800138000"), as_logged.hlc)
    );
    // The stored answer, when it comes, changes nothing.
    w.store.mark_accepted(mine.device_seq, 90, Some(as_logged.hlc)).expect("answer");
    assert!(w.store.open_conflicts().expect("conflicts").is_empty());
}

#[test]
fn a_pulled_change_under_a_number_another_pulled_change_of_its_device_has_does_not_stop_the_pull() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let created = w.get(EntityKind::Recipient, recipient);
    // A server restored from a backup numbers its own changes again: two changes of its device
    // under one number, pulled one after the other.
    let at = created.created.hlc.millis + 1000;
    let first = update_from(0x5e, &created, field::recipient::NOTES, json!("第一次"), at, 0);
    let mut again = update_from(0x5e, &created, field::recipient::PHONE, json!("13800138000"), at + 100, 0);
    again.device_seq = first.device_seq;
    w.store.apply_pulled(&page(std::slice::from_ref(&first), 40), 40).expect("pulled");
    w.store.apply_pulled(&page(std::slice::from_ref(&again), 1), 41).expect("the pull goes on");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(
        (state.get_str(field::recipient::NOTES), state.get_str(field::recipient::PHONE)),
        (Some("第一次"), Some("13800138000"))
    );
}
