//! Time and the flow: transaction timeouts (RFC 3261 §17.1), 2xx retransmission (§13.3.1.4),
//! the refresh point, keep-alive pongs (RFC 5626 §4.4.1) and flow failure and recovery
//! (§4.5).

use super::keepalive::backoff_ms;
use super::{CallState, EndCause, FlowFailure, T2_MS, Ua, UaError, UaEvent};

impl Ua {
    /// Run the timers that are due: pong timeout (5626-4.4.1-b), Timer B/F (the request
    /// fails as 408), the callee's 2xx retransmission and its 64·T1 give-up (BYE).
    pub fn tick(&mut self, now_ms: u64) -> Vec<UaEvent> {
        let mut out = Vec::new();
        if self.keepalive.timed_out(now_ms) {
            self.flow_failed(FlowFailure::PongTimeout, &mut out);
            return out;
        }
        let expired: Vec<_> = self
            .txs
            .iter()
            .filter(|(_, t)| t.deadline_ms.is_some_and(|d| now_ms >= d))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(tx) = self.txs.remove(&key) {
                let reason = format!(
                    "Request Timeout: no final response to {} within 64*T1 = 32 s (RFC 3261 §17.1)",
                    tx.method
                );
                self.tx_failed(tx, 408, reason, &mut out);
            }
        }
        let retransmitting: Vec<_> = self
            .calls
            .iter()
            .filter(|(_, c)| c.retransmit.is_some())
            .map(|(h, _)| *h)
            .collect();
        for call in retransmitting {
            let Some(c) = self.calls.get_mut(&call) else {
                continue;
            };
            let Some(r) = c.retransmit.as_mut() else {
                continue;
            };
            if now_ms >= r.give_up_at {
                // RFC 3261 §13.3.1.4: no ACK within 64*T1: the dialog is confirmed and the
                // session ends with a BYE.
                c.retransmit = None;
                c.state = CallState::Confirmed;
                out.push(UaEvent::Error(UaError::AckTimeout(call)));
                match self.bye(call, now_ms) {
                    Ok(bye) => out.push(UaEvent::Send(bye)),
                    Err(e) => out.push(UaEvent::Error(e)),
                }
            } else if now_ms >= r.next_at {
                out.push(UaEvent::Send(r.msg.clone()));
                r.interval = r.interval.saturating_mul(2).min(T2_MS);
                r.next_at = now_ms.saturating_add(r.interval);
            }
        }
        out
    }

    /// Milliseconds until the refresh REGISTER is due (0: now), counted from `now_ms`:
    /// [`super::registration::REFRESH_PERCENT`] of the granted lifetime, or the Retry-After of
    /// a 503. `None` when not registered, not wanted, or a REGISTER is in flight.
    pub fn next_refresh(&self, now_ms: u64) -> Option<u64> {
        if !self.reg.wanted {
            return None;
        }
        if let Some(at) = self.reg.retry_at_ms {
            return Some(at.saturating_sub(now_ms));
        }
        let in_flight = self
            .txs
            .values()
            .any(|t| matches!(t.kind, super::TxKind::Register(_)));
        if in_flight {
            return None;
        }
        self.reg
            .current
            .as_ref()
            .map(|r| r.refresh_at_ms().saturating_sub(now_ms))
    }

    /// Milliseconds from `now_ms` until the earliest timer (transaction timeout, 2xx
    /// retransmission, keep-alive ping or pong deadline, refresh); `None` when nothing is
    /// scheduled. The shell sleeps this long, then calls [`Ua::tick`],
    /// [`Ua::keepalive_due`] and [`Ua::next_refresh`].
    pub fn next_timer(&self, now_ms: u64) -> Option<u64> {
        let txs = self.txs.values().filter_map(|t| t.deadline_ms);
        let retransmits = self
            .calls
            .values()
            .filter_map(|c| c.retransmit.as_ref())
            .map(|r| r.next_at.min(r.give_up_at));
        let refresh = self.next_refresh(now_ms).map(|d| now_ms.saturating_add(d));
        txs.chain(retransmits)
            .chain(self.keepalive.next_deadline())
            .chain(refresh)
            .min()
            .map(|at| at.saturating_sub(now_ms))
    }

    /// A `\r\n` pong arrived ([`Ua::receive_payload`] calls this for a `\r\n` payload). The
    /// first pong after an Outbound registration makes the flow successful (RFC 5626 §4.5).
    pub fn pong_received(&mut self, _now_ms: u64) {
        let r = self.rand();
        if self.keepalive.pong(r) {
            self.flow.successful = true;
            self.flow.failures = 0;
        }
    }

    /// The shell opened the WebSocket connection; send [`Ua::register`] next.
    pub fn connected(&mut self, _now_ms: u64) {
        self.flow.connected = true;
    }

    pub fn is_connected(&self) -> bool {
        self.flow.connected
    }

    /// The connection closed, or an attempt to open one failed.
    pub fn disconnected(&mut self, _now_ms: u64) -> Vec<UaEvent> {
        let mut out = Vec::new();
        self.flow_failed(FlowFailure::Closed, &mut out);
        out
    }

    /// The flow is gone (RFC 5626 §4.4, §4.5): every pending request fails as 503
    /// (RFC 3261 §8.1.3.1), calls end (their route set runs through the dead flow's token),
    /// the registration and its GRUUs are dropped (5627-4.4-a: a GRUU only while
    /// registered), and, if the application wants to be registered, the shell is told when
    /// to reconnect: at once after a successful flow, else after the §4.5 back-off.
    pub(super) fn flow_failed(&mut self, cause: FlowFailure, out: &mut Vec<UaEvent>) {
        if self.flow.successful {
            self.flow.failures = 0;
        } else {
            self.flow.failures = self.flow.failures.saturating_add(1);
        }
        self.flow.successful = false;
        self.flow.connected = false;
        self.keepalive.stop();
        let reconnect_after_ms = if !self.reg.wanted {
            None
        } else if self.flow.failures == 0 {
            Some(0)
        } else {
            let r = self.rand();
            // The UA has one flow: when it fails, all have (base-time 30 s).
            Some(backoff_ms(self.flow.failures, true, r))
        };
        out.push(UaEvent::FlowFailed {
            cause,
            reconnect_after_ms,
        });
        for (_, tx) in std::mem::take(&mut self.txs) {
            self.tx_failed(
                tx,
                503,
                "Service Unavailable: the flow failed before a response (RFC 3261 §8.1.3.1)".into(),
                out,
            );
        }
        for call in std::mem::take(&mut self.calls).into_keys() {
            out.push(UaEvent::CallEnded {
                call,
                cause: EndCause::FlowFailed,
            });
        }
        self.reg.current = None;
        self.reg.retry_at_ms = None;
    }
}
