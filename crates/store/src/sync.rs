//! What the sync engine calls: the outbox (pending changes, accepted and rejected answers),
//! applying pulled pages, the per-station checksum and repair, and the pull cursor.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::Labelled;
use domain::change::{Change, FieldWrite, Incoming, Op, Write};
use domain::entity::{EntityKind, EntityState, checksum_fold};
use domain::hlc::Hlc;
use domain::merge::{self, ConflictOp, LostValue};
use domain::policy::Actor;
use domain::rules::RejectionInfo;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::rows;
use crate::write::{CHANGE_COLUMNS, Previous, change_from_row, record_conflicts};
use crate::{DeviceState, Store, StoreError};

/// What applying a pulled page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub applied: usize,
    /// Updates of entities this device does not hold (a sign of divergence; repair follows).
    pub skipped_unknown: usize,
    pub conflicts_opened: usize,
    /// Entries skipped for a clock stamp no clock can make (out of the bounds of its text
    /// form): never applied nor observed, so the device's clock stays writable.
    pub skipped_bad_stamp: usize,
}

/// How far ahead of this device's wall clock a pulled stamp may be and still be observed by
/// its clock. The server clamps stamps from the future to its own clock, so only a server clock
/// far wrong gets here; a device clock behind by days still follows the station's stamps.
/// Beyond this the entry is applied (the server accepted it) but the clock does not jump.
pub const PULL_MAX_AHEAD_MILLIS: u64 = 366 * 24 * 3600 * 1000;

/// Whether every stamp of an incoming entry is within the bounds of its text form.
fn stamps_valid(incoming: &Incoming) -> bool {
    match incoming {
        Incoming::Change(change) => {
            change.hlc.is_valid() && change.fields.values().all(|w| w.base.iter().chain(&w.resolves).all(Hlc::is_valid))
        }
        Incoming::Snapshot(state) => {
            state.created.hlc.is_valid()
                && state.clocks.values().all(|c| c.hlc.is_valid() && c.base.is_none_or(|b| b.is_valid()))
        }
        Incoming::Evict { .. } => true,
    }
}

/// Observes a pulled stamp into the device clock if it is not absurdly far ahead.
fn observe_pulled(clock: &mut domain::hlc::Clock, stamp: Hlc, now_millis: u64) {
    if domain::hlc::check_incoming(&stamp, now_millis, PULL_MAX_AHEAD_MILLIS).is_ok() {
        clock.observe(stamp);
    }
}

/// A local change as the `changes` table has it.
struct LocalChange {
    seq: i64,
    change: Change,
}

fn local_change(conn: &Connection, device_id: Uuid, device_seq: u64) -> Result<LocalChange, StoreError> {
    let seq_i = i64::try_from(device_seq).map_err(|_| StoreError::UnknownChange(device_seq))?;
    let sql = format!("SELECT {CHANGE_COLUMNS}, seq FROM changes WHERE device_id = ?1 AND device_seq = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![device_id.to_string(), seq_i])?;
    let Some(row) = rows.next()? else {
        return Err(StoreError::UnknownChange(device_seq));
    };
    Ok(LocalChange { seq: row.get(10)?, change: change_from_row(row)? })
}

fn pending_of_entity(conn: &Connection, entity_id: Uuid) -> Result<Vec<Change>, StoreError> {
    let sql =
        format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE entity_id = ?1 AND status = 'pending' ORDER BY device_seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![entity_id.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(change_from_row(row)?);
    }
    Ok(out)
}

fn replace_hlc(h: &mut Hlc, old: Hlc, new: Hlc) {
    if *h == old {
        *h = new;
    }
}

/// Replaces stamp `old` by `new` in an entity's clocks.
fn restamp_state(state: &mut EntityState, old: Hlc, new: Hlc) {
    replace_hlc(&mut state.created.hlc, old, new);
    for clock in state.clocks.values_mut() {
        replace_hlc(&mut clock.hlc, old, new);
        if let Some(base) = clock.base.as_mut() {
            replace_hlc(base, old, new);
        }
    }
}

/// Merges a whole entity state into what is held, field by field, as `merge::merge` would
/// merge each field's write. Returns the new state and the conflict ops.
fn merge_snapshot(local: Option<&EntityState>, incoming: &EntityState) -> (EntityState, Vec<ConflictOp>) {
    let Some(local) = local else {
        return (strip_nulls(incoming.clone()), Vec::new());
    };
    let mut state = incoming.clone();
    state.clocks.clear();
    let mut ops = Vec::new();
    for spec in incoming.kind.spec().fields {
        let field = spec.name;
        let mine = *local.clock(field);
        let theirs = *incoming.clock(field);
        let local_value = local.fields.get(field).cloned().unwrap_or(Value::Null);
        let incoming_value = incoming.fields.get(field).cloned().unwrap_or(Value::Null);
        let (winner, value) =
            if theirs.hlc >= mine.hlc { (theirs, incoming_value.clone()) } else { (mine, local_value.clone()) };
        if theirs.hlc > mine.hlc {
            ops.push(ConflictOp::Lost(LostValue { field: field.into(), value: local_value, clock: mine }));
        } else if theirs.hlc < mine.hlc {
            ops.push(ConflictOp::Lost(LostValue { field: field.into(), value: incoming_value, clock: theirs }));
        }
        if let Some(base) = theirs.base {
            ops.push(ConflictOp::Seen { field: field.into(), hlc: base });
        }
        state.fields.insert(field.into(), value);
        if winner != state.created {
            state.clocks.insert(field.into(), winner);
        }
    }
    (strip_nulls(state), ops)
}

fn strip_nulls(mut state: EntityState) -> EntityState {
    state.fields.retain(|_, v| !v.is_null());
    state
}

/// Drops open conflicts whose "lost" value is in fact the current one (after an undo).
/// What a field held before `before`, if `before` is itself a refused local change: refusals
/// of writes stacked on one another unwind to the last value the server has.
fn before_refused(
    conn: &Connection,
    entity_id: Uuid,
    field: &str,
    mut before: Previous,
) -> Result<Previous, StoreError> {
    loop {
        let refused: Option<Option<String>> = conn
            .prepare_cached("SELECT previous FROM changes WHERE entity_id = ?1 AND hlc = ?2 AND status = 'rejected'")?
            .query_row(params![entity_id.to_string(), before.clock.hlc.to_string()], |r| r.get(0))
            .optional()?;
        let Some(Some(previous)) = refused else { return Ok(before) };
        let mut previous: BTreeMap<String, Previous> =
            serde_json::from_str(&previous).map_err(|e| StoreError::Corrupt(format!("previous values: {e}")))?;
        match previous.remove(field) {
            Some(earlier) => before = earlier,
            None => return Ok(before),
        }
    }
}

/// Takes back what a refused change marked seen: a value it wrote over knowingly, or resolved,
/// is no longer seen unless another change still here saw it too. A lost value becomes an open
/// conflict again, as on the server, which never applied the refused change.
fn unsee(conn: &Connection, refused: &Change) -> Result<(), StoreError> {
    let entity = refused.entity_id.to_string();
    let others: Vec<BTreeMap<String, FieldWrite>> = conn
        .prepare_cached("SELECT fields FROM changes WHERE entity_id = ?1 AND status != 'rejected' AND change_id != ?2")?
        .query_map(params![entity, refused.change_id.to_string()], |r| r.get::<_, String>(0))?
        .map(|fields| {
            let fields = fields?;
            serde_json::from_str(&fields).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect::<Result<_, StoreError>>()?;
    for (field, write) in &refused.fields {
        for stamp in write.base.iter().chain(&write.resolves) {
            let still_seen = others
                .iter()
                .any(|fields| fields.get(field).is_some_and(|w| w.base == Some(*stamp) || w.resolves.contains(stamp)));
            if still_seen {
                continue;
            }
            let key = params![entity, field, stamp.to_string()];
            conn.prepare_cached(
                "UPDATE conflicts SET status = 'open'
                 WHERE entity_id = ?1 AND field = ?2 AND hlc = ?3 AND status = 'seen' AND value IS NOT NULL",
            )?
            .execute(key)?;
            conn.prepare_cached(
                "DELETE FROM conflicts WHERE entity_id = ?1 AND field = ?2 AND hlc = ?3 AND status = 'seen'",
            )?
            .execute(key)?;
        }
    }
    Ok(())
}

fn drop_conflicts_that_are_current(conn: &Connection, state: &EntityState) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("SELECT field, hlc FROM conflicts WHERE entity_id = ?1 AND status = 'open'")?;
    let open: Vec<(String, String)> =
        stmt.query_map(params![state.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (field, hlc) in open {
        if state.clock(&field).hlc.to_string() == hlc {
            conn.prepare_cached("DELETE FROM conflicts WHERE entity_id = ?1 AND field = ?2 AND hlc = ?3")?
                .execute(params![state.id.to_string(), field, hlc])?;
        }
    }
    Ok(())
}

impl Store {
    /// The oldest pending changes, in device sequence order.
    pub fn pending_changes(&self, limit: usize) -> Result<Vec<Change>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE status = 'pending' AND set_aside IS NULL
             ORDER BY device_seq LIMIT ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![i64::try_from(limit).unwrap_or(i64::MAX)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(change_from_row(row)?);
        }
        Ok(out)
    }

    pub fn pending_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM changes WHERE status = 'pending'", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The server stored the change at `server_seq`. When it clamped the stamp
    /// (`effective_hlc`), the clamped stamp replaces the original everywhere it appears locally:
    /// the entity's clocks, its conflict rows, the change row, and the `base`/`resolves` of
    /// later pending changes of the same entity.
    pub fn mark_accepted(
        &mut self,
        device_seq: u64,
        server_seq: u64,
        effective_hlc: Option<Hlc>,
    ) -> Result<(), StoreError> {
        self.mark_accepted_all(&[AcceptedChange { device_seq, server_seq, effective_hlc }])
    }

    /// [`Store::mark_accepted`] for each answer, in order, in one transaction: a push's
    /// accepted answers are marked together rather than a commit each.
    pub fn mark_accepted_all(&mut self, accepted: &[AcceptedChange]) -> Result<(), StoreError> {
        if accepted.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let device_id = DeviceState::load(&tx)?.clock.device;
        for answer in accepted {
            accept(&tx, device_id, answer)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The server refused the change: keep it with its payload and reason (status rejected) and
    /// undo it locally — the entity becomes `current` (the server's state), or is removed if the
    /// server has none and this was its creation — then this entity's other pending changes are
    /// merged again on top.
    pub fn mark_rejected(
        &mut self,
        device_seq: u64,
        rejection: RejectionInfo,
        current: Option<EntityState>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let local = local_change(&tx, DeviceState::load(&tx)?.clock.device, device_seq)?;
        let info = serde_json::to_string(&rejection).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.prepare_cached("UPDATE changes SET status = 'rejected', rejection = ?1 WHERE seq = ?2")?
            .execute(params![info, local.seq])?;
        let (kind, id) = (local.change.entity, local.change.entity_id);
        let previous: Option<String> =
            tx.query_row("SELECT previous FROM changes WHERE seq = ?1", params![local.seq], |r| r.get(0))?;
        let previous: Option<BTreeMap<String, Previous>> = previous
            .map(|p| serde_json::from_str(&p).map_err(|e| StoreError::Corrupt(format!("previous values: {e}"))))
            .transpose()?;
        match (local.change.op, previous, current) {
            (Op::Create, _, _) => rows::delete_entity(&tx, kind, id)?,
            // Put back what the refused write overwrote, where it still stands; later local
            // writes that overwrote it in turn stay. Anything newer from elsewhere arrives by
            // pull and merges as usual.
            (Op::Update, Some(previous), _) => {
                if let Some(mut state) = rows::read_entity(&tx, kind, id)? {
                    for (field, before) in previous {
                        if state.clock(&field).hlc != local.change.hlc {
                            continue;
                        }
                        let before = before_refused(&tx, id, &field, before)?;
                        match before.value {
                            Some(value) => state.fields.insert(field.clone(), value),
                            None => state.fields.remove(&field),
                        };
                        if before.clock == state.created {
                            state.clocks.remove(&field);
                        } else {
                            state.clocks.insert(field, before.clock);
                        }
                    }
                    rows::write_entity(&tx, &state)?;
                }
            }
            // A change recorded before the store kept previous values: the server's state is
            // the truth without it.
            (Op::Update, None, Some(state)) => rows::write_entity(&tx, &strip_nulls(state))?,
            (Op::Update, None, None) => {}
        }
        // The refused write's own value is not a value anyone lost.
        tx.prepare_cached("DELETE FROM conflicts WHERE entity_id = ?1 AND hlc = ?2")?
            .execute(params![id.to_string(), local.change.hlc.to_string()])?;
        unsee(&tx, &local.change)?;
        let mut state = rows::read_entity(&tx, kind, id)?;
        // Values pulled since the refused change was made, which lost to it here, stand again
        // (the server never applied it): merged again on top of what was put back.
        // Since the earliest refused change of this device to the entity, not only this one: the
        // value put back may be from before several refused changes (`before_refused` walks
        // back past them), and a value pulled in between lost to them all. Merging a change
        // again changes nothing, so going back further than needed is harmless.
        if local.change.op == Op::Update {
            let since: Option<i64> = tx.query_row(
                "SELECT min(seq) FROM changes WHERE entity_id = ?1 AND device_id = ?2 AND status = 'rejected'",
                params![id.to_string(), local.change.device_id.to_string()],
                |r| r.get(0),
            )?;
            let since = since.unwrap_or(local.seq).min(local.seq);
            for change in crate::recovery::pulled_since(&tx, since, &local.change)? {
                if let Some(merged) = merge::merge(state.as_ref(), &change) {
                    record_conflicts(&tx, kind, id, &merged.conflict_ops)?;
                    state = Some(merged.state);
                }
            }
        }
        for change in pending_of_entity(&tx, id)? {
            if let Some(merged) = merge::merge(state.as_ref(), &change) {
                record_conflicts(&tx, kind, id, &merged.conflict_ops)?;
                state = Some(merged.state);
            }
        }
        if let Some(state) = state {
            let state = strip_nulls(state);
            rows::write_entity(&tx, &state)?;
            drop_conflicts_that_are_current(&tx, &state)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Test hook for crash simulations: the next pull transactions fail after applying `n`
    /// entries (counted across the pages of one transaction), as if the process died halfway.
    #[doc(hidden)]
    pub fn fail_apply_after(&mut self, n: Option<usize>) {
        self.fail_apply_after = n;
    }

    /// Applies one pulled page and the new cursor in ONE transaction (a [`PullBatch`] of one
    /// page).
    pub fn apply_pulled(&mut self, entries: &[(u64, Incoming)], new_cursor: u64) -> Result<ApplyReport, StoreError> {
        let mut batch = self.begin_pull()?;
        let report = batch.apply(entries, new_cursor)?;
        batch.commit()?;
        Ok(report)
    }

    /// Opens a transaction that pulled pages are applied in, one after another, until
    /// [`PullBatch::commit`]: a first pull writes many pages, and each commit rewrites (and
    /// encrypts, and syncs) the index pages every page touched, so fewer commits are most of a
    /// first pull's speed. Dropped without a commit, nothing of it is kept (the cursor included):
    /// the pull resumes from the last commit.
    pub fn begin_pull(&mut self) -> Result<PullBatch<'_>, StoreError> {
        let fail_after = self.fail_apply_after;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let device = DeviceState::load(&tx)?;
        let deferred = crate::first_load::DeferredIndexes::defer_if_empty(&tx)?;
        let now = Utc::now();
        Ok(PullBatch {
            tx,
            latest: rows::LatestVisits::new(deferred.pending()),
            deferred,
            device,
            now,
            now_millis: u64::try_from(now.timestamp_millis()).unwrap_or(0),
            entries: 0,
            cursor: None,
            fail_after,
        })
    }

    pub fn pull_cursor(&self) -> Result<u64, StoreError> {
        let c: i64 = self.conn.query_row("SELECT pull_cursor FROM device", [], |r| r.get(0))?;
        Ok(u64::try_from(c).unwrap_or(0))
    }

    pub fn set_pull_cursor(&mut self, cursor: u64) -> Result<(), StoreError> {
        set_cursor(&self.conn, cursor)
    }

    /// XOR (`checksum_fold`) of `EntityState::digest()` over every entity held here whose
    /// `station_ids()` contains `station_id`.
    pub fn station_checksum(&self, station_id: Uuid) -> Result<u64, StoreError> {
        let station = station_id.to_string();
        // Each row keeps its digest fold, stored as it is written; rows without one (bulk loads,
        // rows from before migration 0006) get theirs here. Then the column is folded.
        let tx = self.conn.unchecked_transaction()?;
        let mut acc = 0u64;
        for kind in EntityKind::ALL {
            let table = kind.spec().table;
            let condition = rows::station_condition(*kind);
            let missing = format!("{} WHERE digest IS NULL AND {condition}", rows::table_sql(*kind).select);
            let mut digests = Vec::new();
            {
                let mut stmt = tx.prepare_cached(&missing)?;
                let mut found = stmt.query(params![station])?;
                while let Some(row) = found.next()? {
                    let state = rows::state_from_row(*kind, row)?;
                    let folded = checksum_fold(0, &state.digest());
                    digests.push((state.id.to_string(), i64::from_le_bytes(folded.to_le_bytes())));
                }
            }
            let mut update = tx.prepare_cached(&format!("UPDATE {table} SET digest = ?2 WHERE id = ?1"))?;
            for (id, digest) in &digests {
                update.execute(params![id, digest])?;
            }
            let folded: i64 = tx
                .prepare_cached(&format!("SELECT shegong_xor(digest) FROM {table} WHERE {condition}"))?
                .query_row(params![station], |r| r.get(0))?;
            acc ^= u64::from_le_bytes(folded.to_le_bytes());
        }
        tx.commit()?;
        Ok(acc)
    }

    /// Repair: in one transaction, removes every entity held for `station_id` (pending changes
    /// stay in the outbox). The engine then applies snapshot pages and sets the cursor.
    pub fn clear_station(&mut self, station_id: Uuid) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let station = station_id.to_string();
        for kind in EntityKind::ALL {
            let sql = format!("DELETE FROM {} WHERE {}", kind.spec().table, rows::station_condition(*kind));
            tx.execute(&sql, params![station])?;
        }
        // Recipients of other stations whose latest visit was removed with this station's data.
        tx.execute_batch(&rows::visit_summary_sql(
            "last_visit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM visits WHERE id = recipients.last_visit_id)",
        ))?;
        tx.commit()?;
        Ok(())
    }

    /// Merges each entity (as a pulled snapshot), in one transaction.
    pub fn apply_snapshot(&mut self, entities: &[EntityState]) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let mut latest = rows::LatestVisits::default();
        for state in entities {
            device.clock.observe(state.created.hlc);
            for clock in state.clocks.values() {
                device.clock.observe(clock.hlc);
            }
            apply_snapshot_one(&tx, state, &mut latest)?;
        }
        latest.flush(&tx)?;
        device.save(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Changes this device recorded that the server refused and the user has not dealt with yet.
    pub(crate) fn rejected_local(&self) -> Result<Vec<(Change, RejectionInfo, String)>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS}, rejection, recorded_at FROM changes
             WHERE status = 'rejected' AND dealt_with IS NULL ORDER BY device_seq DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows_iter = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows_iter.next()? {
            let change = change_from_row(row)?;
            let info: Option<String> = row.get(10)?;
            let info: RejectionInfo = info
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| StoreError::Corrupt("a rejected change without its reason".into()))?;
            out.push((change, info, row.get(11)?));
        }
        Ok(out)
    }
}

/// What the user did with a change the server refused (migration 0013).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealtWith {
    /// What was typed was recorded again, as a new change.
    Resent,
    /// The user chose to let it go.
    Discarded,
}

impl DealtWith {
    fn as_str(self) -> &'static str {
        match self {
            DealtWith::Resent => "resent",
            DealtWith::Discarded => "discarded",
        }
    }
}

impl Store {
    /// Notes that the user dealt with the refused change `change_id` (`how`, `at`): it leaves
    /// the list and the count of refused changes ([`Store::rejected_changes`]) and stays in the
    /// change log with its payload and reason. `false` when it is not a refused change still
    /// waiting for the user (unknown, not refused, or dealt with already): nothing changes.
    pub fn deal_with_refused(
        &mut self,
        change_id: Uuid,
        how: DealtWith,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        mark_dealt_with(&self.conn, change_id, how, at)
    }

    /// Resends a refused change: records `writes` (what the user made of it) and marks the
    /// refused change resent, in one transaction, so a crash in between can neither list it again
    /// nor lose the new write. [`StoreError::RefusedChangeGone`] when it is not a refused change
    /// still waiting (then nothing is written).
    pub fn resend_refused(
        &mut self,
        actor: &Actor,
        change_id: Uuid,
        writes: Vec<Write>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<Change>, StoreError> {
        self.record_then(actor, writes, now, today, |tx| {
            if mark_dealt_with(tx, change_id, DealtWith::Resent, now)? {
                Ok(())
            } else {
                Err(StoreError::RefusedChangeGone)
            }
        })
    }
}

/// Pulled pages applied in one transaction, with the cursor after the last of them (see
/// [`Store::begin_pull`]).
pub struct PullBatch<'s> {
    tx: rusqlite::Transaction<'s>,
    device: DeviceState,
    latest: rows::LatestVisits,
    now: DateTime<Utc>,
    now_millis: u64,
    entries: usize,
    cursor: Option<u64>,
    fail_after: Option<usize>,
    /// A first pull's indexes, built at the commit (see [`crate::first_load`]).
    deferred: crate::first_load::DeferredIndexes,
}

/// A pulled page made ready to write: each entry with, for a create, the row it inserts. Made
/// without the database (see [`PulledPage::new`]), so the sync engine makes the next page ready
/// on another thread while this one is written.
pub struct PulledPage {
    entries: Vec<(u64, Incoming)>,
    ready: Ready,
}

/// Per entry: whether its stamps are valid, and for a create the new row it inserts.
type Ready = Vec<(bool, Option<rows::NewRow>)>;

fn ready(entries: &[(u64, Incoming)]) -> Ready {
    entries
        .iter()
        .map(|(_, incoming)| {
            if !stamps_valid(incoming) {
                return (false, None);
            }
            let row = match incoming {
                Incoming::Change(change) => rows::NewRow::of_create(change),
                _ => None,
            };
            (true, row)
        })
        .collect()
}

impl PulledPage {
    /// Does the work of applying a page that needs no database: checking stamps, merging each
    /// create into a new state and laying it out as a row with its digest.
    pub fn new(entries: Vec<(u64, Incoming)>) -> PulledPage {
        let ready = ready(&entries);
        PulledPage { entries, ready }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[(u64, Incoming)] {
        &self.entries
    }
}

impl PullBatch<'_> {
    /// Applies one pulled page and moves the cursor to `new_cursor` (see [`PullBatch::apply_page`]).
    pub fn apply(&mut self, entries: &[(u64, Incoming)], new_cursor: u64) -> Result<ApplyReport, StoreError> {
        self.apply_ready(entries, &ready(entries), new_cursor)
    }

    /// Applies one pulled page and moves the cursor to `new_cursor`. Changes merge with
    /// `domain::merge::merge` (the server has checked them); snapshots merge field by field
    /// (or replace when absent here); evictions remove the entity (a case with its records).
    /// An update of an entity not held here is skipped and counted. Every incoming stamp is
    /// observed into the device clock.
    pub fn apply_page(&mut self, page: &PulledPage, new_cursor: u64) -> Result<ApplyReport, StoreError> {
        self.apply_ready(&page.entries, &page.ready, new_cursor)
    }

    fn apply_ready(
        &mut self,
        entries: &[(u64, Incoming)],
        ready: &[(bool, Option<rows::NewRow>)],
        new_cursor: u64,
    ) -> Result<ApplyReport, StoreError> {
        let (tx, latest, now) = (&self.tx, &mut self.latest, self.now);
        let mut report = ApplyReport::default();
        let mut inserts = rows::NewRowInserts::new(tx);
        crate::recovery::raise_past_own(&mut self.device, entries);
        for ((server_seq, incoming), (valid, row)) in entries.iter().zip(ready) {
            if self.fail_after == Some(self.entries) {
                // Test hook: the process dies here; the transaction is never committed.
                return Err(StoreError::Injected);
            }
            self.entries += 1;
            if !valid {
                // Only a server that is wrong sends one; the rest of the page goes on.
                report.skipped_bad_stamp += 1;
                continue;
            }
            match incoming {
                Incoming::Change(change) => {
                    observe_pulled(&mut self.device.clock, change.hlc, self.now_millis);
                    if change.device_id == self.device.clock.device {
                        accept_own_pulled(tx, self.device.clock.device, *server_seq, change)?;
                    }
                    // Most creates (all of a first pull's) are of entities not held here:
                    // inserted straight away, without looking for the row first.
                    if let Some(row) = row
                        && inserts.insert(row, latest)?
                    {
                        report.applied += 1;
                        continue;
                    }
                    apply_change(tx, *server_seq, change, &mut report, latest, now)?;
                }
                Incoming::Snapshot(state) => {
                    observe_pulled(&mut self.device.clock, state.created.hlc, self.now_millis);
                    for clock in state.clocks.values() {
                        observe_pulled(&mut self.device.clock, clock.hlc, self.now_millis);
                    }
                    report.conflicts_opened += apply_snapshot_one(tx, state, latest)?;
                    report.applied += 1;
                }
                Incoming::Evict { entity, entity_id, reassigned_to } => {
                    // An eviction searches by case and by recipient: with the indexes.
                    if self.deferred.pending() {
                        self.deferred.restore(tx)?;
                        latest.end_first_load(tx)?;
                    }
                    // A removed visit can move a latest visit back: what is noted goes in first.
                    latest.flush(tx)?;
                    if let (EntityKind::Case, Some(to)) = (entity, reassigned_to) {
                        crate::moved::note_moved(tx, *entity_id, *to, now)?;
                    }
                    rows::delete_entity(tx, *entity, *entity_id)?;
                    report.applied += 1;
                }
            }
        }
        self.cursor = Some(new_cursor);
        Ok(report)
    }

    /// How many entries the pages applied so far held.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Keeps every page applied, with the cursor after the last one, in one commit.
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.deferred.restore(&self.tx)?;
        self.latest.end_first_load(&self.tx)?;
        self.latest.flush(&self.tx)?;
        if let Some(cursor) = self.cursor {
            set_cursor(&self.tx, cursor)?;
        }
        self.device.save(&self.tx)?;
        self.tx.commit()?;
        Ok(())
    }
}

fn mark_dealt_with(conn: &Connection, change_id: Uuid, how: DealtWith, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = conn
        .prepare_cached(
            "UPDATE changes SET dealt_with = ?1, dealt_with_at = ?2
             WHERE change_id = ?3 AND status = 'rejected' AND dealt_with IS NULL",
        )?
        .execute(params![how.as_str(), at.to_rfc3339(), change_id.to_string()])?;
    Ok(updated == 1)
}

fn set_cursor(conn: &Connection, cursor: u64) -> Result<(), StoreError> {
    let cursor = i64::try_from(cursor).map_err(|_| StoreError::Corrupt("cursor out of range".into()))?;
    conn.prepare_cached("UPDATE device SET pull_cursor = ?1")?.execute(params![cursor])?;
    Ok(())
}

fn apply_snapshot_one(
    conn: &Connection,
    incoming: &EntityState,
    latest: &mut rows::LatestVisits,
) -> Result<usize, StoreError> {
    let local = rows::read_entity(conn, incoming.kind, incoming.id)?;
    if incoming.kind == EntityKind::Case && local.is_none() {
        // A case reassigned away and back again.
        crate::moved::forget_moved(conn, incoming.id)?;
    }
    let (state, ops) = merge_snapshot(local.as_ref(), incoming);
    rows::write_entity_over(conn, &state, local.as_ref(), latest)?;
    record_conflicts(conn, incoming.kind, incoming.id, &ops)
}

/// Merges a pulled change into what is held (after the insert of a create found its entity
/// here, or for any other change).
/// This device's own change, pulled back while it still waits here for the server's answer
/// (the answer was lost, or the push failed after the server took it and the round pulled
/// anyway): the log is the answer. It is marked accepted, adopting the stamp the server gave it,
/// before it is merged, so it meets itself, not a clamped copy of itself taken for a conflict.
fn accept_own_pulled(tx: &Connection, own: Uuid, server_seq: u64, change: &Change) -> Result<(), StoreError> {
    let held: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT device_seq, hlc FROM changes WHERE change_id = ?1 AND device_id = ?2 AND status = 'pending'",
        )?
        .query_row(params![change.change_id.to_string(), own.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((device_seq, hlc)) = held else { return Ok(()) };
    let device_seq = u64::try_from(device_seq).map_err(|_| StoreError::Corrupt("device_seq".into()))?;
    let effective_hlc = (hlc != change.hlc.to_string()).then_some(change.hlc);
    accept(tx, own, &AcceptedChange { device_seq, server_seq, effective_hlc })?;
    // Set aside after an error the server gave once it had taken it: taken all the same.
    tx.prepare_cached("UPDATE changes SET set_aside = NULL WHERE change_id = ?1")?
        .execute(params![change.change_id.to_string()])?;
    Ok(())
}

fn apply_change(
    tx: &Connection,
    server_seq: u64,
    change: &Change,
    report: &mut ApplyReport,
    latest: &mut rows::LatestVisits,
    now: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    let current = rows::read_entity(tx, change.entity, change.entity_id)?;
    let Some(merged) = merge::merge(current.as_ref(), change) else {
        report.skipped_unknown += 1;
        return Ok(());
    };
    // A change already held (this device's own, coming back) leaves the row as it is:
    // rewriting it would change nothing.
    if merged.created || !merged.changed_fields.is_empty() {
        rows::write_entity_over(tx, &strip_nulls(merged.state), current.as_ref(), latest)?;
    }
    report.conflicts_opened += record_conflicts(tx, change.entity, change.entity_id, &merged.conflict_ops)?;
    // Updates are kept for the entity's history; a create's author and time are in the row
    // itself. This device's own change coming back that it no longer held (its database went
    // back in time) is kept as accepted: it is its own, and is sent again if a server restored
    // from a backup lacks it.
    if change.op == Op::Update {
        if DeviceState::load(tx)?.clock.device == change.device_id {
            // Its number may be held here by an unsent change that reused it, until the server
            // says so and it is renumbered: then this history row is left out.
            crate::write::insert_history(tx, change, "accepted", server_seq, now)?;
        } else {
            // History only: another device's number may already be held here by another of its
            // changes (a server restored from a backup numbers its own changes again).
            crate::write::insert_history(tx, change, "pulled", server_seq, now)?;
        }
    }
    report.applied += 1;
    Ok(())
}

/// One accepted answer, for [`Store::mark_accepted_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedChange {
    pub device_seq: u64,
    pub server_seq: u64,
    /// The stamp the server gave the change in place of its own, when it clamped it.
    pub effective_hlc: Option<Hlc>,
}

/// Marks one local change accepted (see [`Store::mark_accepted`]), inside the caller's
/// transaction.
fn accept(tx: &Connection, device_id: Uuid, answer: &AcceptedChange) -> Result<(), StoreError> {
    let local = local_change(tx, device_id, answer.device_seq)?;
    let server_seq =
        i64::try_from(answer.server_seq).map_err(|_| StoreError::Corrupt("server_seq out of range".into()))?;
    tx.prepare_cached("UPDATE changes SET status = 'accepted', server_seq = ?1 WHERE seq = ?2")?
        .execute(params![server_seq, local.seq])?;
    let old = local.change.hlc;
    if let Some(new) = answer.effective_hlc.filter(|h| *h != old) {
        let (kind, id) = (local.change.entity, local.change.entity_id);
        if let Some(mut state) = rows::read_entity(tx, kind, id)? {
            restamp_state(&mut state, old, new);
            rows::write_entity(tx, &state)?;
        }
        let (old_s, new_s) = (old.to_string(), new.to_string());
        tx.prepare_cached("UPDATE OR REPLACE conflicts SET hlc = ?3 WHERE entity_id = ?1 AND hlc = ?2")?
            .execute(params![id.to_string(), old_s, new_s])?;
        tx.prepare_cached("UPDATE conflicts SET base = ?3 WHERE entity_id = ?1 AND base = ?2")?.execute(params![
            id.to_string(),
            old_s,
            new_s
        ])?;
        tx.prepare_cached("UPDATE changes SET hlc = ?1 WHERE seq = ?2")?.execute(params![new_s, local.seq])?;
        // Stamps are unique text, so a textual replace in the stored previous values is exact.
        tx.prepare_cached(
            "UPDATE changes SET previous = replace(previous, ?1, ?2) WHERE entity_id = ?3 AND status = 'pending'",
        )?
        .execute(params![old_s, new_s, id.to_string()])?;
        for mut later in pending_of_entity(tx, id)? {
            let mut touched = false;
            for write in later.fields.values_mut() {
                for stamp in write.base.iter_mut().chain(write.resolves.iter_mut()) {
                    if *stamp == old {
                        *stamp = new;
                        touched = true;
                    }
                }
            }
            if touched {
                let fields = serde_json::to_string(&later.fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tx.prepare_cached("UPDATE changes SET fields = ?1 WHERE change_id = ?2")?
                    .execute(params![fields, later.change_id.to_string()])?;
            }
        }
        let mut device = DeviceState::load(tx)?;
        device.clock.observe(new);
        device.save(tx)?;
    }
    Ok(())
}
