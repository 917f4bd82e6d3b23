//! The world side of the connection logs of [`crate::wire::log`]: one log per connection,
//! reached by the connection's name, filled by reading its probe. Reading answers the
//! target's Pings and Closes as the log decides (RFC 6455 §5.5.1, §5.5.2) and judges every
//! Close frame the target sends with [`judge::close_frame`] (rows 6455-5.5.1-a,
//! 6455-7.4.1-a). Every wait ends at [`World::deadline`], the target's timeout knob, or
//! earlier when the TCP connection closes.

use std::collections::HashMap;

use tokio::time::Instant;

use super::World;
use crate::judge::close as judge;
use crate::step::{StepError, StepResult};
use crate::wire::log::{Ev, Log, Pulled};

/// The logs of a case's connections, by connection name.
#[derive(Default)]
struct Logs(HashMap<String, Log>);

impl World {
    /// The log of a connection, created empty on first use.
    pub fn frame_log(&mut self, conn: &str) -> &mut Log {
        self.ext::<Logs>().0.entry(conn.to_string()).or_default()
    }

    /// The logs of every connection read so far (in no particular order).
    pub fn frame_logs(&mut self) -> impl Iterator<Item = &Log> {
        self.ext::<Logs>().0.values()
    }

    /// When a wait that starts now ends: after the target's timeout.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.target.timeout
    }

    /// Read one frame (waiting until `until`) into the connection's log. `Ok(false)` when
    /// nothing came in time or the TCP connection had closed.
    pub async fn pull_frame(&mut self, conn: &str, until: Instant) -> Result<bool, StepError> {
        if self.frame_log(conn).is_closed() {
            return Ok(false);
        }
        let left = until.saturating_duration_since(Instant::now());
        let got = self
            .probe(conn)?
            .read_frame(left)
            .await
            .map_err(|e| StepError::harness(format!("reading from {conn}: {e}")))?;
        let reply = match self.frame_log(conn).record(got, judge::close_frame)? {
            Pulled::Nothing => return Ok(false),
            Pulled::Logged { reply } => reply,
        };
        if let Some(frame) = reply {
            // The target may have closed its side already; the answer is a courtesy (the
            // transcript shows it was attempted) and its failure says nothing about the target.
            let _ = self.probe(conn)?.send_frame(&frame).await;
        }
        Ok(true)
    }

    /// Read what has already arrived, without waiting.
    pub async fn drain_frames(&mut self, conn: &str) -> StepResult {
        while self.pull_frame(conn, Instant::now()).await? {}
        Ok(())
    }

    /// Read until the TCP close or `until`; whether the TCP connection closed.
    pub async fn read_to_close(&mut self, conn: &str, until: Instant) -> Result<bool, StepError> {
        while self.pull_frame(conn, until).await? {}
        Ok(self.frame_log(conn).is_closed())
    }

    /// Take the first entry of the log `want` accepts, reading more until `until`. `None`
    /// when nothing matched in time or the connection closed first.
    pub async fn take_event(
        &mut self,
        conn: &str,
        until: Instant,
        want: impl Fn(&Ev) -> bool,
    ) -> Result<Option<Ev>, StepError> {
        let mut from = 0;
        loop {
            let l = self.frame_log(conn);
            if let Some(ev) = l.take_first(&mut from, &want) {
                return Ok(Some(ev));
            }
            if l.is_closed() {
                return Ok(None);
            }
            if !self.pull_frame(conn, until).await? {
                return Ok(None);
            }
        }
    }

    /// The target's reaction to what the client sent: the first data message, Close or TCP
    /// close within the timeout (Pings and Pongs are not a reaction).
    pub async fn reaction(&mut self, conn: &str) -> Result<Option<Ev>, StepError> {
        let until = self.deadline();
        self.take_event(conn, until, |ev| {
            matches!(
                ev,
                Ev::Message { .. } | Ev::Close(_) | Ev::Closed | Ev::Bad(_)
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{RawFrame, Received};

    #[test]
    fn a_reserved_close_code_breaks_the_case_as_soon_as_it_is_read() {
        let is_broken = |r: &StepResult| matches!(r, Err(StepError::Broken { cap: None, .. }));
        let mut l = Log::default();
        let r = l.absorb(
            RawFrame::new(0x8, 1006u16.to_be_bytes().to_vec()).unmasked(),
            judge::close_frame,
        );
        assert!(is_broken(&r.map(|_| ())));
        let frame = RawFrame::new(0x8, 1015u16.to_be_bytes().to_vec()).unmasked();
        let r = Log::default().record(Received::Frame(frame), judge::close_frame);
        assert!(is_broken(&r.map(|_| ())));
        // A well-formed Close is answered with a Close echoing its code; a Ping with a Pong.
        let mut l = Log::default();
        let reply = l
            .absorb(RawFrame::close(1000, "").unmasked(), judge::close_frame)
            .expect("ok")
            .expect("reply");
        assert_eq!(reply.close_code(), Some(1000));
        let reply = l
            .absorb(RawFrame::ping("k").unmasked(), judge::close_frame)
            .expect("ok")
            .expect("pong");
        assert_eq!((reply.opcode, reply.payload.as_slice()), (0xA, &b"k"[..]));
    }
}
