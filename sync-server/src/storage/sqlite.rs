//! The default backend: one embedded SQLite file in WAL mode with `synchronous = FULL`, so a
//! committed transaction survives a crash or power cut. One writer connection (SQLite's single
//! writer is what makes commit order equal log order) and a small pool of reader connections,
//! which read consistent snapshots while the writer works.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::change::{Change, Incoming};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::merge::{ConflictOp, LostValue};
use domain::rules::RejectionInfo;
use domain::{Id, Labelled, field};
use protocol::{HandOverState, PushOutcome};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params, params_from_iter};

use super::values::{
    area_code, corrupt, from_json, hand_over_state_text, incoming_subject, kind_ord, opt_id, parse_hand_over_state,
    parse_id, parse_time, to_json,
};
use super::{
    Audience, AuditEntry, ConflictEntry, Credentials, DeviceRecord, EntityRecord, HandedOverRecord, LogScope, Reach,
    ReadTx, RejectedChange, StationAccumulators, Storage, StorageError, StoredAnswer, TokenKind, TokenRecord, WriteTx,
};

/// Numbered migrations, applied in order; the database's `user_version` is how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_sessions.sql"),
    include_str!("migrations/0003_device_revocations.sql"),
    include_str!("migrations/0004_generation.sql"),
    include_str!("migrations/0005_answers_by_change.sql"),
    include_str!("migrations/0006_handed_over.sql"),
    include_str!("migrations/0007_admin_audit.sql"),
    include_str!("migrations/0008_supervision.sql"),
];

/// How long a writer waits for another process (the admin command) to finish writing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Reader connections kept open between requests.
const IDLE_READERS: usize = 8;

pub struct SqliteStorage {
    writer: Mutex<Connection>,
    /// `None` for an in-memory database: its readers share the writer connection.
    readers: Option<ReaderPool>,
}

struct ReaderPool {
    path: PathBuf,
    key: Option<String>,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.readers.as_ref().map(|r| r.path.display().to_string());
        f.debug_struct("SqliteStorage").field("path", &path.as_deref().unwrap_or(":memory:")).finish()
    }
}

fn backend(e: rusqlite::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

impl SqliteStorage {
    /// Opens (creating if needed) an unencrypted database file.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        Self::open_with_key(path, None)
    }

    /// Opens (creating if needed) a database file, encrypted with SQLCipher when `key` is given.
    pub fn open_with_key(path: &Path, key: Option<&str>) -> Result<Self, StorageError> {
        let writer = open_connection(path, key)?;
        migrate(&writer)?;
        let pool = ReaderPool { path: path.to_owned(), key: key.map(str::to_owned), idle: Mutex::new(Vec::new()) };
        Ok(Self { writer: Mutex::new(writer), readers: Some(pool) })
    }

    /// A private in-memory database, for tests and the simulation.
    pub fn open_in_memory() -> Result<Self, StorageError> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(backend)?;
        migrate(&conn)?;
        Ok(Self { writer: Mutex::new(conn), readers: None })
    }

    /// Writes a consistent copy of the database to `target` (a new file) while the server keeps
    /// serving: `VACUUM INTO` reads one snapshot (WAL lets writers go on meanwhile), and the copy
    /// is encrypted with the same key. Restoring is copying it back with the server stopped, then
    /// `shegong-sync admin new-generation` (see the README, "Backup and restore").
    pub fn backup_to(&self, target: &Path) -> Result<(), StorageError> {
        if target.exists() {
            return Err(StorageError::Backend(format!("{} already exists; choose a new file", target.display())));
        }
        let target_text = target
            .to_str()
            .ok_or_else(|| StorageError::Backend(format!("{} is not a UTF-8 path", target.display())))?;
        let vacuum = |conn: &Connection| conn.execute("VACUUM INTO ?1", params![target_text]).map(|_| ());
        match &self.readers {
            None => vacuum(&self.lock_writer()).map_err(backend),
            Some(pool) => vacuum(&open_connection(&pool.path, pool.key.as_deref())?).map_err(backend),
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no open transaction behind (SqliteWrite rolls
        // back on drop), so the connection is still usable.
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_connection(path: &Path, key: Option<&str>) -> Result<Connection, StorageError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    if let Some(key) = key {
        // A wrong key is an expected outcome here, reported as WrongKey: keep SQLCipher from
        // also printing it to stderr.
        let _ = conn.pragma_update(None, "cipher_log_level", "NONE");
        conn.pragma_update(None, "key", key).map_err(backend)?;
    }
    // The first read tells a wrong key (or a file that is not a database) from a good one.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => {
            return Err(StorageError::WrongKey);
        }
        Err(e) => return Err(backend(e)),
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Backend(format!("could not switch to WAL mode (got {mode})")));
    }
    // FULL: the WAL is synced at every commit, so an acknowledged change survives a power cut.
    conn.pragma_update(None, "synchronous", "FULL").map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<(), StorageError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
    let supported = MIGRATIONS.len() as u32;
    if found > supported {
        return Err(StorageError::NewerSchema { found, supported });
    }
    if found == supported {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
    let result = (|| {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", index as u32 + 1)?;
        }
        Ok::<(), rusqlite::Error>(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(backend),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(backend(e))
        }
    }
}

impl Storage for SqliteStorage {
    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StorageError> {
        let conn = match &self.readers {
            None => ReadConn::Shared(self.lock_writer()),
            Some(pool) => {
                let idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let conn = match idle {
                    Some(conn) => conn,
                    None => open_connection(&pool.path, pool.key.as_deref())?,
                };
                ReadConn::Pooled { conn: Some(conn), pool }
            }
        };
        conn.get().execute_batch("BEGIN").map_err(backend)?;
        Ok(Box::new(SqliteRead { conn }))
    }

    fn write(&self) -> Result<Box<dyn WriteTx + '_>, StorageError> {
        let conn = self.lock_writer();
        if !conn.is_autocommit() {
            // Left open by an earlier failure; nothing in it was acknowledged.
            conn.execute_batch("ROLLBACK").map_err(backend)?;
        }
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        Ok(Box::new(SqliteWrite { conn, finished: false }))
    }
}

enum ReadConn<'a> {
    Shared(MutexGuard<'a, Connection>),
    Pooled { conn: Option<Connection>, pool: &'a ReaderPool },
}

impl ReadConn<'_> {
    fn get(&self) -> &Connection {
        match self {
            ReadConn::Shared(guard) => guard,
            ReadConn::Pooled { conn, .. } => conn.as_ref().expect("present until drop"),
        }
    }
}

impl Drop for ReadConn<'_> {
    fn drop(&mut self) {
        if let ReadConn::Pooled { conn, pool } = self
            && let Some(conn) = conn.take()
        {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < IDLE_READERS && conn.is_autocommit() {
                idle.push(conn);
            }
        }
    }
}

struct SqliteRead<'a> {
    conn: ReadConn<'a>,
}

impl Drop for SqliteRead<'_> {
    fn drop(&mut self) {
        // Ends the snapshot; a read transaction has nothing to commit.
        let _ = self.conn.get().execute_batch("COMMIT");
    }
}

struct SqliteWrite<'a> {
    conn: MutexGuard<'a, Connection>,
    finished: bool,
}

impl Drop for SqliteWrite<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn kind_name(kind: EntityKind) -> &'static str {
    kind.as_str()
}

const HANDED_OVER_COLUMNS: &str =
    "change, device_id, station_id, case_id, author_id, refused_at, state, decided_by, decided_at";

fn handed_over_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
    let mut out: [Option<String>; 9] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

fn handed_over_record(row: [Option<String>; 9]) -> Result<HandedOverRecord, StorageError> {
    let [change, device, station, case, author, refused_at, state, decided_by, decided_at] = row;
    let required = |value: Option<String>, what: &str| {
        value.ok_or_else(|| StorageError::Corrupt(format!("handed-over change without {what}")))
    };
    Ok(HandedOverRecord {
        change: from_json::<Change>("handed-over change", &required(change, "its change")?)?,
        device_id: parse_id(&required(device, "a device")?)?,
        station_id: parse_id(&required(station, "a station")?)?,
        case_id: parse_id(&required(case, "a case")?)?,
        author_id: parse_id(&required(author, "an author")?)?,
        refused_at: parse_time(&required(refused_at, "a time")?)?,
        state: parse_hand_over_state(&required(state, "a state")?)?,
        decided_by: decided_by.as_deref().map(parse_id).transpose()?,
        decided_at: decided_at.as_deref().map(parse_time).transpose()?,
    })
}

/// The read queries, shared by read and write transactions.
struct Q<'c>(&'c Connection);

impl Q<'_> {
    fn states(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<EntityState>, StorageError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(backend)?;
        let rows = stmt.query_map(params, |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json("entity state", &row.map_err(backend)?)?);
        }
        Ok(out)
    }

    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityRecord>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT state, case_worker_id, supervised FROM entities WHERE kind_ord = ?1 AND id = ?2")
            .map_err(backend)?
            .query_row(params![kind_ord(kind), id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, bool>(2)?))
            })
            .optional()
            .map_err(backend)?;
        let Some((state, worker, supervised)) = row else { return Ok(None) };
        Ok(Some(EntityRecord {
            state: from_json("entity state", &state)?,
            case_worker_id: worker.as_deref().map(parse_id).transpose()?,
            supervised,
        }))
    }

    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, StorageError> {
        self.states(
            "SELECT state FROM entities WHERE case_id = ?1 AND area = 2 ORDER BY kind_ord, id",
            params![case_id.to_string()],
        )
    }

    fn entities_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, StorageError> {
        self.states(
            "SELECT state FROM entities WHERE recipient_id = ?1 ORDER BY kind_ord, id",
            params![recipient_id.to_string()],
        )
    }

    fn entities_of_station(
        &self,
        station_id: Id,
        reach: &Reach,
        after: Option<(EntityKind, Id)>,
        limit: u32,
    ) -> Result<Vec<EntityState>, StorageError> {
        let (after_ord, after_id) = after.map(|(k, i)| (kind_ord(k), i.to_string())).unwrap_or((-1, String::new()));
        let mut values: Vec<SqlValue> = vec![
            SqlValue::Text(station_id.to_string()),
            SqlValue::Integer(after_ord),
            SqlValue::Text(after_id),
            SqlValue::Integer(i64::from(limit)),
        ];
        let filter = match reach {
            Reach::Nothing => return Ok(Vec::new()),
            Reach::Stations { stations, .. } if !stations.contains(&station_id) => return Ok(Vec::new()),
            Reach::Stations { own_cases_of: Some(worker), .. } => {
                values.push(SqlValue::Text(worker.to_string()));
                "AND (e.area <> 2 OR e.case_worker_id = ?5)"
            }
            Reach::Stations { own_cases_of: None, .. } => "",
            Reach::Supervision { stations } if !stations.contains(&station_id) => return Ok(Vec::new()),
            Reach::Supervision { .. } => "AND s.supervised = 1",
            Reach::Organisation => "AND e.area = 0",
        };
        let sql = format!(
            "SELECT e.state FROM entity_stations s JOIN entities e ON e.kind_ord = s.kind_ord AND e.id = s.id \
             WHERE s.station_id = ?1 AND (s.kind_ord, s.id) > (?2, ?3) {filter} \
             ORDER BY s.kind_ord, s.id LIMIT ?4"
        );
        self.states(&sql, params_from_iter(values))
    }

    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT user_id, username, password_hash FROM credentials WHERE username = ?1")
            .map_err(backend)?
            .query_row(params![username], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)))
            .optional()
            .map_err(backend)?;
        row.map(|(id, username, password_hash)| Ok(Credentials { user_id: parse_id(&id)?, username, password_hash }))
            .transpose()
    }

    fn device(&self, id: Id) -> Result<Option<DeviceRecord>, StorageError> {
        let row = self
            .0
            .prepare_cached(
                "SELECT user_id, name, next_seq, registered_at, clock_skewed, last_skew_ms FROM devices WHERE id = ?1",
            )
            .map_err(backend)?
            .query_row(params![id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .optional()
            .map_err(backend)?;
        let Some((user, name, next_seq, registered_at, clock_skewed, last_skew_ms)) = row else { return Ok(None) };
        Ok(Some(DeviceRecord {
            id,
            user_id: parse_id(&user)?,
            name,
            next_seq: next_seq as u64,
            registered_at: parse_time(&registered_at)?,
            clock_skewed,
            last_skew_ms,
        }))
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT kind, user_id, device_id, expires_at, used FROM tokens WHERE hash = ?1")
            .map_err(backend)?
            .query_row(params![hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()
            .map_err(backend)?;
        let Some((kind, user, device, expires_at, used)) = row else { return Ok(None) };
        let kind = match kind.as_str() {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            "handover" => TokenKind::Handover,
            other => return Err(corrupt("token kind", other)),
        };
        Ok(Some(TokenRecord {
            hash: hash.to_owned(),
            kind,
            user_id: parse_id(&user)?,
            device_id: parse_id(&device)?,
            expires_at: parse_time(&expires_at)?,
            used,
        }))
    }

    fn token_exchanged(&self, hash: &str) -> Result<bool, StorageError> {
        let exchanged: Option<bool> = self
            .0
            .prepare_cached("SELECT exchanged FROM tokens WHERE hash = ?1")
            .map_err(backend)?
            .query_row(params![hash], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        Ok(exchanged.unwrap_or(false))
    }

    fn refresh_children(&self, parent: &str) -> Result<Vec<(TokenRecord, bool)>, StorageError> {
        let hashes: Vec<(String, bool)> = self
            .0
            .prepare_cached("SELECT hash, exchanged FROM tokens WHERE parent = ?1 AND kind = 'refresh'")
            .map_err(backend)?
            .query_map(params![parent], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        let mut children = Vec::with_capacity(hashes.len());
        for (hash, exchanged) in hashes {
            if let Some(token) = self.token(&hash)? {
                children.push((token, exchanged));
            }
        }
        Ok(children)
    }

    fn device_secret(&self, device_id: Id) -> Result<Option<String>, StorageError> {
        self.0
            .prepare_cached("SELECT secret FROM device_secrets WHERE device_id = ?1")
            .map_err(backend)?
            .query_row(params![device_id.to_string()], |r| r.get(0))
            .optional()
            .map_err(backend)
    }

    fn push_answer(&self, device_id: Id, device_seq: u64) -> Result<Option<StoredAnswer>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT change_id, outcome FROM push_answers WHERE device_id = ?1 AND device_seq = ?2")
            .map_err(backend)?
            .query_row(params![device_id.to_string(), device_seq as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
            .map_err(backend)?;
        let Some((change_id, outcome)) = row else { return Ok(None) };
        Ok(Some(StoredAnswer {
            change_id: parse_id(&change_id)?,
            outcome: from_json::<PushOutcome>("answer", &outcome)?,
        }))
    }

    fn answer_by_change_id(&self, change_id: Id) -> Result<Option<(Id, StoredAnswer)>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT device_id, outcome FROM push_answers WHERE change_id = ?1 LIMIT 1")
            .map_err(backend)?
            .query_row(params![change_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .optional()
            .map_err(backend)?;
        let Some((device_id, outcome)) = row else { return Ok(None) };
        Ok(Some((
            parse_id(&device_id)?,
            StoredAnswer { change_id, outcome: from_json::<PushOutcome>("answer", &outcome)? },
        )))
    }

    fn rejected_change(&self, device_id: Id, device_seq: u64) -> Result<Option<RejectedChange>, StorageError> {
        let row = self
            .0
            .prepare_cached(
                "SELECT change, rejection, rejected_at FROM rejected_changes WHERE device_id = ?1 AND device_seq = ?2",
            )
            .map_err(backend)?
            .query_row(params![device_id.to_string(), device_seq as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .optional()
            .map_err(backend)?;
        let Some((change, rejection, at)) = row else { return Ok(None) };
        Ok(Some(RejectedChange {
            device_id,
            device_seq,
            change: from_json::<Change>("rejected change", &change)?,
            rejection: from_json::<RejectionInfo>("rejection", &rejection)?,
            rejected_at: parse_time(&at)?,
        }))
    }

    fn handed_over(&self, change_id: Id) -> Result<Option<HandedOverRecord>, StorageError> {
        let row = self
            .0
            .prepare_cached(&format!("SELECT {HANDED_OVER_COLUMNS} FROM handed_over WHERE change_id = ?1"))
            .map_err(backend)?
            .query_row(params![change_id.to_string()], handed_over_row)
            .optional()
            .map_err(backend)?;
        row.map(handed_over_record).transpose()
    }

    fn handed_over_offered(&self, station_id: Id) -> Result<Vec<HandedOverRecord>, StorageError> {
        let mut stmt = self
            .0
            .prepare_cached(&format!(
                "SELECT {HANDED_OVER_COLUMNS} FROM handed_over WHERE station_id = ?1 AND state = 'offered' \
                 ORDER BY refused_at, change_id"
            ))
            .map_err(backend)?;
        let rows = stmt.query_map(params![station_id.to_string()], handed_over_row).map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(handed_over_record(row.map_err(backend)?)?);
        }
        Ok(out)
    }

    fn hlc_translation(&self, device_id: Id, original: Hlc) -> Result<Option<Hlc>, StorageError> {
        let row = self
            .0
            .prepare_cached("SELECT effective FROM hlc_translations WHERE device_id = ?1 AND original = ?2")
            .map_err(backend)?
            .query_row(params![device_id.to_string(), original.to_string()], |r| r.get::<_, String>(0))
            .optional()
            .map_err(backend)?;
        row.map(|text| text.parse::<Hlc>().map_err(|e| corrupt("stamp", e))).transpose()
    }

    fn conflicts(&self, entity_id: Id) -> Result<Vec<ConflictEntry>, StorageError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT field, hlc, lost FROM conflicts WHERE entity_id = ?1 ORDER BY field, hlc")
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![entity_id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (field, hlc, lost) = row.map_err(backend)?;
            out.push(ConflictEntry {
                entity_id,
                field,
                hlc: hlc.parse().map_err(|e| corrupt("stamp", e))?,
                lost: lost.as_deref().map(|l| from_json::<LostValue>("lost value", l)).transpose()?,
            });
        }
        Ok(out)
    }

    fn open_conflict_count(&self) -> Result<u64, StorageError> {
        let count: i64 = self
            .0
            .query_row("SELECT COUNT(*) FROM conflicts WHERE lost IS NOT NULL", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn handed_over_offered_count(&self) -> Result<u64, StorageError> {
        let count: i64 = self
            .0
            .query_row("SELECT COUNT(*) FROM handed_over WHERE state = 'offered'", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        let head: i64 = self.0.query_row("SELECT COALESCE(MAX(seq), 0) FROM log", [], |r| r.get(0)).map_err(backend)?;
        Ok(head as u64)
    }

    fn log_page_json(&self, scope: &LogScope, after: u64, limit: u32) -> Result<Vec<(u64, String)>, StorageError> {
        let mut values: Vec<SqlValue> = vec![
            SqlValue::Integer(after as i64),
            SqlValue::Text(scope.user_id.to_string()),
            SqlValue::Integer(i64::from(limit)),
        ];
        // One branch per way an entry can reach this user, each an ordered range of one index
        // cut at the page size: a page reads about a page of audience rows, wherever it starts
        // in the log (one query with OR would read every row after the cursor, for every page).
        let mut branches = vec!["a.target_user_id = ?2".to_owned()];
        match &scope.reach {
            Reach::Nothing => {}
            Reach::Organisation => branches.push("a.organisation = 1 AND a.target_user_id IS NULL".to_owned()),
            Reach::Stations { stations, own_cases_of } => {
                let own = match own_cases_of {
                    Some(worker) => {
                        values.push(SqlValue::Text(worker.to_string()));
                        format!(" AND (a.case_worker_id IS NULL OR a.case_worker_id = ?{})", values.len())
                    }
                    None => String::new(),
                };
                for station in stations {
                    values.push(SqlValue::Text(station.to_string()));
                    branches.push(format!(
                        "a.station_id = ?{} AND a.target_user_id IS NULL AND a.supervision < 2{own}",
                        values.len()
                    ));
                }
            }
            Reach::Supervision { stations } => {
                for station in stations {
                    values.push(SqlValue::Text(station.to_string()));
                    branches.push(format!(
                        "a.station_id = ?{} AND a.target_user_id IS NULL AND a.supervision >= 1",
                        values.len()
                    ));
                }
            }
        }
        let union = branches
            .iter()
            .map(|b| format!("SELECT seq FROM (SELECT a.seq FROM log_audience a WHERE {b} AND a.seq > ?1 ORDER BY a.seq LIMIT ?3)"))
            .collect::<Vec<_>>()
            .join(" UNION ");
        let sql =
            format!("SELECT l.seq, l.item FROM log l WHERE l.seq IN ({union} ORDER BY 1 LIMIT ?3) ORDER BY l.seq");
        let mut stmt = self.0.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt
            .query_map(params_from_iter(values), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, item) = row.map_err(backend)?;
            out.push((seq as u64, item));
        }
        Ok(out)
    }

    fn device_revoked_at(&self, device_id: Id) -> Result<Option<DateTime<Utc>>, StorageError> {
        let at: Option<String> = self
            .0
            .prepare_cached("SELECT revoked_at FROM device_revocations WHERE device_id = ?1")
            .map_err(backend)?
            .query_row(params![device_id.to_string()], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        at.as_deref().map(parse_time).transpose()
    }

    fn accumulators(&self, station_id: Id) -> Result<StationAccumulators, StorageError> {
        let mut stmt =
            self.0.prepare_cached("SELECT worker_id, acc FROM checksums WHERE station_id = ?1").map_err(backend)?;
        let rows = stmt
            .query_map(params![station_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(backend)?;
        let mut out = StationAccumulators::default();
        for row in rows {
            let (worker, acc) = row.map_err(backend)?;
            if worker.is_empty() {
                out.roster = acc as u64;
            } else {
                out.cases.insert(parse_id(&worker)?, acc as u64);
            }
        }
        Ok(out)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.0
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .map_err(backend)?
            .query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(backend)
    }

    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityState>, StorageError> {
        self.states("SELECT state FROM entities WHERE kind_ord = ?1 ORDER BY id", params![kind_ord(kind)])
    }

    fn audit_entries(&self) -> Result<Vec<AuditEntry>, StorageError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT seq, at, os_user, actor, action, target, detail FROM admin_audit ORDER BY seq")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, os_user, actor, action, target, detail) = row.map_err(backend)?;
            out.push(AuditEntry { seq: seq as u64, at: parse_time(&at)?, os_user, actor, action, target, detail });
        }
        Ok(out)
    }
}

macro_rules! impl_read_tx {
    ($ty:ident) => {
        impl ReadTx for $ty<'_> {
            fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityRecord>, StorageError> {
                Q(self.c()).entity(kind, id)
            }
            fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, StorageError> {
                Q(self.c()).case_records(case_id)
            }
            fn entities_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, StorageError> {
                Q(self.c()).entities_of_recipient(recipient_id)
            }
            fn entities_of_station(
                &self,
                station_id: Id,
                reach: &Reach,
                after: Option<(EntityKind, Id)>,
                limit: u32,
            ) -> Result<Vec<EntityState>, StorageError> {
                Q(self.c()).entities_of_station(station_id, reach, after, limit)
            }
            fn credentials(&self, username: &str) -> Result<Option<Credentials>, StorageError> {
                Q(self.c()).credentials(username)
            }
            fn device(&self, id: Id) -> Result<Option<DeviceRecord>, StorageError> {
                Q(self.c()).device(id)
            }
            fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StorageError> {
                Q(self.c()).token(hash)
            }
            fn token_exchanged(&self, hash: &str) -> Result<bool, StorageError> {
                Q(self.c()).token_exchanged(hash)
            }
            fn refresh_children(&self, parent: &str) -> Result<Vec<(TokenRecord, bool)>, StorageError> {
                Q(self.c()).refresh_children(parent)
            }
            fn device_secret(&self, device_id: Id) -> Result<Option<String>, StorageError> {
                Q(self.c()).device_secret(device_id)
            }
            fn push_answer(&self, device_id: Id, device_seq: u64) -> Result<Option<StoredAnswer>, StorageError> {
                Q(self.c()).push_answer(device_id, device_seq)
            }
            fn answer_by_change_id(&self, change_id: Id) -> Result<Option<(Id, StoredAnswer)>, StorageError> {
                Q(self.c()).answer_by_change_id(change_id)
            }
            fn rejected_change(&self, device_id: Id, device_seq: u64) -> Result<Option<RejectedChange>, StorageError> {
                Q(self.c()).rejected_change(device_id, device_seq)
            }
            fn handed_over(&self, change_id: Id) -> Result<Option<HandedOverRecord>, StorageError> {
                Q(self.c()).handed_over(change_id)
            }
            fn handed_over_offered(&self, station_id: Id) -> Result<Vec<HandedOverRecord>, StorageError> {
                Q(self.c()).handed_over_offered(station_id)
            }
            fn hlc_translation(&self, device_id: Id, original: Hlc) -> Result<Option<Hlc>, StorageError> {
                Q(self.c()).hlc_translation(device_id, original)
            }
            fn conflicts(&self, entity_id: Id) -> Result<Vec<ConflictEntry>, StorageError> {
                Q(self.c()).conflicts(entity_id)
            }
            fn open_conflict_count(&self) -> Result<u64, StorageError> {
                Q(self.c()).open_conflict_count()
            }
            fn handed_over_offered_count(&self) -> Result<u64, StorageError> {
                Q(self.c()).handed_over_offered_count()
            }
            fn log_head(&self) -> Result<u64, StorageError> {
                Q(self.c()).log_head()
            }
            fn log_page_json(
                &self,
                scope: &LogScope,
                after: u64,
                limit: u32,
            ) -> Result<Vec<(u64, String)>, StorageError> {
                Q(self.c()).log_page_json(scope, after, limit)
            }
            fn accumulators(&self, station_id: Id) -> Result<StationAccumulators, StorageError> {
                Q(self.c()).accumulators(station_id)
            }
            fn device_revoked_at(&self, device_id: Id) -> Result<Option<DateTime<Utc>>, StorageError> {
                Q(self.c()).device_revoked_at(device_id)
            }
            fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
                Q(self.c()).meta(key)
            }
            fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityState>, StorageError> {
                Q(self.c()).entities_of_kind(kind)
            }
            fn audit_entries(&self) -> Result<Vec<AuditEntry>, StorageError> {
                Q(self.c()).audit_entries()
            }
        }
    };
}

impl SqliteRead<'_> {
    fn c(&self) -> &Connection {
        self.conn.get()
    }
}

impl SqliteWrite<'_> {
    fn c(&self) -> &Connection {
        &self.conn
    }
}

impl_read_tx!(SqliteRead);
impl_read_tx!(SqliteWrite);

impl WriteTx for SqliteWrite<'_> {
    fn put_entity(&mut self, record: &EntityRecord) -> Result<(), StorageError> {
        let state = &record.state;
        let ord = kind_ord(state.kind);
        let id = state.id.to_string();
        let case_id = if state.kind.is_case_record() { state.get_id(field::CASE_ID) } else { None };
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO entities \
                 (kind_ord, id, kind, area, state, case_id, recipient_id, case_worker_id, supervised) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(backend)?
            .execute(params![
                ord,
                id,
                kind_name(state.kind),
                area_code(state.kind),
                to_json(state)?,
                opt_id(case_id),
                opt_id(state.get_id(field::RECIPIENT_ID)),
                opt_id(record.case_worker_id),
                record.supervised,
            ])
            .map_err(backend)?;
        self.conn
            .prepare_cached("DELETE FROM entity_stations WHERE kind_ord = ?1 AND id = ?2")
            .map_err(backend)?
            .execute(params![ord, id])
            .map_err(backend)?;
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO entity_stations (station_id, kind_ord, id, supervised) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?;
        for station in state.station_ids() {
            insert.execute(params![station.to_string(), ord, id, record.supervised]).map_err(backend)?;
        }
        Ok(())
    }

    fn record_conflicts(&mut self, entity_id: Id, ops: &[ConflictOp]) -> Result<(), StorageError> {
        for op in ops {
            match op {
                ConflictOp::Lost(lost) => {
                    self.conn
                        .prepare_cached(
                            "INSERT OR IGNORE INTO conflicts (entity_id, field, hlc, lost) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .map_err(backend)?
                        .execute(params![entity_id.to_string(), lost.field, lost.clock.hlc.to_string(), to_json(lost)?])
                        .map_err(backend)?;
                }
                ConflictOp::Seen { field, hlc } => {
                    self.conn
                        .prepare_cached(
                            "INSERT INTO conflicts (entity_id, field, hlc, lost) VALUES (?1, ?2, ?3, NULL) \
                             ON CONFLICT (entity_id, field, hlc) DO UPDATE SET lost = NULL",
                        )
                        .map_err(backend)?
                        .execute(params![entity_id.to_string(), field, hlc.to_string()])
                        .map_err(backend)?;
                }
            }
        }
        Ok(())
    }

    fn append_log(&mut self, item: &Incoming, audience: &[Audience], at: DateTime<Utc>) -> Result<u64, StorageError> {
        // Inside the write transaction: the single writer makes sequence order commit order.
        let seq: i64 =
            self.conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM log", [], |r| r.get(0)).map_err(backend)?;
        let (kind, entity_id, change_id) = incoming_subject(item);
        self.conn
            .prepare_cached(
                "INSERT INTO log (seq, kind, entity_id, change_id, item, committed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?
            .execute(params![
                seq,
                kind_name(kind),
                entity_id.to_string(),
                opt_id(change_id),
                to_json(item)?,
                at.to_rfc3339()
            ])
            .map_err(backend)?;
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO log_audience (seq, station_id, case_worker_id, target_user_id, organisation, supervision) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for a in audience {
            insert
                .execute(params![
                    seq,
                    opt_id(a.station_id),
                    opt_id(a.case_worker_id),
                    opt_id(a.target_user_id),
                    a.organisation,
                    a.supervision.code()
                ])
                .map_err(backend)?;
        }
        Ok(seq as u64)
    }

    fn xor_accumulator(&mut self, station_id: Id, case_worker_id: Option<Id>, value: u64) -> Result<(), StorageError> {
        // SQLite has no XOR operator; read, fold, write back (we hold the write lock).
        let worker = case_worker_id.map(|w| w.to_string()).unwrap_or_default();
        let station = station_id.to_string();
        let current: Option<i64> = self
            .conn
            .prepare_cached("SELECT acc FROM checksums WHERE station_id = ?1 AND worker_id = ?2")
            .map_err(backend)?
            .query_row(params![station, worker], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        let next = (current.unwrap_or(0) as u64) ^ value;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO checksums (station_id, worker_id, acc) VALUES (?1, ?2, ?3)")
            .map_err(backend)?
            .execute(params![station, worker, next as i64])
            .map_err(backend)?;
        Ok(())
    }

    fn put_credentials(&mut self, c: &Credentials) -> Result<(), StorageError> {
        let result = self
            .conn
            .prepare_cached(
                "INSERT INTO credentials (user_id, username, password_hash) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, password_hash = excluded.password_hash",
            )
            .map_err(backend)?
            .execute(params![c.user_id.to_string(), c.username, c.password_hash]);
        match result {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
                Err(StorageError::UsernameTaken(c.username.clone()))
            }
            Err(e) => Err(backend(e)),
        }
    }

    fn put_device(&mut self, d: &DeviceRecord) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO devices (id, user_id, name, next_seq, registered_at, clock_skewed, last_skew_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?
            .execute(params![
                d.id.to_string(),
                d.user_id.to_string(),
                d.name,
                d.next_seq as i64,
                d.registered_at.to_rfc3339(),
                d.clock_skewed,
                d.last_skew_ms
            ])
            .map_err(backend)?;
        Ok(())
    }

    fn put_token(&mut self, t: &TokenRecord) -> Result<(), StorageError> {
        let kind = match t.kind {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Handover => "handover",
        };
        self.conn
            .prepare_cached(
                "INSERT INTO tokens (hash, kind, user_id, device_id, expires_at, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?
            .execute(params![
                t.hash,
                kind,
                t.user_id.to_string(),
                t.device_id.to_string(),
                t.expires_at.to_rfc3339(),
                t.used
            ])
            .map_err(backend)?;
        Ok(())
    }

    fn mark_token_used(&mut self, hash: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE tokens SET used = 1 WHERE hash = ?1")
            .map_err(backend)?
            .execute(params![hash])
            .map_err(backend)?;
        Ok(())
    }

    fn mark_token_exchanged(&mut self, hash: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE tokens SET used = 1, exchanged = 1 WHERE hash = ?1")
            .map_err(backend)?
            .execute(params![hash])
            .map_err(backend)?;
        Ok(())
    }

    fn set_token_parent(&mut self, hash: &str, parent: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE tokens SET parent = ?2 WHERE hash = ?1")
            .map_err(backend)?
            .execute(params![hash, parent])
            .map_err(backend)?;
        Ok(())
    }

    fn revoke_token_children(&mut self, parent: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "UPDATE tokens SET used = 1 \
                 WHERE parent = ?1 OR parent IN (SELECT hash FROM tokens WHERE parent = ?1 AND kind = 'refresh')",
            )
            .map_err(backend)?
            .execute(params![parent])
            .map_err(backend)?;
        Ok(())
    }

    fn put_device_secret(&mut self, device_id: Id, secret: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO device_secrets (device_id, secret) VALUES (?1, ?2)")
            .map_err(backend)?
            .execute(params![device_id.to_string(), secret])
            .map_err(backend)?;
        Ok(())
    }

    fn revoke_tokens(&mut self, user_id: Id, device_id: Option<Id>) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE tokens SET used = 1 WHERE user_id = ?1 AND (?2 IS NULL OR device_id = ?2)")
            .map_err(backend)?
            .execute(params![user_id.to_string(), opt_id(device_id)])
            .map_err(backend)?;
        Ok(())
    }

    fn put_push_answer(&mut self, device_id: Id, device_seq: u64, answer: &StoredAnswer) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO push_answers (device_id, device_seq, change_id, outcome) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?
            .execute(params![
                device_id.to_string(),
                device_seq as i64,
                answer.change_id.to_string(),
                to_json(&answer.outcome)?
            ])
            .map_err(backend)?;
        Ok(())
    }

    fn put_rejected_change(&mut self, r: &RejectedChange) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO rejected_changes \
                 (device_id, device_seq, change_id, author_id, change, rejection, rejected_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?
            .execute(params![
                r.device_id.to_string(),
                r.device_seq as i64,
                r.change.change_id.to_string(),
                r.change.author_id.to_string(),
                to_json(&r.change)?,
                to_json(&r.rejection)?,
                r.rejected_at.to_rfc3339()
            ])
            .map_err(backend)?;
        Ok(())
    }

    fn put_handed_over(&mut self, r: &HandedOverRecord) -> Result<bool, StorageError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO handed_over \
                 (change_id, station_id, case_id, author_id, device_id, change, refused_at, state, decided_by, decided_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (change_id) DO NOTHING",
            )
            .map_err(backend)?
            .execute(params![
                r.change.change_id.to_string(),
                r.station_id.to_string(),
                r.case_id.to_string(),
                r.author_id.to_string(),
                r.device_id.to_string(),
                to_json(&r.change)?,
                r.refused_at.to_rfc3339(),
                hand_over_state_text(r.state),
                opt_id(r.decided_by),
                r.decided_at.map(|t| t.to_rfc3339()),
            ])
            .map_err(backend)?;
        Ok(inserted == 1)
    }

    fn decide_handed_over(
        &mut self,
        change_id: Id,
        state: HandOverState,
        by: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        if state == HandOverState::Offered {
            return Ok(false);
        }
        let updated = self
            .conn
            .prepare_cached(
                "UPDATE handed_over SET state = ?2, decided_by = ?3, decided_at = ?4 \
                 WHERE change_id = ?1 AND state = 'offered'",
            )
            .map_err(backend)?
            .execute(params![change_id.to_string(), hand_over_state_text(state), by.to_string(), at.to_rfc3339()])
            .map_err(backend)?;
        Ok(updated == 1)
    }

    fn put_hlc_translation(&mut self, device_id: Id, original: Hlc, effective: Hlc) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO hlc_translations (device_id, original, effective) VALUES (?1, ?2, ?3)",
            )
            .map_err(backend)?
            .execute(params![device_id.to_string(), original.to_string(), effective.to_string()])
            .map_err(backend)?;
        Ok(())
    }

    fn revoke_device(&mut self, device_id: Id, at: DateTime<Utc>) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO device_revocations (device_id, revoked_at) VALUES (?1, ?2)")
            .map_err(backend)?
            .execute(params![device_id.to_string(), at.to_rfc3339()])
            .map_err(backend)?;
        Ok(())
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
            .map_err(backend)?
            .execute(params![key, value])
            .map_err(backend)?;
        Ok(())
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO admin_audit (at, os_user, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?
            .execute(params![
                entry.at.to_rfc3339(),
                entry.os_user,
                entry.actor,
                entry.action,
                entry.target,
                entry.detail
            ])
            .map_err(backend)?;
        Ok(())
    }

    fn savepoint(&mut self) -> Result<(), StorageError> {
        self.conn.execute_batch("SAVEPOINT push").map_err(backend)
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StorageError> {
        // ROLLBACK TO keeps the savepoint open; RELEASE ends it, so marks never pile up.
        self.conn.execute_batch("ROLLBACK TO push; RELEASE push").map_err(backend)
    }

    fn release_savepoint(&mut self) -> Result<(), StorageError> {
        self.conn.execute_batch("RELEASE push").map_err(backend)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.conn.execute_batch("COMMIT").map_err(backend)?;
        self.finished = true;
        Ok(())
    }
}
