//! Known answers from the RFCs, the header syntax, and the nonce rules.

use super::*;
use crate::sip::Message;

/// RFC 2617 §3.5 and RFC 7616 §3.9.1 use HTTP; the digest arithmetic is the same in SIP
/// (RFC 3261 §22.4), with the SIP method and Request-URI in HA2.
#[test]
fn rfc2617_3_5_md5_known_answer() {
    let ha1 = ha1(
        Algorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
    );
    let r = response(
        Algorithm::Md5,
        &ha1,
        &DigestInput {
            method: "GET",
            uri: "/dir/index.html",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop_auth: Some(("00000001", "0a4f113b")),
        },
    );
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
}

#[test]
fn rfc7616_3_9_1_md5_and_sha256_known_answers() {
    let input = DigestInput {
        method: "GET",
        uri: "/dir/index.html",
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        qop_auth: Some(("00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")),
    };
    let realm = "http-auth@example.org";
    let md5 = ha1(Algorithm::Md5, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(Algorithm::Md5, &md5, &input),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
    let sha = ha1(Algorithm::Sha256, "Mufasa", realm, "Circle of Life");
    assert_eq!(
        response(Algorithm::Sha256, &sha, &input),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn rfc7616_3_9_1_credentials_parse() {
    let text = r#"Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
       qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    let c = Credentials::parse(text).expect("the RFC's credentials parse");
    assert_eq!(c.username, "Mufasa");
    assert_eq!(c.algorithm.as_deref(), Some("SHA-256"));
    assert_eq!(c.nonce_count(), Some(1));
    assert_eq!(
        c.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
    let again = Credentials::parse(&c.to_header_value()).expect("re-parses");
    assert_eq!(again, c);
}

#[test]
fn names_are_case_insensitive_and_quoted_strings_unescape() {
    let c = Credentials::parse(
        r#"digest USERNAME="al\"ice\\", Realm="r", NONCE="n", Uri="sip:x", RESPONSE="0""#,
    )
    .expect("parses");
    assert_eq!(c.username, "al\"ice\\");
    assert_eq!(c.realm, "r");
    assert_eq!(c.qop, None);
    assert_eq!(quote(&c.username), r#""al\"ice\\""#);
}

#[test]
fn malformed_credentials_are_errors() {
    assert_eq!(Credentials::parse(""), Err(AuthError::NoScheme));
    assert!(matches!(
        Credentials::parse(r#"Digest username="a""#),
        Err(AuthError::Missing("realm"))
    ));
    assert!(matches!(
        Credentials::parse(r#"Digest username="a", username="b""#),
        Err(AuthError::Duplicate(_))
    ));
    assert!(matches!(
        Credentials::parse(r#"Digest username="a"#),
        Err(AuthError::Unterminated(_))
    ));
    assert!(matches!(
        Credentials::parse(r#"Digest username "a""#),
        Err(AuthError::ExpectedEquals(_))
    ));
    assert!(matches!(
        Credentials::parse(r#"Digest username="a" realm="b""#),
        Err(AuthError::ExpectedComma(_))
    ));
    // RFC 3261 §25.1 qdtext: no control characters inside a quoted-string.
    assert!(matches!(
        Credentials::parse("Digest username=\"a\u{1}b\", realm=\"r\""),
        Err(AuthError::BadQuoted { at: 18, ref name }) if name == "username"
    ));
    let base = r#"Digest username="a", realm="r", nonce="n", uri="sip:x", response="0""#;
    assert!(matches!(
        Credentials::parse(&format!("{base}, qop=auth, nc=00000001")),
        Err(AuthError::Missing("cnonce"))
    ));
    assert!(matches!(
        Credentials::parse(&format!("{base}, qop=auth, nc=1, cnonce=\"c\"")),
        Err(AuthError::Invalid { name: "nc", .. })
    ));
    assert!(matches!(
        Credentials::parse(r#"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="#),
        Err(AuthError::Invalid { name: "scheme", .. }) | Err(AuthError::ExpectedEquals(_))
    ));
}

#[test]
fn challenges_parse_and_answer() {
    let c = Challenge::parse(
        r#"Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=MD5"#,
    )
    .expect("RFC 3261 §20.27's example parses");
    assert_eq!(c.qop, vec!["auth".to_string(), "auth-int".to_string()]);
    assert!(c.stale);
    assert_eq!(c.algorithm(), Some(Algorithm::Md5));
    let a = c
        .answer(
            "bob",
            "zanzibar",
            "REGISTER",
            "sip:atlanta.com",
            1,
            "0a4f113b",
        )
        .expect("auth is offered");
    assert_eq!(a.qop.as_deref(), Some("auth"));
    assert_eq!(a.nc.as_deref(), Some("00000001"));
    assert_eq!(a.opaque.as_deref(), Some(""));
    let ha1 = ha1(Algorithm::Md5, "bob", "atlanta.com", "zanzibar");
    assert_eq!(
        a.response,
        response(
            Algorithm::Md5,
            &ha1,
            &DigestInput {
                method: "REGISTER",
                uri: "sip:atlanta.com",
                nonce: "f84f1cec41e6cbe5aea9c8e88d359",
                qop_auth: Some(("00000001", "0a4f113b")),
            }
        )
    );
    let only_int =
        Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).expect("parses");
    assert_eq!(only_int.answer("u", "p", "INVITE", "sip:x", 1, "c"), None);
    let sess =
        Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#).expect("parses");
    assert_eq!(sess.algorithm(), None);
    let rt = Challenge::parse(&c.to_header_value()).expect("re-parses");
    assert_eq!(rt, c);
}

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

#[test]
fn pick_challenge_prefers_sha256() {
    let resp = |headers: &str| {
        Message::parse(
            format!(
                "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n{headers}\
Content-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        )
        .expect("test response parses")
    };
    let both = resp(
        "WWW-Authenticate: Digest realm=\"r\", nonce=\"1\", algorithm=MD5, qop=\"auth\"\r\n\
WWW-Authenticate: Digest realm=\"r\", nonce=\"2\", algorithm=SHA-256, qop=\"auth\"\r\n",
    );
    assert_eq!(
        pick_challenge(&both).and_then(|c| c.algorithm()),
        Some(Algorithm::Sha256)
    );
    let md5 = resp("WWW-Authenticate: Digest realm=\"r\", nonce=\"1\"\r\n");
    assert_eq!(
        pick_challenge(&md5).and_then(|c| c.algorithm()),
        Some(Algorithm::Md5)
    );
    let unusable =
        resp("WWW-Authenticate: Digest realm=\"r\", nonce=\"1\", algorithm=SHA-512-256\r\n");
    assert_eq!(pick_challenge(&unusable), None);
}
