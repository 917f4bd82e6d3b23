//! What the tasks of one server share: the events they send to the proxy actor, the link the
//! actor holds to each connection, the limits, and small I/O helpers that keep no buffer
//! between reads.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

use crate::sip::Message;
use crate::transport::{Flow, FlowId};
use crate::ws::handshake::Policy;

/// What the connection, UDP and connect tasks tell the proxy actor. Events of one task arrive
/// in the order it sent them (one channel).
#[derive(Debug)]
pub(crate) enum Event {
    /// An accepted connection serves `flow` (after its WebSocket upgrade, for WS/WSS).
    FlowOpened { flow: Flow, link: Link },
    /// An outgoing TCP connection the actor asked for is up.
    Connected { flow: Flow },
    /// Connecting failed: the actor's queued messages for it were never sent.
    ConnectFailed { flow: FlowId },
    /// A SIP message arrived on a connection.
    Message { flow: FlowId, msg: Box<Message> },
    /// A SIP message arrived on the UDP socket.
    Datagram { from: SocketAddr, msg: Box<Message> },
    /// The connection is gone (or going: nothing more is read from it).
    FlowClosed { flow: FlowId },
    /// Counters, for tests and operators.
    Stats(oneshot::Sender<Stats>),
}

/// The outgoing queue of one connection: serialized SIP messages the actor has routed to
/// it, waiting for the connection task to write them. Bounded in bytes: a push that would
/// exceed the budget fails. Bytes count until they are written, so a write stuck on a peer
/// that does not read keeps the budget used. A full queue is the peer's fault only while the
/// task is writing to it ([`Push::Full`]: the actor closes the connection, its peer does not
/// read or reads far slower than it is sent to); a queue that filled before the task took
/// anything from it is the server's own scheduling, behind a burst ([`Push::Busy`]: the
/// message fails, the connection stays).
///
/// A plain mutex-protected deque rather than a channel: an idle connection's queue holds no
/// allocation at all (a tokio channel keeps a block of slots per channel).
#[derive(Debug, Default)]
pub(crate) struct FlowQueue {
    state: Mutex<QueueState>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Vec<u8>>,
    /// Bytes pushed and not yet written.
    bytes: usize,
    /// Of those, the bytes of the batch the connection task took and is writing.
    writing: usize,
    /// The connection task has ended: pushes fail with [`Push::Gone`].
    gone: bool,
    /// The actor gave up on the connection: close it (Close 1008 on WebSocket).
    killed: bool,
    /// The actor dropped its [`Link`] (server shutdown): close it (Close 1001).
    released: bool,
}

/// What [`Link::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Push {
    Queued,
    /// Over the byte budget while the connection task is writing to a peer that does not
    /// keep up: the message was not queued; close the connection.
    Full(Vec<u8>),
    /// Over the byte budget before the connection task took anything (a burst outran the
    /// scheduler, not the peer): the message was not queued; the connection stays.
    Busy(Vec<u8>),
    /// The connection task has ended: the message was not queued.
    Gone(Vec<u8>),
}

/// What the connection task does next with its queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// Write these, then call [`FlowQueue::written`] with their total length.
    Batch(Vec<Vec<u8>>),
    /// The peer does not read: close.
    Killed,
    /// The server is going away: close.
    Released,
}

impl FlowQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // A panic while holding this lock cannot leave the state inconsistent (every update
        // is a single field write), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn try_next(&self) -> Option<Outgoing> {
        let mut st = self.lock();
        if st.killed {
            return Some(Outgoing::Killed);
        }
        if !st.items.is_empty() {
            let batch: Vec<Vec<u8>> = st.items.drain(..).collect();
            // Drained: give the deque's capacity back, idle connections hold none.
            st.items = VecDeque::new();
            st.writing = st.bytes;
            return Some(Outgoing::Batch(batch));
        }
        st.released.then_some(Outgoing::Released)
    }

    /// Waits for something to do. Cancel-safe: items stay queued until returned.
    pub async fn next(&self) -> Outgoing {
        loop {
            if let Some(out) = self.try_next() {
                return out;
            }
            self.ready.notified().await;
        }
    }

    /// Resolves once the actor has given up on the connection ([`Link::kill`]): raced
    /// against a write that a peer that does not read would keep waiting.
    pub async fn killed(&self) {
        loop {
            if self.lock().killed {
                return;
            }
            self.ready.notified().await;
        }
    }

    /// `n` bytes of a batch were written (or abandoned).
    pub fn written(&self, n: usize) {
        let mut st = self.lock();
        st.bytes = st.bytes.saturating_sub(n);
        st.writing = 0;
    }

    /// The connection task ends: later pushes fail.
    pub fn close(&self) {
        let mut st = self.lock();
        st.gone = true;
        st.items = VecDeque::new();
        st.bytes = 0;
        st.writing = 0;
    }
}

/// The actor's handle on one connection's [`FlowQueue`]. Dropping it tells the task to close.
#[derive(Debug)]
pub(crate) struct Link {
    queue: Arc<FlowQueue>,
    budget: usize,
}

impl Link {
    /// A link with a byte budget, and the connection task's end of it.
    pub fn new(budget: usize) -> (Link, Arc<FlowQueue>) {
        let queue = Arc::new(FlowQueue::default());
        (
            Link {
                queue: queue.clone(),
                budget,
            },
            queue,
        )
    }

    /// Queues one serialized message, never waiting. A message alone larger than the
    /// budget still goes when the queue is empty, so no message is too big for a reader.
    pub fn push(&self, bytes: Vec<u8>) -> Push {
        let mut st = self.queue.lock();
        if st.gone || st.killed {
            return Push::Gone(bytes);
        }
        if st.bytes > 0 && st.bytes + bytes.len() > self.budget {
            return if st.writing > 0 {
                Push::Full(bytes)
            } else {
                Push::Busy(bytes)
            };
        }
        st.bytes += bytes.len();
        st.items.push_back(bytes);
        drop(st);
        self.queue.ready.notify_one();
        Push::Queued
    }

    /// Closes the connection at once (its peer does not read).
    pub fn kill(&self) {
        let mut st = self.queue.lock();
        st.killed = true;
        st.items = VecDeque::new();
        drop(st);
        self.queue.ready.notify_one();
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.queue.lock().released = true;
        self.queue.ready.notify_one();
    }
}

/// Counters reported by [`super::ServerHandle::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bindings in the location service.
    pub bindings: usize,
    /// Flows the proxy knows (connections and UDP peers).
    pub flows: usize,
    /// Connections with a live link (WS, WSS, TCP in and out).
    pub connections: usize,
    /// UDP peers in the flow table.
    pub udp_peers: usize,
    /// Forwarded transactions still remembered.
    pub pending: usize,
    /// TCP connections holding a connection permit (`limits.max_connections`): WS and WSS
    /// ones still in their opening handshake included, unlike `connections`.
    pub sockets: usize,
}

/// Limits every task applies.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub handshake_timeout: Duration,
    pub write_timeout: Duration,
    pub connect_timeout: Duration,
    /// Byte budget of one connection's [`FlowQueue`].
    pub flow_queue_bytes: usize,
    pub max_message: usize,
    pub max_stream_buffer: usize,
}

/// Shared by every task of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub events: mpsc::Sender<Event>,
    next_flow: AtomicU64,
    /// One permit per open TCP connection, in or out.
    pub connections: Arc<Semaphore>,
    /// The permits `connections` started with.
    max_connections: usize,
    pub limits: Limits,
    pub ws_policy: Policy,
}

impl Shared {
    pub fn new(
        events: mpsc::Sender<Event>,
        max_connections: usize,
        limits: Limits,
        ws_policy: Policy,
    ) -> Shared {
        Shared {
            events,
            next_flow: AtomicU64::new(1),
            connections: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            limits,
            ws_policy,
        }
    }

    /// TCP connections open now (permits taken), handshaking ones included.
    pub fn sockets(&self) -> usize {
        self.max_connections
            .saturating_sub(self.connections.available_permits())
    }

    /// A flow id never used before in this server.
    pub fn new_flow_id(&self) -> FlowId {
        FlowId(self.next_flow.fetch_add(1, Ordering::Relaxed))
    }
}

/// Bytes read at once. The buffer lives on the stack during one poll only, so an idle
/// connection keeps no read buffer.
const READ_CHUNK: usize = 4096;

/// Reads what is available (at most [`READ_CHUNK`] bytes) and hands it to `sink`; `Ok(0)` at
/// end of stream. Cancel-safe: nothing is consumed unless the read completes.
pub(crate) async fn read_chunk<R: AsyncRead + Unpin>(
    r: &mut R,
    mut sink: impl FnMut(&[u8]),
) -> io::Result<usize> {
    poll_fn(|cx| {
        let mut buf = [0u8; READ_CHUNK];
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut *r).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                let filled = rb.filled();
                sink(filled);
                Poll::Ready(Ok(filled.len()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Writes all of `bytes` and flushes (TLS buffers), within `limit`.
pub(crate) async fn write_bounded<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
    limit: Duration,
) -> io::Result<()> {
    match tokio::time::timeout(limit, async {
        w.write_all(bytes).await?;
        w.flush().await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer does not read",
        )),
    }
}

/// Writes a batch from the queue within `limit`, unless the actor kills the connection
/// first (its peer does not read). `false` when the connection must close; a frame may then
/// be half written. Callers box it: large, and only alive while writing, it would otherwise
/// grow every idle connection's task.
pub(crate) async fn write_batch<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
    limit: Duration,
    queue: &FlowQueue,
) -> bool {
    tokio::select! {
        r = write_bounded(w, bytes, limit) => r.is_ok(),
        _ = queue.killed() => false,
    }
}

/// How long a closing connection is drained (see [`close_gracefully`]).
const LINGER: Duration = Duration::from_millis(1000);
/// Most bytes drained while closing.
const LINGER_BYTES: usize = 256 * 1024;

/// Ends our side (FIN, or TLS close_notify then FIN) and reads and discards what the peer
/// still sends, for a bounded time and amount, before the socket is dropped. Dropping a
/// socket with unread input makes the kernel send RST, which can destroy the Close frame we
/// just wrote before the peer reads it (RFC 6455 §7.1.1: the server closes TCP first, the
/// client then reads to the end).
pub(crate) async fn close_gracefully<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) {
    let _ = tokio::time::timeout(LINGER, async {
        let _ = s.shutdown().await;
        let mut drained = 0usize;
        while drained < LINGER_BYTES {
            match read_chunk(s, |_| {}).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_that_fills_before_its_task_took_anything_is_busy_not_killed() {
        let (link, queue) = Link::new(100);
        assert_eq!(link.push(vec![0; 60]), Push::Queued);
        // The task has not run yet: a burst, not a peer that does not read.
        assert_eq!(link.push(vec![1; 60]), Push::Busy(vec![1; 60]));
        assert_eq!(queue.try_next(), Some(Outgoing::Batch(vec![vec![0; 60]])));
        // Now it writes those 60 bytes: a full queue behind a write is the peer's doing.
        assert_eq!(link.push(vec![2; 30]), Push::Queued);
        assert_eq!(link.push(vec![3; 30]), Push::Full(vec![3; 30]));
        // Written: the budget is free again, and nothing is being written.
        queue.written(60);
        assert_eq!(link.push(vec![4; 60]), Push::Queued);
        assert_eq!(link.push(vec![5; 60]), Push::Busy(vec![5; 60]));
    }

    #[test]
    fn a_message_larger_than_the_budget_goes_when_the_queue_is_empty() {
        let (link, queue) = Link::new(10);
        assert_eq!(link.push(vec![0; 50]), Push::Queued);
        assert_eq!(queue.try_next(), Some(Outgoing::Batch(vec![vec![0; 50]])));
        queue.written(50);
        link.kill();
        assert_eq!(link.push(vec![1]), Push::Gone(vec![1]));
        assert_eq!(queue.try_next(), Some(Outgoing::Killed));
    }
}
