//! The app's root: the shared state (language, signed-in user, current page) as a reducer in a
//! context, and the frame every page sits in (header, page, sync status bar).

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::components::header::Header;
use crate::components::status_bar::StatusBar;
use crate::dto::{CurrentUser, Language};
use crate::pages::add_recipient::AddRecipientPage;
use crate::pages::rejected::RejectedPage;
use crate::pages::roster::RosterPage;
use crate::pages::sign_in::SignInPage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    SignIn,
    Roster,
    AddRecipient,
    Rejected,
}

/// A message for the user shown once above the next page, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub zh: String,
    pub en: String,
}

impl Notice {
    pub fn text(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    pub language: Language,
    pub user: Option<CurrentUser>,
    pub page: Page,
    pub notice: Option<Notice>,
    /// Follows the shell's count of syncs that changed local data, so pages showing data reload.
    pub data_version: u64,
}

impl Default for AppState {
    fn default() -> Self {
        Self { language: Language::Zh, user: None, page: Page::SignIn, notice: None, data_version: 0 }
    }
}

pub enum Action {
    SetLanguage(Language),
    SignedIn(CurrentUser),
    SignedOut,
    Go(Page),
    /// Go to a page and show a notice above it.
    GoWithNotice(Page, Notice),
    DataVersion(u64),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetLanguage(language) => next.language = language,
            Action::SignedIn(user) => {
                next.user = Some(user);
                next.page = Page::Roster;
                next.notice = None;
            }
            Action::SignedOut => {
                next.user = None;
                next.page = Page::SignIn;
                next.notice = None;
            }
            Action::Go(page) => {
                next.page = if next.user.is_some() { page } else { Page::SignIn };
                next.notice = None;
            }
            Action::GoWithNotice(page, notice) => {
                next.page = if next.user.is_some() { page } else { Page::SignIn };
                next.notice = Some(notice);
            }
            Action::DataVersion(version) => {
                if version == next.data_version {
                    return self;
                }
                next.data_version = version;
            }
        }
        Rc::new(next)
    }
}

pub type AppContext = UseReducerHandle<AppState>;

/// The app state from any component under [`App`].
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("use_app is only called under <App>")
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(AppState::default);
    {
        // On start (and on a reload of the webview), pick up the remembered language and a session
        // that is still open in the shell.
        let state = state.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(language) = api::get_language().await {
                    state.dispatch(Action::SetLanguage(language));
                }
                if let Ok(Some(user)) = api::current_user().await {
                    state.dispatch(Action::SignedIn(user));
                }
            });
        });
    }
    {
        let language = state.language;
        use_effect_with(language, move |language| {
            if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
                let tag = match language {
                    Language::Zh => "zh-CN",
                    Language::En => "en",
                };
                let _ = root.set_attribute("lang", tag);
            }
        });
    }
    let page = match state.page {
        Page::SignIn => html! { <SignInPage /> },
        Page::Roster => html! { <RosterPage /> },
        Page::AddRecipient => html! { <AddRecipientPage /> },
        Page::Rejected => html! { <RejectedPage /> },
    };
    let notice = state.notice.as_ref().map(|n| {
        html! { <div id="notice" class="notice" role="status">{ n.text(state.language) }</div> }
    });
    html! {
        <ContextProvider<AppContext> context={state.clone()}>
            <div class="frame">
                <Header />
                <main id="main" class="page">
                    { for notice }
                    { page }
                </main>
                <StatusBar />
            </div>
        </ContextProvider<AppContext>>
    }
}
