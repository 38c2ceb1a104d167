//! Access that shrinks: what the device drops when its user's scope shrinks (a move to another
//! station, a supervised station taken away, a deactivated account), the record of what the
//! server said about this account and device (deactivated, revoked), the wipe that follows a
//! revoked device's hand-over, and the offline lease: the number of days without contact after
//! which the local data locks.

use chrono::{DateTime, Duration, Utc};
use domain::entity::{DEFAULT_OFFLINE_LEASE_DAYS, EntityKind};
use domain::{Labelled, field};
use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use crate::{Store, StoreError, rows};

fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("a stored time: {e}")))
}

fn access_time(conn: &Connection, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> = conn.query_row(&format!("SELECT {column} FROM access"), [], |r| r.get(0))?;
    text.as_deref().map(parse_time).transpose()
}

/// Removes, inside `tx`, the history and conflicts of entities no longer held, and fixes the
/// latest visits of the recipients that stay.
fn drop_orphans(tx: &Connection) -> Result<(), StoreError> {
    for kind in EntityKind::ALL {
        let table = kind.spec().table;
        // Pending changes stay: they are the user's unsent work.
        tx.execute(
            &format!(
                "DELETE FROM changes WHERE status != 'pending' AND entity_kind = ?1
                 AND entity_id NOT IN (SELECT id FROM {table})"
            ),
            params![kind.as_str()],
        )?;
        tx.execute(
            &format!("DELETE FROM conflicts WHERE entity_kind = ?1 AND entity_id NOT IN (SELECT id FROM {table})"),
            params![kind.as_str()],
        )?;
    }
    tx.execute_batch(&rows::visit_summary_sql(
        "last_visit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM visits WHERE id = recipients.last_visit_id)",
    ))?;
    Ok(())
}

/// The distinct `station_id`s of a table, by hopping along its station index (one seek each).
fn distinct_stations(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut out = std::collections::BTreeSet::new();
    for sql in station_hops(table) {
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut after = String::new();
        while let Some(station) = stmt.query_row(params![after], |r| r.get::<_, Option<String>>(0))? {
            out.insert(station.clone());
            after = station;
        }
    }
    Ok(out.into_iter().collect())
}

/// [`distinct_stations`]' statements for `table`, each the next station after `?1`. Visits take
/// two, one per index: `visits_by_station_day` (0016) leaves corrections out, and
/// `visits_corrections_by_station` (0023) holds only them; one statement over both halves would
/// read every visit.
fn station_hops(table: &str) -> Vec<String> {
    let next = |half: &str| format!("SELECT min(station_id) FROM {table} WHERE station_id > ?1{half}");
    if table == EntityKind::Visit.spec().table {
        vec![next(" AND amends IS NULL"), next(" AND amends IS NOT NULL")]
    } else {
        vec![next("")]
    }
}

impl Store {
    /// Drops every entity none of whose stations (`EntityState::station_ids`) is in `scope`:
    /// the stations this user's devices may hold now, as the server says
    /// (`ChecksumResponse::scope`). Their history and conflicts go with them; unsent changes
    /// stay in the outbox. Returns how many entities were dropped. One transaction.
    pub fn evict_outside(&mut self, scope: &[Uuid]) -> Result<usize, StoreError> {
        let scope_json = serde_json::to_string(&scope.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let in_scope = "(SELECT value FROM json_each(?1))";
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut dropped = 0;
        for kind in EntityKind::ALL {
            let table = kind.spec().table;
            let condition = match kind {
                EntityKind::Station => format!("id NOT IN {in_scope}"),
                EntityKind::User => format!(
                    "NOT (coalesce(station_id IN {in_scope}, 0)
                          OR EXISTS (SELECT 1 FROM json_each(users.supervised_station_ids)
                                     WHERE value IN {in_scope}))"
                ),
                _ => format!("station_id NOT IN {in_scope}"),
            };
            dropped += tx.execute(&format!("DELETE FROM {table} WHERE {condition}"), params![scope_json])?;
        }
        if dropped > 0 {
            drop_orphans(&tx)?;
        }
        tx.commit()?;
        Ok(dropped)
    }

    /// The stations this device holds data of: every station some held entity belongs to.
    pub fn held_stations(&self) -> Result<Vec<Uuid>, StoreError> {
        let mut held = std::collections::BTreeSet::new();
        for kind in EntityKind::ALL.iter().filter(|k| !matches!(k, EntityKind::Station | EntityKind::User)) {
            held.extend(distinct_stations(&self.conn, kind.spec().table)?);
        }
        let sql = "SELECT id FROM stations
                   UNION SELECT station_id FROM users WHERE station_id IS NOT NULL
                   UNION SELECT j.value FROM users, json_each(users.supervised_station_ids) j";
        let mut stmt = self.conn.prepare(sql)?;
        held.extend(stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?);
        held.iter().map(|id| rows::parse_id(id)).collect()
    }

    /// Whether [`Store::evict_outside`] would drop anything: cheap (a few index seeks per
    /// table), so the engine asks at every comparison.
    pub fn holds_outside(&self, scope: &[Uuid]) -> Result<bool, StoreError> {
        let scope_text: Vec<String> = scope.iter().map(Uuid::to_string).collect();
        for kind in EntityKind::ALL.iter().filter(|k| !matches!(k, EntityKind::Station | EntityKind::User)) {
            if distinct_stations(&self.conn, kind.spec().table)?.iter().any(|s| !scope_text.contains(s)) {
                return Ok(true);
            }
        }
        let scope_json = serde_json::to_string(&scope_text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let outside: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM stations WHERE id NOT IN (SELECT value FROM json_each(?1)))
                 OR EXISTS (SELECT 1 FROM users
                            WHERE NOT (coalesce(station_id IN (SELECT value FROM json_each(?1)), 0)
                                       OR EXISTS (SELECT 1 FROM json_each(users.supervised_station_ids)
                                                  WHERE value IN (SELECT value FROM json_each(?1)))))",
            params![scope_json],
            |r| r.get(0),
        )?;
        Ok(outside)
    }

    /// A sync round went through: the offline lease starts again from `now`, and whatever the
    /// server said before about this account being deactivated no longer holds.
    pub fn note_contact(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE access SET last_contact_at = ?1, deactivated_at = NULL", params![now.to_rfc3339()])?;
        Ok(())
    }

    /// The end of the last successful sync round (the lease counts from it); for a database
    /// made before leases existed, the time it was upgraded.
    pub fn last_contact(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        access_time(&self.conn, "last_contact_at")
    }

    /// A sync round compared this device's per-station checksums with the server's at `now`
    /// (any station that differed was rebuilt from the server in the same round).
    pub fn note_verified(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute("UPDATE access SET last_verified_at = ?1", params![now.to_rfc3339()])?;
        Ok(())
    }

    /// When the local data was last verified against the server's ([`Store::note_verified`]),
    /// if ever.
    pub fn last_verified(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        access_time(&self.conn, "last_verified_at")
    }

    /// The offline lease in days: the shortest that a station held here sets, else
    /// [`DEFAULT_OFFLINE_LEASE_DAYS`].
    pub fn offline_lease_days(&self) -> Result<i64, StoreError> {
        let days: Option<i64> = self.conn.query_row(
            "SELECT min(offline_lease_days) FROM stations WHERE offline_lease_days > 0",
            [],
            |r| r.get(0),
        )?;
        Ok(days.unwrap_or(DEFAULT_OFFLINE_LEASE_DAYS))
    }

    /// Whether the offline lease has run out at `now`: longer than [`Store::offline_lease_days`]
    /// without a successful sync round. The app then refuses to open the local data until a
    /// sync round (online sign-in) goes through.
    pub fn lease_expired(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(last) = self.last_contact()? else { return Ok(false) };
        Ok(now - last > Duration::days(self.offline_lease_days()?))
    }

    /// The server answered `account_deactivated`: the account of this database was deactivated.
    /// Its data is dropped (unsent changes stay, for an administrator to look at) and offline
    /// sign-in is refused from now on ([`Store::user_is_active`]).
    pub fn note_account_deactivated(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE access SET deactivated_at = coalesce(deactivated_at, ?1)", params![now.to_rfc3339()])?;
        self.evict_outside(&[])?;
        Ok(())
    }

    /// When the server said this database's account was deactivated, if it did (and no sync
    /// round went through since).
    pub fn account_deactivated_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        access_time(&self.conn, "deactivated_at")
    }

    /// Whether `user_id` may still sign in offline on this device: not if the server said this
    /// account was deactivated, nor if the user's record held here says inactive.
    pub fn user_is_active(&self, user_id: Uuid) -> Result<bool, StoreError> {
        if self.account_deactivated_at()?.is_some() {
            return Ok(false);
        }
        let record = self.entity(EntityKind::User, user_id)?;
        Ok(record.is_none_or(|user| user.get(field::user::ACTIVE).and_then(serde_json::Value::as_bool) != Some(false)))
    }

    /// Changes not yet accepted or refused by the server (set-aside ones included).
    pub fn unsent_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM changes WHERE status = 'pending'", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// After a revoked device handed over its work: removes every entity, the whole change
    /// history, conflicts, the saved session and the signing key, keeping only the device id and
    /// the fact that it was revoked (`revoked_at`). Refuses (returns `false`, wiping nothing)
    /// while any change is unsent: nothing typed is destroyed.
    pub fn wipe(&mut self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let unsent: i64 = tx.query_row("SELECT count(*) FROM changes WHERE status = 'pending'", [], |r| r.get(0))?;
        if unsent > 0 {
            return Ok(false);
        }
        for kind in EntityKind::ALL {
            tx.execute(&format!("DELETE FROM {}", kind.spec().table), [])?;
        }
        tx.execute_batch(
            "DELETE FROM changes;
             DELETE FROM conflicts;
             DELETE FROM handed_over;
             UPDATE device SET session_json = NULL, signing_key = NULL, pull_cursor = 0;",
        )?;
        tx.execute("UPDATE access SET revoked_at = coalesce(revoked_at, ?1)", params![now.to_rfc3339()])?;
        tx.commit()?;
        // Nothing of it stays in free pages or the write-ahead log.
        self.conn.execute_batch("VACUUM")?;
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(true)
    }

    /// When this device was revoked and wiped, if it was.
    pub fn revoked_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        access_time(&self.conn, "revoked_at")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbKey;

    #[test]
    fn the_stations_a_table_holds_are_found_by_index_seeks_never_by_reading_every_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_with_key(&dir.path().join("plan.db"), &DbKey([3; 32])).expect("store");
        for kind in EntityKind::ALL.iter().filter(|k| !matches!(k, EntityKind::Station | EntityKind::User)) {
            for sql in station_hops(kind.spec().table) {
                let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("plan");
                let plan: Vec<String> = stmt
                    .query_map([""], |r| r.get::<_, String>(3))
                    .expect("plan")
                    .map(|r| r.expect("a step"))
                    .collect();
                assert!(
                    plan.iter().all(|step| !step.starts_with("SCAN")) && plan.iter().any(|step| step.contains("INDEX")),
                    "{sql}: {plan:?}"
                );
            }
        }
    }
}
