//! A station to walk cases through, by the case use cases only: one service point and village,
//! two social workers, a deputy head, a supervisor whose signing key is this store's device key,
//! and a recipient. [`CaseWorld::walk_to_closure_request`] takes a case from 识别对象 to a
//! closure request; [`CaseWorld::return_closure`] and [`CaseWorld::sign_off`] are the
//! supervisor's answers (written directly: the supervisor's use cases are not here yet).
#![allow(dead_code)]

use app::case::{self, case_page, move_case, open_case, request_closure, save_case_record, update_case_record};
use app::{AppError, Moment};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use contract::{CasePage, CaseRecordKind, CommandError, FieldValues, SavedCaseRecord};
use domain::case::Stage;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use domain::org::Role;
use domain::policy::Actor;
use domain::rules::StateView;
use domain::signoff;
use serde_json::{Value, json};
use store::Store;
use uuid::Uuid;

/// The day every test runs on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

pub fn days_ago(n: i64) -> NaiveDate {
    today() - Duration::days(n)
}

/// A form's values from a JSON object.
pub fn values(object: Value) -> FieldValues {
    match object {
        Value::Object(map) => map.into_iter().collect(),
        other => panic!("form values are an object, not {other}"),
    }
}

/// What each stage's form sends when filled in.
pub fn form(kind: CaseRecordKind) -> FieldValues {
    values(match kind {
        CaseRecordKind::Screening => {
            json!({ "source": "VisitScreening", "found_on": days_ago(28).to_string(), "notes": "走访中发现独居" })
        }
        CaseRecordKind::Assessment => json!({
            "assessed_on": days_ago(25).to_string(), "living_conditions": "独居，房屋漏雨", "health": "高血压",
            "risk_level": "High", "needs_summary": "需要生活照料和房屋修缮",
        }),
        CaseRecordKind::Goal => {
            json!({ "description": "三个月内恢复稳定的日常生活", "target_date": (today() + Duration::days(60)).to_string() })
        }
        CaseRecordKind::ResourceLink => json!({
            "kind": "BenefitApplication", "description": "协助申请特困供养", "status": "InProgress",
            "linked_on": days_ago(20).to_string(),
        }),
        CaseRecordKind::Intervention => json!({
            "delivered_on": days_ago(15).to_string(), "service_type": "EmotionalCounselling", "method": "Casework",
            "duration_minutes": 45, "notes": "情绪疏导一次",
        }),
        CaseRecordKind::FollowUp => json!({ "visited_on": days_ago(3).to_string(), "notes": "情况稳定" }),
    })
}

/// The code the UI would get from a use case (`"ok"` when it succeeded).
pub fn code<T>(result: Result<T, AppError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => CommandError::from(e).code,
    }
}

/// The error the UI would get from a use case that must fail.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, AppError>) -> CommandError {
    CommandError::from(result.expect_err("the use case is refused"))
}

pub struct CaseWorld {
    pub store: Store,
    pub admin: Actor,
    pub station: Uuid,
    pub village: Uuid,
    pub worker: Actor,
    pub other_worker: Actor,
    pub deputy: Actor,
    pub supervisor: Actor,
    /// 张三, of the village.
    pub recipient: Uuid,
    clock: DateTime<Utc>,
}

impl CaseWorld {
    pub fn new() -> CaseWorld {
        let mut store = Store::open_in_memory().expect("store");
        let key = store.signing_key().expect("key");
        let admin = Actor::new(Uuid::now_v7(), Some(Role::Admin));
        let (station, point, village) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut writes = vec![
            Write::create(EntityKind::Station, station).set("name", "城关社工站").set("county", "宁乡市"),
            Write::create(EntityKind::ServicePoint, point).set("station_id", station.to_string()).set("name", "一点"),
            Write::create(EntityKind::Village, village)
                .set("station_id", station.to_string())
                .set("service_point_id", point.to_string())
                .set("name", "青山村"),
        ];
        let mut user = |role: &str, display: &str| {
            let id = Uuid::now_v7();
            let write = Write::create(EntityKind::User, id)
                .set("username", format!("u{}", id.simple()))
                .set("display_name", display)
                .set("role", role)
                .set("active", true);
            writes.push(if role == "Supervisor" {
                write
                    .set("supervised_station_ids", json!([station.to_string()]))
                    .set("signing_keys", json!([signoff::public_key_hex(&key)]))
            } else {
                write.set("station_id", station.to_string())
            });
            id
        };
        let worker = user("SocialWorker", "张社工");
        let other_worker = user("SocialWorker", "李社工");
        let deputy = user("DeputyHead", "王副站长");
        let supervisor = user("Supervisor", "陈督导");
        let mut world = CaseWorld {
            store,
            admin: admin.clone(),
            station,
            village,
            worker: Actor::new(worker, Some(Role::SocialWorker { station_id: station })),
            other_worker: Actor::new(other_worker, Some(Role::SocialWorker { station_id: station })),
            deputy: Actor::new(deputy, Some(Role::DeputyHead { station_id: station })),
            supervisor: Actor::new(supervisor, Some(Role::Supervisor { station_ids: vec![station] })),
            recipient: Uuid::now_v7(),
            clock: DateTime::parse_from_rfc3339("2026-11-25T01:00:00Z").expect("time").with_timezone(&Utc),
        };
        let at = world.at();
        world.store.record(&admin, writes, at.now, at.today).expect("organisation");
        let recipient = Write::create(EntityKind::Recipient, world.recipient)
            .set("station_id", station.to_string())
            .set("village_id", village.to_string())
            .set("name", "张三")
            .set("id_number", "11010519491231002X")
            .set("gender", "Female")
            .set("birth_date", "1949-12-31")
            .set("categories", json!(["ExtremePoverty"]));
        let worker = world.worker.clone();
        let at = world.at();
        world.store.record(&worker, vec![recipient], at.now, at.today).expect("recipient");
        world
    }

    /// The next moment: each use case runs a second after the previous one, on [`today`].
    pub fn at(&mut self) -> Moment {
        self.clock += Duration::seconds(1);
        Moment { now: self.clock, today: today() }
    }

    /// Opens a case for the recipient by the worker, 30 days ago.
    pub fn open(&mut self) -> Uuid {
        let (worker, recipient, at) = (self.worker.clone(), self.recipient, self.at());
        open_case(&mut self.store, &worker, recipient, Some(days_ago(30)), at).expect("case opened").case_id
    }

    /// The case page as `actor` sees it.
    pub fn page_for(&self, actor: &Actor, case_id: Uuid) -> Result<CasePage, AppError> {
        case_page(&self.store, actor, case_id)
    }

    /// The case page as the worker sees it.
    pub fn page(&self, case_id: Uuid) -> CasePage {
        self.page_for(&self.worker, case_id).expect("case page")
    }

    /// The worker saves a stage record.
    pub fn save(
        &mut self,
        case_id: Uuid,
        kind: CaseRecordKind,
        fields: FieldValues,
        amends: Option<Uuid>,
    ) -> Result<SavedCaseRecord, AppError> {
        let (worker, at) = (self.worker.clone(), self.at());
        save_case_record(&mut self.store, &worker, case_id, kind, fields, amends, at)
    }

    /// The worker saves the stage's form as filled in by [`form`]; returns the record's id.
    pub fn add(&mut self, case_id: Uuid, kind: CaseRecordKind) -> Uuid {
        self.save(case_id, kind, form(kind), None).expect("record saved").id
    }

    pub fn update(&mut self, kind: CaseRecordKind, id: Uuid, fields: FieldValues) -> Result<CasePage, AppError> {
        let (worker, at) = (self.worker.clone(), self.at());
        update_case_record(&mut self.store, &worker, kind, id, fields, at)
    }

    /// The worker moves the case.
    pub fn move_to(&mut self, case_id: Uuid, stage: Stage) -> Result<CasePage, AppError> {
        let (worker, at) = (self.worker.clone(), self.at());
        move_case(&mut self.store, &worker, case_id, stage, at)
    }

    pub fn request(&mut self, case_id: Uuid, summary: &str) -> Result<CasePage, AppError> {
        let (worker, at) = (self.worker.clone(), self.at());
        request_closure(&mut self.store, &worker, case_id, summary, at)
    }

    /// Walks a case from 识别对象 to a closure request through the use cases, each stage's form
    /// filled in before moving on. Returns the page after the request.
    pub fn walk_to_closure_request(&mut self, case_id: Uuid) -> CasePage {
        let worker = self.worker.clone();
        for (kind, next) in [
            (CaseRecordKind::Screening, Stage::Assess),
            (CaseRecordKind::Assessment, Stage::Plan),
            (CaseRecordKind::Goal, Stage::Coordinate),
            (CaseRecordKind::ResourceLink, Stage::Intervene),
            (CaseRecordKind::Intervention, Stage::FollowUp),
        ] {
            self.add(case_id, kind);
            if kind == CaseRecordKind::Goal {
                let at = self.at();
                case::set_plan_strategy(&mut self.store, &worker, case_id, "陪伴、资源链接与定期回访", at)
                    .expect("strategy");
            }
            self.move_to(case_id, next).expect("moved on");
        }
        self.add(case_id, CaseRecordKind::FollowUp);
        let goals: Vec<Uuid> = self.page(case_id).records.goals.iter().map(|g| g.id).collect();
        for goal in goals {
            let evaluation = values(json!({ "evaluation": "Achieved", "evaluation_notes": "生活恢复稳定" }));
            self.update(CaseRecordKind::Goal, goal, evaluation).expect("goal evaluated");
        }
        self.request(case_id, "服务目标均已达成，申请结案").expect("closure requested")
    }

    /// The supervisor returns the closure request with `comments`.
    pub fn return_closure(&mut self, case_id: Uuid, comments: &str) {
        let (supervisor, at) = (self.supervisor.clone(), self.at());
        let writes = vec![
            Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
                .set(field::STATION_ID, self.station.to_string())
                .set(field::CASE_ID, case_id.to_string())
                .set(field::closure_decision::SUPERVISOR_ID, supervisor.user_id.to_string())
                .set(field::closure_decision::DECISION, "Returned")
                .set(field::closure_decision::COMMENTS, comments)
                .set(field::closure_decision::DECIDED_AT, at.now.to_rfc3339()),
            Write::update(EntityKind::Case, case_id)
                .set(field::case::CLOSURE_STATUS, "Returned")
                .set(field::case::CLOSURE_COMMENTS, comments),
        ];
        self.store.record(&supervisor, writes, at.now, at.today).expect("closure returned");
    }

    /// The supervisor signs the closure off with this store's device key, and the case closes.
    pub fn sign_off(&mut self, case_id: Uuid) {
        let (supervisor, at) = (self.supervisor.clone(), self.at());
        let key = self.store.signing_key().expect("key");
        let case = self.store.entity(EntityKind::Case, case_id).expect("read").expect("case");
        let records = self.store.case_records(case_id).expect("records");
        let decision = Write::create(EntityKind::ClosureDecision, Uuid::now_v7())
            .set(field::STATION_ID, self.station.to_string())
            .set(field::CASE_ID, case_id.to_string())
            .set(field::closure_decision::SUPERVISOR_ID, supervisor.user_id.to_string())
            .set(field::closure_decision::DECISION, "SignedOff")
            .set(field::closure_decision::DECIDED_AT, at.now.to_rfc3339());
        let writes = vec![
            signoff::seal(&key, &case, &records).set_on(decision),
            Write::update(EntityKind::Case, case_id)
                .set(field::case::STAGE, "Closed")
                .set(field::case::CLOSURE_STATUS, "SignedOff")
                .set(field::case::STAGE_ENTERED_ON, at.today.to_string()),
        ];
        self.store.record(&supervisor, writes, at.now, at.today).expect("signed off");
    }
}
