//! The UA answering digest challenges (RFC 3261 §22.2, RFC 8760 §2.4), checked by the
//! registrar's own verifier: the user agent core and the proxy's authenticator, sans-IO,
//! with every message serialized, framed and parsed again as the WebSocket carries it.

use sipws_reference::proxy::Time;
use sipws_reference::proxy::auth::{AuthConfig, AuthOutcome, Authenticator, UserSecret};
use sipws_reference::sip::digest::{Challenge, parse_auth_params};
use sipws_reference::sip::response::response as server_response;
use sipws_reference::sip::{Header, HeaderName, Message, Method, Via};
use sipws_reference::ua::{CallState, SplitMix64, Ua, UaConfig, UaEvent, WsTransport, wire};

const INSTANCE: &str = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

fn config(t: WsTransport) -> UaConfig {
    UaConfig::new(
        "sip:alice@example.com",
        "sip:proxy.example.com",
        t,
        INSTANCE,
    )
    .expect("valid config")
}

fn ua_with(config: UaConfig) -> Ua {
    Ua::new(config, SplitMix64::new(1).into_source()).expect("valid config")
}

fn ua() -> Ua {
    ua_with(config(WsTransport::Wss))
}

/// Deliver `m` as the shell would: serialized, framed, parsed again.
fn feed(ua: &mut Ua, m: &Message, now: u64) -> Vec<UaEvent> {
    let (bytes, kind) = wire(m);
    ua.receive_payload(&bytes, kind, now)
}

fn sent(events: &[UaEvent]) -> Vec<&Message> {
    events
        .iter()
        .filter_map(|e| match e {
            UaEvent::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn headers(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| Header::parse(n, v).expect("test header parses"))
        .collect()
}

/// What a server would answer: the request's Via/From/To/Call-ID/CSeq, a To tag, `extra`.
fn reply(req: &Message, code: u16, extra: &[(&str, &str)]) -> Message {
    server_response(req, code, "srvtag", headers(extra))
}

/// A registrar's 2xx listing the REGISTER's own contact with `params` appended.
fn register_ok(req: &Message, params: &str, extra: &[(&str, &str)]) -> Message {
    let mut contact = req
        .contacts()
        .next()
        .expect("REGISTER has a contact")
        .clone();
    contact.params.remove("expires");
    let mut list = vec![("Contact", format!("{contact}{params}"))];
    list.extend(extra.iter().map(|(n, v)| (*n, v.to_string())));
    let list: Vec<(&str, &str)> = list.iter().map(|(n, v)| (*n, v.as_str())).collect();
    reply(req, 200, &list)
}

fn server() -> Authenticator {
    Authenticator::new(
        AuthConfig::new(
            "example.com",
            vec![UserSecret::from_password(
                "alice",
                "example.com",
                "wonderland",
            )],
        ),
        b"ua auth test secret, 32 bytes...",
    )
}

fn challenge(server: &mut Authenticator, req: &Message, code: u16, stale: bool) -> Message {
    let name = if code == 401 {
        HeaderName::WwwAuthenticate
    } else {
        HeaderName::ProxyAuthenticate
    };
    server_response(req, code, "srvtag", server.challenge(name, stale, Time(0)))
}

fn one_sent(events: &[UaEvent]) -> Message {
    match sent(events).as_slice() {
        [m] => (*m).clone(),
        other => panic!("expected one message sent, got {other:#?}"),
    }
}

fn credentials_of(m: &Message, name: &HeaderName) -> Challenge {
    let text = m.value(name).expect("credentials sent").to_string();
    let p = parse_auth_params(&text).expect("parses");
    Challenge {
        realm: p.get("realm").unwrap_or_default().to_string(),
        nonce: p.get("nonce").unwrap_or_default().to_string(),
        opaque: None,
        algorithm: p.get("algorithm").map(str::to_string),
        qop: p
            .get("nc")
            .map(|nc| vec![nc.to_string()])
            .unwrap_or_default(),
        stale: false,
    }
}

#[test]
fn req_3261_22_2_register_answers_401_with_sha256_and_refreshes_with_the_next_nc() {
    let mut s = server();
    let mut ua = ua_with(config(WsTransport::Wss).with_password("wonderland"));
    let first = ua.register(0);
    assert!(first.value(&HeaderName::Authorization).is_none());
    let retry = one_sent(&feed(&mut ua, &challenge(&mut s, &first, 401, false), 1));
    assert_eq!(retry.cseq().map(|c| c.seq), Some(2));
    assert_eq!(retry.call_id(), first.call_id());
    assert_ne!(
        retry.top_via().and_then(Via::branch),
        first.top_via().and_then(Via::branch)
    );
    // RFC 8760 §2.4: SHA-256 is preferred when offered.
    let used = credentials_of(&retry, &HeaderName::Authorization);
    assert_eq!(used.algorithm.as_deref(), Some("SHA-256"));
    assert_eq!(used.qop, vec!["00000001".to_string()]);
    assert_eq!(
        s.verify(&retry, &HeaderName::Authorization, Time(1)),
        AuthOutcome::Authorized("alice".into())
    );
    let ev = feed(&mut ua, &register_ok(&retry, "", &[]), 2);
    assert!(
        ev.iter().any(|e| matches!(e, UaEvent::Registered(_))),
        "{ev:#?}"
    );
    // The refresh carries credentials for the same nonce with the next nonce-count.
    let refresh = ua.refresh(3).expect("registered");
    assert_eq!(
        credentials_of(&refresh, &HeaderName::Authorization).qop,
        vec!["00000002".to_string()]
    );
    assert_eq!(
        s.verify(&refresh, &HeaderName::Authorization, Time(3)),
        AuthOutcome::Authorized("alice".into())
    );
}

#[test]
fn req_3261_22_2_md5_only_challenge_is_answered_with_md5() {
    let mut ua = ua_with(config(WsTransport::Ws).with_password("wonderland"));
    let first = ua.register(0);
    let md5 = reply(
        &first,
        401,
        &[(
            "WWW-Authenticate",
            "Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\"",
        )],
    );
    let retry = one_sent(&feed(&mut ua, &md5, 1));
    let used = credentials_of(&retry, &HeaderName::Authorization);
    assert_eq!((used.algorithm, used.nonce.as_str()), (None, "abc"));
}

#[test]
fn req_3261_22_2_wrong_password_fails_after_one_retry_with_a_clear_reason() {
    let mut s = server();
    let mut ua = ua_with(config(WsTransport::Wss).with_password("guess"));
    let first = ua.register(0);
    let retry = one_sent(&feed(&mut ua, &challenge(&mut s, &first, 401, false), 1));
    assert!(matches!(
        s.verify(&retry, &HeaderName::Authorization, Time(1)),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    let ev = feed(&mut ua, &challenge(&mut s, &retry, 401, false), 2);
    assert!(sent(&ev).is_empty(), "no third attempt: {ev:#?}");
    match ev.as_slice() {
        [
            UaEvent::RegistrationFailed {
                status: 401,
                reason,
                ..
            },
        ] => {
            assert!(reason.contains("refused"), "{reason}");
        }
        other => panic!("expected the 401 as a failure, got {other:#?}"),
    }
}

#[test]
fn req_3261_22_2_stale_nonce_is_answered_again_without_failing() {
    let mut s = server();
    let mut ua = ua_with(config(WsTransport::Wss).with_password("wonderland"));
    let first = ua.register(0);
    let retry = one_sent(&feed(&mut ua, &challenge(&mut s, &first, 401, false), 1));
    let again = one_sent(&feed(&mut ua, &challenge(&mut s, &retry, 401, true), 2));
    assert_eq!(again.cseq().map(|c| c.seq), Some(3));
    assert_eq!(
        s.verify(&again, &HeaderName::Authorization, Time(2)),
        AuthOutcome::Authorized("alice".into())
    );
}

#[test]
fn a_challenge_without_a_password_fails_saying_so() {
    let mut s = server();
    let mut ua = ua();
    let first = ua.register(0);
    let ev = feed(&mut ua, &challenge(&mut s, &first, 401, false), 1);
    match ev.as_slice() {
        [
            UaEvent::RegistrationFailed {
                status: 401,
                reason,
                ..
            },
        ] => {
            assert!(reason.contains("no password"), "{reason}");
        }
        other => panic!("expected the 401 as a failure, got {other:#?}"),
    }
}

#[test]
fn req_3261_22_3_message_answers_407_with_proxy_authorization() {
    let mut s = server();
    let mut ua = ua_with(config(WsTransport::Wss).with_password("wonderland"));
    let m = ua
        .message("sip:bob@example.com", "text/plain", b"hi".to_vec(), 0)
        .expect("valid");
    let retry = one_sent(&feed(&mut ua, &challenge(&mut s, &m, 407, false), 1));
    assert_eq!(retry.cseq().map(|c| c.seq), Some(2));
    assert_eq!(retry.call_id(), m.call_id());
    assert_eq!(retry.body, b"hi");
    assert_eq!(
        s.verify(&retry, &HeaderName::ProxyAuthorization, Time(1)),
        AuthOutcome::Authorized("alice".into())
    );
    let ev = feed(&mut ua, &reply(&retry, 200, &[]), 2);
    assert!(
        ev.iter()
            .any(|e| matches!(e, UaEvent::RequestCompleted { status: 200, .. })),
        "{ev:#?}"
    );
}

#[test]
fn req_3261_22_3_invite_acks_the_407_then_resends_with_credentials() {
    let mut s = server();
    let mut ua = ua_with(config(WsTransport::Wss).with_password("wonderland"));
    let (call, inv) = ua.invite("sip:bob@example.com", None, 0).expect("valid");
    let ev = feed(&mut ua, &challenge(&mut s, &inv, 407, false), 1);
    let out = sent(&ev);
    assert_eq!(out.len(), 2, "{ev:#?}");
    assert_eq!(out[0].method(), Some(&Method::Ack));
    assert_eq!(out[1].method(), Some(&Method::Invite));
    assert_eq!(out[1].cseq().map(|c| c.seq), Some(2));
    assert_eq!(
        s.verify(out[1], &HeaderName::ProxyAuthorization, Time(1)),
        AuthOutcome::Authorized("alice".into())
    );
    assert_eq!(ua.call_state(call), Some(CallState::Calling));
}
