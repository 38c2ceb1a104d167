//! The standards view (`#/standards`): each station the user sees, and each of its workers,
//! against the station's chosen standards as of today: every rule with what is done, what is due
//! by today (pro rata), what the period asks, and the standing in words (已达标 / 进度正常 / 落后),
//! not only colour. The deputy head chooses the station's standards and sets each worker's
//! qualification here.
//!
//! Ids: `#standards-page`, per station `#standards-<station id>` with `#standard-set-<station id>`
//! and `#save-standard-set-<station id>` (the deputy head's), `#station-rows-<station id>`, per
//! worker `#worker-rows-<user id>` and `#qualification-<user id>`, `#save-qualification-<user
//! id>`; each row `…-row-<n>` with its standing in `#…-row-<n>-standing`.

use contract::command::{
    NoArgs, SetQualification, SetQualificationArgs, SetStandardSet, SetStandardSetArgs,
    StandardsView as GetStandardsView,
};
use contract::{Language, StandingRow, StationStandards, WorkerStandings};
use domain::Labelled;
use domain::standards::{Measure, StandardSet, Standing};
use domain::workforce::Qualification;
use uuid::Uuid;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};

/// Minutes as hours with one decimal (`12.5 小时`, `12.5 h`), computed in whole numbers.
pub fn hours_text(minutes: u64, language: Language) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    let hours =
        if tenths.is_multiple_of(10) { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) };
    match language {
        Language::Zh => format!("{hours} 小时"),
        Language::En => format!("{hours} h"),
    }
}

/// A share in per mille as a percentage with one decimal.
pub fn share_text(per_mille: u64, _language: Language) -> String {
    if per_mille.is_multiple_of(10) {
        format!("{} %", per_mille / 10)
    } else {
        format!("{}.{} %", per_mille / 10, per_mille % 10)
    }
}

/// An amount of a rule's measure, in words.
pub fn amount_text(measure: Measure, amount: u64, language: Language) -> String {
    match measure {
        Measure::SupervisionSessions => format!("{amount} {}", Text::Sessions.get(language)),
        Measure::ProfessionalShare => share_text(amount, language),
        _ => hours_text(amount, language),
    }
}

/// A standing in words, in the UI's language.
pub fn standing_text(standing: Standing, language: Language) -> &'static str {
    match language {
        Language::Zh => standing.zh(),
        Language::En => standing.en(),
    }
}

fn standing_class(standing: Standing) -> &'static str {
    match standing {
        Standing::Met => "standing-met",
        Standing::OnTrack => "standing-on-track",
        Standing::Behind => "standing-behind",
    }
}

#[function_component(StandardsPageView)]
pub fn standards_page() -> Html {
    let app = use_app();
    let language = app.language;
    let round = use_state(|| 0_u32);
    let view = use_command::<GetStandardsView, _>(NoArgs {}, (app.data_version, *round));
    let reload = {
        let round = round.clone();
        Callback::from(move |()| round.set(*round + 1))
    };
    let body = match (view.data(), view.error()) {
        (Some(v), _) => html! {
            { for v.stations.iter().map(|s| html! { <StationSection key={s.station.id.to_string()} station={s.clone()} on_saved={reload.clone()} /> }) }
        },
        (None, Some(e)) => html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> },
        (None, None) => Html::default(),
    };
    html! {
        <article id="standards-page" aria-labelledby="standards-title">
            <h1 id="standards-title">{ Text::StandardsTitle.get(language) }</h1>
            { view.data().map(|v| html! { <p class="muted">{ v.today.to_string() }</p> }).unwrap_or_default() }
            { body }
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct StationProps {
    station: StationStandards,
    on_saved: Callback<()>,
}

#[function_component(StationSection)]
fn station_section(props: &StationProps) -> Html {
    let app = use_app();
    let language = app.language;
    let s = &props.station;
    let id = s.station.id;
    let chosen = use_state(|| s.standard_set);
    let action = use_action::<SetStandardSet>();
    let on_change = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            chosen.set(StandardSet::parse(&value));
        })
    };
    let on_submit = {
        let (chosen, action, done) = (chosen.clone(), action.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let done = done.clone();
            action.run(SetStandardSetArgs { station_id: id, standard_set: *chosen }, move |()| done.emit(()));
        })
    };
    let set_line = html! {
        <p>
            { format!("{}：", Text::StandardSetLabel.get(language)) }
            <strong id={format!("standard-set-name-{id}")}>
                { s.standard_set.map_or(Text::NoStandardSet.get(language), |set| label(set, language)) }
            </strong>
        </p>
    };
    html! {
        <section id={format!("standards-{id}")} class="card" aria-labelledby={format!("standards-title-{id}")}>
            <h2 id={format!("standards-title-{id}")}>{ &s.station.name }</h2>
            { set_line }
            if s.may_set_standard_set {
                <form class="inline-form" onsubmit={on_submit}>
                    <label for={format!("standard-set-{id}")}>{ Text::StandardSetLabel.get(language) }</label>
                    <select id={format!("standard-set-{id}")} onchange={on_change}>
                        <option value="" selected={chosen.is_none()}>{ Text::NoStandardSet.get(language) }</option>
                        { for StandardSet::ALL.iter().map(|set| html! {
                            <option value={set.as_str()} selected={*chosen == Some(*set)}>{ label(*set, language) }</option>
                        }) }
                    </select>
                    <button type="submit" id={format!("save-standard-set-{id}")} disabled={action.busy}>{ Text::SaveChoice.get(language) }</button>
                    { action.error.as_ref().map(|e| html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> }).unwrap_or_default() }
                </form>
            }
            if s.standard_set.is_none() {
                <p id={format!("standards-not-chosen-{id}")} class="muted">{ Text::StandardsNotChosen.get(language) }</p>
            } else {
                <h3>{ Text::StationRules.get(language) }</h3>
                { rows_table(&format!("station-rows-{id}"), &s.station_rows, language) }
            }
            { for s.workers.iter().map(|w| html! {
                <WorkerSection key={w.worker.id.to_string()} worker={w.clone()} may_set={s.may_set_qualification}
                    chosen={s.standard_set.is_some()} on_saved={props.on_saved.clone()} />
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct WorkerProps {
    worker: WorkerStandings,
    may_set: bool,
    chosen: bool,
    on_saved: Callback<()>,
}

#[function_component(WorkerSection)]
fn worker_section(props: &WorkerProps) -> Html {
    let app = use_app();
    let language = app.language;
    let w = &props.worker;
    let id: Uuid = w.worker.id;
    let chosen = use_state(|| w.qualification);
    let action = use_action::<SetQualification>();
    let on_change = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            chosen.set(Qualification::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()));
        })
    };
    let on_submit = {
        let (chosen, action, done) = (chosen.clone(), action.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let done = done.clone();
            action.run(SetQualificationArgs { user_id: id, qualification: *chosen }, move |()| done.emit(()));
        })
    };
    let qualification = w.qualification.map_or(Text::NoQualification.get(language), |q| label(q, language));
    html! {
        <div class="worker-standings">
            <h3>{ format!("{}（{}：{}）", w.worker.name, Text::Qualification.get(language), qualification) }</h3>
            if props.may_set {
                <form class="inline-form" onsubmit={on_submit}>
                    <label for={format!("qualification-{id}")}>{ Text::Qualification.get(language) }</label>
                    <select id={format!("qualification-{id}")} onchange={on_change}>
                        <option value="" selected={chosen.is_none()}>{ Text::NoQualification.get(language) }</option>
                        { for Qualification::ALL.iter().map(|q| html! {
                            <option value={q.as_str()} selected={*chosen == Some(*q)}>{ label(*q, language) }</option>
                        }) }
                    </select>
                    <button type="submit" id={format!("save-qualification-{id}")} disabled={action.busy}>{ Text::SaveChoice.get(language) }</button>
                    { action.error.as_ref().map(|e| html! { <p class="error" role="alert">{ e.message(language).to_string() }</p> }).unwrap_or_default() }
                </form>
            }
            if props.chosen {
                { rows_table(&format!("worker-rows-{id}"), &w.rows, language) }
            }
        </div>
    }
}

fn rows_table(id: &str, rows: &[StandingRow], language: Language) -> Html {
    html! {
        <table id={id.to_string()} class="table standings">
            <thead><tr>
                <th>{ Text::ColumnRule.get(language) }</th>
                <th>{ Text::ColumnAchieved.get(language) }</th>
                <th>{ Text::ColumnDueByNow.get(language) }</th>
                <th>{ Text::ColumnRequired.get(language) }</th>
                <th>{ Text::ColumnStanding.get(language) }</th>
            </tr></thead>
            <tbody>
                { for rows.iter().enumerate().map(|(n, r)| html! {
                    <tr id={format!("{id}-row-{n}")} class={standing_class(r.standing)}>
                        <td>{ match language { Language::Zh => r.rule_zh.clone(), Language::En => r.rule_en.clone() } }</td>
                        <td>{ amount_text(r.measure, r.achieved, language) }</td>
                        <td>{ amount_text(r.measure, r.due_by_now, language) }</td>
                        <td>{ amount_text(r.measure, r.required, language) }</td>
                        <td id={format!("{id}-row-{n}-standing")}><strong>{ standing_text(r.standing, language) }</strong></td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_read_as_hours_with_one_decimal() {
        let cases = [(0, "0 小时"), (60, "1 小时"), (90, "1.5 小时"), (960, "16 小时"), (100, "1.7 小时")];
        for (minutes, text) in cases {
            assert_eq!(hours_text(minutes, Language::Zh), text);
        }
        assert_eq!(hours_text(750, Language::En), "12.5 h");
    }

    #[test]
    fn amounts_read_in_the_measures_unit() {
        assert_eq!(amount_text(Measure::SupervisionSessions, 1, Language::Zh), "1 次");
        assert_eq!(amount_text(Measure::ProfessionalShare, 305, Language::Zh), "30.5 %");
        assert_eq!(amount_text(Measure::SupervisionMinutes, 480, Language::En), "8 h");
        assert_eq!(standing_text(Standing::OnTrack, Language::Zh), "进度正常");
    }
}
