//! A small world on an in-process sync server: two stations (S and T) with their service points
//! and villages, and a user of each kind, made through the server's admin API, on a clock the
//! test moves. Every user's password is [`PASSWORD`].

use std::sync::Arc;

use chrono::NaiveDate;
use domain::Id;
use domain::entity::{EntityKind, EntityState};
use domain::org::{Post, RoleKind};
use sync_server::storage::Storage;
use sync_server::{NewUser, Server, ServerSettings};

use crate::clock::TestClock;

pub const PASSWORD: &str = "password1";

/// Two stations, S (城关镇) and T (河西镇), and their people:
///
/// | user  | username | role          | where                  |
/// |-------|----------|---------------|------------------------|
/// | A, B  | `wa` `wb`| social worker | S                      |
/// | C     | `wc`     | social worker | T                      |
/// | deputy| `ds` `dt`| deputy head   | S, T                   |
/// | sup.  | `sup` `supt` | supervisor | supervises S, T       |
/// | admin | `adm`    | administrator | —                      |
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
    /// The world on a fresh database of the run's backend (SQLite in memory, or a PostgreSQL
    /// schema: [`crate::backend`]), on a clock fixed at [`TestClock::new`]'s instant.
    pub fn new() -> Self {
        Self::with_storage(crate::backend::open_test_storage())
    }

    pub fn with_storage(storage: Arc<dyn Storage>) -> Self {
        Self::with_storage_and_clock(storage, TestClock::new())
    }

    /// The world on `storage`, its server reading `clock` (e.g. [`TestClock::system`] for
    /// devices with real clocks).
    pub fn with_storage_and_clock(storage: Arc<dyn Storage>, clock: TestClock) -> Self {
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

    /// The digest of a case as the server holds it now.
    pub fn case_digest(&self, case: Id) -> String {
        let state = self.state(EntityKind::Case, case).expect("case on the server");
        domain::signoff::case_digest(&state, &self.case_records(case))
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}
