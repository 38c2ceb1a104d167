//! Sync by USB stick, through a real sync server on loopback: a village laptop without a network
//! writes its outbox to a bundle file, the station laptop (online, signed in as its own user)
//! relays it, and the village laptop imports the return bundle. A bundle imported twice, out of
//! order, altered, or on another laptop changes nothing and says why.

mod common;

use common::{Device, Station};
use protocol::bundle::BundleRelayResponse;
use protocol::codes;
use sync_client::{ExportedBundle, HttpTransport, ImportedBundle, SyncError};

fn secret(device: &Device) -> String {
    device.session.device_secret.clone().expect("the sign-in gave the device's recovery secret")
}

fn export(device: &Device) -> ExportedBundle {
    sync_client::export_outbox(&device.store, device.session.user_id, &secret(device), chrono::Utc::now())
        .expect("exported")
}

/// The station laptop relays a bundle file to the server: the return bundle and what the server
/// said of it.
fn relay(station_laptop: &Device, bundle: &[u8]) -> Result<(Vec<u8>, BundleRelayResponse), SyncError> {
    let mut transport = HttpTransport::new(&station_laptop.url, station_laptop.session.clone()).expect("transport");
    transport.relay_bundle(bundle)
}

fn import(device: &mut Device, bundle: &[u8]) -> Result<ImportedBundle, SyncError> {
    let secret = secret(device);
    sync_client::import_return(&mut device.store, &secret, bundle)
}

fn server_head(station: &Station) -> u64 {
    station.running.server.storage().read().expect("read").log_head().expect("head")
}

/// What a refused import or relay must leave as it was.
fn local_state(device: &Device) -> (u64, u64) {
    (device.store.pending_count().expect("pending"), device.store.pull_cursor().expect("cursor"))
}

fn code(error: &SyncError) -> &str {
    match error {
        SyncError::Server(api) => api.code.as_str(),
        other => other.code(),
    }
}

#[test]
fn a_village_laptops_work_reaches_the_server_through_a_relayed_bundle_and_the_stations_comes_back() {
    let station = Station::new();
    let mut village = station.device("wa", "village");
    let mut station_laptop = station.device("wb", "station");
    let from_the_village = [village.add_recipient("张三", 1), village.add_recipient("李四", 2)];
    let from_the_station = station_laptop.add_recipient("王五", 3);
    station_laptop.sync().expect("the station laptop is online");

    let exported = export(&village);
    assert_eq!(exported.changes, 2);
    assert_eq!(village.store.pending_count().expect("pending"), 2, "exporting changes nothing on the laptop");
    let (return_bundle, relayed) = relay(&station_laptop, &exported.bytes).expect("relayed");
    assert_eq!((relayed.device_id, relayed.changes, relayed.answered_before), (village.store.device_id(), 2, 0));

    station_laptop.sync().expect("the station laptop syncs");
    for recipient in from_the_village {
        assert!(station_laptop.has(recipient), "the server took the village laptop's work");
    }

    let imported = import(&mut village, &return_bundle).expect("imported");
    assert_eq!((imported.answers, imported.accepted, imported.rejected), (exported.bundle_id, 2, 0));
    assert!(!imported.more_waiting);
    assert_eq!(village.store.pending_count().expect("pending"), 0, "the outbox emptied");
    assert!(village.has(from_the_station), "the station's new record came back");

    let online = village.sync().expect("a later online round");
    assert_eq!((online.accepted, online.rejected, online.renumbered), (0, 0, 0), "nothing was left to resend");
}

#[test]
fn a_return_bundle_imported_twice_changes_nothing_the_second_time_and_says_why() {
    let station = Station::new();
    let mut village = station.device("wa", "village");
    let station_laptop = station.device("wb", "station");
    village.add_recipient("张三", 1);
    let (return_bundle, _) = relay(&station_laptop, &export(&village).bytes).expect("relayed");
    import(&mut village, &return_bundle).expect("the first import");
    let before = local_state(&village);

    let again = import(&mut village, &return_bundle).expect_err("a second import is refused");
    assert_eq!(code(&again), codes::BUNDLE_STALE);
    assert!(again.message_zh().contains("已导入过"), "{}", again.message_zh());
    assert_eq!(local_state(&village), before);
}

#[test]
fn an_older_return_bundle_after_a_newer_one_is_refused_and_a_bundle_relayed_again_changes_nothing() {
    let station = Station::new();
    let mut village = station.device("wa", "village");
    let station_laptop = station.device("wb", "station");
    village.add_recipient("张三", 1);
    let first = export(&village);
    let later_work = village.add_recipient("李四", 2);
    let second = export(&village);
    assert_eq!((first.changes, second.changes), (1, 2), "each bundle holds the whole unacknowledged outbox");

    let (older_return, _) = relay(&station_laptop, &first.bytes).expect("relayed");
    let (newer_return, relayed) = relay(&station_laptop, &second.bytes).expect("relayed");
    assert_eq!((relayed.changes, relayed.answered_before), (2, 1), "the first change had its answer already");
    let head = server_head(&station);
    let (_, again) = relay(&station_laptop, &second.bytes).expect("relayed again");
    assert_eq!((again.changes, again.answered_before), (2, 2));
    assert_eq!(server_head(&station), head, "relaying a bundle again logged nothing new");

    let imported = import(&mut village, &newer_return).expect("the newer one");
    assert_eq!(imported.accepted, 2);
    assert!(village.has(later_work));
    let before = local_state(&village);
    let refused = import(&mut village, &older_return).expect_err("the older one comes too late");
    assert_eq!(code(&refused), codes::BUNDLE_STALE);
    assert_eq!(local_state(&village), before);
}

#[test]
fn a_bundle_with_one_byte_changed_is_refused_by_the_server_and_by_the_laptop() {
    let station = Station::new();
    let mut village = station.device("wa", "village");
    let station_laptop = station.device("wb", "station");
    village.add_recipient("张三", 1);
    let exported = export(&village);
    let head = server_head(&station);

    let mut altered = exported.bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x20;
    let refused = relay(&station_laptop, &altered).expect_err("the server refuses an altered bundle");
    assert_eq!(code(&refused), codes::BUNDLE_TAMPERED);
    assert_eq!(server_head(&station), head, "nothing of it reached the log");

    let (return_bundle, _) = relay(&station_laptop, &exported.bytes).expect("the genuine one is relayed");
    let mut altered = return_bundle.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    let before = local_state(&village);
    let refused = import(&mut village, &altered).expect_err("the laptop refuses an altered return bundle");
    assert_eq!(code(&refused), codes::BUNDLE_TAMPERED);
    assert!(refused.message_zh().contains("改动"));
    assert_eq!(local_state(&village), before);
    import(&mut village, &return_bundle).expect("the genuine return bundle is still taken");
}

#[test]
fn a_return_bundle_is_refused_on_another_laptop_and_an_outbox_bundle_is_not_a_return_bundle() {
    let station = Station::new();
    let mut village = station.device("wa", "village");
    let mut colleague = station.device("wb", "colleague");
    village.add_recipient("张三", 1);
    let exported = export(&village);
    let (return_bundle, _) = relay(&colleague, &exported.bytes).expect("relayed");

    let before = local_state(&colleague);
    let refused = import(&mut colleague, &return_bundle).expect_err("another laptop's return bundle");
    assert_eq!(code(&refused), codes::BUNDLE_OTHER_DEVICE);
    assert_eq!(local_state(&colleague), before);

    let refused = import(&mut village, &exported.bytes).expect_err("its own outbox bundle");
    assert_eq!(code(&refused), codes::BUNDLE_WRONG_KIND);
    assert_eq!(village.store.pending_count().expect("pending"), 1);
}

#[test]
fn a_revoked_laptops_bundle_is_refused() {
    let station = Station::new();
    let village = {
        let mut village = station.device("wa", "village");
        village.add_recipient("张三", 1);
        village
    };
    let station_laptop = station.device("wb", "station");
    let exported = export(&village);
    assert!(station.running.server.revoke_device(village.store.device_id()).expect("revoked"));
    let head = server_head(&station);

    let refused = relay(&station_laptop, &exported.bytes).expect_err("refused");
    assert_eq!(code(&refused), codes::DEVICE_REVOKED);
    assert_eq!(server_head(&station), head);
}
