//! Every `testdata/invalid/*` case yields its hand-written diagnostics.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

#[test]
fn every_invalid_case_reports_its_expected_diagnostics() {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(testdata().join("invalid"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let dir = entry.path();
        let expected = std::fs::read_to_string(dir.join("expected")).unwrap();
        let report = dynalert_config::load_dir(&dir, now).unwrap();
        let prefix = format!("{}/", dir.display());
        let rendered: String = report
            .diagnostics
            .iter()
            .map(|d| d.to_string().replace(&prefix, "") + "\n")
            .collect();
        cases += 1;
        if report.errors() == 0 {
            failures.push(format!("{}: no error reported", dir.display()));
        }
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            if !rendered.contains(line) {
                failures.push(format!(
                    "{}: missing `{line}`\n--- got:\n{rendered}",
                    dir.display()
                ));
            }
        }
    }
    assert!(cases >= 20, "expected at least 20 cases, found {cases}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_errors_of_a_run_are_reported_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n  container_cpu: 80\n",
    )
    .unwrap();
    std::fs::write(
        p.join("db-a.yaml"),
        "tenants:\n  db-a:\n    mysql_conections: 70\n    container_cpu: abc\n    _metdata: {}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("db-b.yaml"),
        "tenants:\n  DB-C:\n    container_cpu: 70\n",
    )
    .unwrap();
    let report = dynalert_config::load_dir(p, Utc::now()).unwrap();
    let lines: Vec<(String, u32)> = report
        .diagnostics
        .iter()
        .map(|d| (d.file.rsplit('/').next().unwrap().to_string(), d.pos.line))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("db-a.yaml".to_string(), 3),
            ("db-a.yaml".to_string(), 4),
            ("db-a.yaml".to_string(), 5),
            ("db-b.yaml".to_string(), 2),
        ]
    );
    assert_eq!(report.tenant_valid.get("db-a"), Some(&false));
    assert_eq!(report.tenant_valid.get("db-b"), Some(&false));
}
