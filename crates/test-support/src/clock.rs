//! Time as tests hold it: a wall clock they move, shared by every copy, and dates from text.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// A wall clock the test moves; copies share it. Either fixed at an instant, or following the
/// system's clock (for a server that devices with real clocks talk to), plus what the test added.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<ClockState>>);

struct ClockState {
    /// `None`: the system's clock.
    start: Option<DateTime<Utc>>,
    added: Duration,
}

impl TestClock {
    /// A clock fixed at 2026-06-15 04:00 UTC (noon in China).
    pub fn new() -> Self {
        Self::at(Utc.with_ymd_and_hms(2026, 6, 15, 4, 0, 0).single().expect("valid time"))
    }

    /// A clock fixed at `start`.
    pub fn at(start: DateTime<Utc>) -> Self {
        TestClock(Arc::new(Mutex::new(ClockState { start: Some(start), added: Duration::zero() })))
    }

    /// A clock that follows the system's, moved on by what the test adds.
    pub fn system() -> Self {
        TestClock(Arc::new(Mutex::new(ClockState { start: None, added: Duration::zero() })))
    }

    pub fn now(&self) -> DateTime<Utc> {
        let state = self.0.lock().expect("clock lock");
        state.start.unwrap_or_else(Utc::now) + state.added
    }

    pub fn advance(&self, by: Duration) {
        self.0.lock().expect("clock lock").added += by;
    }

    /// Moves the clock on by `by` and returns the new instant (each write a moment later).
    pub fn tick(&self, by: Duration) -> DateTime<Utc> {
        self.advance(by);
        self.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Milliseconds since 1970, as a hybrid logical clock reads them.
    pub fn millis(&self) -> u64 {
        u64::try_from(self.now().timestamp_millis()).expect("after 1970")
    }

    /// The clock as a sync server reads it.
    #[cfg(feature = "server")]
    pub fn wall(&self) -> sync_server::WallClock {
        let me = self.clone();
        Arc::new(move || me.now())
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

/// A date from its `YYYY-MM-DD` text.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a YYYY-MM-DD date")
}
