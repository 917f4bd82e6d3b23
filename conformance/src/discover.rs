//! Probing a target before the cases run: the exchanges that fill its [`Profile`] (see
//! [`crate::profile`] for what each capability means and how it gates cases).

use std::sync::Arc;

use sipws_reference::sip::response::response;
use sipws_reference::sip::{Message, NameAddr};

use crate::judge::profile::{self as judge, Registration};
use crate::profile::{Finding, Profile, Source};
use crate::step::StepError;
use crate::target::Target;
use crate::wire::RawFrame;
use crate::world::World;

/// The profile of a target: the options first, then the probe, then `--capability`.
pub async fn discover(target: Arc<Target>) -> Profile {
    let mut p = Profile::default();
    let given = |have: bool, yes: &str, no: &str| Finding {
        have,
        how: if have { yes } else { no }.to_string(),
    };
    p.set(
        "wss",
        given(
            target.wss.is_some(),
            "a wss:// URL was given",
            "no wss:// URL was given",
        ),
        Source::Given,
    );
    p.set(
        "udp",
        given(
            target.udp.is_some(),
            "a SIP/UDP address was given",
            "no SIP/UDP address was given (--udp)",
        ),
        Source::Given,
    );
    p.set(
        "auth",
        given(
            target.auth.is_some(),
            "credentials were given",
            "no credentials were given (--auth-user, --auth-password)",
        ),
        Source::Given,
    );
    let mut w = World::new(target.clone());
    if let Err(reason) = probe_sip(&mut w, &mut p).await {
        for name in ["two-users", "outbound", "gruu", "path", "flow-token"] {
            if p.get(name).is_none() {
                p.probed(name, Finding::no(reason.clone()));
            }
        }
    }
    if p.get("ws-wss-same").is_none() {
        let how = match (&target.ws, &target.wss) {
            (Some(_), Some(_)) => "could not be checked: no user registered on ws://",
            _ => "only one of ws:// and wss:// was given",
        };
        p.set(
            "ws-wss-same",
            Finding::no(how),
            if target.ws.is_some() && target.wss.is_some() {
                Source::Probed
            } else {
                Source::Given
            },
        );
    }
    p.declare(&target.capabilities);
    p
}

fn words(e: StepError) -> String {
    match e {
        StepError::Broken { message, .. }
        | StepError::Skip(message)
        | StepError::Harness(message) => message,
    }
}

/// Register `user` on a connection of its own name; the final answer.
async fn register(
    w: &mut World,
    user: &str,
    secure: bool,
    path: Option<&NameAddr>,
) -> Result<Message, String> {
    if w.conn(user).is_none() {
        w.open_sip(user, secure).await.map_err(words)?;
    }
    let mut text = w.register_text(user, user);
    if let Some(path) = path {
        // RFC 3327 §5.1: a UA may put a Path value in its own REGISTER.
        text = text.replacen(
            "Max-Forwards: 70\r\n",
            &format!("Max-Forwards: 70\r\nPath: {path}\r\n"),
            1,
        );
    }
    w.send_sip(user, &text, false).await.map_err(words)?;
    w.next_final(user).await.map_err(words)
}

/// The SIP-side capabilities; `Err` names why none of them could be probed.
async fn probe_sip(w: &mut World, p: &mut Profile) -> Result<(), String> {
    let target = w.target.clone();
    let secure = target.ws.is_none();
    let domain = target.domain.clone();
    let aor = |w: &World, user: &str| format!("{}@{domain}", w.user(user));
    let first = register(w, "alice", secure, None).await?;
    match judge::registration(&first) {
        Registration::Accepted => {}
        Registration::Challenged(status) => {
            return Err(format!(
                "REGISTER for {} got {status}: the target demands authentication",
                aor(w, "alice")
            ));
        }
        Registration::Refused(status) => {
            return Err(format!("REGISTER for {} got {status}", aor(w, "alice")));
        }
    }
    p.probed("outbound", judge::outbound(&first, "alice"));
    let host = w.conn_host("alice");
    p.probed("gruu", judge::gruu(&first, &host, "alice"));

    let probe_path = NameAddr::parse("<sip:path-probe.invalid;lr;ob>")
        .map_err(|e| format!("the Path probe value does not parse: {e}"))?;
    let again = register(w, "alice", secure, Some(&probe_path)).await?;
    p.probed(
        "path",
        match judge::registration(&again) {
            Registration::Accepted => judge::path(&again, &probe_path, "alice"),
            Registration::Challenged(s) | Registration::Refused(s) => Finding::no(format!(
                "REGISTER for {} with a Path value got {s}",
                aor(w, "alice")
            )),
        },
    );

    let second = register(w, "bob", secure, None).await?;
    match judge::registration(&second) {
        Registration::Accepted => p.probed(
            "two-users",
            Finding::yes(format!(
                "{} and {} both registered",
                aor(w, "alice"),
                aor(w, "bob")
            )),
        ),
        Registration::Challenged(s) | Registration::Refused(s) => {
            let why = format!("REGISTER for {} got {s}", aor(w, "bob"));
            p.probed("two-users", Finding::no(why.clone()));
            p.probed("flow-token", Finding::no(why));
            return Ok(());
        }
    }
    p.probed(
        "flow-token",
        match relayed_invite(w).await {
            Ok(rr) => judge::flow_token(&rr, "bob"),
            Err(e) => Finding::no(format!("an INVITE from alice to bob: {e}")),
        },
    );
    if target.ws.is_some() && target.wss.is_some() {
        p.probed("ws-wss-same", same_server(w).await);
    }
    Ok(())
}

/// alice INVITEs bob; bob refuses it with 480 and alice ACKs (RFC 3261 §17.1.1.3): the
/// Record-Route values bob saw.
async fn relayed_invite(w: &mut World) -> Result<Vec<NameAddr>, String> {
    let invite = w.render(
        "INVITE sip:{bob}@{domain} SIP/2.0
Via: SIP/2.0/WS {host};branch={branch}
From: <sip:{alice}@{domain}>;tag=probe{tag}
To: <sip:{bob}@{domain}>
Call-ID: probe-{call-id}
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:{alice}@{host};transport=ws>
Content-Length: 0
",
        "alice",
    );
    w.send_sip("alice", &invite, false).await.map_err(words)?;
    let req = w
        .next_request("bob")
        .await
        .map_err(|e| format!("bob got no INVITE: {}", words(e)))?;
    let rr: Vec<NameAddr> = req.record_routes().cloned().collect();
    let refusal = response(&req, 480, "probe", Vec::new()).to_bytes();
    w.probe("bob")
        .map_err(words)?
        .send_frame(&RawFrame::text(refusal))
        .await
        .map_err(|e| e.to_string())?;
    let answer = w.next_final("alice").await.map_err(words)?;
    let to = answer
        .to()
        .map(|t| t.to_string())
        .unwrap_or_else(|| w.render("<sip:{bob}@{domain}>", "alice"));
    let via = invite
        .lines()
        .find(|l| l.starts_with("Via:"))
        .unwrap_or_default()
        .to_string();
    let ack = w.render(
        &format!(
            "ACK sip:{{bob}}@{{domain}} SIP/2.0
{via}
From: <sip:{{alice}}@{{domain}}>;tag=probe{{tag}}
To: {to}
Call-ID: probe-{{call-id}}
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
"
        ),
        "alice",
    );
    w.send_sip("alice", &ack, false).await.map_err(words)?;
    Ok(rr)
}

/// carol registers on wss://; alice (on ws://) sends her a MESSAGE: does it arrive?
async fn same_server(w: &mut World) -> Finding {
    match register(w, "carol", true, None)
        .await
        .map(|r| judge::registration(&r))
    {
        Ok(Registration::Accepted) => {}
        Ok(Registration::Challenged(s) | Registration::Refused(s)) => {
            return Finding::no(format!("REGISTER on wss:// got {s}"));
        }
        Err(e) => return Finding::no(format!("registering on wss:// failed: {e}")),
    }
    let message = w.render(
        "MESSAGE sip:{carol}@{domain} SIP/2.0
Via: SIP/2.0/WS {host};branch={branch}
From: <sip:{alice}@{domain}>;tag={tag}
To: <sip:{carol}@{domain}>
Call-ID: probe-message-{call-id}
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain
Content-Length: 5

probe",
        "alice",
    );
    if let Err(e) = w.send_sip("alice", &message, false).await {
        return Finding::no(words(e));
    }
    match w.next_request("carol").await {
        Ok(req) => {
            let ok = response(&req, 200, "probe", Vec::new()).to_bytes();
            if let Ok(p) = w.probe("carol") {
                // Best effort: the answer only keeps the target's transaction short.
                let _ = p.send_frame(&RawFrame::text(ok)).await;
            }
            Finding::yes("a MESSAGE from a ws:// user reached a wss:// user")
        }
        Err(e) => Finding::no(format!(
            "a MESSAGE from a ws:// user did not reach a wss:// user ({}): the two URLs are judged apart",
            words(e)
        )),
    }
}
