//! The committed JSON Schemas (`docs/schema/`) checked with a real JSON Schema validator
//! (Python `jsonschema`, pinned in `deploy/tools/requirements.txt` and installed into the
//! tools venv by `scripts/install-deps.sh`): every valid example and fixture passes, and
//! the schema-detectable invalid fixtures are rejected.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let tools = std::env::var_os("DYNALERT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/dynalert-tools"));
    let py = tools.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/install-deps.sh (it installs the pinned jsonschema)",
        py.display()
    );
    py
}

/// Every `*.yaml` of a directory tree.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn check(expect: &str, files: &[PathBuf]) {
    let out = Command::new(python())
        .arg(root().join("crates/dynalert-config/tests/schema/check.py"))
        .arg(root().join("docs/schema"))
        .arg(expect)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("checked {} files, 0 unexpected", files.len())),
        "{stderr}"
    );
}

#[test]
fn every_valid_example_and_fixture_passes_the_schema() {
    let mut files = Vec::new();
    for dir in [
        "examples/conf.d",
        "testdata/compat/conf.d",
        "testdata/alertmanager/conf.d",
        "deploy/helm/dynalert/files/conf.d",
    ] {
        yaml_files(&root().join(dir), &mut files);
    }
    assert!(files.len() >= 10, "{files:?}");
    check("valid", &files);
}

#[test]
fn schema_detectable_invalid_fixtures_are_rejected() {
    // The cases whose error is a shape the schema can see (the others need the catalogue,
    // the platform's tenancy or YAML positions).
    let cases = [
        ("non-numeric", "db-a.yaml"),
        ("negative-number", "db-a.yaml"),
        ("unknown-tier", "db-a.yaml"),
        ("bad-weekday", "db-a.yaml"),
        ("bad-window", "db-a.yaml"),
        ("bad-tenant-id", "db-a.yaml"),
        ("unknown-platform-block", "_defaults.yaml"),
        ("platform-block-in-tenant", "db-a.yaml"),
        ("reserved-key-typo", "db-a.yaml"),
    ];
    let files: Vec<PathBuf> = cases
        .iter()
        .map(|(case, file)| root().join("testdata/invalid").join(case).join(file))
        .collect();
    check("invalid", &files);
}
