//! Pinned verdict tables (`tests/verdicts/*.tsv`): the suite's outcome per case against a
//! known target. A run that adds or drops a case, or changes an outcome, differs from its
//! table; the test names every difference. `SIPWS_UPDATE_VERDICTS=1` rewrites the table from
//! the run instead (its comment header is kept), for a change that means to re-grade.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sipws::verdict::Verdict;

/// The path of a table under `tests/verdicts/`.
pub fn table_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("verdicts")
        .join(name)
}

/// The rows of a table: case id → outcome. Lines starting with `#` are comments.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut rows = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((id, outcome)) = line.split_once('\t') else {
            return Err(format!("line {}: expected `case-id<TAB>outcome`", n + 1));
        };
        if rows.insert(id.to_string(), outcome.to_string()).is_some() {
            return Err(format!("line {}: case {id} is listed twice", n + 1));
        }
    }
    Ok(rows)
}

/// The outcome of each verdict, by case id.
pub fn outcomes(verdicts: &[Verdict]) -> BTreeMap<String, String> {
    verdicts
        .iter()
        .map(|v| (v.case.id.clone(), v.outcome.to_string()))
        .collect()
}

/// Every difference between a table and a run, one line each; empty when they agree.
pub fn differences(
    table: &BTreeMap<String, String>,
    run: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, want) in table {
        match run.get(id) {
            None => out.push(format!(
                "{id}: pinned as {want}, but the run has no such case"
            )),
            Some(got) if got != want => out.push(format!("{id}: pinned as {want}, now {got}")),
            Some(_) => {}
        }
    }
    for (id, got) in run {
        if !table.contains_key(id) {
            out.push(format!("{id}: {got}, but the table does not list it"));
        }
    }
    out
}

/// Compare a run with its table (or rewrite the table under `SIPWS_UPDATE_VERDICTS=1`);
/// `Err` lists every difference.
pub fn check(name: &str, verdicts: &[Verdict]) -> Result<(), String> {
    let path = table_path(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let run = outcomes(verdicts);
    if std::env::var_os("SIPWS_UPDATE_VERDICTS").is_some() {
        let mut out: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        for (id, outcome) in &run {
            out.push_str(&format!("{id}\t{outcome}\n"));
        }
        return std::fs::write(&path, out)
            .map_err(|e| format!("cannot write {}: {e}", path.display()));
    }
    let table = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let diff = differences(&table, &run);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} verdicts differ from {} (update the table with SIPWS_UPDATE_VERDICTS=1 if the change is meant, and say why in the commit):\n  {}",
            diff.len(),
            path.display(),
            diff.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(rows: &[(&str, &str)]) -> BTreeMap<String, String> {
        rows.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_flipped_a_missing_and_an_extra_case_are_each_named() {
        let table = map(&[("a/x", "pass"), ("a/y", "fail"), ("a/z", "skip")]);
        let run = map(&[("a/x", "pass"), ("a/y", "warn"), ("a/new", "pass")]);
        assert_eq!(
            differences(&table, &run),
            vec![
                "a/y: pinned as fail, now warn",
                "a/z: pinned as skip, but the run has no such case",
                "a/new: pass, but the table does not list it",
            ]
        );
        assert!(differences(&table, &table).is_empty());
    }

    #[test]
    fn tables_parse_with_comments_and_refuse_bad_rows() {
        assert_eq!(
            parse("# head\na/x\tpass\n\nb/y\tskip\n"),
            Ok(map(&[("a/x", "pass"), ("b/y", "skip")]))
        );
        assert!(parse("a/x pass\n").is_err());
        assert!(parse("a/x\tpass\na/x\tfail\n").is_err());
    }

    #[test]
    fn the_committed_tables_parse() {
        for name in ["embedded.tsv", "kamailio.tsv"] {
            let text = std::fs::read_to_string(table_path(name)).expect("the table is committed");
            let rows = parse(&text).expect("the table parses");
            assert!(rows.len() >= 190, "{name} lists {} cases", rows.len());
        }
    }
}
