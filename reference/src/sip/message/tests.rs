//! Tests of SIP message parsing in its three framings, printing and validation.

use super::*;

const REGISTER: &str = "REGISTER sip:proxy.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
Supported: path, outbound, gruu\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n\
\x20;reg-id=1\r\n\
\x20;+sip.instance=\"<urn:uuid:f81-7dec-14a06cf1>\"\r\n\
\r\n";

#[test]
fn register_without_content_length() {
    let m = Message::parse(REGISTER.as_bytes()).unwrap();
    assert_eq!(m.method(), Some(&Method::Register));
    assert_eq!(m.top_via().unwrap().transport, "WSS");
    assert_eq!(m.contacts().next().unwrap().reg_id(), Some(1));
    assert!(m.supports("outbound"));
    assert_eq!(m.raw(), REGISTER.as_bytes());
    assert!(m.body.is_empty());
    m.validate().unwrap();
    let again = Message::parse(&m.to_bytes()).unwrap();
    assert_eq!(again, m);
}

#[test]
fn body_is_rest_without_content_length_and_bounded_with_it() {
    let m = Message::parse(
        b"MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\r\nhello\r\n",
    )
    .unwrap();
    assert_eq!(m.body, b"hello\r\n");
    let e = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhello").unwrap_err();
    assert_eq!(e.kind, ErrorKind::TrailingData(3));
    assert_eq!(e.offset, 35);
    let d = Message::parse_datagram(b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhello").unwrap();
    assert_eq!(d.body, b"he");
    let e = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 9\r\n\r\nhello").unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::BodyTooShort {
            declared: 9,
            available: 5
        }
    ));
}

#[test]
fn stream_framing() {
    let msg = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabcOPTIONS";
    let (m, used) = Message::parse_stream(msg).unwrap().unwrap();
    assert_eq!(m.body, b"abc");
    assert_eq!(&msg[used..], b"OPTIONS");
    assert_eq!(Message::parse_stream(&msg[..20]).unwrap(), None);
    assert_eq!(Message::parse_stream(&msg[..45]).unwrap(), None);
    assert_eq!(
        Message::parse_stream(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n")
            .unwrap_err()
            .kind,
        ErrorKind::MissingContentLength
    );
}

#[test]
fn folded_value_error_points_into_the_continuation_line() {
    let msg = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a.example\r\n ;received=bad\r\n\r\n";
    let e = Message::parse(msg).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::InHeader { .. }));
    assert!(
        e.offset >= 52,
        "offset {} should be in the continuation line",
        e.offset
    );
}

#[test]
fn a_multibyte_character_at_byte_four_is_an_error_not_a_panic() {
    // Found by the mutated_messages_never_panic property: "SIP" + U+07FB straddles byte 4.
    assert!(Message::parse("SIP\u{7fb}.0 100 x\r\n\r\n".as_bytes()).is_err());
    assert!(Message::parse("INV\u{7fb}E sip:a@b SIP/2.0\r\n\r\n".as_bytes()).is_err());
}

#[test]
fn start_lines() {
    assert!(Message::parse(b" OPTIONS sip:a@b SIP/2.0\r\n\r\n").is_err());
    assert!(Message::parse(b"OPTIONS  sip:a@b SIP/2.0\r\n\r\n").is_err());
    assert!(Message::parse(b"OPTIONS sip:a@b SIP/2.0 \r\n\r\n").is_err());
    assert!(Message::parse(b"OPTIONS <sip:a@b> SIP/2.0\r\n\r\n").is_err());
    assert!(Message::parse(b"SIP/2.0 4294967301 big\r\n\r\n").is_err());
    assert!(Message::parse(b"SIP/2.0 099 low\r\n\r\n").is_err());
    let r = Message::parse(b"SIP/2.0 100 \r\n\r\n").unwrap();
    assert_eq!(r.status_line().unwrap().reason, "");
    let r = Message::parse(b"SIP/2.0 200 OK then more\r\n\r\n").unwrap();
    assert_eq!(r.status_line().unwrap().reason, "OK then more");
    let v = Message::parse(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n").unwrap();
    assert_eq!(
        v.request_line().unwrap().version,
        Version { major: 7, minor: 0 }
    );
}

#[test]
fn line_ends_are_crlf() {
    assert_eq!(
        Message::parse(b"OPTIONS sip:a@b SIP/2.0\nVia: x\r\n\r\n")
            .unwrap_err()
            .kind,
        ErrorKind::BareLf
    );
    assert_eq!(
        Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\n")
            .unwrap_err()
            .kind,
        ErrorKind::UnterminatedHead
    );
    assert_eq!(Message::parse(b"").unwrap_err().kind, ErrorKind::Empty);
}

#[test]
fn validation() {
    let mut m = Message::parse(REGISTER.as_bytes()).unwrap();
    m.headers.retain(|h| h.name != HeaderName::MaxForwards);
    assert_eq!(m.validate(), Err(Invalid::Missing(HeaderName::MaxForwards)));
    let mut m = Message::parse(REGISTER.as_bytes()).unwrap();
    m.headers.push(Header::parse("CSeq", "2 INVITE").unwrap());
    assert_eq!(m.validate(), Err(Invalid::Repeated(HeaderName::CSeq)));
    let mut m = Message::parse(REGISTER.as_bytes()).unwrap();
    for h in &mut m.headers {
        if h.name == HeaderName::CSeq {
            h.value = HeaderValue::CSeq(CSeq {
                seq: 1,
                method: Method::Invite,
            });
        }
    }
    assert_eq!(m.validate().unwrap_err().status(), 400);
}

#[test]
fn rfc2543_request_without_max_forwards_validates() {
    // RFC 4475 §3.4.1 (inv2543): no branch cookie, no Max-Forwards: accepted.
    let rfc2543 = b"INVITE sip:b@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP gw.example.com\r\n\
From: <sip:a@example.net>\r\nTo: sip:b@example.com\r\n\
Call-ID: 1717@gw.example.com\r\nCSeq: 56 INVITE\r\n\r\n";
    let m = Message::parse(rfc2543).unwrap();
    assert_eq!(m.validate(), Ok(()));
    // The same request from an RFC 3261 element (cookie present) must carry Max-Forwards.
    let mut m3261 = m.clone();
    m3261.headers[0] = Header::parse("Via", "SIP/2.0/UDP gw.example.com;branch=z9hG4bK1").unwrap();
    assert_eq!(
        m3261.validate(),
        Err(Invalid::Missing(HeaderName::MaxForwards))
    );
}

#[test]
fn conflicting_content_lengths() {
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConflictingContentLength(0, 3));
}
