//! What keeps a station's sync going through the unusual: a device that reuses a sequence
//! number (its database went back in time, or was cloned), stamps no clock can make, clients
//! newer and older than the server within one schema version, a server restored from a backup
//! (its generation), and requests that never finish.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use domain::entity::EntityKind;
use domain::field;
use domain::hlc::Hlc;
use http_body_util::BodyExt;
use protocol::{PullQuery, PushOutcome, SCHEMA_HEADER, paths};
use serde_json::json;
use sync_server::{Server, ServerSettings};
use test_support::backend::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

#[test]
fn another_change_under_a_number_already_used_is_answered_sequence_reused_and_nothing_after_it_runs() {
    let world = World::new();
    let mut device = world.login("wa");
    let (_, first) = recipient(world.station_s, world.village_s, "张三", 1);
    let original = device.stamp(first);
    device.push(std::slice::from_ref(&original)).expect("push");

    // The laptop's database went back to before that push: it numbers its next writes 1 and 2.
    device.next_seq = 1;
    let (reused_id, again) = recipient(world.station_s, world.village_s, "李四", 2);
    let (after_id, after) = recipient(world.station_s, world.village_s, "王五", 3);
    let changes = vec![device.stamp(again), device.stamp(after)];
    let response = device.push(&changes).expect("push");

    assert_eq!(response.results[0].outcome, PushOutcome::SequenceReused { expected: 2 });
    assert_eq!(response.results[0].change_id, changes[0].change_id);
    assert_eq!(response.results[1].outcome, PushOutcome::Gap { expected: 2 });
    assert_eq!(response.next_expected_seq, 2);
    assert!(world.state(EntityKind::Recipient, reused_id).is_none(), "not taken for a resend");
    assert!(world.state(EntityKind::Recipient, after_id).is_none(), "nothing after it processed");

    // The original, resent, still gets its own stored answer.
    let resent = device.push(std::slice::from_ref(&original)).expect("push");
    assert!(matches!(resent.results[0].outcome, PushOutcome::Accepted { .. }), "{resent:?}");
    // Renumbered after the server's number, both go through.
    let mut renumbered = changes.clone();
    renumbered[0].device_seq = 2;
    renumbered[1].device_seq = 3;
    let response = device.push(&renumbered).expect("push");
    assert!(response.results.iter().all(|r| matches!(r.outcome, PushOutcome::Accepted { .. })), "{response:?}");
}

#[test]
fn extreme_stamps_cannot_wedge_the_station() {
    let world = World::new();
    let mut rogue = world.login("wa");
    let mut other = world.login("wb");
    let now = world.clock.millis();

    // The largest counter a stamp holds, and the largest milliseconds (a clock set to the year
    // 144,000): the first is taken, the second clamped.
    let (_, a) = recipient(world.station_s, world.village_s, "张三", 1);
    let mut big_counter = rogue.stamp(a);
    big_counter.hlc = Hlc::new(now, Hlc::MAX_COUNTER, rogue.id());
    let (_, b) = recipient(world.station_s, world.village_s, "李四", 2);
    let mut far_future = rogue.stamp(b);
    far_future.hlc = Hlc::new(Hlc::MAX_MILLIS, Hlc::MAX_COUNTER, rogue.id());
    // Beyond what a stamp can hold (only a client that skips parsing can send it): refused.
    let (beyond_id, c) = recipient(world.station_s, world.village_s, "王五", 3);
    let mut beyond = rogue.stamp(c);
    beyond.hlc = Hlc::new(now, Hlc::MAX_COUNTER + 1, rogue.id());
    let response = rogue.push(&[big_counter, far_future, beyond]).expect("push");
    assert!(matches!(response.results[0].outcome, PushOutcome::Accepted { effective_hlc: None, .. }), "{response:?}");
    let PushOutcome::Accepted { effective_hlc: Some(clamped), .. } = response.results[1].outcome else {
        panic!("clamped: {response:?}");
    };
    assert!(clamped.millis <= now + 1 && clamped.is_valid(), "{clamped}");
    assert_eq!(rejected(&response.results[2]), "hlc_counter_out_of_range");
    assert!(world.state(EntityKind::Recipient, beyond_id).is_none());

    // Everyone goes on: the server's own stamps, other devices' pushes and pulls.
    world.server.admin().create_village(world.station_s, world.point_s, "后来的村").expect("the server still writes");
    let (_, d) = recipient(world.station_s, world.village_s, "赵六", 4);
    other.send_ok(vec![d]);
    let pulled = other.sync();
    assert!(!pulled.is_empty());
    let head = world.log_head();
    let page = world.server.pull(other.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: Some(5000) });
    let page = page.expect("a full pull still reads");
    assert_eq!(page.next_cursor, head);
    let json = world
        .server
        .pull_json(other.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: Some(5000) })
        .expect("pull json");
    let back: protocol::PullResponse = serde_json::from_str(&json).expect("every stamp in the log parses");
    assert_eq!(back.entries.len(), page.entries.len());
    let (_, e) = recipient(world.station_s, world.village_s, "孙七", 5);
    rogue.send_ok(vec![e]);
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
    (status, body)
}

fn post(path: &str, token: Option<&str>, body: serde_json::Value) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string());
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_string())).expect("request")
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn a_newer_client_with_extra_fields_and_an_older_one_without_the_optional_ones_both_sync() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());

    // Newer: fields this server does not know, in every request body and in a change.
    let (status, session) = call(
        &app,
        post(
            paths::LOGIN,
            None,
            json!({ "username": "wa", "password": PASSWORD, "device_name": "新版笔记本",
                    "device_id": null, "attestation": { "kind": "tpm" }, "locale": "zh-CN" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["access_token"].as_str().expect("token").to_owned();
    let device = session["device_id"].as_str().expect("device").to_owned();
    let user = session["user_id"].as_str().expect("user").to_owned();
    let hlc = |n: u64| format!("{:013x}.00000.{}", world.clock.millis() + n, device.replace('-', ""));
    let (id, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let fields: serde_json::Value =
        write.fields.iter().map(|(k, w)| (k.clone(), json!({ "value": w.value, "confidence": 1.0 }))).collect();
    let newer_change = json!({
        "change_id": uuid::Uuid::now_v7(), "device_id": device, "device_seq": 1, "author_id": user,
        "schema_version": domain::SCHEMA_VERSION, "hlc": hlc(0), "entity": "Recipient", "entity_id": id,
        "op": "create", "fields": fields, "origin": "quick-entry"
    });
    let (status, body) =
        call(&app, post(paths::PUSH, Some(&token), json!({ "changes": [newer_change], "compression": "none" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["outcome"]["status"], "accepted", "{body}");

    // Older: only the fields of the first release of this schema version.
    let (status, session) = call(
        &app,
        post(paths::LOGIN, None, json!({ "username": "wb", "password": PASSWORD, "device_name": "旧版笔记本" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["access_token"].as_str().expect("token").to_owned();
    let device = session["device_id"].as_str().expect("device").to_owned();
    let user = session["user_id"].as_str().expect("user").to_owned();
    let older_change = json!({
        "change_id": uuid::Uuid::now_v7(), "device_id": device, "device_seq": 1, "author_id": user,
        "schema_version": domain::SCHEMA_VERSION,
        "hlc": format!("{:013x}.00000.{}", world.clock.millis(), device.replace('-', "")),
        "entity": "Recipient", "entity_id": id, "op": "update",
        "fields": { "phone": "13800138000" }
    });
    let (status, body) = call(&app, post(paths::PUSH, Some(&token), json!({ "changes": [older_change] }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["outcome"]["status"], "accepted", "{body}");
    let (status, body) = call(&app, get(&format!("{}?after=0", paths::PULL), &token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["entries"].as_array().is_some_and(|e| !e.is_empty()));
    let (status, body) = call(&app, get(&format!("{}?after=0&limit=5&since_hint=3", paths::PULL), &token)).await;
    assert_eq!(status, StatusCode::OK, "an extra query parameter is ignored too: {body}");
    assert_eq!(
        world.state(EntityKind::Recipient, id).expect("held").get_str(field::recipient::PHONE),
        Some("13800138000")
    );
}

#[test]
fn pulls_and_checksums_carry_the_generation_and_a_restored_database_gets_a_new_one() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::new(&dir.path().join("server"));
    let world = World::with_storage(database.open());
    let mut device = world.login("wa");
    let page = world.server.pull(device.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    let generation = page.expect("pull").generation.expect("a generation");
    assert_eq!(generation.len(), 32);
    assert_eq!(world.server.checksum(device.token()).expect("checksum").generation.as_deref(), Some(&*generation));
    let json = world
        .server
        .pull_json(device.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: Some(1) })
        .expect("pull json");
    let parsed: protocol::PullResponse = serde_json::from_str(&json).expect("json");
    assert_eq!(parsed.generation.as_deref(), Some(&*generation));
    device.send_ok(vec![recipient(world.station_s, world.village_s, "张三", 1).1]);

    // The restore procedure: the backup put back, then a new generation. The backup is a
    // consistent copy, as a backup tool makes one (SQLite: `VACUUM INTO`; PostgreSQL: a copy
    // read in one snapshot, as pg_dump reads).
    let backup = TestDatabase::new(&dir.path().join("backup"));
    if backup.is_postgres() {
        database.copy_to(&backup);
    } else {
        std::fs::create_dir_all(dir.path().join("backup")).expect("backup dir");
        rusqlite::Connection::open(database.sqlite_path())
            .expect("open")
            .execute("VACUUM INTO ?1", [backup.sqlite_path().to_string_lossy()])
            .expect("a consistent copy, as a backup tool makes");
    }
    let restored = Server::new(backup.open(), ServerSettings::default(), world.clock.wall());
    assert_eq!(restored.admin().generation().expect("read").as_deref(), Some(&*generation), "a copy is the same");
    let fresh = restored.admin().new_generation().expect("new generation");
    assert_ne!(fresh, generation);
    let page = restored.pull(device.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert_eq!(page.expect("pull").generation.as_deref(), Some(&*fresh));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_never_finishes_is_answered_408_and_let_go() {
    let world = World::new();
    let settings = ServerSettings { request_timeout: Duration::from_millis(300), ..ServerSettings::default() };
    let server = Server::new(world.server.storage().clone(), settings, world.clock.wall());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let router = sync_server::router(server);
    let serving = tokio::spawn(async move { axum::serve(listener, router).await });

    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{SCHEMA_HEADER}: 2\r\nContent-Length: 1000\r\n\r\n{{\"username\":",
        paths::LOGIN
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.expect("read");
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("request_timeout") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered within the test's deadline");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    serving.abort();
}

#[test]
fn stamps_of_a_laptops_old_device_id_are_translated_after_it_became_a_new_device() {
    let world = World::new();
    let old = world.login("wa");
    let mut new = world.login("wa");
    assert_ne!(old.id(), new.id());
    // Made before the laptop became a new device (stamped under its old id, its clock a day
    // ahead), sent by the new device: the creation is clamped, and the edit on top of it names
    // the original stamp as its base.
    let far = world.clock.millis() + 86_400_000;
    let (id, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let mut create = new.stamp(write);
    create.hlc = Hlc::new(far, 0, old.id());
    let mut edit =
        new.stamp(domain::change::Write::update(EntityKind::Recipient, id).set(field::recipient::PHONE, "13800138000"));
    edit.hlc = Hlc::new(far, 1, old.id());
    if let Some(phone) = edit.fields.get_mut(field::recipient::PHONE) {
        phone.base = Some(create.hlc);
    }
    let response = new.push(&[create, edit]).expect("push");
    let PushOutcome::Accepted { effective_hlc: Some(clamped), .. } = response.results[0].outcome else {
        panic!("clamped: {response:?}");
    };
    assert!(matches!(response.results[1].outcome, PushOutcome::Accepted { .. }), "{response:?}");
    let state = world.state(EntityKind::Recipient, id).expect("held");
    assert_eq!(state.clock(field::recipient::PHONE).base, Some(clamped), "the base is the stamp the server used");
    let conflicts = world.server.storage().read().expect("read").conflicts(id).expect("conflicts");
    assert!(
        conflicts.iter().all(|c| c.lost.is_none()),
        "an edit on top of its own creation is no conflict: {conflicts:?}"
    );
}
