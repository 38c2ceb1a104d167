//! The real `shegong-sync` binary, run as an administrator runs it, for the CLI's tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_shegong-sync");

/// The binary with `args` on the data directory `data_dir` and the run's backend (its database
/// there, or PostgreSQL's schema of that directory: `test_support::backend::TestDatabase`):
/// warnings only in its log, no configuration file, nothing on standard input.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .envs(test_support::backend::TestDatabase::new(data_dir).server_env())
        .env("SHEGONG_SYNC__LOG", "warn")
        .env_remove("SHEGONG_SYNC_CONFIG")
        .stdin(Stdio::null());
    command
}

/// Runs `command`, giving it `password` as one line of standard input (`--password-stdin`): the
/// only non-interactive way to pass one.
pub fn run_typing(mut command: Command, password: &str) -> Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // A command refused before it reads (a bad argument) has closed its end: nothing to write.
    let _ = writeln!(stdin, "{password}");
    drop(stdin);
    child.wait_with_output().expect("the binary ends")
}

/// What a command that succeeded printed, trimmed.
pub fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// What a command that failed said.
pub fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A running `shegong-sync serve`, stopped when dropped.
pub struct Running {
    pub child: Child,
    pub url: String,
}

impl Running {
    /// Starts `command` (a `serve`) on a free loopback port and reads the address it announces.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .env("SHEGONG_SYNC__LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("reads the first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Running { child, url }
    }

    /// SIGKILL: no shutdown, no flush, like a power cut for the process.
    pub fn kill(mut self) {
        self.child.kill().expect("killed");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
