//! Sync by USB stick, the device's side (the format is [`protocol::bundle`]):
//! - [`export_outbox`]: the outbox, from its first change the server has not acknowledged, and
//!   the pull cursor, sealed into a bundle file;
//! - [`crate::HttpTransport::relay_bundle`]: on the station laptop, the file sent to the server
//!   as it is, and the return bundle it answers;
//! - [`import_return`]: the return bundle taken in through the engine's own paths, as if the
//!   server had answered a round: the answers as a push's ([`Engine::push_all`]), the pages as a
//!   pull's ([`Engine::pull_all`], with its cursor check). A return bundle is taken only on top
//!   of the cursor it was made for: imported twice, or after a later one, it changes nothing and
//!   says why ([`BundleError::Stale`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use protocol::bundle::{BundleError, OutboxBundle, ReturnBundle};
use protocol::{
    ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, PushResult, SnapshotQuery, SnapshotResponse,
    limits,
};
use serde::{Deserialize, Serialize};
use store::Store;
use uuid::Uuid;

use crate::engine::fit_bytes;
use crate::{Engine, SyncError, SyncReport, Transport, TransportError};

/// An outbox bundle written: its bytes, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedBundle {
    pub bytes: Vec<u8>,
    pub bundle_id: Uuid,
    pub changes: usize,
    pub pull_after: u64,
}

/// What importing a return bundle did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedBundle {
    /// The outbox bundle it answers.
    pub answers: Uuid,
    pub accepted: usize,
    pub rejected: usize,
    pub pulled: usize,
    /// The server had more after the last page the bundle could hold: another bundle (or an
    /// online sync) brings it.
    pub more_waiting: bool,
}

/// Seals this device's outbox (at most one push's worth: the rest goes in the next bundle) and
/// its pull cursor into an outbox bundle, with the device's recovery secret. Nothing on the
/// device changes: the outbox stays as it is until the answers come back.
pub fn export_outbox(
    store: &Store,
    user_id: Uuid,
    secret_hex: &str,
    now: DateTime<Utc>,
) -> Result<ExportedBundle, SyncError> {
    let changes = fit_bytes(store.pending_changes(limits::MAX_PUSH_CHANGES)?);
    let bundle = OutboxBundle {
        bundle_id: Uuid::now_v7(),
        device_id: store.device_id(),
        user_id,
        created_at: now,
        pull_after: store.pull_cursor()?,
        push: PushRequest { changes },
    };
    let bytes = bundle.seal(secret_hex)?;
    tracing::info!(bundle = %bundle.bundle_id, changes = bundle.push.changes.len(), after = bundle.pull_after,
        "outbox bundle written");
    Ok(ExportedBundle {
        bytes,
        bundle_id: bundle.bundle_id,
        changes: bundle.push.changes.len(),
        pull_after: bundle.pull_after,
    })
}

/// Takes a return bundle in: refused as a whole unless it opens with this device's secret, is
/// this device's, and follows this device's pull cursor.
pub fn import_return(store: &mut Store, secret_hex: &str, bytes: &[u8]) -> Result<ImportedBundle, SyncError> {
    let bundle = ReturnBundle::open(bytes, store.device_id(), secret_hex)?;
    let cursor = store.pull_cursor()?;
    if bundle.pages.first().and_then(|page| page.after) != Some(cursor) {
        tracing::info!(bundle = %bundle.bundle_id, cursor, "a return bundle for another cursor was refused");
        return Err(BundleError::Stale.into());
    }
    let answers = bundle.answers;
    let more_waiting = bundle.pages.last().is_some_and(|page| page.has_more);
    let mut engine = Engine::new(ReturnTransport::new(bundle));
    let mut report = SyncReport::default();
    match engine.push_all(store, &mut report) {
        Ok(()) => {}
        Err(SyncError::Store(e)) => return Err(e.into()),
        // The answers ran out before the outbox did (changes made since the export): those wait
        // for the next bundle.
        Err(e) => tracing::info!(reason = %e, "the return bundle answered part of the outbox"),
    }
    engine.pull_all(store, &mut report, &mut |_| {})?;
    if report.changed_data()
        && let Err(e) = store.checkpoint(false)
    {
        tracing::warn!(error = %e, "could not checkpoint the local database after a bundle");
    }
    tracing::info!(answers = %answers, accepted = report.accepted, rejected = report.rejected, pulled = report.pulled,
        "return bundle imported");
    Ok(ImportedBundle {
        answers,
        accepted: report.accepted,
        rejected: report.rejected,
        pulled: report.pulled,
        more_waiting,
    })
}

/// The server as a return bundle remembers it: each answer given once, to the change it
/// answers; each page to the cursor it follows; after the last page, nothing more.
struct ReturnTransport {
    answers: HashMap<u64, PushResult>,
    next_expected_seq: u64,
    pages: Vec<PullResponse>,
    /// After the last page: its cursor, head and generation.
    end: Option<(u64, u64, Option<String>)>,
}

const NOT_IN_BUNDLE: &str = "not in this return bundle";

impl ReturnTransport {
    fn new(bundle: ReturnBundle) -> ReturnTransport {
        let end = bundle.pages.last().map(|p| (p.next_cursor, p.head, p.generation.clone()));
        let answers = bundle.push.results.into_iter().map(|r| (r.device_seq, r)).collect();
        ReturnTransport { answers, next_expected_seq: bundle.push.next_expected_seq, pages: bundle.pages, end }
    }
}

impl Transport for ReturnTransport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let mut results = Vec::new();
        for change in &request.changes {
            match self.answers.get(&change.device_seq) {
                Some(answer) if answer.change_id == change.change_id => {}
                _ => break,
            }
            if let Some(answer) = self.answers.remove(&change.device_seq) {
                results.push(answer);
            }
        }
        if results.is_empty() && !request.changes.is_empty() {
            return Err(TransportError::Offline(NOT_IN_BUNDLE.into()));
        }
        Ok(PushResponse { results, next_expected_seq: self.next_expected_seq })
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        if let Some(at) = self.pages.iter().position(|page| page.after == Some(query.after)) {
            return Ok(self.pages.remove(at));
        }
        match &self.end {
            Some((cursor, head, generation)) if *cursor == query.after => Ok(PullResponse {
                entries: Vec::new(),
                next_cursor: *cursor,
                has_more: false,
                head: *head,
                generation: generation.clone(),
                after: Some(query.after),
            }),
            _ => Err(TransportError::Offline(NOT_IN_BUNDLE.into())),
        }
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        Err(TransportError::Offline(NOT_IN_BUNDLE.into()))
    }

    fn snapshot(&mut self, _query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        Err(TransportError::Offline(NOT_IN_BUNDLE.into()))
    }
}
