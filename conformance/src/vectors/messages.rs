//! `messages`: the RFC 4475 §3 torture messages and the RFC 7118 §8 example messages through
//! the SIP codec: `sipws_reference::sip::Message::parse_datagram` (RFC 4475: UDP datagrams)
//! or `Message::parse` (RFC 7118: one WebSocket message), then `Message::validate`. The bytes
//! are `tests/data/` compiled in; each RFC 4475 `result` is the RFC's verdict from
//! `tests/data/rfc4475/expected.txt`, never the parser's.
//!
//! input: `{ "framing": "datagram" | "websocket", "message": string }`, or `"message_hex"`
//! instead of `"message"` for bytes that are not UTF-8.
//! expected: `{ "parsed": { "start_line", "headers": [name, in order], "top_via_transport":
//! string | null, "from": uri | null, "to": uri | null, "cseq": string | null, "body_length":
//! int }, "validate": null | { "error": <Invalid variant>, "status": int } }`, or
//! `{ "parse_error": { "kind": <ErrorKind variant>, "header": string | null (for InHeader),
//! "inner": <ErrorKind variant> | null, "offset": int } }`.

use serde_json::{Value, json};
use sipws_reference::sip::{ErrorKind, Message};

use super::Verdict::{Invalid, Valid};
use super::json::{hex, unhex, variant};
use super::{Case, Group, Row, Verdict, builder};

pub const GROUP: Group = Group {
    name: "messages",
    description: "RFC 4475 and RFC 7118 messages -> parsed summary or the parse/validate error class",
    cases,
    compute,
};

/// `tests/data/rfc4475/expected.txt`: `name  section  verdict  reason`, `#` comments.
const EXPECTED: &str = include_str!("../../../tests/data/rfc4475/expected.txt");

/// The RFC 4475 §3 messages, in the order of `tests/data/rfc4475/expected.txt`.
const RFC4475: &[(&str, &[u8])] = &[
    (
        "wsinv",
        include_bytes!("../../../tests/data/rfc4475/wsinv.dat"),
    ),
    (
        "intmeth",
        include_bytes!("../../../tests/data/rfc4475/intmeth.dat"),
    ),
    (
        "esc01",
        include_bytes!("../../../tests/data/rfc4475/esc01.dat"),
    ),
    (
        "escnull",
        include_bytes!("../../../tests/data/rfc4475/escnull.dat"),
    ),
    (
        "esc02",
        include_bytes!("../../../tests/data/rfc4475/esc02.dat"),
    ),
    (
        "lwsdisp",
        include_bytes!("../../../tests/data/rfc4475/lwsdisp.dat"),
    ),
    (
        "longreq",
        include_bytes!("../../../tests/data/rfc4475/longreq.dat"),
    ),
    (
        "dblreq",
        include_bytes!("../../../tests/data/rfc4475/dblreq.dat"),
    ),
    (
        "semiuri",
        include_bytes!("../../../tests/data/rfc4475/semiuri.dat"),
    ),
    (
        "transports",
        include_bytes!("../../../tests/data/rfc4475/transports.dat"),
    ),
    (
        "mpart01",
        include_bytes!("../../../tests/data/rfc4475/mpart01.dat"),
    ),
    (
        "unreason",
        include_bytes!("../../../tests/data/rfc4475/unreason.dat"),
    ),
    (
        "noreason",
        include_bytes!("../../../tests/data/rfc4475/noreason.dat"),
    ),
    (
        "badinv01",
        include_bytes!("../../../tests/data/rfc4475/badinv01.dat"),
    ),
    (
        "clerr",
        include_bytes!("../../../tests/data/rfc4475/clerr.dat"),
    ),
    ("ncl", include_bytes!("../../../tests/data/rfc4475/ncl.dat")),
    (
        "scalar02",
        include_bytes!("../../../tests/data/rfc4475/scalar02.dat"),
    ),
    (
        "scalarlg",
        include_bytes!("../../../tests/data/rfc4475/scalarlg.dat"),
    ),
    (
        "quotbal",
        include_bytes!("../../../tests/data/rfc4475/quotbal.dat"),
    ),
    (
        "ltgtruri",
        include_bytes!("../../../tests/data/rfc4475/ltgtruri.dat"),
    ),
    (
        "lwsruri",
        include_bytes!("../../../tests/data/rfc4475/lwsruri.dat"),
    ),
    (
        "lwsstart",
        include_bytes!("../../../tests/data/rfc4475/lwsstart.dat"),
    ),
    (
        "trws",
        include_bytes!("../../../tests/data/rfc4475/trws.dat"),
    ),
    (
        "escruri",
        include_bytes!("../../../tests/data/rfc4475/escruri.dat"),
    ),
    (
        "baddate",
        include_bytes!("../../../tests/data/rfc4475/baddate.dat"),
    ),
    (
        "regbadct",
        include_bytes!("../../../tests/data/rfc4475/regbadct.dat"),
    ),
    (
        "badaspec",
        include_bytes!("../../../tests/data/rfc4475/badaspec.dat"),
    ),
    (
        "baddn",
        include_bytes!("../../../tests/data/rfc4475/baddn.dat"),
    ),
    (
        "badvers",
        include_bytes!("../../../tests/data/rfc4475/badvers.dat"),
    ),
    (
        "mismatch01",
        include_bytes!("../../../tests/data/rfc4475/mismatch01.dat"),
    ),
    (
        "mismatch02",
        include_bytes!("../../../tests/data/rfc4475/mismatch02.dat"),
    ),
    (
        "bigcode",
        include_bytes!("../../../tests/data/rfc4475/bigcode.dat"),
    ),
    (
        "badbranch",
        include_bytes!("../../../tests/data/rfc4475/badbranch.dat"),
    ),
    (
        "insuf",
        include_bytes!("../../../tests/data/rfc4475/insuf.dat"),
    ),
    (
        "unkscm",
        include_bytes!("../../../tests/data/rfc4475/unkscm.dat"),
    ),
    (
        "novelsc",
        include_bytes!("../../../tests/data/rfc4475/novelsc.dat"),
    ),
    (
        "unksm2",
        include_bytes!("../../../tests/data/rfc4475/unksm2.dat"),
    ),
    (
        "bext01",
        include_bytes!("../../../tests/data/rfc4475/bext01.dat"),
    ),
    (
        "invut",
        include_bytes!("../../../tests/data/rfc4475/invut.dat"),
    ),
    (
        "regaut01",
        include_bytes!("../../../tests/data/rfc4475/regaut01.dat"),
    ),
    (
        "multi01",
        include_bytes!("../../../tests/data/rfc4475/multi01.dat"),
    ),
    (
        "mcl01",
        include_bytes!("../../../tests/data/rfc4475/mcl01.dat"),
    ),
    (
        "bcast",
        include_bytes!("../../../tests/data/rfc4475/bcast.dat"),
    ),
    (
        "zeromf",
        include_bytes!("../../../tests/data/rfc4475/zeromf.dat"),
    ),
    (
        "cparam01",
        include_bytes!("../../../tests/data/rfc4475/cparam01.dat"),
    ),
    (
        "cparam02",
        include_bytes!("../../../tests/data/rfc4475/cparam02.dat"),
    ),
    (
        "regescrt",
        include_bytes!("../../../tests/data/rfc4475/regescrt.dat"),
    ),
    (
        "sdp01",
        include_bytes!("../../../tests/data/rfc4475/sdp01.dat"),
    ),
    (
        "inv2543",
        include_bytes!("../../../tests/data/rfc4475/inv2543.dat"),
    ),
];

/// What every RFC 7118 test checks: one SIP message per WebSocket message (§5), and the
/// WS/WSS Via transports (§5.1).
const RFC7118_REQS: &[&str] = &["7118-5-b", "7118-5.1-a"];

const EXAMPLE: &str = "An RFC 7118 §8 example message (REQUIREMENTS §4), parsed as one \
                       WebSocket message: no Content-Length, the body runs to the end.";

const AS_PUBLISHED: &str = "RFC 7118 §8.2 F6 as published: its Route ends with a stray comma \
                            (A14), which the 1#(route-param) grammar does not allow.";

/// The RFC 7118 §8 messages (`tests/data/rfc7118/`), in flow order; an input is the bytes
/// of one WebSocket message.
const RFC7118: &[Row<&[u8]>] = &[
    Row {
        name: "8.1-f3-register",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.1-f3-register.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.1-f4-200-ok",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.1-f4-200-ok.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f1-invite",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f1-invite.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f2-100-trying",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f2-100-trying.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f3-invite",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f3-invite.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f4-200-ok",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f4-200-ok.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f5-200-ok",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f5-200-ok.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f6-ack",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f6-ack.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f6-ack-as-published",
        reqs: RFC7118_REQS,
        flags: &["A14"],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f6-ack-as-published.sip"),
        result: Invalid,
        comment: AS_PUBLISHED,
    },
    Row {
        name: "8.2-f7-ack",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f7-ack.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f8-bye",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f8-bye.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f9-bye",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f9-bye.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f10-200-ok",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f10-200-ok.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
    Row {
        name: "8.2-f11-200-ok",
        reqs: RFC7118_REQS,
        flags: &[],
        input: include_bytes!("../../../tests/data/rfc7118/8.2-f11-200-ok.sip"),
        result: Valid,
        comment: EXAMPLE,
    },
];

fn compute(input: &Value) -> Result<Value, String> {
    let bytes = match (
        input.get("message").and_then(Value::as_str),
        input.get("message_hex").and_then(Value::as_str),
    ) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(h)) => unhex(h)?,
        _ => return Err("exactly one of message, message_hex is needed".into()),
    };
    let parsed = match input.get("framing").and_then(Value::as_str) {
        Some("datagram") => Message::parse_datagram(&bytes),
        Some("websocket") => Message::parse(&bytes),
        _ => return Err("framing is not \"datagram\" or \"websocket\"".into()),
    };
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => {
            let (header, inner) = match &e.kind {
                ErrorKind::InHeader { header, inner } => {
                    (Some(header.clone()), Some(variant(inner.as_ref())))
                }
                _ => (None, None),
            };
            return Ok(json!({ "parse_error": {
                "kind": variant(&e.kind), "header": header, "inner": inner, "offset": e.offset
            } }));
        }
    };
    let validate = msg
        .validate()
        .err()
        .map(|e| json!({ "error": variant(&e), "status": e.status() }));
    let headers: Vec<String> = msg.headers.iter().map(|h| h.name.to_string()).collect();
    let parsed = json!({
        "start_line": msg.start.to_string(),
        "headers": headers,
        "top_via_transport": msg.top_via().map(|v| v.transport.clone()),
        "from": msg.from().map(|n| n.uri.to_string()),
        "to": msg.to().map(|n| n.uri.to_string()),
        "cseq": msg.cseq().map(ToString::to_string),
        "body_length": msg.body.len(),
    });
    Ok(json!({ "parsed": parsed, "validate": validate }))
}

fn message_input(framing: &str, bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "framing": framing, "message": text }),
        Err(_) => json!({ "framing": framing, "message_hex": hex(bytes) }),
    }
}

/// The expected.txt line of `name`: (section, verdict, reason).
fn verdict_of(name: &str) -> Option<(&'static str, Verdict, &'static str)> {
    EXPECTED
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .find_map(|l| {
            let mut it = l.splitn(4, "  ").map(str::trim);
            if it.next()? != name {
                return None;
            }
            let section = it.next()?;
            let verdict = match it.next()? {
                "valid" => Verdict::Valid,
                "invalid" => Verdict::Invalid,
                _ => return None,
            };
            Some((section, verdict, it.next()?))
        })
}

/// The RFC 4475 tests: each message of [`RFC4475`] with its verdict and reason from
/// `expected.txt` (the RFC's, never the parser's).
fn rfc4475_rows() -> Vec<Row<&'static [u8]>> {
    RFC4475
        .iter()
        // Every file of the table has a line in expected.txt (the test of this group checks
        // the count); one without is left out rather than given an invented verdict.
        .filter_map(|&(name, bytes)| {
            let (_section, result, reason) = verdict_of(name)?;
            let reqs: &'static [&'static str] = match name {
                "clerr" | "dblreq" => &["3261-18.3-a"],
                _ => &[],
            };
            Some(Row {
                name,
                reqs,
                flags: &[],
                input: bytes,
                result,
                comment: reason,
            })
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let mut cases = builder::cases(RFC7118, |bytes| message_input("websocket", bytes));
    cases.extend(builder::cases(&rfc4475_rows(), |bytes| {
        message_input("datagram", bytes)
    }));
    cases
}
