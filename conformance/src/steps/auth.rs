//! Steps of SIP digest authentication at the registrar (RFC 3261 §22, RFC 8760; RFC 7118 §7
//! lets a WebSocket registrar demand it). The judgements are [`crate::judge::auth`]'s; the
//! exchange of each connection is kept in [`AuthExchange`].
//!
//! In the `@needs:auth` cases, "sends a REGISTER for the profile's user" registers
//! `sip:<auth user>@{domain}`, "another user's AoR" a user unique to the scenario; "answers the
//! challenge" re-sends that REGISTER (CSeq+1, new branch) with credentials for the challenge
//! the reference client would pick (SHA-256 first). Without credentials in the profile those
//! steps skip.

use sipws_reference::sip::Message;

use crate::judge::auth as judge;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;
use crate::world::registrar::{AuthExchange, auth_register_text, with_credentials};

pub const STEPS: &[StepDef<World>] = &[
    OK_OR_CHALLENGE,
    AUTH_REGISTER,
    DIGEST_CHALLENGE,
    OFFERS_SHA256,
    ANSWER_CHALLENGE,
];

/// Either answer conforms (RFC 7118 §7); which one the target chose is recorded.
const OK_OR_CHALLENGE: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a 200 or an authentication challenge"#,
    ok_or_challenge
);
async fn ok_or_challenge(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let resp = w.next_final(&a.conn("conn")).await?;
    let seen = judge::judge_auth(&resp)?;
    w.observe(seen);
    Ok(())
}

const AUTH_REGISTER: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends a REGISTER for (?<aor>the profile's user|another user's AoR) without credentials"#,
    auth_register
);
async fn auth_register(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let auth = w.target.auth.clone().ok_or_else(|| {
        StepError::Skip("the profile gives no credentials (auth_user, auth_password)".into())
    })?;
    let user = if a.is("aor", "the profile's user") {
        auth.username
    } else {
        w.user("bob")
    };
    let text = auth_register_text(w, &conn, &user);
    let msg = Message::parse(text.as_bytes())
        .map_err(|e| StepError::harness(format!("the REGISTER built does not parse: {e}")))?;
    w.send_sip(&conn, &text, false).await?;
    w.ext::<AuthExchange>().sent.insert(conn, msg);
    Ok(())
}

/// RFC 3261 §22.1, §22.3: the REGISTER without credentials is challenged; the challenge is
/// kept for the next steps.
const DIGEST_CHALLENGE: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a Digest challenge"#,
    digest_challenge
);
async fn digest_challenge(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let resp = w.next_final(&a.conn("conn")).await?;
    let seen = judge::judge_challenge(&resp)?;
    w.observe(seen);
    w.ext::<AuthExchange>().challenge = Some(resp);
    Ok(())
}

const OFFERS_SHA256: StepDef<World> = step!(r"the challenge offers SHA-256", offers_sha256);
async fn offers_sha256(w: &mut World, _: Args, _: &CaseStep) -> StepResult {
    let resp = w
        .ext::<AuthExchange>()
        .challenge
        .as_ref()
        .ok_or_else(|| StepError::harness("no challenge was received yet"))?;
    judge::judge_sha256(resp)
}

/// RFC 3261 §22.2: the REGISTER again, with credentials for the challenge (the right password
/// or a wrong one).
const ANSWER_CHALLENGE: StepDef<World> = step!(
    r#""(?<conn>\w+)" answers the challenge with (?<credentials>the profile's credentials|a wrong password)"#,
    answer_challenge
);
async fn answer_challenge(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let auth = w
        .target
        .auth
        .clone()
        .ok_or_else(|| StepError::Skip("the profile gives no credentials".into()))?;
    let password = if a.is("credentials", "a wrong password") {
        format!("{}-wrong", auth.password)
    } else {
        auth.password
    };
    let ex = w.ext::<AuthExchange>();
    let (Some(sent), Some(resp)) = (ex.sent.get(&conn).cloned(), ex.challenge.clone()) else {
        return Err(StepError::harness(format!(
            "{conn} has no REGISTER and challenge to answer"
        )));
    };
    let branch = w.render("{branch}", &conn).trim().to_string();
    let cnonce = w.render("c{n}", &conn).trim().to_string();
    let req = with_credentials(&sent, &resp, &auth.username, &password, &branch, &cnonce)?;
    let text = String::from_utf8_lossy(&req.to_bytes()).into_owned();
    w.send_sip(&conn, &text, false).await?;
    w.ext::<AuthExchange>().sent.insert(conn, req);
    Ok(())
}
