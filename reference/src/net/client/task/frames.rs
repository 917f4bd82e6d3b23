//! The WebSocket side of an open connection: frames from the server (RFC 6455 §5.5 control
//! frames, §7.1.7 failing), our masked frames (§5.1, §5.3), and our closing handshake
//! (§7.1.2).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use tracing::warn;

use super::Task;
use crate::net::client::connect::Io;
use crate::net::client::traffic::Direction;
use crate::net::client::{ClientEvent, CloseCause, LinkState};
use crate::ws::codec::{
    CloseCode, Event as WsEvent, Receiver, encode_close, encode_message, encode_pong,
};

impl Task {
    /// One frame event from the server; `Some` when the connection ends with it.
    pub(super) async fn on_frame(
        &mut self,
        ev: WsEvent,
        stream: &mut Box<dyn Io>,
    ) -> Option<CloseCause> {
        match ev {
            WsEvent::Message { kind, payload } => {
                // Text and binary alike carry SIP (7118-4.2-a).
                self.record(Direction::Received, kind, &payload);
                let now = self.now_ms();
                let evs = self.ua.receive_payload(&payload, kind, now);
                self.on_ua_events(evs, Some(&payload), None);
                None
            }
            WsEvent::Ping(p) => {
                // RFC 6455 §5.5.2: a Pong with the Ping's payload (at most 125 bytes).
                let sent = match self.mask() {
                    Ok(mask) => match encode_pong(&p, Some(mask)) {
                        Ok(pong) => write(self.s.params.timeouts.write, stream, &pong).await,
                        Err(_) => Ok(()),
                    },
                    Err(e) => Err(e),
                };
                sent.err().map(CloseCause::Abnormal)
            }
            WsEvent::Pong(_) => None,
            WsEvent::Close { code, reason } => {
                // RFC 6455 §5.5.1: answer with a Close echoing the code.
                let echo = code.and_then(|c| CloseCode::new(c).ok());
                if let Ok(mask) = self.mask() {
                    let _ = write(
                        self.s.params.timeouts.write,
                        stream,
                        &encode_close(echo, "", Some(mask)),
                    )
                    .await;
                }
                Some(CloseCause::ServerClose { code, reason })
            }
            WsEvent::Fail { code, reason } => {
                // RFC 6455 §7.1.7: the server broke a framing rule: Close with the code,
                // then TCP goes.
                warn!(url = %self.s.params.url, %reason, requirement = reason.requirement(),
                    "failing the WebSocket connection");
                if let Ok(mask) = self.mask() {
                    let _ = write(
                        self.s.params.timeouts.write,
                        stream,
                        &reason.close_frame(Some(mask)),
                    )
                    .await;
                }
                Some(CloseCause::Failed {
                    code,
                    reason: reason.to_string(),
                })
            }
        }
    }

    /// A fresh masking key for every frame, from the system's CSPRNG (RFC 6455 §5.3, row
    /// 6455-5.3-a).
    pub(super) fn mask(&self) -> Result<[u8; 4], String> {
        ring::rand::generate::<[u8; 4]>(&self.s.rng)
            .map(|k| k.expose())
            .map_err(|_| "the system random source failed".to_string())
    }

    /// Writes everything queued, one SIP message per masked WebSocket message (7118-5-b,
    /// 6455-5.1-a), in the frame type [`wire`] chose (7118-4.2-b).
    pub(super) async fn flush(&mut self, stream: &mut Box<dyn Io>) -> Result<(), String> {
        while let Some((bytes, kind)) = self.outbox.pop_front() {
            let frame = encode_message(kind, &bytes, Some(self.mask()?));
            write(self.s.params.timeouts.write, stream, &frame).await?;
            self.record(Direction::Sent, kind, &bytes);
        }
        Ok(())
    }

    /// Our closing handshake (RFC 6455 §7.1.2): Close 1000, then wait (bounded) for the
    /// server's Close and its end of TCP.
    pub(super) async fn close_by_us(&mut self, stream: &mut Box<dyn Io>, rx: &mut Receiver) {
        if let Ok(mask) = self.mask() {
            let frame = encode_close(Some(CloseCode::NORMAL), "", Some(mask));
            if write(self.s.params.timeouts.write, stream, &frame)
                .await
                .is_ok()
            {
                let wait = async {
                    let mut buf = [0u8; 4096];
                    loop {
                        while let Some(ev) = rx.next_event() {
                            if matches!(ev, WsEvent::Close { .. } | WsEvent::Fail { .. }) {
                                return;
                            }
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => rx.feed(&buf[..n]),
                        }
                    }
                };
                let _ = timeout(self.s.params.timeouts.close, wait).await;
                let _ = timeout(self.s.params.timeouts.close, drain(stream)).await;
            }
        }
        let _ = stream.shutdown().await;
        self.set_state(LinkState::Stopped);
        self.emit(ClientEvent::Closed {
            connection: self.connection,
            cause: CloseCause::Local,
            reconnect_in: None,
        });
    }
}

/// Reads and discards until the peer closes.
pub(super) async fn drain(stream: &mut Box<dyn Io>) {
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Writes `bytes` and flushes, within `limit`. (A free function: the task is not `Sync`, so
/// no `&Task` may live across an await.)
pub(super) async fn write(
    limit: Duration,
    stream: &mut Box<dyn Io>,
    bytes: &[u8],
) -> Result<(), String> {
    let w = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    match timeout(limit, w).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("write failed: {e}")),
        Err(_) => Err(format!(
            "the server read nothing for {} ms",
            limit.as_millis()
        )),
    }
}
