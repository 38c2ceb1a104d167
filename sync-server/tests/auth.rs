//! Signing in, tokens and their lifetimes, devices, supervisors' signing keys, and the closure
//! sign-off they verify.

mod common;

use chrono::Duration;
use common::*;
use domain::change::Write;
use domain::entity::EntityKind;
use domain::field;
use ed25519_dalek::SigningKey;
use protocol::{LoginRequest, PullQuery, RefreshRequest, codes};
use serde_json::json;
use uuid::Uuid;

fn login_request(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
        device_id: None,
        device_name: "laptop".into(),
        signing_key: None,
        signing_key_proof: None,
    }
}

#[test]
fn a_wrong_password_or_an_unknown_user_is_refused_alike() {
    let world = World::new();
    let wrong = world.server.login(login_request("wa", "password2")).expect_err("refused");
    assert_eq!(wrong.code, codes::BAD_CREDENTIALS);
    let unknown = world.server.login(login_request("nobody", PASSWORD)).expect_err("refused");
    assert_eq!(unknown, wrong, "the same answer: usernames cannot be probed");
    let empty = world.server.login(login_request("  ", PASSWORD)).expect_err("refused");
    assert_eq!(empty.code, codes::MALFORMED);
}

#[test]
fn a_session_carries_the_users_own_record() {
    let world = World::new();
    let device = world.login("wa");
    assert_eq!(device.session.user_id, world.worker_a);
    assert_eq!(device.session.user.id, world.worker_a);
    assert_eq!(device.session.user.get_str(field::user::ROLE), Some("SocialWorker"));
    assert_eq!(device.session.access_expires_at, world.clock.now() + Duration::hours(1));
    assert_eq!(device.session.refresh_expires_at, world.clock.now() + Duration::days(30));
    assert_eq!(device.session.server_time, world.clock.now());
}

#[test]
fn an_expired_access_token_is_refused_until_refreshed() {
    let world = World::new();
    let device = world.login("wa");
    let pull = |token: &str| world.server.pull(token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert!(pull(device.token()).is_ok());
    world.clock.advance(Duration::hours(1));
    assert_eq!(pull(device.token()).expect_err("expired").code, codes::TOKEN_EXPIRED);
    assert_eq!(world.server.checksum(device.token()).expect_err("expired").code, codes::TOKEN_EXPIRED);

    let refreshed = world
        .server
        .refresh(RefreshRequest { refresh_token: device.session.refresh_token.clone() })
        .expect("refreshed");
    assert_eq!(refreshed.device_id, device.id());
    assert_eq!(refreshed.user_id, world.worker_a);
    assert!(pull(&refreshed.access_token).is_ok());
    assert_eq!(pull("not a token").expect_err("unknown").code, codes::UNAUTHORIZED);
    // A refresh token is not an access token.
    assert_eq!(pull(&refreshed.refresh_token).expect_err("wrong kind").code, codes::UNAUTHORIZED);
}

#[test]
fn refresh_tokens_rotate_and_one_reused_after_its_successor_was_used_revokes_the_device() {
    let world = World::new();
    let device = world.login("wa");
    let first = device.session.refresh_token.clone();
    let second = world.server.refresh(RefreshRequest { refresh_token: first.clone() }).expect("rotated");
    assert_ne!(second.refresh_token, first);
    assert_ne!(second.access_token, device.session.access_token);
    let third = world.server.refresh(RefreshRequest { refresh_token: second.refresh_token.clone() }).expect("rotated");

    // `first` again, after its successor was itself exchanged: two parties hold the device's
    // tokens, so it was copied.
    let replay = world.server.refresh(RefreshRequest { refresh_token: first }).expect_err("replay refused");
    assert_eq!(replay.code, codes::UNAUTHORIZED);
    // Everything of that device is revoked.
    let pull = world.server.pull(&third.access_token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert_eq!(pull.expect_err("revoked").code, codes::UNAUTHORIZED);
    let again = world.server.refresh(RefreshRequest { refresh_token: third.refresh_token });
    assert_eq!(again.expect_err("revoked").code, codes::UNAUTHORIZED);
    // Signing in again works.
    assert!(world.server.login(login_request("wa", PASSWORD)).is_ok());
}

#[test]
fn a_refresh_whose_reply_was_lost_can_be_repeated_and_the_device_keeps_working() {
    let world = World::new();
    let device = world.login("wa");
    let old = device.session.refresh_token.clone();
    // The server exchanged the token, but its reply never reached the device.
    let lost = world.server.refresh(RefreshRequest { refresh_token: old.clone() }).expect("refreshed");
    // The device, still holding the old token, asks again.
    let repeated = world.server.refresh(RefreshRequest { refresh_token: old }).expect("the device is not revoked");
    let pull = |token: &str| world.server.pull(token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert!(pull(&repeated.access_token).is_ok());
    let next = world.server.refresh(RefreshRequest { refresh_token: repeated.refresh_token.clone() });
    let next = next.expect("the repeated session refreshes in turn");
    assert!(pull(&next.access_token).is_ok());
    // The session that was lost on the way is dead: nobody may use it.
    assert_eq!(pull(&lost.access_token).expect_err("replaced").code, codes::UNAUTHORIZED);
    let stale = world.server.refresh(RefreshRequest { refresh_token: lost.refresh_token });
    assert_eq!(stale.expect_err("replaced").code, codes::UNAUTHORIZED);
    // ... and presenting it did not revoke the device.
    assert!(pull(&next.access_token).is_ok());
}

#[test]
fn signing_out_revokes_that_session_and_leaves_the_devices_other_sessions_alone() {
    let world = World::new();
    let device_id = Uuid::now_v7();
    let sign_in = || {
        world.server.login(LoginRequest { device_id: Some(device_id), ..login_request("wa", PASSWORD) }).expect("in")
    };
    // Two sessions of one device: a laptop and a copy of its image, each signed in.
    let first = sign_in();
    let second = sign_in();
    let pull = |token: &str| world.server.pull(token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert!(pull(&first.access_token).is_ok() && pull(&second.access_token).is_ok());

    world.server.logout(protocol::LogoutRequest { refresh_token: first.refresh_token.clone() }).expect("signed out");
    assert_eq!(pull(&first.access_token).expect_err("revoked").code, codes::UNAUTHORIZED);
    let refresh = world.server.refresh(RefreshRequest { refresh_token: first.refresh_token.clone() });
    assert_eq!(refresh.expect_err("revoked").code, codes::UNAUTHORIZED);
    // Presenting the revoked token is no theft: the other session goes on.
    assert!(pull(&second.access_token).is_ok());
    assert!(world.server.refresh(RefreshRequest { refresh_token: second.refresh_token }).is_ok());
    // Signing out again answers the same; an unknown token is refused.
    assert!(world.server.logout(protocol::LogoutRequest { refresh_token: first.refresh_token }).is_ok());
    let unknown = world.server.logout(protocol::LogoutRequest { refresh_token: "not a token".into() });
    assert_eq!(unknown.expect_err("unknown").code, codes::UNAUTHORIZED);
}

#[test]
fn signing_out_with_a_token_whose_refresh_reply_was_lost_revokes_the_session_it_became() {
    let world = World::new();
    let device = world.login("wa");
    let old = device.session.refresh_token.clone();
    let lost = world.server.refresh(RefreshRequest { refresh_token: old.clone() }).expect("refreshed");
    world.server.logout(protocol::LogoutRequest { refresh_token: old }).expect("signed out");
    let pull = world.server.pull(&lost.access_token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert_eq!(pull.expect_err("revoked").code, codes::UNAUTHORIZED);
    let refresh = world.server.refresh(RefreshRequest { refresh_token: lost.refresh_token });
    assert_eq!(refresh.expect_err("revoked").code, codes::UNAUTHORIZED);
}

#[test]
fn each_device_gets_its_own_recovery_secret_at_every_sign_in_and_only_then() {
    let world = World::new();
    let device_id = Uuid::now_v7();
    let sign_in = |username: &str| {
        world.server.login(LoginRequest { device_id: Some(device_id), ..login_request(username, PASSWORD) })
    };
    let first = sign_in("wa").expect("in");
    let secret = first.device_secret.clone().expect("a secret");
    assert_eq!(secret.len(), 64);
    assert_eq!(sign_in("wa").expect("in").device_secret, Some(secret.clone()), "the same device, the same secret");
    // Another user's sign-in with that id gets another device, with its own secret.
    let other = sign_in("wb").expect("in");
    assert_ne!(other.device_secret, Some(secret));
    // A refresh never carries it.
    let refreshed = world.server.refresh(RefreshRequest { refresh_token: other.refresh_token }).expect("refreshed");
    assert_eq!(refreshed.device_secret, None);
}

#[test]
fn an_expired_refresh_token_is_refused() {
    let world = World::new();
    let device = world.login("wa");
    world.clock.advance(Duration::days(31));
    let error = world.server.refresh(RefreshRequest { refresh_token: device.session.refresh_token.clone() });
    assert_eq!(error.expect_err("expired").code, codes::TOKEN_EXPIRED);
}

#[test]
fn a_device_keeps_its_id_across_sign_ins_and_another_users_device_id_is_not_taken() {
    let world = World::new();
    let chosen = Uuid::now_v7();
    let first = world
        .server
        .login(LoginRequest { device_id: Some(chosen), ..login_request("wa", PASSWORD) })
        .expect("signs in");
    assert_eq!(first.device_id, chosen, "an id the device made itself is kept");
    let again = world
        .server
        .login(LoginRequest { device_id: Some(chosen), ..login_request("wa", PASSWORD) })
        .expect("signs in");
    assert_eq!(again.device_id, chosen);
    let other = world
        .server
        .login(LoginRequest { device_id: Some(chosen), ..login_request("wb", PASSWORD) })
        .expect("signs in");
    assert_ne!(other.device_id, chosen, "another user's device id gets a fresh one");
}

#[test]
fn a_supervisors_sign_in_registers_the_devices_signing_key_for_every_device_to_see() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let supervisor = world.login_with("sup", Some(&key));
    let public = domain::signoff::public_key_hex(&key);
    assert_eq!(supervisor.session.user.get(field::user::SIGNING_KEYS), Some(&json!([public])));
    // Again with the same key: nothing new.
    let head = world.log_head();
    world.login_with("sup", Some(&key));
    assert_eq!(world.log_head(), head);
    // The station's workers pull the key, to verify sign-offs themselves.
    let worker = world.login("wa").pull_from_scratch();
    let user = worker.get(EntityKind::User, world.supervisor_s).expect("supervisor record");
    assert_eq!(user.get(field::user::SIGNING_KEYS), Some(&json!([public])));
    // A worker's key is not registered; a malformed key is refused.
    let worker_session = world.login_with("wa", Some(&key)).session;
    assert_eq!(worker_session.user.get(field::user::SIGNING_KEYS), None);
    let bad = LoginRequest { signing_key: Some("abc".into()), ..login_request("sup", PASSWORD) };
    assert_eq!(world.server.login(bad).expect_err("malformed").code, codes::MALFORMED);
}

fn closure_requested(world: &World) -> (Device, CaseIds) {
    let mut worker = world.login("wa");
    let (person, create) = recipient(world.station_s, world.village_s, "张三", 1);
    let (ids, writes) = case_to_closure_request(world.station_s, person, world.worker_a);
    let mut all = vec![create];
    all.extend(writes);
    worker.send_ok(all);
    (worker, ids)
}

#[test]
fn a_sign_off_with_a_valid_signature_closes_the_case_and_verifies_on_every_device() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let (mut worker, ids) = closure_requested(&world);
    let mut supervisor = world.login_with("sup", Some(&key));
    supervisor.sync();
    let digest = server_digest(&world, ids.case);
    supervisor.send_ok(sign_off(&world, world.supervisor_s, ids.case, &key, &digest));

    let case = world.state(EntityKind::Case, ids.case).expect("case");
    assert_eq!(case.get_str(field::case::STAGE), Some("Closed"));
    assert_eq!(case.get_str(field::case::CLOSURE_STATUS), Some("SignedOff"));

    // The worker's device checks the seal with what it pulled.
    worker.sync();
    let replica = &worker.replica;
    let case = replica.get(EntityKind::Case, ids.case).expect("case");
    let records: Vec<_> = replica
        .entities
        .values()
        .filter(|s| s.kind.is_case_record() && s.get_id(field::CASE_ID) == Some(ids.case))
        .cloned()
        .collect();
    let decision = domain::rules::latest_decision(&records).expect("decision").clone();
    let keys = replica
        .get(EntityKind::User, world.supervisor_s)
        .and_then(|u| u.to_typed::<domain::org::User>().ok())
        .map(|u| u.signing_keys)
        .expect("supervisor's keys");
    assert_eq!(domain::signoff::check_seal(&decision, case, &records, &keys), Ok(()));

    // And nobody edits a closed case.
    let results = worker.send(vec![Write::update(EntityKind::Case, ids.case).set(field::case::PLAN_STRATEGY, "再改")]);
    assert_eq!(rejected(&results[0]), "case_closed");
    let results =
        worker.send(vec![Write::update(EntityKind::Goal, ids.goal).set(field::goal::EVALUATION_NOTES, "补充")]);
    assert_eq!(rejected(&results[0]), "case_closed");
}

#[test]
fn a_sign_off_with_an_unregistered_key_or_a_tampered_digest_is_rejected() {
    let world = World::new();
    let registered = SigningKey::from_bytes(&[5u8; 32]);
    let stranger = SigningKey::from_bytes(&[6u8; 32]);
    let (_worker, ids) = closure_requested(&world);
    let mut supervisor = world.login_with("sup", Some(&registered));
    supervisor.sync();
    let digest = server_digest(&world, ids.case);

    let results = supervisor.send(sign_off(&world, world.supervisor_s, ids.case, &stranger, &digest));
    assert_eq!(rejected(&results[0]), "signature_unknown_key");
    assert_eq!(rejected(&results[1]), "no_closure_request", "no case closes without its decision");

    let tampered = "0".repeat(64);
    let results = supervisor.send(sign_off(&world, world.supervisor_s, ids.case, &registered, &tampered));
    assert_eq!(rejected(&results[0]), "case_tampered");

    // A signature over the right digest but made for another case does not verify.
    let mut writes = sign_off(&world, world.supervisor_s, ids.case, &registered, &digest);
    let other_signature = domain::signoff::sign(&registered, Uuid::now_v7(), &digest);
    writes[0] = writes[0].clone().set(field::closure_decision::SIGNATURE, other_signature);
    let results = supervisor.send(writes);
    assert_eq!(rejected(&results[0]), "signature_invalid");

    let case = world.state(EntityKind::Case, ids.case).expect("case");
    assert_eq!(case.get_str(field::case::CLOSURE_STATUS), Some("Requested"), "still awaiting a valid sign-off");
}

#[test]
fn only_a_supervisor_of_the_cases_station_signs_it_off() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let (mut worker, ids) = closure_requested(&world);
    let digest = server_digest(&world, ids.case);

    let mut other_supervisor = world.login_with("supt", Some(&key));
    let results = other_supervisor.send(sign_off(&world, world.supervisor_t, ids.case, &key, &digest));
    assert_eq!(rejected(&results[0]), "outside_station");

    let mut deputy = world.login("ds");
    let results = deputy.send(sign_off(&world, world.deputy_s, ids.case, &key, &digest));
    assert_eq!(rejected(&results[0]), "role_cannot");

    // Claiming to be the supervisor does not help: the actor comes from the token.
    let results = worker.send(sign_off(&world, world.supervisor_s, ids.case, &key, &digest));
    assert_eq!(rejected(&results[0]), "role_cannot");
}

#[test]
fn a_new_password_signs_the_user_out_everywhere() {
    let world = World::new();
    let device = world.login("wa");
    world.server.admin().set_password("wa", "new-password").expect("set");
    let pull = world.server.pull(device.token(), domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None });
    assert_eq!(pull.expect_err("revoked").code, codes::UNAUTHORIZED);
    assert_eq!(
        world.server.login(login_request("wa", PASSWORD)).expect_err("old password").code,
        codes::BAD_CREDENTIALS
    );
    assert!(world.server.login(login_request("wa", "new-password")).is_ok());
    let unknown = world.server.admin().set_password("nobody", "new-password");
    assert!(matches!(unknown, Err(sync_server::AdminError::UnknownUser(_))));
}
