//! The station's counts at a glance (the deputy head's dashboard): visits in a period per worker
//! and per village, open cases per stage, closures waiting for sign-off. Grouped in SQL over the
//! entity tables; the case board's own list is `screens::case_board`.

use chrono::NaiveDate;
use domain::Labelled;
use domain::case::Stage;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rows::parse_id;
use crate::{Store, StoreError};

/// A count under a record's name (a worker's, a village's); `name` is `None` while the record is
/// not held here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCount {
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub count: u64,
}

/// A station's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationCounts {
    /// Home visits made in the period, by the worker who made them, most first. Corrections of a
    /// visit are not visits of their own.
    pub visits_by_worker: Vec<NamedCount>,
    /// The same visits by village, most first.
    pub visits_by_village: Vec<NamedCount>,
    /// Cases not closed, per stage, in pipeline order (stages without cases left out).
    pub open_by_stage: Vec<(Stage, u64)>,
    /// Cases whose closure was requested and not yet decided.
    pub closures_waiting: u64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// The counts of `station_id`, visits counted from `from` to `to` (both included).
    pub fn station_counts(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<StationCounts, StoreError> {
        let station = station_id.to_string();
        let (from, to) = (from.to_string(), to.to_string());
        let grouped = |by: &str, names: &str| -> Result<Vec<NamedCount>, StoreError> {
            let sql = format!(
                "SELECT v.{by}, n.name, count(*) AS visits FROM visits v
                 LEFT JOIN ({names}) n ON n.id = v.{by}
                 WHERE v.station_id = ?1 AND v.visited_on >= ?2 AND v.visited_on <= ?3 AND v.amends IS NULL
                 GROUP BY v.{by} ORDER BY visits DESC, n.name, v.{by}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![station, from, to])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(NamedCount {
                    id: row.get::<_, Option<String>>(0)?.as_deref().map(parse_id).transpose()?,
                    name: row.get(1)?,
                    count: count(row.get(2)?),
                });
            }
            Ok(out)
        };
        let visits_by_worker = grouped("worker_id", "SELECT id, display_name AS name FROM users")?;
        let visits_by_village = grouped("village_id", "SELECT id, name FROM villages")?;

        let mut stmt = self.conn.prepare_cached(
            "SELECT stage, count(*) FROM cases WHERE station_id = ?1 AND stage <> 'Closed' GROUP BY stage",
        )?;
        let mut rows = stmt.query(params![station])?;
        let mut open_by_stage = Vec::new();
        while let Some(row) = rows.next()? {
            if let Some(stage) = row.get::<_, Option<String>>(0)?.as_deref().and_then(Stage::parse) {
                open_by_stage.push((stage, count(row.get(1)?)));
            }
        }
        drop(rows);
        open_by_stage.sort_by_key(|(stage, _)| stage.index());
        let closures_waiting: i64 = self.conn.prepare_cached(
            "SELECT count(*) FROM cases WHERE station_id = ?1 AND stage <> 'Closed' AND closure_status = 'Requested'",
        )?
        .query_row(params![station], |r| r.get(0))?;
        Ok(StationCounts {
            visits_by_worker,
            visits_by_village,
            open_by_stage,
            closures_waiting: count(closures_waiting),
        })
    }
}
