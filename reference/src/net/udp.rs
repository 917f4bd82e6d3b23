//! The UDP socket's receive loop: each datagram is one SIP message (RFC 3261 §18.3,
//! [`Message::parse_datagram`]: octets past Content-Length are discarded). What does not
//! parse is dropped and logged at debug; a datagram of only CR/LF (a keep-alive some UAs send
//! over UDP) is ignored. Flows per remote address are the actor's ([`super::udp_peers`]);
//! sends go straight from the actor to the socket.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::debug;

use super::shared::{Event, Shared};
use crate::sip::Message;

/// The largest UDP payload (RFC 768 length field, minus headers).
const MAX_DATAGRAM: usize = 65_535;

pub(crate) async fn receive(
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    // One buffer for the socket, not per peer.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = shutdown.changed() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(error) => {
                    debug!(%error, "UDP receive error");
                    continue;
                }
            },
        };
        let datagram = &buf[..n];
        if datagram.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            continue;
        }
        match Message::parse_datagram(datagram) {
            Ok(msg) => {
                let ev = Event::Datagram {
                    from,
                    msg: Box::new(msg),
                };
                if shared.events.send(ev).await.is_err() {
                    return;
                }
            }
            Err(error) => debug!(%from, %error, "unparsable UDP datagram dropped"),
        }
    }
}
