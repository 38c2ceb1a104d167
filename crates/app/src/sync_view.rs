//! What the status bar and the refused-changes screen show of sync: the outbox's counts, and
//! each change the server refused (or set aside) with its reason and the record it was about.

use std::collections::BTreeMap;

use chrono::Utc;
use contract::{CommandError, RejectedChangeView};
use domain::Labelled;
use domain::entity::field;
use store::Store;
use uuid::Uuid;

use crate::AppError;

/// What waits to be sent, what was refused and what conflicts are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub rejected: u64,
    pub conflicts_open: u64,
}

pub fn outbox_counts(store: &Store) -> Result<OutboxCounts, AppError> {
    Ok(OutboxCounts {
        pending: store.pending_count()?,
        rejected: store.rejected_changes()?.len() as u64,
        conflicts_open: store.open_conflicts()?.len() as u64,
    })
}

/// The changes the server refused or set aside, each with the name of its record when known.
pub fn rejected_changes(store: &Store) -> Result<Vec<RejectedChangeView>, AppError> {
    // Every kind with a label calls it `name`.
    const NAME: &str = field::recipient::NAME;
    let rows = store.rejected_changes()?;
    let mut labels: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let label = match labels.get(&row.entity_id) {
            Some(label) => label.clone(),
            None => {
                // The record may be gone (an undone create); the change itself names it.
                let from_store = store.entity(row.entity_kind, row.entity_id)?;
                let label = from_store
                    .as_ref()
                    .and_then(|s| s.get_str(NAME).map(str::to_string))
                    .or_else(|| row.fields.get(NAME).and_then(|w| w.value.as_str()).map(str::to_string));
                labels.insert(row.entity_id, label.clone());
                label
            }
        };
        out.push(RejectedChangeView {
            change_id: row.change_id,
            entity_kind_zh: row.entity_kind.zh().to_string(),
            entity_kind_en: row.entity_kind.en().to_string(),
            entity_id: row.entity_id,
            entity_label: label,
            recorded_at: chrono::DateTime::parse_from_rfc3339(&row.recorded_at).ok().map(|t| t.with_timezone(&Utc)),
            reason: CommandError {
                code: row.rejection.code,
                field: row.rejection.field,
                message_zh: row.rejection.message_zh,
                message_en: row.rejection.message_en,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Station;

    #[test]
    fn a_recorded_write_waits_in_the_outbox_and_nothing_is_refused_yet() {
        let mut station = Station::new();
        let before = outbox_counts(&station.store).expect("counts").pending;
        station.add_recipient("张三", 11);
        let counts = outbox_counts(&station.store).expect("counts");
        assert_eq!(counts, OutboxCounts { pending: before + 1, rejected: 0, conflicts_open: 0 });
        assert_eq!(rejected_changes(&station.store).expect("list"), vec![]);
    }
}
