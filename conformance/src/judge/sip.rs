//! Judgements of single SIP messages the target sent: the status of a response, the method of
//! a request, a header's presence (RFC 3261 §7, §20).

use sipws_reference::sip::{HeaderName, Message};

use crate::step::{StepError, StepResult};
use crate::wire::{Received, describe};

/// A response's status code, when it is a response.
pub fn status(m: &Message) -> Option<u16> {
    m.status_line().map(|s| s.code)
}

/// A status line in words: `403 Forbidden`.
pub fn status_text(m: &Message) -> String {
    match m.status_line() {
        Some(s) => format!("{} {}", s.code, s.reason),
        None => "a request instead of a response".to_string(),
    }
}

/// The response carries exactly this status.
pub fn status_is(resp: &Message, want: u16) -> StepResult {
    match status(resp) {
        Some(got) if got == want => Ok(()),
        Some(got) => Err(StepError::broken(format!(
            "expected status {want}, got {got}"
        ))),
        None => Err(StepError::broken(format!(
            "expected status {want}, got a request"
        ))),
    }
}

/// The request has this method.
pub fn method_is(req: &Message, want: &str) -> StepResult {
    match req.method().map(|m| m.to_string()) {
        Some(got) if got == want => Ok(()),
        Some(got) => Err(StepError::broken(format!(
            "expected a {want} request, got a {got} request"
        ))),
        None => Err(StepError::broken(format!(
            "expected a {want} request, got a response"
        ))),
    }
}

/// The message carries the header (any form of its name, RFC 3261 §7.3.3).
pub fn has_header(m: &Message, name: &str) -> StepResult {
    if m.value(&HeaderName::parse(name)).is_some() {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the response has no {name} header"
        )))
    }
}

/// The message does not carry the header.
pub fn lacks_header(m: &Message, name: &str) -> StepResult {
    match m.value(&HeaderName::parse(name)) {
        None => Ok(()),
        Some(v) => Err(StepError::broken(format!(
            "the response carries {name}: {v}"
        ))),
    }
}

/// Nothing came on the connection within the wait.
pub fn nothing(conn: &str, got: &Received) -> StepResult {
    match got {
        Received::Timeout => Ok(()),
        other => Err(StepError::broken(format!(
            "expected nothing on {conn}, got {}",
            describe(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse_datagram(text.replace('\n', "\r\n").as_bytes()).expect("valid SIP")
    }

    const OK: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/WS h.invalid;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:a@d>;tag=2\nCall-ID: c\nCSeq: 1 REGISTER\nSupported: outbound\nContent-Length: 0\n\n";
    const MESSAGE: &str = "MESSAGE sip:a@d SIP/2.0\nVia: SIP/2.0/WS h.invalid;branch=z9hG4bK1\nFrom: <sip:b@d>;tag=1\nTo: <sip:a@d>\nCall-ID: c\nCSeq: 1 MESSAGE\nMax-Forwards: 70\nContent-Length: 0\n\n";

    #[test]
    fn another_status_or_a_request_breaks() {
        assert_eq!(status_is(&msg(OK), 200), Ok(()));
        assert_eq!(
            status_is(&msg(OK), 404),
            Err(StepError::broken("expected status 404, got 200"))
        );
        assert!(status_is(&msg(MESSAGE), 200).is_err());
    }

    #[test]
    fn another_method_or_a_response_breaks() {
        assert_eq!(method_is(&msg(MESSAGE), "MESSAGE"), Ok(()));
        assert!(method_is(&msg(MESSAGE), "INVITE").is_err());
        assert!(method_is(&msg(OK), "MESSAGE").is_err());
    }

    #[test]
    fn headers_by_any_name_form() {
        assert_eq!(has_header(&msg(OK), "supported"), Ok(()));
        assert_eq!(has_header(&msg(OK), "k"), Ok(()));
        assert!(has_header(&msg(OK), "Require").is_err());
        assert_eq!(lacks_header(&msg(OK), "Require"), Ok(()));
        assert!(lacks_header(&msg(OK), "Supported").is_err());
    }

    #[test]
    fn anything_but_silence_breaks_a_nothing_arrives() {
        assert_eq!(nothing("bob", &Received::Timeout), Ok(()));
        assert!(nothing("bob", &Received::Closed).is_err());
    }
}
