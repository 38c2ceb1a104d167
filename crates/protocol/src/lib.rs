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

pub mod bundle;
pub mod upgrade;

/// Paths, relative to the server's base URL.
pub mod paths {
    pub const LOGIN: &str = "/v1/auth/login";
    pub const REFRESH: &str = "/v1/auth/refresh";
    /// Ends a device's session: every token of that user on that device is revoked.
    pub const LOGOUT: &str = "/v1/auth/logout";
    pub const PUSH: &str = "/v1/push";
    pub const PULL: &str = "/v1/pull";
    pub const CHECKSUM: &str = "/v1/checksum";
    pub const SNAPSHOT: &str = "/v1/snapshot";
    pub const HEALTH: &str = "/v1/health";
    /// A revoked device hands over its unsent work: its refresh token buys a push-only token.
    pub const HANDOVER: &str = "/v1/auth/handover";
    /// A device that found itself cloned (another laptop pushes under its id) becomes a new one.
    pub const NEW_DEVICE: &str = "/v1/auth/new-device";
    /// `GET`: the changes refused because their case had been reassigned meanwhile, offered to
    /// the caller (see `docs/sync-protocol.md`, "Offline edits of a reassigned case").
    pub const HANDED_OVER: &str = "/v1/handed-over";
    /// `POST`: a decision on one offered change, `/v1/handed-over/{change_id}` (the route's pattern).
    pub const HANDED_OVER_DECISION: &str = "/v1/handed-over/{change_id}";
    /// `POST`: a station laptop relays a device's outbox bundle (sync by USB stick); answered
    /// with the return bundle (see [`crate::bundle`]).
    pub const BUNDLES: &str = "/v1/bundles";
    /// `GET`: the API's OpenAPI description, generated from the server's code.
    pub const OPENAPI: &str = "/v1/openapi.json";

    /// Every path above, for the test that the server's OpenAPI description covers each route
    /// (`tests/paths.rs` checks that this list names every constant of the module).
    pub const ALL: &[&str] = &[
        LOGIN,
        REFRESH,
        LOGOUT,
        PUSH,
        PULL,
        CHECKSUM,
        SNAPSHOT,
        HEALTH,
        HANDOVER,
        NEW_DEVICE,
        HANDED_OVER,
        HANDED_OVER_DECISION,
        BUNDLES,
        OPENAPI,
    ];

    /// The path of the decision on the handed-over change `change_id`.
    pub fn handed_over_decision(change_id: uuid::Uuid) -> String {
        format!("{HANDED_OVER}/{change_id}")
    }
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

/// Request types tolerate fields they do not know (a newer client of the same schema version
/// may send more), and every field added to them is optional (an older client sends fewer).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Proof that the device holds the secret of `signing_key`: the hex Ed25519 signature of
    /// `domain::signoff::key_registration_message`. Without a valid one the key is not
    /// registered (older clients send none).
    #[serde(default)]
    pub signing_key_proof: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// The signed-in user's own record, so a fresh device knows its role before its first pull.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub user: EntityState,
    pub server_time: DateTime<Utc>,
    /// The device's recovery secret (hex, 32 bytes), sent on sign-in only: the device keeps a
    /// copy of its database key wrapped with it, so that after a password change on the server
    /// an online sign-in with the new password can still open (and re-key) the local database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_secret: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /v1/auth/logout`: the device's refresh token, which proves whose session ends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

/// `POST /v1/auth/handover`: a revoked device's last refresh token, exchanged for a session whose
/// access token only pushes (see `docs/sync-protocol.md`, "Revoked devices").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    pub refresh_token: String,
}

/// `POST /v1/auth/new-device`, with the access token of the device it leaves: registers a new
/// device for the same user and answers its [`Session`]. The old device's tokens stay valid
/// (the other copy of the laptop still uses them).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDeviceRequest {
    pub device_name: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<Change>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per change sent, in the order sent.
    pub results: Vec<PushResult>,
    /// The device sequence number the server expects next.
    pub next_expected_seq: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    pub device_seq: u64,
    pub change_id: Uuid,
    pub outcome: PushOutcome,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a wire answer, made once and serialized: a box would only add an allocation"
)]
pub enum PushOutcome {
    /// Stored durably at `server_seq`. `effective_hlc` is set when the server clamped a stamp
    /// from the future: the device must adopt it in place of its own.
    Accepted {
        server_seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
        effective_hlc: Option<Hlc>,
    },
    /// Refused, and stored with its payload on the server. `current` is the entity as the server
    /// has it (absent if unknown there), so the device can undo what it applied locally.
    Rejected {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        rejection: RejectionInfo,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
        current: Option<EntityState>,
    },
    /// Not processed: the server expects `expected` first. Resend from there.
    Gap { expected: u64 },
    /// Not processed: the server already holds another change (another change id) of this
    /// device at this sequence number. The device's database went back in time (power loss, a
    /// restored backup) or was cloned. The device renumbers its unsent changes from `expected`
    /// (the number the server expects next) and sends them again. Every later change of the
    /// same push is answered `gap`, so the device's changes keep their order.
    SequenceReused { expected: u64 },
}

/// `GET /v1/pull?after=N&limit=M`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullQuery {
    pub after: u64,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullEntry {
    pub server_seq: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub item: Incoming,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub entries: Vec<PullEntry>,
    /// Store this with the applied page, in the same transaction, and send it as `after` next.
    pub next_cursor: u64,
    pub has_more: bool,
    /// The log head when the page was read; with the cursor, the progress of a long pull.
    #[serde(default)]
    pub head: u64,
    /// The server database's generation: made when the database was created. A device that
    /// sees another generation than the one it stored is talking to a server restored from a
    /// backup (or a new one) and syncs again from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// The cursor the page follows: the `after` of the question it answers. A device takes a
    /// page only as the answer to its own question (a reply to another one, from a confused
    /// proxy or a page fetched ahead and never applied, would move its cursor over entries it
    /// never saw). Older servers do not send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

/// A [`PullResponse`] read leniently: an entry that cannot be read (a stamp no clock can make,
/// written by a server before stamps were bounded; an item kind this client does not know) is
/// left out and its number noted in [`PullPage::unreadable`], instead of failing the whole page:
/// the rest of the page is applied and the cursor moves on. What the HTTP transport decodes a
/// pull answer into; a readable page costs one extra scan of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct PullPage {
    pub response: PullResponse,
    /// Server sequence numbers of the entries left out (0 when even that was unreadable).
    pub unreadable: Vec<u64>,
}

impl PullPage {
    /// Reads a pull answer's JSON text; fails only when the text is not a pull answer at all
    /// (cut, or not JSON).
    pub fn from_json(text: &str) -> Result<PullPage, serde_json::Error> {
        if let Ok(response) = serde_json::from_str::<PullResponse>(text) {
            return Ok(PullPage { response, unreadable: Vec::new() });
        }
        #[derive(Deserialize)]
        struct Loose {
            entries: Vec<serde_json::Value>,
            next_cursor: u64,
            has_more: bool,
            #[serde(default)]
            head: u64,
            #[serde(default)]
            generation: Option<String>,
            #[serde(default)]
            after: Option<u64>,
        }
        let loose: Loose = serde_json::from_str(text)?;
        let mut entries = Vec::with_capacity(loose.entries.len());
        let mut unreadable = Vec::new();
        for entry in loose.entries {
            let seq = entry.get("server_seq").and_then(serde_json::Value::as_u64).unwrap_or(0);
            match serde_json::from_value::<PullEntry>(entry) {
                Ok(entry) => entries.push(entry),
                Err(_) => unreadable.push(seq),
            }
        }
        let response = PullResponse {
            entries,
            next_cursor: loose.next_cursor,
            has_more: loose.has_more,
            head: loose.head,
            generation: loose.generation,
            after: loose.after,
        };
        Ok(PullPage { response, unreadable })
    }
}

impl<'de> Deserialize<'de> for PullPage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        PullPage::from_json(raw.get()).map_err(serde::de::Error::custom)
    }
}

/// The checksum of what this user's devices should hold of one station.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationChecksum {
    pub station_id: Uuid,
    /// XOR of entity digests ([`domain::entity::checksum_fold`]), as 16 hex digits.
    pub checksum: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumResponse {
    /// The server sequence number the checksums are taken at: compare only with a device whose
    /// cursor is exactly this and whose outbox is empty.
    pub as_of: u64,
    pub stations: Vec<StationChecksum>,
    /// The stations whose data this user's devices may hold now. A device drops every other
    /// station it holds (a user moved, a supervised station taken away, a deactivated user:
    /// empty). Absent from older servers, and for administrators, whose devices hold the
    /// organisation records of every station: then nothing is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<Uuid>>,
    /// The server database's generation (see [`PullResponse::generation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

/// `GET /v1/snapshot?station=S&after_kind=K&after_id=I&limit=M`: the current state of one
/// station as this user may see it, by (kind, id), for a device repairing itself.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotQuery {
    pub station: Uuid,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>), param(value_type = Option<String>))]
    pub after_kind: Option<EntityKind>,
    #[serde(default)]
    pub after_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The log position the first page was taken at; after the last page, pull from here.
    pub as_of: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub entities: Vec<EntityState>,
    pub has_more: bool,
}

/// Where a handed-over change stands: offered until someone it is offered to decides.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandOverState {
    Offered,
    TakenOver,
    Dismissed,
}

/// A decision on a handed-over change: taken over (its content recorded again by the person
/// deciding, as their own change) or dismissed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandOverDecision {
    TakenOver,
    Dismissed,
}

impl HandOverDecision {
    pub fn state(self) -> HandOverState {
        match self {
            HandOverDecision::TakenOver => HandOverState::TakenOver,
            HandOverDecision::Dismissed => HandOverState::Dismissed,
        }
    }
}

/// A change the server refused only because its case had been reassigned to another worker
/// while its author (a worker of the case's station) worked offline, kept with its payload and
/// offered to the case's current worker and the station's deputy heads.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandedOverItem {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    /// The refused change as the server checked it (in the current format).
    pub change: Change,
    pub station_id: Uuid,
    pub case_id: Uuid,
    pub author_id: Uuid,
    /// The author's display name, as the server has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub refused_at: DateTime<Utc>,
    pub state: HandOverState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// `GET /v1/handed-over`: the offered changes the caller may take over or dismiss, oldest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandedOverResponse {
    pub items: Vec<HandedOverItem>,
}

/// `POST /v1/handed-over/{change_id}`: the caller's decision. Answered with the item as it
/// stands: a decision is recorded once, and a later one gets the first one's answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverDecisionRequest {
    pub decision: HandOverDecision,
}

/// Every error response's body.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The server did not finish the request within its time limit (HTTP 408): send it again.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// Too many failed sign-ins for this username: locked for a while (HTTP 429).
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    /// Too many failed sign-ins from this address (HTTP 429).
    pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";
    /// The server is busy checking other passwords; try again shortly (HTTP 503).
    pub const SERVER_BUSY: &str = "server_busy";
    /// The account was deactivated: its devices drop their data and no longer sign in (HTTP 403).
    pub const ACCOUNT_DEACTIVATED: &str = "account_deactivated";
    /// This device was revoked by an administrator: it hands over its unsent work and wipes its
    /// local data (HTTP 403).
    pub const DEVICE_REVOKED: &str = "device_revoked";
    /// The proof of possession of a signing key is missing or wrong: the key is not registered
    /// (HTTP 400).
    pub const KEY_PROOF_INVALID: &str = "key_proof_invalid";
    /// The request body came in a `Content-Encoding` the server does not read (HTTP 415); the
    /// answer's `Accept-Encoding` lists those it does. Send it again as one of them, or plain.
    pub const UNSUPPORTED_ENCODING: &str = "unsupported_encoding";
    /// Sync by USB stick ([`crate::bundle::BundleError`]): not a bundle file, or cut short.
    pub const BUNDLE_MALFORMED: &str = "bundle_malformed";
    /// A bundle format this version does not read.
    pub const BUNDLE_VERSION: &str = "bundle_version";
    /// An outbox bundle where a return bundle was expected, or the reverse.
    pub const BUNDLE_WRONG_KIND: &str = "bundle_wrong_kind";
    /// The bundle's seal does not hold: altered, or not made by the device or server it names.
    pub const BUNDLE_TAMPERED: &str = "bundle_tampered";
    /// The bundle is another device's.
    pub const BUNDLE_OTHER_DEVICE: &str = "bundle_other_device";
    /// Larger than any bundle.
    pub const BUNDLE_TOO_LARGE: &str = "bundle_too_large";
    /// The device has no recovery secret to seal or open bundles with: sign in online once.
    pub const BUNDLE_KEY_MISSING: &str = "bundle_key_missing";
    /// A return bundle imported already, or older than what the device holds.
    pub const BUNDLE_STALE: &str = "bundle_stale";
}
