//! The suite: Gherkin scenarios from `features/` (compiled into the binary, so `sipws test`
//! works from anywhere), each turned into a [`Case`] with its stable id and tags.
//!
//! Tags (`features/README.md`): `@subject:<s>` (on the feature or the scenario),
//! `@id:<short-name>` (the case id is `<subject>/<short-name>`), one or more `@req:<ID>` from
//! the requirement catalogue (`spec/requirements.md`, [`crate::catalogue`]),
//! `@level:must|should|may|info`, and `@needs:wss|udp|two-users|outbound|auth` (`auth`: the
//! profile gives a user's digest credentials; the embedded run uses a second server).

use std::collections::HashSet;

use gherkin::{GherkinEnv, StepType};
use thiserror::Error;

use crate::verdict::{CaseInfo, Level};

/// The feature files (name, text), embedded at build time by `build.rs`.
pub const FEATURES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/features.rs"));

/// One step of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStep {
    pub kind: StepType,
    /// `Given`, `When`, `Then`, `And`, `But` as written.
    pub keyword: String,
    pub text: String,
    pub docstring: Option<String>,
    pub table: Option<Vec<Vec<String>>>,
    pub line: usize,
}

/// A runnable scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub info: CaseInfo,
    pub steps: Vec<CaseStep>,
}

#[derive(Debug, Error)]
pub enum SuiteError {
    #[error("{file}: Gherkin syntax error: {message}")]
    Syntax { file: String, message: String },
    #[error("{location}: {problem}")]
    Tags { location: String, problem: String },
    #[error("case id {0} is used twice")]
    DuplicateId(String),
}

fn tag_value<'a>(tags: &'a [String], key: &str) -> Vec<&'a str> {
    tags.iter()
        .filter_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .collect()
}

/// Parse every embedded feature.
pub fn load() -> Result<Vec<Case>, SuiteError> {
    load_from(FEATURES.iter().map(|(n, t)| (n.to_string(), t.to_string())))
}

/// Parse features given as (file name, text).
pub fn load_from(
    files: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Case>, SuiteError> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (file, text) in files {
        let feature = gherkin::Feature::parse(&text, GherkinEnv::default()).map_err(|e| {
            SuiteError::Syntax {
                file: file.clone(),
                message: e.to_string(),
            }
        })?;
        let background: Vec<&gherkin::Step> = feature
            .background
            .as_ref()
            .map(|b| b.steps.iter().collect())
            .unwrap_or_default();
        for scenario in &feature.scenarios {
            let location = format!("features/{file}:{}", scenario.position.line);
            let tags: Vec<String> = feature.tags.iter().chain(&scenario.tags).cloned().collect();
            let bad = |problem: &str| SuiteError::Tags {
                location: location.clone(),
                problem: problem.to_string(),
            };
            let subject = match tag_value(&tags, "subject").as_slice() {
                [s] => s.to_string(),
                _ => {
                    return Err(bad(
                        "needs exactly one @subject:<name> (feature or scenario)",
                    ));
                }
            };
            let short = match tag_value(&tags, "id").as_slice() {
                [s] => s.to_string(),
                _ => return Err(bad("needs exactly one @id:<short-name>")),
            };
            let reqs: Vec<String> = tag_value(&tags, "req")
                .into_iter()
                .map(str::to_string)
                .collect();
            let level = match tag_value(&tags, "level").as_slice() {
                [l] => Level::parse(l)
                    .ok_or_else(|| bad("@level must be must, should, may or info"))?,
                _ => return Err(bad("needs exactly one @level:<must|should|may|info>")),
            };
            if reqs.is_empty() && level != Level::Info {
                return Err(bad("needs at least one @req:<ID> unless @level:info"));
            }
            let needs: Vec<String> = tag_value(&tags, "needs")
                .into_iter()
                .map(str::to_string)
                .collect();
            let steps: Vec<CaseStep> = background
                .iter()
                .copied()
                .chain(&scenario.steps)
                .map(|s| CaseStep {
                    kind: s.ty,
                    keyword: s.keyword.trim().to_string(),
                    text: s.value.clone(),
                    docstring: s.docstring.clone(),
                    table: s.table.as_ref().map(|t| t.rows.clone()),
                    line: s.position.line,
                })
                .collect();
            let id = format!("{subject}/{short}");
            if !seen.insert(id.clone()) {
                return Err(SuiteError::DuplicateId(id));
            }
            cases.push(Case {
                info: CaseInfo {
                    id,
                    title: scenario.name.clone(),
                    subject,
                    reqs,
                    level,
                    needs,
                    location,
                },
                steps,
            });
        }
    }
    Ok(cases)
}

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Case id prefixes (`handshake/`, `framing/unmasked`); empty = all.
    pub ids: Vec<String>,
    /// Tags that must be present (`req:7118-4.1-b`, `subject:framing`, `needs:wss`).
    pub tags: Vec<String>,
    pub levels: Vec<Level>,
    /// Case id prefixes to leave out.
    pub exclude: Vec<String>,
}

impl Filter {
    pub fn matches(&self, c: &CaseInfo) -> bool {
        let tags: Vec<String> = c
            .reqs
            .iter()
            .map(|r| format!("req:{r}"))
            .chain(c.needs.iter().map(|n| format!("needs:{n}")))
            .chain([
                format!("subject:{}", c.subject),
                format!("level:{}", c.level.as_str()),
            ])
            .collect();
        (self.ids.is_empty() || self.ids.iter().any(|p| c.id.starts_with(p.as_str())))
            && self
                .tags
                .iter()
                .all(|t| tags.iter().any(|x| x == t.trim_start_matches('@')))
            && (self.levels.is_empty() || self.levels.contains(&c.level))
            && !self.exclude.iter().any(|p| c.id.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_file_is_embedded_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("features/ exists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".feature"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FEATURES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "add new feature files to suite::FEATURES"
        );
        let cases = load().expect("the features parse and are tagged");
        assert!(!cases.is_empty());
    }

    /// Every `@req:` tag names a row of the embedded catalogue (`spec/requirements.md`): a
    /// mistyped or invented ID fails here.
    #[test]
    fn every_requirement_id_is_in_the_catalogue() {
        let catalogue = crate::catalogue::embedded();
        assert!(
            catalogue.problems().is_empty(),
            "{:#?}",
            catalogue.problems()
        );
        let cases = load().expect("features load");
        let mut cited = 0;
        let mut unknown = Vec::new();
        for c in &cases {
            for r in &c.info.reqs {
                cited += 1;
                if !catalogue.contains(r) {
                    unknown.push(format!("{} {r}", c.info.location));
                }
            }
        }
        assert!(cited > 0, "no scenario cites a requirement");
        assert!(
            unknown.is_empty(),
            "requirement IDs not in spec/requirements.md: {unknown:#?}"
        );
    }

    /// The check above catches an unknown tag (so it is not vacuous).
    #[test]
    fn an_unknown_requirement_tag_is_not_in_the_catalogue() {
        let cases = load_from([(
            "x.feature".to_string(),
            "@subject:x\nFeature: x\n  @id:a @req:7118-99-z @level:must\n  Scenario: s\n    Given x\n"
                .to_string(),
        )])
        .expect("valid feature");
        assert!(!crate::catalogue::embedded().contains(&cases[0].info.reqs[0]));
    }

    #[test]
    fn tags_are_required_and_ids_unique() {
        let f = |body: &str| {
            load_from([(
                "x.feature".to_string(),
                format!("@subject:x\nFeature: x\n{body}"),
            )])
        };
        assert!(f("  @id:a @level:must\n  Scenario: no req\n    Given x\n").is_err());
        assert!(
            f("  @id:a @req:1 @level:sometimes\n  Scenario: bad level\n    Given x\n").is_err()
        );
        assert!(f("  @req:1 @level:must\n  Scenario: no id\n    Given x\n").is_err());
        let dup = "  @id:a @req:1 @level:must\n  Scenario: one\n    Given x\n\n  @id:a @req:1 @level:must\n  Scenario: two\n    Given x\n";
        assert!(matches!(f(dup), Err(SuiteError::DuplicateId(_))));
        let ok = f("  @id:a @req:7118-4.1-b @level:should @needs:wss\n  Scenario: fine\n    Given x\n    Then y\n")
            .expect("valid");
        assert_eq!(ok[0].info.id, "x/a");
        assert_eq!(ok[0].info.level, Level::Should);
        assert_eq!(ok[0].steps.len(), 2);
        let filter = Filter {
            tags: vec!["@needs:wss".into()],
            ..Filter::default()
        };
        assert!(filter.matches(&ok[0].info));
        let filter = Filter {
            exclude: vec!["x/".into()],
            ..Filter::default()
        };
        assert!(!filter.matches(&ok[0].info));
    }
}
