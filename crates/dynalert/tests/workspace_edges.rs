//! The workspace's dependency policy (`crates/README.md`): every edge between workspace
//! crates is one the table allows, and pure crates pull in no async runtime or HTTP stack.
//! Read from `cargo metadata`, so a new `Cargo.toml` line is checked, not a list kept here.

use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::root;

const PURE: &[&str] = &[
    "dynalert-model",
    "dynalert-config",
    "dynalert-exposition",
    "dynalert-rules",
    "dynalert-alertmanager",
    "dynalert-remote-read",
];
const NOT_IN_PURE: &[&str] = &["tokio", "axum", "hyper", "ureq", "reqwest"];

/// crate -> allowed workspace dependencies, from the table in crates/README.md.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("crates/README.md")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_string();
        let deps = cells[3]
            .split(',')
            .map(|d| d.trim().trim_matches('`').to_string())
            .filter(|d| d.starts_with("dynalert") || d == "threshold-exporter")
            .collect();
        out.insert(name, deps);
    }
    out
}

/// crate -> normal (non-dev, non-build) dependencies, from `cargo metadata`.
fn normal_deps() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let set = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        deps.insert(p["name"].as_str().unwrap().to_string(), set);
    }
    deps
}

#[test]
fn every_workspace_edge_is_allowed_by_the_crates_table() {
    let allowed = allowed();
    let deps = normal_deps();
    let mut problems = Vec::new();
    for (name, set) in &deps {
        let Some(ok) = allowed.get(name) else {
            problems.push(format!("`{name}` has no row in crates/README.md"));
            continue;
        };
        for d in set.iter().filter(|d| deps.contains_key(*d)) {
            if !ok.contains(d) {
                problems.push(format!(
                    "`{name}` depends on `{d}`, which crates/README.md does not allow"
                ));
            }
        }
    }
    for name in allowed.keys() {
        if !deps.contains_key(name) {
            problems.push(format!(
                "crates/README.md lists `{name}`, which is not in the workspace"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn pure_crates_pull_in_no_async_runtime_or_http_stack() {
    let deps = normal_deps();
    let mut problems = Vec::new();
    for name in PURE {
        for bad in NOT_IN_PURE {
            if deps[*name].contains(*bad) {
                problems.push(format!("pure crate `{name}` depends on `{bad}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_table_parser_sees_a_forbidden_edge() {
    // The check can fail: the model may depend on no sibling at all.
    let allowed = allowed();
    assert!(allowed["dynalert-model"].is_empty());
    assert!(!allowed["dynalert-config"].contains("dynalert-server"));
    assert!(allowed["dynalert-cli"].contains("dynalert-config"));
}

/// A test marked `#[ignore]` runs only where `make test` names its file with `--ignored`:
/// otherwise nothing would ever run it.
#[test]
fn every_ignored_test_file_is_a_named_step_of_make_test() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let recipe: String = makefile
        .split("\ntest:")
        .nth(1)
        .expect("a `test` target")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('\t') || l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    // Each `cargo test -p CRATE --test A --test B -- --ignored` command of the recipe.
    let mut named = BTreeSet::new();
    for command in recipe.split("&&").chain(recipe.split(',')) {
        if !command.contains("--ignored") {
            continue;
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(krate) = words.windows(2).find(|w| w[0] == "-p").map(|w| w[1]) else {
            continue;
        };
        for w in words.windows(2).filter(|w| w[0] == "--test") {
            named.insert(format!("{krate}/{}", w[1]));
        }
    }
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(tests) = std::fs::read_dir(dir.join("tests")) else {
            continue;
        };
        let krate = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in tests.map(|e| e.unwrap().path()) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if file.extension().is_some_and(|e| e == "rs")
                && text.lines().any(|l| l.trim_start().starts_with("#[ignore"))
            {
                let name = file.file_stem().unwrap().to_string_lossy().into_owned();
                if !named.contains(&format!("{krate}/{name}")) {
                    missing.push(format!("crates/{krate}/tests/{name}.rs"));
                }
            }
        }
    }
    assert!(
        !named.is_empty(),
        "no `--ignored` step found in the Makefile's `test` recipe"
    );
    assert!(
        missing.is_empty(),
        "ignored tests that no `make test` step runs (add `$(CARGO) test -p <crate> --test <file> -- --ignored`): {missing:?}"
    );
}
