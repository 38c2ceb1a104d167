//! Choosing a person on file by name or pinyin initials (the roster's own search): a search box
//! and up to ten matches, each with a button. Used where a referral needs its person.
//!
//! Ids (after `id_prefix`): `#person-search`, `#person-search-go`, `#person-<recipient id>` (each
//! match's button), `#person-no-match`.

use contract::command::{Roster, RosterArgs};
use contract::{NamedRef, RosterQuery, SearchKind};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{keep_typed, use_command};
use crate::i18n::Text;

/// The matches shown at most: the user narrows the search rather than scrolls.
const MATCHES: u32 = 10;

/// The element id of a match's button.
pub fn person_button_id(prefix: &str, recipient_id: uuid::Uuid) -> String {
    format!("{prefix}person-{recipient_id}")
}

/// The roster query of a search as typed: by name, the first page of matches.
pub fn person_query(text: &str) -> RosterQuery {
    RosterQuery {
        search_kind: Some(SearchKind::Name),
        search_text: text.trim().to_string(),
        ..RosterQuery::first_page(MATCHES)
    }
}

#[derive(Properties, PartialEq)]
pub struct PersonPickerProps {
    /// Put before every id, so that two pickers may share a page.
    #[prop_or_default]
    pub id_prefix: AttrValue,
    /// The text of each match's button.
    #[prop_or(Text::PersonChoose)]
    pub choose_text: Text,
    pub on_pick: Callback<NamedRef>,
    /// The pick is being sent: the buttons wait.
    #[prop_or_default]
    pub busy: bool,
}

#[function_component(PersonPicker)]
pub fn person_picker(props: &PersonPickerProps) -> Html {
    let app = use_app();
    let language = app.language;
    let typed = use_state(String::new);
    // The search runs when asked (Enter or the button), not at every key.
    let searched = use_state(|| Option::<String>::None);
    let prefix = props.id_prefix.to_string();
    let on_input = keep_typed(&typed);
    let on_submit = {
        let (typed, searched) = (typed.clone(), searched.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            searched.set(Some((*typed).clone()));
        })
    };
    html! {
        <div class="person-picker">
            <form class="filters" onsubmit={on_submit}>
                <div class="field inline">
                    <label for={format!("{prefix}person-search")}>{ Text::PersonSearch.get(language) }</label>
                    <input id={format!("{prefix}person-search")} type="search" value={(*typed).clone()} oninput={on_input} />
                </div>
                <button type="submit" id={format!("{prefix}person-search-go")}>{ Text::SearchButton.get(language) }</button>
            </form>
            if let Some(text) = (*searched).clone() {
                <Matches {prefix} {text} choose_text={props.choose_text} on_pick={props.on_pick.clone()} busy={props.busy} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct MatchesProps {
    prefix: String,
    text: String,
    choose_text: Text,
    on_pick: Callback<NamedRef>,
    busy: bool,
}

#[function_component(Matches)]
fn matches(props: &MatchesProps) -> Html {
    let app = use_app();
    let language = app.language;
    let found = use_command::<Roster, _>(RosterArgs { query: person_query(&props.text) }, props.text.clone());
    let prefix = props.prefix.clone();
    match (found.data(), found.error()) {
        (Some(page), _) if page.entries.is_empty() => html! {
            <p id={format!("{prefix}person-no-match")} class="muted">{ Text::PersonNoMatch.get(language) }</p>
        },
        (Some(page), _) => html! {
            <ul class="person-matches">
                { for page.entries.iter().map(|entry| {
                    let person = NamedRef { id: entry.id, name: entry.name.clone() };
                    let on_pick = props.on_pick.clone();
                    let onclick = Callback::from(move |_: MouseEvent| on_pick.emit(person.clone()));
                    html! {
                        <li>
                            <span>{ format!("{}（{} · {}）", entry.name, entry.village_name, entry.id_number_tail) }</span>
                            <button type="button" id={person_button_id(&prefix, entry.id)} disabled={props.busy} {onclick}>
                                { props.choose_text.get(language) }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
        (None, Some(error)) => html! { <p class="error" role="alert">{ error.message(language).to_string() }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
    }
}
