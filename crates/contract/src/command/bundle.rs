//! The arguments of the commands of sync by USB stick.

use serde::{Deserialize, Serialize};

/// The arguments of `ExportBundle`, `RelayBundle` and `ImportBundle`: the path typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundlePathArgs {
    pub path: String,
}
