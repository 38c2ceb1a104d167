//! Sync by USB stick through the app's use cases and a real sync server on loopback: the village
//! laptop writes its outbox to a folder (the stick), the station laptop relays the file and
//! writes the return bundle beside it, the village laptop imports that. A second import, or an
//! altered file, is refused at the path field with its code.

use std::path::Path;
use std::sync::Arc;

use app::bundle::{PATH_FIELD, export_bundle, import_bundle, relay_bundle};
use app::{Account, Moment};
use chrono::Utc;
use contract::{CommandError, SignInRequest, codes};
use domain::entity::EntityKind;
use sync_client::{Engine, HttpTransport, SyncReport};
use test_support::TestClock;
use test_support::loopback::Loopback;
use test_support::world::World;

fn sign_in(dir: &Path, url: &str, username: &str) -> Account {
    let request = SignInRequest {
        username: username.into(),
        password: test_support::world::PASSWORD.into(),
        server_url: Some(url.into()),
    };
    app::account::sign_in(dir, &request, url).expect("signed in")
}

/// One online sync round of an account.
fn sync(account: &mut Account) -> SyncReport {
    let session = account.session.clone().expect("a session");
    let mut engine = Engine::new(HttpTransport::new(&account.server_url, session).expect("transport"));
    let report = engine.sync_once(&mut account.store, |_| {}).expect("synced");
    if let Some(refreshed) = engine.transport().take_refreshed_session() {
        account.save_session(refreshed).expect("saved");
    }
    report
}

fn record_person(account: &mut Account, world: &World, name: &str, n: u32) -> uuid::Uuid {
    let (id, write) = test_support::writes::recipient(world.station_s, world.village_s, name, n);
    let actor = account.actor.clone();
    account.store.record(&actor, vec![write], Utc::now(), Utc::now().date_naive()).expect("recorded");
    id
}

fn refusal(error: app::AppError) -> CommandError {
    CommandError::from(error)
}

#[test]
fn a_village_laptops_bundle_goes_through_the_station_laptop_and_its_return_is_imported_once() {
    let world = World::with_storage_and_clock(
        Arc::new(sync_server::SqliteStorage::open_in_memory().expect("storage")),
        TestClock::system(),
    );
    let server = Loopback::serve(world.server.clone(), 1);
    let (village_dir, station_dir, stick) =
        (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("stick"));
    let mut village = sign_in(village_dir.path(), &server.url, "wa");
    sync(&mut village);
    let mut station = sign_in(station_dir.path(), &server.url, "wb");
    sync(&mut station);
    let from_the_station = record_person(&mut station, &world, "王五", 3);
    sync(&mut station);

    // Weeks without signal: the work stays on the laptop until the stick goes to the station.
    let from_the_village = record_person(&mut village, &world, "张三", 1);
    let exported = export_bundle(&village, &stick.path().display().to_string(), Moment::current()).expect("exported");
    assert_eq!(exported.changes, 1);
    assert!(exported.path.ends_with(".sgbundle") && Path::new(&exported.path).is_file(), "{}", exported.path);
    assert!(world.state(EntityKind::Recipient, from_the_village).is_none());

    let relayed = relay_bundle(&mut station, &exported.path).expect("relayed");
    assert_eq!((relayed.device_id, relayed.changes, relayed.answered_before), (village.store.device_id(), 1, 0));
    assert!(world.state(EntityKind::Recipient, from_the_village).is_some(), "the server holds the village's work");

    let imported = import_bundle(&mut village, &relayed.path).expect("imported");
    assert_eq!((imported.accepted, imported.rejected, imported.more_waiting), (1, 0, false));
    assert_eq!(village.store.pending_count().expect("pending"), 0, "the outbox emptied");
    assert!(village.store.entity(EntityKind::Recipient, from_the_station).expect("read").is_some());

    let again = refusal(import_bundle(&mut village, &relayed.path).expect_err("imported twice"));
    assert_eq!((again.code.as_str(), again.field.as_deref()), (codes::BUNDLE_STALE, Some(PATH_FIELD)));
    assert!(again.message_zh.contains("已导入过") && again.message_en.contains("imported already"));
}

#[test]
fn an_altered_bundle_file_is_refused_at_the_station_and_at_the_village() {
    let world = World::with_storage_and_clock(
        Arc::new(sync_server::SqliteStorage::open_in_memory().expect("storage")),
        TestClock::system(),
    );
    let server = Loopback::serve(world.server.clone(), 1);
    let (village_dir, station_dir, stick) =
        (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("stick"));
    let mut village = sign_in(village_dir.path(), &server.url, "wa");
    sync(&mut village);
    let mut station = sign_in(station_dir.path(), &server.url, "wb");
    let person = record_person(&mut village, &world, "张三", 1);
    let file = stick.path().join("村里.sgbundle");
    let exported = export_bundle(&village, &file.display().to_string(), Moment::current()).expect("exported");

    let flip = |path: &Path| {
        let mut bytes = std::fs::read(path).expect("read");
        let at = bytes.len() / 3;
        bytes[at] ^= 0x04;
        let altered = path.with_file_name("altered.sgbundle");
        std::fs::write(&altered, bytes).expect("write");
        altered.display().to_string()
    };
    let refused = refusal(relay_bundle(&mut station, &flip(&file)).expect_err("altered on the way"));
    assert_eq!((refused.code.as_str(), refused.field.as_deref()), (codes::BUNDLE_TAMPERED, Some(PATH_FIELD)));
    assert!(refused.message_en.starts_with("The bundle was altered"), "a sentence: {}", refused.message_en);
    assert!(world.state(EntityKind::Recipient, person).is_none(), "nothing of it was taken");

    let relayed = relay_bundle(&mut station, &exported.path).expect("the genuine file");
    let refused = refusal(import_bundle(&mut village, &flip(Path::new(&relayed.path))).expect_err("altered"));
    assert_eq!(refused.code, codes::BUNDLE_TAMPERED);
    assert_eq!(village.store.pending_count().expect("pending"), 1, "nothing was taken from it");
}

#[test]
fn a_refreshed_session_keeps_the_key_that_seals_the_devices_bundles() {
    let world = World::with_storage_and_clock(
        Arc::new(sync_server::SqliteStorage::open_in_memory().expect("storage")),
        TestClock::system(),
    );
    let server = Loopback::serve(world.server.clone(), 1);
    let (dir, stick) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("stick"));
    let mut village = sign_in(dir.path(), &server.url, "wa");
    let mut refreshed = village.session.clone().expect("session");
    refreshed.device_secret = None;
    refreshed.access_token = "renewed".into();
    village.save_session(refreshed).expect("saved");
    assert!(export_bundle(&village, &stick.path().display().to_string(), Moment::current()).is_ok());

    let session = village.session.clone().expect("session");
    let saved: serde_json::Value =
        serde_json::from_str(&village.store.session_json().expect("read").expect("saved")).expect("json");
    assert_eq!(saved["session"]["access_token"], "renewed");
    assert_eq!(saved["session"]["device_secret"].as_str(), session.device_secret.as_deref());
}
