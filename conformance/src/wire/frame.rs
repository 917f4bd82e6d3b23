//! Frames exactly as a test wants them on the wire (RFC 6455 §5.2), right or wrong.

use sipws_reference::ws::frame::{FrameHeader, OpCode, apply_mask};

/// How the payload length is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// The minimal form, as RFC 6455 §5.2 requires of a sender.
    Shortest,
    /// Force the 7-bit field (payloads over 125 bytes are then misdescribed on purpose).
    Bits7,
    /// Force the 16-bit extended field.
    Bits16,
    /// Force the 64-bit extended field.
    Bits64,
    /// Announce this length in the 64-bit field whatever the payload is (e.g. 2^62).
    Declared(u64),
}

/// One frame, every field under the test's control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits.
    pub rsv: u8,
    /// The 4-bit opcode, reserved values included.
    pub opcode: u8,
    /// Client frames are masked (RFC 6455 §5.1); `None` writes an unmasked frame.
    pub mask: Option<[u8; 4]>,
    /// The payload before masking.
    pub payload: Vec<u8>,
    pub length: Length,
}

/// A fixed, arbitrary masking key: the probe's frames need not be unpredictable, only masked.
pub const PROBE_MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

impl RawFrame {
    /// A final, masked frame with the shortest length form.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Self {
        RawFrame {
            fin: true,
            rsv: 0,
            opcode,
            mask: Some(PROBE_MASK),
            payload: payload.into(),
            length: Length::Shortest,
        }
    }

    pub fn text(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(0x1, payload)
    }

    pub fn binary(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(0x2, payload)
    }

    pub fn continuation(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(0x0, payload)
    }

    pub fn ping(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(0x9, payload)
    }

    pub fn pong(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(0xA, payload)
    }

    /// A Close frame with a status code and reason (RFC 6455 §5.5.1).
    pub fn close(code: u16, reason: &str) -> Self {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        Self::new(0x8, payload)
    }

    pub fn fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    pub fn rsv(mut self, rsv: u8) -> Self {
        self.rsv = rsv & 0x7;
        self
    }

    pub fn unmasked(mut self) -> Self {
        self.mask = None;
        self
    }

    pub fn masked_with(mut self, key: [u8; 4]) -> Self {
        self.mask = Some(key);
        self
    }

    pub fn length(mut self, length: Length) -> Self {
        self.length = length;
        self
    }

    /// The frame's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(14 + self.payload.len());
        out.push(u8::from(self.fin) << 7 | (self.rsv & 0x7) << 4 | (self.opcode & 0xF));
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len() as u64;
        let form = match self.length {
            Length::Shortest if len <= 125 => Length::Bits7,
            Length::Shortest if len <= u64::from(u16::MAX) => Length::Bits16,
            Length::Shortest => Length::Bits64,
            other => other,
        };
        match form {
            // Truncation is the point of forcing a short field: the test asked for a lie.
            Length::Bits7 => out.push(mask_bit | (len.min(125) as u8)),
            Length::Bits16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len.min(u64::from(u16::MAX)) as u16).to_be_bytes());
            }
            Length::Bits64 => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
            Length::Declared(n) => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Length::Shortest => unreachable!("resolved to a concrete form above"),
        }
        let mut payload = self.payload.clone();
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
            apply_mask(&mut payload, key);
        }
        out.extend_from_slice(&payload);
        out
    }

    /// Rebuild a frame from a decoded header and its (unmasked) payload.
    pub fn from_parts(header: &FrameHeader, payload: Vec<u8>) -> Self {
        RawFrame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode.as_u8(),
            mask: header.mask,
            payload,
            length: Length::Shortest,
        }
    }

    pub fn op(&self) -> OpCode {
        OpCode::from_nibble(self.opcode)
    }

    /// The status code of a Close frame, if it carries one.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 0x8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// A one-line description for transcripts: `text fin masked len=42`.
    pub fn describe(&self) -> String {
        let name = match self.opcode {
            0x0 => "continuation".to_string(),
            0x1 => "text".to_string(),
            0x2 => "binary".to_string(),
            0x8 => match self.close_code() {
                Some(c) => format!("close({c})"),
                None => "close".to_string(),
            },
            0x9 => "ping".to_string(),
            0xA => "pong".to_string(),
            o => format!("opcode-0x{o:x}"),
        };
        let mut d = format!("{name} len={}", self.payload.len());
        if !self.fin {
            d.push_str(" fin=0");
        }
        if self.rsv != 0 {
            d.push_str(&format!(" rsv={:03b}", self.rsv));
        }
        if self.mask.is_some() {
            d.push_str(" masked");
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipws_reference::ws::frame::decode_header;

    fn decode(bytes: &[u8]) -> (FrameHeader, usize) {
        decode_header(bytes)
            .expect("decodable")
            .expect("complete header")
    }

    #[test]
    fn shortest_forms_match_the_reference_decoder() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let f = RawFrame::binary(vec![7u8; len]);
            let bytes = f.to_bytes();
            let (h, n) = decode(&bytes);
            assert_eq!(h.payload_len, len as u64);
            assert_eq!(bytes.len(), n + len);
            let mut p = bytes[n..].to_vec();
            apply_mask(&mut p, PROBE_MASK);
            assert_eq!(p, vec![7u8; len]);
        }
    }

    #[test]
    fn wrong_frames_are_written_as_asked() {
        let f = RawFrame::text("x").unmasked().rsv(0b100).fin(false);
        assert_eq!(f.to_bytes(), vec![0x41, 0x01, b'x']);
        let f = RawFrame::new(0x3, "").unmasked();
        assert_eq!(f.to_bytes(), vec![0x83, 0x00]);
        let f = RawFrame::ping("")
            .unmasked()
            .length(Length::Declared(1 << 62));
        let (h, n) = decode(&f.to_bytes());
        assert_eq!((h.payload_len, n), (1 << 62, 10));
        let f = RawFrame::text("abc").unmasked().length(Length::Bits64);
        assert_eq!(f.to_bytes().len(), 10 + 3);
    }

    #[test]
    fn close_frames_carry_their_code() {
        let f = RawFrame::close(1000, "bye");
        assert_eq!(f.close_code(), Some(1000));
        assert_eq!(f.describe(), "close(1000) len=5 masked");
    }
}
