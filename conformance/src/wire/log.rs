//! The log of one connection: everything the frame steps read from it, in order, and what
//! the client sent that decides how the log answers (RFC 6455 §5.4, §5.5).
//!
//! # The log
//! Everything the frame steps read from a connection goes into that connection's log, in
//! order: every frame, the data messages reassembled from them, Pings, Pongs, Close frames
//! and the TCP close. A step waiting for something *takes* the first matching entry and
//! leaves the rest for later steps; whole-exchange judgements ("no data frame after the
//! Close", "every message is one SIP message") look at all of it. Read a connection either
//! through its log or with the SIP reads of the world the shared SIP steps use
//! ([`World::next_response`](crate::world::World::next_response)), not both once a frame step
//! has read it.
//!
//! The log behaves like a well-mannered WebSocket client: it answers the target's Pings with
//! Pongs (RFC 6455 §5.5.2) and its Close with a Close unless the client already sent one
//! (§5.5.1); and it checks every Close frame the target sends: a 1-byte body, a reason that
//! is not UTF-8 or the codes 1005, 1006, 1015 break the case at once (rows 6455-5.5.1-a and
//! 6455-7.4.1-a hold for every sender, in every scenario). The check itself is a judgement,
//! handed in by whoever reads ([`Log::record`]).
//!
//! Every wait ends at the target's timeout knob, or earlier when the TCP connection closes.

use sipws_reference::sip::Message;

use super::frame::RawFrame;
use super::probe::{Received, describe};
use super::recorder::Recording;
use crate::evidence::printable;
use crate::step::{StepError, StepResult};

/// Something the target sent, as the judgements see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// A complete data message: the opcode of its first frame and the joined payload.
    Message {
        opcode: u8,
        payload: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A Close frame and its status code, if it has one.
    Close(Option<u16>),
    /// Frames that make no sense (a stray continuation, a reserved opcode, a bad header).
    Bad(String),
    /// The target closed the TCP connection.
    Closed,
}

impl Ev {
    /// The entry in words, for verdicts and observations.
    pub fn describe(&self) -> String {
        match self {
            Ev::Message { opcode, payload } => {
                let kind = if *opcode == 0x2 { "binary" } else { "text" };
                let first = payload
                    .split(|b| *b == b'\n')
                    .next()
                    .map(|l| printable(l).trim_end().to_string())
                    .unwrap_or_default();
                format!("a {kind} message ({} bytes) {first:?}", payload.len())
            }
            Ev::Ping(p) => format!("a Ping {:?}", printable(p)),
            Ev::Pong(p) => format!("a Pong {:?}", printable(p)),
            Ev::Close(Some(c)) => format!("a Close frame ({c})"),
            Ev::Close(None) => "a Close frame without a status code".into(),
            Ev::Bad(what) => what.clone(),
            Ev::Closed => "the TCP close".into(),
        }
    }

    /// The SIP message a data message holds, if it holds exactly one.
    pub fn sip(&self) -> Option<Message> {
        match self {
            Ev::Message { payload, .. } => Message::parse(payload).ok(),
            _ => None,
        }
    }

    /// A data message holding a `method` request.
    pub fn is_request(&self, method: &str) -> bool {
        self.sip()
            .is_some_and(|m| m.method().is_some_and(|x| x.as_str() == method))
    }
}

/// Entries in words, joined in order; `nothing` when there are none.
pub fn describe_all(evs: &[Ev]) -> String {
    if evs.is_empty() {
        "nothing".into()
    } else {
        evs.iter()
            .map(Ev::describe)
            .collect::<Vec<_>>()
            .join(", then ")
    }
}

/// What reading once did to a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// Nothing came in time.
    Nothing,
    /// An entry was logged; `reply` is the frame to answer it with (a Pong, a Close).
    Logged { reply: Option<RawFrame> },
}

/// One connection's log.
#[derive(Default)]
pub struct Log {
    events: Vec<Ev>,
    taken: Vec<bool>,
    /// Every frame read, in order.
    frames: Vec<RawFrame>,
    /// A fragmented data message being reassembled: opcode and payload so far.
    partial: Option<(u8, Vec<u8>)>,
    closed: bool,
    /// The client sent a Close (so a Close from the target is its answer, not to be answered).
    sent_close: bool,
    last_ping: Option<Vec<u8>>,
    /// Every byte read from the socket, when the connection was opened to record them.
    raw: Option<Recording>,
}

impl Log {
    /// Every entry, taken or not.
    pub fn events(&self) -> &[Ev] {
        &self.events
    }

    /// Every frame read, in order.
    pub fn frames(&self) -> &[RawFrame] {
        &self.frames
    }

    /// The target closed the TCP connection.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Keep the recording of the connection's raw bytes.
    pub fn set_recording(&mut self, raw: Recording) {
        self.raw = Some(raw);
    }

    /// Every byte read so far, when the connection records them.
    pub fn recording(&self) -> Option<&Recording> {
        self.raw.as_ref()
    }

    /// What the client's last Ping carried.
    pub fn last_ping(&self) -> Option<&[u8]> {
        self.last_ping.as_deref()
    }

    /// Note frames the client sends: a Close means the target's Close is an answer, and a
    /// Ping's payload is what `the last Ping's payload` stands for.
    pub fn note_sent(&mut self, frames: &[RawFrame]) {
        for f in frames {
            if f.opcode == 0x8 {
                self.sent_close = true;
            }
            if f.opcode == 0x9 {
                self.last_ping = Some(f.payload.clone());
            }
        }
    }

    fn push(&mut self, ev: Ev) {
        self.events.push(ev);
        self.taken.push(false);
    }

    /// Add what one read returned; `check_close` judges every Close frame the target sends
    /// before it is answered.
    pub fn record(
        &mut self,
        got: Received,
        check_close: fn(&RawFrame) -> StepResult,
    ) -> Result<Pulled, StepError> {
        let reply = match got {
            Received::Timeout => return Ok(Pulled::Nothing),
            Received::Closed => {
                self.closed = true;
                self.push(Ev::Closed);
                None
            }
            Received::Frame(f) => self.absorb(f, check_close)?,
            Received::BadFrame(b) => {
                self.push(Ev::Bad(format!(
                    "an undecodable frame header ({} bytes)",
                    b.len()
                )));
                None
            }
            other => {
                self.push(Ev::Bad(describe(&other)));
                None
            }
        };
        Ok(Pulled::Logged { reply })
    }

    /// Add a frame; returns the frame to answer it with (a Pong, a Close), if any.
    pub fn absorb(
        &mut self,
        f: RawFrame,
        check_close: fn(&RawFrame) -> StepResult,
    ) -> Result<Option<RawFrame>, StepError> {
        self.frames.push(f.clone());
        let mut reply = None;
        match f.opcode {
            0x1 | 0x2 => {
                if self.partial.is_some() {
                    self.push(Ev::Bad(format!(
                        "a new {} frame inside a fragmented message",
                        f.describe()
                    )));
                    self.partial = None;
                }
                if f.fin {
                    self.push(Ev::Message {
                        opcode: f.opcode,
                        payload: f.payload,
                    });
                } else {
                    self.partial = Some((f.opcode, f.payload));
                }
            }
            0x0 => match self.partial.take() {
                Some((opcode, mut payload)) => {
                    payload.extend_from_slice(&f.payload);
                    if f.fin {
                        self.push(Ev::Message { opcode, payload });
                    } else {
                        self.partial = Some((opcode, payload));
                    }
                }
                None => self.push(Ev::Bad("a continuation frame with no message open".into())),
            },
            0x8 => {
                self.push(Ev::Close(f.close_code()));
                check_close(&f)?;
                if !self.sent_close {
                    self.sent_close = true;
                    let body = f.close_code().map(|c| c.to_be_bytes().to_vec());
                    reply = Some(RawFrame::new(0x8, body.unwrap_or_default()));
                }
            }
            0x9 => {
                reply = Some(RawFrame::pong(f.payload.clone()));
                self.push(Ev::Ping(f.payload));
            }
            0xA => self.push(Ev::Pong(f.payload)),
            other => self.push(Ev::Bad(format!("a frame with reserved opcode {other:#x}"))),
        }
        Ok(reply)
    }

    /// Take the first untaken entry at or after `*from` that `want` accepts; `*from` moves
    /// past what was looked at, so a waiting caller does not look at an entry twice.
    pub fn take_first(&mut self, from: &mut usize, want: impl Fn(&Ev) -> bool) -> Option<Ev> {
        while *from < self.events.len() {
            let i = *from;
            if !self.taken[i] && want(&self.events[i]) {
                self.taken[i] = true;
                return Some(self.events[i].clone());
            }
            *from += 1;
        }
        None
    }

    /// The entries no step has taken yet.
    pub fn untaken(&self) -> Vec<Ev> {
        self.events
            .iter()
            .zip(&self.taken)
            .filter(|(_, t)| !**t)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// Take every entry not taken yet.
    pub fn take_all(&mut self) -> Vec<Ev> {
        let evs = self.untaken();
        self.taken.iter_mut().for_each(|t| *t = true);
        evs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any_close(_: &RawFrame) -> StepResult {
        Ok(())
    }

    #[test]
    fn fragments_are_joined_and_stray_continuations_noted() {
        let mut l = Log::default();
        l.absorb(RawFrame::text("ab").fin(false).unmasked(), any_close)
            .expect("ok");
        l.absorb(RawFrame::ping("p").unmasked(), any_close)
            .expect("ok");
        l.absorb(RawFrame::continuation("c").unmasked(), any_close)
            .expect("ok");
        l.absorb(RawFrame::continuation("d").unmasked(), any_close)
            .expect("ok");
        assert_eq!(l.events[0], Ev::Ping(b"p".to_vec()));
        assert_eq!(
            l.events[1],
            Ev::Message {
                opcode: 1,
                payload: b"abc".to_vec()
            }
        );
        assert!(matches!(l.events[2], Ev::Bad(_)));
    }

    #[test]
    fn a_close_after_the_clients_close_is_not_answered_and_taking_takes_once() {
        let mut l = Log::default();
        l.note_sent(&[RawFrame::ping("mine"), RawFrame::close(1000, "")]);
        assert_eq!(l.last_ping(), Some(&b"mine"[..]));
        let got = l.record(
            Received::Frame(RawFrame::close(1000, "").unmasked()),
            any_close,
        );
        assert_eq!(got, Ok(Pulled::Logged { reply: None }));
        assert_eq!(l.record(Received::Timeout, any_close), Ok(Pulled::Nothing));
        l.record(Received::Closed, any_close).expect("logged");
        assert!(l.is_closed());
        let mut from = 0;
        assert_eq!(
            l.take_first(&mut from, |e| *e == Ev::Closed),
            Some(Ev::Closed)
        );
        assert_eq!(l.take_first(&mut 0, |e| *e == Ev::Closed), None);
        assert_eq!(l.take_all(), vec![Ev::Close(Some(1000))]);
        assert!(l.untaken().is_empty());
    }
}
