//! The sync API described in OpenAPI 3, generated from the code: each handler of [`crate::http`]
//! carries its `#[utoipa::path]` (method, path from [`protocol::paths`], body, answers), and the
//! schemas are derived from the wire types themselves (`protocol`'s `openapi` feature), so the
//! document changes with them. Served at `GET /v1/openapi.json` and printed by `shegong-sync
//! openapi`. `tests/openapi.rs` holds it to the router: every route served is described, every
//! operation described is served, and a sample of each body matches its schema.
//!
//! Types of the domain inside the bodies (a change, an entity's state, a clock stamp) are
//! described as plain objects or strings: their fields are the entity specs', documented in
//! `docs/sync-protocol.md`.

use std::sync::OnceLock;

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::http;

/// The name of the bearer-token security scheme the operations needing a session refer to.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shegong sync API",
        description = "社工站案例管理系统的同步接口 / The sync API of Shegong, the township social work \
                       stations' case-management system: sign-in, push and pull of changes, checksums \
                       and repair. Errors are `ApiError` bodies with a stable `code` and messages in \
                       Chinese and English. Requests carry the client's change format in the \
                       `x-shegong-schema` header.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        http::login,
        http::refresh,
        http::logout,
        http::handover,
        http::new_device,
        http::push,
        http::relay_bundle,
        http::pull,
        http::checksum,
        http::snapshot,
        http::handed_over,
        http::decide_handed_over,
        http::health,
        http::metrics,
        http::openapi_json,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "登录、刷新与退出 / sign-in, refresh and sign-out"),
        (name = "sync", description = "推送、拉取、校验与修复 / push, pull, checksums and repair"),
        (name = "handover", description = "转交被退回的修改 / changes handed over after a reassignment"),
        (name = "operations", description = "健康检查、指标与接口说明 / health, metrics and this description"),
    )
)]
struct SyncApi;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, with this build's version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = SyncApi::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

/// The document as pretty-printed JSON, made once per process.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // Serializing a document of strings and maps cannot fail; an empty object would be the
        // answer if it ever did, rather than a panic in a request.
        document().to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
    })
}
