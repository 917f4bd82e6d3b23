//! Reference implementation of SIP over WebSocket (RFC 7118).
//!
//! Protocol rules are pure functions over plain data (the sans-IO core, see DESIGN.md):
//! - [`sip`]: the SIP message codec (RFC 3261 §7, §19, §20, §25), raw bytes kept for evidence;
//! - [`ws`]: the WebSocket opening-handshake rules (RFC 6455 §4, RFC 7118 §4.1, RFC 7936);
//! - [`transport`]: transports, Via tokens and the `transport=ws` ambiguity (RFC 7118 §5);
//! - [`proxy`]: the registrar and record-routing proxy's decisions (RFC 3261 §10, §16;
//!   RFC 5626, RFC 5627, RFC 5658), with no-connect semantics for WebSocket flows;
//! - [`ua`]: the user agent's protocol core, a SIP WebSocket client with Outbound and GRUU
//!   (RFC 7118, RFC 5626 §4, RFC 5627 §4), driven by a shell like the proxy;
//! - [`net`]: the tokio shell that serves them: WS, WSS, UDP and TCP listeners
//!   ([`net::Server`]).

// Deliberately broken policies for the suite's own tests; never in a release build.
pub mod hex;
#[cfg(feature = "mutants")]
pub mod mutation;
pub mod net;
pub mod proxy;
pub mod sip;
pub mod transport;
pub mod ua;
pub mod ws;
