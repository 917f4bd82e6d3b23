//! Language-neutral JSON test vectors (docs/architecture.md, vectors/README.md), in the spirit of
//! Wycheproof: one file per group, generated from the reference implementation's pure
//! functions and checked against them.
//!
//! A group declares its tests as a table of [`Row`]s (stable id, requirement IDs, ambiguity
//! flags, input in the group's own type, the verdict on the input per the RFCs, comment); the
//! one builder (`builder.rs`) turns any table into [`Case`]s, rows whose input is JSON. A
//! group also has a `compute` function that runs the reference code on one input and returns
//! the expected output as JSON. [`generate`] writes
//! `<group>.json` files (and `schema.json`); [`check`] recomputes every test of the files and
//! compares with their `expected`. Both use the same `compute`, so the committed files are the
//! reference's answers, and a change in the reference shows up as a diff in `vectors/`.
//!
//! Determinism: no clock, no randomness; tests keep the order they are written in; ids are
//! `<group>/<short-name>`, never positions; maps are written with sorted keys; files end with
//! one newline.

pub mod adapter;
mod builder;
mod cli;
mod framing;
mod handshake;
mod json;
mod messages;
mod no_connect;
mod record_route;
mod subprotocol;
mod uri;
mod via;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::verdict::{CaseInfo, Level, Outcome, Verdict as CaseVerdict};
use adapter::{Adapter, AdapterError, Answer, Request};

pub use cli::{VectorsArgs, VectorsCommand, run};

/// The JSON Schema describing every vector file, written next to them by [`generate`].
pub const SCHEMA: &str = include_str!("schema.json");

/// The file name of [`SCHEMA`], and the `schema` field of every file.
pub const SCHEMA_FILE: &str = "schema.json";

/// The ambiguity flags (spec/requirements.md §5) a test may carry, with their meaning.
const FLAGS: &[(&str, &str)] = &[
    (
        "A1",
        "REQUIREMENTS A1: RFC 7118 defines only transport=ws (security from sips:), yet its \
         §8.2 example uses sip:...:443;transport=ws for a WSS hop and transport=wss is common \
         in the field. The reference accepts ws and wss in any case; sip: + transport=ws names \
         'WS or WSS', resolved by the flow; transport=wss or sips: + transport=ws name WSS.",
    ),
    (
        "A3",
        "REQUIREMENTS A3: a handshake that does not offer the exact token sip must be refused, \
         but no status code is specified. The reference answers 400 Bad Request without \
         Sec-WebSocket-Protocol; any non-101 answer conforms.",
    ),
    (
        "A4",
        "REQUIREMENTS A4: subprotocol tokens match case-sensitively (RFC 7936 §2): SIP, Sip and \
         tokens merely containing sip are not sip, so answering sip to them breaks RFC 6455 \
         §4.2.2.",
    ),
    (
        "A5",
        "REQUIREMENTS A5: on an unsupported Sec-WebSocket-Version RFC 6455 §4.2.2 suggests 426, \
         its §4.4 example uses 400. The reference answers 426 with Sec-WebSocket-Version: 13 \
         and Upgrade: websocket; any non-101 carrying Sec-WebSocket-Version: 13 conforms.",
    ),
    (
        "A9",
        "REQUIREMENTS A9: what a request for a vanished WS flow gets is not fixed by one RFC: \
         430 for a flow token whose flow is gone (RFC 5626 §5.3.1, SHOULD), 480 once bindings \
         are invalidated (RFC 3261 §16.5, RFC 5626 §7), 408/503 from transaction errors. The \
         reference answers 430 for a dead flow token, 403 for a forged one, 480 otherwise, and \
         never opens a connection towards a WS client.",
    ),
    (
        "A14",
        "REQUIREMENTS A14: the RFC 7118 examples have defects: F4 lacks Require: outbound and \
         lists gruu in Supported, the 8.2 F6 Route ends with a stray comma, the instance URN is \
         not a valid UUID. The vectors keep the published F6 as an invalid message next to \
         the corrected one.",
    ),
    (
        "A15",
        "REQUIREMENTS A15: one SIP message per WS message still allows a message in several \
         frames; every receiver must reassemble (RFC 6455 §5.4) and should cap the total size \
         (§10.4).",
    ),
    (
        "A17",
        "REQUIREMENTS A17: the RFC 6455 §4.1 example key AQIDBAUGBwgJCgsMDQ4PEC== has non-zero \
         pad bits. The reference requires canonical base64 and refuses it; lenient decoders \
         accept it.",
    ),
    (
        "A18",
        "REQUIREMENTS A18: RFC 6455 mostly says only 'Fail the connection' with an appropriate \
         status code. The reference closes with 1002 for framing violations, 1007 for bad \
         UTF-8 and 1009 for size; the failure itself is required, the exact code is not \
         (1002/1007/1008 all conform).",
    ),
];

/// What the RFCs say about a test's input (Wycheproof's `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Conforming input; `expected` is the only correct answer.
    Valid,
    /// Non-conforming input; `expected` is the refusal the RFCs require.
    Invalid,
    /// The RFCs allow several answers (see the flags); `expected` is what the reference does.
    Acceptable,
}

pub use builder::Row;

/// One test as written in a group's source, its input as JSON (before its `expected` is
/// computed): what the builder (`builder::cases`) makes of a group's table.
pub type Case = Row<Value>;

/// A group of vectors: its cases and the reference function that answers them.
pub struct Group {
    /// The group name, also the file stem (`<name>.json`).
    pub name: &'static str,
    /// One sentence on what the group checks (for `--help` and the README).
    pub description: &'static str,
    pub cases: fn() -> Vec<Case>,
    /// Runs the reference implementation on one test's `input`; `Err` when the input itself
    /// is not of the group's shape.
    pub compute: fn(&Value) -> Result<Value, String>,
}

/// Every group, in the order they are generated and checked.
pub const GROUPS: &[Group] = &[
    subprotocol::GROUP,
    uri::GROUP,
    via::GROUP,
    handshake::GROUP,
    framing::GROUP,
    record_route::GROUP,
    no_connect::GROUP,
    messages::GROUP,
];

/// Looks a group up by name.
pub fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

/// One test of a vector file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Test {
    pub id: String,
    pub reqs: Vec<String>,
    pub comment: String,
    pub flags: Vec<String>,
    pub input: Value,
    pub expected: Value,
    pub result: Verdict,
}

/// A vector file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorFile {
    pub group: String,
    pub schema: String,
    pub notes: BTreeMap<String, String>,
    pub tests: Vec<Test>,
}

/// Why vectors could not be generated or checked (a usage error, exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum VectorsError {
    #[error("unknown group {0:?} (groups: {groups})", groups = group_names())]
    UnknownGroup(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a vector file: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: holds group {found:?}, expected {expected:?}")]
    WrongGroup {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("group {group}: {problem}")]
    BadGroup { group: String, problem: String },
}

fn group_names() -> String {
    GROUPS.iter().map(|g| g.name).collect::<Vec<_>>().join(", ")
}

/// Builds a group's file: computes every case's `expected` with the reference.
pub fn build(group: &Group) -> Result<VectorFile, VectorsError> {
    let bad = |problem: String| VectorsError::BadGroup {
        group: group.name.to_owned(),
        problem,
    };
    let mut seen = BTreeSet::new();
    let mut used_flags = BTreeSet::new();
    let mut tests = Vec::new();
    for case in (group.cases)() {
        let id = format!("{}/{}", group.name, case.name);
        if !seen.insert(id.clone()) {
            return Err(bad(format!("duplicate id {id}")));
        }
        for flag in case.flags {
            if !FLAGS.iter().any(|(f, _)| f == flag) {
                return Err(bad(format!("{id}: unknown flag {flag}")));
            }
            used_flags.insert(*flag);
        }
        let expected = (group.compute)(&case.input).map_err(|e| bad(format!("{id}: {e}")))?;
        tests.push(Test {
            id,
            reqs: case.reqs.iter().map(|s| (*s).to_owned()).collect(),
            comment: case.comment.to_owned(),
            flags: case.flags.iter().map(|s| (*s).to_owned()).collect(),
            input: case.input,
            expected,
            result: case.result,
        });
    }
    let notes = FLAGS
        .iter()
        .filter(|(f, _)| used_flags.contains(f))
        .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
        .collect();
    Ok(VectorFile {
        group: group.name.to_owned(),
        schema: SCHEMA_FILE.to_owned(),
        notes,
        tests,
    })
}

/// The exact bytes of a group's file: pretty JSON, two-space indent, one final newline.
pub fn render(file: &VectorFile) -> String {
    // Serializing plain structs, strings and numbers into a String cannot fail.
    let mut text = serde_json::to_string_pretty(file).unwrap_or_default();
    text.push('\n');
    text
}

fn write(path: &Path, text: &str) -> Result<(), VectorsError> {
    std::fs::write(path, text).map_err(|source| VectorsError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes every group's file and `schema.json` into `dir` (created if missing); returns the
/// paths written with their test counts (0 for the schema).
pub fn generate(dir: &Path) -> Result<Vec<(PathBuf, usize)>, VectorsError> {
    std::fs::create_dir_all(dir).map_err(|source| VectorsError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for group in GROUPS {
        let file = build(group)?;
        let path = dir.join(format!("{}.json", group.name));
        write(&path, &render(&file))?;
        written.push((path, file.tests.len()));
    }
    let schema = dir.join(SCHEMA_FILE);
    write(&schema, SCHEMA)?;
    written.push((schema, 0));
    Ok(written)
}

/// A test whose recomputed answer differs from its `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub id: String,
    /// What the reference answers now, or why the input could not be run.
    pub actual: Result<Value, String>,
    pub expected: Value,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// Tests run, per group, in order.
    pub counts: Vec<(String, usize)>,
    pub mismatches: Vec<Mismatch>,
}

impl CheckReport {
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }
}

/// Loads one group's file from `dir`.
pub fn load(dir: &Path, group: &Group) -> Result<VectorFile, VectorsError> {
    let path = dir.join(format!("{}.json", group.name));
    let text = std::fs::read_to_string(&path).map_err(|source| VectorsError::Io {
        path: path.clone(),
        source,
    })?;
    let file: VectorFile = serde_json::from_str(&text).map_err(|source| VectorsError::Json {
        path: path.clone(),
        source,
    })?;
    if file.group != group.name {
        return Err(VectorsError::WrongGroup {
            path,
            found: file.group,
            expected: group.name.to_owned(),
        });
    }
    Ok(file)
}

fn selected_groups(only: Option<&str>) -> Result<Vec<&'static Group>, VectorsError> {
    match only {
        Some(name) => {
            Ok(vec![group(name).ok_or_else(|| {
                VectorsError::UnknownGroup(name.to_owned())
            })?])
        }
        None => Ok(GROUPS.iter().collect()),
    }
}

/// Recomputes every test of the files in `dir` (all groups, or only `only`) with the
/// reference functions and compares with `expected`.
pub fn check(dir: &Path, only: Option<&str>) -> Result<CheckReport, VectorsError> {
    let mut report = CheckReport::default();
    for group in selected_groups(only)? {
        let file = load(dir, group)?;
        report
            .counts
            .push((group.name.to_owned(), file.tests.len()));
        for test in file.tests {
            let actual = (group.compute)(&test.input);
            if actual.as_ref() != Ok(&test.expected) {
                report.mismatches.push(Mismatch {
                    id: test.id,
                    actual,
                    expected: test.expected,
                });
            }
        }
    }
    Ok(report)
}

/// Whether another implementation's `got` matches the vector's `expected`: exact JSON
/// equality, except that a `parse_error` is matched on presence only (its `message` and
/// `offset` are the reference's diagnostics; error wording is implementation-specific).
pub fn answer_matches(expected: &Value, got: &Value) -> bool {
    if expected.get("parse_error").is_some() {
        return got.get("parse_error").is_some();
    }
    expected == got
}

/// Why a check could not run (usage error, exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Vectors(#[from] VectorsError),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// The outcome of [`check_verdicts`].
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Tests per group, in order.
    pub counts: Vec<(String, usize)>,
    /// One verdict per test, in file order.
    pub verdicts: Vec<CaseVerdict>,
}

/// Checks the files in `dir` (all groups, or only `only`) and gives one verdict per test:
/// recomputed by the reference (exact comparison) when `adapter` is `None`, else answered by
/// the adapter (compared with [`answer_matches`]).
pub fn check_verdicts(
    dir: &Path,
    only: Option<&str>,
    adapter: Option<&Adapter>,
) -> Result<Checked, CheckError> {
    let groups = selected_groups(only)?;
    // Load every file first: a missing or malformed file is a usage error before any run.
    let files = groups
        .iter()
        .map(|g| load(dir, g).map(|f| (*g, f)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut counts = Vec::new();
    let mut verdicts = Vec::new();
    for (group, file) in files {
        counts.push((group.name.to_owned(), file.tests.len()));
        let answers: Vec<(Answer, std::time::Duration)> = match adapter {
            None => file
                .tests
                .iter()
                .map(|t| {
                    let started = std::time::Instant::now();
                    let answer = match (group.compute)(&t.input) {
                        Ok(v) => Answer::Output(v),
                        Err(e) => Answer::Error(format!("input not usable: {e}")),
                    };
                    (answer, started.elapsed())
                })
                .collect(),
            Some(adapter) => {
                let requests: Vec<Request<'_>> = file
                    .tests
                    .iter()
                    .map(|t| Request {
                        id: &t.id,
                        input: &t.input,
                    })
                    .collect();
                adapter.answer(group.name, &requests)?
            }
        };
        for (test, (answer, took)) in file.tests.iter().zip(answers) {
            let (outcome, message) = match answer {
                Answer::Output(got) => {
                    let same = if adapter.is_some() {
                        answer_matches(&test.expected, &got)
                    } else {
                        got == test.expected
                    };
                    if same {
                        (Outcome::Pass, "matches expected".to_owned())
                    } else {
                        let who = if adapter.is_some() {
                            "the adapter gives"
                        } else {
                            "the reference gives"
                        };
                        let mut m = format!(
                            "expected {} but {who} {}",
                            compact(&test.expected),
                            compact(&got)
                        );
                        if test.result == Verdict::Acceptable {
                            m.push_str(&format!(
                                " (result acceptable: flags {} allow other answers)",
                                test.flags.join(" ")
                            ));
                        }
                        (Outcome::Fail, m)
                    }
                }
                Answer::Skip(reason) => (Outcome::Skip, reason),
                Answer::Error(why) => (Outcome::Error, why),
            };
            verdicts.push(CaseVerdict {
                case: CaseInfo {
                    id: test.id.clone(),
                    title: test.comment.clone(),
                    subject: group.name.to_owned(),
                    reqs: test.reqs.clone(),
                    level: Level::Must,
                    needs: Vec::new(),
                    location: format!("vectors/{}.json", group.name),
                },
                outcome,
                message,
                observed: None,
                duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                evidence: Vec::new(),
                invariants: Vec::new(),
            });
        }
    }
    Ok(Checked { counts, verdicts })
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
