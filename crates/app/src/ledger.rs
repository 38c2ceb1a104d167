//! The parts every file shows: the service ledger (台账) of one or more people, and a record's
//! change history (who changed what, when, on which device).

use std::collections::BTreeMap;

use contract::{FieldChange, HistoryItem, HistoryStatus, LedgerItem};
use domain::Id;
use domain::entity::{EntityKind, EntityState, field};
use store::Store;

use crate::AppError;
use crate::places::name_of;

/// The most lines a file's ledger shows.
pub const LEDGER_LIMIT: usize = 500;

/// The ledgers of `people` together, newest first, each line naming its person; a visit that a
/// later one corrects names it (`corrected_by`), and the correction the visit it amends.
pub fn ledger_of(store: &Store, people: &[EntityState]) -> Result<Vec<LedgerItem>, AppError> {
    let mut items = Vec::new();
    for person in people {
        let visits = store.visits_of_recipient(person.id)?;
        let amends: BTreeMap<Id, Id> = visits.iter().filter_map(|v| Some((v.id, v.get_id(field::AMENDS)?))).collect();
        let corrected = corrections(&visits);
        for entry in store.ledger(person.id, LEDGER_LIMIT)? {
            let is_visit = entry.kind == EntityKind::Visit;
            items.push((
                entry.hlc,
                LedgerItem {
                    kind: entry.kind,
                    id: entry.id,
                    recipient_id: person.id,
                    recipient_name: name_of(person),
                    case_id: entry.case_id,
                    date: entry.date,
                    summary: entry.summary,
                    author_name: entry.author_name,
                    amends: if is_visit { amends.get(&entry.id).copied() } else { None },
                    corrected_by: if is_visit { corrected.get(&entry.id).copied() } else { None },
                },
            ));
        }
    }
    items.sort_by(|(a_hlc, a), (b_hlc, b)| b.date.cmp(&a.date).then(b_hlc.cmp(a_hlc)));
    items.truncate(LEDGER_LIMIT);
    Ok(items.into_iter().map(|(_, item)| item).collect())
}

/// For each visit a later one amends, the latest visit amending it.
pub(crate) fn corrections(visits: &[EntityState]) -> BTreeMap<Id, Id> {
    let mut by_stamp: Vec<&EntityState> = visits.iter().collect();
    by_stamp.sort_by_key(|v| v.created.hlc);
    by_stamp.iter().filter_map(|v| Some((v.get_id(field::AMENDS)?, v.id))).collect()
}

/// Who changed a record, what and when, oldest first (refused changes left out).
pub fn history_of(store: &Store, kind: EntityKind, id: Id) -> Result<Vec<HistoryItem>, AppError> {
    let spec = kind.spec();
    let entries = store.history(id)?;
    Ok(entries
        .into_iter()
        .map(|entry| HistoryItem {
            op: entry.op,
            at: entry.at,
            author_id: entry.author_id,
            author_name: entry.author_name,
            device_id: entry.device_id,
            status: match entry.status.as_str() {
                "pending" => HistoryStatus::Pending,
                "accepted" => HistoryStatus::Accepted,
                _ => HistoryStatus::Synced,
            },
            fields: entry
                .fields
                .into_iter()
                .map(|(name, value)| {
                    let (label_zh, label_en) = match spec.field(&name) {
                        Some(f) => (f.zh.to_string(), f.en.to_string()),
                        None => (name.clone(), name.clone()),
                    };
                    FieldChange { field: name, label_zh, label_en, value }
                })
                .collect(),
        })
        .collect())
}
