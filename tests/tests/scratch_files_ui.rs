//! SCRATCH (to be deleted): a walk through the file pages and the visit desk, with screenshots.

use shegong_tests::webdriver::{click, screenshot, type_into, wait_for, wait_for_text};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use thirtyfour::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn exists(driver: &WebDriver, css: &str) -> Result<bool, WebDriverError> {
    let script = format!("return document.querySelector(\"{css}\") !== null;");
    Ok(driver.execute(&script, Vec::new()).await?.json().as_bool().unwrap_or(false))
}

/// Puts `text` in a field as a paste does: one input event.
async fn paste(driver: &WebDriver, css: &str, text: &str) -> Result<(), WebDriverError> {
    let script = format!(
        "const e = document.querySelector(\"{css}\"); e.focus(); e.value = arguments[0]; \
         e.dispatchEvent(new InputEvent('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}}));"
    );
    driver.execute(&script, vec![serde_json::Value::from(text)]).await?;
    Ok(())
}

async fn active_id(driver: &WebDriver) -> Result<String, WebDriverError> {
    let v = driver.execute("return document.activeElement && document.activeElement.id;", Vec::new()).await?;
    Ok(v.json().as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_through_files_and_visits() -> TestResult {
    let _deadline = deadline(std::time::Duration::from_secs(600));
    let server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let driver = app.launch().await?;
    wait_for(&driver, "#username").await?;
    type_into(&driver, "#username", "shegong1").await?;
    type_into(&driver, "#password", TypingData::from(DEMO_PASSWORD) + Key::Enter).await?;
    wait_for(&driver, "#roster-table tbody tr").await?;
    screenshot(&driver, "scratch-01-roster").await?;

    // The file, from the roster's name link.
    click(&driver, "#roster-table tbody tr td.name a").await?;
    wait_for(&driver, "#recipient-file").await?;
    wait_for(&driver, "#history").await?;
    screenshot(&driver, "scratch-02-file").await?;

    // Edit: a wrong phone shows at its field, then a good one saves.
    click(&driver, "#edit-recipient").await?;
    wait_for(&driver, "#recipient-form").await?;
    eprintln!("focus after edit: {}", active_id(&driver).await?);
    paste(&driver, "#phone", "１３８😀").await?;
    paste(&driver, "#address", &"x".repeat(10_000)).await?;
    click(&driver, "#save").await?;
    wait_for(&driver, "#error-phone").await?;
    screenshot(&driver, "scratch-03-edit-errors").await?;
    type_into(&driver, "#phone", "13912345678").await?;
    type_into(&driver, "#address", "城关镇东街 8 号").await?;
    click(&driver, "#save").await?;
    wait_for_text(&driver, "#notice", "saved", |t| t.contains("已保存")).await?;
    wait_for_text(&driver, "#recipient-phone", "phone", |t| t.contains("13912345678")).await?;
    eprintln!("focus after save: {}", active_id(&driver).await?);
    screenshot(&driver, "scratch-04-edited").await?;

    // Transfer dialog (cancelled).
    click(&driver, "#transfer-recipient").await?;
    wait_for(&driver, "#transfer-form").await?;
    click(&driver, "#transfer-save").await?;
    wait_for(&driver, "#transfer-error").await?;
    screenshot(&driver, "scratch-05-transfer").await?;
    click(&driver, "#transfer-cancel").await?;

    // Household: create one, or open the one there is.
    if exists(&driver, "#create-household").await? {
        click(&driver, "#create-household").await?;
        wait_for(&driver, "#household-form").await?;
        screenshot(&driver, "scratch-06-create-household").await?;
        click(&driver, "#save").await?;
    } else {
        click(&driver, "#household-link").await?;
    }
    wait_for(&driver, "#household-file").await?;
    wait_for(&driver, "#household-members").await?;
    screenshot(&driver, "scratch-07-household").await?;

    // Add a member.
    click(&driver, "#add-member").await?;
    wait_for(&driver, "#member-results").await?;
    click(&driver, "#member-results button:not([disabled])").await?;
    click(&driver, "#member-relation option[value='Spouse']").await?;
    screenshot(&driver, "scratch-08-add-member").await?;
    click(&driver, "#add-member-save").await?;
    wait_for_text(&driver, "#notice", "added", |t| t.contains("已加入")).await?;
    screenshot(&driver, "scratch-09-member-added").await?;

    // Household visits: several in a row by keyboard.
    click(&driver, "#record-household-visit").await?;
    wait_for(&driver, "#visit-form").await?;
    eprintln!("focus on the visit form: {}", active_id(&driver).await?);
    for n in 1..=3 {
        let started = std::time::Instant::now();
        let seen = driver.active_element().await?;
        seen.send_keys("本人及配偶").await?;
        seen.send_keys(TypingData::from(Key::Tab)).await?;
        let observations = driver.active_element().await?;
        observations.send_keys(format!("第 {n} 次走访：老人身体尚可")).await?;
        observations.send_keys(Key::Control + Key::Enter).await?;
        wait_for_text(&driver, "#visit-saved", "saved", |t| t.contains(&format!("第 {n} 条"))).await?;
        wait_for_text(&driver, "#visit-list", "in the list", |t| t.contains(&format!("第 {n} 次走访"))).await?;
        eprintln!("visit {n} took {:?}; focus: {}", started.elapsed(), active_id(&driver).await?);
    }
    screenshot(&driver, "scratch-10-visits").await?;

    // Correct the newest.
    click(&driver, "#visit-list li:first-child button.amend").await?;
    wait_for(&driver, "#amend-form").await?;
    type_into(&driver, "#observations", "第 3 次走访：老人腿脚不便").await?;
    let obs = wait_for(&driver, "#observations").await?;
    obs.send_keys(Key::Control + Key::Enter).await?;
    wait_for_text(&driver, "#visit-list", "corrected", |t| t.contains("已更正")).await?;
    screenshot(&driver, "scratch-11-amended").await?;

    // The visit form with odd input.
    paste(&driver, "#visited_on", "２０２６-１２-０１").await?;
    paste(&driver, "#observations", &"走".repeat(10_000)).await?;
    click(&driver, "#save").await?;
    wait_for(&driver, "#error-visited_on").await?;
    screenshot(&driver, "scratch-12-visit-errors").await?;

    // Back to the household, and the file in English.
    let probe = driver
        .execute(
            "const e = document.querySelector('#back-to-file'); e.scrollIntoView({block: 'end'}); const r = e.getBoundingClientRect(); \
             const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
             return [r.x, r.y, r.width, r.height, window.scrollY, at ? at.outerHTML.slice(0, 120) : null];",
            Vec::new(),
        )
        .await?;
    eprintln!("back-to-file: {:?}", probe.json());
    click(&driver, "#back-to-file").await?;
    wait_for(&driver, "#household-file #ledger").await?;
    screenshot(&driver, "scratch-13-household-ledger").await?;
    click(&driver, "#household-members tbody tr td.name a").await?;
    wait_for(&driver, "#recipient-file").await?;
    click(&driver, "#lang-toggle").await?;
    wait_for_text(&driver, "#ledger-title", "english", |t| t.contains("ledger")).await?;
    screenshot(&driver, "scratch-14-file-en").await?;
    driver.quit().await?;
    Ok(())
}
