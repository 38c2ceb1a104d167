//! A sync server served over HTTP on a free loopback port, on a runtime of its own, for tests
//! and benchmarks of clients that talk to it as the app does.

use std::time::Duration;

use sync_server::Server;

use crate::deadline::{Deadline, deadline};

/// How long a test or benchmark may hold a server on loopback: whatever waits on it then fails
/// by name instead of hanging the run (the longest test holds one for well under a minute, a
/// benchmark at full scale for two).
const DEADLINE: Duration = Duration::from_secs(600);

/// `server` answering at [`Loopback::url`] until dropped (or [`Loopback::stop`]).
pub struct Loopback {
    pub server: Server,
    pub url: String,
    runtime: tokio::runtime::Runtime,
    /// Every test that serves on loopback waits on it, so it holds a deadline for them.
    _deadline: Deadline,
}

impl Loopback {
    /// Serves `server` on `127.0.0.1` with `worker_threads` threads.
    pub fn serve(server: Server, worker_threads: usize) -> Loopback {
        Loopback::serve_wrapped(server, worker_threads, |router| router)
    }

    /// [`Loopback::serve`], the server's router wrapped by `wrap` first: a layer that counts what
    /// crosses, or one that makes it behave as an older server would.
    pub fn serve_wrapped(
        server: Server,
        worker_threads: usize,
        wrap: impl FnOnce(axum::Router) -> axum::Router,
    ) -> Loopback {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let router = wrap(sync_server::router(server.clone()));
        runtime.spawn(async move { axum::serve(listener, router).await });
        Loopback { server, url, runtime, _deadline: deadline(DEADLINE) }
    }

    /// Stops serving at once, leaving requests in flight unanswered.
    pub fn stop(self) {
        self.runtime.shutdown_background();
    }
}
