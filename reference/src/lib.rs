//! Reference implementation of SIP over WebSocket (RFC 7118).
//!
//! Protocol rules are pure functions over plain data, with no socket, clock or random source
//! (the sans-IO core; `docs/architecture.md` describes the layering):
//! - [`sip`]: the SIP message codec (RFC 3261 §7, §19, §20, §25), raw bytes kept for evidence,
//!   and what the UA and the proxy share on top of it: response construction (§8.2.6) and
//!   digest authentication's parsing and arithmetic (§22, RFC 8760);
//! - [`ws`]: the WebSocket opening-handshake rules (RFC 6455 §4, RFC 7118 §4.1, RFC 7936) and
//!   the data framing (RFC 6455 §5, RFC 7118 §4.2);
//! - [`transport`]: transports, Via tokens and the `transport=ws` ambiguity (RFC 7118 §5);
//! - [`proxy`]: the registrar and record-routing proxy's decisions (RFC 3261 §10, §16;
//!   RFC 5626, RFC 5627, RFC 5658), with no-connect semantics for WebSocket flows;
//! - [`ua`]: the user agent's protocol core, a SIP WebSocket client with Outbound and GRUU
//!   (RFC 7118, RFC 5626 §4, RFC 5627 §4), driven by a shell like the proxy;
//! - [`net`]: the tokio shell that serves them: WS, WSS, UDP and TCP listeners
//!   ([`net::Server`]).

pub mod hex;
// Deliberately broken policies for the suite's own tests; never in a release build.
#[cfg(feature = "mutants")]
pub mod mutation;
pub mod net;
pub mod proxy;
pub mod sip;
pub mod transport;
pub mod ua;
pub mod ws;
