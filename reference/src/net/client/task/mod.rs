//! The connection task: the one owner of the socket and of the [`Ua`]. It connects,
//! reconnects, carries out the UA's `Send`s as masked frames, feeds it every received data
//! message, runs its timers, and answers the handle's commands.

mod command;
mod events;
mod frames;

use std::collections::{HashMap, VecDeque};
use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ring::rand::SystemRandom;
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tracing::{debug, warn};

use super::connect::{self, Opened, Params};
use super::error::ClientError;
use super::reconnect::Reconnect;
use super::traffic::{Direction, Traffic, TrafficLog, TrafficTap};
use super::{ClientEvent, CloseCause, LinkState, RegisterReply, RequestReply};
use crate::ua::{CallHandle, Ua, UaEvent, wire};
use crate::ws::codec::{CloseCode, Limits, MessageKind, Receiver, Role, encode_close};
pub(crate) use command::{Command, Reply};
use frames::{drain, write};

/// The shortest sleep between two timer passes: a guard against a timer that stays due.
const MIN_TIMER_GAP: Duration = Duration::from_millis(2);

/// Where the task is.
enum Phase {
    Connect,
    Open(Opened),
    /// No connection; the next attempt is due then (a reconnect).
    Wait(Instant),
    /// No connection and none planned: the next request opens one (RFC 7118 §4.1 note).
    Idle,
    Stop,
}

/// How an open connection ended.
enum End {
    /// The application closed the client (our Close frame went out).
    Local,
    Peer(CloseCause),
}

pub(crate) struct Shared {
    pub params: Arc<Params>,
    pub reconnect: Reconnect,
    pub auto_ack: bool,
    pub max_message: usize,
    pub events: mpsc::Sender<ClientEvent>,
    pub dropped: Arc<AtomicU64>,
    pub traffic: Arc<TrafficLog>,
    pub tap: Option<TrafficTap>,
    pub state: watch::Sender<LinkState>,
    pub first: Option<oneshot::Sender<Result<(), ClientError>>>,
    pub cmds: mpsc::Receiver<Command>,
    pub start: Instant,
    pub rng: SystemRandom,
}

pub(crate) struct Task {
    s: Shared,
    ua: Ua,
    outbox: VecDeque<(Vec<u8>, MessageKind)>,
    reg_waiters: Vec<Reply<RegisterReply>>,
    unreg_waiters: Vec<Reply<()>>,
    req_waiters: HashMap<String, Reply<RequestReply>>,
    bye_waiters: HashMap<CallHandle, Reply<u16>>,
    /// Connections opened so far (the current one's number while open).
    connection: u64,
    attempts: u64,
    ever_open: bool,
    /// The open connection registered at least once (the flow worked).
    registered_here: bool,
    /// Consecutive connections that failed to open or to register (RFC 6455 §7.2.3 and
    /// RFC 5626 §4.5 count).
    failures: u32,
    /// The UA wants to be registered on the next connection (its `FlowFailed` said so).
    reregister: bool,
    /// The UA declared the flow dead (no pong, RFC 5626 §4.4.1).
    pong_timeout: bool,
    last_timer: Option<Instant>,
}

/// Sleeps until `at`, or forever.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

impl Task {
    pub(crate) fn new(s: Shared, ua: Ua) -> Task {
        Task {
            s,
            ua,
            outbox: VecDeque::new(),
            reg_waiters: Vec::new(),
            unreg_waiters: Vec::new(),
            req_waiters: HashMap::new(),
            bye_waiters: HashMap::new(),
            connection: 0,
            attempts: 0,
            ever_open: false,
            registered_here: false,
            failures: 0,
            reregister: false,
            pong_timeout: false,
            last_timer: None,
        }
    }

    pub(crate) async fn run(mut self) {
        let mut phase = Phase::Connect;
        loop {
            phase = match phase {
                Phase::Connect => self.connecting().await,
                Phase::Open(opened) => self.open(opened).await,
                Phase::Wait(at) => self.waiting(Some(at)).await,
                Phase::Idle => self.waiting(None).await,
                Phase::Stop => break,
            };
        }
        self.s.state.send_replace(LinkState::Stopped);
        debug!(url = %self.s.params.url, "client stopped");
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.s.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn random(&self) -> u64 {
        ring::rand::generate::<[u8; 8]>(&self.s.rng)
            .map(|b| u64::from_be_bytes(b.expose()))
            .unwrap_or_else(|_| self.now_ms().wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn emit(&self, ev: ClientEvent) {
        if let Err(mpsc::error::TrySendError::Full(ev)) = self.s.events.try_send(ev) {
            // Events are a convenience; a full queue must never stall the connection.
            let n = self.s.dropped.fetch_add(1, Ordering::Relaxed);
            if n == 0 {
                warn!(?ev, "client event queue full: events are being dropped");
            }
        }
    }

    /// When the UA's next timer is due (at least [`MIN_TIMER_GAP`] after the last pass).
    fn timer_at(&self) -> Option<Instant> {
        let now = self.now_ms();
        let at = Instant::now() + Duration::from_millis(self.ua.next_timer(now)?);
        Some(match self.last_timer {
            Some(last) => at.max(last + MIN_TIMER_GAP),
            None => at,
        })
    }

    /// Runs the UA's timers; keep-alives and refreshes only on an open connection.
    fn on_timer(&mut self, open: bool) {
        self.last_timer = Some(Instant::now());
        let now = self.now_ms();
        let evs = self.ua.tick(now);
        self.on_ua_events(evs, None, None);
        if open && !self.pong_timeout {
            if let Some(ping) = self.ua.keepalive_due(now) {
                self.outbox.push_back((ping, MessageKind::Text));
            }
            if self.ua.next_refresh(now) == Some(0) {
                match self.ua.refresh(now) {
                    Ok(m) => self.outbox.push_back(wire(&m)),
                    Err(e) => self.emit(ClientEvent::Ua(UaEvent::Error(e))),
                }
            }
        }
    }

    fn record(&self, direction: Direction, kind: MessageKind, bytes: &[u8]) {
        if self.s.tap.is_none() && !self.s.traffic.enabled() {
            return;
        }
        let t = Traffic {
            direction,
            kind,
            bytes: bytes.to_vec(),
            at: self.s.start.elapsed(),
            connection: self.connection,
        };
        if let Some(tap) = &self.s.tap {
            tap(&t);
        }
        self.s.traffic.push(t);
    }

    fn set_state(&self, state: LinkState) {
        self.s.state.send_replace(state);
    }

    // -----------------------------------------------------------------------------------
    // Phases
    // -----------------------------------------------------------------------------------

    async fn connecting(&mut self) -> Phase {
        self.attempts += 1;
        self.set_state(LinkState::Connecting {
            attempt: self.attempts,
        });
        let params = self.s.params.clone();
        let rng = self.s.rng.clone();
        let attempt = async move { connect::open(&params, &rng).await };
        tokio::pin!(attempt);
        loop {
            let timer = self.timer_at();
            tokio::select! {
                r = &mut attempt => return self.attempt_done(r),
                cmd = self.s.cmds.recv() => match cmd {
                    // Dropping the attempt drops its socket; the pending requests end with
                    // the client (their callers see `Stopped`).
                    None => return Phase::Stop,
                    Some(Command::Close(done)) => {
                        let _ = done.send(());
                        return Phase::Stop;
                    }
                    Some(c) => {
                        self.command(c);
                    }
                },
                _ = sleep_opt(timer) => self.on_timer(false),
            }
        }
    }

    fn attempt_done(&mut self, r: Result<Opened, ClientError>) -> Phase {
        let now = self.now_ms();
        match r {
            Ok(opened) => {
                self.connection += 1;
                self.ever_open = true;
                self.registered_here = false;
                self.pong_timeout = false;
                self.ua.connected(now);
                if std::mem::take(&mut self.reregister) {
                    // RFC 5626 §4.5: the replacement registration, same instance and reg-id,
                    // before anything queued meanwhile.
                    let m = self.ua.register(now);
                    self.outbox.push_front(wire(&m));
                }
                debug!(url = %self.s.params.url, peer = %opened.peer, connection = self.connection, "connection open");
                self.set_state(LinkState::Open {
                    connection: self.connection,
                    peer: opened.peer,
                });
                self.emit(ClientEvent::Opened {
                    connection: self.connection,
                    peer: opened.peer,
                });
                if let Some(first) = self.s.first.take() {
                    let _ = first.send(Ok(()));
                }
                Phase::Open(opened)
            }
            Err(error) => {
                debug!(url = %self.s.params.url, %error, "connection attempt failed");
                // RFC 7118 §4.1 note: no 101, so every request waiting for the connection
                // fails as a transaction error (503, RFC 3261 §8.1.3.1); none of it was or
                // will be sent.
                self.outbox.clear();
                self.failures = self.failures.saturating_add(1);
                let cause = error.to_string();
                let evs = self.ua.disconnected(now);
                self.on_ua_events(evs, None, Some(&cause));
                let next = self.next_phase();
                self.emit(ClientEvent::ConnectFailed {
                    error: error.clone(),
                    reconnect_in: self.reconnect_in(&next),
                });
                if let Some(first) = self.s.first.take() {
                    let _ = first.send(Err(error));
                }
                next
            }
        }
    }

    /// After a connection ended or an attempt failed: reconnect (6455-7.2.3-a, 5626-4.5-a)
    /// when the UA wants to be registered and a connection has worked before, else wait idle.
    fn next_phase(&mut self) -> Phase {
        if self.reregister && self.ever_open && self.s.reconnect.enabled {
            let r = self.random();
            let delay = self.s.reconnect.delay(self.failures, r);
            self.set_state(LinkState::Waiting {
                reconnect_at: self.s.start.elapsed() + delay,
            });
            Phase::Wait(Instant::now() + delay)
        } else {
            self.set_state(LinkState::Idle);
            Phase::Idle
        }
    }

    fn reconnect_in(&self, next: &Phase) -> Option<Duration> {
        match next {
            Phase::Wait(at) => Some(at.saturating_duration_since(Instant::now())),
            _ => None,
        }
    }

    async fn waiting(&mut self, until: Option<Instant>) -> Phase {
        loop {
            let timer = self.timer_at();
            tokio::select! {
                _ = sleep_opt(until) => return Phase::Connect,
                cmd = self.s.cmds.recv() => match cmd {
                    None => return Phase::Stop,
                    Some(Command::Close(done)) => {
                        let _ = done.send(());
                        return Phase::Stop;
                    }
                    Some(c) => {
                        if self.command(c) && until.is_none() {
                            return Phase::Connect;
                        }
                    }
                },
                _ = sleep_opt(timer) => self.on_timer(false),
            }
        }
    }

    async fn open(&mut self, opened: Opened) -> Phase {
        let Opened {
            mut stream,
            leftover,
            ..
        } = opened;
        let mut rx = Receiver::new(Role::Client, Limits::with_max_message(self.s.max_message));
        rx.feed(&leftover);
        let mut buf = vec![0u8; 16 * 1024];
        let mut close_reply = None;
        let end = 'conn: loop {
            while let Some(ev) = rx.next_event() {
                if let Some(cause) = self.on_frame(ev, &mut stream).await {
                    break 'conn End::Peer(cause);
                }
            }
            if self.pong_timeout {
                break 'conn End::Peer(CloseCause::PongTimeout);
            }
            if let Err(detail) = self.flush(&mut stream).await {
                break 'conn End::Peer(CloseCause::Abnormal(detail));
            }
            let timer = self.timer_at();
            tokio::select! {
                biased;
                cmd = self.s.cmds.recv() => match cmd {
                    None => break 'conn End::Local,
                    Some(Command::Close(done)) => {
                        close_reply = Some(done);
                        break 'conn End::Local;
                    }
                    Some(c) => {
                        self.command(c);
                    }
                },
                _ = sleep_opt(timer) => self.on_timer(true),
                r = stream.read(&mut buf) => match r {
                    Ok(0) => break 'conn End::Peer(CloseCause::Abnormal(
                        "the server closed TCP without a Close frame".to_string())),
                    Ok(n) => rx.feed(&buf[..n]),
                    Err(e) => break 'conn End::Peer(CloseCause::Abnormal(e.to_string())),
                },
            }
        };
        match end {
            End::Local => {
                self.close_by_us(&mut stream, &mut rx).await;
                if let Some(done) = close_reply {
                    let _ = done.send(());
                }
                Phase::Stop
            }
            End::Peer(cause) => {
                if cause == CloseCause::PongTimeout
                    && let Ok(mask) = self.mask()
                {
                    // The flow is dead for SIP (RFC 5626 §4.4.1); say so before leaving.
                    let frame =
                        encode_close(Some(CloseCode::NORMAL), "no keep-alive pong", Some(mask));
                    let _ = write(self.s.params.timeouts.write, &mut stream, &frame).await;
                }
                if matches!(
                    cause,
                    CloseCause::ServerClose { .. } | CloseCause::PongTimeout
                ) {
                    // RFC 6455 §7.1.1: the server closes TCP first; wait for it, bounded.
                    let _ = timeout(self.s.params.timeouts.close, drain(&mut stream)).await;
                }
                drop(stream);
                self.connection_lost(cause)
            }
        }
    }

    /// The connection is gone: the UA learns of it (pending requests fail as 503, calls
    /// end), then reconnect or wait.
    fn connection_lost(&mut self, cause: CloseCause) -> Phase {
        let now = self.now_ms();
        self.outbox.clear();
        if !self.registered_here {
            self.failures = self.failures.saturating_add(1);
        }
        if !self.pong_timeout {
            let text = format!("connection {} closed: {cause}", self.connection);
            let evs = self.ua.disconnected(now);
            self.on_ua_events(evs, None, Some(&text));
        }
        debug!(url = %self.s.params.url, connection = self.connection, %cause, "connection closed");
        let next = self.next_phase();
        self.emit(ClientEvent::Closed {
            connection: self.connection,
            cause,
            reconnect_in: self.reconnect_in(&next),
        });
        next
    }
}
