//! The reference user agent's protocol core, sans-IO: a SIP WebSocket client (RFC 7118) with
//! Outbound (RFC 5626) and GRUU (RFC 5627). The tokio shell connects over ws/wss, hands
//! [`Ua::receive_payload`] every WebSocket data message with its frame type, sends what comes
//! back as [`UaEvent::Send`] (bytes and frame type from [`wire`]), and drives the timers. Nothing here touches a socket, a clock or a random source: time is passed in as
//! milliseconds of the shell's monotonic clock, randomness as an `FnMut() -> u64`.
//!
//! # What it does, clause by clause
//! - Via `SIP/2.0/WS` on ws and `SIP/2.0/WSS` on wss (7118-5.1-a), sent-by a random
//!   `<token>.invalid` host without port (Appendix B.1, 7118-B.1-a); responses without
//!   `received` complete their transaction (7118-5.3-b); a response whose top Via is not ours
//!   is discarded (3261-18.1.2-a).
//! - REGISTER as RFC 7118 §8.1 F3: `Supported: path, outbound, gruu` (5626-4.2.1-a,
//!   5627-4.1-a), Contact `<sip:user@host.invalid;transport=ws>;reg-id=1;+sip.instance=...`,
//!   no GRUU parameters. Refreshes keep Call-ID, instance and reg-id with CSeq+1 (5627-4.1-b,
//!   5626-4.2.2-a); `Contact: *` un-registration has no reg-id or instance (5626-4.2.3-a).
//! - The 2xx is read for OUR contact ([`registration::OurContact`]): granted expires,
//!   `pub-gruu`/`temp-gruu` kept verbatim (5627-4.2-a), `Require: outbound` (5626-4.2.1-a),
//!   `Flow-Timer`. A 423 is retried once with its Min-Expires (RFC 3261 §10.2.8); a 503 with
//!   Retry-After keeps the flow and schedules the retry (5626-4.2.2-a).
//! - Dialog-forming requests and their 1xx/2xx answers use the GRUU plus `;ob` as Contact
//!   once a registration returned one (5627-4.4-a, 5626-4.3-a, as §8.2 F1), else
//!   `<sip:user@host.invalid;transport=ws;ob>` (7118-B.1-a). The public GRUU is preferred,
//!   then the temporary one. Non-REGISTER requests carry `Supported` with `outbound`
//!   (5626-4.3-a), except ACK and CANCEL, which copy their INVITE's fields (RFC 3261 §9.1,
//!   §17.1.1.3) and get no response that could use an extension.
//! - Content-Length is always written (spec/requirements.md A6); bodies are bytes, any bytes, and a
//!   message that is not valid UTF-8 goes in a binary frame ([`wire`], 7118-4.2-b). Both
//!   frame types are accepted on receipt (7118-4.2-a).
//! - Client transactions are matched by top-Via branch and CSeq method (RFC 3261 §17.1.3).
//!   No request is ever retransmitted over WS (7118-5-a, 3261-17-a); Timer B (INVITE, until a
//!   provisional arrives) and Timer F are 64·T1 = 32 s, then the request fails as 408; a
//!   failed flow fails every pending request as 503 (3261-8.1.3.1-a).
//! - A 430 is treated like a 400 (5626-11.5-a): the request fails, nothing is retried and the
//!   flow is not torn down; events report `status: 430, treated_as: 400`.
//! - Dialogs (RFC 3261 §12): the caller's route set is the 2xx Record-Route reversed, the
//!   callee's is the INVITE's in order (3261-12.1.2-a); in-dialog requests go to the remote
//!   target with the route set as Route (3261-12.2.1.1-a). The ACK of a 2xx gets a new
//!   branch and the INVITE's CSeq number (§13.2.2.4) and is re-sent for each retransmitted
//!   2xx; the ACK of a non-2xx is sent automatically (§17.1.1.3). As callee the UA
//!   retransmits its 2xx until the ACK (T1 doubling to T2, §13.3.1.4; 3261-13.3.1.4-a) and
//!   sends BYE after 64·T1 without one.
//! - Incoming requests: MESSAGE → 200 and the body bytes as an event; OPTIONS → 200 with
//!   Allow and Supported; INVITE → [`UaEvent::IncomingCall`], answered by [`Ua::answer`];
//!   BYE in a dialog → 200 and [`UaEvent::CallEnded`], outside one → 481; ACK → event;
//!   CANCEL → 200 and 487 for the INVITE; a re-INVITE → 488 (the reference UA does not
//!   renegotiate sessions); other methods → 405 with Allow; an unknown `Require` → 420.
//! - Keep-alive (RFC 5626 §4.4.1 over WS, spec/requirements.md A7): only once a 2xx confirmed
//!   Outbound with `Require: outbound` (5626-4.2.1-b) — a server that did not will not answer
//!   `\r\n\r\n` with `\r\n` (§4.4 note), and 10 s of silence would kill a good flow. Period
//!   80–100 % of `Flow-Timer`, else 95–120 s (5626-4.4-a, 4.4.1-b); no pong in 10 s ⇒
//!   [`UaEvent::FlowFailed`] (4.4.1-b).
//! - Flow recovery (5626-4.5-a): re-register on a new flow with the same reg-id, at once if
//!   the failed flow had been successful (registered, and a pong seen when keep-alives ran),
//!   else after [`keepalive::backoff_ms`] of the consecutive failures (base 30 s: the UA has
//!   one flow, so all flows failed).
//! - Refresh at [`registration::REFRESH_PERCENT`] (90 %) of the granted lifetime.
//! - Digest authentication (RFC 3261 §22.2), with [`UaConfig::credentials`]: a 401 or 407
//!   is answered once by re-sending the request (new branch, CSeq+1) with `Authorization` or
//!   `Proxy-Authorization` for the challenge chosen by [`crate::sip::digest::pick_challenge`]
//!   (SHA-256 preferred over MD5, RFC 8760 §2.4; `qop=auth`, a random cnonce); again only
//!   when the new challenge says `stale=true` (at most [`MAX_AUTH_RETRIES`] in a row), so a
//!   wrong password ends as the 401/407 it got. REGISTER keeps the challenge and sends
//!   credentials with every refresh (next nonce-count, §22.3 caching for one Call-ID);
//!   MESSAGE, OPTIONS and INVITE answer their own challenge (the 407's ACK goes first).
//!   BYE and CANCEL are not retried.
//!
//! # What the shell does
//! - On every WS data message: [`Ua::receive_payload`]; act on the events (send
//!   [`UaEvent::Send`] with [`wire`]; close and reconnect on [`UaEvent::FlowFailed`]).
//! - After connecting: [`Ua::connected`], then [`Ua::register`]. When the connection closes
//!   or a connect attempt fails: [`Ua::disconnected`].
//! - Sleep at most [`Ua::next_timer`], then call [`Ua::tick`], send [`Ua::keepalive_due`]'s
//!   bytes, and when [`Ua::next_refresh`] is `Some(0)` send [`Ua::refresh`].
//!
//! Nothing received can make the core panic: every input is parsed or validated first, and
//! what cannot be used becomes a protocol answer (400, 420, 481, ...) or a
//! [`UaEvent::Error`].
//!
//! # Layout
//! The state and the requests outside a dialog (MESSAGE, OPTIONS) are here; `register.rs`
//! sends REGISTER, `call.rs` the requests and answers of a call, `auth.rs` answers
//! challenges, `receive.rs` handles everything received and `timers.rs` time and the flow.

pub mod build;
pub mod config;
pub mod dialog;
pub mod event;
pub mod keepalive;
pub mod random;
pub mod registration;

mod auth;
mod call;
mod receive;
mod register;
mod timers;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use crate::sip::{
    Contact, Header, HeaderName, HeaderValue, Message, Method, NameAddr, SipUri, Uri,
};
use crate::transport::transport_param_for;
use crate::ws::{MessageKind, sip_message_kind};

pub use config::{DEFAULT_EXPIRES, UaConfig, UaCredentials, WsTransport};
pub use dialog::Dialog;
pub use event::{CallHandle, CallState, EndCause, FlowFailure, UaError, UaEvent};
pub use keepalive::{KeepAlive, backoff_ms, keepalive_period_ms};
pub use random::{SplitMix64, instance_urn};
pub use receive::treated_as;
pub use registration::Registration;

use build::{Request, address};
use keepalive::PING;

/// RFC 3261 §17.1.1.1 T1: the round-trip estimate (500 ms).
pub const T1_MS: u64 = 500;
/// RFC 3261 §17.1.2.2 T2: the cap of a doubling retransmission interval (4 s).
pub const T2_MS: u64 = 4_000;
/// Timer B and Timer F: 64·T1 (RFC 3261 §17.1.1.2, §17.1.2.2).
pub const TRANSACTION_TIMEOUT_MS: u64 = 64 * T1_MS;
/// Challenges answered in a row for one request (only `stale=true` ones after the first).
pub const MAX_AUTH_RETRIES: u8 = 3;

/// Bytes and frame type of a message for the WebSocket: text when the whole message is
/// UTF-8, binary otherwise (RFC 7118 §4.2, 7118-4.2-b).
pub fn wire(msg: &Message) -> (Vec<u8>, MessageKind) {
    let bytes = msg.to_bytes();
    let kind = sip_message_kind(&bytes);
    (bytes, kind)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegOp {
    Register,
    Unregister,
    UnregisterAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Register(RegOp),
    Invite(CallHandle),
    Cancel(CallHandle),
    Bye(CallHandle),
    /// MESSAGE, OPTIONS: the outcome is an event, nothing else changes.
    Plain,
}

/// A client transaction: what the response completes.
#[derive(Debug, Clone)]
struct ClientTx {
    method: Method,
    kind: TxKind,
    call_id: String,
    cseq: u32,
    /// Timer B/F; `None` once an INVITE got a provisional response.
    deadline_ms: Option<u64>,
    /// The request as sent, kept (with credentials configured) to answer a challenge.
    request: Option<Message>,
    /// Challenges already answered for this request.
    auth_retries: u8,
}

/// Transactions are keyed by branch and CSeq method (RFC 3261 §17.1.3): a CANCEL shares its
/// INVITE's branch.
type TxKey = (String, String);

/// The callee's 2xx retransmission (RFC 3261 §13.3.1.4).
#[derive(Debug, Clone)]
struct Retransmit {
    msg: Message,
    next_at: u64,
    interval: u64,
    give_up_at: u64,
}

#[derive(Debug, Clone)]
struct Call {
    outgoing: bool,
    state: CallState,
    /// The INVITE we sent, or the one we received.
    invite: Message,
    local_tag: String,
    dialog: Option<Dialog>,
    /// The ACK sent for the 2xx, re-sent for each retransmitted 2xx (RFC 3261 §13.2.2.4).
    ack: Option<Message>,
    retransmit: Option<Retransmit>,
}

#[derive(Debug, Clone)]
struct RegState {
    /// One Call-ID for every REGISTER of this UA (5627-4.1-b).
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The lifetime asked for (a 423 may raise it).
    expires: Option<u32>,
    current: Option<Registration>,
    /// A 503 with Retry-After: retry then (5626-4.2.2-a).
    retry_at_ms: Option<u64>,
    /// The application wants to be registered: flow failures ask for a reconnect.
    wanted: bool,
    /// A REGISTER was sent at least once.
    started: bool,
    /// The registrar's last challenge and the header that answers it (RFC 3261 §22.3:
    /// credentials go with every later REGISTER of this Call-ID), and its nonce-count.
    challenge: Option<(HeaderName, crate::sip::digest::Challenge, u32)>,
    /// The last REGISTER carried credentials.
    sent_credentials: bool,
    /// Challenges answered in a row.
    auth_retries: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct FlowState {
    connected: bool,
    /// RFC 5626 §4.5: registered with Outbound and, with keep-alives, a pong seen.
    successful: bool,
    /// Consecutive failed attempts at forming a flow.
    failures: u32,
}

/// The user agent.
pub struct Ua {
    config: UaConfig,
    random: Box<dyn FnMut() -> u64 + Send>,
    via_host: String,
    reg: RegState,
    txs: BTreeMap<TxKey, ClientTx>,
    calls: BTreeMap<CallHandle, Call>,
    next_call: u64,
    keepalive: KeepAlive,
    flow: FlowState,
}

impl fmt::Debug for Ua {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ua")
            .field("aor", &self.config.aor.to_string())
            .field("via_host", &self.via_host)
            .field("registration", &self.reg.current)
            .field("transactions", &self.txs.len())
            .field("calls", &self.calls.len())
            .field("keepalive", &self.keepalive)
            .finish_non_exhaustive()
    }
}

fn content_type_of(msg: &Message) -> Option<String> {
    msg.values(&HeaderName::ContentType).find_map(|v| match v {
        HeaderValue::Text(t) => Some(t.clone()),
        _ => None,
    })
}

fn check_content_type(ct: &str) -> Result<String, UaError> {
    Header::parse("Content-Type", ct)
        .map(|h| h.value.to_string())
        .map_err(|source| UaError::BadContentType {
            text: ct.to_string(),
            source,
        })
}

impl Ua {
    /// A UA for `config`, drawing every tag, Call-ID, branch (and the `.invalid` host when the
    /// configuration has none) from `random`.
    pub fn new(
        config: UaConfig,
        random: impl FnMut() -> u64 + Send + 'static,
    ) -> Result<Ua, UaError> {
        config.validate()?;
        let mut random: Box<dyn FnMut() -> u64 + Send> = Box::new(random);
        let via_host = match &config.via_host {
            Some(h) => h.clone(),
            None => random::invalid_host(&mut random),
        };
        let reg = RegState {
            call_id: random::token(&mut random, 12),
            from_tag: random::token(&mut random, 10),
            cseq: 0,
            expires: config.expires,
            current: None,
            retry_at_ms: None,
            wanted: false,
            started: false,
            challenge: None,
            sent_credentials: false,
            auth_retries: 0,
        };
        Ok(Ua {
            config,
            random,
            via_host,
            reg,
            txs: BTreeMap::new(),
            calls: BTreeMap::new(),
            next_call: 1,
            keepalive: KeepAlive::default(),
            flow: FlowState::default(),
        })
    }

    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// The Via sent-by and Contact host (`<token>.invalid` unless configured).
    pub fn via_host(&self) -> &str {
        &self.via_host
    }

    /// The current registration, if a REGISTER 2xx listed our contact and nothing since
    /// removed it.
    pub fn registration(&self) -> Option<&Registration> {
        self.reg.current.as_ref()
    }

    pub fn call_state(&self, call: CallHandle) -> Option<CallState> {
        self.calls.get(&call).map(|c| c.state)
    }

    pub fn dialog(&self, call: CallHandle) -> Option<&Dialog> {
        self.calls.get(&call).and_then(|c| c.dialog.as_ref())
    }

    /// Client transactions waiting for a final response.
    pub fn pending_transactions(&self) -> usize {
        self.txs.len()
    }

    /// Consecutive failed attempts at forming a flow (RFC 5626 §4.5).
    pub fn consecutive_failures(&self) -> u32 {
        self.flow.failures
    }

    pub fn keepalive(&self) -> &KeepAlive {
        &self.keepalive
    }

    fn rand(&mut self) -> u64 {
        (self.random)()
    }

    fn token(&mut self, len: usize) -> String {
        random::token(&mut self.random, len)
    }

    fn new_branch(&mut self) -> String {
        random::branch(&mut self.random)
    }

    fn supported(&self) -> &'static [&'static str] {
        if self.config.outbound {
            build::SUPPORTED_OUTBOUND
        } else {
            build::SUPPORTED_PLAIN
        }
    }

    /// `sip:user@host.invalid;transport=ws` (RFC 7118 §8.1 F3; `transport=ws` on WSS too, per
    /// §5.2, unless configured otherwise).
    pub fn contact_uri(&self) -> SipUri {
        let (secure, param) = transport_param_for(
            self.config.transport.transport(),
            self.config.wss_param_style,
        );
        let mut uri = SipUri::new(secure, crate::sip::Host::Domain(self.via_host.clone()));
        uri.user = self.config.aor.user.clone();
        if let Some(p) = param {
            uri.params.set("transport", Some(p));
        }
        uri
    }

    /// The Contact of dialog-forming requests and responses: the public GRUU, else the
    /// temporary one, from the current registration, verbatim plus `;ob` (5627-4.4-a,
    /// 5627-4.2-a, 5626-4.3-a; RFC 7118 §8.2 F1); before any, the `.invalid` contact with
    /// `;ob` (7118-B.1-a).
    pub fn dialog_contact(&self) -> NameAddr {
        let gruu = self.reg.current.as_ref().and_then(|r| {
            [&r.pub_gruu, &r.temp_gruu]
                .into_iter()
                .flatten()
                .find_map(|g| SipUri::parse(g).ok())
        });
        let mut uri = gruu.unwrap_or_else(|| self.contact_uri());
        if self.config.outbound {
            uri.params.set("ob", None);
        }
        NameAddr::new(Uri::Sip(uri))
    }

    fn local_address(&self, tag: Option<&str>) -> NameAddr {
        let mut a = address(&self.config.aor, self.config.display_name.as_deref());
        if let Some(t) = tag {
            a.params.set("tag", Some(t));
        }
        a
    }

    fn outbound_routes(&self) -> Vec<NameAddr> {
        self.config
            .outbound_proxy
            .iter()
            .map(|u| NameAddr::new(Uri::Sip(u.clone())))
            .collect()
    }

    fn parse_target(&self, to: &str) -> Result<SipUri, UaError> {
        let uri = SipUri::parse(to).map_err(|source| UaError::BadUri {
            what: "target",
            text: to.to_string(),
            source,
        })?;
        if uri.secure && self.config.transport == WsTransport::Ws {
            return Err(UaError::InsecureTransport(to.to_string()));
        }
        Ok(uri)
    }

    fn start_tx(&mut self, msg: &Message, branch: String, kind: TxKind, deadline_ms: u64) {
        // Every request built here has a CSeq; the fallback only keeps this total.
        let (method, cseq) = msg
            .cseq()
            .map_or((Method::Ack, 0), |c| (c.method.clone(), c.seq));
        let key = (branch, method.as_str().to_string());
        self.txs.insert(
            key,
            ClientTx {
                method,
                kind,
                call_id: msg.call_id().unwrap_or_default().to_string(),
                cseq,
                deadline_ms: Some(deadline_ms),
                request: self.config.credentials.is_some().then(|| msg.clone()),
                auth_retries: 0,
            },
        );
    }

    /// A request outside any dialog: new Call-ID, From tag and branch, CSeq 1, the outbound
    /// proxy as Route.
    fn out_of_dialog(
        &mut self,
        method: Method,
        target: SipUri,
        contact: Option<Contact>,
        extra: Vec<Header>,
        body: Option<(String, Vec<u8>)>,
    ) -> (Message, String) {
        let branch = self.new_branch();
        let call_id = self.token(12);
        let from_tag = self.token(10);
        let msg = Request {
            method,
            via: build::via(self.config.transport, &self.via_host, &branch),
            from: self.local_address(Some(&from_tag)),
            to: address(&target, None),
            uri: Uri::Sip(target),
            call_id,
            cseq: 1,
            routes: self.outbound_routes(),
            supported: Some(self.supported()),
            contact,
            extra,
            body,
        }
        .build();
        (msg, branch)
    }

    /// A MESSAGE (RFC 3428) carrying `body` as is, UTF-8 or not.
    pub fn message(
        &mut self,
        to: &str,
        content_type: &str,
        body: Vec<u8>,
        now_ms: u64,
    ) -> Result<Message, UaError> {
        let target = self.parse_target(to)?;
        let ct = check_content_type(content_type)?;
        let (msg, branch) =
            self.out_of_dialog(Method::Message, target, None, Vec::new(), Some((ct, body)));
        self.start_tx(
            &msg,
            branch,
            TxKind::Plain,
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        Ok(msg)
    }

    /// An OPTIONS query (RFC 3261 §11).
    pub fn options(&mut self, to: &str, now_ms: u64) -> Result<Message, UaError> {
        let target = self.parse_target(to)?;
        let (msg, branch) = self.out_of_dialog(Method::Options, target, None, Vec::new(), None);
        self.start_tx(
            &msg,
            branch,
            TxKind::Plain,
            now_ms.saturating_add(TRANSACTION_TIMEOUT_MS),
        );
        Ok(msg)
    }

    /// Send a CRLF ping now? `Some(b"\r\n\r\n")` when one is due (5626-4.4-a, 4.4.1-b).
    pub fn keepalive_due(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.keepalive.due(now_ms).then(|| PING.to_vec())
    }
}
