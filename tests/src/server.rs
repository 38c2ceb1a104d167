//! The real sync server (`shegong-sync`) on a free loopback port, with its data in a temporary
//! directory, optionally seeded with the demo station.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use domain::change::Incoming;
use domain::entity::EntityKind;
use protocol::{LoginRequest, PullQuery};
use serde_json::Value;
use sync_client::{HttpTransport, Transport};
use tempfile::TempDir;
use uuid::Uuid;

use crate::process::ChildGuard;
use crate::{HarnessError, Result, binary};

/// The password of every demo user (`shegong1`, `fuzhan1`, `dudao1`, `admin`).
pub const DEMO_PASSWORD: &str = "demo1234";

pub struct SyncServer {
    url: String,
    process: ChildGuard,
    // Dropped after the process (fields drop in order), so the server never loses its files.
    data_dir: TempDir,
    /// The environment naming its database, when not the SQLite file in `data_dir`.
    database_env: Vec<(String, String)>,
}

/// The environment that names a server's database, given its data directory (e.g.
/// `test_support::backend::TestDatabase::server_env`, for PostgreSQL).
pub type DatabaseEnv = fn(&Path) -> Vec<(String, String)>;

impl SyncServer {
    /// Seeds the demo data into a fresh data directory and starts the server on it.
    pub fn start_with_demo_data() -> Result<SyncServer> {
        Self::start_with_demo_data_on(|_| Vec::new())
    }

    /// [`SyncServer::start_with_demo_data`], the database named by `database_env` (the run's
    /// backend, for the sync tests that run on both).
    pub fn start_with_demo_data_on(database_env: DatabaseEnv) -> Result<SyncServer> {
        let data_dir = TempDir::with_prefix("shegong-server-").map_err(HarnessError::io("creating a temp dir"))?;
        let database_env = database_env(data_dir.path());
        let exe = binary("shegong-sync")?;
        let output = Command::new(&exe)
            .args(["admin", "seed-demo"])
            .env("SHEGONG_SYNC__DATA_DIR", data_dir.path())
            .envs(database_env.iter().cloned())
            .output()
            .map_err(HarnessError::io("running shegong-sync admin seed-demo"))?;
        if !output.status.success() {
            return Err(HarnessError::Setup(format!(
                "shegong-sync admin seed-demo failed: {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let (process, url) = serve(data_dir.path(), "127.0.0.1:0", &database_env)?;
        Ok(SyncServer { url, process, data_dir, database_env })
    }

    /// Starts the server on an existing data directory (e.g. one seeded by the test itself).
    pub fn start_on(data_dir: TempDir) -> Result<SyncServer> {
        let (process, url) = serve(data_dir.path(), "127.0.0.1:0", &[])?;
        Ok(SyncServer { url, process, data_dir, database_env: Vec::new() })
    }

    /// Kills the server with SIGKILL, mid-whatever it was doing (its files stay).
    pub fn kill_hard(&mut self) {
        self.process.kill();
    }

    /// Starts the server again on the same files and the same port, after a stop or a kill, so
    /// clients find it where it was.
    pub fn restart(&mut self) -> Result<()> {
        self.process.stop();
        let listen = self.url.trim_start_matches("http://").to_string();
        let (process, url) = serve(self.data_dir.path(), &listen, &self.database_env)?;
        self.process = process;
        self.url = url;
        Ok(())
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Everything `username` may see, as a new device of theirs pulls it from the start of the
    /// log: a view of the server's state from the outside, through the real protocol. Blocking.
    pub fn pull_everything(&self, username: &str, password: &str) -> Result<Vec<Incoming>> {
        let request = LoginRequest {
            username: username.into(),
            password: password.into(),
            device_id: None,
            device_name: "shegong-tests".into(),
            signing_key: None,
            signing_key_proof: None,
        };
        let failed =
            |e: &dyn std::fmt::Display| HarnessError::Setup(format!("pulling from the sync server as {username}: {e}"));
        let session = sync_client::login(&self.url, &request).map_err(|e| failed(&e))?;
        let mut transport = HttpTransport::new(&self.url, session).map_err(|e| failed(&e))?;
        let mut items = Vec::new();
        let mut after = 0;
        loop {
            let page = transport.pull(PullQuery { after, limit: None }).map_err(|e| failed(&e))?;
            items.extend(page.entries.into_iter().map(|entry| entry.item));
            if !page.has_more || page.next_cursor <= after {
                return Ok(items);
            }
            after = page.next_cursor;
        }
    }

    /// Every record `username` may see now, by id, each with the fields the server holds: the
    /// pulled entries of [`SyncServer::pull_everything`] folded together (an eviction removes
    /// the record). Blocking.
    pub fn held_by(&self, username: &str, password: &str) -> Result<BTreeMap<Uuid, Held>> {
        let mut held: BTreeMap<Uuid, Held> = BTreeMap::new();
        for item in self.pull_everything(username, password)? {
            let (kind, id, fields): (EntityKind, Uuid, Vec<(String, Value)>) = match item {
                Incoming::Snapshot(state) => (state.kind, state.id, state.fields.into_iter().collect()),
                Incoming::Change(change) => {
                    (change.entity, change.entity_id, change.fields.into_iter().map(|(k, w)| (k, w.value)).collect())
                }
                Incoming::Evict { entity_id, .. } => {
                    held.remove(&entity_id);
                    continue;
                }
            };
            held.entry(id).or_insert_with(|| Held { kind, fields: BTreeMap::new() }).fields.extend(fields);
        }
        Ok(held)
    }

    /// Stops the server (its data stays until the guard is dropped), e.g. to test offline work.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// Runs `shegong-sync serve` on `data_dir`, listening on `listen`; returns it and its base URL.
fn serve(data_dir: &Path, listen: &str, database_env: &[(String, String)]) -> Result<(ChildGuard, String)> {
    let exe = binary("shegong-sync")?;
    let mut command = Command::new(&exe);
    command
        .arg("serve")
        .env("SHEGONG_SYNC__DATA_DIR", data_dir)
        .envs(database_env.iter().cloned())
        .env("SHEGONG_SYNC__LISTEN", listen)
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()));
    let mut process = ChildGuard::spawn("shegong-sync", &mut command)?;
    let url = process.wait_for_line("its \"listening on\" line", Duration::from_secs(30), |line| {
        line.split_once("listening on ").map(|(_, url)| url.trim().to_string())
    })?;
    Ok((process, url))
}

/// One record as the server holds it, seen from the outside ([`SyncServer::held_by`]).
#[derive(Debug, Clone)]
pub struct Held {
    pub kind: EntityKind,
    pub fields: BTreeMap<String, Value>,
}

impl Held {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub fn id_of(&self, name: &str) -> Option<Uuid> {
        self.str(name).and_then(|s| s.parse().ok())
    }
}
