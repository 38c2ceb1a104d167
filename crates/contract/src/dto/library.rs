//! The resource library (资源库) and the station's activities (活动): what their pages show and
//! send. Amounts of money are whole fen (`domain::money`), never floats.

use chrono::NaiveDate;
use domain::activity::ActivityKind;
use domain::case::{ResourceLinkKind, ResourceLinkStatus};
use domain::referral::ResourceKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldValues, NamedRef};

/// The library's search: part of the name, its pinyin initials, what it offers, or a village it
/// serves; and one kind only, or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceQuery {
    pub text: String,
    pub kind: Option<ResourceKind>,
}

/// One resource of the library's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub id: Uuid,
    pub kind: ResourceKind,
    pub name: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub services: Option<String>,
    pub villages: Vec<NamedRef>,
    pub cultivated: bool,
    pub active: bool,
}

/// A link of the resource into a case plan, and what it brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLinkView {
    pub link_id: Uuid,
    pub case_id: Uuid,
    /// The case's recipient, when held here.
    pub recipient: Option<NamedRef>,
    pub kind: Option<ResourceLinkKind>,
    pub description: String,
    pub status: Option<ResourceLinkStatus>,
    pub linked_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub money_fen: Option<i64>,
    pub goods: Option<String>,
    pub goods_value_fen: Option<i64>,
}

/// A resource's page: its facts, the stored values its edit form starts from, and the cases and
/// recipients it helped, with the charity money and goods they received in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePage {
    pub resource: ResourceRow,
    pub fields: FieldValues,
    pub links: Vec<ResourceLinkView>,
    /// Distinct recipients of the links held here.
    pub recipients_helped: u64,
    pub money_fen_total: i64,
    pub goods_value_fen_total: i64,
}

/// One activity as the activities page lists it. Lists of records name those held here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub id: Uuid,
    pub kind: ActivityKind,
    pub title: String,
    pub held_on: NaiveDate,
    pub place: String,
    pub duration_minutes: i64,
    pub workers: Vec<NamedRef>,
    pub recipients: Vec<NamedRef>,
    pub others_count: i64,
    /// The recipients and the others together.
    pub participants: i64,
    pub resources: Vec<NamedRef>,
    pub notes: Option<String>,
    /// The stored values, for the edit form.
    pub fields: FieldValues,
}

/// A month of the station's activities, newest first, with the month's totals, and what the
/// activity form offers to pick (the station's workers, its active resources).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitiesMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub previous_month: String,
    pub next_month: String,
    pub activities: Vec<ActivityView>,
    pub total_participants: i64,
    pub total_minutes: i64,
    pub workers: Vec<NamedRef>,
    pub resources: Vec<NamedRef>,
}
