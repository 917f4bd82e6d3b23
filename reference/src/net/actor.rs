//! The task that owns the [`Proxy`]: it receives [`Event`]s over one bounded channel, feeds
//! them to the sans-IO proxy with the time, and carries out the [`Action`]s.
//!
//! - `Send{flow}` on a connection: serialized and pushed on the flow's queue, never waiting.
//!   A queue over its byte budget means the peer does not read: its connection is closed, the
//!   flow is gone (memory stays bounded) and the message is a delivery failure. A queue whose
//!   task has ended: the flow is gone; a request that was on its way is a delivery failure.
//! - `Send{flow}` on a UDP peer, `Forward` over UDP: sent from our one UDP socket at once.
//! - `Forward` over TCP: on an open TCP connection to that address (ours or the peer's), or a
//!   new one (bounded connect time); up to 64 messages wait for it meanwhile, held by the
//!   actor, and become delivery failures if it cannot be opened.
//! - `Forward` over TLS (not supported yet), or to a name that would need DNS: a delivery
//!   failure.
//! - A delivery failure of a request goes to [`Proxy::forward_failed`] (503 upstream).
//! - A timer calls [`Proxy::tick`] at [`Proxy::next_deadline`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::resolve::resolve;
use super::shared::{Event, Link, Push, Shared, Stats};
use super::sip_conn;
use super::udp_peers::UdpPeers;
use crate::proxy::{Action, Dialable, Proxy, Target, Time};
use crate::sip::{Message, Method};
use crate::transport::{Flow, FlowId, Transport};

/// A connection the actor can write to.
struct Conn {
    link: Link,
    /// For TCP flows: the peer address, so a Forward there reuses the connection.
    tcp_peer: Option<SocketAddr>,
}

/// Messages held for one outgoing connection while it is being opened.
const MAX_WAITING_FOR_CONNECT: usize = 64;

pub(crate) struct Actor {
    proxy: Proxy,
    start: Instant,
    shared: Arc<Shared>,
    conns: HashMap<FlowId, Conn>,
    tcp_by_peer: HashMap<SocketAddr, FlowId>,
    /// Messages for outgoing connections still being opened.
    connecting: HashMap<FlowId, Vec<Message>>,
    udp: Option<(Arc<UdpSocket>, SocketAddr)>,
    udp_peers: UdpPeers,
    /// Outgoing TCP connection tasks.
    outgoing: JoinSet<()>,
}

impl Actor {
    pub fn new(
        proxy: Proxy,
        start: Instant,
        shared: Arc<Shared>,
        udp: Option<(Arc<UdpSocket>, SocketAddr)>,
        max_udp_peers: usize,
    ) -> Actor {
        Actor {
            proxy,
            start,
            shared,
            conns: HashMap::new(),
            tcp_by_peer: HashMap::new(),
            connecting: HashMap::new(),
            udp,
            udp_peers: UdpPeers::new(max_udp_peers),
            outgoing: JoinSet::new(),
        }
    }

    fn now(&self) -> Time {
        Time(u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Runs until shutdown; then closes every outgoing connection task.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let deadline = self
                .proxy
                .next_deadline()
                .map(|t| self.start + std::time::Duration::from_millis(t.0.saturating_add(1)));
            tokio::select! {
                _ = shutdown.changed() => break,
                ev = events.recv() => match ev {
                    Some(ev) => self.on_event(ev),
                    None => break,
                },
                _ = sleep_until_opt(deadline) => {
                    let now = self.now();
                    self.proxy.tick(now);
                }
                Some(_) = self.outgoing.join_next(), if !self.outgoing.is_empty() => {}
            }
        }
        // Dropping the links ends the connection tasks' queues; the outgoing ones are ours.
        self.conns.clear();
        self.outgoing.shutdown().await;
    }

    fn on_event(&mut self, ev: Event) {
        let now = self.now();
        match ev {
            Event::FlowOpened { flow, link } => {
                let tcp_peer = (flow.transport == Transport::Tcp).then_some(flow.remote);
                if let Some(peer) = tcp_peer {
                    self.tcp_by_peer.insert(peer, flow.id);
                }
                self.conns.insert(flow.id, Conn { link, tcp_peer });
                self.proxy.flow_opened(flow);
            }
            Event::Connected { flow } => {
                let waiting = self.connecting.remove(&flow.id).unwrap_or_default();
                if self.conns.contains_key(&flow.id) {
                    self.proxy.flow_opened(flow);
                    for msg in waiting {
                        self.send_on(flow.id, msg);
                    }
                }
            }
            Event::ConnectFailed { flow } => {
                let waiting = self.connecting.remove(&flow).unwrap_or_default();
                self.forget(flow);
                for msg in waiting {
                    self.delivery_failed(msg);
                }
            }
            Event::Message { flow, msg } => {
                let actions = self.proxy.handle(*msg, flow, now);
                self.dispatch(actions);
            }
            Event::Datagram { from, msg } => {
                let Some((_, local)) = self.udp else {
                    return;
                };
                let shared = self.shared.clone();
                let t = self.udp_peers.touch(from, now, || shared.new_flow_id());
                if let Some((old, addr)) = t.evicted {
                    debug!(flow = %old, %addr, "UDP flow table full; least recent peer evicted");
                    self.proxy.flow_closed(old);
                }
                if t.is_new {
                    self.proxy.flow_opened(Flow {
                        id: t.flow,
                        transport: Transport::Udp,
                        local,
                        remote: from,
                    });
                }
                let actions = self.proxy.handle(*msg, t.flow, now);
                self.dispatch(actions);
            }
            Event::FlowClosed { flow } => {
                self.forget(flow);
            }
            Event::Stats(reply) => {
                let _ = reply.send(Stats {
                    bindings: self.proxy.location().binding_count(),
                    flows: self.proxy.flow_count(),
                    connections: self.conns.len(),
                    udp_peers: self.udp_peers.len(),
                    pending: self.proxy.pending_count(),
                    sockets: self.shared.sockets(),
                });
            }
        }
    }

    /// The flow is gone: drop its link and tell the proxy (5626-7-d).
    fn forget(&mut self, flow: FlowId) {
        if let Some(peer) = self.conns.remove(&flow).and_then(|c| c.tcp_peer)
            && self.tcp_by_peer.get(&peer) == Some(&flow)
        {
            self.tcp_by_peer.remove(&peer);
        }
        let removed = self.proxy.flow_closed(flow);
        if removed > 0 {
            debug!(%flow, bindings = removed, "flow closed; its bindings are gone");
        }
    }

    fn dispatch(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { flow, msg } => self.send_on(flow, msg),
                Action::Forward { target, msg } => self.forward(&target, msg),
            }
        }
    }

    fn send_on(&mut self, flow: FlowId, msg: Message) {
        if let Some(addr) = self.udp_peers.addr(flow) {
            self.send_udp(addr, msg);
            return;
        }
        if let Some(waiting) = self.connecting.get_mut(&flow) {
            // Our connection to the peer is still being opened: bounded like a queue.
            if waiting.len() < MAX_WAITING_FOR_CONNECT {
                waiting.push(msg);
            } else {
                self.delivery_failed(msg);
            }
            return;
        }
        let Some(conn) = self.conns.get(&flow) else {
            // Mutant: the write into the dead connection is lost, nobody hears of it.
            #[cfg(feature = "mutants")]
            if self.proxy.mutation() == Some(crate::mutation::Mutation::DeadFlowTreatedAsLive) {
                return;
            }
            debug!(%flow, "no connection for the flow");
            self.delivery_failed(msg);
            return;
        };
        #[cfg(feature = "mutants")]
        let bytes = match self.proxy.mutation() {
            Some(crate::mutation::Mutation::BundledResponses) if final_non_invite(&msg) => {
                [msg.to_bytes(), msg.to_bytes()].concat()
            }
            Some(crate::mutation::Mutation::DuplicateFinalResponse) if final_non_invite(&msg) => {
                // Mutant: the copy is queued first; the original follows as usual.
                let _ = conn.link.push(msg.to_bytes());
                msg.to_bytes()
            }
            _ => msg.to_bytes(),
        };
        #[cfg(not(feature = "mutants"))]
        let bytes = msg.to_bytes();
        match conn.link.push(bytes) {
            Push::Queued => {}
            Push::Full(_) => {
                // A peer that does not read: close it rather than queue without bound.
                info!(%flow, "send queue over its byte budget; closing the connection");
                conn.link.kill();
                self.forget(flow);
                self.delivery_failed(msg);
            }
            Push::Busy(_) => {
                // A burst filled the queue before the connection task could take it: the
                // message fails (503 upstream for a request), the connection is not to blame.
                debug!(%flow, "send queue full before its task ran; message not sent");
                self.delivery_failed(msg);
            }
            Push::Gone(_) => {
                self.forget(flow);
                self.delivery_failed(msg);
            }
        }
    }

    fn send_udp(&mut self, addr: SocketAddr, msg: Message) {
        let Some((socket, _)) = &self.udp else {
            self.delivery_failed(msg);
            return;
        };
        // UDP is lossy: a full socket buffer or an oversized message is a lost datagram,
        // which is a delivery failure for a request we forward.
        if let Err(error) = socket.try_send_to(&msg.to_bytes(), addr) {
            debug!(%addr, %error, "UDP send failed");
            self.delivery_failed(msg);
        }
    }

    fn forward(&mut self, target: &Target, msg: Message) {
        let addr = match resolve(target) {
            Ok(a) => a,
            Err(error) => {
                debug!(%error, "forward target not resolvable");
                self.delivery_failed(msg);
                return;
            }
        };
        match target.transport {
            Dialable::Udp => self.send_udp(addr, msg),
            Dialable::Tcp => match self.tcp_by_peer.get(&addr) {
                Some(&flow) => self.send_on(flow, msg),
                None => self.connect(addr, msg),
            },
            Dialable::Tls => {
                debug!(%addr, "TLS forwarding is not supported by the reference server");
                self.delivery_failed(msg);
            }
        }
    }

    fn connect(&mut self, addr: SocketAddr, msg: Message) {
        let Ok(permit) = self.shared.connections.clone().try_acquire_owned() else {
            warn!(%addr, "connection limit reached; cannot connect");
            self.delivery_failed(msg);
            return;
        };
        let id = self.shared.new_flow_id();
        let (link, queue) = Link::new(self.shared.limits.flow_queue_bytes);
        self.conns.insert(
            id,
            Conn {
                link,
                tcp_peer: Some(addr),
            },
        );
        self.connecting.insert(id, vec![msg]);
        self.tcp_by_peer.insert(addr, id);
        self.outgoing.spawn(sip_conn::connect(
            addr,
            id,
            queue,
            self.shared.clone(),
            permit,
        ));
    }

    /// A message could not be sent: a request gets the proxy's answer upstream (503); a
    /// response or an ACK is dropped (RFC 3261 §17: nothing answers them).
    fn delivery_failed(&mut self, msg: Message) {
        if !msg.is_request() || msg.method() == Some(&Method::Ack) {
            return;
        }
        let now = self.now();
        let actions = self.proxy.forward_failed(msg, now);
        // forward_failed answers with responses only, whose failure ends here.
        self.dispatch(actions);
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// A final response to a request other than INVITE (what the response mutants repeat).
#[cfg(feature = "mutants")]
fn final_non_invite(msg: &Message) -> bool {
    msg.status_line().is_some_and(|s| s.code >= 200)
        && msg
            .cseq()
            .is_some_and(|c| c.method != crate::sip::Method::Invite)
}
