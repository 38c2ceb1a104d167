//! The supervisor's (督导) screens: the queue of closure requests across the stations they
//! supervise, and the reopenings of a closed case shown on the case page.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedRef;

/// One closure request awaiting a supervisor, as the queue lists it (oldest request first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureQueueRow {
    pub case_id: Uuid,
    /// The case's station; `name` is empty while its record is not on this computer.
    pub station: NamedRef,
    pub recipient: Option<NamedRef>,
    /// The social worker who requested closure (the case's worker).
    pub worker: Option<NamedRef>,
    pub requested_on: Option<NaiveDate>,
    /// Days since the request, counted to today.
    pub days_waiting: Option<i64>,
    /// The worker's closure summary.
    pub summary: Option<String>,
}

/// A reopening of a signed-off case: who reopened it, when, why, and the reopen generation it
/// began (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopeningView {
    pub generation: i64,
    /// The reason given (absent for a reopening by an older build, which asked for none).
    pub reason: Option<String>,
    pub reopened_by: Option<NamedRef>,
    pub reopened_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_queue_row_is_written_with_its_field_names() {
        let row = ClosureQueueRow {
            case_id: Uuid::from_u128(1),
            station: NamedRef { id: Uuid::from_u128(2), name: "城关社工站".into() },
            recipient: None,
            worker: None,
            requested_on: NaiveDate::from_ymd_opt(2026, 11, 20),
            days_waiting: Some(5),
            summary: Some("目标达成".into()),
        };
        let value = serde_json::to_value(&row).expect("json");
        assert_eq!(value["requested_on"], json!("2026-11-20"));
        assert_eq!(value["days_waiting"], json!(5));
        assert_eq!(value["station"]["name"], json!("城关社工站"));
        let back: ClosureQueueRow = serde_json::from_value(value).expect("reads back");
        assert_eq!(back, row);
    }
}
