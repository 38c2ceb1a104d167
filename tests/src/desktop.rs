//! The desktop app under WebDriver: a private Xvfb display, tauri-driver (with Debian's
//! WebKitWebDriver) on free ports, and temporary XDG directories so each run has its own app
//! data. Each WebDriver session starts the app; ending the session quits it.

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;
use thirtyfour::{Capabilities, WebDriver};

use crate::process::{ChildGuard, free_port, wait_until};
use crate::{HarnessError, Result, binary};

const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";

/// An Xvfb display of its own (Xvfb picks a free display number and tells us).
pub struct Display {
    number: u32,
    process: ChildGuard,
}

impl Display {
    pub fn start() -> Result<Display> {
        let mut command = Command::new("Xvfb");
        command.args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"]);
        let mut process = ChildGuard::spawn("Xvfb", &mut command)
            .map_err(|e| HarnessError::Setup(format!("{e} (is Xvfb installed? scripts/setup.sh installs it)")))?;
        let number: u32 =
            process.wait_for_line("its display number", Duration::from_secs(20), |line| line.trim().parse().ok())?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        wait_until("the X display's socket", Duration::from_secs(20), || socket.exists())?;
        Ok(Display { number, process })
    }

    /// The value for `DISPLAY`, e.g. `:3`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }
}

/// The app's own directories for one run: data (the users' databases), config (settings), cache
/// and runtime, passed to the app as `XDG_*`.
pub struct AppDirs {
    root: TempDir,
}

impl AppDirs {
    pub fn new() -> Result<AppDirs> {
        let root = TempDir::with_prefix("shegong-app-").map_err(HarnessError::io("creating a temp dir"))?;
        for dir in ["data", "config", "cache", "runtime"] {
            std::fs::create_dir_all(root.path().join(dir)).map_err(HarnessError::io("creating XDG dirs"))?;
        }
        // XDG_RUNTIME_DIR must be private to its user.
        std::fs::set_permissions(root.path().join("runtime"), std::fs::Permissions::from_mode(0o700))
            .map_err(HarnessError::io("securing XDG_RUNTIME_DIR"))?;
        Ok(AppDirs { root })
    }

    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("XDG_DATA_HOME", self.root.path().join("data")),
            ("XDG_CONFIG_HOME", self.root.path().join("config")),
            ("XDG_CACHE_HOME", self.root.path().join("cache")),
            ("XDG_RUNTIME_DIR", self.root.path().join("runtime")),
        ]
    }

    /// The app's data directory (Tauri's app data dir: `$XDG_DATA_HOME/<identifier>`).
    pub fn app_data_dir(&self) -> PathBuf {
        self.root.path().join("data").join(APP_IDENTIFIER)
    }
}

/// The identifier in src-tauri/tauri.conf.json, which names the app's directories.
pub const APP_IDENTIFIER: &str = "cn.shegong.desktop";

/// tauri-driver on free ports, with the environment the app will inherit.
pub struct TauriDriver {
    port: u16,
    process: ChildGuard,
}

impl TauriDriver {
    pub fn start(display: &Display, env: &[(&str, PathBuf)], extra_env: &[(&str, String)]) -> Result<TauriDriver> {
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new(tauri_driver_path());
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .args(["--native-driver", WEBKIT_WEBDRIVER])
            .env("DISPLAY", display.name())
            // The app's log level (the app logs to stderr, which the test shows).
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
        for (key, value) in env {
            command.env(key, value);
        }
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let process = ChildGuard::spawn("tauri-driver", &mut command).map_err(|e| {
            HarnessError::Setup(format!("{e} (is tauri-driver installed? scripts/setup.sh installs it)"))
        })?;
        let driver = TauriDriver { port, process };
        let address = format!("127.0.0.1:{port}");
        wait_until("tauri-driver to listen", Duration::from_secs(20), || {
            TcpStream::connect(&address).is_ok() || !driver.process.is_running()
        })?;
        if !driver.process.is_running() {
            return Err(HarnessError::Setup("tauri-driver exited at start".into()));
        }
        Ok(driver)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn tauri_driver_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    match cargo_home.map(|home| home.join("bin").join("tauri-driver")) {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("tauri-driver"),
    }
}

/// The built desktop app, ready to be started under WebDriver with its own display, driver and
/// directories. Dropping it quits the app and stops the driver and the display.
pub struct DesktopApp {
    // Field order is drop order: the driver (and the app under it) before the display.
    driver: TauriDriver,
    display: Display,
    dirs: AppDirs,
    application: PathBuf,
}

impl DesktopApp {
    /// Prepares the app to talk to the sync server at `server_url`.
    pub fn start(server_url: &str) -> Result<DesktopApp> {
        Self::start_application(binary("shegong")?, server_url)
    }

    /// The same for another build of the app than the workspace's, e.g. the one a package
    /// installed (`/usr/bin/shegong`).
    pub fn start_application(application: PathBuf, server_url: &str) -> Result<DesktopApp> {
        let display = Display::start()?;
        let dirs = AppDirs::new()?;
        let driver = TauriDriver::start(&display, &dirs.env(), &[("SHEGONG_SERVER_URL", server_url.to_string())])?;
        Ok(DesktopApp { driver, display, dirs, application })
    }

    /// Starts the app in a new WebDriver session. Quitting the session quits the app.
    ///
    /// A request the driver dropped before answering (seen on a loaded machine: tauri-driver
    /// listens before the native driver behind it does) made no session, so it is asked again,
    /// up to three times a second apart; any answer from the driver is final.
    pub async fn launch(&self) -> Result<WebDriver> {
        let mut caps = Capabilities::new();
        caps.set("browserName", "wry")?;
        caps.set("tauri:options", json!({ "application": self.application }))?;
        let mut attempt = 1;
        loop {
            match WebDriver::new(self.driver.url(), caps.clone()).await {
                Ok(driver) => return Ok(driver),
                Err(e) if attempt < 3 && e.to_string().contains("error sending request") => {
                    eprintln!("the driver dropped the new session's request ({e}); asking again");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    return Err(HarnessError::Setup(format!(
                        "the app did not start under WebDriver: {e} (display {} running: {}, tauri-driver running: {})",
                        self.display.name(),
                        self.display.is_running(),
                        self.driver.process.is_running()
                    )));
                }
            }
        }
    }

    pub fn dirs(&self) -> &AppDirs {
        &self.dirs
    }

    pub fn display(&self) -> &Display {
        &self.display
    }
}
