//! Judgements of a request as a proxy forwarded it (RFC 3261 §16.6): its own Via on top with
//! the egress transport and a new branch (item 8), Max-Forwards one less (item 3), its own
//! Route values consumed (§16.4), and a Content-Length that frames the body (§18.3, §20.14),
//! which on a stream the proxy must supply (item 9). Also what the harness's listener read
//! from a TCP connection the target opened to forward a request.

use sipws_reference::sip::{NameAddr, Via};

use super::record_route::list;
use crate::step::{StepError, StepResult};
use crate::wire::listener::{Attempt, TcpRequest, read_stream_request};

/// How many Via values the target put above the sender's: one per proxy the request passed
/// (RFC 3261 §16.6 item 8), however many the target is made of; `None` when the sender's Via
/// is not in the list.
pub fn vias_added(vias: &[Via], sender_host: &str) -> Option<usize> {
    vias.iter()
        .position(|v| v.host.to_string().eq_ignore_ascii_case(sender_host))
}

/// RFC 3261 §16.6 item 8 (and RFC 7118 §5.1 for the token): the request forwarded to a party
/// carries the target's own Via on top, naming the transport of that hop, and every Via the
/// target added above the sender's has a fresh `z9hG4bK` branch. The target is a black box: an
/// edge in front of a home proxy adds two Vias, and that is as right as one.
pub fn new_via(vias: &[Via], token: &str, sender_host: &str) -> StepResult {
    let Some(added) = vias_added(vias, sender_host) else {
        return Err(StepError::broken(format!(
            "the forwarded request no longer carries the sender's Via ({sender_host}) (RFC 3261 §16.6 item 8 adds a Via, it removes none)"
        )));
    };
    let Some(top) = vias.first().filter(|_| added > 0) else {
        return Err(StepError::broken(format!(
            "the forwarded request has {} Via value(s); the target's own Via is missing",
            vias.len()
        )));
    };
    if !top.transport.eq_ignore_ascii_case(token) {
        return Err(StepError::broken(format!(
            "the target's Via says SIP/2.0/{} on a {token} hop",
            top.transport
        )));
    }
    let sender_branch = vias[added].branch();
    for own in &vias[..added] {
        if !own.has_rfc3261_branch() {
            return Err(StepError::broken(match own.branch() {
                Some(b) => format!(
                    "the target's Via branch {b} lacks the z9hG4bK cookie (RFC 3261 §16.6 item 8)"
                ),
                None => "the target's Via has no branch (RFC 3261 §16.6 item 8)".to_string(),
            }));
        }
        if own.branch() == sender_branch {
            return Err(StepError::broken(format!(
                "the target reused the sender's branch {} instead of a new one",
                own.branch().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// RFC 3261 §16.4 (3261-16.4-a): the target's Route values are consumed before forwarding.
pub fn no_route(routes: &[NameAddr]) -> StepResult {
    if routes.is_empty() {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the request still carries Route: {}",
            list(routes)
        )))
    }
}

/// RFC 3261 §16.6 item 3 (3261-16.6-e): every proxy decrements Max-Forwards by one, and
/// every proxy adds one Via (item 8), so the request forwarded to a party carries what was
/// sent less the number of Vias the target added above the sender's. A target made of
/// several proxies passes as one does; one that does not decrement, or decrements twice per
/// hop, fails.
pub fn max_forwards(got: Option<u32>, sent: u32, added: usize) -> Result<String, StepError> {
    let Some(got) = got else {
        return Err(StepError::broken("the request has no Max-Forwards"));
    };
    if added == 0 {
        return Err(StepError::broken(
            "the target added no Via, so the Max-Forwards of a proxied request cannot be judged (RFC 3261 §16.6 item 8)",
        ));
    }
    let want = u64::from(sent).saturating_sub(added as u64);
    if u64::from(got) == want {
        Ok(format!(
            "Max-Forwards {got}: {sent} less one for each of the {added} proxy Via(s)"
        ))
    } else {
        Err(StepError::broken(format!(
            "Max-Forwards is {got}, expected {want}: {sent} sent, less one per proxy, and the target added {added} Via(s)"
        )))
    }
}

/// Content-Length present and equal to the body (RFC 3261 §18.3, §20.14).
pub fn content_length(declared: Option<u32>, body: usize) -> StepResult {
    match declared {
        Some(n) if n as usize == body => Ok(()),
        Some(n) => Err(StepError::broken(format!(
            "Content-Length: {n} but the body is {body} bytes"
        ))),
        None => Err(StepError::broken(format!(
            "no Content-Length (body of {body} bytes)"
        ))),
    }
}

/// The SIP request among the TCP connections that reached the listener: `Ok(None)` while one
/// may still come (a header section or its declared body on its way); once `expired`, what
/// arrived is judged as it is. No connection at all is a skip: the target may not relay to
/// foreign hosts.
pub fn stream_request(
    attempts: &[Attempt],
    expired: bool,
) -> Result<Option<TcpRequest>, StepError> {
    let streams: Vec<&Vec<u8>> = attempts
        .iter()
        .filter_map(|a| match a {
            Attempt::Tcp { bytes, .. } => Some(bytes),
            Attempt::Udp { .. } => None,
        })
        .collect();
    for bytes in &streams {
        match read_stream_request(bytes) {
            Some(Ok(req)) => {
                // Wait for the declared body, bounded by the same deadline.
                let complete = req
                    .content_length
                    .is_none_or(|n| req.body_bytes >= n as usize);
                if complete || expired {
                    return Ok(Some(req));
                }
            }
            Some(Err(e)) => {
                return Err(StepError::broken(format!(
                    "the target sent the listener bytes over TCP that are not a SIP request: {e}"
                )));
            }
            None => {}
        }
    }
    if !expired {
        return Ok(None);
    }
    match streams.first() {
        Some(b) => Err(StepError::broken(format!(
            "the target connected but sent no complete SIP header section ({} bytes)",
            b.len()
        ))),
        None => Err(StepError::Skip(
            "the target did not forward the request to the harness's TCP address (it may not relay to foreign hosts)"
                .into(),
        )),
    }
}

/// A request forwarded over TCP declares the `body` bytes the sender sent and carries them
/// all (RFC 3261 §16.6 item 9, §18.3).
pub fn forwarded_over_tcp(req: &TcpRequest, body: usize) -> StepResult {
    content_length(req.content_length, body).map_err(|e| match e {
        StepError::Broken { message, cap } => StepError::Broken {
            message: format!(
                "{message} on a request forwarded over TCP (RFC 3261 §16.6 item 9): {}",
                req.head
            ),
            cap,
        },
        other => other,
    })?;
    if req.body_bytes < body {
        return Err(StepError::broken(format!(
            "only {} of the {body} body bytes arrived over TCP",
            req.body_bytes
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn is_broken(r: &Result<impl std::fmt::Debug, StepError>) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    fn vias(values: &[&str]) -> Vec<Via> {
        values
            .iter()
            .map(|v| Via::parse(v).expect("test Vias parse"))
            .collect()
    }

    #[test]
    fn the_forwarded_via_must_be_new_and_name_the_egress_transport() {
        let alice = "SIP/2.0/WS a.invalid;branch=z9hG4bK56sdasks";
        let ok = vias(&["SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKhjhjqw32c", alice]);
        assert!(new_via(&ok, "UDP", "a.invalid").is_ok());
        assert!(is_broken(&new_via(&vias(&[alice]), "UDP", "a.invalid")));
        let wrong_token = vias(&["SIP/2.0/WS 192.0.2.10;branch=z9hG4bKx", alice]);
        assert!(is_broken(&new_via(&wrong_token, "UDP", "a.invalid")));
        let no_cookie = vias(&["SIP/2.0/UDP 192.0.2.10;branch=1234", alice]);
        assert_eq!(
            new_via(&no_cookie, "UDP", "a.invalid"),
            Err(StepError::broken(
                "the target's Via branch 1234 lacks the z9hG4bK cookie (RFC 3261 §16.6 item 8)"
            ))
        );
        let no_branch = vias(&["SIP/2.0/UDP 192.0.2.10", alice]);
        assert!(is_broken(&new_via(&no_branch, "UDP", "a.invalid")));
        let reused = vias(&["SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK56sdasks", alice]);
        assert_eq!(
            new_via(&reused, "UDP", "a.invalid"),
            Err(StepError::broken(
                "the target reused the sender's branch z9hG4bK56sdasks instead of a new one"
            ))
        );
        assert!(is_broken(&new_via(&ok, "UDP", "b.invalid")));
        // An edge in front of a home proxy: two Vias above alice's, both new.
        let chain = vias(&[
            "SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKhome1",
            "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKedge1",
            alice,
        ]);
        assert!(new_via(&chain, "UDP", "a.invalid").is_ok());
        let chain_reused = vias(&[
            "SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKhome1",
            "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK56sdasks",
            alice,
        ]);
        assert!(is_broken(&new_via(&chain_reused, "UDP", "a.invalid")));
    }

    #[test]
    fn a_route_left_on_the_forwarded_request_is_a_failure() {
        assert!(no_route(&[]).is_ok());
        let left = [
            NameAddr::parse("<sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>")
                .expect("parses"),
        ];
        assert!(is_broken(&no_route(&left)));
    }

    #[test]
    fn counters_and_lengths() {
        assert!(max_forwards(Some(69), 70, 1).is_ok());
        // Two proxies (an edge and a home proxy), two decrements.
        assert!(max_forwards(Some(68), 70, 2).is_ok());
        assert!(is_broken(&max_forwards(Some(70), 70, 1)));
        assert!(is_broken(&max_forwards(Some(68), 70, 1)));
        assert!(is_broken(&max_forwards(Some(70), 70, 0)));
        assert!(is_broken(&max_forwards(None, 70, 1)));
        assert!(content_length(Some(10), 10).is_ok());
        assert!(is_broken(&content_length(None, 10)));
        assert!(is_broken(&content_length(Some(0), 10)));
    }

    const HEAD: &str = "MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 5\r\n\r\n";

    fn tcp(bytes: &[u8]) -> Attempt {
        Attempt::Tcp {
            from: "127.0.0.1:40000".parse().expect("address"),
            after: Duration::from_millis(5),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn the_request_over_tcp_waits_for_its_body_then_is_judged_as_it_is() {
        let whole = format!("{HEAD}hello");
        let got = stream_request(&[tcp(whole.as_bytes())], false).expect("a request");
        assert_eq!(got.map(|r| r.body_bytes), Some(5));
        // The body on its way: wait, unless the time is up.
        assert_eq!(stream_request(&[tcp(HEAD.as_bytes())], false), Ok(None));
        let late = stream_request(&[tcp(HEAD.as_bytes())], true).expect("judged as it is");
        assert_eq!(late.map(|r| r.body_bytes), Some(0));
        // Not SIP, or no complete head when the time is up: broken; nothing at all: skip.
        assert!(is_broken(&stream_request(
            &[tcp(b"GET / HTTP/1.1\r\n\r\n")],
            false
        )));
        assert_eq!(stream_request(&[tcp(b"MESSAGE sip:b@h")], false), Ok(None));
        assert!(is_broken(&stream_request(&[tcp(b"MESSAGE sip:b@h")], true)));
        let udp = Attempt::Udp {
            from: "127.0.0.1:40001".parse().expect("address"),
            after: Duration::from_millis(5),
            bytes: whole.as_bytes().to_vec(),
        };
        assert!(matches!(
            stream_request(&[udp], true),
            Err(StepError::Skip(_))
        ));
    }

    #[test]
    fn a_forwarded_body_must_be_declared_and_arrive_whole() {
        let req = |content_length, body_bytes| TcpRequest {
            content_length,
            body_bytes,
            head: "MESSAGE sip:b@h SIP/2.0\r\n\r\n".into(),
        };
        assert!(forwarded_over_tcp(&req(Some(5), 5), 5).is_ok());
        let lied = forwarded_over_tcp(&req(Some(0), 5), 5);
        assert!(is_broken(&lied));
        assert!(format!("{lied:?}").contains("on a request forwarded over TCP"));
        assert!(is_broken(&forwarded_over_tcp(&req(None, 5), 5)));
        assert_eq!(
            forwarded_over_tcp(&req(Some(5), 3), 5),
            Err(StepError::broken(
                "only 3 of the 5 body bytes arrived over TCP"
            ))
        );
    }
}
