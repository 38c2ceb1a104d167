//! Enrolling a whole roster at once: many users, each with a registered device and a session,
//! in one transaction. For a process that holds the database itself (the load benchmark's
//! thousands of devices, a provisioning script), never offered over HTTP: whoever can open the
//! database can set any password anyway, so handing out sessions here gives no new power.
//!
//! Each distinct first password is hashed once, not once per user: argon2id at its full cost
//! (about 20–50 ms) for 5,000 users would take minutes, and users given the same first password
//! gain nothing from separate salts (whoever guesses it for one has it for all of them).

use std::collections::BTreeMap;

use domain::entity::EntityKind;
use protocol::Session;
use uuid::Uuid;

use crate::admin::{Admin, AdminError, NewUser, check_password, create_user_in};
use crate::auth::hash_password;
use crate::server::register_device;

impl Admin<'_> {
    /// Creates `users` (as [`Admin::create_user`] does, all or none), registers one device for
    /// each, named `device_name`, and answers each device's session, in the order of `users`.
    pub fn enrol(&self, users: &[NewUser], device_name: &str) -> Result<Vec<Session>, AdminError> {
        let mut hashes: BTreeMap<&str, String> = BTreeMap::new();
        for user in users {
            if !hashes.contains_key(user.password.as_str()) {
                check_password(&user.password)?;
                hashes.insert(&user.password, hash_password(&user.password).map_err(AdminError::Internal)?);
            }
        }
        let server = self.server;
        self.in_batch(|batch| {
            let mut sessions = Vec::with_capacity(users.len());
            for user in users {
                let hash = hashes.get(user.password.as_str()).cloned().unwrap_or_default();
                let user_id = create_user_in(batch, user, hash)?;
                let state = batch
                    .read()
                    .entity(EntityKind::User, user_id)?
                    .ok_or_else(|| AdminError::Internal(format!("user {user_id} vanished")))?
                    .state;
                let device_id = Uuid::now_v7();
                let now = batch.now;
                register_device(&mut *batch.tx, device_id, user_id, device_name, now)
                    .map_err(|e| AdminError::Internal(e.to_string()))?;
                let session = server
                    .issue_session(&mut *batch.tx, state, device_id, now)
                    .map_err(|e| AdminError::Internal(e.to_string()))?;
                sessions.push(session);
            }
            Ok(sessions)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use domain::org::{Post, RoleKind};
    use protocol::PullQuery;

    use crate::{NewUser, Server, ServerSettings, SqliteStorage, system_clock};

    fn server() -> Server {
        let storage = SqliteStorage::open_in_memory().expect("storage");
        Server::new(Arc::new(storage), ServerSettings::default(), system_clock())
    }

    fn worker(username: &str, station: uuid::Uuid, password: &str) -> NewUser {
        NewUser {
            username: username.into(),
            display_name: username.into(),
            role: RoleKind::SocialWorker,
            post: Some(Post::Service),
            station_id: Some(station),
            service_point_id: None,
            supervised_station_ids: vec![],
            password: password.into(),
        }
    }

    #[test]
    fn enrolled_users_pull_with_their_sessions_and_sign_in_with_their_password() {
        let server = server();
        let station = server.admin().create_station("城关镇社工站", "示范县").expect("station");
        let users = [worker("w1", station, "first-password"), worker("w2", station, "first-password")];
        let sessions = server.admin().enrol(&users, "bench").expect("enrolled");
        assert_eq!(sessions.len(), 2);
        assert_ne!(sessions[0].device_id, sessions[1].device_id);
        for session in &sessions {
            let page = server
                .pull(&session.access_token, domain::SCHEMA_VERSION, PullQuery { after: 0, limit: None })
                .expect("the session pulls");
            assert!(!page.entries.is_empty(), "the station is in the user's scope");
        }
        let login = protocol::LoginRequest {
            username: "w2".into(),
            password: "first-password".into(),
            device_id: None,
            device_name: "laptop".into(),
            signing_key: None,
            signing_key_proof: None,
        };
        assert!(server.login(login).is_ok());
    }

    #[test]
    fn a_roster_with_one_bad_user_enrols_nobody() {
        let server = server();
        let station = server.admin().create_station("城关镇社工站", "示范县").expect("station");
        let users = [worker("w1", station, "first-password"), worker("w1", station, "first-password")];
        assert!(server.admin().enrol(&users, "bench").is_err(), "the username is taken by the first");
        assert_eq!(server.admin().user_id("w1").expect("reads"), None);
        let short = [worker("w3", station, "short")];
        assert!(matches!(server.admin().enrol(&short, "bench"), Err(crate::AdminError::Invalid { .. })));
    }
}
