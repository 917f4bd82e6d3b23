//! The reference client against the real reference server (`net::Server`), on loopback with
//! OS-chosen ports: registration over ws and wss, MESSAGE both ways (UTF-8 and not), INVITE
//! dialogs WS<->WSS and WS<->UDP with BYE from either side, a dead callee flow answered
//! with 480 without any connection attempt, and a reconnect with re-registration after an
//! abnormal close.

mod client_support;

use std::net::SocketAddr;
use std::time::Duration;

use client_support::*;
use sipws_reference::net::client::{Client, ClientEvent, CloseCause, Direction, Trust};
use sipws_reference::net::{Server, ServerConfig, ServerHandle};
use sipws_reference::sip::response::response;
use sipws_reference::sip::{Header, HeaderName, Message, Method};
use sipws_reference::ua::{CallHandle, EndCause, UaEvent};
use sipws_reference::ws::MessageKind;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};

const DOMAIN: &str = "127.0.0.1";

struct Env {
    handle: ServerHandle,
    ws: SocketAddr,
    wss: SocketAddr,
    udp: SocketAddr,
    ca: String,
}

async fn server() -> Env {
    let s = Server::bind(ServerConfig::loopback_ephemeral())
        .await
        .expect("the server binds");
    let a = s.addrs();
    let ca = s.ca_pem().expect("a generated CA").to_string();
    assert_eq!(s.domains()[0], DOMAIN);
    Env {
        ws: a.ws.expect("ws"),
        wss: a.wss.expect("wss"),
        udp: a.udp.expect("udp"),
        ca,
        handle: s.spawn(),
    }
}

impl Env {
    async fn ws_client(&self, user: &str) -> Client {
        Client::connect(options(&format!("ws://{}", self.ws), user))
            .await
            .expect("ws connects")
    }

    async fn wss_client(&self, user: &str) -> Client {
        let mut o = options(&format!("wss://{}", self.wss), user);
        o.trust = Some(Trust::CaPem(self.ca.clone()));
        Client::connect(o).await.expect("wss connects")
    }

    async fn bindings(&self) -> usize {
        timeout(WAIT, self.handle.binding_count())
            .await
            .expect("the server answers")
    }

    async fn wait_bindings(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.bindings().await != n {
            assert!(
                Instant::now() < deadline,
                "bindings stayed at {}",
                self.bindings().await
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn shutdown(self) {
        timeout(WAIT, self.handle.shutdown())
            .await
            .expect("the server stops");
    }
}

/// The SIP messages a client sent or received, with their frame type.
fn sip_traffic(c: &Client, dir: Direction) -> Vec<(Message, MessageKind, u64)> {
    c.traffic()
        .into_iter()
        .filter(|t| t.direction == dir)
        .filter_map(|t| t.sip().map(|m| (m, t.kind, t.connection)))
        .collect()
}

fn requests(c: &Client, dir: Direction, method: Method) -> Vec<(Message, MessageKind, u64)> {
    sip_traffic(c, dir)
        .into_iter()
        .filter(|(m, _, _)| m.method() == Some(&method))
        .collect()
}

async fn registered(c: &Client) {
    let reg = c.register().await.expect("registered");
    assert!(reg.registration.outbound, "5626-4.2.1-a: Require: outbound");
    assert!(reg.registration.pub_gruu.is_some(), "5627: a public GRUU");
    let resp = reg.response.expect("the 200");
    assert!(
        resp.contacts()
            .any(|k| k.instance().as_deref() == Some(c.instance()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_7118_4_2_b_ws_and_wss_users_exchange_messages_with_bodies_intact() {
    let env = server().await;
    let alice = env.wss_client("alice").await;
    let bob = env.ws_client("bob").await;
    registered(&alice).await;
    registered(&bob).await;
    assert_eq!(env.bindings().await, 2);
    // 7118-5.1-a: the Via token names the transport exactly; 5626-4.2.1-a: the F3 shape.
    for (c, token) in [(&alice, "WSS"), (&bob, "WS")] {
        let (reg, kind, _) = requests(c, Direction::Sent, Method::Register)
            .pop()
            .expect("a REGISTER");
        assert_eq!(reg.top_via().map(|v| v.transport.as_str()), Some(token));
        assert_eq!(kind, MessageKind::Text);
        assert!(reg.supports("outbound") && reg.supports("path") && reg.supports("gruu"));
        let contact = reg.contacts().next().expect("a Contact");
        assert_eq!(contact.reg_id(), Some(1));
        assert_eq!(contact.instance().as_deref(), Some(c.instance()));
    }

    // UTF-8 beyond ASCII, alice (wss) -> bob (ws).
    let text = "héllo wörld ☃ — 日本語";
    let ok = alice
        .message(
            &format!("sip:bob@{DOMAIN}"),
            "text/plain;charset=utf-8",
            text,
        )
        .await
        .expect("delivered");
    assert_eq!(ok.status, 200);
    let got = wait_ua(&bob, "MessageReceived", |e| match e {
        UaEvent::MessageReceived {
            body, content_type, ..
        } => Some((body.clone(), content_type.clone())),
        _ => None,
    })
    .await;
    assert_eq!(got.0, text.as_bytes(), "the body arrives byte for byte");
    assert_eq!(got.1.as_deref(), Some("text/plain;charset=utf-8"));
    let (_, kind, _) = requests(&bob, Direction::Received, Method::Message)
        .pop()
        .expect("bob's MESSAGE");
    assert_eq!(kind, MessageKind::Text, "UTF-8 travels as text");

    // Not UTF-8, bob (ws) -> alice (wss): a binary frame both ways (7118-4.2-b).
    let bytes = vec![0xff, 0xfe, 0x00, b'A', 0xc0, 0xaf];
    bob.message(
        &format!("sip:alice@{DOMAIN}"),
        "application/octet-stream",
        bytes.clone(),
    )
    .await
    .expect("delivered");
    let body = wait_ua(&alice, "MessageReceived", |e| match e {
        UaEvent::MessageReceived { body, .. } => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(body, bytes);
    let (_, sent_kind, _) = requests(&bob, Direction::Sent, Method::Message)
        .pop()
        .expect("bob's MESSAGE");
    assert_eq!(
        sent_kind,
        MessageKind::Binary,
        "7118-4.2-b: sent in a binary frame"
    );
    let (_, got_kind, _) = requests(&alice, Direction::Received, Method::Message)
        .pop()
        .expect("alice's MESSAGE");
    assert_eq!(
        got_kind,
        MessageKind::Binary,
        "7118-4.2-b: delivered in a binary frame"
    );

    alice.unregister().await.expect("unregistered");
    bob.unregister().await.expect("unregistered");
    assert_eq!(env.bindings().await, 0);
    alice.close().await;
    bob.close().await;
    env.shutdown().await;
}

/// Caller invites callee; the callee answers 200; both see the dialog confirmed.
async fn call(caller: &Client, callee: &Client, callee_user: &str) -> (CallHandle, CallHandle) {
    let out = caller
        .invite(
            &format!("sip:{callee_user}@{DOMAIN}"),
            Some(b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n".to_vec()),
        )
        .await
        .expect("INVITE sent");
    let incoming = wait_ua(callee, "IncomingCall", |e| match e {
        UaEvent::IncomingCall { call, body, .. } => {
            assert!(body.starts_with(b"v=0"), "the offer arrives");
            Some(*call)
        }
        _ => None,
    })
    .await;
    callee
        .answer(incoming, 200, Some(b"v=0\r\n".to_vec()))
        .await
        .expect("answered");
    wait_ua(caller, "CallAnswered", |e| match e {
        UaEvent::CallAnswered { call, status, .. } if *call == out => Some(*status),
        UaEvent::CallFailed { status, .. } => panic!("the call failed with {status}"),
        _ => None,
    })
    .await;
    wait_ua(callee, "AckReceived", |e| match e {
        UaEvent::AckReceived { call } if *call == incoming => Some(()),
        _ => None,
    })
    .await;
    (out, incoming)
}

async fn hang_up(by: &Client, call: CallHandle, other: &Client, other_call: CallHandle) {
    assert_eq!(by.bye(call).await.expect("BYE answered"), 200);
    wait_ua(other, "CallEnded", |e| match e {
        UaEvent::CallEnded { call, cause } if *call == other_call => {
            assert_eq!(*cause, EndCause::RemoteBye);
            Some(())
        }
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_3261_12_1_2_a_invite_dialogs_ws_wss_with_bye_from_either_side() {
    let env = server().await;
    let alice = env.wss_client("alice").await;
    let bob = env.ws_client("bob").await;
    registered(&alice).await;
    registered(&bob).await;

    // Caller hangs up.
    let (a, b) = call(&alice, &bob, "bob").await;
    hang_up(&alice, a, &bob, b).await;
    // The caller's in-dialog requests follow the reversed Record-Route (3261-12.1.2-a,
    // 12.2.1.1-a): the ACK and the BYE carry it as Route, to the callee's Contact.
    let invite_rr: Vec<String> = requests(&bob, Direction::Received, Method::Invite)
        .pop()
        .expect("bob's INVITE")
        .0
        .record_routes()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        invite_rr.len(),
        2,
        "5658-6.2-a: WSS->WS gets two Record-Routes"
    );
    for method in [Method::Ack, Method::Bye] {
        let (m, _, _) = requests(&alice, Direction::Sent, method.clone())
            .pop()
            .expect("sent");
        let routes: Vec<String> = m.routes().map(|r| r.to_string()).collect();
        let mut expect = invite_rr.clone();
        expect.reverse();
        assert_eq!(routes, expect, "{method}: Route = Record-Route reversed");
    }

    // Callee hangs up, the other way round (bob calls alice).
    let (b2, a2) = call(&bob, &alice, "alice").await;
    hang_up(&alice, a2, &bob, b2).await;
    alice.close().await;
    bob.close().await;
    env.wait_bindings(0).await;
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// A small UDP SIP phone
// ---------------------------------------------------------------------------------------------

struct UdpPhone {
    socket: UdpSocket,
    server: SocketAddr,
    user: String,
    cseq: u32,
}

impl UdpPhone {
    async fn new(server: SocketAddr, user: &str) -> UdpPhone {
        UdpPhone {
            socket: UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP"),
            server,
            user: user.to_string(),
            cseq: 0,
        }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().expect("addr").port()
    }

    fn contact(&self) -> String {
        format!("<sip:{}@127.0.0.1:{}>", self.user, self.port())
    }

    fn via(&mut self, what: &str) -> String {
        self.cseq += 1;
        format!(
            "SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-{what}-{}",
            self.port(),
            self.cseq
        )
    }

    async fn send_to(&self, msg: &[u8], to: SocketAddr) {
        self.socket.send_to(msg, to).await.expect("send datagram");
    }

    /// The next SIP datagram and where it came from.
    async fn recv(&self) -> (Message, SocketAddr) {
        let mut buf = vec![0u8; 65535];
        let (n, from) = timeout(WAIT, self.socket.recv_from(&mut buf))
            .await
            .expect("a datagram in time")
            .expect("recv");
        (
            Message::parse_datagram(&buf[..n]).expect("a SIP datagram"),
            from,
        )
    }

    /// The next request of `method` (responses and retransmissions of others are skipped).
    async fn recv_request(&self, method: Method) -> (Message, SocketAddr) {
        loop {
            let (m, from) = self.recv().await;
            if m.method() == Some(&method) {
                return (m, from);
            }
        }
    }

    async fn recv_status(&self, method: Method) -> Message {
        loop {
            let (m, _) = self.recv().await;
            if m.status_line().is_some() && m.cseq().map(|c| &c.method) == Some(&method) {
                return m;
            }
        }
    }

    async fn register(&mut self) {
        let via = self.via("reg");
        let msg = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
             To: <sip:{u}@{DOMAIN}>\r\nFrom: <sip:{u}@{DOMAIN}>;tag=reg-{u}\r\n\
             Call-ID: reg-{u}\r\nCSeq: {c} REGISTER\r\nContact: {contact}\r\nExpires: 600\r\n\
             Content-Length: 0\r\n\r\n",
            u = self.user,
            c = self.cseq,
            contact = self.contact()
        );
        self.send_to(msg.as_bytes(), self.server).await;
        let ok = self.recv_status(Method::Register).await;
        assert_eq!(ok.status_line().map(|s| s.code), Some(200), "{ok:?}");
    }

    /// Waits for an INVITE and answers 200 with our Contact and its Record-Route copied
    /// (RFC 3261 §12.1.1); returns the INVITE, then waits for the ACK.
    async fn answer_invite(&self) -> Message {
        let (invite, from) = self.recv_request(Method::Invite).await;
        let mut extra: Vec<Header> = invite
            .headers
            .iter()
            .filter(|h| h.name == HeaderName::RecordRoute)
            .cloned()
            .collect();
        extra.push(Header::parse("Contact", &self.contact()).expect("a Contact"));
        let ok = response(&invite, 200, "udp-tag", extra);
        self.send_to(&ok.to_bytes(), from).await;
        let (ack, _) = self.recv_request(Method::Ack).await;
        assert_eq!(ack.call_id(), invite.call_id());
        invite
    }

    /// Answers the next BYE with 200.
    async fn answer_bye(&self) -> Message {
        let (bye, from) = self.recv_request(Method::Bye).await;
        let ok = response(&bye, 200, "udp-tag", Vec::new());
        self.send_to(&ok.to_bytes(), from).await;
        bye
    }

    /// BYE in the dialog the INVITE created: Request-URI = the caller's Contact, Route =
    /// the Record-Route in order (the callee's route set, RFC 3261 §12.1.1), sent to the
    /// first Route's address (loose routing).
    async fn bye(&mut self, invite: &Message) -> Message {
        let target = invite
            .contacts()
            .next()
            .expect("the caller's Contact")
            .uri
            .to_string();
        let routes: Vec<String> = invite.record_routes().map(|r| r.to_string()).collect();
        let first = invite
            .record_routes()
            .next()
            .and_then(|r| r.sip_uri())
            .expect("a Record-Route");
        let next_hop: SocketAddr = format!(
            "{}:{}",
            first.host,
            first.port.expect("the proxy's Record-Route has a port")
        )
        .parse()
        .expect("an IP address");
        assert_eq!(
            next_hop, self.server,
            "the route leads to the proxy's UDP side"
        );
        let to = invite.from().expect("From").to_string();
        let from = format!("{};tag=udp-tag", invite.to().expect("To"));
        let via = self.via("bye");
        let route_lines: String = routes.iter().map(|r| format!("Route: {r}\r\n")).collect();
        let msg = format!(
            "BYE {target} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n{route_lines}\
             From: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {c} BYE\r\n\
             Content-Length: 0\r\n\r\n",
            cid = invite.call_id().expect("Call-ID"),
            c = self.cseq,
        );
        self.send_to(msg.as_bytes(), next_hop).await;
        self.recv_status(Method::Bye).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_7118_b_2_b_invite_dialogs_ws_udp_with_bye_from_either_side() {
    let env = server().await;
    let alice = env.ws_client("alice").await;
    registered(&alice).await;
    let mut carol = UdpPhone::new(env.udp, "carol").await;
    carol.register().await;
    assert_eq!(env.bindings().await, 2);

    // 1: alice (WS) calls carol (UDP), alice hangs up.
    let out = alice
        .invite(&format!("sip:carol@{DOMAIN}"), None)
        .await
        .expect("INVITE sent");
    let (invite, ..) = tokio::join!(carol.answer_invite(), async {
        wait_ua(&alice, "CallAnswered", |e| match e {
            UaEvent::CallAnswered { call, .. } if *call == out => Some(()),
            UaEvent::CallFailed { status, .. } => panic!("failed with {status}"),
            _ => None,
        })
        .await
    });
    assert_eq!(
        invite.record_routes().count(),
        2,
        "5658-6.2-a: WS->UDP double Record-Route"
    );
    let (bye, status) = tokio::join!(carol.answer_bye(), alice.bye(out));
    assert_eq!(status.expect("BYE answered"), 200);
    assert_eq!(
        bye.routes().count(),
        0,
        "5658-5-a: the proxy took both Route values"
    );

    // 2: again, and carol hangs up through the route set she received.
    let out = alice
        .invite(&format!("sip:carol@{DOMAIN}"), None)
        .await
        .expect("INVITE sent");
    let (invite, ..) = tokio::join!(carol.answer_invite(), async {
        wait_ua(&alice, "CallAnswered", |e| match e {
            UaEvent::CallAnswered { call, .. } if *call == out => Some(()),
            _ => None,
        })
        .await
    });
    let ok = carol.bye(&invite).await;
    assert_eq!(
        ok.status_line().map(|s| s.code),
        Some(200),
        "alice answers the BYE"
    );
    wait_ua(&alice, "CallEnded", |e| match e {
        UaEvent::CallEnded { call, cause } if *call == out => {
            assert_eq!(*cause, EndCause::RemoteBye);
            Some(())
        }
        _ => None,
    })
    .await;
    let (bye, _, _) = requests(&alice, Direction::Received, Method::Bye)
        .pop()
        .expect("alice got the BYE");
    assert_eq!(bye.top_via().map(|v| v.transport.as_str()), Some("WS"));
    alice.close().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_5626_7_d_invite_to_a_closed_ws_flow_gets_480_fast_and_nothing_is_dialled() {
    let env = server().await;
    // Bob's Contact names a listening address: the server must still never connect to it
    // (RFC 7118 §5, spec/requirements.md A9).
    let trap = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the trap");
    let trap_port = trap.local_addr().expect("addr").port();
    let bob = env.ws_client("bob").await;
    let register = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/WS {h};branch=z9hG4bK-trap\r\n\
         Max-Forwards: 70\r\nTo: <sip:bob@{DOMAIN}>\r\nFrom: <sip:bob@{DOMAIN}>;tag=t1\r\n\
         Call-ID: trap-reg\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:bob@127.0.0.1:{trap_port};transport=ws>\r\nContent-Length: 0\r\n\r\n",
        h = bob.via_host()
    );
    bob.send_raw(MessageKind::Text, register.into_bytes())
        .await
        .expect("queued");
    let deadline = Instant::now() + WAIT;
    loop {
        let ok = sip_traffic(&bob, Direction::Received)
            .iter()
            .any(|(m, _, _)| {
                m.call_id() == Some("trap-reg") && m.status_line().map(|s| s.code) == Some(200)
            });
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "no 200 for the REGISTER");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(env.bindings().await, 1);
    bob.close().await;
    env.wait_bindings(0).await;

    let alice = env.ws_client("alice").await;
    let started = Instant::now();
    let call = alice
        .invite(&format!("sip:bob@{DOMAIN}"), None)
        .await
        .expect("INVITE sent");
    let status = wait_ua(&alice, "CallFailed", |e| match e {
        UaEvent::CallFailed {
            call: c, status, ..
        } if *c == call => Some(*status),
        UaEvent::CallAnswered { .. } => panic!("a dead flow answered"),
        _ => None,
    })
    .await;
    let took = started.elapsed();
    assert_eq!(status, 480);
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    let dialled = timeout(Duration::from_millis(200), trap.accept()).await;
    assert!(
        dialled.is_err(),
        "the server connected to the dead flow's Contact"
    );
    alice.close().await;
    env.shutdown().await;
}

/// A TCP relay between the client and the server that the test controls: `cut` drops every
/// relayed connection (no Close frame: an abnormal closure for the client); while `refuse`
/// is true, new connections are accepted and dropped at once (a failed attempt).
struct Relay {
    addr: SocketAddr,
    cut: tokio::sync::watch::Sender<u64>,
    refuse: tokio::sync::watch::Sender<bool>,
}

async fn relay(to: SocketAddr) -> Relay {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = l.local_addr().expect("addr");
    let (cut, cuts) = tokio::sync::watch::channel(0u64);
    let (refuse, refusing) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = l.accept().await {
            if *refusing.borrow() {
                drop(client);
                continue;
            }
            let mut cuts = cuts.clone();
            cuts.mark_unchanged();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(to).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = cuts.changed() => {}
                }
            });
        }
    });
    Relay { addr, cut, refuse }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_7_2_3_a_reconnects_after_an_abnormal_close_and_re_registers_with_the_same_reg_id()
{
    let env = server().await;
    let relay = relay(env.ws).await;
    let mut o = options(&format!("ws://{}", relay.addr), "alice");
    // Time runs 1000 times faster: the first delay is 0-5 ms, then 30-60 ms, 60-120 ms.
    o.reconnect.scale = 0.001;
    let alice = Client::connect(o)
        .await
        .expect("connects through the relay");
    registered(&alice).await;
    assert_eq!(env.bindings().await, 1);

    // The connection dies without a Close, and the next two attempts fail.
    relay.refuse.send_replace(true);
    relay.cut.send_replace(1);
    let first = wait_for(&alice, "Closed", |e| match e {
        ClientEvent::Closed {
            connection: 1,
            cause,
            reconnect_in,
        } => {
            assert!(matches!(cause, CloseCause::Abnormal(_)), "{cause}");
            Some(reconnect_in.expect("a reconnect is planned"))
        }
        _ => None,
    })
    .await;
    assert!(
        first <= Duration::from_millis(5),
        "RFC 6455 §7.2.3 0-5 s, scaled: {first:?}"
    );
    let mut delays = Vec::new();
    for _ in 0..2 {
        delays.push(
            wait_for(&alice, "ConnectFailed", |e| match e {
                ClientEvent::ConnectFailed { reconnect_in, .. } => {
                    Some(reconnect_in.expect("still reconnecting"))
                }
                _ => None,
            })
            .await,
        );
        if delays.len() == 2 {
            relay.refuse.send_replace(false);
        }
    }
    // RFC 5626 §4.5 back-off: 30-60 s after one failure, 60-120 s after two (scaled).
    let ms = |d: &Duration| d.as_millis();
    assert!((25..=60).contains(&ms(&delays[0])), "{delays:?}");
    assert!((55..=120).contains(&ms(&delays[1])), "{delays:?}");
    wait_for(&alice, "Opened", |e| match e {
        ClientEvent::Opened { connection: 2, .. } => Some(()),
        _ => None,
    })
    .await;
    wait_ua(&alice, "Registered", |e| {
        matches!(e, UaEvent::Registered(_)).then_some(())
    })
    .await;
    env.wait_bindings(1).await;

    // 5626-4.5-a: the replacement REGISTER keeps instance and reg-id (and, 5627-4.1-b, the
    // Call-ID), with a higher CSeq, on the new connection.
    let regs = requests(&alice, Direction::Sent, Method::Register);
    let first = regs
        .iter()
        .find(|r| r.2 == 1)
        .expect("a REGISTER on connection 1");
    let again = regs
        .iter()
        .find(|r| r.2 == 2)
        .expect("a REGISTER on connection 2");
    let contact = |m: &Message| {
        let c = m.contacts().next().expect("Contact").clone();
        (c.reg_id(), c.instance())
    };
    assert_eq!(contact(&again.0), contact(&first.0));
    assert_eq!(contact(&again.0).0, Some(1));
    assert_eq!(again.0.call_id(), first.0.call_id());
    assert!(again.0.cseq().map(|c| c.seq) > first.0.cseq().map(|c| c.seq));

    alice.unregister().await.expect("unregistered");
    env.wait_bindings(0).await;
    alice.close().await;
    env.shutdown().await;
}
