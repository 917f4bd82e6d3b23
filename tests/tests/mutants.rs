//! The suite can fail: the reference server with one policy broken on purpose
//! (`sipws_reference::mutation`, feature `mutants`) must get `fail` (a MUST) or `warn` (a
//! SHOULD) on the cases that check that policy, and still `pass` cases it does not touch. A
//! suite that passes everything proves nothing; this shows each subject's cases have teeth.
//!
//! Only the named cases run, one server per mutant, all mutants at once; every wait is the
//! runner's (1 s step timeout, 10 s case timeout).

use std::sync::Arc;
use std::time::Duration;

use Outcome::{Fail, Warn};
use sipws::runner::{RunOptions, run};
use sipws::suite::{Filter, load};
use sipws::verdict::{Outcome, Verdict};
use sipws_reference::net::{Mutation, ServerConfig};

/// What the suite must report against one mutant.
struct Expectation {
    mutation: Mutation,
    /// Cases that check the broken rule and what they must report: `fail` for a MUST-level
    /// case, `warn` for a SHOULD-level one.
    broken: &'static [(&'static str, Outcome)],
    /// Cases about something else in the same subject: still `pass`.
    unaffected: &'static [&'static str],
}

const EXPECTATIONS: &[Expectation] = &[
    Expectation {
        mutation: Mutation::EchoAnySubprotocol,
        broken: &[
            ("subprotocol/upper-case-sip-only", Fail),
            ("subprotocol/foo-only-is-refused", Fail),
            ("subprotocol/gossip-only", Fail),
            ("subprotocol/no-offer-is-refused", Fail),
            ("subprotocol/sip-after-foo", Fail),
            ("subprotocol/upper-and-lower-case", Fail),
        ],
        unaffected: &[
            "subprotocol/sip-alone",
            "subprotocol/sip-before-foo",
            "handshake/valid-upgrade-is-accepted",
            "framing/ping-gets-pong",
        ],
    },
    Expectation {
        mutation: Mutation::AcceptAnyVersion,
        broken: &[
            ("handshake/version-8-names-13", Fail),
            ("handshake/version-8-status", Warn),
        ],
        unaffected: &[
            "handshake/valid-upgrade-is-accepted",
            "handshake/missing-version-is-refused",
            "handshake/two-versions-are-refused",
            "framing/ping-gets-pong",
        ],
    },
    Expectation {
        mutation: Mutation::SkipUtf8Validation,
        broken: &[
            ("framing/invalid-utf8-text", Fail),
            ("framing/invalid-utf8-in-continuation", Fail),
            ("framing/utf8-cut-at-message-end", Fail),
            ("framing/invalid-utf8-in-a-sip-header-value", Fail),
            ("framing/invalid-utf8-in-a-sip-body", Fail),
        ],
        unaffected: &[
            "framing/ping-gets-pong",
            "framing/utf8-character-split-across-fragments",
            "framing/close-with-invalid-utf8-reason",
            "handshake/valid-upgrade-is-accepted",
        ],
    },
    Expectation {
        mutation: Mutation::WsViaOnWss,
        broken: &[("via/target-via-towards-wss-is-wss", Fail)],
        unaffected: &[
            "via/target-via-towards-ws-is-ws",
            "via/target-via-has-a-fresh-branch",
            "handshake/valid-upgrade-is-accepted",
        ],
    },
    Expectation {
        mutation: Mutation::SingleRecordRoute,
        broken: &[
            ("record-route/ws-to-udp-two-record-routes", Warn),
            ("record-route/wss-to-ws-two-record-routes", Warn),
        ],
        unaffected: &[
            "record-route/ws-to-ws-record-route",
            "record-route/max-forwards-decremented",
            "handshake/valid-upgrade-is-accepted",
        ],
    },
    Expectation {
        mutation: Mutation::DeadFlowTreatedAsLive,
        broken: &[
            ("no-connect/dead-contact-invite", Fail),
            ("no-connect/dead-contact-message", Fail),
            ("no-connect/dead-contact-uri-not-dialled", Fail),
            ("no-connect/closed-flow-token-430", Fail),
        ],
        unaffected: &[
            "no-connect/live-contact-uses-the-connection",
            "no-connect/invalid-host-ws-uri",
            "handshake/valid-upgrade-is-accepted",
        ],
    },
    Expectation {
        mutation: Mutation::DuplicateFinalResponse,
        broken: &[("registrar/outbound-register-confirmed", Fail)],
        unaffected: &["handshake/valid-upgrade-is-accepted"],
    },
    Expectation {
        mutation: Mutation::BundledResponses,
        broken: &[("registrar/outbound-register-confirmed", Fail)],
        unaffected: &["handshake/valid-upgrade-is-accepted"],
    },
];

/// Runs exactly the expectation's cases against a server with its mutation.
async fn run_against(e: &Expectation) -> Vec<Verdict> {
    let ids: Vec<&str> = e
        .broken
        .iter()
        .map(|(id, _)| *id)
        .chain(e.unaffected.iter().copied())
        .collect();
    let filter = Filter {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        ..Filter::default()
    };
    let cases: Vec<_> = load()
        .expect("the embedded features parse (suite.rs tests check it)")
        .into_iter()
        // Filter ids are prefixes; the expectation names whole ids.
        .filter(|c| filter.matches(&c.info) && ids.contains(&c.info.id.as_str()))
        .collect();
    assert_eq!(
        cases.len(),
        ids.len(),
        "{:?}: every named case exists",
        e.mutation
    );
    let config = ServerConfig {
        mutation: Some(e.mutation),
        ..ServerConfig::loopback_ephemeral()
    };
    let (server, target) = sipws::embedded::start_with(config, Duration::from_secs(1))
        .await
        .expect("the mutant server binds loopback port 0");
    let verdicts = run(cases, Arc::new(target), RunOptions::default())
        .await
        .verdicts;
    server.shutdown().await;
    verdicts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutant_is_caught_and_unrelated_cases_still_pass() {
    assert_eq!(EXPECTATIONS.len(), Mutation::ALL.len());
    for m in Mutation::ALL {
        assert!(
            EXPECTATIONS.iter().any(|e| e.mutation == m),
            "{m:?} has expectations"
        );
    }
    let runs: Vec<_> = EXPECTATIONS
        .iter()
        .enumerate()
        .map(|(i, _)| tokio::spawn(async move { run_against(&EXPECTATIONS[i]).await }))
        .collect();
    let mut problems = Vec::new();
    for (e, run) in EXPECTATIONS.iter().zip(runs) {
        let verdicts = run.await.expect("a mutant's run does not panic");
        for v in &verdicts {
            let wanted = e
                .broken
                .iter()
                .find(|(id, _)| *id == v.case.id)
                .map_or(Outcome::Pass, |(_, o)| *o);
            eprintln!(
                "{:<22} {:<46} {:<5} {}",
                format!("{:?}", e.mutation),
                v.case.id,
                v.outcome.as_str(),
                v.message
            );
            if v.outcome != wanted {
                problems.push(format!(
                    "{:?}: {} reported {} (wanted {}): {}",
                    e.mutation, v.case.id, v.outcome, wanted, v.message
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
