//! Supervisor-sized sync: a supervisor's devices hold, of their stations, the organisation, the
//! workforce's records and the library, and the cases waiting for their decision with what the
//! review reads (stage records, the recipient, the recipient's visits): not the stations' rosters.
//! A case enters at the round after its closure is requested, and leaves, with what came with
//! it, at the round after it is decided. Checksums and snapshots agree with what was pulled.

mod common;

use common::*;
use domain::Id;
use domain::change::{Incoming, Write};
use domain::entity::EntityKind;
use domain::field;
use ed25519_dalek::SigningKey;

/// Worker A's people at S: `waiting` has a case whose closure is requested, `open` a case at its
/// first stage, `roster` no case; each has a visit. C has a waiting case at T, which S's
/// supervisor does not supervise.
struct Scene {
    world: World,
    waiting: Id,
    waiting_case: CaseIds,
    waiting_visit: Id,
    open: Id,
    open_case: Id,
    open_visit: Id,
    roster: Id,
    household: Id,
    t_case: Id,
}

fn scene() -> Scene {
    let world = World::with_storage(test_support::backend::open_test_storage());
    let mut a = world.login("wa");
    let (waiting, create_waiting) = recipient(world.station_s, world.village_s, "张三", 1);
    let (open, create_open) = recipient(world.station_s, world.village_s, "李四", 2);
    let (roster, create_roster) = recipient(world.station_s, world.village_s, "王五", 3);
    let household = Id::now_v7();
    let (waiting_visit, visit_waiting) = visit(world.station_s, world.village_s, waiting, world.worker_a, "2026-06-10");
    let (open_visit, visit_open) = visit(world.station_s, world.village_s, open, world.worker_a, "2026-06-10");
    let (_, visit_roster) = visit(world.station_s, world.village_s, roster, world.worker_a, "2026-06-10");
    a.send_ok(vec![
        create_waiting,
        create_open,
        create_roster,
        Write::create(EntityKind::Household, household)
            .set(field::household::STATION_ID, world.station_s.to_string())
            .set(field::household::VILLAGE_ID, world.village_s.to_string())
            .set(field::household::NAME, "王五家"),
        visit_waiting,
        visit_open,
        visit_roster,
    ]);
    let (waiting_case, to_request) = case_to_closure_request(world.station_s, waiting, world.worker_a);
    a.send_ok(to_request);
    let (open_case, open_write) = new_case(world.station_s, open, world.worker_a);
    a.send_ok(vec![open_write]);

    let mut c = world.login("wc");
    let (t_person, create) = recipient(world.station_t, world.village_t, "赵六", 4);
    c.send_ok(vec![create]);
    let (t_case, to_request) = case_to_closure_request(world.station_t, t_person, world.worker_c);
    c.send_ok(to_request);
    Scene {
        world,
        waiting,
        waiting_case,
        waiting_visit,
        open,
        open_case,
        open_visit,
        roster,
        household,
        t_case: t_case.case,
    }
}

/// Every stage record of the case, as the server holds them.
fn records_of(world: &World, case: Id) -> Vec<(EntityKind, Id)> {
    let read = world.server.storage().read().expect("read");
    read.case_records(case).expect("records").into_iter().map(|r| (r.kind, r.id)).collect()
}

/// The device's checksum of each station agrees with the server's, and its holdings of each are
/// exactly the supervisor's snapshot of it.
fn agrees_with_checksum_and_snapshot(device: &Device, replica: &Replica) {
    let checksums = device.server.checksum(device.token()).expect("checksums");
    assert!(!checksums.stations.is_empty());
    for station in &checksums.stations {
        assert_eq!(replica.checksum(station.station_id), station.checksum, "checksum of {}", station.station_id);
        let snapshot = device.snapshot_all(station.station_id, 4);
        let held: Vec<_> =
            replica.entities.values().filter(|s| s.station_ids().contains(&station.station_id)).cloned().collect();
        assert_eq!(snapshot, held, "the snapshot is what was pulled");
    }
}

#[test]
fn a_supervisors_first_pull_holds_the_cases_waiting_for_them_and_what_their_review_reads() {
    let s = scene();
    let supervisor = s.world.login("sup");
    let replica = supervisor.pull_from_scratch();

    assert!(replica.has(EntityKind::Case, s.waiting_case.case));
    for (kind, id) in records_of(&s.world, s.waiting_case.case) {
        assert!(replica.has(kind, id), "the waiting case's {kind:?}");
    }
    assert!(replica.has(EntityKind::Recipient, s.waiting));
    assert!(replica.has(EntityKind::Visit, s.waiting_visit));
    // Names on every screen: the organisation of the supervised station.
    for (kind, id) in [
        (EntityKind::Station, s.world.station_s),
        (EntityKind::Village, s.world.village_s),
        (EntityKind::User, s.world.worker_a),
        (EntityKind::User, s.world.deputy_s),
    ] {
        assert!(replica.has(kind, id), "{kind:?}");
    }

    // Not the station's roster, nor its other cases.
    assert!(!replica.has(EntityKind::Case, s.open_case));
    for (kind, id) in [
        (EntityKind::Recipient, s.open),
        (EntityKind::Recipient, s.roster),
        (EntityKind::Visit, s.open_visit),
        (EntityKind::Household, s.household),
    ] {
        assert!(!replica.has(kind, id), "{kind:?}");
    }
    assert!(replica.of_kind(EntityKind::Visit).len() == 1 && replica.of_kind(EntityKind::Recipient).len() == 1);
    // Nor another station's, waiting or not.
    assert!(!replica.has(EntityKind::Case, s.t_case));
    assert!(!replica.has(EntityKind::Station, s.world.station_t));
    assert_eq!(replica.unknown_updates, 0, "every update is of something pulled before");
    agrees_with_checksum_and_snapshot(&supervisor, &replica);
}

#[test]
fn a_case_whose_closure_is_requested_after_a_pull_arrives_at_the_next_with_its_person_and_visits() {
    let s = scene();
    let mut supervisor = s.world.login("sup");
    supervisor.sync();
    assert!(!supervisor.replica.has(EntityKind::Recipient, s.open));

    let mut a = s.world.login("wa");
    a.sync();
    let (_, steps) =
        test_support::writes::steps_to_closure_request(s.world.station_s, s.open_case, s.world.worker_a, opened_on());
    for step in steps {
        a.send_ok(step);
    }
    supervisor.sync();

    assert!(supervisor.replica.has(EntityKind::Case, s.open_case));
    for (kind, id) in records_of(&s.world, s.open_case) {
        assert_eq!(supervisor.replica.get(kind, id), s.world.state(kind, id).as_ref(), "{kind:?}");
    }
    assert_eq!(
        supervisor.replica.get(EntityKind::Case, s.open_case),
        s.world.state(EntityKind::Case, s.open_case).as_ref()
    );
    assert!(supervisor.replica.has(EntityKind::Recipient, s.open));
    assert!(supervisor.replica.has(EntityKind::Visit, s.open_visit));
    assert!(!supervisor.replica.has(EntityKind::Recipient, s.roster));
    assert_eq!(supervisor.replica.unknown_updates, 0);
    // A visit recorded while the case waits reaches the supervisor too.
    let (later_visit, write) = visit(s.world.station_s, s.world.village_s, s.open, s.world.worker_a, "2026-06-14");
    a.send_ok(vec![write]);
    supervisor.sync();
    assert!(supervisor.replica.has(EntityKind::Visit, later_visit));
    agrees_with_checksum_and_snapshot(&supervisor, &supervisor.replica);
    assert_eq!(supervisor.replica, supervisor.pull_from_scratch(), "pulling along the way or at once");
}

#[test]
fn a_decided_case_leaves_the_supervisors_laptop_with_what_came_with_it_and_stays_at_the_station() {
    let s = scene();
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let mut supervisor = s.world.login_with("sup", Some(&key));
    let mut deputy = s.world.login("ds");
    supervisor.sync();
    deputy.sync();

    let digest = server_digest(&s.world, s.waiting_case.case);
    supervisor.send_ok(sign_off(&s.world, s.world.supervisor_s, s.waiting_case.case, &key, &digest));
    supervisor.sync();
    deputy.sync();

    for (kind, id) in records_of(&s.world, s.waiting_case.case).into_iter().chain([
        (EntityKind::Case, s.waiting_case.case),
        (EntityKind::Recipient, s.waiting),
        (EntityKind::Visit, s.waiting_visit),
    ]) {
        assert!(!supervisor.replica.has(kind, id), "the supervisor's laptop lets go of {kind:?}");
        assert_eq!(deputy.replica.get(kind, id), s.world.state(kind, id).as_ref(), "the station keeps {kind:?}");
    }
    assert!(supervisor.replica.has(EntityKind::Station, s.world.station_s));
    agrees_with_checksum_and_snapshot(&supervisor, &supervisor.replica);
    assert_eq!(supervisor.replica, supervisor.pull_from_scratch());
    // The deputy head's pulls never carried what was for the supervisors alone.
    assert_eq!(deputy.replica, deputy.pull_from_scratch());
    agrees_with_checksum_and_snapshot(&deputy, &deputy.replica);
}

/// The supervisor's return of a closure request, with `comments`.
fn return_closure(world: &World, case: Id, comments: &str) -> Vec<Write> {
    vec![
        Write::create(EntityKind::ClosureDecision, Id::now_v7())
            .set(field::closure_decision::STATION_ID, world.station_s.to_string())
            .set(field::closure_decision::CASE_ID, case.to_string())
            .set(field::closure_decision::SUPERVISOR_ID, world.supervisor_s.to_string())
            .set(field::closure_decision::DECISION, "Returned")
            .set(field::closure_decision::COMMENTS, comments)
            .set(field::closure_decision::DECIDED_AT, "2026-06-15T09:00:00.000Z"),
        Write::update(EntityKind::Case, case)
            .set(field::case::CLOSURE_STATUS, "Returned")
            .set(field::case::CLOSURE_COMMENTS, comments),
    ]
}

#[test]
fn a_returned_case_leaves_and_comes_back_in_full_when_its_closure_is_requested_again() {
    let s = scene();
    let mut supervisor = s.world.login("sup");
    let mut a = s.world.login("wa");
    supervisor.sync();
    supervisor.send_ok(return_closure(&s.world, s.waiting_case.case, "请补充跟进记录"));
    supervisor.sync();
    assert!(!supervisor.replica.has(EntityKind::Case, s.waiting_case.case), "the returned case leaves");
    assert!(!supervisor.replica.has(EntityKind::Recipient, s.waiting));
    assert!(!supervisor.replica.has(EntityKind::Visit, s.waiting_visit));

    a.sync();
    // Worked on while returned, then requested again: it comes back as it now stands.
    let (later_visit, write) = visit(s.world.station_s, s.world.village_s, s.waiting, s.world.worker_a, "2026-06-14");
    let follow_up = test_support::writes::stage_record(
        EntityKind::FollowUp,
        s.world.station_s,
        s.waiting_case.case,
        s.world.worker_a,
        date("2026-06-14"),
    );
    a.send_ok(vec![write, follow_up]);
    supervisor.sync();
    assert!(!supervisor.replica.has(EntityKind::Visit, later_visit));
    a.send_ok(vec![Write::update(EntityKind::Case, s.waiting_case.case).set(field::case::CLOSURE_STATUS, "Requested")]);
    supervisor.sync();
    for (kind, id) in records_of(&s.world, s.waiting_case.case).into_iter().chain([
        (EntityKind::Case, s.waiting_case.case),
        (EntityKind::Recipient, s.waiting),
        (EntityKind::Visit, s.waiting_visit),
        (EntityKind::Visit, later_visit),
    ]) {
        assert_eq!(supervisor.replica.get(kind, id), s.world.state(kind, id).as_ref(), "{kind:?}");
    }
    agrees_with_checksum_and_snapshot(&supervisor, &supervisor.replica);
    assert_eq!(supervisor.replica, supervisor.pull_from_scratch(), "pulling along the way or at once");
}

#[test]
fn what_the_supervisors_alone_are_sent_is_the_snapshot_or_eviction_of_what_enters_or_leaves_their_scope() {
    let s = scene();
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let mut supervisor = s.world.login_with("sup", Some(&key));
    supervisor.sync();
    let digest = server_digest(&s.world, s.waiting_case.case);
    supervisor.send_ok(sign_off(&s.world, s.world.supervisor_s, s.waiting_case.case, &key, &digest));

    let deputy = s.world.login("ds");
    let mut deputy_pull = Device::new(s.world.server.clone(), s.world.clock.clone(), deputy.session.clone());
    let mut supervisor_pull = Device::new(s.world.server.clone(), s.world.clock.clone(), supervisor.session.clone());
    let station: Vec<u64> = deputy_pull.sync().iter().map(|e| e.server_seq).collect();
    let theirs = supervisor_pull.sync();
    let alone: Vec<&Incoming> = theirs.iter().filter(|e| !station.contains(&e.server_seq)).map(|e| &e.item).collect();
    assert!(alone.iter().any(|item| matches!(item, Incoming::Snapshot(_))), "entering: snapshots");
    assert!(alone.iter().any(|item| matches!(item, Incoming::Evict { .. })), "leaving: evictions");
    for item in alone {
        assert!(matches!(item, Incoming::Snapshot(_) | Incoming::Evict { .. }), "{item:?}");
    }
}
