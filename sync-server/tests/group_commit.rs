//! Group commit (`group_commit.rs`): pushes that arrive together are written in one transaction
//! with one durable commit, each push inside a savepoint of its own. On the run's backend
//! (SQLite in a file, or PostgreSQL with `SHEGONG_TEST_BACKEND=postgres`): every push is
//! answered as if it had been alone, the log stays dense and in commit order, and a push that
//! fails in a group is undone alone. The savepoints underneath are the storage's own story here
//! too. (The queue's leadership, bounds, deadlines and panics: the unit tests of the module.)

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::Utc;
use common::*;
use domain::change::{Change, Incoming};
use domain::entity::EntityKind;
use protocol::{PushOutcome, PushResponse, codes};
use sync_server::storage::{LogScope, Reach, Storage, StoredAnswer};
use test_support::backend::TestDatabase;

/// A world on a database a reader reaches while a writer holds its transaction (a SQLite file,
/// not SQLite in memory, whose one connection readers would wait for).
fn world_on_file(dir: &tempfile::TempDir) -> World {
    World::with_storage(TestDatabase::new(dir.path()).open())
}

/// `count` devices signed in as the station's two workers, each with `pushes` pushes stamped of
/// two new recipients.
fn devices_with_work(world: &World, count: usize, pushes: usize) -> Vec<(Device, Vec<Vec<Change>>)> {
    (0..count)
        .map(|n| {
            let mut device = world.login(if n % 2 == 0 { "wa" } else { "wb" });
            let work = (0..pushes)
                .map(|p| {
                    (0..2)
                        .map(|k| {
                            let number = u32::try_from(n * 100 + p * 10 + k).expect("small");
                            let (_, write) = recipient(world.station_s, world.village_s, "张三", number);
                            device.stamp(write)
                        })
                        .collect()
                })
                .collect();
            (device, work)
        })
        .collect()
}

/// Every change of the pushes, and its server sequence number.
fn accepted_seqs(pushes: &[Vec<Change>], answers: &[PushResponse]) -> Vec<(Change, u64)> {
    let mut out = Vec::new();
    for (changes, answer) in pushes.iter().zip(answers) {
        assert_eq!(answer.results.len(), changes.len(), "one answer per change");
        for (change, result) in changes.iter().zip(&answer.results) {
            assert_eq!(result.change_id, change.change_id, "the answers are the push's own, in its order");
            out.push((change.clone(), accepted(result)));
        }
    }
    out
}

#[test]
fn concurrent_pushes_from_many_devices_are_all_answered_and_logged_in_sequence_order() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(300));
    let dir = tempfile::tempdir().expect("temp dir");
    let world = world_on_file(&dir);
    let head = world.log_head();
    const DEVICES: usize = 32;
    const PUSHES: usize = 3;
    let devices = devices_with_work(&world, DEVICES, PUSHES);
    let start = Arc::new(Barrier::new(DEVICES));

    let done: Vec<(Device, Vec<Vec<Change>>, Vec<PushResponse>)> = std::thread::scope(|s| {
        let threads: Vec<_> = devices
            .into_iter()
            .map(|(mut device, work)| {
                let start = start.clone();
                s.spawn(move || {
                    start.wait();
                    let answers: Vec<PushResponse> =
                        work.iter().map(|changes| device.push(changes).expect("push answered")).collect();
                    (device, work, answers)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("the device's thread")).collect()
    });

    let mut all = Vec::new();
    for (device, work, answers) in &done {
        let seqs = accepted_seqs(work, answers);
        assert!(
            seqs.windows(2).all(|w| w[0].1 < w[1].1),
            "a device's changes are logged in the order it sent them: {:?}",
            seqs.iter().map(|(_, seq)| seq).collect::<Vec<_>>()
        );
        let last = answers.last().expect("pushed");
        assert_eq!(last.next_expected_seq, device.next_seq, "the server expects the device's next change");
        all.extend(seqs);
    }
    let total = (DEVICES * PUSHES * 2) as u64;
    let numbers: BTreeSet<u64> = all.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(numbers.len(), all.len(), "no two changes share a server sequence number");
    assert_eq!(numbers, (head + 1..=head + total).collect(), "the numbers are dense, after the head before");
    assert_eq!(world.log_head(), head + total);

    // The log holds each change at the number its answer gave.
    let mut reader = world.login("ds");
    let logged: Vec<(u64, domain::Id)> = reader
        .sync()
        .into_iter()
        .filter_map(|entry| match entry.item {
            Incoming::Change(change) if entry.server_seq > head => Some((entry.server_seq, change.change_id)),
            _ => None,
        })
        .collect();
    let mut answered: Vec<(u64, domain::Id)> = all.iter().map(|(change, seq)| (*seq, change.change_id)).collect();
    answered.sort();
    assert_eq!(logged, answered);
}

#[test]
fn a_push_that_fails_in_a_group_is_answered_with_its_error_and_the_others_are_kept() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(300));
    let dir = tempfile::tempdir().expect("temp dir");
    let world = world_on_file(&dir);
    let head = world.log_head();
    const DEVICES: usize = 8;
    let devices = devices_with_work(&world, DEVICES, 1);
    let (mut doomed, doomed_work) = devices_with_work(&world, 1, 1).pop().expect("one device");
    let storage: Arc<dyn Storage> = world.server.storage().clone();

    // The test holds the write transaction: the pushes pass their first look at the token (a
    // read), then queue behind it, and run as a group once it commits. In it, the doomed
    // device is revoked — after its push's first look, before its group.
    let mut held = storage.write().expect("the write transaction");
    let (done, doomed_answer) = std::thread::scope(|s| {
        let threads: Vec<_> = devices
            .into_iter()
            .map(|(mut device, work)| {
                s.spawn(move || {
                    let answer = device.push(&work[0]).expect("push answered");
                    (work, answer)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let doomed_id = doomed.id();
        let doomed_thread = s.spawn(move || doomed.push(&doomed_work[0]));
        std::thread::sleep(Duration::from_millis(300));
        held.revoke_device(doomed_id, Utc::now()).expect("revoked");
        held.commit().expect("committed");
        let done: Vec<_> = threads.into_iter().map(|t| t.join().expect("the device's thread")).collect();
        (done, doomed_thread.join().expect("the doomed device's thread"))
    });

    let error = doomed_answer.expect_err("the revoked device's push is refused");
    assert_eq!(error.code, codes::DEVICE_REVOKED);
    let mut all = Vec::new();
    for (work, answer) in &done {
        all.extend(accepted_seqs(std::slice::from_ref(&work[0]), std::slice::from_ref(answer)));
    }
    let numbers: BTreeSet<u64> = all.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(numbers, (head + 1..=head + (DEVICES * 2) as u64).collect(), "the others' changes, densely numbered");
    assert_eq!(world.log_head(), head + (DEVICES * 2) as u64, "nothing of the refused push was logged");
}

#[test]
fn rolling_back_to_a_savepoint_undoes_the_writes_and_the_numbers_since_and_the_transaction_goes_on() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let storage = test_support::backend::open_test_storage();
    let reader = uuid::Uuid::now_v7();
    let audience = [audience_of(reader)];
    let evict =
        || Incoming::Evict { entity: EntityKind::Recipient, entity_id: uuid::Uuid::now_v7(), reassigned_to: None };
    let (kept, undone, again, last) = (evict(), evict(), evict(), evict());
    let head = storage.read().expect("read").log_head().expect("head");

    let mut tx = storage.write().expect("write");
    tx.savepoint().expect("savepoint");
    assert_eq!(tx.append_log(&kept, &audience, Utc::now()).expect("appended"), head + 1);
    tx.release_savepoint().expect("released");
    tx.savepoint().expect("savepoint");
    assert_eq!(tx.append_log(&undone, &audience, Utc::now()).expect("appended"), head + 2);
    tx.set_meta("group_commit_test", "undone").expect("meta");
    tx.rollback_to_savepoint().expect("rolled back");
    assert_eq!(tx.meta("group_commit_test").expect("meta"), None, "the write since the savepoint is undone");
    tx.savepoint().expect("savepoint");
    assert_eq!(tx.append_log(&again, &audience, Utc::now()).expect("appended"), head + 2, "its number is free again");
    tx.release_savepoint().expect("released");
    assert_eq!(tx.append_log(&last, &audience, Utc::now()).expect("appended"), head + 3);
    tx.commit().expect("committed");

    let read = storage.read().expect("read");
    let page = read.log_page(&LogScope { user_id: reader, reach: Reach::Nothing }, head, 10).expect("page");
    let items: Vec<(u64, Incoming)> = page.into_iter().map(|e| (e.server_seq, e.item)).collect();
    assert_eq!(items, [(head + 1, kept), (head + 2, again), (head + 3, last)]);
    assert_eq!(read.log_head().expect("head"), head + 3, "the head is the last number committed");
}

#[test]
fn a_write_that_fails_keeps_nothing_of_its_savepoint_and_with_failures_deferred_nothing_of_its_transaction() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let storage = test_support::backend::open_test_storage();
    let device = uuid::Uuid::now_v7();
    let answer = || StoredAnswer { change_id: uuid::Uuid::now_v7(), outcome: PushOutcome::Gap { expected: 1 } };

    let mut tx = storage.write().expect("write");
    // PostgreSQL does; SQLite writes at once, so a failure is always found at its statement.
    let deferred = tx.defer_write_failures();
    assert_eq!(deferred, test_support::backend::is_postgres());
    tx.savepoint().expect("savepoint");
    tx.put_push_answer(device, 1, &answer()).expect("an answer");
    tx.release_savepoint().expect("released");
    tx.savepoint().expect("savepoint");
    tx.put_push_answer(device, 2, &answer()).expect("an answer");
    // The same device and number again: the table's key refuses it, on either backend.
    let found = tx.put_push_answer(device, 1, &answer()).and_then(|()| tx.release_savepoint());
    if deferred {
        assert!(found.is_ok(), "not read yet: {found:?}");
        // The next statement that waits reads the failure (the transaction is aborted). A
        // caller that goes on regardless is refused the commit all the same: PostgreSQL would
        // answer its `COMMIT` with a rollback, not an error.
        assert!(tx.meta("group_commit_test").is_err(), "the statement after the failure fails too");
        assert!(tx.commit().is_err(), "the failure is found at the commit at the latest");
        let read = storage.read().expect("read");
        assert_eq!(read.push_answer(device, 1).expect("answer"), None, "nothing of the transaction is kept");
    } else {
        assert!(found.is_err(), "found at its statement");
        tx.rollback_to_savepoint().expect("rolled back");
        tx.commit().expect("committed");
        let read = storage.read().expect("read");
        assert!(read.push_answer(device, 1).expect("answer").is_some(), "the first savepoint's write is kept");
        assert_eq!(read.push_answer(device, 2).expect("answer"), None, "the second's is not");
    }
}

#[test]
fn checksum_accumulators_fold_across_savepoints_and_a_rollback_undoes_only_its_own() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let storage = test_support::backend::open_test_storage();
    let (station, worker) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());

    let mut tx = storage.write().expect("write");
    tx.savepoint().expect("savepoint");
    tx.xor_accumulator(station, None, 0b0011).expect("roster");
    tx.xor_accumulator(station, Some(worker), 0b1000).expect("cases");
    tx.release_savepoint().expect("released");
    tx.savepoint().expect("savepoint");
    tx.xor_accumulator(station, None, 0b0101).expect("roster");
    // Read inside the savepoint: what is kept so far is written first and seen.
    let seen = tx.accumulators(station).expect("accumulators");
    assert_eq!((seen.roster, seen.cases.get(&worker).copied()), (0b0110, Some(0b1000)));
    tx.xor_accumulator(station, Some(worker), 0b0100).expect("cases");
    tx.rollback_to_savepoint().expect("rolled back");
    tx.savepoint().expect("savepoint");
    tx.xor_accumulator(station, None, 0b0100).expect("roster");
    tx.xor_accumulator(station, None, u64::MAX).expect("all 64 bits");
    tx.release_savepoint().expect("released");
    tx.commit().expect("committed");

    let read = storage.read().expect("read");
    let (_, stations) = read.log_head_and_accumulators(&[station]).expect("accumulators");
    let [after] = stations.as_slice() else { panic!("one station: {stations:?}") };
    assert_eq!(after.roster, 0b0011 ^ 0b0100 ^ u64::MAX, "the rolled-back push's changes are undone, the rest kept");
    assert_eq!(after.cases.get(&worker).copied(), Some(0b1000));
    assert_eq!(read.accumulators(station).expect("accumulators"), *after);
}

#[test]
fn the_numbers_of_a_write_given_up_are_handed_out_again_and_the_next_commit_continues_after_its_own() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let storage = test_support::backend::open_test_storage();
    let audience = [audience_of(uuid::Uuid::now_v7())];
    let evict =
        || Incoming::Evict { entity: EntityKind::Recipient, entity_id: uuid::Uuid::now_v7(), reassigned_to: None };
    let head = storage.read().expect("read").log_head().expect("head");

    let mut given_up = storage.write().expect("write");
    assert_eq!(given_up.append_log(&evict(), &audience, Utc::now()).expect("appended"), head + 1);
    assert_eq!(given_up.append_log(&evict(), &audience, Utc::now()).expect("appended"), head + 2);
    drop(given_up);
    assert_eq!(storage.read().expect("read").log_head().expect("head"), head, "nothing of it was logged");

    let mut tx = storage.write().expect("write");
    assert_eq!(tx.append_log(&evict(), &audience, Utc::now()).expect("appended"), head + 1, "its numbers are free");
    tx.commit().expect("committed");
    let mut next = storage.write().expect("write");
    assert_eq!(next.append_log(&evict(), &audience, Utc::now()).expect("appended"), head + 2, "after the last commit");
    next.commit().expect("committed");
    assert_eq!(storage.read().expect("read").log_head().expect("head"), head + 2);
}

#[test]
fn a_refused_push_in_a_group_leaves_its_device_expecting_the_same_change_again() {
    let _deadline = shegong_tests::deadline(Duration::from_secs(120));
    let dir = tempfile::tempdir().expect("temp dir");
    let world = world_on_file(&dir);
    let mut device = world.login("wa");
    let (_, write) = recipient(world.station_s, world.village_s, "张三", 1);
    let mut change = device.stamp(write);
    let valid = change.clone();
    // A format the server no longer reads: the whole push is refused inside its group.
    change.schema_version = domain::OLDEST_SUPPORTED_SCHEMA_VERSION - 1;
    let error = device.push(std::slice::from_ref(&change)).expect_err("refused");
    assert_eq!(error.code, codes::CLIENT_TOO_OLD);
    let answer = device.push(&[valid]).expect("the same change in a format it reads");
    assert!(matches!(answer.results[0].outcome, PushOutcome::Accepted { .. }), "{answer:?}");
    assert_eq!(answer.next_expected_seq, 2);
}
