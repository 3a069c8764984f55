//! Upstream spellings and semantic corners of issue 12, each written from the documented
//! meaning (docs/configuration.md, docs/compatibility.md), not from the output.

use chrono::{DateTime, TimeZone, Utc};
use dynalert_model::Family;

mod common;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

const PLATFORM: &str = "\
defaults:
  mysql_connections: 80
  container_cpu: 80
";

/// Loads a conf.d with the platform above and one tenant `db-a` with `body`.
fn load(body: &str) -> dynalert_config::LoadReport {
    load_files(&[
        ("_defaults.yaml", PLATFORM),
        ("db-a.yaml", &format!("tenants:\n  db-a:\n{body}")),
    ])
}

/// Loads a conf.d of `files`.
fn load_files(files: &[(&str, &str)]) -> dynalert_config::LoadReport {
    common::load_files(files, now()).0
}

fn messages(report: &dynalert_config::LoadReport, errors: bool) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.is_error() == errors)
        .map(|d| d.message.clone())
        .collect()
}

/// `<label>/<severity>=<value>` of the user_threshold series with all the labels of `with`,
/// sorted; `-` for a series without `label`.
fn threshold_rows(
    report: &dynalert_config::LoadReport,
    with: &[(&str, &str)],
    label: &str,
) -> Vec<String> {
    let snap = dynalert_model::resolve(&report.config, now());
    let has = |s: &dynalert_model::Series, k: &str, v: &str| {
        s.labels.iter().any(|(a, b)| a == k && b == v)
    };
    let get = |s: &dynalert_model::Series, k: &str| {
        let found = s.labels.iter().find(|(n, _)| n == k);
        found.map_or("-".to_string(), |(_, v)| v.to_string())
    };
    let mut rows: Vec<String> = snap
        .series()
        .filter(|s| s.family == Family::UserThreshold && with.iter().all(|(k, v)| has(s, k, v)))
        .map(|s| format!("{}/{}={}", get(s, label), get(s, "severity"), s.value))
        .collect();
    rows.sort();
    rows
}

fn in_maintenance(report: &dynalert_config::LoadReport) -> bool {
    let snap = dynalert_model::resolve(&report.config, now());
    let active = snap
        .series()
        .any(|s| s.family == Family::UserMaintenance && s.value == 1.0);
    active
}

#[test]
fn maintenance_without_an_end_is_an_error() {
    for body in [
        "    _state_maintenance: {reason: upgrade}\n",
        "    _state_maintenance: {recurring: []}\n",
        "    _state_maintenance: {start: \"2026-06-01T00:00:00Z\"}\n",
    ] {
        let r = load(body);
        assert!(
            messages(&r, true)
                .iter()
                .any(|m| m.contains("maintenance has no end")),
            "{body}: {:?}",
            r.diagnostics
        );
        assert!(!in_maintenance(&r), "{body}");
    }
    // With an end it applies.
    let r = load("    _state_maintenance: {expires: \"2026-06-02T00:00:00Z\", reason: upgrade}\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert!(in_maintenance(&r));
}

#[test]
fn upstream_open_ended_maintenance_switch_is_a_warning_and_not_applied() {
    let r = load("    _state_maintenance: \"enable\"\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert!(messages(&r, false)
        .iter()
        .any(|m| m.contains("`_state_maintenance: enable` has no end")));
    assert!(r.config.tenants.contains_key("db-a"));
    assert!(
        !in_maintenance(&r),
        "open-ended maintenance must not mute the tenant"
    );
}

#[test]
fn maintenance_target_other_than_all_is_a_warning_and_not_applied() {
    let r = load("    _state_maintenance: {expires: \"2026-06-02T00:00:00Z\", target: warning}\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert!(messages(&r, false).iter().any(|m| m.contains("`target`")));
    assert!(!in_maintenance(&r));
    let r = load("    _state_maintenance: {expires: \"2026-06-02T00:00:00Z\", target: all}\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert!(in_maintenance(&r));
}

#[test]
fn recurring_reason_and_decimal_durations_are_accepted() {
    let r = load(
        "    _state_maintenance:\n      recurring:\n        - {cron: \"0 11 * * *\", duration: 1.5h, reason: backup}\n",
    );
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    // 11:00 + 1.5h covers 12:00 and 12:29, not 12:30.
    assert!(in_maintenance(&r));
    let m = r.config.tenants["db-a"].maintenance.clone().unwrap();
    assert_eq!(m.recurring[0].duration_secs, 5400);
}

#[test]
fn unquoted_label_values_are_the_same_key_as_quoted_ones() {
    let r = load("    \"container_cpu{container=mariadb}\": 90\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    let snap = dynalert_model::resolve(&r.config, now());
    assert!(snap.series().any(|s| s.family == Family::UserThreshold
        && s.labels
            .iter()
            .any(|(k, v)| k == "container" && v == "mariadb")
        && s.value == 90.0));
}

#[test]
fn keys_outside_the_catalogue_typo_is_an_error_other_is_a_warning() {
    let r = load("    mysql_conection: 70\n");
    assert!(messages(&r, true)
        .iter()
        .any(|m| m.contains("unknown key `mysql_conection`")));
    let r = load("    redis_queue_length: 70\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert!(messages(&r, false)
        .iter()
        .any(|m| m.contains("unknown key `redis_queue_length`; not served")));
    let snap = dynalert_model::resolve(&r.config, now());
    assert!(!snap
        .series()
        .any(|s| s.labels.iter().any(|(_, v)| v == "queue_length")));
}

#[test]
fn a_key_without_a_component_is_an_error_with_a_hint() {
    let r = load_files(&[
        (
            "_defaults.yaml",
            "defaults:\n  uptime: 5\n  mysql_connections: 80\n",
        ),
        ("db-a.yaml", "tenants:\n  db-a: {}\n"),
    ]);
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.is_error() && d.message == "key `uptime` has no component")
        .unwrap_or_else(|| panic!("{:?}", r.diagnostics));
    assert_eq!((d.pos.line, d.pos.col), (2, 3));
    assert!(d
        .hint
        .as_deref()
        .unwrap()
        .contains("`<component>_<metric>`"));
}

#[test]
fn a_misspelt_tier_in_a_tier_map_gets_a_did_you_mean() {
    let r = load("    mysql_connections: {warn: 70}\n");
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.is_error() && d.message.contains("`warn`"))
        .unwrap_or_else(|| panic!("{:?}", r.diagnostics));
    assert_eq!(d.hint.as_deref(), Some("did you mean `warning`?"));
}

#[test]
fn a_critical_key_in_a_later_platform_file_resolves_to_its_base() {
    let r = load_files(&[
        ("_defaults.yaml", PLATFORM),
        (
            "_more.yaml",
            "defaults:\n  mysql_connections_critical: 120\n",
        ),
        (
            "db-a.yaml",
            "tenants:\n  db-a:\n    mysql_connections_critical: 150\n",
        ),
        ("db-b.yaml", "tenants:\n  db-b: {}\n"),
    ]);
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    let rows = |t| threshold_rows(&r, &[("tenant", t), ("component", "mysql")], "metric");
    assert_eq!(
        rows("db-b"),
        vec!["connections/critical=120", "connections/warning=80"]
    );
    assert_eq!(
        rows("db-a"),
        vec!["connections/critical=150", "connections/warning=80"]
    );
}

#[test]
fn expires_is_refused_where_there_is_nothing_to_return_to() {
    let r = load_files(&[
        (
            "_defaults.yaml",
            "defaults:\n  mysql_connections: {value: 80, expires: \"2027-01-01T00:00:00Z\"}\noptional_overrides: [mysql_slow_queries]\n",
        ),
        (
            "db-a.yaml",
            "tenants:\n  db-a:\n    mysql_slow_queries: {value: 5, expires: \"2027-01-01T00:00:00Z\"}\n",
        ),
    ]);
    let errs = messages(&r, true);
    assert!(
        errs.iter()
            .any(|m| m == "`expires` on the platform default `mysql_connections`"),
        "{errs:?}"
    );
    // The tenant error is reported in the same run as the platform error.
    assert!(
        errs.iter()
            .any(|m| m.contains("`expires` on `mysql_slow_queries`")),
        "{errs:?}"
    );
}

#[test]
fn a_disabled_dimensional_row_is_served_as_infinity_and_leaves_the_tenant_wide_row() {
    let r = load("    \"container_cpu{container='batch'}\": disable\n    container_cpu: 85\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    assert_eq!(
        threshold_rows(&r, &[("metric", "cpu")], "container"),
        vec![
            "-/warning=85",
            "batch/critical=inf",
            "batch/info=inf",
            "batch/warning=inf",
        ]
    );
}

#[test]
fn without_a_dimensions_block_rows_follow_the_shipped_packs() {
    // The platform above has no `dimensions:` block (upstream's format).
    let r = load("    \"container_cpu{pod='web-0'}\": 95\n");
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .unwrap_or_else(|| panic!("{:?}", r.diagnostics));
    assert_eq!(
        d.message,
        "`container_cpu` cannot be refined by label `pod`"
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("the shipped rule packs refine `container_cpu` by container")
    );
    // The label the pack honours is accepted, exact and regex.
    let r = load("    \"container_cpu{container='app'}\": 95\n    \"container_cpu{container=~'side-.*'}\": 96\n");
    assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
    // The tenant-wide row stays the platform default (80): rows are extra series.
    let snap = dynalert_model::resolve(&r.config, now());
    assert!(snap.series().any(|s| s.family == Family::UserThreshold
        && s.labels.len() == 4
        && s.labels.iter().any(|(k, v)| k == "metric" && v == "cpu")
        && s.value == 80.0));
}

#[test]
fn free_form_defaults_are_warnings_but_not_under_keys_the_packs_read() {
    let r = load_files(&[
        (
            "_defaults.yaml",
            "defaults:\n  alert_group: baseline\n  mysql_connections: eighty\n",
        ),
        ("db-a.yaml", "tenants:\n  db-a: {}\n"),
    ]);
    assert!(messages(&r, false)
        .iter()
        .any(|m| m == "default `alert_group` is not a threshold value; ignored"));
    assert!(
        messages(&r, true)
            .iter()
            .any(|m| m.contains("`mysql_connections` is not a number: `eighty`")),
        "{:?}",
        r.diagnostics
    );
    assert!(!r.platform_valid);
}
