//! One sync round: push, pull, verify, repair.

use domain::change::Change;
use protocol::{PushOutcome, PushRequest, PushResponse, SnapshotQuery, codes, limits};
use serde::{Deserialize, Serialize};
use store::{AcceptedChange, GenerationSeen, SetAsideReason, Store};
use uuid::Uuid;

use crate::pages::Pages;
use crate::{SyncError, Transport, TransportError};

/// How many outbox changes go in one push. Small enough that a push over a weak link finishes,
/// large enough that a week of offline work goes in a few requests.
const PUSH_BATCH: usize = 200;
/// The most encoded bytes of changes in one push: half the server's body limit, so the envelope
/// and any difference in encoding stay well within it.
pub const PUSH_BYTES: usize = limits::MAX_BODY_BYTES / 2;
const SNAPSHOT_PAGE: u32 = 2000;
/// How often in one round the outbox may be renumbered (a reused or lost sequence number)
/// before the round gives up and says so.
const MAX_RENUMBERS: usize = 4;
/// A change set aside is tried again after this long (or when the user asks).
pub const SET_ASIDE_RETRY_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

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
    /// Changes set aside this round: the server could not take them as sent (too large, or it
    /// failed on them alone). They wait in the outbox with their reason; the rest went on.
    #[serde(default)]
    pub set_aside: usize,
    /// Why the push stopped early, when it did (the code of the error; the pull ran anyway and
    /// the round answers with that error).
    #[serde(default)]
    pub push_failed: Option<String>,
    /// Times the outbox was renumbered: the server held other changes under this device's
    /// numbers (its database went back in time or was cloned), or had lost some (restored).
    #[serde(default)]
    pub renumbered: usize,
    /// The server was restored from a backup (another generation, or a log shorter than this
    /// device's cursor): the device pulled again from the start and sent again what it lacked.
    #[serde(default)]
    pub server_restored: bool,
    /// This laptop became a new device (its id): the server found another one pushing under
    /// its old id, a cloned image. Its unsent work moved to the new device.
    #[serde(default)]
    pub new_device: Option<Uuid>,
    /// Entities dropped because they are outside what the user may see now (a move to another
    /// station, a supervised station taken away).
    #[serde(default)]
    pub evicted: usize,
    /// This device was revoked: its unsent work was handed over and its local data wiped.
    #[serde(default)]
    pub wiped: bool,
}

impl SyncReport {
    /// Whether the round changed anything in the local database.
    pub fn changed_data(&self) -> bool {
        self.accepted > 0
            || self.rejected > 0
            || self.pulled > 0
            || self.set_aside > 0
            || self.renumbered > 0
            || !self.repaired.is_empty()
    }
}

/// The upkeep after a round that changed data, run by whoever ran the round once the person has
/// been told (the desktop app's sync task, after the status bar and the screens): a round's
/// commits leave it out ([`Store::set_checkpoint_on_commit`]), so a first pull's data is on
/// screen without waiting for it.
///
/// Copies the write-ahead log into the database file (`PRAGMA wal_checkpoint(PASSIVE)`: never
/// waits for, nor holds up, the app's own connection; the next write cuts the log back to
/// [`store::WAL_SIZE_LIMIT_BYTES`]), so a power cut later finds little to replay and the log
/// does not grow across rounds. After a round that pulled (a large change), refreshes the
/// planner's statistics ([`Store::optimize`]). A failure is logged, not returned: the data is
/// safe either way, and the next round tries again.
pub fn tidy_after_round(store: &mut Store, report: &SyncReport) {
    if !report.changed_data() {
        return;
    }
    if let Err(e) = store.checkpoint(false) {
        tracing::warn!(error = %e, "could not checkpoint the local database after sync");
    }
    if (report.pulled > 0 || !report.repaired.is_empty())
        && let Err(e) = store.optimize()
    {
        tracing::warn!(error = %e, "could not refresh the planner's statistics after sync");
    }
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
    pull_batch: usize,
    last_report: SyncReport,
}

/// How many pulled entries may go in one transaction: pages are applied together until they
/// hold this many. Each commit writes (and encrypts, and syncs) every page the transaction
/// touched, and the indexes' pages are touched by nearly every page pulled, so fewer commits are
/// most of a first pull's speed: a station's first pull (25,600 records) took 825 ms with a
/// commit per page of 2,000, 420 ms in one (`cargo bench -p sync-client --bench sync`). A cut
/// in the middle loses at most this many entries' writing (under a second's work), and the pull
/// resumes after the last commit; a page is never split.
pub const PULL_BATCH_ENTRIES: usize = 50_000;

/// Whether the server refused a push for what was in it, as opposed to being away or busy:
/// too large, unreadable to it, or it failed on it. Such a push is split, and a single change
/// the server refuses so is set aside.
fn refused_as_sent(e: &TransportError) -> bool {
    match e {
        TransportError::Api(api) => {
            api.code == codes::TOO_LARGE
                || api.code == codes::MALFORMED
                || api.code == codes::INTERNAL
                || api.code == "http_413"
                || api.code == "http_500"
        }
        _ => false,
    }
}

fn set_aside_reason(e: &TransportError) -> SetAsideReason {
    let (code, message_zh, message_en) = match e {
        TransportError::Api(api) if api.code == codes::TOO_LARGE || api.code == "http_413" => (
            codes::TOO_LARGE.to_owned(),
            "这条修改太大，服务器无法接收；已暂存在本机，可稍后重试".to_owned(),
            "This change is too large for the server; it is kept on this computer and can be retried".to_owned(),
        ),
        TransportError::Api(api) => (
            api.code.clone(),
            format!("服务器无法处理这条修改（{}）；已暂存在本机，稍后会自动重试", api.message_zh),
            format!("The server could not handle this change ({}); it is kept here and retried later", api.message_en),
        ),
        other => ("server_error".to_owned(), "服务器无法处理这条修改".to_owned(), other.to_string()),
    };
    SetAsideReason { code, message_zh, message_en, at: chrono::Utc::now() }
}

/// The oldest changes that fit in one push body: at least one (a change too large alone is the
/// server's to refuse, and is then set aside).
pub(crate) fn fit_bytes(mut changes: Vec<Change>) -> Vec<Change> {
    let mut total = 16;
    let mut keep = 0;
    for change in &changes {
        let size = serde_json::to_vec(change).map(|v| v.len()).unwrap_or(usize::MAX / 2) + 1;
        if keep > 0 && total + size > PUSH_BYTES {
            break;
        }
        total += size;
        keep += 1;
    }
    changes.truncate(keep.max(1));
    changes
}

/// Whether a push answer is the answer to `sent`: one result per change, in the order sent.
/// Only then may the engine act on what it says about the sequence (a stale or cut reply must
/// not renumber anything).
fn answers(response: &PushResponse, sent: &[(u64, Uuid)]) -> bool {
    response.results.len() == sent.len() && response.results.iter().zip(sent).all(|(r, (seq, _))| r.device_seq == *seq)
}

impl<T: Transport> Engine<T> {
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            page_limit: limits::DEFAULT_PULL_LIMIT,
            pull_batch: PULL_BATCH_ENTRIES,
            last_report: SyncReport::default(),
        }
    }

    /// What the last round did, also when it ended in an error (a push that failed before a
    /// pull that worked).
    pub fn last_report(&self) -> &SyncReport {
        &self.last_report
    }

    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = limit.clamp(1, limits::MAX_PULL_LIMIT);
        self
    }

    /// How many pulled entries may go in one transaction (see [`PULL_BATCH_ENTRIES`]); 0 or 1
    /// applies each page on its own.
    pub fn with_pull_batch(mut self, entries: usize) -> Self {
        self.pull_batch = entries;
        self
    }

    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Pushes everything waiting, pulls everything new, and verifies the checksums.
    /// `on_progress` is called after each applied page.
    ///
    /// A push that fails (offline, a timeout, a server error) never keeps the pull from
    /// running: the round pulls, then answers with the push's error ([`SyncReport::push_failed`]
    /// in [`Engine::last_report`] says so too). What the round wrote is committed and on disk
    /// when it returns; copying the write-ahead log into the database file is left to
    /// [`tidy_after_round`], once the person has been told.
    pub fn sync_once(
        &mut self,
        store: &mut Store,
        mut on_progress: impl FnMut(PullProgress),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        // No commit of the round copies the log into the file (a first pull's would, while the
        // person waits): `tidy_after_round` does, after.
        let result = store
            .set_checkpoint_on_commit(false)
            .map_err(SyncError::from)
            .and_then(|()| self.round(store, &mut report, &mut on_progress));
        // A small step of its own after a round that went through: handed-over changes.
        let result = result.and_then(|()| self.exchange_handed_over(store));
        let result = self.heed_access(store, &mut report, result);
        if let Err(e) = store.set_checkpoint_on_commit(true) {
            tracing::warn!(error = %e, "could not let the local database checkpoint on commit again");
        }
        self.last_report = report.clone();
        result.map(|()| report)
    }

    /// Takes to heart what the round's outcome says about access: a round that went through
    /// renews the offline lease ([`Store::note_contact`]); a deactivated account drops the local
    /// data ([`Store::note_account_deactivated`]); a revoked device hands over its unsent work
    /// and then wipes its data ([`Engine::hand_over`]). The round's error stays the answer.
    fn heed_access(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        result: Result<(), SyncError>,
    ) -> Result<(), SyncError> {
        match result {
            Ok(()) => {
                store.note_contact(chrono::Utc::now())?;
                Ok(())
            }
            Err(e) if e.is_account_deactivated() => {
                tracing::warn!("the account was deactivated; dropping the local data");
                store.note_account_deactivated(chrono::Utc::now())?;
                Err(e)
            }
            Err(e) if e.is_device_revoked() => {
                self.hand_over(store, report)?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// This device was revoked: hands over the unsent work (set-aside changes included) with a
    /// push-only session, then wipes the local data — only once nothing is left unsent, so
    /// nothing typed is destroyed. Cut anywhere, the next round starts it again.
    pub fn hand_over(&mut self, store: &mut Store, report: &mut SyncReport) -> Result<(), SyncError> {
        store.retry_set_aside(None)?;
        if store.unsent_count()? > 0 {
            self.transport.hand_over()?;
            self.push_all(store, report)?;
        }
        if store.wipe(chrono::Utc::now())? {
            tracing::warn!("this device was revoked: its unsent work was handed over and its data wiped");
            report.wiped = true;
        }
        Ok(())
    }

    fn round(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        on_progress: &mut impl FnMut(PullProgress),
    ) -> Result<(), SyncError> {
        store.retry_set_aside(Some(chrono::Utc::now() - SET_ASIDE_RETRY_AFTER))?;
        let pushed = self.push_all(store, report);
        if let Err(e) = &pushed {
            tracing::warn!(error = %e, "push failed; pulling anyway");
            report.push_failed = Some(e.code().to_owned());
            if let SyncError::Store(_) = e {
                return pushed;
            }
        }
        self.pull_all(store, report, on_progress)?;
        pushed?;
        self.verify(store, report, on_progress)
    }

    /// Sends the outbox in order until it is empty. A change's local status changes only once
    /// its answer is in hand, so a cut reply is harmless: the resend gets the stored answer.
    ///
    /// A push the server refuses for its content (too large, unreadable, a server failure) is
    /// halved and sent again; a single change refused so is set aside with the reason
    /// ([`Store::set_aside`]) and the rest go on. When the server holds other changes under
    /// this device's numbers (`sequence_reused`) or lacks some it had accepted (a gap before
    /// the first change waiting), the outbox is renumbered from where the server is
    /// ([`Store::resend_from`]) and sent again.
    pub fn push_all(&mut self, store: &mut Store, report: &mut SyncReport) -> Result<(), SyncError> {
        if let Some(session_device) = self.transport.device_id()
            && session_device != store.device_id()
        {
            // The server registered this laptop under another id than its database's (at
            // sign-in, an id that is another user's; or a new device whose session was saved
            // before a crash kept the database from following): the database follows, with its
            // unsent work, before anything is sent under an id the token does not own.
            let moved = store.become_device(session_device)?;
            tracing::warn!(device = %session_device, moved, "the database takes the device id of its session");
            report.new_device = Some(session_device);
        }
        let mut limit = PUSH_BATCH;
        let mut renumbers = 0;
        // Changes set aside since the server last took a push: a second server failure in a row
        // is the server's, not the change's (it is down or its disk is full), and ends the push.
        let mut aside_since_success = 0;
        loop {
            let changes = fit_bytes(store.pending_changes(limit)?);
            let Some(first_seq) = changes.first().map(|c| c.device_seq) else {
                return Ok(());
            };
            let count = changes.len();
            let sent_order: Vec<(u64, Uuid)> = changes.iter().map(|c| (c.device_seq, c.change_id)).collect();
            let sent: std::collections::HashMap<u64, Uuid> = sent_order.iter().copied().collect();
            let response = match self.transport.push(&PushRequest { changes }) {
                Ok(response) => response,
                Err(e) if refused_as_sent(&e) => {
                    if count > 1 {
                        limit = count / 2;
                        tracing::info!(count, error = %e, "push refused as sent; halving it");
                        continue;
                    }
                    let server_failure = matches!(&e, TransportError::Api(api) if api.code != codes::TOO_LARGE && api.code != "http_413");
                    if server_failure && aside_since_success > 0 {
                        return Err(e.into());
                    }
                    tracing::warn!(seq = first_seq, error = %e, "the server cannot take this change; setting it aside");
                    store.set_aside(first_seq, &set_aside_reason(&e))?;
                    report.set_aside += 1;
                    aside_since_success += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            aside_since_success = 0;
            limit = (limit * 2).min(PUSH_BATCH);
            let trusted = answers(&response, &sent_order);
            let mut reused = None;
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
                    PushOutcome::SequenceReused { expected } => {
                        reused = Some(reused.unwrap_or(expected).max(expected));
                    }
                    PushOutcome::Gap { .. } => {}
                }
            }
            if !accepted.is_empty() {
                store.mark_accepted_all(&accepted)?;
                report.accepted += accepted.len();
                progressed = true;
            }
            let expected = response.next_expected_seq;
            // Renumber only on an answer that is surely to this push: a cut or stale one must
            // never move a change the server may already hold.
            let renumber_from = match reused {
                // Another change holds one of these numbers: what is unsent goes after
                // everything the server holds of this device.
                Some(reused) if trusted => Some(reused.max(expected)),
                // The server lacks changes before the first one waiting: they are sent again.
                None if trusted && !progressed && expected < first_seq => Some(expected),
                _ => None,
            };
            if reused.is_some() && renumber_from.is_some() && report.new_device.is_none() {
                // Another laptop holds this device's numbers: most likely a copy of this one's
                // image. This one becomes a new device, with its unsent work; the other keeps
                // the old id. (A database that only went back in time becomes one too, which
                // costs nothing.)
                match self.transport.new_device() {
                    Ok(Some(session)) => {
                        let moved = store.become_device(session.device_id)?;
                        tracing::warn!(device = %session.device_id, moved, "this laptop is a copy of another; it became a new device");
                        report.new_device = Some(session.device_id);
                        report.renumbered += 1;
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not become a new device; renumbering instead"),
                }
            }
            match renumber_from {
                Some(from) if renumbers < MAX_RENUMBERS => {
                    renumbers += 1;
                    report.renumbered += 1;
                    let waiting = store.resend_from(from)?;
                    tracing::warn!(from, waiting, "renumbered the outbox after the server's sequence");
                }
                Some(_) | None if !progressed => {
                    // Nothing moved, and nothing sure to act on: the next round tries again.
                    return Err(SyncError::SequenceGap { expected });
                }
                _ => {}
            }
        }
    }

    /// After a server restore: every change of this database's own that the server had taken
    /// already waits again (noted with the new generation, [`Store::note_server_generation`]).
    /// Asks the server which of this device's sequence numbers it expects next (an empty
    /// push), numbers what waits from there on, and sends it. The server answers what it still
    /// holds by change id with the answer it gave; what it lost it takes anew. Not by number:
    /// the numbers it holds may be another laptop's changes (a clone sharing this device's id
    /// pushed since the restore), and this database's history may be under an id it had
    /// before it became a new device.
    fn resend_what_the_server_lost(&mut self, store: &mut Store, report: &mut SyncReport) -> Result<(), SyncError> {
        let response = self.transport.push(&PushRequest { changes: Vec::new() })?;
        let expected = response.next_expected_seq;
        if expected <= store.last_device_seq()? || store.pending_count()? > 0 {
            let waiting = store.resend_from(expected)?;
            report.renumbered += 1;
            tracing::warn!(expected, waiting, "the server may lack changes of this device; sending them again");
        }
        self.push_all(store, report)
    }

    /// Pulls pages until the server has nothing more; each page is applied with its cursor in
    /// one transaction, so a cut anywhere resumes from the last applied page.
    pub fn pull_all(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        on_progress: &mut impl FnMut(PullProgress),
    ) -> Result<(), SyncError> {
        let mut restarted = false;
        let pulled = self.pull_pages(store, report, on_progress, &mut restarted);
        if restarted {
            // This device's unsent changes go back on top of the restored server's state.
            store.reapply_pending()?;
        }
        pulled
    }

    fn pull_pages(
        &mut self,
        store: &mut Store,
        report: &mut SyncReport,
        on_progress: &mut impl FnMut(PullProgress),
        restarted: &mut bool,
    ) -> Result<(), SyncError> {
        let mut pages = Pages::new(&mut self.transport, self.page_limit);
        loop {
            let cursor = store.pull_cursor()?;
            let page = pages.next(cursor)?;
            // A server restored from a backup: another generation (or, from a server that sends
            // none, a log shorter than what this device has seen). Pull again from the start and
            // send again what the server lost; at most once a round.
            let head = page.page.head;
            let restored = match &page.page.generation {
                Some(generation) => store.note_server_generation(generation)? == GenerationSeen::Changed,
                None if head < cursor && !*restarted => {
                    store.requeue_own_history()?;
                    true
                }
                None => head < cursor,
            };
            if restored && !*restarted {
                *restarted = true;
                report.server_restored = true;
                tracing::warn!(cursor, head, "the server was restored from a backup; syncing again from the start");
                drop(pages);
                if let Err(e) = self.resend_what_the_server_lost(store, report) {
                    report.push_failed = Some(e.code().to_owned());
                    tracing::warn!(error = %e, "could not send again what the restored server lacks");
                }
                // What was pulled from the future the server lost would win every merge (its
                // stamps are newer): forgotten, and the restored log pulled from the start.
                store.forget_pulled()?;
                pages = Pages::new(&mut self.transport, self.page_limit);
                continue;
            }
            // Pages of the same server, applied in one transaction until it holds enough.
            let generation = page.page.generation.clone();
            let mut batch = store.begin_pull()?;
            let (mut fetched, mut cursor) = (page, cursor);
            loop {
                let page = &fetched.page;
                // A cursor never goes backward, whatever a server or a replayed reply says.
                let next = page.next_cursor.max(cursor);
                if fetched.pulled.is_empty() && next == cursor {
                    batch.commit()?;
                    return Ok(());
                }
                if page.has_more {
                    pages.fetch_ahead(next);
                }
                let applied = batch.apply_page(&fetched.pulled, next)?;
                if applied.skipped_bad_stamp > 0 {
                    tracing::warn!(
                        skipped = applied.skipped_bad_stamp,
                        "pulled entries with stamps no clock can make were skipped"
                    );
                }
                report.pulled += fetched.pulled.len();
                report.pages += 1;
                on_progress(PullProgress { cursor: next, head: page.head.max(next), pulled: report.pulled as u64 });
                if !page.has_more {
                    batch.commit()?;
                    pages.recycle(fetched);
                    return Ok(());
                }
                if batch.entries() >= self.pull_batch {
                    break;
                }
                let following = match pages.next(next) {
                    Ok(following) => following,
                    Err(e) => {
                        // What was applied is kept: the next round goes on from there.
                        batch.commit()?;
                        return Err(e.into());
                    }
                };
                if generation.is_none() || following.page.generation != generation {
                    // Another server behind the address, or one that does not say: the page
                    // is looked at on its own, after a commit.
                    pages.put_back(next, following);
                    break;
                }
                pages.recycle(std::mem::replace(&mut fetched, following));
                cursor = next;
            }
            batch.commit()?;
            // More batches follow: the log is copied into the file between them, as SQLite
            // would at the commit, so a county's first pull keeps it near one batch.
            if let Err(e) = store.checkpoint(false) {
                tracing::warn!(error = %e, "could not checkpoint the local database between pulled batches");
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
        // The server's word on what this user may hold now: whatever this device holds beyond
        // it (the user moved, a supervised station taken away) is dropped, cursor or not.
        if let Some(scope) = &checksums.scope
            && store.holds_outside(scope)?
        {
            let dropped = store.evict_outside(scope)?;
            if dropped > 0 {
                tracing::info!(dropped, "dropped what this user may no longer see");
            }
            report.evicted += dropped;
        }
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

#[cfg(test)]
mod push_sizing_tests {
    use domain::change::{FieldWrite, Op};
    use domain::entity::EntityKind;
    use domain::hlc::Hlc;

    use super::*;

    fn change_with_notes(seq: u64, bytes: usize) -> Change {
        let device = Uuid::from_u128(1);
        Change {
            change_id: Uuid::now_v7(),
            device_id: device,
            device_seq: seq,
            author_id: Uuid::from_u128(2),
            schema_version: domain::SCHEMA_VERSION,
            hlc: Hlc::new(1_700_000_000_000 + seq, 0, device),
            entity: EntityKind::Recipient,
            entity_id: Uuid::now_v7(),
            op: Op::Update,
            fields: [("notes".to_owned(), FieldWrite::new(serde_json::Value::from("字".repeat(bytes / 3))))]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn a_push_is_sized_by_its_encoded_bytes_not_only_by_its_count() {
        let big: Vec<Change> = (1..=10).map(|n| change_with_notes(n, 1024 * 1024)).collect();
        let sent = fit_bytes(big);
        assert_eq!(sent.len(), 3, "three of 1 MiB fit under {PUSH_BYTES} bytes");
        let body = serde_json::to_vec(&PushRequest { changes: sent }).expect("json");
        assert!(body.len() <= PUSH_BYTES && PUSH_BYTES < limits::MAX_BODY_BYTES);

        let small: Vec<Change> = (1..=10).map(|n| change_with_notes(n, 100)).collect();
        assert_eq!(fit_bytes(small).len(), 10);
        let huge = vec![change_with_notes(1, 9 * 1024 * 1024)];
        assert_eq!(fit_bytes(huge).len(), 1, "one alone always goes: the server's to refuse, then set aside");
    }
}
