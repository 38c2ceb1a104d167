//! Sign-in: username and password. The first time on this computer the shell signs in with the
//! sync server (whose address can be changed here); after that the local database opens offline.

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::app::{Action, use_app};
use crate::components::field::TextField;
use crate::dto::{CommandError, SignInRequest, codes};
use crate::i18n::Text;

#[function_component(SignInPage)]
pub fn sign_in_page() -> Html {
    let app = use_app();
    let language = app.language;
    // The fields live in a mutable cell so that Enter right after the last keystroke submits
    // what was typed, not what the last render saw.
    let fields = use_mut_ref(SignInRequest::default);
    let rerender = use_force_update();
    let local_users = use_state(Vec::<String>::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<CommandError>);
    {
        let (fields, rerender, local_users) = (fields.clone(), rerender.clone(), local_users.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(defaults) = api::sign_in_defaults().await {
                    local_users.set(defaults.local_users);
                    fields.borrow_mut().server_url = Some(defaults.server_url);
                    rerender.force_update();
                }
            });
        });
    }
    let onsubmit = {
        let fields = fields.clone();
        let (busy, error, app) = (busy.clone(), error.clone(), app.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let request = {
                let f = fields.borrow();
                SignInRequest {
                    username: f.username.trim().to_string(),
                    password: f.password.clone(),
                    server_url: f.server_url.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
                }
            };
            let (busy, error, app) = (busy.clone(), error.clone(), app.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match api::sign_in(&request).await {
                    Ok(user) => app.dispatch(Action::SignedIn(user)),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
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
    let (credentials_error, general_error) = match &*error {
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
                { for (!local_users.is_empty()).then(|| html! {
                    <p id="local-users" class="hint">{ Text::LocalUsers.get(language) }{ local_users.join(", ") }</p>
                }) }
                { for general_error.map(|message| html! {
                    <div id="sign-in-error" class="error form-error" role="alert">{ message }</div>
                }) }
                <div class="actions">
                    <button type="submit" id="sign-in" class="primary" disabled={*busy}>
                        { if *busy { Text::SigningIn.get(language) } else { Text::SignInButton.get(language) } }
                    </button>
                </div>
            </form>
        </section>
    }
}
