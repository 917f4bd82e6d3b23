//! Judgements of the no-connect rule and of how a request for a dead flow ends: a SIP
//! WebSocket server never connects to a client (RFC 7118 §5, Appendix B; RFC 5626 §7;
//! spec/requirements.md A9), so nothing may reach the listener standing in for the client's address;
//! and a request it cannot deliver ends at once in a final error (RFC 3261 §16.5: 480 once the
//! bindings are gone; RFC 5626 §5.3.1: 430 for a dead flow's token), never a 2xx.

use crate::step::{StepError, StepResult};
use crate::wire::listener::Attempt;

/// The no-connect rule (A9): nothing may reach the listener.
pub fn no_attempt(attempts: &[Attempt]) -> StepResult {
    match attempts.first() {
        None => Ok(()),
        Some(a) => Err(StepError::broken(format!(
            "the target tried to reach the address the case stands in for: {}",
            a.describe()
        ))),
    }
}

/// A request that cannot be delivered ends in a final error, not a 2xx.
pub fn final_error(code: u16) -> StepResult {
    match code {
        300..=699 => Ok(()),
        200..=299 => Err(StepError::broken(format!(
            "got {code}: the request was accepted although it could not be delivered"
        ))),
        _ => Err(StepError::broken(format!("{code} is not a final response"))),
    }
}

/// How the request for a flow that is gone was routed: by the dead flow's token in a Route
/// (an edge's own token, RFC 5626 §5.3.1), or to the AoR whose bindings the flow carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneBy {
    FlowToken,
    Aor,
}

/// The answer to a request for a flow that is gone, graded by what the target does: any
/// final error is right for a proxy without Outbound (RFC 3261 §16.7 step 6 makes a failed
/// forward a 5xx); an Outbound target (as probed) SHOULD answer 430 for a request routed by
/// the dead flow's token (RFC 5626 §5.3.1) and 480 or 430 for an AoR left without a flow
/// (RFC 5626 §7, RFC 3261 §16.5), another code warns and names it. A 2xx fails (the request
/// cannot have been delivered). Returns the observation.
pub fn gone_flow_answer(code: u16, by: GoneBy, outbound: bool) -> Result<String, StepError> {
    final_error(code)?;
    let preferred: &[u16] = match by {
        GoneBy::FlowToken => &[430],
        GoneBy::Aor => &[480, 430],
    };
    if preferred.contains(&code) {
        return Ok(format!("answered {code}"));
    }
    if !outbound {
        return Ok(format!(
            "answered {code}: a target without Outbound may answer any final error (RFC 3261 §16.7 step 6)"
        ));
    }
    let want = preferred
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    Err(StepError::should(match by {
        GoneBy::FlowToken => format!(
            "answered {code}; a request routed by the token of a flow that is gone should get {want} Flow Failed (RFC 5626 §5.3.1)"
        ),
        GoneBy::Aor => format!(
            "answered {code}; an Outbound target whose only flow for the AoR is gone should answer {want} (RFC 5626 §7)"
        ),
    }))
}

/// The final status is one of the two the case allows.
pub fn one_of(got: u16, first: u16, second: u16) -> StepResult {
    if got == first || got == second {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the final status is {got}, neither {first} nor {second}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    #[test]
    fn a_gone_flow_is_graded_by_what_the_target_does() {
        use super::GoneBy::{Aor, FlowToken};
        // Without Outbound, Kamailio's 500 is as right as any final error.
        assert!(gone_flow_answer(500, Aor, false).is_ok());
        assert!(gone_flow_answer(500, FlowToken, false).is_ok());
        assert!(gone_flow_answer(480, Aor, true).is_ok());
        assert!(gone_flow_answer(430, FlowToken, true).is_ok());
        // With Outbound another code warns and names it.
        let warn = gone_flow_answer(500, FlowToken, true);
        assert!(
            matches!(&warn, Err(StepError::Broken { cap: Some(_), message }) if message.contains("answered 500")),
            "{warn:?}"
        );
        assert!(matches!(
            gone_flow_answer(503, Aor, true),
            Err(StepError::Broken { cap: Some(_), .. })
        ));
        // A 2xx fails whatever the target is.
        assert!(matches!(
            gone_flow_answer(200, Aor, false),
            Err(StepError::Broken { cap: None, .. })
        ));
    }

    #[test]
    fn a_connection_attempt_or_datagram_breaks_the_no_connect_rule() {
        assert!(no_attempt(&[]).is_ok());
        let tcp = Attempt::Tcp {
            from: "127.0.0.1:40000".parse().expect("address"),
            after: Duration::from_millis(12),
            bytes: b"GET / HTTP/1.1\r\n".to_vec(),
        };
        let r = no_attempt(&[tcp]);
        assert!(is_broken(&r));
        assert!(format!("{r:?}").contains("TCP connection from 127.0.0.1:40000"));
        let udp = Attempt::Udp {
            from: "127.0.0.1:40001".parse().expect("address"),
            after: Duration::from_millis(3),
            bytes: b"SIP/2.0 200 OK\r\n".to_vec(),
        };
        assert!(is_broken(&no_attempt(&[udp])));
    }

    #[test]
    fn statuses() {
        assert!(final_error(480).is_ok());
        assert!(final_error(430).is_ok());
        assert!(is_broken(&final_error(200)));
        assert!(is_broken(&final_error(180)));
        assert!(one_of(480, 480, 430).is_ok());
        assert!(one_of(430, 480, 430).is_ok());
        assert_eq!(
            one_of(404, 480, 430),
            Err(StepError::broken(
                "the final status is 404, neither 480 nor 430"
            ))
        );
    }
}
