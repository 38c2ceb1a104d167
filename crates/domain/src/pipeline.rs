//! The case pipeline's rules: which stage moves are legal and what a stage must hold before the
//! case may move on. 识别对象 → 分析需求 → 制定计划 → 协调资源 → 专业介入 → 跟踪问效 → 结案.
//!
//! - Forward one stage at a time, once the stage being left holds what it must.
//! - Back to any earlier stage at any time (re-assess, re-plan), unless closure is pending.
//! - Into `Closed` only by a supervisor's sign-off; out of it only by reopening.

use serde::{Deserialize, Serialize};

use crate::case::{ClosureStatus, Stage};
use crate::entity::{EntityKind, EntityState};
use crate::{Labelled, field};

/// What a case holds, counted from its stage records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseHoldings {
    pub screenings: usize,
    pub assessments: usize,
    pub goals: usize,
    pub goals_evaluated: usize,
    pub resource_links: usize,
    pub interventions: usize,
    pub follow_ups: usize,
}

impl CaseHoldings {
    pub fn count(records: &[EntityState]) -> Self {
        let mut h = CaseHoldings::default();
        for r in records {
            match r.kind {
                EntityKind::Screening => h.screenings += 1,
                EntityKind::Assessment => h.assessments += 1,
                EntityKind::Goal => {
                    h.goals += 1;
                    if r.get(field::goal::EVALUATION).is_some() {
                        h.goals_evaluated += 1;
                    }
                }
                EntityKind::ResourceLink => h.resource_links += 1,
                EntityKind::Intervention => h.interventions += 1,
                EntityKind::FollowUp => h.follow_ups += 1,
                _ => {}
            }
        }
        h
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PipelineError {
    #[error("a case moves forward one stage at a time ({from:?} to {to:?})")]
    SkipsStages { from: Stage, to: Stage },
    #[error("record how the person was identified before assessing")]
    NeedsScreening,
    #[error("no plan without a needs assessment")]
    NeedsAssessment,
    #[error("the plan needs at least one goal")]
    NeedsGoal,
    #[error("record at least one intervention before follow-up")]
    NeedsIntervention,
    #[error("record at least one follow-up visit before requesting closure")]
    NeedsFollowUp,
    #[error("{unevaluated} goal(s) still need an evaluation before closure is requested")]
    GoalsNotEvaluated { unevaluated: usize },
    #[error("closure is requested from the follow-up stage")]
    NotInFollowUp,
    #[error("a case is closed only by a supervisor's sign-off")]
    ClosedOnlyBySignOff,
    #[error("a closed case cannot be changed unless it is reopened")]
    CaseClosed,
    #[error("closure has been requested and awaits the supervisor")]
    ClosurePending,
    #[error("there is no closure request to decide")]
    NoClosureRequest,
    #[error("a reopened case returns to an open stage")]
    ReopenToOpenStage,
    #[error("the case's reopen generation must be {expected}: one more with each reopening, otherwise unchanged")]
    ReopenGeneration { expected: i64 },
    #[error("the reason for reopening is written only when the case is reopened")]
    ReopenReasonOnlyByReopening,
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::SkipsStages { .. } => "skips_stages",
            PipelineError::NeedsScreening => "needs_screening",
            PipelineError::NeedsAssessment => "needs_assessment",
            PipelineError::NeedsGoal => "needs_goal",
            PipelineError::NeedsIntervention => "needs_intervention",
            PipelineError::NeedsFollowUp => "needs_follow_up",
            PipelineError::GoalsNotEvaluated { .. } => "goals_not_evaluated",
            PipelineError::NotInFollowUp => "not_in_follow_up",
            PipelineError::ClosedOnlyBySignOff => "closed_only_by_sign_off",
            PipelineError::CaseClosed => "case_closed",
            PipelineError::ClosurePending => "closure_pending",
            PipelineError::NoClosureRequest => "no_closure_request",
            PipelineError::ReopenToOpenStage => "reopen_to_open_stage",
            PipelineError::ReopenGeneration { .. } => "reopen_generation",
            PipelineError::ReopenReasonOnlyByReopening => "reopen_reason_only_by_reopening",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            PipelineError::SkipsStages { from, to } => {
                format!("个案须逐阶段推进，不能从「{}」直接到「{}」", from.zh(), to.zh())
            }
            PipelineError::NeedsScreening => "请先记录识别对象的途径，再分析需求".into(),
            PipelineError::NeedsAssessment => "没有需求评估，不能制定计划".into(),
            PipelineError::NeedsGoal => "服务计划至少要有一个目标".into(),
            PipelineError::NeedsIntervention => "请先记录至少一次专业介入，再跟踪问效".into(),
            PipelineError::NeedsFollowUp => "请先记录至少一次跟踪回访，再申请结案".into(),
            PipelineError::GoalsNotEvaluated { unevaluated } => format!("还有{unevaluated}个目标未评估，不能申请结案"),
            PipelineError::NotInFollowUp => "须在跟踪问效阶段申请结案".into(),
            PipelineError::ClosedOnlyBySignOff => "个案只能经督导审核同意后结案".into(),
            PipelineError::CaseClosed => "个案已结案，须重新开案后才能修改".into(),
            PipelineError::ClosurePending => "已申请结案，等待督导审核".into(),
            PipelineError::NoClosureRequest => "该个案没有待审核的结案申请".into(),
            PipelineError::ReopenToOpenStage => "重新开案后应回到进行中的阶段".into(),
            PipelineError::ReopenGeneration { expected } => {
                format!("重新开案次数应为{expected}：每次重新开案加一，其他时候不变")
            }
            PipelineError::ReopenReasonOnlyByReopening => "重新开案原因只能在重新开案时填写".into(),
        }
    }

    /// The kind of stage record that would supply what this error says is missing (a goal
    /// also for one still to be evaluated), if adding or editing one is the cure.
    pub fn record_to_add(&self) -> Option<EntityKind> {
        match self {
            PipelineError::NeedsScreening => Some(EntityKind::Screening),
            PipelineError::NeedsAssessment => Some(EntityKind::Assessment),
            PipelineError::NeedsGoal | PipelineError::GoalsNotEvaluated { .. } => Some(EntityKind::Goal),
            PipelineError::NeedsIntervention => Some(EntityKind::Intervention),
            PipelineError::NeedsFollowUp => Some(EntityKind::FollowUp),
            _ => None,
        }
    }
}

/// Everything leaving `stage` forward still requires the case to hold (empty: nothing).
fn missing_to_leave(stage: Stage, holdings: &CaseHoldings) -> Vec<PipelineError> {
    match stage {
        Stage::Identify if holdings.screenings == 0 => vec![PipelineError::NeedsScreening],
        Stage::Assess if holdings.assessments == 0 => vec![PipelineError::NeedsAssessment],
        Stage::Plan | Stage::Coordinate if holdings.goals == 0 => vec![PipelineError::NeedsGoal],
        Stage::Intervene if holdings.interventions == 0 => vec![PipelineError::NeedsIntervention],
        _ => Vec::new(),
    }
}

/// What leaving `stage` forward requires the case to hold.
fn ready_to_leave(stage: Stage, holdings: &CaseHoldings) -> Result<(), PipelineError> {
    first_missing(missing_to_leave(stage, holdings))
}

/// Everything a closure request from the follow-up stage still requires, in the order it is
/// reported: a follow-up visit, then a goal, every one evaluated (empty: nothing).
fn missing_for_closure(holdings: &CaseHoldings) -> Vec<PipelineError> {
    let mut missing = Vec::new();
    if holdings.follow_ups == 0 {
        missing.push(PipelineError::NeedsFollowUp);
    }
    if holdings.goals == 0 {
        missing.push(PipelineError::NeedsGoal);
    } else if holdings.goals_evaluated < holdings.goals {
        missing.push(PipelineError::GoalsNotEvaluated { unevaluated: holdings.goals - holdings.goals_evaluated });
    }
    missing
}

fn first_missing(missing: Vec<PipelineError>) -> Result<(), PipelineError> {
    match missing.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Everything that still stands between the case and its next step, all of it at once, for the
/// worker to see: before the follow-up stage, what moving forward from `stage` requires
/// ([`check_move`]); at follow-up, what a closure request requires ([`check_closure_request`]).
/// Both checks refuse with the first of these. A case awaiting the supervisor has nothing to add
/// ([`PipelineError::ClosurePending`]), nor has a closed one ([`PipelineError::CaseClosed`]).
/// Empty: the next step may be taken now.
pub fn missing_before_next_step(stage: Stage, closure: ClosureStatus, holdings: &CaseHoldings) -> Vec<PipelineError> {
    match (stage, closure) {
        (Stage::Closed, _) => vec![PipelineError::CaseClosed],
        (_, ClosureStatus::Requested) => vec![PipelineError::ClosurePending],
        (Stage::FollowUp, _) => missing_for_closure(holdings),
        _ => missing_to_leave(stage, holdings),
    }
}

/// May an open case move from `from` to `to` by the worker's hand? (Closing and reopening are
/// [`check_sign_off`] and [`check_reopen`].)
pub fn check_move(
    from: Stage,
    to: Stage,
    closure: ClosureStatus,
    holdings: &CaseHoldings,
) -> Result<(), PipelineError> {
    if from == Stage::Closed {
        return Err(PipelineError::CaseClosed);
    }
    if to == Stage::Closed {
        return Err(PipelineError::ClosedOnlyBySignOff);
    }
    if closure == ClosureStatus::Requested {
        return Err(PipelineError::ClosurePending);
    }
    if to.index() < from.index() || to == from {
        return Ok(());
    }
    if from.next() != Some(to) {
        return Err(PipelineError::SkipsStages { from, to });
    }
    ready_to_leave(from, holdings)
}

/// May the case's worker request closure now?
pub fn check_closure_request(
    stage: Stage,
    closure: ClosureStatus,
    holdings: &CaseHoldings,
) -> Result<(), PipelineError> {
    match (stage, closure) {
        (Stage::Closed, _) => Err(PipelineError::CaseClosed),
        (_, ClosureStatus::Requested) => Err(PipelineError::ClosurePending),
        (Stage::FollowUp, _) => first_missing(missing_for_closure(holdings)),
        _ => Err(PipelineError::NotInFollowUp),
    }
}

/// May a supervisor decide (sign off or return) the case's closure now?
pub fn check_sign_off(stage: Stage, closure: ClosureStatus) -> Result<(), PipelineError> {
    match (stage, closure) {
        (Stage::Closed, _) => Err(PipelineError::CaseClosed),
        (_, ClosureStatus::Requested) => Ok(()),
        _ => Err(PipelineError::NoClosureRequest),
    }
}

/// May a closed case be reopened into `to`?
pub fn check_reopen(from: Stage, to: Stage) -> Result<(), PipelineError> {
    if from != Stage::Closed {
        return Ok(());
    }
    if to == Stage::Closed || to == Stage::Identify {
        return Err(PipelineError::ReopenToOpenStage);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> CaseHoldings {
        CaseHoldings {
            screenings: 1,
            assessments: 1,
            goals: 2,
            goals_evaluated: 2,
            resource_links: 1,
            interventions: 3,
            follow_ups: 1,
        }
    }

    #[test]
    fn a_case_moves_forward_one_stage_at_a_time() {
        let h = full();
        for stage in &Stage::ALL[..5] {
            let next = stage.next().expect("has next");
            assert_eq!(check_move(*stage, next, ClosureStatus::Open, &h), Ok(()), "{stage:?}");
        }
        assert_eq!(
            check_move(Stage::Identify, Stage::Plan, ClosureStatus::Open, &h),
            Err(PipelineError::SkipsStages { from: Stage::Identify, to: Stage::Plan })
        );
    }

    #[test]
    fn no_plan_without_an_assessment() {
        let h = CaseHoldings { assessments: 0, ..full() };
        assert_eq!(
            check_move(Stage::Assess, Stage::Plan, ClosureStatus::Open, &h),
            Err(PipelineError::NeedsAssessment)
        );
    }

    #[test]
    fn each_stage_must_hold_its_record_before_moving_on() {
        let empty = CaseHoldings::default();
        let expected = [
            (Stage::Identify, PipelineError::NeedsScreening),
            (Stage::Assess, PipelineError::NeedsAssessment),
            (Stage::Plan, PipelineError::NeedsGoal),
            (Stage::Coordinate, PipelineError::NeedsGoal),
            (Stage::Intervene, PipelineError::NeedsIntervention),
        ];
        for (stage, error) in expected {
            let next = stage.next().expect("next");
            assert_eq!(check_move(stage, next, ClosureStatus::Open, &empty), Err(error));
        }
    }

    #[test]
    fn a_case_may_go_back_to_an_earlier_stage() {
        assert_eq!(check_move(Stage::FollowUp, Stage::Assess, ClosureStatus::Open, &CaseHoldings::default()), Ok(()));
    }

    #[test]
    fn no_closure_request_without_an_evaluation_of_every_goal() {
        let h = CaseHoldings { goals_evaluated: 1, ..full() };
        assert_eq!(
            check_closure_request(Stage::FollowUp, ClosureStatus::Open, &h),
            Err(PipelineError::GoalsNotEvaluated { unevaluated: 1 })
        );
        assert_eq!(check_closure_request(Stage::FollowUp, ClosureStatus::Returned, &full()), Ok(()));
        assert_eq!(
            check_closure_request(Stage::Intervene, ClosureStatus::Open, &full()),
            Err(PipelineError::NotInFollowUp)
        );
    }

    #[test]
    fn only_a_sign_off_closes_and_only_a_reopen_leaves_closed() {
        let h = full();
        assert_eq!(
            check_move(Stage::FollowUp, Stage::Closed, ClosureStatus::Requested, &h),
            Err(PipelineError::ClosedOnlyBySignOff)
        );
        assert_eq!(
            check_move(Stage::Closed, Stage::FollowUp, ClosureStatus::SignedOff, &h),
            Err(PipelineError::CaseClosed)
        );
        assert_eq!(check_sign_off(Stage::FollowUp, ClosureStatus::Requested), Ok(()));
        assert_eq!(check_sign_off(Stage::FollowUp, ClosureStatus::Open), Err(PipelineError::NoClosureRequest));
        assert_eq!(check_reopen(Stage::Closed, Stage::Assess), Ok(()));
        assert_eq!(check_reopen(Stage::Closed, Stage::Closed), Err(PipelineError::ReopenToOpenStage));
    }

    #[test]
    fn everything_missing_before_the_next_step_is_listed_at_once() {
        let empty = CaseHoldings::default();
        let expected: [(Stage, ClosureStatus, &CaseHoldings, Vec<PipelineError>); 10] = [
            (Stage::Identify, ClosureStatus::Open, &empty, vec![PipelineError::NeedsScreening]),
            (Stage::Assess, ClosureStatus::Open, &empty, vec![PipelineError::NeedsAssessment]),
            (Stage::Plan, ClosureStatus::Open, &empty, vec![PipelineError::NeedsGoal]),
            (Stage::Coordinate, ClosureStatus::Open, &empty, vec![PipelineError::NeedsGoal]),
            (Stage::Intervene, ClosureStatus::Open, &empty, vec![PipelineError::NeedsIntervention]),
            (
                Stage::FollowUp,
                ClosureStatus::Open,
                &empty,
                vec![PipelineError::NeedsFollowUp, PipelineError::NeedsGoal],
            ),
            (
                Stage::FollowUp,
                ClosureStatus::Returned,
                &CaseHoldings { follow_ups: 0, goals_evaluated: 0, ..full() },
                vec![PipelineError::NeedsFollowUp, PipelineError::GoalsNotEvaluated { unevaluated: 2 }],
            ),
            (Stage::FollowUp, ClosureStatus::Open, &full(), vec![]),
            (Stage::FollowUp, ClosureStatus::Requested, &full(), vec![PipelineError::ClosurePending]),
            (Stage::Closed, ClosureStatus::SignedOff, &full(), vec![PipelineError::CaseClosed]),
        ];
        for (stage, closure, holdings, missing) in expected {
            assert_eq!(missing_before_next_step(stage, closure, holdings), missing, "{stage:?} {closure:?}");
        }
    }

    /// The list and the checks are one set of rules: each check refuses with the list's first.
    #[test]
    fn the_checks_refuse_with_the_first_thing_missing() {
        let holdings = [
            CaseHoldings::default(),
            full(),
            CaseHoldings { follow_ups: 0, ..full() },
            CaseHoldings { goals_evaluated: 1, ..full() },
            CaseHoldings { goals: 0, goals_evaluated: 0, ..full() },
            CaseHoldings { screenings: 1, ..CaseHoldings::default() },
        ];
        for h in &holdings {
            for stage in &Stage::ALL[..6] {
                let first = missing_before_next_step(*stage, ClosureStatus::Open, h).into_iter().next();
                let check = match stage.next() {
                    Some(next) => check_move(*stage, next, ClosureStatus::Open, h),
                    None => check_closure_request(*stage, ClosureStatus::Open, h),
                };
                assert_eq!(check.err(), first, "{stage:?} {h:?}");
            }
        }
    }

    #[test]
    fn each_missing_requirement_names_the_record_that_supplies_it() {
        assert_eq!(PipelineError::NeedsScreening.record_to_add(), Some(EntityKind::Screening));
        assert_eq!(PipelineError::GoalsNotEvaluated { unevaluated: 1 }.record_to_add(), Some(EntityKind::Goal));
        assert_eq!(PipelineError::NeedsFollowUp.record_to_add(), Some(EntityKind::FollowUp));
        assert_eq!(PipelineError::ClosurePending.record_to_add(), None);
    }

    #[test]
    fn a_pending_closure_freezes_the_stage() {
        assert_eq!(
            check_move(Stage::FollowUp, Stage::Intervene, ClosureStatus::Requested, &full()),
            Err(PipelineError::ClosurePending)
        );
    }
}
