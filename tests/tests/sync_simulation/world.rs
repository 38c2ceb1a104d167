//! The world of one scenario: the server, the devices (six, plus any clones), their files, the
//! model, and what each operation does to them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::Labelled;
use domain::case::{ClosureStatus, Stage};
use domain::change::{Change, Write};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::org::{Post, Role, RoleKind, User};
use domain::policy::Actor;
use domain::rules::StateView;
use domain::signoff;
use protocol::{LoginRequest, PullResponse, PushOutcome, PushResponse, RefreshRequest, limits};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use store::{DbKey, Store, StoreError};
use sync_client::{Engine, SyncError, SyncReport};
use sync_server::{NewUser, SYSTEM_USER_ID, Server, ServerSettings, SqliteStorage};
use test_support::backend::TestDatabase;
use uuid::Uuid;

use crate::model::{Fate, Model};
use crate::transport::{MidRoundWrite, SimTransport, Tokens, transport_error, wire_push};
use crate::{
    AdminAction, ClockJump, DEVICES, Edit, Failure, Family, Fault, HEAL_ROUNDS, Outcome, SimOp, check, ctx, enabled,
    fail, verbose,
};

const CATEGORIES: [&str; 3] = ["Dibao", "Disability", "LeftBehindChild"];
/// Pages of 7 entries, committed every 20: a long pull goes three pages to a transaction, so a
/// crash or a cut finds pages applied and not yet committed.
const PULL_BATCH: usize = 20;
const START: i64 = 1_795_000_000_000; // 2026-11-18, in milliseconds
/// 9999-12-31T23:59:59Z: the last second a date can name.
const YEAR_9999: i64 = 253_402_300_799_000;
/// 1970-01-02: a laptop whose clock battery died.
const YEAR_1970: i64 = 86_400_000;
/// A reverse proxy in front of the server with a small body limit.
const PROXY_BODY_LIMIT: usize = 512 * 1024;
/// The largest millis the stamp's text form holds (13 hex digits).
const MAX_STAMP_MILLIS: u64 = 0xF_FFFF_FFFF_FFFF;
/// The largest counter the stamp's text form holds (5 hex digits).
const MAX_STAMP_COUNTER: u32 = 0xF_FFFF;

// ---------------------------------------------------------------------------------------------
// The template: users, devices, keys, built once per process and copied for each seed.

pub struct Template {
    dir: tempfile::TempDir,
    stations: [Uuid; 2],
    villages: Vec<(Uuid, Uuid)>, // (station, village)
    points: BTreeMap<Uuid, Uuid>,
    devices: Vec<DeviceTemplate>,
}

#[derive(Clone)]
pub struct DeviceTemplate {
    pub index: usize,
    pub name: &'static str,
    pub user_id: Uuid,
    pub role: RoleKind,
    /// The station the user starts in (for a supervisor, the first one supervised).
    pub station: Uuid,
    pub key: [u8; 32],
    pub tokens: Tokens,
    pub device_id: Uuid,
    /// A second laptop of the same user, registered for a tampered client's pushes and for
    /// clients of another version.
    pub rogue_tokens: Tokens,
    pub rogue_device: Uuid,
}

fn template_settings() -> ServerSettings {
    ServerSettings { access_token_ttl: Duration::days(3650), ..ServerSettings::default() }
}

fn world_settings() -> ServerSettings {
    if enabled(Family::ShortTokens) { ServerSettings::default() } else { template_settings() }
}

fn fixed_clock(millis: Arc<AtomicI64>) -> sync_server::WallClock {
    Arc::new(move || Utc.timestamp_millis_opt(millis.load(Ordering::SeqCst)).single().unwrap_or_default())
}

fn template() -> &'static Template {
    static TEMPLATE: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(build_template)
}

/// A scratch directory, in memory where the machine has one: the simulation exercises SQLite's
/// transactions, not the disk's fsync.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("temp dir")
}

fn tokens(session: &protocol::Session) -> Tokens {
    Tokens { access: session.access_token.clone(), refresh: session.refresh_token.clone(), device: session.device_id }
}

fn build_template() -> Template {
    let dir = scratch();
    let clock = Arc::new(AtomicI64::new(START));
    let storage = server_database(dir.path()).open();
    let server = Server::new(storage, template_settings(), fixed_clock(clock));
    let admin = server.admin();
    let a = admin.create_station("城关镇社工站", "示范县").expect("station");
    let b = admin.create_station("河口镇社工站", "示范县").expect("station");
    let mut villages = Vec::new();
    let mut points = BTreeMap::new();
    for (station, count) in [(a, 3), (b, 1)] {
        let point = admin.create_service_point(station, "社工点").expect("point");
        points.insert(station, point);
        for n in 0..count {
            villages.push((station, admin.create_village(station, point, &format!("{n}村")).expect("village")));
        }
    }
    let people: [(&str, RoleKind, Uuid); DEVICES] = [
        ("w1", RoleKind::SocialWorker, a),
        ("w2", RoleKind::SocialWorker, a),
        ("w3", RoleKind::SocialWorker, a),
        ("d1", RoleKind::DeputyHead, a),
        ("s1", RoleKind::Supervisor, a),
        ("wb", RoleKind::SocialWorker, b),
    ];
    let mut devices = Vec::new();
    for (i, (name, role, station)) in people.into_iter().enumerate() {
        let user_id = admin
            .create_user(&NewUser {
                username: name.into(),
                display_name: format!("用户{name}"),
                role,
                post: (role == RoleKind::SocialWorker).then_some(Post::Service),
                station_id: (role != RoleKind::Supervisor).then_some(station),
                service_point_id: (role == RoleKind::SocialWorker).then(|| points[&station]),
                supervised_station_ids: if role == RoleKind::Supervisor { vec![a, b] } else { vec![] },
                password: "simulate".into(),
            })
            .expect("user");
        let key = [i as u8 + 1; 32];
        let path = dir.path().join(format!("{name}.db"));
        let device_id = Uuid::from_u128(0xd000 + i as u128);
        {
            let store = Store::open_with_key(&path, &DbKey(key)).expect("store");
            // Fixed ids and keys, so a seed replays the same tie-breaks in any process.
            store
                .connection()
                .execute(
                    "UPDATE device SET device_id = ?1, signing_key = ?2",
                    rusqlite::params![device_id.to_string(), hex::encode([i as u8 + 100; 32])],
                )
                .expect("fix device id");
        }
        let mut store = Store::open_with_key(&path, &DbKey(key)).expect("store");
        assert_eq!(store.device_id(), device_id);
        let key_pair = store.signing_key().expect("key");
        let signing_key = signoff::public_key_hex(&key_pair);
        let login = |device: Uuid| {
            server
                .login(LoginRequest {
                    username: name.into(),
                    password: "simulate".into(),
                    device_id: Some(device),
                    device_name: format!("{name}'s laptop"),
                    signing_key: (role == RoleKind::Supervisor).then(|| signing_key.clone()),
                    signing_key_proof: (role == RoleKind::Supervisor)
                        .then(|| signoff::prove_key(&key_pair, user_id, device)),
                })
                .expect("login")
        };
        let session = login(device_id);
        let rogue_device = Uuid::from_u128(0xe000 + i as u128);
        let rogue = login(rogue_device);
        devices.push(DeviceTemplate {
            index: i,
            name,
            user_id,
            role,
            station,
            key,
            tokens: tokens(&session),
            device_id,
            rogue_tokens: tokens(&rogue),
            rogue_device,
        });
    }
    // Every device starts having pulled the organisation (stations, villages, users).
    for d in &devices {
        let mut store = Store::open_with_key(&dir.path().join(format!("{}.db", d.name)), &DbKey(d.key)).expect("store");
        let (mut last_push, mut last_pull, mut mid, mut refreshes) = (None, None, None, 0);
        let mut tokens = d.tokens.clone();
        let transport = SimTransport {
            server: &server,
            tokens: &mut tokens,
            online: true,
            fault: Fault::None,
            lose_refresh_reply: false,
            last_push: &mut last_push,
            last_pull: &mut last_pull,
            body_limit: limits::MAX_BODY_BYTES,
            mid_round: None,
            mid_round_result: &mut mid,
            refreshes: &mut refreshes,
        };
        Engine::new(transport).sync_once(&mut store, |_| {}).expect("first sync");
        store.checkpoint(true).expect("checkpoint");
    }
    drop(server);
    Template { dir, stations: [a, b], villages, points, devices }
}

/// The server's database of a world (or of the template) in `dir`, on the run's backend: the
/// SQLite file `dir/server/shegong-sync.db`, or a PostgreSQL schema of its own
/// (`SHEGONG_TEST_BACKEND=postgres`). Copied per world and for a backup by `TestDatabase::copy_to`.
fn server_database(dir: &Path) -> TestDatabase {
    TestDatabase::new(&dir.join("server"))
}

/// Copies a database with its write-ahead log (the shared-memory index is rebuilt on open).
fn copy_db(from: &Path, to: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    for suffix in ["", "-wal"] {
        let src = PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One run of a scenario.

pub struct Device {
    pub t: DeviceTemplate,
    /// `w1`, or `w1+1` for the first clone of w1's laptop.
    pub name: String,
    pub path: PathBuf,
    pub store: Store,
    pub tokens: Tokens,
    pub online: bool,
    pub offset_ms: i64,
    /// A clock set to a fixed wrong time (year 9999 or 1970).
    pub jumped_to: Option<i64>,
    pub cursors: Vec<u64>,
    pub last_push: Option<PushResponse>,
    pub last_pull: Option<PullResponse>,
    /// Changes a tampered client sent, which the server must have refused.
    pub forged: Vec<Change>,
    /// The files as they were after the last successful round (for a power loss).
    pub synced_copy: Option<PathBuf>,
    /// Why a repair would be in order: a fault that diverges this device, not yet verified away.
    pub may_repair: Option<&'static str>,
    /// A fault that disturbed what this device pulled (its conflicts are no longer a replay of
    /// its stream).
    pub disturbed: bool,
    /// Whether the last round that compared checksums repaired a station.
    pub repaired_last_time: bool,
    /// A cloned laptop, or the original of one.
    pub twin: bool,
    /// Whether being asked to sign in again is an expected outcome, and why.
    pub may_sign_out: Option<&'static str>,
    /// The last round's outcome, for liveness.
    pub last_round: Result<SyncReport, String>,
}

pub struct World {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    clock: Arc<AtomicI64>,
    pub server: Server,
    pub devices: Vec<Device>,
    pub stations: [Uuid; 2],
    villages: Vec<(Uuid, Uuid)>,
    points: BTreeMap<Uuid, Uuid>,
    ids: StdRng,
    pub model: Model,
    /// Rogue sessions, by template index (a clone shares its original's user).
    rogue: HashMap<usize, Tokens>,
    /// A copy of the server's files, and the change ids its log held then.
    server_backup: Option<(PathBuf, BTreeSet<Uuid>)>,
    pub server_restored: bool,
    pub clones: usize,
}

impl Device {
    /// A fault that diverges this device was injected: a repair is in order (again).
    fn expect_repair(&mut self, why: &'static str) {
        self.may_repair = Some(why);
        self.repaired_last_time = false;
    }
}

impl World {
    pub fn new(seed: u64) -> World {
        let t = template();
        let dir = scratch();
        server_database(t.dir.path()).copy_to(&server_database(dir.path()));
        let clock = Arc::new(AtomicI64::new(START + 60_000));
        let storage = server_database(dir.path()).open();
        let server = Server::new(storage, world_settings(), fixed_clock(clock.clone()));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        // Clocks a day behind, hours off, right, or a day ahead.
        let offsets = [-86_400_000, -3 * 3_600_000, 0, 0, 2 * 3_600_000, 86_400_000];
        // Sessions of this world's server (with its token lifetimes): a refresh, as after a
        // night's sleep.
        let refresh = |tokens: &Tokens| {
            let session = server
                .refresh(RefreshRequest { refresh_token: tokens.refresh.clone() })
                .expect("a fresh session for the scenario");
            self::tokens(&session)
        };
        let mut rogue = HashMap::new();
        let devices = t
            .devices
            .iter()
            .map(|d| {
                let path = dir.path().join(format!("{}.db", d.name));
                copy_db(&t.dir.path().join(format!("{}.db", d.name)), &path);
                let store = Store::open_with_key(&path, &DbKey(d.key)).expect("store");
                rogue.insert(d.index, refresh(&d.rogue_tokens));
                Device {
                    t: d.clone(),
                    name: d.name.to_owned(),
                    path,
                    store,
                    tokens: refresh(&d.tokens),
                    online: true,
                    offset_ms: offsets[rng.gen_range(0..offsets.len())],
                    jumped_to: None,
                    cursors: vec![0],
                    last_push: None,
                    last_pull: None,
                    forged: Vec::new(),
                    synced_copy: None,
                    may_repair: None,
                    disturbed: false,
                    may_sign_out: None,
                    repaired_last_time: false,
                    twin: false,
                    last_round: Ok(SyncReport::default()),
                }
            })
            .collect();
        World {
            dir: dir.path().to_owned(),
            _dir: dir,
            clock,
            server,
            devices,
            stations: t.stations,
            villages: t.villages.clone(),
            points: t.points.clone(),
            ids: StdRng::seed_from_u64(seed ^ 0x1d5),
            model: Model::default(),
            rogue,
            server_backup: None,
            server_restored: false,
            clones: 0,
        }
    }

    /// The device an operation names: the first six are the template's, the rest clones (when
    /// there are none, the numbers wrap around).
    fn device(&self, dev: u8) -> usize {
        dev as usize % self.devices.len()
    }

    fn now(&self, dev: usize) -> DateTime<Utc> {
        let d = &self.devices[dev];
        let millis = d.jumped_to.unwrap_or_else(|| self.clock.load(Ordering::SeqCst) + d.offset_ms);
        Utc.timestamp_millis_opt(millis).single().unwrap_or_default()
    }

    fn today(&self, dev: usize) -> NaiveDate {
        self.now(dev).date_naive()
    }

    fn new_id(&mut self) -> Uuid {
        // Version-7 layout with seeded bits: ordered enough, and the same in every replay.
        let bits: u128 = self.ids.r#gen();
        uuid::Builder::from_u128(bits).with_version(uuid::Version::SortRand).into_uuid()
    }

    pub fn run(&mut self, ops: &[SimOp]) -> Outcome {
        for op in ops {
            if verbose() {
                eprintln!("{op:?}");
            }
            match *op {
                SimOp::Write { dev, edit, pick, value } => {
                    let dev = self.device(dev);
                    self.write(dev, edit, pick as usize, value)?
                }
                SimOp::Sync { dev, fault } => self.sync(self.device(dev), fault)?,
                SimOp::Restart { dev } => self.restart(self.device(dev)),
                SimOp::Partition { dev, online } => {
                    let dev = self.device(dev);
                    self.devices[dev].online = online
                }
                SimOp::Tick { ms } => {
                    self.clock.fetch_add(i64::from(ms), Ordering::SeqCst);
                }
                SimOp::PowerLoss { dev } => self.power_loss(self.device(dev))?,
                SimOp::CloneDevice { dev } => self.clone_device(self.device(dev))?,
                SimOp::ClockJump { dev, to } => {
                    let dev = self.device(dev);
                    self.devices[dev].jumped_to = match to {
                        ClockJump::Year9999 => Some(YEAR_9999),
                        ClockJump::Year1970 => Some(YEAR_1970),
                        ClockJump::Back => None,
                    }
                }
                SimOp::Admin(action) => self.admin(action)?,
                SimOp::ServerBackup => self.server_backup()?,
                SimOp::ServerRestore => self.server_restore()?,
            }
        }
        self.heal()?;
        crate::invariants::check(self)
    }

    pub fn restart(&mut self, dev: usize) {
        let d = &mut self.devices[dev];
        let path = d.path.clone();
        let key = DbKey(d.t.key);
        // Drop first: a crashed process holds nothing.
        d.store = Store::open_in_memory().expect("placeholder");
        d.store = Store::open_with_key(&path, &key).expect("reopen after restart");
    }

    // --- faults of files ------------------------------------------------------------------

    /// The device's files go back to the copy made after its last successful round. What it
    /// recorded since and never got to the server is gone; what the server answered comes back
    /// by pull (and the server's answer is what counts for it).
    fn power_loss(&mut self, dev: usize) -> Outcome {
        let Some(copy) = self.devices[dev].synced_copy.clone() else { return Ok(()) };
        {
            let d = &mut self.devices[dev];
            d.store = Store::open_in_memory().expect("placeholder");
            copy_db(&copy, &d.path);
            d.store = Store::open_with_key(&d.path, &DbKey(d.t.key)).map_err(ctx("reopen after power loss"))?;
            let cursor = d.store.pull_cursor().map_err(ctx("cursor"))?;
            d.cursors = vec![cursor];
            d.last_push = None;
            d.last_pull = None;
            d.expect_repair("power loss");
            d.disturbed = true;
        }
        let held = local_change_ids(&self.devices[dev].store)?;
        let read = self.server.storage().read().map_err(ctx("server read"))?;
        // (A change a restored server lost and the device now lost too is gone for good.)
        for t in self.model.tracked.iter_mut().filter(|t| t.dev == dev && t.fate != Fate::LostToPowerLoss) {
            if held.contains(&t.change_id) {
                continue;
            }
            let answered = read
                .push_answer(t.device_id, t.device_seq)
                .map_err(ctx("push answer"))?
                .is_some_and(|a| a.change_id == t.change_id);
            if !answered {
                t.fate = Fate::LostToPowerLoss;
            }
        }
        Ok(())
    }

    /// A new laptop from a copy of this one's files, signed in as the same user with the same
    /// session (the image was taken after sign-in).
    fn clone_device(&mut self, dev: usize) -> Outcome {
        if self.devices.len() >= DEVICES + 2 {
            return Ok(());
        }
        self.clones += 1;
        let n = self.clones;
        let original = &mut self.devices[dev];
        original.store.checkpoint(true).map_err(ctx("checkpoint before cloning"))?;
        let path = self.dir.join(format!("{}+{n}.db", original.name));
        copy_db(&original.path, &path);
        let store = Store::open_with_key(&path, &DbKey(original.t.key)).map_err(ctx("open the clone"))?;
        original.expect_repair("cloned");
        original.may_sign_out = Some("its session was copied to a clone");
        original.twin = true;
        original.disturbed = true;
        let clone = Device {
            t: original.t.clone(),
            name: format!("{}+{n}", original.name),
            path,
            store,
            tokens: original.tokens.clone(),
            online: original.online,
            offset_ms: original.offset_ms,
            jumped_to: original.jumped_to,
            cursors: original.cursors.clone(),
            last_push: None,
            last_pull: None,
            forged: Vec::new(),
            synced_copy: None,
            may_repair: Some("a clone"),
            disturbed: true,
            may_sign_out: Some("a clone with a copied session"),
            repaired_last_time: false,
            twin: true,
            last_round: Ok(SyncReport::default()),
        };
        self.devices.push(clone);
        Ok(())
    }

    fn server_backup(&mut self) -> Outcome {
        let copy = self.dir.join("server-backup");
        server_database(&self.dir).copy_to(&TestDatabase::new(&copy));
        let ids = crate::invariants::server_log(self)?
            .into_iter()
            .filter_map(|(_, item)| match item {
                domain::change::Incoming::Change(c) => Some(c.change_id),
                _ => None,
            })
            .collect();
        self.server_backup = Some((copy, ids));
        Ok(())
    }

    /// The server's files go back to the backup. Changes it accepted since are gone from it;
    /// every device must find its way back (re-sync) rather than stall.
    fn server_restore(&mut self) -> Outcome {
        let Some((copy, backed_up)) = self.server_backup.clone() else { return Ok(()) };
        let current: BTreeSet<Uuid> = crate::invariants::server_log(self)?
            .into_iter()
            .filter_map(|(_, item)| match item {
                domain::change::Incoming::Change(c) => Some(c.change_id),
                _ => None,
            })
            .collect();
        let held = self.devices.iter().map(|d| local_change_ids(&d.store)).collect::<Result<Vec<_>, _>>()?;
        for t in self.model.tracked.iter_mut() {
            if current.contains(&t.change_id) && !backed_up.contains(&t.change_id) {
                // Unless its device lost it too (its files went back in time), it must be sent again.
                t.fate =
                    if held[t.dev].contains(&t.change_id) { Fate::LostToServerRestore } else { Fate::LostToPowerLoss };
            }
        }
        let placeholder = SqliteStorage::open(&self.dir.join("placeholder.db")).map_err(ctx("placeholder"))?;
        self.server = Server::new(Arc::new(placeholder), world_settings(), fixed_clock(self.clock.clone()));
        TestDatabase::new(&copy).copy_to(&server_database(&self.dir));
        let storage = server_database(&self.dir).open();
        self.server = Server::new(storage, world_settings(), fixed_clock(self.clock.clone()));
        // The administrator's step after a restore: a new generation, which devices notice.
        self.server.admin().new_generation().map_err(ctx("a new generation after the restore"))?;
        self.server_restored = true;
        for d in &mut self.devices {
            d.expect_repair("the server was restored from a backup");
            d.may_sign_out = Some("the server was restored from a backup");
            d.disturbed = true;
            d.cursors.clear();
            d.last_push = None;
            d.last_pull = None;
        }
        Ok(())
    }

    // --- the administrator ----------------------------------------------------------------

    fn admin(&mut self, action: AdminAction) -> Outcome {
        let (dev, write) = match action {
            AdminAction::MoveUser { dev } => {
                let dev = dev as usize % DEVICES;
                let user = server_user(&self.server, self.devices[dev].t.user_id)?;
                if user.role != RoleKind::SocialWorker {
                    return Ok(());
                }
                let from = user.station_id.unwrap_or(self.stations[0]);
                let to = if from == self.stations[0] { self.stations[1] } else { self.stations[0] };
                let write = Write::update(EntityKind::User, user.id)
                    .set("station_id", to.to_string())
                    .set("service_point_id", self.points[&to].to_string());
                (dev, write)
            }
            AdminAction::SetActive { dev, active } => {
                let dev = dev as usize % DEVICES;
                let user = server_user(&self.server, self.devices[dev].t.user_id)?;
                if user.active == active {
                    return Ok(());
                }
                (dev, Write::update(EntityKind::User, user.id).set("active", active))
            }
        };
        let user_id = self.devices[dev].t.user_id;
        self.server
            .admin()
            .record_as(SYSTEM_USER_ID, vec![write])
            .map_err(|e| Failure(format!("the administrator could not {action:?}: {e}")))?;
        self.model.scope_shrank.insert(user_id);
        for d in self.devices.iter_mut().filter(|d| d.t.user_id == user_id) {
            d.expect_repair("the user's scope changed");
            d.may_sign_out = Some("the user was deactivated");
            d.disturbed = true;
        }
        Ok(())
    }

    // --- sync -----------------------------------------------------------------------------

    pub fn sync(&mut self, dev: usize, fault: Fault) -> Outcome {
        let mid_round = match fault {
            Fault::WriteDuringRound { pick, value } => {
                let edit = if value.is_multiple_of(2) { Edit::EditRecipient } else { Edit::Advance };
                self.plan(dev, edit, pick as usize, value).map(|writes| {
                    let d = &self.devices[dev];
                    (
                        edit,
                        MidRoundWrite {
                            path: d.path.clone(),
                            key: DbKey(d.t.key),
                            actor: self.actor(dev),
                            writes,
                            now: self.now(dev),
                            today: self.today(dev),
                        },
                    )
                })
            }
            _ => None,
        };
        let mid_edit = mid_round.as_ref().map(|(e, _)| *e);
        let clock_wrong = self.devices[dev].jumped_to.is_some();
        let server = self.server.clone();
        let body_limit = if enabled(Family::LargeBatches) { PROXY_BODY_LIMIT } else { limits::MAX_BODY_BYTES };
        let d = &mut self.devices[dev];
        let mut mid_result = None;
        let mut refreshes = 0;
        let transport_fault = match fault {
            Fault::CrashMidApply | Fault::LoseRefreshReply | Fault::WriteDuringRound { .. } => Fault::None,
            other => other,
        };
        let mut engine = Engine::new(SimTransport {
            server: &server,
            tokens: &mut d.tokens,
            online: d.online,
            fault: transport_fault,
            lose_refresh_reply: fault == Fault::LoseRefreshReply,
            last_push: &mut d.last_push,
            last_pull: &mut d.last_pull,
            body_limit,
            mid_round: mid_round.map(|(_, w)| w),
            mid_round_result: &mut mid_result,
            refreshes: &mut refreshes,
        })
        .with_page_limit(7)
        .with_pull_batch(PULL_BATCH);
        if fault == Fault::CrashMidApply {
            // In the first, second or third page of a transaction, round after round.
            d.store.fail_apply_after(Some(3 + 7 * (d.cursors.len() % 3)));
        }
        let result = engine.sync_once(&mut d.store, |_| {});
        drop(engine);
        d.store.fail_apply_after(None);
        let name = d.name.clone();
        let user_id = d.t.user_id;
        let cursor = d.store.pull_cursor().map_err(|e| Failure(format!("{name}: cursor: {e}")))?;
        if d.may_repair.is_none() {
            let previous = *d.cursors.last().unwrap_or(&0);
            check!(cursor >= previous, "{name}: cursor went back from {previous} to {cursor}");
        }
        d.cursors.push(cursor);
        if let (Some(edit), Some(result)) = (mid_edit, mid_result) {
            self.note_record(dev, edit, result, clock_wrong, true)?;
        }
        self.follow_renumbering(dev)?;
        if verbose() {
            eprintln!("  {name} round under {fault:?}: {result:?}");
        }
        let user_active = server_user(&self.server, user_id)?.active;
        let d = &mut self.devices[dev];
        d.last_round = match &result {
            Ok(report) => Ok(report.clone()),
            Err(e) => Err(format!("{e} ({})", e.code())),
        };
        match result {
            Ok(report) => {
                if !report.repaired.is_empty() {
                    if verbose() {
                        eprintln!("{name} repaired {:?} ({:?})", report.repaired, d.may_repair);
                    }
                    check!(
                        !d.repaired_last_time,
                        "a repair leaves the device matching the server: {name} repaired stations {:?} again in \
                         the round after its last repair",
                        report.repaired
                    );
                    check!(
                        d.may_repair.is_some(),
                        "no repair without a fault that calls for one: {name} repaired stations {:?} under {fault:?}",
                        report.repaired
                    );
                }
                // Two laptops sharing a device id (a clone and its original) may diverge at any
                // time until one becomes a device of its own: their repairs stay in order.
                if report.verified && !d.twin {
                    d.may_repair = None;
                    d.repaired_last_time = !report.repaired.is_empty();
                }
                if enabled(Family::PowerLoss) {
                    d.store.checkpoint(true).map_err(ctx("checkpoint"))?;
                    let copy = PathBuf::from(format!("{}.synced", d.path.display()));
                    copy_db(&d.path, &copy);
                    d.synced_copy = Some(copy);
                }
                Ok(())
            }
            Err(SyncError::Offline(_)) => Ok(()),
            Err(SyncError::Store(StoreError::Injected)) => {
                self.restart(dev);
                Ok(())
            }
            Err(_) if matches!(fault, Fault::CutReply(_)) || fault == Fault::Stale => {
                // A cut or stale reply can leave a round unfinished; the next one completes it.
                if matches!(fault, Fault::CutReply(_)) {
                    self.restart(dev);
                }
                Ok(())
            }
            // A deactivated user's device is told so, drops its data and signs out.
            Err(e) if (e.is_account_deactivated() || e.code() == "sign_in_required") && !user_active => {
                let _ = e;
                Ok(())
            }
            Err(SyncError::SignInRequired(why)) => match d.may_sign_out {
                Some(_) => self.sign_in_again(dev),
                None => fail(format!(
                    "sessions: {name} was asked to sign in again ({why}) under {fault:?}, though nothing \
                     called for it (a lost refresh reply or a quit must never revoke a device)"
                )),
            },
            Err(e) => fail(format!("a round never stops: {name}'s round failed under {fault:?}: {e} ({})", e.code())),
        }
    }

    /// The model follows the device's changes to the numbers they have now (renumbered after a
    /// reused or lost sequence number): the server's answer to a change is found by its number.
    fn follow_renumbering(&mut self, dev: usize) -> Outcome {
        let table = local_changes(&self.devices[dev].store)?;
        let now_id = self.devices[dev].store.device_id();
        let read = self.server.storage().read().map_err(ctx("server read"))?;
        for t in self.model.tracked.iter_mut().filter(|t| t.dev == dev) {
            // Gone from the device since: what the server answered it, as of now. Under the
            // number the model knew, or (renumbered, or moved to the new device a cloned laptop
            // became, and dropped in the same round) found by its change id under the device's
            // id now: a server restored later may have lost that answer.
            if !table.contains_key(&t.change_id) && t.seen_refused.is_none() {
                let answer = match read.push_answer(t.device_id, t.device_seq).map_err(ctx("push answer"))? {
                    Some(a) if a.change_id == t.change_id => Some(a),
                    _ => read
                        .answer_by_change_id(t.change_id)
                        .map_err(ctx("answer by change id"))?
                        .filter(|(device, _)| *device == now_id)
                        .map(|(_, a)| a),
                };
                if let Some(protocol::PushOutcome::Rejected { rejection, .. }) = answer.map(|a| a.outcome) {
                    t.seen_refused = Some(rejection.code);
                }
            }
            if let Some(row) = table.get(&t.change_id) {
                if let Ok(seq) = u64::try_from(row.device_seq) {
                    t.device_id = row.device_id;
                    t.device_seq = seq;
                }
                if row.status == "rejected" {
                    t.seen_refused = Some(row.code.clone().unwrap_or_default());
                }
            }
        }
        Ok(())
    }

    /// The user signs in again with their password, on the device's own id.
    fn sign_in_again(&mut self, dev: usize) -> Outcome {
        let user = server_user(&self.server, self.devices[dev].t.user_id)?;
        if !user.active {
            return Ok(());
        }
        let d = &mut self.devices[dev];
        let session = self
            .server
            .login(LoginRequest {
                username: d.t.name.into(),
                password: "simulate".into(),
                device_id: Some(d.store.device_id()),
                device_name: format!("{}'s laptop", d.name),
                signing_key: None,
                signing_key_proof: None,
            })
            .map_err(|e| Failure(format!("{}: signing in again failed: {e}", d.name)))?;
        // Under another id than the database's, the engine has the database follow.
        d.tokens = tokens(&session);
        Ok(())
    }

    /// Every device online with its usual clock, no faults: a bounded number of rounds must
    /// bring every device to quiet.
    pub fn heal(&mut self) -> Outcome {
        for d in &mut self.devices {
            d.online = true;
            d.jumped_to = None;
        }
        for _round in 0..HEAL_ROUNDS {
            for dev in 0..self.devices.len() {
                self.sync(dev, Fault::None)?;
            }
            if (0..self.devices.len()).all(|dev| self.quiet(dev).is_ok()) {
                return Ok(());
            }
        }
        let noisy: Vec<String> = (0..self.devices.len()).filter_map(|dev| self.quiet(dev).err()).collect();
        fail(format!(
            "liveness: after {HEAL_ROUNDS} rounds per device without faults, not every device is quiet:\n  {}",
            noisy.join("\n  ")
        ))
    }

    /// Quiet: the last round pushed and pulled nothing, compared the checksums and repaired
    /// nothing, and nothing waits. A device whose user may no longer sign in is quiet once told.
    fn quiet(&self, dev: usize) -> Result<(), String> {
        let d = &self.devices[dev];
        let pending = d.store.pending_count().map_err(|e| format!("{}: {e}", d.name))?;
        let active = server_user(&self.server, d.t.user_id).map_err(|e| e.0)?.active;
        match &d.last_round {
            Err(e) if !active && (e.contains("account_deactivated") || e.contains("sign_in_required")) => Ok(()),
            Ok(r) if pending == 0 && r.accepted == 0 && r.rejected == 0 && r.pulled == 0 && r.verified => {
                if r.repaired.is_empty() { Ok(()) } else { Err(format!("{}: repaired {:?}", d.name, r.repaired)) }
            }
            Ok(r) => Err(format!("{}: {pending} waiting; last round {r:?}", d.name)),
            Err(e) => Err(format!("{}: {pending} waiting; last round failed: {e}", d.name)),
        }
    }

    // --- writes ---------------------------------------------------------------------------

    /// The user's actor as the device knows it: from its own copy of the user's record.
    pub fn actor(&self, dev: usize) -> Actor {
        let d = &self.devices[dev];
        let role = d
            .store
            .entity(EntityKind::User, d.t.user_id)
            .ok()
            .flatten()
            .and_then(|u| u.to_typed::<User>().ok())
            .filter(|u| u.active)
            .and_then(|u| u.role());
        Actor::new(d.t.user_id, role)
    }

    /// The station the device works in: its user's, as the device knows it.
    fn station(&self, dev: usize) -> Uuid {
        match self.actor(dev).role {
            Some(Role::SocialWorker { station_id } | Role::DeputyHead { station_id }) => station_id,
            _ => self.devices[dev].t.station,
        }
    }

    fn local(&self, dev: usize, kind: EntityKind) -> Vec<EntityState> {
        let station = self.station(dev);
        self.devices[dev].store.list(kind, Some(station)).unwrap_or_default()
    }

    fn pick(&self, dev: usize, kind: EntityKind, pick: usize) -> Option<EntityState> {
        let all = self.local(dev, kind);
        (!all.is_empty()).then(|| all[pick % all.len()].clone())
    }

    fn record(&mut self, dev: usize, edit: Edit, writes: Vec<Write>) -> Outcome {
        let (now, today, actor) = (self.now(dev), self.today(dev), self.actor(dev));
        let clock_wrong = self.devices[dev].jumped_to.is_some();
        let result = self.devices[dev].store.record(&actor, writes, now, today);
        self.note_record(dev, edit, result, clock_wrong, false)
    }

    /// Keeps a `record()` result in the model. The rules may refuse a write (that is the
    /// store's own test); any other error is a bug.
    fn note_record(
        &mut self,
        dev: usize,
        edit: Edit,
        result: Result<Vec<Change>, StoreError>,
        clock_wrong: bool,
        mid_round: bool,
    ) -> Outcome {
        let d = &self.devices[dev];
        match result {
            Ok(changes) => {
                if verbose() {
                    eprintln!(
                        "recorded {} {edit:?} {:?}",
                        d.name,
                        changes.iter().map(|c| c.device_seq).collect::<Vec<_>>()
                    );
                }
                self.model.recorded(dev, &d.name.clone(), d.t.user_id, edit, &changes, clock_wrong, mid_round);
                if edit == Edit::Transfer {
                    self.model.transferred = true;
                }
                Ok(())
            }
            Err(StoreError::Rejected(r)) => {
                if verbose() {
                    eprintln!("local refusal {} {edit:?}: {}", d.name, r.code());
                }
                self.model.refused_locally(edit, r.code());
                Ok(())
            }
            Err(e) => fail(format!(
                "record() never fails but by the rules: {} {edit:?}{} failed with {} ({e})",
                d.name,
                if mid_round { " during a round" } else { "" },
                e.code()
            )),
        }
    }

    fn write(&mut self, dev: usize, edit: Edit, pick: usize, value: u16) -> Outcome {
        let second_laptop = matches!(edit, Edit::Forge | Edit::ForgeStamp | Edit::OtherClientVersion);
        // A deactivated user's second laptop is signed out like the first.
        if second_laptop && !server_user(&self.server, self.devices[dev].t.user_id)?.active {
            return Ok(());
        }
        match edit {
            Edit::Forge => self.forge(dev, pick, value),
            Edit::ForgeStamp => self.forge_stamp(dev, pick, value),
            Edit::OtherClientVersion => self.other_client(dev, pick, value),
            _ => match self.plan(dev, edit, pick, value) {
                Some(writes) => self.record(dev, edit, writes),
                None => Ok(()),
            },
        }
    }

    /// The writes of an edit, as the user would make them on this device, if there is
    /// something to edit.
    fn plan(&mut self, dev: usize, edit: Edit, pick: usize, value: u16) -> Option<Vec<Write>> {
        let today = self.today(dev);
        let station = self.station(dev);
        let me = self.devices[dev].t.user_id;
        let role = self.devices[dev].t.role;
        let villages: Vec<Uuid> = self.villages.iter().filter(|(s, _)| *s == station).map(|(_, v)| *v).collect();
        let text = |prefix: &str| format!("{prefix}{value}");
        let workers_of = |world: &World, station: Uuid| -> Vec<Uuid> {
            world
                .devices
                .iter()
                .take(DEVICES)
                .filter(|d| d.t.role == RoleKind::SocialWorker)
                .filter(|d| {
                    server_user(&world.server, d.t.user_id).is_ok_and(|u| u.station_id == Some(station) && u.active)
                })
                .map(|d| d.t.user_id)
                .collect()
        };
        let writes = match edit {
            Edit::NewRecipient => {
                let id = self.new_id();
                let (id_number, gender, birth) = id_number(value);
                vec![
                    Write::create(EntityKind::Recipient, id)
                        .set("station_id", station.to_string())
                        .set("village_id", villages.get(pick % villages.len().max(1))?.to_string())
                        .set("name", format!("张{}", ["三", "伟", "芳", "敏", "静"][pick % 5]))
                        .set("id_number", id_number)
                        .set("gender", gender)
                        .set("birth_date", birth)
                        .set("categories", json!([CATEGORIES[pick % 3]])),
                ]
            }
            Edit::EditRecipient => {
                let r = self.pick(dev, EntityKind::Recipient, pick)?;
                let field = ["address", "notes", "phone"][value as usize % 3];
                let v = if field == "phone" { format!("139{:08}", value) } else { text("住址") };
                vec![Write::update(EntityKind::Recipient, r.id).set(field, v)]
            }
            Edit::LongNotes => {
                let recipients = self.local(dev, EntityKind::Recipient);
                if recipients.is_empty() {
                    return None;
                }
                (0..100)
                    .map(|n| {
                        let r = &recipients[(pick + n) % recipients.len()];
                        let note: String =
                            format!("{value}-{n}：").chars().chain("长".repeat(2000).chars()).take(2000).collect();
                        Write::update(EntityKind::Recipient, r.id).set("notes", note)
                    })
                    .collect()
            }
            Edit::Transfer => {
                let other = if station == self.stations[0] { self.stations[1] } else { self.stations[0] };
                let r = self.pick(dev, EntityKind::Recipient, pick)?;
                vec![Write::update(EntityKind::Recipient, r.id).set("station_id", other.to_string())]
            }
            Edit::NewHousehold => {
                let id = self.new_id();
                vec![
                    Write::create(EntityKind::Household, id)
                        .set("station_id", station.to_string())
                        .set("village_id", villages.get(pick % villages.len().max(1))?.to_string())
                        .set("name", text("户")),
                ]
            }
            Edit::EditHousehold => {
                let h = self.pick(dev, EntityKind::Household, pick)?;
                vec![Write::update(EntityKind::Household, h.id).set("notes", text("备注"))]
            }
            Edit::Visit => {
                let r = self.pick(dev, EntityKind::Recipient, pick)?;
                let id = self.new_id();
                vec![
                    Write::create(EntityKind::Visit, id)
                        .set("station_id", station.to_string())
                        .set("village_id", r.get_str("village_id").unwrap_or_default())
                        .set("recipient_id", r.id.to_string())
                        .set("worker_id", me.to_string())
                        .set("visited_on", today.to_string())
                        .set("observations", text("走访"))
                        .set("follow_up_needed", value.is_multiple_of(2)),
                ]
            }
            Edit::OpenCase => {
                // A worker carries a handful of open cases at a time.
                let open = self
                    .local(dev, EntityKind::Case)
                    .iter()
                    .filter(|c| c.get_enum::<Stage>("stage") != Some(Stage::Closed))
                    .count();
                if open >= 3 {
                    return None;
                }
                let r = self.pick(dev, EntityKind::Recipient, pick)?;
                let worker = if role == RoleKind::DeputyHead {
                    let workers = workers_of(self, station);
                    *workers.get(value as usize % workers.len().max(1))?
                } else {
                    me
                };
                let id = self.new_id();
                vec![
                    Write::create(EntityKind::Case, id)
                        .set("station_id", station.to_string())
                        .set("recipient_id", r.id.to_string())
                        .set("worker_id", worker.to_string())
                        .set("stage", "Identify")
                        .set("stage_entered_on", today.to_string())
                        .set("opened_on", today.to_string())
                        .set("closure_status", "Open"),
                ]
            }
            Edit::Advance => {
                let open: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<Stage>("stage") != Some(Stage::Closed))
                    .collect();
                let case = open.get(pick % open.len().max(1))?.clone();
                let writes = self.next_step(dev, &case, value);
                if writes.is_empty() {
                    return None;
                }
                writes
            }
            Edit::MoveStage => {
                let case = self.pick(dev, EntityKind::Case, pick)?;
                let stage = case.get_enum::<Stage>("stage").unwrap_or(Stage::Identify);
                let to = if value.is_multiple_of(4) { Stage::Assess } else { stage.next().unwrap_or(Stage::Intervene) };
                vec![
                    Write::update(EntityKind::Case, case.id)
                        .set("stage", to.as_str())
                        .set("stage_entered_on", today.to_string()),
                ]
            }
            Edit::Decide => {
                let requested: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<ClosureStatus>("closure_status") == Some(ClosureStatus::Requested))
                    .collect();
                let case = requested.get(pick % requested.len().max(1))?.clone();
                let now = self.now(dev);
                let id = self.new_id();
                let d = &mut self.devices[dev];
                let records = StateView::case_records(&d.store, case.id).unwrap_or_default();
                let key = d.store.signing_key().ok()?;
                let sign_off = !value.is_multiple_of(3);
                let mut decision = Write::create(EntityKind::ClosureDecision, id)
                    .set("station_id", station.to_string())
                    .set("case_id", case.id.to_string())
                    .set("supervisor_id", me.to_string())
                    .set("decided_at", now.to_rfc3339());
                let update = if sign_off {
                    decision = signoff::seal(&key, &case, &records).set_on(decision.set("decision", "SignedOff"));
                    Write::update(EntityKind::Case, case.id)
                        .set("stage", "Closed")
                        .set("stage_entered_on", today.to_string())
                        .set("closure_status", "SignedOff")
                } else {
                    decision = decision.set("decision", "Returned").set("comments", text("请补充"));
                    Write::update(EntityKind::Case, case.id)
                        .set("closure_status", "Returned")
                        .set("closure_comments", text("请补充"))
                };
                vec![decision, update]
            }
            Edit::Reassign => {
                let case = self.pick(dev, EntityKind::Case, pick)?;
                let workers = workers_of(self, station);
                let to = *workers.get(value as usize % workers.len().max(1))?;
                vec![Write::update(EntityKind::Case, case.id).set("worker_id", to.to_string())]
            }
            Edit::Reopen => {
                let closed: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<Stage>("stage") == Some(Stage::Closed))
                    .collect();
                let case = closed.get(pick % closed.len().max(1))?.clone();
                vec![
                    Write::update(EntityKind::Case, case.id)
                        .set("stage", "Assess")
                        .set("stage_entered_on", today.to_string())
                        .set("closure_status", "Open"),
                ]
            }
            Edit::EditCase => {
                let case = self.pick(dev, EntityKind::Case, pick)?;
                vec![Write::update(EntityKind::Case, case.id).set("plan_strategy", text("策略"))]
            }
            Edit::Forge | Edit::ForgeStamp | Edit::OtherClientVersion => return None,
        };
        Some(writes)
    }

    /// The writes that take `case` one step further along the pipeline.
    fn next_step(&mut self, dev: usize, case: &EntityState, value: u16) -> Vec<Write> {
        let today = self.today(dev);
        let station = case.station_id().unwrap_or_else(|| self.station(dev));
        let me = self.devices[dev].t.user_id;
        let records = StateView::case_records(&self.devices[dev].store, case.id).unwrap_or_default();
        let has = |kind| records.iter().any(|r| r.kind == kind);
        let id = self.new_id();
        let record =
            |kind| Write::create(kind, id).set("station_id", station.to_string()).set("case_id", case.id.to_string());
        let move_to = |stage: Stage| {
            Write::update(EntityKind::Case, case.id)
                .set("stage", stage.as_str())
                .set("stage_entered_on", today.to_string())
        };
        let text = format!("记录{value}");
        let write = match case.get_enum::<Stage>("stage").unwrap_or(Stage::Identify) {
            Stage::Identify if !has(EntityKind::Screening) => {
                record(EntityKind::Screening).set("source", "VisitScreening").set("found_on", today.to_string())
            }
            Stage::Identify => move_to(Stage::Assess),
            Stage::Assess if !has(EntityKind::Assessment) => record(EntityKind::Assessment)
                .set("assessed_on", today.to_string())
                .set("risk_level", "Medium")
                .set("needs_summary", text),
            Stage::Assess => move_to(Stage::Plan),
            Stage::Plan if !has(EntityKind::Goal) || value.is_multiple_of(5) => record(EntityKind::Goal)
                .set("description", text)
                .set("target_date", (today + Duration::days(30)).to_string()),
            Stage::Plan => move_to(Stage::Coordinate),
            Stage::Coordinate if !has(EntityKind::ResourceLink) => record(EntityKind::ResourceLink)
                .set("kind", "Charity")
                .set("description", text)
                .set("status", "Requested")
                .set("linked_on", today.to_string()),
            Stage::Coordinate => move_to(Stage::Intervene),
            Stage::Intervene if !has(EntityKind::Intervention) => record(EntityKind::Intervention)
                .set("worker_id", me.to_string())
                .set("delivered_on", today.to_string())
                .set("service_type", "EmotionalCounselling")
                .set("method", "Casework")
                .set("duration_minutes", 60)
                .set("notes", text),
            Stage::Intervene => move_to(Stage::FollowUp),
            Stage::FollowUp if !has(EntityKind::FollowUp) => record(EntityKind::FollowUp)
                .set("worker_id", me.to_string())
                .set("visited_on", today.to_string())
                .set("notes", text),
            Stage::FollowUp => {
                let unevaluated = records.iter().find(|r| r.kind == EntityKind::Goal && r.get("evaluation").is_none());
                match unevaluated {
                    Some(goal) => Write::update(EntityKind::Goal, goal.id).set("evaluation", "Achieved"),
                    None => Write::update(EntityKind::Case, case.id)
                        .set("closure_status", "Requested")
                        .set("closure_summary", text)
                        .set("closure_requested_on", today.to_string()),
                }
            }
            Stage::Closed => return Vec::new(),
        };
        vec![write]
    }

    // --- the user's second laptop: tampered clients, extreme stamps, other versions ---------

    /// Pushes one change from the user's second laptop as JSON (after `edit_json` has its way
    /// with it), with the sequence number the server expects next from that laptop.
    fn rogue_push(
        &mut self,
        dev: usize,
        schema: u32,
        mut change: Change,
        edit_json: impl Fn(&mut Value),
    ) -> Result<Result<PushOutcome, protocol::ApiError>, Failure> {
        let index = self.devices[dev].t.index;
        let rogue_device = self.devices[dev].t.rogue_device;
        change.device_seq = {
            let read = self.server.storage().read().map_err(ctx("server read"))?;
            read.device(rogue_device).map_err(ctx("device"))?.map(|d| d.next_seq).unwrap_or(1)
        };
        let mut body = json!({ "changes": [change] });
        edit_json(&mut body);
        let body = serde_json::to_vec(&body).map_err(ctx("encode"))?;
        let mut answer = None;
        for _attempt in 0..2 {
            let token = self.rogue[&index].access.clone();
            match wire_push(&self.server, &token, schema, &body, limits::MAX_BODY_BYTES) {
                Err(e) if e.code == protocol::codes::TOKEN_EXPIRED => {
                    let refresh = self.rogue[&index].refresh.clone();
                    let session = self.server.refresh(RefreshRequest { refresh_token: refresh }).map_err(|e| {
                        Failure(format!("sessions: the second laptop's refresh failed: {}", transport_error(e)))
                    })?;
                    self.rogue.insert(index, tokens(&session));
                }
                // A session the server no longer knows (restored from a backup): sign in again.
                Err(e) if e.code == protocol::codes::UNAUTHORIZED => {
                    let name = self.devices[dev].t.name;
                    let session = self
                        .server
                        .login(LoginRequest {
                            username: name.into(),
                            password: "simulate".into(),
                            device_id: Some(rogue_device),
                            device_name: format!("{name}'s second laptop"),
                            signing_key: None,
                            signing_key_proof: None,
                        })
                        .map_err(|e| Failure(format!("sessions: the second laptop could not sign in again: {e}")))?;
                    self.rogue.insert(index, tokens(&session));
                }
                other => {
                    answer = Some(other);
                    break;
                }
            }
        }
        let Some(answer) = answer else { return fail("the second laptop's session would not refresh") };
        Ok(answer
            .map(|mut response| response.results.pop().map(|r| r.outcome).unwrap_or(PushOutcome::Gap { expected: 0 })))
        .and_then(|r| match r {
            Ok(PushOutcome::Gap { expected }) => fail(format!("the second laptop's push was answered gap {expected}")),
            other => Ok(other),
        })
    }

    fn rogue_change(&self, dev: usize, author: Uuid, write: Write, hlc: Option<Hlc>) -> Change {
        let d = &self.devices[dev];
        let millis = u64::try_from(self.clock.load(Ordering::SeqCst)).unwrap_or(0);
        Change {
            change_id: Uuid::now_v7(),
            device_id: d.t.rogue_device,
            device_seq: 0,
            author_id: author,
            schema_version: domain::SCHEMA_VERSION,
            hlc: hlc.unwrap_or_else(|| Hlc::new(millis, 0, d.t.rogue_device)),
            entity: write.entity,
            entity_id: write.entity_id,
            op: write.op,
            fields: write.fields,
        }
    }

    /// A tampered client pushes a change its user may not make; the server must refuse it.
    fn forge(&mut self, dev: usize, pick: usize, value: u16) -> Outcome {
        // Another station than the user's as the server has it (the device may not know yet).
        let station =
            server_user(&self.server, self.devices[dev].t.user_id)?.station_id.unwrap_or_else(|| self.station(dev));
        let other_station = if station == self.stations[0] { self.stations[1] } else { self.stations[0] };
        let other_village = self.villages.iter().find(|(s, _)| *s == other_station).map(|(_, v)| *v);
        let me = self.devices[dev].t.user_id;
        let someone_else = self.devices[(self.devices[dev].t.index + 1) % DEVICES].t.user_id;
        let case = self.pick(dev, EntityKind::Case, pick);
        let recipient = self.pick(dev, EntityKind::Recipient, pick);
        let id = self.new_id();
        let (id_number, gender, birth) = id_number(value);
        let mut author = me;
        let mut device_override = None;
        let write = match value % 6 {
            // A recipient filed in another station's village.
            0 => Write::create(EntityKind::Recipient, id)
                .set("station_id", other_station.to_string())
                .set("village_id", other_village.map(|v| v.to_string()).unwrap_or_default())
                .set("name", "越权")
                .set("id_number", id_number)
                .set("gender", gender)
                .set("birth_date", birth)
                .set("categories", json!(["Dibao"])),
            // A change claiming another author.
            1 => {
                author = someone_else;
                match &recipient {
                    Some(r) => Write::update(EntityKind::Recipient, r.id).set("notes", "冒名"),
                    None => return Ok(()),
                }
            }
            // A change claiming another device.
            2 => {
                device_override = Some(self.devices[(self.devices[dev].t.index + 1) % DEVICES].t.device_id);
                match &recipient {
                    Some(r) => Write::update(EntityKind::Recipient, r.id).set("notes", "冒充设备"),
                    None => return Ok(()),
                }
            }
            // Closing a case without a supervisor's sign-off.
            3 => match &case {
                Some(c) if self.devices[dev].t.role != RoleKind::Supervisor => {
                    Write::update(EntityKind::Case, c.id).set("stage", "Closed").set("closure_status", "SignedOff")
                }
                _ => return Ok(()),
            },
            // Skipping a stage, judged by where the case stands on the server.
            4 => {
                let Some(c) = &case else { return Ok(()) };
                let on_server =
                    self.server.storage().read().ok().and_then(|r| r.entity(EntityKind::Case, c.id).ok().flatten());
                let stage = on_server.and_then(|r| r.state.get_enum::<Stage>("stage"));
                match stage.and_then(Stage::next).and_then(Stage::next) {
                    Some(skipped) => Write::update(EntityKind::Case, c.id).set("stage", skipped.as_str()),
                    None => return Ok(()),
                }
            }
            // A sign-off with a signature over something else, by whoever this is.
            _ => match &case {
                Some(c) => Write::create(EntityKind::ClosureDecision, id)
                    .set("station_id", c.get_str("station_id").unwrap_or_default())
                    .set("case_id", c.id.to_string())
                    .set("supervisor_id", me.to_string())
                    .set("decision", "SignedOff")
                    .set("decided_at", self.now(dev).to_rfc3339())
                    .set("case_digest", "00".repeat(32))
                    .set("signature", "11".repeat(64))
                    .set("public_key", "22".repeat(32)),
                None => return Ok(()),
            },
        };
        let mut change = self.rogue_change(dev, author, write, None);
        if let Some(device) = device_override {
            change.device_id = device;
        }
        let outcome = self
            .rogue_push(dev, domain::SCHEMA_VERSION, change.clone(), |_| {})?
            .map_err(|e| Failure(format!("a forged push errored instead of being refused per change: {e}")))?;
        let name = &self.devices[dev].name;
        check!(
            matches!(outcome, PushOutcome::Rejected { .. }),
            "forged changes are refused: {name}'s tampered client got {outcome:?} for {change:?}"
        );
        self.devices[dev].forged.push(change);
        Ok(())
    }

    /// A modified client pushes a valid edit with a stamp at the edge of what the text form
    /// holds. Accepted (clamped) or refused, sync must go on for everyone.
    fn forge_stamp(&mut self, dev: usize, pick: usize, value: u16) -> Outcome {
        let Some(r) = self.pick(dev, EntityKind::Recipient, pick) else { return Ok(()) };
        let me = self.devices[dev].t.user_id;
        let rogue = self.devices[dev].t.rogue_device;
        let now = u64::try_from(self.clock.load(Ordering::SeqCst)).unwrap_or(0);
        let hlc = if value.is_multiple_of(2) {
            Hlc::new(now, MAX_STAMP_COUNTER, rogue)
        } else {
            Hlc::new(MAX_STAMP_MILLIS, MAX_STAMP_COUNTER, rogue)
        };
        let write = Write::update(EntityKind::Recipient, r.id).set("notes", format!("极端时间戳{value}"));
        let change = self.rogue_change(dev, me, write, Some(hlc));
        match self.rogue_push(dev, domain::SCHEMA_VERSION, change, |_| {})? {
            Ok(outcome) => {
                if verbose() {
                    eprintln!("extreme stamp {hlc}: {outcome:?}");
                }
                Ok(())
            }
            // Refused as a whole is fine too; sync must go on either way.
            Err(e) => {
                if verbose() {
                    eprintln!("extreme stamp {hlc}: {e}");
                }
                Ok(())
            }
        }
    }

    /// The user's second laptop runs another version of the app: the first release (schema 1:
    /// a visit's `notes`, fewer fields) or a newer build of this schema (fields this server does
    /// not know). Either way a valid visit is accepted.
    fn other_client(&mut self, dev: usize, pick: usize, value: u16) -> Outcome {
        let Some(r) = self.pick(dev, EntityKind::Recipient, pick) else { return Ok(()) };
        let actor = self.actor(dev);
        if !matches!(actor.role, Some(Role::SocialWorker { .. })) {
            return Ok(());
        }
        let station = self.station(dev);
        let me = self.devices[dev].t.user_id;
        // That laptop's clock is right (this device's may be off).
        let today =
            Utc.timestamp_millis_opt(self.clock.load(Ordering::SeqCst)).single().unwrap_or_default().date_naive();
        let id = self.new_id();
        let older = value.is_multiple_of(2);
        let write = Write::create(EntityKind::Visit, id)
            .set("station_id", station.to_string())
            .set("village_id", r.get_str("village_id").unwrap_or_default())
            .set("recipient_id", r.id.to_string())
            .set("worker_id", me.to_string())
            .set("visited_on", today.to_string())
            .set(if older { "notes" } else { "observations" }, format!("走访{value}"))
            .set("follow_up_needed", false);
        let mut change = self.rogue_change(dev, me, write, None);
        let schema = if older { 1 } else { domain::SCHEMA_VERSION };
        change.schema_version = schema;
        let outcome = self.rogue_push(dev, schema, change, |body| {
            if !older {
                body["client_build"] = json!("2027.1");
                if let Some(c) = body["changes"].get_mut(0) {
                    c["origin"] = json!({"app": "shegong", "build": "2027.1"});
                }
            }
        })?;
        let name = &self.devices[dev].name;
        let what = if older { "a first-release client's" } else { "a newer client's (unknown fields)" };
        match outcome {
            Ok(PushOutcome::Accepted { .. }) => Ok(()),
            // The recipient may have moved away since the device last pulled.
            Ok(PushOutcome::Rejected { rejection, .. })
                if ["outside_station", "outside_reference", "unknown_reference", "no_role"]
                    .contains(&rejection.code.as_str()) =>
            {
                Ok(())
            }
            other => fail(format!("other client versions: {what} valid visit from {name} got {other:?}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

pub fn server_user(server: &Server, id: Uuid) -> Result<User, Failure> {
    let read = server.storage().read().map_err(ctx("server read"))?;
    read.entity(EntityKind::User, id)
        .map_err(ctx("user"))?
        .ok_or_else(|| Failure(format!("no user {id} on the server")))?
        .state
        .to_typed()
        .map_err(ctx("typed user"))
}

/// Every change id in a device's own table of changes.
pub fn local_change_ids(store: &Store) -> Result<BTreeSet<Uuid>, Failure> {
    Ok(local_changes(store)?.into_keys().collect())
}

/// A device's changes as its table has them: status and refusal code, by change id.
pub struct LocalChange {
    pub device_id: Uuid,
    pub device_seq: i64,
    pub status: String,
    pub code: Option<String>,
}

pub fn local_changes(store: &Store) -> Result<BTreeMap<Uuid, LocalChange>, Failure> {
    let mut statement = store
        .connection()
        .prepare("SELECT change_id, status, rejection, device_id, device_seq FROM changes")
        .map_err(ctx("read the changes table"))?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(ctx("read the changes table"))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, status, rejection, device_id, device_seq) = row.map_err(ctx("a change row"))?;
        let id = Uuid::try_parse(&id).map_err(ctx("a change id"))?;
        let device_id = Uuid::try_parse(&device_id).map_err(ctx("a device id"))?;
        let code = rejection
            .and_then(|r| serde_json::from_str::<Value>(&r).ok())
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned));
        out.insert(id, LocalChange { device_id, device_seq, status, code });
    }
    Ok(out)
}

/// A valid resident ID number, with the gender and birth date it encodes.
fn id_number(value: u16) -> (String, &'static str, String) {
    let birth =
        NaiveDate::from_ymd_opt(1940 + i32::from(value % 70), 1 + u32::from(value % 12), 1 + u32::from(value % 28))
            .unwrap_or_default();
    let first17 = format!("441900{}{:03}", birth.format("%Y%m%d"), value % 1000);
    let check = domain::validate::id_number_check_char(&first17).unwrap_or('0');
    let gender = if (value % 1000) % 2 == 1 { "Male" } else { "Female" };
    (format!("{first17}{check}"), gender, birth.to_string())
}
