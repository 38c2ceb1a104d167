//! Shegong's application layer: the use cases behind the desktop app's commands, on the store
//! and the domain. Each Tauri command in `src-tauri` calls one function here in a few lines; the
//! rules themselves stay in `domain` (checked again by `Store::record` for every write).
//!
//! A use case takes what it works on (`&Store` to read, `&mut Store` and the [`Actor`] to
//! write), its input as the `contract` types the UI sends, and the [`Moment`] it runs at, and
//! returns the `contract` type the UI shows or an [`AppError`]. It never reads the clock itself,
//! so the tests pin the date.
//!
//! [`Actor`]: domain::policy::Actor

pub mod account;
pub mod activities;
pub mod board;
pub mod bundle;
pub mod case;
pub mod closure;
pub mod conflicts;
pub mod error;
pub mod fields;
pub mod handover;
pub mod household;
pub mod ledger;
pub mod library;
pub mod places;
pub mod printing;
pub mod recipient;
pub mod referral;
pub mod refused;
pub mod report;
pub mod roster;
pub mod standards;
pub mod supervision;
pub mod sync_view;
pub mod training;
pub mod visit;

#[cfg(test)]
mod testing;

use chrono::{DateTime, Local, NaiveDate, Utc};

pub use account::Account;
pub use error::AppError;

/// When a use case runs: the instant (UTC, for the change's clock) and the local date (for the
/// dates people type: "today", "not in the future").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Moment {
    /// This computer's clock: now, and today in its time zone.
    pub fn current() -> Moment {
        Moment { now: Utc::now(), today: Local::now().date_naive() }
    }
}
