//! The HTTP layer: status codes and error bodies for bad requests (the server keeps serving),
//! the schema header, and the API over a real socket, plain and with TLS.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use protocol::{
    ApiError, LoginRequest, PullResponse, PushRequest, PushResponse, SCHEMA_HEADER, Session, codes, limits, paths,
};
use serde_json::json;
use tower::ServiceExt;

/// Sends one request through the router; returns the status and the JSON body.
async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
    (status, body)
}

fn post_json(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .body(body.into())
        .expect("request")
}

fn with_token(mut request: Request<Body>, token: &str) -> Request<Body> {
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {token}").parse().expect("header"));
    request
}

fn as_error(body: &serde_json::Value) -> ApiError {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("not an ApiError body ({e}): {body}"))
}

fn login_body(username: &str) -> String {
    serde_json::to_string(&LoginRequest {
        username: username.into(),
        password: PASSWORD.into(),
        device_id: None,
        device_name: "测试笔记本".into(),
        signing_key: None,
        signing_key_proof: None,
    })
    .expect("json")
}

#[tokio::test]
async fn malformed_requests_get_a_clear_400_and_the_server_keeps_serving() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());

    let (status, body) = call(&app, post_json(paths::LOGIN, r#"{"username": "wa", "password": "pass"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = as_error(&body);
    assert_eq!(error.code, codes::MALFORMED);
    assert!(error.message_en.contains("JSON"), "{error:?}");
    assert!(!error.message_zh.is_empty());

    let (status, body) =
        call(&app, post_json(paths::LOGIN, r#"{"username": 5, "password": "x", "device_name": "d"}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(as_error(&body).message_en.contains("username"), "{body}");

    let (status, body) = call(
        &app,
        post_json(paths::LOGIN, r#"{"username": "wa", "password": "x", "device_name": "d", "role": "Admin"}"#),
    )
    .await;
    // A field this server does not know is ignored (a newer client may send one), never acted
    // on: the sign-in is judged on the password alone.
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(as_error(&body).code, codes::BAD_CREDENTIALS);

    let device = world.login("wa");
    let change = json!({
        "change_id": uuid::Uuid::now_v7(), "device_id": device.id(), "device_seq": "one",
        "author_id": world.worker_a, "schema_version": 2, "hlc": "0000000000001.00000.00000000000000000000000000000001",
        "entity": "Recipient", "entity_id": uuid::Uuid::now_v7(), "op": "create", "fields": {}
    });
    let (status, body) =
        call(&app, with_token(post_json(paths::PUSH, json!({ "changes": [change] }).to_string()), device.token()))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(as_error(&body).message_en.contains("device_seq"), "names the field: {body}");

    let mut sneaky = change.clone();
    sneaky["device_seq"] = json!(1);
    sneaky["is_admin"] = json!(true);
    let (status, body) =
        call(&app, with_token(post_json(paths::PUSH, json!({ "changes": [sneaky] }).to_string()), device.token()))
            .await;
    // Ignored, and grants nothing: the change is judged as if it were not there.
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["outcome"]["status"], "rejected", "{body}");

    let no_type = Request::post(paths::LOGIN).body(Body::from(login_body("wa"))).expect("request");
    let (status, body) = call(&app, no_type).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(as_error(&body).message_en.contains("Content-Type"), "{body}");

    let pull = Request::get(format!("{}?after=abc", paths::PULL))
        .header(SCHEMA_HEADER, "2")
        .header(header::AUTHORIZATION, format!("Bearer {}", device.token()))
        .body(Body::empty())
        .expect("request");
    let (status, body) = call(&app, pull).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(as_error(&body).message_en.contains("after"), "{body}");

    // Still serving.
    let (status, body) = call(&app, post_json(paths::LOGIN, login_body("wa"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session: Session = serde_json::from_value(body).expect("a session");
    assert_eq!(session.user_id, world.worker_a);
}

#[tokio::test]
async fn an_oversized_request_is_refused_with_413() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let device = world.login("wa");
    let huge = format!(r#"{{"changes": [], "padding": "{}"}}"#, "x".repeat(limits::MAX_BODY_BYTES));
    let (status, body) = call(&app, with_token(post_json(paths::PUSH, huge), device.token())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(as_error(&body).code, codes::TOO_LARGE);

    let mut tiny = Device::new(world.server.clone(), world.clock.clone(), device.session.clone());
    let changes: Vec<_> = (0..=limits::MAX_PUSH_CHANGES as u32)
        .map(|n| tiny.stamp(recipient(world.station_s, world.village_s, "张三", n).1))
        .collect();
    let body = serde_json::to_string(&PushRequest { changes }).expect("json");
    let (status, body) = call(&app, with_token(post_json(paths::PUSH, body), device.token())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(as_error(&body).code, codes::TOO_LARGE);

    let (status, _) = call(&app, post_json(paths::LOGIN, login_body("wa"))).await;
    assert_eq!(status, StatusCode::OK, "still serving");
}

#[tokio::test]
async fn a_client_too_old_is_told_to_update_with_426() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let device = world.login("wa");
    let old = |request: Request<Body>| {
        let mut request = with_token(request, device.token());
        request.headers_mut().insert(SCHEMA_HEADER, "0".parse().expect("header"));
        request
    };
    let push = old(post_json(paths::PUSH, r#"{"changes": []}"#));
    let (status, body) = call(&app, push).await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    assert_eq!(as_error(&body).code, codes::CLIENT_TOO_OLD);
    let pull = old(Request::get(format!("{}?after=0", paths::PULL)).body(Body::empty()).expect("request"));
    let (status, _) = call(&app, pull).await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    let login = old(post_json(paths::LOGIN, login_body("wa")));
    let (status, _) = call(&app, login).await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    // The schema header is required where changes travel.
    let mut no_header = with_token(post_json(paths::PUSH, r#"{"changes": []}"#), device.token());
    no_header.headers_mut().remove(SCHEMA_HEADER);
    let (status, body) = call(&app, no_header).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(as_error(&body).message_en.contains(SCHEMA_HEADER), "{body}");
}

#[tokio::test]
async fn unauthorized_and_unknown_requests_get_json_errors() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let (status, body) = call(&app, post_json(paths::PUSH, r#"{"changes": []}"#)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_error(&body).code, codes::UNAUTHORIZED);
    let (status, body) = call(&app, with_token(post_json(paths::PUSH, r#"{"changes": []}"#), "forged")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_error(&body).code, codes::UNAUTHORIZED);
    let (status, body) = call(&app, Request::get("/v1/nothing").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    as_error(&body);
    let (status, body) = call(&app, Request::get(paths::PUSH).body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    as_error(&body);
    let (status, body) =
        call(&app, post_json(paths::LOGIN, r#"{"username":"wa","password":"nope","device_name":"d"}"#)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_error(&body).code, codes::BAD_CREDENTIALS);
}

/// `GET /v1/handed-over` and `POST /v1/handed-over/{change_id}`: the offered list as JSON, a
/// decision answered with the item, and bad ids, bodies and tokens answered with their codes.
#[tokio::test]
async fn handed_over_changes_are_listed_and_decided_over_http() {
    use domain::change::Write;
    use domain::entity::EntityKind;
    use domain::field;

    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let mut a = world.login("wa");
    let mut deputy = world.login("ds");
    let b = world.login("wb");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (case, open) = test_support::writes::new_case(world.station_s, person, world.worker_a, opened_on());
    a.send_ok(vec![create, open]);
    a.sync();
    deputy.sync();
    let offline = a.stamp(Write::update(EntityKind::Case, case).set(field::case::PLAN_STRATEGY, "联系家属"));
    deputy.send_ok(vec![Write::update(EntityKind::Case, case).set(field::case::WORKER_ID, world.worker_b.to_string())]);
    assert_eq!(rejected(&a.push(std::slice::from_ref(&offline)).expect("push").results[0]), "not_assigned");

    let get = |token: &str| {
        with_token(
            Request::get(paths::HANDED_OVER)
                .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
                .body(Body::empty())
                .expect("request"),
            token,
        )
    };
    let (status, body) = call(&app, get(b.token())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: protocol::HandedOverResponse = serde_json::from_value(body).expect("a list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].change.change_id, offline.change_id);
    let (_, body) = call(&app, get(a.token())).await;
    assert_eq!(body, json!({ "items": [] }), "not offered back to its author");
    let (status, body) = call(&app, Request::get(paths::HANDED_OVER).body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_error(&body).code, codes::UNAUTHORIZED);

    let path = paths::handed_over_decision(offline.change_id);
    let (status, body) = call(&app, with_token(post_json(&path, r#"{"decision": "taken_over"}"#), b.token())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "taken_over");
    assert_eq!(body["decided_by"], world.worker_b.to_string());
    let (status, body) = call(&app, with_token(post_json(&path, r#"{"decision": "dismissed"}"#), deputy.token())).await;
    assert_eq!((status, &body["state"]), (StatusCode::OK, &json!("taken_over")), "decided once");

    let (status, body) = call(&app, with_token(post_json(&path, r#"{"decision": "maybe"}"#), b.token())).await;
    assert_eq!((status, as_error(&body).code), (StatusCode::BAD_REQUEST, codes::MALFORMED.to_owned()));
    let bad_id = format!("{}/not-an-id", paths::HANDED_OVER);
    let (status, body) = call(&app, with_token(post_json(&bad_id, r#"{"decision": "dismissed"}"#), b.token())).await;
    assert_eq!((status, as_error(&body).code), (StatusCode::BAD_REQUEST, codes::MALFORMED.to_owned()));
    let unknown = paths::handed_over_decision(uuid::Uuid::now_v7());
    let (status, body) = call(&app, with_token(post_json(&unknown, r#"{"decision": "dismissed"}"#), b.token())).await;
    assert_eq!((status, as_error(&body).code), (StatusCode::NOT_FOUND, sync_server::error::NOT_FOUND.to_owned()));
    let worker_c = world.login("wc");
    let (status, body) =
        call(&app, with_token(post_json(&path, r#"{"decision": "dismissed"}"#), worker_c.token())).await;
    assert_eq!((status, as_error(&body).code), (StatusCode::FORBIDDEN, sync_server::error::FORBIDDEN.to_owned()));
}

/// Starts the server on 127.0.0.1:0; returns its base URL and a switch that stops it.
async fn start(
    world: &World,
    tls: Option<sync_server::config::TlsFiles>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = world.server.clone();
    tokio::spawn(async move {
        let listen = "127.0.0.1:0".parse().expect("address");
        let result = sync_server::serve(
            server,
            listen,
            tls,
            move |url| {
                let _ = url_tx.send(url.to_owned());
            },
            async move {
                let _ = stop_rx.await;
            },
        )
        .await;
        if let Err(e) = result {
            panic!("server failed: {e}");
        }
    });
    (url_rx.await.expect("the server reports its address"), stop_tx)
}

/// Signs in, pushes a recipient, pulls it back and reads the checksum, over HTTP.
async fn round_trip(client: &reqwest::Client, url: &str, world: &World) {
    let session: Session = client
        .post(format!("{url}{}", paths::LOGIN))
        .header(SCHEMA_HEADER, "2")
        .json(&serde_json::from_str::<serde_json::Value>(&login_body("wa")).expect("json"))
        .send()
        .await
        .expect("login sent")
        .json()
        .await
        .expect("a session");
    let mut device = Device::new(world.server.clone(), world.clock.clone(), session.clone());
    let (person, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let change = device.stamp(write);
    let pushed: PushResponse = client
        .post(format!("{url}{}", paths::PUSH))
        .bearer_auth(&session.access_token)
        .header(SCHEMA_HEADER, "2")
        .json(&PushRequest { changes: vec![change] })
        .send()
        .await
        .expect("push sent")
        .json()
        .await
        .expect("push answer");
    let seq = accepted(&pushed.results[0]);
    let pulled: PullResponse = client
        .get(format!("{url}{}", paths::PULL))
        .bearer_auth(&session.access_token)
        .header(SCHEMA_HEADER, "2")
        .query(&protocol::PullQuery { after: seq - 1, limit: Some(10) })
        .send()
        .await
        .expect("pull sent")
        .json()
        .await
        .expect("pull answer");
    assert_eq!(pulled.entries.len(), 1);
    assert!(matches!(&pulled.entries[0].item, domain::change::Incoming::Change(c) if c.entity_id == person));
    let checksum = client
        .get(format!("{url}{}", paths::CHECKSUM))
        .bearer_auth(&session.access_token)
        .header(SCHEMA_HEADER, "2")
        .send()
        .await
        .expect("checksum sent");
    assert_eq!(checksum.status(), reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_works_over_a_real_socket() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let world = World::new();
    let (url, stop) = start(&world, None).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");
    let health = client.get(format!("{url}{}", paths::HEALTH)).send().await.expect("health");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    round_trip(&client, &url, &world).await;
    let _ = stop.send(());
}

fn self_signed(dir: &Path) -> (sync_server::config::TlsFiles, Vec<u8>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};

    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "localhost").expect("cn");
    let name = name.build();
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_serial_number(&BigNum::from_u32(1).expect("bn").to_asn1_integer().expect("serial")).expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("not before");
    builder.set_not_after(&Asn1Time::days_from_now(1).expect("time")).expect("not after");
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&builder.x509v3_context(None, None))
        .expect("san");
    builder.append_extension(san).expect("extension");
    builder.sign(&key, MessageDigest::sha256()).expect("signed");
    let cert = builder.build().to_pem().expect("cert pem");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, &cert).expect("write cert");
    std::fs::write(&key_path, key.private_key_to_pem_pkcs8().expect("key pem")).expect("write key");
    (sync_server::config::TlsFiles { cert: cert_path, key: key_path }, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_works_over_tls_with_a_certificate_from_the_configuration() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let world = World::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let (files, cert) = self_signed(dir.path());
    let (url, stop) = start(&world, Some(files)).await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // A client that does not trust the certificate cannot talk to it.
    let untrusting = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");
    assert!(untrusting.get(format!("{url}{}", paths::HEALTH)).send().await.is_err());

    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).expect("certificate"))
        .build()
        .expect("client");
    let health = client.get(format!("{url}{}", paths::HEALTH)).send().await.expect("health over TLS");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    round_trip(&client, &url, &world).await;
    let _ = stop.send(());
}
