//! Tests for the opening handshake: one or more per row of REQUIREMENTS.md §2.1 and §2.2,
//! each named after the requirement ID it checks.

use super::*;
use crate::ws::http::{Headers, parse_response};
use crate::ws::subprotocol::parse_offer;
use proptest::prelude::*;

/// RFC 6455 §4.2.2 / RFC 7118 §4.1 example key, and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The RFC 7118 §4.1 example request, byte for byte.
const RFC7118_REQUEST: &str = "GET / HTTP/1.1\r\n\
Host: sip-ws.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://www.example.com\r\n\
Sec-WebSocket-Protocol: sip\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The RFC 7118 §4.1 example 101, byte for byte.
const RFC7118_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: sip\r\n\r\n";

/// A request under construction: start line plus header lines, valid by default
/// (the RFC 7118 §4.1 example).
#[derive(Clone)]
struct Req {
    line: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn new() -> Req {
        let headers = [
            ("Host", "sip-ws.example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", KEY),
            ("Origin", "http://www.example.com"),
            ("Sec-WebSocket-Protocol", "sip"),
            ("Sec-WebSocket-Version", "13"),
        ];
        Req {
            line: "GET / HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }
    fn line(mut self, line: &str) -> Req {
        self.line = line.into();
        self
    }
    /// Replaces every field named `name` by one `name: value` (appended if absent).
    fn set(mut self, name: &str, value: &str) -> Req {
        match self
            .headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.headers[i] = (name.into(), value.into());
                let mut seen = 0;
                self.headers.retain(|(n, _)| {
                    let same = n.eq_ignore_ascii_case(name);
                    seen += usize::from(same);
                    !same || seen == 1
                });
            }
            None => self.headers.push((name.into(), value.into())),
        }
        self
    }
    fn add(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }
    fn remove(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
    fn bytes(&self) -> Vec<u8> {
        let mut s = format!("{}\r\n", self.line);
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s.into_bytes()
    }
    fn head(&self) -> RequestHead {
        RequestHead::parse(&self.bytes()).expect("test request must parse")
    }
    fn accept(&self) -> Result<Accepted, Rejected> {
        self.accept_with(&Policy::default())
    }
    fn accept_with(&self, policy: &Policy) -> Result<Accepted, Rejected> {
        accept(&self.head(), policy)
    }
}

/// Parses rendered response bytes back (the renderer's output must be valid HTTP).
fn response(bytes: &[u8]) -> ResponseHead {
    ResponseHead::parse(bytes).expect("rendered response must parse")
}

fn values(h: &Headers, name: &str) -> Vec<String> {
    h.values(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Asserts a refusal with `status` for requirement `req`, and checks what every refusal must
/// hold: never 101, never `Sec-WebSocket-Accept` or `Sec-WebSocket-Protocol`.
#[track_caller]
fn refused(result: Result<Accepted, Rejected>, status: u16, req: &str) -> Rejected {
    let rej = match result {
        Ok(a) => panic!("expected a {status} refusal for {req}, got an acceptance: {a:?}"),
        Err(r) => r,
    };
    assert_eq!((rej.status(), rej.requirement()), (status, req), "{rej}");
    let resp = response(&rej.to_bytes());
    assert_eq!(resp.status(), status);
    assert_ne!(resp.status(), 101);
    assert_eq!(resp.headers().count("Sec-WebSocket-Accept"), 0);
    assert_eq!(resp.headers().count("Sec-WebSocket-Protocol"), 0);
    assert_eq!(resp.headers().count("Sec-WebSocket-Extensions"), 0);
    rej
}

/// Asserts an acceptance and checks what every 101 must hold (RFC 6455 §4.2.2 (5), §11.3.3,
/// §11.3.4; RFC 7118 §4.1).
#[track_caller]
fn accepted(result: Result<Accepted, Rejected>) -> (Accepted, ResponseHead) {
    let acc = match result {
        Ok(a) => a,
        Err(r) => panic!("expected an acceptance, got {r}"),
    };
    let resp = response(&acc.to_bytes());
    assert_eq!(resp.status(), 101);
    assert_eq!(values(resp.headers(), "Upgrade"), ["websocket"]);
    assert_eq!(values(resp.headers(), "Connection"), ["Upgrade"]);
    assert_eq!(
        values(resp.headers(), "Sec-WebSocket-Accept"),
        [accept_key_for(acc.key().as_bytes())]
    );
    assert_eq!(values(resp.headers(), "Sec-WebSocket-Protocol"), ["sip"]);
    assert_eq!(resp.headers().count("Sec-WebSocket-Extensions"), 0);
    (acc, resp)
}

fn only_paths(paths: &[&str]) -> Policy {
    Policy {
        resource_paths: Some(paths.iter().map(|p| p.to_string()).collect()),
        ..Policy::default()
    }
}

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

#[test]
fn client_and_server_round_trip() {
    let req = ClientRequest::new("sip-ws.example.com", true, [42u8; 16])
        .port(Some(7443))
        .resource("/ws?u=alice");
    let step = accept_bytes(&req.to_bytes().unwrap(), &only_paths(&["/ws"]));
    let ServerStep::Accept { accepted, .. } = step else {
        panic!("{step:?}")
    };
    let reply = match parse_response(&accepted.to_bytes()) {
        Ok(Parsed::Complete { head, .. }) => head,
        other => panic!("{other:?}"),
    };
    let offered = req.offered_protocols();
    let ok = validate_response(&reply, &req.key(), &offered, &[]).unwrap();
    assert_eq!(ok.subprotocol, "sip");
}

// ----- Properties ------------------------------------------------------------------------------

/// When `accept` succeeds, the 101 has exactly one `Sec-WebSocket-Protocol: sip`, and the
/// request offered the exact token `sip`; when it fails, no 101 and no protocol header.
fn check_invariants(
    head: &RequestHead,
    result: &Result<Accepted, Rejected>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(acc) => {
            let resp = response(&acc.to_bytes());
            prop_assert_eq!(resp.status(), 101);
            prop_assert_eq!(
                values(resp.headers(), "Sec-WebSocket-Protocol"),
                vec!["sip".to_string()]
            );
            prop_assert_eq!(resp.headers().count("Sec-WebSocket-Accept"), 1);
            prop_assert_eq!(resp.headers().count("Sec-WebSocket-Extensions"), 0);
            let offer = parse_offer(&head.headers().values("Sec-WebSocket-Protocol"));
            prop_assert!(offer.is_ok_and(|o| o.contains(&"sip")));
        }
        Err(rej) => {
            let resp = response(&rej.to_bytes());
            prop_assert_ne!(resp.status(), 101);
            prop_assert_eq!(resp.headers().count("Sec-WebSocket-Protocol"), 0);
            prop_assert_eq!(resp.headers().count("Sec-WebSocket-Accept"), 0);
        }
    }
    Ok(())
}

fn header_pool() -> impl Strategy<Value = (String, String)> {
    let protocol = prop_oneof![
        prop::sample::select(vec![
            "sip", "SIP", "Sip", "foo, sip", "sip, foo", "gossip", "sip2", "\"sip\"", "sip,,foo",
            "", "foo", " sip "
        ])
        .prop_map(String::from),
        "[ -~]{0,10}",
    ];
    prop_oneof![
        2 => protocol.prop_map(|v| ("Sec-WebSocket-Protocol".to_string(), v)),
        1 => prop::sample::select(vec![
            ("Host", "h.example"),
            ("Host", ""),
            ("Upgrade", "WebSocket"),
            ("Upgrade", "h2c"),
            ("Connection", "keep-alive, Upgrade"),
            ("Connection", "close"),
            ("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEC=="),
            ("Sec-WebSocket-Key", KEY),
            ("Sec-WebSocket-Version", "8"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
            ("Origin", "http://www.example.com"),
            ("X-Foo", "1"),
        ])
        .prop_map(|(n, v)| (n.to_string(), v.to_string())),
    ]
}

fn request_strategy() -> impl Strategy<Value = Vec<u8>> {
    let base = Req::new().headers;
    (
        prop::sample::select(vec![
            "GET / HTTP/1.1",
            "GET /ws HTTP/1.1",
            "POST / HTTP/1.1",
            "GET / HTTP/1.0",
        ]),
        prop::collection::vec(prop::bool::weighted(0.9), base.len()),
        prop::collection::vec(header_pool(), 0..4),
        any::<bool>(),
    )
        .prop_flat_map(move |(line, keep, extra, lower)| {
            let mut headers: Vec<(String, String)> = base
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(h, _)| h.clone())
                .collect();
            headers.extend(extra);
            if lower {
                for (n, _) in &mut headers {
                    *n = n.to_ascii_lowercase();
                }
            }
            (Just(line), Just(headers).prop_shuffle())
        })
        .prop_map(|(line, headers)| {
            Req {
                line: line.to_string(),
                headers,
            }
            .bytes()
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_request(&bytes);
        match accept_bytes(&bytes, &Policy::default()) {
            ServerStep::NeedMore => {}
            ServerStep::Reject(rej) => { let _ = rej.to_bytes(); }
            ServerStep::Accept { accepted, consumed } => {
                let head = RequestHead::parse(&bytes[..consumed]).unwrap();
                check_invariants(&head, &Ok(accepted))?;
            }
        }
        let _ = parse_response(&bytes).map(|p| match p {
            Parsed::Complete { head, .. } => { let _ = validate_response(&head, KEY, &["sip"], &[]); }
            Parsed::Incomplete => {}
        });
    }

    #[test]
    fn accepted_iff_sip_offered_exactly(bytes in request_strategy()) {
        let head = RequestHead::parse(&bytes).unwrap();
        let result = accept(&head, &Policy::default());
        check_invariants(&head, &result)?;
        // And the converse for the subprotocol rule: without an exact `sip`, never accepted.
        let offer = parse_offer(&head.headers().values("Sec-WebSocket-Protocol"));
        if !offer.is_ok_and(|o| o.contains(&"sip")) {
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn client_requests_are_accepted_by_the_server(key in any::<[u8; 16]>(), port in any::<Option<u16>>(),
                                                  secure in any::<bool>(), path in "(/[a-z0-9]{0,6}){0,3}(\\?[a-z=]{0,6})?") {
        let req = ClientRequest::new("sip-ws.example.com", secure, key).port(port).resource(&path);
        let bytes = req.to_bytes().unwrap();
        let ServerStep::Accept { accepted, consumed } = accept_bytes(&bytes, &Policy::default()) else {
            return Err(TestCaseError::fail("our server refused our client"));
        };
        prop_assert_eq!(consumed, bytes.len());
        let reply = response(&accepted.to_bytes());
        prop_assert!(validate_response(&reply, &req.key(), &req.offered_protocols(), &[]).is_ok());
    }
}
