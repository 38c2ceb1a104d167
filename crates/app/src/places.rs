//! Where recipients and households live: the service points with their villages (the village
//! pickers), and a village's place (village, service point, station) by name.

use contract::{NamedRef, PlaceView, ServicePointOption, VillageOption};
use domain::Id;
use domain::entity::{EntityKind, EntityState, field};
use store::Store;

use crate::AppError;

/// A record's `name` field (empty when it has none).
pub(crate) fn name_of(state: &EntityState) -> String {
    state.get_str(field::station::NAME).unwrap_or_default().to_string()
}

/// A record of `kind` named for display, when it is held here.
pub(crate) fn named(store: &Store, kind: EntityKind, id: Option<Id>) -> Result<Option<NamedRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    Ok(store.entity(kind, id)?.map(|state| NamedRef { id, name: name_of(&state) }))
}

/// The village, its service point and its station.
pub fn place_of(store: &Store, village_id: Option<Id>) -> Result<PlaceView, AppError> {
    let Some(village_id) = village_id else { return Ok(PlaceView::default()) };
    let Some(village) = store.entity(EntityKind::Village, village_id)? else { return Ok(PlaceView::default()) };
    Ok(PlaceView {
        village: Some(NamedRef { id: village.id, name: name_of(&village) }),
        service_point: named(store, EntityKind::ServicePoint, village.get_id(field::village::SERVICE_POINT_ID))?,
        station: named(store, EntityKind::Station, village.get_id(field::STATION_ID))?,
    })
}

/// The service points the user can see, each with its villages, in name order; a deactivated
/// village (or one of a deactivated station) is marked, for the pickers to leave out.
pub fn service_points(store: &Store) -> Result<Vec<ServicePointOption>, AppError> {
    let mut points: Vec<ServicePointOption> = store
        .list(EntityKind::ServicePoint, None)?
        .iter()
        .map(|p| ServicePointOption { id: p.id, name: name_of(p), villages: Vec::new() })
        .collect();
    points.sort_by(|a, b| a.name.cmp(&b.name));
    let mut villages = store.list(EntityKind::Village, None)?;
    villages.sort_by_key(name_of);
    let inactive_stations: Vec<Id> = store
        .list(EntityKind::Station, None)?
        .iter()
        .filter(|station| !domain::places::is_active(station))
        .map(|station| station.id)
        .collect();
    for village in villages {
        let Some(point_id) = village.get_id(field::village::SERVICE_POINT_ID) else { continue };
        let station_active = village.get_id(field::STATION_ID).is_none_or(|s| !inactive_stations.contains(&s));
        let active = domain::places::is_active(&village) && station_active;
        if let Some(point) = points.iter_mut().find(|p| p.id == point_id) {
            point.villages.push(VillageOption { id: village.id, name: name_of(&village), active });
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Station;

    #[test]
    fn service_points_list_their_villages_in_name_order() {
        // The fixture's store holds a second station too: the list is what the store holds.
        let station = Station::new();
        let points = service_points(&station.store).expect("points");
        let names: Vec<(&str, Vec<&str>)> =
            points.iter().map(|p| (p.name.as_str(), p.villages.iter().map(|v| v.name.as_str()).collect())).collect();
        assert_eq!(names, vec![("一点", vec!["青山村"]), ("二点", vec!["绿水村"]), ("河西一点", vec!["河西村"])]);
    }

    #[test]
    fn a_deactivated_village_and_the_villages_of_a_deactivated_station_are_marked_for_the_pickers() {
        let mut station = Station::new();
        let admin = domain::policy::Actor::new(uuid::Uuid::now_v7(), Some(domain::org::Role::Admin));
        let other_station = station.store.entity(EntityKind::Village, station.other_village).expect("read");
        let other_station = other_station.and_then(|v| v.get_id(field::STATION_ID)).expect("its station");
        let writes = vec![
            domain::change::Write::update(EntityKind::Village, station.village2).set(field::village::ACTIVE, false),
            domain::change::Write::update(EntityKind::Station, other_station).set(field::station::ACTIVE, false),
        ];
        let at = station.moment();
        station.store.record(&admin, writes, at.now, at.today).expect("deactivated");
        let points = service_points(&station.store).expect("points");
        let villages: Vec<(&str, bool)> =
            points.iter().flat_map(|p| p.villages.iter().map(|v| (v.name.as_str(), v.active))).collect();
        assert_eq!(villages, vec![("青山村", true), ("绿水村", false), ("河西村", false)]);
    }

    #[test]
    fn a_recipient_added_in_a_deactivated_village_is_refused_at_the_village() {
        let mut station = Station::new();
        let admin = domain::policy::Actor::new(uuid::Uuid::now_v7(), Some(domain::org::Role::Admin));
        let write =
            domain::change::Write::update(EntityKind::Village, station.village).set(field::village::ACTIVE, false);
        let at = station.moment();
        station.store.record(&admin, vec![write], at.now, at.today).expect("deactivated");
        let draft = contract::RecipientDraft {
            name: "王五".into(),
            id_number: crate::testing::id_number("19500315", 7),
            categories: vec![domain::recipient::RecipientCategory::Dibao],
            village_id: Some(station.village),
            phone: String::new(),
        };
        let (worker, at) = (station.worker.clone(), station.moment());
        let error = crate::recipient::add_recipient(&mut station.store, &worker, &draft, at).expect_err("refused");
        let error = contract::CommandError::from(error);
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            ("place_deactivated", Some(field::recipient::VILLAGE_ID))
        );
    }

    #[test]
    fn a_village_is_placed_under_its_service_point_and_station() {
        let station = Station::new();
        let place = place_of(&station.store, Some(station.village)).expect("place");
        assert_eq!(place.village.map(|v| v.name).as_deref(), Some("青山村"));
        assert_eq!(place.service_point.map(|p| p.name).as_deref(), Some("一点"));
        assert_eq!(place.station.map(|s| s.name).as_deref(), Some("城关社工站"));
    }
}
