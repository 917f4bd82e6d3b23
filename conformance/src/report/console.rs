//! The console report: one line per case (verdict, id, requirements, why), then a summary by
//! subject and by level; and the listing of `sipws test --list`, which names each requirement
//! with its clause and text.

use std::collections::BTreeMap;
use std::io::Write;

use crate::catalogue;
use crate::verdict::{CaseInfo, Outcome, Report, Tally, Verdict};

/// One case of `sipws test --list`: id, level, requirement IDs and title on the first line,
/// then one indented line per requirement with its clause and text from the catalogue.
pub fn case_listing(c: &CaseInfo) -> String {
    let mut s = format!(
        "{:<48} {:<6} [{}] {}",
        c.id,
        c.level.as_str(),
        c.reqs.join(" "),
        c.title
    );
    for id in &c.reqs {
        s.push_str("\n    ");
        s.push_str(&catalogue::describe(id));
    }
    s
}

pub fn case_line(v: &Verdict) -> String {
    let tag = match v.outcome {
        Outcome::Pass => "PASS ",
        Outcome::Fail => "FAIL ",
        Outcome::Warn => "WARN ",
        Outcome::Info => "INFO ",
        Outcome::Skip => "SKIP ",
        Outcome::Error => "ERROR",
    };
    let mut line = format!("{tag} {:<48} [{}]", v.case.id, v.case.reqs.join(" "));
    if v.outcome != Outcome::Pass {
        line.push_str(" — ");
        line.push_str(&v.message);
        if let Some(o) = &v.observed {
            line.push_str(&format!(" (observed: {o})"));
        }
    } else if let Some(o) = &v.observed {
        line.push_str(&format!(" — observed: {o}"));
    }
    line
}

/// Write the whole report; with `verbose`, the evidence of every case that did not pass.
pub fn write(report: &Report, verbose: bool, out: &mut impl Write) -> std::io::Result<()> {
    if let Some(profile) = &report.profile {
        writeln!(
            out,
            "target profile of {} (probed before the cases):",
            report.target
        )?;
        for line in profile.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    for v in &report.verdicts {
        writeln!(out, "{}", case_line(v))?;
        if verbose && v.outcome != Outcome::Pass {
            for (i, t) in v.evidence.iter().enumerate() {
                writeln!(out, "      connection {}:", i + 1)?;
                for line in t.to_string().lines() {
                    writeln!(out, "      {line}")?;
                }
            }
        }
    }
    writeln!(out)?;
    let mut subjects: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut levels: BTreeMap<&str, Tally> = BTreeMap::new();
    for v in &report.verdicts {
        subjects.entry(&v.case.subject).or_default().add(v.outcome);
        levels
            .entry(v.case.level.as_str())
            .or_default()
            .add(v.outcome);
    }
    writeln!(out, "by subject:")?;
    for (s, t) in &subjects {
        writeln!(out, "  {s:<14} {t}")?;
    }
    writeln!(out, "by level:")?;
    for (l, t) in &levels {
        writeln!(out, "  {l:<14} {t}")?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(
        out,
        "\n{}: {} in {} ms",
        report.target, report.summary, report.duration_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{CaseInfo, Level, Outcome, Verdict};

    #[test]
    fn the_listing_names_each_requirement_with_clause_and_text() {
        let c = CaseInfo {
            id: "subprotocol/upper-case-sip-only".into(),
            title: "Offering only \"SIP\" is refused".into(),
            subject: "subprotocol".into(),
            reqs: vec!["7936-2-a".into(), "7118-4.1-c".into(), "9999-1-a".into()],
            level: Level::Must,
            needs: Vec::new(),
            location: "features/subprotocol.feature:53".into(),
        };
        let text = case_listing(&c);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("subprotocol/upper-case-sip-only"));
        assert!(
            lines[0].ends_with(
                "must   [7936-2-a 7118-4.1-c 9999-1-a] Offering only \"SIP\" is refused"
            )
        );
        let rfc7936 = catalogue::lookup("7936-2-a").expect("in the catalogue");
        assert_eq!(
            lines[1],
            format!("    7936-2-a — RFC 7936 §2: {}", rfc7936.text)
        );
        assert!(!rfc7936.text.is_empty());
        assert!(
            lines[2].starts_with("    7118-4.1-c — RFC 7118 §4.1 + RFC 6455 §4.2.2: "),
            "{}",
            lines[2]
        );
        assert_eq!(lines[3], "    9999-1-a — not in the requirement catalogue");
    }

    #[test]
    fn lines_and_summary() {
        let v = Verdict {
            case: CaseInfo {
                id: "subprotocol/upper-case-sip-only".into(),
                title: "t".into(),
                subject: "subprotocol".into(),
                reqs: vec!["7936-2-a".into(), "7118-4.1-c".into()],
                level: Level::Must,
                needs: Vec::new(),
                location: "features/subprotocol.feature:9".into(),
            },
            outcome: Outcome::Fail,
            message: "answered 101 with sip".into(),
            observed: None,
            duration_ms: 4,
            evidence: Vec::new(),
            invariants: Vec::new(),
        };
        let report = Report::new("ws://127.0.0.1:1", 9, vec![v]);
        assert_eq!(report.exit_code(), 1);
        let mut out = Vec::new();
        write(&report, false, &mut out).expect("writes to memory");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("FAIL  subprotocol/upper-case-sip-only"));
        assert!(text.contains("[7936-2-a 7118-4.1-c] — answered 101 with sip"));
        assert!(text.contains("subprotocol    0 passed, 1 failed"));
        assert!(text.ends_with(
            "ws://127.0.0.1:1: 0 passed, 1 failed, 0 warned, 0 info, 0 skipped, 0 errors in 9 ms\n"
        ));
    }
}
