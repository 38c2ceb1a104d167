//! A deterministic simulation of sync: six devices and the server, in one process, on real
//! SQLite files (the server's on the run's backend: PostgreSQL with `SHEGONG_TEST_BACKEND=postgres`,
//! `test_support::backend`). Random edits on overlapping records; replies dropped, duplicated, stale or cut
//! short; partitions; device restarts; crashes halfway through applying a page; clocks ±24 h
//! wrong; forged changes from a tampered client. And the faults of an unlucky station: power loss
//! (a laptop's files back at its last synced state), a laptop image cloned after sign-in, short
//! sessions whose refresh reply is lost, writes while a round runs, recipients transferred and
//! users moved or deactivated, a burst of long notes behind a proxy with a small body limit,
//! clocks at year 9999 or 1970 and forged stamps at the counter's limit, a server restored from a
//! backup, older and newer clients.
//!
//! What must hold (each failure names the invariant it broke):
//! - **The model.** Every `Store::record` result is kept. Every change that passed the local
//!   rules ends accepted or refused, and refused only for a reason its edit allows (see
//!   `model::allowed_refusals`); nothing typed is lost but what a fault destroyed on purpose.
//! - **Replay.** The server's state equals a replay of its log with `domain::merge`, and every
//!   snapshot in the log is the replayed state where it stands (or, for a scope move, the state
//!   the change right after it makes).
//! - **No unexpected repair.** A round repairs a station only when a fault that diverges a device
//!   (power loss, a clone, a restored server, a user's scope shrinking) was injected, and one
//!   repair is enough: the next comparison matches.
//! - **Sessions.** No device is asked to sign in again unless a fault calls for it (a clone's
//!   copied session, a restored server, a deactivated user): a lost refresh reply never does.
//! - **Liveness.** Once the faults stop, at most `HEAL_ROUNDS` rounds per device bring every
//!   device to quiet: outbox empty, nothing more to pull, checksums compared and equal.
//! - **Convergence and scope.** Each device holds exactly what the server says its user may see;
//!   conflicts are those of a replay; every seal verifies.
//!
//! Seeded and replayable: `SHEGONG_SIM_SEED=N` runs one seed, `SHEGONG_SIM_SEEDS=K` runs K seeds
//! (default `DEFAULT_SEEDS`) from `SHEGONG_SIM_FIRST_SEED` (default 1), `SHEGONG_SIM_STEPS` sets the length of each scenario,
//! `SHEGONG_SIM_WITHOUT=power_loss,clone,...` switches fault families off (see [`Family`]), and
//! `SHEGONG_SIM_VERBOSE=1` narrates, `SHEGONG_SIM_SURVEY=1` runs every seed without shrinking
//! and lists the invariants broken. A failing seed is shrunk (delta debugging over its
//! operations) to a minimal scenario, printed with the replay command.

mod sync_simulation {
    pub mod invariants;
    pub mod model;
    pub mod transport;
    pub mod world;
}

use sync_simulation::world::World;
// The modules name each other as `crate::model`, `crate::world`, ...
#[allow(unused_imports)]
use sync_simulation::{invariants, model, transport, world};

/// Seeds run by default (CI); `SHEGONG_SIM_SEEDS` overrides.
const DEFAULT_SEEDS: u64 = 200;
/// Operations per scenario by default; `SHEGONG_SIM_STEPS` overrides.
const DEFAULT_STEPS: u64 = 200;
/// Rounds per device after the faults stop within which every device must be quiet.
pub const HEAL_ROUNDS: usize = 5;

/// Families of faults, each switched on by its constant below and off by naming it in
/// `SHEGONG_SIM_WITHOUT`. A family whose fix has not landed stays on: its failure is the news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// A device's files rolled back to its last synced state (power loss, a restored backup).
    PowerLoss,
    /// A second laptop starts from a copy of another's files, session included.
    Clone,
    /// Access tokens of one hour, refreshed as they expire; some refresh replies are lost.
    ShortTokens,
    /// The user records on the app's own connection while a round runs (between push and pull).
    WriteDuringRound,
    /// Recipients transferred between stations; users moved to another station, deactivated and
    /// reactivated by the administrator.
    ScopeChanges,
    /// A hundred 2,000-character notes at once, through a proxy that takes 512 KiB per request.
    LargeBatches,
    /// Device clocks at year 9999 or 1970; stamps pushed with counter 0xFFFFF or the largest millis.
    ExtremeClocks,
    /// The server's files restored from a backup taken earlier in the scenario.
    ServerRestore,
    /// A first-release client (schema 1, fewer fields) and a newer one (unknown fields).
    OlderClient,
}

/// Which families are on. Every one is on: the lead sees a family fail until its fix lands.
pub const FAMILIES: [(Family, &str, bool); 9] = [
    (Family::PowerLoss, "power_loss", true),
    (Family::Clone, "clone", true),
    (Family::ShortTokens, "short_tokens", true),
    (Family::WriteDuringRound, "write_during_round", true),
    (Family::ScopeChanges, "scope_changes", true),
    (Family::LargeBatches, "large_batches", true),
    (Family::ExtremeClocks, "extreme_clocks", true),
    (Family::ServerRestore, "server_restore", true),
    (Family::OlderClient, "older_client", true),
];

pub fn enabled(family: Family) -> bool {
    static WITHOUT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let without = WITHOUT.get_or_init(|| std::env::var("SHEGONG_SIM_WITHOUT").unwrap_or_default());
    FAMILIES.iter().any(|(f, name, on)| *f == family && *on && !without.split(',').any(|w| w.trim() == *name))
}

/// `SHEGONG_SIM_VERBOSE=1` narrates each scenario (what was recorded or refused, a summary).
pub fn verbose() -> bool {
    NARRATE.load(std::sync::atomic::Ordering::Relaxed) && std::env::var_os("SHEGONG_SIM_VERBOSE").is_some()
}

/// Off while shrinking: the narration is of a single seed's run, and of the minimal scenario.
static NARRATE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn narrate(on: bool) {
    NARRATE.store(on, std::sync::atomic::Ordering::Relaxed);
}

// ---------------------------------------------------------------------------------------------
// Operations: generated from the seed up front, so a failing scenario can be shrunk.

pub const DEVICES: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The request never reaches the server.
    DropRequest,
    /// The server commits, the reply is lost.
    DropReply,
    /// The request arrives twice; the second reply is the one seen.
    Duplicate,
    /// The reply to an earlier request arrives instead of this one's.
    Stale,
    /// The push reply is cut after this many answers, and the device restarts.
    CutReply(u8),
    /// The device crashes halfway through applying a pulled page, and restarts.
    CrashMidApply,
    /// The access token has expired (or expires during the round) and the server's reply to the
    /// refresh is lost: the server has used the refresh token, the device never saw the new one.
    LoseRefreshReply,
    /// The user records an edit on the app's connection between the round's push and its pull.
    WriteDuringRound {
        pick: u16,
        value: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edit {
    NewRecipient,
    EditRecipient,
    NewHousehold,
    EditHousehold,
    Visit,
    OpenCase,
    /// Whatever the case needs next: its stage's record, the move on, an evaluation, closure.
    Advance,
    MoveStage,
    Decide,
    Reassign,
    Reopen,
    EditCase,
    /// A deputy head transfers a recipient (without open cases) to the other station.
    Transfer,
    /// A hundred 2,000-character notes in one go.
    LongNotes,
    /// A tampered client pushes a change its user may not make.
    Forge,
    /// A modified client pushes a valid edit with an extreme stamp (counter 0xFFFFF, or the
    /// largest millis the text form holds).
    ForgeStamp,
    /// A first-release client (schema 1, fewer fields) or a newer one (unknown fields) pushes a
    /// valid visit from the user's second laptop.
    OtherClientVersion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockJump {
    Year9999,
    Year1970,
    /// Back to the device's usual clock.
    Back,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// A social worker moves to the other station (with its service point).
    MoveUser {
        dev: u8,
    },
    SetActive {
        dev: u8,
        active: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimOp {
    Write {
        dev: u8,
        edit: Edit,
        pick: u16,
        value: u16,
    },
    Sync {
        dev: u8,
        fault: Fault,
    },
    Restart {
        dev: u8,
    },
    Partition {
        dev: u8,
        online: bool,
    },
    Tick {
        ms: u32,
    },
    /// The device's files go back to what they were after its last successful round.
    PowerLoss {
        dev: u8,
    },
    /// A new laptop starts from a copy of this one's files.
    CloneDevice {
        dev: u8,
    },
    ClockJump {
        dev: u8,
        to: ClockJump,
    },
    Admin(AdminAction),
    ServerBackup,
    ServerRestore,
}

/// What each device's user mostly does, by the device's index (see `World::template`): three
/// workers of station A, its deputy head, the supervisor of A and B, a worker of B.
fn repertoire(dev: usize) -> Vec<(Edit, u32)> {
    let on = |family, weight| if enabled(family) { weight } else { 0 };
    let worker = vec![
        (Edit::NewRecipient, 6),
        (Edit::EditRecipient, 8),
        (Edit::NewHousehold, 2),
        (Edit::EditHousehold, 3),
        (Edit::Visit, 6),
        (Edit::OpenCase, 2),
        (Edit::Advance, 40),
        (Edit::MoveStage, 2),
        (Edit::EditCase, 4),
        (Edit::Forge, 3),
        (Edit::LongNotes, on(Family::LargeBatches, 1)),
        (Edit::ForgeStamp, on(Family::ExtremeClocks, 1)),
        (Edit::OtherClientVersion, on(Family::OlderClient, 2)),
    ];
    let deputy = vec![
        (Edit::EditRecipient, 6),
        (Edit::EditHousehold, 2),
        (Edit::OpenCase, 3),
        (Edit::Advance, 15),
        (Edit::Reassign, 4),
        (Edit::Reopen, 2),
        (Edit::EditCase, 4),
        (Edit::Forge, 2),
        (Edit::Transfer, on(Family::ScopeChanges, 2)),
    ];
    let supervisor = vec![(Edit::Decide, 10), (Edit::Reopen, 1), (Edit::Forge, 2)];
    match dev {
        3 => deputy,
        4 => supervisor,
        _ => worker,
    }
}

fn pick_edit(rng: &mut StdRng, dev: usize) -> Edit {
    let edits = repertoire(dev);
    let total: u32 = edits.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (e, w) in &edits {
        if roll < *w {
            return *e;
        }
        roll -= w;
    }
    edits[0].0
}

pub fn generate(seed: u64, steps: usize) -> Vec<SimOp> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut faults = vec![
        Fault::None,
        Fault::None,
        Fault::None,
        Fault::DropRequest,
        Fault::DropReply,
        Fault::Duplicate,
        Fault::Stale,
        Fault::CutReply(1),
        Fault::CrashMidApply,
    ];
    if enabled(Family::ShortTokens) {
        faults.push(Fault::LoseRefreshReply);
    }
    if enabled(Family::WriteDuringRound) {
        faults.push(Fault::WriteDuringRound { pick: 0, value: 0 });
    }
    // Device numbers past the first six name clones, when there are any (see `World::device`).
    let device = |rng: &mut StdRng| rng.gen_range(0..(DEVICES as u8 + 2));
    (0..steps)
        .map(|_| {
            let dev = device(&mut rng);
            match rng.gen_range(0..1000) {
                0..=559 => {
                    let edit = pick_edit(&mut rng, dev as usize % DEVICES);
                    SimOp::Write { dev, edit, pick: rng.r#gen(), value: rng.r#gen() }
                }
                560..=809 => {
                    let fault = match faults[rng.gen_range(0..faults.len())] {
                        Fault::CutReply(_) => Fault::CutReply(rng.gen_range(0..4)),
                        Fault::WriteDuringRound { .. } => {
                            Fault::WriteDuringRound { pick: rng.r#gen(), value: rng.r#gen() }
                        }
                        other => other,
                    };
                    SimOp::Sync { dev, fault }
                }
                810..=859 => SimOp::Partition { dev, online: rng.gen_bool(0.6) },
                860..=889 => SimOp::Restart { dev },
                890..=899 if enabled(Family::PowerLoss) => SimOp::PowerLoss { dev },
                900..=901 if enabled(Family::Clone) => SimOp::CloneDevice { dev: dev % DEVICES as u8 },
                902..=911 if enabled(Family::ExtremeClocks) => {
                    let to = [ClockJump::Year9999, ClockJump::Year1970, ClockJump::Back, ClockJump::Back]
                        [rng.gen_range(0..4)];
                    SimOp::ClockJump { dev, to }
                }
                912..=915 if enabled(Family::ScopeChanges) => {
                    // The workers: w1, w2, w3 of station A and wb of B.
                    let worker = [0u8, 1, 2, 5][rng.gen_range(0..4)];
                    SimOp::Admin(AdminAction::MoveUser { dev: worker })
                }
                916..=921 if enabled(Family::ScopeChanges) => {
                    let who = rng.gen_range(0..DEVICES as u8);
                    SimOp::Admin(AdminAction::SetActive { dev: who, active: rng.gen_bool(0.5) })
                }
                922..=924 if enabled(Family::ServerRestore) => SimOp::ServerBackup,
                925..=926 if enabled(Family::ServerRestore) => SimOp::ServerRestore,
                _ => SimOp::Tick { ms: rng.gen_range(1..3_600_000) },
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Failures, running seeds, and shrinking a failure.

/// A broken invariant, named in its message.
#[derive(Debug)]
pub struct Failure(pub String);

pub type Outcome = Result<(), Failure>;

pub fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(message.into()))
}

/// Turns any error into a failure naming what was being done.
pub fn ctx<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Failure + '_ {
    move |e| Failure(format!("{what}: {e}"))
}

#[macro_export]
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return $crate::fail(format!($($msg)+));
        }
    };
}

fn run_scenario(seed: u64, ops: &[SimOp]) -> Outcome {
    let mut world = World::new(seed);
    world.run(ops)
}

/// The invariant a failure names: its message up to the first colon.
fn invariant(failure: &Failure) -> &str {
    failure.0.split(':').next().unwrap_or_default()
}

/// Delta debugging: drop chunks of operations while the scenario still fails the same way
/// (breaks the same invariant).
fn shrink(seed: u64, mut ops: Vec<SimOp>) -> (Vec<SimOp>, Failure) {
    let mut failure = match run_scenario(seed, &ops) {
        Err(f) => f,
        Ok(()) => return (ops, Failure("no longer fails".into())),
    };
    let broken = invariant(&failure).to_owned();
    let mut chunk = ops.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        let mut shrunk = false;
        while start < ops.len() {
            let mut candidate = ops.clone();
            candidate.drain(start..(start + chunk).min(ops.len()));
            match run_scenario(seed, &candidate) {
                Err(f) if invariant(&f) == broken => {
                    ops = candidate;
                    failure = f;
                    shrunk = true;
                }
                _ => start += chunk,
            }
        }
        if !shrunk {
            chunk /= 2;
        }
    }
    (ops, failure)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn devices_converge_and_lose_nothing_under_faults() {
    let steps = env_number("SHEGONG_SIM_STEPS", DEFAULT_STEPS) as usize;
    let seeds: Vec<u64> = match std::env::var("SHEGONG_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => {
            let first = env_number("SHEGONG_SIM_FIRST_SEED", 1);
            (first..first + env_number("SHEGONG_SIM_SEEDS", DEFAULT_SEEDS)).collect()
        }
    };
    let without = std::env::var("SHEGONG_SIM_WITHOUT").map(|w| format!("SHEGONG_SIM_WITHOUT={w} ")).unwrap_or_default();
    let started = std::time::Instant::now();
    // `SHEGONG_SIM_SURVEY=1`: run every seed, shrink nothing, and list the invariants broken.
    let survey = std::env::var_os("SHEGONG_SIM_SURVEY").is_some();
    let mut broken: Vec<(u64, String)> = Vec::new();
    for seed in &seeds {
        let seed = *seed;
        let ops = generate(seed, steps);
        narrate(seeds.len() == 1);
        let outcome = run_scenario(seed, &ops);
        if survey {
            if let Err(failure) = outcome {
                let what: String =
                    failure.0.lines().take(3).collect::<Vec<_>>().join(" | ").chars().take(400).collect();
                eprintln!("seed {seed} failed: {what}");
                broken.push((seed, what));
            }
            let done = seed - seeds[0] + 1;
            if done.is_multiple_of(100) {
                eprintln!("{done} seeds in {:.0} s, {} failed", started.elapsed().as_secs_f64(), broken.len());
            }
            continue;
        }
        if let Err(failure) = outcome {
            narrate(false);
            let (minimal, last) = shrink(seed, ops);
            if std::env::var_os("SHEGONG_SIM_VERBOSE").is_some() {
                eprintln!("--- the minimal scenario, narrated ---");
                narrate(true);
                let again = run_scenario(seed, &minimal);
                eprintln!("--- the minimal scenario again: {:?}", again.err().map(|f| f.0));
            }
            panic!(
                "seed {seed} failed: {}\nshrunk to {} operations (failing with: {}):\n{:#?}\n\
                 replay: {without}SHEGONG_SIM_SEED={seed} SHEGONG_SIM_STEPS={steps} cargo test -p shegong-tests --test sync_simulation",
                failure.0,
                minimal.len(),
                last.0,
                minimal
            );
        }
    }
    if !broken.is_empty() {
        let list: Vec<String> = broken.iter().map(|(seed, what)| format!("seed {seed}: {what}")).collect();
        panic!("{} of {} seeds failed:\n{}", broken.len(), seeds.len(), list.join("\n"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!("{} seeds of {steps} steps in {elapsed:.1} s ({:.1} seeds/s)", seeds.len(), seeds.len() as f64 / elapsed);
}

/// Runs fixed operations in the world of `seed` (its clocks), and says which invariant broke.
fn scenario(seed: u64, ops: &[SimOp]) {
    if let Err(failure) = run_scenario(seed, ops) {
        panic!("{}\nscenario: {ops:#?}", failure.0);
    }
}

/// A push whose answers are cut no longer stops the round: the pull that follows brings the
/// device's own change back while it still waits for its answer. That must not open a
/// conflict of the change with itself (seed 12 of the simulation, shrunk).
#[test]
fn a_cut_push_reply_then_the_pull_opens_no_conflict() {
    scenario(
        12,
        &[
            SimOp::Write { dev: 0, edit: Edit::NewRecipient, pick: 25896, value: 35309 },
            SimOp::Sync { dev: 0, fault: Fault::CutReply(0) },
        ],
    );
}

/// A laptop image cloned after sign-in: both copies hold the same session and device id. Each
/// must end a device of its own, signed in and in sync, with neither signing the other out
/// (seed 3 of the simulation, shrunk).
#[test]
fn a_cloned_laptop_becomes_a_device_of_its_own() {
    scenario(
        3,
        &[
            SimOp::Tick { ms: 1_653_844 },
            SimOp::CloneDevice { dev: 1 },
            SimOp::Tick { ms: 887_198 },
            SimOp::Write { dev: 2, edit: Edit::NewHousehold, pick: 738, value: 37141 },
            SimOp::Tick { ms: 1_365_389 },
        ],
    );
}

/// A server restored from a backup that predates a user's move: a supervisor's laptop, which
/// had pulled the move, repairs its stations once and then matches the server (seed 5 of the
/// simulation at 300 steps, shrunk).
#[test]
fn after_a_server_restore_one_repair_is_enough() {
    scenario(
        5,
        &[
            SimOp::ServerBackup,
            SimOp::Admin(AdminAction::MoveUser { dev: 1 }),
            SimOp::Sync { dev: 4, fault: Fault::None },
            SimOp::ServerRestore,
        ],
    );
}

/// The server's own changes after a restore from a backup carry sequence numbers of its device
/// that it had used before the restore, for other changes: a device that pulled those must
/// go on pulling (seed 144 of the simulation, shrunk).
#[test]
fn a_restored_server_reusing_its_own_numbers_stops_no_pull() {
    scenario(
        144,
        &[
            SimOp::ServerBackup,
            SimOp::Admin(AdminAction::MoveUser { dev: 5 }),
            SimOp::Sync { dev: 4, fault: Fault::None },
            SimOp::ServerRestore,
            SimOp::Admin(AdminAction::SetActive { dev: 3, active: false }),
        ],
    );
}

/// A laptop loses power after the server took its last push, records again under the same
/// sequence number, and is cloned: both copies become devices of their own and send the same
/// unsent change. The server must take one change id once (seed 919 of the simulation,
/// shrunk).
#[test]
fn a_change_sent_by_a_laptop_and_its_clone_is_logged_once() {
    scenario(
        919,
        &[
            SimOp::Write { dev: 1, edit: Edit::NewRecipient, pick: 34765, value: 37709 },
            SimOp::Sync { dev: 1, fault: Fault::None },
            SimOp::Write { dev: 1, edit: Edit::EditRecipient, pick: 20425, value: 19562 },
            SimOp::Sync { dev: 1, fault: Fault::DropReply },
            SimOp::PowerLoss { dev: 1 },
            SimOp::Write { dev: 1, edit: Edit::EditRecipient, pick: 7236, value: 19074 },
            SimOp::CloneDevice { dev: 1 },
        ],
    );
}

/// Changes refused by the server (here: dates in the server's future, from a laptop whose clock
/// jumped to 9999) are undone exactly: the laptop then matches the server without a repair
/// (seed 2770 of the simulation, shrunk).
#[test]
fn refused_changes_are_undone_exactly() {
    scenario(
        2770,
        &[
            SimOp::Tick { ms: 1_386_823 },
            SimOp::Write { dev: 1, edit: Edit::NewRecipient, pick: 28154, value: 34421 },
            SimOp::ClockJump { dev: 3, to: ClockJump::Year9999 },
            SimOp::Write { dev: 1, edit: Edit::OpenCase, pick: 22015, value: 65313 },
            SimOp::Sync { dev: 1, fault: Fault::Duplicate },
            SimOp::Sync { dev: 3, fault: Fault::CrashMidApply },
            SimOp::Write { dev: 1, edit: Edit::Advance, pick: 46851, value: 13074 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 16843, value: 23232 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 25582, value: 13626 },
            SimOp::Tick { ms: 2_573_881 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 26860, value: 13452 },
            SimOp::Sync { dev: 1, fault: Fault::WriteDuringRound { pick: 41404, value: 18641 } },
            SimOp::Sync { dev: 1, fault: Fault::CrashMidApply },
            SimOp::Sync { dev: 3, fault: Fault::LoseRefreshReply },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 36674, value: 57029 },
        ],
    );
}

/// A laptop cloned after sign-in becomes a new device and has a change accepted under its new
/// id; then the server is restored from a backup taken before all of it: the laptop must send
/// that change again (seed 175 of the simulation, shrunk).
#[test]
fn a_new_device_sends_again_what_a_restored_server_lost() {
    scenario(
        175,
        &[
            SimOp::ServerBackup,
            SimOp::Tick { ms: 1_986_566 },
            SimOp::Write { dev: 6, edit: Edit::NewHousehold, pick: 408, value: 28032 },
            SimOp::CloneDevice { dev: 1 },
            SimOp::Sync { dev: 0, fault: Fault::LoseRefreshReply },
            SimOp::Write { dev: 6, edit: Edit::NewRecipient, pick: 33162, value: 59034 },
            SimOp::Sync { dev: 1, fault: Fault::CutReply(1) },
            SimOp::Tick { ms: 2_812_296 },
            SimOp::Write { dev: 1, edit: Edit::EditHousehold, pick: 22464, value: 4432 },
            SimOp::Sync { dev: 1, fault: Fault::None },
            SimOp::ServerRestore,
        ],
    );
}

/// A laptop's change is accepted, its files go back in time (power loss), it records again under
/// the same number and becomes a new device; the change it had sent comes back by pull under its
/// old id. The server is then restored from a backup from before all of it: the laptop must
/// send that change again too (seed 280 of the simulation, shrunk).
#[test]
fn a_laptop_that_became_a_new_device_after_a_power_loss_sends_again_what_a_restored_server_lost() {
    scenario(
        280,
        &[
            SimOp::Write { dev: 7, edit: Edit::NewRecipient, pick: 39148, value: 15432 },
            SimOp::ServerBackup,
            SimOp::Write { dev: 5, edit: Edit::NewRecipient, pick: 56131, value: 7335 },
            SimOp::Admin(AdminAction::MoveUser { dev: 1 }),
            SimOp::Sync { dev: 5, fault: Fault::None },
            SimOp::Sync { dev: 7, fault: Fault::CrashMidApply },
            SimOp::Write { dev: 7, edit: Edit::EditRecipient, pick: 22980, value: 264 },
            SimOp::Sync { dev: 7, fault: Fault::Stale },
            SimOp::PowerLoss { dev: 7 },
            SimOp::Write { dev: 1, edit: Edit::EditRecipient, pick: 16716, value: 14622 },
            SimOp::Sync { dev: 1, fault: Fault::Duplicate },
            SimOp::ServerRestore,
        ],
    );
}

/// A cloned laptop's change meets a number its twin used; the clone becomes a new device, and
/// the change is refused (its user moved to another station) and dropped with the old station's
/// data in the same round. A server restored from a backup then forgets that answer: the
/// refusal the device showed still counts (seed 3041 of the simulation, shrunk).
#[test]
fn a_refusal_shown_by_a_clone_that_became_a_new_device_outlives_a_server_restore() {
    scenario(
        3041,
        &[
            SimOp::CloneDevice { dev: 1 },
            SimOp::Write { dev: 6, edit: Edit::NewHousehold, pick: 46852, value: 37529 },
            SimOp::Write { dev: 1, edit: Edit::NewRecipient, pick: 36208, value: 16773 },
            SimOp::Admin(AdminAction::MoveUser { dev: 1 }),
            SimOp::ServerBackup,
            SimOp::Sync { dev: 1, fault: Fault::None },
            SimOp::Sync { dev: 6, fault: Fault::None },
            SimOp::ServerRestore,
        ],
    );
}

/// A deputy's laptop clock jumps to 9999: its stage move is refused (a date in the future), and
/// a later move made on top of it (its clock now at 1970, its stamps still from 9999) is taken
/// with a clamped stamp. Both sides keep the refused change's own stamp as the later move's
/// base: the laptop then matches the server without a repair (seed 4897 of the simulation,
/// shrunk).
#[test]
fn a_refused_clamped_change_leaves_the_base_of_the_next_one_as_made() {
    scenario(
        4897,
        &[
            SimOp::ClockJump { dev: 3, to: ClockJump::Year9999 },
            SimOp::Write { dev: 7, edit: Edit::NewRecipient, pick: 63864, value: 25868 },
            SimOp::Write { dev: 1, edit: Edit::OpenCase, pick: 2510, value: 28501 },
            SimOp::Sync { dev: 1, fault: Fault::None },
            SimOp::Sync { dev: 3, fault: Fault::CrashMidApply },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 25857, value: 44777 },
            SimOp::Write { dev: 1, edit: Edit::Advance, pick: 50901, value: 43359 },
            SimOp::Write { dev: 7, edit: Edit::Advance, pick: 8714, value: 60224 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 20623, value: 1314 },
            SimOp::ClockJump { dev: 3, to: ClockJump::Year1970 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 34857, value: 23186 },
            SimOp::Write { dev: 3, edit: Edit::Advance, pick: 35284, value: 46173 },
        ],
    );
}

#[test]
fn the_scenario_is_the_same_for_the_same_seed() {
    assert_eq!(generate(7, 50), generate(7, 50));
    assert_ne!(generate(7, 50), generate(8, 50));
}

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
