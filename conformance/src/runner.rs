//! Runs cases against a target, concurrently, each within a time bound, and turns what the
//! steps found into verdicts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::discover;
use crate::profile::Profile;
use crate::step::{MatchError, PatternError, Registry, StepError};
use crate::suite::Case;
use crate::target::Target;
use crate::verdict::{Outcome, Verdict};
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
    Verdict {
        case: case.info,
        outcome,
        message,
        observed,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        evidence: world.into_evidence(),
    }
}

/// What a run found: the target's profile, probed before the cases, and one verdict per case
/// in the cases' order.
#[derive(Debug, Clone)]
pub struct Run {
    pub profile: Profile,
    pub verdicts: Vec<Verdict>,
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
    while let Some(joined) = set.join_next().await {
        if let Ok((i, v)) = joined {
            on_verdict(&v);
            verdicts[i] = Some(v);
        }
    }
    Run {
        profile: Arc::unwrap_or_clone(profile),
        verdicts: verdicts.into_iter().flatten().collect(),
    }
}
