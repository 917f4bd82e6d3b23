//! Steps of how a request for a flow that is gone ends: at once, in a final error (RFC 3261
//! §16.5: 480 once the bindings are invalidated; RFC 5626 §5.3.1: 430 for a request addressed
//! by a dead flow's token; RFC 5626 §7), with the judgements of [`crate::judge::no_connect`].
//! That the target never dials the client's address instead is the listener's steps' business.

use crate::judge::no_connect as judge;
use crate::judge::sip::status;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    RECEIVES_FINAL,
    RECEIVES_FINAL_ERROR,
    FINAL_STATUS_IS,
    RECEIVES_GONE_FLOW_ANSWER,
];

/// Any final response will do; which one is recorded.
const RECEIVES_FINAL: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a final response within the timeout"#,
    receives_final
);
async fn receives_final(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let code = w.final_response(&conn).await?;
    w.observe(format!("{conn} got {code}"));
    Ok(())
}

const RECEIVES_FINAL_ERROR: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a final error response within the timeout"#,
    receives_final_error
);
async fn receives_final_error(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let code = w.final_response(&a.conn("conn")).await?;
    w.observe(format!("answered {code}"));
    judge::final_error(code)
}

/// Judges the final response the last step read.
const FINAL_STATUS_IS: StepDef<World> = step!(
    r"the final status is (?<first>\d{3}) or (?<second>\d{3})",
    final_status_is
);
async fn final_status_is(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (first, second) = (a.parse("first")?, a.parse("second")?);
    let got = w
        .last_response
        .as_ref()
        .and_then(status)
        .ok_or_else(|| StepError::harness("no final response was read"))?;
    judge::one_of(got, first, second)
}

/// The answer to a request for a flow that is gone, graded by the probed profile (see
/// [`judge::gone_flow_answer`]); no answer at all fails.
const RECEIVES_GONE_FLOW_ANSWER: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives the answer for a flow that is gone(?<token>, routed by its flow token)?"#,
    receives_gone_flow_answer
);
async fn receives_gone_flow_answer(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let code = w.final_response(&a.conn("conn")).await?;
    let by = if a.get("token").is_some() {
        judge::GoneBy::FlowToken
    } else {
        judge::GoneBy::Aor
    };
    let seen = judge::gone_flow_answer(code, by, w.profile.has("outbound"))?;
    w.observe(seen);
    Ok(())
}
