//! The session over HTTP against a real sync server on loopback: refreshed tokens are saved
//! before they are used, a refresh whose reply was lost costs nothing, and plain HTTP to another
//! computer is refused before anything is sent.

use std::time::{Duration, Instant};

use protocol::{LoginRequest, PullQuery, RefreshRequest, Session};
use store::{DbKey, Store};
use sync_client::{HttpTransport, SyncError, Transport, TransportError};
use sync_server::Server;
use test_support::TestClock;
use test_support::world::{PASSWORD, World};

/// The test world on a server over loopback, with a clock the test moves; worker A (`wa`) signs in.
struct Loopback {
    url: String,
    server: Server,
    clock: TestClock,
    _served: test_support::loopback::Loopback,
}

impl Loopback {
    fn start() -> Loopback {
        let storage = test_support::backend::open_test_storage();
        let world = World::with_storage_and_clock(storage, TestClock::system());
        let served = test_support::loopback::Loopback::serve(world.server.clone(), 1);
        Loopback { url: served.url.clone(), server: world.server, clock: world.clock, _served: served }
    }

    /// Moves the server's clock past the access token's lifetime.
    fn expire_access_tokens(&self) {
        self.clock.advance(chrono::Duration::hours(2));
    }

    fn login(&self) -> Session {
        let request = LoginRequest {
            username: "wa".into(),
            password: PASSWORD.into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        };
        sync_client::login(&self.url, &request).expect("signed in")
    }
}

fn pull(transport: &mut HttpTransport) -> Result<protocol::PullResponse, TransportError> {
    transport.pull(PullQuery { after: 0, limit: None })
}

/// A device database that keeps the session as the app does.
fn device_store(dir: &tempfile::TempDir) -> (std::path::PathBuf, DbKey) {
    let path = dir.path().join("wa.db");
    let key = DbKey::random();
    drop(Store::open_with_key(&path, &key).expect("store"));
    (path, key)
}

fn saved_session(path: &std::path::Path, key: &DbKey) -> Option<Session> {
    let store = Store::open_with_key(path, key).expect("store");
    store.session_json().expect("read").and_then(|json| serde_json::from_str(&json).ok())
}

#[test]
fn a_refreshed_session_is_saved_before_its_tokens_are_used_so_quitting_mid_round_loses_nothing() {
    let server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, key) = device_store(&dir);
    let first = server.login();
    server.expire_access_tokens();

    let (save_path, save_key) = (path.clone(), key.clone());
    let mut transport =
        HttpTransport::new(&server.url, first.clone()).expect("transport").with_session_saver(move |session| {
            let json = serde_json::to_string(session).map_err(|e| e.to_string())?;
            let mut store = Store::open_with_key(&save_path, &save_key).map_err(|e| e.to_string())?;
            store.set_session_json(Some(&json)).map_err(|e| e.to_string())
        });
    pull(&mut transport).expect("pulled after a refresh");
    let in_use = transport.session().clone();
    assert_ne!(in_use.refresh_token, first.refresh_token, "the session was refreshed");
    // The app quits here, mid-round: nobody asks the transport for its refreshed session.
    drop(transport);

    let saved = saved_session(&path, &key).expect("a saved session");
    assert_eq!(saved, in_use, "the session in use is the one on disk");
    // After a restart, the saved session works, and so does its next refresh.
    let mut restarted = HttpTransport::new(&server.url, saved.clone()).expect("transport");
    pull(&mut restarted).expect("the saved tokens work");
    let next = server.server.refresh(RefreshRequest { refresh_token: saved.refresh_token }).expect("refreshes");
    assert_ne!(next.refresh_token, in_use.refresh_token);
}

#[test]
fn when_the_refreshed_session_cannot_be_saved_its_tokens_are_not_used() {
    let server = Loopback::start();
    let first = server.login();
    server.expire_access_tokens();
    let mut transport = HttpTransport::new(&server.url, first.clone())
        .expect("transport")
        .with_session_saver(|_| Err("the disk is full".to_string()));
    match pull(&mut transport) {
        Err(TransportError::Api(error)) => assert_eq!(error.code, "session_not_saved"),
        other => panic!("expected session_not_saved, got {other:?}"),
    }
    assert_eq!(transport.session(), &first, "the old session is kept: the new tokens were never used");
    // The next round, with the saved (old) session, still works: the server repeats the refresh.
    let mut next_round = HttpTransport::new(&server.url, first).expect("transport");
    pull(&mut next_round).expect("the device was not revoked");
}

#[test]
fn a_refresh_whose_reply_was_lost_does_not_cost_the_device_its_session() {
    let server = Loopback::start();
    let session = server.login();
    server.expire_access_tokens();
    // The refresh reached the server, but its reply was lost on the way back.
    let _lost = server
        .server
        .refresh(RefreshRequest { refresh_token: session.refresh_token.clone() })
        .expect("the server exchanged the token");
    // The device still holds the old token and refreshes with it again.
    let mut transport = HttpTransport::new(&server.url, session.clone()).expect("transport");
    pull(&mut transport).expect("the device keeps working");
    assert_ne!(transport.session().refresh_token, session.refresh_token);
    let mut later = HttpTransport::new(&server.url, transport.session().clone()).expect("transport");
    pull(&mut later).expect("and keeps working after");
}

#[test]
fn plain_http_to_another_computer_is_refused_before_anything_is_sent() {
    let server = Loopback::start();
    let session = server.login();
    // 192.0.2.0/24 is reserved for documentation: a connection attempt would hang, not fail.
    let remote = "http://192.0.2.10:7878";
    let started = Instant::now();
    match HttpTransport::new(remote, session) {
        Err(TransportError::InsecureServerUrl(error)) => assert!(error.url.starts_with(remote)),
        Err(other) => panic!("expected insecure_server_url, got {other:?}"),
        Ok(_) => panic!("expected insecure_server_url, got a transport"),
    }
    let request = LoginRequest {
        username: "wa".into(),
        password: PASSWORD.into(),
        device_id: None,
        device_name: "laptop".into(),
        signing_key: None,
        signing_key_proof: None,
    };
    let error = sync_client::login(remote, &request).expect_err("refused");
    assert!(matches!(error, SyncError::InsecureServerUrl(_)), "{error:?}");
    assert_eq!(error.code(), "insecure_server_url");
    assert!(started.elapsed() < Duration::from_secs(1), "nothing was sent");
}
