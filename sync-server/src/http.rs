//! The HTTP face of [`Server`]: one route per path of [`protocol::paths`], JSON in and out
//! (compressed both ways when the client asks: see [`REQUEST_ENCODINGS`]), errors as
//! [`protocol::ApiError`] bodies. Handlers only translate: they read the bearer token,
//! the schema header and the body, and run the server's (blocking) method on a blocking thread.

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use protocol::{
    ApiError, LoginRequest, PullQuery, PushRequest, RefreshRequest, SCHEMA_HEADER, SnapshotQuery, limits, paths,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::decompression::RequestDecompressionLayer;

use crate::error::{
    NOT_FOUND, check_client_schema, internal, malformed, status_of, too_large, unauthorized, unsupported_encoding,
};
use crate::server::Server;

/// Every endpoint of the sync API.
pub fn router(server: Server) -> Router {
    Router::new()
        .route(paths::LOGIN, post(login))
        .route(paths::REFRESH, post(refresh))
        .route(paths::HANDOVER, post(handover))
        .route(paths::LOGOUT, post(logout))
        .route(paths::NEW_DEVICE, post(new_device))
        .route(paths::PUSH, post(push))
        .route(paths::BUNDLES, post(relay_bundle))
        .route(paths::PULL, get(pull))
        .route(paths::CHECKSUM, get(checksum))
        .route(paths::SNAPSHOT, get(snapshot))
        .route(paths::HANDED_OVER, get(handed_over))
        .route(paths::HANDED_OVER_DECISION, post(decide_handed_over))
        .route(paths::HEALTH, get(health))
        .route(paths::OPENAPI, get(openapi_json))
        .route(crate::metrics::PATH, get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The limit counts a body as decompressed (the decoder sits outside it): a small
        // compressed body that inflates past it is read up to the limit and refused `too_large`.
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn(content_encoding))
        // Answers in zstd or gzip when the client accepts them (zstd preferred), but for small
        // ones (`MIN_COMPRESSED_ANSWER`). At each coding's fastest level: a page of the log is
        // repetitive JSON that level 1 already shrinks about 17-fold, and the server's CPU, not
        // the link, is what a station's first pull waits on (zstd's default level took ~7% of
        // the sync benchmark's CPU).
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_ANSWER))),
        )
        .layer(axum::middleware::from_fn_with_state(server.settings().request_timeout, request_timeout))
        // Outermost, so it sees every answer as sent (timeouts and refused codings included).
        .layer(axum::middleware::from_fn_with_state(server.clone(), observe))
        .with_state(server)
}

/// The header that carries the id the server gave a request (also in its log lines), so an
/// answer a user reports can be found in the logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Counts and times every request, and logs it with its id, route, status and latency, in a
/// span the server's own events (which name the user and device by id) are logged in too. The
/// route is the router's template (`/v1/handed-over/{change_id}`), never the path as sent, and
/// nothing from headers or bodies is logged.
async fn observe(State(server): State<Server>, request: Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let request_id = uuid::Uuid::now_v7();
    let span = tracing::info_span!("request", request_id = %request_id, route = %route, method = %method);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    server.metrics().request(&route, &method, status, elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed.as_millis() as u64, "answered"));
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Answers shorter than this (bytes) go uncompressed: the checksums, the handed-over changes, a
/// short push's answers, an empty pull page. They fit in one packet either way, and setting up a
/// compressor at the server and a decompressor at the device cost more than the bytes saved
/// (under load, a zstd context per answer was a tenth of the server's CPU).
pub const MIN_COMPRESSED_ANSWER: u16 = 1024;

/// The codings a request body may come in (`Content-Encoding`), which every answer lists in its
/// `Accept-Encoding` header (RFC 9110, 12.5.3): a client learns from any answer that it may
/// compress, and an answer without it comes from a server older than compression.
pub const REQUEST_ENCODINGS: &str = "zstd, gzip";

/// Refuses a request body in a coding the server does not read with `unsupported_encoding`
/// (HTTP 415) before any of it is read, and tells every answer the codings it reads. A coding's
/// name is read whatever its case; one coding only (not layered ones such as `gzip, zstd`).
async fn content_encoding(mut request: Request, next: axum::middleware::Next) -> Response {
    let coding = request_coding(request.headers().get_all(header::CONTENT_ENCODING).iter().map(HeaderValue::as_bytes));
    let mut response = match coding {
        Ok(None) => next.run(request).await,
        Ok(Some(known)) => {
            // The decoder reads the lower-case names only.
            request.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(known));
            next.run(request).await
        }
        Err(shown) => {
            tracing::warn!(content_encoding = %shown, "a request body in a coding the server does not read");
            let mut response = HttpError(unsupported_encoding(&shown, REQUEST_ENCODINGS)).into_response();
            // The body is left unread, so the connection is not used again.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    };
    response.headers_mut().insert(header::ACCEPT_ENCODING, HeaderValue::from_static(REQUEST_ENCODINGS));
    response
}

/// The coding a request body comes in, from its `Content-Encoding` values: `Ok(None)` without
/// any, `Ok(Some(name))` (lower-case) for one the server reads, else `Err` with the codings as
/// named, cut to 64 characters, for the answer.
pub fn request_coding<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<&'static str>, String> {
    let named: Vec<String> =
        values.into_iter().map(|value| String::from_utf8_lossy(value).trim().to_ascii_lowercase()).collect();
    if named.is_empty() {
        return Ok(None);
    }
    let coding = named.join(", ");
    match coding.as_str() {
        "zstd" => Ok(Some("zstd")),
        "gzip" => Ok(Some("gzip")),
        "identity" => Ok(Some("identity")),
        _ => Err(coding.chars().take(64).collect()),
    }
}

/// Bounds the time spent on one request, reading its body included: a client that stalls (or
/// sends a body a byte at a time) is answered `request_timeout` (HTTP 408) and let go.
async fn request_timeout(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            HttpError(ApiError::new(
                protocol::codes::REQUEST_TIMEOUT,
                "请求超时，请重试",
                format!("the request took longer than {} s; send it again", limit.as_secs()),
            ))
            .into_response()
        }
    }
}

/// An error answer: the status its code maps to, and the error as JSON.
pub struct HttpError(pub ApiError);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (status_of(&self.0.code), axum::Json(self.0)).into_response()
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

type Answer<T> = Result<axum::Json<T>, HttpError>;

/// A JSON body; anything wrong with it is a 400 (413 when too large) naming what was wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let mut response = HttpError(json_rejection(&rejection)).into_response();
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    // The body was read only up to the limit, so the connection is closed after
                    // the answer: said here, the client does not send its next request on it.
                    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Err(response)
            }
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(
            format!("请求内容超过{}字节", limits::MAX_BODY_BYTES),
            format!("the request body is larger than {} bytes", limits::MAX_BODY_BYTES),
        );
    }
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            malformed("Content-Type 须为 application/json", "Content-Type must be application/json")
        }
        JsonRejection::JsonSyntaxError(_) => {
            malformed(format!("不是有效的 JSON：{detail}"), format!("not valid JSON: {detail}"))
        }
        JsonRejection::JsonDataError(_) => malformed(
            format!("字段不符合要求：{detail}"),
            format!("the body does not match the expected fields: {detail}"),
        ),
        _ => malformed(format!("无法读取请求内容：{detail}"), format!("the body could not be read: {detail}")),
    }
}

/// A query string; anything wrong with it is a 400 naming what was wrong.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(HttpError(query_rejection(&rejection))),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> ApiError {
    let detail = rejection.body_text();
    malformed(format!("查询参数有误：{detail}"), format!("bad query parameters: {detail}"))
}

/// The bearer token of the `Authorization` header.
fn bearer(headers: &HeaderMap) -> Result<String, HttpError> {
    let missing = || HttpError(unauthorized("请先登录", "an Authorization: Bearer header is required"));
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let token = text.strip_prefix("Bearer ").or_else(|| text.strip_prefix("bearer ")).ok_or_else(missing)?;
    Ok(token.trim().to_owned())
}

/// The client's change format from the schema header; `None` when absent.
fn schema(headers: &HeaderMap) -> Result<Option<u32>, HttpError> {
    let Some(value) = headers.get(SCHEMA_HEADER) else { return Ok(None) };
    let version = value.to_str().ok().and_then(|v| v.trim().parse::<u32>().ok()).ok_or_else(|| {
        HttpError(malformed(
            format!("{SCHEMA_HEADER} 须为整数"),
            format!("the {SCHEMA_HEADER} header must be a whole number"),
        ))
    })?;
    check_client_schema(version)?;
    Ok(Some(version))
}

fn required_schema(headers: &HeaderMap) -> Result<u32, HttpError> {
    schema(headers)?.ok_or_else(|| {
        HttpError(malformed(format!("缺少 {SCHEMA_HEADER} 请求头"), format!("the {SCHEMA_HEADER} header is required")))
    })
}

/// Runs a blocking server call off the async threads.
async fn blocking<T: Serialize + Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Answer<T> {
    // The request's span goes along, so what the server logs there carries the request's id.
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(Ok(value)) => Ok(axum::Json(value)),
        Ok(Err(e)) => Err(HttpError(e)),
        Err(join) => Err(HttpError(internal(format!("request handler failed: {join}")))),
    }
}

/// The client's address, when the server was started with connection info
/// ([`crate::serve`] always is; a router driven in-process is not).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(info.map(|axum::extract::ConnectInfo(addr)| addr.ip())))
    }
}

#[utoipa::path(
    post,
    path = paths::LOGIN,
    tag = "auth",
    summary = "登录，注册设备 / sign in (registering the device)",
    request_body = LoginRequest,
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    responses(
        (status = 200, description = "会话 / the session", body = protocol::Session),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn login(
    State(server): State<Server>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Answer<protocol::Session> {
    schema(&headers)?;
    blocking(move || server.login_from(body, addr)).await
}

#[utoipa::path(
    post,
    path = paths::REFRESH,
    tag = "auth",
    summary = "刷新访问令牌 / a new access token for a refresh token",
    request_body = RefreshRequest,
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    responses(
        (status = 200, description = "新会话 / the new session", body = protocol::Session),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn refresh(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Answer<protocol::Session> {
    schema(&headers)?;
    blocking(move || server.refresh(body)).await
}

#[utoipa::path(
    post,
    path = paths::LOGOUT,
    tag = "auth",
    summary = "退出：撤销该设备的会话 / sign out: revoke the device's session",
    request_body = protocol::LogoutRequest,
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    responses(
        (status = 200, description = "已退出（空对象） / signed out (an empty object)", body = Object),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn logout(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<protocol::LogoutRequest>,
) -> Answer<serde_json::Value> {
    schema(&headers)?;
    blocking(move || server.logout(body).map(|()| serde_json::json!({}))).await
}

#[utoipa::path(
    post,
    path = paths::HANDOVER,
    tag = "auth",
    summary = "被撤销的设备交出未发送的修改 / a revoked device hands over its unsent work",
    request_body = protocol::HandoverRequest,
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    responses(
        (status = 200, description = "只能推送的会话 / a push-only session", body = protocol::Session),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn handover(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<protocol::HandoverRequest>,
) -> Answer<protocol::Session> {
    schema(&headers)?;
    blocking(move || server.handover(body)).await
}

#[utoipa::path(
    post,
    path = paths::NEW_DEVICE,
    tag = "auth",
    summary = "被复制的设备成为新设备 / a cloned device becomes a new one",
    request_body = protocol::NewDeviceRequest,
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "新设备的会话 / the new device's session", body = protocol::Session),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn new_device(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<protocol::NewDeviceRequest>,
) -> Answer<protocol::Session> {
    let token = bearer(&headers)?;
    schema(&headers)?;
    blocking(move || server.new_device(&token, body)).await
}

#[utoipa::path(
    post,
    path = paths::PUSH,
    tag = "sync",
    summary = "推送修改 / push changes",
    request_body = PushRequest,
    params(
        ("x-shegong-schema" = u32, Header, description = "客户端的修改格式版本（必填） / the client's change format version (required)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "每条修改的结果 / one result per change", body = protocol::PushResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn push(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PushRequest>,
) -> Answer<protocol::PushResponse> {
    let token = bearer(&headers)?;
    let version = required_schema(&headers)?;
    blocking(move || server.push(&token, version, body)).await
}

#[utoipa::path(
    post,
    path = paths::BUNDLES,
    tag = "sync",
    summary = "社工站电脑转交U盘同步包 / a station laptop relays a device's outbox bundle (sync by USB stick)",
    request_body = protocol::bundle::BundleRelayRequest,
    params(
        ("x-shegong-schema" = u32, Header, description = "客户端的修改格式版本（必填） / the client's change format version (required)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "给设备的回程包 / the return bundle for the device", body = protocol::bundle::BundleRelayResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn relay_bundle(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<protocol::bundle::BundleRelayRequest>,
) -> Answer<protocol::bundle::BundleRelayResponse> {
    let token = bearer(&headers)?;
    let version = required_schema(&headers)?;
    blocking(move || server.relay_bundle(&token, version, body)).await
}

/// A pull page is sent as built from the log's stored JSON ([`Server::pull_json`]): the
/// largest answers of the API, and the first pull of a station is all of them.
#[utoipa::path(
    get,
    path = paths::PULL,
    tag = "sync",
    summary = "拉取已接受的修改 / pull accepted changes",
    params(
        PullQuery,
        ("x-shegong-schema" = u32, Header, description = "客户端的修改格式版本（必填） / the client's change format version (required)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "一页 / one page", body = protocol::PullResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn pull(
    State(server): State<Server>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<PullQuery>,
) -> Result<Response, HttpError> {
    let token = bearer(&headers)?;
    let version = required_schema(&headers)?;
    let span = tracing::Span::current();
    let body =
        match tokio::task::spawn_blocking(move || span.in_scope(|| server.pull_json(&token, version, query))).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(HttpError(e)),
            Err(join) => return Err(HttpError(internal(format!("request handler failed: {join}")))),
        };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[utoipa::path(
    get,
    path = paths::CHECKSUM,
    tag = "sync",
    summary = "各社工站的校验和 / each station's checksum",
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "校验和 / the checksums", body = protocol::ChecksumResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn checksum(State(server): State<Server>, headers: HeaderMap) -> Answer<protocol::ChecksumResponse> {
    let token = bearer(&headers)?;
    schema(&headers)?;
    blocking(move || server.checksum(&token)).await
}

#[utoipa::path(
    get,
    path = paths::SNAPSHOT,
    tag = "sync",
    summary = "一个社工站的当前状态，分页 / a station's current state, by pages",
    params(
        SnapshotQuery,
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "一页实体 / a page of entities", body = protocol::SnapshotResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn snapshot(
    State(server): State<Server>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<SnapshotQuery>,
) -> Answer<protocol::SnapshotResponse> {
    let token = bearer(&headers)?;
    schema(&headers)?;
    blocking(move || server.snapshot(&token, query)).await
}

#[utoipa::path(
    get,
    path = paths::HANDED_OVER,
    tag = "handover",
    summary = "转交给我的修改 / the changes handed over to the caller",
    params(
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "待处理的修改 / the offered changes", body = protocol::HandedOverResponse),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn handed_over(State(server): State<Server>, headers: HeaderMap) -> Answer<protocol::HandedOverResponse> {
    let token = bearer(&headers)?;
    schema(&headers)?;
    blocking(move || server.handed_over(&token)).await
}

#[utoipa::path(
    post,
    path = paths::HANDED_OVER_DECISION,
    tag = "handover",
    summary = "接手或忽略一条转交的修改 / take over or dismiss a handed-over change",
    request_body = protocol::HandOverDecisionRequest,
    params(
        ("change_id" = uuid::Uuid, Path, description = "被转交的修改编号 / the handed-over change's id"),
        ("x-shegong-schema" = Option<u32>, Header, description = "客户端的修改格式版本 / the client's change format version"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "该修改的现状 / the item as it stands", body = protocol::HandedOverItem),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn decide_handed_over(
    State(server): State<Server>,
    headers: HeaderMap,
    change_id: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    JsonBody(body): JsonBody<protocol::HandOverDecisionRequest>,
) -> Answer<protocol::HandedOverItem> {
    let token = bearer(&headers)?;
    schema(&headers)?;
    let change_id = change_id
        .ok()
        .and_then(|axum::extract::Path(text)| uuid::Uuid::try_parse(text.trim()).ok())
        .ok_or_else(|| HttpError(malformed("路径中的修改编号无效", "the change id in the path is not a valid id")))?;
    blocking(move || server.decide_handed_over(&token, change_id, body)).await
}

/// `GET /metrics`, for whom [`crate::ServerSettings::metrics`] lets read it.
#[utoipa::path(
    get,
    path = crate::metrics::PATH,
    tag = "operations",
    summary = "Prometheus 指标 / metrics in the OpenMetrics text format",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "指标 / the metrics", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn metrics(
    State(server): State<Server>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let token = bearer(&headers).ok();
    let span = tracing::Span::current();
    let text = match tokio::task::spawn_blocking(move || span.in_scope(|| server.metrics_text(token.as_deref(), addr)))
        .await
    {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => return Err(HttpError(e)),
        Err(join) => return Err(HttpError(internal(format!("request handler failed: {join}")))),
    };
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    schema_version: u32,
    oldest_supported_schema_version: u32,
}

#[utoipa::path(
    get,
    path = paths::HEALTH,
    tag = "operations",
    summary = "健康检查 / health",
    responses(
        (status = 200, description = "正常 / up", body = Health),
        (status = "4XX", description = "拒绝，`code` 说明原因 / refused: `code` says why", body = ApiError),
        (status = "5XX", description = "服务器错误 / a server error", body = ApiError),
    )
)]
async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        schema_version: domain::SCHEMA_VERSION,
        oldest_supported_schema_version: domain::OLDEST_SUPPORTED_SCHEMA_VERSION,
    })
}

/// `GET /v1/openapi.json`: this API's description ([`crate::openapi`]).
#[utoipa::path(
    get,
    path = paths::OPENAPI,
    tag = "operations",
    summary = "本接口说明（OpenAPI 3） / this description (OpenAPI 3)",
    responses((status = 200, description = "OpenAPI 文档 / the OpenAPI document", body = Object, content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::json()).into_response()
}

async fn method_not_allowed() -> Response {
    let error = ApiError::new(NOT_FOUND, "该接口不支持此请求方法", "this endpoint does not take this method");
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(error)).into_response()
}

async fn not_found() -> HttpError {
    HttpError(ApiError::new(NOT_FOUND, "没有这个接口", "no such endpoint"))
}
