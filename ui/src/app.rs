//! The app's root: the shared state (language, signed-in user, a notice, the data version) as a
//! reducer in a context, the screen for the current [`Route`], and the frame every screen sits in
//! (header with the role's navigation, screen, sync status bar).

use std::rc::Rc;

use contract::command::{CurrentUser as GetCurrentUser, GetLanguage, NoArgs};
use contract::{CurrentUser, Language};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::api::invoke;
use crate::components::header::Header;
use crate::components::status_bar::StatusBar;
use crate::pages::add_recipient::AddRecipientPage;
use crate::pages::board::BoardPage;
use crate::pages::case_page::CaseScreen;
use crate::pages::closures::ClosuresPage;
use crate::pages::conflicts::ConflictsScreen;
use crate::pages::household_file::HouseholdFilePage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::recipient_file::RecipientFilePage;
use crate::pages::record_visit::{RecordVisitPage, VisitTarget};
use crate::pages::rejected::RejectedPage;
use crate::pages::roster::RosterPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::waiting::WaitingPage;
use crate::route::{Route, home_for, navigate, use_route};

/// A message for the user shown once above the next screen, in both languages.
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppState {
    pub language: Language,
    pub user: Option<CurrentUser>,
    /// A notice and the screen it is shown above; it goes when the user goes elsewhere.
    pub notice: Option<(Route, Notice)>,
    /// Follows the shell's count of syncs that changed local data, so screens showing data reload.
    pub data_version: u64,
}

pub enum Action {
    SetLanguage(Language),
    SignedIn(CurrentUser),
    SignedOut,
    /// Shows a notice above a screen (see [`go_with_notice`]).
    Notice(Route, Notice),
    /// The user is on another screen than the notice's.
    LeftNotice,
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
                next.notice = None;
            }
            Action::SignedOut => {
                next.user = None;
                next.notice = None;
            }
            Action::Notice(route, notice) => next.notice = Some((route, notice)),
            Action::LeftNotice => {
                if next.notice.is_none() {
                    return self;
                }
                next.notice = None;
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

/// Goes to `route` and shows `notice` above it.
pub fn go_with_notice(app: &AppContext, route: Route, notice: Notice) {
    app.dispatch(Action::Notice(route, notice));
    navigate(route);
}

/// Signs the user in the UI and opens their role's start screen.
pub fn signed_in(app: &AppContext, user: CurrentUser) {
    let home = home_for(user.role);
    app.dispatch(Action::SignedIn(user));
    navigate(home);
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(AppState::default);
    let route = use_route();
    {
        // On start (and on a reload of the webview), pick up the remembered language and a session
        // that is still open in the shell; the screen stays the one in the URL.
        let state = state.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(language) = invoke::<GetLanguage>(&NoArgs {}).await {
                    state.dispatch(Action::SetLanguage(language));
                }
                if let Ok(Some(user)) = invoke::<GetCurrentUser>(&NoArgs {}).await {
                    state.dispatch(Action::SignedIn(user));
                }
            });
        });
    }
    {
        let state = state.clone();
        use_effect_with(route, move |route| {
            if state.notice.as_ref().is_some_and(|(shown_on, _)| shown_on != route) {
                state.dispatch(Action::LeftNotice);
            }
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
    let page = match &state.user {
        None => html! { <SignInPage /> },
        Some(user) => {
            let route = if route.allowed_for(user.role) { route } else { Route::NotFound };
            match route {
                Route::Roster => html! { <RosterPage /> },
                Route::Board => html! { <BoardPage /> },
                Route::AddRecipient => html! { <AddRecipientPage /> },
                Route::Rejected => html! { <RejectedPage /> },
                Route::Waiting => html! { <WaitingPage /> },
                Route::Conflicts => html! { <ConflictsScreen /> },
                Route::Recipient { id } => html! { <RecipientFilePage {id} /> },
                Route::Household { id } => html! { <HouseholdFilePage {id} /> },
                Route::RecordVisit { recipient_id } => {
                    html! { <RecordVisitPage target={VisitTarget::Recipient(recipient_id)} /> }
                }
                Route::RecordHouseholdVisit { household_id } => {
                    html! { <RecordVisitPage target={VisitTarget::Household(household_id)} /> }
                }
                Route::Case { id } => html! { <CaseScreen {id} /> },
                Route::Closures => html! { <ClosuresPage /> },
                Route::Referrals => html! { <crate::pages::referrals::ReferralsPage /> },
                Route::Supervision => html! { <crate::pages::supervision::SupervisionPageView /> },
                Route::Training => html! { <crate::pages::training::TrainingPageView /> },
                Route::Standards => html! { <crate::pages::standards::StandardsPageView /> },
                Route::Resources => html! { <crate::pages::resources::ResourcesPage /> },
                Route::Resource { id } => html! { <crate::pages::resources::ResourcePageView {id} /> },
                Route::Activities => html! { <crate::pages::activities::ActivitiesPage /> },
                Route::Reports => html! { <crate::pages::reports::ReportsPage /> },
                Route::NotFound => html! { <NotFoundPage /> },
            }
        }
    };
    let notice = state.notice.as_ref().filter(|(shown_on, _)| *shown_on == route).map(|(_, n)| {
        html! { <div id="notice" class="notice" role="status">{ n.text(state.language) }</div> }
    });
    html! {
        <ContextProvider<AppContext> context={state.clone()}>
            <div class="frame">
                <Header {route} />
                <main id="main" class="page">
                    { notice.unwrap_or_default() }
                    { page }
                </main>
                <StatusBar />
            </div>
        </ContextProvider<AppContext>>
    }
}
