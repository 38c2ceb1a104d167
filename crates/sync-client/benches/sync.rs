//! Sync benchmark on one station's data, over loopback HTTP with the real server and the real
//! client: a fresh device's first full pull, and a week of one worker's offline work pushed and
//! then pulled by the others. Baseline, measured in the same run: the same rows bulk-inserted
//! into plain SQLite.
//!
//! `cargo bench -p sync-client --bench sync` (release). `SHEGONG_BENCH_SCALE=0.05` shrinks the
//! station for a quick smoke run.
//!
//! Bytes: the JSON of the bodies as the client counts it (before compression, as decoded), and
//! the bodies as they crossed the socket (compressed: zstd both ways), counted by a layer in
//! front of the server (the baseline of a figure on the wire is the same bodies' JSON, so the
//! ratio is what compression leaves).
//!
//! Station: 2,000 recipients, 800 households, 20,000 visits, 400 cases with six stage records
//! each, and 20 more cases waiting for the supervisor's decision (about 25,700 records). Last, a
//! county supervisor (督导) of five such stations pulls on a fresh laptop, in a process of its own
//! (this executable run again), what waits for them (supervisor-sized sync: the waiting cases
//! with their records, people and visits, and the organisation), for the time against the same
//! rows bulk-inserted, the time and bytes against the five stations pulled in full (each by its
//! deputy head's fresh laptop, summed), the peak memory, and a pull cut half way and resumed.
//!
//! A first pull is timed as its user waits for it: `Engine::sync_once`, until the pulled data is
//! committed and verified. The upkeep the app's sync task runs after it, once the screens are
//! told (`sync_client::tidy_after_round`: the log copied into the database file, the planner's
//! statistics), is timed apart (`first_pull_upkeep_after_ms`).
//!
//! Every figure is one JSON line `{"bench","name","value","unit","baseline","ratio","target","met"}`
//! besides the report in words.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use domain::change::Write;
use domain::entity::{EntityKind, EntityState, FieldType};
use domain::field;
use domain::org::{Post, RoleKind};
use domain::policy::Actor;
use protocol::LoginRequest;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use store::{DbKey, Store};
use sync_client::{Engine, HttpTransport};
use sync_server::{NewUser, Server, ServerSettings, SqliteStorage};
use test_support::bench::{figure, scale};
use test_support::loopback::Loopback;
use uuid::Uuid;

/// The name each figure of this benchmark carries.
const BENCH: &str = "sync";

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()).round() as usize).max(1)
}

/// One sync server with one or more stations' data, served over loopback.
struct Station {
    server: Server,
    url: String,
    wire: Arc<Wire>,
    _served: Loopback,
    _dir: tempfile::TempDir,
    /// The first station: the one whose people the single-station figures use.
    station: Uuid,
    records: usize,
}

const PASSWORD: &str = "bench-password";
const CATEGORIES: [&str; 5] = ["Dibao", "ExtremePoverty", "Disability", "LeftBehindChild", "VulnerableElderly"];

fn id_number(rng: &mut StdRng) -> (String, &'static str, String) {
    let birth = NaiveDate::from_ymd_opt(rng.gen_range(1935..2018), rng.gen_range(1..13), rng.gen_range(1..29))
        .unwrap_or_default();
    let sequence: u32 = rng.gen_range(0..1000);
    let number = test_support::id_number("441900", birth, sequence);
    let gender = test_support::gender_of(&number);
    (number, gender, birth.to_string())
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛"];

/// Usernames of station `n`'s staff: `w1`..`w3`, `d1` for the first, `w1-2`.. for the others.
fn username(name: &str, n: usize) -> String {
    if n == 0 { name.to_owned() } else { format!("{name}-{n}") }
}

/// `count` stations of the generated size on one server, and a supervisor `s1` (督导) of all of
/// them.
fn build_stations(count: usize) -> Station {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = SqliteStorage::open(&dir.path().join("server.db")).expect("storage");
    let server = Server::new(Arc::new(storage), ServerSettings::default(), sync_server::system_clock());
    let mut records = 0;
    let mut stations = Vec::new();
    for n in 0..count {
        let (station, held) = fill_station(&server, n);
        stations.push(station);
        records += held;
    }
    server
        .admin()
        .create_user(&NewUser {
            username: "s1".into(),
            display_name: "s1".into(),
            role: RoleKind::Supervisor,
            post: None,
            station_id: None,
            service_point_id: None,
            supervised_station_ids: stations.clone(),
            password: PASSWORD.into(),
        })
        .expect("supervisor");
    let wire = Arc::new(Wire::default());
    let counted = wire.clone();
    let served = Loopback::serve_wrapped(server.clone(), 2, move |router| {
        router.layer(axum::middleware::from_fn(move |request, next| count_bodies(counted.clone(), request, next)))
    });
    Station { server, url: served.url.clone(), wire, _served: served, _dir: dir, station: stations[0], records }
}

/// Station `number`: its service point, villages and staff, and its generated records, written
/// through the server's own checked write path. Returns its id and how many records it holds.
fn fill_station(server: &Server, number: usize) -> (Uuid, usize) {
    let admin = server.admin();
    let station = admin.create_station(&format!("城关镇社工站{number}"), "示范县").expect("station");
    let point = admin.create_service_point(station, "一号社工点").expect("point");
    let villages: Vec<Uuid> =
        (0..6).map(|n| admin.create_village(station, point, &format!("{n}村")).expect("village")).collect();
    let mut workers = Vec::new();
    for (name, role) in [
        ("w1", RoleKind::SocialWorker),
        ("w2", RoleKind::SocialWorker),
        ("w3", RoleKind::SocialWorker),
        ("d1", RoleKind::DeputyHead),
    ] {
        let id = admin
            .create_user(&NewUser {
                username: username(name, number),
                display_name: name.into(),
                role,
                post: (role == RoleKind::SocialWorker).then_some(Post::Service),
                station_id: Some(station),
                service_point_id: Some(point),
                supervised_station_ids: vec![],
                password: PASSWORD.into(),
            })
            .expect("user");
        workers.push(id);
    }

    let mut rng = StdRng::seed_from_u64(7 + number as u64);
    let today = Utc::now().date_naive();
    let s = station.to_string();
    let mut records = 0;
    let mut batch: Vec<(Uuid, Write)> = Vec::new();
    let flush = |batch: &mut Vec<(Uuid, Write)>| {
        // Authored by the workers, through the server's own checked write path.
        let mut by_author: std::collections::BTreeMap<Uuid, Vec<Write>> = Default::default();
        for (author, write) in batch.drain(..) {
            by_author.entry(author).or_default().push(write);
        }
        for (author, writes) in by_author {
            admin.record_as(author, writes).expect("seed writes");
        }
    };
    let households: Vec<Uuid> = (0..scaled(800))
        .map(|n| {
            let id = Uuid::now_v7();
            batch.push((
                workers[n % 3],
                Write::create(EntityKind::Household, id)
                    .set(field::household::STATION_ID, s.clone())
                    .set(field::household::VILLAGE_ID, villages[n % villages.len()].to_string())
                    .set(
                        field::household::NAME,
                        format!("{}{}户", SURNAMES[n % SURNAMES.len()], GIVEN[n % GIVEN.len()]),
                    ),
            ));
            id
        })
        .collect();
    records += households.len();
    flush(&mut batch);
    let mut recipients = Vec::new();
    for n in 0..scaled(2000) {
        let id = Uuid::now_v7();
        let (number, gender, birth) = id_number(&mut rng);
        let village = villages[n % villages.len()];
        batch.push((
            workers[n % 3],
            Write::create(EntityKind::Recipient, id)
                .set(field::recipient::STATION_ID, s.clone())
                .set(field::recipient::VILLAGE_ID, village.to_string())
                .set(
                    field::recipient::NAME,
                    format!("{}{}", SURNAMES[rng.gen_range(0..SURNAMES.len())], GIVEN[rng.gen_range(0..GIVEN.len())]),
                )
                .set(field::recipient::ID_NUMBER, number)
                .set(field::recipient::GENDER, gender)
                .set(field::recipient::BIRTH_DATE, birth)
                .set(field::recipient::PHONE, format!("13{:09}", rng.gen_range(0..1_000_000_000u32)))
                .set(field::recipient::CATEGORIES, json!([CATEGORIES[n % 5]]))
                .set(field::recipient::HOUSEHOLD_ID, households[n % households.len()].to_string())
                .set(field::recipient::HOUSEHOLD_RELATION, if n % 3 == 0 { "Head" } else { "Child" })
                .set(field::recipient::ADDRESS, format!("{}组{}号", n % 12 + 1, n % 80 + 1)),
        ));
        recipients.push((id, village));
        if batch.len() >= 500 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    records += recipients.len();
    for n in 0..scaled(20_000) {
        let (recipient, village) = recipients[n % recipients.len()];
        let worker = workers[n % 3];
        batch.push((
            worker,
            Write::create(EntityKind::Visit, Uuid::now_v7())
                .set(field::visit::STATION_ID, s.clone())
                .set(field::visit::VILLAGE_ID, village.to_string())
                .set(field::visit::RECIPIENT_ID, recipient.to_string())
                .set(field::visit::WORKER_ID, worker.to_string())
                .set(field::visit::VISITED_ON, (today - chrono::Duration::days((n % 365) as i64)).to_string())
                .set(field::visit::PERSONS_SEEN, "本人")
                .set(field::visit::OBSERVATIONS, "老人独居，身体状况稳定，家中整洁，按时服药。")
                .set(field::visit::FOLLOW_UP_NEEDED, n % 7 == 0),
        ));
        if batch.len() >= 500 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    records += scaled(20_000);
    for n in 0..scaled(400) {
        let worker = workers[n % 3];
        let case = Uuid::now_v7();
        let (recipient, _) = recipients[n % recipients.len()];
        let day = today.to_string();
        let record = |kind| {
            Write::create(kind, Uuid::now_v7()).set(field::STATION_ID, s.clone()).set(field::CASE_ID, case.to_string())
        };
        batch.push((
            worker,
            Write::create(EntityKind::Case, case)
                .set(field::case::STATION_ID, s.clone())
                .set(field::case::RECIPIENT_ID, recipient.to_string())
                .set(field::case::WORKER_ID, worker.to_string())
                .set(field::case::STAGE, "Identify")
                .set(field::case::STAGE_ENTERED_ON, day.clone())
                .set(field::case::OPENED_ON, day.clone())
                .set(field::case::CLOSURE_STATUS, "Open"),
        ));
        batch.push((
            worker,
            record(EntityKind::Screening)
                .set(field::screening::SOURCE, "VisitScreening")
                .set(field::screening::FOUND_ON, day.clone()),
        ));
        batch.push((
            worker,
            record(EntityKind::Assessment)
                .set(field::assessment::ASSESSED_ON, day.clone())
                .set(field::assessment::LIVING_CONDITIONS, "独居，收入来源为低保金")
                .set(field::assessment::RISK_LEVEL, "Medium")
                .set(field::assessment::NEEDS_SUMMARY, "需要生活照料和精神慰藉"),
        ));
        batch.push((
            worker,
            record(EntityKind::Goal)
                .set(field::goal::DESCRIPTION, "每月探访两次，链接志愿者送餐")
                .set(field::goal::TARGET_DATE, (today + chrono::Duration::days(90)).to_string()),
        ));
        batch.push((
            worker,
            record(EntityKind::ResourceLink)
                .set(field::resource_link::KIND, "Volunteer")
                .set(field::resource_link::DESCRIPTION, "志愿服务队每周送餐")
                .set(field::resource_link::STATUS, "Secured")
                .set(field::resource_link::LINKED_ON, day.clone()),
        ));
        batch.push((
            worker,
            record(EntityKind::Intervention)
                .set(field::intervention::WORKER_ID, worker.to_string())
                .set(field::intervention::DELIVERED_ON, day.clone())
                .set(field::intervention::SERVICE_TYPE, "EmotionalCounselling")
                .set(field::intervention::METHOD, "Casework")
                .set(field::intervention::DURATION_MINUTES, 60)
                .set(field::intervention::NOTES, "陪伴聊天，疏导情绪"),
        ));
        batch.push((
            worker,
            record(EntityKind::FollowUp)
                .set(field::follow_up::WORKER_ID, worker.to_string())
                .set(field::follow_up::VISITED_ON, day.clone())
                .set(field::follow_up::NOTES, "情况稳定"),
        ));
        if batch.len() >= 490 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    records += scaled(400) * 7;
    // A twentieth as many again wait for the supervisor's decision (closure requested), each of
    // a person without another case: what a supervisor's laptop holds of the station.
    let opened = today - chrono::Duration::days(60);
    for k in 0..scaled(WAITING_CASES) {
        let (recipient, _) = recipients[(scaled(400) + k) % recipients.len()];
        let worker = workers[k % 3];
        let (_, writes) = test_support::writes::case_to_closure_request(station, recipient, worker, opened);
        batch.extend(writes.into_iter().map(|w| (worker, w)));
        if batch.len() >= 490 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    records += scaled(WAITING_CASES) * 7;
    (station, records)
}

/// Cases per station whose closure is requested (at scale 1), beside the 400 open ones.
const WAITING_CASES: usize = 20;

/// Bytes of bodies as they crossed the socket: requests as they arrived (compressed when they
/// were) and answers as they left (compressed when the client accepted it).
#[derive(Default)]
struct Wire {
    to_server: AtomicU64,
    from_server: AtomicU64,
}

impl Wire {
    /// Both ways so far.
    fn total(&self) -> u64 {
        self.to_server.load(Ordering::SeqCst) + self.from_server.load(Ordering::SeqCst)
    }

    /// Answers only, so far.
    fn answers(&self) -> u64 {
        self.from_server.load(Ordering::SeqCst)
    }
}

/// In front of the server's own layers (its decompression and compression), so it sees bodies
/// as they travel. The answer is counted before it is sent, so before the client has it.
async fn count_bodies(
    wire: Arc<Wire>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("request body");
    wire.to_server.fetch_add(body.len() as u64, Ordering::SeqCst);
    let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("answer body");
    wire.from_server.fetch_add(body.len() as u64, Ordering::SeqCst);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

/// The JSON a device's transport sent and received so far (before compression, as decoded).
fn json_bytes(device: &mut Device) -> u64 {
    let transport = device.engine.transport();
    transport.json_bytes_sent() + transport.bytes_received()
}

/// A first pull within this many times the plain bulk insert of the same rows.
const TARGET_FIRST_PULL_RATIO: f64 = 3.0;
/// A day's work pushed by one device and pulled by another, both verified.
const TARGET_DAY_ROUND_TRIP_MS: f64 = 100.0;

/// A first pull's bytes on the wire per record, at most: village links are slow and metered.
const TARGET_FIRST_PULL_WIRE_BYTES_PER_RECORD: f64 = 250.0;

struct Device {
    store: Store,
    engine: Engine<HttpTransport>,
    actor: Actor,
    _dir: tempfile::TempDir,
}

/// A session of `username` for the device of `store`.
fn signed_in(url: &str, username: &str, store: &Store) -> protocol::Session {
    sync_client::login(
        url,
        &LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            device_id: Some(store.device_id()),
            device_name: "bench".into(),
            signing_key: None,
            signing_key_proof: None,
        },
    )
    .expect("login")
}

fn device(station: &Station, username: &str) -> Device {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_with_key(&dir.path().join("device.db"), &DbKey([9; 32])).expect("store");
    let session = signed_in(&station.url, username, &store);
    let user: domain::org::User = session.user.to_typed().expect("user");
    let actor = Actor::new(user.id, user.role());
    let engine = Engine::new(HttpTransport::new(&station.url, session).expect("transport"));
    Device { store, engine, actor, _dir: dir }
}

fn millis(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

fn ms(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1e3)
}

fn per_second(count: usize, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64()
}

/// The baseline: the same rows, as plain rows of the same columns, into unencrypted SQLite in
/// one transaction with prepared statements.
fn bulk_insert_baseline(entities: &[EntityState]) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = rusqlite::Connection::open(dir.path().join("plain.db")).expect("plain db");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").expect("pragmas");
    for kind in <EntityKind as domain::Labelled>::ALL.iter().copied() {
        let spec = kind.spec();
        let columns: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
        conn.execute_batch(&format!("CREATE TABLE {} (id TEXT PRIMARY KEY, {})", spec.table, columns.join(", ")))
            .expect("table");
    }
    let start = Instant::now();
    let tx = conn.transaction().expect("tx");
    insert_rows(&tx, entities, false);
    tx.commit().expect("commit");
    start.elapsed()
}

/// A second baseline: the same rows inserted by plain `INSERT`s in one transaction into a fresh
/// encrypted store (the app's schema with its indexes, its durability, its cipher), the creation
/// stamp and author included: what the database itself costs, without the sync's own work
/// (HTTP, decoding, merging, digests, search columns, the latest visits, the cursor).
fn encrypted_store_baseline(entities: &[EntityState]) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_with_key(&dir.path().join("raw.db"), &DbKey([9; 32])).expect("store");
    let conn = store.connection();
    let start = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    insert_rows(conn, entities, true);
    conn.execute_batch("COMMIT").expect("commit");
    start.elapsed()
}

/// Each entity as a row of its kind's table: its id and spec fields (and, with `stamped`, its
/// creation stamp and author), by prepared statements.
fn insert_rows(conn: &rusqlite::Connection, entities: &[EntityState], stamped: bool) {
    for e in entities {
        let spec = e.kind.spec();
        let mut columns: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
        if stamped {
            columns.extend(["created_hlc", "created_by"]);
        }
        let sql = format!(
            "INSERT INTO {} (id, {}) VALUES (?1, {})",
            spec.table,
            columns.join(", "),
            (2..=columns.len() + 1).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
        );
        let mut statement = conn.prepare_cached(&sql).expect("prepare");
        let mut values: Vec<rusqlite::types::Value> = vec![e.id.to_string().into()];
        for field in spec.fields {
            values.push(match (e.fields.get(field.name), field.ty) {
                (None | Some(Value::Null), _) => rusqlite::types::Value::Null,
                (Some(Value::Bool(b)), _) => i64::from(*b).into(),
                (Some(Value::Number(n)), FieldType::Integer { .. }) => n.as_i64().unwrap_or(0).into(),
                (Some(Value::String(s)), _) => s.clone().into(),
                (Some(other), _) => other.to_string().into(),
            });
        }
        if stamped {
            values.push(e.created.hlc.to_string().into());
            values.push(e.created.author.to_string().into());
        }
        statement.execute(rusqlite::params_from_iter(values)).expect("insert");
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    println!("sync benchmark (scale {})", scale());
    let build = Instant::now();
    let station = build_stations(1);
    println!("station generated: {} records in {:.1?} (server-side checked writes)", station.records, build.elapsed());

    // 0. Where the time of a first pull goes, piece by piece (in process, no HTTP), to guide work
    // on it.
    {
        let session = station
            .server
            .login(LoginRequest {
                username: "d1".into(),
                password: PASSWORD.into(),
                device_id: None,
                device_name: "probe".into(),
                signing_key: None,
                signing_key_proof: None,
            })
            .expect("login");
        // The server's part is the page as the HTTP layer sends it (the log's stored JSON).
        let mut server_read = Duration::ZERO;
        let mut decode = Duration::ZERO;
        let mut bytes = 0;
        let mut back = Vec::new();
        let mut after = 0;
        loop {
            let t = Instant::now();
            let json = station
                .server
                .pull_json(
                    &session.access_token,
                    domain::SCHEMA_VERSION,
                    protocol::PullQuery { after, limit: Some(2000) },
                )
                .expect("pull");
            server_read += t.elapsed();
            bytes += json.len();
            let t = Instant::now();
            let page: protocol::PullResponse = serde_json::from_str(&json).expect("parse");
            decode += t.elapsed();
            after = page.next_cursor;
            back.extend(page.entries);
            if !page.has_more {
                break;
            }
        }
        let dir = tempfile::tempdir().expect("dir");
        let mut store = Store::open_with_key(&dir.path().join("probe.db"), &DbKey([9; 32])).expect("store");
        let items: Vec<(u64, domain::change::Incoming)> = back.into_iter().map(|e| (e.server_seq, e.item)).collect();
        let t = Instant::now();
        // As the engine applies them: pages of 2,000 in transactions of up to 50,000 entries.
        for batch in items.chunks(sync_client::PULL_BATCH_ENTRIES) {
            let mut pull = store.begin_pull().expect("begin");
            for page in batch.chunks(2000) {
                pull.apply(page, page.last().map(|c| c.0).unwrap_or(0)).expect("apply");
            }
            pull.commit().expect("commit");
        }
        let apply = t.elapsed();
        let t = Instant::now();
        let sum = store.station_checksum(station.station).expect("sum");
        let checksum = t.elapsed();
        let t = Instant::now();
        let _ = store.station_checksum(station.station).expect("sum");
        let checksum2 = t.elapsed();
        println!(
            "probe: {} entries: server pull (JSON as sent) {server_read:.1?} ({bytes} bytes), decode {decode:.1?}, apply {apply:.1?}, checksum {checksum:.1?} (again {checksum2:.1?}) {sum:x}",
            items.len()
        );
    }

    // 1. A fresh device's first full pull (deputy head: the whole station). Three fresh devices,
    // alternating with three runs of the baseline, so both see the same machine; medians compared.
    let mut pulls = Vec::new();
    let mut baselines = Vec::new();
    let mut encrypted_baselines = Vec::new();
    let mut upkeeps = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let mut deputy = device(&station, "d1");
        let wire_before = station.wire.answers();
        let start = Instant::now();
        let report = deputy.engine.sync_once(&mut deputy.store, |_| {}).expect("first pull");
        pulls.push(start.elapsed());
        // What the app does once the screens are told: timed apart, as nobody waits for it.
        let start = Instant::now();
        sync_client::tidy_after_round(&mut deputy.store, &report);
        upkeeps.push(start.elapsed());
        let bytes = (deputy.engine.transport().bytes_received(), station.wire.answers() - wire_before);
        let mut held = Vec::new();
        for kind in <EntityKind as domain::Labelled>::ALL.iter().copied() {
            held.extend(deputy.store.list(kind, None).expect("list"));
        }
        baselines.push(bulk_insert_baseline(&held));
        encrypted_baselines.push(encrypted_store_baseline(&held));
        last = Some((report, bytes, held));
    }
    let (report, bytes, held) = last.expect("three runs");
    pulls.sort();
    baselines.sort();
    let (first_pull, baseline) = (pulls[1], baselines[1]);
    println!(
        "\nfirst full pull: {} entries in {} pages, median of 3 {} (min {}, max {})",
        report.pulled,
        report.pages,
        ms(first_pull),
        ms(pulls[0]),
        ms(pulls[2])
    );
    let (json_per_record, wire_per_record) =
        (bytes.0 as f64 / report.pulled.max(1) as f64, bytes.1 as f64 / report.pulled.max(1) as f64);
    println!(
        "  {:.0} records/s, {json_per_record:.0} bytes of JSON and {wire_per_record:.0} bytes on the wire per record, checksum verified: {}",
        per_second(report.pulled, first_pull),
        report.verified
    );
    println!(
        "  baseline: the same {} rows bulk-inserted into plain SQLite: median {} (min {}, max {})",
        held.len(),
        ms(baseline),
        ms(baselines[0]),
        ms(baselines[2])
    );
    println!(
        "  ratio first pull / bulk insert: {:.2}x (target: within 3x)",
        first_pull.as_secs_f64() / baseline.as_secs_f64()
    );
    upkeeps.sort();
    println!(
        "  then, once the screens are told (the app's sync task, nobody waiting): the log copied into the file and the planner's statistics refreshed, median {}",
        ms(upkeeps[1])
    );
    encrypted_baselines.sort();
    let encrypted_baseline_ms = millis(encrypted_baselines[1]);
    println!(
        "  second baseline: the same rows by plain INSERTs into a fresh encrypted store (its schema, indexes, durability): median {encrypted_baseline_ms:.1} ms; ratio {:.2}x",
        millis(first_pull) / encrypted_baseline_ms
    );
    let (first_pull_ms, baseline_ms) = (millis(first_pull), millis(baseline));
    figure(BENCH, "first_pull_ms", first_pull_ms, "ms", Some(baseline_ms), Some(TARGET_FIRST_PULL_RATIO * baseline_ms));
    figure(BENCH, "first_pull_upkeep_after_ms", millis(upkeeps[1]), "ms", None, None);
    figure(BENCH, "first_pull_ms_vs_encrypted_store_inserts", first_pull_ms, "ms", Some(encrypted_baseline_ms), None);
    figure(BENCH, "first_pull_bytes_per_record_raw", json_per_record, "bytes/record", None, None);
    figure(
        BENCH,
        "first_pull_bytes_per_record_wire",
        wire_per_record,
        "bytes/record",
        Some(json_per_record),
        Some(TARGET_FIRST_PULL_WIRE_BYTES_PER_RECORD),
    );

    // Two more devices, already in sync.
    let mut worker = device(&station, "w1");
    worker.engine.sync_once(&mut worker.store, |_| {}).expect("worker first pull");
    let mut colleague = device(&station, "w2");
    colleague.engine.sync_once(&mut colleague.store, |_| {}).expect("colleague first pull");

    // 2. A week of one worker's offline work: ~100 visits and ~300 edits.
    let work = |worker: &mut Device, visits: usize, edits: usize, seed: u64| {
        let mut rng = StdRng::seed_from_u64(seed);
        let recipients = worker.store.list(EntityKind::Recipient, None).expect("recipients");
        let now = Utc::now();
        let today = now.date_naive();
        for _ in 0..visits {
            let r = &recipients[rng.gen_range(0..recipients.len())];
            let write = Write::create(EntityKind::Visit, Uuid::now_v7())
                .set(field::visit::STATION_ID, station.station.to_string())
                .set(field::visit::VILLAGE_ID, r.get_str(field::recipient::VILLAGE_ID).unwrap_or_default())
                .set(field::visit::RECIPIENT_ID, r.id.to_string())
                .set(field::visit::WORKER_ID, worker.actor.user_id.to_string())
                .set(field::visit::VISITED_ON, today.to_string())
                .set(field::visit::OBSERVATIONS, "入户走访，了解近况")
                .set(field::visit::FOLLOW_UP_NEEDED, false);
            worker.store.record(&worker.actor, vec![write], now, today).expect("visit");
        }
        for n in 0..edits {
            let r = &recipients[rng.gen_range(0..recipients.len())];
            let write = Write::update(EntityKind::Recipient, r.id)
                .set(field::recipient::NOTES, format!("第{n}次更新：情况稳定"));
            worker.store.record(&worker.actor, vec![write], now, today).expect("edit");
        }
        visits + edits
    };
    let week = work(&mut worker, 100, 300, 1);
    let json_before = json_bytes(&mut worker) + json_bytes(&mut colleague);
    let wire_before = station.wire.total();
    let sent_before = (worker.engine.transport().json_bytes_sent(), worker.engine.transport().bytes_sent());
    let start = Instant::now();
    let pushed = worker.engine.sync_once(&mut worker.store, |_| {}).expect("push week");
    let push_time = start.elapsed();
    let sent = (
        worker.engine.transport().json_bytes_sent() - sent_before.0,
        worker.engine.transport().bytes_sent() - sent_before.1,
    );
    let received_before = (colleague.engine.transport().bytes_received(), station.wire.answers());
    let start = Instant::now();
    let pulled = colleague.engine.sync_once(&mut colleague.store, |_| {}).expect("pull week");
    let pull_time = start.elapsed();
    let received =
        (colleague.engine.transport().bytes_received() - received_before.0, station.wire.answers() - received_before.1);
    let week_json = (json_bytes(&mut worker) + json_bytes(&mut colleague) - json_before) as f64 / week as f64;
    let week_wire = (station.wire.total() - wire_before) as f64 / week as f64;
    println!("\na week offline: {week} changes (100 visits, 300 edits)");
    println!(
        "  push: {} accepted in {:.0?} ({:.0} changes/s, {:.0} bytes of JSON and {:.0} on the wire per change)",
        pushed.accepted,
        push_time,
        per_second(pushed.accepted, push_time),
        sent.0 as f64 / week as f64,
        sent.1 as f64 / week as f64
    );
    println!(
        "  pull by a colleague: {} entries in {:.0?} ({:.0} changes/s, {:.0} bytes of JSON and {:.0} on the wire per change)",
        pulled.pulled,
        pull_time,
        per_second(pulled.pulled.max(1), pull_time),
        received.0 as f64 / pulled.pulled.max(1) as f64,
        received.1 as f64 / pulled.pulled.max(1) as f64
    );
    println!(
        "  both rounds, every body both ways: {week_json:.0} bytes of JSON and {week_wire:.0} on the wire per change"
    );
    figure(BENCH, "week_offline_push_ms", millis(push_time), "ms", None, None);
    figure(BENCH, "week_offline_pull_ms", millis(pull_time), "ms", None, None);
    figure(BENCH, "week_offline_bytes_per_record_raw", week_json, "bytes/record", None, None);
    figure(BENCH, "week_offline_bytes_per_record_wire", week_wire, "bytes/record", Some(week_json), None);

    // 3. A day's work (200 changes) round trip: pushed by one, pulled by another.
    // Each device's round is `sync_once` (push, pull, verify) step by step, to see the parts.
    let mut round_trips = Vec::new();
    let mut parts: [Vec<Duration>; 6] = Default::default();
    let json_before = json_bytes(&mut worker) + json_bytes(&mut colleague);
    let wire_before = station.wire.total();
    let mut day_changes = 0;
    for day in 0..5 {
        let day_work = work(&mut worker, 60, 140, 10 + day);
        let start = Instant::now();
        let mut step = Instant::now();
        let mut lap = |part: usize, parts: &mut [Vec<Duration>; 6]| {
            parts[part].push(step.elapsed());
            step = Instant::now();
        };
        let mut report = sync_client::SyncReport::default();
        worker.engine.push_all(&mut worker.store, &mut report).expect("push day");
        lap(0, &mut parts);
        worker.engine.pull_all(&mut worker.store, &mut report, &mut |_| {}).expect("worker pulls back");
        lap(1, &mut parts);
        worker.engine.verify(&mut worker.store, &mut report, &mut |_| {}).expect("worker verifies");
        lap(2, &mut parts);
        let mut report = sync_client::SyncReport::default();
        colleague.engine.push_all(&mut colleague.store, &mut report).expect("colleague has nothing");
        lap(3, &mut parts);
        colleague.engine.pull_all(&mut colleague.store, &mut report, &mut |_| {}).expect("pull day");
        lap(4, &mut parts);
        colleague.engine.verify(&mut colleague.store, &mut report, &mut |_| {}).expect("colleague verifies");
        lap(5, &mut parts);
        round_trips.push(start.elapsed());
        day_changes += day_work;
        assert_eq!(day_work, 200);
        assert_eq!(report.pulled, 200);
        assert!(report.verified);
    }
    let day_json = (json_bytes(&mut worker) + json_bytes(&mut colleague) - json_before) as f64 / day_changes as f64;
    let day_wire = (station.wire.total() - wire_before) as f64 / day_changes as f64;
    round_trips.sort();
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let [push, back, verify_w, _, pull, verify_c] = parts.map(median);
    let baseline_day = bulk_insert_baseline(&held[..200.min(held.len())]);
    println!("\na day's work (200 changes) pushed by one device and pulled by another, 5 days:");
    println!(
        "  round trip min {:.1?}, median {:.1?}, max {:.1?} (target: under 100 ms)",
        round_trips[0], round_trips[2], round_trips[4]
    );
    println!(
        "  medians: push {push:.1?}, own changes pulled back {back:.1?}, verify {verify_w:.1?}; colleague's pull {pull:.1?}, verify {verify_c:.1?}"
    );
    println!(
        "  baseline: 200 rows bulk-inserted into plain SQLite: {:.1?}; ratio median/baseline {:.1}x",
        baseline_day,
        round_trips[2].as_secs_f64() / baseline_day.as_secs_f64()
    );
    println!(
        "  both devices' rounds, every body both ways: {day_json:.0} bytes of JSON and {day_wire:.0} on the wire per change"
    );
    figure(
        BENCH,
        "day_round_trip_ms",
        millis(round_trips[2]),
        "ms",
        Some(millis(baseline_day)),
        Some(TARGET_DAY_ROUND_TRIP_MS),
    );
    figure(BENCH, "day_sync_bytes_per_record_raw", day_json, "bytes/record", None, None);
    figure(BENCH, "day_sync_bytes_per_record_wire", day_wire, "bytes/record", Some(day_json), None);
    drop((worker, colleague, station));

    supervisor_first_pull();
}

/// How many stations a county supervisor (督导) covers in the supervisor's figures.
const SUPERVISED_STATIONS: usize = 5;

/// A county supervisor's first pull of five stations (part 4), in a process of its own (so its peak
/// memory is the laptop's, not the server's): the time against the same rows bulk-inserted, the
/// peak resident memory; and a pull cut at half way (the link drops), then resumed in the next
/// round: how much the second round pulled again.
fn supervisor_first_pull() {
    let build = Instant::now();
    let county = build_stations(SUPERVISED_STATIONS);
    println!(
        "\na supervisor of {SUPERVISED_STATIONS} stations: {} records generated in {:.1?}",
        county.records,
        build.elapsed()
    );
    let get = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
    // The full pull of the same stations, for comparison: each station's whole data on a fresh
    // laptop of its deputy head (what a supervisor pulled before supervisor-sized sync), summed.
    let mut full_station = json!({"pulled": 0.0, "pull_ms": 0.0, "json_bytes": 0.0, "wire_bytes": 0.0});
    for n in 0..SUPERVISED_STATIONS {
        let before = county.wire.total();
        let run = run_child(&county.url, "full", &username("d1", n));
        let wire = (county.wire.total() - before) as f64;
        for (key, value) in [
            ("pulled", get(&run, "pulled")),
            ("pull_ms", get(&run, "pull_ms")),
            ("json_bytes", get(&run, "json_bytes")),
            ("wire_bytes", wire),
        ] {
            full_station[key] = json!(get(&full_station, key) + value);
        }
    }
    let before = county.wire.total();
    let full = run_child(&county.url, "full", "s1");
    let wire = (county.wire.total() - before) as f64;
    let cut = run_child(&county.url, "cut", "s1");
    println!(
        "  the supervisor's first pull: {} entries in {:.0} ms (baseline {:.0} ms, {:.2}x), peak memory {:.0} MB",
        get(&full, "pulled"),
        get(&full, "pull_ms"),
        get(&full, "baseline_ms"),
        get(&full, "pull_ms") / get(&full, "baseline_ms"),
        get(&full, "peak_rss_mb")
    );
    println!(
        "  against the five stations in full: {} entries in {:.0} ms; {:.0} bytes of JSON against {:.0}, {wire:.0} on the wire against {:.0}",
        get(&full_station, "pulled"),
        get(&full_station, "pull_ms"),
        get(&full, "json_bytes"),
        get(&full_station, "json_bytes"),
        get(&full_station, "wire_bytes"),
    );
    println!(
        "  cut at {:.0} % of the log (cut: {}): {} entries kept; the next round pulled {} more in {:.0} ms and verified: {}",
        100.0 * get(&cut, "cut_at") / get(&cut, "head"),
        cut["was_cut"],
        get(&cut, "kept"),
        get(&cut, "resumed_pulled"),
        get(&cut, "resume_ms"),
        cut["verified"]
    );
    figure(BENCH, "supervisor_first_pull_ms", get(&full, "pull_ms"), "ms", Some(get(&full, "baseline_ms")), None);
    // Supervisor-sized sync: the supervisor's first pull against the five stations' in full.
    let full_ms = get(&full_station, "pull_ms");
    let (full_json, full_wire) = (get(&full_station, "json_bytes"), get(&full_station, "wire_bytes"));
    figure(
        BENCH,
        "supervisor_first_pull_vs_full_ms",
        get(&full, "pull_ms"),
        "ms",
        Some(full_ms),
        Some(TARGET_SUPERVISOR_SHARE_MS * full_ms),
    );
    figure(
        BENCH,
        "supervisor_first_pull_vs_full_bytes_json",
        get(&full, "json_bytes"),
        "bytes",
        Some(full_json),
        Some(TARGET_SUPERVISOR_SHARE_BYTES * full_json),
    );
    figure(
        BENCH,
        "supervisor_first_pull_vs_full_bytes_wire",
        wire,
        "bytes",
        Some(full_wire),
        Some(TARGET_SUPERVISOR_SHARE_BYTES * full_wire),
    );
    figure(
        BENCH,
        "supervisor_first_pull_vs_full_entries",
        get(&full, "pulled"),
        "entries",
        Some(get(&full_station, "pulled")),
        None,
    );
    figure(BENCH, "supervisor_first_pull_peak_rss_mb", get(&full, "peak_rss_mb"), "MB", None, None);
    // The two rounds together pull what one uncut pull does, and nothing twice: what the first
    // committed before the link dropped is not asked for again.
    let pulled_twice = get(&cut, "kept") + get(&cut, "resumed_pulled") - get(&full, "pulled");
    figure(BENCH, "supervisor_pull_cut_entries_pulled_twice", pulled_twice, "entries", None, Some(0.0));
    figure(BENCH, "supervisor_pull_cut_kept_share", get(&cut, "kept") / get(&full, "pulled"), "share", None, None);
    figure(BENCH, "supervisor_pull_resume_ms", get(&cut, "resume_ms"), "ms", None, None);
}

/// A supervisor's first pull, at most this share of the bytes of the full pull of their stations.
const TARGET_SUPERVISOR_SHARE_BYTES: f64 = 0.10;
/// ... and of its time (a round's fixed costs weigh more in a small pull).
const TARGET_SUPERVISOR_SHARE_MS: f64 = 0.25;

/// The environment variable a child run of this benchmark reads: `<url> <mode>`.
const CHILD_ENV: &str = "SHEGONG_SYNC_BENCH_CHILD";

/// Runs this benchmark's executable again as a fresh laptop signing in as `username` and pulling
/// (`mode` "full", or "cut": cut at half way, then resumed), and reads the JSON line it prints.
fn run_child(url: &str, mode: &str, username: &str) -> Value {
    let exe = std::env::current_exe().expect("this executable");
    let output = std::process::Command::new(exe)
        .args(std::env::args().skip(1))
        .env(CHILD_ENV, format!("{url} {mode} {username}"))
        .output()
        .expect("child run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child run failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("child: "))
        .and_then(|line| serde_json::from_str(line).ok())
        .expect("the child's figures")
}

/// The peak resident memory of this process so far (`VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Passes everything to the HTTP transport (its page fetcher included), and answers "offline"
/// to any pull after `cut_after` once reached: the link drops half way.
struct CutAt {
    inner: HttpTransport,
    cut_after: u64,
}

struct CutFetcher {
    inner: Box<dyn sync_client::PageFetcher>,
    cut_after: u64,
}

fn cut(after: u64, cut_after: u64) -> Result<(), sync_client::TransportError> {
    if after >= cut_after { Err(sync_client::TransportError::Offline("the link dropped".into())) } else { Ok(()) }
}

impl sync_client::PageFetcher for CutFetcher {
    fn pull(&mut self, query: protocol::PullQuery) -> Result<protocol::PullResponse, sync_client::TransportError> {
        cut(query.after, self.cut_after)?;
        self.inner.pull(query)
    }
}

impl sync_client::Transport for CutAt {
    fn push(&mut self, request: &protocol::PushRequest) -> Result<protocol::PushResponse, sync_client::TransportError> {
        self.inner.push(request)
    }

    fn pull(&mut self, query: protocol::PullQuery) -> Result<protocol::PullResponse, sync_client::TransportError> {
        cut(query.after, self.cut_after)?;
        self.inner.pull(query)
    }

    fn checksum(&mut self) -> Result<protocol::ChecksumResponse, sync_client::TransportError> {
        self.inner.checksum()
    }

    fn snapshot(
        &mut self,
        query: &protocol::SnapshotQuery,
    ) -> Result<protocol::SnapshotResponse, sync_client::TransportError> {
        self.inner.snapshot(query)
    }

    fn page_fetcher(&mut self) -> Option<Box<dyn sync_client::PageFetcher>> {
        let cut_after = self.cut_after;
        self.inner
            .page_fetcher()
            .map(|inner| Box::new(CutFetcher { inner, cut_after }) as Box<dyn sync_client::PageFetcher>)
    }
}

/// The child run (see [`run_child`]): prints `child: {json}`.
fn child(spec: &str) {
    let mut words = spec.split(' ');
    let (Some(url), Some(mode), Some(username)) = (words.next(), words.next(), words.next()) else {
        panic!("<url> <mode> <username>: {spec}")
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_with_key(&dir.path().join("device.db"), &DbKey([9; 32])).expect("store");
    let session = signed_in(url, username, &store);
    let result = if mode == "cut" {
        // Half way through this user's own entries (a supervisor's are a few scattered along the
        // log), read page by page.
        let mut probe = HttpTransport::new(url, session.clone()).expect("transport");
        let (mut seqs, mut after) = (Vec::new(), 0);
        let head = loop {
            let page =
                sync_client::Transport::pull(&mut probe, protocol::PullQuery { after, limit: None }).expect("a page");
            seqs.extend(page.entries.iter().map(|e| e.server_seq));
            after = page.next_cursor;
            if !page.has_more {
                break page.head;
            }
        };
        let cut_after = seqs.get(seqs.len() / 2).copied().unwrap_or(head / 2);
        let mut engine =
            Engine::new(CutAt { inner: HttpTransport::new(url, session.clone()).expect("transport"), cut_after });
        // A stream that fits in the round's first page is not cut.
        let was_cut = engine.sync_once(&mut store, |_| {}).is_err();
        let kept_cursor = store.pull_cursor().expect("cursor");
        let kept = engine.last_report().pulled;
        let mut engine = Engine::new(HttpTransport::new(url, session).expect("transport"));
        let start = Instant::now();
        let report = engine.sync_once(&mut store, |_| {}).expect("resumed round");
        let resume_ms = millis(start.elapsed());
        json!({
            "head": head,
            "cut_at": cut_after,
            "kept_cursor": kept_cursor,
            "kept": kept,
            "resumed_pulled": report.pulled,
            "resume_ms": resume_ms,
            "verified": report.verified,
            "was_cut": was_cut,
        })
    } else {
        let mut engine = Engine::new(HttpTransport::new(url, session).expect("transport"));
        let start = Instant::now();
        let report = engine.sync_once(&mut store, |_| {}).expect("first pull");
        let pull_ms = millis(start.elapsed());
        sync_client::tidy_after_round(&mut store, &report);
        let transport = engine.transport();
        let json_bytes = transport.json_bytes_sent() + transport.bytes_received();
        let peak = peak_rss_mb();
        let mut held = Vec::new();
        for kind in <EntityKind as domain::Labelled>::ALL.iter().copied() {
            held.extend(store.list(kind, None).expect("list"));
        }
        drop(store);
        let baseline_ms = millis(bulk_insert_baseline(&held));
        json!({
            "pulled": report.pulled,
            "pull_ms": pull_ms,
            "json_bytes": json_bytes,
            "baseline_ms": baseline_ms,
            "peak_rss_mb": peak,
            "verified": report.verified,
        })
    };
    println!("child: {result}");
}
