//! The real sync server binary on loopback, killed with SIGKILL while several clients push at
//! once: no change it acknowledged is lost, and the clients — the app's own sync engine over
//! HTTP — finish their work once it is back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::change::{Incoming, Write};
use domain::entity::EntityKind;
use domain::field;
use domain::policy::Actor;
use protocol::LoginRequest;
use shegong_tests::{DEMO_PASSWORD, SyncServer, deadline};
use store::{DbKey, Store};
use sync_client::{Backoff, Engine, HttpTransport, SyncError};
use sync_server::storage::{LogScope, Reach};
use test_support::backend::TestDatabase;
use uuid::Uuid;

/// Changes each client records, in rounds of `PER_ROUND` between syncs.
const CHANGES_PER_CLIENT: usize = 120;
const PER_ROUND: usize = 6;

struct Client {
    name: String,
    store: Store,
    engine: Engine<HttpTransport>,
    actor: Actor,
    station: Uuid,
    village: Uuid,
    _dir: tempfile::TempDir,
}

fn client(url: &str, username: &str, n: usize) -> Client {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_with_key(&dir.path().join("device.db"), &DbKey([n as u8 + 1; 32])).expect("store");
    let session = sync_client::login(
        url,
        &LoginRequest {
            username: username.into(),
            password: DEMO_PASSWORD.into(),
            device_id: Some(store.device_id()),
            device_name: format!("laptop {n}"),
            signing_key: None,
            signing_key_proof: None,
        },
    )
    .expect("signs in");
    let user: domain::org::User = session.user.to_typed().expect("user record");
    let station = user.station_id.expect("a station");
    let mut engine = Engine::new(HttpTransport::new(url, session).expect("transport"));
    engine.sync_once(&mut store, |_| {}).expect("first pull");
    let village = store.list(EntityKind::Village, Some(station)).expect("villages")[0].id;
    Client {
        name: format!("{username}#{n}"),
        store,
        engine,
        actor: Actor::new(user.id, user.role()),
        station,
        village,
        _dir: dir,
    }
}

impl Client {
    /// Records one round of work: a household and a recipient in it, or a visit.
    fn work(&mut self, round: usize) {
        let now = Utc::now();
        let today = now.date_naive();
        for i in 0..PER_ROUND {
            let write = if i % 3 == 2 {
                let recipients = self.store.list(EntityKind::Recipient, Some(self.station)).expect("recipients");
                let r = &recipients[(round + i) % recipients.len()];
                Write::create(EntityKind::Visit, Uuid::now_v7())
                    .set(field::visit::STATION_ID, self.station.to_string())
                    .set(field::visit::VILLAGE_ID, r.get_str(field::recipient::VILLAGE_ID).unwrap_or_default())
                    .set(field::visit::RECIPIENT_ID, r.id.to_string())
                    .set(field::visit::WORKER_ID, self.actor.user_id.to_string())
                    .set(field::visit::VISITED_ON, today.to_string())
                    .set(field::visit::OBSERVATIONS, format!("{} 第{round}轮走访", self.name))
                    .set(field::visit::FOLLOW_UP_NEEDED, false)
            } else {
                Write::create(EntityKind::Household, Uuid::now_v7())
                    .set(field::household::STATION_ID, self.station.to_string())
                    .set(field::household::VILLAGE_ID, self.village.to_string())
                    .set(field::household::NAME, format!("{}户{round}-{i}", self.name))
            };
            self.store.record(&self.actor, vec![write], now, today).expect("recorded offline");
        }
    }

    fn accepted(&self) -> HashSet<Uuid> {
        let mut statement =
            self.store.connection().prepare("SELECT change_id FROM changes WHERE status = 'accepted'").expect("query");
        statement
            .query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .filter_map(Result::ok)
            .filter_map(|s| Uuid::try_parse(&s).ok())
            .collect()
    }
}

#[test]
fn a_server_killed_mid_push_loses_no_acknowledged_change_and_clients_finish_once_it_is_back() {
    let _deadline = deadline(Duration::from_secs(300));
    let mut server = SyncServer::start_with_demo_data_on(|dir| TestDatabase::new(dir).server_env()).expect("server");
    let url = server.url().to_string();
    // Three laptops: the demo worker on two, the deputy head on one.
    let clients: Vec<Client> =
        [("shegong1", 0), ("shegong1", 1), ("fuzhan1", 2)].iter().map(|(u, n)| client(&url, u, *n)).collect();

    let acknowledged: Arc<Mutex<HashMap<String, HashSet<Uuid>>>> = Arc::default();
    let syncs = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let (acknowledged, syncs) = (acknowledged.clone(), syncs.clone());
            std::thread::spawn(move || {
                let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1), c.name.len() as u64);
                let mut offline_errors = 0;
                let mut round = 0;
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    if round * PER_ROUND < CHANGES_PER_CLIENT {
                        c.work(round);
                        round += 1;
                    } else if c.store.pending_count().expect("count") == 0 {
                        break;
                    }
                    assert!(Instant::now() < deadline, "{} did not finish", c.name);
                    match c.engine.sync_once(&mut c.store, |_| {}) {
                        Ok(_) => {
                            backoff.reset();
                            syncs.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(SyncError::Offline(_) | SyncError::Server(_)) => {
                            offline_errors += 1;
                            std::thread::sleep(backoff.next_delay());
                        }
                        Err(other) => panic!("{}: {other}", c.name),
                    }
                    acknowledged.lock().expect("lock").insert(c.name.clone(), c.accepted());
                }
                (c, offline_errors)
            })
        })
        .collect();

    // Kill the server once the clients are well into their pushes.
    while syncs.load(Ordering::SeqCst) < 6 {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill_hard();
    let acknowledged_before_kill: HashSet<Uuid> =
        acknowledged.lock().expect("lock").values().flatten().copied().collect();
    assert!(!acknowledged_before_kill.is_empty(), "some changes were acknowledged before the kill");
    std::thread::sleep(Duration::from_millis(500));
    server.restart().expect("the server starts again on the same files and port");

    let mut finished = Vec::new();
    for t in threads {
        finished.push(t.join().expect("client thread"));
    }
    let every_client_saw_the_outage = finished.iter().filter(|(_, offline)| *offline > 0).count();
    assert!(every_client_saw_the_outage > 0, "the kill happened while clients were syncing");
    server.stop();

    // Read the server's log straight from its database (its file, or its PostgreSQL schema).
    let storage = TestDatabase::new(server.data_dir()).open();
    let read = storage.read().expect("read");
    let stations: Vec<Uuid> = finished.iter().map(|(c, _)| c.station).collect();
    let scope = LogScope { user_id: Uuid::nil(), reach: Reach::Stations { stations, own_cases_of: None } };
    let mut logged: HashMap<Uuid, usize> = HashMap::new();
    for entry in read.log_page(&scope, 0, u32::MAX).expect("log") {
        if let Incoming::Change(c) = entry.item {
            *logged.entry(c.change_id).or_default() += 1;
        }
    }
    for id in &acknowledged_before_kill {
        assert_eq!(logged.get(id), Some(&1), "change {id} acknowledged before the kill is in the log once");
    }
    for (c, _) in &finished {
        let accepted = c.accepted();
        assert_eq!(accepted.len(), CHANGES_PER_CLIENT, "{}: every change recorded was accepted", c.name);
        for id in &accepted {
            assert_eq!(logged.get(id), Some(&1), "{}: change {id} is in the log exactly once", c.name);
        }
    }
}
