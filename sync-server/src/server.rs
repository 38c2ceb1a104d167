//! [`Server`]: the sync API as plain, synchronous methods. The HTTP handlers call them on
//! blocking threads; the deterministic simulation calls them directly, with its own clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::Id;
use domain::change::{FieldWrite, Incoming, Op};
use domain::entity::EntityKind;
use domain::org::{Role, RoleKind, User};
use domain::validate::normalize_field;
use protocol::{
    ApiError, ChecksumResponse, LoginRequest, PullEntry, PullQuery, PullResponse, PushRequest, PushResponse,
    RefreshRequest, Session, SnapshotQuery, SnapshotResponse, StationChecksum, limits,
};
use serde_json::Value;
use uuid::Uuid;

use crate::admin::Admin;
use crate::auth::{new_token, token_hash, verify_nothing, verify_password};
use crate::batch::{Batch, SYSTEM_USER_ID};
use crate::error::{bad_credentials, check_client_schema, forbidden, internal, malformed, token_expired, unauthorized};
use crate::scope::{actor_of, reach_of};
use crate::storage::{DeviceRecord, Reach, ReadTx, Storage, TokenKind, TokenRecord, WriteTx};

/// The server's notion of "now"; injected so tests and the simulation control time.
pub type WallClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real clock.
pub fn system_clock() -> WallClock {
    Arc::new(Utc::now)
}

/// Policies of a running server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// A stamp further than this ahead of the server's clock is clamped.
    pub max_clock_ahead: Duration,
    /// How many days past the server's date a "not in the future" date may be (a device's
    /// clock and time zone may be ahead of the server's).
    pub future_date_slack_days: i64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::hours(1),
            refresh_token_ttl: Duration::days(30),
            max_clock_ahead: Duration::minutes(5),
            future_date_slack_days: 2,
        }
    }
}

/// The sync server. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    settings: ServerSettings,
    clock: WallClock,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

/// Checks a bearer token: known, an access token, unused, unexpired.
pub(crate) fn authenticate(tx: &dyn ReadTx, bearer: &str, now: DateTime<Utc>) -> Result<TokenRecord, ApiError> {
    let invalid = || unauthorized("登录凭证无效，请重新登录", "the access token is not valid; sign in again");
    let token = tx.token(&token_hash(bearer))?.ok_or_else(invalid)?;
    if token.kind != TokenKind::Access || token.used {
        return Err(invalid());
    }
    if token.expires_at <= now {
        return Err(token_expired());
    }
    Ok(token)
}

impl Server {
    pub fn new(storage: Arc<dyn Storage>, settings: ServerSettings, clock: WallClock) -> Self {
        Self { inner: Arc::new(Inner { storage, settings, clock }) }
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.inner.settings
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    pub fn admin(&self) -> Admin<'_> {
        Admin::new(self)
    }

    /// Signs a user in on a device. Registers the device when it is new to the server (or not
    /// this user's), and for a supervisor, registers the device's signing key.
    pub fn login(&self, request: LoginRequest) -> Result<Session, ApiError> {
        let username = request.username.trim();
        if username.is_empty() {
            return Err(malformed("用户名不能为空", "username is required"));
        }
        let signing_key = match request.signing_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Some(parse_signing_key(key)?),
            None => None,
        };
        let credentials = self.storage().read()?.credentials(username)?;
        let Some(credentials) = credentials else {
            verify_nothing(&request.password);
            return Err(bad_credentials());
        };
        if !verify_password(&credentials.password_hash, &request.password) {
            return Err(bad_credentials());
        }

        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let user_state = batch
            .read()
            .entity(EntityKind::User, credentials.user_id)?
            .ok_or_else(|| internal(format!("credentials without a user record: {}", credentials.user_id)))?
            .state;
        let user = user_state.to_typed::<User>().map_err(internal)?;
        if !user.active {
            return Err(unauthorized("该账号已停用", "this account is disabled"));
        }

        let known = match request.device_id {
            Some(id) => batch.read().device(id)?,
            None => None,
        };
        let device_id = match (request.device_id, known) {
            (Some(id), Some(device)) if device.user_id == user.id => id,
            // A device id the server has never seen: the device made it itself; keep it, since
            // its changes already carry it.
            (Some(id), None) if id != batch.server_device_id() => {
                register_device(&mut *batch.tx, id, user.id, &request.device_name, now)?;
                id
            }
            // New, or another user's: a fresh id, which the device must adopt.
            _ => {
                let id = Uuid::now_v7();
                register_device(&mut *batch.tx, id, user.id, &request.device_name, now)?;
                id
            }
        };

        let mut user_state = user_state;
        if let Some(key) = signing_key
            && user.role == RoleKind::Supervisor
            && !user.signing_keys.contains(&key)
        {
            let mut keys = user.signing_keys.clone();
            keys.push(key);
            let fields = BTreeMap::from([("signing_keys".to_owned(), FieldWrite::new(Value::from(keys)))]);
            let change = batch.server_change(SYSTEM_USER_ID, EntityKind::User, user.id, Op::Update, fields)?;
            batch.apply(&change)?;
            user_state =
                batch.read().entity(EntityKind::User, user.id)?.ok_or_else(|| internal("user record vanished"))?.state;
        }
        let session = self.issue_session(&mut *batch.tx, user_state, device_id, now)?;
        batch.finish()?;
        tracing::info!(user = %session.user_id, device = %session.device_id, "signed in");
        Ok(session)
    }

    /// Exchanges a refresh token for a new session. Each refresh token works once: a second use
    /// means it was copied, and every token of that user on that device is revoked.
    pub fn refresh(&self, request: RefreshRequest) -> Result<Session, ApiError> {
        let invalid = || unauthorized("登录凭证无效，请重新登录", "the refresh token is not valid; sign in again");
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let token = batch.read().token(&token_hash(&request.refresh_token))?.ok_or_else(invalid)?;
        if token.kind != TokenKind::Refresh {
            return Err(invalid());
        }
        if token.used {
            tracing::warn!(user = %token.user_id, device = %token.device_id, "refresh token replayed; revoking the device's tokens");
            batch.tx.revoke_tokens(token.user_id, Some(token.device_id))?;
            batch.finish()?;
            return Err(unauthorized(
                "登录凭证已被使用过，请重新登录",
                "the refresh token was already used; sign in again",
            ));
        }
        if token.expires_at <= now {
            return Err(token_expired());
        }
        let user = batch.read().entity(EntityKind::User, token.user_id)?.ok_or_else(invalid)?.state;
        if !user.get("active").and_then(Value::as_bool).unwrap_or(false) {
            return Err(unauthorized("该账号已停用", "this account is disabled"));
        }
        batch.tx.mark_token_used(&token.hash)?;
        let session = self.issue_session(&mut *batch.tx, user, token.device_id, now)?;
        batch.finish()?;
        Ok(session)
    }

    fn issue_session(
        &self,
        tx: &mut dyn WriteTx,
        user: domain::entity::EntityState,
        device_id: Id,
        now: DateTime<Utc>,
    ) -> Result<Session, ApiError> {
        let settings = self.settings();
        let access_token = new_token();
        let refresh_token = new_token();
        let access_expires_at = now + settings.access_token_ttl;
        let refresh_expires_at = now + settings.refresh_token_ttl;
        for (token, kind, expires_at) in [
            (&access_token, TokenKind::Access, access_expires_at),
            (&refresh_token, TokenKind::Refresh, refresh_expires_at),
        ] {
            tx.put_token(&TokenRecord {
                hash: token_hash(token),
                kind,
                user_id: user.id,
                device_id,
                expires_at,
                used: false,
            })?;
        }
        Ok(Session {
            user_id: user.id,
            device_id,
            access_token,
            access_expires_at,
            refresh_token,
            refresh_expires_at,
            user,
            server_time: now,
        })
    }

    pub fn push(&self, bearer: &str, client_schema: u32, request: PushRequest) -> Result<PushResponse, ApiError> {
        crate::push::push(self, bearer, client_schema, request)
    }

    /// A page of the log after `query.after`, in the order the server committed it, holding
    /// only what this user's devices may hold.
    pub fn pull(&self, bearer: &str, client_schema: u32, query: PullQuery) -> Result<PullResponse, ApiError> {
        let page = self.pull_page(bearer, client_schema, query)?;
        let entries = page
            .entries
            .into_iter()
            .map(|(server_seq, item)| {
                let item = serde_json::from_str::<Incoming>(&item)
                    .map_err(|e| internal(format!("log entry {server_seq} unreadable: {e}")))?;
                Ok(PullEntry { server_seq, item })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(PullResponse { entries, next_cursor: page.next_cursor, has_more: page.has_more, head: page.head })
    }

    /// [`Server::pull`] as the JSON text of its [`PullResponse`], built from the log entries as
    /// stored, without reading them into values and writing them out again: what the HTTP layer
    /// sends.
    pub fn pull_json(&self, bearer: &str, client_schema: u32, query: PullQuery) -> Result<String, ApiError> {
        let page = self.pull_page(bearer, client_schema, query)?;
        let size: usize = page.entries.iter().map(|(_, item)| item.len() + 40).sum();
        let mut out = String::with_capacity(size + 100);
        out.push_str("{\"entries\":[");
        for (n, (server_seq, item)) in page.entries.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            // The stored text is the JSON of an `Incoming` the server wrote itself.
            let _ = write!(out, "{{\"server_seq\":{server_seq},\"item\":{item}}}");
        }
        let _ = write!(
            out,
            "],\"next_cursor\":{},\"has_more\":{},\"head\":{}}}",
            page.next_cursor, page.has_more, page.head
        );
        Ok(out)
    }

    fn pull_page(&self, bearer: &str, client_schema: u32, query: PullQuery) -> Result<RawPage, ApiError> {
        check_client_schema(client_schema)?;
        let limit = query.limit.unwrap_or(limits::DEFAULT_PULL_LIMIT).clamp(1, limits::MAX_PULL_LIMIT);
        let tx = self.storage().read()?;
        let token = authenticate(&*tx, bearer, self.now())?;
        let actor = actor_of(&*tx, token.user_id)?;
        let scope = crate::storage::LogScope { user_id: actor.user_id, reach: reach_of(&actor) };
        // Head and page from one snapshot: nothing committed in between can be skipped.
        let head = tx.log_head()?;
        let mut entries = tx.log_page_json(&scope, query.after, limit + 1)?;
        let has_more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next_cursor = match (has_more, entries.last()) {
            (true, Some(last)) => last.0,
            _ => head,
        };
        Ok(RawPage { entries, next_cursor, has_more, head })
    }

    /// Per station in the user's scope, the checksum of what the user's devices should hold.
    pub fn checksum(&self, bearer: &str) -> Result<ChecksumResponse, ApiError> {
        let tx = self.storage().read()?;
        let token = authenticate(&*tx, bearer, self.now())?;
        let actor = actor_of(&*tx, token.user_id)?;
        let as_of = tx.log_head()?;
        let mut stations = Vec::new();
        if let Reach::Stations { stations: ids, own_cases_of } = reach_of(&actor) {
            for station_id in ids {
                let acc = tx.accumulators(station_id)?;
                let cases = match own_cases_of {
                    Some(worker) => acc.cases.get(&worker).copied().unwrap_or(0),
                    None => acc.cases.values().fold(0, |a, v| a ^ v),
                };
                stations.push(StationChecksum { station_id, checksum: format!("{:016x}", acc.roster ^ cases) });
            }
        }
        Ok(ChecksumResponse { as_of, stations })
    }

    /// The current state of one station as this user may see it, paged by (kind, id).
    pub fn snapshot(&self, bearer: &str, query: SnapshotQuery) -> Result<SnapshotResponse, ApiError> {
        let after = match (query.after_kind, query.after_id) {
            (Some(kind), Some(id)) => Some((kind, id)),
            (None, None) => None,
            _ => return Err(malformed("after_kind 与 after_id 须同时给出", "after_kind and after_id go together")),
        };
        let limit = query.limit.unwrap_or(limits::DEFAULT_PULL_LIMIT).clamp(1, limits::MAX_PULL_LIMIT);
        let tx = self.storage().read()?;
        let token = authenticate(&*tx, bearer, self.now())?;
        let actor = actor_of(&*tx, token.user_id)?;
        let reach = reach_of(&actor);
        let in_scope = match (&reach, &actor.role) {
            (Reach::Stations { stations, .. }, _) => stations.contains(&query.station),
            (Reach::Organisation, Some(Role::Admin)) => tx.entity(EntityKind::Station, query.station)?.is_some(),
            _ => false,
        };
        if !in_scope {
            return Err(forbidden("该社工站不在您的范围内", "this station is outside your scope"));
        }
        let as_of = tx.log_head()?;
        let mut entities = tx.entities_of_station(query.station, &reach, after, limit + 1)?;
        let has_more = entities.len() > limit as usize;
        entities.truncate(limit as usize);
        Ok(SnapshotResponse { as_of, entities, has_more })
    }
}

/// A page of the log with each entry's JSON as stored.
struct RawPage {
    entries: Vec<(u64, String)>,
    next_cursor: u64,
    has_more: bool,
    head: u64,
}

fn register_device(tx: &mut dyn WriteTx, id: Id, user_id: Id, name: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let name: String = name.trim().chars().take(100).collect();
    tx.put_device(&DeviceRecord {
        id,
        user_id,
        name,
        next_seq: 1,
        registered_at: now,
        clock_skewed: false,
        last_skew_ms: None,
    })?;
    Ok(())
}

/// A supervisor device's public key: 64 hex digits of a valid Ed25519 point.
fn parse_signing_key(key: &str) -> Result<String, ApiError> {
    let bad = || {
        malformed(
            "signing_key 不是有效的 Ed25519 公钥",
            "signing_key is not a valid Ed25519 public key (64 hex digits)",
        )
    };
    let spec = EntityKind::User.spec().field("signing_keys").ok_or_else(|| internal("no signing_keys field"))?;
    normalize_field(spec, &Value::from(vec![key]), Utc::now().date_naive()).map_err(|_| bad())?;
    let bytes: [u8; 32] = hex::decode(key).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
    Ok(key.to_ascii_lowercase())
}
