//! The reference client: the tokio shell of the sans-IO user agent ([`crate::ua`]) on a
//! `ws://` or `wss://` connection (RFC 7118), for `sipws client`, the conformance suite and a
//! load generator.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sipws_reference::net::client::ClientError> {
//! use std::time::Duration;
//! use sipws_reference::net::client::{Client, ClientOptions, Trust};
//! let mut options = ClientOptions::new("wss://127.0.0.1:8443", "sip:alice@127.0.0.1")?;
//! let ca = std::fs::read_to_string("/tmp/sipws-ca.pem")
//!     .map_err(|e| sipws_reference::net::client::ClientError::Config(e.to_string()))?;
//! options.trust = Some(Trust::CaPem(ca));
//! let alice = Client::connect(options).await?;
//! let reg = alice.register().await?;
//! println!("registered for {} s, GRUU {:?}", reg.registration.expires, reg.registration.pub_gruu);
//! alice.message("sip:bob@127.0.0.1", "text/plain;charset=utf-8", "héllo").await?;
//! while let Some(event) = alice.next_event(Duration::from_secs(1)).await {
//!     println!("{event:?}");
//! }
//! for t in alice.traffic() {
//!     print!("{t}"); // direction, text/binary, bytes, time
//! }
//! alice.unregister().await?;
//! alice.close().await;
//! # Ok(()) }
//! ```
//!
//! # Shape
//! One task per client owns the socket and the [`crate::ua::Ua`]: it connects, feeds the UA
//! every data message with its frame type, writes what the UA sends, runs its timers
//! (transactions, 2xx retransmission, keep-alives, refreshes) and reconnects. The [`Client`]
//! handle talks to it over a bounded command channel; each call waits for its outcome
//! (bounded by [`Timeouts::request`]). Events go to a bounded queue read with
//! [`Client::next_event`]; when the application does not read them, the newest are dropped
//! (and counted, [`Client::dropped_events`]) rather than stalling the connection.
//!
//! # Connection rules (spec/requirements.md §2.2), each with a named test in `tests/client_*.rs`
//! - **6455-4.1-a/b**: the request is [`crate::ws::ClientRequest`]: `Host` (port only if not
//!   the default), a fresh 16-byte key from the system CSPRNG per connection, version 13,
//!   `sip` offered once, `Origin` when configured.
//! - **6455-4.1-c**: one CONNECTING attempt per IP address and port in the whole process; a
//!   second attempt waits until the first has its validated 101 or has failed
//!   (`gate.rs`).
//! - **6455-4.1-d**, **7118-9.1-b**: `wss://` runs TLS first with SNI = the URL host; the
//!   certificate must chain to a CA the client trusts ([`Trust`]) and name the host; on any
//!   TLS failure no HTTP byte is sent.
//! - **6455-4.1-e**: after the request the client writes nothing until the answer is read and
//!   judged; requests made meanwhile ([`Client::spawn`] then [`Client::register`]) wait in
//!   the task's queue.
//! - **6455-4.1-f/g**: a non-101, a bad `Upgrade`/`Connection`/`Sec-WebSocket-Accept`, an
//!   extension or subprotocol not offered, or a 101 without `sip` fails the connection
//!   ([`ClientError::Handshake`] names the fault and its requirement row); nothing SIP is
//!   sent.
//! - **7118-4.1-d**: with no 101 (an HTTP error, a TCP close) the requests that were waiting
//!   for the connection fail as a transaction error, 503 (RFC 3261 §8.1.3.1), with the
//!   connection's failure in the reason; none of them was sent.
//! - **6455-7.2.3-a**, **5626-4.5-a**: after a close the client did not ask for, while the
//!   application wants to be registered, it reconnects and re-registers with the same
//!   instance and reg-id. Delays: [`reconnect_delay_ms`] — a uniform 0–5 s before the first
//!   attempt after a connection that registered, then the RFC 5626 §4.5 back-off (30–60 s,
//!   60–120 s, … capped at 30 min) while attempts keep failing; a connection that opens but
//!   never registers counts as a failure, so a server that accepts and drops is not
//!   hammered. [`Reconnect::scale`] shrinks the clock for tests. The UA's own
//!   `reconnect_after_ms` decides only *whether* to reconnect.
//! - **6455-5.1-a**, **6455-5.3-a**: every frame is masked with a fresh key from
//!   `ring::rand::SystemRandom`.
//! - **7118-4.2-b**, **7118-5-b/c**: one SIP message per WebSocket message, text when it is
//!   UTF-8 and binary otherwise ([`crate::ua::wire`]); both are accepted (7118-4.2-a).
//! - Control frames: a Ping gets a Pong with its payload; the server's Close is answered
//!   with a Close echoing its code; a framing violation by the server fails the connection
//!   with the [`crate::ws::FailReason`]'s code (RFC 6455 §7.1.7); [`Client::close`] sends
//!   Close 1000 and waits (bounded) for the server's Close and TCP close.
//!
//! Everything SIP — Outbound REGISTER (`+sip.instance`, `reg-id`, `Supported: path,
//! outbound, gruu`), refreshes, keep-alives, GRUU contacts, dialogs, answers to OPTIONS and
//! MESSAGE — is the UA core's; see [`crate::ua`].

mod connect;
mod error;
mod gate;
mod reconnect;
mod task;
mod tls;
mod traffic;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ring::rand::SystemRandom;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use crate::ws::url::{UrlError, WsUrl};
pub use connect::Timeouts;
pub use error::ClientError;
pub use reconnect::{FIRST_DELAY_MAX_MS, Reconnect, reconnect_delay_ms};
pub use tls::{Trust, client_config};
pub use traffic::{Direction, Traffic, TrafficTap};

use crate::sip::{Message, SipUri};
use crate::ua::{
    CallHandle, Registration, SplitMix64, Ua, UaConfig, UaEvent, WsTransport, instance_urn,
};
use crate::ws::MessageKind;

use task::{Command, Reply, Shared, Task};
use traffic::TrafficLog;

/// Capacity of the command channel from the handles to the task.
const COMMAND_QUEUE: usize = 64;

/// Everything [`Client::connect`] needs. [`ClientOptions::new`] fills in the defaults.
#[derive(Clone)]
pub struct ClientOptions {
    /// `ws://host[:port][/path]` or `wss://...`.
    pub url: String,
    /// The UA: AoR, registrar, transport (must match the URL's scheme), instance, reg-id...
    pub ua: UaConfig,
    /// What a `wss://` server certificate must chain to; required for `wss://`.
    pub trust: Option<Trust>,
    /// `Origin` to send in the handshake (RFC 6455 §4.1 (8): browsers must, others may).
    pub origin: Option<String>,
    /// Connect to this address instead of resolving the URL host (which still goes into
    /// `Host`, SNI and the certificate check), like `curl --resolve`.
    pub connect_to: Option<SocketAddr>,
    pub timeouts: Timeouts,
    pub reconnect: Reconnect,
    /// ACK a 2xx to our INVITE at once (the reference client has no media to set up).
    pub auto_ack: bool,
    /// [`Traffic`] records kept for [`Client::traffic`] (the oldest go first); 0 keeps none.
    pub traffic_limit: usize,
    /// Called with every [`Traffic`] record as it happens (`--trace`).
    pub on_traffic: Option<TrafficTap>,
    /// Events queued for [`Client::next_event`] at most.
    pub event_capacity: usize,
    /// Largest WebSocket message accepted from the server (RFC 6455 §10.4); larger fails the
    /// connection with 1009.
    pub max_message: usize,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.url)
            .field("aor", &self.ua.aor.to_string())
            .field("trust", &self.trust)
            .field("origin", &self.origin)
            .field("connect_to", &self.connect_to)
            .field("timeouts", &self.timeouts)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

/// A random source for the UA: the system CSPRNG, falling back to a generator seeded from
/// it should a draw ever fail.
fn os_random() -> Result<impl FnMut() -> u64 + Send + 'static, ClientError> {
    let rng = SystemRandom::new();
    let seed = ring::rand::generate::<[u8; 8]>(&rng)
        .map_err(|_| ClientError::Random)?
        .expose();
    let mut fallback = SplitMix64::new(u64::from_be_bytes(seed));
    Ok(move || match ring::rand::generate::<[u8; 8]>(&rng) {
        Ok(b) => u64::from_be_bytes(b.expose()),
        Err(_) => fallback.next_u64(),
    })
}

impl ClientOptions {
    /// Options for `aor` (`sip:alice@example.com`) on `url`: registrar `sip:` + the AoR's
    /// host, transport from the URL's scheme, a fresh random `+sip.instance` (persist
    /// [`UaConfig::instance`] to keep it across runs, 5626-4.1-a), Outbound on, reg-id 1,
    /// default timeouts, reconnect on, 10 000 traffic records, 1024 queued events.
    pub fn new(url: &str, aor: &str) -> Result<ClientOptions, ClientError> {
        let parsed = WsUrl::parse(url).map_err(|error| ClientError::BadUrl {
            url: url.to_string(),
            error,
        })?;
        let aor_uri = SipUri::parse(aor).map_err(|source| {
            ClientError::Ua(crate::ua::UaError::BadUri {
                what: "AoR",
                text: aor.to_string(),
                source,
            })
        })?;
        let mut registrar = SipUri::new(aor_uri.secure, aor_uri.host.clone());
        registrar.port = aor_uri.port;
        let transport = if parsed.secure {
            WsTransport::Wss
        } else {
            WsTransport::Ws
        };
        let mut random = os_random()?;
        let ua = UaConfig::new(
            aor,
            &registrar.to_string(),
            transport,
            instance_urn(&mut random),
        )?;
        Ok(ClientOptions {
            url: url.to_string(),
            ua,
            trust: None,
            origin: None,
            connect_to: None,
            timeouts: Timeouts::default(),
            reconnect: Reconnect::default(),
            auto_ack: true,
            traffic_limit: 10_000,
            on_traffic: None,
            event_capacity: 1024,
            max_message: crate::ws::codec::Limits::DEFAULT_MAX_MESSAGE,
        })
    }
}

/// A REGISTER's success: what the registrar granted our contact, and its 2xx (every
/// binding of the AoR is in its Contacts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterReply {
    pub registration: Registration,
    pub response: Option<Message>,
}

/// A MESSAGE's or OPTIONS' 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReply {
    pub status: u16,
    pub reason: String,
    pub response: Option<Message>,
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseCause {
    /// [`Client::close`]: our Close 1000.
    Local,
    /// The server's Close frame (answered with ours).
    ServerClose { code: Option<u16>, reason: String },
    /// No Close frame: TCP ended or broke (RFC 6455 §7.1.5 calls this 1006, abnormal).
    Abnormal(String),
    /// The server broke a framing rule; we failed the connection with `code` (RFC 6455
    /// §7.1.7).
    Failed { code: u16, reason: String },
    /// No `\r\n` pong within 10 s of a keep-alive ping (RFC 5626 §4.4.1).
    PongTimeout,
}

impl fmt::Display for CloseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseCause::Local => f.write_str("closed by the client"),
            CloseCause::ServerClose { code, reason } => match code {
                Some(c) => write!(f, "the server closed with {c} {reason:?}"),
                None => f.write_str("the server closed (no code)"),
            },
            CloseCause::Abnormal(d) => write!(f, "abnormal closure (1006): {d}"),
            CloseCause::Failed { code, reason } => {
                write!(f, "failed by the client with {code}: {reason}")
            }
            CloseCause::PongTimeout => {
                f.write_str("no keep-alive pong within 10 s (RFC 5626 §4.4.1)")
            }
        }
    }
}

/// What happened, in order, for [`Client::next_event`].
// Each event is moved once, through the channel: boxing the UA's event would only add an
// allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A connection opened (the first, or a reconnect).
    Opened { connection: u64, peer: SocketAddr },
    /// An attempt to connect failed; `reconnect_in`: when the next one starts.
    ConnectFailed {
        error: ClientError,
        reconnect_in: Option<Duration>,
    },
    /// The connection ended; `reconnect_in`: when the next attempt starts (`None`: none is
    /// planned; the next request opens a connection).
    Closed {
        connection: u64,
        cause: CloseCause,
        reconnect_in: Option<Duration>,
    },
    /// What the UA reported: every [`UaEvent`] except `Send`, which the client carries out
    /// (see [`Client::traffic`]).
    Ua(UaEvent),
}

/// Where the connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting {
        attempt: u64,
    },
    Open {
        connection: u64,
        peer: SocketAddr,
    },
    /// Down; the next attempt is due at this time since the client was created.
    Waiting {
        reconnect_at: Duration,
    },
    /// Down with no attempt planned: the next request opens a connection.
    Idle,
    Stopped,
}

/// A reference SIP-over-WebSocket client (see the module documentation).
pub struct Client {
    cmds: mpsc::Sender<Command>,
    events: Mutex<mpsc::Receiver<ClientEvent>>,
    state: watch::Receiver<LinkState>,
    traffic: Arc<TrafficLog>,
    dropped: Arc<AtomicU64>,
    task: JoinHandle<()>,
    request_timeout: Duration,
    close_timeout: Duration,
    aor: String,
    via_host: String,
    instance: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("aor", &self.aor)
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts the client and waits until its first connection is open (validated 101), or
    /// returns why it could not be opened.
    pub async fn connect(options: ClientOptions) -> Result<Client, ClientError> {
        let (client, first) = Client::start(options)?;
        match first.await {
            Ok(Ok(())) => Ok(client),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ClientError::Stopped),
        }
    }

    /// Starts the client and returns at once: the first connection is being opened, and
    /// requests made meanwhile wait for it (RFC 6455 §4.1: nothing but the handshake until
    /// the 101) or fail with 503 if it cannot be opened (RFC 7118 §4.1). Must be called
    /// within a tokio runtime.
    pub fn spawn(options: ClientOptions) -> Result<Client, ClientError> {
        Client::start(options).map(|(c, _)| c)
    }

    fn start(
        options: ClientOptions,
    ) -> Result<(Client, oneshot::Receiver<Result<(), ClientError>>), ClientError> {
        let url = WsUrl::parse(&options.url).map_err(|error| ClientError::BadUrl {
            url: options.url.clone(),
            error,
        })?;
        let wanted = if url.secure {
            WsTransport::Wss
        } else {
            WsTransport::Ws
        };
        if options.ua.transport != wanted {
            return Err(ClientError::Config(format!(
                "the URL {} needs a UA configured for {wanted:?}, not {:?} (its Via token)",
                options.url, options.ua.transport
            )));
        }
        let tls = match (url.secure, &options.trust) {
            (false, _) => None,
            (true, Some(trust)) => Some(tls::client_config(trust)?),
            (true, None) => {
                return Err(ClientError::Config(format!(
                    "{} is wss://: give the CA to trust (--ca FILE) or --insecure; the \
                     reference client has no system trust store",
                    options.url
                )));
            }
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ClientError::Config(
                "the client must be started inside a tokio runtime".to_string(),
            ));
        }
        let ua = Ua::new(options.ua.clone(), os_random()?)?;
        let via_host = ua.via_host().to_string();
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
        let (ev_tx, ev_rx) = mpsc::channel(options.event_capacity.max(1));
        let (state_tx, state_rx) = watch::channel(LinkState::Connecting { attempt: 1 });
        let (first_tx, first_rx) = oneshot::channel();
        let traffic = Arc::new(TrafficLog::new(options.traffic_limit));
        let dropped = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            params: Arc::new(connect::Params {
                url,
                tls,
                origin: options.origin.clone(),
                connect_to: options.connect_to,
                timeouts: options.timeouts,
            }),
            reconnect: options.reconnect,
            auto_ack: options.auto_ack,
            max_message: options.max_message,
            events: ev_tx,
            dropped: dropped.clone(),
            traffic: traffic.clone(),
            tap: options.on_traffic.clone(),
            state: state_tx,
            first: Some(first_tx),
            cmds: cmd_rx,
            start: tokio::time::Instant::now(),
            rng: SystemRandom::new(),
        };
        let task = tokio::spawn(Task::new(shared, ua).run());
        let client = Client {
            cmds: cmd_tx,
            events: Mutex::new(ev_rx),
            state: state_rx,
            traffic,
            dropped,
            task,
            request_timeout: options.timeouts.request,
            close_timeout: options.timeouts.close,
            aor: options.ua.aor.to_string(),
            via_host,
            instance: options.ua.instance.clone(),
        };
        Ok((client, first_rx))
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ClientError> {
        let (tx, rx) = oneshot::channel();
        let exchange = async {
            self.cmds
                .send(make(tx))
                .await
                .map_err(|_| ClientError::Stopped)?;
            rx.await.map_err(|_| ClientError::Stopped)?
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| ClientError::NoOutcome {
                ms: self.request_timeout.as_millis(),
            })?
    }

    /// REGISTER (RFC 7118 §8.1 F3 shape) and wait for the outcome. The registration is
    /// refreshed, kept alive and recovered after a reconnect until [`Client::unregister`].
    pub async fn register(&self) -> Result<RegisterReply, ClientError> {
        self.ask(Command::Register).await
    }

    /// Remove our binding (`expires=0`) and wait for the 2xx.
    pub async fn unregister(&self) -> Result<(), ClientError> {
        self.ask(Command::Unregister).await
    }

    /// A MESSAGE (RFC 3428) with `body` as is (non-UTF-8 bodies go in a binary frame),
    /// waiting for its final response.
    pub async fn message(
        &self,
        to: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Result<RequestReply, ClientError> {
        let (to, content_type, body) = (to.to_string(), content_type.to_string(), body.into());
        self.ask(|reply| Command::Message {
            to,
            content_type,
            body,
            reply,
        })
        .await
    }

    /// An OPTIONS query, waiting for its final response.
    pub async fn options(&self, to: &str) -> Result<RequestReply, ClientError> {
        let to = to.to_string();
        self.ask(|reply| Command::Options { to, reply }).await
    }

    /// Send an INVITE (with `sdp` as an `application/sdp` offer, if given). The outcome
    /// arrives as events: `CallProgress`, then `CallAnswered` (ACKed at once unless
    /// [`ClientOptions::auto_ack`] is off) or `CallFailed`.
    pub async fn invite(&self, to: &str, sdp: Option<Vec<u8>>) -> Result<CallHandle, ClientError> {
        let to = to.to_string();
        self.ask(|reply| Command::Invite { to, sdp, reply }).await
    }

    /// Answer an incoming call (from a `UaEvent::IncomingCall` event) with `code`; a 2xx is
    /// retransmitted until the ACK (RFC 3261 §13.3.1.4).
    pub async fn answer(
        &self,
        call: CallHandle,
        code: u16,
        sdp: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        self.ask(|reply| Command::Answer {
            call,
            code,
            sdp,
            reply,
        })
        .await
    }

    /// ACK the 2xx of our INVITE (only needed with [`ClientOptions::auto_ack`] off).
    pub async fn ack(&self, call: CallHandle) -> Result<(), ClientError> {
        self.ask(|reply| Command::Ack { call, reply }).await
    }

    /// Hang up: BYE in the call's dialog; returns the BYE's final status (the call ends
    /// whatever it is, RFC 3261 §15.1.1).
    pub async fn bye(&self, call: CallHandle) -> Result<u16, ClientError> {
        self.ask(|reply| Command::Bye { call, reply }).await
    }

    /// CANCEL our INVITE (RFC 3261 §9.1: only once a provisional response came); the call
    /// then fails with 487 (a `CallFailed` event).
    pub async fn cancel(&self, call: CallHandle) -> Result<(), ClientError> {
        self.ask(|reply| Command::Cancel { call, reply }).await
    }

    /// Send one WebSocket data message exactly as given, outside the UA (a probe: the
    /// conformance suite's hand-built requests). Whatever comes back is reported as the UA
    /// sees it and recorded in [`Client::traffic`].
    pub async fn send_raw(&self, kind: MessageKind, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.ask(|reply| Command::Raw { kind, bytes, reply }).await
    }

    /// The next event, or `None` when `wait` passed first or the client has stopped.
    pub async fn next_event(&self, wait: Duration) -> Option<ClientEvent> {
        let mut events = self.events.lock().await;
        tokio::time::timeout(wait, events.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every data message sent and received so far (up to [`ClientOptions::traffic_limit`]),
    /// in order, with its frame type.
    pub fn traffic(&self) -> Vec<Traffic> {
        self.traffic.snapshot()
    }

    pub fn state(&self) -> LinkState {
        self.state.borrow().clone()
    }

    /// Events dropped because the application did not read them.
    pub fn dropped_events(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The AoR (`sip:alice@example.com`).
    pub fn aor(&self) -> &str {
        &self.aor
    }

    /// The Via sent-by and Contact host (`<token>.invalid`, RFC 7118 Appendix B.1).
    pub fn via_host(&self) -> &str {
        &self.via_host
    }

    /// The `+sip.instance` URN.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Close: Close 1000, the server's Close and its TCP close awaited (each bounded by
    /// [`Timeouts::close`]), and the task ended. Requests still waiting end with
    /// [`ClientError::Stopped`].
    pub async fn close(self) {
        let (tx, rx) = oneshot::channel();
        let bound = self.close_timeout * 3 + Duration::from_secs(1);
        let _ = tokio::time::timeout(bound, async {
            if self.cmds.send(Command::Close(tx)).await.is_ok() {
                let _ = rx.await;
            }
        })
        .await;
        let mut task = self.task;
        if tokio::time::timeout(bound, &mut task).await.is_err() {
            task.abort();
        }
    }
}
