//! WebSocket opening-handshake rules for SIP over WebSocket, sans-IO.
//!
//! - [`http`]: HTTP/1.x request and response heads (RFC 7230 §3; RFC 6455 §4.1 (1),
//!   §4.2.1: the handshake is a valid HTTP request), `#rule` lists (RFC 7230 §7), rendering.
//! - [`subprotocol`]: the `sip` subprotocol choice (RFC 7118 §4.1; RFC 6455 §4.2.2 (4)
//!   /subprotocol/, §11.3.4; RFC 7936 §2 case-sensitive matching).
//! - [`extensions`]: `Sec-WebSocket-Extensions` syntax (RFC 6455 §9.1); none is supported.
//! - [`handshake`]: server-side [`accept`] (RFC 6455 §4.2.1, §4.2.2, §11.3) and client-side
//!   [`client_request`] / [`validate_response`] (RFC 6455 §3, §4.1).
//! - [`url`]: `ws://` and `wss://` URLs (RFC 6455 §3), the one URL type of the client and the
//!   suite.
//! - [`frame`]: the base framing layout, length forms and masking (RFC 6455 §5.2, §5.3).
//! - [`codec`]: the data-framing [`Receiver`] state machine (fragmentation, control frames,
//!   UTF-8, size limits, Fail; RFC 6455 §5, §7.1.7, §8.1, §10.4) and the sender helpers,
//!   with the text/binary choice for SIP (RFC 7118 §4.2).
//!
//! Nothing here touches a socket, a clock or a random source: the I/O shell in
//! `reference/src/net` feeds bytes in, writes the rendered answers out, and supplies the
//! client's nonce. Requirement IDs (`6455-4.2.1-a`, `7118-4.1-c`, ...) are those of
//! `spec/requirements.md` §1–§2; every refusal names the one it enforces.

pub mod codec;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod http;
pub mod subprotocol;
pub mod url;

pub use codec::{
    CloseCode, CloseCodeError, Event, FailReason, MessageKind, Receiver, Role, encode_close,
    encode_message, encode_ping, encode_pong, sip_message_kind,
};
pub use extensions::{Extension, ExtensionError};
pub use frame::{FrameError, FrameHeader, OpCode};
pub use handshake::{
    Accepted, ClientAccepted, ClientRejected, ClientRequest, ClientRequestError, KeyFault,
    OriginPolicy, Policy, RejectReason, Rejected, ResponseBuildError, ServerStep,
    WEBSOCKET_VERSION, accept, accept_bytes, client_request, validate_response,
};
pub use http::{
    Header, Headers, HttpError, HttpVersion, Limits, Parsed, RequestHead, ResponseHead,
    parse_request, parse_response,
};
pub use subprotocol::{SIP, SubprotocolError, choose_sip};
