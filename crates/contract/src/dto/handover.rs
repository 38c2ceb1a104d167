//! Changes handed over to the signed-in user: another worker's changes the server refused because
//! their case had been reassigned while that worker was offline, offered to the case's current
//! worker and the station's deputy heads, to take over (record again as their own) or dismiss.

use chrono::{DateTime, Utc};
use domain::entity::EntityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One field of an offered change, with its label in both languages and its value as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedField {
    pub name: String,
    pub label_zh: String,
    pub label_en: String,
    pub value: String,
}

/// A change offered to the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverOffer {
    pub change_id: Uuid,
    pub kind: EntityKind,
    /// Whether the change was a new record (else an edit of an existing one).
    pub created: bool,
    pub case_id: Uuid,
    /// The person the case is about, when known here.
    pub recipient_name: Option<String>,
    /// The worker who recorded it offline.
    pub author_name: Option<String>,
    pub refused_at: DateTime<Utc>,
    pub fields: Vec<OfferedField>,
    /// Whether the signed-in user may take it over or dismiss it (the case's current worker, or
    /// a deputy head of its station).
    pub may_decide: bool,
}
