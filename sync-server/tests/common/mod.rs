//! A small world for the server's tests: two stations with their people, a clock the tests move,
//! and devices that stamp changes like the app does and keep a replica of what they pulled
//! (merged with the same domain function the app uses), so tests can ask what a device ends up
//! holding.

#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::change::{Change, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState, checksum_fold};
use domain::hlc::Clock;
use domain::merge::merge;
use domain::{Id, field};
use ed25519_dalek::SigningKey;
use protocol::{
    ApiError, LoginRequest, PullEntry, PullQuery, PushOutcome, PushRequest, PushResponse, PushResult, Session,
    SnapshotQuery,
};
use sync_server::Server;
use uuid::Uuid;

pub use test_support::world::{PASSWORD, World};
pub use test_support::writes::{CaseIds, recipient};
pub use test_support::{TestClock, date};

/// Signing in to the world's server as a device of these tests.
pub trait SignIn {
    fn login(&self, username: &str) -> Device;
    /// Signs in; with `signing_key`, registers it with its proof of possession, made as a device
    /// does (for the user, and the device id sent: none here, so the nil id).
    fn login_with(&self, username: &str, signing_key: Option<&SigningKey>) -> Device;
}

impl SignIn for World {
    fn login(&self, username: &str) -> Device {
        self.login_with(username, None)
    }

    fn login_with(&self, username: &str, signing_key: Option<&SigningKey>) -> Device {
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
            Incoming::Evict { entity, entity_id, .. } => {
                self.entities.remove(&(*entity, *entity_id));
                if *entity == EntityKind::Case {
                    let case = entity_id.to_string();
                    self.entities.retain(|(kind, _), state| {
                        !(kind.is_case_record() && state.get_str(field::CASE_ID) == Some(case.as_str()))
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

/// The day the cases of these tests open (the world's clock stands at 2026-06-15).
pub fn opened_on() -> NaiveDate {
    date("2026-05-01")
}

pub fn visit(station: Id, village: Id, recipient: Id, worker: Id, on: &str) -> (Id, Write) {
    test_support::writes::visit(station, village, recipient, worker, date(on))
}

pub fn new_case(station: Id, recipient: Id, worker: Id) -> (Id, Write) {
    test_support::writes::new_case(station, recipient, worker, opened_on())
}

/// The writes that open a case and take it through every stage to a closure request.
pub fn case_to_closure_request(station: Id, recipient: Id, worker: Id) -> (CaseIds, Vec<Write>) {
    test_support::writes::case_to_closure_request(station, recipient, worker, opened_on())
}

/// A supervisor's sign-off of `case` as it stands on the server, now: the decision, signed with
/// `key` over `digest`, and the case update that closes it.
pub fn sign_off(world: &World, supervisor: Id, case: Id, key: &SigningKey, digest: &str) -> Vec<Write> {
    let state = world.state(EntityKind::Case, case).expect("case on the server");
    let station = state.get_id(field::case::STATION_ID).expect("station");
    test_support::writes::sign_off(station, case, supervisor, key, digest, world.clock.now())
}

/// The digest of a case as the server holds it now.
pub fn server_digest(world: &World, case: Id) -> String {
    world.case_digest(case)
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

/// Starts `server` as `shegong-sync serve` does, on 127.0.0.1:0; returns its base URL and a
/// switch that stops it.
pub async fn serve_on_loopback(server: Server) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let listen = "127.0.0.1:0".parse().expect("address");
        let on_listening = move |url: &str| {
            let _ = url_tx.send(url.to_owned());
        };
        let stopped = async move {
            let _ = stop_rx.await;
        };
        if let Err(e) = sync_server::serve(server, listen, None, on_listening, stopped).await {
            panic!("server failed: {e}");
        }
    });
    (url_rx.await.expect("the server reports its address"), stop_tx)
}

/// A log entry's audience of one user alone.
pub fn audience_of(user: Id) -> sync_server::storage::Audience {
    sync_server::storage::Audience {
        station_id: None,
        case_worker_id: None,
        target_user_id: Some(user),
        organisation: false,
        supervision: sync_server::storage::Supervision::No,
    }
}
