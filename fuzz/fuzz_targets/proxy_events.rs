//! The sans-IO registrar and proxy ([`Proxy`]) driven by a random sequence of shell events
//! (structured input, via `arbitrary`): connections opening and closing on every transport,
//! bytes read from them, time passing, answers to what the proxy sent, failed forwards.
//!
//! A small model of the shell (`reference/src/net`) turns bytes into messages the way the
//! real one does: a WebSocket flow reads frames with the codec's [`Receiver`] and classifies
//! each message's payload ([`classify_ws_payload`], policy A10); a TCP/TLS flow buffers and
//! frames with [`Message::parse_stream`] (closing on garbage or past 64 KiB); UDP parses each
//! datagram. Besides raw bytes, the input can pick well-formed templates (REGISTER with
//! Outbound and GRUU, INVITE, MESSAGE, in-dialog requests along a Record-Route the proxy
//! wrote, requests to a GRUU it handed out) so that deep states are reached without seeds.
//!
//! Invariants checked after every event:
//! - **no binding outlives its flow** (5626-7-d): every binding's flow is live, and none
//!   has expired at the last tick;
//! - the proxy's live flows are exactly the shell's open ones;
//! - after a tick, the next deadline is in the future.
//!
//! And on every action the proxy asks for:
//! - a `Send` names a live flow (a dead one is never written to, 3261-18.2.2-b);
//! - every message prints to bytes that parse back to the same message, with a
//!   Content-Length, if any, equal to its body;
//! - a request it sends or forwards carries its own Via on top, with the egress transport's
//!   token (7118-5.1-a: `WS` on ws, `WSS` on wss) and a Max-Forwards within 0..=255;
//! - a `Forward` goes to UDP, TCP or TLS only (no-connect is in the type; the Via checks it
//!   again).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sipws_reference::net::{WsPayload, classify_ws_payload};
use sipws_reference::sip::response::response;
use sipws_reference::proxy::{Action, Config, Proxy, Time};
use sipws_reference::sip::{Message, Method};
use sipws_reference::transport::{Flow, FlowId, Transport};
use sipws_reference::ws::codec::{
    Event as WsEvent, Limits, Receiver, Role, encode_message, sip_message_kind,
};

/// Events per input, flows per input and remembered messages: bound the work of one run.
const MAX_OPS: usize = 96;
const MAX_FLOWS: usize = 24;
const MEMORY: usize = 16;
/// `limits.max_stream_buffer` of the server's default configuration.
const MAX_STREAM_BUFFER: usize = 64 * 1024;
/// How long the proxy keeps a forwarded transaction's way back: Timer C (RFC 3261 §16.6).
const TIMER_C_MS: u64 = 180_000;

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Kind {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl Kind {
    fn transport(self) -> Transport {
        match self {
            Kind::Udp => Transport::Udp,
            Kind::Tcp => Transport::Tcp,
            Kind::Tls => Transport::Tls,
            Kind::Ws => Transport::Ws,
            Kind::Wss => Transport::Wss,
        }
    }
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Template {
    /// REGISTER with Outbound (reg-id, `ob`), an instance id and GRUU support.
    RegisterOutbound,
    /// A plain RFC 3261 REGISTER with a dialable contact.
    RegisterPlain,
    /// `Contact: *` with `Expires: 0`: remove every binding of the AoR.
    Unregister,
    Invite,
    Message,
    Options,
    Ack,
    /// A BYE along the Record-Route of a request the proxy sent (flow tokens, 430, 403).
    InDialog,
    /// An INVITE to a public or temporary GRUU from a 200 OK to a REGISTER.
    ToGruu,
    /// A request for a host that is not ours, over any `transport` (forwarded, or refused
    /// without dialing for WebSocket: no-connect).
    Foreign,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// A connection (or UDP peer) the shell now serves.
    Connect { kind: Kind, peer: u8, port: u16 },
    /// Bytes as read from the socket (for WebSocket: frames).
    Bytes { flow: u8, data: Vec<u8> },
    /// One SIP payload as the peer would send it (for WebSocket: one masked frame).
    Sip { flow: u8, data: Vec<u8> },
    /// A well-formed message from the templates.
    Template {
        flow: u8,
        which: Template,
        user: u8,
        n: u8,
    },
    /// An answer to a request the proxy sent, arriving where the request went.
    Reply { pick: u8, code: u16, flow: u8 },
    /// The shell could not deliver a forwarded request.
    ForwardFailed { pick: u8 },
    /// The connection is gone.
    Close { flow: u8 },
    /// Time passes, and the shell ticks the proxy.
    Tick { advance_ms: u32 },
}

/// The shell's side of one flow.
struct ShellFlow {
    flow: Flow,
    open: bool,
    /// WebSocket: the frame receiver (server role, the shell's limits).
    rx: Option<Receiver>,
    /// TCP/TLS: bytes of an incomplete message.
    buf: Vec<u8>,
}

struct Harness {
    proxy: Proxy,
    flows: Vec<ShellFlow>,
    now: Time,
    /// When a request last reached the proxy: Timer C runs from there.
    last_request: Time,
    /// Requests the proxy sent (flow, or None for a forward) and forwarded ones.
    sent: Vec<(Option<FlowId>, Message)>,
    forwarded: Vec<Message>,
    /// 200 OKs to REGISTER the proxy sent: where GRUUs come from.
    registered: Vec<Message>,
}

const USERS: [&str; 3] = ["alice", "bob", "carol"];

fuzz_target!(|ops: Vec<Op>| {
    let mut h = Harness {
        proxy: Proxy::new(Config::rfc7118_example(b"fuzz secret, 32 bytes long......")),
        flows: Vec::new(),
        now: Time(0),
        last_request: Time(0),
        sent: Vec::new(),
        forwarded: Vec::new(),
        registered: Vec::new(),
    };
    for op in ops.into_iter().take(MAX_OPS) {
        h.apply(op);
        h.check();
    }
});

impl Harness {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Connect { kind, peer, port } => self.connect(kind, peer, port),
            Op::Bytes { flow, data } => {
                if let Some(i) = self.pick_flow(flow) {
                    self.read(i, &data);
                }
            }
            Op::Sip { flow, data } => {
                if let Some(i) = self.pick_flow(flow) {
                    self.send_payload(i, &data);
                }
            }
            Op::Template {
                flow,
                which,
                user,
                n,
            } => {
                if let Some(i) = self.pick_flow(flow) {
                    let transport = self.flows[i].flow.transport;
                    if let Some(text) = self.template(which, transport, user, n) {
                        self.send_payload(i, text.as_bytes());
                    }
                }
            }
            Op::Reply { pick, code, flow } => self.reply(pick, code, flow),
            Op::ForwardFailed { pick } => {
                if self.forwarded.is_empty() {
                    return;
                }
                let req = self.forwarded[usize::from(pick) % self.forwarded.len()].clone();
                let actions = self.proxy.forward_failed(req, self.now);
                self.perform(actions);
            }
            Op::Close { flow } => {
                if let Some(i) = self.pick_flow(flow) {
                    self.close(i);
                }
            }
            Op::Tick { advance_ms } => {
                self.now = Time(self.now.0 + u64::from(advance_ms));
                self.proxy.tick(self.now);
                if let Some(next) = self.proxy.next_deadline() {
                    assert!(
                        next > self.now,
                        "deadline {next:?} not after tick {:?}",
                        self.now
                    );
                }
                if self.now.0 >= self.last_request.0 + TIMER_C_MS {
                    assert_eq!(self.proxy.pending_count(), 0, "transactions past Timer C");
                }
                self.check_bindings_unexpired();
            }
        }
    }

    fn pick_flow(&self, idx: u8) -> Option<usize> {
        (!self.flows.is_empty()).then(|| usize::from(idx) % self.flows.len())
    }

    fn connect(&mut self, kind: Kind, peer: u8, port: u16) {
        if self.flows.len() >= MAX_FLOWS {
            return;
        }
        let transport = kind.transport();
        let local_port = match transport {
            Transport::Ws => 80,
            Transport::Wss => 443,
            Transport::Tls => 5061,
            Transport::Udp | Transport::Tcp => 5060,
        };
        let flow = Flow {
            id: FlowId(self.flows.len() as u64 + 1),
            transport,
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), local_port),
            remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, peer)), port),
        };
        // The shell's receiver for a WebSocket connection: default limits, no idle buffer.
        let rx = transport.is_websocket().then(|| {
            Receiver::new(
                Role::Server,
                Limits {
                    max_idle_buffer: 0,
                    ..Limits::default()
                },
            )
        });
        self.proxy.flow_opened(flow);
        self.flows.push(ShellFlow {
            flow,
            open: true,
            rx,
            buf: Vec::new(),
        });
    }

    fn close(&mut self, i: usize) {
        let id = self.flows[i].flow.id;
        let was_open = std::mem::replace(&mut self.flows[i].open, false);
        let removed = self.proxy.flow_closed(id);
        if !was_open {
            assert_eq!(removed, 0, "a second close of {id} removed bindings");
        }
        assert!(!self.proxy.is_alive(id));
        self.check_no_binding_on(id);
    }

    /// One SIP payload, framed the way the flow's peer sends one message.
    fn send_payload(&mut self, i: usize, payload: &[u8]) {
        if self.flows[i].flow.transport.is_websocket() {
            // RFC 6455 §5.3: a client masks with a fresh key; any key does here.
            let len = payload.len() as u32;
            let key = (len.wrapping_mul(0x9e37_79b9) | 1).to_be_bytes();
            let frame = encode_message(sip_message_kind(payload), payload, Some(key));
            self.read(i, &frame);
        } else {
            self.read(i, payload);
        }
    }

    /// Bytes read from flow `i`, handled as the shell handles them.
    fn read(&mut self, i: usize, data: &[u8]) {
        let id = self.flows[i].flow.id;
        if !self.flows[i].open {
            // The shell reads nothing from a closed flow; the proxy ignores messages on one.
            if let Ok(m) = Message::parse_datagram(data) {
                let actions = self.proxy.handle(m, id, self.now);
                assert!(actions.is_empty(), "actions for a message on closed {id}");
            }
            return;
        }
        match self.flows[i].flow.transport {
            Transport::Udp => {
                if let Ok(m) = Message::parse_datagram(data) {
                    self.handle(m, id);
                }
            }
            Transport::Tcp | Transport::Tls => self.read_stream(i, data),
            Transport::Ws | Transport::Wss => self.read_ws(i, data),
        }
    }

    fn read_stream(&mut self, i: usize, data: &[u8]) {
        let id = self.flows[i].flow.id;
        self.flows[i].buf.extend_from_slice(data);
        loop {
            let buf = &mut self.flows[i].buf;
            // RFC 3261 §7.5: CRLFs before a start line; CRLF CRLF is a keep-alive ping.
            if buf.starts_with(b"\r\n\r\n") {
                buf.drain(..4);
                continue;
            }
            if b"\r\n\r".starts_with(buf) {
                return;
            }
            if buf.starts_with(b"\r\n") {
                buf.drain(..2);
                continue;
            }
            match Message::parse_stream(buf) {
                Ok(Some((m, used))) => {
                    assert!(used > 0);
                    buf.drain(..used);
                    self.handle(m, id);
                    if !self.flows[i].open {
                        return;
                    }
                }
                Ok(None) if buf.len() > MAX_STREAM_BUFFER => return self.close(i),
                Ok(None) => return,
                Err(_) => return self.close(i),
            }
        }
    }

    fn read_ws(&mut self, i: usize, data: &[u8]) {
        let id = self.flows[i].flow.id;
        let mut payloads = Vec::new();
        let mut closing = false;
        if let Some(rx) = self.flows[i].rx.as_mut() {
            rx.feed(data);
            while let Some(event) = rx.next_event() {
                match event {
                    WsEvent::Message { payload, .. } => payloads.push(payload),
                    WsEvent::Ping(_) | WsEvent::Pong(_) => {}
                    WsEvent::Close { .. } | WsEvent::Fail { .. } => closing = true,
                }
            }
        }
        for payload in payloads {
            match classify_ws_payload(&payload) {
                WsPayload::Sip(m) => self.handle(*m, id),
                WsPayload::Reject { response, .. } => {
                    assert!(!response.is_request());
                    check_printable(&response);
                }
                WsPayload::KeepAlive | WsPayload::Drop { .. } => {}
            }
        }
        if closing && self.flows[i].open {
            self.close(i);
        }
    }

    fn handle(&mut self, m: Message, ingress: FlowId) {
        if m.is_request() {
            self.last_request = self.now;
        }
        let actions = self.proxy.handle(m, ingress, self.now);
        self.perform(actions);
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { flow, msg } => {
                    assert!(self.proxy.is_alive(flow), "Send on dead {flow}");
                    let transport = self
                        .flows
                        .iter()
                        .find(|f| f.flow.id == flow)
                        .map(|f| f.flow.transport);
                    assert!(transport.is_some(), "Send on {flow}, never opened");
                    check_printable(&msg);
                    if let Some(t) = transport
                        && msg.is_request()
                    {
                        check_our_via(&msg, t);
                        self.remember(Some(flow), msg.clone());
                    }
                    if msg.status_line().is_some_and(|s| s.code == 200)
                        && msg.cseq().is_some_and(|c| c.method == Method::Register)
                    {
                        remember(&mut self.registered, msg);
                    }
                }
                Action::Forward { target, msg } => {
                    let t = target.transport.transport();
                    assert!(!t.is_websocket(), "no-connect: forward over {t}");
                    assert!(msg.is_request(), "only requests are forwarded");
                    check_printable(&msg);
                    check_our_via(&msg, t);
                    remember(&mut self.forwarded, msg.clone());
                    self.remember(None, msg);
                }
            }
        }
    }

    fn remember(&mut self, flow: Option<FlowId>, msg: Message) {
        if self.sent.len() >= MEMORY {
            self.sent.remove(0);
        }
        self.sent.push((flow, msg));
    }

    /// A response from downstream to a request the proxy sent: on the flow it went out on,
    /// or, for a forward, over some flow of the shell (a connection it opened, a UDP peer).
    fn reply(&mut self, pick: u8, code: u16, flow: u8) {
        if self.sent.is_empty() {
            return;
        }
        let (out_flow, req) = &self.sent[usize::from(pick) % self.sent.len()];
        if req.method() == Some(&Method::Ack) {
            return;
        }
        let code = 100 + code % 600;
        let resp = response(req, code, "fuzz-callee", Vec::new());
        let at = match out_flow {
            Some(id) => self.flows.iter().position(|f| f.flow.id == *id),
            None => self.pick_flow(flow),
        };
        if let Some(i) = at {
            self.send_payload(i, &resp.to_bytes());
        }
    }

    fn template(&self, which: Template, transport: Transport, user: u8, n: u8) -> Option<String> {
        let user_name = USERS[usize::from(user) % USERS.len()];
        let caller = USERS[(usize::from(user) + 1) % USERS.len()];
        let via = transport.via_token();
        let uri_transport = transport.via_token().to_ascii_lowercase();
        let expires = [0, 60, 600, 3600][usize::from(n) % 4];
        let head = |method: &str, ruri: &str, to: &str, from_user: &str, cseq_method: &str| {
            format!(
                "{method} {ruri} SIP/2.0\r\n\
                 Via: SIP/2.0/{via} {from_user}-host.invalid;branch=z9hG4bK{method}{n}\r\n\
                 Max-Forwards: {mf}\r\n\
                 To: {to}\r\n\
                 From: <sip:{from_user}@example.com>;tag=t{from_user}{n}\r\n\
                 Call-ID: {method}-{from_user}-{call}\r\n\
                 CSeq: {n} {cseq_method}\r\n",
                mf = [70, 1, 0, 255][usize::from(n >> 2) % 4],
                call = n >> 4,
            )
        };
        let text = match which {
            Template::RegisterOutbound => format!(
                "{}Supported: path, outbound, gruu\r\n\
                 Contact: <sip:{user_name}@{user_name}-host.invalid;transport=ws;ob>;reg-id=1\
                 ;+sip.instance=\"<urn:uuid:{user_name}-{inst}>\";expires={expires}\r\n\
                 Content-Length: 0\r\n\r\n",
                head(
                    "REGISTER",
                    "sip:example.com",
                    &format!("<sip:{user_name}@example.com>"),
                    user_name,
                    "REGISTER"
                ),
                inst = n & 1,
            ),
            Template::RegisterPlain => format!(
                "{}Contact: <sip:{user_name}@192.0.2.{n}:5062;transport={uri_transport}>\r\n\
                 Expires: {expires}\r\nContent-Length: 0\r\n\r\n",
                head(
                    "REGISTER",
                    "sip:example.com",
                    &format!("<sip:{user_name}@example.com>"),
                    user_name,
                    "REGISTER"
                ),
            ),
            Template::Unregister => format!(
                "{}Contact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
                head(
                    "REGISTER",
                    "sip:example.com",
                    &format!("<sip:{user_name}@example.com>"),
                    user_name,
                    "REGISTER"
                ),
            ),
            Template::Invite | Template::Message | Template::Options | Template::Ack => {
                let method = match which {
                    Template::Invite => "INVITE",
                    Template::Message => "MESSAGE",
                    Template::Options => "OPTIONS",
                    _ => "ACK",
                };
                let ruri = if n & 0x80 != 0 {
                    "sip:proxy.example.com".to_owned()
                } else {
                    format!("sip:{user_name}@example.com")
                };
                format!(
                    "{}Contact: <sip:{caller}@{caller}-host.invalid;transport={uri_transport}>\r\n\
                     Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
                    head(
                        method,
                        &ruri,
                        &format!("<sip:{user_name}@example.com>"),
                        caller,
                        method
                    ),
                )
            }
            Template::Foreign => {
                let method = ["INVITE", "MESSAGE", "OPTIONS", "ACK"][usize::from(n >> 6)];
                let scheme = if n & 0x20 != 0 { "sips" } else { "sip" };
                let param =
                    ["udp", "tcp", "tls", "ws", "wss", "sctp", "", "UDP"][usize::from(n) % 8];
                let param = if param.is_empty() {
                    String::new()
                } else {
                    format!(";transport={param}")
                };
                let ruri = format!("{scheme}:{user_name}@203.0.113.{n}:5070{param}");
                format!(
                    "{}Contact: <sip:{caller}@{caller}-host.invalid;transport={uri_transport}>\r\n\
                     Content-Length: 0\r\n\r\n",
                    head(method, &ruri, &format!("<{ruri}>"), caller, method),
                )
            }
            Template::InDialog => {
                // The dialog's route set: the Record-Route the proxy wrote into a request it
                // sent (RFC 3261 §12.1.1 for the callee; reversed for the caller, §12.1.2).
                let with_rr: Vec<&Message> = self
                    .sent
                    .iter()
                    .map(|(_, m)| m)
                    .filter(|m| m.record_routes().next().is_some())
                    .collect();
                let req = with_rr.get(usize::from(n) % with_rr.len().max(1))?;
                let mut routes: Vec<String> =
                    req.record_routes().map(ToString::to_string).collect();
                if n & 1 != 0 {
                    routes.reverse();
                }
                let ruri = req
                    .contacts()
                    .next()
                    .map(|c| c.uri.to_string())
                    .unwrap_or_else(|| format!("sip:{user_name}@example.com"));
                format!(
                    "{}Route: {}\r\nContent-Length: 0\r\n\r\n",
                    head(
                        "BYE",
                        &ruri,
                        &format!("<sip:{user_name}@example.com>;tag=dlg"),
                        caller,
                        "BYE"
                    ),
                    routes.join(", "),
                )
            }
            Template::ToGruu => {
                let ok = self
                    .registered
                    .get(usize::from(n) % self.registered.len().max(1))?;
                let contacts: Vec<_> = ok.contacts().collect();
                let contact = contacts.get(usize::from(n >> 4) % contacts.len().max(1))?;
                let gruu = if n & 1 != 0 {
                    contact.pub_gruu()
                } else {
                    contact.temp_gruu()
                }?;
                format!(
                    "{}Contact: <sip:{caller}@{caller}-host.invalid>\r\nContent-Length: 0\r\n\r\n",
                    head("INVITE", &gruu, &format!("<{gruu}>"), caller, "INVITE"),
                )
            }
        };
        Some(text)
    }

    fn check(&self) {
        let open: Vec<FlowId> = self
            .flows
            .iter()
            .filter(|f| f.open)
            .map(|f| f.flow.id)
            .collect();
        assert_eq!(self.proxy.flow_count(), open.len(), "live flows differ");
        for id in &open {
            assert!(self.proxy.is_alive(*id));
        }
        let location = self.proxy.location();
        let mut count = 0;
        for aor in location.aors() {
            for b in location.bindings(aor) {
                count += 1;
                // 5626-7-d: no binding outlives its flow.
                assert!(
                    self.proxy.is_alive(b.flow),
                    "binding of {aor} on closed {}",
                    b.flow
                );
            }
        }
        assert_eq!(count, location.binding_count());
    }

    fn check_no_binding_on(&self, id: FlowId) {
        let location = self.proxy.location();
        for aor in location.aors() {
            assert!(
                location.bindings(aor).iter().all(|b| b.flow != id),
                "binding of {aor} still on {id} after flow_closed"
            );
        }
    }

    fn check_bindings_unexpired(&self) {
        let location = self.proxy.location();
        for aor in location.aors() {
            for b in location.bindings(aor) {
                assert!(b.expires_at > self.now, "binding of {aor} expired but kept");
            }
        }
    }
}

fn remember(list: &mut Vec<Message>, msg: Message) {
    if list.len() >= MEMORY {
        list.remove(0);
    }
    list.push(msg);
}

/// What the shell writes must parse back as the same message, and be framed right on a
/// stream (3261-16.6-a: the proxy always writes Content-Length on what it forwards).
fn check_printable(msg: &Message) {
    let bytes = msg.to_bytes();
    match Message::parse(&bytes) {
        Ok(again) => assert_eq!(
            &again, msg,
            "an emitted message changed through print/parse"
        ),
        Err(e) => panic!(
            "an emitted message does not parse: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    }
    if let Some(cl) = msg.content_length() {
        assert_eq!(
            cl as usize,
            msg.body.len(),
            "Content-Length differs from the body"
        );
    }
}

/// A request the proxy sends carries its own Via on top naming the egress transport
/// (RFC 3261 §16.6 item 8; 7118-5.1-a), and a Max-Forwards it decremented or set.
fn check_our_via(msg: &Message, egress: Transport) {
    let Some(via) = msg.top_via() else {
        panic!("a request without Via leaves the proxy");
    };
    assert_eq!(via.transport, egress.via_token(), "Via token over {egress}");
    assert!(via.branch().is_some_and(|b| b.starts_with("z9hG4bKsws")));
    assert!(msg.max_forwards().is_some_and(|m| m <= 255));
}
