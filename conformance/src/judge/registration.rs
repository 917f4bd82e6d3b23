//! Judgements of a registrar's answers (RFC 3261 §10.3): the contacts a 200 lists, their
//! parameters, the answer to a too brief expiry (§10.3 step 7), the error a request that must
//! not be delivered gets, and what a final response says, for the record. Also what the other
//! registrar judges share: reading a comma-separated header, and URI equality (RFC 3261
//! §19.1.4, simplified) for what a registrar echoes back (a Path, a GRUU).
//!
//! A device's Contact is the one whose URI host is the `.invalid` host of the connection it
//! registered from: one connection is one device of the user.

use sipws_reference::sip::scan::unquote;
use sipws_reference::sip::{HeaderName, HeaderValue, Host, Message, NameAddr, Params, Uri};

use super::sip::status;
use crate::step::{StepError, StepResult};

/// Every Contact of a message, for a message that names them.
fn list_contacts(m: &Message) -> String {
    let all: Vec<String> = m.contacts().map(|c| c.to_string()).collect();
    if all.is_empty() {
        "no Contact at all".into()
    } else {
        all.join(", ")
    }
}

/// The Contact of `resp` registered from the device whose `.invalid` host is `host`.
pub fn contact_for<'m>(
    resp: &'m Message,
    host: &str,
    who: &str,
) -> Result<&'m NameAddr, StepError> {
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

/// The response lists no Contact of the device (its binding is gone).
pub fn no_contact(resp: &Message, host: &str, who: &str) -> StepResult {
    match contact_for(resp, host, who) {
        Err(_) => Ok(()),
        Ok(c) => Err(StepError::broken(format!(
            "the response still lists {who}'s contact {c}"
        ))),
    }
}

/// The 200 lists exactly `want` bindings (RFC 3261 §10.3 step 8).
pub fn check_contact_count(resp: &Message, want: usize) -> StepResult {
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
pub fn check_param(c: &NameAddr, name: &str, value: Option<&str>, who: &str) -> StepResult {
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

/// The answer to a device's REGISTER lets the case go on: 200. A challenge (RFC 7118 §7 allows
/// the registrar to demand SIP authentication) is a skip: only the `@needs:auth` cases answer
/// one.
pub fn judge_registered(resp: &Message, who: &str, transport: &str) -> StepResult {
    match status(resp) {
        Some(200) => Ok(()),
        Some(c @ (401 | 407)) => Err(StepError::Skip(format!(
            "the target demands SIP authentication ({c}; RFC 7118 §7 allows it), which \
             the suite does not perform"
        ))),
        Some(c) => Err(StepError::broken(format!(
            "registering {who} over {transport} got {c}, not 200"
        ))),
        None => Err(StepError::broken(format!(
            "registering {who} over {transport} got a request, not 200"
        ))),
    }
}

/// A request that must not be delivered got a final answer: an error is required, the
/// preferred codes are what the RFCs recommend (anything else is a warning).
pub fn judge_error(code: u16, preferred: &[u16]) -> Result<String, StepError> {
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
pub fn judge_short_expiry(resp: &Message, requested: u32) -> Result<String, StepError> {
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
        Some(code) => Err(StepError::broken(format!(
            "expected 423 with Min-Expires, or 200; got {code}"
        ))),
        None => Err(StepError::broken(
            "expected 423 with Min-Expires, or 200; got a request",
        )),
    }
}

/// The values of a comma-separated header (option tags, or plain text split at commas).
pub fn list_values(resp: &Message, header: &str) -> Vec<String> {
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

/// What a final response says, for the record.
pub fn describe_answer(resp: &Message) -> String {
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

/// Same parameter set, names and values compared case-insensitively, order ignored.
fn same_params(a: &Params, b: &Params) -> bool {
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

/// URI equality for comparing what a registrar returns (a Path, a GRUU) with what was sent:
/// scheme, user, host (case-insensitive), port, parameters.
pub fn same_uri(a: &Uri, b: &Uri) -> bool {
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

/// Fabricated registrar answers for the judgement tests of every registrar concept.
#[cfg(test)]
pub(crate) mod fixtures {
    use sipws_reference::sip::{Message, NameAddr};

    use super::contact_for;
    use crate::step::{StepError, StepResult};
    use crate::verdict::Level;

    pub fn msg(text: &str) -> Message {
        let text = text.trim_start().replace('\n', "\r\n");
        Message::parse(text.as_bytes()).expect("a valid fabricated message")
    }

    pub const HEAD: &str = "SIP/2.0 200 OK
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>;tag=2
Call-ID: c
CSeq: 1 REGISTER
";

    pub fn resp(extra: &str) -> Message {
        msg(&format!("{HEAD}{extra}Content-Length: 0\n\n"))
    }

    /// A 401 with these extra headers.
    pub fn challenge_401(headers: &str) -> Message {
        msg(&format!(
            "{}{headers}Content-Length: 0\n\n",
            HEAD.replace("200 OK", "401 Unauthorized")
        ))
    }

    pub fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    pub fn is_should(r: &StepResult) -> bool {
        matches!(
            r,
            Err(StepError::Broken {
                cap: Some(Level::Should),
                ..
            })
        )
    }

    pub const GOOD_CONTACT: &str = "Contact: <sip:alice@a.invalid;transport=ws>;reg-id=1;\
        +sip.instance=\"<urn:uuid:1>\";expires=3600;\
        pub-gruu=\"sip:alice@example.com;gr=urn:uuid:1\";temp-gruu=\"sip:t1@example.com;gr\"\n";

    /// The good Contact with some parameters replaced.
    pub fn altered(params: &[(&str, Option<&str>)]) -> NameAddr {
        let r = resp(GOOD_CONTACT);
        let mut c = contact_for(&r, "a.invalid", "alice")
            .expect("the good contact")
            .clone();
        for (name, value) in params {
            c.params.set(name, *value);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn contact_without_expires_is_broken() {
        let good = resp(GOOD_CONTACT);
        let c = contact_for(&good, "A.invalid", "alice").expect("found by host");
        assert_eq!(check_param(c, "expires", None, "alice"), Ok(()));
        assert_eq!(check_param(c, "reg-id", Some("1"), "alice"), Ok(()));

        let bad = resp("Contact: <sip:alice@a.invalid;transport=ws>;reg-id=1\n");
        let c = contact_for(&bad, "a.invalid", "alice").expect("found");
        assert!(is_broken(&check_param(c, "expires", None, "alice")));
        assert!(is_broken(&check_param(c, "reg-id", Some("2"), "alice")));
        // The codec refuses these when parsing; a target's 200 is judged after a lenient
        // reader, so the judgement must refuse them too.
        let c = altered(&[("expires", Some("soon"))]);
        assert!(is_broken(&check_param(&c, "expires", None, "alice")));
        let c = altered(&[("expires", None)]);
        assert!(is_broken(&check_param(&c, "expires", None, "alice")));
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
    fn only_a_200_registers() {
        assert_eq!(judge_registered(&resp(""), "alice", "WS"), Ok(()));
        assert!(matches!(
            judge_registered(&challenge_401(""), "alice", "WS"),
            Err(StepError::Skip(_))
        ));
        let forbidden = msg(&format!("{}\n", HEAD.replace("200 OK", "403 Forbidden")));
        assert_eq!(
            judge_registered(&forbidden, "alice", "WSS"),
            Err(StepError::broken(
                "registering alice over WSS got 403, not 200"
            ))
        );
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
        assert_eq!(
            judge_short_expiry(&forbidden, 1),
            Err(StepError::broken(
                "expected 423 with Min-Expires, or 200; got 403"
            ))
        );
    }

    #[test]
    fn a_final_answer_is_described() {
        assert_eq!(
            describe_answer(&resp("Require: outbound\n")),
            "answered 200, Require: outbound"
        );
    }
}
