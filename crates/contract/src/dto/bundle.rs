//! Sync by USB stick (同步包): what the sync page shows after writing an outbox bundle, relaying
//! one at the station, or importing a return bundle.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The outbox bundle written to the USB stick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleExportView {
    /// The file written.
    pub path: String,
    pub bundle_id: Uuid,
    /// The changes it carries (the outbox stays as it is until the return bundle is imported).
    pub changes: u64,
}

/// An outbox bundle relayed to the server by this (station) laptop, and the return bundle
/// written beside it for the device it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRelayView {
    /// The return bundle written.
    pub path: String,
    pub device_id: Uuid,
    pub changes: u64,
    /// Changes the server had answered before (the bundle was relayed already): they changed
    /// nothing.
    pub answered_before: u64,
}

/// A return bundle imported on the device it was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleImportView {
    pub accepted: u64,
    pub rejected: u64,
    /// Records received from the server.
    pub pulled: u64,
    /// More waits on the server than one bundle holds: write another bundle (or sync online).
    pub more_waiting: bool,
}
