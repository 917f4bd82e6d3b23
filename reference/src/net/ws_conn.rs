//! One WebSocket connection (WS or WSS): opening handshake, then frames both ways.
//!
//! - **Handshake** ([`crate::ws::handshake::accept_bytes`] with the configured policy): the
//!   TLS handshake (WSS) and the HTTP upgrade together must complete within the configured
//!   time, or the connection is dropped; a refusal is written (400/403/404/426/431) and the
//!   connection closed. Bytes after the request head are the first frames.
//! - **Frames in** ([`Receiver`], [`Role::Server`], `max_message` from the config, no idle
//!   buffer kept): a data message, text or binary alike (7118-4.2-a), goes through
//!   [`classify_ws_payload`] (A7 keep-alive, A10 policy); Ping → Pong with the same payload
//!   (6455-5.5.3-a); Pong ignored; Close → the proxy is told the flow is gone, a Close echoing
//!   the code is sent and TCP closed (6455-5.5.1-b); Fail → the proxy is told, the Fail's
//!   Close frame (1002/1007/1009) is sent and TCP closed (6455-7.1.7-a).
//! - **Frames out**: one SIP message per WebSocket message (7118-5-b), unmasked
//!   (6455-5.1-c), text when the message is UTF-8 and binary otherwise (7118-4.2-b).
//! - The flow is reported closed to the proxy *before* the closing Close frame is written,
//!   so by the time a peer sees the connection end, no request can be routed to it
//!   (5626-7-d).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info};

use super::payload::{KEEPALIVE_PONG, WsPayload, classify_ws_payload};
use super::shared::{
    Event, Link, Outgoing, Shared, close_gracefully, read_chunk, write_batch, write_bounded,
};
use crate::transport::{Flow, Transport};
use crate::ws::codec::{
    self, CloseCode, Event as WsEvent, MessageKind, Receiver, Role, encode_close, encode_message,
    encode_pong, sip_message_kind,
};
use crate::ws::handshake::{ServerStep, accept_bytes};

/// The opening handshake: `Some(bytes after the head)` once a 101 is written.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    shared: &Shared,
    remote: SocketAddr,
) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    loop {
        match accept_bytes(&buf, &shared.ws_policy) {
            ServerStep::NeedMore => {}
            ServerStep::Accept { accepted, consumed } => {
                let reply = accepted.to_bytes();
                write_bounded(stream, &reply, shared.limits.write_timeout)
                    .await
                    .ok()?;
                buf.drain(..consumed);
                return Some(buf);
            }
            ServerStep::Reject(rejected) => {
                debug!(%remote, status = rejected.status(), requirement = rejected.requirement(),
                    "WebSocket handshake refused");
                let _ =
                    write_bounded(stream, &rejected.to_bytes(), shared.limits.write_timeout).await;
                close_gracefully(stream).await;
                return None;
            }
        }
        // accept_bytes refuses a head past its size limit (431), so `buf` stays bounded.
        match read_chunk(stream, |b| buf.extend_from_slice(b)).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Serves one accepted TCP connection as plain WS.
pub(crate) async fn serve_ws(
    mut tcp: tokio::net::TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    // Boxed: the handshake's state is large and short-lived; the idle connection's task
    // keeps only the frame loop's.
    let hs = Box::pin(tokio::time::timeout(
        shared.limits.handshake_timeout,
        handshake(&mut tcp, &shared, remote),
    ))
    .await;
    match hs {
        Ok(Some(rest)) => run(tcp, rest, Transport::Ws, local, remote, shared, permit).await,
        Ok(None) => {}
        Err(_) => debug!(%remote, "WebSocket handshake timed out; dropped"),
    }
}

/// Serves one accepted TCP connection as WSS: TLS, then the WebSocket handshake, both within
/// the handshake time.
pub(crate) async fn serve_wss(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    local: SocketAddr,
    remote: SocketAddr,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    let hs = Box::pin(tokio::time::timeout(
        shared.limits.handshake_timeout,
        async {
            let mut s = acceptor.accept(tcp).await.ok()?;
            let rest = handshake(&mut s, &shared, remote).await?;
            Some((s, rest))
        },
    ))
    .await;
    match hs {
        Ok(Some((s, rest))) => run(s, rest, Transport::Wss, local, remote, shared, permit).await,
        Ok(None) => {}
        Err(_) => debug!(%remote, "TLS or WebSocket handshake timed out; dropped"),
    }
}

/// What the frame loop does next.
enum Next {
    Continue,
    /// Write this Close frame, if any, and close.
    Close(Option<Vec<u8>>),
}

/// The frame loop of an upgraded connection.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    first_bytes: Vec<u8>,
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
) {
    let flow = Flow {
        id: shared.new_flow_id(),
        transport,
        local,
        remote,
    };
    let (link, queue) = Link::new(shared.limits.flow_queue_bytes);
    let opened = Box::pin(shared.events.send(Event::FlowOpened { flow, link }));
    if opened.await.is_err() {
        return;
    }
    debug!(flow = %flow.id, %remote, ?transport, "WebSocket flow open");
    let limits = codec::Limits {
        max_message: shared.limits.max_message,
        // Many idle connections: release input capacity as soon as it drains.
        max_idle_buffer: 0,
    };
    let mut receiver = Receiver::new(Role::Server, limits);
    #[cfg(feature = "mutants")]
    if shared.ws_policy.mutation == Some(crate::mutation::Mutation::SkipUtf8Validation) {
        receiver.skip_utf8_validation();
    }
    receiver.feed(&first_bytes);
    drop(first_bytes);
    let write_timeout = shared.limits.write_timeout;
    let mut reported = false;
    let mut pong = PendingPong::default();
    let closing: Option<Vec<u8>> = 'conn: loop {
        while let Some(ev) = receiver.next_event() {
            // RFC 6455 §5.5.3: of the Pings read together, only the latest is answered, after
            // the batch: a Ping flood costs one Pong per read, not one write per Ping.
            let ev = match pong.absorb(ev) {
                Some(ev) => ev,
                None => continue,
            };
            // Boxed (like every rare or short-lived step below): an idle connection's task
            // holds only the state of the wait in `select!`.
            let next = Box::pin(on_frame_event(
                ev,
                &mut stream,
                &flow,
                &shared,
                &mut reported,
            ));
            match next.await {
                Next::Continue => {}
                Next::Close(frame) => break 'conn frame,
            }
        }
        if let Some(bytes) = pong.take_frame()
            && Box::pin(write_bounded(&mut stream, &bytes, write_timeout))
                .await
                .is_err()
        {
            break 'conn None;
        }
        // Writes before reads: a peer sending fast must not starve its own answers (its
        // queue would fill and close it), and we read no more while we owe it bytes.
        tokio::select! {
            biased;
            out = queue.next() => match out {
                Outgoing::Batch(batch) => {
                    let n: usize = batch.iter().map(Vec::len).sum();
                    let mut frames = Vec::with_capacity(n + 10 * batch.len());
                    for bytes in &batch {
                        frames.extend_from_slice(&sip_frame(bytes));
                    }
                    drop(batch);
                    // A write the peer does not read ends with the write timeout or with the
                    // actor's kill; either way a frame may be half written, so no Close follows.
                    let done =
                        Box::pin(write_batch(&mut stream, &frames, write_timeout, &queue)).await;
                    queue.written(n);
                    if !done {
                        break 'conn None;
                    }
                }
                Outgoing::Killed => {
                    info!(flow = %flow.id, %remote, "peer does not read its messages; closing");
                    break 'conn Some(encode_close(Some(CloseCode::POLICY_VIOLATION), "not reading", None));
                }
                // The actor dropped the link: the server is going away.
                Outgoing::Released => break 'conn Some(encode_close(Some(CloseCode::GOING_AWAY), "", None)),
            },
            r = read_chunk(&mut stream, |b| receiver.feed(b)) => match r {
                Ok(0) | Err(_) => break 'conn None,
                Ok(_) => {}
            },
        }
    };
    Box::pin(async {
        if !reported {
            let _ = shared
                .events
                .send(Event::FlowClosed { flow: flow.id })
                .await;
        }
        if let Some(frame) = closing {
            let _ = write_bounded(&mut stream, &frame, write_timeout).await;
        }
        close_gracefully(&mut stream).await;
    })
    .await;
    debug!(flow = %flow.id, %remote, "WebSocket flow closed");
}

/// Acts on one receiver event; writes the immediate answers (Pong, keep-alive, A10 400).
async fn on_frame_event<S: AsyncWrite + Unpin>(
    ev: WsEvent,
    stream: &mut S,
    flow: &Flow,
    shared: &Shared,
    reported: &mut bool,
) -> Next {
    let write_timeout = shared.limits.write_timeout;
    let reply = match ev {
        WsEvent::Message { payload, .. } => match classify_ws_payload(&payload) {
            WsPayload::Sip(msg) => {
                if shared
                    .events
                    .send(Event::Message { flow: flow.id, msg })
                    .await
                    .is_err()
                {
                    return Next::Close(Some(encode_close(Some(CloseCode::GOING_AWAY), "", None)));
                }
                None
            }
            // RFC 5626 §5.4 mapped to WebSocket (A7).
            WsPayload::KeepAlive => Some(encode_message(MessageKind::Text, KEEPALIVE_PONG, None)),
            WsPayload::Reject { response, error } => {
                debug!(flow = %flow.id, %error, "not one SIP message in a WebSocket message; 400");
                Some(sip_frame(&response.to_bytes()))
            }
            WsPayload::Drop { error } => {
                debug!(flow = %flow.id, %error, "WebSocket message is not a SIP message; dropped");
                None
            }
        },
        // The frame loop's `PendingPong` takes every Ping before this point.
        WsEvent::Ping(_) => None,
        WsEvent::Pong(_) => None,
        WsEvent::Close { code, .. } => {
            report_closed(flow, shared, reported).await;
            // RFC 6455 §5.5.1: echo the code; an empty Close is answered with an empty one.
            let code = code.and_then(|c| CloseCode::new(c).ok());
            return Next::Close(Some(encode_close(code, "", None)));
        }
        WsEvent::Fail { reason, .. } => {
            debug!(flow = %flow.id, %reason, requirement = reason.requirement(),
                "failing the WebSocket connection");
            report_closed(flow, shared, reported).await;
            return Next::Close(Some(reason.close_frame(None)));
        }
    };
    if let Some(bytes) = reply
        && write_bounded(stream, &bytes, write_timeout).await.is_err()
    {
        return Next::Close(None);
    }
    Next::Continue
}

async fn report_closed(flow: &Flow, shared: &Shared, reported: &mut bool) {
    if !*reported {
        *reported = true;
        let _ = shared
            .events
            .send(Event::FlowClosed { flow: flow.id })
            .await;
    }
}

/// The Pong owed for the latest Ping of a batch of frames (RFC 6455 §5.5.3: "If an endpoint
/// receives a Ping frame and has not yet sent Pong frame(s) in response to previous Ping
/// frame(s), the endpoint MAY elect to send a Pong frame for only the most recently processed
/// Ping frame"). At most one payload of at most 125 bytes is held, however many Pings arrive.
#[derive(Debug, Default)]
struct PendingPong(Option<Vec<u8>>);

impl PendingPong {
    /// Keeps a Ping's payload (replacing an older one) and returns every other event.
    fn absorb(&mut self, ev: WsEvent) -> Option<WsEvent> {
        match ev {
            WsEvent::Ping(payload) => {
                self.0 = Some(payload);
                None
            }
            other => Some(other),
        }
    }

    /// The Pong frame owed, if any: it carries the latest Ping's payload (6455-5.5.3-a; at
    /// most 125 bytes, so encoding cannot fail).
    fn take_frame(&mut self) -> Option<Vec<u8>> {
        self.0.take().and_then(|p| encode_pong(&p, None).ok())
    }
}

/// One serialized SIP message as one unmasked WebSocket message (6455-5.1-c, 7118-5-b),
/// text when it is UTF-8 and binary otherwise (7118-4.2-b).
fn sip_frame(bytes: &[u8]) -> Vec<u8> {
    encode_message(sip_message_kind(bytes), bytes, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::shared::Limits;
    use crate::ws::codec::{Limits as WsLimits, encode_close, encode_ping};
    use crate::ws::handshake::Policy;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::{Semaphore, mpsc};

    const MASK: Option<[u8; 4]> = Some([1, 2, 3, 4]);

    #[test]
    fn req_6455_5_5_3_a_only_the_latest_ping_of_a_batch_is_owed_a_pong() {
        let mut p = PendingPong::default();
        assert_eq!(p.take_frame(), None);
        for payload in [&b"one"[..], b"two", b"three"] {
            assert_eq!(p.absorb(WsEvent::Ping(payload.to_vec())), None);
        }
        let pong = WsEvent::Pong(b"x".to_vec());
        assert_eq!(
            p.absorb(pong.clone()),
            Some(pong),
            "other events pass through"
        );
        assert_eq!(p.take_frame(), encode_pong(b"three", None).ok());
        assert_eq!(p.take_frame(), None, "one Pong, once");
    }

    /// A Ping flood read in one batch is answered with one Pong carrying the last payload,
    /// not with one Pong per Ping (RFC 6455 §5.5.3), and the connection goes on.
    #[tokio::test]
    async fn a_batch_of_a_thousand_pings_gets_one_pong() {
        let (events, mut actor) = mpsc::channel(16);
        let limits = Limits {
            handshake_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            flow_queue_bytes: 1024,
            max_message: WsLimits::DEFAULT_MAX_MESSAGE,
            max_stream_buffer: 1024,
        };
        let shared = Arc::new(Shared::new(events, 4, limits, Policy::default()));
        let permit = Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("a fresh semaphore has a permit");
        let mut flood = Vec::new();
        for i in 0..1000u32 {
            flood.extend(encode_ping(&i.to_be_bytes(), MASK).expect("short payload"));
        }
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("an address");
        let task = tokio::spawn(run(
            server,
            flood,
            Transport::Ws,
            addr,
            addr,
            shared,
            permit,
        ));
        // The actor's side: the flow opens (its link is kept: dropping it closes with 1001).
        let opened = actor.recv().await;
        assert!(matches!(opened, Some(Event::FlowOpened { .. })));
        client
            .write_all(&encode_close(Some(CloseCode::NORMAL), "", MASK))
            .await
            .expect("write the Close");
        let mut rx = Receiver::new(Role::Client, WsLimits::default());
        let mut seen = Vec::new();
        while seen.len() < 2 {
            if let Some(ev) = rx.next_event() {
                seen.push(ev);
                continue;
            }
            let mut buf = [0u8; 4096];
            let n = tokio::io::AsyncReadExt::read(&mut client, &mut buf)
                .await
                .expect("read");
            assert!(n > 0, "the server closed after {seen:?}");
            rx.feed(&buf[..n]);
        }
        assert_eq!(seen[0], WsEvent::Pong(999u32.to_be_bytes().to_vec()));
        assert!(
            matches!(
                seen[1],
                WsEvent::Close {
                    code: Some(1000),
                    ..
                }
            ),
            "then the Close echo, no other Pong: {seen:?}"
        );
        drop(client);
        task.await.expect("the connection task ends");
        assert!(matches!(actor.recv().await, Some(Event::FlowClosed { .. })));
        drop(opened);
    }
}
