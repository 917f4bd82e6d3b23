//! Steps that send WebSocket frames exactly as a scenario writes them and judge the frames
//! the target sends back, frame by frame (RFC 6455 §5.1, §5.2, §5.4; RFC 7118 §4.2): frame
//! tables and single frames in the payload language of [`crate::wire::payload`], large
//! messages streamed until the target reacts (§10.4), masking and the length forms of the
//! target's frames, read from connections that record their raw bytes.
//!
//! Everything read goes into the connection's log ([`crate::wire::log`]), which answers the
//! target's Pings and Closes and checks its Close frames.

use std::time::Duration;

use tokio::time::Instant;

use crate::judge::frames as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::log::Ev;
use crate::wire::payload;
use crate::wire::{Length, RawFrame};
use crate::world::World;
use crate::world::frames::Streamed;

pub const STEPS: &[StepDef<World>] = &[
    OPEN_RECORDED,
    SEND_TABLE,
    SEND_ONE,
    STREAM_FRAGMENTS,
    STREAM_HUGE_FRAME,
    NONE_MASKED,
    FRAME_IN_LENGTH_FORM,
    SHORTEST_EVERYWHERE,
];

const OPEN_RECORDED: StepDef<World> = step!(
    r#"an open SIP WebSocket connection(?: "(?<conn>\w+)")? whose raw bytes are recorded"#,
    open_recorded
);
async fn open_recorded(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.open_recorded(&a.conn("conn")).await
}

/// A frame table (columns of [`crate::wire::payload`]), in one write or one write per frame.
const SEND_TABLE: StepDef<World> = step!(
    r#"(?:the client|"(?<conn>\w+)") sends these frames(?: (?<writes>in one write)|, one write each):"#,
    send_table
);
async fn send_table(w: &mut World, a: Args, s: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let table = s
        .table
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs a table of frames"))?;
    let frames = w.table_frames(&conn, table)?;
    w.send_frames(&conn, &frames, a.is("writes", "in one write"))
        .await
}

const SEND_ONE: StepDef<World> = step!(
    r#"(?:the client|"(?<conn>\w+)") sends an? (?<opcode>text|binary|continuation|Ping|Pong|Close) frame carrying (?<payload>.+)"#,
    send_one
);
async fn send_one(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let op = payload::opcode(a.text("opcode")?).map_err(payload::bad_scenario)?;
    let bytes = w.frame_payload(&conn, a.text("payload")?)?;
    w.send_frames(&conn, &[RawFrame::new(op, bytes)], true)
        .await
}

/// How much of a large message [`stream`] sends at a pace that lets it see the target react.
const PACED_BYTES: usize = 256 * 1024;

/// Write `frames` one at a time, each bounded by the timeout, looking after each for the
/// target's reaction; stop at the first sign it closed or stopped reading (RFC 6455 §10.4:
/// a server limits what it buffers; how it refuses is its own choice, so only recorded).
async fn stream(
    w: &mut World,
    conn: &str,
    frames: impl Iterator<Item = Vec<u8>>,
    what: &str,
) -> StepResult {
    let all_written = write_until_reaction(w, conn, frames, what).await?;
    w.ext::<Streamed>().all_written = Some(all_written);
    Ok(())
}

/// The writing of [`stream`]: `true` when every frame went out before the target reacted.
async fn write_until_reaction(
    w: &mut World,
    conn: &str,
    frames: impl Iterator<Item = Vec<u8>>,
    what: &str,
) -> Result<bool, StepError> {
    let timeout = w.target.timeout;
    let mut sent = 0usize;
    for bytes in frames {
        let p = w.probe(conn)?;
        match tokio::time::timeout(timeout, p.send(&bytes, what)).await {
            Ok(Ok(())) => sent += bytes.len(),
            Ok(Err(e)) => {
                w.observe(format!("writing stopped after {sent} bytes: {e}"));
                return Ok(false);
            }
            Err(_) => {
                w.observe(format!(
                    "the target stopped reading after {sent} bytes (a write blocked for {} ms)",
                    timeout.as_millis()
                ));
                return Ok(false);
            }
        }
        // A look for a Close before writing on: a few milliseconds while the message is
        // still small (a prompt target is caught early and the evidence stays short), no
        // wait at all past that.
        let pause = if sent <= PACED_BYTES { 5 } else { 0 };
        let until = Instant::now() + Duration::from_millis(pause);
        while w.pull_frame(conn, until).await? {}
        let l = w.frame_log(conn);
        if l.is_closed() || l.events().iter().any(|e| matches!(e, Ev::Close(_))) {
            w.observe(format!("the target reacted after {sent} bytes"));
            return Ok(false);
        }
    }
    w.observe(format!("all {sent} bytes were written"));
    Ok(true)
}

const STREAM_FRAGMENTS: StepDef<World> = step!(
    r"the client streams a (?<mib>\d+) MiB binary message in (?<kib>\d+) KiB fragments",
    stream_fragments
);
async fn stream_fragments(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let mib: usize = a.parse("mib")?;
    let frag = a.parse::<usize>("kib")?.max(1) * 1024;
    let count = (mib * 1024 * 1024).div_ceil(frag);
    let frames = (0..count).map(move |i| {
        let op = if i == 0 { 0x2 } else { 0x0 };
        RawFrame::new(op, vec![b'x'; frag])
            .fin(i + 1 == count)
            .to_bytes()
    });
    stream(w, "main", frames, "binary fragment of the large message").await
}

const STREAM_HUGE_FRAME: StepDef<World> = step!(
    r"the client streams a frame header announcing 2\^62 bytes, then up to (?<mib>\d+) MiB of payload",
    stream_huge_frame
);
async fn stream_huge_frame(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let mib: usize = a.parse("mib")?;
    let header = RawFrame::binary(Vec::new())
        .length(Length::Declared(1 << 62))
        .to_bytes();
    let chunk = 16 * 1024;
    let chunks = (0..(mib * 1024 * 1024).div_ceil(chunk)).map(move |_| vec![b'x'; chunk]);
    stream(
        w,
        "main",
        std::iter::once(header).chain(chunks),
        "header announcing 2^62 bytes, then payload",
    )
    .await
}

/// Row 6455-5.1-c over every frame read on any connection of the case.
const NONE_MASKED: StepDef<World> = step!(r"no frame from the target was masked", none_masked);
async fn none_masked(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let frames: Vec<RawFrame> = w
        .frame_logs()
        .flat_map(|l| l.frames().iter().cloned())
        .collect();
    w.observe(format!("{} frames from the target inspected", frames.len()));
    judge::unmasked(&frames)
}

const FRAME_IN_LENGTH_FORM: StepDef<World> = step!(
    r#"the target sent (?:the client|"(?<conn>\w+)") a (?<bytes>\d+)-byte frame in the (?<bits>7|16|64)-bit length form"#,
    frame_in_length_form
);
async fn frame_in_length_form(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let (len, bits) = (a.parse("bytes")?, a.parse("bits")?);
    w.drain_frames(&conn).await?;
    let headers = w.raw_headers(&conn)?;
    judge::length_form(&headers, len, bits)
}

const SHORTEST_EVERYWHERE: StepDef<World> = step!(
    r#"every frame the target sent (?:to the client|on "(?<conn>\w+)") uses the shortest length encoding"#,
    shortest_everywhere
);
async fn shortest_everywhere(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    w.drain_frames(&conn).await?;
    let headers = w.raw_headers(&conn)?;
    let sizes: Vec<String> = headers
        .iter()
        .map(|h| format!("{} bytes in {}-bit", h.payload_len, h.form()))
        .collect();
    w.observe(format!("frames: {}", sizes.join(", ")));
    judge::shortest(&headers)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    /// Scenarios whose expectation is wrong for the reference server, run against it: the
    /// steps must report what the target really did, not pass. The expectations belong to
    /// every frame-level step module (ws_frames, close, keepalive, ws_messages); the test
    /// sits here, with the sending steps most of the scenarios go through.
    const WRONG: &str = r#"@subject:neg
Feature: expectations the reference server does not meet

  @id:wrong-close-code @req:x @level:must
  Scenario: 1002 is not 1007
    Given an open SIP WebSocket connection
    When the client sends these frames in one write:
      | opcode | mask | payload         |
      | text   | no   | register(alice) |
    Then the target fails the connection
    And the close code should be 1007

  @id:wrong-pong @req:x @level:must
  Scenario: the Pong carries x1, not x2
    Given an open SIP WebSocket connection
    When the client sends a Ping frame carrying "x1"
    Then a Pong carrying "x2" comes back

  @id:answered-not-failed @req:x @level:must
  Scenario: a valid REGISTER is answered, the connection is not failed
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice)
    Then the target fails the connection

  @id:wrong-status @req:x @level:must
  Scenario: the REGISTER gets 200, not 486
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 486

  @id:text-not-binary @req:x @level:must
  Scenario: a UTF-8 MESSAGE is relayed in a text frame
    Given "alice" is registered
    And an open SIP WebSocket connection "bob"
    When "bob" sends as a text frame, with the body "plain":
      """
      MESSAGE sip:{alice}@{domain} SIP/2.0
      Via: SIP/2.0/WS {host};branch={branch}
      Max-Forwards: 70
      From: <sip:{bob}@{domain}>;tag={tag}
      To: <sip:{alice}@{domain}>
      Call-ID: neg-{call-id}
      CSeq: 1 MESSAGE
      Content-Length: {body-length}
      """
    Then "alice" receives the MESSAGE in a binary frame

  @id:no-keepalive-answer @req:x @level:must
  Scenario: a lone CRLF is not answered
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying CRLF
    Then the target answers the keep-alive with a CRLF message

  @id:not-open-after-violation @req:x @level:must
  Scenario: the connection is closed after a violation
    Given an open SIP WebSocket connection
    When the client sends a text frame carrying hex:c0 af
    Then the connection is still open

  @id:close-not-a-fail-code @req:x @level:must
  Scenario: an echoed Close 1000 is no 1002
    Given an open SIP WebSocket connection
    When the client sends a Close frame carrying code(1000)
    Then the target fails the connection
    And the close code should be 1002

  @id:boundary-not-observed @req:x @level:must
  Scenario: no 125-byte frame was sent
    Given an open SIP WebSocket connection whose raw bytes are recorded
    When the client sends a text frame carrying register(alice)
    Then the target answers the REGISTER with 200
    And the target sent the client a 125-byte frame in the 7-bit length form
"#;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_expectations_fail_against_the_reference_server() {
        use crate::verdict::Outcome;
        let (server, target) = crate::embedded::start(Duration::from_millis(500))
            .await
            .expect("the embedded server starts");
        let cases = crate::suite::load_from([("neg.feature".to_string(), WRONG.to_string())])
            .expect("the feature parses");
        let verdicts = crate::runner::run(
            cases,
            Arc::new(target),
            crate::runner::RunOptions::default(),
        )
        .await
        .verdicts;
        server.shutdown().await;
        let got: HashMap<String, (Outcome, String)> = verdicts
            .into_iter()
            .map(|v| (v.case.id.clone(), (v.outcome, v.message.clone())))
            .collect();
        let expect = [
            ("neg/wrong-close-code", Outcome::Warn, "1002"),
            ("neg/wrong-pong", Outcome::Fail, "x1"),
            ("neg/answered-not-failed", Outcome::Fail, "200 OK"),
            ("neg/wrong-status", Outcome::Fail, "got 200"),
            ("neg/text-not-binary", Outcome::Fail, "text frame"),
            ("neg/no-keepalive-answer", Outcome::Fail, "nothing came"),
            ("neg/not-open-after-violation", Outcome::Fail, "1007"),
            ("neg/close-not-a-fail-code", Outcome::Warn, "carried 1000"),
            (
                "neg/boundary-not-observed",
                Outcome::Skip,
                "no 125-byte frame",
            ),
        ];
        for (id, outcome, says) in expect {
            let (o, message) = &got[id];
            assert_eq!(*o, outcome, "{id}: {message}");
            assert!(message.contains(says), "{id}: {message:?} lacks {says:?}");
        }
    }
}
