//! The queries the screens need: the roster with its filters and three kinds of search, the
//! case board, overdue work, a recipient's ledger, an entity's history, open conflicts and
//! rejected changes. Hand-written SQL over the indexes of migrations 0002 and 0003; every list
//! pages with `limit`/`offset`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::Labelled;
use domain::case::{ClosureStatus, RiskLevel, Stage};
use domain::change::{FieldWrite, Op};
use domain::entity::{EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::recipient::RecipientCategory;
use domain::rules::RejectionInfo;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, params, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::rows::{self, parse_id};
use crate::search;
use crate::write::{CHANGE_COLUMNS, change_from_row, parse_hlc, parse_kind};
use crate::{Store, StoreError};

/// The page size a default filter asks for.
pub const DEFAULT_PAGE: usize = 50;
/// A case in the follow-up stage is overdue when its last follow-up visit (or, without one, its
/// entry into the stage) is more than this many days ago.
pub const FOLLOW_UP_INTERVAL_DAYS: i64 = 30;
/// A recipient is overdue for a visit when their latest visit asked for follow-up and was made
/// more than this many days ago (nobody has been back since).
pub const VISIT_FOLLOW_UP_DAYS: i64 = 14;

/// How the roster is searched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Search {
    /// Chinese substring of the name (`三` finds 张三), or pinyin initials when the text is
    /// Latin letters only (`zs` finds 张三; a prefix of the initials).
    Name(String),
    /// The end of the resident ID number (`002X`); `x` counts as `X`.
    IdSuffix(String),
    /// The end (or the beginning) of the mobile number.
    Phone(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RosterFilter {
    pub station_id: Option<Uuid>,
    pub category: Option<RecipientCategory>,
    pub village_id: Option<Uuid>,
    pub service_point_id: Option<Uuid>,
    /// Recipients with a case assigned to this worker.
    pub worker_id: Option<Uuid>,
    pub search: Option<Search>,
    pub limit: usize,
    pub offset: usize,
}

impl Default for RosterFilter {
    fn default() -> Self {
        RosterFilter {
            station_id: None,
            category: None,
            village_id: None,
            service_point_id: None,
            worker_id: None,
            search: None,
            limit: DEFAULT_PAGE,
            offset: 0,
        }
    }
}

/// One line of the roster, sorted by pinyin initials then name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterRow {
    pub id: Uuid,
    pub station_id: Option<Uuid>,
    pub name: String,
    pub id_number: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    /// Stored names of the categories (`RecipientCategory::as_str`).
    pub categories: Vec<String>,
    pub village_id: Option<Uuid>,
    pub village_name: Option<String>,
    pub household_id: Option<Uuid>,
    pub last_visit_on: Option<NaiveDate>,
    /// The latest visit asked for follow-up.
    pub follow_up_needed: bool,
    /// Cases of this recipient not closed.
    pub open_cases: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseBoardFilter {
    pub station_id: Option<Uuid>,
    pub stage: Option<Stage>,
    pub worker_id: Option<Uuid>,
    /// The recipient's village.
    pub village_id: Option<Uuid>,
    /// Cases of recipients of this category.
    pub category: Option<RecipientCategory>,
    /// Cases whose latest needs assessment gives this risk level.
    pub risk_level: Option<RiskLevel>,
    /// Closed cases are left out unless asked for (or unless `stage` is `Closed`).
    pub include_closed: bool,
    pub limit: usize,
    pub offset: usize,
}

impl Default for CaseBoardFilter {
    fn default() -> Self {
        CaseBoardFilter {
            station_id: None,
            stage: None,
            worker_id: None,
            village_id: None,
            category: None,
            risk_level: None,
            include_closed: false,
            limit: DEFAULT_PAGE,
            offset: 0,
        }
    }
}

/// One card of the case board, longest in its stage first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseBoardRow {
    pub case_id: Uuid,
    pub recipient_id: Option<Uuid>,
    pub recipient_name: Option<String>,
    pub worker_id: Option<Uuid>,
    pub worker_name: Option<String>,
    pub village_id: Option<Uuid>,
    pub village_name: Option<String>,
    pub stage: Option<Stage>,
    pub closure_status: Option<ClosureStatus>,
    pub stage_entered_on: Option<NaiveDate>,
    pub opened_on: Option<NaiveDate>,
    pub days_in_stage: Option<i64>,
    /// The risk level of the case's latest needs assessment (by date, then as recorded).
    pub risk_level: Option<RiskLevel>,
}

/// A screenful of the case board per stage, and each stage's count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseBoardByStage {
    /// The cases shown, longest in their stage first.
    pub rows: Vec<CaseBoardRow>,
    /// How many cases each stage has (stages without any left out), in pipeline order.
    pub totals: Vec<(Stage, u64)>,
}

/// The risk level of case `c`'s latest needs assessment.
const LATEST_RISK: &str = "(SELECT a.risk_level FROM assessments a WHERE a.case_id = c.id
     ORDER BY a.assessed_on DESC, a.created_hlc DESC LIMIT 1)";

/// Why something is on the overdue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverdueReason {
    /// A follow-up-stage case without a follow-up visit for [`FOLLOW_UP_INTERVAL_DAYS`].
    FollowUpDue,
    /// A goal of an open case past its target date without an evaluation.
    GoalPastTarget,
    /// A recipient whose latest visit asked for follow-up, made over [`VISIT_FOLLOW_UP_DAYS`] ago.
    VisitFollowUpDue,
}

/// One overdue item, most overdue first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueRow {
    pub reason: OverdueReason,
    pub case_id: Option<Uuid>,
    /// The goal or visit concerned, when the reason is about one.
    pub record_id: Option<Uuid>,
    pub recipient_id: Option<Uuid>,
    pub recipient_name: Option<String>,
    pub worker_id: Option<Uuid>,
    pub worker_name: Option<String>,
    pub village_name: Option<String>,
    /// The day it fell due.
    pub due_on: NaiveDate,
    pub days_overdue: i64,
}

/// One thing done for a recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub kind: EntityKind,
    pub id: Uuid,
    pub case_id: Option<Uuid>,
    /// The day it was done (a goal: the day it was set).
    pub date: NaiveDate,
    /// The record's main text (observations, notes, needs summary, stage...).
    pub summary: String,
    /// Who did it: the worker, the supervisor, or the author of the record.
    pub author_id: Option<Uuid>,
    pub author_name: Option<String>,
    pub hlc: Hlc,
}

/// One edit of an entity, for the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// `None` for a creation known only from the row (pulled creations are not kept as changes).
    pub change_id: Option<Uuid>,
    pub op: Op,
    pub hlc: Hlc,
    pub at: DateTime<Utc>,
    pub author_id: Uuid,
    pub author_name: Option<String>,
    pub device_id: Uuid,
    /// The values written.
    pub fields: BTreeMap<String, Value>,
    /// `pending`, `accepted`, `rejected`, `pulled`, or `created` (from the row).
    pub status: String,
}

/// An overwritten value nobody has seen yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub entity_kind: EntityKind,
    pub entity_id: Uuid,
    pub field: String,
    pub lost_value: Value,
    pub lost_hlc: Hlc,
    pub lost_author_id: Option<Uuid>,
    pub lost_author_name: Option<String>,
    pub current_value: Option<Value>,
    pub current_hlc: Option<Hlc>,
    pub current_author_id: Option<Uuid>,
}

/// A change of this device the server refused, with its payload and reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub device_seq: u64,
    pub change_id: Uuid,
    pub entity_kind: EntityKind,
    pub entity_id: Uuid,
    pub op: Op,
    pub fields: BTreeMap<String, FieldWrite>,
    pub hlc: Hlc,
    pub rejection: RejectionInfo,
    pub recorded_at: String,
    /// Not refused: set aside, because the server could not take it as sent (too large, or it
    /// failed on it). It keeps its local effect and is sent again later; `rejection` says why.
    #[serde(default)]
    pub set_aside: bool,
}

/// A `WHERE` clause built term by term with positional parameters.
#[derive(Default)]
struct Conditions {
    terms: Vec<String>,
    args: Vec<SqlValue>,
}

impl Conditions {
    fn add(&mut self, term: &str, args: impl IntoIterator<Item = SqlValue>) {
        self.terms.push(term.to_owned());
        self.args.extend(args);
    }

    fn sql(&self) -> String {
        if self.terms.is_empty() { "1 = 1".into() } else { self.terms.join(" AND ") }
    }
}

fn text(s: impl Into<String>) -> SqlValue {
    SqlValue::Text(s.into())
}

fn id_arg(id: Uuid) -> SqlValue {
    SqlValue::Text(id.to_string())
}

fn page(n: usize) -> SqlValue {
    SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_id(s: Option<String>) -> Result<Option<Uuid>, StoreError> {
    s.as_deref().map(parse_id).transpose()
}

fn opt_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d").ok())
}

fn date_of_hlc(hlc: &Hlc) -> NaiveDate {
    let millis = i64::try_from(hlc.millis).unwrap_or(i64::MAX);
    DateTime::from_timestamp_millis(millis).unwrap_or_default().date_naive()
}

fn roster_conditions(filter: &RosterFilter) -> Conditions {
    let mut c = Conditions::default();
    if let Some(station) = filter.station_id {
        c.add("r.station_id = ?", [id_arg(station)]);
    }
    if let Some(category) = filter.category {
        c.add("(r.category_mask & ?) <> 0", [SqlValue::Integer(i64::from(category.bit()))]);
    }
    if let Some(village) = filter.village_id {
        c.add("r.village_id = ?", [id_arg(village)]);
    }
    if let Some(point) = filter.service_point_id {
        c.add("r.village_id IN (SELECT id FROM villages WHERE service_point_id = ?)", [id_arg(point)]);
    }
    if let Some(worker) = filter.worker_id {
        c.add("r.id IN (SELECT recipient_id FROM cases WHERE worker_id = ?)", [id_arg(worker)]);
    }
    match &filter.search {
        None => {}
        Some(Search::Name(query)) => {
            let query = query.trim();
            if search::is_initials_query(query) {
                let pattern = format!("{}*", query.to_ascii_lowercase());
                c.add(
                    "(r.name_initials GLOB ? OR r.name_initials_alt GLOB ?)",
                    [text(&pattern), text(pattern.clone())],
                );
            } else if !query.is_empty() {
                c.add("r.name LIKE ? ESCAPE '\\'", [text(format!("%{}%", search::like_escape(query)))]);
            }
        }
        Some(Search::IdSuffix(suffix)) => {
            let suffix = suffix.trim().to_uppercase();
            if !suffix.is_empty() {
                let pattern = format!("{}*", search::glob_escape(&search::reversed(&suffix)));
                c.add("r.id_number_rev GLOB ?", [text(pattern)]);
            }
        }
        Some(Search::Phone(digits)) => {
            let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                c.add(
                    "(r.phone_rev GLOB ? OR r.phone GLOB ?)",
                    [text(format!("{}*", search::reversed(&digits))), text(format!("{digits}*"))],
                );
            }
        }
    }
    c
}

/// The case board's conditions on `c` (cases) and `r` (recipients).
fn case_conditions(filter: &CaseBoardFilter) -> Conditions {
    let mut c = Conditions::default();
    if let Some(station) = filter.station_id {
        c.add("c.station_id = ?", [id_arg(station)]);
    }
    if let Some(stage) = filter.stage {
        c.add("c.stage = ?", [text(stage.as_str())]);
    } else if !filter.include_closed {
        c.add("c.stage <> 'Closed'", []);
    }
    if let Some(worker) = filter.worker_id {
        c.add("c.worker_id = ?", [id_arg(worker)]);
    }
    if let Some(village) = filter.village_id {
        c.add("r.village_id = ?", [id_arg(village)]);
    }
    if let Some(category) = filter.category {
        c.add("(r.category_mask & ?) <> 0", [SqlValue::Integer(i64::from(category.bit()))]);
    }
    if let Some(risk) = filter.risk_level {
        c.add(&format!("{LATEST_RISK} = ?"), [text(risk.as_str())]);
    }
    c
}

impl Store {
    /// The roster, filtered, searched and paged; sorted by pinyin initials, then name.
    pub fn roster(&self, filter: &RosterFilter) -> Result<Vec<RosterRow>, StoreError> {
        let mut c = roster_conditions(filter);
        let sql = format!(
            "SELECT r.id, r.station_id, r.name, r.id_number, r.gender, r.birth_date, r.phone, r.categories,
                    r.village_id, vl.name, r.household_id, r.last_visit_on, r.last_visit_follow_up,
                    (SELECT count(*) FROM cases c WHERE c.recipient_id = r.id AND c.stage <> 'Closed')
             FROM recipients r LEFT JOIN villages vl ON vl.id = r.village_id
             WHERE {}
             ORDER BY r.name_initials, r.name, r.id LIMIT ? OFFSET ?",
            c.sql()
        );
        c.args.extend([page(filter.limit), page(filter.offset)]);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows_iter = stmt.query(params_from_iter(c.args))?;
        let mut out = Vec::new();
        while let Some(row) = rows_iter.next()? {
            out.push(roster_row(row)?);
        }
        Ok(out)
    }

    /// How many recipients the filter matches (ignoring `limit` and `offset`).
    pub fn roster_count(&self, filter: &RosterFilter) -> Result<u64, StoreError> {
        let c = roster_conditions(filter);
        let sql = format!("SELECT count(*) FROM recipients r WHERE {}", c.sql());
        let n: i64 = self.conn.prepare_cached(&sql)?.query_row(params_from_iter(c.args), |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The case board: cases with their recipient, worker and village, days in stage and the
    /// latest risk level; filtered by station, stage, worker, village, the recipient's category
    /// and the risk level.
    pub fn case_board(&self, filter: &CaseBoardFilter, today: NaiveDate) -> Result<Vec<CaseBoardRow>, StoreError> {
        let mut c = case_conditions(filter);
        let sql = format!(
            "SELECT c.id, c.recipient_id, r.name, c.worker_id, u.display_name, r.village_id, vl.name,
                    c.stage, c.closure_status, c.stage_entered_on, c.opened_on, {LATEST_RISK}
             FROM cases c
             LEFT JOIN recipients r ON r.id = c.recipient_id
             LEFT JOIN users u ON u.id = c.worker_id
             LEFT JOIN villages vl ON vl.id = r.village_id
             WHERE {}
             ORDER BY c.stage_entered_on, c.id LIMIT ? OFFSET ?",
            c.sql()
        );
        c.args.extend([page(filter.limit), page(filter.offset)]);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows_iter = stmt.query(params_from_iter(c.args))?;
        let mut out = Vec::new();
        while let Some(row) = rows_iter.next()? {
            out.push(case_board_row(row, today)?);
        }
        Ok(out)
    }

    /// The case board a column at a time: of the cases `filter` matches (its `limit` and
    /// `offset` aside), the first `per_stage` of each stage (longest in their stage first), and
    /// how many each stage has. Only the cases shown are joined with their recipient, worker,
    /// village and latest assessment, so a station of thousands of cases costs a screenful.
    pub fn case_board_by_stage(
        &self,
        filter: &CaseBoardFilter,
        per_stage: usize,
        today: NaiveDate,
    ) -> Result<CaseBoardByStage, StoreError> {
        let mut c = case_conditions(filter);
        // The recipient is joined only when a condition is about them.
        let recipients = if filter.village_id.is_some() || filter.category.is_some() {
            "LEFT JOIN recipients r ON r.id = c.recipient_id"
        } else {
            ""
        };
        let sql = format!(
            "WITH matched AS (
                SELECT c.id,
                       row_number() OVER (PARTITION BY c.stage ORDER BY c.stage_entered_on, c.id) AS place,
                       count(*) OVER (PARTITION BY c.stage) AS total
                FROM cases c {recipients}
                WHERE {})
             SELECT c.id, c.recipient_id, r.name, c.worker_id, u.display_name, r.village_id, vl.name,
                    c.stage, c.closure_status, c.stage_entered_on, c.opened_on, {LATEST_RISK}, m.total
             FROM matched m
             JOIN cases c ON c.id = m.id
             LEFT JOIN recipients r ON r.id = c.recipient_id
             LEFT JOIN users u ON u.id = c.worker_id
             LEFT JOIN villages vl ON vl.id = r.village_id
             WHERE m.place <= ?
             ORDER BY c.stage_entered_on, c.id",
            c.sql()
        );
        // One row per stage at least, to carry its total.
        c.args.push(page(per_stage.max(1)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows_iter = stmt.query(params_from_iter(c.args))?;
        let mut board = CaseBoardByStage::default();
        let mut shown: BTreeMap<Option<Stage>, usize> = BTreeMap::new();
        while let Some(row) = rows_iter.next()? {
            let case = case_board_row(row, today)?;
            let total = u64::try_from(row.get::<_, i64>(12)?).unwrap_or(0);
            if let Some(stage) = case.stage
                && !board.totals.iter().any(|(s, _)| *s == stage)
            {
                board.totals.push((stage, total));
            }
            let count = shown.entry(case.stage).or_default();
            if *count < per_stage {
                *count += 1;
                board.rows.push(case);
            }
        }
        board.totals.sort_by_key(|(stage, _)| stage.index());
        Ok(board)
    }

    /// The open cases of `station_id` with work overdue: at follow-up without a follow-up visit
    /// for [`FOLLOW_UP_INTERVAL_DAYS`] (closure not requested), or a goal past its target date
    /// without an evaluation. The same cases as [`Store::overdue_follow_ups`] names, without
    /// the names.
    pub fn overdue_case_ids(&self, station_id: Uuid, today: NaiveDate) -> Result<BTreeSet<Uuid>, StoreError> {
        let cutoff = today - chrono::Duration::days(FOLLOW_UP_INTERVAL_DAYS);
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id FROM cases c
             WHERE c.station_id = ?1 AND c.stage = 'FollowUp' AND coalesce(c.closure_status, 'Open') <> 'Requested'
               AND coalesce((SELECT max(f.visited_on) FROM follow_ups f WHERE f.case_id = c.id), c.stage_entered_on) < ?2
             UNION
             SELECT c.id FROM goals g JOIN cases c ON c.id = g.case_id
             WHERE c.station_id = ?1 AND c.stage <> 'Closed' AND g.evaluation IS NULL AND g.target_date < ?3",
        )?;
        let mut rows_iter = stmt.query(params![station_id.to_string(), cutoff.to_string(), today.to_string()])?;
        let mut out = BTreeSet::new();
        while let Some(row) = rows_iter.next()? {
            out.insert(parse_id(&row.get::<_, String>(0)?)?);
        }
        Ok(out)
    }

    /// How many open cases of `station_id` have been in their stage over `stall_days` days.
    pub fn stalled_count(&self, station_id: Uuid, today: NaiveDate, stall_days: i64) -> Result<u64, StoreError> {
        let entered_before = today - chrono::Duration::days(stall_days);
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM cases
                 WHERE station_id = ?1 AND stage <> 'Closed' AND stage_entered_on < ?2",
            )?
            .query_row(params![station_id.to_string(), entered_before.to_string()], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Overdue work, most overdue first: follow-up-stage cases without a follow-up visit for
    /// [`FOLLOW_UP_INTERVAL_DAYS`]; goals of open cases past their target date without an
    /// evaluation; recipients whose latest visit asked for follow-up over
    /// [`VISIT_FOLLOW_UP_DAYS`] ago. The filter's station, worker (the case's worker, or the
    /// visit's) and village apply to all three; a stage filter keeps only cases in that stage
    /// (and so leaves out the visits).
    pub fn overdue_follow_ups(
        &self,
        filter: &CaseBoardFilter,
        today: NaiveDate,
    ) -> Result<Vec<OverdueRow>, StoreError> {
        let wanted = filter.offset.saturating_add(filter.limit);
        let mut all = Vec::new();
        let case_filter = CaseBoardFilter { include_closed: false, ..filter.clone() };

        if filter.stage.is_none_or(|s| s == Stage::FollowUp) {
            let cutoff = today - chrono::Duration::days(FOLLOW_UP_INTERVAL_DAYS);
            let mut c = case_conditions(&case_filter);
            c.add("c.stage = 'FollowUp'", []);
            c.add("coalesce(c.closure_status, 'Open') <> 'Requested'", []);
            let sql = format!(
                "SELECT * FROM (
                    SELECT c.id, c.recipient_id, r.name, c.worker_id, u.display_name, vl.name,
                           coalesce((SELECT max(f.visited_on) FROM follow_ups f WHERE f.case_id = c.id),
                                    c.stage_entered_on) AS last_on
                    FROM cases c
                    LEFT JOIN recipients r ON r.id = c.recipient_id
                    LEFT JOIN users u ON u.id = c.worker_id
                    LEFT JOIN villages vl ON vl.id = r.village_id
                    WHERE {})
                 WHERE last_on < ? ORDER BY last_on LIMIT ?",
                c.sql()
            );
            c.args.extend([text(cutoff.to_string()), page(wanted)]);
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows_iter = stmt.query(params_from_iter(c.args))?;
            while let Some(row) = rows_iter.next()? {
                let Some(last) = opt_date(row.get(6)?) else {
                    continue;
                };
                let due_on = last + chrono::Duration::days(FOLLOW_UP_INTERVAL_DAYS);
                all.push(OverdueRow {
                    reason: OverdueReason::FollowUpDue,
                    case_id: opt_id(row.get(0)?)?,
                    record_id: None,
                    recipient_id: opt_id(row.get(1)?)?,
                    recipient_name: row.get(2)?,
                    worker_id: opt_id(row.get(3)?)?,
                    worker_name: row.get(4)?,
                    village_name: row.get(5)?,
                    due_on,
                    days_overdue: (today - due_on).num_days(),
                });
            }
        }

        {
            let mut c = case_conditions(&case_filter);
            c.add("g.evaluation IS NULL", []);
            c.add("g.target_date < ?", [text(today.to_string())]);
            let sql = format!(
                "SELECT g.id, c.id, c.recipient_id, r.name, c.worker_id, u.display_name, vl.name, g.target_date
                 FROM goals g
                 JOIN cases c ON c.id = g.case_id
                 LEFT JOIN recipients r ON r.id = c.recipient_id
                 LEFT JOIN users u ON u.id = c.worker_id
                 LEFT JOIN villages vl ON vl.id = r.village_id
                 WHERE {} ORDER BY g.target_date LIMIT ?",
                c.sql()
            );
            c.args.push(page(wanted));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows_iter = stmt.query(params_from_iter(c.args))?;
            while let Some(row) = rows_iter.next()? {
                let Some(due_on) = opt_date(row.get(7)?) else {
                    continue;
                };
                all.push(OverdueRow {
                    reason: OverdueReason::GoalPastTarget,
                    record_id: opt_id(row.get(0)?)?,
                    case_id: opt_id(row.get(1)?)?,
                    recipient_id: opt_id(row.get(2)?)?,
                    recipient_name: row.get(3)?,
                    worker_id: opt_id(row.get(4)?)?,
                    worker_name: row.get(5)?,
                    village_name: row.get(6)?,
                    due_on,
                    days_overdue: (today - due_on).num_days(),
                });
            }
        }

        if filter.stage.is_none() {
            let cutoff = today - chrono::Duration::days(VISIT_FOLLOW_UP_DAYS);
            let mut c = Conditions::default();
            c.add("r.last_visit_follow_up = 1", []);
            c.add("r.last_visit_on < ?", [text(cutoff.to_string())]);
            if let Some(station) = filter.station_id {
                c.add("r.station_id = ?", [id_arg(station)]);
            }
            if let Some(worker) = filter.worker_id {
                c.add("r.last_visit_worker_id = ?", [id_arg(worker)]);
            }
            if let Some(village) = filter.village_id {
                c.add("r.village_id = ?", [id_arg(village)]);
            }
            let sql = format!(
                "SELECT r.last_visit_id, r.id, r.name, r.last_visit_worker_id, u.display_name, vl.name, r.last_visit_on
                 FROM recipients r
                 LEFT JOIN users u ON u.id = r.last_visit_worker_id
                 LEFT JOIN villages vl ON vl.id = r.village_id
                 WHERE {} ORDER BY r.last_visit_on LIMIT ?",
                c.sql()
            );
            c.args.push(page(wanted));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows_iter = stmt.query(params_from_iter(c.args))?;
            while let Some(row) = rows_iter.next()? {
                let Some(visited) = opt_date(row.get(6)?) else {
                    continue;
                };
                let due_on = visited + chrono::Duration::days(VISIT_FOLLOW_UP_DAYS);
                all.push(OverdueRow {
                    reason: OverdueReason::VisitFollowUpDue,
                    case_id: None,
                    record_id: opt_id(row.get(0)?)?,
                    recipient_id: opt_id(row.get(1)?)?,
                    recipient_name: row.get(2)?,
                    worker_id: opt_id(row.get(3)?)?,
                    worker_name: row.get(4)?,
                    village_name: row.get(5)?,
                    due_on,
                    days_overdue: (today - due_on).num_days(),
                });
            }
        }
        all.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.recipient_id.cmp(&b.recipient_id)));
        Ok(all.into_iter().skip(filter.offset).take(filter.limit).collect())
    }

    /// Everything done for a recipient, newest first: visits, cases opened, the cases' stage
    /// records, referrals, the activities they took part in.
    pub fn ledger(&self, recipient_id: Uuid, limit: usize) -> Result<Vec<LedgerEntry>, StoreError> {
        // (kind, date column, summary, author column); case records are found through the
        // recipient's cases.
        const SOURCES: &[(EntityKind, &str, &str, &str)] = &[
            (EntityKind::Visit, "t.visited_on", "t.observations", "t.worker_id"),
            (EntityKind::Case, "t.opened_on", "t.stage", "t.worker_id"),
            (EntityKind::Referral, "t.referred_on", "t.reason", "t.created_by"),
            (EntityKind::Activity, "t.held_on", "t.title", "t.created_by"),
            (EntityKind::Screening, "t.found_on", "coalesce(t.notes, t.source)", "t.created_by"),
            (EntityKind::Assessment, "t.assessed_on", "t.needs_summary", "t.created_by"),
            (EntityKind::Goal, "NULL", "t.description", "t.created_by"),
            (EntityKind::ResourceLink, "t.linked_on", "t.description", "t.created_by"),
            (EntityKind::Intervention, "t.delivered_on", "t.notes", "t.worker_id"),
            (EntityKind::FollowUp, "t.visited_on", "t.notes", "t.worker_id"),
            (
                EntityKind::ClosureDecision,
                "substr(t.decided_at, 1, 10)",
                "t.decision || coalesce(': ' || t.comments, '')",
                "t.supervisor_id",
            ),
        ];
        let recipient = recipient_id.to_string();
        let mut entries = Vec::new();
        for (kind, date, summary, author) in SOURCES {
            let (case_col, scope) = match kind {
                EntityKind::Visit | EntityKind::Referral => ("NULL", "t.recipient_id = ?1"),
                EntityKind::Case => ("t.id", "t.recipient_id = ?1"),
                // An activity names its recipients in a list.
                EntityKind::Activity => {
                    ("NULL", "EXISTS (SELECT 1 FROM json_each(t.recipient_ids) j WHERE j.value = ?1)")
                }
                _ => ("t.case_id", "t.case_id IN (SELECT id FROM cases WHERE recipient_id = ?1)"),
            };
            let order = if *date == "NULL" { "t.created_hlc DESC" } else { "1 DESC, t.created_hlc DESC" };
            let sql = format!(
                "SELECT {date}, t.id, {case_col}, {summary}, {author}, u.display_name, t.created_hlc
                 FROM {table} t LEFT JOIN users u ON u.id = {author}
                 WHERE {scope} ORDER BY {order} LIMIT ?2",
                table = kind.spec().table
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows_iter = stmt.query(params![recipient, i64::try_from(limit).unwrap_or(i64::MAX)])?;
            while let Some(row) = rows_iter.next()? {
                let hlc = parse_hlc(&row.get::<_, String>(6)?)?;
                entries.push(LedgerEntry {
                    kind: *kind,
                    date: opt_date(row.get(0)?).unwrap_or_else(|| date_of_hlc(&hlc)),
                    id: parse_id(&row.get::<_, String>(1)?)?,
                    case_id: opt_id(row.get(2)?)?,
                    summary: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    author_id: opt_id(row.get(4)?)?,
                    author_name: row.get(5)?,
                    hlc,
                });
            }
        }
        entries.sort_by(|a, b| b.date.cmp(&a.date).then(b.hlc.cmp(&a.hlc)));
        entries.truncate(limit);
        Ok(entries)
    }

    /// Who changed what when, oldest first: the creation, then every update recorded here or
    /// pulled from others. A creation pulled from elsewhere is shown from the row itself (its
    /// author and stamp, and the values still as created).
    pub fn history(&self, entity_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS}, status, u.display_name FROM changes
             LEFT JOIN users u ON u.id = changes.author_id
             WHERE entity_id = ?1 AND status <> 'rejected' ORDER BY hlc"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows_iter = stmt.query(params![entity_id.to_string()])?;
        let mut entries = Vec::new();
        let mut kind = None;
        while let Some(row) = rows_iter.next()? {
            let change = change_from_row(row)?;
            kind = Some(change.entity);
            entries.push(HistoryEntry {
                change_id: Some(change.change_id),
                op: change.op,
                at: at_of(&change.hlc),
                hlc: change.hlc,
                author_id: change.author_id,
                author_name: row.get(11)?,
                device_id: change.device_id,
                fields: change.fields.into_iter().map(|(k, w)| (k, w.value)).collect(),
                status: row.get(10)?,
            });
        }
        if entries.iter().any(|e| e.op == Op::Create) {
            return Ok(entries);
        }
        let state = match kind {
            Some(kind) => self.entity(kind, entity_id)?,
            None => self.find_entity(entity_id)?,
        };
        if let Some(state) = state {
            let fields = state
                .fields
                .iter()
                .filter(|(k, _)| !state.clocks.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            entries.insert(
                0,
                HistoryEntry {
                    change_id: None,
                    op: Op::Create,
                    at: at_of(&state.created.hlc),
                    hlc: state.created.hlc,
                    author_id: state.created.author,
                    author_name: self.user_name(state.created.author)?,
                    device_id: state.created.hlc.device,
                    fields,
                    status: "created".into(),
                },
            );
        }
        Ok(entries)
    }

    /// Overwritten values nobody has seen: lost, and neither written over knowingly nor resolved.
    pub fn open_conflicts(&self) -> Result<Vec<ConflictRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.entity_kind, k.entity_id, k.field, k.value, k.hlc, k.author_id, u.display_name
             FROM conflicts k LEFT JOIN users u ON u.id = k.author_id
             WHERE k.status = 'open' ORDER BY k.entity_id, k.field, k.hlc",
        )?;
        let mut rows_iter = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows_iter.next()? {
            let kind = parse_kind(&row.get::<_, String>(0)?)?;
            let entity_id = parse_id(&row.get::<_, String>(1)?)?;
            let field: String = row.get(2)?;
            let value: Option<String> = row.get(3)?;
            out.push(ConflictRow {
                entity_kind: kind,
                entity_id,
                lost_value: value.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or(Value::Null),
                lost_hlc: parse_hlc(&row.get::<_, String>(4)?)?,
                lost_author_id: opt_id(row.get(5)?)?,
                lost_author_name: row.get(6)?,
                field,
                current_value: None,
                current_hlc: None,
                current_author_id: None,
            });
        }
        drop(rows_iter);
        // A conflict is shown with the value that stands now; one about a record no longer held
        // here (evicted, cleared for repair) is left out.
        let mut shown = Vec::with_capacity(out.len());
        for mut conflict in out {
            if let Some(state) = self.entity(conflict.entity_kind, conflict.entity_id)? {
                let clock = state.clock(&conflict.field);
                conflict.current_value = state.fields.get(&conflict.field).cloned();
                conflict.current_hlc = Some(clock.hlc);
                conflict.current_author_id = Some(clock.author);
                shown.push(conflict);
            }
        }
        Ok(shown)
    }

    /// Changes of this device the server refused, newest first, then those set aside (the
    /// server could not take them as sent; `set_aside`), so the screen of refused changes shows
    /// and counts every change that did not go through.
    pub fn rejected_changes(&self) -> Result<Vec<RejectedRow>, StoreError> {
        let mut rows: Vec<RejectedRow> = self
            .rejected_local()?
            .into_iter()
            .map(|(change, rejection, recorded_at)| RejectedRow {
                device_seq: change.device_seq,
                change_id: change.change_id,
                entity_kind: change.entity,
                entity_id: change.entity_id,
                op: change.op,
                fields: change.fields,
                hlc: change.hlc,
                rejection,
                recorded_at,
                set_aside: false,
            })
            .collect();
        for aside in self.set_aside_changes()? {
            let change = aside.change;
            rows.push(RejectedRow {
                device_seq: change.device_seq,
                change_id: change.change_id,
                entity_kind: change.entity,
                entity_id: change.entity_id,
                op: change.op,
                fields: change.fields,
                hlc: change.hlc,
                rejection: RejectionInfo {
                    code: aside.reason.code,
                    message_zh: aside.reason.message_zh,
                    message_en: aside.reason.message_en,
                    field: None,
                },
                recorded_at: aside.recorded_at,
                set_aside: true,
            });
        }
        Ok(rows)
    }

    /// Every entity of a kind, optionally only those held for a station (as
    /// `EntityState::station_ids` says). Meant for the small kinds: villages, users, resources.
    pub fn list(&self, kind: EntityKind, station_id: Option<Uuid>) -> Result<Vec<EntityState>, StoreError> {
        match station_id {
            Some(station) => {
                let condition = format!("{} ORDER BY id", rows::station_condition(kind));
                rows::read_where(&self.conn, kind, &condition, &[&station.to_string()])
            }
            None => rows::read_where(&self.conn, kind, "1 = 1 ORDER BY id", &[]),
        }
    }

    /// The recipients whose household is `household_id`, by name (the household's file).
    pub fn household_members(&self, household_id: Uuid) -> Result<Vec<EntityState>, StoreError> {
        rows::read_where(
            &self.conn,
            EntityKind::Recipient,
            "household_id = ?1 ORDER BY name, id",
            &[&household_id.to_string()],
        )
    }

    /// Every visit to a recipient, newest first (by visit date, then as recorded), amendments
    /// and the visits they amend alike.
    pub fn visits_of_recipient(&self, recipient_id: Uuid) -> Result<Vec<EntityState>, StoreError> {
        rows::read_where(
            &self.conn,
            EntityKind::Visit,
            "recipient_id = ?1 ORDER BY visited_on DESC, created_hlc DESC",
            &[&recipient_id.to_string()],
        )
    }

    /// The cases of `station_ids` whose closure is requested and awaits a supervisor, the
    /// oldest request first (then by id, so the order is stable).
    pub fn closure_requests(&self, station_ids: &[Uuid]) -> Result<Vec<EntityState>, StoreError> {
        if station_ids.is_empty() {
            return Ok(Vec::new());
        }
        let stations: Vec<String> = station_ids.iter().map(Uuid::to_string).collect();
        let placeholders: Vec<String> = (1..=stations.len()).map(|i| format!("?{i}")).collect();
        let condition = format!(
            "closure_status = 'Requested' AND station_id IN ({}) ORDER BY closure_requested_on, id",
            placeholders.join(", ")
        );
        let args: Vec<&dyn rusqlite::ToSql> = stations.iter().map(|s| s as &dyn rusqlite::ToSql).collect();
        rows::read_where(&self.conn, EntityKind::Case, &condition, &args)
    }

    fn find_entity(&self, id: Uuid) -> Result<Option<EntityState>, StoreError> {
        for kind in EntityKind::ALL {
            if let Some(state) = self.entity(*kind, id)? {
                return Ok(Some(state));
            }
        }
        Ok(None)
    }

    fn user_name(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        crate::optional(
            self.conn
                .prepare_cached("SELECT display_name FROM users WHERE id = ?1")?
                .query_row(params![id.to_string()], |r| r.get(0)),
        )
        .map(Option::flatten)
    }
}

fn at_of(hlc: &Hlc) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(i64::try_from(hlc.millis).unwrap_or(i64::MAX)).unwrap_or_default()
}

/// A case board row from the columns `case_board` and `case_board_by_stage` select.
fn case_board_row(row: &Row<'_>, today: NaiveDate) -> Result<CaseBoardRow, StoreError> {
    let stage_entered_on = opt_date(row.get(9)?);
    Ok(CaseBoardRow {
        case_id: parse_id(&row.get::<_, String>(0)?)?,
        recipient_id: opt_id(row.get(1)?)?,
        recipient_name: row.get(2)?,
        worker_id: opt_id(row.get(3)?)?,
        worker_name: row.get(4)?,
        village_id: opt_id(row.get(5)?)?,
        village_name: row.get(6)?,
        stage: row.get::<_, Option<String>>(7)?.as_deref().and_then(Stage::parse),
        closure_status: row.get::<_, Option<String>>(8)?.as_deref().and_then(ClosureStatus::parse),
        stage_entered_on,
        opened_on: opt_date(row.get(10)?),
        days_in_stage: stage_entered_on.map(|d| (today - d).num_days()),
        risk_level: row.get::<_, Option<String>>(11)?.as_deref().and_then(RiskLevel::parse),
    })
}

fn roster_row(row: &Row<'_>) -> Result<RosterRow, StoreError> {
    let categories: Option<String> = row.get(7)?;
    Ok(RosterRow {
        id: parse_id(&row.get::<_, String>(0)?)?,
        station_id: opt_id(row.get(1)?)?,
        name: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        id_number: row.get(3)?,
        gender: row.get(4)?,
        birth_date: opt_date(row.get(5)?),
        phone: row.get(6)?,
        categories: categories.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        village_id: opt_id(row.get(8)?)?,
        village_name: row.get(9)?,
        household_id: opt_id(row.get(10)?)?,
        last_visit_on: opt_date(row.get(11)?),
        follow_up_needed: row.get::<_, Option<i64>>(12)?.unwrap_or(0) != 0,
        open_cases: u32::try_from(row.get::<_, i64>(13)?).unwrap_or(0),
    })
}
