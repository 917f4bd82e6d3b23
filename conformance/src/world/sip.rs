//! The SIP side of a case's world: opening SIP WebSocket connections, sending SIP text as
//! one WebSocket message (RFC 7118 §5), the Outbound REGISTER every registration step sends,
//! and closing a connection the way a client does.

use crate::step::{StepError, StepResult};
use crate::target::Target;
use crate::wire::{Probe, RawFrame, Received, UpgradeRequest};

use super::World;

/// Send the SIP upgrade request for the target's ws:// (or, with `secure`, wss://) endpoint on
/// `probe` and read the answer (RFC 7118 §4.1).
pub async fn sip_upgrade(
    target: &Target,
    probe: &mut Probe,
    secure: bool,
) -> Result<Received, StepError> {
    let ep = if secure { &target.wss } else { &target.ws };
    let req = match ep {
        Some(ep) => UpgradeRequest::sip(&ep.authority(), &ep.resource),
        None => UpgradeRequest::sip("localhost", "/"),
    };
    probe
        .upgrade(&req, target.timeout)
        .await
        .map_err(|e| StepError::harness(e.to_string()))
}

impl World {
    /// Open a connection and complete a SIP upgrade on it (RFC 7118 §4.1).
    pub async fn open_sip(&mut self, conn: &str, secure: bool) -> StepResult {
        let target = self.target.clone();
        let Some(mut probe) = target
            .connect(secure)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?
        else {
            return Err(StepError::Skip(format!(
                "the target has no {} endpoint",
                if secure { "wss://" } else { "ws://" }
            )));
        };
        match sip_upgrade(&target, &mut probe, secure).await? {
            Received::Http { status: 101, .. } => {}
            other => {
                return Err(StepError::harness(format!(
                    "could not open a SIP WebSocket connection: {}",
                    super::describe(&other)
                )));
            }
        }
        self.add_sip_conn(conn, probe, secure);
        Ok(())
    }

    /// The Outbound REGISTER RFC 7118 §8.1 F3 shows, for `user` on connection `conn`.
    pub fn register_text(&mut self, user: &str, conn: &str) -> String {
        let transport = if self.is_secure(conn) { "WSS" } else { "WS" };
        self.render(
            &format!(
                "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/{transport} {{host}};branch={{branch}}
From: <sip:{{{user}}}@{{domain}}>;tag={{tag}}
To: <sip:{{{user}}}@{{domain}}>
Call-ID: reg-{{call-id}}-{user}
CSeq: {{n}} REGISTER
Max-Forwards: 70
Supported: path, outbound, gruu
Contact: <sip:{{{user}}}@{{host}};transport=ws>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-{{n}}>\"
Content-Length: 0
"
            ),
            conn,
        )
    }

    /// Send SIP text on a connection as one WebSocket message, in a text or a binary frame
    /// (RFC 7118 §4.2, §5).
    pub async fn send_sip(&mut self, conn: &str, text: &str, binary: bool) -> StepResult {
        let frame = if binary {
            RawFrame::binary(text.as_bytes().to_vec())
        } else {
            RawFrame::text(text.as_bytes().to_vec())
        };
        self.probe(conn)?
            .send_frame(&frame)
            .await
            .map_err(|e| StepError::harness(e.to_string()))
    }

    /// A connection's probe, or a harness error naming the missing connection.
    pub fn probe(&mut self, conn: &str) -> Result<&mut Probe, StepError> {
        self.conn(conn)
            .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))
    }

    /// Close a connection the way a client does (Close 1000) and wait, bounded by the
    /// timeout, for the target's Close or TCP close (RFC 6455 §5.5.1), so the target has
    /// seen the flow end before the next step judges what it does about it. How it closes is
    /// the framing features' business: a Close without the TCP close is only recorded; no
    /// answer at all means the case cannot know the flow is gone, a harness error rather
    /// than a verdict on later steps.
    pub async fn close(&mut self, conn: &str) -> StepResult {
        let timeout = self.target.timeout;
        let probe = self.probe(conn)?;
        probe
            .send_frame(&RawFrame::close(1000, ""))
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut close_seen = false;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match probe
                .read_frame(left)
                .await
                .map_err(|e| StepError::harness(e.to_string()))?
            {
                Received::Closed => return Ok(()),
                Received::Frame(f) => close_seen |= f.opcode == 0x8,
                Received::Timeout if close_seen => {
                    self.observe(format!(
                        "the target answered the Close on {conn} but kept TCP open"
                    ));
                    return Ok(());
                }
                Received::Timeout => {
                    return Err(StepError::harness(format!(
                        "the target neither answered {conn}'s Close nor closed TCP within the timeout, so the case cannot know the flow is gone"
                    )));
                }
                _ => {}
            }
        }
    }
}
