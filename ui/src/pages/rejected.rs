//! The changes the server refused, with its reasons. They were undone locally; this list is
//! where the worker learns what to redo and why.

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::app::{Action, Page, use_app};
use crate::dto::{CommandError, Language, RejectedChangeView};
use crate::i18n::Text;
use crate::time::local_date_time;

#[function_component(RejectedPage)]
pub fn rejected_page() -> Html {
    let app = use_app();
    let language = app.language;
    let list = use_state(|| None::<Result<Vec<RejectedChangeView>, CommandError>>);
    {
        let list = list.clone();
        use_effect_with(app.data_version, move |_| {
            spawn_local(async move { list.set(Some(api::rejected_changes().await)) });
        });
    }
    let back = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Go(Page::Roster)))
    };
    let body = match &*list {
        None => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        Some(Err(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        Some(Ok(rows)) if rows.is_empty() => {
            html! { <p class="muted" id="rejected-empty">{ Text::NoRejected.get(language) }</p> }
        }
        Some(Ok(rows)) => html! {
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
