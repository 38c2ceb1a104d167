//! Shegong's sync server: accounts and devices, the push and pull of changes, per-station
//! checksums and repair snapshots, over HTTP (axum) with an embedded SQLite store.
//!
//! - [`Server`] is the whole API as synchronous methods; [`router`] puts it on HTTP; [`serve`]
//!   runs it on a socket (optionally with TLS).
//! - [`metrics`] is what `GET /metrics` shows a bureau's monitoring; every request is logged
//!   with ids only (request, user, device), never a person's data or a token.
//! - [`storage::Storage`] is the one trait a backend implements; [`SqliteStorage`] is the default,
//!   [`PostgresStorage`] the bureau's choice (`[database] backend = "postgres"`); [`open_storage`]
//!   opens the configured one.
//! - [`Admin`] creates stations, service points, villages and users, and seeds the demo.
//!
//! The protocol is described for people in `docs/sync-protocol.md`.
//!
//! **Invariant:** the actor of a pushed change is derived from the bearer token and the server's
//! own user record, never from anything in the request body.

pub mod admin;
mod admin_tools;
mod auth;
mod batch;
mod bundle;
pub mod config;
mod demo;
mod enrol;
pub mod error;
mod group_commit;
mod handover;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod password_input;
mod push;
mod scope;
mod serve;
mod server;
mod signin;
pub mod storage;

pub use admin::{Admin, AdminError, DEMO_PASSWORD, DemoSeed, NewUser};
pub use admin_tools::{AuditActor, UserEdit};
pub use batch::SYSTEM_USER_ID;
pub use config::Config;
pub use http::router;
pub use metrics::MetricsAccess;
pub use serve::{ServeError, open_storage, serve};
pub use server::{Server, ServerSettings, WallClock, system_clock};
pub use signin::{LoginLimits, MAX_PASSWORD_BYTES};
pub use storage::{PostgresStorage, SqliteStorage, Storage, StorageError};
