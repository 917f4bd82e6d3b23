//! `via`: a Via header value -> its via-parms, with the transport token as written and the
//! transport it maps to (RFC 7118 §5.1, RFC 3261 §20.42, §25.1), from
//! `sipws_reference::sip::via::parse_via_list` and `Transport::from_via_token`.
//!
//! input: `{ "value": <Via header value> }`.
//! expected: `{ "vias": [ { "protocol", "version", "transport" (as written),
//! "mapped": "UDP" | "TCP" | "TLS" | "WS" | "WSS" | null, "host": <as written>,
//! "host_kind": "domain" | "ipv4" | "ipv6", "port": int | null,
//! "params": [ { "name", "value": string | null } ] } ] }`,
//! or `{ "parse_error": { "message": ..., "offset": int } }`.

use serde_json::{Value, json};
use sipws_reference::sip::Host;
use sipws_reference::sip::via::parse_via_list;
use sipws_reference::transport::Transport;

use super::Verdict::{Invalid, Valid};
use super::json::input_str;
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "via",
    description: "Via header values -> sent-protocol, transport token and mapping, sent-by, params",
    cases,
    compute,
};

fn compute(input: &Value) -> Result<Value, String> {
    let text = input_str(input, "value")?;
    let vias = match parse_via_list(text) {
        Ok(v) => v,
        Err(e) => {
            return Ok(json!({
                "parse_error": { "message": e.kind.to_string(), "offset": e.offset }
            }));
        }
    };
    let vias: Vec<Value> = vias
        .iter()
        .map(|v| {
            let host_kind = match v.host {
                Host::Domain(_) => "domain",
                Host::Ipv4(_) => "ipv4",
                Host::Ipv6(_) => "ipv6",
            };
            let params: Vec<Value> = v
                .params
                .iter()
                .map(|p| json!({ "name": p.name, "value": p.value }))
                .collect();
            json!({
                "protocol": v.protocol,
                "version": v.version,
                "transport": v.transport,
                "mapped": Transport::from_via_token(&v.transport).ok().map(Transport::via_token),
                "host": v.host.to_string(),
                "host_kind": host_kind,
                "port": v.port,
                "params": params,
            })
        })
        .collect();
    Ok(json!({ "vias": vias }))
}

fn cases() -> Vec<Case> {
    builder::cases(ROWS, |value| json!({ "value": value }))
}

/// The tests; an input is the Via header value.
const ROWS: &[Row<&str>] = &[
    Row {
        name: "wss-rfc-example",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf",
        result: Valid,
        comment: "The RFC 7118 §8.1 client Via: WSS, an .invalid host.",
    },
    Row {
        name: "ws",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks",
        result: Valid,
        comment: "Plain WebSocket: WS.",
    },
    Row {
        name: "wss-lower-case",
        reqs: &["7118-5.1-b"],
        flags: &[],
        input: "SIP/2.0/wss df7jal23ls0d.invalid;branch=z9hG4bKasudf",
        result: Valid,
        comment: "ABNF literals are case-insensitive: wss is WSS; the token is kept as written.",
    },
    Row {
        name: "ws-mixed-case",
        reqs: &["7118-5.1-b"],
        flags: &[],
        input: "SIP/2.0/Ws client.invalid;branch=z9hG4bK1",
        result: Valid,
        comment: "Ws is WS.",
    },
    Row {
        name: "wss-with-port-and-rport",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/WSS 192.0.2.10:8443;rport;branch=z9hG4bK776asdhds",
        result: Valid,
        comment: "IPv4 sent-by with a port and a value-less rport.",
    },
    Row {
        name: "wss-ipv6",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/WSS [2001:db8::9]:443;branch=z9hG4bKx",
        result: Valid,
        comment: "IPv6 reference sent-by.",
    },
    Row {
        name: "ws-received",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/WS proxy.example.com;branch=z9hG4bKx;received=203.0.113.5",
        result: Valid,
        comment: "received is an IP address.",
    },
    Row {
        name: "proxy-and-client",
        reqs: &["7118-5.1-a"],
        flags: &[],
        input: "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKaaa, SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbbb",
        result: Valid,
        comment: "Two via-parms in one value: a UDP proxy hop over a WSS client hop.",
    },
    Row {
        name: "spaces-around-slashes",
        reqs: &["7118-5.1-b"],
        flags: &[],
        input: "SIP / 2.0 / WSS h.invalid;branch=z9hG4bKx",
        result: Valid,
        comment: "SLASH allows surrounding whitespace (RFC 3261 §25.1).",
    },
    Row {
        name: "tcp",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/TCP 198.51.100.1:5060;branch=z9hG4bKx",
        result: Valid,
        comment: "TCP for comparison.",
    },
    Row {
        name: "tls",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/TLS pc33.example.com;branch=z9hG4bKx",
        result: Valid,
        comment: "TLS for comparison.",
    },
    Row {
        name: "sctp-unmapped",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/SCTP h.example.com;branch=z9hG4bKx",
        result: Valid,
        comment: "SCTP is a valid token the reference does not speak: mapped is null.",
    },
    Row {
        name: "extension-transport-unmapped",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/X-FOO h.example.com;branch=z9hG4bKx",
        result: Valid,
        comment: "An extension transport token parses; mapped is null.",
    },
    Row {
        name: "missing-transport",
        reqs: &["7118-5.1-b"],
        flags: &[],
        input: "SIP/2.0 h.invalid;branch=z9hG4bKx",
        result: Invalid,
        comment: "sent-protocol needs three parts.",
    },
    Row {
        name: "missing-sent-by",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/WSS",
        result: Invalid,
        comment: "No sent-by.",
    },
    Row {
        name: "bad-port",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/WS h.invalid:70000;branch=z9hG4bKx",
        result: Invalid,
        comment: "The port does not fit 16 bits.",
    },
    Row {
        name: "received-not-ip",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/WS h.invalid;branch=z9hG4bKx;received=host.example.com",
        result: Invalid,
        comment: "received must be an IP address (RFC 3261 §25.1).",
    },
    Row {
        name: "trailing-comma",
        reqs: &[],
        flags: &[],
        input: "SIP/2.0/WSS h.invalid;branch=z9hG4bKx,",
        result: Invalid,
        comment: "A comma must be followed by another via-parm.",
    },
];
