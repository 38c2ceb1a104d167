//! The header on every screen: the app's name, the navigation of the user's role and the user
//! once signed in, and the language switch (always).

use contract::command::{NoArgs, SetLanguage, SetLanguageArgs, SignOut};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::invoke;
use crate::app::{Action, use_app};
use crate::i18n::{Text, label};
use crate::route::{Route, nav_for, navigate};

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// The screen shown, marked in the navigation.
    pub route: Route,
}

#[function_component(Header)]
pub fn header(props: &HeaderProps) -> Html {
    let app = use_app();
    let language = app.language;
    let toggle_language = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let next = app.language.other();
            app.dispatch(Action::SetLanguage(next));
            // Remembered by the shell for the next start; the switch works even if that fails.
            spawn_local(async move {
                let _ = invoke::<SetLanguage>(&SetLanguageArgs { language: next }).await;
            });
        })
    };
    let sign_out = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let app = app.clone();
            spawn_local(async move {
                let _ = invoke::<SignOut>(&NoArgs {}).await;
                app.dispatch(Action::SignedOut);
                navigate(Route::Roster);
            });
        })
    };
    let nav = app.user.as_ref().map(|user| {
        // Links, so the keyboard reaches them with Tab and opens them with Enter.
        let links = nav_for(user.role).into_iter().map(|item| {
            let current = (item.route == props.route).then_some("page");
            html! {
                <a id={item.id} href={item.route.to_hash()} aria-current={current}>{ item.text.get(language) }</a>
            }
        });
        html! {
            <>
                <nav class="nav" aria-label="main">{ for links }</nav>
                <div class="user" id="current-user">
                    <span class="user-name">{ &user.display_name }</span>
                    <span class="user-role">{ label(user.role, language) }</span>
                    { user.station_name.as_ref().map(|s| html! { <span class="user-station">{ s }</span> }).unwrap_or_default() }
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
            { nav.unwrap_or_default() }
            <button type="button" id="lang-toggle" class="lang" lang={language.other().code()}
                title={Text::SwitchLanguageHint.get(language)} onclick={toggle_language}>
                { Text::SwitchLanguage.get(language) }
            </button>
        </header>
    }
}
