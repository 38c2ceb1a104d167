//! The case page (个案): the pipeline as a stepper (识别对象 → 分析需求 → 制定计划 → 协调资源 →
//! 专业介入 → 跟踪问效 → 结案), each stage's records, what is still missing before the next
//! step, the closure request, and the supervisor's decision on it.

use chrono::{DateTime, NaiveDate, Utc};
use domain::Labelled;
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::entity::EntityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldValues, NamedRef, ReopeningView, VisitView};

/// The stage records a worker writes on the case page, in pipeline order. (Closure decisions
/// are the supervisor's, and shown as [`ClosureDecisionView`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseRecordKind {
    /// 识别记录: how the person was found.
    Screening,
    /// 需求评估, with the risk level.
    Assessment,
    /// 服务目标 with its target date; evaluated at follow-up.
    Goal,
    /// 资源链接: a resource or a benefit application (assisted).
    ResourceLink,
    /// 服务记录. Append-only: a correction is a new record that amends it.
    Intervention,
    /// 跟踪回访. Append-only: a correction is a new record that amends it.
    FollowUp,
}

impl CaseRecordKind {
    pub const ALL: [CaseRecordKind; 6] = [
        CaseRecordKind::Screening,
        CaseRecordKind::Assessment,
        CaseRecordKind::Goal,
        CaseRecordKind::ResourceLink,
        CaseRecordKind::Intervention,
        CaseRecordKind::FollowUp,
    ];

    /// The entity kind whose spec (fields, labels, what may change) the record's form follows.
    pub fn entity_kind(self) -> EntityKind {
        match self {
            CaseRecordKind::Screening => EntityKind::Screening,
            CaseRecordKind::Assessment => EntityKind::Assessment,
            CaseRecordKind::Goal => EntityKind::Goal,
            CaseRecordKind::ResourceLink => EntityKind::ResourceLink,
            CaseRecordKind::Intervention => EntityKind::Intervention,
            CaseRecordKind::FollowUp => EntityKind::FollowUp,
        }
    }

    pub fn of_entity_kind(kind: EntityKind) -> Option<CaseRecordKind> {
        CaseRecordKind::ALL.into_iter().find(|k| k.entity_kind() == kind)
    }

    /// The stage whose form records it.
    pub fn stage(self) -> Stage {
        match self {
            CaseRecordKind::Screening => Stage::Identify,
            CaseRecordKind::Assessment => Stage::Assess,
            CaseRecordKind::Goal => Stage::Plan,
            CaseRecordKind::ResourceLink => Stage::Coordinate,
            CaseRecordKind::Intervention => Stage::Intervene,
            CaseRecordKind::FollowUp => Stage::FollowUp,
        }
    }

    /// Never edited once recorded: corrections amend (interventions and follow-up visits).
    pub fn append_only(self) -> bool {
        self.entity_kind().spec().append_only
    }

    pub fn zh(self) -> &'static str {
        self.entity_kind().zh()
    }

    pub fn en(self) -> &'static str {
        self.entity_kind().en()
    }
}

/// How a step of the stepper stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// A stage before the case's current one.
    Done,
    /// The case's stage.
    Current,
    Upcoming,
}

/// One step of the stepper: a stage (its labels are `Stage::zh`/`en`) and how it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    pub stage: Stage,
    pub state: StepState,
}

impl CaseStep {
    /// The seven steps of a case at `stage`: those before it done, it current, the rest upcoming.
    pub fn all_at(stage: Stage) -> Vec<CaseStep> {
        Stage::ALL
            .iter()
            .map(|s| CaseStep {
                stage: *s,
                state: match s.index().cmp(&stage.index()) {
                    std::cmp::Ordering::Less => StepState::Done,
                    std::cmp::Ordering::Equal => StepState::Current,
                    std::cmp::Ordering::Greater => StepState::Upcoming,
                },
            })
            .collect()
    }
}

/// The case's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: Uuid,
    pub station_id: Option<Uuid>,
    /// The social worker the case is assigned to.
    pub worker: Option<NamedRef>,
    pub stage: Stage,
    pub stage_entered_on: Option<NaiveDate>,
    pub opened_on: Option<NaiveDate>,
    /// The intervention strategy written at the Plan stage.
    pub plan_strategy: Option<String>,
    pub closure_status: ClosureStatus,
    /// The worker's summary with the closure request.
    pub closure_summary: Option<String>,
    pub closure_requested_on: Option<NaiveDate>,
    /// The supervisor's comments on the last closure returned.
    pub closure_comments: Option<String>,
    /// How many times the case has been reopened.
    pub reopen_generation: i64,
    /// Every stored field of the case by name.
    pub fields: FieldValues,
}

/// The person the case is for, and where they live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecipient {
    pub id: Uuid,
    /// Empty while the recipient's record has not reached this computer.
    pub name: String,
    pub village: Option<NamedRef>,
}

/// One stage record, with its stored values by field name (as in the kind's spec; the form
/// that edits it starts from them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecordView {
    pub kind: CaseRecordKind,
    pub id: Uuid,
    pub fields: FieldValues,
    /// Who recorded it.
    pub recorded_by: Option<NamedRef>,
    /// The earlier record this one corrects (interventions and follow-up visits).
    pub amends: Option<Uuid>,
    /// The latest record that corrects this one: it is then shown as corrected, and kept.
    pub corrected_by: Option<Uuid>,
    /// The library's resource a resource link names, read here so the page shows its name
    /// rather than an id; `None` for other kinds, or while the resource is not on this computer.
    pub resource: Option<NamedRef>,
}

/// The case's stage records grouped by kind, each group in the order recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseRecords {
    pub screenings: Vec<CaseRecordView>,
    pub assessments: Vec<CaseRecordView>,
    pub goals: Vec<CaseRecordView>,
    pub resource_links: Vec<CaseRecordView>,
    pub interventions: Vec<CaseRecordView>,
    pub follow_ups: Vec<CaseRecordView>,
}

impl CaseRecords {
    pub fn of(&self, kind: CaseRecordKind) -> &[CaseRecordView] {
        match kind {
            CaseRecordKind::Screening => &self.screenings,
            CaseRecordKind::Assessment => &self.assessments,
            CaseRecordKind::Goal => &self.goals,
            CaseRecordKind::ResourceLink => &self.resource_links,
            CaseRecordKind::Intervention => &self.interventions,
            CaseRecordKind::FollowUp => &self.follow_ups,
        }
    }

    pub fn of_mut(&mut self, kind: CaseRecordKind) -> &mut Vec<CaseRecordView> {
        match kind {
            CaseRecordKind::Screening => &mut self.screenings,
            CaseRecordKind::Assessment => &mut self.assessments,
            CaseRecordKind::Goal => &mut self.goals,
            CaseRecordKind::ResourceLink => &mut self.resource_links,
            CaseRecordKind::Intervention => &mut self.interventions,
            CaseRecordKind::FollowUp => &mut self.follow_ups,
        }
    }
}

/// One thing still needed before the case's next step, said plainly (the domain's pipeline
/// rule: its `code` and both messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingItem {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// The record whose form supplies it (a goal also when one awaits its evaluation).
    pub record_kind: Option<CaseRecordKind>,
}

/// What checking a sign-off's seal found now: whether the signature verifies with one of the
/// supervisor's keys over the case as it stands. When not, `code` says why (`case_tampered`,
/// `signature_stale_generation`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealCheck {
    pub verified: bool,
    pub code: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

/// A supervisor's decision on a closure request. A returned closure carries the comments the
/// worker is to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureDecisionView {
    pub id: Uuid,
    pub decision: ClosureDecisionKind,
    pub comments: Option<String>,
    pub supervisor: Option<NamedRef>,
    pub decided_at: Option<DateTime<Utc>>,
    /// A sign-off's seal, checked now; `None` for a returned closure.
    pub seal: Option<SealCheck>,
}

/// Everything the case page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasePage {
    pub case: CaseView,
    pub recipient: CaseRecipient,
    /// The seven steps, 识别对象 to 结案.
    pub steps: Vec<CaseStep>,
    pub records: CaseRecords,
    /// The stage after the current one (`None` at follow-up, where closure is requested, and
    /// when closed).
    pub next_stage: Option<Stage>,
    /// Everything still needed before the next step (the next stage, or at follow-up the
    /// closure request); empty when it may be taken now.
    pub missing: Vec<MissingItem>,
    /// Whether the signed-in user may add and edit the case's records now (their case, neither
    /// closed nor awaiting the supervisor).
    pub may_edit: bool,
    /// Whether the signed-in user may request closure now.
    pub may_request_closure: bool,
    /// The supervisor's latest decision on a closure request, if any: when the case's
    /// `closure_status` is `Returned`, the return with the supervisor's comments.
    pub latest_decision: Option<ClosureDecisionView>,
    /// Whether the signed-in user may sign off or return the closure now (a supervisor of the
    /// case's station, while closure is requested).
    #[serde(default)]
    pub may_decide: bool,
    /// Whether the signed-in user may reopen the case now (it is closed, and the policy lets
    /// them).
    #[serde(default)]
    pub may_reopen: bool,
    /// Every reopening of the case, oldest first.
    #[serde(default)]
    pub reopenings: Vec<ReopeningView>,
    /// The recipient's most recent home visits, newest first.
    #[serde(default)]
    pub recent_visits: Vec<VisitView>,
}

/// A case just opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedCase {
    pub case_id: Uuid,
}

/// A stage record just saved, and the case page as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCaseRecord {
    pub id: Uuid,
    pub page: CasePage,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_record_kinds_are_the_domains_stage_records_but_decisions() {
        let kinds: Vec<EntityKind> = EntityKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_case_record() && *k != EntityKind::ClosureDecision)
            .collect();
        assert_eq!(kinds, CaseRecordKind::ALL.map(CaseRecordKind::entity_kind).to_vec());
        for kind in CaseRecordKind::ALL {
            assert_eq!(CaseRecordKind::of_entity_kind(kind.entity_kind()), Some(kind));
        }
        assert_eq!(CaseRecordKind::of_entity_kind(EntityKind::ClosureDecision), None);
        let stages: Vec<Stage> = CaseRecordKind::ALL.map(CaseRecordKind::stage).to_vec();
        assert_eq!(stages, Stage::ALL[..6].to_vec());
    }

    #[test]
    fn record_kinds_and_step_states_are_written_in_snake_case() {
        assert_eq!(serde_json::to_value(CaseRecordKind::ResourceLink).expect("json"), json!("resource_link"));
        assert_eq!(serde_json::to_value(CaseRecordKind::FollowUp).expect("json"), json!("follow_up"));
        let step = CaseStep { stage: Stage::FollowUp, state: StepState::Current };
        assert_eq!(serde_json::to_value(step).expect("json"), json!({ "stage": "FollowUp", "state": "current" }));
    }

    #[test]
    fn only_interventions_and_follow_up_visits_are_append_only() {
        let append_only: Vec<CaseRecordKind> = CaseRecordKind::ALL.into_iter().filter(|k| k.append_only()).collect();
        assert_eq!(append_only, [CaseRecordKind::Intervention, CaseRecordKind::FollowUp]);
    }
}
