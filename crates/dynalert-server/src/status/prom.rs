//! With `--prometheus.url`: what Prometheus sees for a tenant's keys, next to the effective
//! view of `/tenants/{id}` — the observation each alert compares, the threshold each replica
//! serves and the recording rule holds, the alert state per tier, and any disagreement.
//! The same view as `dynalert inspect-tenant`, from the same code (`dynalert_lab::inspect`).

use std::collections::BTreeMap;
use std::time::Duration;

use dynalert_lab::inspect::{key_rules, key_view, KeyView};
use dynalert_model::routing::mask_url;
use dynalert_model::TenantEffective;

/// Longest time a page waits for Prometheus before it is rendered without the observations.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Tenant-wide keys with their configured tiers (severity -> value); dimensional rows are
/// left out, as in `inspect-tenant`.
fn configured(e: &TenantEffective) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for k in e.keys.iter().filter(|k| k.labels.is_empty()) {
        let tiers = out.entry(k.key.to_string()).or_default();
        for t in &k.tiers {
            if let Some(v) = t.value {
                tiers.insert(t.severity.as_str().to_string(), v);
            }
        }
    }
    out
}

/// Queries Prometheus (blocking). Errors never show the Prometheus URL's credentials.
pub fn observe(prom: &str, e: &TenantEffective) -> Result<Vec<KeyView>, String> {
    let prom = prom.trim_end_matches('/');
    let hide = |err: anyhow::Error| {
        format!("{err:#}")
            .replace(prom, &mask_url(prom))
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let rules = key_rules(prom).map_err(hide)?;
    let in_maintenance = e.maintenance.as_ref().is_some_and(|m| m.active);
    configured(e)
        .iter()
        .map(|(key, tiers)| key_view(prom, &e.tenant, key, tiers, &rules, in_maintenance))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(hide)
}
