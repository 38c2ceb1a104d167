//! Compressed transfer between the real client and the real server on loopback: pushes go in
//! zstd and pull pages come back in zstd, decoded to the same data; against a server that does
//! not read zstd bodies (one answering 415, or one older than compression, which reads the bytes
//! as JSON and answers 400) the client sends its pushes plain from then on, and nothing is set
//! aside.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use common::*;
use sync_server::{Server, ServerSettings};
use test_support::TestClock;
use test_support::world::World;

/// Runs `test` on a thread of its own and fails if it has not finished within `limit`, so a
/// request that hangs fails the test by name instead of stalling the run.
fn within(limit: Duration, test: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    let running = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => running.join().expect("the test's thread"),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("still running after {limit:?}: the test hung"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match running.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the test's thread ended without finishing"),
        },
    }
}

/// The test world's station S on a real server over loopback, its router wrapped by `wrap`.
fn station(wrap: impl FnOnce(axum::Router) -> axum::Router) -> Station {
    let dir = tempfile::tempdir().expect("dir");
    let storage = test_support::backend::TestDatabase::new(&dir.path().join("server")).open();
    let server = Server::new(storage, ServerSettings::default(), sync_server::system_clock());
    let running = Loopback::serve_wrapped(server, 2, wrap);
    let world = World::with_storage_and_clock(running.server.storage().clone(), TestClock::system());
    Station { dir, running, station: world.station_s, village: world.village_s }
}

/// What crossed: the `Content-Encoding` of each push as it arrived, and of each pull page as it
/// left.
#[derive(Default)]
struct Seen {
    pushes: Mutex<Vec<Option<String>>>,
    pulls: Mutex<Vec<Option<String>>>,
}

fn coding(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get(header::CONTENT_ENCODING).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn note(seen: Arc<Seen>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path == protocol::paths::PUSH {
        seen.pushes.lock().expect("lock").push(coding(request.headers()));
    }
    let response = next.run(request).await;
    if path == protocol::paths::PULL {
        seen.pulls.lock().expect("lock").push(coding(response.headers()));
    }
    response
}

/// How the server in front of the real one treats a compressed request body.
#[derive(Clone, Copy)]
enum Refusal {
    /// Answers `unsupported_encoding` (415), the body unread.
    Unsupported,
    /// Reads it as JSON, as a server older than compression does (so `malformed`, 400), and
    /// lists no codings on its answers.
    OlderServer,
}

async fn refuse(refusal: Refusal, encoded: Arc<AtomicUsize>, mut request: Request, next: Next) -> Response {
    let compressed = request.headers().contains_key(header::CONTENT_ENCODING);
    if compressed {
        encoded.fetch_add(1, Ordering::SeqCst);
    }
    match refusal {
        Refusal::Unsupported if compressed => {
            let error = protocol::ApiError::new(protocol::codes::UNSUPPORTED_ENCODING, "不支持", "not supported");
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                [(header::CONNECTION, HeaderValue::from_static("close"))],
                axum::Json(error),
            )
                .into_response()
        }
        Refusal::Unsupported => next.run(request).await,
        Refusal::OlderServer => {
            request.headers_mut().remove(header::CONTENT_ENCODING);
            let mut response = next.run(request).await;
            response.headers_mut().remove(header::ACCEPT_ENCODING);
            response
        }
    }
}

#[test]
fn pushes_travel_in_zstd_and_pull_pages_come_back_in_zstd_decoded_to_the_same_data() {
    within(Duration::from_secs(180), || {
        let seen = Arc::new(Seen::default());
        let noted = seen.clone();
        let station = station(move |router| {
            router.layer(axum::middleware::from_fn(move |request, next| note(noted.clone(), request, next)))
        });
        let mut a = station.device("wa", "a");
        let mut b = station.device("wb", "b");
        let people: Vec<_> = (0..30).map(|n| a.add_recipient("张三", n)).collect();

        let mut engine = a.engine();
        let report = engine.sync_once(&mut a.store, |_| {}).expect("a round");
        assert_eq!(report.accepted, 30);
        let transport = engine.transport();
        assert!(transport.compresses_pushes());
        assert!(
            transport.bytes_sent() * 3 < transport.json_bytes_sent(),
            "{} bytes sent for {} bytes of JSON",
            transport.bytes_sent(),
            transport.json_bytes_sent()
        );

        let report = b.sync().expect("b's round");
        assert!(report.verified, "b holds exactly the station's data");
        assert!(people.iter().all(|person| b.has(*person)));
        let pushes = seen.pushes.lock().expect("lock").clone();
        assert_eq!(pushes, [Some("zstd".to_owned())]);
        let pulls = seen.pulls.lock().expect("lock").clone();
        assert!(!pulls.is_empty() && pulls.iter().all(|c| c.as_deref() == Some("zstd")), "{pulls:?}");
    });
}

/// A device records, syncs, records again and syncs again with one transport, against a server
/// that refuses compressed bodies as `refusal` says: everything arrives, one push went
/// compressed, and nothing was set aside.
fn falls_back_to_plain_pushes(refusal: Refusal) {
    let encoded = Arc::new(AtomicUsize::new(0));
    let counted = encoded.clone();
    let station = station(move |router| {
        router.layer(axum::middleware::from_fn(move |request, next| refuse(refusal, counted.clone(), request, next)))
    });
    let mut a = station.device("wa", "a");
    let mut b = station.device("wb", "b");
    let mut engine = a.engine();
    let first: Vec<_> = (0..5).map(|n| a.add_recipient("张三", n)).collect();
    let report = engine.sync_once(&mut a.store, |_| {}).expect("the first round");
    assert_eq!(report.accepted, 5);
    assert!(!engine.transport().compresses_pushes(), "the transport remembers the server does not read zstd");
    let second: Vec<_> = (5..10).map(|n| a.add_recipient("李四", n)).collect();
    let report = engine.sync_once(&mut a.store, |_| {}).expect("the second round");
    assert_eq!(report.accepted, 5);

    assert_eq!(encoded.load(Ordering::SeqCst), 1, "one compressed push, then plain ones");
    assert_eq!(a.store.set_aside_count().expect("count"), 0, "nothing set aside");
    assert_eq!(a.store.pending_count().expect("count"), 0, "nothing left waiting");
    b.sync().expect("b's round");
    assert!(first.iter().chain(&second).all(|person| b.has(*person)));
}

#[test]
fn pushes_fall_back_to_plain_json_against_a_server_that_answers_415() {
    within(Duration::from_secs(180), || falls_back_to_plain_pushes(Refusal::Unsupported));
}

#[test]
fn pushes_fall_back_to_plain_json_against_a_server_older_than_compression() {
    within(Duration::from_secs(180), || falls_back_to_plain_pushes(Refusal::OlderServer));
}
