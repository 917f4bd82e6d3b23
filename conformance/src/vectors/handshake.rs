//! `handshake-requests`: a raw WebSocket upgrade request -> the reference server's answer with
//! the default policy (any path, any origin, any valid Host), from
//! `sipws_reference::ws::handshake::accept_bytes` (RFC 6455 §4.2, RFC 7118 §4.1,
//! REQUIREMENTS §2.1).
//!
//! input: `{ "request": <request head, CRLF line ends> }`.
//! expected: `{ "accept": { "status": 101, "headers": [[name, value], ...],
//! "sec_websocket_accept": ..., "subprotocol": "sip" } }`,
//! `{ "reject": { "status": int, "headers": [[name, value], ...], "reason": <requirement id> } }`
//! (`headers` = the refusal-specific fields: `Sec-WebSocket-Version`, `Upgrade`), or
//! `{ "incomplete": true }` when the head has no terminating blank line.

use serde_json::{Value, json};
use sipws_reference::ws::handshake::{Policy, ServerStep, accept_bytes};

use super::{Case, Group, Verdict, input_str};

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
    Drop(&'static str),
    /// Replace the value of this field.
    Set(&'static str, &'static str),
    /// Append a field line.
    Add(&'static str, &'static str),
}

fn request(start: &str, edits: &[Edit]) -> String {
    let mut fields: Vec<(&str, &str)> = BASE.to_vec();
    for edit in edits {
        match *edit {
            Edit::Drop(name) => fields.retain(|(n, _)| *n != name),
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

fn case(
    name: &'static str,
    reqs: &'static [&'static str],
    flags: &'static [&'static str],
    request: String,
    result: Verdict,
    comment: &'static str,
) -> Case {
    Case {
        name,
        reqs,
        comment,
        flags,
        input: json!({ "request": request }),
        result,
    }
}

fn cases() -> Vec<Case> {
    use Edit::*;
    use Verdict::*;
    vec![
        case("rfc7118-example", &["7118-4.1-b", "6455-4.2.2-f", "6455-11.3.3-a"], &[],
            request(START, &[]), Valid,
            "The RFC 7118 §4.1 request: 101, Sec-WebSocket-Accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, sip."),
        case("post", &["6455-4.2.1-a"], &[], request("POST / HTTP/1.1", &[]), Invalid,
            "Only GET starts a handshake."),
        case("lower-case-get", &["6455-4.2.1-a"], &[], request("get / HTTP/1.1", &[]), Invalid,
            "Methods are case-sensitive (RFC 7231 §4.1)."),
        case("http-1-0", &["6455-4.2.1-a"], &[], request("GET / HTTP/1.0", &[]), Invalid,
            "HTTP/1.1 or later is required."),
        case("absolute-form-target", &["6455-4.2.1-a"], &[],
            request("GET http://sip-ws.example.com/ws HTTP/1.1", &[]), Valid,
            "An absolute http URI is a valid request-target."),
        case("ftp-target", &["6455-4.2.1-a"], &[],
            request("GET ftp://sip-ws.example.com/ HTTP/1.1", &[]), Invalid,
            "Only origin-form or an absolute http/https URI."),
        case("missing-host", &["6455-4.2.1-b"], &[], request(START, &[Drop("Host")]), Invalid,
            "Host is required."),
        case("two-hosts", &["6455-4.2.1-b"], &[],
            request(START, &[Add("Host", "other.example.com")]), Invalid,
            "Exactly one Host (RFC 7230 §5.4)."),
        case("upgrade-capitalised", &["6455-4.2.1-c"], &[],
            request(START, &[Set("Upgrade", "WebSocket")]), Valid,
            "Upgrade compares ASCII case-insensitively."),
        case("upgrade-h2c", &["6455-4.2.1-c"], &[], request(START, &[Set("Upgrade", "h2c")]), Invalid,
            "Upgrade must name websocket."),
        case("missing-upgrade", &["6455-4.2.1-c"], &[], request(START, &[Drop("Upgrade")]), Invalid,
            "Upgrade is required."),
        case("connection-keep-alive-upgrade", &["6455-4.2.1-d"], &[],
            request(START, &[Set("Connection", "keep-alive, upgrade")]), Valid,
            "upgrade among other Connection options, any case."),
        case("connection-keep-alive-only", &["6455-4.2.1-d"], &[],
            request(START, &[Set("Connection", "keep-alive")]), Invalid,
            "Connection must include upgrade."),
        case("missing-connection", &["6455-4.2.1-d"], &[], request(START, &[Drop("Connection")]), Invalid,
            "Connection is required."),
        case("missing-key", &["6455-4.2.1-e"], &[], request(START, &[Drop("Sec-WebSocket-Key")]), Invalid,
            "Sec-WebSocket-Key is required."),
        case("key-15-bytes", &["6455-4.2.1-e"], &[],
            request(START, &[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4P")]), Invalid,
            "The key must decode to exactly 16 bytes."),
        case("key-20-bytes", &["6455-4.2.1-e"], &[],
            request(START, &[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEBESExQ=")]), Invalid,
            "The key must decode to exactly 16 bytes."),
        case("key-not-base64", &["6455-4.2.1-e"], &[],
            request(START, &[Set("Sec-WebSocket-Key", "not base64 at all!!!!!!!")]), Invalid,
            "The key must be base64."),
        case("key-rfc6455-example", &["6455-4.2.1-e"], &["A17"],
            request(START, &[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEC==")]), Acceptable,
            "The RFC 6455 §4.1 example key has non-zero pad bits: the reference refuses it."),
        case("key-rfc6455-example-canonical", &["6455-4.2.1-e", "6455-4.2.2-f"], &["A17"],
            request(START, &[Set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")]), Valid,
            "The canonical form of the same 16 bytes is accepted."),
        case("two-keys", &["6455-11.3.1-a"], &[],
            request(START, &[Add("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")]), Invalid,
            "Sec-WebSocket-Key may appear only once."),
        case("missing-version", &["6455-4.2.1-f"], &[],
            request(START, &[Drop("Sec-WebSocket-Version")]), Invalid,
            "Sec-WebSocket-Version is required; the 400 names the version spoken."),
        case("two-versions", &["6455-11.3.5-a"], &[],
            request(START, &[Add("Sec-WebSocket-Version", "13")]), Invalid,
            "Sec-WebSocket-Version may appear only once in a request."),
        case("version-8", &["6455-4.2.2-a"], &["A5"],
            request(START, &[Set("Sec-WebSocket-Version", "8")]), Acceptable,
            "Unsupported version: a non-101 carrying Sec-WebSocket-Version: 13 (the reference: 426)."),
        case("version-013", &["6455-4.2.2-a"], &["A5"],
            request(START, &[Set("Sec-WebSocket-Version", "013")]), Acceptable,
            "Only the two bytes 13 are version 13."),
        case("lower-case-names-extra-header", &["6455-4.2.1-h"], &[],
            "GET / HTTP/1.1\r\nsec-websocket-version: 13\r\nx-foo: 1\r\nsec-websocket-protocol: sip\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
             host: sip-ws.example.com\r\n\r\n".to_owned(), Valid,
            "Header names are case-insensitive, order is irrelevant, unknown headers are ignored."),
        case("no-origin", &["6455-4.2.1-g"], &[], request(START, &[Drop("Origin")]), Valid,
            "Without Origin (a non-browser client) the default policy accepts."),
        case("extension-offered", &["6455-4.2.2-e"], &[],
            request(START, &[Add("Sec-WebSocket-Extensions", "x-unknown")]), Valid,
            "An offered extension is never echoed: the 101 has no Sec-WebSocket-Extensions."),
        case("extension-malformed", &["6455-10.7-a"], &[],
            request(START, &[Add("Sec-WebSocket-Extensions", "x-unknown; =")]), Invalid,
            "A malformed extension offer is invalid handshake data."),
        case("protocol-foo-sip", &["6455-4.2.2-d", "7118-4.1-b"], &[],
            request(START, &[Set("Sec-WebSocket-Protocol", "foo, sip")]), Valid,
            "The answer is sip, never foo."),
        case("protocol-two-headers", &["6455-11.3.4-a", "7118-4.1-b"], &[],
            request(START, &[Set("Sec-WebSocket-Protocol", "foo"), Add("Sec-WebSocket-Protocol", "sip")]), Valid,
            "Two request fields form one list; the 101 carries exactly one Sec-WebSocket-Protocol: sip."),
        case("protocol-upper-case", &["7936-2-a", "7118-4.1-c"], &["A3", "A4"],
            request(START, &[Set("Sec-WebSocket-Protocol", "SIP")]), Invalid,
            "SIP is not sip: refused (the reference: 400)."),
        case("protocol-case-variants-and-sip", &["7936-2-a", "7118-4.1-b"], &["A4"],
            request(START, &[Set("Sec-WebSocket-Protocol", "SIP, sip")]), Valid,
            "The exact token is chosen."),
        case("protocol-foo-only", &["7118-4.1-c"], &["A3"],
            request(START, &[Set("Sec-WebSocket-Protocol", "foo")]), Invalid,
            "sip not offered: refused (the reference: 400)."),
        case("protocol-absent", &["7118-4.1-c"], &["A3"],
            request(START, &[Drop("Sec-WebSocket-Protocol")]), Invalid,
            "No Sec-WebSocket-Protocol: refused (the reference: 400)."),
        case("protocol-quoted", &["6455-4.2.2-d", "6455-10.7-a"], &[],
            request(START, &[Set("Sec-WebSocket-Protocol", "\"sip\"")]), Invalid,
            "A quoted string is not a token."),
        case("garbage-request-line", &["6455-10.7-a"], &[],
            "HELLO\r\n\r\n".to_owned(), Invalid,
            "Not an HTTP request: a 4xx, never 101."),
        case("incomplete-head", &[], &[],
            "GET / HTTP/1.1\r\nHost: sip-ws.example.com\r\n".to_owned(), Valid,
            "No blank line yet: the server reads more before deciding."),
    ]
}
