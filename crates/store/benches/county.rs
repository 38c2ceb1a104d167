//! The store on a large county: 50,000 recipients, 20,000 households, 500,000 visits and 5,000
//! cases with their stage records, over 20 stations (generated deterministically from a seed).
//!
//! Prints the p50/p95 of every screen query and search kind, the time to record one visit through
//! `Store::record` (with its outbox entry), the login's key derivation, and two baselines
//! measured in the same run:
//! - the same rows bulk-inserted into plain SQLite (unencrypted, plain INSERTs in one
//!   transaction, no indexes) against the store's own load (`Store::bulk_load`: encrypted, with
//!   derived columns and every index; no outbox entries and no rule checks);
//! - one plain INSERT + COMMIT of a visit row in that plain SQLite file, against `record`.
//!
//! Run: `cargo bench -p store --bench county`. `SHEGONG_BENCH_SCALE=0.02` shrinks the county
//! (the test script's smoke run); `SHEGONG_BENCH_ITERATIONS` sets the runs per query (200).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::Labelled;
use domain::case::Stage;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::org::User;
use domain::policy::Actor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use store::{CaseBoardFilter, DbKey, RosterFilter, Search, Store};
use test_support::county::{GIVEN, OBSERVATIONS, Person, SEED, generate, today};
use uuid::Uuid;

const TARGET_QUERY_P95_MS: f64 = 20.0;
const TARGET_RECORD_P95_MS: f64 = 5.0;

fn scale() -> f64 {
    std::env::var("SHEGONG_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s > 0.0).unwrap_or(1.0)
}

fn iterations() -> usize {
    std::env::var("SHEGONG_BENCH_ITERATIONS").ok().and_then(|s| s.parse().ok()).filter(|n| *n > 0).unwrap_or(200)
}

/// The plain-SQLite baseline: one table per kind with the spec's columns, no index but the
/// primary key, every row a plain INSERT, all in one transaction.
fn plain_sqlite_load(path: &std::path::Path, entities: &[EntityState]) -> (Connection, Duration) {
    let mut conn = Connection::open(path).expect("plain");
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).expect("wal");
    conn.execute_batch("PRAGMA synchronous = NORMAL;").expect("pragmas");
    for kind in EntityKind::ALL {
        let spec = kind.spec();
        let cols: Vec<String> = spec.fields.iter().map(|f| format!("{} ", f.name)).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE {} (id TEXT PRIMARY KEY, {}, created_hlc TEXT, created_by TEXT, clocks TEXT)",
            spec.table,
            cols.join(", ")
        ))
        .expect("table");
    }
    let started = Instant::now();
    let tx = conn.transaction().expect("tx");
    for e in entities {
        insert_plain(&tx, e);
    }
    tx.commit().expect("commit");
    (conn, started.elapsed())
}

fn insert_plain(conn: &Connection, e: &EntityState) {
    let spec = e.kind.spec();
    let mut values = vec![SqlValue::Text(e.id.to_string())];
    for f in spec.fields {
        values.push(match e.fields.get(f.name) {
            None | Some(Value::Null) => SqlValue::Null,
            Some(Value::String(s)) => SqlValue::Text(s.clone()),
            Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
            Some(Value::Number(n)) => SqlValue::Integer(n.as_i64().unwrap_or_default()),
            Some(other) => SqlValue::Text(other.to_string()),
        });
    }
    values.push(SqlValue::Text(e.created.hlc.to_string()));
    values.push(SqlValue::Text(e.created.author.to_string()));
    values.push(SqlValue::Null);
    let marks: Vec<&str> = values.iter().map(|_| "?").collect();
    let sql = format!("INSERT INTO {} VALUES ({})", spec.table, marks.join(", "));
    conn.prepare_cached(&sql).expect("prepare").execute(rusqlite::params_from_iter(values)).expect("insert");
}

struct Timing {
    name: String,
    rows: usize,
    samples: Vec<Duration>,
}

impl Timing {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index].as_secs_f64() * 1000.0
    }
}

fn time<F: FnMut(usize) -> usize>(name: &str, runs: usize, mut f: F) -> Timing {
    // One warm-up run, as a screen is shown again and again.
    f(0);
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    for i in 0..runs {
        let started = Instant::now();
        rows += f(i);
        samples.push(started.elapsed());
    }
    Timing { name: name.into(), rows: rows / runs.max(1), samples }
}

fn main() {
    let scale = scale();
    let runs = iterations();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("Shegong store benchmark — county at scale {scale} (SHEGONG_BENCH_SCALE), {runs} runs per query");

    let started = Instant::now();
    let county = generate(scale, None);
    println!("generated {} rows in {:.1} s (seed {SEED}):", county.entities.len(), started.elapsed().as_secs_f64());
    for (table, n) in &county.counts {
        println!("  {table:<18} {n:>8}");
    }

    // Login: deriving the key from a password.
    let login_path = dir.path().join("login.db");
    drop(Store::open(&login_path, "demo1234").expect("create"));
    let started = Instant::now();
    drop(Store::open(&login_path, "demo1234").expect("login"));
    let login = started.elapsed();

    let (plain, plain_load) = plain_sqlite_load(&dir.path().join("plain.db"), &county.entities);
    let path = dir.path().join("county.db");
    let mut store = Store::open_with_key(&path, &DbKey::random()).expect("store");
    let started = Instant::now();
    store.bulk_load(&county.entities).expect("bulk load");
    let load = started.elapsed();
    store.analyze().expect("analyze");
    let file_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
        + std::fs::metadata(dir.path().join("county.db-wal")).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!();
    println!(
        "load (the store's bulk path `Store::bulk_load`: rows written directly, encrypted, derived columns and all"
    );
    println!(
        "indexes, no outbox entries or rule checks) vs the baseline (same rows, plain SQLite, plain INSERTs, one tx):"
    );
    println!(
        "  store {:.2} s, plain SQLite {:.2} s, ratio {:.2}x; store file {file_mb:.0} MB",
        load.as_secs_f64(),
        plain_load.as_secs_f64(),
        load.as_secs_f64() / plain_load.as_secs_f64()
    );
    println!("login (argon2id key derivation + open): {:.0} ms", login.as_secs_f64() * 1000.0);

    // Steady state: on a device in use for a while SQLite's page cache is full. Filling it
    // now keeps the first timed runs from paying for the cache's growth (on this project's VMs,
    // growing a process's memory costs milliseconds per step).
    let started = Instant::now();
    let scanned: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM visits WHERE observations IS NOT NULL", [], |r| r.get(0))
        .expect("warm-up");
    println!(
        "page cache warmed to steady state ({} MiB, a scan of {scanned} visits) in {:.1} s",
        store::CACHE_SIZE_KIB / 1024,
        started.elapsed().as_secs_f64()
    );

    let mut rng = StdRng::seed_from_u64(SEED + 1);
    let mut timings = Vec::new();
    let station = |i: usize| county.stations[i % county.stations.len()];
    let page = |filter: RosterFilter| store.roster(&filter).expect("roster").len();
    let categories = domain::recipient::RecipientCategory::ALL;

    // Roster screens.
    timings.push(time("roster: station, first page", runs, |i| {
        page(RosterFilter { station_id: Some(station(i)), ..Default::default() })
    }));
    timings.push(time("roster: station, page 10", runs, |i| {
        page(RosterFilter { station_id: Some(station(i)), offset: 450, ..Default::default() })
    }));
    timings.push(time("roster: station + category", runs, |i| {
        page(RosterFilter {
            station_id: Some(station(i)),
            category: Some(categories[i % categories.len()]),
            ..Default::default()
        })
    }));
    timings.push(time("roster: category, county-wide", runs, |i| {
        page(RosterFilter { category: Some(categories[i % categories.len()]), ..Default::default() })
    }));
    timings.push(time("roster: village", runs, |i| {
        page(RosterFilter { village_id: Some(county.villages[i % county.villages.len()].0), ..Default::default() })
    }));
    timings.push(time("roster: service point", runs, |i| {
        page(RosterFilter { service_point_id: Some(county.points[i % county.points.len()]), ..Default::default() })
    }));
    timings.push(time("roster: worker (their cases)", runs, |i| {
        page(RosterFilter { worker_id: Some(county.workers[i % county.workers.len()].0), ..Default::default() })
    }));
    timings.push(time("roster: county, first page", runs, |_| page(RosterFilter::default())));
    timings.push(time("roster: count, station", runs, |i| {
        store.roster_count(&RosterFilter { station_id: Some(station(i)), ..Default::default() }).expect("count")
            as usize
    }));

    // Search kinds, county-wide (the widest a device holds: a supervisor's or the bench's county).
    let picks: Vec<usize> = (0..runs.max(1) + 1).map(|_| rng.gen_range(0..county.recipients.len())).collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let search = |s: Search| page(RosterFilter { search: Some(s), ..Default::default() });
    timings.push(time("search: name, Chinese substring", runs, |i| {
        search(Search::Name(given[i % given.len()].to_string()))
    }));
    timings.push(time("search: name, full name", runs, |i| {
        search(Search::Name(county.recipients[picks[i]].name.clone()))
    }));
    timings.push(time("search: name, pinyin initials", runs, |i| {
        let initials = store::search::name_initials(&county.recipients[picks[i]].name);
        search(Search::Name(initials.chars().take(2 + i % 2).collect()))
    }));
    timings.push(time("search: ID number suffix (4)", runs, |i| {
        let number = &county.recipients[picks[i]].id_number;
        search(Search::IdSuffix(number[14..].into()))
    }));
    timings.push(time("search: phone suffix (4)", runs, |i| {
        let phone = county.recipients.iter().cycle().skip(picks[i]).find_map(|r| r.phone.clone()).expect("a phone");
        search(Search::Phone(phone[7..].into()))
    }));
    timings.push(time("search: name, within a station", runs, |i| {
        page(RosterFilter {
            station_id: Some(county.recipients[picks[i]].station),
            search: Some(Search::Name(given[i % given.len()].to_string())),
            ..Default::default()
        })
    }));

    // The case board and overdue work.
    let board = |f: CaseBoardFilter| store.case_board(&f, today()).expect("board").len();
    timings.push(time("case board: station", runs, |i| {
        board(CaseBoardFilter { station_id: Some(station(i)), ..Default::default() })
    }));
    timings.push(time("case board: station + stage", runs, |i| {
        board(CaseBoardFilter { station_id: Some(station(i)), stage: Some(Stage::ALL[i % 6]), ..Default::default() })
    }));
    timings.push(time("case board: worker", runs, |i| {
        board(CaseBoardFilter { worker_id: Some(county.workers[i % county.workers.len()].0), ..Default::default() })
    }));
    timings.push(time("case board: village", runs, |i| {
        board(CaseBoardFilter { village_id: Some(county.villages[i % county.villages.len()].0), ..Default::default() })
    }));
    timings.push(time("case board: county", runs, |_| board(CaseBoardFilter::default())));
    let overdue = |f: CaseBoardFilter| store.overdue_follow_ups(&f, today()).expect("overdue").len();
    timings.push(time("overdue: station", runs, |i| {
        overdue(CaseBoardFilter { station_id: Some(station(i)), ..Default::default() })
    }));
    timings.push(time("overdue: worker", runs, |i| {
        overdue(CaseBoardFilter { worker_id: Some(county.workers[i % county.workers.len()].0), ..Default::default() })
    }));
    timings.push(time("overdue: county", runs, |_| overdue(CaseBoardFilter::default())));
    timings.push(time("ledger: a recipient", runs, |i| {
        store.ledger(county.recipients[picks[i]].id, 50).expect("ledger").len()
    }));
    timings.push(time("history: a recipient", runs, |i| {
        store.history(county.recipients[picks[i]].id).expect("history").len()
    }));

    println!();
    println!(
        "{:<36} {:>9} {:>9} {:>7}  target p95 < {TARGET_QUERY_P95_MS} ms",
        "screen query / search", "p50 ms", "p95 ms", "rows"
    );
    let mut worst: f64 = 0.0;
    for t in &timings {
        let p95 = t.percentile(0.95);
        worst = worst.max(p95);
        let verdict = if p95 < TARGET_QUERY_P95_MS { "ok" } else { "OVER" };
        println!("{:<36} {:>9.3} {:>9.3} {:>7}  {verdict}", t.name, t.percentile(0.5), p95, t.rows);
    }

    // Recording one visit through the one write path, with its outbox entry.
    let (worker, worker_station) = *county
        .workers
        .iter()
        .find(|(id, _)| {
            county.entities.iter().any(|e| e.id == *id && e.get_str(field::user::ROLE) == Some("SocialWorker"))
        })
        .expect("a worker");
    let user: User = store.entity(EntityKind::User, worker).expect("read").expect("worker").to_typed().expect("typed");
    let actor = Actor::new(worker, user.role());
    let theirs: Vec<&Person> = county.recipients.iter().filter(|r| r.station == worker_station).collect();
    let base_time: DateTime<Utc> = "2026-11-25T08:00:00Z".parse().expect("time");
    let pending_before = store.pending_count().expect("pending");
    let record = time("record a visit (Store::record)", runs, |i| {
        let r = theirs[i % theirs.len()];
        let write = Write::create(EntityKind::Visit, Uuid::now_v7())
            .set(field::visit::STATION_ID, worker_station.to_string())
            .set(field::visit::VILLAGE_ID, r.village.to_string())
            .set(field::visit::RECIPIENT_ID, r.id.to_string())
            .set(field::visit::WORKER_ID, worker.to_string())
            .set(field::visit::VISITED_ON, today().to_string())
            .set(field::visit::PERSONS_SEEN, "本人")
            .set(field::visit::OBSERVATIONS, OBSERVATIONS[i % OBSERVATIONS.len()])
            .set(field::visit::FOLLOW_UP_NEEDED, i % 10 == 0);
        let now = base_time + chrono::Duration::milliseconds(i as i64);
        store.record(&actor, vec![write], now, today()).expect("recorded").len()
    });
    // The cost of durability: the same write with `synchronous = NORMAL` (the store runs with
    // FULL; see docs/sync-protocol.md, "Durability on the device").
    store.connection().execute_batch("PRAGMA synchronous = NORMAL").expect("pragma");
    let record_normal = time("record a visit, synchronous = NORMAL", runs, |i| {
        let r = theirs[i % theirs.len()];
        let write = Write::create(EntityKind::Visit, Uuid::now_v7())
            .set(field::visit::STATION_ID, worker_station.to_string())
            .set(field::visit::VILLAGE_ID, r.village.to_string())
            .set(field::visit::RECIPIENT_ID, r.id.to_string())
            .set(field::visit::WORKER_ID, worker.to_string())
            .set(field::visit::VISITED_ON, today().to_string())
            .set(field::visit::PERSONS_SEEN, "本人")
            .set(field::visit::OBSERVATIONS, OBSERVATIONS[i % OBSERVATIONS.len()])
            .set(field::visit::FOLLOW_UP_NEEDED, i % 10 == 0);
        let now = base_time + chrono::Duration::milliseconds((runs + i) as i64);
        store.record(&actor, vec![write], now, today()).expect("recorded").len()
    });
    store.connection().execute_batch("PRAGMA synchronous = FULL").expect("pragma");
    let recorded = store.pending_count().expect("pending") - pending_before;
    // Baseline: the same kind of row, one plain INSERT and COMMIT in the plain SQLite file.
    let visit_template = county.entities.iter().find(|e| e.kind == EntityKind::Visit).expect("a visit").clone();
    let plain_insert = time("plain SQLite: INSERT + COMMIT", runs, |_| {
        let mut row = visit_template.clone();
        row.id = Uuid::now_v7();
        let tx = plain.unchecked_transaction().expect("tx");
        insert_plain(&tx, &row);
        tx.commit().expect("commit");
        1
    });
    println!();
    println!("{:<36} {:>9} {:>9}  target p95 < {TARGET_RECORD_P95_MS} ms", "write", "p50 ms", "p95 ms");
    for t in [&record, &record_normal, &plain_insert] {
        println!("{:<36} {:>9.3} {:>9.3}", t.name, t.percentile(0.5), t.percentile(0.95));
    }

    println!(
        "record vs plain insert: p50 ratio {:.1}x ({} visits recorded, {} outbox entries added)",
        record.percentile(0.5) / plain_insert.percentile(0.5),
        2 * (runs + 1),
        recorded
    );
    println!(
        "durability: synchronous = FULL (the store's) vs NORMAL, record a visit p50 {:.3} ms vs {:.3} ms, p95 {:.3} ms vs {:.3} ms",
        record.percentile(0.5),
        record_normal.percentile(0.5),
        record.percentile(0.95),
        record_normal.percentile(0.95)
    );
    println!();
    let record_ok = record.percentile(0.95) < TARGET_RECORD_P95_MS;
    let queries_ok = worst < TARGET_QUERY_P95_MS;
    println!(
        "targets: every query and search p95 < {TARGET_QUERY_P95_MS} ms: {} (worst {worst:.3} ms); record a visit p95 < {TARGET_RECORD_P95_MS} ms: {}",
        if queries_ok { "met" } else { "NOT met" },
        if record_ok { "met" } else { "NOT met" }
    );
}
