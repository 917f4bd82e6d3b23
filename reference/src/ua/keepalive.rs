//! CRLF keep-alives and flow recovery for an Outbound client (RFC 5626 §4.4, §4.4.1, §4.5),
//! as pure functions and a small state machine over the shell's clock (milliseconds).
//!
//! Over WebSocket the ping is one WS message holding `\r\n\r\n` and the pong one holding
//! `\r\n` (RFC 7118 §6 allows CRLF keep-alives; spec/requirements.md A7 records that this is what
//! SIP.js does and what the reference server answers, 5626-5.4-a).
//!
//! - Period (5626-4.4-a, 4.4.1-b): with `Flow-Timer: N` in the registration 2xx, each gap is
//!   drawn uniformly from 80–100 % of N; without it, from 95–120 s. A new draw for every ping.
//! - Failure (5626-4.4.1-b): no pong within 10 s of a ping means the flow has failed.
//! - Recovery back-off (5626-4.5-a): [`backoff_ms`].

use std::ops::RangeInclusive;

/// The client's ping (RFC 5626 §4.4.1 `double-CRLF`).
pub const PING: &[u8] = b"\r\n\r\n";
/// The server's pong (RFC 5626 §4.4.1 `CRLF`).
pub const PONG: &[u8] = b"\r\n";
/// No pong within this long after a ping: the flow has failed (RFC 5626 §4.4.1).
pub const PONG_TIMEOUT_MS: u64 = 10_000;
/// The keep-alive period without a `Flow-Timer`, where battery power is not a concern
/// (RFC 5626 §4.4.1: upper bound 120 s, lower bound 20 % less, i.e. 95 s as the RFC rounds it).
pub const DEFAULT_PERIOD_MS: RangeInclusive<u64> = 95_000..=120_000;
/// RFC 5626 §4.5 defaults: max-time 1800 s, base-time 30 s when every flow failed, 90 s when
/// some flow is still up.
pub const BACKOFF_MAX_MS: u64 = 1_800_000;
pub const BACKOFF_BASE_ALL_FAILED_MS: u64 = 30_000;
pub const BACKOFF_BASE_SOME_UP_MS: u64 = 90_000;

/// A uniform draw from `range` (inclusive) using `random`.
fn draw(range: RangeInclusive<u64>, random: u64) -> u64 {
    let (lo, hi) = (*range.start(), *range.end());
    lo + random % (hi - lo + 1)
}

/// The gap before the next ping (5626-4.4-a, 4.4.1-b). A `Flow-Timer` of 0 would ask for a
/// continuous stream of pings; it is read as 1 s.
pub fn keepalive_period_ms(flow_timer: Option<u32>, random: u64) -> u64 {
    match flow_timer {
        Some(n) => {
            let n = u64::from(n.max(1)) * 1000;
            draw(n * 8 / 10..=n, random)
        }
        None => draw(DEFAULT_PERIOD_MS, random),
    }
}

/// How long to wait before trying to form a new flow (RFC 5626 §4.5, row 5626-4.5-a):
/// `W = min(max-time, base-time * 2^failures)`, then a uniform draw from 50–100 % of W.
/// `failures` counts consecutive failed attempts (the first retry after a failed boot-time
/// registration has `failures = 1`: 30–60 s, as §4.5 spells out); `all_failed` selects the
/// 30 s base (every flow is down) over the 90 s one.
pub fn backoff_ms(failures: u32, all_failed: bool, random: u64) -> u64 {
    let base = if all_failed {
        BACKOFF_BASE_ALL_FAILED_MS
    } else {
        BACKOFF_BASE_SOME_UP_MS
    };
    let w = 1u64
        .checked_shl(failures)
        .and_then(|f| base.checked_mul(f))
        .map_or(BACKOFF_MAX_MS, |w| w.min(BACKOFF_MAX_MS));
    draw(w / 2..=w, random)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Active {
    flow_timer: Option<u32>,
    next_ping_at: u64,
    ping_sent_at: Option<u64>,
    pongs: u64,
}

/// Keep-alive state of the one flow a UA has. Inactive until a registration confirms
/// Outbound (5626-4.2.1-b: `Require: outbound` in the 2xx starts keep-alives).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepAlive {
    active: Option<Active>,
}

impl KeepAlive {
    /// Start (or, on a refresh, adopt a new `Flow-Timer`): the next ping is due one period
    /// from now, or sooner if it already was.
    pub fn start(&mut self, flow_timer: Option<u32>, now_ms: u64, random: u64) {
        let next = now_ms.saturating_add(keepalive_period_ms(flow_timer, random));
        match &mut self.active {
            Some(a) => {
                a.flow_timer = flow_timer;
                a.next_ping_at = a.next_ping_at.min(next);
            }
            None => {
                self.active = Some(Active {
                    flow_timer,
                    next_ping_at: next,
                    ping_sent_at: None,
                    pongs: 0,
                })
            }
        }
    }

    pub fn stop(&mut self) {
        self.active = None;
    }

    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Pongs received since [`KeepAlive::start`].
    pub fn pongs(&self) -> u64 {
        self.active.as_ref().map_or(0, |a| a.pongs)
    }

    /// Is a ping due? If so it counts as sent now and the pong timer runs.
    pub fn due(&mut self, now_ms: u64) -> bool {
        match &mut self.active {
            Some(a) if a.ping_sent_at.is_none() && now_ms >= a.next_ping_at => {
                a.ping_sent_at = Some(now_ms);
                true
            }
            _ => false,
        }
    }

    /// A pong arrived. True when it answers an outstanding ping; the next ping is then
    /// scheduled one fresh period after the previous one was sent.
    pub fn pong(&mut self, random: u64) -> bool {
        match &mut self.active {
            Some(a) => match a.ping_sent_at.take() {
                Some(sent) => {
                    a.pongs += 1;
                    a.next_ping_at = sent.saturating_add(keepalive_period_ms(a.flow_timer, random));
                    true
                }
                None => false,
            },
            None => false,
        }
    }

    /// No pong within [`PONG_TIMEOUT_MS`] of the outstanding ping (5626-4.4.1-b).
    pub fn timed_out(&self, now_ms: u64) -> bool {
        self.active
            .as_ref()
            .and_then(|a| a.ping_sent_at)
            .is_some_and(|sent| now_ms >= sent.saturating_add(PONG_TIMEOUT_MS))
    }

    /// When the shell must next look: the pong deadline, else the next ping.
    pub fn next_deadline(&self) -> Option<u64> {
        self.active.as_ref().map(|a| match a.ping_sent_at {
            Some(sent) => sent.saturating_add(PONG_TIMEOUT_MS),
            None => a.next_ping_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::random::SplitMix64;

    #[test]
    fn req_5626_4_5_a_backoff_formula() {
        // §4.5: W = min(1800, base * 2^failures); wait uniform in [W/2, W].
        let cases = [
            (1, true, 60_000),
            (3, true, 240_000), // the RFC's own example: min(1800, 30*2^3) = 240 s
            (0, true, 30_000),
            (1, false, 180_000),
            (3, false, 720_000),
            (6, true, 1_800_000), // 30*64 = 1920 s, capped
            (40, true, 1_800_000),
            (64, false, 1_800_000),
            (u32::MAX, true, 1_800_000),
        ];
        for (failures, all_failed, w) in cases {
            assert_eq!(backoff_ms(failures, all_failed, 0), w / 2, "{failures}");
            assert_eq!(backoff_ms(failures, all_failed, w / 2), w, "{failures}");
            let mut r = SplitMix64::new(u64::from(failures));
            for _ in 0..200 {
                let d = backoff_ms(failures, all_failed, r.next_u64());
                assert!((w / 2..=w).contains(&d), "{failures}: {d} outside [W/2, W]");
            }
        }
        // §4.5 boundary: the first retry after a failed boot registration is 30-60 s later;
        // at the cap the UA keeps trying every 15-30 minutes.
        assert_eq!(backoff_ms(1, true, 0), 30_000);
        assert_eq!(backoff_ms(100, true, 0), 900_000);
    }

    #[test]
    fn req_5626_4_4_a_flow_timer_period_is_80_to_100_percent() {
        let mut r = SplitMix64::new(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let p = keepalive_period_ms(Some(30), r.next_u64());
            assert!((24_000..=30_000).contains(&p), "{p}");
            seen.insert(p / 1000);
        }
        assert!(seen.len() > 4, "the draw is spread: {seen:?}");
        assert_eq!(keepalive_period_ms(Some(0), 0), 800);
    }

    #[test]
    fn req_5626_4_4_1_b_default_period_is_95_to_120_s() {
        let mut r = SplitMix64::new(4);
        for _ in 0..500 {
            let p = keepalive_period_ms(None, r.next_u64());
            assert!((95_000..=120_000).contains(&p), "{p}");
        }
    }

    #[test]
    fn req_5626_4_4_1_b_no_pong_within_10_s_is_a_failure() {
        let mut k = KeepAlive::default();
        assert!(!k.due(1_000_000), "inactive until started");
        k.start(Some(30), 0, 0); // period = 24 s exactly with random 0
        assert_eq!(k.next_deadline(), Some(24_000));
        assert!(!k.due(23_999));
        assert!(k.due(24_000));
        assert!(!k.due(24_001), "one ping outstanding at a time");
        assert_eq!(k.next_deadline(), Some(34_000));
        assert!(!k.timed_out(33_999));
        assert!(k.timed_out(34_000));
        // A pong in time clears it and schedules the next ping from the last one sent.
        assert!(k.pong(6_000)); // period 24 s + 6000 % 6001 = 30 s
        assert_eq!(k.pongs(), 1);
        assert!(!k.timed_out(40_000));
        assert_eq!(k.next_deadline(), Some(54_000));
        assert!(!k.pong(0), "an unsolicited pong answers nothing");
        k.stop();
        assert!(!k.is_active() && k.next_deadline().is_none());
    }

    #[test]
    fn req_5626_4_4_a_gaps_between_pings_follow_the_flow_timer() {
        let mut k = KeepAlive::default();
        let mut r = SplitMix64::new(9);
        k.start(Some(30), 0, r.next_u64());
        let mut now = 0;
        let mut last = 0;
        for i in 0..100 {
            // Advance second by second to the next ping, answer it 50 ms later.
            while !k.due(now) {
                now += 100;
            }
            if i > 0 {
                let gap = now - last;
                assert!((24_000..=30_100).contains(&gap), "gap {gap}");
            }
            last = now;
            now += 50;
            assert!(k.pong(r.next_u64()));
        }
    }
}
