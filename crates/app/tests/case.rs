//! The case page and the case pipeline's use cases (`app::case`): each test names the behaviour
//! the worker (or the supervisor) sees.

mod case_world;

use app::case::{case_page, open_case, set_plan_strategy};
use case_world::{CaseWorld, code, days_ago, form, refusal, today, values};
use contract::{CaseRecordKind, StepState, codes};
use domain::Labelled;
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use serde_json::json;
use uuid::Uuid;

/// The codes of what the page says is missing, with the form that supplies each.
fn missing(page: &contract::CasePage) -> Vec<(String, Option<CaseRecordKind>)> {
    page.missing.iter().map(|m| (m.code.clone(), m.record_kind)).collect()
}

fn states(page: &contract::CasePage) -> Vec<StepState> {
    page.steps.iter().map(|s| s.state).collect()
}

#[test]
fn a_case_opens_at_identify_assigned_to_the_signed_in_worker() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let page = w.page(case_id);
    assert_eq!(page.case.stage, Stage::Identify);
    assert_eq!(page.case.closure_status, ClosureStatus::Open);
    assert_eq!(page.case.worker.as_ref().map(|u| (u.id, u.name.as_str())), Some((w.worker.user_id, "张社工")));
    assert_eq!(page.case.opened_on, Some(days_ago(30)));
    assert_eq!(page.case.stage_entered_on, Some(days_ago(30)));
    assert_eq!(page.recipient.name, "张三");
    assert_eq!(page.recipient.village.as_ref().map(|v| v.name.as_str()), Some("青山村"));
    assert_eq!(page.next_stage, Some(Stage::Assess));
    assert!(page.may_edit && !page.may_request_closure);
    assert!(page.latest_decision.is_none());
}

#[test]
fn a_case_opened_without_a_date_opens_today() {
    let mut w = CaseWorld::new();
    let (worker, recipient, at) = (w.worker.clone(), w.recipient, w.at());
    let opened = open_case(&mut w.store, &worker, recipient, None, at).expect("opened");
    assert_eq!(w.page(opened.case_id).case.opened_on, Some(today()));
}

#[test]
fn a_case_cannot_be_opened_for_a_recipient_not_held_here() {
    let mut w = CaseWorld::new();
    let (worker, at) = (w.worker.clone(), w.at());
    assert_eq!(code(open_case(&mut w.store, &worker, Uuid::now_v7(), None, at)), codes::NOT_FOUND);
}

#[test]
fn a_case_cannot_be_opened_on_a_day_still_to_come() {
    let mut w = CaseWorld::new();
    let (worker, recipient, at) = (w.worker.clone(), w.recipient, w.at());
    let error = refusal(open_case(&mut w.store, &worker, recipient, Some(today().succ_opt().expect("day")), at));
    assert_eq!(error.code, "date_in_future");
}

#[test]
fn a_supervisor_cannot_open_a_case() {
    let mut w = CaseWorld::new();
    let (supervisor, recipient, at) = (w.supervisor.clone(), w.recipient, w.at());
    assert_eq!(code(open_case(&mut w.store, &supervisor, recipient, None, at)), "role_cannot");
}

#[test]
fn the_stepper_shows_seven_steps_done_up_to_the_current_stage() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let page = w.page(case_id);
    let stages: Vec<Stage> = page.steps.iter().map(|s| s.stage).collect();
    assert_eq!(stages, Stage::ALL.to_vec());
    assert_eq!(states(&page)[..2], [StepState::Current, StepState::Upcoming]);
    w.add(case_id, CaseRecordKind::Screening);
    w.move_to(case_id, Stage::Assess).expect("moved");
    w.add(case_id, CaseRecordKind::Assessment);
    let page = w.move_to(case_id, Stage::Plan).expect("moved");
    use StepState::*;
    assert_eq!(states(&page), [Done, Done, Current, Upcoming, Upcoming, Upcoming, Upcoming]);
}

#[test]
fn what_is_missing_before_the_next_stage_is_said_plainly_with_its_form() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let page = w.page(case_id);
    assert_eq!(missing(&page), [("needs_screening".to_string(), Some(CaseRecordKind::Screening))]);
    assert_eq!(page.missing[0].message_zh, "请先记录识别对象的途径，再分析需求");
    assert_eq!(page.missing[0].message_en, "Record how the person was identified before assessing");
    let saved = w.save(case_id, CaseRecordKind::Screening, form(CaseRecordKind::Screening), None).expect("saved");
    assert!(saved.page.missing.is_empty(), "{:?}", saved.page.missing);
    assert_eq!(saved.page.records.screenings.len(), 1);
}

#[test]
fn moving_on_without_the_stage_record_is_refused_saying_what_is_missing() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let error = refusal(w.move_to(case_id, Stage::Assess));
    assert_eq!(error.code, "needs_screening");
    assert_eq!(error.message_zh, "请先记录识别对象的途径，再分析需求");
    assert!(error.message_en.to_lowercase().contains("record how the person was identified"), "{error:?}");
    assert_eq!(w.page(case_id).case.stage, Stage::Identify);
}

#[test]
fn a_case_moves_forward_one_stage_at_a_time_and_back_to_any() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.add(case_id, CaseRecordKind::Screening);
    assert_eq!(code(w.move_to(case_id, Stage::Plan)), "skips_stages");
    w.move_to(case_id, Stage::Assess).expect("forward");
    w.add(case_id, CaseRecordKind::Assessment);
    w.move_to(case_id, Stage::Plan).expect("forward");
    let page = w.move_to(case_id, Stage::Identify).expect("back");
    assert_eq!(page.case.stage, Stage::Identify);
    assert_eq!(page.case.stage_entered_on, Some(today()));
    // Closing is the supervisor's decision, never a move of the worker's.
    assert_eq!(code(w.move_to(case_id, Stage::Closed)), "role_cannot");
}

#[test]
fn a_field_error_names_the_field_in_both_languages() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let mut fields = form(CaseRecordKind::Assessment);
    fields.insert("risk_level".into(), json!("Extreme"));
    let error = refusal(w.save(case_id, CaseRecordKind::Assessment, fields, None));
    assert_eq!(error.code, "unknown_value");
    assert_eq!(error.field.as_deref(), Some("risk_level"));
    assert_eq!(error.message_zh, "风险等级不是可选的值");
    assert_eq!(error.message_en, "Risk level is not one of the allowed values");

    let mut fields = form(CaseRecordKind::Assessment);
    fields.remove("needs_summary");
    let error = refusal(w.save(case_id, CaseRecordKind::Assessment, fields, None));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some("needs_summary")));
    assert_eq!(error.message_zh, "需求小结必须填写");

    let mut fields = form(CaseRecordKind::Screening);
    fields.insert("found_on".into(), json!(today().succ_opt().expect("day").to_string()));
    let error = refusal(w.save(case_id, CaseRecordKind::Screening, fields, None));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("date_in_future", Some("found_on")));
    assert!(w.page(case_id).records.screenings.is_empty() && w.page(case_id).records.assessments.is_empty());
}

#[test]
fn a_field_the_form_does_not_have_is_refused_at_that_field() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let mut fields = form(CaseRecordKind::Goal);
    fields.insert("priority".into(), json!("high"));
    let error = refusal(w.save(case_id, CaseRecordKind::Goal, fields, None));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("unknown_field", Some("priority")));
}

#[test]
fn the_case_the_station_and_the_worker_of_a_record_are_not_the_forms_to_set() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    for name in ["case_id", "station_id", "worker_id", "amends"] {
        let mut fields = form(CaseRecordKind::Intervention);
        fields.insert(name.into(), json!(Uuid::now_v7().to_string()));
        assert_eq!(code(w.save(case_id, CaseRecordKind::Intervention, fields, None)), codes::BAD_REQUEST, "{name}");
    }
}

#[test]
fn records_are_grouped_by_kind_in_the_order_recorded_with_who_recorded_them() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let first = w.add(case_id, CaseRecordKind::Goal);
    w.add(case_id, CaseRecordKind::Screening);
    let mut fields = form(CaseRecordKind::Goal);
    fields.insert("description".into(), json!("协助申请特困供养"));
    let second = w.save(case_id, CaseRecordKind::Goal, fields, None).expect("saved").id;
    let intervention = w.add(case_id, CaseRecordKind::Intervention);
    let page = w.page(case_id);
    let goals: Vec<Uuid> = page.records.goals.iter().map(|g| g.id).collect();
    assert_eq!(goals, [first, second]);
    assert_eq!(page.records.goals[1].fields["description"], json!("协助申请特困供养"));
    assert_eq!(page.records.goals[1].fields["case_id"], json!(case_id.to_string()));
    assert_eq!(page.records.screenings.len(), 1);
    assert_eq!(page.records.interventions.iter().map(|r| r.id).collect::<Vec<_>>(), [intervention]);
    assert!(page.records.assessments.is_empty() && page.records.follow_ups.is_empty());
    let recorded_by = page.records.interventions[0].recorded_by.as_ref().map(|u| u.name.as_str());
    assert_eq!(recorded_by, Some("张社工"));
    assert_eq!(page.records.interventions[0].fields["worker_id"], json!(w.worker.user_id.to_string()));
    for kind in CaseRecordKind::ALL {
        assert!(page.records.of(kind).iter().all(|r| r.kind == kind), "{kind:?}");
    }
}

#[test]
fn an_intervention_is_corrected_by_an_amendment_which_marks_it_and_links_both() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let original = w.add(case_id, CaseRecordKind::Intervention);
    // Interventions are never edited.
    let edit = values(json!({ "notes": "改过的记录" }));
    let error = refusal(w.update(CaseRecordKind::Intervention, original, edit));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("immutable", Some("notes")));
    assert_eq!(error.message_zh, "服务记录记录后不能修改");
    let mut fields = form(CaseRecordKind::Intervention);
    fields.insert("duration_minutes".into(), json!(60));
    let correction = w.save(case_id, CaseRecordKind::Intervention, fields, Some(original)).expect("amended");
    let interventions = &correction.page.records.interventions;
    assert_eq!(interventions.len(), 2);
    assert_eq!((interventions[0].id, interventions[0].corrected_by), (original, Some(correction.id)));
    assert_eq!((interventions[1].id, interventions[1].amends), (correction.id, Some(original)));
    assert_eq!(interventions[1].corrected_by, None);
}

#[test]
fn an_amendment_names_a_record_of_its_own_kind_and_case() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let other_case = w.open();
    let elsewhere = w.add(other_case, CaseRecordKind::FollowUp);
    let here = w.add(case_id, CaseRecordKind::Intervention);
    let follow_up = form(CaseRecordKind::FollowUp);
    assert_eq!(code(w.save(case_id, CaseRecordKind::FollowUp, follow_up.clone(), Some(elsewhere))), codes::BAD_REQUEST);
    let error = refusal(w.save(case_id, CaseRecordKind::FollowUp, follow_up, Some(here)));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("unknown_reference", Some("amends")));
    // Only interventions and follow-up visits amend.
    let error = refusal(w.save(case_id, CaseRecordKind::Goal, form(CaseRecordKind::Goal), Some(here)));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("unknown_field", Some("amends")));
}

#[test]
fn a_goal_is_evaluated_and_a_resource_link_followed_up_by_editing_them() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let goal = w.add(case_id, CaseRecordKind::Goal);
    let link = w.add(case_id, CaseRecordKind::ResourceLink);
    let page = w
        .update(CaseRecordKind::Goal, goal, values(json!({ "evaluation": "PartlyAchieved", "evaluation_notes": "" })))
        .expect("evaluated");
    assert_eq!(page.records.goals[0].fields.get("evaluation"), Some(&json!("PartlyAchieved")));
    assert_eq!(page.records.goals[0].fields.get("evaluation_notes"), None);
    let page = w.update(CaseRecordKind::ResourceLink, link, values(json!({ "status": "Secured" }))).expect("edited");
    assert_eq!(page.records.resource_links[0].fields["status"], json!("Secured"));
    let error = refusal(w.update(CaseRecordKind::Goal, goal, values(json!({ "evaluation": "Maybe" }))));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("unknown_value", Some("evaluation")));
    assert_eq!(code(w.update(CaseRecordKind::Goal, Uuid::now_v7(), values(json!({})))), codes::NOT_FOUND);
}

#[test]
fn at_follow_up_everything_a_closure_request_still_needs_is_listed() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    for (kind, next) in [
        (CaseRecordKind::Screening, Stage::Assess),
        (CaseRecordKind::Assessment, Stage::Plan),
        (CaseRecordKind::Goal, Stage::Coordinate),
        (CaseRecordKind::ResourceLink, Stage::Intervene),
        (CaseRecordKind::Intervention, Stage::FollowUp),
    ] {
        w.add(case_id, kind);
        w.move_to(case_id, next).expect("moved on");
    }
    let page = w.page(case_id);
    assert_eq!(page.next_stage, None);
    assert_eq!(
        missing(&page),
        [
            ("needs_follow_up".to_string(), Some(CaseRecordKind::FollowUp)),
            ("goals_not_evaluated".to_string(), Some(CaseRecordKind::Goal)),
        ]
    );
    assert_eq!(page.missing[1].message_zh, "还有1个目标未评估，不能申请结案");
    assert!(!page.may_request_closure);
    assert_eq!(code(w.request(case_id, "申请结案")), "needs_follow_up");
    w.add(case_id, CaseRecordKind::FollowUp);
    assert_eq!(code(w.request(case_id, "申请结案")), "goals_not_evaluated");
    let goal = w.page(case_id).records.goals[0].id;
    let page = w.update(CaseRecordKind::Goal, goal, values(json!({ "evaluation": "Achieved" }))).expect("evaluated");
    assert!(page.missing.is_empty() && page.may_request_closure, "{:?}", page.missing);
}

#[test]
fn a_closure_request_needs_the_workers_summary() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    w.return_closure(case_id, "请补充回访记录");
    let error = refusal(w.request(case_id, "  "));
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some("closure_summary")));
    assert_eq!(w.page(case_id).case.closure_status, ClosureStatus::Returned);
}

#[test]
fn a_pending_closure_freezes_the_case_until_the_supervisor_decides() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let page = w.walk_to_closure_request(case_id);
    assert_eq!(page.case.closure_status, ClosureStatus::Requested);
    assert_eq!(page.case.closure_requested_on, Some(today()));
    assert_eq!(missing(&page), [("closure_pending".to_string(), None)]);
    assert!(!page.may_edit && !page.may_request_closure);
    assert_eq!(
        code(w.save(case_id, CaseRecordKind::FollowUp, form(CaseRecordKind::FollowUp), None)),
        "closure_pending"
    );
    assert_eq!(code(w.move_to(case_id, Stage::Intervene)), "closure_pending");
    assert_eq!(code(w.request(case_id, "再次申请")), "closure_pending");
}

#[test]
fn a_returned_closure_shows_the_supervisors_comments_to_the_worker() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    w.return_closure(case_id, "请补充最近一次回访的情况");
    let page = w.page(case_id);
    assert_eq!(page.case.closure_status, ClosureStatus::Returned);
    assert_eq!(page.case.closure_comments.as_deref(), Some("请补充最近一次回访的情况"));
    let decision = page.latest_decision.expect("the return");
    assert_eq!(decision.decision, ClosureDecisionKind::Returned);
    assert_eq!(decision.comments.as_deref(), Some("请补充最近一次回访的情况"));
    assert_eq!(decision.supervisor.map(|s| s.name), Some("陈督导".to_string()));
    assert_eq!(decision.decided_at.map(|t| t.date_naive()), Some(today()));
    assert_eq!(decision.seal, None);
    // The worker can act on it: add what was asked, and request closure again.
    assert!(page.may_edit && page.may_request_closure);
    w.add(case_id, CaseRecordKind::FollowUp);
    let page = w.request(case_id, "已补充回访，再次申请结案").expect("requested again");
    assert_eq!(page.case.closure_status, ClosureStatus::Requested);
}

#[test]
fn a_signed_off_case_is_closed_with_its_seal_verified() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    w.sign_off(case_id);
    let page = w.page(case_id);
    assert_eq!((page.case.stage, page.case.closure_status), (Stage::Closed, ClosureStatus::SignedOff));
    assert_eq!(states(&page).last(), Some(&StepState::Current));
    assert!(states(&page)[..6].iter().all(|s| *s == StepState::Done));
    assert_eq!(missing(&page), [("case_closed".to_string(), None)]);
    assert!(!page.may_edit && !page.may_request_closure && page.next_stage.is_none());
    let decision = page.latest_decision.expect("the sign-off");
    assert_eq!(decision.decision, ClosureDecisionKind::SignedOff);
    let seal = decision.seal.expect("a seal");
    assert!(seal.verified && seal.code.is_none(), "{seal:?}");
    assert_eq!(code(w.save(case_id, CaseRecordKind::FollowUp, form(CaseRecordKind::FollowUp), None)), "case_closed");
}

#[test]
fn a_seal_that_no_longer_matches_the_case_is_shown_as_broken() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    w.walk_to_closure_request(case_id);
    w.sign_off(case_id);
    // A record changed behind the rules' back (as a tampered file would hold it).
    let goal = w.page(case_id).records.goals[0].id;
    w.store
        .connection()
        .execute("UPDATE goals SET evaluation = 'NotAchieved' WHERE id = ?1", [goal.to_string()])
        .expect("tampered");
    let seal = w.page(case_id).latest_decision.and_then(|d| d.seal).expect("a seal");
    assert!(!seal.verified);
    assert_eq!(seal.code.as_deref(), Some("case_tampered"));
    assert_eq!(seal.message_zh, "个案在签署后被修改");
}

#[test]
fn only_those_the_policy_allows_see_the_case_and_only_its_worker_edits_it() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    assert_eq!(code(w.page_for(&w.other_worker, case_id)), "not_assigned");
    let supervisor_view = w.page_for(&w.supervisor, case_id).expect("the supervisor reads it");
    assert!(!supervisor_view.may_edit && !supervisor_view.may_request_closure);
    let deputy_view = w.page_for(&w.deputy, case_id).expect("the deputy head reads it");
    assert_eq!(deputy_view.case.id, case_id);
    let (other, at) = (w.other_worker.clone(), w.at());
    let result = app::case::save_case_record(
        &mut w.store,
        &other,
        case_id,
        CaseRecordKind::Screening,
        form(CaseRecordKind::Screening),
        None,
        at,
    );
    assert_eq!(code(result), "not_assigned");
    assert_eq!(code(case_page(&w.store, &w.worker, Uuid::now_v7())), codes::NOT_FOUND);
}

#[test]
fn the_plan_strategy_is_written_on_the_case() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    let (worker, at) = (w.worker.clone(), w.at());
    let page = set_plan_strategy(&mut w.store, &worker, case_id, "链接低保与志愿者资源", at).expect("written");
    assert_eq!(page.case.plan_strategy.as_deref(), Some("链接低保与志愿者资源"));
    assert_eq!(page.case.fields["plan_strategy"], json!("链接低保与志愿者资源"));
    let (worker, at) = (w.worker.clone(), w.at());
    let page = set_plan_strategy(&mut w.store, &worker, case_id, "", at).expect("cleared");
    assert_eq!(page.case.plan_strategy, None);
}

#[test]
fn a_case_reassigned_away_says_to_whom_in_the_file_and_on_its_page() {
    let mut w = CaseWorld::new();
    let case_id = w.open();
    // The server takes the case off this worker's laptop: the deputy head gave it to 李社工.
    let to = w.other_worker.user_id;
    let evict = domain::change::Incoming::Evict {
        entity: domain::entity::EntityKind::Case,
        entity_id: case_id,
        reassigned_to: Some(to),
    };
    w.store.apply_pulled(&[(1, evict)], 1).expect("evicted");

    let file = app::recipient::recipient_file(&w.store, w.recipient).expect("file");
    assert!(file.open_cases.is_empty());
    let moved: Vec<_> = file.moved_cases.iter().map(|m| (m.case_id, m.stage, m.reassigned_to.clone())).collect();
    assert_eq!(moved, [(case_id, Some(Stage::Identify), Some("李社工".to_string()))]);
    let said = refusal(w.page_for(&w.worker.clone(), case_id));
    assert_eq!(said.code, codes::CASE_REASSIGNED);
    assert!(said.message_zh.contains("李社工") && said.message_en.contains("reassigned"), "{said:?}");
    // Any action on it says the same.
    assert_eq!(code(w.request(case_id, "结案")), codes::CASE_REASSIGNED);
}
