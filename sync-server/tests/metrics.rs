//! `GET /metrics`: what a county bureau's monitoring reads (issue 15, operations). The counters
//! move as pushes are answered, the lag histogram sees how far behind pulls are, and a scrape
//! only answers to whom the configuration lets read it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use protocol::{PushRequest, SCHEMA_HEADER, codes, paths};
use sync_server::{MetricsAccess, Server, ServerSettings, config::Secret, error::FORBIDDEN};
use tower::ServiceExt;

/// Sends one request through the router; the status, the content type and the body as text.
async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, content_type, String::from_utf8_lossy(&bytes).into_owned())
}

fn scrape(bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::get(sync_server::metrics::PATH);
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).expect("request")
}

fn push_request(token: &str, request: &PushRequest) -> Request<Body> {
    Request::post(paths::PUSH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(serde_json::to_string(request).expect("json")))
        .expect("request")
}

fn pull_request(token: &str, after: u64) -> Request<Body> {
    Request::get(format!("{}?after={after}", paths::PULL))
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

/// The value of one sample (`name{labels}` exactly as the exposition writes it), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
}

/// A second server on the world's storage, whose metrics only this bearer token reads.
fn token_protected(world: &World, token: &str) -> Server {
    let settings = ServerSettings { metrics: MetricsAccess::Token(Secret::new(token)), ..ServerSettings::default() };
    Server::new(world.server.storage().clone(), settings, world.clock.wall())
}

#[tokio::test]
async fn accepted_and_refused_changes_are_counted_once_each_by_refusal_code() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let mut device = world.login("wa");
    let mut changes: Vec<_> =
        (0..2).map(|n| device.stamp(recipient(world.station_s, world.village_s, "张三", n).1)).collect();
    let mut forged = device.stamp(recipient(world.station_s, world.village_s, "李四", 7).1);
    forged.device_id = uuid::Uuid::now_v7();
    changes.push(forged);
    let push = PushRequest { changes };

    let (status, _, body) = call(&app, push_request(device.token(), &push)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same push again (a lost reply): answered from what is stored, counted no more.
    let (status, _, _) = call(&app, push_request(device.token(), &push)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, content_type, text) = call(&app, scrape(None)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    assert_eq!(sample(&text, "shegong_sync_changes_accepted_total"), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"shegong_sync_changes_refused_total{code="forged_device"}"#), Some(1.0), "{text}");
    let pushes = r#"shegong_sync_http_requests_total{route="/v1/push",method="POST",status="200"}"#;
    assert_eq!(sample(&text, pushes), Some(2.0), "{text}");
    let timed = r#"shegong_sync_http_request_duration_seconds_count{route="/v1/push",method="POST",status="200"}"#;
    assert_eq!(sample(&text, timed), Some(2.0), "{text}");
    assert_eq!(sample(&text, "shegong_sync_conflicts_open"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "shegong_sync_handed_over_waiting"), Some(0.0), "{text}");
}

#[tokio::test]
async fn a_push_refused_as_a_whole_counts_as_a_request_by_its_status_not_as_changes() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let mut device = world.login("wa");
    let push = PushRequest { changes: vec![device.stamp(recipient(world.station_s, world.village_s, "张三", 1).1)] };

    let (status, _, _) = call(&app, push_request("not-a-token", &push)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, _, text) = call(&app, scrape(None)).await;
    let refused = r#"shegong_sync_http_requests_total{route="/v1/push",method="POST",status="401"}"#;
    assert_eq!(sample(&text, refused), Some(1.0), "{text}");
    assert_eq!(sample(&text, "shegong_sync_changes_accepted_total"), Some(0.0), "{text}");
    assert!(!text.contains("not-a-token"), "{text}");
}

#[tokio::test]
async fn a_pull_far_behind_the_head_lands_in_the_lag_histogram() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let mut device = world.login("wa");
    device.send_ok((0..30).map(|n| recipient(world.station_s, world.village_s, "张三", n).1).collect());
    let head = world.log_head();
    assert!(head >= 30);

    let (status, _, _) = call(&app, pull_request(device.token(), 0)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, pull_request(device.token(), head)).await;
    assert_eq!(status, StatusCode::OK);

    let (_, _, text) = call(&app, scrape(None)).await;
    assert_eq!(sample(&text, "shegong_sync_pull_lag_entries_count"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "shegong_sync_pull_lag_entries_sum"), Some(head as f64), "{text}");
    // The up-to-date pull is in the first bucket; the one from scratch only from `head` up.
    assert_eq!(sample(&text, r#"shegong_sync_pull_lag_entries_bucket{le="0.0"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"shegong_sync_pull_lag_entries_bucket{le="10.0"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"shegong_sync_pull_lag_entries_bucket{le="1000.0"}"#), Some(2.0), "{text}");
}

#[tokio::test]
async fn a_scrape_without_the_configured_token_is_refused() {
    let world = World::new();
    let app = sync_server::router(token_protected(&world, "bureau-monitoring-token"));

    let (status, _, body) = call(&app, scrape(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains(codes::UNAUTHORIZED) && body.contains("metrics_token"), "{body}");
    let (status, _, _) = call(&app, scrape(Some("bureau-monitoring-token-but-longer"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A device's own access token is no key to the metrics.
    let device = world.login("wa");
    let (status, _, _) = call(&app, scrape(Some(device.token()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _, text) = call(&app, scrape(Some("bureau-monitoring-token"))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("shegong_sync_changes_accepted_total"), "{text}");
}

#[tokio::test]
async fn without_a_token_only_this_machine_may_scrape() {
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let from = |addr: [u8; 4]| {
        let mut request = scrape(None);
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((addr, 40_000))));
        request
    };
    let (status, _, body) = call(&app, from([192, 168, 1, 20])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains(FORBIDDEN), "{body}");
    let (status, _, _) = call(&app, from([127, 0, 0, 1])).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_switched_off_are_not_served() {
    let world = World::new();
    let settings = ServerSettings { metrics: MetricsAccess::Off, ..ServerSettings::default() };
    let app = sync_server::router(Server::new(world.server.storage().clone(), settings, world.clock.wall()));
    let (status, _, _) = call(&app, scrape(Some("anything"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_loopback_scrape_of_a_real_server_reads_its_requests() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let world = World::new();
    let (url, stop) = serve_on_loopback(world.server.clone()).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let health = client.get(format!("{url}{}", paths::HEALTH)).send().await.expect("health answers");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    let request_id = health.headers().get(sync_server::http::REQUEST_ID_HEADER).cloned();
    assert!(request_id.is_some(), "every answer names its request id");

    let scraped = client.get(format!("{url}{}", sync_server::metrics::PATH)).send().await.expect("metrics answer");
    assert_eq!(scraped.status(), reqwest::StatusCode::OK);
    let text = scraped.text().await.expect("text");
    let health_line =
        format!(r#"shegong_sync_http_requests_total{{route="{}",method="GET",status="200"}}"#, paths::HEALTH);
    assert_eq!(sample(&text, &health_line), Some(1.0), "{text}");
    let _ = stop.send(());
}
