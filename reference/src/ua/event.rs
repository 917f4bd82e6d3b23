//! What the UA tells its shell and application: [`UaEvent`]s out of
//! [`super::Ua::receive`] and the timer calls, [`UaError`]s out of the API and inside
//! [`UaEvent::Error`].

use std::fmt;

use thiserror::Error;

use crate::sip::{Invalid, Message, Method, NameAddr, ParseError};
use crate::ws::MessageKind;

use super::registration::Registration;

/// A call of this UA, outgoing ([`super::Ua::invite`]) or incoming ([`UaEvent::IncomingCall`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

impl fmt::Display for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call-{}", self.0)
    }
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Outgoing: INVITE sent, no response yet.
    Calling,
    /// Outgoing: a provisional response arrived (CANCEL is now allowed, RFC 3261 §9.1).
    Proceeding,
    /// Outgoing: a 2xx arrived; the application sends [`super::Ua::ack`].
    Answered,
    /// The dialog is confirmed (ACK sent, or received for our 2xx).
    Confirmed,
    /// Incoming: not answered with a final response yet ([`super::Ua::answer`]).
    Incoming,
    /// Incoming: our 2xx is out, waiting for the ACK (retransmitted, RFC 3261 §13.3.1.4).
    WaitingAck,
    /// Our BYE is out.
    Terminating,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// Our BYE got this final response (the dialog ends whatever it is, RFC 3261 §15.1.1).
    LocalBye { status: u16 },
    /// The peer's BYE.
    RemoteBye,
    /// The flow the dialog ran on failed; its route set leads through it (RFC 5626 §5.3.2).
    FlowFailed,
}

/// Why the flow is considered failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowFailure {
    /// No `\r\n` pong within 10 s of a `\r\n\r\n` ping (5626-4.4.1-b). The shell must close
    /// the WebSocket connection.
    PongTimeout,
    /// The shell reported the connection closed or the connect attempt failed.
    Closed,
}

/// Something the shell or application acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UaEvent {
    /// Send this message on the flow; [`super::wire`] gives its bytes and frame type.
    Send(Message),
    /// A REGISTER got a 2xx listing our contact.
    Registered(Registration),
    /// An un-REGISTER got its 2xx; nothing of ours is bound now.
    Unregistered,
    /// A REGISTER (or un-REGISTER) failed. `treated_as` is the status the UA acted on (430 is
    /// treated as 400, 5626-11.5-a); with `retry_after_ms` (a 503 with Retry-After, 5626-4.2.2-a)
    /// the flow stays up and [`super::Ua::next_refresh`] says when to retry.
    RegistrationFailed {
        status: u16,
        treated_as: u16,
        reason: String,
        retry_after_ms: Option<u64>,
    },
    /// A MESSAGE or OPTIONS of ours got a 2xx.
    RequestCompleted {
        method: Method,
        call_id: String,
        status: u16,
        reason: String,
    },
    /// A MESSAGE, OPTIONS or CANCEL of ours failed (final non-2xx, Timer F = 408, flow
    /// failure = 503).
    RequestFailed {
        method: Method,
        call_id: String,
        status: u16,
        treated_as: u16,
        reason: String,
    },
    /// A MESSAGE arrived and was answered 200; the body is exactly the bytes received.
    MessageReceived {
        from: NameAddr,
        to: NameAddr,
        call_id: String,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// An INVITE arrived; answer it with [`super::Ua::answer`].
    IncomingCall {
        call: CallHandle,
        from: NameAddr,
        to: NameAddr,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// A provisional response to our INVITE.
    CallProgress {
        call: CallHandle,
        status: u16,
        reason: String,
    },
    /// A 2xx to our INVITE: the dialog exists; send [`super::Ua::ack`].
    CallAnswered {
        call: CallHandle,
        status: u16,
        body: Vec<u8>,
    },
    /// Our INVITE failed (its ACK, for a non-2xx response, was already emitted as `Send`).
    CallFailed {
        call: CallHandle,
        status: u16,
        treated_as: u16,
        reason: String,
    },
    /// The caller cancelled an incoming call; 200 (CANCEL) and 487 (INVITE) were sent.
    CallCancelled {
        call: CallHandle,
    },
    /// The ACK for our 2xx arrived.
    AckReceived {
        call: CallHandle,
    },
    CallEnded {
        call: CallHandle,
        cause: EndCause,
    },
    /// The flow failed. Close the connection if it is still open; when `reconnect_after_ms`
    /// is given, open a new one after that long, call [`super::Ua::connected`] and
    /// [`super::Ua::register`] (same reg-id, 5626-4.5-a).
    FlowFailed {
        cause: FlowFailure,
        reconnect_after_ms: Option<u64>,
    },
    /// Anything received that the UA could not act on.
    Error(UaError),
}

/// Errors of the API and of received input. Every variant says what was wrong and, where a
/// rule applies, which one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UaError {
    #[error("the {what} {text:?} is not a SIP URI: {source}")]
    BadUri {
        what: &'static str,
        text: String,
        #[source]
        source: ParseError,
    },
    #[error("the AoR {0} has no user part")]
    AorWithoutUser(String),
    #[error("reg-id {0} is outside 1..=2^31-1 (RFC 5626 §12)")]
    BadRegId(u32),
    #[error("instance {0:?} is not a URN that fits in +sip.instance=\"<...>\" (RFC 5626 §4.1)")]
    BadInstance(String),
    #[error("Via sent-by host {0:?} is not a host name")]
    BadViaHost(String),
    #[error("display name {0:?} contains control characters")]
    BadDisplayName(String),
    #[error("Content-Type {text:?} is not a media type: {source}")]
    BadContentType {
        text: String,
        #[source]
        source: ParseError,
    },
    #[error(
        "{0} is a sips: URI but this UA runs over plain WS; every hop must be WSS (RFC 7118 §9.2)"
    )]
    InsecureTransport(String),
    #[error("no registration to refresh or remove: call register() first")]
    NotRegistered,
    #[error("{0} is not a call of this UA (it ended or never existed)")]
    UnknownCall(CallHandle),
    #[error("{call}: cannot {action} in state {state:?}")]
    WrongState {
        call: CallHandle,
        action: &'static str,
        state: CallState,
    },
    #[error("{0}: a CANCEL must wait for a provisional response (RFC 3261 §9.1)")]
    CancelBeforeProvisional(CallHandle),
    #[error("status {0} cannot answer a request (101..=699)")]
    BadStatus(u16),
    #[error("unparsable {kind:?} WebSocket message: {error}")]
    Unparsable {
        kind: MessageKind,
        #[source]
        error: ParseError,
    },
    #[error("invalid {method} request: {invalid}")]
    InvalidRequest { method: Method, invalid: Invalid },
    #[error("malformed {method} request: {why}")]
    MalformedRequest { method: Method, why: &'static str },
    #[error("unexpected response {status} {reason}: {why}")]
    UnexpectedResponse {
        status: u16,
        reason: String,
        why: &'static str,
    },
    #[error(
        "response discarded: its top Via sent-by {0} is not ours (RFC 3261 §18.1.2, row 3261-18.1.2-a)"
    )]
    ForeignVia(String),
    #[error("malformed {status} to {method}: {why}")]
    MalformedResponse {
        method: Method,
        status: u16,
        why: &'static str,
    },
    #[error(
        "the registrar's 2xx does not list our contact (matched by +sip.instance/reg-id or URI)"
    )]
    ContactNotRegistered,
    #[error("{0}: no ACK for our 2xx within 64*T1; ending the call with BYE (RFC 3261 §13.3.1.4)")]
    AckTimeout(CallHandle),
}
