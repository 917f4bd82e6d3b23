//! Steps of the UDP phone of [`crate::wire::phone`]: a party on the target's SIP/UDP side that
//! registers, receives what the target forwards, answers like RFC 7118 §8.2's Bob and sends
//! in-dialog requests, so a case can judge a proxy switching between WebSocket and UDP
//! (RFC 3261 §16, RFC 5658, RFC 7118 §8.2).

use crate::judge::dialog;
use crate::judge::udp_side as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::phone::Phone;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    REGISTERED,
    RECEIVES,
    ANSWERS,
    RECEIVES_FINAL,
    SENDS_IN_DIALOG,
];

/// Registers `sip:USER@domain` with `Contact: <sip:USER@IP:PORT;transport=udp>` at the target's
/// SIP/UDP address; a skip when the target has none or asks for credentials, a harness error
/// for any other answer (the case cannot go on).
const REGISTERED: StepDef<World> = step!(
    r#"a UDP phone "(?<phone>\w+)" registered with the target"#,
    registered
);
async fn registered(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.text("phone")?;
    let server = w
        .target
        .udp
        .ok_or_else(|| StepError::Skip("the target has no SIP/UDP address".into()))?;
    let mut p = Phone::bind(w.user(name), server).await?;
    let (user, local) = (p.user.clone(), p.local);
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
        name,
    );
    match p.register(&text, w.target.timeout).await? {
        Some(200..=299) => {
            w.routing().phones.insert(name.to_string(), p);
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
}

const RECEIVES: StepDef<World> = step!(
    r#"the UDP phone "(?<phone>\w+)" receives an? (?<method>[A-Z]+)"#,
    receives
);
async fn receives(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.text("phone")?;
    let timeout = w.target.timeout;
    let m = w.phone(name)?.take_request(timeout).await?;
    let got = m.method().map(ToString::to_string).unwrap_or_default();
    judge::request_is(name, &got, a.text("method")?)
}

/// Answers the last request the phone took; a 2xx to an INVITE sets up the callee's dialog
/// (RFC 3261 §12.1.1).
const ANSWERS: StepDef<World> = step!(
    r#"the UDP phone "(?<phone>\w+)" answers (?<status>\d{3})"#,
    answers
);
async fn answers(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.text("phone")?;
    let code = a.parse("status")?;
    let tag = w.placeholder("ph{n}", name);
    let p = w.phone(name)?;
    let (req, from) = p.last.clone().ok_or_else(|| {
        StepError::harness(format!("the UDP phone {name} has no request to answer"))
    })?;
    let contact = format!("<sip:{}@{};transport=udp>", p.user, p.local);
    let resp = dialog::answer(&req, code, &tag, &contact)?;
    p.send(&String::from_utf8_lossy(&resp.to_bytes()), from)
        .await?;
    if dialog::sets_up(&req, code) {
        let d = dialog::uas(&req, &tag)
            .map_err(|e| StepError::broken(format!("the INVITE cannot set up a dialog: {e}")))?;
        w.routing().dialogs.insert(name.to_string(), d);
    }
    Ok(())
}

const RECEIVES_FINAL: StepDef<World> = step!(
    r#"the UDP phone "(?<phone>\w+)" receives a final response with status (?<status>\d{3})"#,
    receives_final
);
async fn receives_final(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.text("phone")?;
    let want = a.parse("status")?;
    let timeout = w.target.timeout;
    let got = w.phone(name)?.final_status(timeout).await?;
    judge::final_is(name, got, want)
}

/// An in-dialog request from the phone's dialog state, sent to the target, the phone's
/// outbound proxy (RFC 3261 §12.2.1.1).
const SENDS_IN_DIALOG: StepDef<World> = step!(
    r#"the UDP phone "(?<phone>\w+)" sends (?<method>[A-Z]+) in the dialog"#,
    sends_in_dialog
);
async fn sends_in_dialog(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.text("phone")?;
    let method = a.text("method")?;
    let local = w.phone(name)?.local;
    let (d, cseq) = w.next_in_dialog(name, method)?;
    let text = dialog::request(
        &d,
        method,
        cseq,
        &format!("SIP/2.0/UDP {local};rport"),
        &d.route_set,
    );
    let text = w.render(&text, name);
    let p = w.phone(name)?;
    p.send(&text, p.server).await
}
