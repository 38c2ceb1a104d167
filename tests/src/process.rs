//! Child processes that end with the test: each is started in a process group of its own, and
//! dropping its guard stops that group (the child and whatever it started, e.g. tauri-driver's
//! WebKitWebDriver and the app) by its id.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{HarnessError, Result};

pub struct ChildGuard {
    name: String,
    child: Child,
    stopped: bool,
}

impl ChildGuard {
    /// Starts `command` in a new process group, its stdout piped for [`ChildGuard::wait_for_line`].
    pub fn spawn(name: &str, command: &mut Command) -> Result<ChildGuard> {
        command.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped());
        let child = command.spawn().map_err(HarnessError::io(format!("starting {name}")))?;
        Ok(ChildGuard { name: name.to_string(), child, stopped: false })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Reads stdout until a line satisfies `pick` (which returns what the caller wants from it),
    /// then keeps draining stdout in the background so the child never blocks on a full pipe.
    pub fn wait_for_line<T: Send + 'static>(
        &mut self,
        what: &str,
        timeout: Duration,
        pick: impl Fn(&str) -> Option<T> + Send + 'static,
    ) -> Result<T> {
        let stdout = self
            .child
            .stdout
            .take()
            .ok_or_else(|| HarnessError::Setup(format!("{}: stdout already taken", self.name)))?;
        let (found, receiver) = mpsc::channel();
        let name = self.name.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut sent = false;
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                eprintln!("[{name}] {}", line.trim_end());
                if !sent && let Some(value) = pick(line.trim_end()) {
                    let _ = found.send(value);
                    sent = true;
                }
                line.clear();
            }
            // Drain whatever is left (not line-based) so the child can exit.
            let _ = reader.read_to_end(&mut Vec::new());
        });
        match receiver.recv_timeout(timeout) {
            Ok(value) => Ok(value),
            Err(_) => Err(HarnessError::Setup(format!(
                "{} did not print {what} within {} s (still running: {})",
                self.name,
                timeout.as_secs(),
                self.is_running()
            ))),
        }
    }

    /// Whether the process is still running. It is not reaped here (only [`ChildGuard::stop`]
    /// does that): while it is unreaped, its process id, and so its group id, cannot be given to
    /// another process, which makes signalling the group safe.
    pub fn is_running(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The state follows the parenthesised command name: `Z` is a zombie (ended, unreaped).
        match stat.rsplit_once(')') {
            Some((_, rest)) => !rest.trim_start().starts_with(['Z', 'X']),
            None => false,
        }
    }

    /// Stops the process group: SIGTERM, then SIGKILL for whatever is left after a grace period
    /// (also when the child itself has already ended but left processes of its group behind).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // The leader is not reaped before the last signal, so the group id is still ours.
        let group = format!("-{}", self.child.id());
        if self.is_running() {
            let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
            let _ = wait_until("the process to end", Duration::from_secs(5), || !self.is_running());
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }

    /// Kills the process group at once with SIGKILL, as a power cut or the OOM killer would:
    /// nothing gets to flush or shut down.
    pub fn kill(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(HarnessError::io("finding a free port"))?;
    let port = listener.local_addr().map_err(HarnessError::io("reading the free port"))?.port();
    Ok(port)
}

/// Polls `ready` every 50 ms until it is true.
pub(crate) fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(HarnessError::Timeout { what: what.to_string(), seconds: timeout.as_secs() })
}
