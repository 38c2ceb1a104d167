//! The types each command takes and returns, as JSON: what the UI shows and sends. They may only
//! use crates both sides have: serde, chrono, uuid and `domain`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::case::{ClosureStatus, Stage};
use domain::change::Op;
use domain::entity::EntityKind;
use domain::org::RoleKind;
use domain::recipient::{Gender, HouseholdRelation, RecipientCategory};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

mod board;
pub use board::*;
mod bundle;
pub use bundle::*;
mod case;
pub use case::*;
mod closure;
pub use closure::*;
mod handover;
pub use handover::*;
mod referral;
pub use referral::*;
mod library;
pub use library::*;
mod report;
pub use report::*;
mod sync;
pub use sync::*;
mod workforce;
pub use workforce::*;

/// Every command's error: a stable `code` the UI acts on, the field it concerns (if any), and
/// messages in both languages. The UI never matches message text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandError {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

impl CommandError {
    pub fn new(code: &str, message_zh: impl Into<String>, message_en: impl Into<String>) -> Self {
        Self { code: code.into(), field: None, message_zh: message_zh.into(), message_en: message_en.into() }
    }

    pub fn at_field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn message(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.message_zh,
            Language::En => &self.message_en,
        }
    }
}

/// A message as a sentence: the domain's English field messages start with the field's name in
/// lower case ("resident ID number has ...").
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Codes of [`CommandError`] the UI reacts to specifically.
pub mod codes {
    /// Wrong username or password (offline: the database did not open with it).
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    /// No local database for this user and the server cannot be reached.
    pub const SERVER_UNREACHABLE: &str = "server_unreachable";
    /// The command needs a signed-in user.
    pub const NOT_SIGNED_IN: &str = "not_signed_in";
    /// A malformed request (a bug in the UI rather than in what the user typed).
    pub const BAD_REQUEST: &str = "bad_request";
    /// Something failed underneath (database, file system); details are in the log.
    pub const INTERNAL: &str = "internal";
    /// Offline sign-in after more days without the server than the station allows: the local
    /// data stays locked until an online sign-in.
    pub const LEASE_EXPIRED: &str = "lease_expired";
    /// The account was deactivated; it no longer signs in on this computer.
    pub const ACCOUNT_DEACTIVATED: &str = "account_deactivated";
    /// Sync needs an online sign-in first (no session, or the session changed meanwhile).
    pub const SIGN_IN_REQUIRED: &str = "sign_in_required";
    /// The record asked for is not on this computer (never synced here, or out of the user's
    /// scope now).
    pub const NOT_FOUND: &str = "not_found";
    /// The case was given to another worker and left this computer; the messages name them.
    pub const CASE_REASSIGNED: &str = "case_reassigned";
    /// A household visit needs a member recorded as the head of the household.
    pub const NO_HOUSEHOLD_HEAD: &str = "no_household_head";
    /// The field is changed by its own command, not by a general edit (a recipient's village by
    /// `transfer_recipient`, their household by `set_household_member`); `field` names it.
    pub const NOT_EDITABLE_HERE: &str = "not_editable_here";
    /// The conflict chosen on is no longer open as it was shown (settled here or on another
    /// computer, or the value that stands changed meanwhile): the page shows it again.
    pub const CONFLICT_CHANGED: &str = "conflict_changed";
    /// The refused change acted on is no longer waiting for the user (dealt with meanwhile, or
    /// not refused): the page shows the list again.
    pub const REFUSED_CHANGE_GONE: &str = "refused_change_gone";
    /// A report's period is not a month, quarter or year the reports cover (field `period`).
    pub const BAD_REPORT_PERIOD: &str = "bad_report_period";
    /// A report could not be rendered (no CJK font for the PDF, ...).
    pub const REPORT_NOT_RENDERED: &str = "report_not_rendered";
    /// Sync by USB stick: the file is not a bundle (or is cut short); field `path`. The same
    /// codes as the sync protocol's (`protocol::codes::BUNDLE_*`), checked by a test in `app`.
    pub const BUNDLE_MALFORMED: &str = "bundle_malformed";
    /// A bundle format this version does not read.
    pub const BUNDLE_VERSION: &str = "bundle_version";
    /// An outbox bundle where a return bundle was expected, or the reverse.
    pub const BUNDLE_WRONG_KIND: &str = "bundle_wrong_kind";
    /// The bundle was altered, or not made by the device or server it names: nothing was taken.
    pub const BUNDLE_TAMPERED: &str = "bundle_tampered";
    /// The bundle is another device's: nothing was taken.
    pub const BUNDLE_OTHER_DEVICE: &str = "bundle_other_device";
    /// The file is larger than any bundle.
    pub const BUNDLE_TOO_LARGE: &str = "bundle_too_large";
    /// This device has no bundle key yet: sign in online once.
    pub const BUNDLE_KEY_MISSING: &str = "bundle_key_missing";
    /// A return bundle imported already, or older than what this device holds: nothing was taken.
    pub const BUNDLE_STALE: &str = "bundle_stale";
    /// The bundle file could not be read or written (field `path`).
    pub const BUNDLE_FILE: &str = "bundle_file";
}

/// The UI's language. Chinese by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Zh,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    pub fn other(self) -> Language {
        match self {
            Language::Zh => Language::En,
            Language::En => Language::Zh,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// The sync server to sign in with the first time on this device; the default otherwise.
    #[serde(default)]
    pub server_url: Option<String>,
}

/// What the sign-in page shows before anyone signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInDefaults {
    pub server_url: String,
    /// Usernames that have a database on this device (they can sign in offline).
    pub local_users: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: RoleKind,
    pub station_id: Option<Uuid>,
    pub station_name: Option<String>,
    /// Whether this sign-in reached the server (false: signed in offline with the local database).
    pub online_sign_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageOption {
    pub id: Uuid,
    pub name: String,
    /// False when the village or its station was deactivated (`domain::places`): kept for the
    /// names in files and histories, never offered in a picker.
    #[serde(default = "village_option_active")]
    pub active: bool,
}

fn village_option_active() -> bool {
    true
}

/// A service point with its villages, for the village pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePointOption {
    pub id: Uuid,
    pub name: String,
    pub villages: Vec<VillageOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Chinese substring or pinyin initials (`zs` finds 张三).
    Name,
    /// The last characters of the resident ID number.
    IdSuffix,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterQuery {
    #[serde(default)]
    pub category: Option<RecipientCategory>,
    #[serde(default)]
    pub village_id: Option<Uuid>,
    #[serde(default)]
    pub service_point_id: Option<Uuid>,
    #[serde(default)]
    pub search_kind: Option<SearchKind>,
    #[serde(default)]
    pub search_text: String,
    /// Zero-based.
    #[serde(default)]
    pub page: u32,
    pub page_size: u32,
}

impl RosterQuery {
    /// The first page of `page_size` of everyone, unfiltered.
    pub fn first_page(page_size: u32) -> RosterQuery {
        RosterQuery {
            category: None,
            village_id: None,
            service_point_id: None,
            search_kind: None,
            search_text: String::new(),
            page: 0,
            page_size,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub id: Uuid,
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub categories: Vec<RecipientCategory>,
    pub village_name: String,
    pub phone: Option<String>,
    /// The last four characters of the ID number (the full number stays off the list screen).
    pub id_number_tail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterPage {
    pub entries: Vec<RosterEntry>,
    pub page: u32,
    pub page_size: u32,
    /// How many recipients match the filters, on all pages.
    pub total: u64,
    pub has_more: bool,
}

/// The add-recipient form as typed. Gender and date of birth come from the ID number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientDraft {
    pub name: String,
    pub id_number: String,
    pub categories: Vec<RecipientCategory>,
    pub village_id: Option<Uuid>,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedRecipient {
    pub id: Uuid,
    pub name: String,
}

/// The last pull's progress: how far this device has read the server's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgressView {
    pub cursor: u64,
    pub head: u64,
    pub pulled: u64,
}

/// What the status bar shows about sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatusView {
    pub signed_in: bool,
    pub online: bool,
    pub syncing: bool,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub pending: u64,
    pub rejected: u64,
    pub conflicts_open: u64,
    pub pull_progress: Option<PullProgressView>,
    pub last_error: Option<CommandError>,
    /// Counts the sync rounds that changed local data (pulled or undid changes); screens showing
    /// data reload when it moves.
    pub data_version: u64,
    /// When the local data was last verified against the server's (the checksums compared).
    #[serde(default)]
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Groups of recipients that are probably one person recorded twice (shown with the
    /// conflicts).
    #[serde(default)]
    pub duplicates: u64,
}

/// A change the server refused, kept locally with its reason until the user deals with it
/// (edits and resends it, or discards it), or one set aside (`set_aside`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedChangeView {
    pub change_id: Uuid,
    pub entity_kind_zh: String,
    pub entity_kind_en: String,
    pub entity_id: Uuid,
    /// The record's name when it is still known locally (e.g. the recipient's name).
    pub entity_label: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
    pub reason: CommandError,
    /// The record as a list names it and links to it (its kind's spec gives the field labels).
    pub record: RecordLabel,
    /// A creation or an update.
    pub op: Op,
    /// The fields as typed, in the kind's order, with their labels.
    pub fields: Vec<FieldLabel>,
    /// What was typed, by field name (as a spec-driven form sends it).
    pub values: FieldValues,
    /// The names of the records the values refer to (a village, a household), by id.
    #[serde(default)]
    pub names: BTreeMap<Uuid, String>,
    /// The fields "edit and resend" offers to change, in order; the others are sent again as
    /// they were typed (the references the use case set: station, village, person, case).
    #[serde(default)]
    pub editable: Vec<String>,
    /// Set aside, not refused: the server could not take it as sent; it keeps its local effect
    /// and is sent again from the waiting page, so it has no action here.
    #[serde(default)]
    pub set_aside: bool,
}

/// Field values as a spec-driven form sends them (`ui::form::Values`): each field's name, as in
/// the entity's `FieldSpec` (`phone`, `categories`, ...), with its JSON value: text, `true` or
/// `false`, a list of vocabulary names (`["Dibao"]`), a record's id as text. `null`, `""` and
/// `[]` clear an optional field. A file's `fields` are the stored values in the same shape.
pub type FieldValues = BTreeMap<String, Value>;

/// A record named for display: its id and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    pub id: Uuid,
    pub name: String,
}

/// Where a recipient or a household lives: the village, its service point and its station
/// (each `None` while its record has not reached this computer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceView {
    pub village: Option<NamedRef>,
    pub service_point: Option<NamedRef>,
    pub station: Option<NamedRef>,
}

/// A person's file (档案): everything the file screen shows about one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientFile {
    pub id: Uuid,
    pub name: String,
    /// The full resident ID number (the file screen shows it; the roster only its tail).
    pub id_number: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub categories: Vec<RecipientCategory>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub place: PlaceView,
    /// The household the person belongs to, with its members; `None` when not in one.
    pub household: Option<HouseholdSummary>,
    pub household_relation: Option<HouseholdRelation>,
    /// Every stored field of the recipient by name (the edit form's starting values).
    pub fields: FieldValues,
    /// The service ledger (台账): everything done for the person, newest first.
    pub ledger: Vec<LedgerItem>,
    /// Who changed the file, what, when and on which device, oldest first.
    pub history: Vec<HistoryItem>,
    /// The person's cases not closed.
    pub open_cases: Vec<CaseSummary>,
    /// The person's cases a deputy head gave to another worker, which left this computer
    /// (latest first): where each went.
    #[serde(default)]
    pub moved_cases: Vec<MovedCaseView>,
}

/// A case reassigned away from the signed-in worker: it is no longer on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedCaseView {
    pub case_id: Uuid,
    /// The stage it was at when it left.
    pub stage: Option<Stage>,
    /// The worker who has it now, by name when this computer knows them.
    pub reassigned_to: Option<String>,
    /// When this computer heard.
    pub moved_at: DateTime<Utc>,
}

/// A household in a member's file: its name and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSummary {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub members: Vec<HouseholdMember>,
}

/// One member of a household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdMember {
    pub recipient_id: Uuid,
    pub name: String,
    /// How the member relates to the head (the head is `Head`); `None` when not recorded.
    pub relation: Option<HouseholdRelation>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub categories: Vec<RecipientCategory>,
}

/// A household's file (一户一档).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdFile {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub place: PlaceView,
    /// The members, by name.
    pub members: Vec<HouseholdMember>,
    /// Every stored field of the household by name (the edit form's starting values).
    pub fields: FieldValues,
    /// The members' ledgers together, newest first; each item names its member.
    pub ledger: Vec<LedgerItem>,
    /// Who changed the household record, what and when, oldest first.
    pub history: Vec<HistoryItem>,
}

/// One line of a ledger (台账): a visit, a case opened, a case's stage record, a referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerItem {
    /// What it is (`Visit`, `Case`, `Assessment`, ...); its labels are `EntityKind::zh`/`en`.
    pub kind: EntityKind,
    pub id: Uuid,
    /// The person it was done for.
    pub recipient_id: Uuid,
    pub recipient_name: String,
    /// The case it belongs to, for a case and its stage records.
    pub case_id: Option<Uuid>,
    /// The day it was done.
    pub date: NaiveDate,
    /// Its main text (a visit's observations, a case's stage, a referral's reason...).
    pub summary: String,
    /// Who did it (the worker, the supervisor, the author).
    pub author_name: Option<String>,
    /// A visit only: the earlier visit this one corrects.
    pub amends: Option<Uuid>,
    /// A visit only: the later visit that corrects this one (this one is then shown as
    /// corrected, and kept: visits are never edited).
    pub corrected_by: Option<Uuid>,
}

/// One field as an edit set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    /// The field's label in Chinese and in English (the field's name when the spec lacks it).
    pub label_zh: String,
    pub label_en: String,
    /// The value written (`null`: cleared).
    pub value: Value,
}

/// Whether an edit has reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStatus {
    /// Made here, waiting to be sent.
    Pending,
    /// Made here and accepted by the server.
    Accepted,
    /// Made elsewhere and pulled from the server (or known only from the record itself).
    Synced,
}

/// One edit of a record, for the change history (who changed what, when, on which device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// `create` for the record's creation, `update` for an edit.
    pub op: Op,
    pub at: DateTime<Utc>,
    pub author_id: Uuid,
    pub author_name: Option<String>,
    pub device_id: Uuid,
    pub status: HistoryStatus,
    pub fields: Vec<FieldChange>,
}

/// A case in a recipient's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub case_id: Uuid,
    pub stage: Option<Stage>,
    pub closure_status: Option<ClosureStatus>,
    pub worker_name: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub stage_entered_on: Option<NaiveDate>,
}

/// A newly added household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedHousehold {
    pub id: Uuid,
    pub name: String,
}

/// A home visit (入户走访) as typed. The person (or household) visited is the command's argument.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitDraft {
    /// The day of the visit; today when absent. Never in the future.
    #[serde(default)]
    pub visited_on: Option<NaiveDate>,
    /// Who was seen, e.g. 本人及母亲 (optional).
    #[serde(default)]
    pub persons_seen: String,
    /// What was observed (required).
    pub observations: String,
    /// Needs found (optional).
    #[serde(default)]
    pub needs_found: String,
    #[serde(default)]
    pub follow_up_needed: bool,
}

/// A visit as the file and the visit list show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitView {
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub recipient_name: String,
    pub village_name: Option<String>,
    pub worker_name: Option<String>,
    pub visited_on: Option<NaiveDate>,
    pub persons_seen: Option<String>,
    pub observations: String,
    pub needs_found: Option<String>,
    pub follow_up_needed: bool,
    /// The earlier visit this one corrects.
    pub amends: Option<Uuid>,
    /// The later visit that corrects this one: shown as corrected, never removed.
    pub corrected_by: Option<Uuid>,
}
