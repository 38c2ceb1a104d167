//! The signed-in user's account on this computer: their encrypted database (one file per username
//! in the app's data directory), their session with the sync server, and the actor the rules see.
//!
//! Sign-in opens the local database with the password when there is one (so signing in works
//! offline, and a wrong password simply fails to open it), then signs in with the sync server
//! too when it answers within a couple of seconds: the new session replaces the saved one, which
//! is revoked on the server. Without a database it signs in with the server, creates the
//! database and keeps the session in it. When the password no longer opens the database but the
//! server accepts it (it was changed on the server), the server's recovery secret for this
//! device unlocks the database, which is re-keyed for the new password (see `store::key`).
//! Sign-out revokes the session on the server (when it answers) and removes it from the database.

use std::path::{Path, PathBuf};

use chrono::Utc;
use domain::Labelled;
use domain::entity::{EntityKind, EntityState, USER, field};
use domain::org::User;
use domain::policy::Actor;
use domain::validate::{FieldError, Invalid};
use protocol::{LoginRequest, Session, codes as api_codes};
use serde::{Deserialize, Serialize};
use store::{DbKey, Store};
use sync_client::SyncError;

use contract::{CurrentUser, SignInRequest};

use crate::error::AppError;

/// The extension of a user's database file.
const DB_EXTENSION: &str = "db";

/// Everything about the signed-in user that the commands and the sync task need.
pub struct Account {
    pub store: Store,
    /// The database's file and key: the sync thread opens a connection of its own with them, so
    /// a round waiting on the network never holds up the commands.
    pub path: PathBuf,
    pub key: DbKey,
    pub actor: Actor,
    pub user: CurrentUser,
    pub server_url: String,
    /// `None` only when the database was opened offline and holds no session (a sign-in that
    /// was cut before the session was saved); sync then waits for an online sign-in.
    pub session: Option<Session>,
}

/// What the database keeps of the session: the tokens and where they are valid. After a
/// sign-out the tokens are gone and only the user's record stays, for an offline sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedSession {
    server_url: String,
    #[serde(default)]
    session: Option<Session>,
    /// The signed-in user's record as the server last sent it.
    #[serde(default)]
    user: Option<EntityState>,
}

/// The JSON the database keeps for a live session.
pub fn saved_session_json(server_url: &str, session: &Session) -> Result<String, AppError> {
    let saved = SavedSession { server_url: server_url.to_string(), session: Some(session.clone()), user: None };
    serde_json::to_string(&saved).map_err(|e| AppError::Internal(e.to_string()))
}

/// A refreshed session with the device's recovery secret of the session it replaces: the server
/// hands the secret out at sign-in only, and the device seals its USB-stick bundles with it
/// (`crate::bundle`), so a refresh must not forget it.
pub fn keeping_secret(mut fresh: Session, previous: Option<&Session>) -> Session {
    if fresh.device_secret.is_none()
        && let Some(previous) = previous.filter(|p| p.device_id == fresh.device_id && p.user_id == fresh.user_id)
    {
        fresh.device_secret = previous.device_secret.clone();
    }
    fresh
}

/// Persists each session the sync transport refreshes, before its tokens are used, on a
/// connection of its own (the round's is in the engine's hands): only over the session the round
/// started with, so a sign-out or a new sign-in meanwhile is never undone. A failure keeps the
/// new tokens unused (the server answers the old refresh token again with a new session).
pub fn session_saver(
    path: PathBuf,
    key: DbKey,
    server_url: String,
    started_with: Option<String>,
) -> impl FnMut(&Session) -> Result<(), String> + Send + 'static {
    let mut expected = started_with;
    move |session: &Session| {
        let previous = expected.as_deref().and_then(|json| serde_json::from_str::<SavedSession>(json).ok());
        let session = &keeping_secret(session.clone(), previous.as_ref().and_then(|p| p.session.as_ref()));
        let json = saved_session_json(&server_url, session).map_err(|e| e.to_string())?;
        let mut store = Store::open_with_key(&path, &key).map_err(|e| e.to_string())?;
        if !store.swap_session_json(expected.as_deref(), Some(&json)).map_err(|e| e.to_string())? {
            return Err("the saved session changed meanwhile (signed out or in again)".into());
        }
        expected = Some(json);
        Ok(())
    }
}

impl SavedSession {
    fn user(&self) -> Option<&EntityState> {
        self.session.as_ref().map(|s| &s.user).or(self.user.as_ref())
    }
}

impl Account {
    /// Saves a session (a new one, or one the sync transport refreshed) in the database.
    pub fn save_session(&mut self, session: Session) -> Result<(), AppError> {
        let session = keeping_secret(session, self.session.as_ref());
        let json = saved_session_json(&self.server_url, &session)?;
        self.store.set_session_json(Some(&json))?;
        self.session = Some(session);
        Ok(())
    }

    /// Signs out: the session is revoked on the server when it answers (best-effort, briefly)
    /// and removed from the database whatever the answer; the user's record stays, so the next
    /// sign-in works offline.
    pub fn sign_out(&mut self) -> Result<(), AppError> {
        let Some(session) = self.session.take() else { return Ok(()) };
        if let Err(e) = sync_client::logout(&self.server_url, &session.refresh_token) {
            tracing::info!(error = %e, "the session could not be revoked on the server; removed here only");
        }
        let saved = SavedSession { server_url: self.server_url.clone(), session: None, user: Some(session.user) };
        let json = serde_json::to_string(&saved).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store.set_session_json(Some(&json))?;
        Ok(())
    }

    /// Re-reads the user's own record (sync may have changed their role or station).
    pub fn refresh_actor(&mut self) -> Result<(), AppError> {
        let session_user = self.session.as_ref().map(|s| &s.user);
        let (actor, mut user) = read_user(&self.store, self.actor.user_id, session_user)?;
        user.online_sign_in = self.user.online_sign_in;
        self.actor = actor;
        self.user = user;
        Ok(())
    }
}

/// The file name of a username's database. Plain usernames are used as they are; anything else
/// (non-ASCII, path characters) is hex-encoded, so a username can never name another path.
fn file_stem(username: &str) -> String {
    let plain = !username.is_empty()
        && username.len() <= 64
        && username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !username.starts_with("u-");
    if plain { username.to_string() } else { format!("u-{}", hex::encode(username.as_bytes())) }
}

fn username_of_stem(stem: &str) -> Option<String> {
    match stem.strip_prefix("u-") {
        Some(encoded) => hex::decode(encoded).ok().and_then(|bytes| String::from_utf8(bytes).ok()),
        None => Some(stem.to_string()),
    }
}

pub fn database_path(data_dir: &Path, username: &str) -> PathBuf {
    data_dir.join(format!("{}.{DB_EXTENSION}", file_stem(username)))
}

/// The usernames with a database on this computer (they can sign in offline).
pub fn local_usernames(data_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == DB_EXTENSION).then_some(())?;
            username_of_stem(path.file_stem()?.to_str()?)
        })
        .collect();
    names.sort();
    names
}

/// Signs in: offline with the local database when there is one, online otherwise.
pub fn sign_in(data_dir: &Path, request: &SignInRequest, default_server_url: &str) -> Result<Account, AppError> {
    let account = open_account(data_dir, request, default_server_url)?;
    tracing::info!(username = %account.user.username, role = account.user.role.as_str(), online = account.user.online_sign_in, "signed in");
    Ok(account)
}

fn open_account(data_dir: &Path, request: &SignInRequest, default_server_url: &str) -> Result<Account, AppError> {
    let username = request.username.trim();
    if username.is_empty() {
        return Err(FieldError::new(username_spec(), Invalid::Required).into());
    }
    if request.password.is_empty() {
        return Err(AppError::BadCredentials);
    }
    let server_url = request
        .server_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(default_server_url)
        .trim_end_matches('/')
        .to_string();
    std::fs::create_dir_all(data_dir)?;
    let path = database_path(data_dir, username);
    if path.exists() {
        open_existing(&path, username, &request.password, &server_url)
    } else {
        create_new(&path, username, &request.password, &server_url)
    }
}

fn username_spec() -> &'static domain::entity::FieldSpec {
    USER.field(field::user::USERNAME).unwrap_or(&USER.fields[0])
}

fn open_existing(path: &Path, username: &str, password: &str, server_url: &str) -> Result<Account, AppError> {
    let started = std::time::Instant::now();
    let (mut store, key) = match open_with_password(path, password) {
        Ok(opened) => opened,
        // Perhaps the password was changed on the server: the server's word may unlock it.
        Err(AppError::BadCredentials) => return recover_with_server(path, username, password, server_url),
        Err(e) => return Err(e),
    };
    let saved: Option<SavedSession> = store.session_json()?.and_then(|json| {
        serde_json::from_str(&json).map_err(|e| tracing::warn!(error = %e, "unreadable saved session")).ok()
    });
    let server_url = saved.as_ref().map_or(server_url.to_string(), |s| s.server_url.clone());
    // The password is right (the database opened with it). Sign in online too when the server
    // answers promptly: the new session replaces the saved one, which the server revokes.
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "the database is open");
    let asked = std::time::Instant::now();
    let login = online_login(&mut store, &server_url, username, password, true);
    tracing::debug!(ms = asked.elapsed().as_millis() as u64, "the server was asked");
    let (session, online) = match login {
        Ok(fresh) => {
            // The saved session is replaced: revoked on the server too (best-effort, briefly).
            if let Some(old) = saved.as_ref().and_then(|s| s.session.as_ref())
                && old.refresh_token != fresh.refresh_token
                && let Err(e) = sync_client::logout(&server_url, &old.refresh_token)
            {
                tracing::info!(error = %e, "the replaced session could not be revoked on the server");
            }
            (Some(fresh), true)
        }
        // The server says no: a password changed (or an account deactivated) there wins.
        Err(e @ (AppError::BadCredentials | AppError::SignInRefused(_))) if refused_for_good(&e) => {
            if matches!(&e, AppError::SignInRefused(api) if api.code == api_codes::ACCOUNT_DEACTIVATED) {
                // Heard of now: offline sign-in is refused from here on too.
                store.note_account_deactivated(Utc::now())?;
                return Err(AppError::AccountDeactivated);
            }
            return Err(e);
        }
        Err(e) => {
            tracing::warn!(error = %e, "offline sign-in: the server cannot be reached");
            (saved.as_ref().and_then(|s| s.session.clone()), false)
        }
    };
    let session_user = session.as_ref().map(|s| &s.user).or(saved.as_ref().and_then(SavedSession::user));
    let Some(user_id) = session_user.map(|u| u.id) else {
        return Err(AppError::ServerUnreachable("no saved session and the server cannot be reached".into()));
    };
    if online {
        if let Some(session) = &session {
            keep_recovery_copy(path, &key, session);
        }
        // The server vouched for the account just now: that is contact, for the offline lease.
        store.note_contact(Utc::now())?;
    } else {
        // Offline, the device's own knowledge decides: an account it heard was deactivated, or a
        // lease run out (a lost laptop stops opening by itself), keeps the data locked.
        if !store.user_is_active(user_id)? {
            return Err(AppError::AccountDeactivated);
        }
        if store.lease_expired(Utc::now())? {
            return Err(AppError::LeaseExpired { days: store.offline_lease_days()? });
        }
    }
    let (actor, mut user) = read_user(&store, user_id, session_user)?;
    user.online_sign_in = online;
    let mut account = Account { store, path: path.to_owned(), key, actor, user, server_url, session: None };
    if let Some(session) = session {
        account.save_session(session)?;
    }
    Ok(account)
}

/// Whether the server's refusal of a sign-in ends it (a wrong password, a disabled account),
/// rather than leaving the offline sign-in to go on (the server busy, too many attempts).
fn refused_for_good(error: &AppError) -> bool {
    match error {
        AppError::BadCredentials => true,
        AppError::SignInRefused(api) => {
            api.code == api_codes::UNAUTHORIZED
                || api.code == api_codes::ACCOUNT_DEACTIVATED
                || api.code == "account_disabled"
        }
        _ => false,
    }
}

/// Opens the database with the password: the key it derives now, or the one from before a
/// re-key that was cut short.
fn open_with_password(path: &Path, password: &str) -> Result<(Store, DbKey), AppError> {
    let key = store::key_for(path, password)?;
    match Store::open_with_key(path, &key) {
        Ok(store) => Ok((store, key)),
        Err(store::StoreError::WrongKey) => {
            let Some(previous) = store::previous_key_for(path, password)? else { return Err(AppError::BadCredentials) };
            Ok((Store::open_with_key(path, &previous)?, previous))
        }
        Err(e) => Err(e.into()),
    }
}

/// The password does not open the database. If the server accepts it for this device, the
/// device's recovery secret (from the server) unlocks the database, which is re-keyed for the
/// new password: every unsent change is kept. Otherwise it is a wrong password.
fn recover_with_server(path: &Path, username: &str, password: &str, server_url: &str) -> Result<Account, AppError> {
    let Some(device_id) = store::recovery_device_id(path)? else { return Err(AppError::BadCredentials) };
    let request = LoginRequest {
        username: username.to_string(),
        password: password.to_string(),
        device_id: Some(device_id),
        device_name: device_name(),
        signing_key: None,
        signing_key_proof: None,
    };
    let session = match login_with(server_url, &request, false) {
        Ok(session) => session,
        Err(e) => {
            tracing::info!(error = %e, "the password opens neither the database nor the server");
            return Err(AppError::BadCredentials);
        }
    };
    let secret = session.device_secret.clone().filter(|_| session.device_id == device_id);
    let Some(secret) = secret else {
        tracing::warn!("the server gave no recovery secret for this device");
        return Err(AppError::BadCredentials);
    };
    let mut store = store::recovery_keys(path, &secret)?
        .iter()
        .find_map(|key| Store::open_with_key(path, key).ok())
        .ok_or(AppError::BadCredentials)?;
    let key = store.change_key(path, password, Some((device_id, &secret)))?;
    tracing::info!(%device_id, "the password was changed on the server; the local database is re-keyed for it");
    let (actor, mut user) = read_user(&store, session.user_id, Some(&session.user))?;
    user.online_sign_in = true;
    let mut account =
        Account { store, path: path.to_owned(), key, actor, user, server_url: server_url.to_string(), session: None };
    account.save_session(session)?;
    Ok(account)
}

/// Keeps the database key wrapped with the device's recovery secret next to the database, so a
/// password changed on the server can open it later. A failure only costs that convenience.
fn keep_recovery_copy(path: &Path, key: &DbKey, session: &Session) {
    let Some(secret) = &session.device_secret else { return };
    if let Err(e) = store::set_recovery(path, key, session.device_id, secret) {
        tracing::warn!(error = %e, "could not keep the recovery copy of the database key");
    }
}

fn create_new(path: &Path, username: &str, password: &str, server_url: &str) -> Result<Account, AppError> {
    let key = store::key_for(path, password)?;
    let mut store = Store::open_with_key(path, &key)?;
    let session = match online_login(&mut store, server_url, username, password, false) {
        Ok(session) => session,
        Err(e) => {
            // Nothing may stay behind: the next attempt must find no database for this user.
            drop(store);
            remove_database(path);
            return Err(e);
        }
    };
    keep_recovery_copy(path, &key, &session);
    let (actor, mut user) = read_user(&store, session.user_id, Some(&session.user))?;
    user.online_sign_in = true;
    let mut account =
        Account { store, path: path.to_owned(), key, actor, user, server_url: server_url.to_string(), session: None };
    account.save_session(session)?;
    Ok(account)
}

/// Signs in with the sync server, registering this database as the device (with its signing
/// key, which the server keeps for supervisors' closure sign-offs).
/// `promptly`: give up after a short wait for the connection (a sign-in that can go on offline).
fn online_login(
    store: &mut Store,
    server_url: &str,
    username: &str,
    password: &str,
    promptly: bool,
) -> Result<Session, AppError> {
    let signing_key = store.signing_key()?;
    let public_key = domain::signoff::public_key_hex(&signing_key);
    let device_id = store.device_id();
    // The key goes with a proof of possession made for the user and this device; the user is
    // known here once this database has synced their record.
    let known_user = store
        .list(EntityKind::User, None)?
        .into_iter()
        .find(|u| u.get_str(field::user::USERNAME) == Some(username))
        .map(|u| u.id);
    let request = LoginRequest {
        username: username.to_string(),
        password: password.to_string(),
        device_id: Some(device_id),
        device_name: device_name(),
        signing_key: known_user.map(|_| public_key.clone()),
        signing_key_proof: known_user.map(|user| domain::signoff::prove_key(&signing_key, user, device_id)),
    };
    let mut session = login_with(server_url, &request, promptly)?;
    // A supervisor's first sign-in on this database: now that the user is known, once more with
    // the key and its proof, so the server registers the key for the sign-offs.
    let registered = session
        .user
        .get(field::user::SIGNING_KEYS)
        .and_then(|k| k.as_array())
        .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(public_key.as_str())));
    if known_user.is_none() && session.user.get_str(field::user::ROLE) == Some("Supervisor") && !registered {
        let with_key = LoginRequest {
            signing_key: Some(public_key.clone()),
            signing_key_proof: Some(domain::signoff::prove_key(&signing_key, session.user_id, device_id)),
            ..request
        };
        session = login_with(server_url, &with_key, promptly)?;
    }
    if session.device_id != store.device_id() {
        tracing::warn!(server = %session.device_id, local = %store.device_id(), "the server registered another device id");
    }
    Ok(session)
}

/// One sign-in request, its errors as the app's.
fn login_with(server_url: &str, request: &LoginRequest, promptly: bool) -> Result<Session, AppError> {
    let result = if promptly {
        sync_client::login_promptly(server_url, request)
    } else {
        sync_client::login(server_url, request)
    };
    match result {
        Ok(session) => Ok(session),
        Err(SyncError::Offline(detail)) => Err(AppError::ServerUnreachable(detail)),
        Err(SyncError::InsecureServerUrl(e)) => Err(AppError::InsecureServerUrl(e)),
        Err(SyncError::SignInRequired(_)) => Err(AppError::BadCredentials),
        Err(SyncError::Server(api))
            if api.code == api_codes::BAD_CREDENTIALS || api.code == api_codes::UNAUTHORIZED =>
        {
            Err(AppError::BadCredentials)
        }
        Err(SyncError::Server(api)) => Err(AppError::SignInRefused(api)),
        Err(other) => Err(AppError::Sync(other)),
    }
}

/// Removes a database and the files SQLite and the store keep beside it.
fn remove_database(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return };
    let Some(dir) = path.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let companion = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n == name || n.starts_with(&format!("{name}-")) || n.starts_with(&format!("{name}.")));
        if companion && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a partial database");
        }
    }
}

/// The actor and the user as shown, from the local copy of the user's record when sync has
/// brought it, else from the record the server sent at sign-in.
fn read_user(
    store: &Store,
    user_id: uuid::Uuid,
    from_session: Option<&EntityState>,
) -> Result<(Actor, CurrentUser), AppError> {
    let state = match store.entity(EntityKind::User, user_id)? {
        Some(state) => state,
        None => from_session.cloned().ok_or(AppError::NotSignedIn)?,
    };
    let user: User = state.to_typed().map_err(|e| AppError::Internal(format!("user record: {e}")))?;
    let station_name = match user.station_id.or_else(|| user.supervised_station_ids.first().copied()) {
        Some(id) => {
            store.entity(EntityKind::Station, id)?.and_then(|s| s.get_str(field::station::NAME).map(str::to_string))
        }
        None => None,
    };
    let actor = Actor::new(user.id, if user.active { user.role() } else { None });
    let current = CurrentUser {
        user_id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        station_id: user.station_id,
        station_name,
        online_sign_in: false,
    };
    Ok((actor, current))
}

/// How this computer is named to the server (shown to administrators in the device list).
fn device_name() -> String {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "desktop".to_string())
}

#[cfg(test)]
mod session_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_usernames_name_their_file_and_others_are_hex_encoded() {
        assert_eq!(file_stem("shegong1"), "shegong1");
        assert_eq!(file_stem("../etc/passwd"), format!("u-{}", hex::encode("../etc/passwd")));
        assert_eq!(file_stem("张三"), format!("u-{}", hex::encode("张三")));
        // A plain name that looks like an encoded one is encoded too, so decoding is unambiguous.
        assert_eq!(username_of_stem(&file_stem("u-x")).as_deref(), Some("u-x"));
        for name in ["shegong1", "张三", "../x", "u-1"] {
            assert_eq!(username_of_stem(&file_stem(name)).as_deref(), Some(name));
        }
    }

    #[test]
    fn local_usernames_lists_the_databases_in_the_data_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["shegong1", "张三"] {
            std::fs::write(database_path(dir.path(), name), b"").expect("write");
        }
        std::fs::write(dir.path().join("shegong1.db-wal"), b"").expect("write");
        std::fs::write(dir.path().join("settings.json"), b"{}").expect("write");
        assert_eq!(local_usernames(dir.path()), vec!["shegong1".to_string(), "张三".to_string()]);
    }

    /// A loopback address where nothing listens.
    fn closed_server() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    }

    #[test]
    fn a_first_sign_in_without_the_server_fails_clearly_and_leaves_no_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let request = SignInRequest { username: "shegong1".into(), password: "demo1234".into(), server_url: None };
        let result = sign_in(dir.path(), &request, &closed_server());
        assert!(matches!(result, Err(AppError::ServerUnreachable(_))), "{:?}", result.err());
        let left: Vec<_> =
            std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "nothing stays behind: {left:?}");
    }

    #[test]
    fn a_wrong_password_does_not_open_an_existing_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(Store::open(&database_path(dir.path(), "shegong1"), "demo1234").expect("create"));
        let request = SignInRequest { username: "shegong1".into(), password: "wrong".into(), server_url: None };
        let result = sign_in(dir.path(), &request, &closed_server());
        assert!(matches!(result, Err(AppError::BadCredentials)), "{:?}", result.err());
    }

    #[test]
    fn removing_a_database_removes_its_companion_files_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = database_path(dir.path(), "fuzhan1");
        for suffix in ["", "-wal", "-shm", ".salt"] {
            std::fs::write(format!("{}{suffix}", path.display()), b"x").expect("write");
        }
        let other = database_path(dir.path(), "fuzhan10");
        std::fs::write(&other, b"x").expect("write");
        remove_database(&path);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["fuzhan10.db".to_string()]);
    }
}
