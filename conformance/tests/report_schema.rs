//! The JSON report validates against the committed schema (`conformance/report.schema.json`).
//! The schema uses a small subset of JSON Schema (type, enum, required, properties,
//! additionalProperties: false or a schema, items, minimum, $ref to $defs), checked here by a
//! validator of exactly that subset, so a field added to the report without the schema fails
//! this test.

use serde_json::Value;
use sipws::profile::{Finding, Profile, Source};
use sipws::verdict::{CaseInfo, Level, Outcome, Report, Verdict};
use sipws::wire::{Direction, Transcript};

fn check(schema: &Value, root: &Value, v: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        let def = root["$defs"]
            .get(name)
            .ok_or(format!("{path}: unknown $ref {r}"))?;
        return check(def, root, v, path);
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_u64() || v.is_i64(),
            _ => return Err(format!("{path}: the checker does not know type {t}")),
        };
        if !ok {
            return Err(format!("{path}: expected {t}, got {v}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{path}: {v} not in {e:?}"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
        && v.as_i64().is_some_and(|n| n < min)
    {
        return Err(format!("{path}: {v} below {min}"));
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = r.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                return Err(format!("{path}: missing required {key}"));
            }
        }
        for (k, val) in obj {
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(s, root, val, &format!("{path}.{k}"))?,
                (None, Some(Value::Bool(false))) => {
                    return Err(format!("{path}: property {k} is not in the schema"));
                }
                (None, Some(extra @ Value::Object(_))) => {
                    check(extra, root, val, &format!("{path}.{k}"))?
                }
                (None, _) => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(items, root, item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn sample() -> Report {
    let mut t = Transcript::default();
    t.push(
        std::time::Duration::from_millis(3),
        Direction::Sent,
        "text len=3 masked",
        b"abc",
    );
    t.push(
        std::time::Duration::from_millis(4),
        Direction::Event,
        "TCP closed",
        b"",
    );
    let v = |outcome, observed: Option<&str>| Verdict {
        case: CaseInfo {
            id: "framing/x".into(),
            title: "t".into(),
            subject: "framing".into(),
            reqs: vec!["6455-5.1-b".into(), "7118-4.1-b".into()],
            level: Level::Must,
            needs: vec!["wss".into()],
            location: "features/framing.feature:3".into(),
        },
        outcome,
        message: "m".into(),
        observed: observed.map(str::to_string),
        duration_ms: 5,
        evidence: vec![t.clone()],
        invariants: vec![sipws::verdict::Violation {
            req: "3261-17.2-a",
            level: Level::Must,
            message: "a second final response".into(),
        }],
    };
    let mut report = Report::new(
        "embedded reference server",
        12,
        vec![
            v(Outcome::Pass, Some("refused with HTTP 400")),
            v(Outcome::Fail, None),
            v(Outcome::Skip, None),
        ],
    );
    let mut profile = Profile::default();
    profile.probed(
        "outbound",
        Finding::no("the 2xx carried no Require: outbound"),
    );
    profile.set("wss", Finding::yes("a wss:// URL was given"), Source::Given);
    report.profile = Some(profile);
    report
}

#[test]
fn the_json_report_validates_against_the_committed_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../report.schema.json")).expect("schema is JSON");
    let mut out = Vec::new();
    sipws::report::write_json(&sample(), &mut out).expect("writes");
    let report: Value = serde_json::from_slice(&out).expect("report is JSON");
    check(&schema, &schema, &report, "$").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_checker_catches_a_report_that_breaks_the_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../report.schema.json")).expect("schema is JSON");
    let mut report = serde_json::to_value(sample()).expect("serializes");
    report["verdicts"][0]["outcome"] = Value::String("maybe".into());
    assert!(check(&schema, &schema, &report, "$").is_err());
    let mut report = serde_json::to_value(sample()).expect("serializes");
    report["extra"] = Value::Bool(true);
    assert!(check(&schema, &schema, &report, "$").is_err());
    let mut report = serde_json::to_value(sample()).expect("serializes");
    report["profile"]["capabilities"]["outbound"]["source"] = Value::String("guessed".into());
    assert!(check(&schema, &schema, &report, "$").is_err());
}

#[test]
fn the_json_report_gives_clause_and_text_for_every_cited_requirement() {
    let mut out = Vec::new();
    sipws::report::write_json(&sample(), &mut out).expect("writes");
    let report: Value = serde_json::from_slice(&out).expect("report is JSON");
    let requirements = report["requirements"]
        .as_object()
        .expect("a top-level requirements object");
    let mut keys: Vec<&str> = requirements.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["6455-5.1-b", "7118-4.1-b"]);
    let r = &requirements["7118-4.1-b"];
    assert_eq!(r["rfc"], "RFC 7118");
    assert_eq!(r["section"], "4.1");
    assert_eq!(r["clause"], "RFC 7118 §4.1");
    assert_eq!(r["level"], "MUST");
    let catalogue = sipws::catalogue::lookup("7118-4.1-b").expect("in the catalogue");
    assert_eq!(r["text"], catalogue.text.as_str());
    assert!(!catalogue.text.is_empty());
    assert_eq!(requirements["6455-5.1-b"]["clause"], "RFC 6455 §5.1");
    // The fields a before/after comparison reads are unchanged.
    assert_eq!(report["verdicts"][0]["id"], "framing/x");
    assert_eq!(report["verdicts"][1]["outcome"], "fail");
    assert_eq!(report["verdicts"][0]["reqs"][1], "7118-4.1-b");
}

#[test]
fn the_checker_catches_a_requirement_without_its_text() {
    let schema: Value =
        serde_json::from_str(include_str!("../report.schema.json")).expect("schema is JSON");
    let mut report = serde_json::to_value(sample()).expect("serializes");
    report["requirements"]["7118-4.1-b"]
        .as_object_mut()
        .expect("an object")
        .remove("text");
    assert!(check(&schema, &schema, &report, "$").is_err());
    let mut report = serde_json::to_value(sample()).expect("serializes");
    report
        .as_object_mut()
        .expect("an object")
        .remove("requirements");
    assert!(check(&schema, &schema, &report, "$").is_err());
}
