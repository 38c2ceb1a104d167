//! The station's reports and charts: every figure equals the one counted here, independently,
//! from the records the test itself made (a model kept beside the store); the report is the
//! deputy head's and the supervisor's, not a worker's; it exports to files in a folder.

mod case_world;

use std::collections::BTreeMap;

use app::report::{export_station_report, station_charts, station_report};
use case_world::{CaseWorld, today};
use chrono::{Duration, NaiveDate};
use contract::{Bilingual, Cell, ExportFormat, Language, Report, ReportPeriod, ReportTable};
use domain::Labelled;
use domain::activity::ActivityKind;
use domain::case::{ServiceMethod, ServiceType, Stage};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use domain::policy::Actor;
use domain::recipient::RecipientCategory;
use domain::referral::{ReferralCounterpart, ReferralDirection, ReferralOutcome, ReferralState, ResourceKind};
use domain::standards::StandardSet;
use domain::workforce::{Qualification, SupervisionMode, TrainingKind};
use serde_json::json;
use test_support::writes;
use uuid::Uuid;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
}

/// (kind, date, minutes, workers' names, recipients linked, others counted) of an activity.
type ActivityRecord = (ActivityKind, NaiveDate, u64, Vec<&'static str>, u64, u64);

/// What the test recorded, as plain lists: the independent account the report is checked against.
#[derive(Default)]
struct Model {
    /// Each person's categories.
    recipients: Vec<Vec<RecipientCategory>>,
    /// (worker's name, village's name, date) of each visit; corrections are not visits of their own.
    visits: Vec<(&'static str, &'static str, NaiveDate)>,
    referrals: Vec<(ReferralDirection, ReferralCounterpart, ReferralOutcome, NaiveDate)>,
    /// Where each referral stands: its state, or for one recorded with an outcome only, the state
    /// that outcome stands for (DOMAIN.md: 转介进展).
    referral_states: Vec<(ReferralDirection, ReferralCounterpart, ReferralState, NaiveDate)>,
    activities: Vec<ActivityRecord>,
    /// (mode, date, minutes) of each supervision session.
    sessions: Vec<(SupervisionMode, NaiveDate, u64)>,
    /// (worker's name, kind, date, minutes) of each training.
    training: Vec<(&'static str, TrainingKind, NaiveDate, u64)>,
    /// (worker's name, professional service or not, date, minutes) of each stretch of working time.
    work: Vec<(&'static str, bool, NaiveDate, u64)>,
    /// (type, method, minutes, date) of each intervention as it stands after corrections.
    services: Vec<(ServiceType, ServiceMethod, u64, NaiveDate)>,
    /// Each case's opening day and moves (day, stage), its first stage included.
    cases: Vec<(NaiveDate, Vec<(NaiveDate, Stage)>)>,
    /// (resource's name or none, date linked, charity money, goods' value in fen) of each
    /// resource link; the walks' links name no resource and record no amounts.
    links: Vec<(Option<&'static str>, NaiveDate, i64, i64)>,
    /// The library's resources (name, kind).
    resources: Vec<(&'static str, ResourceKind)>,
    /// Each worker's qualification as set; a worker not here has none.
    qualifications: BTreeMap<&'static str, Qualification>,
}

impl Model {
    fn stage_on(moves: &[(NaiveDate, Stage)], opened: NaiveDate, day: NaiveDate) -> Option<Stage> {
        if opened > day {
            return None;
        }
        moves.iter().rev().find(|(on, _)| *on <= day).map(|(_, s)| *s)
    }
}

struct Fixture {
    w: CaseWorld,
    model: Model,
    village2: Uuid,
}

impl Fixture {
    fn record(&mut self, actor: &Actor, writes: Vec<Write>) {
        let at = self.w.at();
        self.w.store.record(actor, writes, at.now, at.today).expect("recorded");
    }

    fn worker(&self) -> Actor {
        self.w.worker.clone()
    }

    fn recipient(&mut self, n: u32, village: Uuid, categories: &[RecipientCategory]) -> Uuid {
        let (id, write) = writes::recipient(self.w.station, village, &format!("对象{n}"), n);
        let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
        let worker = self.worker();
        self.record(&worker, vec![write.set(field::recipient::CATEGORIES, json!(names))]);
        self.model.recipients.push(categories.to_vec());
        id
    }

    fn visit(
        &mut self,
        by: &Actor,
        name: &'static str,
        village: (Uuid, &'static str),
        recipient: Uuid,
        on: &str,
    ) -> Uuid {
        let (id, write) = writes::visit(self.w.station, village.0, recipient, by.user_id, date(on));
        self.record(by, vec![write]);
        self.model.visits.push((name, village.1, date(on)));
        id
    }

    fn referral(
        &mut self,
        direction: ReferralDirection,
        counterpart: ReferralCounterpart,
        outcome: ReferralOutcome,
        on: &str,
    ) {
        let write = Write::create(EntityKind::Referral, Uuid::now_v7())
            .set(field::STATION_ID, self.w.station.to_string())
            .set(field::referral::DIRECTION, direction.as_str())
            .set(field::referral::COUNTERPART, counterpart.as_str())
            .set(field::referral::REASON, "需要协助")
            .set(field::referral::REFERRED_ON, on)
            .set(field::referral::OUTCOME, outcome.as_str());
        let worker = self.worker();
        self.record(&worker, vec![write]);
        self.model.referrals.push((direction, counterpart, outcome, date(on)));
        let state = match (direction, outcome) {
            (ReferralDirection::Inbound, ReferralOutcome::Pending) => ReferralState::Received,
            (ReferralDirection::Inbound, ReferralOutcome::Accepted) => ReferralState::Accepted,
            (ReferralDirection::Inbound, ReferralOutcome::Declined) => ReferralState::Declined,
            (ReferralDirection::Outbound, ReferralOutcome::Pending) => ReferralState::Sent,
            (ReferralDirection::Outbound, ReferralOutcome::Accepted) => ReferralState::Acknowledged,
            (_, ReferralOutcome::Resolved) | (ReferralDirection::Outbound, ReferralOutcome::Declined) => {
                ReferralState::Concluded
            }
        };
        self.model.referral_states.push((direction, counterpart, state, date(on)));
    }

    /// A case of `recipient` opened on `opened`, walked through the first `steps` batches of
    /// `writes::steps_to_closure_request` (each moves a stage on, a day apart).
    fn case(&mut self, recipient: Uuid, opened: &str, steps: usize) -> Uuid {
        let opened = date(opened);
        let worker = self.worker();
        let (case, create) = writes::new_case(self.w.station, recipient, worker.user_id, opened);
        self.record(&worker, vec![create]);
        let (_, batches) = writes::steps_to_closure_request(self.w.station, case, worker.user_id, opened);
        let mut moves = vec![(opened, Stage::Identify)];
        let stages = [Stage::Assess, Stage::Plan, Stage::Coordinate, Stage::Intervene, Stage::FollowUp];
        let days = [1, 2, 3, 4, 9];
        for (i, batch) in batches.into_iter().enumerate().take(steps) {
            for write in batch.iter().filter(|w| w.entity == EntityKind::ResourceLink) {
                let linked_on =
                    write.fields.get(field::resource_link::LINKED_ON).and_then(|w| w.value.as_str()).map(date);
                self.model.links.push((None, linked_on.expect("a link's date"), 0, 0));
            }
            self.record(&worker, batch);
            if let (Some(stage), Some(day)) = (stages.get(i), days.get(i)) {
                moves.push((opened + Duration::days(*day), *stage));
            }
        }
        self.model.cases.push((opened, moves));
        case
    }

    fn intervention(
        &mut self,
        case: Uuid,
        kind: (ServiceType, ServiceMethod, u64),
        on: &str,
        amends: Option<Uuid>,
    ) -> Uuid {
        let worker = self.worker();
        let write = writes::stage_record(EntityKind::Intervention, self.w.station, case, worker.user_id, date(on))
            .set(field::intervention::SERVICE_TYPE, kind.0.as_str())
            .set(field::intervention::METHOD, kind.1.as_str())
            .set(field::intervention::DURATION_MINUTES, kind.2)
            .set_opt(field::AMENDS, amends.map(|a| a.to_string()));
        let id = write.entity_id;
        self.record(&worker, vec![write]);
        id
    }
}

/// A station with recipients, visits, referrals, services and cases in September to November.
fn station() -> Fixture {
    let w = CaseWorld::new();
    let mut f = Fixture { w, model: Model::default(), village2: Uuid::now_v7() };
    f.model.recipients.push(vec![RecipientCategory::ExtremePoverty]); // 张三, of the world
    let (point2, village2) = (Uuid::now_v7(), f.village2);
    let admin = f.w.admin.clone();
    f.record(
        &admin,
        vec![
            Write::create(EntityKind::ServicePoint, point2)
                .set(field::STATION_ID, f.w.station.to_string())
                .set(field::service_point::NAME, "二点"),
            Write::create(EntityKind::Village, village2)
                .set(field::STATION_ID, f.w.station.to_string())
                .set(field::village::SERVICE_POINT_ID, point2.to_string())
                .set(field::village::NAME, "绿水村"),
        ],
    );
    let village1 = (f.w.village, "青山村");
    let village2 = (village2, "绿水村");
    let r1 = f.recipient(1, village1.0, &[RecipientCategory::Dibao]);
    let r2 = f.recipient(2, village1.0, &[RecipientCategory::Dibao, RecipientCategory::Disability]);
    let r3 = f.recipient(3, village2.0, &[RecipientCategory::LeftBehindChild]);
    let r4 = f.recipient(4, village2.0, &[RecipientCategory::VulnerableElderly, RecipientCategory::Dibao]);
    let zhang_san = f.w.recipient;

    let (worker, other) = (f.worker(), f.w.other_worker.clone());
    let corrected = f.visit(&worker, "张社工", village1, r1, "2026-11-03");
    f.visit(&worker, "张社工", village1, zhang_san, "2026-11-10");
    f.visit(&worker, "张社工", village2, r3, "2026-11-12");
    f.visit(&worker, "张社工", village1, r1, "2026-10-20");
    f.visit(&other, "李社工", village2, r3, "2026-11-05");
    f.visit(&other, "李社工", village2, r4, "2026-09-01");
    // A correction of the visit of 3 November: still one visit.
    let (_, correction) = writes::visit(f.w.station, village1.0, r1, worker.user_id, date("2026-11-04"));
    f.record(&worker, vec![correction.set(field::AMENDS, corrected.to_string())]);

    use ReferralCounterpart::*;
    use ReferralDirection::*;
    use ReferralOutcome::*;
    f.referral(Inbound, Hotline12345, Accepted, "2026-11-02");
    f.referral(Inbound, Hotline12345, Pending, "2026-11-08");
    f.referral(Outbound, CivilAffairs, Resolved, "2026-11-15");
    f.referral(Inbound, Police, Accepted, "2026-10-30");

    // A: opened 1 October, walked to a closure request, signed off today.
    let a = f.case(zhang_san, "2026-10-01", 6);
    f.model.services.push((ServiceType::EmotionalCounselling, ServiceMethod::Casework, 45, date("2026-10-06")));
    f.w.sign_off(a);
    if let Some((_, moves)) = f.model.cases.last_mut() {
        moves.push((today(), Stage::Closed));
    }
    f.case(r1, "2026-11-03", 2); // B: in Plan since 5 November
    f.case(r2, "2026-09-20", 1); // C: in Assess since 21 September
    f.case(r3, "2026-11-20", 0); // D: identified on 20 November
    // E: in Intervene since 19 October, with three sessions in November, one corrected.
    let e = f.case(r4, "2026-10-15", 4);
    let family = (ServiceType::FamilyVisit, ServiceMethod::CommunityActivity, 90);
    let counselling = (ServiceType::EmotionalCounselling, ServiceMethod::Casework, 60);
    f.intervention(e, family, "2026-11-02", None);
    f.intervention(e, counselling, "2026-11-09", None);
    let crisis = f.intervention(e, (ServiceType::CrisisIntervention, ServiceMethod::GroupWork, 30), "2026-11-16", None);
    let rights = (ServiceType::RightsProtection, ServiceMethod::Casework, 40);
    f.intervention(e, rights, "2026-11-16", Some(crisis));
    for (kind, on) in [(family, "2026-11-02"), (counselling, "2026-11-09"), (rights, "2026-11-16")] {
        f.model.services.push((kind.0, kind.1, kind.2, date(on)));
    }
    f
}

fn label<T: Labelled>(value: T) -> Cell {
    Cell::Label(Bilingual::label(value))
}

fn fixed(zh: &str, en: &str) -> Cell {
    Cell::Label(Bilingual::new(zh, en))
}

fn tables(report: &Report) -> BTreeMap<String, ReportTable> {
    report.sections.iter().flat_map(|s| s.tables.iter()).map(|t| (t.id.clone(), t.clone())).collect()
}

/// Compares a table's every cell with the expected rows, naming the first that differs.
fn check(tables: &BTreeMap<String, ReportTable>, id: &str, expected: Vec<Vec<Cell>>) {
    let table = tables.get(id).unwrap_or_else(|| panic!("no table {id}"));
    for (i, (got, want)) in table.rows.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "{id}, row {i}");
    }
    assert_eq!(table.rows.len(), expected.len(), "{id}: rows");
    for row in &table.rows {
        assert_eq!(row.len(), table.columns.len(), "{id}: a row as wide as the columns");
    }
}

fn count_by<K: Ord>(items: impl Iterator<Item = K>) -> BTreeMap<K, u64> {
    let mut map = BTreeMap::new();
    for k in items {
        *map.entry(k).or_insert(0) += 1;
    }
    map
}

fn hours(minutes: u64) -> f64 {
    (minutes as f64 / 6.0).round() / 10.0
}

#[test]
fn every_figure_of_the_monthly_report_equals_the_count_from_the_records_made() {
    let f = station();
    let (from, to) = (date("2026-11-01"), date("2026-11-30"));
    let period = ReportPeriod::parse("2026-11").expect("a month");
    let report = station_report(&f.w.store, &f.w.deputy, None, period, today()).expect("the report");
    assert_eq!(report.station_name, "城关社工站");
    assert_eq!(report.title.zh, "月度服务报告");
    let t = tables(&report);
    let m = &f.model;
    let within = |d: &NaiveDate| *d >= from && *d <= to;

    let mut rows: Vec<Vec<Cell>> = RecipientCategory::ALL
        .iter()
        .filter_map(|c| {
            let n = m.recipients.iter().filter(|cs| cs.contains(c)).count() as u64;
            (n > 0).then(|| vec![label(*c), Cell::Count(n)])
        })
        .collect();
    rows.push(vec![fixed("在册人数合计", "People on the roster"), Cell::Count(m.recipients.len() as u64)]);
    check(&t, "recipients-by-category", rows);

    for (id, pick) in [("visits-by-worker", 0usize), ("visits-by-village", 1)] {
        let counted = count_by(m.visits.iter().filter(|v| within(&v.2)).map(|v| if pick == 0 { v.0 } else { v.1 }));
        let mut named: Vec<(&str, u64)> = counted.into_iter().collect();
        named.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut rows: Vec<Vec<Cell>> =
            named.iter().map(|(n, c)| vec![Cell::Text((*n).into()), Cell::Count(*c)]).collect();
        rows.push(vec![fixed("合计", "Total"), Cell::Count(named.iter().map(|(_, c)| c).sum())]);
        check(&t, id, rows);
    }

    let until = today();
    let at_end = |stage: Stage| {
        m.cases.iter().filter(|(opened, moves)| Model::stage_on(moves, *opened, until) == Some(stage)).count() as u64
    };
    let entered = |stage: Stage| {
        m.cases.iter().filter(|(_, moves)| moves.iter().any(|(on, s)| *s == stage && within(on))).count() as u64
    };
    check(
        &t,
        "cases-summary",
        vec![
            vec![
                fixed("本期开案", "Opened in the period"),
                Cell::Count(m.cases.iter().filter(|c| within(&c.0)).count() as u64),
            ],
            vec![fixed("本期结案", "Closed in the period"), Cell::Count(entered(Stage::Closed))],
            vec![
                fixed("期末在案（未结案）", "Open at the period's end"),
                Cell::Count(Stage::ALL.iter().filter(|s| **s != Stage::Closed).map(|s| at_end(*s)).sum()),
            ],
        ],
    );
    check(
        &t,
        "cases-by-stage",
        Stage::ALL.iter().map(|s| vec![label(*s), Cell::Count(at_end(*s)), Cell::Count(entered(*s))]).collect(),
    );
    // The story as told: B opened, D opened; A closed; B, C, D, E open at the end.
    assert_eq!(t["cases-summary"].rows[0][1], Cell::Count(2));
    assert_eq!(t["cases-summary"].rows[1][1], Cell::Count(1));
    assert_eq!(t["cases-summary"].rows[2][1], Cell::Count(4));

    let referrals =
        count_by(m.referrals.iter().filter(|r| within(&r.3)).map(|r| (r.0 as usize, r.1 as usize, r.2 as usize)));
    let mut rows = Vec::new();
    for direction in ReferralDirection::ALL {
        for counterpart in ReferralCounterpart::ALL {
            let of = |o: ReferralOutcome| {
                referrals.get(&(*direction as usize, *counterpart as usize, o as usize)).copied().unwrap_or(0)
            };
            let total: u64 = ReferralOutcome::ALL.iter().map(|o| of(*o)).sum();
            if total > 0 {
                let mut row = vec![label(*direction), label(*counterpart)];
                row.extend(ReferralOutcome::ALL.iter().map(|o| Cell::Count(of(*o))));
                row.push(Cell::Count(total));
                rows.push(row);
            }
        }
    }
    assert_eq!(rows.len(), 2, "12345 inbound and civil affairs outbound; the police's was in October");
    check(&t, "referrals-by-counterpart", rows);

    let services: Vec<_> = m.services.iter().filter(|s| within(&s.3)).collect();
    let mut rows = Vec::new();
    for ty in ServiceType::ALL {
        for method in ServiceMethod::ALL {
            let of: Vec<_> = services.iter().filter(|s| s.0 == *ty && s.1 == *method).collect();
            if !of.is_empty() {
                let minutes = of.iter().map(|s| s.2).sum();
                rows.push(vec![label(*ty), label(*method), Cell::Count(of.len() as u64), Cell::Hours(hours(minutes))]);
            }
        }
    }
    assert_eq!(rows.len(), 3, "the corrected session counts once, as corrected");
    check(&t, "services-by-type", rows);
    check(
        &t,
        "services-by-method",
        ServiceMethod::ALL
            .iter()
            .map(|method| {
                let of: Vec<_> = services.iter().filter(|s| s.1 == *method).collect();
                vec![label(*method), Cell::Count(of.len() as u64), Cell::Hours(hours(of.iter().map(|s| s.2).sum()))]
            })
            .collect(),
    );
    let ids: Vec<&str> = report.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "recipients",
            "visits",
            "cases",
            "referrals",
            "services",
            "activities",
            "supervision-training",
            "professional-time"
        ],
        "a monthly report has no year-end summary"
    );
}

#[test]
fn the_yearly_evaluation_adds_the_year_end_summary() {
    let f = station();
    let period = ReportPeriod::Year { year: 2026 };
    let report = station_report(&f.w.store, &f.w.supervisor, Some(f.w.station), period, today()).expect("report");
    assert_eq!(report.title.zh, "年度服务评估");
    let year_end = report.sections.iter().find(|s| s.id == "year-end").expect("year-end section");
    let tasks = &year_end.tables[0].rows;
    assert_eq!(tasks[0][1], Cell::Count(f.model.visits.len() as u64), "every visit of the year");
    assert_eq!(tasks[1][1], Cell::Count(f.model.cases.len() as u64), "every case was served this year");
    assert_eq!(tasks[2][1], Cell::Count(1));
    let notes: Vec<&str> = year_end.notes.iter().map(|n| n.zh.as_str()).collect();
    for heading in ["资金使用情况", "服务开展情况", "人才培养情况"] {
        assert!(notes.iter().any(|n| n.starts_with(heading)), "{heading} in {notes:?}");
    }
    for by_hand in ["站点自有经费使用情况：（由站点填写）", "存在问题和建议：（由站点填写）"]
    {
        assert!(notes.contains(&by_hand), "{by_hand} in {notes:?}");
    }
}

#[test]
fn a_social_worker_sees_no_station_report_and_a_bad_period_names_its_field() {
    let f = station();
    let period = ReportPeriod::Month { year: 2026, month: 11 };
    let refused = station_report(&f.w.store, &f.w.worker, None, period, today()).expect_err("a worker's");
    assert_eq!(contract::CommandError::from(refused).code, "not_assigned");
    let bad = ReportPeriod::Month { year: 2026, month: 13 };
    let error =
        contract::CommandError::from(station_report(&f.w.store, &f.w.deputy, None, bad, today()).expect_err("bad"));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("bad_report_period", Some("period")));
    assert!(error.message_zh.contains("统计期间") && error.message_en.contains("period"));
}

#[test]
fn the_charts_count_visits_per_month_and_cases_per_stage_at_each_month_s_end() {
    let f = station();
    let charts = station_charts(&f.w.store, &f.w.deputy, None, today()).expect("charts");
    let months: Vec<&str> = charts.visits_by_month.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months.len(), 12);
    assert_eq!((months[0], months[11]), ("2025-12", "2026-11"));
    for month in &charts.visits_by_month {
        let expected = f.model.visits.iter().filter(|v| v.2.format("%Y-%m").to_string() == month.month).count() as u64;
        assert_eq!(month.count, expected, "{}", month.month);
    }
    for month in &charts.stages_by_month {
        let first = date(&format!("{}-01", month.month));
        let end = (first + chrono::Months::new(1)).pred_opt().expect("a day").min(today());
        for stage in Stage::ALL {
            let expected = f
                .model
                .cases
                .iter()
                .filter(|(opened, moves)| Model::stage_on(moves, *opened, end) == Some(*stage))
                .count() as u64;
            let got = month.stages.iter().find(|s| s.stage == *stage).map_or(0, |s| s.count);
            assert_eq!(got, expected, "{} {stage:?}", month.month);
        }
    }
    assert_eq!(charts.stage_series(Stage::Assess)[9], 1, "C in Assess at the end of September");
}

#[test]
fn an_export_writes_the_workbook_and_the_pdf_into_the_folder_named_for_the_station_and_period() {
    let f = station();
    let folder = tempfile::tempdir().expect("folder");
    let period = ReportPeriod::Month { year: 2026, month: 11 };
    for format in [ExportFormat::Xlsx, ExportFormat::Pdf] {
        let file =
            export_station_report(&f.w.store, &f.w.deputy, None, period, format, Language::Zh, folder.path(), today())
                .expect("exported");
        assert_eq!(file.file_name, format!("城关社工站-月度服务报告-2026-11.{}", format.extension()));
        let bytes = std::fs::read(&file.path).expect("the file is there");
        let magic: &[u8] = if format == ExportFormat::Pdf { b"%PDF-" } else { b"PK" };
        assert!(bytes.starts_with(magic), "{format:?}");
    }
    let left: Vec<String> = std::fs::read_dir(folder.path())
        .expect("folder")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(left.len(), 2, "no partial files left: {left:?}");
}

#[test]
fn a_closed_case_prints_with_its_closure_and_every_stage_record() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    let open = app::printing::closed_case_document(&w.store, &w.supervisor, case_id, today()).expect_err("not closed");
    assert_eq!(contract::CommandError::from(open).code, "bad_request");
    w.sign_off(case_id);
    let document = app::printing::closed_case_document(&w.store, &w.supervisor, case_id, today()).expect("printed");
    assert_eq!((document.title.zh.as_str(), document.station_name.as_str()), ("个案结案档案", "城关社工站"));
    let tables = tables(&document);
    let case = &tables["case"].rows;
    assert_eq!(case[0][1], Cell::Text("张三".into()));
    assert_eq!(case[6][1], Cell::Text("服务目标均已达成，申请结案".into()));
    assert_eq!(case[7][1], Cell::Text("陈督导".into()));
    let interventions = &tables["records-Intervention"];
    assert_eq!(interventions.rows.len(), 1);
    let service = interventions.columns.iter().position(|c| c.zh == "服务内容").expect("a service column");
    assert_eq!(interventions.rows[0][service].display(Language::Zh), "情绪疏导");
    for kind in ["Screening", "Assessment", "Goal", "ResourceLink", "FollowUp"] {
        assert!(tables.contains_key(&format!("records-{kind}")), "{kind}");
    }
    let pdf = report::render_pdf(&document, Language::Zh, &report::ReportFont::find().expect("font")).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
}

/// The workers of `station()`, as the report lists them (by name).
const WORKERS: [&str; 3] = ["张社工", "李社工", "王副站长"];

impl Fixture {
    fn actor_named(&self, name: &str) -> Actor {
        match name {
            "张社工" => self.w.worker.clone(),
            "李社工" => self.w.other_worker.clone(),
            _ => self.w.deputy.clone(),
        }
    }

    fn activity(
        &mut self,
        kind: ActivityKind,
        on: &str,
        minutes: u64,
        workers: &[&'static str],
        recipients: &[Uuid],
        others: Option<u64>,
    ) {
        let ids: Vec<String> = workers.iter().map(|n| self.actor_named(n).user_id.to_string()).collect();
        let recipient_ids: Vec<String> = recipients.iter().map(Uuid::to_string).collect();
        let values = case_world::values(json!({
            "kind": kind.as_str(), "title": "活动", "held_on": on, "place": "村委会",
            "duration_minutes": minutes, "worker_ids": ids, "recipient_ids": recipient_ids, "others_count": others,
        }));
        let (worker, at) = (self.worker(), self.w.at());
        app::activities::add_activity(&mut self.w.store, &worker, &values, at).expect("activity");
        let linked = recipients.len() as u64;
        self.model.activities.push((kind, date(on), minutes, workers.to_vec(), linked, others.unwrap_or(0)));
    }

    fn session(&mut self, mode: SupervisionMode, on: &str, minutes: u64) {
        let values = case_world::values(json!({
            "station_id": self.w.station.to_string(), "held_on": on, "mode": mode.as_str(),
            "duration_minutes": minutes, "topics": "个案评估",
        }));
        let (supervisor, at) = (self.w.supervisor.clone(), self.w.at());
        app::supervision::save_session(&mut self.w.store, &supervisor, &values, at).expect("session");
        self.model.sessions.push((mode, date(on), minutes));
    }

    fn training(&mut self, who: &'static str, kind: TrainingKind, on: &str, minutes: u64) {
        let values = case_world::values(json!({
            "kind": kind.as_str(), "title": "培训", "trained_on": on, "duration_minutes": minutes,
        }));
        let (actor, at) = (self.actor_named(who), self.w.at());
        app::training::save_training(&mut self.w.store, &actor, &values, at).expect("training");
        self.model.training.push((who, kind, date(on), minutes));
    }

    fn work(&mut self, who: &'static str, kind: &str, professional: bool, on: &str, minutes: u64) {
        let values = case_world::values(json!({ "worked_on": on, "kind": kind, "duration_minutes": minutes }));
        let (actor, at) = (self.actor_named(who), self.w.at());
        app::training::save_work_time(&mut self.w.store, &actor, &values, at).expect("working time");
        self.model.work.push((who, professional, date(on), minutes));
    }
}

/// `station()` with activities, supervision, training and working time in the year, and a
/// referral whose state is recorded, held against Hunan's county-level standards.
fn workforce_station() -> Fixture {
    let mut f = station();
    let village = f.w.village;
    let r5 = f.recipient(5, village, &[RecipientCategory::Dibao]);
    let zhang_san = f.w.recipient;
    f.activity(ActivityKind::GroupWork, "2026-11-04", 90, &["张社工"], &[r5, zhang_san], Some(5));
    f.activity(ActivityKind::GroupWork, "2026-11-18", 120, &["张社工", "李社工"], &[zhang_san], None);
    f.activity(ActivityKind::CommunityActivity, "2026-11-12", 180, &["李社工"], &[], Some(40));
    f.activity(ActivityKind::PolicyPublicity, "2026-10-28", 60, &["王副站长"], &[], Some(30));

    f.session(SupervisionMode::OnSite, "2026-11-03", 180);
    f.session(SupervisionMode::Remote, "2026-11-20", 120);
    f.session(SupervisionMode::OnSite, "2026-10-10", 90);

    f.training("张社工", TrainingKind::Practice, "2026-10-12", 20 * 60);
    f.training("张社工", TrainingKind::Practice, "2026-11-05", 20 * 60);
    f.training("张社工", TrainingKind::Policy, "2026-11-10", 5 * 60);
    f.training("李社工", TrainingKind::ContinuingEducation, "2026-06-01", 20 * 60);
    f.training("李社工", TrainingKind::Practice, "2026-11-18", 18 * 60);

    f.work("张社工", "Casework", true, "2026-11-02", 6 * 60);
    f.work("张社工", "Administrative", false, "2026-11-03", 4 * 60);
    f.work("张社工", "Administrative", false, "2026-10-20", 10 * 60);
    f.work("李社工", "Visit", true, "2026-11-06", 2 * 60);
    f.work("李社工", "Other", false, "2026-11-07", 6 * 60);

    // Concluded although its outcome alone (declined) would read as declined: the state counts.
    let write = Write::create(EntityKind::Referral, Uuid::now_v7())
        .set(field::STATION_ID, f.w.station.to_string())
        .set(field::referral::DIRECTION, ReferralDirection::Inbound.as_str())
        .set(field::referral::COUNTERPART, ReferralCounterpart::Hotline12345.as_str())
        .set(field::referral::REASON, "需要协助")
        .set(field::referral::REFERRED_ON, "2026-11-21")
        .set(field::referral::OUTCOME, ReferralOutcome::Declined.as_str())
        .set(field::referral::STATE, ReferralState::Concluded.as_str());
    let worker = f.worker();
    f.record(&worker, vec![write]);
    let (inbound, hotline) = (ReferralDirection::Inbound, ReferralCounterpart::Hotline12345);
    f.model.referrals.push((inbound, hotline, ReferralOutcome::Declined, date("2026-11-21")));
    f.model.referral_states.push((inbound, hotline, ReferralState::Concluded, date("2026-11-21")));

    let (deputy, at) = (f.w.deputy.clone(), f.w.at());
    app::standards::set_standard_set(&mut f.w.store, &deputy, f.w.station, Some(StandardSet::HunanCounty), at)
        .expect("standards chosen");
    f
}

fn november(f: &Fixture) -> BTreeMap<String, ReportTable> {
    let period = ReportPeriod::parse("2026-11").expect("a month");
    tables(&station_report(&f.w.store, &f.w.deputy, None, period, today()).expect("the report"))
}

fn in_november(d: &NaiveDate) -> bool {
    *d >= date("2026-11-01") && *d <= today()
}

fn standing(zh: &str, en: &str) -> Cell {
    fixed(zh, en)
}

#[test]
fn the_activities_of_the_period_are_counted_by_kind_with_hours_participants_and_workers() {
    let f = workforce_station();
    let t = november(&f);
    let row = |label: Cell, of: &[&ActivityRecord]| {
        let mut workers: Vec<&str> = of.iter().flat_map(|a| a.3.iter().copied()).collect();
        workers.sort_unstable();
        workers.dedup();
        let linked: u64 = of.iter().map(|a| a.4).sum();
        let others: u64 = of.iter().map(|a| a.5).sum();
        vec![
            label,
            Cell::Count(of.len() as u64),
            Cell::Hours(hours(of.iter().map(|a| a.2).sum())),
            Cell::Count(linked),
            Cell::Count(others),
            Cell::Count(linked + others),
            Cell::Text(workers.join("、")),
        ]
    };
    let held: Vec<_> = f.model.activities.iter().filter(|a| in_november(&a.1)).collect();
    let mut rows: Vec<Vec<Cell>> = ActivityKind::ALL
        .iter()
        .map(|k| row(label(*k), &held.iter().copied().filter(|a| a.0 == *k).collect::<Vec<_>>()))
        .collect();
    rows.push(row(fixed("合计", "Total"), &held));
    check(&t, "activities-by-kind", rows);
    // The story: three activities in November, 48 taking part; October's publicity not counted.
    let total = &t["activities-by-kind"].rows[ActivityKind::ALL.len()];
    assert_eq!((&total[1], &total[5]), (&Cell::Count(3), &Cell::Count(48)));
}

#[test]
fn supervision_and_training_are_counted_and_held_against_the_stations_standards() {
    let f = workforce_station();
    let t = november(&f);
    let m = &f.model;
    let sessions = |mode: Option<SupervisionMode>| -> Vec<Cell> {
        let of: Vec<_> = m.sessions.iter().filter(|s| in_november(&s.1) && mode.is_none_or(|x| x == s.0)).collect();
        vec![Cell::Count(of.len() as u64), Cell::Hours(hours(of.iter().map(|s| s.2).sum()))]
    };
    let mut rows = Vec::new();
    for (heading, mode) in [
        (label(SupervisionMode::OnSite), Some(SupervisionMode::OnSite)),
        (label(SupervisionMode::Remote), Some(SupervisionMode::Remote)),
        (fixed("合计", "Total"), None),
    ] {
        let mut row = vec![heading];
        row.extend(sessions(mode));
        rows.push(row);
    }
    check(&t, "supervision-by-mode", rows);

    let trained = |who: &str, kind: Option<TrainingKind>, within: &dyn Fn(&NaiveDate) -> bool| -> u64 {
        m.training.iter().filter(|r| r.0 == who && within(&r.2) && kind.is_none_or(|k| k == r.1)).map(|r| r.3).sum()
    };
    let rows = WORKERS
        .iter()
        .map(|who| {
            let mut row = vec![Cell::Text((*who).into())];
            row.extend(TrainingKind::ALL.iter().map(|k| Cell::Hours(hours(trained(who, Some(*k), &in_november)))));
            row.push(Cell::Hours(hours(trained(who, None, &in_november))));
            row
        })
        .collect();
    check(&t, "training-by-worker", rows);

    // Hunan, county level: 24 h of supervision and 40 h of training a year per worker. On 25
    // November 328 of 365 days are past: 21.6 h of supervision and 35.9 h of training are due.
    let this_year = |d: &NaiveDate| *d >= date("2026-01-01") && *d <= today();
    let supervised: u64 = m.sessions.iter().filter(|s| this_year(&s.1)).map(|s| s.2).sum();
    let behind = standing("落后", "behind");
    let expected_standing = [
        ("张社工", standing("已达标", "met")),
        ("李社工", standing("进度正常", "on track")),
        ("王副站长", behind.clone()),
    ];
    let mut rows = Vec::new();
    for (who, training_standing) in expected_standing {
        rows.push(vec![
            Cell::Text(who.into()),
            fixed("驻站社工每年接受督导≥24小时", "≥24 h of supervision a year per worker"),
            Cell::Hours(hours(supervised)),
            Cell::Hours(24.0),
            behind.clone(),
        ]);
        rows.push(vec![
            Cell::Text(who.into()),
            fixed("驻站社工每年专业培训≥40小时", "≥40 h of training a year per worker"),
            Cell::Hours(hours(trained(who, None, &this_year))),
            Cell::Hours(40.0),
            training_standing,
        ]);
    }
    check(&t, "supervision-training-standards", rows);
}

#[test]
fn the_professional_share_of_working_time_is_per_worker_and_for_the_station_against_the_standard() {
    let f = workforce_station();
    let t = november(&f);
    let row = |subject: Cell, who: Option<&str>, standing: Cell| {
        let of: Vec<_> = f.model.work.iter().filter(|w| in_november(&w.2) && who.is_none_or(|n| n == w.0)).collect();
        let professional: u64 = of.iter().filter(|w| w.1).map(|w| w.3).sum();
        let all: u64 = of.iter().map(|w| w.3).sum();
        let share = (professional * 1000).checked_div(all).map_or(Cell::Empty, |m| Cell::Percent(m as f64 / 10.0));
        vec![subject, Cell::Hours(hours(professional)), Cell::Hours(hours(all)), share, Cell::Percent(50.0), standing]
    };
    // Hunan's share for 2023 on (30 % in 2021, 10 % more a year): 50 %. 张 60 % while the month
    // runs: on track; 李 25 %: behind; 王 recorded no time; the station 8 of 18 hours.
    let behind = standing("落后", "behind");
    check(
        &t,
        "professional-time-by-worker",
        vec![
            row(Cell::Text("张社工".into()), Some("张社工"), standing("进度正常", "on track")),
            row(Cell::Text("李社工".into()), Some("李社工"), behind.clone()),
            row(Cell::Text("王副站长".into()), Some("王副站长"), Cell::Empty),
            row(fixed("全站", "The station"), None, behind),
        ],
    );
}

#[test]
fn referrals_are_counted_by_their_state_and_an_old_record_by_the_state_its_outcome_stands_for() {
    let f = workforce_station();
    let t = november(&f);
    let mut rows = Vec::new();
    for direction in ReferralDirection::ALL {
        for counterpart in ReferralCounterpart::ALL {
            let of: Vec<_> = f
                .model
                .referral_states
                .iter()
                .filter(|r| r.0 == *direction && r.1 == *counterpart && in_november(&r.3))
                .collect();
            if of.is_empty() {
                continue;
            }
            let mut row = vec![label(*direction), label(*counterpart)];
            row.extend(ReferralState::ALL.iter().map(|state| {
                if state.fits(*direction) {
                    Cell::Count(of.iter().filter(|r| r.2 == *state).count() as u64)
                } else {
                    Cell::Empty
                }
            }));
            row.push(Cell::Count(of.len() as u64));
            rows.push(row);
        }
    }
    check(&t, "referrals-by-state", rows);
    let hotline = &t["referrals-by-state"].rows[0];
    let concluded = 2 + ReferralState::ALL.iter().position(|s| *s == ReferralState::Concluded).expect("a state");
    assert_eq!(hotline[concluded], Cell::Count(1), "the declined referral recorded as concluded counts concluded");
}

impl Fixture {
    fn resource(&mut self, name: &'static str, kind: ResourceKind) -> Uuid {
        let values = case_world::values(json!({ "kind": kind.as_str(), "name": name, "active": true }));
        let (worker, at) = (self.worker(), self.w.at());
        let page = app::library::add_resource(&mut self.w.store, &worker, &values, at).expect("resource");
        self.model.resources.push((name, kind));
        page.resource.id
    }

    /// A link of `resource` into `case`'s plan on `on`, with the amounts typed as yuan and the
    /// fen they stand for.
    fn link(&mut self, case: Uuid, resource: (Uuid, &'static str), on: &str, money: (&str, i64), goods: (&str, i64)) {
        let values = case_world::values(json!({
            "resource_id": resource.0.to_string(), "kind": "Charity", "description": "救助金和过冬物资",
            "status": "Secured", "linked_on": on, "money_fen": money.0, "goods_value_fen": goods.0,
        }));
        let (worker, at) = (self.worker(), self.w.at());
        app::case::save_case_record(
            &mut self.w.store,
            &worker,
            case,
            contract::CaseRecordKind::ResourceLink,
            values,
            None,
            at,
        )
        .expect("linked");
        self.model.links.push((Some(resource.1), date(on), money.1, goods.1));
    }

    fn qualify(&mut self, who: &'static str, qualification: Qualification) {
        let (deputy, at, user) = (self.w.deputy.clone(), self.w.at(), self.actor_named(who).user_id);
        app::standards::set_qualification(&mut self.w.store, &deputy, user, Some(qualification), at)
            .expect("qualification set");
        self.model.qualifications.insert(who, qualification);
    }
}

/// `workforce_station()` with the library's charity money and goods linked for recipients (one
/// link of last December, outside 2026) and two workers' qualifications.
fn year_station() -> Fixture {
    let mut f = workforce_station();
    let village = f.w.village;
    let r6 = f.recipient(6, village, &[RecipientCategory::ExtremePoverty]);
    // Opened last December and walked to Intervene: its walk's link (no resource) is of 2025.
    let case = f.case(r6, "2025-12-01", 4);
    let charity = (f.resource("长沙爱心慈善基金会", ResourceKind::Charity), "长沙爱心慈善基金会");
    let volunteers = (f.resource("青年志愿服务队", ResourceKind::VolunteerTeam), "青年志愿服务队");
    f.resource("县慈善总会", ResourceKind::Charity); // never linked
    f.link(case, charity, "2025-12-20", ("500", 50_000), ("", 0));
    f.link(case, charity, "2026-03-10", ("1,200.50", 120_050), ("300", 30_000));
    f.link(case, charity, "2026-11-02", ("800", 80_000), ("", 0));
    f.link(case, volunteers, "2026-06-15", ("", 0), ("1500.05", 150_005));
    f.qualify("张社工", Qualification::SocialWorker);
    f.qualify("李社工", Qualification::AssistantSocialWorker);
    f
}

fn year_2026(f: &Fixture) -> BTreeMap<String, ReportTable> {
    let period = ReportPeriod::Year { year: 2026 };
    tables(&station_report(&f.w.store, &f.w.deputy, None, period, today()).expect("the report"))
}

fn in_2026(d: &NaiveDate) -> bool {
    *d >= date("2026-01-01") && *d <= date("2026-12-31")
}

fn yuan(fen: i64) -> Cell {
    Cell::Text(domain::money::format_fen(fen))
}

#[test]
fn the_years_use_of_funds_totals_the_charity_money_and_goods_linked_by_resource() {
    let f = year_station();
    let t = year_2026(&f);
    let links: Vec<_> = f.model.links.iter().filter(|l| in_2026(&l.1)).collect();
    let row = |kind: Cell, name: Cell, of: &[&&(Option<&str>, NaiveDate, i64, i64)]| {
        vec![
            kind,
            name,
            yuan(of.iter().map(|l| l.2).sum()),
            yuan(of.iter().map(|l| l.3).sum()),
            Cell::Count(of.len() as u64),
        ]
    };
    let mut resources = f.model.resources.clone();
    resources.sort_by_key(|(name, kind)| (ResourceKind::ALL.iter().position(|k| k == kind), *name));
    let mut rows = Vec::new();
    for (name, kind) in resources {
        let of: Vec<_> = links.iter().filter(|l| l.0 == Some(name)).collect();
        if !of.is_empty() {
            rows.push(row(label(kind), Cell::Text(name.into()), &of));
        }
    }
    let unnamed: Vec<_> = links.iter().filter(|l| l.0.is_none()).collect();
    if !unnamed.is_empty() {
        rows.push(row(Cell::Empty, fixed("未关联资源库的链接", "Links to no resource of the library"), &unnamed));
    }
    rows.push(row(fixed("合计", "Total"), Cell::Empty, &links.iter().collect::<Vec<_>>()));
    check(&t, "funds-by-resource", rows);
    // The story: 2,000.50 yuan and 300 yuan of goods from the foundation in 2026 (last
    // December's 500 not counted), 1,500.05 yuan of goods from the volunteers.
    let foundation = &t["funds-by-resource"].rows[0];
    assert_eq!((&foundation[2], &foundation[3]), (&Cell::Text("2000.50".into()), &Cell::Text("300".into())));
    let total = t["funds-by-resource"].rows.last().expect("a total");
    assert_eq!((&total[2], &total[3]), (&Cell::Text("2000.50".into()), &Cell::Text("1800.05".into())));
}

#[test]
fn the_years_staff_development_gives_each_workers_qualification_and_training_and_counts_by_qualification() {
    let f = year_station();
    let t = year_2026(&f);
    let m = &f.model;
    let this_year = |d: &NaiveDate| in_2026(d) && *d <= today();
    let trained = |who: &str, kind: Option<TrainingKind>| -> Cell {
        let minutes =
            m.training.iter().filter(|r| r.0 == who && this_year(&r.2) && kind.is_none_or(|k| k == r.1)).map(|r| r.3);
        Cell::Hours(hours(minutes.sum()))
    };
    let rows = WORKERS
        .iter()
        .map(|who| {
            let mut row = vec![Cell::Text((*who).into()), m.qualifications.get(who).map_or(Cell::Empty, |q| label(*q))];
            row.extend(TrainingKind::ALL.iter().map(|k| trained(who, Some(*k))));
            row.push(trained(who, None));
            row
        })
        .collect();
    check(&t, "staff-development", rows);

    let of =
        |q: Option<Qualification>| WORKERS.iter().filter(|who| m.qualifications.get(*who).copied() == q).count() as u64;
    let mut rows: Vec<Vec<Cell>> =
        Qualification::ALL.iter().map(|q| vec![label(*q), Cell::Count(of(Some(*q)))]).collect();
    rows.push(vec![fixed("未登记职业水平", "No qualification recorded"), Cell::Count(of(None))]);
    rows.push(vec![fixed("合计", "Total"), Cell::Count(WORKERS.len() as u64)]);
    check(&t, "workers-by-qualification", rows);
    // 李社工's continuing education of June counts in the year, not in November's report.
    let li = &t["staff-development"].rows[1];
    let continuing =
        2 + TrainingKind::ALL.iter().position(|k| *k == TrainingKind::ContinuingEducation).expect("a kind");
    assert_eq!(li[continuing], Cell::Hours(20.0));
}
