//! Contract tests of the real packs in `rules/packs` against `examples/conf.d/_defaults.yaml`
//! and the real exporter captures in `testdata/exporter-output`, plus proof that each check
//! catches the mistake it exists for.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dynalert_rules::pack::parse_rule_file;
use dynalert_rules::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalogue() -> Catalogue {
    load_catalogue(&root().join("examples/conf.d/_defaults.yaml")).unwrap()
}

fn types() -> MetricTypes {
    load_metric_types(&root().join("testdata/exporter-output")).unwrap()
}

/// `(key, label, is_regex, value)` of every dimension of every tenant the configuration
/// loader accepts in examples/conf.d (the validated model, not a parser of our own).
fn example_dimensions() -> Vec<(String, String, bool, String)> {
    let report =
        dynalert_config::load_dir(root().join("examples/conf.d"), chrono::Utc::now()).unwrap();
    assert!(report.platform_valid, "{:?}", report.diagnostics);
    let mut out = Vec::new();
    for tenant in report.config.tenants.values() {
        for key in tenant.thresholds.keys() {
            for d in &key.dims {
                out.push((key.base.clone(), d.label.clone(), d.regex, d.value.clone()));
            }
        }
    }
    out
}

fn packs() -> Vec<Rule> {
    load_packs(&root().join("rules/packs")).unwrap()
}

#[test]
fn catalogue_is_read_with_yaml_rust2() {
    let cat = catalogue();
    for key in [
        "mysql_connections",
        "mysql_slow_queries",
        "pg_deadlocks",
        "container_cpu",
    ] {
        assert!(cat.keys.contains(key), "{key} missing from {:?}", cat.keys);
    }
    assert_eq!(
        cat.state_filters["container_imagepull"],
        BTreeSet::from(["ImagePullBackOff", "ErrImagePull", "InvalidImageName"].map(String::from))
    );
}

#[test]
fn every_pack_satisfies_the_contract() {
    let rules = packs();
    assert!(rules.len() > 40, "only {} rules loaded", rules.len());
    let violations = check(&rules, &catalogue(), &types());
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "contract violations:\n{}",
        text.join("\n")
    );
}

#[test]
fn contract_alert_names_exist() {
    let names: BTreeSet<String> = packs()
        .into_iter()
        .filter(|r| r.kind == RuleKind::Alert)
        .map(|r| r.name)
        .collect();
    for name in [
        "MariaDBHighConnections",
        "MariaDBHighThreadsRunning",
        "PodContainerHighCPU",
        "PodContainerHighMemory",
        "ContainerCrashLooping",
        "ContainerImagePullFailing",
        "MariaDBSystemBottleneck",
        "MariaDBDown",
        "TenantExporterMissing",
        "ThresholdExporterDown",
        "ThresholdConfigReloadFailing",
        "TenantConfigRejected",
        "TenantSilentModeActive",
        "Watchdog",
    ] {
        assert!(names.contains(name), "alert `{name}` missing");
    }
}

#[test]
fn coverage_arms_every_catalogue_key() {
    let cat = catalogue();
    let cov = coverage(&root().join("rules/packs"), &cat.keys).unwrap();
    assert!(cov.unarmed().is_empty(), "unarmed: {:?}", cov.unarmed());
    assert!(cov.unknown.is_empty(), "unknown keys: {:?}", cov.unknown);
    assert!(cov.keys["mysql_connections"].contains("MariaDBHighConnections"));
    assert!(cov.keys["mysql_connections"].contains("MariaDBSystemBottleneck"));
    assert!(cov.keys["container_cpu"].contains("PodContainerHighCPU"));
    let text = render_coverage(&cov);
    assert!(
        text.contains("12 keys, 0 unarmed, 0 unknown keys read"),
        "{text}"
    );
}

#[test]
fn generated_regex_threshold_files_are_up_to_date() {
    let report =
        dynalert_config::load_dir(root().join("examples/conf.d"), chrono::Utc::now()).unwrap();
    let rows = regex_rows_of(&report.config);
    assert!(!rows.is_empty());
    let mut stale = Vec::new();
    for pack in ["kubernetes", "postgresql", "redis"] {
        let path = root().join(format!("rules/packs/{pack}/regex-thresholds.yaml"));
        let want = render_regex_rules(pack, &rows, "examples/conf.d");
        let got = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            if std::env::var_os("UPDATE_GENERATED").is_some() {
                std::fs::write(&path, &want).unwrap();
            } else {
                stale.push(format!("{}:\n{want}", path.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale; run `UPDATE_GENERATED=1 cargo test -p dynalert-rules`:\n{}",
        stale.join("\n")
    );
}

#[test]
fn example_tenants_use_only_dimensions_the_packs_honour() {
    let dims = example_dimensions();
    assert!(
        dims.iter().any(|d| d.2),
        "examples/conf.d has no regex row: {dims:?}"
    );
    for (key, label, _, value) in dims {
        assert!(
            DIMENSIONS
                .iter()
                .any(|(k, _, _, l)| *k == key && *l == label),
            "`{key}{{{label}…{value}}}`: the packs do not resolve `{key}` per `{label}`"
        );
    }
}

// --- each check catches its mistake -------------------------------------------------------

fn one(pack: &str, body: &str) -> Vec<String> {
    let text = format!("groups:\n  - name: t\n    rules:\n{body}");
    let mut rules = parse_rule_file(pack, Path::new("t.yaml"), &text).unwrap();
    rules.extend(packs());
    check(&rules, &catalogue(), &types())
        .into_iter()
        .map(|v| v.to_string())
        .collect()
}

fn assert_caught(pack: &str, body: &str, needle: &str) {
    let found = one(pack, body);
    assert!(
        found.iter().any(|v| v.contains(needle)),
        "expected a violation containing `{needle}`, got {found:#?}"
    );
}

const GUARD: &str = "unless on(tenant) (max by(tenant)(user_maintenance) == 1)";

/// Each mistake in one rule of a pack, and the violation the contract check reports.
#[test]
fn catches_each_mistake_in_a_rule() {
    let cases = [
        // a sum of thresholds
        (
            "mariadb",
            "      - record: tenant:alert_threshold:x\n        expr: sum by(tenant, severity)(user_threshold{component=\"mysql\", metric=\"connections\"})\n",
            "aggregates a threshold with `sum`",
        ),
        // an unknown threshold key
        (
            "mariadb",
            "      - record: tenant:alert_threshold:x\n        expr: max by(tenant, severity)(user_threshold{component=\"mysql\", metric=\"qps\"})\n",
            "threshold key `mysql_qps`",
        ),
        // `rate` on a gauge
        (
            "mariadb",
            "      - record: tenant:x:rate5m\n        expr: sum by(tenant)(rate(mysql_global_status_threads_running[5m]))\n",
            "applies `rate` to `mysql_global_status_threads_running`",
        ),
        // a metric in no capture
        (
            "mariadb",
            "      - record: tenant:x:max\n        expr: max by(tenant)(mysql_global_status_threads_conected)\n",
            "reads `mysql_global_status_threads_conected`, which is in no capture",
        ),
        // state filter reasons that drift from the catalogue
        (
            "kubernetes",
            &format!("      - alert: X\n        expr: (kube_pod_container_status_waiting_reason{{reason=~\"ImagePullBackOff|ErrImagePull\"}} * on(namespace) group_left(tenant) namespace:tenant:info * on(tenant) group_left(severity) max by(tenant, severity)(user_state_filter{{filter=\"container_imagepull\"}})) {GUARD}\n        labels: {{component: container}}\n"),
            "state filter `container_imagepull` matches reasons",
        ),
        // a platform alert without a scope
        (
            "platform",
            "      - alert: X\n        expr: vector(1)\n        labels: {severity: none}\n",
            "without label `scope: platform`",
        ),
    ];
    for (pack, body, needle) in cases {
        assert_caught(pack, body, needle);
    }
}

#[test]
fn catches_an_alert_that_stops_during_maintenance() {
    let plain = "      - alert: X\n        expr: tenant:mysql_threads_connected:max > 1\n        labels: {severity: warning, component: mysql}\n";
    assert!(!one("mariadb", plain)
        .iter()
        .any(|v| v.contains("user_maintenance")));
    let guarded = format!("      - alert: X\n        expr: (tenant:mysql_threads_connected:max > 1) {GUARD}\n        labels: {{severity: warning, component: mysql}}\n");
    assert_caught("mariadb", &guarded, "alert reads `user_maintenance`");
    assert_caught("liveness", &guarded, "alert reads `user_maintenance`");
}

#[test]
fn catches_unarmed_key() {
    let rules: Vec<Rule> = packs()
        .into_iter()
        .filter(|r| r.name != "RedisHighConnectedClients")
        .collect();
    let found: Vec<String> = check(&rules, &catalogue(), &types())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        found
            .iter()
            .any(|v| v.contains("redis_connected_clients") && v.contains("unarmed")),
        "{found:#?}"
    );
}

#[test]
fn catches_warning_rule_before_critical() {
    let rule = |sev: &str| {
        format!("      - alert: X\n        expr: (tenant:mysql_threads_connected:max > 1) {GUARD}\n        labels: {{severity: {sev}, component: mysql}}\n")
    };
    let needle = "critical rule comes after the warning rule";
    assert_caught("mariadb", &(rule("warning") + &rule("critical")), needle);
    assert!(!one("mariadb", &(rule("critical") + &rule("warning")))
        .iter()
        .any(|v| v.contains(needle)));
}

// --- regex rows: armed or loudly unarmed ---------------------------------------------------

/// The generated rule files arm exactly the rows they were generated from; a row added to a
/// tenant afterwards (a conf.d edited without regenerating) is reported with its location.
#[test]
fn generated_markers_arm_exactly_the_generated_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    for e in std::fs::read_dir(root().join("examples/conf.d")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let report = dynalert_config::load_dir(&dir, chrono::Utc::now()).unwrap();
    let rows = regex_rows_of(&report.config);
    let texts: Vec<String> = ["kubernetes", "postgresql", "redis"]
        .iter()
        .map(|p| render_regex_rules(p, &rows, "test"))
        .collect();
    let armed = armed_rows(texts.iter().map(String::as_str));
    let supported: BTreeSet<RegexRow> = rows
        .iter()
        .filter(|r| {
            DIMENSIONS
                .iter()
                .any(|(k, _, _, l)| *k == r.key && *l == r.label)
        })
        .cloned()
        .collect();
    assert!(!supported.is_empty());
    assert_eq!(armed, supported);
    assert!(unarmed_rows(&report.config, &armed).is_empty());

    // A tenant adds a row on another regex: the same files no longer cover it.
    let (tenant, text) = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .map(|p| (p.clone(), std::fs::read_to_string(p).unwrap()))
        .find(|(_, text)| text.contains("container_cpu"))
        .expect("an example tenant with container_cpu");
    let (line, row) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("container_cpu"))
        .unwrap();
    let indent: String = row.chars().take_while(|c| *c == ' ').collect();
    let mut lines: Vec<&str> = text.lines().collect();
    let added = format!("{indent}\"container_cpu{{container=~'worker-.*'}}\": \"97\"");
    lines.insert(line, &added);
    std::fs::write(&tenant, lines.join("\n") + "\n").unwrap();
    let report = dynalert_config::load_dir(&dir, chrono::Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);
    let unarmed = unarmed_rows(&report.config, &armed);
    assert_eq!(unarmed.len(), 1, "{unarmed:?}");
    let u = &unarmed[0];
    let row = (&*u.row.key, &*u.row.label, &*u.row.regex);
    assert_eq!(row, ("container_cpu", "container", "worker-.*"));
    assert_eq!(u.key, "container_cpu{container=~\"worker-.*\"}");
    assert!(u
        .file
        .ends_with(&*tenant.file_name().unwrap().to_string_lossy()));
    assert_eq!(u.line as usize, line + 1);
}

/// ThresholdRegexRowUnarmed has one branch per dimension label the packs honour.
#[test]
fn unarmed_alert_covers_every_dimension_label() {
    let rules = packs();
    let alert = rules
        .iter()
        .find(|r| r.name == "ThresholdRegexRowUnarmed")
        .expect("platform alert ThresholdRegexRowUnarmed");
    for (_, _, _, label) in DIMENSIONS {
        assert!(
            alert.expr.contains(&format!("{label}_re!=\"\""))
                && alert
                    .expr
                    .contains(&format!("unless on(component, metric, {label}_re) {ARMED}")),
            "ThresholdRegexRowUnarmed has no branch for `{label}_re`:\n{}",
            alert.expr
        );
    }
}

// --- runbooks: absolute, from one platform setting -----------------------------------------

/// Every alert's `runbook_url` is the tenant's own (tenant alerts) or
/// `<setting>/<pack>/README.md#<alertname in lower case>`, built from the platform pack's
/// setting, and that README has the heading; the shipped setting is an absolute URL.
#[test]
fn runbook_urls_are_built_from_the_platform_setting_and_resolve() {
    let setting = format!(
        "{{{{ with query `{RUNBOOK_SETTING}` }}}}{{{{ . | first | label \"url\" }}}}{{{{ end }}}}/"
    );
    let packs = root().join("rules/packs");
    let mut seen = 0;
    let mut recorded = 0;
    let mut problems = Vec::new();
    for pack in [
        "kubernetes",
        "liveness",
        "mariadb",
        "platform",
        "postgresql",
        "redis",
    ] {
        let text = std::fs::read_to_string(packs.join(pack).join("alerts.yaml")).unwrap();
        let readme = std::fs::read_to_string(packs.join(pack).join("README.md")).unwrap();
        // Anchors a renderer gives the README: heading slugs and explicit `<a id="…">`.
        let mut headings: BTreeSet<String> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(|h| {
                h.trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect()
            })
            .collect();
        for part in readme.split("<a id=\"").skip(1) {
            headings.insert(part.split('"').next().unwrap().to_string());
        }
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        for g in docs[0]["groups"].as_vec().unwrap() {
            for r in g["rules"].as_vec().unwrap() {
                let Some(alert) = r["alert"].as_str() else {
                    if r["record"].as_str() == Some(RUNBOOK_SETTING) {
                        let url = r["labels"]["url"].as_str().unwrap();
                        assert!(url.starts_with("https://"), "{url}");
                        assert_eq!(url, DEFAULT_RUNBOOK_BASE);
                    }
                    // The tenants' runbook series takes its base from the setting.
                    if r["record"].as_str() == Some("tenant:runbook:info") {
                        let expr = r["expr"].as_str().unwrap();
                        assert!(expr.contains(&format!(
                            "group_left(url) ({RUNBOOK_SETTING} or on() vector(1))"
                        )));
                        recorded += 1;
                    }
                    continue;
                };
                seen += 1;
                let url = r["annotations"]["runbook_url"].as_str().unwrap_or("");
                let want = format!("{setting}{pack}/README.md#{}", alert.to_lowercase());
                if !url.contains(&want) {
                    problems.push(format!(
                        "{pack}: {alert}: runbook_url `{url}` lacks `{want}`"
                    ));
                }
                if !headings.contains(&alert.to_lowercase()) {
                    problems.push(format!(
                        "{pack}: {alert}: README.md has no anchor `{}`",
                        alert.to_lowercase()
                    ));
                }
                // One template query for the tenant's own URL and the setting: the tenant's
                // series recorded by the platform pack from its metadata and the setting (else
                // the setting alone); its path is the same as the fallback's.
                let combined = "tenant:runbook:info{tenant='%s'}`";
                let joined_path = format!(
                    "{{{{ $s | label \"url\" }}}}/{pack}/README.md#{}",
                    alert.to_lowercase()
                );
                let mut rest = url.replace(&want, "");
                if url.contains(combined) {
                    rest = rest.replace(&joined_path, "");
                }
                // Nothing relative is left: every path goes through the setting.
                if rest.contains("README.md") {
                    problems.push(format!(
                        "{pack}: {alert}: a runbook path bypasses the setting"
                    ));
                }
            }
        }
    }
    assert!(seen > 30, "{seen} alerts");
    assert_eq!(
        recorded, 1,
        "the platform pack records `tenant:runbook:info` once"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn setting_the_runbook_base_changes_only_the_setting() {
    let path = root().join("rules/packs/platform/alerts.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let set = set_runbook_base(&text, "https://wiki.corp.example/runbooks/");
    assert_ne!(set, text);
    assert!(set.contains("url: \"https://wiki.corp.example/runbooks\""));
    assert!(!set.contains(DEFAULT_RUNBOOK_BASE));
    let changed: Vec<_> = text
        .lines()
        .zip(set.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
}
