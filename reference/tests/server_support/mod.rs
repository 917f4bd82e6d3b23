//! Shared helpers of the `server_*` integration tests: a reference server on OS-chosen
//! loopback ports in its own runtime, blocking clients (tungstenite for well-formed
//! WebSocket, raw frames for what tungstenite refuses to send, UDP, TCP), and SIP message
//! builders. Every read has a timeout, so no test can hang.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use sipws_reference::net::{Server, ServerAddrs, ServerConfig, ServerHandle};
use sipws_reference::sip::Message;
use sipws_reference::sip::response::response;
use sipws_reference::ws::OpCode;
use sipws_reference::ws::codec::{Event, Limits, Receiver, Role};
use sipws_reference::ws::frame::encode_frame;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocket;

/// The bound on every single wait.
pub const WAIT: Duration = Duration::from_secs(5);

/// A running reference server and the runtime it runs on.
pub struct TestServer {
    rt: tokio::runtime::Runtime,
    handle: Option<ServerHandle>,
    pub addrs: ServerAddrs,
    pub ca_pem: Option<String>,
    pub domain: String,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::with(|_| {})
    }

    /// A server on `127.0.0.1:0` for every listener, with `edit` applied to its config.
    pub fn with(edit: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let mut config = ServerConfig::loopback_ephemeral();
        edit(&mut config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (handle, addrs, ca_pem, domain) = rt.block_on(async {
            let server = Server::bind(config).await.expect("the server binds");
            let addrs = server.addrs();
            let ca = server.ca_pem().map(str::to_owned);
            let domain = server.domains()[0].clone();
            (server.spawn(), addrs, ca, domain)
        });
        TestServer {
            rt,
            handle: Some(handle),
            addrs,
            ca_pem,
            domain,
        }
    }

    pub fn ws(&self) -> SocketAddr {
        self.addrs.ws.expect("ws listener")
    }

    pub fn stats(&self) -> sipws_reference::net::Stats {
        let h = self.handle.as_ref().expect("running");
        self.rt
            .block_on(async { tokio::time::timeout(WAIT, h.stats()).await })
            .expect("stats answer in time")
    }

    pub fn binding_count(&self) -> usize {
        let h = self.handle.as_ref().expect("running");
        self.rt
            .block_on(async { tokio::time::timeout(WAIT, h.binding_count()).await })
            .expect("binding count answers in time")
    }

    /// Polls `binding_count` until it equals `n` (bounded).
    pub fn wait_bindings(&self, n: usize) {
        let deadline = std::time::Instant::now() + WAIT;
        while self.binding_count() != n {
            assert!(
                std::time::Instant::now() < deadline,
                "binding count stayed {} (wanted {n})",
                self.binding_count()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server and waits for all its tasks (bounded).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt
                .block_on(async { tokio::time::timeout(WAIT, h.shutdown()).await })
                .expect("shutdown completes in time");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(WAIT, h.shutdown()).await });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket clients
// ---------------------------------------------------------------------------------------------

/// A plain or TLS stream for tungstenite.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, WAIT).expect("connects");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.set_write_timeout(Some(WAIT)).expect("timeout");
    s
}

/// A TLS client stream trusting only `ca_pem`, for server name `name`.
pub fn tls_stream(
    addr: SocketAddr,
    ca_pem: &str,
    name: &str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM");
    roots.add(ca).expect("CA is a trust anchor");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let server_name = rustls::pki_types::ServerName::try_from(name.to_string()).expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), server_name).expect("client");
    rustls::StreamOwned::new(conn, tcp(addr))
}

/// A WebSocket client that offered `sip` and got it.
pub struct WsClient {
    pub ws: WebSocket<Stream>,
}

impl WsClient {
    pub fn connect(addr: SocketAddr) -> WsClient {
        WsClient::over(Stream::Plain(tcp(addr)), &format!("ws://{addr}/"))
    }

    pub fn connect_wss(addr: SocketAddr, ca_pem: &str) -> WsClient {
        let s = tls_stream(addr, ca_pem, "127.0.0.1");
        WsClient::over(Stream::Tls(Box::new(s)), &format!("wss://{addr}/"))
    }

    fn over(stream: Stream, url: &str) -> WsClient {
        use tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().expect("request");
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        let (ws, resp) = tungstenite::client(req, stream).expect("handshake succeeds");
        assert_eq!(resp.status().as_u16(), 101);
        assert_eq!(
            resp.headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok()),
            Some("sip"),
            "7118-4.1-b: the 101 names sip"
        );
        WsClient { ws }
    }

    pub fn send_text(&mut self, text: &str) {
        self.ws
            .send(tungstenite::Message::text(text))
            .expect("send text");
    }

    pub fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(tungstenite::Message::binary(bytes.to_vec()))
            .expect("send binary");
    }

    /// The next message (Ping/Pong included), or the error that ended the wait.
    pub fn recv(&mut self) -> Result<tungstenite::Message, tungstenite::Error> {
        self.ws.read()
    }

    /// The next SIP message and whether it came in a binary frame; panics after [`WAIT`].
    pub fn recv_sip(&mut self) -> (Message, bool) {
        loop {
            match self.recv().expect("a message before the timeout") {
                tungstenite::Message::Text(t) => {
                    return (
                        Message::parse(t.as_bytes()).expect("one SIP message"),
                        false,
                    );
                }
                tungstenite::Message::Binary(b) => {
                    return (Message::parse(&b).expect("one SIP message"), true);
                }
                tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
                other => panic!("expected a SIP message, got {other:?}"),
            }
        }
    }

    /// The next SIP message, which must be a response with `code`.
    pub fn expect_status(&mut self, code: u16) -> Message {
        let (m, _) = self.recv_sip();
        assert_eq!(
            m.status_line().map(|s| s.code),
            Some(code),
            "expected {code}, got:\n{}",
            String::from_utf8_lossy(&m.to_bytes())
        );
        m
    }

    /// Answers `req` with `code` (RFC 3261 §8.2.6).
    pub fn answer(&mut self, req: &Message, code: u16) {
        let resp = response(req, code, "uas-tag", Vec::new());
        self.send_text(&String::from_utf8(resp.to_bytes()).expect("UTF-8"));
    }

    /// Closes with the WebSocket closing handshake: send Close, read until the server's
    /// Close and the end of the connection.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        loop {
            match self.ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(tungstenite::Error::AlreadyClosed) => break,
                Err(e) => panic!("closing: {e}"),
            }
        }
    }
}

/// A client speaking raw bytes: a hand-built upgrade, then frames as given.
pub struct RawWs {
    pub stream: TcpStream,
    rx: Receiver,
}

/// What [`RawWs::next`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Event(Event),
    /// The server closed TCP.
    Eof,
}

pub fn upgrade_request(protocol: Option<&str>) -> String {
    let mut r = String::from(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    if let Some(p) = protocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// Reads an HTTP response head (up to the blank line) from `s`.
pub fn read_http_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => break,
            Err(e) => panic!("reading the HTTP answer: {e}"),
        }
        assert!(head.len() < 8192, "HTTP head too long");
    }
    String::from_utf8(head).expect("HTTP head is text")
}

impl RawWs {
    pub fn connect(addr: SocketAddr) -> RawWs {
        let mut stream = tcp(addr);
        stream
            .write_all(upgrade_request(Some("sip")).as_bytes())
            .expect("send upgrade");
        let head = read_http_head(&mut stream);
        assert!(head.starts_with("HTTP/1.1 101 "), "upgrade refused: {head}");
        RawWs {
            stream,
            rx: Receiver::new(Role::Client, Limits::default()),
        }
    }

    /// Sends one frame; `mask` None sends it unmasked (a violation from a client).
    pub fn send_frame(&mut self, fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) {
        self.stream
            .write_all(&encode_frame(fin, opcode, mask, payload))
            .expect("send frame");
    }

    /// Sends one masked frame.
    pub fn send(&mut self, opcode: OpCode, payload: &[u8]) {
        self.send_frame(true, opcode, Some([0x12, 0x34, 0x56, 0x78]), payload);
    }

    /// The next frame event from the server (read as a client would: frames must be
    /// unmasked), or EOF; panics after [`WAIT`].
    pub fn next(&mut self) -> Seen {
        loop {
            if let Some(ev) = self.rx.next_event() {
                return Seen::Event(ev);
            }
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => return Seen::Eof,
                Ok(n) => self.rx.feed(&buf[..n]),
                Err(e) => panic!("reading a frame: {e}"),
            }
        }
    }

    /// Asserts the server sends a Close with `code` and then closes TCP.
    pub fn expect_close_then_eof(&mut self, code: u16) {
        match self.next() {
            Seen::Event(Event::Close { code: Some(c), .. }) => assert_eq!(c, code),
            other => panic!("expected Close {code}, got {other:?}"),
        }
        let mut buf = [0u8; 256];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Ok(_) => panic!("data after the server's Close"),
            Err(e) => panic!("the server did not close TCP with a FIN: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// UDP and TCP SIP clients
// ---------------------------------------------------------------------------------------------

pub struct UdpClient {
    pub socket: UdpSocket,
    server: SocketAddr,
}

impl UdpClient {
    pub fn new(server: SocketAddr) -> UdpClient {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        socket.set_read_timeout(Some(WAIT)).expect("timeout");
        UdpClient { socket, server }
    }

    pub fn port(&self) -> u16 {
        self.socket.local_addr().expect("addr").port()
    }

    pub fn send(&self, msg: &[u8]) {
        self.socket
            .send_to(msg, self.server)
            .expect("send datagram");
    }

    pub fn recv(&self) -> Message {
        let mut buf = vec![0u8; 65535];
        let (n, _) = self.socket.recv_from(&mut buf).expect("a datagram in time");
        Message::parse_datagram(&buf[..n]).expect("a SIP datagram")
    }

    pub fn expect_status(&self, code: u16) -> Message {
        let m = self.recv();
        assert_eq!(m.status_line().map(|s| s.code), Some(code), "{m:?}");
        m
    }
}

/// Reads one Content-Length-framed SIP message from a stream (bounded by [`WAIT`]).
pub fn read_stream_message(s: &mut TcpStream, buf: &mut Vec<u8>) -> Message {
    loop {
        if !buf.is_empty()
            && let Some((m, used)) = Message::parse_stream(buf).expect("valid SIP on the stream")
        {
            buf.drain(..used);
            return m;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).expect("SIP message in time");
        assert!(n > 0, "stream closed before a full message");
        buf.extend_from_slice(&chunk[..n]);
    }
}

pub fn tcp_connect(addr: SocketAddr) -> TcpStream {
    tcp(addr)
}

// ---------------------------------------------------------------------------------------------
// SIP builders
// ---------------------------------------------------------------------------------------------

/// A REGISTER for `user@domain` with the given Contact header value and extra header lines.
pub fn register(
    user: &str,
    domain: &str,
    via: &str,
    contact: &str,
    call_id: &str,
    extra: &str,
) -> String {
    format!(
        "REGISTER sip:{domain} SIP/2.0\r\n\
Via: SIP/2.0/{via};branch=z9hG4bK-{call_id}\r\n\
Max-Forwards: 70\r\n\
To: <sip:{user}@{domain}>\r\n\
From: <sip:{user}@{domain}>;tag=t-{call_id}\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 REGISTER\r\n\
Contact: {contact}\r\n\
{extra}Content-Length: 0\r\n\r\n"
    )
}

/// A plain (non-Outbound) REGISTER over WebSocket, as a browser UA sends it.
pub fn ws_register(user: &str, domain: &str) -> String {
    register(
        user,
        domain,
        &format!("WS {user}.invalid"),
        &format!("<sip:{user}@{user}.invalid;transport=ws>"),
        &format!("reg-{user}"),
        "",
    )
}

/// An Outbound REGISTER (RFC 5626 §4.2.1; RFC 7118 §8.1 F1).
pub fn outbound_register(user: &str, domain: &str, via: &str) -> String {
    register(
        user,
        domain,
        &format!("{via} {user}.invalid"),
        &format!(
            "<sip:{user}@{user}.invalid;transport=ws>;reg-id=1;\
             +sip.instance=\"<urn:uuid:00000000-0000-4000-8000-00000000{:04x}>\"",
            user.len()
        ),
        &format!("ob-{user}"),
        "Supported: path, outbound, gruu\r\n",
    )
}

/// A MESSAGE with `body` (bytes), from `from@domain` to `to_uri`.
pub fn message(
    from: &str,
    domain: &str,
    to_uri: &str,
    via: &str,
    call_id: &str,
    body: &[u8],
) -> Vec<u8> {
    message_with_method("MESSAGE", from, domain, to_uri, via, call_id, body)
}

pub fn message_with_method(
    method: &str,
    from: &str,
    domain: &str,
    to_uri: &str,
    via: &str,
    call_id: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut m = format!(
        "{method} {to_uri} SIP/2.0\r\n\
Via: SIP/2.0/{via};branch=z9hG4bK-{call_id}\r\n\
Max-Forwards: 70\r\n\
To: <{to_uri}>\r\n\
From: <sip:{from}@{domain}>;tag=f-{call_id}\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 {method}\r\n\
Contact: <sip:{from}@{from}.invalid;transport=ws>\r\n\
Content-Type: application/octet-stream\r\n\
Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}
