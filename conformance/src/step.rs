//! The bottom layer of the harness: what a step is and how a step text finds its definition.
//!
//! A step definition is a regular expression over the step text, whatever its keyword, and an
//! async function over the world of one case. Every capture group of a pattern is named
//! (`(?<conn>\w+)`), and a step function reads its arguments by those names through [`Args`],
//! typed at the point of use ([`Args::parse`]), never by position. A step text that matches
//! no definition, or several, is a harness error naming it.
//!
//! The table is generic over the world type, so this module depends on nothing above it:
//! `world` uses [`StepError`], `steps/` builds a [`Registry`] of its definitions with the
//! [`step!`](crate::step!) macro.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use regex::Regex;

use crate::suite::CaseStep;
use crate::verdict::Level;

/// Why a step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The target broke the expectation; the case's level (capped by `cap`) decides whether
    /// that is a fail, a warn or info.
    Broken { message: String, cap: Option<Level> },
    /// The target lacks what the case needs.
    Skip(String),
    /// The harness could not do its part.
    Harness(String),
}

impl StepError {
    pub fn broken(message: impl Into<String>) -> Self {
        StepError::Broken {
            message: message.into(),
            cap: None,
        }
    }

    /// A SHOULD-strength expectation: at worst a warning, whatever the case's level.
    pub fn should(message: impl Into<String>) -> Self {
        StepError::Broken {
            message: message.into(),
            cap: Some(Level::Should),
        }
    }

    pub fn harness(message: impl Into<String>) -> Self {
        StepError::Harness(message.into())
    }
}

pub type StepResult = Result<(), StepError>;
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + Send + 'a>>;
/// A step function over the world `W`.
pub type StepFn<W> = for<'a> fn(&'a mut W, Args, &'a CaseStep) -> StepFuture<'a>;

/// One step definition: its pattern (anchored when compiled) and its function.
pub struct StepDef<W> {
    pub pattern: &'static str,
    pub run: StepFn<W>,
}

/// A step definition from its pattern and an `async fn(&mut World, Args, &CaseStep) ->
/// StepResult`, written next to the function it names.
#[macro_export]
macro_rules! step {
    ($pattern:expr, $function:path) => {
        $crate::step::StepDef {
            pattern: $pattern,
            run: |w, a, s| Box::pin($function(w, a, s)),
        }
    };
}

/// The named captures of one step text: every group of the pattern that took part in the
/// match, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Arguments from name/value pairs, for tests of step functions.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Args {
        Args {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The text of a capture, when its group took part in the match.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The text of a capture the pattern always fills.
    pub fn text(&self, name: &str) -> Result<&str, StepError> {
        self.get(name)
            .ok_or_else(|| StepError::harness(format!("the step has no argument {name:?}")))
    }

    /// A connection named by an optional capture: `main` when the step names none.
    pub fn conn(&self, name: &str) -> String {
        self.get(name)
            .filter(|s| !s.is_empty())
            .unwrap_or("main")
            .to_string()
    }

    /// A capture parsed as `T` (a status code, a byte count...).
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, StepError> {
        let text = self.text(name)?;
        text.parse()
            .map_err(|_| StepError::harness(format!("the argument {name} = {text:?} is not valid")))
    }

    /// An optional capture parsed as `T`.
    pub fn parse_opt<T: FromStr>(&self, name: &str) -> Result<Option<T>, StepError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(_) => self.parse(name).map(Some),
        }
    }

    /// Did the capture take part in the match with exactly this text?
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == Some(value)
    }
}

/// A pattern that cannot serve as a step definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    Invalid {
        pattern: &'static str,
        error: String,
    },
    /// A capture group without a name: arguments are read by name only.
    Unnamed { pattern: &'static str },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Invalid { pattern, error } => {
                write!(f, "step pattern {pattern:?} is invalid: {error}")
            }
            PatternError::Unnamed { pattern } => write!(
                f,
                "step pattern {pattern:?} has a capture group without a name"
            ),
        }
    }
}

struct Compiled<W> {
    pattern: &'static str,
    re: Regex,
    names: Vec<String>,
    run: StepFn<W>,
}

/// Every step definition of a role, compiled.
pub struct Registry<W> {
    defs: Vec<Compiled<W>>,
}

/// A step text no definition (or several) matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    None,
    Ambiguous(Vec<&'static str>),
}

/// The found definition of one step text and its arguments.
pub struct Found<'r, W> {
    def: &'r Compiled<W>,
    pub args: Args,
}

impl<W> Found<'_, W> {
    pub fn pattern(&self) -> &'static str {
        self.def.pattern
    }
}

impl<W> Registry<W> {
    /// Compile the definitions of every group; patterns are anchored at both ends.
    pub fn new(groups: &[&[StepDef<W>]]) -> Result<Registry<W>, PatternError> {
        let mut defs = Vec::new();
        for def in groups.iter().flat_map(|g| g.iter()) {
            let re =
                Regex::new(&format!("^{}$", def.pattern)).map_err(|e| PatternError::Invalid {
                    pattern: def.pattern,
                    error: e.to_string(),
                })?;
            let names: Vec<String> = re
                .capture_names()
                .skip(1)
                .map(|n| n.map(str::to_string))
                .collect::<Option<_>>()
                .ok_or(PatternError::Unnamed {
                    pattern: def.pattern,
                })?;
            defs.push(Compiled {
                pattern: def.pattern,
                re,
                names,
                run: def.run,
            });
        }
        Ok(Registry { defs })
    }

    pub fn find(&self, text: &str) -> Result<Found<'_, W>, MatchError> {
        let mut found: Vec<Found<'_, W>> = self
            .defs
            .iter()
            .filter_map(|d| {
                d.re.captures(text).map(|c| {
                    let values = d
                        .names
                        .iter()
                        .filter_map(|n| c.name(n).map(|m| (n.clone(), m.as_str().to_string())))
                        .collect();
                    Found {
                        def: d,
                        args: Args { values },
                    }
                })
            })
            .collect();
        match found.len() {
            0 => Err(MatchError::None),
            1 => Ok(found.remove(0)),
            _ => Err(MatchError::Ambiguous(
                found.iter().map(|f| f.def.pattern).collect(),
            )),
        }
    }

    /// Run a found definition.
    pub fn run<'a>(
        &self,
        found: Found<'_, W>,
        world: &'a mut W,
        step: &'a CaseStep,
    ) -> StepFuture<'a> {
        (found.def.run)(world, found.args, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u32);

    async fn add(w: &mut Counter, a: Args, _: &CaseStep) -> StepResult {
        w.0 += a.parse::<u32>("n")?;
        Ok(())
    }

    async fn named(w: &mut Counter, a: Args, _: &CaseStep) -> StepResult {
        if a.conn("conn") == "main" && a.get("conn").is_none() {
            w.0 = 100;
        }
        Ok(())
    }

    const DEFS: &[StepDef<Counter>] = &[
        step!(r"add (?<n>\d+)", add),
        step!(r#"a connection(?: "(?<conn>\w+)")?"#, named),
    ];

    fn step(text: &str) -> CaseStep {
        CaseStep {
            kind: gherkin::StepType::When,
            keyword: "When".into(),
            text: text.into(),
            line: 1,
            docstring: None,
            table: None,
        }
    }

    #[tokio::test]
    async fn named_captures_reach_the_step_typed() {
        let reg = Registry::new(&[DEFS]).expect("valid patterns");
        let mut w = Counter(0);
        let s = step("add 41");
        let found = reg.find(&s.text).expect("one match");
        assert_eq!(found.args, Args::from_pairs(&[("n", "41")]));
        reg.run(found, &mut w, &s).await.expect("runs");
        assert_eq!(w.0, 41);
        let s = step("a connection");
        let found = reg.find(&s.text).expect("one match");
        reg.run(found, &mut w, &s).await.expect("runs");
        assert_eq!(w.0, 100);
        assert_eq!(
            reg.find(r#"a connection "bob""#)
                .map(|f| f.args.conn("conn"))
                .ok(),
            Some("bob".to_string())
        );
    }

    #[test]
    fn no_match_and_ambiguity_are_reported() {
        const TWO: &[StepDef<Counter>] =
            &[step!(r"add (?<n>\d+)", add), step!(r"add (?<n>1)", add)];
        let reg = Registry::new(&[TWO]).expect("valid patterns");
        assert!(matches!(reg.find("add x"), Err(MatchError::None)));
        assert!(matches!(reg.find("add 1"), Err(MatchError::Ambiguous(p)) if p.len() == 2));
    }

    #[test]
    fn an_unnamed_group_or_a_bad_pattern_is_refused() {
        const UNNAMED: &[StepDef<Counter>] = &[step!(r"add (\d+)", add)];
        assert_eq!(
            Registry::new(&[UNNAMED]).err(),
            Some(PatternError::Unnamed {
                pattern: r"add (\d+)"
            })
        );
        const BAD: &[StepDef<Counter>] = &[step!(r"add (?<n>\d+", add)];
        assert!(matches!(
            Registry::new(&[BAD]).err(),
            Some(PatternError::Invalid { .. })
        ));
    }

    #[test]
    fn a_bad_argument_is_a_harness_error_naming_it() {
        let a = Args::from_pairs(&[("code", "2x0")]);
        assert_eq!(
            a.parse::<u16>("code"),
            Err(StepError::harness(
                "the argument code = \"2x0\" is not valid"
            ))
        );
        assert_eq!(
            a.text("missing"),
            Err(StepError::harness("the step has no argument \"missing\""))
        );
        assert_eq!(a.parse_opt::<u16>("missing"), Ok(None));
    }
}
