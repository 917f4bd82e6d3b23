//! The WebSocket opening handshake (RFC 6455 §4, RFC 7118 §4.1), both sides, on raw bytes.
//!
//! The same input is read three ways:
//! 1. **as an upgrade request** for the server ([`accept_bytes`]), under the default policy and
//!    a restrictive one (paths, origins, authorities). Asserts:
//!    - "need more" only when the HTTP parser says the head is incomplete;
//!    - a complete head decides the same alone as with trailing bytes, and every shorter
//!      non-empty prefix of it is "need more" (a head arriving in pieces is never refused
//!      early);
//!    - an accept selects `sip`, carries a canonical key and its `Sec-WebSocket-Accept`, and its
//!      101 parses as one whole response that the client-side check accepts for that key
//!      (server and client agree, RFC 6455 §4.1 validation 1–6);
//!    - a refusal is a 3xx–5xx (never 101, row 6455-10.7-a) whose bytes parse, whose status is
//!      the one it names, and which the client-side check reports as that HTTP status;
//! 2. **as the server's answer** for a client that sent a fixed key ([`validate_response`]):
//!    an accepted answer is a 101 that selected `sip` and only offered extensions;
//! 3. **as the parts of a client request** ([`ClientRequest`], via `arbitrary`): whatever
//!    request the client builds, the server's default policy accepts, with the same key, Host
//!    and Origin (the reference client and server interoperate for every URI the client takes).
#![no_main]

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sipws_reference::ws::handshake::{accept_key_for, check_key};
use sipws_reference::ws::http::MAX_HEAD_LEN;
use sipws_reference::ws::{
    ClientAccepted, ClientRejected, ClientRequest, OriginPolicy, Parsed, Policy, ServerStep,
    accept_bytes, parse_request, parse_response, validate_response,
};

/// The nonce of RFC 6455 §1.3, as a client would have sent it (base64 of 16 bytes).
const SENT_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A server that serves `/ws` only, to one origin and one authority: the policy branches.
// The struct update fills the field that exists only with the crate's `mutants` feature.
#[allow(clippy::needless_update)]
static STRICT: LazyLock<Policy> = LazyLock::new(|| Policy {
    resource_paths: Some(vec!["/ws".to_owned()]),
    origins: OriginPolicy::Only {
        origins: vec!["https://www.example.com".to_owned()],
        allow_absent: false,
    },
    authorities: Some(vec!["proxy.example.com".to_owned()]),
    ..Policy::default()
});

fuzz_target!(|data: &[u8]| {
    head_prefixes(data);
    server(data, &Policy::default());
    server(data, &STRICT);
    client_response(data);
    client_request(data);
});

/// A complete request head: every shorter non-empty prefix is incomplete, not an error.
fn head_prefixes(data: &[u8]) {
    let Ok(Parsed::Complete { head, consumed }) = parse_request(data) else {
        return;
    };
    assert!(consumed > 0 && consumed <= data.len());
    assert_eq!(head.raw(), &data[..consumed]);
    for cut in [1, consumed / 2, consumed - 1] {
        if cut > 0 && cut < consumed {
            assert_eq!(
                parse_request(&data[..cut]),
                Ok(Parsed::Incomplete),
                "a {cut}-byte prefix of a complete {consumed}-byte head"
            );
        }
    }
}

fn server(data: &[u8], policy: &Policy) {
    match accept_bytes(data, policy) {
        ServerStep::NeedMore => {
            assert_eq!(parse_request(data), Ok(Parsed::Incomplete));
            assert!(
                data.len() < MAX_HEAD_LEN,
                "a head past the bound must be refused"
            );
        }
        ServerStep::Accept { accepted, consumed } => {
            assert!(consumed > 0 && consumed <= data.len());
            assert_eq!(
                accept_bytes(&data[..consumed], policy),
                ServerStep::Accept {
                    accepted: accepted.clone(),
                    consumed
                },
                "the bytes after the head changed the decision"
            );
            // 7118-4.1-b: the only subprotocol a SIP server selects.
            assert_eq!(accepted.subprotocol(), "sip");
            assert!(check_key(accepted.key().as_bytes()).is_ok());
            assert_eq!(
                accepted.accept_key(),
                accept_key_for(accepted.key().as_bytes())
            );
            let bytes = accepted.to_bytes();
            let Ok(Parsed::Complete { head, consumed: n }) = parse_response(&bytes) else {
                panic!(
                    "our 101 does not parse: {}",
                    String::from_utf8_lossy(&bytes)
                );
            };
            assert_eq!(n, bytes.len(), "a 101 has no body");
            assert_eq!(head.status(), 101);
            assert_eq!(
                validate_response(&head, accepted.key(), &["sip"], &[]),
                Ok(ClientAccepted {
                    subprotocol: "sip".to_owned(),
                    extensions: Vec::new(),
                }),
                "the client refuses the server's 101"
            );
        }
        ServerStep::Reject(rejected) => {
            let status = rejected.status();
            assert!((300..600).contains(&status), "refusal with status {status}");
            assert!(!rejected.requirement().is_empty());
            let bytes = rejected.to_bytes();
            let Ok(Parsed::Complete { head, consumed }) = parse_response(&bytes) else {
                panic!(
                    "our refusal does not parse: {}",
                    String::from_utf8_lossy(&bytes)
                );
            };
            assert!(consumed <= bytes.len());
            assert_eq!(head.status(), status);
            assert_eq!(
                validate_response(&head, SENT_KEY, &["sip"], &[]),
                Err(ClientRejected::HttpStatus { code: status })
            );
        }
    }
}

fn client_response(data: &[u8]) {
    let Ok(Parsed::Complete { head, consumed }) = parse_response(data) else {
        return;
    };
    assert!(consumed > 0 && consumed <= data.len());
    assert_eq!(head.raw(), &data[..consumed]);
    let expected = accept_key_for(SENT_KEY.as_bytes());
    for offered_extensions in [&[][..], &["permessage-deflate"][..]] {
        let Ok(accepted) = validate_response(&head, SENT_KEY, &["sip"], offered_extensions) else {
            continue;
        };
        assert_eq!(head.status(), 101);
        assert_eq!(accepted.subprotocol, "sip");
        assert!(
            accepted
                .extensions
                .iter()
                .all(|e| offered_extensions.contains(&e.name.as_str())),
            "an extension that was not offered: {:?}",
            accepted.extensions
        );
        let accepts = head.headers().values("Sec-WebSocket-Accept");
        assert_eq!(accepts, vec![expected.as_bytes()]);
    }
}

/// The parts of a `ws[s]://host[:port]/resource` the reference client may be given.
#[derive(Debug, Arbitrary)]
struct ClientParts<'a> {
    host: &'a str,
    port: Option<u16>,
    secure: bool,
    resource: &'a str,
    origin: Option<&'a str>,
    key: [u8; 16],
    extra_protocols: Vec<&'a str>,
}

fn client_request(data: &[u8]) {
    let Ok(parts) = ClientParts::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let request = ClientRequest::new(parts.host, parts.secure, parts.key)
        .port(parts.port)
        .resource(parts.resource)
        .origin(parts.origin)
        .extra_protocols(&parts.extra_protocols);
    let Ok(bytes) = request.to_bytes() else {
        return;
    };
    if bytes.len() >= MAX_HEAD_LEN {
        // Past the server's head bound (431): a size policy, not an interop question.
        return;
    }
    match accept_bytes(&bytes, &Policy::default()) {
        ServerStep::Accept { accepted, consumed } => {
            assert_eq!(consumed, bytes.len());
            assert_eq!(accepted.key(), request.key());
            assert_eq!(accepted.host(), request.host_header());
            assert_eq!(accepted.origin(), parts.origin);
        }
        other => panic!(
            "the server refuses the client's request: {other:?}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}
