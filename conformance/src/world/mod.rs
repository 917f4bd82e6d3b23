//! The state one case runs in: the target, the probe connections it opened, the last answer
//! and what was observed where the RFCs allow several answers; for SIP-level cases, the SIP
//! messages read from each connection and the scenario's placeholder values.

use std::any::{Any, TypeId};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sipws_reference::sip::Message;

use crate::evidence::Transcript;
use crate::profile::Profile;
use crate::step::StepError;
use crate::target::Target;
use crate::wire::phone::MAX_PROVISIONAL;
use crate::wire::{Probe, Received, describe};

pub mod frames;
mod log;
pub mod registrar;
mod routing;
pub mod sip;

pub use routing::Routing;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A value no other scenario of any run is likely to use: time since the epoch and a counter.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:x}{:x}",
        nanos & 0xffff_ffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

struct Conn {
    name: String,
    probe: Probe,
    secure: bool,
    /// The SIP upgrade succeeded: what follows on it is WebSocket frames.
    upgraded: bool,
    /// The `.invalid` host this connection's messages use as sent-by and Contact host.
    host: String,
    /// SIP messages read but not yet consumed by a step.
    inbox: VecDeque<Message>,
}

pub struct World {
    pub target: Arc<Target>,
    /// What the target showed it can do, probed before the cases (empty while probing).
    pub profile: Arc<Profile>,
    conns: Vec<Conn>,
    /// The last answer to an upgrade request.
    pub answer: Option<Received>,
    /// The Sec-WebSocket-Key of the last upgrade request sent.
    pub key: Option<String>,
    /// Observations for the verdict (which conforming alternative the target chose).
    pub observed: Vec<String>,
    /// The last SIP response a step read.
    pub last_response: Option<Message>,
    /// The last SIP request each connection received.
    pub last_request: HashMap<String, Message>,
    nonce: String,
    /// State that one step module keeps for its own steps (a UDP socket, a listener), by type.
    ext: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl World {
    pub fn new(target: Arc<Target>) -> Self {
        World {
            target,
            profile: Arc::new(Profile::default()),
            conns: Vec::new(),
            answer: None,
            key: None,
            observed: Vec::new(),
            last_response: None,
            last_request: HashMap::new(),
            nonce: unique(),
            ext: HashMap::new(),
        }
    }

    /// The world of a case against a target whose profile was probed.
    pub fn with_profile(self, profile: Arc<Profile>) -> Self {
        World { profile, ..self }
    }

    /// Add a raw connection under a name (`main` unless the scenario names several).
    pub fn add_conn(&mut self, name: &str, probe: Probe) {
        self.insert(name, probe, false, false);
    }

    /// Add a connection whose SIP upgrade succeeded.
    pub fn add_sip_conn(&mut self, name: &str, probe: Probe, secure: bool) {
        self.insert(name, probe, secure, true);
    }

    fn insert(&mut self, name: &str, probe: Probe, secure: bool, upgraded: bool) {
        self.conns.retain(|c| c.name != name);
        self.conns.push(Conn {
            name: name.to_string(),
            probe,
            secure,
            upgraded,
            host: format!("{}{}.invalid", name.to_ascii_lowercase(), unique()),
            inbox: VecDeque::new(),
        });
    }

    fn find(&mut self, name: &str) -> Option<&mut Conn> {
        self.conns.iter_mut().find(|c| c.name == name)
    }

    pub fn conn(&mut self, name: &str) -> Option<&mut Probe> {
        self.find(name).map(|c| &mut c.probe)
    }

    /// The `.invalid` host a connection's messages use as sent-by and Contact host (its
    /// `{host}` placeholder); `NAME.invalid` for a name no connection has.
    pub fn conn_host(&self, name: &str) -> String {
        self.conns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.host.clone())
            .unwrap_or_else(|| format!("{name}.invalid"))
    }

    pub fn is_secure(&self, name: &str) -> bool {
        self.conns.iter().any(|c| c.name == name && c.secure)
    }

    pub fn observe(&mut self, what: impl Into<String>) {
        self.observed.push(what.into());
    }

    /// The last SIP response a step read, or a harness error when none was.
    pub fn last_response(&self) -> Result<&Message, StepError> {
        self.last_response
            .as_ref()
            .ok_or_else(|| StepError::harness("no response was received yet"))
    }

    /// A step module's own state, created on first use.
    pub fn ext<T: Default + Send + 'static>(&mut self) -> &mut T {
        let slot = self
            .ext
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        match slot.downcast_mut::<T>() {
            Some(t) => t,
            // The map is keyed by the type id of what it holds, so the downcast cannot fail.
            None => unreachable!("ext slot holds another type"),
        }
    }

    /// A user name unique to this scenario.
    pub fn user(&self, base: &str) -> String {
        format!("{base}-{}", self.nonce)
    }

    /// Fill the placeholders of a message written in a feature and frame it with CRLF.
    pub fn render(&mut self, text: &str, conn: &str) -> String {
        let host = self
            .conns
            .iter()
            .find(|c| c.name == conn)
            .map(|c| c.host.clone())
            .unwrap_or_else(|| format!("{conn}.invalid"));
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut t = text
            .replace("{domain}", &self.target.domain)
            .replace("{host}", &host)
            .replace("{branch}", &format!("z9hG4bK{}", unique()))
            .replace("{call-id}", &self.nonce)
            .replace("{tag}", &format!("t{}", self.nonce))
            .replace("{n}", &n.to_string());
        for user in ["alice", "bob", "carol"] {
            t = t.replace(&format!("{{{user}}}"), &self.user(user));
        }
        // Docstrings come with the newlines around them; the message starts at its first line.
        let lines: Vec<&str> = t
            .trim_matches(['\r', '\n'])
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .collect();
        let mut out = lines.join("\r\n");
        if !lines.iter().any(|l| l.is_empty()) {
            out.push_str("\r\n\r\n");
        }
        out
    }

    /// Read the next SIP message of a connection: the inbox first, then the wire (CRLF
    /// keep-alive answers are skipped). Errors when the target sent nothing in time, closed,
    /// or sent something that is not SIP.
    async fn next_message(
        &mut self,
        name: &str,
        want_response: bool,
    ) -> Result<Message, StepError> {
        let timeout = self.target.timeout;
        let conn = self
            .find(name)
            .ok_or_else(|| StepError::harness(format!("no connection {name:?}")))?;
        if let Some(i) = conn
            .inbox
            .iter()
            .position(|m| m.is_request() != want_response)
            && let Some(m) = conn.inbox.remove(i)
        {
            return Ok(m);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let got = conn
                .probe
                .read_message(left)
                .await
                .map_err(|e| StepError::harness(e.to_string()))?;
            let frame = match got {
                Received::Frame(f) if f.opcode == 0x1 || f.opcode == 0x2 => f,
                other => {
                    let what = if want_response { "response" } else { "request" };
                    return Err(StepError::broken(format!(
                        "expected a SIP {what} on {name}, got {}",
                        describe(&other)
                    )));
                }
            };
            if frame.payload.iter().all(|b| *b == b'\r' || *b == b'\n') {
                continue;
            }
            let msg = Message::parse_datagram(&frame.payload).map_err(|e| {
                StepError::broken(format!(
                    "{name} received a WebSocket message that is not SIP: {e}"
                ))
            })?;
            if msg.is_request() != want_response {
                return Ok(msg);
            }
            conn.inbox.push_back(msg);
        }
    }

    /// The next final response on a connection, provisional ones skipped (RFC 3261 §17.1;
    /// at most [`MAX_PROVISIONAL`] of them); it becomes the last response.
    pub async fn next_final(&mut self, name: &str) -> Result<Message, StepError> {
        for _ in 0..MAX_PROVISIONAL {
            let resp = self.next_response(name).await?;
            if resp.status_line().is_some_and(|s| s.code >= 200) {
                self.last_response = Some(resp.clone());
                return Ok(resp);
            }
        }
        Err(StepError::broken(format!(
            "{MAX_PROVISIONAL} provisional responses on {name} and no final one"
        )))
    }

    pub async fn next_response(&mut self, name: &str) -> Result<Message, StepError> {
        self.next_message(name, true).await
    }

    pub async fn next_request(&mut self, name: &str) -> Result<Message, StepError> {
        self.next_message(name, false).await
    }

    /// Read what the target has still to say on every open connection, briefly (`wait` per
    /// read, at most 64 frames each), so the whole-wire invariants see frames no step asked
    /// for: a second final response queued right behind the first, say.
    pub async fn drain_wire(&mut self, wait: std::time::Duration) {
        for c in self.conns.iter_mut().filter(|c| c.upgraded) {
            for _ in 0..64 {
                match c.probe.read_frame(wait).await {
                    Ok(Received::Frame(_)) => continue,
                    _ => break,
                }
            }
        }
    }

    /// What each connection carried, for the whole-wire invariants.
    pub fn wire_connections(&self) -> Vec<crate::judge::invariants::Connection<'_>> {
        self.conns
            .iter()
            .map(|c| {
                let (sent, received) = c.probe.frames();
                crate::judge::invariants::Connection {
                    name: &c.name,
                    secure: c.secure,
                    sent,
                    received,
                }
            })
            .collect()
    }

    /// The transcripts of every connection, in the order they were opened.
    pub fn into_evidence(self) -> Vec<Transcript> {
        self.conns
            .into_iter()
            .map(|c| c.probe.into_transcript())
            .collect()
    }
}
