//! Judgements of SIP messages carried in WebSocket messages: each data message is exactly
//! one SIP message (RFC 7118 §4.1, §5), in a text frame or, when not UTF-8, a binary one
//! (§4.2), its body intact; the answers the target gives and that a final response over a
//! reliable transport is not sent twice (RFC 3261 §17.2.1, RFC 7118 §5).

use sipws_reference::sip::Message;

use crate::evidence::printable;
use crate::step::{StepError, StepResult};
use crate::wire::log::Ev;

/// A final response to `method` with the wanted status (`None`: any final status).
pub fn answer(resp: &Message, method: &str, want: Option<u16>) -> StepResult {
    let code = resp.status_line().map(|s| s.code).unwrap_or(0);
    let cseq = resp
        .cseq()
        .map(|c| c.method.to_string())
        .unwrap_or_default();
    if cseq != method {
        return Err(StepError::broken(format!(
            "expected a response to the {method}, got {code} for {cseq}"
        )));
    }
    match want {
        Some(w) if w != code => Err(StepError::broken(format!(
            "expected {w} to the {method}, got {code}"
        ))),
        None if code < 200 => Err(StepError::broken(format!(
            "expected a final response to the {method}, got {code}"
        ))),
        _ => Ok(()),
    }
}

fn same_transaction(a: &Message, b: &Message) -> bool {
    a.call_id() == b.call_id()
        && a.cseq().map(|c| (c.seq, c.method.to_string()))
            == b.cseq().map(|c| (c.seq, c.method.to_string()))
}

/// No second final response of `first`'s transaction among `later` (RFC 3261 §17.2.1,
/// §17.2.2 on a reliable transport: Timer G unused, no retransmission; RFC 7118 §5).
pub fn no_second_final(first: &Message, later: &[Ev]) -> StepResult {
    for ev in later {
        if let Some(m) = ev.sip()
            && !m.is_request()
            && m.status_line().is_some_and(|s| s.code >= 200)
            && same_transaction(first, &m)
        {
            return Err(StepError::broken(format!(
                "the final response was sent again: {} (over a reliable transport it is not \
                 retransmitted, RFC 3261 §17.2.1 and RFC 7118 §5)",
                ev.describe()
            )));
        }
    }
    Ok(())
}

/// The opcode a data message arrived with (RFC 7118 §4.2).
pub fn kind(opcode: u8, want_binary: bool) -> StepResult {
    let is_binary = opcode == 0x2;
    if is_binary == want_binary {
        return Ok(());
    }
    Err(StepError::broken(if want_binary {
        format!(
            "the message came in a text frame (opcode {opcode:#x}); a SIP message that is not \
             UTF-8 travels in a binary frame, opcode 0x2 (RFC 7118 §4.2)"
        )
    } else {
        format!(
            "the message came in a binary frame (opcode {opcode:#x}); a text frame was expected"
        )
    }))
}

/// The body of a received request is the bytes sent (RFC 7118 §5: the WebSocket message
/// delimits the SIP message, so nothing is lost or added).
pub fn body(method: &str, got: &[u8], sent: &[u8]) -> StepResult {
    if got == sent {
        Ok(())
    } else {
        Err(StepError::broken(format!(
            "the {method}'s body is {:?}; {:?} was sent",
            printable(got),
            printable(sent)
        )))
    }
}

/// Rows 7118-4.1-e, 7118-5-b, 7118-5-c: each data message is one whole SIP message; returns
/// how many there were.
pub fn one_sip_message(evs: &[Ev]) -> Result<usize, StepError> {
    let mut n = 0;
    for ev in evs {
        match ev {
            Ev::Message { payload, .. } => {
                if let Err(e) = Message::parse(payload) {
                    let datagram = Message::parse_datagram(payload).is_ok();
                    return Err(StepError::broken(format!(
                        "{} is not exactly one SIP message ({e}{})",
                        ev.describe(),
                        if datagram {
                            "; it starts with one and carries more"
                        } else {
                            ""
                        }
                    )));
                }
                n += 1;
            }
            Ev::Bad(_) => {
                return Err(StepError::broken(format!(
                    "the target sent {}, which is no SIP message",
                    ev.describe()
                )));
            }
            _ => {}
        }
    }
    if n == 0 {
        return Err(StepError::harness(
            "the target sent no data message to judge",
        ));
    }
    Ok(n)
}

/// What a reaction was, for the record; a data message that is not SIP (nor a CRLF
/// keep-alive answer) breaks row 7118-4.1-e.
pub fn reaction(reply: Option<&Ev>) -> Result<String, StepError> {
    Ok(match reply {
        None => "no answer within the timeout (dropped)".into(),
        Some(Ev::Message { payload, .. }) if payload == b"\r\n" => {
            "a WebSocket message holding CRLF".into()
        }
        Some(ev @ Ev::Message { .. }) => match ev.sip() {
            Some(m) => match m.status_line() {
                Some(s) => format!("a SIP response {} {}", s.code, s.reason),
                None => format!(
                    "a SIP request {}",
                    m.method().map(|x| x.to_string()).unwrap_or_default()
                ),
            },
            None => {
                return Err(StepError::broken(format!(
                    "the target sent {}, which is not a SIP message (RFC 7118 §4.1)",
                    ev.describe()
                )));
            }
        },
        Some(Ev::Close(Some(c))) => format!("failed the connection with Close {c}"),
        Some(Ev::Close(None)) => "closed with a Close frame without a code".into(),
        Some(Ev::Closed) => "closed the TCP connection without a Close frame".into(),
        Some(ev) => ev.describe(),
    })
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

    fn parsed(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("a SIP message")
    }

    #[test]
    fn wrong_answers_are_caught() {
        let ok = parsed(OK);
        assert_eq!(answer(&ok, "REGISTER", Some(200)), Ok(()));
        assert!(is_broken(&answer(&ok, "REGISTER", Some(486))));
        assert!(is_broken(&answer(&ok, "INVITE", None)));
        let trying = parsed(&OK.replace("200 OK", "100 Trying"));
        assert!(is_broken(&answer(&trying, "REGISTER", None)));
    }

    #[test]
    fn a_retransmitted_final_response_is_caught() {
        let first = parsed(OK);
        assert!(is_broken(&no_second_final(&first, &[msg(OK)])));
        // Another transaction's response, or a provisional one, is no retransmission.
        let other = OK.replace("CSeq: 7", "CSeq: 8");
        let trying = OK.replace("200 OK", "180 Ringing");
        assert_eq!(
            no_second_final(&first, &[msg(&other), msg(&trying)]),
            Ok(())
        );
    }

    #[test]
    fn a_text_frame_where_binary_is_required_is_caught() {
        assert!(is_broken(&kind(0x1, true)));
        assert!(is_broken(&kind(0x2, false)));
        assert_eq!(kind(0x2, true), Ok(()));
    }

    #[test]
    fn a_changed_body_is_caught() {
        assert_eq!(body("MESSAGE", b"\xc0\xaf", b"\xc0\xaf"), Ok(()));
        assert_eq!(
            body("MESSAGE", b"ab", b"a\xc0"),
            Err(StepError::broken(
                r#"the MESSAGE's body is "ab"; "a\\xc0" was sent"#
            ))
        );
    }

    #[test]
    fn two_messages_or_garbage_in_one_ws_message_are_caught() {
        assert!(is_broken(
            &one_sip_message(&[msg(&format!("{OK}{OK}"))]).map(|_| ())
        ));
        assert!(is_broken(&one_sip_message(&[msg("hello")]).map(|_| ())));
        assert!(is_broken(
            &one_sip_message(&[Ev::Bad("x".into())]).map(|_| ())
        ));
        assert_eq!(
            one_sip_message(&[msg(OK), Ev::Pong(vec![]), msg(OK)]),
            Ok(2)
        );
    }

    #[test]
    fn reactions_are_recorded_and_a_non_sip_answer_breaks() {
        assert!(reaction(None).expect("recorded").contains("no answer"));
        assert!(reaction(Some(&msg(OK))).expect("recorded").contains("200"));
        assert!(
            reaction(Some(&Ev::Close(Some(1002))))
                .expect("recorded")
                .contains("1002")
        );
        assert!(is_broken(&reaction(Some(&msg("garbage"))).map(|_| ())));
    }
}
