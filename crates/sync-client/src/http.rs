//! The HTTP transport: the sync API over reqwest (blocking: the engine runs on a blocking
//! thread of its own in the app), with the access token refreshed when it expires.

use std::sync::OnceLock;
use std::time::Duration;

use protocol::{
    ApiError, ChecksumResponse, LoginRequest, PullQuery, PullResponse, PushRequest, PushResponse, RefreshRequest,
    Session, SnapshotQuery, SnapshotResponse, codes, paths,
};
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::{SyncError, Transport, TransportError};

/// The HTTP client, made once per process and shared (a clone is a handle to the same client):
/// making one loads the system's root certificates, tens of milliseconds, which each sign-in
/// and each sync round would otherwise pay again.
fn client() -> Result<Client, TransportError> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(5))
        // Long enough for a full page over a weak mobile link; a request never waits longer
        // (a stalled server or link ends as offline, and the round tries again later).
        .timeout(Duration::from_secs(120))
        // A connection whose other end vanished (a laptop lid closed, a NAT that forgot it) is
        // noticed instead of waiting on it.
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

fn url(base_url: &str, path: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), path)
}

/// Refuses plain HTTP to a server on another computer unless allowed (see [`crate::server_url`]).
/// The address checked is one as requested, so the base URL cannot hide another host.
fn check_base_url(base_url: &str) -> Result<(), TransportError> {
    crate::server_url::check_server_url(&url(base_url, paths::HEALTH), crate::server_url::insecure_http_allowed())
        .map_err(TransportError::InsecureServerUrl)
}

/// How long a sign-in waits for the connection to the server before it goes on offline.
pub const SIGN_IN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Signs in online: registers the device if needed and returns the session.
pub fn login(base_url: &str, request: &LoginRequest) -> Result<Session, SyncError> {
    login_with(&client()?, base_url, request)
}

/// [`login`], giving up after [`SIGN_IN_CONNECT_TIMEOUT`] when the server does not answer the
/// connection: a sign-in with the local database is not held up long by an absent network.
pub fn login_promptly(base_url: &str, request: &LoginRequest) -> Result<Session, SyncError> {
    login_with(&prompt_client()?, base_url, request)
}

fn login_with(client: &Client, base_url: &str, request: &LoginRequest) -> Result<Session, SyncError> {
    check_base_url(base_url)?;
    let response = client
        .post(url(base_url, paths::LOGIN))
        .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .json(request)
        .send()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    Ok(read::<Session>(response)?.0)
}

/// Ends the session on the server: every token of this device is revoked (best-effort for the
/// caller, which forgets the session whatever the answer).
pub fn logout(base_url: &str, refresh_token: &str) -> Result<(), SyncError> {
    check_base_url(base_url)?;
    let body = protocol::LogoutRequest { refresh_token: refresh_token.to_string() };
    let response = prompt_client()?
        .post(url(base_url, paths::LOGOUT))
        .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .json(&body)
        .send()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    read::<serde_json::Value>(response)?;
    Ok(())
}

/// A client for sign-in and sign-out, made once per process: a short connect timeout.
fn prompt_client() -> Result<Client, TransportError> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = Client::builder()
        .connect_timeout(SIGN_IN_CONNECT_TIMEOUT)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// Reads a JSON body (returning it with its size in bytes), or turns an error status into the
/// transport's error.
fn read<T: DeserializeOwned>(response: Response) -> Result<(T, usize), TransportError> {
    let status = response.status();
    let cut = |e: reqwest::Error| TransportError::Offline(format!("reply cut or unreadable: {e}"));
    let body = response.bytes().map_err(cut)?;
    if status.is_success() {
        // UTF-8 checked once for the whole body, not string by string as `from_slice` would.
        let text =
            std::str::from_utf8(&body).map_err(|e| TransportError::Offline(format!("reply cut or unreadable: {e}")))?;
        let value = serde_json::from_str::<T>(text)
            .map_err(|e| TransportError::Offline(format!("reply cut or unreadable: {e}")))?;
        return Ok((value, body.len()));
    }
    let error = serde_json::from_slice::<ApiError>(&body).unwrap_or_else(|_| {
        ApiError::new(&format!("http_{}", status.as_u16()), "服务器返回错误", format!("server answered {status}"))
    });
    Err(match status {
        StatusCode::UNAUTHORIZED => TransportError::Unauthorized(error.code),
        StatusCode::UPGRADE_REQUIRED => TransportError::ClientTooOld,
        _ if error.code == codes::CLIENT_TOO_OLD => TransportError::ClientTooOld,
        _ => TransportError::Api(error),
    })
}

fn json_body<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, TransportError> {
    serde_json::to_vec(value).map_err(|e| TransportError::Offline(format!("cannot encode the request: {e}")))
}

/// Persists a refreshed session; see [`HttpTransport::with_session_saver`].
pub type SessionSaver = Box<dyn FnMut(&Session) -> Result<(), String> + Send>;

pub struct HttpTransport {
    base_url: String,
    client: Client,
    session: Session,
    refreshed: bool,
    save_session: Option<SessionSaver>,
    bytes_sent: u64,
    bytes_received: u64,
}

impl HttpTransport {
    /// A transport to the server at `base_url` (refused when it is plain HTTP to another
    /// computer and that is not allowed).
    pub fn new(base_url: &str, session: Session) -> Result<Self, TransportError> {
        check_base_url(base_url)?;
        Ok(Self {
            base_url: base_url.into(),
            client: client()?,
            session,
            refreshed: false,
            save_session: None,
            bytes_sent: 0,
            bytes_received: 0,
        })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Bytes of request and response bodies so far: what went over the wire, headers aside.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }

    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// The session, if it was refreshed since the last call: the caller persists it.
    pub fn take_refreshed_session(&mut self) -> Option<Session> {
        std::mem::take(&mut self.refreshed).then(|| self.session.clone())
    }

    /// Has every refreshed session persisted by `save` before any request uses it: refresh
    /// tokens work once, so one held only in memory is lost when the app quits mid-round. When
    /// `save` fails, the new tokens are not used (the round stops; the next one refreshes again
    /// with the saved token, which the server answers with a new session).
    pub fn with_session_saver(mut self, save: impl FnMut(&Session) -> Result<(), String> + Send + 'static) -> Self {
        self.save_session = Some(Box::new(save));
        self
    }

    fn refresh(&mut self) -> Result<(), TransportError> {
        let body = RefreshRequest { refresh_token: self.session.refresh_token.clone() };
        let response = self
            .client
            .post(url(&self.base_url, paths::REFRESH))
            .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .json(&body)
            .send()
            .map_err(|e| TransportError::Offline(e.to_string()))?;
        let fresh = read::<Session>(response)?.0;
        if let Some(save) = self.save_session.as_mut()
            && let Err(e) = save(&fresh)
        {
            tracing::error!(error = %e, "the refreshed session could not be saved; its tokens are not used");
            return Err(TransportError::Api(ApiError::new(
                "session_not_saved",
                "无法在本机保存新的登录凭证，本次同步已停止，稍后会重试",
                "the renewed sign-in could not be saved on this computer; this sync stopped and will be retried",
            )));
        }
        self.session = fresh;
        self.refreshed = true;
        Ok(())
    }

    /// Sends a request with the access token; on an expired token, refreshes once and retries.
    fn call<T: DeserializeOwned>(
        &mut self,
        body: Option<Vec<u8>>,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<T, TransportError> {
        for attempt in 0..2 {
            let mut request = build(&self.client, &self.base_url)
                .bearer_auth(&self.session.access_token)
                .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string());
            if let Some(body) = &body {
                self.bytes_sent += body.len() as u64;
                request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
            }
            let response = request.send().map_err(|e| TransportError::Offline(e.to_string()))?;
            match read::<T>(response) {
                Err(TransportError::Unauthorized(_)) if attempt == 0 => self.refresh()?,
                Ok((value, size)) => {
                    self.bytes_received += size as u64;
                    return Ok(value);
                }
                Err(e) => return Err(e),
            }
        }
        Err(TransportError::Unauthorized(codes::TOKEN_EXPIRED.into()))
    }
}

impl Transport for HttpTransport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let body = json_body(request)?;
        self.call(Some(body), |c, base| c.post(url(base, paths::PUSH)))
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        // Read leniently: one unreadable entry is left out (and logged), not the whole page.
        let page: protocol::PullPage = self.call(None, |c, base| c.get(url(base, paths::PULL)).query(&query))?;
        for seq in &page.unreadable {
            tracing::warn!(server_seq = seq, "a pulled entry could not be read; skipped");
        }
        Ok(page.response)
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        self.call(None, |c, base| c.get(url(base, paths::CHECKSUM)))
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        self.call(None, |c, base| c.get(url(base, paths::SNAPSHOT)).query(query))
    }

    fn handed_over(&mut self) -> Result<Option<protocol::HandedOverResponse>, TransportError> {
        self.call(None, |c, base| c.get(url(base, paths::HANDED_OVER))).map(Some)
    }

    fn decide_handed_over(
        &mut self,
        change_id: uuid::Uuid,
        request: &protocol::HandOverDecisionRequest,
    ) -> Result<Option<protocol::HandedOverItem>, TransportError> {
        let body = json_body(request)?;
        let path = paths::handed_over_decision(change_id);
        self.call(Some(body), move |c, base| c.post(url(base, &path))).map(Some)
    }

    fn device_id(&self) -> Option<uuid::Uuid> {
        Some(self.session.device_id)
    }

    fn new_device(&mut self) -> Result<Option<Session>, TransportError> {
        let name = format!("{} (副本)", self.session.device_id.simple());
        let body = json_body(&protocol::NewDeviceRequest { device_name: name })?;
        let fresh: Session = self.call(Some(body), |c, base| c.post(url(base, paths::NEW_DEVICE)))?;
        if let Some(save) = self.save_session.as_mut()
            && let Err(e) = save(&fresh)
        {
            tracing::error!(error = %e, "the new device's session could not be saved; staying the old device");
            return Ok(None);
        }
        self.session = fresh.clone();
        self.refreshed = true;
        Ok(Some(fresh))
    }

    fn hand_over(&mut self) -> Result<(), TransportError> {
        let body = protocol::HandoverRequest { refresh_token: self.session.refresh_token.clone() };
        let response = self
            .client
            .post(url(&self.base_url, paths::HANDOVER))
            .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .json(&body)
            .send()
            .map_err(|e| TransportError::Offline(e.to_string()))?;
        let handover = read::<Session>(response)?.0;
        if let Some(save) = self.save_session.as_mut()
            && let Err(e) = save(&handover)
        {
            tracing::warn!(error = %e, "the hand-over session could not be saved; using it for this round only");
        }
        self.session = handover;
        self.refreshed = true;
        Ok(())
    }
}
