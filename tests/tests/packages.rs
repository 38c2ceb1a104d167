//! The installable packages (issue 15): `scripts/package.sh --debug` builds the desktop app's and
//! the sync server's `.deb`; both are installed on this machine with apt; the server is started
//! as its systemd unit starts it (through systemd where systemd is PID 1, else the unit's own
//! `ExecStart` run as its `User`); a user is made with the installed admin CLI (password on
//! standard input); the installed app, started from its desktop entry's command under WebDriver,
//! signs in against that server and shows the roster; then both packages are purged and nothing
//! of them is left: files, configuration, state, service user, processes, the port.
//!
//! The same build's AppImage (`shegong_<version>_<arch>.AppImage`, by Tauri's bundler with
//! crates/appimage-runtime's linuxdeploy stand-in: the runtime with the AppDir appended) is extracted with `--appimage-extract`, and started itself as the
//! application under WebDriver, signing in against a sync server; its extraction lands in the
//! app's temporary cache directory and goes with it.
//!
//! These two tests need the packages built, and the first needs root and changes the machine's
//! packages, so they are ignored in the ordinary test run; scripts/test.sh runs them in a step of
//! its own (they share one build and run one at a time):
//! `cargo test --workspace --exclude ui --test packages -- --ignored --nocapture`.
//! Their screenshots are `<target>/e2e/ops-packages-01.png` and `ops-appimage-01.png`.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shegong_tests::screens::sign_in;
use shegong_tests::webdriver::{screenshot, wait_for, wait_for_text};
use shegong_tests::{ChildGuard, DEMO_PASSWORD, DesktopApp, SyncServer, deadline, free_port, workspace_root};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const APP_PACKAGE: &str = "shegong";
const SERVER_PACKAGE: &str = "shegong-sync";
const UNIT: &str = "shegong-sync.service";
const SERVER_CONFIG: &str = "/etc/shegong-sync/shegong-sync.toml";
const STATE_DIR: &str = "/var/lib/shegong-sync";
const USERNAME: &str = "anzhuang1";
const PASSWORD: &str = "anzhuang-1234";

#[test]
fn the_packaged_server_configuration_is_the_example_with_the_database_in_the_state_directory() -> TestResult {
    let server = workspace_root().join("sync-server");
    let example = std::fs::read_to_string(server.join("shegong-sync.example.toml"))?;
    let packaged = std::fs::read_to_string(server.join("packaging/shegong-sync.toml"))?;
    let expected = example.replace("\ndata_dir = \"shegong-sync-data\"\n", &format!("\ndata_dir = \"{STATE_DIR}\"\n"));
    assert_ne!(expected, example, "the example names its data_dir on a line of its own");
    assert!(
        packaged.ends_with(&expected),
        "sync-server/packaging/shegong-sync.toml is a header and then shegong-sync.example.toml with \
         data_dir = \"{STATE_DIR}\": copy the example's changes there"
    );
    Ok(())
}

#[test]
fn the_server_unit_runs_as_its_own_user_with_the_packaged_configuration() -> TestResult {
    let unit = Unit::parse(&std::fs::read_to_string(workspace_root().join("sync-server/packaging").join(UNIT))?)?;
    assert_eq!(unit.user, SERVER_PACKAGE);
    assert_eq!(unit.exec_start, ["/usr/bin/shegong-sync", "--config", SERVER_CONFIG, "serve"]);
    for (key, value) in [
        ("StateDirectory", "shegong-sync"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(unit.service.get(key).map(String::as_str), Some(value), "{key}= in the unit");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root and installs packages: scripts/test.sh runs it in a step of its own"]
async fn both_packages_install_run_together_and_purge_without_a_trace() -> TestResult {
    let _deadline = deadline(Duration::from_secs(1400));
    if !is_root() {
        return Err("this test installs packages: run it as root (scripts/test.sh's \"packages\" step)".into());
    }
    for package in [APP_PACKAGE, SERVER_PACKAGE] {
        if !package_absent(package)? {
            return Err(
                format!("{package} is already on this machine: the test would purge it; remove it first").into()
            );
        }
    }

    let (_packages, packages_dir) = built_packages().await?;
    let app_deb = package_file(&packages_dir, APP_PACKAGE, ".deb")?;
    let server_deb = package_file(&packages_dir, SERVER_PACKAGE, ".deb")?;

    // Installed the way an administrator does, with apt resolving the dependencies.
    let mut installation = Installation { purged: false };
    run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .arg(&app_deb)
            .arg(&server_deb)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        300,
    )?;
    let app_files = package_files(APP_PACKAGE)?;
    let server_files = package_files(SERVER_PACKAGE)?;

    // What the server package laid out: its unit, its configuration readable by its user only,
    // the user and the state directory the maintainer script made.
    let unit_path =
        server_files.iter().find(|f| f.ends_with(UNIT)).ok_or("the server package installs its systemd unit")?;
    let unit = Unit::parse(&std::fs::read_to_string(unit_path)?)?;
    // systemd's own reading of the installed unit: valid, and hardened to an exposure of at most
    // 2.0 of 10 ("OK"), also where systemd is not running.
    if Path::new("/usr/bin/systemd-analyze").exists() {
        run(Command::new("systemd-analyze").arg("verify").arg(unit_path), 60)?;
        run(Command::new("systemd-analyze").args(["security", "--offline=true", "--threshold=20"]).arg(unit_path), 60)?;
    } else {
        eprintln!("no systemd-analyze here: the installed unit is not checked by systemd");
    }
    run(Command::new("getent").args(["passwd", &unit.user]), 10)?;
    let config = std::fs::metadata(SERVER_CONFIG)?;
    assert_eq!(config.mode() & 0o777, 0o640, "the configuration may hold secrets");
    assert_eq!(config.gid(), id_of("-g", &unit.user)?, "the service user reads its configuration");
    assert_eq!(std::fs::metadata(STATE_DIR)?.uid(), id_of("-u", &unit.user)?, "the service user owns its state");

    // What the app package laid out: a desktop entry in Chinese and English naming the binary.
    let desktop_file = app_files
        .iter()
        .find(|f| f.starts_with("/usr/share/applications/") && f.extension().is_some_and(|e| e == "desktop"))
        .ok_or("the app package installs a desktop entry")?;
    let entry = std::fs::read_to_string(desktop_file)?;
    assert!(entry.lines().any(|l| l == "Name[zh_CN]=社工"), "the entry's Chinese name:\n{entry}");
    assert!(entry.lines().any(|l| l.starts_with("Comment[zh_CN]=")), "the entry's Chinese comment:\n{entry}");
    let exec = entry.lines().find_map(|l| l.strip_prefix("Exec=")).ok_or("the entry's Exec")?;
    let application = Path::new("/usr/bin").join(exec.trim());
    assert!(app_files.contains(&application), "the entry starts the installed binary {}", application.display());

    // The organisation and a social worker, through the installed admin CLI as the service user.
    let admin = |args: &[&str]| unit.admin_command(args);
    let station = run(&mut admin(&["create-station", "--name", "安装测试社工站", "--county", "示范县"]), 60)?;
    let point = run(&mut admin(&["create-service-point", "--station", &station, "--name", "东关社工点"]), 60)?;
    let mut create_user = admin(&[
        "create-user",
        "--username",
        USERNAME,
        "--display-name",
        "安装测试",
        "--role",
        "social-worker",
        "--station",
        &station,
        "--service-point",
        &point,
        "--post",
        "service",
        "--password-stdin",
    ]);
    run_with_input(&mut create_user, &format!("{PASSWORD}\n"), 60)?;

    let port = free_port()?;
    let server = unit.start(port)?;
    let url = format!("http://127.0.0.1:{port}");

    // The installed app against the installed server.
    let app = DesktopApp::start_application(application.clone(), &url)?;
    let driver = app.launch().await?;
    sign_in(&driver, USERNAME, PASSWORD, "#roster-title").await?;
    wait_for(&driver, "#roster-empty").await?;
    wait_for_text(&driver, "#sync-online", "online", |t| t.contains("在线")).await?;
    screenshot(&driver, "ops-packages-01").await?;
    driver.quit().await?;
    drop(app);
    server.stop()?;

    // Purged: nothing of either package is left.
    installation.purge()?;
    for package in [APP_PACKAGE, SERVER_PACKAGE] {
        assert!(package_absent(package)?, "{package} is purged, configuration included");
    }
    for file in app_files.iter().chain(&server_files).filter(|f| !f.is_dir()) {
        assert!(!file.exists() && !file.is_symlink(), "{} is gone", file.display());
    }
    for dir in ["/etc/shegong-sync", STATE_DIR] {
        assert!(!Path::new(dir).exists(), "{dir} is gone");
    }
    for database in ["passwd", "group"] {
        let found = Command::new("getent").args([database, &unit.user]).output()?;
        assert!(!found.status.success(), "the service user is gone from {database}");
    }
    let installed_binaries = [application, PathBuf::from(&unit.exec_start[0])];
    let left = processes_running(&installed_binaries)?;
    assert!(left.is_empty(), "no process of the packages is left: {left:?}");
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} is free again");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the packages built: scripts/test.sh runs it in its packages step"]
async fn the_appimage_holds_the_app_and_runs_it_from_a_cache_it_leaves_with_the_home() -> TestResult {
    let _deadline = deadline(Duration::from_secs(1400));
    let (_packages, packages_dir) = built_packages().await?;
    let appimage = package_file(&packages_dir, APP_PACKAGE, ".AppImage")?;
    let built_app = std::fs::read(shegong_tests::binary("shegong")?)?;

    // Extracted as with the official runtime, from a directory and a home of its own.
    let work = tempfile::tempdir()?;
    let home = work.path().join("home");
    std::fs::create_dir(&home)?;
    run(
        Command::new(&appimage)
            .arg("--appimage-extract")
            .current_dir(work.path())
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join(".cache")),
        300,
    )?;
    let root = work.path().join("squashfs-root");
    assert_ne!(std::fs::metadata(root.join("AppRun"))?.mode() & 0o111, 0, "AppRun is executable");
    assert!(
        std::fs::read(root.join("usr/bin/shegong"))? == built_app,
        "usr/bin/shegong is the built app, byte for byte"
    );
    assert_ne!(std::fs::metadata(root.join("usr/bin/shegong"))?.mode() & 0o111, 0, "the app is executable");
    // The bundler names the root's desktop entry (a link into usr/share/applications) after the
    // product.
    let entries: Vec<PathBuf> = std::fs::read_dir(&root)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "desktop"))
        .collect();
    let [entry] = entries.as_slice() else {
        return Err(format!("one desktop entry at the AppDir's root: {entries:?}").into());
    };
    let entry = std::fs::read_to_string(entry)?;
    assert!(entry.lines().any(|l| l == "Name[zh_CN]=社工"), "the desktop entry at the root:\n{entry}");
    assert!(entry.lines().any(|l| l == "Exec=shegong"), "the desktop entry at the root:\n{entry}");
    let icon = std::fs::read(root.join(".DirIcon"))?;
    assert!(icon.starts_with(b"\x89PNG\r\n\x1a\n"), ".DirIcon leads to the PNG icon");
    assert!(!home.join(".cache").exists(), "extracting uses no cache");
    drop(work);

    // The image itself as the application, against a sync server.
    let server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start_application(appimage.clone(), server.url())?;
    let cache = app
        .dirs()
        .env()
        .into_iter()
        .find_map(|(name, path)| (name == "XDG_CACHE_HOME").then_some(path))
        .ok_or("the app's XDG_CACHE_HOME")?
        .join("shegong-appimage");
    let driver = app.launch().await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD, "#roster-title").await?;
    wait_for_text(&driver, "#sync-online", "online", |t| t.contains("在线")).await?;
    let extracted: Vec<PathBuf> = std::fs::read_dir(&cache)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    let [extracted] = extracted.as_slice() else {
        return Err(format!("one extraction in {}, no temporary one: {extracted:?}", cache.display()).into());
    };
    let cached_app = extracted.join("usr/bin/shegong");
    assert!(std::fs::read(&cached_app)? == built_app, "the cache holds the built app");
    let running = processes_running(std::slice::from_ref(&cached_app))?;
    assert_eq!(running.len(), 1, "the app runs from the image's extraction: {running:?}");
    screenshot(&driver, "ops-appimage-01").await?;
    driver.quit().await?;
    drop(app);
    assert!(!cache.exists(), "the extraction went with the app's temporary cache directory");
    let started = Instant::now();
    while !processes_running(std::slice::from_ref(&cached_app))?.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "the app from the AppImage is gone after quitting");
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// The packages, built once for this test binary by `scripts/package.sh --debug` from the test
/// command's own build. Each test that uses them holds this while it runs, so they run one at a
/// time: each starts the app, and the first changes the machine's packages.
static PACKAGES: tokio::sync::Mutex<Option<PathBuf>> = tokio::sync::Mutex::const_new(None);

async fn built_packages() -> TestResult<(tokio::sync::MutexGuard<'static, Option<PathBuf>>, PathBuf)> {
    let mut built = PACKAGES.lock().await;
    if built.is_none() {
        let started = Instant::now();
        let status = Command::new("timeout")
            .args(["--kill-after=30", "1200"])
            .arg(workspace_root().join("scripts/package.sh"))
            .arg("--debug")
            .current_dir(workspace_root())
            .status()?;
        if !status.success() {
            return Err(format!("scripts/package.sh --debug failed: {status}").into());
        }
        eprintln!("packages built in {} s", started.elapsed().as_secs());
        *built = Some(shegong_tests::target_dir()?.join("packages"));
    }
    let dir = built.clone().ok_or("the packages directory")?;
    Ok((built, dir))
}

/// A systemd unit's `[Service]` section, as far as starting it by hand needs.
struct Unit {
    exec_start: Vec<String>,
    user: String,
    group: String,
    environment: Vec<(String, String)>,
    umask: Option<String>,
    service: BTreeMap<String, String>,
}

impl Unit {
    fn parse(text: &str) -> TestResult<Unit> {
        let mut section = "";
        let mut service = BTreeMap::new();
        let mut environment = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if section != "[Service]" {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| format!("not a unit setting: {line}"))?;
            if key == "Environment" {
                for assignment in value.split_whitespace() {
                    let (name, value) = assignment.split_once('=').ok_or("Environment=NAME=VALUE")?;
                    environment.push((name.to_string(), value.to_string()));
                }
            }
            service.insert(key.to_string(), value.to_string());
        }
        let exec_start = service.get("ExecStart").ok_or("the unit has an ExecStart")?;
        // Prefixes (`-`, `@`, `+`, `!`) and quoting would change how systemd runs it.
        if exec_start.starts_with(['-', '@', '+', '!', ':']) || exec_start.contains(['"', '\'', '\\', '$', '%']) {
            return Err(format!("ExecStart is more than a plain command line: {exec_start}").into());
        }
        let exec_start: Vec<String> = exec_start.split_whitespace().map(str::to_string).collect();
        let user = service.get("User").ok_or("the unit names its User")?.clone();
        let group = service.get("Group").cloned().unwrap_or_else(|| user.clone());
        let umask = service.get("UMask").cloned();
        Ok(Unit { exec_start, user, group, environment, umask, service })
    }

    /// The command line run as the unit's user and group, with the unit's environment (and
    /// `extra_env`) and umask in an otherwise empty environment, from `/`, as systemd runs
    /// `ExecStart`.
    fn as_service(&self, command_line: &[String], extra_env: &[(&str, String)]) -> Command {
        let umask = self.umask.clone().unwrap_or_else(|| "0022".into());
        let mut command = Command::new("env");
        command.arg("-i").args([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            "LANG=C.UTF-8".to_string(),
            format!("USER={}", self.user),
            format!("LOGNAME={}", self.user),
        ]);
        if let Some(state) = self.service.get("StateDirectory") {
            command.arg(format!("STATE_DIRECTORY=/var/lib/{state}"));
        }
        for (name, value) in self.environment.iter().map(|(n, v)| (n.as_str(), v.as_str())) {
            command.arg(format!("{name}={value}"));
        }
        for (name, value) in extra_env {
            command.arg(format!("{name}={value}"));
        }
        command
            .args(["sh", "-c", "umask \"$0\" && exec \"$@\"", &umask])
            .args(["setpriv", "--reuid", &self.user, "--regid", &self.group, "--init-groups", "--"])
            .args(command_line)
            .current_dir("/");
        command
    }

    /// `shegong-sync admin ARGS` with the unit's options (its `--config`), as its user.
    fn admin_command(&self, args: &[&str]) -> Command {
        let mut line: Vec<String> = self.exec_start.iter().filter(|word| *word != "serve").cloned().collect();
        line.push("admin".into());
        line.extend(args.iter().map(|a| a.to_string()));
        self.as_service(&line, &[])
    }

    /// Starts the server listening on `port` of loopback: through systemd where it runs (a
    /// drop-in sets the address), else the unit's own command line.
    fn start(&self, port: u16) -> TestResult<Server> {
        if Path::new("/run/systemd/system").is_dir() {
            let drop_in = Path::new("/etc/systemd/system").join(format!("{UNIT}.d"));
            std::fs::create_dir_all(&drop_in)?;
            std::fs::write(
                drop_in.join("packages-test.conf"),
                format!("[Service]\nEnvironment=SHEGONG_SYNC__LISTEN=127.0.0.1:{port}\n"),
            )?;
            run(Command::new("systemctl").arg("daemon-reload"), 60)?;
            run(Command::new("systemctl").args(["restart", UNIT]), 60)?;
            wait_for_port(port, Duration::from_secs(30))?;
            return Ok(Server::Systemd { drop_in });
        }
        let mut command = self.as_service(&self.exec_start, &[("SHEGONG_SYNC__LISTEN", format!("127.0.0.1:{port}"))]);
        let mut process = ChildGuard::spawn("installed shegong-sync", &mut command)?;
        process.wait_for_line("its \"listening on\" line", Duration::from_secs(30), |line| {
            line.contains("listening on").then_some(())
        })?;
        Ok(Server::Process(process))
    }
}

enum Server {
    Process(ChildGuard),
    Systemd { drop_in: PathBuf },
}

impl Server {
    fn stop(self) -> TestResult {
        match self {
            Server::Process(mut process) => process.stop(),
            Server::Systemd { drop_in } => {
                run(Command::new("systemctl").args(["stop", UNIT]), 60)?;
                std::fs::remove_dir_all(drop_in)?;
                run(Command::new("systemctl").arg("daemon-reload"), 60)?;
            }
        }
        Ok(())
    }
}

/// Both packages installed; purged when dropped, so a failing test leaves the machine as it
/// found it.
struct Installation {
    purged: bool,
}

impl Installation {
    /// Purged the way an administrator does.
    fn purge(&mut self) -> TestResult {
        self.purged = true;
        run(
            Command::new("apt-get")
                .args(["purge", "-y", APP_PACKAGE, SERVER_PACKAGE])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            300,
        )?;
        Ok(())
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        if !self.purged {
            let _ = Command::new("timeout")
                .args(["300", "dpkg", "--purge", APP_PACKAGE, SERVER_PACKAGE])
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// Runs a command with a time limit (coreutils' `timeout`); its trimmed standard output.
fn run(command: &mut Command, limit_secs: u32) -> TestResult<String> {
    let output = limited(command, limit_secs).stdin(Stdio::null()).output()?;
    checked(command, output)
}

fn run_with_input(command: &mut Command, input: &str, limit_secs: u32) -> TestResult<String> {
    let mut child =
        limited(command, limit_secs).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    child.stdin.take().ok_or("the command's standard input")?.write_all(input.as_bytes())?;
    let output = child.wait_with_output()?;
    checked(command, output)
}

/// `command` itself run under `timeout`: the same program, arguments, environment and directory.
fn limited(command: &Command, limit_secs: u32) -> Command {
    let mut wrapped = Command::new("timeout");
    wrapped.args(["--kill-after=10", &limit_secs.to_string()]).arg(command.get_program()).args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

fn checked(command: &Command, output: std::process::Output) -> TestResult<String> {
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
        .unwrap_or(false)
}

/// Whether dpkg knows nothing of the package: neither installed nor its configuration kept.
fn package_absent(package: &str) -> TestResult<bool> {
    let output = limited(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Status}", package]), 30).output()?;
    let status = String::from_utf8_lossy(&output.stdout);
    Ok(!output.status.success() || status.trim().is_empty() || status.trim() == "not-installed")
}

/// The paths dpkg lists for an installed package.
fn package_files(package: &str) -> TestResult<Vec<PathBuf>> {
    let listing = run(Command::new("dpkg").args(["-L", package]), 30)?;
    Ok(listing.lines().filter(|l| l.starts_with('/') && *l != "/.").map(PathBuf::from).collect())
}

/// The file of `package` that scripts/package.sh wrote (`<package>_<version>_<arch><suffix>`,
/// `suffix` `.deb` or `.AppImage`).
fn package_file(dir: &Path, package: &str, suffix: &str) -> TestResult<PathBuf> {
    let prefix = format!("{package}_");
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with(&prefix) && name.ends_with(suffix) {
            return Ok(path);
        }
    }
    Err(format!("no {prefix}*{suffix} in {}", dir.display()).into())
}

fn id_of(flag: &str, user: &str) -> TestResult<u32> {
    Ok(run(Command::new("id").args([flag, user]), 10)?.parse()?)
}

fn wait_for_port(port: u16, limit: Duration) -> TestResult {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listened on port {port} within {} s", limit.as_secs()).into())
}

/// The processes (pid and executable) running any of `binaries`, a deleted one included.
fn processes_running(binaries: &[PathBuf]) -> TestResult<Vec<(u32, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else { continue };
        let shown = exe.to_string_lossy();
        if binaries.iter().any(|b| shown.strip_suffix(" (deleted)").unwrap_or(&shown) == b.to_string_lossy()) {
            found.push((pid, exe));
        }
    }
    Ok(found)
}
