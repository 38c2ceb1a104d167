//! [`check_change`]: whether one change may be applied, by whom, given what is known. The desktop
//! app calls it before recording a write; the sync server calls it again, with its own state and
//! the actor it derived itself, before accepting the change. One function, so both agree.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{ClosureDecisionKind, ClosureStatus, Stage};
use crate::change::{Change, FieldWrite, Op};
use crate::entity::{EntityKind, EntityState, FieldType};
use crate::org::{RoleKind, User};
use crate::pipeline::{self, CaseHoldings, PipelineError};
use crate::places;
use crate::policy::{self, Action, Actor, Denied, DenyReason, Target};
use crate::recipient::Gender;
use crate::referral::{self, ReferralError};
use crate::signoff::{self, SealError};
use crate::validate::{self, FieldError, Invalid};
use crate::{Id, Labelled, field};

/// Read access to the current state, as the rules need it. Implemented by the device store and
/// by the server's storage.
pub trait StateView {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError>;
    /// Every stage record (screenings, goals, decisions...) of a case.
    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError>;
    /// The cases of a recipient.
    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError>;
}

/// A failure to read state (an IO error underneath); not a verdict on the change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read state: {0}")]
pub struct LookupError(pub String);

/// Why a change was refused. Each has a stable code, a Chinese message and an English one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{0}")]
    Denied(Denied),
    /// A change to a case (or its records) by a worker it is not assigned to, while another
    /// worker has it: typically the case was reassigned while this worker was offline. Code
    /// `not_assigned`, like the denial it stands for; the messages name the worker who has it.
    #[error(
        "the case is now assigned to {worker_name}, so this change was not taken; it is kept with the refused changes, to hand over to {worker_name}"
    )]
    AssignedElsewhere { denied: Denied, worker_id: Id, worker_name: String },
    #[error("{0}")]
    Pipeline(PipelineError),
    #[error("{0}")]
    Referral(ReferralError),
    #[error("{0}")]
    Seal(SealError),
    #[error("no {0:?} with this id is known")]
    UnknownEntity(EntityKind),
    #[error("a {0:?} with this id already exists")]
    AlreadyExists(EntityKind),
    #[error("{0:?} records are never edited; record an amendment instead")]
    AppendOnly(EntityKind),
    #[error("the change sets no field")]
    NothingToChange,
    #[error("{field} names a record that is not known")]
    UnknownReference { field: String },
    #[error("{field} names a record of another station")]
    OutsideReference { field: String },
    #[error("the change claims another author")]
    ForgedAuthor,
    #[error("{field} must be the signed-in user")]
    NotSelf { field: String },
    #[error("the case can only be assigned to a social worker or deputy head of its station")]
    IneligibleWorker,
    #[error("a new case starts open, at the Identify stage")]
    NotANewCase,
    #[error("a recipient with open cases cannot be transferred")]
    HasOpenCases,
    #[error("an amendment corrects a record of the same {0:?}, not of another")]
    AmendsElsewhere(EntityKind),
    /// A new recipient, household or visit (or a move) naming a station or village an
    /// administrator deactivated (`places`).
    #[error("the {} is deactivated: no new recipients, households or visits are placed in it", .kind.en().to_lowercase())]
    PlaceDeactivated { kind: EntityKind, field: String },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid(e) => e.code(),
            Rejection::Denied(d) | Rejection::AssignedElsewhere { denied: d, .. } => d.code(),
            Rejection::Pipeline(p) => p.code(),
            Rejection::Referral(r) => r.code(),
            Rejection::Seal(s) => s.code(),
            Rejection::UnknownEntity(_) => "unknown_entity",
            Rejection::AlreadyExists(_) => "already_exists",
            Rejection::AppendOnly(_) => "append_only",
            Rejection::NothingToChange => "nothing_to_change",
            Rejection::UnknownReference { .. } => "unknown_reference",
            Rejection::OutsideReference { .. } => "outside_reference",
            Rejection::ForgedAuthor => "forged_author",
            Rejection::NotSelf { .. } => "not_self",
            Rejection::IneligibleWorker => "ineligible_worker",
            Rejection::NotANewCase => "not_a_new_case",
            Rejection::HasOpenCases => "has_open_cases",
            Rejection::AmendsElsewhere(_) => "amends_elsewhere",
            Rejection::PlaceDeactivated { .. } => "place_deactivated",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Rejection::Invalid(e) => e.message("zh"),
            Rejection::Denied(d) => d.message_zh(),
            Rejection::AssignedElsewhere { worker_name, .. } => {
                format!(
                    "该个案已改派给{worker_name}，这项修改未被采纳；修改内容保留在“被退回的修改”中，可转交给{worker_name}"
                )
            }
            Rejection::Pipeline(p) => p.message_zh(),
            Rejection::Referral(r) => r.message_zh(),
            Rejection::Seal(s) => s.message_zh().into(),
            Rejection::UnknownEntity(k) => format!("找不到该{}", k.zh()),
            Rejection::AlreadyExists(k) => format!("该{}已存在", k.zh()),
            Rejection::AppendOnly(k) => format!("{}记录后不能修改，请另行补充更正", k.zh()),
            Rejection::NothingToChange => "没有要修改的内容".into(),
            Rejection::UnknownReference { field } => format!("{field}指向的记录不存在"),
            Rejection::OutsideReference { field } => format!("{field}指向其他社工站的记录"),
            Rejection::ForgedAuthor => "修改的作者与登录用户不符".into(),
            Rejection::NotSelf { field } => format!("{field}必须是当前登录用户"),
            Rejection::IneligibleWorker => "个案只能分派给本站的社工或副站长".into(),
            Rejection::NotANewCase => "新个案应从「识别对象」阶段开始".into(),
            Rejection::HasOpenCases => "该服务对象还有未结案的个案，不能转移".into(),
            Rejection::AmendsElsewhere(k) => format!("更正只能针对同一{}的记录", k.zh()),
            Rejection::PlaceDeactivated { kind, .. } => {
                format!("该{}已停用，不能再登记新的服务对象、家庭或走访", kind.zh())
            }
        }
    }

    /// The field the UI should mark, when the rejection is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Rejection::Invalid(e) => Some(&e.field),
            Rejection::UnknownReference { field }
            | Rejection::OutsideReference { field }
            | Rejection::NotSelf { field }
            | Rejection::PlaceDeactivated { field, .. } => Some(field),
            Rejection::AmendsElsewhere(_) => Some(field::AMENDS),
            Rejection::Referral(r) => Some(r.field()),
            _ => None,
        }
    }
}

/// The wire and storage form of a rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionInfo {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&Rejection> for RejectionInfo {
    fn from(r: &Rejection) -> Self {
        RejectionInfo {
            code: r.code().into(),
            message_zh: r.message_zh(),
            message_en: r.to_string(),
            field: r.field().map(Into::into),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

impl From<FieldError> for CheckError {
    fn from(e: FieldError) -> Self {
        CheckError::Rejected(Rejection::Invalid(e))
    }
}
impl From<Denied> for CheckError {
    fn from(e: Denied) -> Self {
        CheckError::Rejected(Rejection::Denied(e))
    }
}
impl From<PipelineError> for CheckError {
    fn from(e: PipelineError) -> Self {
        CheckError::Rejected(Rejection::Pipeline(e))
    }
}
impl From<SealError> for CheckError {
    fn from(e: SealError) -> Self {
        CheckError::Rejected(Rejection::Seal(e))
    }
}

fn reject<T>(r: Rejection) -> Result<T, CheckError> {
    Err(CheckError::Rejected(r))
}

/// Checks `change` on behalf of `actor` against `view`, and returns it with its values
/// normalized. `latest_date` is the latest date a "not in the future" field accepts: today on a
/// device; on the server a day or two later, since a device's clock may be ahead.
pub fn check_change(
    actor: &Actor,
    change: &Change,
    view: &dyn StateView,
    latest_date: NaiveDate,
) -> Result<Change, CheckError> {
    if change.author_id != actor.user_id {
        return reject(Rejection::ForgedAuthor);
    }
    let kind = change.entity;
    let spec = kind.spec();
    let current = view.entity(kind, change.entity_id)?;

    // Field by field: known, editable, valid; normalized.
    let mut normalized = change.clone();
    for (name, write) in normalized.fields.iter_mut() {
        let field = spec.field(name).ok_or_else(|| FieldError::unknown(name))?;
        if change.op == Op::Update && !field.mutable {
            return Err(FieldError::new(field, Invalid::Immutable).into());
        }
        write.value = validate::normalize_field(field, &write.value, latest_date)?;
    }
    match (change.op, &current) {
        (Op::Create, Some(_)) => return reject(Rejection::AlreadyExists(kind)),
        (Op::Update, None) => return reject(Rejection::UnknownEntity(kind)),
        (Op::Update, Some(_)) if spec.append_only => return reject(Rejection::AppendOnly(kind)),
        (Op::Update, Some(_)) if change.fields.is_empty() => return reject(Rejection::NothingToChange),
        (Op::Create, None) => {
            for field in spec.fields.iter().filter(|f| f.required) {
                if normalized.value(field.name).is_none() {
                    return Err(FieldError::new(field, Invalid::Required).into());
                }
            }
        }
        _ => {}
    }

    // The record as it would stand with this change, for the rules below.
    let mut proposed: BTreeMap<String, Value> = current.as_ref().map(|c| c.fields.clone()).unwrap_or_default();
    for (name, write) in &normalized.fields {
        proposed.insert(name.clone(), write.value.clone());
    }
    let proposed_id = |field: &str| proposed.get(field).and_then(Value::as_str).and_then(|s| Id::try_parse(s).ok());
    let current_id = |field: &str| current.as_ref().and_then(|c| c.get_id(field));

    // Where the record lives: its station as it stands (a transfer is authorized against the
    // station it leaves), and for case records, the case and its worker.
    let station_id = match kind {
        EntityKind::Station => Some(change.entity_id),
        EntityKind::User => proposed_id(field::user::STATION_ID).or_else(|| first_supervised(&proposed)),
        _ => current_id(field::STATION_ID).or_else(|| proposed_id(field::STATION_ID)),
    };
    let case = match kind {
        EntityKind::Case => current.clone(),
        _ if kind.is_case_record() => {
            let case_id =
                proposed_id(field::CASE_ID).ok_or(Rejection::UnknownReference { field: field::CASE_ID.into() })?;
            let case = view.entity(EntityKind::Case, case_id)?;
            let case = case.ok_or(Rejection::UnknownReference { field: field::CASE_ID.into() })?;
            if case.station_id() != station_id {
                return reject(Rejection::OutsideReference { field: field::CASE_ID.into() });
            }
            Some(case)
        }
        _ => None,
    };
    let case_worker_id = match kind {
        EntityKind::Case => current_id(field::case::WORKER_ID).or_else(|| proposed_id(field::case::WORKER_ID)),
        _ => case.as_ref().and_then(|c| c.get_id(field::case::WORKER_ID)),
    };
    let target = Target { kind, station_id, case_worker_id };

    // References must name known records of the same station — for a transfer, the station it
    // goes to, which must then also name the village there.
    let reference_station = match kind {
        EntityKind::Recipient => proposed_id(field::recipient::STATION_ID).or(station_id),
        _ => station_id,
    };
    check_references(&normalized, spec.fields, reference_station, view)?;
    check_amendment(kind, &normalized, &proposed, view)?;

    let actions = classify(change, current.as_ref(), &proposed)?;
    // A reopening moves the case to its next generation, which seals are bound to. A writer that
    // does not set it (an older client) has it set here, as if it had.
    if kind == EntityKind::Case
        && actions.contains(&Action::Reopen)
        && !normalized.touches(field::case::REOPEN_GENERATION)
        && let Some(current) = &current
    {
        let next = Value::from(signoff::case_generation(current).saturating_add(1));
        let base = Some(current.clock(field::case::REOPEN_GENERATION).hlc);
        normalized.fields.insert(
            field::case::REOPEN_GENERATION.into(),
            FieldWrite { value: next.clone(), base, resolves: Vec::new() },
        );
        proposed.insert(field::case::REOPEN_GENERATION.into(), next);
    }
    for action in &actions {
        if let Err(denied) = policy::authorize(actor, *action, &target) {
            return reject(denial(denied, case_worker_id, view)?);
        }
    }
    places::check_places_active(&normalized, current.as_ref(), view)?;

    if kind == EntityKind::Referral {
        referral::check_referral_change(&mut normalized, current.as_ref(), &mut proposed, view)?;
    }
    match kind {
        EntityKind::Recipient => check_recipient(&normalized, current.as_ref(), &proposed, latest_date, view)?,
        EntityKind::Case => check_case(actor, &normalized, current.as_ref(), &proposed, &actions, view)?,
        EntityKind::ClosureDecision => {
            let case = case.as_ref().ok_or(Rejection::UnknownReference { field: field::CASE_ID.into() })?;
            check_decision(actor, &proposed, case, view)?;
        }
        // Supervision is recorded by the supervisor who gives it, and only they edit it.
        EntityKind::SupervisionPlan | EntityKind::SupervisionSession => {
            let supervisor_id = proposed.get(field::supervision_session::SUPERVISOR_ID).and_then(Value::as_str);
            if supervisor_id.and_then(|s| Id::try_parse(s).ok()) != Some(actor.user_id) {
                return reject(Rejection::NotSelf { field: field::supervision_session::SUPERVISOR_ID.into() });
            }
        }
        EntityKind::Visit
        | EntityKind::Intervention
        | EntityKind::FollowUp
        | EntityKind::TrainingRecord
        | EntityKind::WorkTime => {
            let worker_id = proposed.get(field::WORKER_ID).and_then(Value::as_str).and_then(|s| Id::try_parse(s).ok());
            if worker_id != Some(actor.user_id) {
                return reject(Rejection::NotSelf { field: field::WORKER_ID.into() });
            }
        }
        _ => {}
    }
    if kind.is_case_record()
        && kind != EntityKind::ClosureDecision
        && let Some(case) = &case
    {
        check_case_open_for_records(case)?;
    }
    Ok(normalized)
}

/// An amendment corrects a record about the same person (a visit) or the same case (a service
/// record or a follow-up): a correction filed under another case would show in neither.
fn check_amendment(
    kind: EntityKind,
    change: &Change,
    proposed: &BTreeMap<String, Value>,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let Some(amended_id) = change.id_value(field::AMENDS) else { return Ok(()) };
    let (owner_field, owner_kind) = match kind {
        EntityKind::Visit => (field::visit::RECIPIENT_ID, EntityKind::Recipient),
        EntityKind::Intervention | EntityKind::FollowUp => (field::CASE_ID, EntityKind::Case),
        _ => return Ok(()),
    };
    // check_references has made sure the amended record exists.
    let Some(amended) = view.entity(kind, amended_id)? else {
        return reject(Rejection::UnknownReference { field: field::AMENDS.into() });
    };
    let owner = proposed.get(owner_field).and_then(Value::as_str).and_then(|s| Id::try_parse(s).ok());
    if owner.is_none() || amended.get_id(owner_field) != owner {
        return reject(Rejection::AmendsElsewhere(owner_kind));
    }
    Ok(())
}

/// The rejection for a denial: one because the case is assigned to another worker names that
/// worker (see [`Rejection::AssignedElsewhere`]), when their record is known.
fn denial(denied: Denied, case_worker_id: Option<Id>, view: &dyn StateView) -> Result<Rejection, CheckError> {
    if denied.reason == DenyReason::NotAssigned
        && let Some(worker_id) = case_worker_id
        && let Some(worker) = view.entity(EntityKind::User, worker_id)?
        && let Some(name) = worker.get_str(field::user::DISPLAY_NAME)
    {
        return Ok(Rejection::AssignedElsewhere { denied, worker_id, worker_name: name.to_string() });
    }
    Ok(Rejection::Denied(denied))
}

fn first_supervised(fields: &BTreeMap<String, Value>) -> Option<Id> {
    fields
        .get(field::user::SUPERVISED_STATION_IDS)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .and_then(|s| Id::try_parse(s).ok())
}

fn check_references(
    change: &Change,
    fields: &[crate::entity::FieldSpec],
    station_id: Option<Id>,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    for field in fields {
        // A list of references (an activity's participants) is checked id by id, as one is.
        let (ref_kind, ids): (EntityKind, Vec<Id>) = match field.ty {
            FieldType::Ref(kind) => (kind, change.id_value(field.name).into_iter().collect()),
            FieldType::RefList(kind) => {
                let list = change.value(field.name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                (kind, list.iter().filter_map(Value::as_str).filter_map(|s| Id::try_parse(s).ok()).collect())
            }
            _ => continue,
        };
        for id in ids {
            let referenced = view.entity(ref_kind, id)?;
            let Some(referenced) = referenced else {
                return reject(Rejection::UnknownReference { field: field.name.into() });
            };
            // Users may belong to several stations (supervisors); stations are themselves.
            let same_station = match ref_kind {
                EntityKind::Station => true,
                EntityKind::User => true,
                _ => referenced.station_id() == station_id,
            };
            if !same_station {
                return reject(Rejection::OutsideReference { field: field.name.into() });
            }
        }
    }
    Ok(())
}

/// Which policy actions a change amounts to.
fn classify(
    change: &Change,
    current: Option<&EntityState>,
    proposed: &BTreeMap<String, Value>,
) -> Result<Vec<Action>, CheckError> {
    let kind = change.entity;
    let Some(current) = current else {
        return Ok(vec![if kind == EntityKind::ClosureDecision { Action::DecideClosure } else { Action::Create }]);
    };
    let proposed_str = |f: &str| proposed.get(f).and_then(Value::as_str);
    let mut actions = Vec::new();
    for field in change.fields.keys() {
        let unchanged = current.fields.get(field) == proposed.get(field);
        let action = match (kind, field.as_str()) {
            (EntityKind::Recipient, field::recipient::STATION_ID) if !unchanged => Action::Transfer,
            (EntityKind::Station, field::station::STALL_DAYS) => Action::SetStallThreshold,
            (EntityKind::Station, field::station::STANDARD_SET) => Action::SetStandards,
            (EntityKind::User, field::user::QUALIFICATION) => Action::SetQualification,
            (EntityKind::Station, field::station::REFERRAL_OVERDUE_DAYS) => Action::SetReferralOverdueDays,
            (EntityKind::Case, field::case::WORKER_ID) if !unchanged => Action::Reassign,
            (EntityKind::Case, field::case::STAGE) if !unchanged => {
                if current.get_enum::<Stage>(field::case::STAGE) == Some(Stage::Closed) {
                    Action::Reopen
                } else if proposed_str(field::case::STAGE) == Some(Stage::Closed.as_str()) {
                    Action::DecideClosure
                } else {
                    Action::MoveStage
                }
            }
            (
                EntityKind::Case,
                field::case::CLOSURE_STATUS
                | field::case::CLOSURE_SUMMARY
                | field::case::CLOSURE_REQUESTED_ON
                | field::case::CLOSURE_COMMENTS,
            ) => match proposed_str(field::case::CLOSURE_STATUS).and_then(ClosureStatus::parse) {
                Some(ClosureStatus::Requested) => Action::RequestClosure,
                Some(ClosureStatus::Returned | ClosureStatus::SignedOff) => Action::DecideClosure,
                Some(ClosureStatus::Open) if current.get_enum::<Stage>(field::case::STAGE) == Some(Stage::Closed) => {
                    Action::Reopen
                }
                Some(ClosureStatus::Open) => Action::RequestClosure,
                None => Action::Edit,
            },
            (EntityKind::Case, field::case::STAGE_ENTERED_ON) => continue,
            // The reason for reopening is written by the reopening itself (`check_case` refuses
            // it written otherwise).
            (EntityKind::Case, field::case::REOPEN_REASON)
                if current.get_enum::<Stage>(field::case::STAGE) == Some(Stage::Closed) =>
            {
                Action::Reopen
            }
            (EntityKind::Case, field::case::REOPEN_GENERATION)
                if !unchanged && current.get_enum::<Stage>(field::case::STAGE) == Some(Stage::Closed) =>
            {
                Action::Reopen
            }
            _ => Action::Edit,
        };
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    Ok(actions)
}

fn check_recipient(
    change: &Change,
    current: Option<&EntityState>,
    proposed: &BTreeMap<String, Value>,
    latest_date: NaiveDate,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let spec = EntityKind::Recipient.spec();
    // Gender and date of birth must agree with the ID number.
    if [field::recipient::ID_NUMBER, field::recipient::GENDER, field::recipient::BIRTH_DATE]
        .iter()
        .any(|f| change.touches(f))
    {
        let id_number = proposed.get(field::recipient::ID_NUMBER).and_then(Value::as_str).unwrap_or_default();
        let facts = validate::resident_id_number(id_number, latest_date)
            .map(|(_, facts)| facts)
            .map_err(|invalid| FieldError::new(spec.field(field::recipient::ID_NUMBER).expect("spec"), invalid))?;
        let gender = proposed.get(field::recipient::GENDER).and_then(Value::as_str).and_then(Gender::parse);
        if gender != Some(facts.gender) {
            return Err(FieldError::new(
                spec.field(field::recipient::GENDER).expect("spec"),
                Invalid::DisagreesWithIdNumber,
            )
            .into());
        }
        let birth = proposed.get(field::recipient::BIRTH_DATE).and_then(Value::as_str);
        if birth != Some(facts.birth_date.format("%Y-%m-%d").to_string().as_str()) {
            return Err(FieldError::new(
                spec.field(field::recipient::BIRTH_DATE).expect("spec"),
                Invalid::DisagreesWithIdNumber,
            )
            .into());
        }
    }
    // A transfer takes the recipient out of the station: only without open cases.
    if let Some(current) = current {
        let moving = change.touches(field::recipient::STATION_ID)
            && current.fields.get(field::recipient::STATION_ID) != proposed.get(field::recipient::STATION_ID);
        if moving {
            // The village is of the station it leaves; the transfer names one of the new station.
            if !change.touches(field::recipient::VILLAGE_ID) {
                return Err(FieldError::new(
                    spec.field(field::recipient::VILLAGE_ID).expect("spec"),
                    Invalid::Required,
                )
                .into());
            }
            let open = view
                .cases_of_recipient(current.id)?
                .iter()
                .any(|c| c.get_enum::<Stage>(field::case::STAGE) != Some(Stage::Closed));
            if open {
                return reject(Rejection::HasOpenCases);
            }
        }
    }
    Ok(())
}

fn user(view: &dyn StateView, id: Id) -> Result<Option<User>, CheckError> {
    Ok(view.entity(EntityKind::User, id)?.and_then(|u| u.to_typed::<User>().ok()))
}

fn check_case(
    actor: &Actor,
    change: &Change,
    current: Option<&EntityState>,
    proposed: &BTreeMap<String, Value>,
    actions: &[Action],
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let proposed_enum = |f: &str| proposed.get(f).and_then(Value::as_str).map(str::to_owned);
    let new_stage = proposed_enum(field::case::STAGE).and_then(|s| Stage::parse(&s)).unwrap_or(Stage::Identify);
    let new_closure = proposed_enum(field::case::CLOSURE_STATUS)
        .and_then(|s| ClosureStatus::parse(&s))
        .unwrap_or(ClosureStatus::Open);
    let station_id = proposed.get(field::case::STATION_ID).and_then(Value::as_str).and_then(|s| Id::try_parse(s).ok());

    if change.touches(field::case::WORKER_ID) {
        let worker_id =
            proposed.get(field::case::WORKER_ID).and_then(Value::as_str).and_then(|s| Id::try_parse(s).ok());
        let eligible = match worker_id {
            Some(id) => user(view, id)?.is_some_and(|u| {
                u.active
                    && matches!(u.role, RoleKind::SocialWorker | RoleKind::DeputyHead)
                    && u.station_id.is_some()
                    && u.station_id == station_id
            }),
            None => false,
        };
        if !eligible {
            return reject(Rejection::IneligibleWorker);
        }
    }

    let new_generation = proposed
        .get(field::case::REOPEN_GENERATION)
        .map_or(Some(0), |v| if v.is_null() { Some(0) } else { v.as_i64() });
    let Some(current) = current else {
        if new_stage != Stage::Identify || new_closure != ClosureStatus::Open {
            return reject(Rejection::NotANewCase);
        }
        if new_generation != Some(0) {
            return Err(PipelineError::ReopenGeneration { expected: 0 }.into());
        }
        return Ok(());
    };
    let generation = signoff::case_generation(current);
    let stage = current.get_enum::<Stage>(field::case::STAGE).unwrap_or(Stage::Identify);
    let closure = current.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS).unwrap_or(ClosureStatus::Open);
    let records = view.case_records(current.id)?;
    let holdings = CaseHoldings::count(&records);

    if actions.contains(&Action::Reopen) {
        pipeline::check_reopen(stage, new_stage)?;
        if new_closure != ClosureStatus::Open {
            return Err(PipelineError::ReopenToOpenStage.into());
        }
        let expected = generation.saturating_add(1);
        if new_generation != Some(expected) {
            return Err(PipelineError::ReopenGeneration { expected }.into());
        }
        return Ok(());
    }
    // Only a reopening moves the generation, or writes its reason.
    if new_generation != Some(generation) {
        return Err(PipelineError::ReopenGeneration { expected: generation }.into());
    }
    if change.touches(field::case::REOPEN_REASON)
        && proposed.get(field::case::REOPEN_REASON).filter(|v| !v.is_null()) != current.get(field::case::REOPEN_REASON)
    {
        return Err(PipelineError::ReopenReasonOnlyByReopening.into());
    }
    if stage == Stage::Closed {
        return Err(PipelineError::CaseClosed.into());
    }
    if actions.contains(&Action::DecideClosure) {
        pipeline::check_sign_off(stage, closure)?;
        // The case closes together with a signed-off decision already recorded for it;
        // a returned closure stays open with the supervisor's comments.
        let signed_off = new_closure == ClosureStatus::SignedOff;
        if signed_off != (new_stage == Stage::Closed) {
            return Err(PipelineError::ClosedOnlyBySignOff.into());
        }
        // The decision must be of this generation: one made before the case was last reopened
        // does not close it again.
        let decision = latest_decision(&records);
        if signed_off && decision.is_some_and(|d| !signoff::is_of_current_generation(d, current, &records)) {
            return Err(SealError::StaleGeneration.into());
        }
        let decided = decision.is_some_and(|d| {
            d.get_id(field::closure_decision::SUPERVISOR_ID) == Some(actor.user_id)
                && d.get_enum::<ClosureDecisionKind>(field::closure_decision::DECISION)
                    == Some(if signed_off { ClosureDecisionKind::SignedOff } else { ClosureDecisionKind::Returned })
        });
        if !decided {
            return Err(PipelineError::NoClosureRequest.into());
        }
        return Ok(());
    }
    if closure == ClosureStatus::Requested && !actions.iter().all(|a| *a == Action::RequestClosure) {
        return Err(PipelineError::ClosurePending.into());
    }
    if actions.contains(&Action::MoveStage) {
        pipeline::check_move(stage, new_stage, closure, &holdings)?;
    }
    if actions.contains(&Action::RequestClosure) && new_closure == ClosureStatus::Requested {
        pipeline::check_closure_request(stage, closure, &holdings)?;
        if proposed.get(field::case::CLOSURE_SUMMARY).is_none_or(Value::is_null) {
            let spec = EntityKind::Case.spec().field(field::case::CLOSURE_SUMMARY).expect("spec");
            return Err(FieldError::new(spec, Invalid::Required).into());
        }
    }
    Ok(())
}

/// The most recent closure decision of a case, by its stamp.
pub fn latest_decision(records: &[EntityState]) -> Option<&EntityState> {
    records.iter().filter(|r| r.kind == EntityKind::ClosureDecision).max_by_key(|r| r.created.hlc)
}

fn check_decision(
    actor: &Actor,
    proposed: &BTreeMap<String, Value>,
    case: &EntityState,
    view: &dyn StateView,
) -> Result<(), CheckError> {
    let get = |f: &str| proposed.get(f).and_then(Value::as_str);
    if get(field::closure_decision::SUPERVISOR_ID).and_then(|s| Id::try_parse(s).ok()) != Some(actor.user_id) {
        return reject(Rejection::NotSelf { field: field::closure_decision::SUPERVISOR_ID.into() });
    }
    let stage = case.get_enum::<Stage>(field::case::STAGE).unwrap_or(Stage::Identify);
    let closure = case.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS).unwrap_or(ClosureStatus::Open);
    pipeline::check_sign_off(stage, closure)?;
    let spec = EntityKind::ClosureDecision.spec();
    match get(field::closure_decision::DECISION).and_then(ClosureDecisionKind::parse) {
        Some(ClosureDecisionKind::Returned) if get(field::closure_decision::COMMENTS).is_none() => {
            return Err(FieldError::new(
                spec.field(field::closure_decision::COMMENTS).expect("spec"),
                Invalid::Required,
            )
            .into());
        }
        Some(ClosureDecisionKind::Returned) => {}
        Some(ClosureDecisionKind::SignedOff) => {
            for f in [
                field::closure_decision::CASE_DIGEST,
                field::closure_decision::SIGNATURE,
                field::closure_decision::PUBLIC_KEY,
            ] {
                if get(f).is_none() {
                    return Err(FieldError::new(spec.field(f).expect("spec"), Invalid::Required).into());
                }
            }
            let (Some(digest), Some(signature), Some(key)) = (
                get(field::closure_decision::CASE_DIGEST),
                get(field::closure_decision::SIGNATURE),
                get(field::closure_decision::PUBLIC_KEY),
            ) else {
                return Err(SealError::Malformed.into());
            };
            let keys = user(view, actor.user_id)?.map(|u| u.signing_keys).unwrap_or_default();
            if !keys.iter().any(|k| k == key) {
                return Err(SealError::UnknownKey.into());
            }
            // Bound to the case's current generation: a sign-off made before the case was last
            // reopened cannot be replayed (see `signoff::check_sealed_content`).
            let generation = match proposed.get(field::closure_decision::CASE_GENERATION).filter(|v| !v.is_null()) {
                Some(g) => Some(g.as_i64().ok_or(SealError::Malformed)?),
                None => None,
            };
            signoff::verify_sealed(key, case.id, generation, digest, signature)?;
            let records = view.case_records(case.id)?;
            signoff::check_sealed_content(generation, digest, case, &records)?;
        }
        None => {}
    }
    Ok(())
}

/// Stage records can be added or edited only while the case is open and not awaiting sign-off.
fn check_case_open_for_records(case: &EntityState) -> Result<(), CheckError> {
    match (case.get_enum::<Stage>(field::case::STAGE), case.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS)) {
        (Some(Stage::Closed), _) => Err(PipelineError::CaseClosed.into()),
        (_, Some(ClosureStatus::Requested)) => Err(PipelineError::ClosurePending.into()),
        _ => Ok(()),
    }
}
