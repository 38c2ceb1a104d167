//! Recovering from the unusual: a database that went back in time (power loss, a restored
//! backup, a cloned laptop image), a server restored from a backup, a change the server cannot
//! take as sent. And the station-wide flags that follow from data meeting from several devices
//! (probable duplicates).
//!
//! The device's sequence numbers must stay dense and never be reused for another change: the
//! server answers a number it has already processed with its stored answer. The functions here
//! renumber the device's unsent changes when the server says a number is taken
//! ([`Store::resend_from`]), raise the counter past the device's own changes pulled back
//! ([`Store::apply_pulled`] calls [`raise_past_own`]), and move a change the server cannot take
//! out of the sequence ([`Store::set_aside`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::change::{Change, Incoming};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::write::{CHANGE_COLUMNS, change_from_row};
use crate::{DeviceState, Store, StoreError};

/// Why a change was set aside, as kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAsideReason {
    /// A stable code: `too_large`, `server_error`, `malformed`, …
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// When it was set aside (the last time, if it was retried).
    pub at: DateTime<Utc>,
}

/// A change set aside, for the screen of unsent changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAsideRow {
    pub change: Change,
    pub reason: SetAsideReason,
    /// When the change was made (RFC 3339), as for refused changes.
    pub recorded_at: String,
}

/// Recipients of one station sharing a resident ID number: probably the same person recorded
/// twice (on two laptops offline, or twice on one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    pub station_id: Option<Uuid>,
    pub id_number: String,
    /// In id order.
    pub recipient_ids: Vec<Uuid>,
}

/// What [`Store::note_server_generation`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenerationSeen {
    /// The first generation this device has seen, or the one it knew.
    Known,
    /// Another one than the device knew: the server was restored from a backup or replaced. The
    /// pull cursor was set back to 0 in the same transaction.
    Changed,
}

/// Device sequence numbers from here on mark changes out of the numbered sequence: set aside,
/// or refused ones a renumbering moved aside (`OUT_OF_SEQUENCE + ` the row's own `seq`). Far
/// above any number a device reaches, and below `i64::MAX`.
pub const OUT_OF_SEQUENCE: u64 = 1 << 53;

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} is out of range")))
}

/// Gives the rows `seqs` (the `changes` table's own `seq`, in the order wanted) the device
/// sequence numbers `from`, `from + 1`, … and makes them pending. Two steps, so no number is
/// held twice in between (the pair is unique).
fn renumber(conn: &Connection, seqs: &[i64], from: u64) -> Result<(), StoreError> {
    let mut away = conn.prepare_cached("UPDATE changes SET device_seq = -seq WHERE seq = ?1")?;
    for seq in seqs {
        away.execute(params![seq])?;
    }
    let mut set = conn
        .prepare_cached("UPDATE changes SET device_seq = ?1, status = 'pending', server_seq = NULL WHERE seq = ?2")?;
    for (i, seq) in seqs.iter().enumerate() {
        set.execute(params![to_i64(from + i as u64)?, seq])?;
    }
    Ok(())
}

/// Inside [`Store::apply_pulled`]'s transaction: this device's own changes coming back from the
/// server raise its counter past them (and its clock observes their stamps, as every pulled
/// stamp), so no number the server holds is used again for a new change. An unsent change that
/// already took such a number (the database went back in time before the pull) is renumbered
/// when the server answers it `sequence_reused` ([`Store::resend_from`]): only the server can
/// tell a reused number from a change it processed but whose answer was lost.
pub(crate) fn raise_past_own(device: &mut DeviceState, entries: &[(u64, Incoming)]) {
    let own = device.clock.device;
    for (_, incoming) in entries {
        if let Incoming::Change(change) = incoming
            && change.device_id == own
            && change.device_seq < OUT_OF_SEQUENCE
        {
            device.last_device_seq = device.last_device_seq.max(change.device_seq);
        }
    }
}

/// Inside [`Store::note_server_generation`]'s transaction (or [`Store::requeue_own_history`]'s):
/// every change of this database's own that a server had taken (accepted, or its own pulled
/// back from the log) becomes pending again, under the device's current id, in stamp order
/// (the order it was made in), ahead of the changes still unsent, numbered after every number
/// the device has used. Set-aside and refused changes stay as they are. Returns how many
/// changes wait now.
///
/// A restored server may have lost any of them, and only their change ids tell which: the
/// numbers it still holds for this device may now be another laptop's changes (a clone
/// sharing the id pushed since the restore), and a database that became a new device keeps
/// its history under the old id. The server answers a change it holds under any device of the
/// same user with the answer it gave (found by change id), logging nothing twice.
///
/// "Its own": under this database's current id or an id it had before it became a new device
/// (`former_device_ids`): pulled back after its files went back in time, they may be its only
/// copy. (Those of a clone that kept the old id are sent too; the server takes each change id
/// once.)
fn requeue_own_history(tx: &Connection) -> Result<u64, StoreError> {
    let mut device = DeviceState::load(tx)?;
    let own = device.clock.device.to_string();
    let out = to_i64(OUT_OF_SEQUENCE)?;
    let history: Vec<i64> = tx
        .prepare_cached(
            "SELECT seq FROM changes WHERE set_aside IS NULL AND (status = 'accepted' OR (status = 'pulled'
               AND (device_id = ?1 OR device_id IN (SELECT device_id FROM former_device_ids))))
             ORDER BY hlc, seq",
        )?
        .query_map(params![own], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let unsent: Vec<i64> = tx
        .prepare_cached("SELECT seq FROM changes WHERE status = 'pending' AND set_aside IS NULL ORDER BY device_seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let used: Option<i64> = tx.query_row(
        "SELECT max(device_seq) FROM changes WHERE device_id = ?1 AND device_seq < ?2",
        params![own, out],
        |r| r.get(0),
    )?;
    let from = device.last_device_seq.max(used.and_then(|u| u64::try_from(u).ok()).unwrap_or(0)) + 1;
    let mut move_here = tx.prepare_cached("UPDATE changes SET device_id = ?1, device_seq = -seq WHERE seq = ?2")?;
    for seq in &history {
        move_here.execute(params![own, seq])?;
    }
    let rows: Vec<i64> = history.into_iter().chain(unsent).collect();
    renumber(tx, &rows, from)?;
    device.last_device_seq = from - 1 + rows.len() as u64;
    device.save(tx)?;
    Ok(rows.len() as u64)
}

/// Changes of other devices pulled after the local change `refused` (row `after_seq`) was
/// recorded, of the same entity and touching one of its fields, in stamp order: what
/// [`Store::mark_rejected`] merges again once the refused change is undone.
pub(crate) fn pulled_since(conn: &Connection, after_seq: i64, refused: &Change) -> Result<Vec<Change>, StoreError> {
    let sql = format!(
        "SELECT {CHANGE_COLUMNS} FROM changes WHERE entity_id = ?1 AND seq > ?2 AND status = 'pulled' ORDER BY hlc"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![refused.entity_id.to_string(), after_seq])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let change = change_from_row(row)?;
        if change.fields.keys().any(|f| refused.fields.contains_key(f)) {
            out.push(change);
        }
    }
    Ok(out)
}

impl Store {
    /// The server expects `expected` next from this device, and this device's numbers from
    /// there on are not (or no longer) what the server holds: the server was restored from a
    /// backup and lost some of them (a gap), or the database here went back in time or was
    /// cloned and numbers were used again (`sequence_reused`).
    ///
    /// In one transaction: every unsent change, and every change of this device numbered
    /// `expected` or later that the server had accepted (it no longer has it), become pending
    /// and are numbered `expected`, `expected + 1`, … in their order; refused ones numbered
    /// `expected` or later are moved out of the sequence (they stay refused). The counter
    /// continues after them. Returns how many changes are now waiting to be sent.
    pub fn resend_from(&mut self, expected: u64) -> Result<u64, StoreError> {
        let expected = expected.max(1);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let own = device.clock.device.to_string();
        let e = to_i64(expected)?;
        tx.prepare_cached(
            "UPDATE changes SET device_seq = ?3 + seq
             WHERE device_id = ?1 AND status = 'rejected' AND device_seq >= ?2 AND device_seq < ?3",
        )?
        .execute(params![own, e, to_i64(OUT_OF_SEQUENCE)?])?;
        let rows: Vec<i64> = tx
            .prepare_cached(
                "SELECT seq FROM changes WHERE device_id = ?1 AND set_aside IS NULL
                 AND (status = 'pending' OR (device_seq >= ?2 AND device_seq < ?3 AND status IN ('accepted', 'pulled')))
                 ORDER BY device_seq",
            )?
            .query_map(params![own, e, to_i64(OUT_OF_SEQUENCE)?], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        renumber(&tx, &rows, expected)?;
        device.last_device_seq = expected - 1 + rows.len() as u64;
        device.save(&tx)?;
        tx.commit()?;
        Ok(rows.len() as u64)
    }

    /// The highest device sequence number used so far.
    pub fn last_device_seq(&self) -> Result<u64, StoreError> {
        Ok(DeviceState::load(&self.conn)?.last_device_seq)
    }

    /// Takes the unsent change `device_seq` out of the push sequence with its reason: the
    /// server cannot take it as sent. It keeps its local effect and stays in the outbox
    /// ([`Store::set_aside_changes`]); the changes after it move up one number, so the rest go
    /// on. [`Store::retry_set_aside`] puts it back at the end.
    pub fn set_aside(&mut self, device_seq: u64, reason: &SetAsideReason) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let own = device.clock.device.to_string();
        let seq: Option<i64> = tx
            .prepare_cached(
                "SELECT seq FROM changes WHERE device_id = ?1 AND device_seq = ?2 AND status = 'pending' AND set_aside IS NULL",
            )?
            .query_row(params![own, to_i64(device_seq)?], |r| r.get(0))
            .optional()?;
        let Some(seq) = seq else { return Err(StoreError::UnknownChange(device_seq)) };
        let json = serde_json::to_string(reason).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.prepare_cached("UPDATE changes SET set_aside = ?1, device_seq = ?3 + seq WHERE seq = ?2")?
            .execute(params![json, seq, to_i64(OUT_OF_SEQUENCE)?])?;
        let after: Vec<i64> = tx
            .prepare_cached(
                "SELECT seq FROM changes WHERE device_id = ?1 AND status = 'pending' AND set_aside IS NULL
                 AND device_seq > ?2 ORDER BY device_seq",
            )?
            .query_map(params![own, to_i64(device_seq)?], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        renumber(&tx, &after, device_seq)?;
        device.last_device_seq = device.last_device_seq.saturating_sub(1).max(device_seq - 1 + after.len() as u64);
        device.save(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Changes set aside, oldest first, with their reasons.
    pub fn set_aside_changes(&self) -> Result<Vec<SetAsideRow>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS}, set_aside, recorded_at FROM changes WHERE set_aside IS NOT NULL ORDER BY seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let change = change_from_row(row)?;
            let reason: String = row.get(10)?;
            let reason = serde_json::from_str(&reason).map_err(|e| StoreError::Corrupt(format!("set aside: {e}")))?;
            out.push(SetAsideRow { change, reason, recorded_at: row.get(11)? });
        }
        Ok(out)
    }

    pub fn set_aside_count(&self) -> Result<u64, StoreError> {
        let n: i64 =
            self.conn.query_row("SELECT count(*) FROM changes WHERE set_aside IS NOT NULL", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Puts changes set aside back at the end of the push sequence (each with the next
    /// number), those set aside before `before` (all with `None`): the user asked, or enough
    /// time passed that the server may take them now. Returns how many.
    pub fn retry_set_aside(&mut self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        // Called every round: without any set aside, no write transaction.
        if self.set_aside_count()? == 0 {
            return Ok(0);
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let candidates: Vec<(i64, String)> = tx
            .prepare_cached("SELECT seq, set_aside FROM changes WHERE set_aside IS NOT NULL ORDER BY seq")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut retried = 0u64;
        for (seq, reason) in candidates {
            let due = match before {
                None => true,
                Some(before) => serde_json::from_str::<SetAsideReason>(&reason).map_or(true, |r| r.at < before),
            };
            if !due {
                continue;
            }
            device.last_device_seq += 1;
            tx.prepare_cached("UPDATE changes SET set_aside = NULL, device_seq = ?1, device_id = ?2 WHERE seq = ?3")?
                .execute(params![to_i64(device.last_device_seq)?, device.clock.device.to_string(), seq])?;
            retried += 1;
        }
        device.save(&tx)?;
        tx.commit()?;
        Ok(retried)
    }

    /// [`requeue_own_history`] in a transaction of its own: a server without a generation
    /// turned out restored (its log is shorter than this device's cursor). Returns how many
    /// changes wait now.
    pub fn requeue_own_history(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let waiting = requeue_own_history(&tx)?;
        tx.commit()?;
        Ok(waiting)
    }

    /// The server database generation this device last synced with.
    pub fn server_generation(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT server_generation FROM device", [], |r| r.get(0))?)
    }

    /// Notes the server's generation. Another one than the device knew means the server was
    /// restored from a backup (or replaced): in the same transaction the pull cursor goes back
    /// to 0, so the device pulls everything again (merging twice changes nothing) and nothing
    /// the restored server numbers anew is skipped, and every change of this database's own
    /// that the server had taken waits to be sent again (see [`Store::requeue_own_history`]),
    /// so a round cut right after this still sends them.
    pub fn note_server_generation(&mut self, generation: &str) -> Result<GenerationSeen, StoreError> {
        // Every pulled page says it: known, it costs one read and no write lock.
        if self.server_generation()?.as_deref() == Some(generation) {
            return Ok(GenerationSeen::Known);
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<String> = tx.query_row("SELECT server_generation FROM device", [], |r| r.get(0))?;
        let seen = match known.as_deref() {
            Some(known) if known == generation => return Ok(GenerationSeen::Known),
            Some(_) => {
                tx.execute("UPDATE device SET pull_cursor = 0", [])?;
                requeue_own_history(&tx)?;
                GenerationSeen::Changed
            }
            None => GenerationSeen::Known,
        };
        tx.execute("UPDATE device SET server_generation = ?1", params![generation])?;
        tx.commit()?;
        Ok(seen)
    }

    /// Recipients sharing a resident ID number within a station, by station and number: each
    /// group is probably one person recorded twice. Computed on read, so it holds on every
    /// device as soon as both records are there.
    pub fn probable_duplicates(&self, station_id: Option<Uuid>) -> Result<Vec<DuplicateGroup>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.station_id, r.id_number, r.id FROM recipients r
             JOIN (SELECT station_id, id_number FROM recipients
                   WHERE id_number IS NOT NULL AND id_number != '' AND (?1 IS NULL OR station_id = ?1)
                   GROUP BY station_id, id_number HAVING count(*) > 1) d
               ON d.id_number = r.id_number AND d.station_id IS r.station_id
             ORDER BY r.station_id, r.id_number, r.id",
        )?;
        let mut groups: BTreeMap<(Option<String>, String), Vec<Uuid>> = BTreeMap::new();
        let rows = stmt.query_map(params![station_id.map(|s| s.to_string())], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        for row in rows {
            let (station, number, id) = row?;
            groups.entry((station, number)).or_default().push(crate::rows::parse_id(&id)?);
        }
        groups
            .into_iter()
            .map(|((station, id_number), recipient_ids)| {
                Ok(DuplicateGroup {
                    station_id: station.as_deref().map(crate::rows::parse_id).transpose()?,
                    id_number,
                    recipient_ids,
                })
            })
            .collect()
    }

    /// The other recipients of the same station with this recipient's resident ID number.
    pub fn duplicates_of(&self, recipient_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.id FROM recipients r JOIN recipients o
               ON o.id_number = r.id_number AND o.station_id IS r.station_id AND o.id != r.id
             WHERE r.id = ?1 AND r.id_number IS NOT NULL AND r.id_number != '' ORDER BY o.id",
        )?;
        let rows = stmt.query_map(params![recipient_id.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|id| crate::rows::parse_id(&id?)).collect()
    }
}

impl Store {
    /// Makes this database a new device, `new_id` (registered with the server for the same
    /// user): the server found another laptop pushing under this device's id (a cloned image).
    /// In one transaction, every change not yet accepted (waiting or set aside) moves to the new
    /// device, numbered from 1 in its order; the clock stamps from now on with the new id. The
    /// device's history (accepted changes) stays under the old id. Returns how many moved.
    pub fn become_device(&mut self, new_id: Uuid) -> Result<u64, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut device = DeviceState::load(&tx)?;
        let old = device.clock.device.to_string();
        let rows: Vec<i64> = tx
            .prepare_cached(
                "SELECT seq FROM changes WHERE device_id = ?1 AND status = 'pending' AND set_aside IS NULL
                 ORDER BY device_seq",
            )?
            .query_map(params![old], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        tx.prepare_cached("UPDATE changes SET device_id = ?1 WHERE device_id = ?2 AND status = 'pending'")?
            .execute(params![new_id.to_string(), old])?;
        renumber(&tx, &rows, 1)?;
        tx.prepare_cached("INSERT OR IGNORE INTO former_device_ids (device_id) VALUES (?1)")?.execute(params![old])?;
        tx.prepare_cached("UPDATE device SET device_id = ?1")?.execute(params![new_id.to_string()])?;
        device.clock.device = new_id;
        device.last_device_seq = rows.len() as u64;
        device.save(&tx)?;
        tx.commit()?;
        self.device_id = new_id;
        Ok(rows.len() as u64)
    }
}

impl Store {
    /// After a server restore: forgets everything pulled (every entity and conflict; the
    /// outbox and the history stay) and sets the cursor back to 0, in one transaction. The
    /// device then pulls the restored server's log from the start and holds exactly what it
    /// has, not values from a future the server lost (a merge would keep those, being newer);
    /// [`Store::reapply_pending`] then puts this device's unsent changes back on top.
    pub fn forget_pulled(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for kind in <domain::entity::EntityKind as domain::Labelled>::ALL {
            tx.execute(&format!("DELETE FROM {}", kind.spec().table), [])?;
        }
        tx.execute("DELETE FROM conflicts", [])?;
        tx.execute("UPDATE device SET pull_cursor = 0", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Merges every change of this device not yet accepted (waiting or set aside) again onto
    /// what is held, in the order they were made: after [`Store::forget_pulled`] and the pull
    /// that follows. An update of an entity not held is left for the server's answer. Returns
    /// how many were merged.
    pub fn reapply_pending(&mut self) -> Result<usize, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE status = 'pending' ORDER BY seq");
        let pending: Vec<Change> = {
            let mut stmt = tx.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(change_from_row(row)?);
            }
            out
        };
        let mut latest = crate::rows::LatestVisits::default();
        let mut merged_count = 0;
        for change in &pending {
            let current = crate::rows::read_entity(&tx, change.entity, change.entity_id)?;
            let Some(merged) = domain::merge::merge(current.as_ref(), change) else { continue };
            let mut state = merged.state;
            state.fields.retain(|_, v| !v.is_null());
            crate::rows::write_entity_over(&tx, &state, current.as_ref(), &mut latest)?;
            crate::write::record_conflicts(&tx, change.entity, change.entity_id, &merged.conflict_ops)?;
            merged_count += 1;
        }
        latest.flush(&tx)?;
        tx.commit()?;
        Ok(merged_count)
    }
}
