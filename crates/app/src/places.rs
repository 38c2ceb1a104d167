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

/// The service points the user can see, each with its villages, in name order.
pub fn service_points(store: &Store) -> Result<Vec<ServicePointOption>, AppError> {
    let mut points: Vec<ServicePointOption> = store
        .list(EntityKind::ServicePoint, None)?
        .iter()
        .map(|p| ServicePointOption { id: p.id, name: name_of(p), villages: Vec::new() })
        .collect();
    points.sort_by(|a, b| a.name.cmp(&b.name));
    let mut villages = store.list(EntityKind::Village, None)?;
    villages.sort_by_key(name_of);
    for village in villages {
        let Some(point_id) = village.get_id(field::village::SERVICE_POINT_ID) else { continue };
        if let Some(point) = points.iter_mut().find(|p| p.id == point_id) {
            point.villages.push(VillageOption { id: village.id, name: name_of(&village) });
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
    fn a_village_is_placed_under_its_service_point_and_station() {
        let station = Station::new();
        let place = place_of(&station.store, Some(station.village)).expect("place");
        assert_eq!(place.village.map(|v| v.name).as_deref(), Some("青山村"));
        assert_eq!(place.service_point.map(|p| p.name).as_deref(), Some("一点"));
        assert_eq!(place.station.map(|s| s.name).as_deref(), Some("城关社工站"));
    }
}
