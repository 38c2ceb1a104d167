//! A person (服务对象): adding one to the roster, their file (档案), editing it, and moving them
//! to another village. Membership of a household is in [`crate::household`].

use contract::{
    AddedRecipient, CaseSummary, FieldValues, HouseholdSummary, MovedCaseView, RecipientDraft, RecipientFile,
};
use domain::change::Write;
use domain::entity::field::recipient as fields_of;
use domain::entity::{EntityKind, EntityState, field};
use domain::policy::Actor;
use domain::recipient::{Gender, HouseholdRelation, RecipientCategory};
use domain::rules::StateView;
use domain::validate::{Invalid, resident_id_number};
use domain::{Id, Labelled};
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::household::members_of;
use crate::ledger::{history_of, ledger_of};
use crate::places::{name_of, place_of};
use crate::{AppError, Moment, fields};

/// Fields a general edit of a person leaves alone: the village and station change by
/// [`transfer_recipient`], the household by `household::set_household_member`.
const KEPT_FIELDS: &[&str] =
    &[field::STATION_ID, fields_of::VILLAGE_ID, fields_of::HOUSEHOLD_ID, fields_of::HOUSEHOLD_RELATION];

fn invalid(name: &str, invalid: Invalid) -> AppError {
    AppError::at(EntityKind::Recipient, name, invalid)
}

/// The person's record, or [`AppError::NotFound`].
pub(crate) fn recipient(store: &Store, id: Id) -> Result<EntityState, AppError> {
    store.entity(EntityKind::Recipient, id)?.ok_or(AppError::NotFound(EntityKind::Recipient))
}

/// A village's station, or the village field's error.
fn station_of_village(store: &Store, village_id: Id, field_name: &str) -> Result<Id, AppError> {
    let village =
        store.entity(EntityKind::Village, village_id)?.ok_or_else(|| invalid(field_name, Invalid::Reference))?;
    village.get_id(field::STATION_ID).ok_or_else(|| invalid(field_name, Invalid::Reference))
}

/// Adds a person to the roster from the add-recipient form. Gender and date of birth are facts
/// of the ID number (the rules check them against it again); the station follows the village.
pub fn add_recipient(
    store: &mut Store,
    actor: &Actor,
    draft: &RecipientDraft,
    at: Moment,
) -> Result<AddedRecipient, AppError> {
    let (id_number, facts) =
        resident_id_number(&draft.id_number, at.today).map_err(|e| invalid(fields_of::ID_NUMBER, e))?;
    let village_id = draft.village_id.ok_or_else(|| invalid(fields_of::VILLAGE_ID, Invalid::Required))?;
    let station_id = station_of_village(store, village_id, fields_of::VILLAGE_ID)?;
    let phone = Some(draft.phone.trim()).filter(|p| !p.is_empty());
    let categories: Vec<&str> = draft.categories.iter().map(|c| c.as_str()).collect();
    let id = Uuid::now_v7();
    let write = Write::create(EntityKind::Recipient, id)
        .set(field::STATION_ID, station_id.to_string())
        .set(fields_of::VILLAGE_ID, village_id.to_string())
        .set(fields_of::NAME, draft.name.clone())
        .set(fields_of::ID_NUMBER, id_number)
        .set(fields_of::GENDER, facts.gender.as_str())
        .set(fields_of::BIRTH_DATE, facts.birth_date.to_string())
        .set(fields_of::CATEGORIES, categories)
        .set_opt(fields_of::PHONE, phone);
    store.record(actor, vec![write], at.now, at.today)?;
    Ok(AddedRecipient { id, name: draft.name.trim().to_string() })
}

/// The person's file: their fields, place, household, ledger, history and open cases.
pub fn recipient_file(store: &Store, id: Id) -> Result<RecipientFile, AppError> {
    let person = recipient(store, id)?;
    let text = |name: &str| person.get_str(name).map(str::to_string);
    let household = match person.get_id(fields_of::HOUSEHOLD_ID) {
        Some(household_id) => household_summary(store, household_id)?,
        None => None,
    };
    Ok(RecipientFile {
        id,
        name: name_of(&person),
        id_number: text(fields_of::ID_NUMBER).unwrap_or_default(),
        gender: person.get_enum::<Gender>(fields_of::GENDER),
        birth_date: text(fields_of::BIRTH_DATE).and_then(|d| d.parse().ok()),
        categories: categories_of(&person),
        phone: text(fields_of::PHONE),
        address: text(fields_of::ADDRESS),
        notes: text(fields_of::NOTES),
        place: place_of(store, person.get_id(fields_of::VILLAGE_ID))?,
        household,
        household_relation: person.get_enum::<HouseholdRelation>(fields_of::HOUSEHOLD_RELATION),
        fields: person.fields.clone().into_iter().filter(|(_, v)| !v.is_null()).collect(),
        ledger: ledger_of(store, std::slice::from_ref(&person))?,
        history: history_of(store, EntityKind::Recipient, id)?,
        open_cases: open_cases(store, id)?,
        moved_cases: moved_cases(store, id)?,
    })
}

fn moved_cases(store: &Store, recipient_id: Id) -> Result<Vec<MovedCaseView>, AppError> {
    store
        .moved_cases_of_recipient(recipient_id)?
        .into_iter()
        .map(|moved| {
            Ok(MovedCaseView {
                case_id: moved.case_id,
                stage: moved.stage,
                reassigned_to: crate::board::user_name(store, moved.reassigned_to)?,
                moved_at: moved.moved_at,
            })
        })
        .collect()
}

pub(crate) fn categories_of(person: &EntityState) -> Vec<RecipientCategory> {
    match person.get(fields_of::CATEGORIES) {
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).filter_map(RecipientCategory::parse).collect()
        }
        _ => Vec::new(),
    }
}

fn household_summary(store: &Store, household_id: Id) -> Result<Option<HouseholdSummary>, AppError> {
    let Some(household) = store.entity(EntityKind::Household, household_id)? else { return Ok(None) };
    Ok(Some(HouseholdSummary {
        id: household.id,
        name: name_of(&household),
        address: household.get_str(field::household::ADDRESS).map(str::to_string),
        members: members_of(store, household.id)?,
    }))
}

fn open_cases(store: &Store, recipient_id: Id) -> Result<Vec<CaseSummary>, AppError> {
    use domain::case::{ClosureStatus, Stage};
    use domain::entity::field::case;
    let cases = store.cases_of_recipient(recipient_id).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut open = Vec::new();
    for case_state in cases {
        let stage = case_state.get_enum::<Stage>(case::STAGE);
        if stage == Some(Stage::Closed) {
            continue;
        }
        let worker_name = match case_state.get_id(field::WORKER_ID) {
            Some(worker) => store
                .entity(EntityKind::User, worker)?
                .and_then(|u| u.get_str(field::user::DISPLAY_NAME).map(str::to_string)),
            None => None,
        };
        let date = |name: &str| case_state.get_str(name).and_then(|d| d.parse().ok());
        open.push(CaseSummary {
            case_id: case_state.id,
            stage,
            closure_status: case_state.get_enum::<ClosureStatus>(case::CLOSURE_STATUS),
            worker_name,
            opened_on: date(case::OPENED_ON),
            stage_entered_on: date(case::STAGE_ENTERED_ON),
        });
    }
    open.sort_by_key(|case| std::cmp::Reverse(case.opened_on));
    Ok(open)
}

/// Edits a person's fields from the file's form: each value checked against the recipient's
/// spec (the first wrong one is the error, at its field; nothing is saved). A new ID number
/// brings its gender and date of birth with it. The village and the household are not changed
/// here ([`transfer_recipient`], `household::set_household_member`).
pub fn update_recipient(
    store: &mut Store,
    actor: &Actor,
    id: Id,
    values: &FieldValues,
    at: Moment,
) -> Result<RecipientFile, AppError> {
    let current = recipient(store, id)?;
    if let Some(mut write) = fields::update_write(&current, values, KEPT_FIELDS, at.today)? {
        let new_id_number = write.fields.get(fields_of::ID_NUMBER).and_then(|w| w.value.as_str().map(str::to_string));
        if let Some(id_number) = new_id_number {
            let (_, facts) = resident_id_number(&id_number, at.today).map_err(|e| invalid(fields_of::ID_NUMBER, e))?;
            write = write
                .set(fields_of::GENDER, facts.gender.as_str())
                .set(fields_of::BIRTH_DATE, facts.birth_date.to_string());
        }
        store.record(actor, vec![write], at.now, at.today)?;
    }
    recipient_file(store, id)
}

/// Moves a person to another village. The station follows the village: moving to a village of
/// another station is a transfer (the rules allow it to deputy heads, for people without open
/// cases), and leaves the household, which stays with its station.
pub fn transfer_recipient(
    store: &mut Store,
    actor: &Actor,
    id: Id,
    village_id: Id,
    at: Moment,
) -> Result<RecipientFile, AppError> {
    let current = recipient(store, id)?;
    let station_id = station_of_village(store, village_id, fields_of::VILLAGE_ID)?;
    if current.get_id(fields_of::VILLAGE_ID) != Some(village_id) {
        let mut write = Write::update(EntityKind::Recipient, id).set(fields_of::VILLAGE_ID, village_id.to_string());
        if current.get_id(field::STATION_ID) != Some(station_id) {
            write = write.set(field::STATION_ID, station_id.to_string());
            if current.get(fields_of::HOUSEHOLD_ID).is_some() {
                write = write.set(fields_of::HOUSEHOLD_ID, Value::Null).set(fields_of::HOUSEHOLD_RELATION, Value::Null);
            }
        }
        store.record(actor, vec![write], at.now, at.today)?;
    }
    recipient_file(store, id)
}

#[cfg(test)]
mod tests {
    use contract::{CommandError, HistoryStatus, VisitDraft, codes};
    use domain::change::Op;
    use serde_json::json;

    use super::*;
    use crate::testing::{Station, id_number};

    fn values(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn refusal(result: Result<RecipientFile, AppError>) -> CommandError {
        CommandError::from(result.expect_err("refused"))
    }

    #[test]
    fn a_new_recipient_is_placed_in_the_station_of_their_village() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let file = recipient_file(&station.store, id).expect("file");
        assert_eq!(file.place.station.map(|s| s.id), Some(station.id));
        assert_eq!(file.place.village.map(|v| v.name).as_deref(), Some("青山村"));
        assert_eq!(
            (file.gender, file.birth_date.map(|d| d.to_string())),
            (Some(Gender::Male), Some("1950-03-15".into()))
        );
    }

    #[test]
    fn a_recipient_without_a_village_is_refused_at_the_village_field() {
        let mut station = Station::new();
        let draft =
            RecipientDraft { name: "张三".into(), id_number: id_number("19500315", 11), ..RecipientDraft::default() };
        let (moment, worker) = (station.moment(), station.worker.clone());
        let error =
            CommandError::from(add_recipient(&mut station.store, &worker, &draft, moment).expect_err("refused"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some(fields_of::VILLAGE_ID)));
    }

    #[test]
    fn the_file_shows_the_person_their_ledger_and_who_changed_what() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let draft = VisitDraft { observations: "身体尚可".into(), ..VisitDraft::default() };
        crate::visit::record_visit(&mut station.store, &worker, id, &draft, moment).expect("visited");
        let moment = station.moment();
        update_recipient(&mut station.store, &worker, id, &values(&[(fields_of::PHONE, json!("13800138000"))]), moment)
            .expect("edited");

        let file = recipient_file(&station.store, id).expect("file");
        assert_eq!((file.name.as_str(), file.id_number.clone()), ("张三", id_number("19500315", 11)));
        assert_eq!(file.phone.as_deref(), Some("13800138000"));
        assert_eq!(file.fields.get(fields_of::PHONE), Some(&json!("13800138000")));
        let ledger: Vec<(EntityKind, &str)> = file.ledger.iter().map(|l| (l.kind, l.summary.as_str())).collect();
        assert_eq!(ledger, vec![(EntityKind::Visit, "身体尚可")]);
        let history: Vec<(Op, Vec<&str>)> =
            file.history.iter().map(|h| (h.op, h.fields.iter().map(|f| f.field.as_str()).collect())).collect();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1], (Op::Update, vec![fields_of::PHONE]));
        let edit = &file.history[1];
        assert_eq!((edit.author_name.as_deref(), edit.status), (Some("张社工"), HistoryStatus::Pending));
        assert_eq!(edit.device_id, station.store.device_id());
        assert_eq!(edit.fields[0].label_zh, "手机号");
        assert!(file.open_cases.is_empty() && file.household.is_none());
    }

    #[test]
    fn the_file_of_someone_not_held_here_is_not_found() {
        let station = Station::new();
        let error = CommandError::from(recipient_file(&station.store, Uuid::now_v7()).expect_err("missing"));
        assert_eq!(error.code, codes::NOT_FOUND);
    }

    #[test]
    fn an_edit_with_one_wrong_field_names_it_and_saves_nothing() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let sent =
            values(&[(fields_of::ADDRESS, json!("青山村三组")), (fields_of::ID_NUMBER, json!("430124195003150110"))]);
        let error = refusal(update_recipient(&mut station.store, &worker, id, &sent, moment));
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            ("id_number_check_digit", Some(fields_of::ID_NUMBER))
        );
        assert!(error.message_zh.starts_with("身份证号") && error.message_en.starts_with("Resident ID number"));
        let file = recipient_file(&station.store, id).expect("file");
        assert_eq!(file.address, None, "the valid field was not saved either");
    }

    #[test]
    fn a_corrected_id_number_brings_its_gender_and_date_of_birth() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let corrected = id_number("19520704", 12);
        let sent = values(&[(fields_of::ID_NUMBER, json!(corrected)), (fields_of::GENDER, json!("Male"))]);
        let file = update_recipient(&mut station.store, &worker, id, &sent, moment).expect("edited");
        assert_eq!(file.id_number, corrected);
        assert_eq!(file.gender, Some(Gender::Female));
        assert_eq!(file.birth_date.map(|d| d.to_string()).as_deref(), Some("1952-07-04"));
    }

    #[test]
    fn the_village_is_not_changed_by_a_general_edit() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let sent = values(&[(fields_of::VILLAGE_ID, json!(station.village2.to_string()))]);
        let error = refusal(update_recipient(&mut station.store, &worker, id, &sent, moment));
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            (codes::NOT_EDITABLE_HERE, Some(fields_of::VILLAGE_ID))
        );
    }

    #[test]
    fn moving_to_another_village_of_the_station_keeps_the_station() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let file = transfer_recipient(&mut station.store, &worker, id, station.village2, moment).expect("moved");
        assert_eq!(file.place.village.map(|v| v.name).as_deref(), Some("绿水村"));
        assert_eq!(file.place.station.map(|s| s.id), Some(station.id));
    }

    #[test]
    fn a_social_worker_may_not_transfer_someone_to_another_station() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, worker) = (station.moment(), station.worker.clone());
        let error = refusal(transfer_recipient(&mut station.store, &worker, id, station.other_village, moment));
        assert_eq!(error.code, "role_cannot");
        let file = recipient_file(&station.store, id).expect("file");
        assert_eq!(file.place.village.map(|v| v.id), Some(station.village));
    }

    #[test]
    fn a_deputy_head_transfers_someone_and_the_station_follows_the_village() {
        let mut station = Station::new();
        let id = station.add_recipient("张三", 11);
        let (moment, deputy) = (station.moment(), station.deputy.clone());
        let file = transfer_recipient(&mut station.store, &deputy, id, station.other_village, moment).expect("moved");
        assert_eq!(file.place.village.map(|v| v.name).as_deref(), Some("河西村"));
        assert_eq!(file.place.station.map(|s| s.name).as_deref(), Some("河西社工站"));
    }
}
