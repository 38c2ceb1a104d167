//! Sign-in under attack: failed sign-ins lock a username and an address for a while, and say so;
//! right passwords are never slowed down; overlong passwords are refused before any hashing.

mod common;

use std::time::Duration as StdDuration;

use chrono::Duration;
use common::*;
use protocol::{ApiError, LoginRequest, SCHEMA_HEADER, Session, codes, paths};
use sync_server::{LoginLimits, Server, ServerSettings};

fn request(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
        device_id: None,
        device_name: "laptop".into(),
        signing_key: None,
        signing_key_proof: None,
    }
}

/// The world's server with other sign-in limits (same storage, same clock).
fn with_limits(world: &World, login: LoginLimits) -> Server {
    let settings = ServerSettings { login, ..ServerSettings::default() };
    Server::new(world.server.storage().clone(), settings, world.clock.wall())
}

#[test]
fn five_wrong_passwords_lock_the_account_and_the_answer_says_until_when() {
    let world = World::new();
    for _ in 0..4 {
        let wrong = world.server.login(request("wa", "wrong-password")).expect_err("refused");
        assert_eq!(wrong.code, codes::BAD_CREDENTIALS);
    }
    let fifth = world.server.login(request("wa", "wrong-password")).expect_err("refused");
    assert_eq!(fifth.code, codes::ACCOUNT_LOCKED);

    // Locked: even the right password is refused, and the answer says until when.
    let locked = world.server.login(request("wa", PASSWORD)).expect_err("locked");
    assert_eq!(locked.code, codes::ACCOUNT_LOCKED);
    let until = (world.clock.now() + Duration::minutes(15)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(locked.message_zh.contains("锁定") && locked.message_zh.contains(&until), "{}", locked.message_zh);
    assert!(locked.message_en.contains("locked until") && locked.message_en.contains(&until), "{}", locked.message_en);
    assert_eq!(sync_server::error::status_of(&locked.code), axum::http::StatusCode::TOO_MANY_REQUESTS);

    // Other accounts are not affected; the lock ends by itself.
    assert!(world.server.login(request("wb", PASSWORD)).is_ok());
    world.clock.advance(Duration::minutes(15));
    assert!(world.server.login(request("wa", PASSWORD)).is_ok());
}

#[test]
fn an_unknown_username_is_locked_alike_so_lockouts_reveal_no_usernames() {
    let world = World::new();
    let answers = |username: &str| -> Vec<String> {
        (0..6).map(|_| world.server.login(request(username, "wrong-password")).expect_err("refused").code).collect()
    };
    assert_eq!(answers("wa"), answers("nobody"));
}

#[test]
fn a_right_password_resets_the_count_and_is_never_throttled() {
    let world = World::new();
    for _ in 0..4 {
        world.server.login(request("wa", "wrong-password")).expect_err("refused");
    }
    world.server.login(request("wa", PASSWORD)).expect("the right password");
    for _ in 0..4 {
        let again = world.server.login(request("wa", "wrong-password")).expect_err("refused");
        assert_eq!(again.code, codes::BAD_CREDENTIALS, "the count started over");
    }
    let fast = with_limits(&world, LoginLimits { max_failures_per_user: 1, ..LoginLimits::default() });
    for _ in 0..30 {
        fast.login(request("ds", PASSWORD)).expect("only failures count");
    }
}

#[test]
fn control_characters_in_a_sign_in_get_the_same_answer_on_either_backend() {
    let world = World::new();
    // A NUL: PostgreSQL's text cannot hold one, SQLite's can; the answers must not tell them apart.
    let odd = world.server.login(request("wa\u{0}", PASSWORD)).expect_err("no username holds one");
    assert_eq!(odd.code, codes::MALFORMED);
    assert!(odd.message_en.contains("username"), "the field is named: {}", odd.message_en);
    let mut named = request("wa", PASSWORD);
    named.device_name = " 笔记本\u{0}\u{7}电脑\n".into();
    let session = world.server.login(named).expect("signed in");
    let device = world.server.storage().read().expect("read").device(session.device_id).expect("device");
    assert_eq!(device.map(|d| d.name).as_deref(), Some("笔记本电脑"), "the name is kept without them");
}

/// Any Unicode (full-width digits, emoji, combining marks, spaces) with a control character
/// inside it: refused as malformed before any look-up, never a panic or a storage failure. (At
/// either end, whitespace controls, a pasted line's newline, are trimmed first.) One world for
/// every case: a refused name never reaches the storage or the lockout.
#[test]
fn any_username_holding_a_control_character_is_malformed() {
    let world = World::new();
    let names = (
        "[0-9０-９😀é\u{301}a-z ]{0,20}[a-z０-９😀]",
        "[\u{0}-\u{1f}\u{7f}-\u{9f}]",
        "[a-z０-９😀][0-9０-９😀é\u{301}a-z ]{0,20}",
    );
    let mut runner = proptest::test_runner::TestRunner::new(proptest::prelude::ProptestConfig::with_cases(500));
    let checked = runner.run(&names, |(before, control, after)| {
        let refused =
            world.server.login(request(&format!("{before}{control}{after}"), PASSWORD)).expect_err("malformed");
        proptest::prop_assert_eq!(refused.code, codes::MALFORMED);
        proptest::prop_assert!(refused.message_en.contains("username"));
        Ok(())
    });
    if let Err(e) = checked {
        panic!("{e}");
    }
}

/// Any device name, huge ones too: the sign-in goes through and the name is kept as a label,
/// without control characters, trimmed, at most 100 characters.
#[test]
fn any_device_name_is_kept_as_a_clean_label() {
    let world = World::new();
    let names = ("[0-9０-９😀é\u{301}a-z\u{0}\t\n\u{7f} ]{0,40}", 1usize..200);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::prelude::ProptestConfig::with_cases(64));
    let checked = runner.run(&names, |(junk, times)| {
        let mut named = request("wa", PASSWORD);
        named.device_name = junk.repeat(times);
        let session = world.server.login(named).expect("signed in");
        let device = world.server.storage().read().expect("read").device(session.device_id).expect("device");
        let name = device.map(|d| d.name).unwrap_or_default();
        proptest::prop_assert!(!name.chars().any(char::is_control), "{:?}", name);
        proptest::prop_assert!(name.chars().count() <= 100);
        proptest::prop_assert_eq!(name.trim(), name.as_str());
        Ok(())
    });
    if let Err(e) = checked {
        panic!("{e}");
    }
}

#[test]
fn an_overlong_password_is_refused_before_any_hashing() {
    let world = World::new();
    let long = "密".repeat(sync_server::MAX_PASSWORD_BYTES);
    let started = std::time::Instant::now();
    let refused = world.server.login(request("wa", &long)).expect_err("refused");
    assert_eq!(refused.code, codes::MALFORMED);
    assert!(refused.message_en.contains("password"), "{refused:?}");
    assert!(started.elapsed() < StdDuration::from_millis(200), "no hashing: {:?}", started.elapsed());
}

#[test]
fn sign_ins_wait_for_a_free_hashing_slot_and_all_get_through() {
    let world = World::new();
    let server = with_limits(&world, LoginLimits { max_concurrent_hashes: 1, ..LoginLimits::default() });
    let threads: Vec<_> = ["wa", "wb", "wc", "ds"]
        .into_iter()
        .map(|username| {
            let server = server.clone();
            std::thread::spawn(move || server.login(request(username, PASSWORD)).map(|s| s.user_id))
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic").expect("signed in");
    }
}

async fn login_over_http(client: &reqwest::Client, url: &str, body: &LoginRequest) -> Result<Session, ApiError> {
    let response = client
        .post(format!("{url}{}", paths::LOGIN))
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    if status.is_success() {
        Ok(response.json::<Session>().await.expect("a session"))
    } else {
        let error = response.json::<ApiError>().await.expect("an error body");
        assert_eq!(status, sync_server::error::status_of(&error.code), "{error:?}");
        Err(error)
    }
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address_whatever_the_usernames() {
    let _deadline = shegong_tests::deadline(StdDuration::from_secs(60));
    let world = World::new();
    let server = with_limits(&world, LoginLimits { max_failures_per_address: 3, ..LoginLimits::default() });
    let (url, stop) = serve_on_loopback(server).await;
    let client = reqwest::Client::new();

    for username in ["wa", "wb"] {
        let wrong = login_over_http(&client, &url, &request(username, "wrong-password")).await.expect_err("refused");
        assert_eq!(wrong.code, codes::BAD_CREDENTIALS);
    }
    let third = login_over_http(&client, &url, &request("wc", "wrong-password")).await.expect_err("refused");
    assert_eq!(third.code, codes::BAD_CREDENTIALS, "the username wc itself is not locked");
    // The address is: even a right password of another user is refused from it, for a while.
    let locked = login_over_http(&client, &url, &request("ds", PASSWORD)).await.expect_err("address locked");
    assert_eq!(locked.code, codes::TOO_MANY_ATTEMPTS);
    assert!(locked.message_en.contains("address"), "{locked:?}");
    world.clock.advance(Duration::minutes(15));
    login_over_http(&client, &url, &request("ds", PASSWORD)).await.expect("the lock ended");
    let _ = stop.send(());
}
