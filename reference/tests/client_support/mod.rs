//! Shared helpers of the `client_*` integration tests: a scriptable WebSocket server
//! harness written with tokio (TcpListener, tokio-rustls with certificates made by rcgen),
//! a frame reader that keeps each frame's masking key, a small UDP SIP phone, and client
//! options with short timeouts. Every wait is bounded.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sipws_reference::net::client::Client;
use sipws_reference::net::client::{ClientEvent, ClientOptions, Reconnect, Timeouts};
use sipws_reference::sip::Message;
use sipws_reference::ua::UaEvent;
use sipws_reference::ws::codec::{MessageKind, encode_message};
use sipws_reference::ws::frame::{FrameHeader, apply_mask, decode_header};
use sipws_reference::ws::handshake::{Policy, ServerStep, accept_bytes, accept_key_for};
use sipws_reference::ws::{OpCode, RequestHead};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

/// The bound on every single wait.
pub const WAIT: Duration = Duration::from_secs(5);

/// Client options for `user@127.0.0.1` on `url`, with short timeouts so a failing test ends
/// quickly.
pub fn options(url: &str, user: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url, &format!("sip:{user}@127.0.0.1")).expect("valid options");
    o.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        handshake: Duration::from_secs(3),
        write: Duration::from_secs(2),
        close: Duration::from_millis(500),
        request: Duration::from_secs(8),
    };
    o.reconnect = Reconnect {
        enabled: true,
        scale: 0.01,
    };
    o
}

/// Waits (bounded) for the first event `pick` accepts; other events are skipped.
pub async fn wait_for<T>(
    client: &Client,
    what: &str,
    mut pick: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_event(left).await {
            Some(ev) => {
                if let Some(t) = pick(&ev) {
                    return t;
                }
            }
            None => panic!("{}: no {what} within {WAIT:?}", client.aor()),
        }
    }
}

/// Waits for a UA event `pick` accepts.
pub async fn wait_ua<T>(
    client: &Client,
    what: &str,
    mut pick: impl FnMut(&UaEvent) -> Option<T>,
) -> T {
    wait_for(client, what, |ev| match ev {
        ClientEvent::Ua(u) => pick(u),
        _ => None,
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Harness server
// ---------------------------------------------------------------------------------------------

/// Reads an HTTP head (up to the blank line), bounded by [`WAIT`]; `None` at EOF first.
pub async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match timeout(WAIT, s.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            Ok(_) => return None,
            Err(_) => panic!("no complete HTTP head within {WAIT:?}: {head:?}"),
        }
        assert!(head.len() < 16 * 1024, "HTTP head too long");
    }
    Some(head)
}

/// The request head parsed.
pub fn parse_request(head: &[u8]) -> RequestHead {
    RequestHead::parse(head).expect("the client's request is valid HTTP")
}

/// The reference server's 101 for `request` (`sip` selected).
pub fn accept_101(request: &[u8]) -> Vec<u8> {
    match accept_bytes(request, &Policy::default()) {
        ServerStep::Accept { accepted, .. } => accepted.to_bytes(),
        other => panic!("the client's handshake is refused: {other:?}"),
    }
}

/// The `Sec-WebSocket-Key` of a request.
pub fn request_key(request: &[u8]) -> String {
    let head = parse_request(request);
    let key = head
        .headers()
        .get("Sec-WebSocket-Key")
        .and_then(|h| h.value_str())
        .expect("a key");
    key.to_string()
}

/// A hand-written 101: `protocol` as the selected subprotocol (`None`: no header) and the
/// accept value for `key` unless `accept` overrides it.
pub fn custom_101(key: &str, protocol: Option<&str>, accept: Option<&str>) -> Vec<u8> {
    let accept = accept
        .map(str::to_string)
        .unwrap_or_else(|| accept_key_for(key.as_bytes()));
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if let Some(p) = protocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// One frame as the harness read it, the masking key kept.
#[derive(Debug, Clone)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: Vec<u8>,
}

/// Reads client frames (bounded by [`WAIT`] per frame), remembering partial input.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    /// The next frame, or `None` at EOF.
    pub async fn next<S: AsyncRead + Unpin>(&mut self, s: &mut S) -> Option<Frame> {
        self.next_within(s, WAIT)
            .await
            .unwrap_or_else(|| panic!("no frame within {WAIT:?}"))
    }

    /// `Some(None)` at EOF, `Some(frame)`, or `None` when nothing came within `wait`.
    pub async fn next_within<S: AsyncRead + Unpin>(
        &mut self,
        s: &mut S,
        wait: Duration,
    ) -> Option<Option<Frame>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some((header, n)) = decode_header(&self.buf).expect("a valid frame header") {
                let len = usize::try_from(header.payload_len).expect("small frames");
                if self.buf.len() >= n + len {
                    let mut payload = self.buf[n..n + len].to_vec();
                    if let Some(key) = header.mask {
                        apply_mask(&mut payload, key);
                    }
                    self.buf.drain(..n + len);
                    return Some(Some(Frame { header, payload }));
                }
            }
            let mut chunk = [0u8; 4096];
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, s.read(&mut chunk)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => return Some(None),
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next data frame's SIP message (Ping/Pong skipped); panics on anything else.
    pub async fn next_sip<S: AsyncRead + Unpin>(&mut self, s: &mut S) -> (Message, Frame) {
        loop {
            let f = self.next(s).await.expect("a frame, not EOF");
            match f.header.opcode {
                OpCode::Text | OpCode::Binary => {
                    let m = Message::parse(&f.payload).expect("one SIP message per frame");
                    return (m, f);
                }
                OpCode::Ping | OpCode::Pong => {}
                other => panic!("expected a SIP message, got {other:?}"),
            }
        }
    }
}

/// Writes one unmasked server frame holding `msg`.
pub async fn send_sip<S: AsyncWrite + Unpin>(s: &mut S, msg: &Message) {
    let bytes = msg.to_bytes();
    let kind = sipws_reference::ws::sip_message_kind(&bytes);
    s.write_all(&encode_message(kind, &bytes, None))
        .await
        .expect("harness write");
}

/// A TCP listener on 127.0.0.1 whose accept loop runs on its own task and stamps each
/// connection with the moment it was accepted.
pub struct Listener {
    pub addr: SocketAddr,
    conns: tokio::sync::mpsc::Receiver<(TcpStream, Instant)>,
}

impl Listener {
    pub async fn bind() -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                if tx.send((s, Instant::now())).await.is_err() {
                    break;
                }
            }
        });
        Listener { addr, conns: rx }
    }

    /// The next accepted connection and when it was accepted (bounded by [`WAIT`]).
    pub async fn accept(&mut self) -> (TcpStream, Instant) {
        timeout(WAIT, self.conns.recv())
            .await
            .expect("a connection within the wait")
            .expect("the accept loop runs")
    }

    /// A connection accepted within `wait`, if any.
    pub async fn accept_within(&mut self, wait: Duration) -> Option<(TcpStream, Instant)> {
        timeout(wait, self.conns.recv()).await.ok().flatten()
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/// A CA and a server certificate it signs for `names`.
pub struct Pki {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

pub fn pki(names: &[&str]) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    static CAS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    // A distinct name per CA, so a foreign CA is an unknown issuer, not a bad signature.
    let n = CAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("client test CA {n}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        leaf_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .expect("server config");
    Pki {
        ca_pem: ca.pem(),
        server_config: Arc::new(config),
    }
}

/// A stream that records every byte read from it (what travelled on the wire, before TLS).
pub struct Recording<S> {
    pub inner: S,
    pub seen: Arc<Mutex<Vec<u8>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let new = buf.filled()[before..].to_vec();
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(&new);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// Small SIP helpers
// ---------------------------------------------------------------------------------------------

/// A 200 (or `code`) to `req`, as a harness server answers it.
pub fn reply(req: &Message, code: u16) -> Message {
    sipws_reference::sip::response::response(req, code, "harness-tag", Vec::new())
}

/// Is this event a `MessageKind::Binary`? (for readable assertions)
pub fn is_binary(kind: MessageKind) -> bool {
    kind == MessageKind::Binary
}
