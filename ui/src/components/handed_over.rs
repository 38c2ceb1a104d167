//! The changes this computer sent that the server refused because their case had been reassigned
//! to another worker meanwhile (`handed_over_changes`): each with the reason naming the new
//! worker, and its content as text to copy and send to them, so nothing recorded offline is lost.
//! Shows nothing when there are none, so any page may hold it (the refused-changes page).
//!
//! Ids: `#handed-over`, `#handed-over-<change id>`, `#handover-note-<change id>` (a read-only
//! text area: Tab to it, Ctrl+A, Ctrl+C).

use contract::Language;
use contract::command::{HandedOverChanges, NoArgs};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_command;
use crate::i18n::{Text, label};
use crate::route::Route;

#[function_component(HandedOver)]
pub fn handed_over() -> Html {
    let app = use_app();
    let language = app.language;
    let list = use_command::<HandedOverChanges, _>(NoArgs {}, app.data_version);
    let Some(changes) = list.data().filter(|l| !l.is_empty()) else { return Html::default() };
    let items = changes.iter().map(|change| {
        let (message, note) = match language {
            Language::Zh => (&change.message_zh, &change.note_zh),
            Language::En => (&change.message_en, &change.note_en),
        };
        let note_id = format!("handover-note-{}", change.change_id);
        html! {
            <li id={format!("handed-over-{}", change.change_id)} class="card wide">
                <p>
                    <strong>{ label(change.kind, language) }</strong>
                    if let Some(name) = &change.recipient_name { { format!(" · {name}") } }
                    if let Some(case_id) = change.case_id {
                        { " · " }<a href={Route::Case { id: case_id }.to_hash()}>{ label(domain::entity::EntityKind::Case, language) }</a>
                    }
                </p>
                <p class="error">{ message }</p>
                <label for={note_id.clone()}>{ Text::HandedOverNote.get(language) }</label>
                <textarea id={note_id} readonly=true rows="5" value={note.clone()} />
            </li>
        }
    });
    html! {
        <section id="handed-over" aria-labelledby="handed-over-title">
            <h2 id="handed-over-title">{ Text::HandedOverTitle.get(language) }</h2>
            <p class="muted">{ Text::HandedOverIntro.get(language) }</p>
            <ul class="plain">{ for items }</ul>
        </section>
    }
}
