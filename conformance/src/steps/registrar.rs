//! Steps of the registrar, Outbound and Via features: RFC 3261 §10.3 (registrar), RFC 5626 §6–7
//! (Outbound), RFC 3327 §5.3 (Path), RFC 5627 §5–6 (GRUU), RFC 7118 §5.1, §5.3 and Appendix B,
//! RFC 3581 §4 (`rport`) and RFC 6223 §4 (`keep`).
//!
//! Every judgement is a pure function over parsed messages, unit-tested below on fabricated bad
//! answers; the step functions only fetch what they judge and record what they observe.
//!
//! Conventions:
//! - "The response's Contact for "alice"" is the Contact whose URI host is the `.invalid` host of
//!   connection "alice" (the `{host}` placeholder of the messages it sends): one connection is
//!   one device of the user.
//! - A step that reads the GRUUs of a 200 remembers them under the connection's name, so a later
//!   `"bob" sends, with the GRUUs filled in:` can address them: `{pub-gruu:alice}`,
//!   `{temp-gruu:alice}` (the latest temporary GRUU) and `{previous-temp-gruu:alice}` (the one
//!   before it, to check that a new Call-ID invalidated it). The usual placeholders of
//!   [`World::render`] work too.
//! - Waits are those of [`World::next_response`] / [`World::next_request`]: each bounded by the
//!   target's timeout.
//! - Digest authentication (RFC 3261 §22, RFC 8760; `@needs:auth`): "sends a REGISTER for the
//!   profile's user" registers `sip:<auth user>@{domain}`, "another user's AoR" a user unique
//!   to the scenario; "answers the challenge" re-sends that REGISTER (CSeq+1, new branch)
//!   with credentials for the challenge the reference client would pick (SHA-256 first).

use std::collections::HashMap;
use std::net::IpAddr;

use sipws_reference::proxy::auth::{Algorithm, Challenge, pick_challenge};
use sipws_reference::sip::scan::unquote;
use sipws_reference::sip::{Header, HeaderName, HeaderValue, Host, Message, NameAddr, Uri, Via};

use crate::legacy_step;
use crate::step;
use crate::step::{StepDef, StepError, StepFuture, StepResult};
use crate::suite::CaseStep;
use crate::wire::Received;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    legacy_step!(
        r#""(?<p0>\w+)" is registered over (?<p1>WS|WSS)"#,
        registered_over
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends, with the GRUUs filled in:"#,
        sends_with_gruus
    ),
    legacy_step!(r"the response lists (?<p0>\d+) contacts?", lists_contacts),
    legacy_step!(
        r#"the response's Contact for "(?<p0>\w+)" has the parameter "(?<p1>[^"]+)""#,
        contact_has_param
    ),
    legacy_step!(
        r#"the response's Contact for "(?<p0>\w+)" has the parameter "(?<p1>[^"]+)" with the value "(?<p2>[^"]*)""#,
        contact_param_value
    ),
    legacy_step!(
        r#"the response's Contact for "(?<p0>\w+)" has the instance "(?<p1>[^"]+)""#,
        contact_instance
    ),
    legacy_step!(
        r#"the response has no Contact for "(?<p0>\w+)""#,
        no_contact_for
    ),
    legacy_step!(
        r#"the response's Contact for "(?<p0>\w+)" carries a pub-gruu and a temp-gruu"#,
        carries_gruus
    ),
    legacy_step!(
        r#"the pub-gruu of "(?<p0>\w+)" is "(?<p1>[^"]+)""#,
        pub_gruu_is
    ),
    legacy_step!(
        r#"the response's "(?<p0>[^"]+)" header contains "(?<p1>[^"]+)""#,
        header_contains
    ),
    legacy_step!(
        r#"the response's "(?<p0>[^"]+)" header does not contain "(?<p1>[^"]+)""#,
        header_lacks
    ),
    legacy_step!(r#"the response's Path is "(?<p0>[^"]+)""#, path_is),
    legacy_step!(
        r#""(?<p0>\w+)" receives a MESSAGE whose top Via transport is "(?<p1>[A-Za-z]+)""#,
        message_via_transport
    ),
    legacy_step!(
        r#"the request "(?<p0>\w+)" received has a fresh z9hG4bK branch in its top Via"#,
        fresh_branch
    ),
    legacy_step!(
        r#"the request "(?<p0>\w+)" received keeps the Via of "(?<p1>\w+)" below the target's own"#,
        keeps_via
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives an error response, preferably (?<p1>\d{3})(?: or (?<p2>\d{3}))?"#,
        error_preferably
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a 423 whose Min-Expires exceeds (?<p1>\d+), or a 200"#,
        short_expiry
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a 200 or an authentication challenge"#,
        ok_or_challenge
    ),
    legacy_step!(
        r#"whether the response's top Via carries "received" is recorded"#,
        record_received
    ),
    legacy_step!(
        r#"the response's top Via has "rport" and "received" filled in"#,
        rport_filled
    ),
    legacy_step!(
        r#"whether the response's top Via grants "keep" is recorded"#,
        record_keep
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a final response, which is recorded"#,
        record_final
    ),
    legacy_step!(
        r#"the (?<p0>pub-gruu|temp-gruu) of "(?<p1>\w+)" is not "(?<p2>[^"]+)""#,
        gruu_is_not
    ),
    legacy_step!(
        r#"(?<p0>exactly one|one) of "(?<p1>\w+)" and "(?<p2>\w+)" receives the MESSAGE"#,
        exactly_one_receives
    ),
    legacy_step!(
        r"the device that received the MESSAGE answers (?<p0>\d{3})",
        device_answers
    ),
    legacy_step!(r"the other device receives the MESSAGE", other_receives),
    legacy_step!(
        r"the other device receives nothing within the timeout",
        other_receives_nothing
    ),
    legacy_step!(
        r#""(?<p0>\w+)" sends a REGISTER for (?<p1>the profile's user|another user's AoR) without credentials"#,
        auth_register
    ),
    legacy_step!(
        r#""(?<p0>\w+)" receives a Digest challenge"#,
        digest_challenge
    ),
    legacy_step!(r"the challenge offers SHA-256", offers_sha256),
    legacy_step!(
        r#""(?<p0>\w+)" answers the challenge with (?<p1>the profile's credentials|a wrong password)"#,
        answer_challenge
    ),
];

/// The digest exchange of each connection (`@needs:auth` steps).
#[derive(Debug, Default)]
struct AuthExchange {
    /// The REGISTER last sent, to be answered with credentials.
    sent: HashMap<String, Message>,
    /// The last challenge received (401 or 407).
    challenge: Option<Message>,
}

/// GRUUs a 200 gave each connection (by connection name).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Gruus {
    public: Option<String>,
    /// Every temporary GRUU seen, oldest first, without consecutive repeats.
    temp: Vec<String>,
}

/// This module's state in the [`World`].
#[derive(Debug, Default)]
struct Learned {
    gruus: HashMap<String, Gruus>,
    /// After `exactly one of "a" and "b" receives the MESSAGE`: (the device that received it
    /// last, the other one).
    devices: Option<(String, String)>,
}

// ---------------------------------------------------------------------------------------------
// Pure judgements.

fn status(m: &Message) -> Option<u16> {
    m.status_line().map(|s| s.code)
}

fn list_contacts(m: &Message) -> String {
    let all: Vec<String> = m.contacts().map(|c| c.to_string()).collect();
    if all.is_empty() {
        "no Contact at all".into()
    } else {
        all.join(", ")
    }
}

/// The Contact of `resp` registered from the device whose `.invalid` host is `host`.
fn contact_for<'m>(resp: &'m Message, host: &str, who: &str) -> Result<&'m NameAddr, StepError> {
    resp.contacts()
        .find(|c| {
            c.sip_uri()
                .is_some_and(|u| matches!(&u.host, Host::Domain(d) if d.eq_ignore_ascii_case(host)))
        })
        .ok_or_else(|| {
            StepError::broken(format!(
                "the response lists no Contact for {who} (host {host}); it has: {}",
                list_contacts(resp)
            ))
        })
}

fn no_contact(resp: &Message, host: &str, who: &str) -> StepResult {
    match contact_for(resp, host, who) {
        Err(_) => Ok(()),
        Ok(c) => Err(StepError::broken(format!(
            "the response still lists {who}'s contact {c}"
        ))),
    }
}

fn check_contact_count(resp: &Message, want: usize) -> StepResult {
    if resp.contact_star() {
        return Err(StepError::broken(
            "the response carries `Contact: *`, which only a REGISTER may (RFC 3261 §10.2.2)",
        ));
    }
    let got = resp.contacts().count();
    if got == want {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the 200 must list every current binding (RFC 3261 §10.3 step 8): expected {want}, \
             got {got}: {}",
            list_contacts(resp)
        )))
    }
}

/// A Contact parameter is present (with `value`, compared unquoted, when given). `expires` must
/// carry delta-seconds (RFC 3261 §10.3 step 8; JsSIP and SIP.js drop a 200 without it).
fn check_param(c: &NameAddr, name: &str, value: Option<&str>, who: &str) -> StepResult {
    let Some(raw) = c.params.get(name) else {
        let why = if name.eq_ignore_ascii_case("expires") {
            " (RFC 3261 §10.3 step 8: every Contact of the 200 MUST carry its expires)"
        } else {
            ""
        };
        return Err(StepError::broken(format!(
            "the Contact for {who} has no {name} parameter{why}: {c}"
        )));
    };
    if name.eq_ignore_ascii_case("expires")
        && !raw.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(StepError::broken(format!(
            "the Contact for {who} has an expires that is not delta-seconds: {c}"
        )));
    }
    match value {
        None => Ok(()),
        Some(want) if raw.map(unquote).as_deref() == Some(want) => Ok(()),
        Some(want) => Err(StepError::broken(format!(
            "the Contact for {who} has {name}={} where {want} was registered: {c}",
            raw.unwrap_or("(no value)")
        ))),
    }
}

/// `+sip.instance` is returned as registered (RFC 5627 §5.2), quoted with its `<...>`
/// (RFC 5626 §10).
fn check_instance(c: &NameAddr, urn: &str, who: &str) -> StepResult {
    let Some(raw) = c.params.value("+sip.instance") else {
        return Err(StepError::broken(format!(
            "the Contact for {who} lost its +sip.instance (RFC 5626 §6 stores every Contact \
             parameter; RFC 5627 §5.2 returns the instance): {c}"
        )));
    };
    if !(raw.starts_with("\"<") && raw.ends_with(">\"")) {
        return Err(StepError::broken(format!(
            "+sip.instance must be a quoted \"<urn>\" (RFC 5626 §10); got {raw}"
        )));
    }
    match c.instance() {
        Some(i) if i.eq_ignore_ascii_case(urn) => Ok(()),
        other => Err(StepError::broken(format!(
            "the Contact for {who} has the instance {other:?}, not {urn}"
        ))),
    }
}

/// A `pub-gruu`/`temp-gruu` value: a quoted string (RFC 5627 §7) holding a SIP URI with `gr`
/// (RFC 5627 §3.1), with a value for the public one (§5.1).
fn gruu_param(c: &NameAddr, name: &str, gr_value_needed: bool) -> Result<String, StepError> {
    let Some(raw) = c.params.value(name) else {
        return Err(StepError::broken(format!(
            "the Contact has no {name} although the REGISTER had Supported: gruu \
             (RFC 5627 §5.2): {c}"
        )));
    };
    if !(raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"')) {
        return Err(StepError::broken(format!(
            "{name} must be a quoted string (RFC 5627 §7); got {raw}"
        )));
    }
    let value = unquote(raw);
    let uri = match Uri::parse(&value) {
        Ok(Uri::Sip(u)) => u,
        _ => {
            return Err(StepError::broken(format!(
                "{name} must hold a SIP URI (RFC 5627 §3.1); got {value}"
            )));
        }
    };
    match uri.params.get("gr") {
        None => Err(StepError::broken(format!(
            "{name} {value} has no gr parameter (RFC 5627 §3.1: every GRUU has one)"
        ))),
        Some(None) | Some(Some("")) if gr_value_needed => Err(StepError::broken(format!(
            "{name} {value} has a gr without a value (RFC 5627 §5.1: the public GRUU adds gr \
             with a value)"
        ))),
        Some(_) => Ok(value),
    }
}

/// Both GRUUs of a Contact (RFC 5627 §5.2): (public, temporary).
fn check_gruus(c: &NameAddr) -> Result<(String, String), StepError> {
    Ok((
        gruu_param(c, "pub-gruu", true)?,
        gruu_param(c, "temp-gruu", false)?,
    ))
}

/// Same parameter set, names and values compared case-insensitively, order ignored.
fn same_params(a: &sipws_reference::sip::Params, b: &sipws_reference::sip::Params) -> bool {
    let eq = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (None, None) => true,
        _ => false,
    };
    a.iter().count() == b.iter().count()
        && a.iter().all(|p| {
            b.iter().any(|q| {
                p.name.eq_ignore_ascii_case(&q.name) && eq(p.value.as_deref(), q.value.as_deref())
            })
        })
}

/// URI equality for our checks: scheme, user, host (case-insensitive), port, parameters.
fn same_uri(a: &Uri, b: &Uri) -> bool {
    match (a, b) {
        (Uri::Sip(a), Uri::Sip(b)) => {
            a.secure == b.secure
                && a.user == b.user
                && a.host.matches(&b.host)
                && a.port == b.port
                && same_params(&a.params, &b.params)
        }
        _ => a.to_string() == b.to_string(),
    }
}

/// The public GRUU is the AoR with `gr` added, with a value (RFC 5627 §5.1, MUST); that the
/// value is the instance ID is what Appendix A and RFC 7118 §8.1 F4 show (SHOULD-strength).
fn check_pub_gruu(got: &str, expected: &str) -> StepResult {
    let (Ok(Uri::Sip(g)), Ok(Uri::Sip(e))) = (Uri::parse(got), Uri::parse(expected)) else {
        return Err(StepError::broken(format!(
            "the pub-gruu {got} is not a SIP URI"
        )));
    };
    let aor_matches =
        g.secure == e.secure && g.user == e.user && g.host.matches(&e.host) && g.port == e.port;
    let extra: Vec<String> = g
        .params
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case("gr"))
        .map(|p| p.name.clone())
        .collect();
    if !aor_matches || !extra.is_empty() {
        return Err(StepError::broken(format!(
            "the public GRUU must be the AoR with gr added (RFC 5627 §5.1); got {got}, expected \
             {expected}"
        )));
    }
    let gr = g.params.value("gr").unwrap_or("");
    if gr.is_empty() {
        return Err(StepError::broken(format!(
            "the public GRUU's gr must have a value (RFC 5627 §5.1); got {got}"
        )));
    }
    match e.params.value("gr") {
        Some(want) if !want.eq_ignore_ascii_case(gr) => Err(StepError::should(format!(
            "the public GRUU's gr is {gr}, not the instance {want} (RFC 5627 Appendix A, \
             RFC 7118 §8.1 F4)"
        ))),
        _ => Ok(()),
    }
}

/// The values of a comma-separated header (option tags, or plain text split at commas).
fn list_values(resp: &Message, header: &str) -> Vec<String> {
    let name = HeaderName::parse(header);
    resp.values(&name)
        .flat_map(|v| match v {
            HeaderValue::Tokens(t) => t.clone(),
            other => other
                .to_string()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        })
        .collect()
}

/// Does the header list `token` (option tags compare case-insensitively, as
/// [`Message::supports`] does)?
fn check_list(resp: &Message, header: &str, token: &str, want: bool) -> StepResult {
    let values = list_values(resp, header);
    let has = values.iter().any(|v| v.eq_ignore_ascii_case(token));
    match (want, has) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err(StepError::broken(format!(
            "the response's {header} does not list {token} (it lists {values:?})"
        ))),
        (false, true) => Err(StepError::broken(format!(
            "the response's {header} lists {token} ({values:?})"
        ))),
    }
}

/// RFC 3327 §5.3: the Path values come back in the 200, in order.
fn check_path(resp: &Message, expected: &[NameAddr]) -> StepResult {
    let got: Vec<&NameAddr> = resp.paths().collect();
    let same = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| same_uri(&g.uri, &e.uri));
    if same {
        Ok(())
    } else {
        let shown: Vec<String> = got.iter().map(|p| p.to_string()).collect();
        let want: Vec<String> = expected.iter().map(|p| p.to_string()).collect();
        Err(StepError::broken(format!(
            "the registrar copies the Path values into the 200 in order (RFC 3327 §5.3): \
             expected [{}], got [{}]",
            want.join(", "),
            shown.join(", ")
        )))
    }
}

fn top_via(m: &Message) -> Result<&Via, StepError> {
    m.top_via()
        .ok_or_else(|| StepError::broken("the message has no Via"))
}

/// RFC 7118 §5.1: the Via the target adds for a WS hop says `WS`, for a WSS hop `WSS`. The ABNF
/// literal is case-insensitive (7118-5.1-b): another spelling is accepted and observed.
fn check_via_transport(req: &Message, want: &str) -> Result<Option<String>, StepError> {
    let via = top_via(req)?;
    if !via.transport.eq_ignore_ascii_case(want) {
        return Err(StepError::broken(format!(
            "the target's Via on this hop must say {want} (RFC 7118 §5.1); it says {}: {via}",
            via.transport
        )));
    }
    Ok((via.transport != want).then(|| format!("the Via token is spelled {}", via.transport)))
}

/// RFC 3261 §16.6 item 8: the proxy's own Via carries a branch of its own, starting with the
/// magic cookie (§8.1.1.7), different from every branch below it.
fn check_fresh_branch(req: &Message) -> StepResult {
    let via = top_via(req)?;
    let Some(branch) = via.branch() else {
        return Err(StepError::broken(format!(
            "the target's Via has no branch: {via}"
        )));
    };
    if !branch.starts_with("z9hG4bK") || branch.len() <= "z9hG4bK".len() {
        return Err(StepError::broken(format!(
            "the target's branch must start with the magic cookie z9hG4bK (RFC 3261 §8.1.1.7, \
             §16.6 item 8); got {branch}"
        )));
    }
    if req.vias().skip(1).any(|v| v.branch() == Some(branch)) {
        return Err(StepError::broken(format!(
            "the target reused the branch {branch} of a Via below its own (RFC 3261 §16.6 item 8)"
        )));
    }
    Ok(())
}

/// The sender's Via stays, right below the one the target added (RFC 3261 §16.6 item 8).
fn check_kept_via(req: &Message, host: &str, who: &str) -> StepResult {
    let is_sender = |v: &Via| matches!(&v.host, Host::Domain(d) if d.eq_ignore_ascii_case(host));
    let vias: Vec<&Via> = req.vias().collect();
    match vias.as_slice() {
        [] => Err(StepError::broken("the request has no Via")),
        [top, ..] if is_sender(top) => Err(StepError::broken(format!(
            "the top Via is still {who}'s: the target added no Via of its own (RFC 3261 §16.6 \
             item 8): {top}"
        ))),
        [_, second, ..] if is_sender(second) => Ok(()),
        _ => Err(StepError::broken(format!(
            "{who}'s Via ({host}) is not right below the target's: {}",
            vias.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A request that must not be delivered got a final answer: an error is required, the
/// preferred codes are what the RFCs recommend (anything else is a warning).
fn judge_error(code: u16, preferred: &[u16]) -> Result<String, StepError> {
    let pref: Vec<String> = preferred.iter().map(u16::to_string).collect();
    let pref = pref.join(" or ");
    if code < 300 {
        return Err(StepError::broken(format!(
            "the request was answered {code}, as if delivered; expected an error ({pref})"
        )));
    }
    if preferred.contains(&code) {
        Ok(format!("refused with {code}"))
    } else {
        Err(StepError::should(format!(
            "refused with {code}; {pref} is expected"
        )))
    }
}

/// RFC 3261 §10.3 step 7: a too brief expiry MAY be refused with 423, which MUST then carry a
/// Min-Expires above the refused interval; accepting it is the other conforming answer.
fn judge_short_expiry(resp: &Message, requested: u32) -> Result<String, StepError> {
    match status(resp) {
        Some(423) => match resp.values(&HeaderName::MinExpires).find_map(|v| match v {
            HeaderValue::Number(n) => Some(*n),
            _ => None,
        }) {
            None => Err(StepError::broken(
                "a 423 MUST carry Min-Expires (RFC 3261 §10.3 step 7)",
            )),
            Some(min) if min <= requested => Err(StepError::broken(format!(
                "the 423 says Min-Expires: {min}, no more than the refused {requested}"
            ))),
            Some(min) => Ok(format!("refused with 423, Min-Expires: {min}")),
        },
        Some(200) => Ok(format!(
            "accepted an expiry of {requested} s with 200 (423 is a MAY)"
        )),
        other => Err(StepError::broken(format!(
            "expected 423 with Min-Expires, or 200; got {other:?}"
        ))),
    }
}

/// RFC 7118 §7 lets the registrar demand SIP authentication; a challenge must carry its
/// header (RFC 3261 §22.1, §22.3).
fn judge_auth(resp: &Message) -> Result<String, StepError> {
    let has = |h: &str| resp.value(&HeaderName::parse(h)).is_some();
    match status(resp) {
        Some(200) => Ok("registered without a SIP challenge".into()),
        Some(401) if has("WWW-Authenticate") => Ok("challenged with 401".into()),
        Some(407) if has("Proxy-Authenticate") => Ok("challenged with 407".into()),
        Some(401) => Err(StepError::broken(
            "a 401 MUST carry WWW-Authenticate (RFC 3261 §22.1)",
        )),
        Some(407) => Err(StepError::broken(
            "a 407 MUST carry Proxy-Authenticate (RFC 3261 §22.3)",
        )),
        other => Err(StepError::broken(format!(
            "expected 200, 401 or 407; got {other:?}"
        ))),
    }
}

/// Digest challenges of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`).
fn challenges_of(resp: &Message) -> Vec<Challenge> {
    let name = if status(resp) == Some(407) {
        HeaderName::ProxyAuthenticate
    } else {
        HeaderName::WwwAuthenticate
    };
    resp.values(&name)
        .filter_map(|v| Challenge::parse(&v.to_string()).ok())
        .collect()
}

/// RFC 3261 §22.1, §22.3, §22.4: a REGISTER without credentials to a target that demands
/// authentication gets 401 with WWW-Authenticate (or 407 with Proxy-Authenticate) carrying
/// a Digest challenge with realm and nonce.
fn judge_challenge(resp: &Message) -> Result<String, StepError> {
    let code = status(resp).unwrap_or(0);
    if code < 300 {
        return Err(StepError::broken(format!(
            "a REGISTER without credentials was answered {code}: the target demands no \
             authentication although the profile gives credentials"
        )));
    }
    if code != 401 && code != 407 {
        return Err(StepError::broken(format!(
            "expected a 401 or 407 challenge, got {code}"
        )));
    }
    let offered = challenges_of(resp);
    if offered.is_empty() {
        return Err(StepError::broken(format!(
            "the {code} carries no Digest challenge with realm and nonce in {} (RFC 3261 §22.1, §22.4)",
            if code == 401 {
                "WWW-Authenticate"
            } else {
                "Proxy-Authenticate"
            }
        )));
    }
    let algs: Vec<String> = offered
        .iter()
        .map(|c| {
            c.algorithm
                .clone()
                .unwrap_or_else(|| "MD5 (implied)".into())
        })
        .collect();
    Ok(format!(
        "challenged with {code} offering {}",
        algs.join(", ")
    ))
}

/// RFC 8760 §2.4: SHA-256 should be offered (MD5 alone is a warning).
fn judge_sha256(resp: &Message) -> Result<(), StepError> {
    if challenges_of(resp)
        .iter()
        .any(|c| c.algorithm() == Some(Algorithm::Sha256))
    {
        Ok(())
    } else {
        Err(StepError::should(
            "the challenge offers only MD5; RFC 8760 §2.4 has servers offer SHA-256 too (a \
             header per algorithm, the preferred first)",
        ))
    }
}

/// The request re-sent with credentials for `resp`'s challenge (RFC 3261 §22.2): CSeq+1, the
/// new `branch`, Authorization (401) or Proxy-Authorization (407).
fn with_credentials(
    sent: &Message,
    resp: &Message,
    username: &str,
    password: &str,
    branch: &str,
    cnonce: &str,
) -> Result<Message, StepError> {
    let challenge = pick_challenge(resp).ok_or_else(|| {
        StepError::broken(
            "no challenge a SIP client must be able to answer (Digest with MD5 or SHA-256, \
             qop=auth or none; RFC 3261 §22.4, RFC 8760)",
        )
    })?;
    let mut req = sent.clone();
    let line = req
        .request_line()
        .cloned()
        .ok_or_else(|| StepError::harness("the message sent is not a request"))?;
    let creds = challenge
        .answer(
            username,
            password,
            line.method.as_str(),
            &line.uri.to_string(),
            1,
            cnonce,
        )
        .ok_or_else(|| StepError::harness("the chosen challenge cannot be answered"))?;
    let name = if status(resp) == Some(407) {
        HeaderName::ProxyAuthorization
    } else {
        HeaderName::Authorization
    };
    req.headers.retain(|h| h.name != name);
    for h in &mut req.headers {
        match &mut h.value {
            HeaderValue::CSeq(c) => c.seq += 1,
            HeaderValue::Via(list) => {
                if let Some(v) = list.first_mut() {
                    v.params.set("branch", Some(branch));
                }
            }
            _ => {}
        }
    }
    let at = req
        .headers
        .iter()
        .position(|h| h.name == HeaderName::ContentLength)
        .unwrap_or(req.headers.len());
    req.headers.insert(
        at,
        Header::new(name, HeaderValue::Text(creds.to_header_value())),
    );
    Ok(req)
}

fn is_ip(s: &str) -> bool {
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
}

/// RFC 7118 §5.3: on WS `received` may be left out; when present it is an address (RFC 3261
/// §20.42 grammar).
fn judge_received(via: &Via) -> Result<String, StepError> {
    match via.params.get("received") {
        None => Ok("no received on the WS Via (RFC 7118 §5.3 allows leaving it out)".into()),
        Some(Some(r)) if is_ip(r) => Ok(format!("received={r} added to the WS Via")),
        Some(v) => Err(StepError::broken(format!(
            "received must be an IP address (RFC 3261 §18.2.1); got {v:?}"
        ))),
    }
}

/// RFC 3581 §4 (REQUIREMENTS A8): a value-less `rport` is filled with the source port and
/// `received` is added, whatever the transport.
fn check_rport(via: &Via) -> StepResult {
    let rport = via.params.get("rport");
    let port_ok = matches!(rport, Some(Some(p)) if p.parse::<u16>().is_ok_and(|p| p > 0));
    let received_ok = via.received().is_some_and(is_ip);
    if port_ok && received_ok {
        Ok(())
    } else {
        Err(StepError::should(format!(
            "a request with a value-less rport gets rport=<source port> and received=<source \
             address> in the response's Via (RFC 3581 §4, \"independent of the transport\"; \
             RFC 7118 §5.3 is silent, A8); got {via}"
        )))
    }
}

/// RFC 6223 §4.3: a willing receiver answers a `keep` request with `keep=<seconds>`.
fn judge_keep(via: &Via) -> Result<String, StepError> {
    match via.params.get("keep") {
        None => Ok("keep is gone from the response's Via: not granted".into()),
        Some(None) | Some(Some("")) => Ok("keep echoed without a value: not granted".into()),
        Some(Some(v)) if v.bytes().all(|b| b.is_ascii_digit()) => Ok(format!("granted keep={v}")),
        Some(Some(v)) => Err(StepError::broken(format!(
            "keep must carry delta-seconds (RFC 6223 §5); got keep={v}"
        ))),
    }
}

/// Replace `{pub-gruu:x}`, `{temp-gruu:x}` and `{previous-temp-gruu:x}` with what was learned.
/// Which of two devices got the request (RFC 5626 §7: never two contacts of one AoR and
/// instance in the target set at once).
fn judge_one_of(got: [Option<&Message>; 2], names: [&str; 2]) -> Result<usize, StepError> {
    for (m, name) in got.iter().zip(names) {
        if let Some(m) = m
            && m.method().map(|x| x.as_str()) != Some("MESSAGE")
        {
            return Err(StepError::broken(format!(
                "{name} received a {} where the MESSAGE was expected",
                m.method().map(|x| x.as_str()).unwrap_or("response")
            )));
        }
    }
    match got {
        [Some(_), None] => Ok(0),
        [None, Some(_)] => Ok(1),
        [Some(_), Some(_)] => Err(StepError::broken(format!(
            "both {} and {} received the MESSAGE: two contacts of one AoR and instance were in \
             the target set at once (RFC 5626 §7)",
            names[0], names[1]
        ))),
        [None, None] => Err(StepError::broken(format!(
            "neither {} nor {} received the MESSAGE",
            names[0], names[1]
        ))),
    }
}

/// What a final response says, for the record.
fn describe_answer(resp: &Message) -> String {
    let mut out = match resp.status_line() {
        Some(s) => format!("answered {}", s.code),
        None => "answered with a request".into(),
    };
    let require = list_values(resp, "Require");
    if !require.is_empty() {
        out.push_str(&format!(", Require: {}", require.join(", ")));
    }
    out
}

/// A GRUU the registrar handed out is its own, not one the client suggested (RFC 5627 §5.1).
fn check_not_suggested(kind: &str, got: &str, suggested: &str) -> StepResult {
    let same = match (Uri::parse(got), Uri::parse(suggested)) {
        (Ok(g), Ok(s)) => same_uri(&g, &s),
        _ => got == suggested,
    };
    if same {
        Err(StepError::broken(format!(
            "the registrar returned the client's own {kind} {got}; RFC 5627 §5.1 says it MUST \
             ignore it"
        )))
    } else {
        Ok(())
    }
}

/// A GRUU placeholder could not be filled: `Skip` when the device registered but the target's
/// 200 gave no such GRUU (it lacks GRUU support, judged by the GRUU cases), `Harness` when no
/// earlier step registered that device at all (the scenario is written wrong).
fn fill_gruus(text: &str, learned: &HashMap<String, Gruus>) -> Result<String, StepError> {
    const KINDS: [&str; 3] = ["pub-gruu", "temp-gruu", "previous-temp-gruu"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let hit = KINDS.iter().find_map(|kind| {
            let inner = tail
                .strip_prefix('{')?
                .strip_prefix(kind)?
                .strip_prefix(':')?;
            let end = inner.find('}')?;
            let name = &inner[..end];
            let valid =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            valid.then(|| (*kind, name, kind.len() + name.len() + 3))
        });
        let Some((kind, name, used)) = hit else {
            out.push('{');
            rest = &tail[1..];
            continue;
        };
        let g = learned.get(name);
        let value = match kind {
            "pub-gruu" => g.and_then(|g| g.public.clone()),
            "temp-gruu" => g.and_then(|g| g.temp.last().cloned()),
            _ => g.and_then(|g| g.temp.iter().rev().nth(1).cloned()),
        };
        let Some(value) = value else {
            return Err(match g {
                Some(_) => StepError::Skip(format!(
                    "the target's 200 gave {name} no {kind} to fill {{{kind}:{name}}} with"
                )),
                None => StepError::harness(format!(
                    "{{{kind}:{name}}}: no earlier step read a 200 for {name:?}"
                )),
            });
        };
        out.push_str(&value);
        rest = &tail[used..];
    }
    out.push_str(rest);
    Ok(out)
}

fn remember(learned: &mut Learned, name: &str, public: Option<String>, temp: Option<String>) {
    let g = learned.gruus.entry(name.to_string()).or_default();
    if public.is_some() {
        g.public = public;
    }
    if let Some(t) = temp
        && g.temp.last() != Some(&t)
    {
        g.temp.push(t);
    }
}

/// A stable instance URN for a device of a scenario (the AoR is unique per scenario, so the
/// same device name may use the same instance in every scenario).
fn instance_of(name: &str) -> String {
    // FNV-1a: a spread of the name over 48 bits, nothing cryptographic.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "urn:uuid:00000000-0000-4000-8000-{:012x}",
        h & 0xffff_ffff_ffff
    )
}

// ---------------------------------------------------------------------------------------------
// Step functions: fetch, judge, record.

fn last_response(w: &World) -> Result<&Message, StepError> {
    w.last_response
        .as_ref()
        .ok_or_else(|| StepError::harness("no response was received yet"))
}

fn last_request<'w>(w: &'w World, conn: &str) -> Result<&'w Message, StepError> {
    w.last_request
        .get(conn)
        .ok_or_else(|| StepError::harness(format!("{conn} has received no request yet")))
}

/// The `.invalid` host a connection's messages use (its `{host}` placeholder).
fn host_of(w: &mut World, conn: &str) -> String {
    w.render("{host}", conn).trim().to_string()
}

/// The next final response on a connection (provisional ones skipped, at most a few).
async fn final_response(w: &mut World, conn: &str) -> Result<Message, StepError> {
    for _ in 0..8 {
        let resp = w.next_response(conn).await?;
        if status(&resp).is_some_and(|c| c >= 200) {
            w.last_response = Some(resp.clone());
            return Ok(resp);
        }
    }
    Err(StepError::broken(format!(
        "{conn} received only provisional responses"
    )))
}

fn registered_over<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let name = a[0].clone();
        let secure = a[1] == "WSS";
        if w.conn(&name).is_none() {
            w.open_sip(&name, secure).await?;
        } else if w.is_secure(&name) != secure {
            return Err(StepError::harness(format!(
                "{name} is already open, but not over {}",
                a[1]
            )));
        }
        let user = w.user(&name);
        let text = w.render(
            &format!(
                "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/{token} {{host}};branch={{branch}}
From: <sip:{user}@{{domain}}>;tag={{tag}}
To: <sip:{user}@{{domain}}>
Call-ID: reg-{{call-id}}-{name}
CSeq: {{n}} REGISTER
Max-Forwards: 70
Supported: path, outbound, gruu
Contact: <sip:{user}@{{host}};transport=ws>;reg-id=1;+sip.instance=\"<{instance}>\"
Content-Length: 0
",
                token = a[1],
                instance = instance_of(&name),
            ),
            &name,
        );
        w.send_sip(&name, &text, false).await?;
        let resp = final_response(w, &name).await?;
        match status(&resp) {
            Some(200) => {}
            Some(c @ (401 | 407)) => {
                return Err(StepError::Skip(format!(
                    "the target demands SIP authentication ({c}; RFC 7118 §7 allows it), which \
                     the suite does not perform"
                )));
            }
            other => {
                return Err(StepError::broken(format!(
                    "registering {name} over {} got {other:?}, not 200",
                    a[1]
                )));
            }
        }
        let host = host_of(w, &name);
        let (public, temp) = contact_for(&resp, &host, &name)
            .map(|c| {
                (
                    gruu_param(c, "pub-gruu", true).ok(),
                    gruu_param(c, "temp-gruu", false).ok(),
                )
            })
            .unwrap_or((None, None));
        remember(w.ext::<Learned>(), &name, public, temp);
        Ok(())
    })
}

fn sends_with_gruus<'a>(w: &'a mut World, a: Vec<String>, s: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let doc = s
            .docstring
            .as_ref()
            .ok_or_else(|| StepError::harness("this step needs the message as a docstring"))?;
        let filled = fill_gruus(doc, &w.ext::<Learned>().gruus)?;
        let text = w.render(&filled, &conn);
        w.send_sip(&conn, &text, false).await
    })
}

fn lists_contacts<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let want: usize = a[0].parse().map_err(|_| StepError::harness("bad count"))?;
        check_contact_count(last_response(w)?, want)
    })
}

fn contact_has_param<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[0]);
        let c = contact_for(last_response(w)?, &host, &a[0])?;
        check_param(c, &a[1], None, &a[0])
    })
}

fn contact_param_value<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[0]);
        let c = contact_for(last_response(w)?, &host, &a[0])?;
        check_param(c, &a[1], Some(&a[2]), &a[0])
    })
}

fn contact_instance<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[0]);
        let c = contact_for(last_response(w)?, &host, &a[0])?;
        check_instance(c, &a[1], &a[0])
    })
}

fn no_contact_for<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[0]);
        no_contact(last_response(w)?, &host, &a[0])
    })
}

fn carries_gruus<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[0]);
        let c = contact_for(last_response(w)?, &host, &a[0])?;
        let (public, temp) = check_gruus(c)?;
        remember(w.ext::<Learned>(), &a[0], Some(public), Some(temp));
        Ok(())
    })
}

fn pub_gruu_is<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let expected = w.render(&a[1], &a[0]).trim().to_string();
        let got = w
            .ext::<Learned>()
            .gruus
            .get(&a[0])
            .and_then(|g| g.public.clone())
            .ok_or_else(|| {
                StepError::harness(format!("no earlier step read a pub-gruu for {}", a[0]))
            })?;
        check_pub_gruu(&got, &expected)
    })
}

fn header_contains<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { check_list(last_response(w)?, &a[0], &a[1], true) })
}

fn header_lacks<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { check_list(last_response(w)?, &a[0], &a[1], false) })
}

fn path_is<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let expected = match Header::parse("Path", &a[0]).map(|h| h.value) {
            Ok(HeaderValue::Addresses(list)) => list,
            _ => return Err(StepError::harness(format!("not a Path value: {}", a[0]))),
        };
        check_path(last_response(w)?, &expected)
    })
}

fn message_via_transport<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let req = w.next_request(&conn).await?;
        let method = req.method().map(|m| m.to_string());
        let judged = check_via_transport(&req, &a[1]);
        w.last_request.insert(conn.clone(), req);
        if method.as_deref() != Some("MESSAGE") {
            return Err(StepError::broken(format!(
                "expected a MESSAGE on {conn}, got {method:?}"
            )));
        }
        if let Some(seen) = judged? {
            w.observe(seen);
        }
        Ok(())
    })
}

fn fresh_branch<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { check_fresh_branch(last_request(w, &a[0])?) })
}

fn keeps_via<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let host = host_of(w, &a[1]);
        check_kept_via(last_request(w, &a[0])?, &host, &a[1])
    })
}

fn error_preferably<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let preferred: Vec<u16> = a[1..]
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let resp = final_response(w, &a[0]).await?;
        let seen = judge_error(status(&resp).unwrap_or(0), &preferred)?;
        w.observe(seen);
        Ok(())
    })
}

fn short_expiry<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let requested: u32 = a[1].parse().map_err(|_| StepError::harness("bad expiry"))?;
        let resp = final_response(w, &a[0]).await?;
        let seen = judge_short_expiry(&resp, requested)?;
        w.observe(seen);
        Ok(())
    })
}

fn ok_or_challenge<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let resp = final_response(w, &a[0]).await?;
        let seen = judge_auth(&resp)?;
        w.observe(seen);
        Ok(())
    })
}

fn auth_register<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let auth = w.target.auth.clone().ok_or_else(|| {
            StepError::Skip("the profile gives no credentials (auth_user, auth_password)".into())
        })?;
        let user = if a[1] == "the profile's user" {
            auth.username
        } else {
            w.user("bob")
        };
        let transport = if w.is_secure(&conn) { "WSS" } else { "WS" };
        let template = format!(
            "REGISTER sip:{{domain}} SIP/2.0
Via: SIP/2.0/{transport} {{host}};branch={{branch}}
From: <sip:{user}@{{domain}}>;tag={{tag}}
To: <sip:{user}@{{domain}}>
Call-ID: auth-{{call-id}}-{conn}
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: <sip:{user}@{{host}};transport=ws>
Expires: 600
Content-Length: 0
"
        );
        let text = w.render(&template, &conn);
        let msg = Message::parse(text.as_bytes())
            .map_err(|e| StepError::harness(format!("the REGISTER built does not parse: {e}")))?;
        w.send_sip(&conn, &text, false).await?;
        w.ext::<AuthExchange>().sent.insert(conn, msg);
        Ok(())
    })
}

fn digest_challenge<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let resp = final_response(w, &a[0]).await?;
        let seen = judge_challenge(&resp)?;
        w.observe(seen);
        w.ext::<AuthExchange>().challenge = Some(resp);
        Ok(())
    })
}

fn offers_sha256<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let resp = w
            .ext::<AuthExchange>()
            .challenge
            .clone()
            .ok_or_else(|| StepError::harness("no challenge was received yet"))?;
        judge_sha256(&resp)
    })
}

fn answer_challenge<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let conn = a[0].clone();
        let auth = w
            .target
            .auth
            .clone()
            .ok_or_else(|| StepError::Skip("the profile gives no credentials".into()))?;
        let password = if a[1] == "a wrong password" {
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
    })
}

fn record_received<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let seen = judge_received(top_via(last_response(w)?)?)?;
        w.observe(seen);
        Ok(())
    })
}

fn rport_filled<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move { check_rport(top_via(last_response(w)?)?) })
}

fn record_keep<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let seen = judge_keep(top_via(last_response(w)?)?)?;
        w.observe(seen);
        Ok(())
    })
}

/// Records the final answer, or that none came within the timeout (the request was dropped).
fn record_final<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        for _ in 0..8 {
            let Some(resp) = poll_message(w, &a[0], false).await? else {
                w.observe("no answer within the timeout: the request was dropped");
                return Ok(());
            };
            if status(&resp).is_some_and(|c| c >= 200) {
                w.observe(describe_answer(&resp));
                w.last_response = Some(resp);
                return Ok(());
            }
        }
        Err(StepError::broken(format!(
            "{} received only provisional responses",
            a[0]
        )))
    })
}

fn gruu_is_not<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let suggested = w.render(&a[2], &a[1]).trim().to_string();
        let g = w.ext::<Learned>().gruus.get(&a[1]).cloned();
        let got = match a[0].as_str() {
            "pub-gruu" => g.and_then(|g| g.public),
            _ => g.and_then(|g| g.temp.last().cloned()),
        }
        .ok_or_else(|| {
            StepError::harness(format!("no earlier step read a {} for {}", a[0], a[1]))
        })?;
        check_not_suggested(&a[0], &got, &suggested)
    })
}

/// The next SIP message of the wanted kind on a connection, or `None` when nothing came within
/// the timeout. Reads the wire directly (like `nothing arrives on ...`), so use it on a
/// connection whose earlier messages were all consumed.
async fn poll_message(
    w: &mut World,
    conn: &str,
    want_request: bool,
) -> Result<Option<Message>, StepError> {
    let timeout = w.target.timeout;
    let probe = w
        .conn(conn)
        .ok_or_else(|| StepError::harness(format!("no connection {conn:?}")))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let what = if want_request { "request" } else { "response" };
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match probe
            .read_message(left)
            .await
            .map_err(|e| StepError::harness(e.to_string()))?
        {
            Received::Timeout => return Ok(None),
            Received::Frame(f) if f.opcode == 0x1 || f.opcode == 0x2 => {
                if f.payload.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    continue;
                }
                let m = Message::parse_datagram(&f.payload).map_err(|e| {
                    StepError::broken(format!(
                        "{conn} received a WebSocket message that is not SIP: {e}"
                    ))
                })?;
                if m.is_request() != want_request {
                    return Err(StepError::broken(format!(
                        "expected a SIP {what} or nothing on {conn}, got the other kind"
                    )));
                }
                return Ok(Some(m));
            }
            other => {
                return Err(StepError::broken(format!(
                    "expected a SIP {what} or nothing on {conn}, got {}",
                    crate::wire::describe(&other)
                )));
            }
        }
    }
}

async fn poll_request(w: &mut World, conn: &str) -> Result<Option<Message>, StepError> {
    poll_message(w, conn, true).await
}

/// `one of "a" and "b"`: the request reaches one of the two (waiting on "a" first, then on
/// "b"). `exactly one of`: also makes sure the other got nothing (RFC 5626 §7), which costs one
/// full timeout; list the device the target most likely prefers first to spare the other one.
fn exactly_one_receives<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let exactly = a[0] == "exactly one";
        let names = [a[1].as_str(), a[2].as_str()];
        let first = poll_request(w, names[0]).await?;
        let second = if exactly || first.is_none() {
            poll_request(w, names[1]).await?
        } else {
            None
        };
        let i = judge_one_of([first.as_ref(), second.as_ref()], names)?;
        let req = if i == 0 { first } else { second };
        let (got, other) = (names[i].to_string(), names[1 - i].to_string());
        if let Some(req) = req {
            w.last_request.insert(got.clone(), req);
        }
        w.observe(format!("the MESSAGE went to {got}"));
        w.ext::<Learned>().devices = Some((got, other));
        Ok(())
    })
}

fn devices(w: &mut World) -> Result<(String, String), StepError> {
    w.ext::<Learned>()
        .devices
        .clone()
        .ok_or_else(|| StepError::harness("no earlier step saw which device received the MESSAGE"))
}

fn device_answers<'a>(w: &'a mut World, a: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (got, _) = devices(w)?;
        let code: u16 = a[0].parse().map_err(|_| StepError::harness("bad status"))?;
        let req = last_request(w, &got)?.clone();
        let resp = sipws_reference::proxy::response::response(&req, code, "answered", Vec::new());
        w.send_sip(&got, &String::from_utf8_lossy(&resp.to_bytes()), false)
            .await
    })
}

fn other_receives<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (got, other) = devices(w)?;
        let Some(req) = poll_request(w, &other).await? else {
            return Err(StepError::broken(format!(
                "after {got} answered, the request was not tried on {other}'s flow within the \
                 timeout"
            )));
        };
        judge_one_of([None, Some(&req)], [&got, &other])?;
        w.last_request.insert(other.clone(), req);
        w.ext::<Learned>().devices = Some((other, got));
        Ok(())
    })
}

fn other_receives_nothing<'a>(w: &'a mut World, _: Vec<String>, _: &'a CaseStep) -> StepFuture<'a> {
    step!(async move {
        let (got, other) = devices(w)?;
        match poll_request(w, &other).await? {
            None => Ok(()),
            Some(m) => Err(StepError::broken(format!(
                "{other} received a {} after {got} answered: the proxy tried another flow of the \
                 same instance (RFC 5626 §7)",
                m.method().map(|x| x.as_str()).unwrap_or("response")
            ))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Level;

    fn msg(text: &str) -> Message {
        let text = text.trim_start().replace('\n', "\r\n");
        Message::parse(text.as_bytes()).expect("a valid fabricated message")
    }

    const HEAD: &str = "SIP/2.0 200 OK
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>;tag=2
Call-ID: c
CSeq: 1 REGISTER
";

    fn resp(extra: &str) -> Message {
        msg(&format!("{HEAD}{extra}Content-Length: 0\n\n"))
    }

    fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    fn is_should(r: &StepResult) -> bool {
        matches!(
            r,
            Err(StepError::Broken {
                cap: Some(Level::Should),
                ..
            })
        )
    }

    const GOOD_CONTACT: &str = "Contact: <sip:alice@a.invalid;transport=ws>;reg-id=1;\
        +sip.instance=\"<urn:uuid:1>\";expires=3600;\
        pub-gruu=\"sip:alice@example.com;gr=urn:uuid:1\";temp-gruu=\"sip:t1@example.com;gr\"\n";

    /// The good Contact with some parameters replaced.
    fn altered(params: &[(&str, Option<&str>)]) -> NameAddr {
        let r = resp(GOOD_CONTACT);
        let mut c = contact_for(&r, "a.invalid", "alice")
            .expect("the good contact")
            .clone();
        for (name, value) in params {
            c.params.set(name, *value);
        }
        c
    }

    #[test]
    fn contact_without_expires_is_broken() {
        let good = resp(GOOD_CONTACT);
        let c = contact_for(&good, "A.invalid", "alice").expect("found by host");
        assert_eq!(check_param(c, "expires", None, "alice"), Ok(()));
        assert_eq!(check_param(c, "reg-id", Some("1"), "alice"), Ok(()));
        assert_eq!(check_instance(c, "urn:uuid:1", "alice"), Ok(()));

        let bad = resp("Contact: <sip:alice@a.invalid;transport=ws>;reg-id=1\n");
        let c = contact_for(&bad, "a.invalid", "alice").expect("found");
        assert!(is_broken(&check_param(c, "expires", None, "alice")));
        assert!(is_broken(&check_param(c, "reg-id", Some("2"), "alice")));
        assert!(is_broken(&check_instance(c, "urn:uuid:1", "alice")));
        // The codec refuses these when parsing; a target's 200 is judged after a lenient
        // reader, so the judgement must refuse them too.
        let c = altered(&[("expires", Some("soon"))]);
        assert!(is_broken(&check_param(&c, "expires", None, "alice")));
        let c = altered(&[("expires", None)]);
        assert!(is_broken(&check_param(&c, "expires", None, "alice")));
        let c = altered(&[("+sip.instance", Some("urn:uuid:1"))]);
        assert!(is_broken(&check_instance(&c, "urn:uuid:1", "alice")));
    }

    #[test]
    fn contacts_are_found_by_host_and_counted() {
        let r = resp(GOOD_CONTACT);
        assert!(is_broken(&contact_for(&r, "b.invalid", "bob").map(|_| ())));
        assert_eq!(no_contact(&r, "b.invalid", "bob"), Ok(()));
        assert!(is_broken(&no_contact(&r, "a.invalid", "alice")));
        assert_eq!(check_contact_count(&r, 1), Ok(()));
        assert!(is_broken(&check_contact_count(&r, 2)));
        assert_eq!(check_contact_count(&resp(""), 0), Ok(()));
        assert!(is_broken(&check_contact_count(&resp("Contact: *\n"), 0)));
    }

    #[test]
    fn missing_require_outbound_is_broken() {
        let with = resp("Require: outbound\nSupported: path, outbound\n");
        assert_eq!(check_list(&with, "Require", "outbound", true), Ok(()));
        assert_eq!(check_list(&with, "Supported", "gruu", false), Ok(()));
        let without = resp("Supported: outbound, gruu\n");
        assert!(is_broken(&check_list(
            &without, "Require", "outbound", true
        )));
        assert!(is_broken(&check_list(&without, "Supported", "gruu", false)));
        assert_eq!(check_list(&without, "Require", "outbound", false), Ok(()));
    }

    #[test]
    fn gruus_must_be_quoted_sip_uris_with_gr() {
        let good = resp(GOOD_CONTACT);
        let c = contact_for(&good, "a.invalid", "alice").expect("found");
        assert_eq!(
            check_gruus(c),
            Ok((
                "sip:alice@example.com;gr=urn:uuid:1".to_string(),
                "sip:t1@example.com;gr".to_string()
            ))
        );
        let no_gruus = resp("Contact: <sip:alice@a.invalid>;+sip.instance=\"<urn:uuid:1>\"\n");
        let c = contact_for(&no_gruus, "a.invalid", "alice").expect("found");
        assert!(is_broken(&check_gruus(c).map(|_| ())));
        for (name, bad) in [
            ("pub-gruu", "sip:x@y;gr=1"),
            ("temp-gruu", "sip:t@y;gr"),
            ("temp-gruu", "\"sip:t@y\""),
            ("pub-gruu", "\"sip:x@y;gr\""),
            ("pub-gruu", "\"tel:1;gr=1\""),
        ] {
            let c = altered(&[(name, Some(bad))]);
            assert!(is_broken(&check_gruus(&c).map(|_| ())), "{name}={bad}");
        }
    }

    #[test]
    fn pub_gruu_must_be_the_aor_plus_gr() {
        let want = "sip:alice@example.com;gr=urn:uuid:1";
        assert_eq!(
            check_pub_gruu("sip:alice@EXAMPLE.com;gr=urn:uuid:1", want),
            Ok(())
        );
        assert!(is_broken(&check_pub_gruu(
            "sip:bob@example.com;gr=urn:uuid:1",
            want
        )));
        assert!(is_broken(&check_pub_gruu(
            "sip:alice@example.com;gr=urn:uuid:1;transport=ws",
            want
        )));
        assert!(is_broken(&check_pub_gruu("sip:alice@example.com;gr", want)));
        // Another gr value conforms to the MUST; the instance is what the RFCs show (SHOULD).
        assert!(is_should(&check_pub_gruu(
            "sip:alice@example.com;gr=xyz",
            want
        )));
    }

    #[test]
    fn via_token_ws_where_wss_is_required_is_broken() {
        let req = msg("MESSAGE sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WS proxy.example.com;branch=z9hG4bKp1
Via: SIP/2.0/WS b.invalid;branch=z9hG4bKb1
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: m
CSeq: 1 MESSAGE
Max-Forwards: 69
Content-Length: 0

");
        assert!(is_broken(&check_via_transport(&req, "WSS").map(|_| ())));
        assert_eq!(check_via_transport(&req, "WS"), Ok(None));
        assert!(check_via_transport(&req, "ws").is_ok_and(|o| o.is_some()));
        assert_eq!(check_fresh_branch(&req), Ok(()));
        assert_eq!(check_kept_via(&req, "b.invalid", "bob"), Ok(()));
        assert!(is_broken(&check_kept_via(&req, "c.invalid", "carol")));
        assert!(is_broken(&check_kept_via(&req, "proxy.example.com", "x")));
    }

    #[test]
    fn stale_or_cookieless_branch_is_broken() {
        let build = |top: &str| {
            msg(&format!(
                "MESSAGE sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WSS proxy.example.com;branch={top}
Via: SIP/2.0/WS b.invalid;branch=z9hG4bKb1
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: m
CSeq: 1 MESSAGE
Max-Forwards: 69
Content-Length: 0

"
            ))
        };
        assert_eq!(check_fresh_branch(&build("z9hG4bKnew")), Ok(()));
        assert!(is_broken(&check_fresh_branch(&build("z9hG4bKb1"))));
        assert!(is_broken(&check_fresh_branch(&build("1234"))));
        assert!(is_broken(&check_fresh_branch(&build("z9hG4bK"))));
    }

    #[test]
    fn error_codes_are_graded() {
        assert!(judge_error(480, &[480, 430]).is_ok());
        assert!(judge_error(430, &[480, 430]).is_ok());
        assert!(is_should(&judge_error(404, &[480, 430]).map(|_| ())));
        assert!(is_broken(&judge_error(200, &[404]).map(|_| ())));
    }

    #[test]
    fn short_expiry_answers() {
        let ok = |extra: &str| {
            msg(&format!(
                "{}{extra}Content-Length: 0\n\n",
                HEAD.replace("200 OK", "423 Interval Too Brief")
            ))
        };
        assert!(judge_short_expiry(&ok("Min-Expires: 60\n"), 1).is_ok());
        assert!(is_broken(&judge_short_expiry(&ok(""), 1).map(|_| ())));
        assert!(is_broken(
            &judge_short_expiry(&ok("Min-Expires: 1\n"), 1).map(|_| ())
        ));
        assert!(judge_short_expiry(&resp(""), 1).is_ok());
        let forbidden = msg(&format!("{}\n", HEAD.replace("200 OK", "403 Forbidden")));
        assert!(is_broken(&judge_short_expiry(&forbidden, 1).map(|_| ())));
    }

    #[test]
    fn challenges_need_their_header() {
        assert!(judge_auth(&resp("")).is_ok());
        let c401 = |extra: &str| {
            msg(&format!(
                "{}{extra}\n",
                HEAD.replace("200 OK", "401 Unauthorized")
            ))
        };
        assert!(judge_auth(&c401("WWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\n")).is_ok());
        assert!(is_broken(&judge_auth(&c401("")).map(|_| ())));
    }

    fn challenge_401(headers: &str) -> Message {
        msg(&format!(
            "{}{headers}Content-Length: 0\n\n",
            HEAD.replace("200 OK", "401 Unauthorized")
        ))
    }

    #[test]
    fn digest_challenges_are_judged() {
        assert!(is_broken(&judge_challenge(&resp("")).map(|_| ())));
        assert!(is_broken(&judge_challenge(&challenge_401("")).map(|_| ())));
        assert!(is_broken(
            &judge_challenge(&challenge_401("WWW-Authenticate: Basic realm=\"x\"\n")).map(|_| ())
        ));
        let forbidden = msg(&format!("{}\n", HEAD.replace("200 OK", "403 Forbidden")));
        assert!(is_broken(&judge_challenge(&forbidden).map(|_| ())));
        let md5 = challenge_401("WWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\n");
        assert_eq!(
            judge_challenge(&md5),
            Ok("challenged with 401 offering MD5 (implied)".into())
        );
        assert!(is_should(&judge_sha256(&md5)));
        let both = challenge_401(
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=SHA-256, qop=\"auth\"\n\
             WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=MD5, qop=\"auth\"\n",
        );
        assert_eq!(judge_sha256(&both), Ok(()));
    }

    /// The answer the steps build is accepted by the reference registrar's verifier, and a
    /// wrong password is not.
    #[test]
    fn answers_verify_against_the_reference() {
        use sipws_reference::proxy::Time;
        use sipws_reference::proxy::auth::{AuthConfig, AuthOutcome, Authenticator, UserSecret};
        use sipws_reference::proxy::response::response;
        let mut server = Authenticator::new(
            AuthConfig::new(
                "example.com",
                vec![UserSecret::from_password("alice", "example.com", "pw")],
            ),
            b"conformance step test secret....",
        );
        let register = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: c
CSeq: 1 REGISTER
Max-Forwards: 70
Content-Length: 0

");
        let challenge = response(
            &register,
            401,
            "t",
            server.challenge(HeaderName::WwwAuthenticate, false, Time(0)),
        );
        let ok = with_credentials(&register, &challenge, "alice", "pw", "z9hG4bK2", "cn")
            .expect("answerable");
        assert_eq!(ok.cseq().map(|c| c.seq), Some(2));
        assert!(
            ok.value(&HeaderName::Authorization)
                .is_some_and(|v| v.to_string().contains("algorithm=SHA-256"))
        );
        assert_eq!(
            server.verify(&ok, &HeaderName::Authorization, Time(1)),
            AuthOutcome::Authorized("alice".into())
        );
        let wrong = with_credentials(&register, &challenge, "alice", "no", "z9hG4bK3", "cn")
            .expect("answerable");
        assert!(matches!(
            server.verify(&wrong, &HeaderName::Authorization, Time(1)),
            AuthOutcome::Challenge { .. }
        ));
        let unusable = challenge_401(
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"y\", algorithm=SHA-512-256\n",
        );
        assert!(is_broken(
            &with_credentials(&register, &unusable, "a", "b", "z9hG4bK4", "c").map(|_| ())
        ));
    }

    #[test]
    fn received_rport_and_keep() {
        // Built and then altered, since the codec refuses some of these values when parsing.
        let via = |params: &[(&str, Option<&str>)]| {
            let mut v = Via::parse("SIP/2.0/WS a.invalid;branch=z9hG4bK1").expect("valid Via");
            for (name, value) in params {
                v.params.set(name, *value);
            }
            v
        };
        assert!(judge_received(&via(&[])).is_ok());
        assert!(judge_received(&via(&[("received", Some("127.0.0.1"))])).is_ok());
        assert!(judge_received(&via(&[("received", Some("[::1]"))])).is_ok());
        assert!(is_broken(
            &judge_received(&via(&[("received", Some("host.invalid"))])).map(|_| ())
        ));
        let filled = [("rport", Some("5000")), ("received", Some("127.0.0.1"))];
        assert_eq!(check_rport(&via(&filled)), Ok(()));
        assert!(is_should(&check_rport(&via(&[("rport", None)]))));
        assert!(is_should(&check_rport(&via(&[("rport", Some("5000"))]))));
        assert!(is_should(&check_rport(&via(&[
            ("rport", Some("0")),
            ("received", Some("127.0.0.1"))
        ]))));
        assert_eq!(
            judge_keep(&via(&[("keep", Some("30"))])),
            Ok("granted keep=30".into())
        );
        assert!(judge_keep(&via(&[("keep", None)])).is_ok());
        assert!(judge_keep(&via(&[])).is_ok());
        assert!(is_broken(
            &judge_keep(&via(&[("keep", Some("x"))])).map(|_| ())
        ));
    }

    #[test]
    fn path_must_come_back_in_order() {
        let want = match Header::parse(
            "Path",
            "<sip:p1.example.net;lr;ob>, <sip:p2.example.net;lr>",
        )
        .map(|h| h.value)
        {
            Ok(HeaderValue::Addresses(l)) => l,
            other => panic!("a Path value: {other:?}"),
        };
        let same = resp("Path: <sip:p1.example.net;ob;lr>\nPath: <sip:P2.example.net;lr>\n");
        assert_eq!(check_path(&same, &want), Ok(()));
        let swapped = resp("Path: <sip:p2.example.net;lr>, <sip:p1.example.net;lr;ob>\n");
        assert!(is_broken(&check_path(&swapped, &want)));
        assert!(is_broken(&check_path(&resp(""), &want)));
    }

    #[test]
    fn one_device_at_a_time() {
        let m = msg("MESSAGE sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WS proxy.example.com;branch=z9hG4bKp1
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: m
CSeq: 1 MESSAGE
Max-Forwards: 69
Content-Length: 0

");
        let names = ["alice", "alice2"];
        assert_eq!(judge_one_of([Some(&m), None], names), Ok(0));
        assert_eq!(judge_one_of([None, Some(&m)], names), Ok(1));
        assert!(is_broken(
            &judge_one_of([Some(&m), Some(&m)], names).map(|_| ())
        ));
        assert!(is_broken(&judge_one_of([None, None], names).map(|_| ())));
        let register = msg(&format!(
            "REGISTER sip:example.com SIP/2.0\n{}",
            &HEAD["SIP/2.0 200 OK\n".len()..]
                .replace("CSeq: 1 REGISTER", "CSeq: 1 REGISTER\nMax-Forwards: 70\n")
        ));
        assert!(is_broken(
            &judge_one_of([Some(&register), None], names).map(|_| ())
        ));
        assert_eq!(
            describe_answer(&resp("Require: outbound\n")),
            "answered 200, Require: outbound"
        );
    }

    #[test]
    fn client_suggested_gruus_are_refused() {
        let mallory = "sip:mallory@example.net;gr";
        assert!(is_broken(&check_not_suggested(
            "temp-gruu",
            "sip:mallory@EXAMPLE.net;gr",
            mallory
        )));
        assert_eq!(
            check_not_suggested("temp-gruu", "sip:tgruu.1@example.com;gr", mallory),
            Ok(())
        );
    }

    #[test]
    fn gruu_placeholders() {
        let mut learned = Learned::default();
        remember(
            &mut learned,
            "alice",
            Some("sip:a@d;gr=1".into()),
            Some("sip:t1@d;gr".into()),
        );
        remember(&mut learned, "alice", None, Some("sip:t1@d;gr".into()));
        remember(&mut learned, "alice", None, Some("sip:t2@d;gr".into()));
        assert_eq!(
            fill_gruus(
                "MESSAGE {pub-gruu:alice} / {temp-gruu:alice} / {previous-temp-gruu:alice} {n}",
                &learned.gruus
            ),
            Ok("MESSAGE sip:a@d;gr=1 / sip:t2@d;gr / sip:t1@d;gr {n}".into())
        );
        assert!(matches!(
            fill_gruus("{pub-gruu:bob}", &learned.gruus),
            Err(StepError::Harness(_))
        ));
        remember(&mut learned, "carol", None, None);
        assert!(matches!(
            fill_gruus("{temp-gruu:carol}", &learned.gruus),
            Err(StepError::Skip(_))
        ));
        assert!(matches!(
            fill_gruus("{previous-temp-gruu:alice}", &learned.gruus),
            Ok(t) if t == "sip:t1@d;gr"
        ));
        assert_eq!(
            fill_gruus("{pub-gruu:}", &learned.gruus),
            Ok("{pub-gruu:}".into())
        );
        assert_ne!(instance_of("alice"), instance_of("alice2"));
    }
}
