//! Compressed transfer over a real socket: answers in zstd or gzip when the client accepts them,
//! push bodies read in zstd or gzip, the body limit counted on the decompressed body (a small
//! body that inflates past it is refused, the server serving on), and a coding the server does
//! not read refused with a clear error.

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use common::*;
use domain::field;
use protocol::{ApiError, PullResponse, PushRequest, PushResponse, SCHEMA_HEADER, codes, limits, paths};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};

async fn start(world: &World) -> (String, tokio::sync::oneshot::Sender<()>) {
    serve_on_loopback(world.server.clone()).await
}

/// A client that decodes nothing itself: the test sees the bytes as they travelled.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().no_zstd().no_gzip().timeout(Duration::from_secs(30)).build().expect("client")
}

fn zstd(json: &[u8]) -> Vec<u8> {
    zstd::encode_all(json, 3).expect("zstd")
}

fn gzip(json: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(json).expect("gzip");
    encoder.finish().expect("gzip")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::copy(&mut flate2::read::GzDecoder::new(bytes), &mut out).expect("gunzip");
    out
}

/// A pull page asked for with `accept` as the `Accept-Encoding`: its `Content-Encoding` and its
/// body as it came.
async fn pull_as(client: &reqwest::Client, url: &str, token: &str, accept: &str) -> (Option<String>, Vec<u8>) {
    let response = client
        .get(format!("{url}{}", paths::PULL))
        .bearer_auth(token)
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(ACCEPT_ENCODING, accept)
        .query(&protocol::PullQuery { after: 0, limit: Some(100) })
        .send()
        .await
        .expect("pull sent");
    assert_eq!(response.status(), StatusCode::OK);
    let coding = response.headers().get(CONTENT_ENCODING).map(|v| v.to_str().expect("text").to_owned());
    (coding, response.bytes().await.expect("pull body").to_vec())
}

/// A push body as sent, in `coding` (`None`: plain JSON).
async fn push_as(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
    coding: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(format!("{url}{}", paths::PUSH))
        .bearer_auth(token)
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(coding) = coding {
        request = request.header(CONTENT_ENCODING, coding);
    }
    request.send().await.expect("push sent")
}

async fn push_answer(response: reqwest::Response) -> PushResponse {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a push answer")
}

async fn error_of(response: reqwest::Response) -> ApiError {
    response.json().await.expect("an error body")
}

/// Each result as the status and, for a rejection, its code.
fn outcomes(response: &PushResponse) -> Vec<String> {
    response
        .results
        .iter()
        .map(|result| match &result.outcome {
            protocol::PushOutcome::Accepted { .. } => "accepted".to_owned(),
            protocol::PushOutcome::Rejected { rejection, .. } => format!("rejected {}", rejection.code),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Two recipients and one whose mobile number is wrong, stamped by `device`.
fn batch(world: &World, device: &mut Device, first: u32) -> Vec<u8> {
    let changes = vec![
        device.stamp(recipient(world.station_s, world.village_s, "张三", first).1),
        device.stamp(
            recipient(world.station_s, world.village_s, "李四", first + 1).1.set(field::recipient::PHONE, "123"),
        ),
        device.stamp(recipient(world.station_s, world.village_s, "王五", first + 2).1),
    ];
    serde_json::to_vec(&PushRequest { changes }).expect("json")
}

/// `inflated` bytes of JSON (a push padded with spaces) in `coding`: a few kilobytes on the wire.
fn bomb(coding: &str, inflated: usize) -> Vec<u8> {
    let mut sink: Box<dyn FinishWrite> = match coding {
        "zstd" => Box::new(zstd::stream::Encoder::new(Vec::new(), 3).expect("encoder")),
        _ => Box::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best())),
    };
    sink.write_all(br#"{"changes": [], "padding": ""#).expect("write");
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..inflated / chunk.len() {
        sink.write_all(&chunk).expect("write");
    }
    sink.write_all(br#""}"#).expect("write");
    sink.done()
}

trait FinishWrite: std::io::Write {
    fn done(self: Box<Self>) -> Vec<u8>;
}

impl FinishWrite for zstd::stream::Encoder<'static, Vec<u8>> {
    fn done(self: Box<Self>) -> Vec<u8> {
        self.finish().expect("zstd")
    }
}

impl FinishWrite for flate2::write::GzEncoder<Vec<u8>> {
    fn done(self: Box<Self>) -> Vec<u8> {
        self.finish().expect("gzip")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_page_travels_compressed_when_the_client_accepts_zstd() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let mut worker = world.login("wa");
    worker.send_ok((0..40).map(|n| recipient(world.station_s, world.village_s, "张三", n).1).collect());
    let (url, stop) = start(&world).await;
    let client = raw_client();

    let (plain_coding, plain) = pull_as(&client, &url, worker.token(), "identity").await;
    assert_eq!(plain_coding, None, "asked for no compression, none is used");
    let (coding, compressed) = pull_as(&client, &url, worker.token(), "gzip, zstd").await;
    assert_eq!(coding.as_deref(), Some("zstd"), "zstd is preferred to gzip");
    let decoded = zstd::decode_all(compressed.as_slice()).expect("a zstd body");
    assert_eq!(decoded, plain, "the page decodes to the page sent plain");
    assert!(compressed.len() * 3 < plain.len(), "{} bytes compressed of {}", compressed.len(), plain.len());
    let page: PullResponse = serde_json::from_slice(&decoded).expect("a pull page");
    assert!(page.entries.len() >= 40, "{} entries", page.entries.len());
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_answer_travels_plain_even_when_the_client_accepts_zstd() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let worker = world.login("wa");
    let (url, stop) = start(&world).await;
    let client = raw_client();

    // Nothing more to pull: the page after the head is a few dozen bytes.
    let (_, first) = pull_as(&client, &url, worker.token(), "identity").await;
    let head = serde_json::from_slice::<PullResponse>(&first).expect("a pull page").head;
    let response = client
        .get(format!("{url}{}", paths::PULL))
        .bearer_auth(worker.token())
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(ACCEPT_ENCODING, "gzip, zstd")
        .query(&protocol::PullQuery { after: head, limit: Some(100) })
        .send()
        .await
        .expect("pull sent");
    assert_eq!(response.status(), StatusCode::OK);
    let coding = response.headers().get(CONTENT_ENCODING).cloned();
    let body = response.bytes().await.expect("pull body");
    assert_eq!(coding, None, "{} bytes went compressed", body.len());
    assert!(body.len() < usize::from(sync_server::http::MIN_COMPRESSED_ANSWER), "{} bytes", body.len());
    let page: PullResponse = serde_json::from_slice(&body).expect("a plain pull page");
    assert!(page.entries.is_empty());
    let response = client
        .get(format!("{url}{}", paths::CHECKSUM))
        .bearer_auth(worker.token())
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(ACCEPT_ENCODING, "zstd")
        .send()
        .await
        .expect("checksums asked for");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get(CONTENT_ENCODING), None, "the checksums go plain");
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_page_travels_gzip_when_the_client_accepts_only_gzip() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let mut worker = world.login("wa");
    worker.send_ok((0..10).map(|n| recipient(world.station_s, world.village_s, "张三", n).1).collect());
    let (url, stop) = start(&world).await;
    let client = raw_client();

    let (_, plain) = pull_as(&client, &url, worker.token(), "identity").await;
    let (coding, compressed) = pull_as(&client, &url, worker.token(), "gzip").await;
    assert_eq!(coding.as_deref(), Some("gzip"));
    assert_eq!(gunzip(&compressed), plain);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zstd_push_body_is_accepted_with_the_same_outcome_as_plain() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let (url, stop) = start(&world).await;
    let client = raw_client();
    let mut a = world.login("wa");
    let mut b = world.login("wb");

    let json = batch(&world, &mut a, 0);
    let plain = push_answer(push_as(&client, &url, a.token(), json, None).await).await;
    let json = batch(&world, &mut b, 10);
    let zstd_answer = push_answer(push_as(&client, &url, b.token(), zstd(&json), Some("zstd")).await).await;
    assert_eq!(outcomes(&plain), ["accepted", "rejected mobile", "accepted"]);
    assert_eq!(outcomes(&zstd_answer), outcomes(&plain));
    assert_eq!(zstd_answer.next_expected_seq, plain.next_expected_seq);

    // The same push again, in gzip: the stored answer, so the server read the same changes.
    let gzip_answer = push_answer(push_as(&client, &url, b.token(), gzip(&json), Some("gzip")).await).await;
    assert_eq!(gzip_answer, zstd_answer);
    // Both devices' accepted recipients are in the log, four of them.
    let mut deputy = world.login("ds");
    deputy.sync();
    assert_eq!(deputy.replica.of_kind(domain::entity::EntityKind::Recipient).len(), 4);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_push_that_inflates_past_the_body_limit_is_refused_as_too_large() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(300));
    let world = World::new();
    let (url, stop) = start(&world).await;
    let client = raw_client();
    let mut worker = world.login("wa");

    for coding in ["zstd", "gzip"] {
        let body = bomb(coding, 4 * limits::MAX_BODY_BYTES);
        assert!(body.len() < limits::MAX_BODY_BYTES / 64, "{coding}: {} bytes on the wire", body.len());
        let start = Instant::now();
        let response = push_as(&client, &url, worker.token(), body, Some(coding)).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{coding}");
        let closing = response.headers().get(reqwest::header::CONNECTION).map(|v| v.as_bytes().to_vec());
        assert_eq!(closing.as_deref(), Some(&b"close"[..]), "the connection with an unread body is not used again");
        assert_eq!(error_of(response).await.code, codes::TOO_LARGE, "{coding}");
        assert!(start.elapsed() < Duration::from_secs(30), "{coding}: read no further than the limit");
    }

    // The server serves on, compressed pushes included.
    let health = client.get(format!("{url}{}", paths::HEALTH)).send().await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let json = batch(&world, &mut worker, 0);
    let answer = push_answer(push_as(&client, &url, worker.token(), zstd(&json), Some("zstd")).await).await;
    assert_eq!(outcomes(&answer), ["accepted", "rejected mobile", "accepted"]);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_content_encoding_is_refused_with_a_clear_415() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let (url, stop) = start(&world).await;
    let client = raw_client();
    let mut worker = world.login("wa");
    let json = batch(&world, &mut worker, 0);

    for coding in ["br", "gzip, zstd", "compress", ""] {
        let response = push_as(&client, &url, worker.token(), json.clone(), Some(coding)).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{coding:?}");
        let listed = response.headers().get(ACCEPT_ENCODING).map(|v| v.to_str().expect("text").to_owned());
        assert_eq!(listed.as_deref(), Some("zstd, gzip"), "the answer lists the codings the server reads");
        let error = error_of(response).await;
        assert_eq!(error.code, codes::UNSUPPORTED_ENCODING);
        assert!(error.message_en.contains(coding) && error.message_en.contains("zstd"), "{error:?}");
        assert!(error.message_zh.contains("zstd"), "{error:?}");
    }

    // A body that is not in the coding it names is unreadable: malformed, as any bad body.
    let response = push_as(&client, &url, worker.token(), json.clone(), Some("zstd")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(ACCEPT_ENCODING).is_some(), "a server that reads zstd says so on every answer");
    assert_eq!(error_of(response).await.code, codes::MALFORMED);

    // Names of codings are read whatever their case; and the server serves on.
    let answer = push_answer(push_as(&client, &url, worker.token(), zstd(&json), Some("ZSTD")).await).await;
    assert_eq!(outcomes(&answer), ["accepted", "rejected mobile", "accepted"]);
    let _ = stop.send(());
}
