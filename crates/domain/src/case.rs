//! Cases (个案) and what each stage of the pipeline records.
//!
//! 识别对象 Identify → 分析需求 Assess → 制定计划 Plan → 协调资源 Coordinate → 专业介入 Intervene →
//! 跟踪问效 FollowUp → 结案 Closed. The rules for moving between stages are in [`crate::pipeline`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Id;

labelled_enum! {
    pub enum Stage {
        Identify => "识别对象", "Identify",
        Assess => "分析需求", "Assess",
        Plan => "制定计划", "Plan",
        Coordinate => "协调资源", "Coordinate",
        Intervene => "专业介入", "Intervene",
        FollowUp => "跟踪问效", "Follow-up",
        Closed => "结案", "Closed",
    }
    names = STAGE_NAMES;
}

impl Stage {
    /// The stage after this one, if any. `FollowUp` has none: closure goes through sign-off.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Identify => Some(Stage::Assess),
            Stage::Assess => Some(Stage::Plan),
            Stage::Plan => Some(Stage::Coordinate),
            Stage::Coordinate => Some(Stage::Intervene),
            Stage::Intervene => Some(Stage::FollowUp),
            Stage::FollowUp | Stage::Closed => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

labelled_enum! {
    /// Where a case stands on its way to closure.
    pub enum ClosureStatus {
        Open => "进行中", "Open",
        Requested => "已申请结案", "Closure requested",
        Returned => "结案被退回", "Closure returned",
        SignedOff => "已结案", "Signed off",
    }
    names = CLOSURE_STATUS_NAMES;
}

/// A case: one recipient's journey through the pipeline, assigned to one social worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: Id,
    pub station_id: Id,
    pub recipient_id: Id,
    pub worker_id: Id,
    pub stage: Stage,
    pub stage_entered_on: NaiveDate,
    pub opened_on: NaiveDate,
    /// The intervention strategy written at the Plan stage.
    pub plan_strategy: Option<String>,
    pub closure_status: ClosureStatus,
    /// The worker's summary when requesting closure.
    pub closure_summary: Option<String>,
    pub closure_requested_on: Option<NaiveDate>,
    /// The supervisor's comments when returning a closure request.
    pub closure_comments: Option<String>,
    /// How many times the case has been reopened (absent: never). A sign-off is bound to it
    /// (see [`crate::signoff`]).
    #[serde(default)]
    pub reopen_generation: i64,
}

labelled_enum! {
    /// How the person was found (识别对象).
    pub enum ScreeningSource {
        VisitScreening => "走访排查", "Visit screening",
        Referral => "转介", "Referral",
        Hotline => "热线", "Hotline",
        WalkIn => "主动求助", "Walk-in",
    }
    names = SCREENING_SOURCE_NAMES;
}

/// Identify: how and when the person came to the station's attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub source: ScreeningSource,
    pub found_on: NaiveDate,
    pub notes: Option<String>,
}

labelled_enum! {
    pub enum RiskLevel {
        Low => "低", "Low",
        Medium => "中", "Medium",
        High => "高", "High",
        Critical => "危急", "Critical",
    }
    names = RISK_LEVEL_NAMES;
}

/// Assess: the needs assessment (分析需求).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub assessed_on: NaiveDate,
    pub living_conditions: Option<String>,
    pub health: Option<String>,
    pub psychology: Option<String>,
    pub family_support: Option<String>,
    pub social_support: Option<String>,
    pub risk_level: RiskLevel,
    pub needs_summary: String,
}

labelled_enum! {
    /// How far a plan goal was reached, judged at follow-up.
    pub enum GoalEvaluation {
        Achieved => "已达成", "Achieved",
        PartlyAchieved => "部分达成", "Partly achieved",
        NotAchieved => "未达成", "Not achieved",
    }
    names = GOAL_EVALUATION_NAMES;
}

/// Plan: one service goal with its target date; evaluated at follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub description: String,
    pub target_date: NaiveDate,
    pub evaluation: Option<GoalEvaluation>,
    pub evaluation_notes: Option<String>,
}

labelled_enum! {
    /// What kind of help was linked. Benefit applications are assistance with applying: social
    /// workers never grant, confirm, approve or pay benefits (Hunan's negative list).
    pub enum ResourceLinkKind {
        BenefitApplication => "协助申请政策", "Benefit application (assisted)",
        Charity => "慈善资源", "Charity",
        Volunteer => "志愿者", "Volunteers",
        Department => "部门协调", "Other department",
        Enterprise => "企业资源", "Enterprise",
        Community => "社区资源", "Community",
    }
    names = RESOURCE_LINK_KIND_NAMES;
}

labelled_enum! {
    pub enum ResourceLinkStatus {
        Requested => "已提出", "Requested",
        InProgress => "办理中", "In progress",
        Secured => "已落实", "Secured",
        Declined => "未获得", "Declined",
    }
    names = RESOURCE_LINK_STATUS_NAMES;
}

/// Coordinate: a resource linked into the plan (协调资源).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceLink {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub resource_id: Option<Id>,
    pub kind: ResourceLinkKind,
    pub description: String,
    pub status: ResourceLinkStatus,
    pub linked_on: NaiveDate,
}

labelled_enum! {
    /// 服务内容: the services named in the policy documents.
    pub enum ServiceType {
        EmotionalCounselling => "情绪疏导", "Emotional counselling",
        PsychologicalComfort => "心理抚慰", "Psychological comfort",
        SpiritualCare => "精神关爱", "Spiritual care",
        RelationshipMediation => "关系调适", "Relationship mediation",
        CapacityBuilding => "能力建设", "Capacity building",
        ResourceLinking => "资源链接", "Resource linking",
        SocialIntegration => "社会融入", "Social integration",
        LivelihoodDevelopment => "生计发展", "Livelihood development",
        FamilyVisit => "家庭探访", "Family visit",
        CrisisIntervention => "危机干预", "Crisis intervention",
        RightsProtection => "权益维护", "Rights protection",
        DisputeResolution => "矛盾化解", "Dispute resolution",
    }
    names = SERVICE_TYPE_NAMES;
}

labelled_enum! {
    pub enum ServiceMethod {
        Casework => "个案", "Casework",
        GroupWork => "小组", "Group work",
        CommunityActivity => "社区活动", "Community activity",
    }
    names = SERVICE_METHOD_NAMES;
}

/// Intervene: one service record (专业介入). Append-only; corrections amend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub worker_id: Id,
    pub delivered_on: NaiveDate,
    pub service_type: ServiceType,
    pub method: ServiceMethod,
    pub duration_minutes: i64,
    pub notes: String,
    pub amends: Option<Id>,
}

/// FollowUp: one follow-up visit (跟踪问效). Append-only; corrections amend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub worker_id: Id,
    pub visited_on: NaiveDate,
    pub notes: String,
    pub amends: Option<Id>,
}

labelled_enum! {
    pub enum ClosureDecisionKind {
        SignedOff => "同意结案", "Signed off",
        Returned => "退回", "Returned",
    }
    names = CLOSURE_DECISION_KIND_NAMES;
}

/// A supervisor's decision on a closure request. A sign-off carries an Ed25519 signature over
/// the case's state ([`crate::signoff`]), so a signed closure is tamper-evident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosureDecision {
    pub id: Id,
    pub station_id: Id,
    pub case_id: Id,
    pub supervisor_id: Id,
    pub decision: ClosureDecisionKind,
    pub comments: Option<String>,
    pub decided_at: DateTime<Utc>,
    /// Hex SHA-256 of the case's canonical content when it was signed.
    pub case_digest: Option<String>,
    /// Hex Ed25519 signature over [`crate::signoff::message_v2`] (or [`crate::signoff::message`]
    /// for a version 1 seal).
    pub signature: Option<String>,
    /// Hex Ed25519 public key of the signing device.
    pub public_key: Option<String>,
    /// The case's reopen generation the sign-off was made for (seal version 2); absent on
    /// returned closures and on sign-offs of older builds (seal version 1).
    #[serde(default)]
    pub case_generation: Option<i64>,
}
