//! The server's rows: [`accept`] and [`accept_bytes`] (spec/requirements.md §2.1).

use super::*;
use crate::ws::subprotocol::SubprotocolError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

fn only_origins(origins: &[&str], allow_absent: bool) -> Policy {
    Policy {
        origins: OriginPolicy::Only {
            origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_absent,
        },
        ..Policy::default()
    }
}

// ----- RFC 7118 §4.1 example ------------------------------------------------------------------

#[test]
fn req_7118_4_1_b_rfc7118_example_handshake() {
    let head = RequestHead::parse(RFC7118_REQUEST.as_bytes()).unwrap();
    let acc = accept(&head, &Policy::default()).unwrap();
    assert_eq!(String::from_utf8(acc.to_bytes()).unwrap(), RFC7118_RESPONSE);
    assert_eq!(acc.subprotocol(), "sip");
    assert_eq!(acc.origin(), Some("http://www.example.com"));
    assert_eq!(acc.host(), "sip-ws.example.com");
    assert_eq!(acc.path(), "/");
}

#[test]
fn req_7118_4_1_b_accept_bytes_reports_consumed() {
    let mut buf = RFC7118_REQUEST.as_bytes().to_vec();
    buf.extend_from_slice(&[0x81, 0x83, 1, 2, 3, 4, 5, 6, 7]);
    match accept_bytes(&buf, &Policy::default()) {
        ServerStep::Accept { accepted, consumed } => {
            assert_eq!(consumed, RFC7118_REQUEST.len());
            assert_eq!(accepted.to_bytes(), RFC7118_RESPONSE.as_bytes());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        accept_bytes(&buf[..20], &Policy::default()),
        ServerStep::NeedMore
    );
}

// ----- 6455-4.2.1-a: GET, HTTP/1.1 or later ----------------------------------------------------

#[test]
fn req_6455_4_2_1_a_post_is_refused() {
    let rej = refused(
        Req::new().line("POST / HTTP/1.1").accept(),
        400,
        "6455-4.2.1-a",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::MethodNotGet {
            method: "POST".into()
        }
    );
}

#[test]
fn req_6455_4_2_1_a_lower_case_get_is_refused() {
    // Methods are case-sensitive (RFC 7231 §4.1).
    refused(
        Req::new().line("get / HTTP/1.1").accept(),
        400,
        "6455-4.2.1-a",
    );
}

#[test]
fn req_6455_4_2_1_a_http_1_0_is_refused() {
    let rej = refused(
        Req::new().line("GET / HTTP/1.0").accept(),
        400,
        "6455-4.2.1-a",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::HttpVersionTooOld {
            version: HttpVersion::HTTP_1_0
        }
    );
}

#[test]
fn req_6455_4_2_1_a_http_0_9_style_version_is_refused() {
    refused(
        Req::new().line("GET / HTTP/0.9").accept(),
        400,
        "6455-4.2.1-a",
    );
}

#[test]
fn req_6455_4_2_1_a_later_http_1_x_is_accepted() {
    // "HTTP/1.1 or higher".
    accepted(Req::new().line("GET / HTTP/1.2").accept());
}

#[test]
fn req_6455_4_2_1_a_absolute_http_uri_is_accepted() {
    let (acc, _) = accepted(
        Req::new()
            .line("GET http://sip-ws.example.com/ws?x=1 HTTP/1.1")
            .accept(),
    );
    assert_eq!(acc.path(), "/ws");
    let (acc, _) = accepted(
        Req::new()
            .line("GET HTTPS://sip-ws.example.com HTTP/1.1")
            .accept(),
    );
    assert_eq!(acc.path(), "/");
}

#[test]
fn req_6455_4_2_1_a_non_resource_targets_are_refused() {
    for target in [
        "*",
        "sip-ws.example.com:80",
        "ws://sip-ws.example.com/",
        "/a#frag",
        "http://a b/",
        "http:///x",
    ] {
        let line = format!("GET {target} HTTP/1.1");
        let Ok(head) = RequestHead::parse(Req::new().line(&line).bytes().as_slice()) else {
            continue; // not even HTTP (e.g. a space in the target): the parser refuses it
        };
        let rej = refused(accept(&head, &Policy::default()), 400, "6455-4.2.1-a");
        assert!(
            matches!(rej.reason(), RejectReason::BadRequestTarget { .. }),
            "{target}: {rej}"
        );
    }
}

// ----- 6455-4.2.1-b: Host ----------------------------------------------------------------------

#[test]
fn req_6455_4_2_1_b_missing_host_is_refused() {
    let rej = refused(Req::new().remove("Host").accept(), 400, "6455-4.2.1-b");
    assert_eq!(rej.reason(), &RejectReason::MissingHost);
}

#[test]
fn req_6455_4_2_1_b_duplicate_host_is_refused() {
    let rej = refused(
        Req::new().add("Host", "sip-ws.example.com").accept(),
        400,
        "6455-4.2.1-b",
    );
    assert_eq!(rej.reason(), &RejectReason::DuplicateHost { count: 2 });
}

#[test]
fn req_6455_4_2_1_b_invalid_host_is_refused() {
    for host in [
        "",
        "user@sip-ws.example.com",
        "a/b",
        "[::1",
        "h:port",
        "h:99999",
        "a\"b",
    ] {
        let rej = refused(Req::new().set("Host", host).accept(), 400, "6455-4.2.1-b");
        assert!(
            matches!(rej.reason(), RejectReason::InvalidHost { .. }),
            "{host:?}: {rej}"
        );
    }
}

#[test]
fn req_6455_4_2_1_b_valid_host_forms_are_accepted() {
    for host in [
        "sip-ws.example.com:8080",
        "192.0.2.1",
        "[2001:db8::1]:443",
        "[::1]",
        "xn--bcher-kva.example",
        "h:",
    ] {
        accepted(Req::new().set("Host", host).accept());
    }
}

#[test]
fn req_6455_4_2_1_b_host_must_be_the_servers_authority_when_configured() {
    let policy = Policy {
        authorities: Some(vec!["sip-ws.example.com".into()]),
        ..Policy::default()
    };
    accepted(
        Req::new()
            .set("Host", "SIP-WS.example.COM")
            .accept_with(&policy),
    );
    let rej = refused(
        Req::new()
            .set("Host", "other.example.com")
            .accept_with(&policy),
        400,
        "6455-4.2.1-b",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::HostNotAllowed {
            host: "other.example.com".into()
        }
    );
    // A port makes a different authority unless listed.
    refused(
        Req::new()
            .set("Host", "sip-ws.example.com:8080")
            .accept_with(&policy),
        400,
        "6455-4.2.1-b",
    );
    // An absolute-form target's authority is checked as well.
    refused(
        Req::new()
            .line("GET http://evil.example/ HTTP/1.1")
            .accept_with(&policy),
        400,
        "6455-4.2.1-b",
    );
}

// ----- 6455-4.2.1-c: Upgrade -------------------------------------------------------------------

#[test]
fn req_6455_4_2_1_c_upgrade_is_case_insensitive() {
    accepted(Req::new().set("Upgrade", "WebSocket").accept());
    accepted(Req::new().set("Upgrade", "WEBSOCKET").accept());
}

#[test]
fn req_6455_4_2_1_c_websocket_among_other_protocols_is_accepted() {
    accepted(Req::new().set("Upgrade", "h2c, websocket").accept());
    accepted(
        Req::new()
            .set("Upgrade", "h2c")
            .add("Upgrade", "websocket")
            .accept(),
    );
}

#[test]
fn req_6455_4_2_1_c_missing_upgrade_is_refused() {
    let rej = refused(Req::new().remove("Upgrade").accept(), 400, "6455-4.2.1-c");
    assert_eq!(rej.reason(), &RejectReason::MissingUpgrade);
}

#[test]
fn req_6455_4_2_1_c_h2c_upgrade_is_refused() {
    let rej = refused(
        Req::new().set("Upgrade", "h2c").accept(),
        400,
        "6455-4.2.1-c",
    );
    assert_eq!(rej.reason(), &RejectReason::UpgradeNotWebSocket);
    refused(
        Req::new().set("Upgrade", "websocket/13").accept(),
        400,
        "6455-4.2.1-c",
    );
    refused(
        Req::new().set("Upgrade", "websockets").accept(),
        400,
        "6455-4.2.1-c",
    );
}

#[test]
fn req_6455_4_2_1_c_malformed_upgrade_is_refused() {
    let rej = refused(
        Req::new().set("Upgrade", "websocket, \"x\"").accept(),
        400,
        "6455-4.2.1-c",
    );
    assert_eq!(rej.reason(), &RejectReason::MalformedUpgrade);
}

// ----- 6455-4.2.1-d: Connection ----------------------------------------------------------------

#[test]
fn req_6455_4_2_1_d_upgrade_among_other_tokens_is_accepted() {
    accepted(Req::new().set("Connection", "keep-alive, upgrade").accept());
    accepted(
        Req::new()
            .set("Connection", "keep-alive")
            .add("Connection", "UPGRADE")
            .accept(),
    );
}

#[test]
fn req_6455_4_2_1_d_missing_connection_is_refused() {
    let rej = refused(
        Req::new().remove("Connection").accept(),
        400,
        "6455-4.2.1-d",
    );
    assert_eq!(rej.reason(), &RejectReason::MissingConnection);
}

#[test]
fn req_6455_4_2_1_d_connection_without_upgrade_is_refused() {
    let rej = refused(
        Req::new().set("Connection", "keep-alive").accept(),
        400,
        "6455-4.2.1-d",
    );
    assert_eq!(rej.reason(), &RejectReason::ConnectionWithoutUpgrade);
    refused(
        Req::new().set("Connection", "upgrades").accept(),
        400,
        "6455-4.2.1-d",
    );
    let rej = refused(
        Req::new().set("Connection", "upgrade; x").accept(),
        400,
        "6455-4.2.1-d",
    );
    assert_eq!(rej.reason(), &RejectReason::MalformedConnection);
}

// ----- 6455-4.2.1-e: Sec-WebSocket-Key ---------------------------------------------------------

#[test]
fn req_6455_4_2_1_e_key_of_15_bytes_is_refused() {
    let key = BASE64.encode([7u8; 15]);
    let rej = refused(
        Req::new().set("Sec-WebSocket-Key", &key).accept(),
        400,
        "6455-4.2.1-e",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::InvalidKey(KeyFault::WrongLength(15))
    );
}

#[test]
fn req_6455_4_2_1_e_key_of_20_bytes_is_refused() {
    let key = BASE64.encode([7u8; 20]);
    let rej = refused(
        Req::new().set("Sec-WebSocket-Key", &key).accept(),
        400,
        "6455-4.2.1-e",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::InvalidKey(KeyFault::WrongLength(20))
    );
}

#[test]
fn req_6455_4_2_1_e_non_base64_key_is_refused() {
    for key in [
        "not base64 at all!!!!!!!",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZQ-=",
    ] {
        let rej = refused(
            Req::new().set("Sec-WebSocket-Key", key).accept(),
            400,
            "6455-4.2.1-e",
        );
        assert_eq!(
            rej.reason(),
            &RejectReason::InvalidKey(KeyFault::NotBase64),
            "{key}"
        );
    }
}

#[test]
fn req_6455_4_2_1_e_missing_key_is_refused() {
    let rej = refused(
        Req::new().remove("Sec-WebSocket-Key").accept(),
        400,
        "6455-4.2.1-e",
    );
    assert_eq!(rej.reason(), &RejectReason::MissingKey);
}

#[test]
fn req_6455_4_2_1_e_a17_rfc_example_key_with_nonzero_pad_bits_is_refused() {
    // A17: RFC 6455 §4.1's example key is non-canonical; a strict decoder (our choice) refuses it.
    let rej = refused(
        Req::new()
            .set("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEC==")
            .accept(),
        400,
        "6455-4.2.1-e",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::InvalidKey(KeyFault::NonCanonical)
    );
}

#[test]
fn req_6455_4_2_1_e_a17_canonical_form_of_rfc_example_key_is_accepted() {
    let key = BASE64.encode((1u8..=16).collect::<Vec<u8>>());
    assert_eq!(key, "AQIDBAUGBwgJCgsMDQ4PEA==");
    let (acc, _) = accepted(Req::new().set("Sec-WebSocket-Key", &key).accept());
    assert_eq!(acc.key(), key);
}

// ----- 6455-11.3.1-a: one Sec-WebSocket-Key ----------------------------------------------------

#[test]
fn req_6455_11_3_1_a_two_keys_are_refused() {
    let rej = refused(
        Req::new().add("Sec-WebSocket-Key", KEY).accept(),
        400,
        "6455-11.3.1-a",
    );
    assert_eq!(rej.reason(), &RejectReason::DuplicateKey { count: 2 });
    let other = BASE64.encode([9u8; 16]);
    refused(
        Req::new().add("sec-websocket-key", &other).accept(),
        400,
        "6455-11.3.1-a",
    );
}

// ----- 6455-4.2.1-f: Sec-WebSocket-Version present ---------------------------------------------

#[test]
fn req_6455_4_2_1_f_missing_version_is_refused_with_version_13() {
    let rej = refused(
        Req::new().remove("Sec-WebSocket-Version").accept(),
        400,
        "6455-4.2.1-f",
    );
    assert_eq!(rej.reason(), &RejectReason::MissingVersion);
    let resp = response(&rej.to_bytes());
    assert_eq!(values(resp.headers(), "Sec-WebSocket-Version"), ["13"]);
}

// ----- 6455-11.3.5-a: one Sec-WebSocket-Version ------------------------------------------------

#[test]
fn req_6455_11_3_5_a_duplicate_version_is_refused() {
    let rej = refused(
        Req::new().add("Sec-WebSocket-Version", "13").accept(),
        400,
        "6455-11.3.5-a",
    );
    assert_eq!(rej.reason(), &RejectReason::DuplicateVersion { count: 2 });
    assert_eq!(
        values(response(&rej.to_bytes()).headers(), "Sec-WebSocket-Version"),
        ["13"]
    );
}

// ----- 6455-4.2.2-a: unsupported version --------------------------------------------------------

#[test]
fn req_6455_4_2_2_a_version_8_gets_426_with_version_13() {
    let rej = refused(
        Req::new().set("Sec-WebSocket-Version", "8").accept(),
        426,
        "6455-4.2.2-a",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::UnsupportedVersion {
            version: "8".into()
        }
    );
    let body = "426 Upgrade Required: only WebSocket version 13 is supported [6455-4.2.2-a]\n";
    let expected = format!(
        "HTTP/1.1 426 Upgrade Required\r\n\
Sec-WebSocket-Version: 13\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade, close\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(String::from_utf8(rej.to_bytes()).unwrap(), expected);
}

#[test]
fn req_6455_4_2_2_a_other_version_values_get_426() {
    for v in ["25", "013", "13, 8", "abc", "12"] {
        let rej = refused(
            Req::new().set("Sec-WebSocket-Version", v).accept(),
            426,
            "6455-4.2.2-a",
        );
        assert_eq!(
            values(response(&rej.to_bytes()).headers(), "Sec-WebSocket-Version"),
            ["13"],
            "{v}"
        );
    }
}

#[test]
fn req_6455_4_2_2_a_version_checked_before_key() {
    // RFC 6455 §4.4: an old-version client with another key scheme still learns our version.
    let rej = refused(
        Req::new()
            .set("Sec-WebSocket-Version", "8")
            .remove("Sec-WebSocket-Key")
            .accept(),
        426,
        "6455-4.2.2-a",
    );
    assert!(matches!(
        rej.reason(),
        RejectReason::UnsupportedVersion { .. }
    ));
}

// ----- 6455-4.2.1-g: no Origin means not a browser ---------------------------------------------

#[test]
fn req_6455_4_2_1_g_missing_origin_not_treated_as_browser() {
    // Default policy: no Origin is fine.
    accepted(Req::new().remove("Origin").accept());
    // With an allow-list, an Origin-less (non-browser) client passes when allowed to.
    let policy = only_origins(&["https://app.example.com"], true);
    let (acc, _) = accepted(Req::new().remove("Origin").accept_with(&policy));
    assert_eq!(acc.origin(), None);
    // ... while a browser from another origin does not.
    refused(Req::new().accept_with(&policy), 403, "6455-4.2.2-b");
}

#[test]
fn req_6455_4_2_1_g_missing_origin_refused_when_policy_demands_one() {
    let rej = refused(
        Req::new()
            .remove("Origin")
            .accept_with(&only_origins(&["https://a.example"], false)),
        403,
        "6455-4.2.2-b",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::OriginNotAllowed { origin: None }
    );
}

// ----- 6455-4.2.1-h: unknown headers ignored, names case-insensitive, order irrelevant ----------

#[test]
fn req_6455_4_2_1_h_lower_case_shuffled_with_unknown_header_is_accepted() {
    let mut req = Req::new().add("X-Foo", "1");
    for (name, _) in &mut req.headers {
        *name = name.to_ascii_lowercase();
    }
    req.headers.reverse();
    req.headers.swap(0, 3);
    let (acc, _) = accepted(req.accept());
    assert_eq!(acc.accept_key(), ACCEPT);
}

#[test]
fn req_6455_4_2_1_h_odd_case_names_are_accepted() {
    let mut req = Req::new().add("Cookie", "a=b").add("User-Agent", "test");
    for (name, _) in &mut req.headers {
        *name = name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
    }
    accepted(req.accept());
}

// ----- 6455-4.2.2-b: Origin allow-list ---------------------------------------------------------

#[test]
fn req_6455_4_2_2_b_foreign_origin_gets_403() {
    let policy = only_origins(&["http://www.example.com"], false);
    let rej = refused(
        Req::new()
            .set("Origin", "https://evil.example")
            .accept_with(&policy),
        403,
        "6455-4.2.2-b",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::OriginNotAllowed {
            origin: Some("https://evil.example".into())
        }
    );
}

#[test]
fn req_6455_4_2_2_b_allowed_origin_is_accepted_case_insensitively() {
    let policy = only_origins(&["http://www.example.com"], false);
    accepted(Req::new().accept_with(&policy));
    accepted(
        Req::new()
            .set("Origin", "HTTP://WWW.EXAMPLE.COM")
            .accept_with(&policy),
    );
}

#[test]
fn req_6455_4_2_2_b_duplicate_origin_gets_403() {
    let policy = only_origins(&["http://www.example.com"], false);
    let rej = refused(
        Req::new()
            .add("Origin", "http://www.example.com")
            .accept_with(&policy),
        403,
        "6455-4.2.2-b",
    );
    assert_eq!(rej.reason(), &RejectReason::DuplicateOrigin { count: 2 });
}

// ----- 6455-4.2.2-c: resource not served -------------------------------------------------------

#[test]
fn req_6455_4_2_2_c_unserved_path_gets_404() {
    let rej = refused(
        Req::new()
            .line("GET /nope HTTP/1.1")
            .accept_with(&only_paths(&["/ws"])),
        404,
        "6455-4.2.2-c",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::ResourceNotFound {
            path: "/nope".into()
        }
    );
    // Paths are case-sensitive (RFC 3986 §6.2.2.1).
    refused(
        Req::new()
            .line("GET /WS HTTP/1.1")
            .accept_with(&only_paths(&["/ws"])),
        404,
        "6455-4.2.2-c",
    );
}

#[test]
fn req_6455_4_2_2_c_served_path_with_query_is_accepted() {
    let (acc, _) = accepted(
        Req::new()
            .line("GET /ws?token=abc HTTP/1.1")
            .accept_with(&only_paths(&["/ws"])),
    );
    assert_eq!((acc.path(), acc.target()), ("/ws", "/ws?token=abc"));
}

#[test]
fn req_6455_4_2_2_c_default_policy_serves_any_path() {
    accepted(Req::new().line("GET /any/path HTTP/1.1").accept());
}

// ----- 6455-4.2.2-d, 7118-4.1-b/c, 6455-11.3.4-a, 7936-2-a: subprotocol -------------------------

#[test]
fn req_7118_4_1_b_sip_offered_alone_gets_sip() {
    accepted(Req::new().accept());
}

#[test]
fn req_7118_4_1_b_sip_chosen_from_foo_sip() {
    accepted(
        Req::new()
            .set("Sec-WebSocket-Protocol", "foo, sip")
            .accept(),
    );
}

#[test]
fn req_7118_4_1_b_sip_chosen_from_sip_foo() {
    accepted(
        Req::new()
            .set("Sec-WebSocket-Protocol", "sip, foo")
            .accept(),
    );
}

#[test]
fn req_6455_4_2_2_d_reply_is_an_offered_token_never_foo_never_empty() {
    let (_, resp) = accepted(
        Req::new()
            .set("Sec-WebSocket-Protocol", "foo, sip")
            .accept(),
    );
    let v = values(resp.headers(), "Sec-WebSocket-Protocol");
    assert_eq!(v, ["sip"]);
    assert!(crate::ws::http::is_token(&v[0]));
}

#[test]
fn req_6455_4_2_2_d_empty_list_elements_are_tolerated() {
    accepted(
        Req::new()
            .set("Sec-WebSocket-Protocol", "foo,,sip")
            .accept(),
    );
}

#[test]
fn req_6455_4_2_2_d_malformed_protocol_list_is_refused() {
    for v in ["\"sip\"", "sip, a b", "", " , "] {
        let rej = refused(
            Req::new().set("Sec-WebSocket-Protocol", v).accept(),
            400,
            "6455-10.7-a",
        );
        assert!(
            matches!(rej.reason(), RejectReason::MalformedSubprotocols(_)),
            "{v:?}: {rej}"
        );
    }
}

#[test]
fn req_6455_11_3_4_a_repeated_protocol_fields_get_one_sip() {
    let req = Req::new()
        .set("Sec-WebSocket-Protocol", "foo")
        .add("Sec-WebSocket-Protocol", "sip");
    let (_, resp) = accepted(req.accept());
    assert_eq!(resp.headers().count("Sec-WebSocket-Protocol"), 1);
}

#[test]
fn req_7118_4_1_c_no_protocol_header_is_refused() {
    let rej = refused(
        Req::new().remove("Sec-WebSocket-Protocol").accept(),
        400,
        "7118-4.1-c",
    );
    assert_eq!(
        rej.reason(),
        &RejectReason::NoSipSubprotocol(SubprotocolError::Absent)
    );
}

#[test]
fn req_7118_4_1_c_foo_only_is_refused() {
    refused(
        Req::new().set("Sec-WebSocket-Protocol", "foo").accept(),
        400,
        "7118-4.1-c",
    );
}

#[test]
fn req_7936_2_a_upper_case_sip_is_not_sip() {
    let rej = refused(
        Req::new().set("Sec-WebSocket-Protocol", "SIP").accept(),
        400,
        "7118-4.1-c",
    );
    assert!(
        matches!(rej.reason(), RejectReason::NoSipSubprotocol(e) if e.case_near_miss() == Some("SIP"))
    );
}

#[test]
fn req_7936_2_a_sip_look_alikes_are_refused() {
    for v in ["Sip", "gossip", "sip2", "sips", "SIP, Sip"] {
        refused(
            Req::new().set("Sec-WebSocket-Protocol", v).accept(),
            400,
            "7118-4.1-c",
        );
    }
}

#[test]
fn req_7936_2_a_exact_sip_chosen_next_to_upper_case() {
    accepted(
        Req::new()
            .set("Sec-WebSocket-Protocol", "SIP, sip")
            .accept(),
    );
}

// ----- 6455-4.2.2-e: extensions never echoed ---------------------------------------------------

#[test]
fn req_6455_4_2_2_e_no_extensions_offered_none_answered() {
    let (_, resp) = accepted(Req::new().remove("Sec-WebSocket-Extensions").accept());
    assert_eq!(resp.headers().count("Sec-WebSocket-Extensions"), 0);
}

#[test]
fn req_6455_4_2_2_e_offered_extensions_are_not_echoed() {
    let req = Req::new().add("Sec-WebSocket-Extensions", "x-unknown").add(
        "Sec-WebSocket-Extensions",
        "permessage-deflate; client_max_window_bits",
    );
    let (_, resp) = accepted(req.accept());
    assert_eq!(resp.headers().count("Sec-WebSocket-Extensions"), 0);
}

// ----- 6455-4.2.2-f: the 101 -------------------------------------------------------------------

#[test]
fn req_6455_4_2_2_f_rfc_example_accept_key() {
    assert_eq!(accept_key_for(KEY.as_bytes()), ACCEPT);
    let (acc, resp) = accepted(Req::new().accept());
    assert_eq!(acc.accept_key(), ACCEPT);
    assert_eq!(values(resp.headers(), "Sec-WebSocket-Accept"), [ACCEPT]);
}

#[test]
fn req_6455_4_2_2_f_accept_is_computed_over_the_key_as_sent() {
    let key = BASE64.encode(*b"0123456789abcdef");
    let (acc, _) = accepted(
        Req::new()
            .set("Sec-WebSocket-Key", &format!("  {key}\t"))
            .accept(),
    );
    assert_eq!(acc.key(), key);
    assert_eq!(acc.accept_key(), accept_key_for(key.as_bytes()));
    assert_ne!(acc.accept_key(), ACCEPT);
}

#[test]
fn req_6455_4_2_2_f_status_line_upgrade_and_connection() {
    let bytes = Req::new().accept().unwrap().to_bytes();
    assert!(bytes.starts_with(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    ));
}

// ----- 6455-11.3.3-a: one Sec-WebSocket-Accept in the response ---------------------------------

#[test]
fn req_6455_11_3_3_a_server_sends_one_accept() {
    let (_, resp) = accepted(Req::new().add("X-Noise", "Sec-WebSocket-Accept").accept());
    assert_eq!(resp.headers().count("Sec-WebSocket-Accept"), 1);
}

// ----- 6455-4.2.2-h: authentication and redirects ----------------------------------------------

#[test]
fn req_6455_4_2_2_h_unauthorized_carries_challenges() {
    let rej = Rejected::unauthorized(&[
        "Digest realm=\"example.com\", nonce=\"abc\"",
        "Basic realm=\"x\"",
    ])
    .unwrap();
    assert_eq!((rej.status(), rej.requirement()), (401, "6455-4.2.2-h"));
    let resp = response(&rej.to_bytes());
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers().count("WWW-Authenticate"), 2);
}

#[test]
fn req_6455_4_2_2_h_redirect_carries_location() {
    let rej = Rejected::redirect(307, "wss://other.example.com/ws").unwrap();
    let resp = response(&rej.to_bytes());
    assert_eq!(resp.status(), 307);
    assert_eq!(
        values(resp.headers(), "Location"),
        ["wss://other.example.com/ws"]
    );
    assert_eq!(rej.requirement(), "6455-4.2.2-h");
}

#[test]
fn req_6455_4_2_2_h_header_injection_is_impossible() {
    assert_eq!(
        Rejected::redirect(200, "/x"),
        Err(ResponseBuildError::Status(200))
    );
    assert!(Rejected::redirect(302, "/x\r\nSet-Cookie: a=b").is_err());
    assert!(Rejected::unauthorized(&["Basic\r\nX: y"]).is_err());
    assert!(Rejected::unauthorized(&[]).is_err());
}

// ----- 6455-10.7-a: invalid handshake data -----------------------------------------------------

#[test]
fn req_6455_10_7_a_garbage_request_line_gets_400() {
    for garbage in [
        &b"\x00\x01\x02\x03\r\n\r\n"[..],
        b"hello world\r\n\r\n",
        b"GET\r\n\r\n",
        b"\xff\xfe\r\n",
    ] {
        match accept_bytes(garbage, &Policy::default()) {
            ServerStep::Reject(rej) => {
                assert_eq!((rej.status(), rej.requirement()), (400, "6455-10.7-a"));
                assert!(matches!(rej.reason(), RejectReason::Malformed(_)));
                assert_eq!(response(&rej.to_bytes()).status(), 400);
            }
            other => panic!("{garbage:?}: {other:?}"),
        }
    }
}

#[test]
fn req_6455_10_7_a_tls_client_hello_on_plain_port_gets_400() {
    let hello = [
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    assert!(
        matches!(accept_bytes(&hello, &Policy::default()), ServerStep::Reject(r) if r.status() == 400)
    );
}

#[test]
fn req_6455_10_7_a_oversized_head_gets_431() {
    let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..=crate::ws::http::MAX_HEADERS {
        buf.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
    }
    match accept_bytes(&buf, &Policy::default()) {
        ServerStep::Reject(rej) => {
            assert_eq!((rej.status(), rej.requirement()), (431, "6455-10.7-a"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn req_6455_10_7_a_malformed_extensions_get_400() {
    let rej = refused(
        Req::new().set("Sec-WebSocket-Extensions", "a;;b").accept(),
        400,
        "6455-10.7-a",
    );
    assert!(matches!(rej.reason(), RejectReason::MalformedExtensions(_)));
}

#[test]
fn req_6455_10_7_a_refusal_body_reflects_no_request_data() {
    let policy = only_paths(&["/ws"]);
    let rej = refused(
        Req::new()
            .line("GET /<script>x</script> HTTP/1.1")
            .accept_with(&policy),
        404,
        "6455-4.2.2-c",
    );
    assert!(!String::from_utf8_lossy(&rej.to_bytes()).contains("<script>"));
    let ServerStep::Reject(rej) = accept_bytes(b"<script>x</script> / HTTP/1.1\r\n\r\n", &policy)
    else {
        panic!()
    };
    assert_eq!(rej.requirement(), "6455-10.7-a");
    assert!(!String::from_utf8_lossy(&rej.to_bytes()).contains("<script>"));
}

#[test]
fn check_order_is_the_documented_one() {
    // Everything wrong at once: the method is reported first.
    let all_wrong = Req::new()
        .line("POST /nope HTTP/1.0")
        .remove("Host")
        .remove("Upgrade")
        .remove("Connection")
        .set("Sec-WebSocket-Version", "8")
        .remove("Sec-WebSocket-Key")
        .set("Sec-WebSocket-Protocol", "foo");
    let mut policy = only_origins(&[], true);
    policy.resource_paths = Some(vec!["/ws".into()]);
    policy.authorities = Some(vec!["a.example".into()]);
    let mut req = all_wrong;
    let expected = [
        "6455-4.2.1-a", // method
        "6455-4.2.1-a", // version
        "6455-4.2.1-b", // Host
        "6455-4.2.1-c", // Upgrade
        "6455-4.2.1-d", // Connection
        "6455-4.2.2-a", // version value
        "6455-4.2.1-e", // key
        "6455-4.2.2-c", // path
        "6455-4.2.2-b", // origin
        "7118-4.1-c",   // subprotocol
    ];
    let fixes: [fn(Req) -> Req; 10] = [
        |r| r.line("GET /nope HTTP/1.0"),
        |r| r.line("GET /nope HTTP/1.1"),
        |r| r.set("Host", "a.example"),
        |r| r.set("Upgrade", "websocket"),
        |r| r.set("Connection", "Upgrade"),
        |r| r.set("Sec-WebSocket-Version", "13"),
        |r| r.set("Sec-WebSocket-Key", KEY),
        |r| r.line("GET /ws HTTP/1.1"),
        |r| r.remove("Origin"),
        |r| r.set("Sec-WebSocket-Protocol", "sip"),
    ];
    for (want, fix) in expected.iter().zip(fixes) {
        let got = req
            .accept_with(&policy)
            .expect_err("still broken")
            .requirement();
        assert_eq!(got, *want);
        req = fix(req);
    }
    accepted(req.accept_with(&policy));
}
