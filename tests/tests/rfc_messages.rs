//! The RFC messages through the SIP codec:
//!
//! - the 49 RFC 4475 torture messages (`tests/data/rfc4475/*.dat`), parsed as the UDP datagrams
//!   they are ([`Message::parse_datagram`]) and validated; the verdict of each comes from
//!   `tests/data/rfc4475/expected.txt`, read from the RFC text, never from the parser;
//! - the RFC 7118 §8 example messages (`tests/data/rfc7118/*.sip`), parsed as WebSocket messages
//!   ([`Message::parse`]), with the facts of spec/requirements.md §4 asserted field by field; test
//!   names carry the requirement IDs of that catalogue.
//!
//! Every message that parses is printed and parsed again (round trip), and every message has one
//! insta YAML snapshot (`tests/tests/snapshots/`) of its parsed form or of its refusal.

use serde::Serialize;
use sipws_reference::sip::{
    Contact, HeaderName, HeaderValue, Host, Message, Method, NameAddr, SipUri, Uri, Via,
};
use sipws_tests::data_path;

fn read(rel: &str) -> Vec<u8> {
    let path = data_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// How a refused message is snapshotted.
#[derive(Debug, Serialize)]
struct Refusal {
    verdict: &'static str,
    /// `parse` (the codec refused the bytes) or `validate` (well formed, but
    /// [`Message::validate`] refused it).
    stage: &'static str,
    error: String,
    /// Byte offset of the fault (parse errors only).
    offset: Option<usize>,
    /// The status [`Message::validate`] calls for (validate errors only).
    status: Option<u16>,
}

enum Outcome {
    Accepted(Message),
    Refused(Refusal),
}

fn parse_and_validate(bytes: &[u8], datagram: bool) -> Outcome {
    let parsed = if datagram {
        Message::parse_datagram(bytes)
    } else {
        Message::parse(bytes)
    };
    match parsed {
        Err(e) => Outcome::Refused(Refusal {
            verdict: "invalid",
            stage: "parse",
            error: e.to_string(),
            offset: Some(e.offset),
            status: None,
        }),
        Ok(m) => match m.validate() {
            Err(e) => Outcome::Refused(Refusal {
                verdict: "invalid",
                stage: "validate",
                error: e.to_string(),
                offset: None,
                status: Some(e.status()),
            }),
            Ok(()) => Outcome::Accepted(m),
        },
    }
}

fn assert_round_trip(m: &Message, datagram: bool, what: &str) {
    let bytes = m.to_bytes();
    let again = if datagram {
        Message::parse_datagram(&bytes)
    } else {
        Message::parse(&bytes)
    };
    match again {
        Ok(again) => assert_eq!(&again, m, "{what}: printing and parsing again changed it"),
        Err(e) => panic!(
            "{what}: its printed form does not parse again: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

fn snapshot_settings(description: String) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_description(description);
    s.set_omit_expression(true);
    s
}

// ------------------------------------------------------------------------------------------------
// RFC 4475
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Valid,
    Invalid,
}

#[derive(Debug)]
struct Expected {
    name: String,
    section: String,
    verdict: Verdict,
    reason: String,
}

/// `tests/data/rfc4475/expected.txt`: `name  section  verdict  reason`, `#` comments.
fn expected_table() -> Vec<Expected> {
    let text = String::from_utf8(read("rfc4475/expected.txt")).expect("expected.txt is UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut it = l.splitn(4, "  ");
            let mut field = |what: &str| {
                it.next()
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| panic!("expected.txt line without {what}: {l:?}"))
                    .to_string()
            };
            let name = field("a name");
            let section = field("a section");
            let verdict = match field("a verdict").as_str() {
                "valid" => Verdict::Valid,
                "invalid" => Verdict::Invalid,
                other => panic!("expected.txt: verdict {other:?} for {name}"),
            };
            let reason = field("a reason");
            Expected {
                name,
                section,
                verdict,
                reason,
            }
        })
        .collect()
}

fn expected(name: &str) -> Expected {
    expected_table()
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} is not in tests/data/rfc4475/expected.txt"))
}

/// Parse one torture message as a UDP datagram and hold the outcome against the RFC's verdict.
/// `fault` is empty for a valid message; for an invalid one it is a fragment the refusal's
/// Display text must contain (it names the fault).
fn check_4475(snapshot: &str, name: &str, section: &str, fault: &str) {
    let exp = expected(name);
    assert_eq!(exp.section, section, "{name}: section in expected.txt");
    assert_eq!(
        exp.verdict == Verdict::Valid,
        fault.is_empty(),
        "{name}: the test's fault fragment disagrees with the verdict in expected.txt"
    );
    let bytes = read(&format!("rfc4475/{name}.dat"));
    let description = format!(
        "RFC 4475 §{section} {name}: {} — {}",
        match exp.verdict {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
        },
        exp.reason
    );
    match (exp.verdict, parse_and_validate(&bytes, true)) {
        (Verdict::Valid, Outcome::Accepted(m)) => {
            assert_round_trip(&m, true, name);
            snapshot_settings(description).bind(|| insta::assert_yaml_snapshot!(snapshot, m));
        }
        (Verdict::Valid, Outcome::Refused(r)) => panic!(
            "{name} (RFC 4475 §{section}) is valid per the RFC ({}) but was refused at {}: {}",
            exp.reason, r.stage, r.error
        ),
        (Verdict::Invalid, Outcome::Accepted(m)) => panic!(
            "{name} (RFC 4475 §{section}) is invalid per the RFC ({}) but was accepted:\n{m:#?}",
            exp.reason
        ),
        (Verdict::Invalid, Outcome::Refused(r)) => {
            assert!(
                r.error.contains(fault),
                "{name}: the refusal should name the fault ({fault:?}), got: {}",
                r.error
            );
            if r.stage == "validate" {
                // Well formed, refused on its meaning: the codec still round-trips it.
                let m = Message::parse_datagram(&bytes).unwrap();
                assert_round_trip(&m, true, name);
            }
            snapshot_settings(description).bind(|| insta::assert_yaml_snapshot!(snapshot, r));
        }
    }
}

/// One `#[test]` per RFC 4475 message: `test_name: "name", "section", "fault fragment";`.
macro_rules! rfc4475 {
    ($($test:ident: $name:literal, $section:literal, $fault:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check_4475(stringify!($test), $name, $section, $fault);
            }
        )*
        /// Every message the tests above cover, with its section.
        const RFC4475_CASES: &[(&str, &str)] = &[$(($name, $section)),*];
    };
}

rfc4475! {
    // §3.1.1 valid messages
    rfc4475_3_1_1_1_wsinv: "wsinv", "3.1.1.1", "";
    rfc4475_3_1_1_2_intmeth: "intmeth", "3.1.1.2", "";
    rfc4475_3_1_1_3_esc01: "esc01", "3.1.1.3", "";
    rfc4475_3_1_1_4_escnull: "escnull", "3.1.1.4", "";
    rfc4475_3_1_1_5_esc02: "esc02", "3.1.1.5", "";
    rfc4475_3_1_1_6_lwsdisp: "lwsdisp", "3.1.1.6", "";
    rfc4475_3_1_1_7_longreq: "longreq", "3.1.1.7", "";
    rfc4475_3_1_1_8_dblreq: "dblreq", "3.1.1.8", "";
    rfc4475_3_1_1_9_semiuri: "semiuri", "3.1.1.9", "";
    rfc4475_3_1_1_10_transports: "transports", "3.1.1.10", "";
    rfc4475_3_1_1_11_mpart01: "mpart01", "3.1.1.11", "";
    rfc4475_3_1_1_12_unreason: "unreason", "3.1.1.12", "";
    rfc4475_3_1_1_13_noreason: "noreason", "3.1.1.13", "";
    // §3.1.2 invalid messages
    rfc4475_3_1_2_1_badinv01: "badinv01", "3.1.2.1", "in Via: ";
    rfc4475_3_1_2_2_clerr: "clerr", "3.1.2.2", "Content-Length 9999 exceeds";
    rfc4475_3_1_2_3_ncl: "ncl", "3.1.2.3", "in Content-Length: ";
    rfc4475_3_1_2_4_scalar02: "scalar02", "3.1.2.4", "CSeq number \"36893488147419103232\" out of range";
    rfc4475_3_1_2_5_scalarlg: "scalarlg", "3.1.2.5", "CSeq number \"9292394834772304023312\" out of range";
    rfc4475_3_1_2_6_quotbal: "quotbal", "3.1.2.6", "in To: unterminated quoted string";
    rfc4475_3_1_2_7_ltgtruri: "ltgtruri", "3.1.2.7", "'<'";
    rfc4475_3_1_2_8_lwsruri: "lwsruri", "3.1.2.8", "URI parameter";
    rfc4475_3_1_2_9_lwsstart: "lwsstart", "3.1.2.9", "empty Request-URI";
    rfc4475_3_1_2_10_trws: "trws", "3.1.2.10", "malformed SIP version \"SIP/2.0  \"";
    rfc4475_3_1_2_11_escruri: "escruri", "3.1.2.11", "URI headers are not allowed in a Request-URI";
    rfc4475_3_1_2_12_baddate: "baddate", "3.1.2.12", "in Date: Date must be an RFC 1123 date in GMT";
    rfc4475_3_1_2_13_regbadct: "regbadct", "3.1.2.13", "in Contact: ";
    rfc4475_3_1_2_14_badaspec: "badaspec", "3.1.2.14", "in To: ";
    // The archived baddn.dat ends after `l: 0` CRLF: the blank line closing the header section
    // is missing, and that is the first fault a parser meets (see the test after this table).
    rfc4475_3_1_2_15_baddn: "baddn", "3.1.2.15", "blank line that closes the header section";
    rfc4475_3_1_2_16_badvers: "badvers", "3.1.2.16", "unsupported version SIP/7.0";
    rfc4475_3_1_2_17_mismatch01: "mismatch01", "3.1.2.17", "CSeq method INVITE differs from request method OPTIONS";
    rfc4475_3_1_2_18_mismatch02: "mismatch02", "3.1.2.18", "CSeq method INVITE differs from request method NEWMETHOD";
    rfc4475_3_1_2_19_bigcode: "bigcode", "3.1.2.19", "status code \"4294967301\"";
    // §3.2 transaction layer
    rfc4475_3_2_1_badbranch: "badbranch", "3.2.1", "";
    // §3.3 application layer
    rfc4475_3_3_1_insuf: "insuf", "3.3.1", "missing mandatory header To";
    rfc4475_3_3_2_unkscm: "unkscm", "3.3.2", "";
    rfc4475_3_3_3_novelsc: "novelsc", "3.3.3", "";
    rfc4475_3_3_4_unksm2: "unksm2", "3.3.4", "";
    rfc4475_3_3_5_bext01: "bext01", "3.3.5", "";
    rfc4475_3_3_6_invut: "invut", "3.3.6", "";
    rfc4475_3_3_7_regaut01: "regaut01", "3.3.7", "";
    rfc4475_3_3_8_multi01: "multi01", "3.3.8", "header CSeq appears more than once";
    rfc4475_3_3_9_mcl01: "mcl01", "3.3.9", "conflicting Content-Length values 13 and 5";
    rfc4475_3_3_10_bcast: "bcast", "3.3.10", "";
    rfc4475_3_3_11_zeromf: "zeromf", "3.3.11", "";
    rfc4475_3_3_12_cparam01: "cparam01", "3.3.12", "";
    rfc4475_3_3_13_cparam02: "cparam02", "3.3.13", "";
    rfc4475_3_3_14_regescrt: "regescrt", "3.3.14", "";
    rfc4475_3_3_15_sdp01: "sdp01", "3.3.15", "";
    // §3.4 backward compatibility
    rfc4475_3_4_1_inv2543: "inv2543", "3.4.1", "";
}

#[test]
fn rfc4475_every_message_has_a_verdict_and_a_test() {
    let table = expected_table();
    let mut in_table: Vec<&str> = table.iter().map(|e| e.name.as_str()).collect();
    in_table.sort_unstable();
    let mut files: Vec<String> = std::fs::read_dir(data_path("rfc4475"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".dat").map(str::to_string)
        })
        .collect();
    files.sort_unstable();
    let mut tested: Vec<&str> = RFC4475_CASES.iter().map(|(n, _)| *n).collect();
    tested.sort_unstable();
    assert_eq!(files.len(), 49, "the 49 messages RFC 4475 §3 describes");
    assert_eq!(in_table, files, "expected.txt lists every .dat file once");
    assert_eq!(tested, files, "every .dat file has its test");
    for (name, section) in RFC4475_CASES {
        let e = table.iter().find(|e| e.name == *name).unwrap();
        assert_eq!(e.section, *section, "{name}");
        let valid = section.starts_with("3.1.1.");
        let invalid = section.starts_with("3.1.2.");
        assert!(
            !valid || e.verdict == Verdict::Valid,
            "{name}: §3.1.1 is valid"
        );
        assert!(
            !invalid || e.verdict == Verdict::Invalid,
            "{name}: §3.1.2 is invalid"
        );
    }
    let count = |v| table.iter().filter(|e| e.verdict == v).count();
    assert_eq!((count(Verdict::Valid), count(Verdict::Invalid)), (27, 22));
}

fn valid_4475(name: &str) -> Message {
    let bytes = read(&format!("rfc4475/{name}.dat"));
    let m = Message::parse_datagram(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    m.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    m
}

fn sip(na: &NameAddr) -> &SipUri {
    na.sip_uri().expect("a sip: URI")
}

#[test]
fn rfc4475_3_1_1_1_wsinv_details() {
    let m = valid_4475("wsinv");
    assert_eq!(m.max_forwards(), Some(68), "leading zeros: 0068");
    assert_eq!(m.cseq().unwrap().seq, 9, "leading zeros: 0009");
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    assert_eq!(
        m.from().unwrap().display_name().as_deref(),
        Some(r#"J Rosenberg \""#)
    );
    assert_eq!(m.text("Subject"), Some(""), "an empty Subject");
    assert_eq!(
        m.text("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(m.text("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(
        vias.len(),
        3,
        "one Via line and one v: line holding two values"
    );
    assert_eq!(
        (vias[0].transport.as_str(), vias[0].branch()),
        ("UDP", Some("390skdjuw"))
    );
    assert_eq!(vias[1].host, Host::Domain("spindle.example.com".into()));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    let route = m.routes().next().unwrap();
    assert!(sip(route).lr());
    assert_eq!(sip(route).params.value("unknownwith"), Some("value"));
    assert!(sip(route).params.has("unknown-no-value"));
    let contact = m.contacts().next().unwrap();
    assert_eq!(contact.params.value("newparam"), Some("newvalue"));
    assert!(contact.params.has("secondparam"));
    assert_eq!(contact.q(), Some("0.33"));
    assert_eq!(m.body.len(), 150);
}

#[test]
fn rfc4475_3_1_1_2_intmeth_details() {
    let m = valid_4475("intmeth");
    let method = Method::Extension("!interesting-Method0123456789_*+`.%indeed'~".into());
    assert_eq!(m.method(), Some(&method));
    assert_eq!(m.cseq().unwrap().method, method);
    let ruri = m.request_line().unwrap().uri.as_sip().unwrap();
    assert_eq!(
        ruri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        ruri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(
        m.to().unwrap().display_name().as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    assert_eq!(
        m.from().unwrap().display.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(m.from().unwrap().tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        m.call_id(),
        Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
}

#[test]
fn rfc4475_3_1_1_3_esc01_escapes_are_kept_and_resolved_once() {
    let m = valid_4475("esc01");
    let ruri = m.request_line().unwrap().uri.as_sip().unwrap();
    assert_eq!(ruri.user_unescaped().unwrap(), b"sips:user@example.com");
    assert_eq!(sip(m.to().unwrap()).user_unescaped().unwrap(), b"user");
    let contact = sip(m.contacts().next().unwrap());
    assert_eq!(contact.user_unescaped().unwrap(), b"caller");
    // "name" (escaped n%61me) has the value "value%41", not "valueA": unescaped once only.
    assert_eq!(contact.params.value("n%61me"), Some("v%61lue%25%34%31"));
    assert_eq!(
        sipws_reference::sip::uri::unescape("v%61lue%25%34%31"),
        b"value%41"
    );
}

#[test]
fn rfc4475_3_1_1_4_escnull_registers_two_distinct_contacts() {
    let m = valid_4475("escnull");
    let users: Vec<Vec<u8>> = m
        .contacts()
        .map(|c| sip(c).user_unescaped().unwrap())
        .collect();
    assert_eq!(users, vec![vec![0u8], vec![0u8, 0u8]]);
    assert_eq!(
        sip(m.to().unwrap()).user_unescaped().unwrap(),
        b"null-\0-null"
    );
}

#[test]
fn rfc4475_3_1_1_5_esc02_percent_is_not_an_escape() {
    let m = valid_4475("esc02");
    assert_eq!(
        m.method(),
        Some(&Method::Extension("RE%47IST%45R".into())),
        "not REGISTER"
    );
    assert_eq!(m.to().unwrap().display_name().as_deref(), Some("%Z%45"));
    assert_eq!(m.contacts().count(), 2, "two Contact values, not three");
    assert_eq!(
        m.text("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>"),
        "C%6Fntact is an extension header"
    );
}

#[test]
fn rfc4475_3_1_1_6_lwsdisp_display_name_without_lws() {
    let m = valid_4475("lwsdisp");
    assert_eq!(m.from().unwrap().display.as_deref(), Some("caller"));
    assert_eq!(m.from().unwrap().tag(), Some("323"));
}

#[test]
fn rfc4475_3_1_1_7_longreq_values() {
    let m = valid_4475("longreq");
    assert_eq!(m.vias().count(), 34);
    assert_eq!(m.from().unwrap().tag().unwrap().len(), 2 + 150 + 3);
    assert_eq!(m.contacts().count(), 1);
    assert_eq!(m.body.len(), 150);
}

#[test]
fn rfc4475_3_1_1_8_dblreq_trailing_octets_discarded() {
    let bytes = read("rfc4475/dblreq.dat");
    let m = valid_4475("dblreq");
    assert_eq!(m.method(), Some(&Method::Register));
    assert!(m.body.is_empty());
    assert!(
        m.raw().len() < bytes.len(),
        "the INVITE octets are not part of it"
    );
    assert!(!String::from_utf8_lossy(&m.to_bytes()).contains("INVITE"));
    // Over WebSocket one message is exactly one SIP message: the same bytes are refused there.
    assert!(Message::parse(&bytes).is_err());
}

#[test]
fn rfc4475_3_1_1_9_semiuri_user_part() {
    let m = valid_4475("semiuri");
    let ruri = m.request_line().unwrap().uri.as_sip().unwrap();
    assert_eq!(ruri.user_unescaped().unwrap(), b"user;par=u@example.net");
    assert!(ruri.params.is_empty());
}

#[test]
fn rfc4475_3_1_1_10_transports_tokens() {
    let m = valid_4475("transports");
    let t: Vec<&str> = m.vias().map(|v| v.transport.as_str()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn rfc4475_3_1_1_11_mpart01_binary_body_framed_by_content_length() {
    let m = valid_4475("mpart01");
    assert_eq!(m.content_length(), Some(553));
    assert_eq!(m.body.len(), 553);
    assert!(m.body.contains(&0), "the binary part holds NULs");
    assert!(m.body.ends_with(b"--7a9cbec02ceef655--\r\n"));
}

#[test]
fn rfc4475_3_1_1_12_13_reason_phrases() {
    let r = valid_4475("unreason");
    let s = r.status_line().unwrap();
    assert_eq!(s.code, 200);
    assert!(s.reason.starts_with("= 2**3 * 5**2 но сто"));
    let r = valid_4475("noreason");
    let s = r.status_line().unwrap();
    assert_eq!((s.code, s.reason.as_str()), (100, ""));
}

/// RFC 4475 §3.1.2.15 shows baddn with its blank line; the archive (Appendix A) lost it. With
/// the blank line restored the refusal is for the fault the RFC describes: the unquoted display
/// name with a comma, in From (the first of the two faulty headers).
#[test]
fn rfc4475_3_1_2_15_baddn_with_its_blank_line_refuses_the_display_name() {
    let mut bytes = read("rfc4475/baddn.dat");
    assert!(bytes.ends_with(b"l: 0\r\n") && !bytes.ends_with(b"\r\n\r\n"));
    bytes.extend_from_slice(b"\r\n");
    let e = Message::parse_datagram(&bytes).expect_err("non-token display name");
    assert!(e.to_string().starts_with("in From: "), "{e}");
    let from = find(&bytes, b"From:").unwrap();
    let to = find(&bytes, b"To:").unwrap();
    assert!(
        (from..to).contains(&e.offset),
        "offset {} in the From line",
        e.offset
    );
    // The To value has the same fault.
    let to_value = "Watson, Thomas <sip:t.watson@example.org>";
    assert!(sipws_reference::sip::Header::parse("To", to_value).is_err());
}

#[test]
fn rfc4475_3_1_2_16_badvers_calls_for_505() {
    let m = Message::parse_datagram(&read("rfc4475/badvers.dat")).unwrap();
    assert_eq!(m.validate().unwrap_err().status(), 505);
}

#[test]
fn rfc4475_3_3_2_3_unknown_request_uri_schemes_are_opaque() {
    let m = valid_4475("unkscm");
    assert_eq!(
        m.request_line().unwrap().uri.to_string(),
        "nobodyKnowsThisScheme:totallyopaquecontent"
    );
    assert!(m.request_line().unwrap().uri.as_sip().is_none());
    let m = valid_4475("novelsc");
    assert_eq!(m.request_line().unwrap().uri.scheme(), "soap.beep");
}

#[test]
fn rfc4475_3_3_4_unksm2_non_sip_uris_in_headers() {
    let m = valid_4475("unksm2");
    assert_eq!(m.to().unwrap().uri.scheme(), "isbn");
    assert_eq!(m.from().unwrap().uri.scheme(), "http");
    assert_eq!(m.contacts().next().unwrap().uri.scheme(), "name");
}

#[test]
fn rfc4475_3_3_5_bext01_option_tags() {
    let m = valid_4475("bext01");
    let req: Vec<&str> = m.tokens(&HeaderName::Require).collect();
    assert_eq!(req, ["nothingSupportsThis", "nothingSupportsThisEither"]);
    let preq: Vec<&str> = m.tokens(&HeaderName::ProxyRequire).collect();
    assert_eq!(preq, ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]);
}

#[test]
fn rfc4475_3_3_10_11_bcast_and_zeromf_values() {
    let m = valid_4475("bcast");
    assert_eq!(
        m.vias().nth(1).unwrap().host,
        Host::Ipv4("255.255.255.255".parse().unwrap())
    );
    assert_eq!(valid_4475("zeromf").max_forwards(), Some(0));
}

#[test]
fn rfc4475_3_3_12_13_contact_param_versus_url_param() {
    let c1 = valid_4475("cparam01");
    let c = c1.contacts().next().unwrap();
    assert!(!c.bracketed);
    assert!(
        c.params.has("unknownparam"),
        "a contact-param of the addr-spec"
    );
    assert!(sip(c).params.is_empty(), "not a url-parameter");
    let c2 = valid_4475("cparam02");
    let c = c2.contacts().next().unwrap();
    assert!(c.params.is_empty());
    assert!(sip(c).params.has("unknownparam"), "a url-parameter");
}

#[test]
fn rfc4475_3_3_14_regescrt_escaped_header_in_contact_uri() {
    let m = valid_4475("regescrt");
    let c = sip(m.contacts().next().unwrap());
    assert_eq!(
        c.headers,
        vec![("Route".to_string(), "%3Csip:sip.example.com%3E".to_string())]
    );
}

#[test]
fn rfc4475_3_4_1_inv2543_rfc2543_syntax() {
    let m = valid_4475("inv2543");
    assert_eq!(m.max_forwards(), None);
    assert_eq!(m.top_via().unwrap().branch(), None);
    assert_eq!(m.from().unwrap().tag(), None);
    assert_eq!(m.content_length(), None);
    assert!(m.body.ends_with(b"m=audio 49217 RTP/AVP 0\r\n"));
    // user=phone after a bare addr-spec is a To header parameter (RFC 3261 §20).
    assert_eq!(m.to().unwrap().params.value("user"), Some("phone"));
}

// ------------------------------------------------------------------------------------------------
// RFC 7118 §8
// ------------------------------------------------------------------------------------------------

/// The §8 SIP messages, file name (under tests/data/rfc7118/) and snapshot name.
const RFC7118_MESSAGES: &[(&str, &str)] = &[
    ("8.1-f3-register.sip", "rfc7118_8_1_f3_register"),
    ("8.1-f4-200-ok.sip", "rfc7118_8_1_f4_200_ok"),
    ("8.2-f1-invite.sip", "rfc7118_8_2_f1_invite"),
    ("8.2-f2-100-trying.sip", "rfc7118_8_2_f2_100_trying"),
    ("8.2-f3-invite.sip", "rfc7118_8_2_f3_invite"),
    ("8.2-f4-200-ok.sip", "rfc7118_8_2_f4_200_ok"),
    ("8.2-f5-200-ok.sip", "rfc7118_8_2_f5_200_ok"),
    ("8.2-f6-ack.sip", "rfc7118_8_2_f6_ack"),
    ("8.2-f7-ack.sip", "rfc7118_8_2_f7_ack"),
    ("8.2-f8-bye.sip", "rfc7118_8_2_f8_bye"),
    ("8.2-f9-bye.sip", "rfc7118_8_2_f9_bye"),
    ("8.2-f10-200-ok.sip", "rfc7118_8_2_f10_200_ok"),
    ("8.2-f11-200-ok.sip", "rfc7118_8_2_f11_200_ok"),
];

/// Parse one §8 message as one WebSocket message, validate it and check the round trip.
fn ws(file: &str) -> Message {
    let bytes = read(&format!("rfc7118/{file}"));
    match parse_and_validate(&bytes, false) {
        Outcome::Accepted(m) => {
            assert_round_trip(&m, false, file);
            m
        }
        Outcome::Refused(r) => panic!("{file} refused at {}: {}", r.stage, r.error),
    }
}

fn snapshot_7118(file: &str, snapshot: &str) {
    let m = ws(file);
    snapshot_settings(format!(
        "RFC 7118 §8 example, tests/data/rfc7118/{file}, parsed as one WebSocket message"
    ))
    .bind(|| insta::assert_yaml_snapshot!(snapshot, m));
}

macro_rules! rfc7118_snapshots {
    ($($test:ident: $file:literal;)*) => {
        $(
            #[test]
            fn $test() {
                snapshot_7118($file, stringify!($test));
            }
        )*
    };
}

rfc7118_snapshots! {
    rfc7118_8_1_f3_register: "8.1-f3-register.sip";
    rfc7118_8_1_f4_200_ok: "8.1-f4-200-ok.sip";
    rfc7118_8_2_f1_invite: "8.2-f1-invite.sip";
    rfc7118_8_2_f2_100_trying: "8.2-f2-100-trying.sip";
    rfc7118_8_2_f3_invite: "8.2-f3-invite.sip";
    rfc7118_8_2_f4_200_ok: "8.2-f4-200-ok.sip";
    rfc7118_8_2_f5_200_ok: "8.2-f5-200-ok.sip";
    rfc7118_8_2_f6_ack: "8.2-f6-ack.sip";
    rfc7118_8_2_f7_ack: "8.2-f7-ack.sip";
    rfc7118_8_2_f8_bye: "8.2-f8-bye.sip";
    rfc7118_8_2_f9_bye: "8.2-f9-bye.sip";
    rfc7118_8_2_f10_200_ok: "8.2-f10-200-ok.sip";
    rfc7118_8_2_f11_200_ok: "8.2-f11-200-ok.sip";
}

#[test]
fn rfc7118_every_example_file_is_crlf_and_tested() {
    let mut files: Vec<String> = std::fs::read_dir(data_path("rfc7118"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort_unstable();
    for f in &files {
        let bytes = read(&format!("rfc7118/{f}"));
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "{f}: bare LF at byte {i}");
            }
            if *b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "{f}: bare CR at byte {i}");
            }
        }
        assert!(
            bytes.ends_with(b"\r\n\r\n"),
            "{f}: ends with the blank line"
        );
        assert!(!bytes.ends_with(b"\r\n\r\n\r\n"), "{f}: no body");
    }
    let mut known: Vec<&str> = RFC7118_MESSAGES.iter().map(|(f, _)| *f).collect();
    known.extend([
        "8.2-f6-ack-as-published.sip",
        "4.1-handshake-request.http",
        "4.1-handshake-response.http",
        "8.1-f1-http-get.http",
        "8.1-f2-101-switching-protocols.http",
    ]);
    known.sort_unstable();
    assert_eq!(files, known);
}

/// RFC 7118 §5 (7118-5-d): Content-Length is not needed over WebSocket; the examples carry
/// none, and no SDP (the RFC omits the bodies), so every body is empty.
#[test]
fn req_7118_5_d_examples_have_no_content_length() {
    for (file, _) in RFC7118_MESSAGES {
        let m = ws(file);
        assert_eq!(m.content_length(), None, "{file}");
        assert!(m.body.is_empty(), "{file}");
    }
    // Content-Type without a body is still parsed (F1, F3, F4, F5).
    assert_eq!(
        ws("8.2-f1-invite.sip").text("Content-Type"),
        Some("application/sdp")
    );
}

// ---- §8.1 registration ----

#[test]
fn req_7118_5_1_a_f3_register_via_is_wss() {
    let m = ws("8.1-f3-register.sip");
    assert_eq!(m.method(), Some(&Method::Register));
    assert_eq!(
        m.request_line().unwrap().uri.to_string(),
        "sip:proxy.example.com",
        "R-URI is the proxy, not the AOR domain"
    );
    assert_eq!(m.vias().count(), 1);
    let via = m.top_via().unwrap();
    assert_eq!(
        (via.protocol.as_str(), via.version.as_str()),
        ("SIP", "2.0")
    );
    assert_eq!(via.transport, "WSS");
    assert_eq!(via.port, None);
    assert_eq!(via.rport(), None);
    assert_eq!(via.received(), None);
    assert_eq!(via.branch(), Some("z9hG4bKasudf"));
    assert!(via.has_rfc3261_branch());
}

#[test]
fn req_7118_b_1_a_f3_register_invalid_sent_by_and_contact_host() {
    let m = ws("8.1-f3-register.sip");
    let via = m.top_via().unwrap();
    assert_eq!(via.host, Host::Domain("df7jal23ls0d.invalid".into()));
    assert!(via.host.is_invalid_tld());
    let contact = sip(m.contacts().next().unwrap());
    assert!(contact.host.is_invalid_tld());
    assert!(
        contact.host.matches(&via.host),
        "same random host in Via and Contact"
    );
}

#[test]
fn req_7118_5_2_a_f3_register_contact_transport_ws() {
    let m = ws("8.1-f3-register.sip");
    let c = m.contacts().next().unwrap();
    assert!(c.bracketed);
    assert_eq!(
        c.uri.to_string(),
        "sip:alice@df7jal23ls0d.invalid;transport=ws"
    );
    assert_eq!(
        sip(c).transport_param(),
        Some("ws"),
        "ws although the hop is WSS"
    );
}

#[test]
fn req_5626_4_2_1_a_f3_register_outbound_contact() {
    let m = ws("8.1-f3-register.sip");
    let supported: Vec<&str> = m.tokens(&HeaderName::Supported).collect();
    assert_eq!(supported, ["path", "outbound", "gruu"]);
    assert_eq!(m.contacts().count(), 1);
    let c = m.contacts().next().unwrap();
    assert_eq!(c.reg_id(), Some(1));
    assert_eq!(c.instance().as_deref(), Some("urn:uuid:f81-7dec-14a06cf1"));
    assert!(!c.params.has("ob"), "no ;ob on the REGISTER Contact");
    assert_eq!(c.expires(), None);
    assert_eq!(m.expires(), None, "no Expires header either");
    assert_eq!(m.from().unwrap().tag(), Some("65bnmj.34asd"));
    assert!(!m.from().unwrap().bracketed, "addr-spec From without <>");
    assert_eq!(m.to().unwrap().tag(), None);
    assert_eq!(m.call_id(), Some("aiuy7k9njasd"));
    assert_eq!(m.cseq().unwrap().to_string(), "1 REGISTER");
    assert_eq!(m.max_forwards(), Some(70));
}

#[test]
fn req_5626_10_a_f3_instance_is_a_quoted_urn_in_angle_brackets() {
    let m = ws("8.1-f3-register.sip");
    let c = m.contacts().next().unwrap();
    assert_eq!(
        c.params.value("+sip.instance"),
        Some("\"<urn:uuid:f81-7dec-14a06cf1>\"")
    );
    assert_eq!(c.params.value("reg-id"), Some("1"));
}

#[test]
fn req_5627_4_1_a_f3_register_asks_for_gruu_without_gruu_params() {
    let m = ws("8.1-f3-register.sip");
    assert!(m.supports("gruu"));
    let c = m.contacts().next().unwrap();
    assert!(c.instance().is_some());
    assert_eq!((c.pub_gruu(), c.temp_gruu()), (None, None));
}

#[test]
fn req_7118_5_3_a_f4_via_has_no_received() {
    let f3 = ws("8.1-f3-register.sip");
    let f4 = ws("8.1-f4-200-ok.sip");
    assert_eq!(f4.status_line().unwrap().code, 200);
    assert_eq!(f4.vias().collect::<Vec<_>>(), f3.vias().collect::<Vec<_>>());
    assert_eq!(f4.top_via().unwrap().received(), None);
    assert_eq!(f4.from(), f3.from());
    assert_eq!(f4.call_id(), f3.call_id());
    assert_eq!(f4.cseq(), f3.cseq());
    assert_eq!(f4.to().unwrap().tag(), Some("12isjljn8"));
    assert_eq!(f4.to().unwrap().uri, f3.to().unwrap().uri);
}

#[test]
fn req_5627_7_a_f4_contact_gruu_params() {
    let m = ws("8.1-f4-200-ok.sip");
    assert_eq!(m.contacts().count(), 1);
    let c = m.contacts().next().unwrap();
    assert_eq!(
        c.uri.to_string(),
        "sip:alice@df7jal23ls0d.invalid;transport=ws"
    );
    assert_eq!(c.reg_id(), Some(1));
    assert_eq!(c.instance().as_deref(), Some("urn:uuid:f81-7dec-14a06cf1"));
    assert_eq!(c.expires(), Some(3600));
    // pub-gruu and temp-gruu are quoted strings holding SIP URIs (RFC 5627 §7).
    assert_eq!(
        c.params.value("pub-gruu"),
        Some("\"sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1\"")
    );
    let pub_gruu = SipUri::parse(&c.pub_gruu().unwrap()).unwrap();
    assert_eq!(pub_gruu.user.as_deref(), Some("alice"));
    assert_eq!(pub_gruu.host, Host::Domain("example.com".into()));
    assert_eq!(
        pub_gruu.params.get("gr"),
        Some(Some("urn:uuid:f81-7dec-14a06cf1")),
        "public GRUU = AOR + gr=<instance URN>"
    );
    assert_eq!(
        c.params.value("temp-gruu"),
        Some("\"sip:87ash54=3dd.98a@example.com;gr\"")
    );
    let temp_gruu = SipUri::parse(&c.temp_gruu().unwrap()).unwrap();
    assert_eq!(temp_gruu.user.as_deref(), Some("87ash54=3dd.98a"));
    assert_eq!(temp_gruu.params.get("gr"), Some(None), "valueless gr");
}

/// spec/requirements.md A14: F4 as published lists `gruu` in Supported (RFC 5627 §5.2 SHOULD NOT) and
/// lacks `Require: outbound` (RFC 5626 §6 MUST). The vector keeps the published text; this
/// test pins that down so nobody "fixes" the vector silently.
#[test]
fn req_5626_6_c_req_5627_5_2_a_f4_published_defects_a14() {
    let m = ws("8.1-f4-200-ok.sip");
    let supported: Vec<&str> = m.tokens(&HeaderName::Supported).collect();
    assert_eq!(supported, ["outbound", "gruu"]);
    assert_eq!(m.tokens(&HeaderName::Require).count(), 0);
    assert!(m.value(&HeaderName::Require).is_none());
}

// ---- §8.2 INVITE dialog ----

fn rr_uris(m: &Message) -> Vec<String> {
    m.record_routes().map(|r| r.uri.to_string()).collect()
}

fn route_uris(m: &Message) -> Vec<String> {
    m.routes().map(|r| r.uri.to_string()).collect()
}

const RR_UDP: &str = "sip:proxy.example.com;transport=udp;lr";
const RR_WS: &str = "sip:h7kjh12s@proxy.example.com:443;transport=ws;lr";
const ALICE_GRUU_OB: &str = "sip:alice@example.com;gr=urn:uuid:f81-7dec-14a06cf1;ob";

#[test]
fn req_7118_5_1_a_f1_invite_via_is_wss() {
    let m = ws("8.2-f1-invite.sip");
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(
        m.request_line().unwrap().uri.to_string(),
        "sip:bob@example.com"
    );
    let via = m.top_via().unwrap();
    assert_eq!(via.transport, "WSS");
    assert!(via.host.is_invalid_tld());
    assert_eq!(via.branch(), Some("z9hG4bK56sdasks"));
    assert_eq!(m.max_forwards(), Some(70));
    assert_eq!(m.cseq().unwrap().to_string(), "1 INVITE");
    assert_eq!(m.to().unwrap().tag(), None);
    assert_eq!(m.from().unwrap().tag(), Some("asdyka899"));
}

#[test]
fn req_7118_5_2_a_f1_preloaded_route_transport_ws_port_443() {
    let m = ws("8.2-f1-invite.sip");
    let routes: Vec<&NameAddr> = m.routes().collect();
    assert_eq!(routes.len(), 1);
    let r = sip(routes[0]);
    assert!(!r.secure, "sip: scheme for a WSS hop (REQUIREMENTS A1)");
    assert_eq!(r.user, None);
    assert_eq!(r.host, Host::Domain("proxy.example.com".into()));
    assert_eq!(r.port, Some(443));
    assert_eq!(r.transport_param(), Some("ws"));
    assert!(r.lr());
}

#[test]
fn req_5627_4_4_a_req_5626_4_3_a_f1_contact_is_pub_gruu_with_ob() {
    let m = ws("8.2-f1-invite.sip");
    let c = m.contacts().next().unwrap();
    assert!(c.bracketed);
    assert!(c.params.is_empty());
    // The RFC folds this URI inside <...>; the vector joins it (spec/requirements.md §4).
    assert_eq!(c.uri.to_string(), ALICE_GRUU_OB);
    let u = sip(c);
    assert_eq!(u.params.value("gr"), Some("urn:uuid:f81-7dec-14a06cf1"));
    assert_eq!(u.params.get("ob"), Some(None));
    // It is the pub-gruu the registrar returned in §8.1 F4, plus ;ob.
    let f4 = ws("8.1-f4-200-ok.sip");
    let pub_gruu = f4.contacts().next().unwrap().pub_gruu().unwrap();
    assert_eq!(format!("{pub_gruu};ob"), c.uri.to_string());
    assert!(m.supports("outbound"));
}

#[test]
fn rfc7118_8_2_f2_100_trying_echoes_the_request() {
    let f1 = ws("8.2-f1-invite.sip");
    let m = ws("8.2-f2-100-trying.sip");
    let s = m.status_line().unwrap();
    assert_eq!((s.code, s.reason.as_str()), (100, "Trying"));
    assert_eq!(m.vias().collect::<Vec<_>>(), f1.vias().collect::<Vec<_>>());
    assert_eq!(m.to(), f1.to(), "no To tag on the 100");
    assert_eq!(m.from(), f1.from());
    assert_eq!((m.call_id(), m.cseq()), (f1.call_id(), f1.cseq()));
    assert_eq!(m.record_routes().count(), 0);
}

#[test]
fn req_5658_6_2_a_f3_double_record_route() {
    let m = ws("8.2-f3-invite.sip");
    assert_eq!(rr_uris(&m), [RR_UDP, RR_WS]);
    let rr: Vec<&NameAddr> = m.record_routes().collect();
    // Both values in one header line, folded after the comma.
    assert_eq!(m.values(&HeaderName::RecordRoute).count(), 1);
    let (udp, wss) = (sip(rr[0]), sip(rr[1]));
    assert_eq!(
        udp.transport_param(),
        Some("udp"),
        "top value faces Bob (UDP)"
    );
    assert_eq!((udp.port, udp.user.as_deref()), (None, None));
    assert_eq!(
        wss.transport_param(),
        Some("ws"),
        "second value faces Alice (WSS)"
    );
    assert_eq!(wss.port, Some(443));
    assert!(!wss.secure);
    assert!(udp.lr() && wss.lr());
    assert!(
        rr.iter()
            .all(|r| r.params.is_empty() && r.display.is_none())
    );
}

#[test]
fn req_5626_5_3_2_a_f3_flow_token_in_ws_record_route() {
    let m = ws("8.2-f3-invite.sip");
    let ws_rr = m.record_routes().nth(1).unwrap();
    assert_eq!(sip(ws_rr).user.as_deref(), Some("h7kjh12s"));
    assert_eq!(sip(ws_rr).host, Host::Domain("proxy.example.com".into()));
}

#[test]
fn req_3261_16_6_d_f3_proxy_adds_its_via_and_consumes_the_route() {
    let f1 = ws("8.2-f1-invite.sip");
    let m = ws("8.2-f3-invite.sip");
    assert_eq!(
        m.request_line().unwrap().uri.to_string(),
        "sip:bob@203.0.113.22:5060",
        "retargeted to Bob's contact"
    );
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].transport, "UDP");
    assert_eq!(vias[0].host, Host::Domain("proxy.example.com".into()));
    assert_eq!(vias[0].branch(), Some("z9hG4bKhjhjqw32c"));
    assert!(vias[0].has_rfc3261_branch());
    assert_eq!(
        vias[1],
        f1.top_via().unwrap(),
        "Alice's Via unchanged, no received"
    );
    assert_eq!(
        m.routes().count(),
        0,
        "Alice's Route value consumed (RFC 3261 §16.4)"
    );
    assert_eq!(m.max_forwards(), Some(69));
    assert_eq!(
        m.contacts().collect::<Vec<_>>(),
        f1.contacts().collect::<Vec<_>>()
    );
    for h in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        assert_eq!(m.value(&h), f1.value(&h), "{h} unchanged");
    }
    assert_eq!(
        m.tokens(&HeaderName::Supported).collect::<Vec<_>>(),
        f1.tokens(&HeaderName::Supported).collect::<Vec<_>>()
    );
}

#[test]
fn req_3261_18_2_1_a_f4_received_added_on_the_udp_hop() {
    let f3 = ws("8.2-f3-invite.sip");
    let m = ws("8.2-f4-200-ok.sip");
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].received(), Some("192.0.2.10"));
    assert_eq!(vias[0].branch(), f3.top_via().unwrap().branch());
    assert_eq!(
        vias[1],
        f3.vias().nth(1).unwrap(),
        "Alice's Via below, unchanged"
    );
    assert_eq!(vias[1].received(), None);
}

#[test]
fn req_3261_12_1_2_a_f4_uas_copies_record_route() {
    let f3 = ws("8.2-f3-invite.sip");
    let m = ws("8.2-f4-200-ok.sip");
    assert_eq!(m.status_line().unwrap().code, 200);
    assert_eq!(rr_uris(&m), rr_uris(&f3));
    assert_eq!(m.to().unwrap().tag(), Some("bmqkjhsd"));
    let c = sip(m.contacts().next().unwrap());
    assert_eq!(c.to_string(), "sip:bob@203.0.113.22:5060;transport=udp");
    assert_eq!(c.host, Host::Ipv4("203.0.113.22".parse().unwrap()));
    assert_eq!(m.text("Content-Type"), Some("application/sdp"));
}

#[test]
fn req_3261_16_7_a_f5_record_route_forwarded_unchanged() {
    let f4 = ws("8.2-f4-200-ok.sip");
    let m = ws("8.2-f5-200-ok.sip");
    assert_eq!(
        m.record_routes().collect::<Vec<_>>(),
        f4.record_routes().collect::<Vec<_>>()
    );
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(vias, [f4.vias().nth(1).unwrap()], "the proxy's Via removed");
    assert_eq!(vias[0].transport, "WSS");
    for h in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::Contact,
    ] {
        assert_eq!(m.value(&h), f4.value(&h), "{h} as in F4");
    }
}

#[test]
fn req_3261_12_1_2_a_f6_route_is_reversed_record_route() {
    let f5 = ws("8.2-f5-200-ok.sip");
    let m = ws("8.2-f6-ack.sip");
    let mut reversed = rr_uris(&f5);
    reversed.reverse();
    assert_eq!(route_uris(&m), reversed);
    assert_eq!(route_uris(&m), [RR_WS, RR_UDP], "the flow-token hop first");
}

#[test]
fn req_3261_12_2_1_1_a_f6_ruri_is_remote_target() {
    let f5 = ws("8.2-f5-200-ok.sip");
    let m = ws("8.2-f6-ack.sip");
    assert_eq!(m.method(), Some(&Method::Ack));
    assert_eq!(
        &m.request_line().unwrap().uri,
        &f5.contacts().next().unwrap().uri
    );
    let via = m.top_via().unwrap();
    assert_eq!(via.transport, "WSS");
    assert_eq!(
        via.branch(),
        Some("z9hG4bKhgqqp090"),
        "a new branch for the 2xx ACK"
    );
    assert_eq!(m.cseq().unwrap().to_string(), "1 ACK");
    assert_eq!(m.max_forwards(), Some(70));
    assert_eq!(m.to(), f5.to(), "To carries Bob's tag");
    assert_eq!(m.from(), f5.from());
}

/// spec/requirements.md §4.3 / A14: the published F6 Route ends with a stray comma, which RFC 3261's
/// `Route = "Route" HCOLON route-param *(COMMA route-param)` does not allow.
#[test]
fn rfc7118_8_2_f6_ack_as_published_a14_trailing_comma_refused() {
    let bytes = read("rfc7118/8.2-f6-ack-as-published.sip");
    let e = Message::parse(&bytes).expect_err("a Route list cannot end with a comma");
    let text = e.to_string();
    assert!(
        text.contains("in Route:"),
        "the error names the Route header: {text}"
    );
    // The offset points at the end of the folded Route value, in its continuation line.
    let route_line = find(&bytes, b"Route:").unwrap();
    let next_header = find(&bytes, b"From:").unwrap();
    assert!(
        (route_line..next_header).contains(&e.offset),
        "offset {} should fall inside the Route header ({route_line}..{next_header})",
        e.offset
    );
    let refusal = Refusal {
        verdict: "invalid",
        stage: "parse",
        error: text,
        offset: Some(e.offset),
        status: None,
    };
    snapshot_settings(
        "RFC 7118 §8.2 F6 ACK as published (tests/data/rfc7118/8.2-f6-ack-as-published.sip): \
         the Route list ends with a stray comma"
            .to_string(),
    )
    .bind(|| insta::assert_yaml_snapshot!("rfc7118_8_2_f6_ack_as_published", refusal));
    // The datagram framing refuses it too: the fault is in the header, not in the framing.
    assert!(Message::parse_datagram(&bytes).is_err());
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn req_5658_5_a_f7_no_route_left() {
    let f6 = ws("8.2-f6-ack.sip");
    let m = ws("8.2-f7-ack.sip");
    assert_eq!(
        m.routes().count(),
        0,
        "both proxy Route values removed at once"
    );
    assert_eq!(m.request_line(), f6.request_line());
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].transport, "UDP");
    assert_eq!(vias[0].host, Host::Domain("proxy.example.com".into()));
    assert_eq!(vias[0].branch(), Some("z9hG4bKhwpoc80zzx"));
    assert_eq!(vias[1], f6.top_via().unwrap());
    assert_eq!(m.max_forwards(), Some(69));
    assert_eq!(m.cseq(), f6.cseq());
}

#[test]
fn req_3261_12_1_2_a_f8_route_is_record_route_in_order() {
    let f4 = ws("8.2-f4-200-ok.sip");
    let m = ws("8.2-f8-bye.sip");
    assert_eq!(route_uris(&m), rr_uris(&f4));
    assert_eq!(route_uris(&m), [RR_UDP, RR_WS]);
}

#[test]
fn req_5627_4_4_a_f8_bye_targets_alices_gruu() {
    let f1 = ws("8.2-f1-invite.sip");
    let m = ws("8.2-f8-bye.sip");
    assert_eq!(m.method(), Some(&Method::Bye));
    assert_eq!(
        &m.request_line().unwrap().uri,
        &f1.contacts().next().unwrap().uri,
        "R-URI = Alice's Contact (pub-gruu with ob)"
    );
    assert_eq!(m.request_line().unwrap().uri.to_string(), ALICE_GRUU_OB);
    let via = m.top_via().unwrap();
    assert_eq!(via.transport, "UDP");
    assert_eq!(via.host, Host::Ipv4("203.0.113.22".parse().unwrap()));
    assert_eq!(via.branch(), Some("z9hG4bKbiuiansd001"));
    assert_eq!(m.from().unwrap().tag(), Some("bmqkjhsd"));
    assert_eq!(m.to().unwrap().tag(), Some("asdyka899"));
    assert_eq!(m.cseq().unwrap().to_string(), "1201 BYE");
    assert_eq!(m.max_forwards(), Some(70));
}

#[test]
fn req_7118_5_1_a_f9_proxy_via_is_wss() {
    let f8 = ws("8.2-f8-bye.sip");
    let m = ws("8.2-f9-bye.sip");
    let vias: Vec<&Via> = m.vias().collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].transport, "WSS", "the proxy's Via on the WSS side");
    assert_eq!(vias[0].host, Host::Domain("proxy.example.com".into()));
    assert_eq!(vias[0].port, Some(443));
    assert_eq!(vias[0].branch(), Some("z9hG4bKmma01m3r5"));
    assert_eq!(vias[1], f8.top_via().unwrap());
}

#[test]
fn req_5658_5_a_f9_no_route_and_ruri_unchanged() {
    let f8 = ws("8.2-f8-bye.sip");
    let m = ws("8.2-f9-bye.sip");
    assert_eq!(m.routes().count(), 0);
    assert_eq!(
        m.request_line(),
        f8.request_line(),
        "the GRUU is not retargeted"
    );
    assert_eq!(m.max_forwards(), Some(69));
    for h in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        assert_eq!(m.value(&h), f8.value(&h), "{h} unchanged");
    }
}

#[test]
fn req_3261_18_2_2_a_f10_response_echoes_both_vias() {
    let f9 = ws("8.2-f9-bye.sip");
    let m = ws("8.2-f10-200-ok.sip");
    assert_eq!(m.status_line().unwrap().code, 200);
    assert_eq!(m.vias().collect::<Vec<_>>(), f9.vias().collect::<Vec<_>>());
    assert!(
        m.vias().all(|v| v.received().is_none()),
        "Alice adds no received"
    );
    for h in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        assert_eq!(m.value(&h), f9.value(&h), "{h} echoed");
    }
    assert_eq!(m.cseq().unwrap().method, Method::Bye);
}

#[test]
fn rfc7118_8_2_f11_proxy_removes_its_via() {
    let f8 = ws("8.2-f8-bye.sip");
    let f10 = ws("8.2-f10-200-ok.sip");
    let m = ws("8.2-f11-200-ok.sip");
    assert_eq!(m.vias().collect::<Vec<_>>(), [f8.top_via().unwrap()]);
    for h in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        assert_eq!(m.value(&h), f10.value(&h), "{h} as in F10");
    }
}

/// Dialog identifiers across the whole §8.2 flow: one Call-ID, Alice's and Bob's tags.
#[test]
fn rfc7118_8_2_one_dialog() {
    for (file, _) in &RFC7118_MESSAGES[2..] {
        let m = ws(file);
        assert_eq!(m.call_id(), Some("asidkj3ss"), "{file}");
        let (alice, bob) = if m.cseq().unwrap().method == Method::Bye {
            (m.to().unwrap(), m.from().unwrap())
        } else {
            (m.from().unwrap(), m.to().unwrap())
        };
        assert_eq!(alice.tag(), Some("asdyka899"), "{file}");
        assert_eq!(sip(alice).user.as_deref(), Some("alice"), "{file}");
        assert!(
            bob.tag().is_none() || bob.tag() == Some("bmqkjhsd"),
            "{file}"
        );
    }
}

// ---- §4.1 handshake ----

/// The header lines of an HTTP message (no folding in these examples).
fn http_lines(file: &str) -> (String, Vec<(String, String)>) {
    let text = String::from_utf8(read(&format!("rfc7118/{file}"))).unwrap();
    let head = text
        .strip_suffix("\r\n\r\n")
        .expect("ends with a blank line");
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap().to_string();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("name: value");
            (n.to_string(), v.trim().to_string())
        })
        .collect();
    (start, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn req_7118_4_1_a_handshake_request_offers_sip() {
    for (file, host, origin) in [
        (
            "4.1-handshake-request.http",
            "sip-ws.example.com",
            "http://www.example.com",
        ),
        (
            "8.1-f1-http-get.http",
            "proxy.example.com",
            "https://www.example.com",
        ),
    ] {
        let (start, h) = http_lines(file);
        assert_eq!(start, "GET / HTTP/1.1", "{file}");
        assert_eq!(header(&h, "Host"), [host], "{file}");
        assert_eq!(header(&h, "Origin"), [origin], "{file}");
        assert_eq!(header(&h, "Upgrade"), ["websocket"], "{file}");
        assert_eq!(header(&h, "Connection"), ["Upgrade"], "{file}");
        assert_eq!(
            header(&h, "Sec-WebSocket-Key"),
            ["dGhlIHNhbXBsZSBub25jZQ=="],
            "{file}: the RFC 6455 sample nonce"
        );
        assert_eq!(header(&h, "Sec-WebSocket-Version"), ["13"], "{file}");
        let offered: Vec<&str> = header(&h, "Sec-WebSocket-Protocol")
            .iter()
            .flat_map(|v| v.split(',').map(str::trim))
            .collect();
        assert!(offered.contains(&"sip"), "{file}: offers exactly `sip`");
    }
}

#[test]
fn req_7118_4_1_b_handshake_response_names_sip() {
    for file in [
        "4.1-handshake-response.http",
        "8.1-f2-101-switching-protocols.http",
    ] {
        let (start, h) = http_lines(file);
        assert_eq!(start, "HTTP/1.1 101 Switching Protocols", "{file}");
        assert_eq!(header(&h, "Upgrade"), ["websocket"], "{file}");
        assert_eq!(header(&h, "Connection"), ["Upgrade"], "{file}");
        // base64(SHA-1("dGhlIHNhbXBsZSBub25jZQ==" + the RFC 6455 GUID)), RFC 6455 §1.3.
        assert_eq!(
            header(&h, "Sec-WebSocket-Accept"),
            ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
            "{file}"
        );
        assert_eq!(header(&h, "Sec-WebSocket-Protocol"), ["sip"], "{file}");
    }
}

/// Values that are not plain SIP URIs stay opaque where the codec keeps them (no accidental
/// typing): the F1 Contact parses as a SIP URI, its GRUU parameters as URI parameters.
#[test]
fn rfc7118_contact_values_are_typed() {
    let m = ws("8.1-f4-200-ok.sip");
    match m.value(&HeaderName::Contact) {
        Some(HeaderValue::Contact(Contact::List(l))) => assert_eq!(l.len(), 1),
        other => panic!("Contact should be a typed list, got {other:?}"),
    }
    assert!(matches!(
        m.contacts().next().unwrap().uri,
        Uri::Sip(SipUri { secure: false, .. })
    ));
}
