//! Push: per-change answers, resends, gaps, rejections that never block, forged claims,
//! clamped clocks, and changes from older clients.

mod common;

use common::*;
use domain::change::{Change, FieldWrite, Incoming, Write};
use domain::entity::EntityKind;
use domain::field;
use domain::hlc::Hlc;
use protocol::{PushOutcome, PushRequest, codes};
use serde_json::json;
use uuid::Uuid;

#[test]
fn an_accepted_change_is_answered_with_its_server_sequence_and_stored() {
    let world = World::new();
    let mut device = world.login("wa");
    let head = world.log_head();
    let (id, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let results = device.send(vec![write]);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].outcome, PushOutcome::Accepted { server_seq: head + 1, effective_hlc: None });
    let state = world.state(EntityKind::Recipient, id).expect("stored");
    assert_eq!(state.get_str(field::recipient::NAME), Some("张三"));
    assert_eq!(state.created.author, world.worker_a);
}

#[test]
fn a_resend_gets_the_stored_answers_and_nothing_is_processed_twice() {
    let world = World::new();
    let mut device = world.login("wa");
    let (_, good) = recipient(world.station_s, world.village_s, "张三", 1);
    let bad = Write::create(EntityKind::Household, Uuid::now_v7())
        .set(field::household::STATION_ID, world.station_s.to_string());
    let changes = vec![device.stamp(good), device.stamp(bad)];
    let first = device.push(&changes).expect("first push");
    let head = world.log_head();

    let again = device.push(&changes).expect("resend");
    assert_eq!(again, first, "a resend gets exactly the stored answers");
    assert_eq!(world.log_head(), head, "nothing was appended again");
    assert_eq!(again.next_expected_seq, 3);
    assert_eq!(rejected(&again.results[1]), "required");

    // A resend of only the second, and then the next change, in one batch.
    let (_, next) = recipient(world.station_s, world.village_s, "李四", 2);
    let next = device.stamp(next);
    let mixed = device.push(&[changes[1].clone(), next]).expect("mixed push");
    assert_eq!(mixed.results[0], first.results[1]);
    assert_eq!(accepted(&mixed.results[1]), head + 1);
}

#[test]
fn a_change_after_a_gap_is_not_processed_and_names_the_sequence_expected() {
    let world = World::new();
    let mut device = world.login("wa");
    let changes: Vec<Change> = (0..4)
        .map(|n| {
            let (_, write) = recipient(world.station_s, world.village_s, "张三", n);
            device.stamp(write)
        })
        .collect();
    device.push(&changes[..1]).expect("first");
    let head = world.log_head();

    let gapped = device.push(&changes[2..]).expect("answered");
    for result in &gapped.results {
        assert_eq!(result.outcome, PushOutcome::Gap { expected: 2 });
    }
    assert_eq!(gapped.next_expected_seq, 2);
    assert_eq!(world.log_head(), head, "nothing after a gap is processed");

    let filled = device.push(&changes[1..]).expect("answered");
    assert_eq!(filled.results.iter().map(accepted).collect::<Vec<_>>(), vec![head + 1, head + 2, head + 3]);
    assert_eq!(filled.next_expected_seq, 5);
}

#[test]
fn a_rejected_change_never_blocks_the_ones_after_it_in_the_same_batch() {
    let world = World::new();
    let mut device = world.login("wa");
    let (person, create_person) = recipient(world.station_s, world.village_s, "张三", 1);
    // The visit names a recipient that only the next change creates: refused now...
    let (_, early_visit) = visit(world.station_s, world.village_s, person, world.worker_a, "2026-06-14");
    // ...and accepted once it exists, later in the same batch.
    let (late_id, late_visit) = visit(world.station_s, world.village_s, person, world.worker_a, "2026-06-14");
    let results = device.send(vec![early_visit, create_person, late_visit]);
    assert_eq!(rejected(&results[0]), "unknown_reference");
    accepted(&results[1]);
    accepted(&results[2]);
    assert!(world.state(EntityKind::Visit, late_id).is_some());
}

#[test]
fn a_rejected_change_is_stored_with_its_payload_and_reason() {
    let world = World::new();
    let mut device = world.login("wa");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    device.send_ok(vec![create]);
    let bad = device
        .stamp(Write::update(EntityKind::Recipient, person).set(field::recipient::ID_NUMBER, "110101199003071234"));
    let response = device.push(std::slice::from_ref(&bad)).expect("answered");
    let PushOutcome::Rejected { rejection, current } = &response.results[0].outcome else {
        panic!("expected a rejection: {:?}", response.results[0]);
    };
    assert_eq!(rejection.code, "id_number_check_digit");
    assert_eq!(rejection.field.as_deref(), Some(field::recipient::ID_NUMBER));
    assert!(!rejection.message_zh.is_empty() && !rejection.message_en.is_empty());
    let current = current.as_ref().expect("the entity as the server has it, to undo the local edit");
    assert_eq!(current.get_str(field::recipient::NAME), Some("张三"));

    let stored = world
        .server
        .storage()
        .read()
        .expect("read")
        .rejected_change(device.id(), bad.device_seq)
        .expect("lookup")
        .expect("kept on the server");
    assert_eq!(stored.change, bad, "kept with its payload as sent");
    assert_eq!(&stored.rejection, rejection);
}

#[test]
fn a_rejection_never_shows_the_entity_to_someone_outside_its_station() {
    let world = World::new();
    let mut worker_a = world.login("wa");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    worker_a.send_ok(vec![create]);

    let mut worker_c = world.login("wc");
    let results = worker_c.send(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "王五")]);
    let PushOutcome::Rejected { rejection, current } = &results[0].outcome else { panic!("{results:?}") };
    assert_eq!(rejection.code, "outside_station");
    assert_eq!(current, &None, "another station's person is never sent");
}

#[test]
fn forged_authors_and_devices_are_rejected_change_by_change() {
    let world = World::new();
    let mut device = world.login("wa");
    let other = world.login("wb");
    let (_, w1) = recipient(world.station_s, world.village_s, "甲", 1);
    let (_, w2) = recipient(world.station_s, world.village_s, "乙", 2);
    let (ok_id, w3) = recipient(world.station_s, world.village_s, "丙", 3);
    let mut forged_author = device.stamp(w1);
    forged_author.author_id = world.worker_b;
    let mut forged_device = device.stamp(w2);
    forged_device.device_id = other.id();
    let honest = device.stamp(w3);
    let response = device.push(&[forged_author, forged_device, honest]).expect("answered");
    assert_eq!(rejected(&response.results[0]), "forged_author");
    assert_eq!(rejected(&response.results[1]), "forged_device");
    accepted(&response.results[2]);
    assert!(world.state(EntityKind::Recipient, ok_id).is_some());
    assert_eq!(response.next_expected_seq, 4);
}

#[test]
fn a_stamp_from_a_day_ahead_is_clamped_the_device_flagged_and_later_bases_translated() {
    let world = World::new();
    let mut device = world.login("wa");
    // The laptop's clock is a day fast.
    let future = world.clock.millis() + 24 * 3600 * 1000;
    device.hlc.observe(Hlc::new(future, 0, device.id()));
    let household = Uuid::now_v7();
    let first = device.stamp(
        Write::create(EntityKind::Household, household)
            .set(field::household::STATION_ID, world.station_s.to_string())
            .set(field::household::VILLAGE_ID, world.village_s.to_string())
            .set(field::household::NAME, "张三户"),
    );
    assert!(first.hlc.millis >= future);
    // The next edit, made on top of the first, names the future stamp as its base.
    let second = device.stamp(Write::update(EntityKind::Household, household).set(field::household::NAME, "张三家"));
    assert_eq!(second.fields[field::household::NAME].base, Some(first.hlc));

    let response = device.push(&[first.clone(), second.clone()]).expect("answered");
    let PushOutcome::Accepted { effective_hlc: Some(effective), .. } = response.results[0].outcome else {
        panic!("expected a clamped stamp: {:?}", response.results[0]);
    };
    assert!(effective.millis <= world.clock.millis() + 1, "ordered by the server's clock");
    assert_eq!(effective.device, device.id(), "the device id is kept");
    let PushOutcome::Accepted { effective_hlc: Some(effective2), .. } = response.results[1].outcome else {
        panic!("expected a clamped stamp: {:?}", response.results[1]);
    };
    assert!(effective2 > effective);

    let state = world.state(EntityKind::Household, household).expect("stored");
    assert_eq!(state.created.hlc, effective);
    assert_eq!(state.clock(field::household::NAME).hlc, effective2);
    assert_eq!(state.clock(field::household::NAME).base, Some(effective), "the base follows the clamped stamp");
    let conflicts = world.server.storage().read().expect("read").conflicts(household).expect("conflicts");
    assert!(
        conflicts.iter().all(|c| c.lost.is_none()),
        "an edit on top of its base leaves no open conflict: {conflicts:?}"
    );

    let flagged = world.server.storage().read().expect("read").device(device.id()).expect("read").expect("device");
    assert!(flagged.clock_skewed);
    assert!(flagged.last_skew_ms.is_some_and(|ms| ms >= 24 * 3600 * 1000));

    // Other devices only ever see the clamped stamps.
    let mut deputy = world.login("ds");
    let pulled = deputy.sync();
    let stamps: Vec<Hlc> = pulled
        .iter()
        .filter_map(|e| match &e.item {
            Incoming::Change(c) if c.entity_id == household => Some(c.hlc),
            _ => None,
        })
        .collect();
    assert_eq!(stamps, vec![effective, effective2]);
}

/// A change from a clock far ahead that the server refuses leaves nothing behind for the
/// stamps of later changes: the device never learns a clamped stamp for a refused change, so a
/// later change made on top of it names the stamp it made, and the server keeps that base as
/// sent. Before, the server noted a clamped stamp before it checked the change and translated
/// later bases to a stamp nobody else holds: the laptop then differed from the server and
/// repaired its station (simulation seed 4897).
#[test]
fn a_refused_change_from_a_clock_ahead_leaves_later_bases_as_sent() {
    let world = World::new();
    let mut device = world.login("wa");
    let household = Uuid::now_v7();
    let created = device.stamp(
        Write::create(EntityKind::Household, household)
            .set(field::household::STATION_ID, world.station_s.to_string())
            .set(field::household::VILLAGE_ID, world.village_s.to_string())
            .set(field::household::NAME, "张三户"),
    );
    accepted(&device.push(std::slice::from_ref(&created)).expect("answered").results[0]);
    // The laptop's clock is a day fast.
    device.hlc.observe(Hlc::new(world.clock.millis() + 24 * 3600 * 1000, 0, device.id()));
    let refused =
        device.stamp(Write::update(EntityKind::Household, household).set(field::household::NAME, "户".repeat(101)));
    let later = device.stamp(Write::update(EntityKind::Household, household).set(field::household::NAME, "张三家"));
    assert_eq!(later.fields[field::household::NAME].base, Some(refused.hlc));

    let response = device.push(&[refused.clone(), later.clone()]).expect("answered");
    assert!(
        matches!(&response.results[0].outcome, PushOutcome::Rejected { rejection, .. } if rejection.code == "too_long"),
        "{:?}",
        response.results[0]
    );
    let PushOutcome::Accepted { effective_hlc: Some(effective), .. } = response.results[1].outcome else {
        panic!("expected a clamped stamp: {:?}", response.results[1]);
    };
    let state = world.state(EntityKind::Household, household).expect("stored");
    assert_eq!(state.clock(field::household::NAME).hlc, effective);
    assert_eq!(state.clock(field::household::NAME).base, Some(refused.hlc), "the base as the device made it");
}

#[test]
fn a_stamp_within_five_minutes_ahead_is_kept() {
    let world = World::new();
    let mut device = world.login("wa");
    device.hlc.observe(Hlc::new(world.clock.millis() + 4 * 60 * 1000, 0, device.id()));
    let (_, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let change = device.stamp(write);
    let response = device.push(std::slice::from_ref(&change)).expect("answered");
    assert!(matches!(response.results[0].outcome, PushOutcome::Accepted { effective_hlc: None, .. }));
}

#[test]
fn a_change_from_an_older_client_is_upgraded_before_it_is_checked() {
    let world = World::new();
    let mut device = world.login("wa");
    let (person, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let mut change = device.stamp(write);
    change.schema_version = 1;
    let categories = change.fields.remove(field::recipient::CATEGORIES).expect("categories");
    change.fields.insert("category".into(), FieldWrite { value: json!("Dibao"), ..categories });
    let response = world.server.push(device.token(), 1, PushRequest { changes: vec![change] }).expect("answered");
    accepted(&response.results[0]);
    let state = world.state(EntityKind::Recipient, person).expect("stored");
    assert_eq!(state.get(field::recipient::CATEGORIES), Some(&json!(["Dibao"])));
    assert!(state.get("category").is_none());
}

#[test]
fn a_change_too_old_to_upgrade_refuses_the_push_and_the_outbox_stays_unprocessed() {
    let world = World::new();
    let mut device = world.login("wa");
    let (_, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let mut change = device.stamp(write);
    change.schema_version = 0;
    let head = world.log_head();
    let error = device.push(&[change.clone()]).expect_err("refused");
    assert_eq!(error.code, codes::CLIENT_TOO_OLD);
    assert_eq!(world.log_head(), head);
    let error = world.server.push(device.token(), 0, PushRequest { changes: vec![] }).expect_err("refused");
    assert_eq!(error.code, codes::CLIENT_TOO_OLD);
    // After the update the same change (now current) goes through as sequence 1.
    change.schema_version = domain::SCHEMA_VERSION;
    let response = device.push(&[change]).expect("answered");
    assert_eq!(response.results[0].device_seq, 1);
    accepted(&response.results[0]);
}

#[test]
fn the_server_checks_every_change_with_the_roles_it_derives_itself() {
    let world = World::new();
    let mut worker = world.login("wa");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (case, open) = new_case(world.station_s, person, world.worker_a);
    worker.send_ok(vec![create, open]);

    // A worker may not reassign, whatever the change claims.
    let results = worker
        .send(vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_b.to_string())]);
    assert_eq!(rejected(&results[0]), "role_cannot");
    // Nor skip stages.
    let results = worker.send(vec![Write::update(EntityKind::Case, case).set(field::case::STAGE, "Plan")]);
    assert_eq!(rejected(&results[0]), "skips_stages");
    // Another worker of the station cannot touch the case.
    let mut other = world.login("wb");
    let results = other.send(vec![Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "x")]);
    assert_eq!(rejected(&results[0]), "not_assigned");
    // A supervisor cannot edit the roster.
    let mut supervisor = world.login("sup");
    let results =
        supervisor.send(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "王五")]);
    assert_eq!(rejected(&results[0]), "role_cannot");
    // An update naming an entity that does not exist.
    let results =
        worker.send(vec![Write::update(EntityKind::Household, Uuid::now_v7()).set(field::household::NAME, "x")]);
    assert_eq!(rejected(&results[0]), "unknown_entity");
}

#[test]
fn a_deactivated_users_changes_are_refused() {
    let world = World::new();
    let mut worker = world.login("wa");
    world
        .server
        .admin()
        .record_as(
            sync_server::SYSTEM_USER_ID,
            vec![Write::update(EntityKind::User, world.worker_a).set(field::user::ACTIVE, false)],
        )
        .expect("deactivated");
    let (_, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let results = worker.send(vec![create]);
    assert_eq!(rejected(&results[0]), "no_role");
}

#[test]
fn the_servers_conflicts_follow_the_conflict_book_of_the_accepted_changes() {
    let world = World::new();
    let mut a = world.login("wa");
    let mut deputy = world.login("ds");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    a.send_ok(vec![create]);
    a.sync();
    deputy.sync();
    // Both rename the person without seeing the other's edit: one value is lost to the other.
    a.send_ok(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三丰")]);
    let deputy_edit = deputy.stamp(Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三峰"));
    accepted(&deputy.push(std::slice::from_ref(&deputy_edit)).expect("answered").results[0]);
    let open = |world: &World| {
        world
            .server
            .storage()
            .read()
            .expect("read")
            .conflicts(person)
            .expect("conflicts")
            .into_iter()
            .filter(|c| c.lost.is_some())
            .count()
    };
    assert_eq!(open(&world), 1, "the overwritten name is kept as an open conflict");

    // A looks at the conflict and settles it.
    a.sync();
    let mut settle = Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三丰");
    // The conflict is about whichever of the two edits lost; naming both settles it either way.
    let conflicting = world
        .server
        .storage()
        .read()
        .expect("read")
        .conflicts(person)
        .expect("conflicts")
        .into_iter()
        .map(|c| c.hlc)
        .collect::<Vec<_>>();
    settle.fields.get_mut(field::recipient::NAME).expect("field").resolves = conflicting;
    a.send_ok(vec![settle]);
    assert_eq!(open(&world), 0, "settled");

    // The same, recomputed from the log with the domain's conflict book.
    let mut book = domain::merge::ConflictBook::default();
    let mut state = None;
    let mut fresh = world.login("ds");
    for entry in fresh.sync() {
        if let Incoming::Change(change) = entry.item
            && change.entity_id == person
        {
            let merged = domain::merge::merge(state.as_ref(), &change).expect("merges");
            book.record(person, &merged.conflict_ops);
            state = Some(merged.state);
        }
    }
    let stored = world.server.storage().read().expect("read").conflicts(person).expect("conflicts");
    let from_server: Vec<_> = stored.into_iter().map(|c| ((c.entity_id, c.field, c.hlc), c.lost)).collect();
    let from_book: Vec<_> = book.entries.into_iter().collect();
    assert_eq!(from_server, from_book);
    assert_eq!(state.as_ref(), world.state(EntityKind::Recipient, person).as_ref());
}
