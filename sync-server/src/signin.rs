//! Guarding sign-in against guessing and floods: failed sign-ins are counted per username and per
//! client address, and too many within a window lock that username (`account_locked`) or that
//! address (`too_many_attempts`) for a while; password hashing (argon2id, ~19 MiB each) runs at
//! most a few at a time, so a flood of sign-ins cannot exhaust the server's memory or CPU.
//!
//! Only failures count: a device signing in again and again with the right password is never
//! slowed down. The counts live in memory: a restart forgets them (an attacker gains one window).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Condvar, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use protocol::{ApiError, codes};

/// Limits of sign-in; part of [`crate::ServerSettings`], set in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failed sign-ins for one username within `window` that lock it.
    pub max_failures_per_user: u32,
    /// Failed sign-ins from one address (an IPv6 /64) within `window` that lock it out.
    pub max_failures_per_address: u32,
    pub window: Duration,
    /// How long a lock lasts.
    pub lockout: Duration,
    /// Password hashes computed at the same time, at most.
    pub max_concurrent_hashes: usize,
    /// How long a sign-in waits for a free hashing slot before it is answered `server_busy`.
    pub hash_wait: StdDuration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            max_failures_per_user: 5,
            max_failures_per_address: 50,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            max_concurrent_hashes: 4,
            hash_wait: StdDuration::from_secs(10),
        }
    }
}

/// Longest password the server hashes, in bytes; longer ones are refused before any work.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest username looked up, in bytes.
pub const MAX_USERNAME_BYTES: usize = 200;
/// Records kept before old ones are pruned.
const PRUNE_AT: usize = 10_000;
/// Records kept at most: past this (after pruning), new failures are not remembered.
const MAX_RECORDS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Default)]
struct Record {
    failures: VecDeque<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

impl Record {
    fn active(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.locked_until.is_some_and(|t| t > now) || self.failures.back().is_some_and(|t| *t + window > now)
    }
}

/// The sign-in guard of one server.
#[derive(Debug, Default)]
pub(crate) struct SignInGuard {
    records: Mutex<HashMap<Key, Record>>,
    hashing: Mutex<usize>,
    freed: Condvar,
}

/// A hashing slot, given back on drop.
pub(crate) struct HashPermit<'a>(&'a SignInGuard);

impl Drop for HashPermit<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.hashing.lock().unwrap_or_else(|p| p.into_inner());
        *busy = busy.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

/// An IPv6 address counts by its /64 (what one household or one attacker's host gets).
fn address_key(addr: IpAddr) -> Key {
    match addr {
        IpAddr::V4(_) => Key::Address(addr),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::Address(IpAddr::V4(v4)),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                Key::Address(IpAddr::V6(segments.into()))
            }
        },
    }
}

fn until_text(until: DateTime<Utc>) -> String {
    until.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn account_locked(until: DateTime<Utc>) -> ApiError {
    let at = until_text(until);
    ApiError::new(
        codes::ACCOUNT_LOCKED,
        format!("密码错误次数过多，该账号已被暂时锁定，请于 {at}（UTC）之后再试，或联系管理员"),
        format!(
            "too many failed sign-ins: this account is locked until {at} (UTC); try again then, or ask the administrator"
        ),
    )
}

pub(crate) fn too_many_attempts(until: DateTime<Utc>) -> ApiError {
    let at = until_text(until);
    ApiError::new(
        codes::TOO_MANY_ATTEMPTS,
        format!("此地址登录失败次数过多，请于 {at}（UTC）之后再试"),
        format!("too many failed sign-ins from this address; try again after {at} (UTC)"),
    )
}

pub(crate) fn server_busy() -> ApiError {
    ApiError::new(
        codes::SERVER_BUSY,
        "服务器繁忙，请稍后再登录",
        "the server is busy signing others in; try again in a moment",
    )
}

impl SignInGuard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses a sign-in for a locked username or address, before any password work.
    pub fn check(&self, username: &str, addr: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), ApiError> {
        let records = self.lock();
        if let Some(until) = records.get(&Key::User(username.to_owned())).and_then(|r| r.locked_until)
            && until > now
        {
            return Err(account_locked(until));
        }
        if let Some(addr) = addr
            && let Some(until) = records.get(&address_key(addr)).and_then(|r| r.locked_until)
            && until > now
        {
            return Err(too_many_attempts(until));
        }
        Ok(())
    }

    /// Counts a failed sign-in; returns the error to answer when it locked the username.
    pub fn failed(
        &self,
        limits: &LoginLimits,
        username: &str,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Option<ApiError> {
        let mut records = self.lock();
        if records.len() >= PRUNE_AT {
            records.retain(|_, r| r.active(now, limits.window));
        }
        let mut keys = vec![(Key::User(username.to_owned()), limits.max_failures_per_user)];
        if let Some(addr) = addr {
            keys.push((address_key(addr), limits.max_failures_per_address));
        }
        let mut locked = None;
        for (key, max) in keys {
            if records.len() >= MAX_RECORDS && !records.contains_key(&key) {
                continue;
            }
            let record = records.entry(key.clone()).or_default();
            while record.failures.front().is_some_and(|t| *t + limits.window <= now) {
                record.failures.pop_front();
            }
            record.failures.push_back(now);
            if record.failures.len() >= max.max(1) as usize {
                let until = now + limits.lockout;
                record.locked_until = Some(until);
                record.failures.clear();
                match &key {
                    // A name as typed may be anything (a password typed in the wrong box, an ID
                    // number): it stays out of the logs.
                    Key::User(_) => tracing::warn!(%until, "too many failed sign-ins for one username; locked"),
                    Key::Address(address) => {
                        tracing::warn!(%address, %until, "too many failed sign-ins from one address; locked");
                    }
                }
                if locked.is_none() && matches!(key, Key::User(_)) {
                    locked = Some(account_locked(until));
                }
            }
        }
        locked
    }

    /// A successful sign-in forgets the username's failures.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&Key::User(username.to_owned()));
    }

    /// Waits for a hashing slot (at most `limits.hash_wait`).
    pub fn hash_permit(&self, limits: &LoginLimits) -> Result<HashPermit<'_>, ApiError> {
        let max = limits.max_concurrent_hashes.max(1);
        let busy = self.hashing.lock().unwrap_or_else(|p| p.into_inner());
        let (mut busy, timeout) = self
            .freed
            .wait_timeout_while(busy, limits.hash_wait, |busy| *busy >= max)
            .unwrap_or_else(|p| p.into_inner());
        if timeout.timed_out() && *busy >= max {
            return Err(server_busy());
        }
        *busy += 1;
        Ok(HashPermit(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 4, 0, 0).single().expect("valid")
    }

    #[test]
    fn five_failures_lock_the_username_until_the_lockout_ends() {
        let guard = SignInGuard::default();
        let limits = LoginLimits::default();
        for n in 0..4 {
            assert!(guard.failed(&limits, "wa", None, t0() + Duration::seconds(n)).is_none());
        }
        let locked = guard.failed(&limits, "wa", None, t0() + Duration::seconds(4)).expect("locked");
        assert_eq!(locked.code, codes::ACCOUNT_LOCKED);
        assert_eq!(
            guard.check("wa", None, t0() + Duration::minutes(5)).expect_err("locked").code,
            codes::ACCOUNT_LOCKED
        );
        assert!(guard.check("wb", None, t0()).is_ok(), "other users are not affected");
        assert!(guard.check("wa", None, t0() + Duration::minutes(16)).is_ok(), "the lock ends");
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let guard = SignInGuard::default();
        let limits = LoginLimits::default();
        for n in 0..20 {
            assert!(guard.failed(&limits, "wa", None, t0() + Duration::minutes(4 * n)).is_none());
        }
        assert!(guard.check("wa", None, t0() + Duration::minutes(80)).is_ok());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("addr");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("addr");
        assert_eq!(address_key(a), address_key(b));
    }

    #[test]
    fn hashing_slots_are_bounded_and_given_back() {
        let guard = SignInGuard::default();
        let limits =
            LoginLimits { max_concurrent_hashes: 2, hash_wait: StdDuration::from_millis(20), ..LoginLimits::default() };
        let a = guard.hash_permit(&limits).expect("first");
        let _b = guard.hash_permit(&limits).expect("second");
        assert_eq!(guard.hash_permit(&limits).err().map(|e| e.code), Some(codes::SERVER_BUSY.to_string()));
        drop(a);
        assert!(guard.hash_permit(&limits).is_ok());
    }
}
