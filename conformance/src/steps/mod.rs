//! Step definitions: each a regular expression over the step text and an async function over
//! the [`World`]. Steps are matched by text, whatever their keyword; a step that matches no
//! definition, or more than one, is a harness error naming it.

pub mod framing;
pub mod handshake;
pub mod registrar;
pub mod routing;
pub mod sip;

use std::future::Future;
use std::pin::Pin;

use regex::Regex;

use crate::suite::CaseStep;
use crate::verdict::Level;
use crate::world::World;

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
pub type StepFn = for<'a> fn(&'a mut World, Vec<String>, &'a CaseStep) -> StepFuture<'a>;

pub struct StepDef {
    pub pattern: &'static str,
    re: Regex,
    run: StepFn,
}

pub struct Registry {
    defs: Vec<StepDef>,
}

/// A step text no definition (or several) matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    None,
    Ambiguous(Vec<&'static str>),
}

impl Registry {
    /// All step definitions of the suite. Patterns are anchored; an invalid one is a bug
    /// caught by this module's tests.
    pub fn new() -> Registry {
        let mut defs = Vec::new();
        let all = [
            handshake::STEPS,
            sip::STEPS,
            framing::STEPS,
            registrar::STEPS,
            routing::STEPS,
        ];
        for (pattern, run) in all.iter().flat_map(|s| s.iter().copied()) {
            let re = Regex::new(&format!("^{pattern}$"))
                .unwrap_or_else(|e| panic!("step pattern {pattern:?} is invalid: {e}"));
            defs.push(StepDef { pattern, re, run });
        }
        Registry { defs }
    }

    pub fn find(&self, text: &str) -> Result<(&StepDef, Vec<String>), MatchError> {
        let mut found: Vec<(&StepDef, Vec<String>)> = self
            .defs
            .iter()
            .filter_map(|d| {
                d.re.captures(text).map(|c| {
                    let args = c
                        .iter()
                        .skip(1)
                        .map(|m| m.map(|m| m.as_str().to_string()).unwrap_or_default())
                        .collect();
                    (d, args)
                })
            })
            .collect();
        match found.len() {
            0 => Err(MatchError::None),
            1 => Ok(found.remove(0)),
            _ => Err(MatchError::Ambiguous(
                found.iter().map(|(d, _)| d.pattern).collect(),
            )),
        }
    }

    pub fn run<'a>(
        &self,
        def: &StepDef,
        world: &'a mut World,
        args: Vec<String>,
        step: &'a CaseStep,
    ) -> StepFuture<'a> {
        (def.run)(world, args, step)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

/// Box an async block as a step future.
#[macro_export]
macro_rules! step {
    ($body:expr) => {
        Box::pin($body)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_and_every_feature_step_matches_exactly_one() {
        let reg = Registry::new();
        for case in crate::suite::load().expect("features load") {
            for s in &case.steps {
                match reg.find(&s.text) {
                    Ok(_) => {}
                    Err(e) => panic!(
                        "{} line {}: {:?} for {:?}",
                        case.info.location, s.line, e, s.text
                    ),
                }
            }
        }
    }
}
