//! Steps of how the target ends a connection (RFC 6455 §5.5.1, §7.1.1, §7.1.7, §7.4.1): it
//! fails the connection on a protocol violation and with which close code, answers the
//! client's Close with a Close and closes TCP, sends no data after its Close, and never sends
//! a reserved close code.
//!
//! These steps read the connection's log ([`crate::wire::log`]), which checks every Close
//! the target sends as it is read.

use crate::judge::close as judge;
use crate::judge::close::CloseSeen;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::RawFrame;
use crate::wire::log::Ev;
use crate::world::World;
use crate::world::frames::Streamed;

pub const STEPS: &[StepDef<World>] = &[
    FAILS_CONNECTION,
    FAILS_AT_LIMIT_OR_TAKES_IT,
    CLOSE_CODE_SHOULD_BE,
    CLOSE_COMES_BACK,
    CLOSES_TCP,
    NO_DATA_AFTER_CLOSE,
    NO_RESERVED_CLOSE_CODE,
];

/// How the last "fails the connection" on the main connection ended.
#[derive(Default)]
struct Failed(Option<CloseSeen>);

const FAILS_CONNECTION: StepDef<World> =
    step!(r"the target fails the connection", fails_connection);
async fn fails_connection(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    failed(w).await.map(|_| ())
}

/// Reads the main connection to its end and judges that the target failed it (RFC 6455
/// §7.1.7); how it did is kept for the close-code step.
async fn failed(w: &mut World) -> Result<CloseSeen, StepError> {
    let until = w.deadline();
    w.read_to_close("main", until).await?;
    let evs = w.frame_log("main").take_all();
    let seen = judge::failed(&evs)?;
    w.ext::<Failed>().0 = Some(seen);
    w.observe(seen.describe());
    Ok(seen)
}

/// RFC 6455 §10.4 asks a server for a limit on what it buffers, not for any one limit: a
/// target whose limit is above the streamed message takes it whole, one below it fails the
/// connection, 1009 being the code §7.4.1 names for it.
const FAILS_AT_LIMIT_OR_TAKES_IT: StepDef<World> = step!(
    r"the target fails the connection at its size limit, with 1009 as it should, or takes the whole message",
    fails_at_limit_or_takes_it
);
async fn fails_at_limit_or_takes_it(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let whole = w
        .ext::<Streamed>()
        .all_written
        .ok_or_else(|| StepError::harness("no message was streamed before this step"))?;
    if whole {
        w.observe("the target took the whole message: its size limit is above it");
        return Ok(());
    }
    let seen = failed(w).await?;
    judge::close_code(seen, 1009)
}

const CLOSE_CODE_SHOULD_BE: StepDef<World> = step!(
    r"the close code should be (?<code>\d{4})",
    close_code_should_be
);
async fn close_code_should_be(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let want = a.parse("code")?;
    let seen = w
        .ext::<Failed>()
        .0
        .ok_or_else(|| StepError::harness("\"the target fails the connection\" must come first"))?;
    judge::close_code(seen, want)
}

const CLOSE_COMES_BACK: StepDef<World> = step!(r"a Close frame comes back", close_comes_back);
async fn close_comes_back(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let until = w.deadline();
    let close = w
        .take_event("main", until, |ev| matches!(ev, Ev::Close(_)))
        .await?;
    let rest = w.frame_log("main").untaken();
    let seen = judge::answered(close.as_ref(), &rest)?;
    w.observe(seen);
    Ok(())
}

const CLOSES_TCP: StepDef<World> = step!(r"the target closes the TCP connection", closes_tcp);
async fn closes_tcp(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let until = w.deadline();
    let closed = w.read_to_close("main", until).await?;
    judge::tcp_closed(closed, w.target.timeout)
}

const NO_DATA_AFTER_CLOSE: StepDef<World> = step!(
    r"no data frame follows the target's Close",
    no_data_after_close
);
async fn no_data_after_close(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let until = w.deadline();
    w.read_to_close("main", until).await?;
    let frames = w.frame_log("main").frames().to_vec();
    w.observe(format!(
        "{} data message(s) came before the target's Close",
        judge::data_before_close(&frames)
    ));
    judge::no_data_after_close(&frames)
}

/// Row 6455-7.4.1-a over every Close read on any connection of the case.
const NO_RESERVED_CLOSE_CODE: StepDef<World> = step!(
    r"no Close frame from the target carries 1005, 1006 or 1015",
    no_reserved_close_code
);
async fn no_reserved_close_code(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let closes: Vec<RawFrame> = w
        .frame_logs()
        .flat_map(|l| l.frames().iter().filter(|f| f.opcode == 0x8).cloned())
        .collect();
    let seen = judge::no_reserved_code(&closes)?;
    w.observe(seen);
    Ok(())
}
