//! Deadlines for tests that wait (re-exported as `shegong_tests::deadline`). The standard test harness has no per-test timeout, so a test
//! that waits on a process, a socket or another thread holds a [`Deadline`]: if it is still
//! running when the deadline passes, the whole test process says which test hung and exits with
//! a failure, so CI fails with a name instead of stalling until its own limit.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Ends the test process if dropped later than `limit` after it was made.
#[must_use = "the deadline is cancelled when this guard is dropped"]
pub struct Deadline {
    done: Arc<(Mutex<bool>, Condvar)>,
}

impl Deadline {
    pub fn new(what: &str, limit: Duration) -> Deadline {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let watched = done.clone();
        let what = what.to_string();
        let start = Instant::now();
        let label = what.clone();
        let spawned = std::thread::Builder::new().name(format!("deadline {what}")).spawn(move || {
            let (lock, finished) = &*watched;
            let mut done = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            while !*done {
                let left = limit.saturating_sub(start.elapsed());
                if left.is_zero() {
                    eprintln!("DEADLINE: `{what}` still running after {} s: the test hung; stopping", limit.as_secs());
                    std::process::exit(124);
                }
                done = finished.wait_timeout(done, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
            }
        });
        if let Err(e) = spawned {
            eprintln!("could not start the deadline thread for {label}: {e}");
        }
        Deadline { done }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let (lock, finished) = &*self.done;
        *lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        finished.notify_all();
    }
}

/// A deadline for the calling test, named after its thread (the harness names each test's
/// thread after the test).
pub fn deadline(limit: Duration) -> Deadline {
    let name = std::thread::current().name().unwrap_or("a test").to_string();
    Deadline::new(&name, limit)
}
