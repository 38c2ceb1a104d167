//! The demo data `shegong-sync admin seed-demo` creates: one station (城关镇社工站, 示范县) with
//! two service points and five villages; a social worker, a deputy head, a supervisor and an
//! administrator; thirty recipients with valid ID numbers, households, home visits, a referral,
//! resources, and cases at every stage up to a closure awaiting sign-off — all recorded as the
//! social worker's own changes, checked with the same rules as a device's.
//!
//! Seeding is one transaction, and skipped when the demo worker already exists, so a second
//! run changes nothing.

use chrono::{Duration, NaiveDate};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::org::{Post, RoleKind};
use domain::{Id, field};
use uuid::Uuid;

use crate::admin::{Admin, AdminError, NewUser, create_user_in, make_id_number, record, system_actor};
use crate::auth::hash_password;
use crate::batch::{Batch, SYSTEM_USER_ID};
use crate::scope::actor_of;

/// Every demo user's password (listed in sync-server/README.md).
pub const DEMO_PASSWORD: &str = "demo1234";

pub const DEMO_STATION: &str = "城关镇社工站";
pub const DEMO_COUNTY: &str = "示范县";

/// What the demo seed holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeed {
    pub station_id: Id,
    /// False when the demo data was already there.
    pub created: bool,
    /// (username, role) of each demo user; all sign in with [`DEMO_PASSWORD`].
    pub users: Vec<(String, RoleKind)>,
}

const WORKER: &str = "shegong1";
const DEPUTY: &str = "fuzhan1";
const SUPERVISOR: &str = "dudao1";
const ADMIN: &str = "admin";

fn demo_users() -> Vec<(String, RoleKind)> {
    vec![
        (WORKER.into(), RoleKind::SocialWorker),
        (DEPUTY.into(), RoleKind::DeputyHead),
        (SUPERVISOR.into(), RoleKind::Supervisor),
        (ADMIN.into(), RoleKind::Admin),
    ]
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高"];
const GIVEN_NAMES: &[&str] = &[
    "秀英", "桂兰", "建国", "志强", "玉梅", "子涵", "浩然", "雨桐", "国华", "淑珍", "德胜", "春花", "小龙", "欣怡",
    "俊杰", "海燕", "明", "芳", "伟", "丽娟",
];
/// 安阳县, 河南省: any region code of a known province would do.
const REGION: &str = "410522";

pub(crate) fn seed(admin: &Admin<'_>) -> Result<DemoSeed, AdminError> {
    // Hash outside the transaction: argon2 is slow on purpose.
    let password_hash = hash_password(DEMO_PASSWORD).map_err(AdminError::Internal)?;
    admin.in_batch(|batch| {
        if let Some(worker) = batch.read().credentials(WORKER)? {
            let station_id = batch
                .read()
                .entity(EntityKind::User, worker.user_id)?
                .and_then(|u| u.state.get_id(field::user::STATION_ID))
                .ok_or_else(|| AdminError::Internal("the demo worker has no station".into()))?;
            return Ok(DemoSeed { station_id, created: false, users: demo_users() });
        }
        let station_id = seed_all(batch, &password_hash)?;
        Ok(DemoSeed { station_id, created: true, users: demo_users() })
    })
}

struct Org {
    station: Id,
    villages: Vec<Id>,
    worker: Id,
}

fn seed_all(batch: &mut Batch<'_>, password_hash: &str) -> Result<Id, AdminError> {
    let org = seed_organisation(batch, password_hash)?;
    let actor = actor_of(batch.read(), org.worker)?;
    let today = batch.now.date_naive();
    let writes = work(&org, today);
    record(batch, org.worker, &actor, writes)?;
    Ok(org.station)
}

fn seed_organisation(batch: &mut Batch<'_>, password_hash: &str) -> Result<Org, AdminError> {
    let station = Uuid::now_v7();
    let mut writes = vec![
        Write::create(EntityKind::Station, station)
            .set(field::station::NAME, DEMO_STATION)
            .set(field::station::COUNTY, DEMO_COUNTY),
    ];
    let points = [
        ("东关社工点", ["东关村", "南街社区", "北坡村"].as_slice()),
        ("西河社工点", ["西河村", "柳树湾村"].as_slice()),
    ];
    let mut villages = Vec::new();
    let mut first_point = None;
    for (point_name, village_names) in points {
        let point = Uuid::now_v7();
        first_point.get_or_insert(point);
        writes.push(
            Write::create(EntityKind::ServicePoint, point)
                .set(field::service_point::STATION_ID, station.to_string())
                .set(field::service_point::NAME, point_name)
                .set(field::service_point::LIAISON_NAME, "赵红梅")
                .set(field::service_point::LIAISON_PHONE, "13803710000"),
        );
        for name in village_names {
            let village = Uuid::now_v7();
            villages.push(village);
            writes.push(
                Write::create(EntityKind::Village, village)
                    .set(field::village::STATION_ID, station.to_string())
                    .set(field::village::SERVICE_POINT_ID, point.to_string())
                    .set(field::village::NAME, *name),
            );
        }
    }
    record(batch, SYSTEM_USER_ID, &system_actor(), writes)?;

    let user = |username: &str, display_name: &str, role: RoleKind| NewUser {
        username: username.into(),
        display_name: display_name.into(),
        role,
        post: None,
        station_id: None,
        service_point_id: None,
        supervised_station_ids: Vec::new(),
        password: String::new(),
    };
    let worker = create_user_in(
        batch,
        &NewUser {
            post: Some(Post::Service),
            station_id: Some(station),
            service_point_id: first_point,
            ..user(WORKER, "李娟", RoleKind::SocialWorker)
        },
        password_hash.into(),
    )?;
    create_user_in(
        batch,
        &NewUser { station_id: Some(station), ..user(DEPUTY, "王建国", RoleKind::DeputyHead) },
        password_hash.into(),
    )?;
    create_user_in(
        batch,
        &NewUser { supervised_station_ids: vec![station], ..user(SUPERVISOR, "陈静", RoleKind::Supervisor) },
        password_hash.into(),
    )?;
    create_user_in(batch, &user(ADMIN, "系统管理员", RoleKind::Admin), password_hash.into())?;
    Ok(Org { station, villages, worker })
}

/// One demo recipient: who they are, by group.
struct Person {
    id: Id,
    village: Id,
}

fn work(org: &Org, today: NaiveDate) -> Vec<Write> {
    let station = org.station.to_string();
    let day = |n: i64| (today - Duration::days(n)).format("%Y-%m-%d").to_string();
    let mut writes = Vec::new();

    // Households first: recipients name them.
    let mut households = Vec::new();
    for h in 0..8usize {
        let id = Uuid::now_v7();
        let village = org.villages[h % org.villages.len()];
        let head = format!("{}{}", SURNAMES[h % SURNAMES.len()], GIVEN_NAMES[(h * 3) % GIVEN_NAMES.len()]);
        writes.push(
            Write::create(EntityKind::Household, id)
                .set(field::household::STATION_ID, station.as_str())
                .set(field::household::VILLAGE_ID, village.to_string())
                .set(field::household::NAME, format!("{head}户")),
        );
        households.push((id, village));
    }

    let mut people = Vec::new();
    for i in 0..30usize {
        let id = Uuid::now_v7();
        let group = i % 3;
        let (year, categories): (i32, Vec<&str>) = match group {
            0 => (
                1935 + (i as i32 * 3) % 25,
                if i % 2 == 0 { vec!["VulnerableElderly", "ExtremePoverty"] } else { vec!["VulnerableElderly"] },
            ),
            1 => (2010 + (i as i32) % 12, if i % 2 == 0 { vec!["LeftBehindChild"] } else { vec!["ChildInDifficulty"] }),
            _ => (
                1965 + (i as i32) % 30,
                if i % 4 == 2 { vec!["Dibao", "Disability"] } else { vec!["Dibao", "ChronicIllness"] },
            ),
        };
        let birth = NaiveDate::from_ymd_opt(year, (i % 12) as u32 + 1, (i * 7 % 28) as u32 + 1).unwrap_or(today);
        let id_number = make_id_number(REGION, birth, 100 + i as u32);
        // The 17th digit's parity is the holder's gender.
        let gender = if (100 + i) % 2 == 1 { "Male" } else { "Female" };
        let name = format!("{}{}", SURNAMES[(i * 7) % SURNAMES.len()], GIVEN_NAMES[i % GIVEN_NAMES.len()]);
        let (village, household) = if i < 24 {
            let (household, village) = households[i % households.len()];
            let relation = if i < 8 {
                "Head"
            } else if group == 1 {
                "Child"
            } else {
                "Spouse"
            };
            (village, Some((household, relation)))
        } else {
            (org.villages[i % org.villages.len()], None)
        };
        let mut write = Write::create(EntityKind::Recipient, id)
            .set(field::recipient::STATION_ID, station.as_str())
            .set(field::recipient::VILLAGE_ID, village.to_string())
            .set(field::recipient::NAME, name)
            .set(field::recipient::ID_NUMBER, id_number)
            .set(field::recipient::GENDER, gender)
            .set(field::recipient::BIRTH_DATE, birth.format("%Y-%m-%d").to_string())
            .set(field::recipient::CATEGORIES, categories);
        if group != 1 {
            write = write.set(field::recipient::PHONE, format!("1380371{:04}", 1000 + i));
        }
        if let Some((household, relation)) = household {
            write = write
                .set(field::recipient::HOUSEHOLD_ID, household.to_string())
                .set(field::recipient::HOUSEHOLD_RELATION, relation);
        }
        writes.push(write);
        people.push(Person { id, village });
    }

    // Home visits over the last month.
    for (i, person) in people.iter().enumerate().take(20) {
        writes.push(
            Write::create(EntityKind::Visit, Uuid::now_v7())
                .set(field::visit::STATION_ID, station.as_str())
                .set(field::visit::VILLAGE_ID, person.village.to_string())
                .set(field::visit::RECIPIENT_ID, person.id.to_string())
                .set(field::visit::WORKER_ID, org.worker.to_string())
                .set(field::visit::VISITED_ON, day((i % 25) as i64 + 1))
                .set(field::visit::PERSONS_SEEN, if i % 2 == 0 { "本人" } else { "本人及家属" })
                .set(field::visit::OBSERVATIONS, "生活基本稳定，居住环境整洁；了解近期身体和收入情况。")
                .set_opt(field::visit::NEEDS_FOUND, (i % 4 == 0).then_some("需要协助申请临时救助"))
                .set(field::visit::FOLLOW_UP_NEEDED, i % 4 == 0),
        );
    }

    // The resource library and a referral from the 12345 hotline.
    let charity = Uuid::now_v7();
    writes.push(
        Write::create(EntityKind::Resource, charity)
            .set(field::resource::STATION_ID, station.as_str())
            .set(field::resource::KIND, "Charity")
            .set(field::resource::NAME, "示范县慈善总会")
            .set(field::resource::CONTACT_NAME, "孙卫东")
            .set(field::resource::CONTACT_PHONE, "0372-5551234")
            .set(field::resource::SERVICES, "困难家庭临时救助、助学金")
            .set(field::resource::ACTIVE, true),
    );
    writes.push(
        Write::create(EntityKind::Resource, Uuid::now_v7())
            .set(field::resource::STATION_ID, station.as_str())
            .set(field::resource::KIND, "VolunteerTeam")
            .set(field::resource::NAME, "城关镇青年志愿服务队")
            .set(field::resource::ACTIVE, true),
    );
    writes.push(
        Write::create(EntityKind::Referral, Uuid::now_v7())
            .set(field::referral::STATION_ID, station.as_str())
            .set(field::referral::RECIPIENT_ID, people[29].id.to_string())
            .set(field::referral::DIRECTION, "Inbound")
            .set(field::referral::COUNTERPART, "Hotline12345")
            .set(field::referral::REASON, "市民来电反映独居老人无人照料")
            .set(field::referral::REFERRED_ON, day(10))
            .set(field::referral::OUTCOME, "Accepted"),
    );

    // Cases: one at each stage, the last awaiting the supervisor's sign-off.
    for (n, person) in [0usize, 3, 6, 9, 12, 15].iter().map(|i| &people[*i]).enumerate() {
        writes.extend(case_writes(org, &station, person.id, n, &day, charity));
    }
    writes
}

/// The writes that take one case to stage `n` (0 Identify ... 4 FollowUp, 5 closure requested).
fn case_writes(
    org: &Org,
    station: &str,
    recipient: Id,
    n: usize,
    day: &dyn Fn(i64) -> String,
    charity: Id,
) -> Vec<Write> {
    let case = Uuid::now_v7();
    let record = |kind: EntityKind| {
        Write::create(kind, Uuid::now_v7()).set(field::STATION_ID, station).set(field::CASE_ID, case.to_string())
    };
    let stage = |name: &str, on: i64| {
        Write::update(EntityKind::Case, case).set(field::case::STAGE, name).set(field::case::STAGE_ENTERED_ON, day(on))
    };
    let mut w = vec![
        Write::create(EntityKind::Case, case)
            .set(field::case::STATION_ID, station)
            .set(field::case::RECIPIENT_ID, recipient.to_string())
            .set(field::case::WORKER_ID, org.worker.to_string())
            .set(field::case::STAGE, "Identify")
            .set(field::case::STAGE_ENTERED_ON, day(60))
            .set(field::case::OPENED_ON, day(60))
            .set(field::case::CLOSURE_STATUS, "Open"),
        record(EntityKind::Screening)
            .set(field::screening::SOURCE, "VisitScreening")
            .set(field::screening::FOUND_ON, day(61)),
    ];
    if n >= 1 {
        w.push(stage("Assess", 55));
        w.push(
            record(EntityKind::Assessment)
                .set(field::assessment::ASSESSED_ON, day(54))
                .set(field::assessment::LIVING_CONDITIONS, "独居，住房老旧")
                .set(field::assessment::HEALTH, "高血压，行动不便")
                .set(field::assessment::FAMILY_SUPPORT, "子女在外地务工，联系较少")
                .set(field::assessment::RISK_LEVEL, if n.is_multiple_of(2) { "Medium" } else { "High" })
                .set(field::assessment::NEEDS_SUMMARY, "日常照料、精神慰藉、协助申请救助"),
        );
    }
    let goal = Uuid::now_v7();
    if n >= 2 {
        w.push(stage("Plan", 50).set(field::case::PLAN_STRATEGY, "链接慈善资源，定期探访，联系家属加强支持"));
        w.push(
            Write::create(EntityKind::Goal, goal)
                .set(field::goal::STATION_ID, station)
                .set(field::goal::CASE_ID, case.to_string())
                .set(field::goal::DESCRIPTION, "三个月内落实临时救助，每月至少探访两次")
                .set(field::goal::TARGET_DATE, day(-30)),
        );
    }
    if n >= 3 {
        w.push(stage("Coordinate", 45));
        w.push(
            record(EntityKind::ResourceLink)
                .set(field::resource_link::RESOURCE_ID, charity.to_string())
                .set(field::resource_link::KIND, "Charity")
                .set(field::resource_link::DESCRIPTION, "申请慈善总会临时救助金")
                .set(field::resource_link::STATUS, "Secured")
                .set(field::resource_link::LINKED_ON, day(44)),
        );
        w.push(stage("Intervene", 40));
        w.push(
            record(EntityKind::Intervention)
                .set(field::intervention::WORKER_ID, org.worker.to_string())
                .set(field::intervention::DELIVERED_ON, day(38))
                .set(field::intervention::SERVICE_TYPE, "EmotionalCounselling")
                .set(field::intervention::METHOD, "Casework")
                .set(field::intervention::DURATION_MINUTES, 60)
                .set(field::intervention::NOTES, "入户陪伴交谈，疏导孤独情绪，协助整理申请材料。"),
        );
    }
    if n >= 4 {
        w.push(stage("FollowUp", 20));
        w.push(
            record(EntityKind::FollowUp)
                .set(field::follow_up::WORKER_ID, org.worker.to_string())
                .set(field::follow_up::VISITED_ON, day(10))
                .set(field::follow_up::NOTES, "救助金已到位，情绪明显好转。"),
        );
    }
    if n >= 5 {
        w.push(
            Write::update(EntityKind::Goal, goal)
                .set(field::goal::EVALUATION, "Achieved")
                .set(field::goal::EVALUATION_NOTES, "救助已落实，探访按计划完成"),
        );
        w.push(
            Write::update(EntityKind::Case, case)
                .set(field::case::CLOSURE_STATUS, "Requested")
                .set(field::case::CLOSURE_SUMMARY, "服务目标均已达成，申请结案。")
                .set(field::case::CLOSURE_REQUESTED_ON, day(2)),
        );
    }
    w
}
