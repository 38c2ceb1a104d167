//! Shegong's domain: the people, places and cases of a township social work station, and the
//! rules that govern them. Pure: no IO, no SQLite, no HTTP; builds for wasm32 so the UI can share
//! the labels and validation.
//!
//! The client store and the sync server both sit on top of this crate and call the same rules:
//! [`rules::check_change`] decides whether a change may be applied, [`merge::merge`] decides how a
//! change combines with what is already known.

#[macro_use]
mod labelled;

pub mod activity;
pub mod case;
pub mod change;
pub mod entity;
pub mod hlc;
pub mod merge;
pub mod money;
pub mod org;
pub mod pipeline;
pub mod places;
pub mod policy;
pub mod recipient;
pub mod referral;
pub mod rules;
pub mod signoff;
pub mod standards;
pub mod validate;
pub mod visit;
pub mod workforce;

pub use entity::field;
pub use labelled::Labelled;

/// Every entity is named by a UUIDv7 made on the device that created it.
pub type Id = uuid::Uuid;

/// The version of the change format this build writes. Older versions are upgraded by
/// `protocol::upgrade`; see docs/sync-protocol.md.
pub const SCHEMA_VERSION: u32 = 2;
/// The oldest change format still accepted and upgraded.
pub const OLDEST_SUPPORTED_SCHEMA_VERSION: u32 = 1;
