//! Sign-in: username and password. The first time on this computer the shell signs in with the
//! sync server (whose address can be changed here); after that the local database opens offline.

use contract::command::{NoArgs, SignIn, SignInArgs, SignInDefaults};
use contract::{SignInRequest, codes};
use yew::prelude::*;

use crate::app::{signed_in, use_app};
use crate::components::field::TextField;
use crate::hooks::{use_action, use_command};
use crate::i18n::Text;

#[function_component(SignInPage)]
pub fn sign_in_page() -> Html {
    let app = use_app();
    let language = app.language;
    // The fields live in a mutable cell so that Enter right after the last keystroke submits
    // what was typed, not what the last render saw.
    let fields = use_mut_ref(SignInRequest::default);
    let rerender = use_force_update();
    let defaults = use_command::<SignInDefaults, _>(NoArgs {}, ());
    let local_users = defaults.data().map(|d| d.local_users.clone()).unwrap_or_default();
    {
        // The default server goes into its box once known, unless the user typed one already.
        let (fields, rerender) = (fields.clone(), rerender.clone());
        let server_url = defaults.data().map(|d| d.server_url.clone());
        use_effect_with(server_url, move |server_url| {
            if let Some(url) = server_url {
                fields.borrow_mut().server_url.get_or_insert_with(|| url.clone());
                rerender.force_update();
            }
        });
    }
    let sign_in = use_action::<SignIn>();
    let onsubmit = {
        let fields = fields.clone();
        let (sign_in, app) = (sign_in.clone(), app.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = {
                let f = fields.borrow();
                SignInRequest {
                    username: f.username.trim().to_string(),
                    password: f.password.clone(),
                    server_url: f.server_url.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
                }
            };
            let app = app.clone();
            sign_in.run(SignInArgs { request }, move |user| signed_in(&app, user));
        })
    };
    let set = |apply: fn(&mut SignInRequest, String)| {
        let (fields, rerender) = (fields.clone(), rerender.clone());
        Callback::from(move |value: String| {
            apply(&mut fields.borrow_mut(), value);
            rerender.force_update();
        })
    };
    // A wrong password is about both fields; other errors (server unreachable) about the server.
    let (credentials_error, general_error) = match &sign_in.error {
        Some(e) if e.code == codes::BAD_CREDENTIALS => (Some(AttrValue::from(e.message(language).to_string())), None),
        Some(e) => (None, Some(e.message(language).to_string())),
        None => (None, None),
    };
    let current = fields.borrow();
    html! {
        <section class="sign-in card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">{ Text::SignInTitle.get(language) }</h1>
            <p class="subtitle">{ Text::AppSubtitle.get(language) }</p>
            <form id="sign-in-form" {onsubmit} novalidate=true>
                <TextField name="username" label={Text::Username.get(language)} value={current.username.clone()}
                    oninput={set(|f, v| f.username = v)} autocomplete="username" required=true autofocus=true />
                <TextField name="password" label={Text::Password.get(language)} value={current.password.clone()}
                    oninput={set(|f, v| f.password = v)} input_type="password" autocomplete="current-password"
                    required=true error={credentials_error} />
                <TextField name="server-url" label={Text::ServerUrl.get(language)}
                    value={current.server_url.clone().unwrap_or_default()} oninput={set(|f, v| f.server_url = Some(v))}
                    hint={Text::ServerUrlHint.get(language)} input_type="url" />
                // One child each, shown or not, so the fields above are never re-created.
                if local_users.is_empty() {
                    <></>
                } else {
                    <p id="local-users" class="hint">{ Text::LocalUsers.get(language) }{ local_users.join(", ") }</p>
                }
                { general_error.map(|message| html! {
                    <div id="sign-in-error" class="error form-error" role="alert">{ message }</div>
                }).unwrap_or_default() }
                <div class="actions">
                    <button type="submit" id="sign-in" class="primary" disabled={sign_in.busy}>
                        { if sign_in.busy { Text::SigningIn.get(language) } else { Text::SignInButton.get(language) } }
                    </button>
                </div>
            </form>
        </section>
    }
}
