//! The harness's layering, checked on the source: `step` at the bottom, `world` over it and
//! never over `steps`, step modules that never import one another, judges with no I/O, and no
//! source file of either crate over 800 lines (tests apart). docs/architecture.md describes
//! the layers; this test keeps them from drifting.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The file's code before its inline test module, if any.
fn non_test_part(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    }
}

fn is_test_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "tests.rs")
        || p.components().any(|c| c.as_os_str() == "tests")
}

#[test]
fn no_step_module_imports_another() {
    let dir = root().join("conformance/src/steps");
    let files = rust_files(&dir);
    assert!(
        files.len() > 3,
        "no step modules found in {}",
        dir.display()
    );
    for f in files.iter().filter(|f| !f.ends_with("mod.rs")) {
        let text = read(f);
        for (n, line) in non_test_part(&text).lines().enumerate() {
            assert!(
                !(line.contains("use super::") || line.contains("crate::steps::")),
                "{}:{}: a step module imports another step module: {line}",
                f.display(),
                n + 1
            );
        }
    }
}

#[test]
fn world_step_and_judges_stay_below_the_steps() {
    let src = root().join("conformance/src");
    let mut files = rust_files(&src.join("world"));
    files.extend(rust_files(&src.join("judge")));
    files.extend(rust_files(&src.join("wire")));
    files.push(src.join("step.rs"));
    for f in &files {
        let text = read(f);
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.contains("crate::steps"),
                "{}:{}: imports the steps layer: {line}",
                f.display(),
                n + 1
            );
        }
    }
    let step = read(&src.join("step.rs"));
    assert!(
        !step.contains("crate::world"),
        "step.rs must not depend on the world"
    );
}

#[test]
fn judges_do_no_io() {
    for f in rust_files(&root().join("conformance/src/judge")) {
        let text = read(&f);
        for word in [
            "tokio::",
            "TcpStream",
            "TcpListener",
            "UdpSocket",
            "std::fs",
            "crate::world",
            "async fn",
        ] {
            assert!(
                !non_test_part(&text).contains(word),
                "{}: a judge must be pure, but it uses {word}",
                f.display()
            );
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut big = Vec::new();
    for krate in ["conformance/src", "reference/src"] {
        for f in rust_files(&root().join(krate)) {
            if is_test_file(&f) {
                continue;
            }
            let lines = read(&f).lines().count();
            if lines > 800 {
                big.push(format!("{} ({lines} lines)", f.display()));
            }
        }
    }
    assert!(big.is_empty(), "split these by concept: {big:?}");
}

/// The top-level module a source file belongs to (`world` for `src/world/log.rs`); `None` for
/// the crate roots.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The `crate::<module>` references of a file's code (comments and inline tests left out).
fn crate_refs(text: &str) -> Vec<String> {
    let code: String = non_test_part(text)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    code.match_indices("crate::")
        .filter_map(|(i, _)| {
            let rest = &code[i + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| rest[..end].to_string())
        })
        .collect()
}

/// A cycle in the graph, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_modules_of_each_crate_import_no_cycle() {
    for krate in ["conformance/src", "reference/src"] {
        let src = root().join(krate);
        let mut graph = std::collections::BTreeMap::new();
        for f in rust_files(&src) {
            if is_test_file(&f) {
                continue;
            }
            let Some(from) = top_module(&src, &f) else {
                continue;
            };
            let entry: &mut std::collections::BTreeSet<String> =
                graph.entry(from.clone()).or_default();
            for to in crate_refs(&read(&f)) {
                if to != from {
                    entry.insert(to);
                }
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{krate}: an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_accepts_a_chain() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    assert_eq!(
        crate_refs("use crate::world::World;\n// crate::steps\nfn f() { crate::wire::x() }"),
        vec!["world".to_string(), "wire".to_string()]
    );
}
