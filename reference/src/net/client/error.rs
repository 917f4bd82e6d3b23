//! What can go wrong for a client: its configuration, reaching the server (resolution,
//! TCP, TLS, the opening handshake — each naming the URL and the fault), and SIP requests
//! that end without success.

use std::net::SocketAddr;

use thiserror::Error;

use crate::ua::UaError;
use crate::ws::url::UrlError;
use crate::ws::{ClientRejected, HttpError};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClientError {
    #[error("{url:?} is not a WebSocket URL: {error}")]
    BadUrl {
        url: String,
        #[source]
        error: UrlError,
    },
    #[error("client configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Ua(#[from] UaError),
    #[error("the system random source failed")]
    Random,
    #[error("{url}: cannot resolve {host}: {detail}")]
    Resolve {
        url: String,
        host: String,
        detail: String,
    },
    #[error("{url}: TCP connection to {addr} failed: {detail}")]
    Connect {
        url: String,
        addr: SocketAddr,
        detail: String,
    },
    /// The TLS handshake failed, a bad certificate included: no HTTP byte was sent
    /// (RFC 6455 §4.1 step 5, row 6455-4.1-d).
    #[error("{url}: TLS handshake with {addr} failed: {detail} [6455-4.1-d]")]
    Tls {
        url: String,
        addr: SocketAddr,
        detail: String,
    },
    #[error("{url}: the server closed the connection before answering the opening handshake")]
    HandshakeClosed { url: String },
    #[error("{url}: the answer to the opening handshake is not HTTP: {error}")]
    HandshakeHttp {
        url: String,
        #[source]
        error: HttpError,
    },
    /// The answer was HTTP but not an acceptable 101 (RFC 6455 §4.1 validation; RFC 7118
    /// §4.1: the 101 must select `sip`). Nothing was sent after the request.
    #[error("{url}: opening handshake refused: {status} {reason}: {rejected} [{}]", rejected.requirement())]
    Handshake {
        url: String,
        status: u16,
        reason: String,
        rejected: ClientRejected,
    },
    #[error("{url}: {what} did not complete within {ms} ms")]
    Timeout {
        url: String,
        what: &'static str,
        ms: u128,
    },
    /// A SIP request ended without success: a final non-2xx, 408 (no answer within 64·T1),
    /// or 503 when the flow failed or could not be opened (RFC 3261 §8.1.3.1; RFC 7118 §4.1).
    #[error("{method} failed: {status} {reason}")]
    Request {
        method: String,
        status: u16,
        /// The status the UA acted on (430 is treated as 400, RFC 5626 §11.5).
        treated_as: u16,
        reason: String,
    },
    #[error("too many requests are waiting for the connection")]
    Busy,
    #[error("no outcome within {ms} ms")]
    NoOutcome { ms: u128 },
    #[error("the client has stopped")]
    Stopped,
}

impl ClientError {
    /// The server could not be reached at all (resolution, TCP, TLS, handshake): for
    /// `sipws client`, exit status 2 rather than 1.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Resolve { .. }
                | ClientError::Connect { .. }
                | ClientError::Tls { .. }
                | ClientError::HandshakeClosed { .. }
                | ClientError::HandshakeHttp { .. }
                | ClientError::Handshake { .. }
                | ClientError::Timeout { .. }
        )
    }

    /// The SIP status of a failed request, if that is what this is.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Request { status, .. } => Some(*status),
            _ => None,
        }
    }
}
