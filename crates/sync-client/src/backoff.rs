//! How long to wait before trying again after a failed sync round.

use std::time::Duration;

/// Exponential backoff from `initial` doubling to `max`, with up to a quarter of jitter so a
/// station's laptops coming back online together do not all retry in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    jitter_seed: u64,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, jitter_seed: u64) -> Self {
        Self { initial, max, failures: 0, jitter_seed: jitter_seed | 1 }
    }

    /// The wait after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let exponent = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let base = self.initial.saturating_mul(1 << exponent).min(self.max);
        // xorshift: cheap, deterministic per seed, good enough to spread retries.
        self.jitter_seed ^= self.jitter_seed << 13;
        self.jitter_seed ^= self.jitter_seed >> 7;
        self.jitter_seed ^= self.jitter_seed << 17;
        let jitter = base.mul_f64((self.jitter_seed % 1000) as f64 / 4000.0);
        (base + jitter).min(self.max)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_at_the_maximum() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), 42);
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_secs(1) && delays[0] < Duration::from_secs(2));
        assert!(delays[3] >= Duration::from_secs(8));
        assert_eq!(delays[9], Duration::from_secs(60));
        b.reset();
        assert!(b.next_delay() < Duration::from_secs(2));
    }
}
