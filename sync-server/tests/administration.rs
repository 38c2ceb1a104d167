//! The administrator's CLI, run as the real `shegong-sync` binary: passwords never as arguments,
//! lists, editing and deactivating users, stations and villages, the audit log, and an online backup that restores.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use domain::change::{Change, FieldWrite, Op};
use domain::entity::EntityKind;
use domain::field;
use domain::hlc::Clock;
use protocol::{
    LoginRequest, PullQuery, PullResponse, PushOutcome, PushRequest, PushResponse, SCHEMA_HEADER, Session, paths,
};
use sync_server::{DEMO_PASSWORD, Server, ServerSettings, SqliteStorage, system_clock};
use uuid::Uuid;

mod binary;

use binary::{Running, stderr, stdout};

const KEY: &str = "test-database-key";

/// The binary on an encrypted database, run by the OS user `zhangsan`. SQLite only, whatever
/// the run's backend: these tests are about the encrypted file and its online backup.
fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = binary::command(data_dir, args);
    command
        .env("SHEGONG_SYNC__DATABASE__BACKEND", "sqlite")
        .env("SHEGONG_SYNC__DATABASE_KEY", KEY)
        .env("USER", "zhangsan");
    command
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args).output().expect("the binary runs")
}

/// Runs a command that reads a password, giving it as one line of standard input.
fn run_typing(data_dir: &Path, password: &str, args: &[&str]) -> Output {
    binary::run_typing(command(data_dir, args), password)
}

fn open(data_dir: &Path) -> Server {
    let storage = SqliteStorage::open_with_key(&data_dir.join("shegong-sync.db"), Some(KEY)).expect("database");
    Server::new(Arc::new(storage), ServerSettings::default(), system_clock())
}

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

fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    stdout(&run(dir.path(), &["admin", "seed-demo"]));
    dir
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).expect("JSON")
}

#[test]
fn a_password_is_refused_as_an_argument_and_read_from_standard_input() {
    let dir = seeded();
    let data = dir.path();
    let as_argument = run(data, &["admin", "set-password", "--username", "shegong1", "--password", "another123"]);
    assert!(stderr(&as_argument).contains("--password"), "clap names the unknown argument");

    let no_terminal = run(data, &["admin", "set-password", "--username", "shegong1"]);
    let message = stderr(&no_terminal);
    assert!(message.contains("--password-stdin") && message.contains("密码"), "{message}");

    let changed =
        run_typing(data, "another 123", &["admin", "set-password", "--username", "shegong1", "--password-stdin"]);
    assert_eq!(stdout(&changed), "ok");
    let server = open(data);
    server.login(login_request("shegong1", "another 123")).expect("the new password, spaces and all");
    assert!(server.login(login_request("shegong1", DEMO_PASSWORD)).is_err(), "the old one no longer works");
}

#[test]
fn list_shows_stations_villages_and_users_as_a_table_and_as_json() {
    let dir = seeded();
    let data = dir.path();
    let table = stdout(&run(data, &["admin", "list", "stations"]));
    let mut lines = table.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("id") && h.contains("name") && h.contains("county")), "{table}");
    assert!(table.contains("城关镇社工站") && table.contains("示范县"), "{table}");

    let villages = json(&run(data, &["admin", "list", "villages", "--json"]));
    assert_eq!(villages.as_array().map(Vec::len), Some(5), "{villages}");
    let users = json(&run(data, &["admin", "list", "users", "--json"]));
    let shegong1 = users
        .as_array()
        .and_then(|all| all.iter().find(|u| u["username"] == "shegong1"))
        .unwrap_or_else(|| panic!("shegong1 listed: {users}"));
    assert_eq!(shegong1["active"], "true");
    assert!(Uuid::try_parse(shegong1["id"].as_str().unwrap_or_default()).is_ok(), "{shegong1}");
}

#[test]
fn editing_a_user_writes_a_change_that_devices_pull() {
    let dir = seeded();
    let data = dir.path();
    let head = open(data).storage().read().expect("read").log_head().expect("head");
    let edited =
        run(data, &["admin", "edit", "user", "shegong1", "--display-name", "李娟娟", "--post", "administrative"]);
    assert_eq!(stdout(&edited), "ok");

    let server = open(data);
    let session = server.login(login_request("fuzhan1", DEMO_PASSWORD)).expect("deputy signs in");
    let page = server.pull(&session.access_token, domain::SCHEMA_VERSION, PullQuery { after: head, limit: None });
    let page = page.expect("pull");
    let pulled = page.entries.iter().any(|entry| match &entry.item {
        domain::change::Incoming::Change(change) => {
            change.entity == EntityKind::User
                && change.str_value(field::user::DISPLAY_NAME) == Some("李娟娟")
                && change.str_value(field::user::POST) == Some("Administrative")
        }
        _ => false,
    });
    assert!(pulled, "the edit is a change in the log: {:?}", page.entries);
}

#[test]
fn stations_and_villages_are_renamed_through_the_log() {
    let dir = seeded();
    let data = dir.path();
    let stations = json(&run(data, &["admin", "list", "stations", "--json"]));
    let station = stations[0]["id"].as_str().unwrap_or_default().to_owned();
    let villages = json(&run(data, &["admin", "list", "villages", "--json"]));
    let village = villages[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(stdout(&run(data, &["admin", "edit", "station", &station, "--name", "城关镇综合社工站"])), "ok");
    assert_eq!(stdout(&run(data, &["admin", "edit", "village", &village, "--name", "东关社区"])), "ok");

    let table = stdout(&run(data, &["admin", "list", "stations"]));
    assert!(table.contains("城关镇综合社工站") && table.contains("示范县"), "the county is kept: {table}");
    assert!(stdout(&run(data, &["admin", "list", "villages"])).contains("东关社区"));
    let nothing = stderr(&run(data, &["admin", "edit", "village", &village]));
    assert!(nothing.contains("没有要修改") && nothing.contains("--name"), "{nothing}");
    let unknown = stderr(&run(data, &["admin", "edit", "village", &Uuid::now_v7().to_string(), "--name", "村"]));
    assert!(unknown.contains("没有这条记录") && unknown.contains("no village"), "{unknown}");
}

#[test]
fn editing_a_user_refuses_bad_input_in_both_languages() {
    let dir = seeded();
    let data = dir.path();
    let nothing = stderr(&run(data, &["admin", "edit", "user", "shegong1"]));
    assert!(nothing.contains("没有要修改") && nothing.contains("nothing to change"), "{nothing}");
    let unknown_station =
        stderr(&run(data, &["admin", "edit", "user", "shegong1", "--station", &Uuid::now_v7().to_string()]));
    assert!(unknown_station.contains("unknown_reference"), "{unknown_station}");
    let nobody = stderr(&run(data, &["admin", "edit", "user", "nobody", "--display-name", "王"]));
    assert!(nobody.contains("nobody") && nobody.contains("没有"), "{nobody}");
}

#[test]
fn a_deactivated_user_can_no_longer_sign_in() {
    let dir = seeded();
    let data = dir.path();
    let deactivated = stdout(&run(data, &["admin", "deactivate", "user", "shegong1"]));
    assert!(deactivated.starts_with("deactivated "), "{deactivated}");
    let again = stdout(&run(data, &["admin", "deactivate", "user", "shegong1"]));
    assert!(again.contains("nothing changed"), "{again}");

    let refused = open(data).login(login_request("shegong1", DEMO_PASSWORD)).expect_err("refused");
    assert_eq!(refused.code, "account_deactivated", "{refused:?}");
    let users = json(&run(data, &["admin", "list", "users", "--json"]));
    let listed = users.as_array().and_then(|all| all.iter().find(|u| u["username"] == "shegong1").cloned());
    assert_eq!(listed.map(|u| u["active"].clone()), Some(serde_json::json!("false")));
}

#[test]
fn every_admin_action_is_audited_with_who_did_it_and_never_the_password() {
    let dir = seeded();
    let data = dir.path();
    run_typing(
        data,
        "very-secret-1",
        &["admin", "set-password", "--username", "shegong1", "--password-stdin", "--actor", "王主任"],
    );
    stdout(&run(data, &["admin", "deactivate", "user", "dudao1"]));
    let refused = run(data, &["admin", "deactivate", "user", "nobody"]);
    assert!(!refused.status.success());

    let entries = json(&run(data, &["admin", "audit", "--json"]));
    let entries = entries.as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["seed demo", "set password", "deactivate user"], "failures are not actions: {entries:?}");
    assert_eq!(entries[1]["target"], "shegong1");
    assert_eq!(entries[1]["actor"], "王主任");
    assert!(entries.iter().all(|e| e["os_user"] == "zhangsan"), "{entries:?}");
    assert!(entries[2]["actor"].is_null());

    let table = stdout(&run(data, &["admin", "audit"]));
    assert!(table.contains("set password") && table.contains("王主任"), "{table}");
    assert!(!table.contains("very-secret-1") && !format!("{entries:?}").contains("very-secret-1"));
}

/// The worker `shegong1` signed in to the server over `data_dir`, as a device pushing
/// households into the first village of their station.
fn worker_device(data_dir: &Path) -> (Server, Device) {
    let server = open(data_dir);
    let session = server.login(login_request("shegong1", DEMO_PASSWORD)).expect("the worker signs in");
    let station = session.user.get_id(field::user::STATION_ID).expect("station");
    let village = server
        .admin()
        .list(EntityKind::Village)
        .expect("villages")
        .into_iter()
        .find(|v| v.get_id(field::village::STATION_ID) == Some(station))
        .expect("a village of the station")
        .id;
    let device =
        Device { client: reqwest::Client::new(), clock: Clock::new(session.device_id), session, station, village };
    (server, device)
}

/// The code and field of the one change's refusal, or "accepted".
fn verdict(response: &PushResponse) -> (String, Option<String>) {
    match &response.results[0].outcome {
        PushOutcome::Accepted { .. } => ("accepted".into(), None),
        PushOutcome::Rejected { rejection, .. } => (rejection.code.clone(), rejection.field.clone()),
        other => (format!("{other:?}"), None),
    }
}

#[test]
fn a_deactivated_village_takes_no_new_household_and_keeps_its_records() {
    let dir = seeded();
    let data = dir.path();
    let (server, mut device) = worker_device(data);
    let token = device.session.access_token.clone();
    let push = |server: &Server, change: Change| {
        let request = PushRequest { changes: vec![change] };
        server.push(&token, domain::SCHEMA_VERSION, request).expect("push answered")
    };
    let before = device.household(1);
    assert_eq!(verdict(&push(&server, before.clone())).0, "accepted");
    let head = server.storage().read().expect("read").log_head().expect("head");

    let village = device.village.to_string();
    let deactivated = stdout(&run(data, &["admin", "deactivate", "village", &village]));
    assert_eq!(deactivated, format!("deactivated {village}"));
    let again = stdout(&run(data, &["admin", "deactivate", "village", &village]));
    assert!(again.contains("nothing changed"), "{again}");

    let server = open(data);
    let refused = push(&server, device.household(2));
    assert_eq!(verdict(&refused), ("place_deactivated".into(), Some(field::household::VILLAGE_ID.into())));
    let PushOutcome::Rejected { rejection, .. } = &refused.results[0].outcome else { unreachable!() };
    assert!(rejection.message_zh.contains("已停用") && rejection.message_en.contains("deactivated"), "{rejection:?}");

    // Devices receive the deactivation by sync, and the household made before stays.
    let query = PullQuery { after: head, limit: None };
    let page = server.pull(&token, domain::SCHEMA_VERSION, query).expect("pull");
    let pulled = page.entries.iter().any(|entry| match &entry.item {
        domain::change::Incoming::Change(change) => {
            change.entity == EntityKind::Village
                && change.value(field::village::ACTIVE) == Some(&serde_json::json!(false))
        }
        _ => false,
    });
    assert!(pulled, "the deactivation is a change in the log: {:?}", page.entries);
    let kept = server.storage().read().expect("read").entity(EntityKind::Household, before.entity_id).expect("read");
    assert!(kept.is_some(), "the village's records stay");

    let villages = json(&run(data, &["admin", "list", "villages", "--json"]));
    let listed = villages.as_array().and_then(|all| all.iter().find(|v| v["id"] == village.as_str()).cloned());
    assert_eq!(listed.map(|v| v["active"].clone()), Some(serde_json::json!("false")), "{villages}");
    assert!(villages.as_array().is_some_and(|all| all.iter().filter(|v| v["active"] == "true").count() == 4));
}

#[test]
fn a_deactivated_station_takes_no_new_household_and_says_so_at_the_station() {
    let dir = seeded();
    let data = dir.path();
    let (_, mut device) = worker_device(data);
    let station = device.station.to_string();
    assert_eq!(stdout(&run(data, &["admin", "deactivate", "station", &station])), format!("deactivated {station}"));

    let server = open(data);
    let request = PushRequest { changes: vec![device.household(1)] };
    let refused = server.push(&device.session.access_token, domain::SCHEMA_VERSION, request).expect("push answered");
    assert_eq!(verdict(&refused), ("place_deactivated".into(), Some(field::household::STATION_ID.into())));
    let stations = json(&run(data, &["admin", "list", "stations", "--json"]));
    assert_eq!(stations[0]["active"], "false", "{stations}");
    let table = stdout(&run(data, &["admin", "list", "stations"]));
    assert!(table.lines().next().is_some_and(|header| header.contains("active")), "{table}");

    let unknown = stderr(&run(data, &["admin", "deactivate", "village", &Uuid::now_v7().to_string()]));
    assert!(unknown.contains("没有这条记录") && unknown.contains("no village"), "{unknown}");
    let audit = json(&run(data, &["admin", "audit", "--json"]));
    let actions: Vec<(&str, &str)> = audit
        .as_array()
        .map(|all| all.iter().filter_map(|e| Some((e["action"].as_str()?, e["target"].as_str()?))).collect())
        .unwrap_or_default();
    assert_eq!(actions.last(), Some(&("deactivate station", station.as_str())), "failures are not audited: {audit}");
}

struct Device {
    client: reqwest::Client,
    session: Session,
    clock: Clock,
    station: Uuid,
    village: Uuid,
}

impl Device {
    fn household(&mut self, seq: u64) -> Change {
        let fields = [
            (field::household::STATION_ID, self.station.to_string()),
            (field::household::VILLAGE_ID, self.village.to_string()),
            (field::household::NAME, format!("测试{seq}户")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), FieldWrite::new(v)))
        .collect();
        Change {
            change_id: Uuid::now_v7(),
            device_id: self.session.device_id,
            device_seq: seq,
            author_id: self.session.user_id,
            schema_version: domain::SCHEMA_VERSION,
            hlc: self.clock.tick(u64::try_from(chrono::Utc::now().timestamp_millis()).expect("after 1970")),
            entity: EntityKind::Household,
            entity_id: Uuid::now_v7(),
            op: Op::Create,
            fields,
        }
    }

    async fn push(&self, url: &str, changes: &[Change]) -> PushResponse {
        self.client
            .post(format!("{url}{}", paths::PUSH))
            .bearer_auth(&self.session.access_token)
            .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .json(&PushRequest { changes: changes.to_vec() })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("push answered")
            .json()
            .await
            .expect("push response")
    }

    async fn pull_first_page(&self, url: &str) -> PullResponse {
        self.client
            .get(format!("{url}{}", paths::PULL))
            .bearer_auth(&self.session.access_token)
            .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .query(&PullQuery { after: 0, limit: Some(1) })
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("pull answered")
            .json()
            .await
            .expect("pull page")
    }
}

fn all_accepted(response: &PushResponse) -> bool {
    response.results.iter().all(|r| matches!(r.outcome, PushOutcome::Accepted { .. }))
}

#[test]
fn a_backup_taken_while_serving_restores_and_devices_push_again_what_it_lacks() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(240));
    let dir = seeded();
    let data = dir.path();
    let backup = dir.path().join("backup").join("shegong-sync-backup.db");
    std::fs::create_dir_all(backup.parent().expect("parent")).expect("backup dir");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");

    let running = Running::start(command(data, &["serve"]));
    let url = running.url.clone();
    let session = rt.block_on(async {
        let response = client
            .post(format!("{url}{}", paths::LOGIN))
            .json(&login_request("shegong1", DEMO_PASSWORD))
            .send()
            .await
            .expect("login sent");
        response.json::<Session>().await.expect("session")
    });
    let station = session.user.get_id(field::user::STATION_ID).expect("station");
    let village = open(data)
        .admin()
        .list(EntityKind::Village)
        .expect("villages")
        .into_iter()
        .find(|v| v.get_id(field::village::STATION_ID) == Some(station))
        .expect("a village of the station")
        .id;
    let mut device = Device { client, clock: Clock::new(session.device_id), session, station, village };
    let before: Vec<Change> = (1..=3).map(|seq| device.household(seq)).collect();
    let after: Vec<Change> = (4..=6).map(|seq| device.household(seq)).collect();

    let generation = rt.block_on(async {
        assert!(all_accepted(&device.push(&url, &before).await));
        device.pull_first_page(&url).await.generation.expect("a generation")
    });
    // Online: the server keeps serving while the backup is written.
    let backed_up = stdout(&run(data, &["admin", "backup", "--to", backup.to_str().expect("utf-8 path")]));
    assert!(backed_up.contains("backed up"), "{backed_up}");
    rt.block_on(async { assert!(all_accepted(&device.push(&url, &after).await), "acknowledged after the backup") });
    let refused = run(data, &["admin", "backup", "--to", backup.to_str().expect("utf-8 path")]);
    assert!(stderr(&refused).contains("already exists"), "a backup never overwrites a file");
    let audit = json(&run(data, &["admin", "audit", "--json"]));
    assert_eq!(audit[audit.as_array().map_or(0, Vec::len).saturating_sub(1)]["action"], "backup failed", "{audit}");
    assert!(
        SqliteStorage::open_with_key(&backup, None).is_err(),
        "the backup is encrypted with the database's key, like the database"
    );

    // The documented restore: stop, copy the backup back, new generation, start.
    drop(running);
    let database = data.join("shegong-sync.db");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::copy(&backup, &database).expect("copied back");
    let fresh = stdout(&run(data, &["admin", "new-generation"]));
    assert_ne!(fresh, generation);
    let restarted = Running::start(command(data, &["serve"]));
    let url = restarted.url.clone();

    rt.block_on(async {
        let page = device.pull_first_page(&url).await;
        assert_eq!(page.generation.as_deref(), Some(fresh.as_str()), "the device notices a restored server");
        // As the device's round does then: send again what it holds from the first number on.
        let everything: Vec<Change> = before.iter().chain(&after).cloned().collect();
        let response = device.push(&url, &everything).await;
        assert!(all_accepted(&response), "{response:?}");
    });
    drop(restarted);
    let server = open(data);
    for change in before.iter().chain(&after) {
        let held =
            server.storage().read().expect("read").entity(EntityKind::Household, change.entity_id).expect("read");
        assert!(held.is_some(), "{} is on the server again", change.entity_id);
    }
    let audit = json(&run(data, &["admin", "audit", "--json"]));
    let actions: Vec<&str> = audit.as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["seed demo", "backup", "new generation"],
        "the log as the backup holds it (its own making included), then the restore"
    );
}
