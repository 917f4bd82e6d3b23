//! The harness's listener: a TCP listener and a UDP socket on one port of the harness,
//! standing in for a WebSocket client's address. A WebSocket client cannot accept connections,
//! so a SIP WebSocket server must never try to reach the address it advertised (RFC 7118 §5,
//! Appendix B; RFC 5626 §7; spec/requirements.md A9). The listener records every connection and
//! datagram as an [`Attempt`], so a case can show that the target never tried to reach a
//! client, or, for a stream forwarding case (RFC 3261 §16.6 item 9, §18.3), read what the
//! target sent it with [`read_stream_request`].
//!
//! Also the binding helpers the UDP phone shares: the local address facing the target.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sipws_reference::sip::Message;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::evidence::printable;

/// Something that reached the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Tcp {
        from: SocketAddr,
        after: Duration,
        /// What the target sent on the connection, up to [`MAX_TCP_READ`].
        bytes: Vec<u8>,
    },
    Udp {
        from: SocketAddr,
        after: Duration,
        bytes: Vec<u8>,
    },
}

impl Attempt {
    /// The attempt in words, with an excerpt of its bytes, for a verdict's message.
    pub fn describe(&self) -> String {
        match self {
            Attempt::Tcp { from, after, bytes } => format!(
                "a TCP connection from {from} {} ms after the listener opened ({} bytes sent on it{})",
                after.as_millis(),
                bytes.len(),
                excerpt(bytes)
            ),
            Attempt::Udp { from, after, bytes } => format!(
                "a UDP datagram from {from} {} ms after the listener opened ({} bytes{})",
                after.as_millis(),
                bytes.len(),
                excerpt(bytes)
            ),
        }
    }
}

/// The first bytes, quoted and escaped so CR and LF stay visible on one line.
fn excerpt(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let text = printable(&bytes[..bytes.len().min(120)]);
    format!(": {:?}", text)
}

/// Most a TCP connection to the listener is read for.
pub const MAX_TCP_READ: usize = 64 * 1024;

/// A task that ends with the case: dropping the world drops the listener, which aborts it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The open listener; it records until it is dropped.
pub struct Listener {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Attempt>>>,
    _task: AbortOnDrop,
}

impl Listener {
    /// Open a TCP listener and a UDP socket on one port of `ip` the OS picks, and record
    /// what reaches them from now on.
    pub async fn open(ip: IpAddr) -> std::io::Result<Listener> {
        let (tcp, udp) = bind_pair(ip).await?;
        let addr = tcp.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(listen(tcp, udp, seen.clone(), Instant::now()));
        Ok(Listener {
            addr,
            seen,
            _task: AbortOnDrop(task),
        })
    }

    /// The address (TCP and UDP) the listener stands at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything that reached the listener so far, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        lock(&self.seen).clone()
    }
}

/// A poisoned lock only means a reader task panicked mid-append; the data is still evidence.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A SIP request read from a TCP connection to the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRequest {
    pub content_length: Option<u32>,
    /// Bytes after the header section that arrived.
    pub body_bytes: usize,
    pub head: String,
}

/// Split bytes read from a stream into a parsed header section and how many bytes followed it
/// (RFC 3261 §18.3: on a stream the Content-Length frames the body). `None` until the header
/// section is complete. The Content-Length is read from the header section itself, so a body
/// still on its way (or a Content-Length that lies) does not stop the head from being judged.
pub fn read_stream_request(bytes: &[u8]) -> Option<Result<TcpRequest, String>> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = printable(&bytes[..end]);
    let mut content_length = None;
    let mut kept = Vec::new();
    for line in head.split("\r\n") {
        match line.split_once(':') {
            Some((name, value))
                if name.trim().eq_ignore_ascii_case("content-length")
                    || name.trim().eq_ignore_ascii_case("l") =>
            {
                match value.trim().parse::<u32>() {
                    Ok(n) => content_length = Some(n),
                    Err(_) => {
                        return Some(Err(format!(
                            "Content-Length {:?} is not a number: {head}",
                            value.trim()
                        )));
                    }
                }
            }
            _ => kept.push(line),
        }
    }
    Some(match Message::parse(kept.join("\r\n").as_bytes()) {
        Ok(m) if m.is_request() => Ok(TcpRequest {
            content_length,
            body_bytes: bytes.len() - end,
            head,
        }),
        Ok(_) => Err(format!("a response where a request was expected: {head}")),
        Err(e) => Err(format!("{e}: {head}")),
    })
}

/// The local address that faces `peer`: the peer's own address for a loopback target (tests bind
/// only to loopback), else the one the OS routes through (no packet is sent).
pub async fn local_ip_towards(peer: SocketAddr) -> std::io::Result<IpAddr> {
    if peer.ip().is_loopback() {
        return Ok(peer.ip());
    }
    let any: SocketAddr = if peer.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = UdpSocket::bind(any).await?;
    probe.connect(peer).await?;
    Ok(probe.local_addr()?.ip())
}

/// A TCP listener and a UDP socket on one port: the TCP port the OS picks, retried when its
/// UDP twin is taken.
async fn bind_pair(ip: IpAddr) -> std::io::Result<(TcpListener, UdpSocket)> {
    let mut last = std::io::Error::other("no attempt");
    for _ in 0..16 {
        let tcp = TcpListener::bind((ip, 0)).await?;
        let port = tcp.local_addr()?.port();
        match UdpSocket::bind((ip, port)).await {
            Ok(udp) => return Ok((tcp, udp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn listen(tcp: TcpListener, udp: UdpSocket, seen: Arc<Mutex<Vec<Attempt>>>, opened: Instant) {
    let mut readers = JoinSet::new();
    let mut buf = vec![0u8; 65_535];
    loop {
        tokio::select! {
            accepted = tcp.accept() => {
                let Ok((stream, from)) = accepted else {
                    // A failed accept (out of descriptors, say): try again shortly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let index = {
                    let mut s = lock(&seen);
                    s.push(Attempt::Tcp { from, after: opened.elapsed(), bytes: Vec::new() });
                    s.len() - 1
                };
                readers.spawn(read_into(stream, index, seen.clone()));
            }
            got = udp.recv_from(&mut buf) => {
                if let Ok((n, from)) = got {
                    lock(&seen).push(Attempt::Udp {
                        from,
                        after: opened.elapsed(),
                        bytes: buf[..n].to_vec(),
                    });
                }
            }
            Some(_) = readers.join_next(), if !readers.is_empty() => {}
        }
    }
}

/// Record what the target sends on a connection it opened to the listener, up to a bound.
async fn read_into(mut stream: TcpStream, index: usize, seen: Arc<Mutex<Vec<Attempt>>>) {
    let mut chunk = [0u8; 4096];
    let mut total = 0;
    while total < MAX_TCP_READ {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                total += n;
                if let Some(Attempt::Tcp { bytes, .. }) = lock(&seen).get_mut(index) {
                    bytes.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_requests_are_split_at_the_header_section() {
        assert!(read_stream_request(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP").is_none());
        let head = "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 4\r\n\r\nv=0\n";
        let r = read_stream_request(head.as_bytes())
            .expect("a complete head")
            .expect("a request");
        assert_eq!((r.content_length, r.body_bytes), (Some(4), 4));
        // The head is judged before the body arrives; a missing Content-Length is reported.
        let early = read_stream_request(&head.as_bytes()[..head.len() - 4])
            .expect("a complete head")
            .expect("a request");
        assert_eq!((early.content_length, early.body_bytes), (Some(4), 0));
        let bare = head.replace("Content-Length: 4\r\n", "");
        let r = read_stream_request(bare.as_bytes())
            .expect("a complete head")
            .expect("a request");
        assert_eq!(r.content_length, None);
        assert!(matches!(
            read_stream_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Err(_))
        ));
        assert!(matches!(
            read_stream_request(head.replace("4\r\n\r\n", "x\r\n\r\n").as_bytes()),
            Some(Err(_))
        ));
    }

    #[tokio::test]
    async fn the_listener_records_connections_their_bytes_and_datagrams() {
        let ip: IpAddr = Ipv4Addr::LOCALHOST.into();
        assert_eq!(
            local_ip_towards((ip, 9).into()).await.expect("loopback"),
            ip
        );
        let listener = Listener::open(ip).await.expect("binds on loopback");
        assert!(listener.attempts().is_empty());
        let mut stream = TcpStream::connect(listener.addr()).await.expect("connects");
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"OPTIONS sip:x SIP/2.0\r\n")
            .await
            .expect("writes");
        let udp = UdpSocket::bind((ip, 0)).await.expect("binds");
        udp.send_to(b"ping", listener.addr()).await.expect("sends");
        let deadline = Instant::now() + Duration::from_secs(5);
        let attempts = loop {
            let a = listener.attempts();
            let tcp_read = a
                .iter()
                .any(|a| matches!(a, Attempt::Tcp { bytes, .. } if !bytes.is_empty()));
            if (tcp_read && a.len() == 2) || Instant::now() >= deadline {
                break a;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(attempts.len(), 2, "{attempts:?}");
        let described: Vec<String> = attempts.iter().map(Attempt::describe).collect();
        assert!(
            described
                .iter()
                .any(|d| d.starts_with("a TCP connection from 127.0.0.1:")
                    && d.contains(r#": "OPTIONS sip:x SIP/2.0\r\n""#)),
            "{described:?}"
        );
        assert!(
            described
                .iter()
                .any(|d| d.contains("a UDP datagram from") && d.contains("(4 bytes: \"ping\")")),
            "{described:?}"
        );
    }
}
