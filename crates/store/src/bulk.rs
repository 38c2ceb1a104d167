//! Loading many rows at once (the benchmark's county, a first full sync from a snapshot file):
//! rows are written directly, without outbox entries or rule checks, in one transaction. And the
//! upkeep after large changes: checkpointing the write-ahead log, refreshing the query planner's
//! statistics.

use domain::entity::EntityState;
use rusqlite::TransactionBehavior;

use crate::rows;
use crate::{DeviceState, Store, StoreError};

/// SQLite's default autocheckpoint mark, in pages of the write-ahead log.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

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
        // A large change: the planner's statistics, as after a sync round that pulled.
        self.optimize()?;
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

    /// Whether a commit that leaves the write-ahead log over 1000 pages goes on to copy it into
    /// the database file itself (SQLite's autocheckpoint; on when a store opens). A sync round
    /// turns it off while it runs, so the person does not wait for a first pull's copy: the
    /// round's caller checkpoints once the screens are told (the sync client's
    /// `tidy_after_round`). Turning it back on checkpoints nothing by itself.
    pub fn set_checkpoint_on_commit(&mut self, on: bool) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", if on { AUTOCHECKPOINT_PAGES } else { 0 })?;
        Ok(())
    }

    /// Lets SQLite refresh the query planner's statistics (`sqlite_stat1`) where they are
    /// missing or stale: `PRAGMA optimize` analyzes each table that has rows but no statistics
    /// yet, or has grown or shrunk tenfold since it was last analyzed, and leaves the others
    /// alone (usually it does nothing). Mask `0x10012`: analyze (`0x2`) within SQLite's own bound
    /// on the work (`0x10`: a sample of each index; under a second on the county benchmark's
    /// 580 MB database after its first pull, about 10 ms at a later close), looking at every
    /// table (`0x10000`), not only those this connection has queried — the sync rounds'
    /// connection writes the tables the screens read.
    ///
    /// Run when SQLite's documentation says to (<https://sqlite.org/lang_analyze.html>,
    /// <https://sqlite.org/pragma.html#pragma_optimize>): before a connection closes (the store
    /// does on drop) and after a large change (the desktop app's sync task after a round that
    /// pulled, [`Store::bulk_load`] at its end). A connection that did not run it sees the new
    /// statistics when it next opens, or at once when they are the database's first.
    pub fn optimize(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("PRAGMA optimize = 0x10012")?;
        Ok(())
    }
}
