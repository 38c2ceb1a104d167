//! A first pull into an empty store builds the entity tables' secondary indexes once, at its
//! commit, instead of inserting every row's keys into them one by one.
//!
//! Why: a station's first pull inserts ~25,000 rows into tables with up to a dozen indexes each
//! (the roster's search and sort orders, the board's). Inserted row by row, random keys (ids,
//! initials) split index pages all over the file, and each of those half-empty pages is written,
//! encrypted and synced at the commit. Built after the rows are in, SQLite sorts each index's keys
//! and writes it bottom-up: fewer, full pages, and no B-tree descents per row.
//!
//! The invariant that keeps this safe: the indexes are dropped and created again **inside the
//! pull's one transaction**. Every commit therefore holds the full schema; a crash or an error
//! before the commit rolls the drop back with everything else. The apply path searches by none
//! of them meanwhile: a recipient's latest visit, otherwise looked up by `visits_by_recipient`,
//! is computed for every recipient once the indexes are back (`LatestVisits::end_first_load`).
//! Anything that must search (an eviction deletes a case's records by case) puts them back first
//! ([`DeferredIndexes::restore`]).

use domain::Labelled;
use domain::entity::EntityKind;
use rusqlite::Connection;

use crate::StoreError;

/// The secondary indexes dropped for a first load, with the SQL that creates them again.
#[derive(Debug, Default)]
pub(crate) struct DeferredIndexes {
    dropped: Vec<String>,
}

impl DeferredIndexes {
    /// In an empty store (no entity of any kind), drops the entity tables' non-unique secondary
    /// indexes, and returns them to restore; otherwise drops nothing. Runs inside the
    /// pull's transaction.
    pub(crate) fn defer_if_empty(tx: &Connection) -> Result<DeferredIndexes, StoreError> {
        let tables: Vec<&str> = EntityKind::ALL.iter().map(|k| k.spec().table).collect();
        for table in &tables {
            let any: bool = tx.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| r.get(0))?;
            if any {
                return Ok(DeferredIndexes::default());
            }
        }
        let mut indexes = Vec::new();
        {
            // `sql IS NULL` are the automatic indexes of PRIMARY KEY and UNIQUE constraints.
            let mut stmt = tx.prepare(
                "SELECT name, tbl_name, sql FROM sqlite_schema
                 WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            )?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
            for row in rows {
                let (name, table, sql) = row?;
                let unique = sql.trim_start().to_ascii_uppercase().starts_with("CREATE UNIQUE");
                if tables.contains(&table.as_str()) && !unique {
                    indexes.push((name, sql));
                }
            }
        }
        let mut dropped = Vec::with_capacity(indexes.len());
        for (name, sql) in indexes {
            tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
            dropped.push(sql);
        }
        Ok(DeferredIndexes { dropped })
    }

    /// Whether some indexes are waiting to be created again.
    pub(crate) fn pending(&self) -> bool {
        !self.dropped.is_empty()
    }

    /// Creates every dropped index again (each built from the rows now in its table).
    pub(crate) fn restore(&mut self, tx: &Connection) -> Result<(), StoreError> {
        for sql in self.dropped.drain(..) {
            tx.execute_batch(&sql)?;
        }
        Ok(())
    }
}
