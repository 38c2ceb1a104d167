//! Referrals (转介): the worker's list with its filters, one referral's facts and the steps it may
//! take next, opening a case from an inbound one, and the deputy head's overdue referrals.
//! Benefit applications (协助申请) are outbound referrals of their own purpose: the outcome shown
//! is the one the department reported.

use chrono::NaiveDate;
use domain::referral::{ReferralCounterpart, ReferralDirection, ReferralOutcome, ReferralPurpose, ReferralState};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedRef;

/// The list's filters; each `None` leaves its dimension unfiltered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReferralQuery {
    pub direction: Option<ReferralDirection>,
    pub state: Option<ReferralState>,
    pub purpose: Option<ReferralPurpose>,
}

/// One referral as the list and its panel show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralRow {
    pub id: Uuid,
    pub direction: ReferralDirection,
    pub purpose: ReferralPurpose,
    pub counterpart: ReferralCounterpart,
    pub counterpart_detail: Option<String>,
    /// What a benefit application was for.
    pub benefit: Option<String>,
    /// The person on file, when the referral names one.
    pub recipient: Option<NamedRef>,
    /// The person as the referrer named them.
    pub person_name: Option<String>,
    pub reason: String,
    pub referred_on: NaiveDate,
    pub state: ReferralState,
    /// For an outbound referral, the outcome as the department reported it.
    pub outcome: ReferralOutcome,
    pub outcome_notes: Option<String>,
    pub responded_on: Option<NaiveDate>,
    pub concluded_on: Option<NaiveDate>,
    pub opened_case_id: Option<Uuid>,
    /// Days since the referral, up to its conclusion (or today while open).
    pub days: i64,
    /// No outcome after the station's overdue days.
    pub overdue: bool,
    /// The steps it may take next (none: it has its outcome), opening a case aside.
    pub next_states: Vec<ReferralState>,
    /// Whether a case may be opened from it now (inbound, not declined, no case yet).
    pub may_open_case: bool,
    /// Every stored field by name: its edit form starts from them.
    #[serde(default)]
    pub fields: super::FieldValues,
}

/// The referrals page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralList {
    pub rows: Vec<ReferralRow>,
    /// The station's overdue threshold.
    pub overdue_days: i64,
}

/// A referral's next step: the state it moves to, the day it happened, the outcome (only where
/// the state allows more than one: the department's reported outcome) and a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralStep {
    pub state: ReferralState,
    #[serde(default)]
    pub on: Option<NaiveDate>,
    #[serde(default)]
    pub outcome: Option<ReferralOutcome>,
    #[serde(default)]
    pub notes: String,
}

/// The deputy head's panel: the station's referrals without an outcome past the threshold,
/// longest waiting first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueReferrals {
    pub overdue_days: i64,
    /// Whether the station sets its own threshold (else the default).
    pub overdue_days_set: bool,
    pub rows: Vec<ReferralRow>,
    /// Whether the signed-in user may set the threshold (the policy's verdict).
    pub may_set_overdue_days: bool,
}
