//! Sign-in, sign-out and password changes against a real sync server on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use domain::change::Write;
use domain::entity::{EntityKind, field};
use domain::org::{Post, RoleKind};
use protocol::RefreshRequest;
use sync_client::{Engine, HttpTransport};
use sync_server::{NewUser, Server, ServerSettings, SqliteStorage};
use uuid::Uuid;

use super::*;

const PASSWORD: &str = "password1";
const NEW_PASSWORD: &str = "password2";

/// A sync server on a loopback port with one station, one village and the social worker `wa`.
/// Dropping it stops the server: its port then refuses connections.
struct Loopback {
    url: String,
    server: Server,
    station: Uuid,
    village: Uuid,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Loopback {
    fn start() -> Loopback {
        let storage = Arc::new(SqliteStorage::open_in_memory().expect("in-memory database"));
        let server = Server::new(storage, ServerSettings::default(), sync_server::system_clock());
        let admin = server.admin();
        let station = admin.create_station("城关镇社工站", "示范县").expect("station");
        let point = admin.create_service_point(station, "东关社工点").expect("point");
        let village = admin.create_village(station, point, "东关村").expect("village");
        admin
            .create_user(&NewUser {
                username: "wa".into(),
                display_name: "李娟".into(),
                role: RoleKind::SocialWorker,
                post: Some(Post::Service),
                station_id: Some(station),
                service_point_id: None,
                supervised_station_ids: vec![],
                password: PASSWORD.into(),
            })
            .expect("user");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = sync_server::router(server.clone());
        runtime.spawn(async move { axum::serve(listener, router).await });
        Loopback { url, server, station, village, runtime: Some(runtime) }
    }

    /// Stops answering: the port refuses connections from now on.
    fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }

    fn refresh_works(&self, refresh_token: &str) -> bool {
        self.server.refresh(RefreshRequest { refresh_token: refresh_token.to_string() }).is_ok()
    }
}

fn sign_in_as(dir: &Path, server: &Loopback, password: &str) -> Result<Account, AppError> {
    let request = SignInRequest { username: "wa".into(), password: password.into(), server_url: None };
    sign_in(dir, &request, &server.url)
}

fn saved(account: &Account) -> Option<SavedSession> {
    account.store.session_json().expect("read").and_then(|json| serde_json::from_str(&json).ok())
}

/// One sync round on the account's own connection (brings the station's villages).
fn sync(account: &mut Account) {
    let session = account.session.clone().expect("a session");
    let transport = HttpTransport::new(&account.server_url, session).expect("transport");
    let mut engine = Engine::new(transport);
    engine.sync_once(&mut account.store, |_| {}).expect("synced");
    if let Some(refreshed) = engine.transport().take_refreshed_session() {
        account.save_session(refreshed).expect("saved");
    }
}

/// Records a recipient that stays in the outbox (nothing syncs it afterwards).
fn record_unsent_recipient(account: &mut Account, server: &Loopback) -> Uuid {
    let id = Uuid::now_v7();
    let birth = NaiveDate::from_ymd_opt(1950, 3, 15).expect("date");
    let write = Write::create(EntityKind::Recipient, id)
        .set(field::STATION_ID, server.station.to_string())
        .set(field::recipient::VILLAGE_ID, server.village.to_string())
        .set(field::recipient::NAME, "张三")
        .set(field::recipient::ID_NUMBER, test_support::id_number("410522", birth, 201))
        .set(field::recipient::GENDER, "Male")
        .set(field::recipient::BIRTH_DATE, "1950-03-15")
        .set(field::recipient::CATEGORIES, vec!["Dibao"]);
    let actor = account.actor.clone();
    account.store.record(&actor, vec![write], Utc::now(), Utc::now().date_naive()).expect("recorded");
    id
}

#[test]
fn signing_in_again_goes_online_and_the_saved_session_is_replaced_and_revoked() {
    let server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sign_in_as(dir.path(), &server, PASSWORD).expect("first sign-in");
    let old = first.session.clone().expect("a session");
    drop(first);

    let again = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    assert!(again.user.online_sign_in, "the server answered, so the sign-in went online");
    let new = again.session.clone().expect("a session");
    assert_ne!(new.refresh_token, old.refresh_token);
    assert_eq!(saved(&again).and_then(|s| s.session), Some(new.clone()), "the new session is the saved one");
    assert!(!server.refresh_works(&old.refresh_token), "the old session is revoked");
    assert!(server.refresh_works(&new.refresh_token));
}

#[test]
fn signing_in_while_the_server_is_away_opens_the_local_data_offline_and_promptly() {
    let mut server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let first = sign_in_as(dir.path(), &server, PASSWORD).expect("first sign-in");
    let kept = first.session.clone();
    drop(first);
    server.stop();

    let started = Instant::now();
    let account = sign_in_as(dir.path(), &server, PASSWORD).expect("offline sign-in");
    assert!(!account.user.online_sign_in);
    assert_eq!(account.session, kept, "the saved session is kept for when the server is back");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn signing_out_revokes_the_session_on_the_server_and_removes_it_from_the_database() {
    let mut server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    let session = account.session.clone().expect("a session");

    account.sign_out().expect("signed out");
    assert_eq!(account.session, None);
    let left = saved(&account).expect("the user's record stays");
    assert_eq!(left.session, None, "no token is left in the database");
    assert!(!serde_json::to_string(&left).expect("json").contains(&session.refresh_token));
    assert!(!server.refresh_works(&session.refresh_token), "revoked on the server");
    drop(account);

    // The next sign-in works offline all the same, without a session to sync with.
    server.stop();
    let offline = sign_in_as(dir.path(), &server, PASSWORD).expect("offline sign-in");
    assert_eq!(offline.user.username, "wa");
    assert_eq!(offline.session, None);
}

#[test]
fn a_password_changed_on_the_server_rekeys_the_local_database_at_the_next_online_sign_in() {
    let mut server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    sync(&mut account);
    let recipient = record_unsent_recipient(&mut account, &server);
    assert_eq!(account.store.pending_count().expect("count"), 1);
    drop(account);

    server.server.admin().set_password("wa", NEW_PASSWORD).expect("password changed");
    // The old password still opens the file, but the server, which answers, says no.
    assert!(matches!(sign_in_as(dir.path(), &server, PASSWORD), Err(AppError::BadCredentials)));

    let account = sign_in_as(dir.path(), &server, NEW_PASSWORD).expect("the new password opens it");
    assert!(account.user.online_sign_in);
    assert_eq!(account.store.pending_count().expect("count"), 1, "the unsent change is kept");
    assert!(account.store.entity(EntityKind::Recipient, recipient).expect("read").is_some());
    drop(account);

    // From now on the new password opens it offline too, and the old one no longer does.
    server.stop();
    assert!(matches!(sign_in_as(dir.path(), &server, PASSWORD), Err(AppError::BadCredentials)));
    let offline = sign_in_as(dir.path(), &server, NEW_PASSWORD).expect("offline with the new password");
    assert!(!offline.user.online_sign_in);
    assert_eq!(offline.store.pending_count().expect("count"), 1);
}

#[test]
fn a_wrong_password_opens_nothing_even_with_the_server_there() {
    let server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    drop(sign_in_as(dir.path(), &server, PASSWORD).expect("signed in"));
    for wrong in ["password3", "", "password1 "] {
        assert!(sign_in_as(dir.path(), &server, wrong).is_err(), "{wrong:?}");
    }
    assert!(sign_in_as(dir.path(), &server, PASSWORD).is_ok(), "the right one still opens it");
}

#[test]
fn an_offline_sign_in_after_the_lease_ran_out_is_refused_with_a_clear_message() {
    let mut server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    let days = account.store.offline_lease_days().expect("lease");
    // The last contact with the server was longer ago than the lease.
    account.store.note_contact(Utc::now() - chrono::Duration::days(days + 1)).expect("noted");
    drop(account);
    server.stop();

    let error = sign_in_as(dir.path(), &server, PASSWORD).err().expect("locked");
    assert!(matches!(error, AppError::LeaseExpired { .. }), "{error:?}");
    let shown = contract::CommandError::from(error);
    assert_eq!(shown.code, "lease_expired");
    assert!(shown.message_zh.contains("锁定") && shown.message_en.contains("locked"), "{shown:?}");
}

#[test]
fn an_online_sign_in_renews_the_lease() {
    let server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    let days = account.store.offline_lease_days().expect("lease");
    account.store.note_contact(Utc::now() - chrono::Duration::days(days + 1)).expect("noted");
    drop(account);
    let account = sign_in_as(dir.path(), &server, PASSWORD).expect("the server vouches");
    assert!(!account.store.lease_expired(Utc::now()).expect("lease"));
}

#[test]
fn an_account_the_device_heard_was_deactivated_cannot_sign_in_offline() {
    let mut server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    account.store.note_account_deactivated(Utc::now()).expect("noted");
    drop(account);
    server.stop();

    let error = sign_in_as(dir.path(), &server, PASSWORD).err().expect("refused");
    assert!(matches!(error, AppError::AccountDeactivated), "{error:?}");
    assert_eq!(contract::CommandError::from(error).code, "account_deactivated");
}

#[test]
fn a_session_refreshed_during_a_round_is_saved_but_never_over_a_sign_out_that_happened_meanwhile() {
    let server = Loopback::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut account = sign_in_as(dir.path(), &server, PASSWORD).expect("signed in");
    let first = account.session.clone().expect("a session");
    let started_with = account.store.session_json().expect("read");
    let mut save = session_saver(account.path.clone(), account.key.clone(), account.server_url.clone(), started_with);

    // The round refreshes: the new session is on disk at once, before anything uses it, with
    // the device's secret of the session it replaces (the server hands it out at sign-in only).
    let second = server.server.refresh(RefreshRequest { refresh_token: first.refresh_token.clone() }).expect("ok");
    assert!(second.device_secret.is_none() && first.device_secret.is_some());
    save(&second).expect("saved");
    let kept = crate::account::keeping_secret(second.clone(), Some(&first));
    assert_eq!(kept.device_secret, first.device_secret);
    assert_eq!(saved(&account).and_then(|s| s.session), Some(kept));

    // The round refreshes again, and the user signs out before that session is saved: it is
    // not saved (and so not used), and the sign-out stands.
    let third = server.server.refresh(RefreshRequest { refresh_token: second.refresh_token.clone() }).expect("ok");
    account.session = Some(second);
    account.sign_out().expect("signed out");
    assert!(save(&third).is_err(), "not saved over the sign-out");
    assert_eq!(saved(&account).and_then(|s| s.session), None);
}
