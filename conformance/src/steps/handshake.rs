//! Steps of the opening handshake and subprotocol features: hand-built upgrade requests and
//! judgements of the target's answer (RFC 6455 §4.2, RFC 7118 §4.1, RFC 7936 §2).

use sipws_reference::ws::handshake::accept_key_for;
use sipws_reference::ws::http::{ResponseHead, list_elements};

use super::{StepError, StepFn, StepResult};
use crate::step;
use crate::suite::CaseStep;
use crate::wire::upgrade::EXAMPLE_KEY;
use crate::wire::{Received, UpgradeRequest};
use crate::world::World;

pub const STEPS: &[(&str, StepFn)] = &[
    (
        r"a plain-text TCP connection to the target's secure WebSocket endpoint",
        connect_wss_plain,
    ),
    (
        r"a TCP connection to the target's WebSocket endpoint",
        connect_ws,
    ),
    (
        r"a TCP connection to the target's secure WebSocket endpoint",
        connect_wss,
    ),
    (r"the client sends a SIP upgrade request", send_default),
    (
        r"the client sends a SIP upgrade request with these changes:",
        send_changed,
    ),
    (r"the answer is 101 Switching Protocols", is_101),
    (r"the answer is not 101", is_not_101),
    (r"the answer's status should be (\d{3})", status_should_be),
    (
        r#"the answer has the header "([^"]+)" with the value "([^"]*)""#,
        header_value,
    ),
    (r#"the answer has no "([^"]+)" header"#, no_header),
    (r#"the answer has exactly one "([^"]+)" header"#, one_header),
    (r#"the answer selects the subprotocol "([^"]+)""#, selects),
    (
        r"the answer's Sec-WebSocket-Accept matches the key",
        accept_matches,
    ),
    (
        r"the client sends half of a SIP upgrade request and then nothing",
        send_half,
    ),
    (
        r"whether the target closes the connection within (\d+) timeouts is recorded",
        stalled_close_recorded,
    ),
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

fn connect_ws<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(connect(w, false))
}

/// TCP to the WSS port without TLS: what a server must not answer in plain text
/// (RFC 6455 §4.2.2 (1)).
fn connect_wss_plain<'a>(
    w: &'a mut World,
    _: Vec<String>,
    _: &'a CaseStep,
) -> super::StepFuture<'a> {
    step!(async move {
        let Some(ep) = w.target.wss.clone() else {
            return Err(StepError::Skip("the target has no wss:// endpoint".into()));
        };
        let addr = crate::target::resolve(&ep)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        let probe = crate::wire::Probe::connect(addr)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        w.add_conn("main", probe);
        Ok(())
    })
}

fn connect_wss<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(connect(w, true))
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
    let probe = w
        .conn("main")
        .ok_or_else(|| StepError::harness("no connection to send on"))?;
    let answer = probe
        .upgrade(&req, timeout)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    w.answer = Some(answer);
    Ok(())
}

fn send_default<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let req = base_request(w);
        send(w, req).await
    })
}

/// Table rows: `| set | Header | value |`, `| add | Header | value |`, `| remove | Header | |`,
/// `| method | POST | |`, `| version | HTTP/1.0 | |`, `| target | /nope | |`.
fn send_changed<'a>(w: &'a mut World, _: Vec<String>, s: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
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
    })
}

fn describe(r: &Option<Received>) -> String {
    match r {
        Some(r) => crate::world::describe(r),
        None => "nothing (no request was sent)".into(),
    }
}

fn http(w: &World) -> Result<&ResponseHead, StepError> {
    match &w.answer {
        Some(Received::Http { head, .. }) => Ok(head),
        other => Err(StepError::broken(format!(
            "expected an HTTP answer, got {}",
            describe(other)
        ))),
    }
}

fn is_101<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let head = http(w)?;
        if head.status() == 101 {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "expected 101 Switching Protocols, got {}",
                describe(&w.answer)
            )))
        }
    })
}

/// Refusal in any form a server may choose (an HTTP error or closing the connection, RFC 6455
/// §4.2.1, §10.7); which one is recorded as the observation.
fn is_not_101<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let seen = describe(&w.answer);
        match &w.answer {
            Some(Received::Http { status: 101, .. }) => Err(StepError::broken(
                "the target accepted the handshake with 101 Switching Protocols",
            )),
            Some(Received::Timeout) | None => Err(StepError::broken(format!(
                "the target neither refused nor closed: {seen}"
            ))),
            _ => {
                w.observe(format!("refused with {seen}"));
                Ok(())
            }
        }
    })
}

fn status_should_be<'a>(
    w: &'a mut World,
    a: Vec<String>,
    _: &'a CaseStep,
) -> super::StepFuture<'a> {
    step!(async move {
        let want: u16 = a[0].parse().map_err(|_| StepError::harness("bad status"))?;
        match &w.answer {
            Some(Received::Http { status, .. }) if *status == want => Ok(()),
            other => Err(StepError::should(format!(
                "the status should be {want}; got {}",
                describe(other)
            ))),
        }
    })
}

/// Does a comma-separated header list contain `value` (exactly, after trimming)?
fn list_contains(head: &ResponseHead, name: &str, value: &str) -> bool {
    let values = head.headers().values(name);
    list_elements(&values)
        .iter()
        .any(|e| e.bytes == value.as_bytes())
}

fn header_value<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let head = http(w)?;
        if list_contains(head, &a[0], &a[1]) {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the answer's {} header does not hold {:?}",
                a[0], a[1]
            )))
        }
    })
}

fn no_header<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let Ok(head) = http(w) else {
            // No HTTP answer at all certainly carries no such header.
            return Ok(());
        };
        match head.headers().count(&a[0]) {
            0 => Ok(()),
            _ => Err(StepError::broken(format!(
                "the answer carries {}: {}",
                a[0],
                head.headers()
                    .get(&a[0])
                    .and_then(|h| h.value_str())
                    .unwrap_or("(not text)")
            ))),
        }
    })
}

fn one_header<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let head = http(w)?;
        match head.headers().count(&a[0]) {
            1 => Ok(()),
            n => Err(StepError::broken(format!(
                "the answer has {n} {} headers",
                a[0]
            ))),
        }
    })
}

/// RFC 6455 §4.2.2 (4) /subprotocol/ and RFC 7118 §4.1: exactly one Sec-WebSocket-Protocol,
/// holding exactly the token (case-sensitive, RFC 7936 §2).
fn selects<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let head = http(w)?;
        let values: Vec<String> = head
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .map(|h| String::from_utf8_lossy(h.value()).trim().to_string())
            .collect();
        if values.len() == 1 && values[0] == a[0] {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "expected exactly one Sec-WebSocket-Protocol: {}; got {values:?}",
                a[0]
            )))
        }
    })
}

fn accept_matches<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let key = w.key.clone().unwrap_or_else(|| EXAMPLE_KEY.to_string());
        let expected = accept_key_for(key.trim().as_bytes());
        let head = http(w)?;
        let got: Vec<String> = head
            .headers()
            .get_all("Sec-WebSocket-Accept")
            .map(|h| String::from_utf8_lossy(h.value()).trim().to_string())
            .collect();
        if got == [expected.clone()] {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "Sec-WebSocket-Accept should be {expected} (RFC 6455 §4.2.2); got {got:?}"
            )))
        }
    })
}

/// The request line and the first header of a valid SIP upgrade request, then silence: a
/// handshake that never completes (RFC 6455 §10; row 6455-10-a).
fn send_half<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> super::StepFuture<'a> {
    step!(async move {
        let bytes = base_request(w).to_bytes();
        let half = bytes.len() / 2;
        let probe = w
            .conn("main")
            .ok_or_else(|| StepError::harness("no connection to send on"))?;
        probe
            .send(&bytes[..half], "half of a SIP upgrade request")
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        w.ext::<StalledSince>().0 = Some(tokio::time::Instant::now());
        Ok(())
    })
}

/// When the half request went out.
#[derive(Default)]
struct StalledSince(Option<tokio::time::Instant>);

/// Waits up to `n` timeouts for the target to end the stalled handshake and records what it
/// did and when; never a failure (the limit is the implementation's, RFC 6455 §10).
fn stalled_close_recorded<'a>(
    w: &'a mut World,
    a: Vec<String>,
    _: &'a CaseStep,
) -> super::StepFuture<'a> {
    step!(async move {
        let n: u32 = a[0].parse().map_err(|_| StepError::harness("bad count"))?;
        let wait = w.target.timeout * n;
        let since = w
            .ext::<StalledSince>()
            .0
            .ok_or_else(|| StepError::harness("no half request was sent"))?;
        let probe = w
            .conn("main")
            .ok_or_else(|| StepError::harness("no connection"))?;
        let got = probe
            .read_http(wait)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?;
        let after = since.elapsed().as_secs_f64();
        let seen = match &got {
            Received::Closed => format!("closed the connection after {after:.1} s"),
            Received::Timeout => format!("kept the connection open for {wait:?} (still open)"),
            other => format!(
                "answered {} after {after:.1} s",
                crate::world::describe(other)
            ),
        };
        w.observe(format!("stalled handshake: the target {seen}"));
        Ok(())
    })
}
