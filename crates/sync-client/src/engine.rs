//! One sync round: push, pull, verify, repair.

use protocol::{PullQuery, PushOutcome, PushRequest, SnapshotQuery, limits};
use serde::{Deserialize, Serialize};
use store::{AcceptedChange, Store};
use uuid::Uuid;

use crate::{SyncError, Transport};

/// How many outbox changes go in one push. Small enough that a push over a weak link finishes,
/// large enough that a week of offline work goes in a few requests.
const PUSH_BATCH: usize = 200;
const SNAPSHOT_PAGE: u32 = 2000;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub accepted: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub pages: usize,
    /// Stations whose local copy had diverged and was rebuilt from the server.
    pub repaired: Vec<Uuid>,
    /// Whether the checksums were compared this round (only when nothing was waiting locally
    /// and no change landed on the server in between).
    pub verified: bool,
}

/// Progress of a long pull, for the UI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgress {
    pub cursor: u64,
    pub head: u64,
    pub pulled: u64,
}

pub struct Engine<T: Transport> {
    transport: T,
    page_limit: u32,
}

impl<T: Transport> Engine<T> {
    pub fn new(transport: T) -> Self {
        Self { transport, page_limit: limits::DEFAULT_PULL_LIMIT }
    }

    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = limit.clamp(1, limits::MAX_PULL_LIMIT);
        self
    }

    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Pushes everything waiting, pulls everything new, and verifies the checksums.
    /// `on_progress` is called after each applied page.
    pub fn sync_once(
        &mut self,
        store: &mut Store,
        mut on_progress: impl FnMut(PullProgress),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.push_all(store, &mut report)?;
        self.pull_all(store, &mut report, &mut on_progress)?;
        self.verify(store, &mut report, &mut on_progress)?;
        Ok(report)
    }

    /// Sends the outbox in order until it is empty. A change's local status changes only once
    /// its answer is in hand, so a cut reply is harmless: the resend gets the stored answer.
    pub fn push_all(&mut self, store: &mut Store, report: &mut SyncReport) -> Result<(), SyncError> {
        loop {
            let changes = store.pending_changes(PUSH_BATCH)?;
            if changes.is_empty() {
                return Ok(());
            }
            let sent: std::collections::HashMap<u64, Uuid> =
                changes.iter().map(|c| (c.device_seq, c.change_id)).collect();
            let response = self.transport.push(&PushRequest { changes })?;
            let mut progressed = false;
            // Runs of accepted answers are marked in one transaction each; a refusal is undone
            // in its turn, so every answer takes effect in the order given.
            let mut accepted = Vec::new();
            for result in response.results {
                // Only answers to what was just sent count: a stale or misrouted reply must not
                // mark (or undo) anything else.
                if sent.get(&result.device_seq) != Some(&result.change_id) {
                    continue;
                }
                match result.outcome {
                    PushOutcome::Accepted { server_seq, effective_hlc } => {
                        accepted.push(AcceptedChange { device_seq: result.device_seq, server_seq, effective_hlc });
                    }
                    PushOutcome::Rejected { rejection, current } => {
                        store.mark_accepted_all(&accepted)?;
                        report.accepted += std::mem::take(&mut accepted).len();
                        store.mark_rejected(result.device_seq, rejection, current)?;
                        report.rejected += 1;
                        progressed = true;
                    }
                    PushOutcome::Gap { .. } => {}
                }
            }
            if !accepted.is_empty() {
                store.mark_accepted_all(&accepted)?;
                report.accepted += accepted.len();
                progressed = true;
            }
            if !progressed {
                // The server wants an earlier change than the first one waiting here: it has lost
                // changes this device had confirmed. Nothing sensible is automatic.
                return Err(SyncError::SequenceGap { expected: response.next_expected_seq });
            }
        }
    }

    /// Pulls pages until the server has nothing more; each page is applied with its cursor in
    /// one transaction, so a cut anywhere resumes from the last applied page.
    pub fn pull_all(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        on_progress: &mut impl FnMut(PullProgress),
    ) -> Result<(), SyncError> {
        loop {
            let cursor = store.pull_cursor()?;
            let page = self.transport.pull(PullQuery { after: cursor, limit: Some(self.page_limit) })?;
            // A cursor never goes backward, whatever a server or a replayed reply says.
            let next = page.next_cursor.max(cursor);
            if page.entries.is_empty() && next == cursor {
                return Ok(());
            }
            let entries: Vec<(u64, domain::change::Incoming)> =
                page.entries.into_iter().map(|e| (e.server_seq, e.item)).collect();
            store.apply_pulled(&entries, next)?;
            report.pulled += entries.len();
            report.pages += 1;
            on_progress(PullProgress { cursor: next, head: page.head.max(next), pulled: report.pulled as u64 });
            if !page.has_more {
                return Ok(());
            }
        }
    }

    /// Compares the per-station checksums with the server's, when the comparison means
    /// something: nothing waiting here, and this device has pulled exactly up to where the
    /// server took its checksums. A station that differs is rebuilt from a snapshot.
    pub fn verify(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        on_progress: &mut impl FnMut(PullProgress),
    ) -> Result<(), SyncError> {
        if store.pending_count()? > 0 {
            return Ok(());
        }
        let checksums = self.transport.checksum()?;
        if store.pull_cursor()? != checksums.as_of {
            // Something landed on the server since the pull; the next round compares.
            return Ok(());
        }
        report.verified = true;
        for station in &checksums.stations {
            let local = format!("{:016x}", store.station_checksum(station.station_id)?);
            if local != station.checksum {
                tracing::warn!(station = %station.station_id, "local copy diverged from the server; repairing");
                self.repair(store, station.station_id)?;
                report.repaired.push(station.station_id);
            }
        }
        if !report.repaired.is_empty() {
            self.pull_all(store, report, on_progress)?;
        }
        Ok(())
    }

    /// Rebuilds one station from the server's current state. Safe to cut: the next round's
    /// checksum still differs and the repair starts again.
    pub fn repair(&mut self, store: &mut Store, station: Uuid) -> Result<(), SyncError> {
        let mut query = SnapshotQuery { station, after_kind: None, after_id: None, limit: Some(SNAPSHOT_PAGE) };
        let mut first = true;
        loop {
            let page = self.transport.snapshot(&query)?;
            if first {
                // The snapshot is taken at or after `as_of`, which is at or after this device's
                // cursor: the cursor stays, and changes the snapshot already holds are merged
                // again on the next pull, which changes nothing.
                store.clear_station(station)?;
                first = false;
            }
            store.apply_snapshot(&page.entities)?;
            let Some(last) = page.entities.last() else { return Ok(()) };
            if !page.has_more {
                return Ok(());
            }
            query.after_kind = Some(last.kind);
            query.after_id = Some(last.id);
        }
    }
}
