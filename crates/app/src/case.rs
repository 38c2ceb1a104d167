//! The case pipeline (个案): opening a case, the case page (the stepper, each stage's records,
//! what is still missing before the next step, the supervisor's latest decision and its seal),
//! recording and editing stage records, moving between stages, the plan's strategy, and the
//! closure request.
//!
//! No rule is decided here. Every write goes through `Store::record`, which checks it with
//! `domain::rules::check_change` (fields, policy, pipeline); what the page says is missing is
//! `domain::pipeline::missing_before_next_step`, the list the pipeline's checks refuse with the
//! first of; who may read and edit is `domain::policy::authorize`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use contract::{
    CasePage, CaseRecipient, CaseRecordKind, CaseRecordView, CaseRecords, CaseStep, CaseView, ClosureDecisionView,
    FieldValues, MissingItem, NamedRef, OpenedCase, SavedCaseRecord, SealCheck, sentence,
};
use domain::case::{ClosureDecisionKind, ClosureStatus, Stage};
use domain::change::Write;
use domain::entity::{EntityKind, EntityState};
use domain::field;
use domain::org::User;
use domain::pipeline::{self, CaseHoldings, PipelineError};
use domain::policy::{self, Action, Actor, Target};
use domain::rules::{self, Rejection, StateView};
use domain::signoff;
use domain::{Id, Labelled};
use store::{Store, StoreError};
use uuid::Uuid;

use crate::{AppError, Moment};

/// Opens a case for `recipient_id` at 识别对象, assigned to the signed-in worker, on
/// `opened_on` (today when absent).
pub fn open_case(
    store: &mut Store,
    actor: &Actor,
    recipient_id: Uuid,
    opened_on: Option<NaiveDate>,
    at: Moment,
) -> Result<OpenedCase, AppError> {
    let recipient =
        store.entity(EntityKind::Recipient, recipient_id)?.ok_or(AppError::NotFound(EntityKind::Recipient))?;
    let station_id = recipient.station_id().ok_or(AppError::NotFound(EntityKind::Station))?;
    let opened_on = opened_on.unwrap_or(at.today).to_string();
    let case_id = Uuid::now_v7();
    let write = Write::create(EntityKind::Case, case_id)
        .set(field::case::STATION_ID, station_id.to_string())
        .set(field::case::RECIPIENT_ID, recipient_id.to_string())
        .set(field::case::WORKER_ID, actor.user_id.to_string())
        .set(field::case::STAGE, Stage::Identify.as_str())
        .set(field::case::STAGE_ENTERED_ON, opened_on.clone())
        .set(field::case::OPENED_ON, opened_on)
        .set(field::case::CLOSURE_STATUS, ClosureStatus::Open.as_str());
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(OpenedCase { case_id })
}

/// Everything the case page shows, as the signed-in user may see it.
pub fn case_page(store: &Store, actor: &Actor, case_id: Uuid) -> Result<CasePage, AppError> {
    let case = held_case(store, case_id)?;
    authorize(actor, Action::Read, EntityKind::Case, &case).map_err(AppError::Rejected)?;
    let mut records = store.case_records(case_id).map_err(|e| AppError::Store(StoreError::Lookup(e)))?;
    records.sort_by_key(|r| r.created.hlc);
    let mut names = Names::new(store);

    let stage = case.get_enum::<Stage>(field::case::STAGE).unwrap_or(Stage::Identify);
    let closure = case.get_enum::<ClosureStatus>(field::case::CLOSURE_STATUS).unwrap_or(ClosureStatus::Open);
    let holdings = CaseHoldings::count(&records);
    let missing = pipeline::missing_before_next_step(stage, closure, &holdings);
    let frozen = matches!(missing.first(), Some(PipelineError::CaseClosed | PipelineError::ClosurePending));
    // The policy's target for any stage record of the case (a screening stands for them all).
    let may_edit = !frozen && authorize(actor, Action::Create, EntityKind::Screening, &case).is_ok();
    let may_request_closure = pipeline::check_closure_request(stage, closure, &holdings).is_ok()
        && authorize(actor, Action::RequestClosure, EntityKind::Case, &case).is_ok();
    // The supervisor's decision, and reopening a signed-off case: as the policy and pipeline say.
    let may_decide = pipeline::check_sign_off(stage, closure).is_ok()
        && authorize(actor, Action::DecideClosure, EntityKind::ClosureDecision, &case).is_ok();
    let may_reopen = stage == Stage::Closed && authorize(actor, Action::Reopen, EntityKind::Case, &case).is_ok();
    let recipient = recipient_of(store, &case)?;
    let recent_visits = match store.entity(EntityKind::Recipient, recipient.id)? {
        Some(_) => crate::visit::visits_of(store, recipient.id)?.into_iter().take(RECENT_VISITS).collect(),
        None => Vec::new(),
    };

    Ok(CasePage {
        case: case_view(&case, stage, closure, &mut names)?,
        recipient,
        steps: CaseStep::all_at(stage),
        records: grouped(&records, &mut names)?,
        next_stage: stage.next(),
        missing: missing.iter().map(missing_item).collect(),
        may_edit,
        may_request_closure,
        latest_decision: rules::latest_decision(&records)
            .map(|d| decision_view(store, d, &case, &records, &mut names))
            .transpose()?,
        may_decide,
        may_reopen,
        reopenings: crate::closure::reopenings(store, case_id, &mut names)?,
        recent_visits,
    })
}

/// How many of the recipient's visits the case page shows, newest first.
const RECENT_VISITS: usize = 10;

/// Records a new stage record of `kind` for the case from the fields the kind's form sent
/// (the case, its station and, for interventions and follow-up visits, the worker are set
/// here); a correction of an intervention or follow-up visit names the record it `amends`.
pub fn save_case_record(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    kind: CaseRecordKind,
    fields: FieldValues,
    amends: Option<Uuid>,
    at: Moment,
) -> Result<SavedCaseRecord, AppError> {
    let case = held_case(store, case_id)?;
    let entity = kind.entity_kind();
    let spec = entity.spec();
    for name in fields.keys() {
        if [field::STATION_ID, field::CASE_ID, field::WORKER_ID, field::AMENDS].contains(&name.as_str()) {
            return Err(AppError::BadRequest(format!("{name} is set by the app, not by the form")));
        }
    }
    if let Some(amended) = amends
        && let Some(record) = store.entity(entity, amended)?
        && record.get_id(field::CASE_ID) != Some(case_id)
    {
        return Err(AppError::BadRequest("the record amended is of another case".into()));
    }
    let station_id = case.station_id().ok_or(AppError::NotFound(EntityKind::Station))?;
    let id = Uuid::now_v7();
    let mut write = Write::create(entity, id)
        .set(field::STATION_ID, station_id.to_string())
        .set(field::CASE_ID, case_id.to_string())
        .set_opt(field::AMENDS, amends.map(|a| a.to_string()));
    if spec.field(field::WORKER_ID).is_some() {
        write = write.set(field::WORKER_ID, actor.user_id.to_string());
    }
    for (name, value) in fields {
        write = write.set(&name, value);
    }
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(SavedCaseRecord { id, page: case_page(store, actor, case_id)? })
}

/// Changes fields of a stage record that may change (a goal's evaluation, a resource link's
/// status...). Interventions and follow-up visits are never edited: the domain refuses, and a
/// correction is a new record that amends them ([`save_case_record`]).
pub fn update_case_record(
    store: &mut Store,
    actor: &Actor,
    kind: CaseRecordKind,
    record_id: Uuid,
    fields: FieldValues,
    at: Moment,
) -> Result<CasePage, AppError> {
    let entity = kind.entity_kind();
    let record = store.entity(entity, record_id)?.ok_or(AppError::NotFound(entity))?;
    let case_id = record.get_id(field::CASE_ID).ok_or(AppError::NotFound(EntityKind::Case))?;
    let mut write = Write::update(entity, record_id);
    for (name, value) in fields {
        write = write.set(&name, value);
    }
    store.record(actor, vec![write], at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// Moves the case to `to`: forward one stage once the stage left holds what it must, or back to
/// any earlier stage. A refusal is the pipeline's, naming what is missing.
pub fn move_case(store: &mut Store, actor: &Actor, case_id: Uuid, to: Stage, at: Moment) -> Result<CasePage, AppError> {
    let case = held_case(store, case_id)?;
    if case.get_enum::<Stage>(field::case::STAGE) != Some(to) {
        let write = Write::update(EntityKind::Case, case_id)
            .set(field::case::STAGE, to.as_str())
            .set(field::case::STAGE_ENTERED_ON, at.today.to_string());
        store.record(actor, vec![write], at.now, at.today)?;
    }
    case_page(store, actor, case_id)
}

/// Writes the plan's intervention strategy (制定计划); an empty one clears it.
pub fn set_plan_strategy(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    strategy: &str,
    at: Moment,
) -> Result<CasePage, AppError> {
    held_case(store, case_id)?;
    let write = Write::update(EntityKind::Case, case_id).set(field::case::PLAN_STRATEGY, strategy);
    store.record(actor, vec![write], at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// Asks the supervisor to close the case, with the worker's summary: from the follow-up stage,
/// once every goal is evaluated and a follow-up visit recorded (the pipeline's rule).
pub fn request_closure(
    store: &mut Store,
    actor: &Actor,
    case_id: Uuid,
    summary: &str,
    at: Moment,
) -> Result<CasePage, AppError> {
    held_case(store, case_id)?;
    let write = Write::update(EntityKind::Case, case_id)
        .set(field::case::CLOSURE_STATUS, ClosureStatus::Requested.as_str())
        .set(field::case::CLOSURE_SUMMARY, summary)
        .set(field::case::CLOSURE_REQUESTED_ON, at.today.to_string());
    store.record(actor, vec![write], at.now, at.today)?;
    case_page(store, actor, case_id)
}

/// The case as held here; a case reassigned away says to whom.
pub(crate) fn held_case(store: &Store, case_id: Uuid) -> Result<EntityState, AppError> {
    if let Some(case) = store.entity(EntityKind::Case, case_id)? {
        return Ok(case);
    }
    match store.moved_case(case_id)? {
        Some(moved) => Err(AppError::CaseReassigned {
            to: crate::board::user_name(store, moved.reassigned_to)?,
            at: moved.moved_at,
        }),
        None => Err(AppError::NotFound(EntityKind::Case)),
    }
}

/// The policy's verdict on `action` on a record of `kind` of this case.
pub(crate) fn authorize(actor: &Actor, action: Action, kind: EntityKind, case: &EntityState) -> Result<(), Rejection> {
    let target = Target { kind, station_id: case.station_id(), case_worker_id: case.get_id(field::case::WORKER_ID) };
    policy::authorize(actor, action, &target).map_err(Rejection::Denied)
}

/// Users' display names, each read once.
pub(crate) struct Names<'a> {
    store: &'a Store,
    known: BTreeMap<Id, Option<String>>,
}

impl<'a> Names<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Names { store, known: BTreeMap::new() }
    }

    /// The user as a named reference; `None` while their record is not on this computer.
    pub(crate) fn user(&mut self, id: Option<Id>) -> Result<Option<NamedRef>, AppError> {
        let Some(id) = id else { return Ok(None) };
        if !self.known.contains_key(&id) {
            let user = self.store.entity(EntityKind::User, id)?;
            let name = user.map(|u| u.get_str(field::user::DISPLAY_NAME).unwrap_or_default().to_string());
            self.known.insert(id, name);
        }
        Ok(self.known.get(&id).cloned().flatten().map(|name| NamedRef { id, name }))
    }

    /// The library's resource as a named reference; `None` while it is not on this computer.
    /// (Ids are unique across kinds, so users and resources share one cache.)
    pub(crate) fn resource(&mut self, id: Option<Id>) -> Result<Option<NamedRef>, AppError> {
        let Some(id) = id else { return Ok(None) };
        if !self.known.contains_key(&id) {
            let resource = self.store.entity(EntityKind::Resource, id)?;
            let name = resource.map(|r| r.get_str(field::resource::NAME).unwrap_or_default().to_string());
            self.known.insert(id, name);
        }
        Ok(self.known.get(&id).cloned().flatten().map(|name| NamedRef { id, name }))
    }
}

fn case_view(
    case: &EntityState,
    stage: Stage,
    closure: ClosureStatus,
    names: &mut Names<'_>,
) -> Result<CaseView, AppError> {
    let text = |name: &str| case.get_str(name).map(str::to_string);
    let date = |name: &str| case.get_str(name).and_then(|s| s.parse::<NaiveDate>().ok());
    Ok(CaseView {
        id: case.id,
        station_id: case.station_id(),
        worker: names.user(case.get_id(field::case::WORKER_ID))?,
        stage,
        stage_entered_on: date(field::case::STAGE_ENTERED_ON),
        opened_on: date(field::case::OPENED_ON),
        plan_strategy: text(field::case::PLAN_STRATEGY),
        closure_status: closure,
        closure_summary: text(field::case::CLOSURE_SUMMARY),
        closure_requested_on: date(field::case::CLOSURE_REQUESTED_ON),
        closure_comments: text(field::case::CLOSURE_COMMENTS),
        reopen_generation: signoff::case_generation(case),
        fields: stored_fields(case),
    })
}

/// The fields a record holds, by name (an edit form starts from them).
pub(crate) fn stored_fields(state: &EntityState) -> FieldValues {
    state.fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn recipient_of(store: &Store, case: &EntityState) -> Result<CaseRecipient, AppError> {
    let id = case.get_id(field::case::RECIPIENT_ID).ok_or(AppError::NotFound(EntityKind::Recipient))?;
    let recipient = store.entity(EntityKind::Recipient, id)?;
    let village_id = recipient.as_ref().and_then(|r| r.get_id(field::recipient::VILLAGE_ID));
    let village = match village_id {
        Some(village_id) => store.entity(EntityKind::Village, village_id)?.map(|v| NamedRef {
            id: village_id,
            name: v.get_str(field::village::NAME).unwrap_or_default().to_string(),
        }),
        None => None,
    };
    let name = recipient.as_ref().and_then(|r| r.get_str(field::recipient::NAME)).unwrap_or_default().to_string();
    Ok(CaseRecipient { id, name, village })
}

/// The stage records by kind, in the order recorded (`records` sorted so), each correction
/// linked both ways.
fn grouped(records: &[EntityState], names: &mut Names<'_>) -> Result<CaseRecords, AppError> {
    // The latest correction of each corrected record.
    let corrected_by: BTreeMap<Id, Id> =
        records.iter().filter_map(|r| r.get_id(field::AMENDS).map(|amended| (amended, r.id))).collect();
    let mut groups = CaseRecords::default();
    for record in records {
        let Some(kind) = CaseRecordKind::of_entity_kind(record.kind) else { continue };
        let author = record.get_id(field::WORKER_ID).unwrap_or(record.created.author);
        groups.of_mut(kind).push(CaseRecordView {
            kind,
            id: record.id,
            fields: stored_fields(record),
            recorded_by: names.user(Some(author))?,
            amends: record.get_id(field::AMENDS),
            corrected_by: corrected_by.get(&record.id).copied(),
            resource: names.resource(record.get_id(field::resource_link::RESOURCE_ID))?,
        });
    }
    Ok(groups)
}

fn missing_item(error: &PipelineError) -> MissingItem {
    MissingItem {
        code: error.code().to_string(),
        message_zh: error.message_zh(),
        message_en: sentence(&error.to_string()),
        record_kind: error.record_to_add().and_then(CaseRecordKind::of_entity_kind),
    }
}

fn decision_view(
    store: &Store,
    decision: &EntityState,
    case: &EntityState,
    records: &[EntityState],
    names: &mut Names<'_>,
) -> Result<ClosureDecisionView, AppError> {
    let kind = decision
        .get_enum::<ClosureDecisionKind>(field::closure_decision::DECISION)
        .ok_or_else(|| AppError::Internal(format!("closure decision {} has no decision", decision.id)))?;
    let supervisor_id = decision.get_id(field::closure_decision::SUPERVISOR_ID);
    let seal = match kind {
        ClosureDecisionKind::SignedOff => {
            let keys = match supervisor_id {
                Some(id) => store
                    .entity(EntityKind::User, id)?
                    .and_then(|u| u.to_typed::<User>().ok())
                    .map(|u| u.signing_keys)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            Some(seal_check(signoff::check_seal(decision, case, records, &keys)))
        }
        ClosureDecisionKind::Returned => None,
    };
    Ok(ClosureDecisionView {
        id: decision.id,
        decision: kind,
        comments: decision.get_str(field::closure_decision::COMMENTS).map(str::to_string),
        supervisor: names.user(supervisor_id)?,
        decided_at: decision
            .get_str(field::closure_decision::DECIDED_AT)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc)),
        seal,
    })
}

fn seal_check(result: Result<(), signoff::SealError>) -> SealCheck {
    match result {
        Ok(()) => SealCheck {
            verified: true,
            code: None,
            message_zh: "督导签名有效，签署后个案未被修改".into(),
            message_en: "The supervisor's signature verifies; the case has not changed since it was signed.".into(),
        },
        Err(e) => SealCheck {
            verified: false,
            code: Some(e.code().to_string()),
            message_zh: e.message_zh().to_string(),
            message_en: sentence(&e.to_string()),
        },
    }
}
