//! Reading a Prometheus server's own `/metrics` and its HTTP API.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dynalert_probe::exposition::parse as parse_exposition;
use dynalert_probe::http::Client;
use dynalert_probe::prom::Prometheus;

use crate::fixture::{Firing, ALERT};
use crate::{BenchError, Result};

/// Timeout of one HTTP read. Large pages (a saturated server's `/metrics`, the alerts of
/// 100,000 tenants) take long to produce on a loaded machine.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a failing read is retried before the run gives up on it.
pub const READ_DEADLINE: Duration = Duration::from_secs(600);

/// The server's HTTP API with [`REQUEST_TIMEOUT`].
pub(crate) fn api(base: &str) -> Prometheus {
    Prometheus::with_timeout(base, REQUEST_TIMEOUT)
}

/// An HTTP failure, retried by [`retry`].
pub(crate) fn http<T>(r: anyhow::Result<T>) -> Result<T> {
    r.map_err(|e| BenchError::Http(format!("{e:#}")))
}

/// Runs the read `f` until it succeeds; an HTTP failure (timeout, refused or reset
/// connection, bad body) is retried with a growing pause until `deadline` has passed, then
/// returned. `alive` runs before every attempt: a server that died is reported at once (by
/// name, with its log) instead of being retried.
pub fn retry<T>(
    deadline: Duration,
    alive: &mut dyn FnMut() -> Result<()>,
    mut f: impl FnMut() -> Result<T>,
) -> Result<T> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(250);
    let mut failures = 0u32;
    loop {
        alive()?;
        match f() {
            Ok(v) => return Ok(v),
            Err(BenchError::Http(e)) => {
                failures += 1;
                if start.elapsed() + pause > deadline {
                    return Err(BenchError::Http(format!(
                        "{e} (failed {failures} times over {:.0} s)",
                        start.elapsed().as_secs_f64()
                    )));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// [`get_text`] retried within [`READ_DEADLINE`] while `alive` holds.
pub fn read_text(url: &str, alive: &mut dyn FnMut() -> Result<()>) -> Result<String> {
    retry(READ_DEADLINE, alive, || get_text(url))
}

/// GET `url` as text, of any size (Prometheus' own `/metrics` exceeds 20 MB with 20,000
/// rule groups).
pub fn get_text(url: &str) -> Result<String> {
    http(Client::new(REQUEST_TIMEOUT).get_text(url))
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
    pub fn parse(text: &str) -> Result<SelfMetrics> {
        let mut m = SelfMetrics {
            min_last_eval_ts: f64::INFINITY,
            ..Default::default()
        };
        for (name, _labels, v) in parse_exposition(text)? {
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
        Ok(m)
    }
}

/// The firing alerts of the benchmark's alert name, as (tenant, key, severity).
pub fn firing(base: &str) -> Result<BTreeSet<Firing>> {
    let alerts = http(api(base).alerts())?;
    Ok(alerts
        .into_iter()
        .filter(|a| {
            a.state == "firing" && a.labels.get("alertname").map(String::as_str) == Some(ALERT)
        })
        .map(|a| {
            let l = |k: &str| a.labels.get(k).cloned().unwrap_or_default();
            (l("tenant"), l("key"), l("severity"))
        })
        .collect())
}

/// Value of an instant query returning one scalar-like sample (`None` for an empty result).
pub fn query_value(base: &str, q: &str) -> Result<Option<f64>> {
    http(api(base).query_value(q))
}

/// Last evaluation time per kind of rule (`observation`, `threshold`, `comparison`,
/// `metadata`, `alert`), summed over rules, in milliseconds, from `/api/v1/rules`.
pub fn rule_costs(base: &str) -> Result<std::collections::BTreeMap<String, f64>> {
    let mut out = std::collections::BTreeMap::new();
    for r in http(api(base).rules())?.into_iter().flat_map(|g| g.rules) {
        let name = &r.name;
        let kind = if r.kind == "alerting" {
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
        *out.entry(kind.to_string()).or_insert(0.0) += r.evaluation_time * 1000.0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_read_is_retried_until_it_succeeds() {
        let mut attempts = 0;
        let v = retry(Duration::from_secs(30), &mut || Ok(()), || {
            attempts += 1;
            if attempts < 3 {
                Err(BenchError::Http(
                    "GET /metrics: timed out reading response".into(),
                ))
            } else {
                Ok(attempts)
            }
        })
        .unwrap();
        assert_eq!(v, 3);
    }

    #[test]
    fn a_read_that_keeps_failing_gives_up_after_the_deadline() {
        // A port nobody listens on: every attempt is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/metrics");
        let start = Instant::now();
        let err = retry(Duration::from_secs(2), &mut || Ok(()), || get_text(&url)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&url), "{msg}");
        assert!(msg.contains("times over"), "{msg}");
        assert!(
            start.elapsed() >= Duration::from_millis(500),
            "gave up too early"
        );
        assert!(start.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_dead_server_stops_the_retries_at_once() {
        let mut attempts = 0;
        let err = retry(
            Duration::from_secs(600),
            &mut || Err(BenchError::Process("`prometheus` exited early".into())),
            || {
                attempts += 1;
                Err::<(), _>(BenchError::Http("refused".into()))
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("`prometheus` exited early"));
        assert_eq!(attempts, 0);
    }
}
