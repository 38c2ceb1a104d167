//! The storage backends: one story run against each (in memory, a file, an encrypted file, and
//! the run's backend: PostgreSQL with `SHEGONG_TEST_BACKEND=postgres`), surviving a restart (on
//! the run's backend), plus what only SQLite's files have, tested on SQLite alone: encryption at
//! rest, and the file's schema version.

mod common;

use std::sync::Arc;

use common::*;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use protocol::{HandOverState, PushOutcome};
use sync_server::storage::{HandedOverRecord, Storage};
use sync_server::{SqliteStorage, StorageError};

/// What every backend must do the same way.
fn story(storage: Arc<dyn Storage>) {
    let world = World::with_storage(storage);
    let mut a = world.login("wa");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let bad = Write::update(EntityKind::Recipient, person).set(field::recipient::PHONE, "123");
    let changes = vec![a.stamp(create), a.stamp(bad)];
    let first = a.push(&changes).expect("push");
    accepted(&first.results[0]);
    assert_eq!(rejected(&first.results[1]), "mobile");
    assert_eq!(a.push(&changes).expect("resend"), first);

    let mut deputy = world.login("ds");
    deputy.sync();
    deputy.send_ok(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三丰")]);
    a.sync();
    assert_eq!(
        a.replica.get(EntityKind::Recipient, person).and_then(|s| s.get_str(field::recipient::NAME)),
        Some("张三丰")
    );
    let checksums = world.server.checksum(a.token()).expect("checksums");
    assert_eq!(checksums.as_of, a.cursor);
    assert_eq!(a.replica.checksum(world.station_s), checksums.stations[0].checksum);
    let stored = world.server.storage().read().expect("read").rejected_change(a.id(), 2).expect("read");
    assert_eq!(stored.map(|r| r.rejection.code), Some("mobile".to_owned()));

    // A handed-over change is kept once per change id, and decided once.
    let change = a.stamp(Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三"));
    let record = HandedOverRecord {
        change: change.clone(),
        device_id: a.id(),
        station_id: world.station_s,
        case_id: uuid::Uuid::now_v7(),
        author_id: a.user(),
        refused_at: world.clock.now(),
        state: HandOverState::Offered,
        decided_by: None,
        decided_at: None,
    };
    let storage = world.server.storage();
    let mut tx = storage.write().expect("write");
    assert!(tx.put_handed_over(&record).expect("kept"));
    let again = HandedOverRecord { refused_at: world.clock.now() + chrono::Duration::hours(1), ..record.clone() };
    assert!(!tx.put_handed_over(&again).expect("kept once"));
    tx.commit().expect("commit");
    let read = storage.read().expect("read");
    assert_eq!(read.handed_over_offered(world.station_s).expect("offered"), vec![record.clone()]);
    assert!(read.handed_over_offered(world.station_t).expect("offered").is_empty());
    assert_eq!(read.handed_over(change.change_id).expect("read"), Some(record.clone()));
    drop(read);
    let at = world.clock.now();
    let mut tx = storage.write().expect("write");
    assert!(tx.decide_handed_over(change.change_id, HandOverState::TakenOver, world.worker_b, at).expect("decided"));
    assert!(!tx.decide_handed_over(change.change_id, HandOverState::Dismissed, world.deputy_s, at).expect("once"));
    tx.commit().expect("commit");
    let read = storage.read().expect("read");
    assert!(read.handed_over_offered(world.station_s).expect("offered").is_empty());
    let decided = HandedOverRecord {
        state: HandOverState::TakenOver,
        decided_by: Some(world.worker_b),
        decided_at: Some(at),
        ..record
    };
    assert_eq!(read.handed_over(change.change_id).expect("read"), Some(decided));
}

#[test]
fn the_story_holds_on_the_runs_backend() {
    story(test_support::backend::open_test_storage());
}

#[test]
fn the_story_holds_in_memory() {
    story(Arc::new(SqliteStorage::open_in_memory().expect("memory")));
}

#[test]
fn the_story_holds_in_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    story(Arc::new(SqliteStorage::open(&dir.path().join("s.db")).expect("file")));
}

#[test]
fn the_story_holds_in_an_encrypted_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    story(Arc::new(SqliteStorage::open_with_key(&dir.path().join("s.db"), Some("correct horse")).expect("file")));
}

#[test]
fn everything_survives_a_restart_and_the_device_continues_its_sequence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = test_support::backend::TestDatabase::new(dir.path());
    let (session, person, head, next_seq) = {
        let world = World::with_storage(database.open());
        let mut a = world.login("wa");
        let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
        a.send_ok(vec![create]);
        (a.session.clone(), person, world.log_head(), a.next_seq)
    };
    let clock = TestClock::new();
    let server = sync_server::Server::new(database.open(), sync_server::ServerSettings::default(), clock.wall());
    let mut a = Device::new(server.clone(), clock, session);
    a.next_seq = next_seq;
    assert_eq!(server.storage().read().expect("read").log_head().expect("head"), head);
    let replica = a.pull_from_scratch();
    assert!(replica.has(EntityKind::Recipient, person));
    let results = a.send(vec![Write::update(EntityKind::Recipient, person).set(field::recipient::NAME, "张三丰")]);
    assert!(matches!(results[0].outcome, PushOutcome::Accepted { server_seq, .. } if server_seq == head + 1));
}

/// On PostgreSQL, as SQLite's file below: the schema's version past this server's is refused.
#[test]
fn a_postgres_schema_written_by_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = test_support::backend::TestDatabase::new(dir.path());
    if !database.is_postgres() {
        return; // SQLite's case: a_database_written_by_a_newer_server_is_refused.
    }
    drop(database.open());
    database.postgres_sql("UPDATE schema_version SET version = 99").expect("on PostgreSQL");
    match sync_server::open_storage(&database.config()) {
        Err(StorageError::NewerSchema { found: 99, supported }) => assert!(supported < 99),
        Err(other) => panic!("expected NewerSchema, got {other:?}"),
        Ok(_) => panic!("expected NewerSchema, the database opened"),
    }
}

// SQLite only from here: its encryption, its file's schema version.

#[test]
fn an_encrypted_database_is_unreadable_without_its_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.db");
    {
        let world = World::with_storage(Arc::new(SqliteStorage::open_with_key(&path, Some("k1")).expect("file")));
        let mut a = world.login("wa");
        a.send_ok(vec![recipient(world.station_s, world.village_s, "独一无二的名字", 1).1]);
    }
    assert!(matches!(SqliteStorage::open(&path), Err(StorageError::WrongKey)));
    assert!(matches!(SqliteStorage::open_with_key(&path, Some("k2")), Err(StorageError::WrongKey)));
    let bytes = std::fs::read(&path).expect("file");
    let wal = std::fs::read(dir.path().join("s.db-wal")).unwrap_or_default();
    let needle = "独一无二的名字".as_bytes();
    for content in [&bytes, &wal] {
        assert!(!content.windows(needle.len()).any(|w| w == needle), "the name is not in the file in clear");
    }
    assert!(SqliteStorage::open_with_key(&path, Some("k1")).is_ok());
}

#[test]
fn a_database_written_by_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.db");
    drop(SqliteStorage::open(&path).expect("created"));
    let conn = rusqlite::Connection::open(&path).expect("plain open");
    conn.pragma_update(None, "user_version", 99).expect("bumped");
    drop(conn);
    match SqliteStorage::open(&path) {
        Err(StorageError::NewerSchema { found: 99, supported }) => assert!(supported < 99),
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

/// A database written by the first release (schema version 1), with data in it, is brought to
/// the latest schema by every later migration in order, and keeps what it held.
#[test]
fn every_migration_brings_a_populated_first_release_database_to_the_latest_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.db");
    let (person, head) = {
        let world = World::with_storage(Arc::new(SqliteStorage::open(&path).expect("created")));
        let mut a = world.login("wa");
        let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
        let changes = vec![a.stamp(create)];
        accepted(&a.push(&changes).expect("push").results[0]);
        (person, world.server.storage().read().expect("read").log_head().expect("head"))
    };
    // Back to what the first release wrote: undo migrations 0002.. by hand, keeping the data.
    let conn = rusqlite::Connection::open(&path).expect("plain open");
    conn.execute_batch(
        "DROP INDEX entity_stations_supervised;
         DROP INDEX log_audience_by_supervision;
         ALTER TABLE entities DROP COLUMN supervised;
         ALTER TABLE entity_stations DROP COLUMN supervised;
         ALTER TABLE log_audience DROP COLUMN supervision;
         DROP TABLE admin_audit;
         DROP TABLE handed_over;
         DROP INDEX push_answers_by_change;
         DROP INDEX tokens_by_parent;
         ALTER TABLE tokens DROP COLUMN parent;
         ALTER TABLE tokens DROP COLUMN exchanged;
         DROP TABLE device_secrets;
         DROP TABLE device_revocations;
         DELETE FROM meta WHERE key = 'generation';
         PRAGMA user_version = 1;",
    )
    .expect("downgraded to version 1");
    drop(conn);

    let storage = SqliteStorage::open(&path).expect("migrated");
    let read = storage.read().expect("read");
    assert!(read.entity(EntityKind::Recipient, person).expect("read").is_some(), "the recipient is kept");
    assert_eq!(read.log_head().expect("head"), head, "the log is kept");
    let generation = read.meta("generation").expect("read").expect("a generation is made");
    assert!(generation.len() == 32 && generation.chars().all(|c| c.is_ascii_hexdigit()), "{generation}");
    drop(read);
    drop(storage);
    let conn = rusqlite::Connection::open(&path).expect("plain open");
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
    assert_eq!(version, 8, "every migration ran");
    let audited: i64 = conn.query_row("SELECT count(*) FROM admin_audit", [], |r| r.get(0)).expect("audit table");
    assert_eq!(audited, 0, "the audit log starts empty");
}

/// A server from before supervisor-sized sync (migration 0008) marks, as it migrates, what the
/// supervisors hold and the log entries about it: a supervisor's first pull afterwards holds a
/// waiting case with its person and visit, and agrees with the checksum without a repair.
#[test]
fn migrating_to_supervisor_sized_sync_marks_what_waits_for_the_supervisors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.db");
    let (case, person, visit_id, clock) = {
        let world = World::with_storage(Arc::new(SqliteStorage::open(&path).expect("created")));
        let mut a = world.login("wa");
        let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
        let (visit_id, visit_write) = visit(world.station_s, world.village_s, person, world.worker_a, "2026-06-10");
        let (other, other_create) = recipient(world.station_s, world.village_s, "李四", 2);
        a.send_ok(vec![create, visit_write, other_create]);
        let (ids, writes) = case_to_closure_request(world.station_s, person, world.worker_a);
        a.send_ok(writes);
        a.send_ok(vec![new_case(world.station_s, other, world.worker_a).1]);
        (ids.case, person, visit_id, world.clock.clone())
    };
    let conn = rusqlite::Connection::open(&path).expect("plain open");
    conn.execute_batch(
        "DROP INDEX entity_stations_supervised;
         DROP INDEX log_audience_by_supervision;
         ALTER TABLE entities DROP COLUMN supervised;
         ALTER TABLE entity_stations DROP COLUMN supervised;
         ALTER TABLE log_audience DROP COLUMN supervision;
         PRAGMA user_version = 7;",
    )
    .expect("back to version 7");
    drop(conn);

    let server = sync_server::Server::new(
        Arc::new(SqliteStorage::open(&path).expect("migrated")),
        sync_server::ServerSettings::default(),
        clock.wall(),
    );
    let session = server
        .login(protocol::LoginRequest {
            username: "sup".into(),
            password: PASSWORD.into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        })
        .expect("signs in");
    let supervisor = Device::new(server.clone(), clock, session);
    let replica = supervisor.pull_from_scratch();
    for (kind, id) in [(EntityKind::Case, case), (EntityKind::Recipient, person), (EntityKind::Visit, visit_id)] {
        assert!(replica.has(kind, id), "{kind:?}");
    }
    assert_eq!(replica.of_kind(EntityKind::Case).len(), 1, "only the waiting case");
    assert_eq!(replica.of_kind(EntityKind::Recipient).len(), 1);
    for station in server.checksum(supervisor.token()).expect("checksums").stations {
        assert_eq!(replica.checksum(station.station_id), station.checksum);
    }
}

/// A write that fails is reported before its transaction could seem committed, whenever the
/// backend hears of it (SQLite at once; PostgreSQL, which sends writes ahead of their answers,
/// at the next statement that waits, or at the commit), and nothing of the transaction stays.
#[test]
fn a_failed_write_fails_its_transaction_and_nothing_of_it_stays() {
    use sync_server::storage::{DeviceRecord, StoredAnswer};
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let storage = test_support::backend::open_test_storage();
    let device = DeviceRecord {
        id: uuid::Uuid::now_v7(),
        user_id: uuid::Uuid::now_v7(),
        name: "laptop".into(),
        next_seq: 1,
        registered_at: chrono::Utc::now(),
        clock_skewed: false,
        last_skew_ms: None,
    };
    let answer = StoredAnswer { change_id: uuid::Uuid::now_v7(), outcome: PushOutcome::Gap { expected: 1 } };
    let mut tx = storage.write().expect("write");
    tx.put_device(&device).expect("device");
    tx.put_push_answer(device.id, 1, &answer).expect("the first answer");
    // The same (device, sequence number) again: refused by the table's primary key.
    let failed = match tx.put_push_answer(device.id, 1, &answer) {
        Err(_) => {
            drop(tx);
            true
        }
        Ok(()) => tx.commit().is_err(),
    };
    assert!(failed, "the failed write is reported");
    let read = storage.read().expect("read");
    assert_eq!(read.device(device.id).expect("read"), None, "nothing of the transaction stays");
    assert_eq!(read.push_answer(device.id, 1).expect("read"), None);
}

/// A push looks up the answers of all its changes at once; an answer of thousands of rows (far
/// more than one read of the socket) arrives whole, within the deadline, on every backend.
#[test]
fn the_answers_of_thousands_of_changes_are_looked_up_together() {
    use sync_server::storage::{DeviceRecord, StoredAnswer};
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    const CHANGES: u64 = 5_000;
    let storage = test_support::backend::open_test_storage();
    let device = DeviceRecord {
        id: uuid::Uuid::now_v7(),
        user_id: uuid::Uuid::now_v7(),
        name: "laptop".into(),
        next_seq: CHANGES + 1,
        registered_at: chrono::Utc::now(),
        clock_skewed: false,
        last_skew_ms: None,
    };
    let answers: Vec<StoredAnswer> = (1..=CHANGES)
        .map(|seq| StoredAnswer { change_id: uuid::Uuid::now_v7(), outcome: PushOutcome::Gap { expected: seq } })
        .collect();
    let mut tx = storage.write().expect("write");
    tx.put_device(&device).expect("device");
    for (seq, answer) in (1..).zip(&answers) {
        tx.put_push_answer(device.id, seq, answer).expect("answer");
    }
    tx.commit().expect("committed");

    let never_sent = uuid::Uuid::now_v7();
    let mut asked: Vec<_> = answers.iter().map(|a| a.change_id).collect();
    asked.push(never_sent);
    let found = storage.read().expect("read").answers_by_change_id(&asked).expect("looked up");
    assert_eq!(found.len(), answers.len(), "every answered change, and not the one never sent");
    assert!(!found.contains_key(&never_sent));
    for answer in &answers {
        assert_eq!(found.get(&answer.change_id), Some(&(device.id, answer.clone())));
    }
}
