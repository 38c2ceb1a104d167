//! The pages of a pull, the next one fetched and decoded while the last one is written.
//!
//! A first pull spends its time in two places: the server and the decoding of its pages, and
//! the writes into the encrypted store. Done one after the other, they add up; here the next
//! page is asked for as soon as a page arrives (its cursor is known before it is applied), on a
//! thread of its own when the transport offers a [`PageFetcher`]. A transport without one
//! fetches ahead on the calling thread, in the same order, so the simulation runs the same
//! sequence of requests and writes.

use std::sync::mpsc;

use protocol::{PullQuery, PullResponse};
use store::PulledPage;

use crate::{Transport, TransportError};

/// A page as the engine applies it: the server's answer (its entries moved out) and the entries
/// made ready to write.
pub(crate) struct Fetched {
    pub page: PullResponse,
    pub pulled: PulledPage,
}

impl Fetched {
    fn of(mut page: PullResponse) -> Fetched {
        let entries = std::mem::take(&mut page.entries).into_iter().map(|e| (e.server_seq, e.item)).collect();
        Fetched { page, pulled: PulledPage::new(entries) }
    }
}

/// A read-only way to the server's log that works on another thread (see the module's doc).
pub trait PageFetcher: Send {
    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError>;
}

enum Ahead {
    /// Fetched (on this thread, or put back), for the cursor given.
    Ready(u64, Result<Fetched, TransportError>),
    /// Asked of the fetcher's thread, for the cursor given.
    Asked(u64),
}

struct Worker {
    asks: mpsc::Sender<PullQuery>,
    answers: mpsc::Receiver<Result<Fetched, TransportError>>,
}

impl Worker {
    fn start(mut fetcher: Box<dyn PageFetcher>) -> Option<Worker> {
        let (asks, asked) = mpsc::channel::<PullQuery>();
        let (answer, answers) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("pull pages".into()).spawn(move || {
            // Ends when the pages are dropped (no more asks) or nobody takes the answer.
            while let Ok(query) = asked.recv() {
                if answer.send(fetcher.pull(query).map(Fetched::of)).is_err() {
                    break;
                }
            }
        });
        match spawned {
            Ok(_) => Some(Worker { asks, answers }),
            Err(e) => {
                tracing::debug!(error = %e, "no thread to fetch pages ahead; fetching them in turn");
                None
            }
        }
    }
}

pub(crate) struct Pages<'t, T: Transport> {
    transport: &'t mut T,
    limit: u32,
    ahead: Option<Ahead>,
    worker: Option<Worker>,
    /// Whether a worker may (still) be started: not after one failed, for whatever reason (an
    /// expired session the transport then renewed, an unreachable server).
    may_start: bool,
}

impl<'t, T: Transport> Pages<'t, T> {
    pub(crate) fn new(transport: &'t mut T, limit: u32) -> Self {
        Pages { transport, limit, ahead: None, worker: None, may_start: true }
    }

    fn query(&self, after: u64) -> PullQuery {
        PullQuery { after, limit: Some(self.limit) }
    }

    /// Starts fetching the page after `after`, to be taken by [`Pages::next`].
    pub(crate) fn fetch_ahead(&mut self, after: u64) {
        if self.ahead.is_some() {
            return;
        }
        if self.worker.is_none() && self.may_start {
            self.may_start = false;
            self.worker = self.transport.page_fetcher().and_then(Worker::start);
        }
        let query = self.query(after);
        self.ahead = Some(match &self.worker {
            Some(worker) if worker.asks.send(query).is_ok() => Ahead::Asked(after),
            _ => Ahead::Ready(after, self.transport.pull(query).map(Fetched::of)),
        });
    }

    /// The page after `after`: the one fetched ahead when it is for that cursor, else asked now.
    /// A page that says it answers another cursor is refused (see [`PullResponse::after`]).
    pub(crate) fn next(&mut self, after: u64) -> Result<Fetched, TransportError> {
        let fetched = self.take(after)?;
        match fetched.page.after {
            Some(answered) if answered != after => Err(TransportError::Offline(format!(
                "the reply answered a pull after {answered}, not after {after}; asked again next round"
            ))),
            _ => Ok(fetched),
        }
    }

    fn take(&mut self, after: u64) -> Result<Fetched, TransportError> {
        match self.ahead.take() {
            Some(Ahead::Ready(cursor, page)) if cursor == after => return page,
            Some(Ahead::Asked(cursor)) => {
                let answer = self.worker.as_ref().and_then(|w| w.answers.recv().ok());
                match answer {
                    Some(Ok(page)) if cursor == after => return Ok(page),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        // Asked again through the transport, which renews a session and names
                        // the error; the rest of this pull goes in turn.
                        tracing::debug!(error = %e, "a page fetched ahead failed; asking again in turn");
                        self.worker = None;
                    }
                    None => self.worker = None,
                }
            }
            _ => {}
        }
        let query = self.query(after);
        self.transport.pull(query).map(Fetched::of)
    }

    /// Gives back a page taken with [`Pages::next`] and not applied, for the next call.
    pub(crate) fn put_back(&mut self, after: u64, page: Fetched) {
        if let Some(Ahead::Asked(_)) = self.ahead {
            // Not expected (a page is put back before more is asked), but an answer in flight
            // must not be taken for this one: the worker is let go.
            self.worker = None;
        }
        self.ahead = Some(Ahead::Ready(after, Ok(page)));
    }
}
