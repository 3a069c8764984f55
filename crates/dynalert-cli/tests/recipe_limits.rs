//! The recipe limits (docs/recipes.md#limits) in a real Prometheus: the generated rule file
//! loaded as is, over a backfilled history (`promtool tsdb create-blocks-from openmetrics`),
//! Prometheus scraping itself for its rule-failure counter. One tenant over the series limit
//! and one shape over the alert limit: only those are off, each named by a platform alert,
//! and every other tenant's recipe alert fires.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use dynalert_probe::port::EXPORTER_TOOLKIT;
use dynalert_probe::process::Guard;

fn get(url: &str) -> Option<serde_json::Value> {
    dynalert_probe::http::get_json(url).ok()
}

/// Waits (deadline `limit`) until `f` gives a value; panics naming `what` after it.
fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    dynalert_probe::wait_for(what, limit, || Ok(f())).unwrap()
}

/// Tenants: `flood` shares the `errors_fast` shape with `calm` and has 16 series of its
/// metric (limit 12); `wide` forecasts 5 volumes, 5 alerts of one rule (limit 4); `other`
/// has a shape of its own.
const LIMITS: &str = "custom_alert_limits: {max_series_per_tenant: 12, max_alerts_per_rule: 4}\n";

fn write_conf(conf: &Path) {
    let errors = |t: &str| {
        format!("      - {{recipe: rate, name: errors_fast, metric: http_requests_total, selectors_re: {{code: \"5..\"}}, op: \">\", window: 5m, threshold: \"{t}:warning\"}}\n")
    };
    let file = |id: &str, body: &str| format!("tenants:\n  {id}:\n    _custom_alerts:\n{body}");
    std::fs::create_dir(conf).unwrap();
    for (name, text) in [
        ("_defaults.yaml", format!("defaults:\n  mysql_connections: 80\n{LIMITS}")),
        ("flood.yaml", file("flood", &errors("1"))),
        ("calm.yaml", file("calm", &errors("5"))),
        ("other.yaml", file("other", "      - {recipe: threshold, name: queue_deep, metric: queue_depth, op: \">\", threshold: \"100:warning\"}\n")),
        ("wide.yaml", file("wide", "      - {recipe: forecast, name: disk_will_fill, metric: kubelet_volume_stats_available_bytes, capacity_metric: kubelet_volume_stats_capacity_bytes, op: \"<\", horizon: 1h, threshold: \"0.15:warning\", group_by: [persistentvolumeclaim]}\n")),
    ] {
        std::fs::write(conf.join(name), text).unwrap();
    }
}

/// A series' value at minute `m` of the history.
type ValueAt = Box<dyn Fn(f64) -> f64>;

/// 30 minutes of history up to `end` (seconds), one sample every 15 s per series: the
/// exporter's threshold series and each tenant's application metrics.
fn history(config: &dynalert_model::Config, end: i64) -> String {
    let snapshot = dynalert_model::resolve(config, chrono::Utc::now());
    let text = dynalert_exposition::render(&snapshot, dynalert_exposition::Format::Text);
    let mut series: Vec<(String, ValueAt)> = Vec::new();
    for line in text.lines().filter(|l| {
        l.starts_with("user_custom_threshold{") || l.starts_with("tenant_metadata_info{")
    }) {
        let (s, v) = line.rsplit_once(' ').unwrap();
        let v: f64 = v.parse().unwrap();
        series.push((s.to_string(), Box::new(move |_| v)));
    }
    // 10 errors per second per series; a series of `calm` the selector does not match.
    for i in 0..16 {
        series.push((
            format!("http_requests_total{{tenant=\"flood\",code=\"500\",pod=\"p{i}\"}}"),
            Box::new(|m| 600.0 * m),
        ));
    }
    for i in 0..2 {
        series.push((
            format!("http_requests_total{{tenant=\"calm\",code=\"503\",pod=\"p{i}\"}}"),
            Box::new(|m| 600.0 * m),
        ));
    }
    series.push((
        "http_requests_total{tenant=\"calm\",code=\"200\",pod=\"p0\"}".into(),
        Box::new(|m| 6000.0 * m),
    ));
    series.push(("queue_depth{tenant=\"other\"}".into(), Box::new(|_| 900.0)));
    // Volumes losing 10 of 1000 bytes a minute from 900: none left within the hour.
    for v in 0..5 {
        series.push((format!("kubelet_volume_stats_available_bytes{{tenant=\"wide\",persistentvolumeclaim=\"v{v}\"}}"), Box::new(|m| 900.0 - 10.0 * m)));
        series.push((format!("kubelet_volume_stats_capacity_bytes{{tenant=\"wide\",persistentvolumeclaim=\"v{v}\"}}"), Box::new(|_| 1000.0)));
    }
    // OpenMetrics wants each family's series together.
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let mut om = String::new();
    for (s, f) in &series {
        let mut t = end - 30 * 60;
        while t <= end {
            let m = (t - (end - 30 * 60)) as f64 / 60.0;
            let _ = writeln!(om, "{s} {} {t}", f(m));
            t += 15;
        }
    }
    om.push_str("# EOF\n");
    om
}

#[test]
fn over_limit_recipes_are_off_alone_and_named_in_a_real_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf.d");
    write_conf(&conf);
    let report = dynalert_config::load_dir(&conf, chrono::Utc::now()).unwrap();
    assert_eq!(report.errors(), 0);
    let config = &report.config;
    let rules = dir.path().join("custom-alerts.yaml");
    std::fs::write(
        &rules,
        dynalert_rules::render_custom_rules(
            &dynalert_rules::shapes_of(config),
            config.platform.recipe_limits(),
            "conf.d",
        ),
    )
    .unwrap();

    let end = chrono::Utc::now().timestamp() - 1;
    let data = dir.path().join("data");
    dynalert_probe::process::backfill(&history(config, end), &data).unwrap();

    let cfg = dir.path().join("prometheus.yml");
    // The platform pack too: its RuleEvaluationFailing covers the recipe groups.
    let platform =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/packs/platform/alerts.yaml");
    let global = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [{}, {}]\n",
        rules.display(),
        platform.display()
    );
    std::fs::write(&cfg, &global).unwrap();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--web.enable-lifecycle");
    let prom = Guard::spawn("prometheus", cmd, &dir.path().join("prometheus.log")).unwrap();
    let port = prom
        .port(EXPORTER_TOOLKIT, Duration::from_secs(60))
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until("prometheus to be ready", Duration::from_secs(60), || {
        dynalert_probe::http::is_ready(&format!("{base}/-/ready")).then_some(())
    });
    // Prometheus scrapes itself (its port is known only now) for its rule-failure counter.
    std::fs::write(
        &cfg,
        format!("{global}scrape_configs:\n  - job_name: prometheus\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"),
    )
    .unwrap();
    let (status, body) =
        dynalert_probe::http::post_empty(&format!("{base}/-/reload")).expect("reload");
    assert_eq!(status, 200, "reload: {body}");

    // Firing custom alerts, (alertname, tenant) -> labels.
    // The labels of every firing alert.
    let firing_labels = || -> Vec<serde_json::Value> {
        let v = get(&format!("{base}/api/v1/alerts")).unwrap_or_default();
        let alerts = v["data"]["alerts"].as_array().cloned().unwrap_or_default();
        let firing = alerts.into_iter().filter(|a| a["state"] == "firing");
        firing.map(|a| a["labels"].clone()).collect()
    };
    let firing = || -> BTreeMap<(String, String), serde_json::Value> {
        let custom = firing_labels()
            .into_iter()
            .filter(|l| l["component"] == "custom");
        custom
            .map(|l| {
                let alertname = l["alertname"].as_str().unwrap().to_string();
                let tenant = l["tenant"].as_str().unwrap_or("").to_string();
                ((alertname, tenant), l)
            })
            .collect()
    };
    let generic = || -> Vec<String> {
        let labels = firing_labels().into_iter();
        let failing = labels.filter(|l| l["alertname"] == "RuleEvaluationFailing");
        failing
            .filter_map(|l| l["rule_group"].as_str().map(str::to_string))
            .collect()
    };
    let alerts = wait_until(
        "CustomAlertRuleFailing and RuleEvaluationFailing to fire",
        Duration::from_secs(90),
        || {
            let f = firing();
            (f.contains_key(&("CustomAlertRuleFailing".into(), "wide".into()))
                && !generic().is_empty())
            .then_some(f)
        },
    );
    let got: BTreeSet<(&str, &str)> = alerts
        .keys()
        .map(|(a, t)| (a.as_str(), t.as_str()))
        .collect();
    let want: BTreeSet<(&str, &str)> = [
        // calm shares flood's shape: its alert still fires; flood's is off, and named.
        ("errors_fast", "calm"),
        ("CustomAlertSeriesLimit", "flood"),
        // other's shape is untouched by wide's failing one.
        ("queue_deep", "other"),
        // wide's shape produces no alert at all (over its limit), and is named.
        ("CustomAlertRuleFailing", "wide"),
    ]
    .into();
    assert_eq!(got, want);
    let id = |tenant: &str, alert: &str| {
        config.tenants[tenant]
            .custom_alerts
            .iter()
            .find(|a| a.shape.name == alert)
            .unwrap()
            .shape
            .id()
    };
    let limit = &alerts[&("CustomAlertSeriesLimit".into(), "flood".into())];
    assert_eq!(limit["alert"], "errors_fast");
    assert_eq!(limit["rule"], id("flood", "errors_fast").as_str());
    let failing = &alerts[&("CustomAlertRuleFailing".into(), "wide".into())];
    assert_eq!(failing["alert"], "disk_will_fill");
    assert_eq!(failing["rule"], id("wide", "disk_will_fill").as_str());

    // The platform pack's RuleEvaluationFailing names the same group.
    let group = format!(
        "dynalert-custom-alert-disk_will_fill-{}",
        id("wide", "disk_will_fill")
    );
    assert_eq!(generic(), [format!("{};{group}", rules.display())]);

    // Prometheus reports exactly one unhealthy group: wide's shape, over its limit.
    let v = get(&format!("{base}/api/v1/rules")).unwrap();
    let bad: Vec<(String, String)> = v["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["health"] == "err")
                .map(move |r| {
                    (
                        g["name"].as_str().unwrap().to_string(),
                        r["lastError"].as_str().unwrap_or("").to_string(),
                    )
                })
        })
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, group);
    assert!(
        bad[0].1.contains("exceeded limit of 4 with 5 alerts"),
        "{bad:?}"
    );
}
