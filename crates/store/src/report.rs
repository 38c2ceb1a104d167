//! The figures of a station's reports and charts, grouped in SQL over the entity tables for a
//! period of local dates (both ends included): recipients by category, referrals, services,
//! resource links' money and goods, visits per month, and each case's stages over time (from
//! the change log). The app shapes them into a report (`app::report`); visits by worker and
//! village are `dashboard`'s counts.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::Labelled;
use domain::activity::ActivityKind;
use domain::case::{ServiceMethod, ServiceType, Stage};
use domain::hlc::Hlc;
use domain::recipient::RecipientCategory;
use domain::referral::{self, ReferralCounterpart, ReferralDirection, ReferralOutcome, ReferralState, ResourceKind};
use rusqlite::params;
use uuid::Uuid;

use crate::rows::parse_id;
use crate::{Store, StoreError};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

/// Referrals of one direction, counterpart and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralCount {
    pub direction: ReferralDirection,
    pub counterpart: ReferralCounterpart,
    pub outcome: ReferralOutcome,
    pub count: u64,
}

/// Referrals of one direction, counterpart and state (`referral::effective_state`: a record an
/// older device made, with no state, counts in the state its outcome stands for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralStateCount {
    pub direction: ReferralDirection,
    pub counterpart: ReferralCounterpart,
    pub state: ReferralState,
    pub count: u64,
}

/// Activities of one kind: how many, their minutes, the recipients linked and the others
/// counted, and the workers who ran any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCount {
    pub kind: ActivityKind,
    pub count: u64,
    pub minutes: u64,
    pub recipients_linked: u64,
    pub others_counted: u64,
    pub worker_ids: Vec<Uuid>,
}

/// Interventions of one service type and method, and their minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCount {
    pub service_type: ServiceType,
    pub method: ServiceMethod,
    pub count: u64,
    pub minutes: u64,
}

/// A station's resource links of a period to one resource of its library (`resource_id`
/// `None`: links naming no resource), with the charity money and the goods' value they
/// recorded, in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLinkTotal {
    pub resource_id: Option<Uuid>,
    /// The resource's kind and name, `None` while it is not held here.
    pub kind: Option<ResourceKind>,
    pub name: Option<String>,
    pub links: u64,
    pub money_fen: i64,
    pub goods_value_fen: i64,
}

/// A stage a case entered, on a local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageEntry {
    pub on: NaiveDate,
    pub stage: Stage,
}

/// A case's stages over time: every stage it entered, in the order the moves were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStages {
    pub case_id: Uuid,
    pub opened_on: NaiveDate,
    pub entries: Vec<StageEntry>,
}

impl CaseStages {
    /// The case's stage at the end of `day`; `None` before it was opened.
    pub fn stage_on(&self, day: NaiveDate) -> Option<Stage> {
        if self.opened_on > day {
            return None;
        }
        // Moves are recorded in order, but a correction may carry an earlier date: the latest
        // move made by that day counts.
        self.entries.iter().rev().find(|e| e.on <= day).map(|e| e.stage).or(Some(Stage::Identify))
    }
}

impl Store {
    /// The recipients of the station on the roster now, by category (a person of two categories
    /// counts under each), in vocabulary order, with the number of people.
    pub fn recipients_by_category(&self, station_id: Uuid) -> Result<(Vec<(RecipientCategory, u64)>, u64), StoreError> {
        let station = station_id.to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT j.value, count(*) FROM recipients r, json_each(r.categories) j
             WHERE r.station_id = ?1 AND json_valid(r.categories) GROUP BY j.value",
        )?;
        let mut rows = stmt.query(params![station])?;
        let mut by_category = Vec::new();
        while let Some(row) = rows.next()? {
            if let Some(category) = row.get::<_, Option<String>>(0)?.as_deref().and_then(RecipientCategory::parse) {
                by_category.push((category, count(row.get(1)?)));
            }
        }
        drop(rows);
        by_category.sort_by_key(|(c, _)| RecipientCategory::ALL.iter().position(|x| x == c));
        let people: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM recipients WHERE station_id = ?1")?
            .query_row(params![station], |r| r.get(0))?;
        Ok((by_category, count(people)))
    }

    /// The station's referrals made from `from` to `to`, by direction, counterpart and outcome.
    pub fn referral_counts(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReferralCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT direction, counterpart, outcome, count(*) FROM referrals
             WHERE station_id = ?1 AND referred_on >= ?2 AND referred_on <= ?3
             GROUP BY direction, counterpart, outcome",
        )?;
        let mut rows = stmt.query(params![station_id.to_string(), from.to_string(), to.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let parse = |i: usize| -> Result<Option<String>, rusqlite::Error> { row.get::<_, Option<String>>(i) };
            let (direction, counterpart, outcome) = (parse(0)?, parse(1)?, parse(2)?);
            if let (Some(direction), Some(counterpart), Some(outcome)) = (
                direction.as_deref().and_then(ReferralDirection::parse),
                counterpart.as_deref().and_then(ReferralCounterpart::parse),
                outcome.as_deref().and_then(ReferralOutcome::parse),
            ) {
                out.push(ReferralCount { direction, counterpart, outcome, count: count(row.get(3)?) });
            }
        }
        Ok(out)
    }

    /// The station's referrals made from `from` to `to`, by direction, counterpart and state.
    pub fn referral_state_counts(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReferralStateCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT direction, counterpart, state, outcome, count(*) FROM referrals
             WHERE station_id = ?1 AND referred_on >= ?2 AND referred_on <= ?3
             GROUP BY direction, counterpart, state, outcome",
        )?;
        let mut rows = stmt.query(params![station_id.to_string(), from.to_string(), to.to_string()])?;
        let mut out: Vec<ReferralStateCount> = Vec::new();
        while let Some(row) = rows.next()? {
            let text = |i: usize| -> Result<Option<String>, rusqlite::Error> { row.get::<_, Option<String>>(i) };
            let (direction, counterpart) = (text(0)?, text(1)?);
            let (Some(direction), Some(counterpart)) = (
                direction.as_deref().and_then(ReferralDirection::parse),
                counterpart.as_deref().and_then(ReferralCounterpart::parse),
            ) else {
                continue;
            };
            let state = text(2)?.as_deref().and_then(ReferralState::parse);
            let outcome = text(3)?.as_deref().and_then(ReferralOutcome::parse);
            let state = referral::effective_state(direction, state, outcome);
            let n = count(row.get(4)?);
            match out.iter_mut().find(|c| (c.direction, c.counterpart, c.state) == (direction, counterpart, state)) {
                Some(c) => c.count += n,
                None => out.push(ReferralStateCount { direction, counterpart, state, count: n }),
            }
        }
        Ok(out)
    }

    /// The station's activities held from `from` to `to`, by kind, in vocabulary order (kinds
    /// without activities left out).
    pub fn activity_counts(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ActivityCount>, StoreError> {
        let params = params![station_id.to_string(), from.to_string(), to.to_string()];
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, count(*), coalesce(sum(max(duration_minutes, 0)), 0),
                    coalesce(sum(CASE WHEN json_valid(recipient_ids) THEN json_array_length(recipient_ids) ELSE 0 END), 0),
                    coalesce(sum(max(coalesce(others_count, 0), 0)), 0)
             FROM activities WHERE station_id = ?1 AND held_on >= ?2 AND held_on <= ?3 GROUP BY kind",
        )?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if let Some(kind) = row.get::<_, Option<String>>(0)?.as_deref().and_then(ActivityKind::parse) {
                out.push(ActivityCount {
                    kind,
                    count: count(row.get(1)?),
                    minutes: count(row.get(2)?),
                    recipients_linked: count(row.get(3)?),
                    others_counted: count(row.get(4)?),
                    worker_ids: Vec::new(),
                });
            }
        }
        drop(rows);
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT a.kind, j.value FROM activities a, json_each(a.worker_ids) j
             WHERE a.station_id = ?1 AND a.held_on >= ?2 AND a.held_on <= ?3 AND json_valid(a.worker_ids)
             ORDER BY j.value",
        )?;
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            let kind = row.get::<_, Option<String>>(0)?.as_deref().and_then(ActivityKind::parse);
            let worker = row.get::<_, Option<String>>(1)?.and_then(|w| Uuid::try_parse(&w).ok());
            if let (Some(kind), Some(worker)) = (kind, worker)
                && let Some(c) = out.iter_mut().find(|c| c.kind == kind)
            {
                c.worker_ids.push(worker);
            }
        }
        out.sort_by_key(|c| ActivityKind::ALL.iter().position(|k| *k == c.kind));
        Ok(out)
    }

    /// The station's interventions delivered from `from` to `to`, by service type and method,
    /// with their minutes. A corrected record counts once, as its latest correction says (the
    /// correction may change the type, the method or the time).
    pub fn service_counts(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ServiceCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.service_type, i.method, count(*), coalesce(sum(i.duration_minutes), 0) FROM interventions i
             WHERE i.station_id = ?1 AND i.delivered_on >= ?2 AND i.delivered_on <= ?3
               AND NOT EXISTS (SELECT 1 FROM interventions later WHERE later.amends = i.id)
             GROUP BY i.service_type, i.method",
        )?;
        let mut rows = stmt.query(params![station_id.to_string(), from.to_string(), to.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let service_type = row.get::<_, Option<String>>(0)?;
            let method = row.get::<_, Option<String>>(1)?;
            if let (Some(service_type), Some(method)) =
                (service_type.as_deref().and_then(ServiceType::parse), method.as_deref().and_then(ServiceMethod::parse))
            {
                out.push(ServiceCount { service_type, method, count: count(row.get(2)?), minutes: count(row.get(3)?) });
            }
        }
        Ok(out)
    }

    /// The station's resource links made from `from` to `to` (their `linked_on`), by resource,
    /// with the money and goods' value they recorded. Amounts are bounded per field
    /// (`domain::money::MAX_FEN`), so their sums stay far inside an `i64`.
    pub fn resource_link_totals(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ResourceLinkTotal>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.resource_id, r.kind, r.name, count(*),
                    coalesce(sum(l.money_fen), 0), coalesce(sum(l.goods_value_fen), 0)
             FROM resource_links l LEFT JOIN resources r ON r.id = l.resource_id
             WHERE l.station_id = ?1 AND l.linked_on >= ?2 AND l.linked_on <= ?3
             GROUP BY l.resource_id",
        )?;
        let mut rows = stmt.query(params![station_id.to_string(), from.to_string(), to.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let resource_id = row.get::<_, Option<String>>(0)?.as_deref().map(parse_id).transpose()?;
            let kind = row.get::<_, Option<String>>(1)?.as_deref().and_then(ResourceKind::parse);
            out.push(ResourceLinkTotal {
                resource_id,
                kind,
                name: row.get(2)?,
                links: count(row.get(3)?),
                money_fen: row.get(4)?,
                goods_value_fen: row.get(5)?,
            });
        }
        Ok(out)
    }

    /// The station's home visits per month (`YYYY-MM`) from `from` to `to`, months without
    /// visits left out. Counted as the dashboard counts (corrections are not visits of their
    /// own).
    pub fn visits_by_month(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(visited_on, 1, 7) AS month, count(*) FROM visits
             WHERE station_id = ?1 AND visited_on >= ?2 AND visited_on <= ?3 AND amends IS NULL
             GROUP BY month ORDER BY month",
        )?;
        let mut rows = stmt.query(params![station_id.to_string(), from.to_string(), to.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push((row.get(0)?, count(row.get(1)?)));
        }
        Ok(out)
    }

    /// Every case of the station with the stages it entered: read from the changes that set its
    /// stage (the log keeps them, recorded here or pulled), in the order they were made. A case
    /// whose history is not held here (its data came in a snapshot) shows its stage now, from
    /// the day it entered it.
    pub fn case_stages(&self, station_id: Uuid) -> Result<Vec<CaseStages>, StoreError> {
        let station = station_id.to_string();
        let mut moves: HashMap<Uuid, Vec<(Hlc, StageEntry)>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            // A field's write is its bare value, or `{"value": ..., "base": ...}` for an edit
            // (`domain::change::FieldWrite`).
            "SELECT ch.entity_id, ch.hlc,
                    coalesce(json_extract(ch.fields, '$.stage.value'), json_extract(ch.fields, '$.stage')),
                    coalesce(json_extract(ch.fields, '$.stage_entered_on.value'), json_extract(ch.fields, '$.stage_entered_on'))
             FROM changes ch JOIN cases c ON c.id = ch.entity_id
             WHERE c.station_id = ?1 AND ch.entity_kind = 'Case' AND ch.status <> 'rejected'
               AND json_valid(ch.fields) AND json_extract(ch.fields, '$.stage') IS NOT NULL",
        )?;
        let mut rows = stmt.query(params![station])?;
        while let Some(row) = rows.next()? {
            let case_id = parse_id(&row.get::<_, String>(0)?)?;
            let Ok(hlc) = Hlc::from_str(&row.get::<_, String>(1)?) else { continue };
            let stage = row.get::<_, Option<String>>(2)?;
            let (Some(stage), Some(on)) = (stage.as_deref().and_then(Stage::parse), date(row.get(3)?)) else {
                continue;
            };
            moves.entry(case_id).or_default().push((hlc, StageEntry { on, stage }));
        }
        drop(rows);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, opened_on, stage, stage_entered_on FROM cases WHERE station_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query(params![station])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let case_id = parse_id(&row.get::<_, String>(0)?)?;
            let Some(opened_on) = date(row.get(1)?) else { continue };
            let stage = row.get::<_, Option<String>>(2)?.as_deref().and_then(Stage::parse);
            let mut entries: Vec<(Hlc, StageEntry)> = moves.remove(&case_id).unwrap_or_default();
            entries.sort_by_key(|(hlc, _)| *hlc);
            let mut entries: Vec<StageEntry> = entries.into_iter().map(|(_, e)| e).collect();
            if entries.is_empty()
                && let (Some(stage), Some(on)) = (stage, date(row.get(3)?))
            {
                if stage != Stage::Identify {
                    entries.push(StageEntry { on: opened_on, stage: Stage::Identify });
                }
                entries.push(StageEntry { on, stage });
            }
            out.push(CaseStages { case_id, opened_on, entries });
        }
        Ok(out)
    }
}
