//! Steps of the harness's listener ([`crate::wire::listener`]), a TCP listener and a UDP
//! socket on one port standing in for a WebSocket client's address: it must see nothing, as a
//! SIP WebSocket server never connects to a client (RFC 7118 §5, Appendix B; RFC 5626 §7;
//! spec/requirements.md A9); or, where a case has the target forward over TCP to it, what it read is
//! judged (RFC 3261 §16.6 item 9, §18.3).

use std::time::Duration;

use sipws_reference::sip::Message;
use tokio::time::Instant;

use crate::judge::forwarding;
use crate::judge::no_connect;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::listener::{Attempt, Listener, TcpRequest, local_ip_towards};
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    STANDS_IN,
    SEES_NOTHING,
    RECEIVES_TCP,
    REQUEST_CONTENT_LENGTH,
];

/// The request the listener read over TCP, for the step that judges it.
#[derive(Default)]
struct ReadRequest(Option<TcpRequest>);

/// Opens the listener on the local address facing the target's WebSocket endpoint (the
/// address a client there would have); the party only names whose address it stands for.
const STANDS_IN: StepDef<World> = step!(
    r#"a listener standing in for "(?<party>\w+)"'s address"#,
    stands_in
);
async fn stands_in(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let target = w.target.clone();
    let ep = target
        .ws
        .as_ref()
        .or(target.wss.as_ref())
        .ok_or_else(|| StepError::Skip("the target has no WebSocket endpoint".into()))?;
    let peer = crate::target::resolve(ep)
        .await
        .map_err(|e| StepError::harness(e.to_string()))?;
    let ip = local_ip_towards(peer)
        .await
        .map_err(|e| StepError::harness(format!("no local address towards {peer}: {e}")))?;
    let listener = Listener::open(ip)
        .await
        .map_err(|e| StepError::harness(format!("binding the listener: {e}")))?;
    w.routing().listener = Some(listener);
    Ok(())
}

/// What reached the listener so far.
fn attempts(w: &mut World) -> Result<Vec<Attempt>, StepError> {
    w.routing()
        .listener
        .as_ref()
        .map(Listener::attempts)
        .ok_or_else(|| StepError::harness("no listener step came first"))
}

/// Watches the listener for the whole timeout; the first attempt breaks the case at once.
const SEES_NOTHING: StepDef<World> =
    step!(r"the listener sees no connection attempt", sees_nothing);
async fn sees_nothing(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let deadline = Instant::now() + w.target.timeout;
    loop {
        no_connect::no_attempt(&attempts(w)?)?;
        if Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits, bounded by the timeout, for a SIP request (and its declared body) on a TCP
/// connection the target opened to the listener.
const RECEIVES_TCP: StepDef<World> = step!(
    r"the listener receives a SIP request over TCP",
    receives_tcp
);
async fn receives_tcp(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let deadline = Instant::now() + w.target.timeout;
    loop {
        let expired = Instant::now() >= deadline;
        if let Some(req) = forwarding::stream_request(&attempts(w)?, expired)? {
            w.ext::<ReadRequest>().0 = Some(req);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const REQUEST_CONTENT_LENGTH: StepDef<World> = step!(
    r#"the request the listener received has a Content-Length matching the body "(?<conn>\w+)" sent"#,
    request_content_length
);
async fn request_content_length(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let req = w
        .ext::<ReadRequest>()
        .0
        .clone()
        .ok_or_else(|| StepError::harness("the listener has read no request"))?;
    let sent = w.routing().sent.get(&conn).cloned().ok_or_else(|| {
        StepError::harness(format!("{conn} sent nothing with routing placeholders"))
    })?;
    let body = Message::parse(sent.as_bytes())
        .map_err(|e| StepError::harness(format!("the harness's own message: {e}")))?
        .body
        .len();
    forwarding::forwarded_over_tcp(&req, body)
}
