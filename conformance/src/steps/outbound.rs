//! Steps of SIP Outbound (RFC 5626) and Path (RFC 3327) at the target: the instance a 200
//! returns (RFC 5626 §6, §10), the option tags of its `Require` and `Supported` (RFC 5626 §6),
//! its Path (RFC 3327 §5.3), and a request to an AoR with several flows of one instance
//! reaching exactly one device at a time (RFC 5626 §7), which then answers or stays silent.
//! The judgements are [`crate::judge::outbound`]'s.
//!
//! A device is a connection, its Contact the one whose URI host is the connection's `.invalid`
//! host. Which device received the forked request is remembered ([`Learned`]) for "the device
//! that received the MESSAGE" and "the other device". The polls that accept silence wait the
//! target's timeout.

use sipws_reference::sip::response::response;
use sipws_reference::sip::{Header, HeaderValue};

use crate::judge::outbound as judge;
use crate::judge::registration::contact_for;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;
use crate::world::registrar::{Learned, last_request, poll_request};

pub const STEPS: &[StepDef<World>] = &[
    CONTACT_INSTANCE,
    HEADER_CONTAINS,
    HEADER_LACKS,
    PATH_IS,
    EXACTLY_ONE_RECEIVES,
    DEVICE_ANSWERS,
    OTHER_RECEIVES,
    OTHER_RECEIVES_NOTHING,
];

const CONTACT_INSTANCE: StepDef<World> = step!(
    r#"the response's Contact for "(?<conn>\w+)" has the instance "(?<instance>[^"]+)""#,
    contact_instance
);
async fn contact_instance(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let host = w.conn_host(&conn);
    let c = contact_for(w.last_response()?, &host, &conn)?;
    judge::check_instance(c, a.text("instance")?, &conn)
}

const HEADER_CONTAINS: StepDef<World> = step!(
    r#"the response's "(?<header>[^"]+)" header contains "(?<token>[^"]+)""#,
    header_contains
);
async fn header_contains(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::check_list(
        w.last_response()?,
        a.text("header")?,
        a.text("token")?,
        true,
    )
}

const HEADER_LACKS: StepDef<World> = step!(
    r#"the response's "(?<header>[^"]+)" header does not contain "(?<token>[^"]+)""#,
    header_lacks
);
async fn header_lacks(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    judge::check_list(
        w.last_response()?,
        a.text("header")?,
        a.text("token")?,
        false,
    )
}

const PATH_IS: StepDef<World> = step!(r#"the response's Path is "(?<path>[^"]+)""#, path_is);
async fn path_is(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let path = a.text("path")?;
    let expected = match Header::parse("Path", path).map(|h| h.value) {
        Ok(HeaderValue::Addresses(list)) => list,
        _ => return Err(StepError::harness(format!("not a Path value: {path}"))),
    };
    judge::check_path(w.last_response()?, &expected)
}

/// `one of "a" and "b"`: the request reaches one of the two (waiting on "a" first, then on
/// "b"). `exactly one of`: also makes sure the other got nothing (RFC 5626 §7), which costs one
/// full timeout; list the device the target most likely prefers first to spare the other one.
const EXACTLY_ONE_RECEIVES: StepDef<World> = step!(
    r#"(?<how>exactly one|one) of "(?<first>\w+)" and "(?<second>\w+)" receives the MESSAGE"#,
    exactly_one_receives
);
async fn exactly_one_receives(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let exactly = a.is("how", "exactly one");
    let names = [a.text("first")?, a.text("second")?];
    let first = poll_request(w, names[0]).await?;
    let second = if exactly || first.is_none() {
        poll_request(w, names[1]).await?
    } else {
        None
    };
    let i = judge::judge_one_of([first.as_ref(), second.as_ref()], names)?;
    let req = if i == 0 { first } else { second };
    let (got, other) = (names[i].to_string(), names[1 - i].to_string());
    if let Some(req) = req {
        w.last_request.insert(got.clone(), req);
    }
    w.observe(format!("the MESSAGE went to {got}"));
    w.ext::<Learned>().set_devices(got, other);
    Ok(())
}

/// Answers the request on the device that received it (RFC 3261 §8.2.6).
const DEVICE_ANSWERS: StepDef<World> = step!(
    r"the device that received the MESSAGE answers (?<status>\d{3})",
    device_answers
);
async fn device_answers(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let (got, _) = w.ext::<Learned>().devices()?;
    let code = a.parse("status")?;
    let req = last_request(w, &got)?.clone();
    let resp = response(&req, code, "answered", Vec::new());
    w.send_sip(&got, &String::from_utf8_lossy(&resp.to_bytes()), false)
        .await
}

/// After the first device answered 430 (Flow Failed), the target tries the instance's other
/// flow (RFC 5626 §5.3, §7); that device becomes the one that received the MESSAGE.
const OTHER_RECEIVES: StepDef<World> =
    step!(r"the other device receives the MESSAGE", other_receives);
async fn other_receives(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let (got, other) = w.ext::<Learned>().devices()?;
    let Some(req) = poll_request(w, &other).await? else {
        return Err(StepError::broken(format!(
            "after {got} answered, the request was not tried on {other}'s flow within the \
             timeout"
        )));
    };
    judge::judge_one_of([None, Some(&req)], [&got, &other])?;
    w.last_request.insert(other.clone(), req);
    w.ext::<Learned>().set_devices(other, got);
    Ok(())
}

const OTHER_RECEIVES_NOTHING: StepDef<World> = step!(
    r"the other device receives nothing within the timeout",
    other_receives_nothing
);
async fn other_receives_nothing(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let (got, other) = w.ext::<Learned>().devices()?;
    match poll_request(w, &other).await? {
        None => Ok(()),
        Some(m) => Err(StepError::broken(format!(
            "{other} received a {} after {got} answered: the proxy tried another flow of the \
             same instance (RFC 5626 §7)",
            m.method().map(|x| x.as_str()).unwrap_or("response")
        ))),
    }
}
