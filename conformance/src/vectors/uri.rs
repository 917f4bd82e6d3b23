//! `uri-transport`: a SIP URI -> what it names as a next hop (RFC 7118 §5.2, §5.5, §9.2,
//! RFC 3261 §19.1.2, §26.2.2; spec/requirements.md A1), from `sipws_reference::transport::uri_target`.
//!
//! input: `{ "uri": <string> }`.
//! expected, for a URI that parses:
//! `{ "kind": "exactly" | "ws-or-wss" | "unspecified" | "unknown" | "invalid",
//!    "transport": "UDP" | "TCP" | "TLS" | "WS" | "WSS" | null, (for "exactly")
//!    "param": <transport value as written> | null, (for "unknown")
//!    "reason": <why> | null, (for "invalid")
//!    "secure": bool, "port": int, "port_explicit": bool }`;
//! for a URI that does not: `{ "parse_error": { "message": ..., "offset": int } }`.

use serde_json::{Value, json};
use sipws_reference::sip::SipUri;
use sipws_reference::transport::{UriTransport, uri_target};

use super::Verdict::{Acceptable, Invalid, Valid};
use super::json::input_str;
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "uri-transport",
    description: "SIP URIs -> transport (exactly, ws-or-wss, unspecified, unknown, invalid), security and port",
    cases,
    compute,
};

fn compute(input: &Value) -> Result<Value, String> {
    let text = input_str(input, "uri")?;
    let uri = match SipUri::parse(text) {
        Ok(u) => u,
        Err(e) => {
            return Ok(json!({
                "parse_error": { "message": e.kind.to_string(), "offset": e.offset }
            }));
        }
    };
    let target = uri_target(&uri);
    let (kind, transport, param, reason) = match &target.transport {
        UriTransport::Exactly(t) => ("exactly", Some(t.via_token()), None, None),
        UriTransport::WsOrWss => ("ws-or-wss", None, None, None),
        UriTransport::Unspecified => ("unspecified", None, None, None),
        UriTransport::Unknown(p) => ("unknown", None, Some(p.as_str()), None),
        UriTransport::Invalid(r) => ("invalid", None, None, Some(*r)),
    };
    Ok(json!({
        "kind": kind,
        "transport": transport,
        "param": param,
        "reason": reason,
        "secure": target.secure,
        "port": target.port,
        "port_explicit": target.port_explicit,
    }))
}

fn cases() -> Vec<Case> {
    builder::cases(ROWS, |uri| json!({ "uri": uri }))
}

/// The tests; an input is the URI.
const ROWS: &[Row<&str>] = &[
    Row {
        name: "sip-ws-default-port",
        reqs: &["7118-5.2-a", "7118-5.5-b"],
        flags: &["A1"],
        input: "sip:proxy.example.com;transport=ws",
        result: Acceptable,
        comment: "sip: + transport=ws: WS or WSS (A1), default port 80 (RFC 7118 §5.5).",
    },
    Row {
        name: "sips-ws-default-port",
        reqs: &["7118-5.2-a", "7118-5.5-b", "7118-9.2-a"],
        flags: &[],
        input: "sips:proxy.example.com;transport=ws",
        result: Valid,
        comment: "sips: + transport=ws: WSS, default port 443.",
    },
    Row {
        name: "sip-ws-explicit-443",
        reqs: &["7118-5.2-a"],
        flags: &["A1"],
        input: "sip:proxy.example.com:443;transport=ws;lr",
        result: Acceptable,
        comment: "The RFC 7118 §8.2 form of a WSS hop: still 'WS or WSS', the flow decides.",
    },
    Row {
        name: "sip-ws-upper-case",
        reqs: &["7118-5.2-a"],
        flags: &["A1"],
        input: "sip:proxy.example.com;transport=WS",
        result: Acceptable,
        comment: "URI parameter values compare case-insensitively (RFC 3261 §19.1.4).",
    },
    Row {
        name: "sip-wss",
        reqs: &["7118-5.2-a"],
        flags: &["A1"],
        input: "sip:proxy.example.com;transport=wss",
        result: Acceptable,
        comment: "transport=wss is not defined by RFC 7118 but common: accepted as WSS, port 443.",
    },
    Row {
        name: "sip-wss-mixed-case",
        reqs: &["7118-5.2-a"],
        flags: &["A1"],
        input: "sip:proxy.example.com;transport=WsS",
        result: Acceptable,
        comment: "transport=wss in any case.",
    },
    Row {
        name: "sips-wss",
        reqs: &["7118-5.2-a", "7118-9.2-a"],
        flags: &["A1"],
        input: "sips:proxy.example.com:7443;transport=wss",
        result: Acceptable,
        comment: "sips: with transport=wss: WSS, explicit port kept.",
    },
    Row {
        name: "sip-ws-explicit-port",
        reqs: &["7118-5.5-b"],
        flags: &["A1"],
        input: "sip:alice@198.51.100.7:8080;transport=ws",
        result: Acceptable,
        comment: "An explicit port overrides the §5.5 default.",
    },
    Row {
        name: "sips-ws-ipv6",
        reqs: &["7118-5.5-b", "7118-9.2-a"],
        flags: &[],
        input: "sips:[2001:db8::1];transport=ws",
        result: Valid,
        comment: "IPv6 reference, sips: + ws: WSS on 443.",
    },
    Row {
        name: "sip-no-transport",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com",
        result: Valid,
        comment: "No transport parameter: RFC 3263 procedures, default port 5060.",
    },
    Row {
        name: "sips-no-transport",
        reqs: &["7118-9.2-a"],
        flags: &[],
        input: "sips:alice@example.com",
        result: Valid,
        comment: "sips: without transport: secure, default port 5061.",
    },
    Row {
        name: "sip-udp",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com;transport=udp",
        result: Valid,
        comment: "Plain UDP, 5060.",
    },
    Row {
        name: "sips-udp",
        reqs: &["7118-9.2-a"],
        flags: &[],
        input: "sips:alice@example.com;transport=udp",
        result: Invalid,
        comment: "sips: requires TLS on every hop, which UDP cannot carry (RFC 3261 §26.2.2).",
    },
    Row {
        name: "sip-tcp",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com;transport=tcp",
        result: Valid,
        comment: "TCP, 5060.",
    },
    Row {
        name: "sips-tcp",
        reqs: &["7118-9.2-a"],
        flags: &[],
        input: "sips:alice@example.com;transport=tcp",
        result: Valid,
        comment: "sips: + transport=tcp is TLS over TCP, 5061.",
    },
    Row {
        name: "sip-tls",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com;transport=tls",
        result: Acceptable,
        comment: "transport=tls is deprecated (RFC 5630 §3.1.3) but read as TLS.",
    },
    Row {
        name: "sip-sctp",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com;transport=sctp",
        result: Valid,
        comment: "A transport the reference does not speak: unknown, as written.",
    },
    Row {
        name: "sip-extension-transport",
        reqs: &[],
        flags: &[],
        input: "sip:alice@example.com;transport=x-foo",
        result: Valid,
        comment: "An extension transport value: unknown.",
    },
    Row {
        name: "not-a-sip-uri",
        reqs: &[],
        flags: &[],
        input: "http://example.com/",
        result: Invalid,
        comment: "Not a sip:/sips: URI.",
    },
    Row {
        name: "empty-host",
        reqs: &[],
        flags: &[],
        input: "sip:;transport=ws",
        result: Invalid,
        comment: "No host.",
    },
    Row {
        name: "bad-port",
        reqs: &[],
        flags: &[],
        input: "sip:example.com:99999;transport=ws",
        result: Invalid,
        comment: "The port does not fit 16 bits.",
    },
];
