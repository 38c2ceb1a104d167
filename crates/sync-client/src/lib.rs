//! The device's side of sync. [`Engine::sync_once`] pushes the outbox, pulls the server's log
//! page by page, and checks the per-station checksums, repairing a station that has diverged.
//! It talks to the server through a [`Transport`]: [`HttpTransport`] in the app, an in-process
//! transport with injected faults in the simulation tests.
//!
//! Every step is safe to cut at any point: the outbox is only marked once the server's answer is
//! in hand (a resend gets the stored answer), and pulled pages are applied in transactions with
//! their cursor (several pages to one when a pull is long).

mod backoff;
mod bundle;
mod engine;
mod handover;
mod http;
mod pages;
mod server_url;
mod transport;

pub use backoff::Backoff;
pub use bundle::{ExportedBundle, ImportedBundle, export_outbox, import_return};
pub use engine::{Engine, PULL_BATCH_ENTRIES, PullProgress, SyncReport, tidy_after_round};
pub use http::{HttpTransport, SIGN_IN_CONNECT_TIMEOUT, SessionSaver, login, login_promptly, logout, warm_up};
pub use pages::{Downloaded, PageFetcher};
pub use server_url::{
    ALLOW_INSECURE_HTTP_ENV, InsecureServerUrl, allow_insecure_http, check_server_url, insecure_http_allowed,
};
pub use transport::{Transport, TransportError};

/// Why a sync round stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    /// Plain HTTP to a server on another computer, not allowed by the settings.
    #[error(transparent)]
    InsecureServerUrl(InsecureServerUrl),
    #[error("signing in again is needed: {0}")]
    SignInRequired(String),
    #[error("this app is too old for the server; update it (nothing waiting to be sent is lost)")]
    UpdateRequired,
    #[error("the server refused the request: {0}")]
    Server(protocol::ApiError),
    #[error("the server expects change {expected} from this device, which is not here")]
    SequenceGap { expected: u64 },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A bundle of sync by USB stick was not written or not taken (see [`export_outbox`]).
    #[error(transparent)]
    Bundle(#[from] protocol::bundle::BundleError),
}

impl SyncError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Offline(_) => "offline",
            SyncError::InsecureServerUrl(_) => InsecureServerUrl::CODE,
            SyncError::SignInRequired(_) => "sign_in_required",
            SyncError::UpdateRequired => "update_required",
            SyncError::Server(_) => "server_error",
            SyncError::SequenceGap { .. } => "sequence_gap",
            SyncError::Store(_) => "store_error",
            SyncError::Bundle(e) => e.code(),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            SyncError::Offline(_) => "无法连接同步服务器，数据已保存在本机，联网后会自动同步".into(),
            SyncError::InsecureServerUrl(e) => e.message_zh(),
            SyncError::SignInRequired(_) => "登录已过期，请重新登录".into(),
            SyncError::UpdateRequired => "软件版本过旧，请更新（待发送的数据不会丢失）".into(),
            SyncError::Server(e) => e.message_zh.clone(),
            SyncError::SequenceGap { expected } => format!("服务器缺少本机第{expected}条修改，请联系管理员"),
            SyncError::Store(_) => "本机数据库出错".into(),
            SyncError::Bundle(e) => e.message_zh(),
        }
    }

    /// Whether trying again later may help (as opposed to needing a person).
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Server(_) => !self.is_device_revoked() && !self.is_account_deactivated(),
            SyncError::Offline(_) => true,
            _ => false,
        }
    }

    /// The code of the server's error answer, when the server answered with one.
    pub fn server_code(&self) -> Option<&str> {
        match self {
            SyncError::Server(api) => Some(api.code.as_str()),
            _ => None,
        }
    }

    /// An administrator revoked this device (`device_revoked`). By the time a round answers
    /// this, the engine has handed over the unsent work and wiped the local data if it could
    /// (`SyncReport::wiped`, `store::Store::revoked_at`); the app signs out.
    pub fn is_device_revoked(&self) -> bool {
        self.server_code() == Some(protocol::codes::DEVICE_REVOKED)
    }

    /// The account was deactivated (`account_deactivated`): the engine has dropped the local data
    /// and noted it (`store::Store::user_is_active` is false from then on); the app signs out.
    pub fn is_account_deactivated(&self) -> bool {
        self.server_code() == Some(protocol::codes::ACCOUNT_DEACTIVATED)
    }
}

impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Offline(msg) => SyncError::Offline(msg),
            TransportError::InsecureServerUrl(e) => SyncError::InsecureServerUrl(e),
            TransportError::Unauthorized(msg) => SyncError::SignInRequired(msg),
            TransportError::ClientTooOld => SyncError::UpdateRequired,
            TransportError::Api(api) => SyncError::Server(api),
        }
    }
}
