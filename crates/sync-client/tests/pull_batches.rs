//! A long pull against the real server on loopback: several pages to a transaction, the next
//! page fetched while the last one is written, and a cut that keeps what was committed.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{Device, Station};
use protocol::{ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, SnapshotQuery, SnapshotResponse};
use sync_client::{Engine, HttpTransport, PageFetcher, SyncError, Transport, TransportError};
use uuid::Uuid;

/// A station where `wb`'s laptop has sent `n` new people since `wa`'s laptop last synced;
/// returns the station, `wa`'s laptop and the people's ids.
fn station_with_people(n: u32) -> (Station, Device, Vec<Uuid>) {
    let station = Station::new();
    let mine = station.device("wa", "mine");
    let mut other = station.device("wb", "other");
    let people = (0..n).map(|i| other.add_recipient(&format!("居民{i}"), i)).collect();
    other.sync().expect("the other laptop sends its work");
    (station, mine, people)
}

/// A pull's cursor, and the cursor its answer moved to (`Err` when it was cut).
type Asked = (u64, Result<u64, ()>);

type Pull = Box<dyn FnMut(&mut HttpTransport, PullQuery) -> Result<PullResponse, TransportError>>;

/// The HTTP transport of `device` with its pulls going through `pull`, and with `fetcher` as its
/// page fetcher (without one, pages are fetched ahead on the engine's thread, through `pull`).
struct Wrapped {
    inner: HttpTransport,
    pull: Pull,
    fetcher: Option<Box<dyn FnMut() -> Box<dyn PageFetcher>>>,
}

impl Wrapped {
    fn new(station: &Station, device: &Device, pull: Pull) -> Wrapped {
        let inner = HttpTransport::new(&station.url(), device.session.clone()).expect("transport");
        Wrapped { inner, pull, fetcher: None }
    }
}

impl Transport for Wrapped {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.inner.push(request)
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        (self.pull)(&mut self.inner, query)
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        self.inner.checksum()
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        self.inner.snapshot(query)
    }

    fn page_fetcher(&mut self) -> Option<Box<dyn PageFetcher>> {
        self.fetcher.as_mut().map(|make| make())
    }
}

#[test]
fn a_pull_cut_midway_keeps_every_page_applied_before_the_cut_and_the_next_round_goes_on_from_there() {
    let (station, mut mine, people) = station_with_people(60);
    // Each pull's cursor and answer; "offline" from the 5th pull on.
    let pulls: Arc<Mutex<Vec<Asked>>> = Arc::default();
    let noted = Arc::clone(&pulls);
    let cut = Wrapped::new(
        &station,
        &mine,
        Box::new(move |inner, query| {
            let mut noted = noted.lock().expect("notes");
            if noted.len() + 1 >= 5 {
                noted.push((query.after, Err(())));
                return Err(TransportError::Offline("cut".into()));
            }
            let page = inner.pull(query)?;
            noted.push((query.after, Ok(page.next_cursor)));
            Ok(page)
        }),
    );
    // Pages of 10 entries, committed every 25 entries: pages 1–3 go in one transaction, page 4 in
    // the next; the 5th request (for page 5, asked while page 4 is written) is cut.
    let mut engine = Engine::new(cut).with_page_limit(10).with_pull_batch(25);
    let result = engine.sync_once(&mut mine.store, |_| {});
    assert!(matches!(result, Err(SyncError::Offline(_))), "{result:?}");
    let pulls = pulls.lock().expect("notes").clone();
    assert_eq!(pulls.len(), 5, "{pulls:?}");
    assert!(pulls[..4].iter().all(|(_, answer)| answer.is_ok()), "{pulls:?}");
    for pair in pulls.windows(2) {
        assert_eq!(Ok(pair[1].0), pair[0].1, "each page asked after the one before: {pulls:?}");
    }
    let after_page_4 = pulls[3].1.expect("page 4 answered");
    assert_eq!(mine.store.pull_cursor().expect("cursor"), after_page_4, "page 4 was kept, in a commit of its own");
    let held = people.iter().filter(|p| mine.has(**p)).count();
    assert!(held > 0 && held < people.len(), "some of the people came before the cut: {held}");

    // Online again: the pull goes on from page 5 and everyone is here.
    let report = mine.sync().expect("round");
    assert!(report.pulled > 0 && report.pulled < 60, "only what was not yet committed: {}", report.pulled);
    assert!(people.iter().all(|p| mine.has(*p)));
    assert!(report.verified, "the checksums agree with the server's");
}

#[test]
fn a_pull_of_many_pages_fetched_on_another_thread_ends_where_the_server_is() {
    let (_station, mut mine, people) = station_with_people(60);
    let mut engine = mine.engine().with_page_limit(7);
    let report = engine.sync_once(&mut mine.store, |_| {}).expect("round");
    assert!(report.pages >= 9, "{} pages", report.pages);
    assert!(people.iter().all(|p| mine.has(*p)));
    assert!(report.verified, "the checksums agree with the server's");
    let json_bytes = engine.transport().bytes_received();
    assert!(json_bytes > 60 * 100, "the pages fetched on the other thread are counted too: {json_bytes}");
}

/// A page fetcher whose every request fails as an expired session does, counting them.
struct Expired(Arc<AtomicUsize>);

impl PageFetcher for Expired {
    fn pull(&mut self, _query: PullQuery) -> Result<PullResponse, TransportError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Err(TransportError::Unauthorized("token_expired".into()))
    }
}

#[test]
fn a_page_the_other_thread_could_not_fetch_is_asked_again_in_turn_and_the_pull_completes() {
    let (station, mut mine, people) = station_with_people(30);
    let fetcher_pulls = Arc::new(AtomicUsize::new(0));
    let mut transport = Wrapped::new(&station, &mine, Box::new(|inner, query| inner.pull(query)));
    let counted = Arc::clone(&fetcher_pulls);
    transport.fetcher = Some(Box::new(move || Box::new(Expired(Arc::clone(&counted)))));
    let mut engine = Engine::new(transport).with_page_limit(7);
    let report = engine.sync_once(&mut mine.store, |_| {}).expect("round");
    assert!(people.iter().all(|p| mine.has(*p)));
    assert!(report.verified);
    assert_eq!(fetcher_pulls.load(Ordering::Relaxed), 1, "after one failure the rest of the pull goes in turn");
}

#[test]
fn a_page_that_answers_another_cursor_is_refused_and_the_cursor_does_not_jump_over_what_it_skipped() {
    let (station, mut mine, people) = station_with_people(20);
    let before = mine.store.pull_cursor().expect("cursor");
    // Answers with the page after a later cursor than the one asked for, as a confused proxy (or
    // a page fetched ahead and never applied, replayed) would.
    let transport = Wrapped::new(
        &station,
        &mine,
        Box::new(|inner, query| inner.pull(PullQuery { after: query.after + 5, ..query })),
    );
    let (result, report) = mine.sync_with(transport);
    assert!(matches!(result, Err(SyncError::Offline(_))), "{result:?}");
    assert_eq!(report.pulled, 0);
    assert_eq!(mine.store.pull_cursor().expect("cursor"), before);
    assert!(people.iter().all(|p| !mine.has(*p)));
    // The next round, answered as asked, brings everything.
    mine.sync().expect("round");
    assert!(people.iter().all(|p| mine.has(*p)));
}
