//! The large county of the benchmarks, generated deterministically from a seed: 20 stations of
//! 5 service points and 15 villages each, with 9 staff, and at full scale 50,000 recipients,
//! 20,000 households, 500,000 visits and 5,000 cases with their stage records. The store's
//! county benchmark loads it all; the app's window benchmark puts the people and their work into
//! the one station a device signed in to ([`Home`]), the heaviest roster a laptop could hold.
//!
//! The states are written as the server would hold them (no outbox, no rule checks): load them
//! with `Store::bulk_load`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::Labelled;
use domain::case::{STAGE_NAMES, Stage};
use domain::entity::{EntityKind, EntityState, FieldClock};
use domain::field;
use domain::hlc::Hlc;
use domain::recipient::RECIPIENT_CATEGORY_NAMES;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use uuid::Uuid;

/// The seed every run uses, so figures compare across runs.
pub const SEED: u64 = 20_261_125;

/// The day the generated work is dated back from.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

/// An existing station to put the county's people and work into, instead of generating 20
/// stations: its villages (with their service point) and the staff cases are assigned to
/// (the first is skipped for cases, as the generated deputy head is).
#[derive(Debug, Clone)]
pub struct Home {
    pub station: Uuid,
    pub villages: Vec<Uuid>,
    pub staff: Vec<Uuid>,
}

pub const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单";
pub const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建国志宏春梅海燕小云金凤文辉德福家豪子涵浩然欣怡梓轩雨桐一诺思远佳琪俊杰晓东立新淑珍凤英翠花来福长生";
pub const OBSERVATIONS: &[&str] = &[
    "老人独居，身体尚可，家中卫生较差，冬季取暖需关注",
    "孩子在校表现稳定，祖母照料，情绪较低落，需要陪伴",
    "残疾人康复训练坚持中，轮椅需维修，已联系残联",
    "低保待遇按时发放，家庭收入仍不稳定，建议就业帮扶",
    "慢性病用药规律，家属支持较好，近期血压偏高",
    "留守妇女照顾两名子女，农忙时压力大，邻里关系融洽",
    "特困人员集中供养意愿不强，居家安全隐患已提醒",
    "临时救助已申请，等待审批，情绪平稳",
];

/// Generated organisation and people, with what the queries pick their parameters from.
pub struct County {
    pub entities: Vec<EntityState>,
    pub stations: Vec<Uuid>,
    pub points: Vec<Uuid>,
    pub villages: Vec<(Uuid, Uuid)>,
    /// (worker id, station)
    pub workers: Vec<(Uuid, Uuid)>,
    pub recipients: Vec<Person>,
    pub counts: BTreeMap<&'static str, usize>,
}

/// A generated recipient, as the queries pick their parameters.
#[derive(Clone)]
pub struct Person {
    pub id: Uuid,
    pub station: Uuid,
    pub village: Uuid,
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
}

struct Gen {
    rng: StdRng,
    millis: u64,
    author: Uuid,
}

impl Gen {
    fn id(&mut self) -> Uuid {
        let bytes: [u8; 10] = self.rng.r#gen();
        uuid::Builder::from_unix_timestamp_millis(self.millis, &bytes).into_uuid()
    }

    /// A state created a little after the previous one.
    fn state(&mut self, kind: EntityKind, fields: Vec<(&str, Value)>) -> EntityState {
        self.millis += self.rng.gen_range(1..2_000);
        let device = Uuid::from_u128(0xde71ce);
        EntityState {
            kind,
            id: self.id(),
            fields: fields.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect(),
            created: FieldClock { hlc: Hlc::new(self.millis, 0, device), base: None, author: self.author },
            clocks: BTreeMap::new(),
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("not empty")
    }

    fn chars(&mut self, from: &str, n: usize) -> String {
        let all: Vec<char> = from.chars().collect();
        (0..n).map(|_| *all.choose(&mut self.rng).expect("chars")).collect()
    }

    fn date_within(&mut self, days: i64) -> NaiveDate {
        today() - chrono::Duration::days(self.rng.gen_range(0..days.max(1)))
    }
}

/// The county at `scale` (1.0: full size), into `home` when given.
pub fn generate(scale: f64, home: Option<&Home>) -> County {
    let n = |full: usize| ((full as f64 * scale).round() as usize).max(1);
    let mut g = Gen { rng: StdRng::seed_from_u64(SEED), millis: 1_700_000_000_000, author: Uuid::from_u128(1) };
    let mut entities = Vec::new();
    let (mut stations, mut points, mut villages, mut workers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut villages_of: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    let mut workers_of: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();

    if let Some(home) = home {
        stations.push(home.station);
        for &village in &home.villages {
            villages.push((village, home.station));
            villages_of.entry(home.station).or_default().push(village);
        }
        for &user in &home.staff {
            workers.push((user, home.station));
            workers_of.entry(home.station).or_default().push(user);
        }
    } else {
        for s in 0..20 {
            let station = g.state(
                EntityKind::Station,
                vec![
                    (field::station::NAME, json!(format!("第{}社工站", s + 1))),
                    (field::station::COUNTY, json!("宁乡市")),
                ],
            );
            let sid = station.id;
            stations.push(sid);
            entities.push(station);
            for p in 0..5 {
                let point = g.state(
                    EntityKind::ServicePoint,
                    vec![
                        (field::service_point::STATION_ID, json!(sid.to_string())),
                        (field::service_point::NAME, json!(format!("第{}社工点", p + 1))),
                    ],
                );
                let pid = point.id;
                points.push(pid);
                entities.push(point);
                for v in 0..3 {
                    let name = format!("{}{}村", g.chars(GIVEN, 2), v + 1);
                    let village = g.state(
                        EntityKind::Village,
                        vec![
                            (field::village::STATION_ID, json!(sid.to_string())),
                            (field::village::SERVICE_POINT_ID, json!(pid.to_string())),
                            (field::village::NAME, json!(name)),
                        ],
                    );
                    villages.push((village.id, sid));
                    villages_of.entry(sid).or_default().push(village.id);
                    entities.push(village);
                }
            }
            for (i, role) in [
                "DeputyHead",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
                "SocialWorker",
            ]
            .iter()
            .enumerate()
            {
                let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(GIVEN, 1));
                let user = g.state(
                    EntityKind::User,
                    vec![
                        (field::user::USERNAME, json!(format!("s{s}u{i}"))),
                        (field::user::DISPLAY_NAME, json!(name)),
                        (field::user::ROLE, json!(role)),
                        (field::user::STATION_ID, json!(sid.to_string())),
                        (field::user::ACTIVE, json!(true)),
                    ],
                );
                workers.push((user.id, sid));
                workers_of.entry(sid).or_default().push(user.id);
                entities.push(user);
            }
        }
        for (i, chunk) in stations.chunks(5).enumerate() {
            let supervised: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            entities.push(g.state(
                EntityKind::User,
                vec![
                    (field::user::USERNAME, json!(format!("dudao{i}"))),
                    (field::user::DISPLAY_NAME, json!(format!("督导{i}"))),
                    (field::user::ROLE, json!("Supervisor")),
                    (field::user::SUPERVISED_STATION_IDS, json!(supervised)),
                    (field::user::ACTIVE, json!(true)),
                ],
            ));
        }
    }

    // Households, per village.
    let mut households_of: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for _ in 0..n(20_000) {
        let (village, station) = *g.pick(&villages);
        let name = format!("{}{}户", g.chars(SURNAMES, 1), g.chars(GIVEN, 1));
        let address = format!("{}组{}号", g.rng.gen_range(1..12), g.rng.gen_range(1..80));
        let house = g.state(
            EntityKind::Household,
            vec![
                (field::household::STATION_ID, json!(station.to_string())),
                (field::household::VILLAGE_ID, json!(village.to_string())),
                (field::household::NAME, json!(name)),
                (field::household::ADDRESS, json!(address)),
            ],
        );
        households_of.entry(village).or_default().push(house.id);
        entities.push(house);
    }

    let mut recipients = Vec::new();
    for _ in 0..n(50_000) {
        let (village, station) = *g.pick(&villages);
        let given = g.rng.gen_range(1..=2);
        let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(GIVEN, given));
        let birth =
            NaiveDate::from_ymd_opt(1930, 1, 1).expect("date") + chrono::Duration::days(g.rng.gen_range(0..33_000));
        let male = g.rng.gen_bool(0.5);
        let sequence = g.rng.gen_range(0..500) * 2 + u32::from(male);
        let id_number = crate::id_number("430124", birth, sequence);
        let phone = g
            .rng
            .gen_bool(0.7)
            .then(|| format!("1{}{:09}", g.rng.gen_range(3..10), g.rng.gen_range(0..1_000_000_000u64)));
        let mut categories: Vec<usize> = (0..g.rng.gen_range(1..=3)).map(|_| g.rng.gen_range(0..10)).collect();
        categories.sort_unstable();
        categories.dedup();
        let categories: Vec<&str> = categories.into_iter().map(|i| RECIPIENT_CATEGORY_NAMES[i]).collect();
        let address = format!("{}组", g.rng.gen_range(1..12));
        let household =
            households_of.get(&village).filter(|_| g.rng.gen_bool(0.8)).map(|h| *h.choose(&mut g.rng).expect("house"));
        let state = g.state(
            EntityKind::Recipient,
            vec![
                (field::recipient::STATION_ID, json!(station.to_string())),
                (field::recipient::VILLAGE_ID, json!(village.to_string())),
                (field::recipient::NAME, json!(name)),
                (field::recipient::ID_NUMBER, json!(id_number)),
                (field::recipient::GENDER, json!(if male { "Male" } else { "Female" })),
                (field::recipient::BIRTH_DATE, json!(birth.to_string())),
                (field::recipient::PHONE, phone.clone().map(Value::from).unwrap_or(Value::Null)),
                (field::recipient::CATEGORIES, json!(categories)),
                (field::recipient::HOUSEHOLD_ID, household.map(|h| json!(h.to_string())).unwrap_or(Value::Null)),
                (field::recipient::HOUSEHOLD_RELATION, household.map(|_| json!("Head")).unwrap_or(Value::Null)),
                (field::recipient::ADDRESS, json!(address)),
            ],
        );
        recipients.push(Person { id: state.id, station, village, name, id_number, phone });
        entities.push(state);
    }

    for _ in 0..n(500_000) {
        let Person { id: recipient, station, village, .. } = g.pick(&recipients).clone();
        let worker = *g.pick(&workers_of[&station]);
        let date = g.date_within(3 * 365);
        let observations = g.pick(OBSERVATIONS).to_string();
        let needs = g.rng.gen_bool(0.3).then(|| "需要链接助餐服务".to_string());
        let follow_up = g.rng.gen_bool(0.1);
        entities.push(g.state(
            EntityKind::Visit,
            vec![
                (field::visit::STATION_ID, json!(station.to_string())),
                (field::visit::VILLAGE_ID, json!(village.to_string())),
                (field::visit::RECIPIENT_ID, json!(recipient.to_string())),
                (field::visit::WORKER_ID, json!(worker.to_string())),
                (field::visit::VISITED_ON, json!(date.to_string())),
                (field::visit::PERSONS_SEEN, json!("本人")),
                (field::visit::OBSERVATIONS, json!(observations)),
                (field::visit::NEEDS_FOUND, needs.map(Value::from).unwrap_or(Value::Null)),
                (field::visit::FOLLOW_UP_NEEDED, json!(follow_up)),
            ],
        ));
    }

    for _ in 0..n(5_000) {
        let Person { id: recipient, station, .. } = g.pick(&recipients).clone();
        // The first of a station's staff is its deputy head; cases go to the others.
        let staff = &workers_of[&station];
        let worker = *g.pick(if staff.len() > 1 { &staff[1..] } else { staff });
        let stage_index = g.rng.gen_range(0..STAGE_NAMES.len());
        let stage = Stage::ALL[stage_index];
        let opened = g.date_within(700);
        let entered = opened + chrono::Duration::days(g.rng.gen_range(0..=(today() - opened).num_days().max(0)));
        let closed = stage == Stage::Closed;
        let case = g.state(
            EntityKind::Case,
            vec![
                (field::case::STATION_ID, json!(station.to_string())),
                (field::case::RECIPIENT_ID, json!(recipient.to_string())),
                (field::case::WORKER_ID, json!(worker.to_string())),
                (field::case::STAGE, json!(stage.as_str())),
                (field::case::STAGE_ENTERED_ON, json!(entered.to_string())),
                (field::case::OPENED_ON, json!(opened.to_string())),
                (field::case::CLOSURE_STATUS, json!(if closed { "SignedOff" } else { "Open" })),
            ],
        );
        let cid = case.id;
        entities.push(case);
        let base = |_: &mut Gen| {
            vec![(field::STATION_ID, json!(station.to_string())), (field::CASE_ID, json!(cid.to_string()))]
        };
        let mut records = Vec::new();
        let day = |g: &mut Gen| json!((opened + chrono::Duration::days(g.rng.gen_range(0..30))).to_string());
        if stage_index >= 1 {
            let mut f = base(&mut g);
            f.extend([(field::screening::SOURCE, json!("VisitScreening")), (field::screening::FOUND_ON, day(&mut g))]);
            records.push((EntityKind::Screening, f));
        }
        if stage_index >= 2 {
            let mut f = base(&mut g);
            f.extend([
                (field::assessment::ASSESSED_ON, day(&mut g)),
                (field::assessment::RISK_LEVEL, json!("Medium")),
                (field::assessment::NEEDS_SUMMARY, json!("生活照料与心理支持")),
            ]);
            records.push((EntityKind::Assessment, f));
        }
        if stage_index >= 3 {
            for _ in 0..g.rng.gen_range(1..=3) {
                let mut f = base(&mut g);
                let target = (today() + chrono::Duration::days(g.rng.gen_range(-120..120))).to_string();
                let evaluated = closed || g.rng.gen_bool(0.3);
                f.extend([
                    (field::goal::DESCRIPTION, json!("改善日常生活能力")),
                    (field::goal::TARGET_DATE, json!(target)),
                    (field::goal::EVALUATION, if evaluated { json!("Achieved") } else { Value::Null }),
                ]);
                records.push((EntityKind::Goal, f));
            }
        }
        if stage_index >= 4 {
            let mut f = base(&mut g);
            f.extend([
                (field::resource_link::KIND, json!("Volunteer")),
                (field::resource_link::DESCRIPTION, json!("志愿者定期探访")),
                (field::resource_link::STATUS, json!("Secured")),
                (field::resource_link::LINKED_ON, day(&mut g)),
            ]);
            records.push((EntityKind::ResourceLink, f));
        }
        if stage_index >= 5 {
            for _ in 0..g.rng.gen_range(1..=4) {
                let mut f = base(&mut g);
                f.extend([
                    (field::intervention::WORKER_ID, json!(worker.to_string())),
                    (field::intervention::DELIVERED_ON, day(&mut g)),
                    (field::intervention::SERVICE_TYPE, json!("EmotionalCounselling")),
                    (field::intervention::METHOD, json!("Casework")),
                    (field::intervention::DURATION_MINUTES, json!(45)),
                    (field::intervention::NOTES, json!("情绪疏导")),
                ]);
                records.push((EntityKind::Intervention, f));
            }
            if g.rng.gen_bool(0.7) {
                let mut f = base(&mut g);
                let visited =
                    entered + chrono::Duration::days(g.rng.gen_range(0..=(today() - entered).num_days().max(0)));
                f.extend([
                    (field::follow_up::WORKER_ID, json!(worker.to_string())),
                    (field::follow_up::VISITED_ON, json!(visited.to_string())),
                    (field::follow_up::NOTES, json!("回访稳定")),
                ]);
                records.push((EntityKind::FollowUp, f));
            }
        }
        if closed {
            let mut f = base(&mut g);
            f.extend([
                (field::closure_decision::SUPERVISOR_ID, json!(Uuid::from_u128(2).to_string())),
                (field::closure_decision::DECISION, json!("SignedOff")),
                (field::closure_decision::DECIDED_AT, json!(format!("{}T09:00:00.000Z", entered))),
                (field::closure_decision::CASE_DIGEST, json!("ab".repeat(32))),
                (field::closure_decision::SIGNATURE, json!("cd".repeat(64))),
                (field::closure_decision::PUBLIC_KEY, json!("ef".repeat(32))),
            ]);
            records.push((EntityKind::ClosureDecision, f));
        }
        for (kind, fields) in records {
            entities.push(g.state(kind, fields));
        }
    }
    let mut counts = BTreeMap::new();
    for e in &entities {
        *counts.entry(e.kind.spec().table).or_insert(0) += 1;
    }
    County { entities, stations, points, villages, workers, recipients, counts }
}
