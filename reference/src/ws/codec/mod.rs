//! The WebSocket data-framing state machine (RFC 6455 §5, §7.1.7, §8.1, §10.4) for SIP over
//! WebSocket (RFC 7118 §4.2, §5), sans-IO: no socket, no clock, no randomness (masking keys
//! are passed in).
//!
//! # Receiving: [`Receiver`]
//! One [`Receiver`] reads one direction of one connection. The I/O shell [`Receiver::feed`]s
//! it the bytes it read and drains [`Receiver::next_event`] until `None` (more bytes needed):
//!
//! ```
//! use sipws_reference::ws::codec::{Event, Limits, MessageKind, Receiver, Role};
//! // RFC 6455 §5.7: a masked text frame "Hello" from a client.
//! let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let mut rx = Receiver::new(Role::Server, Limits::default());
//! rx.feed(&bytes);
//! assert_eq!(
//!     rx.next_event(),
//!     Some(Event::Message { kind: MessageKind::Text, payload: b"Hello".to_vec() })
//! );
//! assert_eq!(rx.next_event(), None);
//! ```
//!
//! Events, and what the shell does with them:
//! - [`Event::Message`]: one complete, reassembled data message (RFC 6455 §5.4; RFC 7118 §5:
//!   one SIP message). Text and binary are both delivered (row 7118-4.2-a).
//! - [`Event::Ping`] / [`Event::Pong`]: control frames, in stream order, also between the
//!   fragments of a message (row 6455-5.4-b). The shell answers a Ping with
//!   [`encode_pong`] of the same payload (rows 6455-5.5.2-a, 6455-5.5.3-a).
//! - [`Event::Close`]: the peer's Close. The shell answers with [`encode_close`] echoing the
//!   code (row 6455-5.5.1-b), sends no more data (6455-5.5.1-c) and closes. Everything the
//!   peer sends after its Close is discarded (RFC 6455 §1.4: "after receiving a control frame
//!   indicating the connection should be closed, a peer discards any further data").
//! - [`Event::Fail`]: the peer broke a rule; RFC 6455 §7.1.7 "Fail the WebSocket Connection".
//!   The shell sends [`FailReason::close_frame`] and closes TCP. The receiver yields nothing
//!   more, whatever bytes follow (row 6455-7.1.7-a).
//!
//! # Rules, in the order they are checked
//! Header rules are checked as soon as the bytes they need are there: the first two bytes
//! decide rules 1–6, the full header rules 7–9, so a violation fails without waiting for the
//! rest of the frame. Each failure is one [`FailReason`] naming its requirement row.
//!
//! | # | Rule | Row | Close code |
//! |---|---|---|---|
//! | 1 | RSV1–3 are 0 (no extension is ever negotiated) | 6455-5.2-a | 1002 |
//! | 2 | the opcode is not reserved (`%x3`–`%x7`, `%xB`–`%xF`) | 6455-5.2-b | 1002 |
//! | 3 | a server receives only masked frames | 6455-5.1-b | 1002 |
//! | 3 | a client receives only unmasked frames | 6455-5.1-d | 1002 |
//! | 4 | a control frame has FIN=1 | 6455-5.4-c | 1002 |
//! | 5 | a continuation frame continues an open message | 6455-5.4-d | 1002 |
//! | 6 | a Text/Binary frame does not start while a message is open | 6455-5.4-d | 1002 |
//! | 7 | a 64-bit length has its most significant bit clear | 6455-5.2-c | 1002 |
//! | 8 | a control payload is at most 125 bytes | 6455-5.5-a | 1002 |
//! | 9 | the message (sum of its fragments) is at most [`Limits::max_message`] | 6455-10.4-a | 1009 |
//! | 10 | text is valid UTF-8, checked as bytes arrive | 6455-5.6-a | 1007 |
//! | 11 | a Close payload is not 1 byte long | 6455-5.5.1-a | 1002 |
//! | 12 | a Close code is one that may be sent (see [`CloseCode`]) | 6455-7.4.1-b | 1002 |
//! | 13 | a Close reason is UTF-8 | 6455-5.5.1-a | 1007 |
//!
//! Policy decisions:
//! - **Close codes (A18).** RFC 6455 asks only for "an appropriate status code". Framing
//!   violations get 1002 (protocol error), invalid UTF-8 (text or Close reason) 1007, an
//!   oversized message 1009 (RFC 6455 §7.4.1). A received Close code that no endpoint may send
//!   (below 1000, 1004–1006, 1015, 1016–2999, above 4999; RFC 6455 §7.4.1, §7.4.2) is a
//!   protocol error, 1002. The IANA-registered 1012–1014 are accepted.
//! - **UTF-8** is checked incrementally, fragment by fragment and piece by piece: an invalid
//!   sequence fails as soon as it is certain (e.g. at `0xC0`, at `0xED 0xA0`), while a
//!   character split across fragments is fine; an unfinished character at the message's end
//!   fails then (RFC 6455 §5.6, §8.1).
//! - **Size (6455-10.4-a, A15).** Decided from the frame *header*: a header whose length
//!   would take the message past [`Limits::max_message`] fails at once, before any payload
//!   byte is read or memory is reserved (a header announcing 2^62 bytes costs nothing).
//!   Control frames are bounded by rule 8.
//! - **Non-minimal length encodings are accepted** (RFC 6455 §5.2 binds senders only; see
//!   [`super::frame`]).
//! - **CRLF keep-alives (A7)** and payload contents (A10) are not this layer's business: a
//!   `\r\n\r\n` text message is an ordinary [`Event::Message`].
//!
//! # Memory
//! The declared payload length is never trusted for allocation: payload bytes are unmasked
//! straight into the message buffer as they arrive, which grows geometrically (at most twice
//! what has arrived) and never past [`Limits::max_message`]. Control frames wait in the input
//! buffer until complete (at most 139 bytes). A delivered message is moved out, leaving no
//! capacity behind; once the input buffer is drained, capacity above
//! [`Limits::max_idle_buffer`] is released. So an idle receiver costs
//! `size_of::<Receiver>()` (96 bytes on 64-bit targets) plus at most
//! [`Limits::max_idle_buffer`] of retained input capacity (default 4 KiB; set it to 0 for
//! many idle connections). [`Receiver::buffered`] and [`Receiver::retained_capacity`] report
//! the live figures. Bytes fed but not yet drained through [`Receiver::next_event`] are held
//! as they are: the shell drains events after every read.
//!
//! # Sending
//! Pure helpers build frames: [`encode_message`] (one message in one FIN frame, RFC 7118 §5),
//! [`encode_close`] (its [`CloseCode`] cannot be 1005, 1006 or 1015, row 6455-7.4.1-a),
//! [`encode_ping`], [`encode_pong`]; [`sip_message_kind`] chooses text or binary for a SIP
//! message (row 7118-4.2-b). A client passes a fresh random key per frame (row 6455-5.3-a,
//! the shell's job); a server passes `None` (row 6455-5.1-c).

mod close;
mod fail;
mod receiver;
mod send;
mod utf8;

pub use close::{CloseCode, CloseCodeError, is_sendable_close_code};
pub use fail::FailReason;
pub use receiver::{Event, Limits, Receiver, Role, run};
pub use send::{
    MAX_CLOSE_REASON, encode_close, encode_message, encode_ping, encode_pong, sip_message_kind,
};

use super::frame::OpCode;

/// The type of a data message (RFC 6455 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Opcode `%x1`: UTF-8 text.
    Text,
    /// Opcode `%x2`: arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of the message's first frame.
    pub fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

#[cfg(test)]
mod tests;
