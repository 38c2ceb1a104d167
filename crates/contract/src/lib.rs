//! The contract between the UI and the desktop shell, in one crate both depend on: every Tauri
//! command as a typed item ([`command`]), with the JSON it takes and returns ([`dto`]).
//!
//! The UI calls a command by its type (`invoke::<command::Roster>(args)`), never by a string;
//! the shell registers a handler for each name in [`ALL`], and a test in the shell checks that the
//! two lists agree. Only pure crates here (serde, chrono, uuid, `domain`): it builds for wasm32.

pub mod command;
pub mod dto;

pub use command::{ALL, Command};
pub use dto::*;
