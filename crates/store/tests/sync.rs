//! What the sync engine relies on: pulled pages applied with their cursor in one transaction,
//! accepted changes adopting clamped stamps, rejected changes undone, conflicts kept exactly as
//! `domain::merge::ConflictBook` keeps them, and the per-station checksum and repair.

mod common;

use std::collections::BTreeSet;

use common::World;
use domain::Labelled;
use domain::change::{Change, FieldWrite, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState, checksum_fold};
use domain::field;
use domain::hlc::Hlc;
use domain::merge::{ConflictBook, merge};
use domain::rules::RejectionInfo;
use proptest::prelude::*;
use serde_json::{Value, json};
use store::{Store, StoreError};
use uuid::Uuid;

/// Every entity a store holds.
fn everything(store: &Store) -> Vec<EntityState> {
    EntityKind::ALL.iter().flat_map(|k| store.list(*k, None).expect("list")).collect()
}

/// The pulled page a server would send for `changes`, numbered from `first`.
fn page(changes: &[Change], first: u64) -> Vec<(u64, Incoming)> {
    changes.iter().enumerate().map(|(i, c)| (first + i as u64, Incoming::Change(c.clone()))).collect()
}

/// An update made on another device.
fn remote_update(
    entity: &EntityState,
    field: &str,
    value: Value,
    base: Option<Hlc>,
    millis: u64,
    device: u128,
) -> Change {
    let device = Uuid::from_u128(device);
    Change {
        change_id: Uuid::now_v7(),
        device_id: device,
        device_seq: millis,
        author_id: Uuid::from_u128(0xa000 + (millis as u128)),
        schema_version: domain::SCHEMA_VERSION,
        hlc: Hlc::new(millis, 0, device),
        entity: entity.kind,
        entity_id: entity.id,
        op: Op::Update,
        fields: [(field.to_string(), FieldWrite { value, base, resolves: vec![] })].into_iter().collect(),
    }
}

fn reason() -> RejectionInfo {
    RejectionInfo {
        code: "outside_station".into(),
        message_zh: "该记录不属于您所在的社工站".into(),
        message_en: "not allowed".into(),
        field: None,
    }
}

#[test]
fn a_pulled_page_brings_another_device_to_the_same_state() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    w.record(
        &worker,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
    )
    .expect("edit");
    let changes = w.store.pending_changes(1000).expect("outbox");

    let mut other = Store::open_in_memory().expect("other device");
    let report = other.apply_pulled(&page(&changes, 1), changes.len() as u64).expect("applied");
    assert_eq!(report.applied, changes.len());
    assert_eq!((report.skipped_unknown, report.conflicts_opened), (0, 0));
    assert_eq!(other.pull_cursor().expect("cursor"), changes.len() as u64);
    assert_eq!(everything(&other), everything(&w.store));
    for station in [w.a.id, w.b.id] {
        assert_eq!(other.station_checksum(station).expect("sum"), w.store.station_checksum(station).expect("sum"));
    }
    // Nothing pulled is pending here, and the clock orders after everything seen.
    assert_eq!(other.pending_count().expect("pending"), 0);
    let last = changes.iter().map(|c| c.hlc).max().expect("some");
    assert!(other.clock().expect("clock").last_millis >= last.millis);
    // The recipient's history on the other device: the creation from the row, the pulled edit.
    let history = other.history(recipient).expect("history");
    assert_eq!(history.iter().map(|h| h.status.as_str()).collect::<Vec<_>>(), ["created", "pulled"]);
    assert_eq!(history[1].author_id, worker.user_id);
    assert_eq!(history[1].author_name.as_deref(), Some("张社工"));
    // The same page again changes nothing.
    other.apply_pulled(&page(&changes, 1), changes.len() as u64).expect("again");
    assert_eq!(everything(&other), everything(&w.store));
    assert_eq!(other.history(recipient).expect("history").len(), 2);
}

#[test]
fn an_update_of_an_entity_not_held_is_skipped_and_counted() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let state = w.get(EntityKind::Recipient, recipient);
    let mut other = Store::open_in_memory().expect("other");
    let update = remote_update(
        &state,
        field::recipient::PHONE,
        json!("13800138000"),
        Some(state.created.hlc),
        9_000_000_000_000,
        7,
    );
    let report = other.apply_pulled(&page(&[update], 5), 5).expect("applied");
    assert_eq!((report.applied, report.skipped_unknown), (0, 1));
    assert!(other.entity(EntityKind::Recipient, recipient).expect("read").is_none());
    assert_eq!(other.pull_cursor().expect("cursor"), 5);
}

#[test]
fn a_page_that_fails_halfway_leaves_neither_its_entities_nor_its_cursor() {
    let mut w = World::new();
    w.add_zhang_san();
    let changes = w.store.pending_changes(1000).expect("outbox");
    let mut other = Store::open_in_memory().expect("other");
    other
        .connection()
        .execute_batch(
            "CREATE TEMP TRIGGER disk_full BEFORE INSERT ON recipients BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .expect("trigger");
    assert!(other.apply_pulled(&page(&changes, 1), 99).is_err());
    assert_eq!(other.pull_cursor().expect("cursor"), 0);
    assert!(everything(&other).is_empty(), "the stations and users before the failure are gone too");
}

#[test]
fn an_eviction_removes_the_entity_and_a_case_takes_its_records_along() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let worker = w.a.worker.clone();
    w.record(&worker, vec![w.record_write(EntityKind::Screening, case)]).expect("screening");
    assert_eq!(w.store.case_board(&Default::default(), common::today()).expect("board").len(), 1);
    // A remote edit made without seeing the case's plan leaves a conflict about the case.
    let state = w.get(EntityKind::Case, case);
    let remote = remote_update(&state, field::case::PLAN_STRATEGY, json!("别的计划"), None, 9_000_000_000_000, 8);
    w.store.apply_pulled(&page(&[remote], 1), 1).expect("pulled");
    assert_eq!(w.store.open_conflicts().expect("conflicts").len(), 1);
    let evict = vec![(2, Incoming::Evict { entity: EntityKind::Case, entity_id: case, reassigned_to: None })];
    w.store.apply_pulled(&evict, 2).expect("evicted");
    assert!(w.store.open_conflicts().expect("conflicts").is_empty(), "its conflicts go with it");
    assert!(w.store.entity(EntityKind::Case, case).expect("read").is_none());
    assert!(domain::rules::StateView::case_records(&w.store, case).expect("records").is_empty());
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_some());
    assert_eq!(w.store.moved_case(case).expect("moved"), None, "evicted, not reassigned");
}

#[test]
fn a_case_reassigned_away_leaves_a_note_of_where_it_went_until_it_comes_back() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    let state = w.get(EntityKind::Case, case);
    let to = w.a.worker2.user_id;
    let evict = vec![(1, Incoming::Evict { entity: EntityKind::Case, entity_id: case, reassigned_to: Some(to) })];
    w.store.apply_pulled(&evict, 1).expect("evicted");
    assert!(w.store.entity(EntityKind::Case, case).expect("read").is_none());
    let moved = w.store.moved_case(case).expect("moved").expect("noted");
    assert_eq!(
        (moved.recipient_id, moved.stage, moved.reassigned_to),
        (Some(recipient), Some(domain::case::Stage::Identify), to)
    );
    assert_eq!(w.store.moved_cases_of_recipient(recipient).expect("moved"), [moved]);
    // Given back: the case is held again and the note goes.
    w.store.apply_pulled(&[(2, Incoming::Snapshot(state))], 2).expect("snapshot");
    assert!(w.store.entity(EntityKind::Case, case).expect("read").is_some());
    assert_eq!(w.store.moved_case(case).expect("moved"), None);
    assert!(w.store.moved_cases_of_recipient(recipient).expect("moved").is_empty());
}

#[test]
fn a_snapshot_replaces_what_is_absent_and_merges_field_by_field_what_is_held() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let held = w.get(EntityKind::Recipient, recipient);
    let mut other = Store::open_in_memory().expect("other");
    other.apply_pulled(&[(1, Incoming::Snapshot(held.clone()))], 1).expect("snapshot");
    assert_eq!(other.entity(EntityKind::Recipient, recipient).expect("read"), Some(held.clone()));

    // Here the phone was edited later than the server's copy knows; there the address.
    let worker = w.a.worker.clone();
    let local = w
        .record(
            &worker,
            vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
        )
        .expect("local edit");
    let mut server_copy = held.clone();
    let remote = remote_update(
        &held,
        field::recipient::ADDRESS,
        json!("绿水村5组"),
        Some(held.created.hlc),
        local[0].hlc.millis - 1,
        9,
    );
    server_copy = merge(Some(&server_copy), &remote).expect("merge").state;
    w.store.apply_snapshot(std::slice::from_ref(&server_copy)).expect("snapshot");
    let merged = w.get(EntityKind::Recipient, recipient);
    assert_eq!(merged.get_str(field::recipient::PHONE), Some("13800138000"));
    assert_eq!(merged.get_str(field::recipient::ADDRESS), Some("绿水村5组"));
    assert!(w.store.open_conflicts().expect("conflicts").is_empty(), "both edits knew what they replaced");
}

#[test]
fn an_accepted_change_with_a_clamped_stamp_adopts_it_everywhere() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let created_seq = w.store.pending_changes(1000).expect("outbox").last().expect("create").device_seq;
    let edit = w
        .record(
            &worker,
            vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::ADDRESS, "青山村1组")],
        )
        .expect("edit")
        .remove(0);
    let later = w
        .record(
            &worker,
            vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::ADDRESS, "青山村2组")],
        )
        .expect("later edit")
        .remove(0);
    assert_eq!(later.fields[field::recipient::ADDRESS].base, Some(edit.hlc));
    // Someone else's edit of the address, made between ours without seeing them, arrives last
    // and loses to `later`: theirs is the open conflict.
    let state = w.get(EntityKind::Recipient, recipient);
    let theirs = remote_update(
        &state,
        field::recipient::ADDRESS,
        json!("别处"),
        Some(state.created.hlc),
        edit.hlc.millis + 1,
        3,
    );
    assert!(theirs.hlc > edit.hlc && theirs.hlc < later.hlc);
    w.store.apply_pulled(&page(std::slice::from_ref(&theirs), 1), 1).expect("pulled");
    let open = w.store.open_conflicts().expect("conflicts");
    assert_eq!(open.iter().map(|c| c.lost_hlc).collect::<BTreeSet<_>>(), [theirs.hlc].into_iter().collect());

    w.store.mark_accepted(created_seq, 10, None).expect("accepted");
    let clamped = Hlc::new(edit.hlc.millis - 5_000, 0, edit.hlc.device);
    w.store.mark_accepted(edit.device_seq, 11, Some(clamped)).expect("accepted, clamped");

    let history = w.store.history(recipient).expect("history");
    let entry = history.iter().find(|h| h.change_id == Some(edit.change_id)).expect("in history");
    assert_eq!((entry.hlc, entry.status.as_str()), (clamped, "accepted"));
    let pending = w.store.pending_changes(1000).expect("outbox");
    assert!(pending.iter().all(|c| c.device_seq != edit.device_seq && c.device_seq != created_seq));
    let still_pending = pending.iter().find(|c| c.change_id == later.change_id).expect("later");
    assert_eq!(still_pending.fields[field::recipient::ADDRESS].base, Some(clamped), "the later change's base follows");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.clock(field::recipient::ADDRESS).base, Some(clamped));
    assert!(matches!(w.store.mark_accepted(999, 1, None), Err(StoreError::UnknownChange(999))));
}

#[test]
fn a_clamped_creation_stamp_replaces_the_created_clock_and_conflict_rows() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let create = w.store.pending_changes(1000).expect("outbox").pop().expect("create");
    let state = w.get(EntityKind::Recipient, recipient);
    // A remote edit made on top of nothing it saw: the created value is lost to it.
    let theirs = remote_update(&state, field::recipient::NAME, json!("张叁"), None, create.hlc.millis + 10, 4);
    w.store.apply_pulled(&page(&[theirs], 1), 1).expect("pulled");
    assert_eq!(w.store.open_conflicts().expect("conflicts")[0].lost_hlc, create.hlc);

    let clamped = Hlc::new(create.hlc.millis - 1, 0, create.hlc.device);
    w.store.mark_accepted(create.device_seq, 1, Some(clamped)).expect("accepted");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.created.hlc, clamped);
    assert_eq!(w.store.open_conflicts().expect("conflicts")[0].lost_hlc, clamped);
}

#[test]
fn a_rejected_creation_is_kept_with_its_reason_and_undone() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let create = w.store.pending_changes(1000).expect("outbox").pop().expect("create");
    let pending = w.store.pending_count().expect("count");
    w.store.mark_rejected(create.device_seq, reason(), None).expect("rejected");
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_none());
    assert_eq!(w.store.pending_count().expect("count"), pending - 1);
    let rejected = w.store.rejected_changes().expect("rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].change_id, create.change_id);
    assert_eq!(rejected[0].fields, create.fields, "the payload is kept");
    assert_eq!(rejected[0].rejection, reason());
}

#[test]
fn a_refused_change_dealt_with_leaves_the_list_but_stays_in_the_log() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let create = w.store.pending_changes(1000).expect("outbox").pop().expect("create");
    w.store.mark_rejected(create.device_seq, reason(), None).expect("rejected");
    let at = chrono::DateTime::from_timestamp_millis(1_800_000_000_000).expect("instant");
    assert!(!w.store.deal_with_refused(Uuid::now_v7(), store::DealtWith::Discarded, at).expect("unknown"));
    assert!(w.store.deal_with_refused(create.change_id, store::DealtWith::Discarded, at).expect("discarded"));
    assert_eq!(w.store.rejected_changes().expect("rejected"), vec![], "no longer waits for the user");
    assert!(
        !w.store.deal_with_refused(create.change_id, store::DealtWith::Resent, at).expect("once"),
        "dealt with once only"
    );
    let kept: (String, String, Option<String>) = w
        .store
        .connection()
        .query_row(
            "SELECT status, dealt_with, rejection FROM changes WHERE change_id = ?1",
            [create.change_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the change is still in the log");
    assert_eq!((kept.0.as_str(), kept.1.as_str()), ("rejected", "discarded"));
    assert!(kept.2.is_some_and(|reason| reason.contains("outside_station")), "with its reason");
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_none());
}

#[test]
fn a_refused_change_is_resent_and_marked_in_one_step_or_not_at_all() {
    let mut w = World::new();
    w.add_zhang_san();
    let create = w.store.pending_changes(1000).expect("outbox").pop().expect("create");
    w.store.mark_rejected(create.device_seq, reason(), None).expect("rejected");
    let worker = w.a.worker.clone();
    let (_, again) = w.recipient_write("张三", "11010519491231002X", "1949-12-31", "Female");
    let at = chrono::DateTime::from_timestamp_millis(1_800_000_000_000).expect("instant");
    let pending = w.store.pending_count().expect("outbox");

    let resent = w.store.resend_refused(&worker, create.change_id, vec![again.clone()], at, common::today());
    assert_eq!(resent.expect("resent").len(), 1);
    assert_eq!(w.store.rejected_changes().expect("rejected"), vec![], "marked resent");
    assert_eq!(w.store.pending_count().expect("outbox"), pending + 1, "and the new write waits to be sent");

    // A second resend of the same refused change writes nothing.
    let (_, twice) = w.recipient_write("张三", "11010519491231002X", "1949-12-31", "Female");
    let error = w.store.resend_refused(&worker, create.change_id, vec![twice], at, common::today());
    assert!(matches!(error, Err(store::StoreError::RefusedChangeGone)), "{error:?}");
    assert_eq!(w.store.pending_count().expect("outbox"), pending + 1, "nothing more was written");
}

#[test]
fn a_rejected_update_restores_the_server_state_and_replays_later_pending_changes() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let server_state = w.get(EntityKind::Recipient, recipient);
    let bad = w
        .record(
            &worker,
            vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
        )
        .expect("edit")
        .remove(0);
    w.record(
        &worker,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::ADDRESS, "青山村3组")],
    )
    .expect("edit");
    w.store.mark_rejected(bad.device_seq, reason(), Some(server_state.clone())).expect("rejected");

    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.get_str(field::recipient::PHONE), None, "the refused edit is undone");
    assert_eq!(state.get_str(field::recipient::ADDRESS), Some("青山村3组"), "the later edit still stands");
    assert!(w.store.open_conflicts().expect("conflicts").is_empty());
    let history = w.store.history(recipient).expect("history");
    assert!(history.iter().all(|h| h.change_id != Some(bad.change_id)), "a refused edit is not history");
}

/// Found by the sync simulation: the server's current state may already hold edits this device
/// has not pulled. Taking it wholesale on a refusal would skip their merge, and a value of this
/// device's that one of them overwrote unseen would never show as a conflict here.
#[test]
fn a_refusal_undoes_only_the_refused_write_and_later_pulls_still_find_conflicts() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let created = w.get(EntityKind::Recipient, recipient);
    let mine = w
        .record(&worker, vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::NOTES, "独居")])
        .expect("edit")
        .remove(0);
    w.store.mark_accepted(mine.device_seq, 100, None).expect("accepted");
    let refused = w
        .record(
            &worker,
            vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13800138000")],
        )
        .expect("edit")
        .remove(0);
    // Meanwhile on the server: another device overwrote the notes without having seen mine.
    let theirs = remote_update(
        &created,
        field::recipient::NOTES,
        json!("与女儿同住"),
        Some(created.created.hlc),
        mine.hlc.millis + 10,
        9,
    );
    let mut server_state = created.clone();
    server_state.fields.insert(field::recipient::NOTES.into(), json!("与女儿同住"));
    server_state.clocks.insert(
        field::recipient::NOTES.into(),
        domain::entity::FieldClock { hlc: theirs.hlc, base: Some(created.created.hlc), author: theirs.author_id },
    );
    w.store.mark_rejected(refused.device_seq, reason(), Some(server_state)).expect("rejected");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.get_str(field::recipient::PHONE), None, "the refused edit is undone");
    assert_eq!(state.get_str(field::recipient::NOTES), Some("独居"), "nothing else is taken before it is pulled");

    w.store.apply_pulled(&page(std::slice::from_ref(&theirs), 101), 101).expect("pulled");
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.get_str(field::recipient::NOTES), Some("与女儿同住"));
    let open = w.store.open_conflicts().expect("conflicts");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!((open[0].field.as_str(), open[0].lost_hlc), (field::recipient::NOTES, mine.hlc));
}

/// Found by the sync simulation: two stacked edits of one field both refused must leave the
/// value the server has, not the first refused one.
#[test]
fn refusals_of_stacked_edits_unwind_to_the_last_value_the_server_has() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let server_state = w.get(EntityKind::Recipient, recipient);
    let mut edits = Vec::new();
    for notes in ["第一次", "第二次"] {
        let change = w
            .record(&worker, vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::NOTES, notes)])
            .expect("edit")
            .remove(0);
        edits.push(change);
    }
    for change in &edits {
        w.store.mark_rejected(change.device_seq, reason(), Some(server_state.clone())).expect("rejected");
    }
    let state = w.get(EntityKind::Recipient, recipient);
    assert_eq!(state.get_str(field::recipient::NOTES), server_state.get_str(field::recipient::NOTES));
    assert_eq!(state.clock(field::recipient::NOTES), server_state.clock(field::recipient::NOTES));
    assert!(w.store.open_conflicts().expect("conflicts").is_empty());
}

/// Several devices edit one household's fields, some on top of what they saw and some not, and
/// resolve some conflicts; whatever the order the edits arrive in, the store's open conflicts are
/// `ConflictBook`'s.
/// (field index, device, base = index of an earlier edit of the same field, resolves it)
type Edit = (usize, usize, Option<usize>, bool);

fn conflict_scenario() -> impl Strategy<Value = (Vec<Edit>, Vec<usize>)> {
    let edits = prop::collection::vec((0usize..2, 0usize..3, prop::option::of(0usize..8), any::<bool>()), 1..8);
    edits.prop_flat_map(|edits| {
        let n = edits.len();
        (Just(edits), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn open_conflicts_are_those_of_the_conflict_book_whatever_the_order((edits, order) in conflict_scenario()) {
        let fields = [field::household::NAME, field::household::ADDRESS];
        let created = Change {
            change_id: Uuid::now_v7(),
            device_id: Uuid::from_u128(1),
            device_seq: 1,
            author_id: Uuid::from_u128(0xa001),
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(1_000, 0, Uuid::from_u128(1)),
            entity: EntityKind::Household,
            entity_id: Uuid::from_u128(0xbeef),
            op: Op::Create,
            fields: [
                (field::household::STATION_ID, json!(Uuid::from_u128(5).to_string())),
                (field::household::VILLAGE_ID, json!(Uuid::from_u128(6).to_string())),
                (field::household::NAME, json!("张三户")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), FieldWrite::new(v)))
            .collect(),
        };
        let mut changes: Vec<Change> = Vec::new();
        for (i, (field, device, base, resolves)) in edits.iter().enumerate() {
            let field = fields[*field];
            let earlier: Vec<&Change> = changes.iter().filter(|c| c.touches(field)).collect();
            let base_hlc = match base {
                Some(b) if !earlier.is_empty() => Some(earlier[b % earlier.len()].hlc),
                _ => Some(created.hlc),
            };
            let resolved = if *resolves && earlier.len() > 1 { vec![earlier[0].hlc] } else { vec![] };
            let device = Uuid::from_u128(10 + *device as u128);
            changes.push(Change {
                change_id: Uuid::now_v7(),
                device_id: device,
                device_seq: i as u64 + 1,
                author_id: Uuid::from_u128(0xa100 + i as u128),
                schema_version: domain::SCHEMA_VERSION,
                hlc: Hlc::new(2_000 + i as u64 * 10, 0, device),
                entity: EntityKind::Household,
                entity_id: created.entity_id,
                op: Op::Update,
                fields: [(field.to_string(), FieldWrite { value: json!(format!("值{i}")), base: base_hlc, resolves: resolved })]
                    .into_iter()
                    .collect(),
            });
        }
        let arrival: Vec<Change> = std::iter::once(created.clone()).chain(order.iter().map(|i| changes[*i].clone())).collect();

        let mut book = ConflictBook::default();
        let mut state: Option<EntityState> = None;
        for c in &arrival {
            let merged = merge(state.as_ref(), c).expect("known");
            book.record(c.entity_id, &merged.conflict_ops);
            state = Some(merged.state);
        }
        let mut store = Store::open_in_memory().expect("store");
        // One page per change, as if each came in its own pull.
        for (i, c) in arrival.iter().enumerate() {
            store.apply_pulled(&[(i as u64 + 1, Incoming::Change(c.clone()))], i as u64 + 1).expect("applied");
        }
        let expected: BTreeSet<(String, Hlc, String)> =
            book.open().into_iter().map(|l| (l.field.clone(), l.clock.hlc, l.value.to_string())).collect();
        let found: BTreeSet<(String, Hlc, String)> = store
            .open_conflicts()
            .expect("conflicts")
            .into_iter()
            .map(|c| (c.field, c.lost_hlc, c.lost_value.to_string()))
            .collect();
        prop_assert_eq!(found, expected);
        let held = store.entity(EntityKind::Household, created.entity_id).expect("read").expect("held");
        let mut merged_state = state.expect("state");
        merged_state.fields.retain(|_, v| !v.is_null());
        prop_assert_eq!(held, merged_state);
    }
}

#[test]
fn the_station_checksum_folds_the_digests_of_the_stations_entities() {
    let mut w = World::new();
    w.add_zhang_san();
    let all = everything(&w.store);
    let expected =
        all.iter().filter(|e| e.station_ids().contains(&w.a.id)).fold(0u64, |acc, e| checksum_fold(acc, &e.digest()));
    assert_eq!(w.store.station_checksum(w.a.id).expect("sum"), expected);
    assert_ne!(w.store.station_checksum(w.a.id).expect("sum"), w.store.station_checksum(w.b.id).expect("sum"));
}

#[test]
fn clearing_a_station_removes_its_entities_keeps_the_outbox_and_a_snapshot_restores_it() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let a_entities: Vec<EntityState> =
        everything(&w.store).into_iter().filter(|e| e.station_ids().contains(&w.a.id)).collect();
    let sum_a = w.store.station_checksum(w.a.id).expect("sum");
    let sum_b = w.store.station_checksum(w.b.id).expect("sum");
    let pending = w.store.pending_count().expect("pending");

    w.store.clear_station(w.a.id).expect("cleared");
    assert_eq!(w.store.station_checksum(w.a.id).expect("sum"), 0);
    assert_eq!(w.store.station_checksum(w.b.id).expect("sum"), sum_b, "the other station is untouched");
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_none());
    assert_eq!(w.store.pending_count().expect("pending"), pending);

    w.store.apply_snapshot(&a_entities).expect("restored");
    w.store.set_pull_cursor(42).expect("cursor");
    assert_eq!(w.store.station_checksum(w.a.id).expect("sum"), sum_a);
    assert_eq!(w.store.pull_cursor().expect("cursor"), 42);
}

#[test]
fn the_session_and_the_signing_key_are_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x.db");
    let key = store::DbKey::random();
    let public = {
        let mut store = Store::open_with_key(&path, &key).expect("open");
        assert_eq!(store.session_json().expect("session"), None);
        store.set_session_json(Some(r#"{"token":"t"}"#)).expect("set");
        let k = store.signing_key().expect("key");
        assert_eq!(store.signing_key().expect("again").to_bytes(), k.to_bytes(), "made once");
        k.verifying_key()
    };
    let mut store = Store::open_with_key(&path, &key).expect("reopen");
    assert_eq!(store.session_json().expect("session").as_deref(), Some(r#"{"token":"t"}"#));
    assert_eq!(store.signing_key().expect("key").verifying_key(), public);
    store.set_session_json(None).expect("sign out");
    assert_eq!(store.session_json().expect("session"), None);
}

/// The checksum keeps each row's digest between comparisons; a write must clear it so the next
/// comparison sees the new state, and a reopened file must give the same figure.
#[test]
fn the_station_checksum_follows_every_write_and_equals_a_fold_over_the_rows() {
    let mut w = World::new();
    let station = w.a.id;
    let fold = |store: &Store| {
        EntityKind::ALL
            .iter()
            .flat_map(|k| store.list(*k, None).expect("list"))
            .filter(|s| s.station_ids().contains(&station))
            .fold(0u64, |acc, s| checksum_fold(acc, &s.digest()))
    };
    let recipient = w.add_zhang_san();
    let before = w.store.station_checksum(station).expect("sum");
    assert_eq!(before, fold(&w.store));
    let worker = w.a.worker.clone();
    w.record(&worker, vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::NOTES, "新备注")])
        .expect("edit");
    let after = w.store.station_checksum(station).expect("sum");
    assert_ne!(after, before, "the edit changed the checksum");
    assert_eq!(after, fold(&w.store));
    assert_eq!(w.store.station_checksum(station).expect("sum again"), after);
}

#[test]
fn a_crash_halfway_through_a_page_applies_nothing_of_it() {
    let mut w = World::new();
    w.add_zhang_san();
    let worker = w.a.worker.clone();
    let recipient = w.add_zhang_san();
    w.record(&worker, vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::NOTES, "备注")])
        .expect("edit");
    let changes = w.store.pending_changes(1000).expect("outbox");
    let mut other = Store::open_in_memory().expect("other device");
    other.fail_apply_after(Some(2));
    let crashed = other.apply_pulled(&page(&changes, 1), changes.len() as u64);
    assert!(matches!(crashed, Err(StoreError::Injected)), "{crashed:?}");
    assert_eq!(other.pull_cursor().expect("cursor"), 0);
    assert!(everything(&other).is_empty(), "nothing of the page was kept");
    other.fail_apply_after(None);
    other.apply_pulled(&page(&changes, 1), changes.len() as u64).expect("applied after restart");
    assert_eq!(everything(&other), everything(&w.store));
}
