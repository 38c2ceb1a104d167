//! The resource library (资源库): the station's charities, volunteer teams, enterprises, community
//! organisations and government programmes, found by name, pinyin initials, what they offer or a
//! village they serve; added and edited from their spec's form; and each resource's page with the
//! case links it is part of (协调资源), the recipients it helped and the charity money and goods
//! they received in total.
//!
//! Writes go through `Store::record`; who may add or edit a resource is `domain::policy`'s.

use std::collections::BTreeSet;

use contract::{FieldValues, NamedRef, ResourceLinkView, ResourcePage, ResourceQuery, ResourceRow};
use domain::case::{ResourceLinkKind, ResourceLinkStatus};
use domain::entity::field::{resource, resource_link};
use domain::entity::{EntityKind, EntityState, field};
use domain::policy::{self, Action, Actor, Denied, DenyReason, Target};
use domain::referral::ResourceKind;
use domain::rules::Rejection;
use domain::{Id, Labelled};
use serde_json::Value;
use store::{LinkOfResource, ResourceSearch, Store};
use uuid::Uuid;

use crate::places::name_of;
use crate::{AppError, Moment, fields};

/// The first station of the actor where they may do `action` to a record of `kind`: where a new
/// resource or activity goes, and whose library and activities are shown.
pub(crate) fn station_for(actor: &Actor, action: Action, kind: EntityKind) -> Result<Id, AppError> {
    let mut denied = Denied { action, kind, reason: DenyReason::NoRole };
    for station_id in actor.stations() {
        let target = Target { kind, station_id: Some(station_id), case_worker_id: None };
        match policy::authorize(actor, action, &target) {
            Ok(()) => return Ok(station_id),
            Err(d) => denied = d,
        }
    }
    if actor.role.is_some() && denied.reason == DenyReason::NoRole {
        denied.reason = DenyReason::RoleCannot;
    }
    Err(AppError::Rejected(Rejection::Denied(denied)))
}

/// The ids of a list field.
pub(crate) fn ids_of(state: &EntityState, name: &str) -> Vec<Id> {
    match state.get(name) {
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).filter_map(|s| Id::try_parse(s).ok()).collect()
        }
        _ => Vec::new(),
    }
}

/// The records of `ids` held here, named (by the `name` field of villages, stations and
/// resources, a user's display name, a recipient's name); those not held are left out.
pub(crate) fn named_list(store: &Store, kind: EntityKind, ids: &[Id]) -> Result<Vec<NamedRef>, AppError> {
    let mut named = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(state) = store.entity(kind, *id)? {
            named.push(NamedRef { id: *id, name: display_name(&state) });
        }
    }
    Ok(named)
}

fn display_name(state: &EntityState) -> String {
    match state.kind {
        EntityKind::User => state.get_str(field::user::DISPLAY_NAME).unwrap_or_default().to_string(),
        _ => name_of(state),
    }
}

fn resource_row(store: &Store, state: &EntityState) -> Result<ResourceRow, AppError> {
    let text = |name: &str| state.get_str(name).map(str::to_string);
    Ok(ResourceRow {
        id: state.id,
        kind: state.get_enum::<ResourceKind>(resource::KIND).unwrap_or(ResourceKind::Charity),
        name: name_of(state),
        contact_name: text(resource::CONTACT_NAME),
        contact_phone: text(resource::CONTACT_PHONE),
        services: text(resource::SERVICES),
        villages: named_list(store, EntityKind::Village, &ids_of(state, resource::VILLAGE_IDS))?,
        cultivated: state.get(resource::CULTIVATED).and_then(Value::as_bool).unwrap_or(false),
        active: state.get(resource::ACTIVE).and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The library of the actor's station, searched.
pub fn resource_library(store: &Store, actor: &Actor, query: &ResourceQuery) -> Result<Vec<ResourceRow>, AppError> {
    let station_id = station_for(actor, Action::Read, EntityKind::Resource)?;
    let search = ResourceSearch { text: query.text.clone(), kind: query.kind.map(|k| k.as_str().to_string()) };
    store.search_resources(station_id, &search)?.iter().map(|state| resource_row(store, state)).collect()
}

fn link_view(link: &LinkOfResource) -> ResourceLinkView {
    let state = &link.link;
    let text = |name: &str| state.get_str(name).map(str::to_string);
    let fen = |name: &str| state.get(name).and_then(Value::as_i64);
    ResourceLinkView {
        link_id: state.id,
        case_id: state.get_id(field::CASE_ID).unwrap_or_default(),
        recipient: link.recipient_id.zip(link.recipient_name.clone()).map(|(id, name)| NamedRef { id, name }),
        kind: state.get_enum::<ResourceLinkKind>(resource_link::KIND),
        description: text(resource_link::DESCRIPTION).unwrap_or_default(),
        status: state.get_enum::<ResourceLinkStatus>(resource_link::STATUS),
        linked_on: state.get_str(resource_link::LINKED_ON).and_then(|d| d.parse().ok()),
        outcome: text(resource_link::OUTCOME),
        money_fen: fen(resource_link::MONEY_FEN),
        goods: text(resource_link::GOODS),
        goods_value_fen: fen(resource_link::GOODS_VALUE_FEN),
    }
}

/// A resource's page: its facts and stored values, its case links held here, the recipients it
/// helped and what they received in total.
pub fn resource_page(store: &Store, id: Id) -> Result<ResourcePage, AppError> {
    let state = store.entity(EntityKind::Resource, id)?.ok_or(AppError::NotFound(EntityKind::Resource))?;
    let links: Vec<ResourceLinkView> = store.links_of_resource(id)?.iter().map(link_view).collect();
    let recipients: BTreeSet<Uuid> = links.iter().filter_map(|l| l.recipient.as_ref().map(|r| r.id)).collect();
    // Amounts are bounded by their field (`money::MAX_FEN`); saturating keeps a sum of many
    // within an i64 regardless.
    let total = |f: fn(&ResourceLinkView) -> Option<i64>| links.iter().filter_map(f).fold(0i64, i64::saturating_add);
    Ok(ResourcePage {
        resource: resource_row(store, &state)?,
        fields: state.fields.clone().into_iter().filter(|(_, v)| !v.is_null()).collect(),
        recipients_helped: u64::try_from(recipients.len()).unwrap_or(u64::MAX),
        money_fen_total: total(|l| l.money_fen),
        goods_value_fen_total: total(|l| l.goods_value_fen),
        links,
    })
}

/// Adds a resource to the library of the actor's station, from its form.
pub fn add_resource(
    store: &mut Store,
    actor: &Actor,
    values: &FieldValues,
    at: Moment,
) -> Result<ResourcePage, AppError> {
    let station_id = station_for(actor, Action::Create, EntityKind::Resource)?;
    let id = Uuid::now_v7();
    let write = fields::create_write(EntityKind::Resource, id, values, &[field::STATION_ID], at.today)?
        .set(field::STATION_ID, station_id.to_string());
    store.record(actor, vec![write], at.now, at.today)?;
    resource_page(store, id)
}

/// Edits a resource (each field checked; nothing is saved when one is wrong).
pub fn update_resource(
    store: &mut Store,
    actor: &Actor,
    id: Id,
    values: &FieldValues,
    at: Moment,
) -> Result<ResourcePage, AppError> {
    let current = store.entity(EntityKind::Resource, id)?.ok_or(AppError::NotFound(EntityKind::Resource))?;
    if let Some(write) = fields::update_write(&current, values, &[field::STATION_ID], at.today)? {
        store.record(actor, vec![write], at.now, at.today)?;
    }
    resource_page(store, id)
}

#[cfg(test)]
mod tests {
    use contract::CaseRecordKind;
    use serde_json::json;

    use super::*;
    use crate::testing::{Station, today};

    fn values(pairs: &[(&str, Value)]) -> FieldValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn charity(station: &Station) -> FieldValues {
        values(&[
            (resource::KIND, json!("Charity")),
            (resource::NAME, json!("长沙爱心慈善基金会")),
            (resource::CONTACT_NAME, json!("李明")),
            (resource::SERVICES, json!("助学金、冬季棉被")),
            (resource::VILLAGE_IDS, json!([station.village2.to_string()])),
            (resource::ACTIVE, json!(true)),
        ])
    }

    fn add_charity(station: &mut Station) -> ResourcePage {
        let values = charity(station);
        add(station, &values)
    }

    /// A charity in the library, and a case of 王秀英's to link it into.
    fn charity_and_case(station: &mut Station) -> (Uuid, Uuid) {
        let resource_id = add_charity(station).resource.id;
        let person = station.add_recipient("王秀英", 1);
        let (worker, at) = (station.worker.clone(), station.moment());
        let case_id = crate::case::open_case(&mut station.store, &worker, person, None, at).expect("case").case_id;
        (resource_id, case_id)
    }

    fn add(station: &mut Station, values: &FieldValues) -> ResourcePage {
        let (worker, at) = (station.worker.clone(), station.moment());
        add_resource(&mut station.store, &worker, values, at).expect("added")
    }

    fn search(station: &Station, text: &str, kind: Option<ResourceKind>) -> Vec<String> {
        let query = ResourceQuery { text: text.into(), kind };
        resource_library(&station.store, &station.worker, &query)
            .expect("library")
            .into_iter()
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn the_library_is_searched_by_name_pinyin_initials_services_and_village() {
        let mut station = Station::new();
        add_charity(&mut station);
        let team = values(&[
            (resource::KIND, json!("VolunteerTeam")),
            (resource::NAME, json!("青山志愿服务队")),
            (resource::CULTIVATED, json!(true)),
            (resource::ACTIVE, json!(true)),
        ]);
        add(&mut station, &team);
        let both = ["青山志愿服务队", "长沙爱心慈善基金会"];
        assert_eq!(search(&station, "", None), both, "by pinyin");
        assert_eq!(search(&station, "爱心", None), ["长沙爱心慈善基金会"], "by name");
        assert_eq!(search(&station, "AXCS", None), ["长沙爱心慈善基金会"], "by initials, any case");
        assert_eq!(search(&station, "棉被", None), ["长沙爱心慈善基金会"], "by what it offers");
        assert_eq!(search(&station, "绿水", None), ["长沙爱心慈善基金会"], "by a village it serves");
        assert_eq!(search(&station, "", Some(ResourceKind::VolunteerTeam)), ["青山志愿服务队"], "by kind");
        assert!(search(&station, "河西", None).is_empty());
    }

    #[test]
    fn a_resource_names_the_villages_it_serves_and_whether_the_station_cultivates_it() {
        let mut station = Station::new();
        let page = add_charity(&mut station);
        assert_eq!(page.resource.villages.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["绿水村"]);
        assert!(!page.resource.cultivated && page.resource.active);
        let (worker, at) = (station.worker.clone(), station.moment());
        let edited = update_resource(
            &mut station.store,
            &worker,
            page.resource.id,
            &values(&[(resource::CULTIVATED, json!(true)), (resource::SERVICES, json!("助学金"))]),
            at,
        )
        .expect("edited");
        assert!(edited.resource.cultivated);
        assert_eq!(edited.resource.services.as_deref(), Some("助学金"));
    }

    #[test]
    fn a_village_of_another_station_is_refused_and_nothing_is_saved() {
        let mut station = Station::new();
        let mut bad = charity(&station);
        bad.insert(resource::VILLAGE_IDS.into(), json!([station.other_village.to_string()]));
        let (worker, at) = (station.worker.clone(), station.moment());
        let refused = add_resource(&mut station.store, &worker, &bad, at).expect_err("refused");
        assert_eq!(contract::CommandError::from(refused).field.as_deref(), Some(resource::VILLAGE_IDS));
        assert!(search(&station, "", None).is_empty());
    }

    #[test]
    fn a_resource_page_lists_the_cases_it_helped_with_the_money_and_goods() {
        let mut station = Station::new();
        let (resource_id, case_id) = charity_and_case(&mut station);
        let worker = station.worker.clone();
        let link = |money: &str, goods_value: &str| {
            values(&[
                (resource_link::RESOURCE_ID, json!(resource_id.to_string())),
                (resource_link::KIND, json!("Charity")),
                (resource_link::DESCRIPTION, json!("申请助学金和过冬物资")),
                (resource_link::STATUS, json!("Secured")),
                (resource_link::LINKED_ON, json!(today().to_string())),
                (resource_link::OUTCOME, json!("已发放")),
                (resource_link::MONEY_FEN, json!(money)),
                (resource_link::GOODS, json!("棉被两床")),
                (resource_link::GOODS_VALUE_FEN, json!(goods_value)),
            ])
        };
        for (money, goods_value) in [("1,200.50", "300"), ("800", "")] {
            let at = station.moment();
            let saved = crate::case::save_case_record(
                &mut station.store,
                &worker,
                case_id,
                CaseRecordKind::ResourceLink,
                link(money, goods_value),
                None,
                at,
            )
            .expect("linked");
            assert!(saved.page.records.resource_links.iter().any(|r| r.id == saved.id), "on the case page");
        }
        let page = resource_page(&station.store, resource_id).expect("page");
        assert_eq!(page.links.len(), 2);
        assert_eq!(page.recipients_helped, 1);
        assert_eq!(page.links[0].recipient.as_ref().map(|r| r.name.as_str()), Some("王秀英"));
        assert_eq!(page.money_fen_total, 120_050 + 80_000);
        assert_eq!(page.goods_value_fen_total, 30_000);
        assert_eq!(page.links.iter().filter_map(|l| l.money_fen).collect::<BTreeSet<_>>(), [80_000, 120_050].into());
    }

    #[test]
    fn a_resource_link_on_the_case_page_names_its_resource() {
        let mut station = Station::new();
        let (resource_id, case_id) = charity_and_case(&mut station);
        let worker = station.worker.clone();
        let link = values(&[
            (resource_link::RESOURCE_ID, json!(resource_id.to_string())),
            (resource_link::KIND, json!("Charity")),
            (resource_link::DESCRIPTION, json!("申请助学金")),
            (resource_link::STATUS, json!("Requested")),
            (resource_link::LINKED_ON, json!(today().to_string())),
        ]);
        let at = station.moment();
        let saved = crate::case::save_case_record(
            &mut station.store,
            &worker,
            case_id,
            CaseRecordKind::ResourceLink,
            link,
            None,
            at,
        )
        .expect("linked");
        let shown = saved.page.records.resource_links.iter().find(|r| r.id == saved.id).expect("on the case page");
        assert_eq!(shown.resource, Some(NamedRef { id: resource_id, name: "长沙爱心慈善基金会".into() }));
    }

    #[test]
    fn an_amount_that_is_not_yuan_is_refused_at_its_field() {
        let mut station = Station::new();
        let (resource_id, case_id) = charity_and_case(&mut station);
        let worker = station.worker.clone();
        let bad = values(&[
            (resource_link::RESOURCE_ID, json!(resource_id.to_string())),
            (resource_link::KIND, json!("Charity")),
            (resource_link::DESCRIPTION, json!("助学金")),
            (resource_link::STATUS, json!("Secured")),
            (resource_link::LINKED_ON, json!(today().to_string())),
            (resource_link::MONEY_FEN, json!("12.345")),
        ]);
        let at = station.moment();
        let refused = crate::case::save_case_record(
            &mut station.store,
            &worker,
            case_id,
            CaseRecordKind::ResourceLink,
            bad,
            None,
            at,
        )
        .expect_err("refused");
        let error = contract::CommandError::from(refused);
        assert_eq!((error.code.as_str(), error.field.as_deref()), ("amount", Some(resource_link::MONEY_FEN)));
        assert!(error.message_zh.contains("慈善款金额"), "{error:?}");
        assert!(error.message_en.to_lowercase().contains("charity money"), "{error:?}");
    }
}
