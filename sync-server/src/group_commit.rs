//! Group commit: pushes that arrive while another is being written wait in a queue, and the next
//! writer takes every push waiting (up to a bound) into ONE write transaction, each inside a
//! savepoint of its own, with one durable commit for all of them. Under load the disk's flushes
//! (SQLite's `fsync` of the write-ahead log, PostgreSQL's WAL flush and its round trips for the
//! `log_head` lock) are paid once per group instead of once per push.
//!
//! Leader and followers, no thread of its own: the thread that queues a job while nobody leads
//! becomes the leader; the others wait on a channel of their own. The leader takes the waiting
//! jobs, runs them, and only once `run` returns (the group is committed) sends each its answer;
//! then it hands leadership to the first job still waiting (whose thread runs the next group,
//! its own job first) or releases it. One group per leader, so no request waits for others'
//! forever. The storage contract still holds for each push: sequence order is commit order (one
//! write transaction at a time), answers are sent only after the commit, and a job that fails is
//! rolled back to its savepoint alone (`push.rs`).
//!
//! Nothing wedges: leadership is handed on by a drop guard, also when `run` panics; a job whose
//! group ended without an answer learns it at once ([`Lost::Dropped`]), and every wait has a
//! deadline ([`Lost::TimedOut`]).

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Jobs in one group at most. PostgreSQL caches 64 subtransaction ids per transaction (each
/// push that writes inside its savepoint takes one); past that every other session's snapshots
/// become slower, so a group stays well under it.
pub(crate) const MAX_GROUP_JOBS: usize = 32;
/// Once a group holds this many changes no other job joins it (the first always does): a group
/// is one transaction, and the pushes waiting behind it should not wait for a huge one.
pub(crate) const MAX_GROUP_WEIGHT: usize = 1_000;

/// Why a job has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lost {
    /// Its group ended without answering it (the leader panicked): none of the group's jobs
    /// was acknowledged, and a job resent gets the answer it had, if its group committed.
    Dropped,
    /// Its deadline passed. `queued`: it was still waiting and was taken out of the queue, never
    /// run; otherwise its group was running and may yet commit it.
    TimedOut { queued: bool },
}

/// The queue of one kind of job `J`, each answered with an `A`.
pub(crate) struct GroupQueue<J, A> {
    state: Mutex<State<J, A>>,
}

struct State<J, A> {
    waiting: VecDeque<Entry<J, A>>,
    /// Whether a thread leads: runs a group, or was handed the turn to run the next one.
    leading: bool,
    next_id: u64,
}

struct Entry<J, A> {
    id: u64,
    job: J,
    weight: usize,
    reply: Sender<Turn<A>>,
}

enum Turn<A> {
    /// Run the next group (this job is first in it).
    Lead,
    Answer(A),
}

impl<J, A> Default for GroupQueue<J, A> {
    fn default() -> Self {
        Self { state: Mutex::new(State { waiting: VecDeque::new(), leading: false, next_id: 0 }) }
    }
}

/// Hands leadership on when dropped: after a group, and when `run` panics.
struct HandOn<'q, J, A>(&'q GroupQueue<J, A>);

impl<J, A> Drop for HandOn<'_, J, A> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        while let Some(first) = state.waiting.front() {
            if first.reply.send(Turn::Lead).is_ok() {
                return;
            }
            // Its thread is gone (it cannot be: a waiter leaves the queue before it stops
            // listening); skip it rather than hand the turn to nobody.
            state.waiting.pop_front();
        }
        state.leading = false;
    }
}

impl<J, A> GroupQueue<J, A> {
    fn lock(&self) -> MutexGuard<'_, State<J, A>> {
        // The state is changed only in small steps that cannot panic halfway.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `job` (of `weight`, counted against [`MAX_GROUP_WEIGHT`]) in a group and returns
    /// its answer. If this thread leads, `run` is called with the group's jobs in queue order
    /// and returns their answers in the same order, once they are durable; a follower's `run` is
    /// not called (its job is run by the leader's).
    pub(crate) fn submit(
        &self,
        job: J,
        weight: usize,
        deadline: Instant,
        run: impl FnOnce(Vec<J>) -> Vec<A>,
    ) -> Result<A, Lost> {
        let (reply, answers) = mpsc::channel();
        let (id, leads) = {
            let mut state = self.lock();
            let id = state.next_id;
            state.next_id = state.next_id.wrapping_add(1);
            state.waiting.push_back(Entry { id, job, weight, reply });
            (id, !std::mem::replace(&mut state.leading, true))
        };
        if !leads {
            match self.wait(id, &answers, deadline)? {
                Turn::Answer(answer) => return Ok(answer),
                Turn::Lead => {}
            }
        }
        self.lead(run);
        // This job was first in the group just run, so its answer is here now, unless the group
        // ended without one.
        match answers.try_recv() {
            Ok(Turn::Answer(answer)) => Ok(answer),
            _ => Err(Lost::Dropped),
        }
    }

    /// Waits for this job's answer or its turn to lead, until `deadline`.
    fn wait(&self, id: u64, answers: &Receiver<Turn<A>>, deadline: Instant) -> Result<Turn<A>, Lost> {
        match answers.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(turn) => Ok(turn),
            Err(RecvTimeoutError::Disconnected) => Err(Lost::Dropped),
            Err(RecvTimeoutError::Timeout) => {
                // Under the lock, as leadership is handed on: a turn to lead sent a moment ago is
                // seen here, never lost with this receiver.
                let mut state = self.lock();
                match answers.try_recv() {
                    Ok(turn) => Ok(turn),
                    Err(mpsc::TryRecvError::Disconnected) => Err(Lost::Dropped),
                    Err(mpsc::TryRecvError::Empty) => {
                        // Still queued: taken out, never run. Not queued: its group is running.
                        let before = state.waiting.len();
                        state.waiting.retain(|entry| entry.id != id);
                        Err(Lost::TimedOut { queued: state.waiting.len() < before })
                    }
                }
            }
        }
    }

    /// Runs one group, from the front of the queue; then hands leadership on.
    fn lead(&self, run: impl FnOnce(Vec<J>) -> Vec<A>) {
        let group = {
            let mut state = self.lock();
            let mut group = Vec::new();
            let mut weight = 0;
            while group.len() < MAX_GROUP_JOBS && (group.is_empty() || weight < MAX_GROUP_WEIGHT) {
                let Some(entry) = state.waiting.pop_front() else { break };
                weight += entry.weight;
                group.push(entry);
            }
            group
        };
        let (jobs, replies): (Vec<J>, Vec<Sender<Turn<A>>>) =
            group.into_iter().map(|entry| (entry.job, entry.reply)).unzip();
        let hand_on = HandOn(self);
        let answers = run(jobs);
        // The group is durable: the next one may start while these answers go out.
        drop(hand_on);
        // A reply left without an answer (fewer answers than jobs) is dropped: its job learns
        // it was lost.
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(Turn::Answer(answer));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use super::*;

    fn in_a_minute() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    /// Waits (at most 30 s) until `done` holds.
    fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "still not so after 30 s: {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn waiting<J, A>(queue: &GroupQueue<J, A>) -> usize {
        queue.lock().waiting.len()
    }

    /// Every job times ten, recording the group's jobs.
    fn times_ten(groups: &Mutex<Vec<Vec<u32>>>) -> impl FnOnce(Vec<u32>) -> Vec<u32> + '_ {
        move |jobs| {
            groups.lock().expect("not poisoned").push(jobs.clone());
            jobs.iter().map(|j| j * 10).collect()
        }
    }

    /// Job 0, submitted on a thread of its own, leading a group that runs once `released`
    /// receives; returns when it leads (with nothing else queued).
    fn lead_until_released<'scope>(
        s: &'scope std::thread::Scope<'scope, '_>,
        queue: &'scope GroupQueue<u32, u32>,
        groups: &'scope Mutex<Vec<Vec<u32>>>,
        released: std::sync::mpsc::Receiver<()>,
    ) -> std::thread::ScopedJoinHandle<'scope, Result<u32, Lost>> {
        let first = s.spawn(move || {
            queue.submit(0, 1, in_a_minute(), |jobs| {
                released.recv_timeout(Duration::from_secs(30)).expect("released");
                times_ten(groups)(jobs)
            })
        });
        until("the first job leads", || queue.lock().leading && waiting(queue) == 0);
        first
    }

    #[test]
    fn jobs_queued_behind_a_running_group_run_together_in_bounded_groups_each_with_its_own_answer() {
        let queue = GroupQueue::<u32, u32>::default();
        let groups = Mutex::new(Vec::new());
        let (release, released) = channel::<()>();
        let followers = MAX_GROUP_JOBS as u32 + 8;
        std::thread::scope(|s| {
            let (queue, groups) = (&queue, &groups);
            let first = lead_until_released(s, queue, groups, released);
            let mut others = Vec::new();
            for job in 1..=followers {
                others.push((job, s.spawn(move || queue.submit(job, 1, in_a_minute(), times_ten(groups)))));
                until("the job is queued", || waiting(queue) == job as usize);
            }
            release.send(()).expect("the first group waits");
            assert_eq!(first.join().expect("no panic"), Ok(0));
            for (job, thread) in others {
                assert_eq!(thread.join().expect("no panic"), Ok(job * 10), "job {job} gets its own answer");
            }
        });
        let sizes: Vec<usize> = groups.lock().expect("not poisoned").iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, MAX_GROUP_JOBS, 8], "the waiting jobs ran in as few groups as the bound allows");
        let order: Vec<u32> = groups.lock().expect("not poisoned").concat();
        assert_eq!(order, (0..=followers).collect::<Vec<_>>(), "jobs run in the order they were queued");
        assert!(!queue.lock().leading, "leadership is released once nothing waits");
    }

    #[test]
    fn a_group_stops_taking_jobs_once_it_holds_enough_changes() {
        let queue = GroupQueue::<u32, u32>::default();
        let groups = Mutex::new(Vec::new());
        let (release, released) = channel::<()>();
        std::thread::scope(|s| {
            let (queue, groups) = (&queue, &groups);
            lead_until_released(s, queue, groups, released);
            for job in 1..=3 {
                s.spawn(move || queue.submit(job, MAX_GROUP_WEIGHT / 2 + 1, in_a_minute(), times_ten(groups)));
                until("the job is queued", || waiting(queue) == job as usize);
            }
            release.send(()).expect("the first group waits");
        });
        assert_eq!(*groups.lock().expect("not poisoned"), [vec![0], vec![1, 2], vec![3]]);
    }

    #[test]
    fn a_panic_while_a_group_runs_fails_its_jobs_at_once_and_later_jobs_are_still_answered() {
        let queue = GroupQueue::<u32, u32>::default();
        let groups = Mutex::new(Vec::new());
        let (release, released) = channel::<()>();
        std::thread::scope(|s| {
            let (queue, groups) = (&queue, &groups);
            let first = lead_until_released(s, queue, groups, released);
            // Whichever of these leads the next group panics in it.
            let doomed: Vec<_> = (1..=3)
                .map(|job| {
                    let thread = s.spawn(move || {
                        queue.submit(job, 1, in_a_minute(), |_| -> Vec<u32> { panic!("processing a push panicked") })
                    });
                    until("the job is queued", || waiting(queue) == job as usize);
                    thread
                })
                .collect();
            release.send(()).expect("the first group waits");
            assert_eq!(first.join().expect("no panic"), Ok(0));
            let started = Instant::now();
            let outcomes: Vec<_> = doomed.into_iter().map(|t| t.join()).collect();
            assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1, "the leader's own request sees the panic");
            for outcome in outcomes.into_iter().flatten() {
                assert_eq!(outcome, Err(Lost::Dropped), "a job of the failed group is told at once");
            }
            assert!(started.elapsed() < Duration::from_secs(10), "nobody waited for a deadline");
        });
        assert_eq!(queue.submit(7, 1, in_a_minute(), times_ten(&groups)), Ok(70), "the queue still runs groups");
        assert!(!queue.lock().leading);
    }

    #[test]
    fn a_job_whose_deadline_passes_while_queued_is_taken_out_and_never_run() {
        let queue = GroupQueue::<u32, u32>::default();
        let groups = Mutex::new(Vec::new());
        let (release, released) = channel::<()>();
        std::thread::scope(|s| {
            let (queue, groups) = (&queue, &groups);
            let first = lead_until_released(s, queue, groups, released);
            let late = queue.submit(1, 1, Instant::now() + Duration::from_millis(50), times_ten(groups));
            assert_eq!(late, Err(Lost::TimedOut { queued: true }));
            assert_eq!(waiting(queue), 0, "the job left the queue");
            release.send(()).expect("the first group waits");
            assert_eq!(first.join().expect("no panic"), Ok(0));
        });
        assert_eq!(*groups.lock().expect("not poisoned"), [vec![0]], "the job that gave up was never run");
        assert!(!queue.lock().leading, "and the queue is free");
        assert_eq!(queue.submit(2, 1, in_a_minute(), times_ten(&groups)), Ok(20));
    }
}
