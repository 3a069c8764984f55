//! The `dynalert` binary: exit codes, streams and the acceptance commands of the config model.

mod common;
use common::{dynalert, root};

#[test]
fn validate_examples_exits_0_with_summary_on_stderr() {
    let out = dynalert(&["validate", "examples/conf.d"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(" tenants, ") && stderr.contains(" 0 errors, "),
        "{stderr}"
    );
}

#[test]
fn validate_exits_1_on_every_invalid_case() {
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("testdata/invalid"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20);
    for dir in dirs {
        let out = dynalert(&["validate", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", dir.display());
        let expected = std::fs::read_to_string(dir.join("expected")).unwrap();
        let first = expected.lines().next().unwrap();
        assert!(
            stderr.contains(first),
            "{}: missing `{first}` in\n{stderr}",
            dir.display()
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(dynalert(&["validate"]).status.code(), Some(2));
    assert_eq!(dynalert(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(
        dynalert(&["validate", "/nonexistent/dir"]).status.code(),
        Some(2)
    );
    let bad_at = dynalert(&["effective", "examples/conf.d", "--at", "yesterday"]);
    assert_eq!(bad_at.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_at.stderr).contains("--at"));
}

#[test]
fn effective_json_shows_scheduled_and_default_values_at_an_instant() {
    // Monday 23:30 in Taipei: inside db-a's 22:00-06:00 weekday window for container_memory.
    let out = dynalert(&[
        "effective",
        "examples/conf.d",
        "--at",
        "2026-06-01T23:30:00+08:00",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The element of the array `v` whose `field` is `want`.
    let find = |v: &serde_json::Value, field: &str, want: &str| {
        let all = v.as_array().unwrap();
        all.iter().find(|x| x[field] == want).unwrap().clone()
    };
    let tier = |tenant: &str, key: &str, sev: &str| {
        let t = find(&doc["tenants"], "tenant", tenant);
        find(&find(&t["keys"], "key", key)["tiers"], "severity", sev)
    };
    let a = tier("db-a", "container_memory", "warning");
    assert_eq!(a["state"], "scheduled");
    assert_eq!(a["value"], 95.0);
    assert!(a["source"]
        .as_str()
        .unwrap()
        .starts_with("examples/conf.d/db-a.yaml:"));
    let b = tier("db-b", "container_memory", "warning");
    assert_eq!(b["state"], "default");
    assert_eq!(b["value"], 85.0);
    let disabled = tier("db-a", "mysql_replication_lag", "warning");
    assert_eq!(disabled["state"], "disabled");
    assert!(disabled["value"].is_null());
}

#[test]
fn effective_prom_for_one_tenant_only() {
    let out = dynalert(&["effective", "examples/conf.d", "--tenant", "db-b"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(
        "user_threshold{tenant=\"db-b\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 200\n"
    ));
    assert!(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .all(|l| l.contains("tenant=\"db-b\"")));
    let missing = dynalert(&["effective", "examples/conf.d", "--tenant", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no valid tenant `nope`"), "{stderr}");
    assert!(missing.stdout.is_empty());
}

#[test]
fn validate_fails_on_a_directory_without_tenants() {
    let empty = tempfile::tempdir().unwrap();
    let only_platform = tempfile::tempdir().unwrap();
    std::fs::write(
        only_platform.path().join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n",
    )
    .unwrap();
    for dir in [empty.path(), only_platform.path()] {
        let out = dynalert(&["validate", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("error: the directory declares no tenant"),
            "{stderr}"
        );
    }
}
