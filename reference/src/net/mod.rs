//! The tokio shell of the reference server, the thin async layer around the sans-IO core
//! (`docs/architecture.md`):
//! listeners for WS, WSS, SIP over UDP and SIP over TCP, one task per connection, and one
//! task that owns the sans-IO [`crate::proxy::Proxy`]. Every protocol decision is made in
//! [`crate::ws`], [`crate::sip`] and [`crate::proxy`]; this module moves bytes and timers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sipws_reference::net::NetError> {
//! use sipws_reference::net::{Server, ServerConfig};
//! let server = Server::bind(ServerConfig::loopback_ephemeral()).await?;
//! let ws = server.addrs().ws.expect("ws is on by default");
//! let trust = server.ca_pem().map(str::to_owned); // for wss clients
//! let handle = server.spawn();
//! // ... connect to ws://{ws} with subprotocol `sip` ...
//! assert_eq!(handle.binding_count().await, 0);
//! handle.shutdown().await;
//! # let _ = (ws, trust); Ok(()) }
//! ```
//!
//! # Architecture
//! - **Proxy actor** (`actor`): one task owns the `Proxy` and receives events (flow opened,
//!   message, flow closed, connect failed) over one bounded channel; it carries out the
//!   proxy's actions without ever waiting on a peer, and calls `tick` at `next_deadline`.
//!   Time is milliseconds since the server started. The flow-token secret is 32 random bytes
//!   drawn at start-up.
//! - **Connections** : a task each, reading into a short-lived
//!   stack buffer, writing SIP messages the actor queues on the flow's bounded link.
//! - **UDP** (`udp`): one socket, one receive task; a flow per remote address in a bounded
//!   table ([`udp_peers`]).
//! - **No DNS** ([`resolve`]): forwarding reaches IP literals and `localhost` only.
//!
//! # Limits
//! - `limits.max_connections` TCP connections (WS, WSS, TCP, in and out); more are closed at
//!   accept (or a forward needing a new one fails with 503). [`Stats::sockets`] counts them,
//!   handshaking ones included.
//! - An opening handshake (TLS included) must complete within
//!   `websocket.handshake_timeout_ms` (default 5 s) in total, however steadily its bytes
//!   trickle in; then the connection is dropped without an answer. Its head is bounded by the
//!   HTTP parser (16 KiB, 64 header fields, else 431); bytes that cannot start a request line
//!   (a TLS ClientHello on the WS port) get 400 at once. On the WSS port, bytes that are not
//!   TLS fail the TLS handshake at once (rustls: an alert at most, never an HTTP answer).
//! - A WebSocket message is at most `websocket.max_message` (default 64 KiB, else Close
//!   1009); an incomplete SIP message on TCP at most `limits.max_stream_buffer`.
//! - At most `limits.flow_queue_bytes` (default 1 MiB) wait to be written to one connection:
//!   a peer that does not read is closed instead of growing a queue (with Close 1008 on
//!   WebSocket unless a frame was half written); each write must finish within
//!   `limits.write_timeout_ms`. A queue that fills while its task is writing is the peer's
//!   fault (closed); one that fills before the task took anything (a burst the scheduler has
//!   not caught up with) only fails the message (503 upstream for a request).
//! - Pings: of the Pings read together, only the latest is answered (RFC 6455 §5.5.3), so a
//!   Ping flood costs one Pong per read and no queue; a peer that does not read its Pongs is
//!   closed by the write timeout. No separate rate limit on control frames: they cost no more
//!   than data frames of the same size, which the message limits already bound.
//! - An idle registered WS connection costs about 3.8 KiB of heap, task, queue, flow and
//!   binding included (measured by `tests/server_memory.rs`, which fails above 8 KiB).
//! - An idle connection keeps no read buffer: reads go through a stack buffer, the frame
//!   [`crate::ws::codec::Receiver`] keeps no idle capacity (`max_idle_buffer = 0`).
//!
//! # Payload policy (A7, A10)
//! See [`payload`]: `\r\n\r\n` is answered with `\r\n`; a WebSocket message that is not
//! exactly one SIP message gets `400 Bad Request (one SIP message per WebSocket message)`
//! when it starts with an answerable request, and is dropped otherwise; the connection stays
//! open.

mod actor;
// The reference client: the UA core's shell on one ws/wss connection (RFC 7118, RFC 6455 §4.1).
pub mod client;
pub mod config;
pub mod error;
pub mod payload;
pub mod resolve;
pub mod server;
mod shared;
mod sip_conn;
pub mod tls;
mod udp;
pub mod udp_peers;
mod ws_conn;

#[cfg(feature = "mutants")]
pub use crate::mutation::Mutation;
pub use config::{
    LimitsConfig, Listen, ListenConfig, RegistrarConfig, ServerConfig, TlsConfig, WebSocketConfig,
    WssParam,
};
pub use error::NetError;
pub use payload::{WsPayload, classify_ws_payload};
pub use server::{Server, ServerAddrs, ServerHandle};
pub use shared::Stats;
