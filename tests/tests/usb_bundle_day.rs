//! End-to-end: sync by USB stick (U盘同步) in the real app (WebDriver under Xvfb), against the
//! real sync server on loopback. The village laptop is the worker's (社工, `shegong1`), the
//! station's online laptop the deputy head's (副站长, `fuzhan1`); each has its own display,
//! driver and data, and only one runs at a time, as the stick goes between them.
//!
//! The village laptop has no network while its work is exported and while the return bundle is
//! imported: the server is stopped then. Between the two the laptop is shut, which is what keeps
//! it from syncing by network while the server is up for the station's relay.
//!
//! Everything is done on the waiting-changes page (`#/waiting`) by typing a path and pressing
//! Enter. Screenshots under `<target>/e2e/`: `worker-usb-bundle-NN-what.png` (the village
//! laptop) and `deputy-usb-bundle-NN-what.png` (the station laptop).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::entity::EntityKind;
use domain::field;
use shegong_tests::screens::{change_phone, go_to, sign_in, sync_now};
use shegong_tests::webdriver::{click, screenshot, type_into, value_of, wait_for, wait_for_text, wait_gone};
use shegong_tests::{DEMO_PASSWORD, DesktopApp, Held, SyncServer, deadline};
use thirtyfour::prelude::*;
use tokio::sync::Mutex;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How long one scenario may take, waiting for the other included (they run one at a time).
const TEST_DEADLINE: Duration = Duration::from_secs(1200);

/// The scenarios share the machine's two cores; one at a time keeps them unhurried.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The worker's first screen, and the deputy head's.
const WORKER_HOME: &str = "#roster-table tbody tr td.name a";
const DEPUTY_HOME: &str = "#case-board";

/// The phone numbers the village laptop and the station laptop give two people.
const VILLAGE_PHONE: &str = "13600001111";
const STATION_PHONE: &str = "13500002222";

/// Everything `username` may pull from the server now, record by record.
fn held_on_server(server: &SyncServer, username: &str) -> TestResult<BTreeMap<Uuid, Held>> {
    Ok(tokio::task::block_in_place(|| server.held_by(username, DEMO_PASSWORD))?)
}

/// Two people on the worker's roster: the one the village laptop edits, the one the station does.
fn two_recipients(held: &BTreeMap<Uuid, Held>) -> TestResult<(Uuid, Uuid)> {
    let mut recipients = held.iter().filter(|(_, h)| h.kind == EntityKind::Recipient).map(|(id, _)| *id);
    match (recipients.next(), recipients.next()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("two demo recipients the worker holds".into()),
    }
}

fn phone_on_server(server: &SyncServer, recipient: Uuid) -> TestResult<Option<String>> {
    let held = held_on_server(server, "fuzhan1")?;
    let person = held.get(&recipient).ok_or("the recipient on the server")?;
    Ok(person.str(field::recipient::PHONE).map(str::to_string))
}

/// The waiting-changes page, by the status bar's link, as a user gets there.
async fn open_waiting_page(driver: &WebDriver) -> TestResult {
    click(driver, "#sync-pending-link").await?;
    wait_for(driver, "#usb-bundle").await?;
    Ok(())
}

/// Types `path` into one of the page's bundle boxes (`export`, `relay`, `import`) and presses
/// Enter, which submits its form.
async fn submit_path(driver: &WebDriver, form: &str, path: &str) -> TestResult {
    type_into(driver, &format!("#bundle-{form}-path"), TypingData::from(path) + Key::Enter).await?;
    Ok(())
}

async fn pending_is(driver: &WebDriver, count: u32) -> TestResult {
    let want = count.to_string();
    wait_for_text(driver, "#sync-pending", &format!("{count} waiting"), |t| t.trim() == want).await?;
    Ok(())
}

/// The bundle files in a folder of the stick.
fn bundles_in(dir: &Path) -> TestResult<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sgbundle") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// A copy of `path` named `name` beside it, with one byte flipped in its sealed part.
fn altered_copy(path: &Path, name: &str) -> TestResult<PathBuf> {
    let mut bytes = std::fs::read(path)?;
    let at = bytes.len() / 3;
    let byte = bytes.get_mut(at).ok_or("an empty bundle file")?;
    *byte ^= 0x04;
    let altered = path.with_file_name(name);
    std::fs::write(&altered, bytes)?;
    Ok(altered)
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_laptops_visit_reaches_the_server_by_usb_stick_and_the_return_bundle_is_imported_once() -> TestResult
{
    let _deadline = deadline(TEST_DEADLINE);
    let _one = ONE_AT_A_TIME.lock().await;
    let mut server = SyncServer::start_with_demo_data()?;
    let (edited_in_the_village, edited_at_the_station) = two_recipients(&held_on_server(&server, "shegong1")?)?;
    let stick = tempfile::TempDir::with_prefix("shegong-stick-")?;

    // The village laptop signs in online once, which gives it the key that seals its bundles.
    let village_app = DesktopApp::start(server.url())?;
    let village = village_app.launch().await?;
    sign_in(&village, "shegong1", DEMO_PASSWORD, WORKER_HOME).await?;
    wait_for_text(&village, "#sync-online", "online", |t| t.contains("在线")).await?;

    // Weeks without signal: a phone number changed, then the outbox exported to the stick.
    server.stop();
    change_phone(&village, edited_in_the_village, VILLAGE_PHONE).await?;
    pending_is(&village, 1).await?;
    open_waiting_page(&village).await?;
    wait_for(&village, "#waiting-list tbody tr").await?;
    submit_path(&village, "export", &shown(stick.path())).await?;
    wait_for_text(&village, "#bundle-result", "the bundle written", |t| t.contains("已导出同步包（1 条修改）")).await?;
    wait_for_text(&village, "#sync-online", "offline", |t| t.contains("离线")).await?;
    screenshot(&village, "worker-usb-bundle-01-exported-offline").await?;
    let exported = bundles_in(stick.path())?;
    let [bundle] = exported.as_slice() else {
        return Err(format!("one bundle on the stick, not {exported:?}").into());
    };
    // Exporting takes nothing out of the outbox: only the return bundle says what the server took.
    pending_is(&village, 1).await?;
    village.quit().await?;

    // At the station, online: the deputy head changes someone's phone number and syncs, then
    // relays the stick's bundle.
    server.restart()?;
    assert_ne!(phone_on_server(&server, edited_in_the_village)?.as_deref(), Some(VILLAGE_PHONE));
    let station_app = DesktopApp::start(server.url())?;
    let station = station_app.launch().await?;
    sign_in(&station, "fuzhan1", DEMO_PASSWORD, DEPUTY_HOME).await?;
    change_phone(&station, edited_at_the_station, STATION_PHONE).await?;
    sync_now(&station).await?;
    open_waiting_page(&station).await?;
    submit_path(&station, "relay", &shown(bundle)).await?;
    let relayed =
        wait_for_text(&station, "#bundle-result", "the bundle relayed", |t| t.contains("已转交 1 条修改")).await?;
    let return_bundle = bundle.with_file_name(format!(
        "{}-return.sgbundle",
        bundle.file_stem().and_then(|s| s.to_str()).ok_or("the bundle's name")?
    ));
    assert!(relayed.contains(&shown(&return_bundle)), "the result names the return bundle: {relayed}");
    assert!(return_bundle.is_file(), "the return bundle beside the bundle on the stick");
    screenshot(&station, "deputy-usb-bundle-02-relayed-at-the-station").await?;
    station.quit().await?;
    // The server holds the village's work; the station laptop only carried it.
    assert_eq!(phone_on_server(&server, edited_in_the_village)?.as_deref(), Some(VILLAGE_PHONE));

    // Back in the village, still without a network: the return bundle is imported.
    server.stop();
    let village = village_app.launch().await?;
    sign_in(&village, "shegong1", DEMO_PASSWORD, WORKER_HOME).await?;
    pending_is(&village, 1).await?;
    open_waiting_page(&village).await?;
    submit_path(&village, "import", &shown(&return_bundle)).await?;
    wait_for_text(&village, "#bundle-result", "the server's answers taken in", |t| {
        t.contains("服务器接收 1 条、拒收 0 条")
    })
    .await?;
    pending_is(&village, 0).await?;
    wait_for(&village, "#waiting-empty").await?;
    wait_for_text(&village, "#sync-online", "still offline", |t| t.contains("离线")).await?;
    screenshot(&village, "worker-usb-bundle-03-return-imported").await?;

    // Imported again: refused, saying why, and nothing changes.
    submit_path(&village, "import", &shown(&return_bundle)).await?;
    wait_for_text(&village, "#error-bundle-import", "the refusal in Chinese", |t| t.contains("已导入过")).await?;
    wait_gone(&village, "#bundle-result").await?;
    assert_eq!(value_of(&village, "#bundle-import-path").await?, shown(&return_bundle), "the typed path stays");
    pending_is(&village, 0).await?;
    screenshot(&village, "worker-usb-bundle-04-imported-twice-refused").await?;
    click(&village, "#lang-toggle").await?;
    wait_for_text(&village, "#error-bundle-import", "the refusal in English", |t| t.contains("imported already"))
        .await?;
    screenshot(&village, "worker-usb-bundle-05-refusal-in-english").await?;

    // The return bundle also carried the station's change to this laptop.
    go_to(&village, &format!("#/recipients/{edited_at_the_station}")).await?;
    wait_for_text(&village, "#recipient-phone", "the station's phone number", |t| t.contains(STATION_PHONE)).await?;
    go_to(&village, &format!("#/recipients/{edited_in_the_village}")).await?;
    wait_for_text(&village, "#recipient-phone", "the village's own number", |t| t.contains(VILLAGE_PHONE)).await?;
    village.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_bundle_is_refused_in_the_app_with_its_reason_and_the_typed_path_stays() -> TestResult {
    let _deadline = deadline(TEST_DEADLINE);
    let _one = ONE_AT_A_TIME.lock().await;
    let mut server = SyncServer::start_with_demo_data()?;
    let (edited, _) = two_recipients(&held_on_server(&server, "shegong1")?)?;
    let phone_before = phone_on_server(&server, edited)?;
    let stick = tempfile::TempDir::with_prefix("shegong-stick-")?;

    let village_app = DesktopApp::start(server.url())?;
    let village = village_app.launch().await?;
    sign_in(&village, "shegong1", DEMO_PASSWORD, WORKER_HOME).await?;
    wait_for_text(&village, "#sync-online", "online", |t| t.contains("在线")).await?;
    server.stop();
    change_phone(&village, edited, VILLAGE_PHONE).await?;
    open_waiting_page(&village).await?;
    // A file path this time, named in Chinese as a user may name it.
    let bundle = stick.path().join("村里.sgbundle");
    submit_path(&village, "export", &shown(&bundle)).await?;
    wait_for_text(&village, "#bundle-result", "the bundle written", |t| t.contains(&shown(&bundle))).await?;
    village.quit().await?;

    // On the way one byte of the file changed: the station's relay is refused, saying why, at
    // the path box, which keeps what was typed; the server took nothing.
    let altered = altered_copy(&bundle, "改过.sgbundle")?;
    server.restart()?;
    let station_app = DesktopApp::start(server.url())?;
    let station = station_app.launch().await?;
    sign_in(&station, "fuzhan1", DEMO_PASSWORD, DEPUTY_HOME).await?;
    open_waiting_page(&station).await?;
    submit_path(&station, "relay", &shown(&altered)).await?;
    wait_for_text(&station, "#error-bundle-relay", "why it was refused, in Chinese", |t| t.contains("同步包已被改动"))
        .await?;
    assert_eq!(value_of(&station, "#bundle-relay-path").await?, shown(&altered), "the typed path stays");
    let invalid = wait_for(&station, "#bundle-relay-path").await?.attr("aria-invalid").await?;
    assert_eq!(invalid.as_deref(), Some("true"), "the box is marked as the one at fault");
    assert!(station.find_all(By::Css("#bundle-result")).await?.is_empty(), "nothing was relayed");
    screenshot(&station, "deputy-usb-bundle-11-altered-bundle-refused-at-the-station").await?;
    click(&station, "#lang-toggle").await?;
    wait_for_text(&station, "#error-bundle-relay", "why it was refused, in English", |t| {
        t.starts_with("The bundle was altered")
    })
    .await?;
    click(&station, "#lang-toggle").await?;
    assert_eq!(phone_on_server(&server, edited)?, phone_before, "the server took nothing of it");
    assert!(!altered.with_file_name("改过-return.sgbundle").exists(), "no return bundle for it");

    // The genuine file goes through; its return bundle is altered on the way back.
    submit_path(&station, "relay", &shown(&bundle)).await?;
    wait_for_text(&station, "#bundle-result", "the genuine bundle relayed", |t| t.contains("已转交 1 条修改")).await?;
    wait_gone(&station, "#error-bundle-relay").await?;
    station.quit().await?;
    assert_eq!(phone_on_server(&server, edited)?.as_deref(), Some(VILLAGE_PHONE));
    let altered_return = altered_copy(&stick.path().join("村里-return.sgbundle"), "回程改过.sgbundle")?;

    // In the village, offline: the altered return bundle is refused and the outbox keeps its change.
    server.stop();
    let village = village_app.launch().await?;
    sign_in(&village, "shegong1", DEMO_PASSWORD, WORKER_HOME).await?;
    open_waiting_page(&village).await?;
    submit_path(&village, "import", &shown(&altered_return)).await?;
    wait_for_text(&village, "#error-bundle-import", "why it was refused, in Chinese", |t| t.contains("同步包已被改动"))
        .await?;
    assert_eq!(value_of(&village, "#bundle-import-path").await?, shown(&altered_return), "the typed path stays");
    pending_is(&village, 1).await?;
    wait_for(&village, "#waiting-list tbody tr").await?;
    screenshot(&village, "worker-usb-bundle-12-altered-return-refused-in-the-village").await?;
    click(&village, "#lang-toggle").await?;
    wait_for_text(&village, "#error-bundle-import", "why it was refused, in English", |t| t.contains("altered"))
        .await?;
    village.quit().await?;
    Ok(())
}
