//! `uri-transport`: a SIP URI -> what it names as a next hop (RFC 7118 §5.2, §5.5, §9.2,
//! RFC 3261 §19.1.2, §26.2.2; REQUIREMENTS A1), from `sipws_reference::transport::uri_target`.
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

use super::{Case, Group, Verdict, input_str};

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

fn case(
    name: &'static str,
    reqs: &'static [&'static str],
    flags: &'static [&'static str],
    uri: &str,
    result: Verdict,
    comment: &'static str,
) -> Case {
    Case {
        name,
        reqs,
        comment,
        flags,
        input: json!({ "uri": uri }),
        result,
    }
}

fn cases() -> Vec<Case> {
    use Verdict::*;
    vec![
        case(
            "sip-ws-default-port",
            &["7118-5.2-a", "7118-5.5-b"],
            &["A1"],
            "sip:proxy.example.com;transport=ws",
            Acceptable,
            "sip: + transport=ws: WS or WSS (A1), default port 80 (RFC 7118 §5.5).",
        ),
        case(
            "sips-ws-default-port",
            &["7118-5.2-a", "7118-5.5-b", "7118-9.2-a"],
            &[],
            "sips:proxy.example.com;transport=ws",
            Valid,
            "sips: + transport=ws: WSS, default port 443.",
        ),
        case(
            "sip-ws-explicit-443",
            &["7118-5.2-a"],
            &["A1"],
            "sip:proxy.example.com:443;transport=ws;lr",
            Acceptable,
            "The RFC 7118 §8.2 form of a WSS hop: still 'WS or WSS', the flow decides.",
        ),
        case(
            "sip-ws-upper-case",
            &["7118-5.2-a"],
            &["A1"],
            "sip:proxy.example.com;transport=WS",
            Acceptable,
            "URI parameter values compare case-insensitively (RFC 3261 §19.1.4).",
        ),
        case(
            "sip-wss",
            &["7118-5.2-a"],
            &["A1"],
            "sip:proxy.example.com;transport=wss",
            Acceptable,
            "transport=wss is not defined by RFC 7118 but common: accepted as WSS, port 443.",
        ),
        case(
            "sip-wss-mixed-case",
            &["7118-5.2-a"],
            &["A1"],
            "sip:proxy.example.com;transport=WsS",
            Acceptable,
            "transport=wss in any case.",
        ),
        case(
            "sips-wss",
            &["7118-5.2-a", "7118-9.2-a"],
            &["A1"],
            "sips:proxy.example.com:7443;transport=wss",
            Acceptable,
            "sips: with transport=wss: WSS, explicit port kept.",
        ),
        case(
            "sip-ws-explicit-port",
            &["7118-5.5-b"],
            &["A1"],
            "sip:alice@198.51.100.7:8080;transport=ws",
            Acceptable,
            "An explicit port overrides the §5.5 default.",
        ),
        case(
            "sips-ws-ipv6",
            &["7118-5.5-b", "7118-9.2-a"],
            &[],
            "sips:[2001:db8::1];transport=ws",
            Valid,
            "IPv6 reference, sips: + ws: WSS on 443.",
        ),
        case(
            "sip-no-transport",
            &[],
            &[],
            "sip:alice@example.com",
            Valid,
            "No transport parameter: RFC 3263 procedures, default port 5060.",
        ),
        case(
            "sips-no-transport",
            &["7118-9.2-a"],
            &[],
            "sips:alice@example.com",
            Valid,
            "sips: without transport: secure, default port 5061.",
        ),
        case(
            "sip-udp",
            &[],
            &[],
            "sip:alice@example.com;transport=udp",
            Valid,
            "Plain UDP, 5060.",
        ),
        case(
            "sips-udp",
            &["7118-9.2-a"],
            &[],
            "sips:alice@example.com;transport=udp",
            Invalid,
            "sips: requires TLS on every hop, which UDP cannot carry (RFC 3261 §26.2.2).",
        ),
        case(
            "sip-tcp",
            &[],
            &[],
            "sip:alice@example.com;transport=tcp",
            Valid,
            "TCP, 5060.",
        ),
        case(
            "sips-tcp",
            &["7118-9.2-a"],
            &[],
            "sips:alice@example.com;transport=tcp",
            Valid,
            "sips: + transport=tcp is TLS over TCP, 5061.",
        ),
        case(
            "sip-tls",
            &[],
            &[],
            "sip:alice@example.com;transport=tls",
            Acceptable,
            "transport=tls is deprecated (RFC 5630 §3.1.3) but read as TLS.",
        ),
        case(
            "sip-sctp",
            &[],
            &[],
            "sip:alice@example.com;transport=sctp",
            Valid,
            "A transport the reference does not speak: unknown, as written.",
        ),
        case(
            "sip-extension-transport",
            &[],
            &[],
            "sip:alice@example.com;transport=x-foo",
            Valid,
            "An extension transport value: unknown.",
        ),
        case(
            "not-a-sip-uri",
            &[],
            &[],
            "http://example.com/",
            Invalid,
            "Not a sip:/sips: URI.",
        ),
        case(
            "empty-host",
            &[],
            &[],
            "sip:;transport=ws",
            Invalid,
            "No host.",
        ),
        case(
            "bad-port",
            &[],
            &[],
            "sip:example.com:99999;transport=ws",
            Invalid,
            "The port does not fit 16 bits.",
        ),
    ]
}
