//! Judgements of the Record-Route values a record-routing proxy writes into the request it
//! forwards, and of the 2xx that carries them back: present with `lr` (RFC 3261 §16.6 item 4),
//! one value per side when the transports differ, each naming its own side's transport and
//! never `transport=tls` (RFC 5658 §6.2), SIPS when the Request-URI is (RFC 3261 §16.6 item
//! 4), `transport=ws`/`wss` towards a WebSocket hop (RFC 7118 §5.2; spec/requirements.md A1), a flow
//! token in the user part as RFC 7118 §8.2 F3 shows it, and not rewritten on the way back
//! (RFC 3261 §16.7 item 8 allows it, so that is only information).

use sipws_reference::sip::NameAddr;

use crate::step::{StepError, StepResult};
use crate::verdict::Level;

/// The `transport` parameter of a value's URI, lower-cased.
pub fn transport_of(v: &NameAddr) -> Option<String> {
    v.sip_uri()
        .and_then(|u| u.transport_param())
        .map(str::to_ascii_lowercase)
}

/// Header values for a message: comma-separated, or `none`.
pub fn list(values: &[NameAddr]) -> String {
    if values.is_empty() {
        return "none".into();
    }
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The transports a step expects, per position: "udp then ws or wss" → [["udp"], ["ws", "wss"]].
pub fn parse_transport_spec(spec: &str) -> Vec<Vec<String>> {
    spec.split(" then ")
        .map(|pos| {
            pos.split(" or ")
                .map(|t| t.trim().trim_matches('"').to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect()
}

/// The values facing the two parties' hops: the top one (added last, by the proxy that sent
/// the request to the callee) and the bottom one (added first, by the proxy that took it from
/// the caller). A target made of several proxies has values for its inner hops between them,
/// which say nothing about the parties' hops.
pub fn facing_ends(rr: &[NameAddr]) -> Vec<&NameAddr> {
    match rr {
        [] => Vec::new(),
        [only] => vec![only],
        [first, .., last] => vec![first, last],
    }
}

/// RFC 5658 §6.2 (5658-6.2-a): a proxy switching transports SHOULD insert two values, one
/// per side; other proxies of the target may add theirs, so at least that many.
pub fn count(rr: &[NameAddr], want: usize) -> StepResult {
    if rr.len() >= want {
        Ok(())
    } else {
        Err(StepError::should(format!(
            "{} Record-Route value(s) where at least {want} were expected: {}",
            rr.len(),
            list(rr)
        )))
    }
}

/// RFC 3261 §16.6 item 4 (3261-16.6-b): at least one value, each a SIP or SIPS URI with `lr`.
/// Returns what was seen.
pub fn present(rr: &[NameAddr]) -> Result<String, StepError> {
    if rr.is_empty() {
        return Err(StepError::broken(
            "the target did not Record-Route: no Record-Route header",
        ));
    }
    for v in rr {
        match v.sip_uri() {
            None => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} is not a SIP or SIPS URI"
                )));
            }
            Some(u) if !u.lr() => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} has no lr parameter (RFC 3261 §16.6 item 4)"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(format!("{} Record-Route value(s): {}", rr.len(), list(rr)))
}

/// Each position's `transport` parameter is one of the allowed ones (RFC 5658 §6.2: one per
/// value, each describing its own side), top first. When the target put more values than the
/// spec names (inner hops of a target made of several proxies), the spec's first entry judges
/// the top value and its last entry the bottom one, the values facing the parties. Returns the
/// choices made where several were allowed.
pub fn transports(rr: &[NameAddr], spec: &[Vec<String>]) -> Result<Vec<String>, StepError> {
    if rr.len() < spec.len() || (rr.len() > spec.len() && spec.len() != 2) {
        return Err(StepError::broken(format!(
            "{} Record-Route value(s) where {} were expected: {}",
            rr.len(),
            spec.len(),
            list(rr)
        )));
    }
    let positions: Vec<(usize, &NameAddr)> = if rr.len() == spec.len() {
        rr.iter().enumerate().collect()
    } else {
        vec![(0, &rr[0]), (rr.len() - 1, &rr[rr.len() - 1])]
    };
    let mut chosen = Vec::new();
    for ((i, v), allowed) in positions.into_iter().zip(spec) {
        match transport_of(v) {
            Some(t) if allowed.contains(&t) => {
                if allowed.len() > 1 {
                    chosen.push(format!("Record-Route value {} uses transport={t}", i + 1));
                }
            }
            other => {
                return Err(StepError::broken(format!(
                    "Record-Route value {} ({v}) has {}, expected transport={}",
                    i + 1,
                    other.map_or("no transport parameter".to_string(), |t| format!(
                        "transport={t}"
                    )),
                    allowed.join(" or transport=")
                )));
            }
        }
    }
    Ok(chosen)
}

/// RFC 5658 §6.2 (5658-6.2-b): `transport=tls` MUST NOT be used for a WebSocket hop; the
/// values facing the parties' hops are judged ([`facing_ends`]).
pub fn no_tls(rr: &[NameAddr]) -> StepResult {
    match facing_ends(rr)
        .into_iter()
        .find(|v| transport_of(v).as_deref() == Some("tls"))
    {
        Some(v) => Err(StepError::broken(format!(
            "Record-Route value {v} carries transport=tls, which RFC 5658 §6.2 forbids"
        ))),
        None => Ok(()),
    }
}

/// RFC 3261 §16.6 item 4 (3261-16.6-c): with a SIPS Request-URI every Record-Route is SIPS.
pub fn all_sips(rr: &[NameAddr]) -> StepResult {
    if rr.is_empty() {
        return Err(StepError::broken(
            "no Record-Route: a sips: request arriving over one hop and leaving over another needs one (RFC 3261 §16.6 item 4)",
        ));
    }
    match rr.iter().find(|v| !v.sip_uri().is_some_and(|u| u.secure)) {
        Some(v) => Err(StepError::broken(format!(
            "Record-Route value {v} is not a sips: URI although the Request-URI is"
        ))),
        None => Ok(()),
    }
}

/// RFC 7118 §5.2 (7118-5.2-a): a URI for a WebSocket hop says `transport=ws` (`wss` is the
/// field's variant, A1): the values facing the parties' WebSocket hops ([`facing_ends`]) are
/// judged. Returns the style of each.
pub fn ws_transports(rr: &[NameAddr]) -> Result<Vec<String>, StepError> {
    if rr.is_empty() {
        return Err(StepError::broken("no Record-Route value to judge"));
    }
    let mut seen = Vec::new();
    for v in facing_ends(rr) {
        match (v.sip_uri(), transport_of(v).as_deref()) {
            (Some(u), Some(t @ ("ws" | "wss"))) => {
                seen.push(format!("{}:…;transport={t}", u.scheme()));
            }
            (_, other) => {
                return Err(StepError::broken(format!(
                    "Record-Route value {v} faces a WebSocket hop but has {}",
                    other.map_or("no transport parameter".into(), |t| format!(
                        "transport={t}"
                    ))
                )));
            }
        }
    }
    Ok(seen)
}

/// The value with `transport` (lower case) has a user part, where RFC 7118 §8.2 F3 keeps the
/// flow token (RFC 5626 §5.3.2 leaves its place open). Returns the user part.
pub fn user_part(rr: &[NameAddr], transport: &str) -> Result<String, StepError> {
    let v = rr
        .iter()
        .find(|v| transport_of(v).as_deref() == Some(transport))
        .ok_or_else(|| {
            StepError::broken(format!(
                "no Record-Route value with transport={transport}: {}",
                list(rr)
            ))
        })?;
    v.sip_uri().and_then(|u| u.user.clone()).ok_or_else(|| {
        StepError::broken(format!(
            "Record-Route value {v} has no user part (no flow token as in RFC 7118 §8.2)"
        ))
    })
}

/// The 2xx carries back the values the callee received, in the same order; a rewrite is
/// allowed (RFC 3261 §16.7 item 8), so it is only information.
pub fn unchanged(got: &[NameAddr], sent: &[NameAddr]) -> StepResult {
    if got == sent {
        Ok(())
    } else {
        Err(StepError::Broken {
            message: format!(
                "the Record-Route was rewritten on the way back (RFC 3261 §16.7 item 8 allows it): sent {}, received {}",
                list(sent),
                list(got)
            ),
            cap: Some(Level::Info),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(values: &[&str]) -> Vec<NameAddr> {
        values
            .iter()
            .map(|v| NameAddr::parse(v).expect("test values parse"))
            .collect()
    }

    fn is_broken(r: &Result<impl std::fmt::Debug, StepError>, cap: Option<Level>) -> bool {
        matches!(r, Err(StepError::Broken { cap: c, .. }) if *c == cap)
    }

    const F3_RR: [&str; 2] = [
        "<sip:proxy.example.com;transport=udp;lr>",
        "<sip:h7kjh12s@proxy.example.com:443;transport=ws;lr>",
    ];

    #[test]
    fn one_record_route_where_two_are_required_is_a_should_failure() {
        let one = addrs(&F3_RR[..1]);
        assert!(is_broken(&count(&one, 2), Some(Level::Should)));
        assert!(count(&addrs(&F3_RR), 2).is_ok());
        assert!(is_broken(
            &transports(&one, &parse_transport_spec("udp then ws")),
            None
        ));
    }

    #[test]
    fn a_target_of_several_proxies_is_judged_on_the_values_facing_the_parties() {
        // An edge (WS -> internal UDP, two values) behind a home proxy (UDP, one value).
        let chain = addrs(&[
            "<sip:home.example;transport=udp;lr>",
            "<sip:edge.example;transport=udp;lr>",
            "<sip:tok@edge.example;transport=ws;lr>",
        ]);
        assert!(count(&chain, 2).is_ok());
        assert!(transports(&chain, &parse_transport_spec("udp then ws")).is_ok());
        assert_eq!(facing_ends(&chain).len(), 2);
        // Between two WebSocket parties the inner hop may be anything, even TLS.
        let ws_chain = addrs(&[
            "<sip:home.example;transport=ws;lr>",
            "<sip:edge.example;transport=tls;lr>",
            "<sip:tok@edge.example;transport=ws;lr>",
        ]);
        assert!(ws_transports(&ws_chain).is_ok());
        assert!(no_tls(&ws_chain).is_ok());
        // A value facing a party is still judged.
        let bad_end = addrs(&[
            "<sip:home.example;transport=tls;lr>",
            "<sip:tok@edge.example;transport=ws;lr>",
        ]);
        assert!(is_broken(&no_tls(&bad_end), None));
        assert!(is_broken(&ws_transports(&bad_end), None));
        let wrong_bottom = addrs(&[
            "<sip:home.example;transport=udp;lr>",
            "<sip:edge.example;transport=udp;lr>",
            "<sip:edge.example;transport=udp;lr>",
        ]);
        assert!(is_broken(
            &transports(&wrong_bottom, &parse_transport_spec("udp then ws")),
            None
        ));
    }

    #[test]
    fn transports_are_judged_per_position() {
        let spec = parse_transport_spec("udp then ws");
        assert_eq!(spec, vec![vec!["udp".to_string()], vec!["ws".to_string()]]);
        assert_eq!(transports(&addrs(&F3_RR), &spec).ok(), Some(vec![]));
        // Swapped: the top value must face the egress (UDP) side.
        let swapped = addrs(&[F3_RR[1], F3_RR[0]]);
        assert!(is_broken(&transports(&swapped, &spec), None));
        // No transport parameter at all.
        let bare = addrs(&["<sip:p.example.com;lr>", F3_RR[1]]);
        assert!(is_broken(&transports(&bare, &spec), None));
        // Alternatives are reported as an observation.
        let wss = addrs(&["<sip:p;transport=ws;lr>", "<sip:p:443;transport=WSS;lr>"]);
        let chosen = transports(&wss, &parse_transport_spec("ws then ws or wss"))
            .expect("wss is allowed on the WSS side");
        assert_eq!(chosen, vec!["Record-Route value 2 uses transport=wss"]);
    }

    #[test]
    fn transport_tls_in_a_record_route_is_a_must_failure() {
        let tls = addrs(&["<sip:p;transport=ws;lr>", "<sip:p:5061;transport=TLS;lr>"]);
        assert!(is_broken(&no_tls(&tls), None));
        assert!(no_tls(&addrs(&F3_RR)).is_ok());
    }

    #[test]
    fn record_route_presence_needs_lr_and_a_sip_uri() {
        assert!(is_broken(&present(&[]), None));
        assert!(is_broken(&present(&addrs(&["<sip:p;transport=ws>"])), None));
        assert!(is_broken(&present(&addrs(&["<tel:+1555>"])), None));
        assert!(present(&addrs(&F3_RR)).is_ok());
    }

    #[test]
    fn sips_request_needs_sips_record_routes() {
        assert!(is_broken(
            &all_sips(&addrs(&["<sip:p:443;transport=ws;lr>"])),
            None
        ));
        assert!(is_broken(&all_sips(&[]), None));
        assert!(all_sips(&addrs(&["<sips:p:443;transport=ws;lr>"])).is_ok());
    }

    #[test]
    fn websocket_hops_need_transport_ws_or_wss() {
        assert!(is_broken(&ws_transports(&addrs(&["<sip:p:80;lr>"])), None));
        assert!(is_broken(
            &ws_transports(&addrs(&["<sip:p;transport=tcp;lr>"])),
            None
        ));
        assert_eq!(
            ws_transports(&addrs(&[
                "<sip:p;transport=ws;lr>",
                "<sips:p;transport=wss;lr>"
            ]))
            .ok(),
            Some(vec![
                "sip:…;transport=ws".to_string(),
                "sips:…;transport=wss".to_string()
            ])
        );
    }

    #[test]
    fn the_ws_side_value_needs_a_user_part_for_the_flow_token() {
        assert_eq!(
            user_part(&addrs(&F3_RR), "ws").ok(),
            Some("h7kjh12s".into())
        );
        // The UDP-side value has no user part; a missing transport is reported as such.
        assert!(is_broken(&user_part(&addrs(&F3_RR), "udp"), None));
        assert!(is_broken(&user_part(&addrs(&F3_RR[..1]), "ws"), None));
        assert!(is_broken(&user_part(&[], "ws"), None));
    }

    #[test]
    fn a_rewritten_record_route_is_only_information() {
        let sent = addrs(&F3_RR);
        assert!(unchanged(&sent, &sent).is_ok());
        let rewritten = addrs(&[
            F3_RR[0],
            "<sip:other@proxy.example.com:443;transport=ws;lr>",
        ]);
        assert!(is_broken(&unchanged(&rewritten, &sent), Some(Level::Info)));
        // The same values in another order are a rewrite too.
        let reordered = addrs(&[F3_RR[1], F3_RR[0]]);
        assert!(is_broken(&unchanged(&reordered, &sent), Some(Level::Info)));
    }
}
