//! Fixtures the tests of several crates share, written once: how benchmarks print their
//! figures ([`bench`]), valid resident ID numbers
//! ([`id_number`]), a clock tests move ([`clock`]), the writes that make recipients, visits and
//! cases and walk a case to its closure ([`writes`]), and, with the `server` feature, a
//! two-station world on an in-process sync server ([`world`]) served on a loopback port
//! ([`loopback`]), on the storage the run chose, SQLite or PostgreSQL ([`backend`]).
//!
//! A dev-dependency only. It depends on `domain` (and on `sync-server` with `server`), never on
//! the app, Tauri or the end-to-end harness (`shegong-tests`).

#[cfg(feature = "server")]
pub mod backend;
pub mod bench;
pub mod clock;
pub mod county;
pub mod deadline;
pub mod id_number;
#[cfg(feature = "server")]
pub mod loopback;
#[cfg(feature = "server")]
pub mod world;
pub mod writes;

pub use clock::{TestClock, date};
pub use id_number::{gender_of, id_number, id_number_from_first17, with_wrong_check_digit};
