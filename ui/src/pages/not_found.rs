//! An address that names no screen of the user's (a mistyped link, a screen of another role).

use yew::prelude::*;

use crate::app::use_app;
use crate::i18n::Text;
use crate::route::{Route, home_for};

#[function_component(NotFoundPage)]
pub fn not_found_page() -> Html {
    let app = use_app();
    let language = app.language;
    let home = app.user.as_ref().map_or(Route::Roster, |user| home_for(user.role));
    html! {
        <section aria-labelledby="not-found-title">
            <h1 id="not-found-title">{ Text::NotFoundTitle.get(language) }</h1>
            <p class="subtitle">{ Text::NotFoundHint.get(language) }</p>
            <p><a id="not-found-home" href={home.to_hash()}>{ Text::BackToStart.get(language) }</a></p>
        </section>
    }
}
