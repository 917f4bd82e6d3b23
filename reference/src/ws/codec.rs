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

use std::fmt;

use super::frame::{
    self, FrameError, FramePrefix, MAX_CONTROL_PAYLOAD, OpCode, apply_mask, apply_mask_at,
    encode_frame,
};

/// Which side of the connection the receiver is on (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads frames from a client: every frame must be masked (row 6455-5.1-b).
    Server,
    /// Reads frames from a server: no frame may be masked (row 6455-5.1-d).
    Client,
}

/// Resource limits of one receiver (RFC 6455 §10.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, summed over its fragments; larger fails with 1009.
    pub max_message: usize,
    /// Input-buffer capacity kept while idle; more is released once the buffer drains.
    pub max_idle_buffer: usize,
}

impl Limits {
    /// The default [`Limits::max_message`]: 64 KiB, far above any sane SIP message.
    pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
    /// The default [`Limits::max_idle_buffer`]: 4 KiB.
    pub const DEFAULT_MAX_IDLE_BUFFER: usize = 4 * 1024;

    /// The default limits with another message size limit.
    pub fn with_max_message(max_message: usize) -> Limits {
        Limits {
            max_message,
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message: Limits::DEFAULT_MAX_MESSAGE,
            max_idle_buffer: Limits::DEFAULT_MAX_IDLE_BUFFER,
        }
    }
}

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

/// A status code that may be sent in a Close frame (RFC 6455 §7.4): 1000–1003, 1007–1014,
/// 3000–4999. 1005, 1006 and 1015 are for local reporting only and "MUST NOT be set as a
/// status code in a Close control frame" (row 6455-7.4.1-a); 1004 and 1016–2999 are reserved
/// or unassigned, 0–999 unused (§7.4.2). 1012–1014 were registered with IANA after RFC 6455.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

/// A status code that may not appear in a Close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("status code {code} may not be sent in a Close frame (RFC 6455 §7.4)")]
pub struct CloseCodeError {
    /// The refused code.
    pub code: u16,
}

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: going away (server shutting down).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: data inconsistent with the message type (e.g. non-UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: (client) a required extension was not negotiated.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: (server) unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// The code, if it may be sent in a Close frame.
    pub const fn new(code: u16) -> Result<CloseCode, CloseCodeError> {
        if is_sendable_close_code(code) {
            Ok(CloseCode(code))
        } else {
            Err(CloseCodeError { code })
        }
    }

    /// The numeric code.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// May `code` appear in a Close frame? (RFC 6455 §7.4.1, §7.4.2; see [`CloseCode`].)
pub const fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Why the receiver failed the connection (RFC 6455 §7.1.7). Each names the requirement row
/// it enforces ([`FailReason::requirement`]) and the Close code to send ([`FailReason::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FailReason {
    /// A server got a frame without the MASK bit (RFC 6455 §5.1).
    #[error("unmasked frame from a client (RFC 6455 §5.1)")]
    UnmaskedClientFrame,
    /// A client got a frame with the MASK bit (RFC 6455 §5.1).
    #[error("masked frame from a server (RFC 6455 §5.1)")]
    MaskedServerFrame,
    /// RSV bits set while no extension was negotiated (RFC 6455 §5.2).
    #[error("RSV bits {rsv:#05b} set without a negotiated extension (RFC 6455 §5.2)")]
    ReservedBits {
        /// RSV1–RSV3 as a 3-bit number (RSV1 is `0b100`).
        rsv: u8,
    },
    /// A reserved opcode (RFC 6455 §5.2).
    #[error("reserved opcode {opcode:#x} (RFC 6455 §5.2)")]
    ReservedOpcode {
        /// The opcode's 4-bit value.
        opcode: u8,
    },
    /// A 64-bit payload length with its most significant bit set (RFC 6455 §5.2).
    #[error("64-bit payload length with the most significant bit set (RFC 6455 §5.2)")]
    LengthMsbSet,
    /// A control frame with FIN=0 (RFC 6455 §5.4, §5.5: control frames are never fragmented).
    #[error("fragmented control frame, opcode {opcode:#x} with FIN=0 (RFC 6455 §5.5)")]
    FragmentedControlFrame {
        /// The opcode's 4-bit value.
        opcode: u8,
    },
    /// A control frame payload over 125 bytes (RFC 6455 §5.5).
    #[error("control frame payload of {len} bytes exceeds 125 bytes (RFC 6455 §5.5)")]
    ControlFrameTooLong {
        /// The declared payload length.
        len: u64,
    },
    /// A continuation frame while no message is open (RFC 6455 §5.4).
    #[error("continuation frame with no message open (RFC 6455 §5.4)")]
    UnexpectedContinuation,
    /// A Text or Binary frame while a fragmented message is open (RFC 6455 §5.4).
    #[error("new data frame while a fragmented message is open (RFC 6455 §5.4)")]
    InterleavedMessage,
    /// A message larger than the receiver's limit (RFC 6455 §10.4).
    #[error("message of at least {size} bytes exceeds the {limit}-byte limit (RFC 6455 §10.4)")]
    MessageTooBig {
        /// The message size the frame header implies (fragments so far plus this frame).
        size: u64,
        /// [`Limits::max_message`].
        limit: usize,
    },
    /// A text message that is not valid UTF-8 (RFC 6455 §5.6, §8.1).
    #[error("text message is not valid UTF-8 (RFC 6455 §5.6, §8.1)")]
    InvalidUtf8Text,
    /// A Close payload of exactly 1 byte (RFC 6455 §5.5.1: a body starts with a 2-byte code).
    #[error("Close payload of 1 byte (RFC 6455 §5.5.1)")]
    CloseOneByte,
    /// A Close code that may not be sent (RFC 6455 §7.4).
    #[error("Close status code {code} may not be sent (RFC 6455 §7.4)")]
    InvalidCloseCode {
        /// The received code.
        code: u16,
    },
    /// A Close reason that is not UTF-8 (RFC 6455 §5.5.1, §8.1).
    #[error("Close reason is not valid UTF-8 (RFC 6455 §5.5.1)")]
    CloseReasonNotUtf8,
}

impl FailReason {
    /// The Close code to send (A18: 1002 for framing, 1007 for UTF-8, 1009 for size).
    pub fn code(&self) -> CloseCode {
        use FailReason::*;
        match self {
            InvalidUtf8Text | CloseReasonNotUtf8 => CloseCode::INVALID_PAYLOAD,
            MessageTooBig { .. } => CloseCode::MESSAGE_TOO_BIG,
            UnmaskedClientFrame
            | MaskedServerFrame
            | ReservedBits { .. }
            | ReservedOpcode { .. }
            | LengthMsbSet
            | FragmentedControlFrame { .. }
            | ControlFrameTooLong { .. }
            | UnexpectedContinuation
            | InterleavedMessage
            | CloseOneByte
            | InvalidCloseCode { .. } => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// The requirement ID (REQUIREMENTS.md §2.3) this failure enforces.
    pub fn requirement(&self) -> &'static str {
        use FailReason::*;
        match self {
            UnmaskedClientFrame => "6455-5.1-b",
            MaskedServerFrame => "6455-5.1-d",
            ReservedBits { .. } => "6455-5.2-a",
            ReservedOpcode { .. } => "6455-5.2-b",
            LengthMsbSet => "6455-5.2-c",
            FragmentedControlFrame { .. } => "6455-5.4-c",
            ControlFrameTooLong { .. } => "6455-5.5-a",
            UnexpectedContinuation | InterleavedMessage => "6455-5.4-d",
            MessageTooBig { .. } => "6455-10.4-a",
            InvalidUtf8Text => "6455-5.6-a",
            CloseOneByte | CloseReasonNotUtf8 => "6455-5.5.1-a",
            InvalidCloseCode { .. } => "6455-7.4.1-b",
        }
    }

    /// A short fixed reason text for the Close frame (no peer data is reflected).
    pub fn summary(&self) -> &'static str {
        use FailReason::*;
        match self {
            UnmaskedClientFrame => "unmasked client frame",
            MaskedServerFrame => "masked server frame",
            ReservedBits { .. } => "RSV bits set",
            ReservedOpcode { .. } => "reserved opcode",
            LengthMsbSet => "invalid 64-bit length",
            FragmentedControlFrame { .. } => "fragmented control frame",
            ControlFrameTooLong { .. } => "control frame too long",
            UnexpectedContinuation => "continuation without a message",
            InterleavedMessage => "interleaved messages",
            MessageTooBig { .. } => "message too big",
            InvalidUtf8Text => "invalid UTF-8 in text message",
            CloseOneByte => "1-byte Close payload",
            InvalidCloseCode { .. } => "invalid Close code",
            CloseReasonNotUtf8 => "invalid UTF-8 in Close reason",
        }
    }

    /// The Close frame that fails the connection (RFC 6455 §7.1.7): [`FailReason::code`] and
    /// [`FailReason::summary`], masked with `mask` (a client's fresh key, `None` for a server).
    pub fn close_frame(&self, mask: Option<[u8; 4]>) -> Vec<u8> {
        encode_close(Some(self.code()), self.summary(), mask)
    }
}

/// What the receiver found next in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete data message, reassembled from its fragments (RFC 6455 §5.4).
    Message {
        /// Text or binary, from the message's first frame.
        kind: MessageKind,
        /// The unmasked payload; valid UTF-8 when `kind` is [`MessageKind::Text`].
        payload: Vec<u8>,
    },
    /// A Ping and its application data (≤ 125 bytes): answer with [`encode_pong`].
    Ping(Vec<u8>),
    /// A Pong and its application data (≤ 125 bytes); unsolicited ones need no answer.
    Pong(Vec<u8>),
    /// The peer's Close: answer with [`encode_close`] echoing `code` (RFC 6455 §5.5.1). The
    /// receiver yields nothing more.
    Close {
        /// The status code, if the Close had a body; always one [`CloseCode::new`] accepts.
        code: Option<u16>,
        /// The reason text (empty when absent).
        reason: String,
    },
    /// A violation: send [`FailReason::close_frame`] and close TCP (RFC 6455 §7.1.7). The
    /// receiver yields nothing more.
    Fail {
        /// The Close code to send: `reason.code()`.
        code: u16,
        /// What was violated.
        reason: FailReason,
    },
}

/// Where the receiver stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading frames.
    Open,
    /// The peer's Close was delivered; later bytes are discarded (RFC 6455 §1.4).
    Closed,
    /// The connection was failed; later bytes are discarded (RFC 6455 §7.1.7).
    Failed,
}

/// The data frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct DataFrame {
    kind: MessageKind,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to read.
    remaining: u64,
    /// Payload bytes read so far, modulo 4: the masking key's phase (RFC 6455 §5.3).
    phase: u8,
}

/// The receiving half of one WebSocket connection; see the module documentation.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Bytes fed and not yet consumed start at `buf[start]`.
    buf: Vec<u8>,
    start: usize,
    /// The message being reassembled (unmasked payload of its frames so far).
    message: Vec<u8>,
    /// The data frame in progress, if its header has been read.
    frame: Option<DataFrame>,
    /// The type of the open (started, unfinished) message.
    open: Option<MessageKind>,
    limits: Limits,
    utf8: Utf8Validator,
    role: Role,
    state: State,
    /// Mutant ([`crate::mutation::Mutation::SkipUtf8Validation`]): text read as binary.
    #[cfg(feature = "mutants")]
    text_as_binary: bool,
}

impl Receiver {
    /// A receiver for frames sent to `role` (a server reads a client's frames).
    pub fn new(role: Role, limits: Limits) -> Receiver {
        Receiver {
            buf: Vec::new(),
            start: 0,
            message: Vec::new(),
            frame: None,
            open: None,
            limits,
            utf8: Utf8Validator::default(),
            role,
            state: State::Open,
            #[cfg(feature = "mutants")]
            text_as_binary: false,
        }
    }

    /// Mutant ([`crate::mutation::Mutation::SkipUtf8Validation`]): text messages are no
    /// longer checked for UTF-8 and are delivered as binary ones.
    #[cfg(feature = "mutants")]
    pub fn skip_utf8_validation(&mut self) {
        self.text_as_binary = true;
    }

    /// The role given at construction.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The limits given at construction.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Appends bytes read from the connection. Ignored after a Close or Fail event.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.state != State::Open || bytes.is_empty() {
            return;
        }
        self.discard_consumed();
        self.buf.extend_from_slice(bytes);
    }

    /// The next event, or `None` when more bytes are needed (or after a Close or Fail).
    pub fn next_event(&mut self) -> Option<Event> {
        if self.state != State::Open {
            return None;
        }
        let event = self.step();
        if event.is_none() {
            self.release_idle();
        }
        event
    }

    /// Has the receiver delivered a Close or a Fail (and so stopped reading)?
    pub fn is_terminated(&self) -> bool {
        self.state != State::Open
    }

    /// Bytes held: fed but unprocessed input plus the message reassembled so far.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start + self.message.len()
    }

    /// Heap bytes held (buffer capacities), the receiver's cost beyond `size_of`.
    pub fn retained_capacity(&self) -> usize {
        self.buf.capacity() + self.message.capacity()
    }

    /// Runs the machine until it has an event or needs bytes.
    fn step(&mut self) -> Option<Event> {
        loop {
            if let Some(frame) = self.frame {
                if let Some(event) = self.read_data_payload(frame) {
                    return Some(event);
                }
                if self.frame.is_some() {
                    // The payload is not all here yet.
                    return None;
                }
                continue;
            }
            let avail = &self.buf[self.start..];
            let [b0, b1, ..] = *avail else {
                return None;
            };
            if let Err(reason) = self.check_prefix(FramePrefix::decode(b0, b1)) {
                return Some(self.fail(reason));
            }
            let (header, header_len) = match frame::decode_header(avail) {
                Ok(Some(decoded)) => decoded,
                Ok(None) => return None,
                Err(FrameError::LengthMsbSet { .. }) => {
                    return Some(self.fail(FailReason::LengthMsbSet));
                }
                Err(FrameError::ControlPayloadTooLong { len }) => {
                    // decode_header never returns this; mapped for completeness.
                    let len = len as u64;
                    return Some(self.fail(FailReason::ControlFrameTooLong { len }));
                }
            };
            if header.opcode.is_control() {
                // RFC 6455 §5.5: control payloads are at most 125 bytes, so the whole frame
                // is awaited in the input buffer, then handled at once.
                if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                    let len = header.payload_len;
                    return Some(self.fail(FailReason::ControlFrameTooLong { len }));
                }
                // At most 125: checked just above.
                let len = header.payload_len as usize;
                let body = avail.get(header_len..header_len + len)?;
                let mut payload = body.to_vec();
                if let Some(key) = header.mask {
                    apply_mask(&mut payload, key);
                }
                self.start += header_len + len;
                return Some(self.control(header.opcode, payload));
            }
            // A data frame. RFC 6455 §10.4: the size limit is decided from the header, before
            // any payload byte is read or any memory reserved.
            let size = (self.message.len() as u64).saturating_add(header.payload_len);
            if size > self.limits.max_message as u64 {
                let limit = self.limits.max_message;
                return Some(self.fail(FailReason::MessageTooBig { size, limit }));
            }
            let kind = match (header.opcode, self.open) {
                #[cfg(feature = "mutants")]
                (OpCode::Text, None) if self.text_as_binary => MessageKind::Binary,
                (OpCode::Text, None) => MessageKind::Text,
                (OpCode::Binary, None) => MessageKind::Binary,
                (OpCode::Continuation, Some(kind)) => kind,
                // check_prefix refused every other combination.
                (OpCode::Continuation, None) => {
                    return Some(self.fail(FailReason::UnexpectedContinuation));
                }
                _ => return Some(self.fail(FailReason::InterleavedMessage)),
            };
            self.open = Some(kind);
            self.start += header_len;
            self.frame = Some(DataFrame {
                kind,
                fin: header.fin,
                mask: header.mask,
                remaining: header.payload_len,
                phase: 0,
            });
        }
    }

    /// Rules decided by the first two header bytes (table rows 1–6).
    fn check_prefix(&self, prefix: FramePrefix) -> Result<(), FailReason> {
        if prefix.rsv != 0 {
            // RFC 6455 §5.2: no extension is negotiated (ws::extensions), so any RSV bit fails.
            return Err(FailReason::ReservedBits { rsv: prefix.rsv });
        }
        if let OpCode::Reserved(opcode) = prefix.opcode {
            return Err(FailReason::ReservedOpcode { opcode });
        }
        match (self.role, prefix.masked) {
            (Role::Server, false) => return Err(FailReason::UnmaskedClientFrame),
            (Role::Client, true) => return Err(FailReason::MaskedServerFrame),
            _ => {}
        }
        if prefix.opcode.is_control() {
            if !prefix.fin {
                let opcode = prefix.opcode.as_u8();
                return Err(FailReason::FragmentedControlFrame { opcode });
            }
            return Ok(());
        }
        // RFC 6455 §5.4: a message is one start frame (Text/Binary) then continuations.
        match (prefix.opcode, self.open) {
            (OpCode::Continuation, None) => Err(FailReason::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => Err(FailReason::InterleavedMessage),
            _ => Ok(()),
        }
    }

    /// Moves what has arrived of the current data frame's payload into the message. Returns
    /// an event when the frame ends a message or breaks a rule; `self.frame` is `None`
    /// afterwards when the frame is complete.
    fn read_data_payload(&mut self, mut frame: DataFrame) -> Option<Event> {
        let avail = self.buf.len() - self.start;
        // min() with the usize `avail` makes the cast lossless.
        let n = frame.remaining.min(avail as u64) as usize;
        if n > 0 {
            self.reserve_message(n, frame.remaining);
            let old = self.message.len();
            self.message
                .extend_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            if let Some(key) = frame.mask {
                apply_mask_at(&mut self.message[old..], key, usize::from(frame.phase));
            }
            // n % 4 < 4, so the sum stays far below u8::MAX.
            frame.phase = (frame.phase + (n % 4) as u8) % 4;
            frame.remaining -= n as u64;
            if frame.kind == MessageKind::Text && self.utf8.feed(&self.message[old..]).is_err() {
                return Some(self.fail(FailReason::InvalidUtf8Text));
            }
        }
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return None;
        }
        self.frame = None;
        if !frame.fin {
            return None;
        }
        if frame.kind == MessageKind::Text && !self.utf8.is_complete() {
            // RFC 6455 §5.6: the message ends inside a character.
            return Some(self.fail(FailReason::InvalidUtf8Text));
        }
        self.open = None;
        self.utf8 = Utf8Validator::default();
        Some(Event::Message {
            kind: frame.kind,
            payload: std::mem::take(&mut self.message),
        })
    }

    /// Makes room for `n` more message bytes, growing geometrically but never past what the
    /// current frame can still bring (`frame_remaining`, which includes the `n`) nor past the
    /// limit: the declared length bounds growth, it never causes it.
    fn reserve_message(&mut self, n: usize, frame_remaining: u64) {
        let len = self.message.len();
        let need = len + n;
        let capacity = self.message.capacity();
        if need <= capacity {
            return;
        }
        // len + frame_remaining <= max_message was checked at the header, so it fits.
        let bound = (len as u64)
            .saturating_add(frame_remaining)
            .min(self.limits.max_message as u64) as usize;
        let target = need.max(capacity.saturating_mul(2).min(bound));
        self.message.reserve_exact(target - len);
    }

    /// Handles a complete control frame (table rows 11–13 for Close).
    fn control(&mut self, opcode: OpCode, payload: Vec<u8>) -> Event {
        match opcode {
            OpCode::Ping => Event::Ping(payload),
            OpCode::Pong => Event::Pong(payload),
            OpCode::Close => self.close(&payload),
            // check_prefix refused reserved control opcodes; mapped for completeness.
            other => self.fail(FailReason::ReservedOpcode {
                opcode: other.as_u8(),
            }),
        }
    }

    /// Parses the peer's Close body (RFC 6455 §5.5.1) and stops reading.
    fn close(&mut self, payload: &[u8]) -> Event {
        let event = match *payload {
            [] => Event::Close {
                code: None,
                reason: String::new(),
            },
            [_] => return self.fail(FailReason::CloseOneByte),
            [hi, lo, ref reason @ ..] => {
                let code = u16::from_be_bytes([hi, lo]);
                if !is_sendable_close_code(code) {
                    return self.fail(FailReason::InvalidCloseCode { code });
                }
                let Ok(reason) = std::str::from_utf8(reason) else {
                    return self.fail(FailReason::CloseReasonNotUtf8);
                };
                Event::Close {
                    code: Some(code),
                    reason: reason.to_owned(),
                }
            }
        };
        self.terminate(State::Closed);
        event
    }

    /// Fails the connection: nothing more is read (RFC 6455 §7.1.7).
    fn fail(&mut self, reason: FailReason) -> Event {
        self.terminate(State::Failed);
        Event::Fail {
            code: reason.code().get(),
            reason,
        }
    }

    /// Stops reading for good and frees every buffer.
    fn terminate(&mut self, state: State) {
        self.state = state;
        self.buf = Vec::new();
        self.start = 0;
        self.message = Vec::new();
        self.frame = None;
        self.open = None;
        self.utf8 = Utf8Validator::default();
    }

    /// Drops consumed bytes from the front of the input buffer.
    fn discard_consumed(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
        } else if self.start > 0 {
            self.buf.drain(..self.start);
        }
        self.start = 0;
    }

    /// Called when more bytes are needed: what is left is at most a partial header or a
    /// partial control frame (data payloads move into the message as they arrive), so the
    /// capacity above the idle allowance goes back to the allocator.
    fn release_idle(&mut self) {
        self.discard_consumed();
        if self.buf.capacity() > self.limits.max_idle_buffer {
            if self.buf.is_empty() {
                self.buf = Vec::new();
            } else {
                self.buf.shrink_to_fit();
            }
        }
    }
}

/// Incremental UTF-8 validation (RFC 3629, via `std::str::from_utf8`), keeping at most one
/// unfinished character between pieces.
#[derive(Debug, Clone, Copy, Default)]
struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// Checks the next piece; `Err` as soon as the text so far cannot be valid UTF-8.
    fn feed(&mut self, mut input: &[u8]) -> Result<(), ()> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let width = utf8_width(self.partial[0]).ok_or(())?;
            let take = (width - have).min(input.len());
            self.partial[have..have + take].copy_from_slice(&input[..take]);
            input = &input[take..];
            let have = have + take;
            match std::str::from_utf8(&self.partial[..have]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return Err(()),
                Err(_) => {
                    // A valid prefix, still short: `input` is used up.
                    // have < width <= 4, so it fits in u8.
                    self.partial_len = have as u8;
                    return Ok(());
                }
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(()),
            Err(e) => {
                // The input ends inside a character that may still be completed; its valid
                // prefix is at most 3 bytes.
                let tail = &input[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Does the text end on a character boundary?
    fn is_complete(&self) -> bool {
        self.partial_len == 0
    }
}

/// The length of the UTF-8 sequence a lead byte starts (RFC 3629 §4), if it can lead one.
fn utf8_width(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7F => Some(1),
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// Feeds `bytes` to a new receiver at once and drains every event: a pure convenience for
/// test vectors.
pub fn run(role: Role, limits: Limits, bytes: &[u8]) -> Vec<Event> {
    let mut rx = Receiver::new(role, limits);
    rx.feed(bytes);
    std::iter::from_fn(|| rx.next_event()).collect()
}

/// One data message as one frame with FIN=1 (RFC 7118 §5: one SIP message per WebSocket
/// message), masked with `mask` when given.
pub fn encode_message(kind: MessageKind, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    encode_frame(true, kind.opcode(), mask, payload)
}

/// Largest Close reason: 125 bytes of control payload minus the 2-byte code.
pub const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// A Close frame (RFC 6455 §5.5.1). With `code` `None` the body is empty and `reason` is not
/// sent (a reason needs a code before it). The reason is cut to the last character boundary
/// within [`MAX_CLOSE_REASON`] bytes so the frame stays a valid control frame. The
/// [`CloseCode`] type keeps 1005, 1006 and 1015 off the wire (row 6455-7.4.1-a).
pub fn encode_close(code: Option<CloseCode>, reason: &str, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(code) = code {
        let mut end = reason.len().min(MAX_CLOSE_REASON);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        body.reserve(2 + end);
        body.extend_from_slice(&code.get().to_be_bytes());
        body.extend_from_slice(&reason.as_bytes()[..end]);
    }
    encode_frame(true, OpCode::Close, mask, &body)
}

/// A Ping frame (RFC 6455 §5.5.2); the payload is at most 125 bytes (§5.5).
pub fn encode_ping(payload: &[u8], mask: Option<[u8; 4]>) -> Result<Vec<u8>, FrameError> {
    encode_control(OpCode::Ping, payload, mask)
}

/// A Pong frame (RFC 6455 §5.5.3): to answer a Ping, pass the Ping's payload unchanged (row
/// 6455-5.5.3-a); a payload from [`Event::Ping`] is always short enough.
pub fn encode_pong(payload: &[u8], mask: Option<[u8; 4]>) -> Result<Vec<u8>, FrameError> {
    encode_control(OpCode::Pong, payload, mask)
}

fn encode_control(
    opcode: OpCode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Result<Vec<u8>, FrameError> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(FrameError::ControlPayloadTooLong { len: payload.len() });
    }
    Ok(encode_frame(true, opcode, mask, payload))
}

/// The message type for a SIP message (RFC 7118 §4.2): text when the whole message is valid
/// UTF-8, binary otherwise (row 7118-4.2-b). A UTF-8 message could go either way (A16); text
/// is chosen as the RECOMMENDED encoding (7118-4.2-c).
pub fn sip_message_kind(payload: &[u8]) -> MessageKind {
    if std::str::from_utf8(payload).is_ok() {
        MessageKind::Text
    } else {
        MessageKind::Binary
    }
}

#[cfg(test)]
mod tests;
