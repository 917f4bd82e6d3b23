//! A target that dies in the middle of a run: the cases that can no longer connect are
//! harness errors that say the target went down and which case found out first, and the run
//! carries one note saying so, instead of a wall of "Connection refused".

use std::sync::Arc;
use std::time::Duration;

use sipws::runner::{RunOptions, run_reporting};
use sipws::suite::load;
use sipws::verdict::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_stops_mid_run_is_named_in_one_note() {
    let cases: Vec<_> = load()
        .expect("the features load")
        .into_iter()
        .filter(|c| c.info.id.starts_with("subprotocol/") || c.info.id.starts_with("handshake/"))
        .filter(|c| c.info.needs.is_empty())
        .take(16)
        .collect();
    assert!(cases.len() >= 8, "enough cases to outlive the server");
    let (server, target) = sipws::embedded::start(Duration::from_millis(500))
        .await
        .expect("the embedded server starts on loopback port 0");
    let mut server = Some(server);
    let options = RunOptions {
        concurrency: 1,
        case_timeout: Duration::from_secs(5),
    };
    // The server goes away as soon as the first case has finished.
    let run = run_reporting(cases, Arc::new(target), options, &mut |_| {
        if let Some(s) = server.take() {
            tokio::spawn(s.shutdown());
        }
    })
    .await;
    let refused: Vec<_> = run
        .verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Error && v.message.contains("connecting to"))
        .collect();
    assert!(!refused.is_empty(), "later cases could not connect");
    for v in &refused {
        assert!(
            v.message
                .starts_with("the target had stopped accepting connections (first seen in "),
            "{}: {}",
            v.case.id,
            v.message
        );
    }
    assert_eq!(run.notes.len(), 1, "{:?}", run.notes);
    assert!(
        run.notes[0].contains("the target stopped accepting connections during the run"),
        "{}",
        run.notes[0]
    );
}
