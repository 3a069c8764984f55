//! Reading a Prometheus server's own `/metrics` and its HTTP API.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::fixture::{parse_exposition, Firing, ALERT};
use crate::{BenchError, Result};

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

/// GET `url` as text, of any size (Prometheus' own `/metrics` exceeds 20 MB with 20,000
/// rule groups).
pub fn get_text(url: &str) -> Result<String> {
    let mut body = String::new();
    std::io::Read::read_to_string(
        &mut agent()
            .get(url)
            .call()
            .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?
            .into_reader(),
        &mut body,
    )
    .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?;
    Ok(body)
}

/// GET `url`, `None` when the server is not answering (yet).
pub fn try_get_text(url: &str) -> Option<String> {
    get_text(url).ok()
}

/// Aggregates over the self-metrics of one scrape of Prometheus' `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct SelfMetrics {
    pub rules: f64,
    pub groups: usize,
    pub last_duration_sum: f64,
    pub last_duration_max: f64,
    pub min_last_eval_ts: f64,
    pub iterations: f64,
    pub missed: f64,
    pub rule_eval_sum: f64,
    pub rule_eval_count: f64,
    pub rss: f64,
    pub cpu: f64,
    pub series: f64,
}

impl SelfMetrics {
    pub fn parse(text: &str) -> SelfMetrics {
        let mut m = SelfMetrics {
            min_last_eval_ts: f64::INFINITY,
            ..Default::default()
        };
        for (name, _labels, v) in parse_exposition(text) {
            match name.as_str() {
                "prometheus_rule_group_rules" => {
                    m.rules += v;
                    m.groups += 1;
                }
                "prometheus_rule_group_last_duration_seconds" => {
                    m.last_duration_sum += v;
                    m.last_duration_max = m.last_duration_max.max(v);
                }
                "prometheus_rule_group_last_evaluation_timestamp_seconds" => {
                    m.min_last_eval_ts = m.min_last_eval_ts.min(v);
                }
                "prometheus_rule_group_iterations_total" => m.iterations += v,
                "prometheus_rule_group_iterations_missed_total" => m.missed += v,
                "prometheus_rule_evaluation_duration_seconds_sum" => m.rule_eval_sum += v,
                "prometheus_rule_evaluation_duration_seconds_count" => m.rule_eval_count += v,
                "process_resident_memory_bytes" => m.rss = v,
                "process_cpu_seconds_total" => m.cpu = v,
                "prometheus_tsdb_head_series" => m.series = v,
                _ => {}
            }
        }
        if m.groups == 0 {
            m.min_last_eval_ts = 0.0;
        }
        m
    }
}

/// The firing alerts of the benchmark's alert name, as (tenant, key, severity).
pub fn firing(base: &str) -> Result<BTreeSet<Firing>> {
    let url = format!("{base}/api/v1/alerts");
    let body: serde_json::Value = agent()
        .get(&url)
        .call()
        .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?
        .into_json()
        .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?;
    let mut out = BTreeSet::new();
    let alerts = body["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for a in alerts {
        if a["state"] != "firing" || a["labels"]["alertname"] != ALERT {
            continue;
        }
        let l = |k: &str| a["labels"][k].as_str().unwrap_or_default().to_string();
        out.insert((l("tenant"), l("key"), l("severity")));
    }
    Ok(out)
}

/// Value of an instant query returning one scalar-like sample (`None` for an empty result).
pub fn query_value(base: &str, q: &str) -> Result<Option<f64>> {
    let url = format!("{base}/api/v1/query");
    let body: serde_json::Value = agent()
        .get(&url)
        .query("query", q)
        .call()
        .map_err(|e| BenchError::Http(format!("query `{q}`: {e}")))?
        .into_json()
        .map_err(|e| BenchError::Http(format!("query `{q}`: {e}")))?;
    let v = body["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok());
    Ok(v)
}

/// Last evaluation time per kind of rule (`observation`, `threshold`, `comparison`,
/// `metadata`, `alert`),
/// summed over rules, in milliseconds, from `/api/v1/rules`.
pub fn rule_costs(base: &str) -> Result<std::collections::BTreeMap<String, f64>> {
    let url = format!("{base}/api/v1/rules");
    let body: serde_json::Value = agent()
        .get(&url)
        .call()
        .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?
        .into_json()
        .map_err(|e| BenchError::Http(format!("GET {url}: {e}")))?;
    let mut out = std::collections::BTreeMap::new();
    for g in body["data"]["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            let name = r["name"].as_str().unwrap_or_default();
            let kind = if r["type"] == "alerting" {
                "alert"
            } else if name.contains(":alert_threshold") {
                "threshold"
            } else if name.contains(":alert_over_threshold:") {
                "comparison"
            } else if name.contains(":metadata:") {
                "metadata"
            } else {
                "observation"
            };
            let t = r["evaluationTime"].as_f64().unwrap_or(0.0) * 1000.0;
            *out.entry(kind.to_string()).or_insert(0.0) += t;
        }
    }
    Ok(out)
}
