//! One verdict model for every case the suite runs (and every vector `sipws vectors check`
//! checks): what was checked (case id, requirement IDs, level), what came of it, and the
//! evidence. A [`Report`] also carries, for each requirement ID its verdicts cite, the clause
//! and text of the embedded catalogue ([`crate::catalogue`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::catalogue::{self, Requirement};
use crate::evidence::Transcript;
use crate::profile::Profile;

/// How strongly the requirements of a case bind (RFC 2119 keyword of the clauses it checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Must,
    Should,
    May,
    /// Observation only: no requirement decides the answer (the choices of
    /// `spec/requirements.md` §5).
    Info,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "must" => Some(Level::Must),
            "should" => Some(Level::Should),
            "may" => Some(Level::May),
            "info" => Some(Level::Info),
            _ => None,
        }
    }

    /// What a broken expectation of this level is.
    pub fn broken(self) -> Outcome {
        match self {
            Level::Must => Outcome::Fail,
            Level::Should => Outcome::Warn,
            Level::May | Level::Info => Outcome::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
            Level::May => "may",
            Level::Info => "info",
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// A MUST was broken.
    Fail,
    /// A SHOULD was broken.
    Warn,
    /// Observed and recorded; no requirement decides it.
    Info,
    /// The target lacks a capability the case needs (the reason says which).
    Skip,
    /// The harness could not run the case (the reason says why); says nothing of the target.
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Warn,
        Outcome::Info,
        Outcome::Skip,
        Outcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Info => "info",
            Outcome::Skip => "skip",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a case is: stable id, title, requirement IDs, level, subject, needed capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseInfo {
    /// `<subject>/<short-name>`, stable across versions (never a position number).
    pub id: String,
    pub title: String,
    pub subject: String,
    /// IDs from `spec/requirements.md`, e.g. `7118-4.1-b`.
    pub reqs: Vec<String>,
    pub level: Level,
    pub needs: Vec<String>,
    /// `features/handshake.feature:12`.
    pub location: String,
}

/// One case's verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    #[serde(flatten)]
    pub case: CaseInfo,
    pub outcome: Outcome,
    /// Why: the expectation that was broken, the capability missing, the harness error; or
    /// for a pass, what was confirmed.
    pub message: String,
    /// Where the RFCs allow several answers, which one the target gave
    /// (`spec/requirements.md` §5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    pub duration_ms: u64,
    /// The bytes exchanged, per connection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Transcript>,
    /// Whole-wire invariants the target broke in this case ([`crate::judge::invariants`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<Violation>,
}

/// One broken whole-wire invariant: its requirement ID, how strongly it binds, what broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub req: &'static str,
    pub level: Level,
    pub message: String,
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
    pub skip: usize,
    pub error: usize,
}

impl Tally {
    pub fn add(&mut self, o: Outcome) {
        *self.slot(o) += 1;
    }

    pub fn get(&self, o: Outcome) -> usize {
        match o {
            Outcome::Pass => self.pass,
            Outcome::Fail => self.fail,
            Outcome::Warn => self.warn,
            Outcome::Info => self.info,
            Outcome::Skip => self.skip,
            Outcome::Error => self.error,
        }
    }

    fn slot(&mut self, o: Outcome) -> &mut usize {
        match o {
            Outcome::Pass => &mut self.pass,
            Outcome::Fail => &mut self.fail,
            Outcome::Warn => &mut self.warn,
            Outcome::Info => &mut self.info,
            Outcome::Skip => &mut self.skip,
            Outcome::Error => &mut self.error,
        }
    }

    pub fn total(&self) -> usize {
        Outcome::ALL.iter().map(|o| self.get(*o)).sum()
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} warned, {} info, {} skipped, {} errors",
            self.pass, self.fail, self.warn, self.info, self.skip, self.error
        )
    }
}

/// What the catalogue says of one requirement a report cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitedRequirement {
    /// `RFC 7118`.
    pub rfc: String,
    /// The section as the catalogue writes it: `4.1`, `App. A.1`, `4.2.1 (5)`.
    pub section: String,
    /// `RFC 7118 §4.1`.
    pub clause: String,
    /// The RFC 2119 keyword as written (`MUST`, `SHOULD / MAY`, `derived MUST`, ...).
    pub level: String,
    /// The requirement, paraphrased.
    pub text: String,
}

impl From<&Requirement> for CitedRequirement {
    fn from(r: &Requirement) -> Self {
        CitedRequirement {
            rfc: r.rfc.clone(),
            section: r.section.clone(),
            clause: r.clause(),
            level: r.level.clone(),
            text: r.text.clone(),
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The report format's version, bumped on incompatible changes of the JSON schema.
    pub format: u32,
    pub tool: String,
    /// What was tested: `embedded reference server` or the URL.
    pub target: String,
    pub duration_ms: u64,
    pub summary: Tally,
    pub verdicts: Vec<Verdict>,
    /// Every requirement ID the verdicts cite that the catalogue has, with its clause and text
    /// (an ID the catalogue lacks is left out here and named as such in the other reports).
    pub requirements: BTreeMap<String, CitedRequirement>,
    /// What the target can do, as probed before the cases ran (vectors reports have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// What the run as a whole showed beyond the verdicts (the target went down mid-run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    pub const FORMAT: u32 = 1;

    pub fn new(target: impl Into<String>, duration_ms: u64, verdicts: Vec<Verdict>) -> Self {
        let mut summary = Tally::default();
        let mut requirements = BTreeMap::new();
        for v in &verdicts {
            summary.add(v.outcome);
            for id in &v.case.reqs {
                if let Some(r) = catalogue::lookup(id) {
                    requirements
                        .entry(id.clone())
                        .or_insert_with(|| CitedRequirement::from(r));
                }
            }
        }
        Report {
            format: Self::FORMAT,
            tool: format!("sipws {}", env!("CARGO_PKG_VERSION")),
            target: target.into(),
            duration_ms,
            summary,
            verdicts,
            requirements,
            profile: None,
            notes: Vec::new(),
        }
    }

    /// The report with the target profile probed before the cases.
    pub fn with_profile(self, profile: Profile) -> Self {
        Report {
            profile: Some(profile),
            ..self
        }
    }

    /// The report with the run's notes.
    pub fn with_notes(self, notes: Vec<String>) -> Self {
        Report { notes, ..self }
    }

    /// The exit status: 0 when nothing failed, 1 when a MUST was broken.
    /// Harness errors also give 1: a run that could not check everything has not passed.
    pub fn exit_code(&self) -> u8 {
        if self.summary.fail > 0 || self.summary.error > 0 {
            1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(reqs: &[&str]) -> Verdict {
        Verdict {
            case: CaseInfo {
                id: "subprotocol/sip-alone".into(),
                title: "t".into(),
                subject: "subprotocol".into(),
                reqs: reqs.iter().map(|r| r.to_string()).collect(),
                level: Level::Must,
                needs: Vec::new(),
                location: "features/subprotocol.feature:11".into(),
            },
            outcome: Outcome::Pass,
            message: "ok".into(),
            observed: None,
            duration_ms: 1,
            evidence: Vec::new(),
            invariants: Vec::new(),
        }
    }

    #[test]
    fn a_report_carries_clause_and_text_of_each_cited_requirement_once() {
        let report = Report::new(
            "x",
            1,
            vec![
                verdict(&["7118-4.1-b", "6455-4.2.2-d"]),
                verdict(&["7118-4.1-b", "9999-1-a"]),
            ],
        );
        let ids: Vec<&str> = report.requirements.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            ["6455-4.2.2-d", "7118-4.1-b"],
            "unknown IDs are left out"
        );
        let r = &report.requirements["7118-4.1-b"];
        assert_eq!(r.rfc, "RFC 7118");
        assert_eq!(r.section, "4.1");
        assert_eq!(r.clause, "RFC 7118 §4.1");
        assert_eq!(r.level, "MUST");
        assert!(r.text.contains("`sip`"), "{}", r.text);
    }
}
