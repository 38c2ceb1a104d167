//! Administration, for the `shegong-sync admin` command and for tests (there is no HTTP for it):
//! stations, service points, villages, users and passwords, and the demo data.
//!
//! Everything is written as changes into the log like any device's change, checked with the same
//! rules, so every device in scope pulls it: organisation records are authored by the built-in
//! system user ([`SYSTEM_USER_ID`]) on the server's own device.

use chrono::NaiveDate;
use domain::change::{Change, Write};
use domain::entity::EntityKind;
use domain::org::{Post, Role, RoleKind};
use domain::policy::Actor;
use domain::rules::{CheckError, RejectionInfo, check_change};
use domain::{Id, field};
use domain::{Labelled, validate};
use uuid::Uuid;

use crate::auth::{MIN_PASSWORD_CHARS, hash_password};
use crate::batch::{ApplyError, Batch, SYSTEM_USER_ID};
use crate::scope::actor_of;
use crate::server::Server;
use crate::storage::{Credentials, StorageError};

pub use crate::demo::{DEMO_PASSWORD, DemoSeed};

/// What an administrative command could not do. Messages in English (`Display`) and Chinese
/// ([`AdminError::message_zh`]).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{}: {}", .0.code, .0.message_en)]
    Rejected(RejectionInfo),
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error("no user is named {0:?}")]
    UnknownUser(String),
    #[error("{field}: {en}")]
    Invalid { field: &'static str, zh: String, en: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn message_zh(&self) -> String {
        match self {
            AdminError::Rejected(r) => r.message_zh.clone(),
            AdminError::UsernameTaken(u) => format!("用户名“{u}”已被使用"),
            AdminError::UnknownUser(u) => format!("没有名为“{u}”的用户"),
            AdminError::Invalid { zh, .. } => zh.clone(),
            AdminError::Internal(_) => "服务器内部错误".into(),
        }
    }

    fn invalid(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        AdminError::Invalid { field, zh: zh.into(), en: en.into() }
    }
}

impl From<StorageError> for AdminError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::UsernameTaken(u) => AdminError::UsernameTaken(u),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<ApplyError> for AdminError {
    fn from(e: ApplyError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

/// A user to create.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: RoleKind,
    /// Social workers: service or administrative post.
    pub post: Option<Post>,
    /// Social workers and deputy heads.
    pub station_id: Option<Id>,
    pub service_point_id: Option<Id>,
    /// Supervisors.
    pub supervised_station_ids: Vec<Id>,
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("post", &self.post)
            .field("station_id", &self.station_id)
            .field("service_point_id", &self.service_point_id)
            .field("supervised_station_ids", &self.supervised_station_ids)
            .field("password", &"<redacted>")
            .finish()
    }
}

pub struct Admin<'a> {
    pub(crate) server: &'a Server,
}

/// The system user acting as an administrator.
pub(crate) fn system_actor() -> Actor {
    Actor::new(SYSTEM_USER_ID, Some(Role::Admin))
}

/// Stamps `writes` as changes of `author` on the server's device, checks each with the rules on
/// behalf of `actor` (seeing the ones before it), and applies it. The first refusal stops.
pub(crate) fn record(
    batch: &mut Batch<'_>,
    author: Id,
    actor: &Actor,
    writes: Vec<Write>,
) -> Result<Vec<Change>, AdminError> {
    let today: NaiveDate = batch.now.date_naive();
    let mut out = Vec::with_capacity(writes.len());
    for write in writes {
        let change = batch.server_change(author, write.entity, write.entity_id, write.op, write.fields)?;
        let normalized = match check_change(actor, &change, &batch.view(), today) {
            Ok(normalized) => normalized,
            Err(CheckError::Rejected(r)) => return Err(AdminError::Rejected(RejectionInfo::from(&r))),
            Err(CheckError::Lookup(e)) => return Err(AdminError::Internal(e.to_string())),
        };
        batch.apply(&normalized)?;
        out.push(normalized);
    }
    Ok(out)
}

pub(crate) fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::invalid(
            "password",
            format!("密码至少{MIN_PASSWORD_CHARS}个字符"),
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

impl<'a> Admin<'a> {
    pub(crate) fn new(server: &'a Server) -> Self {
        Self { server }
    }

    /// Runs `f` in one write transaction, committed only if it succeeds.
    pub(crate) fn in_batch<T>(&self, f: impl FnOnce(&mut Batch<'_>) -> Result<T, AdminError>) -> Result<T, AdminError> {
        let mut batch = Batch::begin(self.server.storage().as_ref(), self.server.now())?;
        let out = f(&mut batch)?;
        batch.finish()?;
        Ok(out)
    }

    /// Gives the database a new generation: the step after restoring it from a backup. Devices
    /// that see the new generation pull again from the start and send again what this database
    /// lacks of theirs (see docs/sync-protocol.md, "Restored servers"). Returns the new one.
    pub fn new_generation(&self) -> Result<String, AdminError> {
        self.in_batch(|batch| {
            let generation = Uuid::new_v4().simple().to_string();
            batch.tx.set_meta(crate::server::META_GENERATION, &generation)?;
            Ok(generation)
        })
    }

    /// The database's generation (see [`Admin::new_generation`]).
    pub fn generation(&self) -> Result<Option<String>, AdminError> {
        Ok(self.server.storage().read()?.meta(crate::server::META_GENERATION)?)
    }

    pub fn create_station(&self, name: &str, county: &str) -> Result<Id, AdminError> {
        let id = Uuid::now_v7();
        let write =
            Write::create(EntityKind::Station, id).set(field::station::NAME, name).set(field::station::COUNTY, county);
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(id)
    }

    pub fn create_service_point(&self, station_id: Id, name: &str) -> Result<Id, AdminError> {
        let id = Uuid::now_v7();
        let write = Write::create(EntityKind::ServicePoint, id)
            .set(field::service_point::STATION_ID, station_id.to_string())
            .set(field::service_point::NAME, name);
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(id)
    }

    pub fn create_village(&self, station_id: Id, service_point_id: Id, name: &str) -> Result<Id, AdminError> {
        let id = Uuid::now_v7();
        let write = Write::create(EntityKind::Village, id)
            .set(field::village::STATION_ID, station_id.to_string())
            .set(field::village::SERVICE_POINT_ID, service_point_id.to_string())
            .set(field::village::NAME, name);
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(id)
    }

    /// Creates a user with a password; the role's scope must be complete (a station for workers
    /// and deputy heads, supervised stations for supervisors).
    pub fn create_user(&self, user: &NewUser) -> Result<Id, AdminError> {
        check_password(&user.password)?;
        let password_hash = hash_password(&user.password).map_err(AdminError::Internal)?;
        self.in_batch(|batch| create_user_in(batch, user, password_hash))
    }

    /// Sets a user's password, and signs them out everywhere (their tokens are revoked).
    pub fn set_password(&self, username: &str, password: &str) -> Result<(), AdminError> {
        check_password(password)?;
        let password_hash = hash_password(password).map_err(AdminError::Internal)?;
        self.in_batch(|batch| {
            let mut credentials =
                batch.read().credentials(username)?.ok_or_else(|| AdminError::UnknownUser(username.into()))?;
            credentials.password_hash = password_hash;
            batch.tx.put_credentials(&credentials)?;
            batch.tx.revoke_tokens(credentials.user_id, None)?;
            Ok(())
        })
    }

    /// Revokes a device: its tokens stop working at once, it can pull nothing more, and it may
    /// only hand over its unsent work before it wipes its local data.
    pub fn revoke_device(&self, device_id: Id) -> Result<(), AdminError> {
        match self.server.revoke_device(device_id) {
            Ok(true) => Ok(()),
            Ok(false) => Err(AdminError::invalid(
                "device",
                format!("没有登记过设备 {device_id}"),
                format!("no device {device_id} is registered"),
            )),
            Err(e) => Err(AdminError::Internal(e.to_string())),
        }
    }

    /// The id of the user with this username.
    pub fn user_id(&self, username: &str) -> Result<Option<Id>, AdminError> {
        Ok(self.server.storage().read()?.credentials(username)?.map(|c| c.user_id))
    }

    /// Records changes on the server on behalf of a user (on the server's device), checked with
    /// the rules as that user's own changes would be; all or nothing. For demo data and tests.
    pub fn record_as(&self, user_id: Id, writes: Vec<Write>) -> Result<Vec<Change>, AdminError> {
        self.in_batch(|batch| {
            let actor = if user_id == SYSTEM_USER_ID { system_actor() } else { actor_of(batch.read(), user_id)? };
            record(batch, user_id, &actor, writes)
        })
    }

    /// Seeds the demo station, its people and its work. A second run changes nothing.
    pub fn seed_demo(&self) -> Result<DemoSeed, AdminError> {
        crate::demo::seed(self)
    }
}

/// Creates the user record and its credentials inside `batch`.
pub(crate) fn create_user_in(batch: &mut Batch<'_>, user: &NewUser, password_hash: String) -> Result<Id, AdminError> {
    let username = user.username.trim();
    if username.is_empty() {
        return Err(AdminError::invalid(field::user::USERNAME, "用户名不能为空", "the username is required"));
    }
    if batch.read().credentials(username)?.is_some() {
        return Err(AdminError::UsernameTaken(username.into()));
    }
    match user.role {
        RoleKind::SocialWorker | RoleKind::DeputyHead if user.station_id.is_none() => {
            return Err(AdminError::invalid(
                "station",
                "社工和副站长须属于一个社工站",
                "social workers and deputy heads need a station",
            ));
        }
        RoleKind::Supervisor if user.supervised_station_ids.is_empty() => {
            return Err(AdminError::invalid(
                "supervises",
                "督导须至少督导一个社工站",
                "a supervisor needs at least one station",
            ));
        }
        _ => {}
    }
    // The rules check references field by field; a list of stations is checked here.
    for station in &user.supervised_station_ids {
        if batch.read().entity(EntityKind::Station, *station)?.is_none() {
            return Err(AdminError::invalid(
                "supervises",
                format!("社工站 {station} 不存在"),
                format!("no station {station}"),
            ));
        }
    }
    let id = Uuid::now_v7();
    let mut write = Write::create(EntityKind::User, id)
        .set(field::user::USERNAME, username)
        .set(field::user::DISPLAY_NAME, user.display_name.as_str())
        .set(field::user::ROLE, user.role.as_str())
        .set(field::user::ACTIVE, true)
        .set_opt(field::user::POST, user.post.map(|p| p.as_str()))
        .set_opt(field::user::STATION_ID, user.station_id.map(|s| s.to_string()))
        .set_opt(field::user::SERVICE_POINT_ID, user.service_point_id.map(|s| s.to_string()));
    if !user.supervised_station_ids.is_empty() {
        let list: Vec<String> = user.supervised_station_ids.iter().map(Id::to_string).collect();
        write = write.set(field::user::SUPERVISED_STATION_IDS, list);
    }
    record(batch, SYSTEM_USER_ID, &system_actor(), vec![write])?;
    batch.tx.put_credentials(&Credentials { user_id: id, username: username.into(), password_hash })?;
    Ok(id)
}

/// Parses a role name as the command line spells it (`social-worker`, `deputy-head`, ...).
pub fn parse_role(text: &str) -> Option<RoleKind> {
    match text {
        "social-worker" => Some(RoleKind::SocialWorker),
        "deputy-head" => Some(RoleKind::DeputyHead),
        "supervisor" => Some(RoleKind::Supervisor),
        "admin" => Some(RoleKind::Admin),
        other => RoleKind::parse(other),
    }
}

/// Parses a post as the command line spells it (`service`, `administrative`).
pub fn parse_post(text: &str) -> Option<Post> {
    match text {
        "service" => Some(Post::Service),
        "administrative" => Some(Post::Administrative),
        other => Post::parse(other),
    }
}

/// A valid resident ID number for the demo and tests: region, birth date and a three-digit
/// sequence, completed with its check character.
pub fn make_id_number(region: &str, birth: NaiveDate, sequence: u32) -> String {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
    let check = validate::id_number_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}
