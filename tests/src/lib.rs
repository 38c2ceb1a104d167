//! The harness for tests that run Shegong's real binaries: the sync server (`shegong-sync`) and
//! the desktop app (`shegong`) driven through WebDriver (tauri-driver with WebKitWebDriver, on a
//! private Xvfb display). Everything a test starts gets its own temporary directories and free
//! ports, and is stopped, by process id, when its guard is dropped.
//!
//! The binaries are the ones built next to the test executable (`target/debug/`): build them
//! first (`cargo build`; `scripts/test.sh` does).

mod deadline;
mod desktop;
mod paths;
mod process;
pub mod screens;
mod server;
pub mod webdriver;

pub use deadline::{Deadline, deadline};
pub use desktop::{APP_IDENTIFIER, AppDirs, DesktopApp, Display, TauriDriver};
pub use paths::{binary, screenshot_dir, target_dir, workspace_root};
pub use process::{ChildGuard, free_port};
pub use server::{DEMO_PASSWORD, Held, SyncServer};

/// Why the harness could not set something up. The message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{0}")]
    Setup(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("webdriver: {0}")]
    WebDriver(#[from] thirtyfour::error::WebDriverError),
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    /// The app's screen is not as a step expects it (a field missing, a route naming nothing).
    #[error("{0}")]
    Ui(String),
}

impl HarnessError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
        let what = what.into();
        move |source| HarnessError::Io { what, source }
    }
}

pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
