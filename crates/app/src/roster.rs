//! The roster (花名册): one page of recipients, filtered and searched, as the list screen shows it.

use contract::{RosterEntry, RosterPage, RosterQuery, SearchKind};
use domain::Labelled;
use domain::recipient::{Gender, RecipientCategory};
use store::{RosterFilter, Search, Store};

use crate::AppError;

/// The largest roster page the UI may ask for.
pub const MAX_PAGE_SIZE: u32 = 200;

/// How many characters of the ID number the roster shows (the full number stays off the list).
const ID_NUMBER_TAIL: usize = 4;

/// One page of the roster.
pub fn roster(store: &Store, query: &RosterQuery) -> Result<RosterPage, AppError> {
    let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
    let text = query.search_text.trim().to_string();
    let search = match query.search_kind {
        _ if text.is_empty() => None,
        Some(SearchKind::Name) | None => Some(Search::Name(text)),
        Some(SearchKind::IdSuffix) => Some(Search::IdSuffix(text)),
        Some(SearchKind::Phone) => Some(Search::Phone(text)),
    };
    let filter = RosterFilter {
        category: query.category,
        village_id: query.village_id,
        service_point_id: query.service_point_id,
        search,
        limit: page_size as usize,
        offset: query.page as usize * page_size as usize,
        ..RosterFilter::default()
    };
    let rows = store.roster(&filter)?;
    let total = store.roster_count(&filter)?;
    let entries = rows
        .into_iter()
        .map(|row| RosterEntry {
            id: row.id,
            name: row.name,
            gender: row.gender.as_deref().and_then(Gender::parse),
            birth_date: row.birth_date,
            categories: row.categories.iter().filter_map(|c| RecipientCategory::parse(c)).collect(),
            village_name: row.village_name.unwrap_or_default(),
            phone: row.phone,
            id_number_tail: row.id_number.as_deref().map(tail).unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let shown = query.page as u64 * page_size as u64 + entries.len() as u64;
    Ok(RosterPage { entries, page: query.page, page_size, total, has_more: shown < total })
}

fn tail(id_number: &str) -> String {
    let count = id_number.chars().count();
    id_number.chars().skip(count.saturating_sub(ID_NUMBER_TAIL)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Station, id_number};

    fn query(page: u32, page_size: u32) -> RosterQuery {
        RosterQuery { page, ..RosterQuery::first_page(page_size) }
    }

    #[test]
    fn the_roster_shows_only_the_tail_of_the_id_number_and_pages_through_everyone() {
        let mut station = Station::new();
        for (n, name) in ["张三", "李四", "王五"].iter().enumerate() {
            station.add_recipient(name, 11 + 2 * n as u32);
        }
        let first = roster(&station.store, &query(0, 2)).expect("page");
        assert_eq!((first.entries.len(), first.total, first.has_more), (2, 3, true));
        let last = roster(&station.store, &query(1, 2)).expect("page");
        assert_eq!((last.entries.len(), last.has_more), (1, false));
        let full = id_number("19500315", 11);
        let zhang = first.entries.iter().chain(&last.entries).find(|e| e.name == "张三").expect("listed");
        assert_eq!(zhang.id_number_tail, full[14..]);
        assert_eq!(zhang.village_name, "青山村");
    }

    #[test]
    fn a_name_search_finds_by_pinyin_initials() {
        let mut station = Station::new();
        station.add_recipient("张三", 11);
        station.add_recipient("李四", 13);
        let page = roster(
            &station.store,
            &RosterQuery { search_kind: Some(SearchKind::Name), search_text: "zs".into(), ..query(0, 50) },
        )
        .expect("page");
        let names: Vec<&str> = page.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["张三"]);
    }
}
