//! The deputy head's screens (挂图作战): the station's case board, every open case by stage in
//! columns with its worker, village, days in stage and risk, stalled cases and overdue follow-ups
//! marked; reassigning a case; the stall threshold; and the station's counts at a glance. Also
//! what a worker's device keeps of changes refused because their case was reassigned meanwhile.

use chrono::{DateTime, NaiveDate, Utc};
use domain::case::{ClosureStatus, RiskLevel, Stage};
use domain::entity::EntityKind;
use domain::recipient::RecipientCategory;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedRef;

/// The board's filters; each `None` leaves its dimension unfiltered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseBoardQuery {
    pub worker_id: Option<Uuid>,
    /// The recipient's village.
    pub village_id: Option<Uuid>,
    /// The recipient's category.
    pub category: Option<RecipientCategory>,
    /// The risk level of the case's latest needs assessment.
    pub risk_level: Option<RiskLevel>,
    /// Adds the 结案 column (closed cases).
    pub include_closed: bool,
    /// How many cards each column carries, longest in the stage first ([`BoardColumn::total`]
    /// says how many there are); 0: [`CaseBoardQuery::DEFAULT_SHOWN`]. A station may hold
    /// thousands of open cases; a screenful per column is what a person reads.
    pub shown_per_column: u32,
}

impl CaseBoardQuery {
    pub const DEFAULT_SHOWN: u32 = 30;

    /// The cards each column carries.
    pub fn shown(&self) -> usize {
        if self.shown_per_column == 0 { Self::DEFAULT_SHOWN as usize } else { self.shown_per_column as usize }
    }
}

/// The case board of the signed-in deputy head's station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseBoard {
    pub station: NamedRef,
    /// Days in one stage over which a case counts as stalled: the station's setting, or
    /// `domain::entity::DEFAULT_STALL_DAYS` when it sets none (`stall_days_set` false).
    pub stall_days: i64,
    pub stall_days_set: bool,
    /// One column per stage in pipeline order: the six open stages, and 结案 when asked for.
    pub columns: Vec<BoardColumn>,
    /// What the filters offer.
    pub options: BoardFilterOptions,
    /// Whether the signed-in user may reassign the station's cases (the policy's verdict).
    pub may_reassign: bool,
    /// Whether the signed-in user may set the stall threshold (the policy's verdict).
    pub may_set_stall_days: bool,
}

/// One stage's column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardColumn {
    pub stage: Stage,
    /// Longest in the stage first; at most [`CaseBoardQuery::shown`] of them.
    pub cards: Vec<BoardCard>,
    /// The cases in this column, shown or not.
    #[serde(default)]
    pub total: u32,
}

/// One case on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardCard {
    pub case_id: Uuid,
    /// `None` while the record is not on this computer (likewise `worker`, `village`).
    pub recipient: Option<NamedRef>,
    pub worker: Option<NamedRef>,
    pub village: Option<NamedRef>,
    pub stage: Stage,
    pub closure_status: ClosureStatus,
    pub stage_entered_on: Option<NaiveDate>,
    pub days_in_stage: Option<i64>,
    /// The risk level of the latest needs assessment.
    pub risk_level: Option<RiskLevel>,
    /// Open and in its stage for more than the station's stall threshold.
    pub stalled: bool,
    /// A follow-up visit is due (跟踪问效 without a visit for 30 days) or a goal is past its
    /// target date without an evaluation.
    pub follow_up_overdue: bool,
    /// Whether the case may be given to another worker now: not closed, and no closure waiting
    /// for the supervisor (the pipeline refuses both).
    pub reassignable: bool,
}

/// The choices of the board's filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFilterOptions {
    /// The station's active social workers and deputy heads, by name: the filter's workers and
    /// whom a case may be reassigned to.
    pub workers: Vec<NamedRef>,
    /// The station's villages, by name.
    pub villages: Vec<NamedRef>,
    pub categories: Vec<RecipientCategory>,
    pub risk_levels: Vec<RiskLevel>,
}

/// A bar of a small chart: a named count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarCount {
    /// The worker or village; `None` for visits naming none.
    pub id: Option<Uuid>,
    /// Empty while the record is not on this computer.
    pub name: String,
    pub count: u64,
}

/// Open cases in one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCount {
    pub stage: Stage,
    pub count: u64,
}

/// The station's counts at a glance, from this computer's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationDashboard {
    pub station: NamedRef,
    /// The first day of the month counted (this month) and today.
    pub month_from: NaiveDate,
    pub month_to: NaiveDate,
    /// Home visits this month per worker, most first.
    pub visits_by_worker: Vec<BarCount>,
    /// Home visits this month per village, most first.
    pub visits_by_village: Vec<BarCount>,
    /// Open cases per stage, every open stage in pipeline order (zero included).
    pub open_by_stage: Vec<StageCount>,
    /// Closure requests waiting for the supervisor's sign-off.
    pub closures_waiting: u64,
    /// Open cases over the stall threshold.
    pub stalled: u64,
    /// Open cases with a follow-up visit or a goal overdue.
    pub follow_ups_overdue: u64,
    /// Changes the server refused. Only this computer's own: a device knows the refusals of the
    /// changes it sent, not those of other workers' devices.
    pub refused_changes: u64,
    /// Open conflicts held on this computer.
    pub conflicts_open: u64,
}

/// A change of this device refused because its case had been reassigned to another worker while
/// this one worked offline: kept (never lost), explained, and written out as text to hand over to
/// the worker who has the case now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandedOverChange {
    pub change_id: Uuid,
    pub kind: EntityKind,
    pub case_id: Option<Uuid>,
    /// The person the case is about, when known here.
    pub recipient_name: Option<String>,
    /// The worker the case is assigned to now, as the server named them.
    pub now_assigned_to: Option<String>,
    pub message_zh: String,
    pub message_en: String,
    /// The change's content as a note for the new owner: the record's kind, the person, and each
    /// field written with its label and value.
    pub note_zh: String,
    pub note_en: String,
    pub recorded_at: Option<DateTime<Utc>>,
}
