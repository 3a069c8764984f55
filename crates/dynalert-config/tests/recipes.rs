//! `_custom_alerts:` validation: every mistake is a located error with a hint, a tenant
//! with a bad recipe keeps only itself from loading, and the limits hold.

use std::fmt::Write as _;

mod common;

use chrono::{TimeZone, Utc};
use dynalert_model::{CompareOp, RecipeKind, Severity};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

const DEFAULTS: &str = "defaults:\n  mysql_connections: 80\n";

/// Loads `_defaults.yaml` + `files`; returns the report and the rendered diagnostics.
fn load(files: &[(&str, &str)]) -> (dynalert_config::LoadReport, String) {
    let mut all = vec![("_defaults.yaml", DEFAULTS)];
    all.extend_from_slice(files);
    load_files(&all)
}

fn tenant(id: &str, recipes: &str) -> String {
    format!("tenants:\n  {id}:\n    _custom_alerts:\n{recipes}")
}

#[test]
fn every_spelling_of_tiers_is_accepted() {
    let recipes = "      - {recipe: threshold, name: a, metric: m, op: \">\", window: 5m, threshold: 70}\n\
                   \x20     - {recipe: threshold, name: b, metric: m, op: \">\", window: 5m, threshold: \"70:critical\"}\n\
                   \x20     - {recipe: threshold, name: c, metric: m, op: \">\", window: 5m, threshold: {warning: 70, critical: disable}}\n\
                   \x20     - {recipe: threshold, name: d, metric: m, op: \">\", window: 5m, threshold: 70, threshold_critical: 90}\n";
    let (report, diags) = load(&[("shop-a.yaml", &tenant("shop-a", recipes))]);
    assert_eq!(report.errors(), 0, "{diags}");
    let t = &report.config.tenants["shop-a"];
    let tiers = |i: usize| -> Vec<(Severity, Option<f64>)> {
        t.custom_alerts[i]
            .thresholds
            .iter()
            .map(|(s, v)| (s, v.default))
            .collect()
    };
    assert_eq!(tiers(0), vec![(Severity::Warning, Some(70.0))]);
    assert_eq!(tiers(1), vec![(Severity::Critical, Some(70.0))]);
    assert_eq!(
        tiers(2),
        vec![(Severity::Warning, Some(70.0)), (Severity::Critical, None)]
    );
    assert_eq!(
        tiers(3),
        vec![
            (Severity::Warning, Some(70.0)),
            (Severity::Critical, Some(90.0))
        ]
    );
    // Equal shapes share a rule id whatever the thresholds; any shape field splits them.
    let ids: Vec<String> = t.custom_alerts.iter().map(|a| a.shape.id()).collect();
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "the names differ, so the shapes do");
    assert_eq!(t.custom_alerts[0].shape.op, CompareOp::Gt);
}

#[test]
fn the_exporter_serves_one_threshold_series_per_tier() {
    let recipes = "      - {recipe: rate, name: http_5xx, metric: http_requests_total, selectors: {method: POST}, op: \">\", window: 5m, threshold: {warning: 5, critical: 50}}\n";
    let (report, diags) = load(&[
        ("shop-a.yaml", &tenant("shop-a", recipes)),
        (
            "shop-b.yaml",
            "tenants:\n  shop-b:\n    mysql_connections: 90\n",
        ),
    ]);
    assert_eq!(report.errors(), 0, "{diags}");
    let id = report.config.tenants["shop-a"].custom_alerts[0].shape.id();
    let snap = dynalert_model::resolve(&report.config, now());
    let body = dynalert_exposition::render(&snap, dynalert_exposition::Format::Text);
    let lines: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("user_custom_threshold"))
        .collect();
    assert_eq!(
        lines,
        vec![
            format!("user_custom_threshold{{tenant=\"shop-a\",alert=\"http_5xx\",recipe=\"rate\",rule=\"{id}\",severity=\"critical\"}} 50"),
            format!("user_custom_threshold{{tenant=\"shop-a\",alert=\"http_5xx\",recipe=\"rate\",rule=\"{id}\",severity=\"warning\"}} 5"),
        ]
    );
    assert!(body.contains("# TYPE user_custom_threshold gauge\n"));
}

#[test]
fn platform_recipes_apply_to_every_tenant_and_cannot_be_redeclared() {
    let (report, rendered) = load_files(&[
        (
            "_defaults.yaml",
            &format!("{DEFAULTS}_custom_alerts:\n  - {{recipe: ratio, name: payment_failure_ratio, metric: payment_failed_total, denominator_metric: payment_attempts_total, op: \">\", window: 5m, threshold: \"0.01:critical\"}}\n"),
        ),
        ("pay-a.yaml", "tenants:\n  pay-a:\n    mysql_connections: 90\n"),
        (
            "pay-b.yaml",
            &tenant("pay-b", "      - {recipe: threshold, name: payment_failure_ratio, metric: m, op: \">\", window: 5m, threshold: 1}\n"),
        ),
    ]);
    assert!(
        rendered.contains("pay-b.yaml:4:35: error: custom alert `payment_failure_ratio` is already a platform custom alert"),
        "{rendered}"
    );
    assert_eq!(report.tenant_valid.get("pay-a"), Some(&true));
    assert_eq!(report.tenant_valid.get("pay-b"), Some(&false));
    let snap = dynalert_model::resolve(&report.config, now());
    let body = dynalert_exposition::render(&snap, dynalert_exposition::Format::Text);
    assert!(body.contains(
        "user_custom_threshold{tenant=\"pay-a\",alert=\"payment_failure_ratio\",recipe=\"ratio\""
    ));
}

/// (recipe line, expected `line:col: error: message` fragment, expected hint fragment)
const BAD: &[(&str, &str, &str)] = &[
    (
        "{recipe: tresholdd, name: a, metric: m, op: \">\", window: 5m, threshold: 1}",
        "4:18: error: unknown recipe `tresholdd` in custom alert `a`",
        "did you mean `threshold`?",
    ),
    (
        "{recipe: threshold, name: QueueHigh, metric: m, op: \">\", window: 5m, threshold: 1}",
        "4:35: error: custom alert name `QueueHigh` is not valid",
        "lower-case letters",
    ),
    (
        "{recipe: threshold, name: a, metric: \"up{job='x'}\", op: \">\", window: 5m, threshold: 1}",
        "4:46: error: `metric` of custom alert `a` is not a metric name: `up{job='x'}`",
        "labels go in `selectors`",
    ),
    (
        "{recipe: threshold, name: a, metric: m, selectors: {__name__: x}, op: \">\", window: 5m, threshold: 1}",
        "error: `selectors` of custom alert `a`: `__name__` is not a label name",
        "not starting with a digit or `__`",
    ),
    (
        "{recipe: threshold, name: a, metric: m, selectors: {tenant: shop-b}, op: \">\", window: 5m, threshold: 1}",
        "error: `selectors` of custom alert `a` selects on `tenant`",
        "keeps every tenant to its own series",
    ),
    (
        "{recipe: rate, name: a, metric: m, selectors_re: {code: \"5(\"}, op: \">\", window: 5m, threshold: 1}",
        "error: selector `code` of custom alert `a` is not a valid regex",
        "RE2 regex",
    ),
    (
        "{recipe: rate, name: a, metric: m, selectors: {code: {a: b}}, op: \">\", window: 5m, threshold: 1}",
        "error: selector `code` of custom alert `a` must be a string, found a mapping",
        "quote the value",
    ),
    (
        "{recipe: rate, name: a, metric: m, selector: {code: x}, op: \">\", window: 5m, threshold: 1}",
        "error: unknown field `selector` in custom alert `a`",
        "did you mean `selectors`?",
    ),
    (
        "{recipe: rate, name: a, metric: m, op: \"=>\", window: 5m, threshold: 1}",
        "error: unknown `op` `=>` in custom alert `a`",
        "`op` is one of",
    ),
    (
        "{recipe: rate, name: a, metric: m, op: \"==\", window: 5m, threshold: 1}",
        "error: `op: ==` in custom alert `a`: computed values are never exactly equal",
        "raw gauges",
    ),
    (
        "{recipe: rate, name: a, metric: m, op: \">\", window: 5x, threshold: 1}",
        "error: `window` of custom alert `a` must be a duration between 1s and 7d, found `5x`",
        "`5m`",
    ),
    (
        "{recipe: rate, name: a, metric: m, op: \">\", window: 5m, threshold: abc}",
        "4:76: error: `threshold` is not a number: `abc`",
        "",
    ),
    (
        "{recipe: rate, name: a, metric: m, op: \">\", window: 5m}",
        "error: custom alert `a` has no `threshold`",
        "threshold: {warning: 100, critical: 200}",
    ),
    (
        "{recipe: ratio, name: a, metric: m, op: \">\", window: 5m, threshold: 1}",
        "error: custom alert `a` has no `denominator_metric`",
        "",
    ),
    (
        "{recipe: absence, name: a, metric: m, op: \">\", window: 5m, threshold: 1}",
        "error: `op` in custom alert `a`, an `absence` recipe",
        "remove `op`",
    ),
    (
        "{recipe: forecast, name: a, metric: m, op: \"<\", threshold: 1}",
        "error: custom alert `a` has no `horizon`",
        "horizon: 4h",
    ),
    (
        "{recipe: slo_burn_rate, name: a, metric: e, denominator_metric: t, objective: \"100\"}",
        "error: `objective` of custom alert `a` must be a percentage between 0 and 100",
        "",
    ),
    (
        "{recipe: threshold, name: a, metric: m, op: \">\", window: 5m, threshold: 1, mode: loud}",
        "error: `mode` of custom alert `a` must be `page` or `silent`",
        "",
    ),
];

#[test]
fn every_mistake_is_a_located_error_and_rejects_only_its_tenant() {
    let mut failures = String::new();
    for (recipe, message, hint) in BAD {
        let (report, diags) = load(&[
            (
                "shop-a.yaml",
                &tenant("shop-a", &format!("      - {recipe}\n")),
            ),
            (
                "shop-b.yaml",
                "tenants:\n  shop-b:\n    mysql_connections: 90\n",
            ),
        ]);
        let ok = diags
            .lines()
            .any(|l| l.starts_with("shop-a.yaml:") && l.contains(message))
            && diags.contains("hint: ")
            && diags.contains(hint)
            && report.tenant_valid.get("shop-a") == Some(&false)
            && report.tenant_valid.get("shop-b") == Some(&true);
        if !ok {
            let _ = writeln!(
                failures,
                "recipe {recipe}\n  expected {message} / {hint}\n  got:\n{diags}"
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn a_duplicate_name_is_located_at_the_second_declaration() {
    let recipes = "      - {recipe: threshold, name: a, metric: m, op: \">\", window: 5m, threshold: 1}\n\
                   \x20     - {recipe: threshold, name: a, metric: n, op: \">\", window: 5m, threshold: 1}\n";
    let (_, diags) = load(&[("shop-a.yaml", &tenant("shop-a", recipes))]);
    assert!(
        diags.contains(
            "shop-a.yaml:5:35: error: custom alert `a` is declared twice (first at line 4)"
        ),
        "{diags}"
    );
}

#[test]
fn the_per_tenant_limit_is_enforced_at_the_first_recipe_over_it() {
    let limit = dynalert_config::recipes::MAX_TENANT_RECIPES;
    let mut recipes = String::new();
    for i in 0..=limit {
        let _ = writeln!(
            recipes,
            "      - {{recipe: threshold, name: a{i}, metric: m, op: \">\", window: 5m, threshold: 1}}"
        );
    }
    let (report, diags) = load(&[("shop-a.yaml", &tenant("shop-a", &recipes))]);
    // Line 4 holds recipe 0, so the first recipe over the limit is on line 4 + limit.
    let expected = format!(
        "shop-a.yaml:{}:9: error: too many custom alerts: {} declared, a tenant may declare at most {limit}",
        4 + limit,
        limit + 1
    );
    assert!(diags.contains(&expected), "{diags}");
    assert_eq!(report.tenant_valid.get("shop-a"), Some(&false));
    // Exactly at the limit it loads.
    let at_limit: String = recipes
        .lines()
        .take(limit)
        .map(|l| format!("{l}\n"))
        .collect();
    let (report, diags) = load(&[("shop-a.yaml", &tenant("shop-a", &at_limit))]);
    assert_eq!(report.errors(), 0, "{diags}");
    assert_eq!(report.config.tenants["shop-a"].custom_alerts.len(), limit);
}

#[test]
fn the_platform_limit_is_enforced() {
    let limit = dynalert_config::recipes::MAX_PLATFORM_RECIPES;
    let mut text = format!("{DEFAULTS}_custom_alerts:\n");
    for i in 0..=limit {
        let _ = writeln!(
            text,
            "  - {{recipe: threshold, name: p{i}, metric: m, op: \">\", window: 5m, threshold: 1}}"
        );
    }
    let (report, rendered) = load_files(&[("_defaults.yaml", &text)]);
    assert!(
        rendered.contains(&format!(
            "_defaults.yaml:{}:5: error: too many custom alerts: {} declared, the platform may declare at most {limit}",
            4 + limit,
            limit + 1
        )),
        "{rendered}"
    );
    assert!(!report.platform_valid);
}

#[test]
fn upstream_spellings_map_to_the_recipes() {
    let recipes = "      - {recipe: p99_latency, name: lat, metric: http_request_duration_seconds, quantile: \"0.99\", op: \">\", window: 5m, threshold: \"2:warning\"}\n\
                   \x20     - {recipe: p99_latency, name: lat2, metric: http_request_duration_seconds_bucket, op: \">\", window: 5m, threshold: 2}\n\
                   \x20     - {recipe: slo_burn_rate, name: avail, metric: e_total, denominator_metric: t_total, objective: \"99.9\"}\n";
    let (report, diags) = load(&[("shop-a.yaml", &tenant("shop-a", recipes))]);
    assert_eq!(report.errors(), 0, "{diags}");
    let a = &report.config.tenants["shop-a"].custom_alerts;
    assert_eq!(a[0].shape.kind, RecipeKind::Quantile);
    assert_eq!(a[0].shape.quantile.as_deref(), Some("0.99"));
    assert_eq!(a[1].shape.metric, "http_request_duration_seconds");
    assert_eq!(a[1].shape.quantile.as_deref(), Some("0.99"));
    // 99.9 % objective: an error budget of 0.1 % served for both burn tiers.
    let budget: Vec<(Severity, Option<f64>)> = a[2]
        .thresholds
        .iter()
        .map(|(s, v)| (s, v.default))
        .collect();
    let b = budget[0].1.unwrap();
    assert!((b - 0.001).abs() < 1e-12, "{budget:?}");
    assert_eq!(budget.len(), 2);
}

/// Loads a conf.d of the given files (no default platform file added).
fn load_files(files: &[(&str, &str)]) -> (dynalert_config::LoadReport, String) {
    common::load_files(files, now())
}

#[test]
fn the_recipe_limits_are_a_platform_setting_with_defaults() {
    let (report, diags) = load_files(&[("_defaults.yaml", DEFAULTS)]);
    assert_eq!(report.errors(), 0, "{diags}");
    let limits = report.config.platform.recipe_limits();
    assert_eq!(limits.max_series_per_tenant, 10_000);
    assert_eq!(limits.max_alerts_per_rule, 20_000);

    let (report, diags) = load_files(&[
        ("_defaults.yaml", DEFAULTS),
        (
            "_limits.yaml",
            "custom_alert_limits:\n  max_series_per_tenant: 500\n",
        ),
    ]);
    assert_eq!(report.errors(), 0, "{diags}");
    let limits = report.config.platform.recipe_limits();
    assert_eq!(limits.max_series_per_tenant, 500);
    assert_eq!(
        limits.max_alerts_per_rule, 20_000,
        "an unset limit keeps its default"
    );
}

#[test]
fn a_bad_recipe_limit_is_a_located_platform_error() {
    for (text, want) in [
        (
            "custom_alert_limits:\n  max_series_per_tenant: 0\n",
            "_limits.yaml:2:26: error: `custom_alert_limits.max_series_per_tenant` must be a whole number from 1 to 10000000, found `0`",
        ),
        (
            "custom_alert_limits:\n  max_alerts_per_rule: 1.5\n",
            "_limits.yaml:2:24: error: `custom_alert_limits.max_alerts_per_rule` must be a whole number from 1 to 10000000, found `1.5`",
        ),
        (
            "custom_alert_limits:\n  max_alerts_per_rule: 20000000\n",
            "_limits.yaml:2:24: error: `custom_alert_limits.max_alerts_per_rule` must be a whole number from 1 to 10000000",
        ),
        (
            "custom_alert_limits:\n  max_series: 10\n",
            "_limits.yaml:2:3: error: unknown field `max_series` in `custom_alert_limits`",
        ),
        (
            "custom_alert_limits: off\n",
            "_limits.yaml:1:22: error: `custom_alert_limits` must be a mapping, found `off`",
        ),
    ] {
        let (report, diags) =
            load_files(&[("_defaults.yaml", DEFAULTS), ("_limits.yaml", text)]);
        assert!(diags.contains(want), "want {want:?} in:\n{diags}");
        assert!(diags.contains("hint: "), "{diags}");
        assert!(!report.platform_valid, "{diags}");
    }
    let (_, diags) = load_files(&[
        ("_defaults.yaml", DEFAULTS),
        ("_limits.yaml", "custom_alert_limits:\n  max_series: 10\n"),
    ]);
    assert!(
        diags.contains("did you mean `max_series_per_tenant`"),
        "{diags}"
    );
}

#[test]
fn only_the_root_platform_sets_the_recipe_limits_once() {
    let (report, diags) = load_files(&[
        ("_defaults.yaml", DEFAULTS),
        (
            "_a.yaml",
            "custom_alert_limits: {max_series_per_tenant: 10}\n",
        ),
        (
            "_b.yaml",
            "custom_alert_limits: {max_series_per_tenant: 20}\n",
        ),
    ]);
    assert!(
        diags.contains("_b.yaml:1:1: error: a second platform `custom_alert_limits:` block"),
        "{diags}"
    );
    assert!(!report.platform_valid);
    // A domain's defaults cannot set them either: they bound what one tenant costs all others.
    let (_, diags) = load_files(&[
        ("_defaults.yaml", DEFAULTS),
        (
            "emea/_defaults.yaml",
            "custom_alert_limits: {max_series_per_tenant: 10}\n",
        ),
        (
            "emea/shop-e.yaml",
            "tenants:\n  shop-e:\n    mysql_connections: 90\n",
        ),
    ]);
    assert!(
        diags.contains("emea/_defaults.yaml:1:1: error: platform-wide block `custom_alert_limits` in a subdirectory's defaults"),
        "{diags}"
    );
    // A tenant cannot raise its own limit.
    let (report, diags) = load_files(&[
        ("_defaults.yaml", DEFAULTS),
        (
            "shop-a.yaml",
            "tenants:\n  shop-a:\n    custom_alert_limits: {max_series_per_tenant: 1000000}\n",
        ),
    ]);
    assert!(diags.contains("shop-a.yaml:3:5: error:"), "{diags}");
    assert!(!report.tenant_valid["shop-a"], "{diags}");
    assert_eq!(
        report.config.platform.recipe_limits().max_series_per_tenant,
        10_000
    );
}
