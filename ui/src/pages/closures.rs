//! The supervisor's (督导) queue of closure requests (`#/closures`): every station they supervise,
//! the oldest request first, a row per case with its station, recipient, worker, the day asked
//! and how long it has waited, and the worker's summary. Each row opens the case page, where the
//! whole case is read and the closure signed off or returned. ↑ and ↓ move from row to row,
//! Home and End to the first and last; Enter opens the case.
//!
//! Ids: `#closure-queue` (the table), `#closure-row-<case id>` (each row's link),
//! `#closure-queue-empty`, `#closure-queue-error`.

use std::rc::Rc;

use contract::ClosureQueueRow;
use contract::command::{ClosureQueue, NoArgs};
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::focus::focus_soon;
use crate::hooks::use_command;
use crate::i18n::Text;
use crate::route::Route;

/// The element id of a row's link.
pub fn row_id(case_id: Uuid) -> String {
    format!("closure-row-{case_id}")
}

/// The row a key moves to from `position` among `count` rows, if the key moves at all.
pub fn row_after_key(key: &str, position: usize, count: usize) -> Option<usize> {
    if count == 0 {
        return None;
    }
    match key {
        "ArrowDown" => Some((position + 1).min(count - 1)),
        "ArrowUp" => Some(position.saturating_sub(1)),
        "Home" => Some(0),
        "End" => Some(count - 1),
        _ => None,
    }
}

#[function_component(ClosuresPage)]
pub fn closures_page() -> Html {
    let app = use_app();
    let language = app.language;
    let queue = use_command::<ClosureQueue, _>(NoArgs {}, app.data_version);
    // Oldest first, a page at a time: five stations may have hundreds waiting.
    let shown = use_state(|| ROWS_AT_A_TIME);
    let on_more = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(*shown + ROWS_AT_A_TIME))
    };

    let body = match (queue.data(), queue.error()) {
        (Some(rows), _) if rows.is_empty() => html! {
            <p id="closure-queue-empty" class="muted">{ Text::ClosuresEmpty.get(language) }</p>
        },
        (Some(rows), _) => {
            let hidden = rows.len().saturating_sub(*shown);
            html! {
                <>
                    { table(&rows[..rows.len().min(*shown)], language) }
                    if hidden > 0 {
                        <button type="button" id="closure-queue-more" class="link more" onclick={on_more}>
                            { more_text(hidden, rows.len(), language) }
                        </button>
                    }
                </>
            }
        }
        (None, Some(error)) => {
            let reload = queue.clone();
            html! {
                <>
                    <p id="closure-queue-error" class="error" role="alert">{ error.message(language).to_string() }</p>
                    <button type="button" onclick={Callback::from(move |_| reload.reload())}>
                        { Text::Retry.get(language) }
                    </button>
                </>
            }
        }
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
    };
    html! {
        <section class="closures-page" aria-labelledby="closures-title" aria-busy={queue.loading().then_some("true")}>
            <h1 id="closures-title">{ Text::ClosuresTitle.get(language) }</h1>
            <p class="hint" id="closures-hint">{ Text::ClosuresHint.get(language) }</p>
            { body }
            <div class="station-charts-slot">
                <crate::components::charts::SupervisedStationsCharts />
            </div>
        </section>
    }
}

/// The requests shown at first, and added at each "show more".
const ROWS_AT_A_TIME: usize = 100;

fn more_text(hidden: usize, total: usize, language: contract::Language) -> String {
    match language {
        contract::Language::Zh => format!("显示更多（共 {total} 条，还有 {hidden} 条）"),
        contract::Language::En => format!("Show more ({total} in all, {hidden} more)"),
    }
}

fn table(rows: &[ClosureQueueRow], language: contract::Language) -> Html {
    let ids: Rc<Vec<Uuid>> = Rc::new(rows.iter().map(|r| r.case_id).collect());
    let unknown = || Text::CaseUnknown.get(language).to_string();
    let items = rows.iter().enumerate().map(|(position, row)| {
        let onkeydown = {
            let ids = ids.clone();
            Callback::from(move |e: KeyboardEvent| {
                if let Some(to) = row_after_key(&e.key(), position, ids.len()).and_then(|i| ids.get(i)) {
                    e.prevent_default();
                    focus_soon(row_id(*to));
                }
            })
        };
        let recipient =
            row.recipient.as_ref().map(|r| r.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(unknown);
        let station = Some(row.station.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(unknown);
        let worker = row.worker.as_ref().map_or_else(unknown, |w| w.name.clone());
        html! {
            <tr class={classes!(row.days_waiting.is_some_and(|d| d >= 14).then_some("overdue"))}>
                <td>{ station }</td>
                <td>
                    <a id={row_id(row.case_id)} href={Route::Case { id: row.case_id }.to_hash()} {onkeydown}>
                        { recipient }
                    </a>
                </td>
                <td>{ worker }</td>
                <td>{ row.requested_on.map(|d| d.to_string()).unwrap_or_default() }</td>
                <td class="number">{ row.days_waiting.map(|d| d.to_string()).unwrap_or_default() }</td>
                <td class="summary">{ row.summary.clone().unwrap_or_default() }</td>
            </tr>
        }
    });
    html! {
        <table id="closure-queue" class="closure-queue" aria-describedby="closures-hint">
            <thead>
                <tr>
                    <th scope="col">{ Text::ClosuresStation.get(language) }</th>
                    <th scope="col">{ Text::ClosuresRecipient.get(language) }</th>
                    <th scope="col">{ Text::ClosuresWorker.get(language) }</th>
                    <th scope="col">{ Text::ClosuresRequestedOn.get(language) }</th>
                    <th scope="col">{ Text::ClosuresDaysWaiting.get(language) }</th>
                    <th scope="col">{ Text::ClosuresSummary.get(language) }</th>
                </tr>
            </thead>
            <tbody>{ for items }</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_keys_move_between_rows_and_stop_at_the_ends() {
        assert_eq!(row_after_key("ArrowDown", 0, 3), Some(1));
        assert_eq!(row_after_key("ArrowDown", 2, 3), Some(2));
        assert_eq!(row_after_key("ArrowUp", 0, 3), Some(0));
        assert_eq!(row_after_key("ArrowUp", 2, 3), Some(1));
        assert_eq!(row_after_key("Home", 2, 3), Some(0));
        assert_eq!(row_after_key("End", 0, 3), Some(2));
        assert_eq!(row_after_key("Enter", 0, 3), None, "Enter follows the link itself");
        assert_eq!(row_after_key("ArrowDown", 0, 0), None);
    }

    #[test]
    fn each_row_is_found_by_its_case() {
        let id = Uuid::from_u128(7);
        assert_eq!(row_id(id), format!("closure-row-{id}"));
    }
}
