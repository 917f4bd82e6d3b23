//! Building responses to a request (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied,
//! a To tag added to final and provisional responses other than 100. The registrar and proxy
//! answer with [`response`]; the user agent builds its own responses, with bodies and more
//! reason phrases, on [`copied_headers`] and [`reason_phrase`].

use crate::sip::{Header, HeaderName, HeaderValue, Message, StartLine, StatusLine, Version};

/// The default reason phrase of a status code (RFC 3261 §21, RFC 5626 §11.5, RFC 5626 §11.6).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        430 => "Flow Failed",
        439 => "First Hop Lacks Outbound Support",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        _ => "Unknown",
    }
}

/// A response to `req` with `code`, carrying the request's Via headers, From, To (with
/// `to_tag` added when the request's To has none and the code is not 100), Call-ID and CSeq,
/// then `extra` headers and `Content-Length: 0`.
pub fn response(req: &Message, code: u16, to_tag: &str, extra: Vec<Header>) -> Message {
    let mut headers = copied_headers(req, code, to_tag);
    headers.extend(extra);
    headers.push(Header::new(
        HeaderName::ContentLength,
        HeaderValue::Number(0),
    ));
    Message::new(
        StartLine::Response(StatusLine {
            version: Version::SIP_2_0,
            code,
            reason: reason_phrase(code).to_string(),
        }),
        headers,
        Vec::new(),
    )
}

/// The header fields a response to `req` copies from it (RFC 3261 §8.2.6.2), in the
/// request's order: every Via, From, Call-ID and CSeq as they are, and To with `to_tag`
/// added when it has no tag and the code is not 100.
pub fn copied_headers(req: &Message, code: u16, to_tag: &str) -> Vec<Header> {
    let mut headers = Vec::with_capacity(8);
    for h in &req.headers {
        match h.name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                headers.push(Header::new(h.name.clone(), h.value.clone()));
            }
            HeaderName::To => {
                let mut value = h.value.clone();
                if let HeaderValue::Address(to) = &mut value
                    && code != 100
                    && to.tag().is_none()
                {
                    to.params.set("tag", Some(to_tag));
                }
                headers.push(Header::new(HeaderName::To, value));
            }
            _ => {}
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &[u8] = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP b.example;branch=z9hG4bK2\r\n\
From: <sip:alice@example.com>;tag=a\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: c1\r\n\
CSeq: 7 MESSAGE\r\n\
Max-Forwards: 70\r\n\
Subject: not copied\r\n\
\r\nhello";

    #[test]
    fn copies_the_transaction_headers_and_adds_a_to_tag() {
        let req = Message::parse(REQ).expect("test request parses");
        let resp = response(&req, 404, "t1", Vec::new());
        assert_eq!(resp.status_line().map(|s| s.code), Some(404));
        assert_eq!(resp.vias().count(), 2);
        assert_eq!(resp.to().and_then(|t| t.tag()), Some("t1"));
        assert_eq!(resp.call_id(), Some("c1"));
        assert_eq!(resp.cseq().map(|c| c.seq), Some(7));
        assert!(resp.text("Subject").is_none());
        assert_eq!(resp.content_length(), Some(0));
        assert!(resp.body.is_empty());
        let reparsed = Message::parse(&resp.to_bytes()).expect("responses re-parse");
        assert_eq!(reparsed, resp);
        assert_eq!(reparsed.validate(), Ok(()));
    }

    #[test]
    fn trying_gets_no_to_tag() {
        let req = Message::parse(REQ).expect("test request parses");
        assert_eq!(
            response(&req, 100, "t1", Vec::new())
                .to()
                .and_then(|t| t.tag()),
            None
        );
    }
}
