//! `dynalert migrate` on the per-tenant rule set `dynalert bench` generates (1,000 tenants),
//! and on a hand-written messy rule file.

use std::path::{Path, PathBuf};
use std::process::Command;

use dynalert_bench::fixture::{Fixture, Variant};
use dynalert_cli::cmd::migrate::{run, Args};

fn user_thresholds(exposition: &str) -> Vec<String> {
    let mut lines: Vec<String> = exposition
        .lines()
        .filter(|l| l.starts_with("user_threshold{"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn args(rules: Vec<PathBuf>, out: &Path, packs: &Path, report: &Path) -> Args {
    Args {
        rules,
        out: out.to_path_buf(),
        packs: packs.to_path_buf(),
        tenant_label: "tenant".into(),
        report: Some(report.to_path_buf()),
        prove: false,
        promtool: "promtool".into(),
    }
}

/// `--prove` on what `run` wrote: the old copies against the new rules in promtool.
fn prove(a: &Args) -> bool {
    use dynalert_rules::migrate;
    let (rules, _) = migrate::read_rule_files(&a.rules).unwrap();
    let packs = migrate::pack_keys(&migrate::rule_files_under(&a.packs)).unwrap();
    let m = migrate::migrate(&rules, &packs, &a.tenant_label);
    let loaded = dynalert_config::load_dir(&a.out, chrono::Utc::now()).unwrap();
    dynalert_cli::cmd::migrate::prove(a, &m, &rules, &loaded.config).unwrap()
}

#[test]
#[ignore = "promtool proves 24,000 rules (minutes): `make test` runs it as a named step"]
fn the_bench_per_tenant_rules_become_the_same_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new(1000, 20);
    let original = dir.path().join("original");
    fixture.write_conf_d(&original).unwrap();
    let exposition = Fixture::render_thresholds(&original).unwrap();
    let (rules, count) = fixture.per_tenant_rules(&exposition).unwrap();
    let old = dir.path().join("per-tenant.yaml");
    std::fs::write(&old, rules).unwrap();
    // The bench's dynamic set plays the rule packs: it records each observation and
    // compares it with `tenant:alert_threshold:<key>`.
    let packs = dir.path().join("packs");
    std::fs::create_dir(&packs).unwrap();
    // The bench splits its set into recording and alerting groups to measure group
    // concurrency; a rule pack is one group with its recording rules first (BRIEF §5), so an
    // alert sees the values recorded in the same evaluation. Merged into one group here.
    let dynamic = fixture.dynamic_rules(Variant::PreJoined).0;
    let mut merged = String::new();
    for line in dynamic.lines() {
        let header = line.starts_with("  - name: ") || line == "    rules:";
        if !header || merged.is_empty() {
            merged.push_str(line);
            merged.push('\n');
        }
        if line == "groups:" {
            merged.push_str("  - name: bench-dynamic\n    rules:\n");
        }
    }
    std::fs::write(packs.join("bench.yaml"), merged).unwrap();

    let out = dir.path().join("conf.d");
    let report = dir.path().join("report.md");
    let a = args(vec![old], &out, &packs, &report);
    let code = run(args(a.rules.clone(), &out, &packs, &report)).unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    assert_eq!(code, 0, "every rule converts:\n{text}");
    // The old copies and the bench's dynamic rules with the migrated exporter series fire
    // the same alerts at every evaluation step.
    assert!(prove(&a), "--prove finds a difference");
    assert!(
        text.contains(&format!(
            "{count} alerting rules read (0 recording rules skipped): {count} converted into 20 alerts, 0 left alone."
        )),
        "{text}"
    );
    // The migrated conf.d serves exactly the thresholds the per-tenant rules hard-coded:
    // the same (tenant, key, tier, value) for every tenant, none more.
    let migrated = Fixture::render_thresholds(&out).unwrap();
    let want = user_thresholds(&exposition);
    let got = user_thresholds(&migrated);
    assert_eq!(
        want.len(),
        count,
        "one per-tenant rule per served threshold"
    );
    assert_eq!(got, want);
}

const MESSY: &str = r#"groups:
  - name: per-tenant-db
    rules:
      - alert: MySQLTooManyConnections
        expr: max(mysql_global_status_threads_connected{tenant="db-a"}) > 70
        for: 5m
        labels: {severity: warning, team: dba}
      - alert: MySQLTooManyConnections
        expr: max by (tenant) (mysql_global_status_threads_connected{tenant="db-a"}) > 120
        for: 5m
        labels: {severity: critical}
      - alert: MySQLTooManyConnections
        expr: max(mysql_global_status_threads_connected{tenant="db-b"}) > 200
        for: 5m
        labels: {severity: warning}
      - alert: MySQLConnectionsAtLeast
        expr: max(mysql_global_status_threads_connected{tenant="db-c"}) >= 50
        labels: {severity: warning}
      - alert: QueueDepthHigh
        expr: max by(tenant)(order_queue_depth{tenant="shop-a", queue=~"orders|refunds"}) > 1000
        labels: {severity: warning}
      - alert: QueueDepthHigh
        expr: max by(tenant)(order_queue_depth{queue=~"orders|refunds", tenant="shop-b"}) > 3000
        labels: {severity: warning}
      - alert: Http5xx
        expr: sum by (tenant) (rate(http_requests_total{tenant="shop-a", code=~"5.."}[5m])) > 5
        labels: {severity: critical}
      - alert: RenamedLabel
        expr: max(mysql_global_status_threads_connected{customer="db-d"}) > 70
        labels: {severity: warning}
      - alert: SlowButNotDown
        expr: max(mysql_global_status_threads_running{tenant="db-a"}) > 20 unless on() max(mysql_up{tenant="db-a"}) == 0
        labels: {severity: warning}
      - alert: MySQLFleetDegraded
        expr: sum(mysql_up{job="mysql"}) < 2
        labels: {severity: critical}
      - alert: TwoTenants
        expr: max(mysql_global_status_threads_connected{tenant="db-a"}) + max(mysql_global_status_threads_connected{tenant="db-b"}) > 500
        labels: {severity: warning}
      - record: job:mysql_up:sum
        expr: sum by(job)(mysql_up)
"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_messy_rule_file_is_converted_where_it_can_be_and_the_rest_reported() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("messy.yaml");
    std::fs::write(&old, MESSY).unwrap();
    let out = dir.path().join("conf.d");
    let report = dir.path().join("report.md");
    let code = run(args(
        vec![old.clone()],
        &out,
        &root().join("rules/packs"),
        &report,
    ))
    .unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    assert_eq!(code, 1, "rules were left alone:\n{text}");
    let left = text.split("## Left alone").nth(1).unwrap();
    for (rule, alert, why) in [
        (
            8,
            "RenamedLabel",
            "no `tenant=\"…\"` matcher: not a per-tenant rule (it selects on `customer`",
        ),
        (9, "SlowButNotDown", "combines two conditions with `unless`"),
        (
            10,
            "MySQLFleetDegraded",
            "no `tenant=\"…\"` matcher: not a per-tenant rule",
        ),
        (11, "TwoTenants", "selects several tenants"),
    ] {
        let line = format!("group `per-tenant-db` rule {rule}: `{alert}`: ");
        assert!(
            left.lines().any(|l| l.contains(&line) && l.contains(why)),
            "`{alert}` not reported as left alone with `{why}`:\n{text}"
        );
    }
    assert_eq!(
        left.lines().filter(|l| l.starts_with("* ")).count(),
        4,
        "{text}"
    );
    assert!(text.contains("11 alerting rules read (1 recording rules skipped): 7 converted into 4 alerts, 4 left alone."), "{text}");
    for want in [
        // The pack covers connections compared with `>`; the alert name changes to the pack's.
        "`MySQLTooManyConnections`: 3 rules of 2 tenants -> catalogue key `mysql_connections`",
        "the pack's alert is `MariaDBHighConnections`",
        "static labels not carried over: `team`",
        "the old alerts have no `tenant` label",
        // `>=` is not what the pack compares: a recipe keeps the operator.
        "`MySQLConnectionsAtLeast`: 1 rules of 1 tenants -> custom alert recipe `my_sql_connections_at_least` (threshold)",
    ] {
        assert!(text.contains(want), "{text}");
    }

    let loaded = dynalert_config::load_dir(&out, chrono::Utc::now()).unwrap();
    assert_eq!(loaded.errors(), 0);
    let tiers = |tenant: &str, key: &str| -> Vec<(String, Option<f64>)> {
        let t = &loaded.config.tenants[tenant];
        let (_, tiers) = t.thresholds.iter().find(|(k, _)| k.base == key).unwrap();
        tiers
            .iter()
            .map(|(s, v)| (s.to_string(), v.default))
            .collect()
    };
    assert_eq!(
        tiers("db-a", "mysql_connections"),
        vec![
            ("warning".into(), Some(70.0)),
            ("critical".into(), Some(120.0))
        ]
    );
    assert_eq!(
        tiers("db-b", "mysql_connections"),
        vec![("warning".into(), Some(200.0))]
    );
    let shop_a = &loaded.config.tenants["shop-a"].custom_alerts;
    assert_eq!(shop_a.len(), 2);
    let q = loaded.config.tenants["shop-a"]
        .custom_alert("queue_depth_high")
        .unwrap();
    assert_eq!(q.shape.selectors_re["queue"], "orders|refunds");
    assert!(!loaded.config.tenants.contains_key("db-d"));

    // Old rules and generated recipe rules on the same data: each converted recipe alert
    // fires for exactly the tenants, tiers and steps its old copies fire for.
    let shapes = dynalert_rules::shapes_of(&loaded.config);
    let new_rules = dir.path().join("custom-alerts.yaml");
    std::fs::write(
        &new_rules,
        dynalert_rules::render_custom_rules(
            &shapes,
            loaded.config.platform.recipe_limits(),
            "conf.d",
        ),
    )
    .unwrap();
    let snapshot = dynalert_model::resolve(&loaded.config, chrono::Utc::now());
    let body = dynalert_exposition::render(&snapshot, dynalert_exposition::Format::Text);
    let mut series = String::new();
    for line in body
        .lines()
        .filter(|l| l.starts_with("user_custom_threshold{"))
    {
        let (s, v) = line.rsplit_once(' ').unwrap();
        series.push_str(&format!(
            "      - series: '{s}'\n        values: '{v}+0x30'\n"
        ));
    }
    for (s, v) in [
        (
            "order_queue_depth{tenant=\"shop-a\",queue=\"orders\"}",
            "500x10 1500x20",
        ),
        (
            "order_queue_depth{tenant=\"shop-a\",queue=\"other\"}",
            "9000x30",
        ),
        (
            "order_queue_depth{tenant=\"shop-b\",queue=\"refunds\"}",
            "2000x10 3500x20",
        ),
        (
            "mysql_global_status_threads_connected{tenant=\"db-c\",instance=\"a\"}",
            "10x10 50x20",
        ),
        (
            "mysql_global_status_threads_connected{tenant=\"db-c\",instance=\"b\"}",
            "40x30",
        ),
        (
            "http_requests_total{tenant=\"shop-a\",code=\"503\"}",
            "0+60x10 0+600x20",
        ),
    ] {
        series.push_str(&format!("      - series: '{s}'\n        values: '{v}'\n"));
    }
    // (old name, new name, labels an alert is told apart by): `max(x{tenant="db-c"})` has
    // no `tenant` label (the report says so), its recipe alert has.
    let pairs = [
        ("QueueDepthHigh", "queue_depth_high", "tenant, severity"),
        (
            "MySQLConnectionsAtLeast",
            "my_sql_connections_at_least",
            "severity",
        ),
        ("Http5xx", "http5xx", "tenant, severity"),
    ];
    let mut tests = String::new();
    for at in ["5m", "15m", "25m"] {
        for (old_name, new_name, by) in pairs {
            // Every firing alert is counted once per rule set: 2 means both fire, 1 would
            // mean only one of them does.
            tests.push_str(&format!(
                "      - expr: count by({by}) (ALERTS{{alertstate=\"firing\", alertname=~\"{old_name}|{new_name}\"}}) != 2\n        eval_time: {at}\n        exp_samples: []\n"
            ));
        }
    }
    // And the expected firings happen at all (so the comparison above is not vacuous).
    for (name, tenant, sev) in [
        ("QueueDepthHigh", "shop-a", "warning"),
        ("QueueDepthHigh", "shop-b", "warning"),
        ("Http5xx", "shop-a", "critical"),
    ] {
        tests.push_str(&format!(
            "      - expr: count by(tenant, severity) (ALERTS{{alertstate=\"firing\", alertname=~\"{name}|{}\", tenant=\"{tenant}\"}})\n        eval_time: 25m\n        exp_samples:\n          - labels: '{{tenant=\"{tenant}\", severity=\"{sev}\"}}'\n            value: 2\n",
            pairs.iter().find(|p| p.0 == name).unwrap().1
        ));
    }
    tests.push_str("      - expr: count by(severity) (ALERTS{alertstate=\"firing\", alertname=~\"MySQLConnectionsAtLeast|my_sql_connections_at_least\"})\n        eval_time: 25m\n        exp_samples:\n          - labels: '{severity=\"warning\"}'\n            value: 2\n");
    let test = format!(
        "rule_files:\n  - {}\n  - {}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{series}    promql_expr_test:\n{tests}",
        old.display(),
        new_rules.display()
    );
    let test_file = dir.path().join("equal.test.yaml");
    std::fs::write(&test_file, &test).unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .arg(&test_file)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "{}{}\n{test}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn prove_fails_when_the_new_alert_waits_longer_than_the_old_one() {
    // db-b's copy fires at once; the pack's MariaDBHighConnections waits `for: 5m`.
    let text = MESSY.replacen(
        "expr: max(mysql_global_status_threads_connected{tenant=\"db-b\"}) > 200\n        for: 5m\n",
        "expr: max(mysql_global_status_threads_connected{tenant=\"db-b\"}) > 200\n",
        1,
    );
    assert_ne!(text, MESSY);
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("messy.yaml");
    std::fs::write(&old, text).unwrap();
    let out = dir.path().join("conf.d");
    let report = dir.path().join("report.md");
    let a = args(vec![old], &out, &root().join("rules/packs"), &report);
    run(args(a.rules.clone(), &out, &a.packs, &report)).unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("the pack alert waits `for: 5m`, the old rules `for: 0s`"),
        "{text}"
    );
    assert!(
        !prove(&a),
        "--prove must see db-b fire earlier with the old rule"
    );
}
