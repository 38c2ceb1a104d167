//! [`Server`]: the sync API as plain, synchronous methods. The HTTP handlers call them on
//! blocking threads; the deterministic simulation calls them directly, with its own clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::change::{FieldWrite, Incoming, Op};
use domain::entity::EntityKind;
use domain::org::{Role, RoleKind, User};
use domain::validate::normalize_field;
use domain::{Id, field};
use protocol::{
    ApiError, ChecksumResponse, LoginRequest, PullEntry, PullQuery, PullResponse, PushRequest, PushResponse,
    RefreshRequest, Session, SnapshotQuery, SnapshotResponse, StationChecksum, limits,
};
use serde_json::Value;
use uuid::Uuid;

use crate::admin::Admin;
use crate::auth::{new_device_secret, new_token, token_hash, verify_nothing, verify_password};
use crate::batch::{Batch, SYSTEM_USER_ID};
use crate::error::{bad_credentials, check_client_schema, forbidden, internal, malformed, token_expired, unauthorized};
use crate::scope::{actor_of, reach_of};
use crate::signin::{LoginLimits, MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES, SignInGuard};
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
    /// Sign-in throttling and the bound on password hashing.
    pub login: LoginLimits,
    /// The longest the HTTP layer works on one request, from its first byte until the answer
    /// is ready (a slow client's body included): past it the request is answered
    /// `request_timeout` (HTTP 408) and its connection's resources are freed. A push whose
    /// transaction was already under way still commits; the device's resend gets its answer.
    pub request_timeout: std::time::Duration,
    /// Who may read `GET /metrics`.
    pub metrics: crate::metrics::MetricsAccess,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::hours(1),
            refresh_token_ttl: Duration::days(30),
            max_clock_ahead: Duration::minutes(5),
            future_date_slack_days: 2,
            login: LoginLimits::default(),
            request_timeout: std::time::Duration::from_secs(120),
            metrics: crate::metrics::MetricsAccess::Local,
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
    signin: SignInGuard,
    metrics: crate::metrics::Metrics,
    /// Pushes waiting to be written in one group (`group_commit.rs`).
    pushes: PushQueue,
}

type PushQueue = crate::group_commit::GroupQueue<crate::push::PushJob, Result<crate::push::Pushed, ApiError>>;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

/// Checks a bearer token: known, an access token, unused, unexpired, of a device that was not
/// revoked (`device_revoked`), of a user still active (`account_deactivated`).
pub(crate) fn authenticate(tx: &dyn ReadTx, bearer: &str, now: DateTime<Utc>) -> Result<TokenRecord, ApiError> {
    authenticate_as(tx, bearer, now, false)
}

/// [`authenticate`] for a push, which a revoked device's hand-over token may also make, and a
/// deactivated user too: their changes are then refused one by one (`no_role`) and kept on the
/// server with their payload, so nothing they typed is lost.
pub(crate) fn authenticate_push(tx: &dyn ReadTx, bearer: &str, now: DateTime<Utc>) -> Result<TokenRecord, ApiError> {
    authenticate_as(tx, bearer, now, true)
}

fn authenticate_as(tx: &dyn ReadTx, bearer: &str, now: DateTime<Utc>, for_push: bool) -> Result<TokenRecord, ApiError> {
    let invalid = || unauthorized("登录凭证无效，请重新登录", "the access token is not valid; sign in again");
    let (token, revoked_at) = tx.token_with_revocation(&token_hash(bearer))?.ok_or_else(invalid)?;
    let revoked = revoked_at.is_some();
    let usable = match token.kind {
        TokenKind::Access => !revoked,
        TokenKind::Handover => revoked && for_push,
        TokenKind::Refresh => false,
    };
    if !usable || token.used {
        // Whatever token a revoked device shows, it learns that it was revoked.
        return Err(if revoked { device_revoked() } else { invalid() });
    }
    if token.expires_at <= now {
        return Err(token_expired());
    }
    if !for_push && !user_active(tx, token.user_id)? {
        return Err(account_deactivated());
    }
    Ok(token)
}

/// Whether the server's record of the user says they are active.
pub(crate) fn user_active(tx: &dyn ReadTx, user_id: Id) -> Result<bool, ApiError> {
    Ok(tx
        .entity(EntityKind::User, user_id)?
        .is_some_and(|record| record.state.get(field::user::ACTIVE).and_then(Value::as_bool).unwrap_or(false)))
}

pub(crate) fn account_deactivated() -> ApiError {
    ApiError::new(
        protocol::codes::ACCOUNT_DEACTIVATED,
        "该账号已停用，本机将不再保留其数据；如有疑问请联系管理员",
        "this account has been deactivated: its devices drop their data and it can no longer sign in; ask the administrator",
    )
}

pub(crate) fn key_proof_invalid() -> ApiError {
    ApiError::new(
        protocol::codes::KEY_PROOF_INVALID,
        "签名公钥的持有证明无效，未登记该公钥",
        "the proof of possession of the signing key is not valid; the key was not registered",
    )
}

pub(crate) fn device_revoked() -> ApiError {
    ApiError::new(
        protocol::codes::DEVICE_REVOKED,
        "管理员已停用本机：未发送的工作会交给服务器，随后本机数据将被清除",
        "an administrator revoked this device: it hands over its unsent work, then its local data is wiped",
    )
}

impl Server {
    pub fn new(storage: Arc<dyn Storage>, settings: ServerSettings, clock: WallClock) -> Self {
        Self {
            inner: Arc::new(Inner {
                storage,
                settings,
                clock,
                signin: SignInGuard::default(),
                metrics: crate::metrics::Metrics::default(),
                pushes: PushQueue::default(),
            }),
        }
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

    pub(crate) fn push_queue(&self) -> &PushQueue {
        &self.inner.pushes
    }

    /// The counters and histograms the HTTP layer and the push and pull paths feed.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The metrics as a scrape reads them, if [`ServerSettings::metrics`] lets this caller
    /// (bearer token, client address) read them; the storage gauges are counted now.
    pub fn metrics_text(&self, bearer: Option<&str>, addr: Option<IpAddr>) -> Result<String, ApiError> {
        self.settings().metrics.check(bearer, addr)?;
        let tx = self.storage().read()?;
        let (conflicts, handed_over) = (tx.open_conflict_count()?, tx.handed_over_offered_count()?);
        drop(tx);
        self.metrics().encode(conflicts, handed_over)
    }

    /// Signs a user in on a device. Registers the device when it is new to the server (or not
    /// this user's), and for a supervisor, registers the device's signing key.
    pub fn login(&self, request: LoginRequest) -> Result<Session, ApiError> {
        self.login_from(request, None)
    }

    /// [`Server::login`] from a client address (what the HTTP layer knows): failed sign-ins
    /// are counted per username and per address, and too many lock them for a while.
    pub fn login_from(&self, request: LoginRequest, addr: Option<IpAddr>) -> Result<Session, ApiError> {
        let username = request.username.trim();
        if username.is_empty() {
            return Err(malformed("用户名不能为空", "username is required"));
        }
        if username.len() > MAX_USERNAME_BYTES {
            return Err(malformed("用户名过长", format!("the username is longer than {MAX_USERNAME_BYTES} bytes")));
        }
        // No username holds one; and PostgreSQL's text cannot hold a NUL, so looking one up
        // there would fail where SQLite answers: both answer this instead.
        if username.chars().any(char::is_control) {
            return Err(malformed("用户名含有控制字符", "the username contains control characters"));
        }
        if request.password.len() > MAX_PASSWORD_BYTES {
            return Err(malformed("密码过长", format!("the password is longer than {MAX_PASSWORD_BYTES} bytes")));
        }
        let signing_key = match request.signing_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Some(parse_signing_key(key)?),
            None => None,
        };
        let limits = &self.settings().login;
        let guard = &self.inner.signin;
        guard.check(username, addr, self.now())?;
        let credentials = self.storage().read()?.credentials(username)?;
        let verified = {
            let _permit = guard.hash_permit(limits)?;
            match &credentials {
                Some(credentials) => verify_password(&credentials.password_hash, &request.password),
                None => {
                    verify_nothing(&request.password);
                    false
                }
            }
        };
        let credentials = match credentials {
            Some(credentials) if verified => credentials,
            _ => {
                let locked = guard.failed(limits, username, addr, self.now());
                return Err(locked.unwrap_or_else(bad_credentials));
            }
        };
        guard.succeeded(username);

        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let user_state = batch
            .read()
            .entity(EntityKind::User, credentials.user_id)?
            .ok_or_else(|| internal(format!("credentials without a user record: {}", credentials.user_id)))?
            .state;
        let user = user_state.to_typed::<User>().map_err(internal)?;
        if !user.active {
            return Err(account_deactivated());
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

        // A key is registered only with a proof that the device holds its secret, made for this
        // user and the device id sent. Without one (an older client) the key is not registered;
        // a wrong one refuses the sign-in.
        let proof = request.signing_key_proof.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let signing_key = match (signing_key, proof) {
            (Some(key), Some(proof)) => {
                let signed_for = request.device_id.unwrap_or(Uuid::nil());
                if domain::signoff::verify_key_proof(user.id, signed_for, &key, proof).is_err() {
                    tracing::warn!(user = %user.id, device = %signed_for, "a signing key with a wrong proof of possession");
                    return Err(key_proof_invalid());
                }
                Some(key)
            }
            (Some(_), None) => {
                tracing::warn!(user = %user.id, "a signing key without a proof of possession; not registered");
                None
            }
            (None, _) => None,
        };
        let mut user_state = user_state;
        if let Some(key) = signing_key
            && user.role == RoleKind::Supervisor
            && !user.signing_keys.contains(&key)
        {
            let mut keys = user.signing_keys.clone();
            keys.push(key);
            let fields = BTreeMap::from([(field::user::SIGNING_KEYS.to_owned(), FieldWrite::new(Value::from(keys)))]);
            let change = batch.server_change(SYSTEM_USER_ID, EntityKind::User, user.id, Op::Update, fields)?;
            batch.apply(&change)?;
            user_state =
                batch.read().entity(EntityKind::User, user.id)?.ok_or_else(|| internal("user record vanished"))?.state;
        }
        // Other sessions of the device stay valid: the app revokes the one it replaces itself
        // (`logout`), and two copies of one laptop (a cloned image) must not knock each other
        // out at every sign-in.
        let device_secret = match batch.read().device_secret(device_id)? {
            Some(secret) => secret,
            None => {
                let secret = new_device_secret();
                batch.tx.put_device_secret(device_id, &secret)?;
                secret
            }
        };
        let mut session = self.issue_session(&mut *batch.tx, user_state, device_id, now)?;
        session.device_secret = Some(device_secret);
        batch.finish()?;
        tracing::info!(user = %session.user_id, device = %session.device_id, "signed in");
        Ok(session)
    }

    /// Exchanges a refresh token for a new session. Each refresh token is exchanged once; when it
    /// is presented again:
    /// - if the session it was exchanged for was never used (its refresh token never exchanged in
    ///   turn), the reply was lost (or the app quit before saving it): that unused session is
    ///   revoked and a new one issued, so the device carries on;
    /// - if that session's refresh token was exchanged already, two parties hold the device's
    ///   tokens: it was copied, and every token of that user on that device is revoked;
    /// - a token revoked otherwise (a new sign-in, a sign-out, a password change) is refused.
    pub fn refresh(&self, request: RefreshRequest) -> Result<Session, ApiError> {
        let invalid = || unauthorized("登录凭证无效，请重新登录", "the refresh token is not valid; sign in again");
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let token = batch.read().token(&token_hash(&request.refresh_token))?.ok_or_else(invalid)?;
        if token.kind != TokenKind::Refresh {
            return Err(invalid());
        }
        if batch.read().device_revoked_at(token.device_id)?.is_some() {
            return Err(device_revoked());
        }
        if token.used {
            if !batch.read().token_exchanged(&token.hash)? {
                return Err(unauthorized("登录凭证已失效，请重新登录", "the refresh token was revoked; sign in again"));
            }
            let successors = batch.read().refresh_children(&token.hash)?;
            if successors.iter().any(|(_, exchanged)| *exchanged) {
                tracing::warn!(user = %token.user_id, device = %token.device_id, "refresh token replayed after its successor was used; revoking the device's tokens");
                batch.tx.revoke_tokens(token.user_id, Some(token.device_id))?;
                batch.finish()?;
                return Err(unauthorized(
                    "登录凭证已被使用过，请重新登录",
                    "the refresh token was already used; sign in again",
                ));
            }
            if !successors.iter().any(|(successor, _)| !successor.used) {
                // Its session was revoked since (a new sign-in, a sign-out): nothing to repeat.
                return Err(unauthorized("登录凭证已失效，请重新登录", "the refresh token was revoked; sign in again"));
            }
            tracing::info!(user = %token.user_id, device = %token.device_id, "refresh repeated (a lost reply); the unused session is replaced");
        }
        if token.expires_at <= now {
            return Err(token_expired());
        }
        let user = batch.read().entity(EntityKind::User, token.user_id)?.ok_or_else(invalid)?.state;
        if !user.get(field::user::ACTIVE).and_then(Value::as_bool).unwrap_or(false) {
            return Err(account_deactivated());
        }
        if token.used {
            batch.tx.revoke_token_children(&token.hash)?;
        } else {
            batch.tx.mark_token_exchanged(&token.hash)?;
        }
        let session = self.issue_session(&mut *batch.tx, user, token.device_id, now)?;
        batch.tx.set_token_parent(&token_hash(&session.refresh_token), &token.hash)?;
        batch.finish()?;
        Ok(session)
    }

    /// A revoked device hands over its unsent work: its last refresh token (unused, unexpired)
    /// buys a session whose access token is a hand-over token, which pushes — checked with the
    /// same rules, as the user's current role allows — and does nothing else. The refresh token
    /// is not used up: a device cut off mid-hand-over asks again, for as long as that token would
    /// have lived. A device that was not revoked refreshes as usual instead.
    pub fn handover(&self, request: protocol::HandoverRequest) -> Result<Session, ApiError> {
        let invalid = || unauthorized("登录凭证无效，请重新登录", "the refresh token is not valid; sign in again");
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let token = batch.read().token(&token_hash(&request.refresh_token))?.ok_or_else(invalid)?;
        if token.kind != TokenKind::Refresh || token.used {
            return Err(invalid());
        }
        if batch.read().device_revoked_at(token.device_id)?.is_none() {
            return Err(unauthorized("本机未被停用，请正常刷新登录", "this device is not revoked; refresh as usual"));
        }
        if token.expires_at <= now {
            return Err(token_expired());
        }
        let user = batch.read().entity(EntityKind::User, token.user_id)?.ok_or_else(invalid)?.state;
        let settings = self.settings();
        let access_token = new_token();
        let access_expires_at = now + settings.access_token_ttl;
        batch.tx.put_token(&TokenRecord {
            hash: token_hash(&access_token),
            kind: TokenKind::Handover,
            user_id: token.user_id,
            device_id: token.device_id,
            expires_at: access_expires_at,
            used: false,
        })?;
        batch.finish()?;
        tracing::info!(user = %token.user_id, device = %token.device_id, "a revoked device hands over its work");
        let session = Session {
            user_id: token.user_id,
            device_id: token.device_id,
            access_token,
            access_expires_at,
            refresh_token: request.refresh_token,
            refresh_expires_at: token.expires_at,
            user,
            server_time: now,
            device_secret: None,
        };
        Ok(session)
    }

    /// Revokes a device: every token of it stops working at once (`device_revoked`); it may
    /// still hand over its unsent work ([`Server::handover`]). Returns whether the device is known.
    pub fn revoke_device(&self, device_id: Id) -> Result<bool, ApiError> {
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        if batch.read().device(device_id)?.is_none() || device_id == batch.server_device_id() {
            return Ok(false);
        }
        let now = batch.now;
        batch.tx.revoke_device(device_id, now)?;
        batch.finish()?;
        tracing::warn!(device = %device_id, "device revoked");
        Ok(true)
    }

    /// Ends the session this refresh token belongs to (whatever its state): the token, the
    /// access token issued with it, and the sessions it was exchanged for since (a refresh whose
    /// reply was lost) are revoked. Other sessions of the device (a copy of the laptop, signed in
    /// on its own) stay. Answers the same when called again.
    pub fn logout(&self, request: protocol::LogoutRequest) -> Result<(), ApiError> {
        let invalid = || unauthorized("登录凭证无效", "the refresh token is not valid");
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let token = batch.read().token(&token_hash(&request.refresh_token))?.ok_or_else(invalid)?;
        if token.kind != TokenKind::Refresh {
            return Err(invalid());
        }
        if !token.used {
            batch.tx.mark_token_used(&token.hash)?;
        }
        batch.tx.revoke_token_children(&token.hash)?;
        batch.finish()?;
        tracing::info!(user = %token.user_id, device = %token.device_id, "signed out");
        Ok(())
    }

    /// Registers a new device for the signed-in user and answers its session: the device the
    /// token belongs to found that another laptop pushes under its id (a cloned image), and
    /// becomes a new device with its unsent work. The old device's tokens stay valid for the
    /// other copy.
    pub fn new_device(&self, bearer: &str, request: protocol::NewDeviceRequest) -> Result<Session, ApiError> {
        let mut batch = Batch::begin(self.storage().as_ref(), self.now())?;
        let now = batch.now;
        let token = authenticate(batch.read(), bearer, now)?;
        let user = batch
            .read()
            .entity(EntityKind::User, token.user_id)?
            .ok_or_else(|| unauthorized("登录凭证无效，请重新登录", "the access token is not valid; sign in again"))?
            .state;
        if !user.get(field::user::ACTIVE).and_then(Value::as_bool).unwrap_or(false) {
            return Err(unauthorized("该账号已停用", "this account is disabled"));
        }
        let id = Uuid::now_v7();
        register_device(&mut *batch.tx, id, user.id, &request.device_name, now)?;
        let session = self.issue_session(&mut *batch.tx, user, id, now)?;
        batch.finish()?;
        tracing::warn!(user = %session.user_id, from = %token.device_id, device = %id, "a cloned device became a new one");
        Ok(session)
    }

    pub(crate) fn issue_session(
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
        // The access token belongs to its refresh token's session (revoked with it).
        tx.set_token_parent(&token_hash(&access_token), &token_hash(&refresh_token))?;
        Ok(Session {
            user_id: user.id,
            device_id,
            access_token,
            access_expires_at,
            refresh_token,
            refresh_expires_at,
            user,
            server_time: now,
            device_secret: None,
        })
    }

    pub fn push(&self, bearer: &str, client_schema: u32, request: PushRequest) -> Result<PushResponse, ApiError> {
        crate::push::push(self, bearer, client_schema, request)
    }

    /// Relays a device's outbox bundle (sync by USB stick) for the signed-in station laptop:
    /// pushed as that device, answered with its return bundle (see `bundle.rs`).
    pub fn relay_bundle(
        &self,
        bearer: &str,
        client_schema: u32,
        request: protocol::bundle::BundleRelayRequest,
    ) -> Result<protocol::bundle::BundleRelayResponse, ApiError> {
        crate::bundle::relay(self, bearer, client_schema, request)
    }

    /// The changes refused because their case had been reassigned meanwhile that this user may
    /// take over or dismiss (the case's current worker, a deputy head of its station).
    pub fn handed_over(&self, bearer: &str) -> Result<protocol::HandedOverResponse, ApiError> {
        crate::handover::offered(self, bearer)
    }

    /// Records this user's decision on a handed-over change, once; answers the change as it
    /// stands.
    pub fn decide_handed_over(
        &self,
        bearer: &str,
        change_id: Id,
        request: protocol::HandOverDecisionRequest,
    ) -> Result<protocol::HandedOverItem, ApiError> {
        crate::handover::decide(self, bearer, change_id, request)
    }

    /// A page of the log after `query.after`, in the order the server committed it, holding
    /// only what this user's devices may hold.
    pub fn pull(&self, bearer: &str, client_schema: u32, query: PullQuery) -> Result<PullResponse, ApiError> {
        let page = self.pull_page(bearer, client_schema, query)?;
        page.into_response()
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
        let _ =
            write!(out, "],\"next_cursor\":{},\"has_more\":{},\"head\":{}", page.next_cursor, page.has_more, page.head);
        let _ = write!(out, ",\"after\":{}", page.after);
        if let Some(generation) = &page.generation {
            let _ = write!(out, ",\"generation\":{}", serde_json::Value::from(generation.as_str()));
        }
        out.push('}');
        Ok(out)
    }

    fn pull_page(&self, bearer: &str, client_schema: u32, query: PullQuery) -> Result<RawPage, ApiError> {
        check_client_schema(client_schema)?;
        // The token on its own, then the head and the page in one snapshot (`page_for`).
        let tx = self.storage().read_one()?;
        let token = authenticate(&*tx, bearer, self.now())?;
        self.page_for(&*tx, token.user_id, token.device_id, query)
    }

    /// A page of the log for `user_id`'s devices as [`Server::pull`] answers it, without a
    /// token: for a device whose outbox bundle a station laptop relays (`bundle.rs`).
    pub(crate) fn pull_for(&self, user_id: Id, device_id: Id, query: PullQuery) -> Result<PullResponse, ApiError> {
        let tx = self.storage().read()?;
        let page = self.page_for(&*tx, user_id, device_id, query)?;
        drop(tx);
        page.into_response()
    }

    fn page_for(&self, tx: &dyn ReadTx, user_id: Id, device_id: Id, query: PullQuery) -> Result<RawPage, ApiError> {
        let limit = query.limit.unwrap_or(limits::DEFAULT_PULL_LIMIT).clamp(1, limits::MAX_PULL_LIMIT);
        let actor = actor_of(tx, user_id)?;
        let scope = crate::storage::LogScope { user_id: actor.user_id, reach: reach_of(&actor) };
        // Head and page from one snapshot: nothing committed in between can be skipped.
        let (head, mut entries) = tx.log_head_and_page_json(&scope, query.after, limit + 1)?;
        self.metrics().pull_lag(head, query.after);
        let has_more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next_cursor = match (has_more, entries.last()) {
            (true, Some(last)) => last.0,
            _ => head,
        };
        let generation = tx.meta(META_GENERATION)?;
        tracing::info!(user = %user_id, device = %device_id, after = query.after, head,
            entries = entries.len(), "pull answered");
        Ok(RawPage { entries, next_cursor, has_more, head, generation, after: query.after })
    }

    /// Per station in the user's scope, the checksum of what the user's devices should hold.
    pub fn checksum(&self, bearer: &str) -> Result<ChecksumResponse, ApiError> {
        let tx = self.storage().read_one()?;
        let token = authenticate(&*tx, bearer, self.now())?;
        let actor = actor_of(&*tx, token.user_id)?;
        let mut stations = Vec::new();
        let reach = reach_of(&actor);
        let scope = match &reach {
            Reach::Stations { stations, .. } | Reach::Supervision { stations } => Some(stations.clone()),
            Reach::Nothing => Some(Vec::new()),
            Reach::Organisation => None,
        };
        let (as_of, generation) = match &reach {
            // The head and the accumulators from one snapshot, in one call.
            Reach::Stations { stations: ids, own_cases_of } => {
                let (as_of, accumulators) = tx.log_head_and_accumulators(ids)?;
                for (station_id, acc) in ids.iter().zip(accumulators) {
                    let cases = match own_cases_of {
                        Some(worker) => acc.cases.get(worker).copied().unwrap_or(0),
                        None => acc.cases.values().fold(0, |a, v| a ^ v),
                    };
                    stations.push(StationChecksum {
                        station_id: *station_id,
                        checksum: format!("{:016x}", acc.roster ^ cases),
                    });
                }
                (as_of, tx.meta(META_GENERATION)?)
            }
            // Many reads that must agree with the head: a transaction of their own (the first
            // one ended first: SQLite in memory has one connection).
            Reach::Supervision { stations: ids } => {
                drop(tx);
                let tx = self.storage().read()?;
                let as_of = tx.log_head()?;
                for station_id in ids {
                    let checksum = crate::scope::supervision_checksum(&*tx, *station_id, &reach)?;
                    stations.push(StationChecksum { station_id: *station_id, checksum: format!("{checksum:016x}") });
                }
                (as_of, tx.meta(META_GENERATION)?)
            }
            Reach::Nothing | Reach::Organisation => (tx.log_head()?, tx.meta(META_GENERATION)?),
        };
        Ok(ChecksumResponse { as_of, stations, scope, generation })
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
            (Reach::Stations { stations, .. } | Reach::Supervision { stations }, _) => {
                stations.contains(&query.station)
            }
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
    generation: Option<String>,
    after: u64,
}

impl RawPage {
    fn into_response(self) -> Result<PullResponse, ApiError> {
        let entries = self
            .entries
            .into_iter()
            .map(|(server_seq, item)| {
                let item = serde_json::from_str::<Incoming>(&item)
                    .map_err(|e| internal(format!("log entry {server_seq} unreadable: {e}")))?;
                Ok(PullEntry { server_seq, item })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(PullResponse {
            entries,
            next_cursor: self.next_cursor,
            has_more: self.has_more,
            head: self.head,
            generation: self.generation,
            after: Some(self.after),
        })
    }
}

/// The meta key of the database's generation (migration 0004; see [`crate::admin::Admin::new_generation`]).
pub(crate) const META_GENERATION: &str = "generation";

pub(crate) fn register_device(
    tx: &mut dyn WriteTx,
    id: Id,
    user_id: Id,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    // A label to show: control characters go (PostgreSQL's text cannot hold a NUL at all).
    let name: String = name.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(100).collect();
    let name = name.trim_end().to_owned();
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
    let spec =
        EntityKind::User.spec().field(field::user::SIGNING_KEYS).ok_or_else(|| internal("no signing_keys field"))?;
    normalize_field(spec, &Value::from(vec![key]), Utc::now().date_naive()).map_err(|_| bad())?;
    let bytes: [u8; 32] = hex::decode(key).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
    Ok(key.to_ascii_lowercase())
}
