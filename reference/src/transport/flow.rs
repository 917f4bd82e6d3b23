//! Flows: one connection (or, for UDP, one 5-tuple) between us and a peer (RFC 5626 §3.3).
//! Plain data here; the tokio shell owns the sockets and hands out the ids.

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

use super::Transport;

/// An opaque flow identifier, unique for the life of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FlowId(pub u64);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow-{}", self.0)
    }
}

/// A flow as the routing logic sees it: which transport, which local listener, which peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Flow {
    pub id: FlowId,
    pub transport: Transport,
    /// Our address on this flow (the listener's address).
    pub local: SocketAddr,
    /// The peer's address as the socket reports it.
    pub remote: SocketAddr,
}
