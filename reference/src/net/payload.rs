//! What the server does with the payload of one WebSocket data message (RFC 7118 §5), as a
//! pure function: [`classify_ws_payload`].
//!
//! # Policy A10 (spec/requirements.md §5): a payload that is not exactly one SIP message
//! RFC 7118 §5 says one WebSocket message carries one SIP message (7118-5-b, 7118-5-c) but
//! not what a receiver does with a payload that breaks it. The reference server decides:
//!
//! 1. **Exactly `\r\n\r\n`** is a CRLF keep-alive ping (RFC 5626 §4.4.1, §5.4 mapped to
//!    WebSocket, A7): answered at once with a WebSocket message holding `\r\n`
//!    ([`WsPayload::KeepAlive`], row 5626-5.4-a).
//! 2. **One SIP message** ([`Message::parse`] succeeds): handed to the proxy. Validation
//!    beyond syntax (mandatory headers, CSeq method, version) is the proxy's (400/505 there).
//! 3. **Not one SIP message, but a request we can answer**: when the bytes parse as a
//!    datagram would (RFC 3261 §18.3: [`Message::parse_datagram`] keeps the first message and
//!    discards the octets past its Content-Length) and that first message is a request other
//!    than ACK with Via, From, To, Call-ID and CSeq, it is answered **`400 Bad Request (one
//!    SIP message per WebSocket message)`** on the same connection and not processed any
//!    further (the trailing bytes are not looked at). The sender learns why; nothing it did
//!    not intend is routed ([`WsPayload::Reject`]).
//! 4. **Anything else** (an unparsable payload, a response, an ACK, a request lacking the
//!    headers a response needs): **dropped**, logged at debug with the parse error
//!    ([`WsPayload::Drop`]). RFC 3261 §8.2 cannot answer what it cannot parse, and a
//!    response is never answered.
//!
//! In every case the connection stays open: the WebSocket framing was correct, so there is no
//! WebSocket reason to close it (1002/1003/1007 are for framing and data-type faults, RFC 6455
//! §7.4.1), and closing would drop every registration on the flow (5626-7-d) for one bad
//! message.

use crate::sip::response::response;
use crate::sip::{Message, Method, ParseError};

/// The reason phrase of the A10 answer (RFC 3261 §21.4.1 lets the phrase say why).
pub const ONE_MESSAGE_REASON: &str = "Bad Request (one SIP message per WebSocket message)";

/// The CRLF keep-alive ping as a WebSocket message (RFC 5626 §4.4.1 `CRLF CRLF`).
pub const KEEPALIVE_PING: &[u8] = b"\r\n\r\n";
/// The pong sent back (RFC 5626 §4.4.1: a single `CRLF`).
pub const KEEPALIVE_PONG: &[u8] = b"\r\n";

/// What to do with one WebSocket data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsPayload {
    /// `\r\n\r\n`: answer with a [`KEEPALIVE_PONG`] message.
    KeepAlive,
    /// One SIP message for the proxy.
    Sip(Box<Message>),
    /// Answer with `response` on the same connection; `error` says what was wrong.
    Reject {
        response: Box<Message>,
        error: ParseError,
    },
    /// Nothing to send; `error` is logged.
    Drop { error: ParseError },
}

/// Applies the A10 policy of the module documentation to one WebSocket message's payload.
pub fn classify_ws_payload(payload: &[u8]) -> WsPayload {
    if payload == KEEPALIVE_PING {
        return WsPayload::KeepAlive;
    }
    let error = match Message::parse(payload) {
        Ok(msg) => return WsPayload::Sip(Box::new(msg)),
        Err(e) => e,
    };
    match Message::parse_datagram(payload) {
        Ok(first) if answerable(&first) => {
            let mut resp = response(&first, 400, &to_tag(&first), Vec::new());
            if let crate::sip::StartLine::Response(line) = &mut resp.start {
                line.reason = ONE_MESSAGE_REASON.to_string();
            }
            WsPayload::Reject {
                response: Box::new(resp),
                error,
            }
        }
        _ => WsPayload::Drop { error },
    }
}

/// A request other than ACK (RFC 3261 §17: never answered) carrying what RFC 3261 §8.2.6.2
/// copies into a response.
fn answerable(m: &Message) -> bool {
    m.is_request()
        && m.method() != Some(&Method::Ack)
        && m.top_via().is_some()
        && m.from().is_some()
        && m.to().is_some()
        && m.call_id().is_some()
        && m.cseq().is_some()
}

/// A To tag for the 400 (RFC 3261 §8.2.6.2: a final response adds one when the request's To
/// has none). Derived from the Call-ID so a retransmission gets the same tag.
fn to_tag(m: &Message) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        m.call_id().unwrap_or_default().as_bytes(),
    );
    let mut tag = String::from("a10-");
    for b in &digest.as_ref()[..6] {
        tag.push_str(&format!("{b:02x}"));
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::ErrorKind;

    const REGISTER: &str = "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
Max-Forwards: 70\r\n\
To: <sip:alice@127.0.0.1>\r\n\
From: <sip:alice@127.0.0.1>;tag=65bnmj.34asd\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn req_5626_5_4_a_double_crlf_is_a_keepalive() {
        assert_eq!(classify_ws_payload(b"\r\n\r\n"), WsPayload::KeepAlive);
        // Only exactly CRLF CRLF: a lone CRLF or three are not a ping (and do not parse).
        assert!(matches!(
            classify_ws_payload(b"\r\n"),
            WsPayload::Drop { .. }
        ));
        assert!(matches!(
            classify_ws_payload(b"\r\n\r\n\r\n"),
            WsPayload::Drop { .. }
        ));
    }

    #[test]
    fn one_sip_message_goes_to_the_proxy() {
        match classify_ws_payload(REGISTER.as_bytes()) {
            WsPayload::Sip(m) => assert_eq!(m.method(), Some(&Method::Register)),
            other => panic!("expected Sip, got {other:?}"),
        }
    }

    #[test]
    fn req_7118_5_c_two_requests_in_one_message_get_400_with_the_reason() {
        let two = format!("{REGISTER}{REGISTER}");
        let WsPayload::Reject { response, error } = classify_ws_payload(two.as_bytes()) else {
            panic!("expected Reject");
        };
        assert!(matches!(error.kind, ErrorKind::TrailingData(n) if n == REGISTER.len()));
        let line = response.status_line().expect("a response");
        assert_eq!(line.code, 400);
        assert_eq!(line.reason, ONE_MESSAGE_REASON);
        assert_eq!(response.call_id(), Some("aiuy7k9njasd"));
        assert!(response.to().and_then(|t| t.tag()).is_some());
        // The answer is itself one well-formed message.
        let bytes = response.to_bytes();
        let reparsed = Message::parse(&bytes).expect("the 400 parses");
        assert_eq!(reparsed.validate(), Ok(()));
    }

    #[test]
    fn req_7118_5_c_trailing_garbage_after_a_request_gets_400() {
        let payload = format!("{REGISTER}garbage");
        assert!(matches!(
            classify_ws_payload(payload.as_bytes()),
            WsPayload::Reject { .. }
        ));
    }

    #[test]
    fn a_response_or_ack_followed_by_more_is_dropped_never_answered() {
        let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\r\n";
        let two = format!("{resp}{resp}");
        assert!(matches!(
            classify_ws_payload(two.as_bytes()),
            WsPayload::Drop { .. }
        ));
        let ack = REGISTER
            .replace("REGISTER sip", "ACK sip")
            .replace("1 REGISTER", "1 ACK");
        let two = format!("{ack}{ack}");
        assert!(matches!(
            classify_ws_payload(two.as_bytes()),
            WsPayload::Drop { .. }
        ));
    }

    #[test]
    fn garbage_and_requests_without_call_id_are_dropped() {
        assert!(matches!(
            classify_ws_payload(b"hello"),
            WsPayload::Drop { .. }
        ));
        assert!(matches!(classify_ws_payload(b""), WsPayload::Drop { .. }));
        let no_call_id = REGISTER.replace("Call-ID: aiuy7k9njasd\r\n", "");
        let two = format!("{no_call_id}{no_call_id}");
        assert!(matches!(
            classify_ws_payload(two.as_bytes()),
            WsPayload::Drop { .. }
        ));
    }

    #[test]
    fn non_utf8_bytes_never_panic() {
        for payload in [&[0xFF, 0xFE, 0x00][..], &[0xC0][..], b"\r\n\r\n\xFF"] {
            assert!(matches!(
                classify_ws_payload(payload),
                WsPayload::Drop { .. }
            ));
        }
    }
}
