//! Routing through the running reference server: WS to WS, UDP to WS, the text/binary
//! choice on the way out, no-connect for dead WebSocket flows, forwarding over TCP and its
//! failures, and a peer that does not read.

mod server_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use server_support::*;
use sipws_reference::sip::Method;

#[test]
fn req_3261_18_2_2_a_message_from_alice_reaches_bob_and_his_200_comes_back_to_alice() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&outbound_register("alice", &d, "WS"));
    alice.expect_status(200);
    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&outbound_register("bob", &d, "WS"));
    bob.expect_status(200);
    assert_eq!(server.binding_count(), 2);

    let msg = message(
        "alice",
        &d,
        &format!("sip:bob@{d}"),
        "WS alice.invalid",
        "m1",
        b"hello bob",
    );
    alice.send_binary(&msg);
    // 5626-7-c: it arrives on the connection bob registered over.
    let (req, binary) = bob.recv_sip();
    assert!(!binary, "a UTF-8 message goes in a text frame (7118-4.2-c)");
    assert_eq!(req.method(), Some(&Method::Message));
    assert_eq!(req.body, b"hello bob");
    // The proxy's own Via is on top, naming the WS transport (7118-5.1-a).
    let top = req.top_via().expect("a Via");
    assert_eq!(top.transport.to_ascii_uppercase(), "WS");
    assert_eq!(req.vias().count(), 2);
    bob.answer(&req, 200);
    // 3261-18.2.2-a: the response goes back on alice's connection, our Via removed.
    let ok = alice.expect_status(200);
    assert_eq!(ok.call_id(), Some("m1"));
    assert_eq!(ok.vias().count(), 1);
    alice.close();
    bob.close();
    server.shutdown();
}

#[test]
fn req_7118_4_2_b_non_utf8_body_goes_in_a_binary_frame() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&ws_register("bob", &d));
    bob.expect_status(200);
    // From a UDP peer, a MESSAGE whose body is not UTF-8.
    let udp = UdpClient::new(server.addrs.udp.expect("udp"));
    let via = format!("UDP 127.0.0.1:{}", udp.port());
    udp.send(&message(
        "carol",
        &d,
        &format!("sip:bob@{d}"),
        &via,
        "bin1",
        &[0xFF, 0xFE, 0x00, 0x41],
    ));
    let (req, binary) = bob.recv_sip();
    assert!(
        binary,
        "7118-4.2-b: a message that is not UTF-8 travels as binary"
    );
    assert_eq!(req.body, vec![0xFF, 0xFE, 0x00, 0x41]);
    bob.answer(&req, 200);
    udp.expect_status(200);
    bob.close();
    server.shutdown();
}

#[test]
fn req_5626_7_d_closed_flow_gets_480_without_connecting() {
    let server = TestServer::start();
    let d = server.domain.clone();
    // The address bob's Contact names: the server must never connect there (A9, RFC 7118 §5).
    let trap = TcpListener::bind("127.0.0.1:0").expect("bind the trap");
    trap.set_nonblocking(true).expect("nonblocking");
    let trap_port = trap.local_addr().expect("addr").port();

    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&ws_register("alice", &d));
    alice.expect_status(200);
    let mut bob = WsClient::connect(server.ws());
    let contact = format!("<sip:bob@127.0.0.1:{trap_port};transport=ws>");
    bob.send_text(&register(
        "bob",
        &d,
        "WS bob.invalid",
        &contact,
        "reg-bob",
        "",
    ));
    bob.expect_status(200);
    assert_eq!(server.binding_count(), 2);
    bob.close();

    for (i, method) in ["MESSAGE", "INVITE"].into_iter().enumerate() {
        let started = Instant::now();
        let call_id = format!("dead{i}");
        let req = message_with_method(
            method,
            "alice",
            &d,
            &format!("sip:bob@{d}"),
            "WS alice.invalid",
            &call_id,
            b"",
        );
        alice.send_text(&String::from_utf8(req).expect("UTF-8"));
        let (resp, _) = alice.recv_sip();
        if method == "INVITE" && resp.status_line().map(|s| s.code) == Some(100) {
            panic!("no 100 expected: the INVITE is answered at once");
        }
        assert_eq!(
            resp.status_line().map(|s| s.code),
            Some(480),
            "{method}: {resp:?}"
        );
        assert_eq!(resp.call_id(), Some(call_id.as_str()));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{method} answered in {:?}",
            started.elapsed()
        );
    }
    // Give a would-be connection attempt time to show up, then look.
    std::thread::sleep(Duration::from_millis(200));
    match trap.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("the server connected to the dead flow's contact from {from}"),
        Err(e) => panic!("trap listener: {e}"),
    }
    assert_eq!(server.binding_count(), 1, "only alice is left");
    alice.close();
    server.shutdown();
}

#[test]
fn req_7118_5_4_b_udp_register_and_udp_message_to_a_ws_user() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let udp = UdpClient::new(server.addrs.udp.expect("udp"));
    let via = format!("UDP 127.0.0.1:{}", udp.port());
    let contact = format!("<sip:dan@127.0.0.1:{}>", udp.port());
    udp.send(register("dan", &d, &via, &contact, "reg-dan", "").as_bytes());
    let ok = udp.expect_status(200);
    assert!(ok.contacts().next().and_then(|c| c.expires()).is_some());
    assert_eq!(server.binding_count(), 1);

    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&ws_register("bob", &d));
    bob.expect_status(200);
    udp.send(&message(
        "dan",
        &d,
        &format!("sip:bob@{d}"),
        &via,
        "udp-m1",
        b"over UDP",
    ));
    let (req, _) = bob.recv_sip();
    assert_eq!(req.body, b"over UDP");
    assert_eq!(
        req.top_via().map(|v| v.transport.to_ascii_uppercase()),
        Some("WS".into())
    );
    bob.answer(&req, 200);
    let ok = udp.expect_status(200);
    assert_eq!(ok.call_id(), Some("udp-m1"));

    // And back: bob (WS) to dan (UDP), to the UDP address dan registered from.
    let to_dan = message(
        "bob",
        &d,
        &format!("sip:dan@{d}"),
        "WS bob.invalid",
        "ws-m2",
        b"to UDP",
    );
    bob.send_binary(&to_dan);
    let req = udp.recv();
    assert_eq!(req.method(), Some(&Method::Message));
    assert_eq!(req.body, b"to UDP");
    let resp = sipws_reference::sip::response::response(&req, 200, "dan-tag", Vec::new());
    udp.send(&resp.to_bytes());
    bob.expect_status(200);
    bob.close();
    server.shutdown();
}

#[test]
fn req_3261_18_3_b_tcp_register_keepalive_and_message_to_a_ws_user() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let mut tcp = tcp_connect(server.addrs.tcp.expect("tcp"));
    let mut buf = Vec::new();
    let local = tcp.local_addr().expect("addr");
    // RFC 5626 §5.4 on a stream: CRLF CRLF gets CRLF.
    tcp.write_all(b"\r\n\r\n").expect("ping");
    let mut pong = [0u8; 2];
    tcp.read_exact(&mut pong).expect("pong");
    assert_eq!(&pong, b"\r\n");
    let via = format!("TCP 127.0.0.1:{}", local.port());
    let contact = format!("<sip:eve@127.0.0.1:{};transport=tcp>", local.port());
    tcp.write_all(register("eve", &d, &via, &contact, "reg-eve", "").as_bytes())
        .expect("send");
    let ok = read_stream_message(&mut tcp, &mut buf);
    assert_eq!(ok.status_line().map(|s| s.code), Some(200));

    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&ws_register("bob", &d));
    bob.expect_status(200);
    // Two messages in one TCP write: Content-Length frames them (RFC 3261 §18.3).
    let mut two = message("eve", &d, &format!("sip:bob@{d}"), &via, "tcp-m1", b"one");
    two.extend(message(
        "eve",
        &d,
        &format!("sip:bob@{d}"),
        &via,
        "tcp-m2",
        b"two",
    ));
    tcp.write_all(&two).expect("send");
    for body in [&b"one"[..], b"two"] {
        let (req, _) = bob.recv_sip();
        assert_eq!(req.body, body);
        bob.answer(&req, 200);
        let ok = read_stream_message(&mut tcp, &mut buf);
        assert_eq!(ok.status_line().map(|s| s.code), Some(200));
    }
    bob.close();
    server.shutdown();
}

#[test]
fn forwarding_over_tcp_connects_and_the_answer_comes_back() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let uas = TcpListener::bind("127.0.0.1:0").expect("bind");
    let uas_port = uas.local_addr().expect("addr").port();
    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&ws_register("alice", &d));
    alice.expect_status(200);
    // `localhost`, not 127.0.0.1: a user at our own domain (127.0.0.1) is served locally.
    let target = format!("sip:carol@localhost:{uas_port};transport=tcp");
    alice.send_text(
        &String::from_utf8(message(
            "alice",
            &d,
            &target,
            "WS alice.invalid",
            "fwd1",
            b"hi",
        ))
        .expect("UTF-8"),
    );
    let (mut conn, _) = accept_within(&uas, WAIT);
    conn.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut buf = Vec::new();
    let req = read_stream_message(&mut conn, &mut buf);
    assert_eq!(req.method(), Some(&Method::Message));
    assert_eq!(
        req.top_via().map(|v| v.transport.to_ascii_uppercase()),
        Some("TCP".into())
    );
    let resp = sipws_reference::sip::response::response(&req, 202, "carol-tag", Vec::new());
    conn.write_all(&resp.to_bytes()).expect("answer");
    alice.expect_status(202);
    // A second request to the same address reuses the connection.
    alice.send_text(
        &String::from_utf8(message(
            "alice",
            &d,
            &target,
            "WS alice.invalid",
            "fwd2",
            b"again",
        ))
        .expect("UTF-8"),
    );
    let req = read_stream_message(&mut conn, &mut buf);
    assert_eq!(req.body, b"again");
    uas.set_nonblocking(true).expect("nonblocking");
    assert!(
        matches!(uas.accept(), Err(e) if e.kind() == ErrorKind::WouldBlock),
        "no second connection"
    );
    alice.close();
    server.shutdown();
}

#[test]
fn undeliverable_forwards_get_503_and_names_are_never_resolved() {
    let server = TestServer::start();
    let d = server.domain.clone();
    // A port nobody listens on.
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&ws_register("alice", &d));
    alice.expect_status(200);
    for (i, target) in [
        // `localhost`, not 127.0.0.1: a user at our own domain (127.0.0.1) is served locally.
        format!("sip:carol@localhost:{closed_port};transport=tcp"),
        // Would need DNS: a delivery failure, never a lookup.
        "sip:carol@example.com".to_string(),
        // TLS forwarding is not supported by the reference server.
        "sips:carol@localhost:5061".to_string(),
    ]
    .into_iter()
    .enumerate()
    {
        let call_id = format!("fail{i}");
        let req = message("alice", &d, &target, "WS alice.invalid", &call_id, b"x");
        alice.send_text(&String::from_utf8(req).expect("UTF-8"));
        let resp = alice.expect_status(503);
        assert_eq!(resp.call_id(), Some(call_id.as_str()), "{target}");
    }
    alice.close();
    server.shutdown();
}

#[test]
fn a_peer_that_never_reads_is_closed_and_its_binding_removed() {
    let server = TestServer::with(|c| {
        c.limits.flow_queue_bytes = 256 * 1024;
        // Long: the byte budget, not the write timeout, must be what closes bob.
        c.limits.write_timeout_ms = 60_000;
    });
    let d = server.domain.clone();
    let mut alice = WsClient::connect(server.ws());
    alice.send_text(&ws_register("alice", &d));
    alice.expect_status(200);
    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&ws_register("bob", &d));
    bob.expect_status(200);
    // Bob stops reading. Alice sends until the server gives up on bob: bounded in count.
    let body = vec![b'x'; 60 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    while server.binding_count() == 2 {
        assert!(
            sent < 400 && started.elapsed() < Duration::from_secs(20),
            "bob was never closed"
        );
        let m = message(
            "alice",
            &d,
            &format!("sip:bob@{d}"),
            "WS alice.invalid",
            &format!("flood{sent}"),
            &body,
        );
        alice.send_binary(&m);
        sent += 1;
    }
    // Bob's connection is gone; a request for him now gets 480.
    let req = message(
        "alice",
        &d,
        &format!("sip:bob@{d}"),
        "WS alice.invalid",
        "after",
        b"",
    );
    alice.send_text(&String::from_utf8(req).expect("UTF-8"));
    loop {
        let (m, _) = alice.recv_sip();
        if m.call_id() == Some("after") {
            assert_eq!(m.status_line().map(|s| s.code), Some(480));
            break;
        }
    }
    let stats = server.stats();
    assert_eq!(
        stats.connections, 1,
        "only alice's connection is left: {stats:?}"
    );
    // Bob's TCP connection ends (once he reads what was in flight), long before the write
    // timeout: the server stopped writing to him.
    let Stream::Plain(tcp) = bob.ws.get_mut() else {
        panic!("plain ws");
    };
    let mut sink = vec![0u8; 64 * 1024];
    loop {
        match tcp.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("bob's connection stayed open: {e}"),
        }
    }
    alice.close();
    server.shutdown();
}

#[test]
fn shutdown_closes_connections_and_frees_the_ports() {
    let server = TestServer::start();
    let addrs = server.addrs;
    let mut c = WsClient::connect(server.ws());
    c.send_text(&ws_register("gus", &server.domain));
    c.expect_status(200);
    server.shutdown();
    // The connection ends (a Close 1001 or a plain end of stream), not by our read timeout.
    let end = loop {
        if let Err(e) = c.recv() {
            break e;
        }
    };
    if let tungstenite::Error::Io(e) = &end {
        assert!(
            !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "the connection outlived the server: {e}"
        );
    }
    for a in [addrs.ws, addrs.wss, addrs.tcp].into_iter().flatten() {
        TcpListener::bind(a).unwrap_or_else(|e| panic!("{a} still in use: {e}"));
    }
    std::net::UdpSocket::bind(addrs.udp.expect("udp")).expect("udp port freed");
}

fn accept_within(l: &TcpListener, limit: Duration) -> (std::net::TcpStream, std::net::SocketAddr) {
    l.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + limit;
    loop {
        match l.accept() {
            Ok((s, a)) => {
                s.set_nonblocking(false).expect("blocking");
                return (s, a);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no connection within {limit:?}");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}
