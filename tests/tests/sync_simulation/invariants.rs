//! What must hold once the faults have stopped and every device is quiet.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use domain::Labelled;
use domain::case::Stage;
use domain::change::Incoming;
use domain::entity::{Area, EntityKind, EntityState};
use domain::hlc::Hlc;
use domain::merge::{ConflictBook, merge};
use domain::org::Role;
use domain::rules::StateView;
use domain::signoff;
use store::Store;
use sync_server::Server;
use sync_server::storage::{LogScope, Reach};
use uuid::Uuid;

use crate::model::Fate;
use crate::world::{Device, World, local_changes, server_user};
use crate::{Failure, Outcome, check, ctx, verbose};

type Entities = BTreeMap<(EntityKind, Uuid), EntityState>;

/// The server's whole log, as a reader of both stations sees it (every untargeted entry).
pub fn server_log(world: &World) -> Result<Vec<(u64, Incoming)>, Failure> {
    let read = world.server.storage().read().map_err(ctx("server read"))?;
    let scope = LogScope {
        user_id: Uuid::nil(),
        reach: Reach::Stations { stations: world.stations.to_vec(), own_cases_of: None },
    };
    let page = read.log_page(&scope, 0, u32::MAX).map_err(ctx("server log"))?;
    Ok(page.into_iter().map(|e| (e.server_seq, e.item)).collect())
}

pub fn check(world: &mut World) -> Outcome {
    let log = server_log(world)?;
    // Every accepted change is in the log exactly once (a change logged for two stations
    // appears once per station, under one sequence number each, with the same id).
    let mut seqs_of: HashMap<Uuid, BTreeSet<u64>> = HashMap::new();
    for (seq, item) in &log {
        if let Incoming::Change(c) = item {
            seqs_of.entry(c.change_id).or_default().insert(*seq);
        }
    }
    for (id, seqs) in &seqs_of {
        check!(seqs.len() == 1, "the log holds each change once: {id} is under several sequence numbers {seqs:?}");
    }
    server_state_is_a_replay_of_its_log(world, &log)?;
    every_change_ends_as_the_model_expects(world, &seqs_of)?;

    for d in &world.devices {
        for forged in &d.forged {
            check!(
                !seqs_of.contains_key(&forged.change_id),
                "forged changes are refused: {}'s forged change {} is in the log",
                d.name,
                forged.change_id
            );
        }
    }
    devices_hold_what_the_server_says(world)?;
    conflicts_are_those_of_a_replay(world, &log)?;
    seals_verify(world)?;

    if verbose() {
        let refused: usize = world.model.local_refusals.values().sum();
        eprintln!(
            "log {} entries; {} changes recorded, {refused} refused locally; {} devices",
            log.len(),
            world.model.tracked.len(),
            world.devices.len()
        );
        for ((edit, code), n) in &world.model.local_refusals {
            eprintln!("  local refusal {edit:?} {code}: {n}");
        }
    }
    Ok(())
}

fn strip(s: &EntityState) -> EntityState {
    let mut s = s.clone();
    s.fields.retain(|_, v| !v.is_null());
    s
}

/// The server's entities are exactly what replaying its log with `domain::merge` gives, and
/// every snapshot the log hands out is the replayed state at that point.
fn server_state_is_a_replay_of_its_log(world: &World, log: &[(u64, Incoming)]) -> Outcome {
    let mut replay: Entities = BTreeMap::new();
    // A scope move logs the entity's new state before the change that moves it: a snapshot is
    // the replayed state where it stands, or right after the next change of that entity.
    let mut ahead: BTreeMap<(EntityKind, Uuid), (u64, EntityState)> = BTreeMap::new();
    for (seq, item) in log {
        match item {
            Incoming::Change(c) => {
                let key = (c.entity, c.entity_id);
                let merged = merge(replay.get(&key), c).ok_or_else(|| {
                    Failure(format!(
                        "replay: log entry {seq} updates {:?} {} before any create of it",
                        c.entity, c.entity_id
                    ))
                })?;
                replay.insert(key, merged.state);
                if let Some((at, snapshot)) = ahead.remove(&key) {
                    let replayed = &replay[&key];
                    check!(
                        strip(replayed) == strip(&snapshot),
                        "replay: the snapshot at log entry {at} is not the state the change at {seq} makes\n snapshot: {snapshot:?}\n replay: {replayed:?}"
                    );
                }
            }
            Incoming::Snapshot(s) => {
                let key = (s.kind, s.id);
                if replay.get(&key).map(strip) != Some(strip(s)) {
                    ahead.insert(key, (*seq, s.clone()));
                }
            }
            Incoming::Evict { .. } => {}
        }
    }
    if let Some((key, (at, snapshot))) = ahead.into_iter().next() {
        let replayed = replay.get(&key);
        return Err(Failure(format!(
            "replay: the snapshot at log entry {at} is no state the log gives {key:?}\n snapshot: {snapshot:?}\n replay: {replayed:?}"
        )));
    }
    let everything = Reach::Stations { stations: world.stations.to_vec(), own_cases_of: None };
    let mut stored: Entities = BTreeMap::new();
    for station in world.stations {
        stored.extend(server_entities(&world.server, station, &everything)?);
    }
    let missing: Vec<_> = replay.keys().filter(|k| !stored.contains_key(*k)).collect();
    let extra: Vec<_> = stored.keys().filter(|k| !replay.contains_key(*k)).collect();
    check!(missing.is_empty(), "replay: the server lacks entities its log creates: {missing:?}");
    check!(extra.is_empty(), "replay: the server holds entities its log never created: {extra:?}");
    for (key, state) in &stored {
        let replayed = &replay[key];
        check!(
            strip(replayed) == strip(state),
            "replay: the server's {key:?} is not the replay of its log\n server: {state:?}\n replay: {replayed:?}"
        );
    }
    Ok(())
}

/// Every change that passed the local rules ended accepted (and is in the log) or refused for
/// a reason the model allows; none is still waiting; none was lost but by a fault that destroys.
fn every_change_ends_as_the_model_expects(world: &World, seqs_of: &HashMap<Uuid, BTreeSet<u64>>) -> Outcome {
    let tables = world.devices.iter().map(|d| local_changes(&d.store)).collect::<Result<Vec<_>, _>>()?;
    let read = world.server.storage().read().map_err(ctx("server read"))?;
    // A change built on a create that was refused (or lost) is refused in turn: the entity or
    // the record it names is not there.
    let mut refused_creates: BTreeSet<usize> = BTreeSet::new();
    for t in &world.model.tracked {
        let row = tables[t.dev].get(&t.change_id);
        // Refused and then gone from the device (its files went back in time, or it dropped the
        // station): the server's answer says it was refused.
        let refused_then_gone = row.is_none()
            && read.push_answer(t.device_id, t.device_seq).map_err(ctx("push answer"))?.is_some_and(|a| {
                a.change_id == t.change_id && matches!(a.outcome, protocol::PushOutcome::Rejected { .. })
            });
        if t.fate != Fate::Live || row.is_some_and(|r| r.status == "rejected") || refused_then_gone {
            refused_creates.insert(t.dev);
        }
    }
    let mut unexpected = Vec::new();
    for t in &world.model.tracked {
        if t.fate == Fate::LostToPowerLoss {
            continue;
        }
        let what = format!(
            "{}'s {:?} change {} ({:?}, seq {}{})",
            t.device_name,
            t.edit,
            t.change_id,
            t.entity,
            t.device_seq,
            if t.mid_round { ", recorded during a round" } else { "" }
        );
        let (status, code) = match tables[t.dev].get(&t.change_id) {
            Some(row) => (row.status.clone(), row.code.clone()),
            // Gone from the device (dropped with data it may no longer hold, or its files went
            // back in time): the server's answer is what counts.
            None => {
                let mut answer = read.push_answer(t.device_id, t.device_seq).map_err(ctx("push answer"))?;
                // Renumbered, or moved to the new device a cloned laptop became, and dropped in
                // the same round: look for it among the answers to the device's id now.
                if answer.as_ref().is_none_or(|a| a.change_id != t.change_id) {
                    let now_id = world.devices[t.dev].store.device_id();
                    let next = read.device(now_id).map_err(ctx("device"))?.map_or(1, |d| d.next_seq);
                    for seq in 1..next {
                        let found = read.push_answer(now_id, seq).map_err(ctx("push answer"))?;
                        if found.as_ref().is_some_and(|a| a.change_id == t.change_id) {
                            answer = found;
                            break;
                        }
                    }
                }
                match answer.filter(|a| a.change_id == t.change_id).map(|a| a.outcome) {
                    Some(protocol::PushOutcome::Accepted { .. }) => ("accepted".into(), None),
                    Some(protocol::PushOutcome::Rejected { rejection, .. }) => {
                        ("rejected".into(), Some(rejection.code))
                    }
                    // Refused (as the device showed), then dropped with data the user may no longer
                    // hold; the server that kept the refusal was then restored from a backup.
                    _ if t.seen_refused.is_some() => ("rejected".into(), t.seen_refused.clone()),
                    // Accepted, then lost by the server to a restore from a backup, after the
                    // device had dropped it with data its user may no longer hold (deactivated,
                    // moved): nothing is left to send again. A restore loses what nobody holds.
                    _ if t.fate == Fate::LostToServerRestore && world.model.scope_shrank.contains(&t.user_id) => {
                        continue;
                    }
                    _ => {
                        return Err(Failure(format!(
                            "nothing typed is lost: {what} is gone from the device, unanswered"
                        )));
                    }
                }
            }
        };
        match status.as_str() {
            // A deactivated user's laptop cannot send again what a restored server lost: it
            // keeps it, as it keeps its unsent work.
            "accepted" | "pulled"
                if t.fate == Fate::LostToServerRestore && !server_user(&world.server, t.user_id)?.active => {}
            "accepted" | "pulled" => {
                check!(
                    seqs_of.contains_key(&t.change_id),
                    "acknowledged is kept: {what} is accepted on the device but missing from the server's log{}",
                    if t.fate == Fate::LostToServerRestore {
                        " (the server lost it to a restore from backup; the device must send it again)"
                    } else {
                        ""
                    }
                );
            }
            // Sent again to a server restored from a backup, it may meet another state than it
            // first did; refused is a fine end, lost is not.
            "rejected" if t.fate == Fate::LostToServerRestore => {}
            "rejected" => {
                let code = code.unwrap_or_default();
                let mut allowed = world.model.allowed(t);
                // After a restore from a backup, what a change names may be gone from the server
                // (until, or unless, the device that made it sends it again).
                if refused_creates.contains(&t.dev) || world.server_restored {
                    allowed.extend(crate::model::CASCADE);
                }
                if !allowed.contains(code.as_str()) {
                    unexpected.push(format!("{what} refused with `{code}` (allowed: {allowed:?})"));
                }
            }
            // A deactivated user's device keeps its unsent work for an administrator to see.
            "pending" if !server_user(&world.server, t.user_id)?.active => {}
            other => {
                return Err(Failure(format!(
                    "every change ends accepted or refused: {what} is still `{other}` after healing"
                )));
            }
        }
    }
    if verbose() {
        let mut ends: BTreeMap<String, usize> = BTreeMap::new();
        for t in &world.model.tracked {
            let end = match tables[t.dev].get(&t.change_id) {
                Some(row) => {
                    format!("{:?} {:?} {} {}", t.edit, t.fate, row.status, row.code.clone().unwrap_or_default())
                }
                None => format!("{:?} {:?} (row gone)", t.edit, t.fate),
            };
            *ends.entry(end).or_default() += 1;
        }
        for (end, n) in ends {
            eprintln!("  ended {end}: {n}");
        }
    }
    check!(unexpected.is_empty(), "no refusal the model does not expect:\n  {}", unexpected.join("\n  "));
    Ok(())
}

/// What a user's devices may hold, by the server's own record of the user.
fn reach_of_user(server: &Server, user_id: Uuid) -> Result<Reach, Failure> {
    let user = server_user(server, user_id)?;
    if !user.active {
        return Ok(Reach::Nothing);
    }
    Ok(match user.role() {
        Some(Role::SocialWorker { station_id }) => {
            Reach::Stations { stations: vec![station_id], own_cases_of: Some(user_id) }
        }
        Some(Role::DeputyHead { station_id }) => Reach::Stations { stations: vec![station_id], own_cases_of: None },
        // A supervisor holds what waits for their decision, not the stations' rosters.
        Some(Role::Supervisor { station_ids }) => {
            let mut stations = station_ids;
            stations.sort();
            stations.dedup();
            Reach::Supervision { stations }
        }
        Some(Role::Admin) => Reach::Organisation,
        None => Reach::Nothing,
    })
}

fn server_entities(server: &Server, station: Uuid, reach: &Reach) -> Result<Entities, Failure> {
    let read = server.storage().read().map_err(ctx("server read"))?;
    let all = read.entities_of_station(station, reach, None, u32::MAX).map_err(ctx("server entities"))?;
    Ok(all.into_iter().map(|s| ((s.kind, s.id), s)).collect())
}

fn local_entities(store: &Store, station: Option<Uuid>) -> Result<Entities, Failure> {
    let mut map = BTreeMap::new();
    for kind in EntityKind::ALL {
        for s in store.list(*kind, None).map_err(ctx("local list"))? {
            if station.is_none_or(|station| s.station_ids().contains(&station)) {
                map.insert((s.kind, s.id), s);
            }
        }
    }
    Ok(map)
}

/// Convergence and scope: each device holds exactly what the server says its user may see,
/// with checksums that match its entities; nothing of a station outside its user's, and a
/// worker only their own cases.
fn devices_hold_what_the_server_says(world: &World) -> Outcome {
    for d in &world.devices {
        let reach = reach_of_user(&world.server, d.t.user_id)?;
        let stations = match &reach {
            Reach::Stations { stations, .. } | Reach::Supervision { stations } => stations.clone(),
            _ => Vec::new(),
        };
        for station in &stations {
            let server_side = server_entities(&world.server, *station, &reach)?;
            if matches!(reach, Reach::Supervision { .. }) {
                supervisors_hold_what_waits_for_them(world, *station, &server_side)?;
            }
            let local = local_entities(&d.store, Some(*station))?;
            let missing: Vec<_> = server_side.keys().filter(|k| !local.contains_key(*k)).collect();
            let extra: Vec<_> = local.keys().filter(|k| !server_side.contains_key(*k)).collect();
            check!(missing.is_empty(), "convergence: {} lacks {missing:?}", d.name);
            check!(
                extra.is_empty(),
                "convergence: {} holds what it may not see or the server lacks: {extra:?}",
                d.name
            );
            for (key, state) in &server_side {
                let mine = &local[key];
                check!(
                    strip(mine) == strip(state),
                    "convergence: {}'s {key:?} differs\n device: {mine:?}\n server: {state:?}",
                    d.name
                );
            }
            let checksum = local.values().fold(0u64, |acc, s| domain::entity::checksum_fold(acc, &s.digest()));
            let stored = d.store.station_checksum(*station).map_err(ctx("station checksum"))?;
            check!(
                checksum == stored,
                "checksums: {}'s stored checksum of a station does not match its entities",
                d.name
            );
        }
        // A deactivated user's laptop that could not even authenticate (its session lost to a
        // restored server) has not heard of the deactivation: its offline lease covers it.
        let unheard = reach == Reach::Nothing && d.last_round.as_ref().is_err_and(|e| e.contains("sign_in_required"));
        if unheard {
            continue;
        }
        let worker = matches!(reach, Reach::Stations { own_cases_of: Some(_), .. });
        for ((kind, id), s) in local_entities(&d.store, None)? {
            let ids = s.station_ids();
            // A user's own record may stay with a user who may see nothing else.
            if kind == EntityKind::User && id == d.t.user_id {
                continue;
            }
            check!(
                ids.iter().any(|id| stations.contains(id)),
                "scope: {} holds {kind:?} {id} of a station outside its user's ({reach:?})",
                d.name
            );
            if worker && kind == EntityKind::Case {
                check!(
                    s.get_id("worker_id") == Some(d.t.user_id),
                    "scope: {} holds another worker's case {id}",
                    d.name
                );
            }
        }
    }
    Ok(())
}

/// The supervisors' scope of a station, derived here from the station's whole state: the
/// organisation, the workforce's records and the library; the cases whose closure is requested
/// with their stage records, their recipients and those recipients' visits.
fn supervisors_hold_what_waits_for_them(world: &World, station: Uuid, scope: &Entities) -> Outcome {
    let everything = Reach::Stations { stations: vec![station], own_cases_of: None };
    let all = server_entities(&world.server, station, &everything)?;
    let waiting: BTreeSet<Uuid> = all
        .values()
        .filter(|s| s.kind == EntityKind::Case && s.get_str("closure_status") == Some("Requested"))
        .map(|s| s.id)
        .collect();
    let people: BTreeSet<Uuid> =
        all.values().filter(|s| waiting.contains(&s.id)).filter_map(|s| s.get_id("recipient_id")).collect();
    let expected: BTreeSet<(EntityKind, Uuid)> = all
        .values()
        .filter(|s| match s.kind.area() {
            Area::Organisation | Area::Workforce => true,
            _ if s.kind == EntityKind::Resource => true,
            _ if s.kind == EntityKind::Case => waiting.contains(&s.id),
            Area::Case => s.get_id("case_id").is_some_and(|c| waiting.contains(&c)),
            _ if s.kind == EntityKind::Recipient => people.contains(&s.id),
            _ if s.kind == EntityKind::Visit => s.get_id("recipient_id").is_some_and(|p| people.contains(&p)),
            Area::Roster => false,
        })
        .map(|s| (s.kind, s.id))
        .collect();
    let held: BTreeSet<(EntityKind, Uuid)> = scope.keys().copied().collect();
    check!(
        held == expected,
        "scope: the supervisors' scope of a station is not what waits for them: server-only {:?}, expected-only {:?}",
        held.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&held).collect::<Vec<_>>()
    );
    Ok(())
}

/// Every losing value is kept: the server's open conflicts are exactly those of an independent
/// replay of its log; and the open conflicts of each device not disturbed by a fault that
/// rebuilds it are those of a replay of exactly what it pulled.
fn conflicts_are_those_of_a_replay(world: &World, log: &[(u64, Incoming)]) -> Outcome {
    let mut model: HashMap<(EntityKind, Uuid), EntityState> = HashMap::new();
    let mut book = ConflictBook::default();
    for (_, item) in log {
        match item {
            Incoming::Change(c) => {
                let current = model.get(&(c.entity, c.entity_id));
                if let Some(merged) = merge(current, c) {
                    book.record(c.entity_id, &merged.conflict_ops);
                    model.insert((c.entity, c.entity_id), merged.state);
                }
            }
            Incoming::Snapshot(s) => {
                model.entry((s.kind, s.id)).or_insert_with(|| s.clone());
            }
            Incoming::Evict { .. } => {}
        }
    }
    let expected: BTreeSet<(Uuid, String, Hlc)> =
        book.entries.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
    let read = world.server.storage().read().map_err(ctx("server read"))?;
    let mut on_server = BTreeSet::new();
    let entity_ids: BTreeSet<Uuid> = model.keys().map(|(_, id)| *id).collect();
    for id in &entity_ids {
        for c in read.conflicts(*id).map_err(ctx("conflicts"))? {
            if c.lost.is_some() {
                on_server.insert((c.entity_id, c.field.clone(), c.hlc));
            }
        }
    }
    check!(
        on_server == expected,
        "conflicts: the server's differ from a replay of its log: server-only {:?}, replay-only {:?}",
        on_server.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&on_server).collect::<Vec<_>>()
    );
    for d in world.devices.iter().filter(|d| !d.disturbed) {
        device_conflicts_are_a_replay(world, d, &*read)?;
    }
    Ok(())
}

fn device_conflicts_are_a_replay(world: &World, d: &Device, read: &dyn sync_server::storage::ReadTx) -> Outcome {
    let scope = LogScope { user_id: d.t.user_id, reach: reach_of_user(&world.server, d.t.user_id)? };
    let stream = read.log_page(&scope, 0, u32::MAX).map_err(ctx("device log"))?;
    let mut held: HashMap<(EntityKind, Uuid), EntityState> = HashMap::new();
    let mut book = ConflictBook::default();
    for entry in &stream {
        match &entry.item {
            Incoming::Change(c) => {
                if let Some(merged) = merge(held.get(&(c.entity, c.entity_id)), c) {
                    book.record(c.entity_id, &merged.conflict_ops);
                    held.insert((c.entity, c.entity_id), merged.state);
                }
            }
            Incoming::Snapshot(s) => {
                held.insert((s.kind, s.id), s.clone());
            }
            Incoming::Evict { entity, entity_id, .. } => {
                held.remove(&(*entity, *entity_id));
                book.entries.retain(|(id, _, _), _| id != entity_id);
                if *entity == EntityKind::Case {
                    let records: Vec<(EntityKind, Uuid)> =
                        held.iter().filter(|(_, s)| s.get_id("case_id") == Some(*entity_id)).map(|(k, _)| *k).collect();
                    for key in records {
                        held.remove(&key);
                        book.entries.retain(|(id, _, _), _| *id != key.1);
                    }
                }
            }
        }
    }
    let replayed: BTreeSet<(Uuid, String, Hlc)> =
        book.entries.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
    let local: BTreeSet<(Uuid, String, Hlc)> = d
        .store
        .open_conflicts()
        .map_err(ctx("open conflicts"))?
        .into_iter()
        .map(|c| (c.entity_id, c.field, c.lost_hlc))
        .collect();
    check!(
        local == replayed,
        "conflicts: {}'s differ from a replay of its stream: device-only {:?}, replay-only {:?}",
        d.name,
        local.difference(&replayed).collect::<Vec<_>>(),
        replayed.difference(&local).collect::<Vec<_>>()
    );
    Ok(())
}

/// Every signed closure verifies on every device holding it.
fn seals_verify(world: &World) -> Outcome {
    for d in &world.devices {
        for case in d.store.list(EntityKind::Case, None).map_err(ctx("cases"))? {
            if case.get_enum::<Stage>("stage") != Some(Stage::Closed) {
                continue;
            }
            let records = StateView::case_records(&d.store, case.id).map_err(ctx("case records"))?;
            let decision = domain::rules::latest_decision(&records)
                .ok_or_else(|| Failure(format!("seals: {}: closed case {} without a decision", d.name, case.id)))?;
            let supervisor = decision.get_id("supervisor_id").unwrap_or_default();
            let keys = StateView::entity(&d.store, EntityKind::User, supervisor)
                .ok()
                .flatten()
                .and_then(|u| u.to_typed::<domain::org::User>().ok())
                .map(|u| u.signing_keys)
                .unwrap_or_default();
            let seal = signoff::check_seal(decision, &case, &records, &keys);
            check!(seal.is_ok(), "seals: {}: closed case {} seal {seal:?}", d.name, case.id);
        }
    }
    Ok(())
}
