//! Steps judging what a record-routing proxy forwarded to a party, a WebSocket connection or
//! a UDP phone: the Record-Route values of the INVITE (RFC 3261 §16.6 item 4, RFC 5658 §6.2,
//! RFC 7118 §5.2 and §8.2, spec/requirements.md A1) and of the 2xx coming back (§16.7 item 8), and the
//! forwarded request's own Via, Max-Forwards, Route and Content-Length (RFC 3261 §16.4,
//! §16.6). The judgements are [`crate::judge::record_route`]'s and
//! [`crate::judge::forwarding`]'s; a UDP phone's message is attached to a broken one as
//! evidence, since its datagrams are in no transcript.

use sipws_reference::sip::{Message, NameAddr, Via};

use crate::judge::forwarding;
use crate::judge::record_route as judge;
use crate::judge::sip::status;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    COUNT,
    PRESENT,
    TRANSPORTS,
    NO_TLS,
    ALL_SIPS,
    WEBSOCKET,
    USER_PART,
    UNCHANGED,
    NEW_TOP_VIA,
    MAX_FORWARDS,
    NO_ROUTE,
    CONTENT_LENGTH,
];

fn record_routes(m: &Message) -> Vec<NameAddr> {
    m.record_routes().cloned().collect()
}

const COUNT: StepDef<World> = step!(
    r#"the INVITE "(?<party>\w+)" received carries at least (?<count>\d+) Record-Route values?"#,
    count
);
async fn count(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let want = a.parse("count")?;
    w.judge_received("INVITE", a.text("party")?, |_, m| {
        judge::count(&record_routes(m), want)
    })
}

const PRESENT: StepDef<World> = step!(
    r#"the INVITE "(?<party>\w+)" received carries a Record-Route of the target"#,
    present
);
async fn present(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.judge_received("INVITE", a.text("party")?, |w, m| {
        w.observe(judge::present(&record_routes(m))?);
        Ok(())
    })
}

/// `udp then ws`, `ws then ws or wss`: one transport (or alternatives) per value, top first.
const TRANSPORTS: StepDef<World> = step!(
    r#"the Record-Route transports of the INVITE "(?<party>\w+)" received are (?<transports>.+)"#,
    transports
);
async fn transports(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let spec = judge::parse_transport_spec(a.text("transports")?);
    w.judge_received("INVITE", a.text("party")?, |w, m| {
        for c in judge::transports(&record_routes(m), &spec)? {
            w.observe(c);
        }
        Ok(())
    })
}

const NO_TLS: StepDef<World> = step!(
    r#"no Record-Route value facing a WebSocket hop of the INVITE "(?<party>\w+)" received has transport=tls"#,
    no_tls
);
async fn no_tls(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.judge_received("INVITE", a.text("party")?, |w, m| {
        let rr = record_routes(m);
        judge::no_tls(&rr)?;
        w.observe(format!("Record-Route: {}", judge::list(&rr)));
        Ok(())
    })
}

const ALL_SIPS: StepDef<World> = step!(
    r#"every Record-Route value of the INVITE "(?<party>\w+)" received is a sips: URI"#,
    all_sips
);
async fn all_sips(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.judge_received("INVITE", a.text("party")?, |_, m| {
        judge::all_sips(&record_routes(m))
    })
}

const WEBSOCKET: StepDef<World> = step!(
    r#"the Record-Route values facing the WebSocket hops of the INVITE "(?<party>\w+)" received name a WebSocket transport"#,
    websocket
);
async fn websocket(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.judge_received("INVITE", a.text("party")?, |w, m| {
        let styles = judge::ws_transports(&record_routes(m))?;
        w.observe(format!("WebSocket hops written as {}", styles.join(", ")));
        Ok(())
    })
}

const USER_PART: StepDef<World> = step!(
    r#"the Record-Route value with transport=(?<transport>\w+) of the INVITE "(?<party>\w+)" received has a user part"#,
    user_part
);
async fn user_part(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let transport = a.text("transport")?.to_ascii_lowercase();
    w.judge_received("INVITE", a.text("party")?, |w, m| {
        let user = judge::user_part(&record_routes(m), &transport)?;
        w.observe(format!("flow token {user}"));
        Ok(())
    })
}

/// Compares the Record-Route of the 200 the caller read last with the one of the INVITE the
/// callee received.
const UNCHANGED: StepDef<World> = step!(
    r#"the Record-Route of the 200 "(?<caller>\w+)" received is the one "(?<callee>\w+)" received"#,
    unchanged
);
async fn unchanged(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let caller = a.text("caller")?;
    let resp = w
        .last_response
        .clone()
        .filter(|r| status(r) == Some(200))
        .ok_or_else(|| StepError::harness(format!("{caller} has read no 200")))?;
    w.judge_received("INVITE", a.text("callee")?, |_, m| {
        judge::unchanged(&record_routes(&resp), &record_routes(m))
    })
}

const NEW_TOP_VIA: StepDef<World> = step!(
    r#"the (?<method>[A-Z]+) "(?<party>\w+)" received has a new top Via with transport (?<transport>\w+) above the Via of "(?<sender>\w+)""#,
    new_top_via
);
async fn new_top_via(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let sender_host = w.conn_host(a.text("sender")?);
    let transport = a.text("transport")?;
    w.judge_received(a.text("method")?, a.text("party")?, |_, m| {
        let vias: Vec<Via> = m.vias().cloned().collect();
        forwarding::new_via(&vias, transport, &sender_host)
    })
}

/// The Max-Forwards the sender wrote, less one for every Via the target added above the
/// sender's (one per proxy inside the target).
const MAX_FORWARDS: StepDef<World> = step!(
    r#"the (?<method>[A-Z]+) "(?<party>\w+)" received has Max-Forwards (?<sent>\d+) less one per Via the target added above "(?<sender>\w+)"'s"#,
    max_forwards
);
async fn max_forwards(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let sent = a.parse("sent")?;
    let sender_host = w.conn_host(a.text("sender")?);
    w.judge_received(a.text("method")?, a.text("party")?, |w, m| {
        let vias: Vec<Via> = m.vias().cloned().collect();
        let added = forwarding::vias_added(&vias, &sender_host).unwrap_or(0);
        w.observe(forwarding::max_forwards(m.max_forwards(), sent, added)?);
        Ok(())
    })
}

const NO_ROUTE: StepDef<World> = step!(
    r#"the (?<method>[A-Z]+) "(?<party>\w+)" received has no Route header"#,
    no_route
);
async fn no_route(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    w.judge_received(a.text("method")?, a.text("party")?, |_, m| {
        forwarding::no_route(&m.routes().cloned().collect::<Vec<_>>())
    })
}

/// Records what the request declared, then judges it against the body that arrived.
const CONTENT_LENGTH: StepDef<World> = step!(
    r#"the (?<method>[A-Z]+) "(?<party>\w+)" received has a Content-Length matching its body"#,
    content_length
);
async fn content_length(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (method, party) = (a.text("method")?, a.text("party")?);
    w.judge_received(method, party, |w, m| {
        let seen = match m.content_length() {
            Some(n) => format!("Content-Length: {n}"),
            None => "no Content-Length".into(),
        };
        w.observe(format!("{method} to {party}: {seen}"));
        forwarding::content_length(m.content_length(), m.body.len())
    })
}
