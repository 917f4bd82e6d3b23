//! Judgements of the answer to an opening handshake (RFC 6455 §4.2.2, RFC 7118 §4.1,
//! RFC 7936 §2): pure functions over what the probe read.

use sipws_reference::ws::handshake::accept_key_for;
use sipws_reference::ws::http::{ResponseHead, list_elements};

use crate::step::{StepError, StepResult};
use crate::wire::Received;
use crate::wire::describe;

/// What an answer was, in words; `None` when no request was sent.
pub fn describe_answer(r: Option<&Received>) -> String {
    match r {
        Some(r) => describe(r),
        None => "nothing (no request was sent)".into(),
    }
}

/// The HTTP head of the answer, or a break naming what came instead.
pub fn http(answer: Option<&Received>) -> Result<&ResponseHead, StepError> {
    match answer {
        Some(Received::Http { head, .. }) => Ok(head),
        other => Err(StepError::broken(format!(
            "expected an HTTP answer, got {}",
            describe_answer(other)
        ))),
    }
}

/// 101 Switching Protocols (RFC 6455 §4.2.2 (5)).
pub fn switching(answer: Option<&Received>) -> StepResult {
    if http(answer)?.status() == 101 {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "expected 101 Switching Protocols, got {}",
            describe_answer(answer)
        )))
    }
}

/// A refusal in any form a server may choose (an HTTP error or closing the connection,
/// RFC 6455 §4.2.1, §10.7); returns the form, for the observation.
pub fn refused(answer: Option<&Received>) -> Result<String, StepError> {
    let seen = describe_answer(answer);
    match answer {
        Some(Received::Http { status: 101, .. }) => Err(StepError::broken(
            "the target accepted the handshake with 101 Switching Protocols",
        )),
        Some(Received::Timeout) | None => Err(StepError::broken(format!(
            "the target neither refused nor closed: {seen}"
        ))),
        _ => Ok(format!("refused with {seen}")),
    }
}

/// A SHOULD on the status code (at worst a warning).
pub fn status_should_be(answer: Option<&Received>, want: u16) -> StepResult {
    match answer {
        Some(Received::Http { status, .. }) if *status == want => Ok(()),
        other => Err(StepError::should(format!(
            "the status should be {want}; got {}",
            describe_answer(other)
        ))),
    }
}

/// A comma-separated header list holds `value` exactly, after trimming (RFC 7230 §7).
pub fn list_holds(head: &ResponseHead, name: &str, value: &str) -> StepResult {
    let values = head.headers().values(name);
    if list_elements(&values)
        .iter()
        .any(|e| e.bytes == value.as_bytes())
    {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the answer's {name} header does not hold {value:?}"
        )))
    }
}

/// No header of that name; no HTTP answer at all certainly carries none.
pub fn no_header(answer: Option<&Received>, name: &str) -> StepResult {
    let Ok(head) = http(answer) else {
        return Ok(());
    };
    match head.headers().count(name) {
        0 => Ok(()),
        _ => Err(StepError::broken(format!(
            "the answer carries {name}: {}",
            head.headers()
                .get(name)
                .and_then(|h| h.value_str())
                .unwrap_or("(not text)")
        ))),
    }
}

/// Exactly one header of that name.
pub fn one_header(head: &ResponseHead, name: &str) -> StepResult {
    match head.headers().count(name) {
        1 => Ok(()),
        n => Err(StepError::broken(format!(
            "the answer has {n} {name} headers"
        ))),
    }
}

fn trimmed_values(head: &ResponseHead, name: &str) -> Vec<String> {
    head.headers()
        .get_all(name)
        .map(|h| String::from_utf8_lossy(h.value()).trim().to_string())
        .collect()
}

/// RFC 6455 §4.2.2 (4) /subprotocol/ and RFC 7118 §4.1: exactly one Sec-WebSocket-Protocol,
/// holding exactly the token (case-sensitive, RFC 7936 §2).
pub fn selects(head: &ResponseHead, token: &str) -> StepResult {
    let values = trimmed_values(head, "Sec-WebSocket-Protocol");
    if values.len() == 1 && values[0] == token {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "expected exactly one Sec-WebSocket-Protocol: {token}; got {values:?}"
        )))
    }
}

/// Exactly one Sec-WebSocket-Accept, the one the key gives (RFC 6455 §4.2.2 (5) item 4).
pub fn accept_matches(head: &ResponseHead, key: &str) -> StepResult {
    let expected = accept_key_for(key.trim().as_bytes());
    let got = trimmed_values(head, "Sec-WebSocket-Accept");
    if got == [expected.clone()] {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "Sec-WebSocket-Accept should be {expected} (RFC 6455 §4.2.2); got {got:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use sipws_reference::ws::http::{Parsed, parse_response};

    use super::*;

    fn answer(text: &str) -> Received {
        match parse_response(text.replace('\n', "\r\n").as_bytes()) {
            Ok(Parsed::Complete { head, .. }) => Received::Http {
                status: head.status(),
                head,
            },
            _ => panic!("a complete head: {text}"),
        }
    }

    const OK: &str = "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nSec-WebSocket-Protocol: sip\n\n";

    #[test]
    fn a_101_passes_and_anything_else_breaks() {
        assert_eq!(switching(Some(&answer(OK))), Ok(()));
        let refused_400 = answer("HTTP/1.1 400 Bad Request\nContent-Length: 0\n\n");
        assert!(matches!(
            switching(Some(&refused_400)),
            Err(StepError::Broken { .. })
        ));
        assert!(matches!(
            switching(Some(&Received::Closed)),
            Err(StepError::Broken { .. })
        ));
        assert!(switching(None).is_err());
    }

    #[test]
    fn a_refusal_is_an_error_status_or_a_close_never_101_or_silence() {
        let r = refused(Some(&answer("HTTP/1.1 426 Upgrade Required\n\n"))).expect("refused");
        assert_eq!(r, "refused with HTTP 426");
        assert_eq!(
            refused(Some(&Received::Closed)).as_deref(),
            Ok("refused with the connection closed")
        );
        assert!(refused(Some(&answer(OK))).is_err());
        assert!(refused(Some(&Received::Timeout)).is_err());
        assert!(refused(None).is_err());
    }

    #[test]
    fn the_status_is_a_should() {
        let a = answer("HTTP/1.1 403 Forbidden\n\n");
        assert_eq!(status_should_be(Some(&a), 403), Ok(()));
        assert!(matches!(
            status_should_be(Some(&a), 400),
            Err(StepError::Broken { cap: Some(_), .. })
        ));
    }

    #[test]
    fn headers_are_judged_exactly() {
        let Received::Http { head, .. } = answer(OK) else {
            unreachable!()
        };
        assert_eq!(list_holds(&head, "Connection", "Upgrade"), Ok(()));
        assert!(list_holds(&head, "Connection", "upgrade").is_err());
        assert_eq!(one_header(&head, "Upgrade"), Ok(()));
        assert!(one_header(&head, "Sec-WebSocket-Extensions").is_err());
        assert_eq!(
            no_header(Some(&answer(OK)), "Sec-WebSocket-Extensions"),
            Ok(())
        );
        assert!(no_header(Some(&answer(OK)), "Sec-WebSocket-Protocol").is_err());
        assert_eq!(
            no_header(Some(&Received::Closed), "Sec-WebSocket-Protocol"),
            Ok(())
        );
    }

    #[test]
    fn the_subprotocol_is_one_exact_token() {
        let Received::Http { head, .. } = answer(OK) else {
            unreachable!()
        };
        assert_eq!(selects(&head, "sip"), Ok(()));
        let two = answer(
            "HTTP/1.1 101 Switching Protocols\nSec-WebSocket-Protocol: sip\nSec-WebSocket-Protocol: sip\n\n",
        );
        let Received::Http { head: two, .. } = two else {
            unreachable!()
        };
        assert!(selects(&two, "sip").is_err());
        let upper = answer("HTTP/1.1 101 Switching Protocols\nSec-WebSocket-Protocol: SIP\n\n");
        let Received::Http { head: upper, .. } = upper else {
            unreachable!()
        };
        assert!(selects(&upper, "sip").is_err());
    }

    #[test]
    fn the_accept_value_follows_the_key() {
        let Received::Http { head, .. } = answer(OK) else {
            unreachable!()
        };
        // RFC 6455 §1.3's example key and accept value.
        assert_eq!(accept_matches(&head, "dGhlIHNhbXBsZSBub25jZQ=="), Ok(()));
        assert!(accept_matches(&head, "AAAAAAAAAAAAAAAAAAAAAA==").is_err());
    }
}
