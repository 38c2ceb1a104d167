//! A worker's training and working time (`#/training`): their qualification (set by the
//! station's deputy head), this year's training hours by kind and share of professional service
//! in all working time, the two forms (a training taken; a stretch of working time by kind), and
//! the records, newest first.
//!
//! Ids: `#training-page`, `#qualification`, `#training-totals`, `#professional-share`,
//! `#training-form` (`#training-kind`, `#training-title`, `#training-trained_on`,
//! `#training-duration_minutes`, `#training-provider`, `#training-save`), `#work-form`
//! (`#work-worked_on`, `#work-kind`, `#work-duration_minutes`, `#work-notes`, `#work-save`),
//! `#training-saved`, `#training-records` (rows `#training-<id>`, each with `#edit-training-<id>`
//! and its `#training-edit-form`, see `supervision::edit`), `#work-times` (rows
//! `#work-<id>`).

use std::rc::Rc;

use contract::command::{
    NoArgs, SaveTrainingRecord, SaveWorkTime, SaveWorkforceRecordArgs, TrainingPage as GetTrainingPage,
};
use contract::{FieldValues, Language, TrainingPage};
use domain::entity::{EntityKind, FieldSpec};
use domain::field;
use serde_json::Value;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::spec_form::SpecForm;
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};
use crate::pages::standards::{hours_text, share_text};
use crate::pages::supervision::edit::{EditRecord, EditedRecord};
use crate::pages::supervision::{filled, form_fields};
use crate::time::today;

fn training_fields() -> Vec<&'static FieldSpec> {
    use field::training_record::*;
    form_fields(EntityKind::TrainingRecord, &[KIND, TITLE, TRAINED_ON, DURATION_MINUTES, PROVIDER])
}

fn work_fields() -> Vec<&'static FieldSpec> {
    use field::work_time::*;
    form_fields(EntityKind::WorkTime, &[WORKED_ON, KIND, DURATION_MINUTES, NOTES])
}

#[function_component(TrainingPageView)]
pub fn training_page() -> Html {
    let app = use_app();
    let language = app.language;
    let round = use_state(|| 0_u32);
    let saved = use_state(|| None::<Text>);
    let page = use_command::<GetTrainingPage, _>(NoArgs {}, (app.data_version, *round));
    let save_training = use_action::<SaveTrainingRecord>();
    let save_work = use_action::<SaveWorkTime>();
    let after_save = |text: Text| {
        let (round, saved) = (round.clone(), saved.clone());
        move |_| {
            saved.set(Some(text));
            round.set(*round + 1);
        }
    };
    let on_training = {
        let (action, done) = (save_training.clone(), after_save(Text::NewTrainingRecord));
        Callback::from(move |values: Values| {
            action.run(SaveWorkforceRecordArgs { values: filled(&values) }, done.clone())
        })
    };
    let on_work = {
        let (action, done) = (save_work.clone(), after_save(Text::NewWorkTime));
        Callback::from(move |values: Values| {
            action.run(SaveWorkforceRecordArgs { values: filled(&values) }, done.clone())
        })
    };
    let on_training_edited = {
        let (round, saved) = (round.clone(), saved.clone());
        Callback::from(move |()| {
            saved.set(Some(Text::TrainingRecordEdited));
            round.set(*round + 1);
        })
    };
    let dated = |name: &str| Rc::new(FieldValues::from([(name.to_string(), Value::from(today().to_string()))]));

    let Some(data) = page.data() else {
        return html! {
            <article id="training-page">
                <h1>{ Text::TrainingTitle.get(language) }</h1>
                { page.error().map(|e| html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> }).unwrap_or_default() }
            </article>
        };
    };
    html! {
        <article id="training-page" aria-labelledby="training-page-title">
            <h1 id="training-page-title">{ format!("{}：{}", Text::TrainingTitle.get(language), data.worker.name) }</h1>
            <p id="qualification">
                { format!("{}：", Text::Qualification.get(language)) }
                { data.qualification.map_or(Text::NoQualification.get(language), |q| label(q, language)) }
            </p>
            { totals(data, language) }
            <div role="status" aria-live="polite">
                { saved.map(|text| html! { <p id="training-saved" class="notice">{ format!("✓ {}", text.get(language)) }</p> }).unwrap_or_default() }
            </div>
            <div class="supervision-forms">
                <section class="card" aria-labelledby="training-form-title">
                    <h2 id="training-form-title">{ Text::NewTrainingRecord.get(language) }</h2>
                    <SpecForm key={format!("training-{}", *round)} id="training-form" id_prefix="training-"
                        fields={training_fields()} initial={dated(field::training_record::TRAINED_ON)}
                        onsubmit={on_training} busy={save_training.busy} error={save_training.error.clone()} />
                </section>
                <section class="card" aria-labelledby="work-form-title">
                    <h2 id="work-form-title">{ Text::NewWorkTime.get(language) }</h2>
                    <SpecForm key={format!("work-{}", *round)} id="work-form" id_prefix="work-" autofocus={false}
                        fields={work_fields()} initial={dated(field::work_time::WORKED_ON)}
                        onsubmit={on_work} busy={save_work.busy} error={save_work.error.clone()} />
                </section>
            </div>
            <section aria-labelledby="training-records-title">
                <h2 id="training-records-title">{ Text::TrainingRecords.get(language) }</h2>
                if data.training.is_empty() {
                    <p id="training-records" class="muted">{ Text::NoTrainingRecords.get(language) }</p>
                } else {
                    <ul id="training-records" class="plain-list">
                        { for data.training.iter().map(|t| html! {
                            <li id={format!("training-{}", t.id)}>
                                { format!("{} · {} · {} · {}", t.trained_on, label(t.kind, language), t.title, hours_text(u64::from(t.duration_minutes), language)) }
                                { t.provider.as_ref().map(|p| format!(" · {p}")).unwrap_or_default() }
                                { " " }
                                <EditRecord key={t.id.to_string()} record={EditedRecord::Training} id={t.id} fields={training_fields()}
                                    stored={t.fields.clone()} on_edited={on_training_edited.clone()} />
                            </li>
                        }) }
                    </ul>
                }
            </section>
            <section aria-labelledby="work-times-title">
                <h2 id="work-times-title">{ Text::WorkTimeRecords.get(language) }</h2>
                if data.work.is_empty() {
                    <p id="work-times" class="muted">{ Text::NoWorkTime.get(language) }</p>
                } else {
                    <ul id="work-times" class="plain-list">
                        { for data.work.iter().map(|w| html! {
                            <li id={format!("work-{}", w.id)}>
                                { format!("{} · {} · {}", w.worked_on, label(w.kind, language), hours_text(u64::from(w.duration_minutes), language)) }
                                { w.notes.as_ref().map(|n| format!(" · {n}")).unwrap_or_default() }
                            </li>
                        }) }
                    </ul>
                }
            </section>
        </article>
    }
}

fn totals(page: &TrainingPage, language: Language) -> Html {
    let share = (page.work_minutes_this_year > 0)
        .then(|| page.professional_minutes_this_year * 1000 / page.work_minutes_this_year);
    html! {
        <section id="training-totals" aria-label={Text::ThisYear.get(language)}>
            <p>
                <strong>{ format!("{}：", Text::ThisYear.get(language)) }</strong>
                { for page.training_minutes_this_year.iter().map(|(kind, minutes)| html! {
                    <span class="tag">{ format!("{} {}", label(*kind, language), hours_text(*minutes, language)) }</span>
                }) }
            </p>
            <p id="professional-share">
                { format!("{}：", Text::ProfessionalShare.get(language)) }
                { share.map_or_else(|| "—".to_string(), |s| share_text(s, language)) }
                { format!(" ({} / {})", hours_text(page.professional_minutes_this_year, language), hours_text(page.work_minutes_this_year, language)) }
            </p>
        </section>
    }
}
