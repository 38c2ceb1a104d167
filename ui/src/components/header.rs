//! The header on every page: the app's name, navigation and the signed-in user once signed in,
//! and the language switch (always).

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::app::{Action, Page, use_app};
use crate::i18n::{Text, label};

#[function_component(Header)]
pub fn header() -> Html {
    let app = use_app();
    let language = app.language;
    let toggle_language = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let next = app.language.other();
            app.dispatch(Action::SetLanguage(next));
            // Remembered by the shell for the next start; the switch works even if that fails.
            spawn_local(async move {
                let _ = api::set_language(next).await;
            });
        })
    };
    let go = |page: Page| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Go(page)))
    };
    let sign_out = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let app = app.clone();
            spawn_local(async move {
                let _ = api::sign_out().await;
                app.dispatch(Action::SignedOut);
            });
        })
    };
    let nav = app.user.as_ref().map(|user| {
        let current = |page: Page| if app.page == page { Some("page") } else { None };
        html! {
            <>
                <nav class="nav" aria-label="main">
                    <button type="button" id="nav-roster" aria-current={current(Page::Roster)}
                        onclick={go(Page::Roster)}>{ Text::NavRoster.get(language) }</button>
                    <button type="button" id="nav-add-recipient" aria-current={current(Page::AddRecipient)}
                        onclick={go(Page::AddRecipient)}>{ Text::NavAddRecipient.get(language) }</button>
                </nav>
                <div class="user" id="current-user">
                    <span class="user-name">{ &user.display_name }</span>
                    <span class="user-role">{ label(user.role, language) }</span>
                    { for user.station_name.as_ref().map(|s| html! { <span class="user-station">{ s }</span> }) }
                </div>
                <button type="button" id="sign-out" class="link" onclick={sign_out}>{ Text::SignOut.get(language) }</button>
            </>
        }
    });
    html! {
        <header class="header">
            <div class="brand">
                <span class="brand-zh">{ "社工" }</span>
                <span class="brand-en">{ "Shegong" }</span>
            </div>
            { for nav }
            <button type="button" id="lang-toggle" class="lang" lang={language.other().code()}
                title={Text::SwitchLanguageHint.get(language)} onclick={toggle_language}>
                { Text::SwitchLanguage.get(language) }
            </button>
        </header>
    }
}
