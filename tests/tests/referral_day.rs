//! End-to-end: referrals (转介) in the real app (WebDriver under Xvfb) against the real sync
//! server. A worker records an inbound referral from the 12345 hotline about someone the
//! referral names only by name, finds the person in the roster and opens a case for them with
//! one action: the case page opens at 识别对象 with the screening that says it came by referral.
//! The worker then records a benefit application (协助申请) made twenty days ago, which the
//! department has acknowledged but not answered, and another the department answered, whose
//! outcome shows as the department reported it. After a sync, the server holds the referral
//! moved to "case opened" with its case, the answered application its edited contact and the
//! person named by the edit, and the deputy head's board lists the unanswered application as
//! overdue. Screenshots: `<target>/e2e/ops-NN-what.png`.

use std::time::Duration;

use domain::Labelled;
use domain::case::Stage;
use domain::entity::EntityKind;
use domain::field;
use domain::referral::{ReferralOutcome, ReferralState};
use shegong_tests::screens::{go_to, route_id, set, sign_in, sync_now, text_of};
use shegong_tests::webdriver::{click, screenshot, type_into, wait_for, wait_for_text, wait_gone};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use thirtyfour::prelude::*;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const HOTLINE_REASON: &str = "市民来电：老人独居，冬季无人照料";
const PENDING_BENEFIT: &str = "残疾人两项补贴";
const ANSWERED_BENEFIT: &str = "最低生活保障";
const EDITED_CONTACT: &str = "镇社会事务办 王主任";

fn days_ago(days: i64) -> String {
    (chrono::Local::now().date_naive() - chrono::Duration::days(days)).to_string()
}

/// Opens the form, fills the referral's fields (ids `#referral-<field>`) and saves it; waits for
/// its panel.
async fn record_referral(driver: &WebDriver, fields: &[(&str, &str)]) -> TestResult {
    click(driver, "#new-referral").await?;
    wait_for(driver, "#referral-form").await?;
    for (name, value) in fields {
        set(driver, &format!("#referral-{name}"), value).await?;
    }
    click(driver, "#referral-save").await?;
    wait_gone(driver, "#referral-form").await?;
    let reason = fields.iter().find(|(name, _)| *name == "reason").map_or("", |(_, v)| *v).to_string();
    wait_for_text(driver, "#referral-panel", "the referral's panel", |t| t.contains(&reason)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_referral_opens_a_case_and_an_unanswered_application_shows_overdue() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let server = SyncServer::start_with_demo_data()?;
    let worker_app = DesktopApp::start(server.url())?;
    let worker = worker_app.launch().await?;
    sign_in(&worker, "shegong1", DEMO_PASSWORD, "#roster-table tbody tr td.name a").await?;
    let person = text_of(&worker, "#roster-table tbody tr td.name a").await?;

    // The referrals page, from the navigation bar.
    click(&worker, "#nav-referrals").await?;
    wait_for(&worker, "#referral-list").await?;
    screenshot(&worker, "ops-01-referrals").await?;

    // 1. An inbound referral from the 12345 hotline, naming the person only by name.
    record_referral(
        &worker,
        &[
            ("direction", "Inbound"),
            ("counterpart", "Hotline12345"),
            ("person_name", &person),
            ("reason", HOTLINE_REASON),
            ("referred_on", &days_ago(1)),
        ],
    )
    .await?;
    wait_for_text(&worker, "#referral-panel-title", "received", |t| t.contains("待受理")).await?;
    wait_for(&worker, "#referral-add-person").await?;
    screenshot(&worker, "ops-02-inbound-referral-recorded").await?;

    // The person is found in the roster, and one action opens the case.
    type_into(&worker, "#open-case-person-search", TypingData::from(person.as_str()) + Key::Enter).await?;
    wait_for(&worker, "#referral-panel .person-matches button").await?;
    screenshot(&worker, "ops-03-person-found").await?;
    click(&worker, "#referral-panel .person-matches button").await?;
    wait_for(&worker, "#case-stepper").await?;
    wait_for(&worker, "#step-identify[aria-current]").await?;
    wait_for_text(&worker, "#notice", "the case-opened notice", |t| t.contains(&person)).await?;
    wait_for(&worker, "#case-records-screening [id^='record-']").await?;
    wait_for(&worker, "#case-ready").await?;
    let case_id: Uuid = route_id(&worker).await?.parse()?;
    screenshot(&worker, "ops-04-case-opened-from-referral").await?;

    // Back on the list, the referral stands at "case opened", linked to its case.
    go_to(&worker, "#/referrals").await?;
    wait_for(&worker, "#referral-list").await?;
    set(&worker, "#referral-filter-state", ReferralState::CaseOpened.as_str()).await?;
    wait_for_text(&worker, "#referral-list", "the referral, case opened", |t| t.contains(HOTLINE_REASON)).await?;
    click(&worker, "#referral-list tbody tr button").await?;
    wait_for(&worker, &format!("#referral-case-link[href='#/cases/{case_id}']")).await?;
    screenshot(&worker, "ops-05-referral-case-opened").await?;
    set(&worker, "#referral-filter-state", "").await?;

    // 2. A benefit application made twenty days ago: acknowledged, not answered.
    record_referral(
        &worker,
        &[
            ("direction", "Outbound"),
            ("purpose", "BenefitApplication"),
            ("benefit", PENDING_BENEFIT),
            ("counterpart", "DisabledPersonsFederation"),
            ("counterpart_detail", "县残联"),
            ("person_name", &person),
            ("reason", "协助准备申请材料"),
            ("referred_on", &days_ago(20)),
        ],
    )
    .await?;
    set(&worker, "#step-date", &days_ago(18)).await?;
    click(&worker, "#move-Acknowledged").await?;
    wait_for_text(&worker, "#referral-panel-title", "acknowledged", |t| t.contains("对方已接收")).await?;
    wait_for_text(&worker, "#referral-list", "overdue in the list", |t| t.contains("逾期")).await?;

    // 3. Another the department answered: the outcome shows as the department reported it.
    record_referral(
        &worker,
        &[
            ("direction", "Outbound"),
            ("purpose", "BenefitApplication"),
            ("benefit", ANSWERED_BENEFIT),
            ("counterpart", "CivilAffairs"),
            ("counterpart_detail", "镇社会事务办"),
            ("person_name", &person),
            ("reason", "家庭收入低于当地低保标准"),
            ("referred_on", &days_ago(9)),
        ],
    )
    .await?;
    set(&worker, "#step-notes", "镇社会事务办电话告知：已纳入低保").await?;
    click(&worker, "#move-Concluded-Resolved").await?;
    wait_for_text(&worker, "#referral-outcome", "the reported outcome", |t| t.contains("已解决")).await?;
    wait_for_text(&worker, "#referral-panel", "labelled as the department's", |t| t.contains("部门反馈的结果")).await?;
    screenshot(&worker, "ops-06-benefit-application-outcome-reported").await?;

    // Its text is edited afterwards, and the person on file named, while it stays concluded.
    click(&worker, "#referral-edit").await?;
    wait_for(&worker, "#referral-edit-form").await?;
    let kept = wait_for(&worker, "#referral-edit-reason").await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("家庭收入低于当地低保标准"), "the form starts from the stored values");
    set(&worker, "#referral-edit-counterpart_detail", EDITED_CONTACT).await?;
    type_into(&worker, "#referral-edit-person-search", TypingData::from(person.as_str()) + Key::Enter).await?;
    click(&worker, "#referral-edit-panel .person-matches button").await?;
    wait_for(&worker, "#referral-edit-person-chosen").await?;
    click(&worker, "#referral-edit-save").await?;
    wait_for_text(&worker, "#referrals-status", "the edit saved", |t| t.contains("转介已修改")).await?;
    wait_for_text(&worker, "#referral-panel-title", "the contact shown", |t| t.contains(EDITED_CONTACT)).await?;
    wait_for_text(&worker, "#referral-outcome", "still concluded", |t| t.contains("已解决")).await?;
    screenshot(&worker, "ops-08-referral-edited").await?;

    sync_now(&worker).await?;
    worker.quit().await?;

    // The server holds the referral moved on with its case, and the case with its screening.
    let held = tokio::task::block_in_place(|| server.held_by("fuzhan1", DEMO_PASSWORD))?;
    let referral = held
        .values()
        .find(|h| h.kind == EntityKind::Referral && h.str(field::referral::REASON) == Some(HOTLINE_REASON))
        .ok_or("the hotline referral on the server")?;
    assert_eq!(referral.str(field::referral::STATE), Some(ReferralState::CaseOpened.as_str()));
    assert_eq!(referral.id_of(field::referral::OPENED_CASE_ID), Some(case_id));
    let case = held.get(&case_id).ok_or("the case on the server")?;
    assert_eq!(case.str(field::case::STAGE), Some(Stage::Identify.as_str()));
    assert_eq!(case.id_of(field::case::RECIPIENT_ID), referral.id_of(field::referral::RECIPIENT_ID));
    assert!(
        held.values().any(|h| h.kind == EntityKind::Screening && h.id_of(field::CASE_ID) == Some(case_id)),
        "the screening that says the case came by referral"
    );
    let answered = held
        .values()
        .find(|h| h.kind == EntityKind::Referral && h.str(field::referral::BENEFIT) == Some(ANSWERED_BENEFIT))
        .ok_or("the answered application on the server")?;
    assert_eq!(answered.str(field::referral::OUTCOME), Some(ReferralOutcome::Resolved.as_str()));
    assert_eq!(answered.str(field::referral::COUNTERPART_DETAIL), Some(EDITED_CONTACT));
    assert!(answered.id_of(field::referral::RECIPIENT_ID).is_some(), "the person named by the edit");

    // 4. The deputy head's board lists the unanswered application as overdue.
    let deputy_app = DesktopApp::start(server.url())?;
    let deputy = deputy_app.launch().await?;
    sign_in(&deputy, "fuzhan1", DEMO_PASSWORD, "#case-board").await?;
    wait_for_text(&deputy, "#overdue-referrals", "the overdue application", |t| t.contains("协助准备申请材料")).await?;
    let overdue = text_of(&deputy, "#overdue-referrals").await?;
    assert!(!overdue.contains("家庭收入低于当地低保标准"), "the answered one is not overdue: {overdue}");
    deputy.execute("document.querySelector('#overdue-referrals').scrollIntoView();", Vec::new()).await?;
    screenshot(&deputy, "ops-07-deputy-overdue-referrals").await?;
    deputy.quit().await?;
    Ok(())
}
