//! The errors the server answers with: [`protocol::ApiError`] (a stable code plus Chinese and
//! English messages), and the HTTP status each code maps to. Internal failures are logged in
//! full and answered with a generic message only.

use axum::http::StatusCode;
use protocol::{ApiError, codes};

use crate::storage::StorageError;

/// Code for a request about data outside the user's scope (a station they do not cover).
pub const FORBIDDEN: &str = "forbidden";
/// Code for a path the server does not serve.
pub const NOT_FOUND: &str = "not_found";

/// The HTTP status of an error code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        codes::MALFORMED => StatusCode::BAD_REQUEST,
        codes::UNAUTHORIZED | codes::TOKEN_EXPIRED | codes::BAD_CREDENTIALS => StatusCode::UNAUTHORIZED,
        FORBIDDEN => StatusCode::FORBIDDEN,
        NOT_FOUND => StatusCode::NOT_FOUND,
        codes::TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::CLIENT_TOO_OLD => StatusCode::UPGRADE_REQUIRED,
        codes::ACCOUNT_LOCKED | codes::TOO_MANY_ATTEMPTS => StatusCode::TOO_MANY_REQUESTS,
        codes::SERVER_BUSY => StatusCode::SERVICE_UNAVAILABLE,
        codes::ACCOUNT_DEACTIVATED | codes::DEVICE_REVOKED => StatusCode::FORBIDDEN,
        codes::KEY_PROOF_INVALID => StatusCode::BAD_REQUEST,
        codes::REQUEST_TIMEOUT => StatusCode::REQUEST_TIMEOUT,
        codes::UNSUPPORTED_ENCODING => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::BUNDLE_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::BUNDLE_MALFORMED
        | codes::BUNDLE_VERSION
        | codes::BUNDLE_WRONG_KIND
        | codes::BUNDLE_TAMPERED
        | codes::BUNDLE_OTHER_DEVICE
        | codes::BUNDLE_KEY_MISSING
        | codes::BUNDLE_STALE => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn malformed(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(codes::MALFORMED, format!("请求格式错误：{}", zh.into()), format!("malformed request: {}", en.into()))
}

pub(crate) fn unauthorized(zh: &str, en: &str) -> ApiError {
    ApiError::new(codes::UNAUTHORIZED, zh, en)
}

pub(crate) fn token_expired() -> ApiError {
    ApiError::new(
        codes::TOKEN_EXPIRED,
        "登录已过期，请刷新或重新登录",
        "the access token has expired; refresh it or sign in again",
    )
}

pub(crate) fn bad_credentials() -> ApiError {
    ApiError::new(codes::BAD_CREDENTIALS, "用户名或密码错误", "wrong username or password")
}

pub(crate) fn client_too_old(version: u32) -> ApiError {
    ApiError::new(
        codes::CLIENT_TOO_OLD,
        format!("软件版本过旧（数据格式 {version}），请更新后再同步；待发送的数据不会丢失"),
        format!(
            "this client's change format {version} is no longer supported (oldest: {}); update the app — nothing waiting to be sent is lost",
            domain::OLDEST_SUPPORTED_SCHEMA_VERSION
        ),
    )
}

pub(crate) fn client_too_new(version: u32) -> ApiError {
    malformed(
        format!("数据格式 {version} 比服务器支持的更新（最高 {}），请先升级服务器", domain::SCHEMA_VERSION),
        format!(
            "change format {version} is newer than this server understands (up to {}); upgrade the server",
            domain::SCHEMA_VERSION
        ),
    )
}

pub(crate) fn too_large(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(codes::TOO_LARGE, zh.into(), en.into())
}

/// A request body in a `Content-Encoding` the server does not read; `accepted` lists those it does.
pub(crate) fn unsupported_encoding(found: &str, accepted: &str) -> ApiError {
    ApiError::new(
        codes::UNSUPPORTED_ENCODING,
        format!("服务器无法读取以“{found}”压缩的请求内容，请改用 {accepted}，或不压缩"),
        format!(
            "the request body's Content-Encoding \"{found}\" is not supported; send it as {accepted}, or uncompressed"
        ),
    )
}

pub(crate) fn forbidden(zh: &str, en: &str) -> ApiError {
    ApiError::new(FORBIDDEN, zh, en)
}

/// Logs the details and returns a message that reveals nothing of them.
pub(crate) fn internal(detail: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %detail, "internal error");
    ApiError::new(codes::INTERNAL, "服务器内部错误，请稍后再试", "internal server error; try again later")
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        internal(e)
    }
}

/// Checks the client's change format version (from the schema header).
pub(crate) fn check_client_schema(version: u32) -> Result<(), ApiError> {
    if version < domain::OLDEST_SUPPORTED_SCHEMA_VERSION {
        return Err(client_too_old(version));
    }
    if version > domain::SCHEMA_VERSION {
        return Err(client_too_new(version));
    }
    Ok(())
}
