//! A station on a real sync server over loopback HTTP, and devices with their own database
//! files, for the engine's tests. Faults are injected by [`Faulty`], a transport wrapper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::org::Role;
use domain::policy::Actor;
use protocol::{
    ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, Session, SnapshotQuery, SnapshotResponse,
};
use store::{DbKey, Store};
use sync_client::{Engine, HttpTransport, SyncError, SyncReport, Transport, TransportError};
use sync_server::{Server, ServerSettings};
use test_support::backend::TestDatabase;
use test_support::world::World;
use test_support::{TestClock, gender_of, id_number, writes};
use uuid::Uuid;

pub use test_support::loopback::Loopback;
pub use test_support::world::PASSWORD;

/// A sync server on a loopback port, reading the system's clock, on the database of the data
/// directory `data_dir` in the run's backend (a SQLite file there, or PostgreSQL's schema of it:
/// `test_support::backend`).
pub fn serve(data_dir: &Path) -> Loopback {
    let storage = TestDatabase::new(data_dir).open();
    Loopback::serve(Server::new(storage, ServerSettings::default(), sync_server::system_clock()), 2)
}

/// The test world's station S on a server over loopback HTTP that reads the system's clock, its
/// data directory `dir/server`. Social workers `wa` and `wb` work there.
pub struct Station {
    pub dir: tempfile::TempDir,
    pub running: Loopback,
    pub station: Uuid,
    pub village: Uuid,
}

impl Station {
    pub fn new() -> Station {
        let dir = tempfile::tempdir().expect("dir");
        let running = serve(&dir.path().join("server"));
        let world = World::with_storage_and_clock(running.server.storage().clone(), TestClock::system());
        Station { dir, running, station: world.station_s, village: world.village_s }
    }

    pub fn url(&self) -> String {
        self.running.url.clone()
    }

    pub fn server_database(&self) -> TestDatabase {
        TestDatabase::new(&self.dir.path().join("server"))
    }

    /// A consistent copy of the server's database, as a backup tool makes one, as the database
    /// of the data directory `to` (which [`serve`] serves). SQLite: `VACUUM INTO`; PostgreSQL: a
    /// copy read in one snapshot, as pg_dump reads.
    pub fn back_up_server(&self, to: &Path) {
        let backup = TestDatabase::new(to);
        if backup.is_postgres() {
            self.server_database().copy_to(&backup);
            return;
        }
        std::fs::create_dir_all(to).expect("the backup's directory");
        let conn = rusqlite::Connection::open(self.server_database().sqlite_path()).expect("open server db");
        conn.execute("VACUUM INTO ?1", [backup.sqlite_path().to_string_lossy()]).expect("backup");
    }

    /// Signs a new laptop in; its database is a file in the station's directory.
    pub fn device(&self, username: &str, name: &str) -> Device {
        let path = self.dir.path().join(format!("{name}.db"));
        let store = Store::open_with_key(&path, &key()).expect("device store");
        let request = serde_json::from_value(serde_json::json!({
            "username": username, "password": PASSWORD, "device_id": store.device_id(), "device_name": name
        }))
        .expect("login request");
        let session = sync_client::login(&self.url(), &request).expect("signs in");
        assert_eq!(session.device_id, store.device_id());
        let actor = Actor::new(session.user_id, Some(Role::SocialWorker { station_id: self.station }));
        let mut device =
            Device { path, store, session, actor, url: self.url(), station: self.station, village: self.village };
        device.sync().expect("the first pull");
        device
    }
}

pub fn key() -> DbKey {
    DbKey([7u8; 32])
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A laptop: its database file, its session, its user.
pub struct Device {
    pub path: PathBuf,
    pub store: Store,
    pub session: Session,
    pub actor: Actor,
    pub url: String,
    pub station: Uuid,
    pub village: Uuid,
}

impl Device {
    /// Records a new recipient; `n` makes the resident ID number.
    pub fn add_recipient(&mut self, name: &str, n: u32) -> Uuid {
        let birth = NaiveDate::from_ymd_opt(1950 + (n % 50) as i32, (n % 12) + 1, 15).expect("date");
        self.add_recipient_with_id(name, &id_number("410522", birth, 200 + n), birth)
    }

    pub fn add_recipient_with_id(&mut self, name: &str, id_number: &str, birth: NaiveDate) -> Uuid {
        let (id, write) =
            writes::recipient_with_id_number(self.station, self.village, name, id_number, birth, gender_of(id_number));
        self.store.record(&self.actor, vec![write], Utc::now(), today()).expect("recorded");
        id
    }

    pub fn edit(&mut self, recipient: Uuid, field: &str, value: &str) {
        let write = Write::update(EntityKind::Recipient, recipient).set(field, value);
        self.store.record(&self.actor, vec![write], Utc::now(), today()).expect("recorded");
    }

    pub fn engine(&self) -> Engine<HttpTransport> {
        Engine::new(HttpTransport::new(&self.url, self.session.clone()).expect("transport"))
    }

    /// One round; a session the transport changed to (refreshed, or a new device's) is kept,
    /// as the app keeps it.
    pub fn sync(&mut self) -> Result<SyncReport, SyncError> {
        let mut engine = self.engine();
        let result = engine.sync_once(&mut self.store, |_| {});
        if let Some(session) = engine.transport().take_refreshed_session() {
            self.session = session;
        }
        result
    }

    pub fn sync_with<T: Transport>(&mut self, transport: T) -> (Result<SyncReport, SyncError>, SyncReport) {
        let mut engine = Engine::new(transport);
        let result = engine.sync_once(&mut self.store, |_| {});
        (result, engine.last_report().clone())
    }

    pub fn has(&self, recipient: Uuid) -> bool {
        self.store.entity(EntityKind::Recipient, recipient).expect("read").is_some()
    }

    /// A copy of the database file as it is now (a backup, or a laptop image).
    pub fn copy_to(&mut self, to: &Path) {
        self.store.checkpoint(true).expect("checkpoint");
        std::fs::copy(&self.path, to).expect("copy");
    }

    /// The database file replaced by `from` (a restored backup, a rollback after power loss).
    pub fn restore_from(&mut self, from: &Path) {
        self.store = Store::open_in_memory().expect("placeholder");
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
        std::fs::copy(from, &self.path).expect("restore");
        self.store = Store::open_with_key(&self.path, &key()).expect("reopen");
    }

    /// Another laptop started from a copy of this one's image (same database, same session).
    pub fn clone_image(&mut self, name: &str) -> Device {
        let path = self.path.with_file_name(format!("{name}.db"));
        self.copy_to(&path);
        let store = Store::open_with_key(&path, &key()).expect("clone store");
        Device {
            path,
            store,
            session: self.session.clone(),
            actor: self.actor.clone(),
            url: self.url.clone(),
            station: self.station,
            village: self.village,
        }
    }
}

/// A transport that fails pushes as `fault` says, and passes everything else on.
pub struct Faulty<T: Transport, F: FnMut(&PushRequest) -> Option<TransportError>> {
    pub inner: T,
    pub fault: F,
    pub pushes: usize,
}

impl<T: Transport, F: FnMut(&PushRequest) -> Option<TransportError>> Faulty<T, F> {
    pub fn new(inner: T, fault: F) -> Self {
        Faulty { inner, fault, pushes: 0 }
    }
}

impl<T: Transport, F: FnMut(&PushRequest) -> Option<TransportError>> Transport for Faulty<T, F> {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.pushes += 1;
        if let Some(error) = (self.fault)(request) {
            return Err(error);
        }
        self.inner.push(request)
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        self.inner.pull(query)
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        self.inner.checksum()
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        self.inner.snapshot(query)
    }
}
