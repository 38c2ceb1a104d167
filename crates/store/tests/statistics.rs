//! The query planner's statistics: `Store::optimize` (`PRAGMA optimize`) analyzes the tables
//! that have rows but no statistics, or have grown tenfold since, and the store runs it when it
//! closes, as SQLite advises.

mod common;

use common::World;
use store::{DbKey, Store};

/// The rows `sqlite_stat1` says `table` holds (the largest first number of its entries: a
/// partial index counts only its own rows), or `None` when the table has never been analyzed.
fn analyzed_rows(store: &Store, table: &str) -> Option<u64> {
    let mut statement = store.connection().prepare("SELECT stat FROM sqlite_stat1 WHERE tbl = ?1").ok()?;
    let stats = statement.query_map([table], |r| r.get::<_, String>(0)).ok()?;
    stats.filter_map(|stat| stat.ok()?.split(' ').next()?.parse().ok()).max()
}

fn add_recipients(w: &mut World, n: u32) {
    let worker = w.a.worker.clone();
    for sequence in 0..n {
        let birth = common::date("1950-03-15");
        let number = common::id_number("110105", birth, 100 + sequence);
        let gender = test_support::gender_of(&number);
        let (_, write) = w.recipient_write("李四", &number, "1950-03-15", gender);
        w.record(&worker, vec![write]).expect("recipient");
    }
}

#[test]
fn optimize_analyzes_the_tables_without_statistics_and_those_grown_tenfold() {
    let mut w = World::new();
    add_recipients(&mut w, 2);
    assert_eq!(analyzed_rows(&w.store, "recipients"), None, "nothing analyzed yet");

    w.store.optimize().expect("optimize");
    assert_eq!(analyzed_rows(&w.store, "recipients"), Some(2));
    assert!(analyzed_rows(&w.store, "users").is_some_and(|n| n > 0), "every table with rows is analyzed");

    // A few more rows leave the statistics as they are; tenfold brings them up to date.
    add_recipients(&mut w, 3);
    w.store.optimize().expect("optimize");
    assert_eq!(analyzed_rows(&w.store, "recipients"), Some(2));
    add_recipients(&mut w, 30);
    w.store.optimize().expect("optimize");
    assert_eq!(analyzed_rows(&w.store, "recipients"), Some(35));
}

#[test]
fn closing_the_store_leaves_statistics_for_the_next_connection() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, key) = (dir.path().join("x.db"), DbKey::random());
    let mut w = World::with_store(Store::open_with_key(&path, &key).expect("open"));
    add_recipients(&mut w, 3);
    drop(w);

    let store = Store::open_with_key(&path, &key).expect("reopen");
    assert_eq!(analyzed_rows(&store, "recipients"), Some(3));
}
