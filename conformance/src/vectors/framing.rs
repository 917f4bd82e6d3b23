//! `framing`: the frames a client sends -> what a server's receiver makes of them (RFC 6455
//! §5, §7.1.7, §10.4; REQUIREMENTS §2.3), from `sipws_reference::ws::codec::run`.
//!
//! input: `{ "role": "server" | "client", "max_message": int, "frames": [ { "opcode": int,
//! "fin": bool, "rsv": int (RSV1..3 as 3 bits), "masked": bool, "mask_key": hex (4 bytes),
//! "payload": hex (before masking), "declared_length": int (optional: written in the 64-bit
//! field instead of the payload's length), "length_form": "16" | "64" (optional: a
//! non-minimal length field) } ] }`. The frames' bytes are concatenated and fed at once.
//! expected: `{ "events": [ {"message": {"kind": "text" | "binary", "payload": hex}}
//! | {"ping": hex} | {"pong": hex} | {"close": {"code": int | null, "reason": string}}
//! | {"fail": {"code": int, "reason": <requirement id>, "kind": <FailReason variant>}} ] }`.

use serde_json::{Value, json};
use sipws_reference::ws::codec::{Event, Limits, MessageKind, Role, run};

use super::{Case, Group, Verdict};
use crate::wire::frame::{Length, RawFrame};

pub const GROUP: Group = Group {
    name: "framing",
    description: "Client frames -> messages, pings, pongs, close or the failure close code",
    cases,
    compute,
};

const KEY: &str = "37fa213d";

pub(super) fn hex(bytes: &[u8]) -> String {
    sipws_reference::hex::encode(bytes)
}

pub(super) fn unhex(s: &str) -> Result<Vec<u8>, String> {
    sipws_reference::hex::decode(s).ok_or_else(|| format!("bad hex {s:?}"))
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("missing field {name:?}"))
}

fn frame_bytes(f: &Value) -> Result<Vec<u8>, String> {
    let int = |name: &str| {
        field(f, name)?
            .as_u64()
            .ok_or_else(|| format!("{name} is not an unsigned integer"))
    };
    let boolean = |name: &str| {
        field(f, name)?
            .as_bool()
            .ok_or_else(|| format!("{name} is not a boolean"))
    };
    let text = |name: &str| {
        field(f, name)?
            .as_str()
            .ok_or_else(|| format!("{name} is not a string"))
    };
    let opcode = u8::try_from(int("opcode")?).map_err(|e| e.to_string())?;
    let rsv = u8::try_from(int("rsv")?).map_err(|e| e.to_string())?;
    let mut raw = RawFrame::new(opcode, unhex(text("payload")?)?)
        .fin(boolean("fin")?)
        .rsv(rsv);
    raw = if boolean("masked")? {
        let key: [u8; 4] = unhex(text("mask_key")?)?
            .try_into()
            .map_err(|_| "mask_key is not 4 bytes".to_owned())?;
        raw.masked_with(key)
    } else {
        raw.unmasked()
    };
    if let Some(n) = f.get("declared_length") {
        let n = n
            .as_u64()
            .ok_or("declared_length is not an unsigned integer")?;
        raw = raw.length(Length::Declared(n));
    }
    match f.get("length_form").and_then(Value::as_str) {
        None => {}
        Some("16") => raw = raw.length(Length::Bits16),
        Some("64") => raw = raw.length(Length::Bits64),
        Some(other) => return Err(format!("unknown length_form {other:?}")),
    }
    Ok(raw.to_bytes())
}

fn compute(input: &Value) -> Result<Value, String> {
    let role = match field(input, "role")?.as_str() {
        Some("server") => Role::Server,
        Some("client") => Role::Client,
        _ => return Err("role is not \"server\" or \"client\"".into()),
    };
    let max = field(input, "max_message")?
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("max_message is not an unsigned integer")?;
    let mut bytes = Vec::new();
    for f in field(input, "frames")?
        .as_array()
        .ok_or("frames is not an array")?
    {
        bytes.extend(frame_bytes(f)?);
    }
    let events: Vec<Value> = run(role, Limits::with_max_message(max), &bytes)
        .into_iter()
        .map(|e| match e {
            Event::Message { kind, payload } => {
                let kind = match kind {
                    MessageKind::Text => "text",
                    MessageKind::Binary => "binary",
                };
                json!({ "message": { "kind": kind, "payload": hex(&payload) } })
            }
            Event::Ping(p) => json!({ "ping": hex(&p) }),
            Event::Pong(p) => json!({ "pong": hex(&p) }),
            Event::Close { code, reason } => json!({ "close": { "code": code, "reason": reason } }),
            Event::Fail { code, reason } => {
                let debug = format!("{reason:?}");
                let kind = debug.split([' ', '{', '(']).next().unwrap_or_default();
                json!({ "fail": {
                    "code": code, "reason": reason.requirement(), "kind": kind
                } })
            }
        })
        .collect();
    Ok(json!({ "events": events }))
}

/// One frame's description; `fin` true, masked with [`KEY`], RSV 0.
#[derive(Clone)]
struct F {
    opcode: u8,
    fin: bool,
    rsv: u8,
    masked: bool,
    payload: Vec<u8>,
    declared: Option<u64>,
    form: Option<&'static str>,
}

impl F {
    fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> F {
        F {
            opcode,
            fin: true,
            rsv: 0,
            masked: true,
            payload: payload.into(),
            declared: None,
            form: None,
        }
    }
    fn more(mut self) -> F {
        self.fin = false;
        self
    }
    fn rsv(mut self, rsv: u8) -> F {
        self.rsv = rsv;
        self
    }
    fn unmasked(mut self) -> F {
        self.masked = false;
        self
    }
    fn declared(mut self, n: u64) -> F {
        self.declared = Some(n);
        self
    }
    fn form(mut self, form: &'static str) -> F {
        self.form = Some(form);
        self
    }
    fn json(&self) -> Value {
        let mut v = json!({
            "opcode": self.opcode,
            "fin": self.fin,
            "rsv": self.rsv,
            "masked": self.masked,
            "mask_key": if self.masked { KEY } else { "" },
            "payload": hex(&self.payload),
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

fn text(p: &[u8]) -> F {
    F::new(0x1, p)
}
fn binary(p: &[u8]) -> F {
    F::new(0x2, p)
}
fn cont(p: &[u8]) -> F {
    F::new(0x0, p)
}
fn ping(p: &[u8]) -> F {
    F::new(0x9, p)
}
fn pong(p: &[u8]) -> F {
    F::new(0xA, p)
}
fn close(code: u16, reason: &[u8]) -> F {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason);
    F::new(0x8, body)
}

const MAX: u64 = 1024;
const REGISTER: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\nMax-Forwards: 70\r\nTo: <sip:alice@example.com>\r\nFrom: <sip:alice@example.com>;tag=65bnmj.34asd\r\nCall-ID: aiuy7k9njasd\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n";

struct C {
    name: &'static str,
    reqs: &'static [&'static str],
    flags: &'static [&'static str],
    role: &'static str,
    max: u64,
    frames: Vec<F>,
    result: Verdict,
    comment: &'static str,
}

fn c(
    name: &'static str,
    reqs: &'static [&'static str],
    frames: Vec<F>,
    result: Verdict,
    comment: &'static str,
) -> C {
    C {
        name,
        reqs,
        flags: &[],
        role: "server",
        max: MAX,
        frames,
        result,
        comment,
    }
}

impl C {
    fn flags(mut self, flags: &'static [&'static str]) -> C {
        self.flags = flags;
        self
    }
    fn role(mut self, role: &'static str) -> C {
        self.role = role;
        self
    }
    fn max(mut self, max: u64) -> C {
        self.max = max;
        self
    }
    fn case(self) -> Case {
        Case {
            name: self.name,
            reqs: self.reqs,
            comment: self.comment,
            flags: self.flags,
            input: json!({
                "role": self.role,
                "max_message": self.max,
                "frames": self.frames.iter().map(F::json).collect::<Vec<_>>(),
            }),
            result: self.result,
        }
    }
}

fn cases() -> Vec<Case> {
    use Verdict::*;
    let fail = &["A18"][..];
    let mut server_frame = text(b"hi");
    server_frame.masked = false;
    let big = vec![b'a'; MAX as usize];
    let ping126 = vec![0x55; 126];
    let ping125: Vec<u8> = (0..125u8).collect();
    vec![
        c("register-one-frame", &["6455-6.2-a", "6455-5.4-a"], vec![text(REGISTER)], Valid,
          "A REGISTER in one masked text frame: one text message, unmasked (RFC 7118 §5)."),
        c("binary-one-frame", &["6455-5.4-a"], vec![binary(b"\x00\xff\x80")], Valid,
          "A binary message need not be UTF-8."),
        c("empty-text", &["6455-5.4-a"], vec![text(b"")], Valid,
          "An empty text message is a message."),
        c("text-three-fragments", &["6455-5.4-a", "6455-5.4-e"],
          vec![text(b"REGISTER ").more(), cont(b"sip:example.com ").more(), cont(b"SIP/2.0\r\n\r\n")],
          Valid, "text FIN=0, continuation FIN=0, continuation FIN=1: one message, in order.").flags(&["A15"]),
        c("binary-two-fragments", &["6455-5.4-a", "6455-5.4-e"],
          vec![binary(b"\x01\x02").more(), cont(b"\x03")], Valid,
          "The message keeps the first frame's type.").flags(&["A15"]),
        c("ping-between-fragments", &["6455-5.4-b", "6455-5.5.2-a"],
          vec![text(b"ab").more(), ping(b"x1"), cont(b"cd")], Valid,
          "A Ping between fragments is delivered at once; the message is still delivered once.").flags(&["A15"]),
        c("pong-and-close-between-fragments", &["6455-5.4-b", "6455-5.5.1-b"],
          vec![text(b"ab").more(), pong(b"p"), close(1000, b""), cont(b"cd")], Valid,
          "A Pong and a Close between fragments: the unfinished message is never delivered, nothing after the Close is read."),
        c("ping-x1", &["6455-5.5.2-a", "6455-5.5.3-a"], vec![ping(b"x1")], Valid,
          "Ping \"x1\": answered with a Pong carrying the same payload."),
        c("ping-empty", &["6455-5.5.2-a"], vec![ping(b"")], Valid, "A Ping without payload."),
        c("ping-125-bytes", &["6455-5.5-a", "6455-5.5.3-a"], vec![ping(&ping125)], Valid,
          "125 bytes: the largest control payload."),
        c("unsolicited-pong", &["6455-5.5.3-b"], vec![pong(b"u"), text(b"after")], Valid,
          "An unsolicited Pong needs no reply; the connection goes on."),
        c("close-1000-reason", &["6455-5.5.1-a", "6455-5.5.1-b"], vec![close(1000, b"bye")], Valid,
          "Close with code 1000 and a reason."),
        c("close-empty", &["6455-5.5.1-a", "6455-5.5.1-b"], vec![F::new(0x8, b"".to_vec())], Valid,
          "A Close without a body: no code."),
        c("close-3000", &["6455-7.4.1-b"], vec![close(3000, b"")], Valid,
          "3000-4999 are for applications and may be sent."),
        c("close-4999", &["6455-7.4.1-b"], vec![close(4999, b"")], Valid, "Top of the private range."),
        c("close-utf8-reason", &["6455-5.5.1-a"], vec![close(1001, "bientôt".as_bytes())], Valid,
          "A multi-byte UTF-8 reason."),
        c("nothing-after-close", &["6455-5.5.1-b"], vec![close(1000, b""), text(b"late")], Valid,
          "Data after the peer's Close is not processed (RFC 6455 §1.4)."),
        c("unmasked-text", &["6455-5.1-b"], vec![text(b"REGISTER").unmasked()], Invalid,
          "A client frame without MASK: the server fails the connection (1002).").flags(fail),
        c("unmasked-ping", &["6455-5.1-b"], vec![ping(b"x").unmasked()], Invalid,
          "Control frames from a client are masked too.").flags(fail),
        c("client-gets-masked-frame", &["6455-5.1-d"], vec![text(b"hi")], Invalid,
          "A client reading a masked frame from a server fails the connection.").role("client").flags(fail),
        c("client-gets-unmasked-frame", &["6455-5.1-c"], vec![server_frame], Valid,
          "A client reads unmasked server frames.").role("client"),
        c("rsv1", &["6455-5.2-a"], vec![text(b"x").rsv(0b100)], Invalid,
          "RSV1 without a negotiated extension.").flags(fail),
        c("rsv2", &["6455-5.2-a"], vec![text(b"x").rsv(0b010)], Invalid, "RSV2 set.").flags(fail),
        c("rsv3-on-ping", &["6455-5.2-a"], vec![ping(b"x").rsv(0b001)], Invalid, "RSV3 on a control frame.").flags(fail),
        c("opcode-3", &["6455-5.2-b"], vec![F::new(0x3, b"x".to_vec())], Invalid,
          "Reserved non-control opcode 0x3.").flags(fail),
        c("opcode-7", &["6455-5.2-b"], vec![F::new(0x7, b"".to_vec())], Invalid, "Reserved opcode 0x7.").flags(fail),
        c("opcode-b", &["6455-5.2-b"], vec![F::new(0xB, b"x".to_vec())], Invalid,
          "Reserved control opcode 0xB.").flags(fail),
        c("opcode-f", &["6455-5.2-b"], vec![F::new(0xF, b"".to_vec())], Invalid, "Reserved opcode 0xF.").flags(fail),
        c("length-16-bit-for-5-bytes", &["6455-5.2-c"], vec![text(b"hello").form("16")], Acceptable,
          "A non-minimal 16-bit length: senders must not, receiver reaction is unspecified; the reference accepts it."),
        c("length-64-bit-for-5-bytes", &["6455-5.2-c"], vec![text(b"hello").form("64")], Acceptable,
          "A non-minimal 64-bit length; the reference accepts it."),
        c("length-msb-set", &["6455-5.2-c"], vec![text(b"").declared(1 << 63)], Invalid,
          "A 64-bit length with its most significant bit set.").flags(fail),
        c("length-2-pow-62", &["6455-10.4-a"], vec![binary(b"").declared(1 << 62)], Invalid,
          "A header announcing 2^62 bytes: failed with 1009 from the header alone, without waiting for the payload.").flags(fail),
        c("message-at-limit", &["6455-10.4-a"], vec![text(&big)], Valid,
          "A message of exactly max_message bytes is delivered."),
        c("message-over-limit", &["6455-10.4-a"], vec![text(&big), text(b"next")], Invalid,
          "One byte over max_message in one frame: 1009, and nothing after it.").max(MAX - 1).flags(fail),
        c("fragmented-over-limit", &["6455-10.4-a"],
          vec![text(&big[..600]).more(), cont(&big[..600])], Invalid,
          "The limit applies to the sum of the fragments.").flags(&["A15", "A18"]),
        c("fragmented-ping", &["6455-5.4-c"], vec![ping(b"x").more()], Invalid,
          "A Ping with FIN=0: control frames are never fragmented.").flags(fail),
        c("fragmented-close", &["6455-5.4-c"], vec![close(1000, b"").more()], Invalid,
          "A Close with FIN=0.").flags(fail),
        c("ping-126-bytes", &["6455-5.5-a"], vec![ping(&ping126)], Invalid,
          "A control payload of 126 bytes.").flags(fail),
        c("close-126-bytes", &["6455-5.5-a"], vec![close(1000, &[b'r'; 124])], Invalid,
          "A Close of 126 bytes.").flags(fail),
        c("continuation-without-message", &["6455-5.4-d"], vec![cont(b"x")], Invalid,
          "A continuation frame while no message is open.").flags(fail),
        c("interleaved-text", &["6455-5.4-d"], vec![text(b"a").more(), text(b"b")], Invalid,
          "text FIN=0 then a new text frame: messages interleave.").flags(fail),
        c("interleaved-binary", &["6455-5.4-d"], vec![binary(b"a").more(), binary(b"b")], Invalid,
          "binary FIN=0 then a new binary frame.").flags(fail),
        c("close-one-byte", &["6455-5.5.1-a"], vec![F::new(0x8, vec![0x03])], Invalid,
          "A Close body of 1 byte cannot hold a status code.").flags(fail),
        c("close-1005", &["6455-7.4.1-a", "6455-7.4.1-b"], vec![close(1005, b"")], Invalid,
          "1005 must never be sent in a Close frame.").flags(fail),
        c("close-1006", &["6455-7.4.1-a", "6455-7.4.1-b"], vec![close(1006, b"")], Invalid,
          "1006 must never be sent in a Close frame.").flags(fail),
        c("close-999", &["6455-7.4.1-b"], vec![close(999, b"")], Invalid, "0-999 are unused.").flags(fail),
        c("close-1004", &["6455-7.4.1-b"], vec![close(1004, b"")], Invalid, "1004 is reserved.").flags(fail),
        c("close-2999", &["6455-7.4.1-b"], vec![close(2999, b"")], Invalid,
          "1016-2999 are reserved for future RFCs.").flags(fail),
        c("close-reason-invalid-utf8", &["6455-5.5.1-a"], vec![close(1000, b"\xc0\xaf")], Invalid,
          "A Close reason that is not UTF-8: 1007.").flags(fail),
        c("utf8-split-across-fragments", &["6455-5.6-a"],
          vec![text(b"caf\xc3").more(), cont(b"\xa9")], Valid,
          "A two-byte character split over two fragments is valid.").flags(&["A15"]),
        c("utf8-four-byte-split-three-ways", &["6455-5.6-a"],
          vec![text(b"\xf0\x9f").more(), cont(b"\x98").more(), cont(b"\x80")], Valid,
          "U+1F600 split over three fragments.").flags(&["A15"]),
        c("invalid-utf8-overlong", &["6455-5.6-a"], vec![text(b"\xc0\xaf")], Invalid,
          "0xC0 0xAF is an overlong encoding: 1007.").flags(fail),
        c("invalid-utf8-surrogate", &["6455-5.6-a"], vec![text(b"\xed\xa0\x80")], Invalid,
          "An encoded UTF-16 surrogate is not UTF-8.").flags(fail),
        c("invalid-utf8-in-last-fragment", &["6455-5.6-a"],
          vec![text(b"ok").more(), cont(b"\xff")], Invalid,
          "Invalid UTF-8 in a later fragment.").flags(&["A15", "A18"]),
        c("truncated-utf8-at-message-end", &["6455-5.6-a"],
          vec![text(b"caf").more(), cont(b"\xc3")], Invalid,
          "The message ends inside a character.").flags(&["A15", "A18"]),
        c("nothing-after-failure", &["6455-7.1.7-a"],
          vec![text(b"x").rsv(0b100), text(REGISTER)], Invalid,
          "A violation followed by a valid REGISTER in the same write: the REGISTER is not delivered.").flags(fail),
        c("nothing-after-unmasked", &["6455-7.1.7-a", "6455-5.1-b"],
          vec![text(b"x").unmasked(), ping(b"p")], Invalid,
          "After a failure not even control frames are processed.").flags(fail),
    ]
    .into_iter()
    .map(C::case)
    .collect()
}
