//! Changes handed over to the signed-in user (issue 12): another worker's changes the server
//! refused because their case had been reassigned while that worker was offline, offered by the
//! server to the case's current worker and the station's deputy heads, and fetched by the sync
//! engine into the store. The new owner sees them on the case page, the deputy head on the
//! board; either takes one over or dismisses it. The decision is sent at the next round.
//!
//! Taking over records the content again as the user's own change, through `Store::record`
//! (the rules never accept a change authored by someone else): a new record with the same
//! values, the user as its worker, and in its notes a line saying whose offline work it was; an
//! edit is applied as the user's own update. Who may decide is `domain::policy::authorize`
//! (`Action::TakeOver`).

use contract::{HandOverOffer, OfferedField};
use domain::change::{Change, Op, Write};
use domain::entity::{EntityKind, FieldType};
use domain::field;
use domain::policy::{self, Action, Actor, Target};
use domain::rules::Rejection;
use serde_json::Value;
use store::{HandOverRow, Store};
use uuid::Uuid;

use crate::{AppError, Moment};

/// The offers waiting for a decision on this computer, of one case or all, oldest first.
pub fn hand_over_offers(store: &Store, actor: &Actor, case_id: Option<Uuid>) -> Result<Vec<HandOverOffer>, AppError> {
    store.hand_over_offers(case_id)?.into_iter().map(|row| offer(store, actor, row)).collect()
}

/// Takes an offered change over: its content recorded as the user's own change, and the offer
/// marked taken over, in one transaction.
pub fn take_over(store: &mut Store, actor: &Actor, change_id: Uuid, at: Moment) -> Result<(), AppError> {
    let row = waiting(store, actor, change_id)?;
    let author = row.offer.author_name.clone().unwrap_or_default();
    let writes = vec![taken_over(&row.offer.change, actor, &author)];
    store.take_over_hand_over(actor, change_id, writes, at.now, at.today)?;
    Ok(())
}

/// Dismisses an offered change.
pub fn dismiss(store: &mut Store, actor: &Actor, change_id: Uuid, at: Moment) -> Result<(), AppError> {
    waiting(store, actor, change_id)?;
    if !store.dismiss_hand_over(change_id, actor.user_id, at.now)? {
        return Err(store::StoreError::RefusedChangeGone.into());
    }
    Ok(())
}

/// The offer, waiting for a decision the actor may make.
fn waiting(store: &Store, actor: &Actor, change_id: Uuid) -> Result<HandOverRow, AppError> {
    let row = store.hand_over_offer(change_id)?.filter(|r| r.decision.is_none());
    let row = row.ok_or(store::StoreError::RefusedChangeGone)?;
    if let Err(denied) = policy::authorize(actor, Action::TakeOver, &target(store, &row)?) {
        return Err(AppError::Rejected(Rejection::Denied(denied)));
    }
    Ok(row)
}

/// The case the offer is about, as held here.
fn target(store: &Store, row: &HandOverRow) -> Result<Target, AppError> {
    let case = store.entity(EntityKind::Case, row.offer.case_id)?;
    Ok(Target {
        kind: EntityKind::Case,
        station_id: case.as_ref().and_then(|c| c.station_id()).or(Some(row.offer.station_id)),
        case_worker_id: case.as_ref().and_then(|c| c.get_id(field::case::WORKER_ID)),
    })
}

/// The write that records `change`'s content as `actor`'s own.
fn taken_over(change: &Change, actor: &Actor, author: &str) -> Write {
    let spec = change.entity.spec();
    let mut write = match change.op {
        Op::Create => Write::create(change.entity, Uuid::now_v7()),
        Op::Update => Write::update(change.entity, change.entity_id),
    };
    for (name, value) in &change.fields {
        write = write.set(name, value.value.clone());
    }
    if change.op == Op::Create {
        if spec.field(field::WORKER_ID).is_some() {
            write = write.set(field::WORKER_ID, actor.user_id.to_string());
        }
        if let Some(notes) = spec.field("notes").filter(|f| matches!(f.ty, FieldType::Text { .. })) {
            let before = change.value(notes.name).and_then(Value::as_str).unwrap_or_default();
            let line = format!(
                "（{author}离线时记录，个案改派后接手 / recorded offline by {author}, taken over after the case was reassigned）"
            );
            let text = if before.is_empty() { line } else { format!("{before}\n{line}") };
            write = write.set(notes.name, text);
        }
    }
    write
}

fn offer(store: &Store, actor: &Actor, row: HandOverRow) -> Result<HandOverOffer, AppError> {
    let change = &row.offer.change;
    let spec = change.entity.spec();
    let recipient_name = match store.entity(EntityKind::Case, row.offer.case_id)? {
        Some(case) => match case.get_id(field::case::RECIPIENT_ID) {
            Some(id) => store
                .entity(EntityKind::Recipient, id)?
                .and_then(|r| r.get_str(field::recipient::NAME).map(str::to_string)),
            None => None,
        },
        None => None,
    };
    let fields = change
        .fields
        .iter()
        .filter(|(name, _)| ![field::STATION_ID, field::CASE_ID, field::WORKER_ID].contains(&name.as_str()))
        .filter_map(|(name, write)| {
            let value = match &write.value {
                Value::Null => return None,
                Value::String(s) if s.is_empty() => return None,
                Value::String(s) => s.clone(),
                Value::Bool(true) => "是 / yes".into(),
                Value::Bool(false) => "否 / no".into(),
                other => other.to_string(),
            };
            let (zh, en) = spec.field(name).map_or((name.as_str(), name.as_str()), |f| (f.zh, f.en));
            Some(OfferedField { name: name.clone(), label_zh: zh.into(), label_en: en.into(), value })
        })
        .collect();
    let may_decide = policy::authorize(actor, Action::TakeOver, &target(store, &row)?).is_ok();
    Ok(HandOverOffer {
        change_id: change.change_id,
        kind: change.entity,
        created: change.op == Op::Create,
        case_id: row.offer.case_id,
        recipient_name,
        author_name: row.offer.author_name.clone(),
        refused_at: row.offer.refused_at,
        fields,
        may_decide,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use domain::org::Role;
    use store::{HandOverChoice, HandOverOffer as Offered};

    use super::*;
    use crate::case::open_case;
    use crate::testing::{Station, today};

    /// The case opened by the station's worker, and a second worker (the one it used to be with).
    fn case_of_the_worker(s: &mut Station) -> (Uuid, Actor) {
        let recipient = s.add_recipient("张三", 11);
        let at = s.moment();
        let worker = s.worker.clone();
        let case =
            open_case(&mut s.store, &worker, recipient, Some(today() - Duration::days(3)), at).expect("opened").case_id;
        let old = Uuid::now_v7();
        let admin = Actor::new(Uuid::now_v7(), Some(Role::Admin));
        let user = Write::create(EntityKind::User, old)
            .set(field::user::USERNAME, format!("u{}", old.simple()))
            .set(field::user::DISPLAY_NAME, "李社工")
            .set(field::user::ROLE, "SocialWorker")
            .set(field::STATION_ID, s.id.to_string())
            .set(field::user::ACTIVE, true);
        let at = s.moment();
        s.store.record(&admin, vec![user], at.now, at.today).expect("second worker");
        (case, Actor::new(old, Some(Role::SocialWorker { station_id: s.id })))
    }

    /// What the server sends: the old worker's offline screening of the case.
    fn offered_screening(s: &Station, case: Uuid, old: &Actor) -> Offered {
        let write = Write::create(EntityKind::Screening, Uuid::now_v7())
            .set(field::STATION_ID, s.id.to_string())
            .set(field::CASE_ID, case.to_string())
            .set(field::screening::SOURCE, "VisitScreening")
            .set(field::screening::FOUND_ON, today().to_string())
            .set("notes", "邻居反映老人独居");
        let change = Change {
            change_id: Uuid::now_v7(),
            device_id: Uuid::now_v7(),
            device_seq: 7,
            author_id: old.user_id,
            schema_version: domain::SCHEMA_VERSION,
            hlc: domain::hlc::Hlc::new(1, 0, Uuid::now_v7()),
            entity: write.entity,
            entity_id: write.entity_id,
            op: write.op,
            fields: write.fields,
        };
        Offered {
            change,
            station_id: s.id,
            case_id: case,
            author_id: old.user_id,
            author_name: Some("李社工".into()),
            refused_at: Utc::now(),
        }
    }

    #[test]
    fn taking_over_records_the_content_as_the_new_owners_own_change_and_waits_to_tell_the_server() {
        let mut s = Station::new();
        let (case, old) = case_of_the_worker(&mut s);
        let offered = offered_screening(&s, case, &old);
        let change_id = offered.change.change_id;
        s.store.replace_hand_over_offers(std::slice::from_ref(&offered)).expect("fetched");

        let worker = s.worker.clone();
        let listed = hand_over_offers(&s.store, &worker, Some(case)).expect("listed");
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].change_id, listed[0].kind, listed[0].created), (change_id, EntityKind::Screening, true));
        assert_eq!(listed[0].recipient_name.as_deref(), Some("张三"));
        assert_eq!(listed[0].author_name.as_deref(), Some("李社工"));
        assert!(listed[0].may_decide);
        assert!(listed[0].fields.iter().any(|f| f.label_zh == "备注" && f.value == "邻居反映老人独居"));
        // The deputy head sees it too (on the board: every case); the old worker may not decide.
        let deputy = s.deputy.clone();
        assert!(hand_over_offers(&s.store, &deputy, None).expect("listed")[0].may_decide);
        let at = s.moment();
        assert!(take_over(&mut s.store, &old, change_id, at).is_err(), "no longer the old worker's case");

        let before = s.store.pending_changes(100).expect("outbox").len();
        let at = s.moment();
        take_over(&mut s.store, &worker, change_id, at).expect("taken over");
        let outbox = s.store.pending_changes(100).expect("outbox");
        assert_eq!(outbox.len(), before + 1);
        let recorded = outbox.last().expect("the new owner's change");
        assert_eq!((recorded.author_id, recorded.entity), (worker.user_id, EntityKind::Screening));
        assert_ne!(recorded.entity_id, offered.change.entity_id, "a record of the new owner's");
        let notes = recorded.value("notes").and_then(Value::as_str).unwrap_or_default();
        assert!(notes.starts_with("邻居反映老人独居") && notes.contains("李社工离线时记录"), "{notes}");
        assert!(s.store.entity(EntityKind::Screening, recorded.entity_id).expect("read").is_some());

        assert!(hand_over_offers(&s.store, &worker, None).expect("listed").is_empty());
        assert_eq!(
            s.store.pending_hand_over_decisions().expect("pending"),
            vec![(change_id, HandOverChoice::TakenOver)]
        );
        let at = s.moment();
        assert!(take_over(&mut s.store, &worker, change_id, at).is_err(), "once");
    }

    #[test]
    fn dismissing_records_nothing_and_waits_to_tell_the_server() {
        let mut s = Station::new();
        let (case, old) = case_of_the_worker(&mut s);
        let offered = offered_screening(&s, case, &old);
        let change_id = offered.change.change_id;
        s.store.replace_hand_over_offers(&[offered]).expect("fetched");
        let before = s.store.pending_changes(100).expect("outbox").len();
        let deputy = s.deputy.clone();
        let at = s.moment();
        dismiss(&mut s.store, &deputy, change_id, at).expect("dismissed");
        assert_eq!(s.store.pending_changes(100).expect("outbox").len(), before);
        assert_eq!(
            s.store.pending_hand_over_decisions().expect("pending"),
            vec![(change_id, HandOverChoice::Dismissed)]
        );
        let at = s.moment();
        assert!(dismiss(&mut s.store, &deputy, change_id, at).is_err(), "once");
    }
}
