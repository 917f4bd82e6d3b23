//! Opening one connection (RFC 6455 §4.1): resolve, wait for our turn at the address
//! ([`super::gate`], row 6455-4.1-c), TCP, TLS for `wss://` (SNI = the URL host; a certificate
//! failure ends the attempt before any HTTP byte, row 6455-4.1-d), the opening handshake
//! offering `sip` ([`ClientRequest`]), then nothing more is written until the answer has
//! been read and validated ([`validate_response`]: a 101 with `Upgrade`, `Connection`, the
//! right `Sec-WebSocket-Accept`, and `sip` selected — rows 6455-4.1-e, 4.1-f, 4.1-g).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ring::rand::SystemRandom;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::ClientError;
use super::gate;
use super::tls::server_name;
use crate::ws::handshake::{ClientRequest, validate_response};
use crate::ws::http::{Parsed, parse_response};
use crate::ws::url::WsUrl;

/// A byte stream the client runs on: plain TCP or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Time limits of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One TCP connect.
    pub connect: Duration,
    /// TLS (for wss) and the HTTP upgrade together, until the 101 is validated.
    pub handshake: Duration,
    /// One write to the server; a server that does not read is given up on after it.
    pub write: Duration,
    /// After our Close frame (or the server's), how long we wait for the server's Close and
    /// for it to close TCP (RFC 6455 §7.1.1: the server closes first).
    pub close: Duration,
    /// How long an API call waits for its outcome. Above 64·T1 (32 s), so a SIP transaction
    /// always ends first (Timer B/F, RFC 3261 §17.1).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            handshake: Duration::from_secs(10),
            write: Duration::from_secs(10),
            close: Duration::from_secs(2),
            request: Duration::from_secs(40),
        }
    }
}

/// What an attempt needs; shared by every attempt of one client.
#[derive(Debug)]
pub(crate) struct Params {
    pub url: WsUrl,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub origin: Option<String>,
    pub connect_to: Option<SocketAddr>,
    pub timeouts: Timeouts,
}

/// An open WebSocket connection, right after a validated 101.
pub(crate) struct Opened {
    pub stream: Box<dyn Io>,
    /// Bytes that followed the 101 in the same read: the first frames.
    pub leftover: Vec<u8>,
    pub peer: SocketAddr,
}

fn url_text(p: &Params) -> String {
    p.url.to_string()
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// The addresses to try: `connect_to` when given, the URL's IP literal, else a lookup.
async fn addresses(p: &Params) -> Result<Vec<SocketAddr>, ClientError> {
    if let Some(a) = p.connect_to {
        return Ok(vec![a]);
    }
    if let Some(ip) = p.url.ip() {
        return Ok(vec![SocketAddr::new(ip, p.url.port)]);
    }
    let resolve_error = |detail: String| ClientError::Resolve {
        url: url_text(p),
        host: p.url.host.clone(),
        detail,
    };
    let found = tokio::time::timeout(
        p.timeouts.connect,
        tokio::net::lookup_host((p.url.host.as_str(), p.url.port)),
    )
    .await
    .map_err(|_| resolve_error(format!("no answer within {} ms", ms(p.timeouts.connect))))?
    .map_err(|e| resolve_error(e.to_string()))?;
    let list: Vec<SocketAddr> = found.collect();
    if list.is_empty() {
        return Err(resolve_error("no address".to_string()));
    }
    Ok(list)
}

/// Opens a connection to the URL: the first address that accepts TCP is used; a failure
/// after that (TLS, handshake) ends the attempt.
pub(crate) async fn open(p: &Params, rng: &SystemRandom) -> Result<Opened, ClientError> {
    let mut last = None;
    for addr in addresses(p).await? {
        // Row 6455-4.1-c: at most one CONNECTING attempt per address in this process; the
        // guard is held until the 101 is validated or the attempt failed.
        let _connecting = gate::connecting(addr).await;
        let tcp = match tokio::time::timeout(p.timeouts.connect, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                last = Some(ClientError::Connect {
                    url: url_text(p),
                    addr,
                    detail: e.to_string(),
                });
                continue;
            }
            Err(_) => {
                last = Some(ClientError::Timeout {
                    url: url_text(p),
                    what: "the TCP connect",
                    ms: ms(p.timeouts.connect),
                });
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        return match tokio::time::timeout(p.timeouts.handshake, upgrade(p, tcp, addr, rng)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                url: url_text(p),
                what: "the TLS and WebSocket handshake",
                ms: ms(p.timeouts.handshake),
            }),
        };
    }
    Err(last.unwrap_or_else(|| ClientError::Resolve {
        url: url_text(p),
        host: p.url.host.clone(),
        detail: "no address".to_string(),
    }))
}

/// TLS (wss) then the HTTP upgrade on a connected socket.
async fn upgrade(
    p: &Params,
    tcp: TcpStream,
    addr: SocketAddr,
    rng: &SystemRandom,
) -> Result<Opened, ClientError> {
    let stream: Box<dyn Io> = match &p.tls {
        Some(config) => {
            // RFC 6455 §4.1 step 5: TLS first, SNI = the host; any failure (a certificate
            // that does not chain to what we trust or names another host) fails the
            // connection before a single HTTP byte.
            let name = server_name(&p.url.host)?;
            let tls = TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| ClientError::Tls {
                    url: url_text(p),
                    addr,
                    detail: e.to_string(),
                })?;
            Box::new(tls)
        }
        None => Box::new(tcp),
    };
    http_upgrade(p, stream, addr, rng).await
}

async fn http_upgrade(
    p: &Params,
    mut stream: Box<dyn Io>,
    addr: SocketAddr,
    rng: &SystemRandom,
) -> Result<Opened, ClientError> {
    // RFC 6455 §4.1 (7): a fresh random 16-byte nonce per connection.
    let key: [u8; 16] = ring::rand::generate(rng)
        .map_err(|_| ClientError::Random)?
        .expose();
    let request = ClientRequest::new(&p.url.host, p.url.secure, key)
        .port(Some(p.url.port))
        .resource(&p.url.resource)
        .origin(p.origin.as_deref());
    let bytes = request
        .to_bytes()
        .map_err(|e| ClientError::Config(format!("cannot build the handshake: {e}")))?;
    let lost = |e: std::io::Error| ClientError::Connect {
        url: url_text(p),
        addr,
        detail: format!("while sending the opening handshake: {e}"),
    };
    stream.write_all(&bytes).await.map_err(lost)?;
    stream.flush().await.map_err(lost)?;

    // Row 6455-4.1-e: from here on nothing is written until the answer is read and judged.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let (head, consumed) = loop {
        match parse_response(&buf) {
            Ok(Parsed::Complete { head, consumed }) => break (head, consumed),
            Ok(Parsed::Incomplete) => {}
            Err(error) => {
                return Err(ClientError::HandshakeHttp {
                    url: url_text(p),
                    error,
                });
            }
        }
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return Err(ClientError::HandshakeClosed { url: url_text(p) });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let offered = request.offered_protocols();
    if let Err(rejected) = validate_response(&head, &request.key(), &offered, &[]) {
        // RFC 6455 §4.1: "the client MUST _Fail the WebSocket Connection_": the socket is
        // dropped (closed) here, nothing having been sent after the request.
        return Err(ClientError::Handshake {
            url: url_text(p),
            status: head.status(),
            reason: String::from_utf8_lossy(head.reason()).into_owned(),
            rejected,
        });
    }
    Ok(Opened {
        stream,
        leftover: buf.split_off(consumed),
        peer: addr,
    })
}
