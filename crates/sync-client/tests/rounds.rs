//! A sync round against a real server on loopback: a push that fails never keeps the pull from
//! running, pushes the server refuses as sent are split and a change it cannot take is set
//! aside, a laptop database rolled back or cloned renumbers and loses nothing, a server
//! restored from a backup gets the devices' changes again, and a person recorded twice on two
//! laptops is flagged on both.

mod common;

use common::*;
use domain::field;
use protocol::{ApiError, codes};
use sync_client::{HttpTransport, SyncError, TransportError};

fn api(code: &str) -> TransportError {
    TransportError::Api(ApiError::new(code, "服务器错误", format!("server says {code}")))
}

#[test]
fn a_push_that_fails_does_not_keep_the_round_from_pulling() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let mut other = station.device("wb", "other");
    let theirs = other.add_recipient("李四", 2);
    other.sync().expect("the other laptop sends its work");

    let typed = mine.add_recipient("张三", 1);
    let transport = HttpTransport::new(&mine.url, mine.session.clone()).expect("transport");
    let (result, report) =
        mine.sync_with(Faulty::new(transport, |_| Some(TransportError::Offline("timed out".into()))));

    assert!(matches!(result, Err(SyncError::Offline(_))), "the round says the push failed: {result:?}");
    assert_eq!(report.push_failed.as_deref(), Some("offline"));
    assert!(mine.has(theirs), "the pull ran all the same");
    assert!(report.pulled > 0);
    assert_eq!(mine.store.pending_count().expect("outbox"), 1, "what was typed waits");
    let report = mine.sync().expect("the next round");
    assert_eq!(report.accepted, 1);
    assert!(mine.has(typed));
}

#[test]
fn a_push_the_server_finds_too_large_is_halved_until_it_goes_through() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let ids: Vec<_> = (0..7).map(|n| mine.add_recipient(&format!("居民{n}"), n)).collect();
    let transport = HttpTransport::new(&mine.url, mine.session.clone()).expect("transport");
    let mut sizes = Vec::new();
    let faulty = Faulty::new(transport, |request: &protocol::PushRequest| {
        sizes.push(request.changes.len());
        (request.changes.len() > 2).then(|| api(codes::TOO_LARGE))
    });
    let (result, report) = mine.sync_with(faulty);
    result.expect("the round goes through");
    assert_eq!((report.accepted, report.set_aside), (7, 0));
    assert_eq!(sizes[..3], [7, 3, 1], "halved: {sizes:?}");
    assert_eq!(mine.store.pending_count().expect("outbox"), 0);
    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(ids.iter().all(|id| other.has(*id)));
}

#[test]
fn one_change_the_server_cannot_handle_is_set_aside_and_the_rest_go_on() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let first = mine.add_recipient("张三", 1);
    let poison = mine.add_recipient("李四", 2);
    let third = mine.add_recipient("王五", 3);
    let transport = HttpTransport::new(&mine.url, mine.session.clone()).expect("transport");
    let faulty = Faulty::new(transport, |request: &protocol::PushRequest| {
        request.changes.iter().any(|c| c.entity_id == poison).then(|| api(codes::INTERNAL))
    });
    let (result, report) = mine.sync_with(faulty);
    result.expect("the round goes through");
    assert_eq!((report.accepted, report.set_aside), (2, 1));
    let aside = mine.store.set_aside_changes().expect("set aside");
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].change.entity_id, poison);
    assert_eq!(aside[0].reason.code, codes::INTERNAL);
    assert!(mine.has(poison), "it keeps its local effect");

    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(other.has(first) && other.has(third) && !other.has(poison));

    // Retried (by the user, or an hour later) once the server can take it.
    assert_eq!(mine.store.retry_set_aside(None).expect("retry"), 1);
    let report = mine.sync().expect("round");
    assert_eq!(report.accepted, 1);
    assert_eq!(mine.store.set_aside_count().expect("count"), 0);
    other.sync().expect("pull");
    assert!(other.has(poison));
}

#[test]
fn a_laptop_database_rolled_back_sends_its_new_work_under_fresh_numbers_and_loses_nothing() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let kept = mine.add_recipient("张三", 1);
    mine.sync().expect("round");
    let backup = station.dir.path().join("mine-backup.db");
    mine.copy_to(&backup);
    let lost: Vec<_> = (2..5).map(|n| mine.add_recipient(&format!("居民{n}"), n)).collect();
    mine.edit(kept, field::recipient::PHONE, "13800138000");
    mine.sync().expect("round");

    // Power loss (or a backup put back): the file is as it was before those writes.
    mine.restore_from(&backup);
    assert!(!mine.has(lost[0]));
    let typed = mine.add_recipient("赵六", 9);
    let report = mine.sync().expect("the round recovers by itself");
    assert!(report.renumbered > 0, "{report:?}");

    assert_eq!(mine.store.pending_count().expect("outbox"), 0);
    assert!(mine.has(typed), "what was typed after the rollback is kept");
    assert!(lost.iter().all(|id| mine.has(*id)), "what the server had comes back");
    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(other.has(typed) && lost.iter().all(|id| other.has(*id)));
    assert_eq!(
        other
            .store
            .entity(domain::entity::EntityKind::Recipient, kept)
            .expect("read")
            .expect("held")
            .get_str(field::recipient::PHONE),
        Some("13800138000")
    );
    // And from now on numbers are never used twice: a quiet round is quiet.
    let next = mine.add_recipient("孙七", 10);
    let report = mine.sync().expect("round");
    assert_eq!((report.accepted, report.renumbered), (1, 0));
    other.sync().expect("pull");
    assert!(other.has(next));
}

#[test]
fn a_cloned_laptop_image_becomes_a_new_device_and_both_get_their_work_through() {
    let station = Station::new();
    let mut first = station.device("wa", "first");
    first.add_recipient("张三", 1);
    first.sync().expect("round");
    let mut second = first.clone_image("second");

    let a = first.add_recipient("李四", 2);
    let b = second.add_recipient("王五", 3);
    first.sync().expect("first");
    let report = second.sync().expect("the clone becomes a new device");
    assert!(report.repaired.is_empty(), "{report:?}");
    let new_id = report.new_device.expect("a new device");
    assert_eq!((second.store.device_id(), second.session.device_id), (new_id, new_id));
    assert_ne!(first.store.device_id(), new_id);
    let report = first.sync().expect("first again");
    assert!(report.repaired.is_empty(), "{report:?}");
    let report = second.sync().expect("second again");
    assert!(report.repaired.is_empty() && report.verified, "{report:?}");
    for device in [&first, &second] {
        assert!(device.has(a) && device.has(b));
        assert_eq!(device.store.pending_count().expect("outbox"), 0);
    }
    let c = first.add_recipient("赵六", 4);
    let d = second.add_recipient("孙七", 5);
    second.sync().expect("second");
    let report = first.sync().expect("first");
    assert_eq!((report.accepted, report.renumbered), (1, 0), "two devices now: no number is shared");
    second.sync().expect("second");
    assert!(first.has(c) && first.has(d) && second.has(c) && second.has(d));
}

#[test]
fn a_server_restored_from_a_backup_gets_the_laptops_changes_again() {
    let mut station = Station::new();
    let mut mine = station.device("wa", "mine");
    let mut other = station.device("wb", "other");
    let early = mine.add_recipient("张三", 1);
    mine.sync().expect("round");
    let backup = station.dir.path().join("server-backup.db");
    station.back_up_server(&backup);
    let late = mine.add_recipient("李四", 2);
    mine.edit(early, field::recipient::PHONE, "13800138000");
    mine.sync().expect("round");
    let theirs = other.add_recipient("王五", 3);
    other.sync().expect("round");
    mine.sync().expect("round");
    assert!(mine.has(theirs));

    // The server's disk fails; the backup is put back, with a new generation.
    let running = std::mem::replace(&mut station.running, serve(&backup));
    running.stop();
    station.running.server.admin().new_generation().expect("new generation");
    mine.url = station.url();
    other.url = station.url();

    let report = mine.sync().expect("the round recovers by itself");
    assert!(report.server_restored, "{report:?}");
    assert_eq!(mine.store.pending_count().expect("outbox"), 0);
    assert!(mine.has(early) && mine.has(late));
    assert!(!mine.has(theirs), "what the restored server lost is not kept from the lost future");
    let report = mine.sync().expect("quiet");
    assert!(!report.server_restored && report.renumbered == 0 && report.repaired.is_empty(), "{report:?}");
    assert!(report.verified, "the device matches the restored server: {report:?}");

    // The other laptop sends what the server lost of its own, and everyone has it again.
    other.sync().expect("the other laptop recovers too");
    mine.sync().expect("round");
    assert!(mine.has(theirs));
    let phone = other.store.entity(domain::entity::EntityKind::Recipient, early).expect("read").expect("held");
    assert_eq!(phone.get_str(field::recipient::PHONE), Some("13800138000"));
    assert!(other.has(late));
}

/// The server is restored from a backup, and a copy of this laptop's image (sharing its device
/// id) syncs first: its unsent change takes the number under which the restored server had
/// lost this laptop's accepted change. The laptop must still send that change again: what the
/// server holds under a number is not necessarily this laptop's change (simulation seeds 175
/// and 6519).
#[test]
fn after_a_server_restore_a_change_whose_number_a_cloned_laptop_took_is_sent_again() {
    let mut station = Station::new();
    let mut mine = station.device("wa", "mine");
    let backup = station.dir.path().join("server-backup.db");
    station.back_up_server(&backup);
    let mut copy = mine.clone_image("copy");
    let sent = mine.add_recipient("张三", 1);
    mine.sync().expect("accepted under number 1");
    let unsent = copy.add_recipient("李四", 2);

    let running = std::mem::replace(&mut station.running, serve(&backup));
    running.stop();
    station.running.server.admin().new_generation().expect("new generation");
    mine.url = station.url();
    copy.url = station.url();

    let report = copy.sync().expect("the copy recovers: its change takes number 1");
    assert!(report.server_restored, "{report:?}");
    let report = mine.sync().expect("the laptop recovers");
    assert!(report.server_restored, "{report:?}");
    for _ in 0..2 {
        copy.sync().expect("round");
        mine.sync().expect("round");
    }
    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(other.has(sent), "the change the restored server lost is sent again");
    assert!(other.has(unsent));
    for device in [&mine, &copy] {
        assert!(device.has(sent) && device.has(unsent));
        assert_eq!(device.store.pending_count().expect("outbox"), 0);
    }
}

/// A laptop became a new device (a copy of its image pushed under its id first); its history
/// stays under the old id. Then the server is restored from a backup from before all of it and
/// the copy is gone: the laptop must send again what it had sent under its old id as well
/// (simulation seed 280).
#[test]
fn after_a_server_restore_a_laptop_that_became_a_new_device_sends_again_what_it_sent_under_its_old_id() {
    let mut station = Station::new();
    let mut mine = station.device("wa", "mine");
    let backup = station.dir.path().join("server-backup.db");
    station.back_up_server(&backup);
    let before = mine.add_recipient("张三", 1);
    mine.sync().expect("accepted under the old id");
    let mut copy = mine.clone_image("copy");
    copy.add_recipient("李四", 2);
    copy.sync().expect("the copy keeps the old id");
    let after = mine.add_recipient("王五", 3);
    let report = mine.sync().expect("the laptop becomes a new device");
    let old_id = copy.store.device_id();
    assert!(report.new_device.is_some_and(|id| id != old_id), "{report:?}");
    drop(copy);

    let running = std::mem::replace(&mut station.running, serve(&backup));
    running.stop();
    station.running.server.admin().new_generation().expect("new generation");
    mine.url = station.url();
    // The restored server knows neither the new device nor its session: the user signs in again.
    let request = serde_json::from_value(serde_json::json!({
        "username": "wa", "password": PASSWORD, "device_id": mine.store.device_id(), "device_name": "mine"
    }))
    .expect("login request");
    mine.session = sync_client::login(&station.url(), &request).expect("signs in again");

    let report = mine.sync().expect("the laptop recovers");
    assert!(report.server_restored, "{report:?}");
    mine.sync().expect("round");
    assert_eq!(mine.store.pending_count().expect("outbox"), 0);
    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(other.has(after));
    assert!(other.has(before), "what was sent under the old id is sent again");
}

#[test]
fn the_same_resident_id_number_on_two_laptops_is_flagged_on_both() {
    let station = Station::new();
    let mut a = station.device("wa", "a");
    let mut b = station.device("wb", "b");
    let birth = chrono::NaiveDate::from_ymd_opt(1949, 12, 31).expect("date");
    let number = test_support::id_number("110105", birth, 2);
    let on_a = a.add_recipient_with_id("张三", &number, birth);
    let on_b = b.add_recipient_with_id("张叁", &number, birth);
    a.sync().expect("round");
    b.sync().expect("round");
    a.sync().expect("round");
    let mut pair = vec![on_a, on_b];
    pair.sort();
    for device in [&a, &b] {
        let groups = device.store.probable_duplicates(Some(station.station)).expect("duplicates");
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!((groups[0].id_number.as_str(), &groups[0].recipient_ids), (number.as_str(), &pair));
    }
    assert_eq!(a.store.duplicates_of(on_a).expect("of a"), vec![on_b]);
}

#[test]
fn without_a_new_device_a_rolled_back_laptop_renumbers_its_unsent_work_after_the_servers_numbers() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    mine.add_recipient("张三", 1);
    mine.sync().expect("round");
    let backup = station.dir.path().join("mine-backup.db");
    mine.copy_to(&backup);
    let lost = mine.add_recipient("李四", 2);
    mine.sync().expect("round");
    mine.restore_from(&backup);
    let typed = [mine.add_recipient("王五", 3), mine.add_recipient("赵六", 4)];

    // A transport that cannot register a new device (as the simulation's): renumbering alone.
    let transport = HttpTransport::new(&mine.url, mine.session.clone()).expect("transport");
    let (result, report) = mine.sync_with(Faulty::new(transport, |_| None));
    result.expect("the round recovers by itself");
    assert_eq!((report.renumbered, report.new_device), (1, None), "{report:?}");
    assert_eq!(report.accepted, 2);
    assert_eq!(mine.store.device_id(), mine.session.device_id);
    assert!(mine.has(lost) && typed.iter().all(|id| mine.has(*id)));
    let mut other = station.device("wb", "other");
    other.sync().expect("pull");
    assert!(other.has(lost) && typed.iter().all(|id| other.has(*id)));
    let next = mine.add_recipient("孙七", 5);
    let report = mine.sync().expect("round");
    assert_eq!((report.accepted, report.renumbered), (1, 0));
    assert!(mine.has(next));
}

#[test]
fn a_server_failing_on_everything_sets_aside_at_most_one_change_and_the_round_still_pulls() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let mut other = station.device("wb", "other");
    let theirs = other.add_recipient("李四", 9);
    other.sync().expect("the other laptop sends its work");
    let typed: Vec<_> = (0..4).map(|n| mine.add_recipient(&format!("居民{n}"), n)).collect();
    let transport = HttpTransport::new(&mine.url, mine.session.clone()).expect("transport");
    let (result, report) = mine.sync_with(Faulty::new(transport, |_| Some(api(codes::INTERNAL))));
    assert!(matches!(&result, Err(SyncError::Server(e)) if e.code == codes::INTERNAL), "{result:?}");
    assert_eq!(report.set_aside, 1, "one is set aside; the second failure is the server's");
    assert!(mine.has(theirs), "the pull ran");
    assert_eq!(mine.store.pending_count().expect("outbox"), 4, "nothing is lost");

    // The server is back: the rest goes, and the one set aside follows when retried.
    mine.sync().expect("round");
    mine.store.retry_set_aside(None).expect("retry");
    mine.sync().expect("round");
    other.sync().expect("pull");
    assert!(typed.iter().all(|id| other.has(*id)));
}

#[test]
fn the_rows_a_round_pulled_reach_the_database_file_once_the_round_is_tidied_after() {
    let station = Station::new();
    let mut mine = station.device("wa", "mine");
    let mut other = station.device("wb", "other");
    for n in 0..40 {
        other.add_recipient(&format!("居民{n}"), n);
    }
    other.sync().expect("the other laptop sends its work");
    // The file's bytes, not its size: 40 rows may fit in the pages it already has.
    let bytes = |d: &Device| std::fs::read(&d.path).expect("database file");
    let before = bytes(&mine);
    let report = mine.sync().expect("round");
    assert_eq!(report.pulled, 40);
    assert_eq!(bytes(&mine), before, "the round's rows are in the log: the person does not wait for the copy");
    let pragma = |d: &Device, name: &str| -> i64 {
        d.store.connection().query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).expect("pragma")
    };
    assert_eq!(pragma(&mine, "synchronous"), 2, "every commit is synced to disk (FULL) all the same");
    assert_eq!(pragma(&mine, "wal_autocheckpoint"), 1000, "the app's own writes checkpoint as before");

    sync_client::tidy_after_round(&mut mine.store, &report);
    assert_ne!(bytes(&mine), before, "tidied after, the pulled rows are in the database file");
}
