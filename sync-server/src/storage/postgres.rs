//! The PostgreSQL backend, for a bureau's server shared by many stations (`[database] backend =
//! "postgres"`). It keeps the contract of [`super`] the way the module's documentation says:
//!
//! - every write transaction locks the one row of `log_head` first (`SELECT ... FOR UPDATE`) and
//!   holds it to commit; [`WriteTx::append_log`] hands out the numbers after the head read there,
//!   and the last one is written back to that row just before `COMMIT`: writers run one at a
//!   time, as SQLite's single writer does, so they commit in sequence order and a reader's
//!   snapshot always holds a prefix of the log: no change commits late behind a cursor already
//!   handed out;
//! - write transactions run at `READ COMMITTED`: holding the lock, each statement sees everything
//!   committed before it, and nothing else commits meanwhile;
//! - read transactions are `REPEATABLE READ READ ONLY`: one snapshot, so a pull page and the log
//!   head it reports agree;
//! - commits are durable (`synchronous_commit = on` on every connection, whatever the cluster's
//!   default), and a transaction dropped unfinished rolls back;
//! - a writer's round trips are what every other writer waits for, so a write transaction keeps
//!   the entities it read or wrote (`PgTx::entities`); an entity with its station rows, or a log
//!   entry with its number and audience, is written in one statement; and writes whose answer
//!   the caller does not need go out without waiting for it (`PgTx::send`), their answers read
//!   together at the next statement that waits, at a savepoint's release, or before `COMMIT`.
//!
//! The storage trait is synchronous, so the async client (`tokio-postgres`) is driven by the
//! thread that waits for an answer, with a non-blocking socket and `poll(2)` (`socket.rs`): no
//! runtime and no thread hand-over per round trip, and it works from any thread, a plain one, a
//! `spawn_blocking` one, or even a test's async one. Connections come from a bounded pool
//! (`max_connections`), opened as needed and kept.
//!
//! The migrations in `postgres/migrations/` mirror SQLite's, one for one; the version reached is
//! kept in `schema_version`. Everything lives in the configured schema (`schema`), or in the
//! connection's default (`public`); the tests give each test a schema of its own.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::change::{Change, Incoming};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::merge::{ConflictOp, LostValue};
use domain::rules::RejectionInfo;
use domain::{Id, Labelled, field};
use protocol::{HandOverState, PushOutcome};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

pub use tokio_postgres::Config as PgConfig;

mod socket;
use socket::{DriveError, Driven};

use super::values::{
    area_code, corrupt, from_json, hand_over_state_text, incoming_subject, kind_ord, opt_id, parse_hand_over_state,
    parse_id, parse_time, to_json,
};
use super::{
    Audience, AuditEntry, ConflictEntry, Credentials, DeviceRecord, EntityRecord, HandedOverRecord, LogScope, Reach,
    ReadAhead, ReadTx, RejectedChange, StationAccumulators, Storage, StorageError, StoredAnswer, TokenKind,
    TokenRecord, TokenWithRevocation, WriteTx,
};

/// Numbered migrations, applied in order; `schema_version` holds how many ran. One for each of
/// SQLite's (`../migrations/`), making the same tables.
const MIGRATIONS: &[&str] = &[
    include_str!("postgres/migrations/0001_initial.sql"),
    include_str!("postgres/migrations/0002_sessions.sql"),
    include_str!("postgres/migrations/0003_device_revocations.sql"),
    include_str!("postgres/migrations/0004_generation.sql"),
    include_str!("postgres/migrations/0005_answers_by_change.sql"),
    include_str!("postgres/migrations/0006_handed_over.sql"),
    include_str!("postgres/migrations/0007_admin_audit.sql"),
    include_str!("postgres/migrations/0008_supervision.sql"),
];

/// How many migrations this server knows (what `schema_version` reads once they all ran).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Serialises migrations across processes (a server and an admin command starting together).
const MIGRATION_LOCK: i64 = 0x0053_4845_474f_4e47;
/// How long a writer waits for another to finish (the same as SQLite's busy timeout).
const LOCK_TIMEOUT: &str = "30s";
/// How long a caller waits for a pooled connection when all are busy.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// Prepared statements kept per connection; the log's queries vary with the number of stations.
const STATEMENT_CACHE: usize = 256;
/// The default bound on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// Where and how to connect.
#[derive(Clone)]
pub struct PostgresOptions {
    pub config: PgConfig,
    /// The schema holding the tables (created if missing); `None`: the connection's default.
    pub schema: Option<String>,
    pub max_connections: usize,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("dbname", &self.config.get_dbname())
            .field("user", &self.config.get_user())
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Whether `name` may be used as a schema name as it is (no quoting games): ASCII lowercase
/// letters, digits and underscores, not starting with a digit, at most 63 bytes.
pub fn is_plain_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
}

pub struct PostgresStorage {
    options: PostgresOptions,
    pool: Mutex<PoolState>,
    freed: Condvar,
    /// Whether one of this process's writers holds its turn: they go one at a time, before they
    /// take a connection. The row lock on `log_head` orders writers across processes; without
    /// this turn, writers queued on that lock would each hold a pooled connection while they
    /// wait, and under load they take every connection and the reads wait behind them.
    writing: Mutex<bool>,
    writer_done: Condvar,
}

/// This process's turn to write (see `PostgresStorage::writing`), given back when dropped.
struct WriteTurn<'a>(&'a PostgresStorage);

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        *self.0.writing.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.writer_done.notify_one();
    }
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections open, idle or lent out.
    open: usize,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage").field("options", &self.options).finish()
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        self.pool.get_mut().unwrap_or_else(|p| p.into_inner()).idle.clear();
    }
}

/// A statement's failure: the database's answer, or the connection's.
#[derive(Debug)]
enum PgError {
    Db(tokio_postgres::Error),
    Connection(DriveError),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Db(e)
    }
}

impl From<DriveError> for PgError {
    fn from(e: DriveError) -> Self {
        PgError::Connection(e)
    }
}

impl PgError {
    fn code(&self) -> Option<&SqlState> {
        match self {
            PgError::Db(e) => e.code(),
            PgError::Connection(_) => None,
        }
    }
}

fn backend(e: impl Into<PgError>) -> StorageError {
    match e.into() {
        PgError::Db(e) => match e.as_db_error() {
            // The code and message only: a detail may quote the row's values.
            Some(db) => StorageError::Backend(format!("{} ({})", db.message(), db.code().code())),
            None => StorageError::Backend(e.to_string()),
        },
        PgError::Connection(e) => StorageError::Backend(e.to_string()),
    }
}

/// One connection, with the statements it prepared.
struct Conn {
    /// Its client is shared with the writes sent ahead of their answers ([`PgTx::send`]).
    driven: Driven,
    statements: HashMap<String, Statement>,
    /// Requests queued whose answers are not yet read ([`Conn::send`]), in order.
    sent: Vec<Sent>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A parameter a write sent ahead keeps until it is encoded.
type Owned = Box<dyn ToSql + Sync + Send>;

/// A write sent ahead of its answer ([`PgTx::send`]).
type Sent = std::pin::Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// Owned parameters, for [`PgTx::send`].
macro_rules! owned {
    ($($param:expr),* $(,)?) => { vec![$(Box::new($param) as Owned),*] };
}

impl Conn {
    /// Waits for `future`, a request of this connection's client, driving the connection. The
    /// request is queued behind the ones sent ahead ([`Conn::send`]) before their answers are
    /// read, so they all go out together and cost one round trip. A request sent ahead that
    /// failed fails this wait: it aborted the transaction, and this request with it.
    fn wait<T>(&mut self, future: impl Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T, PgError> {
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        let first = future.as_mut().poll(&mut context);
        let failure = self.settle();
        let output = match first {
            Poll::Ready(output) => output,
            Poll::Pending => self.driven.wait(future)?,
        };
        failure?;
        Ok(output?)
    }

    /// Queues a request whose answer is read later ([`Conn::settle`], or the next wait): its
    /// first poll encodes it onto the connection, in order with every request before and after.
    fn send(&mut self, mut request: Sent) -> Result<(), PgError> {
        let mut context = Context::from_waker(Waker::noop());
        match request.as_mut().poll(&mut context) {
            Poll::Ready(result) => Ok(result?),
            Poll::Pending => {
                self.sent.push(request);
                Ok(())
            }
        }
    }

    /// Reads the answers of the requests sent ahead; the first failure, if any.
    fn settle(&mut self) -> Result<(), PgError> {
        let mut failure = None;
        for request in std::mem::take(&mut self.sent) {
            if let Err(e) = self.driven.wait(request).map_err(PgError::from).and_then(|r| Ok(r?)) {
                failure.get_or_insert(e);
            }
        }
        failure.map_or(Ok(()), Err)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, PgError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let client = Arc::clone(&self.driven.client);
        let statement = self.wait(client.prepare(sql))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, PgError> {
        let statement = self.statement(sql)?;
        let client = Arc::clone(&self.driven.client);
        self.wait(client.query(&statement, params))
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, PgError> {
        let statement = self.statement(sql)?;
        let client = Arc::clone(&self.driven.client);
        self.wait(client.execute(&statement, params))
    }

    fn batch(&mut self, sql: &str) -> Result<(), PgError> {
        let client = Arc::clone(&self.driven.client);
        self.wait(client.batch_execute(sql))
    }
}

impl PostgresStorage {
    /// Connects, creates the schema if it is missing, and brings it to the latest version.
    pub fn open(mut options: PostgresOptions) -> Result<Self, StorageError> {
        if let Some(schema) = &options.schema
            && !is_plain_schema_name(schema)
        {
            return Err(StorageError::Backend(format!(
                "schema {schema:?}: use lowercase ASCII letters, digits and underscores"
            )));
        }
        if options.config.get_connect_timeout().is_none() {
            options.config.connect_timeout(Duration::from_secs(10));
        }
        options.max_connections = options.max_connections.max(1);
        let storage = Self {
            options,
            pool: Mutex::new(PoolState { idle: Vec::new(), open: 0 }),
            freed: Condvar::new(),
            writing: Mutex::new(false),
            writer_done: Condvar::new(),
        };
        let mut conn = storage.acquire()?;
        let migrated = migrate(&mut conn, storage.options.schema.as_deref());
        storage.release(Some(conn).filter(|_| migrated.is_ok()));
        migrated?;
        Ok(storage)
    }

    fn lock_pool(&self) -> MutexGuard<'_, PoolState> {
        // Nothing is left half-changed in the pool's state by a panic.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn connect(&self) -> Result<Conn, StorageError> {
        let driven = Driven::connect(&self.options.config)
            .map_err(|e| StorageError::Backend(format!("connecting to the database: {e}")))?;
        let mut conn = Conn { driven, statements: HashMap::new(), sent: Vec::new() };
        // Generic plans only: every statement here is a lookup by key or a range of an index,
        // written to have one good plan whatever its parameters; left to choose, PostgreSQL
        // plans a statement with an array parameter (`unnest($1)`) anew at every execution, and
        // under load that planning cost more than all the queries it planned.
        let mut setup = format!(
            "SET synchronous_commit TO on; SET lock_timeout TO '{LOCK_TIMEOUT}'; \
             SET plan_cache_mode TO force_generic_plan;"
        );
        if let Some(schema) = &self.options.schema {
            // Quoted: a plain name may still be a keyword (`user`).
            setup.push_str(&format!(" SET search_path TO \"{schema}\";"));
        }
        conn.batch(&setup).map_err(backend)?;
        Ok(conn)
    }

    fn acquire(&self) -> Result<Conn, StorageError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut pool = self.lock_pool();
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.open < self.options.max_connections {
                pool.open += 1;
                drop(pool);
                return self.connect().inspect_err(|_| self.release(None));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StorageError::Backend(format!(
                    "all {} database connections stayed busy for {} s",
                    self.options.max_connections,
                    POOL_WAIT.as_secs()
                )));
            }
            pool = self.freed.wait_timeout(pool, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Gives a connection back (`None`: it was lost or is unusable, and is closed).
    fn release(&self, conn: Option<Conn>) {
        let mut pool = self.lock_pool();
        match conn.filter(|c| !c.driven.is_closed()) {
            Some(conn) => pool.idle.push(conn),
            None => pool.open = pool.open.saturating_sub(1),
        }
        drop(pool);
        self.freed.notify_one();
    }

    /// Waits for this process's other writer to finish, as long as a pooled connection would be
    /// waited for (a writer that never ends is an error, not a hang).
    fn write_turn(&self) -> Result<WriteTurn<'_>, StorageError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        while *writing {
            let now = Instant::now();
            if now >= deadline {
                return Err(StorageError::Backend(format!(
                    "another write transaction stayed open for {} s",
                    POOL_WAIT.as_secs()
                )));
            }
            writing = self.writer_done.wait_timeout(writing, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
        *writing = true;
        Ok(WriteTurn(self))
    }

    /// A transaction whose `BEGIN` goes out with its first statement.
    fn begin(&self, sql: &'static str, write: bool) -> Result<PgTx<'_>, StorageError> {
        let gate = if write { Some(self.write_turn()?) } else { None };
        let mut conn = self.acquire()?;
        let client = Arc::clone(&conn.driven.client);
        if let Err(e) = conn.send(Box::pin(async move { client.batch_execute(sql).await })) {
            self.release(None);
            return Err(backend(e));
        }
        Ok(PgTx::new(self, conn, write, false, gate))
    }
}

fn migrate(conn: &mut Conn, schema: Option<&str>) -> Result<(), StorageError> {
    conn.batch("BEGIN").map_err(backend)?;
    let result = (|| {
        conn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        if let Some(schema) = schema {
            conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
        }
        conn.batch(
            "CREATE TABLE IF NOT EXISTS schema_version (\
               one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version BIGINT NOT NULL); \
             INSERT INTO schema_version (one, version) VALUES (TRUE, 0) ON CONFLICT (one) DO NOTHING;",
        )?;
        let found: i64 = conn.query("SELECT version FROM schema_version", &[])?.first().map_or(0, |r| r.get(0));
        Ok::<i64, PgError>(found)
    })();
    let found = match result {
        Ok(found) => found,
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            return Err(backend(e));
        }
    };
    let found = u32::try_from(found).map_err(|_| corrupt("schema version", found))?;
    if found > SCHEMA_VERSION {
        let _ = conn.batch("ROLLBACK");
        return Err(StorageError::NewerSchema { found, supported: SCHEMA_VERSION });
    }
    let result = (|| {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            conn.batch(sql)?;
            conn.execute("UPDATE schema_version SET version = $1", &[&(index as i64 + 1)])?;
        }
        conn.batch("COMMIT")
    })();
    if let Err(e) = result {
        let _ = conn.batch("ROLLBACK");
        return Err(backend(e));
    }
    Ok(())
}

impl Storage for PostgresStorage {
    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StorageError> {
        Ok(Box::new(self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", false)?))
    }

    fn read_one(&self) -> Result<Box<dyn ReadTx + '_>, StorageError> {
        // No transaction to end: its one statement runs on its own.
        Ok(Box::new(PgTx::new(self, self.acquire()?, false, true, None)))
    }

    fn write(&self) -> Result<Box<dyn WriteTx + '_>, StorageError> {
        let mut tx = self.begin("BEGIN ISOLATION LEVEL READ COMMITTED", true)?;
        // The counter's row lock, first: from here to commit no other writer runs.
        let row = tx
            .row("SELECT seq FROM log_head FOR UPDATE", &[])?
            .ok_or_else(|| corrupt("log_head", "the counter row is missing"))?;
        let head = col::<i64>(&row, 0)?;
        tx.log = Some(LogNumbers { locked: head, head, at_savepoint: head });
        Ok(Box::new(tx))
    }
}

/// A read or a write transaction on one pooled connection.
struct PgTx<'a> {
    storage: &'a PostgresStorage,
    conn: RefCell<Option<Conn>>,
    write: bool,
    finished: bool,
    /// Held by a write transaction until it is dropped, after its connection is given back.
    _gate: Option<WriteTurn<'a>>,
    /// The entities this transaction read or wrote (`None`: absent), so a push's rules and
    /// `Batch::apply`, which look up the same station, village, user and recipient many times,
    /// or a request's sign-in check and scope, which both read the user, pay one round trip for
    /// each. Right while the transaction lives: a read sees one snapshot; writers hold the
    /// `log_head` lock, so nothing else changes an entity meanwhile, and a writer changes them
    /// only through `put_entity`, which keeps the cache, and savepoints, whose rollback empties
    /// it.
    entities: RefCell<HashMap<(i64, Id), Option<EntityRecord>>>,
    /// The devices read or written, the same way: a token is read with its device, which the
    /// push then reads.
    devices: RefCell<HashMap<Id, Option<DeviceRecord>>>,
    /// Tokens read (by hash), the same way; a write of any token or revocation forgets them.
    tokens: RefCell<HashMap<String, Option<TokenWithRevocation>>>,
    /// The earlier answers of change ids read or written (`None`: none yet), the same way.
    answers: RefCell<HashMap<Id, Option<(Id, StoredAnswer)>>>,
    /// The `meta` table, a handful of rows read whole with the first `meta` or `log_head`
    /// (`None`: not yet), and kept as the transaction writes it.
    meta: RefCell<Option<HashMap<String, String>>>,
    /// A write transaction's log numbers (`None` for a read).
    log: Option<LogNumbers>,
    /// Devices, push answers and checksum accumulator changes not yet written (see
    /// [`PgTx::write_rows`] and [`PgTx::write_xors`]).
    kept_devices: RefCell<Kept<DeviceRecord>>,
    kept_answers: RefCell<Kept<(Id, u64, StoredAnswer)>>,
    kept_xors: RefCell<Kept<(Id, Option<Id>, u64)>>,
    /// Whether a savepoint's release leaves the answers of the writes sent ahead unread
    /// ([`WriteTx::defer_write_failures`]).
    deferred: bool,
    /// A statement failed, and no rollback to a savepoint has undone it since (with failures
    /// deferred, none can: the failure may be an earlier savepoint's). PostgreSQL answers
    /// `COMMIT` of an aborted transaction with a rollback, not an error: commit refuses first.
    failed: Cell<bool>,
}

/// Writes a transaction keeps to send later, together, in one statement, and the savepoint's
/// view of them: [`WriteTx::rollback_to_savepoint`] drops those kept since the savepoint, and
/// takes back into the queue those from before it that went out since (their statement came
/// after the savepoint, so the database undoes them with the rest).
struct Kept<T> {
    queue: Vec<T>,
    /// How many of `queue` were there when the savepoint was set.
    at_savepoint: usize,
    /// Kept before the savepoint and written since.
    written_since: Vec<T>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept { queue: Vec::new(), at_savepoint: 0, written_since: Vec::new() }
    }
}

impl<T: Clone> Kept<T> {
    fn push(&mut self, item: T) {
        self.queue.push(item);
    }

    /// Everything kept, to be written now.
    fn take(&mut self) -> Vec<T> {
        let queue = std::mem::take(&mut self.queue);
        self.written_since.extend_from_slice(&queue[..self.at_savepoint.min(queue.len())]);
        self.at_savepoint = 0;
        queue
    }

    fn savepoint(&mut self) {
        self.written_since.clear();
        self.at_savepoint = self.queue.len();
    }

    fn release_savepoint(&mut self) {
        // Everything kept belongs to the transaction now: a later write needs no copy of it.
        self.written_since.clear();
        self.at_savepoint = 0;
    }

    fn rollback_to_savepoint(&mut self) {
        self.queue.truncate(self.at_savepoint);
        let mut queue = std::mem::take(&mut self.written_since);
        queue.append(&mut self.queue);
        self.at_savepoint = queue.len();
        self.queue = queue;
    }
}

/// The log numbers a write transaction hands out itself: it holds the lock on `log_head` from
/// its first statement, so the numbers after the head it read there are its own, and its log
/// entries can be sent ahead without waiting for a number. The head is written back before
/// `COMMIT`, in the same round trip.
#[derive(Debug, Clone, Copy)]
struct LogNumbers {
    /// The head when the lock was taken.
    locked: i64,
    /// The last number handed out.
    head: i64,
    /// `head` when the current savepoint was set, which its rollback goes back to.
    at_savepoint: i64,
}

impl<'a> PgTx<'a> {
    /// A transaction on `conn` that has read nothing yet; `finished` when there is nothing to
    /// end (a statement on its own).
    fn new(storage: &'a PostgresStorage, conn: Conn, write: bool, finished: bool, gate: Option<WriteTurn<'a>>) -> Self {
        PgTx {
            storage,
            conn: RefCell::new(Some(conn)),
            write,
            finished,
            _gate: gate,
            entities: RefCell::new(HashMap::new()),
            devices: RefCell::new(HashMap::new()),
            tokens: RefCell::new(HashMap::new()),
            answers: RefCell::new(HashMap::new()),
            meta: RefCell::new(None),
            log: None,
            kept_devices: RefCell::new(Kept::default()),
            kept_answers: RefCell::new(Kept::default()),
            kept_xors: RefCell::new(Kept::default()),
            deferred: false,
            failed: Cell::new(false),
        }
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        let write = self.write;
        let conn = self.conn.get_mut().take().and_then(|mut conn| {
            if self.finished {
                return Some(conn);
            }
            if write {
                // An unfinished write is abandoned, and waited for: its locks go with it.
                return conn.batch("ROLLBACK").is_ok().then_some(conn);
            }
            // A read has nothing to keep: its end goes out now, its answer is read at the
            // connection's next use.
            let client = Arc::clone(&conn.driven.client);
            conn.send(Box::pin(async move { client.batch_execute("ROLLBACK").await })).ok()?;
            conn.driven.flush();
            Some(conn)
        });
        self.storage.release(conn);
    }
}

/// Column `i` of `row`, as `T`; a value of another type is corrupt data, not a panic.
fn col<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, i: usize) -> Result<T, StorageError> {
    row.try_get(i).map_err(|e| corrupt("column", e))
}

const HANDED_OVER_COLUMNS: &str =
    "change, device_id, station_id, case_id, author_id, refused_at, state, decided_by, decided_at";

fn handed_over_record(row: &Row) -> Result<HandedOverRecord, StorageError> {
    Ok(HandedOverRecord {
        change: from_json::<Change>("handed-over change", col::<&str>(row, 0)?)?,
        device_id: parse_id(col(row, 1)?)?,
        station_id: parse_id(col(row, 2)?)?,
        case_id: parse_id(col(row, 3)?)?,
        author_id: parse_id(col(row, 4)?)?,
        refused_at: parse_time(col(row, 5)?)?,
        state: parse_hand_over_state(col(row, 6)?)?,
        decided_by: col::<Option<&str>>(row, 7)?.map(parse_id).transpose()?,
        decided_at: col::<Option<&str>>(row, 8)?.map(parse_time).transpose()?,
    })
}

impl PgTx<'_> {
    /// Reads these tokens, each with its device and its user, into the transaction's caches.
    fn read_tokens(&self, hashes: &[String]) -> Result<(), StorageError> {
        if hashes.is_empty() {
            return Ok(());
        }
        // They are read with their devices.
        self.write_rows()?;
        let user_kind = kind_ord(EntityKind::User);
        // Each row looked up by its key: one token (every request) by its hash, whose one row
        // the planner knows; several (a group's pushes) each by `LATERAL ... LIMIT 1`, a lookup
        // per hash, never flattened into a join. A plan cached while a table was small (a new
        // server, a bulk enrolment not yet analysed) would otherwise keep scanning it whole as
        // it grows.
        const COLUMNS: &str = "SELECT t.kind, t.user_id, t.device_id, t.expires_at, t.used, r.revoked_at, \
               d.user_id, d.name, d.next_seq, d.registered_at, d.clock_skewed, d.last_skew_ms, \
               u.state, u.case_worker_id, u.supervised, t.hash";
        let rows = match hashes {
            [hash] => self.rows(
                &format!(
                    "{COLUMNS} FROM tokens t LEFT JOIN device_revocations r ON r.device_id = t.device_id \
                     LEFT JOIN devices d ON d.id = t.device_id \
                     LEFT JOIN entities u ON u.kind_ord = $2 AND u.id = t.user_id WHERE t.hash = $1"
                ),
                &[hash, &user_kind],
            )?,
            _ => self.rows(
                &format!(
                    "{COLUMNS} FROM unnest($1::text[]) AS w (hash) \
                     JOIN LATERAL (SELECT * FROM tokens WHERE hash = w.hash LIMIT 1) t ON TRUE \
                     LEFT JOIN LATERAL (SELECT revoked_at FROM device_revocations WHERE device_id = t.device_id \
                       LIMIT 1) r ON TRUE \
                     LEFT JOIN LATERAL (SELECT * FROM devices WHERE id = t.device_id LIMIT 1) d ON TRUE \
                     LEFT JOIN LATERAL (SELECT * FROM entities WHERE kind_ord = $2 AND id = t.user_id LIMIT 1) u \
                       ON TRUE"
                ),
                &[&hashes, &user_kind],
            )?,
        };
        // Unknown unless found.
        self.tokens.borrow_mut().extend(hashes.iter().map(|hash| (hash.clone(), None)));
        for row in rows {
            let token = token_record(col(&row, 15)?, &row)?;
            let revoked_at = col::<Option<&str>>(&row, 5)?.map(parse_time).transpose()?;
            let device = match col::<Option<&str>>(&row, 6)? {
                Some(_) => Some(device_record(token.device_id, &row, 6)?),
                None => None,
            };
            let user = match col::<Option<&str>>(&row, 12)? {
                Some(_) => Some(entity_record(&row, 12)?),
                None => None,
            };
            self.devices.borrow_mut().insert(token.device_id, device);
            self.entities.borrow_mut().insert((user_kind, token.user_id), user);
            self.tokens.borrow_mut().insert(token.hash.clone(), Some((token, revoked_at)));
        }
        Ok(())
    }

    /// Reads the earlier answers of these change ids into the transaction's cache.
    fn read_answers(&self, change_ids: &[Id]) -> Result<(), StorageError> {
        if change_ids.is_empty() {
            return Ok(());
        }
        self.write_rows()?;
        let ids: Vec<String> = change_ids.iter().map(Id::to_string).collect();
        // One lookup per id, whatever the statistics say (see `read_tokens`): planned as a sort
        // for `DISTINCT ON` while the table was small, this read the whole index as it grew.
        let rows = self.rows(
            "SELECT w.change_id, a.device_id, a.outcome FROM unnest($1::text[]) AS w (change_id) \
             JOIN LATERAL (SELECT device_id, outcome FROM push_answers p WHERE p.change_id = w.change_id LIMIT 1) a \
               ON TRUE",
            &[&ids],
        )?;
        let mut answers = self.answers.borrow_mut();
        answers.extend(change_ids.iter().map(|id| (*id, None)));
        for row in rows {
            let change_id = parse_id(col(&row, 0)?)?;
            let outcome = from_json::<PushOutcome>("answer", col(&row, 2)?)?;
            answers.insert(change_id, Some((parse_id(col(&row, 1)?)?, StoredAnswer { change_id, outcome })));
        }
        Ok(())
    }

    /// The log head in column `head` of `row`; keeps the `meta` table read with it, its keys and
    /// values in columns `keys` and `keys + 1`.
    fn keep_meta(&self, row: &Row, head: usize, keys: usize) -> Result<u64, StorageError> {
        let head = u64::try_from(col::<i64>(row, head)?).map_err(|e| corrupt("log head", e))?;
        let names: Vec<String> = col(row, keys)?;
        let values: Vec<String> = col(row, keys + 1)?;
        *self.meta.borrow_mut() = Some(names.into_iter().zip(values).collect());
        Ok(head)
    }

    /// A write of a token or a revocation: the tokens read before may have changed.
    fn forget_tokens(&mut self) {
        self.tokens.get_mut().clear();
    }
}

/// An entity from a row whose columns from `first` on are `state, case_worker_id, supervised`.
fn entity_record(row: &Row, first: usize) -> Result<EntityRecord, StorageError> {
    Ok(EntityRecord {
        state: from_json("entity state", col::<&str>(row, first)?)?,
        case_worker_id: col::<Option<&str>>(row, first + 1)?.map(parse_id).transpose()?,
        supervised: col::<bool>(row, first + 2)?,
    })
}

/// The device `id` from a row whose columns from `first` on are `user_id, name, next_seq,
/// registered_at, clock_skewed, last_skew_ms`.
fn device_record(id: Id, row: &Row, first: usize) -> Result<DeviceRecord, StorageError> {
    Ok(DeviceRecord {
        id,
        user_id: parse_id(col(row, first)?)?,
        name: col(row, first + 1)?,
        next_seq: u64::try_from(col::<i64>(row, first + 2)?).map_err(|e| corrupt("next_seq", e))?,
        registered_at: parse_time(col(row, first + 3)?)?,
        clock_skewed: col(row, first + 4)?,
        last_skew_ms: col(row, first + 5)?,
    })
}

/// A token from a row whose first five columns are `kind, user_id, device_id, expires_at, used`.
fn token_record(hash: &str, row: &Row) -> Result<TokenRecord, StorageError> {
    Ok(TokenRecord {
        hash: hash.to_owned(),
        kind: token_kind(col(row, 0)?)?,
        user_id: parse_id(col(row, 1)?)?,
        device_id: parse_id(col(row, 2)?)?,
        expires_at: parse_time(col(row, 3)?)?,
        used: col(row, 4)?,
    })
}

/// The log page's condition on `l.seq` for this scope, with the texts it binds after `$1`
/// (after), `$2` (the user) and `$3` (the limit). As SQLite's: one branch per way an entry can
/// reach this user, each an ordered range of one index cut at the page size, so a page reads
/// about a page of audience rows.
fn page_query(scope: &LogScope) -> (String, Vec<String>) {
    let mut texts: Vec<String> = Vec::new();
    let mut branches = vec!["a.target_user_id = $2".to_owned()];
    match &scope.reach {
        Reach::Nothing => {}
        Reach::Organisation => branches.push("a.organisation AND a.target_user_id IS NULL".to_owned()),
        Reach::Stations { stations, own_cases_of } => {
            let own = match own_cases_of {
                Some(worker) => {
                    texts.push(worker.to_string());
                    format!(" AND (a.case_worker_id IS NULL OR a.case_worker_id = ${})", 3 + texts.len())
                }
                None => String::new(),
            };
            for station in stations {
                texts.push(station.to_string());
                branches.push(format!(
                    "a.station_id = ${} AND a.target_user_id IS NULL AND a.supervision < 2{own}",
                    3 + texts.len()
                ));
            }
        }
        Reach::Supervision { stations } => {
            for station in stations {
                texts.push(station.to_string());
                branches.push(format!(
                    "a.station_id = ${} AND a.target_user_id IS NULL AND a.supervision >= 1",
                    3 + texts.len()
                ));
            }
        }
    }
    let union = branches
        .iter()
        .map(|b| format!("(SELECT a.seq FROM log_audience a WHERE {b} AND a.seq > $1 ORDER BY a.seq LIMIT $3)"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    (format!("l.seq IN (SELECT u.seq FROM ({union}) u ORDER BY u.seq LIMIT $3)"), texts)
}

/// A log entry from a row whose columns from `first` on are `seq, item`.
fn page_entry(row: &Row, first: usize) -> Result<(u64, String), StorageError> {
    let seq = u64::try_from(col::<i64>(row, first)?).map_err(|e| corrupt("log seq", e))?;
    Ok((seq, col(row, first + 1)?))
}

/// Adds a `checksums` row (`worker_id` '' is the roster) to a station's accumulators.
fn accumulate(out: &mut StationAccumulators, worker: &str, acc: i64) -> Result<(), StorageError> {
    // The u64 fold is kept as its bits in a BIGINT.
    let acc = acc as u64;
    if worker.is_empty() {
        out.roster = acc;
    } else {
        out.cases.insert(parse_id(worker)?, acc);
    }
    Ok(())
}

fn token_kind(kind: &str) -> Result<TokenKind, StorageError> {
    match kind {
        "access" => Ok(TokenKind::Access),
        "refresh" => Ok(TokenKind::Refresh),
        "handover" => Ok(TokenKind::Handover),
        other => Err(corrupt("token kind", other)),
    }
}

impl PgTx<'_> {
    /// Runs `f` on the transaction's connection. A statement it waits for is answered after
    /// the writes sent before it ([`Conn::wait`]): a failed one fails it too (the transaction
    /// is aborted).
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, PgError>) -> Result<Result<T, PgError>, StorageError> {
        let mut conn = self.conn.borrow_mut();
        let conn = conn.as_mut().ok_or_else(|| StorageError::Backend("the transaction has ended".into()))?;
        let result = f(conn);
        if result.is_err() {
            self.failed.set(true);
        }
        Ok(result)
    }

    /// Sends a write whose answer says nothing the caller needs, without waiting for it: the
    /// request is queued on the connection now (a first poll encodes it, in order with every
    /// statement before and after it), goes out with the next statement that waits, and its
    /// answer is read there, at a savepoint's release, or at commit ([`PgTx::settle`]). A push's writes
    /// then cost one round trip together instead of one each, while every other writer waits
    /// for this one. A write that fails aborts the transaction; the failure is reported there,
    /// never lost: `COMMIT` of an aborted transaction would roll back without an error, so
    /// commit settles first.
    fn send(&self, sql: &'static str, params: Vec<Owned>) -> Result<(), StorageError> {
        self.with(|conn| {
            let statement = conn.statement(sql)?;
            let client = Arc::clone(&conn.driven.client);
            conn.send(Box::pin(async move {
                client.execute_raw(&statement, params.iter().map(|p| &**p as &(dyn ToSql + Sync))).await.map(drop)
            }))
        })?
        .map_err(backend)
    }

    /// [`PgTx::send`] for a statement without parameters (a savepoint), by the simple protocol.
    fn send_simple(&self, sql: &'static str) -> Result<(), StorageError> {
        self.with(|conn| {
            let client = Arc::clone(&conn.driven.client);
            conn.send(Box::pin(async move { client.batch_execute(sql).await }))
        })?
        .map_err(backend)
    }

    /// Writes the devices and push answers kept so far ([`WriteTx::put_device`],
    /// [`WriteTx::put_push_answer`]) in one statement sent ahead, instead of one each: at the
    /// end of a push (its savepoint's release, so a failure is still that push's), at commit,
    /// and before those tables are read.
    fn write_rows(&self) -> Result<(), StorageError> {
        if self.kept_devices.borrow().queue.is_empty() && self.kept_answers.borrow().queue.is_empty() {
            return Ok(());
        }
        let (all_devices, answers) = (self.kept_devices.borrow_mut().take(), self.kept_answers.borrow_mut().take());
        // One statement may not change a row twice: a device's last record is the one.
        let mut latest: HashMap<Id, usize> = HashMap::new();
        for (i, d) in all_devices.iter().enumerate() {
            latest.insert(d.id, i);
        }
        let devices: Vec<&DeviceRecord> =
            all_devices.iter().enumerate().filter(|(i, d)| latest.get(&d.id) == Some(i)).map(|(_, d)| d).collect();
        let mut outcomes = Vec::with_capacity(answers.len());
        for (_, _, answer) in &answers {
            outcomes.push(to_json(&answer.outcome)?);
        }
        self.send(
            "WITH answers AS (INSERT INTO push_answers (device_id, device_seq, change_id, outcome) \
               SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])) \
             INSERT INTO devices (id, user_id, name, next_seq, registered_at, clock_skewed, last_skew_ms) \
             SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::boolean[], \
               $11::bigint[]) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, \
             next_seq = excluded.next_seq, registered_at = excluded.registered_at, \
             clock_skewed = excluded.clock_skewed, last_skew_ms = excluded.last_skew_ms",
            owned![
                answers.iter().map(|(device, _, _)| device.to_string()).collect::<Vec<_>>(),
                answers.iter().map(|(_, seq, _)| *seq as i64).collect::<Vec<_>>(),
                answers.iter().map(|(_, _, a)| a.change_id.to_string()).collect::<Vec<_>>(),
                outcomes,
                devices.iter().map(|d| d.id.to_string()).collect::<Vec<_>>(),
                devices.iter().map(|d| d.user_id.to_string()).collect::<Vec<_>>(),
                devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
                devices.iter().map(|d| d.next_seq as i64).collect::<Vec<_>>(),
                devices.iter().map(|d| d.registered_at.to_rfc3339()).collect::<Vec<_>>(),
                devices.iter().map(|d| d.clock_skewed).collect::<Vec<_>>(),
                devices.iter().map(|d| d.last_skew_ms).collect::<Vec<_>>(),
            ],
        )
    }

    /// Writes the checksum accumulator changes kept so far, in one statement sent ahead: a
    /// push changes three or so, each a statement of its own that every other writer would wait
    /// for. XOR is commutative, so they are folded per row first (one statement may not change a
    /// row twice). Before commit, and before the accumulators are read in this transaction.
    fn write_xors(&self) -> Result<(), StorageError> {
        let pending = self.kept_xors.borrow_mut().take();
        if pending.is_empty() {
            return Ok(());
        }
        let mut folded: HashMap<(Id, Option<Id>), u64> = HashMap::new();
        for (station, worker, value) in pending {
            *folded.entry((station, worker)).or_default() ^= value;
        }
        let (mut stations, mut workers, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for ((station, worker), value) in folded {
            stations.push(station.to_string());
            workers.push(worker.map(|w| w.to_string()).unwrap_or_default());
            // The u64 fold is kept as its bits in a BIGINT.
            values.push(value as i64);
        }
        self.send(
            "INSERT INTO checksums (station_id, worker_id, acc) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) \
             ON CONFLICT (station_id, worker_id) DO UPDATE SET acc = checksums.acc # excluded.acc",
            owned![stations, workers, values],
        )
    }

    /// Reads the answers of the writes sent ([`PgTx::send`]); the first failure, if any.
    fn settle(&self) -> Result<(), StorageError> {
        self.with(Conn::settle)?.map_err(backend)
    }

    fn rows(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StorageError> {
        self.with(|c| c.query(sql, params))?.map_err(backend)
    }

    fn row(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, StorageError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    fn exec(&self, sql: &str, params: Params<'_>) -> Result<u64, StorageError> {
        self.with(|c| c.execute(sql, params))?.map_err(backend)
    }

    fn states(&self, sql: &str, params: Params<'_>) -> Result<Vec<EntityState>, StorageError> {
        self.rows(sql, params)?.iter().map(|r| from_json("entity state", col::<&str>(r, 0)?)).collect()
    }

    fn count(&self, sql: &str) -> Result<u64, StorageError> {
        let row = self.row(sql, &[])?.ok_or_else(|| corrupt("count", "no row"))?;
        Ok(u64::try_from(col::<i64>(&row, 0)?).unwrap_or(0))
    }
}

impl ReadTx for PgTx<'_> {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityRecord>, StorageError> {
        let key = (kind_ord(kind), id);
        if let Some(known) = self.entities.borrow().get(&key) {
            return Ok(known.clone());
        }
        let record = self
            .row(
                "SELECT state, case_worker_id, supervised FROM entities WHERE kind_ord = $1 AND id = $2",
                &[&key.0, &id.to_string()],
            )?
            .map(|row| entity_record(&row, 0))
            .transpose()?;
        self.entities.borrow_mut().insert(key, record.clone());
        Ok(record)
    }

    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, StorageError> {
        self.states(
            "SELECT state FROM entities WHERE case_id = $1 AND area = 2 ORDER BY kind_ord, id",
            &[&case_id.to_string()],
        )
    }

    fn entities_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, StorageError> {
        self.states(
            "SELECT state FROM entities WHERE recipient_id = $1 ORDER BY kind_ord, id",
            &[&recipient_id.to_string()],
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
        let station = station_id.to_string();
        let limit = i64::from(limit);
        let worker;
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&station, &after_ord, &after_id, &limit];
        let filter = match reach {
            Reach::Nothing => return Ok(Vec::new()),
            Reach::Stations { stations, .. } if !stations.contains(&station_id) => return Ok(Vec::new()),
            Reach::Stations { own_cases_of: Some(w), .. } => {
                worker = w.to_string();
                params.push(&worker);
                "AND (e.area <> 2 OR e.case_worker_id = $5)"
            }
            Reach::Stations { own_cases_of: None, .. } => "",
            Reach::Supervision { stations } if !stations.contains(&station_id) => return Ok(Vec::new()),
            Reach::Supervision { .. } => "AND s.supervised",
            Reach::Organisation => "AND e.area = 0",
        };
        let sql = format!(
            "SELECT e.state FROM entity_stations s JOIN entities e ON e.kind_ord = s.kind_ord AND e.id = s.id \
             WHERE s.station_id = $1 AND (s.kind_ord, s.id) > ($2, $3) {filter} \
             ORDER BY s.kind_ord, s.id LIMIT $4"
        );
        self.states(&sql, &params)
    }

    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StorageError> {
        let Some(row) =
            self.row("SELECT user_id, username, password_hash FROM credentials WHERE username = $1", &[&username])?
        else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            user_id: parse_id(col(&row, 0)?)?,
            username: col(&row, 1)?,
            password_hash: col(&row, 2)?,
        }))
    }

    fn device(&self, id: Id) -> Result<Option<DeviceRecord>, StorageError> {
        if let Some(known) = self.devices.borrow().get(&id) {
            return Ok(known.clone());
        }
        self.write_rows()?;
        let row = self.row(
            "SELECT user_id, name, next_seq, registered_at, clock_skewed, last_skew_ms FROM devices WHERE id = $1",
            &[&id.to_string()],
        )?;
        let device = row.map(|row| device_record(id, &row, 0)).transpose()?;
        self.devices.borrow_mut().insert(id, device.clone());
        Ok(device)
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StorageError> {
        let Some(row) =
            self.row("SELECT kind, user_id, device_id, expires_at, used FROM tokens WHERE hash = $1", &[&hash])?
        else {
            return Ok(None);
        };
        token_record(hash, &row).map(Some)
    }

    fn token_with_revocation(&self, hash: &str) -> Result<Option<TokenWithRevocation>, StorageError> {
        if let Some(known) = self.tokens.borrow().get(hash) {
            return Ok(known.clone());
        }
        self.read_tokens(&[hash.to_owned()])?;
        Ok(self.tokens.borrow().get(hash).cloned().flatten())
    }

    fn token_exchanged(&self, hash: &str) -> Result<bool, StorageError> {
        let row = self.row("SELECT exchanged FROM tokens WHERE hash = $1", &[&hash])?;
        row.map(|r| col::<bool>(&r, 0)).transpose().map(|e| e.unwrap_or(false))
    }

    fn refresh_children(&self, parent: &str) -> Result<Vec<(TokenRecord, bool)>, StorageError> {
        let rows =
            self.rows("SELECT hash, exchanged FROM tokens WHERE parent = $1 AND kind = 'refresh'", &[&parent])?;
        let mut children = Vec::with_capacity(rows.len());
        for row in rows {
            let hash: &str = col(&row, 0)?;
            if let Some(token) = self.token(hash)? {
                children.push((token, col(&row, 1)?));
            }
        }
        Ok(children)
    }

    fn device_secret(&self, device_id: Id) -> Result<Option<String>, StorageError> {
        let row = self.row("SELECT secret FROM device_secrets WHERE device_id = $1", &[&device_id.to_string()])?;
        row.map(|r| col(&r, 0)).transpose()
    }

    fn push_answer(&self, device_id: Id, device_seq: u64) -> Result<Option<StoredAnswer>, StorageError> {
        self.write_rows()?;
        let Some(row) = self.row(
            "SELECT change_id, outcome FROM push_answers WHERE device_id = $1 AND device_seq = $2",
            &[&device_id.to_string(), &(device_seq as i64)],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(StoredAnswer {
            change_id: parse_id(col(&row, 0)?)?,
            outcome: from_json::<PushOutcome>("answer", col(&row, 1)?)?,
        }))
    }

    fn answer_by_change_id(&self, change_id: Id) -> Result<Option<(Id, StoredAnswer)>, StorageError> {
        self.write_rows()?;
        let Some(row) = self.row(
            "SELECT device_id, outcome FROM push_answers WHERE change_id = $1 LIMIT 1",
            &[&change_id.to_string()],
        )?
        else {
            return Ok(None);
        };
        Ok(Some((
            parse_id(col(&row, 0)?)?,
            StoredAnswer { change_id, outcome: from_json::<PushOutcome>("answer", col(&row, 1)?)? },
        )))
    }

    fn answers_by_change_id(&self, change_ids: &[Id]) -> Result<HashMap<Id, (Id, StoredAnswer)>, StorageError> {
        let unknown: Vec<Id> =
            change_ids.iter().filter(|id| !self.answers.borrow().contains_key(id)).copied().collect();
        self.read_answers(&unknown)?;
        let answers = self.answers.borrow();
        Ok(change_ids.iter().filter_map(|id| Some((*id, answers.get(id)?.clone()?))).collect())
    }

    fn read_ahead(&self, wanted: &ReadAhead) -> Result<(), StorageError> {
        let tokens: Vec<String> =
            wanted.token_hashes.iter().filter(|h| !self.tokens.borrow().contains_key(*h)).cloned().collect();
        self.read_tokens(&tokens)?;
        let entities: Vec<(i64, Id)> = wanted
            .entities
            .iter()
            .map(|(kind, id)| (kind_ord(*kind), *id))
            .filter(|key| !self.entities.borrow().contains_key(key))
            .collect();
        if !entities.is_empty() {
            let kinds: Vec<i64> = entities.iter().map(|(kind, _)| *kind).collect();
            let ids: Vec<String> = entities.iter().map(|(_, id)| id.to_string()).collect();
            // One lookup per key (see `read_tokens`).
            let rows = self.rows(
                "SELECT w.kind_ord, w.id, e.state, e.case_worker_id, e.supervised \
                 FROM unnest($1::bigint[], $2::text[]) AS w (kind_ord, id) \
                 JOIN LATERAL (SELECT * FROM entities WHERE kind_ord = w.kind_ord AND id = w.id LIMIT 1) e ON TRUE",
                &[&kinds, &ids],
            )?;
            let mut known = self.entities.borrow_mut();
            // Absent unless found.
            known.extend(entities.iter().map(|key| (*key, None)));
            for row in rows {
                known.insert((col(&row, 0)?, parse_id(col(&row, 1)?)?), Some(entity_record(&row, 2)?));
            }
        }
        let unknown: Vec<Id> =
            wanted.change_ids.iter().filter(|id| !self.answers.borrow().contains_key(id)).copied().collect();
        self.read_answers(&unknown)
    }

    fn rejected_change(&self, device_id: Id, device_seq: u64) -> Result<Option<RejectedChange>, StorageError> {
        let Some(row) = self.row(
            "SELECT change, rejection, rejected_at FROM rejected_changes WHERE device_id = $1 AND device_seq = $2",
            &[&device_id.to_string(), &(device_seq as i64)],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(RejectedChange {
            device_id,
            device_seq,
            change: from_json::<Change>("rejected change", col(&row, 0)?)?,
            rejection: from_json::<RejectionInfo>("rejection", col(&row, 1)?)?,
            rejected_at: parse_time(col(&row, 2)?)?,
        }))
    }

    fn handed_over(&self, change_id: Id) -> Result<Option<HandedOverRecord>, StorageError> {
        let sql = format!("SELECT {HANDED_OVER_COLUMNS} FROM handed_over WHERE change_id = $1");
        self.row(&sql, &[&change_id.to_string()])?.as_ref().map(handed_over_record).transpose()
    }

    fn handed_over_offered(&self, station_id: Id) -> Result<Vec<HandedOverRecord>, StorageError> {
        let sql = format!(
            "SELECT {HANDED_OVER_COLUMNS} FROM handed_over WHERE station_id = $1 AND state = 'offered' \
             ORDER BY refused_at, change_id"
        );
        self.rows(&sql, &[&station_id.to_string()])?.iter().map(handed_over_record).collect()
    }

    fn hlc_translation(&self, device_id: Id, original: Hlc) -> Result<Option<Hlc>, StorageError> {
        let row = self.row(
            "SELECT effective FROM hlc_translations WHERE device_id = $1 AND original = $2",
            &[&device_id.to_string(), &original.to_string()],
        )?;
        row.map(|r| col::<&str>(&r, 0)?.parse::<Hlc>().map_err(|e| corrupt("stamp", e))).transpose()
    }

    fn conflicts(&self, entity_id: Id) -> Result<Vec<ConflictEntry>, StorageError> {
        let rows = self.rows(
            "SELECT field, hlc, lost FROM conflicts WHERE entity_id = $1 ORDER BY field, hlc",
            &[&entity_id.to_string()],
        )?;
        rows.iter()
            .map(|row| {
                Ok(ConflictEntry {
                    entity_id,
                    field: col(row, 0)?,
                    hlc: col::<&str>(row, 1)?.parse().map_err(|e| corrupt("stamp", e))?,
                    lost: col::<Option<&str>>(row, 2)?.map(|l| from_json::<LostValue>("lost value", l)).transpose()?,
                })
            })
            .collect()
    }

    fn open_conflict_count(&self) -> Result<u64, StorageError> {
        self.count("SELECT COUNT(*) FROM conflicts WHERE lost IS NOT NULL")
    }

    fn handed_over_offered_count(&self) -> Result<u64, StorageError> {
        self.count("SELECT COUNT(*) FROM handed_over WHERE state = 'offered'")
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        // With the `meta` table, which a pull and the checksums read next (the generation).
        let row = self
            .row(
                "SELECT COALESCE((SELECT MAX(seq) FROM log), 0), \
                   ARRAY(SELECT key FROM meta ORDER BY key), ARRAY(SELECT value FROM meta ORDER BY key)",
                &[],
            )?
            .ok_or_else(|| corrupt("log head", "no row"))?;
        self.keep_meta(&row, 0, 1)
    }

    fn log_page_json(&self, scope: &LogScope, after: u64, limit: u32) -> Result<Vec<(u64, String)>, StorageError> {
        let (after, user, limit) = (after as i64, scope.user_id.to_string(), i64::from(limit));
        let (page, texts) = page_query(scope);
        let sql = format!("SELECT l.seq, l.item FROM log l WHERE {page} ORDER BY l.seq");
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&after, &user, &limit];
        params.extend(texts.iter().map(|t| t as &(dyn ToSql + Sync)));
        self.rows(&sql, &params)?.iter().map(|row| page_entry(row, 0)).collect()
    }

    fn log_head_and_page_json(
        &self,
        scope: &LogScope,
        after: u64,
        limit: u32,
    ) -> Result<(u64, Vec<(u64, String)>), StorageError> {
        let (after, user, limit) = (after as i64, scope.user_id.to_string(), i64::from(limit));
        let (page, texts) = page_query(scope);
        // One statement, one snapshot: the first row is the head with the `meta` table, the
        // page follows.
        let sql = format!(
            "SELECT 0 AS part, COALESCE((SELECT MAX(seq) FROM log), 0) AS seq, NULL::text AS item, \
               ARRAY(SELECT key FROM meta ORDER BY key) AS keys, ARRAY(SELECT value FROM meta ORDER BY key) AS vals \
             UNION ALL SELECT 1, l.seq, l.item, NULL, NULL FROM log l WHERE {page} ORDER BY part, seq"
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&after, &user, &limit];
        params.extend(texts.iter().map(|t| t as &(dyn ToSql + Sync)));
        let rows = self.rows(&sql, &params)?;
        let (first, page) = rows.split_first().ok_or_else(|| corrupt("log head", "no row"))?;
        let head = self.keep_meta(first, 1, 3)?;
        Ok((head, page.iter().map(|row| page_entry(row, 1)).collect::<Result<_, _>>()?))
    }

    fn accumulators(&self, station_id: Id) -> Result<StationAccumulators, StorageError> {
        self.write_xors()?;
        let rows =
            self.rows("SELECT worker_id, acc FROM checksums WHERE station_id = $1", &[&station_id.to_string()])?;
        let mut out = StationAccumulators::default();
        for row in rows {
            accumulate(&mut out, col(&row, 0)?, col::<i64>(&row, 1)?)?;
        }
        Ok(out)
    }

    fn log_head_and_accumulators(&self, stations: &[Id]) -> Result<(u64, Vec<StationAccumulators>), StorageError> {
        self.write_xors()?;
        let ids: Vec<String> = stations.iter().map(Id::to_string).collect();
        // One statement, one snapshot, as `log_head_and_page_json`. The rows of each station by
        // its key, as `read_tokens` (`= ANY($1)` was planned as a scan of the whole table).
        const HEAD: &str = "SELECT 0 AS part, COALESCE((SELECT MAX(seq) FROM log), 0), NULL::text AS station_id, \
               NULL::text, NULL::bigint, ARRAY(SELECT key FROM meta ORDER BY key), \
               ARRAY(SELECT value FROM meta ORDER BY key) UNION ALL";
        let rows = match ids.as_slice() {
            [one] => self.rows(
                &format!(
                    "{HEAD} SELECT 1, 0, station_id, worker_id, acc, NULL, NULL FROM checksums WHERE station_id = $1 \
                     ORDER BY part, station_id"
                ),
                &[one],
            )?,
            _ => self.rows(
                &format!(
                    "{HEAD} SELECT 1, 0, c.station_id, c.worker_id, c.acc, NULL, NULL \
                     FROM unnest($1::text[]) AS w (station_id) \
                     JOIN LATERAL (SELECT * FROM checksums WHERE station_id = w.station_id OFFSET 0) c ON TRUE \
                     ORDER BY part, station_id"
                ),
                &[&ids],
            )?,
        };
        let (first, found) = rows.split_first().ok_or_else(|| corrupt("log head", "no row"))?;
        let head = self.keep_meta(first, 1, 5)?;
        let mut out: Vec<StationAccumulators> = stations.iter().map(|_| StationAccumulators::default()).collect();
        for row in found {
            let station = parse_id(col(row, 2)?)?;
            let Some(i) = stations.iter().position(|s| *s == station) else { continue };
            accumulate(&mut out[i], col(row, 3)?, col::<i64>(row, 4)?)?;
        }
        Ok((head, out))
    }

    fn device_revoked_at(&self, device_id: Id) -> Result<Option<DateTime<Utc>>, StorageError> {
        let row =
            self.row("SELECT revoked_at FROM device_revocations WHERE device_id = $1", &[&device_id.to_string()])?;
        row.map(|r| parse_time(col(&r, 0)?)).transpose()
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        if self.meta.borrow().is_none() {
            self.log_head()?;
        }
        Ok(self.meta.borrow().as_ref().and_then(|meta| meta.get(key).cloned()))
    }

    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityState>, StorageError> {
        self.states("SELECT state FROM entities WHERE kind_ord = $1 ORDER BY id", &[&kind_ord(kind)])
    }

    fn audit_entries(&self) -> Result<Vec<AuditEntry>, StorageError> {
        let rows =
            self.rows("SELECT seq, at, os_user, actor, action, target, detail FROM admin_audit ORDER BY seq", &[])?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    seq: u64::try_from(col::<i64>(row, 0)?).map_err(|e| corrupt("audit seq", e))?,
                    at: parse_time(col(row, 1)?)?,
                    os_user: col(row, 2)?,
                    actor: col(row, 3)?,
                    action: col(row, 4)?,
                    target: col(row, 5)?,
                    detail: col(row, 6)?,
                })
            })
            .collect()
    }
}

impl WriteTx for PgTx<'_> {
    fn put_entity(&mut self, record: &EntityRecord) -> Result<(), StorageError> {
        let state = &record.state;
        let ord = kind_ord(state.kind);
        let id = state.id.to_string();
        let case_id = if state.kind.is_case_record() { state.get_id(field::CASE_ID) } else { None };
        let stations: Vec<String> = state.station_ids().iter().map(Id::to_string).collect();
        // One round trip (a push's writes are paid for in round trips while every other writer
        // waits): the entity, and its station rows made what `stations` says. The rows deleted
        // and the rows upserted are disjoint, so one statement's snapshot serves both.
        self.send(
            "WITH gone AS (DELETE FROM entity_stations WHERE kind_ord = $1::bigint AND id = $2::text                AND NOT (station_id = ANY($10::text[]))),              held AS (INSERT INTO entity_stations (station_id, kind_ord, id, supervised)                SELECT DISTINCT s, $1::bigint, $2::text, $9::boolean FROM unnest($10::text[]) AS s                ON CONFLICT (station_id, kind_ord, id) DO UPDATE SET supervised = excluded.supervised)              INSERT INTO entities (kind_ord, id, kind, area, state, case_id, recipient_id, case_worker_id, supervised)              VALUES ($1::bigint, $2::text, $3, $4, $5, $6, $7, $8, $9::boolean)              ON CONFLICT (kind_ord, id) DO UPDATE SET kind = excluded.kind, area = excluded.area,              state = excluded.state, case_id = excluded.case_id, recipient_id = excluded.recipient_id,              case_worker_id = excluded.case_worker_id, supervised = excluded.supervised",
            owned![
                ord,
                id,
                state.kind.as_str(),
                area_code(state.kind),
                to_json(state)?,
                opt_id(case_id),
                opt_id(state.get_id(field::RECIPIENT_ID)),
                opt_id(record.case_worker_id),
                record.supervised,
                stations,
            ],
        )?;
        self.entities.borrow_mut().insert((ord, state.id), Some(record.clone()));
        Ok(())
    }

    fn record_conflicts(&mut self, entity_id: Id, ops: &[ConflictOp]) -> Result<(), StorageError> {
        let entity = entity_id.to_string();
        for op in ops {
            match op {
                ConflictOp::Lost(lost) => {
                    self.send(
                        "INSERT INTO conflicts (entity_id, field, hlc, lost) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (entity_id, field, hlc) DO NOTHING",
                        owned![entity.clone(), lost.field.clone(), lost.clock.hlc.to_string(), to_json(lost)?],
                    )?;
                }
                ConflictOp::Seen { field, hlc } => {
                    self.send(
                        "INSERT INTO conflicts (entity_id, field, hlc, lost) VALUES ($1, $2, $3, NULL) \
                         ON CONFLICT (entity_id, field, hlc) DO UPDATE SET lost = NULL",
                        owned![entity.clone(), field.clone(), hlc.to_string()],
                    )?;
                }
            }
        }
        Ok(())
    }

    fn append_log(&mut self, item: &Incoming, audience: &[Audience], at: DateTime<Utc>) -> Result<u64, StorageError> {
        let (kind, entity_id, change_id) = incoming_subject(item);
        let stations: Vec<Option<String>> = audience.iter().map(|a| opt_id(a.station_id)).collect();
        let workers: Vec<Option<String>> = audience.iter().map(|a| opt_id(a.case_worker_id)).collect();
        let targets: Vec<Option<String>> = audience.iter().map(|a| opt_id(a.target_user_id)).collect();
        let organisation: Vec<bool> = audience.iter().map(|a| a.organisation).collect();
        let supervision: Vec<i64> = audience.iter().map(|a| a.supervision.code()).collect();
        let log = self.log.as_mut().ok_or_else(|| StorageError::Backend("a log entry outside a write".into()))?;
        log.head += 1;
        let seq = log.head;
        // The number is ours (`LogNumbers`) and no later number can commit before this
        // transaction does. The entry and its audience rows in one statement (their foreign key
        // is checked at the end of the statement, when the entry is there), sent ahead.
        self.send(
            "WITH entry AS (INSERT INTO log (seq, kind, entity_id, change_id, item, committed_at) \
               VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text) RETURNING seq) \
             INSERT INTO log_audience (seq, station_id, case_worker_id, target_user_id, organisation, supervision) \
             SELECT entry.seq, a.station_id, a.case_worker_id, a.target_user_id, a.organisation, a.supervision \
             FROM entry, unnest($7::text[], $8::text[], $9::text[], $10::boolean[], $11::bigint[]) \
               AS a (station_id, case_worker_id, target_user_id, organisation, supervision)",
            owned![
                seq,
                kind.as_str().to_owned(),
                entity_id.to_string(),
                opt_id(change_id),
                to_json(item)?,
                at.to_rfc3339(),
                stations,
                workers,
                targets,
                organisation,
                supervision,
            ],
        )?;
        u64::try_from(seq).map_err(|e| corrupt("log seq", e))
    }

    fn xor_accumulator(&mut self, station_id: Id, case_worker_id: Option<Id>, value: u64) -> Result<(), StorageError> {
        // Kept until commit (or a read of the accumulators): see `write_xors`.
        self.kept_xors.get_mut().push((station_id, case_worker_id, value));
        Ok(())
    }

    fn put_credentials(&mut self, c: &Credentials) -> Result<(), StorageError> {
        // A taken username must not abort the whole transaction (PostgreSQL would refuse every
        // later statement): the insert runs in a savepoint of its own.
        let result = self.with(|conn| {
            conn.batch("SAVEPOINT put_credentials")?;
            let inserted = conn.execute(
                "INSERT INTO credentials (user_id, username, password_hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, \
                 password_hash = excluded.password_hash",
                &[&c.user_id.to_string(), &c.username, &c.password_hash],
            );
            match inserted {
                Ok(_) => conn.batch("RELEASE SAVEPOINT put_credentials").map(|()| None),
                Err(e) => conn.batch("ROLLBACK TO SAVEPOINT put_credentials").map(|()| Some(e)),
            }
        })?;
        match result.map_err(backend)? {
            None => Ok(()),
            Some(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StorageError::UsernameTaken(c.username.clone()))
            }
            Some(e) => Err(backend(e)),
        }
    }

    fn put_device(&mut self, d: &DeviceRecord) -> Result<(), StorageError> {
        self.devices.get_mut().insert(d.id, Some(d.clone()));
        self.kept_devices.get_mut().push(d.clone());
        Ok(())
    }

    fn put_token(&mut self, t: &TokenRecord) -> Result<(), StorageError> {
        self.forget_tokens();
        let kind = match t.kind {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Handover => "handover",
        };
        self.exec(
            "INSERT INTO tokens (hash, kind, user_id, device_id, expires_at, used) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t.hash, &kind, &t.user_id.to_string(), &t.device_id.to_string(), &t.expires_at.to_rfc3339(), &t.used],
        )?;
        Ok(())
    }

    fn mark_token_used(&mut self, hash: &str) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec("UPDATE tokens SET used = TRUE WHERE hash = $1", &[&hash])?;
        Ok(())
    }

    fn mark_token_exchanged(&mut self, hash: &str) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec("UPDATE tokens SET used = TRUE, exchanged = TRUE WHERE hash = $1", &[&hash])?;
        Ok(())
    }

    fn set_token_parent(&mut self, hash: &str, parent: &str) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec("UPDATE tokens SET parent = $2 WHERE hash = $1", &[&hash, &parent])?;
        Ok(())
    }

    fn revoke_token_children(&mut self, parent: &str) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec(
            "UPDATE tokens SET used = TRUE \
             WHERE parent = $1 OR parent IN (SELECT hash FROM tokens WHERE parent = $1 AND kind = 'refresh')",
            &[&parent],
        )?;
        Ok(())
    }

    fn put_device_secret(&mut self, device_id: Id, secret: &str) -> Result<(), StorageError> {
        self.exec(
            "INSERT INTO device_secrets (device_id, secret) VALUES ($1, $2) \
             ON CONFLICT (device_id) DO UPDATE SET secret = excluded.secret",
            &[&device_id.to_string(), &secret],
        )?;
        Ok(())
    }

    fn revoke_tokens(&mut self, user_id: Id, device_id: Option<Id>) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec(
            "UPDATE tokens SET used = TRUE WHERE user_id = $1 AND ($2::text IS NULL OR device_id = $2::text)",
            &[&user_id.to_string(), &opt_id(device_id)],
        )?;
        Ok(())
    }

    fn put_push_answer(&mut self, device_id: Id, device_seq: u64, answer: &StoredAnswer) -> Result<(), StorageError> {
        // A change id known to have no answer has this one now; one known to have an answer
        // keeps it, as the table's lookup may (`DISTINCT ON` takes any); an unknown stays unknown.
        if let Some(known @ None) = self.answers.get_mut().get_mut(&answer.change_id) {
            *known = Some((device_id, answer.clone()));
        }
        self.kept_answers.get_mut().push((device_id, device_seq, answer.clone()));
        Ok(())
    }

    fn put_rejected_change(&mut self, r: &RejectedChange) -> Result<(), StorageError> {
        self.send(
            "INSERT INTO rejected_changes \
             (device_id, device_seq, change_id, author_id, change, rejection, rejected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (device_id, device_seq) DO UPDATE SET change_id = excluded.change_id, \
             author_id = excluded.author_id, change = excluded.change, rejection = excluded.rejection, \
             rejected_at = excluded.rejected_at",
            owned![
                r.device_id.to_string(),
                r.device_seq as i64,
                r.change.change_id.to_string(),
                r.change.author_id.to_string(),
                to_json(&r.change)?,
                to_json(&r.rejection)?,
                r.rejected_at.to_rfc3339(),
            ],
        )?;
        Ok(())
    }

    fn put_handed_over(&mut self, r: &HandedOverRecord) -> Result<bool, StorageError> {
        let inserted = self.exec(
            "INSERT INTO handed_over \
             (change_id, station_id, case_id, author_id, device_id, change, refused_at, state, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (change_id) DO NOTHING",
            &[
                &r.change.change_id.to_string(),
                &r.station_id.to_string(),
                &r.case_id.to_string(),
                &r.author_id.to_string(),
                &r.device_id.to_string(),
                &to_json(&r.change)?,
                &r.refused_at.to_rfc3339(),
                &hand_over_state_text(r.state),
                &opt_id(r.decided_by),
                &r.decided_at.map(|t| t.to_rfc3339()),
            ],
        )?;
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
        let updated = self.exec(
            "UPDATE handed_over SET state = $2, decided_by = $3, decided_at = $4 \
             WHERE change_id = $1 AND state = 'offered'",
            &[&change_id.to_string(), &hand_over_state_text(state), &by.to_string(), &at.to_rfc3339()],
        )?;
        Ok(updated == 1)
    }

    fn put_hlc_translation(&mut self, device_id: Id, original: Hlc, effective: Hlc) -> Result<(), StorageError> {
        self.send(
            "INSERT INTO hlc_translations (device_id, original, effective) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id, original) DO UPDATE SET effective = excluded.effective",
            owned![device_id.to_string(), original.to_string(), effective.to_string()],
        )?;
        Ok(())
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        if let Some(meta) = self.meta.get_mut() {
            meta.insert(key.to_owned(), value.to_owned());
        }
        self.send(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            owned![key.to_owned(), value.to_owned()],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, device_id: Id, at: DateTime<Utc>) -> Result<(), StorageError> {
        self.forget_tokens();
        self.exec(
            "INSERT INTO device_revocations (device_id, revoked_at) VALUES ($1, $2) ON CONFLICT (device_id) DO NOTHING",
            &[&device_id.to_string(), &at.to_rfc3339()],
        )?;
        Ok(())
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StorageError> {
        self.exec(
            "INSERT INTO admin_audit (at, os_user, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&entry.at.to_rfc3339(), &entry.os_user, &entry.actor, &entry.action, &entry.target, &entry.detail],
        )?;
        Ok(())
    }

    fn savepoint(&mut self) -> Result<(), StorageError> {
        if let Some(log) = self.log.as_mut() {
            log.at_savepoint = log.head;
        }
        self.kept_devices.get_mut().savepoint();
        self.kept_answers.get_mut().savepoint();
        self.kept_xors.get_mut().savepoint();
        self.send_simple("SAVEPOINT push")
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StorageError> {
        // What was read or written since the savepoint may be undone: read it again. The
        // writes sent since are answered first; their failure is what is being undone.
        self.entities.get_mut().clear();
        self.devices.get_mut().clear();
        self.tokens.get_mut().clear();
        self.answers.get_mut().clear();
        *self.meta.get_mut() = None;
        if let Some(log) = self.log.as_mut() {
            log.head = log.at_savepoint;
        }
        self.kept_devices.get_mut().rollback_to_savepoint();
        self.kept_answers.get_mut().rollback_to_savepoint();
        self.kept_xors.get_mut().rollback_to_savepoint();
        let _undone = self.settle();
        self.with(|c| c.batch("ROLLBACK TO SAVEPOINT push"))?.map_err(backend)?;
        if !self.deferred {
            // Every write before the savepoint was answered at its release: what failed came
            // after it, and is undone.
            self.failed.set(false);
        }
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), StorageError> {
        // Nothing to send, which saves a round trip per push: the writes since the mark are
        // part of the transaction either way, and the next `SAVEPOINT push` nests a new mark of
        // the same name, which is the one `ROLLBACK TO SAVEPOINT push` goes back to (the most
        // recent of that name). The open marks end at commit. (Each push that writes holds a
        // subtransaction id; `group_commit::MAX_GROUP_JOBS` keeps them under PostgreSQL's 64
        // cached per transaction.) The writes kept and sent since the mark are answered here,
        // so a failed one is this push's failure, rolled back with it, not the next push's.
        self.write_rows()?;
        self.kept_devices.get_mut().release_savepoint();
        self.kept_answers.get_mut().release_savepoint();
        self.kept_xors.get_mut().release_savepoint();
        if self.deferred {
            // Read with the next statement that waits, or at commit.
            return Ok(());
        }
        self.settle()
    }

    fn defer_write_failures(&mut self) -> bool {
        self.deferred = true;
        true
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        debug_assert!(self.write, "only a write transaction is committed");
        self.write_rows()?;
        self.write_xors()?;
        if let Some(log) = self.log.filter(|log| log.head != log.locked) {
            self.send("UPDATE log_head SET seq = $1", owned![log.head])?;
        }
        // The answers of the writes sent ahead, read now: `COMMIT` of a transaction a failed
        // write aborted would answer `ROLLBACK`, not an error.
        self.settle()?;
        if self.failed.get() {
            return Err(StorageError::Backend(
                "a statement of this transaction failed and was not rolled back; nothing of it is kept".into(),
            ));
        }
        self.with(|c| c.batch("COMMIT"))?.map_err(backend)?;
        self.finished = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kept_writes_follow_the_savepoints_even_when_written_in_between() {
        let mut kept = Kept::default();
        kept.push(1);
        kept.savepoint();
        kept.push(2);
        // Written inside the savepoint (a read of the table): 1 went out after the savepoint.
        assert_eq!(kept.take(), [1, 2]);
        kept.push(3);
        kept.rollback_to_savepoint();
        assert_eq!(kept.queue, [1], "2 and 3 are undone, 1 is to be written again");
        kept.savepoint();
        kept.push(4);
        kept.release_savepoint();
        kept.savepoint();
        assert_eq!(kept.take(), [1, 4]);
        kept.release_savepoint();
        kept.savepoint();
        kept.push(5);
        kept.rollback_to_savepoint();
        assert!(kept.queue.is_empty(), "what was written before this savepoint stays written");
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(is_plain_schema_name("shegong"));
        assert!(is_plain_schema_name("t_0190abcd"));
        assert!(!is_plain_schema_name(""));
        assert!(!is_plain_schema_name("Shegong"));
        assert!(!is_plain_schema_name("1abc"));
        assert!(!is_plain_schema_name("pg_catalog"));
        assert!(!is_plain_schema_name("a; DROP TABLE log"));
        assert!(!is_plain_schema_name(&"a".repeat(64)));
    }

    #[test]
    fn the_migrations_mirror_sqlites_one_for_one() {
        let sqlite: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/storage/migrations"))
            .expect("SQLite's migrations")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".sql"))
            .collect();
        let postgres: Vec<_> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/storage/postgres/migrations"))
                .expect("PostgreSQL's migrations")
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.ends_with(".sql"))
                .collect();
        let mut sqlite = sqlite;
        let mut postgres = postgres;
        sqlite.sort();
        postgres.sort();
        assert_eq!(postgres, sqlite, "each SQLite migration has its PostgreSQL twin, with the same name");
        assert_eq!(MIGRATIONS.len(), postgres.len(), "every PostgreSQL migration is applied");
    }

    proptest! {
        #[test]
        fn any_text_is_judged_as_a_schema_name_without_panicking(name in "\\PC*") {
            if is_plain_schema_name(&name) {
                prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            }
        }
    }
}
