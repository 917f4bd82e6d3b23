//! Why a receiver fails the connection (RFC 6455 §7.1.7): one [`FailReason`] per rule of
//! the module table, with the requirement row it enforces and the Close code it sends
//! (A18: 1002 for framing, 1007 for UTF-8, 1009 for size).

use super::close::CloseCode;
use super::send::encode_close;

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
        /// [`Limits::max_message`](super::Limits::max_message).
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

    /// The requirement ID (spec/requirements.md §2.3) this failure enforces.
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
