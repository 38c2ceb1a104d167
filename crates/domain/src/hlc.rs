//! Hybrid logical clock stamps: wall-clock milliseconds, a counter for events within the same
//! millisecond (or while the wall clock lags behind a stamp already seen), and the device id as
//! the last tie-break. Stamps order field edits for last-writer-wins merging.
//!
//! A laptop's clock may be hours or days wrong. The clock never refuses to stamp: it only moves
//! forward, and the sync server clamps stamps from the future (see `sync-server`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One stamp. Ordered by `(millis, counter, device)`, so two devices never tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub millis: u64,
    pub counter: u32,
    pub device: Uuid,
}

impl Hlc {
    pub fn new(millis: u64, counter: u32, device: Uuid) -> Self {
        Self { millis, counter, device }
    }
}

/// Text form `{millis:013x}.{counter:05x}.{device}`: fixed width, so text order is stamp order
/// (SQL can compare stamps as strings).
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:013x}.{:05x}.{}", self.millis, self.counter, self.device.simple())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a clock stamp: {0:?}")]
pub struct ParseHlcError(pub String);

impl FromStr for Hlc {
    type Err = ParseHlcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHlcError(s.chars().take(80).collect());
        let mut parts = s.split('.');
        let (Some(m), Some(c), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        if m.len() != 13 || c.len() != 5 || d.len() != 32 {
            return Err(err());
        }
        Ok(Hlc {
            millis: u64::from_str_radix(m, 16).map_err(|_| err())?,
            counter: u32::from_str_radix(c, 16).map_err(|_| err())?,
            device: Uuid::try_parse(d).map_err(|_| err())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A device's clock. Kept by the store (persisted) and by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub device: Uuid,
    pub last_millis: u64,
    pub last_counter: u32,
}

impl Clock {
    pub fn new(device: Uuid) -> Self {
        Self { device, last_millis: 0, last_counter: 0 }
    }

    /// Stamps a local event at wall-clock time `now_millis`.
    pub fn tick(&mut self, now_millis: u64) -> Hlc {
        if now_millis > self.last_millis {
            self.last_millis = now_millis;
            self.last_counter = 0;
        } else {
            self.last_counter = self.last_counter.saturating_add(1);
        }
        Hlc::new(self.last_millis, self.last_counter, self.device)
    }

    /// Takes notice of a stamp received from elsewhere, so the next local event orders after it.
    pub fn observe(&mut self, seen: Hlc) {
        if (seen.millis, seen.counter) > (self.last_millis, self.last_counter) {
            self.last_millis = seen.millis;
            self.last_counter = seen.counter;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn text_form_sorts_like_the_stamp() {
        let stamps = [
            Hlc::new(5, 0, device(2)),
            Hlc::new(5, 0, device(1)),
            Hlc::new(5, 3, device(0)),
            Hlc::new(1_700_000_000_000, 0, device(0)),
            Hlc::new(4, 99, device(9)),
        ];
        let mut by_value = stamps.to_vec();
        by_value.sort();
        let mut by_text: Vec<Hlc> = stamps.to_vec();
        by_text.sort_by_key(|h| h.to_string());
        assert_eq!(by_value, by_text);
    }

    #[test]
    fn text_form_round_trips() {
        let h = Hlc::new(1_732_550_000_123, 7, Uuid::from_u128(0xabcdef));
        assert_eq!(h.to_string().parse::<Hlc>(), Ok(h));
        assert!("garbage".parse::<Hlc>().is_err());
        assert!("0000000000001.00000.zz".parse::<Hlc>().is_err());
    }

    #[test]
    fn clock_moves_forward_when_the_wall_clock_goes_back() {
        let mut c = Clock::new(device(1));
        let a = c.tick(1000);
        let b = c.tick(900);
        let d = c.tick(1000);
        assert!(a < b && b < d);
    }

    #[test]
    fn clock_orders_local_events_after_observed_ones() {
        let mut c = Clock::new(device(1));
        c.tick(1000);
        let remote = Hlc::new(5000, 4, device(2));
        c.observe(remote);
        assert!(c.tick(1001) > remote);
    }
}
