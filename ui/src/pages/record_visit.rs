//! Recording home visits (入户走访), built for several in a row: the form (date prefilled with
//! today, local time; who was seen, observations, needs found, follow-up needed) beside the list
//! of the person's visits. Enter saves (Ctrl+Enter in a text area); once saved, the visit is in
//! the list, a "saved" line says so, and the form is empty again with the focus in its first text
//! field. Visits are never edited: "correct" on a visit opens the amend form in the form's place,
//! prefilled with it, and saving records a new visit that amends it; the list shows both, the
//! original marked as corrected and linked to its correction.
//!
//! A household's visit is recorded under its head (`record_household_visit`), and the list is
//! the head's visits.
//!
//! Ids: `#record-visit-page`, `#visit-title`, `#back-to-file`, `#visit-form` (fields
//! `#visited_on`, `#persons_seen`, `#observations`, `#needs_found`, `#follow_up_needed`, `#save`),
//! `#visit-saved` (in `#visit-status`), `#visit-list` (items `#visit-<id>`, buttons
//! `#amend-<id>`, jumps `.see-correction` / `.see-original`), `#amend-form` (and `#cancel`).

use std::rc::Rc;

use chrono::NaiveDate;
use contract::command::{
    AmendVisit, AmendVisitArgs, HouseholdFile as GetHouseholdFile, HouseholdIdArgs, RecipientFile as GetRecipientFile,
    RecipientIdArgs, RecordHouseholdVisit, RecordHouseholdVisitArgs, RecordVisit, RecordVisitArgs, VisitsOf,
};
use contract::{CommandError, FieldValues, Language, VisitDraft, VisitView, codes};
use domain::entity::{FieldSpec, VISIT};
use domain::field;
use domain::recipient::HouseholdRelation;
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::ledger::{Correction, summary_text};
use crate::components::spec_form::SpecForm;
use crate::focus::focus_soon;
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, field_label};
use crate::pages::recipient_file::{colon, load_failed, place_line};
use crate::route::Route;
use crate::time::today;

/// The visit form's fields, in order.
pub const VISIT_FIELDS: [&str; 5] = [
    field::visit::VISITED_ON,
    field::visit::PERSONS_SEEN,
    field::visit::OBSERVATIONS,
    field::visit::NEEDS_FOUND,
    field::visit::FOLLOW_UP_NEEDED,
];

/// The field that has the focus when the form appears: the first one typed into (the date is
/// prefilled).
pub const FIRST_TYPED_FIELD: &str = field::visit::PERSONS_SEEN;

pub fn visit_fields() -> Vec<&'static FieldSpec> {
    VISIT_FIELDS.iter().filter_map(|name| VISIT.field(name)).collect()
}

/// A new visit's starting values: today's date.
pub fn new_visit_values(today: NaiveDate) -> FieldValues {
    FieldValues::from([(field::visit::VISITED_ON.to_string(), Value::from(today.to_string()))])
}

/// A correction's starting values: the visit it corrects, as recorded.
pub fn amend_values(visit: &VisitView) -> FieldValues {
    let mut values = FieldValues::new();
    if let Some(date) = visit.visited_on {
        values.insert(field::visit::VISITED_ON.into(), Value::from(date.to_string()));
    }
    let mut text = |name: &str, value: Option<&str>| {
        if let Some(value) = value {
            values.insert(name.into(), Value::from(value));
        }
    };
    text(field::visit::PERSONS_SEEN, visit.persons_seen.as_deref());
    text(field::visit::OBSERVATIONS, Some(&visit.observations));
    text(field::visit::NEEDS_FOUND, visit.needs_found.as_deref());
    values.insert(field::visit::FOLLOW_UP_NEEDED.into(), Value::Bool(visit.follow_up_needed));
    values
}

/// The draft a valid form sends.
pub fn visit_draft(values: &Values) -> VisitDraft {
    VisitDraft {
        visited_on: values.date(field::visit::VISITED_ON),
        persons_seen: values.text(field::visit::PERSONS_SEEN),
        observations: values.text(field::visit::OBSERVATIONS),
        needs_found: values.text(field::visit::NEEDS_FOUND),
        follow_up_needed: values.flag(field::visit::FOLLOW_UP_NEEDED),
    }
}

/// The "saved" line: whose visit, which day, and how many this sitting (so that each save reads
/// differently, and a screen reader announces it again).
pub fn saved_line(text: Text, name: &str, date: Option<NaiveDate>, count: u32, language: Language) -> String {
    let date = date.map(|d| d.to_string()).unwrap_or_default();
    match language {
        Language::Zh => format!("{}：{name} {date}（本次第 {count} 条）", text.get(language)),
        Language::En => format!("{}: {name}, {date} ({count} this session)", text.get(language)),
    }
}

/// Whom visits are recorded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitTarget {
    Recipient(Uuid),
    Household(Uuid),
}

#[derive(Properties, PartialEq)]
pub struct RecordVisitProps {
    pub target: VisitTarget,
}

/// The visit screen of a person or a household: loads whom it is for, then the desk.
#[function_component(RecordVisitPage)]
pub fn record_visit_page(props: &RecordVisitProps) -> Html {
    match props.target {
        VisitTarget::Recipient(id) => html! { <PersonVisits {id} /> },
        VisitTarget::Household(id) => html! { <HouseholdVisits {id} /> },
    }
}

#[derive(Properties, PartialEq)]
struct IdProps {
    id: Uuid,
}

#[function_component(PersonVisits)]
fn person_visits(props: &IdProps) -> Html {
    let app = use_app();
    let id = props.id;
    let file = use_command::<GetRecipientFile, _>(RecipientIdArgs { recipient_id: id }, (id, app.data_version));
    match (file.data(), file.error()) {
        (Some(data), _) => html! {
            <VisitDesk key={id.to_string()} target={VisitTarget::Recipient(id)} name={data.name.clone()}
                place={place_line(&data.place)} list_of={Some(id)} back={Route::Recipient { id }} />
        },
        (None, Some(e)) => load_failed(e, app.language, &file),
        (None, None) => html! { <p class="muted" id="file-loading">{ Text::Loading.get(app.language) }</p> },
    }
}

#[function_component(HouseholdVisits)]
fn household_visits(props: &IdProps) -> Html {
    let app = use_app();
    let id = props.id;
    let file = use_command::<GetHouseholdFile, _>(HouseholdIdArgs { household_id: id }, (id, app.data_version));
    match (file.data(), file.error()) {
        (Some(data), _) => {
            let head = data.members.iter().find(|m| m.relation == Some(HouseholdRelation::Head));
            html! {
                <VisitDesk key={id.to_string()} target={VisitTarget::Household(id)} name={data.name.clone()}
                    place={place_line(&data.place)} list_of={head.map(|h| h.recipient_id)} back={Route::Household { id }} />
            }
        }
        (None, Some(e)) => load_failed(e, app.language, &file),
        (None, None) => html! { <p class="muted" id="file-loading">{ Text::Loading.get(app.language) }</p> },
    }
}

#[derive(Properties, PartialEq)]
struct VisitDeskProps {
    target: VisitTarget,
    /// The person's or the household's name.
    name: String,
    place: String,
    /// Whose visits the list shows (a household's head; none for a household without one).
    list_of: Option<Uuid>,
    /// The file to go back to.
    back: Route,
}

#[function_component(VisitDesk)]
fn visit_desk(props: &VisitDeskProps) -> Html {
    let app = use_app();
    let language = app.language;
    // Bumped by each save: a new form (empty, focused) and a reloaded list.
    let round = use_state_eq(|| 0_u32);
    let saved = use_state_eq(|| None::<String>);
    let amending = use_state_eq(|| None::<VisitView>);
    let record = use_action::<RecordVisit>();
    let record_household = use_action::<RecordHouseholdVisit>();
    let amend = use_action::<AmendVisit>();
    let (busy, error) = match props.target {
        VisitTarget::Recipient(_) => (record.busy, record.error.clone()),
        VisitTarget::Household(_) => (record_household.busy, record_household.error.clone()),
    };
    let error = error.map(explain_error);

    let on_saved = {
        let (round, saved, name) = (round.clone(), saved.clone(), props.name.clone());
        Callback::from(move |visit: VisitView| {
            let count = *round + 1;
            saved.set(Some(saved_line(Text::VisitSaved, &name, visit.visited_on, count, language)));
            round.set(count);
        })
    };
    let onsubmit = {
        let (record, record_household, target, on_saved) =
            (record.clone(), record_household.clone(), props.target, on_saved.clone());
        Callback::from(move |values: Values| {
            let draft = visit_draft(&values);
            let on_saved = on_saved.clone();
            match target {
                VisitTarget::Recipient(recipient_id) => {
                    record.run(RecordVisitArgs { recipient_id, draft }, move |visit| on_saved.emit(visit))
                }
                VisitTarget::Household(household_id) => record_household
                    .run(RecordHouseholdVisitArgs { household_id, draft }, move |visit| on_saved.emit(visit)),
            }
        })
    };
    let on_amend = {
        let (amending, amend) = (amending.clone(), amend.clone());
        Callback::from(move |visit: VisitView| {
            amend.clear_error();
            amending.set(Some(visit));
        })
    };

    let form = match &*amending {
        Some(original) => {
            let original_id = original.id;
            let stop = {
                let amending = amending.clone();
                Callback::from(move |()| {
                    amending.set(None);
                    focus_soon(format!("amend-{original_id}"));
                })
            };
            let onsubmit = {
                let (amend, amending, round, saved, name) =
                    (amend.clone(), amending.clone(), round.clone(), saved.clone(), props.name.clone());
                Callback::from(move |values: Values| {
                    let (amending, round, saved, name) = (amending.clone(), round.clone(), saved.clone(), name.clone());
                    amend.run(AmendVisitArgs { visit_id: original_id, draft: visit_draft(&values) }, move |visit| {
                        let count = *round + 1;
                        saved.set(Some(saved_line(Text::CorrectionSaved, &name, visit.visited_on, count, language)));
                        amending.set(None);
                        round.set(count);
                    });
                })
            };
            let date = original.visited_on.map(|d| d.to_string()).unwrap_or_default();
            html! {
                <section class="card visit-form" aria-labelledby="amend-title">
                    <h2 id="amend-title">{ format!("{} {date}", Text::AmendTitle.get(language)) }</h2>
                    <p class="subtitle">{ Text::AmendHint.get(language) }</p>
                    <SpecForm key={format!("amend-{original_id}")} id="amend-form" fields={visit_fields()}
                        initial={Rc::new(amend_values(original))} focus={Some(field::visit::OBSERVATIONS)}
                        {onsubmit} oncancel={stop} busy={amend.busy} error={amend.error.clone().map(explain_error)}
                        submit_text={Text::SaveCorrection} />
                </section>
            }
        }
        None => html! {
            <section class="card visit-form" aria-labelledby="visit-form-title">
                <h2 id="visit-form-title">{ Text::VisitTitle.get(language) }</h2>
                <p class="subtitle">
                    { Text::VisitKeysHint.get(language) }
                    { matches!(props.target, VisitTarget::Household(_)).then(|| format!(" {}", Text::HouseholdVisitHint.get(language))).unwrap_or_default() }
                </p>
                <SpecForm key={format!("visit-{}", *round)} id="visit-form" fields={visit_fields()}
                    initial={Rc::new(new_visit_values(today()))} focus={Some(FIRST_TYPED_FIELD)}
                    {onsubmit} {busy} {error} submit_text={Text::SaveVisit} />
            </section>
        },
    };

    let list = match props.list_of {
        Some(recipient_id) => html! { <VisitList {recipient_id} version={*round} {on_amend} /> },
        None => html! { <p class="muted" id="visit-list">{ Text::NoHead.get(language) }</p> },
    };

    html! {
        <article id="record-visit-page" aria-labelledby="visit-title">
            <p class="kicker">
                <a id="back-to-file" href={props.back.to_hash()}>{ format!("← {}", Text::BackToFile.get(language)) }</a>
            </p>
            <h1 id="visit-title">{ format!("{}：{}", Text::VisitTitle.get(language), props.name) }</h1>
            <p class="subtitle">{ &props.place }</p>
            <div id="visit-status" class="visit-status" role="status" aria-live="polite">
                { saved.as_ref().map(|line| html! { <p id="visit-saved" class="notice">{ line }</p> }).unwrap_or_default() }
            </div>
            <div class="visit-desk">
                { form }
                <section class="visit-list-section" aria-labelledby="visit-list-title">
                    <h2 id="visit-list-title">{ Text::Visits.get(language) }</h2>
                    { list }
                </section>
            </div>
        </article>
    }
}

/// A household without a head cannot be visited as a household: said plainly.
fn explain_error(error: CommandError) -> CommandError {
    if error.code == codes::NO_HOUSEHOLD_HEAD {
        let (message_zh, message_en) = (Text::NoHead.get(Language::Zh).into(), Text::NoHead.get(Language::En).into());
        return CommandError { message_zh, message_en, ..error };
    }
    error
}

#[derive(Properties, PartialEq)]
struct VisitListProps {
    recipient_id: Uuid,
    /// Changes after each save, so the list reloads.
    version: u32,
    on_amend: Callback<VisitView>,
}

fn visit_item_id(id: Uuid) -> String {
    format!("visit-{id}")
}

#[function_component(VisitList)]
fn visit_list(props: &VisitListProps) -> Html {
    let app = use_app();
    let language = app.language;
    let recipient_id = props.recipient_id;
    let visits =
        use_command::<VisitsOf, _>(RecipientIdArgs { recipient_id }, (recipient_id, props.version, app.data_version));
    let Some(list) = visits.data() else {
        return match visits.error() {
            Some(e) => html! { <p class="error" id="visit-list" role="alert">{ e.message(language) }</p> },
            None => html! { <p class="muted" id="visit-list">{ Text::Loading.get(language) }</p> },
        };
    };
    if list.is_empty() {
        return html! { <p class="muted" id="visit-list">{ Text::NoVisits.get(language) }</p> };
    }
    let spec_label = |name: &str| VISIT.field(name).map(|s| field_label(s, language)).unwrap_or_default();
    let jump = |to: Uuid, text: Text, class: &'static str| {
        let onclick = Callback::from(move |_: MouseEvent| focus_soon(visit_item_id(to)));
        html! { <button type="button" class={classes!("link", class)} {onclick}>{ text.get(language) }</button> }
    };
    let items = list.iter().map(|visit| {
        let correction = Correction::of(visit.corrected_by, visit.amends);
        let mark = match correction {
            Correction::None => html! {},
            Correction::CorrectedBy(later) => html! {
                <><span class="tag corrected">{ Text::Corrected.get(language) }</span>{ jump(later, Text::SeeCorrection, "see-correction") }</>
            },
            Correction::Corrects(earlier) => html! {
                <><span class="tag correction">{ Text::CorrectionOf.get(language) }</span>{ jump(earlier, Text::SeeOriginal, "see-original") }</>
            },
        };
        let amend_button = matches!(correction, Correction::None | Correction::Corrects(_)).then(|| {
            let (on_amend, chosen) = (props.on_amend.clone(), visit.clone());
            let onclick = Callback::from(move |_: MouseEvent| on_amend.emit(chosen.clone()));
            html! {
                <button type="button" id={format!("amend-{}", visit.id)} class="amend" {onclick}>
                    { Text::Amend.get(language) }
                </button>
            }
        });
        let line = |name: &str, value: Option<&str>| {
            value.filter(|v| !v.is_empty()).map(|v| {
                html! { <p class="visit-line"><span class="field-name">{ spec_label(name) }</span>{ colon(language) }{ summary_text(v) }</p> }
            })
        };
        let class = classes!("visit", matches!(correction, Correction::CorrectedBy(_)).then_some("is-corrected"));
        html! {
            <li id={visit_item_id(visit.id)} {class} tabindex="-1">
                <div class="visit-head">
                    <strong class="visit-date">{ visit.visited_on.map(|d| d.to_string()).unwrap_or_default() }</strong>
                    { visit.worker_name.as_ref().map(|w| html! { <span class="muted">{ format!(" · {w}") }</span> }).unwrap_or_default() }
                    if visit.follow_up_needed { <span class="tag follow-up">{ Text::FollowUpNeeded.get(language) }</span> }
                    { " " }{ mark }
                </div>
                { line(field::visit::PERSONS_SEEN, visit.persons_seen.as_deref()).unwrap_or_default() }
                { line(field::visit::OBSERVATIONS, Some(&visit.observations)).unwrap_or_default() }
                { line(field::visit::NEEDS_FOUND, visit.needs_found.as_deref()).unwrap_or_default() }
                { amend_button.unwrap_or_default() }
            </li>
        }
    });
    html! { <ol id="visit-list" class="visits">{ for items }</ol> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{FormState, Input};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("a date")
    }

    fn visit() -> VisitView {
        VisitView {
            id: Uuid::from_u128(1),
            recipient_id: Uuid::from_u128(2),
            recipient_name: "王测试".into(),
            village_name: None,
            worker_name: None,
            visited_on: Some(day(3)),
            persons_seen: Some("本人".into()),
            observations: "身体尚可".into(),
            needs_found: None,
            follow_up_needed: true,
            amends: None,
            corrected_by: None,
        }
    }

    #[test]
    fn the_visit_form_is_the_visit_spec() {
        assert_eq!(visit_fields().len(), VISIT_FIELDS.len());
        assert!(VISIT_FIELDS.contains(&FIRST_TYPED_FIELD));
    }

    /// A new visit starts on today's date and, once observations are typed, sends them.
    #[test]
    fn a_new_visit_starts_today() {
        let mut form = FormState::with_initial(&visit_fields(), day(5), &new_visit_values(day(5)));
        assert_eq!(form.input(field::visit::VISITED_ON), Some(&Input::Text("2026-12-05".into())));
        assert_eq!(form.input(field::visit::FOLLOW_UP_NEEDED), Some(&Input::Flag(false)));
        form.set(field::visit::OBSERVATIONS, Input::Text("老人独居，身体尚可".into()));
        let draft = visit_draft(&form.submit().expect("valid"));
        assert_eq!(
            draft,
            VisitDraft {
                visited_on: Some(day(5)),
                persons_seen: String::new(),
                observations: "老人独居，身体尚可".into(),
                needs_found: String::new(),
                follow_up_needed: false,
            }
        );
    }

    /// A correction starts from the visit as recorded, and saved unchanged sends the same.
    #[test]
    fn a_correction_starts_from_the_visit() {
        let original = visit();
        let mut form = FormState::with_initial(&visit_fields(), day(5), &amend_values(&original));
        assert_eq!(form.input(field::visit::OBSERVATIONS), Some(&Input::Text("身体尚可".into())));
        assert_eq!(form.input(field::visit::NEEDS_FOUND), Some(&Input::Text(String::new())));
        let draft = visit_draft(&form.submit().expect("valid"));
        assert_eq!(draft.visited_on, Some(day(3)));
        assert_eq!(draft.persons_seen, "本人");
        assert!(draft.follow_up_needed);
    }

    /// Odd input gets a field message, never a panic, and is kept as typed.
    #[test]
    fn odd_visit_input_is_refused_at_its_field() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (field::visit::VISITED_ON, "２０２６-１２-０１", Some("date")),
            (field::visit::VISITED_ON, "2026-12-06", Some("date_in_future")),
            (field::visit::VISITED_ON, "😀", Some("date")),
            (field::visit::OBSERVATIONS, "😀", None),
            (field::visit::PERSONS_SEEN, &"人".repeat(101), Some("too_long")),
            (field::visit::NEEDS_FOUND, &"需".repeat(10_000), Some("too_long")),
        ];
        for (field, typed, code) in cases {
            let mut form = FormState::with_initial(&visit_fields(), day(5), &new_visit_values(day(5)));
            form.set(field, Input::Text((*typed).into()));
            form.leave(field);
            assert_eq!(form.error(field).map(|e| e.code), code.map(String::from), "{field} {typed}");
            assert_eq!(form.input(field), Some(&Input::Text((*typed).into())));
        }
    }

    #[test]
    fn each_saved_line_reads_differently() {
        let zh = saved_line(Text::VisitSaved, "王测试", Some(day(5)), 2, Language::Zh);
        assert_eq!(zh, "已保存走访：王测试 2026-12-05（本次第 2 条）");
        let en = saved_line(Text::VisitSaved, "王测试", Some(day(5)), 3, Language::En);
        assert_eq!(en, "Visit saved: 王测试, 2026-12-05 (3 this session)");
    }

    #[test]
    fn a_missing_head_is_explained() {
        let error = CommandError::new(codes::NO_HOUSEHOLD_HEAD, "x", "x");
        let shown = explain_error(error);
        assert_eq!(shown.code, codes::NO_HOUSEHOLD_HEAD);
        assert_eq!(shown.message_zh, Text::NoHead.get(Language::Zh));
        let other = CommandError::new(codes::INTERNAL, "a", "b");
        assert_eq!(explain_error(other.clone()), other);
    }
}
