//! A deterministic simulation of sync: six devices and the server, in one process, on real
//! SQLite files. Random edits on overlapping records, replies dropped, duplicated, stale or cut
//! short, partitions, device restarts, crashes halfway through applying a page, clocks ±24 h
//! wrong, and forged changes from a tampered client. When the network heals, every device must
//! converge to the server's state and the invariants below must hold.
//!
//! Seeded and replayable: `SHEGONG_SIM_SEED=N` runs one seed, `SHEGONG_SIM_SEEDS=K` runs K seeds
//! (default 200), `SHEGONG_SIM_STEPS` sets the length of each scenario. A failing seed is shrunk
//! (delta debugging over its operations) to a minimal scenario, printed with the replay command.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::Labelled;
use domain::case::{ClosureStatus, Stage};
use domain::change::{Change, FieldWrite, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::merge::{ConflictBook, merge};
use domain::org::{Post, RoleKind};
use domain::policy::Actor;
use domain::rules::StateView;
use domain::signoff;
use protocol::{
    ChecksumResponse, LoginRequest, PullQuery, PullResponse, PushOutcome, PushRequest, PushResponse, SnapshotQuery,
    SnapshotResponse,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use store::{DbKey, Store};
use sync_client::{Engine, Transport, TransportError};
use sync_server::storage::{LogScope, Reach};
use sync_server::{NewUser, Server, ServerSettings, SqliteStorage};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The world: a template built once per process (users, devices, keys), copied for each seed.

const DEVICES: usize = 6;
const CATEGORIES: [&str; 3] = ["Dibao", "Disability", "LeftBehindChild"];
const START: i64 = 1_795_000_000_000; // 2026-11-18, in milliseconds

struct Template {
    dir: tempfile::TempDir,
    stations: [Uuid; 2],
    villages: Vec<(Uuid, Uuid)>, // (station, village)
    devices: Vec<DeviceTemplate>,
}

#[derive(Clone)]
struct DeviceTemplate {
    name: &'static str,
    user_id: Uuid,
    role: RoleKind,
    station: Uuid,
    key: [u8; 32],
    token: String,
    device_id: Uuid,
    /// A second device of the same user, registered for a tampered client's forged pushes.
    rogue_token: String,
    rogue_device: Uuid,
}

/// `SHEGONG_SIM_VERBOSE=1` narrates each scenario (what was recorded or refused, a summary).
fn verbose() -> bool {
    std::env::var_os("SHEGONG_SIM_VERBOSE").is_some()
}

fn sim_settings() -> ServerSettings {
    ServerSettings { access_token_ttl: Duration::days(3650), ..ServerSettings::default() }
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

fn build_template() -> Template {
    let dir = scratch();
    let clock = Arc::new(AtomicI64::new(START));
    let storage = SqliteStorage::open(&dir.path().join("server.db")).expect("server storage");
    let server = Server::new(Arc::new(storage), sim_settings(), fixed_clock(clock));
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
        let signing_key = signoff::public_key_hex(&store.signing_key().expect("key"));
        let login = |device: Uuid| {
            server
                .login(LoginRequest {
                    username: name.into(),
                    password: "simulate".into(),
                    device_id: Some(device),
                    device_name: format!("{name}'s laptop"),
                    signing_key: (role == RoleKind::Supervisor).then(|| signing_key.clone()),
                })
                .expect("login")
        };
        let session = login(device_id);
        let rogue_device = Uuid::from_u128(0xe000 + i as u128);
        let rogue = login(rogue_device);
        devices.push(DeviceTemplate {
            name,
            user_id,
            role,
            station,
            key,
            token: session.access_token,
            device_id,
            rogue_token: rogue.access_token,
            rogue_device,
        });
    }
    // Every device starts having pulled the organisation (stations, villages, users).
    for d in &devices {
        let mut store = Store::open_with_key(&dir.path().join(format!("{}.db", d.name)), &DbKey(d.key)).expect("store");
        let (mut last_push, mut last_pull) = (None, None);
        let transport = SimTransport {
            server: &server,
            token: &d.token,
            online: true,
            fault: Fault::None,
            last_push: &mut last_push,
            last_pull: &mut last_pull,
        };
        Engine::new(transport).sync_once(&mut store, |_| {}).expect("first sync");
    }
    drop(server);
    Template { dir, stations: [a, b], villages, devices }
}

fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let src = PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operations: generated from the seed up front, so a failing scenario can be shrunk.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// The request never reaches the server.
    DropRequest,
    /// The server commits, the reply is lost.
    DropReply,
    /// The request arrives twice; the second reply is the one seen.
    Duplicate,
    /// The reply to an earlier request arrives instead of this one's.
    Stale,
    /// The push reply is cut after this many answers, and the device restarts.
    CutReply(u8),
    /// The device crashes halfway through applying a pulled page, and restarts.
    CrashMidApply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    NewRecipient,
    EditRecipient,
    NewHousehold,
    EditHousehold,
    Visit,
    OpenCase,
    /// Whatever the case needs next: its stage's record, the move on, an evaluation, closure.
    Advance,
    MoveStage,
    Decide,
    Reassign,
    Reopen,
    EditCase,
    Forge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SimOp {
    Write { dev: u8, edit: Edit, pick: u16, value: u16 },
    Sync { dev: u8, fault: Fault },
    Restart { dev: u8 },
    Partition { dev: u8, online: bool },
    Tick { ms: u32 },
}

/// What each device's user mostly does, by the device's index (see `build_template`): three
/// workers of station A, its deputy head, the supervisor of A and B, a worker of B.
fn repertoire(dev: usize) -> &'static [(Edit, u32)] {
    const WORKER: &[(Edit, u32)] = &[
        (Edit::NewRecipient, 6),
        (Edit::EditRecipient, 8),
        (Edit::NewHousehold, 2),
        (Edit::EditHousehold, 3),
        (Edit::Visit, 6),
        (Edit::OpenCase, 2),
        (Edit::Advance, 40),
        (Edit::MoveStage, 2),
        (Edit::EditCase, 4),
        (Edit::Forge, 3),
    ];
    const DEPUTY: &[(Edit, u32)] = &[
        (Edit::EditRecipient, 6),
        (Edit::EditHousehold, 2),
        (Edit::OpenCase, 3),
        (Edit::Advance, 15),
        (Edit::Reassign, 4),
        (Edit::Reopen, 2),
        (Edit::EditCase, 4),
        (Edit::Forge, 2),
    ];
    const SUPERVISOR: &[(Edit, u32)] = &[(Edit::Decide, 10), (Edit::Reopen, 1), (Edit::Forge, 2)];
    match dev {
        3 => DEPUTY,
        4 => SUPERVISOR,
        _ => WORKER,
    }
}

fn generate(seed: u64, steps: usize) -> Vec<SimOp> {
    let mut rng = StdRng::seed_from_u64(seed);
    let faults = [
        Fault::None,
        Fault::None,
        Fault::None,
        Fault::DropRequest,
        Fault::DropReply,
        Fault::Duplicate,
        Fault::Stale,
        Fault::CutReply(1),
        Fault::CrashMidApply,
    ];
    (0..steps)
        .map(|_| {
            let dev = rng.gen_range(0..DEVICES as u8);
            match rng.gen_range(0..100) {
                0..=59 => {
                    let edits = repertoire(dev as usize);
                    let total: u32 = edits.iter().map(|(_, w)| w).sum();
                    let mut roll = rng.gen_range(0..total);
                    let mut edit = edits[0].0;
                    for (e, w) in edits {
                        if roll < *w {
                            edit = *e;
                            break;
                        }
                        roll -= w;
                    }
                    SimOp::Write { dev, edit, pick: rng.r#gen(), value: rng.r#gen() }
                }
                60..=84 => {
                    let mut fault = faults[rng.gen_range(0..faults.len())];
                    if let Fault::CutReply(_) = fault {
                        fault = Fault::CutReply(rng.gen_range(0..4));
                    }
                    SimOp::Sync { dev, fault }
                }
                85..=89 => SimOp::Partition { dev, online: rng.gen_bool(0.6) },
                90..=92 => SimOp::Restart { dev },
                _ => SimOp::Tick { ms: rng.gen_range(1..3_600_000) },
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The transport: the server's own methods, with faults.

struct SimTransport<'a> {
    server: &'a Server,
    token: &'a str,
    online: bool,
    fault: Fault,
    last_push: &'a mut Option<PushResponse>,
    last_pull: &'a mut Option<PullResponse>,
}

impl SimTransport<'_> {
    fn deliver<R: Clone>(
        &mut self,
        call: impl Fn(&Server) -> Result<R, protocol::ApiError>,
        last: Option<&mut Option<R>>,
    ) -> Result<R, TransportError> {
        if !self.online {
            return Err(TransportError::Offline("partitioned".into()));
        }
        let fault = std::mem::replace(&mut self.fault, Fault::None);
        let answer = match fault {
            Fault::DropRequest => return Err(TransportError::Offline("request lost".into())),
            Fault::DropReply => {
                let _ = call(self.server);
                return Err(TransportError::Offline("reply lost".into()));
            }
            Fault::Duplicate => {
                let _ = call(self.server);
                call(self.server)
            }
            _ => call(self.server),
        }
        .map_err(TransportError::Api)?;
        if let Some(last) = last {
            let previous = last.replace(answer.clone());
            if fault == Fault::Stale
                && let Some(previous) = previous
            {
                return Ok(previous);
            }
        }
        Ok(answer)
    }
}

impl Transport for SimTransport<'_> {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let cut = match self.fault {
            Fault::CutReply(n) => Some(n as usize),
            _ => None,
        };
        let token = self.token;
        let last = std::mem::take(self.last_push);
        let mut slot = last;
        let result = self.deliver(|s| s.push(token, domain::SCHEMA_VERSION, request.clone()), Some(&mut slot));
        *self.last_push = slot;
        let mut response = result?;
        if let Some(n) = cut {
            response.results.truncate(n);
        }
        Ok(response)
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        let token = self.token;
        let mut slot = std::mem::take(self.last_pull);
        let result = self.deliver(|s| s.pull(token, domain::SCHEMA_VERSION, query), Some(&mut slot));
        *self.last_pull = slot;
        result
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        let token = self.token;
        self.deliver(|s| s.checksum(token), None)
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        let token = self.token;
        self.deliver(|s| s.snapshot(token, query.clone()), None)
    }
}

// ---------------------------------------------------------------------------------------------
// One run of a scenario.

struct Device {
    t: DeviceTemplate,
    actor: Actor,
    path: PathBuf,
    store: Store,
    online: bool,
    offset_ms: i64,
    cursors: Vec<u64>,
    last_push: Option<PushResponse>,
    last_pull: Option<PullResponse>,
    rogue_seq: u64,
    /// Changes a tampered client sent, which the server must have refused.
    forged: Vec<Change>,
}

struct World {
    _dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    server: Server,
    devices: Vec<Device>,
    stations: [Uuid; 2],
    villages: Vec<(Uuid, Uuid)>,
    ids: StdRng,
}

#[derive(Debug)]
struct Failure(String);

type Outcome = Result<(), Failure>;

fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(message.into()))
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return fail(format!($($msg)+));
        }
    };
}

impl World {
    fn new(seed: u64) -> World {
        let t = template();
        let dir = scratch();
        copy_db(&t.dir.path().join("server.db"), &dir.path().join("server.db"));
        let clock = Arc::new(AtomicI64::new(START + 60_000));
        let storage = SqliteStorage::open(&dir.path().join("server.db")).expect("server storage");
        let server = Server::new(Arc::new(storage), sim_settings(), fixed_clock(clock.clone()));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        // Clocks a day behind, hours off, right, or a day ahead.
        let offsets = [-86_400_000, -3 * 3_600_000, 0, 0, 2 * 3_600_000, 86_400_000];
        let devices = t
            .devices
            .iter()
            .map(|d| {
                let path = dir.path().join(format!("{}.db", d.name));
                copy_db(&t.dir.path().join(format!("{}.db", d.name)), &path);
                let store = Store::open_with_key(&path, &DbKey(d.key)).expect("store");
                let user = server_user(&server, d.user_id);
                Device {
                    actor: Actor::new(d.user_id, user.role()),
                    t: d.clone(),
                    path,
                    store,
                    online: true,
                    offset_ms: offsets[rng.gen_range(0..offsets.len())],
                    cursors: vec![0],
                    last_push: None,
                    last_pull: None,
                    rogue_seq: 0,
                    forged: Vec::new(),
                }
            })
            .collect();
        World {
            _dir: dir,
            clock,
            server,
            devices,
            stations: t.stations,
            villages: t.villages.clone(),
            ids: StdRng::seed_from_u64(seed ^ 0x1d5),
        }
    }

    fn now(&self, dev: usize) -> DateTime<Utc> {
        let millis = self.clock.load(Ordering::SeqCst) + self.devices[dev].offset_ms;
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

    fn run(&mut self, ops: &[SimOp]) -> Outcome {
        for op in ops {
            match *op {
                SimOp::Write { dev, edit, pick, value } => self.write(dev as usize, edit, pick as usize, value)?,
                SimOp::Sync { dev, fault } => self.sync(dev as usize, fault)?,
                SimOp::Restart { dev } => self.restart(dev as usize),
                SimOp::Partition { dev, online } => self.devices[dev as usize].online = online,
                SimOp::Tick { ms } => {
                    self.clock.fetch_add(i64::from(ms), Ordering::SeqCst);
                }
            }
        }
        self.heal()?;
        self.check_invariants()
    }

    fn restart(&mut self, dev: usize) {
        let d = &mut self.devices[dev];
        let path = d.path.clone();
        let key = DbKey(d.t.key);
        // Drop first: a crashed process holds nothing.
        d.store = Store::open_in_memory().expect("placeholder");
        d.store = Store::open_with_key(&path, &key).expect("reopen after restart");
    }

    fn sync(&mut self, dev: usize, fault: Fault) -> Outcome {
        let server = self.server.clone();
        let d = &mut self.devices[dev];
        let mut engine = Engine::new(SimTransport {
            server: &server,
            token: &d.t.token,
            online: d.online,
            fault: if fault == Fault::CrashMidApply { Fault::None } else { fault },
            last_push: &mut d.last_push,
            last_pull: &mut d.last_pull,
        })
        .with_page_limit(7);
        if fault == Fault::CrashMidApply {
            d.store.fail_apply_after(Some(3));
        }
        let result = engine.sync_once(&mut d.store, |_| {});
        drop(engine);
        d.store.fail_apply_after(None);
        let cursor = d.store.pull_cursor().map_err(|e| Failure(format!("cursor: {e}")))?;
        let previous = *d.cursors.last().unwrap_or(&0);
        check!(cursor >= previous, "{}: cursor went back from {previous} to {cursor}", d.t.name);
        d.cursors.push(cursor);
        match result {
            Ok(_) => Ok(()),
            Err(sync_client::SyncError::Offline(_)) => Ok(()),
            Err(sync_client::SyncError::Store(store::StoreError::Injected)) => {
                self.restart(dev);
                Ok(())
            }
            Err(e) if matches!(fault, Fault::CutReply(_)) || fault == Fault::Stale => {
                // A cut or stale reply can leave a round unfinished; the next one completes it.
                let _ = e;
                if matches!(fault, Fault::CutReply(_)) {
                    self.restart(dev);
                }
                Ok(())
            }
            Err(e) => fail(format!("{}: sync failed under {fault:?}: {e}", d.t.name)),
        }
    }

    /// Every device online, no faults, sync until nothing moves.
    fn heal(&mut self) -> Outcome {
        for d in &mut self.devices {
            d.online = true;
        }
        for _round in 0..4 {
            for dev in 0..DEVICES {
                self.sync(dev, Fault::None)?;
            }
        }
        Ok(())
    }

    // --- writes ---------------------------------------------------------------------------

    fn local(&self, dev: usize, kind: EntityKind) -> Vec<EntityState> {
        let d = &self.devices[dev];
        d.store.list(kind, Some(d.t.station)).unwrap_or_default()
    }

    fn pick(&self, dev: usize, kind: EntityKind, pick: usize) -> Option<EntityState> {
        let all = self.local(dev, kind);
        (!all.is_empty()).then(|| all[pick % all.len()].clone())
    }

    fn record(&mut self, dev: usize, writes: Vec<Write>) {
        let (now, today) = (self.now(dev), self.today(dev));
        let d = &mut self.devices[dev];
        // A write the local rules refuse leaves nothing behind: that is the store's own test.
        match d.store.record(&d.actor, writes, now, today) {
            Err(e) if verbose() => eprintln!("local refusal {}: {}", d.t.name, e.code()),
            Ok(c) if verbose() => {
                eprintln!("recorded {} {:?}", d.t.name, c.iter().map(|c| c.entity).collect::<Vec<_>>())
            }
            _ => {}
        }
    }

    fn write(&mut self, dev: usize, edit: Edit, pick: usize, value: u16) -> Outcome {
        let today = self.today(dev);
        let station = self.devices[dev].t.station;
        let me = self.devices[dev].t.user_id;
        let villages: Vec<Uuid> = self.villages.iter().filter(|(s, _)| *s == station).map(|(_, v)| *v).collect();
        let text = |prefix: &str| format!("{prefix}{value}");
        match edit {
            Edit::NewRecipient => {
                let id = self.new_id();
                let (id_number, gender, birth) = id_number(value);
                let write = Write::create(EntityKind::Recipient, id)
                    .set("station_id", station.to_string())
                    .set("village_id", villages[pick % villages.len()].to_string())
                    .set("name", format!("张{}", ["三", "伟", "芳", "敏", "静"][pick % 5]))
                    .set("id_number", id_number)
                    .set("gender", gender)
                    .set("birth_date", birth)
                    .set("categories", json!([CATEGORIES[pick % 3]]));
                self.record(dev, vec![write]);
            }
            Edit::EditRecipient => {
                if let Some(r) = self.pick(dev, EntityKind::Recipient, pick) {
                    let field = ["address", "notes", "phone"][value as usize % 3];
                    let v = if field == "phone" { format!("139{:08}", value) } else { text("住址") };
                    self.record(dev, vec![Write::update(EntityKind::Recipient, r.id).set(field, v)]);
                }
            }
            Edit::NewHousehold => {
                let id = self.new_id();
                let write = Write::create(EntityKind::Household, id)
                    .set("station_id", station.to_string())
                    .set("village_id", villages[pick % villages.len()].to_string())
                    .set("name", text("户"));
                self.record(dev, vec![write]);
            }
            Edit::EditHousehold => {
                if let Some(h) = self.pick(dev, EntityKind::Household, pick) {
                    self.record(dev, vec![Write::update(EntityKind::Household, h.id).set("notes", text("备注"))]);
                }
            }
            Edit::Visit => {
                if let Some(r) = self.pick(dev, EntityKind::Recipient, pick) {
                    let id = self.new_id();
                    let write = Write::create(EntityKind::Visit, id)
                        .set("station_id", station.to_string())
                        .set("village_id", r.get_str("village_id").unwrap_or_default())
                        .set("recipient_id", r.id.to_string())
                        .set("worker_id", me.to_string())
                        .set("visited_on", today.to_string())
                        .set("observations", text("走访"))
                        .set("follow_up_needed", value % 2 == 0);
                    self.record(dev, vec![write]);
                }
            }
            Edit::OpenCase => {
                // A worker carries a handful of open cases at a time.
                let open = self
                    .local(dev, EntityKind::Case)
                    .iter()
                    .filter(|c| c.get_enum::<Stage>("stage") != Some(Stage::Closed))
                    .count();
                if open >= 3 {
                    return Ok(());
                }
                if let Some(r) = self.pick(dev, EntityKind::Recipient, pick) {
                    let workers: Vec<Uuid> = self
                        .devices
                        .iter()
                        .filter(|d| d.t.station == station && d.t.role == RoleKind::SocialWorker)
                        .map(|d| d.t.user_id)
                        .collect();
                    let worker = if self.devices[dev].t.role == RoleKind::DeputyHead {
                        workers[value as usize % workers.len()]
                    } else {
                        me
                    };
                    let id = self.new_id();
                    let write = Write::create(EntityKind::Case, id)
                        .set("station_id", station.to_string())
                        .set("recipient_id", r.id.to_string())
                        .set("worker_id", worker.to_string())
                        .set("stage", "Identify")
                        .set("stage_entered_on", today.to_string())
                        .set("opened_on", today.to_string())
                        .set("closure_status", "Open");
                    self.record(dev, vec![write]);
                }
            }
            Edit::Advance => {
                let open: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<Stage>("stage") != Some(Stage::Closed))
                    .collect();
                if let Some(case) = (!open.is_empty()).then(|| open[pick % open.len()].clone()) {
                    let writes = self.next_step(dev, &case, value);
                    self.record(dev, writes);
                }
            }
            Edit::MoveStage => {
                if let Some(case) = self.pick(dev, EntityKind::Case, pick) {
                    let stage = case.get_enum::<Stage>("stage").unwrap_or(Stage::Identify);
                    let to = if value % 4 == 0 { Stage::Assess } else { stage.next().unwrap_or(Stage::Intervene) };
                    self.record(
                        dev,
                        vec![
                            Write::update(EntityKind::Case, case.id)
                                .set("stage", to.as_str())
                                .set("stage_entered_on", today.to_string()),
                        ],
                    );
                }
            }
            Edit::Decide => {
                let requested: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<ClosureStatus>("closure_status") == Some(ClosureStatus::Requested))
                    .collect();
                if requested.is_empty() {
                    return Ok(());
                }
                let case = requested[pick % requested.len()].clone();
                let d = &mut self.devices[dev];
                let records = StateView::case_records(&d.store, case.id).unwrap_or_default();
                let digest = signoff::case_digest(&case, &records);
                let Ok(key) = d.store.signing_key() else { return Ok(()) };
                let sign_off = value % 3 != 0;
                let id = self.new_id();
                let now = self.now(dev);
                let mut decision = Write::create(EntityKind::ClosureDecision, id)
                    .set("station_id", station.to_string())
                    .set("case_id", case.id.to_string())
                    .set("supervisor_id", me.to_string())
                    .set("decided_at", now.to_rfc3339());
                let update = if sign_off {
                    decision = decision
                        .set("decision", "SignedOff")
                        .set("case_digest", digest.clone())
                        .set("signature", signoff::sign(&key, case.id, &digest))
                        .set("public_key", signoff::public_key_hex(&key));
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
                self.record(dev, vec![decision, update]);
            }
            Edit::Reassign => {
                if let Some(case) = self.pick(dev, EntityKind::Case, pick) {
                    let workers: Vec<Uuid> = self
                        .devices
                        .iter()
                        .filter(|d| d.t.station == station && d.t.role == RoleKind::SocialWorker)
                        .map(|d| d.t.user_id)
                        .collect();
                    let to = workers[value as usize % workers.len()];
                    self.record(dev, vec![Write::update(EntityKind::Case, case.id).set("worker_id", to.to_string())]);
                }
            }
            Edit::Reopen => {
                let closed: Vec<EntityState> = self
                    .local(dev, EntityKind::Case)
                    .into_iter()
                    .filter(|c| c.get_enum::<Stage>("stage") == Some(Stage::Closed))
                    .collect();
                if let Some(case) = (!closed.is_empty()).then(|| closed[pick % closed.len()].clone()) {
                    self.record(
                        dev,
                        vec![
                            Write::update(EntityKind::Case, case.id)
                                .set("stage", "Assess")
                                .set("stage_entered_on", today.to_string())
                                .set("closure_status", "Open"),
                        ],
                    );
                }
            }
            Edit::EditCase => {
                if let Some(case) = self.pick(dev, EntityKind::Case, pick) {
                    self.record(dev, vec![Write::update(EntityKind::Case, case.id).set("plan_strategy", text("策略"))]);
                }
            }
            Edit::Forge => self.forge(dev, pick, value)?,
        }
        Ok(())
    }

    /// The writes that take `case` one step further along the pipeline.
    fn next_step(&mut self, dev: usize, case: &EntityState, value: u16) -> Vec<Write> {
        let today = self.today(dev);
        let station = self.devices[dev].t.station;
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
            Stage::Plan if !has(EntityKind::Goal) || value % 5 == 0 => record(EntityKind::Goal)
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

    /// A tampered client pushes a change its user may not make; the server must refuse it.
    fn forge(&mut self, dev: usize, pick: usize, value: u16) -> Outcome {
        let other_station =
            if self.devices[dev].t.station == self.stations[0] { self.stations[1] } else { self.stations[0] };
        let other_village = self.villages.iter().find(|(s, _)| *s == other_station).map(|(_, v)| *v);
        let me = self.devices[dev].t.user_id;
        let someone_else = self.devices[(dev + 1) % DEVICES].t.user_id;
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
                device_override = Some(self.devices[(dev + 1) % DEVICES].t.device_id);
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
        let d = &mut self.devices[dev];
        d.rogue_seq += 1;
        let millis = u64::try_from(self.clock.load(Ordering::SeqCst)).unwrap_or(0);
        let change = Change {
            change_id: Uuid::now_v7(),
            device_id: device_override.unwrap_or(d.t.rogue_device),
            device_seq: d.rogue_seq,
            author_id: author,
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(millis, 0, d.t.rogue_device),
            entity: write.entity,
            entity_id: write.entity_id,
            op: write.op,
            fields: write.fields,
        };
        let response = self
            .server
            .push(&d.t.rogue_token, domain::SCHEMA_VERSION, PushRequest { changes: vec![change.clone()] })
            .map_err(|e| Failure(format!("forged push errored instead of being refused per change: {e}")))?;
        check!(response.results.len() == 1, "one answer per change");
        check!(
            matches!(response.results[0].outcome, PushOutcome::Rejected { .. }),
            "{}: forged change accepted: {change:?} → {:?}",
            d.t.name,
            response.results[0].outcome
        );
        d.forged.push(change);
        Ok(())
    }

    // --- invariants -----------------------------------------------------------------------

    fn server_log(&self) -> Result<Vec<(u64, Incoming)>, Failure> {
        let read = self.server.storage().read().map_err(|e| Failure(e.to_string()))?;
        let scope = LogScope {
            user_id: Uuid::nil(),
            reach: Reach::Stations { stations: self.stations.to_vec(), own_cases_of: None },
        };
        let page = read.log_page(&scope, 0, u32::MAX).map_err(|e| Failure(e.to_string()))?;
        Ok(page.into_iter().map(|e| (e.server_seq, e.item)).collect())
    }

    fn check_invariants(&mut self) -> Outcome {
        let log = self.server_log()?;
        // Every accepted change is in the log exactly once (a change logged for two stations
        // appears once per station, under one sequence number each, with the same id).
        let mut seqs_of: HashMap<Uuid, BTreeSet<u64>> = HashMap::new();
        for (seq, item) in &log {
            if let Incoming::Change(c) = item {
                seqs_of.entry(c.change_id).or_default().insert(*seq);
            }
        }
        for (id, seqs) in &seqs_of {
            check!(seqs.len() == 1, "change {id} logged under several sequence numbers {seqs:?}");
        }

        for d in &self.devices {
            // Nothing waits after healing, and every change this device made that the server
            // accepted is in its log.
            let pending = d.store.pending_count().map_err(|e| Failure(e.to_string()))?;
            check!(pending == 0, "{}: {pending} changes still waiting after healing", d.t.name);
            let accepted: Vec<Uuid> = accepted_change_ids(&d.store)?;
            for id in &accepted {
                check!(seqs_of.contains_key(id), "{}: accepted change {id} missing from the server log", d.t.name);
            }
            // No forged change was applied.
            for forged in &d.forged {
                check!(!seqs_of.contains_key(&forged.change_id), "forged change {} is in the log", forged.change_id);
            }
        }

        // Convergence: each device holds exactly what the server says its user may see.
        let stations = self.stations;
        for dev in 0..DEVICES {
            let d = &self.devices[dev];
            let reach = reach_for(d, &stations);
            for station in d.actor.stations() {
                let server_side = server_entities(&self.server, station, &reach)?;
                let local = local_entities(&d.store, station)?;
                let missing: Vec<_> = server_side.keys().filter(|k| !local.contains_key(*k)).collect();
                let extra: Vec<_> = local.keys().filter(|k| !server_side.contains_key(*k)).collect();
                check!(missing.is_empty(), "{}: missing {missing:?}", d.t.name);
                check!(extra.is_empty(), "{}: holds what it may not see or what the server lacks: {extra:?}", d.t.name);
                for (key, state) in &server_side {
                    let mine = &local[key];
                    check!(
                        strip(mine) == strip(state),
                        "{}: {key:?} differs\n device: {mine:?}\n server: {state:?}",
                        d.t.name
                    );
                }
                let checksum = local_entities(&d.store, station)?
                    .values()
                    .fold(0u64, |acc, s| domain::entity::checksum_fold(acc, &s.digest()));
                let stored = d.store.station_checksum(station).map_err(|e| Failure(e.to_string()))?;
                check!(checksum == stored, "{}: checksum of station does not match its entities", d.t.name);
            }
            // Scope: nothing of a station outside the user's; a worker holds only their cases.
            for kind in EntityKind::ALL {
                for s in d.store.list(*kind, None).map_err(|e| Failure(e.to_string()))? {
                    let ids = s.station_ids();
                    check!(
                        ids.iter().any(|id| d.actor.stations().contains(id)),
                        "{}: holds {kind:?} {} of another station",
                        d.t.name,
                        s.id
                    );
                    if d.t.role == RoleKind::SocialWorker && *kind == EntityKind::Case {
                        check!(
                            s.get_id("worker_id") == Some(d.t.user_id),
                            "{}: holds another worker's case {}",
                            d.t.name,
                            s.id
                        );
                    }
                }
            }
        }

        // Every losing value is kept: the server's open conflicts are exactly those of an
        // independent replay of its log, and no device invents one.
        let mut model: HashMap<(EntityKind, Uuid), EntityState> = HashMap::new();
        let mut book = ConflictBook::default();
        for (_, item) in &log {
            match item {
                Incoming::Change(c) => {
                    let current = model.get(&(c.entity, c.entity_id));
                    if let Some(merged) = merge(current, c) {
                        book.record(c.entity_id, &merged.conflict_ops);
                        model.insert((c.entity, c.entity_id), merged.state);
                    }
                }
                Incoming::Snapshot(s) => {
                    model.entry((s.kind, s.id)).or_insert_with(|| s.clone());
                }
                Incoming::Evict { .. } => {}
            }
        }
        let expected: BTreeSet<(Uuid, String, Hlc)> =
            book.entries.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
        let read = self.server.storage().read().map_err(|e| Failure(e.to_string()))?;
        let mut on_server = BTreeSet::new();
        let entity_ids: BTreeSet<Uuid> = model.keys().map(|(_, id)| *id).collect();
        for id in &entity_ids {
            for c in read.conflicts(*id).map_err(|e| Failure(e.to_string()))? {
                if c.lost.is_some() {
                    on_server.insert((c.entity_id, c.field.clone(), c.hlc));
                }
            }
        }
        check!(
            on_server == expected,
            "server conflicts differ from the replay: server-only {:?}, replay-only {:?}",
            on_server.difference(&expected).collect::<Vec<_>>(),
            expected.difference(&on_server).collect::<Vec<_>>()
        );
        // Each device's open conflicts are those of a replay of exactly what it pulled.
        for d in &self.devices {
            let scope = LogScope { user_id: d.t.user_id, reach: reach_for(d, &stations) };
            let stream = read.log_page(&scope, 0, u32::MAX).map_err(|e| Failure(e.to_string()))?;
            let mut held: HashMap<(EntityKind, Uuid), EntityState> = HashMap::new();
            let mut book = ConflictBook::default();
            for entry in &stream {
                match &entry.item {
                    Incoming::Change(c) => {
                        if let Some(merged) = merge(held.get(&(c.entity, c.entity_id)), c) {
                            book.record(c.entity_id, &merged.conflict_ops);
                            held.insert((c.entity, c.entity_id), merged.state);
                        }
                    }
                    Incoming::Snapshot(s) => {
                        held.insert((s.kind, s.id), s.clone());
                    }
                    Incoming::Evict { entity, entity_id } => {
                        held.remove(&(*entity, *entity_id));
                        book.entries.retain(|(id, _, _), _| id != entity_id);
                        if *entity == EntityKind::Case {
                            let records: Vec<(EntityKind, Uuid)> = held
                                .iter()
                                .filter(|(_, s)| s.get_id("case_id") == Some(*entity_id))
                                .map(|(k, _)| *k)
                                .collect();
                            for key in records {
                                held.remove(&key);
                                book.entries.retain(|(id, _, _), _| *id != key.1);
                            }
                        }
                    }
                }
            }
            let replayed: BTreeSet<(Uuid, String, Hlc)> =
                book.entries.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
            let local: BTreeSet<(Uuid, String, Hlc)> = d
                .store
                .open_conflicts()
                .map_err(|e| Failure(e.to_string()))?
                .into_iter()
                .map(|c| (c.entity_id, c.field, c.lost_hlc))
                .collect();
            check!(
                local == replayed,
                "{}: conflicts differ from a replay of its stream: device-only {:?}, replay-only {:?}",
                d.t.name,
                local.difference(&replayed).collect::<Vec<_>>(),
                replayed.difference(&local).collect::<Vec<_>>()
            );
        }

        if verbose() {
            let cases = self.devices[3].store.list(EntityKind::Case, None).unwrap_or_default();
            let closed = cases.iter().filter(|c| c.get_enum::<Stage>("stage") == Some(Stage::Closed)).count();
            let rejected: usize =
                self.devices.iter().map(|d| d.store.rejected_changes().map(|r| r.len()).unwrap_or(0)).sum();
            let forged: usize = self.devices.iter().map(|d| d.forged.len()).sum();
            eprintln!(
                "log {} entries, {} open conflicts, {} cases ({closed} closed), {rejected} rejected on push, {forged} forged",
                log.len(),
                expected.len(),
                cases.len(),
            );
        }
        // Every signed closure verifies, on the server and on every device holding it.
        for d in &self.devices {
            for case in d.store.list(EntityKind::Case, None).map_err(|e| Failure(e.to_string()))? {
                if case.get_enum::<Stage>("stage") != Some(Stage::Closed) {
                    continue;
                }
                let records = StateView::case_records(&d.store, case.id).map_err(|e| Failure(e.to_string()))?;
                let decision = domain::rules::latest_decision(&records)
                    .ok_or_else(|| Failure(format!("{}: closed case {} without a decision", d.t.name, case.id)))?;
                let supervisor = decision.get_id("supervisor_id").unwrap_or_default();
                let keys = StateView::entity(&d.store, EntityKind::User, supervisor)
                    .ok()
                    .flatten()
                    .and_then(|u| u.to_typed::<domain::org::User>().ok())
                    .map(|u| u.signing_keys)
                    .unwrap_or_default();
                let seal = signoff::check_seal(decision, &case, &records, &keys);
                check!(seal.is_ok(), "{}: closed case {} seal {seal:?}", d.t.name, case.id);
            }
        }
        Ok(())
    }
}

fn server_user(server: &Server, id: Uuid) -> domain::org::User {
    let read = server.storage().read().expect("read");
    read.entity(EntityKind::User, id).expect("user").expect("user exists").state.to_typed().expect("typed user")
}

fn reach_for(d: &Device, stations: &[Uuid; 2]) -> Reach {
    let _ = stations;
    let own = (d.t.role == RoleKind::SocialWorker).then_some(d.t.user_id);
    Reach::Stations { stations: d.actor.stations(), own_cases_of: own }
}

fn server_entities(
    server: &Server,
    station: Uuid,
    reach: &Reach,
) -> Result<BTreeMap<(EntityKind, Uuid), EntityState>, Failure> {
    let read = server.storage().read().map_err(|e| Failure(e.to_string()))?;
    let all = read.entities_of_station(station, reach, None, u32::MAX).map_err(|e| Failure(e.to_string()))?;
    Ok(all.into_iter().map(|s| ((s.kind, s.id), s)).collect())
}

fn local_entities(store: &Store, station: Uuid) -> Result<BTreeMap<(EntityKind, Uuid), EntityState>, Failure> {
    let mut map = BTreeMap::new();
    for kind in EntityKind::ALL {
        for s in store.list(*kind, None).map_err(|e| Failure(e.to_string()))? {
            if s.station_ids().contains(&station) {
                map.insert((s.kind, s.id), s);
            }
        }
    }
    Ok(map)
}

fn accepted_change_ids(store: &Store) -> Result<Vec<Uuid>, Failure> {
    let mut statement = store
        .connection()
        .prepare("SELECT change_id FROM changes WHERE status = 'accepted'")
        .map_err(|e| Failure(e.to_string()))?;
    let ids = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| Failure(e.to_string()))?
        .filter_map(Result::ok)
        .filter_map(|s| Uuid::try_parse(&s).ok())
        .collect();
    Ok(ids)
}

fn strip(s: &EntityState) -> EntityState {
    let mut s = s.clone();
    s.fields.retain(|_, v| !v.is_null());
    s
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

// ---------------------------------------------------------------------------------------------
// Running seeds, and shrinking a failure.

fn run_scenario(seed: u64, ops: &[SimOp]) -> Outcome {
    let mut world = World::new(seed);
    world.run(ops)
}

/// Delta debugging: drop chunks of operations while the scenario still fails.
fn shrink(seed: u64, mut ops: Vec<SimOp>) -> (Vec<SimOp>, Failure) {
    let mut failure = match run_scenario(seed, &ops) {
        Err(f) => f,
        Ok(()) => return (ops, Failure("no longer fails".into())),
    };
    let mut chunk = ops.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        let mut shrunk = false;
        while start < ops.len() {
            let mut candidate = ops.clone();
            candidate.drain(start..(start + chunk).min(ops.len()));
            match run_scenario(seed, &candidate) {
                Err(f) => {
                    ops = candidate;
                    failure = f;
                    shrunk = true;
                }
                Ok(()) => start += chunk,
            }
        }
        if !shrunk {
            chunk /= 2;
        }
    }
    (ops, failure)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn devices_converge_and_lose_nothing_under_faults() {
    let steps = env_number("SHEGONG_SIM_STEPS", 400) as usize;
    let seeds: Vec<u64> = match std::env::var("SHEGONG_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (1..=env_number("SHEGONG_SIM_SEEDS", 200)).collect(),
    };
    for seed in seeds {
        let ops = generate(seed, steps);
        if let Err(failure) = run_scenario(seed, &ops) {
            let (minimal, last) = shrink(seed, ops);
            panic!(
                "seed {seed} failed: {}\nshrunk to {} operations (failing with: {}):\n{:#?}\n\
                 replay: SHEGONG_SIM_SEED={seed} SHEGONG_SIM_STEPS={steps} cargo test -p shegong-tests --test sync_simulation",
                failure.0,
                minimal.len(),
                last.0,
                minimal
            );
        }
    }
}

#[test]
fn the_scenario_is_the_same_for_the_same_seed() {
    assert_eq!(generate(7, 50), generate(7, 50));
    assert_ne!(generate(7, 50), generate(8, 50));
}

#[allow(dead_code)]
fn unused(_: FieldWrite, _: Op, _: Value) {}
