//! Where the user is: a [`Route`] per screen, kept in the URL's hash (`#/recipients/<id>`), so
//! that it survives a reload of the webview and works under the app's custom-protocol URL (no
//! server resolves paths there). Which screens each role has ([`nav_for`], [`Route::allowed_for`]).
//!
//! Parsing and writing routes are pure functions, tested on the host; [`use_route`] and
//! [`navigate`] are the thin part that talks to the webview.

use domain::org::RoleKind;
use gloo_events::EventListener;
use uuid::Uuid;
use yew::prelude::*;

use crate::i18n::Text;

/// A screen of the app, with the ids it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// The roster (花名册): the home screen of everyone who sees recipients.
    Roster,
    /// The station's case board (挂图作战) with its counts: the deputy head's home screen.
    Board,
    AddRecipient,
    /// One person's file (档案).
    Recipient {
        id: Uuid,
    },
    /// A household's file (一户一档).
    Household {
        id: Uuid,
    },
    /// Recording home visits (入户走访) to one person, one after another.
    RecordVisit {
        recipient_id: Uuid,
    },
    /// Recording home visits to a household (under its head).
    RecordHouseholdVisit {
        household_id: Uuid,
    },
    /// A case and its pipeline.
    Case {
        id: Uuid,
    },
    /// The supervisor's queue of closure requests (结案审核).
    Closures,
    /// The station's referrals (转介), benefit applications among them.
    Referrals,
    /// Supervision plans and sessions (督导), the supervisor's.
    Supervision,
    /// A worker's training, working time and qualification (培训与工作时长).
    Training,
    /// Each station and worker against its standards (达标情况).
    Standards,
    /// The station's resource library (资源库).
    Resources,
    /// One resource, with the cases and recipients it helped.
    Resource {
        id: Uuid,
    },
    /// The station's activities (活动), month by month.
    Activities,
    /// The station's reports (统计报表): monthly, quarterly, yearly; previewed and exported.
    Reports,
    /// The changes the server refused.
    Rejected,
    /// The changes waiting to be sent, and those set aside.
    Waiting,
    /// The open conflicts and the probable duplicates.
    Conflicts,
    /// An address that names no screen.
    NotFound,
}

impl Route {
    /// Reads a route from a URL hash (`#/recipients/…`, with or without `#`). Anything unknown is
    /// [`Route::NotFound`]; an empty hash is the home screen.
    pub fn parse(hash: &str) -> Route {
        let path = hash.strip_prefix('#').unwrap_or(hash);
        // Query strings are not part of the route (filters may use them later).
        let path = path.split(['?', '&']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let id = |s: &str| Uuid::try_parse(s).ok();
        match segments.as_slice() {
            [] | ["roster"] => Route::Roster,
            ["board"] => Route::Board,
            ["recipients", "new"] => Route::AddRecipient,
            ["recipients", s] => id(s).map_or(Route::NotFound, |id| Route::Recipient { id }),
            ["households", s] => id(s).map_or(Route::NotFound, |id| Route::Household { id }),
            ["recipients", s, "visit"] => {
                id(s).map_or(Route::NotFound, |recipient_id| Route::RecordVisit { recipient_id })
            }
            ["households", s, "visit"] => {
                id(s).map_or(Route::NotFound, |household_id| Route::RecordHouseholdVisit { household_id })
            }
            ["cases", s] => id(s).map_or(Route::NotFound, |id| Route::Case { id }),
            ["closures"] => Route::Closures,
            ["referrals"] => Route::Referrals,
            ["supervision"] => Route::Supervision,
            ["training"] => Route::Training,
            ["standards"] => Route::Standards,
            ["resources"] => Route::Resources,
            ["resources", s] => id(s).map_or(Route::NotFound, |id| Route::Resource { id }),
            ["activities"] => Route::Activities,
            ["reports"] => Route::Reports,
            ["rejected"] => Route::Rejected,
            ["waiting"] => Route::Waiting,
            ["conflicts"] => Route::Conflicts,
            _ => Route::NotFound,
        }
    }

    /// The route as a URL hash, `#/…`; [`Route::parse`] reads it back.
    pub fn to_hash(self) -> String {
        match self {
            Route::Roster => "#/roster".into(),
            Route::Board => "#/board".into(),
            Route::AddRecipient => "#/recipients/new".into(),
            Route::Recipient { id } => format!("#/recipients/{id}"),
            Route::Household { id } => format!("#/households/{id}"),
            Route::RecordVisit { recipient_id } => format!("#/recipients/{recipient_id}/visit"),
            Route::RecordHouseholdVisit { household_id } => format!("#/households/{household_id}/visit"),
            Route::Case { id } => format!("#/cases/{id}"),
            Route::Closures => "#/closures".into(),
            Route::Referrals => "#/referrals".into(),
            Route::Supervision => "#/supervision".into(),
            Route::Training => "#/training".into(),
            Route::Standards => "#/standards".into(),
            Route::Resources => "#/resources".into(),
            Route::Resource { id } => format!("#/resources/{id}"),
            Route::Activities => "#/activities".into(),
            Route::Reports => "#/reports".into(),
            Route::Rejected => "#/rejected".into(),
            Route::Waiting => "#/waiting".into(),
            Route::Conflicts => "#/conflicts".into(),
            Route::NotFound => "#/not-found".into(),
        }
    }

    /// Whether a user with `role` has this screen (what they may do on it is for the policy to
    /// decide, in the shell and on the server). Mirrors `domain::policy::authorize`: everyone but
    /// an administrator reads the roster and files; workers and deputy heads add recipients.
    pub fn allowed_for(self, role: RoleKind) -> bool {
        let reads_roster = role != RoleKind::Admin;
        match self {
            // The board is the station's cases for whoever reassigns them (the deputy head).
            Route::Board => role == RoleKind::DeputyHead,
            Route::Roster | Route::Recipient { .. } | Route::Household { .. } | Route::Case { .. } => reads_roster,
            Route::AddRecipient | Route::RecordVisit { .. } | Route::RecordHouseholdVisit { .. } => writes_roster(role),
            // Only supervisors decide closures (`Action::DecideClosure`).
            Route::Closures => role == RoleKind::Supervisor,
            // Whoever records referrals in the station (`Action::Create` on a referral).
            Route::Referrals => writes_roster(role),
            // Who records supervision (`Action::Create` on a session: supervisors), their own
            // training and working time (workers and deputy heads), and who reads both.
            Route::Supervision => role == RoleKind::Supervisor,
            Route::Training => writes_roster(role),
            Route::Standards => reads_roster,
            // The library and the activities are the station's, read by whoever reads its roster
            // (`Action::Read`); adding and editing there is for `writes_roster`.
            Route::Resources | Route::Resource { .. } | Route::Activities => reads_roster,
            // Whoever reads every case of a station (`Action::Read` on its cases): its deputy
            // head and its supervisors; a worker sees only their own cases.
            Route::Reports => matches!(role, RoleKind::DeputyHead | RoleKind::Supervisor),
            // The status bar's pages: everyone signed in has an outbox and may meet conflicts.
            Route::Rejected | Route::Waiting | Route::Conflicts | Route::NotFound => true,
        }
    }
}

/// Whether a role adds and edits recipients, households and visits (the file pages offer their
/// edit buttons and the roster its "record visit" action only to these roles). Mirrors
/// `domain::policy::authorize` for the roster's entities in the user's own station.
pub fn writes_roster(role: RoleKind) -> bool {
    matches!(role, RoleKind::SocialWorker | RoleKind::DeputyHead)
}

/// Whether a role's laptop holds its stations whole, so that figures counted on it (reports,
/// charts, standards) are the stations' figures. A supervisor's laptop holds only the cases
/// waiting for their decision and what those need (supervisor-sized sync): its figures count
/// those alone, and the screens say so.
pub fn holds_whole_stations(role: RoleKind) -> bool {
    role != RoleKind::Supervisor
}

/// An entry of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavItem {
    pub route: Route,
    /// The element id (the end-to-end tests click these).
    pub id: &'static str,
    pub text: Text,
}

/// Every entry the navigation bar can have, in order; [`nav_for`] keeps a role's.
const NAV: &[NavItem] = &[
    NavItem { route: Route::Closures, id: "nav-closures", text: Text::NavClosures },
    NavItem { route: Route::Board, id: "nav-board", text: Text::NavBoard },
    NavItem { route: Route::Roster, id: "nav-roster", text: Text::NavRoster },
    NavItem { route: Route::AddRecipient, id: "nav-add-recipient", text: Text::NavAddRecipient },
    NavItem { route: Route::Referrals, id: "nav-referrals", text: Text::NavReferrals },
    NavItem { route: Route::Resources, id: "nav-resources", text: Text::NavResources },
    NavItem { route: Route::Activities, id: "nav-activities", text: Text::NavActivities },
    NavItem { route: Route::Supervision, id: "nav-supervision", text: Text::NavSupervision },
    NavItem { route: Route::Training, id: "nav-training", text: Text::NavTraining },
    NavItem { route: Route::Standards, id: "nav-standards", text: Text::NavStandards },
    NavItem { route: Route::Reports, id: "nav-reports", text: Text::NavReports },
];

/// The navigation bar of a role: the screens it has that are reached from the bar (screens of
/// one record, like a recipient's file, are reached from lists instead).
pub fn nav_for(role: RoleKind) -> Vec<NavItem> {
    NAV.iter().copied().filter(|item| item.route.allowed_for(role)).collect()
}

/// The screen a role starts on, and where a screen it does not have sends it.
pub fn home_for(role: RoleKind) -> Route {
    nav_for(role).first().map_or(Route::Rejected, |item| item.route)
}

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// The current route; the component re-renders when it changes (a link, the back key,
/// [`navigate`]).
#[hook]
pub fn use_route() -> Route {
    let route = use_state_eq(|| Route::parse(&current_hash()));
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "hashchange", move |_| route.set(Route::parse(&current_hash())))
            });
            move || drop(listener)
        });
    }
    *route
}

/// Goes to `route` (a new entry in the webview's history, so the back key returns).
pub fn navigate(route: Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&route.to_hash());
    }
}

#[cfg(test)]
mod tests {
    use domain::Labelled;

    use super::*;

    const ID: &str = "0190e3a1-7f5c-7c3e-9a4b-1f2e3d4c5b6a";

    fn id() -> Uuid {
        Uuid::try_parse(ID).expect("a uuid")
    }

    #[test]
    fn only_a_supervisors_figures_are_said_to_count_a_part_of_the_stations() {
        for role in RoleKind::ALL {
            let whole = holds_whole_stations(*role);
            assert_eq!(whole, *role != RoleKind::Supervisor, "{role:?}");
            // Every role that holds part of its stations and may open the reports is warned there.
            if Route::Reports.allowed_for(*role) && !whole {
                assert_eq!(*role, RoleKind::Supervisor);
            }
        }
    }

    #[test]
    fn hashes_read_as_routes() {
        let cases: &[(&str, Route)] = &[
            ("", Route::Roster),
            ("#", Route::Roster),
            ("#/", Route::Roster),
            ("#/roster", Route::Roster),
            ("#/roster/", Route::Roster),
            ("#/board", Route::Board),
            ("#/board/extra", Route::NotFound),
            ("#/recipients/new", Route::AddRecipient),
            (&format!("#/recipients/{ID}"), Route::Recipient { id: id() }),
            (&format!("#/recipients/{}", ID.to_uppercase()), Route::Recipient { id: id() }),
            (&format!("#/households/{ID}"), Route::Household { id: id() }),
            (&format!("#/recipients/{ID}/visit"), Route::RecordVisit { recipient_id: id() }),
            (&format!("#/households/{ID}/visit"), Route::RecordHouseholdVisit { household_id: id() }),
            (&format!("#/households/{ID}/visit/"), Route::RecordHouseholdVisit { household_id: id() }),
            ("#/recipients/new/visit", Route::NotFound),
            (&format!("#/recipients/{ID}/visits"), Route::NotFound),
            (&format!("#/cases/{ID}/visit"), Route::NotFound),
            (&format!("#/cases/{ID}?stage=Assess"), Route::Case { id: id() }),
            ("#/resources", Route::Resources),
            (&format!("#/resources/{ID}"), Route::Resource { id: id() }),
            ("#/resources/not-an-id", Route::NotFound),
            ("#/activities/", Route::Activities),
            ("#/activities/extra", Route::NotFound),
            ("#/reports", Route::Reports),
            ("#/reports/extra", Route::NotFound),
            ("#/rejected", Route::Rejected),
            ("#/waiting", Route::Waiting),
            ("#/conflicts/", Route::Conflicts),
            ("#/closures", Route::Closures),
            ("#/closures/extra", Route::NotFound),
            ("#/referrals", Route::Referrals),
            ("#/referrals/extra", Route::NotFound),
            ("#/supervision", Route::Supervision),
            ("#/training/", Route::Training),
            ("#/standards", Route::Standards),
            ("#/standards/extra", Route::NotFound),
            ("#/conflicts/extra", Route::NotFound),
            ("#/recipients/not-an-id", Route::NotFound),
            ("#/cases/", Route::NotFound),
            (&format!("#/cases/{ID}/extra"), Route::NotFound),
            ("#/unknown", Route::NotFound),
            ("#/recipients/😀", Route::NotFound),
        ];
        for (hash, expected) in cases {
            assert_eq!(Route::parse(hash), *expected, "{hash}");
        }
    }

    #[test]
    fn every_route_reads_back_from_its_hash() {
        let routes = [
            Route::Roster,
            Route::Board,
            Route::AddRecipient,
            Route::Recipient { id: id() },
            Route::Household { id: id() },
            Route::RecordVisit { recipient_id: id() },
            Route::RecordHouseholdVisit { household_id: id() },
            Route::Case { id: id() },
            Route::Closures,
            Route::Referrals,
            Route::Supervision,
            Route::Training,
            Route::Standards,
            Route::Resources,
            Route::Resource { id: id() },
            Route::Activities,
            Route::Reports,
            Route::Rejected,
            Route::Waiting,
            Route::Conflicts,
            Route::NotFound,
        ];
        for route in routes {
            assert_eq!(Route::parse(&route.to_hash()), route, "{}", route.to_hash());
        }
    }

    #[test]
    fn each_role_has_its_own_navigation() {
        let ids = |role| nav_for(role).iter().map(|item| item.id).collect::<Vec<_>>();
        assert_eq!(
            ids(RoleKind::SocialWorker),
            [
                "nav-roster",
                "nav-add-recipient",
                "nav-referrals",
                "nav-resources",
                "nav-activities",
                "nav-training",
                "nav-standards"
            ]
        );
        assert_eq!(
            ids(RoleKind::DeputyHead),
            [
                "nav-board",
                "nav-roster",
                "nav-add-recipient",
                "nav-referrals",
                "nav-resources",
                "nav-activities",
                "nav-training",
                "nav-standards",
                "nav-reports"
            ]
        );
        assert_eq!(home_for(RoleKind::DeputyHead), Route::Board);
        assert_eq!(
            ids(RoleKind::Supervisor),
            [
                "nav-closures",
                "nav-roster",
                "nav-resources",
                "nav-activities",
                "nav-supervision",
                "nav-standards",
                "nav-reports"
            ],
            "the queue first"
        );
        assert_eq!(home_for(RoleKind::Supervisor), Route::Closures);
        assert!(ids(RoleKind::Admin).is_empty());
        for role in RoleKind::ALL {
            for item in nav_for(*role) {
                assert!(item.route.allowed_for(*role), "{role:?} is offered {:?}", item.route);
            }
            assert!(home_for(*role).allowed_for(*role), "{role:?}");
        }
    }

    #[test]
    fn every_role_has_the_pages_behind_the_status_bar() {
        for role in RoleKind::ALL {
            for route in [Route::Rejected, Route::Waiting, Route::Conflicts] {
                assert!(route.allowed_for(*role), "{role:?} lacks {route:?}");
            }
        }
    }

    /// The screens follow the policy: a role has a screen for adding recipients exactly when the
    /// policy lets it create one in its own station.
    #[test]
    fn screens_agree_with_the_policy() {
        use domain::entity::EntityKind;
        use domain::org::Role;
        use domain::policy::{Action, Actor, Target, authorize};
        let station = Uuid::from_u128(1);
        for role in RoleKind::ALL {
            let policy_role = match role {
                RoleKind::SocialWorker => Role::SocialWorker { station_id: station },
                RoleKind::DeputyHead => Role::DeputyHead { station_id: station },
                RoleKind::Supervisor => Role::Supervisor { station_ids: vec![station] },
                RoleKind::Admin => Role::Admin,
            };
            let actor = Actor::new(Uuid::from_u128(2), Some(policy_role));
            let target = Target { kind: EntityKind::Recipient, station_id: Some(station), case_worker_id: None };
            let may = |action| authorize(&actor, action, &target).is_ok();
            assert_eq!(Route::AddRecipient.allowed_for(*role), may(Action::Create), "{role:?} adding");
            assert_eq!(Route::Roster.allowed_for(*role), may(Action::Read), "{role:?} reading");
            let case = Target { kind: EntityKind::Case, ..target };
            assert_eq!(
                Route::Board.allowed_for(*role),
                authorize(&actor, Action::Reassign, &case).is_ok(),
                "{role:?} board"
            );
            assert_eq!(writes_roster(*role), may(Action::Edit), "{role:?} editing");
            let visit = Target { kind: EntityKind::Visit, ..target };
            let may_visit = authorize(&actor, Action::Create, &visit).is_ok();
            assert_eq!(Route::RecordVisit { recipient_id: station }.allowed_for(*role), may_visit, "{role:?} visiting");
            assert_eq!(
                Route::RecordHouseholdVisit { household_id: station }.allowed_for(*role),
                may_visit,
                "{role:?} visiting a household"
            );
            let decision = Target { kind: EntityKind::ClosureDecision, ..target };
            let may_decide = authorize(&actor, Action::DecideClosure, &decision).is_ok();
            assert_eq!(Route::Closures.allowed_for(*role), may_decide, "{role:?} deciding closures");
            let referral = Target { kind: EntityKind::Referral, ..target };
            let may_refer = authorize(&actor, Action::Create, &referral).is_ok();
            assert_eq!(Route::Referrals.allowed_for(*role), may_refer, "{role:?} recording referrals");
            let may = |action, kind| authorize(&actor, action, &Target { kind, ..target }).is_ok();
            let (session, training) = (EntityKind::SupervisionSession, EntityKind::TrainingRecord);
            assert_eq!(Route::Supervision.allowed_for(*role), may(Action::Create, session), "{role:?} supervising");
            assert_eq!(Route::Training.allowed_for(*role), may(Action::Create, training), "{role:?} training");
            assert_eq!(Route::Standards.allowed_for(*role), may(Action::Read, session), "{role:?} standards");
            for (route, kind) in [(Route::Resources, EntityKind::Resource), (Route::Activities, EntityKind::Activity)] {
                assert_eq!(route.allowed_for(*role), may(Action::Read, kind), "{role:?} {route:?}");
            }
            // A station's reports: whoever may read every case of it (no case worker named).
            let station_cases = authorize(&actor, Action::Read, &case).is_ok();
            assert_eq!(Route::Reports.allowed_for(*role), station_cases, "{role:?} reports");
        }
    }
}
