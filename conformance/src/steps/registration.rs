//! Steps of registering at the target (RFC 3261 §10.3, RFC 7118 §5 and §8.1): a device
//! registering over WS or WSS, the contacts the 200 lists and their parameters, the answer to a
//! too brief expiry (§10.3 step 7), the error a request that must not be delivered gets, and
//! recording a final response. The judgements are [`crate::judge::registration`]'s.
//!
//! "The response's Contact for "alice"" is the Contact whose URI host is the `.invalid` host
//! of connection "alice" (the `{host}` placeholder of the messages it sends): one connection is
//! one device of the user. Registering a device remembers the GRUUs its 200 gave
//! ([`Learned`]), for the GRUU steps. Waits are those of [`World::next_response`], each
//! bounded by the target's timeout.

use crate::judge::gruu::gruu_param;
use crate::judge::registration as judge;
use crate::judge::sip::status;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;
use crate::world::registrar::{Learned, device_register_text, poll_response};

pub const STEPS: &[StepDef<World>] = &[
    REGISTERED_OVER,
    LISTS_CONTACTS,
    CONTACT_HAS_PARAM,
    CONTACT_PARAM_VALUE,
    NO_CONTACT_FOR,
    ERROR_PREFERABLY,
    SHORT_EXPIRY,
    RECORD_FINAL,
];

/// The device registers on a connection of its own name (opened over the named transport if
/// needed) and remembers the GRUUs of its Contact in the 200 (RFC 5627 §5.2).
const REGISTERED_OVER: StepDef<World> = step!(
    r#""(?<conn>\w+)" is registered over (?<transport>WS|WSS)"#,
    registered_over
);
async fn registered_over(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let name = a.conn("conn");
    let transport = a.text("transport")?;
    let secure = transport == "WSS";
    if w.conn(&name).is_none() {
        w.open_sip(&name, secure).await?;
    } else if w.is_secure(&name) != secure {
        return Err(StepError::harness(format!(
            "{name} is already open, but not over {transport}"
        )));
    }
    let text = device_register_text(w, &name, transport);
    w.send_sip(&name, &text, false).await?;
    let resp = w.next_final(&name).await?;
    judge::judge_registered(&resp, &name, transport)?;
    let host = w.conn_host(&name);
    // A 200 without GRUUs still registers: the GRUU cases judge their absence.
    let (public, temp) = judge::contact_for(&resp, &host, &name)
        .map(|c| {
            (
                gruu_param(c, "pub-gruu", true).ok(),
                gruu_param(c, "temp-gruu", false).ok(),
            )
        })
        .unwrap_or((None, None));
    w.ext::<Learned>().remember(&name, &resp, public, temp);
    Ok(())
}

const LISTS_CONTACTS: StepDef<World> = step!(
    r"the response lists (?<count>\d+) contacts?",
    lists_contacts
);
async fn lists_contacts(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let want = a.parse("count")?;
    judge::check_contact_count(w.last_response()?, want)
}

const CONTACT_HAS_PARAM: StepDef<World> = step!(
    r#"the response's Contact for "(?<conn>\w+)" has the parameter "(?<param>[^"]+)""#,
    contact_has_param
);
async fn contact_has_param(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let host = w.conn_host(&conn);
    let c = judge::contact_for(w.last_response()?, &host, &conn)?;
    judge::check_param(c, a.text("param")?, None, &conn)
}

const CONTACT_PARAM_VALUE: StepDef<World> = step!(
    r#"the response's Contact for "(?<conn>\w+)" has the parameter "(?<param>[^"]+)" with the value "(?<value>[^"]*)""#,
    contact_param_value
);
async fn contact_param_value(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let host = w.conn_host(&conn);
    let c = judge::contact_for(w.last_response()?, &host, &conn)?;
    judge::check_param(c, a.text("param")?, Some(a.text("value")?), &conn)
}

const NO_CONTACT_FOR: StepDef<World> = step!(
    r#"the response has no Contact for "(?<conn>\w+)""#,
    no_contact_for
);
async fn no_contact_for(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let host = w.conn_host(&conn);
    judge::no_contact(w.last_response()?, &host, &conn)
}

/// An error is required; the codes named are the preferred ones (another error is a warning).
const ERROR_PREFERABLY: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives an error response, preferably (?<status>\d{3})(?: or (?<or_status>\d{3}))?"#,
    error_preferably
);
async fn error_preferably(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let mut preferred = vec![a.parse::<u16>("status")?];
    preferred.extend(a.parse_opt::<u16>("or_status")?);
    let resp = w.next_final(&a.conn("conn")).await?;
    let seen = judge::judge_error(status(&resp).unwrap_or(0), &preferred)?;
    w.observe(seen);
    Ok(())
}

const SHORT_EXPIRY: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a 423 whose Min-Expires exceeds (?<expires>\d+), or a 200"#,
    short_expiry
);
async fn short_expiry(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let requested = a.parse("expires")?;
    let resp = w.next_final(&a.conn("conn")).await?;
    let seen = judge::judge_short_expiry(&resp, requested)?;
    w.observe(seen);
    Ok(())
}

/// Records the final answer, or that none came within the timeout (the request was dropped).
const RECORD_FINAL: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a final response, which is recorded"#,
    record_final
);
async fn record_final(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    for _ in 0..8 {
        let Some(resp) = poll_response(w, &conn).await? else {
            w.observe("no answer within the timeout: the request was dropped");
            return Ok(());
        };
        if status(&resp).is_some_and(|c| c >= 200) {
            w.observe(judge::describe_answer(&resp));
            w.last_response = Some(resp);
            return Ok(());
        }
    }
    Err(StepError::broken(format!(
        "{conn} received only provisional responses"
    )))
}
