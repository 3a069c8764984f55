//! Upstream's own conf.d directories (`../shared/compat/upstream/`, read in place):
//! `dynalert validate` exits 0 with warnings that name each unsupported setting, and
//! `dynalert effective` prints exactly the hand-written series of
//! `testdata/compat/upstream/<name>.prom`.

mod common;
use common::dynalert;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `shared/compat/upstream` next to the repository (`../shared`), or next to one of its
/// parent directories (a worktree of the repository). `DYNALERT_UPSTREAM_CORPUS` overrides.
///
/// The corpus is upstream's material kept beside the repository, never copied into it. A
/// checkout without it skips these tests with a message on stderr, unless
/// `DYNALERT_REQUIRE_UPSTREAM_CORPUS` is set (then a missing corpus fails).
fn corpus() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DYNALERT_UPSTREAM_CORPUS") {
        return Some(PathBuf::from(dir));
    }
    let repo = root();
    let found = repo
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/compat/upstream"))
        .find(|p| p.is_dir());
    if found.is_none() {
        assert!(
            std::env::var_os("DYNALERT_REQUIRE_UPSTREAM_CORPUS").is_none(),
            "the upstream corpus `shared/compat/upstream` was not found next to `{}` or a parent; set DYNALERT_UPSTREAM_CORPUS",
            repo.display()
        );
        eprintln!(
            "SKIPPED: no upstream corpus `shared/compat/upstream` next to `{}` or a parent (set DYNALERT_UPSTREAM_CORPUS)",
            repo.display()
        );
    }
    found
}

/// A `user_custom_threshold` line without its `rule` label (an id of the recipe's shape,
/// not something upstream's files say).
fn without_rule_id(line: &str) -> String {
    match line.find("rule=\"") {
        Some(i) if line.starts_with("user_custom_threshold{") => {
            let end = line[i..].find("\",").map_or(line.len(), |j| i + j + 2);
            format!("{}{}", &line[..i], &line[end..])
        }
        _ => line.to_string(),
    }
}

fn cases() -> Vec<(String, PathBuf)> {
    let Some(corpus) = corpus() else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(corpus)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    assert!(
        out.len() >= 5,
        "expected the five upstream directories, found {out:?}"
    );
    out
}

#[test]
fn every_upstream_directory_validates_with_warnings_only() {
    let mut failures = Vec::new();
    for (name, dir) in cases() {
        let out = dynalert(&["validate", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) || stderr.contains(": error:") {
            failures.push(format!("{name}: exit {:?}\n{stderr}", out.status.code()));
            continue;
        }
        let expected = root().join(format!("testdata/compat/upstream/{name}.warnings"));
        let words = std::fs::read_to_string(&expected)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(": warning:"))
            .collect();
        for word in words.lines().filter(|w| !w.trim().is_empty()) {
            if !warnings
                .iter()
                .any(|w| w.contains(&format!("`{word}`")) || w.contains(word))
            {
                failures.push(format!("{name}: no warning names `{word}`\n{stderr}"));
            }
        }
        // Every warning names what it is about, in backticks.
        for w in &warnings {
            if !w.contains('`') {
                failures.push(format!("{name}: warning names nothing: {w}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_upstream_directory_serves_the_hand_written_series() {
    let mut failures = Vec::new();
    for (name, dir) in cases() {
        let at = "2026-06-01T12:00:00Z";
        let out = dynalert(&["effective", dir.to_str().unwrap(), "--at", at]);
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{name}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let got: BTreeSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(without_rule_id)
            .collect();
        let path = root().join(format!("testdata/compat/upstream/{name}.prom"));
        let want: BTreeSet<String> = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        if got != want {
            failures.push(format!(
                "{name}:\n  missing: {:#?}\n  unexpected: {:#?}",
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
