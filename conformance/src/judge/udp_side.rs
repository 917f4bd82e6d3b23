//! Judgements of what the UDP phone received from the target's SIP/UDP side (RFC 7118 §8.2:
//! Bob behind the proxy): the request it expected, the final status it expected.

use crate::step::{StepError, StepResult};

/// The phone took a request of the expected method.
pub fn request_is(phone: &str, got: &str, want: &str) -> StepResult {
    if got == want {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the UDP phone {phone} expected {want} and received {got}"
        )))
    }
}

/// The final response the phone read has the expected status.
pub fn final_is(phone: &str, got: u16, want: u16) -> StepResult {
    if got == want {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the UDP phone {phone} expected {want} and got {got}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_method_or_status_breaks() {
        assert_eq!(request_is("bob", "INVITE", "INVITE"), Ok(()));
        assert_eq!(
            request_is("bob", "BYE", "ACK"),
            Err(StepError::broken(
                "the UDP phone bob expected ACK and received BYE"
            ))
        );
        assert_eq!(final_is("bob", 200, 200), Ok(()));
        assert_eq!(
            final_is("bob", 481, 200),
            Err(StepError::broken(
                "the UDP phone bob expected 200 and got 481"
            ))
        );
    }
}
