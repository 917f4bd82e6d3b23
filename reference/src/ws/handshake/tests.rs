//! Tests for the opening handshake: one or more per row of spec/requirements.md §2.1 and §2.2,
//! each named after the requirement ID it checks. The server's rows are in `tests/server.rs`,
//! the client's in `tests/client.rs`; here are the fixtures they share and the properties of
//! both halves together.

use super::*;
use crate::ws::http::{
    Headers, HttpVersion, Parsed, RequestHead, ResponseHead, parse_request, parse_response,
};
use crate::ws::subprotocol::parse_offer;
use proptest::prelude::*;

mod client;
mod server;

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
