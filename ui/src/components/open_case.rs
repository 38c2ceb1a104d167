//! The "open a case" (开案) button, for a person's file: it opens a case for the person at
//! 识别对象, assigned to the signed-in worker, and goes to the new case's page. Shown only to the
//! roles that open cases. Ids: `#open-case`, its error `#open-case-error`.

use contract::command::{OpenCase, OpenCaseArgs};
use domain::org::RoleKind;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::{Notice, go_with_notice, use_app};
use crate::hooks::use_action;
use crate::i18n::Text;
use crate::route::Route;

/// Whether a role opens cases (for themselves): social workers and deputy heads. Mirrors
/// `domain::policy::authorize` for creating a case in the user's own station.
pub fn opens_cases(role: RoleKind) -> bool {
    matches!(role, RoleKind::SocialWorker | RoleKind::DeputyHead)
}

#[derive(Properties, PartialEq)]
pub struct OpenCaseButtonProps {
    pub recipient_id: Uuid,
    /// The person's name, for the notice on the case page.
    #[prop_or_default]
    pub recipient_name: AttrValue,
}

#[function_component(OpenCaseButton)]
pub fn open_case_button(props: &OpenCaseButtonProps) -> Html {
    let app = use_app();
    let language = app.language;
    let open = use_action::<OpenCase>();
    if !app.user.as_ref().is_some_and(|u| opens_cases(u.role)) {
        return Html::default();
    }
    let onclick = {
        let (open, app, recipient_id, name) =
            (open.clone(), app.clone(), props.recipient_id, props.recipient_name.clone());
        Callback::from(move |_: MouseEvent| {
            let (app, name) = (app.clone(), name.clone());
            open.run(OpenCaseArgs { recipient_id, opened_on: None }, move |opened| {
                let notice = Notice {
                    zh: format!("{}{}", Text::CaseOpened.get(contract::Language::Zh), name),
                    en: format!("{}{}", Text::CaseOpened.get(contract::Language::En), name),
                };
                go_with_notice(&app, Route::Case { id: opened.case_id }, notice);
            });
        })
    };
    html! {
        <span class="open-case">
            <button type="button" id="open-case" class="primary" disabled={open.busy} {onclick}
                aria-describedby={open.error.as_ref().map(|_| "open-case-error")}>
                { if open.busy { Text::CaseOpening.get(language) } else { Text::CaseOpenNew.get(language) } }
            </button>
            { open.error.as_ref().map(|e| html! {
                <span id="open-case-error" class="error" role="alert">{ e.message(language).to_string() }</span>
            }).unwrap_or_default() }
        </span>
    }
}

#[cfg(test)]
mod tests {
    use domain::Labelled;
    use domain::entity::EntityKind;
    use domain::org::Role;
    use domain::policy::{Action, Actor, Target, authorize};

    use super::*;

    /// The button shows to exactly the roles the policy lets open a case of their own.
    #[test]
    fn the_roles_that_open_cases_are_the_policys() {
        let station = Uuid::from_u128(1);
        let me = Uuid::from_u128(2);
        for role in RoleKind::ALL {
            let policy_role = match role {
                RoleKind::SocialWorker => Role::SocialWorker { station_id: station },
                RoleKind::DeputyHead => Role::DeputyHead { station_id: station },
                RoleKind::Supervisor => Role::Supervisor { station_ids: vec![station] },
                RoleKind::Admin => Role::Admin,
            };
            let actor = Actor::new(me, Some(policy_role));
            let target = Target { kind: EntityKind::Case, station_id: Some(station), case_worker_id: Some(me) };
            assert_eq!(opens_cases(*role), authorize(&actor, Action::Create, &target).is_ok(), "{role:?}");
        }
    }
}
