//! Cases reassigned away from this device's user (migration 0017): what stays of a case the
//! server evicted because a deputy head gave it to another worker, so the screens can say where
//! it went.

use chrono::{DateTime, Utc};
use domain::case::Stage;
use domain::entity::EntityKind;
use domain::{Id, Labelled, field};
use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};

use crate::rows::{self, parse_id};
use crate::{Store, StoreError};

/// A case that was reassigned away from this device's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedCase {
    pub case_id: Id,
    pub recipient_id: Option<Id>,
    /// The stage the case was at when it left.
    pub stage: Option<Stage>,
    pub reassigned_to: Id,
    /// When this device heard.
    pub moved_at: DateTime<Utc>,
}

/// Notes, inside the pull's transaction and before the case is removed, that `case_id` went
/// to `reassigned_to`.
pub(crate) fn note_moved(
    conn: &Connection,
    case_id: Id,
    reassigned_to: Id,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let case = rows::read_entity(conn, EntityKind::Case, case_id)?;
    let recipient_id = case.as_ref().and_then(|c| c.get_id(field::case::RECIPIENT_ID));
    let stage = case.as_ref().and_then(|c| c.get_str(field::case::STAGE).map(str::to_string));
    conn.prepare_cached(
        "INSERT OR REPLACE INTO moved_cases (case_id, recipient_id, stage, reassigned_to, moved_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        case_id.to_string(),
        recipient_id.map(|r| r.to_string()),
        stage,
        reassigned_to.to_string(),
        now.to_rfc3339()
    ])?;
    Ok(())
}

/// Forgets that `case_id` moved away: it is held here again.
pub(crate) fn forget_moved(conn: &Connection, case_id: Id) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM moved_cases WHERE case_id = ?1")?.execute(params![case_id.to_string()])?;
    Ok(())
}

fn moved_case(row: &Row<'_>) -> Result<MovedCase, StoreError> {
    let text = |i: usize| row.get::<_, Option<String>>(i);
    let moved_at = text(4)?.unwrap_or_default();
    Ok(MovedCase {
        case_id: parse_id(&row.get::<_, String>(0)?)?,
        recipient_id: text(1)?.as_deref().map(parse_id).transpose()?,
        stage: text(2)?.as_deref().and_then(Stage::parse),
        reassigned_to: parse_id(&row.get::<_, String>(3)?)?,
        moved_at: DateTime::parse_from_rfc3339(&moved_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt(format!("moved_cases.moved_at: {e}")))?,
    })
}

impl Store {
    /// The cases of `recipient_id` reassigned away from this device's user, latest first.
    pub fn moved_cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<MovedCase>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT case_id, recipient_id, stage, reassigned_to, moved_at FROM moved_cases
             WHERE recipient_id = ?1 ORDER BY moved_at DESC, case_id",
        )?;
        let mut rows_iter = stmt.query(params![recipient_id.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows_iter.next()? {
            out.push(moved_case(row)?);
        }
        Ok(out)
    }

    /// Whether `case_id` was reassigned away from this device's user, and to whom.
    pub fn moved_case(&self, case_id: Id) -> Result<Option<MovedCase>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT case_id, recipient_id, stage, reassigned_to, moved_at FROM moved_cases WHERE case_id = ?1",
        )?;
        let mut rows_iter = stmt.query(params![case_id.to_string()])?;
        rows_iter.next()?.map(moved_case).transpose()
    }
}
