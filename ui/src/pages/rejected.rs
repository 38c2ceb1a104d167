//! The changes the server refused, with its reasons. They were undone locally; this list is
//! where the worker learns what to redo and why.

use contract::command::{NoArgs, RejectedChanges};
use contract::{Language, RejectedChangeView};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_command;
use crate::i18n::Text;
use crate::route::{Route, home_for, navigate};
use crate::time::local_date_time;

#[function_component(RejectedPage)]
pub fn rejected_page() -> Html {
    let app = use_app();
    let language = app.language;
    let list = use_command::<RejectedChanges, _>(NoArgs {}, app.data_version);
    let home = app.user.as_ref().map_or(Route::Roster, |user| home_for(user.role));
    let back = Callback::from(move |_: MouseEvent| navigate(home));
    let body = match (list.data(), list.error()) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(rows), None) if rows.is_empty() => {
            html! { <p class="muted" id="rejected-empty">{ Text::NoRejected.get(language) }</p> }
        }
        (Some(rows), None) => html! {
            <table id="rejected-list" class="roster">
                <thead><tr>
                    <th scope="col">{ Text::Record.get(language) }</th>
                    <th scope="col">{ Text::RecordedAt.get(language) }</th>
                    <th scope="col">{ Text::Reason.get(language) }</th>
                </tr></thead>
                <tbody>{ for rows.iter().map(|row| rejected_row(row, language)) }</tbody>
            </table>
        },
    };
    html! {
        <section aria-labelledby="rejected-title">
            <h1 id="rejected-title">{ Text::RejectedTitle.get(language) }</h1>
            <p class="subtitle">{ Text::RejectedHint.get(language) }</p>
            { body }
            <div class="actions"><button type="button" id="rejected-back" onclick={back}>{ Text::Back.get(language) }</button></div>
        </section>
    }
}

fn rejected_row(row: &RejectedChangeView, language: Language) -> Html {
    let kind = match language {
        Language::Zh => &row.entity_kind_zh,
        Language::En => &row.entity_kind_en,
    };
    let record = match &row.entity_label {
        Some(name) => format!("{kind}: {name}"),
        None => kind.clone(),
    };
    html! {
        <tr data-change={row.change_id.to_string()}>
            <td>{ record }</td>
            <td>{ row.recorded_at.map(|at| local_date_time(at, language)).unwrap_or_default() }</td>
            <td>{ row.reason.message(language) }</td>
        </tr>
    }
}
