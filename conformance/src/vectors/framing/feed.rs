//! The frames a `framing` test feeds a receiver, as `const` data for the group's table, and
//! how they are written in the test's input (the field list is in the group's module doc).

use serde_json::{Value, json};

use crate::vectors::json::hex;

/// The mask key of every masked frame (RFC 6455 §5.3: any 4 bytes; fixed, so the vectors
/// are deterministic).
const KEY: &str = "37fa213d";

/// The receiver's message size limit unless a test sets another (RFC 6455 §10.4).
pub(super) const MAX: u64 = 1024;

/// One frame of a test: `fin` true, masked with [`KEY`], RSV 0 unless changed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    opcode: u8,
    fin: bool,
    rsv: u8,
    masked: bool,
    /// A Close frame's status code, written before `payload` (RFC 6455 §5.5.1).
    close_code: Option<u16>,
    payload: &'static [u8],
    declared: Option<u64>,
    form: Option<&'static str>,
}

impl Frame {
    pub(super) const fn new(opcode: u8, payload: &'static [u8]) -> Frame {
        Frame {
            opcode,
            fin: true,
            rsv: 0,
            masked: true,
            close_code: None,
            payload,
            declared: None,
            form: None,
        }
    }
    /// FIN = 0: more fragments follow (RFC 6455 §5.4).
    pub(super) const fn more(self) -> Frame {
        Frame { fin: false, ..self }
    }
    pub(super) const fn rsv(self, rsv: u8) -> Frame {
        Frame { rsv, ..self }
    }
    pub(super) const fn unmasked(self) -> Frame {
        Frame {
            masked: false,
            ..self
        }
    }
    /// This length in the 64-bit field instead of the payload's.
    pub(super) const fn declared(self, n: u64) -> Frame {
        Frame {
            declared: Some(n),
            ..self
        }
    }
    /// A non-minimal length field ("16" or "64", RFC 6455 §5.2).
    pub(super) const fn form(self, form: &'static str) -> Frame {
        Frame {
            form: Some(form),
            ..self
        }
    }
    fn json(&self) -> Value {
        let mut payload = self
            .close_code
            .map(|code| code.to_be_bytes().to_vec())
            .unwrap_or_default();
        payload.extend_from_slice(self.payload);
        let mut v = json!({
            "opcode": self.opcode,
            "fin": self.fin,
            "rsv": self.rsv,
            "masked": self.masked,
            "mask_key": if self.masked { KEY } else { "" },
            "payload": hex(&payload),
        });
        if let Some(n) = self.declared {
            v["declared_length"] = json!(n);
        }
        if let Some(form) = self.form {
            v["length_form"] = json!(form);
        }
        v
    }
}

pub(super) const fn text(p: &'static [u8]) -> Frame {
    Frame::new(0x1, p)
}
pub(super) const fn binary(p: &'static [u8]) -> Frame {
    Frame::new(0x2, p)
}
pub(super) const fn cont(p: &'static [u8]) -> Frame {
    Frame::new(0x0, p)
}
pub(super) const fn ping(p: &'static [u8]) -> Frame {
    Frame::new(0x9, p)
}
pub(super) const fn pong(p: &'static [u8]) -> Frame {
    Frame::new(0xA, p)
}
/// A Close frame with a status code and a reason (RFC 6455 §5.5.1).
pub(super) const fn close(code: u16, reason: &'static [u8]) -> Frame {
    Frame {
        close_code: Some(code),
        ..Frame::new(0x8, reason)
    }
}

/// What one test feeds a receiver: its role, its message size limit and the frames, whose
/// bytes are concatenated and fed at once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Feed {
    role: &'static str,
    max: u64,
    frames: &'static [Frame],
}

/// Frames a server reads (from a client), with the [`MAX`] limit.
pub(super) const fn server(frames: &'static [Frame]) -> Feed {
    Feed {
        role: "server",
        max: MAX,
        frames,
    }
}

/// Frames a client reads (from a server), with the [`MAX`] limit.
pub(super) const fn client(frames: &'static [Frame]) -> Feed {
    Feed {
        role: "client",
        ..server(frames)
    }
}

impl Feed {
    pub(super) const fn max(self, max: u64) -> Feed {
        Feed { max, ..self }
    }
    pub(super) fn json(&self) -> Value {
        json!({
            "role": self.role,
            "max_message": self.max,
            "frames": self.frames.iter().map(Frame::json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_frame_writes_its_code_big_endian_before_the_reason() {
        // RFC 6455 §5.5.1: the body starts with a 2-byte unsigned integer in network order.
        assert_eq!(close(1000, b"bye").json()["payload"], "03e8627965");
        assert_eq!(Frame::new(0x8, b"").json()["payload"], "");
    }

    #[test]
    fn frames_default_to_fin_masked_rsv_0_and_write_optional_fields_only_when_set() {
        let plain = text(b"hi").json();
        assert_eq!(
            plain,
            json!({
                "opcode": 1, "fin": true, "rsv": 0, "masked": true,
                "mask_key": KEY, "payload": "6869",
            })
        );
        let odd = cont(b"")
            .more()
            .rsv(0b100)
            .unmasked()
            .declared(7)
            .form("64")
            .json();
        assert_eq!(odd["fin"], false);
        assert_eq!(odd["rsv"], 4);
        assert_eq!(odd["mask_key"], "");
        assert_eq!(odd["declared_length"], 7);
        assert_eq!(odd["length_form"], "64");
    }

    #[test]
    fn a_feed_defaults_to_a_server_with_the_max_limit() {
        const FEED: Feed = client(&[ping(b"")]).max(5);
        let feed = FEED.json();
        assert_eq!(feed["role"], "client");
        assert_eq!(feed["max_message"], 5);
        assert_eq!(server(&[]).json()["max_message"], MAX);
    }
}
