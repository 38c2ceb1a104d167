//! Access that shrinks, on the device: dropping the stations outside the user's scope, a
//! deactivated account that no longer opens offline, the offline lease, and the wipe of a revoked
//! device that keeps nothing personal and destroys nothing unsent.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::World;
use domain::Labelled;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use serde_json::json;
use store::AcceptedChange;
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").expect("time").with_timezone(&Utc)
}

/// Marks every change waiting in the outbox accepted, as after a push.
fn all_sent(w: &mut World) {
    let pending = w.store.pending_changes(10_000).expect("pending");
    let accepted: Vec<AcceptedChange> = pending
        .iter()
        .enumerate()
        .map(|(n, c)| AcceptedChange { device_seq: c.device_seq, server_seq: n as u64 + 1, effective_hlc: None })
        .collect();
    w.store.mark_accepted_all(&accepted).expect("accepted");
}

fn count(w: &World, kind: EntityKind) -> usize {
    w.store.list(kind, None).expect("list").len()
}

#[test]
fn a_scope_without_a_station_drops_all_of_that_stations_data_and_keeps_unsent_work() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let case = w.open_case(recipient);
    // A supervisor of both stations belongs to the station that stays, too.
    let both = Uuid::now_v7();
    let admin = w.admin.clone();
    w.record(
        &admin,
        vec![
            Write::create(EntityKind::User, both)
                .set(field::user::USERNAME, "both")
                .set(field::user::DISPLAY_NAME, "钱督导")
                .set(field::user::ROLE, "Supervisor")
                .set(field::user::ACTIVE, true)
                .set(field::user::SUPERVISED_STATION_IDS, json!([w.a.id.to_string(), w.b.id.to_string()])),
        ],
    )
    .expect("supervisor of both");
    let unsent = w.store.unsent_count().expect("unsent");
    let b_sum = w.store.station_checksum(w.b.id).expect("sum");

    assert!(w.store.holds_outside(&[w.b.id]).expect("read"));
    assert!(!w.store.holds_outside(&[w.a.id, w.b.id]).expect("read"));
    let dropped = w.store.evict_outside(&[w.b.id]).expect("evicted");
    assert!(dropped > 0);
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_none());
    assert!(w.store.entity(EntityKind::Case, case).expect("read").is_none());
    assert!(w.store.entity(EntityKind::Station, w.a.id).expect("read").is_none());
    assert!(w.store.entity(EntityKind::User, w.a.worker.user_id).expect("read").is_none());
    assert!(w.store.entity(EntityKind::User, both).expect("read").is_some(), "also in the station that stays");
    assert_eq!(w.store.station_checksum(w.b.id).expect("sum"), b_sum, "the station in scope is untouched");
    let both_state = w.get(EntityKind::User, both);
    assert_eq!(
        w.store.station_checksum(w.a.id).expect("sum"),
        domain::entity::checksum_fold(0, &both_state.digest()),
        "of station A, only the supervisor of both stays"
    );
    assert_eq!(w.store.unsent_count().expect("unsent"), unsent, "unsent work stays in the outbox");
    assert!(!w.store.holds_outside(&[w.b.id]).expect("read"), "nothing more to drop");
    assert_eq!(w.store.evict_outside(&[w.b.id]).expect("again"), 0);
}

#[test]
fn dropping_a_station_also_drops_the_history_of_what_was_dropped() {
    let mut w = World::new();
    let recipient = w.add_zhang_san();
    let worker = w.a.worker.clone();
    w.record(
        &worker,
        vec![Write::update(EntityKind::Recipient, recipient).set(field::recipient::PHONE, "13803711234")],
    )
    .expect("update");
    all_sent(&mut w);
    let history = |w: &World| -> i64 {
        w.store
            .connection()
            .query_row("SELECT count(*) FROM changes WHERE entity_id = ?1", [recipient.to_string()], |r| r.get(0))
            .expect("count")
    };
    assert!(history(&w) > 0);
    w.store.evict_outside(&[w.b.id]).expect("evicted");
    assert_eq!(history(&w), 0, "no trace of the recipient stays");
}

#[test]
fn an_account_the_server_called_deactivated_no_longer_opens_offline() {
    let mut w = World::new();
    let me = w.a.worker.user_id;
    assert!(w.store.user_is_active(me).expect("active"));
    w.store.note_account_deactivated(t0()).expect("noted");
    assert!(!w.store.user_is_active(me).expect("read"));
    assert_eq!(w.store.account_deactivated_at().expect("read"), Some(t0()));
    for kind in EntityKind::ALL {
        assert_eq!(count(&w, *kind), 0, "{kind:?}: a deactivated account keeps no data");
    }
    // Reactivated on the server: the next sync round that goes through lifts it.
    w.store.note_contact(t0() + Duration::days(1)).expect("contact");
    assert!(w.store.user_is_active(me).expect("read"));
}

#[test]
fn a_user_record_held_as_inactive_no_longer_opens_offline() {
    let mut w = World::new();
    let me = w.a.worker.user_id;
    let admin = w.admin.clone();
    w.record(&admin, vec![Write::update(EntityKind::User, me).set(field::user::ACTIVE, false)]).expect("deactivated");
    assert!(!w.store.user_is_active(me).expect("read"));
    assert!(w.store.user_is_active(w.a.worker2.user_id).expect("read"));
}

#[test]
fn the_offline_lease_runs_out_after_the_days_the_station_sets() {
    let mut w = World::new();
    w.store.note_contact(t0()).expect("contact");
    assert_eq!(w.store.last_contact().expect("read"), Some(t0()));
    assert_eq!(w.store.offline_lease_days().expect("days"), domain::entity::DEFAULT_OFFLINE_LEASE_DAYS);
    assert!(!w.store.lease_expired(t0() + Duration::days(29)).expect("read"));
    assert!(w.store.lease_expired(t0() + Duration::days(31)).expect("read"));

    let admin = w.admin.clone();
    let station = w.a.id;
    w.record(&admin, vec![Write::update(EntityKind::Station, station).set(field::station::OFFLINE_LEASE_DAYS, 7)])
        .expect("the station sets its lease");
    assert_eq!(w.store.offline_lease_days().expect("days"), 7);
    assert!(!w.store.lease_expired(t0() + Duration::days(6)).expect("read"));
    assert!(w.store.lease_expired(t0() + Duration::days(8)).expect("read"));
    // Contact renews it.
    w.store.note_contact(t0() + Duration::days(8)).expect("contact");
    assert!(!w.store.lease_expired(t0() + Duration::days(9)).expect("read"));
}

#[test]
fn the_last_verification_against_the_server_is_kept_across_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("device.db");
    {
        let mut store = store::Store::open(&path, "pw").expect("create");
        assert_eq!(store.last_verified().expect("read"), None, "never verified yet");
        store.note_verified(t0()).expect("verified");
        store.note_verified(t0() + Duration::hours(1)).expect("verified again");
    }
    let store = store::Store::open(&path, "pw").expect("reopen");
    assert_eq!(store.last_verified().expect("read"), Some(t0() + Duration::hours(1)));
}

#[test]
fn a_wipe_waits_for_unsent_work_then_keeps_nothing_personal() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("laptop.db");
    let mut w = World::with_store(store::Store::open_with_key(&path, &store::DbKey::random()).expect("store"));
    let recipient = w.add_zhang_san();
    w.store.set_session_json(Some("{\"session\":1}")).expect("session");
    w.store.signing_key().expect("key");

    assert!(!w.store.wipe(t0()).expect("refused"), "unsent work is never destroyed");
    assert!(w.store.entity(EntityKind::Recipient, recipient).expect("read").is_some());
    assert_eq!(w.store.revoked_at().expect("read"), None);

    all_sent(&mut w);
    let device = w.store.device_id();
    assert!(w.store.wipe(t0()).expect("wiped"));
    for kind in EntityKind::ALL {
        assert_eq!(count(&w, *kind), 0, "{kind:?}");
    }
    let changes: i64 = w.store.connection().query_row("SELECT count(*) FROM changes", [], |r| r.get(0)).expect("count");
    assert_eq!(changes, 0);
    assert_eq!(w.store.session_json().expect("read"), None);
    let key: Option<String> =
        w.store.connection().query_row("SELECT signing_key FROM device", [], |r| r.get(0)).expect("read");
    assert_eq!(key, None);
    assert_eq!(w.store.revoked_at().expect("read"), Some(t0()));
    assert_eq!(w.store.device_id(), device);
    let wal = std::fs::metadata(dir.path().join("laptop.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal, 0, "nothing stays behind in the write-ahead log");
}
