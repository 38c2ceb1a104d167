//! Per-station checksums: what each user's devices should hold, kept incrementally by the server,
//! must equal (1) a recomputation over the server's state by the audience rules, (2) what a
//! device holds after pulling everything, and (3) the repair snapshot.

mod common;

use std::collections::BTreeMap;

use chrono::Duration;
use common::*;
use domain::Id;
use domain::change::Write;
use domain::entity::{Area, EntityKind, EntityState, checksum_fold};
use domain::field;
use domain::hlc::Hlc;
use ed25519_dalek::SigningKey;
use sync_server::storage::Reach;

/// A busy history: people, visits, cases of two workers, a reassignment, concurrent edits of one
/// field, a clock a day fast, a signed-off closure and a transfer to the other station.
fn busy_world() -> World {
    let world = World::new();
    let key = SigningKey::from_bytes(&[1u8; 32]);
    let mut a = world.login("wa");
    let mut b = world.login("wb");
    let mut c = world.login("wc");
    let mut deputy = world.login("ds");
    let mut supervisor = world.login_with("sup", Some(&key));

    let mut people = Vec::new();
    let mut writes = Vec::new();
    for n in 0..6 {
        let (id, write) = recipient(world.station_s, world.village_s, "张三", n);
        people.push(id);
        writes.push(write);
        writes.push(visit(world.station_s, world.village_s, id, world.worker_a, "2026-06-10").1);
    }
    let (case_a, open_a) = new_case(world.station_s, people[0], world.worker_a);
    writes.push(open_a);
    a.send_ok(writes);
    let (case_b, open_b) = new_case(world.station_s, people[1], world.worker_b);
    b.send_ok(vec![open_b]);
    c.send_ok(vec![recipient(world.station_t, world.village_t, "王五", 30).1]);
    // A case waiting for the supervisor's decision.
    a.send_ok(case_to_closure_request(world.station_s, people[4], world.worker_a).1);
    world.clock.advance(Duration::minutes(1));

    // Concurrent edits of one name: one wins, the other is kept as a conflict.
    a.sync();
    deputy.sync();
    a.send_ok(vec![Write::update(EntityKind::Recipient, people[2]).set(field::recipient::NAME, "张三丰")]);
    deputy.send_ok(vec![Write::update(EntityKind::Recipient, people[2]).set(field::recipient::NAME, "张三峰")]);

    // A laptop a day fast.
    b.hlc.observe(Hlc::new(world.clock.millis() + 86_400_000, 0, b.id()));
    b.sync();
    b.send_ok(vec![Write::update(EntityKind::Case, case_b).set(field::case::PLAN_STRATEGY, "定期探访")]);

    // Reassignment of A's case to B.
    deputy.sync();
    deputy
        .send_ok(vec![Write::update(EntityKind::Case, case_a).set(field::case::WORKER_ID, world.worker_b.to_string())]);

    // A signed-off case, then its recipient moves to T.
    world.clock.advance(Duration::minutes(1));
    closed_case(&world, &mut a, &mut supervisor, &key, people[3]);
    deputy.sync();
    deputy.send_ok(vec![
        Write::update(EntityKind::Recipient, people[3])
            .set(field::recipient::STATION_ID, world.station_t.to_string())
            // A transfer names the village it goes to (domain::rules).
            .set(field::recipient::VILLAGE_ID, world.village_t.to_string()),
    ]);
    let mut deputy_t = world.login("dt");
    deputy_t.sync();
    deputy_t.send_ok(vec![
        Write::update(EntityKind::Recipient, people[3]).set(field::recipient::VILLAGE_ID, world.village_t.to_string()),
    ]);
    world
}

/// Every entity the server holds, read station by station without any scope.
fn server_state(world: &World) -> BTreeMap<(EntityKind, Id), EntityState> {
    let tx = world.server.storage().read().expect("read");
    let mut all = BTreeMap::new();
    for station in [world.station_s, world.station_t] {
        let reach = Reach::Stations { stations: vec![station], own_cases_of: None };
        for state in tx.entities_of_station(station, &reach, None, 100_000).expect("entities") {
            all.insert((state.kind, state.id), state);
        }
    }
    all
}

/// The checksum of a supervisor's holdings, straight from the entities: the organisation, the
/// workforce and the library; the cases waiting for a decision with their records, recipients and
/// the recipients' visits.
fn recompute_supervised(all: &BTreeMap<(EntityKind, Id), EntityState>, station: Id) -> String {
    let waiting = |id: Option<Id>| {
        id.and_then(|id| all.get(&(EntityKind::Case, id)))
            .is_some_and(|case| case.get_str(field::case::CLOSURE_STATUS) == Some("Requested"))
    };
    let waits_for = |person: Option<Id>| {
        all.values()
            .any(|s| s.kind == EntityKind::Case && waiting(Some(s.id)) && s.get_id(field::RECIPIENT_ID) == person)
    };
    let acc = all
        .values()
        .filter(|s| s.station_ids().contains(&station))
        .filter(|s| match s.kind {
            EntityKind::Case => waiting(Some(s.id)),
            EntityKind::Recipient => waits_for(Some(s.id)),
            EntityKind::Visit => waits_for(s.get_id(field::RECIPIENT_ID)),
            EntityKind::Resource => true,
            kind if kind.is_case_record() => waiting(s.get_id(field::CASE_ID)),
            kind => matches!(kind.area(), Area::Organisation | Area::Workforce),
        })
        .fold(0, |acc, s| checksum_fold(acc, &s.digest()));
    format!("{acc:016x}")
}

/// The checksum by the audience rules, straight from the entities: a worker holds the station's
/// non-case entities and the cases (with records) assigned to them; deputies all.
fn recompute(all: &BTreeMap<(EntityKind, Id), EntityState>, station: Id, own_cases_of: Option<Id>) -> String {
    let worker_of_case = |case_id: Option<Id>| {
        case_id.and_then(|id| all.get(&(EntityKind::Case, id))).and_then(|case| case.get_id(field::case::WORKER_ID))
    };
    let acc = all
        .values()
        .filter(|s| s.station_ids().contains(&station))
        .filter(|s| match (s.kind.area(), own_cases_of) {
            (Area::Case, Some(worker)) => {
                let case_id = if s.kind == EntityKind::Case { Some(s.id) } else { s.get_id(field::CASE_ID) };
                worker_of_case(case_id) == Some(worker)
            }
            _ => true,
        })
        .fold(0, |acc, s| checksum_fold(acc, &s.digest()));
    format!("{acc:016x}")
}

#[test]
fn checksums_equal_a_recomputation_a_full_pull_and_the_snapshot_for_every_user() {
    let world = busy_world();
    let all = server_state(&world);
    let users = [
        ("wa", Some(world.worker_a), vec![world.station_s]),
        ("wb", Some(world.worker_b), vec![world.station_s]),
        ("wc", Some(world.worker_c), vec![world.station_t]),
        ("ds", None, vec![world.station_s]),
        ("dt", None, vec![world.station_t]),
        ("sup", None, vec![world.station_s]),
        ("supt", None, vec![world.station_t]),
    ];
    for (username, own_cases_of, stations) in users {
        let device = world.login(username);
        let response = world.server.checksum(device.token()).expect("checksums");
        assert_eq!(response.as_of, world.log_head());
        let got: Vec<Id> = response.stations.iter().map(|s| s.station_id).collect();
        assert_eq!(got, stations, "{username}'s stations");
        let replica = device.pull_from_scratch();
        for station in &response.stations {
            let expected = if username.starts_with("sup") {
                recompute_supervised(&all, station.station_id)
            } else {
                recompute(&all, station.station_id, own_cases_of)
            };
            assert_eq!(station.checksum, expected, "{username}: server vs recomputation");
            assert_eq!(replica.checksum(station.station_id), expected, "{username}: server vs a full pull");
            let snapshot = device.snapshot_all(station.station_id, 5);
            let folded = snapshot.iter().fold(0, |acc, s| checksum_fold(acc, &s.digest()));
            assert_eq!(format!("{folded:016x}"), expected, "{username}: server vs the snapshot");
            for state in &snapshot {
                assert_eq!(replica.get(state.kind, state.id), Some(state), "{username}: snapshot equals pulled state");
            }
        }
    }
    let admin = world.login("adm");
    assert!(world.server.checksum(admin.token()).expect("checksums").stations.is_empty());
}

#[test]
fn a_device_that_pulled_along_the_way_agrees_with_the_checksum_too() {
    let world = World::new();
    let mut a = world.login("wa");
    let mut deputy = world.login("ds");
    let mut writes = Vec::new();
    let mut people = Vec::new();
    for n in 0..4 {
        let (id, write) = recipient(world.station_s, world.village_s, "张三", n);
        people.push(id);
        writes.push(write);
    }
    let (case, open) = new_case(world.station_s, people[0], world.worker_a);
    writes.push(open);
    a.send_ok(writes);
    a.sync();
    deputy.sync();
    deputy.send_ok(vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_b.to_string())]);
    deputy.send_ok(vec![
        Write::update(EntityKind::Recipient, people[1])
            .set(field::recipient::STATION_ID, world.station_t.to_string())
            .set(field::recipient::VILLAGE_ID, world.village_t.to_string()),
    ]);
    a.sync();
    deputy.sync();
    for device in [&a, &deputy] {
        let response = world.server.checksum(device.token()).expect("checksums");
        assert_eq!(device.cursor, response.as_of);
        for station in response.stations {
            assert_eq!(device.replica.checksum(station.station_id), station.checksum);
        }
    }
}

#[test]
fn a_device_that_diverged_sees_it_in_the_checksum_and_repairs_from_the_snapshot() {
    let world = World::new();
    let mut a = world.login("wa");
    let (person, write) = recipient(world.station_s, world.village_s, "张三", 1);
    a.send_ok(vec![write]);
    a.sync();
    // Local damage: the device lost a record.
    a.replica.entities.remove(&(EntityKind::Recipient, person));
    let response = world.server.checksum(a.token()).expect("checksums");
    assert_ne!(a.replica.checksum(world.station_s), response.stations[0].checksum);
    // Repair: clear the station, apply the snapshot.
    a.replica.entities.retain(|_, s| !s.station_ids().contains(&world.station_s));
    for state in a.snapshot_all(world.station_s, 3) {
        a.replica.entities.insert((state.kind, state.id), state);
    }
    assert_eq!(a.replica.checksum(world.station_s), response.stations[0].checksum);
}

#[test]
fn a_snapshot_of_a_station_outside_the_users_scope_is_refused() {
    let world = World::new();
    let c = world.login("wc");
    let error = world
        .server
        .snapshot(
            c.token(),
            protocol::SnapshotQuery { station: world.station_s, after_kind: None, after_id: None, limit: None },
        )
        .expect_err("refused");
    assert_eq!(error.code, sync_server::error::FORBIDDEN);
    // An administrator may read any station's organisation.
    let admin = world.login("adm");
    let org = admin.snapshot_all(world.station_s, 2);
    assert!(!org.is_empty());
    assert!(org.iter().all(|s| s.kind.area() == Area::Organisation));
}
