//! Every WebSocket data message the client sends and receives, with its frame type: the
//! evidence a conformance report shows, and what `sipws client --trace` prints.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::sip::Message;
use crate::ws::MessageKind;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Sent,
    Received,
}

/// One WebSocket data message: a SIP message, or a CRLF keep-alive (RFC 5626 §4.4.1 over
/// WebSocket, spec/requirements.md A7). Control frames (Ping, Pong, Close) are not traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    pub direction: Direction,
    /// The frame type it travelled in: text or binary (RFC 7118 §4.2).
    pub kind: MessageKind,
    /// The payload exactly as sent or received (unmasked).
    pub bytes: Vec<u8>,
    /// When, since the client was created.
    pub at: Duration,
    /// Which connection carried it: 1 for the first, 2 after the first reconnect, ...
    pub connection: u64,
}

impl Traffic {
    /// A CRLF keep-alive ping (`\r\n\r\n`) or pong (`\r\n`) rather than a SIP message.
    pub fn is_keepalive(&self) -> bool {
        !self.bytes.is_empty() && self.bytes.iter().all(|b| matches!(b, b'\r' | b'\n'))
    }

    /// The payload parsed as one SIP message (RFC 7118 §5).
    pub fn sip(&self) -> Option<Message> {
        if self.is_keepalive() {
            return None;
        }
        Message::parse(&self.bytes).ok()
    }
}

impl fmt::Display for Traffic {
    /// A trace block: a header line, then the payload (lossy UTF-8 for binary frames).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::Sent => ">>> sent",
            Direction::Received => "<<< received",
        };
        let kind = match self.kind {
            MessageKind::Text => "text",
            MessageKind::Binary => "binary",
        };
        let what = if self.is_keepalive() {
            " (CRLF keep-alive)"
        } else {
            ""
        };
        writeln!(
            f,
            "{arrow} {kind} frame, {} bytes, connection {}, at {} ms{what}",
            self.bytes.len(),
            self.connection,
            self.at.as_millis()
        )?;
        if !self.is_keepalive() {
            let text = String::from_utf8_lossy(&self.bytes);
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
            for line in head.split("\r\n") {
                writeln!(f, "    {line}")?;
            }
            if !body.is_empty() {
                writeln!(f, "    ")?;
                for line in body.split("\r\n") {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// Called with every [`Traffic`] record as it happens (on the connection task: keep it
/// short). `sipws client --trace` prints them.
pub type TrafficTap = Arc<dyn Fn(&Traffic) + Send + Sync>;

/// The recorded traffic, shared by the connection task and the handle. Holds at most `limit`
/// records (the oldest go first), so a long-running client or a load generator stays
/// bounded; `limit` 0 records nothing.
#[derive(Debug)]
pub(crate) struct TrafficLog {
    records: Mutex<VecDeque<Traffic>>,
    limit: usize,
}

impl TrafficLog {
    pub(crate) fn new(limit: usize) -> TrafficLog {
        TrafficLog {
            records: Mutex::new(VecDeque::new()),
            limit,
        }
    }

    /// Does the log keep anything?
    pub(crate) fn enabled(&self) -> bool {
        self.limit > 0
    }

    pub(crate) fn push(&self, t: Traffic) {
        if self.limit == 0 {
            return;
        }
        let mut r = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if r.len() == self.limit {
            r.pop_front();
        }
        r.push_back(t);
    }

    pub(crate) fn snapshot(&self) -> Vec<Traffic> {
        let r = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        r.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bytes: &[u8]) -> Traffic {
        Traffic {
            direction: Direction::Sent,
            kind: MessageKind::Text,
            bytes: bytes.to_vec(),
            at: Duration::from_millis(5),
            connection: 1,
        }
    }

    #[test]
    fn the_log_is_bounded_and_keeps_the_newest() {
        let log = TrafficLog::new(2);
        for b in [b"a", b"b", b"c"] {
            log.push(t(b));
        }
        let kept: Vec<_> = log.snapshot().into_iter().map(|t| t.bytes).collect();
        assert_eq!(kept, vec![b"b".to_vec(), b"c".to_vec()]);
        let off = TrafficLog::new(0);
        off.push(t(b"a"));
        assert!(off.snapshot().is_empty());
    }

    #[test]
    fn keepalives_are_recognised_and_traced_without_a_body() {
        assert!(t(b"\r\n\r\n").is_keepalive());
        assert!(t(b"\r\n").is_keepalive());
        assert!(!t(b"").is_keepalive());
        assert!(t(b"\r\n").sip().is_none());
        let shown = t(b"\r\n\r\n").to_string();
        assert!(shown.starts_with(">>> sent text frame, 4 bytes"), "{shown}");
        assert!(shown.contains("keep-alive"));
        let msg = t(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n").to_string();
        assert!(msg.contains("\n    OPTIONS sip:a@b SIP/2.0\n"), "{msg}");
        assert!(
            msg.ends_with("    Call-ID: x\n"),
            "no empty lines after the head: {msg:?}"
        );
        let with_body = t(b"MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\nhi").to_string();
        assert!(
            with_body.ends_with("    Call-ID: x\n    \n    hi\n"),
            "{with_body:?}"
        );
    }
}
