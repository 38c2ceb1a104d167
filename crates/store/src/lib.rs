//! The device's local database: an encrypted SQLite file (SQLCipher) holding the entities the
//! device may see, the outbox of its own changes (which is also the audit trail), conflicts,
//! and the device's clock and sync state.
//!
//! Every local write goes through [`Store::record`]: it stamps each write into a
//! `domain::change::Change`, checks it with `domain::rules::check_change`, merges it with
//! `domain::merge::merge`, writes the row and appends the change to the outbox, all in one
//! transaction. Pulled pages are applied together with the new cursor in one transaction
//! ([`Store::apply_pulled`]). The screens' queries are in [`screens`].

mod access;
mod bulk;
mod dashboard;
mod first_load;
mod handover;
mod key;
mod library;
mod moved;
mod recovery;
mod report;
mod rows;
mod schema;
pub mod screens;
pub mod search;
mod sync;
mod write;

use std::path::Path;

use domain::Id;
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Clock;
use domain::rules::{LookupError, Rejection, StateView};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use uuid::Uuid;

pub use dashboard::{NamedCount, StationCounts};
pub use handover::{HandOverChoice, HandOverOffer, HandOverRow};
pub use key::{
    DbKey, KDF_M_COST_KIB, KDF_P_COST, KDF_T_COST, key_for, previous_key_for, recovery_device_id, recovery_keys,
    salt_path, set_recovery,
};
pub use library::{LinkOfResource, ResourceSearch};
pub use moved::MovedCase;
pub use recovery::{DuplicateGroup, GenerationSeen, SetAsideReason, SetAsideRow};
pub use report::{
    ActivityCount, CaseStages, ReferralCount, ReferralStateCount, ResourceLinkTotal, ServiceCount, StageEntry,
};
pub use schema::{LATEST_VERSION, MIGRATIONS};
pub use screens::*;
pub use sync::{AcceptedChange, ApplyReport, DealtWith, PullBatch, PulledPage};

/// SQLite page cache per connection, in KiB: the roster's tables and indexes of a large county
/// stay decrypted in memory.
pub const CACHE_SIZE_KIB: i64 = 64 * 1024;
/// The write-ahead log is cut back to this size once checkpointed: a first full pull of a
/// county may grow it to hundreds of MB, which should not stay on disk.
pub const WAL_SIZE_LIMIT_BYTES: i64 = 16 * 1024 * 1024;

#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// The secret does not open this file (or the file is not a Shegong database).
    #[error("wrong password, or the file is not a Shegong database")]
    WrongKey,
    /// The file was written by a newer version of the app.
    #[error("the database has schema version {found}, newer than the {supported} this version knows; update the app")]
    NewerSchema { found: u32, supported: u32 },
    /// The rules refused a write; nothing was written.
    #[error("{0}")]
    Rejected(Rejection),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data the store cannot read back (a damaged file or a bug).
    #[error("the database holds unreadable data: {0}")]
    Corrupt(String),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// The rules could not read the state they needed.
    #[error("{0}")]
    Lookup(LookupError),
    /// The sync engine named a local change that does not exist.
    #[error("no local change has device sequence number {0}")]
    UnknownChange(u64),
    /// A failure injected by a test (see [`Store::fail_apply_after`]).
    #[error("injected failure")]
    Injected,
    /// A change was about to take a device sequence number another change of this device
    /// already has: never silently (the server would answer it with the other's answer).
    #[error("device sequence number {0} is already taken by another change")]
    SequenceTaken(u64),
    /// A refused change to resend is not waiting any more (already resent or discarded).
    #[error("the refused change is no longer waiting")]
    RefusedChangeGone,
}

impl StoreError {
    /// A stable code for the UI (a rejection's own code for [`StoreError::Rejected`]).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::WrongKey => "wrong_key",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::Rejected(r) => r.code(),
            StoreError::Sqlite(_) => "database",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::Io(_) => "io",
            StoreError::Lookup(_) => "lookup",
            StoreError::UnknownChange(_) => "unknown_change",
            StoreError::Injected => "injected",
            StoreError::SequenceTaken(_) => "sequence_taken",
            StoreError::RefusedChangeGone => "refused_change_gone",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            StoreError::WrongKey => "密码错误，或该文件不是社工系统的数据库".into(),
            StoreError::NewerSchema { found, supported } => {
                format!("数据库版本（{found}）高于本程序支持的版本（{supported}），请先升级程序")
            }
            StoreError::Rejected(r) => r.message_zh(),
            StoreError::Sqlite(_) | StoreError::Lookup(_) => "读写本地数据库时出错".into(),
            StoreError::Corrupt(_) => "本地数据库中有无法读取的数据".into(),
            StoreError::Io(_) => "读写文件时出错".into(),
            StoreError::UnknownChange(n) => format!("找不到序号为{n}的本地修改"),
            StoreError::Injected => "测试注入的故障".into(),
            StoreError::SequenceTaken(n) => format!("本机修改序号{n}已被另一条修改占用"),
            StoreError::RefusedChangeGone => "该被拒修改已处理".into(),
        }
    }
}

impl From<domain::rules::CheckError> for StoreError {
    fn from(e: domain::rules::CheckError) -> Self {
        match e {
            domain::rules::CheckError::Rejected(r) => StoreError::Rejected(r),
            domain::rules::CheckError::Lookup(l) => StoreError::Lookup(l),
        }
    }
}

/// The device's local database. Owns one connection: `Send`, not `Sync`.
pub struct Store {
    conn: Connection,
    device_id: Uuid,
    /// See [`Store::fail_apply_after`].
    fail_apply_after: Option<usize>,
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::NotADatabase)
}

impl Store {
    /// Opens (or creates) the encrypted database at `path` with the key derived from `secret`
    /// (argon2id, salt in `<path>.salt`). A wrong secret gives [`StoreError::WrongKey`].
    pub fn open(path: &Path, secret: &str) -> Result<Store, StoreError> {
        let key = key::key_for(path, secret)?;
        Store::open_with_key(path, &key)
    }

    /// Opens (or creates) the database at `path` encrypted with `key`: a new file in the current
    /// [`CIPHER_FORMATS`], an existing one in whichever it was made.
    pub fn open_with_key(path: &Path, key: &DbKey) -> Result<Store, StoreError> {
        Store::from_unlocked(open_unlocked(path, key)?)
    }

    /// An unencrypted database in memory (tests, benchmarks, simulations).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        unlock(&conn, None)?;
        Store::from_unlocked(conn)
    }

    /// Opens a raw connection migrated only up to `version`, as an older build left the file.
    /// For the migration tests.
    #[doc(hidden)]
    pub fn open_connection_at_version(path: &Path, key: &DbKey, version: u32) -> Result<Connection, StoreError> {
        let mut conn = open_unlocked(path, key)?;
        configure(&conn)?;
        schema::migrate_to(&mut conn, version)?;
        Ok(conn)
    }

    fn from_unlocked(mut conn: Connection) -> Result<Store, StoreError> {
        configure(&conn)?;
        schema::migrate_to(&mut conn, schema::LATEST_VERSION)?;
        conn.execute(
            "INSERT INTO device (singleton, device_id) VALUES (1, ?1) ON CONFLICT (singleton) DO NOTHING",
            params![Uuid::now_v7().to_string()],
        )?;
        let device_id: String = conn.query_row("SELECT device_id FROM device", [], |r| r.get(0))?;
        let device_id = rows::parse_id(&device_id)?;
        Ok(Store { conn, device_id, fail_apply_after: None })
    }

    /// This device's id, made on first open.
    pub fn device_id(&self) -> Uuid {
        // Read from the file: another connection to it may have made this device a new one
        // (`Store::become_device`, after the server found a cloned image).
        self.conn
            .query_row("SELECT device_id FROM device", [], |r| r.get::<_, String>(0))
            .ok()
            .and_then(|id| Uuid::try_parse(&id).ok())
            .unwrap_or(self.device_id)
    }

    pub fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, StoreError> {
        rows::read_entity(&self.conn, kind, id)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::user_version(&self.conn)
    }

    pub fn session_json(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT session_json FROM device", [], |r| r.get(0))?)
    }

    pub fn set_session_json(&mut self, json: Option<&str>) -> Result<(), StoreError> {
        self.conn.execute("UPDATE device SET session_json = ?1", params![json])?;
        Ok(())
    }

    /// Re-encrypts the whole database with `key` (SQLCipher's `PRAGMA rekey`), the write-ahead
    /// log folded into the file first. See [`Store::change_key`].
    fn rekey(&mut self, key: &DbKey) -> Result<(), StoreError> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.conn.execute_batch(&format!("PRAGMA rekey = {};", key.pragma_literal()))?;
        Ok(())
    }

    /// Replaces the saved session only if it is still `expected` (compare and swap, in one
    /// statement): a session refreshed during a sync round is not written over a sign-out or a
    /// new sign-in that happened meanwhile. Returns whether it was replaced.
    pub fn swap_session_json(&mut self, expected: Option<&str>, json: Option<&str>) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute("UPDATE device SET session_json = ?2 WHERE session_json IS ?1", params![expected, json])?;
        Ok(changed == 1)
    }

    /// This device's Ed25519 key for closure sign-offs, made on first call and kept (secret
    /// included) in the encrypted database.
    pub fn signing_key(&mut self) -> Result<ed25519_dalek::SigningKey, StoreError> {
        let stored: Option<String> = self.conn.query_row("SELECT signing_key FROM device", [], |r| r.get(0))?;
        if let Some(hex_key) = stored {
            let bytes: [u8; 32] = hex::decode(&hex_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Corrupt("the stored signing key is malformed".into()))?;
            return Ok(ed25519_dalek::SigningKey::from_bytes(&bytes));
        }
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        self.conn.execute("UPDATE device SET signing_key = ?1", params![hex::encode(key.to_bytes())])?;
        Ok(key)
    }

    /// The device's clock as persisted (for tests and diagnostics).
    pub fn clock(&self) -> Result<Clock, StoreError> {
        Ok(DeviceState::load(&self.conn)?.clock)
    }

    /// The raw connection, for tests that look under the hood.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Store {
    /// Closing the connection: SQLite's advice is to run `PRAGMA optimize` just before
    /// ([`Store::optimize`]). Best-effort: a database that cannot take it (read-only, its disk
    /// full) closes all the same.
    fn drop(&mut self) {
        let _ = self.optimize();
    }
}

/// How a store's file is encrypted, newest first. SQLCipher writes none of it into the file (the
/// first page is encrypted too), so an existing file is unlocked with each in turn: a wrong one
/// fails the first page's HMAC like a wrong key does, and reads or writes nothing.
///
/// - Since store format 2 (December 2026): pages of 16 KiB, authenticated with HMAC-SHA256. A
///   first pull writes a quarter as many pages, each with its own IV, HMAC and B-tree header,
///   and SHA-256 runs on the CPU's SHA extensions: a station's first pull took about 16% less
///   time (`cargo bench -p sync-client --bench sync`). Small writes append 16 KiB pages to the
///   log instead of 4 KiB ones: recording a visit went from about 0.64 to 0.9 ms at the median
///   (the county benchmark's "record a visit" figures), far under what a person notices.
/// - SQLCipher 4's defaults (4 KiB pages, HMAC-SHA512): stores made before. They stay as they
///   are; re-encrypting a worker's only copy of unsent work to gain speed is not worth the risk.
pub const CIPHER_FORMATS: &[&str] =
    &["PRAGMA cipher_page_size = 16384; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;", ""];

/// Opens `path` and unlocks it with `key` in the first of [`CIPHER_FORMATS`] that fits (a new
/// file: the first). [`StoreError::WrongKey`] when none does.
fn open_unlocked(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    for format in CIPHER_FORMATS {
        let conn = Connection::open(path)?;
        match unlock(&conn, Some((key, format))) {
            Err(StoreError::WrongKey) => continue,
            unlocked => return unlocked.map(|()| conn),
        }
    }
    Err(StoreError::WrongKey)
}

fn unlock(conn: &Connection, key: Option<(&DbKey, &str)>) -> Result<(), StoreError> {
    // A wrong key is an expected event (a mistyped password), not one for SQLCipher to log.
    let _: Option<String> = conn.query_row("PRAGMA cipher_log_level = NONE", [], |r| r.get(0)).optional()?;
    if let Some((key, format)) = key {
        conn.execute_batch(&format!("PRAGMA key = {}; {format}", key.pragma_literal()))?;
    }
    // The first read of the file is where SQLCipher finds out whether the key fits.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(e) if is_not_a_database(&e) => Err(StoreError::WrongKey),
        Err(e) => Err(e.into()),
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL: readers never wait for the writer, and a commit is one append. FULL: the log is
    // synced at every commit, so a write the user saw saved, and a server answer the outbox
    // noted, survive a power cut (NORMAL could lose the last commits: a laptop that then
    // reuses a sequence number, or forgets that the server accepted a change). The cost, from
    // the county benchmark, is in docs/sync-protocol.md ("Durability on the device").
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_SIZE_KIB};
         PRAGMA busy_timeout = 5000;
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES};"
    ))?;
    conn.set_prepared_statement_cache_capacity(128);
    schema::register_functions(conn)?;
    Ok(())
}

/// The device row: its id, clock and outbox counter, read and written inside each write's
/// transaction.
pub(crate) struct DeviceState {
    pub clock: Clock,
    pub last_device_seq: u64,
}

impl DeviceState {
    pub fn load(conn: &Connection) -> Result<DeviceState, StoreError> {
        let (device, millis, counter, seq): (String, i64, i64, i64) = conn
            .prepare_cached("SELECT device_id, clock_millis, clock_counter, last_device_seq FROM device")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        let to_u = |v: i64| u64::try_from(v).map_err(|_| StoreError::Corrupt("negative clock or counter".into()));
        Ok(DeviceState {
            clock: Clock {
                device: rows::parse_id(&device)?,
                last_millis: to_u(millis)?,
                last_counter: u32::try_from(counter).map_err(|_| StoreError::Corrupt("clock counter".into()))?,
            },
            last_device_seq: to_u(seq)?,
        })
    }

    pub fn save(&self, conn: &Connection) -> Result<(), StoreError> {
        let as_i = |v: u64| i64::try_from(v).map_err(|_| StoreError::Corrupt("clock out of range".into()));
        conn.prepare_cached("UPDATE device SET clock_millis = ?1, clock_counter = ?2, last_device_seq = ?3")?
            .execute(params![as_i(self.clock.last_millis)?, self.clock.last_counter, as_i(self.last_device_seq)?])?;
        Ok(())
    }
}

impl StateView for Store {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        rows::View(&self.conn).entity(kind, id)
    }

    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError> {
        rows::View(&self.conn).case_records(case_id)
    }

    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError> {
        rows::View(&self.conn).cases_of_recipient(recipient_id)
    }
}

// The app keeps the store behind a mutex shared with its sync task: it must be `Send`.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Store>();
};

/// Reads an optional single value.
pub(crate) fn optional<T>(r: rusqlite::Result<T>) -> Result<Option<T>, StoreError> {
    Ok(r.optional()?)
}
