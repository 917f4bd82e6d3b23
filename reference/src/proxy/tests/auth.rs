//! The authentication policy (RFC 3261 §22, RFC 8760; the `proxy` module docs): the registrar
//! challenges with 401, the proxy with 407, and user U may only change U's bindings.

use super::*;
use crate::proxy::auth::{AuthConfig, ChallengeScope, UserSecret};
use crate::sip::digest::{Algorithm, Challenge};

const LIFETIME_SECS: u64 = 300;

fn auth_proxy(scope: ChallengeScope) -> Proxy {
    let mut c = config();
    let mut a = AuthConfig::new(
        "example.com",
        vec![
            UserSecret::from_password("alice", "example.com", "wonderland"),
            UserSecret::from_password("bob", "example.com", "builder"),
        ],
    );
    a.nonce_lifetime_secs = LIFETIME_SECS;
    a.scope = scope;
    c.auth = Some(a);
    let mut p = Proxy::new(c);
    p.flow_opened(flow(ALICE_FLOW, Transport::Wss, "198.51.100.1:50000"));
    p.flow_opened(flow(BOB_FLOW, Transport::Udp, "203.0.113.22:5060"));
    p.flow_opened(flow(CAROL_FLOW, Transport::Ws, "198.51.100.3:50003"));
    p
}

fn challenges(resp: &Message, name: &HeaderName) -> Vec<Challenge> {
    resp.values(name)
        .map(|v| Challenge::parse(&v.to_string()).expect("our challenges parse"))
        .collect()
}

/// `req` with credentials answering the `alg` challenge of `resp` in `header`.
fn with_credentials(
    mut req: Message,
    resp: &Message,
    alg: Algorithm,
    (user, password): (&str, &str),
    nc: u32,
) -> Message {
    let (challenge_name, header) = match resp.status_line().map(|s| s.code) {
        Some(401) => (HeaderName::WwwAuthenticate, HeaderName::Authorization),
        _ => (
            HeaderName::ProxyAuthenticate,
            HeaderName::ProxyAuthorization,
        ),
    };
    let c = challenges(resp, &challenge_name)
        .into_iter()
        .find(|c| c.algorithm() == Some(alg))
        .expect("the algorithm is offered");
    let line = req.request_line().expect("a request").clone();
    let creds = c
        .answer(
            user,
            password,
            line.method.as_str(),
            &line.uri.to_string(),
            nc,
            "c0ffee",
        )
        .expect("answerable");
    req.headers.insert(
        1,
        Header::new(header, HeaderValue::Text(creds.to_header_value())),
    );
    req
}

fn bump_cseq(mut req: Message, seq: u32) -> Message {
    for h in &mut req.headers {
        if let HeaderValue::CSeq(c) = &mut h.value {
            c.seq = seq;
        }
    }
    req
}

fn alice_register(cseq: u32) -> Message {
    register("alice", "df7jal23ls0d.invalid", "WSS", "f81", "reg-a", cseq)
}

fn send(p: &mut Proxy, req: Message, flow: FlowId, now: Time) -> Message {
    only_send(&p.handle(req, flow, now), flow).clone()
}

/// A 401 to a fresh REGISTER from alice.
fn first_challenge(p: &mut Proxy) -> Message {
    send(p, alice_register(1), ALICE_FLOW, Time(0))
}

fn code(m: &Message) -> Option<u16> {
    m.status_line().map(|s| s.code)
}

#[test]
fn req_3261_22_1_register_without_credentials_gets_401_offering_sha256_then_md5() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let r = first_challenge(&mut p);
    assert_eq!(code(&r), Some(401));
    assert_eq!(
        r.status_line().map(|s| s.reason.as_str()),
        Some("Unauthorized")
    );
    let cs = challenges(&r, &HeaderName::WwwAuthenticate);
    // RFC 8760 §2.4: one header per algorithm, the preferred first.
    assert_eq!(
        cs.iter().map(Challenge::algorithm).collect::<Vec<_>>(),
        vec![Some(Algorithm::Sha256), Some(Algorithm::Md5)]
    );
    assert!(
        cs.iter()
            .all(|c| c.realm == "example.com" && c.qop == ["auth"] && !c.stale)
    );
    assert!(r.to().and_then(NameAddr::tag).is_some());
    assert!(p.location().bindings("sip:alice@example.com").is_empty());
}

#[test]
fn req_3261_22_4_correct_sha256_and_md5_credentials_register() {
    for alg in [Algorithm::Sha256, Algorithm::Md5] {
        let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
        let ch = first_challenge(&mut p);
        let req = with_credentials(alice_register(2), &ch, alg, ("alice", "wonderland"), 1);
        let ok = send(&mut p, req, ALICE_FLOW, Time(1));
        assert_eq!(code(&ok), Some(200), "{alg}");
        assert_eq!(p.location().bindings("sip:alice@example.com").len(), 1);
    }
}

#[test]
fn req_3261_22_4_wrong_password_gets_a_fresh_401_never_200() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let ch = first_challenge(&mut p);
    let old_nonce = challenges(&ch, &HeaderName::WwwAuthenticate)[0]
        .nonce
        .clone();
    let req = with_credentials(
        alice_register(2),
        &ch,
        Algorithm::Sha256,
        ("alice", "guess"),
        1,
    );
    let r = send(&mut p, req, ALICE_FLOW, Time(1));
    assert_eq!(code(&r), Some(401));
    let again = challenges(&r, &HeaderName::WwwAuthenticate);
    assert!(again.iter().all(|c| !c.stale && c.nonce != old_nonce));
    // An unknown user likewise.
    let req = with_credentials(alice_register(3), &ch, Algorithm::Md5, ("mallory", "x"), 1);
    assert_eq!(code(&send(&mut p, req, ALICE_FLOW, Time(2))), Some(401));
    assert!(p.location().bindings("sip:alice@example.com").is_empty());
}

#[test]
fn req_3261_22_4_replayed_nonce_and_count_gets_401_not_200() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let ch = first_challenge(&mut p);
    let req = with_credentials(
        alice_register(2),
        &ch,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    assert_eq!(
        code(&send(&mut p, req.clone(), ALICE_FLOW, Time(1))),
        Some(200)
    );
    // The same bytes again, even with a higher CSeq: the (nonce, nc) pair was used.
    let replay = bump_cseq(req, 3);
    assert_eq!(code(&send(&mut p, replay, ALICE_FLOW, Time(2))), Some(401));
    // The next nonce-count is fine (RFC 7616 §3.4: a client may reuse the nonce).
    let next = with_credentials(
        alice_register(4),
        &ch,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        2,
    );
    assert_eq!(code(&send(&mut p, next, ALICE_FLOW, Time(3))), Some(200));
}

#[test]
fn req_3261_22_4_expired_nonce_gets_401_with_stale_true() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let ch = first_challenge(&mut p);
    let late = Time(0).plus_secs(LIFETIME_SECS + 1);
    let req = with_credentials(
        alice_register(2),
        &ch,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    let r = send(&mut p, req, ALICE_FLOW, late);
    assert_eq!(code(&r), Some(401));
    let fresh = challenges(&r, &HeaderName::WwwAuthenticate);
    assert!(fresh.iter().all(|c| c.stale), "{r:?}");
    // Answering the fresh challenge works without asking the user again.
    let retry = with_credentials(
        alice_register(3),
        &r,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    assert_eq!(code(&send(&mut p, retry, ALICE_FLOW, late)), Some(200));
}

#[test]
fn req_3261_10_3_alices_credentials_for_bobs_aor_get_403() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let bob_reg = register("bob", "b.invalid", "WS", "b0b", "reg-b", 1);
    let ch = send(&mut p, bob_reg.clone(), CAROL_FLOW, Time(0));
    assert_eq!(code(&ch), Some(401));
    let forged = with_credentials(
        bump_cseq(bob_reg, 2),
        &ch,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    assert_eq!(code(&send(&mut p, forged, CAROL_FLOW, Time(1))), Some(403));
    assert!(p.location().bindings("sip:bob@example.com").is_empty());
}

#[test]
fn req_3261_10_3_alice_cannot_unregister_bobs_binding() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    // Bob registers properly.
    let bob_reg = register("bob", "b.invalid", "UDP", "b0b", "reg-b", 1);
    let ch = send(&mut p, bob_reg.clone(), BOB_FLOW, Time(0));
    let ok = with_credentials(
        bump_cseq(bob_reg, 2),
        &ch,
        Algorithm::Md5,
        ("bob", "builder"),
        1,
    );
    assert_eq!(code(&send(&mut p, ok, BOB_FLOW, Time(1))), Some(200));
    // Alice, with her own valid credentials, tries `Contact: *` on bob's AoR.
    let star = msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKstar
From: <sip:bob@example.com>;tag=evil
To: <sip:bob@example.com>
Call-ID: evil
CSeq: 1 REGISTER
Max-Forwards: 70
Contact: *
Expires: 0

");
    let ch = send(&mut p, star.clone(), ALICE_FLOW, Time(2));
    assert_eq!(code(&ch), Some(401));
    let star = with_credentials(
        bump_cseq(star, 2),
        &ch,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    assert_eq!(code(&send(&mut p, star, ALICE_FLOW, Time(3))), Some(403));
    assert_eq!(
        p.location().bindings("sip:bob@example.com").len(),
        1,
        "bob's binding survives"
    );
}

fn alice_invite() -> Message {
    msg("INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKinv1
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: call-auth
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws;ob>

")
}

fn register_bob_authenticated(p: &mut Proxy) {
    let bob_reg = register("bob", "203.0.113.22:5060", "UDP", "b0b", "reg-b", 1);
    let ch = send(p, bob_reg.clone(), BOB_FLOW, Time(0));
    let ok = with_credentials(
        bump_cseq(bob_reg, 2),
        &ch,
        Algorithm::Sha256,
        ("bob", "builder"),
        1,
    );
    assert_eq!(code(&send(p, ok, BOB_FLOW, Time(0))), Some(200));
}

#[test]
fn req_3261_22_3_invite_from_our_user_gets_407_then_is_forwarded_with_credentials() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    register_bob_authenticated(&mut p);
    let r = send(&mut p, alice_invite(), ALICE_FLOW, Time(1));
    assert_eq!(code(&r), Some(407));
    assert_eq!(
        r.status_line().map(|s| s.reason.as_str()),
        Some("Proxy Authentication Required")
    );
    let cs = challenges(&r, &HeaderName::ProxyAuthenticate);
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].algorithm(), Some(Algorithm::Sha256));
    assert_eq!(r.values(&HeaderName::WwwAuthenticate).count(), 0);

    // The ACK of the 407 (our To tag) ends there (RFC 3261 §17.2.1).
    let to = r.to().expect("To").to_string();
    let ack = msg(&format!(
        "ACK sip:bob@example.com SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKinv1
From: <sip:alice@example.com>;tag=a1
To: {to}
Call-ID: call-auth
CSeq: 1 ACK
Max-Forwards: 70

"
    ));
    assert!(p.handle(ack, ALICE_FLOW, Time(1)).is_empty());

    let again = with_credentials(
        bump_cseq(alice_invite(), 2),
        &r,
        Algorithm::Sha256,
        ("alice", "wonderland"),
        1,
    );
    let out = p.handle(again, ALICE_FLOW, Time(2));
    let fwd = delivered(&out, BOB_FLOW);
    // RFC 3261 §22.3: our realm's credentials are consumed.
    assert_eq!(fwd.values(&HeaderName::ProxyAuthorization).count(), 0);
}

#[test]
fn req_3261_22_3_credentials_of_another_user_than_from_get_403() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    register_bob_authenticated(&mut p);
    let r = send(&mut p, alice_invite(), ALICE_FLOW, Time(1));
    let again = with_credentials(
        bump_cseq(alice_invite(), 2),
        &r,
        Algorithm::Md5,
        ("bob", "builder"),
        1,
    );
    let out = p.handle(again, ALICE_FLOW, Time(2));
    assert_eq!(status(&out), Some(403));
}

#[test]
fn req_3261_22_1_in_dialog_ack_cancel_and_foreign_requests_are_not_challenged() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    register_bob_authenticated(&mut p);
    // From another domain (a peer proxy to our user): routed, not challenged.
    let out = p.handle(
        invite(
            "sip:bob@example.com",
            "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKfar",
            "far-call",
        )
        .tap_from("sip:carol@elsewhere.example"),
        CAROL_FLOW,
        Time(1),
    );
    delivered(&out, BOB_FLOW);
    // In a dialog (To tag): not challenged.
    let bye = msg("BYE sip:bob@203.0.113.22:5060 SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbye
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b1
Call-ID: call-x
CSeq: 3 BYE
Max-Forwards: 70

");
    let out = p.handle(bye, ALICE_FLOW, Time(1));
    assert!(
        out.iter().all(|a| !matches!(a, Action::Send { msg, .. } if msg.status_line().is_some_and(|s| s.code == 407))),
        "{out:#?}"
    );
    // CANCEL cannot be challenged (§22.1).
    let cancel = msg("CANCEL sip:bob@example.com SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKinv9
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: call-y
CSeq: 1 CANCEL
Max-Forwards: 70

");
    let out = p.handle(cancel, ALICE_FLOW, Time(1));
    assert_ne!(status(&out), Some(407));
}

#[test]
fn register_only_scope_leaves_other_requests_alone() {
    let mut p = auth_proxy(ChallengeScope::Register);
    register_bob_authenticated(&mut p);
    let out = p.handle(alice_invite(), ALICE_FLOW, Time(1));
    delivered(&out, BOB_FLOW);
    assert_eq!(code(&first_challenge(&mut p)), Some(401));
}

#[test]
fn without_auth_nothing_is_challenged() {
    let mut p = proxy();
    assert!(p.authenticator().is_none());
    assert_eq!(
        code(&send(&mut p, alice_register(1), ALICE_FLOW, Time(0))),
        Some(200)
    );
}

#[test]
fn malformed_credentials_get_400() {
    let mut p = auth_proxy(ChallengeScope::RegisterAndRequests);
    let mut req = alice_register(1);
    req.headers.insert(
        1,
        Header::new(
            HeaderName::Authorization,
            HeaderValue::Text("Digest realm=\"example.com\", username=\"alice\"".into()),
        ),
    );
    assert_eq!(code(&send(&mut p, req, ALICE_FLOW, Time(0))), Some(400));
}

trait TapFrom {
    fn tap_from(self, uri: &str) -> Self;
}

impl TapFrom for Message {
    /// The same request with another From URI.
    fn tap_from(mut self, uri: &str) -> Message {
        for h in &mut self.headers {
            if h.name == HeaderName::From
                && let HeaderValue::Address(a) = &mut h.value
            {
                a.uri = crate::sip::Uri::parse(uri).expect("test URI parses");
            }
        }
        self
    }
}
