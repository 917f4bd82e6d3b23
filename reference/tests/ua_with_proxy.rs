//! Two reference UAs and the reference proxy, wired together in memory: every message is
//! serialized, framed as the WebSocket would carry it (text or binary, RFC 7118 §4.2) and
//! parsed again on the other side, so the wire form is exercised end to end.
//!
//! Alice is on a WSS flow, Bob on a WS flow. Checked: registration with Outbound and GRUU
//! (5626-4.2.1-a, 5627-4.1-a), MESSAGE both ways with UTF-8 and non-UTF-8 bodies
//! (7118-4.2-b), INVITE/180/200/ACK/BYE with the double Record-Route steering in-dialog
//! requests to the right flow (3261-12.1.2-a, 5658-5-a, 5626-5.3.2-a), CANCEL, a dead callee
//! flow answered with 480 and no connection attempt (5626-7-d, 3261-16.5-a), flow recovery
//! with the same reg-id (5626-4.5-a), and un-registration leaving no binding.

use std::collections::VecDeque;
use std::net::SocketAddr;

use sipws_reference::proxy::{Action, Config, Expiry, Listener, Proxy, Time};
use sipws_reference::sip::{HeaderName, Host, Message, Method, NameAddr};
use sipws_reference::transport::{Flow, FlowId, Transport, WssParamStyle};
use sipws_reference::ua::{
    CallHandle, CallState, EndCause, FlowFailure, SplitMix64, Ua, UaConfig, UaEvent, WsTransport,
    instance_urn, wire,
};
use sipws_reference::ws::MessageKind;

const ALICE: usize = 0;
const BOB: usize = 1;
/// Every exchange settles well within this many hops; more means a loop.
const MAX_HOPS: usize = 200;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test addresses are valid")
}

fn proxy_config() -> Config {
    let l = |transport, port| Listener {
        transport,
        host: Host::Domain("proxy.example.com".into()),
        port,
    };
    Config {
        domains: vec!["example.com".into()],
        listeners: vec![l(Transport::Ws, 80), l(Transport::Wss, 443)],
        wss_param_style: WssParamStyle::Rfc7118,
        expires: Expiry::default(),
        secret: b"ua_with_proxy test secret 32 byt".to_vec(),
        outbound: true,
        bindings: Default::default(),
        gruu: true,
        auth: None,
    }
}

/// One UA and what it saw.
struct Peer {
    ua: Ua,
    transport: Transport,
    flow: Option<FlowId>,
    events: Vec<UaEvent>,
    /// Messages the UA sent, as the proxy parsed them, with their frame type.
    sent: Vec<(Message, MessageKind)>,
    /// Messages the proxy delivered to this UA, with their frame type.
    received: Vec<(Message, MessageKind)>,
}

enum Hop {
    ToProxy {
        from: usize,
        bytes: Vec<u8>,
        kind: MessageKind,
    },
    ToUa {
        to: usize,
        bytes: Vec<u8>,
        kind: MessageKind,
    },
}

struct Net {
    proxy: Proxy,
    peers: Vec<Peer>,
    now: u64,
    next_flow: u64,
}

fn ua(aor: &str, registrar: &str, t: WsTransport, seed: u64) -> Ua {
    // The instance URN is made once from randomness and would be persisted (7118-B.1-b).
    let mut random = SplitMix64::new(seed ^ 0xfeed).into_source();
    let mut config =
        UaConfig::new(aor, registrar, t, instance_urn(&mut random)).expect("valid config");
    if t == WsTransport::Wss {
        // RFC 7118 §8.2 F1's pre-loaded outbound-proxy Route.
        config = config
            .with_outbound_proxy("sip:proxy.example.com:443;transport=ws;lr")
            .expect("valid URI");
    }
    Ua::new(config, SplitMix64::new(seed).into_source()).expect("valid config")
}

impl Net {
    fn new() -> Net {
        let peer = |ua, transport| Peer {
            ua,
            transport,
            flow: None,
            events: Vec::new(),
            sent: Vec::new(),
            received: Vec::new(),
        };
        let mut net = Net {
            proxy: Proxy::new(proxy_config()),
            peers: vec![
                peer(
                    ua(
                        "sip:alice@example.com",
                        "sip:proxy.example.com",
                        WsTransport::Wss,
                        1,
                    ),
                    Transport::Wss,
                ),
                peer(
                    ua("sip:bob@example.com", "sip:example.com", WsTransport::Ws, 2),
                    Transport::Ws,
                ),
            ],
            now: 1_000,
            next_flow: 1,
        };
        net.connect(ALICE);
        net.connect(BOB);
        net
    }

    fn connect(&mut self, who: usize) -> FlowId {
        let id = FlowId(self.next_flow);
        self.next_flow += 1;
        let transport = self.peers[who].transport;
        let local = if transport == Transport::Wss {
            "192.0.2.10:443"
        } else {
            "192.0.2.10:80"
        };
        self.proxy.flow_opened(Flow {
            id,
            transport,
            local: addr(local),
            remote: addr(&format!("198.51.100.{}:{}", who + 1, 50_000 + id.0)),
        });
        self.peers[who].flow = Some(id);
        self.peers[who].ua.connected(self.now);
        id
    }

    /// The WebSocket closes: the proxy drops the flow's bindings, the UA learns of it.
    fn close(&mut self, who: usize) -> Vec<UaEvent> {
        let flow = self.peers[who].flow.take().expect("connected");
        self.proxy.flow_closed(flow);
        self.peers[who].ua.disconnected(self.now)
    }

    fn owner(&self, flow: FlowId) -> Option<usize> {
        self.peers.iter().position(|p| p.flow == Some(flow))
    }

    /// Send what a UA produced and run the exchange until nothing is in flight.
    fn send(&mut self, from: usize, msg: Message) {
        let (bytes, kind) = wire(&msg);
        let mut queue = VecDeque::from([Hop::ToProxy { from, bytes, kind }]);
        let mut hops = 0;
        while let Some(hop) = queue.pop_front() {
            hops += 1;
            assert!(hops < MAX_HOPS, "the exchange does not settle");
            match hop {
                Hop::ToProxy { from, bytes, kind } => {
                    let msg = Message::parse(&bytes).expect("what a UA sends parses");
                    // spec/requirements.md A6: Content-Length always present and right.
                    assert_eq!(
                        msg.content_length().map(|n| n as usize),
                        Some(msg.body.len())
                    );
                    if msg.is_request() {
                        // 7118-5.1-a: the UA's own Via names its transport exactly.
                        let token = msg.top_via().map(|v| v.transport.clone());
                        assert_eq!(
                            token.as_deref(),
                            Some(self.peers[from].transport.via_token())
                        );
                    }
                    self.peers[from].sent.push((msg.clone(), kind));
                    let Some(flow) = self.peers[from].flow else {
                        continue;
                    };
                    for action in self.proxy.handle(msg, flow, Time(self.now)) {
                        match action {
                            Action::Send { flow, msg } => {
                                let to = self.owner(flow).expect("the proxy sends on live flows");
                                let (bytes, kind) = wire(&msg);
                                queue.push_back(Hop::ToUa { to, bytes, kind });
                            }
                            Action::Forward { target, .. } => {
                                panic!("no-connect: nothing may be dialled, got {target:?}")
                            }
                        }
                    }
                }
                Hop::ToUa { to, bytes, kind } => {
                    let parsed = Message::parse(&bytes).expect("what the proxy sends parses");
                    self.peers[to].received.push((parsed, kind));
                    for event in self.peers[to].ua.receive_payload(&bytes, kind, self.now) {
                        if let UaEvent::Send(m) = &event {
                            let (bytes, kind) = wire(m);
                            queue.push_back(Hop::ToProxy {
                                from: to,
                                bytes,
                                kind,
                            });
                        }
                        self.peers[to].events.push(event);
                    }
                }
            }
        }
    }

    /// Events since the last call, without the `Send`s the harness already carried.
    fn events(&mut self, who: usize) -> Vec<UaEvent> {
        std::mem::take(&mut self.peers[who].events)
            .into_iter()
            .filter(|e| !matches!(e, UaEvent::Send(_)))
            .collect()
    }

    fn ua(&mut self, who: usize) -> &mut Ua {
        &mut self.peers[who].ua
    }

    fn register(&mut self, who: usize) {
        let now = self.now;
        let req = self.ua(who).register(now);
        self.send(who, req);
    }

    /// The last request of `method` delivered to `who`, with its frame type.
    fn delivered(&self, who: usize, method: Method) -> (&Message, MessageKind) {
        self.peers[who]
            .received
            .iter()
            .rev()
            .find(|(m, _)| m.method() == Some(&method))
            .map(|(m, k)| (m, *k))
            .unwrap_or_else(|| panic!("no {method} delivered to peer {who}"))
    }

    /// The last request of `method` `who` sent, with its frame type.
    fn sent(&self, who: usize, method: Method) -> (&Message, MessageKind) {
        self.peers[who]
            .sent
            .iter()
            .rev()
            .find(|(m, _)| m.method() == Some(&method))
            .map(|(m, k)| (m, *k))
            .unwrap_or_else(|| panic!("peer {who} sent no {method}"))
    }

    /// How many requests of `method` were delivered to `who`.
    fn delivered_count(&self, who: usize, method: Method) -> usize {
        self.peers[who]
            .received
            .iter()
            .filter(|(m, _)| m.method() == Some(&method))
            .count()
    }
}

fn registered() -> Net {
    let mut net = Net::new();
    net.register(ALICE);
    net.register(BOB);
    for who in [ALICE, BOB] {
        let ev = net.events(who);
        let [UaEvent::Registered(reg)] = &ev[..] else {
            panic!("peer {who}: {ev:?}")
        };
        assert!(reg.outbound, "5626-4.2.1-a: Require: outbound");
        assert!(reg.pub_gruu.is_some() && reg.temp_gruu.is_some());
    }
    net
}

fn strings(list: impl Iterator<Item = impl ToString>) -> Vec<String> {
    list.map(|x| x.to_string()).collect()
}

#[test]
fn req_5626_4_2_1_a_both_register_with_outbound_and_gruu() {
    let net = registered();
    assert_eq!(net.proxy.location().binding_count(), 2);
    for (who, aor, flow) in [
        (ALICE, "sip:alice@example.com", FlowId(1)),
        (BOB, "sip:bob@example.com", FlowId(2)),
    ] {
        let b = &net.proxy.location().bindings(aor)[0];
        assert_eq!((b.flow, b.outbound), (flow, true));
        let reg = net.peers[who].ua.registration().expect("registered");
        let instance = &net.peers[who].ua.config().instance;
        // 5627-4.2-a: the public GRUU is the registrar's, kept verbatim.
        assert_eq!(
            reg.pub_gruu.as_deref(),
            Some(format!("{aor};gr={instance}").as_str())
        );
        assert_eq!(b.instance(), Some(instance.as_str()));
    }
}

#[test]
fn req_7118_4_2_b_message_both_ways_arrives_intact() {
    let mut net = registered();
    let now = net.now;
    let text = "Grüße, 世界 ✓ 🎉".as_bytes().to_vec();
    let m = net
        .ua(ALICE)
        .message(
            "sip:bob@example.com",
            "text/plain;charset=utf-8",
            text.clone(),
            now,
        )
        .expect("valid");
    net.send(ALICE, m);
    let ev = net.events(BOB);
    let [
        UaEvent::MessageReceived {
            body,
            content_type,
            from,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(body, &text);
    assert_eq!(content_type.as_deref(), Some("text/plain;charset=utf-8"));
    assert_eq!(
        from.sip_uri().map(ToString::to_string).as_deref(),
        Some("sip:alice@example.com")
    );
    assert!(matches!(
        &net.events(ALICE)[..],
        [UaEvent::RequestCompleted {
            method: Method::Message,
            status: 200,
            ..
        }]
    ));
    assert_eq!(net.delivered(BOB, Method::Message).1, MessageKind::Text);

    // Bytes that are not UTF-8 travel in binary frames on both hops and arrive unchanged.
    let binary = vec![0xff, 0xfe, 0x00, 0x80, b'\r', b'\n', 0xc3, 0x28];
    let m = net
        .ua(BOB)
        .message(
            "sip:alice@example.com",
            "application/octet-stream",
            binary.clone(),
            now,
        )
        .expect("valid");
    net.send(BOB, m);
    let ev = net.events(ALICE);
    let [UaEvent::MessageReceived { body, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(body, &binary);
    assert!(matches!(
        &net.events(BOB)[..],
        [UaEvent::RequestCompleted { status: 200, .. }]
    ));
    assert_eq!(
        net.sent(BOB, Method::Message).1,
        MessageKind::Binary,
        "Bob -> proxy"
    );
    assert_eq!(
        net.delivered(ALICE, Method::Message).1,
        MessageKind::Binary,
        "proxy -> Alice"
    );
}

/// Alice calls Bob; Bob rings and answers; Alice ACKs. Returns both handles.
fn call_established(net: &mut Net) -> (CallHandle, CallHandle) {
    let now = net.now;
    let (alice_call, invite) = net
        .ua(ALICE)
        .invite(
            "sip:bob@example.com",
            Some(b"v=0\r\no=alice\r\n".to_vec()),
            now,
        )
        .expect("valid");
    // RFC 7118 §8.2 F1: the GRUU with `ob` as Contact.
    let gruu = net.peers[ALICE]
        .ua
        .registration()
        .and_then(|r| r.pub_gruu.clone());
    assert_eq!(
        invite.contacts().next().map(ToString::to_string),
        gruu.map(|g| format!("<{g};ob>"))
    );
    net.send(ALICE, invite);
    let ev = net.events(BOB);
    let [
        UaEvent::IncomingCall {
            call: bob_call,
            body,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    let bob_call = *bob_call;
    assert_eq!(body, b"v=0\r\no=alice\r\n");
    // The INVITE Bob got carries the proxy's two Record-Route values (RFC 5658: WSS in,
    // WS out).
    let rr = strings(net.delivered(BOB, Method::Invite).0.record_routes());
    assert_eq!(rr.len(), 2, "{rr:?}");
    let ringing = net
        .ua(BOB)
        .answer(bob_call, 180, None, now)
        .expect("incoming");
    net.send(BOB, ringing);
    let ok = net
        .ua(BOB)
        .answer(bob_call, 200, Some(b"v=0\r\no=bob\r\n".to_vec()), now)
        .expect("incoming");
    net.send(BOB, ok);
    let ev = net.events(ALICE);
    assert!(
        matches!(
            &ev[..],
            [
                UaEvent::CallProgress { status: 100, .. },
                UaEvent::CallProgress { status: 180, .. },
                UaEvent::CallAnswered { status: 200, body, .. },
            ] if body == b"v=0\r\no=bob\r\n"
        ),
        "{ev:?}"
    );
    let ack = net.ua(ALICE).ack(alice_call).expect("answered");
    // 3261-12.1.2-a: Alice's route set is the Record-Route reversed; the R-URI is Bob's
    // Contact, his GRUU with `ob` (3261-12.2.1.1-a).
    let mut reversed = rr.clone();
    reversed.reverse();
    assert_eq!(strings(ack.routes()), reversed);
    let bob_gruu = net.peers[BOB]
        .ua
        .registration()
        .and_then(|r| r.pub_gruu.clone());
    assert_eq!(
        ack.request_line().map(|r| r.uri.to_string()),
        bob_gruu.map(|g| format!("{g};ob"))
    );
    net.send(ALICE, ack);
    assert_eq!(net.events(BOB), [UaEvent::AckReceived { call: bob_call }]);
    // The proxy consumed both of its Route values (5658-5-a) and chose Bob's flow by the
    // token in them.
    assert_eq!(net.delivered(BOB, Method::Ack).0.routes().count(), 0);
    assert_eq!(
        net.ua(ALICE).call_state(alice_call),
        Some(CallState::Confirmed)
    );
    assert_eq!(net.ua(BOB).call_state(bob_call), Some(CallState::Confirmed));
    (alice_call, bob_call)
}

#[test]
fn req_3261_12_1_2_a_call_ended_by_the_caller() {
    let mut net = registered();
    let (alice_call, bob_call) = call_established(&mut net);
    let now = net.now;
    let bye = net.ua(ALICE).bye(alice_call, now).expect("confirmed");
    assert_eq!(strings(bye.routes()).len(), 2);
    net.send(ALICE, bye);
    assert_eq!(
        net.events(BOB),
        [UaEvent::CallEnded {
            call: bob_call,
            cause: EndCause::RemoteBye
        }]
    );
    assert_eq!(
        net.events(ALICE),
        [UaEvent::CallEnded {
            call: alice_call,
            cause: EndCause::LocalBye { status: 200 }
        }]
    );
    assert_eq!(net.delivered_count(BOB, Method::Bye), 1);
    assert_eq!(net.delivered_count(ALICE, Method::Bye), 0);
}

#[test]
fn req_5626_5_3_2_a_call_ended_by_the_callee_reaches_the_caller_flow() {
    let mut net = registered();
    let (alice_call, bob_call) = call_established(&mut net);
    let now = net.now;
    let bye = net.ua(BOB).bye(bob_call, now).expect("confirmed");
    // The callee's route set is the Record-Route in order (3261-12.1.2-a); its first entry
    // faces Bob's WS side, the second carries Alice's flow token.
    let rr = strings(net.delivered(BOB, Method::Invite).0.record_routes());
    assert_eq!(strings(bye.routes()), rr);
    let alice_gruu = net.peers[ALICE]
        .ua
        .registration()
        .and_then(|r| r.pub_gruu.clone());
    assert_eq!(
        bye.request_line().map(|r| r.uri.to_string()),
        alice_gruu.map(|g| format!("{g};ob")),
        "RFC 7118 §8.2 F8: the R-URI is Alice's GRUU with ob"
    );
    net.send(BOB, bye);
    let (f9, _) = net.delivered(ALICE, Method::Bye);
    assert_eq!(
        f9.routes().count(),
        0,
        "5658-5-a: both proxy Route values consumed"
    );
    assert_eq!(
        f9.top_via().map(|v| v.transport.as_str()),
        Some("WSS"),
        "7118-5.1-a: the proxy's Via on Alice's WSS hop"
    );
    assert_eq!(
        net.events(ALICE),
        [UaEvent::CallEnded {
            call: alice_call,
            cause: EndCause::RemoteBye
        }]
    );
    assert_eq!(
        net.events(BOB),
        [UaEvent::CallEnded {
            call: bob_call,
            cause: EndCause::LocalBye { status: 200 }
        }]
    );
}

#[test]
fn req_3261_9_1_cancel_through_the_proxy() {
    let mut net = registered();
    let now = net.now;
    let (alice_call, invite) = net
        .ua(ALICE)
        .invite("sip:bob@example.com", None, now)
        .expect("valid");
    net.send(ALICE, invite);
    let ev = net.events(BOB);
    let [UaEvent::IncomingCall { call: bob_call, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    let bob_call = *bob_call;
    let ringing = net
        .ua(BOB)
        .answer(bob_call, 180, None, now)
        .expect("incoming");
    net.send(BOB, ringing);
    net.events(ALICE);
    let cancel = net.ua(ALICE).cancel(alice_call, now).expect("proceeding");
    net.send(ALICE, cancel);
    assert_eq!(net.events(BOB), [UaEvent::CallCancelled { call: bob_call }]);
    let ev = net.events(ALICE);
    assert!(
        matches!(&ev[..], [UaEvent::CallFailed { call, status: 487, .. }] if *call == alice_call),
        "{ev:?}"
    );
    // Alice ACKed the 487 (RFC 3261 §17.1.1.3); Bob absorbed it without complaint.
    assert_eq!(net.delivered_count(BOB, Method::Ack), 1);
    assert_eq!(net.events(BOB), []);
    assert_eq!(net.ua(ALICE).pending_transactions(), 0);
    assert_eq!(net.ua(BOB).call_state(bob_call), None);
}

#[test]
fn req_5626_7_d_dead_callee_flow_gets_480_then_recovery_and_unregistration() {
    let mut net = registered();
    // Bob's keep-alive is answered once, which makes his flow successful (RFC 5626 §4.5).
    net.now += 120_001;
    let now = net.now;
    let ping = net.ua(BOB).keepalive_due(now).expect("a ping is due");
    assert_eq!(ping, b"\r\n\r\n");
    // The edge answers a `\r\n\r\n` message with `\r\n` (5626-5.4-a).
    assert_eq!(
        net.ua(BOB).receive_payload(b"\r\n", MessageKind::Text, now),
        []
    );

    let ev = net.close(BOB);
    assert_eq!(
        ev,
        [UaEvent::FlowFailed {
            cause: FlowFailure::Closed,
            reconnect_after_ms: Some(0)
        }]
    );
    assert_eq!(
        net.proxy.location().binding_count(),
        1,
        "5626-7-d: Bob's binding is gone"
    );

    let (call, invite) = net
        .ua(ALICE)
        .invite("sip:bob@example.com", None, now)
        .expect("valid");
    net.send(ALICE, invite);
    let ev = net.events(ALICE);
    assert!(
        matches!(&ev[..], [UaEvent::CallFailed { call: c, status: 480, treated_as: 480, .. }] if *c == call),
        "3261-16.5-a: {ev:?}"
    );
    // The ACK for the 480 went to the proxy and no further.
    assert_eq!(
        net.sent(ALICE, Method::Ack).0.cseq().map(|c| c.seq),
        Some(1)
    );
    assert!(
        net.peers[BOB]
            .received
            .iter()
            .all(|(m, _)| m.method() != Some(&Method::Invite))
    );

    // Bob reconnects on a new flow and registers again with the same reg-id (5626-4.5-a).
    let flow = net.connect(BOB);
    net.register(BOB);
    assert!(matches!(&net.events(BOB)[..], [UaEvent::Registered(_)]));
    let b = &net.proxy.location().bindings("sip:bob@example.com")[0];
    assert_eq!(b.flow, flow);
    assert_eq!(b.contact.reg_id(), Some(1));
    let registers: Vec<&Message> = net.peers[BOB]
        .sent
        .iter()
        .map(|(m, _)| m)
        .filter(|m| m.method() == Some(&Method::Register))
        .collect();
    assert_eq!(registers.len(), 2);
    assert_eq!(registers[0].call_id(), registers[1].call_id());
    assert_eq!(
        registers[0].contacts().next().and_then(NameAddr::instance),
        registers[1].contacts().next().and_then(NameAddr::instance)
    );

    // Alice's next call reaches Bob on the new flow.
    let (_, invite) = net
        .ua(ALICE)
        .invite("sip:bob@example.com", None, now)
        .expect("valid");
    net.send(ALICE, invite);
    assert!(matches!(
        &net.events(BOB)[..],
        [UaEvent::IncomingCall { .. }]
    ));

    // Un-registration: Alice removes her binding, Bob all of his (`Contact: *`).
    let unreg = net.ua(ALICE).unregister(now).expect("registered");
    net.send(ALICE, unreg);
    let all = net.ua(BOB).unregister_all(now);
    assert!(!all.to_bytes().windows(6).any(|w| w == b"reg-id"));
    net.send(BOB, all);
    assert_eq!(net.events(ALICE).last(), Some(&UaEvent::Unregistered));
    assert_eq!(net.events(BOB).last(), Some(&UaEvent::Unregistered));
    assert_eq!(net.proxy.location().binding_count(), 0);
    assert!(net.peers[ALICE].ua.registration().is_none());
    // Every REGISTER went out with `Supported: path, outbound, gruu`.
    for who in [ALICE, BOB] {
        for (m, _) in &net.peers[who].sent {
            if m.method() == Some(&Method::Register) {
                let tags: Vec<&str> = m.tokens(&HeaderName::Supported).collect();
                assert_eq!(tags, ["path", "outbound", "gruu"]);
            }
        }
    }
}
