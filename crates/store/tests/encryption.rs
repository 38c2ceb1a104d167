//! The file at rest: encrypted with a key derived from the user's secret, unreadable without
//! it, and refused by an older build once a newer one has written it.

mod common;

use common::World;
use domain::entity::EntityKind;
use domain::field;
use rusqlite::Connection;
use store::{DbKey, LATEST_VERSION, Store, StoreError};

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("db file");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(std::path::PathBuf::from(wal)) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_file_is_unreadable_without_the_key() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shegong1.db");
    let recipient;
    {
        let store = Store::open(&path, "correct horse battery").expect("create");
        let mut w = World::with_store(store);
        recipient = w.add_zhang_san();
    }
    let bytes = file_bytes(&path);
    assert!(bytes.len() > 4096, "the file holds data");
    assert!(!contains(&bytes, "张三".as_bytes()), "the name is not in the file");
    assert!(!contains(&bytes, b"11010519491231002X"), "the ID number is not in the file");
    assert!(!contains(&bytes, b"SQLite format 3"), "not even the SQLite header");

    // Plain SQLite cannot read it.
    let plain = Connection::open(&path).expect("open");
    let err = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).expect_err("refused");
    assert!(err.to_string().contains("not a database"), "{err}");
    drop(plain);

    // The right secret reads it back.
    let store = Store::open(&path, "correct horse battery").expect("reopen");
    let state = store.entity(EntityKind::Recipient, recipient).expect("read").expect("there");
    assert_eq!(state.get_str(field::recipient::NAME), Some("张三"));
}

#[test]
fn a_wrong_secret_is_told_apart_from_damage() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shegong1.db");
    drop(Store::open(&path, "right").expect("create"));
    assert!(matches!(Store::open(&path, "wrong"), Err(StoreError::WrongKey)));
    assert!(matches!(Store::open_with_key(&path, &DbKey::random()), Err(StoreError::WrongKey)));
    let err = Store::open(&path, "wrong").err().expect("error");
    assert_eq!(err.code(), "wrong_key");
    assert!(err.message_zh().contains("密码错误"));
    // The salt is per file: the same secret gives another key for another file.
    let other = dir.path().join("other.db");
    drop(Store::open(&other, "right").expect("create"));
    let salt_a = std::fs::read_to_string(store::salt_path(&path)).expect("salt");
    let salt_b = std::fs::read_to_string(store::salt_path(&other)).expect("salt");
    assert_ne!(salt_a, salt_b);
    assert!(Store::open(&path, "right").is_ok());
}

#[test]
fn a_missing_key_file_is_reported_not_mistaken_for_a_wrong_password() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shegong1.db");
    drop(Store::open(&path, "right").expect("create"));
    std::fs::remove_file(store::salt_path(&path)).expect("remove");
    assert!(matches!(Store::open(&path, "right"), Err(StoreError::Corrupt(_))));
}

#[test]
fn a_file_written_by_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shegong1.db");
    let key = DbKey::random();
    {
        let store = Store::open_with_key(&path, &key).expect("create");
        assert_eq!(store.schema_version().expect("version"), LATEST_VERSION);
        store.connection().pragma_update(None, "user_version", LATEST_VERSION + 1).expect("bump");
    }
    match Store::open_with_key(&path, &key) {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (LATEST_VERSION + 1, LATEST_VERSION));
        }
        other => panic!("expected NewerSchema, got {:?}", other.err()),
    }
}

#[test]
fn the_database_runs_in_wal_mode_with_foreign_keys_on() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open_with_key(&dir.path().join("x.db"), &DbKey::random()).expect("open");
    let conn = store.connection();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("mode");
    let fks: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).expect("fk");
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("sync");
    // synchronous = FULL (2): a commit is on disk before it returns (docs/sync-protocol.md,
    // "Durability on the device").
    assert_eq!((mode.as_str(), fks, sync), ("wal", 1, 2));
}

fn pragma(conn: &Connection, name: &str) -> String {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .expect("pragma")
}

#[test]
fn a_new_store_uses_sixteen_kib_pages_authenticated_with_hmac_sha256() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open_with_key(&dir.path().join("new.db"), &DbKey::random()).expect("open");
    let conn = store.connection();
    assert_eq!(pragma(conn, "page_size"), "16384");
    assert_eq!(pragma(conn, "cipher_hmac_algorithm"), "HMAC_SHA256");
}

#[test]
fn a_store_made_in_the_earlier_cipher_format_opens_keeps_its_data_and_its_format() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("shegong1.db");
    let key = DbKey::random();
    {
        // As builds before store format 2 made a file: SQLCipher 4's defaults.
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\"; PRAGMA journal_mode = WAL;", hex::encode(key.0)))
            .expect("key");
        conn.execute_batch("CREATE TABLE made_before (note TEXT); INSERT INTO made_before VALUES ('kept');")
            .expect("write");
    }
    let recipient;
    {
        let store = Store::open_with_key(&path, &key).expect("the earlier format opens");
        assert_eq!(pragma(store.connection(), "page_size"), "4096", "the file keeps its format");
        let mut w = World::with_store(store);
        recipient = w.add_zhang_san();
    }
    let store = Store::open_with_key(&path, &key).expect("and opens again");
    let note: String = store.connection().query_row("SELECT note FROM made_before", [], |r| r.get(0)).expect("note");
    assert_eq!(note, "kept");
    let state = store.entity(EntityKind::Recipient, recipient).expect("read").expect("there");
    assert_eq!(state.get_str(field::recipient::NAME), Some("张三"));
    drop(store);
    assert!(matches!(Store::open_with_key(&path, &DbKey::random()), Err(StoreError::WrongKey)));
}
