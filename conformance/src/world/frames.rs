//! The frame steps' sending side of the world: payloads and frame tables of
//! [`crate::wire::payload`] rendered for the scenario, frames noted in the connection's log
//! before they go out (so the log knows a Close of the target is an answer, and what
//! `the last Ping's payload` is), and connections that record their raw bytes
//! ([`crate::wire::recorder`]) so length forms can be judged (RFC 6455 §5.2).

use std::time::Duration;

use tokio::net::TcpStream;

use super::World;
use crate::step::{StepError, StepResult};
use crate::wire::payload::{self, Render, Slicing, bad_scenario};
use crate::wire::recorder::{self, HeaderSeen};
use crate::wire::{RawFrame, Received, describe};

/// How the last streamed message ended: the target took every byte of it, or reacted (or
/// stopped reading) before the end. The close steps judge a size limit by it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    pub all_written: Option<bool>,
}

/// What a payload needs from the scenario, for frames sent on `conn`.
struct Scenario<'w> {
    w: &'w mut World,
    conn: &'w str,
}

impl Render for Scenario<'_> {
    fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String> {
        if !matches!(user, "alice" | "bob" | "carol") {
            return Err(format!(
                "register({user}): the users are alice, bob and carol"
            ));
        }
        let text = self.w.register_text(user, self.conn);
        Ok(match display {
            Some(d) => text.replacen("From: <", &format!("From: \"{d}\" <"), 1),
            None => text,
        }
        .into_bytes())
    }

    fn last_ping(&mut self) -> Option<Vec<u8>> {
        self.w.frame_log(self.conn).last_ping().map(<[u8]>::to_vec)
    }
}

impl World {
    /// The bytes a payload of the payload language stands for, on `conn`.
    pub fn frame_payload(&mut self, conn: &str, spec: &str) -> Result<Vec<u8>, StepError> {
        let mut r = Scenario { w: self, conn };
        payload::payload(spec, &mut r, &mut Slicing::default()).map_err(bad_scenario)
    }

    /// The frames of a frame table, to send on `conn`.
    pub fn table_frames(
        &mut self,
        conn: &str,
        table: &[Vec<String>],
    ) -> Result<Vec<RawFrame>, StepError> {
        let mut r = Scenario { w: self, conn };
        payload::frames_from_table(table, &mut r).map_err(bad_scenario)
    }

    /// Send frames on a connection, in one write or one write (one TCP segment) each.
    pub async fn send_frames(
        &mut self,
        conn: &str,
        frames: &[RawFrame],
        one_write: bool,
    ) -> StepResult {
        self.frame_log(conn).note_sent(frames);
        let p = self.probe(conn)?;
        let sent = if one_write {
            p.send_frames(frames).await
        } else {
            let mut r = Ok(());
            for f in frames {
                r = p.send_frame(f).await;
                if r.is_err() {
                    break;
                }
                // Separate writes travel as separate TCP segments.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            r
        };
        sent.map_err(|e| StepError::harness(format!("sending on {conn}: {e}")))
    }

    /// Open a SIP WebSocket connection to the plain `ws://` endpoint whose every byte read is
    /// recorded in its log (RFC 7118 §4.1).
    pub async fn open_recorded(&mut self, conn: &str) -> StepResult {
        let Some(ep) = self.target.ws.clone() else {
            return Err(StepError::Skip(
                "recording raw bytes needs the target's plain ws:// endpoint".into(),
            ));
        };
        let addr = crate::target::resolve(&ep)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| StepError::harness(format!("connecting to {addr}: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| StepError::harness(e.to_string()))?;
        let (mut p, seen) = recorder::recorded(tcp);
        match super::sip::sip_upgrade(&self.target, &mut p, false).await? {
            Received::Http { status: 101, .. } => {}
            other => {
                return Err(StepError::harness(format!(
                    "could not open a SIP WebSocket connection: {}",
                    describe(&other)
                )));
            }
        }
        self.add_sip_conn(conn, p, false);
        self.frame_log(conn).set_recording(seen);
        Ok(())
    }

    /// The frame headers a recorded connection has read so far.
    pub fn raw_headers(&mut self, conn: &str) -> Result<Vec<HeaderSeen>, StepError> {
        let raw = self
            .frame_log(conn)
            .recording()
            .map(|r| r.bytes())
            .ok_or_else(|| {
                StepError::harness(format!(
                    "{conn} was not opened with \"whose raw bytes are recorded\""
                ))
            })?;
        Ok(recorder::frame_headers(&raw))
    }
}
