//! Home visits (入户走访): the most frequent write in the system, recorded offline at the point.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Id;

/// One home visit. Append-only: a correction is a new visit that `amends` the earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: Id,
    pub station_id: Id,
    pub village_id: Id,
    pub recipient_id: Id,
    pub worker_id: Id,
    pub visited_on: NaiveDate,
    /// Who was seen, e.g. "本人及母亲".
    pub persons_seen: Option<String>,
    pub observations: String,
    pub needs_found: Option<String>,
    pub follow_up_needed: bool,
    pub amends: Option<Id>,
}
