//! Steps of the opening handshake and subprotocol features: hand-built upgrade requests
//! (RFC 6455 §4.1, §4.2.1) and the judgements of [`crate::judge::handshake`] on the answer.

use tokio::time::Instant;

use crate::judge::handshake as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::upgrade::EXAMPLE_KEY;
use crate::wire::{Probe, Received, UpgradeRequest, describe};
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    CONNECT_WSS_PLAIN,
    CONNECT_WS,
    CONNECT_WSS,
    SEND_DEFAULT,
    SEND_CHANGED,
    IS_101,
    IS_NOT_101,
    STATUS_SHOULD_BE,
    HEADER_VALUE,
    NO_HEADER,
    ONE_HEADER,
    SELECTS,
    ACCEPT_MATCHES,
    SEND_HALF,
    STALLED_CLOSE_RECORDED,
];

async fn connect(w: &mut World, secure: bool) -> StepResult {
    let target = w.target.clone();
    match target.connect(secure).await {
        Ok(Some(probe)) => {
            w.add_conn("main", probe);
            Ok(())
        }
        Ok(None) => Err(StepError::Skip(format!(
            "the target has no {} endpoint",
            if secure { "wss://" } else { "ws://" }
        ))),
        Err(e) => Err(StepError::harness(e.to_string())),
    }
}

const CONNECT_WS: StepDef<World> = step!(
    r"a TCP connection to the target's WebSocket endpoint",
    connect_ws
);
async fn connect_ws(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    connect(w, false).await
}

const CONNECT_WSS: StepDef<World> = step!(
    r"a TCP connection to the target's secure WebSocket endpoint",
    connect_wss
);
async fn connect_wss(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    connect(w, true).await
}

/// TCP to the WSS port without TLS: what a server must not answer in plain text
/// (RFC 6455 §4.2.2 (1)).
const CONNECT_WSS_PLAIN: StepDef<World> = step!(
    r"a plain-text TCP connection to the target's secure WebSocket endpoint",
    connect_wss_plain
);
async fn connect_wss_plain(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let Some(ep) = w.target.wss.clone() else {
        return Err(StepError::Skip("the target has no wss:// endpoint".into()));
    };
    let addr = crate::target::resolve(&ep)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    let probe = Probe::connect(addr)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    w.add_conn("main", probe);
    Ok(())
}

/// The valid SIP upgrade request for the connection's endpoint.
fn base_request(w: &World) -> UpgradeRequest {
    let ep = w.target.ws.as_ref().or(w.target.wss.as_ref());
    match ep {
        Some(ep) => UpgradeRequest::sip(&ep.authority(), &ep.resource),
        None => UpgradeRequest::sip("localhost", "/"),
    }
}

async fn send(w: &mut World, req: UpgradeRequest) -> StepResult {
    let timeout = w.target.timeout;
    w.key = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Key"))
        .map(|(_, v)| v.clone());
    let answer = w
        .probe("main")?
        .upgrade(&req, timeout)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    w.answer = Some(answer);
    Ok(())
}

const SEND_DEFAULT: StepDef<World> = step!(r"the client sends a SIP upgrade request", send_default);
async fn send_default(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let req = base_request(w);
    send(w, req).await
}

/// Table rows: `| set | Header | value |`, `| add | Header | value |`, `| remove | Header | |`,
/// `| method | POST | |`, `| version | HTTP/1.0 | |`, `| target | /nope | |`.
const SEND_CHANGED: StepDef<World> = step!(
    r"the client sends a SIP upgrade request with these changes:",
    send_changed
);
async fn send_changed(w: &mut World, _: Args, s: &CaseStep) -> StepResult {
    let mut req = base_request(w);
    let table = s
        .table
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs a table of changes"))?;
    for row in table {
        let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
        req = match cell(0) {
            "set" => req.set(cell(1), cell(2)),
            "add" => req.with(cell(1), cell(2)),
            "remove" => req.without(cell(1)),
            "method" => req.method(cell(1)),
            "version" => req.version(cell(1)),
            "target" => {
                req.target = cell(1).to_string();
                req
            }
            other => return Err(StepError::harness(format!("unknown change {other:?}"))),
        };
    }
    send(w, req).await
}

const IS_101: StepDef<World> = step!(r"the answer is 101 Switching Protocols", is_101);
async fn is_101(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    judge::switching(w.answer.as_ref())
}

const IS_NOT_101: StepDef<World> = step!(r"the answer is not 101", is_not_101);
async fn is_not_101(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let how = judge::refused(w.answer.as_ref())?;
    w.observe(how);
    Ok(())
}

const STATUS_SHOULD_BE: StepDef<World> = step!(
    r"the answer's status should be (?<status>\d{3})",
    status_should_be
);
async fn status_should_be(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::status_should_be(w.answer.as_ref(), a.parse("status")?)
}

const HEADER_VALUE: StepDef<World> = step!(
    r#"the answer has the header "(?<name>[^"]+)" with the value "(?<value>[^"]*)""#,
    header_value
);
async fn header_value(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::list_holds(
        judge::http(w.answer.as_ref())?,
        a.text("name")?,
        a.text("value")?,
    )
}

const NO_HEADER: StepDef<World> = step!(r#"the answer has no "(?<name>[^"]+)" header"#, no_header);
async fn no_header(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::no_header(w.answer.as_ref(), a.text("name")?)
}

const ONE_HEADER: StepDef<World> = step!(
    r#"the answer has exactly one "(?<name>[^"]+)" header"#,
    one_header
);
async fn one_header(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::one_header(judge::http(w.answer.as_ref())?, a.text("name")?)
}

const SELECTS: StepDef<World> = step!(
    r#"the answer selects the subprotocol "(?<token>[^"]+)""#,
    selects
);
async fn selects(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::selects(judge::http(w.answer.as_ref())?, a.text("token")?)
}

const ACCEPT_MATCHES: StepDef<World> = step!(
    r"the answer's Sec-WebSocket-Accept matches the key",
    accept_matches
);
async fn accept_matches(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let key = w.key.clone().unwrap_or_else(|| EXAMPLE_KEY.to_string());
    judge::accept_matches(judge::http(w.answer.as_ref())?, &key)
}

/// When the half request went out.
#[derive(Default)]
struct StalledSince(Option<Instant>);

/// The request line and the first header of a valid SIP upgrade request, then silence: a
/// handshake that never completes (RFC 6455 §10; row 6455-10-a).
const SEND_HALF: StepDef<World> = step!(
    r"the client sends half of a SIP upgrade request and then nothing",
    send_half
);
async fn send_half(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let bytes = base_request(w).to_bytes();
    let half = bytes.len() / 2;
    w.probe("main")?
        .send(&bytes[..half], "half of a SIP upgrade request")
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    w.ext::<StalledSince>().0 = Some(Instant::now());
    Ok(())
}

/// Waits up to `n` timeouts for the target to end the stalled handshake and records what it
/// did and when; never a failure (the limit is the implementation's, RFC 6455 §10).
const STALLED_CLOSE_RECORDED: StepDef<World> = step!(
    r"whether the target closes the connection within (?<n>\d+) timeouts is recorded",
    stalled_close_recorded
);
async fn stalled_close_recorded(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let wait = w.target.timeout * a.parse::<u32>("n")?;
    let since = w
        .ext::<StalledSince>()
        .0
        .ok_or_else(|| StepError::harness("no half request was sent"))?;
    let got = w
        .probe("main")?
        .read_http(wait)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    let after = since.elapsed().as_secs_f64();
    let seen = match &got {
        Received::Closed => format!("closed the connection after {after:.1} s"),
        Received::Timeout => format!("kept the connection open for {wait:?} (still open)"),
        other => format!("answered {} after {after:.1} s", describe(other)),
    };
    w.observe(format!("stalled handshake: the target {seen}"));
    Ok(())
}
