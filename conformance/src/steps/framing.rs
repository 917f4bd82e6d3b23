//! Steps of the framing and keep-alive features (RFC 6455 §5, §7, §10.4; RFC 7118 §4.2, §5,
//! §6; RFC 5626 §5.4): frames written exactly as a scenario tables them, and judgements of
//! what the target sends back.
//!
//! # The log
//! Everything these steps read from a connection goes into that connection's log, in order:
//! every frame, the data messages reassembled from them, Pings, Pongs, Close frames and the
//! TCP close. A step waiting for something *takes* the first matching entry and leaves the
//! rest for later steps; whole-exchange judgements ("no data frame after the Close", "every
//! message is one SIP message") look at all of it. Read a connection either with these steps
//! or with the shared SIP steps of [`super::sip`], not both once a frame step has read it.
//!
//! The log behaves like a well-mannered WebSocket client: it answers the target's Pings with
//! Pongs (RFC 6455 §5.5.2) and its Close with a Close unless the client already sent one
//! (§5.5.1); and it checks every Close frame the target sends: a 1-byte body, a reason that
//! is not UTF-8 or the codes 1005, 1006, 1015 break the case at once (rows 6455-5.5.1-a and
//! 6455-7.4.1-a hold for every sender, in every scenario).
//!
//! Every wait ends at the target's timeout knob, or earlier when the TCP connection closes.
//!
//! # Payloads
//! Frame payloads are written in a small language (table cells and step text alike):
//! - `"text"` with the escapes `\r \n \t \\ \" \xNN`; `CRLF` (also `CRLF CRLF`);
//!   `hex:ff fe 00`; `code(1000)` (a Close status code, 2 bytes big-endian);
//!   `empty` or `nothing` (no bytes);
//! - `register(alice)`: the Outbound REGISTER of [`super::sip::register_text`] for the user
//!   on the sending connection; `register(alice, "Zoë €")` gives its From a display name;
//! - `repeat(125, hex:00 ff 80)`: the pattern repeated to exactly that many bytes;
//! - `the last Ping's payload`: what the client's last Ping carried;
//! - parts joined with ` + ` are concatenated;
//! - `X up to CUT` sends the start of `X`; `... up to CUT` continues it and `... the rest`
//!   finishes it. A cut is a fraction (`1/3`) or `N byte(s) into "€"` (N bytes past the
//!   start of the first occurrence of that text).
//!
//! A frame table has a header row naming its columns, each optional: `opcode` (`text`,
//! `binary`, `continuation`, `close`, `ping`, `pong`, or a number like `0x3`; default
//! `text`), `fin` (`1`/`0`; default 1), `mask` (`yes`/`no`; default yes), `rsv` (`RSV1`,
//! `RSV2`, `RSV3` joined with `+`, or `0`), `length` (`shortest`, `7-bit`, `16-bit`,
//! `64-bit`, or `declares N`: the 64-bit field holding N whatever the payload), `payload`.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use sipws_reference::sip::Message;
use sipws_reference::ws::frame::{decode_header, shortest_header_len};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::legacy_step;
use crate::step;
use crate::step::{StepDef, StepError, StepFuture, StepResult};
use crate::suite::CaseStep;
use crate::wire::{Length, Probe, RawFrame, Received, UpgradeRequest};
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    legacy_step!(
        r#"an open SIP WebSocket connection(?: "(?<p0>\w+)")? whose raw bytes are recorded"#,
        open_recorded
    ),
    legacy_step!(
        r#"(?:the client|"(?<p0>\w+)") sends these frames(?: (?<p1>in one write)|, one write each):"#,
        send_table
    ),
    legacy_step!(
        r#"(?:the client|"(?<p0>\w+)") sends an? (?<p1>text|binary|continuation|Ping|Pong|Close) frame carrying (?<p2>.+)"#,
        send_one
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends as a (?<p1>text|binary) frame, with the body (?<p2>.+):"#,
        send_with_body
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends "(?<p1>\w+)" a MESSAGE that reaches (?:her|him|them) as (?<p2>\d+) bytes"#,
        send_sized_message
    ),
    legacy_step!(
        r"the client streams a (?<p0>\d+) MiB binary message in (?<p1>\d+) KiB fragments",
        stream_fragments
    ),
    legacy_step!(
        r"the client streams a frame header announcing 2\^62 bytes, then up to (?<p0>\d+) MiB of payload",
        stream_huge_frame
    ),
    legacy_step!(
        r#"the target answers the (?<p0>[A-Z]+)(?: from "(?<p1>\w+)")? with (?<p2>\d{3}|a final response)"#,
        answers_with
    ),
    legacy_step!(
        r#"no second final response to the (?<p0>[A-Z]+)(?: from "(?<p1>\w+)")? arrives within the timeout"#,
        no_second_final
    ),
    legacy_step!(
        r#"a Pong carrying (?<p0>.+) comes back(?: on "(?<p1>\w+)")?"#,
        pong_comes_back
    ),
    legacy_step!(r"the target fails the connection", fails_connection),
    legacy_step!(
        r"the close code should be (?<p0>\d{4})",
        close_code_should_be
    ),
    legacy_step!(r"a Close frame comes back", close_comes_back),
    legacy_step!(r"the target closes the TCP connection", closes_tcp),
    legacy_step!(
        r"no data frame follows the target's Close",
        no_data_after_close
    ),
    legacy_step!(
        r"no Close frame from the target carries 1005, 1006 or 1015",
        no_reserved_close_code
    ),
    legacy_step!(r"no frame from the target was masked", none_masked),
    legacy_step!(
        r#""(?<p0>\w+)" receives the (?<p1>[A-Z]+) in a (?<p2>text|binary) frame"#,
        receives_in_kind
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives the (?<p1>[A-Z]+), in a text or a binary frame"#,
        receives_any_kind
    ),
    legacy_step!(
        r#"the (?<p0>[A-Z]+) "(?<p1>\w+)" received has the body (?<p2>.+)"#,
        received_body
    ),
    legacy_step!(
        r#"every WebSocket message the target sent(?: on "(?<p0>\w+)")? is exactly one SIP message"#,
        all_one_sip_message
    ),
    legacy_step!(
        r"the target answers the keep-alive with a CRLF message",
        keepalive_answered
    ),
    legacy_step!(
        r"the target's answer to the keep-alive is recorded: CRLF, nothing or a close",
        keepalive_recorded
    ),
    legacy_step!(
        r"the target's reaction is recorded: a SIP response, nothing or a close",
        reaction_recorded
    ),
    legacy_step!(
        r#"the connection(?: "(?<p0>\w+)")? is still open"#,
        still_open
    ),
    legacy_step!(
        r#"whether the connection(?: "(?<p0>\w+)")? is still open is recorded"#,
        still_open_recorded
    ),
    legacy_step!(
        r"the target still accepts a new SIP WebSocket connection and answers its REGISTER with 200",
        still_serving
    ),
    legacy_step!(
        r#"the target sent (?:the client|"(?<p0>\w+)") a (?<p1>\d+)-byte frame in the (?<p2>7|16|64)-bit length form"#,
        frame_in_length_form
    ),
    legacy_step!(
        r#"every frame the target sent (?:to the client|on "(?<p0>\w+)") uses the shortest length encoding"#,
        shortest_everywhere
    ),
    legacy_step!(
        r"whether the target pings an idle connection within the timeout is recorded",
        idle_ping_recorded
    ),
];

// ---------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------

/// Something the target sent, as the judgements see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// A complete data message: the opcode of its first frame and the joined payload.
    Message {
        opcode: u8,
        payload: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A Close frame and its status code, if it has one.
    Close(Option<u16>),
    /// Frames that make no sense (a stray continuation, a reserved opcode, a bad header).
    Bad(String),
    /// The target closed the TCP connection.
    Closed,
}

impl Ev {
    fn describe(&self) -> String {
        match self {
            Ev::Message { opcode, payload } => {
                let kind = if *opcode == 0x2 { "binary" } else { "text" };
                let first = payload
                    .split(|b| *b == b'\n')
                    .next()
                    .map(|l| crate::wire::transcript::printable(l).trim_end().to_string())
                    .unwrap_or_default();
                format!("a {kind} message ({} bytes) {first:?}", payload.len())
            }
            Ev::Ping(p) => format!("a Ping {:?}", crate::wire::transcript::printable(p)),
            Ev::Pong(p) => format!("a Pong {:?}", crate::wire::transcript::printable(p)),
            Ev::Close(Some(c)) => format!("a Close frame ({c})"),
            Ev::Close(None) => "a Close frame without a status code".into(),
            Ev::Bad(what) => what.clone(),
            Ev::Closed => "the TCP close".into(),
        }
    }

    fn sip(&self) -> Option<Message> {
        match self {
            Ev::Message { payload, .. } => Message::parse(payload).ok(),
            _ => None,
        }
    }
}

fn describe_all(evs: &[Ev]) -> String {
    if evs.is_empty() {
        "nothing".into()
    } else {
        evs.iter()
            .map(Ev::describe)
            .collect::<Vec<_>>()
            .join(", then ")
    }
}

/// What a failed connection showed before the TCP close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseSeen {
    NoCloseFrame,
    NoCode,
    Code(u16),
}

#[derive(Default)]
struct Log {
    events: Vec<Ev>,
    taken: Vec<bool>,
    /// Every frame read, in order.
    frames: Vec<RawFrame>,
    /// A fragmented data message being reassembled: opcode and payload so far.
    partial: Option<(u8, Vec<u8>)>,
    closed: bool,
    /// The client sent a Close (so a Close from the target is its answer, not to be answered).
    sent_close: bool,
    last_ping: Option<Vec<u8>>,
    /// How the last "fails the connection" ended.
    failed: Option<CloseSeen>,
    /// The last final response a step accepted, for "no second final response".
    answered: Option<Message>,
    /// The last request a step received, for body checks.
    received: Option<Message>,
    /// Every byte read from the socket, when the connection was opened to record them.
    raw: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Log {
    fn push(&mut self, ev: Ev) {
        self.events.push(ev);
        self.taken.push(false);
    }

    /// Add a frame; returns the frame to answer it with (a Pong, a Close), if any.
    fn absorb(&mut self, f: RawFrame) -> Result<Option<RawFrame>, StepError> {
        self.frames.push(f.clone());
        let mut reply = None;
        match f.opcode {
            0x1 | 0x2 => {
                if self.partial.is_some() {
                    self.push(Ev::Bad(format!(
                        "a new {} frame inside a fragmented message",
                        f.describe()
                    )));
                    self.partial = None;
                }
                if f.fin {
                    self.push(Ev::Message {
                        opcode: f.opcode,
                        payload: f.payload,
                    });
                } else {
                    self.partial = Some((f.opcode, f.payload));
                }
            }
            0x0 => match self.partial.take() {
                Some((opcode, mut payload)) => {
                    payload.extend_from_slice(&f.payload);
                    if f.fin {
                        self.push(Ev::Message { opcode, payload });
                    } else {
                        self.partial = Some((opcode, payload));
                    }
                }
                None => self.push(Ev::Bad("a continuation frame with no message open".into())),
            },
            0x8 => {
                self.push(Ev::Close(f.close_code()));
                judge_close_frame(&f)?;
                if !self.sent_close {
                    self.sent_close = true;
                    let body = f.close_code().map(|c| c.to_be_bytes().to_vec());
                    reply = Some(RawFrame::new(0x8, body.unwrap_or_default()));
                }
            }
            0x9 => {
                reply = Some(RawFrame::pong(f.payload.clone()));
                self.push(Ev::Ping(f.payload));
            }
            0xA => self.push(Ev::Pong(f.payload)),
            other => self.push(Ev::Bad(format!("a frame with reserved opcode {other:#x}"))),
        }
        Ok(reply)
    }

    fn untaken(&self) -> Vec<Ev> {
        self.events
            .iter()
            .zip(&self.taken)
            .filter(|(_, t)| !**t)
            .map(|(e, _)| e.clone())
            .collect()
    }

    fn take_all(&mut self) -> Vec<Ev> {
        let evs = self.untaken();
        self.taken.iter_mut().for_each(|t| *t = true);
        evs
    }
}

#[derive(Default)]
struct FramingState {
    logs: HashMap<String, Log>,
}

fn log<'w>(w: &'w mut World, conn: &str) -> &'w mut Log {
    w.ext::<FramingState>()
        .logs
        .entry(conn.to_string())
        .or_default()
}

fn conn_name(a: &[String], i: usize) -> String {
    a.get(i)
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "main".into())
}

fn probe<'w>(w: &'w mut World, conn: &str) -> Result<&'w mut Probe, StepError> {
    w.conn(conn)
        .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))
}

fn deadline(w: &World) -> Instant {
    Instant::now() + w.target.timeout
}

fn millis(d: Duration) -> u128 {
    d.as_millis()
}

/// Read one frame (waiting until `until`) into the connection's log. `Ok(false)` when nothing
/// came in time or the TCP connection had closed.
async fn pull(w: &mut World, conn: &str, until: Instant) -> Result<bool, StepError> {
    if log(w, conn).closed {
        return Ok(false);
    }
    let left = until.saturating_duration_since(Instant::now());
    let got = probe(w, conn)?
        .read_frame(left)
        .await
        .map_err(|e| StepError::harness(format!("reading from {conn}: {e}")))?;
    let l = log(w, conn);
    let reply = match got {
        Received::Timeout => return Ok(false),
        Received::Closed => {
            l.closed = true;
            l.push(Ev::Closed);
            None
        }
        Received::Frame(f) => l.absorb(f)?,
        Received::BadFrame(b) => {
            l.push(Ev::Bad(format!(
                "an undecodable frame header ({} bytes)",
                b.len()
            )));
            None
        }
        other => {
            l.push(Ev::Bad(crate::wire::describe(&other)));
            None
        }
    };
    if let Some(frame) = reply {
        // The target may have closed its side already; the answer is a courtesy (the
        // transcript shows it was attempted) and its failure says nothing about the target.
        let _ = probe(w, conn)?.send_frame(&frame).await;
    }
    Ok(true)
}

/// Read what has already arrived, without waiting.
async fn drain(w: &mut World, conn: &str) -> Result<(), StepError> {
    while pull(w, conn, Instant::now()).await? {}
    Ok(())
}

/// Read until the TCP close or `until`.
async fn read_to_close(w: &mut World, conn: &str, until: Instant) -> Result<bool, StepError> {
    while pull(w, conn, until).await? {}
    Ok(log(w, conn).closed)
}

/// Take the first entry of the log `want` accepts, reading more until `until`. `None` when
/// nothing matched in time or the connection closed first.
async fn take(
    w: &mut World,
    conn: &str,
    until: Instant,
    want: impl Fn(&Ev) -> bool,
) -> Result<Option<Ev>, StepError> {
    let mut from = 0;
    loop {
        let l = log(w, conn);
        while from < l.events.len() {
            if !l.taken[from] && want(&l.events[from]) {
                l.taken[from] = true;
                return Ok(Some(l.events[from].clone()));
            }
            from += 1;
        }
        if l.closed {
            return Ok(None);
        }
        if !pull(w, conn, until).await? {
            return Ok(None);
        }
    }
}

async fn send_frames(
    w: &mut World,
    conn: &str,
    frames: &[RawFrame],
    one_write: bool,
) -> StepResult {
    {
        let l = log(w, conn);
        for f in frames {
            if f.opcode == 0x8 {
                l.sent_close = true;
            }
            if f.opcode == 0x9 {
                l.last_ping = Some(f.payload.clone());
            }
        }
    }
    let p = probe(w, conn)?;
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

// ---------------------------------------------------------------------------------------
// Payloads and frame tables
// ---------------------------------------------------------------------------------------

/// Where a sliced payload (`X up to CUT`, `... the rest`) stands.
#[derive(Default)]
struct Slicing {
    source: Vec<u8>,
    at: usize,
}

/// Split at ` + ` outside quotes and parentheses.
fn split_top(spec: &str, sep: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    let mut cur = String::new();
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < spec.len() {
        let c = spec[i..].chars().next().unwrap_or(' ');
        if !quoted && depth == 0 && bytes[i..].starts_with(sep.as_bytes()) {
            parts.push(std::mem::take(&mut cur));
            i += sep.len();
            continue;
        }
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && c == '(' {
            depth += 1;
        } else if !quoted && c == ')' {
            depth -= 1;
        }
        cur.push(c);
        i += c.len_utf8();
    }
    parts.push(cur);
    parts
}

/// A quoted string with escapes, to bytes.
fn quoted(s: &str) -> Result<Vec<u8>, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("{s:?} is not a quoted string"))?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let h: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&h, 16).map_err(|_| format!("bad escape \\x{h}"))?);
            }
            other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    sipws_reference::hex::decode(&digits).ok_or_else(|| format!("bad hex: {s}"))
}

/// The arguments of `name(a, b)`.
fn call(s: &str, name: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        split_top(inner, ",")
            .into_iter()
            .map(|a| a.trim().to_string())
            .collect(),
    )
}

/// Everything a payload needs from the scenario: renders SIP text with its placeholders.
trait Render {
    fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String>;
    fn last_ping(&mut self) -> Option<Vec<u8>>;
}

struct WorldRender<'w> {
    w: &'w mut World,
    conn: String,
}

impl Render for WorldRender<'_> {
    fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String> {
        if !matches!(user, "alice" | "bob" | "carol") {
            return Err(format!(
                "register({user}): the users are alice, bob and carol"
            ));
        }
        let text = self.w.register_text(user, &self.conn);
        Ok(match display {
            Some(d) => text.replacen("From: <", &format!("From: \"{d}\" <"), 1),
            None => text,
        }
        .into_bytes())
    }

    fn last_ping(&mut self) -> Option<Vec<u8>> {
        log(self.w, &self.conn).last_ping.clone()
    }
}

fn part(p: &str, r: &mut dyn Render) -> Result<Vec<u8>, String> {
    let p = p.trim();
    if p.is_empty() || p == "empty" || p == "nothing" {
        return Ok(Vec::new());
    }
    if p.starts_with('"') {
        return quoted(p);
    }
    if let Some(h) = p.strip_prefix("hex:") {
        return hex(h);
    }
    if p.split_whitespace().all(|t| t == "CRLF") {
        return Ok(b"\r\n".repeat(p.split_whitespace().count()));
    }
    if p == "the last Ping's payload" {
        return r
            .last_ping()
            .ok_or_else(|| "the client has sent no Ping yet".to_string());
    }
    if let Some(args) = call(p, "code") {
        let code: u16 = args
            .first()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("{p}: expected code(<number>)"))?;
        return Ok(code.to_be_bytes().to_vec());
    }
    if let Some(args) = call(p, "repeat") {
        let [n, pat] = args.as_slice() else {
            return Err(format!("{p}: expected repeat(<count>, <pattern>)"));
        };
        let n: usize = n.parse().map_err(|_| format!("{p}: bad count"))?;
        let pat = payload_parts(pat, r)?;
        if pat.is_empty() {
            return Err(format!("{p}: empty pattern"));
        }
        return Ok(pat.iter().copied().cycle().take(n).collect());
    }
    if let Some(args) = call(p, "register") {
        return match args.as_slice() {
            [user] => r.register(user, None),
            [user, display] => {
                let d = String::from_utf8(quoted(display)?)
                    .map_err(|_| format!("{p}: the display name must be text"))?;
                r.register(user, Some(&d))
            }
            _ => Err(format!(
                "{p}: expected register(<user>) or register(<user>, \"name\")"
            )),
        };
    }
    Err(format!("cannot read the payload {p:?}"))
}

fn payload_parts(spec: &str, r: &mut dyn Render) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for p in split_top(spec, " + ") {
        out.extend(part(&p, r)?);
    }
    Ok(out)
}

/// Where a cut falls in `source`.
fn cut(source: &[u8], spec: &str) -> Result<usize, String> {
    let spec = spec.trim();
    if let Some((n, m)) = spec.split_once('/') {
        let n: usize = n.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
        let m: usize = m.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
        if m == 0 || n > m {
            return Err(format!("bad cut {spec:?}"));
        }
        return Ok(source.len() * n / m);
    }
    let (n, rest) = spec
        .split_once(" byte")
        .ok_or_else(|| format!("bad cut {spec:?}: use 1/3 or 1 byte into \"€\""))?;
    let n: usize = n.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
    let needle = rest
        .trim_start_matches('s')
        .trim()
        .strip_prefix("into ")
        .ok_or_else(|| format!("bad cut {spec:?}"))?;
    let needle = quoted(needle.trim())?;
    let at = source
        .windows(needle.len().max(1))
        .position(|w| w == needle.as_slice())
        .ok_or_else(|| format!("{spec:?}: the text does not occur in the payload"))?;
    Ok((at + n).min(source.len()))
}

/// A payload in the language of the module documentation.
fn payload(spec: &str, r: &mut dyn Render, slicing: &mut Slicing) -> Result<Vec<u8>, String> {
    let spec = spec.trim();
    if spec == "... the rest" {
        let out = slicing.source[slicing.at.min(slicing.source.len())..].to_vec();
        slicing.at = slicing.source.len();
        return Ok(out);
    }
    if let Some(c) = spec.strip_prefix("... up to ") {
        let end = cut(&slicing.source, c)?;
        if end < slicing.at {
            return Err(format!("{spec:?} cuts before the previous cut"));
        }
        let out = slicing.source[slicing.at..end].to_vec();
        slicing.at = end;
        return Ok(out);
    }
    let pieces = split_top(spec, " up to ");
    if let [source, c] = pieces.as_slice() {
        let source = payload_parts(source, r)?;
        let end = cut(&source, c)?;
        let out = source[..end].to_vec();
        *slicing = Slicing { source, at: end };
        return Ok(out);
    }
    payload_parts(spec, r)
}

fn opcode(s: &str) -> Result<u8, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "" | "text" => 0x1,
        "binary" => 0x2,
        "continuation" => 0x0,
        "close" => 0x8,
        "ping" => 0x9,
        "pong" => 0xA,
        other => {
            let n = other
                .strip_prefix("0x")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|n| *n <= 0xF);
            n.ok_or_else(|| format!("unknown opcode {s:?}"))?
        }
    })
}

fn yes_no(s: &str, default: bool) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "1" | "yes" | "y" | "true" => Ok(true),
        "0" | "no" | "n" | "false" => Ok(false),
        other => Err(format!("expected yes/no or 1/0, got {other:?}")),
    }
}

fn rsv(s: &str) -> Result<u8, String> {
    let mut bits = 0;
    for t in s.split(['+', ',', ' ']).filter(|t| !t.is_empty()) {
        bits |= match t.to_ascii_uppercase().as_str() {
            "0" | "-" | "NONE" => 0,
            "RSV1" => 0b100,
            "RSV2" => 0b010,
            "RSV3" => 0b001,
            other => return Err(format!("unknown RSV bit {other:?}")),
        };
    }
    Ok(bits)
}

fn length(s: &str) -> Result<Length, String> {
    Ok(match s.trim() {
        "" | "shortest" => Length::Shortest,
        "7-bit" => Length::Bits7,
        "16-bit" => Length::Bits16,
        "64-bit" => Length::Bits64,
        other => match other
            .strip_prefix("declares ")
            .map(|n| n.trim().parse::<u64>())
        {
            Some(Ok(n)) => Length::Declared(n),
            _ => return Err(format!("unknown length form {other:?}")),
        },
    })
}

/// The frames of a table (first row: column names).
fn frames_from_table(table: &[Vec<String>], r: &mut dyn Render) -> Result<Vec<RawFrame>, String> {
    let (head, rows) = table
        .split_first()
        .ok_or_else(|| "the frame table is empty".to_string())?;
    let col = |name: &str| {
        head.iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let known = ["opcode", "fin", "mask", "rsv", "length", "payload"];
    if let Some(h) = head
        .iter()
        .find(|h| !known.contains(&h.trim().to_ascii_lowercase().as_str()))
    {
        return Err(format!(
            "unknown column {h:?} (columns: {})",
            known.join(", ")
        ));
    }
    let mut slicing = Slicing::default();
    let mut frames = Vec::new();
    for row in rows {
        let cell = |name: &str| {
            col(name)
                .and_then(|i| row.get(i))
                .map_or("", String::as_str)
        };
        let mut f = RawFrame::new(
            opcode(cell("opcode"))?,
            payload(cell("payload"), r, &mut slicing)?,
        )
        .fin(yes_no(cell("fin"), true)?)
        .rsv(rsv(cell("rsv"))?)
        .length(length(cell("length"))?);
        if !yes_no(cell("mask"), true)? {
            f = f.unmasked();
        }
        frames.push(f);
    }
    Ok(frames)
}

fn bad_scenario(e: String) -> StepError {
    StepError::harness(format!("the scenario's payload: {e}"))
}

// ---------------------------------------------------------------------------------------
// Judgements (pure)
// ---------------------------------------------------------------------------------------

/// Rows 6455-5.5.1-a and 6455-7.4.1-a for a Close the target sent.
pub fn judge_close_frame(f: &RawFrame) -> StepResult {
    if f.payload.len() == 1 {
        return Err(StepError::broken(
            "the target sent a Close frame with a 1-byte body; a Close body starts with a \
             2-byte status code (RFC 6455 §5.5.1)",
        ));
    }
    if let Some(code) = f.close_code() {
        if matches!(code, 1005 | 1006 | 1015) {
            return Err(StepError::broken(format!(
                "the target sent a Close frame with the status code {code}, which RFC 6455 \
                 §7.4.1 reserves for local use: it MUST NOT be sent"
            )));
        }
        if std::str::from_utf8(&f.payload[2..]).is_err() {
            return Err(StepError::broken(
                "the target's Close reason is not UTF-8 (RFC 6455 §5.5.1)",
            ));
        }
    }
    Ok(())
}

/// "Fail the WebSocket Connection" (RFC 6455 §7.1.7): a Close frame then the TCP close, or
/// just the TCP close; nothing processed in between (no SIP answer, no Pong).
pub fn judge_failed(evs: &[Ev]) -> Result<CloseSeen, StepError> {
    let mut close = CloseSeen::NoCloseFrame;
    let mut closed = false;
    for ev in evs {
        match ev {
            Ev::Message { .. } | Ev::Pong(_) | Ev::Bad(_) => {
                return Err(StepError::broken(format!(
                    "expected the target to fail the connection without processing the \
                     frame; it sent {} (all it sent: {})",
                    ev.describe(),
                    describe_all(evs)
                )));
            }
            Ev::Close(c) if close == CloseSeen::NoCloseFrame => {
                close = c.map_or(CloseSeen::NoCode, CloseSeen::Code);
            }
            Ev::Close(_) | Ev::Ping(_) => {}
            Ev::Closed => closed = true,
        }
    }
    if closed {
        return Ok(close);
    }
    Err(StepError::broken(match close {
        CloseSeen::NoCloseFrame => format!(
            "expected the target to fail the connection (a Close frame and the TCP close); \
             the connection stayed open, the target sent {}",
            describe_all(evs)
        ),
        _ => format!(
            "the target sent a Close frame but did not close the TCP connection within the \
             timeout (RFC 6455 §7.1.7: _Fail_ closes the connection); it sent {}",
            describe_all(evs)
        ),
    }))
}

/// The code a Fail should carry (A18: the exact code is a SHOULD-strength expectation).
pub fn judge_close_code(seen: CloseSeen, want: u16) -> StepResult {
    match seen {
        CloseSeen::Code(c) if c == want => Ok(()),
        CloseSeen::Code(c) => Err(StepError::should(format!(
            "the Close frame carried {c}; {want} is the appropriate code (RFC 6455 §7.4.1, A18)"
        ))),
        CloseSeen::NoCode => Err(StepError::should(format!(
            "the Close frame carried no status code; {want} is the appropriate code"
        ))),
        CloseSeen::NoCloseFrame => Err(StepError::should(format!(
            "the target closed TCP without a Close frame; a Close with {want} should come \
             first (RFC 6455 §7.1.7)"
        ))),
    }
}

/// A final response to `method` with the wanted status (`None`: any final status).
pub fn judge_answer(resp: &Message, method: &str, want: Option<u16>) -> StepResult {
    let code = resp.status_line().map(|s| s.code).unwrap_or(0);
    let cseq = resp
        .cseq()
        .map(|c| c.method.to_string())
        .unwrap_or_default();
    if cseq != method {
        return Err(StepError::broken(format!(
            "expected a response to the {method}, got {code} for {cseq}"
        )));
    }
    match want {
        Some(w) if w != code => Err(StepError::broken(format!(
            "expected {w} to the {method}, got {code}"
        ))),
        None if code < 200 => Err(StepError::broken(format!(
            "expected a final response to the {method}, got {code}"
        ))),
        _ => Ok(()),
    }
}

fn same_transaction(a: &Message, b: &Message) -> bool {
    a.call_id() == b.call_id()
        && a.cseq().map(|c| (c.seq, c.method.to_string()))
            == b.cseq().map(|c| (c.seq, c.method.to_string()))
}

/// No second final response of `first`'s transaction among `later` (RFC 3261 §17.2.1,
/// §17.2.2 on a reliable transport: Timer G unused, no retransmission; RFC 7118 §5).
pub fn judge_no_second_final(first: &Message, later: &[Ev]) -> StepResult {
    for ev in later {
        if let Some(m) = ev.sip()
            && !m.is_request()
            && m.status_line().is_some_and(|s| s.code >= 200)
            && same_transaction(first, &m)
        {
            return Err(StepError::broken(format!(
                "the final response was sent again: {} (over a reliable transport it is not \
                 retransmitted, RFC 3261 §17.2.1 and RFC 7118 §5)",
                ev.describe()
            )));
        }
    }
    Ok(())
}

/// The first Pong carrying `want`, and what else came.
pub fn judge_pong(evs: &[Ev], want: &[u8]) -> StepResult {
    if evs.iter().any(|e| matches!(e, Ev::Pong(p) if p == want)) {
        return Ok(());
    }
    Err(StepError::broken(format!(
        "expected a Pong carrying {:?} (RFC 6455 §5.5.2, §5.5.3); the target sent {}",
        crate::wire::transcript::printable(want),
        describe_all(evs)
    )))
}

/// The opcode a data message arrived with (RFC 7118 §4.2).
pub fn judge_kind(opcode: u8, want_binary: bool) -> StepResult {
    let is_binary = opcode == 0x2;
    if is_binary == want_binary {
        return Ok(());
    }
    Err(StepError::broken(if want_binary {
        format!(
            "the message came in a text frame (opcode {opcode:#x}); a SIP message that is not \
             UTF-8 travels in a binary frame, opcode 0x2 (RFC 7118 §4.2)"
        )
    } else {
        format!(
            "the message came in a binary frame (opcode {opcode:#x}); a text frame was expected"
        )
    }))
}

/// Row 6455-5.5.1-c: after its Close the target sends no data frame.
pub fn judge_no_data_after_close(frames: &[RawFrame]) -> StepResult {
    let Some(at) = frames.iter().position(|f| f.opcode == 0x8) else {
        return Err(StepError::broken(
            "the target sent no Close frame, so its closing cannot be judged",
        ));
    };
    match frames[at + 1..]
        .iter()
        .find(|f| matches!(f.opcode, 0x0..=0x2))
    {
        Some(f) => Err(StepError::broken(format!(
            "the target sent a data frame ({}) after its Close (RFC 6455 §5.5.1)",
            f.describe()
        ))),
        None => Ok(()),
    }
}

/// Row 6455-5.1-c: no frame from a server is masked.
pub fn judge_unmasked(frames: &[RawFrame]) -> StepResult {
    if frames.is_empty() {
        return Err(StepError::harness("the target sent no frame to judge"));
    }
    match frames.iter().find(|f| f.mask.is_some()) {
        Some(f) => Err(StepError::broken(format!(
            "the target sent a masked frame ({}); a server never masks (RFC 6455 §5.1)",
            f.describe()
        ))),
        None => Ok(()),
    }
}

/// Rows 7118-4.1-e, 7118-5-b, 7118-5-c: each data message is one whole SIP message.
pub fn judge_one_sip_message(evs: &[Ev]) -> Result<usize, StepError> {
    let mut n = 0;
    for ev in evs {
        match ev {
            Ev::Message { payload, .. } => {
                if let Err(e) = Message::parse(payload) {
                    let datagram = Message::parse_datagram(payload).is_ok();
                    return Err(StepError::broken(format!(
                        "{} is not exactly one SIP message ({e}{})",
                        ev.describe(),
                        if datagram {
                            "; it starts with one and carries more"
                        } else {
                            ""
                        }
                    )));
                }
                n += 1;
            }
            Ev::Bad(_) => {
                return Err(StepError::broken(format!(
                    "the target sent {}, which is no SIP message",
                    ev.describe()
                )));
            }
            _ => {}
        }
    }
    if n == 0 {
        return Err(StepError::harness(
            "the target sent no data message to judge",
        ));
    }
    Ok(n)
}

/// Row 5626-5.4-a (A7): a `CRLF CRLF` message is answered with a `CRLF` message.
pub fn judge_keepalive(reply: Option<&Ev>) -> StepResult {
    match reply {
        Some(Ev::Message { payload, .. }) if payload == b"\r\n" => Ok(()),
        Some(ev) => Err(StepError::broken(format!(
            "expected a WebSocket message holding CRLF in answer to CRLF CRLF (RFC 5626 §5.4); \
             got {}",
            ev.describe()
        ))),
        None => Err(StepError::broken(
            "expected a WebSocket message holding CRLF in answer to CRLF CRLF (RFC 5626 §5.4); \
             nothing came within the timeout",
        )),
    }
}

/// What a reaction was, for the record; a data message that is not SIP (nor a CRLF
/// keep-alive answer) breaks row 7118-4.1-e.
pub fn classify_reaction(reply: Option<&Ev>) -> Result<String, StepError> {
    Ok(match reply {
        None => "no answer within the timeout (dropped)".into(),
        Some(Ev::Message { payload, .. }) if payload == b"\r\n" => {
            "a WebSocket message holding CRLF".into()
        }
        Some(ev @ Ev::Message { .. }) => match ev.sip() {
            Some(m) => match m.status_line() {
                Some(s) => format!("a SIP response {} {}", s.code, s.reason),
                None => format!(
                    "a SIP request {}",
                    m.method().map(|x| x.to_string()).unwrap_or_default()
                ),
            },
            None => {
                return Err(StepError::broken(format!(
                    "the target sent {}, which is not a SIP message (RFC 7118 §4.1)",
                    ev.describe()
                )));
            }
        },
        Some(Ev::Close(Some(c))) => format!("failed the connection with Close {c}"),
        Some(Ev::Close(None)) => "closed with a Close frame without a code".into(),
        Some(Ev::Closed) => "closed the TCP connection without a Close frame".into(),
        Some(ev) => ev.describe(),
    })
}

/// A liveness probe's outcome: the Pong with `want`, or what came instead.
pub fn judge_still_open(evs: &[Ev], want: &[u8]) -> StepResult {
    if let Some(ev) = evs
        .iter()
        .find(|e| matches!(e, Ev::Close(_) | Ev::Closed | Ev::Bad(_)))
    {
        return Err(StepError::broken(format!(
            "the connection is not open any more: the target sent {} (all it sent: {})",
            ev.describe(),
            describe_all(evs)
        )));
    }
    if evs.iter().any(|e| matches!(e, Ev::Pong(p) if p == want)) {
        return Ok(());
    }
    Err(StepError::broken(format!(
        "a Ping got no Pong within the timeout; the target sent {}",
        describe_all(evs)
    )))
}

/// A frame header as read off the wire: its length, whether masked, the payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSeen {
    pub header_len: usize,
    pub masked: bool,
    pub payload_len: u64,
}

impl HeaderSeen {
    fn form(&self) -> u8 {
        match self.header_len - if self.masked { 4 } else { 0 } {
            2 => 7,
            4 => 16,
            _ => 64,
        }
    }
}

/// The frame headers in the bytes a server sent after its 101 (incomplete tail ignored).
pub fn frame_headers(raw: &[u8]) -> Vec<HeaderSeen> {
    let Some(start) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut at = start + 4;
    let mut out = Vec::new();
    while let Ok(Some((h, n))) = decode_header(&raw[at..]) {
        out.push(HeaderSeen {
            header_len: n,
            masked: h.mask.is_some(),
            payload_len: h.payload_len,
        });
        let end = (at + n).saturating_add(usize::try_from(h.payload_len).unwrap_or(usize::MAX));
        if end > raw.len() {
            break;
        }
        at = end;
    }
    out
}

/// Row 6455-5.2-c: the minimal number of bytes encodes each payload length.
pub fn judge_shortest(headers: &[HeaderSeen]) -> StepResult {
    if headers.is_empty() {
        return Err(StepError::harness("no frame from the target to judge"));
    }
    for h in headers {
        if h.header_len != shortest_header_len(h.masked, h.payload_len) {
            return Err(StepError::broken(format!(
                "a {}-byte payload was sent with the {}-bit length form; RFC 6455 §5.2 requires \
                 the shortest, the {}-bit form",
                h.payload_len,
                h.form(),
                HeaderSeen {
                    header_len: shortest_header_len(h.masked, h.payload_len),
                    ..*h
                }
                .form()
            )));
        }
    }
    Ok(())
}

/// The `len`-byte frame among `headers` uses the `bits` form; `Skip` when no frame had
/// that size (the boundary could not be observed).
pub fn judge_length_form(headers: &[HeaderSeen], len: u64, bits: u8) -> StepResult {
    let shortest = HeaderSeen {
        header_len: shortest_header_len(false, len),
        masked: false,
        payload_len: len,
    }
    .form();
    if shortest != bits {
        return Err(StepError::harness(format!(
            "the scenario is wrong: a {len}-byte payload takes the {shortest}-bit form"
        )));
    }
    let Some(h) = headers.iter().find(|h| h.payload_len == len) else {
        let sizes: Vec<String> = headers.iter().map(|h| h.payload_len.to_string()).collect();
        return Err(StepError::Skip(format!(
            "the target sent no {len}-byte frame (sizes seen: {}), so this length form could \
             not be observed",
            sizes.join(", ")
        )));
    };
    if h.form() == bits {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the {len}-byte frame used the {}-bit length form; RFC 6455 §5.2 requires the \
             shortest, the {bits}-bit form",
            h.form()
        )))
    }
}

// ---------------------------------------------------------------------------------------
// Connections that record their raw bytes
// ---------------------------------------------------------------------------------------

/// A TCP stream that copies every byte it reads into a shared buffer, so the length form of
/// each frame header (which the probe's decoder does not keep) can be judged.
struct Tee {
    inner: TcpStream,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Tee {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.extend_from_slice(&buf.filled()[before..]);
        }
        r
    }
}

impl AsyncWrite for Tee {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn raw_headers(w: &mut World, conn: &str) -> Result<Vec<HeaderSeen>, StepError> {
    let raw = log(w, conn).raw.clone().ok_or_else(|| {
        StepError::harness(format!(
            "{conn} was not opened with \"whose raw bytes are recorded\""
        ))
    })?;
    let bytes = raw.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(frame_headers(&bytes))
}

// ---------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------

fn open_recorded<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let Some(ep) = w.target.ws.clone() else {
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
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut p = Probe::over(Box::new(Tee {
            inner: tcp,
            seen: seen.clone(),
        }));
        let req = UpgradeRequest::sip(&ep.authority(), &ep.resource);
        match p
            .upgrade(&req, w.target.timeout)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?
        {
            Received::Http { status: 101, .. } => {}
            other => {
                return Err(StepError::harness(format!(
                    "could not open a SIP WebSocket connection: {}",
                    crate::wire::describe(&other)
                )));
            }
        }
        w.add_sip_conn(&conn, p, false);
        log(w, &conn).raw = Some(seen);
        Ok(())
    })
}

fn send_table<'a>(w: &'a mut World, a: Vec<String>, s: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let one_write = !a.get(1).is_none_or(|m| m.is_empty());
        let table = s
            .table
            .as_ref()
            .ok_or_else(|| StepError::harness("this step needs a table of frames"))?;
        let frames = {
            let mut r = WorldRender {
                w: &mut *w,
                conn: conn.clone(),
            };
            frames_from_table(table, &mut r).map_err(bad_scenario)?
        };
        send_frames(w, &conn, &frames, one_write).await
    })
}

fn send_one<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let op = opcode(&a[1]).map_err(bad_scenario)?;
        let bytes = {
            let mut r = WorldRender {
                w: &mut *w,
                conn: conn.clone(),
            };
            payload(&a[2], &mut r, &mut Slicing::default()).map_err(bad_scenario)?
        };
        send_frames(w, &conn, &[RawFrame::new(op, bytes)], true).await
    })
}

/// The docstring (placeholders of [`super::sip`], plus `{body-length}`) then the body bytes.
fn send_with_body<'a>(w: &'a mut World, a: Vec<String>, s: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let doc = s
            .docstring
            .as_ref()
            .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
        let body = {
            let mut r = WorldRender {
                w: &mut *w,
                conn: conn.clone(),
            };
            payload(&a[2], &mut r, &mut Slicing::default()).map_err(bad_scenario)?
        };
        let head = w
            .render(doc, &conn)
            .replace("{body-length}", &body.len().to_string());
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&body);
        let op = if a[1] == "binary" { 0x2 } else { 0x1 };
        send_frames(w, &conn, &[RawFrame::new(op, bytes)], true).await
    })
}

fn is_request(ev: &Ev, method: &str) -> bool {
    ev.sip()
        .is_some_and(|m| m.method().is_some_and(|x| x.as_str() == method))
}

static SIZED: AtomicU64 = AtomicU64::new(1);

/// A MESSAGE from `from` to `to` with a body of `pad` bytes; its length.
fn sized_message(w: &mut World, from: &str, to: &str, pad: usize, tag: &str) -> Vec<u8> {
    let head = w.render(
        &format!(
            "MESSAGE sip:{{{to}}}@{{domain}} SIP/2.0
Via: SIP/2.0/WS {{host}};branch={{branch}}
Max-Forwards: 70
From: <sip:{{{from}}}@{{domain}}>;tag={{tag}}
To: <sip:{{{to}}}@{{domain}}>
Call-ID: {tag}
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: {pad}
"
        ),
        from,
    );
    let mut bytes = head.into_bytes();
    bytes.resize(bytes.len() + pad, b'x');
    bytes
}

/// Send `from` → `to` MESSAGEs, sizing the body so the copy `to` receives is `total` bytes:
/// a small one first to learn how much the target adds, then up to two sized ones.
fn send_sized_message<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (from, to) = (a[0].clone(), a[1].clone());
        let total: usize = a[2].parse().map_err(|_| StepError::harness("bad size"))?;
        let mut pad = 1usize;
        let mut received = Vec::new();
        for attempt in 0..3 {
            let call_id = format!(
                "size-{}-{}",
                w.user("x"),
                SIZED.fetch_add(1, Ordering::Relaxed)
            );
            let bytes = sized_message(w, &from, &to, pad, &call_id);
            let sent = bytes.len();
            w.send_sip(&from, &String::from_utf8_lossy(&bytes), false)
                .await?;
            let until = deadline(w);
            let id = call_id.clone();
            let got = take(w, &to, until, move |ev| {
                ev.sip().is_some_and(|m| {
                    m.method().is_some_and(|x| x.as_str() == "MESSAGE")
                        && m.call_id() == Some(id.as_str())
                })
            })
            .await?;
            let Some(Ev::Message { payload, .. }) = got else {
                return Err(StepError::broken(format!(
                    "the MESSAGE from {from} did not reach {to}: {}",
                    describe_all(&log(w, &to).untaken())
                )));
            };
            received.push(payload.len());
            if attempt > 0 && payload.len() == total {
                break;
            }
            // What the target adds (its Via, say), then the body that makes `total`: the
            // Content-Length digits grow with the body, so settle them by iterating.
            let added = payload.len() as i64 - sent as i64;
            let fixed = sent as i64 - pad as i64 - pad.to_string().len() as i64;
            let mut next = (total as i64 - added - fixed).max(1) as usize;
            for _ in 0..3 {
                let want = total as i64 - added - fixed - next.to_string().len() as i64;
                next = want.max(1) as usize;
            }
            pad = next;
        }
        w.observe(format!(
            "MESSAGE copies received by {to}: {} bytes",
            received
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(())
    })
}

/// How much of a large message [`stream`] sends at a pace that lets it see the target react.
const PACED_BYTES: usize = 256 * 1024;

/// Write `frames` one at a time, each bounded by the timeout, looking after each for the
/// target's reaction; stop at the first sign it closed or stopped reading.
async fn stream(
    w: &mut World,
    conn: &str,
    frames: impl Iterator<Item = Vec<u8>>,
    what: &str,
) -> StepResult {
    let timeout = w.target.timeout;
    let mut sent = 0usize;
    for bytes in frames {
        let p = probe(w, conn)?;
        match tokio::time::timeout(timeout, p.send(&bytes, what)).await {
            Ok(Ok(())) => sent += bytes.len(),
            Ok(Err(e)) => {
                w.observe(format!("writing stopped after {sent} bytes: {e}"));
                return Ok(());
            }
            Err(_) => {
                w.observe(format!(
                    "the target stopped reading after {sent} bytes (a write blocked for {} ms)",
                    millis(timeout)
                ));
                return Ok(());
            }
        }
        // A look for a Close before writing on: a few milliseconds while the message is
        // still small (a prompt target is caught early and the evidence stays short), no
        // wait at all past that.
        let pause = if sent <= PACED_BYTES { 5 } else { 0 };
        let until = Instant::now() + Duration::from_millis(pause);
        while pull(w, conn, until).await? {}
        let l = log(w, conn);
        if l.closed || l.events.iter().any(|e| matches!(e, Ev::Close(_))) {
            w.observe(format!("the target reacted after {sent} bytes"));
            return Ok(());
        }
    }
    w.observe(format!("all {sent} bytes were written"));
    Ok(())
}

fn stream_fragments<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let mib: usize = a[0].parse().map_err(|_| StepError::harness("bad size"))?;
        let kib: usize = a[1].parse().map_err(|_| StepError::harness("bad size"))?;
        let frag = kib.max(1) * 1024;
        let count = (mib * 1024 * 1024).div_ceil(frag);
        let frames = (0..count).map(move |i| {
            let op = if i == 0 { 0x2 } else { 0x0 };
            RawFrame::new(op, vec![b'x'; frag])
                .fin(i + 1 == count)
                .to_bytes()
        });
        stream(w, "main", frames, "binary fragment of the large message").await
    })
}

fn stream_huge_frame<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let mib: usize = a[0].parse().map_err(|_| StepError::harness("bad size"))?;
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
    })
}

fn answers_with<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let method = a[0].clone();
        let conn = conn_name(&a, 1);
        let want: Option<u16> = a[2].parse().ok();
        let until = deadline(w);
        loop {
            let m = method.clone();
            let got = take(w, &conn, until, move |ev| {
                ev.sip().is_some_and(|r| {
                    !r.is_request() && r.cseq().is_some_and(|c| c.method.as_str() == m)
                })
            })
            .await?;
            let Some(resp) = got.as_ref().and_then(Ev::sip) else {
                let left = log(w, &conn).untaken();
                return Err(StepError::broken(format!(
                    "expected {} to the {method}; the target sent {}",
                    want.map_or("a final response".into(), |c| c.to_string()),
                    describe_all(&left)
                )));
            };
            if resp.status_line().is_some_and(|s| s.code < 200) {
                continue;
            }
            judge_answer(&resp, &method, want)?;
            if want.is_none() {
                w.observe(format!(
                    "the {method} got {}",
                    resp.status_line().map(|s| s.code).unwrap_or(0)
                ));
            }
            log(w, &conn).answered = Some(resp);
            return Ok(());
        }
    })
}

/// RFC 3261 §17.1.1.1: the first retransmission interval of an unreliable transport.
const T1: Duration = Duration::from_millis(500);

fn no_second_final<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let method = a[0].clone();
        let conn = conn_name(&a, 1);
        let first = log(w, &conn)
            .answered
            .clone()
            .filter(|m| m.cseq().is_some_and(|c| c.method.as_str() == method))
            .ok_or_else(|| {
                StepError::harness(format!("no final response to the {method} was read yet"))
            })?;
        let timeout = w.target.timeout;
        if timeout < T1 {
            // RFC 3261 §17.2.1: an unreliable-transport retransmission would come at T1.
            w.observe(format!(
                "the wait ({} ms) is shorter than T1 ({} ms): a Timer G retransmission would \
                 come after it",
                millis(timeout),
                millis(T1)
            ));
        }
        let until = deadline(w);
        read_to_close(w, &conn, until).await?;
        let later = log(w, &conn).untaken();
        judge_no_second_final(&first, &later)
    })
}

fn pong_comes_back<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 1);
        let want = {
            let mut r = WorldRender {
                w: &mut *w,
                conn: conn.clone(),
            };
            payload(&a[0], &mut r, &mut Slicing::default()).map_err(bad_scenario)?
        };
        let until = deadline(w);
        let target = want.clone();
        take(
            w,
            &conn,
            until,
            move |ev| matches!(ev, Ev::Pong(p) if *p == target),
        )
        .await?;
        let evs: Vec<Ev> = log(w, &conn).events.clone();
        let pongs = evs.iter().filter(|e| matches!(e, Ev::Pong(_))).count();
        w.observe(format!("{pongs} Pong(s) came back"));
        judge_pong(&evs, &want)
    })
}

fn fails_connection<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let until = deadline(w);
        read_to_close(w, "main", until).await?;
        let evs = log(w, "main").take_all();
        let seen = judge_failed(&evs)?;
        log(w, "main").failed = Some(seen);
        w.observe(match seen {
            CloseSeen::Code(c) => format!("failed with Close {c}, then TCP close"),
            CloseSeen::NoCode => "failed with a Close without a code, then TCP close".into(),
            CloseSeen::NoCloseFrame => "closed TCP without a Close frame".into(),
        });
        Ok(())
    })
}

fn close_code_should_be<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let want: u16 = a[0].parse().map_err(|_| StepError::harness("bad code"))?;
        let seen = log(w, "main").failed.ok_or_else(|| {
            StepError::harness("\"the target fails the connection\" must come first")
        })?;
        judge_close_code(seen, want)
    })
}

fn close_comes_back<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let until = deadline(w);
        match take(w, "main", until, |ev| matches!(ev, Ev::Close(_))).await? {
            Some(ev) => {
                w.observe(format!("{} came back", ev.describe()));
                Ok(())
            }
            None => Err(StepError::broken(format!(
                "expected a Close frame in answer (RFC 6455 §5.5.1); the target sent {}",
                describe_all(&log(w, "main").untaken())
            ))),
        }
    })
}

fn closes_tcp<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let until = deadline(w);
        if read_to_close(w, "main", until).await? {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the TCP connection was still open {} ms after the Close exchange (RFC 6455 \
                 §5.5.1, §7.1.1: the server closes it at once)",
                millis(w.target.timeout)
            )))
        }
    })
}

fn no_data_after_close<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let until = deadline(w);
        read_to_close(w, "main", until).await?;
        let l = log(w, "main");
        let before_close = l
            .frames
            .iter()
            .take_while(|f| f.opcode != 0x8)
            .filter(|f| matches!(f.opcode, 0x1 | 0x2))
            .count();
        let frames = l.frames.clone();
        w.observe(format!(
            "{before_close} data message(s) came before the target's Close"
        ));
        judge_no_data_after_close(&frames)
    })
}

fn no_reserved_close_code<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let st = w.ext::<FramingState>();
        let closes: Vec<RawFrame> = st
            .logs
            .values()
            .flat_map(|l| l.frames.iter().filter(|f| f.opcode == 0x8).cloned())
            .collect();
        if closes.is_empty() {
            // Closing TCP without a Close frame sends no code at all: nothing reserved.
            w.observe("the target sent no Close frame");
            return Ok(());
        }
        for f in &closes {
            judge_close_frame(f)?;
        }
        let codes: Vec<String> = closes
            .iter()
            .map(|f| f.close_code().map_or("none".into(), |c| c.to_string()))
            .collect();
        w.observe(format!("Close codes sent: {}", codes.join(", ")));
        Ok(())
    })
}

fn none_masked<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let frames: Vec<RawFrame> = w
            .ext::<FramingState>()
            .logs
            .values()
            .flat_map(|l| l.frames.iter().cloned())
            .collect();
        w.observe(format!("{} frames from the target inspected", frames.len()));
        judge_unmasked(&frames)
    })
}

async fn receive_request(
    w: &mut World,
    conn: &str,
    method: &str,
) -> Result<(u8, Message), StepError> {
    let until = deadline(w);
    let m = method.to_string();
    let got = take(w, conn, until, move |ev| is_request(ev, &m)).await?;
    match got {
        Some(Ev::Message { opcode, payload }) => {
            let msg = Message::parse(&payload)
                .map_err(|e| StepError::harness(format!("reparsing the request: {e}")))?;
            w.last_request.insert(conn.to_string(), msg.clone());
            log(w, conn).received = Some(msg.clone());
            Ok((opcode, msg))
        }
        _ => Err(StepError::broken(format!(
            "expected a {method} on {conn}; the target sent {}",
            describe_all(&log(w, conn).untaken())
        ))),
    }
}

fn receives_in_kind<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (opcode, _) = receive_request(w, &a[0], &a[1]).await?;
        judge_kind(opcode, a[2] == "binary")
    })
}

fn receives_any_kind<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (opcode, _) = receive_request(w, &a[0], &a[1]).await?;
        let kind = if opcode == 0x2 { "binary" } else { "text" };
        w.observe(format!("the {} reached {} in a {kind} frame", a[1], a[0]));
        Ok(())
    })
}

fn received_body<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (method, conn) = (a[0].clone(), a[1].clone());
        let want = {
            let mut r = WorldRender {
                w: &mut *w,
                conn: conn.clone(),
            };
            payload(&a[2], &mut r, &mut Slicing::default()).map_err(bad_scenario)?
        };
        let msg = log(w, &conn)
            .received
            .clone()
            .filter(|m| m.method().is_some_and(|x| x.as_str() == method))
            .ok_or_else(|| StepError::harness(format!("{conn} has received no {method} yet")))?;
        if msg.body == want {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the {method}'s body is {:?}; {:?} was sent",
                crate::wire::transcript::printable(&msg.body),
                crate::wire::transcript::printable(&want)
            )))
        }
    })
}

fn all_one_sip_message<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        drain(w, &conn).await?;
        let evs = log(w, &conn).events.clone();
        let n = judge_one_sip_message(&evs)?;
        w.observe(format!("{n} WebSocket messages, each one SIP message"));
        Ok(())
    })
}

/// The first data message, Close or TCP close (Pings and Pongs are not a reaction).
async fn reaction(w: &mut World, conn: &str) -> Result<Option<Ev>, StepError> {
    let until = deadline(w);
    take(w, conn, until, |ev| {
        matches!(
            ev,
            Ev::Message { .. } | Ev::Close(_) | Ev::Closed | Ev::Bad(_)
        )
    })
    .await
}

fn keepalive_answered<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let got = reaction(w, "main").await?;
        judge_keepalive(got.as_ref())
    })
}

fn keepalive_recorded<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let got = reaction(w, "main").await?;
        let what = classify_reaction(got.as_ref())?;
        w.observe(format!("CRLF CRLF answered with: {what}"));
        Ok(())
    })
}

fn reaction_recorded<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let got = reaction(w, "main").await?;
        let what = classify_reaction(got.as_ref())?;
        w.observe(format!("the target's reaction: {what}"));
        Ok(())
    })
}

static ALIVE: AtomicU64 = AtomicU64::new(1);

/// Ping the target and wait for the Pong; the events seen meanwhile.
async fn liveness(w: &mut World, conn: &str) -> Result<(Vec<u8>, Vec<Ev>), StepError> {
    let want = format!("alive-{}", ALIVE.fetch_add(1, Ordering::Relaxed)).into_bytes();
    let closed_before = log(w, conn).closed;
    if !closed_before {
        let ping = RawFrame::ping(want.clone());
        if let Err(e) = probe(w, conn)?.send_frame(&ping).await {
            return Ok((want, vec![Ev::Bad(format!("a failed write ({e})"))]));
        }
    }
    let until = deadline(w);
    let target = want.clone();
    // The Pong, or the first sign the connection ended; with whatever else is unread.
    let got = take(w, conn, until, move |ev| {
        matches!(ev, Ev::Pong(p) if *p == target) || matches!(ev, Ev::Close(_) | Ev::Closed)
    })
    .await?;
    let l = log(w, conn);
    let mut seen: Vec<Ev> = got.into_iter().collect();
    seen.extend(l.untaken());
    if l.closed && !seen.contains(&Ev::Closed) {
        seen.push(Ev::Closed);
    }
    Ok((want, seen))
}

fn still_open<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let (want, evs) = liveness(w, &conn).await?;
        judge_still_open(&evs, &want)
    })
}

fn still_open_recorded<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let (want, evs) = liveness(w, &conn).await?;
        match judge_still_open(&evs, &want) {
            Ok(()) => w.observe("the connection stayed open"),
            Err(StepError::Broken { message, .. }) => w.observe(message),
            Err(other) => return Err(other),
        }
        Ok(())
    })
}

fn still_serving<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let target = w.target.clone();
        let mut p = match target.connect(false).await {
            Ok(Some(p)) => p,
            Ok(None) => return Err(StepError::Skip("the target has no ws:// endpoint".into())),
            Err(e) => {
                return Err(StepError::broken(format!(
                    "the target no longer accepts connections: {e}"
                )));
            }
        };
        let req = match &target.ws {
            Some(ep) => UpgradeRequest::sip(&ep.authority(), &ep.resource),
            None => UpgradeRequest::sip("localhost", "/"),
        };
        let answer = p
            .upgrade(&req, target.timeout)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        w.add_sip_conn("fresh", p, false);
        if !matches!(answer, Received::Http { status: 101, .. }) {
            return Err(StepError::broken(format!(
                "a new SIP upgrade got {}, not 101",
                crate::wire::describe(&answer)
            )));
        }
        let text = w.register_text("carol", "fresh");
        w.send_sip("fresh", &text, false).await?;
        let until = deadline(w);
        let got = take(w, "fresh", until, |ev| {
            ev.sip()
                .is_some_and(|m| m.status_line().is_some_and(|s| s.code >= 200))
        })
        .await?;
        match got.as_ref().and_then(Ev::sip) {
            Some(resp) => judge_answer(&resp, "REGISTER", Some(200)),
            None => Err(StepError::broken(format!(
                "a REGISTER on a new connection got no answer; the target sent {}",
                describe_all(&log(w, "fresh").untaken())
            ))),
        }
    })
}

fn frame_in_length_form<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        let len: u64 = a[1].parse().map_err(|_| StepError::harness("bad size"))?;
        let bits: u8 = a[2].parse().map_err(|_| StepError::harness("bad form"))?;
        drain(w, &conn).await?;
        let headers = raw_headers(w, &conn)?;
        judge_length_form(&headers, len, bits)
    })
}

fn shortest_everywhere<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = conn_name(&a, 0);
        drain(w, &conn).await?;
        let headers = raw_headers(w, &conn)?;
        let sizes: Vec<String> = headers
            .iter()
            .map(|h| format!("{} bytes in {}-bit", h.payload_len, h.form()))
            .collect();
        w.observe(format!("frames: {}", sizes.join(", ")));
        judge_shortest(&headers)
    })
}

fn idle_ping_recorded<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let started = Instant::now();
        let until = deadline(w);
        let got = take(w, "main", until, |ev| {
            matches!(ev, Ev::Ping(_) | Ev::Close(_) | Ev::Closed)
        })
        .await?;
        let ms = millis(started.elapsed());
        w.observe(match got {
            Some(Ev::Ping(_)) => format!("the target pinged the idle connection after {ms} ms"),
            Some(ev) => format!("the target ended the idle connection: {}", ev.describe()),
            None => format!("no Ping from the target within {ms} ms"),
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Render for Fixed {
        fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String> {
            Ok(format!("REGISTER {user} {}", display.unwrap_or("-")).into_bytes())
        }
        fn last_ping(&mut self) -> Option<Vec<u8>> {
            Some(b"p".to_vec())
        }
    }

    fn pay(spec: &str) -> Vec<u8> {
        payload(spec, &mut Fixed, &mut Slicing::default()).expect("valid payload")
    }

    fn msg(text: &str) -> Ev {
        Ev::Message {
            opcode: 0x1,
            payload: text.replace('\n', "\r\n").into_bytes(),
        }
    }

    const OK: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: c1\nCSeq: 7 REGISTER\nContent-Length: 0\n\n";

    fn parsed(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("a SIP message")
    }

    #[test]
    fn payload_language() {
        assert_eq!(pay(r#""x1""#), b"x1");
        assert_eq!(pay(r#""a\r\n\x00\"""#), b"a\r\n\x00\"");
        assert_eq!(pay("CRLF CRLF"), b"\r\n\r\n");
        assert_eq!(pay("hex:c0 af"), [0xc0, 0xaf]);
        assert_eq!(pay("code(1000) + hex:ff"), [0x03, 0xe8, 0xff]);
        assert_eq!(pay("repeat(5, hex:01 02)"), [1, 2, 1, 2, 1]);
        assert_eq!(pay(r#"repeat(3, "x")"#), b"xxx");
        assert_eq!(
            pay(r#"register(alice, "Zoë €")"#),
            "REGISTER alice Zoë €".as_bytes()
        );
        assert_eq!(pay("the last Ping's payload"), b"p");
        assert_eq!(pay("empty"), b"");
        assert!(payload("bogus(1)", &mut Fixed, &mut Slicing::default()).is_err());
        assert!(payload("hex:abc", &mut Fixed, &mut Slicing::default()).is_err());
    }

    #[test]
    fn slices_cover_the_source_exactly_once() {
        let mut s = Slicing::default();
        let a = payload(r#""abcdefghi" up to 1/3"#, &mut Fixed, &mut s).expect("ok");
        let b = payload("... up to 2/3", &mut Fixed, &mut s).expect("ok");
        let c = payload("... the rest", &mut Fixed, &mut s).expect("ok");
        assert_eq!(
            (a.as_slice(), b.as_slice(), c.as_slice()),
            (&b"abc"[..], &b"def"[..], &b"ghi"[..])
        );
        let mut s = Slicing::default();
        let a = payload(r#""x€y" up to 1 byte into "€""#, &mut Fixed, &mut s).expect("ok");
        assert_eq!(a, [b'x', 0xE2]);
        assert_eq!(
            payload("... the rest", &mut Fixed, &mut s).expect("ok"),
            [0x82, 0xAC, b'y']
        );
    }

    #[test]
    fn frame_tables() {
        let t = |rows: &[&[&str]]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect()
        };
        let frames = frames_from_table(
            &t(&[
                &["opcode", "fin", "mask", "rsv", "payload"],
                &["text", "0", "no", "RSV1+RSV3", r#""ab""#],
                &["0xB", "", "", "", ""],
            ]),
            &mut Fixed,
        )
        .expect("valid");
        assert_eq!(frames[0].to_bytes(), vec![0x51, 0x02, b'a', b'b']);
        assert_eq!(
            (frames[1].opcode, frames[1].fin, frames[1].mask.is_some()),
            (0xB, true, true)
        );
        assert!(frames_from_table(&t(&[&["opcod"], &["text"]]), &mut Fixed).is_err());
        assert!(frames_from_table(&t(&[&["opcode"], &["0x10"]]), &mut Fixed).is_err());
    }

    fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    #[test]
    fn a_data_frame_or_a_pong_or_an_open_connection_is_not_a_failed_connection() {
        assert!(is_broken(
            &judge_failed(&[msg(OK), Ev::Close(Some(1002)), Ev::Closed]).map(|_| ())
        ));
        assert!(is_broken(
            &judge_failed(&[Ev::Pong(b"x".to_vec()), Ev::Closed]).map(|_| ())
        ));
        assert!(is_broken(&judge_failed(&[]).map(|_| ())));
        assert!(is_broken(
            &judge_failed(&[Ev::Close(Some(1002))]).map(|_| ())
        ));
        assert_eq!(
            judge_failed(&[Ev::Close(Some(1002)), Ev::Closed]).expect("failed"),
            CloseSeen::Code(1002)
        );
        assert_eq!(
            judge_failed(&[Ev::Closed]).expect("failed"),
            CloseSeen::NoCloseFrame
        );
    }

    #[test]
    fn a_wrong_close_code_is_a_should_level_finding() {
        let should = |r: StepResult| {
            matches!(
                r,
                Err(StepError::Broken {
                    cap: Some(crate::verdict::Level::Should),
                    ..
                })
            )
        };
        assert!(should(judge_close_code(CloseSeen::Code(1000), 1002)));
        assert!(should(judge_close_code(CloseSeen::NoCode, 1007)));
        assert!(should(judge_close_code(CloseSeen::NoCloseFrame, 1009)));
        assert_eq!(judge_close_code(CloseSeen::Code(1002), 1002), Ok(()));
    }

    #[test]
    fn reserved_codes_and_bad_close_bodies_are_caught() {
        let close = |p: &[u8]| RawFrame::new(0x8, p.to_vec()).unmasked();
        for code in [1005u16, 1006, 1015] {
            assert!(is_broken(&judge_close_frame(&close(&code.to_be_bytes()))));
        }
        assert!(is_broken(&judge_close_frame(&close(&[0x03]))));
        assert!(is_broken(&judge_close_frame(&close(&[
            0x03, 0xe8, 0xc0, 0xaf
        ]))));
        assert_eq!(judge_close_frame(&close(&[0x03, 0xea])), Ok(()));
        assert_eq!(judge_close_frame(&close(&[])), Ok(()));
    }

    #[test]
    fn a_reserved_close_code_breaks_the_case_as_soon_as_it_is_read() {
        let mut l = Log::default();
        let r = l.absorb(RawFrame::new(0x8, 1006u16.to_be_bytes().to_vec()).unmasked());
        assert!(is_broken(&r.map(|_| ())));
        // A well-formed Close is answered with a Close echoing its code; a Ping with a Pong.
        let mut l = Log::default();
        let reply = l
            .absorb(RawFrame::close(1000, "").unmasked())
            .expect("ok")
            .expect("reply");
        assert_eq!(reply.close_code(), Some(1000));
        let reply = l
            .absorb(RawFrame::ping("k").unmasked())
            .expect("ok")
            .expect("pong");
        assert_eq!((reply.opcode, reply.payload.as_slice()), (0xA, &b"k"[..]));
    }

    #[test]
    fn fragments_are_joined_and_stray_continuations_noted() {
        let mut l = Log::default();
        l.absorb(RawFrame::text("ab").fin(false).unmasked())
            .expect("ok");
        l.absorb(RawFrame::ping("p").unmasked()).expect("ok");
        l.absorb(RawFrame::continuation("c").unmasked())
            .expect("ok");
        l.absorb(RawFrame::continuation("d").unmasked())
            .expect("ok");
        assert_eq!(l.events[0], Ev::Ping(b"p".to_vec()));
        assert_eq!(
            l.events[1],
            Ev::Message {
                opcode: 1,
                payload: b"abc".to_vec()
            }
        );
        assert!(matches!(l.events[2], Ev::Bad(_)));
    }

    #[test]
    fn wrong_answers_are_caught() {
        let ok = parsed(OK);
        assert_eq!(judge_answer(&ok, "REGISTER", Some(200)), Ok(()));
        assert!(is_broken(&judge_answer(&ok, "REGISTER", Some(486))));
        assert!(is_broken(&judge_answer(&ok, "INVITE", None)));
        let trying = parsed(&OK.replace("200 OK", "100 Trying"));
        assert!(is_broken(&judge_answer(&trying, "REGISTER", None)));
    }

    #[test]
    fn a_retransmitted_final_response_is_caught() {
        let first = parsed(OK);
        assert!(is_broken(&judge_no_second_final(&first, &[msg(OK)])));
        // Another transaction's response, or a provisional one, is no retransmission.
        let other = OK.replace("CSeq: 7", "CSeq: 8");
        let trying = OK.replace("200 OK", "180 Ringing");
        assert_eq!(
            judge_no_second_final(&first, &[msg(&other), msg(&trying)]),
            Ok(())
        );
    }

    #[test]
    fn a_missing_or_different_pong_is_caught() {
        assert!(is_broken(&judge_pong(&[], b"x1")));
        assert!(is_broken(&judge_pong(
            &[Ev::Pong(b"x2".to_vec()), Ev::Closed],
            b"x1"
        )));
        assert_eq!(
            judge_pong(&[Ev::Pong(b"a".to_vec()), Ev::Pong(b"x1".to_vec())], b"x1"),
            Ok(())
        );
    }

    #[test]
    fn a_text_frame_where_binary_is_required_is_caught() {
        assert!(is_broken(&judge_kind(0x1, true)));
        assert!(is_broken(&judge_kind(0x2, false)));
        assert_eq!(judge_kind(0x2, true), Ok(()));
    }

    #[test]
    fn data_after_close_and_masked_frames_are_caught() {
        let f = |op: u8| RawFrame::new(op, b"x".to_vec()).unmasked();
        assert!(is_broken(&judge_no_data_after_close(&[f(0x8), f(0x1)])));
        assert!(is_broken(&judge_no_data_after_close(&[f(0x1)])));
        assert_eq!(judge_no_data_after_close(&[f(0x1), f(0x8), f(0xA)]), Ok(()));
        assert!(is_broken(&judge_unmasked(&[f(0x1), RawFrame::text("m")])));
        assert_eq!(judge_unmasked(&[f(0x1)]), Ok(()));
        assert!(matches!(judge_unmasked(&[]), Err(StepError::Harness(_))));
    }

    #[test]
    fn two_messages_or_garbage_in_one_ws_message_are_caught() {
        assert!(is_broken(
            &judge_one_sip_message(&[msg(&format!("{OK}{OK}"))]).map(|_| ())
        ));
        assert!(is_broken(
            &judge_one_sip_message(&[msg("hello")]).map(|_| ())
        ));
        assert!(is_broken(
            &judge_one_sip_message(&[Ev::Bad("x".into())]).map(|_| ())
        ));
        assert_eq!(
            judge_one_sip_message(&[msg(OK), Ev::Pong(vec![]), msg(OK)]),
            Ok(2)
        );
    }

    #[test]
    fn keepalive_answers() {
        assert_eq!(judge_keepalive(Some(&msg("\n"))), Ok(()));
        assert!(is_broken(&judge_keepalive(Some(&msg("\n\n")))));
        assert!(is_broken(&judge_keepalive(Some(&Ev::Closed))));
        assert!(is_broken(&judge_keepalive(None)));
        assert!(
            classify_reaction(None)
                .expect("recorded")
                .contains("no answer")
        );
        assert!(
            classify_reaction(Some(&msg(OK)))
                .expect("recorded")
                .contains("200")
        );
        assert!(
            classify_reaction(Some(&Ev::Close(Some(1002))))
                .expect("recorded")
                .contains("1002")
        );
        assert!(is_broken(
            &classify_reaction(Some(&msg("garbage"))).map(|_| ())
        ));
    }

    #[test]
    fn a_closed_connection_is_not_open() {
        assert_eq!(judge_still_open(&[Ev::Pong(b"a".to_vec())], b"a"), Ok(()));
        assert!(is_broken(&judge_still_open(
            &[Ev::Close(Some(1000)), Ev::Closed],
            b"a"
        )));
        assert!(is_broken(&judge_still_open(&[], b"a")));
    }

    #[test]
    fn length_forms_are_read_from_raw_bytes_and_judged() {
        let mut raw = b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec();
        raw.extend(RawFrame::text(vec![b'a'; 125]).unmasked().to_bytes());
        raw.extend(RawFrame::text(vec![b'a'; 126]).unmasked().to_bytes());
        raw.extend(RawFrame::text(vec![b'a'; 65536]).unmasked().to_bytes());
        let h = frame_headers(&raw);
        assert_eq!(
            h.iter().map(HeaderSeen::form).collect::<Vec<_>>(),
            [7, 16, 64]
        );
        assert_eq!(judge_shortest(&h), Ok(()));
        assert_eq!(judge_length_form(&h, 65536, 64), Ok(()));
        assert!(matches!(
            judge_length_form(&h, 65535, 16),
            Err(StepError::Skip(_))
        ));
        assert!(matches!(
            judge_length_form(&h, 65536, 16),
            Err(StepError::Harness(_))
        ));
        // A 125-byte payload in the 16-bit form, a 200-byte one in the 64-bit form.
        let mut raw = b"HTTP/1.1 101 x\r\n\r\n".to_vec();
        raw.extend(
            RawFrame::text(vec![b'a'; 125])
                .unmasked()
                .length(Length::Bits16)
                .to_bytes(),
        );
        raw.extend(
            RawFrame::text(vec![b'a'; 200])
                .unmasked()
                .length(Length::Bits64)
                .to_bytes(),
        );
        let h = frame_headers(&raw);
        assert!(is_broken(&judge_shortest(&h)));
        assert!(is_broken(&judge_length_form(&h, 125, 7)));
        assert!(is_broken(&judge_length_form(&h, 200, 16)));
    }

    /// Scenarios whose expectation is wrong for the reference server, run against it: the
    /// steps must report what the target really did, not pass.
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
