//! Tests of the HTTP/1.x head parser, the `#rule` list helpers and the renderer.

use super::*;
use proptest::prelude::*;

fn complete_req(buf: &[u8]) -> (RequestHead, usize) {
    match parse_request(buf) {
        Ok(Parsed::Complete { head, consumed }) => (head, consumed),
        other => panic!("expected a complete request, got {other:?}"),
    }
}

const RFC7118_REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\
Host: sip-ws.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://www.example.com\r\n\
Sec-WebSocket-Protocol: sip\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn parses_rfc7118_example_request_and_reports_consumed() {
    let mut buf = RFC7118_REQUEST.to_vec();
    buf.extend_from_slice(b"\x81\x05hello");
    let (head, consumed) = complete_req(&buf);
    assert_eq!(consumed, RFC7118_REQUEST.len());
    assert_eq!(head.raw(), RFC7118_REQUEST);
    assert_eq!(head.method(), "GET");
    assert_eq!(head.target(), "/");
    assert_eq!(head.version(), HttpVersion::HTTP_1_1);
    assert_eq!(head.headers().len(), 7);
    assert_eq!(
        head.headers().get("HOST").map(Header::value),
        Some(&b"sip-ws.example.com"[..])
    );
    assert_eq!(
        head.headers().get("sec-websocket-key").map(Header::name),
        Some("Sec-WebSocket-Key")
    );
}

#[test]
fn every_proper_prefix_is_incomplete() {
    for n in 0..RFC7118_REQUEST.len() {
        assert_eq!(
            parse_request(&RFC7118_REQUEST[..n]),
            Ok(Parsed::Incomplete),
            "prefix of {n} bytes"
        );
    }
}

#[test]
fn duplicates_and_order_are_kept_and_ows_trimmed() {
    let (head, _) = complete_req(b"GET /x HTTP/1.1\r\nA: 1\r\nb:\t 2 \t\r\na: 3\r\nEmpty:\r\n\r\n");
    let names: Vec<&str> = head.headers().iter().map(Header::name).collect();
    assert_eq!(names, ["A", "b", "a", "Empty"]);
    assert_eq!(head.headers().values("a"), vec![&b"1"[..], &b"3"[..]]);
    assert_eq!(head.headers().get("B").map(Header::value), Some(&b"2"[..]));
    assert_eq!(
        head.headers().get("empty").map(Header::value),
        Some(&b""[..])
    );
    assert_eq!(head.headers().count("A"), 2);
}

#[test]
fn errors_name_the_fault_and_offset() {
    let cases: &[(&[u8], HttpError)] = &[
        (b"G(T / HTTP/1.1\r\n\r\n", HttpError::Method { offset: 1 }),
        (b" GET / HTTP/1.1\r\n\r\n", HttpError::Method { offset: 0 }),
        (
            b"GET  / HTTP/1.1\r\n\r\n",
            HttpError::RequestTarget { offset: 4 },
        ),
        (b"GET / http/1.1\r\n\r\n", HttpError::Version { offset: 6 }),
        (
            b"GET / HTTP/1.1 \r\n\r\n",
            HttpError::Version { offset: 14 },
        ),
        (b"GET / HTTP/11\r\n\r\n", HttpError::Version { offset: 12 }),
        (
            b"GET / HTTP/1.1\nHost: a\r\n\r\n",
            HttpError::BareLf { offset: 14 },
        ),
        (
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            HttpError::SpaceBeforeColon { offset: 20 },
        ),
        (
            b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
            HttpError::HeaderName { offset: 18 },
        ),
        (
            b"GET / HTTP/1.1\r\n: a\r\n\r\n",
            HttpError::HeaderName { offset: 16 },
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
            HttpError::HeaderValue { offset: 23 },
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            HttpError::BareCr { offset: 23 },
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
            HttpError::ObsFold { offset: 25 },
        ),
        (
            b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
            HttpError::ObsFold { offset: 16 },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse_request(input).as_ref(),
            Err(want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(want.offset().is_some());
    }
}

#[test]
fn leading_empty_lines_are_skipped_and_counted() {
    let (head, consumed) = complete_req(b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nrest");
    assert_eq!(head.method(), "GET");
    assert_eq!(consumed, 4 + 16 + 9 + 2);
}

#[test]
fn header_count_is_bounded() {
    let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS {
        buf.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    let ok = [buf.clone(), b"\r\n".to_vec()].concat();
    assert!(matches!(parse_request(&ok), Ok(Parsed::Complete { .. })));
    buf.extend_from_slice(b"X-last: v\r\n\r\n");
    let err = parse_request(&buf).unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::TooManyHeaders {
                limit: MAX_HEADERS,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status(), 431);
}

#[test]
fn head_size_is_bounded() {
    let limits = Limits {
        max_headers: 64,
        max_head_len: 64,
    };
    let mut buf = b"GET / HTTP/1.1\r\nX: ".to_vec();
    buf.resize(63, b'a');
    assert_eq!(parse_request_with(&buf, &limits), Ok(Parsed::Incomplete));
    buf.push(b'a');
    assert_eq!(
        parse_request_with(&buf, &limits),
        Err(HttpError::HeadTooLarge { limit: 64 })
    );
}

#[test]
fn parses_response_heads() {
    let buf = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
    match parse_response(buf) {
        Ok(Parsed::Complete { head, consumed }) => {
            assert_eq!(consumed, buf.len() - 2);
            assert_eq!(head.status(), 101);
            assert_eq!(head.reason(), b"Switching Protocols");
            assert_eq!(head.version(), HttpVersion::HTTP_1_1);
        }
        other => panic!("{other:?}"),
    }
    // Tolerated: no SP and no reason-phrase after the status code.
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 404\r\n\r\n").map(|h| h.status()),
        Ok(404)
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 10x Oops\r\n\r\n"),
        Err(HttpError::StatusCode { offset: 11 })
    );
    assert_eq!(
        ResponseHead::parse(b"HTTP/1.1 101 Ok\r\n"),
        Err(HttpError::Truncated { offset: 17 })
    );
}

#[test]
fn list_elements_skip_empty_elements() {
    let els = list_elements(&[&b" a ,, b,"[..], b"", b"c"]);
    let got: Vec<(&[u8], usize, usize)> =
        els.iter().map(|e| (e.bytes, e.field, e.offset)).collect();
    assert_eq!(
        got,
        vec![(&b"a"[..], 0, 1), (&b"b"[..], 0, 6), (&b"c"[..], 2, 0)]
    );
}

#[test]
fn render_response_is_exact() {
    let h = vec![("A".to_string(), "1".to_string())];
    assert_eq!(
        render_response(404, "Not Found", &h, b"x"),
        b"HTTP/1.1 404 Not Found\r\nA: 1\r\n\r\nx".to_vec()
    );
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_request(&bytes);
        let _ = parse_response(&bytes);
        let _ = parse_request_with(&bytes, &Limits { max_headers: 2, max_head_len: 40 });
    }

    #[test]
    fn consumed_matches_raw(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let buf = [RFC7118_REQUEST, &tail].concat();
        let (head, consumed) = complete_req(&buf);
        prop_assert_eq!(consumed, RFC7118_REQUEST.len());
        prop_assert_eq!(head.raw().len(), consumed);
    }
}
