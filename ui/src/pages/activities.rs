//! The station's activities (活动, `#/activities`): a month at a time (the previous and next month
//! a click away), each activity with its date, kind, title, place, length, the workers who ran
//! it and its participants (recipients by name, linked to their files, and the others counted),
//! and the month's totals. Workers and deputy heads record and edit activities: a [`SpecForm`]
//! over the activity's fields, the participants who are recipients picked by name or pinyin
//! initials ([`PersonPicker`]) beside it.
//!
//! Ids: `#activities-month`, `#month-previous`, `#month-next`, `#activities-totals`,
//! `#add-activity` → `#activity-form` (fields `#activity-<field>`, workers
//! `#activity-worker_id-<user id>`), its participants `#participants` (each
//! `#participant-<recipient id>` with `#remove-participant-<recipient id>`, the picker's ids after
//! `participant-`: `#participant-person-search`, `#participant-person-<recipient id>`);
//! `#activity-list` (rows `#activity-<id>`, `#edit-activity-<id>`), `#activities-empty`.

use std::collections::BTreeMap;
use std::rc::Rc;

use chrono::NaiveDate;
use contract::command::{
    ActivitiesOfMonth, ActivitiesOfMonthArgs, AddActivity, FieldsArgs, UpdateActivity, UpdateActivityArgs,
};
use contract::{ActivitiesMonth, ActivityView, FieldValues, Language, NamedRef};
use domain::activity::parse_month;
use domain::entity::{ACTIVITY, FieldSpec, field};
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::person_picker::PersonPicker;
use crate::components::spec_form::{Choice, ChoiceGroup, SpecForm};
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};
use crate::pages::recipient_file::load_failed;
use crate::route::{Route, writes_roster};
use crate::time::today;

/// The fields of the activity form: all but the station (the user's) and the recipients taking
/// part (picked by name beside the form).
pub fn activity_fields() -> Vec<&'static FieldSpec> {
    ACTIVITY.fields.iter().filter(|f| f.name != field::STATION_ID && f.name != field::activity::RECIPIENT_IDS).collect()
}

/// The choices of the form's lists: the station's workers and its active resources.
fn activity_choices(month: &ActivitiesMonth) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let group = |list: &[NamedRef]| {
        vec![ChoiceGroup {
            label: String::new(),
            choices: list.iter().map(|n| Choice { value: n.id.to_string(), label: n.name.clone() }).collect(),
        }]
    };
    Rc::new(BTreeMap::from([
        (field::activity::WORKER_IDS, group(&month.workers)),
        (field::activity::RESOURCE_IDS, group(&month.resources)),
    ]))
}

/// What a new activity's form starts from: today, run by the signed-in worker.
pub fn new_activity_values(today: NaiveDate, user_id: Option<Uuid>) -> FieldValues {
    let mut values = FieldValues::new();
    values.insert(field::activity::HELD_ON.into(), Value::from(today.to_string()));
    if let Some(user_id) = user_id {
        values.insert(field::activity::WORKER_IDS.into(), Value::from(vec![user_id.to_string()]));
    }
    values
}

/// The values the command sends: the form's, with the recipients picked beside it.
pub fn activity_values(values: &Values, participants: &[NamedRef]) -> FieldValues {
    let mut fields = values.field_values();
    let ids: Vec<String> = participants.iter().map(|p| p.id.to_string()).collect();
    fields.insert(field::activity::RECIPIENT_IDS.into(), Value::from(ids));
    fields
}

/// A month as its heading shows it: `2026年11月`, `November 2026`.
pub fn month_heading(month: &str, language: Language) -> String {
    match (parse_month(month), language) {
        (Some(first), Language::Zh) => first.format("%Y年%-m月").to_string(),
        (Some(first), Language::En) => first.format("%B %Y").to_string(),
        (None, _) => month.to_string(),
    }
}

/// Minutes as hours with one decimal: `90` → `1.5`.
pub fn hours_text(minutes: i64) -> String {
    let tenths = (minutes.saturating_mul(10) + 30) / 60;
    if tenths % 10 == 0 { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

/// Which form is open: none, a new activity, or the edit of one.
#[derive(Debug, Clone, PartialEq)]
enum Editing {
    None,
    New,
    Activity(Box<ActivityView>),
}

#[function_component(ActivitiesPage)]
pub fn activities_page() -> Html {
    let app = use_app();
    let language = app.language;
    let user = app.user.clone();
    let writes = user.as_ref().is_some_and(|u| writes_roster(u.role));
    let month = use_state_eq(|| None::<String>);
    let data = use_command::<ActivitiesOfMonth, _>(
        ActivitiesOfMonthArgs { month: (*month).clone() },
        ((*month).clone(), app.data_version),
    );
    let editing = use_state_eq(|| Editing::None);
    let Some(shown) = data.data() else {
        return match data.error() {
            Some(e) => load_failed(e, language, &data),
            None => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        };
    };
    let go = |to: String| {
        let (month, editing) = (month.clone(), editing.clone());
        Callback::from(move |_: MouseEvent| {
            editing.set(Editing::None);
            month.set(Some(to.clone()));
        })
    };
    let open = |to: Editing| {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(to.clone()))
    };
    let on_done = {
        let (editing, data) = (editing.clone(), data.clone());
        Callback::from(move |()| {
            editing.set(Editing::None);
            data.reload();
        })
    };
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(Editing::None))
    };
    let form = match &*editing {
        Editing::None => html! {},
        Editing::New => {
            let initial = new_activity_values(today(), user.as_ref().map(|u| u.user_id));
            html! { <ActivityForm key="new" activity={None::<Box<ActivityView>>} {initial} choices={activity_choices(shown)}
            on_done={on_done.clone()} on_cancel={on_cancel.clone()} /> }
        }
        Editing::Activity(activity) => html! {
            <ActivityForm key={activity.id.to_string()} activity={Some(activity.clone())} initial={activity.fields.clone()}
                choices={activity_choices(shown)} on_done={on_done.clone()} on_cancel={on_cancel.clone()} />
        },
    };
    let rows = shown.activities.iter().map(|a| {
        let participants: Vec<Html> = a
            .recipients
            .iter()
            .map(|r| html! { <a href={Route::Recipient { id: r.id }.to_hash()}>{ r.name.clone() }</a> })
            .collect();
        let others = (a.others_count > 0).then(|| {
            let (before, after) = (Text::ActivityOthers.get(language), Text::ActivityOthersAfter.get(language));
            format!(" + {before}{}{after}", a.others_count)
        });
        let workers: Vec<&str> = a.workers.iter().map(|w| w.name.as_str()).collect();
        html! {
            <tr id={format!("activity-{}", a.id)}>
                <td>{ a.held_on.to_string() }</td>
                <td>{ label(a.kind, language) }</td>
                <td>{ a.title.clone() }</td>
                <td>{ a.place.clone() }</td>
                <td class="number">{ hours_text(a.duration_minutes) }</td>
                <td>{ workers.join("、") }</td>
                <td>
                    <span class="participants-count">{ format!("{} {}", a.participants, Text::ActivityPeople.get(language)) }</span>
                    { " " }
                    { for participants.into_iter().flat_map(|p| [p, html! { " " }]) }
                    { others.unwrap_or_default() }
                </td>
                <td>
                    if writes {
                        <button type="button" id={format!("edit-activity-{}", a.id)} onclick={open(Editing::Activity(Box::new(a.clone())))}>
                            { Text::ActivityEdit.get(language) }
                        </button>
                    }
                </td>
            </tr>
        }
    });
    html! {
        <section class="page" aria-labelledby="activities-title">
            <h1 id="activities-title">{ Text::ActivitiesTitle.get(language) }</h1>
            <div class="filters">
                <button type="button" id="month-previous" onclick={go(shown.previous_month.clone())}>{ Text::MonthPrevious.get(language) }</button>
                <h2 id="activities-month">{ month_heading(&shown.month, language) }</h2>
                <button type="button" id="month-next" onclick={go(shown.next_month.clone())}>{ Text::MonthNext.get(language) }</button>
                if writes && *editing == Editing::None {
                    <button type="button" id="add-activity" onclick={open(Editing::New)}>{ Text::ActivityAdd.get(language) }</button>
                }
            </div>
            <p id="activities-totals">
                { format!(
                    "{}{} · {}{} · {}{}",
                    Text::ActivitiesCount.get(language), shown.activities.len(),
                    Text::ActivitiesParticipants.get(language), shown.total_participants,
                    Text::ActivitiesHours.get(language), hours_text(shown.total_minutes),
                ) }
            </p>
            { form }
            if shown.activities.is_empty() {
                <p class="muted" id="activities-empty">{ Text::ActivitiesEmpty.get(language) }</p>
            } else {
                <table id="activity-list" class="list">
                    <thead><tr>
                        <th>{ Text::ReferralStepDate.get(language) }</th>
                        <th>{ Text::ResourceColumnKind.get(language) }</th>
                        <th>{ Text::ActivityColumnTitle.get(language) }</th>
                        <th>{ Text::ActivityColumnPlace.get(language) }</th>
                        <th>{ Text::ActivityColumnHours.get(language) }</th>
                        <th>{ Text::ActivityColumnWorkers.get(language) }</th>
                        <th>{ Text::ActivityColumnParticipants.get(language) }</th>
                        <th></th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ActivityFormProps {
    /// The activity edited; `None` for a new one.
    activity: Option<Box<ActivityView>>,
    initial: FieldValues,
    choices: Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>>,
    on_done: Callback<()>,
    on_cancel: Callback<()>,
}

/// The activity's form and, beside it, the recipients taking part.
#[function_component(ActivityForm)]
fn activity_form(props: &ActivityFormProps) -> Html {
    let language = use_app().language;
    let participants = use_state(|| props.activity.as_ref().map(|a| a.recipients.clone()).unwrap_or_default());
    let initial = use_memo((), {
        let initial = props.initial.clone();
        move |_| initial
    });
    let add = use_action::<AddActivity>();
    let update = use_action::<UpdateActivity>();
    let on_pick = {
        let participants = participants.clone();
        Callback::from(move |person: NamedRef| {
            let mut list = (*participants).clone();
            if !list.iter().any(|p| p.id == person.id) {
                list.push(person);
            }
            participants.set(list);
        })
    };
    let onsubmit = {
        let (add, update, participants, on_done) =
            (add.clone(), update.clone(), participants.clone(), props.on_done.clone());
        let id = props.activity.as_ref().map(|a| a.id);
        Callback::from(move |values: Values| {
            let fields = activity_values(&values, &participants);
            let on_done = on_done.clone();
            match id {
                None => add.run(FieldsArgs { fields }, move |_| on_done.emit(())),
                Some(activity_id) => update.run(UpdateActivityArgs { activity_id, fields }, move |_| on_done.emit(())),
            }
        })
    };
    let chosen = participants.iter().map(|p| {
        let remove = {
            let (participants, id) = (participants.clone(), p.id);
            Callback::from(move |_: MouseEvent| {
                participants.set(participants.iter().filter(|q| q.id != id).cloned().collect());
            })
        };
        html! {
            <li id={format!("participant-{}", p.id)}>
                { p.name.clone() }
                <button type="button" id={format!("remove-participant-{}", p.id)} onclick={remove}>
                    { Text::ActivityRemoveParticipant.get(language) }
                </button>
            </li>
        }
    });
    let title = if props.activity.is_some() { Text::ActivityEdit } else { Text::ActivityAdd };
    html! {
        <div class="editor" aria-labelledby="activity-form-title">
            <h2 id="activity-form-title">{ title.get(language) }</h2>
            <div class="participants-box">
                <h3>{ Text::ActivityRecipients.get(language) }</h3>
                <ul id="participants">{ for chosen }</ul>
                <PersonPicker id_prefix="participant-" choose_text={Text::ActivityAddParticipant} {on_pick} />
            </div>
            <SpecForm id="activity-form" id_prefix="activity-" fields={activity_fields()} choices={props.choices.clone()}
                initial={initial.clone()} autofocus={false} onsubmit={onsubmit} oncancel={props.on_cancel.clone()}
                busy={add.busy || update.busy} error={add.error.clone().or_else(|| update.error.clone())} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_leaves_the_station_to_the_app_and_the_recipients_to_the_picker() {
        let names: Vec<&str> = activity_fields().iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "kind",
                "title",
                "held_on",
                "place",
                "duration_minutes",
                "worker_ids",
                "others_count",
                "resource_ids",
                "notes"
            ]
        );
    }

    #[test]
    fn a_new_activity_is_today_run_by_the_user_and_sends_the_recipients_picked() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let me = Uuid::from_u128(7);
        let values = new_activity_values(today, Some(me));
        assert_eq!(values[field::activity::HELD_ON], Value::from("2026-11-25"));
        assert_eq!(values[field::activity::WORKER_IDS], Value::from(vec![me.to_string()]));
        let picked = [NamedRef { id: Uuid::from_u128(9), name: "王秀英".into() }];
        let sent = activity_values(&Values::default(), &picked);
        assert_eq!(sent[field::activity::RECIPIENT_IDS], Value::from(vec![Uuid::from_u128(9).to_string()]));
    }

    #[test]
    fn months_and_hours_read_as_people_say_them() {
        assert_eq!(month_heading("2026-11", Language::Zh), "2026年11月");
        assert_eq!(month_heading("2026-03", Language::En), "March 2026");
        assert_eq!(month_heading("odd", Language::Zh), "odd");
        assert_eq!((hours_text(90), hours_text(120), hours_text(50)), ("1.5".into(), "2".into(), "0.8".into()));
    }
}
