//! `sipws vectors generate|check`: the command line over [`super::generate`] and
//! [`super::check_verdicts`], with its console, JSON and JUnit output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::adapter::{self, Adapter, Mode};
use super::{Checked, check_verdicts, generate};
use crate::report::{console, junit, write_json};
use crate::verdict::{Outcome, Report};

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
    /// Compare every test's answer with its `expected`: recomputed by the reference functions,
    /// or (with --adapter) given by another implementation through the adapter protocol
    /// (vectors/README.md, "Using the vectors from another implementation").
    ///
    /// Exit status: 0 all match (skips allowed), 1 at least one mismatch or adapter error,
    /// 2 usage error (unknown group, unreadable or malformed file, adapter command missing or
    /// not executable).
    Check {
        /// Directory holding the vector files.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
        /// Check only this group (subprotocol-offers, uri-transport, via, handshake-requests).
        #[arg(long)]
        group: Option<String>,
        /// Let another implementation answer: a command line, split on whitespace and run
        /// without a shell, with the group name appended as its last argument.
        #[arg(long, value_name = "CMD")]
        adapter: Option<String>,
        /// Run the adapter once per test (its single request line on stdin) instead of once
        /// per group.
        #[arg(long, requires = "adapter")]
        per_test: bool,
        /// Seconds an adapter may take for one test (from its previous answer).
        #[arg(long, value_name = "SECS", default_value_t = adapter::DEFAULT_TEST_TIMEOUT.as_secs_f64())]
        test_timeout: f64,
        /// Seconds an adapter may take for a whole group.
        #[arg(long, value_name = "SECS", default_value_t = adapter::DEFAULT_GROUP_TIMEOUT.as_secs_f64())]
        group_timeout: f64,
        /// Also write the JSON report here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also write a JUnit XML report here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
}

fn seconds(name: &str, s: f64) -> Result<std::time::Duration, String> {
    std::time::Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("--{name} must be a positive number of seconds, not {s}"))
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
        VectorsCommand::Check {
            dir,
            group,
            adapter,
            per_test,
            test_timeout,
            group_timeout,
            json,
            junit,
        } => {
            let adapter = match adapter {
                None => None,
                Some(command) => {
                    let mode = if *per_test {
                        Mode::PerTest
                    } else {
                        Mode::Streaming
                    };
                    let timeouts = seconds("test-timeout", *test_timeout)
                        .and_then(|t| Ok((t, seconds("group-timeout", *group_timeout)?)));
                    let (test_timeout, group_timeout) = match timeouts {
                        Ok(t) => t,
                        Err(e) => {
                            eprintln!("sipws: {e}");
                            return ExitCode::from(2);
                        }
                    };
                    match Adapter::new(command, mode) {
                        Ok(mut a) => {
                            a.test_timeout = test_timeout;
                            a.group_timeout = group_timeout;
                            Some(a)
                        }
                        Err(e) => {
                            eprintln!("sipws: {e}");
                            return ExitCode::from(2);
                        }
                    }
                }
            };
            let started = std::time::Instant::now();
            let Checked { counts, verdicts } =
                match check_verdicts(dir, group.as_deref(), adapter.as_ref()) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("sipws: {e}");
                        return ExitCode::from(2);
                    }
                };
            let target = match &adapter {
                Some(a) => format!("adapter: {}", a.command),
                None => "reference implementation".to_owned(),
            };
            let report = Report::new(
                target,
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                verdicts,
            );
            print_check(&report, &counts, adapter.is_some());
            if let Err(e) = write_reports(&report, json.as_deref(), junit.as_deref()) {
                eprintln!("sipws: {e}");
                return ExitCode::from(2);
            }
            ExitCode::from(report.exit_code())
        }
    }
}

/// The console output of `check`: with an adapter, the suite's console report; for the
/// reference, one `FAIL <id>: ...` line per mismatch. Both end with a one-line summary.
fn print_check(report: &Report, counts: &[(String, usize)], with_adapter: bool) {
    if with_adapter {
        let stdout = std::io::stdout();
        if let Err(e) = console::write(report, false, &mut stdout.lock()) {
            eprintln!("sipws: writing the report: {e}");
        }
    } else {
        for v in report
            .verdicts
            .iter()
            .filter(|v| v.outcome != Outcome::Pass)
        {
            println!("FAIL {}: {}", v.case.id, v.message);
        }
    }
    let per_group = counts
        .iter()
        .map(|(g, n)| format!("{g} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let s = &report.summary;
    let bad = s.total() - s.pass - s.skip;
    if with_adapter {
        println!(
            "{} tests ({per_group}): {} match, {} mismatch, {} skipped, {} errors",
            s.total(),
            s.pass,
            s.fail,
            s.skip,
            s.error
        );
    } else {
        println!(
            "{} tests ({per_group}): {} match, {bad} mismatch",
            s.total(),
            s.pass
        );
    }
}

fn write_reports(
    report: &Report,
    json: Option<&Path>,
    junit_path: Option<&Path>,
) -> Result<(), String> {
    use std::io::Write as _;
    let create = |path: &Path| {
        std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .map_err(|e| format!("creating {}: {e}", path.display()))
    };
    if let Some(path) = json {
        let mut f = create(path)?;
        write_json(report, &mut f)
            .and_then(|()| f.flush())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if let Some(path) = junit_path {
        let mut f = create(path)?;
        junit::write(report, &mut f)
            .and_then(|()| f.flush())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}
