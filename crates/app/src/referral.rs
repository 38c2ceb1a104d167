//! Referrals (转介): the station's list filtered by direction, state and purpose; recording one
//! (inbound from the 12345 hotline, the police, the federations, city management; outbound to a
//! department, a benefit application among them) at its first step; moving it on to its
//! outcome; opening a case from an inbound one in one write; and the deputy head's overdue
//! referrals with the station's threshold.
//!
//! No rule is decided here: the state machine is `domain::referral::check_referral`, checked by
//! `Store::record` (so by the server too); who may set the threshold is `domain::policy`.

use chrono::NaiveDate;
use contract::{NamedRef, OpenedCase, OverdueReferrals, ReferralList, ReferralQuery, ReferralRow, ReferralStep};
use domain::case::{ClosureStatus, ScreeningSource, Stage};
use domain::change::Write;
use domain::entity::{DEFAULT_REFERRAL_OVERDUE_DAYS, EntityKind, EntityState};
use domain::field;
use domain::policy::{self, Action, Actor, Target};
use domain::referral::{
    ReferralCounterpart, ReferralDirection, ReferralOutcome, ReferralPurpose, ReferralState, effective_state,
    is_overdue,
};
use domain::{Id, Labelled};
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::fields::{create_write, update_write};
use crate::{AppError, Moment};

/// The fields a referral's own use cases write: the form leaves them alone.
const KEPT: &[&str] = &[
    field::referral::STATION_ID,
    field::referral::STATE,
    field::referral::OUTCOME,
    field::referral::RESPONDED_ON,
    field::referral::CONCLUDED_ON,
    field::referral::OPENED_CASE_ID,
];

/// The station's referrals, newest first, filtered by `query`.
pub fn referrals(
    store: &Store,
    actor: &Actor,
    query: &ReferralQuery,
    today: NaiveDate,
) -> Result<ReferralList, AppError> {
    let station_id = station_of(actor, Action::Read)?;
    let overdue_days = overdue_threshold(store, station_id)?.0;
    let mut rows: Vec<ReferralRow> = station_referrals(store, station_id, overdue_days, today)?
        .into_iter()
        .filter(|r| query.direction.is_none_or(|d| d == r.direction))
        .filter(|r| query.state.is_none_or(|s| s == r.state))
        .filter(|r| query.purpose.is_none_or(|p| p == r.purpose))
        .collect();
    rows.sort_by(|a, b| b.referred_on.cmp(&a.referred_on).then(b.id.cmp(&a.id)));
    Ok(ReferralList { rows, overdue_days })
}

/// Records a referral from its form's values at its direction's first step (received, or sent),
/// or at a later one given as `state` (recorded after the fact), in the signed-in user's station.
pub fn record_referral(
    store: &mut Store,
    actor: &Actor,
    values: &contract::FieldValues,
    at: Moment,
) -> Result<ReferralRow, AppError> {
    let station_id = station_of(actor, Action::Create)?;
    let id = Uuid::now_v7();
    let derived = &KEPT[..1];
    let mut write = create_write(EntityKind::Referral, id, values, derived, at.today)?;
    let direction = write
        .fields
        .get(field::referral::DIRECTION)
        .and_then(|w| w.value.as_str())
        .and_then(ReferralDirection::parse)
        .unwrap_or(ReferralDirection::Inbound);
    let state = write
        .fields
        .get(field::referral::STATE)
        .and_then(|w| w.value.as_str())
        .and_then(ReferralState::parse)
        .unwrap_or(ReferralState::initial(direction));
    write = write.set(field::referral::STATION_ID, station_id.to_string()).set(field::referral::STATE, state.as_str());
    if !write.fields.contains_key(field::referral::OUTCOME) {
        let outcome = state.outcomes().first().copied().unwrap_or(ReferralOutcome::Pending);
        write = write.set(field::referral::OUTCOME, outcome.as_str());
    }
    store.record(actor, vec![write], at.now, at.today)?;
    referral_row(store, id, at.today)
}

/// Edits a referral's own text (the reason, the department or contact, the person as named, the
/// benefit, the notes) from its form started with the stored values, and names the person on
/// file when it named nobody yet. Where it stands and its dates move only by [`move_referral`]
/// (`not_editable_here`), and the state machine (`check_referral`) judges the result as any
/// change.
pub fn update_referral(
    store: &mut Store,
    actor: &Actor,
    referral_id: Uuid,
    values: &contract::FieldValues,
    at: Moment,
) -> Result<ReferralRow, AppError> {
    let current = held(store, referral_id)?;
    // Once a person is named, another one would be another referral (and their case another's).
    let named = current.get_id(field::referral::RECIPIENT_ID).map(|_| field::referral::RECIPIENT_ID);
    let kept: Vec<&str> = KEPT.iter().copied().chain(named).collect();
    if let Some(write) = update_write(&current, values, &kept, at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    referral_row(store, referral_id, at.today)
}

/// Moves a referral on: to `step.state`, on `step.on` (today when not given), with the outcome
/// reported where the state allows several, and a note.
pub fn move_referral(
    store: &mut Store,
    actor: &Actor,
    referral_id: Uuid,
    step: &ReferralStep,
    at: Moment,
) -> Result<ReferralRow, AppError> {
    let referral = held(store, referral_id)?;
    let on = step.on.unwrap_or(at.today).to_string();
    let outcome = step.outcome.or_else(|| step.state.outcomes().first().copied()).unwrap_or(ReferralOutcome::Pending);
    let mut write = Write::update(EntityKind::Referral, referral_id)
        .set(field::referral::STATE, step.state.as_str())
        .set(field::referral::OUTCOME, outcome.as_str());
    let date_field = match step.state {
        ReferralState::Accepted | ReferralState::Declined | ReferralState::Acknowledged => {
            Some(field::referral::RESPONDED_ON)
        }
        ReferralState::Concluded | ReferralState::CaseOpened => Some(field::referral::CONCLUDED_ON),
        ReferralState::Received | ReferralState::Sent => None,
    };
    if let Some(date_field) = date_field {
        write = write.set(date_field, on);
    }
    let notes = step.notes.trim();
    if !notes.is_empty() && referral.get_str(field::referral::OUTCOME_NOTES) != Some(notes) {
        write = write.set(field::referral::OUTCOME_NOTES, notes);
    }
    store.record(actor, vec![write], at.now, at.today)?;
    referral_row(store, referral_id, at.today)
}

/// Opens a case at 识别对象 for the person an inbound referral is about (`recipient_id` when it
/// names nobody on file yet), assigned to the signed-in worker, with the screening that says it
/// came by referral, and moves the referral to "case opened" naming the case: one batch, so all
/// of it is recorded or none.
pub fn open_case_from_referral(
    store: &mut Store,
    actor: &Actor,
    referral_id: Uuid,
    recipient_id: Option<Uuid>,
    at: Moment,
) -> Result<OpenedCase, AppError> {
    let referral = held(store, referral_id)?;
    let station_id = referral.station_id().ok_or(AppError::NotFound(EntityKind::Station))?;
    let named = referral.get_id(field::referral::RECIPIENT_ID);
    // The rules refuse a case opened without a person (`referral_needs_recipient`), at the field.
    let person = named.or(recipient_id);
    let case_id = Uuid::now_v7();
    let today = at.today.to_string();
    let mut writes = Vec::new();
    if let Some(person) = person {
        let counterpart = referral.get_enum::<ReferralCounterpart>(field::referral::COUNTERPART);
        let reason = referral.get_str(field::referral::REASON).unwrap_or_default();
        let notes = match counterpart {
            Some(c) => format!("{}转介：{reason}", c.zh()),
            None => format!("转介：{reason}"),
        };
        let found_on = referral.get_str(field::referral::REFERRED_ON).map_or(today.clone(), str::to_string);
        writes.push(
            Write::create(EntityKind::Case, case_id)
                .set(field::case::STATION_ID, station_id.to_string())
                .set(field::case::RECIPIENT_ID, person.to_string())
                .set(field::case::WORKER_ID, actor.user_id.to_string())
                .set(field::case::STAGE, Stage::Identify.as_str())
                .set(field::case::STAGE_ENTERED_ON, today.clone())
                .set(field::case::OPENED_ON, today.clone())
                .set(field::case::CLOSURE_STATUS, ClosureStatus::Open.as_str()),
        );
        writes.push(
            Write::create(EntityKind::Screening, Uuid::now_v7())
                .set(field::screening::STATION_ID, station_id.to_string())
                .set(field::screening::CASE_ID, case_id.to_string())
                .set(field::screening::SOURCE, ScreeningSource::Referral.as_str())
                .set(field::screening::FOUND_ON, found_on)
                .set(field::screening::NOTES, truncate(&notes, 2000)),
        );
    }
    let mut referral_write = Write::update(EntityKind::Referral, referral_id)
        .set(field::referral::STATE, ReferralState::CaseOpened.as_str())
        .set(field::referral::OUTCOME, ReferralOutcome::Accepted.as_str())
        .set(field::referral::CONCLUDED_ON, today);
    if person.is_some() {
        referral_write = referral_write.set(field::referral::OPENED_CASE_ID, case_id.to_string());
    }
    if named.is_none()
        && let Some(person) = person
    {
        referral_write = referral_write.set(field::referral::RECIPIENT_ID, person.to_string());
    }
    writes.push(referral_write);
    store.record(actor, writes, at.now, at.today)?;
    Ok(OpenedCase { case_id })
}

/// The signed-in deputy head's overdue referrals: the station's referrals without an outcome
/// more than its threshold's days after they were made, longest waiting first.
pub fn overdue_referrals(store: &Store, actor: &Actor, today: NaiveDate) -> Result<OverdueReferrals, AppError> {
    let station_id = station_of(actor, Action::Reassign)?;
    let (overdue_days, overdue_days_set) = overdue_threshold(store, station_id)?;
    let mut rows: Vec<ReferralRow> =
        station_referrals(store, station_id, overdue_days, today)?.into_iter().filter(|r| r.overdue).collect();
    rows.sort_by(|a, b| a.referred_on.cmp(&b.referred_on).then(a.id.cmp(&b.id)));
    let station = Target { kind: EntityKind::Station, station_id: Some(station_id), case_worker_id: None };
    Ok(OverdueReferrals {
        overdue_days,
        overdue_days_set,
        rows,
        may_set_overdue_days: policy::authorize(actor, Action::SetReferralOverdueDays, &station).is_ok(),
    })
}

/// Sets the days a referral of the signed-in deputy head's station may go without an outcome
/// (1 to 365); `None` goes back to [`DEFAULT_REFERRAL_OVERDUE_DAYS`].
pub fn set_referral_overdue_days(
    store: &mut Store,
    actor: &Actor,
    days: Option<u32>,
    at: Moment,
) -> Result<(), AppError> {
    let station_id = station_of(actor, Action::SetReferralOverdueDays)?;
    let value = days.map_or(Value::Null, Value::from);
    let write = Write::update(EntityKind::Station, station_id).set(field::station::REFERRAL_OVERDUE_DAYS, value);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(())
}

/// The first of the actor's stations where the policy lets them do `action` to its referrals
/// (or, for the thresholds, to the station itself).
fn station_of(actor: &Actor, action: Action) -> Result<Id, AppError> {
    let kind = match action {
        Action::SetReferralOverdueDays => EntityKind::Station,
        Action::Reassign => EntityKind::Case,
        _ => EntityKind::Referral,
    };
    crate::library::station_for(actor, action, kind)
}

/// The station's overdue threshold, and whether it sets one.
fn overdue_threshold(store: &Store, station_id: Id) -> Result<(i64, bool), AppError> {
    let set = store
        .entity(EntityKind::Station, station_id)?
        .and_then(|s| s.get(field::station::REFERRAL_OVERDUE_DAYS).and_then(Value::as_i64));
    Ok((set.unwrap_or(DEFAULT_REFERRAL_OVERDUE_DAYS), set.is_some()))
}

fn held(store: &Store, referral_id: Uuid) -> Result<EntityState, AppError> {
    store.entity(EntityKind::Referral, referral_id)?.ok_or(AppError::NotFound(EntityKind::Referral))
}

fn station_referrals(
    store: &Store,
    station_id: Id,
    overdue_days: i64,
    today: NaiveDate,
) -> Result<Vec<ReferralRow>, AppError> {
    let referrals = store.list(EntityKind::Referral, Some(station_id))?;
    let mut rows = Vec::with_capacity(referrals.len());
    for referral in &referrals {
        rows.push(row(store, referral, overdue_days, today)?);
    }
    Ok(rows)
}

fn referral_row(store: &Store, id: Uuid, today: NaiveDate) -> Result<ReferralRow, AppError> {
    let referral = held(store, id)?;
    let station_id = referral.station_id().ok_or(AppError::NotFound(EntityKind::Station))?;
    let (overdue_days, _) = overdue_threshold(store, station_id)?;
    row(store, &referral, overdue_days, today)
}

fn row(store: &Store, referral: &EntityState, overdue_days: i64, today: NaiveDate) -> Result<ReferralRow, AppError> {
    let text = |name: &str| referral.get_str(name).map(str::to_string);
    let date = |name: &str| referral.get_str(name).and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let direction =
        referral.get_enum::<ReferralDirection>(field::referral::DIRECTION).unwrap_or(ReferralDirection::Inbound);
    let outcome = referral.get_enum::<ReferralOutcome>(field::referral::OUTCOME);
    let state = effective_state(direction, referral.get_enum(field::referral::STATE), outcome);
    let referred_on = date(field::referral::REFERRED_ON).unwrap_or(today);
    let recipient = match referral.get_id(field::referral::RECIPIENT_ID) {
        Some(id) => store
            .entity(EntityKind::Recipient, id)?
            .map(|r| NamedRef { id, name: r.get_str(field::recipient::NAME).unwrap_or_default().to_string() }),
        None => None,
    };
    let concluded_on = date(field::referral::CONCLUDED_ON);
    let opened_case_id = referral.get_id(field::referral::OPENED_CASE_ID);
    Ok(ReferralRow {
        id: referral.id,
        direction,
        purpose: referral.get_enum::<ReferralPurpose>(field::referral::PURPOSE).unwrap_or(ReferralPurpose::Service),
        counterpart: referral
            .get_enum::<ReferralCounterpart>(field::referral::COUNTERPART)
            .unwrap_or(ReferralCounterpart::OtherDepartment),
        counterpart_detail: text(field::referral::COUNTERPART_DETAIL),
        benefit: text(field::referral::BENEFIT),
        recipient,
        person_name: text(field::referral::PERSON_NAME),
        reason: text(field::referral::REASON).unwrap_or_default(),
        referred_on,
        state,
        outcome: outcome.unwrap_or(ReferralOutcome::Pending),
        outcome_notes: text(field::referral::OUTCOME_NOTES),
        responded_on: date(field::referral::RESPONDED_ON),
        concluded_on,
        opened_case_id,
        days: (concluded_on.filter(|_| state.is_final()).unwrap_or(today) - referred_on).num_days(),
        overdue: is_overdue(state, referred_on, today, overdue_days),
        next_states: state.next().iter().copied().filter(|s| *s != ReferralState::CaseOpened).collect(),
        may_open_case: state.next().contains(&ReferralState::CaseOpened) && opened_case_id.is_none(),
        fields: crate::case::stored_fields(referral),
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use contract::{CommandError, FieldValues};
    use serde_json::json;

    use super::*;
    use crate::case::case_page;
    use crate::testing::{Station, today};

    fn values(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn days_ago(days: i64) -> String {
        (today() - Duration::days(days)).to_string()
    }

    /// An inbound referral from the 12345 hotline `days` ago, about `person` when on file.
    fn inbound(s: &mut Station, person: Option<Uuid>, days: i64) -> ReferralRow {
        let mut form = values(&[
            (field::referral::DIRECTION, json!("Inbound")),
            (field::referral::COUNTERPART, json!("Hotline12345")),
            (field::referral::REASON, json!("独居老人无人照料")),
            (field::referral::REFERRED_ON, json!(days_ago(days))),
            (field::referral::PERSON_NAME, json!("王奶奶")),
        ]);
        if let Some(person) = person {
            form.insert(field::referral::RECIPIENT_ID.into(), json!(person.to_string()));
        }
        let (worker, at) = (s.worker.clone(), s.moment());
        record_referral(&mut s.store, &worker, &form, at).expect("recorded")
    }

    fn benefit_application(s: &mut Station, person: Uuid, days: i64) -> ReferralRow {
        let form = values(&[
            (field::referral::DIRECTION, json!("Outbound")),
            (field::referral::PURPOSE, json!("BenefitApplication")),
            (field::referral::BENEFIT, json!("最低生活保障")),
            (field::referral::COUNTERPART, json!("CivilAffairs")),
            (field::referral::COUNTERPART_DETAIL, json!("镇社会事务办")),
            (field::referral::RECIPIENT_ID, json!(person.to_string())),
            (field::referral::REASON, json!("家庭收入低于当地低保标准")),
            (field::referral::REFERRED_ON, json!(days_ago(days))),
        ]);
        let (worker, at) = (s.worker.clone(), s.moment());
        record_referral(&mut s.store, &worker, &form, at).expect("recorded")
    }

    fn step(state: ReferralState, outcome: Option<ReferralOutcome>) -> ReferralStep {
        ReferralStep { state, on: None, outcome, notes: String::new() }
    }

    fn code(error: AppError) -> (String, Option<String>) {
        let error = CommandError::from(error);
        (error.code, error.field)
    }

    #[test]
    fn a_referrals_text_is_edited_and_the_person_named_while_it_stays_where_it_stands() {
        let mut s = Station::new();
        let referral = inbound(&mut s, None, 3);
        let person = s.add_recipient("王秀英", 12);
        let (worker, at) = (s.worker.clone(), s.moment());
        move_referral(&mut s.store, &worker, referral.id, &step(ReferralState::Accepted, None), at).expect("accepted");
        let edited = values(&[
            (field::referral::REASON, json!("独居老人行动不便，无人照料")),
            (field::referral::COUNTERPART_DETAIL, json!("12345热线 刘女士")),
            (field::referral::OUTCOME_NOTES, json!("已电话联系家属")),
            (field::referral::RECIPIENT_ID, json!(person.to_string())),
        ]);
        let at = s.moment();
        let row = update_referral(&mut s.store, &worker, referral.id, &edited, at).expect("edited");
        assert_eq!(row.reason, "独居老人行动不便，无人照料");
        assert_eq!(row.counterpart_detail.as_deref(), Some("12345热线 刘女士"));
        assert_eq!(row.outcome_notes.as_deref(), Some("已电话联系家属"));
        assert_eq!(row.recipient.map(|r| r.name), Some("王秀英".into()));
        assert_eq!((row.state, row.responded_on), (ReferralState::Accepted, Some(today())), "where it stood");
    }

    #[test]
    fn an_edit_leaves_the_state_and_a_named_person_to_their_own_steps_and_saves_nothing() {
        let mut s = Station::new();
        let person = s.add_recipient("王秀英", 12);
        let other = s.add_recipient("李四", 13);
        let referral = inbound(&mut s, Some(person), 3);
        let (worker, at) = (s.worker.clone(), s.moment());
        let jump = values(&[(field::referral::REASON, json!("改")), (field::referral::STATE, json!("Concluded"))]);
        let refused = update_referral(&mut s.store, &worker, referral.id, &jump, at).expect_err("the state");
        assert_eq!(code(refused), ("not_editable_here".into(), Some(field::referral::STATE.into())));
        let at = s.moment();
        let another = values(&[(field::referral::RECIPIENT_ID, json!(other.to_string()))]);
        let refused = update_referral(&mut s.store, &worker, referral.id, &another, at).expect_err("named");
        assert_eq!(code(refused), ("not_editable_here".into(), Some(field::referral::RECIPIENT_ID.into())));
        let at = s.moment();
        let turned = values(&[(field::referral::DIRECTION, json!("Outbound"))]);
        let refused = update_referral(&mut s.store, &worker, referral.id, &turned, at).expect_err("fixed");
        assert_eq!(code(refused).1.as_deref(), Some(field::referral::DIRECTION));
        let row = &referrals(&s.store, &worker, &ReferralQuery::default(), today()).expect("list").rows[0];
        assert_eq!((row.reason.as_str(), row.state), ("独居老人无人照料", ReferralState::Received));
    }

    #[test]
    fn a_referral_is_recorded_at_its_first_step_in_the_workers_station() {
        let mut s = Station::new();
        let row = inbound(&mut s, None, 3);
        assert_eq!((row.state, row.outcome), (ReferralState::Received, ReferralOutcome::Pending));
        assert_eq!(row.person_name.as_deref(), Some("王奶奶"));
        assert_eq!(row.days, 3);
        assert_eq!(row.next_states, [ReferralState::Accepted, ReferralState::Declined]);
        assert!(row.may_open_case);
        let stored = s.store.entity(EntityKind::Referral, row.id).expect("read").expect("held");
        assert_eq!(stored.station_id(), Some(s.id));
    }

    #[test]
    fn an_inbound_referral_opens_a_case_at_identification_with_one_action() {
        let mut s = Station::new();
        let person = s.add_recipient("王奶奶", 12);
        let referral = inbound(&mut s, Some(person), 2);
        let (worker, at) = (s.worker.clone(), s.moment());
        let opened = open_case_from_referral(&mut s.store, &worker, referral.id, None, at).expect("opened");

        let page = case_page(&s.store, &worker, opened.case_id).expect("the case");
        assert_eq!(page.case.stage, Stage::Identify);
        assert_eq!(page.recipient.id, person);
        assert!(page.missing.is_empty(), "the screening that says it came by referral is there: {:?}", page.missing);
        let list = referrals(&s.store, &worker, &ReferralQuery::default(), today()).expect("list");
        let row = &list.rows[0];
        assert_eq!((row.state, row.opened_case_id), (ReferralState::CaseOpened, Some(opened.case_id)));
        assert_eq!(row.concluded_on, Some(today()));
        assert!(!row.may_open_case && row.next_states.is_empty());
    }

    #[test]
    fn a_referral_about_someone_not_on_file_opens_a_case_for_the_person_chosen() {
        let mut s = Station::new();
        let referral = inbound(&mut s, None, 1);
        let (worker, at) = (s.worker.clone(), s.moment());
        let refused = open_case_from_referral(&mut s.store, &worker, referral.id, None, at).expect_err("nobody");
        assert_eq!(code(refused), ("referral_needs_recipient".into(), Some(field::referral::RECIPIENT_ID.into())));
        assert!(s.store.list(EntityKind::Case, Some(s.id)).expect("cases").is_empty(), "nothing half written");

        let person = s.add_recipient("王奶奶", 12);
        let at = s.moment();
        let opened = open_case_from_referral(&mut s.store, &worker, referral.id, Some(person), at).expect("opened");
        let stored = s.store.entity(EntityKind::Referral, referral.id).expect("read").expect("held");
        assert_eq!(stored.get_id(field::referral::RECIPIENT_ID), Some(person));
        assert_eq!(stored.get_id(field::referral::OPENED_CASE_ID), Some(opened.case_id));
    }

    #[test]
    fn a_declined_referral_opens_no_case() {
        let mut s = Station::new();
        let person = s.add_recipient("王奶奶", 12);
        let referral = inbound(&mut s, Some(person), 1);
        let (worker, at) = (s.worker.clone(), s.moment());
        let declined =
            move_referral(&mut s.store, &worker, referral.id, &step(ReferralState::Declined, None), at).expect("moved");
        assert_eq!((declined.state, declined.outcome), (ReferralState::Declined, ReferralOutcome::Declined));
        assert_eq!(declined.responded_on, Some(today()));
        let at = s.moment();
        let refused = open_case_from_referral(&mut s.store, &worker, referral.id, None, at).expect_err("declined");
        assert_eq!(code(refused).0, "referral_illegal_move");
        assert!(s.store.list(EntityKind::Case, Some(s.id)).expect("cases").is_empty());
    }

    #[test]
    fn a_benefit_application_is_tracked_to_the_outcome_the_department_reported() {
        let mut s = Station::new();
        let person = s.add_recipient("李四", 13);
        let application = benefit_application(&mut s, person, 10);
        assert_eq!(
            (application.state, application.purpose),
            (ReferralState::Sent, ReferralPurpose::BenefitApplication)
        );
        assert_eq!(application.benefit.as_deref(), Some("最低生活保障"));
        let worker = s.worker.clone();
        let at = s.moment();
        move_referral(&mut s.store, &worker, application.id, &step(ReferralState::Acknowledged, None), at)
            .expect("acknowledged");
        let at = s.moment();
        let reported = ReferralStep {
            state: ReferralState::Concluded,
            on: Some(today() - Duration::days(1)),
            outcome: Some(ReferralOutcome::Resolved),
            notes: "镇社会事务办告知已纳入低保".into(),
        };
        let row = move_referral(&mut s.store, &worker, application.id, &reported, at).expect("concluded");
        assert_eq!((row.state, row.outcome), (ReferralState::Concluded, ReferralOutcome::Resolved));
        assert_eq!(row.outcome_notes.as_deref(), Some("镇社会事务办告知已纳入低保"));
        assert_eq!(row.days, 9, "from the application to the department's answer");

        let only = ReferralQuery { purpose: Some(ReferralPurpose::BenefitApplication), ..ReferralQuery::default() };
        assert_eq!(referrals(&s.store, &worker, &only, today()).expect("list").rows.len(), 1);
        let inbound_only = ReferralQuery { direction: Some(ReferralDirection::Inbound), ..ReferralQuery::default() };
        assert!(referrals(&s.store, &worker, &inbound_only, today()).expect("list").rows.is_empty());
    }

    #[test]
    fn a_step_out_of_order_is_refused_at_the_state_and_changes_nothing() {
        let mut s = Station::new();
        let person = s.add_recipient("李四", 13);
        let application = benefit_application(&mut s, person, 2);
        let (worker, at) = (s.worker.clone(), s.moment());
        let wrong = move_referral(&mut s.store, &worker, application.id, &step(ReferralState::Accepted, None), at)
            .expect_err("not an outbound state");
        assert_eq!(code(wrong), ("referral_wrong_direction".into(), Some(field::referral::STATE.into())));
        let at = s.moment();
        let pending = step(ReferralState::Concluded, Some(ReferralOutcome::Pending));
        let wrong = move_referral(&mut s.store, &worker, application.id, &pending, at).expect_err("no outcome");
        assert_eq!(code(wrong), ("referral_outcome_disagrees".into(), Some(field::referral::OUTCOME.into())));
        let stored = referral_row(&s.store, application.id, today()).expect("row");
        assert_eq!(stored.state, ReferralState::Sent);
    }

    #[test]
    fn a_benefit_application_names_the_benefit_and_goes_out() {
        let mut s = Station::new();
        let mut form = values(&[
            (field::referral::DIRECTION, json!("Inbound")),
            (field::referral::PURPOSE, json!("BenefitApplication")),
            (field::referral::BENEFIT, json!("临时救助")),
            (field::referral::COUNTERPART, json!("CivilAffairs")),
            (field::referral::REASON, json!("突发重病")),
            (field::referral::REFERRED_ON, json!(days_ago(1))),
        ]);
        let (worker, at) = (s.worker.clone(), s.moment());
        let refused = record_referral(&mut s.store, &worker, &form, at).expect_err("inbound");
        assert_eq!(code(refused).0, "benefit_application_is_outbound");
        form.insert(field::referral::DIRECTION.into(), json!("Outbound"));
        form.remove(field::referral::BENEFIT);
        let at = s.moment();
        let refused = record_referral(&mut s.store, &worker, &form, at).expect_err("no benefit");
        assert_eq!(code(refused), ("benefit_required".into(), Some(field::referral::BENEFIT.into())));
    }

    #[test]
    fn the_deputy_head_sees_referrals_without_an_outcome_past_the_stations_threshold() {
        let mut s = Station::new();
        let person = s.add_recipient("李四", 13);
        let old = inbound(&mut s, None, 20);
        inbound(&mut s, None, 5);
        let older = benefit_application(&mut s, person, 40);
        let done = benefit_application(&mut s, person, 60);
        let (worker, at) = (s.worker.clone(), s.moment());
        let answered = step(ReferralState::Concluded, Some(ReferralOutcome::Declined));
        move_referral(&mut s.store, &worker, done.id, &answered, at).expect("concluded");

        let deputy = s.deputy.clone();
        let overdue = overdue_referrals(&s.store, &deputy, today()).expect("overdue");
        assert_eq!((overdue.overdue_days, overdue.overdue_days_set), (DEFAULT_REFERRAL_OVERDUE_DAYS, false));
        let ids: Vec<Uuid> = overdue.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, [older.id, old.id], "longest waiting first; concluded and recent ones left out");
        assert!(overdue.may_set_overdue_days);

        let at = s.moment();
        set_referral_overdue_days(&mut s.store, &deputy, Some(30), at).expect("set");
        let overdue = overdue_referrals(&s.store, &deputy, today()).expect("overdue");
        assert_eq!(overdue.rows.iter().map(|r| r.id).collect::<Vec<_>>(), [older.id]);
        assert_eq!((overdue.overdue_days, overdue.overdue_days_set), (30, true));
    }

    #[test]
    fn only_the_deputy_head_sets_the_threshold_and_sees_the_overdue_panel() {
        let mut s = Station::new();
        let (worker, deputy) = (s.worker.clone(), s.deputy.clone());
        let at = s.moment();
        let refused = set_referral_overdue_days(&mut s.store, &worker, Some(10), at).expect_err("a worker");
        assert_eq!(code(refused).0, "role_cannot");
        assert_eq!(code(overdue_referrals(&s.store, &worker, today()).expect_err("no board")).0, "role_cannot");
        let at = s.moment();
        let refused = set_referral_overdue_days(&mut s.store, &deputy, Some(0), at).expect_err("out of range");
        let error = CommandError::from(refused);
        assert_eq!(error.field.as_deref(), Some(field::station::REFERRAL_OVERDUE_DAYS));
        assert!(error.message_zh.contains("转介逾期提醒天数"), "{}", error.message_zh);
    }
}
