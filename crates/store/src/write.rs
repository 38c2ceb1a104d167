//! The one write path, [`Store::record`], and the outbox and conflict rows it writes.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::Labelled;
use domain::SCHEMA_VERSION;
use domain::change::{Change, FieldWrite, Op, Write};
use domain::entity::EntityKind;
use domain::hlc::Hlc;
use domain::merge::{self, ConflictOp};
use domain::policy::Actor;
use domain::rules;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use uuid::Uuid;

use crate::rows::{self, View};
use crate::{DeviceState, Store, StoreError};

impl Store {
    /// The one write path. Stamps each [`Write`] into a [`Change`] (UUIDv7 change id, next
    /// device sequence number, HLC tick at `now`, author = `actor.user_id`, this device,
    /// `SCHEMA_VERSION`, and for updates the `base` of each field that names none = the field's
    /// current clock), checks it with `domain::rules::check_change` against the state including
    /// the batch's earlier writes, merges it, writes the row and conflict ops, and appends it to
    /// the outbox as pending — all writes in ONE transaction: a rejected write leaves nothing.
    pub fn record(
        &mut self,
        actor: &Actor,
        writes: Vec<Write>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<Change>, StoreError> {
        self.record_then(actor, writes, now, today, |_| Ok(()))
    }

    /// [`Store::record`], and `then` in the same transaction: both land or neither does (e.g. a
    /// refused change resent and marked dealt with).
    pub(crate) fn record_then(
        &mut self,
        actor: &Actor,
        writes: Vec<Write>,
        now: DateTime<Utc>,
        today: NaiveDate,
        then: impl FnOnce(&Connection) -> Result<(), StoreError>,
    ) -> Result<Vec<Change>, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let now_millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let mut recorded = Vec::with_capacity(writes.len());
        let mut latest = rows::LatestVisits::default();
        for write in writes {
            let current = rows::read_entity(&tx, write.entity, write.entity_id)?;
            let mut fields = write.fields;
            if let (Op::Update, Some(current)) = (write.op, &current) {
                for (name, field) in fields.iter_mut() {
                    if field.base.is_none() {
                        field.base = Some(current.clock(name).hlc);
                    }
                }
            }
            let change = Change {
                change_id: Uuid::now_v7(),
                // The device row's id, not one kept in memory: another connection may have made
                // this device a new one (`Store::become_device`).
                device_id: device.clock.device,
                device_seq: device.last_device_seq + 1,
                author_id: actor.user_id,
                schema_version: SCHEMA_VERSION,
                hlc: device.clock.tick(now_millis),
                entity: write.entity,
                entity_id: write.entity_id,
                op: write.op,
                fields,
            };
            let checked = rules::check_change(actor, &change, &View(&tx), today)?;
            let merged = merge::merge(current.as_ref(), &checked)
                .ok_or_else(|| StoreError::Corrupt("a checked update found no entity to merge into".into()))?;
            rows::write_entity_over(&tx, &merged.state, current.as_ref(), &mut latest)?;
            record_conflicts(&tx, checked.entity, checked.entity_id, &merged.conflict_ops)?;
            insert_change(&tx, &checked, "pending", None, now)?;
            if let (Op::Update, Some(current)) = (checked.op, &current) {
                set_previous(&tx, &checked, current)?;
            }
            device.last_device_seq = checked.device_seq;
            recorded.push(checked);
        }
        latest.flush(&tx)?;
        device.save(&tx)?;
        then(&tx)?;
        tx.commit()?;
        Ok(recorded)
    }
}

/// Applies conflict ops with `domain::merge::ConflictBook`'s semantics: a lost value is kept
/// unless its stamp is already known seen; "seen" wins whatever the order. Returns how many
/// conflicts were opened.
pub(crate) fn record_conflicts(
    conn: &Connection,
    kind: EntityKind,
    entity_id: Uuid,
    ops: &[ConflictOp],
) -> Result<usize, StoreError> {
    let mut opened = 0;
    // "Seen" wins whatever the order, so recording the seen stamps first makes the count of
    // conflicts opened exact: a value lost and seen by the same change never counts.
    let (seen, lost): (Vec<&ConflictOp>, Vec<&ConflictOp>) =
        ops.iter().partition(|op| matches!(op, ConflictOp::Seen { .. }));
    for op in seen.into_iter().chain(lost) {
        match op {
            ConflictOp::Lost(lost) => {
                let values = params![
                    entity_id.to_string(),
                    lost.field,
                    lost.clock.hlc.to_string(),
                    kind.as_str(),
                    lost.value.to_string(),
                    lost.clock.base.map(|b| b.to_string()),
                    lost.clock.author.to_string(),
                ];
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO conflicts (entity_id, field, hlc, entity_kind, value, base, author_id, status)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open') ON CONFLICT DO NOTHING",
                    )?
                    .execute(values)?;
                if inserted == 0 {
                    // Already seen: stays closed, but keeps the value in case the write that saw
                    // it is refused by the server (see `Store::mark_rejected`).
                    conn.prepare_cached(
                        "UPDATE conflicts SET value = ?5, base = ?6, author_id = ?7
                         WHERE entity_id = ?1 AND field = ?2 AND hlc = ?3 AND entity_kind = ?4 AND value IS NULL",
                    )?
                    .execute(values)?;
                }
                opened += inserted;
            }
            ConflictOp::Seen { field, hlc } => {
                conn.prepare_cached(
                    "INSERT INTO conflicts (entity_id, field, hlc, entity_kind, status) VALUES (?1, ?2, ?3, ?4, 'seen')
                     ON CONFLICT DO UPDATE SET status = 'seen'",
                )?
                .execute(params![entity_id.to_string(), field, hlc.to_string(), kind.as_str()])?;
            }
        }
    }
    Ok(opened)
}

/// What a field held before a local change overwrote it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Previous {
    pub value: Option<serde_json::Value>,
    pub clock: domain::entity::FieldClock,
}

/// Keeps the values `change` overwrote (migration 0005), for `Store::mark_rejected`.
fn set_previous(conn: &Connection, change: &Change, current: &domain::entity::EntityState) -> Result<(), StoreError> {
    let previous: BTreeMap<&str, Previous> = change
        .fields
        .keys()
        .map(|f| (f.as_str(), Previous { value: current.get(f).cloned(), clock: *current.clock(f) }))
        .collect();
    let json = serde_json::to_string(&previous).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached("UPDATE changes SET previous = ?1 WHERE change_id = ?2")?
        .execute(params![json, change.change_id.to_string()])?;
    Ok(())
}

pub(crate) fn op_str(op: Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::Update => "update",
    }
}

pub(crate) fn parse_op(s: &str) -> Result<Op, StoreError> {
    match s {
        "create" => Ok(Op::Create),
        "update" => Ok(Op::Update),
        other => Err(StoreError::Corrupt(format!("unknown op {other:?}"))),
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<EntityKind, StoreError> {
    EntityKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown entity kind {s:?}")))
}

pub(crate) fn parse_hlc(s: &str) -> Result<Hlc, StoreError> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is out of range")))
}

/// Appends a change to the `changes` table. A change already there (same change id) is left
/// as it is. Another change of the same device under the same sequence number is an error
/// ([`StoreError::SequenceTaken`]), never a silent replacement or skip.
pub(crate) fn insert_change(
    conn: &Connection,
    change: &Change,
    status: &str,
    server_seq: Option<u64>,
    recorded_at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let fields = serde_json::to_string(&change.fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let n = conn
        .prepare_cached(
            "INSERT INTO changes (change_id, device_id, device_seq, entity_kind, entity_id, op, fields, hlc,
                                  author_id, schema_version, status, server_seq, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (change_id) DO NOTHING",
        )?
        .execute(params![
            change.change_id.to_string(),
            change.device_id.to_string(),
            to_i64(change.device_seq)?,
            change.entity.as_str(),
            change.entity_id.to_string(),
            op_str(change.op),
            fields,
            change.hlc.to_string(),
            change.author_id.to_string(),
            change.schema_version,
            status,
            server_seq.map(to_i64).transpose()?,
            recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ]);
    match n {
        Ok(n) => Ok(n),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::SequenceTaken(change.device_seq))
        }
        Err(e) => Err(e.into()),
    }
}

/// [`insert_change`] for a row kept as history only (a pulled change): a row already holding
/// its change id or its device number is left as it is. Only the outbox must never share a
/// number; a pulled device's numbers can repeat (its database, or the server's, went back).
pub(crate) fn insert_history(
    conn: &Connection,
    change: &Change,
    status: &str,
    server_seq: u64,
    recorded_at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    match insert_change(conn, change, status, Some(server_seq), recorded_at) {
        Err(StoreError::SequenceTaken(_)) => Ok(0),
        other => other,
    }
}

/// The columns [`change_from_row`] reads, in order.
pub(crate) const CHANGE_COLUMNS: &str =
    "change_id, device_id, device_seq, author_id, schema_version, hlc, entity_kind, entity_id, op, fields";

pub(crate) fn change_from_row(row: &Row<'_>) -> Result<Change, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { Ok(row.get::<_, String>(i)?) };
    let fields: BTreeMap<String, FieldWrite> =
        serde_json::from_str(&text(9)?).map_err(|e| StoreError::Corrupt(format!("change fields: {e}")))?;
    Ok(Change {
        change_id: rows::parse_id(&text(0)?)?,
        device_id: rows::parse_id(&text(1)?)?,
        device_seq: u64::try_from(row.get::<_, i64>(2)?).map_err(|_| StoreError::Corrupt("device_seq".into()))?,
        author_id: rows::parse_id(&text(3)?)?,
        schema_version: row.get(4)?,
        hlc: parse_hlc(&text(5)?)?,
        entity: parse_kind(&text(6)?)?,
        entity_id: rows::parse_id(&text(7)?)?,
        op: parse_op(&text(8)?)?,
        fields,
    })
}
