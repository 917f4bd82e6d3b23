//! `handshake-requests`: a raw WebSocket upgrade request -> the reference server's answer with
//! the default policy (any path, any origin, any valid Host), from
//! `sipws_reference::ws::handshake::accept_bytes` (RFC 6455 §4.2, RFC 7118 §4.1,
//! spec/requirements.md §2.1).
//!
//! input: `{ "request": <request head, CRLF line ends> }`.
//! expected: `{ "accept": { "status": 101, "headers": [[name, value], ...],
//! "sec_websocket_accept": ..., "subprotocol": "sip" } }`,
//! `{ "reject": { "status": int, "headers": [[name, value], ...], "reason": <requirement id> } }`
//! (`headers` = the refusal-specific fields: `Sec-WebSocket-Version`, `Upgrade`), or
//! `{ "incomplete": true }` when the head has no terminating blank line.

use serde_json::{Value, json};
use sipws_reference::ws::handshake::{Policy, ServerStep, accept_bytes};

use Edit::{Add, Remove, Set};
use Head::{Example, Raw, RequestLine};

use super::Verdict::{Acceptable, Invalid, Valid};
use super::json::input_str;
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "handshake-requests",
    description: "WebSocket upgrade requests -> 101 (accept key, sip) or the refusal (status, headers, requirement)",
    cases,
    compute,
};

fn compute(input: &Value) -> Result<Value, String> {
    let request = input_str(input, "request")?;
    Ok(match accept_bytes(request.as_bytes(), &Policy::default()) {
        ServerStep::NeedMore => json!({ "incomplete": true }),
        ServerStep::Accept { accepted, .. } => json!({
            "accept": {
                "status": 101,
                "headers": accepted.headers(),
                "sec_websocket_accept": accepted.accept_key(),
                "subprotocol": accepted.subprotocol(),
            }
        }),
        ServerStep::Reject(rejected) => json!({
            "reject": {
                "status": rejected.status(),
                "headers": rejected.extra_headers(),
                "reason": rejected.requirement(),
            }
        }),
    })
}

const START: &str = "GET / HTTP/1.1";

/// The RFC 7118 §4.1 example request's header fields (with the RFC 6455 §1.3 sample key).
const BASE: &[(&str, &str)] = &[
    ("Host", "sip-ws.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Origin", "http://www.example.com"),
    ("Sec-WebSocket-Protocol", "sip"),
    ("Sec-WebSocket-Version", "13"),
];

/// An edit of [`BASE`].
enum Edit {
    /// Remove every field of this name.
    Remove(&'static str),
    /// Replace the value of this field.
    Set(&'static str, &'static str),
    /// Append a field line.
    Add(&'static str, &'static str),
}

/// A test's request head.
enum Head {
    /// The RFC 7118 §4.1 example ([`START`], [`BASE`]) with these edits of its fields.
    Example(&'static [Edit]),
    /// The example's fields under another request line.
    RequestLine(&'static str),
    /// A head written out in full, for what edits of the example cannot express (field
    /// name case and order, a missing blank line, no HTTP at all).
    Raw(&'static str),
}

impl Head {
    /// The head's bytes as the input's `request` string: CRLF line ends, ending with the
    /// blank line unless [`Head::Raw`] leaves it out.
    fn text(&self) -> String {
        match *self {
            Head::Example(edits) => request(START, edits),
            Head::RequestLine(start) => request(start, &[]),
            Head::Raw(text) => text.to_owned(),
        }
    }
}

fn request(start: &str, edits: &[Edit]) -> String {
    let mut fields: Vec<(&str, &str)> = BASE.to_vec();
    for edit in edits {
        match *edit {
            Edit::Remove(name) => fields.retain(|(n, _)| *n != name),
            Edit::Set(name, value) => {
                for f in fields.iter_mut().filter(|(n, _)| *n == name) {
                    f.1 = value;
                }
            }
            Edit::Add(name, value) => fields.push((name, value)),
        }
    }
    let mut out = format!("{start}\r\n");
    for (n, v) in fields {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out
}

fn cases() -> Vec<Case> {
    builder::cases(ROWS, |head| json!({ "request": head.text() }))
}

/// The tests; an input is the request head.
const ROWS: &[Row<Head>] = &[
    Row {
        name: "rfc7118-example",
        reqs: &["7118-4.1-b", "6455-4.2.2-f", "6455-11.3.3-a"],
        flags: &[],
        input: Example(&[]),
        result: Valid,
        comment: "The RFC 7118 §4.1 request: 101, Sec-WebSocket-Accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, sip.",
    },
    Row {
        name: "post",
        reqs: &["6455-4.2.1-a"],
        flags: &[],
        input: RequestLine("POST / HTTP/1.1"),
        result: Invalid,
        comment: "Only GET starts a handshake.",
    },
    Row {
        name: "lower-case-get",
        reqs: &["6455-4.2.1-a"],
        flags: &[],
        input: RequestLine("get / HTTP/1.1"),
        result: Invalid,
        comment: "Methods are case-sensitive (RFC 7231 §4.1).",
    },
    Row {
        name: "http-1-0",
        reqs: &["6455-4.2.1-a"],
        flags: &[],
        input: RequestLine("GET / HTTP/1.0"),
        result: Invalid,
        comment: "HTTP/1.1 or later is required.",
    },
    Row {
        name: "absolute-form-target",
        reqs: &["6455-4.2.1-a"],
        flags: &[],
        input: RequestLine("GET http://sip-ws.example.com/ws HTTP/1.1"),
        result: Valid,
        comment: "An absolute http URI is a valid request-target.",
    },
    Row {
        name: "ftp-target",
        reqs: &["6455-4.2.1-a"],
        flags: &[],
        input: RequestLine("GET ftp://sip-ws.example.com/ HTTP/1.1"),
        result: Invalid,
        comment: "Only origin-form or an absolute http/https URI.",
    },
    Row {
        name: "missing-host",
        reqs: &["6455-4.2.1-b"],
        flags: &[],
        input: Example(&[Remove("Host")]),
        result: Invalid,
        comment: "Host is required.",
    },
    Row {
        name: "two-hosts",
        reqs: &["6455-4.2.1-b"],
        flags: &[],
        input: Example(&[Add("Host", "other.example.com")]),
        result: Invalid,
        comment: "Exactly one Host (RFC 7230 §5.4).",
    },
    Row {
        name: "upgrade-capitalised",
        reqs: &["6455-4.2.1-c"],
        flags: &[],
        input: Example(&[Set("Upgrade", "WebSocket")]),
        result: Valid,
        comment: "Upgrade compares ASCII case-insensitively.",
    },
    Row {
        name: "upgrade-h2c",
        reqs: &["6455-4.2.1-c"],
        flags: &[],
        input: Example(&[Set("Upgrade", "h2c")]),
        result: Invalid,
        comment: "Upgrade must name websocket.",
    },
    Row {
        name: "missing-upgrade",
        reqs: &["6455-4.2.1-c"],
        flags: &[],
        input: Example(&[Remove("Upgrade")]),
        result: Invalid,
        comment: "Upgrade is required.",
    },
    Row {
        name: "connection-keep-alive-upgrade",
        reqs: &["6455-4.2.1-d"],
        flags: &[],
        input: Example(&[Set("Connection", "keep-alive, upgrade")]),
        result: Valid,
        comment: "upgrade among other Connection options, any case.",
    },
    Row {
        name: "connection-keep-alive-only",
        reqs: &["6455-4.2.1-d"],
        flags: &[],
        input: Example(&[Set("Connection", "keep-alive")]),
        result: Invalid,
        comment: "Connection must include upgrade.",
    },
    Row {
        name: "missing-connection",
        reqs: &["6455-4.2.1-d"],
        flags: &[],
        input: Example(&[Remove("Connection")]),
        result: Invalid,
        comment: "Connection is required.",
    },
    Row {
        name: "missing-key",
        reqs: &["6455-4.2.1-e"],
        flags: &[],
        input: Example(&[Remove("Sec-WebSocket-Key")]),
        result: Invalid,
        comment: "Sec-WebSocket-Key is required.",
    },
    Row {
        name: "key-15-bytes",
        reqs: &["6455-4.2.1-e"],
        flags: &[],
        input: Example(&[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4P")]),
        result: Invalid,
        comment: "The key must decode to exactly 16 bytes.",
    },
    Row {
        name: "key-20-bytes",
        reqs: &["6455-4.2.1-e"],
        flags: &[],
        input: Example(&[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEBESExQ=")]),
        result: Invalid,
        comment: "The key must decode to exactly 16 bytes.",
    },
    Row {
        name: "key-not-base64",
        reqs: &["6455-4.2.1-e"],
        flags: &[],
        input: Example(&[Set("Sec-WebSocket-Key", "not base64 at all!!!!!!!")]),
        result: Invalid,
        comment: "The key must be base64.",
    },
    Row {
        name: "key-rfc6455-example",
        reqs: &["6455-4.2.1-e"],
        flags: &["A17"],
        input: Example(&[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEC==")]),
        result: Acceptable,
        comment: "The RFC 6455 §4.1 example key has non-zero pad bits: the reference refuses it.",
    },
    Row {
        name: "key-rfc6455-example-canonical",
        reqs: &["6455-4.2.1-e", "6455-4.2.2-f"],
        flags: &["A17"],
        input: Example(&[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")]),
        result: Valid,
        comment: "The canonical form of the same 16 bytes is accepted.",
    },
    Row {
        name: "two-keys",
        reqs: &["6455-11.3.1-a"],
        flags: &[],
        input: Example(&[Add("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")]),
        result: Invalid,
        comment: "Sec-WebSocket-Key may appear only once.",
    },
    Row {
        name: "missing-version",
        reqs: &["6455-4.2.1-f"],
        flags: &[],
        input: Example(&[Remove("Sec-WebSocket-Version")]),
        result: Invalid,
        comment: "Sec-WebSocket-Version is required; the 400 names the version spoken.",
    },
    Row {
        name: "two-versions",
        reqs: &["6455-11.3.5-a"],
        flags: &[],
        input: Example(&[Add("Sec-WebSocket-Version", "13")]),
        result: Invalid,
        comment: "Sec-WebSocket-Version may appear only once in a request.",
    },
    Row {
        name: "version-8",
        reqs: &["6455-4.2.2-a"],
        flags: &["A5"],
        input: Example(&[Set("Sec-WebSocket-Version", "8")]),
        result: Acceptable,
        comment: "Unsupported version: a non-101 carrying Sec-WebSocket-Version: 13 (the reference: 426).",
    },
    Row {
        name: "version-013",
        reqs: &["6455-4.2.2-a"],
        flags: &["A5"],
        input: Example(&[Set("Sec-WebSocket-Version", "013")]),
        result: Acceptable,
        comment: "Only the two bytes 13 are version 13.",
    },
    Row {
        name: "lower-case-names-extra-header",
        reqs: &["6455-4.2.1-h"],
        flags: &[],
        input: Raw(
            "GET / HTTP/1.1\r\nsec-websocket-version: 13\r\nx-foo: 1\r\nsec-websocket-protocol: sip\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
             host: sip-ws.example.com\r\n\r\n",
        ),
        result: Valid,
        comment: "Header names are case-insensitive, order is irrelevant, unknown headers are ignored.",
    },
    Row {
        name: "no-origin",
        reqs: &["6455-4.2.1-g"],
        flags: &[],
        input: Example(&[Remove("Origin")]),
        result: Valid,
        comment: "Without Origin (a non-browser client) the default policy accepts.",
    },
    Row {
        name: "extension-offered",
        reqs: &["6455-4.2.2-e"],
        flags: &[],
        input: Example(&[Add("Sec-WebSocket-Extensions", "x-unknown")]),
        result: Valid,
        comment: "An offered extension is never echoed: the 101 has no Sec-WebSocket-Extensions.",
    },
    Row {
        name: "extension-malformed",
        reqs: &["6455-10.7-a"],
        flags: &[],
        input: Example(&[Add("Sec-WebSocket-Extensions", "x-unknown; =")]),
        result: Invalid,
        comment: "A malformed extension offer is invalid handshake data.",
    },
    Row {
        name: "protocol-foo-sip",
        reqs: &["6455-4.2.2-d", "7118-4.1-b"],
        flags: &[],
        input: Example(&[Set("Sec-WebSocket-Protocol", "foo, sip")]),
        result: Valid,
        comment: "The answer is sip, never foo.",
    },
    Row {
        name: "protocol-two-headers",
        reqs: &["6455-11.3.4-a", "7118-4.1-b"],
        flags: &[],
        input: Example(&[
            Set("Sec-WebSocket-Protocol", "foo"),
            Add("Sec-WebSocket-Protocol", "sip"),
        ]),
        result: Valid,
        comment: "Two request fields form one list; the 101 carries exactly one Sec-WebSocket-Protocol: sip.",
    },
    Row {
        name: "protocol-upper-case",
        reqs: &["7936-2-a", "7118-4.1-c"],
        flags: &["A3", "A4"],
        input: Example(&[Set("Sec-WebSocket-Protocol", "SIP")]),
        result: Invalid,
        comment: "SIP is not sip: refused (the reference: 400).",
    },
    Row {
        name: "protocol-case-variants-and-sip",
        reqs: &["7936-2-a", "7118-4.1-b"],
        flags: &["A4"],
        input: Example(&[Set("Sec-WebSocket-Protocol", "SIP, sip")]),
        result: Valid,
        comment: "The exact token is chosen.",
    },
    Row {
        name: "protocol-foo-only",
        reqs: &["7118-4.1-c"],
        flags: &["A3"],
        input: Example(&[Set("Sec-WebSocket-Protocol", "foo")]),
        result: Invalid,
        comment: "sip not offered: refused (the reference: 400).",
    },
    Row {
        name: "protocol-absent",
        reqs: &["7118-4.1-c"],
        flags: &["A3"],
        input: Example(&[Remove("Sec-WebSocket-Protocol")]),
        result: Invalid,
        comment: "No Sec-WebSocket-Protocol: refused (the reference: 400).",
    },
    Row {
        name: "protocol-quoted",
        reqs: &["6455-4.2.2-d", "6455-10.7-a"],
        flags: &[],
        input: Example(&[Set("Sec-WebSocket-Protocol", "\"sip\"")]),
        result: Invalid,
        comment: "A quoted string is not a token.",
    },
    Row {
        name: "garbage-request-line",
        reqs: &["6455-10.7-a"],
        flags: &[],
        input: Raw("HELLO\r\n\r\n"),
        result: Invalid,
        comment: "Not an HTTP request: a 4xx, never 101.",
    },
    Row {
        name: "incomplete-head",
        reqs: &[],
        flags: &[],
        input: Raw("GET / HTTP/1.1\r\nHost: sip-ws.example.com\r\n"),
        result: Valid,
        comment: "No blank line yet: the server reads more before deciding.",
    },
];
