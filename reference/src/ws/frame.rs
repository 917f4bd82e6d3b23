//! The WebSocket base framing (RFC 6455 §5.2): header layout, payload-length forms and
//! masking (§5.3), as pure functions over bytes.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! ```
//!
//! This module only knows the layout. Which headers are acceptable (RSV bits, reserved
//! opcodes, masking direction, control-frame rules, size limits) is the receiver's decision,
//! in [`super::codec`]; [`decode_header`] rejects only what cannot be represented: a 64-bit
//! length with its most significant bit set (RFC 6455 §5.2, row 6455-5.2-c).
//!
//! Decisions:
//! - **Non-minimal length encodings are accepted on receive** (e.g. 5 encoded as `126, 0, 5`).
//!   RFC 6455 §5.2 binds the *sender* to the minimal form ("the minimal number of bytes MUST be
//!   used") and says nothing of the receiver (spec/requirements.md row 6455-5.2-c: receiver reaction
//!   UNCONFIRMED). Accepting costs nothing and the decoded length is what every other rule is
//!   checked against. [`shortest_header_len`] lets an observer (the conformance suite) flag a
//!   peer's non-minimal header by comparing it with the decoded header's size.
//! - **Senders always use the shortest form** ([`encode_frame`]): 0–125 in the 7-bit field,
//!   126–65535 in the 16-bit field, larger in the 64-bit field.
//! - RSV bits are always sent as 0: no extension is ever negotiated (see `ws::extensions`).

/// Largest payload carried in the 7-bit length field (RFC 6455 §5.2).
pub const MAX_7BIT_LEN: u64 = 125;
/// Largest payload carried in the 16-bit extended length field.
pub const MAX_16BIT_LEN: u64 = u16::MAX as u64;
/// Largest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// Largest possible frame header: 2 bytes, 8 bytes of 64-bit length, 4 bytes of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// A frame opcode (RFC 6455 §5.2, §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `%x0`: a continuation frame.
    Continuation,
    /// `%x1`: the first frame of a text message.
    Text,
    /// `%x2`: the first frame of a binary message.
    Binary,
    /// `%x8`: connection close.
    Close,
    /// `%x9`: ping.
    Ping,
    /// `%xA`: pong.
    Pong,
    /// `%x3`–`%x7` (reserved non-control) or `%xB`–`%xF` (reserved control). Only
    /// [`OpCode::from_nibble`] builds it, with one of those values.
    Reserved(u8),
}

impl OpCode {
    /// The opcode of the low 4 bits of `byte` (the high bits are ignored).
    pub fn from_nibble(byte: u8) -> OpCode {
        match byte & 0x0F {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            other => OpCode::Reserved(other),
        }
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
            OpCode::Reserved(n) => n & 0x0F,
        }
    }

    /// A control frame: the opcode's most significant bit is set (RFC 6455 §5.5), including
    /// the reserved control opcodes `%xB`–`%xF`.
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x08 != 0
    }

    /// One of the opcodes RFC 6455 leaves reserved (§5.2).
    pub fn is_reserved(self) -> bool {
        matches!(self, OpCode::Reserved(_))
    }
}

impl From<OpCode> for u8 {
    fn from(op: OpCode) -> u8 {
        op.as_u8()
    }
}

/// The first two bytes of a frame header: everything except the extended length and the
/// masking key. Enough to apply every rule that does not need the exact length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePrefix {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as a 3-bit number (RSV1 is `0b100`).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The MASK bit.
    pub masked: bool,
    /// The 7-bit payload-length field (126 and 127 announce the 16- and 64-bit forms).
    pub len7: u8,
}

impl FramePrefix {
    /// Decodes the first two header bytes.
    pub fn decode(b0: u8, b1: u8) -> FramePrefix {
        FramePrefix {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x07,
            opcode: OpCode::from_nibble(b0),
            masked: b1 & 0x80 != 0,
            len7: b1 & 0x7F,
        }
    }

    /// The full header size this prefix announces: 2, plus 2 or 8 for the extended length,
    /// plus 4 for the masking key.
    pub fn header_len(&self) -> usize {
        let ext = match self.len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + ext + if self.masked { 4 } else { 0 }
    }
}

/// A decoded frame header (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as a 3-bit number (RSV1 is `0b100`).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length, as decoded (minimal form or not).
    pub payload_len: u64,
}

/// A framing error: something the header layout itself cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit payload length.
    #[error("64-bit payload length {len:#018x} has its most significant bit set (RFC 6455 §5.2)")]
    LengthMsbSet {
        /// The 64 bits as received.
        len: u64,
    },
    /// RFC 6455 §5.5: a control frame payload is at most 125 bytes.
    #[error("control frame payload of {len} bytes exceeds 125 bytes (RFC 6455 §5.5)")]
    ControlPayloadTooLong {
        /// The payload length asked for.
        len: usize,
    },
}

impl FrameError {
    /// The requirement ID (spec/requirements.md) the error enforces.
    pub fn requirement(&self) -> &'static str {
        match self {
            FrameError::LengthMsbSet { .. } => "6455-5.2-c",
            FrameError::ControlPayloadTooLong { .. } => "6455-5.5-a",
        }
    }
}

/// Decodes one frame header from the start of `bytes`.
///
/// Returns `Ok(None)` when `bytes` does not yet hold the whole header, and
/// `Ok(Some((header, n)))` with `n` the header's size in bytes (the payload starts at
/// `bytes[n]`). Non-minimal length encodings are accepted (see the module notes); a 64-bit
/// length with its most significant bit set is [`FrameError::LengthMsbSet`].
pub fn decode_header(bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    let prefix = FramePrefix::decode(b0, b1);
    let n = prefix.header_len();
    let Some(header) = bytes.get(..n) else {
        return Ok(None);
    };
    let (payload_len, rest) = match prefix.len7 {
        126 => {
            let [h, l, ref rest @ ..] = header[2..] else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([h, l])), rest)
        }
        127 => {
            let [a, b, c, d, e, f, g, h, ref rest @ ..] = header[2..] else {
                return Ok(None);
            };
            let len = u64::from_be_bytes([a, b, c, d, e, f, g, h]);
            if len >> 63 != 0 {
                return Err(FrameError::LengthMsbSet { len });
            }
            (len, rest)
        }
        short => (u64::from(short), &header[2..]),
    };
    let mask = match *rest {
        [k0, k1, k2, k3] if prefix.masked => Some([k0, k1, k2, k3]),
        _ => None,
    };
    Ok(Some((
        FrameHeader {
            fin: prefix.fin,
            rsv: prefix.rsv,
            opcode: prefix.opcode,
            mask,
            payload_len,
        },
        n,
    )))
}

/// The size of the shortest header that carries `payload_len` (RFC 6455 §5.2: "the minimal
/// number of bytes MUST be used"), with or without a masking key.
pub fn shortest_header_len(masked: bool, payload_len: u64) -> usize {
    let len = if payload_len <= MAX_7BIT_LEN {
        2
    } else if payload_len <= MAX_16BIT_LEN {
        4
    } else {
        10
    };
    len + if masked { 4 } else { 0 }
}

/// Appends one frame to `out`: RSV bits 0, the shortest length form (row 6455-5.2-c), and
/// the payload masked with `mask` when given (RFC 6455 §5.3; a client always passes a fresh
/// key, row 6455-5.1-a; a server never does, row 6455-5.1-c).
///
/// A payload longer than 2^63 − 1 bytes cannot exist in memory, so the 64-bit form always has
/// its most significant bit clear.
pub fn encode_frame_into(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    let len = payload.len() as u64;
    out.reserve(shortest_header_len(mask.is_some(), len) + payload.len());
    out.push(if fin { 0x80 } else { 0 } | opcode.as_u8());
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len <= MAX_7BIT_LEN {
        // Fits in 7 bits: checked just above.
        out.push(mask_bit | len as u8);
    } else if len <= MAX_16BIT_LEN {
        out.push(mask_bit | 126);
        // Fits in 16 bits: checked just above.
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    let start = match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.len()
        }
        None => out.len(),
    };
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key);
    }
}

/// One frame as bytes; see [`encode_frame_into`].
pub fn encode_frame(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame_into(&mut out, fin, opcode, mask, payload);
    out
}

/// Masks or unmasks `data` in place (RFC 6455 §5.3: octet i is XORed with key octet i mod 4).
pub fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    apply_mask_at(data, key, 0);
}

/// Masks or unmasks `data` in place, where `data[0]` is octet `offset` of the payload: the
/// form a receiver needs when a payload arrives in pieces.
///
/// Works 8 bytes at a time (one `u64` XOR) and finishes byte by byte.
pub fn apply_mask_at(data: &mut [u8], key: [u8; 4], offset: usize) {
    let k = key;
    let r = offset % 4;
    let key = [k[r], k[(r + 1) % 4], k[(r + 2) % 4], k[(r + 3) % 4]];
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so its key phase is 0 again.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests;
