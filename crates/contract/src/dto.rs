//! The types each command takes and returns, as JSON: what the UI shows and sends. They may only
//! use crates both sides have: serde, chrono, uuid and `domain`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::org::RoleKind;
use domain::recipient::{Gender, RecipientCategory};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

/// A change the server refused, kept locally with its reason.
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
}
