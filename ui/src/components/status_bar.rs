//! The sync status bar at the bottom of every page: online or not, when the last sync finished
//! and when the data was last verified against the server (local time), and its counts, each a
//! link to the page that lists them: the changes waiting to be sent (`#/waiting`), those the
//! server rejected, with reasons (`#/rejected`), and the open conflicts and probable duplicates
//! (`#/conflicts`); and the progress of a long download. `#sync-last` carries the exact end of
//! the last round in `data-at` (RFC 3339), for whoever waits on a round.

use contract::SyncStatusView;
use contract::command::{NoArgs, SyncNow, SyncStatus};
use gloo_timers::callback::Interval;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::invoke;
use crate::app::{Action, use_app};
use crate::i18n::Text;
use crate::route::{Route, navigate};
use crate::time::local_date_time;

/// How often the bar asks the shell for the status. Cheap: the shell answers from memory.
const POLL_MILLIS: u32 = 2_000;

#[function_component(StatusBar)]
pub fn status_bar() -> Html {
    let app = use_app();
    let language = app.language;
    let status = use_state(SyncStatusView::default);
    {
        let status = status.clone();
        let app = app.clone();
        // Restarted on sign-in and sign-out, so the bar changes at once rather than at the next poll.
        use_effect_with(app.user.is_some(), move |_| {
            let refresh = move || {
                let status = status.clone();
                let app = app.clone();
                spawn_local(async move {
                    if let Ok(latest) = invoke::<SyncStatus>(&NoArgs {}).await {
                        // The shell signed the user out (the server closed the account or this
                        // laptop): back to the sign-in page, where the bar says why.
                        if !latest.signed_in && app.user.is_some() {
                            app.dispatch(Action::SignedOut);
                        }
                        app.dispatch(Action::DataVersion(latest.data_version));
                        status.set(latest);
                    }
                });
            };
            refresh();
            let interval = Interval::new(POLL_MILLIS, refresh);
            move || drop(interval)
        });
    }
    let sync_now = {
        let status = status.clone();
        Callback::from(move |_: MouseEvent| {
            let status = status.clone();
            spawn_local(async move {
                if let Ok(latest) = invoke::<SyncNow>(&NoArgs {}).await {
                    status.set(latest);
                }
            });
        })
    };
    let show_rejected = Callback::from(|_: MouseEvent| navigate(Route::Rejected));
    if !status.signed_in {
        return html! {
            <footer id="sync-status" class="status-bar" aria-label={Text::SyncStatus.get(language)}>
                <span id="sync-online" class="status offline">{ Text::NotSignedIn.get(language) }</span>
                { status.last_error.as_ref().map(|e| html! {
                    <span id="sync-error" class="item sync-error" role="alert" title={e.code.clone()}>{ e.message(language) }</span>
                }).unwrap_or_default() }
            </footer>
        };
    }
    let online = if status.syncing {
        html! { <span id="sync-online" class="status syncing">{ Text::Syncing.get(language) }</span> }
    } else if status.online {
        html! { <span id="sync-online" class="status online">{ Text::Online.get(language) }</span> }
    } else {
        html! { <span id="sync-online" class="status offline">{ Text::Offline.get(language) }</span> }
    };
    // The exact time too, for whoever waits on a round (the end-to-end tests).
    let last_sync_at = status.last_sync_at.map(|at| at.to_rfc3339());
    let last_sync = status
        .last_sync_at
        .map(|at| local_date_time(at, language))
        .unwrap_or_else(|| Text::Never.get(language).to_string());
    let last_verified = status
        .last_verified_at
        .map(|at| local_date_time(at, language))
        .unwrap_or_else(|| Text::NeverVerified.get(language).to_string());
    let duplicates = (status.duplicates > 0).then(|| {
        html! { <>{ " + " }{ Text::PossibleDuplicates.get(language) }{ ": " }<span id="sync-duplicates">{ status.duplicates }</span></> }
    });
    let progress = status.pull_progress.filter(|_| status.syncing).map(|p| {
        html! {
            <span id="sync-progress" class="item">
                { Text::PullProgress.get(language) }{ ": " }
                <progress max={p.head.max(1).to_string()} value={p.cursor.to_string()}></progress>
                { format!(" {}/{}", p.cursor, p.head) }
            </span>
        }
    });
    let error = status.last_error.as_ref().map(|e| {
        html! { <span id="sync-error" class="item sync-error" title={e.code.clone()}>{ e.message(language) }</span> }
    });
    html! {
        <footer id="sync-status" class="status-bar" aria-label={Text::SyncStatus.get(language)}>
            { online }
            <span class="item">{ Text::LastSync.get(language) }{ ": " }<span id="sync-last" data-at={last_sync_at}>{ last_sync }</span></span>
            <span class="item" title={Text::VerifiedHint.get(language)}>
                { Text::Verified.get(language) }{ ": " }<span id="sync-verified">{ last_verified }</span>
            </span>
            <a id="sync-pending-link" class="item link" href={Route::Waiting.to_hash()}>
                { Text::Pending.get(language) }{ ": " }<span id="sync-pending">{ status.pending }</span>
            </a>
            <button type="button" id="sync-rejected" class={classes!("item", "link", (status.rejected > 0).then_some("warn"))}
                onclick={show_rejected}>
                { Text::Rejected.get(language) }{ ": " }{ status.rejected }
            </button>
            <a id="sync-conflicts-link" href={Route::Conflicts.to_hash()}
                class={classes!("item", "link", (status.conflicts_open + status.duplicates > 0).then_some("warn"))}>
                { Text::Conflicts.get(language) }{ ": " }<span id="sync-conflicts">{ status.conflicts_open }</span>
                { duplicates.unwrap_or_default() }
            </a>
            // One child each, shown or not, so the buttons are never re-created.
            { progress.unwrap_or_default() }
            { error.unwrap_or_default() }
            <button type="button" id="sync-now" class="item link" onclick={sync_now} disabled={status.syncing}>
                { Text::SyncNow.get(language) }
            </button>
        </footer>
    }
}
