//! The lab's calls to running parts, all through `dynalert_probe`: the Prometheus HTTP API
//! (Prometheus, or the query front on the VictoriaMetrics engine), the Alertmanager v2 API, the
//! exporter's `/metrics` and the lab's own sink and simulator.

use dynalert_probe::prom::{Alertmanager, Prometheus};

pub use dynalert_probe::exposition::{Labels, Line};
pub use dynalert_probe::http::{get_json, get_status, get_text, post_empty, send_json};
pub use dynalert_probe::prom::{AmAlert, Sample};

/// Instant query against the Prometheus HTTP API at `prom`.
pub fn query(prom: &str, expr: &str) -> anyhow::Result<Vec<Sample>> {
    Prometheus::new(prom).query(expr)
}

/// Every alert Alertmanager at `am` holds.
pub fn am_alerts(am: &str) -> anyhow::Result<Vec<AmAlert>> {
    Alertmanager::new(am).alerts()
}

/// A scraped page as (name, labels, value).
pub fn parse_exposition(text: &str) -> anyhow::Result<Vec<Line>> {
    Ok(dynalert_probe::exposition::parse(text)?)
}
