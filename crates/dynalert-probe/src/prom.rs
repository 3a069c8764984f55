//! Typed clients for the HTTP APIs the tools ask: Prometheus' `/api/v1` (also served by
//! VictoriaMetrics, vmalert and the lab's query front) and Alertmanager's `/api/v2`. Only the
//! endpoints and fields the callers read.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::http::Client;
use crate::Labels;

/// The envelope of every Prometheus API answer.
#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    #[serde(default)]
    error: Option<String>,
    data: Option<T>,
}

/// One sample of an instant query.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// One series of a range query: its labels and (unix seconds, value) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub metric: Labels,
    pub values: Vec<(f64, f64)>,
}

/// An alert as Prometheus sees it (`/api/v1/alerts`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromAlert {
    pub labels: Labels,
    /// `pending` or `firing`.
    pub state: String,
    #[serde(default)]
    pub value: String,
}

/// A rule group of `/api/v1/rules`.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default)]
    pub file: String,
    /// Seconds between evaluations.
    #[serde(default)]
    pub interval: f64,
    /// RFC 3339 time of the last evaluation.
    #[serde(default, rename = "lastEvaluation")]
    pub last_evaluation: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A rule of `/api/v1/rules`.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub name: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds the last evaluation took.
    #[serde(default, rename = "evaluationTime")]
    pub evaluation_time: f64,
}

/// The `data` of a query: a vector (`value`) or a matrix (`values`).
#[derive(Deserialize)]
struct QueryData {
    result: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: (f64, String),
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct AlertsData {
    alerts: Vec<PromAlert>,
}

#[derive(Deserialize)]
struct RulesData {
    groups: Vec<RuleGroup>,
}

/// A sample value as the API writes it (`"1"`, `"+Inf"`, `"NaN"`).
fn value(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// A Prometheus-compatible HTTP API at `base` (`http://127.0.0.1:9090`).
#[derive(Clone)]
pub struct Prometheus {
    base: String,
    http: Client,
}

impl Prometheus {
    /// The API at `base` with the default timeout.
    pub fn new(base: &str) -> Prometheus {
        Prometheus::with_timeout(base, crate::http::DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(base: &str, timeout: Duration) -> Prometheus {
        Prometheus {
            base: base.trim_end_matches('/').to_string(),
            http: Client::new(timeout),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET `path` with `params` (POST as a form when `post`); the API's own error message on
    /// a 4xx/5xx. The lab's query front forwards GET only.
    fn call<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        params: &[(&str, &str)],
        post: bool,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let sent = if post {
            self.http.agent().post(&url).send_form(params)
        } else {
            let mut req = self.http.agent().get(&url);
            for (k, v) in params {
                req = req.query(k, v);
            }
            req.call()
        };
        let body = match sent {
            Ok(r) => r.into_string(),
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                let msg = serde_json::from_str::<Envelope<serde_json::Value>>(&body)
                    .ok()
                    .and_then(|e| e.error)
                    .unwrap_or(body);
                bail!("{what} at `{}` failed with {code}: {msg}", self.base)
            }
            Err(e) => return Err(e).with_context(|| format!("{what} at `{}`", self.base)),
        }
        .with_context(|| format!("{what} at `{}`", self.base))?;
        let env: Envelope<T> = serde_json::from_str(&body)
            .with_context(|| format!("{what} at `{}`: unexpected answer", self.base))?;
        match (env.status.as_str(), env.data) {
            ("success", Some(d)) => Ok(d),
            _ => bail!(
                "{what} at `{}` failed: {}",
                self.base,
                env.error.unwrap_or(env.status)
            ),
        }
    }

    /// Instant query at the current time.
    pub fn query(&self, expr: &str) -> anyhow::Result<Vec<Sample>> {
        self.instant(expr, &[("query", expr)])
    }

    /// Instant query at `time` (unix seconds).
    pub fn query_at(&self, expr: &str, time: f64) -> anyhow::Result<Vec<Sample>> {
        self.instant(expr, &[("query", expr), ("time", &format!("{time:.3}"))])
    }

    fn instant(&self, expr: &str, params: &[(&str, &str)]) -> anyhow::Result<Vec<Sample>> {
        let d: QueryData = self.call(&format!("query `{expr}`"), "/api/v1/query", params, false)?;
        Ok(d.result
            .into_iter()
            .map(|r| Sample {
                labels: r.metric,
                value: value(&r.value.1),
            })
            .collect())
    }

    /// The value of an instant query's first sample, `None` for an empty result.
    pub fn query_value(&self, expr: &str) -> anyhow::Result<Option<f64>> {
        Ok(self.query(expr)?.first().map(|s| s.value))
    }

    /// Range query from `start` to `end` (unix seconds) every `step` seconds.
    pub fn query_range(
        &self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> anyhow::Result<Vec<Series>> {
        let d: QueryData = self.call(
            &format!("query_range `{expr}`"),
            "/api/v1/query_range",
            &[
                ("query", expr),
                ("start", &start.to_string()),
                ("end", &end.to_string()),
                ("step", &step.to_string()),
            ],
            true,
        )?;
        Ok(d.result
            .into_iter()
            .map(|r| Series {
                metric: r.metric,
                values: r.values.into_iter().map(|(t, v)| (t, value(&v))).collect(),
            })
            .collect())
    }

    /// Every alert, pending or firing.
    pub fn alerts(&self) -> anyhow::Result<Vec<PromAlert>> {
        let d: AlertsData = self.call("alerts", "/api/v1/alerts", &[], false)?;
        Ok(d.alerts)
    }

    /// Every rule group with its rules.
    pub fn rules(&self) -> anyhow::Result<Vec<RuleGroup>> {
        let d: RulesData = self.call("rules", "/api/v1/rules", &[], false)?;
        Ok(d.groups)
    }
}

/// An alert as Alertmanager holds it (`/api/v2/alerts`).
#[derive(Debug, Clone, Serialize)]
pub struct AmAlert {
    pub labels: Labels,
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    pub inhibited_by: Vec<String>,
    pub receivers: Vec<String>,
}

#[derive(Deserialize)]
struct RawAmAlert {
    labels: Labels,
    status: RawAmStatus,
    #[serde(default)]
    receivers: Vec<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawAmStatus {
    state: String,
    #[serde(default, rename = "inhibitedBy")]
    inhibited_by: Vec<String>,
}

/// The Alertmanager API at `base` (`http://127.0.0.1:9093`).
pub struct Alertmanager {
    base: String,
    http: Client,
}

impl Alertmanager {
    pub fn new(base: &str) -> Alertmanager {
        Alertmanager {
            base: base.trim_end_matches('/').to_string(),
            http: Client::new(Duration::from_secs(30)),
        }
    }

    /// Every alert Alertmanager holds.
    pub fn alerts(&self) -> anyhow::Result<Vec<AmAlert>> {
        let raw: Vec<RawAmAlert> = self
            .http
            .get_json(&format!("{}/api/v2/alerts", self.base))?;
        Ok(raw
            .into_iter()
            .map(|a| AmAlert {
                labels: a.labels,
                state: a.status.state,
                inhibited_by: a.status.inhibited_by,
                receivers: a
                    .receivers
                    .into_iter()
                    .filter_map(|mut r| r.remove("name"))
                    .collect(),
            })
            .collect())
    }

    /// `POST /-/reload`: success is a 2xx status, otherwise the first line of the answer.
    pub fn reload(&self) -> anyhow::Result<()> {
        let (code, body) = self.http.post_empty(&format!("{}/-/reload", self.base))?;
        if (200..300).contains(&code) {
            return Ok(());
        }
        bail!(
            "status {code}: {}",
            body.trim().lines().next().unwrap_or_default()
        )
    }
}
