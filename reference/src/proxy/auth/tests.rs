//! The nonce rules and verification of the registrar's and proxy's authenticator.

use super::*;
use crate::sip::Message;
use crate::sip::digest::{Algorithm, Challenge};

fn config() -> AuthConfig {
    AuthConfig::new(
        "example.com",
        vec![
            UserSecret::from_password("alice", "example.com", "wonderland"),
            UserSecret::from_password("bob", "example.com", "builder"),
        ],
    )
}

const SECRET: &[u8] = b"auth unit test secret, 32 bytes.";

fn register(extra: &str) -> Message {
    let text = format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
From: <sip:alice@example.com>;tag=1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: c1\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
{extra}\r\n"
    );
    Message::parse(text.as_bytes()).expect("test REGISTER parses")
}

fn challenge_of(a: &mut Authenticator, now: Time) -> Vec<Challenge> {
    a.challenge(HeaderName::WwwAuthenticate, false, now)
        .iter()
        .map(|h| Challenge::parse(&h.value.to_string()).expect("our challenge parses"))
        .collect()
}

fn answered(c: &Challenge, password: &str, nc: u32) -> Message {
    let creds = c
        .answer("alice", password, "REGISTER", "sip:example.com", nc, "cn")
        .expect("answerable");
    register(&format!("Authorization: {}\r\n", creds.to_header_value()))
}

#[test]
fn challenges_offer_sha256_first_then_md5_with_one_nonce() {
    let mut a = Authenticator::new(config(), SECRET);
    let cs = challenge_of(&mut a, Time(0));
    let algs: Vec<_> = cs.iter().map(Challenge::algorithm).collect();
    assert_eq!(algs, vec![Some(Algorithm::Sha256), Some(Algorithm::Md5)]);
    assert!(
        cs.iter()
            .all(|c| c.qop == vec!["auth".to_string()] && !c.stale)
    );
    assert_eq!(cs[0].nonce, cs[1].nonce);
    assert_eq!(cs[0].realm, "example.com");
}

#[test]
fn only_algorithms_every_user_has_are_offered() {
    let mut cfg = config();
    cfg.users[1].ha1_sha256 = None;
    assert_eq!(cfg.offered(), vec![Algorithm::Md5]);
}

#[test]
fn right_password_authorizes_with_either_algorithm() {
    let mut a = Authenticator::new(config(), SECRET);
    // One nonce serves both challenges, so the nonce-count goes on counting.
    for (nc, c) in (1..).zip(challenge_of(&mut a, Time(0))) {
        assert_eq!(
            a.verify(
                &answered(&c, "wonderland", nc),
                &HeaderName::Authorization,
                Time(10)
            ),
            AuthOutcome::Authorized("alice".into()),
            "{:?}",
            c.algorithm
        );
    }
}

#[test]
fn wrong_password_and_missing_credentials_are_challenged() {
    let mut a = Authenticator::new(config(), SECRET);
    assert!(matches!(
        a.verify(&register(""), &HeaderName::Authorization, Time(0)),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    let c = &challenge_of(&mut a, Time(0))[0];
    assert!(matches!(
        a.verify(
            &answered(c, "guess", 1),
            &HeaderName::Authorization,
            Time(0)
        ),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    // Credentials for another realm are not ours: as if there were none.
    let other = Challenge {
        realm: "elsewhere".into(),
        ..c.clone()
    };
    assert!(matches!(
        a.verify(
            &answered(&other, "wonderland", 1),
            &HeaderName::Authorization,
            Time(0)
        ),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    // The right header name matters.
    assert!(matches!(
        a.verify(
            &answered(c, "wonderland", 1),
            &HeaderName::ProxyAuthorization,
            Time(0)
        ),
        AuthOutcome::Challenge { stale: false, .. }
    ));
}

#[test]
fn replayed_or_non_increasing_nonce_count_is_challenged() {
    let mut a = Authenticator::new(config(), SECRET);
    let c = &challenge_of(&mut a, Time(0))[0];
    let first = answered(c, "wonderland", 1);
    let auth = HeaderName::Authorization;
    assert_eq!(
        a.verify(&first, &auth, Time(1)),
        AuthOutcome::Authorized("alice".into())
    );
    assert!(matches!(
        a.verify(&first, &auth, Time(2)),
        AuthOutcome::Challenge {
            stale: false,
            why: "a replayed nonce-count"
        }
    ));
    assert_eq!(
        a.verify(&answered(c, "wonderland", 3), &auth, Time(3)),
        AuthOutcome::Authorized("alice".into())
    );
    assert!(matches!(
        a.verify(&answered(c, "wonderland", 2), &auth, Time(4)),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    // A wrong digest does not consume a nonce-count.
    assert!(matches!(
        a.verify(&answered(c, "guess", 9), &auth, Time(5)),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    assert_eq!(
        a.verify(&answered(c, "wonderland", 4), &auth, Time(6)),
        AuthOutcome::Authorized("alice".into())
    );
}

#[test]
fn an_expired_nonce_is_stale_only_with_the_right_password() {
    let mut a = Authenticator::new(config(), SECRET);
    let c = &challenge_of(&mut a, Time(0))[0];
    let late = Time(DEFAULT_NONCE_LIFETIME_SECS * 1000);
    assert!(matches!(
        a.verify(
            &answered(c, "wonderland", 1),
            &HeaderName::Authorization,
            late
        ),
        AuthOutcome::Challenge { stale: true, .. }
    ));
    assert!(matches!(
        a.verify(&answered(c, "guess", 1), &HeaderName::Authorization, late),
        AuthOutcome::Challenge { stale: false, .. }
    ));
    let h = a.challenge(HeaderName::WwwAuthenticate, true, late);
    assert!(h[0].value.to_string().ends_with(", stale=true"));
    a.tick(late);
    assert_eq!(
        a.tracked_nonces(),
        1,
        "only the nonce issued at `late` is left"
    );
}

#[test]
fn forged_or_foreign_nonces_are_unknown() {
    let mut a = Authenticator::new(config(), SECRET);
    let c = challenge_of(&mut a, Time(0)).remove(0);
    let mut forged = c.clone();
    let mut n = forged.nonce.into_bytes();
    n[0] = if n[0] == b'0' { b'1' } else { b'0' };
    forged.nonce = String::from_utf8(n).expect("hex");
    assert!(matches!(
        a.verify(
            &answered(&forged, "wonderland", 1),
            &HeaderName::Authorization,
            Time(0)
        ),
        AuthOutcome::Challenge {
            stale: false,
            why: "a nonce we did not issue"
        }
    ));
    let mut other_run = Authenticator::new(config(), b"another secret, another run.....");
    assert!(matches!(
        other_run.verify(
            &answered(&c, "wonderland", 1),
            &HeaderName::Authorization,
            Time(0)
        ),
        AuthOutcome::Challenge { stale: false, .. }
    ));
}

#[test]
fn the_nonce_table_is_bounded_and_eviction_never_allows_a_replay() {
    let mut cfg = config();
    cfg.max_nonces = 4;
    let mut a = Authenticator::new(cfg, SECRET);
    let first = challenge_of(&mut a, Time(0)).remove(0);
    let used = answered(&first, "wonderland", 1);
    assert_eq!(
        a.verify(&used, &HeaderName::Authorization, Time(0)),
        AuthOutcome::Authorized("alice".into())
    );
    for t in 1..10 {
        challenge_of(&mut a, Time(t));
    }
    assert_eq!(a.tracked_nonces(), 4);
    // The evicted nonce: stale (a correct client retries), never accepted again.
    assert!(matches!(
        a.verify(&used, &HeaderName::Authorization, Time(11)),
        AuthOutcome::Challenge { stale: true, .. }
    ));
}

#[test]
fn digest_uri_must_be_the_request_uri() {
    let mut a = Authenticator::new(config(), SECRET);
    let c = &challenge_of(&mut a, Time(0))[0];
    let creds = c
        .answer(
            "alice",
            "wonderland",
            "REGISTER",
            "sip:other.example.com",
            1,
            "cn",
        )
        .expect("answerable");
    let req = register(&format!("Authorization: {}\r\n", creds.to_header_value()));
    assert!(matches!(
        a.verify(&req, &HeaderName::Authorization, Time(0)),
        AuthOutcome::BadRequest(_)
    ));
    let bad = register("Authorization: Digest realm=\"example.com\", username=\"alice\"\r\n");
    assert!(matches!(
        a.verify(&bad, &HeaderName::Authorization, Time(0)),
        AuthOutcome::BadRequest(_)
    ));
}

#[test]
fn rfc2069_form_is_accepted_for_md5_once() {
    let mut a = Authenticator::new(config(), SECRET);
    let c = challenge_of(&mut a, Time(0)).remove(1);
    let legacy = Challenge {
        qop: Vec::new(),
        algorithm: None,
        ..c
    };
    let req = answered(&legacy, "wonderland", 1);
    assert_eq!(
        a.verify(&req, &HeaderName::Authorization, Time(0)),
        AuthOutcome::Authorized("alice".into())
    );
    assert!(matches!(
        a.verify(&req, &HeaderName::Authorization, Time(1)),
        AuthOutcome::Challenge { .. }
    ));
}
