//! The send step whose message names addresses only known at run time: a Contact or
//! Request-URI at the listener standing in for a client (RFC 7118 §5, Appendix B), a Route at
//! the target's own endpoints (RFC 3261 §16.4; RFC 7118 §8.2 F1), a Via naming another
//! connection's host. The placeholders (`{listener}`, `{target-ws}`, `{target-wss}`,
//! `{host:NAME}`) are those of [`World::fill_routing`]; the message is kept as sent, for the
//! steps that compare what arrived with it.

use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[SENDS];

const SENDS: StepDef<World> = step!(r#""(?<conn>\w+)" sends, with routing placeholders:"#, sends);
async fn sends(w: &mut World, a: Args, s: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let doc = s
        .docstring
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
    let filled = w.fill_routing(doc)?;
    let text = w.render(&filled, &conn);
    w.routing().sent.insert(conn.clone(), text.clone());
    w.send_sip(&conn, &text, false).await
}
