//! `record-route`: the Record-Route entries the proxy inserts for a dialog-forming request
//! entering on one transport and leaving on another, and the route sets both sides then use
//! (RFC 3261 §16.6 item 4, §12.1.1, §12.1.2; RFC 5658 §6.2; RFC 5626 §5.3.2), from
//! `sipws_reference::proxy::record_route::record_route` with the fixed [`config`] and secret
//! (flow tokens are deterministic then).
//!
//! input: `{ "ingress": T, "egress": T, "ruri_scheme": "sip" | "sips" }` with T one of `UDP`,
//! `TCP`, `TLS`, `WS`, `WSS`. The ingress flow is flow 1 (from 198.51.100.1:50000); on a
//! connection-oriented egress the callee's flow is flow 2 (from 203.0.113.22:50002).
//! expected: `{ "record_route": [uri], "callee_route": [uri], "caller_route": [uri] }`: the
//! entries top first; the callee (UAS) uses them in order, the caller (UAC) reversed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde_json::{Value, json};
use sipws_reference::proxy::Config;
use sipws_reference::proxy::flow_token::FlowTokens;
use sipws_reference::proxy::record_route::record_route;
use sipws_reference::transport::{Flow, FlowId, Transport};

use super::Verdict::{Acceptable, Valid};
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "record-route",
    description: "Ingress/egress transports and R-URI scheme -> Record-Route entries and route sets",
    cases,
    compute,
};

/// The fixed secret of flow tokens in the proxy groups (record-route, no-connect).
pub(super) const SECRET: &[u8] = b"sipws vectors: fixed 32-byte key";

/// The proxy of the proxy groups: the RFC 7118 §8 deployment with the fixed secret.
pub(super) fn config() -> Config {
    Config::rfc7118_example(SECRET)
}

/// Our address on a flow of this transport.
pub(super) fn local(transport: Transport) -> SocketAddr {
    let port = match transport {
        Transport::Udp | Transport::Tcp => 5060,
        Transport::Tls => 5061,
        Transport::Ws => 80,
        Transport::Wss => 443,
    };
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), port)
}

pub(super) fn transport(input: &Value, field: &str) -> Result<Transport, String> {
    let token = input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string field {field:?}"))?;
    Transport::from_via_token(token).map_err(|e| format!("{field}: {e}"))
}

fn compute(input: &Value) -> Result<Value, String> {
    let ingress_t = transport(input, "ingress")?;
    let egress_t = transport(input, "egress")?;
    let sips = match input.get("ruri_scheme").and_then(Value::as_str) {
        Some("sip") => false,
        Some("sips") => true,
        _ => return Err("ruri_scheme is not \"sip\" or \"sips\"".into()),
    };
    let config = config();
    let tokens = FlowTokens::new(&config.secret);
    let ingress = Flow {
        id: FlowId(1),
        transport: ingress_t,
        local: local(ingress_t),
        remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 50000),
    };
    let egress = egress_t.is_reliable().then(|| Flow {
        id: FlowId(2),
        transport: egress_t,
        local: local(egress_t),
        remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 22)), 50002),
    });
    let rr: Vec<String> = record_route(&config, &tokens, &ingress, egress_t, egress.as_ref(), sips)
        .iter()
        .map(ToString::to_string)
        .collect();
    let reversed: Vec<String> = rr.iter().rev().cloned().collect();
    Ok(json!({ "record_route": rr, "callee_route": rr, "caller_route": reversed }))
}

const ALL: [&str; 5] = ["UDP", "TCP", "TLS", "WS", "WSS"];

/// Case names: `<ingress>-to-<egress>`, indexed like [`ALL`].
const NAMES: [[&str; 5]; 5] = [
    [
        "udp-to-udp",
        "udp-to-tcp",
        "udp-to-tls",
        "udp-to-ws",
        "udp-to-wss",
    ],
    [
        "tcp-to-udp",
        "tcp-to-tcp",
        "tcp-to-tls",
        "tcp-to-ws",
        "tcp-to-wss",
    ],
    [
        "tls-to-udp",
        "tls-to-tcp",
        "tls-to-tls",
        "tls-to-ws",
        "tls-to-wss",
    ],
    [
        "ws-to-udp",
        "ws-to-tcp",
        "ws-to-tls",
        "ws-to-ws",
        "ws-to-wss",
    ],
    [
        "wss-to-udp",
        "wss-to-tcp",
        "wss-to-tls",
        "wss-to-ws",
        "wss-to-wss",
    ],
];

/// A dialog-forming request's way through the proxy.
#[derive(Debug, Clone, Copy)]
struct Hops {
    ingress: &'static str,
    egress: &'static str,
    ruri_scheme: &'static str,
}

impl Hops {
    fn json(&self) -> Value {
        json!({ "ingress": self.ingress, "egress": self.egress, "ruri_scheme": self.ruri_scheme })
    }
}

/// The 25 `sip:` tests, every ingress x egress: their rows follow one rule (same transport or
/// a switch; A1 when a side is WSS), so they are derived rather than written out.
fn matrix() -> Vec<Row<Hops>> {
    let mut rows = Vec::new();
    for (i, ingress) in ALL.iter().enumerate() {
        for (j, egress) in ALL.iter().enumerate() {
            let wss = *ingress == "WSS" || *egress == "WSS";
            let (reqs, comment): (&'static [&'static str], &'static str) = if i == j {
                (
                    &["3261-16.6-b", "5626-5.3.2-a"],
                    "Same transport both sides: one Record-Route entry with lr, carrying the \
                     ingress flow's token when that flow is connection-oriented.",
                )
            } else {
                (
                    &["5658-6.2-a", "5658-6.2-b", "3261-16.6-b", "5626-5.3.2-a"],
                    "Transport switch: double Record-Route, the top entry facing the egress \
                     side, the second the ingress side, each with its transport parameter and \
                     a flow token for a connection-oriented flow.",
                )
            };
            rows.push(Row {
                name: NAMES[i][j],
                reqs,
                flags: if wss { &["A1"] } else { &[] },
                input: Hops {
                    ingress,
                    egress,
                    ruri_scheme: "sip",
                },
                // A WSS hop written `sip:...:443;transport=ws` (RFC 7118 §8.2) does not
                // encode TLS as RFC 5658 §6.2 wants (A1): what the reference writes is one of
                // the readings, not the only right answer.
                result: if wss { Acceptable } else { Valid },
                comment,
            });
        }
    }
    rows
}

/// A `sips:` Request-URI from `ingress` to `egress`.
const fn sips(ingress: &'static str, egress: &'static str) -> Hops {
    Hops {
        ingress,
        egress,
        ruri_scheme: "sips",
    }
}

/// The requirements every `sips:` test checks: forced record-routing (RFC 3261 §16.6 item 4)
/// with RFC 5658 entries and flow tokens.
const SIPS_REQS: &[&str] = &["3261-16.6-c", "5658-6.2-a", "5626-5.3.2-a"];

/// The `sips:` tests, after the [`matrix`].
const SIPS: &[Row<Hops>] = &[
    Row {
        name: "sips-wss-to-wss",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("WSS", "WSS"),
        result: Valid,
        comment: "sips: R-URI, WSS both sides: the entry is sips:.",
    },
    Row {
        name: "sips-wss-to-tls",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("WSS", "TLS"),
        result: Valid,
        comment: "sips: R-URI from WSS to TLS: both entries sips:.",
    },
    Row {
        name: "sips-tls-to-wss",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("TLS", "WSS"),
        result: Valid,
        comment: "sips: R-URI from TLS to WSS: both entries sips:.",
    },
    Row {
        name: "sips-ws-to-tls",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("WS", "TLS"),
        result: Acceptable,
        comment: "sips: R-URI arriving over plain WS: record-routing is forced and the entries \
                  are sips: (RFC 3261 §16.6 item 4), although the WS-side entry then names WSS \
                  on the plain WS listener's port 80.",
    },
    Row {
        name: "sips-tcp-to-wss",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("TCP", "WSS"),
        result: Acceptable,
        comment: "sips: R-URI arriving over TCP: every entry is sips:, so the TCP-side entry \
                  names TLS on the plain TCP listener's port 5060.",
    },
    Row {
        name: "sips-udp-to-wss",
        reqs: SIPS_REQS,
        flags: &["A1"],
        input: sips("UDP", "WSS"),
        result: Acceptable,
        comment: "sips: R-URI arriving over UDP (itself a violation of RFC 3261 §26.2.2): the \
                  UDP-side entry comes out as sips: with transport=udp, a combination the \
                  uri-transport group classifies as invalid.",
    },
];

fn cases() -> Vec<Case> {
    let mut rows = matrix();
    rows.extend_from_slice(SIPS);
    builder::cases(&rows, Hops::json)
}
