//! The UDP flow table: one [`FlowId`] per remote address (RFC 5626 §3.3: a UDP flow is the
//! 5-tuple; we have one local socket, so the remote address names it).
//!
//! Bounded: at most `capacity` peers. When a datagram arrives from a new address while the
//! table is full, the peer heard from least recently is evicted, and the shell reports its
//! flow closed to the proxy (its bindings go, 5626-7-d; a UDP UA refreshes its registration
//! anyway). Eviction scans the table, O(capacity), only when it is full. Plain data, no
//! clock: the caller passes the time.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::proxy::Time;
use crate::transport::FlowId;

#[derive(Debug, Clone, Copy)]
struct Peer {
    flow: FlowId,
    last_seen: Time,
}

/// What [`UdpPeers::touch`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touched {
    pub flow: FlowId,
    /// A new flow: the proxy must be told (`flow_opened`).
    pub is_new: bool,
    /// A flow evicted to make room: the proxy must be told (`flow_closed`).
    pub evicted: Option<(FlowId, SocketAddr)>,
}

/// Remote address ⇄ flow, bounded.
#[derive(Debug)]
pub struct UdpPeers {
    capacity: usize,
    by_addr: HashMap<SocketAddr, Peer>,
    by_flow: HashMap<FlowId, SocketAddr>,
}

impl UdpPeers {
    /// A table of at most `capacity` peers (at least 1).
    pub fn new(capacity: usize) -> Self {
        UdpPeers {
            capacity: capacity.max(1),
            by_addr: HashMap::new(),
            by_flow: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// The peer address of a UDP flow.
    pub fn addr(&self, flow: FlowId) -> Option<SocketAddr> {
        self.by_flow.get(&flow).copied()
    }

    /// A datagram came from `addr` at `now`: its flow, created with `new_id()` if unknown.
    pub fn touch(
        &mut self,
        addr: SocketAddr,
        now: Time,
        new_id: impl FnOnce() -> FlowId,
    ) -> Touched {
        if let Some(p) = self.by_addr.get_mut(&addr) {
            p.last_seen = now;
            return Touched {
                flow: p.flow,
                is_new: false,
                evicted: None,
            };
        }
        let evicted = if self.by_addr.len() >= self.capacity {
            self.evict_oldest()
        } else {
            None
        };
        let flow = new_id();
        self.by_addr.insert(
            addr,
            Peer {
                flow,
                last_seen: now,
            },
        );
        self.by_flow.insert(flow, addr);
        Touched {
            flow,
            is_new: true,
            evicted,
        }
    }

    fn evict_oldest(&mut self) -> Option<(FlowId, SocketAddr)> {
        let (&addr, peer) = self.by_addr.iter().min_by_key(|(_, p)| p.last_seen)?;
        let flow = peer.flow;
        self.by_addr.remove(&addr);
        self.by_flow.remove(&flow);
        Some((flow, addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn one_flow_per_address() {
        let mut next = 0;
        let mut id = || {
            next += 1;
            FlowId(next)
        };
        let mut t = UdpPeers::new(4);
        let a = t.touch(addr(1), Time(0), &mut id);
        assert!(a.is_new);
        let again = t.touch(addr(1), Time(5), &mut id);
        assert_eq!(again.flow, a.flow);
        assert!(!again.is_new);
        let b = t.touch(addr(2), Time(6), &mut id);
        assert_ne!(b.flow, a.flow);
        assert_eq!(t.addr(a.flow), Some(addr(1)));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_heard_peer() {
        let mut next = 0;
        let mut id = || {
            next += 1;
            FlowId(next)
        };
        let mut t = UdpPeers::new(2);
        let a = t.touch(addr(1), Time(0), &mut id);
        let b = t.touch(addr(2), Time(1), &mut id);
        // a is heard again: b is now the oldest.
        t.touch(addr(1), Time(2), &mut id);
        let c = t.touch(addr(3), Time(3), &mut id);
        assert_eq!(c.evicted, Some((b.flow, addr(2))));
        assert_eq!(t.len(), 2);
        assert_eq!(t.addr(b.flow), None);
        assert_eq!(t.addr(a.flow), Some(addr(1)));
        // The evicted address comes back as a new flow.
        let b2 = t.touch(addr(2), Time(4), &mut id);
        assert!(b2.is_new);
        assert_ne!(b2.flow, b.flow);
    }
}
