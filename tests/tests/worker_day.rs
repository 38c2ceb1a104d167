//! End-to-end: a social worker's day in the real app (WebDriver under Xvfb), offline from the
//! first click: the worker opens a file from the roster, edits it, records three visits in a row
//! with the keyboard alone, opens a case and takes it from identification to a closure request.
//! Then the network comes back, the app syncs, and the server has every change. A screenshot of
//! each screen visited is saved under `<target>/e2e/worker-NN-what.png`.

use std::time::Duration;

use domain::Labelled;
use domain::case::{ClosureStatus, Stage};
use domain::entity::EntityKind;
use domain::field;
use shegong_tests::screens::{move_on, request_closure, save_record, set, text_of};
use shegong_tests::webdriver::{click, screenshot, type_into, wait_for, wait_for_text};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use thirtyfour::prelude::*;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn today() -> String {
    chrono::Local::now().date_naive().to_string()
}

fn days_ago(days: i64) -> String {
    (chrono::Local::now().date_naive() - chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workers_offline_day_reaches_the_server_when_the_network_is_back() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let mut server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let driver = app.launch().await?;
    wait_for(&driver, "#username").await?;
    type_into(&driver, "#username", "shegong1").await?;
    type_into(&driver, "#password", TypingData::from(DEMO_PASSWORD) + Key::Enter).await?;
    wait_for(&driver, "#roster-table tbody tr td.name a").await?;
    wait_for_text(&driver, "#sync-online", "online", |t| t.contains("在线")).await?;
    screenshot(&driver, "worker-01-roster").await?;

    // The network goes; everything below is done offline.
    server.stop();

    // The file, from the roster.
    click(&driver, "#roster-table tbody tr td.name a").await?;
    wait_for(&driver, "#recipient-file").await?;
    wait_for(&driver, "#history").await?;
    let name = text_of(&driver, "#recipient-name").await?;
    let recipient_id: Uuid = driver
        .execute("return location.hash.split('/')[2];", Vec::new())
        .await?
        .json()
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("the file's route names the recipient")?;
    screenshot(&driver, "worker-02-recipient-file").await?;

    // Edited: a bad phone number is refused at its field and nothing typed is lost; a good one
    // is saved.
    click(&driver, "#edit-recipient").await?;
    wait_for(&driver, "#recipient-form").await?;
    set(&driver, "#phone", "１３８😀").await?;
    click(&driver, "#save").await?;
    wait_for(&driver, "#error-phone").await?;
    assert_eq!(wait_for(&driver, "#phone").await?.prop("value").await?.as_deref(), Some("１３８😀"));
    screenshot(&driver, "worker-03-edit-refused-at-its-field").await?;
    type_into(&driver, "#phone", "13912345678").await?;
    click(&driver, "#save").await?;
    wait_for_text(&driver, "#recipient-phone", "the new phone number", |t| t.contains("13912345678")).await?;
    screenshot(&driver, "worker-04-edited").await?;

    // Three visits in a row, the keyboard alone: the form opens with the date set to today and
    // the focus in its first field; Ctrl+Enter saves and the form is ready for the next.
    click(&driver, "#record-visit").await?;
    wait_for(&driver, "#visit-form").await?;
    for n in 1..=3 {
        let seen = driver.active_element().await?;
        seen.send_keys("本人").await?;
        seen.send_keys(TypingData::from(Key::Tab)).await?;
        let observations = driver.active_element().await?;
        observations.send_keys(format!("第{n}次走访：身体尚可，需要关注取暖")).await?;
        observations.send_keys(Key::Control + Key::Enter).await?;
        wait_for_text(&driver, "#visit-list", "the visit in the list", |t| t.contains(&format!("第{n}次走访"))).await?;
    }
    screenshot(&driver, "worker-05-three-visits").await?;
    click(&driver, "#back-to-file").await?;
    wait_for(&driver, "#recipient-file").await?;

    // A case, from identification to a closure request.
    click(&driver, "#open-case").await?;
    wait_for(&driver, "#case-stepper").await?;
    wait_for(&driver, "#step-identify[aria-current]").await?;
    screenshot(&driver, "worker-06-case-opened").await?;
    wait_for_text(&driver, "#case-missing", "what identification needs", |t| !t.trim().is_empty()).await?;
    save_record(
        &driver,
        "screening",
        &[("source", "VisitScreening"), ("found_on", &days_ago(2)), ("notes", "走访中发现独居")],
    )
    .await?;
    screenshot(&driver, "worker-07-identified").await?;
    move_on(&driver, "assess").await?;
    save_record(
        &driver,
        "assessment",
        &[
            ("assessed_on", &days_ago(1)),
            ("living_conditions", "独居，房屋漏雨"),
            ("health", "高血压"),
            ("risk_level", "High"),
            ("needs_summary", "需要生活照料和房屋修缮"),
        ],
    )
    .await?;
    screenshot(&driver, "worker-08-assessed").await?;
    move_on(&driver, "plan").await?;
    save_record(&driver, "goal", &[("description", "三个月内恢复稳定的日常生活"), ("target_date", &today())]).await?;
    screenshot(&driver, "worker-09-planned").await?;
    move_on(&driver, "coordinate").await?;
    save_record(
        &driver,
        "resource_link",
        &[
            ("kind", "BenefitApplication"),
            ("description", "协助申请特困供养"),
            ("status", "InProgress"),
            ("linked_on", &today()),
        ],
    )
    .await?;
    screenshot(&driver, "worker-10-coordinated").await?;
    move_on(&driver, "intervene").await?;
    save_record(
        &driver,
        "intervention",
        &[
            ("delivered_on", &today()),
            ("service_type", "EmotionalCounselling"),
            ("method", "Casework"),
            ("duration_minutes", "45"),
            ("notes", "情绪疏导一次"),
        ],
    )
    .await?;
    screenshot(&driver, "worker-11-intervened").await?;
    move_on(&driver, "follow_up").await?;
    save_record(&driver, "follow_up", &[("visited_on", &today()), ("notes", "情况稳定")]).await?;
    screenshot(&driver, "worker-12-followed-up").await?;
    // The goal evaluated by keyboard, then the closure requested.
    request_closure(&driver, "服务目标均已达成，申请结案").await?;
    let case_id: Uuid = driver
        .execute("return location.hash.split('/')[2];", Vec::new())
        .await?
        .json()
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("the case page's route names the case")?;
    wait_for_text(&driver, "#sync-online", "offline", |t| t.contains("离线")).await?;
    screenshot(&driver, "worker-13-closure-requested-offline").await?;

    // The network is back: one sync sends the day's work.
    server.restart()?;
    click(&driver, "#sync-now").await?;
    wait_for_text(&driver, "#sync-pending", "nothing waiting", |t| t.trim() == "0").await?;
    wait_for_text(&driver, "#sync-online", "online again", |t| t.contains("在线")).await?;
    screenshot(&driver, "worker-14-synced").await?;
    driver.quit().await?;

    // Every record the deputy head of the demo station may pull, as the server now holds it.
    let held = tokio::task::block_in_place(|| server.held_by("fuzhan1", DEMO_PASSWORD))?;
    let recipient = held.get(&recipient_id).ok_or("the recipient on the server")?;
    assert_eq!(recipient.str(field::recipient::PHONE), Some("13912345678"), "{name}'s new phone number");
    let visits = held
        .values()
        .filter(|h| h.kind == EntityKind::Visit && h.id_of(field::visit::RECIPIENT_ID) == Some(recipient_id))
        .filter(|h| h.str(field::visit::OBSERVATIONS).is_some_and(|o| o.contains("需要关注取暖")))
        .count();
    assert_eq!(visits, 3, "the three visits");
    let case = held.get(&case_id).ok_or("the case on the server")?;
    assert_eq!(case.str(field::case::STAGE), Some(Stage::FollowUp.as_str()));
    assert_eq!(case.str(field::case::CLOSURE_STATUS), Some(ClosureStatus::Requested.as_str()));
    let records: Vec<EntityKind> =
        held.values().filter(|h| h.id_of(field::CASE_ID) == Some(case_id)).map(|h| h.kind).collect();
    for kind in [
        EntityKind::Screening,
        EntityKind::Assessment,
        EntityKind::Goal,
        EntityKind::ResourceLink,
        EntityKind::Intervention,
        EntityKind::FollowUp,
    ] {
        assert!(records.contains(&kind), "the case's {kind:?} on the server: {records:?}");
    }
    Ok(())
}
