//! A case walked from 识别对象 to a closure request through the case use cases only, in process:
//! at each stage the page says what is missing, the stage's form supplies it, and the case moves
//! on. The walk itself is `case_world::CaseWorld::walk_to_closure_request`, for other tests.

mod case_world;

use case_world::{CaseWorld, form, values};
use contract::{CaseRecordKind, StepState};
use domain::case::{ClosureStatus, Stage};
use serde_json::json;

#[test]
fn a_case_walks_from_identification_to_a_closure_request_through_the_use_cases() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let stages = [
        (Stage::Identify, CaseRecordKind::Screening, "needs_screening"),
        (Stage::Assess, CaseRecordKind::Assessment, "needs_assessment"),
        (Stage::Plan, CaseRecordKind::Goal, "needs_goal"),
        (Stage::Coordinate, CaseRecordKind::ResourceLink, ""),
        (Stage::Intervene, CaseRecordKind::Intervention, "needs_intervention"),
    ];
    for (stage, kind, needed) in stages {
        let page = w.page(case_id);
        assert_eq!(page.case.stage, stage);
        assert_eq!(page.steps[stage.index()].state, StepState::Current);
        let codes: Vec<&str> = page.missing.iter().map(|m| m.code.as_str()).collect();
        let expected: Vec<&str> = [needed].into_iter().filter(|c| !c.is_empty()).collect();
        assert_eq!(codes, expected, "{stage:?}");
        let saved = w.save(case_id, kind, form(kind), None).expect("the stage's form");
        assert!(saved.page.missing.is_empty(), "{stage:?}: {:?}", saved.page.missing);
        let next = stage.next().expect("a next stage");
        let page = w.move_to(case_id, next).expect("moves on");
        assert_eq!((page.case.stage, page.case.stage_entered_on), (next, Some(case_world::today())));
    }

    let page = w.page(case_id);
    assert_eq!(page.case.stage, Stage::FollowUp);
    let codes: Vec<&str> = page.missing.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, ["needs_follow_up", "goals_not_evaluated"]);
    w.save(case_id, CaseRecordKind::FollowUp, form(CaseRecordKind::FollowUp), None).expect("a follow-up visit");
    let goal = w.page(case_id).records.goals[0].id;
    let page = w
        .update(CaseRecordKind::Goal, goal, values(json!({ "evaluation": "Achieved", "evaluation_notes": "已稳定" })))
        .expect("the goal evaluated");
    assert!(page.missing.is_empty() && page.may_request_closure);

    let page = w.request(case_id, "服务目标均已达成，申请结案").expect("closure requested");
    assert_eq!(page.case.closure_status, ClosureStatus::Requested);
    assert_eq!(page.case.closure_summary.as_deref(), Some("服务目标均已达成，申请结案"));
    let held: Vec<usize> = CaseRecordKind::ALL.iter().map(|k| page.records.of(*k).len()).collect();
    assert_eq!(held, [1, 1, 1, 1, 1, 1]);
    assert!(w.store.pending_count().expect("outbox") > 0);
}

#[test]
fn the_walk_fixture_ends_with_a_closure_request_every_stage_filled() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let page = w.walk_to_closure_request(case_id);
    assert_eq!((page.case.stage, page.case.closure_status), (Stage::FollowUp, ClosureStatus::Requested));
    assert!(CaseRecordKind::ALL.iter().all(|k| !page.records.of(*k).is_empty()));
    assert_eq!(page.case.plan_strategy.as_deref(), Some("陪伴、资源链接与定期回访"));
    assert!(page.records.goals.iter().all(|g| g.fields.contains_key("evaluation")));
}
