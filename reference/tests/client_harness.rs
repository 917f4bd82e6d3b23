//! The reference client's connection rules (spec/requirements.md §2.2, and 7118-4.1-d), each tested
//! against a harness server written here with tokio: a TcpListener, and rustls for TLS.
//! The harness scripts what a real server would not do: a slow 101, a wrong 101, an HTTP
//! error, a certificate for another name or from another CA, a short Flow-Timer.

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use client_support::*;
use sipws_reference::net::client::{
    Client, ClientError, ClientEvent, CloseCause, Direction, LinkState, Trust,
};
use sipws_reference::sip::{Header, HeaderName, Message, Method};
use sipws_reference::ua::UaEvent;
use sipws_reference::ws::codec::{CloseCode, MessageKind, encode_close, encode_message};
use sipws_reference::ws::{ClientRejected, OpCode, encode_ping};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsAcceptor;

/// Reads whatever the client sends within `wait`: the bytes, and whether it closed.
async fn bytes_within<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    wait: Duration,
) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let deadline = Instant::now() + wait;
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, s.read(&mut chunk)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A 200 for a REGISTER that lists the request's own Contact (what a registrar grants).
fn register_ok(req: &Message) -> Message {
    let contacts: Vec<Header> = req
        .headers
        .iter()
        .filter(|h| h.name == HeaderName::Contact)
        .cloned()
        .collect();
    sipws_reference::sip::response::response(req, 200, "reg-tag", contacts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_a_b_request_fields_and_a_fresh_key_per_connection() {
    let mut l = Listener::bind().await;
    let mut keys = Vec::new();
    for origin in [Some("https://www.example.com"), None] {
        let mut o = options(&format!("{}/sip?x=1", l.url()), "alice");
        o.origin = origin.map(str::to_string);
        let connecting = tokio::spawn(Client::connect(o));
        let (mut s, _) = l.accept().await;
        let raw = read_head(&mut s).await.expect("a request");
        let head = parse_request(&raw);
        assert_eq!(head.method(), "GET");
        assert_eq!(head.target(), "/sip?x=1");
        assert_eq!(head.version().to_string(), "HTTP/1.1");
        let h = head.headers();
        let one = |name: &str| {
            let v = h.values(name);
            assert_eq!(v.len(), 1, "exactly one {name}");
            String::from_utf8_lossy(v[0]).into_owned()
        };
        assert_eq!(one("Host"), format!("127.0.0.1:{}", l.addr.port()));
        assert!(one("Upgrade").eq_ignore_ascii_case("websocket"));
        assert!(one("Connection").eq_ignore_ascii_case("upgrade"));
        assert_eq!(one("Sec-WebSocket-Version"), "13");
        // 6455-4.1-b, 7118-4.1-a: sip offered, once.
        assert_eq!(one("Sec-WebSocket-Protocol"), "sip");
        match origin {
            Some(o) => assert_eq!(one("Origin"), o),
            None => assert_eq!(h.count("Origin"), 0),
        }
        let key = one("Sec-WebSocket-Key");
        let nonce = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .expect("base64");
        assert_eq!(nonce.len(), 16, "a 16-byte nonce");
        keys.push(key);
        s.write_all(&accept_101(&raw)).await.expect("101");
        let client = connecting
            .await
            .expect("task")
            .expect("the 101 is accepted");
        drop(s);
        client.close().await;
    }
    assert_ne!(keys[0], keys[1], "a fresh key per connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_c_a_second_connection_to_the_address_waits_for_the_first_handshake() {
    let mut l = Listener::bind().await;
    let mut other = Listener::bind().await;
    let a = Client::spawn(options(&l.url(), "a")).expect("starts");
    let (mut sa, _) = l.accept().await;
    let req_a = read_head(&mut sa).await.expect("A's request");

    // While A is CONNECTING (its 101 withheld), B to the same address must not even open
    // TCP; C, to another port, is not held up.
    let b = Client::spawn(options(&l.url(), "b")).expect("starts");
    let c = Client::spawn(options(&other.url(), "c")).expect("starts");
    assert!(
        other
            .accept_within(Duration::from_millis(300))
            .await
            .is_some(),
        "another address connects at once"
    );
    assert!(
        l.accept_within(Duration::from_millis(300)).await.is_none(),
        "6455-4.1-c: a second connection to the address opened while the first was CONNECTING"
    );
    let answered_a = Instant::now();
    sa.write_all(&accept_101(&req_a)).await.expect("101 to A");
    let (mut sb, accepted_b) = l.accept().await;
    assert!(
        accepted_b >= answered_a,
        "B connected before A's handshake resolved"
    );
    let req_b = read_head(&mut sb).await.expect("B's request");
    sb.write_all(&accept_101(&req_b)).await.expect("101 to B");
    for client in [&a, &b] {
        wait_for(client, "Opened", |e| {
            matches!(e, ClientEvent::Opened { .. }).then_some(())
        })
        .await;
    }
    drop((sa, sb));
    for client in [a, b, c] {
        client.close().await;
    }
}

/// A TLS harness: accepts one connection, records the raw bytes, runs TLS with `config`,
/// and reports the SNI and the decrypted request head (if the TLS handshake succeeded).
struct TlsSeen {
    raw: Vec<u8>,
    sni: Option<String>,
    request: Option<Vec<u8>>,
}

async fn tls_harness(
    l: &mut Listener,
    config: Arc<rustls::ServerConfig>,
    then: impl AsyncFnOnce(
        &mut tokio_rustls::server::TlsStream<Recording<tokio::net::TcpStream>>,
        Vec<u8>,
    ),
) -> TlsSeen {
    let (tcp, _) = l.accept().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = Recording {
        inner: tcp,
        seen: seen.clone(),
    };
    let accepted = timeout(WAIT, TlsAcceptor::from(config).accept(rec))
        .await
        .expect("the TLS handshake ends in time");
    let (sni, request) = match accepted {
        Ok(mut tls) => {
            let sni = tls.get_ref().1.server_name().map(str::to_string);
            let request = read_head(&mut tls).await;
            if let Some(r) = &request {
                then(&mut tls, r.clone()).await;
            }
            (sni, request)
        }
        Err(_) => (None, None),
    };
    let raw = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    TlsSeen { raw, sni, request }
}

fn wss_options(port: u16, host: &str, trust: Trust) -> sipws_reference::net::client::ClientOptions {
    let mut o = options(&format!("wss://{host}:{port}/"), "alice");
    o.connect_to = Some(format!("127.0.0.1:{port}").parse().expect("addr"));
    o.trust = Some(trust);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_d_tls_first_with_sni_the_url_host_and_wss_via() {
    let pki = pki(&["sip.example.test"]);
    let mut l = Listener::bind().await;
    let o = wss_options(
        l.addr.port(),
        "sip.example.test",
        Trust::CaPem(pki.ca_pem.clone()),
    );
    let client = tokio::spawn(async move {
        let c = Client::connect(o).await?;
        let r = c.options("sip:probe@sip.example.test").await;
        c.close().await;
        r
    });
    let seen = tls_harness(&mut l, pki.server_config.clone(), async |tls, request| {
        tls.write_all(&accept_101(&request)).await.expect("101");
        let mut frames = FrameReader::default();
        let (options, frame) = frames.next_sip(tls).await;
        assert_eq!(options.method(), Some(&Method::Options));
        assert!(
            frame.header.mask.is_some(),
            "6455-5.1-a: masked under TLS too"
        );
        // 7118-5.1-a: Via SIP/2.0/WSS on wss.
        assert_eq!(options.top_via().map(|v| v.transport.as_str()), Some("WSS"));
        send_sip(tls, &reply(&options, 200)).await;
    })
    .await;
    assert_eq!(
        seen.sni.as_deref(),
        Some("sip.example.test"),
        "SNI = the URL host"
    );
    let head = parse_request(seen.request.as_deref().expect("a request over TLS"));
    assert_eq!(
        head.headers().get("Host").and_then(|h| h.value_str()),
        Some(format!("sip.example.test:{}", l.addr.port()).as_str())
    );
    let ok = client.await.expect("task").expect("OPTIONS over wss");
    assert_eq!(ok.status, 200);
}

/// The client refuses the harness's certificate: a TLS error naming the fault, and not one
/// plaintext HTTP byte on the wire (nor a decrypted request).
async fn refused_certificate(server: &Pki, host: &str, trust: Trust, fault: &str) {
    let mut l = Listener::bind().await;
    let o = wss_options(l.addr.port(), host, trust);
    let client = tokio::spawn(Client::connect(o));
    let seen = tls_harness(&mut l, server.server_config.clone(), async |_, _| {}).await;
    let err = client
        .await
        .expect("task")
        .expect_err("the certificate is refused");
    match &err {
        ClientError::Tls { detail, .. } => assert!(detail.contains(fault), "{detail}"),
        other => panic!("expected a TLS error, got {other}"),
    }
    assert!(err.is_unreachable());
    assert!(err.to_string().contains("6455-4.1-d"), "{err}");
    assert!(seen.request.is_none(), "no request reached the harness");
    assert!(
        !seen.raw.windows(4).any(|w| w == b"GET "),
        "no plaintext HTTP on the wire"
    );
    assert!(!seen.raw.is_empty(), "a ClientHello was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_d_a_certificate_from_an_untrusted_ca_fails_before_any_http() {
    let server = pki(&["sip.example.test"]);
    let other = pki(&["sip.example.test"]);
    refused_certificate(
        &server,
        "sip.example.test",
        Trust::CaPem(other.ca_pem.clone()),
        "UnknownIssuer",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_7118_9_1_b_a_certificate_for_another_name_fails_before_any_http() {
    let server = pki(&["other.example.test"]);
    refused_certificate(
        &server,
        "sip.example.test",
        Trust::CaPem(server.ca_pem.clone()),
        "not valid for name",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_mode_accepts_an_unverifiable_certificate() {
    let server = pki(&["other.example.test"]);
    let mut l = Listener::bind().await;
    let o = wss_options(
        l.addr.port(),
        "sip.example.test",
        Trust::InsecureAcceptAnyCertificate,
    );
    let client = tokio::spawn(Client::connect(o));
    let seen = tls_harness(
        &mut l,
        server.server_config.clone(),
        async |tls, request| {
            tls.write_all(&accept_101(&request)).await.expect("101");
        },
    )
    .await;
    assert!(seen.request.is_some(), "the handshake ran over TLS");
    let c = client.await.expect("task").expect("--insecure connects");
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_e_nothing_is_sent_between_the_request_and_the_101() {
    let mut l = Listener::bind().await;
    let client = Arc::new(Client::spawn(options(&l.url(), "alice")).expect("starts"));
    // register() right away: the REGISTER must wait for the 101.
    let c = client.clone();
    let registering = tokio::spawn(async move { c.register().await });
    let (mut s, _) = l.accept().await;
    let request = read_head(&mut s).await.expect("a request");
    let (early, closed) = bytes_within(&mut s, Duration::from_millis(300)).await;
    assert!(
        early.is_empty() && !closed,
        "6455-4.1-e: {} bytes sent before the 101: {:?}",
        early.len(),
        String::from_utf8_lossy(&early)
    );
    s.write_all(&accept_101(&request)).await.expect("101");
    let mut frames = FrameReader::default();
    let (register, frame) = frames.next_sip(&mut s).await;
    assert_eq!(register.method(), Some(&Method::Register));
    assert_eq!(frame.header.opcode, OpCode::Text);
    send_sip(&mut s, &register_ok(&register)).await;
    let reg = registering
        .await
        .expect("task")
        .expect("registered once the connection opened");
    assert_eq!(reg.registration.expires, 600);
    drop(s);
    if let Ok(c) = Arc::try_unwrap(client) {
        c.close().await;
    }
}

/// The harness's answer to a handshake request.
type Answer = dyn Fn(&[u8]) -> Vec<u8>;
/// Which refusal a faulty answer must produce.
type Expect = fn(&ClientRejected) -> bool;

/// What a client does when the harness answers its handshake with `answer` (`None`: the
/// harness closes TCP instead): the error of the connection, the outcome of the REGISTER
/// that was waiting for it, and what the harness received after each request.
///
/// The REGISTER is asked for right after the client started connecting. Should it reach the
/// client only after that attempt already failed, it opens a new connection (RFC 7118 §4.1
/// note: a request with no connection opens one); the harness answers every connection the
/// same way, so the REGISTER fails the same way whichever attempt it waited for.
async fn refused_handshake(answer: Option<&Answer>) -> (ClientError, ClientError, Vec<u8>) {
    let mut l = Listener::bind().await;
    let client = Arc::new(Client::spawn(options(&l.url(), "alice")).expect("starts"));
    let c = client.clone();
    let mut registering = tokio::spawn(async move { c.register().await });
    let mut after = Vec::new();
    let deadline = Instant::now() + WAIT;
    let reg = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::select! {
            r = &mut registering => break r.expect("task"),
            conn = l.accept_within(left) => {
                let (mut s, _) = conn.expect("the REGISTER ends or a connection comes in time");
                let request = read_head(&mut s).await.expect("a request");
                match answer {
                    Some(make) => {
                        s.write_all(&make(&request)).await.expect("answer");
                        let (bytes, closed) = bytes_within(&mut s, WAIT).await;
                        assert!(closed, "the client closes the connection");
                        after.extend_from_slice(&bytes);
                    }
                    None => drop(s),
                }
            }
        }
    };
    let reg = reg.expect_err("the REGISTER cannot succeed");
    let failed = wait_for(&client, "ConnectFailed", |e| match e {
        ClientEvent::ConnectFailed {
            error,
            reconnect_in,
        } => {
            assert_eq!(
                *reconnect_in, None,
                "no connection ever worked: no reconnect"
            );
            Some(error.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(client.state(), LinkState::Idle);
    assert!(client.traffic().is_empty(), "no SIP message went out");
    (failed, reg, after)
}

fn assert_503(reg: &ClientError, fault: &str) {
    match reg {
        ClientError::Request {
            method,
            status,
            reason,
            ..
        } => {
            assert_eq!((method.as_str(), *status), ("REGISTER", 503));
            assert!(
                reason.contains(fault),
                "the reason names the fault: {reason}"
            );
        }
        other => panic!("expected a 503 transaction error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_f_a_bad_101_fails_the_connection_and_sends_nothing() {
    let cases: Vec<(Box<Answer>, Expect)> = vec![
        (
            Box::new(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()),
            |r| matches!(r, ClientRejected::HttpStatus { code: 200 }),
        ),
        (
            Box::new(|req| {
                custom_101(
                    &request_key(req),
                    Some("sip"),
                    Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                )
            }),
            |r| matches!(r, ClientRejected::AcceptMismatch { .. }),
        ),
        (
            Box::new(|req| custom_101(&request_key(req), Some("foo"), None)),
            |r| matches!(r, ClientRejected::UnrequestedSubprotocol { .. }),
        ),
        (
            Box::new(|req| {
                String::from_utf8(custom_101(&request_key(req), Some("sip"), None))
                    .expect("ASCII")
                    .replace("Upgrade: websocket\r\n", "")
                    .into_bytes()
            }),
            |r| matches!(r, ClientRejected::MissingUpgrade),
        ),
    ];
    for (answer, expected) in cases {
        let (err, reg, after) = refused_handshake(Some(&*answer)).await;
        match &err {
            ClientError::Handshake { rejected, .. } => {
                assert!(expected(rejected), "{rejected:?}");
                assert!(err.to_string().contains("[6455-4.1-f]"), "{err}");
            }
            other => panic!("expected a handshake refusal, got {other}"),
        }
        assert!(after.is_empty(), "nothing after the request: {after:?}");
        assert_503(&reg, "opening handshake refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_1_g_a_101_without_sip_fails_the_connection() {
    let answer = |req: &[u8]| custom_101(&request_key(req), None, None);
    let (err, reg, after) = refused_handshake(Some(&answer)).await;
    assert!(
        matches!(
            &err,
            ClientError::Handshake {
                status: 101,
                rejected: ClientRejected::NoSipSubprotocol { selected: None },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("[6455-4.1-g]"), "{err}");
    assert!(
        after.is_empty(),
        "no frame after a 101 without sip: {after:?}"
    );
    assert_503(&reg, "does not select sip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_7118_4_1_d_no_101_fails_the_pending_request_as_503() {
    for status in ["500 Server Internal Error", "403 Forbidden"] {
        let text = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        let answer = move |_: &[u8]| text.clone().into_bytes();
        let (err, reg, after) = refused_handshake(Some(&answer)).await;
        let code: u16 = status[..3].parse().expect("code");
        assert!(
            matches!(&err, ClientError::Handshake { status, rejected: ClientRejected::HttpStatus { .. }, .. } if *status == code),
            "{err}"
        );
        assert!(err.is_unreachable());
        assert!(
            after.is_empty(),
            "{status}: nothing sent as WS frames: {after:?}"
        );
        assert_503(&reg, &format!("HTTP status {code}"));
    }
    // A TCP close instead of an answer.
    let (err, reg, _) = refused_handshake(None).await;
    assert!(matches!(err, ClientError::HandshakeClosed { .. }), "{err}");
    assert_503(&reg, "closed the connection before answering");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_5_3_a_fresh_masking_keys_and_control_frames_answered() {
    let mut l = Listener::bind().await;
    let client = Arc::new(Client::spawn(options(&l.url(), "alice")).expect("starts"));
    let (mut s, _) = l.accept().await;
    let request = read_head(&mut s).await.expect("request");
    s.write_all(&accept_101(&request)).await.expect("101");
    let c = client.clone();
    let sending = tokio::spawn(async move {
        for i in 0..40 {
            let body = format!("m{i}");
            c.message("sip:bob@127.0.0.1", "text/plain", body).await?;
        }
        Ok::<_, ClientError>(())
    });
    let mut frames = FrameReader::default();
    let mut keys = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let (m, f) = frames.next_sip(&mut s).await;
        // 6455-5.1-a: masked; 6455-5.3-a: a new key each time.
        let key = f
            .header
            .mask
            .expect("6455-5.1-a: every client frame is masked");
        keys.insert(key);
        send_sip(&mut s, &reply(&m, 200)).await;
    }
    sending.await.expect("task").expect("40 MESSAGEs answered");
    assert_eq!(keys.len(), 40, "a fresh masking key per frame");

    // 6455-5.5.2-a: a Ping gets a Pong with its payload (masked).
    s.write_all(&encode_ping(b"x1", None).expect("ping"))
        .await
        .expect("ping");
    let pong = frames.next(&mut s).await.expect("a Pong");
    assert_eq!(pong.header.opcode, OpCode::Pong);
    assert_eq!(pong.payload, b"x1");
    assert!(pong.header.mask.is_some());

    // 7118-4.2-a: a request in a binary frame is processed like a text one.
    let options = format!(
        "OPTIONS sip:alice@{} SIP/2.0\r\nVia: SIP/2.0/WS h.invalid;branch=z9hG4bKbin1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:h@127.0.0.1>;tag=h1\r\nTo: <sip:alice@127.0.0.1>\r\n\
         Call-ID: bin1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        client.via_host()
    );
    s.write_all(&encode_message(
        MessageKind::Binary,
        options.as_bytes(),
        None,
    ))
    .await
    .expect("binary OPTIONS");
    let (ok, _) = frames.next_sip(&mut s).await;
    assert_eq!(ok.status_line().map(|l| l.code), Some(200));
    assert_eq!(ok.call_id(), Some("bin1"));
    let seen = client.traffic();
    let received = seen
        .iter()
        .find(|t| {
            t.sip()
                .and_then(|m| m.call_id().map(str::to_string))
                .as_deref()
                == Some("bin1")
                && t.bytes.starts_with(b"OPTIONS")
        })
        .expect("the binary OPTIONS is in the traffic");
    assert!(is_binary(received.kind));

    // 6455-5.5.1-b: the server's Close is answered with a Close echoing the code.
    s.write_all(&encode_close(Some(CloseCode::GOING_AWAY), "bye", None))
        .await
        .expect("close");
    let close = frames.next(&mut s).await.expect("the client's Close");
    assert_eq!(close.header.opcode, OpCode::Close);
    assert_eq!(close.payload[..2], 1001u16.to_be_bytes());
    drop(s);
    let cause = wait_for(&client, "Closed", |e| match e {
        ClientEvent::Closed {
            cause,
            reconnect_in,
            ..
        } => {
            assert_eq!(*reconnect_in, None, "not registered: no reconnect");
            Some(cause.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(
        cause,
        CloseCause::ServerClose {
            code: Some(1001),
            reason: "bye".into()
        }
    );
    let mut errors = 0;
    while let Some(ev) = client.next_event(Duration::from_millis(10)).await {
        if matches!(ev, ClientEvent::Ua(UaEvent::Error(_))) {
            errors += 1;
        }
    }
    assert_eq!(errors, 0, "nothing the harness sent was refused");
    if let Ok(c) = Arc::try_unwrap(client) {
        c.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_5626_4_4_a_crlf_keepalives_follow_the_flow_timer_once_outbound_is_confirmed() {
    let mut l = Listener::bind().await;
    let client = Arc::new(Client::spawn(options(&l.url(), "alice")).expect("starts"));
    let c = client.clone();
    let registering = tokio::spawn(async move { c.register().await });
    let (mut s, _) = l.accept().await;
    let request = read_head(&mut s).await.expect("request");
    s.write_all(&accept_101(&request)).await.expect("101");
    let mut frames = FrameReader::default();
    let (register, _) = frames.next_sip(&mut s).await;
    let mut ok = register_ok(&register);
    // RFC 5626 §4.2.1: Require: outbound confirms Outbound; Flow-Timer: 1 asks for a
    // keep-alive every 0.8-1 s (§4.4).
    for (name, value) in [("Require", "outbound"), ("Flow-Timer", "1")] {
        ok.headers
            .insert(0, Header::parse(name, value).expect("a header"));
    }
    let ok = Message::parse(&ok.to_bytes()).expect("re-parses");
    send_sip(&mut s, &ok).await;
    let granted = Instant::now();
    let reg = registering.await.expect("task").expect("registered");
    assert_eq!(reg.registration.flow_timer, Some(1));
    let ping = frames
        .next_within(&mut s, Duration::from_secs(2))
        .await
        .expect("a keep-alive within 2 s")
        .expect("not EOF");
    let gap = granted.elapsed();
    assert_eq!(ping.header.opcode, OpCode::Text);
    assert_eq!(
        ping.payload, b"\r\n\r\n",
        "5626-4.4.1-a: the ping is CRLF CRLF"
    );
    assert!(ping.header.mask.is_some());
    assert!(
        (Duration::from_millis(700)..=Duration::from_millis(1300)).contains(&gap),
        "ping {gap:?} after the 200, Flow-Timer 1 s"
    );
    s.write_all(&encode_message(MessageKind::Text, b"\r\n", None))
        .await
        .expect("pong");
    let deadline = Instant::now() + WAIT;
    loop {
        let t = client.traffic();
        let sent = t
            .iter()
            .any(|t| t.direction == Direction::Sent && t.bytes == b"\r\n\r\n");
        let got = t
            .iter()
            .any(|t| t.direction == Direction::Received && t.is_keepalive());
        if sent && got {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the keep-alive exchange is not in the traffic"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(s);
    if let Ok(c) = Arc::try_unwrap(client) {
        c.close().await;
    }
}
