//! Hybrid logical clock stamps: wall-clock milliseconds, a counter for events within the same
//! millisecond (or while the wall clock lags behind a stamp already seen), and the device id as
//! the last tie-break. Stamps order field edits for last-writer-wins merging.
//!
//! A laptop's clock may be hours or days wrong. The clock never refuses to stamp: it only moves
//! forward, and the sync server clamps stamps from the future (see `sync-server`).
//!
//! **Bounds.** The text form has room for 13 hex digits of milliseconds and 5 of counter, so a
//! stamp is *valid* when `millis <= Hlc::MAX_MILLIS` (16¹³ − 1, about the year 144,000) and
//! `counter <= Hlc::MAX_COUNTER` (0xFFFFF). Every valid stamp has a text form that parses back to
//! it, and text order is stamp order; the parser and `Deserialize` refuse every other text. A
//! [`Clock`] only ever produces valid stamps: when its counter would pass `MAX_COUNTER`, it moves
//! its milliseconds forward by one and starts the counter again, still strictly increasing; it
//! ignores observed stamps outside the bounds. [`check_incoming`] is what the server and the
//! devices use to bound the stamps they accept and adopt.

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
    /// The largest counter the text form holds (5 hex digits).
    pub const MAX_COUNTER: u32 = 0xF_FFFF;
    /// The largest milliseconds the text form holds (13 hex digits, 16¹³ − 1).
    pub const MAX_MILLIS: u64 = (1 << 52) - 1;

    /// A stamp with these parts, unchecked: use [`Hlc::try_new`] for parts from outside, or
    /// [`Hlc::is_valid`] before writing it anywhere.
    pub fn new(millis: u64, counter: u32, device: Uuid) -> Self {
        Self { millis, counter, device }
    }

    /// A stamp with these parts, if they are within the bounds of the text form.
    pub fn try_new(millis: u64, counter: u32, device: Uuid) -> Result<Self, HlcError> {
        Self::new(millis, counter, device).check()
    }

    /// Whether the stamp is within the bounds of its text form (see the module documentation).
    pub fn is_valid(&self) -> bool {
        self.check_bounds().is_ok()
    }

    /// The stamp itself if it is within the bounds of its text form, else why not.
    pub fn check(self) -> Result<Self, HlcError> {
        self.check_bounds().map(|()| self)
    }

    fn check_bounds(&self) -> Result<(), HlcError> {
        if self.millis > Self::MAX_MILLIS {
            return Err(HlcError::MillisOutOfRange);
        }
        if self.counter > Self::MAX_COUNTER {
            return Err(HlcError::CounterOutOfRange);
        }
        Ok(())
    }
}

/// Why a stamp is not accepted. Each has a stable code and Chinese and English messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum HlcError {
    #[error("the stamp's milliseconds are beyond what a stamp can hold")]
    MillisOutOfRange,
    #[error("the stamp's counter is beyond what a stamp can hold")]
    CounterOutOfRange,
    #[error("the stamp is {ahead_millis} ms ahead of this clock, more than allowed")]
    TooFarAhead { ahead_millis: u64 },
    #[error("the clock has reached the last stamp it can make")]
    Exhausted,
}

impl HlcError {
    /// The stable code the UI and the sync protocol use.
    pub fn code(&self) -> &'static str {
        match self {
            HlcError::MillisOutOfRange => "hlc_millis_out_of_range",
            HlcError::CounterOutOfRange => "hlc_counter_out_of_range",
            HlcError::TooFarAhead { .. } => "hlc_too_far_ahead",
            HlcError::Exhausted => "hlc_exhausted",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            HlcError::MillisOutOfRange => "时间戳的毫秒数超出范围".into(),
            HlcError::CounterOutOfRange => "时间戳的计数器超出范围".into(),
            HlcError::TooFarAhead { ahead_millis } => format!("时间戳比本机时钟快{ahead_millis}毫秒，超出允许范围"),
            HlcError::Exhausted => "时钟已用尽可用的时间戳".into(),
        }
    }
}

/// Whether a stamp from elsewhere (a pushed change, a pulled page) may be accepted and adopted
/// by a clock whose wall clock reads `now_millis`: it must be within the bounds of the text form
/// ([`Hlc::check`]) and no more than `max_skew_millis` ahead of `now_millis`.
///
/// Pure, so the server and the devices bound stamps alike. A caller that orders a stamp too far
/// ahead by its own clock instead (the server's clamping, see docs/sync-protocol.md) uses the
/// [`HlcError::TooFarAhead`] answer to decide so; a stamp out of bounds is refused, never
/// observed: one such stamp adopted would make every later local stamp unwritable.
pub fn check_incoming(stamp: &Hlc, now_millis: u64, max_skew_millis: u64) -> Result<(), HlcError> {
    stamp.check_bounds()?;
    let limit = now_millis.saturating_add(max_skew_millis);
    if stamp.millis > limit {
        return Err(HlcError::TooFarAhead { ahead_millis: stamp.millis.saturating_sub(now_millis) });
    }
    Ok(())
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

/// Text form `{millis:013x}.{counter:05x}.{device}`: fixed width for every valid stamp (see
/// [`Hlc::is_valid`]), so text order is stamp order (SQL can compare stamps as strings). A stamp
/// out of bounds is written wider, and its text does not parse.
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
        if s.len() != 13 + 1 + 5 + 1 + 32 {
            return Err(err());
        }
        let mut parts = s.split('.');
        let (Some(m), Some(c), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        // Exactly the canonical text: fixed widths of lower-case hex digits (no sign, no upper
        // case), so a parsed stamp writes back to the same text and is within the bounds.
        let lower_hex = |part: &str, width: usize| {
            part.len() == width && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !lower_hex(m, 13) || !lower_hex(c, 5) || !lower_hex(d, 32) {
            return Err(err());
        }
        let hlc = Hlc {
            millis: u64::from_str_radix(m, 16).map_err(|_| err())?,
            counter: u32::from_str_radix(c, 16).map_err(|_| err())?,
            device: Uuid::try_parse(d).map_err(|_| err())?,
        };
        hlc.check().map_err(|_| err())
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
///
/// Its last stamp is always within the bounds of [`Hlc`] once it has ticked or observed; a state
/// read from storage with parts out of bounds (written by an older build) is brought within them
/// first, forward.
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

    /// The last `(millis, counter)` brought within the bounds: a counter past `MAX_COUNTER`
    /// becomes the next millisecond (which orders after any counter of this one); milliseconds
    /// past `MAX_MILLIS` are cut down to it.
    fn last_in_bounds(&self) -> (u64, u32) {
        if self.last_millis > Hlc::MAX_MILLIS {
            (Hlc::MAX_MILLIS, Hlc::MAX_COUNTER.min(self.last_counter))
        } else if self.last_counter > Hlc::MAX_COUNTER {
            match self.last_millis {
                Hlc::MAX_MILLIS => (Hlc::MAX_MILLIS, Hlc::MAX_COUNTER),
                m => (m + 1, 0),
            }
        } else {
            (self.last_millis, self.last_counter)
        }
    }

    /// Stamps a local event at wall-clock time `now_millis`: a valid stamp after every stamp
    /// this clock made or observed. When the counter would pass [`Hlc::MAX_COUNTER`], the stamp
    /// takes the next millisecond instead. Only a clock that has reached the very last stamp
    /// ([`Hlc::MAX_MILLIS`], [`Hlc::MAX_COUNTER`]), some 140,000 years from now, fails, with
    /// [`HlcError::Exhausted`].
    pub fn try_tick(&mut self, now_millis: u64) -> Result<Hlc, HlcError> {
        let now = now_millis.min(Hlc::MAX_MILLIS);
        let (millis, counter) = self.last_in_bounds();
        let next = if now > millis {
            (now, 0)
        } else if counter < Hlc::MAX_COUNTER {
            (millis, counter + 1)
        } else if millis < Hlc::MAX_MILLIS {
            (millis + 1, 0)
        } else {
            (self.last_millis, self.last_counter) = (millis, counter);
            return Err(HlcError::Exhausted);
        };
        (self.last_millis, self.last_counter) = next;
        Ok(Hlc::new(next.0, next.1, self.device))
    }

    /// Stamps a local event at wall-clock time `now_millis`, as [`Clock::try_tick`] does. A
    /// clock that is exhausted gives its last stamp again (never a stamp out of bounds).
    pub fn tick(&mut self, now_millis: u64) -> Hlc {
        match self.try_tick(now_millis) {
            Ok(stamp) => stamp,
            Err(_) => Hlc::new(Hlc::MAX_MILLIS, Hlc::MAX_COUNTER, self.device),
        }
    }

    /// Takes notice of a stamp received from elsewhere, so the next local event orders after it.
    /// A stamp outside the bounds of [`Hlc`] is ignored: adopting it would leave no valid stamp
    /// to make next ([`Clock::try_observe`] says so).
    ///
    /// This does not bound how far ahead a stamp may be: callers bound what they accept with
    /// [`check_incoming`] first.
    pub fn observe(&mut self, seen: Hlc) {
        // Ignoring a stamp out of bounds is the point; `try_observe` is for callers who care.
        let _ = self.try_observe(seen);
    }

    /// [`Clock::observe`], saying why a stamp was ignored: `Err` for a stamp outside the bounds,
    /// which leaves the clock as it was.
    pub fn try_observe(&mut self, seen: Hlc) -> Result<(), HlcError> {
        seen.check_bounds()?;
        let last = self.last_in_bounds();
        if (seen.millis, seen.counter) > last {
            (self.last_millis, self.last_counter) = (seen.millis, seen.counter);
        } else {
            (self.last_millis, self.last_counter) = last;
        }
        Ok(())
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
        let widest = Hlc::new(Hlc::MAX_MILLIS, Hlc::MAX_COUNTER, Uuid::max());
        assert_eq!(widest.to_string(), format!("{}.fffff.{}", "f".repeat(13), "f".repeat(32)));
        assert_eq!(widest.to_string().parse::<Hlc>(), Ok(widest));
        // Out of bounds: still written without panicking, but wider, so it does not parse.
        let out = Hlc::new(u64::MAX, u32::MAX, Uuid::max());
        assert_eq!(out.to_string(), format!("{:013x}.{:05x}.{}", u64::MAX, u32::MAX, Uuid::max().simple()));
        assert!(out.to_string().parse::<Hlc>().is_err());
    }

    #[test]
    fn a_counter_that_would_pass_its_five_digits_moves_the_stamp_to_the_next_millisecond() {
        let mut c = Clock::new(device(1));
        // One pushed stamp with the largest counter, observed.
        c.try_observe(Hlc::new(5000, Hlc::MAX_COUNTER, device(2))).expect("within bounds");
        let next = c.tick(4000);
        assert_eq!((next.millis, next.counter), (5001, 0));
        assert_eq!(next.to_string().parse::<Hlc>(), Ok(next));
    }

    #[test]
    fn a_stamp_with_a_counter_past_the_bound_is_not_observed_and_the_clock_keeps_stamping() {
        let mut c = Clock::new(device(1));
        c.tick(1000);
        let odd = Hlc::new(1000, Hlc::MAX_COUNTER + 1, device(2));
        c.observe(odd);
        assert_eq!(c.try_observe(odd), Err(HlcError::CounterOutOfRange));
        let huge = Hlc::new(Hlc::MAX_MILLIS + 1, 0, device(2));
        assert_eq!(c.try_observe(huge), Err(HlcError::MillisOutOfRange));
        let next = c.tick(1000);
        assert_eq!((next.millis, next.counter), (1000, 1));
        assert_eq!(next.to_string().parse::<Hlc>(), Ok(next));
    }

    #[test]
    fn a_clock_stored_by_an_older_build_with_a_counter_out_of_bounds_stamps_forward_within_them() {
        let mut c = Clock { device: device(1), last_millis: 7, last_counter: u32::MAX };
        let next = c.tick(0);
        assert_eq!(next.millis, 8);
        assert!(next.is_valid() && next > Hlc::new(7, u32::MAX, device(9)));
        let mut far = Clock { device: device(1), last_millis: u64::MAX, last_counter: 3 };
        assert!(far.tick(0).is_valid());
    }

    #[test]
    fn a_wall_clock_beyond_the_text_form_is_cut_down_to_its_last_millisecond() {
        let mut c = Clock::new(device(1));
        let a = c.tick(u64::MAX);
        let b = c.tick(u64::MAX);
        assert_eq!((a.millis, a.counter), (Hlc::MAX_MILLIS, 0));
        assert!(a < b && b.is_valid());
    }

    #[test]
    fn an_exhausted_clock_says_so_and_never_makes_a_stamp_out_of_bounds() {
        let mut c = Clock::new(device(1));
        c.try_observe(Hlc::new(Hlc::MAX_MILLIS, Hlc::MAX_COUNTER - 1, device(2))).expect("within bounds");
        let last = c.try_tick(0).expect("one stamp left");
        assert_eq!((last.millis, last.counter), (Hlc::MAX_MILLIS, Hlc::MAX_COUNTER));
        assert_eq!(c.try_tick(0), Err(HlcError::Exhausted));
        assert!(c.tick(0).is_valid());
    }

    #[test]
    fn only_the_canonical_text_of_a_stamp_in_bounds_parses() {
        let device = "0".repeat(32);
        for text in [
            format!("+000000000001.00000.{device}"),
            format!("000000000000A.00000.{device}"),
            format!("0000000000001.+0000.{device}"),
            format!("0000000000001.00000.{}", "A".repeat(32)),
            format!("0000000000001.100000.{device}"),
            format!("10000000000000.00000.{device}"),
            format!("0000000000001.00000.{device}.x"),
            format!("０000000000001.00000.{device}"),
            format!("0000000000001.00000.{}", "é".repeat(16)),
            String::new(),
        ] {
            assert!(text.parse::<Hlc>().is_err(), "{text}");
            assert!(serde_json::from_value::<Hlc>(serde_json::Value::String(text.clone())).is_err(), "{text}");
        }
        assert_eq!(Hlc::try_new(1, Hlc::MAX_COUNTER + 1, Uuid::nil()), Err(HlcError::CounterOutOfRange));
        assert_eq!(Hlc::try_new(Hlc::MAX_MILLIS + 1, 0, Uuid::nil()), Err(HlcError::MillisOutOfRange));
    }

    #[test]
    fn incoming_stamps_are_bounded_by_the_text_form_and_the_allowed_skew() {
        let now = 1_700_000_000_000;
        let skew = 5 * 60 * 1000;
        assert_eq!(check_incoming(&Hlc::new(now + skew, 3, device(2)), now, skew), Ok(()));
        assert_eq!(check_incoming(&Hlc::new(0, 0, device(2)), now, skew), Ok(()));
        assert_eq!(
            check_incoming(&Hlc::new(now + skew + 1, 0, device(2)), now, skew),
            Err(HlcError::TooFarAhead { ahead_millis: skew + 1 })
        );
        assert_eq!(
            check_incoming(&Hlc::new(now, Hlc::MAX_COUNTER + 1, device(2)), now, skew),
            Err(HlcError::CounterOutOfRange)
        );
        assert_eq!(
            check_incoming(&Hlc::new(u64::MAX, 0, device(2)), u64::MAX, u64::MAX),
            Err(HlcError::MillisOutOfRange)
        );
        let e = HlcError::TooFarAhead { ahead_millis: 1 };
        assert_eq!(e.code(), "hlc_too_far_ahead");
        assert!(e.message_zh().contains("毫秒") && e.to_string().contains("ahead"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Tick(u64),
            Observe(u64, u32),
        }

        /// Milliseconds anywhere in `u64`, and often near the bounds and each other.
        fn millis() -> impl Strategy<Value = u64> {
            prop_oneof![
                any::<u64>(),
                0u64..5,
                1_700_000_000_000u64..1_700_000_000_010,
                (Hlc::MAX_MILLIS - 3)..=(Hlc::MAX_MILLIS + 3),
            ]
        }

        fn counter() -> impl Strategy<Value = u32> {
            prop_oneof![any::<u32>(), 0u32..4, (Hlc::MAX_COUNTER - 3)..=(Hlc::MAX_COUNTER + 3)]
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![millis().prop_map(Op::Tick), (millis(), counter()).prop_map(|(m, c)| Op::Observe(m, c))]
        }

        proptest! {
            /// Whatever a clock has observed, every stamp it makes survives its text form, sorts
            /// by its text as by its value, and follows every stamp made or observed before.
            #[test]
            fn every_stamp_a_clock_makes_round_trips_and_orders_after_all_before(
                ops in proptest::collection::vec(op(), 1..60)
            ) {
                let mut clock = Clock::new(device(1));
                let mut made: Vec<Hlc> = Vec::new();
                let mut latest: Option<Hlc> = None;
                for op in ops {
                    match op {
                        Op::Tick(now) => match clock.try_tick(now) {
                            Ok(stamp) => {
                                prop_assert!(stamp.is_valid());
                                let text = stamp.to_string();
                                prop_assert_eq!(text.parse::<Hlc>(), Ok(stamp));
                                let json = serde_json::to_string(&stamp).expect("json");
                                prop_assert_eq!(serde_json::from_str::<Hlc>(&json).expect("read back"), stamp);
                                if let Some(before) = latest {
                                    prop_assert!((stamp.millis, stamp.counter) > (before.millis, before.counter));
                                }
                                latest = Some(stamp);
                                made.push(stamp);
                            }
                            Err(e) => {
                                prop_assert_eq!(e, HlcError::Exhausted);
                                prop_assert_eq!((clock.last_millis, clock.last_counter), (Hlc::MAX_MILLIS, Hlc::MAX_COUNTER));
                            }
                        },
                        Op::Observe(m, c) => {
                            let seen = Hlc::new(m, c, device(2));
                            let adopted = clock.try_observe(seen).is_ok();
                            prop_assert_eq!(adopted, seen.is_valid());
                            prop_assert_eq!(seen.to_string().parse::<Hlc>().is_ok(), seen.is_valid());
                            if adopted && latest.is_none_or(|l| (m, c) > (l.millis, l.counter)) {
                                latest = Some(seen);
                            }
                        }
                    }
                    prop_assert!(Hlc::new(clock.last_millis, clock.last_counter, clock.device).is_valid());
                }
                let mut by_text = made.clone();
                by_text.sort_by_key(|h| h.to_string());
                let mut by_value = made;
                by_value.sort();
                prop_assert_eq!(by_text, by_value);
            }

            /// Any two valid stamps compare as their texts do.
            #[test]
            fn text_order_is_stamp_order(
                a in (0..=Hlc::MAX_MILLIS, 0..=Hlc::MAX_COUNTER, any::<u128>()),
                b in (0..=Hlc::MAX_MILLIS, 0..=Hlc::MAX_COUNTER, any::<u128>()),
            ) {
                let a = Hlc::try_new(a.0, a.1, Uuid::from_u128(a.2)).expect("in bounds");
                let b = Hlc::try_new(b.0, b.1, Uuid::from_u128(b.2)).expect("in bounds");
                prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
            }

            /// Parsing any text never panics, and whatever parses writes back to the same text.
            #[test]
            fn whatever_parses_is_a_stamp_in_bounds_written_the_same(text in "[0-9a-fA-F+.\\-]{0,70}|.{0,80}") {
                if let Ok(stamp) = text.parse::<Hlc>() {
                    prop_assert!(stamp.is_valid());
                    prop_assert_eq!(stamp.to_string(), text);
                }
            }
        }
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
