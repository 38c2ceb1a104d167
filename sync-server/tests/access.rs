//! Access that shrinks, on the server: the checksum names the stations a user's devices may hold
//! (and follows moves, supervised stations taken away, deactivation); a deactivated account is
//! answered `account_deactivated` (its pushes are still taken, each change refused and kept); a
//! revoked device is refused at once and may only hand over
//! its unsent work.

mod common;

use std::process::Command;

use common::*;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use protocol::{HandoverRequest, LoginRequest, PullQuery, PushRequest, RefreshRequest, codes};
use serde_json::json;
use sync_server::SYSTEM_USER_ID;

/// An administrator's change, made on the server.
fn as_admin(world: &World, write: Write) {
    if let Err(e) = world.server.admin().record_as(SYSTEM_USER_ID, vec![write.clone()]) {
        panic!("{write:?}: {e}");
    }
}

fn scope(world: &World, device: &Device) -> Option<Vec<domain::Id>> {
    world.server.checksum(device.token()).expect("checksum").scope
}

fn pull_code(world: &World, token: &str) -> Option<String> {
    world.server.pull(token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None }).err().map(|e| e.code)
}

#[test]
fn the_checksum_names_the_stations_a_user_may_hold_and_follows_a_move() {
    let world = World::new();
    let worker = world.login("wa");
    assert_eq!(scope(&world, &worker), Some(vec![world.station_s]));
    as_admin(
        &world,
        Write::update(EntityKind::User, world.worker_a).set(field::user::STATION_ID, world.station_t.to_string()),
    );
    assert_eq!(scope(&world, &worker), Some(vec![world.station_t]), "moved: T only");
    let checksum = world.server.checksum(worker.token()).expect("checksum");
    assert_eq!(checksum.stations.iter().map(|s| s.station_id).collect::<Vec<_>>(), vec![world.station_t]);
}

#[test]
fn a_supervisor_who_loses_a_station_loses_it_from_the_scope() {
    let world = World::new();
    as_admin(
        &world,
        Write::update(EntityKind::User, world.supervisor_s).set(
            field::user::SUPERVISED_STATION_IDS,
            json!([world.station_s.to_string(), world.station_t.to_string()]),
        ),
    );
    let supervisor = world.login("sup");
    let mut both = vec![world.station_s, world.station_t];
    both.sort();
    assert_eq!(scope(&world, &supervisor), Some(both));
    as_admin(
        &world,
        Write::update(EntityKind::User, world.supervisor_s)
            .set(field::user::SUPERVISED_STATION_IDS, json!([world.station_t.to_string()])),
    );
    assert_eq!(scope(&world, &supervisor), Some(vec![world.station_t]));
}

#[test]
fn an_administrators_devices_get_no_scope_to_drop_by() {
    let world = World::new();
    let admin = world.login("adm");
    assert_eq!(scope(&world, &admin), None);
}

#[test]
fn a_deactivated_account_is_answered_account_deactivated_everywhere() {
    let world = World::new();
    let mut worker = world.login("wa");
    let refresh = worker.session.refresh_token.clone();
    as_admin(&world, Write::update(EntityKind::User, world.worker_a).set(field::user::ACTIVE, false));

    assert_eq!(pull_code(&world, worker.token()).as_deref(), Some(codes::ACCOUNT_DEACTIVATED));
    assert_eq!(world.server.checksum(worker.token()).expect_err("refused").code, codes::ACCOUNT_DEACTIVATED);
    // A push is still taken, to keep what they typed: each change refused and stored.
    let (_, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let change = worker.stamp(write);
    let answer = worker.push(&[change]).expect("answered");
    assert_eq!(rejected(&answer.results[0]), "no_role");
    let refreshed = world.server.refresh(RefreshRequest { refresh_token: refresh }).expect_err("refused");
    assert_eq!(refreshed.code, codes::ACCOUNT_DEACTIVATED);
    let login = world
        .server
        .login(LoginRequest {
            username: "wa".into(),
            password: PASSWORD.into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        })
        .expect_err("refused");
    assert_eq!(login.code, codes::ACCOUNT_DEACTIVATED);
    assert!(login.message_zh.contains("停用") && login.message_en.contains("deactivated"), "{login:?}");
    assert_eq!(sync_server::error::status_of(codes::ACCOUNT_DEACTIVATED), axum::http::StatusCode::FORBIDDEN);
}

#[test]
fn a_revoked_device_is_refused_at_once_and_may_only_hand_over_its_work() {
    let world = World::new();
    let mut laptop = world.login("wa");
    let other = world.login("wa");
    laptop.sync();
    let refresh = laptop.session.refresh_token.clone();
    world.server.admin().revoke_device(laptop.id()).expect("revoked");

    // Every token of the device is dead at once, and says why.
    assert_eq!(pull_code(&world, laptop.token()).as_deref(), Some(codes::DEVICE_REVOKED));
    let (typed, write) = recipient(world.station_s, world.village_s, "王五", 3);
    let change = laptop.stamp(write);
    assert_eq!(laptop.push(std::slice::from_ref(&change)).expect_err("refused").code, codes::DEVICE_REVOKED);
    let refreshed = world.server.refresh(RefreshRequest { refresh_token: refresh.clone() }).expect_err("refused");
    assert_eq!(refreshed.code, codes::DEVICE_REVOKED);

    // The hand-over: a push-only session from the last refresh token.
    let handover = world.server.handover(HandoverRequest { refresh_token: refresh.clone() }).expect("hand-over");
    assert_eq!(handover.device_id, laptop.id());
    let answer = world
        .server
        .push(&handover.access_token, domain::SCHEMA_VERSION, PushRequest { changes: vec![change] })
        .expect("the unsent work is taken");
    accepted(&answer.results[0]);
    assert!(world.state(EntityKind::Recipient, typed).is_some());
    assert_eq!(pull_code(&world, &handover.access_token).as_deref(), Some(codes::DEVICE_REVOKED), "push only");
    assert!(world.server.checksum(&handover.access_token).is_err());
    // Asked again (a hand-over cut off), it is given again.
    assert!(world.server.handover(HandoverRequest { refresh_token: refresh }).is_ok());

    // The user's other devices are not affected; a device not revoked gets no hand-over.
    assert_eq!(pull_code(&world, other.token()), None);
    let refused = world
        .server
        .handover(HandoverRequest { refresh_token: other.session.refresh_token.clone() })
        .expect_err("not revoked");
    assert_eq!(refused.code, codes::UNAUTHORIZED);
}

#[test]
fn the_admin_command_revokes_a_device() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(120));
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = env!("CARGO_BIN_EXE_shegong-sync");
    let database = test_support::backend::TestDatabase::new(dir.path());
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .envs(database.server_env())
            .env("SHEGONG_SYNC__LOG", "warn")
            .env_remove("SHEGONG_SYNC_CONFIG")
            .output()
            .expect("the binary runs")
    };
    assert!(run(&["admin", "seed-demo"]).status.success());
    let server =
        sync_server::Server::new(database.open(), sync_server::ServerSettings::default(), sync_server::system_clock());
    let session = server
        .login(LoginRequest {
            username: "shegong1".into(),
            password: sync_server::DEMO_PASSWORD.into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        })
        .expect("signed in");
    drop(server);

    let output = run(&["admin", "device", "revoke", &session.device_id.to_string()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let unknown = run(&["admin", "device", "revoke", &uuid::Uuid::now_v7().to_string()]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no device"), "{unknown:?}");

    let server =
        sync_server::Server::new(database.open(), sync_server::ServerSettings::default(), sync_server::system_clock());
    let refused = server
        .pull(&session.access_token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None })
        .expect_err("revoked");
    assert_eq!(refused.code, codes::DEVICE_REVOKED);
}
