//! `framing`: the frames a client sends -> what a server's receiver makes of them (RFC 6455
//! §5, §7.1.7, §10.4; spec/requirements.md §2.3), from `sipws_reference::ws::codec::run`.
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

mod feed;

use feed::{Feed, Frame, MAX, binary, client, close, cont, ping, pong, server, text};

use super::Verdict::{Acceptable, Invalid, Valid};
use super::json::{hex, unhex, variant};
use super::{Case, Group, Row, builder};
use crate::wire::frame::{Length, RawFrame};

pub const GROUP: Group = Group {
    name: "framing",
    description: "Client frames -> messages, pings, pongs, close or the failure close code",
    cases,
    compute,
};

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
            Event::Fail { code, reason } => json!({ "fail": {
                "code": code, "reason": reason.requirement(), "kind": variant(&reason)
            } }),
        })
        .collect();
    Ok(json!({ "events": events }))
}

/// A minimal REGISTER modelled on RFC 7118 §8.1 F3 (its Via, tags and Call-ID).
const REGISTER: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\nMax-Forwards: 70\r\nTo: <sip:alice@example.com>\r\nFrom: <sip:alice@example.com>;tag=65bnmj.34asd\r\nCall-ID: aiuy7k9njasd\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n";
/// A message of exactly [`MAX`] bytes.
// MAX is 1024: the cast to usize cannot truncate.
const BIG: &[u8] = &[b'a'; MAX as usize];
/// 0, 1, ..., 124: the largest control payload (RFC 6455 §5.5), every byte distinct.
const PING_125: [u8; 125] = {
    let mut bytes = [0u8; 125];
    let mut i = 0;
    while i < bytes.len() {
        // i < 125: the cast to u8 cannot truncate.
        bytes[i] = i as u8;
        i += 1;
    }
    bytes
};
/// The failure flag: the exact close code of a failure is not fixed (A18).
const FAIL: &[&str] = &["A18"];

fn cases() -> Vec<Case> {
    builder::cases(ROWS, Feed::json)
}

/// The tests; an input is what the receiver is fed.
const ROWS: &[Row<Feed>] = &[
    Row {
        name: "register-one-frame",
        reqs: &["6455-6.2-a", "6455-5.4-a"],
        flags: &[],
        input: server(&[text(REGISTER)]),
        result: Valid,
        comment: "A REGISTER in one masked text frame: one text message, unmasked (RFC 7118 §5).",
    },
    Row {
        name: "binary-one-frame",
        reqs: &["6455-5.4-a"],
        flags: &[],
        input: server(&[binary(b"\x00\xff\x80")]),
        result: Valid,
        comment: "A binary message need not be UTF-8.",
    },
    Row {
        name: "empty-text",
        reqs: &["6455-5.4-a"],
        flags: &[],
        input: server(&[text(b"")]),
        result: Valid,
        comment: "An empty text message is a message.",
    },
    Row {
        name: "text-three-fragments",
        reqs: &["6455-5.4-a", "6455-5.4-e"],
        flags: &["A15"],
        input: server(&[
            text(b"REGISTER ").more(),
            cont(b"sip:example.com ").more(),
            cont(b"SIP/2.0\r\n\r\n"),
        ]),
        result: Valid,
        comment: "text FIN=0, continuation FIN=0, continuation FIN=1: one message, in order.",
    },
    Row {
        name: "binary-two-fragments",
        reqs: &["6455-5.4-a", "6455-5.4-e"],
        flags: &["A15"],
        input: server(&[binary(b"\x01\x02").more(), cont(b"\x03")]),
        result: Valid,
        comment: "The message keeps the first frame's type.",
    },
    Row {
        name: "ping-between-fragments",
        reqs: &["6455-5.4-b", "6455-5.5.2-a"],
        flags: &["A15"],
        input: server(&[text(b"ab").more(), ping(b"x1"), cont(b"cd")]),
        result: Valid,
        comment: "A Ping between fragments is delivered at once; the message is still delivered once.",
    },
    Row {
        name: "pong-and-close-between-fragments",
        reqs: &["6455-5.4-b", "6455-5.5.1-b"],
        flags: &[],
        input: server(&[
            text(b"ab").more(),
            pong(b"p"),
            close(1000, b""),
            cont(b"cd"),
        ]),
        result: Valid,
        comment: "A Pong and a Close between fragments: the unfinished message is never delivered, nothing after the Close is read.",
    },
    Row {
        name: "ping-x1",
        reqs: &["6455-5.5.2-a", "6455-5.5.3-a"],
        flags: &[],
        input: server(&[ping(b"x1")]),
        result: Valid,
        comment: "Ping \"x1\": answered with a Pong carrying the same payload.",
    },
    Row {
        name: "ping-empty",
        reqs: &["6455-5.5.2-a"],
        flags: &[],
        input: server(&[ping(b"")]),
        result: Valid,
        comment: "A Ping without payload.",
    },
    Row {
        name: "ping-125-bytes",
        reqs: &["6455-5.5-a", "6455-5.5.3-a"],
        flags: &[],
        input: server(&[ping(&PING_125)]),
        result: Valid,
        comment: "125 bytes: the largest control payload.",
    },
    Row {
        name: "unsolicited-pong",
        reqs: &["6455-5.5.3-b"],
        flags: &[],
        input: server(&[pong(b"u"), text(b"after")]),
        result: Valid,
        comment: "An unsolicited Pong needs no reply; the connection goes on.",
    },
    Row {
        name: "close-1000-reason",
        reqs: &["6455-5.5.1-a", "6455-5.5.1-b"],
        flags: &[],
        input: server(&[close(1000, b"bye")]),
        result: Valid,
        comment: "Close with code 1000 and a reason.",
    },
    Row {
        name: "close-empty",
        reqs: &["6455-5.5.1-a", "6455-5.5.1-b"],
        flags: &[],
        input: server(&[Frame::new(0x8, b"")]),
        result: Valid,
        comment: "A Close without a body: no code.",
    },
    Row {
        name: "close-3000",
        reqs: &["6455-7.4.1-b"],
        flags: &[],
        input: server(&[close(3000, b"")]),
        result: Valid,
        comment: "3000-4999 are for applications and may be sent.",
    },
    Row {
        name: "close-4999",
        reqs: &["6455-7.4.1-b"],
        flags: &[],
        input: server(&[close(4999, b"")]),
        result: Valid,
        comment: "Top of the private range.",
    },
    Row {
        name: "close-utf8-reason",
        reqs: &["6455-5.5.1-a"],
        flags: &[],
        input: server(&[close(1001, "bientôt".as_bytes())]),
        result: Valid,
        comment: "A multi-byte UTF-8 reason.",
    },
    Row {
        name: "nothing-after-close",
        reqs: &["6455-5.5.1-b"],
        flags: &[],
        input: server(&[close(1000, b""), text(b"late")]),
        result: Valid,
        comment: "Data after the peer's Close is not processed (RFC 6455 §1.4).",
    },
    Row {
        name: "unmasked-text",
        reqs: &["6455-5.1-b"],
        flags: FAIL,
        input: server(&[text(b"REGISTER").unmasked()]),
        result: Invalid,
        comment: "A client frame without MASK: the server fails the connection (1002).",
    },
    Row {
        name: "unmasked-ping",
        reqs: &["6455-5.1-b"],
        flags: FAIL,
        input: server(&[ping(b"x").unmasked()]),
        result: Invalid,
        comment: "Control frames from a client are masked too.",
    },
    Row {
        name: "client-gets-masked-frame",
        reqs: &["6455-5.1-d"],
        flags: FAIL,
        input: client(&[text(b"hi")]),
        result: Invalid,
        comment: "A client reading a masked frame from a server fails the connection.",
    },
    Row {
        name: "client-gets-unmasked-frame",
        reqs: &["6455-5.1-c"],
        flags: &[],
        input: client(&[text(b"hi").unmasked()]),
        result: Valid,
        comment: "A client reads unmasked server frames.",
    },
    Row {
        name: "rsv1",
        reqs: &["6455-5.2-a"],
        flags: FAIL,
        input: server(&[text(b"x").rsv(0b100)]),
        result: Invalid,
        comment: "RSV1 without a negotiated extension.",
    },
    Row {
        name: "rsv2",
        reqs: &["6455-5.2-a"],
        flags: FAIL,
        input: server(&[text(b"x").rsv(0b010)]),
        result: Invalid,
        comment: "RSV2 set.",
    },
    Row {
        name: "rsv3-on-ping",
        reqs: &["6455-5.2-a"],
        flags: FAIL,
        input: server(&[ping(b"x").rsv(0b001)]),
        result: Invalid,
        comment: "RSV3 on a control frame.",
    },
    Row {
        name: "opcode-3",
        reqs: &["6455-5.2-b"],
        flags: FAIL,
        input: server(&[Frame::new(0x3, b"x")]),
        result: Invalid,
        comment: "Reserved non-control opcode 0x3.",
    },
    Row {
        name: "opcode-7",
        reqs: &["6455-5.2-b"],
        flags: FAIL,
        input: server(&[Frame::new(0x7, b"")]),
        result: Invalid,
        comment: "Reserved opcode 0x7.",
    },
    Row {
        name: "opcode-b",
        reqs: &["6455-5.2-b"],
        flags: FAIL,
        input: server(&[Frame::new(0xB, b"x")]),
        result: Invalid,
        comment: "Reserved control opcode 0xB.",
    },
    Row {
        name: "opcode-f",
        reqs: &["6455-5.2-b"],
        flags: FAIL,
        input: server(&[Frame::new(0xF, b"")]),
        result: Invalid,
        comment: "Reserved opcode 0xF.",
    },
    Row {
        name: "length-16-bit-for-5-bytes",
        reqs: &["6455-5.2-c"],
        flags: &[],
        input: server(&[text(b"hello").form("16")]),
        result: Acceptable,
        comment: "A non-minimal 16-bit length: senders must not, receiver reaction is unspecified; the reference accepts it.",
    },
    Row {
        name: "length-64-bit-for-5-bytes",
        reqs: &["6455-5.2-c"],
        flags: &[],
        input: server(&[text(b"hello").form("64")]),
        result: Acceptable,
        comment: "A non-minimal 64-bit length; the reference accepts it.",
    },
    Row {
        name: "length-msb-set",
        reqs: &["6455-5.2-c"],
        flags: FAIL,
        input: server(&[text(b"").declared(1 << 63)]),
        result: Invalid,
        comment: "A 64-bit length with its most significant bit set.",
    },
    Row {
        name: "length-2-pow-62",
        reqs: &["6455-10.4-a"],
        flags: FAIL,
        input: server(&[binary(b"").declared(1 << 62)]),
        result: Invalid,
        comment: "A header announcing 2^62 bytes: failed with 1009 from the header alone, without waiting for the payload.",
    },
    Row {
        name: "message-at-limit",
        reqs: &["6455-10.4-a"],
        flags: &[],
        input: server(&[text(BIG)]),
        result: Valid,
        comment: "A message of exactly max_message bytes is delivered.",
    },
    Row {
        name: "message-over-limit",
        reqs: &["6455-10.4-a"],
        flags: FAIL,
        input: server(&[text(BIG), text(b"next")]).max(MAX - 1),
        result: Invalid,
        comment: "One byte over max_message in one frame: 1009, and nothing after it.",
    },
    Row {
        name: "fragmented-over-limit",
        reqs: &["6455-10.4-a"],
        flags: &["A15", "A18"],
        input: server(&[text(&[b'a'; 600]).more(), cont(&[b'a'; 600])]),
        result: Invalid,
        comment: "The limit applies to the sum of the fragments.",
    },
    Row {
        name: "fragmented-ping",
        reqs: &["6455-5.4-c"],
        flags: FAIL,
        input: server(&[ping(b"x").more()]),
        result: Invalid,
        comment: "A Ping with FIN=0: control frames are never fragmented.",
    },
    Row {
        name: "fragmented-close",
        reqs: &["6455-5.4-c"],
        flags: FAIL,
        input: server(&[close(1000, b"").more()]),
        result: Invalid,
        comment: "A Close with FIN=0.",
    },
    Row {
        name: "ping-126-bytes",
        reqs: &["6455-5.5-a"],
        flags: FAIL,
        input: server(&[ping(&[0x55; 126])]),
        result: Invalid,
        comment: "A control payload of 126 bytes.",
    },
    Row {
        name: "close-126-bytes",
        reqs: &["6455-5.5-a"],
        flags: FAIL,
        input: server(&[close(1000, &[b'r'; 124])]),
        result: Invalid,
        comment: "A Close of 126 bytes.",
    },
    Row {
        name: "continuation-without-message",
        reqs: &["6455-5.4-d"],
        flags: FAIL,
        input: server(&[cont(b"x")]),
        result: Invalid,
        comment: "A continuation frame while no message is open.",
    },
    Row {
        name: "interleaved-text",
        reqs: &["6455-5.4-d"],
        flags: FAIL,
        input: server(&[text(b"a").more(), text(b"b")]),
        result: Invalid,
        comment: "text FIN=0 then a new text frame: messages interleave.",
    },
    Row {
        name: "interleaved-binary",
        reqs: &["6455-5.4-d"],
        flags: FAIL,
        input: server(&[binary(b"a").more(), binary(b"b")]),
        result: Invalid,
        comment: "binary FIN=0 then a new binary frame.",
    },
    Row {
        name: "close-one-byte",
        reqs: &["6455-5.5.1-a"],
        flags: FAIL,
        input: server(&[Frame::new(0x8, &[0x03])]),
        result: Invalid,
        comment: "A Close body of 1 byte cannot hold a status code.",
    },
    Row {
        name: "close-1005",
        reqs: &["6455-7.4.1-a", "6455-7.4.1-b"],
        flags: FAIL,
        input: server(&[close(1005, b"")]),
        result: Invalid,
        comment: "1005 must never be sent in a Close frame.",
    },
    Row {
        name: "close-1006",
        reqs: &["6455-7.4.1-a", "6455-7.4.1-b"],
        flags: FAIL,
        input: server(&[close(1006, b"")]),
        result: Invalid,
        comment: "1006 must never be sent in a Close frame.",
    },
    Row {
        name: "close-999",
        reqs: &["6455-7.4.1-b"],
        flags: FAIL,
        input: server(&[close(999, b"")]),
        result: Invalid,
        comment: "0-999 are unused.",
    },
    Row {
        name: "close-1004",
        reqs: &["6455-7.4.1-b"],
        flags: FAIL,
        input: server(&[close(1004, b"")]),
        result: Invalid,
        comment: "1004 is reserved.",
    },
    Row {
        name: "close-2999",
        reqs: &["6455-7.4.1-b"],
        flags: FAIL,
        input: server(&[close(2999, b"")]),
        result: Invalid,
        comment: "1016-2999 are reserved for future RFCs.",
    },
    Row {
        name: "close-reason-invalid-utf8",
        reqs: &["6455-5.5.1-a"],
        flags: FAIL,
        input: server(&[close(1000, b"\xc0\xaf")]),
        result: Invalid,
        comment: "A Close reason that is not UTF-8: 1007.",
    },
    Row {
        name: "utf8-split-across-fragments",
        reqs: &["6455-5.6-a"],
        flags: &["A15"],
        input: server(&[text(b"caf\xc3").more(), cont(b"\xa9")]),
        result: Valid,
        comment: "A two-byte character split over two fragments is valid.",
    },
    Row {
        name: "utf8-four-byte-split-three-ways",
        reqs: &["6455-5.6-a"],
        flags: &["A15"],
        input: server(&[
            text(b"\xf0\x9f").more(),
            cont(b"\x98").more(),
            cont(b"\x80"),
        ]),
        result: Valid,
        comment: "U+1F600 split over three fragments.",
    },
    Row {
        name: "invalid-utf8-overlong",
        reqs: &["6455-5.6-a"],
        flags: FAIL,
        input: server(&[text(b"\xc0\xaf")]),
        result: Invalid,
        comment: "0xC0 0xAF is an overlong encoding: 1007.",
    },
    Row {
        name: "invalid-utf8-surrogate",
        reqs: &["6455-5.6-a"],
        flags: FAIL,
        input: server(&[text(b"\xed\xa0\x80")]),
        result: Invalid,
        comment: "An encoded UTF-16 surrogate is not UTF-8.",
    },
    Row {
        name: "invalid-utf8-in-last-fragment",
        reqs: &["6455-5.6-a"],
        flags: &["A15", "A18"],
        input: server(&[text(b"ok").more(), cont(b"\xff")]),
        result: Invalid,
        comment: "Invalid UTF-8 in a later fragment.",
    },
    Row {
        name: "truncated-utf8-at-message-end",
        reqs: &["6455-5.6-a"],
        flags: &["A15", "A18"],
        input: server(&[text(b"caf").more(), cont(b"\xc3")]),
        result: Invalid,
        comment: "The message ends inside a character.",
    },
    Row {
        name: "nothing-after-failure",
        reqs: &["6455-7.1.7-a"],
        flags: FAIL,
        input: server(&[text(b"x").rsv(0b100), text(REGISTER)]),
        result: Invalid,
        comment: "A violation followed by a valid REGISTER in the same write: the REGISTER is not delivered.",
    },
    Row {
        name: "nothing-after-unmasked",
        reqs: &["6455-7.1.7-a", "6455-5.1-b"],
        flags: FAIL,
        input: server(&[text(b"x").unmasked(), ping(b"p")]),
        result: Invalid,
        comment: "After a failure not even control frames are processed.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_125_counts_from_0() {
        assert_eq!(PING_125.to_vec(), (0..125u8).collect::<Vec<_>>());
    }
}
