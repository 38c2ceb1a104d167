//! The station's activities (活动): group work, community activities, policy publicity sessions
//! and volunteer services, listed month by month with the month's participants and hours,
//! recorded and edited from the activity's spec. Recipients taking part are linked by id, so the
//! activity shows in their file's ledger (`Store::ledger`).

use chrono::{Datelike, Months, NaiveDate};
use contract::{ActivitiesMonth, ActivityView, FieldValues, NamedRef};
use domain::Id;
use domain::activity::{ActivityKind, month_text, parse_month};
use domain::entity::field::{activity, user};
use domain::entity::{EntityKind, EntityState, field};
use domain::org::RoleKind;
use domain::policy::{Action, Actor};
use domain::validate::{FieldError, Invalid};
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::library::{ids_of, named_list, station_for};
use crate::{AppError, Moment, fields};

fn activity_view(store: &Store, state: &EntityState) -> Result<ActivityView, AppError> {
    let recipient_ids = ids_of(state, activity::RECIPIENT_IDS);
    let others_count = state.get(activity::OTHERS_COUNT).and_then(Value::as_i64).unwrap_or(0);
    let recipients_linked = i64::try_from(recipient_ids.len()).unwrap_or(i64::MAX);
    Ok(ActivityView {
        id: state.id,
        kind: state.get_enum::<ActivityKind>(activity::KIND).unwrap_or(ActivityKind::CommunityActivity),
        title: state.get_str(activity::TITLE).unwrap_or_default().to_string(),
        held_on: state.get_str(activity::HELD_ON).and_then(|d| d.parse().ok()).unwrap_or_default(),
        place: state.get_str(activity::PLACE).unwrap_or_default().to_string(),
        duration_minutes: state.get(activity::DURATION_MINUTES).and_then(Value::as_i64).unwrap_or(0),
        workers: named_list(store, EntityKind::User, &ids_of(state, activity::WORKER_IDS))?,
        recipients: named_list(store, EntityKind::Recipient, &recipient_ids)?,
        others_count,
        participants: recipients_linked.saturating_add(others_count),
        resources: named_list(store, EntityKind::Resource, &ids_of(state, activity::RESOURCE_IDS))?,
        notes: state.get_str(activity::NOTES).map(str::to_string),
        fields: state.fields.clone().into_iter().filter(|(_, v)| !v.is_null()).collect(),
    })
}

/// The first day of the month asked for (`YYYY-MM`), or of this month.
fn first_day(month: Option<&str>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    match month {
        None => Ok(today.with_day(1).unwrap_or(today)),
        Some(text) => parse_month(text).ok_or_else(|| {
            AppError::Invalid(FieldError {
                field: "month".into(),
                field_zh: "月份".into(),
                field_en: "month".into(),
                invalid: Invalid::Date,
            })
        }),
    }
}

/// A month of the actor's station's activities, newest first, with the month's totals, and the
/// workers and active resources the activity form offers.
pub fn activities_of_month(
    store: &Store,
    actor: &Actor,
    month: Option<&str>,
    today: NaiveDate,
) -> Result<ActivitiesMonth, AppError> {
    let station_id = station_for(actor, Action::Read, EntityKind::Activity)?;
    let first = first_day(month, today)?;
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let previous = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let activities: Vec<ActivityView> = store
        .activities_between(station_id, first, next)?
        .iter()
        .map(|state| activity_view(store, state))
        .collect::<Result<_, _>>()?;
    let workers = store
        .list(EntityKind::User, Some(station_id))?
        .into_iter()
        .filter(|u| u.get(user::ACTIVE).and_then(Value::as_bool).unwrap_or(false))
        .filter(|u| {
            u.get_enum::<RoleKind>(user::ROLE)
                .is_some_and(|r| matches!(r, RoleKind::SocialWorker | RoleKind::DeputyHead))
        })
        .map(|u| NamedRef { id: u.id, name: u.get_str(user::DISPLAY_NAME).unwrap_or_default().to_string() })
        .collect();
    let resources = store
        .list(EntityKind::Resource, Some(station_id))?
        .into_iter()
        .filter(|r| r.get(field::resource::ACTIVE).and_then(Value::as_bool).unwrap_or(false))
        .map(|r| NamedRef { id: r.id, name: crate::places::name_of(&r) })
        .collect();
    Ok(ActivitiesMonth {
        month: month_text(first),
        previous_month: month_text(previous),
        next_month: month_text(next),
        total_participants: activities.iter().map(|a| a.participants).fold(0, i64::saturating_add),
        total_minutes: activities.iter().map(|a| a.duration_minutes).fold(0, i64::saturating_add),
        activities,
        workers,
        resources,
    })
}

fn stored(store: &Store, id: Id) -> Result<EntityState, AppError> {
    store.entity(EntityKind::Activity, id)?.ok_or(AppError::NotFound(EntityKind::Activity))
}

/// Records an activity of the actor's station, from its form.
pub fn add_activity(
    store: &mut Store,
    actor: &Actor,
    values: &FieldValues,
    at: Moment,
) -> Result<ActivityView, AppError> {
    let station_id = station_for(actor, Action::Create, EntityKind::Activity)?;
    let id = Uuid::now_v7();
    let write = fields::create_write(EntityKind::Activity, id, values, &[field::STATION_ID], at.today)?
        .set(field::STATION_ID, station_id.to_string());
    store.record(actor, vec![write], at.now, at.today)?;
    activity_view(store, &stored(store, id)?)
}

/// Edits an activity (each field checked; nothing is saved when one is wrong).
pub fn update_activity(
    store: &mut Store,
    actor: &Actor,
    id: Id,
    values: &FieldValues,
    at: Moment,
) -> Result<ActivityView, AppError> {
    let current = stored(store, id)?;
    if let Some(write) = fields::update_write(&current, values, &[field::STATION_ID], at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    activity_view(store, &stored(store, id)?)
}

#[cfg(test)]
mod tests {
    use domain::Labelled;
    use serde_json::json;

    use super::*;
    use crate::testing::Station;

    fn group_work(station: &Station, held_on: &str, recipients: &[Uuid]) -> FieldValues {
        let ids: Vec<String> = recipients.iter().map(Uuid::to_string).collect();
        [
            (activity::KIND, json!("GroupWork")),
            (activity::TITLE, json!("长者健康互助小组")),
            (activity::HELD_ON, json!(held_on)),
            (activity::PLACE, json!("青山村村委会")),
            (activity::DURATION_MINUTES, json!("90")),
            (activity::WORKER_IDS, json!([station.worker.user_id.to_string()])),
            (activity::RECIPIENT_IDS, json!(ids)),
            (activity::OTHERS_COUNT, json!("12")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn add_group_work(station: &mut Station, held_on: &str, recipients: &[Uuid]) -> Result<ActivityView, AppError> {
        let values = group_work(station, held_on, recipients);
        add(station, &values)
    }

    fn add(station: &mut Station, values: &FieldValues) -> Result<ActivityView, AppError> {
        let (worker, at) = (station.worker.clone(), station.moment());
        add_activity(&mut station.store, &worker, values, at)
    }

    #[test]
    fn an_activity_counts_its_recipients_and_the_others_and_names_who_ran_it() {
        let mut station = Station::new();
        let (a, b) = (station.add_recipient("王秀英", 1), station.add_recipient("李建国", 3));
        let view = add_group_work(&mut station, "2026-11-20", &[a, b]).expect("recorded");
        assert_eq!(view.participants, 14);
        assert_eq!(view.workers.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["张社工"]);
        let mut names: Vec<&str> = view.recipients.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["李建国", "王秀英"]);
    }

    #[test]
    fn activities_are_listed_by_month_with_the_months_totals() {
        let mut station = Station::new();
        let a = station.add_recipient("王秀英", 1);
        add_group_work(&mut station, "2026-11-20", &[a]).expect("november");
        add_group_work(&mut station, "2026-11-02", &[]).expect("november too");
        add_group_work(&mut station, "2026-10-31", &[a]).expect("october");
        let today = crate::testing::today();
        let november = activities_of_month(&station.store, &station.worker, None, today).expect("this month");
        assert_eq!((november.month.as_str(), november.previous_month.as_str()), ("2026-11", "2026-10"));
        let dates: Vec<String> = november.activities.iter().map(|a| a.held_on.to_string()).collect();
        assert_eq!(dates, ["2026-11-20", "2026-11-02"], "newest first");
        assert_eq!((november.total_participants, november.total_minutes), (13 + 12, 180));
        assert_eq!(november.workers.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["张社工", "张副站长"]);
        let october = activities_of_month(&station.store, &station.worker, Some("2026-10"), today).expect("october");
        assert_eq!(october.activities.len(), 1);
    }

    #[test]
    fn a_month_that_is_not_year_dash_month_is_refused_naming_the_month() {
        let station = Station::new();
        let error = activities_of_month(&station.store, &station.worker, Some("十一月"), crate::testing::today())
            .expect_err("refused");
        let error = contract::CommandError::from(error);
        assert_eq!(error.field.as_deref(), Some("month"));
        assert!(error.message_zh.starts_with("月份") && error.message_en.starts_with("Month"), "{error:?}");
    }

    #[test]
    fn an_activity_without_a_worker_or_with_a_recipient_of_another_station_is_refused() {
        let mut station = Station::new();
        let mut none = group_work(&station, "2026-11-20", &[]);
        none.insert(activity::WORKER_IDS.into(), json!([]));
        let error = contract::CommandError::from(add(&mut station, &none).expect_err("no worker"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("required", Some(activity::WORKER_IDS)));
        let stranger = group_work(&station, "2026-11-20", &[Uuid::now_v7()]);
        let error = contract::CommandError::from(add(&mut station, &stranger).expect_err("unknown person"));
        assert_eq!(error.field.as_deref(), Some(activity::RECIPIENT_IDS));
        let today = crate::testing::today();
        assert!(
            activities_of_month(&station.store, &station.worker, None, today).expect("month").activities.is_empty()
        );
    }

    #[test]
    fn a_recipient_taking_part_finds_the_activity_in_their_file() {
        let mut station = Station::new();
        let a = station.add_recipient("王秀英", 1);
        let view = add_group_work(&mut station, "2026-11-20", &[a]).expect("recorded");
        let file = crate::recipient::recipient_file(&station.store, a).expect("file");
        let entry = file.ledger.iter().find(|e| e.id == view.id).expect("in the ledger");
        assert_eq!((entry.kind, entry.summary.as_str()), (EntityKind::Activity, "长者健康互助小组"));
    }

    #[test]
    fn an_edit_changes_only_what_changed() {
        let mut station = Station::new();
        let view = add_group_work(&mut station, "2026-11-20", &[]).expect("recorded");
        let (worker, at) = (station.worker.clone(), station.moment());
        let mut values = group_work(&station, "2026-11-20", &[]);
        values.insert(activity::OTHERS_COUNT.into(), json!("20"));
        let edited = update_activity(&mut station.store, &worker, view.id, &values, at).expect("edited");
        assert_eq!(edited.participants, 20);
        assert_eq!(edited.kind.as_str(), "GroupWork");
    }
}
