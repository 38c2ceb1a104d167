//! The server's logs carry ids, never a person's data (issue 15, operations): a bureau's IT
//! reads and ships them, so a name, an ID number, a phone number, a password or a token in them
//! would leak what the station keeps encrypted. Its own test binary: the log capture is the
//! process's global subscriber (the server logs from blocking threads too).

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use domain::field;
use http_body_util::BodyExt;
use protocol::{LoginRequest, PullResponse, PushRequest, SCHEMA_HEADER, Session, paths};
use tower::ServiceExt;

/// Everything logged, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    (status, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn with_schema(builder: axum::http::request::Builder) -> axum::http::request::Builder {
    builder.header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
}

#[tokio::test]
async fn a_login_push_and_pull_leave_no_personal_data_or_secret_in_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let world = World::new();
    let app = sync_server::router(world.server.clone());

    let login = LoginRequest {
        username: "wa".into(),
        password: PASSWORD.into(),
        device_id: None,
        device_name: "王阿姨的笔记本".into(),
        signing_key: None,
        signing_key_proof: None,
    };
    let request = with_schema(Request::post(paths::LOGIN))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_string(&login).expect("json")))
        .expect("request");
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let session: Session = serde_json::from_slice(&body).expect("a session");

    let name = "欧阳秀英";
    let phone = "13912345678";
    let (_, write) = recipient(world.station_s, world.village_s, name, 3);
    let id_number = write.fields[field::recipient::ID_NUMBER].value.as_str().expect("an ID number").to_owned();
    let write = write.set(field::recipient::PHONE, phone);
    let mut device = Device::new(world.server.clone(), world.clock.clone(), session.clone());
    let push = PushRequest { changes: vec![device.stamp(write)] };
    let request = with_schema(Request::post(paths::PUSH))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {}", session.access_token))
        .body(Body::from(serde_json::to_string(&push).expect("json")))
        .expect("request");
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("accepted"), "the recipient is stored");

    let request = with_schema(Request::get(format!("{}?after=0", paths::PULL)))
        .header(header::AUTHORIZATION, format!("Bearer {}", session.access_token))
        .body(Body::empty())
        .expect("request");
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    let page: PullResponse = serde_json::from_slice(&body).expect("a pull page");
    let pulled = serde_json::to_string(&page.entries).expect("json");
    assert!(pulled.contains(name) && pulled.contains(phone), "the pull carries the personal data the log must not");

    let logs = captured.text();
    // The logs are there, and they name the request, the user and the device by id.
    assert!(logs.contains("request_id="), "{logs}");
    assert!(logs.contains("push answered") && logs.contains("pull answered"), "{logs}");
    assert!(logs.contains(&session.user_id.to_string()) && logs.contains(&session.device_id.to_string()), "{logs}");
    for (what, secret) in [
        ("the name", name),
        ("the ID number", id_number.as_str()),
        ("the phone number", phone),
        ("the password", PASSWORD),
        ("the access token", session.access_token.as_str()),
        ("the refresh token", session.refresh_token.as_str()),
        ("the device's name", "王阿姨的笔记本"),
    ] {
        assert!(!logs.contains(secret), "{what} is in the logs:\n{logs}");
    }
}
