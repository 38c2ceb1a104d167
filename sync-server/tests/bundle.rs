//! `POST /v1/bundles`: a station laptop relays a device's outbox bundle (sync by USB stick). The
//! push is the device's, under its user as the server records them and the same rules; the
//! return bundle opens only with the device's secret.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use common::*;
use domain::change::Change;
use http_body_util::BodyExt;
use protocol::bundle::{BundleRelayRequest, OutboxBundle, ReturnBundle, to_base64};
use protocol::{PushOutcome, PushRequest, SCHEMA_HEADER, codes, paths};
use tower::ServiceExt;
use uuid::Uuid;

fn secret(device: &Device) -> String {
    device.session.device_secret.clone().expect("the sign-in gave the recovery secret")
}

/// The device's outbox bundle of these changes, claiming to be `user_id`'s.
fn bundle(device: &Device, user_id: Uuid, changes: Vec<Change>) -> Vec<u8> {
    OutboxBundle {
        bundle_id: Uuid::now_v7(),
        device_id: device.id(),
        user_id,
        created_at: Utc::now(),
        push: PushRequest { changes },
        pull_after: 0,
    }
    .seal(&secret(device))
    .expect("sealed")
}

fn relay(world: &World, relayer: &Device, bytes: &[u8]) -> Result<ReturnBundle, protocol::ApiError> {
    let request = BundleRelayRequest { bundle: to_base64(bytes) };
    let answer = world.server.relay_bundle(relayer.token(), domain::SCHEMA_VERSION, request)?;
    let bytes = protocol::bundle::from_base64(&answer.bundle).expect("base64");
    Ok(ReturnBundle::open(&bytes, answer.device_id, &device_secret(world, answer.device_id)).expect("opens"))
}

/// The recovery secret the device holds (the relaying laptop never has it).
fn device_secret(world: &World, device_id: Uuid) -> String {
    world.server.storage().read().expect("read").device_secret(device_id).expect("secret").expect("known")
}

/// Sends one request through the router: the status and the error code of the answer.
async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("answered");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice::<protocol::ApiError>(&body).map(|e| e.code).unwrap_or_default())
}

#[test]
fn a_relayed_bundle_is_pushed_as_its_device_under_its_users_own_role_and_the_same_rules() {
    let world = World::new();
    let mut village = world.login("wa");
    let station_laptop = world.login("wb");
    let (own, in_station_s) = recipient(world.station_s, world.village_s, "张三", 1);
    let (_, in_station_t) = recipient(world.station_t, world.village_t, "李四", 2);
    let changes = vec![village.stamp(in_station_s), village.stamp(in_station_t)];

    // The bundle says it is the administrator's: the server goes by its own record of the device.
    let answer = relay(&world, &station_laptop, &bundle(&village, world.admin, changes)).expect("relayed");
    let outcomes: Vec<&PushOutcome> = answer.push.results.iter().map(|r| &r.outcome).collect();
    assert!(matches!(outcomes[0], PushOutcome::Accepted { .. }), "{outcomes:?}");
    assert!(matches!(outcomes[1], PushOutcome::Rejected { .. }), "another station's recipient: {outcomes:?}");
    assert!(world.state(domain::entity::EntityKind::Recipient, own).is_some());
    let pulled = answer.pages.iter().flat_map(|p| &p.entries).count();
    assert!(pulled > 0, "the pages after the device's cursor came back");
    assert_eq!(answer.pages.first().and_then(|p| p.after), Some(0));
}

#[test]
fn a_bundle_relayed_again_gets_the_stored_answers_and_logs_nothing() {
    let world = World::new();
    let mut village = world.login("wa");
    let station_laptop = world.login("wb");
    let (_, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let change = village.stamp(write);
    let bytes = bundle(&village, village.user(), vec![change]);
    let first = relay(&world, &station_laptop, &bytes).expect("relayed");
    let head = world.log_head();
    let again = world
        .server
        .relay_bundle(station_laptop.token(), domain::SCHEMA_VERSION, BundleRelayRequest { bundle: to_base64(&bytes) })
        .expect("relayed again");
    assert_eq!((again.changes, again.answered_before), (1, 1));
    assert_eq!(world.log_head(), head);
    assert_eq!(relay(&world, &station_laptop, &bytes).expect("and again").push.results, first.push.results);
}

#[tokio::test]
async fn the_endpoint_needs_a_signed_in_user_and_names_what_is_wrong_with_the_bundle() {
    let world = World::new();
    let station_laptop = world.login("wb");
    let app = sync_server::router(world.server.clone());
    let post = |token: Option<&str>, body: String| {
        let mut request = Request::post(paths::BUNDLES)
            .header(header::CONTENT_TYPE, "application/json")
            .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string());
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Body::from(body)).expect("request")
    };
    let garbage = serde_json::json!({ "bundle": to_base64(b"not a bundle at all") }).to_string();

    assert_eq!(call(&app, post(None, garbage.clone())).await, (StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED.into()));
    assert_eq!(
        call(&app, post(Some(station_laptop.token()), garbage)).await,
        (StatusCode::BAD_REQUEST, codes::BUNDLE_MALFORMED.into())
    );
    let not_base64 = serde_json::json!({ "bundle": "§§§" }).to_string();
    assert_eq!(
        call(&app, post(Some(station_laptop.token()), not_base64)).await,
        (StatusCode::BAD_REQUEST, codes::BUNDLE_MALFORMED.into())
    );
}
