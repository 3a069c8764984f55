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
    let errors = report.error_lines();
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

/// `amtool config routes test` on `file`: whether `labels` reach exactly `receivers`.
fn routes_test(file: &Path, receivers: &str, labels: &[&str]) -> (bool, String) {
    let config = format!("--config.file={}", file.display());
    let verify = format!("--verify.receivers={receivers}");
    let mut args = vec!["config", "routes", "test", &config, &verify];
    args.extend(labels);
    amtool(&args)
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
        let (ok, out) = routes_test(path, expected, &labels);
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
    // A base child route sees alerts no tenant owns, before the final default route.
    let (ok, out) = routes_test(&path, "legacy-db", &["team=legacy"]);
    assert!(ok, "{out}");
    // Tenant routes still come first.
    let labels = ["tenant=db-a", "severity=warning", "team=legacy"];
    let (ok, out) = routes_test(&path, "tenant-db-a", &labels);
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

/// Every route that carries a mute interval, with the matchers of the routes above it.
fn muted_routes(
    route: &dynalert_alertmanager::Route,
    above: &[String],
    out: &mut Vec<(Vec<String>, Vec<String>)>,
) {
    let mut chain = above.to_vec();
    chain.extend(route.matchers.iter().map(|m| m.to_string()));
    if !route.mute_time_intervals.is_empty() {
        out.push((chain.clone(), route.mute_time_intervals.clone()));
    }
    for child in &route.routes {
        muted_routes(child, &chain, out);
    }
}

#[test]
fn hostile_maintenance_crons_mute_only_their_own_tenant() {
    // A 10,000-character cron (Mondays, listed 5,001 times) and one that never matches
    // (31 February), next to the fixture's tenants and the platform's NOC, VIP and liveness
    // routes.
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    for entry in std::fs::read_dir(conf_dir("fixture")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), conf.join(entry.file_name())).unwrap();
    }
    let huge = format!("0 0 * * {}1", "1,".repeat(5000));
    for (id, cron) in [("db-huge", huge.as_str()), ("db-never", "0 0 31 2 *")] {
        std::fs::write(
            conf.join(format!("{id}.yaml")),
            format!("tenants:\n  {id}:\n    _state_maintenance:\n      recurring:\n        - {{cron: \"{cron}\", duration: 2h}}\n"),
        )
        .unwrap();
    }
    let generated = load(&conf);
    let text = render(&generated, None).unwrap();
    let path = write_config(&tmp, "hostile-cron.yml", &text);
    let (ok, out) = amtool(&["check-config", path.to_str().unwrap()]);
    assert!(ok, "amtool check-config failed:\n{out}\n{text}");
    // The huge list is one weekday in the file, not 5,001.
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
    let mut muted = Vec::new();
    muted_routes(&generated.route, &[], &mut muted);
    for id in ["db-huge", "db-never"] {
        let interval = format!("tenant-{id}-maintenance");
        let users: Vec<_> = muted
            .iter()
            .filter(|(_, names)| names.contains(&interval))
            .collect();
        assert_eq!(users.len(), 1, "{interval}: {users:#?}");
        // Only beneath the tenant's own route, which leaves the platform's copies out.
        let chain = &users[0].0;
        assert!(chain.contains(&format!("tenant=\"{id}\"")), "{chain:?}");
        assert!(
            chain.contains(&"scope!=\"platform\"".to_string()),
            "{chain:?}"
        );
    }
    // No other tenant's route mutes with their intervals, and no route outside a tenant's
    // own subtree mutes at all.
    for (chain, _) in &muted {
        assert!(
            chain.iter().any(|m| m.starts_with("tenant=\"")),
            "a mute outside a tenant route: {chain:?}"
        );
    }
}
