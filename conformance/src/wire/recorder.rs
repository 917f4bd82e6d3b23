//! Connections that record every raw byte they read, and the frame headers read back from
//! those bytes: the probe's decoder keeps a frame's payload length but not which of the
//! three length forms carried it, and RFC 6455 §5.2 requires the shortest (row 6455-5.2-c).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use sipws_reference::ws::frame::decode_header;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::probe::Probe;

/// Every byte read from a recorded connection so far, shared with its stream.
#[derive(Clone, Default)]
pub struct Recording(Arc<Mutex<Vec<u8>>>);

impl Recording {
    /// A copy of what was read so far.
    pub fn bytes(&self) -> Vec<u8> {
        // A poisoned lock only means a reader panicked mid-copy; the bytes are still valid.
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A TCP stream that copies every byte it reads into a [`Recording`].
struct Tee {
    inner: TcpStream,
    seen: Recording,
}

impl AsyncRead for Tee {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let mut seen = self.seen.0.lock().unwrap_or_else(|p| p.into_inner());
            seen.extend_from_slice(&buf.filled()[before..]);
        }
        r
    }
}

impl AsyncWrite for Tee {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A probe over `tcp` whose reads are recorded.
pub fn recorded(tcp: TcpStream) -> (Probe, Recording) {
    let seen = Recording::default();
    let probe = Probe::over(Box::new(Tee {
        inner: tcp,
        seen: seen.clone(),
    }));
    (probe, seen)
}

/// A frame header as read off the wire: its length, whether masked, the payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSeen {
    pub header_len: usize,
    pub masked: bool,
    pub payload_len: u64,
}

impl HeaderSeen {
    /// The length form the header used: 7, 16 or 64 (bits), RFC 6455 §5.2.
    pub fn form(&self) -> u8 {
        match self.header_len - if self.masked { 4 } else { 0 } {
            2 => 7,
            4 => 16,
            _ => 64,
        }
    }
}

/// The frame headers in the bytes a server sent after its 101 (incomplete tail ignored).
pub fn frame_headers(raw: &[u8]) -> Vec<HeaderSeen> {
    let Some(start) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut at = start + 4;
    let mut out = Vec::new();
    while let Ok(Some((h, n))) = decode_header(&raw[at..]) {
        out.push(HeaderSeen {
            header_len: n,
            masked: h.mask.is_some(),
            payload_len: h.payload_len,
        });
        let end = (at + n).saturating_add(usize::try_from(h.payload_len).unwrap_or(usize::MAX));
        if end > raw.len() {
            break;
        }
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Length, RawFrame};

    #[test]
    fn headers_after_the_101_are_read_with_their_form() {
        let mut raw = b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec();
        raw.extend(RawFrame::text(vec![b'a'; 125]).to_bytes());
        raw.extend(
            RawFrame::text(vec![b'a'; 3])
                .unmasked()
                .length(Length::Bits64)
                .to_bytes(),
        );
        // A header whose payload has not all arrived is still read; nothing after it is.
        raw.extend(RawFrame::text(vec![b'a'; 300]).unmasked().to_bytes()[..10].to_vec());
        let h = frame_headers(&raw);
        assert_eq!(
            h.iter()
                .map(|h| (h.form(), h.masked, h.payload_len))
                .collect::<Vec<_>>(),
            [(7, true, 125), (64, false, 3), (16, false, 300)]
        );
        assert!(frame_headers(b"HTTP/1.1 101 no end of head").is_empty());
    }
}
