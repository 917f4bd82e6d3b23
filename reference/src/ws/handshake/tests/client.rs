//! The client's rows: [`ClientRequest`] and [`validate_response`] (spec/requirements.md §2.2).

use super::*;

// ----- Client side: 6455-4.1-a, 4.1-b, 3-a, 7118-4.1-a ----------------------------------------

const NONCE: [u8; 16] = *b"the sample nonce";

#[test]
fn req_6455_4_1_a_rfc7118_example_request_is_reproduced() {
    let bytes = client_request(
        "sip-ws.example.com",
        None,
        false,
        "",
        NONCE,
        Some("http://www.example.com"),
        &[],
    )
    .unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), RFC7118_REQUEST);
}

#[test]
fn req_6455_4_1_a_key_is_base64_of_the_injected_16_bytes_and_differs_per_nonce() {
    let a = ClientRequest::new("h.example", false, NONCE);
    let b = ClientRequest::new("h.example", false, [0u8; 16]);
    assert_eq!(a.key(), KEY);
    assert_eq!(check_key(a.key().as_bytes()), Ok(NONCE));
    assert_ne!(a.key(), b.key());
    assert_ne!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
}

#[test]
fn req_6455_4_1_a_request_has_every_required_field() {
    let bytes = client_request("h.example", Some(8080), false, "/ws", NONCE, None, &[]).unwrap();
    let head = RequestHead::parse(&bytes).unwrap();
    assert_eq!(
        (head.method(), head.target(), head.version()),
        ("GET", "/ws", HttpVersion::HTTP_1_1)
    );
    let h = head.headers();
    assert_eq!(values(h, "Host"), ["h.example:8080"]);
    assert_eq!(values(h, "Upgrade"), ["websocket"]);
    assert_eq!(values(h, "Connection"), ["Upgrade"]);
    assert_eq!(values(h, "Sec-WebSocket-Key"), [KEY]);
    assert_eq!(values(h, "Sec-WebSocket-Version"), ["13"]);
    assert_eq!(h.count("Origin"), 0);
    // Our own server accepts what our client sends.
    accepted(accept(&head, &Policy::default()));
}

#[test]
fn req_6455_4_1_a_host_carries_port_only_when_not_default() {
    let host = |h: &str, port, secure| {
        ClientRequest::new(h, secure, NONCE)
            .port(port)
            .host_header()
    };
    assert_eq!(host("h.example", None, false), "h.example");
    assert_eq!(host("h.example", Some(80), false), "h.example");
    assert_eq!(host("h.example", Some(443), false), "h.example:443");
    assert_eq!(host("h.example", Some(443), true), "h.example");
    assert_eq!(host("h.example", Some(80), true), "h.example:80");
    assert_eq!(host("2001:db8::1", Some(8443), true), "[2001:db8::1]:8443");
    assert_eq!(host("[::1]", None, true), "[::1]");
}

#[test]
fn req_6455_4_1_a_invalid_components_fail() {
    let build = |host: &str, path: &str| {
        ClientRequest::new(host, false, NONCE)
            .resource(path)
            .to_bytes()
    };
    assert!(matches!(
        build("", "/"),
        Err(ClientRequestError::InvalidHost(_))
    ));
    assert!(matches!(
        build("a b", "/"),
        Err(ClientRequestError::InvalidHost(_))
    ));
    assert!(matches!(
        build("h\r\nX: y", "/"),
        Err(ClientRequestError::InvalidHost(_))
    ));
    assert!(matches!(
        build("h", "/a b"),
        Err(ClientRequestError::InvalidResource(_))
    ));
    let origin = ClientRequest::new("h", false, NONCE)
        .origin(Some("http://a\r\nX: y"))
        .to_bytes();
    assert!(matches!(origin, Err(ClientRequestError::InvalidOrigin(_))));
    let reserved = ClientRequest::new("h", false, NONCE)
        .header("sec-websocket-protocol", "foo")
        .to_bytes();
    assert!(matches!(
        reserved,
        Err(ClientRequestError::ReservedHeader(_))
    ));
    let bad = ClientRequest::new("h", false, NONCE)
        .header("Cookie", "a\nb")
        .to_bytes();
    assert!(matches!(bad, Err(ClientRequestError::InvalidHeader(_))));
}

#[test]
fn req_6455_4_1_a_extra_headers_are_sent() {
    let bytes = ClientRequest::new("h", true, NONCE)
        .header("Cookie", "sid=1")
        .to_bytes()
        .unwrap();
    let head = RequestHead::parse(&bytes).unwrap();
    assert_eq!(values(head.headers(), "Cookie"), ["sid=1"]);
}

#[test]
fn req_7118_4_1_a_client_offers_sip() {
    let bytes = client_request("h", None, false, "/", NONCE, None, &[]).unwrap();
    let head = RequestHead::parse(&bytes).unwrap();
    assert_eq!(
        parse_offer(&head.headers().values("Sec-WebSocket-Protocol")),
        Ok(vec!["sip"])
    );
}

#[test]
fn req_6455_4_1_b_sip_offered_exactly_once() {
    for extras in [
        &[][..],
        &["foo"][..],
        &["sip"][..],
        &["foo", "sip"][..],
        &["SIP"][..],
    ] {
        let req = ClientRequest::new("h", false, NONCE).extra_protocols(extras);
        let head = RequestHead::parse(&req.to_bytes().unwrap()).unwrap();
        assert_eq!(head.headers().count("Sec-WebSocket-Protocol"), 1);
        let offer = parse_offer(&head.headers().values("Sec-WebSocket-Protocol")).unwrap();
        assert_eq!(
            offer.iter().filter(|t| **t == "sip").count(),
            1,
            "{extras:?}"
        );
        assert_eq!(offer, req.offered_protocols());
    }
    // Preference order of the caller is kept when it places sip itself.
    let req = ClientRequest::new("h", false, NONCE).extra_protocols(&["foo", "sip"]);
    assert_eq!(req.offered_protocols(), ["foo", "sip"]);
    let req = ClientRequest::new("h", false, NONCE).extra_protocols(&["foo"]);
    assert_eq!(req.offered_protocols(), ["sip", "foo"]);
}

#[test]
fn req_6455_4_1_b_offered_tokens_are_unique_non_empty_tokens() {
    let build = |p: &[&str]| {
        ClientRequest::new("h", false, NONCE)
            .extra_protocols(p)
            .to_bytes()
    };
    assert_eq!(
        build(&["foo", "foo"]),
        Err(ClientRequestError::DuplicateProtocol("foo".into()))
    );
    assert_eq!(
        build(&[""]),
        Err(ClientRequestError::InvalidProtocol(String::new()))
    );
    assert_eq!(
        build(&["a b"]),
        Err(ClientRequestError::InvalidProtocol("a b".into()))
    );
    assert_eq!(
        build(&["\"x\""]),
        Err(ClientRequestError::InvalidProtocol("\"x\"".into()))
    );
    assert_eq!(
        build(&["sip", "sip"]).unwrap_err().requirement(),
        "6455-4.1-b"
    );
}

#[test]
fn req_6455_3_a_empty_path_is_slash() {
    let head = RequestHead::parse(&client_request("h", None, false, "", NONCE, None, &[]).unwrap())
        .unwrap();
    assert_eq!(head.target(), "/");
    let head =
        RequestHead::parse(&client_request("h", None, false, "?a=b", NONCE, None, &[]).unwrap())
            .unwrap();
    assert_eq!(head.target(), "/?a=b");
}

#[test]
fn req_6455_3_a_fragment_is_refused() {
    let err = client_request("h", None, false, "/ws#frag", NONCE, None, &[]).unwrap_err();
    assert_eq!(err, ClientRequestError::Fragment("/ws#frag".into()));
    assert_eq!(err.requirement(), "6455-3-a");
    assert!(matches!(
        client_request("h", None, false, "ws", NONCE, None, &[]),
        Err(ClientRequestError::InvalidResource(_))
    ));
}

#[test]
fn req_6455_3_a_default_ports_are_80_and_443() {
    let host = |port, secure| {
        let b = client_request("h", port, secure, "", NONCE, None, &[]).unwrap();
        values(RequestHead::parse(&b).unwrap().headers(), "Host").remove(0)
    };
    assert_eq!(host(None, false), "h");
    assert_eq!(host(Some(80), false), "h");
    assert_eq!(host(Some(443), true), "h");
    assert_eq!(host(Some(5066), false), "h:5066");
}

// ----- Client side: validate_response (6455-4.1-f, 4.1-g, 11.3.3-a, 11.3.4-a) -----------------

fn resp(text: &str) -> ResponseHead {
    ResponseHead::parse(text.as_bytes()).unwrap()
}

fn validate(text: &str) -> Result<ClientAccepted, ClientRejected> {
    validate_response(&resp(text), KEY, &["sip"], &[])
}

/// The RFC 7118 §4.1 101 with one line replaced (`from` => `to`; `to` may be empty).
fn variant(from: &str, to: &str) -> String {
    assert!(RFC7118_RESPONSE.contains(from));
    RFC7118_RESPONSE.replacen(from, to, 1)
}

#[test]
fn req_6455_4_1_f_rfc7118_example_response_is_valid() {
    let ok = validate(RFC7118_RESPONSE).unwrap();
    assert_eq!(
        ok,
        ClientAccepted {
            subprotocol: "sip".into(),
            extensions: vec![]
        }
    );
}

#[test]
fn req_6455_4_1_f_non_101_is_an_http_status() {
    for code in [200, 301, 302, 400, 401, 403, 426, 500] {
        let err = validate(&format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n")).unwrap_err();
        assert_eq!(err, ClientRejected::HttpStatus { code });
        assert_eq!(err.requirement(), "6455-4.1-f");
    }
}

#[test]
fn req_6455_4_1_f_101_on_http_1_0_fails() {
    let err = validate(&RFC7118_RESPONSE.replacen("HTTP/1.1", "HTTP/1.0", 1)).unwrap_err();
    assert_eq!(
        err,
        ClientRejected::HttpVersion {
            version: HttpVersion::HTTP_1_0
        }
    );
}

#[test]
fn req_6455_4_1_f_missing_or_wrong_upgrade_fails() {
    assert_eq!(
        validate(&variant("Upgrade: websocket\r\n", "")),
        Err(ClientRejected::MissingUpgrade)
    );
    assert!(matches!(
        validate(&variant("Upgrade: websocket", "Upgrade: h2c")),
        Err(ClientRejected::BadUpgrade { .. })
    ));
    assert!(matches!(
        validate(&variant("Upgrade: websocket", "Upgrade: websocket, h2c")),
        Err(ClientRejected::BadUpgrade { .. })
    ));
    assert!(validate(&variant("Upgrade: websocket", "upgrade: WebSocket")).is_ok());
}

#[test]
fn req_6455_4_1_f_missing_or_wrong_connection_fails() {
    assert_eq!(
        validate(&variant("Connection: Upgrade\r\n", "")),
        Err(ClientRejected::MissingConnection)
    );
    assert_eq!(
        validate(&variant("Connection: Upgrade", "Connection: close")),
        Err(ClientRejected::ConnectionWithoutUpgrade)
    );
    assert!(
        validate(&variant(
            "Connection: Upgrade",
            "Connection: keep-alive, upgrade"
        ))
        .is_ok()
    );
}

#[test]
fn req_6455_4_1_f_missing_or_wrong_accept_fails() {
    assert_eq!(
        validate(&variant(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"), "")),
        Err(ClientRejected::MissingAccept)
    );
    let wrong = accept_key_for(b"AQIDBAUGBwgJCgsMDQ4PEA==");
    let err = validate(&variant(ACCEPT, &wrong)).unwrap_err();
    assert_eq!(
        err,
        ClientRejected::AcceptMismatch {
            expected: ACCEPT.into(),
            got: wrong
        }
    );
    // Base64 is case-sensitive: a case-changed accept value is wrong.
    assert!(validate(&variant(ACCEPT, &ACCEPT.to_ascii_lowercase())).is_err());
}

#[test]
fn req_6455_4_1_f_unrequested_extension_fails() {
    let with_ext = variant(
        "Sec-WebSocket-Protocol: sip\r\n",
        "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
    );
    assert_eq!(
        validate(&with_ext),
        Err(ClientRejected::UnrequestedExtension {
            name: "permessage-deflate".into()
        })
    );
    let ok = validate_response(&resp(&with_ext), KEY, &["sip"], &["permessage-deflate"]).unwrap();
    assert_eq!(ok.extensions.len(), 1);
    let twice = with_ext.replacen(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        1,
    );
    assert_eq!(
        validate_response(&resp(&twice), KEY, &["sip"], &["permessage-deflate"]),
        Err(ClientRejected::DuplicateExtensions { count: 2 })
    );
}

#[test]
fn req_6455_4_1_f_unrequested_subprotocol_fails() {
    let err = validate(&variant(
        "Sec-WebSocket-Protocol: sip",
        "Sec-WebSocket-Protocol: chat",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        ClientRejected::UnrequestedSubprotocol {
            value: "chat".into()
        }
    );
    // RFC 7936 §2: `SIP` was not offered when `sip` was.
    let err = validate(&variant(
        "Sec-WebSocket-Protocol: sip",
        "Sec-WebSocket-Protocol: SIP",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        ClientRejected::UnrequestedSubprotocol {
            value: "SIP".into()
        }
    );
    let err = validate(&variant(
        "Sec-WebSocket-Protocol: sip",
        "Sec-WebSocket-Protocol: sip, foo",
    ))
    .unwrap_err();
    assert_eq!(err.requirement(), "6455-4.2.2-d");
}

#[test]
fn req_6455_4_1_g_101_without_sip_fails() {
    let err = validate(&variant("Sec-WebSocket-Protocol: sip\r\n", "")).unwrap_err();
    assert_eq!(err, ClientRejected::NoSipSubprotocol { selected: None });
    assert_eq!(err.requirement(), "6455-4.1-g");
    // An offered non-SIP protocol is valid WebSocket but not a SIP connection.
    let other = variant("Sec-WebSocket-Protocol: sip", "Sec-WebSocket-Protocol: foo");
    let err = validate_response(&resp(&other), KEY, &["sip", "foo"], &[]).unwrap_err();
    assert_eq!(
        err,
        ClientRejected::NoSipSubprotocol {
            selected: Some("foo".into())
        }
    );
}

#[test]
fn req_6455_11_3_3_a_client_refuses_two_accept_headers() {
    let twice = variant(
        "Sec-WebSocket-Protocol: sip\r\n",
        &format!("Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"),
    );
    let err = validate(&twice).unwrap_err();
    assert_eq!(err, ClientRejected::DuplicateAccept { count: 2 });
    assert_eq!(err.requirement(), "6455-11.3.3-a");
}

#[test]
fn req_6455_11_3_4_a_client_refuses_two_protocol_headers() {
    let twice = variant(
        "Sec-WebSocket-Protocol: sip\r\n",
        "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Protocol: sip\r\n",
    );
    let err = validate(&twice).unwrap_err();
    assert_eq!(err, ClientRejected::DuplicateProtocol { count: 2 });
    assert_eq!(err.requirement(), "6455-11.3.4-a");
}
