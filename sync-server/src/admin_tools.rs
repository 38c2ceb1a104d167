//! The administrator's registry tools: lists of stations, villages and users, editing and
//! deactivating them, and the audit log of what administrators did.
//!
//! Edits are changes in the log like any other (authored by the system user, checked by the
//! rules), so devices receive them by sync. A deactivated user keeps their record with
//! `active = false`: the server then refuses their sign-ins and pulls (`account_deactivated`),
//! their devices drop their data, and their unsent changes can still be pushed and are kept. A
//! deactivated station or village keeps its records too, and takes nobody new
//! (`domain::places`).

use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::org::{Post, RoleKind};
use domain::{Id, Labelled as _, field};
use uuid::Uuid;

use crate::admin::{Admin, AdminError, record, system_actor};
use crate::batch::SYSTEM_USER_ID;
use crate::storage::AuditEntry;

/// Who runs an admin command, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    /// The operating-system account running the command.
    pub os_user: String,
    /// A person's name given with `--actor` (the OS account may be shared).
    pub actor: Option<String>,
}

impl AuditActor {
    /// The account running this process: `$USER` (or `$LOGNAME`), else its numeric uid.
    pub fn of_this_process(actor: Option<String>) -> Self {
        let os_user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
            .or_else(|| {
                use std::os::unix::fs::MetadataExt as _;
                std::fs::metadata("/proc/self").ok().map(|m| format!("uid {}", m.uid()))
            })
            .unwrap_or_else(|| "unknown".into());
        Self { os_user, actor: actor.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()) }
    }
}

/// What to change in a user's record; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEdit {
    pub display_name: Option<String>,
    pub role: Option<RoleKind>,
    pub station_id: Option<Id>,
    pub service_point_id: Option<Id>,
    pub post: Option<Post>,
}

impl UserEdit {
    pub fn is_empty(&self) -> bool {
        *self == UserEdit::default()
    }

    /// The fields changed, named, for the audit log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(name) = &self.display_name {
            parts.push(format!("display_name={name}"));
        }
        if let Some(role) = self.role {
            parts.push(format!("role={}", role.as_str()));
        }
        if let Some(station) = self.station_id {
            parts.push(format!("station={station}"));
        }
        if let Some(point) = self.service_point_id {
            parts.push(format!("service_point={point}"));
        }
        if let Some(post) = self.post {
            parts.push(format!("post={}", post.as_str()));
        }
        parts.join(" ")
    }
}

impl Admin<'_> {
    /// Every station, village or user the server holds, by id.
    pub fn list(&self, kind: EntityKind) -> Result<Vec<EntityState>, AdminError> {
        Ok(self.server.storage().read()?.entities_of_kind(kind)?)
    }

    /// The user named by `who`: their id, or their username.
    pub fn find_user(&self, who: &str) -> Result<Id, AdminError> {
        let who = who.trim();
        let id = match Uuid::try_parse(who) {
            Ok(id) => Some(id),
            Err(_) => self.user_id(who)?,
        };
        match id {
            Some(id) if self.server.storage().read()?.entity(EntityKind::User, id)?.is_some() => Ok(id),
            _ => Err(AdminError::UnknownUser(who.into())),
        }
    }

    /// Changes a user's name, role, station, service point or post; the rules check the result
    /// (a social worker still needs a station, the station must exist, ...).
    pub fn edit_user(&self, user_id: Id, edit: &UserEdit) -> Result<(), AdminError> {
        if edit.is_empty() {
            return Err(AdminError::Invalid {
                field: "user",
                zh: "没有要修改的内容(可用 --display-name、--role、--station、--service-point、--post)".into(),
                en: "nothing to change (use --display-name, --role, --station, --service-point or --post)".into(),
            });
        }
        let write = Write::update(EntityKind::User, user_id)
            .set_opt(field::user::DISPLAY_NAME, edit.display_name.as_deref())
            .set_opt(field::user::ROLE, edit.role.map(|r| r.as_str()))
            .set_opt(field::user::STATION_ID, edit.station_id.map(|s| s.to_string()))
            .set_opt(field::user::SERVICE_POINT_ID, edit.service_point_id.map(|s| s.to_string()))
            .set_opt(field::user::POST, edit.post.map(|p| p.as_str()));
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(())
    }

    /// Renames a station or changes its county (`None` leaves a field as it is).
    pub fn edit_station(&self, station_id: Id, name: Option<&str>, county: Option<&str>) -> Result<(), AdminError> {
        self.edit_record(
            (EntityKind::Station, "station"),
            station_id,
            &[(field::station::NAME, name), (field::station::COUNTY, county)],
            "--name, --county",
        )
    }

    /// Renames a village.
    pub fn edit_village(&self, village_id: Id, name: Option<&str>) -> Result<(), AdminError> {
        self.edit_record((EntityKind::Village, "village"), village_id, &[(field::village::NAME, name)], "--name")
    }

    fn edit_record(
        &self,
        (kind, label): (EntityKind, &'static str),
        id: Id,
        values: &[(&str, Option<&str>)],
        options: &str,
    ) -> Result<(), AdminError> {
        if values.iter().all(|(_, v)| v.is_none()) {
            return Err(AdminError::Invalid {
                field: label,
                zh: format!("没有要修改的内容(可用 {options})"),
                en: format!("nothing to change (use {options})"),
            });
        }
        if self.server.storage().read()?.entity(kind, id)?.is_none() {
            return Err(AdminError::Invalid {
                field: label,
                zh: format!("没有这条记录:{id}"),
                en: format!("no {label} {id}"),
            });
        }
        let mut write = Write::update(kind, id);
        for (name, value) in values {
            write = write.set_opt(name, *value);
        }
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(())
    }

    /// Deactivates a user (`active = false`). Returns false when they already were.
    pub fn deactivate_user(&self, user_id: Id) -> Result<bool, AdminError> {
        let active = self
            .server
            .storage()
            .read()?
            .entity(EntityKind::User, user_id)?
            .and_then(|r| r.state.get(field::user::ACTIVE).and_then(|v| v.as_bool()))
            .unwrap_or(false);
        if !active {
            return Ok(false);
        }
        let write = Write::update(EntityKind::User, user_id).set(field::user::ACTIVE, false);
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(true)
    }

    /// Deactivates a station or a village (`active = false`, through the checked write path, so
    /// devices receive it by sync): its records stay, nobody new is placed in it
    /// (`domain::places`). Returns false when it already was inactive.
    pub fn deactivate_place(&self, kind: EntityKind, id: Id) -> Result<bool, AdminError> {
        let (label, active_field) = match kind {
            EntityKind::Station => ("station", field::station::ACTIVE),
            EntityKind::Village => ("village", field::village::ACTIVE),
            other => {
                return Err(AdminError::Internal(format!("{other:?} is not a station or a village")));
            }
        };
        let Some(place) = self.server.storage().read()?.entity(kind, id)? else {
            return Err(AdminError::Invalid {
                field: label,
                zh: format!("没有这条记录:{id}"),
                en: format!("no {label} {id}"),
            });
        };
        if !domain::places::is_active(&place.state) {
            return Ok(false);
        }
        let write = Write::update(kind, id).set(active_field, false);
        self.in_batch(|batch| record(batch, SYSTEM_USER_ID, &system_actor(), vec![write]))?;
        Ok(true)
    }

    /// Appends an entry to the audit log. `detail` must never hold a password.
    pub fn audit(&self, who: &AuditActor, action: &str, target: &str, detail: &str) -> Result<(), AdminError> {
        let entry = AuditEntry {
            seq: 0,
            at: self.server.now(),
            os_user: who.os_user.clone(),
            actor: who.actor.clone(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
        };
        let mut tx = self.server.storage().write()?;
        tx.append_audit(&entry)?;
        tx.commit()?;
        Ok(())
    }

    /// The audit log, oldest first.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, AdminError> {
        Ok(self.server.storage().read()?.audit_entries()?)
    }
}
