//! Shegong's desktop app: a thin Tauri 2 shell. It keeps the signed-in account, runs the
//! background sync, and answers the UI's commands ([`commands`]) with the types of [`dto`], each
//! by calling one use case of the `app` crate. Logic lives in `app`, `domain`, `store` and
//! `sync-client`; nothing here decides a rule.

mod commands;
pub mod dto;
mod settings;
mod sync_task;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};

use tauri::Manager;

use app::Account;

use crate::dto::SyncStatusView;
use crate::settings::Settings;

/// The sync server the app signs in with when the sign-in page names none.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:7878";
/// Overrides [`DEFAULT_SERVER_URL`] (the run script and the tests point it at their server).
pub const SERVER_URL_ENV: &str = "SHEGONG_SERVER_URL";

/// The app's state, shared by the commands and the sync thread.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Where the users' databases live: Tauri's app data directory (follows `XDG_DATA_HOME`).
    data_dir: PathBuf,
    /// Where the settings live: Tauri's app config directory (follows `XDG_CONFIG_HOME`).
    config_dir: PathBuf,
    default_server_url: String,
    account: Mutex<Option<Account>>,
    /// Held for a whole sync round; never taken while `account` is held.
    sync_connection: Mutex<sync_task::SyncConnection>,
    status: Mutex<SyncStatusView>,
    settings: Mutex<Settings>,
    wake_sync: OnceLock<mpsc::Sender<()>>,
}

impl Inner {
    /// Asks the sync thread for a round now.
    fn wake_sync(&self) {
        if let Some(wake) = self.wake_sync.get() {
            let _ = wake.send(());
        }
    }
}

/// Locks a mutex; a panic in another holder does not make the data unusable here.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Declares the commands the UI may call: [`invoke_handler`] registers them with Tauri, and
/// `REGISTERED_COMMANDS` names them for the test that compares them with `contract::ALL` (one
/// list, so the two cannot drift apart).
macro_rules! registered_commands {
    ($($name:ident),+ $(,)?) => {
        #[cfg(test)]
        const REGISTERED_COMMANDS: &[&str] = &[$(stringify!($name)),+];

        /// Answers the UI's calls, one handler per command of `contract::ALL`.
        fn invoke_handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$name),+]
        }
    };
}

registered_commands![
    get_language,
    set_language,
    sign_in_defaults,
    sign_in,
    sign_out,
    current_user,
    list_villages,
    roster,
    add_recipient,
    sync_status,
    sync_now,
    rejected_changes,
    resend_rejected,
    discard_rejected,
    waiting_changes,
    retry_set_aside,
    export_bundle,
    relay_bundle,
    import_bundle,
    conflicts,
    resolve_conflict,
    recipient_file,
    update_recipient,
    transfer_recipient,
    household_file,
    add_household,
    update_household,
    set_household_member,
    remove_household_member,
    record_visit,
    record_household_visit,
    amend_visit,
    visits_of,
    open_case,
    case_page,
    save_case_record,
    update_case_record,
    move_case,
    set_plan_strategy,
    request_closure,
    closure_queue,
    sign_off_closure,
    return_closure,
    reopen_case,
    case_board,
    reassign_case,
    set_stall_days,
    supervision_page,
    save_supervision_plan,
    update_supervision_plan,
    save_supervision_session,
    set_session_feedback,
    training_page,
    save_training_record,
    update_training_record,
    save_work_time,
    standards_view,
    set_standard_set,
    set_qualification,
    station_dashboard,
    handed_over_changes,
    hand_over_offers,
    take_over_offer,
    dismiss_offer,
    resource_library,
    resource_page,
    add_resource,
    update_resource,
    activities_of_month,
    add_activity,
    update_activity,
    referrals,
    record_referral,
    move_referral,
    update_referral,
    open_case_from_referral,
    overdue_referrals,
    set_referral_overdue_days,
    report_stations,
    station_report,
    export_station_report,
    station_charts,
    print_recipient_file,
    print_closed_case,
];

/// Builds and runs the app. Returns when the last window closes.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a terminal, not in the logs of tests and CI.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = tauri::Builder::default()
        .setup(|app| {
            let data_dir = app.path().app_data_dir()?;
            let config_dir = app.path().app_config_dir()?;
            std::fs::create_dir_all(&data_dir)?;
            tracing::info!(data_dir = %data_dir.display(), "app data directory");
            let default_server_url = std::env::var(SERVER_URL_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(DEFAULT_SERVER_URL.into());
            let settings = settings::load(&config_dir);
            sync_client::allow_insecure_http(settings.allow_insecure_http);
            // The client that asks the server at sign-in is made while the password is typed,
            // not after the key is derived.
            sync_client::warm_up();
            let inner = Arc::new(Inner {
                settings: Mutex::new(settings),
                data_dir,
                config_dir,
                default_server_url,
                account: Mutex::new(None),
                sync_connection: Mutex::new(sync_task::SyncConnection::default()),
                status: Mutex::new(SyncStatusView::default()),
                wake_sync: OnceLock::new(),
            });
            let wake = sync_task::spawn(inner.clone())?;
            let _ = inner.wake_sync.set(wake);
            app.manage(AppState(inner));
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app failed");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    /// Every command of the contract has a handler, and every handler a command in the contract.
    #[test]
    fn the_registered_commands_are_the_contracts() {
        let mut registered = super::REGISTERED_COMMANDS.to_vec();
        let mut contract = contract::ALL.to_vec();
        registered.sort_unstable();
        contract.sort_unstable();
        assert_eq!(registered, contract);
    }
}
