//! JUnit XML that strict parsers accept: one `<testsuite>` per subject; every `<testcase>` has
//! `name` and `classname`; `fail` is `<failure>`, `skip` is `<skipped>`, a harness error is
//! `<error>`; `warn` and `info` pass, with their message in `<system-out>`. Each testcase
//! opens with `<properties>`: one `<property name="requirement">` per requirement ID it
//! checks, whose value is the ID with its clause and text from the embedded catalogue
//! (`7118-4.1-b — RFC 7118 §4.1: ...`).

use std::collections::BTreeMap;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::catalogue;
use crate::verdict::{Outcome, Report, Tally, Verdict};

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn counts(t: &Tally) -> [(&'static str, String); 4] {
    [
        ("tests", t.total().to_string()),
        ("failures", t.fail.to_string()),
        ("errors", t.error.to_string()),
        ("skipped", t.skip.to_string()),
    ]
}

/// The body of a `<failure>`/`<error>`/`<system-out>`: message, requirements, evidence.
fn details(v: &Verdict) -> String {
    let mut s = format!("{}\nrequirements:\n", v.message);
    for id in &v.case.reqs {
        s.push_str(&format!("  {}\n", catalogue::describe(id)));
    }
    if let Some(o) = &v.observed {
        s.push_str(&format!("observed: {o}\n"));
    }
    for (i, t) in v.evidence.iter().enumerate() {
        s.push_str(&format!("--- connection {} ---\n{t}", i + 1));
    }
    s
}

pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;

    let mut by_subject: BTreeMap<&str, Vec<&Verdict>> = BTreeMap::new();
    for v in &report.verdicts {
        by_subject
            .entry(v.case.subject.as_str())
            .or_default()
            .push(v);
    }
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "sipws"));
    for (k, v) in counts(&report.summary) {
        root.push_attribute((k, v.as_str()));
    }
    root.push_attribute(("time", secs(report.duration_ms).as_str()));
    w.write_event(Event::Start(root))?;
    for (subject, verdicts) in by_subject {
        let mut tally = Tally::default();
        let mut ms = 0;
        for v in &verdicts {
            tally.add(v.outcome);
            ms += v.duration_ms;
        }
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", subject));
        for (k, v) in counts(&tally) {
            suite.push_attribute((k, v.as_str()));
        }
        suite.push_attribute(("time", secs(ms).as_str()));
        w.write_event(Event::Start(suite))?;
        for v in verdicts {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", v.case.id.as_str()));
            let classname = format!("sipws.{subject}");
            case.push_attribute(("classname", classname.as_str()));
            case.push_attribute(("time", secs(v.duration_ms).as_str()));
            w.write_event(Event::Start(case))?;
            if !v.case.reqs.is_empty() {
                w.write_event(Event::Start(BytesStart::new("properties")))?;
                for id in &v.case.reqs {
                    let mut p = BytesStart::new("property");
                    p.push_attribute(("name", "requirement"));
                    // Attribute values are escaped by quick-xml (`&`, `<`, `>`, quotes).
                    p.push_attribute(("value", catalogue::describe(id).as_str()));
                    w.write_event(Event::Empty(p))?;
                }
                w.write_event(Event::End(BytesEnd::new("properties")))?;
            }
            let body = details(v);
            let element = match v.outcome {
                Outcome::Fail => Some("failure"),
                Outcome::Error => Some("error"),
                Outcome::Skip => Some("skipped"),
                Outcome::Pass | Outcome::Warn | Outcome::Info => None,
            };
            match element {
                Some("skipped") => {
                    let mut e = BytesStart::new("skipped");
                    e.push_attribute(("message", v.message.as_str()));
                    w.write_event(Event::Empty(e))?;
                }
                Some(name) => {
                    let mut e = BytesStart::new(name);
                    e.push_attribute(("message", v.message.as_str()));
                    e.push_attribute(("type", v.outcome.as_str()));
                    w.write_event(Event::Start(e))?;
                    w.write_event(Event::Text(BytesText::new(&body)))?;
                    w.write_event(Event::End(BytesEnd::new(name)))?;
                }
                None => {
                    w.write_event(Event::Start(BytesStart::new("system-out")))?;
                    let text = format!("{}: {body}", v.outcome.as_str().to_uppercase());
                    w.write_event(Event::Text(BytesText::new(&text)))?;
                    w.write_event(Event::End(BytesEnd::new("system-out")))?;
                }
            }
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    w.into_inner().write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{CaseInfo, Level};
    use quick_xml::Reader;

    pub(crate) fn sample() -> Report {
        let v = |id: &str, subject: &str, outcome, message: &str| Verdict {
            case: CaseInfo {
                id: id.into(),
                title: "t".into(),
                subject: subject.into(),
                reqs: vec!["7118-4.1-b".into()],
                level: Level::Must,
                needs: Vec::new(),
                location: "features/x.feature:1".into(),
            },
            outcome,
            message: message.into(),
            observed: None,
            duration_ms: 3,
            evidence: Vec::new(),
            invariants: Vec::new(),
        };
        Report::new(
            "embedded",
            20,
            vec![
                v("handshake/a", "handshake", Outcome::Pass, "ok"),
                v(
                    "handshake/b",
                    "handshake",
                    Outcome::Fail,
                    "no 101 <expected> & \"quoted\"",
                ),
                v("framing/c", "framing", Outcome::Skip, "needs wss"),
                v("framing/d", "framing", Outcome::Error, "connect refused"),
                v("framing/e", "framing", Outcome::Warn, "should"),
            ],
        )
    }

    #[test]
    fn every_testcase_has_name_and_classname_and_the_right_child() {
        let mut out = Vec::new();
        write(&sample(), &mut out).expect("writes to memory");
        let xml = String::from_utf8(out).expect("utf-8");
        let mut reader = Reader::from_str(&xml);
        let (mut cases, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    "testcase" => {
                        cases += 1;
                        let names: Vec<String> = e
                            .attributes()
                            .map(|a| {
                                String::from_utf8_lossy(a.expect("attr").key.as_ref().as_bytes())
                                    .into_owned()
                            })
                            .collect();
                        assert!(
                            names.iter().any(|n| n == "name")
                                && names.iter().any(|n| n == "classname")
                        );
                    }
                    "failure" => failures += 1,
                    "error" => errors += 1,
                    "skipped" => skipped += 1,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((cases, failures, errors, skipped), (5, 1, 1, 1));
        assert!(
            xml.contains(
                r#"<testsuites name="sipws" tests="5" failures="1" errors="1" skipped="1""#
            )
        );
        assert!(xml.contains("&lt;expected&gt; &amp;"), "{xml}");
    }

    /// Every testcase names its requirements with clause and text in `<properties>`, escaped,
    /// before the outcome element; an ID the catalogue lacks says so.
    #[test]
    fn testcases_carry_their_requirements_as_properties() {
        let mut report = sample();
        report.verdicts[1].case.reqs = vec!["7936-2-a".into(), "9999-1-a".into()];
        let mut out = Vec::new();
        write(&report, &mut out).expect("writes to memory");
        let xml = String::from_utf8(out).expect("utf-8");
        let mut reader = Reader::from_str(&xml);
        let mut current: Option<String> = None;
        let mut props: Vec<(String, String)> = Vec::new();
        let mut first_child_is_properties = Vec::new();
        let mut expect_first_child = false;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_string();
                    if expect_first_child {
                        first_child_is_properties.push(name == "properties");
                        expect_first_child = false;
                    }
                    let attr = |key: &str| {
                        e.attributes()
                            .filter_map(Result::ok)
                            .find(|a| a.key.as_ref() == key)
                            .map(|a| {
                                a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                    .expect("escaped value")
                                    .into_owned()
                            })
                    };
                    match name.as_str() {
                        "testcase" => {
                            current = attr("name");
                            expect_first_child = true;
                        }
                        "property" => {
                            assert_eq!(attr("name").as_deref(), Some("requirement"));
                            let case = current.clone().expect("a property inside a testcase");
                            props.push((case, attr("value").expect("a value")));
                        }
                        _ => {}
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(first_child_is_properties, [true; 5]);
        let of = |case: &str| -> Vec<&str> {
            props
                .iter()
                .filter(|(c, _)| c == case)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let text = catalogue::lookup("7118-4.1-b")
            .expect("in the catalogue")
            .text
            .clone();
        assert_eq!(
            of("handshake/a"),
            [format!("7118-4.1-b — RFC 7118 §4.1: {text}").as_str()]
        );
        let b = of("handshake/b");
        assert_eq!(b.len(), 2);
        assert!(b[0].starts_with("7936-2-a — RFC 7936 §2: "), "{}", b[0]);
        assert!(b[0].len() > "7936-2-a — RFC 7936 §2: ".len());
        assert_eq!(b[1], "9999-1-a — not in the requirement catalogue");
        // Attribute values are escaped: an ID with XML's special characters round-trips.
        let mut report = sample();
        report.verdicts[0].case.reqs = vec![r#"9999-<&">-a"#.into()];
        let mut out = Vec::new();
        write(&report, &mut out).expect("writes to memory");
        let escaped = String::from_utf8(out).expect("utf-8");
        assert!(
            escaped.contains("9999-&lt;&amp;&quot;&gt;-a — not in"),
            "{escaped}"
        );
        // The failure body names the requirement too.
        assert!(xml.contains("  7936-2-a — RFC 7936 §2: "), "{xml}");
    }
}
