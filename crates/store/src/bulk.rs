//! Loading many rows at once (the benchmark's county, a first full sync from a snapshot file):
//! rows are written directly, without outbox entries or rule checks, in one transaction.

use domain::entity::EntityState;
use rusqlite::TransactionBehavior;

use crate::rows;
use crate::{DeviceState, Store, StoreError};

impl Store {
    /// Writes `entities` as they are, in one transaction: no rule checks, no outbox entries, no
    /// conflicts. The clocks are observed so later local stamps order after them. For loading
    /// trusted data in bulk (benchmarks, seeding); the app writes through [`Store::record`].
    #[doc(hidden)]
    pub fn bulk_load(&mut self, entities: &[EntityState]) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        for state in entities {
            device.clock.observe(state.created.hlc);
            rows::write_row(&tx, state)?;
        }
        rows::refresh_all_visit_summaries(&tx)?;
        device.save(&tx)?;
        tx.commit()?;
        // The load went through the WAL: fold it into the database file now, so the next
        // writes do not pay for it (the next write then cuts the WAL back to its size limit).
        self.checkpoint(false)?;
        Ok(())
    }

    /// Copies the write-ahead log into the database file (and with `truncate`, empties it).
    /// SQLite does this by itself every 1000 pages, on whichever write crosses the mark; the
    /// app's background task calls this when idle (after a sync), so a person's write rarely
    /// pays for it.
    pub fn checkpoint(&mut self, truncate: bool) -> Result<(), StoreError> {
        let mode = if truncate { "TRUNCATE" } else { "PASSIVE" };
        self.conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (after a bulk load).
    #[doc(hidden)]
    pub fn analyze(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("ANALYZE")?;
        Ok(())
    }
}
