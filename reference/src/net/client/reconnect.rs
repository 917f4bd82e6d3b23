//! When to reconnect after the connection closed without our asking (RFC 6455 §7.2.3, row
//! 6455-7.2.3-a; RFC 5626 §4.5, row 5626-4.5-a), as a pure function of the failure count
//! and a random draw.
//!
//! - The first attempt after a connection that worked waits a uniform 0–5 s: RFC 6455
//!   §7.2.3 suggests exactly that range, so that clients dropped together (a server restart)
//!   do not all come back in the same instant.
//! - Every later attempt (the previous ones failed) waits the RFC 5626 §4.5 back-off of the
//!   UA core, [`crate::ua::backoff_ms`] with base 30 s (the client has one flow: when it
//!   fails, all have failed): 30–60 s, 60–120 s, 120–240 s, … capped at 15–30 minutes.
//!
//! [`Reconnect::scale`] multiplies every delay so tests can run the same code in
//! milliseconds.

use std::time::Duration;

use crate::ua::backoff_ms;

/// RFC 6455 §7.2.3: "a random amount of time [...] we suggest 0 to 5 seconds".
pub const FIRST_DELAY_MAX_MS: u64 = 5_000;

/// The delay before the next connection attempt, in milliseconds of real time (before
/// scaling). `consecutive_failures` counts the attempts that failed since the last
/// connection that worked (0 for the first attempt after it closed); `random` is a fresh
/// uniform draw.
pub fn reconnect_delay_ms(consecutive_failures: u32, random: u64) -> u64 {
    if consecutive_failures == 0 {
        random % (FIRST_DELAY_MAX_MS + 1)
    } else {
        backoff_ms(consecutive_failures, true, random)
    }
}

/// The reconnect policy of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconnect {
    /// Reconnect (and re-register) after a close we did not ask for, while the application
    /// wants to be registered. On by default.
    pub enabled: bool,
    /// Multiplies every delay: 1.0 is real time; tests shrink it (0.01 turns 0–5 s into
    /// 0–50 ms). Negative or non-finite values are read as 1.0.
    pub scale: f64,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            enabled: true,
            scale: 1.0,
        }
    }
}

impl Reconnect {
    /// The scaled delay for [`reconnect_delay_ms`].
    pub fn delay(&self, consecutive_failures: u32, random: u64) -> Duration {
        let scale = if self.scale.is_finite() && self.scale >= 0.0 {
            self.scale
        } else {
            1.0
        };
        Duration::from_millis(reconnect_delay_ms(consecutive_failures, random)).mul_f64(scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::SplitMix64;

    const SAMPLES: usize = 4_000;

    fn draws(failures: u32, seed: u64) -> Vec<u64> {
        let mut r = SplitMix64::new(seed);
        (0..SAMPLES)
            .map(|_| reconnect_delay_ms(failures, r.next_u64()))
            .collect()
    }

    fn mean(v: &[u64]) -> f64 {
        v.iter().sum::<u64>() as f64 / v.len() as f64
    }

    #[test]
    fn req_6455_7_2_3_a_first_delay_is_uniform_over_0_to_5_s() {
        let d = draws(0, 11);
        assert!(d.iter().all(|&x| x <= FIRST_DELAY_MAX_MS), "within 0-5 s");
        // Uniform on [0, 5000]: mean 2500, standard error of the mean 1443/sqrt(4000) = 23 ms,
        // so ±150 ms is more than six standard errors.
        let m = mean(&d);
        assert!((2350.0..=2650.0).contains(&m), "mean {m}");
        // Every tenth of the range gets about a tenth of the draws (400 ± 20 %).
        let mut deciles = [0usize; 10];
        for &x in &d {
            deciles[((x * 10) / (FIRST_DELAY_MAX_MS + 1)) as usize] += 1;
        }
        for (i, n) in deciles.iter().enumerate() {
            assert!((320..=480).contains(n), "decile {i}: {n} of {SAMPLES}");
        }
        // Random, not a constant: many distinct values.
        let distinct: std::collections::BTreeSet<_> = d.iter().collect();
        assert!(distinct.len() > 2_000, "{} distinct", distinct.len());
    }

    #[test]
    fn req_6455_7_2_3_a_later_delays_follow_the_rfc5626_backoff_and_grow() {
        let mut previous_mean = mean(&draws(0, 12));
        for failures in 1..=8u32 {
            let w = (30_000u64 << failures).min(1_800_000);
            let d = draws(failures, 100 + u64::from(failures));
            assert!(
                d.iter().all(|&x| (w / 2..=w).contains(&x)),
                "{failures} failures: outside [W/2, W] with W = {w}"
            );
            let m = mean(&d);
            // Uniform on [W/2, W]: mean 3W/4.
            let expect = w as f64 * 0.75;
            assert!((m - expect).abs() < w as f64 * 0.02, "{failures}: mean {m}");
            if w < 1_800_000 {
                assert!(m > previous_mean, "{failures}: the back-off grows");
            }
            previous_mean = m;
        }
        assert_eq!(reconnect_delay_ms(1, 0), 30_000, "the RFC 5626 §4.5 floor");
    }

    #[test]
    fn the_scale_shrinks_every_delay() {
        let fast = Reconnect {
            enabled: true,
            scale: 0.01,
        };
        assert_eq!(fast.delay(0, 5_000), Duration::from_millis(50));
        assert_eq!(fast.delay(1, 0), Duration::from_millis(300));
        let odd = Reconnect {
            enabled: true,
            scale: f64::NAN,
        };
        assert_eq!(odd.delay(0, 1234), Duration::from_millis(1234));
        assert_eq!(
            Reconnect::default().delay(0, 4999),
            Duration::from_millis(4999)
        );
    }
}
