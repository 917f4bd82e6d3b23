//! The receiving state machine (RFC 6455 §5, §7.1.7, §8.1, §10.4): bytes in, [`Event`]s out,
//! the rules checked in the order of the `ws::codec` module table.

use super::MessageKind;
use super::close::is_sendable_close_code;
use super::fail::FailReason;
use super::utf8::Utf8Validator;
use crate::ws::frame::{
    self, FrameError, FramePrefix, MAX_CONTROL_PAYLOAD, OpCode, apply_mask, apply_mask_at,
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
    /// A Ping and its application data (≤ 125 bytes): answer with
    /// [`encode_pong`](super::encode_pong).
    Ping(Vec<u8>),
    /// A Pong and its application data (≤ 125 bytes); unsolicited ones need no answer.
    Pong(Vec<u8>),
    /// The peer's Close: answer with [`encode_close`](super::encode_close) echoing `code`
    /// (RFC 6455 §5.5.1). The receiver yields nothing more.
    Close {
        /// The status code, if the Close had a body; always one
        /// [`CloseCode::new`](super::CloseCode::new) accepts.
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
    /// The message being reassembled (unmasked payload of its frames so far). Visible to the
    /// codec's tests, which bound its growth (module docs, "Memory").
    pub(super) message: Vec<u8>,
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

/// Feeds `bytes` to a new receiver at once and drains every event: a pure convenience for
/// test vectors.
pub fn run(role: Role, limits: Limits, bytes: &[u8]) -> Vec<Event> {
    let mut rx = Receiver::new(role, limits);
    rx.feed(bytes);
    std::iter::from_fn(|| rx.next_event()).collect()
}
