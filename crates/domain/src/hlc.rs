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

/// Room for the text form of any stamp (see [`Hlc::encode`]).
pub const HLC_TEXT_MAX: usize = 64;

impl Hlc {
    /// Writes the text form (as [`Display`](fmt::Display) does) into `buf`, without allocating:
    /// stores bind every row's stamps as text.
    pub fn encode<'b>(&self, buf: &'b mut [u8; HLC_TEXT_MAX]) -> &'b str {
        fn hex(out: &mut [u8], mut value: u64, min_width: usize) -> usize {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut digits = [0u8; 16];
            let mut n = 0;
            while value != 0 || n < min_width {
                digits[n] = DIGITS[(value & 0xf) as usize];
                value >>= 4;
                n += 1;
            }
            for (slot, digit) in out.iter_mut().zip(digits[..n].iter().rev()) {
                *slot = *digit;
            }
            n
        }
        let mut len = hex(&mut buf[..], self.millis, 13);
        buf[len] = b'.';
        len += 1;
        len += hex(&mut buf[len..], u64::from(self.counter), 5);
        buf[len] = b'.';
        len += 1;
        len += self.device.simple().encode_lower(&mut buf[len..]).len();
        // Only ASCII hex digits and dots were written.
        std::str::from_utf8(&buf[..len]).unwrap_or_default()
    }
}

/// Text form `{millis:013x}.{counter:05x}.{device}`: fixed width, so text order is stamp order
/// (SQL can compare stamps as strings).
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode(&mut [0; HLC_TEXT_MAX]))
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
        // Parsed from the text as it lies in the input: a pulled page holds thousands of stamps.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Hlc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a clock stamp `{millis:013x}.{counter:05x}.{device}`")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hlc, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
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
    fn text_form_is_fixed_width_hex_and_fits_any_stamp() {
        let h = Hlc::new(0x19ec96fae00, 1, Uuid::from_u128(0x01a213a8b14b757a830ffea6bdf71482));
        assert_eq!(h.to_string(), "0019ec96fae00.00001.01a213a8b14b757a830ffea6bdf71482");
        assert_eq!(Hlc::new(0, 0, Uuid::nil()).to_string(), format!("0000000000000.00000.{}", "0".repeat(32)));
        let widest = Hlc::new(u64::MAX, u32::MAX, Uuid::max());
        assert_eq!(widest.to_string(), format!("{:013x}.{:05x}.{}", u64::MAX, u32::MAX, Uuid::max().simple()));
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
