//! Steps of the Via headers the target writes (RFC 7118 §5.1, §5.3 and Appendix B; RFC 3261
//! §16.6 item 8, §18.2.1; RFC 3581 §4; RFC 6223 §4): the transport of the Via it adds to what
//! it forwards over a WebSocket hop, its fresh branch and the sender's Via kept below it, and
//! in a response's top Via `received`, `rport` and `keep`. The judgements are
//! [`crate::judge::via`]'s; where the RFCs allow several answers, the one chosen is recorded.

use crate::judge::via as judge;
use crate::step;
use crate::step::{Args, StepDef, StepResult};
use crate::suite::CaseStep;
use crate::world::World;
use crate::world::registrar::last_request;

pub const STEPS: &[StepDef<World>] = &[
    MESSAGE_VIA_TRANSPORT,
    FRESH_BRANCH,
    KEEPS_VIA,
    RECORD_RECEIVED,
    RPORT_FILLED,
    RECORD_KEEP,
];

/// The request read becomes the connection's last request whatever the verdict, for the Via
/// steps after it.
const MESSAGE_VIA_TRANSPORT: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a MESSAGE whose top Via transport is "(?<transport>[A-Za-z]+)""#,
    message_via_transport
);
async fn message_via_transport(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let req = w.next_request(&conn).await?;
    let judged = judge::judge_message_via(&req, &conn, a.text("transport")?);
    w.last_request.insert(conn, req);
    if let Some(seen) = judged? {
        w.observe(seen);
    }
    Ok(())
}

const FRESH_BRANCH: StepDef<World> = step!(
    r#"the request "(?<conn>\w+)" received has a fresh z9hG4bK branch in its top Via"#,
    fresh_branch
);
async fn fresh_branch(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::check_fresh_branch(last_request(w, &a.conn("conn"))?)
}

const KEEPS_VIA: StepDef<World> = step!(
    r#"the request "(?<conn>\w+)" received keeps the Via of "(?<sender>\w+)" below the target's own"#,
    keeps_via
);
async fn keeps_via(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let sender = a.text("sender")?;
    let host = w.conn_host(sender);
    judge::check_kept_via(last_request(w, &a.conn("conn"))?, &host, sender)
}

const RECORD_RECEIVED: StepDef<World> = step!(
    r#"whether the response's top Via carries "received" is recorded"#,
    record_received
);
async fn record_received(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let seen = judge::judge_received(judge::top_via(w.last_response()?)?)?;
    w.observe(seen);
    Ok(())
}

const RPORT_FILLED: StepDef<World> = step!(
    r#"the response's top Via has "rport" and "received" filled in"#,
    rport_filled
);
async fn rport_filled(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    judge::check_rport(judge::top_via(w.last_response()?)?)
}

const RECORD_KEEP: StepDef<World> = step!(
    r#"whether the response's top Via grants "keep" is recorded"#,
    record_keep
);
async fn record_keep(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let seen = judge::judge_keep(judge::top_via(w.last_response()?)?)?;
    w.observe(seen);
    Ok(())
}
