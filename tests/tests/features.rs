//! Every Gherkin scenario of `features/` against the embedded reference server, the same run
//! `sipws test` makes: the reference must pass with no failure, warning or harness error, so a
//! change that breaks the reference or a scenario fails `cargo test`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use sipws::report::console;
use sipws::runner::{RunOptions, run};
use sipws::suite::load;
use sipws::verdict::{Outcome, Report};

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start a tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let cases = match load() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("the features do not load: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (server, target) = match sipws::embedded::start(Duration::from_secs(2)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("the embedded server does not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let run = run(cases, Arc::new(target), RunOptions::default()).await;
        server.shutdown().await;
        let report = Report::new("embedded reference server", 0, run.verdicts)
            .with_profile(run.profile)
            .with_notes(run.notes);
        let mut out = Vec::new();
        if console::write(&report, true, &mut out).is_ok() {
            print!("{}", String::from_utf8_lossy(&out));
        }
        // The case ids and outcomes are pinned: a case added, dropped or re-graded shows here.
        if let Err(diff) = sipws_tests::verdicts::check("embedded.tsv", &report.verdicts) {
            eprintln!("{diff}");
            return ExitCode::FAILURE;
        }
        let bad = report.summary.fail + report.summary.warn + report.summary.error;
        let good = report.summary.get(Outcome::Pass) + report.summary.info;
        println!(
            "features: {good} passed, {bad} failed, {} skipped",
            report.summary.skip
        );
        if bad == 0 && good > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
