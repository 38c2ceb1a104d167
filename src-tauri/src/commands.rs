//! The Tauri commands the UI calls, one per command of `contract::ALL`. Each is a few lines: it
//! takes the app's state, calls one use case of the `app` crate on a blocking thread (never on
//! the async runtime), and, when the use case wrote, counts the outbox again and wakes the sync
//! thread. No rule is decided here; errors become [`CommandError`]s in `app::error`.

use app::{Account, AppError, Moment};
use domain::recipient::HouseholdRelation;
use tauri::State;
use uuid::Uuid;

use crate::dto::*;
use crate::{AppState, Inner, lock, settings, sync_task};

/// Runs `work` on a blocking thread with the app's state.
async fn blocking<T: Send + 'static>(
    state: &State<'_, AppState>,
    work: impl FnOnce(&Inner) -> Result<T, AppError> + Send + 'static,
) -> Result<T, CommandError> {
    let inner = state.0.clone();
    tauri::async_runtime::spawn_blocking(move || work(&inner))
        .await
        .map_err(|e| AppError::Internal(format!("command task failed: {e}")))?
        .map_err(CommandError::from)
}

/// Runs `work` with the signed-in account. How long the command waited for the account and
/// how long it ran are logged (`debug`; `info` when slow), under the command's name.
fn with_account<T>(
    inner: &Inner,
    command: &'static str,
    work: impl FnOnce(&mut Account) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let asked = std::time::Instant::now();
    let mut guard = lock(&inner.account);
    let account = guard.as_mut().ok_or(AppError::NotSignedIn)?;
    let started = std::time::Instant::now();
    let done = work(account);
    let (waited_ms, ran_ms) = (ms(started - asked), ms(started.elapsed()));
    if waited_ms + ran_ms >= SLOW_COMMAND_MS {
        tracing::info!(command, waited_ms, ran_ms, "slow command");
    } else {
        tracing::debug!(command, waited_ms, ran_ms, "command");
    }
    done
}

/// A command whose wait and run together take this long is logged as slow.
const SLOW_COMMAND_MS: f64 = 200.0;

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The name of the command a use case's closure was written in:
/// `shegong_desktop::commands::case_board::{{closure}}` → `case_board`.
fn command_name(type_name: &'static str) -> &'static str {
    let path = type_name.split("::{{closure}}").next().unwrap_or(type_name);
    path.rsplit("::").next().unwrap_or(path)
}

/// A use case that only reads, with the signed-in account.
async fn read<T: Send + 'static, F>(state: &State<'_, AppState>, work: F) -> Result<T, CommandError>
where
    F: FnOnce(&Account) -> Result<T, AppError> + Send + 'static,
{
    let command = command_name(std::any::type_name::<F>());
    blocking(state, move |inner| with_account(inner, command, |account| work(account))).await
}

/// A use case that writes, with the signed-in account: afterwards the status bar's counts are
/// brought up to date and the change is sent right away when the server can be reached.
async fn write<T: Send + 'static, F>(state: &State<'_, AppState>, work: F) -> Result<T, CommandError>
where
    F: FnOnce(&mut Account) -> Result<T, AppError> + Send + 'static,
{
    let command = command_name(std::any::type_name::<F>());
    let done = blocking(state, move |inner| {
        with_account(inner, command, |account| {
            let done = work(account)?;
            sync_task::refresh_counts(inner, account);
            Ok(done)
        })
    })
    .await?;
    state.0.wake_sync();
    Ok(done)
}

#[tauri::command]
pub fn get_language(state: State<'_, AppState>) -> Language {
    lock(&state.0.settings).language
}

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, language: Language) -> Result<(), CommandError> {
    blocking(&state, move |inner| {
        let mut settings = lock(&inner.settings);
        settings.language = language;
        settings::save(&inner.config_dir, &settings)?;
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn sign_in_defaults(state: State<'_, AppState>) -> Result<SignInDefaults, CommandError> {
    blocking(&state, |inner| {
        Ok(SignInDefaults {
            server_url: inner.default_server_url.clone(),
            local_users: app::account::local_usernames(&inner.data_dir),
        })
    })
    .await
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, request: SignInRequest) -> Result<CurrentUser, CommandError> {
    blocking(&state, move |inner| {
        // Whoever was signed in is signed out first: one account open at a time.
        lock(&inner.account).take();
        let started = std::time::Instant::now();
        let account = app::account::sign_in(&inner.data_dir, &request, &inner.default_server_url)?;
        tracing::debug!(ms = ms(started.elapsed()), "the account is open");
        let user = account.user.clone();
        *lock(&inner.account) = Some(account);
        sync_task::update_status(inner, |s| *s = SyncStatusView { signed_in: true, ..SyncStatusView::default() });
        // Online, the first round runs now, so the roster is filled when the sign-in page goes
        // away. Offline (the server did not answer the sign-in just now) the local database has
        // what was synced before: the sync task tries again in the background, and the roster
        // shows at once.
        if user.online_sign_in {
            if let Err(e) = sync_task::run_round(inner) {
                tracing::info!(error = %e, "no sync at sign-in");
            }
        } else {
            inner.wake_sync();
        }
        // The round may have brought the user's station (its name is shown).
        Ok(lock(&inner.account).as_ref().map_or(user, |a| a.user.clone()))
    })
    .await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), CommandError> {
    blocking(&state, |inner| {
        // Taken out first: the server is asked (briefly) without holding the account's lock.
        let account = lock(&inner.account).take();
        if let Some(mut account) = account
            && let Err(e) = account.sign_out()
        {
            tracing::error!(error = %e, "could not remove the session from the database");
        }
        sync_task::update_status(inner, |s| *s = SyncStatusView::default());
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn current_user(state: State<'_, AppState>) -> Result<Option<CurrentUser>, CommandError> {
    blocking(&state, |inner| Ok(lock(&inner.account).as_ref().map(|a| a.user.clone()))).await
}

#[tauri::command]
pub async fn list_villages(state: State<'_, AppState>) -> Result<Vec<ServicePointOption>, CommandError> {
    read(&state, |account| app::places::service_points(&account.store)).await
}

#[tauri::command]
pub async fn roster(state: State<'_, AppState>, query: RosterQuery) -> Result<RosterPage, CommandError> {
    read(&state, move |account| app::roster::roster(&account.store, &query)).await
}

#[tauri::command]
pub async fn add_recipient(state: State<'_, AppState>, draft: RecipientDraft) -> Result<AddedRecipient, CommandError> {
    write(&state, move |a| app::recipient::add_recipient(&mut a.store, &a.actor, &draft, Moment::current())).await
}

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> SyncStatusView {
    lock(&state.0.status).clone()
}

#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) -> SyncStatusView {
    state.0.wake_sync();
    lock(&state.0.status).clone()
}

#[tauri::command]
pub async fn rejected_changes(state: State<'_, AppState>) -> Result<Vec<RejectedChangeView>, CommandError> {
    read(&state, |account| app::refused::rejected_changes(&account.store)).await
}

#[tauri::command]
pub async fn resend_rejected(
    state: State<'_, AppState>,
    change_id: Uuid,
    fields: FieldValues,
) -> Result<Vec<RejectedChangeView>, CommandError> {
    write(&state, move |a| app::refused::resend_rejected(&mut a.store, &a.actor, change_id, &fields, Moment::current()))
        .await
}

#[tauri::command]
pub async fn discard_rejected(
    state: State<'_, AppState>,
    change_id: Uuid,
) -> Result<Vec<RejectedChangeView>, CommandError> {
    write(&state, move |a| app::refused::discard_rejected(&mut a.store, change_id, Moment::current())).await
}

#[tauri::command]
pub async fn waiting_changes(state: State<'_, AppState>) -> Result<WaitingChanges, CommandError> {
    read(&state, |account| app::sync_view::waiting_changes(&account.store)).await
}

#[tauri::command]
pub async fn retry_set_aside(state: State<'_, AppState>) -> Result<u64, CommandError> {
    write(&state, |a| app::sync_view::retry_set_aside(&mut a.store)).await
}

/// Sync by USB stick: the outbox written as a bundle file (nothing changes on the laptop).
#[tauri::command]
pub async fn export_bundle(state: State<'_, AppState>, path: String) -> Result<BundleExportView, CommandError> {
    read(&state, move |a| app::bundle::export_bundle(a, &path, Moment::current())).await
}

/// At the station, online: relays a device's bundle and writes its return bundle beside it.
#[tauri::command]
pub async fn relay_bundle(state: State<'_, AppState>, path: String) -> Result<BundleRelayView, CommandError> {
    write(&state, move |a| app::bundle::relay_bundle(a, &path)).await
}

/// Imports the return bundle made for this device.
#[tauri::command]
pub async fn import_bundle(state: State<'_, AppState>, path: String) -> Result<BundleImportView, CommandError> {
    write(&state, move |a| app::bundle::import_bundle(a, &path)).await
}

#[tauri::command]
pub async fn conflicts(state: State<'_, AppState>) -> Result<ConflictsPage, CommandError> {
    read(&state, |account| app::conflicts::conflicts_page(&account.store)).await
}

#[tauri::command]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    choice: ConflictChoice,
) -> Result<ConflictsPage, CommandError> {
    write(&state, move |a| app::conflicts::resolve_conflict(&mut a.store, &a.actor, &choice, Moment::current())).await
}

#[tauri::command]
pub async fn recipient_file(state: State<'_, AppState>, recipient_id: Uuid) -> Result<RecipientFile, CommandError> {
    read(&state, move |account| app::recipient::recipient_file(&account.store, recipient_id)).await
}

#[tauri::command]
pub async fn update_recipient(
    state: State<'_, AppState>,
    recipient_id: Uuid,
    fields: FieldValues,
) -> Result<RecipientFile, CommandError> {
    write(&state, move |a| {
        app::recipient::update_recipient(&mut a.store, &a.actor, recipient_id, &fields, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn transfer_recipient(
    state: State<'_, AppState>,
    recipient_id: Uuid,
    village_id: Uuid,
) -> Result<RecipientFile, CommandError> {
    write(&state, move |a| {
        app::recipient::transfer_recipient(&mut a.store, &a.actor, recipient_id, village_id, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn household_file(state: State<'_, AppState>, household_id: Uuid) -> Result<HouseholdFile, CommandError> {
    read(&state, move |account| app::household::household_file(&account.store, household_id)).await
}

#[tauri::command]
pub async fn add_household(state: State<'_, AppState>, fields: FieldValues) -> Result<AddedHousehold, CommandError> {
    write(&state, move |a| app::household::add_household(&mut a.store, &a.actor, &fields, Moment::current())).await
}

#[tauri::command]
pub async fn update_household(
    state: State<'_, AppState>,
    household_id: Uuid,
    fields: FieldValues,
) -> Result<HouseholdFile, CommandError> {
    write(&state, move |a| {
        app::household::update_household(&mut a.store, &a.actor, household_id, &fields, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn set_household_member(
    state: State<'_, AppState>,
    recipient_id: Uuid,
    household_id: Uuid,
    relation: HouseholdRelation,
) -> Result<(), CommandError> {
    write(&state, move |a| {
        let at = Moment::current();
        app::household::set_household_member(&mut a.store, &a.actor, recipient_id, household_id, relation, at)
    })
    .await
}

#[tauri::command]
pub async fn remove_household_member(state: State<'_, AppState>, recipient_id: Uuid) -> Result<(), CommandError> {
    write(&state, move |a| {
        app::household::remove_household_member(&mut a.store, &a.actor, recipient_id, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn record_visit(
    state: State<'_, AppState>,
    recipient_id: Uuid,
    draft: VisitDraft,
) -> Result<VisitView, CommandError> {
    write(&state, move |a| app::visit::record_visit(&mut a.store, &a.actor, recipient_id, &draft, Moment::current()))
        .await
}

#[tauri::command]
pub async fn record_household_visit(
    state: State<'_, AppState>,
    household_id: Uuid,
    draft: VisitDraft,
) -> Result<VisitView, CommandError> {
    write(&state, move |a| {
        app::visit::record_household_visit(&mut a.store, &a.actor, household_id, &draft, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn amend_visit(
    state: State<'_, AppState>,
    visit_id: Uuid,
    draft: VisitDraft,
) -> Result<VisitView, CommandError> {
    write(&state, move |a| app::visit::amend_visit(&mut a.store, &a.actor, visit_id, &draft, Moment::current())).await
}

#[tauri::command]
pub async fn visits_of(state: State<'_, AppState>, recipient_id: Uuid) -> Result<Vec<VisitView>, CommandError> {
    read(&state, move |account| app::visit::visits_of(&account.store, recipient_id)).await
}

#[tauri::command]
pub async fn open_case(
    state: State<'_, AppState>,
    recipient_id: Uuid,
    opened_on: Option<chrono::NaiveDate>,
) -> Result<OpenedCase, CommandError> {
    write(&state, move |a| app::case::open_case(&mut a.store, &a.actor, recipient_id, opened_on, Moment::current()))
        .await
}

#[tauri::command]
pub async fn case_page(state: State<'_, AppState>, case_id: Uuid) -> Result<CasePage, CommandError> {
    read(&state, move |a| app::case::case_page(&a.store, &a.actor, case_id)).await
}

#[tauri::command]
pub async fn save_case_record(
    state: State<'_, AppState>,
    case_id: Uuid,
    kind: CaseRecordKind,
    fields: FieldValues,
    amends: Option<Uuid>,
) -> Result<SavedCaseRecord, CommandError> {
    write(&state, move |a| {
        app::case::save_case_record(&mut a.store, &a.actor, case_id, kind, fields, amends, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn update_case_record(
    state: State<'_, AppState>,
    kind: CaseRecordKind,
    record_id: Uuid,
    fields: FieldValues,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| {
        app::case::update_case_record(&mut a.store, &a.actor, kind, record_id, fields, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn move_case(
    state: State<'_, AppState>,
    case_id: Uuid,
    to_stage: domain::case::Stage,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| app::case::move_case(&mut a.store, &a.actor, case_id, to_stage, Moment::current())).await
}

#[tauri::command]
pub async fn set_plan_strategy(
    state: State<'_, AppState>,
    case_id: Uuid,
    strategy: String,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| app::case::set_plan_strategy(&mut a.store, &a.actor, case_id, &strategy, Moment::current()))
        .await
}

#[tauri::command]
pub async fn request_closure(
    state: State<'_, AppState>,
    case_id: Uuid,
    summary: String,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| app::case::request_closure(&mut a.store, &a.actor, case_id, &summary, Moment::current()))
        .await
}

#[tauri::command]
pub async fn closure_queue(state: State<'_, AppState>) -> Result<Vec<ClosureQueueRow>, CommandError> {
    read(&state, move |a| app::closure::closure_queue(&a.store, &a.actor, Moment::current())).await
}

#[tauri::command]
pub async fn sign_off_closure(
    state: State<'_, AppState>,
    case_id: Uuid,
    comments: Option<String>,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| {
        app::closure::sign_off_closure(&mut a.store, &a.actor, case_id, comments.as_deref(), Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn return_closure(
    state: State<'_, AppState>,
    case_id: Uuid,
    comments: String,
) -> Result<CasePage, CommandError> {
    write(&state, move |a| app::closure::return_closure(&mut a.store, &a.actor, case_id, &comments, Moment::current()))
        .await
}

#[tauri::command]
pub async fn reopen_case(state: State<'_, AppState>, case_id: Uuid, reason: String) -> Result<CasePage, CommandError> {
    write(&state, move |a| app::closure::reopen_case(&mut a.store, &a.actor, case_id, &reason, Moment::current())).await
}

#[tauri::command]
pub async fn case_board(state: State<'_, AppState>, query: CaseBoardQuery) -> Result<CaseBoard, CommandError> {
    read(&state, move |a| app::board::case_board(&a.store, &a.actor, &query, Moment::current().today)).await
}

#[tauri::command]
pub async fn reassign_case(state: State<'_, AppState>, case_id: Uuid, worker_id: Uuid) -> Result<(), CommandError> {
    write(&state, move |a| app::board::reassign_case(&mut a.store, &a.actor, case_id, worker_id, Moment::current()))
        .await
}

#[tauri::command]
pub async fn set_stall_days(state: State<'_, AppState>, days: Option<u32>) -> Result<(), CommandError> {
    write(&state, move |a| app::board::set_stall_days(&mut a.store, &a.actor, days, Moment::current())).await
}

#[tauri::command]
pub async fn station_dashboard(state: State<'_, AppState>) -> Result<StationDashboard, CommandError> {
    read(&state, move |a| app::board::station_dashboard(&a.store, &a.actor, Moment::current().today)).await
}

#[tauri::command]
pub async fn handed_over_changes(state: State<'_, AppState>) -> Result<Vec<HandedOverChange>, CommandError> {
    read(&state, move |a| app::board::handed_over_changes(&a.store)).await
}

#[tauri::command]
pub async fn hand_over_offers(
    state: State<'_, AppState>,
    case_id: Option<Uuid>,
) -> Result<Vec<HandOverOffer>, CommandError> {
    read(&state, move |a| app::handover::hand_over_offers(&a.store, &a.actor, case_id)).await
}

#[tauri::command]
pub async fn take_over_offer(state: State<'_, AppState>, change_id: Uuid) -> Result<(), CommandError> {
    write(&state, move |a| app::handover::take_over(&mut a.store, &a.actor, change_id, Moment::current())).await
}

#[tauri::command]
pub async fn dismiss_offer(state: State<'_, AppState>, change_id: Uuid) -> Result<(), CommandError> {
    write(&state, move |a| app::handover::dismiss(&mut a.store, &a.actor, change_id, Moment::current())).await
}

#[tauri::command]
pub async fn referrals(state: State<'_, AppState>, query: ReferralQuery) -> Result<ReferralList, CommandError> {
    read(&state, move |a| app::referral::referrals(&a.store, &a.actor, &query, Moment::current().today)).await
}

#[tauri::command]
pub async fn record_referral(state: State<'_, AppState>, values: FieldValues) -> Result<ReferralRow, CommandError> {
    write(&state, move |a| app::referral::record_referral(&mut a.store, &a.actor, &values, Moment::current())).await
}

#[tauri::command]
pub async fn move_referral(
    state: State<'_, AppState>,
    referral_id: Uuid,
    step: ReferralStep,
) -> Result<ReferralRow, CommandError> {
    write(&state, move |a| app::referral::move_referral(&mut a.store, &a.actor, referral_id, &step, Moment::current()))
        .await
}

#[tauri::command]
pub async fn update_referral(
    state: State<'_, AppState>,
    referral_id: Uuid,
    values: FieldValues,
) -> Result<ReferralRow, CommandError> {
    write(&state, move |a| {
        app::referral::update_referral(&mut a.store, &a.actor, referral_id, &values, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn open_case_from_referral(
    state: State<'_, AppState>,
    referral_id: Uuid,
    recipient_id: Option<Uuid>,
) -> Result<OpenedCase, CommandError> {
    write(&state, move |a| {
        app::referral::open_case_from_referral(&mut a.store, &a.actor, referral_id, recipient_id, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn overdue_referrals(state: State<'_, AppState>) -> Result<OverdueReferrals, CommandError> {
    read(&state, move |a| app::referral::overdue_referrals(&a.store, &a.actor, Moment::current().today)).await
}

#[tauri::command]
pub async fn set_referral_overdue_days(state: State<'_, AppState>, days: Option<u32>) -> Result<(), CommandError> {
    write(&state, move |a| app::referral::set_referral_overdue_days(&mut a.store, &a.actor, days, Moment::current()))
        .await
}

// Supervision, training, working time and the standards view (issue 14): app::supervision,
// app::training, app::standards.

#[tauri::command]
pub async fn supervision_page(state: State<'_, AppState>) -> Result<SupervisionPage, CommandError> {
    read(&state, move |a| app::supervision::supervision_page(&a.store, &a.actor)).await
}

#[tauri::command]
pub async fn save_supervision_plan(state: State<'_, AppState>, values: FieldValues) -> Result<Uuid, CommandError> {
    write(&state, move |a| app::supervision::save_plan(&mut a.store, &a.actor, &values, Moment::current())).await
}

#[tauri::command]
pub async fn update_supervision_plan(
    state: State<'_, AppState>,
    record_id: Uuid,
    values: FieldValues,
) -> Result<(), CommandError> {
    write(&state, move |a| app::supervision::update_plan(&mut a.store, &a.actor, record_id, &values, Moment::current()))
        .await
}

#[tauri::command]
pub async fn save_supervision_session(state: State<'_, AppState>, values: FieldValues) -> Result<Uuid, CommandError> {
    write(&state, move |a| app::supervision::save_session(&mut a.store, &a.actor, &values, Moment::current())).await
}

#[tauri::command]
pub async fn set_session_feedback(
    state: State<'_, AppState>,
    session_id: Uuid,
    feedback: String,
) -> Result<(), CommandError> {
    write(&state, move |a| {
        app::supervision::set_feedback(&mut a.store, &a.actor, session_id, &feedback, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn training_page(state: State<'_, AppState>) -> Result<TrainingPage, CommandError> {
    read(&state, move |a| app::training::training_page(&a.store, &a.actor, Moment::current().today)).await
}

#[tauri::command]
pub async fn save_training_record(state: State<'_, AppState>, values: FieldValues) -> Result<Uuid, CommandError> {
    write(&state, move |a| app::training::save_training(&mut a.store, &a.actor, &values, Moment::current())).await
}

#[tauri::command]
pub async fn update_training_record(
    state: State<'_, AppState>,
    record_id: Uuid,
    values: FieldValues,
) -> Result<(), CommandError> {
    write(&state, move |a| {
        app::training::update_training(&mut a.store, &a.actor, record_id, &values, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn save_work_time(state: State<'_, AppState>, values: FieldValues) -> Result<Uuid, CommandError> {
    write(&state, move |a| app::training::save_work_time(&mut a.store, &a.actor, &values, Moment::current())).await
}

#[tauri::command]
pub async fn standards_view(state: State<'_, AppState>) -> Result<StandardsView, CommandError> {
    read(&state, move |a| app::standards::standards_view(&a.store, &a.actor, Moment::current().today)).await
}

#[tauri::command]
pub async fn set_standard_set(
    state: State<'_, AppState>,
    station_id: Uuid,
    standard_set: Option<domain::standards::StandardSet>,
) -> Result<(), CommandError> {
    write(&state, move |a| {
        app::standards::set_standard_set(&mut a.store, &a.actor, station_id, standard_set, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn set_qualification(
    state: State<'_, AppState>,
    user_id: Uuid,
    qualification: Option<domain::workforce::Qualification>,
) -> Result<(), CommandError> {
    write(&state, move |a| {
        app::standards::set_qualification(&mut a.store, &a.actor, user_id, qualification, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn resource_library(
    state: State<'_, AppState>,
    query: ResourceQuery,
) -> Result<Vec<ResourceRow>, CommandError> {
    read(&state, move |a| app::library::resource_library(&a.store, &a.actor, &query)).await
}

#[tauri::command]
pub async fn resource_page(state: State<'_, AppState>, resource_id: Uuid) -> Result<ResourcePage, CommandError> {
    read(&state, move |a| app::library::resource_page(&a.store, resource_id)).await
}

#[tauri::command]
pub async fn add_resource(state: State<'_, AppState>, fields: FieldValues) -> Result<ResourcePage, CommandError> {
    write(&state, move |a| app::library::add_resource(&mut a.store, &a.actor, &fields, Moment::current())).await
}

#[tauri::command]
pub async fn update_resource(
    state: State<'_, AppState>,
    resource_id: Uuid,
    fields: FieldValues,
) -> Result<ResourcePage, CommandError> {
    write(&state, move |a| {
        app::library::update_resource(&mut a.store, &a.actor, resource_id, &fields, Moment::current())
    })
    .await
}

#[tauri::command]
pub async fn activities_of_month(
    state: State<'_, AppState>,
    month: Option<String>,
) -> Result<ActivitiesMonth, CommandError> {
    read(&state, move |a| {
        app::activities::activities_of_month(&a.store, &a.actor, month.as_deref(), Moment::current().today)
    })
    .await
}

#[tauri::command]
pub async fn add_activity(state: State<'_, AppState>, fields: FieldValues) -> Result<ActivityView, CommandError> {
    write(&state, move |a| app::activities::add_activity(&mut a.store, &a.actor, &fields, Moment::current())).await
}

#[tauri::command]
pub async fn update_activity(
    state: State<'_, AppState>,
    activity_id: Uuid,
    fields: FieldValues,
) -> Result<ActivityView, CommandError> {
    write(&state, move |a| {
        app::activities::update_activity(&mut a.store, &a.actor, activity_id, &fields, Moment::current())
    })
    .await
}

/// Where exports and prints are written: a `reports` folder in the app's data folder (the page
/// shows the file's name and the folder).
fn reports_folder(inner: &Inner) -> std::path::PathBuf {
    inner.data_dir.join("reports")
}

#[tauri::command]
pub async fn report_stations(state: State<'_, AppState>) -> Result<Vec<NamedRef>, CommandError> {
    read(&state, move |a| app::report::report_stations(&a.store, &a.actor)).await
}

#[tauri::command]
pub async fn station_report(
    state: State<'_, AppState>,
    station_id: Option<Uuid>,
    period: ReportPeriod,
) -> Result<Report, CommandError> {
    read(&state, move |a| app::report::station_report(&a.store, &a.actor, station_id, period, Moment::current().today))
        .await
}

#[tauri::command]
pub async fn export_station_report(
    state: State<'_, AppState>,
    station_id: Option<Uuid>,
    period: ReportPeriod,
    format: ExportFormat,
) -> Result<ExportedFile, CommandError> {
    let (folder, language) = (reports_folder(&state.0), lock(&state.0.settings).language);
    read(&state, move |a| {
        let today = Moment::current().today;
        app::report::export_station_report(&a.store, &a.actor, station_id, period, format, language, &folder, today)
    })
    .await
}

#[tauri::command]
pub async fn station_charts(
    state: State<'_, AppState>,
    station_id: Option<Uuid>,
) -> Result<StationCharts, CommandError> {
    read(&state, move |a| app::report::station_charts(&a.store, &a.actor, station_id, Moment::current().today)).await
}

#[tauri::command]
pub async fn print_recipient_file(
    state: State<'_, AppState>,
    recipient_id: Uuid,
) -> Result<ExportedFile, CommandError> {
    let (folder, language) = (reports_folder(&state.0), lock(&state.0.settings).language);
    read(&state, move |a| {
        let document = app::printing::recipient_file_document(&a.store, recipient_id, Moment::current().today)?;
        let name = format!("{}-{}", document.title.get(language), document.subtitle.get(language));
        app::report::write_report(&document, &name, ExportFormat::Pdf, language, &folder)
    })
    .await
}

#[tauri::command]
pub async fn print_closed_case(state: State<'_, AppState>, case_id: Uuid) -> Result<ExportedFile, CommandError> {
    let (folder, language) = (reports_folder(&state.0), lock(&state.0.settings).language);
    read(&state, move |a| {
        let document = app::printing::closed_case_document(&a.store, &a.actor, case_id, Moment::current().today)?;
        let name = format!("{}-{}-{}", document.title.get(language), document.subtitle.get(language), case_id.simple());
        app::report::write_report(&document, &name, ExportFormat::Pdf, language, &folder)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::command_name;

    fn type_name_of<F>(_: &F) -> &'static str {
        std::any::type_name::<F>()
    }

    fn case_board() -> &'static str {
        type_name_of(&|| ())
    }

    #[test]
    fn the_log_names_a_command_after_the_function_its_closure_was_written_in() {
        assert_eq!(command_name(case_board()), "case_board");
        assert_eq!(command_name("shegong_desktop::commands::roster::{{closure}}::{{closure}}"), "roster");
        assert_eq!(command_name("odd"), "odd");
    }
}
