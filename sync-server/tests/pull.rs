//! Pull: pages in commit order, resumable from any cursor; only what the user's role and
//! stations allow; and the evictions and snapshots that follow a reassigned case or a
//! transferred recipient.

mod common;

use std::thread;

use common::*;
use domain::change::{Incoming, Write};
use domain::entity::{Area, EntityKind};
use domain::field;
use ed25519_dalek::SigningKey;
use protocol::{PullQuery, codes};
use uuid::Uuid;

/// Worker A records people, visits and a case; B has a case too; T has its own person.
struct Scene {
    world: World,
    a_people: Vec<uuid::Uuid>,
    a_case: uuid::Uuid,
    b_case: uuid::Uuid,
    t_person: uuid::Uuid,
}

fn scene() -> Scene {
    let world = World::new();
    let mut a = world.login("wa");
    let mut writes = Vec::new();
    let mut a_people = Vec::new();
    for n in 0..5 {
        let (id, write) = recipient(world.station_s, world.village_s, "张三", n);
        a_people.push(id);
        writes.push(write);
    }
    for person in &a_people {
        writes.push(visit(world.station_s, world.village_s, *person, world.worker_a, "2026-06-14").1);
    }
    let (a_case, open) = new_case(world.station_s, a_people[0], world.worker_a);
    writes.push(open);
    a.send_ok(writes);
    let mut b = world.login("wb");
    let (b_case, open) = new_case(world.station_s, a_people[1], world.worker_b);
    b.send_ok(vec![open]);
    let mut c = world.login("wc");
    let (t_person, create) = recipient(world.station_t, world.village_t, "王五", 9);
    c.send_ok(vec![create]);
    Scene { world, a_people, a_case, b_case, t_person }
}

#[test]
fn pages_resume_from_any_cursor_and_together_hold_everything_after_it() {
    let s = scene();
    let deputy = s.world.login("ds");
    let full = deputy.pull_from_scratch();
    let head = s.world.log_head();
    let all: Vec<u64> = {
        let mut d = s.world.login("ds");
        d.sync_with_page(1000).into_iter().map(|e| e.server_seq).collect()
    };
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in sequence order");
    for page in [1u32, 3, 7] {
        for start in 0..=head {
            let mut d = s.world.login("ds");
            d.cursor = start;
            let got: Vec<u64> = d.sync_with_page(page).into_iter().map(|e| e.server_seq).collect();
            let expected: Vec<u64> = all.iter().copied().filter(|s| *s > start).collect();
            assert_eq!(got, expected, "page {page}, from {start}");
            assert_eq!(d.cursor, head, "ends at the head");
        }
    }
    // Cut anywhere, resumed: the same replica as one long pull.
    let mut d = s.world.login("ds");
    d.sync_with_page(4);
    assert_eq!(d.replica, full);
}

#[test]
fn the_last_page_reports_the_head_even_past_entries_outside_scope() {
    let s = scene();
    let mut worker_c = s.world.login("wc");
    worker_c.sync();
    let head = s.world.log_head();
    assert_eq!(worker_c.cursor, head);
    // Station S writes more; C's next pull has nothing, but its cursor moves to the head.
    let mut a = s.world.login("wa");
    a.send_ok(vec![recipient(s.world.station_s, s.world.village_s, "赵六", 20).1]);
    let response = s
        .world
        .server
        .pull(worker_c.token(), domain::SCHEMA_VERSION, PullQuery { after: worker_c.cursor, limit: Some(10) })
        .expect("answered");
    assert!(response.entries.is_empty());
    assert!(!response.has_more);
    assert_eq!(response.next_cursor, head + 1);
    assert_eq!(response.head, head + 1);
}

#[test]
fn a_worker_holds_the_roster_of_their_station_and_only_their_own_cases() {
    let s = scene();
    let a = s.world.login("wa").pull_from_scratch();
    for person in &s.a_people {
        assert!(a.has(EntityKind::Recipient, *person));
    }
    assert!(a.has(EntityKind::Case, s.a_case));
    assert!(!a.has(EntityKind::Case, s.b_case), "another worker's case");
    assert!(!a.has(EntityKind::Recipient, s.t_person), "another station's person");
    assert_eq!(a.of_kind(EntityKind::Visit).len(), 5);
    assert!(a.has(EntityKind::User, s.world.supervisor_s), "the station's supervisor, for their keys");
    assert!(!a.has(EntityKind::User, s.world.worker_c));
    assert!(!a.has(EntityKind::Station, s.world.station_t));
}

#[test]
fn no_device_ever_receives_another_stations_people() {
    let s = scene();
    for username in ["wc", "dt", "supt"] {
        let replica = s.world.login(username).pull_from_scratch();
        for state in replica.entities.values() {
            assert!(
                state.station_ids().contains(&s.world.station_t) || state.station_ids().is_empty(),
                "{username} holds {:?} of {:?}",
                state.kind,
                state.station_ids()
            );
        }
        // A supervisor holds the people of waiting cases only (tests/supervision.rs).
        assert_eq!(replica.has(EntityKind::Recipient, s.t_person), username != "supt", "{username}");
        assert!(!replica.has(EntityKind::Recipient, s.a_people[0]));
    }
}

#[test]
fn a_deputy_head_holds_every_case_of_their_station_and_a_supervisor_only_those_waiting_for_them() {
    let s = scene();
    let replica = s.world.login("ds").pull_from_scratch();
    assert!(replica.has(EntityKind::Case, s.a_case));
    assert!(replica.has(EntityKind::Case, s.b_case));
    assert!(!replica.has(EntityKind::Recipient, s.t_person));
    let supervisor = s.world.login("sup").pull_from_scratch();
    assert!(!supervisor.has(EntityKind::Case, s.a_case), "no closure requested");
    assert!(!supervisor.has(EntityKind::Case, s.b_case));
    assert!(supervisor.has(EntityKind::Station, s.world.station_s));
}

#[test]
fn an_administrator_holds_the_organisation_and_nothing_else() {
    let s = scene();
    let replica = s.world.login("adm").pull_from_scratch();
    assert!(!replica.entities.is_empty());
    for state in replica.entities.values() {
        assert_eq!(state.kind.area(), Area::Organisation, "{:?}", state.kind);
    }
    assert!(replica.has(EntityKind::Station, s.world.station_s));
    assert!(replica.has(EntityKind::Station, s.world.station_t));
    assert!(replica.has(EntityKind::User, s.world.admin));
}

#[test]
fn a_reassigned_case_leaves_the_old_workers_devices_and_reaches_the_new_workers_in_full() {
    let world = World::new();
    let mut a = world.login("wa");
    let mut b = world.login("wb");
    let mut deputy = world.login("ds");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (ids, writes) = case_to_closure_request(world.station_s, person, world.worker_a);
    let mut all = vec![create];
    all.extend(writes.into_iter().take(6)); // up to the goal, in the Plan stage
    a.send_ok(all);
    a.sync();
    b.sync();
    deputy.sync();
    assert!(a.replica.has(EntityKind::Case, ids.case));
    assert!(a.replica.has(EntityKind::Goal, ids.goal));
    assert!(!b.replica.has(EntityKind::Case, ids.case));

    deputy.send_ok(vec![
        Write::update(EntityKind::Case, ids.case).set(field::case::WORKER_ID, world.worker_b.to_string()),
    ]);
    a.sync();
    b.sync();
    deputy.sync();

    assert!(!a.replica.has(EntityKind::Case, ids.case), "A ends without the case");
    assert!(!a.replica.has(EntityKind::Goal, ids.goal), "...and without its records");
    assert!(!a.replica.has(EntityKind::Screening, ids.screening));
    let server_case = world.state(EntityKind::Case, ids.case).expect("case");
    assert_eq!(b.replica.get(EntityKind::Case, ids.case), Some(&server_case), "B ends with the full case");
    for record in world.case_records(ids.case) {
        assert_eq!(b.replica.get(record.kind, record.id), Some(&record), "B holds every record");
    }
    assert_eq!(b.replica.unknown_updates, 0, "B never met an update of a case it lacked");
    assert_eq!(deputy.replica.get(EntityKind::Case, ids.case), Some(&server_case));

    // B now works on it; A never hears of it again, B does.
    b.send_ok(vec![Write::update(EntityKind::Case, ids.case).set(field::case::PLAN_STRATEGY, "联系家属")]);
    let a_entries = a.sync();
    assert!(a_entries.iter().all(|e| !matches!(&e.item, Incoming::Change(c) if c.entity_id == ids.case)));
    assert_eq!(a.replica, a.pull_from_scratch(), "A's replica equals a fresh pull");
    assert_eq!(b.replica.get(EntityKind::Case, ids.case), world.state(EntityKind::Case, ids.case).as_ref());
    let b_fresh = b.pull_from_scratch();
    assert_eq!(b_fresh.get(EntityKind::Case, ids.case), world.state(EntityKind::Case, ids.case).as_ref());
    assert_eq!(b_fresh.get(EntityKind::Goal, ids.goal), world.state(EntityKind::Goal, ids.goal).as_ref());
}

#[test]
fn a_transferred_recipient_leaves_the_old_stations_devices_with_everything_about_them() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let mut a = world.login("wa");
    let mut supervisor = world.login_with("sup", Some(&key));
    let mut deputy_s = world.login("ds");
    let mut deputy_t = world.login("dt");
    let mut worker_c = world.login("wc");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (visit_id, visit_write) = visit(world.station_s, world.village_s, person, world.worker_a, "2026-06-14");
    let referral = Uuid::now_v7();
    a.send_ok(vec![
        create,
        visit_write,
        Write::create(EntityKind::Referral, referral)
            .set(field::referral::STATION_ID, world.station_s.to_string())
            .set(field::referral::RECIPIENT_ID, person.to_string())
            .set(field::referral::DIRECTION, "Inbound")
            .set(field::referral::COUNTERPART, "Police")
            .set(field::referral::REASON, "街面巡查发现")
            .set(field::referral::REFERRED_ON, "2026-06-01")
            .set(field::referral::OUTCOME, "Accepted"),
    ]);
    let case = closed_case(&world, &mut a, &mut supervisor, &key, person);
    for device in [&mut a, &mut deputy_s, &mut deputy_t, &mut worker_c, &mut supervisor] {
        device.sync();
    }
    assert!(a.replica.has(EntityKind::Recipient, person));
    assert!(!deputy_t.replica.has(EntityKind::Recipient, person));

    // A recipient with an open case stays.
    let (open_person, create) = recipient(world.station_s, world.village_s, "李四", 2);
    let (_, open) = new_case(world.station_s, open_person, world.worker_a);
    a.send_ok(vec![create, open]);
    // A transfer names the village it goes to (domain::rules).
    let results = deputy_s.send(vec![
        Write::update(EntityKind::Recipient, open_person)
            .set(field::recipient::STATION_ID, world.station_t.to_string())
            .set(field::recipient::VILLAGE_ID, world.village_t.to_string()),
    ]);
    assert_eq!(rejected(&results[0]), "has_open_cases");

    deputy_s.send_ok(vec![
        Write::update(EntityKind::Recipient, person)
            .set(field::recipient::STATION_ID, world.station_t.to_string())
            .set(field::recipient::VILLAGE_ID, world.village_t.to_string()),
    ]);
    for device in [&mut a, &mut deputy_s, &mut deputy_t, &mut worker_c, &mut supervisor] {
        device.sync();
    }

    let moved: Vec<(EntityKind, Uuid)> = [
        (EntityKind::Recipient, person),
        (EntityKind::Visit, visit_id),
        (EntityKind::Referral, referral),
        (EntityKind::Case, case.case),
        (EntityKind::Goal, case.goal),
    ]
    .to_vec();
    for (kind, id) in &moved {
        let state = world.state(*kind, *id).expect("on the server");
        assert_eq!(state.station_id(), Some(world.station_t), "{kind:?} moved to T on the server");
        for (name, device) in [("A", &a), ("deputy S", &deputy_s), ("supervisor S", &supervisor)] {
            assert!(!device.replica.has(*kind, *id), "{name} still holds the {kind:?}");
        }
        assert_eq!(deputy_t.replica.get(*kind, *id), Some(&state), "T's deputy holds the {kind:?} as the server does");
    }
    for record in world.case_records(case.case) {
        assert_eq!(record.station_id(), Some(world.station_t));
        assert_eq!(deputy_t.replica.get(record.kind, record.id), Some(&record));
        assert!(!deputy_s.replica.has(record.kind, record.id));
    }
    // T's worker gets the person and the visit, not a case assigned to someone else.
    assert!(worker_c.replica.has(EntityKind::Recipient, person));
    assert!(worker_c.replica.has(EntityKind::Visit, visit_id));
    assert!(!worker_c.replica.has(EntityKind::Case, case.case));
    assert_eq!(deputy_t.replica.unknown_updates, 0);

    // Later edits at T never reach S's devices.
    deputy_t.send_ok(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::ADDRESS, "新址")]);
    let to_s = deputy_s.sync();
    assert!(to_s.is_empty(), "S's deputy receives nothing of T: {to_s:?}");
    assert!(a.sync().is_empty());
    deputy_t.sync();
    assert_eq!(deputy_t.replica.entities, deputy_t.pull_from_scratch().entities);
    assert_eq!(deputy_s.replica.entities, deputy_s.pull_from_scratch().entities);
}

#[test]
fn a_pull_with_an_old_client_is_told_to_update() {
    let world = World::new();
    let device = world.login("wa");
    let error = world.server.pull(device.token(), 0, PullQuery { after: 0, limit: None }).expect_err("too old");
    assert_eq!(error.code, codes::CLIENT_TOO_OLD);
}

/// Writers commit while a reader pages through the log: the reader must see every entry in
/// its scope, in order, none skipped, even those that committed while it was reading.
#[test]
fn a_reader_paging_while_writers_commit_never_skips_an_entry() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let dir = tempfile::tempdir().expect("temp dir");
    let world = World::with_storage(test_support::backend::TestDatabase::new(dir.path()).open());
    let writers: Vec<_> = ["wa", "wb", "ds"]
        .into_iter()
        .enumerate()
        .map(|(w, username)| {
            let mut device = world.login(username);
            let (station, village) = (world.station_s, world.village_s);
            thread::spawn(move || {
                for n in 0..40u32 {
                    let (_, write) = recipient(station, village, "并发", w as u32 * 100 + n);
                    device.send_ok(vec![write]);
                }
            })
        })
        .collect();
    let mut reader = world.login("ds");
    let mut seen = Vec::new();
    while writers.iter().any(|w| !w.is_finished()) {
        seen.extend(reader.sync_with_page(3).into_iter().map(|e| e.server_seq));
    }
    for writer in writers {
        writer.join().expect("writer finished");
    }
    seen.extend(reader.sync_with_page(3).into_iter().map(|e| e.server_seq));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    let mut fresh = world.login("ds");
    let all: Vec<u64> = fresh.sync_with_page(1000).into_iter().map(|e| e.server_seq).collect();
    assert_eq!(seen, all, "the concurrent reader saw exactly what a later reader sees");
    assert_eq!(reader.replica, fresh.replica);
    assert_eq!(reader.replica.of_kind(EntityKind::Recipient).len(), 120);
}

/// What the HTTP layer sends is built from the log's stored JSON without reading it into values
/// first ([`sync_server::Server::pull_json`]): it must read as exactly the typed page, for every
/// scope (a deputy, a worker who sees only their cases, a worker of another station) and every
/// kind of entry (changes, and the evictions and snapshots of a reassigned case).
#[test]
fn the_page_as_sent_reads_as_the_typed_page_in_every_scope() {
    let s = scene();
    let mut deputy = s.world.login("ds");
    deputy.sync();
    deputy.send_ok(vec![
        Write::update(EntityKind::Case, s.a_case).set(field::case::WORKER_ID, s.world.worker_b.to_string()),
    ]);
    let head = s.world.log_head();
    let mut kinds = std::collections::BTreeSet::new();
    for user in ["ds", "wa", "wb", "wc"] {
        let device = s.world.login(user);
        for limit in [1u32, 4, 1000] {
            let mut after = 0;
            loop {
                let query = PullQuery { after, limit: Some(limit) };
                let typed = s.world.server.pull(device.token(), domain::SCHEMA_VERSION, query).expect("typed");
                let json = s.world.server.pull_json(device.token(), domain::SCHEMA_VERSION, query).expect("json");
                let read: protocol::PullResponse = serde_json::from_str(&json).expect("the sent page reads");
                assert_eq!(read, typed, "{user}, page of {limit} after {after}");
                for entry in &typed.entries {
                    kinds.insert(match &entry.item {
                        Incoming::Change(_) => "change",
                        Incoming::Snapshot(_) => "snapshot",
                        Incoming::Evict { .. } => "evict",
                    });
                }
                after = typed.next_cursor;
                if !typed.has_more {
                    break;
                }
            }
            assert_eq!(after, head, "{user} ends at the head");
        }
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["change", "evict", "snapshot"]);
    // Errors are the typed pull's.
    let device = s.world.login("wa");
    let query = PullQuery { after: 0, limit: None };
    let error = s.world.server.pull_json(device.token(), 0, query).expect_err("too old");
    assert_eq!(error.code, codes::CLIENT_TOO_OLD);
    assert_eq!(
        s.world.server.pull_json("no such token", domain::SCHEMA_VERSION, query).expect_err("no token").code,
        codes::UNAUTHORIZED
    );
}
