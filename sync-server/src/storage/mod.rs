//! Where the server keeps its state, behind one trait: [`Storage`] opens read and write
//! transactions; [`ReadTx`] and [`WriteTx`] are the operations the server needs, and nothing
//! more. The rules (what a change may do, who sees what, how checksums move) live in the server;
//! a backend only stores and finds rows, so a second backend (PostgreSQL) can follow without
//! touching the protocol or the rules.
//!
//! # The contract every backend keeps
//!
//! - **One write transaction at a time decides the log order.** [`WriteTx::append_log`] hands out
//!   the next server sequence number *inside* the write transaction, and the order in which write
//!   transactions commit is the order of their sequence numbers. A reader paging the log by
//!   sequence number therefore never skips a change that committed late. SQLite gets this from its
//!   single writer (`BEGIN IMMEDIATE`). A PostgreSQL backend would take a row lock on a one-row
//!   counter table (`UPDATE log_head SET seq = seq + 1 RETURNING seq`) as the first statement of
//!   every write transaction that appends to the log, and hold it until commit: writers then
//!   commit in sequence order, and readers at `READ COMMITTED` or `REPEATABLE READ` see a prefix.
//! - **Durable before the reply.** [`WriteTx::commit`] returns only once the transaction is on
//!   disk (SQLite: WAL with `synchronous = FULL`; PostgreSQL: `synchronous_commit = on`).
//! - **A dropped write transaction rolls back.**
//! - **Savepoints undo part of a write transaction.** [`WriteTx::rollback_to_savepoint`] takes
//!   back everything since [`WriteTx::savepoint`] (rows and sequence numbers alike: the next
//!   [`WriteTx::append_log`] hands out the first number again) and leaves the transaction usable.
//!   The server commits several pushes in one write transaction (group commit,
//!   `group_commit.rs`), each inside a savepoint, so a push that fails is undone alone and the
//!   group's one durable commit still precedes every reply.
//! - **Read transactions see one consistent snapshot** (SQLite WAL readers; PostgreSQL
//!   `REPEATABLE READ`), so a pull page and the log head it reports agree.
//! - Reads inside a write transaction see that transaction's own writes: a push checks each change
//!   against the state that includes the changes accepted before it in the same batch.
//! - **Handed-over changes are kept once, and decided once.** [`WriteTx::put_handed_over`] keeps
//!   the first record of a change id and ignores any later one (the same change pushed again, by
//!   the same or a cloned device, is kept once, with its first refusal time);
//!   [`WriteTx::decide_handed_over`] moves a record from `offered` to its decision only while it
//!   is offered, and says whether it did: the first decision stands, with who made it and when.
//!   [`ReadTx::handed_over_offered`] lists one station's offered records oldest first (by refusal
//!   time, then change id). The backend decides nothing about who may see or decide them: the
//!   server does, with `domain::policy::authorize`.
//! - **A supervisor's scope is read by flags the server sets** (migration 0008): an entity's
//!   `EntityRecord::supervised`, kept on its station rows too, is what `entities_of_station`
//!   returns for `Reach::Supervision`; an audience row's `Supervision` decides who pulls it
//!   (`Also`: everyone in the station's scope and its supervisors; `Only`: its supervisors
//!   alone, never the other reaches of the station).

pub mod postgres;
pub mod sqlite;
mod values;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::Id;
use domain::change::{Change, Incoming};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::merge::{ConflictOp, LostValue};
use domain::rules::RejectionInfo;
use protocol::{HandOverState, PullEntry, PushOutcome};
use serde::{Deserialize, Serialize};

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

/// A failure of the storage underneath; never a verdict on a request.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data cannot be read back: {0}")]
    Corrupt(String),
    #[error("the database was written by a newer server (schema {found}, this server knows up to {supported})")]
    NewerSchema { found: u32, supported: u32 },
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error("the database key is wrong, or the file is not a database")]
    WrongKey,
}

/// An entity as the server keeps it: its state, and for cases and their records the social
/// worker the case is assigned to (which decides which workers' devices hold it).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRecord {
    pub state: EntityState,
    pub case_worker_id: Option<Id>,
    /// Whether the supervisors of its stations hold it (`scope::supervised`): organisation and
    /// workforce records, the library, and a case waiting for their decision with what its
    /// review reads. Kept with the entity (server migration 0008) so a snapshot or checksum of
    /// a supervisor's scope reads only these rows.
    pub supervised: bool,
}

/// A user's sign-in secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user_id: Id,
    pub username: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// A registered device: a laptop, or the server itself for server-authored changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    /// The device sequence number the server expects next (dense from 1).
    pub next_seq: u64,
    pub registered_at: DateTime<Utc>,
    /// Set once a stamp from this device was clamped for being too far in the future.
    pub clock_skewed: bool,
    /// How far ahead the last clamped stamp was, in milliseconds.
    pub last_skew_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    /// A revoked device's push-only token: it hands over the device's unsent work, nothing more.
    Handover,
}

/// A bearer token, kept only as the SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Hex SHA-256 of the token.
    pub hash: String,
    pub kind: TokenKind,
    pub user_id: Id,
    pub device_id: Id,
    pub expires_at: DateTime<Utc>,
    /// A refresh token that was exchanged, or any token revoked after a replay.
    pub used: bool,
}

/// What [`ReadTx::read_ahead`] reads.
#[derive(Debug, Clone, Default)]
pub struct ReadAhead {
    /// Tokens by hash, with their devices and users ([`ReadTx::token_with_revocation`]).
    pub token_hashes: Vec<String>,
    /// The entities the changes are about.
    pub entities: Vec<(EntityKind, Id)>,
    /// The change ids whose earlier answers are looked up ([`ReadTx::answers_by_change_id`]).
    pub change_ids: Vec<Id>,
}

/// A token, and when its device was revoked if it was ([`ReadTx::token_with_revocation`]).
pub type TokenWithRevocation = (TokenRecord, Option<DateTime<Utc>>);

/// The answer given to one pushed change, kept so a resend gets the same answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub change_id: Id,
    pub outcome: PushOutcome,
}

/// A refused change, kept with its payload as received.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedChange {
    pub device_id: Id,
    pub device_seq: u64,
    pub change: Change,
    pub rejection: RejectionInfo,
    pub rejected_at: DateTime<Utc>,
}

/// A change refused only because its case had been reassigned meanwhile, kept to be offered to
/// the case's current worker and the station's deputy heads (migration 0006).
#[derive(Debug, Clone, PartialEq)]
pub struct HandedOverRecord {
    /// The change as the server checked it (upgraded to the current format).
    pub change: Change,
    pub device_id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub author_id: Id,
    pub refused_at: DateTime<Utc>,
    pub state: HandOverState,
    pub decided_by: Option<Id>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// One stored conflict, as [`domain::merge::ConflictBook`] defines it: `lost` is `None` once seen.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictEntry {
    pub entity_id: Id,
    pub field: String,
    pub hlc: Hlc,
    pub lost: Option<LostValue>,
}

/// Who receives one log entry. An entry has one or more audience rows (an entity in several
/// stations has one per station); a device pulls an entry if any row is in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience {
    pub station_id: Option<Id>,
    /// For case-area entries: the worker the case is assigned to.
    pub case_worker_id: Option<Id>,
    /// `Some`: only this user's devices, whatever their scope.
    pub target_user_id: Option<Id>,
    /// An organisation entity (station, point, village, user): what administrators pull.
    pub organisation: bool,
    /// Whether the station's supervisors pull it (server migration 0008).
    pub supervision: Supervision,
}

/// Whether an entry of a station reaches its supervisors' devices, beside everyone else's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Supervision {
    /// Not theirs (the station's roster, cases not waiting for them).
    #[default]
    No,
    /// Theirs and everyone else's in the station's scope: an entry about an entity the
    /// supervisors hold (`EntityRecord::supervised`).
    Also,
    /// Only theirs: the snapshot or eviction of an entity that enters or leaves the supervisors'
    /// scope while its stations stay (a case's closure requested, decided); the station's other
    /// devices hold it either way.
    Only,
}

impl Supervision {
    /// As stored: 0, 1, 2.
    pub fn code(self) -> i64 {
        match self {
            Supervision::No => 0,
            Supervision::Also => 1,
            Supervision::Only => 2,
        }
    }

    /// `Also` for an entity the supervisors hold, else `No`.
    pub fn of(supervised: bool) -> Self {
        if supervised { Supervision::Also } else { Supervision::No }
    }
}

/// What part of the log and the state a user's devices hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Untargeted entries of these stations; with `own_cases_of`, case-area entries only of
    /// cases assigned to that worker.
    Stations { stations: Vec<Id>, own_cases_of: Option<Id> },
    /// A supervisor's: of these stations, only what their supervisors hold (entries with
    /// `Supervision::Also` or `Only`; entities `supervised`).
    Supervision { stations: Vec<Id> },
    /// Untargeted organisation entries, all stations.
    Organisation,
    /// Nothing but entries targeted at the user.
    Nothing,
}

/// A reader's scope in the log: their reach, plus whatever is targeted at them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogScope {
    pub user_id: Id,
    pub reach: Reach,
}

/// The per-station checksum accumulators (XOR folds of entity digests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationAccumulators {
    /// Every entity but cases and their records.
    pub roster: u64,
    /// Cases and their records, by the worker the case is assigned to.
    pub cases: BTreeMap<Id, u64>,
}

/// Opens transactions. `Send + Sync`: the server calls it from many threads.
pub trait Storage: Send + Sync {
    /// A consistent snapshot for reading.
    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StorageError>;
    /// The one write transaction; waits for others to finish.
    fn write(&self) -> Result<Box<dyn WriteTx + '_>, StorageError>;
    /// Reads of one statement each, each a snapshot of its own: a backend with round trips runs
    /// them outside a transaction, without `BEGIN` and `ROLLBACK`. For a request whose lookups
    /// need not agree with each other (a push's first look at its token, the handed-over
    /// changes) or agree within one call (a pull's token, then its head and page together:
    /// [`ReadTx::log_head_and_page_json`]).
    fn read_one(&self) -> Result<Box<dyn ReadTx + '_>, StorageError> {
        self.read()
    }
}

/// Reads, inside a read or a write transaction.
pub trait ReadTx {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityRecord>, StorageError>;
    /// Every stage record of a case.
    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, StorageError>;
    /// Every entity whose `recipient_id` names this recipient (cases, visits, referrals).
    fn entities_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, StorageError>;
    /// Entities of one station within `reach`, ordered by (kind, id), after the given one.
    fn entities_of_station(
        &self,
        station_id: Id,
        reach: &Reach,
        after: Option<(EntityKind, Id)>,
        limit: u32,
    ) -> Result<Vec<EntityState>, StorageError>;

    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StorageError>;
    fn device(&self, id: Id) -> Result<Option<DeviceRecord>, StorageError>;
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StorageError>;
    /// The token with this hash, and when its device was revoked if it was: what authenticating
    /// every request reads ([`ReadTx::token`], then [`ReadTx::device_revoked_at`]; one round
    /// trip on PostgreSQL).
    fn token_with_revocation(&self, hash: &str) -> Result<Option<TokenWithRevocation>, StorageError> {
        let Some(token) = self.token(hash)? else { return Ok(None) };
        let revoked_at = self.device_revoked_at(token.device_id)?;
        Ok(Some((token, revoked_at)))
    }
    /// Whether this refresh token was exchanged for a new session (as opposed to revoked).
    fn token_exchanged(&self, hash: &str) -> Result<bool, StorageError>;
    /// The refresh tokens issued in exchange for the refresh token `parent` (hash), each with
    /// whether it was exchanged in its turn.
    fn refresh_children(&self, parent: &str) -> Result<Vec<(TokenRecord, bool)>, StorageError>;
    /// The device's recovery secret (hex), once made.
    fn device_secret(&self, device_id: Id) -> Result<Option<String>, StorageError>;

    fn push_answer(&self, device_id: Id, device_seq: u64) -> Result<Option<StoredAnswer>, StorageError>;
    /// The answer already given to a change id, under whichever device sent it, with that device.
    fn answer_by_change_id(&self, change_id: Id) -> Result<Option<(Id, StoredAnswer)>, StorageError>;
    /// Reads at once what a group of pushes will look up one by one (`push.rs`): a backend
    /// whose every lookup is a round trip, while every other writer waits, keeps it for the
    /// transaction. Nothing else changes: SQLite, which reads in process, does nothing here.
    fn read_ahead(&self, _wanted: &ReadAhead) -> Result<(), StorageError> {
        Ok(())
    }
    /// [`ReadTx::answer_by_change_id`] for each of `change_ids`, those answered only: a push
    /// looks up all its changes, which a backend with round trips reads in one query.
    fn answers_by_change_id(&self, change_ids: &[Id]) -> Result<HashMap<Id, (Id, StoredAnswer)>, StorageError> {
        let mut answered = HashMap::new();
        for &change_id in change_ids {
            if let Some(answer) = self.answer_by_change_id(change_id)? {
                answered.insert(change_id, answer);
            }
        }
        Ok(answered)
    }
    fn rejected_change(&self, device_id: Id, device_seq: u64) -> Result<Option<RejectedChange>, StorageError>;
    /// The handed-over change with this id, whatever its state.
    fn handed_over(&self, change_id: Id) -> Result<Option<HandedOverRecord>, StorageError>;
    /// The handed-over changes of one station still offered, oldest refusal first (then by
    /// change id).
    fn handed_over_offered(&self, station_id: Id) -> Result<Vec<HandedOverRecord>, StorageError>;
    /// The stamp the server gave a clamped change of this device in place of `original`.
    fn hlc_translation(&self, device_id: Id, original: Hlc) -> Result<Option<Hlc>, StorageError>;
    fn conflicts(&self, entity_id: Id) -> Result<Vec<ConflictEntry>, StorageError>;
    /// How many conflicts are open (a lost value not yet seen), across the organisation: a
    /// gauge of the metrics.
    fn open_conflict_count(&self) -> Result<u64, StorageError>;
    /// How many handed-over changes are still offered, across all stations: a gauge of the
    /// metrics.
    fn handed_over_offered_count(&self) -> Result<u64, StorageError>;

    /// The highest server sequence number committed (0 for an empty log).
    fn log_head(&self) -> Result<u64, StorageError>;
    /// Entries after `after` in scope, in sequence order, at most `limit`, each as its server
    /// sequence number and the JSON of its `Incoming` as stored: what a pull sends on unchanged.
    fn log_page_json(&self, scope: &LogScope, after: u64, limit: u32) -> Result<Vec<(u64, String)>, StorageError>;
    /// [`ReadTx::log_page_json`], read.
    fn log_page(&self, scope: &LogScope, after: u64, limit: u32) -> Result<Vec<PullEntry>, StorageError> {
        self.log_page_json(scope, after, limit)?
            .into_iter()
            .map(|(server_seq, item)| {
                let item = serde_json::from_str::<Incoming>(&item)
                    .map_err(|e| StorageError::Corrupt(format!("log entry {server_seq}: {e}")))?;
                Ok(PullEntry { server_seq, item })
            })
            .collect()
    }
    /// The log head and the page after `after`, from one snapshot (what a pull answers): on a
    /// [`Storage::read_one`] too, where a backend with round trips reads both in one statement.
    fn log_head_and_page_json(
        &self,
        scope: &LogScope,
        after: u64,
        limit: u32,
    ) -> Result<(u64, Vec<(u64, String)>), StorageError> {
        Ok((self.log_head()?, self.log_page_json(scope, after, limit)?))
    }
    fn accumulators(&self, station_id: Id) -> Result<StationAccumulators, StorageError>;
    /// The log head and these stations' accumulators, from one snapshot (what the checksums
    /// answer), as [`ReadTx::log_head_and_page_json`].
    fn log_head_and_accumulators(&self, stations: &[Id]) -> Result<(u64, Vec<StationAccumulators>), StorageError> {
        let head = self.log_head()?;
        Ok((head, stations.iter().map(|s| self.accumulators(*s)).collect::<Result<_, _>>()?))
    }
    /// When an administrator revoked this device, if they did.
    fn device_revoked_at(&self, device_id: Id) -> Result<Option<DateTime<Utc>>, StorageError>;
    fn meta(&self, key: &str) -> Result<Option<String>, StorageError>;
    /// Every entity of one kind, by id (the admin CLI's lists of stations, villages, users).
    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityState>, StorageError>;
    /// The administrators' audit log, oldest first.
    fn audit_entries(&self) -> Result<Vec<AuditEntry>, StorageError>;
}

/// Writes; all or nothing at [`WriteTx::commit`].
pub trait WriteTx: ReadTx {
    /// Inserts or replaces the entity.
    fn put_entity(&mut self, record: &EntityRecord) -> Result<(), StorageError>;
    /// Records conflict operations with [`domain::merge::ConflictBook`]'s semantics: a lost
    /// value is kept unless that write is already marked seen; seen always wins.
    fn record_conflicts(&mut self, entity_id: Id, ops: &[ConflictOp]) -> Result<(), StorageError>;
    /// Appends one entry with the next server sequence number, which it returns.
    fn append_log(&mut self, item: &Incoming, audience: &[Audience], at: DateTime<Utc>) -> Result<u64, StorageError>;
    /// XORs `value` into the accumulator of (station, case worker); `None` is the roster's.
    fn xor_accumulator(&mut self, station_id: Id, case_worker_id: Option<Id>, value: u64) -> Result<(), StorageError>;

    fn put_credentials(&mut self, credentials: &Credentials) -> Result<(), StorageError>;
    fn put_device(&mut self, device: &DeviceRecord) -> Result<(), StorageError>;
    fn put_token(&mut self, token: &TokenRecord) -> Result<(), StorageError>;
    fn mark_token_used(&mut self, hash: &str) -> Result<(), StorageError>;
    /// Marks a refresh token exchanged for a new session (and so used).
    fn mark_token_exchanged(&mut self, hash: &str) -> Result<(), StorageError>;
    /// Notes the token `hash` belongs under the refresh token `parent`: a refresh token issued in
    /// exchange for it, or the access token issued with it.
    fn set_token_parent(&mut self, hash: &str, parent: &str) -> Result<(), StorageError>;
    /// Revokes the tokens under the refresh token `parent`: the access token issued with it, the
    /// refresh tokens it was exchanged for, and the access tokens issued with those.
    fn revoke_token_children(&mut self, parent: &str) -> Result<(), StorageError>;
    fn put_device_secret(&mut self, device_id: Id, secret: &str) -> Result<(), StorageError>;
    /// Marks every token of this user used: on one device (after a refresh token replay), or on
    /// all of them (`None`, after a password change).
    fn revoke_tokens(&mut self, user_id: Id, device_id: Option<Id>) -> Result<(), StorageError>;

    fn put_push_answer(&mut self, device_id: Id, device_seq: u64, answer: &StoredAnswer) -> Result<(), StorageError>;
    fn put_rejected_change(&mut self, rejected: &RejectedChange) -> Result<(), StorageError>;
    /// Keeps a handed-over change, unless one with its change id is kept already (then nothing
    /// changes). Returns whether it was new.
    fn put_handed_over(&mut self, record: &HandedOverRecord) -> Result<bool, StorageError>;
    /// Records the decision on an offered handed-over change (`state` is not `Offered`), by
    /// `by`, at `at`. Only an offered one moves; returns whether it did.
    fn decide_handed_over(
        &mut self,
        change_id: Id,
        state: HandOverState,
        by: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    fn put_hlc_translation(&mut self, device_id: Id, original: Hlc, effective: Hlc) -> Result<(), StorageError>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StorageError>;
    /// Marks the device revoked (keeping the first time it was).
    fn revoke_device(&mut self, device_id: Id, at: DateTime<Utc>) -> Result<(), StorageError>;

    /// Appends one entry to the administrators' audit log (its `seq` is assigned here).
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StorageError>;

    /// Marks a point inside the transaction (group commit: one per push of the group). Marks do
    /// not nest: each is ended by [`WriteTx::release_savepoint`] or
    /// [`WriteTx::rollback_to_savepoint`] before the next is made.
    fn savepoint(&mut self) -> Result<(), StorageError>;
    /// Undoes every write since the last mark, sequence numbers handed out included, and ends
    /// the mark; the transaction goes on (also after a failed statement).
    fn rollback_to_savepoint(&mut self) -> Result<(), StorageError>;
    /// Keeps the writes since the last mark as part of the transaction, and ends the mark.
    fn release_savepoint(&mut self) -> Result<(), StorageError>;

    /// Asks a backend that sends writes ahead of their answers (PostgreSQL) not to wait for
    /// them at each [`WriteTx::release_savepoint`]: a round trip saved per mark. A write that
    /// failed is then no longer one mark's failure: it fails whatever statement comes next,
    /// and [`WriteTx::commit`] whatever happens in between, so nothing of the transaction is
    /// kept. For a caller that can run all of its work again, marks waited for. Returns
    /// whether the backend does so; one that writes at once (SQLite) does not.
    fn defer_write_failures(&mut self) -> bool {
        false
    }

    /// Makes everything durable; returns once it is on disk.
    fn commit(self: Box<Self>) -> Result<(), StorageError>;
}

/// One administrative action, as the audit log keeps it. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The operating-system account that ran the command.
    pub os_user: String,
    /// The name given with `--actor`, when the account is shared.
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}
