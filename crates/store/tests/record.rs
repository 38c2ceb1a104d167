//! `Store::record`, the one write path: the row and its outbox entry land together or not at
//! all, device sequence numbers are dense across restarts, the clock only moves forward and is
//! persisted, bases are filled in, and the history shows who changed what when.

mod common;

use chrono::{DateTime, Utc};
use common::{World, code, today};
use domain::change::{Op, Write};
use domain::entity::EntityKind;
use domain::field;
use serde_json::json;
use store::{DbKey, Store};

#[test]
fn a_recorded_write_lands_with_its_outbox_entry() {
    let mut w = World::new();
    let before = w.store.pending_count().expect("count");
    let (id, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    let worker = w.a.worker.clone();
    let changes = w.record(&worker, vec![write]).expect("recorded");

    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(change.entity_id, id);
    assert_eq!(change.author_id, worker.user_id);
    assert_eq!(change.device_id, w.store.device_id());
    assert_eq!(change.schema_version, domain::SCHEMA_VERSION);
    assert_eq!(change.change_id.get_version_num(), 7, "change ids are UUIDv7");
    assert_eq!(w.store.pending_count().expect("count"), before + 1);
    let pending = w.store.pending_changes(10_000).expect("pending");
    assert_eq!(pending.last(), Some(change), "the outbox holds exactly the stamped change");
    let state = w.get(EntityKind::Recipient, id);
    assert_eq!(state.get_str(field::recipient::NAME), Some("李四"));
    assert_eq!(state.created.author, worker.user_id);
    assert_eq!(state.created.hlc, change.hlc);
}

#[test]
fn a_rejected_write_leaves_no_row_and_no_outbox_entry() {
    let mut w = World::new();
    let outbox = w.outbox_len();
    // Wrong check digit.
    let (id, write) = w.recipient_write("王五", "110105194912310021", "1949-12-31", "Female");
    let worker = w.a.worker.clone();
    let result = w.record(&worker, vec![write]);
    match &result {
        Err(store::StoreError::Rejected(domain::rules::Rejection::Invalid(e))) => {
            assert_eq!(e.field, field::recipient::ID_NUMBER);
            assert_eq!(e.code(), "id_number_check_digit");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert!(w.store.entity(EntityKind::Recipient, id).expect("read").is_none());
    assert_eq!(w.outbox_len(), outbox);
}

#[test]
fn a_batch_with_one_bad_write_leaves_nothing_at_all() {
    let mut w = World::new();
    let outbox = w.outbox_len();
    let clock_before = w.store.clock().expect("clock");
    let (good_id, good) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    // Gender disagrees with the ID number.
    let (bad_id, bad) = w.recipient_write("王五", "11010519491231002X", "1949-12-31", "Male");
    let worker = w.a.worker.clone();
    assert_eq!(code(w.record(&worker, vec![good, bad])), "disagrees_with_id_number");
    assert!(w.store.entity(EntityKind::Recipient, good_id).expect("read").is_none());
    assert!(w.store.entity(EntityKind::Recipient, bad_id).expect("read").is_none());
    assert_eq!(w.outbox_len(), outbox);
    assert_eq!(w.store.clock().expect("clock"), clock_before, "the clock state rolls back too");
}

#[test]
fn later_writes_of_a_batch_see_the_earlier_ones() {
    let mut w = World::new();
    let (recipient, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    let case = uuid::Uuid::now_v7();
    let worker = w.a.worker.clone();
    let case_write = Write::create(EntityKind::Case, case)
        .set(field::case::STATION_ID, w.a.id.to_string())
        .set(field::case::RECIPIENT_ID, recipient.to_string())
        .set(field::case::WORKER_ID, worker.user_id.to_string())
        .set(field::case::STAGE, "Identify")
        .set(field::case::STAGE_ENTERED_ON, today().to_string())
        .set(field::case::OPENED_ON, today().to_string())
        .set(field::case::CLOSURE_STATUS, "Open");
    let changes = w.record(&worker, vec![write, case_write]).expect("both");
    assert_eq!(changes[1].device_seq, changes[0].device_seq + 1);
    assert!(changes[0].hlc < changes[1].hlc);
}

#[test]
fn device_sequence_numbers_are_dense_across_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("device.db");
    let key = DbKey::random();
    let mut seqs = Vec::new();
    let device;
    {
        let mut w = World::with_store(Store::open_with_key(&path, &key).expect("open"));
        device = w.store.device_id();
        w.add_zhang_san();
        // A rejected write in between must not burn a number.
        let (_, bad) = w.recipient_write("王五", "110105194912310021", "1949-12-31", "Female");
        let worker = w.a.worker.clone();
        assert!(w.record(&worker, vec![bad]).is_err());
        let (_, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
        w.record(&worker, vec![write]).expect("second");
        seqs.extend(w.store.pending_changes(1000).expect("pending").iter().map(|c| c.device_seq));
    }
    let mut store = Store::open_with_key(&path, &key).expect("reopen");
    assert_eq!(store.device_id(), device, "the device id survives a restart");
    // Record as the same worker after the restart.
    let worker_id: uuid::Uuid = store
        .list(EntityKind::User, None)
        .expect("users")
        .into_iter()
        .find(|u| u.get_str(field::user::ROLE) == Some("SocialWorker"))
        .map(|u| u.id)
        .expect("worker");
    let worker_state = store.entity(EntityKind::User, worker_id).expect("read").expect("worker");
    let user: domain::org::User = worker_state.to_typed().expect("typed");
    let actor = domain::policy::Actor::new(worker_id, user.role());
    let households = uuid::Uuid::now_v7();
    let write = Write::create(EntityKind::Household, households)
        .set(field::household::STATION_ID, user.station_id.expect("station").to_string())
        .set(
            field::household::VILLAGE_ID,
            store.list(EntityKind::Village, user.station_id).expect("villages")[0].id.to_string(),
        )
        .set(field::village::NAME, "李四户");
    let after = store.record(&actor, vec![write], Utc::now(), today()).expect("after restart");
    seqs.push(after[0].device_seq);
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected);
}

#[test]
fn the_clock_only_moves_forward_and_is_persisted() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("device.db");
    let key = DbKey::random();
    let mut w = World::with_store(Store::open_with_key(&path, &key).expect("open"));
    let worker = w.a.worker.clone();
    let late: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().expect("time");
    let early: DateTime<Utc> = "2026-11-25T06:00:00Z".parse().expect("time");
    let (_, first) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    let a = w.store.record(&worker, vec![first], late, today()).expect("first")[0].hlc;
    // The laptop's clock is set back six hours.
    let (_, second) = w.recipient_write("王芳", "11010519491231002X", "1949-12-31", "Female");
    let b = w.store.record(&worker, vec![second], early, today()).expect("second")[0].hlc;
    assert!(b > a, "{b} after {a}");
    assert_eq!(w.store.clock().expect("clock").last_millis, a.millis);
    drop(w);

    let mut store = Store::open_with_key(&path, &key).expect("reopen");
    let persisted = store.clock().expect("clock");
    assert_eq!((persisted.last_millis, persisted.last_counter), (b.millis, b.counter));
    let household = uuid::Uuid::now_v7();
    let village = store.list(EntityKind::Village, None).expect("villages")[0].clone();
    let write = Write::create(EntityKind::Household, household)
        .set(field::household::STATION_ID, village.get_str(field::village::STATION_ID).expect("station"))
        .set(field::household::VILLAGE_ID, village.id.to_string())
        .set(field::household::NAME, "王芳户");
    let c = store.record(&worker, vec![write], early, today()).expect("third")[0].hlc;
    assert!(c > b, "after a restart the clock still orders after {b}: {c}");
}

#[test]
fn an_update_names_the_stamp_it_was_made_on_top_of() {
    let mut w = World::new();
    let id = w.add_zhang_san();
    let created = w.get(EntityKind::Recipient, id).created.hlc;
    let worker = w.a.worker.clone();
    let first = w
        .record(&worker, vec![Write::update(EntityKind::Recipient, id).set(field::recipient::PHONE, "13800138000")])
        .expect("edit");
    assert_eq!(first[0].fields[field::recipient::PHONE].base, Some(created));
    let second = w
        .record(&worker, vec![Write::update(EntityKind::Recipient, id).set(field::recipient::PHONE, "13900139000")])
        .expect("edit");
    assert_eq!(second[0].fields[field::recipient::PHONE].base, Some(first[0].hlc));
    let state = w.get(EntityKind::Recipient, id);
    assert_eq!(state.clock(field::recipient::PHONE).hlc, second[0].hlc);
    assert_eq!(state.clock(field::recipient::PHONE).base, Some(first[0].hlc));
    assert!(w.store.open_conflicts().expect("conflicts").is_empty(), "edits on top of each other are not conflicts");
}

#[test]
fn the_history_shows_who_changed_what_and_when() {
    let mut w = World::new();
    let id = w.add_zhang_san();
    let deputy = w.a.deputy.clone();
    let edit = w
        .record(&deputy, vec![Write::update(EntityKind::Recipient, id).set(field::recipient::ADDRESS, "青山村3组")])
        .expect("edit");
    let history = w.store.history(id).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].op, Op::Create);
    assert_eq!(history[0].author_id, w.a.worker.user_id);
    assert_eq!(history[0].author_name.as_deref(), Some("张社工"));
    assert_eq!(history[0].fields[field::recipient::NAME], json!("张三"));
    assert_eq!(history[1].op, Op::Update);
    assert_eq!(history[1].author_name.as_deref(), Some("张副站长"));
    assert_eq!(history[1].hlc, edit[0].hlc);
    assert_eq!(history[1].at.timestamp_millis() as u64, edit[0].hlc.millis);
    assert_eq!(history[1].fields, [(field::recipient::ADDRESS.to_string(), json!("青山村3组"))].into_iter().collect());
    assert_eq!(history[1].status, "pending");
}

#[test]
fn reading_a_row_gives_back_the_merged_state() {
    let mut w = World::new();
    let id = w.add_zhang_san();
    let worker = w.a.worker.clone();
    w.record(
        &worker,
        vec![
            Write::update(EntityKind::Recipient, id)
                .set(field::recipient::CATEGORIES, json!(["Disability", "Dibao"]))
                .set(field::recipient::NOTES, ""),
        ],
    )
    .expect("edit");
    let state = w.get(EntityKind::Recipient, id);
    assert_eq!(
        state.fields[field::recipient::CATEGORIES],
        json!(["Dibao", "Disability"]),
        "stored in vocabulary order"
    );
    assert!(!state.fields.contains_key(field::recipient::NOTES), "an empty value is no value");
    assert!(state.clocks.contains_key(field::recipient::NOTES), "but its clearing is remembered");
    // Bools and integers come back typed.
    let user = w.get(EntityKind::User, w.a.worker.user_id);
    assert_eq!(user.fields[field::user::ACTIVE], json!(true));
    let case = w.open_case(id);
    let intervention = w.record_write(EntityKind::Intervention, case);
    let intervention_id = intervention.entity_id;
    let mut steps = vec![w.record_write(EntityKind::Screening, case), w.move_stage(case, "Assess")];
    steps.push(intervention);
    w.record(&worker, steps).expect("records");
    assert_eq!(
        w.get(EntityKind::Intervention, intervention_id).fields[field::intervention::DURATION_MINUTES],
        json!(45)
    );
}

fn visit_write(w: &World, recipient: uuid::Uuid, amends: Option<uuid::Uuid>) -> Write {
    Write::create(EntityKind::Visit, uuid::Uuid::now_v7())
        .set(field::visit::STATION_ID, w.a.id.to_string())
        .set(field::visit::VILLAGE_ID, w.a.village.to_string())
        .set(field::visit::RECIPIENT_ID, recipient.to_string())
        .set(field::visit::WORKER_ID, w.a.worker.user_id.to_string())
        .set(field::visit::VISITED_ON, common::days_ago(1))
        .set(field::visit::OBSERVATIONS, "老人独居")
        .set(field::visit::FOLLOW_UP_NEEDED, false)
        .set_opt(field::visit::AMENDS, amends.map(|id| id.to_string()))
}

#[test]
fn a_visit_amends_only_a_visit_to_the_same_person() {
    let mut w = World::new();
    let zhang_san = w.add_zhang_san();
    let (li_si, write) = w.recipient_write("李四", "440524195801010018", "1958-01-01", "Male");
    let worker = w.a.worker.clone();
    w.record(&worker, vec![write]).expect("recipient");
    let to_li_si = visit_write(&w, li_si, None);
    let to_li_si_id = to_li_si.entity_id;
    w.record(&worker, vec![to_li_si]).expect("visit");

    let filed_elsewhere = visit_write(&w, zhang_san, Some(to_li_si_id));
    assert_eq!(code(w.record(&worker, vec![filed_elsewhere])), "amends_elsewhere");
    let correction = visit_write(&w, li_si, Some(to_li_si_id));
    w.record(&worker, vec![correction]).expect("a correction of the same person's visit");
}
