//! Judgements of the Via headers the target writes: the transport token of the Via it adds
//! for a WebSocket hop (RFC 7118 §5.1), its fresh branch and the sender's Via kept below it
//! (RFC 3261 §16.6 item 8, §8.1.1.7), and in a response's top Via the `received` RFC 7118 §5.3
//! lets a server leave out, `rport` (RFC 3581 §4) and `keep` (RFC 6223 §4.3).

use std::net::IpAddr;

use sipws_reference::sip::{Host, Message, Via};

use crate::step::{StepError, StepResult};

/// The top Via of a message.
pub fn top_via(m: &Message) -> Result<&Via, StepError> {
    m.top_via()
        .ok_or_else(|| StepError::broken("the message has no Via"))
}

/// RFC 7118 §5.1: the Via the target adds for a WS hop says `WS`, for a WSS hop `WSS`. The ABNF
/// literal is case-insensitive (7118-5.1-b): another spelling is accepted and observed.
pub fn check_via_transport(req: &Message, want: &str) -> Result<Option<String>, StepError> {
    let via = top_via(req)?;
    if !via.transport.eq_ignore_ascii_case(want) {
        return Err(StepError::broken(format!(
            "the target's Via on this hop must say {want} (RFC 7118 §5.1); it says {}: {via}",
            via.transport
        )));
    }
    Ok((via.transport != want).then(|| format!("the Via token is spelled {}", via.transport)))
}

/// What `conn` received is a MESSAGE whose top Via says `want` ([`check_via_transport`]); the
/// wrong request is named before its Via is judged.
pub fn judge_message_via(
    req: &Message,
    conn: &str,
    want: &str,
) -> Result<Option<String>, StepError> {
    match req.method().map(|m| m.as_str()) {
        Some("MESSAGE") => check_via_transport(req, want),
        Some(other) => Err(StepError::broken(format!(
            "expected a MESSAGE on {conn}, got {other}"
        ))),
        None => Err(StepError::broken(format!(
            "expected a MESSAGE on {conn}, got a response"
        ))),
    }
}

/// RFC 3261 §16.6 item 8: the proxy's own Via carries a branch of its own, starting with the
/// magic cookie (§8.1.1.7), different from every branch below it.
pub fn check_fresh_branch(req: &Message) -> StepResult {
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
pub fn check_kept_via(req: &Message, host: &str, who: &str) -> StepResult {
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

fn is_ip(s: &str) -> bool {
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
}

/// RFC 7118 §5.3: on WS `received` may be left out; when present it is an address (RFC 3261
/// §20.42 grammar).
pub fn judge_received(via: &Via) -> Result<String, StepError> {
    match via.params.get("received") {
        None => Ok("no received on the WS Via (RFC 7118 §5.3 allows leaving it out)".into()),
        Some(Some(r)) if is_ip(r) => Ok(format!("received={r} added to the WS Via")),
        Some(Some(r)) => Err(StepError::broken(format!(
            "received must be an IP address (RFC 3261 §18.2.1); got received={r}"
        ))),
        Some(None) => Err(StepError::broken(
            "received must be an IP address (RFC 3261 §18.2.1); got a received without a value",
        )),
    }
}

/// RFC 3581 §4 (spec/requirements.md A8): a value-less `rport` is filled with the source port and
/// `received` is added, whatever the transport.
pub fn check_rport(via: &Via) -> StepResult {
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
pub fn judge_keep(via: &Via) -> Result<String, StepError> {
    match via.params.get("keep") {
        None => Ok("keep is gone from the response's Via: not granted".into()),
        Some(None) | Some(Some("")) => Ok("keep echoed without a value: not granted".into()),
        Some(Some(v)) if v.bytes().all(|b| b.is_ascii_digit()) => Ok(format!("granted keep={v}")),
        Some(Some(v)) => Err(StepError::broken(format!(
            "keep must carry delta-seconds (RFC 6223 §5); got keep={v}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::registration::fixtures::*;

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
        assert_eq!(judge_message_via(&req, "alice", "WS"), Ok(None));
        assert!(is_broken(
            &judge_message_via(&req, "alice", "WSS").map(|_| ())
        ));
        let invite = msg("INVITE sip:alice@a.invalid SIP/2.0
Via: SIP/2.0/WS proxy.example.com;branch=z9hG4bKp1
From: <sip:bob@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: m
CSeq: 1 INVITE
Max-Forwards: 69
Content-Length: 0

");
        assert_eq!(
            judge_message_via(&invite, "alice", "WS"),
            Err(StepError::broken("expected a MESSAGE on alice, got INVITE"))
        );
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
        assert!(is_broken(
            &judge_received(&via(&[("received", None)])).map(|_| ())
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
}
