//! End-to-end: the real desktop app (debug build, UI embedded) driven through WebDriver under
//! Xvfb, against the real sync server seeded with the demo station. Each test has its own server
//! data, app data directories, display and driver. Screenshots of each screen visited are saved
//! under `<target>/e2e/`.

use domain::change::Incoming;
use domain::entity::EntityKind;
use domain::field;
use shegong_tests::webdriver::{
    STEP_TIMEOUT, attribute, click, is_selected, screenshot, type_into, value_of, wait_for, wait_for_text,
};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, SyncServer, deadline};
use test_support::{id_number_from_first17, with_wrong_check_digit};
use thirtyfour::prelude::*;
use tokio::sync::Mutex;

/// How long one test may take, waiting for the others included (they run one at a time).
const TEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

/// The tests share the machine's two cores; one app at a time keeps them unhurried.
static ONE_APP_AT_A_TIME: Mutex<()> = Mutex::const_new(());

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn sign_in(driver: &WebDriver, username: &str, password: &str) -> TestResult {
    type_into(driver, "#username", username).await?;
    // Enter submits the form, as a keyboard user would.
    type_into(driver, "#password", TypingData::from(password) + Key::Enter).await?;
    Ok(())
}

/// Picks the first village in the add-recipient form's select, the way a user clicks it.
async fn choose_first_village(driver: &WebDriver) -> TestResult {
    click(driver, "#village optgroup option").await?;
    Ok(())
}

/// The names in the roster table as shown, read in one step (the table may re-render between
/// two WebDriver calls when a sync brings news).
async fn roster_names(driver: &WebDriver) -> Result<Vec<String>, WebDriverError> {
    let script =
        "return Array.from(document.querySelectorAll('#roster-table tbody td.name')).map(td => td.textContent);";
    let names = driver.execute(script, Vec::new()).await?.json().clone();
    Ok(serde_json::from_value(names).unwrap_or_default())
}

async fn search(driver: &WebDriver, kind: &str, text: &str) -> TestResult {
    click(driver, &format!("#search-kind option[value='{kind}']")).await?;
    type_into(driver, "#search", TypingData::from(text) + Key::Enter).await?;
    Ok(())
}

/// Waits until the deputy head of the demo station can pull a recipient named `name`.
async fn wait_until_on_server(server: &SyncServer, name: &str) -> TestResult {
    let start = std::time::Instant::now();
    loop {
        let items = tokio::task::block_in_place(|| server.pull_everything("fuzhan1", DEMO_PASSWORD))?;
        let arrived = items.iter().any(|item| match item {
            Incoming::Change(change) => {
                change.entity == EntityKind::Recipient && change.str_value(field::recipient::NAME) == Some(name)
            }
            Incoming::Snapshot(state) => {
                state.kind == EntityKind::Recipient && state.get_str(field::recipient::NAME) == Some(name)
            }
            Incoming::Evict { .. } => false,
        });
        if arrived {
            return Ok(());
        }
        if start.elapsed() > STEP_TIMEOUT {
            return Err(format!("{name} did not reach the sync server within {} s", STEP_TIMEOUT.as_secs()).into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_added_by_a_social_worker_is_in_the_roster_after_a_restart() -> TestResult {
    let _deadline = deadline(TEST_DEADLINE);
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let mut server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let name = "王测试";
    let id = id_number_from_first17("44052419580101123");
    let phone = "13912345678";

    // First start: sign in online; the first sync fills the roster with the demo station.
    let driver = app.launch().await?;
    wait_for(&driver, "#username").await?;
    screenshot(&driver, "01-sign-in").await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD).await?;
    wait_for(&driver, "#roster-table tbody tr").await?;
    let demo = roster_names(&driver).await?;
    assert!(!demo.is_empty(), "the roster shows the demo recipients");
    assert!(!demo.iter().any(|n| n == name), "the new recipient is not there yet: {demo:?}");
    screenshot(&driver, "02-roster").await?;

    // Add a recipient.
    click(&driver, "#nav-add-recipient").await?;
    type_into(&driver, "#name", name).await?;
    type_into(&driver, "#id_number", &id).await?;
    click(&driver, "#category-Dibao").await?;
    click(&driver, "#category-VulnerableElderly").await?;
    choose_first_village(&driver).await?;
    type_into(&driver, "#phone", phone).await?;
    // The gender and date of birth are read from the ID number as it is typed.
    wait_for_text(&driver, "#hint-id_number", "the date of birth", |t| t.contains("1958-01-01")).await?;
    screenshot(&driver, "03-add-recipient").await?;
    click(&driver, "#save").await?;
    wait_for_text(&driver, "#notice", "the saved notice", |t| t.contains(name)).await?;
    search(&driver, "name", name).await?;
    wait_for_text(&driver, "#roster-table", "the new recipient", |t| t.contains(name)).await?;
    assert_eq!(roster_names(&driver).await?, vec![name.to_string()]);
    screenshot(&driver, "04-roster-with-new-recipient").await?;
    // The background sync sends it to the server: another user of the station receives it.
    wait_until_on_server(&server, name).await?;

    // Quit the app, take the server away, start the app again: signing in works offline from the
    // local database, and the recipient is still there.
    driver.quit().await?;
    server.stop();
    let driver = app.launch().await?;
    wait_for_text(&driver, "#local-users", "the user who can sign in offline", |t| t.contains("shegong1")).await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD).await?;
    wait_for(&driver, "#roster-table tbody tr").await?;
    screenshot(&driver, "05-roster-after-restart").await?;
    search(&driver, "name", name).await?;
    wait_for_text(&driver, "#roster-table", "the recipient after the restart", |t| t.contains(name)).await?;
    assert_eq!(roster_names(&driver).await?, vec![name.to_string()]);
    // Found by the pinyin initials of the name (王测试: wang ce shi), and by the end of the ID number.
    search(&driver, "name", "wcs").await?;
    wait_for_text(&driver, "#roster-table", "the recipient found by pinyin initials", |t| t.contains(name)).await?;
    search(&driver, "id_suffix", &id[14..]).await?;
    wait_for_text(&driver, "#roster-table", "the recipient found by ID suffix", |t| t.contains(name)).await?;
    wait_for_text(&driver, "#sync-online", "offline", |t| t.contains("离线")).await?;
    // The outbox remembers that the server has the change: nothing waits to be sent.
    wait_for_text(&driver, "#sync-pending", "no pending changes", |t| t.trim() == "0").await?;
    screenshot(&driver, "06-search-after-restart").await?;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_id_number_is_shown_at_its_field_and_nothing_typed_is_lost() -> TestResult {
    let _deadline = deadline(TEST_DEADLINE);
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let name = "李校验";
    let valid = id_number_from_first17("51012920100704312");
    let invalid = with_wrong_check_digit(&valid);
    let phone = "13800138000";

    let driver = app.launch().await?;
    wait_for(&driver, "#username").await?;
    // A wrong password is refused at the password field.
    sign_in(&driver, "shegong1", "not-the-password").await?;
    wait_for_text(&driver, "#error-password", "the wrong-password error", |t| t.contains("用户名或密码错误")).await?;
    screenshot(&driver, "07-sign-in-wrong-password").await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD).await?;
    wait_for(&driver, "#roster-table").await?;

    click(&driver, "#nav-add-recipient").await?;
    type_into(&driver, "#name", name).await?;
    type_into(&driver, "#id_number", &invalid).await?;
    click(&driver, "#category-LeftBehindChild").await?;
    choose_first_village(&driver).await?;
    let village = value_of(&driver, "#village").await?;
    type_into(&driver, "#phone", phone).await?;
    click(&driver, "#save").await?;

    // The error is at the ID number, in Chinese, naming the check digit...
    let error = wait_for_text(&driver, "#error-id_number", "the check-digit error", |t| t.contains("校验码")).await?;
    assert!(error.contains("身份证号"), "the error names the field: {error}");
    assert_eq!(attribute(&driver, "#id_number", "aria-invalid").await?.as_deref(), Some("true"));
    // ...and everything typed is still there.
    assert_eq!(value_of(&driver, "#name").await?, name);
    assert_eq!(value_of(&driver, "#id_number").await?, invalid);
    assert_eq!(value_of(&driver, "#phone").await?, phone);
    assert_eq!(value_of(&driver, "#village").await?, village);
    assert!(is_selected(&driver, "#category-LeftBehindChild").await?);
    assert!(!is_selected(&driver, "#category-Dibao").await?);
    screenshot(&driver, "08-invalid-id-number").await?;

    // The English switch: labels and the error turn English, the typing stays.
    click(&driver, "#lang-toggle").await?;
    wait_for_text(&driver, "label[for='name']", "the English label", |t| t.contains("Name")).await?;
    wait_for_text(&driver, "#error-id_number", "the English error", |t| {
        t.contains("Resident ID number has a wrong check digit")
    })
    .await?;
    assert_eq!(value_of(&driver, "#id_number").await?, invalid);
    screenshot(&driver, "09-invalid-id-number-english").await?;

    // Corrected, it saves.
    type_into(&driver, "#id_number", &valid).await?;
    click(&driver, "#save").await?;
    wait_for_text(&driver, "#notice", "the saved notice", |t| t.contains(name)).await?;
    search(&driver, "name", name).await?;
    wait_for_text(&driver, "#roster-table", "the corrected recipient", |t| t.contains(name)).await?;
    screenshot(&driver, "10-corrected-recipient-english").await?;

    // The language is remembered across a restart.
    driver.quit().await?;
    let driver = app.launch().await?;
    wait_for_text(&driver, "label[for='username']", "the English sign-in page", |t| t.contains("Username")).await?;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_added_while_the_server_is_away_reaches_it_once_it_is_back() -> TestResult {
    let _deadline = deadline(TEST_DEADLINE);
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let mut server = SyncServer::start_with_demo_data()?;
    let app = DesktopApp::start(server.url())?;
    let name = "赵离线";
    let id = id_number_from_first17("44052420150305222");

    let driver = app.launch().await?;
    wait_for(&driver, "#username").await?;
    sign_in(&driver, "shegong1", DEMO_PASSWORD).await?;
    wait_for(&driver, "#roster-table tbody tr").await?;
    wait_for_text(&driver, "#sync-online", "online", |t| t.contains("在线")).await?;

    // The network goes: the work goes on, and the status bar says what waits to be sent.
    server.stop();
    click(&driver, "#nav-add-recipient").await?;
    type_into(&driver, "#name", name).await?;
    type_into(&driver, "#id_number", &id).await?;
    click(&driver, "#category-LeftBehindChild").await?;
    choose_first_village(&driver).await?;
    click(&driver, "#save").await?;
    wait_for_text(&driver, "#notice", "the saved notice", |t| t.contains(name)).await?;
    wait_for_text(&driver, "#sync-online", "offline", |t| t.contains("离线")).await?;
    wait_for_text(&driver, "#sync-pending", "one change waiting", |t| t.trim() == "1").await?;
    screenshot(&driver, "11-added-while-offline").await?;

    // The server is back where it was; "sync now" sends the change without waiting for the
    // next round.
    server.restart()?;
    click(&driver, "#sync-now").await?;
    wait_for_text(&driver, "#sync-pending", "nothing waiting", |t| t.trim() == "0").await?;
    wait_for_text(&driver, "#sync-online", "online again", |t| t.contains("在线")).await?;
    wait_until_on_server(&server, name).await?;
    screenshot(&driver, "12-sent-once-back-online").await?;
    driver.quit().await?;
    Ok(())
}
