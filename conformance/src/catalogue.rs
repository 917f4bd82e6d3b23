//! The requirement catalogue (`spec/requirements.md`), embedded in the binary so that every
//! report can print a requirement ID with its clause and text, wherever `sipws` runs.
//!
//! A requirement row is a line of a Markdown table whose header row is
//! `| ID | § | Role | Level | Requirement (paraphrase) | Black-box check | Testable |`. Parsing is
//! pure ([`Catalogue::parse`]) and never fails as a whole: a malformed or repeated row is kept
//! out and reported as a [`CatalogueError`] in [`Catalogue::problems`], and the rest of the
//! catalogue stays usable. The embedded copy is parsed once ([`embedded`]); a unit test holds
//! it to zero problems, so a broken row fails `cargo test`, never a run.

use std::collections::HashMap;
use std::sync::LazyLock;

use thiserror::Error;

/// The catalogue's text, as committed.
pub const SOURCE: &str = include_str!("../../spec/requirements.md");

/// The header cells that open a requirement table.
const HEADER: [&str; 7] = [
    "ID",
    "§",
    "Role",
    "Level",
    "Requirement (paraphrase)",
    "Black-box check",
    "Testable",
];

/// One row of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `7118-4.1-b`: RFC number, section, letter.
    pub id: String,
    /// The RFC the ID names: `RFC 7118`.
    pub rfc: String,
    /// The section column as written, without a leading `RFC nnnn §` that repeats the ID's
    /// RFC: `4.1`, `4.2.1 (5)`, `App. A.1`, `4.1 + RFC 6455 §4.2.2`.
    pub section: String,
    /// Who the clause binds: `WS server`, `WS client`, `proxy`, `any`, ...
    pub role: String,
    /// The RFC 2119 keyword as written (`MUST`, `SHOULD / MAY`, `derived MUST`, ...).
    pub level: String,
    /// The requirement, paraphrased.
    pub text: String,
    /// How a black-box test observes it.
    pub check: String,
    /// `S`, `C`, `U`, `P`, with `(cfg)` when configuration is needed.
    pub testable: String,
    /// Line of `spec/requirements.md` the row is on (1-based).
    pub line: usize,
}

impl Requirement {
    /// The clause for a reader: `RFC 7118 §4.1`, `RFC 7118 App. A.1`,
    /// `RFC 7118 §4.1 + RFC 6455 §4.2.2`.
    pub fn clause(&self) -> String {
        if self.section.starts_with("App.") {
            format!("{} {}", self.rfc, self.section)
        } else {
            format!("{} §{}", self.rfc, self.section)
        }
    }

    /// One line for listings and reports: `7118-4.1-b — RFC 7118 §4.1: A 101 answer ...`.
    pub fn describe(&self) -> String {
        format!("{} — {}: {}", self.id, self.clause(), self.text)
    }
}

/// A row the parser kept out of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogueError {
    #[error("line {line}: a requirement row needs 7 cells, this one has {found}")]
    Cells { line: usize, found: usize },
    #[error(
        "line {line}: {id:?} is not a requirement ID (<rfc>-<section>-<letter>, e.g. 7118-4.1-b)"
    )]
    BadId { line: usize, id: String },
    #[error("line {line}: requirement {id} has an empty {column} cell")]
    EmptyCell {
        line: usize,
        id: String,
        column: &'static str,
    },
    #[error("line {line}: requirement {id} is already defined on line {first}")]
    Duplicate {
        line: usize,
        id: String,
        first: usize,
    },
}

/// The parsed catalogue: rows in file order, an index by ID, and the rows kept out.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    rows: Vec<Requirement>,
    index: HashMap<String, usize>,
    problems: Vec<CatalogueError>,
}

/// The cells of a table line (`| a | b |` gives `["a", "b"]`), or `None` for a line that is no
/// table row.
fn cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(str::trim).collect())
}

fn is_separator(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

/// `7118-4.1-b`: digits, a section of letters, digits and dots, a lower-case letter suffix.
/// Returns the RFC number.
fn rfc_of(id: &str) -> Option<&str> {
    let mut parts = id.splitn(3, '-');
    let (rfc, section, letter) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = !rfc.is_empty()
        && rfc.bytes().all(|b| b.is_ascii_digit())
        && !section.is_empty()
        && section
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && !letter.is_empty()
        && letter.bytes().all(|b| b.is_ascii_lowercase());
    ok.then_some(rfc)
}

impl Catalogue {
    /// Parse a catalogue in the format of `spec/requirements.md`.
    pub fn parse(text: &str) -> Catalogue {
        let mut cat = Catalogue::default();
        let mut in_table = false;
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let Some(row) = cells(line) else {
                in_table = false;
                continue;
            };
            if row == HEADER {
                in_table = true;
                continue;
            }
            if !in_table || is_separator(&row) {
                continue;
            }
            match Self::row(&row, line_no) {
                Ok(req) => match cat.index.get(&req.id) {
                    Some(&first) => cat.problems.push(CatalogueError::Duplicate {
                        line: line_no,
                        id: req.id,
                        first: cat.rows[first].line,
                    }),
                    None => {
                        cat.index.insert(req.id.clone(), cat.rows.len());
                        cat.rows.push(req);
                    }
                },
                Err(e) => cat.problems.push(e),
            }
        }
        cat
    }

    fn row(row: &[&str], line: usize) -> Result<Requirement, CatalogueError> {
        let [id, section, role, level, text, check, testable] = row else {
            return Err(CatalogueError::Cells {
                line,
                found: row.len(),
            });
        };
        let rfc = rfc_of(id).ok_or_else(|| CatalogueError::BadId {
            line,
            id: id.to_string(),
        })?;
        for (column, value) in [
            ("§", section),
            ("Role", role),
            ("Level", level),
            ("Requirement", text),
            ("Testable", testable),
        ] {
            if value.is_empty() {
                return Err(CatalogueError::EmptyCell {
                    line,
                    id: id.to_string(),
                    column,
                });
            }
        }
        let rfc = format!("RFC {rfc}");
        // `RFC 7936 §2` in the row of 7936-2-a says no more than the ID's own RFC.
        let section = section
            .strip_prefix(&format!("{rfc} §"))
            .unwrap_or(section)
            .to_string();
        Ok(Requirement {
            id: id.to_string(),
            rfc,
            section,
            role: role.to_string(),
            level: level.to_string(),
            text: text.to_string(),
            check: check.to_string(),
            testable: testable.to_string(),
            line,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.index.get(id).map(|&i| &self.rows[i])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Every row, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Requirement> {
        self.rows.iter()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows kept out, with the reason (empty for a well-formed catalogue).
    pub fn problems(&self) -> &[CatalogueError] {
        &self.problems
    }
}

static EMBEDDED: LazyLock<Catalogue> = LazyLock::new(|| {
    let cat = Catalogue::parse(SOURCE);
    for p in cat.problems() {
        tracing::warn!("spec/requirements.md: {p}");
    }
    cat
});

/// The catalogue compiled into this binary, parsed on first use.
pub fn embedded() -> &'static Catalogue {
    &EMBEDDED
}

/// The embedded row for `id`, if the catalogue has one.
pub fn lookup(id: &str) -> Option<&'static Requirement> {
    embedded().get(id)
}

/// `id — clause: text` for a report line, or a plain note when the catalogue lacks the ID.
pub fn describe(id: &str) -> String {
    match lookup(id) {
        Some(r) => r.describe(),
        None => format!("{id} — not in the requirement catalogue"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "| ID | § | Role | Level | Requirement (paraphrase) | Black-box check | Testable |\n|---|---|---|---|---|---|---|\n";

    #[test]
    fn the_embedded_catalogue_parses_without_a_problem() {
        let cat = embedded();
        assert!(cat.problems().is_empty(), "{:#?}", cat.problems());
        // §1 alone has 44 rows; every section together far more.
        assert!(cat.len() > 150, "only {} rows", cat.len());
        let r = cat.get("7118-4.1-b").expect("7118-4.1-b is a row");
        assert_eq!(r.rfc, "RFC 7118");
        assert_eq!(r.section, "4.1");
        assert_eq!(r.clause(), "RFC 7118 §4.1");
        assert_eq!(r.role, "WS server");
        assert_eq!(r.level, "MUST");
        assert!(r.text.contains("`sip`"), "{}", r.text);
        assert!(r.check.contains("101"), "{}", r.check);
        assert_eq!(r.testable, "S");
    }

    #[test]
    fn rows_folded_in_from_the_former_extra_file_are_there() {
        for id in [
            "3261-10.3-a",
            "3261-10.3-e",
            "3261-16.3-a",
            "3261-16.6-e",
            "3261-22.1-a",
            "3261-22.4-a",
            "6455-10-a",
            "8760-2.4-a",
        ] {
            assert!(embedded().contains(id), "{id} missing");
        }
        assert_eq!(
            lookup("8760-2.4-a").map(Requirement::clause).as_deref(),
            Some("RFC 8760 §2.4")
        );
    }

    /// Every line of the file that looks like a requirement row became exactly one row: none
    /// sits outside a requirement table, none repeats an ID.
    #[test]
    fn every_row_of_the_file_is_one_unique_requirement() {
        let looks_like_rows = SOURCE
            .lines()
            .filter(|l| {
                l.strip_prefix("| ")
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count();
        let mut seen = std::collections::HashSet::new();
        for r in embedded().iter() {
            assert!(seen.insert(r.id.as_str()), "{} twice", r.id);
        }
        assert_eq!(seen.len(), looks_like_rows);
    }

    #[test]
    fn clauses_read_naturally() {
        let cat = Catalogue::parse(&format!(
            "{HEAD}| 7936-2-a | RFC 7936 §2 | any | def | Tokens match case-sensitively. | c | S C |\n\
             | 7118-A.1-a | App. A.1 | WS server | guideline | t | c | S (cfg) |\n\
             | 7118-4.1-c | 4.1 + RFC 6455 §4.2.2 | WS server | derived MUST | t | c | S |\n"
        ));
        assert!(cat.problems().is_empty(), "{:?}", cat.problems());
        let clause = |id| cat.get(id).map(Requirement::clause);
        assert_eq!(clause("7936-2-a").as_deref(), Some("RFC 7936 §2"));
        assert_eq!(clause("7118-A.1-a").as_deref(), Some("RFC 7118 App. A.1"));
        assert_eq!(
            clause("7118-4.1-c").as_deref(),
            Some("RFC 7118 §4.1 + RFC 6455 §4.2.2")
        );
        assert_eq!(
            cat.get("7936-2-a").map(Requirement::describe).as_deref(),
            Some("7936-2-a — RFC 7936 §2: Tokens match case-sensitively.")
        );
    }

    #[test]
    fn a_malformed_row_is_reported_and_the_others_are_kept() {
        let text = format!(
            "# t\n\n{HEAD}| 7118-4.1-a | 4.1 | WS client | MUST | good | c | C |\n\
             | 7118-4.1-z | 4.1 | only three |\n\
             | not-an-id | 4.1 | r | MUST | t | c | S |\n\
             | 7118-4.2-a | | r | MUST | t | c | S |\n\
             | 7118-4.1-a | 4.1 | again | MUST | t | c | S |\n\
             | 7118-5-a | 5 | any | MUST | also good | c | S C |\n"
        );
        let cat = Catalogue::parse(&text);
        let ids: Vec<&str> = cat.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["7118-4.1-a", "7118-5-a"]);
        assert_eq!(
            cat.problems(),
            [
                CatalogueError::Cells { line: 6, found: 3 },
                CatalogueError::BadId {
                    line: 7,
                    id: "not-an-id".into()
                },
                CatalogueError::EmptyCell {
                    line: 8,
                    id: "7118-4.2-a".into(),
                    column: "§"
                },
                CatalogueError::Duplicate {
                    line: 9,
                    id: "7118-4.1-a".into(),
                    first: 5
                },
            ]
        );
        assert_eq!(
            cat.problems()[3].to_string(),
            "line 9: requirement 7118-4.1-a is already defined on line 5"
        );
    }

    #[test]
    fn only_rows_of_requirement_tables_count() {
        // The sources table of §0 and prose with pipes are not requirement rows; a table ends
        // at the first line that is not a row.
        let text = format!(
            "| Document | Source | Notes |\n|---|---|---|\n| RFC 7118 | mirror | n |\n\n\
             {HEAD}| 7118-5-a | 5 | any | MUST | t | c | S |\n\ntext\n| 7118-5-b | 5 | any | MUST | t | c | S |\n"
        );
        let cat = Catalogue::parse(&text);
        let ids: Vec<&str> = cat.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["7118-5-a"]);
        assert!(cat.problems().is_empty());
    }

    /// Every `reqs` ID of the committed vectors (`vectors/*.json`) names a row.
    #[test]
    fn every_vector_requirement_id_is_in_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("vectors/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name().is_some_and(|n| n != "schema.json")
            })
            .collect();
        files.sort();
        assert!(files.len() >= 8, "vector files: {files:?}");
        let (mut cited, mut unknown) = (0, Vec::new());
        for path in &files {
            let text = std::fs::read_to_string(path).expect("vector file is readable");
            let group: serde_json::Value =
                serde_json::from_str(&text).expect("vector file is JSON");
            let tests = group["tests"].as_array().expect("a tests array");
            for t in tests {
                for r in t["reqs"].as_array().expect("a reqs array") {
                    let id = r.as_str().expect("reqs are strings");
                    cited += 1;
                    if !embedded().contains(id) {
                        unknown.push(format!("{} {}: {id}", path.display(), t["id"]));
                    }
                }
            }
        }
        assert!(cited > 0, "no vector cites a requirement");
        assert!(
            unknown.is_empty(),
            "not in spec/requirements.md: {unknown:#?}"
        );
    }

    #[test]
    fn an_unknown_id_is_described_plainly() {
        assert_eq!(
            describe("9999-1-a"),
            "9999-1-a — not in the requirement catalogue"
        );
        assert!(describe("7118-4.1-b").starts_with("7118-4.1-b — RFC 7118 §4.1: "));
    }
}
