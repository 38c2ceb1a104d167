//! End-to-end: the resource library and the station's activities in the real app (WebDriver
//! under Xvfb). A worker adds a charity to the library (a missing name refused at its field
//! first), finds it by its pinyin initials, links it into a case plan at 协调资源 with the money
//! and goods the recipient received (an amount that is not yuan refused at its field first), and
//! sees the case on the resource's page; then records a group activity with that recipient and
//! others, and finds it in the recipient's ledger. One sync later the server holds the link and
//! the activity. Screenshots: `<target>/e2e/ops-2N-what.png`.

use std::time::Duration;

use domain::entity::EntityKind;
use domain::field;
use shegong_tests::screens::{go_to, move_on, route_id, save_record, set, sign_in, sync_now, text_of};
use shegong_tests::webdriver::{click, screenshot, type_into, wait_for, wait_for_text, wait_gone};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn days_ago(days: i64) -> String {
    (chrono::Local::now().date_naive() - chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_linked_into_a_plan_and_an_activity_with_participants_reach_the_server() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let driver = app.launch().await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD, "#roster-table tbody tr td.name a").await?;

    // The library, with the demo station's resources.
    click(&driver, "#nav-resources").await?;
    wait_for_text(&driver, "#resource-list", "the demo's charity", |t| t.contains("示范县慈善总会")).await?;
    screenshot(&driver, "ops-20-resource-library").await?;

    // A new charity: without its name it is refused at the field, and what was typed stays.
    click(&driver, "#add-resource").await?;
    wait_for(&driver, "#resource-form").await?;
    set(&driver, "#resource-kind", "Charity").await?;
    set(&driver, "#resource-services", "助学金、冬季棉被").await?;
    click(&driver, "#resource-save").await?;
    wait_for_text(&driver, "#resource-error-name", "the name is required", |t| t.contains("名称")).await?;
    assert_eq!(
        wait_for(&driver, "#resource-services").await?.prop("value").await?.as_deref(),
        Some("助学金、冬季棉被")
    );
    screenshot(&driver, "ops-21-resource-refused-at-its-field").await?;
    type_into(&driver, "#resource-name", "爱心助学基金会").await?;
    click(&driver, "#resource-form input[id^='resource-village_id-']").await?;
    click(&driver, "#resource-save").await?;
    wait_for_text(&driver, "#resource-title", "the new resource's page", |t| t.contains("爱心助学基金会")).await?;
    let resource_id: Uuid = route_id(&driver).await?.parse()?;
    wait_for(&driver, "#resource-links-empty").await?;

    // Found again by its pinyin initials.
    click(&driver, "#nav-resources").await?;
    wait_for(&driver, "#resource-list").await?;
    type_into(&driver, "#resource-search", "axzx").await?;
    wait_for_text(&driver, "#resource-list", "found by initials", |t| {
        t.contains("爱心助学基金会") && !t.contains("示范县慈善总会")
    })
    .await?;
    screenshot(&driver, "ops-22-found-by-pinyin").await?;

    // A case walked to 协调资源, the resource picked from the library.
    go_to(&driver, "#/roster").await?;
    click(&driver, "#roster-table tbody tr td.name a").await?;
    wait_for(&driver, "#recipient-file").await?;
    let name = text_of(&driver, "#recipient-name").await?;
    let recipient_id: Uuid = route_id(&driver).await?.parse()?;
    click(&driver, "#open-case").await?;
    wait_for(&driver, "#step-identify[aria-current]").await?;
    let case_id: Uuid = route_id(&driver).await?.parse()?;
    save_record(&driver, "screening", &[("source", "VisitScreening"), ("found_on", &days_ago(3))]).await?;
    move_on(&driver, "assess").await?;
    save_record(
        &driver,
        "assessment",
        &[("assessed_on", &days_ago(2)), ("risk_level", "Medium"), ("needs_summary", "孩子上学费用困难")],
    )
    .await?;
    move_on(&driver, "plan").await?;
    save_record(&driver, "goal", &[("description", "孩子本学期正常上学"), ("target_date", &days_ago(0))]).await?;
    move_on(&driver, "coordinate").await?;
    wait_for(&driver, &format!("#resource_link-resource option[value='{resource_id}']")).await?;
    let link = [
        ("resource", resource_id.to_string()),
        ("kind", "Charity".into()),
        ("description", "申请助学金和过冬物资".into()),
        ("status", "Secured".into()),
        ("linked_on", days_ago(0)),
        ("outcome", "助学金已发放，棉被已送到家".into()),
        ("money_fen", "12.345".into()),
        ("goods", "棉被两床".into()),
        ("goods_value_fen", "300".into()),
    ];
    for (name, value) in &link {
        set(&driver, &format!("#resource_link-{name}"), value).await?;
    }
    click(&driver, "#resource_link-save").await?;
    wait_for_text(&driver, "#resource_link-error-money_fen", "the amount refused", |t| t.contains("金额")).await?;
    assert_eq!(wait_for(&driver, "#resource_link-goods").await?.prop("value").await?.as_deref(), Some("棉被两床"));
    screenshot(&driver, "ops-23-amount-refused-at-its-field").await?;
    set(&driver, "#resource_link-money_fen", "1,200.50").await?;
    wait_gone(&driver, "#resource_link-error-money_fen").await?;
    click(&driver, "#resource_link-save").await?;
    wait_for_text(&driver, "#case-records-resource_link", "the link with its money", |t| t.contains("¥1200.50"))
        .await?;
    // The link names its resource, and leads to its page.
    let to_resource = format!("#case-records-resource_link a[href='#/resources/{resource_id}']");
    wait_for_text(&driver, &to_resource, "the resource's name", |t| t.contains("爱心助学基金会")).await?;
    driver.execute("document.getElementById('case-records-resource_link').scrollIntoView();", Vec::new()).await?;
    screenshot(&driver, "ops-24-resource-linked-at-coordinate").await?;

    // The resource's page lists the case and the person it helped, with what they received.
    click(&driver, &to_resource).await?;
    wait_for_text(&driver, "#resource-links", "the person helped", |t| t.contains(&name) && t.contains("¥1200.50"))
        .await?;
    wait_for_text(&driver, "#resource-money-total", "the money in total", |t| t.contains("¥1200.50")).await?;
    wait_for_text(&driver, "#resource-goods-total", "the goods in total", |t| t.contains("¥300")).await?;
    screenshot(&driver, "ops-25-resource-page").await?;

    // A group activity with the person and eight others.
    click(&driver, "#nav-activities").await?;
    wait_for(&driver, "#activities-month").await?;
    click(&driver, "#add-activity").await?;
    wait_for(&driver, "#activity-form").await?;
    set(&driver, "#activity-kind", "GroupWork").await?;
    type_into(&driver, "#activity-title", "困境儿童成长小组").await?;
    type_into(&driver, "#activity-place", "村委会活动室").await?;
    type_into(&driver, "#activity-duration_minutes", "90").await?;
    type_into(&driver, "#activity-others_count", "8").await?;
    type_into(&driver, "#participant-person-search", name.as_str()).await?;
    click(&driver, "#participant-person-search-go").await?;
    click(&driver, &format!("#participant-person-{recipient_id}")).await?;
    wait_for(&driver, &format!("#participant-{recipient_id}")).await?;
    screenshot(&driver, "ops-26-activity-form").await?;
    click(&driver, "#activity-save").await?;
    wait_gone(&driver, "#activity-form").await?;
    wait_for_text(&driver, "#activity-list", "the activity with its participants", |t| {
        t.contains("困境儿童成长小组") && t.contains("9 人") && t.contains(&name)
    })
    .await?;
    wait_for_text(&driver, "#activities-totals", "the month's totals", |t| t.contains("1.5")).await?;
    screenshot(&driver, "ops-27-activities-of-the-month").await?;

    // The person's file has it in the ledger.
    go_to(&driver, &format!("#/recipients/{recipient_id}")).await?;
    wait_for_text(&driver, "#ledger", "the activity in the ledger", |t| t.contains("困境儿童成长小组")).await?;
    screenshot(&driver, "ops-28-activity-in-the-ledger").await?;

    sync_now(&driver).await?;
    driver.quit().await?;

    let held = tokio::task::block_in_place(|| server.held_by("fuzhan1", DEMO_PASSWORD))?;
    let link = held
        .values()
        .find(|h| h.kind == EntityKind::ResourceLink && h.id_of(field::CASE_ID) == Some(case_id))
        .ok_or("the case's link on the server")?;
    assert_eq!(link.id_of(field::resource_link::RESOURCE_ID), Some(resource_id));
    assert_eq!(link.fields.get(field::resource_link::MONEY_FEN).and_then(|v| v.as_i64()), Some(120_050));
    assert_eq!(link.fields.get(field::resource_link::GOODS_VALUE_FEN).and_then(|v| v.as_i64()), Some(30_000));
    let activity = held
        .values()
        .find(|h| h.kind == EntityKind::Activity && h.str(field::activity::TITLE) == Some("困境儿童成长小组"))
        .ok_or("the activity on the server")?;
    let recipients = activity.fields.get(field::activity::RECIPIENT_IDS).cloned().unwrap_or_default();
    assert_eq!(recipients, serde_json::json!([recipient_id.to_string()]));
    assert_eq!(activity.fields.get(field::activity::OTHERS_COUNT).and_then(|v| v.as_i64()), Some(8));
    Ok(())
}
