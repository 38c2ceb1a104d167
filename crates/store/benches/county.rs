//! The store on a large county, used as the app uses it: 50,000 recipients, 20,000 households,
//! 500,000 visits and 5,000 cases with their stage records, over 20 stations (generated
//! deterministically from a seed) — a device that holds the whole county, the widest there is.
//!
//! Through the app's own paths, one store open at a time (this SQLite build shares one page
//! cache among a process's connections: a second large database open would evict the first's
//! pages), with the store's own settings (`Store::open_with_key`: encrypted, WAL,
//! `synchronous = FULL`; checked, never changed but for the one figure that says so):
//! - first pull: the county as the server's log holds it, every entity a create, applied with
//!   `Store::apply_pulled` in pages of the sync engine's size, each page one transaction with
//!   its cursor; baseline: the same rows bulk-inserted into plain SQLite (unencrypted, one
//!   transaction, no index but the primary key);
//! - edits pulled: a year of the county's staff editing files (100,000 updates of recipients,
//!   households and cases), applied the same way; the device keeps them as each record's history
//!   (`changes`), which the recipient file then reads;
//! - `Store::optimize` (`PRAGMA optimize`) after the pull, as the app's sync task runs it after a
//!   round that pulled; no other statistics upkeep (the app runs none);
//! - the store closed (it runs `PRAGMA optimize` on closing) and opened again, as at the next
//!   sign-in; its page cache warmed by one scan, as on a device in use for a while;
//! - each screen as it runs it, through the use cases of `crates/app` the desktop commands call:
//!   the roster page with its count (`app::roster::roster`: filters, page 10, every search
//!   kind), the recipient file (`app::recipient::recipient_file`) and its ledger and history
//!   (`app::ledger`), the case board page (`app::board::case_board` with
//!   `app::board::station_dashboard`, and the board again for each filter) and the case page
//!   (`app::case::case_page`), as a station's deputy head;
//! - recording a visit with `Store::record` (rule checks, merge, outbox entry, one commit);
//!   baseline: one plain INSERT + COMMIT of a visit row in the plain SQLite file, with the same
//!   durability (WAL, `synchronous = FULL`);
//! - the login's key derivation (argon2id) and open, on a small database of its own.
//!
//! Every figure is one JSON line on stdout: `{"bench","name","value","unit","baseline","ratio",
//! "target","met"}`; progress and a table go to stderr. Targets: every screen p95 < 20 ms, a
//! recorded visit p95 < 5 ms.
//!
//! Run: `cargo bench -p store --bench county` (about 2 minutes on the 2-core development VM,
//! most of it the first pull; `scripts/bench.sh` runs it with the others).
//! `SHEGONG_BENCH_SCALE=0.02` shrinks the county (the test script's smoke run);
//! `SHEGONG_BENCH_ITERATIONS` sets the runs per screen (200).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use contract::{CaseBoardQuery, RosterQuery, SearchKind};
use domain::Labelled;
use domain::case::RiskLevel;
use domain::change::{Change, FieldWrite, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::hlc::Hlc;
use domain::org::{Role, User};
use domain::policy::Actor;
use domain::recipient::RecipientCategory;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};
use store::{DbKey, Store};
use test_support::bench::{figure, percentile, scale};
use test_support::county::{County, GIVEN, OBSERVATIONS, Person, SEED, generate, today};
use uuid::Uuid;

/// The name each figure of this benchmark carries.
const BENCH: &str = "county";

const TARGET_SCREEN_P95_MS: f64 = 20.0;
const TARGET_RECORD_P95_MS: f64 = 5.0;
/// The page the sync engine asks the server for (`protocol::limits::DEFAULT_PULL_LIMIT`).
const PULL_PAGE: usize = protocol::limits::DEFAULT_PULL_LIMIT as usize;
/// Edits pulled at full scale: about a year of the county's 180 staff editing files.
const EDITS: usize = 100_000;
/// The roster page the UI asks for (`ui/src/pages/roster.rs`).
const ROSTER_PAGE_SIZE: u32 = 50;

fn iterations() -> usize {
    test_support::bench::iterations(200)
}

/// A screen's timings in milliseconds, and the rows it showed (the last run's).
struct Timing {
    name: String,
    samples: Vec<f64>,
    rows: usize,
}

/// Runs `f` once to warm up (a screen is shown again and again), then `runs` times, timed.
fn time<F: FnMut(usize) -> usize>(name: &str, runs: usize, mut f: F) -> Timing {
    f(0);
    let mut samples = Vec::with_capacity(runs);
    let mut rows = 0;
    for i in 0..runs {
        let started = Instant::now();
        rows = f(i);
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Timing { name: name.into(), samples, rows }
}

/// The plain-SQLite baseline: one table per kind with the spec's columns, no index but the
/// primary key, unencrypted, WAL with `synchronous = FULL` as the store, every row a plain
/// INSERT, all in one transaction. Returns the time of the load.
fn plain_sqlite_load(path: &Path, entities: &[EntityState]) -> Duration {
    let mut conn = plain_connection(path);
    for kind in EntityKind::ALL {
        let spec = kind.spec();
        let cols: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
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
    started.elapsed()
}

fn plain_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("plain");
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).expect("wal");
    conn.execute_batch("PRAGMA synchronous = FULL;").expect("pragmas");
    conn
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

/// The store's durability and journal, as `Store::open_with_key` set them.
fn settings(store: &Store) -> (String, i64) {
    let conn = store.connection();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal mode");
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("synchronous");
    (mode, sync)
}

fn assert_app_settings(store: &Store) {
    assert_eq!(settings(store), ("wal".to_string(), 2), "the store runs in WAL mode with synchronous = FULL");
}

/// An entity as the server's log holds its creation.
fn create_of(state: &EntityState, device_seq: u64) -> Incoming {
    Incoming::Change(Change {
        change_id: Uuid::now_v7(),
        device_id: state.created.hlc.device,
        device_seq,
        author_id: state.created.author,
        schema_version: domain::SCHEMA_VERSION,
        hlc: state.created.hlc,
        entity: state.kind,
        entity_id: state.id,
        op: Op::Create,
        fields: state.fields.iter().map(|(k, v)| (k.clone(), FieldWrite::new(v.clone()))).collect(),
    })
}

/// Applies `entries` as the sync engine does: one page at a time, each with its cursor, in one
/// transaction. Returns the time spent applying (building the pages is not counted).
fn pull(store: &mut Store, entries: impl Iterator<Item = Incoming>, cursor: &mut u64) -> Duration {
    let mut spent = Duration::ZERO;
    let mut page = Vec::with_capacity(PULL_PAGE);
    let mut entries = entries.peekable();
    while entries.peek().is_some() {
        page.clear();
        for incoming in entries.by_ref().take(PULL_PAGE) {
            *cursor += 1;
            page.push((*cursor, incoming));
        }
        let started = Instant::now();
        let report = store.apply_pulled(&page, *cursor).expect("apply a pulled page");
        spent += started.elapsed();
        // Everything applied, nothing left as a conflict: the figure is of the work it names.
        assert_eq!((report.applied, report.conflicts_opened), (page.len(), 0), "{report:?}");
    }
    spent
}

/// The county's staff editing files: updates of recipients (notes, address, phone), households
/// (notes) and cases (the intervention strategy), each by one of the staff of the entity's
/// station on their own laptop (the user's id stands for the laptop's), each naming the stamp of
/// the value it replaces as its base (so no conflicts), in the order of their stamps, as the
/// server's log holds them. Also returns the recipients edited.
fn edits(county: &County, n: usize) -> (Vec<Incoming>, Vec<Uuid>) {
    let mut rng = StdRng::seed_from_u64(SEED + 2);
    let mut staff_of: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (user, station) in &county.workers {
        staff_of.entry(*station).or_default().push(*user);
    }
    let pick = |kind: EntityKind| -> Vec<(Uuid, Uuid, Hlc)> {
        county
            .entities
            .iter()
            .filter(|e| e.kind == kind)
            .filter_map(|e| Some((e.id, e.station_id()?, e.created.hlc)))
            .collect()
    };
    let (recipients, households, cases) =
        (pick(EntityKind::Recipient), pick(EntityKind::Household), pick(EntityKind::Case));
    let mut millis = county.entities.iter().map(|e| e.created.hlc.millis).max().unwrap_or_default();
    let mut clocks: BTreeMap<(Uuid, &str), Hlc> = BTreeMap::new();
    let mut sequence: BTreeMap<Uuid, u64> = BTreeMap::new();
    let mut edited = Vec::new();
    let mut changes = Vec::with_capacity(n);
    for i in 0..n {
        let roll = rng.gen_range(0..10);
        let (kind, (id, station, created)) = match roll {
            0..6 => (EntityKind::Recipient, recipients[rng.gen_range(0..recipients.len())]),
            6..8 => (EntityKind::Household, households[rng.gen_range(0..households.len())]),
            _ => (EntityKind::Case, cases[rng.gen_range(0..cases.len())]),
        };
        let (name, value) = match (kind, i % 3) {
            (EntityKind::Recipient, 0) => {
                (field::recipient::NOTES, json!(format!("电话回访第{}次，情况稳定", i % 7 + 1)))
            }
            (EntityKind::Recipient, 1) => {
                (field::recipient::ADDRESS, json!(format!("{}组{}号", rng.gen_range(1..12), rng.gen_range(1..80))))
            }
            (EntityKind::Recipient, _) => {
                (field::recipient::PHONE, json!(format!("13{:09}", rng.gen_range(0..1_000_000_000u64))))
            }
            (EntityKind::Household, _) => (field::household::NOTES, json!("家庭情况已复核")),
            _ => (field::case::PLAN_STRATEGY, json!(format!("链接资源，每月探访{}次", i % 4 + 1))),
        };
        if kind == EntityKind::Recipient {
            edited.push(id);
        }
        let staff = &staff_of[&station];
        let author = staff[rng.gen_range(0..staff.len())];
        let device = author;
        let seq = sequence.entry(device).or_default();
        *seq += 1;
        millis += rng.gen_range(1..2_000);
        let hlc = Hlc::new(millis, 0, device);
        let base = clocks.insert((id, name), hlc).unwrap_or(created);
        changes.push(Incoming::Change(Change {
            change_id: Uuid::now_v7(),
            device_id: device,
            device_seq: *seq,
            author_id: author,
            schema_version: domain::SCHEMA_VERSION,
            hlc,
            entity: kind,
            entity_id: id,
            op: Op::Update,
            fields: BTreeMap::from([(name.to_string(), FieldWrite { value, base: Some(base), resolves: Vec::new() })]),
        }));
    }
    edited.sort_unstable();
    edited.dedup();
    (changes, edited)
}

fn main() {
    let (scale, runs) = (scale(), iterations());
    let dir = tempfile::tempdir().expect("temp dir");
    eprintln!("Shegong store benchmark — county at scale {scale} (SHEGONG_BENCH_SCALE), {runs} runs per screen");

    let started = Instant::now();
    let county = generate(scale, None);
    eprintln!("generated {} rows in {:.1} s (seed {SEED}):", county.entities.len(), started.elapsed().as_secs_f64());
    for (table, n) in &county.counts {
        eprintln!("  {table:<18} {n:>8}");
    }

    // Login: deriving the key from a password, on a small database of its own.
    let login_path = dir.path().join("login.db");
    drop(Store::open(&login_path, "demo1234").expect("create"));
    let started = Instant::now();
    drop(Store::open(&login_path, "demo1234").expect("login"));
    figure(
        BENCH,
        "sign-in: key derivation (argon2id) and open",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
        None,
        None,
    );

    // The baseline of the load, then closed: one large database open at a time.
    let plain_path = dir.path().join("plain.db");
    let plain_load = plain_sqlite_load(&plain_path, &county.entities);
    eprintln!("plain SQLite: {} rows inserted in {:.1} s", county.entities.len(), plain_load.as_secs_f64());

    // The first pull, through the app's path.
    let path = dir.path().join("county.db");
    let key = DbKey::random();
    let mut store = Store::open_with_key(&path, &key).expect("store");
    assert_app_settings(&store);
    let mut cursor = 0;
    let creates = county.entities.iter().enumerate().map(|(i, e)| create_of(e, i as u64 + 1));
    let first_pull = pull(&mut store, creates, &mut cursor);
    figure(
        BENCH,
        &format!(
            "first pull: {} entities applied (Store::apply_pulled, pages of {PULL_PAGE}); baseline: plain SQLite bulk insert",
            county.entities.len()
        ),
        first_pull.as_secs_f64(),
        "s",
        Some(plain_load.as_secs_f64()),
        None,
    );

    let edit_count = ((EDITS as f64 * scale).round() as usize).max(1);
    let (pulled_edits, edited) = edits(&county, edit_count);
    let edits_pull = pull(&mut store, pulled_edits.into_iter(), &mut cursor);
    figure(
        BENCH,
        &format!("edits pulled: {edit_count} updates applied (Store::apply_pulled), kept as history"),
        edits_pull.as_secs_f64(),
        "s",
        None,
        None,
    );
    let history_rows: i64 =
        store.connection().query_row("SELECT count(*) FROM changes", [], |r| r.get(0)).expect("changes");
    eprintln!("the history (changes) holds {history_rows} rows");

    // After a round that pulled, the app's sync task runs `PRAGMA optimize`.
    let started = Instant::now();
    store.optimize().expect("optimize");
    figure(
        BENCH,
        "PRAGMA optimize after the pull (Store::optimize, as the sync task runs it)",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
        None,
        None,
    );
    let started = Instant::now();
    drop(store);
    let closed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let file_mb = ["", "-wal"]
        .iter()
        .map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1e6;
    figure(BENCH, "store file after the pulls", file_mb, "MB", None, None);

    // The next sign-in opens the store again; the page cache fills as the device is used.
    let mut store = Store::open_with_key(&path, &key).expect("reopen");
    assert_app_settings(&store);
    let started = Instant::now();
    let scanned: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM visits WHERE observations IS NOT NULL", [], |r| r.get(0))
        .expect("warm-up");
    eprintln!(
        "page cache warmed ({} MiB, a scan of {scanned} visits) in {:.1} s",
        store::CACHE_SIZE_KIB / 1024,
        started.elapsed().as_secs_f64()
    );

    let timings = screens(&store, &county, &edited, runs);
    eprintln!();
    eprintln!(
        "{:<62} {:>9} {:>9} {:>6}  target p95 < {TARGET_SCREEN_P95_MS} ms",
        "screen (app use case)", "p50 ms", "p95 ms", "rows"
    );
    for t in &timings {
        let p95 = percentile(&t.samples, 0.95);
        eprintln!(
            "{:<62} {:>9.3} {:>9.3} {:>6}  {}",
            t.name,
            percentile(&t.samples, 0.5),
            p95,
            t.rows,
            if p95 <= TARGET_SCREEN_P95_MS { "ok" } else { "OVER" }
        );
    }
    for t in &timings {
        figure(BENCH, &format!("{}: p50", t.name), percentile(&t.samples, 0.5), "ms", None, None);
        figure(
            BENCH,
            &format!("{}: p95", t.name),
            percentile(&t.samples, 0.95),
            "ms",
            None,
            Some(TARGET_SCREEN_P95_MS),
        );
    }

    let (record, record_normal) = record_visits(&mut store, &county, runs);
    assert_app_settings(&store);
    let started = Instant::now();
    drop(store);
    let closed_after_use_ms = started.elapsed().as_secs_f64() * 1000.0;
    figure(BENCH, "close the store after the pull (PRAGMA optimize on closing)", closed_ms, "ms", None, None);
    figure(BENCH, "close the store after use (PRAGMA optimize on closing)", closed_after_use_ms, "ms", None, None);

    // Baseline of a write: the same kind of row, one plain INSERT and COMMIT, same durability.
    let plain = plain_connection(&plain_path);
    let visit_template = county.entities.iter().find(|e| e.kind == EntityKind::Visit).expect("a visit").clone();
    let plain_insert = time("plain SQLite: INSERT + COMMIT", runs, |_| {
        let mut row = visit_template.clone();
        row.id = Uuid::now_v7();
        let tx = plain.unchecked_transaction().expect("tx");
        insert_plain(&tx, &row);
        tx.commit().expect("commit");
        1
    });
    let p = |t: &Timing, q: f64| percentile(&t.samples, q);
    let baseline = "baseline: plain SQLite INSERT + COMMIT, WAL, synchronous = FULL";
    figure(
        BENCH,
        &format!("record a visit (Store::record, synchronous = FULL): p50; {baseline}"),
        p(&record, 0.5),
        "ms",
        Some(p(&plain_insert, 0.5)),
        None,
    );
    figure(
        BENCH,
        &format!("record a visit (Store::record, synchronous = FULL): p95; {baseline}"),
        p(&record, 0.95),
        "ms",
        Some(p(&plain_insert, 0.95)),
        Some(TARGET_RECORD_P95_MS),
    );
    let normal = "synchronous = NORMAL, not the app's setting: what FULL costs; baseline: the same with FULL";
    figure(BENCH, &format!("record a visit, {normal}: p50"), p(&record_normal, 0.5), "ms", Some(p(&record, 0.5)), None);
    figure(
        BENCH,
        &format!("record a visit, {normal}: p95"),
        p(&record_normal, 0.95),
        "ms",
        Some(p(&record, 0.95)),
        None,
    );
}

/// Times each screen through the app's use cases.
fn screens(store: &Store, county: &County, edited: &[Uuid], runs: usize) -> Vec<Timing> {
    let mut rng = StdRng::seed_from_u64(SEED + 1);
    let mut timings = Vec::new();
    let categories = RecipientCategory::ALL;
    let village = |i: usize| county.villages[i % county.villages.len()].0;

    // The roster: one page and the count of all that match, as the page asks for it.
    let base = RosterQuery::first_page(ROSTER_PAGE_SIZE);
    let roster = |query: RosterQuery| app::roster::roster(store, &query).expect("roster").entries.len();
    timings.push(time("roster page + count (app::roster::roster): first page", runs, |_| roster(base.clone())));
    timings.push(time("roster page + count: page 10", runs, |_| roster(RosterQuery { page: 9, ..base.clone() })));
    timings.push(time("roster page + count: a category", runs, |i| {
        roster(RosterQuery { category: Some(categories[i % categories.len()]), ..base.clone() })
    }));
    timings.push(time("roster page + count: a village", runs, |i| {
        roster(RosterQuery { village_id: Some(village(i)), ..base.clone() })
    }));
    timings.push(time("roster page + count: a service point", runs, |i| {
        roster(RosterQuery { service_point_id: Some(county.points[i % county.points.len()]), ..base.clone() })
    }));
    timings.push(time("roster page + count: a village and a category", runs, |i| {
        roster(RosterQuery {
            village_id: Some(village(i)),
            category: Some(categories[i % categories.len()]),
            ..base.clone()
        })
    }));

    // Every search kind, county-wide.
    let picks: Vec<usize> = (0..=runs).map(|_| rng.gen_range(0..county.recipients.len())).collect();
    let person = |i: usize| &county.recipients[picks[i]];
    let given: Vec<char> = GIVEN.chars().collect();
    let search = |kind: SearchKind, text: String| {
        roster(RosterQuery { search_kind: Some(kind), search_text: text, ..base.clone() })
    };
    timings.push(time("search: name, one Chinese character", runs, |i| {
        search(SearchKind::Name, given[i % given.len()].to_string())
    }));
    timings.push(time("search: name, full name", runs, |i| search(SearchKind::Name, person(i).name.clone())));
    timings.push(time("search: name, pinyin initials", runs, |i| {
        let initials = store::search::name_initials(&person(i).name);
        search(SearchKind::Name, initials.chars().take(2 + i % 2).collect())
    }));
    timings.push(time("search: ID number, last 4", runs, |i| {
        search(SearchKind::IdSuffix, person(i).id_number[14..].to_string())
    }));
    timings.push(time("search: phone, last 4", runs, |i| {
        let phone = county.recipients.iter().cycle().skip(picks[i]).find_map(|r| r.phone.clone());
        search(SearchKind::Phone, phone.expect("a phone")[7..].to_string())
    }));
    timings.push(time("search: name, within a village", runs, |i| {
        roster(RosterQuery {
            village_id: Some(person(i).village),
            search_kind: Some(SearchKind::Name),
            search_text: given[i % given.len()].to_string(),
            ..base.clone()
        })
    }));

    // The recipient file, with its ledger and its history among the edits pulled.
    let people: Vec<EntityState> = (0..=runs)
        .map(|_| edited[rng.gen_range(0..edited.len())])
        .map(|id| store.entity(EntityKind::Recipient, id).expect("read").expect("a recipient"))
        .collect();
    timings.push(time("recipient file (app::recipient::recipient_file)", runs, |i| {
        let file = app::recipient::recipient_file(store, people[i].id).expect("file");
        file.ledger.len() + file.history.len()
    }));
    timings.push(time("recipient ledger (app::ledger::ledger_of)", runs, |i| {
        app::ledger::ledger_of(store, std::slice::from_ref(&people[i])).expect("ledger").len()
    }));
    timings.push(time("recipient history (app::ledger::history_of)", runs, |i| {
        app::ledger::history_of(store, EntityKind::Recipient, people[i].id).expect("history").len()
    }));

    // The deputy heads' screens: the board page (the board and the station's counts), the board
    // again for each filter, and a case's page.
    let deputies: Vec<(Uuid, Actor)> = county
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::User && e.get_str(field::user::ROLE) == Some("DeputyHead"))
        .filter_map(|e| {
            let station = e.get_id(field::user::STATION_ID)?;
            Some((station, Actor::new(e.id, Some(Role::DeputyHead { station_id: station }))))
        })
        .collect();
    let deputy = |i: usize| &deputies[i % deputies.len()];
    let workers_of = |station: Uuid| -> Vec<Uuid> {
        county
            .workers
            .iter()
            .filter(|(w, s)| *s == station && !deputies.iter().any(|(_, a)| a.user_id == *w))
            .map(|(w, _)| *w)
            .collect()
    };
    let villages_of = |station: Uuid| -> Vec<Uuid> {
        county.villages.iter().filter(|(_, s)| *s == station).map(|(v, _)| *v).collect()
    };
    let day = today();
    let cards = |board: contract::CaseBoard| board.columns.iter().map(|c| c.cards.len()).sum::<usize>();
    let board =
        |actor: &Actor, query: CaseBoardQuery| cards(app::board::case_board(store, actor, &query, day).expect("board"));
    timings.push(time("case board page (app::board::case_board + station_dashboard)", runs, |i| {
        let (_, actor) = deputy(i);
        let shown = board(actor, CaseBoardQuery::default());
        app::board::station_dashboard(store, actor, day).expect("dashboard");
        shown
    }));
    timings.push(time("case board: a worker's cases", runs, |i| {
        let (station, actor) = deputy(i);
        let workers = workers_of(*station);
        board(actor, CaseBoardQuery { worker_id: Some(workers[i % workers.len()]), ..Default::default() })
    }));
    timings.push(time("case board: a village", runs, |i| {
        let (station, actor) = deputy(i);
        let villages = villages_of(*station);
        board(actor, CaseBoardQuery { village_id: Some(villages[i % villages.len()]), ..Default::default() })
    }));
    timings.push(time("case board: a category", runs, |i| {
        board(&deputy(i).1, CaseBoardQuery { category: Some(categories[i % categories.len()]), ..Default::default() })
    }));
    timings.push(time("case board: a risk level", runs, |i| {
        board(
            &deputy(i).1,
            CaseBoardQuery { risk_level: Some(RiskLevel::ALL[i % RiskLevel::ALL.len()]), ..Default::default() },
        )
    }));
    timings.push(time("case board: with closed cases", runs, |i| {
        board(&deputy(i).1, CaseBoardQuery { include_closed: true, ..Default::default() })
    }));
    let cases: Vec<(Uuid, Actor)> = county
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Case)
        .filter_map(|e| {
            let station = e.station_id()?;
            let (_, actor) = deputies.iter().find(|(s, _)| *s == station)?;
            Some((e.id, actor.clone()))
        })
        .collect();
    let case_picks: Vec<&(Uuid, Actor)> = (0..=runs).map(|_| &cases[rng.gen_range(0..cases.len())]).collect();
    timings.push(time("case page (app::case::case_page)", runs, |i| {
        let (case, actor) = case_picks[i];
        app::case::case_page(store, actor, *case).expect("case page").recent_visits.len()
    }));
    timings
}

/// Records visits through `Store::record` as a station's worker: `runs` with the store's
/// `synchronous = FULL`, then `runs` with NORMAL (the price of durability; FULL is set again).
fn record_visits(store: &mut Store, county: &County, runs: usize) -> (Timing, Timing) {
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
    let visit = |store: &mut Store, i: usize| {
        let r = theirs[i % theirs.len()];
        let write = Write::create(EntityKind::Visit, Uuid::now_v7())
            .set(field::visit::STATION_ID, worker_station.to_string())
            .set(field::visit::VILLAGE_ID, r.village.to_string())
            .set(field::visit::RECIPIENT_ID, r.id.to_string())
            .set(field::visit::WORKER_ID, worker.to_string())
            .set(field::visit::VISITED_ON, today().to_string())
            .set(field::visit::PERSONS_SEEN, "本人")
            .set(field::visit::OBSERVATIONS, OBSERVATIONS[i % OBSERVATIONS.len()])
            .set(field::visit::FOLLOW_UP_NEEDED, i.is_multiple_of(10));
        let now = base_time + chrono::Duration::milliseconds(i as i64);
        store.record(&actor, vec![write], now, today()).expect("recorded").len()
    };
    let mut n = 0;
    let full = time("record a visit (Store::record)", runs, |_| {
        n += 1;
        visit(store, n)
    });
    store.connection().execute_batch("PRAGMA synchronous = NORMAL").expect("pragma");
    let normal = time("record a visit, synchronous = NORMAL", runs, |_| {
        n += 1;
        visit(store, n)
    });
    store.connection().execute_batch("PRAGMA synchronous = FULL").expect("pragma");
    let recorded = store.pending_count().expect("pending") - pending_before;
    eprintln!("{n} visits recorded, {recorded} outbox entries added");
    (full, normal)
}
