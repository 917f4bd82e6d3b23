//! The SIP message codec: RFC 3261 §7 (messages), §19 (URIs), §20 (headers), §25 (grammar),
//! with the Outbound (RFC 5626), Path (RFC 3327) and GRUU (RFC 5627) parameters that SIP over
//! WebSocket deployments use; and what the user agent and the proxy both build on it:
//! [`response`] construction (RFC 3261 §8.2.6) and the shared half of [`digest`]
//! authentication (RFC 3261 §22, RFC 8760).
//!
//! Parsing never panics; every refusal is a [`ParseError`] naming the rule and the byte offset.
//! Parsed messages keep their raw bytes for evidence, and printing a parsed message and parsing
//! it again gives the same message (the round-trip properties of
//! `reference/tests/codec_properties.rs`).

pub mod digest;
pub mod error;
pub mod header;
pub mod message;
pub mod method;
pub mod name_addr;
pub mod params;
pub mod response;
pub mod scan;
pub mod uri;
pub mod via;

pub use error::{ErrorKind, ParseError};
pub use header::{Header, HeaderName, HeaderValue};
pub use message::{Invalid, Message, RequestLine, StartLine, StatusLine, Version};
pub use method::{CSeq, Method};
pub use name_addr::{Contact, NameAddr};
pub use params::{Param, Params};
pub use uri::{AbsoluteUri, Host, SipUri, Uri};
pub use via::Via;
