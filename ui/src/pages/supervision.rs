//! Supervision (`#/supervision`, the supervisor's): plans announced in advance and sessions held
//! at the stations they cover, newest first, each with its station, date, mode, hours and topics;
//! a session's feedback is written afterwards by the supervisor who held it. Both forms are
//! `SpecForm`s over the entity's fields (the station picked from the supervisor's stations, a
//! session's plan from the plans not yet held).
//!
//! Ids: `#supervision-page`, `#plan-form` (fields `#plan-station`, `#plan-planned_on`, ...,
//! `#plan-save`), `#session-form` (`#session-station`, `#session-plan`, `#session-held_on`,
//! `#session-mode`, `#session-duration_minutes`, `#session-topics`, ..., `#session-save`),
//! `#supervision-saved`, `#plans` (rows `#plan-<id>`, the supervisor's own with `#edit-plan-<id>`
//! and its `#plan-edit-form`, see [`edit`]), `#sessions` (rows `#session-<id>`, with
//! `#feedback-<id>` and `#save-feedback-<id>`).

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::command::{
    NoArgs, SaveSupervisionPlan, SaveSupervisionSession, SaveWorkforceRecordArgs, SetSessionFeedback,
    SetSessionFeedbackArgs, SupervisionPage as GetSupervisionPage,
};
use contract::{FieldValues, Language, SupervisionPage, SupervisionSessionRow};
use domain::entity::{EntityKind, FieldSpec};
use domain::field;
use serde_json::Value;
use uuid::Uuid;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::spec_form::{Choice, ChoiceGroup, SpecForm};
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};
use crate::pages::standards::hours_text;
use crate::time::today;

pub mod edit;
use edit::{EditRecord, EditedRecord};

/// The fields a form shows, from the kind's spec (the supervisor is the signed-in user).
pub fn form_fields(kind: EntityKind, shown: &[&str]) -> Vec<&'static FieldSpec> {
    kind.spec().fields.iter().filter(|f| shown.contains(&f.name)).collect()
}

fn plan_fields() -> Vec<&'static FieldSpec> {
    use field::supervision_plan::*;
    form_fields(EntityKind::SupervisionPlan, &[STATION_ID, PLANNED_ON, MODE, PLANNED_MINUTES, TOPICS])
}

/// A plan's edit: the station stays where it was announced.
fn plan_edit_fields() -> Vec<&'static FieldSpec> {
    use field::supervision_plan::*;
    form_fields(EntityKind::SupervisionPlan, &[PLANNED_ON, MODE, PLANNED_MINUTES, TOPICS])
}

fn session_fields() -> Vec<&'static FieldSpec> {
    use field::supervision_session::*;
    form_fields(
        EntityKind::SupervisionSession,
        &[STATION_ID, PLAN_ID, HELD_ON, MODE, DURATION_MINUTES, TOPICS, CASES_DISCUSSED],
    )
}

/// A form's values with only the fields that hold something (an empty optional field is left
/// out rather than sent as nothing).
pub fn filled(values: &Values) -> FieldValues {
    values.field_values().into_iter().filter(|(_, v)| !v.is_null()).collect()
}

fn choices(page: &SupervisionPage) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let stations = page.stations.iter().map(|s| Choice { value: s.id.to_string(), label: s.name.clone() }).collect();
    let plans = page
        .plans
        .iter()
        .filter(|p| !p.held)
        .map(|p| Choice { value: p.id.to_string(), label: format!("{} {} {}", p.planned_on, p.station.name, p.topics) })
        .collect();
    let group = |choices| vec![ChoiceGroup { label: String::new(), choices }];
    Rc::new(BTreeMap::from([(field::STATION_ID, group(stations)), (field::supervision_session::PLAN_ID, group(plans))]))
}

#[function_component(SupervisionPageView)]
pub fn supervision_page() -> Html {
    let app = use_app();
    let language = app.language;
    let round = use_state(|| 0_u32);
    let saved = use_state(|| None::<Text>);
    let page = use_command::<GetSupervisionPage, _>(NoArgs {}, (app.data_version, *round));
    let save_plan = use_action::<SaveSupervisionPlan>();
    let save_session = use_action::<SaveSupervisionSession>();

    let after_save = |text: Text| {
        let (round, saved) = (round.clone(), saved.clone());
        move |_| {
            saved.set(Some(text));
            round.set(*round + 1);
        }
    };
    let on_plan = {
        let (action, done) = (save_plan.clone(), after_save(Text::NewSupervisionPlan));
        Callback::from(move |values: Values| {
            action.run(SaveWorkforceRecordArgs { values: filled(&values) }, done.clone())
        })
    };
    let on_session = {
        let (action, done) = (save_session.clone(), after_save(Text::NewSupervisionSession));
        Callback::from(move |values: Values| {
            action.run(SaveWorkforceRecordArgs { values: filled(&values) }, done.clone())
        })
    };

    let on_plan_edited = {
        let (round, saved) = (round.clone(), saved.clone());
        Callback::from(move |()| {
            saved.set(Some(Text::SupervisionPlanEdited));
            round.set(*round + 1);
        })
    };

    let Some(data) = page.data() else {
        return html! {
            <article id="supervision-page">
                <h1>{ Text::SupervisionTitle.get(language) }</h1>
                { page.error().map(|e| html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> }).unwrap_or_default() }
            </article>
        };
    };
    let choices = choices(data);
    let today_values = |name: &str| Rc::new(FieldValues::from([(name.to_string(), Value::from(today().to_string()))]));
    let forms = data.may_record.then(|| html! {
        <div class="supervision-forms">
            <section class="card" aria-labelledby="plan-form-title">
                <h2 id="plan-form-title">{ Text::NewSupervisionPlan.get(language) }</h2>
                <SpecForm key={format!("plan-{}", *round)} id="plan-form" id_prefix="plan-" fields={plan_fields()}
                    choices={choices.clone()} autofocus={false}
                    onsubmit={on_plan} busy={save_plan.busy} error={save_plan.error.clone()} />
            </section>
            <section class="card" aria-labelledby="session-form-title">
                <h2 id="session-form-title">{ Text::NewSupervisionSession.get(language) }</h2>
                <SpecForm key={format!("session-{}", *round)} id="session-form" id_prefix="session-" fields={session_fields()}
                    choices={choices} autofocus={false} initial={today_values(field::supervision_session::HELD_ON)}
                    onsubmit={on_session} busy={save_session.busy} error={save_session.error.clone()} />
            </section>
        </div>
    });

    html! {
        <article id="supervision-page" aria-labelledby="supervision-title">
            <h1 id="supervision-title">{ Text::SupervisionTitle.get(language) }</h1>
            <div role="status" aria-live="polite">
                { saved.map(|text| html! { <p id="supervision-saved" class="notice">{ format!("✓ {}", text.get(language)) }</p> }).unwrap_or_default() }
            </div>
            { forms.unwrap_or_default() }
            <section aria-labelledby="plans-title">
                <h2 id="plans-title">{ Text::SupervisionPlans.get(language) }</h2>
                { plans_table(data, language, app.user.as_ref().map(|u| u.user_id), on_plan_edited) }
            </section>
            <section aria-labelledby="sessions-title">
                <h2 id="sessions-title">{ Text::SupervisionSessions.get(language) }</h2>
                { sessions_list(data, language, round.clone()) }
            </section>
        </article>
    }
}

fn plans_table(page: &SupervisionPage, language: Language, me: Option<Uuid>, on_edited: Callback<()>) -> Html {
    if page.plans.is_empty() {
        return html! { <p id="plans" class="muted">{ Text::NoSupervisionPlans.get(language) }</p> };
    }
    let spec = EntityKind::SupervisionPlan.spec();
    let head = |name: &str| spec.field(name).map(|f| crate::i18n::field_label(f, language)).unwrap_or_default();
    use field::supervision_plan::*;
    html! {
        <table id="plans" class="table">
            <thead><tr>
                <th>{ head(PLANNED_ON) }</th><th>{ head(STATION_ID) }</th><th>{ head(MODE) }</th>
                <th>{ head(PLANNED_MINUTES) }</th><th>{ head(TOPICS) }</th><th></th><th></th>
            </tr></thead>
            <tbody>
                { for page.plans.iter().map(|p| html! {
                    <tr id={format!("plan-{}", p.id)}>
                        <td>{ p.planned_on.to_string() }</td>
                        <td>{ &p.station.name }</td>
                        <td>{ label(p.mode, language) }</td>
                        <td>{ hours_text(u64::from(p.planned_minutes), language) }</td>
                        <td>{ &p.topics }</td>
                        <td>{ if p.held { Text::PlanHeld.get(language) } else { Text::PlanPending.get(language) } }</td>
                        <td>
                            if me.is_some() && p.supervisor.as_ref().map(|s| s.id) == me {
                                <EditRecord key={p.id.to_string()} record={EditedRecord::SupervisionPlan} id={p.id} fields={plan_edit_fields()}
                                    stored={p.fields.clone()} on_edited={on_edited.clone()} />
                            }
                        </td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

fn sessions_list(page: &SupervisionPage, language: Language, round: UseStateHandle<u32>) -> Html {
    if page.sessions.is_empty() {
        return html! { <p id="sessions" class="muted">{ Text::NoSupervisionSessions.get(language) }</p> };
    }
    html! {
        <ul id="sessions" class="plain-list">
            { for page.sessions.iter().map(|s| html! {
                <SessionItem key={s.id.to_string()} session={s.clone()} round={round.clone()} />
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct SessionItemProps {
    session: SupervisionSessionRow,
    round: UseStateHandle<u32>,
}

#[function_component(SessionItem)]
fn session_item(props: &SessionItemProps) -> Html {
    let app = use_app();
    let language = app.language;
    let s = &props.session;
    let typed = use_state(|| s.feedback.clone().unwrap_or_default());
    let action = use_action::<SetSessionFeedback>();
    let on_input = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_save = {
        let (typed, action, round, session_id) = (typed.clone(), action.clone(), props.round.clone(), s.id);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let round = round.clone();
            action.run(SetSessionFeedbackArgs { session_id, feedback: (*typed).clone() }, move |()| {
                round.set(*round + 1)
            });
        })
    };
    let id = s.id;
    html! {
        <li id={format!("session-{id}")} class="card">
            <p>
                <strong>{ s.held_on.to_string() }</strong>{ " · " }{ &s.station.name }{ " · " }
                { label(s.mode, language) }{ " · " }{ hours_text(u64::from(s.duration_minutes), language) }
                { s.supervisor.as_ref().map(|p| format!(" · {}", p.name)).unwrap_or_default() }
            </p>
            <p>{ &s.topics }</p>
            { s.cases_discussed.as_ref().map(|c| html! { <p class="muted">{ format!("{}：{c}", Text::CasesDiscussed.get(language)) }</p> }).unwrap_or_default() }
            if s.may_give_feedback {
                <form onsubmit={on_save}>
                    <label for={format!("feedback-{id}")}>{ Text::Feedback.get(language) }</label>
                    <textarea id={format!("feedback-{id}")} value={(*typed).clone()} oninput={on_input} rows="2" />
                    { action.error.as_ref().map(|e| html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> }).unwrap_or_default() }
                    <button type="submit" id={format!("save-feedback-{id}")} disabled={action.busy}>{ Text::SaveFeedback.get(language) }</button>
                </form>
            } else {
                { s.feedback.as_ref().map(|f| html! { <p id={format!("feedback-{id}")}>{ format!("{}：{f}", Text::Feedback.get(language)) }</p> }).unwrap_or_default() }
            }
        </li>
    }
}
