//! The `shegong-sync` binary: admin commands, the idempotent demo seed, `serve` announcing its
//! address, and a crash (SIGKILL) in the middle of pushes losing no acknowledged change.

use std::path::Path;
use std::process::Output;

use domain::change::{Change, Incoming, Op};
use domain::entity::EntityKind;
use domain::field;
use domain::hlc::Clock;
use protocol::{
    LoginRequest, PullQuery, PullResponse, PushOutcome, PushRequest, PushResponse, SCHEMA_HEADER, Session, paths,
};
use sync_server::storage::Reach;
use sync_server::{DEMO_PASSWORD, Server, ServerSettings, system_clock};
use uuid::Uuid;

mod binary;

use binary::{Running, stdout};

fn shegong_sync(data_dir: &Path, args: &[&str]) -> Output {
    binary::command(data_dir, args).output().expect("the binary runs")
}

/// Runs an admin command that reads a password, giving it `password` as one line of standard
/// input (`--password-stdin`).
fn shegong_sync_typing(data_dir: &Path, password: &str, args: &[&str]) -> Output {
    binary::run_typing(binary::command(data_dir, args), password)
}

fn printed_id(output: &Output) -> Uuid {
    let text = stdout(output);
    Uuid::try_parse(&text).unwrap_or_else(|_| panic!("not an id: {text:?}"))
}

/// The database the binary run on `data_dir` uses, opened in this process.
fn open(data_dir: &Path) -> Server {
    Server::new(test_support::backend::TestDatabase::new(data_dir).open(), ServerSettings::default(), system_clock())
}

fn all_entities(server: &Server, station: Uuid) -> Vec<domain::entity::EntityState> {
    let reach = Reach::Stations { stations: vec![station], own_cases_of: None };
    server.storage().read().expect("read").entities_of_station(station, &reach, None, 100_000).expect("entities")
}

#[test]
fn admin_commands_create_records_and_print_their_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let station =
        printed_id(&shegong_sync(data, &["admin", "create-station", "--name", "城关镇社工站", "--county", "示范县"]));
    let station_arg = station.to_string();
    let point = printed_id(&shegong_sync(
        data,
        &["admin", "create-service-point", "--station", &station_arg, "--name", "东关社工点"],
    ));
    let point_arg = point.to_string();
    let village = printed_id(&shegong_sync(
        data,
        &["admin", "create-village", "--station", &station_arg, "--service-point", &point_arg, "--name", "东关村"],
    ));
    let worker = printed_id(&shegong_sync_typing(
        data,
        "secret123",
        &[
            "admin",
            "create-user",
            "--username",
            "w1",
            "--display-name",
            "李娟",
            "--role",
            "social-worker",
            "--station",
            &station_arg,
            "--service-point",
            &point_arg,
            "--post",
            "service",
            "--password-stdin",
        ],
    ));
    let supervisor = printed_id(&shegong_sync_typing(
        data,
        "secret123",
        &[
            "admin",
            "create-user",
            "--username",
            "s1",
            "--display-name",
            "陈静",
            "--role",
            "supervisor",
            "--supervises",
            &station_arg,
            "--password-stdin",
        ],
    ));

    let server = open(data);
    let held = all_entities(&server, station);
    for (kind, id) in [
        (EntityKind::Station, station),
        (EntityKind::ServicePoint, point),
        (EntityKind::Village, village),
        (EntityKind::User, worker),
        (EntityKind::User, supervisor),
    ] {
        assert!(held.iter().any(|e| e.kind == kind && e.id == id), "{kind:?} {id} is in the station");
    }
    let session = server
        .login(LoginRequest {
            username: "w1".into(),
            password: "secret123".into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        })
        .expect("the new user signs in");
    assert_eq!(session.user_id, worker);

    let changed =
        shegong_sync_typing(data, "another123", &["admin", "set-password", "--username", "w1", "--password-stdin"]);
    assert_eq!(stdout(&changed), "ok");
}

#[test]
fn admin_commands_refuse_bad_input_in_both_languages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let short = shegong_sync_typing(
        data,
        "short",
        &["admin", "create-user", "--username", "a1", "--display-name", "王", "--role", "admin", "--password-stdin"],
    );
    assert!(!short.status.success());
    let message = String::from_utf8_lossy(&short.stderr);
    assert!(message.contains("密码") && message.contains("password"), "{message}");

    let no_station = shegong_sync_typing(
        data,
        "secret123",
        &[
            "admin",
            "create-user",
            "--username",
            "w1",
            "--display-name",
            "王",
            "--role",
            "social-worker",
            "--password-stdin",
        ],
    );
    assert!(!no_station.status.success());
    assert!(String::from_utf8_lossy(&no_station.stderr).contains("station"));

    let bad_role = shegong_sync_typing(
        data,
        "secret123",
        &["admin", "create-user", "--username", "w1", "--display-name", "王", "--role", "boss", "--password-stdin"],
    );
    assert!(!bad_role.status.success());

    let unknown_station = shegong_sync(
        data,
        &["admin", "create-service-point", "--station", &Uuid::now_v7().to_string(), "--name", "点"],
    );
    assert!(!unknown_station.status.success());
    assert!(String::from_utf8_lossy(&unknown_station.stderr).contains("unknown_reference"));

    let twice = |username: &str| {
        shegong_sync_typing(
            data,
            "secret123",
            &[
                "admin",
                "create-user",
                "--username",
                username,
                "--display-name",
                "王",
                "--role",
                "admin",
                "--password-stdin",
            ],
        )
    };
    assert!(twice("a2").status.success());
    let taken = twice("a2");
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("taken"));
}

#[test]
fn seed_demo_is_idempotent_and_gives_a_working_station() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(180));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let first = stdout(&shegong_sync(data, &["admin", "seed-demo"]));
    assert!(first.contains("seeded"), "{first}");
    for username in ["shegong1", "fuzhan1", "dudao1", "admin"] {
        assert!(first.contains(username), "{first}");
    }
    let server = open(data);
    let head = server.storage().read().expect("read").log_head().expect("head");
    drop(server);

    let second = stdout(&shegong_sync(data, &["admin", "seed-demo"]));
    assert!(second.contains("nothing changed"), "{second}");
    let server = open(data);
    assert_eq!(server.storage().read().expect("read").log_head().expect("head"), head, "the second run wrote nothing");

    let session = |username: &str| {
        server
            .login(LoginRequest {
                username: username.into(),
                password: DEMO_PASSWORD.into(),
                device_id: None,
                device_name: "laptop".into(),
                signing_key: None,
                signing_key_proof: None,
            })
            .expect("demo users sign in")
    };
    let deputy = session("fuzhan1");
    let station = deputy.user.get_id(field::user::STATION_ID).expect("station");
    let held = all_entities(&server, station);
    let count = |kind: EntityKind| held.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count(EntityKind::Station), 1);
    assert_eq!(count(EntityKind::ServicePoint), 2);
    assert_eq!(count(EntityKind::Village), 5);
    assert!(count(EntityKind::Recipient) >= 30);
    assert!(count(EntityKind::Household) >= 5);
    assert!(count(EntityKind::Visit) >= 10);
    let stages: Vec<&str> =
        held.iter().filter(|e| e.kind == EntityKind::Case).filter_map(|e| e.get_str(field::case::STAGE)).collect();
    for stage in ["Identify", "Assess", "Plan", "Intervene", "FollowUp"] {
        assert!(stages.contains(&stage), "a case at {stage}: {stages:?}");
    }
    assert!(
        held.iter().any(|e| e.get_str(field::case::CLOSURE_STATUS) == Some("Requested")),
        "a closure awaits sign-off"
    );
    let station_state = held.iter().find(|e| e.kind == EntityKind::Station).expect("station");
    assert_eq!(station_state.get_str(field::station::NAME), Some("城关镇社工站"));
    assert_eq!(station_state.get_str(field::station::COUNTY), Some("示范县"));
    session("shegong1");
    session("dudao1");
    session("admin");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

async fn login(client: &reqwest::Client, url: &str, username: &str, device_id: Option<Uuid>) -> Session {
    let request = LoginRequest {
        username: username.into(),
        password: DEMO_PASSWORD.into(),
        device_id,
        device_name: "laptop".into(),
        signing_key: None,
        signing_key_proof: None,
    };
    let response = client.post(format!("{url}{}", paths::LOGIN)).json(&request).send().await.expect("login sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.expect("session")
}

async fn push(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    changes: Vec<Change>,
) -> Result<PushResponse, reqwest::Error> {
    client
        .post(format!("{url}{}", paths::PUSH))
        .bearer_auth(token)
        .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
        .json(&PushRequest { changes })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

fn household_change(device: Uuid, author: Uuid, seq: u64, clock: &mut Clock, station: Uuid, village: Uuid) -> Change {
    let fields = [
        (field::household::STATION_ID, station.to_string()),
        (field::household::VILLAGE_ID, village.to_string()),
        (field::household::NAME, format!("测试{seq}户")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), domain::change::FieldWrite::new(v)))
    .collect();
    Change {
        change_id: Uuid::now_v7(),
        device_id: device,
        device_seq: seq,
        author_id: author,
        schema_version: domain::SCHEMA_VERSION,
        hlc: clock.tick(u64::try_from(chrono::Utc::now().timestamp_millis()).expect("after 1970")),
        entity: EntityKind::Household,
        entity_id: Uuid::now_v7(),
        op: Op::Create,
        fields,
    }
}

#[test]
fn serve_announces_its_address_and_a_sigkill_loses_no_acknowledged_change() {
    let _deadline = shegong_tests::deadline(std::time::Duration::from_secs(180));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    stdout(&shegong_sync(data, &["admin", "seed-demo"]));
    let rt = runtime();
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");

    let running = Running::start(binary::command(data, &["serve"]));
    assert!(running.url.starts_with("http://127.0.0.1:"), "{}", running.url);
    let url = running.url.clone();
    let session = rt.block_on(login(&client, &url, "shegong1", None));
    let station = session.user.get_id(field::user::STATION_ID).expect("station");
    let village = {
        let server = open(data);
        all_entities(&server, station).into_iter().find(|e| e.kind == EntityKind::Village).expect("a village").id
    };
    let mut clock = Clock::new(session.device_id);
    let changes: Vec<Change> = (1..=400)
        .map(|seq| household_change(session.device_id, session.user_id, seq, &mut clock, station, village))
        .collect();

    // Push one change at a time from a task; kill the server once 25 were acknowledged, while
    // the pushes keep coming.
    let acknowledged: Vec<(Uuid, u64)> = rt.block_on(async {
        let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
        let pusher = {
            let client = client.clone();
            let url = url.clone();
            let token = session.access_token.clone();
            let changes = changes.clone();
            tokio::spawn(async move {
                for change in changes {
                    let id = change.change_id;
                    match push(&client, &url, &token, vec![change]).await {
                        Ok(response) => {
                            if let PushOutcome::Accepted { server_seq, .. } = response.results[0].outcome {
                                let _ = ack_tx.send((id, server_seq));
                            }
                        }
                        Err(_) => return,
                    }
                }
            })
        };
        let mut acked = Vec::new();
        while acked.len() < 25 {
            acked.push(ack_rx.recv().await.expect("acknowledgements arrive"));
        }
        running.kill();
        let _ = pusher.await;
        while let Ok(ack) = ack_rx.try_recv() {
            acked.push(ack);
        }
        acked
    });
    assert!(acknowledged.len() >= 25);

    // A clean start on the same files.
    let restarted = Running::start(binary::command(data, &["serve"]));
    let url = restarted.url.clone();
    rt.block_on(async {
        let again = login(&client, &url, "shegong1", Some(session.device_id)).await;
        assert_eq!(again.device_id, session.device_id);
        // Resending everything from the first change: processed ones get their stored answers.
        let response =
            push(&client, &url, &again.access_token, changes[..(acknowledged.len() + 5).min(changes.len())].to_vec())
                .await
                .expect("resend answered");
        for (result, (change_id, seq)) in response.results.iter().zip(&acknowledged) {
            assert_eq!(result.change_id, *change_id);
            assert_eq!(
                result.outcome,
                PushOutcome::Accepted { server_seq: *seq, effective_hlc: None },
                "the same answer as before the crash"
            );
        }
        let deputy = login(&client, &url, "fuzhan1", None).await;
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page: PullResponse = client
                .get(format!("{url}{}", paths::PULL))
                .bearer_auth(&deputy.access_token)
                .header(SCHEMA_HEADER, "2")
                .query(&PullQuery { after, limit: Some(500) })
                .send()
                .await
                .expect("pull")
                .json()
                .await
                .expect("page");
            for entry in &page.entries {
                if let Incoming::Change(change) = &entry.item {
                    seen.push((change.change_id, entry.server_seq));
                }
            }
            after = page.next_cursor;
            if !page.has_more {
                break;
            }
        }
        for ack in &acknowledged {
            assert!(seen.contains(ack), "acknowledged change {ack:?} survived the crash");
        }
    });
    drop(restarted);
}
