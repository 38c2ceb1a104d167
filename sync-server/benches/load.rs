//! Load benchmark: N simulated devices (100, 1,000, 5,000) across stations doing a day's work
//! against the real server binary (`shegong-sync serve`) on loopback, for each storage backend.
//!
//! `cargo bench -p sync-server --bench load` (release). `SHEGONG_BENCH_SCALE=0.02` shrinks the
//! device counts and the work for a smoke run (the test command's, inside `cargo test`).
//!
//! - **Roster.** Five social workers per station (stations = N / 5), each with one laptop. The
//!   stations and their villages are written through the server's checked write path
//!   (`Admin::record_as`) and the workers enrolled with a device and a session each in one
//!   transaction (`Admin::enrol`: the first password hashed once), in this process, on the
//!   database the server then opens: 5,000 sign-ins with argon2id at full cost would take minutes
//!   and measure password hashing, not sync.
//! - **A day's work.** Every device first pulls up to the head (not timed: it was in sync last
//!   night). Then each does a bounded number of sync rounds: a push of two changes (round one: a
//!   new recipient with a valid ID number and a home visit to them; later rounds: another visit
//!   and an edit of the recipient's address), then pulls until it has everything (its
//!   colleagues' changes of the same station), then asks for the checksums and for the changes
//!   handed over to its user, as the app's sync round does. At most [`CONCURRENCY`] devices are in a round at
//!   the same moment (`SHEGONG_LOAD_CONCURRENCY`): devices sync when they come online, not all in
//!   the same millisecond, and the server's capacity is what is measured. Rounds per device
//!   fall as N grows, so every N makes about the same number of requests; the whole day stops
//!   at a time limit.
//! - **Client.** Async tasks on a tokio runtime in this process, sharing one HTTP connection
//!   pool (reqwest), with the protocol's own messages: pushes as plain JSON (the app compresses
//!   them with zstd), answers compressed with zstd as the app asks for them; a pull answer is
//!   read only for its cursor and its entry count. The client shares the machine's cores with
//!   the server, so the figures are a lower bound of the server's.
//! - **Figures**, per backend and N, one JSON line each: sync round trips per second (one round
//!   trip: one request of a sync round answered), against the baseline of `GET /v1/health` on
//!   the same server with the same concurrency (pure HTTP); p50/p95/p99 latency of all round
//!   trips and p99 of each kind of request; pushes per second against the disk's durable writes
//!   per second (each push reaches the disk before its answer: on SQLite, an `fsync` of the
//!   write-ahead log, one at a time, shared by the pushes that arrived together, which the
//!   server commits as one group); sync rounds per second; the server's
//!   peak RSS (`VmHWM` of its process); changes
//!   accepted and refused (0 refused: every change is valid); failed requests; the share of the
//!   planned rounds done within the time limit.
//! - **Repeats.** Each N is run three times on each backend (`SHEGONG_LOAD_REPEATS`; once in a
//!   scaled-down run), the backends taking turns, and each backend's figures are those of its
//!   median run (by round trips per second), the three rates printed in words: this VM's disk
//!   now and then stalls every fsync for seconds, and one such spell must not decide a figure.
//! - **Backends**: `SHEGONG_LOAD_BACKENDS` (default `sqlite`; `sqlite,postgres` adds PostgreSQL
//!   at `SHEGONG_TEST_POSTGRES_URL`, a server the benchmark may fill, a new schema for each run,
//!   chosen by the server's configuration `[database] backend = "postgres"`;
//!   `scripts/with-postgres.sh` starts a throwaway one, as `scripts/bench.sh` does). PostgreSQL's round trips per
//!   second have SQLite's as their baseline, with a target of at least half of it. A backend this
//!   server cannot run is skipped with a note on stderr. `SHEGONG_LOAD_DEVICES=1000` measures
//!   only some of the device counts.
//!
//! Targets (2-core machine): at least 1,000 round trips per second on SQLite at every N, p99
//! under 200 ms at 1,000 devices.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use domain::change::{Change, Write};
use domain::entity::EntityKind;
use domain::hlc::Clock;
use domain::org::{Post, RoleKind};
use domain::{Id, field};
use protocol::{PushOutcome, PushRequest, PushResponse, SCHEMA_HEADER, paths};
use serde::Deserialize;
use sync_server::{Config, NewUser, SYSTEM_USER_ID, Server, open_storage, system_clock};
use test_support::bench::{figure, figure_at_least, percentile, scale};
use tokio::sync::Semaphore;
use uuid::Uuid;

const BENCH: &str = "load";
const BIN: &str = env!("CARGO_BIN_EXE_shegong-sync");

/// The device counts measured, at full scale.
const DEVICE_COUNTS: [usize; 3] = [100, 1_000, 5_000];
/// The device count the latency target is set for.
const LATENCY_TARGET_DEVICES: usize = 1_000;
const WORKERS_PER_STATION: usize = 5;
const VILLAGES_PER_STATION: usize = 2;
/// Devices in a sync round at the same moment, unless `SHEGONG_LOAD_CONCURRENCY` says otherwise.
const CONCURRENCY: usize = 64;
/// About this many requests for each N (scaled): rounds per device follow from it, within
/// [`MIN_ROUNDS`]..=[`MAX_ROUNDS`].
const REQUESTS_PER_RUN: f64 = 40_000.0;
/// A push, a pull (sometimes two), the checksums, the handed-over changes.
const REQUESTS_PER_ROUND: f64 = 4.0;
/// A day: at least morning, noon, afternoon and evening.
const MIN_ROUNDS: usize = 4;
const MAX_ROUNDS: usize = 50;
/// The time limit of one day's work at full scale (shorter when scaled, never under a minimum).
const DAY_TIME_LIMIT: Duration = Duration::from_secs(180);
const MIN_DAY_TIME_LIMIT: Duration = Duration::from_secs(20);
/// Requests of the baseline, `GET /v1/health`, at full scale.
const HEALTH_REQUESTS: f64 = 20_000.0;
/// The longest any single request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

const TARGET_ROUND_TRIPS_PER_S: f64 = 1_000.0;
const TARGET_P99_MS: f64 = 200.0;
/// PostgreSQL: at least this share of SQLite's round trips per second.
const TARGET_POSTGRES_SHARE: f64 = 0.5;

const PASSWORD: &str = "load-bench-password";

fn scaled(n: f64) -> usize {
    ((n * scale()).round() as usize).max(1)
}

/// [`DEVICE_COUNTS`], or those of them `SHEGONG_LOAD_DEVICES` lists (`1000`, `100,5000`): one
/// figure looked at again without waiting for the others.
fn device_counts() -> Vec<usize> {
    match std::env::var("SHEGONG_LOAD_DEVICES") {
        Ok(asked) => {
            let asked: Vec<usize> = asked.split(',').filter_map(|n| n.trim().parse().ok()).collect();
            DEVICE_COUNTS.into_iter().filter(|n| asked.contains(n)).collect()
        }
        Err(_) => DEVICE_COUNTS.to_vec(),
    }
}

/// How many times each backend runs each N (`SHEGONG_LOAD_REPEATS`): three at full scale, once
/// in a scaled-down smoke run.
fn repeats() -> usize {
    let default = if scale() < 1.0 { 1 } else { 3 };
    std::env::var("SHEGONG_LOAD_REPEATS").ok().and_then(|s| s.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

fn concurrency() -> usize {
    std::env::var("SHEGONG_LOAD_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(CONCURRENCY)
}

/// A storage backend the server is configured with.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    Postgres { url: String },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// The server's configuration file for this backend, its data in `data_dir` (on
    /// PostgreSQL, in a new schema named after `tag`).
    fn config(&self, data_dir: &Path, tag: &str) -> String {
        let common = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {}\nlog = \"warn\"\n",
            toml_string(&data_dir.display().to_string())
        );
        match self {
            Backend::Sqlite => common,
            Backend::Postgres { url } => {
                let (url, schema) = (toml_string(url), toml_string(&format!("load_{tag}")));
                format!("{common}\n[database]\nbackend = \"postgres\"\nurl = {url}\nschema = {schema}\n")
            }
        }
    }
}

impl Backend {
    /// Drops a PostgreSQL run's schema once its figures are taken: left behind, its tables are
    /// what autovacuum works on during the next run, on the same two cores. (SQLite's files go
    /// with the run's temporary directory.)
    fn clean_up(&self, runtime: &tokio::runtime::Runtime, tag: &str) {
        let Backend::Postgres { url } = self else { return };
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connected");
            let connection = tokio::spawn(connection);
            client
                .batch_execute(&format!("DROP SCHEMA \"load_{tag}\" CASCADE"))
                .await
                .expect("the run's schema dropped");
            drop(client);
            let _ = connection.await;
        });
    }
}

fn toml_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The backends `SHEGONG_LOAD_BACKENDS` asks for that this server can run; notes on stderr for
/// the others.
fn backends() -> Vec<Backend> {
    let asked = std::env::var("SHEGONG_LOAD_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    let mut out = Vec::new();
    for name in asked.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "sqlite" => out.push(Backend::Sqlite),
            "postgres" | "postgresql" => match std::env::var("SHEGONG_TEST_POSTGRES_URL") {
                Ok(url) if !url.trim().is_empty() => {
                    let backend = Backend::Postgres { url: url.trim().into() };
                    match Config::from_toml(&backend.config(Path::new("."), "check")) {
                        Ok(_) => out.push(backend),
                        Err(e) => eprintln!(
                            "load: postgres skipped: this server's configuration has no PostgreSQL backend yet ({e})"
                        ),
                    }
                }
                _ => eprintln!("load: postgres skipped: SHEGONG_TEST_POSTGRES_URL is not set"),
            },
            other => eprintln!("load: unknown backend {other:?} skipped (sqlite, postgres)"),
        }
    }
    out
}

fn main() {
    let backends = backends();
    if backends.is_empty() {
        eprintln!("load: no backend to measure");
        std::process::exit(2);
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("client runtime");
    // Names each run's PostgreSQL schema: the server may keep an earlier run's.
    let run_tag = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let repeats = repeats();
    for (step, full) in device_counts().into_iter().enumerate() {
        let devices = scaled(full as f64);
        // The backends take turns, `repeats` times, so a slow spell of the machine (its disk
        // stalling every fsync for seconds, which this VM does now and then) falls on one run
        // of one backend, not on every run of it; each backend's figures are its median run's.
        let mut outcomes: Vec<Vec<Outcome>> = backends.iter().map(|_| Vec::new()).collect();
        for repeat in 0..repeats {
            for (backend, runs) in backends.iter().zip(&mut outcomes) {
                let tag = format!("{run_tag}-{step}-{repeat}");
                runs.push(run(&runtime, backend, devices, &tag));
            }
        }
        let mut sqlite_rate = None;
        for (backend, mut runs) in backends.iter().zip(outcomes) {
            let rates: Vec<String> = runs.iter().map(|o| format!("{:.0}", o.round_trips_per_s())).collect();
            runs.sort_by(|a, b| a.round_trips_per_s().total_cmp(&b.round_trips_per_s()));
            let median = runs.swap_remove(runs.len() / 2);
            if repeats > 1 {
                println!(
                    "load: {} {devices} devices: round trips per second of the {repeats} runs, in turn with the other backends: {}; the median run's figures follow",
                    backend.name(),
                    rates.join(", ")
                );
            }
            report(backend, devices, full, &median, sqlite_rate);
            if matches!(backend, Backend::Sqlite) {
                sqlite_rate = Some(median.round_trips_per_s());
            }
        }
    }
    if !backends.iter().any(|b| matches!(b, Backend::Postgres { .. })) {
        eprintln!(
            "load: SQLite only (SHEGONG_LOAD_BACKENDS=sqlite,postgres with SHEGONG_TEST_POSTGRES_URL adds PostgreSQL)"
        );
    }
}

/// What one day's work of N devices on one backend measured.
#[derive(Debug, Default)]
struct Outcome {
    elapsed: Duration,
    health_per_s: f64,
    /// Durable writes (4 KiB, `fdatasync`) per second of the data directory's disk: what bounds
    /// a backend that commits each push on its own.
    fsyncs_per_s: f64,
    /// Each round trip's latency, by request.
    ms: BTreeMap<Request, Vec<f64>>,
    accepted: u64,
    refused: BTreeMap<String, u64>,
    failures: BTreeMap<String, u64>,
    entries_pulled: u64,
    rounds_planned: usize,
    rounds_done: usize,
    peak_rss_mb: f64,
    seed_time: Duration,
}

impl Outcome {
    fn round_trips(&self) -> usize {
        self.ms.values().map(Vec::len).sum()
    }

    fn of(&self, request: Request) -> &[f64] {
        self.ms.get(&request).map_or(&[], Vec::as_slice)
    }

    fn round_trips_per_s(&self) -> f64 {
        self.round_trips() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn all_ms(&self) -> Vec<f64> {
        self.ms.values().flatten().copied().collect()
    }

    fn per_s(&self, count: usize) -> f64 {
        count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn report(backend: &Backend, devices: usize, full: usize, outcome: &Outcome, sqlite_rate: Option<f64>) {
    let name = |what: &str| format!("{}, {devices} devices: {what}", backend.name());
    let rate = outcome.round_trips_per_s();
    let (rate_baseline, rate_target) = match (backend, sqlite_rate) {
        (Backend::Postgres { .. }, Some(sqlite)) => (Some(sqlite), Some((TARGET_POSTGRES_SHARE * sqlite).round())),
        (Backend::Postgres { .. }, None) => (Some(outcome.health_per_s), None),
        (Backend::Sqlite, _) => (Some(outcome.health_per_s), Some(TARGET_ROUND_TRIPS_PER_S)),
    };
    figure_at_least(BENCH, &name("sync round trips per second"), rate, "round trips/s", rate_baseline, rate_target);
    figure(BENCH, &name("health round trips per second (baseline)"), outcome.health_per_s, "round trips/s", None, None);
    let all = outcome.all_ms();
    let p99_target = (full == LATENCY_TARGET_DEVICES).then_some(TARGET_P99_MS);
    figure(BENCH, &name("latency p50"), percentile(&all, 0.50), "ms", None, None);
    figure(BENCH, &name("latency p95"), percentile(&all, 0.95), "ms", None, None);
    figure(BENCH, &name("latency p99"), percentile(&all, 0.99), "ms", None, p99_target);
    for request in Request::ALL {
        let what = format!("{} latency p99", request.name());
        figure(BENCH, &name(&what), percentile(outcome.of(request), 0.99), "ms", None, None);
    }
    let pushes_per_s = outcome.per_s(outcome.of(Request::Push).len());
    figure(BENCH, &name("pushes per second"), pushes_per_s, "pushes/s", Some(outcome.fsyncs_per_s), None);
    figure(BENCH, &name("sync rounds per second"), outcome.per_s(outcome.rounds_done), "rounds/s", None, None);
    figure(BENCH, &name("server peak RSS"), outcome.peak_rss_mb, "MB", None, None);
    figure(BENCH, &name("changes accepted"), outcome.accepted as f64, "changes", None, None);
    let refused: u64 = outcome.refused.values().sum();
    figure(BENCH, &name("changes refused"), refused as f64, "changes", None, Some(0.0));
    let failed: u64 = outcome.failures.values().sum();
    figure(BENCH, &name("requests failed"), failed as f64, "requests", None, Some(0.0));
    let done = outcome.rounds_done as f64 / outcome.rounds_planned.max(1) as f64;
    figure_at_least(BENCH, &name("share of the planned rounds done in the time limit"), done, "share", None, Some(1.0));
    eprintln!(
        "load: {} {devices} devices: {} round trips in {:.1} s ({rate:.0}/s; health {:.0}/s), p50 {:.1} ms, p99 {:.1} ms, \
         {} changes accepted, {} entries pulled, server peak RSS {:.0} MB, seeded in {:.1} s, disk {:.0} fsyncs/s",
        backend.name(),
        outcome.round_trips(),
        outcome.elapsed.as_secs_f64(),
        outcome.health_per_s,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        outcome.accepted,
        outcome.entries_pulled,
        outcome.peak_rss_mb,
        outcome.seed_time.as_secs_f64(),
        outcome.fsyncs_per_s,
    );
    if !outcome.refused.is_empty() {
        eprintln!("load: refused by code: {:?}", outcome.refused);
    }
    if !outcome.failures.is_empty() {
        eprintln!("load: failed requests by code: {:?}", outcome.failures);
    }
}

/// A device of the roster: its session and what it needs to stamp changes.
struct Device {
    token: String,
    user_id: Id,
    device_id: Id,
    station: Id,
    village: Id,
    /// Which device of the run: makes its recipients' ID numbers unique.
    number: usize,
}

/// Stations, villages and the enrolled workers, written into the configured database by this
/// process before the server opens it.
fn seed(config: &Config, devices: usize, tag: &str) -> Vec<Device> {
    let storage = open_storage(config).expect("the database opens");
    let server = Server::new(storage, config.settings(), system_clock());
    let admin = server.admin();
    let stations = devices.div_ceil(WORKERS_PER_STATION);
    let mut places: Vec<(Id, Vec<Id>)> = Vec::with_capacity(stations);
    let mut writes = Vec::new();
    for n in 0..stations {
        let station = Uuid::now_v7();
        let point = Uuid::now_v7();
        writes.push(
            Write::create(EntityKind::Station, station)
                .set(field::station::NAME, format!("负载测试{n}号社工站"))
                .set(field::station::COUNTY, "示范县"),
        );
        writes.push(
            Write::create(EntityKind::ServicePoint, point)
                .set(field::service_point::STATION_ID, station.to_string())
                .set(field::service_point::NAME, "一号社工点"),
        );
        let villages: Vec<Id> = (0..VILLAGES_PER_STATION)
            .map(|v| {
                let village = Uuid::now_v7();
                writes.push(
                    Write::create(EntityKind::Village, village)
                        .set(field::village::STATION_ID, station.to_string())
                        .set(field::village::SERVICE_POINT_ID, point.to_string())
                        .set(field::village::NAME, format!("{v}村")),
                );
                village
            })
            .collect();
        places.push((station, villages));
        if writes.len() >= 2_000 {
            admin.record_as(SYSTEM_USER_ID, std::mem::take(&mut writes)).expect("stations recorded");
        }
    }
    if !writes.is_empty() {
        admin.record_as(SYSTEM_USER_ID, writes).expect("stations recorded");
    }
    let users: Vec<NewUser> = (0..devices)
        .map(|n| NewUser {
            username: format!("load{tag}-w{n}"),
            display_name: format!("社工{n}"),
            role: RoleKind::SocialWorker,
            post: Some(Post::Service),
            station_id: Some(places[n / WORKERS_PER_STATION].0),
            service_point_id: None,
            supervised_station_ids: vec![],
            password: PASSWORD.into(),
        })
        .collect();
    let mut out = Vec::with_capacity(devices);
    for chunk in users.chunks(1_000) {
        let sessions = admin.enrol(chunk, "负载测试笔记本").expect("workers enrolled");
        for session in sessions {
            let n = out.len();
            let (station, villages) = &places[n / WORKERS_PER_STATION];
            out.push(Device {
                token: session.access_token,
                user_id: session.user_id,
                device_id: session.device_id,
                station: *station,
                village: villages[n % villages.len()],
                number: n,
            });
        }
    }
    out
}

/// The server binary serving the configured database, killed when dropped (a panic of the
/// benchmark included).
struct Running {
    child: Child,
    url: String,
}

impl Running {
    fn start(config_file: &Path) -> Running {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(config_file)
            .arg("serve")
            .env_remove("SHEGONG_SYNC_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("shegong-sync serve starts");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let mut running = Running { url: String::new(), child };
        match line.trim().strip_prefix("listening on ") {
            Some(url) => running.url = url.to_owned(),
            // The process is killed as `running` drops.
            None => panic!("shegong-sync serve said {line:?} instead of its address"),
        }
        running
    }

    /// The process's peak resident set (`VmHWM`), in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(runtime: &tokio::runtime::Runtime, backend: &Backend, devices: usize, tag: &str) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_file = dir.path().join("shegong-sync.toml");
    let tag = tag.replace('-', "_");
    std::fs::write(&config_file, backend.config(&dir.path().join("data"), &tag)).expect("configuration written");
    let config = Config::load(Some(&config_file), std::iter::empty()).expect("configuration loads");
    let fsyncs_per_s = fsync_rate(dir.path());
    let seeding = Instant::now();
    let roster = seed(&config, devices, &tag);
    let seed_time = seeding.elapsed();
    let server = Running::start(&config_file);
    let mut outcome = runtime.block_on(day(&server.url, roster));
    outcome.seed_time = seed_time;
    outcome.fsyncs_per_s = fsyncs_per_s;
    outcome.peak_rss_mb = server.peak_rss_mb();
    drop(server);
    backend.clean_up(runtime, &tag);
    outcome
}

/// The day's work of `roster` against the server at `url`, after the baseline.
async fn day(url: &str, roster: Vec<Device>) -> Outcome {
    let devices = roster.len();
    let width = concurrency().min(devices);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(width)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client");
    let base: Arc<str> = url.into();
    let health_per_s = health_rate(&client, &base, width).await;
    let window = Arc::new(Semaphore::new(width));

    // Last night's sync: every device up to the head, not timed.
    let mut tasks = Vec::with_capacity(devices);
    for device in roster {
        let (client, base, window) = (client.clone(), base.clone(), window.clone());
        tasks.push(tokio::spawn(async move {
            let mut state = DeviceState::new(device);
            let mut tally = Tally::default();
            if let Ok(_permit) = window.acquire().await {
                state.pull_to_head(&client, &base, &mut tally).await;
            }
            (state, tally)
        }));
    }
    let mut states = Vec::with_capacity(devices);
    for task in tasks {
        let (state, tally) = task.await.expect("a device's catch-up");
        assert!(tally.failures.is_empty(), "catch-up pulls failed: {:?}", tally.failures);
        states.push(state);
    }

    let rounds = (REQUESTS_PER_RUN * scale() / (REQUESTS_PER_ROUND * devices as f64)).round() as usize;
    let rounds = rounds.clamp(MIN_ROUNDS, MAX_ROUNDS);
    let deadline = tokio::time::Instant::now() + DAY_TIME_LIMIT.mul_f64(scale()).max(MIN_DAY_TIME_LIMIT);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(devices);
    for mut state in states {
        let (client, base, window) = (client.clone(), base.clone(), window.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            for round in 0..rounds {
                let Ok(_permit) = window.acquire().await else { break };
                if tokio::time::Instant::now() >= deadline || !state.round(round, &client, &base, &mut tally).await {
                    break;
                }
                tally.rounds_done += 1;
            }
            tally
        }));
    }
    let mut outcome = Outcome { health_per_s, rounds_planned: rounds * devices, ..Outcome::default() };
    for task in tasks {
        let tally = task.await.expect("a device's day");
        for (request, ms) in tally.ms {
            outcome.ms.entry(request).or_default().extend(ms);
        }
        outcome.accepted += tally.accepted;
        outcome.entries_pulled += tally.entries_pulled;
        outcome.rounds_done += tally.rounds_done;
        for (code, count) in tally.refused {
            *outcome.refused.entry(code).or_default() += count;
        }
        for (code, count) in tally.failures {
            *outcome.failures.entry(code).or_default() += count;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// `GET /v1/health` answered per second by `width` tasks at once: the HTTP layer alone.
async fn health_rate(client: &reqwest::Client, base: &Arc<str>, width: usize) -> f64 {
    let total = scaled(HEALTH_REQUESTS);
    let per_task = total.div_ceil(width);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..width {
        let client = client.clone();
        let url = format!("{base}{}", paths::HEALTH);
        tasks.push(tokio::spawn(async move {
            let mut answered = 0usize;
            for _ in 0..per_task {
                if let Ok(response) = client.get(&url).send().await
                    && response.status().is_success()
                    && response.bytes().await.is_ok()
                {
                    answered += 1;
                }
            }
            answered
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += task.await.expect("a health task");
    }
    answered as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

/// What one device measured and counted.
#[derive(Debug, Default)]
struct Tally {
    ms: BTreeMap<Request, Vec<f64>>,
    accepted: u64,
    refused: BTreeMap<String, u64>,
    failures: BTreeMap<String, u64>,
    entries_pulled: u64,
    rounds_done: usize,
}

impl Tally {
    fn took(&mut self, request: Request, started: Instant) {
        self.ms.entry(request).or_default().push(started.elapsed().as_secs_f64() * 1e3);
    }

    fn failed(&mut self, code: impl Into<String>) {
        *self.failures.entry(code.into()).or_default() += 1;
    }
}

/// The requests of a sync round, as the app makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Request {
    Push,
    Pull,
    Checksum,
    HandedOver,
}

impl Request {
    const ALL: [Request; 4] = [Request::Push, Request::Pull, Request::Checksum, Request::HandedOver];

    fn name(self) -> &'static str {
        match self {
            Request::Push => "push",
            Request::Pull => "pull",
            Request::Checksum => "checksum",
            Request::HandedOver => "handed-over",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Request::Push => paths::PUSH,
            Request::Pull => paths::PULL,
            Request::Checksum => paths::CHECKSUM,
            Request::HandedOver => paths::HANDED_OVER,
        }
    }
}

/// Durable 4 KiB writes per second in `dir`: one `fdatasync` each, as a commit makes.
fn fsync_rate(dir: &Path) -> f64 {
    use std::io::Write as _;
    let path = dir.join("fsync-probe");
    let Ok(mut file) = std::fs::File::create(&path) else { return f64::NAN };
    let block = [0u8; 4096];
    let count = scaled(400.0).max(20);
    let started = Instant::now();
    for _ in 0..count {
        if file.write_all(&block).and_then(|()| file.sync_data()).is_err() {
            return f64::NAN;
        }
    }
    let rate = count as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let _ = std::fs::remove_file(path);
    rate
}

/// A device during the day: its clock, its next sequence number, its cursor, the recipient it
/// registered.
struct DeviceState {
    device: Device,
    clock: Clock,
    next_seq: u64,
    cursor: u64,
    recipient: Option<Id>,
}

/// Only what a benchmark device reads of a pull answer.
#[derive(Deserialize)]
struct PullSummary {
    entries: Vec<serde::de::IgnoredAny>,
    next_cursor: u64,
    has_more: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
}

impl DeviceState {
    fn new(device: Device) -> Self {
        let clock = Clock::new(device.device_id);
        DeviceState { device, clock, next_seq: 1, cursor: 0, recipient: None }
    }

    fn stamp(&mut self, write: Write) -> Change {
        let now = u64::try_from(Utc::now().timestamp_millis()).unwrap_or_default();
        let change = Change {
            change_id: Uuid::now_v7(),
            device_id: self.device.device_id,
            device_seq: self.next_seq,
            author_id: self.device.user_id,
            schema_version: domain::SCHEMA_VERSION,
            hlc: self.clock.tick(now),
            entity: write.entity,
            entity_id: write.entity_id,
            op: write.op,
            fields: write.fields,
        };
        self.next_seq += 1;
        change
    }

    /// Round `round` of the day: the push of this round's work, then pulls up to the head.
    /// Whether the device can go on (a push that failed leaves its sequence unsure).
    async fn round(&mut self, round: usize, client: &reqwest::Client, base: &str, tally: &mut Tally) -> bool {
        let today = Utc::now().date_naive();
        let device = &self.device;
        let mut writes = Vec::with_capacity(2);
        let recipient = match self.recipient {
            Some(recipient) => {
                writes.push(
                    Write::update(EntityKind::Recipient, recipient)
                        .set(field::recipient::ADDRESS, format!("{}组{}号", round % 12 + 1, round + 1)),
                );
                recipient
            }
            None => {
                let (recipient, write) = new_recipient(device, today);
                writes.push(write);
                recipient
            }
        };
        let (_, visit) = test_support::writes::visit(device.station, device.village, recipient, device.user_id, today);
        writes.push(visit);
        let changes: Vec<Change> = writes.into_iter().map(|w| self.stamp(w)).collect();
        let pushed = self.push(&changes, client, base, tally).await;
        if pushed {
            self.recipient = Some(recipient);
        }
        self.pull_to_head(client, base, tally).await;
        // As the app's round goes on: the checksums once nothing is waiting, then the changes
        // handed over to this user.
        for request in [Request::Checksum, Request::HandedOver] {
            let started = Instant::now();
            let sent = client
                .get(format!("{base}{}", request.path()))
                .bearer_auth(&self.device.token)
                .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
                .send()
                .await;
            if answer(sent, tally).await.is_some() {
                tally.took(request, started);
            }
        }
        pushed
    }

    async fn push(&mut self, changes: &[Change], client: &reqwest::Client, base: &str, tally: &mut Tally) -> bool {
        let body = match serde_json::to_vec(&PushRequest { changes: changes.to_vec() }) {
            Ok(body) => body,
            Err(_) => return false,
        };
        let started = Instant::now();
        let sent = client
            .post(format!("{base}{}", paths::PUSH))
            .bearer_auth(&self.device.token)
            .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let Some(text) = answer(sent, tally).await else { return false };
        tally.took(Request::Push, started);
        let Ok(response) = serde_json::from_slice::<PushResponse>(&text) else {
            tally.failed("unreadable_push_answer");
            return false;
        };
        let mut in_order = true;
        for result in response.results {
            match result.outcome {
                PushOutcome::Accepted { .. } => tally.accepted += 1,
                PushOutcome::Rejected { rejection, .. } => *tally.refused.entry(rejection.code).or_default() += 1,
                PushOutcome::Gap { .. } | PushOutcome::SequenceReused { .. } => {
                    tally.failed("sequence");
                    in_order = false;
                }
            }
        }
        in_order
    }

    /// Pulls page after page until the device has everything.
    async fn pull_to_head(&mut self, client: &reqwest::Client, base: &str, tally: &mut Tally) {
        loop {
            let started = Instant::now();
            let sent = client
                .get(format!("{base}{}", paths::PULL))
                .query(&[("after", self.cursor)])
                .bearer_auth(&self.device.token)
                .header(SCHEMA_HEADER, domain::SCHEMA_VERSION.to_string())
                .send()
                .await;
            let Some(text) = answer(sent, tally).await else { return };
            tally.took(Request::Pull, started);
            let Ok(page) = serde_json::from_slice::<PullSummary>(&text) else {
                tally.failed("unreadable_pull_answer");
                return;
            };
            tally.entries_pulled += page.entries.len() as u64;
            self.cursor = page.next_cursor;
            if !page.has_more {
                return;
            }
        }
    }
}

/// The body of a successful answer; a failed one is counted by its error code.
async fn answer(sent: Result<reqwest::Response, reqwest::Error>, tally: &mut Tally) -> Option<Vec<u8>> {
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            tally.failed(if e.is_timeout() { "client_timeout" } else { "connection" });
            return None;
        }
    };
    let status = response.status();
    let Ok(text) = response.bytes().await else {
        tally.failed("body_cut");
        return None;
    };
    if status.is_success() {
        return Some(text.to_vec());
    }
    let code =
        serde_json::from_slice::<ErrorBody>(&text).map_or_else(|_| format!("http_{}", status.as_u16()), |e| e.code);
    tally.failed(code);
    None
}

/// A new recipient registered by `device`, with an ID number no other device of the run uses.
fn new_recipient(device: &Device, today: NaiveDate) -> (Id, Write) {
    let first = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or(today);
    let birth = first + chrono::Duration::days((device.number % 20_000) as i64);
    let sequence = (device.number / 20_000) as u32;
    let number = test_support::id_number("410522", birth, sequence);
    let gender = test_support::gender_of(&number);
    test_support::writes::recipient_with_id_number(
        device.station,
        device.village,
        &format!("居民{}", device.number),
        &number,
        birth,
        gender,
    )
}
