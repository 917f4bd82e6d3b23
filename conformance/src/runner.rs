//! Runs cases against a target, concurrently, each within a time bound, and turns what the
//! steps found into verdicts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::discover;
use crate::judge::invariants;
use crate::profile::Profile;
use crate::step::{MatchError, PatternError, Registry, StepError};
use crate::suite::Case;
use crate::target::Target;
use crate::verdict::{Outcome, Verdict, Violation};
use crate::world::World;

#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Cases in flight at once: waits for "nothing must arrive" overlap instead of adding up.
    pub concurrency: usize,
    /// A case that has not finished by then is a harness error.
    pub case_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 32,
            case_timeout: Duration::from_secs(10),
        }
    }
}

/// Run one case to its verdict.
pub async fn run_case(
    case: Case,
    target: Arc<Target>,
    registry: Arc<Result<Registry<World>, PatternError>>,
    profile: Arc<Profile>,
    options: RunOptions,
) -> Verdict {
    let started = Instant::now();
    let missing = profile.missing(&case.info.needs);
    // The embedded run tests authentication on a second server (target.rs, TargetAuth).
    let target = match &target.auth {
        Some(crate::target::TargetAuth {
            target: Some(other),
            ..
        }) if case.info.needs.iter().any(|n| n == "auth") => other.clone(),
        _ => target,
    };
    let mut world = World::new(target.clone()).with_profile(profile);
    let result: Result<(), StepError> = if let Some(reason) = missing {
        Err(StepError::Skip(reason))
    } else {
        let steps = case.steps.clone();
        let run = async {
            // The patterns are constants; one that does not compile fails every case with
            // its name rather than stopping the run.
            let registry = registry
                .as_ref()
                .as_ref()
                .map_err(|e| StepError::harness(e.to_string()))?;
            for step in &steps {
                let found = registry.find(&step.text).map_err(|e| match e {
                    MatchError::None => StepError::harness(format!(
                        "no step definition matches line {}: {:?}",
                        step.line, step.text
                    )),
                    MatchError::Ambiguous(p) => StepError::harness(format!(
                        "line {} matches several step definitions: {p:?}",
                        step.line
                    )),
                })?;
                registry
                    .run(found, &mut world, step)
                    .await
                    .map_err(|e| match e {
                        StepError::Broken { message, cap } => StepError::Broken {
                            message: format!("{} {} — {message}", step.keyword, step.text),
                            cap,
                        },
                        other => other,
                    })?;
            }
            Ok(())
        };
        match tokio::time::timeout(options.case_timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(StepError::harness(format!(
                "the case did not finish within {} ms",
                options.case_timeout.as_millis()
            ))),
        }
    };
    let (outcome, message) = match result {
        Ok(()) => (Outcome::Pass, format!("{} steps passed", case.steps.len())),
        Err(StepError::Broken { message, cap }) => {
            // The weaker of the case's level and the step's own modality decides.
            let level = match cap {
                Some(c) if c > case.info.level => c,
                _ => case.info.level,
            };
            (level.broken(), message)
        }
        Err(StepError::Skip(reason)) => (Outcome::Skip, reason),
        Err(StepError::Harness(reason)) => (Outcome::Error, reason),
    };
    let observed = (!world.observed.is_empty()).then(|| world.observed.join("; "));
    if !matches!(outcome, Outcome::Skip) {
        world.drain_wire(Duration::from_millis(20)).await;
    }
    let invariants: Vec<Violation> = world
        .wire_connections()
        .iter()
        .flat_map(invariants::check)
        .collect();
    let (outcome, message) = with_invariants(outcome, message, &invariants);
    Verdict {
        case: case.info,
        outcome,
        message,
        observed,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        evidence: world.into_evidence(),
        invariants,
    }
}

/// A case whose steps passed (or only warned or observed) but in which the target broke a
/// whole-wire invariant takes that invariant's verdict, and says which one first. Skips,
/// harness errors and failures keep theirs; the invariants are listed with the verdict in
/// every case.
pub fn with_invariants(
    outcome: Outcome,
    message: String,
    broken: &[Violation],
) -> (Outcome, String) {
    let Some(worst) = broken.iter().min_by_key(|v| v.level) else {
        return (outcome, message);
    };
    let demoted = match (outcome, worst.level.broken()) {
        (Outcome::Pass | Outcome::Info | Outcome::Warn, Outcome::Fail) => Outcome::Fail,
        (Outcome::Pass | Outcome::Info, Outcome::Warn) => Outcome::Warn,
        (o, _) => o,
    };
    if demoted == outcome {
        return (outcome, message);
    }
    let more = match broken.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    (
        demoted,
        format!(
            "whole-wire invariant {} broken: {}{more}",
            worst.req, worst.message
        ),
    )
}

/// What a run found: the target's profile, probed before the cases, and one verdict per case
/// in the cases' order.
#[derive(Debug, Clone)]
pub struct Run {
    pub profile: Profile,
    pub verdicts: Vec<Verdict>,
    /// What the run as a whole showed beyond the verdicts (the target went down mid-run).
    pub notes: Vec<String>,
}

/// The harness errors of a run whose cause is that the target stopped accepting connections:
/// given the verdicts in the order the cases finished, marks each connection error as such
/// and returns the note naming the first case that found the target gone. Called only when
/// the target no longer accepts a connection after the run.
pub fn note_target_down(verdicts: &mut [&mut Verdict]) -> Option<String> {
    let mut first: Option<String> = None;
    let mut count = 0;
    for v in verdicts.iter_mut() {
        if v.outcome != Outcome::Error || !v.message.contains("connecting to") {
            continue;
        }
        count += 1;
        let first = first.get_or_insert_with(|| v.case.id.clone());
        v.message = format!(
            "the target had stopped accepting connections (first seen in {first}): {}",
            v.message
        );
    }
    first.map(|first| {
        format!(
            "the target stopped accepting connections during the run: {count} case(s) could not connect, the first of them {first}; the verdicts of cases that finished before it stand"
        )
    })
}

/// Does the target still accept a connection (its ws:// endpoint, else its wss:// one)?
async fn still_up(target: &Target) -> bool {
    let secure = target.ws.is_none();
    matches!(
        tokio::time::timeout(target.timeout, target.connect(secure)).await,
        Ok(Ok(_))
    )
}

/// Probe the target, then run every case.
pub async fn run(cases: Vec<Case>, target: Arc<Target>, options: RunOptions) -> Run {
    run_reporting(cases, target, options, &mut |_| {}).await
}

/// [`run`], telling `on_verdict` about each case as it finishes (for a progress bar).
pub async fn run_reporting(
    cases: Vec<Case>,
    target: Arc<Target>,
    options: RunOptions,
    on_verdict: &mut (dyn FnMut(&Verdict) + Send),
) -> Run {
    let profile = Arc::new(discover::discover(target.clone()).await);
    let registry = Arc::new(crate::steps::registry());
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut set = JoinSet::new();
    let count = cases.len();
    for (i, case) in cases.into_iter().enumerate() {
        let (target, registry, limit) = (target.clone(), registry.clone(), limit.clone());
        let profile = profile.clone();
        set.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = limit.acquire_owned().await;
            (i, run_case(case, target, registry, profile, options).await)
        });
    }
    let mut verdicts: Vec<Option<Verdict>> = (0..count).map(|_| None).collect();
    let mut finished = Vec::with_capacity(count);
    while let Some(joined) = set.join_next().await {
        if let Ok((i, v)) = joined {
            on_verdict(&v);
            verdicts[i] = Some(v);
            finished.push(i);
        }
    }
    let mut notes = Vec::new();
    let errors = verdicts
        .iter()
        .flatten()
        .any(|v| v.outcome == Outcome::Error);
    if errors && !still_up(&target).await {
        let mut in_order: Vec<&mut Verdict> = Vec::with_capacity(finished.len());
        let mut slots: Vec<Option<&mut Verdict>> =
            verdicts.iter_mut().map(|v| v.as_mut()).collect();
        for i in finished {
            if let Some(v) = slots.get_mut(i).and_then(Option::take) {
                in_order.push(v);
            }
        }
        notes.extend(note_target_down(&mut in_order));
    }
    Run {
        profile: Arc::unwrap_or_clone(profile),
        verdicts: verdicts.into_iter().flatten().collect(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{CaseInfo, Level};

    fn verdict(id: &str, outcome: Outcome, message: &str) -> Verdict {
        Verdict {
            case: CaseInfo {
                id: id.into(),
                title: "t".into(),
                subject: "s".into(),
                reqs: Vec::new(),
                level: Level::Must,
                needs: Vec::new(),
                location: "features/x.feature:1".into(),
            },
            outcome,
            message: message.into(),
            observed: None,
            duration_ms: 1,
            evidence: Vec::new(),
            invariants: Vec::new(),
        }
    }

    #[test]
    fn a_broken_invariant_fails_a_passing_case_and_names_itself() {
        let v = |req, level| Violation {
            req,
            level,
            message: "m".into(),
        };
        let (o, m) = with_invariants(
            Outcome::Pass,
            "3 steps passed".into(),
            &[v("3261-17.2-a", Level::Must)],
        );
        assert_eq!(o, Outcome::Fail);
        assert_eq!(m, "whole-wire invariant 3261-17.2-a broken: m");
        let (o, _) = with_invariants(Outcome::Warn, "w".into(), &[v("x", Level::Must)]);
        assert_eq!(o, Outcome::Fail);
        let (o, m) = with_invariants(Outcome::Fail, "f".into(), &[v("x", Level::Must)]);
        assert_eq!((o, m.as_str()), (Outcome::Fail, "f"));
        let (o, _) = with_invariants(Outcome::Skip, "s".into(), &[v("x", Level::Must)]);
        assert_eq!(o, Outcome::Skip);
        let (o, m) = with_invariants(Outcome::Pass, "ok".into(), &[]);
        assert_eq!((o, m.as_str()), (Outcome::Pass, "ok"));
    }

    #[test]
    fn a_target_that_died_is_named_once_with_the_first_case_that_found_out() {
        let refused = "ws://127.0.0.1:9: connecting to 127.0.0.1:9: Connection refused";
        let mut a = verdict("framing/a", Outcome::Pass, "ok");
        let mut b = verdict("framing/b", Outcome::Error, refused);
        let mut c = verdict(
            "framing/c",
            Outcome::Error,
            "the case did not finish in time",
        );
        let mut d = verdict("framing/d", Outcome::Error, refused);
        let note = note_target_down(&mut [&mut a, &mut b, &mut c, &mut d]).expect("a note");
        assert!(
            note.contains("2 case(s) could not connect, the first of them framing/b"),
            "{note}"
        );
        assert!(
            b.message.starts_with(
                "the target had stopped accepting connections (first seen in framing/b)"
            )
        );
        assert!(d.message.contains("first seen in framing/b"));
        assert_eq!(c.message, "the case did not finish in time");
        assert_eq!(a.message, "ok");
        let mut e = verdict("framing/e", Outcome::Fail, "broken");
        assert_eq!(note_target_down(&mut [&mut e]), None);
    }
}
