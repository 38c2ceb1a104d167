//! The fixture of this crate's tests: a station on an in-memory store, made by an administrator
//! through `Store::record` as the server would send it, with two service points and villages,
//! a social worker and a deputy head, and a second station to transfer people to.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use contract::RecipientDraft;
use domain::change::Write;
use domain::entity::{EntityKind, field};
use domain::org::Role;
use domain::policy::Actor;
use domain::recipient::RecipientCategory;
use store::Store;
use uuid::Uuid;

use crate::Moment;

/// The date the tests run on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

/// A valid resident ID number for a birth date (`YYYYMMDD`) and sequence (odd: male).
pub fn id_number(birth: &str, sequence: u32) -> String {
    test_support::id_number_from_first17(&format!("430124{birth}{sequence:03}"))
}

pub struct Station {
    pub store: Store,
    pub id: Uuid,
    pub village: Uuid,
    pub village2: Uuid,
    /// A village of another station.
    pub other_village: Uuid,
    pub worker: Actor,
    pub deputy: Actor,
    clock: DateTime<Utc>,
}

impl Station {
    pub fn new() -> Station {
        let mut store = Store::open_in_memory().expect("in-memory store");
        let admin = Actor::new(Uuid::now_v7(), Some(Role::Admin));
        let (id, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (point, point2, other_point) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (village, village2, other_village) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (worker, deputy) = (Uuid::now_v7(), Uuid::now_v7());
        let point_write = |point: Uuid, station: Uuid, name: &str| {
            Write::create(EntityKind::ServicePoint, point)
                .set(field::STATION_ID, station.to_string())
                .set(field::service_point::NAME, name)
        };
        let village_write = |village: Uuid, station: Uuid, point: Uuid, name: &str| {
            Write::create(EntityKind::Village, village)
                .set(field::STATION_ID, station.to_string())
                .set(field::village::SERVICE_POINT_ID, point.to_string())
                .set(field::village::NAME, name)
        };
        let user_write = |user: Uuid, role: &str, name: &str| {
            Write::create(EntityKind::User, user)
                .set(field::user::USERNAME, format!("u{}", user.simple()))
                .set(field::user::DISPLAY_NAME, name)
                .set(field::user::ROLE, role)
                .set(field::STATION_ID, id.to_string())
                .set(field::user::ACTIVE, true)
        };
        let writes = vec![
            Write::create(EntityKind::Station, id)
                .set(field::station::NAME, "城关社工站")
                .set(field::station::COUNTY, "宁乡市"),
            Write::create(EntityKind::Station, other)
                .set(field::station::NAME, "河西社工站")
                .set(field::station::COUNTY, "宁乡市"),
            point_write(point, id, "一点"),
            point_write(point2, id, "二点"),
            point_write(other_point, other, "河西一点"),
            village_write(village, id, point, "青山村"),
            village_write(village2, id, point2, "绿水村"),
            village_write(other_village, other, other_point, "河西村"),
            user_write(worker, "SocialWorker", "张社工"),
            user_write(deputy, "DeputyHead", "张副站长"),
        ];
        let clock = DateTime::parse_from_rfc3339("2026-11-25T01:00:00Z").expect("time").with_timezone(&Utc);
        store.record(&admin, writes, clock, today()).expect("the organisation");
        Station {
            store,
            id,
            village,
            village2,
            other_village,
            worker: Actor::new(worker, Some(Role::SocialWorker { station_id: id })),
            deputy: Actor::new(deputy, Some(Role::DeputyHead { station_id: id })),
            clock,
        }
    }

    /// The moment of the next action: each a second after the previous one, on [`today`].
    pub fn moment(&mut self) -> Moment {
        self.clock += Duration::seconds(1);
        Moment { now: self.clock, today: today() }
    }

    /// A recipient of the first village, added by the worker.
    /// A supervisor covering the station, made by an administrator.
    pub fn add_supervisor(&mut self) -> Actor {
        let admin = Actor::new(Uuid::now_v7(), Some(Role::Admin));
        let supervisor = Uuid::now_v7();
        let write = Write::create(EntityKind::User, supervisor)
            .set(field::user::USERNAME, "dudao1")
            .set(field::user::DISPLAY_NAME, "李督导")
            .set(field::user::ROLE, "Supervisor")
            .set(field::user::SUPERVISED_STATION_IDS, serde_json::json!([self.id.to_string()]))
            .set(field::user::ACTIVE, true);
        let at = self.moment();
        self.store.record(&admin, vec![write], at.now, at.today).expect("the supervisor");
        Actor::new(supervisor, Some(Role::Supervisor { station_ids: vec![self.id] }))
    }

    pub fn add_recipient(&mut self, name: &str, sequence: u32) -> Uuid {
        let draft = RecipientDraft {
            name: name.into(),
            id_number: id_number("19500315", sequence),
            categories: vec![RecipientCategory::Dibao],
            village_id: Some(self.village),
            phone: String::new(),
        };
        let moment = self.moment();
        let worker = self.worker.clone();
        crate::recipient::add_recipient(&mut self.store, &worker, &draft, moment).expect("added").id
    }
}
