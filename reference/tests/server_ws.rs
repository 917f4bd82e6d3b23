//! The reference server over real WebSocket connections on loopback: the opening handshake,
//! framing rules, keep-alives, the registrar's answers and the A10 payload policy.

mod server_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use server_support::*;
use sipws_reference::net::payload::ONE_MESSAGE_REASON;
use sipws_reference::sip::HeaderName;
use sipws_reference::ws::OpCode;
use sipws_reference::ws::codec::Event;

#[test]
fn req_7118_4_1_b_handshake_offering_sip_is_accepted() {
    let server = TestServer::start();
    // WsClient::connect asserts the 101 and `Sec-WebSocket-Protocol: sip`.
    let client = WsClient::connect(server.ws());
    client.close();
    server.shutdown();
}

#[test]
fn req_7118_4_1_c_handshake_without_sip_is_refused_with_400() {
    let server = TestServer::start();
    for offer in [None, Some("foo"), Some("SIP")] {
        let mut s = tcp_connect(server.ws());
        s.write_all(upgrade_request(offer).as_bytes())
            .expect("send upgrade");
        let head = read_http_head(&mut s);
        assert!(
            head.starts_with("HTTP/1.1 400 "),
            "offer {offer:?} got: {head}"
        );
        assert!(!head.to_ascii_lowercase().contains("sec-websocket-protocol"));
        // The refusal closes the connection.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    server.shutdown();
}

#[test]
fn handshake_refusals_follow_the_configured_policy() {
    let server = TestServer::with(|c| {
        c.websocket.paths = vec!["/sip".into()];
        c.websocket.origins = vec!["https://app.example".into()];
    });
    let ask = |path: &str, origin: Option<&str>| {
        let mut s = tcp_connect(server.ws());
        let mut req = upgrade_request(Some("sip")).replacen("GET / ", &format!("GET {path} "), 1);
        if let Some(o) = origin {
            req = req.replacen("\r\n\r\n", &format!("\r\nOrigin: {o}\r\n\r\n"), 1);
        }
        s.write_all(req.as_bytes()).expect("send");
        read_http_head(&mut s)
    };
    assert!(
        ask("/other", None).starts_with("HTTP/1.1 404 "),
        "6455-4.2.2-c"
    );
    assert!(
        ask("/sip", Some("https://evil.example")).starts_with("HTTP/1.1 403 "),
        "6455-4.2.2-b"
    );
    assert!(ask("/sip", Some("https://app.example")).starts_with("HTTP/1.1 101 "));
    assert!(
        ask("/sip", None).starts_with("HTTP/1.1 101 "),
        "no Origin: not a browser"
    );
    server.shutdown();
}

#[test]
fn req_5626_6_c_outbound_register_over_ws_gets_200_with_expires_and_require_outbound() {
    let server = TestServer::start();
    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&outbound_register("alice", &server.domain, "WS"));
    let ok = alice.expect_status(200);
    let contact = ok.contacts().next().expect("the 200 lists the binding");
    assert!(
        contact.expires().is_some_and(|e| e > 0),
        "Contact: {contact}"
    );
    assert!(
        ok.tokens(&HeaderName::Require)
            .any(|t| t.eq_ignore_ascii_case("outbound")),
        "Require: outbound in {:?}",
        String::from_utf8_lossy(&ok.to_bytes())
    );
    assert_eq!(server.binding_count(), 1);
    alice.close();
    // 5626-7-d: the binding goes with its flow.
    server.wait_bindings(0);
    server.shutdown();
}

#[test]
fn req_7118_4_2_a_register_in_text_and_in_binary_frames_both_get_200() {
    let server = TestServer::start();
    let mut c = WsClient::connect(server.ws());
    let reg = ws_register("carol", &server.domain);
    c.send_text(&reg);
    let text_answer = c.expect_status(200);
    // The same REGISTER, as a refresh (RFC 3261 §10.3 step 7 refuses a repeated CSeq).
    let refresh = reg.replace("CSeq: 1 REGISTER", "CSeq: 2 REGISTER");
    c.send_binary(refresh.as_bytes());
    let binary_answer = c.expect_status(200);
    assert_eq!(text_answer.call_id(), binary_answer.call_id());
    assert_eq!(server.binding_count(), 1, "the same binding, refreshed");
    c.close();
    server.shutdown();
}

#[test]
fn req_5626_5_4_a_crlf_keepalive_gets_a_single_crlf() {
    let server = TestServer::start();
    let mut c = WsClient::connect(server.ws());
    c.send_text("\r\n\r\n");
    match c.recv().expect("a pong") {
        tungstenite::Message::Text(t) => assert_eq!(t.as_str(), "\r\n"),
        other => panic!("expected a \\r\\n text message, got {other:?}"),
    }
    // The connection is still usable.
    c.send_text(&ws_register("dave", &server.domain));
    c.expect_status(200);
    c.close();
    server.shutdown();
}

#[test]
fn req_6455_5_5_3_a_ping_gets_pong_with_the_same_payload() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Ping, b"ka-123");
    assert_eq!(raw.next(), Seen::Event(Event::Pong(b"ka-123".to_vec())));
    raw.send(OpCode::Ping, b"");
    assert_eq!(raw.next(), Seen::Event(Event::Pong(Vec::new())));
    server.shutdown();
}

#[test]
fn req_6455_5_6_a_invalid_utf8_text_gets_close_1007_then_tcp_close() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Text, b"REGISTER \xFF\xFE");
    raw.expect_close_then_eof(1007);
    server.shutdown();
}

#[test]
fn req_6455_5_1_b_unmasked_client_frame_gets_close_1002() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send_frame(true, OpCode::Text, None, b"hello");
    raw.expect_close_then_eof(1002);
    server.shutdown();
}

#[test]
fn req_6455_10_4_a_oversized_message_gets_close_1009() {
    let server = TestServer::with(|c| c.websocket.max_message = 1024);
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Binary, &vec![b'x'; 1025]);
    raw.expect_close_then_eof(1009);
    // At the limit it is fine: the connection of another client stays open after a
    // 1024-byte message (which is not SIP and so is dropped, A10).
    let mut ok = RawWs::connect(server.ws());
    ok.send(OpCode::Binary, &vec![b'x'; 1024]);
    ok.send(OpCode::Ping, b"still-open");
    assert_eq!(ok.next(), Seen::Event(Event::Pong(b"still-open".to_vec())));
    server.shutdown();
}

#[test]
fn req_6455_10_4_a_default_limit_is_64_kib() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Binary, &vec![b'x'; 64 * 1024 + 1]);
    raw.expect_close_then_eof(1009);
    server.shutdown();
}

#[test]
fn req_6455_5_5_1_b_close_is_echoed_with_its_code_then_tcp_closes() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Close, &[0x0F, 0xA0, b'b', b'y', b'e']); // 4000 "bye"
    raw.expect_close_then_eof(4000);
    server.shutdown();
}

#[test]
fn a_handshake_that_never_completes_is_dropped_after_the_configured_timeout() {
    let server = TestServer::with(|c| c.websocket.handshake_timeout_ms = 300);
    let mut s = tcp_connect(server.ws());
    // Half a request head, then silence.
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("send");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).map_or(0, |n| n);
    assert_eq!(n, 0, "the server closes without an answer");
    let waited = started.elapsed();
    // Bounded both ways: not before the timeout, and well before the read timeout (5 s).
    assert!(
        waited >= Duration::from_millis(250),
        "dropped after {waited:?}"
    );
    assert!(waited < Duration::from_secs(4), "dropped after {waited:?}");
    // A silent connection (not one byte) is dropped too.
    let mut silent = tcp_connect(server.ws());
    let n = silent.read(&mut buf).map_or(0, |n| n);
    assert_eq!(n, 0);
    server.shutdown();
}

#[test]
fn req_7118_5_c_two_sip_messages_in_one_ws_message_get_400_and_the_connection_stays_open() {
    let server = TestServer::start();
    let mut c = WsClient::connect(server.ws());
    let one = ws_register("erin", &server.domain);
    c.send_text(&format!("{one}{one}"));
    let bad = c.expect_status(400);
    assert_eq!(
        bad.status_line().map(|s| s.reason.as_str()),
        Some(ONE_MESSAGE_REASON)
    );
    // Nothing was registered from that payload.
    assert_eq!(server.binding_count(), 0);
    // A payload that is no SIP at all is dropped without an answer; the connection stays
    // open and the next message is served.
    c.send_text("hello, not SIP");
    c.send_text(&one);
    c.expect_status(200);
    assert_eq!(server.binding_count(), 1);
    c.close();
    server.shutdown();
}

#[test]
fn req_6455_5_1_c_server_frames_are_unmasked_and_sip_answers_are_text() {
    let server = TestServer::start();
    let mut raw = RawWs::connect(server.ws());
    raw.send(OpCode::Text, ws_register("fay", &server.domain).as_bytes());
    // RawWs reads as a client: a masked server frame would fail with 6455-5.1-d.
    match raw.next() {
        Seen::Event(Event::Message { kind, payload }) => {
            assert_eq!(kind, sipws_reference::ws::MessageKind::Text);
            assert!(payload.starts_with(b"SIP/2.0 200 "));
        }
        other => panic!("expected the 200, got {other:?}"),
    }
    server.shutdown();
}

#[test]
fn connections_beyond_the_limit_are_closed_at_accept() {
    let server = TestServer::with(|c| c.limits.max_connections = 2);
    let a = WsClient::connect(server.ws());
    let b = WsClient::connect(server.ws());
    let mut third = tcp_connect(server.ws());
    let _ = third.write_all(upgrade_request(Some("sip")).as_bytes());
    let mut buf = [0u8; 64];
    assert_eq!(
        third.read(&mut buf).map_or(0, |n| n),
        0,
        "closed unanswered"
    );
    // A closed connection frees its place (bounded wait for its task to end).
    a.close();
    let deadline = Instant::now() + WAIT;
    loop {
        let mut s = tcp_connect(server.ws());
        s.write_all(upgrade_request(Some("sip")).as_bytes())
            .expect("send");
        let mut first = [0u8; 12];
        if s.read_exact(&mut first).is_ok() {
            assert_eq!(&first, b"HTTP/1.1 101");
            break;
        }
        assert!(Instant::now() < deadline, "the place was never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
    b.close();
    server.shutdown();
}

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() as usize) % (max + 1);
        let prefixes: [&[u8]; 4] = [
            b"",
            b"INVITE sip:a@b SIP/2.0\r\n",
            b"SIP/2.0 200 OK\r\n",
            b"\r\n\r\n",
        ];
        let mut v = prefixes[(self.next() % 4) as usize].to_vec();
        v.extend((0..len).map(|_| self.next() as u8));
        v
    }
}

#[test]
fn garbage_on_every_listener_never_stops_the_server() {
    let server = TestServer::with(|c| c.websocket.handshake_timeout_ms = 300);
    let mut noise = Noise(0x5eed_1234_abcd_0001);
    // UDP: bounded count of random datagrams.
    let udp = UdpClient::new(server.addrs.udp.expect("udp"));
    for _ in 0..300 {
        udp.send(&noise.bytes(1500));
    }
    // TCP SIP and raw bytes on the WS port (before the handshake).
    for addr in [server.addrs.tcp.expect("tcp"), server.ws()] {
        for _ in 0..30 {
            let mut s = tcp_connect(addr);
            let _ = s.write_all(&noise.bytes(4000));
        }
    }
    // After a good handshake: random frames, masked and not.
    for _ in 0..30 {
        let mut raw = RawWs::connect(server.ws());
        for _ in 0..5 {
            let payload = noise.bytes(300);
            let op = [
                OpCode::Text,
                OpCode::Binary,
                OpCode::Ping,
                OpCode::Continuation,
            ][(noise.next() % 4) as usize];
            let masked = !noise.next().is_multiple_of(4);
            let mask = masked.then(|| (noise.next() as u32).to_be_bytes());
            let _ = raw
                .stream
                .write_all(&sipws_reference::ws::frame::encode_frame(
                    !noise.next().is_multiple_of(3),
                    op,
                    mask,
                    &payload,
                ));
            let _ = raw.stream.write_all(&noise.bytes(40));
        }
    }
    // The server still serves.
    let mut c = WsClient::connect(server.ws());
    c.send_text(&ws_register("zoe", &server.domain));
    c.expect_status(200);
    assert_eq!(server.binding_count(), 1);
    c.close();
    server.shutdown();
}
