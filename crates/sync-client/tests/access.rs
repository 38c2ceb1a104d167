//! Access that shrinks, through a real sync server on loopback: a worker moved to another
//! station drops the old one's data and gets the new one's; a deactivated account drops its
//! data and no longer opens offline; a revoked device hands over its unsent work, then wipes
//! itself.

use chrono::Utc;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::org::Role;
use domain::policy::Actor;
use domain::{Id, field};
use protocol::{LoginRequest, codes};
use store::Store;
use sync_client::{Engine, HttpTransport, SyncError};
use sync_server::{SYSTEM_USER_ID, Server};
use test_support::TestClock;
use test_support::world::{PASSWORD, World};
use test_support::writes::recipient;

/// The test world (stations S and T) on a server over loopback that reads the system's clock,
/// with one recipient in each station; worker A (`wa`) of S is the one whose devices are tested.
struct Loopback {
    url: String,
    server: Server,
    station_s: Id,
    station_t: Id,
    village_s: Id,
    worker_s: Id,
    recipient_s: Id,
    recipient_t: Id,
    _served: test_support::loopback::Loopback,
}

impl Loopback {
    fn start() -> Loopback {
        let storage = test_support::backend::open_test_storage();
        let world = World::with_storage_and_clock(storage, TestClock::system());
        let admin = world.server.admin();
        let (recipient_s, write) = recipient(world.station_s, world.village_s, "张三", 1);
        admin.record_as(world.worker_a, vec![write]).expect("recipient of S");
        let (recipient_t, write) = recipient(world.station_t, world.village_t, "赵四", 2);
        admin.record_as(world.worker_c, vec![write]).expect("recipient of T");
        let served = test_support::loopback::Loopback::serve(world.server.clone(), 1);
        Loopback {
            url: served.url.clone(),
            server: world.server,
            station_s: world.station_s,
            station_t: world.station_t,
            village_s: world.village_s,
            worker_s: world.worker_a,
            recipient_s,
            recipient_t,
            _served: served,
        }
    }

    /// A fresh device of worker S, signed in and synced.
    fn device(&self) -> (Store, Engine<HttpTransport>) {
        let mut store = Store::open_in_memory().expect("store");
        let request = LoginRequest {
            username: "wa".into(),
            password: PASSWORD.into(),
            device_id: Some(store.device_id()),
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        };
        let session = sync_client::login(&self.url, &request).expect("signed in");
        let mut engine = Engine::new(HttpTransport::new(&self.url, session).expect("transport"));
        engine.sync_once(&mut store, |_| {}).expect("first sync");
        (store, engine)
    }

    /// An administrator's change to a user's record, made on the server.
    fn change_user(&self, write: Write) {
        if let Err(e) = self.server.admin().record_as(SYSTEM_USER_ID, vec![write.clone()]) {
            panic!("{write:?} as the system: {e}");
        }
    }

    fn server_has(&self, kind: EntityKind, id: Id) -> bool {
        self.server.storage().read().expect("read").entity(kind, id).expect("entity").is_some()
    }
}

fn holds(store: &Store, kind: EntityKind, id: Id) -> bool {
    store.entity(kind, id).expect("read").is_some()
}

#[test]
fn a_worker_moved_to_another_station_drops_the_old_ones_data_and_gets_the_new_ones() {
    let world = Loopback::start();
    let (mut store, mut engine) = world.device();
    assert!(holds(&store, EntityKind::Recipient, world.recipient_s));
    assert!(!holds(&store, EntityKind::Recipient, world.recipient_t));

    world.change_user(
        Write::update(EntityKind::User, world.worker_s).set(field::user::STATION_ID, world.station_t.to_string()),
    );
    let mut evicted = 0;
    for _ in 0..3 {
        evicted += engine.sync_once(&mut store, |_| {}).expect("sync").evicted;
    }
    assert!(evicted > 0, "the round says it dropped data");
    assert!(!holds(&store, EntityKind::Recipient, world.recipient_s), "S's recipient is gone");
    assert!(!holds(&store, EntityKind::Station, world.station_s), "S itself is gone");
    assert!(holds(&store, EntityKind::Recipient, world.recipient_t), "T's recipient came by repair");
    assert_eq!(store.held_stations().expect("held"), vec![world.station_t]);
}

#[test]
fn a_deactivated_account_drops_its_data_and_no_longer_opens_offline() {
    let world = Loopback::start();
    let (mut store, mut engine) = world.device();
    assert!(store.user_is_active(world.worker_s).expect("active"));

    world.change_user(Write::update(EntityKind::User, world.worker_s).set(field::user::ACTIVE, false));
    let error = engine.sync_once(&mut store, |_| {}).expect_err("refused");
    assert_eq!(error.server_code(), Some(codes::ACCOUNT_DEACTIVATED), "{error:?}");
    assert!(error.is_account_deactivated() && !error.is_transient());
    assert!(!store.user_is_active(world.worker_s).expect("read"), "offline sign-in is refused from now on");
    assert!(!holds(&store, EntityKind::Recipient, world.recipient_s));
    assert!(store.held_stations().expect("held").is_empty());
}

#[test]
fn a_revoked_device_hands_over_its_unsent_work_then_wipes_itself() {
    let world = Loopback::start();
    let (mut store, mut engine) = world.device();
    // Typed while the administrator revokes the laptop.
    let actor = Actor::new(world.worker_s, Some(Role::SocialWorker { station_id: world.station_s }));
    let (typed, write) = recipient(world.station_s, world.village_s, "王五", 3);
    store.record(&actor, vec![write], Utc::now(), Utc::now().date_naive()).expect("recorded offline");
    let device = store.device_id();
    world.server.admin().revoke_device(device).expect("revoked");

    let error = engine.sync_once(&mut store, |_| {}).expect_err("revoked");
    assert!(error.is_device_revoked(), "{error:?}");
    assert!(matches!(error, SyncError::Server(_)));
    assert!(engine.last_report().wiped, "{:?}", engine.last_report());
    assert!(world.server_has(EntityKind::Recipient, typed), "the unsent work reached the server first");
    assert_eq!(store.unsent_count().expect("unsent"), 0);
    assert!(store.revoked_at().expect("read").is_some());
    assert!(!holds(&store, EntityKind::Recipient, world.recipient_s), "nothing is left on the laptop");
    assert!(!holds(&store, EntityKind::Recipient, typed));
    assert_eq!(store.session_json().expect("read"), None);

    // The device's tokens stay dead: it pulls nothing more.
    let again = engine.sync_once(&mut store, |_| {}).expect_err("still revoked");
    assert!(again.is_device_revoked(), "{again:?}");
    assert!(!holds(&store, EntityKind::Recipient, world.recipient_s));
}
