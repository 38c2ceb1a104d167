//! The queries of the resource library (资源库) and the activities page: resources found by name,
//! pinyin initials, what they offer or a village they serve; the case links a resource is part of,
//! with their recipients; a station's activities between two dates.
//!
//! A station's library holds tens of resources, a few hundred at most: the search scans the
//! station's rows (through `resources_by_station`) and computes the initials with the same SQL
//! function the roster's derived column is filled with, rather than keeping a derived column of
//! its own.

use chrono::NaiveDate;
use domain::entity::{EntityKind, EntityState};
use rusqlite::params;
use uuid::Uuid;

use crate::rows::{self, parse_id};
use crate::{Store, StoreError};

/// What the library's search box and kind filter ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSearch {
    /// Part of the name, its pinyin initials, part of what it offers, or part of a village's name
    /// it serves; empty: every resource.
    pub text: String,
    /// One kind only (a `ResourceKind` stored name).
    pub kind: Option<String>,
}

/// A link of a resource into a case plan, with the case's recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOfResource {
    pub link: EntityState,
    pub recipient_id: Option<Uuid>,
    /// `None` while the recipient is not held here.
    pub recipient_name: Option<String>,
}

impl Store {
    /// The station's resources matching `search`, by pinyin then name.
    pub fn search_resources(&self, station_id: Uuid, search: &ResourceSearch) -> Result<Vec<EntityState>, StoreError> {
        let text = search.text.trim().to_lowercase();
        let condition = "station_id = ?1
             AND (?2 IS NULL OR kind = ?2)
             AND (?3 = ''
                  OR instr(lower(name), ?3) > 0
                  OR instr(shegong_initials(name), ?3) > 0
                  OR instr(lower(coalesce(services, '')), ?3) > 0
                  OR EXISTS (SELECT 1 FROM json_each(resources.village_ids) j
                             JOIN villages v ON v.id = j.value WHERE instr(v.name, ?3) > 0))
             ORDER BY shegong_initials(name), name, id";
        rows::read_where(&self.conn, EntityKind::Resource, condition, &[&station_id.to_string(), &search.kind, &text])
    }

    /// Every case link of a resource held here, newest first, with the case's recipient.
    pub fn links_of_resource(&self, resource_id: Uuid) -> Result<Vec<LinkOfResource>, StoreError> {
        let links = rows::read_where(
            &self.conn,
            EntityKind::ResourceLink,
            "resource_id = ?1 ORDER BY linked_on DESC, created_hlc DESC",
            &[&resource_id.to_string()],
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.recipient_id, r.name FROM cases c LEFT JOIN recipients r ON r.id = c.recipient_id
             WHERE c.id = ?1",
        )?;
        let mut out = Vec::with_capacity(links.len());
        for link in links {
            let case_id = link.get_str(domain::field::CASE_ID).unwrap_or_default().to_string();
            let found: Option<(Option<String>, Option<String>)> =
                crate::optional(stmt.query_row(params![case_id], |r| Ok((r.get(0)?, r.get(1)?))))?;
            let (recipient, recipient_name) = found.unwrap_or((None, None));
            let recipient_id = recipient.as_deref().map(parse_id).transpose()?;
            out.push(LinkOfResource { link, recipient_id, recipient_name });
        }
        Ok(out)
    }

    /// The station's activities held from `from` until the day before `until`, newest first.
    pub fn activities_between(
        &self,
        station_id: Uuid,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<EntityState>, StoreError> {
        rows::read_where(
            &self.conn,
            EntityKind::Activity,
            "station_id = ?1 AND held_on >= ?2 AND held_on < ?3 ORDER BY held_on DESC, created_hlc DESC",
            &[&station_id.to_string(), &from.format("%Y-%m-%d").to_string(), &until.format("%Y-%m-%d").to_string()],
        )
    }
}
