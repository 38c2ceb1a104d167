//! The station's referrals (`#/referrals`, 转介): the list, newest first, filtered by direction,
//! state and purpose; the form recording one (a `SpecForm` over the referral's fields, with the
//! person chosen from the roster when on file); and one referral's panel: its facts, the steps it
//! may take next (each a button; the outcome an outbound referral reached is the one the
//! department reported), and for an inbound one, opening a case at 识别对象 with one action.
//!
//! Ids: `#referral-filter-direction`, `#referral-filter-state`, `#referral-filter-purpose`,
//! `#new-referral`, the form `#referral-form` (its fields `#referral-<field>`, `#referral-save`),
//! `#referral-list`, each row's button `#referral-<id>`, the panel `#referral-panel`
//! (`#step-date`, `#step-notes`, `#move-<State>` or `#move-<State>-<Outcome>`,
//! `#open-case-from-referral`, `#open-case-for-<recipient id>` through the person picker,
//! `#referral-case-link`, `#referral-panel-error`, the edit `#referral-edit…` of [`edit`]),
//! `#referrals-empty`, `#referrals-error`.

use std::rc::Rc;

use contract::command::{
    MoveReferral, MoveReferralArgs, OpenCaseFromReferral, OpenCaseFromReferralArgs, RecordReferral, RecordReferralArgs,
    Referrals as GetReferrals, ReferralsArgs,
};
use contract::{Language, NamedRef, ReferralQuery, ReferralRow, ReferralStep};
use domain::Labelled;
use domain::entity::{EntityKind, FieldSpec};
use domain::field;
use domain::referral::{ReferralDirection, ReferralOutcome, ReferralPurpose, ReferralState};
use uuid::Uuid;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::{Notice, go_with_notice, use_app};
use crate::components::person_picker::PersonPicker;
use crate::components::spec_form::SpecForm;
use crate::form::Values;
use crate::hooks::{keep_typed, use_action, use_command};
use crate::i18n::{Text, label};
use crate::route::Route;
use crate::time::today;

mod edit;
use edit::EditReferral;

/// The fields of the form, in order (the station, state, outcome and dates after the first are
/// the use cases').
pub fn form_fields() -> Vec<&'static FieldSpec> {
    let spec = EntityKind::Referral.spec();
    [
        field::referral::DIRECTION,
        field::referral::PURPOSE,
        field::referral::BENEFIT,
        field::referral::COUNTERPART,
        field::referral::COUNTERPART_DETAIL,
        field::referral::PERSON_NAME,
        field::referral::REASON,
        field::referral::REFERRED_ON,
    ]
    .iter()
    .filter_map(|name| spec.field(name))
    .collect()
}

pub fn row_id(referral_id: Uuid) -> String {
    format!("referral-{referral_id}")
}

/// A step's button id: `move-Accepted`, or with the outcome reported, `move-Concluded-Resolved`.
pub fn move_id(state: ReferralState, outcome: Option<ReferralOutcome>) -> String {
    match outcome {
        Some(outcome) => format!("move-{}-{}", state.as_str(), outcome.as_str()),
        None => format!("move-{}", state.as_str()),
    }
}

/// The steps a referral offers: one per next state, and where a state carries more than one
/// outcome (the outcome reported), one per outcome.
pub fn steps_of(row: &ReferralRow) -> Vec<(ReferralState, Option<ReferralOutcome>)> {
    row.next_states
        .iter()
        .flat_map(|state| match state.outcomes() {
            [_] | [] => vec![(*state, None)],
            many => many.iter().map(|o| (*state, Some(*o))).collect(),
        })
        .collect()
}

/// A step's button text: the state, and the outcome reported when it names one ("已办结：已解决";
/// for an outbound referral, as the department reported it).
pub fn step_text(
    row: &ReferralRow,
    state: ReferralState,
    outcome: Option<ReferralOutcome>,
    language: Language,
) -> String {
    match outcome {
        None => label(state, language).to_string(),
        Some(outcome) if row.direction == ReferralDirection::Outbound => match language {
            Language::Zh => format!("{}（部门反馈：{}）", state.zh(), outcome.zh()),
            Language::En => format!("{} (the department reported: {})", state.en(), outcome.en()),
        },
        Some(outcome) => match language {
            Language::Zh => format!("{}：{}", state.zh(), outcome.zh()),
            Language::En => format!("{}: {}", state.en(), outcome.en()),
        },
    }
}

/// The counterpart as a line: the kind, and the department or contact when given.
fn counterpart_text(row: &ReferralRow, language: Language) -> String {
    let kind = label(row.counterpart, language);
    match &row.counterpart_detail {
        Some(detail) => format!("{kind} · {detail}"),
        None => kind.to_string(),
    }
}

fn person_text(row: &ReferralRow, language: Language) -> String {
    match (&row.recipient, &row.person_name) {
        (Some(person), _) => person.name.clone(),
        (None, Some(name)) => format!("{name}{}", Text::ReferralPersonNotOnFile.get(language)),
        (None, None) => String::new(),
    }
}

/// The label of the outcome: for an outbound referral, the department's.
fn outcome_label(row: &ReferralRow) -> Text {
    if row.direction == ReferralDirection::Outbound { Text::ReferralOutcomeReported } else { Text::ReferralOutcome }
}

#[function_component(ReferralsPage)]
pub fn referrals_page() -> Html {
    let app = use_app();
    let language = app.language;
    let query = use_state(ReferralQuery::default);
    let list = use_command::<GetReferrals, _>(ReferralsArgs { query: *query }, (*query, app.data_version));
    let open = use_state(|| Option::<Uuid>::None);
    let adding = use_state(|| false);
    let status = use_state(|| Option::<Text>::None);

    let on_select = |apply: fn(&mut ReferralQuery, &str)| {
        let query = query.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let mut next = *query;
            apply(&mut next, &select.value());
            query.set(next);
        })
    };
    let on_new = {
        let (adding, status) = (adding.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            status.set(None);
            adding.set(!*adding);
        })
    };
    let on_recorded = {
        let (adding, status, open, list) = (adding.clone(), status.clone(), open.clone(), list.clone());
        Callback::from(move |row: ReferralRow| {
            adding.set(false);
            status.set(Some(Text::ReferralSaved));
            open.set(Some(row.id));
            list.reload();
        })
    };
    let on_moved = {
        let (status, list) = (status.clone(), list.clone());
        Callback::from(move |_: ReferralRow| {
            status.set(Some(Text::ReferralMoved));
            list.reload();
        })
    };
    let on_edited = {
        let (status, list) = (status.clone(), list.clone());
        Callback::from(move |_: ReferralRow| {
            status.set(Some(Text::ReferralEdited));
            list.reload();
        })
    };
    let on_open_row = {
        let open = open.clone();
        Callback::from(move |id: Uuid| open.set(if *open == Some(id) { None } else { Some(id) }))
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |_: ()| open.set(None))
    };

    let options = |all: Text, values: Vec<(&'static str, &'static str)>, chosen: Option<&'static str>| {
        html! {
            <>
                <option value="" selected={chosen.is_none()}>{ all.get(language) }</option>
                { for values.into_iter().map(|(value, text)| html! {
                    <option {value} selected={chosen == Some(value)}>{ text }</option>
                }) }
            </>
        }
    };
    let filters = html! {
        <form class="filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <div class="field inline">
                <label for="referral-filter-direction">{ crate::i18n::field_label(spec(field::referral::DIRECTION), language) }</label>
                <select id="referral-filter-direction" onchange={on_select(|q, v| q.direction = ReferralDirection::parse(v))}>
                    { options(Text::ReferralAllDirections,
                        ReferralDirection::ALL.iter().map(|d| (d.as_str(), label(*d, language))).collect(),
                        query.direction.map(|d| d.as_str())) }
                </select>
            </div>
            <div class="field inline">
                <label for="referral-filter-state">{ Text::ReferralColumnState.get(language) }</label>
                <select id="referral-filter-state" onchange={on_select(|q, v| q.state = ReferralState::parse(v))}>
                    { options(Text::ReferralAllStates,
                        ReferralState::ALL.iter().map(|s| (s.as_str(), label(*s, language))).collect(),
                        query.state.map(|s| s.as_str())) }
                </select>
            </div>
            <div class="field inline">
                <label for="referral-filter-purpose">{ crate::i18n::field_label(spec(field::referral::PURPOSE), language) }</label>
                <select id="referral-filter-purpose" onchange={on_select(|q, v| q.purpose = ReferralPurpose::parse(v))}>
                    { options(Text::ReferralAllPurposes,
                        ReferralPurpose::ALL.iter().map(|p| (p.as_str(), label(*p, language))).collect(),
                        query.purpose.map(|p| p.as_str())) }
                </select>
            </div>
        </form>
    };

    let body = match (list.data(), list.error()) {
        (Some(l), _) if l.rows.is_empty() => html! {
            <p id="referrals-empty" class="muted">{ Text::ReferralsEmpty.get(language) }</p>
        },
        (Some(l), _) => table(&l.rows, *open, &on_open_row, language),
        (None, Some(error)) => html! {
            <p id="referrals-error" class="error" role="alert">{ error.message(language).to_string() }</p>
        },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
    };
    let panel = list
        .data()
        .and_then(|l| l.rows.iter().find(|r| Some(r.id) == *open))
        .map(|row| html! { <ReferralPanel key={row.id.to_string()} row={row.clone()} on_moved={on_moved.clone()} on_edited={on_edited.clone()} on_close={on_close.clone()} /> });

    html! {
        <section class="referrals-page" aria-labelledby="referrals-title" aria-busy={list.loading().then_some("true")}>
            <h1 id="referrals-title">{ Text::ReferralsTitle.get(language) }</h1>
            <p class="hint" id="referrals-hint">{ Text::ReferralsHint.get(language) }</p>
            if let Some(text) = *status {
                <p id="referrals-status" class="notice" role="status">{ text.get(language) }</p>
            }
            <p>
                <button type="button" id="new-referral" class="primary" aria-expanded={(*adding).to_string()} onclick={on_new}>
                    { Text::ReferralNew.get(language) }
                </button>
            </p>
            if *adding {
                <RecordForm on_recorded={on_recorded} />
            }
            { filters }
            { body }
            { for panel }
        </section>
    }
}

fn spec(name: &str) -> &'static FieldSpec {
    EntityKind::Referral.spec().field(name).unwrap_or(&EntityKind::Referral.spec().fields[0])
}

fn table(rows: &[ReferralRow], open: Option<Uuid>, on_open: &Callback<Uuid>, language: Language) -> Html {
    html! {
        <table id="referral-list" class="referral-list">
            <thead>
                <tr>
                    <th scope="col">{ Text::ReferralColumnDate.get(language) }</th>
                    <th scope="col">{ crate::i18n::field_label(spec(field::referral::DIRECTION), language) }</th>
                    <th scope="col">{ Text::ReferralColumnCounterpart.get(language) }</th>
                    <th scope="col">{ Text::ReferralColumnPerson.get(language) }</th>
                    <th scope="col">{ Text::ReferralColumnReason.get(language) }</th>
                    <th scope="col">{ Text::ReferralColumnState.get(language) }</th>
                    <th scope="col">{ Text::ReferralColumnDays.get(language) }</th>
                </tr>
            </thead>
            <tbody>
                { for rows.iter().map(|row| {
                    let id = row.id;
                    let on_open = on_open.clone();
                    let onclick = Callback::from(move |_: MouseEvent| on_open.emit(id));
                    let purpose = (row.purpose == ReferralPurpose::BenefitApplication).then(|| {
                        format!("{}：{}", label(row.purpose, language), row.benefit.clone().unwrap_or_default())
                    });
                    html! {
                        <tr class={classes!(row.overdue.then_some("overdue"))}>
                            <td>
                                <button type="button" class="link" id={row_id(id)} aria-expanded={(open == Some(id)).to_string()} {onclick}>
                                    { row.referred_on.to_string() }
                                </button>
                            </td>
                            <td>{ label(row.direction, language) }</td>
                            <td>{ counterpart_text(row, language) }</td>
                            <td>{ person_text(row, language) }</td>
                            <td class="summary">
                                if let Some(purpose) = purpose { <strong>{ purpose }</strong><br /> }
                                { &row.reason }
                            </td>
                            <td>
                                { label(row.state, language) }
                                if row.overdue { { " " }<span class="badge warn">{ Text::ReferralOverdue.get(language) }</span> }
                            </td>
                            <td class="number">{ row.days }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[derive(Properties, PartialEq)]
struct RecordFormProps {
    on_recorded: Callback<ReferralRow>,
}

#[function_component(RecordForm)]
fn record_form(props: &RecordFormProps) -> Html {
    let app = use_app();
    let language = app.language;
    let action = use_action::<RecordReferral>();
    let person = use_state(|| Option::<NamedRef>::None);
    let on_pick = {
        let person = person.clone();
        Callback::from(move |p: NamedRef| person.set(Some(p)))
    };
    let on_clear = {
        let person = person.clone();
        Callback::from(move |_: MouseEvent| person.set(None))
    };
    let onsubmit = {
        let (action, person, done) = (action.clone(), person.clone(), props.on_recorded.clone());
        Callback::from(move |values: Values| {
            let mut values = values.field_values();
            // Empty optional fields are not sent: the record starts without them.
            values.retain(|_, v| !v.is_null());
            if let Some(p) = &*person {
                values.insert(field::referral::RECIPIENT_ID.into(), p.id.to_string().into());
            }
            let done = done.clone();
            action.run(RecordReferralArgs { values }, move |row| done.emit(row));
        })
    };
    html! {
        <div id="referral-record" class="panel">
            <h2>{ Text::ReferralNew.get(language) }</h2>
            <p>
                { crate::i18n::field_label(spec(field::referral::RECIPIENT_ID), language) }{ "：" }
                if let Some(p) = &*person {
                    <strong id="referral-person-chosen">{ format!("{}{}", Text::PersonChosen.get(language), p.name) }</strong>
                    <button type="button" id="referral-person-clear" class="link" onclick={on_clear}>{ Text::PersonClear.get(language) }</button>
                }
            </p>
            if person.is_none() {
                <PersonPicker id_prefix="referral-" {on_pick} />
            }
            <SpecForm id="referral-form" id_prefix="referral-" fields={form_fields()} onsubmit={onsubmit}
                busy={action.busy} error={action.error.clone()} autofocus={false}
                initial={Rc::new(contract::FieldValues::from([
                    (field::referral::REFERRED_ON.to_string(), today().to_string().into()),
                ]))} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PanelProps {
    row: ReferralRow,
    on_moved: Callback<ReferralRow>,
    on_edited: Callback<ReferralRow>,
    on_close: Callback<()>,
}

#[function_component(ReferralPanel)]
fn referral_panel(props: &PanelProps) -> Html {
    let app = use_app();
    let language = app.language;
    let row = &props.row;
    let date = use_state(|| today().to_string());
    let notes = use_state(String::new);
    let mover = use_action::<MoveReferral>();
    let opener = use_action::<OpenCaseFromReferral>();

    let on_date = keep_typed(&date);
    let on_notes = keep_typed(&notes);
    let open_case = {
        let (opener, app, referral_id) = (opener.clone(), app.clone(), row.id);
        let name = row.recipient.as_ref().map(|r| r.name.clone()).or(row.person_name.clone()).unwrap_or_default();
        Callback::from(move |recipient: Option<NamedRef>| {
            let app = app.clone();
            let name = recipient.as_ref().map_or(name.clone(), |r| r.name.clone());
            let args = OpenCaseFromReferralArgs { referral_id, recipient_id: recipient.map(|r| r.id) };
            opener.run(args, move |opened| {
                let notice = Notice {
                    zh: format!("{}{}", Text::CaseOpened.get(Language::Zh), name),
                    en: format!("{}{}", Text::CaseOpened.get(Language::En), name),
                };
                go_with_notice(&app, Route::Case { id: opened.case_id }, notice);
            });
        })
    };
    let steps = steps_of(row).into_iter().map(|(state, outcome)| {
        let onclick = {
            let (mover, date, notes, done, referral_id) =
                (mover.clone(), date.clone(), notes.clone(), props.on_moved.clone(), row.id);
            Callback::from(move |_: MouseEvent| {
                let step = ReferralStep { state, on: date.parse().ok(), outcome, notes: (*notes).clone() };
                let done = done.clone();
                mover.run(MoveReferralArgs { referral_id, step }, move |row| done.emit(row));
            })
        };
        html! {
            <button type="button" id={move_id(state, outcome)} disabled={mover.busy} {onclick}>
                { step_text(row, state, outcome, language) }
            </button>
        }
    });
    let error = mover.error.as_ref().or(opener.error.as_ref()).map(|e| e.message(language).to_string());
    let fact = |name: &str, value: String| {
        html! { <><dt>{ crate::i18n::field_label(spec(name), language) }</dt><dd>{ value }</dd></> }
    };
    let on_close = {
        let close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| close.emit(()))
    };
    html! {
        <section id="referral-panel" class="panel" aria-labelledby="referral-panel-title">
            <h2 id="referral-panel-title">
                { format!("{} · {} · {}", label(row.direction, language), counterpart_text(row, language), label(row.state, language)) }
            </h2>
            <dl class="facts">
                { fact(field::referral::PURPOSE, label(row.purpose, language).to_string()) }
                if let Some(benefit) = &row.benefit { { fact(field::referral::BENEFIT, benefit.clone()) } }
                { fact(field::referral::RECIPIENT_ID, person_text(row, language)) }
                { fact(field::referral::REASON, row.reason.clone()) }
                { fact(field::referral::REFERRED_ON, row.referred_on.to_string()) }
                if let Some(d) = row.responded_on { { fact(field::referral::RESPONDED_ON, d.to_string()) } }
                if let Some(d) = row.concluded_on { { fact(field::referral::CONCLUDED_ON, d.to_string()) } }
                <dt>{ outcome_label(row).get(language) }</dt>
                <dd id="referral-outcome">{ label(row.outcome, language) }</dd>
                if let Some(n) = &row.outcome_notes { { fact(field::referral::OUTCOME_NOTES, n.clone()) } }
            </dl>
            <EditReferral row={row.clone()} on_edited={props.on_edited.clone()} />
            if let Some(case_id) = row.opened_case_id {
                <p><a id="referral-case-link" href={Route::Case { id: case_id }.to_hash()}>{ Text::ReferralSeeCase.get(language) }</a></p>
            }
            if row.next_states.is_empty() && !row.may_open_case {
                <p class="muted">{ Text::ReferralHasOutcome.get(language) }</p>
            } else {
                <fieldset class="referral-step">
                    <legend>{ Text::ReferralNextStep.get(language) }</legend>
                    <div class="field inline">
                        <label for="step-date">{ Text::ReferralStepDate.get(language) }</label>
                        <input id="step-date" type="date" value={(*date).clone()} max={today().to_string()} oninput={on_date} />
                    </div>
                    <div class="field">
                        <label for="step-notes">{ Text::ReferralStepNotes.get(language) }</label>
                        <textarea id="step-notes" value={(*notes).clone()} oninput={on_notes} />
                    </div>
                    <p class="actions">
                        if row.may_open_case && row.recipient.is_some() {
                            <button type="button" id="open-case-from-referral" class="primary" disabled={opener.busy}
                                onclick={let open_case = open_case.clone(); Callback::from(move |_: MouseEvent| open_case.emit(None))}>
                                { Text::ReferralOpenCase.get(language) }
                            </button>
                        }
                        { for steps }
                    </p>
                    if row.may_open_case && row.recipient.is_none() {
                        <p class="hint">
                            { Text::ReferralChoosePerson.get(language) }{ " " }
                            <a id="referral-add-person" href={Route::AddRecipient.to_hash()}>{ Text::ReferralAddPerson.get(language) }</a>
                        </p>
                        <PersonPicker id_prefix="open-case-" choose_text={Text::ReferralOpenCaseFor} busy={opener.busy}
                            on_pick={let open_case = open_case.clone(); Callback::from(move |p: NamedRef| open_case.emit(Some(p)))} />
                    }
                </fieldset>
            }
            if let Some(error) = error {
                <p id="referral-panel-error" class="error" role="alert">{ error }</p>
            }
            <button type="button" id="referral-panel-close" onclick={on_close}>{ Text::ReferralClose.get(language) }</button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(direction: ReferralDirection, state: ReferralState) -> ReferralRow {
        ReferralRow {
            id: Uuid::from_u128(1),
            direction,
            purpose: ReferralPurpose::Service,
            counterpart: domain::referral::ReferralCounterpart::CivilAffairs,
            counterpart_detail: None,
            benefit: None,
            recipient: None,
            person_name: None,
            reason: String::new(),
            referred_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
            state,
            outcome: ReferralOutcome::Pending,
            outcome_notes: None,
            responded_on: None,
            concluded_on: None,
            opened_case_id: None,
            days: 0,
            overdue: false,
            next_states: state.next().iter().copied().filter(|s| *s != ReferralState::CaseOpened).collect(),
            may_open_case: false,
            fields: contract::FieldValues::new(),
        }
    }

    #[test]
    fn each_next_step_is_a_button_and_a_reported_outcome_one_per_outcome() {
        let sent = row(ReferralDirection::Outbound, ReferralState::Sent);
        let ids: Vec<String> = steps_of(&sent).into_iter().map(|(s, o)| move_id(s, o)).collect();
        assert_eq!(ids, ["move-Acknowledged", "move-Concluded-Resolved", "move-Concluded-Declined"]);
        let received = row(ReferralDirection::Inbound, ReferralState::Received);
        let ids: Vec<String> = steps_of(&received).into_iter().map(|(s, o)| move_id(s, o)).collect();
        assert_eq!(ids, ["move-Accepted", "move-Declined"], "opening a case is its own button");
        assert!(steps_of(&row(ReferralDirection::Inbound, ReferralState::Declined)).is_empty());
    }

    #[test]
    fn an_outbound_outcome_is_the_one_the_department_reported() {
        let sent = row(ReferralDirection::Outbound, ReferralState::Sent);
        let text = step_text(&sent, ReferralState::Concluded, Some(ReferralOutcome::Resolved), Language::Zh);
        assert_eq!(text, "已办结（部门反馈：已解决）");
        let text = step_text(&sent, ReferralState::Concluded, Some(ReferralOutcome::Declined), Language::En);
        assert_eq!(text, "Concluded (the department reported: Declined)");
        assert_eq!(outcome_label(&sent), Text::ReferralOutcomeReported);
    }

    #[test]
    fn the_form_has_every_field_a_worker_types_and_none_the_use_cases_set() {
        let names: Vec<&str> = form_fields().iter().map(|f| f.name).collect();
        assert_eq!(names.len(), 8, "every field found in the spec");
        for set_by_use_case in [field::referral::STATE, field::referral::OUTCOME, field::referral::OPENED_CASE_ID] {
            assert!(!names.contains(&set_by_use_case), "{set_by_use_case}");
        }
    }
}
