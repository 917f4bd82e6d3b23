//! Judgements of how the target closes: its Close frames (RFC 6455 §5.5.1, §7.4.1), failing
//! the WebSocket connection (§7.1.7), the close code a failure should carry (§7.4.1, A18),
//! answering the client's Close and closing TCP (§5.5.1, §7.1.1), and silence after its Close.

use std::time::Duration;

use crate::step::{StepError, StepResult};
use crate::wire::RawFrame;
use crate::wire::log::{Ev, describe_all};

/// What a failed connection showed before the TCP close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseSeen {
    NoCloseFrame,
    NoCode,
    Code(u16),
}

impl CloseSeen {
    /// How the target failed the connection, in words.
    pub fn describe(self) -> String {
        match self {
            CloseSeen::Code(c) => format!("failed with Close {c}, then TCP close"),
            CloseSeen::NoCode => "failed with a Close without a code, then TCP close".into(),
            CloseSeen::NoCloseFrame => "closed TCP without a Close frame".into(),
        }
    }
}

/// Rows 6455-5.5.1-a and 6455-7.4.1-a for a Close the target sent.
pub fn close_frame(f: &RawFrame) -> StepResult {
    if f.payload.len() == 1 {
        return Err(StepError::broken(
            "the target sent a Close frame with a 1-byte body; a Close body starts with a \
             2-byte status code (RFC 6455 §5.5.1)",
        ));
    }
    if let Some(code) = f.close_code() {
        if matches!(code, 1005 | 1006 | 1015) {
            return Err(StepError::broken(format!(
                "the target sent a Close frame with the status code {code}, which RFC 6455 \
                 §7.4.1 reserves for local use: it MUST NOT be sent"
            )));
        }
        if std::str::from_utf8(&f.payload[2..]).is_err() {
            return Err(StepError::broken(
                "the target's Close reason is not UTF-8 (RFC 6455 §5.5.1)",
            ));
        }
    }
    Ok(())
}

/// Every Close the target sent on any connection passes [`close_frame`]; returns the codes
/// sent, for the observation.
pub fn no_reserved_code(closes: &[RawFrame]) -> Result<String, StepError> {
    if closes.is_empty() {
        // Closing TCP without a Close frame sends no code at all: nothing reserved.
        return Ok("the target sent no Close frame".into());
    }
    for f in closes {
        close_frame(f)?;
    }
    let codes: Vec<String> = closes
        .iter()
        .map(|f| f.close_code().map_or("none".into(), |c| c.to_string()))
        .collect();
    Ok(format!("Close codes sent: {}", codes.join(", ")))
}

/// "Fail the WebSocket Connection" (RFC 6455 §7.1.7): a Close frame then the TCP close, or
/// just the TCP close; nothing processed in between (no SIP answer, no Pong).
pub fn failed(evs: &[Ev]) -> Result<CloseSeen, StepError> {
    let mut close = CloseSeen::NoCloseFrame;
    let mut closed = false;
    for ev in evs {
        match ev {
            Ev::Message { .. } | Ev::Pong(_) | Ev::Bad(_) => {
                return Err(StepError::broken(format!(
                    "expected the target to fail the connection without processing the \
                     frame; it sent {} (all it sent: {})",
                    ev.describe(),
                    describe_all(evs)
                )));
            }
            Ev::Close(c) if close == CloseSeen::NoCloseFrame => {
                close = c.map_or(CloseSeen::NoCode, CloseSeen::Code);
            }
            Ev::Close(_) | Ev::Ping(_) => {}
            Ev::Closed => closed = true,
        }
    }
    if closed {
        return Ok(close);
    }
    Err(StepError::broken(match close {
        CloseSeen::NoCloseFrame => format!(
            "expected the target to fail the connection (a Close frame and the TCP close); \
             the connection stayed open, the target sent {}",
            describe_all(evs)
        ),
        _ => format!(
            "the target sent a Close frame but did not close the TCP connection within the \
             timeout (RFC 6455 §7.1.7: _Fail_ closes the connection); it sent {}",
            describe_all(evs)
        ),
    }))
}

/// The code a Fail should carry (A18: the exact code is a SHOULD-strength expectation).
pub fn close_code(seen: CloseSeen, want: u16) -> StepResult {
    match seen {
        CloseSeen::Code(c) if c == want => Ok(()),
        CloseSeen::Code(c) => Err(StepError::should(format!(
            "the Close frame carried {c}; {want} is the appropriate code (RFC 6455 §7.4.1, A18)"
        ))),
        CloseSeen::NoCode => Err(StepError::should(format!(
            "the Close frame carried no status code; {want} is the appropriate code"
        ))),
        CloseSeen::NoCloseFrame => Err(StepError::should(format!(
            "the target closed TCP without a Close frame; a Close with {want} should come \
             first (RFC 6455 §7.1.7)"
        ))),
    }
}

/// A Close came back in answer to the client's (RFC 6455 §5.5.1); `rest` is what else the
/// target sent. Returns the observation.
pub fn answered(close: Option<&Ev>, rest: &[Ev]) -> Result<String, StepError> {
    match close {
        Some(ev) => Ok(format!("{} came back", ev.describe())),
        None => Err(StepError::broken(format!(
            "expected a Close frame in answer (RFC 6455 §5.5.1); the target sent {}",
            describe_all(rest)
        ))),
    }
}

/// After the Close exchange the server closes TCP at once (RFC 6455 §5.5.1, §7.1.1).
pub fn tcp_closed(closed: bool, waited: Duration) -> StepResult {
    if closed {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the TCP connection was still open {} ms after the Close exchange (RFC 6455 \
             §5.5.1, §7.1.1: the server closes it at once)",
            waited.as_millis()
        )))
    }
}

/// Row 6455-5.5.1-c: after its Close the target sends no data frame.
pub fn no_data_after_close(frames: &[RawFrame]) -> StepResult {
    let Some(at) = frames.iter().position(|f| f.opcode == 0x8) else {
        return Err(StepError::broken(
            "the target sent no Close frame, so its closing cannot be judged",
        ));
    };
    match frames[at + 1..]
        .iter()
        .find(|f| matches!(f.opcode, 0x0..=0x2))
    {
        Some(f) => Err(StepError::broken(format!(
            "the target sent a data frame ({}) after its Close (RFC 6455 §5.5.1)",
            f.describe()
        ))),
        None => Ok(()),
    }
}

/// How many data messages began before the target's Close, for the observation.
pub fn data_before_close(frames: &[RawFrame]) -> usize {
    frames
        .iter()
        .take_while(|f| f.opcode != 0x8)
        .filter(|f| matches!(f.opcode, 0x1 | 0x2))
        .count()
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

    const OK: &str = "SIP/2.0 200 OK\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: c1\nCSeq: 7 REGISTER\nContent-Length: 0\n\n";

    #[test]
    fn a_data_frame_or_a_pong_or_an_open_connection_is_not_a_failed_connection() {
        assert!(is_broken(
            &failed(&[msg(OK), Ev::Close(Some(1002)), Ev::Closed]).map(|_| ())
        ));
        assert!(is_broken(
            &failed(&[Ev::Pong(b"x".to_vec()), Ev::Closed]).map(|_| ())
        ));
        assert!(is_broken(&failed(&[]).map(|_| ())));
        assert!(is_broken(&failed(&[Ev::Close(Some(1002))]).map(|_| ())));
        assert_eq!(
            failed(&[Ev::Close(Some(1002)), Ev::Closed]).expect("failed"),
            CloseSeen::Code(1002)
        );
        assert_eq!(
            failed(&[Ev::Closed]).expect("failed"),
            CloseSeen::NoCloseFrame
        );
    }

    #[test]
    fn a_wrong_close_code_is_a_should_level_finding() {
        let should = |r: StepResult| {
            matches!(
                r,
                Err(StepError::Broken {
                    cap: Some(crate::verdict::Level::Should),
                    ..
                })
            )
        };
        assert!(should(close_code(CloseSeen::Code(1000), 1002)));
        assert!(should(close_code(CloseSeen::NoCode, 1007)));
        assert!(should(close_code(CloseSeen::NoCloseFrame, 1009)));
        assert_eq!(close_code(CloseSeen::Code(1002), 1002), Ok(()));
    }

    #[test]
    fn reserved_codes_and_bad_close_bodies_are_caught() {
        let close = |p: &[u8]| RawFrame::new(0x8, p.to_vec()).unmasked();
        for code in [1005u16, 1006, 1015] {
            assert!(is_broken(&close_frame(&close(&code.to_be_bytes()))));
        }
        assert!(is_broken(&close_frame(&close(&[0x03]))));
        assert!(is_broken(&close_frame(&close(&[0x03, 0xe8, 0xc0, 0xaf]))));
        assert_eq!(close_frame(&close(&[0x03, 0xea])), Ok(()));
        assert_eq!(close_frame(&close(&[])), Ok(()));
        assert!(is_broken(
            &no_reserved_code(&[close(&[0x03, 0xe8]), close(&1015u16.to_be_bytes())]).map(|_| ())
        ));
        assert_eq!(
            no_reserved_code(&[close(&[0x03, 0xe8]), close(&[])]),
            Ok("Close codes sent: 1000, none".into())
        );
        assert_eq!(
            no_reserved_code(&[]),
            Ok("the target sent no Close frame".into())
        );
    }

    #[test]
    fn no_close_or_tcp_left_open_after_the_clients_close_is_caught() {
        assert!(is_broken(&answered(None, &[Ev::Pong(vec![])]).map(|_| ())));
        assert_eq!(
            answered(Some(&Ev::Close(Some(1000))), &[]),
            Ok("a Close frame (1000) came back".into())
        );
        assert!(is_broken(&tcp_closed(false, Duration::from_millis(500))));
        assert_eq!(tcp_closed(true, Duration::from_millis(500)), Ok(()));
    }

    #[test]
    fn data_after_close_is_caught() {
        let f = |op: u8| RawFrame::new(op, b"x".to_vec()).unmasked();
        assert!(is_broken(&no_data_after_close(&[f(0x8), f(0x1)])));
        assert!(is_broken(&no_data_after_close(&[f(0x1)])));
        assert_eq!(no_data_after_close(&[f(0x1), f(0x8), f(0xA)]), Ok(()));
        assert_eq!(
            data_before_close(&[f(0x1), f(0x0), f(0x2), f(0x8), f(0x1)]),
            2
        );
    }
}
