//! One write transaction of the server, with what every write needs: the server's own clock and
//! device (for the changes it authors itself), and [`Batch::apply`], which takes an accepted
//! change into the state, the conflicts, the checksum accumulators and the log — with the
//! evictions and snapshots a change of scope calls for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::change::{Change, FieldWrite, Incoming, Op};
use domain::entity::{Area, EntityKind, EntityState};
use domain::hlc::{Clock, Hlc};
use domain::merge::merge;
use domain::rules::{LookupError, StateView};
use domain::{Id, field};
use serde_json::Value;
use uuid::Uuid;

use crate::scope::{
    accumulator_keys, actor_of, audiences, case_worker_of, contribution, may_read_in, supervised, waiting_for_decision,
};
use crate::storage::{Audience, DeviceRecord, EntityRecord, ReadTx, Storage, StorageError, Supervision, WriteTx};

/// The author of changes the server makes itself: organisation records created by the admin
/// command, and the station moves of records that follow a transferred recipient.
pub const SYSTEM_USER_ID: Id = Uuid::from_u128(0x0000_0000_0000_7000_8000_5359_5354_454d);

const META_SERVER_DEVICE: &str = "server_device_id";
const META_SERVER_CLOCK: &str = "server_clock";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApplyError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Inconsistent(String),
}

impl From<ApplyError> for protocol::ApiError {
    fn from(e: ApplyError) -> Self {
        crate::error::internal(e)
    }
}

/// What [`Batch`] keeps in memory beside its transaction, as [`Batch::mark`] saw it.
pub(crate) struct Mark {
    clock: Clock,
    server_device: DeviceRecord,
}

pub(crate) struct Batch<'s> {
    pub tx: Box<dyn WriteTx + 's>,
    pub now: DateTime<Utc>,
    clock: Clock,
    server_device: DeviceRecord,
}

impl<'s> Batch<'s> {
    /// Opens the write transaction; on the very first one, registers the server's own device.
    pub fn begin(storage: &'s dyn Storage, now: DateTime<Utc>) -> Result<Self, StorageError> {
        let mut tx = storage.write()?;
        let device_id = match tx.meta(META_SERVER_DEVICE)? {
            Some(text) => Id::try_parse(&text).map_err(|e| StorageError::Corrupt(format!("server device id: {e}")))?,
            None => {
                let id = Uuid::now_v7();
                tx.set_meta(META_SERVER_DEVICE, &id.to_string())?;
                id
            }
        };
        let server_device = match tx.device(device_id)? {
            Some(device) => device,
            None => DeviceRecord {
                id: device_id,
                user_id: SYSTEM_USER_ID,
                name: "sync server".into(),
                next_seq: 1,
                registered_at: now,
                clock_skewed: false,
                last_skew_ms: None,
            },
        };
        let clock = match tx.meta(META_SERVER_CLOCK)? {
            Some(text) => {
                serde_json::from_str::<Clock>(&text).map_err(|e| StorageError::Corrupt(format!("server clock: {e}")))?
            }
            None => Clock::new(device_id),
        };
        Ok(Self { tx, now, clock, server_device })
    }

    pub fn read(&self) -> &dyn ReadTx {
        &*self.tx
    }

    /// The server's clock and device as they stand now: taken with a savepoint, so a push rolled
    /// back to it also takes back the stamps and sequence numbers it drew (see `group_commit.rs`).
    pub fn mark(&self) -> Mark {
        Mark { clock: self.clock, server_device: self.server_device.clone() }
    }

    /// Puts back what [`Batch::mark`] saw, after rolling the transaction back to its savepoint.
    pub fn restore(&mut self, mark: Mark) {
        self.clock = mark.clock;
        self.server_device = mark.server_device;
    }

    pub fn view(&self) -> View<'_> {
        View(self.read())
    }

    pub fn server_device_id(&self) -> Id {
        self.server_device.id
    }

    fn now_millis(&self) -> u64 {
        u64::try_from(self.now.timestamp_millis()).unwrap_or(0)
    }

    /// A fresh stamp of the server's clock.
    pub fn tick(&mut self) -> Hlc {
        let now = self.now_millis();
        self.clock.tick(now)
    }

    /// Keeps the server's clock ahead of every stamp it accepts.
    pub fn observe(&mut self, hlc: Hlc) {
        self.clock.observe(hlc);
    }

    /// A change made by the server itself (on its own device), stamped now. For an update, each
    /// field names as its base the clock of the value it overwrites, as a device would.
    pub fn server_change(
        &mut self,
        author: Id,
        entity: EntityKind,
        entity_id: Id,
        op: Op,
        fields: BTreeMap<String, FieldWrite>,
    ) -> Result<Change, StorageError> {
        let mut fields = fields;
        if op == Op::Update
            && let Some(current) = self.tx.entity(entity, entity_id)?
        {
            for (name, write) in fields.iter_mut() {
                if write.base.is_none() {
                    write.base = Some(current.state.clock(name).hlc);
                }
            }
        }
        let device_seq = self.server_device.next_seq;
        self.server_device.next_seq += 1;
        let hlc = self.tick();
        Ok(Change {
            change_id: Uuid::now_v7(),
            device_id: self.server_device.id,
            device_seq,
            author_id: author,
            schema_version: domain::SCHEMA_VERSION,
            hlc,
            entity,
            entity_id,
            op,
            fields,
        })
    }

    /// Takes an accepted (checked, normalized) change into the state and the log; returns its
    /// server sequence number.
    ///
    /// When the change moves the entity out of some devices' scope and into others', the log
    /// gets, before the change itself: an eviction for the devices that lose it and a snapshot
    /// of the new state for those that gain it. The change then follows; merged into that
    /// snapshot it changes nothing, so a device never meets an update of an entity it lacks.
    pub fn apply(&mut self, change: &Change) -> Result<u64, ApplyError> {
        let old = self.tx.entity(change.entity, change.entity_id)?;
        let merged = merge(old.as_ref().map(|r| &r.state), change).ok_or_else(|| {
            ApplyError::Inconsistent(format!("update of unknown {:?} {}", change.entity, change.entity_id))
        })?;
        self.tx.record_conflicts(change.entity_id, &merged.conflict_ops)?;
        let case_worker_id = case_worker_of(self.read(), &merged.state)?;
        let supervised = supervised(self.read(), &merged.state, old.as_ref())?;
        let new = EntityRecord { state: merged.state, case_worker_id, supervised };

        let mut moves = Vec::new();
        if let Some(old) = &old {
            moves.extend(self.scope_moves(old, &new)?);
        }
        self.store(old.as_ref(), &new)?;

        // A reassigned case takes its stage records along to the new worker; a case entering or
        // leaving the supervisors' queue takes them along too.
        if let Some(old) = &old
            && change.entity == EntityKind::Case
            && (old.case_worker_id != new.case_worker_id || old.supervised != new.supervised)
        {
            for record in self.tx.case_records(change.entity_id)? {
                let before = EntityRecord {
                    state: record.clone(),
                    case_worker_id: old.case_worker_id,
                    supervised: old.supervised,
                };
                let after =
                    EntityRecord { state: record, case_worker_id: new.case_worker_id, supervised: new.supervised };
                moves.extend(self.scope_moves(&before, &after)?);
                self.store(Some(&before), &after)?;
            }
        }
        // ... and its recipient with their visits, which come first: what the case names is in
        // place before it.
        if change.entity == EntityKind::Case
            && old.as_ref().is_some_and(|o| o.supervised) != new.supervised
            && let Some(recipient_id) = new.state.get_id(field::RECIPIENT_ID)
        {
            let mut first = self.recipient_follows(recipient_id)?;
            first.append(&mut moves);
            moves = first;
        }
        for (item, audience) in moves {
            self.tx.append_log(&item, &[audience], self.now)?;
        }
        let seq = self.tx.append_log(&Incoming::Change(change.clone()), &audiences(&new), self.now)?;

        // A transferred recipient takes along everything recorded about them.
        if let Some(old) = &old
            && change.entity == EntityKind::Recipient
            && old.state.station_id() != new.state.station_id()
            && let Some(to) = new.state.station_id()
        {
            self.move_dependents(change.entity_id, to)?;
        }
        Ok(seq)
    }

    /// A recipient held by the supervisors while a case of theirs waits for a decision, and the
    /// recipient's visits with them: stored with the flag as their cases now stand, and the
    /// snapshots or evictions that follow, for the supervisors only.
    fn recipient_follows(&mut self, recipient_id: Id) -> Result<Vec<(Incoming, Audience)>, ApplyError> {
        let Some(recipient) = self.tx.entity(EntityKind::Recipient, recipient_id)? else { return Ok(Vec::new()) };
        let dependents = self.tx.entities_of_recipient(recipient_id)?;
        let supervised = dependents.iter().any(waiting_for_decision);
        if supervised == recipient.supervised {
            return Ok(Vec::new());
        }
        let mut moves = Vec::new();
        let mut follow = |batch: &mut Self, before: EntityRecord| -> Result<(), ApplyError> {
            let after = EntityRecord { supervised, ..before.clone() };
            moves.extend(batch.scope_moves(&before, &after)?);
            batch.tx.put_entity(&after)?;
            Ok(())
        };
        follow(self, recipient)?;
        for visit in dependents.into_iter().filter(|d| d.kind == EntityKind::Visit) {
            if let Some(before) = self.tx.entity(EntityKind::Visit, visit.id)?
                && before.supervised != supervised
            {
                follow(self, before)?;
            }
        }
        Ok(moves)
    }

    /// Moves the visits, referrals and cases (with their records) of a recipient to station `to`,
    /// each by a server-authored change of its `station_id`.
    fn move_dependents(&mut self, recipient_id: Id, to: Id) -> Result<(), ApplyError> {
        for dependent in self.tx.entities_of_recipient(recipient_id)? {
            self.move_to_station(&dependent, to)?;
            if dependent.kind == EntityKind::Case {
                for record in self.tx.case_records(dependent.id)? {
                    self.move_to_station(&record, to)?;
                }
            }
        }
        Ok(())
    }

    fn move_to_station(&mut self, state: &EntityState, to: Id) -> Result<(), ApplyError> {
        if state.station_id() == Some(to) {
            return Ok(());
        }
        let fields = BTreeMap::from([(field::STATION_ID.to_owned(), FieldWrite::new(Value::String(to.to_string())))]);
        let change = self.server_change(SYSTEM_USER_ID, state.kind, state.id, Op::Update, fields)?;
        self.apply(&change)?;
        Ok(())
    }

    /// The evictions and snapshots that follow from an entity moving from `old`'s audience to
    /// `new`'s: stations it leaves and joins, and for case-area entities, the assigned worker
    /// who loses it and the one who gains it (unless their role sees it either way).
    fn scope_moves(&self, old: &EntityRecord, new: &EntityRecord) -> Result<Vec<(Incoming, Audience)>, StorageError> {
        let kind = new.state.kind;
        let organisation = kind.area() == Area::Organisation;
        let case_area = kind.area() == Area::Case;
        let evict = Incoming::Evict { entity: kind, entity_id: new.state.id, reassigned_to: None };
        let snapshot = Incoming::Snapshot(new.state.clone());
        let old_stations = old.state.station_ids();
        let new_stations = new.state.station_ids();
        let old_worker = if case_area { old.case_worker_id } else { None };
        let new_worker = if case_area { new.case_worker_id } else { None };

        let mut moves = Vec::new();
        for station in old_stations.iter().filter(|s| !new_stations.contains(s)) {
            let audience = Audience {
                station_id: Some(*station),
                case_worker_id: old_worker,
                target_user_id: None,
                organisation,
                supervision: Supervision::of(old.supervised),
            };
            moves.push((evict.clone(), audience));
        }
        for station in new_stations.iter().filter(|s| !old_stations.contains(s)) {
            let audience = Audience {
                station_id: Some(*station),
                case_worker_id: new_worker,
                target_user_id: None,
                organisation,
                supervision: Supervision::of(new.supervised),
            };
            moves.push((snapshot.clone(), audience));
        }
        // Into or out of the supervisors' scope where the stations stay: theirs alone.
        if old.supervised != new.supervised {
            for station in old_stations.iter().filter(|s| new_stations.contains(s)) {
                let audience = Audience {
                    station_id: Some(*station),
                    case_worker_id: new_worker,
                    target_user_id: None,
                    organisation,
                    supervision: Supervision::Only,
                };
                moves.push((if new.supervised { snapshot.clone() } else { evict.clone() }, audience));
            }
        }
        if old_worker != new_worker {
            for station in old_stations.iter().filter(|s| new_stations.contains(s)) {
                if let Some(loser) = old_worker {
                    let actor = actor_of(self.read(), loser)?;
                    if !may_read_in(&actor, kind, Some(*station), new_worker) {
                        let audience = Audience {
                            station_id: Some(*station),
                            case_worker_id: None,
                            target_user_id: Some(loser),
                            organisation,
                            supervision: Supervision::No,
                        };
                        // The worker's devices say where the case went.
                        let moved = Incoming::Evict {
                            entity: kind,
                            entity_id: new.state.id,
                            reassigned_to: new_worker.filter(|_| kind == EntityKind::Case),
                        };
                        moves.push((moved, audience));
                    }
                }
                if let Some(gainer) = new_worker {
                    let actor = actor_of(self.read(), gainer)?;
                    if !may_read_in(&actor, kind, Some(*station), old_worker) {
                        let audience = Audience {
                            station_id: Some(*station),
                            case_worker_id: None,
                            target_user_id: Some(gainer),
                            organisation,
                            supervision: Supervision::No,
                        };
                        moves.push((snapshot.clone(), audience));
                    }
                }
            }
        }
        Ok(moves)
    }

    /// Writes the entity and moves its digest between checksum accumulators.
    fn store(&mut self, old: Option<&EntityRecord>, new: &EntityRecord) -> Result<(), StorageError> {
        if let Some(old) = old {
            let value = contribution(&old.state);
            for (station, worker) in accumulator_keys(old) {
                self.tx.xor_accumulator(station, worker, value)?;
            }
        }
        let value = contribution(&new.state);
        for (station, worker) in accumulator_keys(new) {
            self.tx.xor_accumulator(station, worker, value)?;
        }
        self.tx.put_entity(new)
    }

    /// Saves the server's clock and device, and commits durably.
    pub fn finish(mut self) -> Result<(), StorageError> {
        let clock = serde_json::to_string(&self.clock).map_err(|e| StorageError::Backend(e.to_string()))?;
        self.tx.set_meta(META_SERVER_CLOCK, &clock)?;
        self.tx.put_device(&self.server_device)?;
        self.tx.commit()
    }
}

/// The rules' view of the state, inside a transaction (so it includes what the same batch has
/// already accepted).
pub(crate) struct View<'a>(pub &'a dyn ReadTx);

fn lookup(e: StorageError) -> LookupError {
    LookupError(e.to_string())
}

impl StateView for View<'_> {
    fn entity(&self, kind: EntityKind, id: Id) -> Result<Option<EntityState>, LookupError> {
        Ok(self.0.entity(kind, id).map_err(lookup)?.map(|r| r.state))
    }

    fn case_records(&self, case_id: Id) -> Result<Vec<EntityState>, LookupError> {
        self.0.case_records(case_id).map_err(lookup)
    }

    fn cases_of_recipient(&self, recipient_id: Id) -> Result<Vec<EntityState>, LookupError> {
        let all = self.0.entities_of_recipient(recipient_id).map_err(lookup)?;
        Ok(all.into_iter().filter(|e| e.kind == EntityKind::Case).collect())
    }
}
