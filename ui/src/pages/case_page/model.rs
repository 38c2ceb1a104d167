//! The case page's pure parts, tested on the host: element ids, the stepper's steps, which stage
//! records each stage's forms hold and which fields they show, where each missing item leads,
//! the "move to the next stage" button, the closure banner, and the values each form sends.

use std::sync::OnceLock;

use contract::{
    CasePage, CaseRecordKind, CaseRecordView, CaseRecords, ClosureDecisionView, FieldValues, Language, MissingItem,
    StepState,
};
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::entity::{CASE, FieldSpec, FieldType, GOAL, field};
use domain::validate::normalize_field;
use serde_json::Value;
use uuid::Uuid;

use crate::form::{ShownError, Values, control_id};
use crate::i18n::vocabulary_label;

/// A stage as element ids name it: `identify` … `follow_up`, `closed`.
pub fn stage_slug(stage: Stage) -> &'static str {
    match stage {
        Stage::Identify => "identify",
        Stage::Assess => "assess",
        Stage::Plan => "plan",
        Stage::Coordinate => "coordinate",
        Stage::Intervene => "intervene",
        Stage::FollowUp => "follow_up",
        Stage::Closed => "closed",
    }
}

/// A record kind as element ids name it: its serde name (`resource_link`, `follow_up`).
pub fn kind_slug(kind: CaseRecordKind) -> &'static str {
    match kind {
        CaseRecordKind::Screening => "screening",
        CaseRecordKind::Assessment => "assessment",
        CaseRecordKind::Goal => "goal",
        CaseRecordKind::ResourceLink => "resource_link",
        CaseRecordKind::Intervention => "intervention",
        CaseRecordKind::FollowUp => "follow_up",
    }
}

/// The stepper's button of a stage: `step-identify`.
pub fn step_id(stage: Stage) -> String {
    format!("step-{}", stage_slug(stage))
}

/// The panel a step shows (its records and forms): `stage-identify`.
pub fn panel_id(stage: Stage) -> String {
    format!("stage-{}", stage_slug(stage))
}

/// The form adding a record of a kind: `record-form-goal`; its controls' ids start with
/// [`form_prefix`] (`#goal-description`, `#goal-save`).
pub fn form_id(kind: CaseRecordKind) -> String {
    format!("record-form-{}", kind_slug(kind))
}

pub fn form_prefix(kind: CaseRecordKind) -> String {
    format!("{}-", kind_slug(kind))
}

/// The list of a kind's records: `case-records-goal`.
pub fn records_id(kind: CaseRecordKind) -> String {
    format!("case-records-{}", kind_slug(kind))
}

/// The form correcting one record (an amendment, or an edit of a record that may change):
/// `correct-form`, its controls `#correct-<field>`.
pub const CORRECT_FORM_ID: &str = "correct-form";
pub const CORRECT_PREFIX: &str = "correct-";
/// The form evaluating one goal at follow-up: `evaluate-form`, its controls `#evaluate-<field>`.
pub const EVALUATE_FORM_ID: &str = "evaluate-form";
pub const EVALUATE_PREFIX: &str = "evaluate-";
/// The plan's strategy: `plan-strategy-form`, its text `#strategy-plan_strategy`.
pub const STRATEGY_FORM_ID: &str = "plan-strategy-form";
pub const STRATEGY_PREFIX: &str = "strategy-";

/// The record kinds a stage's forms add, in order.
pub fn kinds_at(stage: Stage) -> Vec<CaseRecordKind> {
    CaseRecordKind::ALL.into_iter().filter(|k| k.stage() == stage).collect()
}

/// One step of the stepper as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepView {
    pub stage: Stage,
    pub state: StepState,
    /// The step whose panel is shown.
    pub selected: bool,
    /// How many records its stage holds (corrected ones not counted twice).
    pub records: usize,
}

/// The stage whose panel shows: the one the user picked, else the case's current stage.
pub fn shown_stage(page: &CasePage, picked: Option<Stage>) -> Stage {
    picked.unwrap_or(page.case.stage)
}

/// The stepper's steps, in pipeline order.
pub fn step_views(page: &CasePage, picked: Option<Stage>) -> Vec<StepView> {
    let shown = shown_stage(page, picked);
    page.steps
        .iter()
        .map(|step| StepView {
            stage: step.stage,
            state: step.state,
            selected: step.stage == shown,
            records: kinds_at(step.stage).iter().map(|k| standing(page.records.of(*k)).count()).sum(),
        })
        .collect()
}

/// The records that stand: those no later record corrects.
pub fn standing(records: &[CaseRecordView]) -> impl Iterator<Item = &CaseRecordView> {
    records.iter().filter(|r| r.corrected_by.is_none())
}

/// Whether a step's panel offers forms: its stage has been reached, and the user may edit.
pub fn offers_forms(page: &CasePage, state: StepState) -> bool {
    page.may_edit && state != StepState::Upcoming
}

/// A form of the page a missing item, or a record's button, leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormTarget {
    /// The form adding a record of this kind.
    New(CaseRecordKind),
    /// The form evaluating this goal.
    Evaluate(Uuid),
}

impl FormTarget {
    /// The stage whose panel holds the form.
    pub fn stage(self) -> Stage {
        match self {
            FormTarget::New(kind) => kind.stage(),
            FormTarget::Evaluate(_) => Stage::FollowUp,
        }
    }

    /// The form element's id.
    pub fn form_id(self) -> String {
        match self {
            FormTarget::New(kind) => form_id(kind),
            FormTarget::Evaluate(_) => EVALUATE_FORM_ID.to_string(),
        }
    }
}

/// The id of the first control of a form (what a missing item's button focuses).
pub fn first_control_id(target: FormTarget) -> Option<String> {
    let (prefix, fields) = match target {
        FormTarget::New(kind) => (form_prefix(kind), form_fields(kind)),
        FormTarget::Evaluate(_) => (EVALUATE_PREFIX.to_string(), evaluation_fields()),
    };
    fields.first().map(|f| format!("{prefix}{}", control_id(f)))
}

/// The one form open under a record: its correction, or a goal's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    Correct(Uuid),
    Evaluate(Uuid),
}

/// Where the button of a missing item leads: the form adding the record it names, or, for goals
/// still to evaluate, the evaluation of the first of them. `None` when no form supplies it
/// (closure pending, case closed).
pub fn missing_target(item: &MissingItem, records: &CaseRecords) -> Option<FormTarget> {
    if item.code == "goals_not_evaluated"
        && let Some(goal) = unevaluated_goals(records).next()
    {
        return Some(FormTarget::Evaluate(goal.id));
    }
    item.record_kind.map(FormTarget::New)
}

/// The goals still without an evaluation, in the order recorded.
pub fn unevaluated_goals(records: &CaseRecords) -> impl Iterator<Item = &CaseRecordView> {
    standing(&records.goals).filter(|g| g.fields.get(field::goal::EVALUATION).is_none_or(Value::is_null))
}

/// The "move to the next stage" button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveButton {
    /// No next stage (follow-up, where closure is requested instead; closed), or the user may
    /// not move the case.
    Hidden,
    Ready(Stage),
    /// Shown disabled: something is still missing (the list says what).
    Blocked(Stage),
}

pub fn move_button(page: &CasePage) -> MoveButton {
    match page.next_stage {
        Some(next) if page.may_edit && page.case.stage != Stage::Closed => match page.missing.is_empty() {
            true => MoveButton::Ready(next),
            false => MoveButton::Blocked(next),
        },
        _ => MoveButton::Hidden,
    }
}

/// What the top of the page says about closure.
#[derive(Debug, Clone, PartialEq)]
pub enum ClosureBanner<'a> {
    None,
    /// Requested and awaiting the supervisor.
    Pending {
        summary: Option<&'a str>,
    },
    /// Returned with the supervisor's comments (the decision, when it has reached this computer).
    Returned {
        comments: Option<&'a str>,
        decision: Option<&'a ClosureDecisionView>,
    },
    /// Signed off: the decision and its seal.
    SignedOff {
        decision: Option<&'a ClosureDecisionView>,
    },
}

pub fn closure_banner(page: &CasePage) -> ClosureBanner<'_> {
    let decision = |kind| page.latest_decision.as_ref().filter(|d| d.decision == kind);
    match page.case.closure_status {
        ClosureStatus::Open => ClosureBanner::None,
        ClosureStatus::Requested => ClosureBanner::Pending { summary: page.case.closure_summary.as_deref() },
        ClosureStatus::Returned => {
            let decision = decision(ClosureDecisionKind::Returned);
            let comments = decision.and_then(|d| d.comments.as_deref()).or(page.case.closure_comments.as_deref());
            ClosureBanner::Returned { comments, decision }
        }
        ClosureStatus::SignedOff => ClosureBanner::SignedOff { decision: decision(ClosureDecisionKind::SignedOff) },
    }
}

/// Fields the app sets itself, never typed: the station, the case, the worker, the record
/// amended. (A link into the plan picks its resource from the library, `resource_id`.)
const SET_BY_THE_APP: [&str; 4] = [field::STATION_ID, field::CASE_ID, field::WORKER_ID, field::AMENDS];

/// The fields of the form adding (or amending) a record of `kind`, in the spec's order. A goal's
/// evaluation is left for follow-up ([`evaluation_fields`]).
pub fn form_fields(kind: CaseRecordKind) -> Vec<&'static FieldSpec> {
    let evaluation = [field::goal::EVALUATION, field::goal::EVALUATION_NOTES];
    kind.entity_kind()
        .spec()
        .fields
        .iter()
        .filter(|f| !SET_BY_THE_APP.contains(&f.name))
        .filter(|f| kind != CaseRecordKind::Goal || !evaluation.contains(&f.name))
        .collect()
}

/// The fields of the form correcting a record: an amendment of an append-only record has all
/// of [`form_fields`]; an edit of another record those that may change, and a goal's
/// evaluation too.
pub fn correct_fields(kind: CaseRecordKind) -> Vec<&'static FieldSpec> {
    let mut fields = form_fields(kind);
    if !kind.append_only() {
        fields.retain(|f| f.mutable);
    }
    if kind == CaseRecordKind::Goal {
        // As the spec has them: editing a goal at the plan stage asks for no evaluation.
        fields.extend(GOAL.field(field::goal::EVALUATION).into_iter().chain(GOAL.field(field::goal::EVALUATION_NOTES)));
    }
    fields
}

/// The goal's evaluation at follow-up: the evaluation (required here: it is what the form is
/// for) and its notes.
pub fn evaluation_fields() -> Vec<&'static FieldSpec> {
    static REQUIRED: OnceLock<Option<FieldSpec>> = OnceLock::new();
    let evaluation =
        REQUIRED.get_or_init(|| GOAL.field(field::goal::EVALUATION).map(|f| FieldSpec { required: true, ..*f }));
    evaluation.iter().chain(GOAL.field(field::goal::EVALUATION_NOTES)).collect()
}

/// What a new record sends: the values typed, empty optional fields left out.
pub fn new_record_fields(values: &Values) -> FieldValues {
    values.field_values().into_iter().filter(|(_, v)| !v.is_null()).collect()
}

/// What an edit sends: the values that differ from the stored ones (an emptied field as
/// `null`); empty when nothing changed.
pub fn changed_fields(stored: &FieldValues, values: &Values) -> FieldValues {
    values.field_values().into_iter().filter(|(name, v)| stored.get(name).unwrap_or(&Value::Null) != v).collect()
}

/// A stored value as the page shows it: a vocabulary's label, yes or no, a list joined.
pub fn display_value(spec: &FieldSpec, value: &Value, language: Language) -> String {
    let one = |s: &str| match spec.ty {
        FieldType::Enum(names) | FieldType::EnumSet(names) => {
            vocabulary_label(names, s, language).map_or_else(|| s.to_string(), str::to_string)
        }
        _ => s.to_string(),
    };
    match value {
        Value::Null => String::new(),
        // Amounts are whole fen, shown in yuan.
        Value::Number(fen) if matches!(spec.ty, FieldType::Money { .. }) => {
            fen.as_i64().map_or_else(|| fen.to_string(), crate::pages::resources::money_text)
        }
        // An id says nothing to a reader (the resource's page lists the cases it helped).
        Value::String(_) if matches!(spec.ty, FieldType::Ref(_)) => String::new(),
        Value::String(s) => one(s),
        Value::Bool(b) => match (b, language) {
            (true, Language::Zh) => "是".into(),
            (false, Language::Zh) => "否".into(),
            (true, Language::En) => "Yes".into(),
            (false, Language::En) => "No".into(),
        },
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), one)).collect();
            parts.join(match language {
                Language::Zh => "、",
                Language::En => ", ",
            })
        }
        other => other.to_string(),
    }
}

/// A record's filled fields as (spec, value shown), in the order of its correction form.
pub fn record_lines(record: &CaseRecordView, language: Language) -> Vec<(&'static FieldSpec, String)> {
    let mut specs = form_fields(record.kind);
    if record.kind == CaseRecordKind::Goal {
        specs.extend(GOAL.field(field::goal::EVALUATION).into_iter().chain(GOAL.field(field::goal::EVALUATION_NOTES)));
    }
    specs
        .into_iter()
        .filter_map(|spec| {
            let shown = display_value(spec, record.fields.get(spec.name)?, language);
            (!shown.is_empty()).then_some((spec, shown))
        })
        .collect()
}

/// The closure summary's spec, required (a request needs one).
fn summary_spec() -> Option<&'static FieldSpec> {
    static REQUIRED: OnceLock<Option<FieldSpec>> = OnceLock::new();
    REQUIRED
        .get_or_init(|| CASE.field(field::case::CLOSURE_SUMMARY).map(|f| FieldSpec { required: true, ..*f }))
        .as_ref()
}

/// The closure summary as typed, checked: the trimmed text to send, or the error to show.
pub fn check_summary(typed: &str, today: chrono::NaiveDate) -> Result<String, ShownError> {
    let Some(spec) = summary_spec() else { return Ok(typed.trim().to_string()) };
    match normalize_field(spec, &Value::from(typed), today) {
        Ok(value) => Ok(value.as_str().unwrap_or_default().to_string()),
        Err(e) => Err((&e).into()),
    }
}

/// The element id of a record (`record-<id>`) and of its buttons.
pub fn record_id(record: Uuid) -> String {
    format!("record-{record}")
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use contract::{CaseRecipient, CaseStep, CaseView, SealCheck};
    use domain::Labelled;
    use serde_json::json;

    use super::*;
    use crate::form::FormState;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date")
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn missing(code: &str, kind: Option<CaseRecordKind>) -> MissingItem {
        MissingItem { code: code.into(), message_zh: "缺".into(), message_en: "Missing".into(), record_kind: kind }
    }

    fn record(kind: CaseRecordKind, n: u128, fields: Value) -> CaseRecordView {
        let fields = fields.as_object().map(|o| o.clone().into_iter().collect()).unwrap_or_default();
        CaseRecordView { kind, id: id(n), fields, recorded_by: None, amends: None, corrected_by: None, resource: None }
    }

    fn page(stage: Stage) -> CasePage {
        CasePage {
            case: CaseView {
                id: id(1),
                station_id: Some(id(2)),
                worker: None,
                stage,
                stage_entered_on: Some(today()),
                opened_on: Some(today()),
                plan_strategy: None,
                closure_status: ClosureStatus::Open,
                closure_summary: None,
                closure_requested_on: None,
                closure_comments: None,
                reopen_generation: 0,
                fields: FieldValues::new(),
            },
            recipient: CaseRecipient { id: id(3), name: "王测试".into(), village: None },
            steps: CaseStep::all_at(stage),
            records: CaseRecords::default(),
            next_stage: stage.next(),
            missing: Vec::new(),
            may_edit: true,
            may_request_closure: false,
            latest_decision: None,
            may_decide: false,
            may_reopen: false,
            reopenings: Vec::new(),
            recent_visits: Vec::new(),
        }
    }

    /// The ids the end-to-end test finds the page's parts by.
    #[test]
    fn ids_follow_the_stage_and_kind_names() {
        let steps: Vec<String> = Stage::ALL.iter().map(|s| step_id(*s)).collect();
        assert_eq!(
            steps,
            [
                "step-identify",
                "step-assess",
                "step-plan",
                "step-coordinate",
                "step-intervene",
                "step-follow_up",
                "step-closed"
            ]
        );
        for kind in CaseRecordKind::ALL {
            let serde_name = serde_json::to_value(kind).expect("json");
            assert_eq!(serde_name.as_str(), Some(kind_slug(kind)), "{kind:?}");
        }
        assert_eq!(form_id(CaseRecordKind::ResourceLink), "record-form-resource_link");
        assert_eq!(records_id(CaseRecordKind::FollowUp), "case-records-follow_up");
        assert_eq!(panel_id(Stage::FollowUp), "stage-follow_up");
        assert_eq!(form_prefix(CaseRecordKind::Goal), "goal-");
    }

    #[test]
    fn each_open_stage_has_its_record_kind_and_closure_none() {
        for stage in &Stage::ALL[..6] {
            let kinds = kinds_at(*stage);
            assert_eq!(kinds.len(), 1, "{stage:?}");
            assert_eq!(kinds[0].stage(), *stage);
        }
        assert!(kinds_at(Stage::Closed).is_empty());
    }

    #[test]
    fn the_stepper_marks_done_current_and_the_step_shown() {
        let mut p = page(Stage::Plan);
        p.records.screenings.push(record(CaseRecordKind::Screening, 10, json!({})));
        let mut corrected = record(CaseRecordKind::Screening, 11, json!({}));
        corrected.corrected_by = Some(id(10));
        p.records.screenings.push(corrected);
        let views = step_views(&p, None);
        let states: Vec<StepState> = views.iter().map(|v| v.state).collect();
        assert_eq!(&states[..4], [StepState::Done, StepState::Done, StepState::Current, StepState::Upcoming]);
        let selected: Vec<Stage> = views.iter().filter(|v| v.selected).map(|v| v.stage).collect();
        assert_eq!(selected, [Stage::Plan], "the current stage shows first");
        assert_eq!(views[0].records, 1, "a corrected record is not counted again");
        let views = step_views(&p, Some(Stage::Identify));
        assert!(views[0].selected && !views[2].selected);
        assert!(offers_forms(&p, StepState::Done) && offers_forms(&p, StepState::Current));
        assert!(!offers_forms(&p, StepState::Upcoming));
        p.may_edit = false;
        assert!(!offers_forms(&p, StepState::Current));
    }

    /// (missing code, the kind it names, the form its button leads to, that form's stage)
    #[test]
    fn each_missing_item_leads_to_the_form_that_supplies_it() {
        let mut records = CaseRecords::default();
        records.goals.push(record(CaseRecordKind::Goal, 20, json!({ "evaluation": "Achieved" })));
        records.goals.push(record(CaseRecordKind::Goal, 21, json!({ "description": "x" })));
        records.goals.push(record(CaseRecordKind::Goal, 22, json!({})));
        let cases = [
            ("needs_screening", Some(CaseRecordKind::Screening), Some(FormTarget::New(CaseRecordKind::Screening))),
            ("needs_assessment", Some(CaseRecordKind::Assessment), Some(FormTarget::New(CaseRecordKind::Assessment))),
            ("needs_goal", Some(CaseRecordKind::Goal), Some(FormTarget::New(CaseRecordKind::Goal))),
            (
                "needs_intervention",
                Some(CaseRecordKind::Intervention),
                Some(FormTarget::New(CaseRecordKind::Intervention)),
            ),
            ("needs_follow_up", Some(CaseRecordKind::FollowUp), Some(FormTarget::New(CaseRecordKind::FollowUp))),
            ("goals_not_evaluated", Some(CaseRecordKind::Goal), Some(FormTarget::Evaluate(id(21)))),
            ("closure_pending", None, None),
            ("case_closed", None, None),
        ];
        for (code, kind, expected) in cases {
            assert_eq!(missing_target(&missing(code, kind), &records), expected, "{code}");
        }
        // Every goal evaluated meanwhile (the page not yet reloaded): the goal form, not nothing.
        let none_left = CaseRecords::default();
        assert_eq!(
            missing_target(&missing("goals_not_evaluated", Some(CaseRecordKind::Goal)), &none_left),
            Some(FormTarget::New(CaseRecordKind::Goal))
        );
        assert_eq!(FormTarget::New(CaseRecordKind::Goal).stage(), Stage::Plan);
        assert_eq!(FormTarget::Evaluate(id(21)).stage(), Stage::FollowUp);
        assert_eq!(FormTarget::Evaluate(id(21)).form_id(), "evaluate-form");
        assert_eq!(FormTarget::New(CaseRecordKind::Intervention).form_id(), "record-form-intervention");
        assert_eq!(first_control_id(FormTarget::New(CaseRecordKind::Screening)).as_deref(), Some("screening-source"));
        assert_eq!(first_control_id(FormTarget::New(CaseRecordKind::Goal)).as_deref(), Some("goal-description"));
        assert_eq!(first_control_id(FormTarget::Evaluate(id(21))).as_deref(), Some("evaluate-evaluation"));
    }

    #[test]
    fn the_move_button_waits_for_what_is_missing() {
        let mut p = page(Stage::Identify);
        assert_eq!(move_button(&p), MoveButton::Ready(Stage::Assess));
        p.missing.push(missing("needs_screening", Some(CaseRecordKind::Screening)));
        assert_eq!(move_button(&p), MoveButton::Blocked(Stage::Assess));
        p.may_edit = false;
        assert_eq!(move_button(&p), MoveButton::Hidden, "a reader moves nothing");
        let follow_up = page(Stage::FollowUp);
        assert_eq!(move_button(&follow_up), MoveButton::Hidden, "closure is requested instead");
        assert_eq!(move_button(&page(Stage::Closed)), MoveButton::Hidden);
    }

    #[test]
    fn a_returned_closure_shows_the_supervisors_comments() {
        let mut p = page(Stage::FollowUp);
        assert_eq!(closure_banner(&p), ClosureBanner::None);
        p.case.closure_status = ClosureStatus::Requested;
        p.case.closure_summary = Some("目标达成".into());
        assert_eq!(closure_banner(&p), ClosureBanner::Pending { summary: Some("目标达成") });
        p.case.closure_status = ClosureStatus::Returned;
        p.case.closure_comments = Some("案主情况未稳定".into());
        assert_eq!(closure_banner(&p), ClosureBanner::Returned { comments: Some("案主情况未稳定"), decision: None });
        let returned = ClosureDecisionView {
            id: id(30),
            decision: ClosureDecisionKind::Returned,
            comments: Some("请补充回访记录".into()),
            supervisor: None,
            decided_at: None,
            seal: None,
        };
        p.latest_decision = Some(returned.clone());
        assert_eq!(
            closure_banner(&p),
            ClosureBanner::Returned { comments: Some("请补充回访记录"), decision: Some(&returned) }
        );
        p.case.closure_status = ClosureStatus::SignedOff;
        assert_eq!(closure_banner(&p), ClosureBanner::SignedOff { decision: None }, "not the earlier return");
        let signed = ClosureDecisionView {
            decision: ClosureDecisionKind::SignedOff,
            seal: Some(SealCheck {
                verified: false,
                code: Some("case_tampered".into()),
                message_zh: String::new(),
                message_en: String::new(),
            }),
            ..returned
        };
        p.latest_decision = Some(signed.clone());
        assert_eq!(closure_banner(&p), ClosureBanner::SignedOff { decision: Some(&signed) });
    }

    #[test]
    fn forms_hold_what_the_worker_types_and_nothing_the_app_sets() {
        for kind in CaseRecordKind::ALL {
            let names: Vec<&str> = form_fields(kind).iter().map(|f| f.name).collect();
            assert!(!names.is_empty(), "{kind:?}");
            for set in SET_BY_THE_APP {
                assert!(!names.contains(&set), "{kind:?} {set}");
            }
        }
        let names = |fields: Vec<&'static FieldSpec>| fields.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(form_fields(CaseRecordKind::Screening)), ["source", "found_on", "notes"]);
        assert_eq!(names(form_fields(CaseRecordKind::Goal)), ["description", "target_date"]);
        assert!(names(form_fields(CaseRecordKind::Assessment)).contains(&"risk_level"));
        assert_eq!(
            names(form_fields(CaseRecordKind::ResourceLink)),
            [
                "resource_id",
                "kind",
                "description",
                "status",
                "linked_on",
                "outcome",
                "money_fen",
                "goods",
                "goods_value_fen"
            ]
        );
        assert_eq!(
            names(form_fields(CaseRecordKind::Intervention)),
            ["delivered_on", "service_type", "method", "duration_minutes", "notes"]
        );
        // An amendment of an append-only record has every field; an edit only those that change.
        assert_eq!(correct_fields(CaseRecordKind::Intervention), form_fields(CaseRecordKind::Intervention));
        assert_eq!(
            names(correct_fields(CaseRecordKind::Goal)),
            ["description", "target_date", "evaluation", "evaluation_notes"]
        );
        for kind in CaseRecordKind::ALL.into_iter().filter(|k| !k.append_only()) {
            assert!(correct_fields(kind).iter().all(|f| f.mutable || f.name == "evaluation"), "{kind:?}");
        }
        assert!(
            correct_fields(CaseRecordKind::Goal)
                .iter()
                .all(|f| f.name == "description" || !f.required || f.name == "target_date"),
            "editing a goal needs no evaluation"
        );
        let evaluation = evaluation_fields();
        assert_eq!(names(evaluation.clone()), ["evaluation", "evaluation_notes"]);
        assert!(evaluation[0].required, "the evaluation form is for the evaluation");
    }

    #[test]
    fn an_evaluation_is_required_and_sends_only_what_changed() {
        let goal = record(CaseRecordKind::Goal, 20, json!({ "description": "稳定生活", "target_date": "2027-01-01" }));
        let mut form = FormState::with_initial(&evaluation_fields(), today(), &goal.fields);
        assert_eq!(form.submit(), None);
        assert_eq!(form.error("evaluation").map(|e| e.code), Some("required".into()));
        form.set("evaluation", crate::form::Input::Text("Achieved".into()));
        let values = form.submit().expect("valid");
        let sent = changed_fields(&goal.fields, &values);
        assert_eq!(sent, FieldValues::from([("evaluation".to_string(), json!("Achieved"))]));
        // An edit that changes nothing sends nothing; an emptied field is sent as null.
        let stored =
            FieldValues::from([("evaluation".into(), json!("Achieved")), ("evaluation_notes".into(), json!("好"))]);
        let mut form = FormState::with_initial(&evaluation_fields(), today(), &stored);
        assert!(changed_fields(&stored, &form.submit().expect("valid")).is_empty());
        form.set("evaluation_notes", crate::form::Input::Text(" ".into()));
        let sent = changed_fields(&stored, &form.submit().expect("valid"));
        assert_eq!(sent, FieldValues::from([("evaluation_notes".to_string(), Value::Null)]));
    }

    #[test]
    fn a_new_record_sends_no_empty_optional_field() {
        let mut form = FormState::new(&form_fields(CaseRecordKind::Screening), today());
        form.set("source", crate::form::Input::Text("Hotline".into()));
        form.set("found_on", crate::form::Input::Text("2026-12-01".into()));
        let sent = new_record_fields(&form.submit().expect("valid"));
        assert_eq!(
            sent,
            FieldValues::from([
                ("found_on".to_string(), json!("2026-12-01")),
                ("source".to_string(), json!("Hotline"))
            ])
        );
    }

    #[test]
    fn records_show_labels_in_the_chosen_language() {
        let r = record(
            CaseRecordKind::Intervention,
            40,
            json!({ "service_type": "EmotionalCounselling", "method": "Casework", "duration_minutes": 45,
                    "delivered_on": "2026-12-01", "notes": "", "worker_id": "x" }),
        );
        let lines = |language| {
            record_lines(&r, language).into_iter().map(|(spec, shown)| (spec.name, shown)).collect::<Vec<_>>()
        };
        let zh = lines(Language::Zh);
        assert_eq!(zh[0], ("delivered_on", "2026-12-01".into()));
        assert_eq!(zh[1], ("service_type", "情绪疏导".into()));
        assert_eq!(zh[3], ("duration_minutes", "45".into()));
        assert_eq!(zh.len(), 4, "empty and app-set fields are left out: {zh:?}");
        assert_eq!(lines(Language::En)[1], ("service_type", "Emotional counselling".into()));
        let flag = FieldSpec { name: "x", zh: "x", en: "x", ty: FieldType::Bool, required: false, mutable: true };
        assert_eq!(display_value(&flag, &json!(true), Language::Zh), "是");
        let set = FieldSpec { ty: FieldType::EnumSet(domain::recipient::RECIPIENT_CATEGORY_NAMES), ..flag };
        assert_eq!(display_value(&set, &json!(["Dibao", "Odd"]), Language::Zh), "低保对象、Odd");
    }

    #[test]
    fn a_closure_summary_is_required_and_kept_within_its_length() {
        assert_eq!(check_summary("  目标均已达成 ", today()), Ok("目标均已达成".into()));
        assert_eq!(check_summary("   ", today()).map_err(|e| e.code), Err("required".into()));
        assert_eq!(check_summary(&"结".repeat(5000), today()).map_err(|e| e.code), Err("too_long".into()));
    }
}
