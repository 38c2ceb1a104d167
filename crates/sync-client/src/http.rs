//! The HTTP transport: the sync API over reqwest (blocking: the engine runs on a blocking
//! thread of its own in the app), with the access token refreshed when it expires.
//!
//! Village links are slow and metered, so bodies travel compressed: answers in zstd or gzip
//! (reqwest asks for them and decodes them), pushes in zstd, sent plain instead to a server that
//! shows it does not read zstd (see [`refuses_coding`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use protocol::{
    ApiError, ChecksumResponse, LoginRequest, PullQuery, PullResponse, PushRequest, PushResponse, RefreshRequest,
    Session, SnapshotQuery, SnapshotResponse, codes, paths,
};
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;

use crate::pages::Downloaded;
use crate::{PageFetcher, SyncError, Transport, TransportError};

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

/// Makes the sign-in client in the background (its TLS set-up takes a good part of a tenth of a
/// second), so that a sign-in, which first derives the database key, finds it ready.
pub fn warm_up() {
    let spawned = std::thread::Builder::new().name("sign-in client".into()).spawn(|| {
        if let Err(e) = prompt_client() {
            tracing::debug!(error = %e, "the sign-in client could not be made ahead");
        }
    });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "no thread to make the sign-in client ahead");
    }
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

fn json_body<T: serde::Serialize>(value: &T) -> Result<RequestBody, TransportError> {
    let json =
        serde_json::to_vec(value).map_err(|e| TransportError::Offline(format!("cannot encode the request: {e}")))?;
    Ok(RequestBody { json, zstd: None })
}

/// The zstd level of push bodies: zstd's default, most of what it can save at a fraction of the
/// time the higher levels take.
const PUSH_ZSTD_LEVEL: i32 = 3;

/// A request body: its JSON, and the same compressed with zstd when it is sent so.
struct RequestBody {
    json: Vec<u8>,
    zstd: Option<Vec<u8>>,
}

impl RequestBody {
    /// The body, also compressed with zstd (sent plain when compressing fails: it never should).
    fn compressed(self) -> Self {
        match zstd::bulk::compress(&self.json, PUSH_ZSTD_LEVEL) {
            Ok(zstd) => RequestBody { zstd: Some(zstd), ..self },
            Err(e) => {
                tracing::warn!(error = %e, "a request body could not be compressed; sending it plain");
                self
            }
        }
    }
}

/// Whether the server refused a compressed body for its coding: it answers `unsupported_encoding`
/// (415), or `malformed` (400) without listing zstd in its `Accept-Encoding`, as a server older
/// than compression does when it reads the compressed bytes as JSON. A server that reads zstd
/// lists it on every answer, so its 400 is about what the body says and stays an error (the
/// engine halves the push). Either way nothing was processed: sending again is safe.
fn refuses_coding(response: &Response) -> bool {
    match response.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => true,
        StatusCode::BAD_REQUEST => !reads_zstd(response.headers()),
        _ => false,
    }
}

/// Whether an answer's `Accept-Encoding` lists zstd (with a weight above 0).
fn reads_zstd(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';').map(str::trim);
            let named = parts.next().is_some_and(|coding| coding.eq_ignore_ascii_case("zstd"));
            let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
            named && !refused
        },
    )
}

/// Persists a refreshed session; see [`HttpTransport::with_session_saver`].
pub type SessionSaver = Box<dyn FnMut(&Session) -> Result<(), String> + Send>;

pub struct HttpTransport {
    base_url: String,
    client: Client,
    session: Session,
    refreshed: bool,
    save_session: Option<SessionSaver>,
    /// Whether push bodies go compressed: until the server shows it does not read zstd.
    compress_pushes: bool,
    bytes_sent: u64,
    json_bytes_sent: u64,
    /// Shared with the page fetcher, which counts what it receives too.
    bytes_received: Arc<AtomicU64>,
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
            compress_pushes: true,
            bytes_sent: 0,
            json_bytes_sent: 0,
            bytes_received: Arc::default(),
        })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Bytes of request bodies so far, as they went over the wire (compressed when they were),
    /// headers aside.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }

    /// Bytes of the JSON of request bodies so far, before compression.
    pub fn json_bytes_sent(&self) -> u64 {
        self.json_bytes_sent
    }

    /// Bytes of the JSON of answers so far, as decoded: a compressed answer took fewer on the
    /// wire (reqwest decodes it before the transport sees it; the server can count those).
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    /// Whether pushes still go compressed (false once the server showed it does not read zstd).
    pub fn compresses_pushes(&self) -> bool {
        self.compress_pushes
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
    /// A compressed body the server refuses for its coding is sent again plain, and so are the
    /// pushes after it, for the transport's life.
    fn call<T: DeserializeOwned>(
        &mut self,
        body: Option<RequestBody>,
        build: impl Fn(&Client, &str) -> RequestBuilder,
    ) -> Result<T, TransportError> {
        let mut refreshed = false;
        loop {
            let mut request = build(&self.client, &self.base_url)
                .bearer_auth(&self.session.access_token)
                .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string());
            let compressed = body.as_ref().and_then(|b| b.zstd.as_ref()).filter(|_| self.compress_pushes);
            if let Some(body) = &body {
                let sent = compressed.unwrap_or(&body.json);
                self.bytes_sent += sent.len() as u64;
                self.json_bytes_sent += body.json.len() as u64;
                request = request.header(CONTENT_TYPE, "application/json").body(sent.clone());
                if compressed.is_some() {
                    request = request.header(CONTENT_ENCODING, "zstd");
                }
            }
            let response = request.send().map_err(|e| TransportError::Offline(e.to_string()))?;
            if compressed.is_some() && refuses_coding(&response) {
                tracing::info!(
                    status = response.status().as_u16(),
                    "the server does not read zstd request bodies; sending them plain from now on"
                );
                self.compress_pushes = false;
                continue;
            }
            match read::<T>(response) {
                Err(TransportError::Unauthorized(_)) if !refreshed => {
                    self.refresh()?;
                    refreshed = true;
                }
                Ok((value, size)) => {
                    self.bytes_received.fetch_add(size as u64, Ordering::Relaxed);
                    return Ok(value);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl HttpTransport {
    /// On a station laptop: relays another device's outbox bundle (sync by USB stick) as it is,
    /// and answers the return bundle's bytes with what the server said of it. The laptop reads
    /// neither bundle; the server takes the push as the device's own.
    pub fn relay_bundle(
        &mut self,
        bundle: &[u8],
    ) -> Result<(Vec<u8>, protocol::bundle::BundleRelayResponse), SyncError> {
        let body = json_body(&protocol::bundle::BundleRelayRequest { bundle: protocol::bundle::to_base64(bundle) })?;
        let answer: protocol::bundle::BundleRelayResponse =
            self.call(Some(body), |c, base| c.post(url(base, paths::BUNDLES)))?;
        let bytes = protocol::bundle::from_base64(&answer.bundle)?;
        Ok((bytes, answer))
    }
}

/// A pulled page read leniently: one unreadable entry is left out (and logged), not the whole
/// page.
fn lenient(page: protocol::PullPage) -> PullResponse {
    for seq in &page.unreadable {
        tracing::warn!(server_seq = seq, "a pulled entry could not be read; skipped");
    }
    page.response
}

/// Pulls pages on the fetcher's thread with the session's access token as it was. It never
/// renews the session: an error (an expired token among them) sends the engine back to the
/// transport, which does.
struct HttpPageFetcher {
    base_url: String,
    client: Client,
    access_token: String,
    bytes_received: Arc<AtomicU64>,
}

impl PageFetcher for HttpPageFetcher {
    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        let response = self.get_page(query)?;
        let (page, size) = read::<protocol::PullPage>(response)?;
        self.bytes_received.fetch_add(size as u64, Ordering::Relaxed);
        Ok(lenient(page))
    }

    /// The answer's body, undecoded (the pull's decoding thread reads it with [`decode_page`]);
    /// an error answer is read here, as [`read`] reads it.
    fn download(&mut self, query: PullQuery) -> Result<Downloaded, TransportError> {
        let response = self.get_page(query)?;
        if !response.status().is_success() {
            return read::<protocol::PullPage>(response).map(|(page, _)| Downloaded::Page(lenient(page)));
        }
        let body = response.bytes().map_err(|e| TransportError::Offline(format!("reply cut or unreadable: {e}")))?;
        self.bytes_received.fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok(Downloaded::Body { body: Vec::from(body), decode: decode_page })
    }
}

impl HttpPageFetcher {
    fn get_page(&self, query: PullQuery) -> Result<Response, TransportError> {
        self.client
            .get(url(&self.base_url, paths::PULL))
            .query(&query)
            .bearer_auth(&self.access_token)
            .header(protocol::SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .send()
            .map_err(|e| TransportError::Offline(e.to_string()))
    }
}

/// A pull answer's body read as [`read`] reads a successful one.
fn decode_page(body: &[u8]) -> Result<PullResponse, TransportError> {
    let unreadable = |e: &dyn std::fmt::Display| TransportError::Offline(format!("reply cut or unreadable: {e}"));
    let text = std::str::from_utf8(body).map_err(|e| unreadable(&e))?;
    // `from_json` itself: `PullPage`'s `Deserialize` reads the text once more as a raw value.
    let page = protocol::PullPage::from_json(text).map_err(|e| unreadable(&e))?;
    Ok(lenient(page))
}

impl Transport for HttpTransport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let body = json_body(request)?;
        let body = if self.compress_pushes { body.compressed() } else { body };
        self.call(Some(body), |c, base| c.post(url(base, paths::PUSH)))
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        let page: protocol::PullPage = self.call(None, |c, base| c.get(url(base, paths::PULL)).query(&query))?;
        Ok(lenient(page))
    }

    fn page_fetcher(&mut self) -> Option<Box<dyn PageFetcher>> {
        Some(Box::new(HttpPageFetcher {
            base_url: self.base_url.clone(),
            client: self.client.clone(),
            access_token: self.session.access_token.clone(),
            bytes_received: Arc::clone(&self.bytes_received),
        }))
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

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn reads(listed: &[&'static str]) -> bool {
        let mut headers = HeaderMap::new();
        for value in listed {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_static(value));
        }
        reads_zstd(&headers)
    }

    #[test]
    fn a_server_reads_zstd_only_when_its_answers_list_it() {
        let cases: [(&[&'static str], bool); 8] = [
            (&["zstd, gzip"], true),
            (&["gzip", "ZSTD"], true),
            (&["gzip;q=1, zstd;q=0.5"], true),
            (&[], false),
            (&["gzip"], false),
            (&["zstd;q=0"], false),
            (&["zstd-like"], false),
            (&["identity"], false),
        ];
        for (listed, expected) in cases {
            assert_eq!(reads(listed), expected, "{listed:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a server (or a proxy) puts in the header, reading it never panics, and a
        /// header that does not name zstd never makes the client compress.
        #[test]
        fn any_accept_encoding_header_reads_without_panic(listed in proptest::collection::vec(".{0,200}", 0..4)) {
            let mut headers = HeaderMap::new();
            for value in &listed {
                if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                    headers.append(ACCEPT_ENCODING, value);
                }
            }
            let named = headers
                .get_all(ACCEPT_ENCODING)
                .iter()
                .any(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase().contains("zstd"));
            if !named {
                proptest::prop_assert!(!reads_zstd(&headers));
            }
        }
    }
}
