//! Every Tauri command the shell answers, as a type: its name, what it takes and what it returns.
//!
//! Tauri passes a command's arguments as one JSON object keyed by the Rust function's parameter
//! names in camelCase (`fn set_language(language: Language)` reads `{"language": "en"}`). Each
//! command's [`Command::Args`] is that object: a struct whose fields are the parameters, in the
//! same order and with the same names; [`NoArgs`] for a command that takes none (its state
//! parameter is not an argument). A failed call carries a [`CommandError`](crate::CommandError).
//!
//! To add a command: write its `#[tauri::command]` function in the shell, register it there, and
//! add a line to [`commands!`](self) below (plus an `…Args` struct when it takes arguments).

use domain::recipient::HouseholdRelation;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::*;

mod bundle;
pub use bundle::*;
mod workforce;
pub use workforce::*;

/// A command of the shell, as a type. The UI calls it with `Args` and gets `Output` back.
pub trait Command {
    /// The name the shell registers it under (the Rust function's name).
    const NAME: &'static str;
    /// The JSON object of the function's parameters, keyed in camelCase.
    type Args: Serialize + DeserializeOwned;
    /// What the function returns on success.
    type Output: Serialize + DeserializeOwned;
}

/// The arguments of a command that takes none: serialized as `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// [`ResourceLibrary`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLibraryArgs {
    pub query: ResourceQuery,
}

/// [`ResourcePage`]'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceIdArgs {
    pub resource_id: Uuid,
}

/// [`AddResource`]'s and [`AddActivity`]'s arguments: the form's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldsArgs {
    pub fields: FieldValues,
}

/// [`UpdateResource`]'s arguments: the fields to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResourceArgs {
    pub resource_id: Uuid,
    pub fields: FieldValues,
}

/// [`ActivitiesOfMonth`]'s arguments: the month, `YYYY-MM`; `None` for this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivitiesOfMonthArgs {
    pub month: Option<String>,
}

/// [`UpdateActivity`]'s arguments: the fields to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateActivityArgs {
    pub activity_id: Uuid,
    pub fields: FieldValues,
}

/// [`SetLanguage`]'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetLanguageArgs {
    pub language: Language,
}

/// [`SignIn`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInArgs {
    pub request: SignInRequest,
}

/// [`Roster`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterArgs {
    pub query: RosterQuery,
}

/// [`AddRecipient`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddRecipientArgs {
    pub draft: RecipientDraft,
}

/// The arguments of a command about one recipient ([`RecipientFile`], [`VisitsOf`],
/// [`RemoveHouseholdMember`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientIdArgs {
    pub recipient_id: Uuid,
}

/// [`UpdateRecipient`]'s arguments: the fields to change (others are left as they are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRecipientArgs {
    pub recipient_id: Uuid,
    pub fields: FieldValues,
}

/// [`TransferRecipient`]'s arguments: the village the person moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRecipientArgs {
    pub recipient_id: Uuid,
    pub village_id: Uuid,
}

/// [`HouseholdFile`]'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HouseholdIdArgs {
    pub household_id: Uuid,
}

/// [`AddHousehold`]'s arguments: the household's fields (`village_id`, `name`, optionally
/// `address` and `notes`); its station follows the village.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddHouseholdArgs {
    pub fields: FieldValues,
}

/// [`UpdateHousehold`]'s arguments: the fields to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateHouseholdArgs {
    pub household_id: Uuid,
    pub fields: FieldValues,
}

/// [`SetHouseholdMember`]'s arguments: the person joins the household (leaving any other) with
/// this relation to its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetHouseholdMemberArgs {
    pub recipient_id: Uuid,
    pub household_id: Uuid,
    pub relation: HouseholdRelation,
}

/// [`RecordVisit`]'s arguments: the person visited and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordVisitArgs {
    pub recipient_id: Uuid,
    pub draft: VisitDraft,
}

/// [`RecordHouseholdVisit`]'s arguments: the household visited and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordHouseholdVisitArgs {
    pub household_id: Uuid,
    pub draft: VisitDraft,
}

/// [`AmendVisit`]'s arguments: the visit corrected and the corrected record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendVisitArgs {
    pub visit_id: Uuid,
    pub draft: VisitDraft,
}

/// [`OpenCase`]'s arguments: the person the case is for, and the day it was opened (today when
/// absent; never in the future).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCaseArgs {
    pub recipient_id: Uuid,
    #[serde(default)]
    pub opened_on: Option<chrono::NaiveDate>,
}

/// The arguments of a command about one case ([`CasePage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseIdArgs {
    pub case_id: Uuid,
}

/// [`SaveCaseRecord`]'s arguments: a new stage record of the case, its fields as the kind's
/// spec names them (the case, the station and the worker are set by the app), and for an
/// intervention or a follow-up visit, the earlier record it corrects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveCaseRecordArgs {
    pub case_id: Uuid,
    pub kind: CaseRecordKind,
    pub fields: FieldValues,
    #[serde(default)]
    pub amends: Option<Uuid>,
}

/// [`UpdateCaseRecord`]'s arguments: the fields of a stage record to change (a goal's
/// evaluation, a resource link's status...); others are left as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCaseRecordArgs {
    pub kind: CaseRecordKind,
    pub record_id: Uuid,
    pub fields: FieldValues,
}

/// [`MoveCase`]'s arguments: the stage the case moves to (forward one stage, or back to any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveCaseArgs {
    pub case_id: Uuid,
    pub to_stage: domain::case::Stage,
}

/// [`SetPlanStrategy`]'s arguments: the intervention strategy of the plan (`""` clears it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlanStrategyArgs {
    pub case_id: Uuid,
    pub strategy: String,
}

/// [`RequestClosure`]'s arguments: the worker's closure summary (required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestClosureArgs {
    pub case_id: Uuid,
    pub summary: String,
}

/// [`SignOffClosure`]'s arguments: the case whose closure is signed off, and the supervisor's
/// comments (optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOffClosureArgs {
    pub case_id: Uuid,
    #[serde(default)]
    pub comments: Option<String>,
}

/// [`ReturnClosure`]'s arguments: the supervisor's comments for the worker (required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnClosureArgs {
    pub case_id: Uuid,
    pub comments: String,
}

/// [`ReopenCase`]'s arguments: why the signed-off case is reopened (required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReopenCaseArgs {
    pub case_id: Uuid,
    pub reason: String,
}

/// [`ResendRejected`]'s arguments: the refused change and what the user sends instead (the
/// edit form's values, field name → value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendRejectedArgs {
    pub change_id: Uuid,
    pub fields: FieldValues,
}

/// [`DiscardRejected`]'s arguments: the refused change the user lets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscardRejectedArgs {
    pub change_id: Uuid,
}

/// [`ResolveConflict`]'s arguments: which value of which conflict to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveConflictArgs {
    pub choice: ConflictChoice,
}

/// [`CaseBoard`]'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseBoardArgs {
    pub query: CaseBoardQuery,
}

/// [`ReassignCase`]'s arguments: the case and the worker who takes it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReassignCaseArgs {
    pub case_id: Uuid,
    pub worker_id: Uuid,
}

/// [`HandOverOffers`]'s arguments: a case, or `None` for every offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandOverOffersArgs {
    pub case_id: Option<Uuid>,
}

/// [`TakeOverOffer`]'s and [`DismissOffer`]'s arguments: the offered change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferArgs {
    pub change_id: Uuid,
}

/// [`SetStallDays`]'s arguments: the station's stall threshold in days; `None` goes back to the
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetStallDaysArgs {
    pub days: Option<u32>,
}

/// [`Referrals`]' arguments: the list's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferralsArgs {
    pub query: ReferralQuery,
}

/// [`RecordReferral`]'s arguments: the form's values (the station, the state and the outcome
/// are the use case's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordReferralArgs {
    pub values: FieldValues,
}

/// [`UpdateReferral`]'s arguments: the referral and the form's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateReferralArgs {
    pub referral_id: Uuid,
    pub values: FieldValues,
}

/// [`MoveReferral`]'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveReferralArgs {
    pub referral_id: Uuid,
    pub step: ReferralStep,
}

/// [`OpenCaseFromReferral`]'s arguments: the person, when the referral names nobody on file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCaseFromReferralArgs {
    pub referral_id: Uuid,
    #[serde(default)]
    pub recipient_id: Option<Uuid>,
}

/// [`SetReferralOverdueDays`]'s arguments: days without an outcome before a referral is overdue;
/// `None` goes back to the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetReferralOverdueDaysArgs {
    pub days: Option<u32>,
}

/// Declares each command: a unit struct, its [`Command`] impl, and its name in [`ALL`].
macro_rules! commands {
    ($($(#[$meta:meta])* $command:ident = $name:literal ($args:ty) -> $output:ty;)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $command;

            impl Command for $command {
                const NAME: &'static str = $name;
                type Args = $args;
                type Output = $output;
            }
        )+

        /// Every command's name, in declaration order. The shell registers exactly these.
        pub const ALL: &[&str] = &[$($name),+];
    };
}

commands! {
    /// The language remembered from the last session.
    GetLanguage = "get_language" (NoArgs) -> Language;
    /// Remembers the language for the next start.
    SetLanguage = "set_language" (SetLanguageArgs) -> ();
    /// What the sign-in page shows before anyone signs in.
    SignInDefaults = "sign_in_defaults" (NoArgs) -> crate::dto::SignInDefaults;
    /// Signs in online (the first time on this device) or offline with the local database.
    SignIn = "sign_in" (SignInArgs) -> crate::dto::CurrentUser;
    SignOut = "sign_out" (NoArgs) -> ();
    /// The user signed in in the shell, if any (the webview may have been reloaded).
    CurrentUser = "current_user" (NoArgs) -> Option<crate::dto::CurrentUser>;
    /// The service points the user can see, each with its villages.
    ListVillages = "list_villages" (NoArgs) -> Vec<ServicePointOption>;
    /// One page of the roster.
    Roster = "roster" (RosterArgs) -> RosterPage;
    AddRecipient = "add_recipient" (AddRecipientArgs) -> AddedRecipient;
    SyncStatus = "sync_status" (NoArgs) -> SyncStatusView;
    /// Asks for a sync round now; returns the status as it is.
    SyncNow = "sync_now" (NoArgs) -> SyncStatusView;
    RejectedChanges = "rejected_changes" (NoArgs) -> Vec<RejectedChangeView>;
    /// Records what a refused change typed again, as edited (a creation when its record is no
    /// longer here, else an update), and marks the refused change dealt with. Returns the
    /// refused changes as they now stand.
    ResendRejected = "resend_rejected" (ResendRejectedArgs) -> Vec<RejectedChangeView>;
    /// Marks a refused change dealt with without sending it again (kept in the log). Returns the
    /// refused changes as they now stand.
    DiscardRejected = "discard_rejected" (DiscardRejectedArgs) -> Vec<RejectedChangeView>;
    /// What waits to be sent, and the changes set aside with their reasons.
    WaitingChanges = "waiting_changes" (NoArgs) -> crate::dto::WaitingChanges;
    /// Puts every change set aside back in the queue to be sent, and asks for a sync round.
    /// Returns how many.
    RetrySetAside = "retry_set_aside" (NoArgs) -> u64;
    /// Sync by USB stick: writes this device's outbox as a bundle file at `path` (a file, or a
    /// folder to write it in).
    ExportBundle = "export_bundle" (BundlePathArgs) -> BundleExportView;
    /// At the station, online: relays the outbox bundle at `path` to the server and writes the
    /// return bundle beside it.
    RelayBundle = "relay_bundle" (BundlePathArgs) -> BundleRelayView;
    /// Imports the return bundle at `path` on the device it was made for.
    ImportBundle = "import_bundle" (BundlePathArgs) -> BundleImportView;
    /// The open conflicts and the probable duplicates.
    Conflicts = "conflicts" (NoArgs) -> ConflictsPage;
    /// Keeps one of a conflict's two values (a write that settles the conflict). Returns the
    /// conflicts page as it now stands.
    ResolveConflict = "resolve_conflict" (ResolveConflictArgs) -> ConflictsPage;
    /// A person's file (档案): fields, household, ledger, history, open cases.
    RecipientFile = "recipient_file" (RecipientIdArgs) -> crate::dto::RecipientFile;
    /// Edits a person's fields (each checked; nothing is saved when one is wrong). Returns the
    /// file as it now stands.
    UpdateRecipient = "update_recipient" (UpdateRecipientArgs) -> crate::dto::RecipientFile;
    /// Moves a person to another village (the station follows the village).
    TransferRecipient = "transfer_recipient" (TransferRecipientArgs) -> crate::dto::RecipientFile;
    /// A household's file (一户一档): fields, members, the members' ledger, history.
    HouseholdFile = "household_file" (HouseholdIdArgs) -> crate::dto::HouseholdFile;
    AddHousehold = "add_household" (AddHouseholdArgs) -> AddedHousehold;
    /// Edits a household's fields. Returns the file as it now stands.
    UpdateHousehold = "update_household" (UpdateHouseholdArgs) -> crate::dto::HouseholdFile;
    /// Puts a person in a household with their relation to the head.
    SetHouseholdMember = "set_household_member" (SetHouseholdMemberArgs) -> ();
    /// Takes a person out of their household.
    RemoveHouseholdMember = "remove_household_member" (RecipientIdArgs) -> ();
    /// Records a home visit to a person.
    RecordVisit = "record_visit" (RecordVisitArgs) -> VisitView;
    /// Records a home visit to a household, under its head.
    RecordHouseholdVisit = "record_household_visit" (RecordHouseholdVisitArgs) -> VisitView;
    /// Corrects a visit: a new visit that amends it (visits are never edited).
    AmendVisit = "amend_visit" (AmendVisitArgs) -> VisitView;
    /// Every visit to a person, newest first, corrected ones marked.
    VisitsOf = "visits_of" (RecipientIdArgs) -> Vec<VisitView>;
    /// Opens a case for a person, at 识别对象, assigned to the signed-in worker.
    OpenCase = "open_case" (OpenCaseArgs) -> OpenedCase;
    /// The case page: the case, its stepper and records, what is missing before the next step,
    /// and the supervisor's latest decision.
    CasePage = "case_page" (CaseIdArgs) -> crate::dto::CasePage;
    /// Records a stage record of a case (a correction of an intervention or follow-up visit
    /// names the record it amends).
    SaveCaseRecord = "save_case_record" (SaveCaseRecordArgs) -> SavedCaseRecord;
    /// Edits a stage record that may change (not interventions or follow-up visits). Returns the
    /// case page as it now stands.
    UpdateCaseRecord = "update_case_record" (UpdateCaseRecordArgs) -> crate::dto::CasePage;
    /// Moves a case to another stage, as the pipeline allows. Returns the case page.
    MoveCase = "move_case" (MoveCaseArgs) -> crate::dto::CasePage;
    /// Writes the plan's intervention strategy. Returns the case page.
    SetPlanStrategy = "set_plan_strategy" (SetPlanStrategyArgs) -> crate::dto::CasePage;
    /// Asks the supervisor to close the case. Returns the case page.
    RequestClosure = "request_closure" (RequestClosureArgs) -> crate::dto::CasePage;
    /// The closure requests of every station the supervisor supervises, oldest request first.
    ClosureQueue = "closure_queue" (NoArgs) -> Vec<ClosureQueueRow>;
    /// Signs a requested closure off with this device's key (offline too); the case closes.
    /// Returns the case page.
    SignOffClosure = "sign_off_closure" (SignOffClosureArgs) -> crate::dto::CasePage;
    /// Returns a requested closure to the worker with the supervisor's comments. Returns the
    /// case page.
    ReturnClosure = "return_closure" (ReturnClosureArgs) -> crate::dto::CasePage;
    /// Reopens a signed-off case, with the reason. Returns the case page.
    ReopenCase = "reopen_case" (ReopenCaseArgs) -> crate::dto::CasePage;
    /// The case board of the signed-in deputy head's station (挂图作战).
    CaseBoard = "case_board" (CaseBoardArgs) -> crate::dto::CaseBoard;
    /// Gives a case to another worker of the station.
    ReassignCase = "reassign_case" (ReassignCaseArgs) -> ();
    /// Sets the station's stall threshold of the case board.
    SetStallDays = "set_stall_days" (SetStallDaysArgs) -> ();
    /// The supervision plans and sessions of the stations the user sees (`#/supervision`).
    SupervisionPage = "supervision_page" (NoArgs) -> crate::dto::SupervisionPage;
    /// Announces a supervision plan (the supervisor's). Returns its id.
    SaveSupervisionPlan = "save_supervision_plan" (SaveWorkforceRecordArgs) -> Uuid;
    /// Edits a supervision plan (the supervisor's own).
    UpdateSupervisionPlan = "update_supervision_plan" (UpdateWorkforceRecordArgs) -> ();
    /// Records a supervision session held (the supervisor's). Returns its id.
    SaveSupervisionSession = "save_supervision_session" (SaveWorkforceRecordArgs) -> Uuid;
    /// Writes the feedback on a session afterwards.
    SetSessionFeedback = "set_session_feedback" (SetSessionFeedbackArgs) -> ();
    /// The signed-in worker's qualification, training and working time (`#/training`).
    TrainingPage = "training_page" (NoArgs) -> crate::dto::TrainingPage;
    /// Records a training the signed-in worker took. Returns its id.
    SaveTrainingRecord = "save_training_record" (SaveWorkforceRecordArgs) -> Uuid;
    /// Edits a training the signed-in worker recorded.
    UpdateTrainingRecord = "update_training_record" (UpdateWorkforceRecordArgs) -> ();
    /// Records a stretch of the signed-in worker's working time. Returns its id.
    SaveWorkTime = "save_work_time" (SaveWorkforceRecordArgs) -> Uuid;
    /// Each station the user sees and its workers against its standards (`#/standards`).
    StandardsView = "standards_view" (NoArgs) -> crate::dto::StandardsView;
    /// Chooses the standards a station is held against (its deputy head).
    SetStandardSet = "set_standard_set" (SetStandardSetArgs) -> ();
    /// Sets a worker's qualification (the station's deputy head).
    SetQualification = "set_qualification" (SetQualificationArgs) -> ();
    /// The station's counts at a glance.
    StationDashboard = "station_dashboard" (NoArgs) -> crate::dto::StationDashboard;
    /// This device's changes refused because their case was reassigned, each as a note to hand
    /// over to the worker who has the case now.
    HandedOverChanges = "handed_over_changes" (NoArgs) -> Vec<HandedOverChange>;
    /// Other workers' changes handed over to the signed-in user (refused because the case was
    /// reassigned meanwhile): of one case, or all of them.
    HandOverOffers = "hand_over_offers" (HandOverOffersArgs) -> Vec<crate::dto::HandOverOffer>;
    /// Takes an offered change over: its content recorded as the user's own change.
    TakeOverOffer = "take_over_offer" (OfferArgs) -> ();
    /// Dismisses an offered change.
    DismissOffer = "dismiss_offer" (OfferArgs) -> ();
    /// The station's referrals (转介), newest first, filtered by direction, state and purpose.
    Referrals = "referrals" (ReferralsArgs) -> ReferralList;
    /// Records a referral (inbound or outbound, a benefit application among them) at its first
    /// step.
    RecordReferral = "record_referral" (RecordReferralArgs) -> ReferralRow;
    /// Moves a referral on to its next step (accepted, declined, acknowledged, concluded with
    /// the outcome reported).
    MoveReferral = "move_referral" (MoveReferralArgs) -> ReferralRow;
    /// Edits a referral's text, and names the person on file when it named nobody.
    UpdateReferral = "update_referral" (UpdateReferralArgs) -> ReferralRow;
    /// Opens a case at 识别对象 from an inbound referral, and marks the referral "case opened"
    /// with it, in one write.
    OpenCaseFromReferral = "open_case_from_referral" (OpenCaseFromReferralArgs) -> OpenedCase;
    /// The station's referrals without an outcome past its threshold (the deputy head's board).
    OverdueReferrals = "overdue_referrals" (NoArgs) -> crate::dto::OverdueReferrals;
    /// Sets the station's days before a referral without an outcome is overdue.
    SetReferralOverdueDays = "set_referral_overdue_days" (SetReferralOverdueDaysArgs) -> ();
    /// The station's resource library (资源库), searched by name, pinyin initials, what a
    /// resource offers or a village it serves, and by kind.
    ResourceLibrary = "resource_library" (ResourceLibraryArgs) -> Vec<ResourceRow>;
    /// A resource's page: its facts and the cases and recipients it helped.
    ResourcePage = "resource_page" (ResourceIdArgs) -> crate::dto::ResourcePage;
    /// Adds a resource to the station's library. Returns its page.
    AddResource = "add_resource" (FieldsArgs) -> crate::dto::ResourcePage;
    /// Edits a resource. Returns its page as it now stands.
    UpdateResource = "update_resource" (UpdateResourceArgs) -> crate::dto::ResourcePage;
    /// A month of the station's activities (活动), with what the activity form offers to pick.
    ActivitiesOfMonth = "activities_of_month" (ActivitiesOfMonthArgs) -> ActivitiesMonth;
    /// Records an activity.
    AddActivity = "add_activity" (FieldsArgs) -> ActivityView;
    /// Edits an activity.
    UpdateActivity = "update_activity" (UpdateActivityArgs) -> ActivityView;
    /// The stations the user may see reports of (a deputy head's own, a supervisor's).
    ReportStations = "report_stations" (NoArgs) -> Vec<NamedRef>;
    /// A station's report for a month, a quarter or a year, to preview.
    StationReport = "station_report" (StationReportArgs) -> Report;
    /// Writes a station's report as `.xlsx` or PDF into the reports folder.
    ExportStationReport = "export_station_report" (ExportStationReportArgs) -> ExportedFile;
    /// A station's charts: visits per month and cases per stage at each month's end.
    StationChartsOf = "station_charts" (StationChartsArgs) -> StationCharts;
    /// Prints a person's file to PDF in the reports folder.
    PrintRecipientFile = "print_recipient_file" (RecipientIdArgs) -> ExportedFile;
    /// Prints a closed case to PDF in the reports folder.
    PrintClosedCase = "print_closed_case" (CaseIdArgs) -> ExportedFile;
}

#[cfg(test)]
mod tests {
    use domain::recipient::RecipientCategory;
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;

    /// The JSON the shell reads for `args`, and that it reads back into the same value.
    fn check<C: Command>(args: C::Args, expected: Value)
    where
        C::Args: PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_value(&args).expect("serializes");
        assert_eq!(json, expected, "{}", C::NAME);
        let back: C::Args = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, args, "{}", C::NAME);
    }

    #[test]
    fn library_and_activity_arguments_are_keyed_by_the_parameter_names() {
        use domain::referral::ResourceKind;
        let id = Uuid::from_u128(9);
        check::<ResourceLibrary>(
            ResourceLibraryArgs { query: ResourceQuery { text: "cs".into(), kind: Some(ResourceKind::Charity) } },
            json!({ "query": { "text": "cs", "kind": "Charity" } }),
        );
        check::<ResourcePage>(ResourceIdArgs { resource_id: id }, json!({ "resourceId": id.to_string() }));
        let fields: FieldValues = [("name".to_string(), json!("爱心基金会"))].into_iter().collect();
        check::<AddResource>(FieldsArgs { fields: fields.clone() }, json!({ "fields": { "name": "爱心基金会" } }));
        check::<UpdateResource>(
            UpdateResourceArgs { resource_id: id, fields: fields.clone() },
            json!({ "resourceId": id.to_string(), "fields": { "name": "爱心基金会" } }),
        );
        check::<ActivitiesOfMonth>(
            ActivitiesOfMonthArgs { month: Some("2026-11".into()) },
            json!({ "month": "2026-11" }),
        );
        check::<AddActivity>(FieldsArgs { fields: fields.clone() }, json!({ "fields": { "name": "爱心基金会" } }));
        check::<UpdateActivity>(
            UpdateActivityArgs { activity_id: id, fields },
            json!({ "activityId": id.to_string(), "fields": { "name": "爱心基金会" } }),
        );
    }

    #[test]
    fn arguments_are_objects_keyed_by_the_parameter_names() {
        check::<GetLanguage>(NoArgs {}, json!({}));
        check::<SetLanguage>(SetLanguageArgs { language: Language::En }, json!({ "language": "en" }));
        check::<SignInDefaults>(NoArgs {}, json!({}));
        check::<SignIn>(
            SignInArgs {
                request: SignInRequest {
                    username: "shegong1".into(),
                    password: "pw".into(),
                    server_url: Some("http://127.0.0.1:7878".into()),
                },
            },
            json!({ "request": { "username": "shegong1", "password": "pw", "server_url": "http://127.0.0.1:7878" } }),
        );
        check::<SignOut>(NoArgs {}, json!({}));
        check::<CurrentUser>(NoArgs {}, json!({}));
        check::<ListVillages>(NoArgs {}, json!({}));
        check::<Roster>(
            RosterArgs {
                query: RosterQuery {
                    category: Some(RecipientCategory::Dibao),
                    village_id: None,
                    service_point_id: None,
                    search_kind: Some(SearchKind::IdSuffix),
                    search_text: "1234".into(),
                    page: 2,
                    page_size: 50,
                },
            },
            json!({ "query": {
                "category": "Dibao", "village_id": null, "service_point_id": null, "search_kind": "id_suffix",
                "search_text": "1234", "page": 2, "page_size": 50,
            } }),
        );
        let village = Uuid::from_u128(7);
        check::<AddRecipient>(
            AddRecipientArgs {
                draft: RecipientDraft {
                    name: "王测试".into(),
                    id_number: "440524195801010018".into(),
                    categories: vec![RecipientCategory::Dibao],
                    village_id: Some(village),
                    phone: String::new(),
                },
            },
            json!({ "draft": {
                "name": "王测试", "id_number": "440524195801010018", "categories": ["Dibao"],
                "village_id": village.to_string(), "phone": "",
            } }),
        );
        check::<SyncStatus>(NoArgs {}, json!({}));
        check::<SyncNow>(NoArgs {}, json!({}));
        check::<RejectedChanges>(NoArgs {}, json!({}));
        let refused = Uuid::from_u128(21);
        check::<ResendRejected>(
            ResendRejectedArgs {
                change_id: refused,
                fields: FieldValues::from([("phone".to_string(), json!("13800138000"))]),
            },
            json!({ "changeId": refused.to_string(), "fields": { "phone": "13800138000" } }),
        );
        check::<DiscardRejected>(
            DiscardRejectedArgs { change_id: refused },
            json!({ "changeId": refused.to_string() }),
        );
        check::<WaitingChanges>(NoArgs {}, json!({}));
        check::<RetrySetAside>(NoArgs {}, json!({}));
        let path = "/media/u盘/社工-同步包.sgbundle".to_string();
        check::<ExportBundle>(BundlePathArgs { path: path.clone() }, json!({ "path": path }));
        check::<RelayBundle>(BundlePathArgs { path: path.clone() }, json!({ "path": path }));
        check::<ImportBundle>(BundlePathArgs { path: path.clone() }, json!({ "path": path }));
        check::<Conflicts>(NoArgs {}, json!({}));
        let (record, device) = (Uuid::from_u128(11), Uuid::from_u128(12));
        let (lost, current) = (domain::hlc::Hlc::new(1_000, 0, device), domain::hlc::Hlc::new(2_000, 1, device));
        check::<ResolveConflict>(
            ResolveConflictArgs {
                choice: ConflictChoice {
                    entity_kind: domain::entity::EntityKind::Recipient,
                    entity_id: record,
                    field: "phone".into(),
                    lost_hlc: lost,
                    current_hlc: current,
                    keep: KeepValue::Lost,
                    typed: None,
                },
            },
            json!({ "choice": {
                "entity_kind": "Recipient", "entity_id": record.to_string(), "field": "phone",
                "lost_hlc": lost.to_string(), "current_hlc": current.to_string(), "keep": "lost",
            } }),
        );
        check::<ResolveConflict>(
            ResolveConflictArgs {
                choice: ConflictChoice {
                    entity_kind: domain::entity::EntityKind::Recipient,
                    entity_id: record,
                    field: "phone".into(),
                    lost_hlc: lost,
                    current_hlc: current,
                    keep: KeepValue::Typed,
                    typed: Some(json!("13700137000")),
                },
            },
            json!({ "choice": {
                "entity_kind": "Recipient", "entity_id": record.to_string(), "field": "phone",
                "lost_hlc": lost.to_string(), "current_hlc": current.to_string(), "keep": "typed",
                "typed": "13700137000",
            } }),
        );
        let (person, household, visit) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        check::<RecipientFile>(RecipientIdArgs { recipient_id: person }, json!({ "recipientId": person.to_string() }));
        check::<UpdateRecipient>(
            UpdateRecipientArgs {
                recipient_id: person,
                fields: FieldValues::from([("phone".to_string(), json!("13800138000"))]),
            },
            json!({ "recipientId": person.to_string(), "fields": { "phone": "13800138000" } }),
        );
        check::<TransferRecipient>(
            TransferRecipientArgs { recipient_id: person, village_id: village },
            json!({ "recipientId": person.to_string(), "villageId": village.to_string() }),
        );
        check::<HouseholdFile>(
            HouseholdIdArgs { household_id: household },
            json!({ "householdId": household.to_string() }),
        );
        check::<AddHousehold>(
            AddHouseholdArgs { fields: FieldValues::from([("name".to_string(), json!("张三户"))]) },
            json!({ "fields": { "name": "张三户" } }),
        );
        check::<UpdateHousehold>(
            UpdateHouseholdArgs { household_id: household, fields: FieldValues::new() },
            json!({ "householdId": household.to_string(), "fields": {} }),
        );
        check::<SetHouseholdMember>(
            SetHouseholdMemberArgs {
                recipient_id: person,
                household_id: household,
                relation: HouseholdRelation::Spouse,
            },
            json!({ "recipientId": person.to_string(), "householdId": household.to_string(), "relation": "Spouse" }),
        );
        check::<RemoveHouseholdMember>(
            RecipientIdArgs { recipient_id: person },
            json!({ "recipientId": person.to_string() }),
        );
        let draft = VisitDraft {
            visited_on: None,
            persons_seen: "本人".into(),
            observations: "身体尚可".into(),
            needs_found: String::new(),
            follow_up_needed: true,
        };
        let draft_json = json!({
            "visited_on": null, "persons_seen": "本人", "observations": "身体尚可", "needs_found": "",
            "follow_up_needed": true,
        });
        check::<RecordVisit>(
            RecordVisitArgs { recipient_id: person, draft: draft.clone() },
            json!({ "recipientId": person.to_string(), "draft": draft_json.clone() }),
        );
        check::<RecordHouseholdVisit>(
            RecordHouseholdVisitArgs { household_id: household, draft: draft.clone() },
            json!({ "householdId": household.to_string(), "draft": draft_json.clone() }),
        );
        check::<AmendVisit>(
            AmendVisitArgs { visit_id: visit, draft },
            json!({ "visitId": visit.to_string(), "draft": draft_json }),
        );
        check::<VisitsOf>(RecipientIdArgs { recipient_id: person }, json!({ "recipientId": person.to_string() }));
    }

    #[test]
    fn case_arguments_are_objects_keyed_by_the_parameter_names() {
        let (case, person, record) = (Uuid::from_u128(11), Uuid::from_u128(12), Uuid::from_u128(13));
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        check::<OpenCase>(
            OpenCaseArgs { recipient_id: person, opened_on: Some(day) },
            json!({ "recipientId": person.to_string(), "openedOn": "2026-11-25" }),
        );
        check::<CasePage>(CaseIdArgs { case_id: case }, json!({ "caseId": case.to_string() }));
        check::<SaveCaseRecord>(
            SaveCaseRecordArgs {
                case_id: case,
                kind: CaseRecordKind::FollowUp,
                fields: FieldValues::from([("notes".to_string(), json!("情况稳定"))]),
                amends: Some(record),
            },
            json!({
                "caseId": case.to_string(), "kind": "follow_up", "fields": { "notes": "情况稳定" },
                "amends": record.to_string(),
            }),
        );
        check::<UpdateCaseRecord>(
            UpdateCaseRecordArgs {
                kind: CaseRecordKind::Goal,
                record_id: record,
                fields: FieldValues::from([("evaluation".to_string(), json!("Achieved"))]),
            },
            json!({ "kind": "goal", "recordId": record.to_string(), "fields": { "evaluation": "Achieved" } }),
        );
        check::<MoveCase>(
            MoveCaseArgs { case_id: case, to_stage: domain::case::Stage::FollowUp },
            json!({ "caseId": case.to_string(), "toStage": "FollowUp" }),
        );
        check::<SetPlanStrategy>(
            SetPlanStrategyArgs { case_id: case, strategy: "陪伴与资源链接".into() },
            json!({ "caseId": case.to_string(), "strategy": "陪伴与资源链接" }),
        );
        check::<RequestClosure>(
            RequestClosureArgs { case_id: case, summary: "目标达成".into() },
            json!({ "caseId": case.to_string(), "summary": "目标达成" }),
        );
        check::<ClosureQueue>(NoArgs {}, json!({}));
        check::<SignOffClosure>(
            SignOffClosureArgs { case_id: case, comments: Some("同意结案".into()) },
            json!({ "caseId": case.to_string(), "comments": "同意结案" }),
        );
        check::<ReturnClosure>(
            ReturnClosureArgs { case_id: case, comments: "请补充回访记录".into() },
            json!({ "caseId": case.to_string(), "comments": "请补充回访记录" }),
        );
        check::<ReopenCase>(
            ReopenCaseArgs { case_id: case, reason: "服务对象情况反复".into() },
            json!({ "caseId": case.to_string(), "reason": "服务对象情况反复" }),
        );
        let signed: SignOffClosureArgs =
            serde_json::from_value(json!({ "caseId": case.to_string() })).expect("reads without comments");
        assert_eq!(signed.comments, None);
        // What older forms leave out reads as absent.
        let opened: OpenCaseArgs = serde_json::from_value(json!({ "recipientId": person.to_string() })).expect("reads");
        assert_eq!(opened.opened_on, None);
    }

    #[test]
    fn board_arguments_are_objects_keyed_by_the_parameter_names() {
        let (case, worker, village) = (Uuid::from_u128(21), Uuid::from_u128(22), Uuid::from_u128(23));
        let query = CaseBoardQuery {
            worker_id: Some(worker),
            village_id: Some(village),
            category: Some(RecipientCategory::Dibao),
            risk_level: Some(domain::case::RiskLevel::High),
            include_closed: false,
            shown_per_column: 60,
        };
        check::<CaseBoard>(
            CaseBoardArgs { query },
            json!({ "query": {
                "worker_id": worker.to_string(), "village_id": village.to_string(), "category": "Dibao",
                "risk_level": "High", "include_closed": false, "shown_per_column": 60,
            } }),
        );
        check::<ReassignCase>(
            ReassignCaseArgs { case_id: case, worker_id: worker },
            json!({ "caseId": case.to_string(), "workerId": worker.to_string() }),
        );
        check::<SetStallDays>(SetStallDaysArgs { days: Some(45) }, json!({ "days": 45 }));
        check::<SetStallDays>(SetStallDaysArgs { days: None }, json!({ "days": null }));
        check::<StationDashboard>(NoArgs {}, json!({}));
        check::<HandedOverChanges>(NoArgs {}, json!({}));
        check::<HandOverOffers>(HandOverOffersArgs { case_id: Some(case) }, json!({ "caseId": case.to_string() }));
        check::<HandOverOffers>(HandOverOffersArgs { case_id: None }, json!({ "caseId": null }));
        check::<TakeOverOffer>(OfferArgs { change_id: case }, json!({ "changeId": case.to_string() }));
        check::<DismissOffer>(OfferArgs { change_id: case }, json!({ "changeId": case.to_string() }));
        // An empty query is the whole board.
        let empty: CaseBoardQuery = serde_json::from_value(json!({})).expect("reads");
        assert_eq!(empty, CaseBoardQuery::default());
    }

    #[test]
    fn referral_commands_take_their_parameters_by_name() {
        use domain::referral::{ReferralDirection, ReferralOutcome, ReferralState};
        let referral = Uuid::from_u128(31);
        let person = Uuid::from_u128(32);
        check::<Referrals>(
            ReferralsArgs {
                query: ReferralQuery { direction: Some(ReferralDirection::Inbound), state: None, purpose: None },
            },
            json!({ "query": { "direction": "Inbound", "state": null, "purpose": null } }),
        );
        let empty: ReferralQuery = serde_json::from_value(json!({})).expect("reads");
        assert_eq!(empty, ReferralQuery::default(), "an empty query is every referral");
        check::<RecordReferral>(
            RecordReferralArgs { values: FieldValues::from([("reason".to_string(), json!("独居老人"))]) },
            json!({ "values": { "reason": "独居老人" } }),
        );
        check::<UpdateReferral>(
            UpdateReferralArgs {
                referral_id: referral,
                values: FieldValues::from([("reason".to_string(), json!("独居老人无人照料"))]),
            },
            json!({ "referralId": referral.to_string(), "values": { "reason": "独居老人无人照料" } }),
        );
        check::<MoveReferral>(
            MoveReferralArgs {
                referral_id: referral,
                step: ReferralStep {
                    state: ReferralState::Concluded,
                    on: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
                    outcome: Some(ReferralOutcome::Resolved),
                    notes: "民政办已办结".into(),
                },
            },
            json!({ "referralId": referral.to_string(), "step": {
                "state": "Concluded", "on": "2026-11-20", "outcome": "Resolved", "notes": "民政办已办结",
            } }),
        );
        check::<OpenCaseFromReferral>(
            OpenCaseFromReferralArgs { referral_id: referral, recipient_id: Some(person) },
            json!({ "referralId": referral.to_string(), "recipientId": person.to_string() }),
        );
        check::<OverdueReferrals>(NoArgs {}, json!({}));
        check::<SetReferralOverdueDays>(SetReferralOverdueDaysArgs { days: Some(20) }, json!({ "days": 20 }));
    }

    #[test]
    fn every_command_is_listed_once_under_its_function_name() {
        let names = [
            GetLanguage::NAME,
            SetLanguage::NAME,
            SignInDefaults::NAME,
            SignIn::NAME,
            SignOut::NAME,
            CurrentUser::NAME,
            ListVillages::NAME,
            Roster::NAME,
            AddRecipient::NAME,
            SyncStatus::NAME,
            SyncNow::NAME,
            RejectedChanges::NAME,
            ResendRejected::NAME,
            DiscardRejected::NAME,
            WaitingChanges::NAME,
            RetrySetAside::NAME,
            ExportBundle::NAME,
            RelayBundle::NAME,
            ImportBundle::NAME,
            Conflicts::NAME,
            ResolveConflict::NAME,
            RecipientFile::NAME,
            UpdateRecipient::NAME,
            TransferRecipient::NAME,
            HouseholdFile::NAME,
            AddHousehold::NAME,
            UpdateHousehold::NAME,
            SetHouseholdMember::NAME,
            RemoveHouseholdMember::NAME,
            RecordVisit::NAME,
            RecordHouseholdVisit::NAME,
            AmendVisit::NAME,
            VisitsOf::NAME,
            OpenCase::NAME,
            CasePage::NAME,
            SaveCaseRecord::NAME,
            UpdateCaseRecord::NAME,
            MoveCase::NAME,
            SetPlanStrategy::NAME,
            RequestClosure::NAME,
            ClosureQueue::NAME,
            SignOffClosure::NAME,
            ReturnClosure::NAME,
            ReopenCase::NAME,
            CaseBoard::NAME,
            ReassignCase::NAME,
            SetStallDays::NAME,
            SupervisionPage::NAME,
            SaveSupervisionPlan::NAME,
            UpdateSupervisionPlan::NAME,
            SaveSupervisionSession::NAME,
            SetSessionFeedback::NAME,
            TrainingPage::NAME,
            SaveTrainingRecord::NAME,
            UpdateTrainingRecord::NAME,
            SaveWorkTime::NAME,
            StandardsView::NAME,
            SetStandardSet::NAME,
            SetQualification::NAME,
            StationDashboard::NAME,
            HandedOverChanges::NAME,
            HandOverOffers::NAME,
            TakeOverOffer::NAME,
            DismissOffer::NAME,
            Referrals::NAME,
            RecordReferral::NAME,
            MoveReferral::NAME,
            UpdateReferral::NAME,
            OpenCaseFromReferral::NAME,
            OverdueReferrals::NAME,
            SetReferralOverdueDays::NAME,
            ResourceLibrary::NAME,
            ResourcePage::NAME,
            AddResource::NAME,
            UpdateResource::NAME,
            ActivitiesOfMonth::NAME,
            AddActivity::NAME,
            UpdateActivity::NAME,
            ReportStations::NAME,
            StationReport::NAME,
            ExportStationReport::NAME,
            StationChartsOf::NAME,
            PrintRecipientFile::NAME,
            PrintClosedCase::NAME,
        ];
        assert_eq!(ALL, names.as_slice());
        let mut unique = ALL.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL.len(), "a name is listed twice: {ALL:?}");
        for name in ALL {
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name} is not a Rust function name in snake_case"
            );
        }
    }

    /// What commands without a value return (`()`) is JSON `null`, as Tauri sends it.
    #[test]
    fn results_without_a_value_read_from_null() {
        let unit = serde_json::from_value::<<SetLanguage as Command>::Output>(Value::Null);
        assert!(unit.is_ok(), "null reads as (): {unit:?}");
        let nobody: <CurrentUser as Command>::Output = serde_json::from_value(Value::Null).expect("null reads as None");
        assert_eq!(nobody, None);
    }
}
