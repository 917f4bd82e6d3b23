//! `sipws vectors check --adapter`: the adapter protocol, proven on the Python
//! implementation in `vectors/adapters/python/`, its deliberately wrong variant, and adapters
//! that misbehave (garbage, early exit, wrong id, hang) — which must give `error` verdicts and
//! exit 1, never a hang — and missing commands (exit 2).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sipws::vectors::{answer_matches, generate};

const RIGHT: &str = "sipws_adapter.py";
const WRONG: &str = "sipws_adapter_wrong.py";
/// The groups the Python adapter implements.
const IMPLEMENTED: [&str; 2] = ["subprotocol-offers", "uri-transport"];

fn adapters_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/adapters/python")
}

/// python3, found with `which` at test time (it is on every machine of this project).
fn python3() -> String {
    let out = Command::new("which")
        .arg("python3")
        .output()
        .expect("running `which python3`");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success() && !path.is_empty(),
        "python3 is not on PATH: these tests run the Python adapter in vectors/adapters/python \
         and need python3 (install it, e.g. apt-get install python3)"
    );
    path
}

/// A fresh directory holding freshly generated vectors (every group the reference knows).
fn vectors(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipws-adapter-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(&dir).expect("generating vectors into a scratch directory");
    dir
}

fn sipws(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args)
        .output()
        .expect("the sipws binary was built by cargo for this test")
}

/// Runs `check --adapter CMD` with `extra` arguments and a JSON report; returns the exit code,
/// the stdout and the report.
fn check(dir: &Path, adapter: &str, extra: &[&str]) -> (Option<i32>, String, Value) {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let report = dir.join(format!(
        "report-{}.json",
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let mut args = vec![
        "vectors",
        "check",
        "--dir",
        dir.to_str().expect("utf-8 path"),
        "--adapter",
        adapter,
        "--json",
        report.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = sipws(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let json: Value = serde_json::from_str(&text).expect("the JSON report parses");
    (out.status.code(), stdout, json)
}

fn verdicts(report: &Value) -> &Vec<Value> {
    report["verdicts"].as_array().expect("verdicts array")
}

/// Ids with the given outcome.
fn ids_with(report: &Value, outcome: &str) -> BTreeSet<String> {
    verdicts(report)
        .iter()
        .filter(|v| v["outcome"] == outcome)
        .map(|v| v["id"].as_str().expect("string id").to_owned())
        .collect()
}

fn test_count(dir: &Path, group: &str) -> usize {
    let text = std::fs::read_to_string(dir.join(format!("{group}.json"))).expect("vector file");
    let file: Value = serde_json::from_str(&text).expect("JSON");
    file["tests"].as_array().expect("tests").len()
}

/// The Python adapter passes every test of its groups; every other group is skipped.
fn assert_python_adapter_passes(dir: &Path, extra: &[&str]) {
    let adapter = format!("{} {}", python3(), adapters_dir().join(RIGHT).display());
    let (code, stdout, report) = check(dir, &adapter, extra);
    assert_eq!(code, Some(0), "{stdout}");
    let implemented: usize = IMPLEMENTED.iter().map(|g| test_count(dir, g)).sum();
    assert_eq!(report["summary"]["pass"], json!(implemented), "{stdout}");
    assert_eq!(report["summary"]["fail"], 0, "{stdout}");
    assert_eq!(report["summary"]["error"], 0, "{stdout}");
    for v in verdicts(&report) {
        let group = v["subject"].as_str().expect("subject");
        let want = if IMPLEMENTED.contains(&group) {
            "pass"
        } else {
            "skip"
        };
        assert_eq!(v["outcome"], want, "{v}");
        assert_eq!(v["level"], "must");
        if want == "skip" {
            assert!(
                v["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("does not implement group")),
                "{v}"
            );
        }
    }
    assert!(
        stdout.contains(&format!("{implemented} match, 0 mismatch")),
        "{stdout}"
    );
    assert!(
        stdout.contains("PASS  subprotocol-offers/upper-case"),
        "{stdout}"
    );
}

#[test]
fn python_adapter_passes_its_groups_streaming() {
    let dir = vectors("stream");
    assert_python_adapter_passes(&dir, &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_adapter_passes_its_groups_per_test() {
    let dir = vectors("per-test");
    assert_python_adapter_passes(&dir, &["--per-test"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_python_adapter_is_flagged_by_id() {
    let dir = vectors("wrong");
    let junit = dir.join("junit.xml");
    let adapter = format!("{} {}", python3(), adapters_dir().join(WRONG).display());
    let (code, stdout, report) = check(
        &dir,
        &adapter,
        &["--junit", junit.to_str().expect("utf-8 path")],
    );
    assert_eq!(code, Some(1), "{stdout}");
    let failed = ids_with(&report, "fail");
    let want: BTreeSet<String> = [
        // Case-insensitive match: SIP and Sip are not sip (RFC 7936 §2).
        "subprotocol-offers/upper-case",
        "subprotocol-offers/mixed-case",
        // transport=wss ignored.
        "uri-transport/sip-wss",
        "uri-transport/sip-wss-mixed-case",
        "uri-transport/sips-wss",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(failed, want, "{stdout}");
    assert!(
        stdout.contains("FAIL  subprotocol-offers/upper-case"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"expected {"reason":"7118-4.1-c","refused":true} but the adapter gives {"selected":"sip"}"#),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("JUnit report written");
    assert!(xml.contains("subprotocol-offers/upper-case"), "{xml}");
    assert!(xml.contains("failures=\"5\""), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes an inline Python adapter into `dir` and returns its command line.
fn inline_adapter(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(format!("{name}.py"));
    std::fs::write(&path, body).expect("writing an inline adapter");
    format!("{} {}", python3(), path.display())
}

const ONE_GROUP: [&str; 2] = ["--group", "subprotocol-offers"];

#[test]
fn garbage_output_gives_errors_not_a_panic() {
    let dir = vectors("garbage");
    let adapter = inline_adapter(
        &dir,
        "garbage",
        "import sys\nfor line in sys.stdin:\n    print('hello, not json', flush=True)\n",
    );
    for extra in [
        &ONE_GROUP[..],
        &[ONE_GROUP[0], ONE_GROUP[1], "--per-test"][..],
    ] {
        let (code, stdout, report) = check(&dir, &adapter, extra);
        assert_eq!(code, Some(1), "{stdout}");
        let n = test_count(&dir, "subprotocol-offers");
        assert_eq!(report["summary"]["error"], json!(n), "{stdout}");
        assert!(
            verdicts(&report).iter().all(|v| v["message"]
                .as_str()
                .is_some_and(|m| m.contains("not JSON"))),
            "{stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn early_exit_and_wrong_id_give_errors() {
    let dir = vectors("early");
    // Answers the first test correctly (sip is selected), then dies with status 3.
    let early = inline_adapter(
        &dir,
        "early",
        "import json, sys\nt = json.loads(sys.stdin.readline())\n\
         print(json.dumps({'id': t['id'], 'output': {'selected': 'sip'}}), flush=True)\n\
         sys.stderr.write('boom\\n')\nsys.exit(3)\n",
    );
    let (code, stdout, report) = check(&dir, &early, &ONE_GROUP);
    assert_eq!(code, Some(1), "{stdout}");
    let v = verdicts(&report);
    assert_eq!(v[0]["id"], "subprotocol-offers/sip");
    assert_eq!(v[0]["outcome"], "pass", "{stdout}");
    for later in &v[1..] {
        assert_eq!(later["outcome"], "error", "{later}");
        let m = later["message"].as_str().expect("message");
        assert!(m.contains("closed its output after 1 of"), "{m}");
        assert!(m.contains("boom"), "stderr is quoted: {m}");
    }

    let wrong_id = inline_adapter(
        &dir,
        "wrong_id",
        "import json, sys\nfor line in sys.stdin:\n    \
         print(json.dumps({'id': 'other', 'output': {'selected': 'sip'}}), flush=True)\n",
    );
    let (code, stdout, report) = check(&dir, &wrong_id, &ONE_GROUP);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        verdicts(&report).iter().all(|v| v["outcome"] == "error"
            && v["message"]
                .as_str()
                .is_some_and(|m| m.contains("answered id \"other\""))),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hanging_adapter_times_out() {
    let dir = vectors("hang");
    let hang = inline_adapter(&dir, "hang", "import time\ntime.sleep(60)\n");
    let started = Instant::now();
    let (code, stdout, report) = check(
        &dir,
        &hang,
        &[
            ONE_GROUP[0],
            ONE_GROUP[1],
            "--test-timeout",
            "0.5",
            "--group-timeout",
            "2",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "check did not stop a hanging adapter in time"
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        verdicts(&report).iter().all(|v| v["outcome"] == "error"
            && v["message"]
                .as_str()
                .is_some_and(|m| m.contains("per-test timeout"))),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_or_non_executable_adapter_is_a_usage_error() {
    let dir = vectors("missing");
    let d = dir.to_str().expect("utf-8 path");
    let missing = sipws(&[
        "vectors",
        "check",
        "--dir",
        d,
        "--adapter",
        "/nonexistent/sipws-adapter --flag",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("\"/nonexistent/sipws-adapter\" not found"),
        "{err}"
    );

    let plain = dir.join("not-executable.py");
    std::fs::write(&plain, "print('hi')\n").expect("write");
    let not_exec = sipws(&[
        "vectors",
        "check",
        "--dir",
        d,
        "--adapter",
        plain.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(not_exec.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_exec.stderr).contains("is not an executable file"));

    let per_test_alone = sipws(&["vectors", "check", "--dir", d, "--per-test"]);
    assert_eq!(per_test_alone.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parse_errors_match_on_presence_only() {
    let expected = json!({"parse_error": {"message": "reference wording", "offset": 4}});
    assert!(answer_matches(
        &expected,
        &json!({"parse_error": {"message": "mine", "offset": 0}})
    ));
    assert!(!answer_matches(&expected, &json!({"kind": "exactly"})));
    assert!(!answer_matches(
        &json!({"kind": "exactly"}),
        &json!({"parse_error": {}})
    ));
    assert!(answer_matches(&json!({"a": [1, 2]}), &json!({"a": [1, 2]})));
    assert!(!answer_matches(
        &json!({"a": [1, 2]}),
        &json!({"a": [2, 1]})
    ));
}
