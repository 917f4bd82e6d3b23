//! Shared SIP-level steps: open SIP WebSocket connections, send SIP messages written in the
//! feature (with placeholders), register users, read requests and responses, answer them.
//!
//! Placeholders in message text (each scenario gets its own values, so cases running at the
//! same time never share an AoR): `{domain}` the target's SIP domain; `{alice}`, `{bob}`,
//! `{carol}` user names unique to the scenario; `{host}` the `.invalid` host of the
//! connection sending; `{branch}` a fresh `z9hG4bK` branch per message; `{call-id}` and
//! `{tag}` fixed per scenario; `{n}` a fresh number per message. Lines are joined with CRLF and
//! the header section is closed for you when the text has no blank line.

use sipws_reference::sip::Message;

use super::{StepError, StepFn, StepFuture, StepResult};
use crate::step;
use crate::suite::CaseStep;
use crate::wire::{RawFrame, Received, UpgradeRequest};
use crate::world::World;

pub const STEPS: &[(&str, StepFn)] = &[
    (r#"an open SIP WebSocket connection(?: "(\w+)")?"#, open_ws),
    (
        r#"an open secure SIP WebSocket connection(?: "(\w+)")?"#,
        open_wss,
    ),
    (r#""(\w+)" is registered"#, registered),
    (r#""(\w+)" sends(?: as a (text|binary) frame)?:"#, sends),
    (
        r#""(\w+)" receives a response with status (\d{3})"#,
        receives_response,
    ),
    (r#""(\w+)" receives an? ([A-Z]+) request"#, receives_request),
    (r#""(\w+)" answers (\d{3})"#, answers),
    (
        r#"the response has the header "([^"]+)""#,
        response_has_header,
    ),
    (
        r#"the response has no "([^"]+)" header"#,
        response_lacks_header,
    ),
    (
        r#"nothing arrives on "(\w+)" within the timeout"#,
        nothing_arrives,
    ),
    (r#""(\w+)" closes (?:the|its) connection"#, closes),
];

fn name(a: &[String], i: usize) -> String {
    a.get(i)
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "main".into())
}

/// Open a connection and complete a SIP upgrade on it.
pub async fn open(w: &mut World, conn: &str, secure: bool) -> StepResult {
    let target = w.target.clone();
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
    let ep = if secure { &target.wss } else { &target.ws };
    let req = match ep {
        Some(ep) => UpgradeRequest::sip(&ep.authority(), &ep.resource),
        None => UpgradeRequest::sip("localhost", "/"),
    };
    match probe
        .upgrade(&req, target.timeout)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?
    {
        Received::Http { status: 101, .. } => {}
        other => {
            return Err(StepError::harness(format!(
                "could not open a SIP WebSocket connection: {other:?}"
            )));
        }
    }
    w.add_sip_conn(conn, probe, secure);
    Ok(())
}

fn open_ws<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { open(w, &name(&a, 0), false).await })
}

fn open_wss<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { open(w, &name(&a, 0), true).await })
}

/// The Outbound REGISTER RFC 7118 §8.1 F3 shows, for `user` on connection `conn`.
pub fn register_text(w: &mut World, user: &str, conn: &str) -> String {
    let transport = if w.is_secure(conn) { "WSS" } else { "WS" };
    w.render(
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

/// Send SIP text on a connection as one WS message.
pub async fn send_sip(w: &mut World, conn: &str, text: &str, binary: bool) -> StepResult {
    let frame = if binary {
        RawFrame::binary(text.as_bytes().to_vec())
    } else {
        RawFrame::text(text.as_bytes().to_vec())
    };
    let probe = w
        .conn(conn)
        .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))?;
    probe
        .send_frame(&frame)
        .await
        .map_err(|e| StepError::harness(e.to_string()))
}

fn registered<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let user = a[0].clone();
        if w.conn(&user).is_none() {
            open(w, &user, false).await?;
        }
        let text = register_text(w, &user, &user);
        send_sip(w, &user, &text, false).await?;
        let resp = w.next_response(&user).await?;
        match resp.status_line().map(|s| s.code) {
            Some(200) => Ok(()),
            other => Err(StepError::harness(format!(
                "registering {user} got {other:?}, not 200"
            ))),
        }
    })
}

fn sends<'a>(w: &'a mut World, a: Vec<String>, s: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = name(&a, 0);
        let doc = s
            .docstring
            .as_ref()
            .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
        let text = w.render(doc, &conn);
        send_sip(w, &conn, &text, a.get(1).is_some_and(|k| k == "binary")).await
    })
}

fn receives_response<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = name(&a, 0);
        let want: u16 = a[1].parse().map_err(|_| StepError::harness("bad status"))?;
        let resp = w.next_response(&conn).await?;
        let got = resp.status_line().map(|s| s.code);
        w.last_response = Some(resp);
        if got == Some(want) {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "expected status {want}, got {got:?}"
            )))
        }
    })
}

fn receives_request<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = name(&a, 0);
        let req = w.next_request(&conn).await?;
        let method = req.method().map(|m| m.to_string());
        w.last_request.insert(conn.clone(), req);
        if method.as_deref() == Some(a[1].as_str()) {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "expected a {} request, got {method:?}",
                a[1]
            )))
        }
    })
}

fn answers<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = name(&a, 0);
        let code: u16 = a[1].parse().map_err(|_| StepError::harness("bad status"))?;
        let req = w.last_request.get(&conn).cloned().ok_or_else(|| {
            StepError::harness(format!("{conn} has received no request to answer"))
        })?;
        let resp = sipws_reference::proxy::response::response(&req, code, "answered", Vec::new());
        let bytes = resp.to_bytes();
        let probe = w
            .conn(&conn)
            .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))?;
        probe
            .send_frame(&RawFrame::text(bytes))
            .await
            .map_err(|e| StepError::harness(e.to_string()))
    })
}

fn last_response(w: &World) -> Result<&Message, StepError> {
    w.last_response
        .as_ref()
        .ok_or_else(|| StepError::harness("no response was received yet"))
}

fn response_has_header<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let resp = last_response(w)?;
        let name = sipws_reference::sip::HeaderName::parse(&a[0]);
        if resp.value(&name).is_some() {
            Ok(())
        } else {
            Err(StepError::broken(format!(
                "the response has no {} header",
                a[0]
            )))
        }
    })
}

fn response_lacks_header<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let resp = last_response(w)?;
        let name = sipws_reference::sip::HeaderName::parse(&a[0]);
        match resp.value(&name) {
            None => Ok(()),
            Some(v) => Err(StepError::broken(format!(
                "the response carries {}: {v}",
                a[0]
            ))),
        }
    })
}

fn nothing_arrives<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = name(&a, 0);
        let timeout = w.target.timeout;
        let probe = w
            .conn(&conn)
            .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))?;
        match probe
            .read_message(timeout)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?
        {
            Received::Timeout => Ok(()),
            other => Err(StepError::broken(format!(
                "expected nothing on {conn}, got {}",
                crate::world::describe(&other)
            ))),
        }
    })
}

/// Close a connection the way a client does (Close 1000) and wait, bounded by the timeout, for
/// the target's Close or TCP close (RFC 6455 §5.5.1), so the target has seen the flow end
/// before the next step judges what it does about it. How it closes is the framing features'
/// business: a Close without the TCP close is only recorded; no answer at all means the case
/// cannot know the flow is gone, a harness error rather than a verdict on later steps.
pub async fn close(w: &mut World, conn: &str) -> StepResult {
    let timeout = w.target.timeout;
    let probe = w
        .conn(conn)
        .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))?;
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
                w.observe(format!(
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

fn closes<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { close(w, &name(&a, 0)).await })
}
