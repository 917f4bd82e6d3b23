//! The evidence: every chunk sent and received, with its time and, for WebSocket frames, the
//! frame boundaries.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Sent,
    Received,
    /// Something the probe observed that is not bytes (a TCP close, a timeout).
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Time since the probe connected.
    pub at_ms: u64,
    pub direction: Direction,
    /// What the bytes are: `http`, a frame description (`text len=312 masked`), `raw`, ...
    pub what: String,
    /// The bytes as text (lossy UTF-8; control characters other than CR/LF/TAB escaped).
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Transcript(pub Vec<Entry>);

impl Transcript {
    pub fn push(
        &mut self,
        at: Duration,
        direction: Direction,
        what: impl Into<String>,
        bytes: &[u8],
    ) {
        self.0.push(Entry {
            at_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
            direction,
            what: what.into(),
            text: printable(bytes),
        });
    }
}

/// Bytes as readable text: valid UTF-8 kept, other bytes and control characters as `\xNN`.
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && !matches!(c, '\r' | '\n' | '\t') {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            let arrow = match e.direction {
                Direction::Sent => ">>",
                Direction::Received => "<<",
                Direction::Event => "--",
            };
            writeln!(f, "{arrow} [{:>5} ms] {}", e.at_ms, e.what)?;
            for line in e.text.split_inclusive('\n') {
                writeln!(f, "   {}", line.trim_end_matches(['\r', '\n']))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_is_not_text() {
        assert_eq!(printable(b"ok\r\n\xc0\xaf\x01"), "ok\r\n\\xc0\\xaf\\x01");
        assert_eq!(printable("é".as_bytes()), "é");
    }
}
