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

use super::{Case, Group, Verdict, input_str};

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

fn case(
    name: &'static str,
    reqs: &'static [&'static str],
    value: &str,
    result: Verdict,
    comment: &'static str,
) -> Case {
    Case {
        name,
        reqs,
        comment,
        flags: &[],
        input: json!({ "value": value }),
        result,
    }
}

fn cases() -> Vec<Case> {
    use Verdict::*;
    vec![
        case(
            "wss-rfc-example",
            &["7118-5.1-a"],
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf",
            Valid,
            "The RFC 7118 §8.1 client Via: WSS, an .invalid host.",
        ),
        case(
            "ws",
            &["7118-5.1-a"],
            "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks",
            Valid,
            "Plain WebSocket: WS.",
        ),
        case(
            "wss-lower-case",
            &["7118-5.1-b"],
            "SIP/2.0/wss df7jal23ls0d.invalid;branch=z9hG4bKasudf",
            Valid,
            "ABNF literals are case-insensitive: wss is WSS; the token is kept as written.",
        ),
        case(
            "ws-mixed-case",
            &["7118-5.1-b"],
            "SIP/2.0/Ws client.invalid;branch=z9hG4bK1",
            Valid,
            "Ws is WS.",
        ),
        case(
            "wss-with-port-and-rport",
            &["7118-5.1-a"],
            "SIP/2.0/WSS 192.0.2.10:8443;rport;branch=z9hG4bK776asdhds",
            Valid,
            "IPv4 sent-by with a port and a value-less rport.",
        ),
        case(
            "wss-ipv6",
            &["7118-5.1-a"],
            "SIP/2.0/WSS [2001:db8::9]:443;branch=z9hG4bKx",
            Valid,
            "IPv6 reference sent-by.",
        ),
        case(
            "ws-received",
            &["7118-5.1-a"],
            "SIP/2.0/WS proxy.example.com;branch=z9hG4bKx;received=203.0.113.5",
            Valid,
            "received is an IP address.",
        ),
        case(
            "proxy-and-client",
            &["7118-5.1-a"],
            "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKaaa, SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbbb",
            Valid,
            "Two via-parms in one value: a UDP proxy hop over a WSS client hop.",
        ),
        case(
            "spaces-around-slashes",
            &["7118-5.1-b"],
            "SIP / 2.0 / WSS h.invalid;branch=z9hG4bKx",
            Valid,
            "SLASH allows surrounding whitespace (RFC 3261 §25.1).",
        ),
        case(
            "tcp",
            &[],
            "SIP/2.0/TCP 198.51.100.1:5060;branch=z9hG4bKx",
            Valid,
            "TCP for comparison.",
        ),
        case(
            "tls",
            &[],
            "SIP/2.0/TLS pc33.example.com;branch=z9hG4bKx",
            Valid,
            "TLS for comparison.",
        ),
        case(
            "sctp-unmapped",
            &[],
            "SIP/2.0/SCTP h.example.com;branch=z9hG4bKx",
            Valid,
            "SCTP is a valid token the reference does not speak: mapped is null.",
        ),
        case(
            "extension-transport-unmapped",
            &[],
            "SIP/2.0/X-FOO h.example.com;branch=z9hG4bKx",
            Valid,
            "An extension transport token parses; mapped is null.",
        ),
        case(
            "missing-transport",
            &["7118-5.1-b"],
            "SIP/2.0 h.invalid;branch=z9hG4bKx",
            Invalid,
            "sent-protocol needs three parts.",
        ),
        case(
            "missing-sent-by",
            &[],
            "SIP/2.0/WSS",
            Invalid,
            "No sent-by.",
        ),
        case(
            "bad-port",
            &[],
            "SIP/2.0/WS h.invalid:70000;branch=z9hG4bKx",
            Invalid,
            "The port does not fit 16 bits.",
        ),
        case(
            "received-not-ip",
            &[],
            "SIP/2.0/WS h.invalid;branch=z9hG4bKx;received=host.example.com",
            Invalid,
            "received must be an IP address (RFC 3261 §25.1).",
        ),
        case(
            "trailing-comma",
            &[],
            "SIP/2.0/WSS h.invalid;branch=z9hG4bKx,",
            Invalid,
            "A comma must be followed by another via-parm.",
        ),
    ]
}
