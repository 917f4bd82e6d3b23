//! Hostile peers against the reference server on loopback (docs/security.md). Each attack is bounded in count and in time, and each test asserts that
//! (a) a well-behaved user registers and is served during the attack and after it,
//! (b) the server frees what the attacker held: its connection is closed by the server within
//!     the expected bound, with the expected Close code, and the server's counters (sockets,
//!     connections, flows, bindings) come back to zero,
//! (c) the process does not grow its memory with the attack, where the attack is about memory.
//!
//! Memory figures of many registrations are in `hostile_memory.rs` (its own process, so that
//! these tests' threads do not distort its RSS).

mod hostile_support;

use std::sync::Arc;
use std::time::Duration;

use hostile_support::*;
use sipws_reference::ws::OpCode;
use sipws_reference::ws::codec::{Event, is_sendable_close_code};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

/// A well-behaved user registering while the attack runs.
fn user_during(srv: &Srv, name: &str) -> tokio::task::JoinHandle<()> {
    let (ws, domain, name) = (srv.ws(), srv.domain.clone(), name.to_string());
    tokio::spawn(async move { well_behaved_user(ws, &name, &domain).await })
}

async fn joined(what: &str, task: tokio::task::JoinHandle<()>) {
    within(what, 4 * WAIT, task)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Before the handshake
// ---------------------------------------------------------------------------------------------

/// Slowloris: each attacker sends its upgrade request one byte at a time. The handshake
/// timeout bounds the whole handshake, not the silence between bytes, so every attacker is cut
/// once `handshake_timeout_ms` has passed, however steadily it trickles. The attackers send a
/// byte every 250 ms (the attacker sends one a second; faster is the harder case for
/// an idle timer, which would never fire here).
/// One attack at a time: the RSS bounds of some tests are measured on the whole process,
/// which another test's attack running alongside would distort. (A tokio mutex: it is held
/// across awaits, in each test's own runtime.)
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshake_one_byte_at_a_time_is_cut_at_the_handshake_timeout() {
    let _one = ONE_AT_A_TIME.lock().await;
    // One byte a second, as the issue describes the attack: 2 or 3 bytes get through
    // before the (shortened) handshake timeout cuts the peer.
    const TIMEOUT: Duration = Duration::from_millis(2500);
    const ATTACKERS: usize = 20;
    const BYTE_EVERY: Duration = Duration::from_secs(1);
    let srv = Srv::start(|c| c.websocket.handshake_timeout_ms = TIMEOUT.as_millis() as u64).await;
    let ws = srv.ws();
    let mut attackers = JoinSet::new();
    for _ in 0..ATTACKERS {
        attackers.spawn(async move {
            let mut s = connect_tcp(ws, None).await;
            let started = Instant::now();
            // Bounded by the request's length (~170 bytes) and, below, by TIMEOUT + WAIT.
            for (sent, byte) in upgrade_request().bytes().enumerate() {
                if s.write_all(&[byte]).await.is_err() {
                    return (started.elapsed(), sent);
                }
                let mut buf = [0u8; 256];
                match timeout(BYTE_EVERY, s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return (started.elapsed(), sent + 1),
                    Ok(Ok(n)) => panic!(
                        "an answer to an incomplete head: {:?}",
                        String::from_utf8_lossy(&buf[..n])
                    ),
                    Err(_) => {}
                }
            }
            panic!("the whole request went out before the server cut the connection");
        });
    }
    let during = user_during(&srv, "good-during");
    // The attackers hold their sockets meanwhile.
    srv.wait_for("the attackers are connected", WAIT, |s| {
        s.sockets >= ATTACKERS
    })
    .await;
    while let Some(r) = within("an attacker is cut", TIMEOUT + WAIT, attackers.join_next()).await {
        let (elapsed, sent) = r.expect("the attacker task");
        // Cut by the timeout (counted from accept, a hair before our clock started) and not
        // by anything else: not before it, and within a bound after it.
        assert!(
            elapsed >= TIMEOUT.mul_f32(0.8),
            "cut after {elapsed:?} and {sent} bytes"
        );
        assert!(elapsed < TIMEOUT + WAIT, "cut after {elapsed:?}");
        assert!(sent < upgrade_request().len());
    }
    joined("the user during the attack", during).await;
    well_behaved_user(ws, "good-after", &srv.domain).await;
    srv.wait_idle("after the slow handshakes").await;
    srv.shutdown().await;
}

/// Thousands of connections opened and dropped without a handshake: with FIN, with RST
/// (SO_LINGER 0) and after half a request line. Every one is freed: no socket is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_connections_dropped_before_the_handshake_are_all_freed() {
    let _one = ONE_AT_A_TIME.lock().await;
    const TOTAL: usize = 3000;
    const BATCH: usize = 100;
    let srv = Srv::start(|_| {}).await;
    let ws = srv.ws();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut during = None;
    for batch in 0..TOTAL / BATCH {
        assert!(Instant::now() < deadline, "batch {batch} after 30 s");
        let mut set = JoinSet::new();
        for i in 0..BATCH {
            set.spawn(async move {
                let mut s = connect_tcp(ws, None).await;
                match i % 3 {
                    0 => drop(s),
                    1 => {
                        s.set_zero_linger().expect("SO_LINGER 0");
                        drop(s);
                    }
                    _ => {
                        let _ = s.write_all(b"GET / HT").await;
                        drop(s);
                    }
                }
            });
        }
        while let Some(r) = within("a batch of connections", WAIT, set.join_next()).await {
            r.expect("connect and drop");
        }
        if batch == TOTAL / BATCH / 2 {
            during = Some(user_during(&srv, "good-during"));
        }
    }
    joined("the user during the attack", during.expect("started")).await;
    well_behaved_user(ws, "good-after", &srv.domain).await;
    srv.wait_idle("after thousands of dropped connections")
        .await;
    srv.shutdown().await;
}

/// A TLS ClientHello on the plain WebSocket port is no HTTP request: it gets 400 at once (the
/// request line's first byte, 0x16, is not a token character; RFC 6455 §4.2.1, 6455-10.7-a),
/// not a wait for the handshake timeout, and the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_10_7_a_tls_client_hello_on_the_ws_port_gets_400_at_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    // A handshake timeout far above the wait below: the refusal cannot be the timeout.
    let srv = Srv::start(|c| c.websocket.handshake_timeout_ms = 60_000).await;
    let hello = client_hello();
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    let mut attackers = JoinSet::new();
    for _ in 0..20 {
        let (ws, hello) = (srv.ws(), hello.clone());
        attackers.spawn(async move {
            let mut s = connect_tcp(ws, None).await;
            s.write_all(&hello).await.expect("send the ClientHello");
            let mut got = Vec::new();
            within("the refusal", WAIT, s.read_to_end(&mut got))
                .await
                .expect("read to the end");
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 400 "), "got {text:?}");
        });
    }
    let during = user_during(&srv, "good-during");
    while let Some(r) = within("an attacker", 2 * WAIT, attackers.join_next()).await {
        r.expect("the attacker task");
    }
    joined("the user during the attack", during).await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.wait_idle("after TLS on the WS port").await;
    srv.shutdown().await;
}

/// A plain-text upgrade request on the WSS port (RFC 6455 §4.2.2 g, 6455-10.6-a): rustls
/// refuses the record at once (an alert at most, never an HTTP answer), the connection is
/// closed well before the handshake timeout, and the WSS port serves the next client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_4_2_2_g_plain_http_on_the_wss_port_is_refused_at_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let srv = Srv::start(|c| c.websocket.handshake_timeout_ms = 60_000).await;
    let mut attackers = JoinSet::new();
    for _ in 0..20 {
        let wss = srv.wss();
        attackers.spawn(async move {
            let mut s = connect_tcp(wss, None).await;
            s.write_all(upgrade_request().as_bytes())
                .await
                .expect("send the request");
            let mut got = Vec::new();
            // EOF or a reset: either ends the connection.
            let _ = within("the refusal", WAIT, s.read_to_end(&mut got)).await;
            // Nothing but TLS records (an alert is 0x15) may come back: no HTTP.
            assert!(
                got.is_empty() || got[0] == 0x15,
                "got {:?}",
                String::from_utf8_lossy(&got)
            );
        });
    }
    while let Some(r) = within("an attacker", 2 * WAIT, attackers.join_next()).await {
        r.expect("the attacker task");
    }
    // A WSS client is still served on the same port (blocking rustls client: off the runtime).
    let (wss, ca, domain) = (
        srv.wss(),
        srv.ca_pem.clone().expect("a CA"),
        srv.domain.clone(),
    );
    joined(
        "a WSS user after the attack",
        tokio::task::spawn_blocking(move || wss_register(wss, &ca, &domain)),
    )
    .await;
    srv.wait_idle("after plain text on the WSS port").await;
    srv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// After the handshake: frames
// ---------------------------------------------------------------------------------------------

/// A frame header announcing 2^62 bytes fails with 1009 at the header (RFC 6455 §10.4,
/// 6455-10.4-a), before any payload is read or memory reserved; the same with the largest
/// legal length (2^63 - 1); a length with its most significant bit set fails with 1002
/// (6455-5.2-c). Each attacker streams payload after the header; the server closes anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_10_4_a_frame_header_announcing_2_62_bytes_fails_1009_at_the_header() {
    let _one = ONE_AT_A_TIME.lock().await;
    let srv = Srv::start(|_| {}).await;
    let rss_before = rss_kib();
    for (len, code) in [
        (1u64 << 62, 1009),
        (u64::MAX >> 1, 1009),
        (1u64 << 63, 1002),
    ] {
        let mut a = AsyncWs::connect(srv.ws()).await;
        let mut header = vec![0x82, 0x80 | 127];
        header.extend_from_slice(&len.to_be_bytes());
        header.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
        a.send_raw(&header).await.expect("send the header");
        // Payload after the header: bounded (64 KiB, within what the server drains while
        // closing, so its Close is not destroyed by a reset).
        for _ in 0..4 {
            if a.send_raw(&[0u8; 16 * 1024]).await.is_err() {
                break;
            }
        }
        a.expect_close_then_eof(code).await;
    }
    let during = user_during(&srv, "good-during");
    joined("the user", during).await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.wait_idle("after huge frame headers").await;
    let grown = rss_kib().saturating_sub(rss_before);
    eprintln!("2^62-byte headers: RSS grew by {grown} KiB");
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
    srv.shutdown().await;
}

/// A fragmented message growing past `max_message` (16 KiB here) fails with 1009 once the
/// fragments announced exceed the limit (RFC 6455 §10.4, A15); a Ping between fragments is
/// still answered before that (6455-5.4-b). Other users are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_10_4_a_fragmented_message_growing_past_the_limit_fails_1009() {
    let _one = ONE_AT_A_TIME.lock().await;
    const LIMIT: usize = 16 * 1024;
    const FRAGMENT: usize = 1024;
    let srv = Srv::start(|c| c.websocket.max_message = LIMIT).await;
    let during = user_during(&srv, "good-during");
    let mut a = AsyncWs::connect(srv.ws()).await;
    // 64 fragments of 1 KiB (4× the limit), in one bounded stream of writes.
    let mut bytes = a.frame(false, OpCode::Binary, &[b'x'; FRAGMENT]);
    for i in 1..64 {
        if i == 4 {
            bytes.extend(a.frame(true, OpCode::Ping, b"mid-message"));
        }
        bytes.extend(a.frame(false, OpCode::Continuation, &[b'x'; FRAGMENT]));
    }
    let _ = a.send_raw(&bytes).await;
    assert_eq!(
        a.next().await,
        Seen::Event(Event::Pong(b"mid-message".to_vec())),
        "the Ping between fragments is answered"
    );
    a.expect_close_then_eof(1009).await;
    joined("the user during the attack", during).await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.wait_idle("after the oversized fragmented message")
        .await;
    srv.shutdown().await;
}

/// A flood of 20,000 Pings sent without reading: RFC 6455 §5.5.3 lets the server answer only
/// the latest of the Pings it has read, so it owes one Pong per read instead of queueing one
/// per Ping; the answers carry the last Ping's payload, the connection stays usable, memory
/// stays flat, and other users are served during the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_6455_5_5_3_a_ping_flood_gets_coalesced_pongs_and_the_connection_serves_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    const PINGS: u32 = 20_000;
    const PER_WRITE: u32 = 500;
    let srv = Srv::start(|_| {}).await;
    let rss_before = rss_kib();
    let mut a = AsyncWs::connect(srv.ws()).await;
    let during = user_during(&srv, "good-during");
    let payload = |i: u32| {
        let mut p = vec![b'p'; 100];
        p[..4].copy_from_slice(&i.to_be_bytes());
        p
    };
    for start in (0..PINGS).step_by(PER_WRITE as usize) {
        let mut bytes = Vec::new();
        for i in start..start + PER_WRITE {
            bytes.extend(a.frame(true, OpCode::Ping, &payload(i)));
        }
        a.send_raw(&bytes)
            .await
            .expect("the server keeps reading the flood");
    }
    // Then the connection is used for SIP: the Pongs come first, then the 200.
    let reg = ws_register("flooder", &srv.domain);
    a.send(OpCode::Text, reg.as_bytes()).await.expect("send");
    let (mut pongs, mut last) = (0u32, None);
    loop {
        match a.next().await {
            Seen::Event(Event::Pong(p)) => {
                pongs += 1;
                last = Some(p);
                assert!(pongs <= PINGS, "more Pongs than Pings");
            }
            Seen::Event(Event::Message { payload, .. }) => {
                assert!(payload.starts_with(b"SIP/2.0 200 "), "{payload:?}");
                break;
            }
            other => panic!("during the flood: {other:?}"),
        }
    }
    eprintln!("{PINGS} Pings were answered with {pongs} Pongs");
    assert_eq!(
        last,
        Some(payload(PINGS - 1)),
        "the last Pong answers the last Ping"
    );
    assert!(pongs < PINGS, "Pongs are coalesced (RFC 6455 §5.5.3)");
    joined("the user during the attack", during).await;
    let grown = rss_kib().saturating_sub(rss_before);
    eprintln!("Ping flood: RSS grew by {grown} KiB");
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
    a.close().await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.wait_idle("after the Ping flood").await;
    srv.shutdown().await;
}

/// Random bytes after a valid handshake, 200 connections from a fixed seed: each connection
/// is failed by the server (a Close whose code a server may send, mostly 1002) or, if the
/// bytes happen to leave a frame unfinished, closed when the attacker stops sending; none
/// stays open, nothing is left behind, the server serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_garbage_after_the_handshake_fails_the_connection_and_frees_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    const CONNECTIONS: u64 = 200;
    let srv = Srv::start(|_| {}).await;
    let during = user_during(&srv, "good-during");
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for seed in 0..CONNECTIONS {
        let mut noise = Noise(0x5eed_0000_0000_0001 + seed * 0x9E37_79B9);
        let mut a = AsyncWs::connect(srv.ws()).await;
        let len = 1 + (noise.next() % 2048) as usize;
        let _ = a.send_raw(&noise.bytes(len)).await;
        // The attacker is done sending: half-close, so a server waiting for the rest of a
        // frame sees the end of the stream.
        let _ = a.stream.shutdown().await;
        let outcome = loop {
            match a.next().await {
                Seen::Event(Event::Close { code, .. }) => {
                    let code = code.expect("a Close with a code");
                    assert!(is_sendable_close_code(code), "Close {code}");
                    expect_eof(&mut a.stream, 1024 * 1024).await;
                    break format!("close {code}");
                }
                Seen::Eof => break "end of stream".to_string(),
                // Random bytes may hold a Ping (answered) or a CRLF keep-alive.
                Seen::Event(_) => {}
            }
        };
        *codes.entry(outcome).or_default() += 1;
    }
    eprintln!("garbage after the handshake, outcomes: {codes:?}");
    assert!(
        codes.get("close 1002").copied().unwrap_or(0) > CONNECTIONS as usize / 2,
        "mostly protocol errors: {codes:?}"
    );
    joined("the user during the attack", during).await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.wait_idle("after the garbage").await;
    srv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// A peer that never reads
// ---------------------------------------------------------------------------------------------

/// A registered user stops reading (a 4 KiB receive buffer) while another user sends it
/// 8 KiB MESSAGEs through the proxy. Its send queue (`flow_queue_bytes`, 64 KiB here) fills
/// once the kernel buffers are full; the server then closes the connection and drops its
/// binding (5626-7-d) instead of growing its memory; the sender gets failure answers for what
/// could not be delivered; a third user is served during and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_is_closed_at_its_queue_limit_and_memory_stays_bounded() {
    let _one = ONE_AT_A_TIME.lock().await;
    const QUEUE: usize = 64 * 1024;
    const BODY: usize = 8 * 1024;
    const MAX_MESSAGES: usize = 5000;
    let srv = Srv::start(|c| c.limits.flow_queue_bytes = QUEUE).await;
    let d = srv.domain.clone();
    let mut victim = AsyncWs::upgrade(connect_tcp(srv.ws(), Some(4096)).await).await;
    victim.expect_answer(&ws_register("victim", &d), 200).await;
    let mut sender = AsyncWs::connect(srv.ws()).await;
    sender.expect_answer(&ws_register("sender", &d), 200).await;
    let rss_before = rss_kib();

    // The sender reads its answers in a task of its own, so only the victim stops reading.
    let (stream, mut rx) = sender.into_parts();
    let (mut reader, mut writer) = stream.into_split();
    let answers = Arc::new(std::sync::Mutex::new(Vec::<u16>::new()));
    let seen = answers.clone();
    let reading = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        // Ends when the sender's connection ends, or after a bound.
        let _ = timeout(Duration::from_secs(60), async {
            loop {
                while let Some(ev) = rx.next_event() {
                    if let Event::Message { payload, .. } = ev
                        && let Some(code) = payload
                            .strip_prefix(b"SIP/2.0 ")
                            .and_then(|r| std::str::from_utf8(&r[..3]).ok())
                            .and_then(|c| c.parse().ok())
                    {
                        seen.lock().expect("answers").push(code);
                    }
                }
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => rx.feed(&buf[..n]),
                }
            }
        })
        .await;
    });

    let during = user_during(&srv, "good-during");
    let body = vec![b'm'; BODY];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    let mut closed_after = None;
    let mut mask = Noise(7);
    while sent < MAX_MESSAGES && Instant::now() < deadline {
        let msg = message("sender", "victim", &d, &format!("m{sent}"), &body);
        let key = (mask.next() as u32).to_be_bytes();
        let frame = sipws_reference::ws::frame::encode_frame(true, OpCode::Text, Some(key), &msg);
        within("the sender's write", WAIT, writer.write_all(&frame))
            .await
            .expect("the sender is served");
        sent += 1;
        if sent % 25 == 0 && srv.stats().await.bindings == 1 {
            closed_after = Some(sent);
            break;
        }
    }
    let closed_after = closed_after.unwrap_or_else(|| {
        panic!("the victim was still registered after {sent} messages of {BODY} bytes")
    });
    let rss_peak = rss_kib();
    eprintln!(
        "never-reading peer: closed after {closed_after} MESSAGEs ({} KiB sent to it); \
         RSS {rss_before} -> {rss_peak} KiB",
        closed_after * BODY / 1024
    );
    // The victim's connection is closed by the server: reading now, it finds the end after
    // what the kernel buffered (bounded).
    let buffered = expect_eof(&mut victim.stream, 64 * 1024 * 1024).await;
    eprintln!("never-reading peer: {buffered} bytes were in the kernel's buffers");
    // It was closed for not reading what was written to it, not for a burst the server had
    // not yet started writing (`Push::Busy`): MESSAGEs had gone out to it.
    assert!(buffered > BODY, "only {buffered} bytes reached the victim");
    // Memory: the queue is bounded, so the process did not keep what it could not send.
    let grown = rss_peak.saturating_sub(rss_before);
    assert!(
        grown < 64 * 1024,
        "RSS grew by {grown} KiB for {} KiB sent",
        closed_after * BODY / 1024
    );
    // The sender is answered for MESSAGEs sent after the victim's flow died (480/503).
    for i in 0..3 {
        let msg = message("sender", "victim", &d, &format!("late{i}"), b"late");
        let frame =
            sipws_reference::ws::frame::encode_frame(true, OpCode::Text, Some([9, 9, 9, 9]), &msg);
        within("the sender's write", WAIT, writer.write_all(&frame))
            .await
            .expect("the sender is served");
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let failures = answers
            .lock()
            .expect("answers")
            .iter()
            .filter(|c| **c >= 400)
            .count();
        if failures >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failure answers to the sender"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    joined("the user during the attack", during).await;
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    drop(writer);
    joined("the sender's reader", reading).await;
    drop(victim);
    srv.wait_idle("after the never-reading peer").await;
    srv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The first flight of a TLS 1.3 client: a ClientHello record.
fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).expect("a client");
    let mut out = Vec::new();
    conn.write_tls(&mut out).expect("the ClientHello");
    out
}

/// A WSS user (blocking rustls + tungstenite): connects trusting `ca`, registers, gets 200.
fn wss_register(addr: std::net::SocketAddr, ca: &str, domain: &str) {
    use rustls::pki_types::pem::PemObject;
    use tungstenite::client::IntoClientRequest;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca.as_bytes()).expect("CA PEM"))
        .expect("a trust anchor");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("a name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("a client");
    let tcp = std::net::TcpStream::connect_timeout(&addr, WAIT).expect("connects");
    tcp.set_read_timeout(Some(WAIT)).expect("timeout");
    tcp.set_write_timeout(Some(WAIT)).expect("timeout");
    let tls = rustls::StreamOwned::new(conn, tcp);
    let mut req = format!("wss://{addr}/")
        .into_client_request()
        .expect("a request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("sip"),
    );
    let (mut ws, resp) = tungstenite::client(req, tls).expect("the WSS handshake");
    assert_eq!(resp.status().as_u16(), 101);
    ws.send(tungstenite::Message::text(ws_register("good-wss", domain)))
        .expect("send");
    loop {
        match ws.read().expect("an answer") {
            tungstenite::Message::Text(t) => {
                assert!(t.as_str().starts_with("SIP/2.0 200 "), "{t}");
                break;
            }
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            other => panic!("expected the 200, got {other:?}"),
        }
    }
    let _ = ws.close(None);
    // Read to the end of the closing handshake (bounded by the read timeout).
    while ws.read().is_ok() {}
}
