//! The Tauri commands the UI calls. Each one parses its input, calls the store (or the account
//! and sync code), and returns a DTO from [`crate::dto`]; errors become [`CommandError`]s.
//! Store work runs on a blocking thread, never on the async runtime.

use std::collections::BTreeMap;

use chrono::{Local, Utc};
use domain::Labelled;
use domain::change::Write;
use domain::entity::{EntityKind, EntityState, RECIPIENT};
use domain::recipient::{Gender, RecipientCategory};
use domain::validate::{FieldError, Invalid, resident_id_number};
use store::{RosterFilter, Search};
use tauri::State;
use uuid::Uuid;

use crate::account::{self, Account};
use crate::dto::*;
use crate::error::AppError;
use crate::{AppState, Inner, lock, settings, sync_task};

/// The largest roster page the UI may ask for.
const MAX_PAGE_SIZE: u32 = 200;

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

/// Runs `work` with the signed-in account.
fn with_account<T>(inner: &Inner, work: impl FnOnce(&mut Account) -> Result<T, AppError>) -> Result<T, AppError> {
    let mut guard = lock(&inner.account);
    let account = guard.as_mut().ok_or(AppError::NotSignedIn)?;
    work(account)
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
            local_users: account::local_usernames(&inner.data_dir),
        })
    })
    .await
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, request: SignInRequest) -> Result<CurrentUser, CommandError> {
    blocking(&state, move |inner| {
        // Whoever was signed in is signed out first: one account open at a time.
        lock(&inner.account).take();
        let account = account::sign_in(&inner.data_dir, &request, &inner.default_server_url)?;
        let user = account.user.clone();
        *lock(&inner.account) = Some(account);
        sync_task::update_status(inner, |s| *s = SyncStatusView { signed_in: true, ..SyncStatusView::default() });
        // The first round runs now, so the roster is filled when the sign-in page goes away.
        // Offline, it fails quietly: the local database has what was synced before.
        if let Err(e) = sync_task::run_round(inner) {
            tracing::info!(error = %e, "no sync at sign-in");
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
    blocking(&state, |inner| with_account(inner, |account| service_points(account))).await
}

fn name_of(state: &EntityState) -> String {
    state.get_str("name").unwrap_or_default().to_string()
}

/// The service points the user can see, each with its villages, in name order.
fn service_points(account: &Account) -> Result<Vec<ServicePointOption>, AppError> {
    let store = &account.store;
    let mut points: Vec<ServicePointOption> = store
        .list(EntityKind::ServicePoint, None)?
        .iter()
        .map(|p| ServicePointOption { id: p.id, name: name_of(p), villages: Vec::new() })
        .collect();
    points.sort_by(|a, b| a.name.cmp(&b.name));
    let mut villages = store.list(EntityKind::Village, None)?;
    villages.sort_by_key(name_of);
    for village in villages {
        let Some(point_id) = village.get_id("service_point_id") else { continue };
        if let Some(point) = points.iter_mut().find(|p| p.id == point_id) {
            point.villages.push(VillageOption { id: village.id, name: name_of(&village) });
        }
    }
    Ok(points)
}

#[tauri::command]
pub async fn roster(state: State<'_, AppState>, query: RosterQuery) -> Result<RosterPage, CommandError> {
    blocking(&state, move |inner| {
        with_account(inner, |account| {
            let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
            let text = query.search_text.trim().to_string();
            let search = match query.search_kind {
                _ if text.is_empty() => None,
                Some(SearchKind::Name) | None => Some(Search::Name(text)),
                Some(SearchKind::IdSuffix) => Some(Search::IdSuffix(text)),
                Some(SearchKind::Phone) => Some(Search::Phone(text)),
            };
            let filter = RosterFilter {
                category: query.category,
                village_id: query.village_id,
                service_point_id: query.service_point_id,
                search,
                limit: page_size as usize,
                offset: query.page as usize * page_size as usize,
                ..RosterFilter::default()
            };
            let rows = account.store.roster(&filter)?;
            let total = account.store.roster_count(&filter)?;
            let entries = rows
                .into_iter()
                .map(|row| RosterEntry {
                    id: row.id,
                    name: row.name,
                    gender: row.gender.as_deref().and_then(Gender::parse),
                    birth_date: row.birth_date,
                    categories: row.categories.iter().filter_map(|c| RecipientCategory::parse(c)).collect(),
                    village_name: row.village_name.unwrap_or_default(),
                    phone: row.phone,
                    id_number_tail: row
                        .id_number
                        .map(|n| n.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect())
                        .unwrap_or_default(),
                })
                .collect::<Vec<_>>();
            let shown = query.page as u64 * page_size as u64 + entries.len() as u64;
            Ok(RosterPage { entries, page: query.page, page_size, total, has_more: shown < total })
        })
    })
    .await
}

fn recipient_field_error(field: &str, invalid: Invalid) -> AppError {
    match RECIPIENT.field(field) {
        Some(spec) => FieldError::new(spec, invalid).into(),
        None => AppError::BadRequest(format!("unknown field {field}")),
    }
}

#[tauri::command]
pub async fn add_recipient(state: State<'_, AppState>, draft: RecipientDraft) -> Result<AddedRecipient, CommandError> {
    let added = blocking(&state, move |inner| {
        with_account(inner, |account| {
            let today = Local::now().date_naive();
            // Gender and date of birth are facts of the ID number; the store's rules check them
            // against it again.
            let (id_number, facts) =
                resident_id_number(&draft.id_number, today).map_err(|e| recipient_field_error("id_number", e))?;
            let village_id = draft.village_id.ok_or_else(|| recipient_field_error("village_id", Invalid::Required))?;
            let village = account
                .store
                .entity(EntityKind::Village, village_id)?
                .ok_or_else(|| recipient_field_error("village_id", Invalid::Reference))?;
            let station_id =
                village.get_id("station_id").ok_or_else(|| recipient_field_error("village_id", Invalid::Reference))?;
            let phone = Some(draft.phone.trim()).filter(|p| !p.is_empty());
            let categories: Vec<&str> = draft.categories.iter().map(|c| c.as_str()).collect();
            let id = Uuid::now_v7();
            let write = Write::create(EntityKind::Recipient, id)
                .set("station_id", station_id.to_string())
                .set("village_id", village_id.to_string())
                .set("name", draft.name.clone())
                .set("id_number", id_number)
                .set("gender", facts.gender.as_str())
                .set("birth_date", facts.birth_date.to_string())
                .set("categories", categories)
                .set_opt("phone", phone);
            let actor = account.actor.clone();
            account.store.record(&actor, vec![write], Utc::now(), today)?;
            sync_task::refresh_counts(inner, account);
            Ok(AddedRecipient { id, name: draft.name.trim().to_string() })
        })
    })
    .await?;
    // Sent to the server right away when it can be reached.
    state.0.wake_sync();
    Ok(added)
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
    blocking(&state, |inner| {
        with_account(inner, |account| {
            let rows = account.store.rejected_changes()?;
            let mut labels: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let label = match labels.get(&row.entity_id) {
                    Some(label) => label.clone(),
                    None => {
                        // The record may be gone (an undone create); the change itself names it.
                        let from_store = account.store.entity(row.entity_kind, row.entity_id)?;
                        let label = from_store
                            .as_ref()
                            .and_then(|s| s.get_str("name").map(str::to_string))
                            .or_else(|| row.fields.get("name").and_then(|w| w.value.as_str()).map(str::to_string));
                        labels.insert(row.entity_id, label.clone());
                        label
                    }
                };
                out.push(RejectedChangeView {
                    change_id: row.change_id,
                    entity_kind_zh: row.entity_kind.zh().to_string(),
                    entity_kind_en: row.entity_kind.en().to_string(),
                    entity_id: row.entity_id,
                    entity_label: label,
                    recorded_at: chrono::DateTime::parse_from_rfc3339(&row.recorded_at)
                        .ok()
                        .map(|t| t.with_timezone(&Utc)),
                    reason: CommandError {
                        code: row.rejection.code,
                        field: row.rejection.field,
                        message_zh: row.rejection.message_zh,
                        message_en: row.rejection.message_en,
                    },
                });
            }
            Ok(out)
        })
    })
    .await
}
