//! The case board (挂图作战), the deputy head's start screen: the station's counts at a glance
//! with small bar charts (visits this month per worker and per village, open cases per stage,
//! closures waiting for sign-off, stalled and overdue cases, this computer's refused changes and
//! conflicts); the filters (worker, village, category, risk, closed cases); every case by stage
//! in columns, each card linking to the case page, with its worker, village, days in stage and
//! risk, stalled cases and overdue follow-ups marked in words (not only colour); reassigning a
//! case to another worker of the station; and the station's stall threshold.
//!
//! Ids: `#case-board-page`, `#dashboard` (`#chart-visits-worker`, `#chart-visits-village`,
//! `#chart-open-stage`, `#count-closures-waiting`, `#count-stalled`, `#count-overdue`,
//! `#count-refused`, `#count-conflicts`), `#board-filters` (`#filter-worker`, `#filter-village`,
//! `#filter-category`, `#filter-risk`, `#filter-closed`, `#filter-clear`), `#stall-form`
//! (`#stall-days`, `#stall-days-save`, `#stall-days-error`), `#case-board`,
//! `#board-column-<stage>` (`identify` … `follow_up`, `closed`), `#card-<case id>` (its link
//! `#card-link-<case id>`, `#stalled-<case id>`, `#overdue-<case id>`), `#reassign-open-<case id>`
//! (opens the card's reassignment form: `#reassign-<case id>`, the worker select, and
//! `#reassign-save-<case id>`), `#reassign-error`, `#board-status`,
//! `#board-error`.

use std::rc::Rc;

use contract::command::{
    CaseBoard as GetCaseBoard, CaseBoardArgs, NoArgs, ReassignCase, ReassignCaseArgs, SetStallDays, SetStallDaysArgs,
    StationDashboard as GetStationDashboard,
};
use contract::{BarCount, BoardCard, CaseBoard, CaseBoardQuery, Language, NamedRef, StationDashboard};
use domain::Labelled;
use domain::case::{RiskLevel, Stage};
use domain::recipient::RecipientCategory;
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_command;
use crate::hooks::{keep_typed, use_action};
use crate::i18n::{Text, label};
use crate::route::Route;

/// A stage in element ids: `identify`, `follow_up`, ...
pub fn stage_slug(stage: Stage) -> String {
    let mut slug = String::new();
    for (i, c) in stage.as_str().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            slug.push('_');
        }
        slug.push(c.to_ascii_lowercase());
    }
    slug
}

pub fn column_id(stage: Stage) -> String {
    format!("board-column-{}", stage_slug(stage))
}

pub fn card_id(case_id: Uuid) -> String {
    format!("card-{case_id}")
}

pub fn reassign_id(case_id: Uuid) -> String {
    format!("reassign-{case_id}")
}

/// A bar's width as a share of the largest count, in percent (at least a sliver for a count
/// above zero, so it shows).
pub fn bar_percent(count: u64, largest: u64) -> u64 {
    if count == 0 || largest == 0 {
        return 0;
    }
    (count.saturating_mul(100) / largest).clamp(2, 100)
}

/// An id from a select's value; empty is none.
fn id_of(value: &str) -> Option<Uuid> {
    Uuid::try_parse(value).ok()
}

/// The stall threshold as typed: a whole number of days from 1 to 365, or empty for the default.
pub fn parse_stall_days(text: &str) -> Result<Option<u32>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=365).contains(&days) => Ok(Some(days)),
        _ => Err(()),
    }
}

/// "N days in this stage".
pub fn days_text(days: i64, language: Language) -> String {
    match language {
        Language::Zh => format!("本阶段 {days} 天"),
        Language::En if days == 1 => "1 day in this stage".into(),
        Language::En => format!("{days} days in this stage"),
    }
}

#[function_component(BoardPage)]
pub fn board_page() -> Html {
    let app = use_app();
    let language = app.language;
    let query = use_state(CaseBoardQuery::default);
    let board = use_command::<GetCaseBoard, _>(CaseBoardArgs { query: *query }, (*query, app.data_version));
    let dashboard = use_command::<GetStationDashboard, _>(NoArgs {}, app.data_version);
    let status = use_state(|| Option::<String>::None);
    // The one card whose reassignment form is open: the others show a button, so a board of
    // many cards stays light to paint.
    let reassigning = use_state(|| Option::<Uuid>::None);
    let on_open_reassign = {
        let reassigning = reassigning.clone();
        Callback::from(move |case_id: Uuid| {
            reassigning.set(if *reassigning == Some(case_id) { None } else { Some(case_id) })
        })
    };
    // A screenful per column at first (the shell sends no more); "show more" asks for more.
    let on_more = {
        let query = query.clone();
        Callback::from(move |_: Stage| {
            let shown = (query.shown() as u32).saturating_add(CaseBoardQuery::DEFAULT_SHOWN);
            query.set(CaseBoardQuery { shown_per_column: shown, ..*query });
        })
    };

    let on_select = |apply: fn(&mut CaseBoardQuery, &str)| {
        let query = query.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let mut next = *query;
            apply(&mut next, &select.value());
            query.set(next);
        })
    };
    let on_worker = on_select(|q, v| q.worker_id = id_of(v));
    let on_village = on_select(|q, v| q.village_id = id_of(v));
    let on_category = on_select(|q, v| q.category = RecipientCategory::parse(v));
    let on_risk = on_select(|q, v| q.risk_level = RiskLevel::parse(v));
    let on_closed = {
        let query = query.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            query.set(CaseBoardQuery { include_closed: input.checked(), ..*query });
        })
    };
    let on_clear = {
        let query = query.clone();
        Callback::from(move |_: MouseEvent| query.set(CaseBoardQuery::default()))
    };

    let reloaded = {
        let board = board.clone();
        let dashboard = dashboard.clone();
        let status = status.clone();
        let reassigning = reassigning.clone();
        Callback::from(move |said: String| {
            status.set(Some(said));
            reassigning.set(None);
            board.reload();
            dashboard.reload();
        })
    };

    let dashboard_html = match (dashboard.data(), dashboard.error()) {
        (Some(d), _) => dashboard_panel(d, language),
        (None, Some(e)) => html! { <p class="error" id="dashboard-error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
    };
    let body = match (board.data(), board.error()) {
        (_, Some(e)) => {
            let retry = {
                let board = board.clone();
                Callback::from(move |_: MouseEvent| board.reload())
            };
            html! {
                <div class="error-box">
                    <p class="error" id="board-error" role="alert">{ e.message(language) }</p>
                    <button type="button" id="board-retry" onclick={retry}>{ Text::Retry.get(language) }</button>
                </div>
            }
        }
        (None, None) => html! { <p class="muted" id="board-loading">{ Text::Loading.get(language) }</p> },
        (Some(b), None) => html! {
            <>
                { filters(b, &query, language, on_worker, on_village, on_category, on_risk, on_closed, on_clear) }
                if b.may_set_stall_days {
                    <StallForm stall_days={b.stall_days} stall_days_set={b.stall_days_set} on_saved={reloaded.clone()} />
                } else {
                    <p class="muted">{ stall_rule(b.stall_days, language) }</p>
                }
                { columns(b, language, Reassigning {
                    case_id: *reassigning,
                    on_open: on_open_reassign.clone(),
                    on_done: reloaded.clone(),
                }, on_more.clone()) }
            </>
        },
    };
    html! {
        <section id="case-board-page" aria-labelledby="board-title" aria-busy={board.loading().then_some("true")}>
            <h1 id="board-title">
                { Text::BoardTitle.get(language) }
                if let Some(b) = board.data() { <span class="muted">{ format!(" · {}", b.station.name) }</span> }
            </h1>
            <p id="board-status" class="sr-status" role="status" aria-live="polite">
                { (*status).clone().unwrap_or_default() }
            </p>
            { dashboard_html }
            <div class="station-charts-slot">
                <crate::components::charts::StationChartsView />
            </div>
            // In an element of its own: a component that renders nothing between two parts that
            // change together (loading → loaded) keeps a stale next sibling, and Yew panics
            // inserting before it ("failed to insert node before next sibling").
            <div class="hand-over-offers-slot">
                <crate::components::hand_over_offers::HandOverOffersPanel />
            </div>
            <div class="overdue-referrals-slot">
                <crate::components::overdue_referrals::OverdueReferralsPanel />
            </div>
            { body }
        </section>
    }
}

fn stall_rule(days: i64, language: Language) -> String {
    match language {
        Language::Zh => format!("在同一阶段超过 {days} 天的个案标为“停滞”。"),
        Language::En => format!("Cases over {days} days in one stage are marked stalled."),
    }
}

#[allow(clippy::too_many_arguments)]
fn filters(
    board: &CaseBoard,
    query: &CaseBoardQuery,
    language: Language,
    on_worker: Callback<Event>,
    on_village: Callback<Event>,
    on_category: Callback<Event>,
    on_risk: Callback<Event>,
    on_closed: Callback<Event>,
    on_clear: Callback<MouseEvent>,
) -> Html {
    let named_options = |items: &[NamedRef], chosen: Option<Uuid>| {
        items
            .iter()
            .map(|n| html! { <option value={n.id.to_string()} selected={chosen == Some(n.id)}>{ &n.name }</option> })
            .collect::<Html>()
    };
    let labelled_options = |items: Vec<(&'static str, &'static str)>, chosen: Option<&'static str>| {
        items
            .into_iter()
            .map(|(value, text)| html! { <option {value} selected={chosen == Some(value)}>{ text }</option> })
            .collect::<Html>()
    };
    let categories = board.options.categories.iter().map(|c| (c.as_str(), label(*c, language))).collect();
    let risks = board.options.risk_levels.iter().map(|r| (r.as_str(), label(*r, language))).collect();
    html! {
        <div id="board-filters" class="filters" role="group" aria-label={Text::BoardFilters.get(language)}>
            <div class="field inline">
                <label for="filter-worker">{ Text::BoardWorker.get(language) }</label>
                <select id="filter-worker" onchange={on_worker}>
                    <option value="" selected={query.worker_id.is_none()}>{ Text::AllWorkers.get(language) }</option>
                    { named_options(&board.options.workers, query.worker_id) }
                </select>
            </div>
            <div class="field inline">
                <label for="filter-village">{ Text::ColumnVillage.get(language) }</label>
                <select id="filter-village" onchange={on_village}>
                    <option value="" selected={query.village_id.is_none()}>{ Text::AllVillages.get(language) }</option>
                    { named_options(&board.options.villages, query.village_id) }
                </select>
            </div>
            <div class="field inline">
                <label for="filter-category">{ Text::FilterCategory.get(language) }</label>
                <select id="filter-category" onchange={on_category}>
                    <option value="" selected={query.category.is_none()}>{ Text::AllCategories.get(language) }</option>
                    { labelled_options(categories, query.category.map(|c| c.as_str())) }
                </select>
            </div>
            <div class="field inline">
                <label for="filter-risk">{ Text::BoardRisk.get(language) }</label>
                <select id="filter-risk" onchange={on_risk}>
                    <option value="" selected={query.risk_level.is_none()}>{ Text::AllRiskLevels.get(language) }</option>
                    { labelled_options(risks, query.risk_level.map(|r| r.as_str())) }
                </select>
            </div>
            <div class="field inline">
                <input id="filter-closed" type="checkbox" checked={query.include_closed} onchange={on_closed} />
                <label for="filter-closed">{ Text::BoardShowClosed.get(language) }</label>
            </div>
            <button type="button" id="filter-clear" onclick={on_clear}>{ Text::ClearFilters.get(language) }</button>
        </div>
    }
}

/// Which card's reassignment form is open, how to open one, and what to do once it saved.
struct Reassigning {
    case_id: Option<Uuid>,
    on_open: Callback<Uuid>,
    on_done: Callback<String>,
}

fn columns(board: &CaseBoard, language: Language, reassigning: Reassigning, on_more: Callback<Stage>) -> Html {
    let workers = Rc::new(board.options.workers.clone());
    let columns = board.columns.iter().map(|column| {
        let heading_id = format!("{}-title", column_id(column.stage));
        let cards = column.cards.iter().map(|card| {
            let form = (board.may_reassign && card.reassignable && reassigning.case_id == Some(card.case_id)).then(|| {
                html! {
                    <ReassignForm card={card.clone()} workers={workers.clone()} on_done={reassigning.on_done.clone()} />
                }
            });
            let may_open = board.may_reassign && card.reassignable;
            board_card(card, language, may_open.then_some(&reassigning.on_open), form)
        });
        let hidden = (column.total as usize).saturating_sub(column.cards.len());
        let more = (hidden > 0).then(|| {
            let stage = column.stage;
            let onclick = on_more.reform(move |_: MouseEvent| stage);
            html! {
                <button type="button" id={format!("more-{}", column_id(column.stage))} class="link more" {onclick}>
                    { more_text(hidden, language) }
                </button>
            }
        });
        html! {
            <section id={column_id(column.stage)} class="board-column" aria-labelledby={heading_id.clone()}>
                <h2 id={heading_id}>
                    { label(column.stage, language) }
                    <span class="count">{ format!(" ({})", column.total.max(column.cards.len() as u32)) }</span>
                </h2>
                if column.cards.is_empty() {
                    <p class="muted">{ Text::BoardNoCases.get(language) }</p>
                }
                <ul class="board-cards">{ for cards }</ul>
                { more.unwrap_or_default() }
            </section>
        }
    });
    html! { <div id="case-board" class="case-board">{ for columns }</div> }
}

fn more_text(hidden: usize, language: Language) -> String {
    match language {
        Language::Zh => format!("显示更多（还有 {hidden} 个）"),
        Language::En => format!("Show more ({hidden} more)"),
    }
}

/// A case's card: a plain function, not a component, so hundreds of them cost little to paint.
/// `on_open` (when the case may be reassigned) opens its reassignment form, `form` when open.
fn board_card(card: &BoardCard, language: Language, on_open: Option<&Callback<Uuid>>, form: Option<Html>) -> Html {
    let id = card.case_id;
    let recipient =
        card.recipient.as_ref().map(|r| r.name.clone()).unwrap_or_else(|| Text::Unknown.get(language).into());
    let classes =
        classes!("board-card", card.stalled.then_some("stalled"), card.follow_up_overdue.then_some("overdue"));
    let open = form.is_some();
    html! {
        <li key={id.to_string()} id={card_id(id)} class={classes}>
            <a id={format!("card-link-{id}")} class="card-link" href={Route::Case { id }.to_hash()}>{ recipient }</a>
            <div class="card-facts">
                <span>{ card.worker.as_ref().map(|w| w.name.clone()).unwrap_or_default() }</span>
                <span>{ card.village.as_ref().map(|v| v.name.clone()).unwrap_or_default() }</span>
                if let Some(days) = card.days_in_stage { <span>{ days_text(days, language) }</span> }
            </div>
            <div class="card-tags">
                if let Some(risk) = card.risk_level {
                    <span class={classes!("tag", matches!(risk, RiskLevel::High | RiskLevel::Critical).then_some("warn"))}>
                        { format!("{}{}", Text::BoardRiskPrefix.get(language), label(risk, language)) }
                    </span>
                }
                if card.stalled {
                    <span id={format!("stalled-{id}")} class="tag warn">{ Text::BoardStalled.get(language) }</span>
                }
                if card.follow_up_overdue {
                    <span id={format!("overdue-{id}")} class="tag warn">{ Text::BoardOverdue.get(language) }</span>
                }
                if card.closure_status == domain::case::ClosureStatus::Requested {
                    <span class="tag">{ Text::BoardClosureWaiting.get(language) }</span>
                }
            </div>
            if let Some(on_open) = on_open {
                <button type="button" id={format!("reassign-open-{id}")} class="link"
                    aria-expanded={if open { "true" } else { "false" }}
                    onclick={on_open.reform(move |_: MouseEvent| id)}>
                    { Text::BoardReassignOpen.get(language) }
                </button>
            }
            { form.unwrap_or_default() }
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct ReassignFormProps {
    card: BoardCard,
    workers: Rc<Vec<NamedRef>>,
    on_done: Callback<String>,
}

/// The open card's reassignment: the station's other workers, and the button that gives them
/// the case.
#[function_component(ReassignForm)]
fn reassign_form(props: &ReassignFormProps) -> Html {
    let app = use_app();
    let language = app.language;
    let card = &props.card;
    let id = card.case_id;
    let chosen = use_state(|| Option::<Uuid>::None);
    let action = use_action::<ReassignCase>();
    let on_choose = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            chosen.set(id_of(&select.value()));
        })
    };
    let on_reassign = {
        let (chosen, action, done) = (chosen.clone(), action.clone(), props.on_done.clone());
        let workers = props.workers.clone();
        let recipient = card.recipient.as_ref().map(|r| r.name.clone()).unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            let Some(worker_id) = *chosen else { return };
            let name = workers.iter().find(|w| w.id == worker_id).map(|w| w.name.clone()).unwrap_or_default();
            let said = match language {
                Language::Zh => format!("{recipient}的个案已改派给{name}"),
                Language::En => format!("{recipient}'s case is now assigned to {name}"),
            };
            let (chosen, done) = (chosen.clone(), done.clone());
            action.run(ReassignCaseArgs { case_id: id, worker_id }, move |()| {
                chosen.set(None);
                done.emit(said);
            });
        })
    };
    let current = card.worker.as_ref().map(|w| w.id);
    html! {
        <div class="card-reassign">
            <label for={reassign_id(id)}>{ Text::BoardReassignTo.get(language) }</label>
            <select id={reassign_id(id)} onchange={on_choose} disabled={action.busy} autofocus=true>
                <option value="" selected={chosen.is_none()}>{ "—" }</option>
                { for props.workers.iter().filter(|w| Some(w.id) != current).map(|w| html! {
                    <option value={w.id.to_string()} selected={*chosen == Some(w.id)}>{ &w.name }</option>
                }) }
            </select>
            <button type="button" id={format!("reassign-save-{id}")} onclick={on_reassign}
                disabled={chosen.is_none() || action.busy}>{ Text::BoardReassign.get(language) }</button>
            if let Some(e) = &action.error {
                <p class="error" id="reassign-error" role="alert">{ e.message(language) }</p>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct StallFormProps {
    stall_days: i64,
    stall_days_set: bool,
    on_saved: Callback<String>,
}

#[function_component(StallForm)]
fn stall_form(props: &StallFormProps) -> Html {
    let app = use_app();
    let language = app.language;
    let initial = if props.stall_days_set { props.stall_days.to_string() } else { String::new() };
    let typed = use_state(|| initial);
    let invalid = use_state(|| false);
    let action = use_action::<SetStallDays>();
    let on_input = keep_typed(&typed);
    let on_submit = {
        let (typed, invalid, action, done) = (typed.clone(), invalid.clone(), action.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match parse_stall_days(&typed) {
                Err(()) => invalid.set(true),
                Ok(days) => {
                    invalid.set(false);
                    let done = done.clone();
                    action.run(SetStallDaysArgs { days }, move |()| {
                        done.emit(Text::BoardStallSaved.get(language).into())
                    });
                }
            }
        })
    };
    let error = if *invalid {
        Some(Text::BoardStallInvalid.get(language).to_string())
    } else {
        action.error.as_ref().map(|e| e.message(language).to_string())
    };
    html! {
        <form id="stall-form" class="filters" onsubmit={on_submit}>
            <div class="field inline">
                <label for="stall-days">{ Text::BoardStallDays.get(language) }</label>
                <input id="stall-days" type="number" min="1" max="365" inputmode="numeric" value={(*typed).clone()}
                    placeholder={props.stall_days.to_string()} oninput={on_input}
                    aria-invalid={error.is_some().then_some("true")} aria-describedby="stall-days-hint" />
                <span id="stall-days-hint" class="muted">{ stall_rule(props.stall_days, language) }</span>
            </div>
            <button type="submit" id="stall-days-save" disabled={action.busy}>{ Text::Save.get(language) }</button>
            if let Some(error) = error {
                <p class="error" id="stall-days-error" role="alert">{ error }</p>
            }
        </form>
    }
}

fn bars(id: &str, title: Text, rows: Vec<(String, u64)>, language: Language) -> Html {
    let largest = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
    html! {
        <figure id={id.to_string()} class="bar-chart">
            <figcaption>{ title.get(language) }</figcaption>
            if rows.is_empty() {
                <p class="muted">{ Text::BoardNothingYet.get(language) }</p>
            }
            <ul>
                { for rows.into_iter().map(|(name, count)| html! {
                    <li>
                        <span class="bar-label">{ name }</span>
                        <span class="bar" style={format!("width: {}%", bar_percent(count, largest))} aria-hidden="true"></span>
                        <span class="bar-value">{ count }</span>
                    </li>
                }) }
            </ul>
        </figure>
    }
}

fn dashboard_panel(d: &StationDashboard, language: Language) -> Html {
    let named = |rows: &[BarCount]| -> Vec<(String, u64)> {
        rows.iter()
            .map(|b| {
                (if b.name.is_empty() { Text::Unknown.get(language).to_string() } else { b.name.clone() }, b.count)
            })
            .collect()
    };
    let stages = d.open_by_stage.iter().map(|s| (label(s.stage, language).to_string(), s.count)).collect();
    let count = |id: &str, text: Text, n: u64| {
        html! {
            <div class="count-box" id={id.to_string()}>
                <span class="count-number">{ n }</span>
                <span class="count-label">{ text.get(language) }</span>
            </div>
        }
    };
    html! {
        <section id="dashboard" class="dashboard" aria-labelledby="dashboard-title">
            <h2 id="dashboard-title">
                { Text::DashboardTitle.get(language) }
                <span class="muted">{ format!(" {} – {}", d.month_from, d.month_to) }</span>
            </h2>
            <div class="counts">
                { count("count-closures-waiting", Text::CountClosuresWaiting, d.closures_waiting) }
                { count("count-stalled", Text::CountStalled, d.stalled) }
                { count("count-overdue", Text::CountOverdue, d.follow_ups_overdue) }
                { count("count-refused", Text::CountRefused, d.refused_changes) }
                { count("count-conflicts", Text::CountConflicts, d.conflicts_open) }
            </div>
            <div class="charts">
                { bars("chart-visits-worker", Text::ChartVisitsWorker, named(&d.visits_by_worker), language) }
                { bars("chart-visits-village", Text::ChartVisitsVillage, named(&d.visits_by_village), language) }
                { bars("chart-open-stage", Text::ChartOpenStage, stages, language) }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_ids_are_snake_case() {
        assert_eq!(column_id(Stage::Identify), "board-column-identify");
        assert_eq!(column_id(Stage::FollowUp), "board-column-follow_up");
        assert_eq!(column_id(Stage::Closed), "board-column-closed");
        let id = Uuid::from_u128(7);
        assert_eq!(card_id(id), format!("card-{id}"));
        assert_eq!(reassign_id(id), format!("reassign-{id}"));
    }

    #[test]
    fn bars_are_a_share_of_the_largest_and_never_vanish_above_zero() {
        assert_eq!(bar_percent(0, 10), 0);
        assert_eq!(bar_percent(10, 10), 100);
        assert_eq!(bar_percent(5, 10), 50);
        assert_eq!(bar_percent(1, 1000), 2);
        assert_eq!(bar_percent(3, 0), 0);
    }

    #[test]
    fn the_stall_threshold_is_a_whole_number_of_days_or_empty_for_the_default() {
        assert_eq!(parse_stall_days(""), Ok(None));
        assert_eq!(parse_stall_days(" 45 "), Ok(Some(45)));
        assert_eq!(parse_stall_days("365"), Ok(Some(365)));
        for bad in ["0", "366", "-3", "4.5", "三十", "30天"] {
            assert_eq!(parse_stall_days(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn days_in_stage_read_in_both_languages() {
        assert_eq!(days_text(12, Language::Zh), "本阶段 12 天");
        assert_eq!(days_text(1, Language::En), "1 day in this stage");
        assert_eq!(days_text(12, Language::En), "12 days in this stage");
    }
}
