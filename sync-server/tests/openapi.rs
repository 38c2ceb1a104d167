//! The OpenAPI description is held to the code: every route the router serves is described and
//! every operation described is served; the document is OpenAPI 3 whose references all resolve;
//! a sample of every body the API sends or reads, serialized by serde, matches its schema; and
//! `shegong-sync openapi` prints what `GET /v1/openapi.json` answers.

mod binary;
mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use common::*;
use domain::entity::EntityKind;
use domain::field;
use domain::rules::RejectionInfo;
use http_body_util::BodyExt;
use protocol::{
    ApiError, ChecksumResponse, HandOverDecision, HandOverDecisionRequest, HandOverState, HandedOverItem,
    HandedOverResponse, HandoverRequest, LoginRequest, LogoutRequest, NewDeviceRequest, PullQuery, PushOutcome,
    PushRequest, PushResponse, PushResult, RefreshRequest, SnapshotQuery, paths,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
/// The header the probe puts on each answer: the route template the request matched.
const MATCHED: &str = "x-test-matched-path";

fn document() -> Value {
    serde_json::from_str(sync_server::openapi::json()).expect("the document is JSON")
}

/// Every path the server may route: the protocol's paths and the metrics endpoint. The source
/// check below makes sure the router names no other.
fn candidate_paths() -> Vec<&'static str> {
    let mut all = protocol::paths::ALL.to_vec();
    all.push(sync_server::metrics::PATH);
    all
}

/// The router, answering with the route template each request matched in [`MATCHED`].
fn probed_router() -> axum::Router {
    let world = World::new();
    sync_server::router(world.server.clone()).layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            let matched = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
            let mut response = next.run(request).await;
            if let Some(value) = matched.and_then(|m| HeaderValue::from_str(&m).ok()) {
                response.headers_mut().insert(MATCHED, value);
            }
            response
        },
    ))
}

/// Whether the router serves `method` at `template`: the request reaches a route (not the
/// fallback) that takes the method.
async fn served(app: &axum::Router, template: &str, method: &Method) -> bool {
    let uri = template.replace("{change_id}", &uuid::Uuid::now_v7().to_string());
    let request = Request::builder().method(method.clone()).uri(uri).body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let matched = response.headers().get(MATCHED).and_then(|v| v.to_str().ok()).map(str::to_owned);
    matched.as_deref() == Some(template) && response.status() != StatusCode::METHOD_NOT_ALLOWED
}

/// The operations the document describes, as (path, method in lower case).
fn described(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|key| METHODS.iter().any(|m| m.as_str().eq_ignore_ascii_case(key)))
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_route_the_router_serves_is_described_and_every_operation_described_is_served() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(300));
    let described = described(&document());
    let app = probed_router();
    let mut serving = BTreeSet::new();
    for path in candidate_paths() {
        for method in &METHODS {
            if served(&app, path, method).await {
                serving.insert((path.to_owned(), method.as_str().to_ascii_lowercase()));
            }
        }
    }
    let undocumented: Vec<_> = serving.difference(&described).collect();
    assert!(undocumented.is_empty(), "served but not in the OpenAPI document (add #[utoipa::path]): {undocumented:?}");
    let unserved: Vec<_> = described.difference(&serving).collect();
    assert!(unserved.is_empty(), "described but not served: {unserved:?}");
    assert!(serving.len() >= 14, "the probe found the routes: {serving:?}");
}

#[test]
fn the_router_routes_only_the_protocols_paths_and_the_metrics_path() {
    // What the probe above covers: a route on a path written anywhere else would escape it.
    let source = include_str!("../src/http.rs");
    let routed: Vec<&str> =
        source.split(".route(").skip(1).filter_map(|rest| rest.split_once(',').map(|(path, _)| path.trim())).collect();
    assert!(routed.len() >= 14, "{routed:?}");
    for path in routed {
        let known = path == "crate::metrics::PATH"
            || path
                .strip_prefix("paths::")
                .is_some_and(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        assert!(known, "a route on {path}: put its path in protocol::paths (and paths::ALL)");
    }
}

/// Every `$ref` in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.push(reference.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_and_every_reference_resolves() {
    let document = document();
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "an OpenAPI 3 document: {version}");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(document["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    // It reads back as an OpenAPI document (utoipa's own model of the specification).
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(document.clone()).expect("the document parses as OpenAPI");
    assert_eq!(parsed.paths.paths.len(), document["paths"].as_object().map_or(0, |p| p.len()));
    for (path, item) in document["paths"].as_object().expect("paths") {
        assert!(path.starts_with("/v1/") || path == "/metrics", "{path}");
        for (method, operation) in item.as_object().expect("a path item") {
            let ok = &operation["responses"]["200"];
            assert!(ok.is_object(), "{method} {path} describes its answer");
        }
    }
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let resolved = reference.strip_prefix('#').map(|pointer| document.pointer(pointer));
        assert!(matches!(resolved, Some(Some(_))), "{reference} does not resolve");
    }
    let bearer = &document["components"]["securitySchemes"][sync_server::openapi::BEARER];
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
}

/// A light JSON Schema check, enough for what utoipa writes: `$ref`, `oneOf`/`anyOf`/`allOf`,
/// `type` (one or a list), `enum`, `required`, `properties` (no undeclared ones where properties
/// are listed) and `items`. Each mismatch is pushed to `errors` with where it was.
fn check(document: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match reference.strip_prefix('#').and_then(|pointer| document.pointer(pointer)) {
            Some(target) => check(document, target, value, at, errors),
            None => errors.push(format!("{at}: {reference} does not resolve")),
        }
        return;
    }
    let matches = |schema: &Value| {
        let mut inner = Vec::new();
        check(document, schema, value, at, &mut inner);
        inner.is_empty()
    };
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let count = options.iter().filter(|option| matches(option)).count();
        if count != 1 {
            errors.push(format!("{at}: matches {count} of the oneOf schemas, not one: {value}"));
        }
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array)
        && !options.iter().any(matches)
    {
        errors.push(format!("{at}: matches none of the anyOf schemas: {value}"));
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(document, part, value, at, errors);
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let fits = |ty: &str| match (ty, value) {
            ("null", Value::Null) | ("boolean", Value::Bool(_)) | ("string", Value::String(_)) => true,
            ("object", Value::Object(_)) | ("array", Value::Array(_)) | ("number", Value::Number(_)) => true,
            ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        };
        if !allowed.iter().any(|ty| fits(ty)) {
            errors.push(format!("{at}: {value} is not of type {types}"));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {values:?}"));
    }
    if let Value::Object(object) = value {
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                errors.push(format!("{at}: the required property {name} is missing"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, item) in object {
                match properties.get(name) {
                    Some(property) => check(document, property, item, &format!("{at}.{name}"), errors),
                    None => errors.push(format!("{at}: the property {name} is not in the schema")),
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(document, item_schema, item, &format!("{at}[{i}]"), errors);
        }
    }
}

fn sample(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("serializes")
}

/// Bodies the API reads and sends, by schema name: the server's own answers to a worker's
/// device where it gives them, made by hand for the rest (every variant of an enum).
fn samples() -> BTreeMap<&'static str, Vec<Value>> {
    let world = World::new();
    let mut device = world.login("wa");
    let token = device.token().to_owned();
    let version = domain::SCHEMA_VERSION;
    let (_, recipient) = recipient(world.station_s, world.village_s, "张三", 1);
    let created = device.stamp(recipient);
    let push = device.push(&[created]).expect("pushed");
    let change = device
        .stamp(domain::change::Write::update(EntityKind::Station, world.station_s).set(field::station::NAME, "改名"));
    let state = world.state(EntityKind::Station, world.station_s).expect("station");
    let rejection = RejectionInfo {
        code: "denied".into(),
        message_zh: "无权修改".into(),
        message_en: "not allowed".into(),
        field: Some(field::station::NAME.into()),
    };
    let result = |outcome| PushResult { device_seq: 2, change_id: change.change_id, outcome };
    let outcomes = vec![
        PushOutcome::Accepted { server_seq: 9, effective_hlc: Some(change.hlc) },
        PushOutcome::Rejected { rejection: rejection.clone(), current: Some(state.clone()) },
        PushOutcome::Rejected { rejection, current: None },
        PushOutcome::Gap { expected: 1 },
        PushOutcome::SequenceReused { expected: 3 },
    ];
    let pull = world.server.pull(&token, version, PullQuery { after: 0, limit: Some(50) }).expect("pull");
    let checksum = world.server.checksum(&token).expect("checksum");
    let query = SnapshotQuery { station: world.station_s, after_kind: None, after_id: None, limit: Some(5) };
    let snapshot = world.server.snapshot(&token, query).expect("snapshot");
    let item = |state: HandOverState| HandedOverItem {
        change: change.clone(),
        station_id: world.station_s,
        case_id: uuid::Uuid::now_v7(),
        author_id: device.user(),
        author_name: Some("李娟".into()),
        refused_at: chrono::Utc::now(),
        state,
        decided_by: (state != HandOverState::Offered).then_some(world.worker_b),
        decided_at: (state != HandOverState::Offered).then(chrono::Utc::now),
    };
    let items = vec![item(HandOverState::Offered), item(HandOverState::TakenOver), item(HandOverState::Dismissed)];
    let login = LoginRequest {
        username: "wa".into(),
        password: PASSWORD.into(),
        device_id: Some(device.id()),
        device_name: "笔记本".into(),
        signing_key: None,
        signing_key_proof: None,
    };
    let bare = LoginRequest { device_id: None, ..login.clone() };
    let session = device.session.clone();
    let mut samples: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    let mut add = |name: &'static str, value: Value| samples.entry(name).or_default().push(value);
    add("LoginRequest", sample(&login));
    add("LoginRequest", sample(&bare));
    add("Session", sample(&session));
    add("Session", sample(protocol::Session { device_secret: None, ..session.clone() }));
    add("RefreshRequest", sample(RefreshRequest { refresh_token: session.refresh_token.clone() }));
    add("LogoutRequest", sample(LogoutRequest { refresh_token: session.refresh_token.clone() }));
    add("HandoverRequest", sample(HandoverRequest { refresh_token: session.refresh_token.clone() }));
    add("NewDeviceRequest", sample(NewDeviceRequest { device_name: "新笔记本".into() }));
    add("PushRequest", sample(PushRequest { changes: vec![change.clone()] }));
    add("PushResponse", sample(&push));
    add(
        "PushResponse",
        sample(PushResponse { results: outcomes.iter().cloned().map(result).collect(), next_expected_seq: 3 }),
    );
    for outcome in &outcomes {
        add("PushOutcome", sample(outcome));
        add("PushResult", sample(result(outcome.clone())));
    }
    add("PullResponse", sample(&pull));
    for entry in &pull.entries {
        add("PullEntry", sample(entry));
    }
    add("ChecksumResponse", sample(&checksum));
    add("ChecksumResponse", sample(ChecksumResponse { as_of: 1, stations: Vec::new(), scope: None, generation: None }));
    for station in &checksum.stations {
        add("StationChecksum", sample(station));
    }
    add("SnapshotResponse", sample(&snapshot));
    add("HandedOverResponse", sample(HandedOverResponse { items: items.clone() }));
    for item in &items {
        add("HandedOverItem", sample(item));
        add("HandOverState", sample(item.state));
    }
    for decision in [HandOverDecision::TakenOver, HandOverDecision::Dismissed] {
        add("HandOverDecisionRequest", sample(HandOverDecisionRequest { decision }));
        add("HandOverDecision", sample(decision));
    }
    add("BundleRelayRequest", sample(protocol::bundle::BundleRelayRequest { bundle: "U0hHQg==".into() }));
    let relayed = protocol::bundle::BundleRelayResponse {
        bundle: "U0hHQg==".into(),
        device_id: device.id(),
        changes: 2,
        answered_before: 1,
    };
    add("BundleRelayResponse", sample(relayed));
    add("ApiError", sample(ApiError::new(protocol::codes::MALFORMED, "请求有误", "a bad request")));
    add(
        "Health",
        json!({"status": "ok", "schema_version": version, "oldest_supported_schema_version": domain::OLDEST_SUPPORTED_SCHEMA_VERSION}),
    );
    samples
}

#[test]
fn a_sample_of_every_body_matches_its_schema() {
    let document = document();
    let schemas = document["components"]["schemas"].as_object().expect("schemas");
    let samples = samples();
    let without: Vec<&String> = schemas.keys().filter(|name| !samples.contains_key(name.as_str())).collect();
    assert!(without.is_empty(), "give these schemas a sample here: {without:?}");
    let mut errors = Vec::new();
    for (name, values) in &samples {
        let Some(schema) = schemas.get(*name) else {
            errors.push(format!("no schema {name} in the document"));
            continue;
        };
        for value in values {
            check(&document, schema, value, name, &mut errors);
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_check_notices_a_missing_required_property_and_a_wrong_type() {
    // The check above could pass by checking nothing: here it must fail.
    let document = document();
    let schema = &document["components"]["schemas"]["PushResponse"];
    let mut errors = Vec::new();
    check(&document, schema, &json!({"results": []}), "PushResponse", &mut errors);
    assert!(errors.iter().any(|e| e.contains("next_expected_seq")), "{errors:?}");
    errors.clear();
    check(&document, schema, &json!({"results": [{"device_seq": "1"}], "next_expected_seq": 1}), "r", &mut errors);
    assert!(errors.iter().any(|e| e.contains("device_seq") && e.contains("type")), "{errors:?}");
    errors.clear();
    let outcome = json!({"status": "accepted", "server_seq": 1, "surplus": true});
    check(&document, &document["components"]["schemas"]["PushOutcome"], &outcome, "o", &mut errors);
    assert!(!errors.is_empty(), "an undeclared property is noticed");
}

#[tokio::test]
async fn the_document_is_served_and_printed_by_the_cli_alike() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let world = World::new();
    let app = sync_server::router(world.server.clone());
    let request = Request::get(paths::OPENAPI).body(Body::empty()).expect("request");
    let response = app.oneshot(request).await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let served: Value = serde_json::from_slice(&bytes).expect("JSON");

    let dir = tempfile::tempdir().expect("temp dir");
    let printed = binary::stdout(&binary::command(dir.path(), &["openapi"]).output().expect("the binary runs"));
    let printed: Value = serde_json::from_str(&printed).expect("the CLI prints JSON");
    assert_eq!(printed, served);
    assert!(!dir.path().join("shegong-sync.db").exists(), "printing the description opens no database");
}
