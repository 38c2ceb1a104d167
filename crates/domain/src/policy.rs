//! Who may read and who may change what: one function, [`authorize`], used by the desktop app
//! before it writes, by the sync server before it accepts a change, and by the server to decide
//! what each device may pull.
//!
//! - A social worker: their station's roster (read and write), and the cases assigned to them.
//! - A deputy head: everything of their station, and reassigning cases.
//! - A supervisor: reads the stations they supervise, signs off or returns closures, reopens.
//! - An administrator: users and the organisation, never case content.

use serde::{Deserialize, Serialize};

use crate::Id;
use crate::entity::{Area, EntityKind};
use crate::org::Role;

/// The signed-in user as the policy sees them. On the server the role is derived from the
/// server's own user record, never from what a client claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Id,
    pub role: Option<Role>,
}

impl Actor {
    pub fn new(user_id: Id, role: Option<Role>) -> Self {
        Self { user_id, role }
    }

    /// The stations whose data this actor may read.
    pub fn stations(&self) -> Vec<Id> {
        match &self.role {
            Some(Role::SocialWorker { station_id } | Role::DeputyHead { station_id }) => vec![*station_id],
            Some(Role::Supervisor { station_ids }) => station_ids.clone(),
            Some(Role::Admin) | None => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Edit,
    MoveStage,
    RequestClosure,
    DecideClosure,
    Reassign,
    Reopen,
    /// Move a recipient to another station.
    Transfer,
    /// Set the station's stall threshold of the case board (`station.stall_days`).
    SetStallThreshold,
    /// Set the days after which a referral without an outcome is overdue
    /// (`station.referral_overdue_days`).
    SetReferralOverdueDays,
    /// Choose the standards the station's supervision, training and working time are held
    /// against (`station.standard_set`).
    SetStandards,
    /// Set a worker's qualification (`user.qualification`).
    SetQualification,
    /// Take over (or dismiss) a change the server refused because its case had been reassigned
    /// meanwhile (a handed-over change): the case's current worker, or a deputy head of its
    /// station. The target is the case.
    TakeOver,
}

impl Action {
    fn zh(self) -> &'static str {
        match self {
            Action::Read => "查看",
            Action::Create => "新建",
            Action::Edit => "修改",
            Action::MoveStage => "推进阶段",
            Action::RequestClosure => "申请结案",
            Action::DecideClosure => "审核结案",
            Action::Reassign => "改派",
            Action::Reopen => "重新开案",
            Action::Transfer => "转移",
            Action::SetStallThreshold => "设置停滞提醒天数",
            Action::SetReferralOverdueDays => "设置转介逾期提醒天数",
            Action::SetStandards => "设置考核标准",
            Action::SetQualification => "设置职业水平",
            Action::TakeOver => "接手",
        }
    }
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub kind: EntityKind,
    /// The station the entity belongs to.
    pub station_id: Option<Id>,
    /// For cases and their records: the social worker the case is assigned to.
    pub case_worker_id: Option<Id>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// The user has no usable role (inactive, or a record without its station).
    NoRole,
    /// The role never allows this action on this kind of record.
    RoleCannot,
    /// The record belongs to a station outside the user's.
    OutsideStation,
    /// The case is assigned to another social worker.
    NotAssigned,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not allowed to {action:?} {kind:?}: {reason:?}")]
pub struct Denied {
    pub action: Action,
    pub kind: EntityKind,
    pub reason: DenyReason,
}

impl Denied {
    pub fn code(&self) -> &'static str {
        match self.reason {
            DenyReason::NoRole => "no_role",
            DenyReason::RoleCannot => "role_cannot",
            DenyReason::OutsideStation => "outside_station",
            DenyReason::NotAssigned => "not_assigned",
        }
    }

    pub fn message_zh(&self) -> String {
        let why = match self.reason {
            DenyReason::NoRole => "当前用户没有可用的角色",
            DenyReason::RoleCannot => "当前角色无此权限",
            DenyReason::OutsideStation => "该记录不属于您所在的社工站",
            DenyReason::NotAssigned => "该个案未分派给您",
        };
        format!("无权{}{}：{}", self.action.zh(), crate::Labelled::zh(self.kind), why)
    }
}

/// Decides whether `actor` may do `action` to `target`.
pub fn authorize(actor: &Actor, action: Action, target: &Target) -> Result<(), Denied> {
    let deny = |reason| Err(Denied { action, kind: target.kind, reason });
    let Some(role) = &actor.role else { return deny(DenyReason::NoRole) };
    let area = target.kind.area();
    let own_case = target.case_worker_id == Some(actor.user_id);
    // Workforce records a worker keeps of their own; the others (supervision) are supervisors'.
    let own_record_kind = matches!(target.kind, EntityKind::TrainingRecord | EntityKind::WorkTime);

    // First: may this role ever do this here? Then: is the record within the role's reach?
    let (allowed, stations): (bool, &[Id]) = match role {
        Role::Admin => {
            let allowed = area == Area::Organisation
                && matches!(
                    action,
                    Action::Read
                        | Action::Create
                        | Action::Edit
                        | Action::SetStallThreshold
                        | Action::SetReferralOverdueDays
                        | Action::SetStandards
                        | Action::SetQualification
                );
            return if allowed { Ok(()) } else { deny(DenyReason::RoleCannot) };
        }
        Role::SocialWorker { station_id } => {
            let allowed = match area {
                Area::Organisation => action == Action::Read,
                Area::Roster => matches!(action, Action::Read | Action::Create | Action::Edit),
                // Their own training and working time (the rules check that it is their own).
                Area::Workforce => {
                    action == Action::Read || (own_record_kind && matches!(action, Action::Create | Action::Edit))
                }
                Area::Case if target.kind == EntityKind::ClosureDecision => action == Action::Read,
                Area::Case => matches!(
                    action,
                    Action::Read
                        | Action::Create
                        | Action::Edit
                        | Action::MoveStage
                        | Action::RequestClosure
                        | Action::TakeOver
                ),
            };
            (allowed, std::slice::from_ref(station_id))
        }
        Role::DeputyHead { station_id } => {
            let allowed = match area {
                // The deputy head runs the case board, and sets its stall and referral thresholds.
                Area::Organisation => {
                    action == Action::Read
                        || (matches!(
                            action,
                            Action::SetStallThreshold | Action::SetReferralOverdueDays | Action::SetStandards
                        ) && target.kind == EntityKind::Station)
                        || (action == Action::SetQualification && target.kind == EntityKind::User)
                }
                Area::Workforce => {
                    action == Action::Read || (own_record_kind && matches!(action, Action::Create | Action::Edit))
                }
                Area::Roster => {
                    matches!(action, Action::Read | Action::Create | Action::Edit | Action::Transfer)
                }
                Area::Case if target.kind == EntityKind::ClosureDecision => action == Action::Read,
                Area::Case => match action {
                    Action::Read
                    | Action::Create
                    | Action::Edit
                    | Action::MoveStage
                    | Action::Reassign
                    | Action::Reopen
                    | Action::TakeOver => true,
                    // Closure is requested by the case's own worker, even when that is a deputy head.
                    Action::RequestClosure => own_case,
                    Action::DecideClosure
                    | Action::Transfer
                    | Action::SetStallThreshold
                    | Action::SetReferralOverdueDays
                    | Action::SetStandards
                    | Action::SetQualification => false,
                },
            };
            (allowed, std::slice::from_ref(station_id))
        }
        Role::Supervisor { station_ids } => {
            let allowed = match area {
                Area::Organisation | Area::Roster => action == Action::Read,
                Area::Case => matches!(action, Action::Read | Action::DecideClosure | Action::Reopen),
                // Supervisors plan and record the supervision of the stations they cover.
                Area::Workforce => {
                    action == Action::Read || (!own_record_kind && matches!(action, Action::Create | Action::Edit))
                }
            };
            (allowed, station_ids.as_slice())
        }
    };
    if !allowed {
        return deny(DenyReason::RoleCannot);
    }
    if !target.station_id.is_some_and(|s| stations.contains(&s)) {
        return deny(DenyReason::OutsideStation);
    }
    if area == Area::Case && matches!(role, Role::SocialWorker { .. }) && !own_case {
        return deny(DenyReason::NotAssigned);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labelled;

    const STATION: Id = Id::from_u128(1);
    const OTHER_STATION: Id = Id::from_u128(2);
    const WORKER: Id = Id::from_u128(10);
    const OTHER_WORKER: Id = Id::from_u128(11);
    const DEPUTY: Id = Id::from_u128(20);
    const SUPERVISOR: Id = Id::from_u128(30);
    const ADMIN: Id = Id::from_u128(40);

    fn worker() -> Actor {
        Actor::new(WORKER, Some(Role::SocialWorker { station_id: STATION }))
    }
    fn deputy() -> Actor {
        Actor::new(DEPUTY, Some(Role::DeputyHead { station_id: STATION }))
    }
    fn supervisor() -> Actor {
        Actor::new(SUPERVISOR, Some(Role::Supervisor { station_ids: vec![STATION] }))
    }
    fn admin() -> Actor {
        Actor::new(ADMIN, Some(Role::Admin))
    }

    fn target(kind: EntityKind, station: Id, case_worker: Option<Id>) -> Target {
        Target { kind, station_id: Some(station), case_worker_id: case_worker }
    }

    fn allowed(actor: &Actor, action: Action, t: Target) -> bool {
        authorize(actor, action, &t).is_ok()
    }

    #[test]
    fn a_worker_keeps_the_station_roster_but_only_their_own_cases() {
        let w = worker();
        assert!(allowed(&w, Action::Create, target(EntityKind::Recipient, STATION, None)));
        assert!(allowed(&w, Action::Edit, target(EntityKind::Household, STATION, None)));
        assert!(allowed(&w, Action::Read, target(EntityKind::Visit, STATION, None)));
        assert!(allowed(&w, Action::MoveStage, target(EntityKind::Case, STATION, Some(WORKER))));
        assert!(allowed(&w, Action::RequestClosure, target(EntityKind::Case, STATION, Some(WORKER))));
        let other_case = target(EntityKind::Case, STATION, Some(OTHER_WORKER));
        assert_eq!(authorize(&w, Action::Read, &other_case).map_err(|d| d.reason), Err(DenyReason::NotAssigned));
        let other_station = target(EntityKind::Recipient, OTHER_STATION, None);
        assert_eq!(authorize(&w, Action::Read, &other_station).map_err(|d| d.reason), Err(DenyReason::OutsideStation));
    }

    #[test]
    fn a_worker_cannot_reassign_sign_off_or_reopen() {
        let w = worker();
        let own = target(EntityKind::Case, STATION, Some(WORKER));
        for action in [Action::Reassign, Action::DecideClosure, Action::Reopen] {
            assert_eq!(authorize(&w, action, &own).map_err(|d| d.reason), Err(DenyReason::RoleCannot), "{action:?}");
        }
        let decision = target(EntityKind::ClosureDecision, STATION, Some(WORKER));
        assert!(!allowed(&w, Action::Create, decision));
        assert!(!allowed(&w, Action::Transfer, target(EntityKind::Recipient, STATION, None)));
        assert!(!allowed(&w, Action::Create, target(EntityKind::User, STATION, None)));
    }

    #[test]
    fn a_deputy_head_sees_the_whole_station_and_reassigns() {
        let d = deputy();
        let case = target(EntityKind::Case, STATION, Some(OTHER_WORKER));
        assert!(allowed(&d, Action::Read, case));
        assert!(allowed(&d, Action::Reassign, case));
        assert!(allowed(&d, Action::Reopen, case));
        assert!(allowed(&d, Action::Transfer, target(EntityKind::Recipient, STATION, None)));
        assert!(!allowed(&d, Action::RequestClosure, case));
        assert!(allowed(&d, Action::RequestClosure, target(EntityKind::Case, STATION, Some(DEPUTY))));
        assert!(!allowed(&d, Action::DecideClosure, case));
        assert!(!allowed(&d, Action::Read, target(EntityKind::Case, OTHER_STATION, Some(OTHER_WORKER))));
    }

    #[test]
    fn only_the_deputy_head_of_the_station_and_administrators_set_the_stall_threshold() {
        let station = target(EntityKind::Station, STATION, None);
        assert!(allowed(&deputy(), Action::SetStallThreshold, station));
        assert!(allowed(&admin(), Action::SetStallThreshold, station));
        assert!(!allowed(&deputy(), Action::SetStallThreshold, target(EntityKind::Station, OTHER_STATION, None)));
        assert!(!allowed(&deputy(), Action::Edit, station), "the threshold only, not the station's other fields");
        assert!(!allowed(&deputy(), Action::SetStallThreshold, target(EntityKind::Village, STATION, None)));
        assert!(!allowed(&worker(), Action::SetStallThreshold, station));
        assert!(!allowed(&supervisor(), Action::SetStallThreshold, station));
    }

    #[test]
    fn only_the_deputy_head_of_the_station_and_administrators_set_the_referral_overdue_days() {
        let station = target(EntityKind::Station, STATION, None);
        assert!(allowed(&deputy(), Action::SetReferralOverdueDays, station));
        assert!(allowed(&admin(), Action::SetReferralOverdueDays, station));
        assert!(!allowed(&deputy(), Action::SetReferralOverdueDays, target(EntityKind::Station, OTHER_STATION, None)));
        assert!(!allowed(&worker(), Action::SetReferralOverdueDays, station));
        assert!(!allowed(&supervisor(), Action::SetReferralOverdueDays, station));
    }

    #[test]
    fn a_handed_over_change_is_taken_over_by_the_cases_worker_or_a_deputy_head_of_its_station() {
        let case = target(EntityKind::Case, STATION, Some(WORKER));
        assert!(allowed(&worker(), Action::TakeOver, case));
        assert!(allowed(&deputy(), Action::TakeOver, case));
        let other = Actor::new(OTHER_WORKER, Some(Role::SocialWorker { station_id: STATION }));
        assert_eq!(authorize(&other, Action::TakeOver, &case).map_err(|d| d.reason), Err(DenyReason::NotAssigned));
        let elsewhere = target(EntityKind::Case, OTHER_STATION, Some(WORKER));
        assert!(!allowed(&deputy(), Action::TakeOver, elsewhere));
        assert!(!allowed(&supervisor(), Action::TakeOver, case));
        assert!(!allowed(&admin(), Action::TakeOver, case));
    }

    #[test]
    fn a_supervisor_reads_and_signs_off_only_in_supervised_stations() {
        let s = supervisor();
        let case = target(EntityKind::Case, STATION, Some(WORKER));
        assert!(allowed(&s, Action::Read, case));
        assert!(allowed(&s, Action::DecideClosure, case));
        assert!(allowed(&s, Action::DecideClosure, target(EntityKind::ClosureDecision, STATION, Some(WORKER))));
        assert!(!allowed(&s, Action::DecideClosure, target(EntityKind::Case, OTHER_STATION, Some(WORKER))));
        assert!(!allowed(&s, Action::Edit, case));
        assert!(!allowed(&s, Action::Create, target(EntityKind::Visit, STATION, None)));
    }

    #[test]
    fn an_admin_manages_the_organisation_but_never_reads_case_content() {
        let a = admin();
        assert!(allowed(&a, Action::Create, target(EntityKind::User, STATION, None)));
        assert!(allowed(&a, Action::Edit, target(EntityKind::Village, STATION, None)));
        for kind in EntityKind::ALL.iter().filter(|k| k.area() != Area::Organisation) {
            assert!(!allowed(&a, Action::Read, target(*kind, STATION, Some(WORKER))), "{kind:?}");
        }
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let nobody = Actor::new(WORKER, None);
        assert_eq!(
            authorize(&nobody, Action::Read, &target(EntityKind::Station, STATION, None)).map_err(|d| d.reason),
            Err(DenyReason::NoRole)
        );
    }

    #[test]
    fn denials_explain_themselves_in_chinese() {
        let d = authorize(&worker(), Action::Reassign, &target(EntityKind::Case, STATION, Some(WORKER)))
            .expect_err("denied");
        assert_eq!(d.code(), "role_cannot");
        assert!(d.message_zh().contains("改派"), "{}", d.message_zh());
        assert_eq!(EntityKind::Case.zh(), "个案");
    }
}
