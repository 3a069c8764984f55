//! Hierarchical conf.d (`_defaults.yaml` in up to four directory levels) and files with
//! several tenants, as upstream lays them out. Expectations follow the documented rules:
//! root -> leaf -> tenant deep merge, maps merge per key and tier, lists replace,
//! `_metadata` is not inherited, keep-last-good per tenant.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use dynalert_config::Loader;
use dynalert_model::{Config, Family};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const ROOT: &str = "\
defaults:
  mysql_connections: 80
  mysql_replication_lag: {warning: 30, critical: 120}
  container_cpu: 80
state_filters:
  container_crashloop: {reasons: [CrashLoopBackOff, Error], severity: critical}
";

/// Four levels: root, `db/`, `db/mariadb/`, `db/mariadb/prod/`, plus tenants at several depths.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "_defaults.yaml", ROOT);
    write(
        p,
        "db/_defaults.yaml",
        "defaults:\n  mysql_connections: 60\n",
    );
    write(
        p,
        "db/mariadb/_defaults.yaml",
        "defaults:\n  mysql_replication_lag: {critical: 100}\nstate_filters:\n  container_crashloop: {reasons: [CrashLoopBackOff], severity: critical}\n",
    );
    write(
        p,
        "db/mariadb/prod/_defaults.yaml",
        "defaults:\n  container_cpu: 90\n",
    );
    write(
        p,
        "db/mariadb/prod/x.yaml",
        "tenants:\n  x:\n    mysql_connections: 50\n    _metadata: {owner: team-x}\n",
    );
    write(p, "db/y.yaml", "tenants:\n  y: {}\n");
    write(p, "r.yaml", "tenants:\n  r: {}\n");
    dir
}

/// `metric/severity=value` of one tenant's user_threshold series, sorted.
fn rows(config: &Config, tenant: &str) -> Vec<String> {
    let snap = dynalert_model::resolve(config, now());
    let mut out: Vec<String> = snap
        .series()
        .filter(|s| s.family == Family::UserThreshold && s.labels[0].1 == tenant)
        .map(|s| {
            let get = |k: &str| {
                s.labels
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            format!(
                "{}_{}/{}={}",
                get("component"),
                get("metric"),
                get("severity"),
                s.value
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn four_levels_merge_root_to_leaf_to_tenant() {
    let dir = tree();
    let report = dynalert_config::load_dir(dir.path(), now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    // x: tenant 50 over L1 60 over root 80; lag critical from L2 (100), warning from root
    // (maps merge per tier); cpu from L3.
    assert_eq!(
        rows(&report.config, "x"),
        vec![
            "container_cpu/warning=90",
            "mysql_connections/warning=50",
            "mysql_replication_lag/critical=100",
            "mysql_replication_lag/warning=30",
        ]
    );
    // y is beneath db/ only.
    assert_eq!(
        rows(&report.config, "y"),
        vec![
            "container_cpu/warning=80",
            "mysql_connections/warning=60",
            "mysql_replication_lag/critical=120",
            "mysql_replication_lag/warning=30",
        ]
    );
    // r is in the root directory: root defaults only.
    assert_eq!(
        rows(&report.config, "r"),
        vec![
            "container_cpu/warning=80",
            "mysql_connections/warning=80",
            "mysql_replication_lag/critical=120",
            "mysql_replication_lag/warning=30",
        ]
    );
}

#[test]
fn lists_replace_and_metadata_is_not_inherited() {
    let dir = tree();
    write(
        dir.path(),
        "db/_defaults.yaml",
        "defaults:\n  mysql_connections: 60\n_metadata: {owner: dba-team}\n",
    );
    let report = dynalert_config::load_dir(dir.path(), now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let x = &report.config.tenants["x"];
    let level = x.level.as_ref().expect("x resolves against its directory");
    // The L2 list replaced the root list rather than being appended to it.
    assert_eq!(
        level.state_filters["container_crashloop"].reasons,
        vec!["CrashLoopBackOff".to_string()]
    );
    assert_eq!(
        report.config.platform.state_filters["container_crashloop"].reasons,
        vec!["CrashLoopBackOff".to_string(), "Error".to_string()]
    );
    // `_metadata` of a level is not inherited: y has no owner, x keeps its own.
    assert_eq!(report.config.tenants["y"].metadata.owner, None);
    assert_eq!(x.metadata.owner.as_deref(), Some("team-x"));
    assert!(report.diagnostics.iter().any(|d| !d.is_error()
        && d.file.ends_with("db/_defaults.yaml")
        && d.message.contains("`_metadata`")));
}

#[test]
fn effective_shows_the_chain_of_levels() {
    let dir = tree();
    let report = dynalert_config::load_dir(dir.path(), now()).unwrap();
    let x = &report.config.tenants["x"];
    let e = dynalert_model::effective_tenant(&report.config.platform, x, now());
    let chain = |key: &str| -> Vec<String> {
        let k = e.keys.iter().find(|k| k.key == key).unwrap();
        k.chain.iter().map(ToString::to_string).collect()
    };
    let p = dir.path().display().to_string();
    assert_eq!(
        chain("mysql_connections"),
        vec![
            format!("{p}/_defaults.yaml:2"),
            format!("{p}/db/_defaults.yaml:2"),
            format!("{p}/db/mariadb/prod/x.yaml:3"),
        ]
    );
    assert_eq!(
        chain("mysql_replication_lag"),
        vec![
            format!("{p}/_defaults.yaml:3"),
            format!("{p}/db/mariadb/_defaults.yaml:2"),
        ]
    );
}

#[test]
fn a_mid_level_change_re_resolves_only_the_tenants_beneath_it() {
    let dir = tree();
    write(dir.path(), "db/other/z.yaml", "tenants:\n  z: {}\n");
    let mut loader = Loader::new(dir.path());
    let before = loader.reload(now()).unwrap();
    assert_eq!(before.errors(), 0, "{:#?}", before.diagnostics);
    write(
        dir.path(),
        "db/mariadb/_defaults.yaml",
        "defaults:\n  mysql_replication_lag: {critical: 110}\n",
    );
    let after = loader.reload(now()).unwrap();
    assert_eq!(after.errors(), 0, "{:#?}", after.diagnostics);
    let same = |id: &str| Arc::ptr_eq(&before.config.tenants[id], &after.config.tenants[id]);
    assert!(
        !same("x"),
        "x is beneath db/mariadb/ and must be re-resolved"
    );
    assert!(
        same("y") && same("z") && same("r"),
        "tenants outside db/mariadb/ were re-parsed"
    );
    assert!(rows(&after.config, "x").contains(&"mysql_replication_lag/critical=110".to_string()));
    assert!(rows(&after.config, "y").contains(&"mysql_replication_lag/critical=120".to_string()));
}

#[test]
fn a_broken_level_keeps_the_last_good_config_of_the_tenants_beneath_only() {
    let dir = tree();
    let mut loader = Loader::new(dir.path());
    loader.reload(now()).unwrap();
    write(
        dir.path(),
        "db/_defaults.yaml",
        "defaults:\n  mysql_connections: abc\n",
    );
    write(
        dir.path(),
        "r.yaml",
        "tenants:\n  r:\n    mysql_connections: 40\n",
    );
    let report = loader.reload(now()).unwrap();
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.is_error() && d.file.ends_with("db/_defaults.yaml")));
    assert_eq!(report.tenant_valid.get("y"), Some(&false));
    assert_eq!(report.tenant_valid.get("x"), Some(&false));
    assert!(rows(&report.config, "y").contains(&"mysql_connections/warning=60".to_string()));
    assert!(rows(&report.config, "x").contains(&"mysql_connections/warning=50".to_string()));
    // A tenant outside the broken subtree applies its change.
    assert_eq!(report.tenant_valid.get("r"), Some(&true));
    assert!(rows(&report.config, "r").contains(&"mysql_connections/warning=40".to_string()));
}

#[test]
fn several_tenants_per_file_keep_last_good_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "_defaults.yaml", ROOT);
    write(
        p,
        "tenants.yaml",
        "tenants:\n  a:\n    mysql_connections: 10\n  b:\n    mysql_connections: 20\n",
    );
    let mut loader = Loader::new(p);
    let first = loader.reload(now()).unwrap();
    assert_eq!(first.errors(), 0, "{:#?}", first.diagnostics);
    assert!(rows(&first.config, "a").contains(&"mysql_connections/warning=10".to_string()));
    assert!(rows(&first.config, "b").contains(&"mysql_connections/warning=20".to_string()));
    // b breaks, a changes: a applies, b keeps 20.
    write(
        p,
        "tenants.yaml",
        "tenants:\n  a:\n    mysql_connections: 11\n  b:\n    mysql_connections: abc\n",
    );
    let second = loader.reload(now()).unwrap();
    assert_eq!(second.tenant_valid.get("a"), Some(&true));
    assert_eq!(second.tenant_valid.get("b"), Some(&false));
    assert!(rows(&second.config, "a").contains(&"mysql_connections/warning=11".to_string()));
    assert!(rows(&second.config, "b").contains(&"mysql_connections/warning=20".to_string()));
    // b removed from the file on purpose: b goes, a stays.
    write(
        p,
        "tenants.yaml",
        "tenants:\n  a:\n    mysql_connections: 11\n",
    );
    let third = loader.reload(now()).unwrap();
    assert_eq!(third.errors(), 0, "{:#?}", third.diagnostics);
    assert!(!third.config.tenants.contains_key("b"));
    assert!(third.config.tenants.contains_key("a"));
    // The whole file broken (YAML syntax): both tenants it declared keep their config.
    write(p, "tenants.yaml", "tenants:\n  a: [\n");
    let fourth = loader.reload(now()).unwrap();
    assert_eq!(fourth.tenant_valid.get("a"), Some(&false));
    assert!(rows(&fourth.config, "a").contains(&"mysql_connections/warning=11".to_string()));
}

#[test]
fn a_directory_deeper_than_four_levels_is_an_error_not_a_silent_skip() {
    let dir = tree();
    write(dir.path(), "a/b/c/d/deep.yaml", "tenants:\n  deep: {}\n");
    let report = dynalert_config::load_dir(dir.path(), now()).unwrap();
    assert!(
        report.diagnostics.iter().any(|d| d.is_error()
            && d.file.ends_with("a/b/c/d")
            && d.message.contains("nested too deep")),
        "{:#?}",
        report.diagnostics
    );
    // Four levels are read: a/b/c/t.yaml is a tenant.
    write(dir.path(), "a/b/c/t.yaml", "tenants:\n  t: {}\n");
    let report = dynalert_config::load_dir(dir.path(), now()).unwrap();
    assert!(report.config.tenants.contains_key("t"));
}

#[test]
fn extensions_in_any_case_and_subdirectories_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "_defaults.yaml", ROOT);
    write(p, "a.YAML", "tenants:\n  a: {}\n");
    write(p, "b.Yml", "tenants:\n  b: {}\n");
    write(p, "team/_DEFAULTS.YML", "defaults:\n  container_cpu: 70\n");
    write(p, "team/c.yaml", "tenants:\n  c: {}\n");
    let report = dynalert_config::load_dir(p, now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let ids: Vec<&str> = report.config.tenants.keys().map(String::as_str).collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
    assert!(rows(&report.config, "c").contains(&"container_cpu/warning=70".to_string()));
}

#[test]
fn a_level_directory_behind_a_symbolic_link_is_read_once() {
    // A mounted volume's layout: the real directory is a dot-name, the level a link to it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(p, "_defaults.yaml", ROOT);
    write(
        p,
        ".team-v2/_defaults.yaml",
        "defaults:\n  container_cpu: 70\n",
    );
    write(p, ".team-v2/c.yaml", "tenants:\n  c: {}\n");
    std::os::unix::fs::symlink(".team-v2", p.join("team")).unwrap();
    // A link to nothing under a directory's name is neither a level nor an error.
    std::os::unix::fs::symlink(".gone", p.join("old-team")).unwrap();
    let report = dynalert_config::load_dir(p, now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let ids: Vec<&str> = report.config.tenants.keys().map(String::as_str).collect();
    assert_eq!(ids, vec!["c"]);
    assert!(rows(&report.config, "c").contains(&"container_cpu/warning=70".to_string()));
}

#[test]
fn platform_and_tenant_errors_are_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(
        p,
        "_defaults.yaml",
        "defaults:\n  mysql_connections: 80\nstate_filtres: {}\n",
    );
    write(
        p,
        "db-a.yaml",
        "tenants:\n  db-a:\n    mysql_conections: 70\n",
    );
    let report = dynalert_config::load_dir(p, now()).unwrap();
    let errors = report.error_lines();
    assert!(!report.platform_valid);
    assert!(
        errors.iter().any(
            |e| e.contains("_defaults.yaml:3:1: error: unknown platform block `state_filtres`")
        ),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("db-a.yaml:3:5: error: unknown key `mysql_conections`")),
        "{errors:#?}"
    );
}

#[test]
fn an_emptied_level_file_keeps_the_tenants_beneath_on_their_last_good_config() {
    let dir = tree();
    let mut loader = Loader::new(dir.path());
    loader.reload(now()).unwrap();
    write(dir.path(), "db/_defaults.yaml", "");
    let report = loader.reload(now()).unwrap();
    assert!(report.diagnostics.iter().any(|d| d.is_error()
        && d.file.ends_with("db/_defaults.yaml")
        && d.message.contains("defaults file is empty")));
    assert_eq!(report.tenant_valid.get("y"), Some(&false));
    assert!(rows(&report.config, "y").contains(&"mysql_connections/warning=60".to_string()));
}
