//! Async helpers of the hostile-peer tests (`hostile.rs`, `hostile_memory.rs`): the reference
//! server on the test's own tokio runtime, a raw WebSocket client on a tokio socket, and the
//! process's resident memory. Every network wait goes through [`within`], so no test can hang.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sipws_reference::net::{Server, ServerAddrs, ServerConfig, ServerHandle, Stats};
use sipws_reference::ws::OpCode;
use sipws_reference::ws::codec::{Event, Limits, Receiver, Role};
use sipws_reference::ws::frame::encode_frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

/// The bound on every single wait.
pub const WAIT: Duration = Duration::from_secs(5);

/// `fut`'s output, or a panic naming `what` after `limit`.
pub async fn within<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    match timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {limit:?}"),
    }
}

/// A running reference server on this runtime.
pub struct Srv {
    handle: Option<ServerHandle>,
    pub addrs: ServerAddrs,
    pub domain: String,
    pub ca_pem: Option<String>,
}

impl Srv {
    /// Every listener on `127.0.0.1:0`, with `edit` applied to the configuration.
    pub async fn start(edit: impl FnOnce(&mut ServerConfig)) -> Srv {
        let mut config = ServerConfig::loopback_ephemeral();
        edit(&mut config);
        let server = Server::bind(config).await.expect("the server binds");
        let addrs = server.addrs();
        let domain = server.domains()[0].clone();
        let ca_pem = server.ca_pem().map(str::to_owned);
        Srv {
            handle: Some(server.spawn()),
            addrs,
            domain,
            ca_pem,
        }
    }

    pub fn ws(&self) -> SocketAddr {
        self.addrs.ws.expect("ws listener")
    }

    pub fn wss(&self) -> SocketAddr {
        self.addrs.wss.expect("wss listener")
    }

    pub async fn stats(&self) -> Stats {
        let h = self.handle.as_ref().expect("running");
        within("server stats", WAIT, h.stats()).await
    }

    /// Polls the stats until `done` holds (bounded by `limit`); returns them.
    pub async fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Stats) -> bool,
    ) -> Stats {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.stats().await;
            if done(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "{what}: stats stayed {s:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// No connection, flow or binding left: what every attack must come back to once its
    /// connections are gone.
    pub async fn wait_idle(&self, what: &str) -> Stats {
        self.wait_for(what, WAIT, |s| {
            s.sockets == 0 && s.connections == 0 && s.bindings == 0 && s.flows == s.udp_peers
        })
        .await
    }

    /// Stops the server and waits for every task (bounded).
    pub async fn shutdown(mut self) {
        if let Some(h) = self.handle.take() {
            within("server shutdown", WAIT, h.shutdown()).await;
        }
    }
}

/// The process's resident set size in KiB (`VmRSS` in `/proc/self/status`; 0 where there is
/// no procfs).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The soft limit on open files (`/proc/self/limits`), if known.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A TCP connection to `addr` (bounded), optionally with a small receive buffer.
pub async fn connect_tcp(addr: SocketAddr, recv_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
    }
    let s = within("TCP connect", WAIT, socket.connect(addr))
        .await
        .expect("connects");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// What [`AsyncWs::next`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Event(Event),
    /// The server closed TCP (a reset counts: the connection is gone either way).
    Eof,
}

pub fn upgrade_request() -> &'static str {
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
     Sec-WebSocket-Protocol: sip\r\n\r\n"
}

/// A WebSocket client speaking raw frames on a tokio socket, reading as a client does
/// (server frames must be unmasked).
pub struct AsyncWs {
    pub stream: TcpStream,
    rx: Receiver,
    next_mask: u32,
}

impl AsyncWs {
    pub async fn connect(addr: SocketAddr) -> AsyncWs {
        AsyncWs::upgrade(connect_tcp(addr, None).await).await
    }

    /// The opening handshake on `stream`; panics unless the answer is 101.
    pub async fn upgrade(mut stream: TcpStream) -> AsyncWs {
        within(
            "send the upgrade",
            WAIT,
            stream.write_all(upgrade_request().as_bytes()),
        )
        .await
        .expect("send the upgrade");
        let mut head = Vec::new();
        let mut rx = Receiver::new(Role::Client, Limits::default());
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut buf = [0u8; 1024];
            let n = within("the 101", WAIT, stream.read(&mut buf))
                .await
                .expect("read the 101");
            assert!(n > 0, "closed during the handshake: {head:?}");
            head.extend_from_slice(&buf[..n]);
            assert!(head.len() < 16 * 1024, "HTTP head too long");
        }
        let end = head
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("found above")
            + 4;
        assert!(
            head.starts_with(b"HTTP/1.1 101 "),
            "upgrade refused: {}",
            String::from_utf8_lossy(&head)
        );
        rx.feed(&head[end..]);
        AsyncWs {
            stream,
            rx,
            next_mask: 0x1234_5678,
        }
    }

    /// A fresh masking key per frame (RFC 6455 §5.3; not random: the server must not care).
    fn mask(&mut self) -> [u8; 4] {
        self.next_mask = self.next_mask.wrapping_mul(2_654_435_761).wrapping_add(1);
        self.next_mask.to_be_bytes()
    }

    /// Writes `bytes` (bounded); `Err` when the server has closed.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match timeout(WAIT, self.stream.write_all(bytes)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the server does not read",
            )),
        }
    }

    /// One masked frame.
    pub fn frame(&mut self, fin: bool, op: OpCode, payload: &[u8]) -> Vec<u8> {
        let mask = self.mask();
        encode_frame(fin, op, Some(mask), payload)
    }

    pub async fn send(&mut self, op: OpCode, payload: &[u8]) -> std::io::Result<()> {
        let f = self.frame(true, op, payload);
        self.send_raw(&f).await
    }

    /// The next event from the server, or EOF; panics after [`WAIT`].
    pub async fn next(&mut self) -> Seen {
        within("a frame from the server", WAIT, self.next_unbounded()).await
    }

    async fn next_unbounded(&mut self) -> Seen {
        loop {
            if let Some(ev) = self.rx.next_event() {
                return Seen::Event(ev);
            }
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Seen::Eof,
                Ok(n) => self.rx.feed(&buf[..n]),
            }
        }
    }

    /// The next SIP message from the server (Pings and Pongs skipped); panics on anything
    /// else or after [`WAIT`].
    pub async fn next_sip(&mut self) -> Vec<u8> {
        loop {
            match self.next().await {
                Seen::Event(Event::Message { payload, .. }) => return payload,
                Seen::Event(Event::Ping(_) | Event::Pong(_)) => {}
                other => panic!("expected a SIP message, got {other:?}"),
            }
        }
    }

    /// Sends `msg` and expects a response with `code` as the next SIP message.
    pub async fn expect_answer(&mut self, msg: &str, code: u16) {
        self.send(OpCode::Text, msg.as_bytes())
            .await
            .expect("send a SIP message");
        let answer = self.next_sip().await;
        let want = format!("SIP/2.0 {code} ");
        assert!(
            answer.starts_with(want.as_bytes()),
            "expected {code}, got:\n{}",
            String::from_utf8_lossy(&answer)
        );
    }

    /// Reads until the server's Close, asserts its code, then reads to the end of the
    /// connection (bounded).
    pub async fn expect_close_then_eof(&mut self, code: u16) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next().await {
                Seen::Event(Event::Close { code: Some(c), .. }) => {
                    assert_eq!(c, code, "Close code");
                    break;
                }
                Seen::Event(Event::Message { .. } | Event::Ping(_) | Event::Pong(_)) => {
                    assert!(Instant::now() < deadline, "no Close within {WAIT:?}");
                }
                other => panic!("expected Close {code}, got {other:?}"),
            }
        }
        expect_eof(&mut self.stream, 1024 * 1024).await;
    }

    /// The socket and the receiver (holding what was read past the last event), to read and
    /// write from two tasks.
    pub fn into_parts(self) -> (TcpStream, Receiver) {
        (self.stream, self.rx)
    }

    /// Closes with the closing handshake (bounded): Close 1000 out, reads to the end.
    pub async fn close(mut self) {
        let f = self.frame(true, OpCode::Close, &1000u16.to_be_bytes());
        let _ = self.send_raw(&f).await;
        let _ = self.stream.shutdown().await;
        expect_eof(&mut self.stream, 1024 * 1024).await;
    }
}

/// Reads and discards until the peer ends the connection (EOF or reset), at most `max`
/// bytes and [`WAIT`]; returns the bytes read.
pub async fn expect_eof(stream: &mut TcpStream, max: usize) -> usize {
    within("the end of the connection", WAIT, async {
        let mut total = 0;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
            assert!(total <= max, "more than {max} bytes and still open");
        }
    })
    .await
}

/// A well-behaved SIP over WebSocket user: connects, registers `user` and gets 200, then
/// closes; what every attack test runs during and after the attack.
pub async fn well_behaved_user(ws: SocketAddr, user: &str, domain: &str) {
    let mut c = AsyncWs::connect(ws).await;
    c.expect_answer(&ws_register(user, domain), 200).await;
    // The connection is served on: a keep-alive (A7) is answered.
    c.send(OpCode::Text, b"\r\n\r\n").await.expect("send");
    assert_eq!(c.next_sip().await, b"\r\n");
    c.close().await;
}

/// A plain (non-Outbound) REGISTER over WebSocket.
pub fn ws_register(user: &str, domain: &str) -> String {
    register_cseq(user, domain, &format!("reg-{user}"), 1)
}

/// A REGISTER for `user@domain` with its own Call-ID and CSeq.
pub fn register_cseq(user: &str, domain: &str, call_id: &str, cseq: u32) -> String {
    format!(
        "REGISTER sip:{domain} SIP/2.0\r\n\
Via: SIP/2.0/WS {user}.invalid;branch=z9hG4bK-{call_id}-{cseq}\r\n\
Max-Forwards: 70\r\n\
To: <sip:{user}@{domain}>\r\n\
From: <sip:{user}@{domain}>;tag=t-{call_id}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} REGISTER\r\n\
Contact: <sip:{user}@{user}.invalid;transport=ws>\r\n\
Content-Length: 0\r\n\r\n"
    )
}

/// A MESSAGE from `from` to `sip:to@domain` with `body`.
pub fn message(from: &str, to: &str, domain: &str, call_id: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "MESSAGE sip:{to}@{domain} SIP/2.0\r\n\
Via: SIP/2.0/WS {from}.invalid;branch=z9hG4bK-{call_id}\r\n\
Max-Forwards: 70\r\n\
To: <sip:{to}@{domain}>\r\n\
From: <sip:{from}@{domain}>;tag=f-{call_id}\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\n\
Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
pub struct Noise(pub u64);

impl Noise {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}
