//! The committed vectors (`vectors/`) are exactly what the reference generates, `check` passes
//! on them, and a corrupted copy fails `check` naming the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sipws::vectors::{GROUPS, SCHEMA_FILE, check, generate};

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// A fresh directory under the system temp dir, unique to this test and process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipws-vectors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch directory in the temp dir");
    dir
}

fn sipws(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args)
        .output()
        .expect("the sipws binary was built by cargo for this test")
}

fn file_names() -> Vec<String> {
    GROUPS
        .iter()
        .map(|g| format!("{}.json", g.name))
        .chain(std::iter::once(SCHEMA_FILE.to_owned()))
        .collect()
}

#[test]
fn generated_files_are_byte_identical_to_committed_vectors() {
    let dir = scratch("generate");
    generate(&dir).expect("generating into a scratch directory");
    for name in file_names() {
        let fresh = std::fs::read_to_string(dir.join(&name)).expect("generated file");
        let kept = std::fs::read_to_string(committed().join(&name))
            .unwrap_or_else(|e| panic!("vectors/{name} is not committed: {e}"));
        assert!(
            fresh == kept,
            "vectors/{name} is stale: run `cargo run -p sipws -- vectors generate` and commit"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generation_is_deterministic_through_the_cli() {
    let a = scratch("cli-a");
    let b = scratch("cli-b");
    for dir in [&a, &b] {
        let out = sipws(&[
            "vectors",
            "generate",
            "--dir",
            dir.to_str().expect("utf-8 path"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for name in file_names() {
        let x = std::fs::read(a.join(&name)).expect("first run");
        let y = std::fs::read(b.join(&name)).expect("second run");
        assert_eq!(x, y, "{name} differs between two runs");
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn ids_are_unique_prefixed_and_files_follow_the_envelope() {
    for group in GROUPS {
        let text = std::fs::read_to_string(committed().join(format!("{}.json", group.name)))
            .expect("committed group file");
        let file: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(file["group"], group.name);
        assert_eq!(file["schema"], SCHEMA_FILE);
        let tests = file["tests"].as_array().expect("tests array");
        assert!(!tests.is_empty(), "{} has no tests", group.name);
        let mut ids = std::collections::BTreeSet::new();
        for t in tests {
            let id = t["id"].as_str().expect("string id");
            assert!(id.starts_with(&format!("{}/", group.name)), "{id}");
            assert!(ids.insert(id.to_owned()), "duplicate id {id}");
            for flag in t["flags"].as_array().expect("flags array") {
                let flag = flag.as_str().expect("string flag");
                assert!(
                    file["notes"][flag].is_string(),
                    "{id}: flag {flag} has no note"
                );
            }
            assert!(
                matches!(
                    t["result"].as_str(),
                    Some("valid" | "invalid" | "acceptable")
                ),
                "{id}"
            );
        }
    }
}

#[test]
fn check_passes_on_committed_vectors() {
    let report = check(&committed(), None).expect("committed vectors load");
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(report.counts.len(), GROUPS.len());
    let out = sipws(&[
        "vectors",
        "check",
        "--dir",
        committed().to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 mismatch"));
}

#[test]
fn corrupted_expected_value_fails_check_naming_the_id() {
    let dir = scratch("corrupt");
    generate(&dir).expect("generating into a scratch directory");
    let path = dir.join("subprotocol-offers.json");
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("generated")).expect("JSON");
    let tests = file["tests"].as_array_mut().expect("tests array");
    let victim = tests
        .iter_mut()
        .find(|t| t["id"] == "subprotocol-offers/upper-case")
        .expect("the upper-case test exists");
    // SIP is not sip (RFC 7936 §2): claiming it is selected must be caught.
    victim["expected"] = serde_json::json!({ "selected": "sip" });
    std::fs::write(&path, serde_json::to_string_pretty(&file).expect("JSON")).expect("write");

    let report = check(&dir, Some("subprotocol-offers")).expect("loads");
    assert_eq!(report.mismatches.len(), 1);
    assert_eq!(report.mismatches[0].id, "subprotocol-offers/upper-case");

    let out = sipws(&["vectors", "check", "--dir", dir.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL subprotocol-offers/upper-case"),
        "{stdout}"
    );
    assert!(stdout.contains("1 mismatch"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_2() {
    let unknown = sipws(&[
        "vectors",
        "check",
        "--dir",
        committed().to_str().expect("utf-8"),
        "--group",
        "nope",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown group"));

    let empty = scratch("missing");
    let missing = sipws(&["vectors", "check", "--dir", empty.to_str().expect("utf-8")]);
    assert_eq!(missing.status.code(), Some(2));

    std::fs::write(empty.join("via.json"), "not json").expect("write");
    let garbled = sipws(&[
        "vectors",
        "check",
        "--dir",
        empty.to_str().expect("utf-8"),
        "--group",
        "via",
    ]);
    assert_eq!(garbled.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn group_filter_checks_only_that_group() {
    let report = check(&committed(), Some("via")).expect("loads");
    assert_eq!(report.counts.len(), 1);
    assert_eq!(report.counts[0].0, "via");
}

#[test]
fn readme_counts_match_the_files() {
    let readme = std::fs::read_to_string(committed().join("README.md")).expect("vectors/README.md");
    let report = check(&committed(), None).expect("committed vectors load");
    for (group, n) in &report.counts {
        let row = format!("| `{group}.json` | {n} |");
        assert!(
            readme.contains(&row),
            "vectors/README.md lacks the row {row}"
        );
    }
    let total = format!("Total: {} tests.", report.total());
    assert!(readme.contains(&total), "vectors/README.md lacks {total}");
}
