//! Steps of GRUUs (RFC 5627, RFC 7118 §8.1 F4): the `pub-gruu` and `temp-gruu` a 200 gives a
//! device (§5.2), the public GRUU's shape (§5.1), that a GRUU the client suggested is ignored
//! (§5.1), and sending requests addressed to the GRUUs learned. The judgements are
//! [`crate::judge::gruu`]'s.
//!
//! A step that reads the GRUUs of a 200 remembers them under the connection's name
//! ([`Learned`]), so a later `"bob" sends, with the GRUUs filled in:` can address them:
//! `{pub-gruu:alice}`, `{temp-gruu:alice}` (the latest temporary GRUU) and
//! `{previous-temp-gruu:alice}` (the one before it, to check that a new Call-ID invalidated
//! it). The usual placeholders of [`World::render`] work too.

use crate::judge::gruu as judge;
use crate::judge::registration::contact_for;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;
use crate::world::registrar::Learned;

pub const STEPS: &[StepDef<World>] = &[SENDS_WITH_GRUUS, CARRIES_GRUUS, PUB_GRUU_IS, GRUU_IS_NOT];

const SENDS_WITH_GRUUS: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends, with the GRUUs filled in:"#,
    sends_with_gruus
);
async fn sends_with_gruus(w: &mut World, a: Args, s: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let doc = s
        .docstring
        .as_ref()
        .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
    let filled = w.ext::<Learned>().fill_gruus(doc)?;
    let text = w.render(&filled, &conn);
    w.send_sip(&conn, &text, false).await
}

const CARRIES_GRUUS: StepDef<World> = step!(
    r#"the response's Contact for "(?<conn>\w+)" carries a pub-gruu and a temp-gruu"#,
    carries_gruus
);
async fn carries_gruus(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let host = w.conn_host(&conn);
    let resp = w.last_response()?.clone();
    let c = contact_for(&resp, &host, &conn)?;
    let (public, temp) = judge::check_gruus(c)?;
    w.ext::<Learned>()
        .remember(&conn, &resp, Some(public), Some(temp));
    Ok(())
}

/// The expected URI is written with the placeholders of [`World::render`] for the connection.
const PUB_GRUU_IS: StepDef<World> = step!(
    r#"the pub-gruu of "(?<conn>\w+)" is "(?<uri>[^"]+)""#,
    pub_gruu_is
);
async fn pub_gruu_is(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let expected = w.render(a.text("uri")?, &conn).trim().to_string();
    let got = w
        .ext::<Learned>()
        .gruus(&conn)
        .and_then(|g| g.public.clone())
        .ok_or_else(|| StepError::harness(format!("no earlier step read a pub-gruu for {conn}")))?;
    judge::check_pub_gruu(&got, &expected)
}

const GRUU_IS_NOT: StepDef<World> = step!(
    r#"the (?<kind>pub-gruu|temp-gruu) of "(?<conn>\w+)" is not "(?<uri>[^"]+)""#,
    gruu_is_not
);
async fn gruu_is_not(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let kind = a.text("kind")?;
    let conn = a.conn("conn");
    let suggested = w.render(a.text("uri")?, &conn).trim().to_string();
    let g = w.ext::<Learned>().gruus(&conn);
    let got = match kind {
        "pub-gruu" => g.and_then(|g| g.public.clone()),
        _ => g.and_then(|g| g.latest_temp().cloned()),
    }
    .ok_or_else(|| StepError::harness(format!("no earlier step read a {kind} for {conn}")))?;
    judge::check_not_suggested(kind, &got, &suggested)
}
