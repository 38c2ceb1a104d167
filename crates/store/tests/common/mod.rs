//! A small station as a fixture: the organisation created by an administrator through
//! `Store::record`, and helpers to add recipients and walk cases through the pipeline.
#![allow(dead_code, unused_imports)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::change::{Change, Write};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::org::Role;
use domain::policy::Actor;
use domain::signoff;
use serde_json::json;
use store::{Store, StoreError};
use uuid::Uuid;

pub use test_support::{TestClock, date, id_number, writes};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

pub fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

/// The day a fixture's case opens: 100 days before [`today`].
pub fn case_opened_on() -> NaiveDate {
    today() - Duration::days(100)
}

pub struct Station {
    pub id: Uuid,
    pub point: Uuid,
    pub point2: Uuid,
    pub village: Uuid,
    pub village2: Uuid,
    pub worker: Actor,
    pub worker2: Actor,
    pub deputy: Actor,
    pub supervisor: Actor,
}

pub struct World {
    pub store: Store,
    pub admin: Actor,
    pub a: Station,
    pub b: Station,
    clock: TestClock,
}

fn new_id() -> Uuid {
    Uuid::now_v7()
}

impl World {
    pub fn new() -> World {
        World::with_store(Store::open_in_memory().expect("store"))
    }

    /// Builds two stations on `store`: A (with a supervisor whose signing key is this store's
    /// device key) and B.
    pub fn with_store(store: Store) -> World {
        let admin = Actor::new(new_id(), Some(Role::Admin));
        let mut w = World {
            store,
            admin,
            a: station_stub(),
            b: station_stub(),
            clock: TestClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).single().expect("time")),
        };
        let key = w.store.signing_key().expect("key");
        w.a = w.make_station("城关社工站", "张", Some(signoff::public_key_hex(&key)));
        w.b = w.make_station("河西社工站", "赵", None);
        w
    }

    /// The next instant: each write happens a second after the previous one.
    pub fn now(&mut self) -> DateTime<Utc> {
        self.clock.tick(Duration::seconds(1))
    }

    pub fn record(&mut self, actor: &Actor, writes: Vec<Write>) -> Result<Vec<Change>, StoreError> {
        let now = self.now();
        self.store.record(actor, writes, now, today())
    }

    pub fn get(&self, kind: EntityKind, id: Uuid) -> EntityState {
        self.store.entity(kind, id).expect("read").expect("exists")
    }

    fn make_station(&mut self, name: &str, surname: &str, supervisor_key: Option<String>) -> Station {
        let admin = self.admin.clone();
        let station = new_id();
        let (point, point2, village, village2) = (new_id(), new_id(), new_id(), new_id());
        let mut writes = vec![
            Write::create(EntityKind::Station, station)
                .set(field::station::NAME, name)
                .set(field::station::COUNTY, "宁乡市"),
            Write::create(EntityKind::ServicePoint, point)
                .set(field::service_point::STATION_ID, station.to_string())
                .set(field::service_point::NAME, "一点"),
            Write::create(EntityKind::ServicePoint, point2)
                .set(field::service_point::STATION_ID, station.to_string())
                .set(field::service_point::NAME, "二点"),
            Write::create(EntityKind::Village, village)
                .set(field::village::STATION_ID, station.to_string())
                .set(field::village::SERVICE_POINT_ID, point.to_string())
                .set(field::village::NAME, "青山村"),
            Write::create(EntityKind::Village, village2)
                .set(field::village::STATION_ID, station.to_string())
                .set(field::village::SERVICE_POINT_ID, point2.to_string())
                .set(field::village::NAME, "绿水村"),
        ];
        let mut user = |role: &str, display: &str| {
            let id = new_id();
            let mut write = Write::create(EntityKind::User, id)
                .set(field::user::USERNAME, format!("u{}", id.simple()))
                .set(field::user::DISPLAY_NAME, display)
                .set(field::user::ROLE, role)
                .set(field::user::ACTIVE, true);
            write = if role == "Supervisor" {
                write
                    .set(field::user::SUPERVISED_STATION_IDS, json!([station.to_string()]))
                    .set_opt(field::user::SIGNING_KEYS, supervisor_key.clone().map(|k| json!([k])))
            } else {
                write.set(field::user::STATION_ID, station.to_string())
            };
            writes.push(write);
            id
        };
        let worker = user("SocialWorker", &format!("{surname}社工"));
        let worker2 = user("SocialWorker", &format!("{surname}二社工"));
        let deputy = user("DeputyHead", &format!("{surname}副站长"));
        let supervisor = user("Supervisor", &format!("{surname}督导"));
        self.record(&admin, writes).expect("organisation");
        Station {
            id: station,
            point,
            point2,
            village,
            village2,
            worker: Actor::new(worker, Some(Role::SocialWorker { station_id: station })),
            worker2: Actor::new(worker2, Some(Role::SocialWorker { station_id: station })),
            deputy: Actor::new(deputy, Some(Role::DeputyHead { station_id: station })),
            supervisor: Actor::new(supervisor, Some(Role::Supervisor { station_ids: vec![station] })),
        }
    }

    /// A recipient write of station A's first village.
    pub fn recipient_write(&self, name: &str, id_number: &str, birth: &str, gender: &str) -> (Uuid, Write) {
        writes::recipient_with_id_number(self.a.id, self.a.village, name, id_number, date(birth), gender)
    }

    /// Adds 张三 (female, 1949-12-31, 11010519491231002X) to station A.
    pub fn add_zhang_san(&mut self) -> Uuid {
        let (id, write) = self.recipient_write("张三", "11010519491231002X", "1949-12-31", "Female");
        let worker = self.a.worker.clone();
        self.record(&worker, vec![write]).expect("recipient");
        id
    }

    /// Opens a case for `recipient` assigned to station A's first worker, on
    /// [`case_opened_on`]; returns the case id.
    pub fn open_case(&mut self, recipient: Uuid) -> Uuid {
        let worker = self.a.worker.clone();
        let (id, write) = writes::new_case(self.a.id, recipient, worker.user_id, case_opened_on());
        self.record(&worker, vec![write]).expect("case");
        id
    }

    /// A new stage record of station A's first worker (see `writes::stage_record`), dated by
    /// kind: screening 90 days ago, assessment 80, goal 90 (its target 30 days ago), linked
    /// resource 70, intervention 60, follow-up 10.
    pub fn record_write(&self, kind: EntityKind, case: Uuid) -> Write {
        let days = match kind {
            EntityKind::Screening | EntityKind::Goal => 90,
            EntityKind::Assessment => 80,
            EntityKind::ResourceLink => 70,
            EntityKind::Intervention => 60,
            _ => 10,
        };
        writes::stage_record(kind, self.a.id, case, self.a.worker.user_id, today() - Duration::days(days))
    }

    pub fn move_stage(&self, case: Uuid, stage: &str) -> Write {
        writes::move_stage(case, stage, today())
    }

    /// Walks a case opened on [`case_opened_on`] from Identify to a closure request, by its
    /// worker, one batch a stage. Returns the goal id.
    pub fn walk_to_closure_request(&mut self, case: Uuid) -> Uuid {
        let worker = self.a.worker.clone();
        let (ids, steps) = writes::steps_to_closure_request(self.a.id, case, worker.user_id, case_opened_on());
        for step in steps {
            self.record(&worker, step).expect("pipeline step");
        }
        ids.goal
    }

    /// The supervisor's signed sign-off of a case awaiting it: the decision and the closing
    /// update, in one batch.
    pub fn sign_off_writes(&mut self, case: Uuid) -> Vec<Write> {
        let key = self.store.signing_key().expect("key");
        let case_state = self.get(EntityKind::Case, case);
        let records = domain::rules::StateView::case_records(&self.store, case).expect("records");
        let digest = signoff::case_digest(&case_state, &records);
        let decided_at = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).single().expect("time");
        writes::sign_off(self.a.id, case, self.a.supervisor.user_id, &key, &digest, decided_at)
    }

    pub fn outbox_len(&self) -> i64 {
        self.store.connection().query_row("SELECT count(*) FROM changes", [], |r| r.get(0)).expect("count")
    }
}

fn station_stub() -> Station {
    let nobody = Actor::new(Uuid::nil(), None);
    Station {
        id: Uuid::nil(),
        point: Uuid::nil(),
        point2: Uuid::nil(),
        village: Uuid::nil(),
        village2: Uuid::nil(),
        worker: nobody.clone(),
        worker2: nobody.clone(),
        deputy: nobody.clone(),
        supervisor: nobody,
    }
}

/// The rejection code of a failed write.
pub fn code(result: Result<Vec<Change>, StoreError>) -> String {
    match result {
        Ok(_) => "accepted".into(),
        Err(StoreError::Rejected(r)) => r.code().into(),
        Err(e) => format!("error: {e}"),
    }
}
