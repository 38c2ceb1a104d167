//! Supervision, training, working time and the standards view (issue 14): what `#/supervision`,
//! `#/training` and `#/standards` show.

use chrono::NaiveDate;
use domain::standards::{Measure, Period, StandardSet, Standing};
use domain::workforce::{Qualification, SupervisionMode, TrainingKind, WorkKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedRef;

/// A supervision plan announced in advance (督导计划).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionPlanRow {
    pub id: Uuid,
    pub station: NamedRef,
    pub supervisor: Option<NamedRef>,
    pub planned_on: NaiveDate,
    pub mode: SupervisionMode,
    pub planned_minutes: u32,
    pub topics: String,
    /// Whether a session was recorded for the plan.
    pub held: bool,
    /// Every stored field by name: its edit form starts from them.
    #[serde(default)]
    pub fields: super::FieldValues,
}

/// A supervision session held (督导记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionSessionRow {
    pub id: Uuid,
    pub station: NamedRef,
    pub supervisor: Option<NamedRef>,
    pub plan_id: Option<Uuid>,
    pub held_on: NaiveDate,
    pub mode: SupervisionMode,
    pub duration_minutes: u32,
    pub topics: String,
    pub cases_discussed: Option<String>,
    pub feedback: Option<String>,
    /// Whether the signed-in user may write its feedback (the supervisor who held it).
    pub may_give_feedback: bool,
}

/// `#/supervision`: the plans and sessions of the stations the user sees, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionPage {
    /// The stations the user may record supervision for (a supervisor's), for the forms.
    pub stations: Vec<NamedRef>,
    pub plans: Vec<SupervisionPlanRow>,
    pub sessions: Vec<SupervisionSessionRow>,
    pub may_record: bool,
}

/// One training record of a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingRow {
    pub id: Uuid,
    pub kind: TrainingKind,
    pub title: String,
    pub trained_on: NaiveDate,
    pub duration_minutes: u32,
    pub provider: Option<String>,
    /// Every stored field by name: its edit form starts from them.
    #[serde(default)]
    pub fields: super::FieldValues,
}

/// One stretch of a worker's working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTimeRow {
    pub id: Uuid,
    pub worked_on: NaiveDate,
    pub kind: WorkKind,
    pub duration_minutes: u32,
    pub notes: Option<String>,
}

/// `#/training`: the signed-in worker's qualification, training records and working time, newest
/// first, with this year's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingPage {
    pub worker: NamedRef,
    pub station_id: Uuid,
    pub qualification: Option<Qualification>,
    pub training: Vec<TrainingRow>,
    pub work: Vec<WorkTimeRow>,
    /// This year's training minutes, by kind (every kind, in vocabulary order).
    pub training_minutes_this_year: Vec<(TrainingKind, u64)>,
    /// This year's professional service minutes and all working minutes.
    pub professional_minutes_this_year: u64,
    pub work_minutes_this_year: u64,
}

/// One rule checked for one station or worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingRow {
    pub rule_zh: String,
    pub rule_en: String,
    pub measure: Measure,
    pub period: Period,
    pub standing: Standing,
    /// Minutes, sessions or per mille, as `measure` counts.
    pub achieved: u64,
    pub required: u64,
    pub due_by_now: u64,
}

/// A worker's standings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStandings {
    pub worker: NamedRef,
    pub qualification: Option<Qualification>,
    pub rows: Vec<StandingRow>,
}

/// One station and its workers against the station's standards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationStandards {
    pub station: NamedRef,
    /// `None`: the station has not chosen its standards yet.
    pub standard_set: Option<StandardSet>,
    pub may_set_standard_set: bool,
    pub may_set_qualification: bool,
    pub station_rows: Vec<StandingRow>,
    pub workers: Vec<WorkerStandings>,
}

/// `#/standards`: each station the user sees, and its workers, against its standards as of today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardsView {
    pub today: NaiveDate,
    pub stations: Vec<StationStandards>,
}
