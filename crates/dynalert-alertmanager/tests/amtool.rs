//! Generated configurations checked with the real `amtool`: `check-config` on every
//! generated file and `config routes test` over the hand-written table in
//! `testdata/alertmanager/routes.table` (expected receivers come from the contract).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dynalert_alertmanager::{generate, parse_labels, render, Generated};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conf_dir(name: &str) -> PathBuf {
    match name {
        "examples" => root().join("examples/conf.d"),
        "fixture" => root().join("testdata/alertmanager/conf.d"),
        "recipes" => root().join("testdata/alertmanager/recipes.d"),
        other => panic!("unknown conf.d `{other}` in the routes table"),
    }
}

fn load(dir: &Path) -> Generated {
    let report = dynalert_config::load_dir(dir, chrono::Utc::now()).expect("load");
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
    generate(&report.config).expect("generate")
}

fn write_config(tmp: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = tmp.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn amtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("amtool")
        .args(args)
        .output()
        .expect("`amtool` not found: install the Debian package `prometheus-alertmanager`");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn amtool_accepts_every_generated_config() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("testdata/alertmanager/base.yml")).unwrap();
    for name in ["examples", "fixture"] {
        let generated = load(&conf_dir(name));
        for (suffix, base) in [("plain", None), ("merged", Some(base.as_str()))] {
            let text = render(&generated, base).unwrap();
            let path = write_config(&tmp, &format!("{name}-{suffix}.yml"), &text);
            let (ok, out) = amtool(&["check-config", path.to_str().unwrap()]);
            assert!(
                ok,
                "amtool check-config {name} ({suffix}) failed:\n{out}\n{text}"
            );
        }
    }
}

#[test]
fn routes_table_matches_amtool_and_explain() {
    let tmp = tempfile::tempdir().unwrap();
    let table = std::fs::read_to_string(root().join("testdata/alertmanager/routes.table")).unwrap();
    let mut configs: BTreeMap<String, (Generated, PathBuf)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut rows = 0;
    for line in table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.split_whitespace();
        let (dir, expected) = (parts.next().unwrap(), parts.next().unwrap());
        let labels: Vec<&str> = parts.collect();
        let (generated, path) = configs.entry(dir.to_string()).or_insert_with(|| {
            let g = load(&conf_dir(dir));
            let p = write_config(&tmp, &format!("{dir}.yml"), &render(&g, None).unwrap());
            (g, p)
        });
        let mut args = vec![
            "config".to_string(),
            "routes".into(),
            "test".into(),
            format!("--config.file={}", path.display()),
            format!("--verify.receivers={expected}"),
        ];
        args.extend(labels.iter().map(|l| l.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = amtool(&refs);
        if !ok {
            failures.push(format!("amtool: {line}\n  got: {}", out.trim()));
        }
        let explained = generated
            .route
            .receivers_for(&parse_labels(&labels.join(",")).unwrap())
            .join(",");
        if explained != expected {
            failures.push(format!("explain: {line}\n  got: {explained}"));
        }
        rows += 1;
    }
    assert!(rows >= 20, "routes table has only {rows} rows");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn base_merge_keeps_base_settings_and_child_routes() {
    let base = std::fs::read_to_string(root().join("testdata/alertmanager/base.yml")).unwrap();
    let generated = load(&conf_dir("examples"));
    let text = render(&generated, Some(&base)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = write_config(&tmp, "merged.yml", &text);
    let file = format!("--config.file={}", path.display());
    // A base child route sees alerts no tenant owns, before the final default route.
    let (ok, out) = amtool(&[
        "config",
        "routes",
        "test",
        &file,
        "--verify.receivers=legacy-db",
        "team=legacy",
    ]);
    assert!(ok, "{out}");
    // Tenant routes still come first.
    let (ok, out) = amtool(&[
        "config",
        "routes",
        "test",
        &file,
        "--verify.receivers=tenant-db-a",
        "tenant=db-a",
        "severity=warning",
        "team=legacy",
    ]);
    assert!(ok, "{out}");
    assert!(text.contains("resolve_timeout: 5m"), "{text}");
    assert!(text.contains("NodeDown"), "{text}");
}

#[test]
fn base_defining_a_generated_receiver_is_an_error() {
    let generated = load(&conf_dir("examples"));
    let base = "receivers:\n  - name: tenant-db-a\n";
    let err = render(&generated, Some(base)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "receiver `tenant-db-a` is defined in the base config and generated from conf.d"
    );
}
