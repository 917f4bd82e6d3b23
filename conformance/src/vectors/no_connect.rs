//! `no-connect`: where the proxy sends a request given the location state and which flows are
//! alive (RFC 7118 §5 and Appendix B, RFC 5626 §5.3, §7, RFC 3261 §16.5; spec/requirements.md A9).
//! A WebSocket server never opens a connection to a WS client: the answer is a live flow, a
//! status code, or a UDP/TCP/TLS target — never a connect to WS. Drives the real
//! `sipws_reference::proxy::Proxy` with the proxy config of the record-route group and its
//! fixed secret (flow tokens are deterministic).
//!
//! input: `{ "flows": [ {"id": int, "transport": T, "remote": "ip:port"} ],
//! "registers": [ {"flow": int, "message": string} ], "closed": [int],
//! "request": {"flow": int, "message": string} }`: flows are opened, the REGISTERs are fed in
//! order, the `closed` flows are closed, then the request is decided and handled (all at time
//! 0). Messages have CRLF line ends.
//! expected: `{ "registered": [status], "decision": {"decision": "deliver", "flow", "retarget"?}
//! | {"decision": "respond", "status"} | {"decision": "forward", "target": {"transport", "host",
//! "port"}, "retarget"?}, "actions": [ {"send": {"flow", "start_line"}}
//! | {"forward": {"transport", "host", "port", "start_line"}} ] }`.

use std::net::SocketAddr;

use serde_json::{Value, json};
use sipws_reference::proxy::flow_token::FlowTokens;
use sipws_reference::proxy::{Action, Proxy, Time};
use sipws_reference::sip::Message;
use sipws_reference::transport::{Flow, FlowId};

use super::Verdict::{Acceptable, Valid};
use super::record_route::{SECRET, config, local, transport};
use super::{Case, Group, Row, builder};

pub const GROUP: Group = Group {
    name: "no-connect",
    description: "Location state, live flows and a request -> deliver on a flow, respond or forward; never connect to WS",
    cases,
    compute,
};

fn id(v: &Value, field: &str) -> Result<FlowId, String> {
    v.get(field)
        .and_then(Value::as_u64)
        .map(FlowId)
        .ok_or_else(|| format!("missing integer field {field:?}"))
}

fn message(v: &Value) -> Result<Message, String> {
    let text = v
        .get("message")
        .and_then(Value::as_str)
        .ok_or("missing string field \"message\"")?;
    Message::parse(text.as_bytes()).map_err(|e| format!("message does not parse: {e}"))
}

fn array<'a>(input: &'a Value, field: &str) -> Result<&'a Vec<Value>, String> {
    input
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing array field {field:?}"))
}

fn start_line(msg: &Message) -> String {
    msg.start.to_string()
}

fn compute(input: &Value) -> Result<Value, String> {
    let mut proxy = Proxy::new(config());
    let mut flows = Vec::new();
    for f in array(input, "flows")? {
        let t = transport(f, "transport")?;
        let remote: SocketAddr = f
            .get("remote")
            .and_then(Value::as_str)
            .ok_or("flow without remote")?
            .parse()
            .map_err(|e| format!("remote: {e}"))?;
        let flow = Flow {
            id: id(f, "id")?,
            transport: t,
            local: local(t),
            remote,
        };
        proxy.flow_opened(flow);
        flows.push(flow);
    }
    let mut registered = Vec::new();
    for r in array(input, "registers")? {
        let out = proxy.handle(message(r)?, id(r, "flow")?, Time(0));
        let status = match out.as_slice() {
            [Action::Send { msg, .. }] => msg.status_line().map(|s| s.code),
            _ => None,
        };
        registered.push(json!(status));
    }
    for c in array(input, "closed")? {
        let c = c.as_u64().ok_or("closed holds a non-integer")?;
        proxy.flow_closed(FlowId(c));
    }
    let request = input.get("request").ok_or("missing field \"request\"")?;
    let ingress_id = id(request, "flow")?;
    let ingress = flows
        .iter()
        .find(|f| f.id == ingress_id)
        .copied()
        .ok_or("the request's flow is not among the flows")?;
    let req = message(request)?;
    let decision = proxy.decide(&mut req.clone(), &ingress);
    let decision = serde_json::to_value(&decision).map_err(|e| e.to_string())?;
    let actions: Vec<Value> = proxy
        .handle(req, ingress_id, Time(0))
        .iter()
        .map(|a| match a {
            Action::Send { flow, msg } => {
                json!({ "send": { "flow": flow.0, "start_line": start_line(msg) } })
            }
            Action::Forward { target, msg } => json!({ "forward": {
                "transport": target.transport.transport().via_token(),
                "host": target.host.to_string(),
                "port": target.port,
                "start_line": start_line(msg),
            } }),
        })
        .collect();
    Ok(json!({ "registered": registered, "decision": decision, "actions": actions }))
}

const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const DAVE: u64 = 4;

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn flows() -> Value {
    json!([
        { "id": ALICE, "transport": "WSS", "remote": "198.51.100.1:50000" },
        { "id": BOB, "transport": "UDP", "remote": "203.0.113.22:5060" },
        { "id": CAROL, "transport": "WS", "remote": "198.51.100.3:50003" },
        { "id": DAVE, "transport": "UDP", "remote": "203.0.113.44:5060" },
    ])
}

fn register_ws(user: &str, via: &str, instance: &str, flow: u64) -> Value {
    json!({ "flow": flow, "message": crlf(&format!(
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/{via} {user}.invalid;branch=z9hG4bKreg{user}
From: <sip:{user}@example.com>;tag=f{user}
To: <sip:{user}@example.com>
Call-ID: reg-{user}
CSeq: 1 REGISTER
Max-Forwards: 70
Supported: path, outbound, gruu
Contact: <sip:{user}@{user}.invalid;transport=ws;ob>;reg-id=1;+sip.instance=\"<urn:uuid:{instance}>\"
Content-Length: 0

"
    )) })
}

fn register_udp(user: &str, host: &str, flow: u64) -> Value {
    json!({ "flow": flow, "message": crlf(&format!(
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP {host}:5060;branch=z9hG4bKreg{user}
From: <sip:{user}@example.com>;tag=f{user}
To: <sip:{user}@example.com>
Call-ID: reg-{user}
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: <sip:{user}@{host}:5060;transport=udp>
Content-Length: 0

"
    )) })
}

/// An INVITE from Bob's UA (its Via and Contact), entering on `flow`.
fn invite_json(ruri: &str, flow: u64) -> Value {
    json!({ "flow": flow, "message": crlf(&format!(
        "INVITE {ruri} SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKinv1
From: <sip:bob@example.com>;tag=bob1
To: <{ruri}>
Call-ID: call-1
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:bob@203.0.113.22:5060;transport=udp>
Content-Length: 0

"
    )) })
}

/// An in-dialog BYE from Bob to Carol whose Route carries `token` (RFC 5626 §5.3.2).
fn bye_json(token: &str) -> Value {
    json!({ "flow": BOB, "message": crlf(&format!(
        "BYE sip:carol@carol.invalid;transport=ws SIP/2.0
Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKbye1
Route: <sip:{token}@proxy.example.com:80;transport=ws;lr>
From: <sip:bob@example.com>;tag=bob1
To: <sip:carol@example.com>;tag=carol1
Call-ID: call-2
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

"
    )) })
}

/// A REGISTER fed before the request.
#[derive(Debug, Clone, Copy)]
enum Register {
    /// With RFC 5626 outbound (reg-id 1, an instance) over a WS-family flow.
    Ws {
        user: &'static str,
        via: &'static str,
        instance: &'static str,
        flow: u64,
    },
    /// A plain REGISTER (no outbound) over UDP.
    Udp {
        user: &'static str,
        host: &'static str,
        flow: u64,
    },
}

const ALICE_REG: Register = Register::Ws {
    user: "alice",
    via: "WSS",
    instance: "00000000-0000-4000-8000-00000000a11c",
    flow: ALICE,
};
const CAROL_REG: Register = Register::Ws {
    user: "carol",
    via: "WS",
    instance: "00000000-0000-4000-8000-0000000ca201",
    flow: CAROL,
};
const DAVE_REG: Register = Register::Udp {
    user: "dave",
    host: "203.0.113.44",
    flow: DAVE,
};

impl Register {
    fn json(self) -> Value {
        match self {
            Register::Ws {
                user,
                via,
                instance,
                flow,
            } => register_ws(user, via, instance, flow),
            Register::Udp { user, host, flow } => register_udp(user, host, flow),
        }
    }
}

/// The flow token a BYE's Route carries.
#[derive(Debug, Clone, Copy)]
enum Token {
    /// The token of Carol's flow, as the proxy issues it.
    Carol,
    /// Carol's token with its last character changed: it fails the integrity check.
    CarolTampered,
}

impl Token {
    fn text(self) -> String {
        let token = FlowTokens::new(SECRET).encode(FlowId(CAROL));
        match self {
            Token::Carol => token,
            Token::CarolTampered => {
                let mut forged = token;
                let last = if forged.ends_with('0') { '1' } else { '0' };
                forged.pop();
                forged.push(last);
                forged
            }
        }
    }
}

/// The request decided after the REGISTERs and closes.
#[derive(Debug, Clone, Copy)]
enum Request {
    /// An INVITE for this Request-URI entering on this flow.
    Invite { ruri: &'static str, flow: u64 },
    /// An in-dialog BYE from Bob routed by a flow token.
    Bye(Token),
}

const fn invite(ruri: &'static str, flow: u64) -> Request {
    Request::Invite { ruri, flow }
}

impl Request {
    fn json(self) -> Value {
        match self {
            Request::Invite { ruri, flow } => invite_json(ruri, flow),
            Request::Bye(token) => bye_json(&token.text()),
        }
    }
}

/// One test's location state and request; the flows are always [`flows`].
#[derive(Debug, Clone, Copy)]
struct Scenario {
    registers: &'static [Register],
    /// The flows closed after the REGISTERs.
    closed: &'static [u64],
    request: Request,
}

impl Scenario {
    fn json(&self) -> Value {
        json!({
            "flows": flows(),
            "registers": self.registers.iter().map(|r| r.json()).collect::<Vec<_>>(),
            "closed": self.closed,
            "request": self.request.json(),
        })
    }
}

fn cases() -> Vec<Case> {
    builder::cases(ROWS, Scenario::json)
}

/// The tests; an input is the location state and the request.
const ROWS: &[Row<Scenario>] = &[
    Row {
        name: "live-binding",
        reqs: &["5626-7-c"],
        flags: &[],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[],
            request: invite("sip:alice@example.com", BOB),
        },
        result: Valid,
        comment: "Alice registered over WSS and her flow is alive: the INVITE goes out on that flow.",
    },
    Row {
        name: "closed-flow",
        reqs: &["5626-7-d", "3261-16.5-a", "3261-18.2.2-b"],
        flags: &["A9"],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[ALICE],
            request: invite("sip:alice@example.com", BOB),
        },
        result: Acceptable,
        comment: "Alice's only flow closed, her binding went with it: 480, no connection attempt to her .invalid Contact.",
    },
    Row {
        name: "unknown-user",
        reqs: &["3261-16.5-a"],
        flags: &[],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[],
            request: invite("sip:nobody@example.com", BOB),
        },
        result: Valid,
        comment: "No such user in our domain: 404.",
    },
    Row {
        name: "gruu-of-closed-flow",
        reqs: &["5627-6.1-a", "5626-7-d", "3261-16.5-a"],
        flags: &["A9"],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[ALICE],
            request: invite(
                "sip:alice@example.com;gr=urn:uuid:00000000-0000-4000-8000-00000000a11c",
                BOB,
            ),
        },
        result: Acceptable,
        comment: "Alice's public GRUU after her flow closed: the instance is known but unreachable: 480.",
    },
    Row {
        name: "gruu-live",
        reqs: &["5627-6.1-a"],
        flags: &[],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[],
            request: invite(
                "sip:alice@example.com;gr=urn:uuid:00000000-0000-4000-8000-00000000a11c",
                BOB,
            ),
        },
        result: Valid,
        comment: "Alice's public GRUU while her flow lives: delivered on her flow.",
    },
    Row {
        name: "flow-token-live",
        reqs: &["5626-5.3.2-a", "5626-5.3.1-b"],
        flags: &[],
        input: Scenario {
            registers: &[CAROL_REG],
            closed: &[],
            request: Request::Bye(Token::Carol),
        },
        result: Valid,
        comment: "An in-dialog BYE whose Route carries Carol's flow token: delivered on her WS flow.",
    },
    Row {
        name: "flow-token-closed-flow",
        reqs: &["5626-5.3.1-b"],
        flags: &["A9"],
        input: Scenario {
            registers: &[CAROL_REG],
            closed: &[CAROL],
            request: Request::Bye(Token::Carol),
        },
        result: Valid,
        comment: "The flow token names a flow that closed: 430 Flow Failed, no connection attempt.",
    },
    Row {
        name: "flow-token-tampered",
        reqs: &["5626-5.3.1-b"],
        flags: &["A9"],
        input: Scenario {
            registers: &[CAROL_REG],
            closed: &[],
            request: Request::Bye(Token::CarolTampered),
        },
        result: Acceptable,
        comment: "A flow token whose last character was changed fails its integrity check: 403.",
    },
    Row {
        name: "invalid-host",
        reqs: &["3261-18.2.2-b"],
        flags: &["A9"],
        input: Scenario {
            registers: &[],
            closed: &[],
            request: invite("sip:x@gone.invalid", BOB),
        },
        result: Acceptable,
        comment: "A .invalid host cannot be resolved or dialled (RFC 6761): 480.",
    },
    Row {
        name: "transport-ws-not-ours",
        reqs: &["3261-18.2.2-b", "3263-4.1-a"],
        flags: &["A1", "A9"],
        input: Scenario {
            registers: &[],
            closed: &[],
            request: invite("sip:x@ws.example.net;transport=ws", BOB),
        },
        result: Acceptable,
        comment: "A transport=ws target on a foreign host: a WS server does not open WebSocket connections: 480.",
    },
    Row {
        name: "transport-wss-not-ours",
        reqs: &["3261-18.2.2-b", "3263-4.1-a"],
        flags: &["A1", "A9"],
        input: Scenario {
            registers: &[],
            closed: &[],
            request: invite("sip:x@ws.example.net;transport=wss", BOB),
        },
        result: Acceptable,
        comment: "transport=wss (field usage) on a foreign host: 480 as well.",
    },
    Row {
        name: "sips-to-plain-ws-binding",
        reqs: &["7118-9.2-a", "3261-16.5-a"],
        flags: &["A9"],
        input: Scenario {
            registers: &[CAROL_REG],
            closed: &[],
            request: invite("sips:carol@example.com", BOB),
        },
        result: Acceptable,
        comment: "A sips: request for a user bound only over plain WS must not leave over WS: 480.",
    },
    Row {
        name: "sips-to-wss-binding",
        reqs: &["7118-9.2-a"],
        flags: &[],
        input: Scenario {
            registers: &[ALICE_REG],
            closed: &[],
            request: invite("sips:alice@example.com", BOB),
        },
        result: Valid,
        comment: "A sips: request for a user bound over WSS: delivered on the WSS flow.",
    },
    Row {
        name: "udp-binding",
        reqs: &["7118-5.4-b"],
        flags: &[],
        input: Scenario {
            registers: &[DAVE_REG],
            closed: &[],
            request: invite("sip:dave@example.com", BOB),
        },
        result: Valid,
        comment: "Dave registered over UDP: the INVITE goes to his Contact over the UDP socket he registered from (UDP needs no connection).",
    },
    Row {
        name: "foreign-udp-target",
        reqs: &["7118-5.4-b"],
        flags: &[],
        input: Scenario {
            registers: &[],
            closed: &[],
            request: invite("sip:bob@203.0.113.77:5060;transport=udp", ALICE),
        },
        result: Valid,
        comment: "A foreign UDP Request-URI from a WSS client: forwarded over UDP.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tampered_token_differs_from_carols_in_its_last_character_only() {
        let (real, forged) = (Token::Carol.text(), Token::CarolTampered.text());
        assert_ne!(real, forged);
        assert_eq!(real.len(), forged.len());
        assert_eq!(real[..real.len() - 1], forged[..forged.len() - 1]);
    }
}
