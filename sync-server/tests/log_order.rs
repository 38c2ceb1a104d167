//! The log's order under concurrent writers, on the run's backend (SQLite, or PostgreSQL with
//! `SHEGONG_TEST_BACKEND=postgres`): a change that commits late never lands behind a cursor
//! already handed out, so a reader paging the log sees every entry, in order, without a gap.
//! On PostgreSQL the writers hold connections of their own and really run side by side. (The
//! same through the server, devices pushing while another pulls: `pull.rs`.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use common::audience_of;
use domain::change::Incoming;
use domain::entity::EntityKind;
use sync_server::storage::{LogScope, Reach};
use test_support::backend::open_test_storage;

const WRITERS: usize = 8;
const ENTRIES_EACH: usize = 30;

#[test]
fn a_reader_paging_the_log_while_many_writers_commit_never_skips_an_entry() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(240));
    let storage = open_test_storage();
    let reader = uuid::Uuid::now_v7();
    let audience = [audience_of(reader)];
    let scope = LogScope { user_id: reader, reach: Reach::Nothing };
    let total = WRITERS * ENTRIES_EACH;
    let finished = AtomicUsize::new(0);

    let seen = std::thread::scope(|s| {
        for writer in 0..WRITERS {
            let (storage, finished) = (&storage, &finished);
            s.spawn(move || {
                for n in 0..ENTRIES_EACH {
                    let item = Incoming::Evict {
                        entity: EntityKind::Recipient,
                        entity_id: uuid::Uuid::now_v7(),
                        reassigned_to: None,
                    };
                    let mut tx = storage.write().expect("a write transaction");
                    tx.append_log(&item, &audience, Utc::now()).expect("appended");
                    // Some transactions stay open a while after taking their number: were a later
                    // number able to commit first, the reader would page past this one.
                    if (writer + n) % 3 == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    tx.commit().expect("committed");
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        let (storage, finished) = (&storage, &finished);
        s.spawn(move || {
            let mut cursor = 0u64;
            let mut seen = Vec::new();
            loop {
                let writers_done = finished.load(Ordering::SeqCst) == WRITERS;
                let tx = storage.read().expect("a read transaction");
                let head = tx.log_head().expect("head");
                let page = tx.log_page_json(&scope, cursor, 7).expect("a page");
                drop(tx);
                assert!(head >= cursor, "the head ({head}) is never behind a cursor handed out ({cursor})");
                for (seq, _) in page {
                    assert_eq!(seq, cursor + 1, "after cursor {cursor} the next entry is {seq}: entries were skipped");
                    assert!(seq <= head, "a page holds nothing past the head it was read with");
                    cursor = seq;
                    seen.push(seq);
                }
                if writers_done && cursor == head {
                    return seen;
                }
            }
        })
        .join()
        .expect("the reader")
    });

    assert_eq!(seen, (1..=total as u64).collect::<Vec<_>>(), "every entry, once, in order");
    let tx = storage.read().expect("read");
    assert_eq!(tx.log_head().expect("head"), total as u64);
}
