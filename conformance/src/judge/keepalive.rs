//! Judgements of keep-alives and liveness: a `CRLF CRLF` ping answered with a `CRLF` pong
//! (RFC 5626 §5.4, RFC 7118 §6), a WebSocket Ping answered with a Pong carrying its payload
//! (RFC 6455 §5.5.2, §5.5.3), and a connection that is still open.

use crate::evidence::printable;
use crate::step::{StepError, StepResult};
use crate::wire::log::{Ev, describe_all};

/// Row 5626-5.4-a (A7): a `CRLF CRLF` message is answered with a `CRLF` message.
pub fn crlf_answer(reply: Option<&Ev>) -> StepResult {
    match reply {
        Some(Ev::Message { payload, .. }) if payload == b"\r\n" => Ok(()),
        Some(ev) => Err(StepError::broken(format!(
            "expected a WebSocket message holding CRLF in answer to CRLF CRLF (RFC 5626 §5.4); \
             got {}",
            ev.describe()
        ))),
        None => Err(StepError::broken(
            "expected a WebSocket message holding CRLF in answer to CRLF CRLF (RFC 5626 §5.4); \
             nothing came within the timeout",
        )),
    }
}

/// A Pong carrying `want` is among what came.
pub fn pong(evs: &[Ev], want: &[u8]) -> StepResult {
    if evs.iter().any(|e| matches!(e, Ev::Pong(p) if p == want)) {
        return Ok(());
    }
    Err(StepError::broken(format!(
        "expected a Pong carrying {:?} (RFC 6455 §5.5.2, §5.5.3); the target sent {}",
        printable(want),
        describe_all(evs)
    )))
}

/// A liveness probe's outcome: the Pong with `want`, or what came instead.
pub fn still_open(evs: &[Ev], want: &[u8]) -> StepResult {
    if let Some(ev) = evs
        .iter()
        .find(|e| matches!(e, Ev::Close(_) | Ev::Closed | Ev::Bad(_)))
    {
        return Err(StepError::broken(format!(
            "the connection is not open any more: the target sent {} (all it sent: {})",
            ev.describe(),
            describe_all(evs)
        )));
    }
    if evs.iter().any(|e| matches!(e, Ev::Pong(p) if p == want)) {
        return Ok(());
    }
    Err(StepError::broken(format!(
        "a Ping got no Pong within the timeout; the target sent {}",
        describe_all(evs)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_broken(r: &StepResult) -> bool {
        matches!(r, Err(StepError::Broken { cap: None, .. }))
    }

    fn msg(text: &str) -> Ev {
        Ev::Message {
            opcode: 0x1,
            payload: text.replace('\n', "\r\n").into_bytes(),
        }
    }

    #[test]
    fn keepalive_answers() {
        assert_eq!(crlf_answer(Some(&msg("\n"))), Ok(()));
        assert!(is_broken(&crlf_answer(Some(&msg("\n\n")))));
        assert!(is_broken(&crlf_answer(Some(&Ev::Closed))));
        assert!(is_broken(&crlf_answer(None)));
    }

    #[test]
    fn a_missing_or_different_pong_is_caught() {
        assert!(is_broken(&pong(&[], b"x1")));
        assert!(is_broken(&pong(
            &[Ev::Pong(b"x2".to_vec()), Ev::Closed],
            b"x1"
        )));
        assert_eq!(
            pong(&[Ev::Pong(b"a".to_vec()), Ev::Pong(b"x1".to_vec())], b"x1"),
            Ok(())
        );
    }

    #[test]
    fn a_closed_connection_is_not_open() {
        assert_eq!(still_open(&[Ev::Pong(b"a".to_vec())], b"a"), Ok(()));
        assert!(is_broken(&still_open(
            &[Ev::Close(Some(1000)), Ev::Closed],
            b"a"
        )));
        assert!(is_broken(&still_open(&[], b"a")));
    }
}
