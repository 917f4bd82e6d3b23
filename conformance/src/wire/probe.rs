//! A connection to the target under test that writes exactly the bytes it is given and reads
//! back HTTP heads and WebSocket frames leniently, recording both in a [`Transcript`].

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::frame::RawFrame;
use super::upgrade::UpgradeRequest;
use crate::evidence::{Direction, Transcript};
use sipws_reference::ws::frame::{apply_mask, decode_header};
use sipws_reference::ws::http::{Parsed, ResponseHead, parse_response};

/// The probe never buffers more than this from a target (a target that floods gets an error).
pub const MAX_BUFFER: usize = 4 * 1024 * 1024;

/// A byte stream: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug, Error)]
pub enum ProbeError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the target sent more than {MAX_BUFFER} bytes without completing a frame or head")]
    Flood,
}

/// What the probe read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// An HTTP response head (status and all headers) and the raw bytes.
    Http {
        status: u16,
        head: ResponseHead,
    },
    /// Bytes that do not form an HTTP response head (recorded in the transcript).
    NotHttp(Vec<u8>),
    Frame(RawFrame),
    /// A frame header no decoder accepts (64-bit length with the top bit set).
    BadFrame(Vec<u8>),
    /// A frame header declaring more payload than [`MAX_BUFFER`]: more than any message a case
    /// solicits, and a malformed length field reads this way too (RFC 6455 §5.2). The bytes
    /// after it are not read: the stream cannot be followed past such a header.
    Oversized(u64),
    /// The target closed the TCP connection.
    Closed,
    /// Nothing (more) arrived in time.
    Timeout,
}

pub struct Probe {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    transcript: Transcript,
    /// Every frame written, and every frame read, for the whole-wire invariants.
    frames_sent: Vec<RawFrame>,
    frames_read: Vec<RawFrame>,
    started: Instant,
    closed: bool,
}

impl Probe {
    /// Open a TCP connection.
    pub async fn connect(addr: SocketAddr) -> Result<Probe, ProbeError> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| ProbeError::Connect { addr, source })?;
        tcp.set_nodelay(true)?;
        Ok(Probe::over(Box::new(tcp)))
    }

    /// Use an already connected stream (a TLS stream, say).
    pub fn over(io: Box<dyn Io>) -> Probe {
        Probe {
            io,
            buf: Vec::new(),
            transcript: Transcript::default(),
            frames_sent: Vec::new(),
            frames_read: Vec::new(),
            started: Instant::now(),
            closed: false,
        }
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }

    /// The frames written and the frames read so far.
    pub fn frames(&self) -> (&[RawFrame], &[RawFrame]) {
        (&self.frames_sent, &self.frames_read)
    }

    fn record(&mut self, direction: Direction, what: impl Into<String>, bytes: &[u8]) {
        self.transcript
            .push(self.started.elapsed(), direction, what, bytes);
    }

    /// Write `bytes` in one write call.
    pub async fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), ProbeError> {
        self.send_showing(bytes, what, bytes).await
    }

    /// Write `bytes`, recording `shown` (a frame's unmasked payload, say) as the evidence.
    async fn send_showing(
        &mut self,
        bytes: &[u8],
        what: &str,
        shown: &[u8],
    ) -> Result<(), ProbeError> {
        self.record(Direction::Sent, what, shown);
        self.io.write_all(bytes).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Write `bytes` in several write calls, cut at the given offsets, pausing briefly between
    /// them so they travel as separate TCP segments.
    pub async fn send_split(
        &mut self,
        bytes: &[u8],
        cuts: &[usize],
        what: &str,
    ) -> Result<(), ProbeError> {
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let cut = cut.clamp(from, bytes.len());
            self.send(&bytes[from..cut], what).await?;
            from = cut;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    /// Send one frame; the transcript shows its description and unmasked payload.
    pub async fn send_frame(&mut self, frame: &RawFrame) -> Result<(), ProbeError> {
        self.frames_sent.push(frame.clone());
        self.send_showing(&frame.to_bytes(), &frame.describe(), &frame.payload)
            .await
    }

    /// Several frames in a single write (for "a violation followed by a valid frame").
    pub async fn send_frames(&mut self, frames: &[RawFrame]) -> Result<(), ProbeError> {
        self.frames_sent.extend(frames.iter().cloned());
        let bytes: Vec<u8> = frames.iter().flat_map(RawFrame::to_bytes).collect();
        let what: Vec<String> = frames.iter().map(RawFrame::describe).collect();
        let shown: Vec<u8> = frames
            .iter()
            .flat_map(|f| f.payload.iter().copied().chain(*b"\n"))
            .collect();
        self.send_showing(&bytes, &what.join(" + "), &shown).await
    }

    /// Send an upgrade request and read the answer's head.
    pub async fn upgrade(
        &mut self,
        req: &UpgradeRequest,
        timeout: Duration,
    ) -> Result<Received, ProbeError> {
        self.send(&req.to_bytes(), "http request").await?;
        self.read_http(timeout).await
    }

    /// Read more bytes, up to the deadline. `Ok(false)` when the target closed or time ran out.
    async fn fill(&mut self, deadline: Instant) -> Result<Option<Received>, ProbeError> {
        if self.closed {
            return Ok(Some(Received::Closed));
        }
        if self.buf.len() > MAX_BUFFER {
            return Err(ProbeError::Flood);
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout_at(deadline, self.io.read(&mut chunk)).await {
            Err(_) => Ok(Some(Received::Timeout)),
            Ok(Ok(0)) => {
                self.closed = true;
                self.record(Direction::Event, "TCP closed by the target", b"");
                Ok(Some(Received::Closed))
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(None)
            }
            // A reset is how some targets close: report it as a close, with the reason.
            Ok(Err(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                self.closed = true;
                self.record(Direction::Event, format!("TCP reset: {e}"), b"");
                Ok(Some(Received::Closed))
            }
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// Read an HTTP response head.
    pub async fn read_http(&mut self, timeout: Duration) -> Result<Received, ProbeError> {
        let deadline = Instant::now() + timeout;
        loop {
            match parse_response(&self.buf) {
                Ok(Parsed::Complete { head, consumed }) => {
                    let raw = self.buf.drain(..consumed).collect::<Vec<u8>>();
                    self.record(Direction::Received, "http response", &raw);
                    return Ok(Received::Http {
                        status: head.status(),
                        head,
                    });
                }
                Ok(Parsed::Incomplete) => {}
                Err(_) => {
                    let raw = std::mem::take(&mut self.buf);
                    self.record(Direction::Received, "not an HTTP response", &raw);
                    return Ok(Received::NotHttp(raw));
                }
            }
            if let Some(end) = self.fill(deadline).await? {
                if !self.buf.is_empty() && end != Received::Timeout {
                    let raw = std::mem::take(&mut self.buf);
                    self.record(Direction::Received, "incomplete HTTP response", &raw);
                    return Ok(Received::NotHttp(raw));
                }
                return Ok(end);
            }
        }
    }

    /// Read one WebSocket frame (any opcode, masked or not).
    pub async fn read_frame(&mut self, timeout: Duration) -> Result<Received, ProbeError> {
        let deadline = Instant::now() + timeout;
        loop {
            match decode_header(&self.buf) {
                Err(_) => {
                    let raw = std::mem::take(&mut self.buf);
                    self.record(Direction::Received, "undecodable frame header", &raw);
                    return Ok(Received::BadFrame(raw));
                }
                Ok(Some((header, hlen))) => {
                    let total = (hlen as u64).saturating_add(header.payload_len);
                    if total > MAX_BUFFER as u64 {
                        let head: Vec<u8> = self.buf.drain(..hlen).collect();
                        self.buf.clear();
                        self.record(
                            Direction::Received,
                            format!("frame header declaring {} bytes", header.payload_len),
                            &head,
                        );
                        return Ok(Received::Oversized(header.payload_len));
                    }
                    let total = total as usize;
                    if self.buf.len() >= total {
                        let mut payload = self.buf[hlen..total].to_vec();
                        if let Some(key) = header.mask {
                            apply_mask(&mut payload, key);
                        }
                        self.buf.drain(..total);
                        let frame = RawFrame::from_parts(&header, payload);
                        self.record(Direction::Received, frame.describe(), &frame.payload);
                        self.frames_read.push(frame.clone());
                        return Ok(Received::Frame(frame));
                    }
                }
                Ok(None) => {}
            }
            if let Some(end) = self.fill(deadline).await? {
                return Ok(end);
            }
        }
    }

    /// Read frames until a data message is complete (fragments joined; control frames
    /// recorded and, for Ping, answered), a Close arrives, or time runs out.
    pub async fn read_message(&mut self, timeout: Duration) -> Result<Received, ProbeError> {
        let deadline = Instant::now() + timeout;
        let mut first: Option<RawFrame> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_frame(left).await? {
                Received::Frame(f) if f.opcode == 0x9 => {
                    self.send_frame(&RawFrame::pong(f.payload.clone())).await?;
                }
                Received::Frame(f) if f.opcode == 0xA => {}
                Received::Frame(f) if f.opcode == 0x0 => match &mut first {
                    Some(m) => {
                        m.payload.extend_from_slice(&f.payload);
                        if f.fin {
                            m.fin = true;
                            return Ok(Received::Frame(m.clone()));
                        }
                    }
                    None => return Ok(Received::Frame(f)),
                },
                Received::Frame(f) if (f.opcode == 0x1 || f.opcode == 0x2) && !f.fin => {
                    first = Some(f);
                }
                other => return Ok(other),
            }
        }
    }

    /// The bytes read but not yet consumed.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

/// A one-line description of what a read returned.
pub fn describe(r: &Received) -> String {
    match r {
        Received::Http { status, .. } => format!("HTTP {status}"),
        Received::NotHttp(b) => format!("{} bytes that are not an HTTP response", b.len()),
        Received::Frame(f) if matches!(f.opcode, 0x1 | 0x2) => {
            // A data frame is named by its first line too: "a MESSAGE", not only a length.
            let first = f
                .payload
                .split(|b| *b == b'\r' || *b == b'\n')
                .next()
                .unwrap_or_default();
            let first = String::from_utf8_lossy(&first[..first.len().min(80)]);
            if first.trim().is_empty() {
                f.describe()
            } else {
                format!("{} ({first})", f.describe())
            }
        }
        Received::Frame(f) => f.describe(),
        Received::BadFrame(b) => format!("an undecodable frame header ({} bytes)", b.len()),
        Received::Oversized(n) => format!(
            "a frame header declaring {n} bytes, more than the {} MiB any case solicits (RFC 6455 §5.2)",
            MAX_BUFFER / (1024 * 1024)
        ),
        Received::Closed => "the connection closed".into(),
        Received::Timeout => "nothing in time".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (Probe, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound");
        let (probe, accepted) = tokio::join!(Probe::connect(addr), listener.accept());
        (probe.expect("connects"), accepted.expect("accepts").0)
    }

    #[test]
    fn a_data_frame_is_described_by_its_first_line() {
        let mut f = RawFrame::text(b"MESSAGE sips:bob@d SIP/2.0\r\nVia: x\r\n\r\n".to_vec());
        f.mask = None;
        let d = describe(&Received::Frame(f));
        assert!(d.ends_with("(MESSAGE sips:bob@d SIP/2.0)"), "{d}");
        let mut crlf = RawFrame::text(b"\r\n".to_vec());
        crlf.mask = None;
        assert!(!describe(&Received::Frame(crlf)).contains('('));
    }

    #[tokio::test]
    async fn a_frame_header_declaring_too_much_is_the_targets_fault_not_the_harness() {
        let (mut probe, mut server) = pair().await;
        // The 64-bit length form whose length field holds 2^40: nothing a case asks for.
        server
            .write_all(b"\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00SIP/2.0 200 OK")
            .await
            .expect("write");
        let got = probe
            .read_frame(Duration::from_secs(2))
            .await
            .expect("no harness error");
        assert_eq!(got, Received::Oversized(1 << 40));
        assert!(describe(&got).contains("declaring 1099511627776 bytes"));
    }

    #[tokio::test]
    async fn reads_an_http_head_then_frames() {
        let (mut probe, mut server) = pair().await;
        server
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi\x88\x02\x03\xe8")
            .await
            .expect("write");
        let t = Duration::from_secs(2);
        assert!(matches!(
            probe.read_http(t).await.expect("read"),
            Received::Http { status: 101, .. }
        ));
        let Received::Frame(f) = probe.read_frame(t).await.expect("read") else {
            panic!("a frame")
        };
        assert_eq!(
            (f.opcode, f.payload.as_slice(), f.mask),
            (1, &b"hi"[..], None)
        );
        let Received::Frame(c) = probe.read_frame(t).await.expect("read") else {
            panic!("a close frame")
        };
        assert_eq!(c.close_code(), Some(1000));
        drop(server);
        assert_eq!(probe.read_frame(t).await.expect("read"), Received::Closed);
        assert!(probe.transcript().to_string().contains("close(1000)"));
    }

    #[tokio::test]
    async fn joins_fragments_and_answers_pings() {
        let (mut probe, mut server) = pair().await;
        server
            .write_all(b"\x01\x02ab\x89\x01p\x80\x01c")
            .await
            .expect("write");
        let Received::Frame(m) = probe
            .read_message(Duration::from_secs(2))
            .await
            .expect("read")
        else {
            panic!("a message")
        };
        assert_eq!(m.payload, b"abc");
        let mut pong = [0u8; 7];
        server
            .read_exact(&mut pong)
            .await
            .expect("the probe answered the ping");
        assert_eq!(pong[0], 0x8A);
    }

    #[tokio::test]
    async fn silence_is_a_timeout_not_a_hang() {
        let (mut probe, _server) = pair().await;
        assert_eq!(
            probe
                .read_frame(Duration::from_millis(50))
                .await
                .expect("read"),
            Received::Timeout
        );
    }
}
