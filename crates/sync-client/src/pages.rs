//! The pages of a pull, the next ones fetched and decoded while the last one is written.
//!
//! A first pull spends its time in three places: the server answering a page, the decoding of
//! the page here, and the writes into the encrypted store. Done one after the other, they add
//! up. When the transport offers a [`PageFetcher`], a page's cursor is known as soon as its body
//! arrives (read from the body without decoding its entries), so two threads run ahead of the
//! engine along the chain of cursors: one asks the server for each page in turn, the other
//! decodes them; the engine writes. The three overlap, a page or two apart (the channels between
//! them hold one page each, so memory stays bounded). A transport without a fetcher fetches one
//! page ahead on the calling thread, in the same order, so the simulation runs the same sequence
//! of requests and writes.

use std::sync::mpsc;

use protocol::{PullQuery, PullResponse};
use serde::Deserialize;
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

/// A read-only way to the server's log that works on other threads (see the module's doc).
pub trait PageFetcher: Send {
    /// The page after `query.after`, decoded.
    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError>;

    /// The page after `query.after` as it arrived, to be decoded on another thread; by default,
    /// decoded here.
    fn download(&mut self, query: PullQuery) -> Result<Downloaded, TransportError> {
        self.pull(query).map(Downloaded::Page)
    }
}

/// A page as a [`PageFetcher`] downloaded it.
pub enum Downloaded {
    /// Already decoded.
    Page(PullResponse),
    /// The body of a successful answer, not yet decoded, and how to decode it.
    Body { body: Vec<u8>, decode: fn(&[u8]) -> Result<PullResponse, TransportError> },
}

/// What a body says of the next page, read without decoding its entries.
#[derive(Deserialize)]
struct Onward {
    next_cursor: u64,
    has_more: bool,
}

impl Downloaded {
    /// The cursor of the page after this one, when there is one (as the engine computes it: a
    /// cursor never goes backward).
    fn onward(&self, after: u64) -> Option<u64> {
        let (next_cursor, has_more) = match self {
            Downloaded::Page(page) => (page.next_cursor, page.has_more),
            Downloaded::Body { body, .. } => {
                let onward = serde_json::from_slice::<Onward>(body).ok()?;
                (onward.next_cursor, onward.has_more)
            }
        };
        has_more.then_some(next_cursor.max(after))
    }

    fn decode(self) -> Result<PullResponse, TransportError> {
        match self {
            Downloaded::Page(page) => Ok(page),
            Downloaded::Body { body, decode } => decode(&body),
        }
    }
}

/// A page from the threads, with the cursor it answers.
type Answer = (u64, Result<Fetched, TransportError>);

/// The two threads of a chain of pages, and where the chain stands.
struct Worker {
    answers: mpsc::Receiver<Answer>,
    /// Pages applied, to be dropped by the thread that decoded them (see [`Pages::recycle`]).
    applied: mpsc::Sender<Fetched>,
    /// The cursor of the next page the threads will answer; `None` once the chain has ended
    /// (the last page, or an error).
    next: Option<u64>,
}

impl Worker {
    /// Starts the chain of pages after `after`.
    fn start(mut fetcher: Box<dyn PageFetcher>, query: PullQuery) -> Option<Worker> {
        let (to_decode, downloaded) = mpsc::sync_channel::<(u64, Result<Downloaded, TransportError>)>(1);
        let (answer, answers) = mpsc::sync_channel::<Answer>(1);
        let (applied, to_drop) = mpsc::channel::<Fetched>();
        let download = move || {
            let mut after = Some(query.after);
            // Ends at the chain's end, or when the decoder is gone (the pages were dropped).
            while let Some(cursor) = after {
                let page = fetcher.download(PullQuery { after: cursor, ..query });
                after = page.as_ref().ok().and_then(|p| p.onward(cursor));
                if to_decode.send((cursor, page)).is_err() {
                    break;
                }
            }
        };
        let decode = move || {
            while let Ok((cursor, page)) = downloaded.recv() {
                if answer.send((cursor, page.and_then(Downloaded::decode).map(Fetched::of))).is_err() {
                    break;
                }
                to_drop.try_iter().for_each(drop);
            }
            // Until the engine is done with the chain (it drops the sender).
            to_drop.iter().for_each(drop);
        };
        let started = std::thread::Builder::new()
            .name("pull pages".into())
            .spawn(download)
            .and_then(|_| std::thread::Builder::new().name("pull decode".into()).spawn(decode));
        match started {
            Ok(_) => Some(Worker { answers, applied, next: Some(query.after) }),
            Err(e) => {
                tracing::debug!(error = %e, "no thread to fetch pages ahead; fetching them in turn");
                None
            }
        }
    }

    /// The chain's next page, if it is the one after `after`.
    fn take(&mut self, after: u64) -> Option<Result<Fetched, TransportError>> {
        if self.next != Some(after) {
            return None;
        }
        let (cursor, page) = self.answers.recv().ok()?;
        if cursor != after {
            return None;
        }
        self.next = match &page {
            Ok(fetched) if fetched.page.has_more => Some(fetched.page.next_cursor.max(after)),
            _ => None,
        };
        Some(page)
    }
}

pub(crate) struct Pages<'t, T: Transport> {
    transport: &'t mut T,
    limit: u32,
    /// A page fetched on this thread (or put back), with the cursor it answers.
    ahead: Option<Answer>,
    worker: Option<Worker>,
    /// Whether a chain of pages may (still) be started: not after one failed, for whatever
    /// reason (an expired session the transport then renewed, an unreachable server).
    may_start: bool,
}

impl<'t, T: Transport> Pages<'t, T> {
    pub(crate) fn new(transport: &'t mut T, limit: u32) -> Self {
        Pages { transport, limit, ahead: None, worker: None, may_start: true }
    }

    fn query(&self, after: u64) -> PullQuery {
        PullQuery { after, limit: Some(self.limit) }
    }

    /// Starts fetching the page after `after` (and, with a fetcher, the ones after it), to be
    /// taken by [`Pages::next`].
    pub(crate) fn fetch_ahead(&mut self, after: u64) {
        if self.ahead.is_some() || self.worker.as_ref().is_some_and(|w| w.next == Some(after)) {
            return;
        }
        // Another chain's pages (or none to come) are of no use.
        self.worker = None;
        let query = self.query(after);
        if self.may_start {
            self.worker = self.transport.page_fetcher().and_then(|fetcher| Worker::start(fetcher, query));
            if self.worker.is_some() {
                return;
            }
            self.may_start = false;
        }
        self.ahead = Some((after, self.transport.pull(query).map(Fetched::of)));
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
        if let Some((cursor, page)) = self.ahead.take()
            && cursor == after
        {
            return page;
        }
        if let Some(worker) = &mut self.worker {
            match worker.take(after) {
                Some(Ok(page)) => return Ok(page),
                Some(Err(e)) => {
                    // Asked again through the transport, which renews a session and names the
                    // error; the rest of this pull goes in turn.
                    tracing::debug!(error = %e, "a page fetched ahead failed; asking again in turn");
                    self.worker = None;
                    self.may_start = false;
                }
                // Not this chain's page, or its threads are gone.
                None => self.worker = None,
            }
        }
        let query = self.query(after);
        self.transport.pull(query).map(Fetched::of)
    }

    /// Takes a page the engine is done with. Dropping a page frees tens of thousands of small
    /// allocations (each entry's fields), which cost the first pull about a quarter of its time
    /// when the engine's thread freed what the decoding thread had allocated: they go back to
    /// that thread, which frees them while the engine writes the next page.
    pub(crate) fn recycle(&mut self, page: Fetched) {
        if let Some(worker) = &self.worker {
            // A thread already gone hands the page back, dropped here.
            let _ = worker.applied.send(page);
        }
    }

    /// Gives back a page taken with [`Pages::next`] and not applied, for the next call. A chain
    /// running ahead goes on from the page after it.
    pub(crate) fn put_back(&mut self, after: u64, page: Fetched) {
        self.ahead = Some((after, Ok(page)));
    }
}
