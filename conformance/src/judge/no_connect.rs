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
