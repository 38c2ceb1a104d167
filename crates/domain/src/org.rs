//! The organisation: stations, their village service points and villages, and the people who
//! use the software. Created by an administrator on the sync server; read-only on devices.

use serde::{Deserialize, Serialize};

use crate::Id;

/// 社工站: a township or street social work station, the unit of management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub id: Id,
    pub name: String,
    /// The county (区/县) whose civil-affairs bureau runs the station.
    pub county: String,
}

/// 社工点: a village-level service point of a station, covering two or three villages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePoint {
    pub id: Id,
    pub station_id: Id,
    pub name: String,
    /// 联络员: the contact person named for the point.
    pub liaison_name: Option<String>,
    pub liaison_phone: Option<String>,
}

/// 村(社区): a village or urban community covered by a service point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Village {
    pub id: Id,
    pub station_id: Id,
    pub service_point_id: Id,
    pub name: String,
}

labelled_enum! {
    /// What a user does; decides what they may read and change (see [`crate::policy`]).
    pub enum RoleKind {
        SocialWorker => "社工", "Social worker",
        DeputyHead => "副站长", "Deputy head",
        Supervisor => "督导", "Supervisor",
        Admin => "管理员", "Administrator",
    }
    names = ROLE_NAMES;
}

labelled_enum! {
    /// A social worker's post: 服务性岗位 (at least one per village) or 事务性岗位 (at least two per station).
    pub enum Post {
        Service => "服务性岗位", "Service post",
        Administrative => "事务性岗位", "Administrative post",
    }
    names = POST_NAMES;
}

/// A user with the scope of their role. Workers and deputy heads belong to one station;
/// a supervisor covers several; an administrator manages the organisation, not case content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub role: RoleKind,
    /// Social workers only.
    pub post: Option<Post>,
    /// Social workers and deputy heads.
    pub station_id: Option<Id>,
    /// Social workers: the point they sit at (they may be moved between points of a station).
    pub service_point_id: Option<Id>,
    /// Supervisors: the stations they supervise.
    #[serde(default)]
    pub supervised_station_ids: Vec<Id>,
    /// Supervisors: hex Ed25519 public keys of their devices, to verify closure sign-offs.
    #[serde(default)]
    pub signing_keys: Vec<String>,
    pub active: bool,
}

/// The role of a user together with where it applies, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    SocialWorker { station_id: Id },
    DeputyHead { station_id: Id },
    Supervisor { station_ids: Vec<Id> },
    Admin,
}

impl User {
    /// The role with its scope; `None` when the record is incomplete (e.g. a worker without a
    /// station), which the policy treats as no rights at all.
    pub fn role(&self) -> Option<Role> {
        match self.role {
            RoleKind::SocialWorker => self.station_id.map(|station_id| Role::SocialWorker { station_id }),
            RoleKind::DeputyHead => self.station_id.map(|station_id| Role::DeputyHead { station_id }),
            RoleKind::Supervisor => Some(Role::Supervisor { station_ids: self.supervised_station_ids.clone() }),
            RoleKind::Admin => Some(Role::Admin),
        }
    }
}
