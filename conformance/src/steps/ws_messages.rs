//! Steps of SIP messages carried in WebSocket messages (RFC 7118 §4.1, §4.2, §5): SIP text
//! with a body of any bytes, MESSAGEs sized to reach their recipient at an exact length,
//! requests received in a text or a binary frame and their bodies, one SIP message per
//! WebSocket message, the target's answers and that a final response is not sent twice
//! (RFC 3261 §17.2.1), and the reaction to what is not one SIP message.
//!
//! These steps read the connection's log ([`crate::wire::log`]); message text takes the
//! placeholders of [`World::render`], bodies and payloads the language of
//! [`crate::wire::payload`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sipws_reference::sip::Message;

use crate::judge::ws_messages as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::RawFrame;
use crate::wire::log::{Ev, describe_all};
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    SEND_WITH_BODY,
    SEND_INVALID_UTF8_REGISTER,
    SEND_SIZED_MESSAGE,
    ANSWERS_WITH,
    NO_SECOND_FINAL,
    RECEIVES_IN_KIND,
    RECEIVES_ANY_KIND,
    RECEIVED_BODY,
    ALL_ONE_SIP_MESSAGE,
    REACTION_RECORDED,
];

/// What these steps read, per connection, for the steps that judge it later.
#[derive(Default)]
struct Read {
    /// The last final response a step accepted, for "no second final response".
    answered: HashMap<String, Message>,
    /// The last request a step received, for body checks.
    received: HashMap<String, Message>,
}

/// The docstring (placeholders of [`World::render`], plus `{body-length}`) then the body
/// bytes, in one frame.
const SEND_WITH_BODY: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends as a (?<kind>text|binary) frame, with the body (?<body>.+):"#,
    send_with_body
);
async fn send_with_body(w: &mut World, a: Args, s: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let doc = s
        .docstring
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
    let body = w.frame_payload(&conn, a.text("body")?)?;
    let head = w
        .render(doc, &conn)
        .replace("{body-length}", &body.len().to_string());
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    let op = if a.is("kind", "binary") { 0x2 } else { 0x1 };
    w.send_frames(&conn, &[RawFrame::new(op, bytes)], true)
        .await
}

/// A REGISTER that is valid SIP in every other respect, with one invalid UTF-8 sequence
/// (`0xE9` alone: Latin-1 "é") in its Subject value or in its body, sent in a text frame: the
/// target must fail the connection without processing it (RFC 6455 §8.1), however well it
/// parses as SIP. A target that only refuses bytes that are not SIP at all passes the weaker
/// cases, not these.
const SEND_INVALID_UTF8_REGISTER: StepDef<World> = step!(
    r#"the client sends (?<user>\w+)'s REGISTER with invalid UTF-8 in its (?<place>Subject|body), in a text frame"#,
    send_invalid_utf8_register
);
async fn send_invalid_utf8_register(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let text = w.register_text(a.text("user")?, "main");
    let head_end = text
        .find("\r\n\r\n")
        .ok_or_else(|| StepError::harness("the REGISTER text has no end of headers"))?;
    let head: Vec<&str> = text[..head_end]
        .split("\r\n")
        .filter(|l| !l.starts_with("Content-Length:"))
        .collect();
    let head = head.join("\r\n");
    let (mut extra, body): (Vec<u8>, &[u8]) = match a.text("place")? {
        "Subject" => (b"\r\nSubject: caf\xe9".to_vec(), b""),
        _ => (b"\r\nContent-Type: text/plain".to_vec(), b"caf\xe9 au lait"),
    };
    extra.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(&extra);
    bytes.extend_from_slice(body);
    w.send_frames("main", &[RawFrame::new(0x1, bytes)], true)
        .await
}

static SIZED: AtomicU64 = AtomicU64::new(1);

/// A MESSAGE from `from` to `to` with a body of `pad` bytes.
fn sized_message(w: &mut World, from: &str, to: &str, pad: usize, call_id: &str) -> Vec<u8> {
    let head = w.render(
        &format!(
            "MESSAGE sip:{{{to}}}@{{domain}} SIP/2.0
Via: SIP/2.0/WS {{host}};branch={{branch}}
Max-Forwards: 70
From: <sip:{{{from}}}@{{domain}}>;tag={{tag}}
To: <sip:{{{to}}}@{{domain}}>
Call-ID: {call_id}
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

/// The body that makes the copy received `total` bytes, given that a `sent`-byte MESSAGE
/// with a `pad`-byte body reached the recipient as `received` bytes: what the target adds
/// (its Via, say) stays, and the Content-Length digits grow with the body, so settle them by
/// iterating.
fn next_pad(total: usize, sent: usize, received: usize, pad: usize) -> usize {
    let added = received as i64 - sent as i64;
    let fixed = sent as i64 - pad as i64 - pad.to_string().len() as i64;
    let mut next = (total as i64 - added - fixed).max(1) as usize;
    for _ in 0..3 {
        let want = total as i64 - added - fixed - next.to_string().len() as i64;
        next = want.max(1) as usize;
    }
    next
}

/// Send `from` → `to` MESSAGEs, sizing the body so the copy `to` receives is `bytes` bytes:
/// a small one first to learn how much the target adds, then up to two sized ones.
const SEND_SIZED_MESSAGE: StepDef<World> = step!(
    r#""(?<from>\w+)" sends "(?<to>\w+)" a MESSAGE that reaches (?:her|him|them) as (?<bytes>\d+) bytes"#,
    send_sized_message
);
async fn send_sized_message(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (from, to) = (a.text("from")?, a.text("to")?);
    let total: usize = a.parse("bytes")?;
    let mut pad = 1usize;
    let mut received = Vec::new();
    for attempt in 0..3 {
        let call_id = format!(
            "size-{}-{}",
            w.user("x"),
            SIZED.fetch_add(1, Ordering::Relaxed)
        );
        let bytes = sized_message(w, from, to, pad, &call_id);
        let sent = bytes.len();
        w.send_sip(from, &String::from_utf8_lossy(&bytes), false)
            .await?;
        let until = w.deadline();
        let wanted = call_id.clone();
        let got = w
            .take_event(to, until, move |ev| {
                ev.sip().is_some_and(|m| {
                    m.method().is_some_and(|x| x.as_str() == "MESSAGE")
                        && m.call_id() == Some(wanted.as_str())
                })
            })
            .await?;
        let Some(Ev::Message { payload, .. }) = got else {
            return Err(not_relayed(w, from, to, &call_id, sent).await);
        };
        received.push(payload.len());
        if attempt > 0 && payload.len() == total {
            break;
        }
        pad = next_pad(total, sent, payload.len(), pad);
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
}

/// Why a sized MESSAGE did not reach its callee: a final error to the sender is the target's
/// own size limit (no requirement says how large a message a server relays), so the case
/// cannot judge the relayed frame and is skipped, naming the answer; no answer at all is a
/// message lost without an error, the target's fault (RFC 3261 §16.7: a proxy answers every
/// request it takes).
async fn not_relayed(w: &mut World, from: &str, to: &str, call_id: &str, sent: usize) -> StepError {
    let wanted = call_id.to_string();
    let until = tokio::time::Instant::now() + Duration::from_millis(200);
    let answer = w
        .take_event(from, until, move |ev| {
            ev.sip().is_some_and(|m| {
                m.status_line().is_some_and(|s| s.code >= 300)
                    && m.call_id() == Some(wanted.as_str())
            })
        })
        .await;
    match answer.ok().flatten().and_then(|ev| ev.sip()) {
        Some(r) => {
            let status = crate::judge::sip::status_text(&r);
            StepError::Skip(format!(
                "the target refused {from}'s {sent}-byte MESSAGE with {status}: its size limit, so the relayed frame cannot be judged"
            ))
        }
        None => StepError::broken(format!(
            "the MESSAGE from {from} did not reach {to}, and {from} got no answer to it: {}",
            describe_all(&w.frame_log(to).untaken())
        )),
    }
}

const ANSWERS_WITH: StepDef<World> = step!(
    r#"the target answers the (?<method>[A-Z]+)(?: from "(?<conn>\w+)")? with (?:(?<status>\d{3})|a final response)"#,
    answers_with
);
async fn answers_with(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let method = a.text("method")?;
    let conn = a.conn("conn");
    let want: Option<u16> = a.parse_opt("status")?;
    let until = w.deadline();
    loop {
        let got = w
            .take_event(&conn, until, |ev| {
                ev.sip().is_some_and(|r| {
                    !r.is_request() && r.cseq().is_some_and(|c| c.method.as_str() == method)
                })
            })
            .await?;
        let Some(resp) = got.as_ref().and_then(Ev::sip) else {
            let left = w.frame_log(&conn).untaken();
            return Err(StepError::broken(format!(
                "expected {} to the {method}; the target sent {}",
                want.map_or("a final response".into(), |c| c.to_string()),
                describe_all(&left)
            )));
        };
        if resp.status_line().is_some_and(|s| s.code < 200) {
            continue;
        }
        judge::answer(&resp, method, want)?;
        if want.is_none() {
            w.observe(format!(
                "the {method} got {}",
                resp.status_line().map(|s| s.code).unwrap_or(0)
            ));
        }
        w.ext::<Read>().answered.insert(conn, resp);
        return Ok(());
    }
}

/// RFC 3261 §17.1.1.1: the first retransmission interval of an unreliable transport.
const T1: Duration = Duration::from_millis(500);

const NO_SECOND_FINAL: StepDef<World> = step!(
    r#"no second final response to the (?<method>[A-Z]+)(?: from "(?<conn>\w+)")? arrives within the timeout"#,
    no_second_final
);
async fn no_second_final(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let method = a.text("method")?;
    let conn = a.conn("conn");
    let first = w
        .ext::<Read>()
        .answered
        .get(&conn)
        .filter(|m| m.cseq().is_some_and(|c| c.method.as_str() == method))
        .cloned()
        .ok_or_else(|| {
            StepError::harness(format!("no final response to the {method} was read yet"))
        })?;
    let timeout = w.target.timeout;
    if timeout < T1 {
        // RFC 3261 §17.2.1: an unreliable-transport retransmission would come at T1.
        w.observe(format!(
            "the wait ({} ms) is shorter than T1 ({} ms): a Timer G retransmission would \
             come after it",
            timeout.as_millis(),
            T1.as_millis()
        ));
    }
    let until = w.deadline();
    w.read_to_close(&conn, until).await?;
    let later = w.frame_log(&conn).untaken();
    judge::no_second_final(&first, &later)
}

/// Take the next `method` request on `conn`; its opcode and the request.
async fn receive_request(
    w: &mut World,
    conn: &str,
    method: &str,
) -> Result<(u8, Message), StepError> {
    let until = w.deadline();
    let got = w
        .take_event(conn, until, |ev| ev.is_request(method))
        .await?;
    match got {
        Some(Ev::Message { opcode, payload }) => {
            let msg = Message::parse(&payload)
                .map_err(|e| StepError::harness(format!("reparsing the request: {e}")))?;
            w.last_request.insert(conn.to_string(), msg.clone());
            w.ext::<Read>()
                .received
                .insert(conn.to_string(), msg.clone());
            Ok((opcode, msg))
        }
        _ => Err(StepError::broken(format!(
            "expected a {method} on {conn}; the target sent {}",
            describe_all(&w.frame_log(conn).untaken())
        ))),
    }
}

const RECEIVES_IN_KIND: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives the (?<method>[A-Z]+) in a (?<kind>text|binary) frame"#,
    receives_in_kind
);
async fn receives_in_kind(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (opcode, _) = receive_request(w, &a.conn("conn"), a.text("method")?).await?;
    judge::kind(opcode, a.is("kind", "binary"))
}

const RECEIVES_ANY_KIND: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives the (?<method>[A-Z]+), in a text or a binary frame"#,
    receives_any_kind
);
async fn receives_any_kind(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (conn, method) = (a.conn("conn"), a.text("method")?);
    let (opcode, _) = receive_request(w, &conn, method).await?;
    let kind = if opcode == 0x2 { "binary" } else { "text" };
    w.observe(format!("the {method} reached {conn} in a {kind} frame"));
    Ok(())
}

const RECEIVED_BODY: StepDef<World> = step!(
    r#"the (?<method>[A-Z]+) "(?<conn>\w+)" received has the body (?<body>.+)"#,
    received_body
);
async fn received_body(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (method, conn) = (a.text("method")?, a.conn("conn"));
    let want = w.frame_payload(&conn, a.text("body")?)?;
    let msg = w
        .ext::<Read>()
        .received
        .get(&conn)
        .filter(|m| m.method().is_some_and(|x| x.as_str() == method))
        .cloned()
        .ok_or_else(|| StepError::harness(format!("{conn} has received no {method} yet")))?;
    judge::body(method, &msg.body, &want)
}

const ALL_ONE_SIP_MESSAGE: StepDef<World> = step!(
    r#"every WebSocket message the target sent(?: on "(?<conn>\w+)")? is exactly one SIP message"#,
    all_one_sip_message
);
async fn all_one_sip_message(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    w.drain_frames(&conn).await?;
    let n = judge::one_sip_message(w.frame_log(&conn).events())?;
    w.observe(format!("{n} WebSocket messages, each one SIP message"));
    Ok(())
}

/// Where the RFCs allow several reactions (a drop, an error response, a close; A10), which
/// one the target chose is recorded; only a data message that is not SIP breaks the case
/// (row 7118-4.1-e).
const REACTION_RECORDED: StepDef<World> = step!(
    r"the target's reaction is recorded: a SIP response, nothing or a close",
    reaction_recorded
);
async fn reaction_recorded(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let got = w.reaction("main").await?;
    let what = judge::reaction(got.as_ref())?;
    w.observe(format!("the target's reaction: {what}"));
    Ok(())
}
