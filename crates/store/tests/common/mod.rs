//! A small station as a fixture: the organisation created by an administrator through
//! `Store::record`, and helpers to add recipients and walk cases through the pipeline.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::change::{Change, Write};
use domain::entity::{EntityKind, EntityState};
use domain::org::Role;
use domain::policy::Actor;
use domain::signoff;
use domain::validate::id_number_check_char;
use serde_json::json;
use store::{Store, StoreError};
use uuid::Uuid;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

pub fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

/// A valid resident ID number for a birth date and sequence (odd = male).
pub fn id_number(region: &str, birth: &str, sequence: u32) -> String {
    let first17 = format!("{region}{}{sequence:03}", birth.replace('-', ""));
    let check = id_number_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
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
    clock: DateTime<Utc>,
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
            clock: DateTime::parse_from_rfc3339("2026-11-25T01:00:00Z").expect("time").with_timezone(&Utc),
        };
        let key = w.store.signing_key().expect("key");
        w.a = w.make_station("城关社工站", "张", Some(signoff::public_key_hex(&key)));
        w.b = w.make_station("河西社工站", "赵", None);
        w
    }

    /// The next instant: each write happens a second after the previous one.
    pub fn now(&mut self) -> DateTime<Utc> {
        self.clock += Duration::seconds(1);
        self.clock
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
            Write::create(EntityKind::Station, station).set("name", name).set("county", "宁乡市"),
            Write::create(EntityKind::ServicePoint, point).set("station_id", station.to_string()).set("name", "一点"),
            Write::create(EntityKind::ServicePoint, point2).set("station_id", station.to_string()).set("name", "二点"),
            Write::create(EntityKind::Village, village)
                .set("station_id", station.to_string())
                .set("service_point_id", point.to_string())
                .set("name", "青山村"),
            Write::create(EntityKind::Village, village2)
                .set("station_id", station.to_string())
                .set("service_point_id", point2.to_string())
                .set("name", "绿水村"),
        ];
        let mut user = |role: &str, display: &str| {
            let id = new_id();
            let mut write = Write::create(EntityKind::User, id)
                .set("username", format!("u{}", id.simple()))
                .set("display_name", display)
                .set("role", role)
                .set("active", true);
            write = if role == "Supervisor" {
                write
                    .set("supervised_station_ids", json!([station.to_string()]))
                    .set_opt("signing_keys", supervisor_key.clone().map(|k| json!([k])))
            } else {
                write.set("station_id", station.to_string())
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
        let id = new_id();
        let write = Write::create(EntityKind::Recipient, id)
            .set("station_id", self.a.id.to_string())
            .set("village_id", self.a.village.to_string())
            .set("name", name)
            .set("id_number", id_number)
            .set("gender", gender)
            .set("birth_date", birth)
            .set("categories", json!(["Dibao"]));
        (id, write)
    }

    /// Adds 张三 (female, 1949-12-31, 11010519491231002X) to station A.
    pub fn add_zhang_san(&mut self) -> Uuid {
        let (id, write) = self.recipient_write("张三", "11010519491231002X", "1949-12-31", "Female");
        let worker = self.a.worker.clone();
        self.record(&worker, vec![write]).expect("recipient");
        id
    }

    /// Opens a case for `recipient` assigned to station A's first worker; returns the case id.
    pub fn open_case(&mut self, recipient: Uuid) -> Uuid {
        let id = new_id();
        let worker = self.a.worker.clone();
        let write = Write::create(EntityKind::Case, id)
            .set("station_id", self.a.id.to_string())
            .set("recipient_id", recipient.to_string())
            .set("worker_id", worker.user_id.to_string())
            .set("stage", "Identify")
            .set("stage_entered_on", days_ago(100))
            .set("opened_on", days_ago(100))
            .set("closure_status", "Open");
        self.record(&worker, vec![write]).expect("case");
        id
    }

    pub fn record_write(&self, kind: EntityKind, case: Uuid) -> Write {
        let w = Write::create(kind, new_id()).set("station_id", self.a.id.to_string()).set("case_id", case.to_string());
        let worker = self.a.worker.user_id.to_string();
        match kind {
            EntityKind::Screening => w.set("source", "VisitScreening").set("found_on", days_ago(90)),
            EntityKind::Assessment => {
                w.set("assessed_on", days_ago(80)).set("risk_level", "Medium").set("needs_summary", "需要生活照料")
            }
            EntityKind::Goal => w.set("description", "恢复日常生活").set("target_date", days_ago(-30)),
            EntityKind::ResourceLink => w
                .set("kind", "Volunteer")
                .set("description", "志愿者每周探访")
                .set("status", "Secured")
                .set("linked_on", days_ago(70)),
            EntityKind::Intervention => w
                .set("worker_id", worker)
                .set("delivered_on", days_ago(60))
                .set("service_type", "EmotionalCounselling")
                .set("method", "Casework")
                .set("duration_minutes", 45)
                .set("notes", "情绪疏导一次"),
            EntityKind::FollowUp => w.set("worker_id", worker).set("visited_on", days_ago(10)).set("notes", "情况稳定"),
            _ => panic!("not a stage record the fixture makes: {kind:?}"),
        }
    }

    pub fn move_stage(&self, case: Uuid, stage: &str) -> Write {
        Write::update(EntityKind::Case, case).set("stage", stage).set("stage_entered_on", today().to_string())
    }

    /// Walks a case from Identify to a closure request, by its worker. Returns the goal id.
    pub fn walk_to_closure_request(&mut self, case: Uuid) -> Uuid {
        let worker = self.a.worker.clone();
        let goal = self.record_write(EntityKind::Goal, case);
        let goal_id = goal.entity_id;
        let steps = vec![
            vec![self.record_write(EntityKind::Screening, case), self.move_stage(case, "Assess")],
            vec![self.record_write(EntityKind::Assessment, case), self.move_stage(case, "Plan")],
            vec![goal, self.move_stage(case, "Coordinate")],
            vec![self.record_write(EntityKind::ResourceLink, case), self.move_stage(case, "Intervene")],
            vec![self.record_write(EntityKind::Intervention, case), self.move_stage(case, "FollowUp")],
            vec![
                self.record_write(EntityKind::FollowUp, case),
                Write::update(EntityKind::Goal, goal_id).set("evaluation", "Achieved"),
                Write::update(EntityKind::Case, case)
                    .set("closure_status", "Requested")
                    .set("closure_summary", "目标达成，申请结案")
                    .set("closure_requested_on", today().to_string()),
            ],
        ];
        for step in steps {
            self.record(&worker, step).expect("pipeline step");
        }
        goal_id
    }

    /// The supervisor's signed sign-off of a case awaiting it: the decision and the closing
    /// update, in one batch.
    pub fn sign_off_writes(&mut self, case: Uuid) -> Vec<Write> {
        let key = self.store.signing_key().expect("key");
        let case_state = self.get(EntityKind::Case, case);
        let records = domain::rules::StateView::case_records(&self.store, case).expect("records");
        let digest = signoff::case_digest(&case_state, &records);
        vec![
            Write::create(EntityKind::ClosureDecision, new_id())
                .set("station_id", self.a.id.to_string())
                .set("case_id", case.to_string())
                .set("supervisor_id", self.a.supervisor.user_id.to_string())
                .set("decision", "SignedOff")
                .set("decided_at", "2026-11-25T09:00:00Z")
                .set("signature", signoff::sign(&key, case, &digest))
                .set("public_key", signoff::public_key_hex(&key))
                .set("case_digest", digest),
            Write::update(EntityKind::Case, case)
                .set("stage", "Closed")
                .set("closure_status", "SignedOff")
                .set("stage_entered_on", today().to_string()),
        ]
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
