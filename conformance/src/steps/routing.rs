//! Steps of the record-route, no-connect and uri-transport features: a proxy that stays in the
//! dialog across transports (RFC 3261 §16, RFC 5658, RFC 7118 §8.2 and Appendix B), never
//! connects to a WebSocket client and fails fast when its flow is gone (RFC 3261 §16.5,
//! §18.2.2; RFC 5626 §5.3, §7; REQUIREMENTS A9), and reads and writes `transport=ws`/`wss`
//! as RFC 7118 §5.2 and §9.2 say (A1).
//!
//! Parties besides the WebSocket connections of the shared SIP steps:
//! - a **UDP phone**: a UDP socket of the harness that registers on the target's SIP/UDP side
//!   with `Contact: <sip:USER@IP:PORT;transport=udp>`, reads requests (retransmissions
//!   skipped, OPTIONS answered), answers them and sends in-dialog requests;
//! - a **listener**: a TCP listener and a UDP socket on one port of the harness, standing in
//!   for a WebSocket client's address. It records every connection and datagram, so a case can
//!   show that the target never tried to reach a client (or, for a stream forwarding case,
//!   read what the target sent it).
//!
//! In-dialog requests are built from the dialog state of RFC 3261 §12.1 (route set, remote
//! target, tags) that the steps record from the INVITE or its 2xx; strict routers are handled
//! as §12.2.1.1 says, so only the target's choices are judged.
//!
//! `"x" sends, with routing placeholders:` fills, before the shared placeholders:
//! `{listener}` (ip:port of the listener), `{target-ws}` and `{target-wss}` (host:port of the
//! target's endpoints) and `{host:NAME}` (the `.invalid` host of connection NAME).
//!
//! Every judgement is a pure function over what was read, unit-tested below on fabricated
//! observations that must fail.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sipws_reference::proxy::response::response;
use sipws_reference::sip::{Header, HeaderName, Message, NameAddr, Via};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::legacy_step;
use crate::step;
use crate::step::{StepDef, StepError, StepFuture, StepResult};
use crate::suite::CaseStep;
use crate::verdict::Level;
use crate::wire::transcript::printable;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    legacy_step!(
        r#"a UDP phone "(?<p0>\w+)" registered with the target"#,
        udp_phone_registered
    ),
    legacy_step!(
        r#"the UDP phone "(?<p0>\w+)" receives an? (?<p1>[A-Z]+)"#,
        phone_receives_request
    ),
    legacy_step!(
        r#"the UDP phone "(?<p0>\w+)" answers (?<p1>\d{3})"#,
        phone_answers
    ),
    legacy_step!(
        r#"the UDP phone "(?<p0>\w+)" receives a final response with status (?<p1>\d{3})"#,
        phone_receives_final
    ),
    legacy_step!(
        r#"the UDP phone "(?<p0>\w+)" sends (?<p1>[A-Z]+) in the dialog"#,
        phone_sends_in_dialog
    ),
    legacy_step!(
        r#"a listener standing in for "(?<p0>\w+)"'s address"#,
        listener_stands_in
    ),
    legacy_step!(
        r"the listener sees no connection attempt",
        listener_sees_nothing
    ),
    legacy_step!(
        r"the listener receives a SIP request over TCP",
        listener_receives_tcp
    ),
    legacy_step!(
        r#"the request the listener received has a Content-Length matching the body "(?<p0>\w+)" sent"#,
        listener_request_content_length
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends, with routing placeholders:"#,
        sends_with_placeholders
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a final response within the timeout"#,
        receives_final
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a final error response within the timeout"#,
        receives_final_error
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a final response with status (?<p1>\d{3})"#,
        receives_final_status
    ),
    legacy_step!(
        r"the final status is (?<p0>\d{3}) or (?<p1>\d{3})",
        final_status_is
    ),
    legacy_step!(r#""(?<p0>\w+)" accepts the INVITE"#, accepts_invite),
    legacy_step!(
        r#""(?<p0>\w+)" sends (?<p1>[A-Z]+) in the dialog"#,
        sends_in_dialog
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends (?<p1>[A-Z]+) in the dialog with one character of the flow token changed"#,
        sends_in_dialog_tampered
    ),
    legacy_step!(
        r#"the INVITE "(?<p0>\w+)" received carries (?<p1>\d+) Record-Route values?"#,
        rr_count
    ),
    legacy_step!(
        r#"the INVITE "(?<p0>\w+)" received carries a Record-Route of the target"#,
        rr_present
    ),
    legacy_step!(
        r#"the Record-Route transports of the INVITE "(?<p0>\w+)" received are (?<p1>.+)"#,
        rr_transports
    ),
    legacy_step!(
        r#"no Record-Route value of the INVITE "(?<p0>\w+)" received has transport=tls"#,
        rr_no_tls
    ),
    legacy_step!(
        r#"every Record-Route value of the INVITE "(?<p0>\w+)" received is a sips: URI"#,
        rr_all_sips
    ),
    legacy_step!(
        r#"every Record-Route value of the INVITE "(?<p0>\w+)" received names a WebSocket transport"#,
        rr_websocket
    ),
    legacy_step!(
        r#"the Record-Route value with transport=(?<p0>\w+) of the INVITE "(?<p1>\w+)" received has a user part"#,
        rr_user_part
    ),
    legacy_step!(
        r#"the Record-Route of the 200 "(?<p0>\w+)" received is the one "(?<p1>\w+)" received"#,
        rr_unchanged
    ),
    legacy_step!(
        r#"the (?<p0>[A-Z]+) "(?<p1>\w+)" received has a new top Via with transport (?<p2>\w+) above the Via of "(?<p3>\w+)""#,
        new_top_via
    ),
    legacy_step!(
        r#"the (?<p0>[A-Z]+) "(?<p1>\w+)" received has Max-Forwards (?<p2>\d+)"#,
        max_forwards_is
    ),
    legacy_step!(
        r#"the (?<p0>[A-Z]+) "(?<p1>\w+)" received has no Route header"#,
        no_route
    ),
    legacy_step!(
        r#"the (?<p0>[A-Z]+) "(?<p1>\w+)" received has a Content-Length matching its body"#,
        content_length_matches
    ),
];

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// What this module keeps in the [`World`] between steps.
#[derive(Default)]
struct Routing {
    listener: Option<HarnessListener>,
    phones: HashMap<String, Phone>,
    /// Dialog state per party (RFC 3261 §12.1), recorded from an INVITE or its 2xx.
    dialogs: HashMap<String, Dialog>,
    /// The last message each connection sent with routing placeholders, as sent.
    sent: HashMap<String, String>,
    /// The INVITE each WebSocket party received, kept when later requests replace
    /// `World::last_request`.
    invites: HashMap<String, Message>,
    /// The SIP request the listener read from a TCP connection.
    tcp_request: Option<TcpRequest>,
}

/// A task that ends with the case: dropping the world drops the state, which aborts it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Something that reached the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Tcp {
        from: SocketAddr,
        after: Duration,
        bytes: Vec<u8>,
    },
    Udp {
        from: SocketAddr,
        after: Duration,
        bytes: Vec<u8>,
    },
}

impl Attempt {
    fn describe(&self) -> String {
        match self {
            Attempt::Tcp { from, after, bytes } => format!(
                "a TCP connection from {from} {} ms after the listener opened ({} bytes sent on it{})",
                after.as_millis(),
                bytes.len(),
                excerpt(bytes)
            ),
            Attempt::Udp { from, after, bytes } => format!(
                "a UDP datagram from {from} {} ms after the listener opened ({} bytes{})",
                after.as_millis(),
                bytes.len(),
                excerpt(bytes)
            ),
        }
    }
}

fn excerpt(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let text = printable(&bytes[..bytes.len().min(120)]);
    format!(": {:?}", text)
}

/// Most a TCP connection to the listener is read for.
const MAX_TCP_READ: usize = 64 * 1024;

struct HarnessListener {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Attempt>>>,
    _task: AbortOnDrop,
}

impl HarnessListener {
    fn attempts(&self) -> Vec<Attempt> {
        lock(&self.seen).clone()
    }
}

/// A poisoned lock only means a reader task panicked mid-append; the data is still evidence.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A SIP request read from a TCP connection to the listener.
#[derive(Debug, Clone)]
struct TcpRequest {
    content_length: Option<u32>,
    /// Bytes after the header section that arrived.
    body_bytes: usize,
    head: String,
}

/// An in-dialog party's view (RFC 3261 §12.1.1 for a UAS, §12.1.2 for a UAC).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dialog {
    call_id: String,
    /// Our From in requests we send (with our tag).
    local: NameAddr,
    /// Our To in requests we send (with the peer's tag).
    remote: NameAddr,
    remote_target: String,
    route_set: Vec<NameAddr>,
    /// The CSeq number of the last request we sent in the dialog.
    cseq: u32,
    /// The INVITE's CSeq number (an ACK for a 2xx carries it).
    invite_cseq: u32,
}

// ---------------------------------------------------------------------------------------------
// Pure judgements and message builders
// ---------------------------------------------------------------------------------------------

fn status(m: &Message) -> u16 {
    m.status_line().map(|s| s.code).unwrap_or(0)
}

fn is_method(m: &Message, method: &str) -> bool {
    m.method().is_some_and(|x| x.to_string() == method)
}

fn transport_of(v: &NameAddr) -> Option<String> {
    v.sip_uri()
        .and_then(|u| u.transport_param())
        .map(str::to_ascii_lowercase)
}

fn list(values: &[NameAddr]) -> String {
    if values.is_empty() {
        return "none".into();
    }
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "udp then ws or wss" → [["udp"], ["ws", "wss"]].
fn parse_transport_spec(spec: &str) -> Vec<Vec<String>> {
    spec.split(" then ")
        .map(|pos| {
            pos.split(" or ")
                .map(|t| t.trim().trim_matches('"').to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect()
}

/// RFC 5658 §6.2 (5658-6.2-a): a proxy switching transports SHOULD insert two values.
fn judge_rr_count(rr: &[NameAddr], want: usize) -> Result<(), StepError> {
    if rr.len() == want {
        Ok(())
    } else {
        Err(StepError::should(format!(
            "{} Record-Route value(s) where {want} were expected: {}",
            rr.len(),
            list(rr)
        )))
    }
}

/// RFC 3261 §16.6 item 4 (3261-16.6-b): at least one value, each a SIP or SIPS URI with `lr`.
/// Returns what was seen.
fn judge_rr_present(rr: &[NameAddr]) -> Result<String, StepError> {
    if rr.is_empty() {
        return Err(StepError::broken(
            "the target did not Record-Route: no Record-Route header",
        ));
    }
    for v in rr {
        match v.sip_uri() {
            None => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} is not a SIP or SIPS URI"
                )));
            }
            Some(u) if !u.lr() => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} has no lr parameter (RFC 3261 §16.6 item 4)"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(format!("{} Record-Route value(s): {}", rr.len(), list(rr)))
}

/// Each position's `transport` parameter is one of the allowed ones (RFC 5658 §6.2: one per
/// value, each describing its own side). Returns the choices made where several were allowed.
fn judge_rr_transports(rr: &[NameAddr], spec: &[Vec<String>]) -> Result<Vec<String>, StepError> {
    if rr.len() != spec.len() {
        return Err(StepError::broken(format!(
            "{} Record-Route value(s) where {} were expected: {}",
            rr.len(),
            spec.len(),
            list(rr)
        )));
    }
    let mut chosen = Vec::new();
    for (i, (v, allowed)) in rr.iter().zip(spec).enumerate() {
        let t = transport_of(v);
        match t {
            Some(t) if allowed.contains(&t) => {
                if allowed.len() > 1 {
                    chosen.push(format!("Record-Route value {} uses transport={t}", i + 1));
                }
            }
            other => {
                return Err(StepError::broken(format!(
                    "Record-Route value {} ({v}) has {}, expected transport={}",
                    i + 1,
                    other.map_or("no transport parameter".to_string(), |t| format!(
                        "transport={t}"
                    )),
                    allowed.join(" or transport=")
                )));
            }
        }
    }
    Ok(chosen)
}

/// RFC 5658 §6.2 (5658-6.2-b): `transport=tls` MUST NOT be used.
fn judge_no_tls(rr: &[NameAddr]) -> Result<(), StepError> {
    match rr
        .iter()
        .find(|v| transport_of(v).as_deref() == Some("tls"))
    {
        Some(v) => Err(StepError::broken(format!(
            "Record-Route value {v} carries transport=tls, which RFC 5658 §6.2 forbids"
        ))),
        None => Ok(()),
    }
}

/// RFC 3261 §16.6 item 4 (3261-16.6-c): with a SIPS Request-URI every Record-Route is SIPS.
fn judge_all_sips(rr: &[NameAddr]) -> Result<(), StepError> {
    if rr.is_empty() {
        return Err(StepError::broken(
            "no Record-Route: a sips: request arriving over one hop and leaving over another needs one (RFC 3261 §16.6 item 4)",
        ));
    }
    match rr.iter().find(|v| !v.sip_uri().is_some_and(|u| u.secure)) {
        Some(v) => Err(StepError::broken(format!(
            "Record-Route value {v} is not a sips: URI although the Request-URI is"
        ))),
        None => Ok(()),
    }
}

/// RFC 7118 §5.2 (7118-5.2-a): a URI for a WebSocket hop says `transport=ws` (`wss` is the
/// field's variant, A1). Returns the style of each value.
fn judge_ws_transports(rr: &[NameAddr]) -> Result<Vec<String>, StepError> {
    if rr.is_empty() {
        return Err(StepError::broken("no Record-Route value to judge"));
    }
    let mut seen = Vec::new();
    for v in rr {
        match (v.sip_uri(), transport_of(v).as_deref()) {
            (Some(u), Some(t @ ("ws" | "wss"))) => {
                seen.push(format!("{}:…;transport={t}", u.scheme()));
            }
            (_, other) => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} faces a WebSocket hop but has {}",
                    other.map_or("no transport parameter".into(), |t| format!(
                        "transport={t}"
                    ))
                )));
            }
        }
    }
    Ok(seen)
}

/// RFC 3261 §16.6 item 8 (3261-16.6-d): the proxy's own Via on top, with the egress transport
/// token and a new RFC 3261 branch; the sender's Via right below it.
fn judge_new_via(vias: &[Via], token: &str, sender_host: &str) -> Result<(), StepError> {
    let [top, below, ..] = vias else {
        return Err(StepError::broken(format!(
            "the forwarded request has {} Via value(s); the target's own Via is missing",
            vias.len()
        )));
    };
    if !top.transport.eq_ignore_ascii_case(token) {
        return Err(StepError::broken(format!(
            "the target's Via says SIP/2.0/{} on a {token} hop",
            top.transport
        )));
    }
    if !top.has_rfc3261_branch() {
        return Err(StepError::broken(format!(
            "the target's Via branch {:?} lacks the z9hG4bK cookie (RFC 3261 §16.6 item 8)",
            top.branch()
        )));
    }
    if top.branch() == below.branch() {
        return Err(StepError::broken(format!(
            "the target reused the sender's branch {:?} instead of a new one",
            top.branch()
        )));
    }
    if !below.host.to_string().eq_ignore_ascii_case(sender_host) {
        return Err(StepError::broken(format!(
            "the Via below the target's names {} where the sender's Via ({sender_host}) was expected",
            below.host
        )));
    }
    Ok(())
}

/// RFC 3261 §16.4 (3261-16.4-a): the target's Route values are consumed before forwarding.
fn judge_no_route(routes: &[NameAddr]) -> Result<(), StepError> {
    if routes.is_empty() {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the request still carries Route: {}",
            list(routes)
        )))
    }
}

/// The no-connect rule (A9): nothing may reach the listener.
fn judge_no_attempt(attempts: &[Attempt]) -> Result<(), StepError> {
    match attempts.first() {
        None => Ok(()),
        Some(a) => Err(StepError::broken(format!(
            "the target tried to reach the address the case stands in for: {}",
            a.describe()
        ))),
    }
}

/// A request that cannot be delivered ends in a final error, not a 2xx.
fn judge_final_error(code: u16) -> Result<(), StepError> {
    match code {
        300..=699 => Ok(()),
        200..=299 => Err(StepError::broken(format!(
            "got {code}: the request was accepted although it could not be delivered"
        ))),
        _ => Err(StepError::broken(format!("{code} is not a final response"))),
    }
}

fn judge_max_forwards(got: Option<u32>, want: u32) -> Result<(), StepError> {
    match got {
        Some(n) if n == want => Ok(()),
        Some(n) => Err(StepError::broken(format!(
            "Max-Forwards is {n}, expected {want}"
        ))),
        None => Err(StepError::broken("the request has no Max-Forwards")),
    }
}

/// Content-Length present and equal to the body (RFC 3261 §18.3, §20.14).
fn judge_content_length(declared: Option<u32>, body: usize) -> Result<(), StepError> {
    match declared {
        Some(n) if n as usize == body => Ok(()),
        Some(n) => Err(StepError::broken(format!(
            "Content-Length: {n} but the body is {body} bytes"
        ))),
        None => Err(StepError::broken(format!(
            "no Content-Length (body of {body} bytes)"
        ))),
    }
}

/// Two Record-Route lists are the same values in the same order.
fn judge_rr_unchanged(got: &[NameAddr], sent: &[NameAddr]) -> Result<(), StepError> {
    if got == sent {
        Ok(())
    } else {
        Err(StepError::Broken {
            message: format!(
                "the Record-Route was rewritten on the way back (RFC 3261 §16.7 item 8 allows it): sent {}, received {}",
                list(sent),
                list(got)
            ),
            cap: Some(Level::Info),
        })
    }
}

/// Another alphanumeric character, so the token stays a legal user part.
fn flip_char(c: char) -> char {
    match c {
        '0' => '1',
        'a' => 'b',
        'A' => 'B',
        c if c.is_ascii_digit() => '0',
        c if c.is_ascii_lowercase() => 'a',
        c if c.is_ascii_uppercase() => 'A',
        _ => 'x',
    }
}

/// Change the last character of the first user part in a route set: where a flow token lives
/// (RFC 5626 §5.2 leaves its encoding open; RFC 7118 §8.2 shows it as the user part).
/// Returns the old and new user parts, or `None` when no value has a user part.
fn flip_token(routes: &mut [NameAddr]) -> Option<(String, String)> {
    for v in routes.iter_mut() {
        let Some(u) = v.uri.as_sip_mut() else {
            continue;
        };
        let Some(user) = u.user.clone() else {
            continue;
        };
        let last = user.chars().last()?;
        let mut changed: String = user.chars().take(user.chars().count() - 1).collect();
        changed.push(flip_char(last));
        u.user = Some(changed.clone());
        return Some((user, changed));
    }
    None
}

/// The dialog a UAC gets from the 2xx to its INVITE (RFC 3261 §12.1.2).
fn uac_dialog(resp: &Message) -> Result<Dialog, String> {
    let local = resp.from().cloned().ok_or("the 2xx has no From")?;
    let remote = resp.to().cloned().ok_or("the 2xx has no To")?;
    if remote.tag().is_none() {
        return Err("the 2xx To has no tag".into());
    }
    let remote_target = resp
        .contacts()
        .next()
        .map(|c| c.uri.to_string())
        .ok_or("the 2xx has no Contact")?;
    let mut route_set: Vec<NameAddr> = resp.record_routes().cloned().collect();
    route_set.reverse();
    let cseq = resp.cseq().map(|c| c.seq).ok_or("the 2xx has no CSeq")?;
    Ok(Dialog {
        call_id: resp.call_id().ok_or("the 2xx has no Call-ID")?.to_string(),
        local,
        remote,
        remote_target,
        route_set,
        cseq,
        invite_cseq: cseq,
    })
}

/// The dialog a UAS gets by answering an INVITE with `local_tag` (RFC 3261 §12.1.1).
fn uas_dialog(req: &Message, local_tag: &str) -> Result<Dialog, String> {
    let mut local = req.to().cloned().ok_or("the INVITE has no To")?;
    local.params.set("tag", Some(local_tag));
    let remote = req.from().cloned().ok_or("the INVITE has no From")?;
    let remote_target = req
        .contacts()
        .next()
        .map(|c| c.uri.to_string())
        .ok_or("the INVITE has no Contact")?;
    let invite_cseq = req.cseq().map(|c| c.seq).ok_or("the INVITE has no CSeq")?;
    Ok(Dialog {
        call_id: req
            .call_id()
            .ok_or("the INVITE has no Call-ID")?
            .to_string(),
        local,
        remote,
        remote_target,
        route_set: req.record_routes().cloned().collect(),
        // The UAS's own numbering starts anywhere (RFC 3261 §12.1.1).
        cseq: 1000,
        invite_cseq,
    })
}

/// An in-dialog request (RFC 3261 §12.2.1.1), with `{branch}` left for the renderer. `via` is
/// the sent-protocol and sent-by (`SIP/2.0/WS {host}`).
fn dialog_request(d: &Dialog, method: &str, cseq: u32, via: &str, routes: &[NameAddr]) -> String {
    let (ruri, routes): (String, Vec<String>) = match routes.first() {
        None => (d.remote_target.clone(), Vec::new()),
        Some(first) if first.sip_uri().is_some_and(|u| u.lr()) => (
            d.remote_target.clone(),
            routes.iter().map(ToString::to_string).collect(),
        ),
        // A strict router: its URI becomes the Request-URI, the remote target the last Route.
        Some(first) => (
            first.uri.to_string(),
            routes[1..]
                .iter()
                .map(ToString::to_string)
                .chain([format!("<{}>", d.remote_target)])
                .collect(),
        ),
    };
    let mut text =
        format!("{method} {ruri} SIP/2.0\nVia: {via};branch={{branch}}\nMax-Forwards: 70\n");
    if !routes.is_empty() {
        text.push_str(&format!("Route: {}\n", routes.join(", ")));
    }
    text.push_str(&format!(
        "From: {}\nTo: {}\nCall-ID: {}\nCSeq: {cseq} {method}\nContent-Length: 0\n",
        d.local, d.remote, d.call_id
    ));
    text
}

/// Fill `{host:NAME}` with `host(NAME)`.
fn fill_hosts(text: &str, mut host: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{host:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "{host:".len()..];
        match after.find('}') {
            Some(j) => {
                out.push_str(&host(&after[..j]));
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Split bytes read from a stream into a parsed header section and how many bytes followed it.
/// The Content-Length is read from the header section itself, so a body still on its way (or
/// a Content-Length that lies) does not stop the head from being judged.
fn read_stream_request(bytes: &[u8]) -> Option<Result<TcpRequest, String>> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = printable(&bytes[..end]);
    let mut content_length = None;
    let mut kept = Vec::new();
    for line in head.split("\r\n") {
        match line.split_once(':') {
            Some((name, value))
                if name.trim().eq_ignore_ascii_case("content-length")
                    || name.trim().eq_ignore_ascii_case("l") =>
            {
                match value.trim().parse::<u32>() {
                    Ok(n) => content_length = Some(n),
                    Err(_) => {
                        return Some(Err(format!(
                            "Content-Length {:?} is not a number: {head}",
                            value.trim()
                        )));
                    }
                }
            }
            _ => kept.push(line),
        }
    }
    Some(match Message::parse(kept.join("\r\n").as_bytes()) {
        Ok(m) if m.is_request() => Ok(TcpRequest {
            content_length,
            body_bytes: bytes.len() - end,
            head,
        }),
        Ok(_) => Err(format!("a response where a request was expected: {head}")),
        Err(e) => Err(format!("{e}: {head}")),
    })
}

// ---------------------------------------------------------------------------------------------
// Sockets: the listener and the UDP phone
// ---------------------------------------------------------------------------------------------

/// The local address that faces `peer`: the peer's own address for a loopback target (tests bind
/// only to loopback), else the one the OS routes through (no packet is sent).
async fn local_ip_towards(peer: SocketAddr) -> std::io::Result<IpAddr> {
    if peer.ip().is_loopback() {
        return Ok(peer.ip());
    }
    let any: SocketAddr = if peer.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = UdpSocket::bind(any).await?;
    probe.connect(peer).await?;
    Ok(probe.local_addr()?.ip())
}

/// A TCP listener and a UDP socket on one port.
async fn bind_pair(ip: IpAddr) -> std::io::Result<(TcpListener, UdpSocket)> {
    let mut last = std::io::Error::other("no attempt");
    for _ in 0..16 {
        let tcp = TcpListener::bind((ip, 0)).await?;
        let port = tcp.local_addr()?.port();
        match UdpSocket::bind((ip, port)).await {
            Ok(udp) => return Ok((tcp, udp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn listen(tcp: TcpListener, udp: UdpSocket, seen: Arc<Mutex<Vec<Attempt>>>, opened: Instant) {
    let mut readers = JoinSet::new();
    let mut buf = vec![0u8; 65_535];
    loop {
        tokio::select! {
            accepted = tcp.accept() => {
                let Ok((stream, from)) = accepted else {
                    // A failed accept (out of descriptors, say): try again shortly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let index = {
                    let mut s = lock(&seen);
                    s.push(Attempt::Tcp { from, after: opened.elapsed(), bytes: Vec::new() });
                    s.len() - 1
                };
                readers.spawn(read_into(stream, index, seen.clone()));
            }
            got = udp.recv_from(&mut buf) => {
                if let Ok((n, from)) = got {
                    lock(&seen).push(Attempt::Udp {
                        from,
                        after: opened.elapsed(),
                        bytes: buf[..n].to_vec(),
                    });
                }
            }
            Some(_) = readers.join_next(), if !readers.is_empty() => {}
        }
    }
}

/// Record what the target sends on a connection it opened to the listener, up to a bound.
async fn read_into(mut stream: TcpStream, index: usize, seen: Arc<Mutex<Vec<Attempt>>>) {
    let mut chunk = [0u8; 4096];
    let mut total = 0;
    while total < MAX_TCP_READ {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                total += n;
                if let Some(Attempt::Tcp { bytes, .. }) = lock(&seen).get_mut(index) {
                    bytes.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }
}

struct Phone {
    user: String,
    socket: UdpSocket,
    local: SocketAddr,
    /// The target's SIP/UDP address: the phone's outbound proxy.
    server: SocketAddr,
    /// Messages read while waiting for the other kind.
    inbox: VecDeque<(Message, SocketAddr)>,
    /// Requests already taken (method + branch): retransmissions are skipped.
    seen: HashSet<String>,
    /// The last request of each method, with where it came from.
    requests: HashMap<String, (Message, SocketAddr)>,
    last: Option<(Message, SocketAddr)>,
}

fn transaction_key(m: &Message) -> String {
    format!(
        "{} {} {}",
        m.method().map(ToString::to_string).unwrap_or_default(),
        m.top_via().and_then(Via::branch).unwrap_or_default(),
        m.cseq().map(|c| c.seq).unwrap_or_default()
    )
}

impl Phone {
    async fn send(&self, text: &str, to: SocketAddr) -> StepResult {
        self.socket
            .send_to(text.as_bytes(), to)
            .await
            .map(|_| ())
            .map_err(|e| StepError::harness(format!("the UDP phone cannot send: {e}")))
    }

    /// The next datagram that is SIP, or `None` at the deadline.
    async fn read(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<(Message, SocketAddr)>, StepError> {
        let mut buf = vec![0u8; 65_535];
        loop {
            let (n, from) =
                match tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf)).await {
                    Err(_) => return Ok(None),
                    Ok(Ok(x)) => x,
                    Ok(Err(e)) => {
                        return Err(StepError::harness(format!(
                            "the UDP phone cannot read: {e}"
                        )));
                    }
                };
            let bytes = &buf[..n];
            // A CRLF keep-alive some elements send over UDP.
            if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                continue;
            }
            return match Message::parse_datagram(bytes) {
                Ok(m) => Ok(Some((m, from))),
                Err(e) => Err(StepError::broken(format!(
                    "the target sent the UDP phone a datagram that is not SIP ({e}): {}",
                    printable(bytes)
                ))),
            };
        }
    }

    async fn next(
        &mut self,
        want_request: bool,
        timeout: Duration,
    ) -> Result<(Message, SocketAddr), StepError> {
        if let Some(i) = self
            .inbox
            .iter()
            .position(|(m, _)| m.is_request() == want_request)
            && let Some(found) = self.inbox.remove(i)
        {
            return Ok(found);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let Some((m, from)) = self.read(deadline).await? else {
                return Err(StepError::broken(format!(
                    "the UDP phone received no {} within the timeout",
                    if want_request { "request" } else { "response" }
                )));
            };
            if m.is_request() {
                if !self.seen.insert(transaction_key(&m)) {
                    // A retransmission of a request already taken.
                    continue;
                }
                if is_method(&m, "OPTIONS") {
                    // A keep-alive or capability probe: answered, not a step's business.
                    let resp = response(&m, 200, "opt", Vec::new());
                    self.send(&String::from_utf8_lossy(&resp.to_bytes()), from)
                        .await?;
                    continue;
                }
            }
            if m.is_request() == want_request {
                return Ok((m, from));
            }
            self.inbox.push_back((m, from));
        }
    }

    async fn final_response(&mut self, timeout: Duration) -> Result<Message, StepError> {
        for _ in 0..MAX_PROVISIONAL {
            let (m, _) = self.next(false, timeout).await?;
            if status(&m) >= 200 {
                return Ok(m);
            }
        }
        Err(StepError::broken(format!(
            "{MAX_PROVISIONAL} provisional responses and no final one"
        )))
    }
}

/// Provisional responses skipped while waiting for a final one.
const MAX_PROVISIONAL: usize = 10;

// ---------------------------------------------------------------------------------------------
// World helpers
// ---------------------------------------------------------------------------------------------

fn state(w: &mut World) -> &mut Routing {
    w.ext::<Routing>()
}

/// A placeholder's value for a connection (`{host}`, `{branch}`, `{n}`), without the framing
/// `render` adds.
fn placeholder(w: &mut World, name: &str, conn: &str) -> String {
    w.render(name, conn)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

fn endpoint(w: &World, secure: bool) -> Result<String, StepError> {
    let ep = if secure { &w.target.wss } else { &w.target.ws };
    let ep = ep.as_ref().ok_or_else(|| {
        StepError::Skip(format!(
            "the target has no {} endpoint",
            if secure { "wss://" } else { "ws://" }
        ))
    })?;
    Ok(if ep.host.contains(':') {
        format!("[{}]:{}", ep.host, ep.port)
    } else {
        format!("{}:{}", ep.host, ep.port)
    })
}

fn fill_routing(w: &mut World, text: &str) -> Result<String, StepError> {
    let mut t = text.to_string();
    if t.contains("{listener}") {
        let addr = state(w)
            .listener
            .as_ref()
            .map(|l| l.addr)
            .ok_or_else(|| StepError::harness("{listener} needs a listener step first"))?;
        t = t.replace("{listener}", &addr.to_string());
    }
    if t.contains("{target-ws}") {
        t = t.replace("{target-ws}", &endpoint(w, false)?);
    }
    if t.contains("{target-wss}") {
        t = t.replace("{target-wss}", &endpoint(w, true)?);
    }
    Ok(fill_hosts(&t, |name| placeholder(w, "{host}", name)))
}

fn phone<'w>(w: &'w mut World, name: &str) -> Result<&'w mut Phone, StepError> {
    state(w)
        .phones
        .get_mut(name)
        .ok_or_else(|| StepError::harness(format!("no UDP phone {name:?}")))
}

/// The last request of `method` a party received: a UDP phone's, or a connection's.
fn received(w: &mut World, method: &str, party: &str) -> Result<Message, StepError> {
    if let Some((m, _)) = state(w)
        .phones
        .get(party)
        .and_then(|p| p.requests.get(method))
    {
        return Ok(m.clone());
    }
    if let Some(m) = w.last_request.get(party).filter(|m| is_method(m, method)) {
        return Ok(m.clone());
    }
    if method == "INVITE"
        && let Some(m) = state(w).invites.get(party)
    {
        return Ok(m.clone());
    }
    Err(StepError::harness(format!(
        "{party} has received no {method} yet"
    )))
}

fn code(s: &str) -> Result<u16, StepError> {
    s.parse()
        .map_err(|_| StepError::harness(format!("{s:?} is not a status code")))
}

/// Read responses on a connection until a final one (1xx skipped, bounded).
async fn final_on(w: &mut World, conn: &str) -> Result<Message, StepError> {
    for _ in 0..MAX_PROVISIONAL {
        let r = w.next_response(conn).await?;
        if status(&r) >= 200 {
            if (200..300).contains(&status(&r))
                && r.cseq().is_some_and(|c| c.method.to_string() == "INVITE")
            {
                let d = uac_dialog(&r).map_err(|e| {
                    StepError::broken(format!("the 2xx to the INVITE cannot set up a dialog: {e}"))
                })?;
                state(w).dialogs.insert(conn.to_string(), d);
            }
            w.last_response = Some(r.clone());
            return Ok(r);
        }
    }
    Err(StepError::broken(format!(
        "{MAX_PROVISIONAL} provisional responses on {conn} and no final one"
    )))
}

// ---------------------------------------------------------------------------------------------
// Steps: the UDP phone
// ---------------------------------------------------------------------------------------------

fn udp_phone_registered<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let name = a[0].clone();
        let server = w
            .target
            .udp
            .ok_or_else(|| StepError::Skip("the target has no SIP/UDP address".into()))?;
        let ip = local_ip_towards(server)
            .await
            .map_err(|e| StepError::harness(format!("no local address towards {server}: {e}")))?;
        let socket = UdpSocket::bind((ip, 0))
            .await
            .map_err(|e| StepError::harness(format!("binding the UDP phone: {e}")))?;
        let local = socket
            .local_addr()
            .map_err(|e| StepError::harness(e.to_string()))?;
        let user = w.user(&name);
        let text = w.render(
            &format!(
                "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/UDP {local};rport;branch={{branch}}
Max-Forwards: 70
From: <sip:{user}@{{domain}}>;tag=ph{{n}}
To: <sip:{user}@{{domain}}>
Call-ID: reg-udp-{{call-id}}-{name}
CSeq: 1 REGISTER
Contact: <sip:{user}@{local};transport=udp>
Expires: 600
Content-Length: 0
"
            ),
            &name,
        );
        let timeout = w.target.timeout;
        let mut p = Phone {
            user,
            socket,
            local,
            server,
            inbox: VecDeque::new(),
            seen: HashSet::new(),
            requests: HashMap::new(),
            last: None,
        };
        // UDP: retransmit at T1 (500 ms, RFC 3261 §17.1.2.2) until an answer or the timeout.
        let deadline = Instant::now() + timeout;
        let answer = loop {
            p.send(&text, server).await?;
            let slice = (Instant::now() + Duration::from_millis(500)).min(deadline);
            match p.read(slice).await? {
                Some((m, _)) if !m.is_request() && status(&m) >= 200 => break Some(m),
                Some(_) => {}
                None if Instant::now() >= deadline => break None,
                None => {}
            }
        };
        match answer.as_ref().map(status) {
            Some(200..=299) => {
                state(w).phones.insert(name, p);
                Ok(())
            }
            Some(c @ (401 | 407)) => Err(StepError::Skip(format!(
                "the target asks the UDP phone for credentials ({c}); the harness has none"
            ))),
            Some(c) => Err(StepError::harness(format!(
                "registering the UDP phone {name} got {c}, not 2xx"
            ))),
            None => Err(StepError::harness(format!(
                "the target did not answer the UDP phone's REGISTER at {server} within the timeout"
            ))),
        }
    })
}

fn phone_receives_request<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (name, method) = (a[0].clone(), a[1].clone());
        let timeout = w.target.timeout;
        let p = phone(w, &name)?;
        let (m, from) = p.next(true, timeout).await?;
        let got = m.method().map(ToString::to_string).unwrap_or_default();
        p.requests.insert(got.clone(), (m.clone(), from));
        p.last = Some((m, from));
        if got == method {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the UDP phone {name} expected {method} and received {got}"
            )))
        }
    })
}

fn phone_answers<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let name = a[0].clone();
        let code = code(&a[1])?;
        let tag = placeholder(w, "ph{n}", &name);
        let p = phone(w, &name)?;
        let (req, from) = p.last.clone().ok_or_else(|| {
            StepError::harness(format!("the UDP phone {name} has no request to answer"))
        })?;
        let invite_2xx = is_method(&req, "INVITE") && (200..300).contains(&code);
        let mut extra = Vec::new();
        if invite_2xx {
            // RFC 3261 §12.1.1: the UAS copies Record-Route into its 2xx and names itself.
            extra.extend(
                req.headers
                    .iter()
                    .filter(|h| h.name == HeaderName::RecordRoute)
                    .cloned(),
            );
            let contact = Header::parse(
                "Contact",
                &format!("<sip:{}@{};transport=udp>", p.user, p.local),
            )
            .map_err(|e| StepError::harness(format!("building the Contact: {e}")))?;
            extra.push(contact);
        }
        let resp = response(&req, code, &tag, extra);
        p.send(&String::from_utf8_lossy(&resp.to_bytes()), from)
            .await?;
        if invite_2xx {
            let d = uas_dialog(&req, &tag).map_err(|e| {
                StepError::broken(format!("the INVITE cannot set up a dialog: {e}"))
            })?;
            state(w).dialogs.insert(name, d);
        }
        Ok(())
    })
}

fn phone_receives_final<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let name = a[0].clone();
        let want = code(&a[1])?;
        let timeout = w.target.timeout;
        let got = phone(w, &name)?.final_response(timeout).await?;
        if status(&got) == want {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the UDP phone {name} expected {want} and got {}",
                status(&got)
            )))
        }
    })
}

fn phone_sends_in_dialog<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (name, method) = (a[0].clone(), a[1].clone());
        let local = phone(w, &name)?.local;
        let d = next_in_dialog(w, &name, &method)?;
        let text = dialog_request(
            &d,
            &method,
            if method == "ACK" {
                d.invite_cseq
            } else {
                d.cseq
            },
            &format!("SIP/2.0/UDP {local};rport"),
            &d.route_set,
        );
        let text = w.render(&text, &name);
        let p = phone(w, &name)?;
        let server = p.server;
        p.send(&text, server).await
    })
}

/// The dialog of `party`, its CSeq advanced for a request other than ACK.
fn next_in_dialog(w: &mut World, party: &str, method: &str) -> Result<Dialog, StepError> {
    let d = state(w)
        .dialogs
        .get_mut(party)
        .ok_or_else(|| StepError::harness(format!("{party} is in no dialog")))?;
    if method != "ACK" {
        d.cseq += 1;
    }
    Ok(d.clone())
}

// ---------------------------------------------------------------------------------------------
// Steps: the listener
// ---------------------------------------------------------------------------------------------

fn listener_stands_in<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let target = w.target.clone();
        let ep = target
            .ws
            .as_ref()
            .or(target.wss.as_ref())
            .ok_or_else(|| StepError::Skip("the target has no WebSocket endpoint".into()))?;
        let peer = crate::target::resolve(ep)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        let ip = local_ip_towards(peer)
            .await
            .map_err(|e| StepError::harness(format!("no local address towards {peer}: {e}")))?;
        let (tcp, udp) = bind_pair(ip)
            .await
            .map_err(|e| StepError::harness(format!("binding the listener: {e}")))?;
        let addr = tcp
            .local_addr()
            .map_err(|e| StepError::harness(e.to_string()))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(listen(tcp, udp, seen.clone(), Instant::now()));
        state(w).listener = Some(HarnessListener {
            addr,
            seen,
            _task: AbortOnDrop(task),
        });
        Ok(())
    })
}

fn listener_sees_nothing<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let timeout = w.target.timeout;
        let deadline = Instant::now() + timeout;
        loop {
            let attempts = state(w)
                .listener
                .as_ref()
                .map(HarnessListener::attempts)
                .ok_or_else(|| StepError::harness("no listener step came first"))?;
            judge_no_attempt(&attempts)?;
            if Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

fn listener_receives_tcp<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let timeout = w.target.timeout;
        let deadline = Instant::now() + timeout;
        loop {
            let expired = Instant::now() >= deadline;
            let attempts = state(w)
                .listener
                .as_ref()
                .map(HarnessListener::attempts)
                .ok_or_else(|| StepError::harness("no listener step came first"))?;
            let streams: Vec<&Vec<u8>> = attempts
                .iter()
                .filter_map(|a| match a {
                    Attempt::Tcp { bytes, .. } => Some(bytes),
                    Attempt::Udp { .. } => None,
                })
                .collect();
            for bytes in &streams {
                match read_stream_request(bytes) {
                    Some(Ok(req)) => {
                        // Wait for the declared body, bounded by the same deadline.
                        let complete = req
                            .content_length
                            .is_none_or(|n| req.body_bytes >= n as usize);
                        if complete || expired {
                            state(w).tcp_request = Some(req);
                            return Ok(());
                        }
                    }
                    Some(Err(e)) => {
                        return Err(StepError::broken(format!(
                            "the target sent the listener bytes over TCP that are not a SIP request: {e}"
                        )));
                    }
                    None => {}
                }
            }
            if expired {
                return match streams.first() {
                    Some(b) => Err(StepError::broken(format!(
                        "the target connected but sent no complete SIP header section ({} bytes)",
                        b.len()
                    ))),
                    None => Err(StepError::Skip(
                        "the target did not forward the request to the harness's TCP address (it may not relay to foreign hosts)"
                            .into(),
                    )),
                };
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}

fn listener_request_content_length<'a>(
    w: &'a mut World,
    a: Vec<String>,
    _: &'a CaseStep,
) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let st = state(w);
        let req = st
            .tcp_request
            .clone()
            .ok_or_else(|| StepError::harness("the listener has read no request"))?;
        let sent = st.sent.get(&conn).cloned().ok_or_else(|| {
            StepError::harness(format!("{conn} sent nothing with routing placeholders"))
        })?;
        let body = Message::parse(sent.as_bytes())
            .map_err(|e| StepError::harness(format!("the harness's own message: {e}")))?
            .body
            .len();
        judge_content_length(req.content_length, body).map_err(|e| match e {
            StepError::Broken { message, cap } => StepError::Broken {
                message: format!(
                    "{message} on a request forwarded over TCP (RFC 3261 §16.6 item 9): {}",
                    req.head
                ),
                cap,
            },
            other => other,
        })?;
        if req.body_bytes < body {
            return Err(StepError::broken(format!(
                "only {} of the {body} body bytes arrived over TCP",
                req.body_bytes
            )));
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Steps: WebSocket parties
// ---------------------------------------------------------------------------------------------

fn sends_with_placeholders<'a>(
    w: &'a mut World,
    a: Vec<String>,
    s: &'a CaseStep,
) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let doc = s
            .docstring
            .as_ref()
            .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
        let filled = fill_routing(w, doc)?;
        let text = w.render(&filled, &conn);
        state(w).sent.insert(conn.clone(), text.clone());
        w.send_sip(&conn, &text, false).await
    })
}

fn receives_final<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let r = final_on(w, &conn).await?;
        w.observe(format!("{conn} got {}", status(&r)));
        Ok(())
    })
}

fn receives_final_error<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let r = final_on(w, &conn).await?;
        w.observe(format!("answered {}", status(&r)));
        judge_final_error(status(&r))
    })
}

fn receives_final_status<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let want = code(&a[1])?;
        let r = final_on(w, &conn).await?;
        if status(&r) == want {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "expected a final {want}, got {}",
                status(&r)
            )))
        }
    })
}

fn final_status_is<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (x, y) = (code(&a[0])?, code(&a[1])?);
        let got = w
            .last_response
            .as_ref()
            .map(status)
            .ok_or_else(|| StepError::harness("no final response was read"))?;
        if got == x || got == y {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the final status is {got}, neither {x} nor {y}"
            )))
        }
    })
}

fn accepts_invite<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let req = received(w, "INVITE", &conn)?;
        let tag = placeholder(w, "acc{n}", &conn);
        let user = w.user(&conn);
        let contact = placeholder(w, &format!("<sip:{user}@{{host}};transport=ws>"), &conn);
        let mut extra: Vec<Header> = req
            .headers
            .iter()
            .filter(|h| h.name == HeaderName::RecordRoute)
            .cloned()
            .collect();
        extra.push(
            Header::parse("Contact", &contact)
                .map_err(|e| StepError::harness(format!("building the Contact: {e}")))?,
        );
        let resp = response(&req, 200, &tag, extra);
        let d = uas_dialog(&req, &tag)
            .map_err(|e| StepError::broken(format!("the INVITE cannot set up a dialog: {e}")))?;
        let st = state(w);
        st.dialogs.insert(conn.clone(), d);
        st.invites.insert(conn.clone(), req);
        w.send_sip(&conn, &String::from_utf8_lossy(&resp.to_bytes()), false)
            .await
    })
}

async fn send_in_dialog(w: &mut World, conn: &str, method: &str, tamper: bool) -> StepResult {
    let d = next_in_dialog(w, conn, method)?;
    let mut routes = d.route_set.clone();
    if tamper {
        let (old, new) = flip_token(&mut routes).ok_or_else(|| {
            StepError::Skip(
                "the target's Record-Route has no user part that could hold a flow token".into(),
            )
        })?;
        w.observe(format!("token {old} changed to {new}"));
    }
    let token = if w.is_secure(conn) { "WSS" } else { "WS" };
    let text = dialog_request(
        &d,
        method,
        if method == "ACK" {
            d.invite_cseq
        } else {
            d.cseq
        },
        &format!("SIP/2.0/{token} {{host}}"),
        &routes,
    );
    let text = w.render(&text, conn);
    w.send_sip(conn, &text, false).await
}

fn sends_in_dialog<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { send_in_dialog(w, &a[0], &a[1], false).await })
}

fn sends_in_dialog_tampered<'a>(
    w: &'a mut World,
    a: Vec<String>,
    _: &'a CaseStep,
) -> StepFuture<'a> {
    step!(async move { send_in_dialog(w, &a[0], &a[1], true).await })
}

// ---------------------------------------------------------------------------------------------
// Steps: judging what a party received
// ---------------------------------------------------------------------------------------------

/// Judge the last `method` request `party` received. A UDP phone's datagrams are in no
/// transcript, so a broken judgement of one carries the message as evidence.
fn on_received(
    w: &mut World,
    method: &str,
    party: &str,
    judge: impl FnOnce(&mut World, &Message) -> StepResult,
) -> StepResult {
    let m = received(w, method, party)?;
    match judge(w, &m) {
        Err(StepError::Broken { message, cap }) if state(w).phones.contains_key(party) => {
            let raw = if m.raw().is_empty() {
                m.to_bytes()
            } else {
                m.raw().to_vec()
            };
            Err(StepError::Broken {
                message: format!(
                    "{message}\nthe {method} the UDP phone {party} received:\n{}",
                    printable(&raw)
                ),
                cap,
            })
        }
        other => other,
    }
}

fn record_routes(m: &Message) -> Vec<NameAddr> {
    m.record_routes().cloned().collect()
}

fn rr_count<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let want: usize = a[1].parse().map_err(|_| StepError::harness("bad count"))?;
        on_received(w, "INVITE", &a[0], |_, m| {
            judge_rr_count(&record_routes(m), want)
        })
    })
}

fn rr_present<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        on_received(w, "INVITE", &a[0], |w, m| {
            w.observe(judge_rr_present(&record_routes(m))?);
            Ok(())
        })
    })
}

fn rr_transports<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let spec = parse_transport_spec(&a[1]);
        on_received(w, "INVITE", &a[0], |w, m| {
            for c in judge_rr_transports(&record_routes(m), &spec)? {
                w.observe(c);
            }
            Ok(())
        })
    })
}

fn rr_no_tls<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        on_received(w, "INVITE", &a[0], |w, m| {
            let rr = record_routes(m);
            judge_no_tls(&rr)?;
            w.observe(format!("Record-Route: {}", list(&rr)));
            Ok(())
        })
    })
}

fn rr_all_sips<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { on_received(w, "INVITE", &a[0], |_, m| judge_all_sips(&record_routes(m))) })
}

fn rr_websocket<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        on_received(w, "INVITE", &a[0], |w, m| {
            let styles = judge_ws_transports(&record_routes(m))?;
            w.observe(format!("WebSocket hops written as {}", styles.join(", ")));
            Ok(())
        })
    })
}

fn rr_user_part<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let t = a[0].to_ascii_lowercase();
        on_received(w, "INVITE", &a[1], |w, m| {
            let rr = record_routes(m);
            let v = rr
                .iter()
                .find(|v| transport_of(v).as_deref() == Some(t.as_str()))
                .ok_or_else(|| {
                    StepError::broken(format!(
                        "no Record-Route value with transport={t}: {}",
                        list(&rr)
                    ))
                })?;
            match v.sip_uri().and_then(|u| u.user.clone()) {
                Some(user) => {
                    w.observe(format!("flow token {user}"));
                    Ok(())
                }
                None => Err(StepError::broken(format!(
                    "Record-Route value {v} has no user part (no flow token as in RFC 7118 §8.2)"
                ))),
            }
        })
    })
}

fn rr_unchanged<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (caller, callee) = (a[0].clone(), a[1].clone());
        let resp = w
            .last_response
            .clone()
            .filter(|r| status(r) == 200)
            .ok_or_else(|| StepError::harness(format!("{caller} has read no 200")))?;
        on_received(w, "INVITE", &callee, |_, m| {
            judge_rr_unchanged(&record_routes(&resp), &record_routes(m))
        })
    })
}

fn new_top_via<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let sender_host = placeholder(w, "{host}", &a[3]);
        on_received(w, &a[0], &a[1], |_, m| {
            let vias: Vec<Via> = m.vias().cloned().collect();
            judge_new_via(&vias, &a[2], &sender_host)
        })
    })
}

fn max_forwards_is<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let want: u32 = a[2]
            .parse()
            .map_err(|_| StepError::harness("bad Max-Forwards"))?;
        on_received(w, &a[0], &a[1], |_, m| {
            judge_max_forwards(m.max_forwards(), want)
        })
    })
}

fn no_route<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        on_received(w, &a[0], &a[1], |_, m| {
            judge_no_route(&m.routes().cloned().collect::<Vec<_>>())
        })
    })
}

fn content_length_matches<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        on_received(w, &a[0], &a[1], |w, m| {
            let seen = match m.content_length() {
                Some(n) => format!("Content-Length: {n}"),
                None => "no Content-Length".into(),
            };
            w.observe(format!("{} to {}: {seen}", a[0], a[1]));
            judge_content_length(m.content_length(), m.body.len())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Tests: every judgement fails on a fabricated bad observation
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(values: &[&str]) -> Vec<NameAddr> {
        values
            .iter()
            .map(|v| NameAddr::parse(v).expect("test values parse"))
            .collect()
    }

    fn is_broken(r: &Result<impl std::fmt::Debug, StepError>, cap: Option<Level>) -> bool {
        matches!(r, Err(StepError::Broken { cap: c, .. }) if *c == cap)
    }

    const F3_RR: [&str; 2] = [
        "<sip:proxy.example.com;transport=udp;lr>",
        "<sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
    ];

    #[test]
    fn one_record_route_where_two_are_required_is_a_should_failure() {
        let one = addrs(&F3_RR[..1]);
        assert!(is_broken(&judge_rr_count(&one, 2), Some(Level::Should)));
        assert!(judge_rr_count(&addrs(&F3_RR), 2).is_ok());
        assert!(is_broken(
            &judge_rr_transports(&one, &parse_transport_spec("udp then ws")),
            None
        ));
    }

    #[test]
    fn transports_are_judged_per_position() {
        let spec = parse_transport_spec("udp then ws");
        assert_eq!(spec, vec![vec!["udp".to_string()], vec!["ws".to_string()]]);
        assert_eq!(
            judge_rr_transports(&addrs(&F3_RR), &spec).ok(),
            Some(vec![])
        );
        // Swapped: the top value must face the egress (UDP) side.
        let swapped = addrs(&[F3_RR[1], F3_RR[0]]);
        assert!(is_broken(&judge_rr_transports(&swapped, &spec), None));
        // No transport parameter at all.
        let bare = addrs(&["<sip:p.example.com;lr>", F3_RR[1]]);
        assert!(is_broken(&judge_rr_transports(&bare, &spec), None));
        // Alternatives are reported as an observation.
        let wss = addrs(&["<sip:p;transport=ws;lr>", "<sip:p:443;transport=WSS;lr>"]);
        let chosen = judge_rr_transports(&wss, &parse_transport_spec("ws then ws or wss"))
            .expect("wss is allowed on the WSS side");
        assert_eq!(chosen, vec!["Record-Route value 2 uses transport=wss"]);
    }

    #[test]
    fn transport_tls_in_a_record_route_is_a_must_failure() {
        let tls = addrs(&["<sip:p;transport=ws;lr>", "<sip:p:5061;transport=TLS;lr>"]);
        assert!(is_broken(&judge_no_tls(&tls), None));
        assert!(judge_no_tls(&addrs(&F3_RR)).is_ok());
    }

    #[test]
    fn record_route_presence_needs_lr_and_a_sip_uri() {
        assert!(is_broken(&judge_rr_present(&[]), None));
        assert!(is_broken(
            &judge_rr_present(&addrs(&["<sip:p;transport=ws>"])),
            None
        ));
        assert!(is_broken(&judge_rr_present(&addrs(&["<tel:+1555>"])), None));
        assert!(judge_rr_present(&addrs(&F3_RR)).is_ok());
    }

    #[test]
    fn sips_request_needs_sips_record_routes() {
        assert!(is_broken(
            &judge_all_sips(&addrs(&["<sip:p:443;transport=ws;lr>"])),
            None
        ));
        assert!(is_broken(&judge_all_sips(&[]), None));
        assert!(judge_all_sips(&addrs(&["<sips:p:443;transport=ws;lr>"])).is_ok());
    }

    #[test]
    fn websocket_hops_need_transport_ws_or_wss() {
        assert!(is_broken(
            &judge_ws_transports(&addrs(&["<sip:p:80;lr>"])),
            None
        ));
        assert!(is_broken(
            &judge_ws_transports(&addrs(&["<sip:p;transport=tcp;lr>"])),
            None
        ));
        assert_eq!(
            judge_ws_transports(&addrs(&[
                "<sip:p;transport=ws;lr>",
                "<sips:p;transport=wss;lr>"
            ]))
            .ok(),
            Some(vec![
                "sip:…;transport=ws".to_string(),
                "sips:…;transport=wss".to_string()
            ])
        );
    }

    fn vias(values: &[&str]) -> Vec<Via> {
        values
            .iter()
            .map(|v| Via::parse(v).expect("test Vias parse"))
            .collect()
    }

    #[test]
    fn the_forwarded_via_must_be_new_and_name_the_egress_transport() {
        let alice = "SIP/2.0/WS a.invalid;branch=z9hG4bK56sdasks";
        let ok = vias(&["SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKhjhjqw32c", alice]);
        assert!(judge_new_via(&ok, "UDP", "a.invalid").is_ok());
        assert!(is_broken(
            &judge_new_via(&vias(&[alice]), "UDP", "a.invalid"),
            None
        ));
        let wrong_token = vias(&["SIP/2.0/WS 192.0.2.10;branch=z9hG4bKx", alice]);
        assert!(is_broken(
            &judge_new_via(&wrong_token, "UDP", "a.invalid"),
            None
        ));
        let no_cookie = vias(&["SIP/2.0/UDP 192.0.2.10;branch=1234", alice]);
        assert!(is_broken(
            &judge_new_via(&no_cookie, "UDP", "a.invalid"),
            None
        ));
        let reused = vias(&["SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK56sdasks", alice]);
        assert!(is_broken(&judge_new_via(&reused, "UDP", "a.invalid"), None));
        assert!(is_broken(&judge_new_via(&ok, "UDP", "b.invalid"), None));
    }

    #[test]
    fn a_route_left_on_the_forwarded_request_is_a_failure() {
        assert!(judge_no_route(&[]).is_ok());
        assert!(is_broken(&judge_no_route(&addrs(&F3_RR[1..])), None));
    }

    #[test]
    fn a_connection_attempt_or_datagram_breaks_the_no_connect_rule() {
        assert!(judge_no_attempt(&[]).is_ok());
        let tcp = Attempt::Tcp {
            from: "127.0.0.1:40000".parse().expect("address"),
            after: Duration::from_millis(12),
            bytes: b"GET / HTTP/1.1\r\n".to_vec(),
        };
        let r = judge_no_attempt(&[tcp]);
        assert!(is_broken(&r, None));
        assert!(format!("{r:?}").contains("TCP connection from 127.0.0.1:40000"));
        let udp = Attempt::Udp {
            from: "127.0.0.1:40001".parse().expect("address"),
            after: Duration::from_millis(3),
            bytes: b"SIP/2.0 200 OK\r\n".to_vec(),
        };
        assert!(is_broken(&judge_no_attempt(&[udp]), None));
    }

    #[test]
    fn statuses_and_counters() {
        assert!(judge_final_error(480).is_ok());
        assert!(judge_final_error(430).is_ok());
        assert!(is_broken(&judge_final_error(200), None));
        assert!(is_broken(&judge_final_error(180), None));
        assert!(judge_max_forwards(Some(69), 69).is_ok());
        assert!(is_broken(&judge_max_forwards(Some(70), 69), None));
        assert!(is_broken(&judge_max_forwards(None, 69), None));
        assert!(judge_content_length(Some(10), 10).is_ok());
        assert!(is_broken(&judge_content_length(None, 10), None));
        assert!(is_broken(&judge_content_length(Some(0), 10), None));
    }

    #[test]
    fn a_rewritten_record_route_is_only_information() {
        let sent = addrs(&F3_RR);
        assert!(judge_rr_unchanged(&sent, &sent).is_ok());
        let rewritten = addrs(&[
            F3_RR[0],
            "<sip:other@proxy.example.com:443;transport=ws;lr>",
        ]);
        assert!(is_broken(
            &judge_rr_unchanged(&rewritten, &sent),
            Some(Level::Info)
        ));
    }

    #[test]
    fn token_flip_changes_exactly_one_character_of_the_first_user_part() {
        let mut routes = addrs(&[
            "<sip:p;transport=udp;lr>",
            "<sip:ft00ab@p:80;transport=ws;lr>",
        ]);
        let (old, new) = flip_token(&mut routes).expect("a user part");
        assert_eq!((old.as_str(), new.as_str()), ("ft00ab", "ft00aa"));
        assert_eq!(routes[1].to_string(), "<sip:ft00aa@p:80;transport=ws;lr>");
        assert_eq!(routes[0].to_string(), "<sip:p;transport=udp;lr>");
        let mut none = addrs(&["<sip:p;lr>"]);
        assert_eq!(flip_token(&mut none), None);
        for c in ['0', '9', 'a', 'z', 'A', 'Z', '-'] {
            assert_ne!(flip_char(c), c);
            assert!(flip_char(c).is_ascii_alphanumeric());
        }
    }

    const INVITE_AT_BOB: &str = "INVITE sip:bob@203.0.113.22:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKhjhjqw32c\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n\
Record-Route: <sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>\r\n\
Max-Forwards: 69\r\n\
To: sip:bob@example.com\r\n\
From: sip:alice@example.com;tag=asdyka899\r\n\
Call-ID: asidkj3ss\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn rfc_7118_f8_bye_from_the_uas_dialog() {
        // RFC 7118 §8.2 F8: Bob's route set is the Record-Route in order, the Request-URI
        // Alice's Contact.
        let invite = Message::parse(INVITE_AT_BOB.as_bytes()).expect("the example parses");
        let d = uas_dialog(&invite, "bmqkjhsd").expect("a dialog");
        let bye = dialog_request(&d, "BYE", 1201, "SIP/2.0/UDP 203.0.113.22", &d.route_set);
        assert!(
            bye.starts_with("BYE sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob SIP/2.0\n")
        );
        assert!(bye.contains(
            "Route: <sip:proxy.example.com;transport=udp;lr>, <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>\n"
        ));
        assert!(bye.contains("From: sip:bob@example.com;tag=bmqkjhsd\n"));
        assert!(bye.contains("To: sip:alice@example.com;tag=asdyka899\n"));
        assert!(bye.contains("CSeq: 1201 BYE\n"));
    }

    #[test]
    fn rfc_7118_f6_ack_from_the_uac_dialog_and_strict_routers() {
        let ok = INVITE_AT_BOB
            .replace("INVITE sip:bob@203.0.113.22:5060 SIP/2.0", "SIP/2.0 200 OK")
            .replace(
                "To: sip:bob@example.com",
                "To: sip:bob@example.com;tag=bmqkjhsd",
            )
            .replace(
                "Contact: <sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob>",
                "Contact: <sip:bob@203.0.113.22:5060;transport=udp>",
            );
        let resp = Message::parse(ok.as_bytes()).expect("the 200 parses");
        let d = uac_dialog(&resp).expect("a dialog");
        let ack = dialog_request(&d, "ACK", d.invite_cseq, "SIP/2.0/WSS {host}", &d.route_set);
        // F6: the route set is the Record-Route reversed; CSeq 1 ACK.
        assert!(ack.starts_with("ACK sip:bob@203.0.113.22:5060;transport=udp SIP/2.0\n"));
        assert!(ack.contains(
            "Route: <sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>, <sip:proxy.example.com;transport=udp;lr>\n"
        ));
        assert!(ack.contains("CSeq: 1 ACK\n"));
        // A strict router first: its URI is the Request-URI, the remote target the last Route.
        let strict = addrs(&["<sip:strict.example.com>", "<sip:p;lr>"]);
        let req = dialog_request(&d, "BYE", 2, "SIP/2.0/WS {host}", &strict);
        assert!(req.starts_with("BYE sip:strict.example.com SIP/2.0\n"));
        assert!(req.contains("Route: <sip:p;lr>, <sip:bob@203.0.113.22:5060;transport=udp>\n"));
        // A 2xx without a To tag or Contact sets up no dialog.
        let untagged = ok.replace(";tag=bmqkjhsd", "");
        assert!(uac_dialog(&Message::parse(untagged.as_bytes()).expect("parses")).is_err());
    }

    #[test]
    fn host_placeholders_are_filled_by_name() {
        let t = fill_hosts("Via: SIP/2.0/WS {host:alice};x={host:b}{host:", |n| {
            format!("<{n}>")
        });
        assert_eq!(t, "Via: SIP/2.0/WS <alice>;x=<b>{host:");
    }

    #[test]
    fn stream_requests_are_split_at_the_header_section() {
        assert!(read_stream_request(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP").is_none());
        let head = "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 4\r\n\r\nv=0\n";
        let r = read_stream_request(head.as_bytes())
            .expect("a complete head")
            .expect("a request");
        assert_eq!((r.content_length, r.body_bytes), (Some(4), 4));
        // The head is judged before the body arrives; a missing Content-Length is reported.
        let early = read_stream_request(&head.as_bytes()[..head.len() - 4])
            .expect("a complete head")
            .expect("a request");
        assert_eq!((early.content_length, early.body_bytes), (Some(4), 0));
        let bare = head.replace("Content-Length: 4\r\n", "");
        let r = read_stream_request(bare.as_bytes())
            .expect("a complete head")
            .expect("a request");
        assert_eq!(r.content_length, None);
        assert!(matches!(
            read_stream_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Err(_))
        ));
        assert!(matches!(
            read_stream_request(head.replace("4\r\n\r\n", "x\r\n\r\n").as_bytes()),
            Some(Err(_))
        ));
    }
}
