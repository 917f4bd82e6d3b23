//! The sender's helpers: whole frames for one message, Close, Ping and Pong (RFC 6455 §5.5,
//! §5.6; RFC 7118 §5: one SIP message per WebSocket message), and the text/binary choice for a
//! SIP message (RFC 7118 §4.2).

use super::MessageKind;
use super::close::CloseCode;
use crate::ws::frame::{FrameError, MAX_CONTROL_PAYLOAD, OpCode, encode_frame};

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
/// 6455-5.5.3-a); a payload from [`Event::Ping`](super::Event::Ping) is always short enough.
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
