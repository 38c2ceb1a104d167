//! End-to-end: a day of review at the demo station, with the worker's, the supervisor's and the
//! deputy head's laptops (the real app, each with its own display, driver and data) against one
//! sync server, never more than two running at once.
//!
//! 1. The worker (社工, `shegong1`) requests closure of two cases and syncs.
//! 2. The supervisor (督导, `dudao1`) finds both in the queue, goes offline, returns one with a
//!    comment and signs off the other (the seal made on the laptop), then syncs.
//! 3. The worker's next sync shows the comment on the returned case and the signed closure
//!    with its seal verified on the worker's laptop.
//! 4. With the worker's laptop shut, the deputy head (副站长, `fuzhan1`) reassigns one of the
//!    worker's cases on the board.
//! 5. Offline, the deputy head and the worker both change one person's phone number; after both
//!    sync, each laptop has a conflict, and the worker's sync has taken the reassigned case off
//!    the worker's laptop. The deputy head keeps the value that lost; after syncing, no conflict
//!    is left on either laptop, and the server holds it all.
//!
//! Screenshots under `<target>/e2e/`: `supervisor-NN-what.png`, `deputy-NN-what.png` and
//! `worker-NN-what.png` (from 20 up, after `worker_day`'s).

use std::collections::BTreeMap;
use std::time::Duration;

use domain::Labelled;
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::entity::EntityKind;
use domain::field;
use shegong_tests::screens::{change_phone, go_to, move_on, request_closure, save_record, set, sign_in, sync_now};
use shegong_tests::webdriver::{attribute, click, screenshot, type_into, wait_for, wait_for_text, wait_gone};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, Held, SyncServer, deadline};
use thirtyfour::WebDriver;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Everything `username` may pull from the server now, record by record.
fn held_on_server(server: &SyncServer, username: &str) -> TestResult<BTreeMap<Uuid, Held>> {
    Ok(tokio::task::block_in_place(|| server.held_by(username, DEMO_PASSWORD))?)
}

fn of_kind(held: &BTreeMap<Uuid, Held>, kind: EntityKind) -> impl Iterator<Item = (&Uuid, &Held)> {
    held.iter().filter(move |(_, h)| h.kind == kind)
}

/// The demo case at `stage`, not yet asked to close (the demo has one at each stage).
fn case_at(held: &BTreeMap<Uuid, Held>, stage: Stage) -> TestResult<(Uuid, Uuid)> {
    of_kind(held, EntityKind::Case)
        .find(|(_, h)| {
            h.str(field::case::STAGE) == Some(stage.as_str())
                && h.str(field::case::CLOSURE_STATUS) == Some(ClosureStatus::Open.as_str())
        })
        .and_then(|(id, h)| Some((*id, h.id_of(field::case::RECIPIENT_ID)?)))
        .ok_or_else(|| format!("a demo case at {stage:?}").into())
}

fn user_id(held: &BTreeMap<Uuid, Held>, username: &str) -> TestResult<Uuid> {
    of_kind(held, EntityKind::User)
        .find(|(_, h)| h.str(field::user::USERNAME) == Some(username))
        .map(|(id, _)| *id)
        .ok_or_else(|| format!("the demo user {username}").into())
}

fn today() -> String {
    chrono::Local::now().date_naive().to_string()
}

fn case_hash(id: Uuid) -> String {
    format!("#/cases/{id}")
}

fn recipient_hash(id: Uuid) -> String {
    format!("#/recipients/{id}")
}

async fn conflicts_shown(driver: &WebDriver, count: u32) -> TestResult {
    let want = count.to_string();
    wait_for_text(driver, "#sync-conflicts", &format!("{count} conflicts"), |t| t.trim() == want).await?;
    Ok(())
}

const RETURN_COMMENT: &str = "跟踪回访只有一次，请再回访一次、确认情况稳定后再申请结案。";
const SIGN_OFF_COMMENT: &str = "服务目标均已达成，同意结案。";
/// The phone numbers the deputy head and then the worker give one person, offline.
const DEPUTY_PHONE: &str = "13700001111";
const WORKER_PHONE: &str = "13900002222";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closures_are_decided_offline_a_case_moves_and_a_conflict_is_settled_across_three_laptops() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let mut server = SyncServer::start_with_demo_data()?;
    let demo = held_on_server(&server, "fuzhan1")?;
    // The cases the worker takes to a closure request: one at follow-up, one at intervention.
    let (returned_case, _) = case_at(&demo, Stage::FollowUp)?;
    let (signed_case, _) = case_at(&demo, Stage::Intervene)?;
    // The case the deputy head reassigns to themself.
    let (moved_case, moved_recipient) = case_at(&demo, Stage::Identify)?;
    let deputy_id = user_id(&demo, "fuzhan1")?;
    let worker_id = user_id(&demo, "shegong1")?;
    assert_eq!(demo[&moved_case].id_of(field::case::WORKER_ID), Some(worker_id), "the demo worker's case");
    // The person both change offline: one without a case.
    let with_cases: Vec<Uuid> =
        of_kind(&demo, EntityKind::Case).filter_map(|(_, h)| h.id_of(field::case::RECIPIENT_ID)).collect();
    let shared = of_kind(&demo, EntityKind::Recipient)
        .map(|(id, _)| *id)
        .find(|id| !with_cases.contains(id))
        .ok_or("a demo recipient without a case")?;

    // 1. The worker asks to close two cases, online.
    let worker_app = DesktopApp::start(server.url())?;
    let worker = worker_app.launch().await?;
    sign_in(&worker, "shegong1", DEMO_PASSWORD, "#roster-table tbody tr td.name a").await?;
    wait_for_text(&worker, "#sync-online", "online", |t| t.contains("在线")).await?;

    go_to(&worker, &case_hash(returned_case)).await?;
    wait_for(&worker, "#step-follow_up[aria-current]").await?;
    request_closure(&worker, "救助金已到位，情绪好转，申请结案。").await?;
    screenshot(&worker, "worker-20-closure-requested").await?;

    go_to(&worker, &case_hash(signed_case)).await?;
    wait_for(&worker, "#step-intervene[aria-current]").await?;
    move_on(&worker, "follow_up").await?;
    save_record(&worker, "follow_up", &[("visited_on", &today()), ("notes", "回访：生活稳定，救助金已用于修缮")])
        .await?;
    request_closure(&worker, "服务目标均已达成，申请结案。").await?;
    sync_now(&worker).await?;
    screenshot(&worker, "worker-21-second-closure-requested-and-synced").await?;

    // 2. The supervisor's queue has both; offline, one is returned and the other signed off.
    let supervisor_app = DesktopApp::start(server.url())?;
    let supervisor = supervisor_app.launch().await?;
    sign_in(&supervisor, "dudao1", DEMO_PASSWORD, "#closure-queue").await?;
    wait_for(&supervisor, &format!("#closure-row-{returned_case}")).await?;
    wait_for(&supervisor, &format!("#closure-row-{signed_case}")).await?;
    screenshot(&supervisor, "supervisor-01-closure-queue").await?;
    // Their laptop holds only the cases waiting for them: the stations' charts say so.
    wait_for_text(&supervisor, "#supervised-charts-partial", "the partial-figures notice", |t| t.contains("只计入"))
        .await?;

    server.stop();
    click(&supervisor, "#sync-now").await?;
    wait_for_text(&supervisor, "#sync-online", "offline", |t| t.contains("离线")).await?;

    click(&supervisor, &format!("#closure-row-{returned_case}")).await?;
    wait_for(&supervisor, "#decision-panel").await?;
    wait_for(&supervisor, "#case-visits").await?;
    screenshot(&supervisor, "supervisor-02-case-to-decide").await?;
    // Returning needs a comment: without one the panel says so and nothing is decided.
    click(&supervisor, "#return-closure").await?;
    wait_for(&supervisor, "#decision-error").await?;
    screenshot(&supervisor, "supervisor-03-return-needs-a-comment").await?;
    type_into(&supervisor, "#decision-comments", RETURN_COMMENT).await?;
    click(&supervisor, "#return-closure").await?;
    wait_for(&supervisor, "#closure-returned").await?;
    wait_gone(&supervisor, "#decision-panel").await?;
    screenshot(&supervisor, "supervisor-04-returned-offline").await?;

    go_to(&supervisor, "#/closures").await?;
    wait_for(&supervisor, &format!("#closure-row-{signed_case}")).await?;
    wait_gone(&supervisor, &format!("#closure-row-{returned_case}")).await?;
    click(&supervisor, &format!("#closure-row-{signed_case}")).await?;
    wait_for(&supervisor, "#decision-panel").await?;
    type_into(&supervisor, "#decision-comments", SIGN_OFF_COMMENT).await?;
    click(&supervisor, "#sign-off").await?;
    wait_for(&supervisor, "#closure-signed-off").await?;
    assert_eq!(attribute(&supervisor, "#closure-seal", "data-verified").await?.as_deref(), Some("true"));
    wait_for(&supervisor, "#reopen-panel").await?;
    // The decisions wait on the supervisor's laptop while it is offline.
    wait_for_text(&supervisor, "#sync-pending", "the decisions waiting", |t| {
        t.trim().parse().is_ok_and(|n: u32| n > 0)
    })
    .await?;
    screenshot(&supervisor, "supervisor-05-signed-off-offline").await?;

    server.restart()?;
    sync_now(&supervisor).await?;
    go_to(&supervisor, "#/closures").await?;
    wait_for(&supervisor, "#closure-queue").await?;
    wait_gone(&supervisor, &format!("#closure-row-{signed_case}")).await?;
    screenshot(&supervisor, "supervisor-06-synced-queue").await?;
    supervisor.quit().await?;
    drop(supervisor_app);

    // 3. The worker's next sync: the comment on one case, the signed closure on the other.
    sync_now(&worker).await?;
    go_to(&worker, &case_hash(returned_case)).await?;
    let comments =
        wait_for_text(&worker, "#closure-comments", "the supervisor's comment", |t| t.contains(RETURN_COMMENT)).await?;
    assert!(comments.contains(RETURN_COMMENT));
    wait_for_text(&worker, "#case-closure-status", "returned", |t| t.contains(ClosureStatus::Returned.zh())).await?;
    screenshot(&worker, "worker-22-closure-returned-with-comment").await?;
    go_to(&worker, &case_hash(signed_case)).await?;
    wait_for(&worker, "#closure-signed-off").await?;
    wait_for(&worker, "#closure-seal[data-verified='true']").await?;
    wait_for(&worker, "#step-closed[aria-current]").await?;
    wait_for_text(&worker, "#closure-signed-off", "the sign-off comment", |t| t.contains(SIGN_OFF_COMMENT)).await?;
    screenshot(&worker, "worker-23-signed-off-seal-verified").await?;

    // The worker's laptop is shut: the worker is offline from here until the next sync.
    worker.quit().await?;

    // 4. The deputy head's board: the case is reassigned while its worker is offline.
    let deputy_app = DesktopApp::start(server.url())?;
    let deputy = deputy_app.launch().await?;
    sign_in(&deputy, "fuzhan1", DEMO_PASSWORD, "#case-board").await?;
    wait_for(&deputy, &format!("#card-{moved_case}")).await?;
    wait_for(&deputy, "#dashboard").await?;
    wait_for(&deputy, "#board-column-identify").await?;
    screenshot(&deputy, "deputy-01-board").await?;
    click(&deputy, &format!("#reassign-open-{moved_case}")).await?;
    set(&deputy, &format!("#reassign-{moved_case}"), &deputy_id.to_string()).await?;
    click(&deputy, &format!("#reassign-save-{moved_case}")).await?;
    wait_for_text(&deputy, "#board-status", "the reassignment said", |t| t.contains("改派")).await?;
    wait_for_text(&deputy, &format!("#card-{moved_case}"), "the new worker on the card", |t| t.contains("王建国"))
        .await?;
    screenshot(&deputy, "deputy-02-case-reassigned").await?;
    sync_now(&deputy).await?;
    let held = held_on_server(&server, "fuzhan1")?;
    assert_eq!(held[&moved_case].id_of(field::case::WORKER_ID), Some(deputy_id), "the case's new worker");

    // 5. Offline, both change one person's phone number: the deputy head first, the worker later.
    server.stop();
    change_phone(&deputy, shared, DEPUTY_PHONE).await?;
    screenshot(&deputy, "deputy-03-phone-changed-offline").await?;

    let worker = worker_app.launch().await?;
    sign_in(&worker, "shegong1", DEMO_PASSWORD, "#roster-table tbody tr td.name a").await?;
    // Before syncing, the worker's laptop still has the case as the worker's.
    go_to(&worker, &case_hash(moved_case)).await?;
    wait_for(&worker, "#case-stepper").await?;
    wait_for_text(&worker, "#case-page .case-facts", "the worker's own name", |t| t.contains("李娟")).await?;
    go_to(&worker, &recipient_hash(moved_recipient)).await?;
    wait_for(&worker, &format!("#open-cases a[href='{}']", case_hash(moved_case))).await?;
    // The ledger names the case's stage and the screening's source in words.
    wait_for_text(&worker, "#ledger", "the stage and the source in words", |t| {
        t.contains(Stage::Identify.zh()) && !t.contains(Stage::Identify.as_str()) && !t.contains("VisitScreening")
    })
    .await?;
    screenshot(&worker, "worker-24-offline-before-sync").await?;
    change_phone(&worker, shared, WORKER_PHONE).await?;
    wait_for_text(&worker, "#sync-online", "offline", |t| t.contains("离线")).await?;

    // The network is back: both sync; each laptop now holds the value that lost.
    server.restart()?;
    sync_now(&deputy).await?;
    sync_now(&worker).await?;
    conflicts_shown(&worker, 1).await?;
    sync_now(&deputy).await?;
    conflicts_shown(&deputy, 1).await?;

    // The worker's sync took the reassigned case off the worker's laptop.
    go_to(&worker, &recipient_hash(moved_recipient)).await?;
    wait_for(&worker, &format!("#recipient-file[data-id='{moved_recipient}']")).await?;
    wait_gone(&worker, &format!("#open-cases a[href='{}']", case_hash(moved_case))).await?;
    // The file says where it went, and so does a link to it.
    wait_for_text(&worker, &format!("#moved-case-{moved_case}"), "where the case went", |t| t.contains("改派给王建国"))
        .await?;
    screenshot(&worker, "worker-25-case-moved-after-sync").await?;
    go_to(&worker, &case_hash(moved_case)).await?;
    wait_for_text(&worker, "#case-error", "the case page says where it went", |t| t.contains("改派给王建国")).await?;
    screenshot(&worker, "worker-26-moved-case-gone").await?;

    // The deputy head settles the conflict, keeping their own value, which lost.
    click(&deputy, "#sync-conflicts-link").await?;
    let conflict = wait_for_text(&deputy, "#conflicts-list", "both values", |t| {
        t.contains(DEPUTY_PHONE) && t.contains(WORKER_PHONE)
    })
    .await?;
    assert!(conflict.contains(DEPUTY_PHONE));
    wait_for(&deputy, "#keep-lost-0").await?;
    screenshot(&deputy, "deputy-04-conflict").await?;
    click(&deputy, "#keep-lost-0").await?;
    conflicts_shown(&deputy, 0).await?;
    screenshot(&deputy, "deputy-05-conflict-settled").await?;
    sync_now(&deputy).await?;
    deputy.quit().await?;

    sync_now(&worker).await?;
    conflicts_shown(&worker, 0).await?;
    go_to(&worker, &recipient_hash(shared)).await?;
    wait_for_text(&worker, "#recipient-phone", "the value the deputy head kept", |t| t.contains(DEPUTY_PHONE)).await?;
    screenshot(&worker, "worker-27-conflict-settled-after-sync").await?;
    worker.quit().await?;

    // The server holds every decision.
    let held = held_on_server(&server, "fuzhan1")?;
    assert_eq!(held[&shared].str(field::recipient::PHONE), Some(DEPUTY_PHONE));
    assert_eq!(held[&moved_case].id_of(field::case::WORKER_ID), Some(deputy_id));
    let returned = &held[&returned_case];
    assert_eq!(returned.str(field::case::CLOSURE_STATUS), Some(ClosureStatus::Returned.as_str()));
    let signed = &held[&signed_case];
    assert_eq!(signed.str(field::case::CLOSURE_STATUS), Some(ClosureStatus::SignedOff.as_str()));
    assert_eq!(signed.str(field::case::STAGE), Some(Stage::Closed.as_str()));
    let decision = |case: Uuid| {
        of_kind(&held, EntityKind::ClosureDecision)
            .find(|(_, h)| h.id_of(field::CASE_ID) == Some(case))
            .map(|(_, h)| h.clone())
            .ok_or_else(|| format!("the decision on {case}"))
    };
    let returned_decision = decision(returned_case)?;
    assert_eq!(returned_decision.str(field::closure_decision::DECISION), Some(ClosureDecisionKind::Returned.as_str()));
    assert_eq!(returned_decision.str(field::closure_decision::COMMENTS), Some(RETURN_COMMENT));
    let signed_decision = decision(signed_case)?;
    assert_eq!(signed_decision.str(field::closure_decision::DECISION), Some(ClosureDecisionKind::SignedOff.as_str()));
    assert!(signed_decision.str(field::closure_decision::SIGNATURE).is_some(), "the seal's signature");
    // The worker, who may no longer pull the moved case, pulls the two decided ones.
    let workers_view = held_on_server(&server, "shegong1")?;
    assert!(!workers_view.contains_key(&moved_case), "the moved case is no longer the worker's");
    assert!(workers_view.contains_key(&returned_case) && workers_view.contains_key(&signed_case));
    Ok(())
}
