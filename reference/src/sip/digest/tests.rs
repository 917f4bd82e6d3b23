//! Known answers from the RFCs and the header syntax.

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
