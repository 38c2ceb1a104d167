//! The supervisor's (督导) parts of the case page: the decision panel while closure is requested
//! (sign off with an optional comment, the seal made on this computer; or return with the
//! comments the worker then sees), the reopening of a signed-off case with its reason (for
//! those the policy lets reopen), the case's reopenings, and the recipient's recent visits.
//!
//! Ids: `#decision-panel`, `#decision-comments`, `#sign-off`, `#return-closure`,
//! `#decision-error`; `#reopen-panel`, `#reopen-reason`, `#reopen-case`, `#reopen-error`;
//! `#case-reopenings`, `#reopening-<generation>`; `#case-visits`, `#case-visit-<id>`.

use contract::command::{
    ReopenCase, ReopenCaseArgs, ReturnClosure, ReturnClosureArgs, SignOffClosure, SignOffClosureArgs,
};
use contract::{CasePage, CommandError, Language};
use uuid::Uuid;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::app::use_app;
use crate::focus::focus_soon;
use crate::hooks::use_action;
use crate::i18n::Text;
use crate::time::local_date_time;

use super::labelled;

/// Everything of the supervisor's on the case page, for the page as it stands. `on_said` tells
/// the page what was done (it says so and reloads).
pub(super) fn supervisor_parts(data: &CasePage, language: Language, on_said: Callback<Text>) -> Html {
    html! {
        <>
            { if data.may_decide {
                html! { <DecisionPanel case_id={data.case.id} on_said={on_said.clone()} /> }
            } else { Html::default() } }
            { if data.may_reopen {
                html! { <ReopenPanel case_id={data.case.id} {on_said} /> }
            } else { Html::default() } }
            { reopenings(data, language) }
            { recent_visits(data, language) }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct DecisionProps {
    case_id: Uuid,
    on_said: Callback<Text>,
}

/// The error of a command, at the text area when it names the field typed there.
fn field_error(error: Option<&CommandError>, field: &str) -> bool {
    error.is_some_and(|e| e.field.as_deref() == Some(field))
}

#[function_component(DecisionPanel)]
fn decision_panel(props: &DecisionProps) -> Html {
    let language = use_app().language;
    let typed = use_state_eq(String::new);
    let sign_off = use_action::<SignOffClosure>();
    let give_back = use_action::<ReturnClosure>();
    let busy = sign_off.busy || give_back.busy;
    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_sign = {
        let (typed, sign_off, give_back) = (typed.clone(), sign_off.clone(), give_back.clone());
        let (case_id, on_said) = (props.case_id, props.on_said.clone());
        Callback::from(move |_: MouseEvent| {
            give_back.clear_error();
            let comments = Some(typed.trim().to_string()).filter(|c| !c.is_empty());
            let on_said = on_said.clone();
            sign_off.run(SignOffClosureArgs { case_id, comments }, move |_| {
                on_said.emit(Text::DecisionSignedOff);
                focus_soon("closure-signed-off");
            });
        })
    };
    let on_return = {
        let (typed, sign_off, give_back) = (typed.clone(), sign_off.clone(), give_back.clone());
        let (case_id, on_said) = (props.case_id, props.on_said.clone());
        Callback::from(move |_: MouseEvent| {
            sign_off.clear_error();
            let on_said = on_said.clone();
            give_back.run(ReturnClosureArgs { case_id, comments: (*typed).clone() }, move |_| {
                on_said.emit(Text::DecisionReturned);
                focus_soon("closure-returned");
            });
        })
    };
    let error = sign_off.error.as_ref().or(give_back.error.as_ref());
    let at_comments = field_error(error, "comments");
    html! {
        <section id="decision-panel" class="decision-panel" aria-labelledby="decision-title">
            <h2 id="decision-title">{ Text::DecisionTitle.get(language) }</h2>
            <p class="hint">{ Text::DecisionHint.get(language) }</p>
            <div class={classes!("field", at_comments.then_some("has-error"))}>
                <label for="decision-comments">{ Text::DecisionComments.get(language) }</label>
                <textarea id="decision-comments" name="comments" rows="4" value={(*typed).clone()} {oninput}
                    aria-invalid={at_comments.then_some("true")}
                    aria-describedby={if error.is_some() { "decision-error" } else { "decision-comments-hint" }} />
                <div class="hint" id="decision-comments-hint">{ Text::DecisionCommentsHint.get(language) }</div>
            </div>
            { error.map(|e| html! {
                <p id="decision-error" class="error" role="alert">{ e.message(language).to_string() }</p>
            }).unwrap_or_default() }
            <div class="actions">
                <button type="button" id="sign-off" class="primary" disabled={busy} onclick={on_sign}>
                    { if sign_off.busy { Text::DecisionSigning } else { Text::DecisionSignOff }.get(language) }
                </button>
                <button type="button" id="return-closure" disabled={busy} onclick={on_return}>
                    { if give_back.busy { Text::DecisionReturning } else { Text::DecisionReturn }.get(language) }
                </button>
            </div>
        </section>
    }
}

#[function_component(ReopenPanel)]
fn reopen_panel(props: &DecisionProps) -> Html {
    let language = use_app().language;
    let typed = use_state_eq(String::new);
    let action = use_action::<ReopenCase>();
    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let onsubmit = {
        let (typed, action) = (typed.clone(), action.clone());
        let (case_id, on_said) = (props.case_id, props.on_said.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let on_said = on_said.clone();
            action.run(ReopenCaseArgs { case_id, reason: (*typed).clone() }, move |_| {
                on_said.emit(Text::ReopenDone);
                focus_soon("case-reopenings");
            });
        })
    };
    let at_reason = field_error(action.error.as_ref(), "reopen_reason");
    html! {
        <form id="reopen-panel" class="reopen-panel" aria-labelledby="reopen-title" {onsubmit} novalidate=true>
            <h2 id="reopen-title">{ Text::ReopenTitle.get(language) }</h2>
            <div class={classes!("field", at_reason.then_some("has-error"))}>
                <label for="reopen-reason">
                    { Text::ReopenReason.get(language) }<span class="required" aria-hidden="true">{ " *" }</span>
                </label>
                <textarea id="reopen-reason" name="reopen_reason" rows="3" value={(*typed).clone()} {oninput}
                    required=true aria-invalid={at_reason.then_some("true")}
                    aria-describedby={if action.error.is_some() { "reopen-error" } else { "reopen-hint" }} />
                <div class="hint" id="reopen-hint">{ Text::ReopenHint.get(language) }</div>
            </div>
            { action.error.as_ref().map(|e| html! {
                <p id="reopen-error" class="error" role="alert">{ e.message(language).to_string() }</p>
            }).unwrap_or_default() }
            <div class="actions">
                <button type="submit" id="reopen-case" disabled={action.busy}>
                    { if action.busy { Text::ReopenBusy } else { Text::ReopenButton }.get(language) }
                </button>
            </div>
        </form>
    }
}

/// Each reopening: when, by whom, why.
fn reopenings(data: &CasePage, language: Language) -> Html {
    if data.reopenings.is_empty() {
        return Html::default();
    }
    let items = data.reopenings.iter().map(|r| {
        let by = r.reopened_by.as_ref().map_or_else(|| Text::CaseUnknown.get(language).to_string(), |u| u.name.clone());
        let reason = r.reason.clone().unwrap_or_else(|| Text::ReopenNoReason.get(language).to_string());
        html! {
            <li id={format!("reopening-{}", r.generation)}>
                <span class="when">
                    { labelled(language, Text::ReopenedAt.get(language), local_date_time(r.reopened_at, language)) }
                </span>
                { "　" }
                <span class="who">{ labelled(language, Text::ReopenedBy.get(language), by) }</span>
                <blockquote class="reason">{ reason }</blockquote>
            </li>
        }
    });
    html! {
        <section id="case-reopenings" class="case-reopenings" tabindex="-1" aria-labelledby="case-reopenings-title">
            <h2 id="case-reopenings-title">{ Text::ReopeningsTitle.get(language) }</h2>
            <ol>{ for items }</ol>
        </section>
    }
}

/// The recipient's most recent visits, newest first (what the supervisor reads with the case).
fn recent_visits(data: &CasePage, language: Language) -> Html {
    let items = data.recent_visits.iter().map(|v| {
        let date = v.visited_on.map(|d| d.to_string()).unwrap_or_default();
        let by = v.worker_name.clone().unwrap_or_default();
        html! {
            <li id={format!("case-visit-{}", v.id)} class={classes!(v.corrected_by.is_some().then_some("corrected"))}>
                <span class="when">{ date }</span>{ "　" }<span class="who">{ by }</span>
                { if v.corrected_by.is_some() {
                    html! { <span class="tag">{ Text::CaseCorrected.get(language) }</span> }
                } else { Html::default() } }
                <p>{ v.observations.clone() }</p>
                { v.needs_found.clone().map(|n| html! { <p class="muted">{ n }</p> }).unwrap_or_default() }
            </li>
        }
    });
    html! {
        <section id="case-visits" class="case-visits" aria-labelledby="case-visits-title">
            <h2 id="case-visits-title">{ Text::RecentVisitsTitle.get(language) }</h2>
            { if data.recent_visits.is_empty() {
                html! { <p class="muted">{ Text::RecentVisitsNone.get(language) }</p> }
            } else {
                html! { <ol>{ for items }</ol> }
            } }
        </section>
    }
}
