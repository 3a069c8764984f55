//! The pack <-> config contract. Every check here exists because the mistake it catches has
//! shipped before in implementations of this design: thresholds of keys the exporter never
//! emits, catalogue keys no alert reads, `sum` doubling thresholds under two exporter
//! replicas, `rate()` on a gauge, tenant alerts firing through maintenance, source metrics
//! that no real exporter exposes, and state-filter reasons that drifted from the config.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::catalogue::Catalogue;
use crate::pack::{Rule, RuleKind};
use crate::promql::{self, Selector};
use crate::Error;

/// Series of the threshold exporter contract (BRIEF §4) plus Prometheus' own `up`.
pub const EXPORTER_FAMILIES: &[&str] = &[
    "user_threshold",
    "user_state_filter",
    "user_silent_mode",
    "user_maintenance",
    "tenant_metadata_info",
    "tenant_namespace_info",
    "threshold_exporter_config_last_reload_successful",
    "threshold_exporter_config_last_reload_success_timestamp_seconds",
    "threshold_exporter_tenant_config_valid",
    "threshold_exporter_config_event",
    "threshold_exporter_build_info",
    "up",
];

/// Series that carry a tenant's state filters (`filter`, `severity`): the exporter's own and
/// the platform pack's one-per-tenant-and-filter recording of it.
pub const STATE_FILTER_SERIES: &[&str] = &["user_state_filter", "tenant:state_filter:info"];

/// Functions that only make sense on counters.
const COUNTER_FUNCS: &[&str] = &["rate", "irate", "increase", "resets"];
/// Functions meant for gauges: on a counter they measure resets, not a rate.
const GAUGE_FUNCS: &[&str] = &["delta", "idelta", "deriv", "predict_linear"];

/// Metric type of a source metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Other,
}

/// Source metric name -> type, from the real captures and the Kubernetes list.
#[derive(Debug, Clone, Default)]
pub struct MetricTypes(pub BTreeMap<String, MetricType>);

/// Reads `*.prom` captures (`# TYPE` lines), `untyped-metrics.txt` (the nature of metrics
/// the captures expose as `untyped`), `kubernetes-metrics.txt`, `prometheus-metrics.txt` and
/// `vmalert-metrics.txt` from `dir`.
pub fn load_metric_types(dir: &Path) -> Result<MetricTypes, Error> {
    let mut types = BTreeMap::new();
    let mut entries: Vec<_> = fs_err::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "prom"))
    {
        for line in fs_err::read_to_string(path)?.lines() {
            let mut parts = line.split_whitespace();
            if let (Some("#"), Some("TYPE"), Some(name), Some(t)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            {
                types.insert(name.to_string(), parse_type(t));
            }
        }
    }
    for list in [
        "untyped-metrics.txt",
        "kubernetes-metrics.txt",
        "prometheus-metrics.txt",
        "vmalert-metrics.txt",
    ] {
        let path = dir.join(list);
        if !path.exists() {
            continue;
        }
        for line in fs_err::read_to_string(&path)?.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(name), Some(t)) = (parts.next(), parts.next()) {
                if !name.starts_with('#') {
                    types.insert(name.to_string(), parse_type(t));
                }
            }
        }
    }
    Ok(MetricTypes(types))
}

fn parse_type(t: &str) -> MetricType {
    match t {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        _ => MetricType::Other,
    }
}

/// One broken contract, located at its rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub pack: String,
    pub rule: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}`: {}", self.pack, self.rule, self.message)
    }
}

/// Threshold keys a single selector reads directly.
pub fn keys_of_selector(s: &Selector) -> Option<String> {
    if s.name == "user_threshold" {
        return match (s.equal("component"), s.equal("metric")) {
            (Some(c), Some(m)) => Some(format!("{c}_{m}")),
            _ => Some(String::new()),
        };
    }
    s.name
        .split_once(":alert_threshold:")
        .map(|(_, key)| key.to_string())
}

fn is_threshold_series(name: &str) -> bool {
    name == "user_threshold" || name.contains(":alert_threshold:")
}

/// Threshold keys each rule reads, following recording rules transitively.
pub fn keys_read(rules: &[Rule]) -> BTreeMap<String, BTreeSet<String>> {
    let mut direct: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for rule in rules {
        let Ok(expr) = promql::parse(&rule.expr) else {
            continue;
        };
        let entry = direct.entry(rule_id(rule)).or_default();
        for s in promql::selectors(&expr) {
            match keys_of_selector(&s).filter(|k| !k.is_empty()) {
                Some(k) => entry.0.insert(k),
                None => entry.1.insert(s.name.clone()),
            };
        }
    }
    let recorded: BTreeMap<String, Vec<String>> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Record)
        .fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.name.clone()).or_default().push(rule_id(r));
            m
        });
    let mut out = BTreeMap::new();
    for id in direct.keys() {
        let mut keys = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![id.clone()];
        while let Some(cur) = todo.pop() {
            if !seen.insert(cur.clone()) {
                continue;
            }
            if let Some((k, names)) = direct.get(&cur) {
                keys.extend(k.iter().cloned());
                // Metadata (`tenant:metadata:*`) is joined left-outer for its labels and never
                // decides whether an alert fires, even when it is restricted to the tenants over
                // some threshold of the pack: the keys it reads do not arm the alert.
                for n in names.iter().filter(|n| !n.starts_with("tenant:metadata:")) {
                    todo.extend(recorded.get(n).into_iter().flatten().cloned());
                }
            }
        }
        out.insert(id.clone(), keys);
    }
    out
}

/// Unique id of a rule: pack, kind, name and a hash-free position-independent expression.
pub fn rule_id(rule: &Rule) -> String {
    let kind = match rule.kind {
        RuleKind::Record => "record",
        RuleKind::Alert => "alert",
    };
    format!("{}/{kind}/{}/{}", rule.pack, rule.name, rule.expr)
}

/// Runs every contract check over `rules`.
pub fn check(rules: &[Rule], catalogue: &Catalogue, types: &MetricTypes) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut push = |rule: &Rule, message: String| {
        v.push(Violation {
            pack: rule.pack.clone(),
            rule: rule.name.clone(),
            message,
        })
    };
    let recorded: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Record)
        .map(|r| r.name.as_str())
        .collect();
    // Recorded series that carry a state filter's severity (read by an alert, they give it
    // its `severity` label).
    let state_recorded: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Record)
        .filter(|r| {
            promql::parse(&r.expr).is_ok_and(|e| {
                promql::selectors(&e)
                    .iter()
                    .any(|s| STATE_FILTER_SERIES.contains(&s.name.as_str()))
            })
        })
        .map(|r| r.name.as_str())
        .collect();

    for rule in rules {
        let parsed = promql::parse(&rule.expr);
        let Ok(expr) = parsed.map_err(|e| push(rule, format!("expression does not parse: {e}")))
        else {
            continue;
        };
        let a = promql::analyse(&expr);
        // Platform alerts about the exporter itself (replicas disagreeing, no thresholds
        // served) inspect `user_threshold` as a whole; they compare no threshold.
        let meta = rule.kind == RuleKind::Alert
            && (rule.pack == "platform"
                || rule.labels.get("scope").map(String::as_str) == Some("platform"));

        for s in &a.selectors {
            // Threshold keys must exist in the catalogue.
            match keys_of_selector(s) {
                Some(_) if meta => {}
                Some(k) if k.is_empty() => push(
                    rule,
                    "reads `user_threshold` without exact `component` and `metric` matchers".into(),
                ),
                Some(k) if !catalogue.keys.contains(&k) => push(
                    rule,
                    format!("reads threshold key `{k}`, which is not in the catalogue"),
                ),
                _ => {}
            }
            // Every series read is recorded by a pack, part of the exporter contract, or a
            // real source metric.
            let name = s.name.as_str();
            let known = if name.contains(':') {
                recorded.contains(name) || is_generated_regex_series(name)
            } else {
                EXPORTER_FAMILIES.contains(&name)
                    || name.starts_with("threshold_exporter_")
                    || types.0.contains_key(name)
            };
            if !known {
                push(
                    rule,
                    format!("reads `{name}`, which is in no capture, no list and no pack"),
                );
            }
        }

        // Thresholds are aggregated with `max` only (replicas emit identical series).
        for agg in a.aggregations.iter().filter(|_| !meta) {
            if agg.op != "max" && agg.selectors.iter().any(|s| is_threshold_series(&s.name)) {
                push(
                    rule,
                    format!(
                        "aggregates a threshold with `{}`: only `max` is safe with several exporter replicas",
                        agg.op
                    ),
                );
            }
        }

        // Counter functions on gauges and gauge functions on counters.
        for call in &a.range_calls {
            let t = types.0.get(&call.metric).copied();
            if COUNTER_FUNCS.contains(&call.func.as_str()) && t != Some(MetricType::Counter) {
                push(
                    rule,
                    format!(
                        "applies `{}` to `{}`, which is not a counter ({})",
                        call.func,
                        call.metric,
                        describe(t)
                    ),
                );
            }
            if GAUGE_FUNCS.contains(&call.func.as_str()) && t == Some(MetricType::Counter) {
                push(
                    rule,
                    format!("applies `{}` to the counter `{}`", call.func, call.metric),
                );
            }
        }

        if rule.kind == RuleKind::Alert {
            let scope = rule.labels.get("scope").map(String::as_str);
            // A pack may raise platform alerts about its own sources (e.g. kube-state-metrics
            // missing): they carry `scope: platform` and are never muted per tenant.
            let platform = rule.pack == "platform" || scope == Some("platform");
            if rule.pack == "platform" && scope != Some("platform") {
                push(
                    rule,
                    "platform alert without label `scope: platform`".into(),
                );
            }
            if !platform && scope.is_some() {
                push(rule, "tenant alert with a `scope` label".into());
            }
            // Maintenance mutes the tenant's own deliveries in Alertmanager; an alert that
            // stopped during a window would resolve and fire again for a problem that stayed.
            if a.selectors.iter().any(|s| s.name == "user_maintenance") {
                push(
                    rule,
                    "alert reads `user_maintenance`: maintenance mutes the tenant's routes in Alertmanager, the alert must keep firing".into(),
                );
            }
            if !platform {
                for label in ["severity", "component"] {
                    let joined = label == "severity"
                        && a.selectors.iter().any(|s| {
                            STATE_FILTER_SERIES.contains(&s.name.as_str())
                                || state_recorded.contains(s.name.as_str())
                        });
                    if !rule.labels.contains_key(label) && !joined {
                        push(rule, format!("tenant alert without label `{label}`"));
                    }
                }
            }
        }

        // State filters: known filter names, reasons exactly as configured.
        for s in a
            .selectors
            .iter()
            .filter(|s| STATE_FILTER_SERIES.contains(&s.name.as_str()))
        {
            let Some(filter) = s.equal("filter") else {
                if s.name == "user_state_filter" && rule.name == "tenant:state_filter:info" {
                    // The platform's per-filter recording reads every filter on purpose.
                    continue;
                }
                push(
                    rule,
                    format!("reads `{}` without an exact `filter` matcher", s.name),
                );
                continue;
            };
            let Some(want) = catalogue.state_filters.get(filter) else {
                push(
                    rule,
                    format!("reads state filter `{filter}`, which is not in the catalogue"),
                );
                continue;
            };
            let got = state_reasons(&a.selectors);
            if &got != want {
                push(
                    rule,
                    format!(
                        "state filter `{filter}` matches reasons {got:?}, but the catalogue lists {want:?}"
                    ),
                );
            }
        }
    }

    // Critical before warning: Prometheus sends a rule's alerts right after evaluating it, so a
    // warning rule evaluated first reaches Alertmanager before the critical that inhibits it.
    let mut warned: BTreeSet<(&Path, &str)> = BTreeSet::new();
    for rule in rules.iter().filter(|r| r.kind == RuleKind::Alert) {
        let key = (rule.file.as_path(), rule.name.as_str());
        match rule.labels.get("severity").map(String::as_str) {
            Some("warning") => {
                warned.insert(key);
            }
            Some("critical") if warned.contains(&key) => push(
                rule,
                "critical rule comes after the warning rule of the same alert; put it first so \
                 the inhibiting critical reaches Alertmanager before the warning"
                    .into(),
            ),
            _ => {}
        }
    }

    // Unarmed keys and unarmed state filters.
    let keys = keys_read(rules);
    let mut armed = BTreeSet::new();
    let mut filters = BTreeSet::new();
    let read_by_alerts: BTreeSet<String> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Alert)
        .filter_map(|r| promql::parse(&r.expr).ok())
        .flat_map(|e| promql::selectors(&e).into_iter().map(|s| s.name))
        .collect();
    for rule in rules.iter() {
        let alert = rule.kind == RuleKind::Alert;
        if alert {
            armed.extend(keys.get(&rule_id(rule)).into_iter().flatten().cloned());
        }
        if !alert && !read_by_alerts.contains(&rule.name) {
            continue;
        }
        let selectors = promql::parse(&rule.expr).map(|e| promql::selectors(&e));
        for s in selectors.iter().flatten() {
            if STATE_FILTER_SERIES.contains(&s.name.as_str()) {
                filters.extend(s.equal("filter").map(str::to_string));
            }
        }
    }
    let unarmed = catalogue.keys.difference(&armed);
    let unread = catalogue
        .state_filters
        .keys()
        .filter(|f| !filters.contains(*f));
    v.extend(
        unarmed
            .map(|k| (k, "catalogue key is read by no alert (unarmed)"))
            .chain(unread.map(|f| (f, "state filter is read by no alert")))
            .map(|(rule, message)| Violation {
                pack: "*".into(),
                rule: rule.clone(),
                message: message.into(),
            }),
    );
    v.sort();
    v.dedup();
    v
}

fn describe(t: Option<MetricType>) -> &'static str {
    match t {
        Some(MetricType::Gauge) => "a gauge",
        Some(MetricType::Other) => "untyped or other",
        Some(MetricType::Counter) => "a counter",
        None => "unknown type",
    }
}

/// `<label>_re:alert_threshold:<key>` series are recorded by the generated regex files,
/// which may legitimately hold no rule for a given configuration.
fn is_generated_regex_series(name: &str) -> bool {
    name == crate::regex_rules::ARMED
        || name
            .split_once(":alert_threshold:")
            .is_some_and(|(level, _)| level.ends_with("_re"))
}

/// The reasons the waiting-reason selectors of an expression match (`reason="x"` or
/// `reason=~"a|b"`).
fn state_reasons(selectors: &[Selector]) -> BTreeSet<String> {
    selectors
        .iter()
        .filter(|s| s.name == "kube_pod_container_status_waiting_reason")
        .flat_map(|s| {
            let regex = s.regex("reason").into_iter().flat_map(|r| r.split('|'));
            s.equal("reason").into_iter().chain(regex)
        })
        .map(str::to_string)
        .collect()
}
