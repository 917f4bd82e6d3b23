//! SIP over TCP: accepted connections and the ones the server opens to forward a request.
//!
//! Framing is RFC 3261 §18.3: Content-Length delimits each message
//! ([`Message::parse_stream`]); the bytes of an incomplete message are held up to
//! `max_stream_buffer`, and a connection that exceeds it, or sends bytes that do not parse, is
//! closed (on a stream the framing is then lost; there is no next message to find). CRLFs
//! before a start line are skipped (RFC 3261 §7.5); a `CRLF CRLF` there is a keep-alive ping
//! answered with one `CRLF` (RFC 5626 §4.4.1, §5.4, row 5626-5.4-a).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tracing::debug;

use super::shared::{
    Event, FlowQueue, Link, Outgoing, Shared, close_gracefully, read_chunk, write_batch,
    write_bounded,
};
use crate::sip::Message;
use crate::transport::{Flow, FlowId, Transport};

/// Input capacity kept while a connection is idle; more is released.
const IDLE_BUFFER: usize = 0;

/// What the start of the input holds, before a message.
#[derive(Debug, PartialEq, Eq)]
enum Lead {
    /// `CRLF CRLF`: a keep-alive ping of 4 bytes.
    Ping,
    /// A lone `CRLF` before a start line: 2 bytes to skip.
    Crlf,
    /// Could still become a ping: wait.
    Partial,
    /// A message starts here (or the input is empty).
    Message,
}

fn lead(buf: &[u8]) -> Lead {
    if buf.starts_with(b"\r\n\r\n") {
        Lead::Ping
    } else if b"\r\n\r".starts_with(buf) && !buf.is_empty() {
        Lead::Partial
    } else if buf.starts_with(b"\r\n") {
        Lead::Crlf
    } else {
        Lead::Message
    }
}

/// Serves an accepted TCP connection.
pub(crate) async fn serve(
    tcp: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    let flow = Flow {
        id: shared.new_flow_id(),
        transport: Transport::Tcp,
        local,
        remote,
    };
    let (link, queue) = Link::new(shared.limits.flow_queue_bytes);
    if shared
        .events
        .send(Event::FlowOpened { flow, link })
        .await
        .is_err()
    {
        return;
    }
    run(tcp, flow, &queue, &shared).await;
    drop(permit);
}

/// Opens a connection to `remote` for flow `id`, whose link the actor holds (with the
/// messages waiting for it) until it hears [`Event::Connected`] or [`Event::ConnectFailed`].
pub(crate) async fn connect(
    remote: SocketAddr,
    id: FlowId,
    queue: Arc<FlowQueue>,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    let connected = tokio::time::timeout(shared.limits.connect_timeout, TcpStream::connect(remote))
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|s| s.local_addr().ok().map(|local| (s, local)));
    let Some((tcp, local)) = connected else {
        debug!(%remote, "TCP connect failed");
        queue.close();
        let _ = shared.events.send(Event::ConnectFailed { flow: id }).await;
        return;
    };
    let flow = Flow {
        id,
        transport: Transport::Tcp,
        local,
        remote,
    };
    if shared.events.send(Event::Connected { flow }).await.is_err() {
        return;
    }
    run(tcp, flow, &queue, &shared).await;
    drop(permit);
}

async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    flow: Flow,
    queue: &FlowQueue,
    shared: &Shared,
) {
    debug!(flow = %flow.id, remote = %flow.remote, "TCP flow open");
    let write_timeout = shared.limits.write_timeout;
    let mut buf: Vec<u8> = Vec::new();
    'conn: loop {
        // Everything complete in the input, in order.
        loop {
            match lead(&buf) {
                Lead::Ping => {
                    buf.drain(..4);
                    if write_bounded(&mut stream, b"\r\n", write_timeout)
                        .await
                        .is_err()
                    {
                        break 'conn;
                    }
                    continue;
                }
                Lead::Crlf => {
                    buf.drain(..2);
                    continue;
                }
                Lead::Partial => break,
                Lead::Message if buf.is_empty() => break,
                Lead::Message => {}
            }
            match Message::parse_stream(&buf) {
                Ok(Some((msg, used))) => {
                    buf.drain(..used);
                    let ev = Event::Message {
                        flow: flow.id,
                        msg: Box::new(msg),
                    };
                    if shared.events.send(ev).await.is_err() {
                        break 'conn;
                    }
                }
                Ok(None) if buf.len() > shared.limits.max_stream_buffer => {
                    debug!(flow = %flow.id, bytes = buf.len(), "incomplete SIP message too large; closing");
                    break 'conn;
                }
                Ok(None) => break,
                Err(error) => {
                    debug!(flow = %flow.id, %error, "unparsable SIP on a stream; closing");
                    break 'conn;
                }
            }
        }
        if buf.is_empty() && buf.capacity() > IDLE_BUFFER {
            buf = Vec::new();
        }
        // Writes before reads: a peer sending fast must not starve its own answers (its
        // queue would fill and close it), and we read no more while we owe it bytes.
        tokio::select! {
            biased;
            out = queue.next() => match out {
                Outgoing::Batch(batch) => {
                    let bytes = batch.concat();
                    drop(batch);
                    let done =
                        Box::pin(write_batch(&mut stream, &bytes, write_timeout, queue)).await;
                    queue.written(bytes.len());
                    if !done {
                        break 'conn;
                    }
                }
                Outgoing::Killed | Outgoing::Released => break 'conn,
            },
            r = read_chunk(&mut stream, |b| buf.extend_from_slice(b)) => match r {
                Ok(0) | Err(_) => break 'conn,
                Ok(_) => {}
            },
        }
    }
    queue.close();
    let _ = shared
        .events
        .send(Event::FlowClosed { flow: flow.id })
        .await;
    Box::pin(close_gracefully(&mut stream)).await;
    debug!(flow = %flow.id, "TCP flow closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_3261_7_5_a_crlfs_before_a_message_are_keepalives_or_skipped() {
        assert_eq!(lead(b"\r\n\r\nINVITE"), Lead::Ping);
        assert_eq!(lead(b"\r\n\r\n"), Lead::Ping);
        assert_eq!(lead(b"\r\n"), Lead::Partial);
        assert_eq!(lead(b"\r\n\r"), Lead::Partial);
        assert_eq!(lead(b"\r"), Lead::Partial);
        assert_eq!(lead(b"\r\nINVITE"), Lead::Crlf);
        assert_eq!(lead(b"INVITE"), Lead::Message);
        assert_eq!(lead(b""), Lead::Message);
    }
}
