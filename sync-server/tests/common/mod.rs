//! A small world for the server's tests: two stations with their people, a clock the tests move,
//! and devices that stamp changes like the app does and keep a replica of what they pulled
//! (merged with the same domain function the app uses), so tests can ask what a device ends up
//! holding.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::Id;
use domain::change::{Change, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState, checksum_fold};
use domain::hlc::Clock;
use domain::merge::merge;
use domain::org::{Post, RoleKind};
use ed25519_dalek::SigningKey;
use protocol::{
    ApiError, LoginRequest, PullEntry, PullQuery, PushOutcome, PushRequest, PushResponse, PushResult, Session,
    SnapshotQuery,
};
use sync_server::admin::make_id_number;
use sync_server::storage::Storage;
use sync_server::{NewUser, Server, ServerSettings, SqliteStorage};
use uuid::Uuid;

pub const PASSWORD: &str = "password1";

/// The wall clock the server sees; tests move it.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(Mutex::new(Utc.with_ymd_and_hms(2026, 6, 15, 4, 0, 0).single().expect("valid time"))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    pub fn millis(&self) -> u64 {
        u64::try_from(self.now().timestamp_millis()).expect("after 1970")
    }

    pub fn wall(&self) -> sync_server::WallClock {
        let me = self.clone();
        Arc::new(move || me.now())
    }
}

/// Two stations (S and T), their points and villages, and one user of each kind.
pub struct World {
    pub server: Server,
    pub clock: TestClock,
    pub station_s: Id,
    pub point_s: Id,
    pub village_s: Id,
    pub village_s2: Id,
    pub station_t: Id,
    pub point_t: Id,
    pub village_t: Id,
    /// Social workers A and B of S, C of T.
    pub worker_a: Id,
    pub worker_b: Id,
    pub worker_c: Id,
    pub deputy_s: Id,
    pub deputy_t: Id,
    pub supervisor_s: Id,
    pub supervisor_t: Id,
    pub admin: Id,
}

impl World {
    pub fn new() -> Self {
        Self::with_storage(Arc::new(SqliteStorage::open_in_memory().expect("in-memory database")))
    }

    pub fn with_storage(storage: Arc<dyn Storage>) -> Self {
        let clock = TestClock::new();
        let server = Server::new(storage, ServerSettings::default(), clock.wall());
        let admin = server.admin();
        let station_s = admin.create_station("城关镇社工站", "示范县").expect("station S");
        let point_s = admin.create_service_point(station_s, "东关社工点").expect("point S");
        let village_s = admin.create_village(station_s, point_s, "东关村").expect("village S");
        let village_s2 = admin.create_village(station_s, point_s, "南街社区").expect("village S2");
        let station_t = admin.create_station("河西镇社工站", "示范县").expect("station T");
        let point_t = admin.create_service_point(station_t, "河西社工点").expect("point T");
        let village_t = admin.create_village(station_t, point_t, "河西村").expect("village T");
        let user = |username: &str, name: &str, role: RoleKind, station: Option<Id>, supervises: Vec<Id>| {
            admin
                .create_user(&NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    role,
                    post: (role == RoleKind::SocialWorker).then_some(Post::Service),
                    station_id: station,
                    service_point_id: None,
                    supervised_station_ids: supervises,
                    password: PASSWORD.into(),
                })
                .expect("user")
        };
        let worker_a = user("wa", "李娟", RoleKind::SocialWorker, Some(station_s), vec![]);
        let worker_b = user("wb", "赵敏", RoleKind::SocialWorker, Some(station_s), vec![]);
        let worker_c = user("wc", "孙丽", RoleKind::SocialWorker, Some(station_t), vec![]);
        let deputy_s = user("ds", "王建国", RoleKind::DeputyHead, Some(station_s), vec![]);
        let deputy_t = user("dt", "周强", RoleKind::DeputyHead, Some(station_t), vec![]);
        let supervisor_s = user("sup", "陈静", RoleKind::Supervisor, None, vec![station_s]);
        let supervisor_t = user("supt", "吴芳", RoleKind::Supervisor, None, vec![station_t]);
        let admin_id = user("adm", "管理员", RoleKind::Admin, None, vec![]);
        World {
            server,
            clock,
            station_s,
            point_s,
            village_s,
            village_s2,
            station_t,
            point_t,
            village_t,
            worker_a,
            worker_b,
            worker_c,
            deputy_s,
            deputy_t,
            supervisor_s,
            supervisor_t,
            admin: admin_id,
        }
    }

    pub fn login(&self, username: &str) -> Device {
        self.login_with(username, None)
    }

    /// Signs in; with `signing_key`, registers it with its proof of possession, made as a device
    /// does (for the user, and the device id sent: none here, so the nil id).
    pub fn login_with(&self, username: &str, signing_key: Option<&SigningKey>) -> Device {
        let user_id = self.server.admin().user_id(username).ok().flatten().unwrap_or_default();
        let session = self
            .server
            .login(LoginRequest {
                username: username.into(),
                password: PASSWORD.into(),
                device_id: None,
                device_name: format!("{username}'s laptop"),
                signing_key: signing_key.map(domain::signoff::public_key_hex),
                signing_key_proof: signing_key.map(|key| domain::signoff::prove_key(key, user_id, Uuid::nil())),
            })
            .expect("signs in");
        Device::new(self.server.clone(), self.clock.clone(), session)
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// The server's current state of an entity.
    pub fn state(&self, kind: EntityKind, id: Id) -> Option<EntityState> {
        self.server.storage().read().expect("read").entity(kind, id).expect("entity").map(|r| r.state)
    }

    pub fn case_records(&self, case_id: Id) -> Vec<EntityState> {
        self.server.storage().read().expect("read").case_records(case_id).expect("records")
    }

    pub fn log_head(&self) -> u64 {
        self.server.storage().read().expect("read").log_head().expect("head")
    }
}

/// What a device holds after applying pulled entries, merged like the app merges them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Replica {
    pub entities: BTreeMap<(EntityKind, Id), EntityState>,
    /// Updates of entities the device did not have (the app counts these as divergence).
    pub unknown_updates: usize,
}

impl Replica {
    pub fn apply(&mut self, item: &Incoming) {
        match item {
            Incoming::Change(change) => {
                let key = (change.entity, change.entity_id);
                match merge(self.entities.get(&key), change) {
                    Some(merged) => {
                        self.entities.insert(key, merged.state);
                    }
                    None => self.unknown_updates += 1,
                }
            }
            Incoming::Snapshot(state) => {
                self.entities.insert((state.kind, state.id), state.clone());
            }
            Incoming::Evict { entity, entity_id } => {
                self.entities.remove(&(*entity, *entity_id));
                if *entity == EntityKind::Case {
                    let case = entity_id.to_string();
                    self.entities.retain(|(kind, _), state| {
                        !(kind.is_case_record() && state.get_str("case_id") == Some(case.as_str()))
                    });
                }
            }
        }
    }

    pub fn get(&self, kind: EntityKind, id: Id) -> Option<&EntityState> {
        self.entities.get(&(kind, id))
    }

    pub fn has(&self, kind: EntityKind, id: Id) -> bool {
        self.entities.contains_key(&(kind, id))
    }

    pub fn of_kind(&self, kind: EntityKind) -> Vec<&EntityState> {
        self.entities.values().filter(|s| s.kind == kind).collect()
    }

    /// The checksum a device computes for a station: every entity it holds there.
    pub fn checksum(&self, station: Id) -> String {
        let acc = self
            .entities
            .values()
            .filter(|s| s.station_ids().contains(&station))
            .fold(0, |acc, s| checksum_fold(acc, &s.digest()));
        format!("{acc:016x}")
    }
}

/// A signed-in laptop: stamps writes into changes (dense sequence, HLC), pushes and pulls.
pub struct Device {
    pub server: Server,
    pub clock: TestClock,
    pub session: Session,
    pub hlc: Clock,
    pub next_seq: u64,
    pub replica: Replica,
    pub cursor: u64,
}

impl Device {
    pub fn new(server: Server, clock: TestClock, session: Session) -> Self {
        let hlc = Clock::new(session.device_id);
        Device { server, clock, session, hlc, next_seq: 1, replica: Replica::default(), cursor: 0 }
    }

    pub fn id(&self) -> Id {
        self.session.device_id
    }

    pub fn user(&self) -> Id {
        self.session.user_id
    }

    pub fn token(&self) -> &str {
        &self.session.access_token
    }

    /// Stamps a write as the app's store does: next sequence number, a clock tick, and for an
    /// update, the base of each field from what this device holds.
    pub fn stamp(&mut self, write: Write) -> Change {
        let mut fields = write.fields;
        if write.op == Op::Update
            && let Some(current) = self.replica.get(write.entity, write.entity_id)
        {
            for (name, field) in fields.iter_mut() {
                if field.base.is_none() {
                    field.base = Some(current.clock(name).hlc);
                }
            }
        }
        let change = Change {
            change_id: Uuid::now_v7(),
            device_id: self.id(),
            device_seq: self.next_seq,
            author_id: self.user(),
            schema_version: domain::SCHEMA_VERSION,
            hlc: self.hlc.tick(self.clock.millis()),
            entity: write.entity,
            entity_id: write.entity_id,
            op: write.op,
            fields,
        };
        self.next_seq += 1;
        // As the app does: the device applies its own write at once.
        self.replica.apply(&Incoming::Change(change.clone()));
        change
    }

    /// Pushes, and undoes locally what the server refused, as the app does (putting back the
    /// server's state of the entity, or removing an entity the refused change created).
    pub fn push(&mut self, changes: &[Change]) -> Result<PushResponse, ApiError> {
        let response =
            self.server.push(self.token(), domain::SCHEMA_VERSION, PushRequest { changes: changes.to_vec() })?;
        for result in &response.results {
            let (PushOutcome::Rejected { current, .. }, Some(change)) =
                (&result.outcome, changes.iter().find(|c| c.device_seq == result.device_seq))
            else {
                continue;
            };
            let key = (change.entity, change.entity_id);
            match current {
                Some(state) => {
                    self.replica.entities.insert(key, state.clone());
                }
                None => {
                    self.replica.entities.remove(&key);
                }
            }
        }
        Ok(response)
    }

    /// Stamps and pushes; panics if the push as a whole fails.
    pub fn send(&mut self, writes: Vec<Write>) -> Vec<PushResult> {
        let changes: Vec<Change> = writes.into_iter().map(|w| self.stamp(w)).collect();
        self.push(&changes).expect("push answered").results
    }

    /// Sends writes that must all be accepted.
    pub fn send_ok(&mut self, writes: Vec<Write>) -> Vec<u64> {
        self.send(writes).iter().map(accepted).collect()
    }

    /// Pulls everything new into the replica, `page` entries at a time.
    pub fn sync_with_page(&mut self, page: u32) -> Vec<PullEntry> {
        let mut all = Vec::new();
        loop {
            let response = self
                .server
                .pull(self.token(), domain::SCHEMA_VERSION, PullQuery { after: self.cursor, limit: Some(page) })
                .expect("pull answered");
            for entry in &response.entries {
                assert!(entry.server_seq > self.cursor, "entries come after the cursor");
                // As the app's store does: later local edits order after everything seen.
                match &entry.item {
                    Incoming::Change(change) => self.hlc.observe(change.hlc),
                    Incoming::Snapshot(state) => {
                        self.hlc.observe(state.created.hlc);
                        state.clocks.values().for_each(|c| self.hlc.observe(c.hlc));
                    }
                    Incoming::Evict { .. } => {}
                }
                self.replica.apply(&entry.item);
            }
            all.extend(response.entries);
            assert!(response.next_cursor >= self.cursor, "the cursor never goes back");
            // Otherwise a server that keeps saying "more" would keep this loop (and CI) going.
            assert!(
                !response.has_more || response.next_cursor > self.cursor,
                "a page with more to come moves the cursor"
            );
            self.cursor = response.next_cursor;
            if !response.has_more {
                return all;
            }
        }
    }

    pub fn sync(&mut self) -> Vec<PullEntry> {
        self.sync_with_page(protocol::limits::DEFAULT_PULL_LIMIT)
    }

    /// A fresh replica of everything this user may pull, from the start of the log.
    pub fn pull_from_scratch(&self) -> Replica {
        let mut fresh = Device::new(self.server.clone(), self.clock.clone(), self.session.clone());
        fresh.sync_with_page(7);
        fresh.replica
    }

    /// Every entity of a station as the snapshot endpoint gives it, page by page.
    pub fn snapshot_all(&self, station: Id, page: u32) -> Vec<EntityState> {
        let mut query = SnapshotQuery { station, after_kind: None, after_id: None, limit: Some(page) };
        let mut out = Vec::new();
        loop {
            let response = self.server.snapshot(self.token(), query.clone()).expect("snapshot answered");
            let last = response.entities.last().map(|e| (e.kind, e.id));
            out.extend(response.entities);
            match (response.has_more, last) {
                (true, Some((kind, id))) => {
                    query.after_kind = Some(kind);
                    query.after_id = Some(id);
                }
                _ => return out,
            }
        }
    }
}

/// The server sequence number of an accepted result; panics with the outcome otherwise.
pub fn accepted(result: &PushResult) -> u64 {
    match &result.outcome {
        PushOutcome::Accepted { server_seq, .. } => *server_seq,
        other => panic!("change {} was not accepted: {other:?}", result.device_seq),
    }
}

/// The rejection code of a rejected result; panics with the outcome otherwise.
pub fn rejected(result: &PushResult) -> String {
    match &result.outcome {
        PushOutcome::Rejected { rejection, .. } => rejection.code.clone(),
        other => panic!("change {} was not rejected: {other:?}", result.device_seq),
    }
}

/// A new recipient with a valid ID number (gender and birth date agreeing with it).
pub fn recipient(station: Id, village: Id, name: &str, n: u32) -> (Id, Write) {
    let id = Uuid::now_v7();
    let birth = NaiveDate::from_ymd_opt(1950 + (n % 50) as i32, (n % 12) + 1, 15).expect("valid date");
    let sequence = 200 + n;
    let gender = if sequence % 2 == 1 { "Male" } else { "Female" };
    let write = Write::create(EntityKind::Recipient, id)
        .set("station_id", station.to_string())
        .set("village_id", village.to_string())
        .set("name", name)
        .set("id_number", make_id_number("410522", birth, sequence))
        .set("gender", gender)
        .set("birth_date", birth.format("%Y-%m-%d").to_string())
        .set("categories", vec!["Dibao"]);
    (id, write)
}

pub fn visit(station: Id, village: Id, recipient: Id, worker: Id, on: &str) -> (Id, Write) {
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Visit, id)
        .set("station_id", station.to_string())
        .set("village_id", village.to_string())
        .set("recipient_id", recipient.to_string())
        .set("worker_id", worker.to_string())
        .set("visited_on", on)
        .set("observations", "生活稳定")
        .set("follow_up_needed", false);
    (id, write)
}

/// The ids of a case built by [`case_to_closure_request`].
#[derive(Debug, Clone, Copy)]
pub struct CaseIds {
    pub case: Id,
    pub goal: Id,
    pub screening: Id,
}

pub fn new_case(station: Id, recipient: Id, worker: Id) -> (Id, Write) {
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Case, id)
        .set("station_id", station.to_string())
        .set("recipient_id", recipient.to_string())
        .set("worker_id", worker.to_string())
        .set("stage", "Identify")
        .set("stage_entered_on", "2026-05-01")
        .set("opened_on", "2026-05-01")
        .set("closure_status", "Open");
    (id, write)
}

/// The writes that open a case and take it through every stage to a closure request.
pub fn case_to_closure_request(station: Id, recipient: Id, worker: Id) -> (CaseIds, Vec<Write>) {
    let (case, create) = new_case(station, recipient, worker);
    let screening = Uuid::now_v7();
    let goal = Uuid::now_v7();
    let record = |kind: EntityKind, id: Id| {
        Write::create(kind, id).set("station_id", station.to_string()).set("case_id", case.to_string())
    };
    let stage =
        |name: &str, on: &str| Write::update(EntityKind::Case, case).set("stage", name).set("stage_entered_on", on);
    let writes = vec![
        create,
        record(EntityKind::Screening, screening).set("source", "VisitScreening").set("found_on", "2026-05-01"),
        stage("Assess", "2026-05-02"),
        record(EntityKind::Assessment, Uuid::now_v7())
            .set("assessed_on", "2026-05-02")
            .set("risk_level", "High")
            .set("needs_summary", "日常照料"),
        stage("Plan", "2026-05-03"),
        record(EntityKind::Goal, goal).set("description", "落实临时救助").set("target_date", "2026-07-01"),
        stage("Coordinate", "2026-05-04"),
        stage("Intervene", "2026-05-05"),
        record(EntityKind::Intervention, Uuid::now_v7())
            .set("worker_id", worker.to_string())
            .set("delivered_on", "2026-05-06")
            .set("service_type", "EmotionalCounselling")
            .set("method", "Casework")
            .set("duration_minutes", 45)
            .set("notes", "入户陪伴"),
        stage("FollowUp", "2026-05-10"),
        record(EntityKind::FollowUp, Uuid::now_v7())
            .set("worker_id", worker.to_string())
            .set("visited_on", "2026-06-01")
            .set("notes", "情况好转"),
        Write::update(EntityKind::Goal, goal).set("evaluation", "Achieved"),
        Write::update(EntityKind::Case, case)
            .set("closure_status", "Requested")
            .set("closure_summary", "目标达成")
            .set("closure_requested_on", "2026-06-10"),
    ];
    (CaseIds { case, goal, screening }, writes)
}

/// A supervisor's sign-off of `case` as it stands on the server: the decision, signed with
/// `key` over `digest`, and the case update that closes it.
pub fn sign_off(world: &World, supervisor: Id, case: Id, key: &SigningKey, digest: &str) -> Vec<Write> {
    let state = world.state(EntityKind::Case, case).expect("case on the server");
    let station = state.get_str("station_id").expect("station").to_owned();
    let signature = domain::signoff::sign(key, case, digest);
    vec![
        Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
            .set("station_id", station)
            .set("case_id", case.to_string())
            .set("supervisor_id", supervisor.to_string())
            .set("decision", "SignedOff")
            .set("decided_at", "2026-06-15T04:00:00.000Z")
            .set("case_digest", digest)
            .set("signature", signature)
            .set("public_key", domain::signoff::public_key_hex(key)),
        Write::update(EntityKind::Case, case)
            .set("stage", "Closed")
            .set("closure_status", "SignedOff")
            .set("stage_entered_on", "2026-06-15"),
    ]
}

/// The digest of a case as the server holds it now.
pub fn server_digest(world: &World, case: Id) -> String {
    let state = world.state(EntityKind::Case, case).expect("case on the server");
    domain::signoff::case_digest(&state, &world.case_records(case))
}

/// Takes a fresh case of worker A's through the whole pipeline to a signed-off closure.
pub fn closed_case(
    world: &World,
    worker: &mut Device,
    supervisor: &mut Device,
    key: &SigningKey,
    recipient: Id,
) -> CaseIds {
    let (ids, writes) = case_to_closure_request(world.station_s, recipient, worker.user());
    worker.send_ok(writes);
    let digest = server_digest(world, ids.case);
    supervisor.sync();
    let writes = sign_off(world, supervisor.user(), ids.case, key, &digest);
    supervisor.send_ok(writes);
    ids
}
