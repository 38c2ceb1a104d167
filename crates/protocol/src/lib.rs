//! The sync protocol between devices and the sync server: request and response bodies, error
//! codes, limits, and the upgrade of changes written by older clients. Described for people in
//! `docs/sync-protocol.md`; this crate is the compatibility promise, so its types change only by
//! adding optional fields.

use chrono::{DateTime, Utc};
use domain::change::{Change, Incoming};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::rules::RejectionInfo;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod upgrade;

/// Paths, relative to the server's base URL.
pub mod paths {
    pub const LOGIN: &str = "/v1/auth/login";
    pub const REFRESH: &str = "/v1/auth/refresh";
    pub const PUSH: &str = "/v1/push";
    pub const PULL: &str = "/v1/pull";
    pub const CHECKSUM: &str = "/v1/checksum";
    pub const SNAPSHOT: &str = "/v1/snapshot";
    pub const HEALTH: &str = "/v1/health";
}

/// Header carrying the client's change format version on every request.
pub const SCHEMA_HEADER: &str = "x-shegong-schema";

/// Limits the server enforces; clients stay within them.
pub mod limits {
    /// Largest request body the server reads, in bytes.
    pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
    /// Most changes in one push.
    pub const MAX_PUSH_CHANGES: usize = 1000;
    /// Most entries in one pull page.
    pub const MAX_PULL_LIMIT: u32 = 5000;
    pub const DEFAULT_PULL_LIMIT: u32 = 2000;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The device's id if it has registered before; a new device is registered otherwise.
    #[serde(default)]
    pub device_id: Option<Uuid>,
    pub device_name: String,
    /// Hex Ed25519 public key of this device, registered for supervisors' sign-offs.
    #[serde(default)]
    pub signing_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// The signed-in user's own record, so a fresh device knows its role before its first pull.
    pub user: EntityState,
    pub server_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per change sent, in the order sent.
    pub results: Vec<PushResult>,
    /// The device sequence number the server expects next.
    pub next_expected_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    pub device_seq: u64,
    pub change_id: Uuid,
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Stored durably at `server_seq`. `effective_hlc` is set when the server clamped a stamp
    /// from the future: the device must adopt it in place of its own.
    Accepted {
        server_seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        effective_hlc: Option<Hlc>,
    },
    /// Refused, and stored with its payload on the server. `current` is the entity as the server
    /// has it (absent if unknown there), so the device can undo what it applied locally.
    Rejected {
        rejection: RejectionInfo,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current: Option<EntityState>,
    },
    /// Not processed: the server expects `expected` first. Resend from there.
    Gap { expected: u64 },
}

/// `GET /v1/pull?after=N&limit=M`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    pub after: u64,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullEntry {
    pub server_seq: u64,
    pub item: Incoming,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub entries: Vec<PullEntry>,
    /// Store this with the applied page, in the same transaction, and send it as `after` next.
    pub next_cursor: u64,
    pub has_more: bool,
    /// The log head when the page was read; with the cursor, the progress of a long pull.
    #[serde(default)]
    pub head: u64,
}

/// The checksum of what this user's devices should hold of one station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationChecksum {
    pub station_id: Uuid,
    /// XOR of entity digests ([`domain::entity::checksum_fold`]), as 16 hex digits.
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumResponse {
    /// The server sequence number the checksums are taken at: compare only with a device whose
    /// cursor is exactly this and whose outbox is empty.
    pub as_of: u64,
    pub stations: Vec<StationChecksum>,
}

/// `GET /v1/snapshot?station=S&after_kind=K&after_id=I&limit=M`: the current state of one
/// station as this user may see it, by (kind, id), for a device repairing itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotQuery {
    pub station: Uuid,
    #[serde(default)]
    pub after_kind: Option<EntityKind>,
    #[serde(default)]
    pub after_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The log position the first page was taken at; after the last page, pull from here.
    pub as_of: u64,
    pub entities: Vec<EntityState>,
    pub has_more: bool,
}

/// Every error response's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct ApiError {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl ApiError {
    pub fn new(code: &str, message_zh: impl Into<String>, message_en: impl Into<String>) -> Self {
        Self { code: code.into(), message_zh: message_zh.into(), message_en: message_en.into() }
    }
}

/// Error codes of [`ApiError`] that clients act on.
pub mod codes {
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const TOKEN_EXPIRED: &str = "token_expired";
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    pub const CLIENT_TOO_OLD: &str = "client_too_old";
    pub const MALFORMED: &str = "malformed";
    pub const TOO_LARGE: &str = "too_large";
    pub const INTERNAL: &str = "internal";
}
