//! Language-neutral JSON test vectors (DESIGN.md "Vectors", issue 5), in the spirit of
//! Wycheproof: one file per group, generated from the reference implementation's pure
//! functions and checked against them.
//!
//! A group is a list of [`Case`]s (stable id, requirement IDs, ambiguity flags, input, the
//! verdict on the input per the RFCs) plus a `compute` function that runs the reference code on
//! one input and returns the expected output as JSON. [`generate`] writes
//! `<group>.json` files (and `schema.json`); [`check`] recomputes every test of the files and
//! compares with their `expected`. Both use the same `compute`, so the committed files are the
//! reference's answers, and a change in the reference shows up as a diff in `vectors/`.
//!
//! Determinism: no clock, no randomness; tests keep the order they are written in; ids are
//! `<group>/<short-name>`, never positions; maps are written with sorted keys; files end with
//! one newline.

mod handshake;
mod subprotocol;
mod uri;
mod via;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The JSON Schema describing every vector file, written next to them by [`generate`].
pub const SCHEMA: &str = include_str!("schema.json");

/// The file name of [`SCHEMA`], and the `schema` field of every file.
pub const SCHEMA_FILE: &str = "schema.json";

/// The ambiguity flags (REQUIREMENTS.md §5) a test may carry, with their meaning.
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
        "A17",
        "REQUIREMENTS A17: the RFC 6455 §4.1 example key AQIDBAUGBwgJCgsMDQ4PEC== has non-zero \
         pad bits. The reference requires canonical base64 and refuses it; lenient decoders \
         accept it.",
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

/// One test as written in a group's source (before its `expected` is computed).
#[derive(Debug, Clone)]
pub struct Case {
    /// The short name; the id is `<group>/<name>`.
    pub name: &'static str,
    /// Requirement IDs (REQUIREMENTS.md).
    pub reqs: &'static [&'static str],
    pub comment: &'static str,
    /// Ambiguity flags (keys of the file's `notes`).
    pub flags: &'static [&'static str],
    pub input: Value,
    pub result: Verdict,
}

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
pub const GROUPS: &[Group] = &[subprotocol::GROUP, uri::GROUP, via::GROUP, handshake::GROUP];

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

/// Recomputes every test of the files in `dir` (all groups, or only `only`) with the
/// reference functions and compares with `expected`.
pub fn check(dir: &Path, only: Option<&str>) -> Result<CheckReport, VectorsError> {
    let groups: Vec<&Group> = match only {
        Some(name) => vec![group(name).ok_or_else(|| VectorsError::UnknownGroup(name.to_owned()))?],
        None => GROUPS.iter().collect(),
    };
    let mut report = CheckReport::default();
    for group in groups {
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

/// `sipws vectors`: generate or check the language-neutral test vectors.
#[derive(Debug, clap::Args)]
pub struct VectorsArgs {
    #[command(subcommand)]
    pub command: VectorsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VectorsCommand {
    /// Write one JSON file per group (and schema.json), computed by the reference functions.
    /// The output is byte-identical on every run.
    Generate {
        /// Directory to write into (created if missing).
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
    /// Recompute every test with the reference functions and compare with its `expected`:
    /// one line per failing id, then a summary.
    ///
    /// Exit status: 0 all match, 1 at least one mismatch, 2 usage error (unknown group,
    /// unreadable or malformed file).
    Check {
        /// Directory holding the vector files.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
        /// Check only this group (subprotocol-offers, uri-transport, via, handshake-requests).
        #[arg(long)]
        group: Option<String>,
    },
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Runs `sipws vectors ...` and returns its exit status.
pub fn run(args: &VectorsArgs) -> ExitCode {
    match &args.command {
        VectorsCommand::Generate { dir } => match generate(dir) {
            Ok(written) => {
                for (path, n) in written {
                    if n > 0 {
                        println!("{} ({n} tests)", path.display());
                    } else {
                        println!("{}", path.display());
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sipws: {e}");
                ExitCode::from(2)
            }
        },
        VectorsCommand::Check { dir, group } => match check(dir, group.as_deref()) {
            Ok(report) => {
                for m in &report.mismatches {
                    match &m.actual {
                        Ok(actual) => println!(
                            "FAIL {}: expected {} but the reference gives {}",
                            m.id,
                            compact(&m.expected),
                            compact(actual)
                        ),
                        Err(e) => println!("FAIL {}: input not usable: {e}", m.id),
                    }
                }
                let per_group = report
                    .counts
                    .iter()
                    .map(|(g, n)| format!("{g} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                println!(
                    "{} tests ({per_group}): {} match, {} mismatch",
                    report.total(),
                    report.total() - report.mismatches.len(),
                    report.mismatches.len()
                );
                if report.mismatches.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("sipws: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// Reads a string field of a test input.
fn input_str<'a>(input: &'a Value, field: &str) -> Result<&'a str, String> {
    input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("input needs a string field {field:?}"))
}
