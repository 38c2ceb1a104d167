//! A database connection driven by the thread that waits for its answer.
//!
//! Writers run one at a time and every other writer waits for this one's round trips, so a
//! round trip's latency is the server's write throughput. A connection driven by a runtime of
//! its own costs two thread wake-ups more per round trip than one driven here: the statement
//! would go from the waiting thread to a runtime thread, which writes it; the answer would come
//! back to the runtime thread, which hands it over. On two busy cores each wake-up waits for a
//! core. So the socket is non-blocking, the client's futures and the connection are polled on
//! the waiting thread, and when neither can go on the thread sleeps in `poll(2)` until the
//! socket is readable (or writable again). No runtime is needed, so this works from any thread,
//! also one inside an async runtime.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::Host;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Config, Connection, NoTls};

/// How long connecting may take when the configuration sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a wait ended without the answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum DriveError {
    #[error("the database connection is closed")]
    Closed,
    #[error("connecting to the database took longer than its connect_timeout")]
    ConnectTimeout,
    #[error("waiting for the database socket: {0}")]
    Io(#[from] io::Error),
}

/// The socket, non-blocking. Both ends share `write_blocked`: the connection's writes set it
/// when the kernel's buffer is full, and the waiting thread then also waits to write.
struct Socket {
    stream: Stream,
    write_blocked: Arc<AtomicBool>,
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn shutdown(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        }
    }
}

/// `Ready` with what `op` did, or `Pending` when the socket would block (the waiting thread
/// polls again once `poll(2)` says it can go on: no waker is needed).
fn nonblocking<T>(mut op: impl FnMut() -> io::Result<T>) -> Poll<io::Result<T>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            other => return Poll::Ready(other),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let read = std::task::ready!(nonblocking(|| this.stream.read(buf.initialize_unfilled())))?;
        buf.advance(read);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = nonblocking(|| this.stream.write(data));
        this.write_blocked.store(written.is_pending(), Ordering::Relaxed);
        written
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A socket keeps nothing in user space: written is sent.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown())
    }
}

/// A connection's client and its socket's other half, which whoever waits for an answer drives.
pub(super) struct Driven {
    pub client: Arc<Client>,
    /// `None` once it ended (the server closed it, or it failed): the client's requests fail.
    connection: Option<Pin<Box<Connection<Socket, NoTlsStream>>>>,
    /// The same socket, for `poll(2)`.
    readiness: Stream,
    write_blocked: Arc<AtomicBool>,
    /// Set when a poll made progress the socket does not show: the connection handed an answer
    /// to a future, or a future took one and so made room for the next (the connection then
    /// holds answers already read, which `poll(2)` would never announce).
    progress: Arc<Progress>,
}

#[derive(Default)]
struct Progress(AtomicBool);

impl Wake for Progress {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Driven {
    /// Connects to the first of the configured hosts that answers, as `tokio_postgres::connect`
    /// would, and signs in.
    pub fn connect(config: &Config) -> Result<Driven, ConnectError> {
        let timeout = config.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT);
        let mut last = None;
        for (index, host) in config.get_hosts().iter().enumerate() {
            let port = config.get_ports().get(index).or_else(|| config.get_ports().first()).copied().unwrap_or(5432);
            let attempt = open(host, port, timeout, config).and_then(|stream| {
                let deadline = Instant::now() + timeout;
                let write_blocked = Arc::new(AtomicBool::new(false));
                let readiness = stream.try_clone()?;
                let socket = Socket { stream, write_blocked: Arc::clone(&write_blocked) };
                let signing_in = config.connect_raw(socket, NoTls);
                let (client, connection) =
                    drive_alone(&readiness, &write_blocked, signing_in, deadline).map_err(ConnectError::from)??;
                Ok(Driven {
                    client: Arc::new(client),
                    connection: Some(Box::pin(connection)),
                    readiness,
                    write_blocked,
                    progress: Arc::default(),
                })
            });
            match attempt {
                Ok(driven) => return Ok(driven),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(ConnectError::NoHost))
    }

    /// Writes what the client queued, without waiting for any answer.
    pub fn flush(&mut self) {
        if let Some(connection) = self.connection.as_mut() {
            let waker = Waker::from(Arc::clone(&self.progress));
            if let Poll::Ready(ended) = connection.as_mut().poll(&mut Context::from_waker(&waker)) {
                if let Err(e) = ended {
                    tracing::warn!(error = %e, "a database connection ended");
                }
                self.connection = None;
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        self.connection.is_none() || self.client.is_closed()
    }

    /// Polls `future` (a request of this connection's client) to its end, driving the connection
    /// meanwhile; requests sent earlier and not yet waited for go out and are answered too.
    pub fn wait<F: Future>(&mut self, future: F) -> Result<F::Output, DriveError> {
        let waker = Waker::from(Arc::clone(&self.progress));
        let mut context = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            self.progress.0.store(false, Ordering::Relaxed);
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return Ok(output);
            }
            let Some(connection) = self.connection.as_mut() else { return Err(DriveError::Closed) };
            // Writes what the client queued, reads what came back and hands it to the futures.
            if let Poll::Ready(ended) = connection.as_mut().poll(&mut context) {
                if let Err(e) = ended {
                    tracing::warn!(error = %e, "a database connection ended");
                }
                // The client's channels close with it: the future fails on its next poll.
                self.connection = None;
                continue;
            }
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return Ok(output);
            }
            if !self.progress.0.load(Ordering::Relaxed) {
                ready(&self.readiness, &self.write_blocked, None)?;
            }
        }
    }
}

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum ConnectError {
    #[error("no database host is configured")]
    NoHost,
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Drive(#[from] DriveError),
    #[error("{0}")]
    Database(#[from] tokio_postgres::Error),
}

fn open(host: &Host, port: u16, timeout: Duration, config: &Config) -> Result<Stream, ConnectError> {
    let stream = match host {
        Host::Tcp(name) => {
            let mut last = None;
            let mut connected = None;
            for address in (name.as_str(), port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&address, timeout) {
                    Ok(stream) => {
                        connected = Some(stream);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            let stream = match (connected, last) {
                (Some(stream), _) => stream,
                (None, Some(e)) => return Err(e.into()),
                (None, None) => {
                    return Err(io::Error::new(io::ErrorKind::NotFound, format!("{name}: no address")).into());
                }
            };
            // Statements are small and each waits for its answer: never hold one back.
            stream.set_nodelay(true)?;
            if config.get_keepalives() {
                let keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
                socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
            }
            stream.set_nonblocking(true)?;
            Stream::Tcp(stream)
        }
        Host::Unix(directory) => {
            let stream = UnixStream::connect(directory.join(format!(".s.PGSQL.{port}")))?;
            stream.set_nonblocking(true)?;
            Stream::Unix(stream)
        }
    };
    Ok(stream)
}

/// [`Driven::wait`] before there is a connection to poll: the sign-in's own future reads and
/// writes the socket.
fn drive_alone<F: Future>(
    readiness: &Stream,
    write_blocked: &AtomicBool,
    future: F,
    deadline: Instant,
) -> Result<F::Output, DriveError> {
    let mut context = Context::from_waker(Waker::noop());
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Ok(output);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DriveError::ConnectTimeout);
        }
        ready(readiness, write_blocked, Some(left))?;
    }
}

/// Sleeps until the socket is readable, or writable when a write would have blocked, or closed.
fn ready(stream: &Stream, write_blocked: &AtomicBool, timeout: Option<Duration>) -> io::Result<()> {
    let mut events = PollFlags::IN;
    if write_blocked.load(Ordering::Relaxed) {
        events |= PollFlags::OUT;
    }
    let fd = stream.as_fd();
    let mut fds = [PollFd::from_borrowed_fd(fd, events)];
    let timeout = timeout.map(|t| Timespec {
        tv_sec: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    loop {
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, BufWriter};
    use std::net::TcpListener;

    /// A server that speaks just enough of PostgreSQL's protocol: it signs anyone in, and
    /// answers every simple query with `rows` rows of one text column, all written at once.
    fn fake_server(rows: usize) -> (u16, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("the client connects");
            let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
            let mut writer = BufWriter::new(stream);
            let mut length = [0u8; 4];
            reader.read_exact(&mut length).expect("the startup message");
            let mut startup = vec![0u8; u32::from_be_bytes(length) as usize - 4];
            reader.read_exact(&mut startup).expect("its body");
            // AuthenticationOk, then ReadyForQuery (idle).
            writer.write_all(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I").expect("signed in");
            writer.flush().expect("sent");
            let answer = answer_of(rows);
            loop {
                let mut tag = [0u8; 1];
                if reader.read_exact(&mut tag).is_err() {
                    return;
                }
                reader.read_exact(&mut length).expect("a message's length");
                let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
                reader.read_exact(&mut body).expect("its body");
                match &tag {
                    b"Q" => {
                        writer.write_all(&answer).expect("the answer");
                        writer.flush().expect("sent");
                    }
                    b"X" => return,
                    _ => {}
                }
            }
        });
        (port, server)
    }

    /// RowDescription (one text column), `rows` DataRows, CommandComplete, ReadyForQuery.
    fn answer_of(rows: usize) -> Vec<u8> {
        fn message(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
            out.push(tag);
            out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
            out.extend_from_slice(body);
        }
        let mut out = Vec::new();
        let mut description = 1u16.to_be_bytes().to_vec();
        description.extend_from_slice(b"value\0");
        description.extend_from_slice(&0u32.to_be_bytes()); // table
        description.extend_from_slice(&0u16.to_be_bytes()); // column
        description.extend_from_slice(&25u32.to_be_bytes()); // text
        description.extend_from_slice(&(-1i16).to_be_bytes());
        description.extend_from_slice(&(-1i32).to_be_bytes());
        description.extend_from_slice(&0u16.to_be_bytes());
        message(&mut out, b'T', &description);
        let value = "社工站入户走访记录".repeat(4);
        for _ in 0..rows {
            let mut row = 1u16.to_be_bytes().to_vec();
            row.extend_from_slice(&(value.len() as u32).to_be_bytes());
            row.extend_from_slice(value.as_bytes());
            message(&mut out, b'D', &row);
        }
        message(&mut out, b'C', format!("SELECT {rows}\0").as_bytes());
        message(&mut out, b'Z', b"I");
        out
    }

    /// An answer far larger than the connection hands to a request at a time: the connection
    /// reads all of it off the socket while the request's channel is full, and the waiting
    /// thread must take the rest from the connection without waiting for the socket, which
    /// has nothing more to say.
    #[test]
    fn a_large_answer_already_read_off_the_socket_is_taken_whole_every_time() {
        let _deadline = shegong_tests::deadline(Duration::from_secs(120));
        const ROWS: usize = 20_000;
        let (port, server) = fake_server(ROWS);
        let mut config = Config::new();
        config.host("127.0.0.1").port(port).user("shegong");
        let mut driven = Driven::connect(&config).expect("signed in to the fake server");
        for _ in 0..20 {
            let client = Arc::clone(&driven.client);
            let answer = driven.wait(client.simple_query("rows")).expect("driven").expect("answered");
            let rows = answer.iter().filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))).count();
            assert_eq!(rows, ROWS);
        }
        drop(driven);
        server.join().expect("the fake server ends when the client goes");
    }
}
