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
        // Long enough for a full page over a weak mobile link.
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

fn url(base_url: &str, path: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), path)
}

/// Signs in online: registers the device if needed and returns the session.
pub fn login(base_url: &str, request: &LoginRequest) -> Result<Session, SyncError> {
    let client = client()?;
    let response = client
        .post(url(base_url, paths::LOGIN))
        .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .json(request)
        .send()
        .map_err(|e| TransportError::Offline(e.to_string()))?;
    Ok(read::<Session>(response)?.0)
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

pub struct HttpTransport {
    base_url: String,
    client: Client,
    session: Session,
    refreshed: bool,
    bytes_sent: u64,
    bytes_received: u64,
}

impl HttpTransport {
    pub fn new(base_url: &str, session: Session) -> Result<Self, TransportError> {
        Ok(Self {
            base_url: base_url.into(),
            client: client()?,
            session,
            refreshed: false,
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

    fn refresh(&mut self) -> Result<(), TransportError> {
        let body = RefreshRequest { refresh_token: self.session.refresh_token.clone() };
        let response = self
            .client
            .post(url(&self.base_url, paths::REFRESH))
            .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .json(&body)
            .send()
            .map_err(|e| TransportError::Offline(e.to_string()))?;
        self.session = read::<Session>(response)?.0;
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
        self.call(None, |c, base| c.get(url(base, paths::PULL)).query(&query))
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        self.call(None, |c, base| c.get(url(base, paths::CHECKSUM)))
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        self.call(None, |c, base| c.get(url(base, paths::SNAPSHOT)).query(query))
    }
}
