//! Push: a device's outbox changes, processed in its dense sequence order, each answered on its
//! own (accepted, rejected, or not yet: a gap), all in one durable transaction — shared with
//! the pushes that arrived at the same time, each in a savepoint of its own (`group_commit.rs`).
//!
//! - A change the server has already processed gets its stored answer again: a lost reply costs
//!   nothing and nothing is processed twice.
//! - A change after a gap is not processed: the answer names the sequence number expected.
//! - A rejected change is stored with its payload and never blocks the ones after it.

use chrono::{Duration, NaiveDate};
use domain::change::Change;
use domain::entity::{EntityKind, FieldType};
use domain::hlc::{Hlc, HlcError, check_incoming};
use domain::policy::Actor;
use domain::rules::{CheckError, Rejection, RejectionInfo, check_change};
use protocol::{ApiError, PushOutcome, PushRequest, PushResponse, PushResult, limits};

use std::time::Instant;

use crate::auth::token_hash;
use crate::batch::Batch;
use crate::error::{check_client_schema, client_too_new, client_too_old, internal, too_large, unauthorized};
use crate::group_commit::Lost;
use crate::scope::{actor_of, may_read};
use crate::server::{Server, authenticate_push};
use crate::storage::{DeviceRecord, ReadAhead, RejectedChange, StorageError, StoredAnswer};

/// The rejection of a change that names another device than the one signed in.
pub(crate) fn forged_device() -> RejectionInfo {
    RejectionInfo {
        code: "forged_device".into(),
        message_zh: "修改记录的设备与登录的设备不符".into(),
        message_en: "the change claims another device than the one signed in".into(),
        field: None,
    }
}

/// The rejection of a change whose stamp no clock can make.
fn bad_stamp(error: &HlcError) -> RejectionInfo {
    RejectionInfo {
        code: error.code().into(),
        message_zh: error.message_zh(),
        message_en: format!("时间戳无效 / the change's clock stamp is not valid: {error}"),
        field: None,
    }
}

/// The change with every stamp out of bounds replaced by the smallest stamp of its device, so
/// the refused change can be stored (and read back) with the rest of its payload.
fn without_bad_stamps(mut change: Change) -> Change {
    let fix = |stamp: &mut Hlc| {
        if !stamp.is_valid() {
            *stamp = Hlc::new(0, 0, stamp.device);
        }
    };
    fix(&mut change.hlc);
    for write in change.fields.values_mut() {
        write.base.iter_mut().chain(write.resolves.iter_mut()).for_each(fix);
    }
    change
}

pub(crate) fn push(
    server: &Server,
    bearer: &str,
    client_schema: u32,
    request: PushRequest,
) -> Result<PushResponse, ApiError> {
    check_client_schema(client_schema)?;
    // Too large is answered before the token is looked at, as before.
    check_push_size(&request)?;
    // A first look without the write lock, so requests with bad tokens never queue behind it
    // (one lookup: `authenticate_push` reads the token alone).
    authenticate_push(&*server.storage().read_one()?, bearer, server.now())?;
    let deadline = Instant::now() + server.settings().request_timeout;
    let weight = request.changes.len();
    let job = PushJob { bearer: bearer.to_owned(), request, span: tracing::Span::current() };
    let pushed = server.push_queue().submit(job, weight, deadline, |jobs| push_group(server, jobs)).map_err(
        |lost| match lost {
            Lost::Dropped => internal("a push's group ended without an answer"),
            Lost::TimedOut { queued } => {
                tracing::warn!(queued, "a push waited for its group past the request timeout");
                push_busy()
            }
        },
    )??;
    pushed.answered(server);
    Ok(pushed.response)
}

/// A push waiting for its group (`group_commit.rs`), its token checked once already.
pub(crate) struct PushJob {
    bearer: String,
    request: PushRequest,
    /// Its request's span: what is logged while the leader processes it names its own request.
    span: tracing::Span,
}

/// A push processed in a batch, not yet answered: what its answer and the metrics need.
pub(crate) struct Pushed {
    pub response: PushResponse,
    /// How many of the changes had been answered before (a resend, a bundle relayed again).
    pub answered_before: usize,
    user_id: domain::Id,
    device_id: domain::Id,
    /// The positions in `response.results` of the answers this push decided (a resend's stored
    /// answer is not counted twice).
    decided: Vec<usize>,
}

impl Pushed {
    /// Counts and logs the answers, once they are durable.
    fn answered(&self, server: &Server) {
        let results = &self.response.results;
        server.metrics().changes_answered(self.decided.iter().filter_map(|&n| results.get(n)).map(|r| &r.outcome));
        tracing::info!(user = %self.user_id, device = %self.device_id, sent = results.len(),
            decided = self.decided.len(), next_expected_seq = self.response.next_expected_seq, "push answered");
    }
}

/// Runs a group of pushes in one write transaction, each inside a savepoint: a push that fails
/// (a token revoked meanwhile, a client too old, a storage error) is rolled back alone and
/// answered with its error; the others are committed together, once, before any is answered.
/// If the transaction itself cannot be opened, kept or committed, nothing was acknowledged and
/// every push of the group gets the error.
///
/// On a backend that sends writes ahead of their answers (PostgreSQL), the group is first run
/// without reading them at each push's end ([`crate::storage::WriteTx::defer_write_failures`]), which saves a
/// round trip per push while every other writer waits. A failure is then no longer one push's:
/// if anything fails (a push, a write, the commit), nothing of that run is kept and the group
/// runs again, each push's writes answered at its end, so a failure is its own push's alone.
fn push_group(server: &Server, jobs: Vec<PushJob>) -> Vec<Result<Pushed, ApiError>> {
    let (answers, deferred) = run_group(server, &jobs, jobs.len() > 1);
    if deferred && answers.iter().any(Result::is_err) {
        tracing::debug!(pushes = jobs.len(), "a group failed with its writes' failures deferred; running it again");
        return run_group(server, &jobs, false).0;
    }
    answers
}

/// [`push_group`]'s one run, with the writes' failures deferred if `defer` and the backend can;
/// returns the answers and whether they were.
fn run_group(server: &Server, jobs: &[PushJob], defer: bool) -> (Vec<Result<Pushed, ApiError>>, bool) {
    let count = jobs.len();
    let all_fail = |error: ApiError| (0..count).map(|_| Err(error.clone())).collect();
    let mut batch = match Batch::begin(server.storage().as_ref(), server.now()) {
        Ok(batch) => batch,
        Err(e) => return (all_fail(e.into()), false),
    };
    let deferred = defer && batch.tx.defer_write_failures();
    // What the group's pushes will look up one by one, read at once: on PostgreSQL a round trip
    // each for the whole group instead of one per push, while every other writer waits.
    let wanted = ReadAhead {
        token_hashes: jobs.iter().map(|job| token_hash(&job.bearer)).collect(),
        entities: jobs.iter().flat_map(|job| &job.request.changes).flat_map(entities_looked_up).collect(),
        change_ids: jobs.iter().flat_map(|job| &job.request.changes).map(|c| c.change_id).collect(),
    };
    if let Err(e) = batch.read().read_ahead(&wanted) {
        return (all_fail(e.into()), deferred);
    }
    let mut answers = Vec::with_capacity(count);
    for job in jobs {
        match push_in_savepoint(server, &mut batch, job) {
            Ok(answer) => answers.push(answer),
            Err(e) => return (all_fail(e.into()), deferred),
        }
    }
    // Durable before the reply: the answers above are promises.
    match batch.finish() {
        Ok(()) => {
            tracing::debug!(pushes = count, deferred, "a group of pushes committed");
            (answers, deferred)
        }
        Err(e) => (all_fail(e.into()), deferred),
    }
}

/// The entities a change's rules look up: its own, and those its fields refer to (a new
/// recipient's station and village, a visit's recipient).
fn entities_looked_up(change: &Change) -> impl Iterator<Item = (EntityKind, domain::Id)> + '_ {
    let spec = change.entity.spec();
    let referred = change.fields.iter().filter_map(move |(name, write)| match spec.field(name)?.ty {
        FieldType::Ref(kind) => Some((kind, write.value.as_str()?.parse().ok()?)),
        _ => None,
    });
    std::iter::once((change.entity, change.entity_id)).chain(referred)
}

/// One push of a group, inside its savepoint; `Err` only when the savepoint itself fails (the
/// transaction is then unusable).
fn push_in_savepoint(
    server: &Server,
    batch: &mut Batch<'_>,
    job: &PushJob,
) -> Result<Result<Pushed, ApiError>, StorageError> {
    let _span = job.span.enter();
    batch.tx.savepoint()?;
    let mark = batch.mark();
    let pushed = authenticate_push(batch.read(), &job.bearer, batch.now)
        .and_then(|token| process_push(server, batch, token.user_id, token.device_id, job.request.clone()))
        // A backend may report a failed write only here (PostgreSQL reads the answers of the
        // writes it sent ahead at the release): it is this push's failure.
        .and_then(|pushed| batch.tx.release_savepoint().map(|()| pushed).map_err(ApiError::from));
    if pushed.is_err() {
        batch.tx.rollback_to_savepoint()?;
        batch.restore(mark);
    }
    Ok(pushed)
}

/// A push that waited for its group longer than a request may take.
fn push_busy() -> ApiError {
    ApiError::new(
        protocol::codes::SERVER_BUSY,
        "服务器繁忙，请稍后再同步；已发送的修改不会丢失，重发时会得到原来的答复",
        "the server is busy; sync again later (nothing sent is lost: a resent change gets the answer it had)",
    )
}

fn check_push_size(request: &PushRequest) -> Result<(), ApiError> {
    if request.changes.len() > limits::MAX_PUSH_CHANGES {
        return Err(too_large(
            format!("一次最多发送{}条修改", limits::MAX_PUSH_CHANGES),
            format!("at most {} changes per push", limits::MAX_PUSH_CHANGES),
        ));
    }
    Ok(())
}

/// The push of device `device_id` of user `user_id` (as the server's own records have them,
/// never as a request says), processed and committed in `batch`: what a relayed bundle does once
/// its seal is checked (`bundle.rs`). Also answers how many of the changes had been answered
/// before (a resend, a bundle relayed again).
pub(crate) fn push_as(
    server: &Server,
    mut batch: Batch<'_>,
    user_id: domain::Id,
    device_id: domain::Id,
    request: PushRequest,
) -> Result<(PushResponse, usize), ApiError> {
    let pushed = process_push(server, &mut batch, user_id, device_id, request)?;
    // Durable before the reply: the answers are promises.
    batch.finish()?;
    pushed.answered(server);
    Ok((pushed.response, pushed.answered_before))
}

/// Processes the push of device `device_id` of user `user_id` inside `batch`, which the caller
/// commits (alone: [`push_as`]; with a group: [`push_group`]) before anyone is answered.
fn process_push(
    server: &Server,
    batch: &mut Batch<'_>,
    user_id: domain::Id,
    device_id: domain::Id,
    request: PushRequest,
) -> Result<Pushed, ApiError> {
    check_push_size(&request)?;
    let mut device = batch
        .read()
        .device(device_id)?
        .filter(|d| d.user_id == user_id)
        .ok_or_else(|| unauthorized("设备未登记", "this device is not registered"))?;

    // A change in a format the server cannot upgrade refuses the whole push, before anything is
    // processed: the device keeps its outbox as it is and asks the user to update.
    for change in request.changes.iter().filter(|c| c.device_seq >= device.next_seq) {
        if change.schema_version < domain::OLDEST_SUPPORTED_SCHEMA_VERSION {
            return Err(client_too_old(change.schema_version));
        }
        if change.schema_version > domain::SCHEMA_VERSION {
            return Err(client_too_new(change.schema_version));
        }
    }

    let actor = actor_of(batch.read(), user_id)?;
    // The answers the new changes may already have (sent under another device id), in one look.
    let new_ids: Vec<domain::Id> =
        request.changes.iter().filter(|c| c.device_seq >= device.next_seq).map(|c| c.change_id).collect();
    let mut answered = batch.read().answers_by_change_id(&new_ids)?;
    let latest_date = batch.now.date_naive() + Duration::days(server.settings().future_date_slack_days);
    let mut results = Vec::with_capacity(request.changes.len());
    // Which answers this push decided (a resend's stored answer is not counted twice).
    let mut decided = Vec::with_capacity(request.changes.len());
    let mut gap = false;
    let mut answered_before = 0;
    for change in request.changes {
        let device_seq = change.device_seq;
        let change_id = change.change_id;
        let outcome = if device_seq < device.next_seq {
            match batch.read().push_answer(device.id, device_seq)? {
                Some(stored) if stored.change_id == change_id => {
                    answered_before += 1;
                    results.push(PushResult { device_seq, change_id: stored.change_id, outcome: stored.outcome });
                    continue;
                }
                // Another change under a number already used: the device's database went back
                // in time or was cloned. Not a resend; nothing after it in this push is
                // processed, so the device's changes keep their order when it renumbers them.
                Some(stored) => {
                    tracing::warn!(device = %device.id, seq = device_seq, held = %stored.change_id, sent = %change_id,
                        "a device reused a sequence number");
                    gap = true;
                    PushOutcome::SequenceReused { expected: device.next_seq }
                }
                // Sequence numbers start at 1; a 0 was never processed and never will be.
                None => PushOutcome::Gap { expected: device.next_seq },
            }
        } else if gap || device_seq > device.next_seq {
            gap = true;
            PushOutcome::Gap { expected: device.next_seq }
        } else if let Some(earlier) = answered_elsewhere(batch.read(), user_id, answered.get(&change_id))? {
            // The same change sent again under another device id of the same user (a cloned
            // laptop, or one that became a new device after going back in time): it keeps the
            // answer it had and is never applied or logged twice.
            batch.tx.put_push_answer(device.id, device_seq, &StoredAnswer { change_id, outcome: earlier.clone() })?;
            device.next_seq += 1;
            answered_before += 1;
            earlier
        } else {
            let outcome = process(server, batch, &actor, &mut device, change, latest_date)?;
            let answer = StoredAnswer { change_id, outcome: outcome.clone() };
            batch.tx.put_push_answer(device.id, device_seq, &answer)?;
            // The same change id again later in this push is a resend of this one.
            answered.insert(change_id, (device.id, answer));
            device.next_seq += 1;
            decided.push(results.len());
            outcome
        };
        results.push(PushResult { device_seq, change_id, outcome });
    }
    batch.tx.put_device(&device)?;
    Ok(Pushed {
        response: PushResponse { results, next_expected_seq: device.next_seq },
        answered_before,
        user_id,
        device_id: device.id,
        decided,
    })
}

/// The answer a change id already had (`earlier`, with the device it was sent under), if it
/// came from a device of `user`. Only the same user's answers count: another user's would tell
/// what is outside this one's scope.
fn answered_elsewhere(
    read: &dyn crate::storage::ReadTx,
    user: domain::Id,
    earlier: Option<&(domain::Id, StoredAnswer)>,
) -> Result<Option<PushOutcome>, crate::storage::StorageError> {
    let Some((device_id, answer)) = earlier else { return Ok(None) };
    let same_user = read.device(*device_id)?.is_some_and(|d| d.user_id == user);
    Ok(same_user.then(|| answer.outcome.clone()))
}

/// Checks and applies one change, the next expected of its device.
fn process(
    server: &Server,
    batch: &mut Batch<'_>,
    actor: &Actor,
    device: &mut DeviceRecord,
    received: Change,
    latest_date: NaiveDate,
) -> Result<PushOutcome, ApiError> {
    if received.device_id != device.id {
        return reject(batch, actor, device, received, forged_device());
    }
    if received.author_id != actor.user_id {
        return reject(batch, actor, device, received, RejectionInfo::from(&Rejection::ForgedAuthor));
    }
    let mut change = protocol::upgrade::upgrade(received.clone()).map_err(|e| match e {
        protocol::upgrade::UpgradeError::TooOld(v) => client_too_old(v),
        protocol::upgrade::UpgradeError::TooNew(v) => client_too_new(v),
    })?;

    // A stamp from the future (a laptop clock set wrong) would win every merge for as long as
    // the clock is wrong. The server orders it by its own clock instead and tells the device.
    let mut effective_hlc = None;
    let now_millis = u64::try_from(batch.now.timestamp_millis()).unwrap_or(0);
    let max_ahead = u64::try_from(server.settings().max_clock_ahead.num_milliseconds()).unwrap_or(0);
    match check_incoming(&change.hlc, now_millis, max_ahead) {
        Ok(()) => {
            batch.observe(change.hlc);
        }
        Err(HlcError::TooFarAhead { ahead_millis }) => {
            let tick = batch.tick();
            let effective = Hlc::new(tick.millis, tick.counter, change.hlc.device);
            device.clock_skewed = true;
            device.last_skew_ms = Some(i64::try_from(ahead_millis).unwrap_or(i64::MAX));
            tracing::warn!(device = %device.id, ahead_ms = ahead_millis, "clamped a stamp from the future");
            change.hlc = effective;
            effective_hlc = Some(effective);
        }
        // A stamp no clock can make (only a modified client sends one): refused, never observed
        // nor stored as a stamp, so the server's clock and log stay writable.
        Err(bad) => return reject(batch, actor, device, without_bad_stamps(received), bad_stamp(&bad)),
    }
    // Bases and resolved stamps are only compared, never adopted; one out of bounds is refused
    // all the same, so nothing unwritable is stored.
    if let Some(bad) =
        change.fields.values().flat_map(|w| w.base.iter().chain(&w.resolves)).find_map(|stamp| stamp.check().err())
    {
        return reject(batch, actor, device, without_bad_stamps(received), bad_stamp(&bad));
    }
    // Later changes of the device name its own clamped stamps as bases; use what the server used.
    for write in change.fields.values_mut() {
        if let Some(base) = write.base {
            write.base = Some(translate(batch, device.id, base)?);
        }
        for seen in write.resolves.iter_mut() {
            *seen = translate(batch, device.id, *seen)?;
        }
    }

    match check_change(actor, &change, &batch.view(), latest_date) {
        Ok(normalized) => {
            // Only an accepted change's stamp is translated in later bases: the device learns
            // the effective stamp from the answer, and of a refused change it never does (its
            // later changes keep naming the stamp it made, and so must the server).
            if let Some(effective) = effective_hlc {
                batch.tx.put_hlc_translation(device.id, received.hlc, effective)?;
            }
            let server_seq = batch.apply(&normalized)?;
            Ok(PushOutcome::Accepted { server_seq, effective_hlc })
        }
        Err(CheckError::Rejected(rejection)) => {
            let now = batch.now;
            crate::handover::keep_if_handed_over(&mut *batch.tx, actor, device.id, &change, &rejection, now)?;
            reject(batch, actor, device, received, RejectionInfo::from(&rejection))
        }
        Err(CheckError::Lookup(e)) => Err(internal(e)),
    }
}

/// The stamp the server gave in place of `stamp`, if it clamped a change of this device that
/// had it. Looked up whatever device the stamp names: a laptop that became a new device (a
/// cloned image) sends, under its new id, changes stamped under its old one.
fn translate(batch: &Batch<'_>, device_id: domain::Id, stamp: Hlc) -> Result<Hlc, StorageError> {
    Ok(batch.read().hlc_translation(device_id, stamp)?.unwrap_or(stamp))
}

/// Stores the change as received, with the reason, and answers with the entity as the server
/// has it — if this user may see it at all.
fn reject(
    batch: &mut Batch<'_>,
    actor: &Actor,
    device: &DeviceRecord,
    received: Change,
    rejection: RejectionInfo,
) -> Result<PushOutcome, ApiError> {
    let current = batch
        .read()
        .entity(received.entity, received.entity_id)?
        .filter(|record| may_read(actor, record))
        .map(|record| record.state);
    tracing::info!(device = %device.id, seq = received.device_seq, code = %rejection.code, "rejected a change");
    batch.tx.put_rejected_change(&RejectedChange {
        device_id: device.id,
        device_seq: received.device_seq,
        change: received,
        rejection: rejection.clone(),
        rejected_at: batch.now,
    })?;
    Ok(PushOutcome::Rejected { rejection, current })
}
