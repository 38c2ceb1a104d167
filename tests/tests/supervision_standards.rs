//! End-to-end: supervision and training against the station's standards, in the real app
//! (WebDriver under Xvfb) against the real sync server. The supervisor records a session at the
//! station (a wrong duration first, refused at its field with what was typed kept), and syncs;
//! the deputy head chooses the Dongguan standards, sees the station met and the workers behind
//! in words, sets a worker's qualification, records their own training and working time, and
//! edits the training afterwards.
//! Screenshots under `<target>/e2e/ops-4N-what.png`.

use std::time::Duration;

use serde_json::Value;
use shegong_tests::screens::{set, sign_in, sync_now, text_of};
use shegong_tests::webdriver::{click, screenshot, wait_for, wait_for_text};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use thirtyfour::WebDriver;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The value of the first option of a select that names something (not the empty choice).
async fn first_choice(driver: &WebDriver, select: &str) -> TestResult<String> {
    let script =
        "const o = document.querySelector(arguments[0] + ' option:not([value=\"\"])'); return o ? o.value : '';";
    let value =
        driver.execute(script, vec![Value::from(select)]).await?.json().as_str().unwrap_or_default().to_string();
    if value.is_empty() {
        return Err(format!("no choice in {select}").into());
    }
    Ok(value)
}

/// The id attribute of the first element matching `css`, without `prefix`.
async fn id_after(driver: &WebDriver, css: &str, prefix: &str) -> TestResult<String> {
    let id = wait_for(driver, css).await?.attr("id").await?.unwrap_or_default();
    Ok(id.strip_prefix(prefix).unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deputy_head_sees_the_station_meet_dongguans_supervision_hours_and_the_workers_behind() -> TestResult {
    let _deadline = deadline(Duration::from_secs(900));
    let server = SyncServer::start_with_demo_data()?;

    // 1. The supervisor records a session of 16 hours at the station, and syncs.
    let supervisor_app = DesktopApp::start(server.url())?;
    let supervisor = supervisor_app.launch().await?;
    sign_in(&supervisor, "dudao1", DEMO_PASSWORD, "#closure-queue").await?;
    click(&supervisor, "#nav-supervision").await?;
    wait_for(&supervisor, "#session-form").await?;
    let station = first_choice(&supervisor, "#session-station").await?;
    set(&supervisor, "#session-station", &station).await?;
    set(&supervisor, "#session-mode", "OnSite").await?;
    set(&supervisor, "#session-topics", "个案需求评估与家庭支持").await?;
    set(&supervisor, "#session-duration_minutes", "0").await?;
    click(&supervisor, "#session-save").await?;
    let error = text_of(&supervisor, "#session-error-duration_minutes").await?;
    assert!(error.contains("时长"), "the error names the field: {error}");
    let kept = wait_for(&supervisor, "#session-topics").await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("个案需求评估与家庭支持"), "nothing typed is lost");
    screenshot(&supervisor, "ops-40-supervision-duration-refused").await?;
    set(&supervisor, "#session-duration_minutes", "960").await?;
    click(&supervisor, "#session-save").await?;
    wait_for(&supervisor, "#supervision-saved").await?;
    wait_for_text(&supervisor, "#sessions", "the session listed", |t| t.contains("16 小时")).await?;
    screenshot(&supervisor, "ops-41-supervision-session-recorded").await?;
    sync_now(&supervisor).await?;
    supervisor.quit().await?;
    drop(supervisor_app);

    // 2. The deputy head chooses the Dongguan standards: the station has met its month, the
    //    workers have no training yet.
    let deputy_app = DesktopApp::start(server.url())?;
    let deputy = deputy_app.launch().await?;
    sign_in(&deputy, "fuzhan1", DEMO_PASSWORD, "#case-board").await?;
    sync_now(&deputy).await?;
    click(&deputy, "#nav-standards").await?;
    let station_id = id_after(&deputy, "#standards-page section[id^='standards-']", "standards-").await?;
    assert_eq!(station_id, station, "the supervisor's station is the deputy head's");
    wait_for(&deputy, &format!("#standards-not-chosen-{station_id}")).await?;
    set(&deputy, &format!("#standard-set-{station_id}"), "Dongguan").await?;
    click(&deputy, &format!("#save-standard-set-{station_id}")).await?;
    let rows = format!("#station-rows-{station_id}");
    wait_for_text(&deputy, &format!("{rows}-row-0-standing"), "one session held", |t| t == "已达标").await?;
    wait_for_text(&deputy, &format!("{rows}-row-1-standing"), "16 hours held", |t| t == "已达标").await?;
    let worker = id_after(&deputy, "table[id^='worker-rows-']", "worker-rows-").await?;
    let pre_service = format!("#worker-rows-{worker}-row-0-standing");
    wait_for_text(&deputy, &pre_service, "no pre-service training", |t| t == "落后").await?;
    screenshot(&deputy, "ops-42-standards-station-met-workers-behind").await?;

    // 3. The deputy head records a worker's qualification.
    set(&deputy, &format!("#qualification-{worker}"), "AssistantSocialWorker").await?;
    click(&deputy, &format!("#save-qualification-{worker}")).await?;
    wait_for_text(&deputy, &format!("#standards-{station_id}"), "the qualification shown", |t| {
        t.contains("助理社会工作师")
    })
    .await?;

    // 4. Their own training and working time, on the training page.
    click(&deputy, "#nav-training").await?;
    wait_for(&deputy, "#training-form").await?;
    set(&deputy, "#training-kind", "PreService").await?;
    set(&deputy, "#training-title", "岗前培训：社会救助政策与个案方法").await?;
    set(&deputy, "#training-duration_minutes", "900").await?;
    click(&deputy, "#training-save").await?;
    wait_for_text(&deputy, "#training-records", "the training listed", |t| t.contains("15 小时")).await?;
    set(&deputy, "#work-kind", "Casework").await?;
    set(&deputy, "#work-duration_minutes", "180").await?;
    click(&deputy, "#work-save").await?;
    wait_for_text(&deputy, "#work-times", "the time listed", |t| t.contains("3 小时")).await?;
    wait_for_text(&deputy, "#professional-share", "all of it professional", |t| t.contains("100 %")).await?;
    screenshot(&deputy, "ops-43-training-and-working-time").await?;

    click(&deputy, "#nav-standards").await?;
    wait_for_text(&deputy, &format!("#standards-{station_id}"), "the deputy head's pre-service met", |t| {
        t.contains("15 小时")
    })
    .await?;
    screenshot(&deputy, "ops-44-standards-after-training").await?;

    // 5. The training is edited afterwards, from the values recorded.
    click(&deputy, "#nav-training").await?;
    let training = id_after(&deputy, "#training-records li[id^='training-']", "training-").await?;
    click(&deputy, &format!("#edit-training-{training}")).await?;
    let kept = wait_for(&deputy, "#training-edit-title").await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("岗前培训：社会救助政策与个案方法"), "the form starts from the stored values");
    set(&deputy, "#training-edit-provider", "县民政局").await?;
    click(&deputy, "#training-edit-save").await?;
    wait_for_text(&deputy, "#training-saved", "the edit saved", |t| t.contains("培训记录已修改")).await?;
    wait_for_text(&deputy, "#training-records", "the provider shown", |t| t.contains("县民政局")).await?;
    screenshot(&deputy, "ops-45-training-edited").await?;
    deputy.quit().await?;
    Ok(())
}
