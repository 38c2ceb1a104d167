//! Supervisor-sized sync through a real sync server on loopback: a supervisor's laptop holds the
//! cases waiting for their decision with what the review reads, not the station's roster; a
//! case whose closure is requested later arrives at the next round; a returned case leaves at
//! the round after. Every round verifies its checksums without a repair.

use chrono::{Duration, Utc};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::org::Role;
use domain::policy::Actor;
use domain::{Id, Labelled, field};
use protocol::LoginRequest;
use store::Store;
use sync_client::{Engine, HttpTransport, SyncReport};
use test_support::TestClock;
use test_support::world::{PASSWORD, World};
use test_support::writes::{case_to_closure_request, new_case, recipient, steps_to_closure_request, visit};
use uuid::Uuid;

struct Scene {
    world: World,
    url: String,
    _served: test_support::loopback::Loopback,
}

/// The supervisor's laptop: its store, its engine, its actor.
struct Laptop {
    store: Store,
    engine: Engine<HttpTransport>,
    actor: Actor,
}

impl Laptop {
    fn sync(&mut self) -> SyncReport {
        let report = self.engine.sync_once(&mut self.store, |_| {}).expect("a round");
        assert!(report.verified, "the round compared checksums");
        assert!(report.repaired.is_empty(), "nothing to repair: {:?}", report.repaired);
        report
    }

    fn holds(&self, kind: EntityKind, id: Id) -> bool {
        self.store.entity(kind, id).expect("read").is_some()
    }

    fn count(&self, kind: EntityKind) -> usize {
        self.store.list(kind, None).expect("list").len()
    }
}

fn scene() -> Scene {
    let world = World::with_storage_and_clock(test_support::backend::open_test_storage(), TestClock::system());
    let served = test_support::loopback::Loopback::serve(world.server.clone(), 1);
    Scene { url: served.url.clone(), world, _served: served }
}

fn supervisor_laptop(scene: &Scene) -> Laptop {
    let store = Store::open_in_memory().expect("store");
    let request = LoginRequest {
        username: "sup".into(),
        password: PASSWORD.into(),
        device_id: Some(store.device_id()),
        device_name: "督导的电脑".into(),
        signing_key: None,
        signing_key_proof: None,
    };
    let session = sync_client::login(&scene.url, &request).expect("signs in");
    let actor = Actor::new(session.user_id, Some(Role::Supervisor { station_ids: vec![scene.world.station_s] }));
    let engine = Engine::new(HttpTransport::new(&scene.url, session).expect("transport"));
    Laptop { store, engine, actor }
}

#[test]
fn a_supervisors_laptop_holds_what_waits_for_them_and_follows_the_queue_round_by_round() {
    let s = scene();
    let w = &s.world;
    let admin = w.server.admin();
    let opened = Utc::now().date_naive() - Duration::days(60);
    let seen = Utc::now().date_naive() - Duration::days(1);
    let mut roster = Vec::new();
    let mut writes = Vec::new();
    for n in 0..12 {
        let (id, write) = recipient(w.station_s, w.village_s, "张三", n);
        roster.push(id);
        writes.push(write);
        writes.push(visit(w.station_s, w.village_s, id, w.worker_a, seen).1);
    }
    admin.record_as(w.worker_a, writes).expect("the roster");
    let (waiting, to_request) = case_to_closure_request(w.station_s, roster[0], w.worker_a, opened);
    admin.record_as(w.worker_a, to_request).expect("a waiting case");
    let (later, open) = new_case(w.station_s, roster[1], w.worker_a, opened);
    admin.record_as(w.worker_a, vec![open]).expect("an open case");

    // The first pull: the waiting case, its person and visit, and the organisation's names.
    let mut laptop = supervisor_laptop(&s);
    laptop.sync();
    assert!(laptop.holds(EntityKind::Case, waiting.case));
    assert!(laptop.holds(EntityKind::Goal, waiting.goal));
    assert!(laptop.holds(EntityKind::Screening, waiting.screening));
    assert!(laptop.holds(EntityKind::Recipient, roster[0]));
    assert_eq!((laptop.count(EntityKind::Recipient), laptop.count(EntityKind::Visit)), (1, 1));
    assert_eq!(laptop.count(EntityKind::Case), 1);
    assert!(laptop.holds(EntityKind::Station, w.station_s) && laptop.holds(EntityKind::User, w.worker_a));
    assert_eq!(laptop.store.closure_requests(&[w.station_s]).expect("queue").len(), 1);

    // Requested after that pull: at the next round, with its records and person.
    let (_, steps) = steps_to_closure_request(w.station_s, later, w.worker_a, opened);
    for step in steps {
        admin.record_as(w.worker_a, step).expect("a step");
    }
    laptop.sync();
    assert!(laptop.holds(EntityKind::Case, later));
    assert!(laptop.holds(EntityKind::Recipient, roster[1]));
    assert_eq!((laptop.count(EntityKind::Recipient), laptop.count(EntityKind::Visit)), (2, 2));
    assert_eq!(laptop.store.closure_requests(&[w.station_s]).expect("queue").len(), 2);

    // Returned on the laptop: it leaves with its person at the round that sends the decision.
    let comments = "请补充跟进记录";
    let decision = Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
        .set(field::closure_decision::STATION_ID, w.station_s.to_string())
        .set(field::closure_decision::CASE_ID, waiting.case.to_string())
        .set(field::closure_decision::SUPERVISOR_ID, w.supervisor_s.to_string())
        .set(field::closure_decision::DECISION, domain::case::ClosureDecisionKind::Returned.as_str())
        .set(field::closure_decision::COMMENTS, comments)
        .set(field::closure_decision::DECIDED_AT, Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    let returned = Write::update(EntityKind::Case, waiting.case)
        .set(field::case::CLOSURE_STATUS, domain::case::ClosureStatus::Returned.as_str())
        .set(field::case::CLOSURE_COMMENTS, comments);
    laptop
        .store
        .record(&laptop.actor, vec![decision, returned], Utc::now(), Utc::now().date_naive())
        .expect("returned");
    laptop.sync();
    assert!(!laptop.holds(EntityKind::Case, waiting.case));
    assert!(!laptop.holds(EntityKind::Goal, waiting.goal));
    assert!(!laptop.holds(EntityKind::Recipient, roster[0]));
    assert_eq!((laptop.count(EntityKind::Recipient), laptop.count(EntityKind::Visit)), (1, 1));
    assert_eq!(laptop.store.pending_count().expect("outbox"), 0, "the decision reached the server");
    let on_server = w.state(EntityKind::Case, waiting.case).expect("the case stays on the server");
    assert_eq!(on_server.get_str(field::case::CLOSURE_STATUS), Some("Returned"));
}
