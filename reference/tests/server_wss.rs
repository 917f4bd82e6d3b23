//! WSS: the generated certificate, trusted by a rustls client, carries SIP like WS does.

mod server_support;

use std::io::{Read, Write};

use server_support::*;
use sipws_reference::sip::HeaderName;

#[test]
fn req_7118_9_1_b_outbound_register_over_wss_trusting_the_generated_ca_gets_200() {
    let server = TestServer::start();
    let ca = server.ca_pem.clone().expect("a generated CA");
    let wss = server.addrs.wss.expect("wss listener");
    let mut alice = WsClient::connect_wss(wss, &ca);
    alice.send_text(&outbound_register("alice", &server.domain, "WSS"));
    let ok = alice.expect_status(200);
    assert!(ok.contacts().next().and_then(|c| c.expires()).is_some());
    assert!(
        ok.tokens(&HeaderName::Require)
            .any(|t| t.eq_ignore_ascii_case("outbound"))
    );
    assert_eq!(server.binding_count(), 1);
    alice.close();
    server.wait_bindings(0);
    server.shutdown();
}

#[test]
fn wss_and_ws_users_reach_each_other() {
    let server = TestServer::start();
    let d = server.domain.clone();
    let ca = server.ca_pem.clone().expect("a generated CA");
    let mut alice = WsClient::connect_wss(server.addrs.wss.expect("wss"), &ca);
    alice.send_text(&outbound_register("alice", &d, "WSS"));
    alice.expect_status(200);
    let mut bob = WsClient::connect(server.ws());
    bob.send_text(&ws_register("bob", &d));
    bob.expect_status(200);
    alice.send_text(
        &String::from_utf8(message(
            "alice",
            &d,
            &format!("sip:bob@{d}"),
            "WSS alice.invalid",
            "x1",
            b"hi",
        ))
        .expect("UTF-8"),
    );
    let (req, _) = bob.recv_sip();
    assert_eq!(req.body, b"hi");
    bob.answer(&req, 200);
    alice.expect_status(200);
    alice.close();
    bob.close();
    server.shutdown();
}

#[test]
fn the_generated_ca_is_written_where_configured_and_untrusting_clients_fail() {
    let path = std::env::temp_dir().join(format!("sipws-test-ca-{}.pem", std::process::id()));
    let p = path.clone();
    let server = TestServer::with(move |c| c.tls.generated_ca = Some(p));
    let on_disk = std::fs::read_to_string(&path).expect("the CA file exists");
    assert_eq!(Some(on_disk.as_str()), server.ca_pem.as_deref());
    let wss = server.addrs.wss.expect("wss");
    // A client trusting another CA refuses the server (7118-9.1-b from the client's side).
    let other =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let mut s = tls_stream(wss, &other.cert.pem(), "127.0.0.1");
    let err = s
        .write_all(upgrade_request(Some("sip")).as_bytes())
        .and_then(|_| s.flush())
        .and_then(|_| s.read(&mut [0u8; 16]).map(|_| ()));
    assert!(
        err.is_err(),
        "an untrusted certificate must fail the handshake"
    );
    server.shutdown();
    let _ = std::fs::remove_file(&path);
}

#[test]
fn req_6455_4_2_2_g_plain_http_on_the_tls_port_gets_no_101() {
    let server = TestServer::with(|c| c.websocket.handshake_timeout_ms = 500);
    let mut s = tcp_connect(server.addrs.wss.expect("wss"));
    s.write_all(upgrade_request(Some("sip")).as_bytes())
        .expect("send");
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        !String::from_utf8_lossy(&got).contains("101"),
        "got {got:?}"
    );
    server.shutdown();
}
