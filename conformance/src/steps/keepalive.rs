//! Steps of keep-alives and liveness: the `CRLF CRLF` keep-alive and its `CRLF` answer
//! (RFC 5626 §5.4, RFC 7118 §6), WebSocket Pings and Pongs (RFC 6455 §5.5.2, §5.5.3), whether
//! the target pings an idle connection, and whether a connection is still open or the
//! target still serves new ones after an abuse (RFC 6455 §10.4).
//!
//! These steps read the connection's log ([`crate::wire::log`]), which answers the target's
//! Pings with Pongs.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use crate::judge::keepalive as judge;
use crate::judge::ws_messages;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::wire::log::{Ev, describe_all};
use crate::wire::{RawFrame, Received, describe};
use crate::world::World;
use crate::world::sip::sip_upgrade;

pub const STEPS: &[StepDef<World>] = &[
    PONG_COMES_BACK,
    KEEPALIVE_ANSWERED,
    KEEPALIVE_RECORDED,
    STILL_OPEN,
    STILL_OPEN_RECORDED,
    STILL_SERVING,
    IDLE_PING_RECORDED,
];

/// The payload is in the language of [`crate::wire::payload`].
const PONG_COMES_BACK: StepDef<World> = step!(
    r#"a Pong carrying (?<payload>.+) comes back(?: on "(?<conn>\w+)")?"#,
    pong_comes_back
);
async fn pong_comes_back(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let want = w.frame_payload(&conn, a.text("payload")?)?;
    let until = w.deadline();
    let target = want.clone();
    w.take_event(
        &conn,
        until,
        move |ev| matches!(ev, Ev::Pong(p) if *p == target),
    )
    .await?;
    let evs = w.frame_log(&conn).events().to_vec();
    let pongs = evs.iter().filter(|e| matches!(e, Ev::Pong(_))).count();
    w.observe(format!("{pongs} Pong(s) came back"));
    judge::pong(&evs, &want)
}

const KEEPALIVE_ANSWERED: StepDef<World> = step!(
    r"the target answers the keep-alive with a CRLF message",
    keepalive_answered
);
async fn keepalive_answered(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let got = w.reaction("main").await?;
    judge::crlf_answer(got.as_ref())
}

const KEEPALIVE_RECORDED: StepDef<World> = step!(
    r"the target's answer to the keep-alive is recorded: CRLF, nothing or a close",
    keepalive_recorded
);
async fn keepalive_recorded(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let got = w.reaction("main").await?;
    let what = ws_messages::reaction(got.as_ref())?;
    w.observe(format!("CRLF CRLF answered with: {what}"));
    Ok(())
}

static ALIVE: AtomicU64 = AtomicU64::new(1);

/// Ping the target and wait for the Pong; the Ping's payload and the events seen meanwhile.
async fn liveness(w: &mut World, conn: &str) -> Result<(Vec<u8>, Vec<Ev>), StepError> {
    let want = format!("alive-{}", ALIVE.fetch_add(1, Ordering::Relaxed)).into_bytes();
    if !w.frame_log(conn).is_closed() {
        let ping = RawFrame::ping(want.clone());
        if let Err(e) = w.probe(conn)?.send_frame(&ping).await {
            return Ok((want, vec![Ev::Bad(format!("a failed write ({e})"))]));
        }
    }
    let until = w.deadline();
    let target = want.clone();
    // The Pong, or the first sign the connection ended; with whatever else is unread.
    let got = w
        .take_event(conn, until, move |ev| {
            matches!(ev, Ev::Pong(p) if *p == target) || matches!(ev, Ev::Close(_) | Ev::Closed)
        })
        .await?;
    let l = w.frame_log(conn);
    let mut seen: Vec<Ev> = got.into_iter().collect();
    seen.extend(l.untaken());
    if l.is_closed() && !seen.contains(&Ev::Closed) {
        seen.push(Ev::Closed);
    }
    Ok((want, seen))
}

const STILL_OPEN: StepDef<World> = step!(
    r#"the connection(?: "(?<conn>\w+)")? is still open"#,
    still_open
);
async fn still_open(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (want, evs) = liveness(w, &a.conn("conn")).await?;
    judge::still_open(&evs, &want)
}

const STILL_OPEN_RECORDED: StepDef<World> = step!(
    r#"whether the connection(?: "(?<conn>\w+)")? is still open is recorded"#,
    still_open_recorded
);
async fn still_open_recorded(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (want, evs) = liveness(w, &a.conn("conn")).await?;
    match judge::still_open(&evs, &want) {
        Ok(()) => w.observe("the connection stayed open"),
        Err(StepError::Broken { message, .. }) => w.observe(message),
        Err(other) => return Err(other),
    }
    Ok(())
}

/// A fresh connection "fresh" and Carol's REGISTER on it: an abuse of one connection must
/// not cost the target its service (RFC 6455 §10.4).
const STILL_SERVING: StepDef<World> = step!(
    r"the target still accepts a new SIP WebSocket connection and answers its REGISTER with 200",
    still_serving
);
async fn still_serving(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let target = w.target.clone();
    let mut p = match target.connect(false).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(StepError::Skip("the target has no ws:// endpoint".into())),
        Err(e) => {
            return Err(StepError::broken(format!(
                "the target no longer accepts connections: {e}"
            )));
        }
    };
    let answer = sip_upgrade(&target, &mut p, false).await?;
    w.add_sip_conn("fresh", p, false);
    if !matches!(answer, Received::Http { status: 101, .. }) {
        return Err(StepError::broken(format!(
            "a new SIP upgrade got {}, not 101",
            describe(&answer)
        )));
    }
    let text = w.register_text("carol", "fresh");
    w.send_sip("fresh", &text, false).await?;
    let until = w.deadline();
    let got = w
        .take_event("fresh", until, |ev| {
            ev.sip()
                .is_some_and(|m| m.status_line().is_some_and(|s| s.code >= 200))
        })
        .await?;
    match got.as_ref().and_then(Ev::sip) {
        Some(resp) => ws_messages::answer(&resp, "REGISTER", Some(200)),
        None => Err(StepError::broken(format!(
            "a REGISTER on a new connection got no answer; the target sent {}",
            describe_all(&w.frame_log("fresh").untaken())
        ))),
    }
}

/// Never a failure: a server may ping idle connections or not (RFC 6455 §5.5.2).
const IDLE_PING_RECORDED: StepDef<World> = step!(
    r"whether the target pings an idle connection within the timeout is recorded",
    idle_ping_recorded
);
async fn idle_ping_recorded(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let started = Instant::now();
    let until = w.deadline();
    let got = w
        .take_event("main", until, |ev| {
            matches!(ev, Ev::Ping(_) | Ev::Close(_) | Ev::Closed)
        })
        .await?;
    let ms = started.elapsed().as_millis();
    w.observe(match got {
        Some(Ev::Ping(_)) => format!("the target pinged the idle connection after {ms} ms"),
        Some(ev) => format!("the target ended the idle connection: {}", ev.describe()),
        None => format!("no Ping from the target within {ms} ms"),
    });
    Ok(())
}
