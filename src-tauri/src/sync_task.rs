//! The background sync: a thread that runs a sync round every [`INTERVAL`] while someone is
//! signed in, right after sign-in and after each local write (a wake-up), and backs off after
//! failures. It keeps the status the UI's status bar shows, so asking for it never waits for a
//! round in progress.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use store::{DbKey, Store};
use sync_client::{Backoff, Engine, HttpTransport, PullProgress, SyncError, SyncReport};

use app::Account;
use app::account::session_saver;
use app::error::sync_error_to_command;

use crate::dto::{CommandError, PullProgressView, SyncStatusView, codes};
use crate::{Inner, lock};

/// Time between rounds when all is well.
pub const INTERVAL: Duration = Duration::from_secs(15);
/// The first wait after a failed round; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Starts the sync thread. Sending on the returned channel asks for a round now.
pub fn spawn(inner: std::sync::Arc<Inner>) -> std::io::Result<mpsc::Sender<()>> {
    let (wake, wakes) = mpsc::channel::<()>();
    std::thread::Builder::new().name("sync".into()).spawn(move || {
        let mut backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF, seed());
        let mut wait = INTERVAL;
        loop {
            match wakes.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            // Several wake-ups while a round ran ask for one more round, not several.
            while wakes.try_recv().is_ok() {}
            wait = match run_round(&inner) {
                Ok(_) => {
                    backoff.reset();
                    INTERVAL
                }
                Err(RoundError::NotSignedIn) => INTERVAL,
                Err(RoundError::Sync(e)) if e.is_transient() => backoff.next_delay(),
                // Needs a person (sign in again, update the app): try now and then, not often.
                Err(RoundError::Sync(_)) => MAX_BACKOFF,
            };
        }
    })?;
    Ok(wake)
}

fn seed() -> u64 {
    Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64
}

#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("no one is signed in")]
    NotSignedIn,
    #[error(transparent)]
    Sync(SyncError),
}

/// The sync rounds' own connection to the signed-in user's database, kept from round to round
/// (opened again when the database or its key changes: a sign-in may re-key it). Rounds run one
/// at a time (the thread's and the one at sign-in), each holding this.
#[derive(Default)]
pub struct SyncConnection(Option<(PathBuf, DbKey, Store)>);

/// One sync round for the signed-in account, updating the status as it goes. The account is
/// locked only to read what the round needs and to note its outcome: the round itself runs on a
/// connection of its own (SQLite's WAL lets the commands read and write meanwhile), so a slow or
/// dead network never holds up the UI.
pub fn run_round(inner: &Inner) -> Result<SyncReport, RoundError> {
    let mut connection = lock(&inner.sync_connection);
    let (path, key, server_url, session) = {
        let guard = lock(&inner.account);
        let Some(account) = guard.as_ref() else {
            connection.0 = None;
            return Err(RoundError::NotSignedIn);
        };
        (account.path.clone(), account.key.clone(), account.server_url.clone(), account.session.clone())
    };
    let Some(session) = session else {
        let error =
            CommandError::new(codes::SIGN_IN_REQUIRED, "需要联网登录一次才能同步", "Sign in once while online to sync");
        update_status(inner, |s| {
            s.online = false;
            s.last_error = Some(error);
        });
        // No round to count after: the bar shows what this database holds now.
        if let Some(account) = lock(&inner.account).as_ref().filter(|a| a.path == path) {
            refresh_counts(inner, account);
        }
        return Err(RoundError::NotSignedIn);
    };
    if connection.0.as_ref().is_none_or(|(open, open_key, _)| *open != path || *open_key != key) {
        // Closed first: the old connection's key may no longer fit the file.
        connection.0 = None;
        let store = Store::open_with_key(&path, &key).map_err(|e| RoundError::Sync(SyncError::Store(e)))?;
        connection.0 = Some((path.clone(), key.clone(), store));
    }
    let Some((_, _, store)) = connection.0.as_mut() else {
        return Err(RoundError::NotSignedIn);
    };
    // What the database holds now, if it is this session: the refreshed one replaces only that.
    let started_with = store.session_json().ok().flatten().filter(|json| json.contains(&session.refresh_token));
    let Some(started_with) = started_with else {
        let error = CommandError::new(
            codes::SIGN_IN_REQUIRED,
            "登录信息已变更，请重新登录后同步",
            "The sign-in changed meanwhile; sign in again to sync",
        );
        update_status(inner, |s| s.last_error = Some(error));
        return Err(RoundError::NotSignedIn);
    };
    let round_refresh_token = session.refresh_token.clone();
    update_status(inner, |s| {
        s.syncing = true;
        s.pull_progress = None;
    });
    let mut refreshed = None;
    let mut tidy_after = None;
    let saver = session_saver(path.clone(), key.clone(), server_url.clone(), Some(started_with));
    let result = HttpTransport::new(&server_url, session).map_err(SyncError::from).and_then(|transport| {
        let transport = transport.with_session_saver(saver);
        let mut engine = Engine::new(transport);
        let result = engine.sync_once(store, |progress: PullProgress| {
            update_status(inner, |s| {
                s.pull_progress =
                    Some(PullProgressView { cursor: progress.cursor, head: progress.head, pulled: progress.pulled });
            });
        });
        refreshed = engine.transport().take_refreshed_session();
        tidy_after = Some(engine.last_report().clone());
        result
    });
    let now = Utc::now();
    // The server has closed this account or this laptop: once nothing unsent is left here (a
    // revoked device hands its work over first, round after round if need be), the user is
    // signed out, and the sign-in page says why.
    let signed_out_because = match &result {
        Err(e) => app::sync_view::sign_out_reason(e, store.unsent_count().unwrap_or(u64::MAX)),
        Ok(_) => None,
    };
    let mut guard = lock(&inner.account);
    if let Some(reason) = signed_out_because
        && guard.as_ref().is_some_and(|a| a.path == path)
    {
        tracing::warn!(code = %reason.code, "signed out: the server closed this account or device");
        guard.take();
        connection.0 = None;
        drop(guard);
        update_status(inner, |s| *s = SyncStatusView { last_error: Some(reason), ..SyncStatusView::default() });
        return result.map_err(RoundError::Sync);
    }
    // Whoever signed out or in meanwhile: the outcome is noted only for the account it was for.
    if let Some(account) = guard.as_mut().filter(|a| a.path == path) {
        // The refreshed session is on disk already (saved before use); the account takes it
        // too, unless a new sign-in replaced the session the round started with.
        let same_session = account.session.as_ref().is_some_and(|s| s.refresh_token == round_refresh_token);
        if let Some(refreshed) = refreshed
            && same_session
            && let Err(e) = account.save_session(refreshed)
        {
            tracing::error!(error = %e, "could not save the refreshed session");
        }
        note_outcome(inner, account, &result, now);
        refresh_counts(inner, account);
    }
    drop(guard);
    update_status(inner, |s| s.syncing = false);
    // The screens know: now the upkeep the round left out (the log copied into the file, and
    // after a pull the planner's statistics), on the round's connection, still held.
    if let (Some(report), Some((_, _, store))) = (tidy_after, connection.0.as_mut()) {
        sync_client::tidy_after_round(store, &report);
    }
    result.map_err(RoundError::Sync)
}

fn note_outcome(inner: &Inner, account: &mut Account, result: &Result<SyncReport, SyncError>, now: DateTime<Utc>) {
    match result {
        Ok(report) => {
            tracing::debug!(?report, "sync round done");
            if report.pulled > 0 || !report.repaired.is_empty() {
                // The user's own record may have changed (role, station).
                if let Err(e) = account.refresh_actor() {
                    tracing::warn!(error = %e, "could not re-read the signed-in user");
                }
            }
            // The checksums matched the server's (a station that did not was rebuilt this round).
            if report.verified
                && let Err(e) = account.store.note_verified(now)
            {
                tracing::warn!(error = %e, "could not note the verification");
            }
            let changed = report.pulled > 0 || report.rejected > 0 || !report.repaired.is_empty();
            update_status(inner, |s| {
                s.online = true;
                s.last_sync_at = Some(now);
                s.last_error = None;
                if changed {
                    s.data_version += 1;
                }
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "sync round failed");
            let online = !matches!(e, SyncError::Offline(_));
            let error = sync_error_to_command(e);
            update_status(inner, |s| {
                s.online = online;
                s.last_error = Some(error);
            });
        }
    }
}

/// Re-reads what waits to be sent, what was rejected, what conflicts and probable duplicates are
/// open, and when the data was last verified against the server's (kept in the database, so the
/// bar shows it from sign-in on).
pub fn refresh_counts(inner: &Inner, account: &Account) {
    match app::sync_view::outbox_counts(&account.store) {
        Ok(counts) => update_status(inner, |s| {
            s.signed_in = true;
            s.pending = counts.pending;
            s.rejected = counts.rejected;
            s.conflicts_open = counts.conflicts_open;
            s.duplicates = counts.duplicates;
            s.last_verified_at = counts.last_verified_at;
        }),
        Err(e) => tracing::error!(error = %e, "could not count the outbox"),
    }
}

pub fn update_status(inner: &Inner, apply: impl FnOnce(&mut SyncStatusView)) {
    apply(&mut lock(&inner.status));
}
