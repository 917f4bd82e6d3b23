//! Steps of a plain SIP exchange over WebSocket, shared by every feature: open SIP WebSocket
//! connections (RFC 7118 §4.1), send SIP messages written in the feature, register users,
//! read requests and responses, answer them, close (RFC 6455 §5.5.1).
//!
//! Placeholders in message text (each scenario gets its own values, so cases running at the
//! same time never share an AoR): `{domain}` the target's SIP domain; `{alice}`, `{bob}`,
//! `{carol}` user names unique to the scenario; `{host}` the `.invalid` host of the
//! connection sending; `{branch}` a fresh `z9hG4bK` branch per message; `{call-id}` and
//! `{tag}` fixed per scenario; `{n}` a fresh number per message. Lines are joined with CRLF and
//! the header section is closed for you when the text has no blank line.

use sipws_reference::sip::response::response;

use crate::judge::sip as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::RawFrame;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    OPEN_WS,
    OPEN_WSS,
    REGISTERED,
    SENDS,
    RECEIVES_RESPONSE,
    RECEIVES_REQUEST,
    ANSWERS,
    RESPONSE_HAS_HEADER,
    RESPONSE_LACKS_HEADER,
    NOTHING_ARRIVES,
    CLOSES,
];

const OPEN_WS: StepDef<World> = step!(
    r#"an open SIP WebSocket connection(?: "(?<conn>\w+)")?"#,
    open_ws
);
async fn open_ws(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.open_sip(&a.conn("conn"), false).await
}

const OPEN_WSS: StepDef<World> = step!(
    r#"an open secure SIP WebSocket connection(?: "(?<conn>\w+)")?"#,
    open_wss
);
async fn open_wss(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.open_sip(&a.conn("conn"), true).await
}

/// The user registers on a connection of its own name (opened if needed); anything but 200
/// means the case cannot go on, a harness error.
const REGISTERED: StepDef<World> = step!(r#""(?<user>\w+)" is registered"#, registered);
async fn registered(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let user = a.text("user")?;
    if w.conn(user).is_none() {
        w.open_sip(user, false).await?;
    }
    let text = w.register_text(user, user);
    w.send_sip(user, &text, false).await?;
    let resp = w.next_response(user).await?;
    match judge::status(&resp) {
        Some(200) => Ok(()),
        Some(other) => Err(StepError::harness(format!(
            "registering {user} got {other}, not 200"
        ))),
        None => Err(StepError::harness(format!(
            "registering {user} got a request, not 200"
        ))),
    }
}

const SENDS: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends(?: as a (?<kind>text|binary) frame)?:"#,
    sends
);
async fn sends(w: &mut World, a: Args, s: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let doc = s
        .docstring
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
    let text = w.render(doc, &conn);
    w.send_sip(&conn, &text, a.is("kind", "binary")).await
}

const RECEIVES_RESPONSE: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a response with status (?<status>\d{3})"#,
    receives_response
);
async fn receives_response(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let want = a.parse("status")?;
    let resp = w.next_response(&a.conn("conn")).await?;
    let verdict = judge::status_is(&resp, want);
    w.last_response = Some(resp);
    verdict
}

const RECEIVES_REQUEST: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives an? (?<method>[A-Z]+) request"#,
    receives_request
);
async fn receives_request(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let req = w.next_request(&conn).await?;
    let verdict = judge::method_is(&req, a.text("method")?);
    w.last_request.insert(conn, req);
    verdict
}

/// Answers the last request the connection received (RFC 3261 §8.2.6).
const ANSWERS: StepDef<World> = step!(r#""(?<conn>\w+)" answers (?<status>\d{3})"#, answers);
async fn answers(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let code = a.parse("status")?;
    let req =
        w.last_request.get(&conn).cloned().ok_or_else(|| {
            StepError::harness(format!("{conn} has received no request to answer"))
        })?;
    let bytes = response(&req, code, "answered", Vec::new()).to_bytes();
    w.probe(&conn)?
        .send_frame(&RawFrame::text(bytes))
        .await
        .map_err(|e| StepError::harness(e.to_string()))
}

const RESPONSE_HAS_HEADER: StepDef<World> = step!(
    r#"the response has the header "(?<name>[^"]+)""#,
    response_has_header
);
async fn response_has_header(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::has_header(w.last_response()?, a.text("name")?)
}

const RESPONSE_LACKS_HEADER: StepDef<World> = step!(
    r#"the response has no "(?<name>[^"]+)" header"#,
    response_lacks_header
);
async fn response_lacks_header(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::lacks_header(w.last_response()?, a.text("name")?)
}

const NOTHING_ARRIVES: StepDef<World> = step!(
    r#"nothing arrives on "(?<conn>\w+)" within the timeout"#,
    nothing_arrives
);
async fn nothing_arrives(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let timeout = w.target.timeout;
    let got = w
        .probe(&conn)?
        .read_message(timeout)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    judge::nothing(&conn, &got)
}

const CLOSES: StepDef<World> = step!(r#""(?<conn>\w+)" closes (?:the|its) connection"#, closes);
async fn closes(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.close(&a.conn("conn")).await
}
