//! The screens' queries on a small fixture: each roster filter and search kind, the case board,
//! the overdue list, and a recipient's ledger.

mod common;

use common::{World, date, days_ago, id_number, today};
use domain::case::{RiskLevel, Stage};
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use domain::recipient::RecipientCategory;
use serde_json::json;
use store::{CaseBoardFilter, OverdueReason, RosterFilter, Search};
use uuid::Uuid;

struct Fixture {
    w: World,
    zhang: Uuid,
    li: Uuid,
    zeng: Uuid,
    zhao: Uuid,
    sun: Uuid,
}

/// Station A: 张三 (青山村), 李四 (青山村), 曾小明 (绿水村), 赵六 (绿水村, phone …8000);
/// station B: 孙七.
fn fixture() -> Fixture {
    let mut w = World::new();
    let zhang = w.add_zhang_san();
    let worker = w.a.worker.clone();
    let add = |w: &mut World, name: &str, birth: &str, seq: u32, village: Uuid, extra: fn(Write) -> Write| {
        let gender = if seq % 2 == 1 { "Male" } else { "Female" };
        let (id, write) = w.recipient_write(name, &id_number("430124", date(birth), seq), birth, gender);
        w.record(&worker, vec![extra(write.set(field::recipient::VILLAGE_ID, village.to_string()))])
            .expect("recipient");
        id
    };
    let (v1, v2) = (w.a.village, w.a.village2);
    let li = add(&mut w, "李四", "1958-01-01", 11, v1, |w| w);
    let zeng = add(&mut w, "曾小明", "2012-05-06", 23, v2, |w| {
        w.set(field::recipient::CATEGORIES, json!(["LeftBehindChild"]))
    });
    let zhao = add(&mut w, "赵六", "1940-02-03", 35, v2, |w| {
        w.set(field::recipient::PHONE, "13912348000")
            .set(field::recipient::CATEGORIES, json!(["Disability", "VulnerableElderly"]))
    });
    let b_worker = w.b.worker.clone();
    let (sun, write) = w.recipient_write("孙七", &id_number("430124", date("1950-03-04"), 47), "1950-03-04", "Male");
    let write = write
        .set(field::recipient::STATION_ID, w.b.id.to_string())
        .set(field::recipient::VILLAGE_ID, w.b.village.to_string());
    w.record(&b_worker, vec![write]).expect("recipient of B");
    Fixture { w, zhang, li, zeng, zhao, sun }
}

fn names(f: &Fixture, filter: RosterFilter) -> Vec<String> {
    f.w.store.roster(&filter).expect("roster").into_iter().map(|r| r.name).collect()
}

fn search(f: &Fixture, s: Search) -> Vec<String> {
    names(f, RosterFilter { search: Some(s), ..RosterFilter::default() })
}

#[test]
fn the_roster_is_sorted_by_pinyin_and_filtered_by_station_category_village_and_point() {
    let f = fixture();
    let a = f.w.a.id;
    // By initials: cxm (曾小明), ls, sq, zl, zs.
    assert_eq!(names(&f, RosterFilter::default()), ["曾小明", "李四", "孙七", "赵六", "张三"]);
    assert_eq!(
        names(&f, RosterFilter { station_id: Some(a), ..Default::default() }),
        ["曾小明", "李四", "赵六", "张三"]
    );
    let b = f.w.store.roster(&RosterFilter { station_id: Some(f.w.b.id), ..Default::default() }).expect("B");
    assert_eq!(b.iter().map(|r| r.id).collect::<Vec<_>>(), [f.sun]);
    let category = |c| RosterFilter { category: Some(c), ..Default::default() };
    assert_eq!(names(&f, category(RecipientCategory::Dibao)), ["李四", "孙七", "张三"]);
    assert_eq!(names(&f, category(RecipientCategory::VulnerableElderly)), ["赵六"]);
    assert_eq!(names(&f, RosterFilter { village_id: Some(f.w.a.village2), ..Default::default() }), ["曾小明", "赵六"]);
    assert_eq!(names(&f, RosterFilter { service_point_id: Some(f.w.a.point), ..Default::default() }), ["李四", "张三"]);
    let both = RosterFilter {
        station_id: Some(a),
        village_id: Some(f.w.a.village2),
        category: Some(RecipientCategory::Disability),
        ..Default::default()
    };
    assert_eq!(names(&f, both), ["赵六"]);
}

#[test]
fn the_roster_filtered_by_worker_shows_the_recipients_of_their_cases() {
    let mut f = fixture();
    f.w.open_case(f.li);
    let worker = RosterFilter { worker_id: Some(f.w.a.worker.user_id), ..Default::default() };
    assert_eq!(names(&f, worker), ["李四"]);
    let rows =
        f.w.store
            .roster(&RosterFilter { search: Some(Search::Name("李".into())), ..Default::default() })
            .expect("rows");
    assert_eq!(rows[0].open_cases, 1);
    let other = RosterFilter { worker_id: Some(f.w.a.worker2.user_id), ..Default::default() };
    assert!(names(&f, other).is_empty());
}

#[test]
fn a_name_search_takes_chinese_text_or_pinyin_initials() {
    let f = fixture();
    assert_eq!(search(&f, Search::Name("zs".into())), ["张三"]);
    assert_eq!(search(&f, Search::Name("ZS".into())), ["张三"]);
    assert_eq!(search(&f, Search::Name("z".into())), ["曾小明", "赵六", "张三"], "a prefix of the initials");
    assert_eq!(search(&f, Search::Name("三".into())), ["张三"]);
    assert_eq!(search(&f, Search::Name("小明".into())), ["曾小明"]);
    assert_eq!(search(&f, Search::Name("zxm".into())), ["曾小明"], "曾 read as a surname");
    assert_eq!(search(&f, Search::Name("cxm".into())), ["曾小明"], "曾 read as usual");
    assert!(search(&f, Search::Name("%".into())).is_empty(), "LIKE wildcards are literal");
    assert!(search(&f, Search::Name("王".into())).is_empty());
}

#[test]
fn an_id_number_search_matches_the_end_of_the_number() {
    let f = fixture();
    assert_eq!(search(&f, Search::IdSuffix("002X".into())), ["张三"]);
    assert_eq!(search(&f, Search::IdSuffix("002x".into())), ["张三"]);
    let li = f.w.get(EntityKind::Recipient, f.li);
    let li_number = li.get_str(field::recipient::ID_NUMBER).expect("number");
    assert_eq!(search(&f, Search::IdSuffix(li_number[12..].into())), ["李四"]);
    assert!(search(&f, Search::IdSuffix("1101".into())).is_empty(), "the beginning is not the end");
    assert!(search(&f, Search::IdSuffix("*".into())).is_empty(), "GLOB wildcards are literal");
}

#[test]
fn a_phone_search_matches_the_end_or_the_beginning_of_the_number() {
    let f = fixture();
    assert_eq!(search(&f, Search::Phone("8000".into())), ["赵六"]);
    assert_eq!(search(&f, Search::Phone("139".into())), ["赵六"]);
    assert_eq!(search(&f, Search::Phone("139 1234 8000".into())), ["赵六"]);
    assert!(search(&f, Search::Phone("1234".into())).is_empty());
}

#[test]
fn the_roster_pages_in_order_and_counts() {
    let f = fixture();
    let page = |offset| names(&f, RosterFilter { limit: 2, offset, ..Default::default() });
    assert_eq!(page(0), ["曾小明", "李四"]);
    assert_eq!(page(2), ["孙七", "赵六"]);
    assert_eq!(page(4), ["张三"]);
    assert_eq!(f.w.store.roster_count(&RosterFilter { limit: 1, ..Default::default() }).expect("count"), 5);
    let row =
        &f.w.store
            .roster(&RosterFilter { search: Some(Search::Name("zs".into())), ..Default::default() })
            .expect("row")[0];
    assert_eq!(row.id, f.zhang);
    assert_eq!(row.village_name.as_deref(), Some("青山村"));
    assert_eq!(row.categories, ["Dibao"]);
    assert_eq!(row.birth_date.map(|d| d.to_string()).as_deref(), Some("1949-12-31"));
}

#[test]
fn the_case_board_shows_cases_by_stage_worker_and_village_with_days_in_stage() {
    let mut f = fixture();
    let c1 = f.w.open_case(f.zhang);
    let c2 = f.w.open_case(f.zeng);
    let worker = f.w.a.worker.clone();
    let steps = vec![f.w.record_write(EntityKind::Screening, c2), f.w.move_stage(c2, "Assess")];
    f.w.record(&worker, steps).expect("moved");
    let deputy = f.w.a.deputy.clone();
    let worker2 = f.w.a.worker2.user_id;
    f.w.record(&deputy, vec![Write::update(EntityKind::Case, c1).set(field::case::WORKER_ID, worker2.to_string())])
        .expect("reassigned");

    let board = |filter: CaseBoardFilter| f.w.store.case_board(&filter, today()).expect("board");
    let all = board(CaseBoardFilter::default());
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].case_id, c1, "longest in its stage first");
    assert_eq!(all[0].days_in_stage, Some(100));
    assert_eq!(all[0].recipient_name.as_deref(), Some("张三"));
    assert_eq!(all[0].worker_name.as_deref(), Some("张二社工"));
    assert_eq!(all[0].village_name.as_deref(), Some("青山村"));
    assert_eq!(all[1].days_in_stage, Some(0));
    let by_stage = board(CaseBoardFilter { stage: Some(Stage::Assess), ..Default::default() });
    assert_eq!(by_stage.iter().map(|r| r.case_id).collect::<Vec<_>>(), [c2]);
    let by_worker = board(CaseBoardFilter { worker_id: Some(worker2), ..Default::default() });
    assert_eq!(by_worker.iter().map(|r| r.case_id).collect::<Vec<_>>(), [c1]);
    let by_village = board(CaseBoardFilter { village_id: Some(f.w.a.village2), ..Default::default() });
    assert_eq!(by_village.iter().map(|r| r.case_id).collect::<Vec<_>>(), [c2]);
    assert!(board(CaseBoardFilter { station_id: Some(f.w.b.id), ..Default::default() }).is_empty());
}

#[test]
fn the_board_by_stage_shows_the_first_cases_of_each_stage_with_every_stage_count() {
    let mut f = fixture();
    let (c1, c2, c3) = (f.w.open_case(f.zhang), f.w.open_case(f.zeng), f.w.open_case(f.li));
    let c4 = f.w.open_case(f.zhao);
    let worker = f.w.a.worker.clone();
    for case in [c2, c4] {
        let steps = vec![f.w.record_write(EntityKind::Screening, case), f.w.move_stage(case, "Assess")];
        f.w.record(&worker, steps).expect("moved");
    }
    let assessed = f.w.record_write(EntityKind::Assessment, c4).set(field::assessment::RISK_LEVEL, "High");
    f.w.record(&worker, vec![assessed]).expect("assessed");

    let by_stage = |filter: &CaseBoardFilter, per_stage| {
        f.w.store.case_board_by_stage(filter, per_stage, today()).expect("board by stage")
    };
    let all = CaseBoardFilter { limit: usize::MAX, ..Default::default() };
    let full = f.w.store.case_board(&all, today()).expect("board");
    let first = by_stage(&all, 1);
    assert_eq!(first.totals, [(Stage::Identify, 2), (Stage::Assess, 2)]);
    // Each stage's first card is the full board's first of that stage, as the full board has it.
    for row in &first.rows {
        let expected = full.iter().find(|r| r.stage == row.stage).expect("in the full board");
        assert_eq!(row, expected);
    }
    assert_eq!(first.rows.len(), 2);
    assert_eq!(by_stage(&CaseBoardFilter { risk_level: Some(RiskLevel::High), ..all.clone() }, 1).rows[0].case_id, c4);
    // With room for all, the same cards as the full board, for every filter.
    for filter in [
        all.clone(),
        CaseBoardFilter { risk_level: Some(RiskLevel::High), ..all.clone() },
        CaseBoardFilter { village_id: Some(f.w.a.village2), ..all.clone() },
        CaseBoardFilter { category: Some(RecipientCategory::LeftBehindChild), ..all.clone() },
        CaseBoardFilter { worker_id: Some(f.w.a.worker2.user_id), ..all.clone() },
    ] {
        let full = f.w.store.case_board(&filter, today()).expect("board");
        assert_eq!(by_stage(&filter, 50).rows, full, "{filter:?}");
    }
    assert_eq!(by_stage(&CaseBoardFilter { station_id: Some(f.w.b.id), ..all.clone() }, 5), Default::default());
    assert!([c1, c3].iter().all(|c| full.iter().any(|r| r.case_id == *c)));
}

#[test]
fn closed_cases_leave_the_board_unless_asked_for() {
    let mut f = fixture();
    let case = f.w.open_case(f.zhang);
    f.w.walk_to_closure_request(case);
    let supervisor = f.w.a.supervisor.clone();
    let writes = f.w.sign_off_writes(case);
    f.w.record(&supervisor, writes).expect("closed");
    assert!(f.w.store.case_board(&CaseBoardFilter::default(), today()).expect("board").is_empty());
    let closed = CaseBoardFilter { include_closed: true, ..Default::default() };
    assert_eq!(f.w.store.case_board(&closed, today()).expect("board").len(), 1);
    let closed = CaseBoardFilter { stage: Some(Stage::Closed), ..Default::default() };
    assert_eq!(f.w.store.case_board(&closed, today()).expect("board").len(), 1);
}

#[test]
fn the_case_board_shows_the_latest_risk_level_and_filters_by_risk_and_category() {
    let mut f = fixture();
    let (c1, c2) = (f.w.open_case(f.zhang), f.w.open_case(f.zeng));
    let worker = f.w.a.worker.clone();
    let assess = |f: &Fixture, case: Uuid, on: i64, risk: &str| {
        f.w.record_write(EntityKind::Assessment, case)
            .set(field::assessment::ASSESSED_ON, days_ago(on))
            .set(field::assessment::RISK_LEVEL, risk)
    };
    // 张三: assessed High, then Low later (recorded first): the later assessment counts.
    let writes = vec![assess(&f, c1, 5, "Low"), assess(&f, c1, 20, "High"), assess(&f, c2, 3, "Critical")];
    f.w.record(&worker, writes).expect("assessed");

    let board = |filter: CaseBoardFilter| f.w.store.case_board(&filter, today()).expect("board");
    let risk_of =
        |case: Uuid| board(CaseBoardFilter::default()).into_iter().find(|r| r.case_id == case).map(|r| r.risk_level);
    assert_eq!(risk_of(c1), Some(Some(RiskLevel::Low)));
    assert_eq!(risk_of(c2), Some(Some(RiskLevel::Critical)));
    let ids = |filter| board(filter).into_iter().map(|r| r.case_id).collect::<Vec<_>>();
    assert_eq!(ids(CaseBoardFilter { risk_level: Some(RiskLevel::Critical), ..Default::default() }), [c2]);
    assert!(ids(CaseBoardFilter { risk_level: Some(RiskLevel::High), ..Default::default() }).is_empty());
    let children = CaseBoardFilter { category: Some(RecipientCategory::LeftBehindChild), ..Default::default() };
    assert_eq!(ids(children), [c2]);
    assert_eq!(ids(CaseBoardFilter { category: Some(RecipientCategory::Dibao), ..Default::default() }), [c1]);
}

#[test]
fn station_counts_give_visits_in_the_period_by_worker_and_village_and_open_cases_by_stage() {
    let mut f = fixture();
    let worker = f.w.a.worker.clone();
    let writes = vec![
        visit(&f, f.zhang, 2, false),
        visit(&f, f.li, 3, false),
        visit(&f, f.zeng, 4, false).set(field::visit::VILLAGE_ID, f.w.a.village2.to_string()),
        visit(&f, f.zhang, 60, false),
    ];
    f.w.record(&worker, writes).expect("visits");
    f.w.open_case(f.zhang);
    let waiting = f.w.open_case(f.zeng);
    f.w.walk_to_closure_request(waiting);

    let counts = f.w.store.station_counts(f.w.a.id, today() - chrono::Duration::days(30), today()).expect("counts");
    let by_worker: Vec<_> = counts.visits_by_worker.iter().map(|c| (c.name.as_deref(), c.count)).collect();
    assert_eq!(by_worker, [(Some("张社工"), 3)], "the visit of 60 days ago is outside the period");
    let by_village: Vec<_> = counts.visits_by_village.iter().map(|c| (c.name.as_deref(), c.count)).collect();
    assert_eq!(by_village, [(Some("青山村"), 2), (Some("绿水村"), 1)]);
    assert_eq!(counts.open_by_stage, [(Stage::Identify, 1), (Stage::FollowUp, 1)]);
    assert_eq!(counts.closures_waiting, 1);
    let other = f.w.store.station_counts(f.w.b.id, today() - chrono::Duration::days(30), today()).expect("counts");
    assert!(other.visits_by_worker.is_empty() && other.open_by_stage.is_empty() && other.closures_waiting == 0);
}

fn visit(f: &Fixture, recipient: Uuid, days: i64, follow_up: bool) -> Write {
    Write::create(EntityKind::Visit, Uuid::now_v7())
        .set(field::visit::STATION_ID, f.w.a.id.to_string())
        .set(field::visit::VILLAGE_ID, f.w.a.village.to_string())
        .set(field::visit::RECIPIENT_ID, recipient.to_string())
        .set(field::visit::WORKER_ID, f.w.a.worker.user_id.to_string())
        .set(field::visit::VISITED_ON, days_ago(days))
        .set(field::visit::OBSERVATIONS, format!("{days}天前走访"))
        .set(field::visit::FOLLOW_UP_NEEDED, follow_up)
}

#[test]
fn overdue_work_lists_stale_follow_ups_goals_past_their_date_and_visits_nobody_followed_up() {
    let mut f = fixture();
    let worker = f.w.a.worker.clone();
    // A case in follow-up whose last follow-up visit was 45 days ago: due 15 days ago.
    let case = f.w.open_case(f.zhang);
    let steps = vec![
        vec![f.w.record_write(EntityKind::Screening, case), f.w.move_stage(case, "Assess")],
        vec![f.w.record_write(EntityKind::Assessment, case), f.w.move_stage(case, "Plan")],
        vec![
            f.w.record_write(EntityKind::Goal, case).set(field::goal::TARGET_DATE, days_ago(5)),
            f.w.move_stage(case, "Coordinate"),
        ],
        vec![f.w.move_stage(case, "Intervene")],
        vec![f.w.record_write(EntityKind::Intervention, case), f.w.move_stage(case, "FollowUp")],
        vec![f.w.record_write(EntityKind::FollowUp, case).set(field::follow_up::VISITED_ON, days_ago(45))],
    ];
    for step in steps {
        f.w.record(&worker, step).expect("step");
    }
    // 李四's latest visit, 20 days ago, asked for follow-up: due 6 days ago.
    let w1 = visit(&f, f.li, 30, false);
    let w2 = visit(&f, f.li, 20, true);
    // 曾小明's asked for follow-up, but someone went back since.
    let w3 = visit(&f, f.zeng, 25, true);
    let w4 = visit(&f, f.zeng, 3, false);
    // 赵六's asked 10 days ago: not due yet.
    let w5 = visit(&f, f.zhao, 10, true);
    f.w.record(&worker, vec![w1, w2, w3, w4, w5]).expect("visits");

    let overdue = f.w.store.overdue_follow_ups(&CaseBoardFilter::default(), today()).expect("overdue");
    let summary: Vec<(OverdueReason, Option<Uuid>, i64)> =
        overdue.iter().map(|o| (o.reason, o.recipient_id, o.days_overdue)).collect();
    assert_eq!(
        summary,
        [
            (OverdueReason::FollowUpDue, Some(f.zhang), 15),
            (OverdueReason::VisitFollowUpDue, Some(f.li), 6),
            (OverdueReason::GoalPastTarget, Some(f.zhang), 5),
        ]
    );
    assert_eq!(overdue[0].worker_name.as_deref(), Some("张社工"));
    assert_eq!(overdue[0].case_id, Some(case));
    // The board's marks count the same cases, without their names.
    let station = f.w.a.id;
    assert_eq!(f.w.store.overdue_case_ids(station, today()).expect("overdue ids"), [case].into());
    assert!(f.w.store.overdue_case_ids(f.w.b.id, today()).expect("overdue ids").is_empty());

    // Filters: a stage leaves out the visits; another worker has nothing overdue; paging.
    let stage = CaseBoardFilter { stage: Some(Stage::FollowUp), ..Default::default() };
    assert_eq!(f.w.store.overdue_follow_ups(&stage, today()).expect("overdue").len(), 2);
    let other = CaseBoardFilter { worker_id: Some(f.w.a.worker2.user_id), ..Default::default() };
    assert!(f.w.store.overdue_follow_ups(&other, today()).expect("overdue").is_empty());
    let second = CaseBoardFilter { limit: 1, offset: 1, ..Default::default() };
    let page = f.w.store.overdue_follow_ups(&second, today()).expect("overdue");
    assert_eq!(page.iter().map(|o| o.reason).collect::<Vec<_>>(), [OverdueReason::VisitFollowUpDue]);

    // A visit to 李四 today clears his entry; evaluating the goal clears the goal's.
    let w6 = visit(&f, f.li, 0, false);
    f.w.record(&worker, vec![w6]).expect("visit");
    let overdue = f.w.store.overdue_follow_ups(&CaseBoardFilter::default(), today()).expect("overdue");
    assert!(overdue.iter().all(|o| o.reason != OverdueReason::VisitFollowUpDue));
}

#[test]
fn the_ledger_lists_everything_done_for_a_recipient_newest_first() {
    let mut f = fixture();
    let worker = f.w.a.worker.clone();
    let case = f.w.open_case(f.zhang);
    f.w.record(&worker, vec![f.w.record_write(EntityKind::Screening, case)]).expect("screening");
    let v_old = visit(&f, f.zhang, 120, false);
    let v_new = visit(&f, f.zhang, 2, true);
    let other = visit(&f, f.li, 1, false);
    let referral = Write::create(EntityKind::Referral, Uuid::now_v7())
        .set(field::referral::STATION_ID, f.w.a.id.to_string())
        .set(field::referral::RECIPIENT_ID, f.zhang.to_string())
        .set(field::referral::DIRECTION, "Outbound")
        .set(field::referral::COUNTERPART, "Health")
        .set(field::referral::REASON, "需要慢病随访")
        .set(field::referral::REFERRED_ON, days_ago(50))
        .set(field::referral::OUTCOME, "Pending");
    f.w.record(&worker, vec![v_old, v_new, other, referral]).expect("writes");

    let ledger = f.w.store.ledger(f.zhang, 50).expect("ledger");
    let kinds: Vec<(EntityKind, String)> = ledger.iter().map(|e| (e.kind, e.date.to_string())).collect();
    assert_eq!(
        kinds,
        [
            (EntityKind::Visit, days_ago(2)),
            (EntityKind::Referral, days_ago(50)),
            (EntityKind::Screening, days_ago(90)),
            (EntityKind::Case, days_ago(100)),
            (EntityKind::Visit, days_ago(120)),
        ]
    );
    assert_eq!(ledger[0].summary, "2天前走访");
    assert_eq!(ledger[0].author_name.as_deref(), Some("张社工"));
    assert_eq!(ledger[2].case_id, Some(case));
    assert_eq!(f.w.store.ledger(f.zhang, 2).expect("ledger").len(), 2);
}

#[test]
fn small_kinds_are_listed_per_station() {
    let f = fixture();
    let villages = f.w.store.list(EntityKind::Village, Some(f.w.a.id)).expect("villages");
    assert_eq!(villages.len(), 2);
    let users = f.w.store.list(EntityKind::User, Some(f.w.a.id)).expect("users");
    assert_eq!(users.len(), 4, "the station's three and its supervisor");
    assert_eq!(f.w.store.list(EntityKind::Station, None).expect("stations").len(), 2);
}
