//! A per-snapshot summary of every tenant, built once and reused by every status request.
//!
//! Resolving 10,000 tenants on each request of `/tenants` would be slow; the index is built
//! from one published configuration at one instant and stays valid until that configuration
//! is replaced or the earliest next change of any tenant passes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use dynalert_model::{effective_tenant, Config, TenantEffective, ValueState};
use serde::Serialize;

/// How far ahead `/` lists schedule edges.
pub const EDGE_HORIZON_HOURS: i64 = 24;
/// At most this many successive edges are followed per tenant within the horizon.
const EDGES_PER_TENANT: usize = 16;

/// Number of tiers per state, over all keys of a tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub custom: usize,
    pub default: usize,
    pub disabled: usize,
    pub scheduled: usize,
    pub expired: usize,
}

impl StateCounts {
    pub fn of(e: &TenantEffective) -> StateCounts {
        let mut c = StateCounts::default();
        for tier in e.keys.iter().flat_map(|k| &k.tiers) {
            match tier.state {
                ValueState::Custom => c.custom += 1,
                ValueState::Default => c.default += 1,
                ValueState::Disabled => c.disabled += 1,
                ValueState::Scheduled => c.scheduled += 1,
                ValueState::Expired => c.expired += 1,
            }
        }
        c
    }
}

/// One row of `/tenants`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub tenant: String,
    pub file: String,
    pub tier: Option<String>,
    pub owner: Option<String>,
    pub namespaces: Vec<String>,
    pub tiers: StateCounts,
    /// Number of keys (with at least one tier) the tenant gets.
    pub keys: usize,
    pub maintenance: bool,
    pub silent: bool,
    #[serde(serialize_with = "super::ser_ts")]
    pub next_change: Option<DateTime<Utc>>,
    /// Lower-cased id, owner, tier and namespaces, for `?q=`.
    #[serde(skip)]
    pub haystack: String,
}

/// One upcoming change of a tenant's served values.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub at: DateTime<Utc>,
    pub tenant: String,
    /// What changes, e.g. `container_memory warning 85 -> 95 (scheduled)`.
    pub changes: Vec<String>,
}

/// The summary of one configuration at one instant.
#[derive(Debug)]
pub struct Index {
    pub config: Arc<Config>,
    pub at: DateTime<Utc>,
    /// The index describes the served state until this instant.
    pub valid_until: Option<DateTime<Utc>>,
    pub rows: Vec<Row>,
    pub edges: Vec<Edge>,
    /// Distinct threshold keys over all tenants.
    pub keys: usize,
}

impl Index {
    pub fn build(config: Arc<Config>, at: DateTime<Utc>) -> Index {
        let horizon = at + Duration::hours(EDGE_HORIZON_HOURS);
        let mut rows = Vec::with_capacity(config.tenants.len());
        let mut edges = Vec::new();
        let mut keys = std::collections::BTreeSet::new();
        for tenant in config.tenants.values() {
            let e = effective_tenant(&config.platform, tenant, at);
            for k in &e.keys {
                if !keys.contains(k.key.as_str()) {
                    keys.insert(k.key.clone());
                }
            }
            let mut prev_at = at;
            let mut prev = None;
            let mut next = e.next_change;
            for _ in 0..EDGES_PER_TENANT {
                let Some(t) = next.filter(|t| *t <= horizon && *t > prev_at) else {
                    break;
                };
                let after = effective_tenant(&config.platform, tenant, t);
                let before = prev.as_ref().unwrap_or(&e);
                let changes = diff(before, &after);
                if !changes.is_empty() {
                    edges.push(Edge {
                        at: t,
                        tenant: tenant.id.clone(),
                        changes,
                    });
                }
                next = after.next_change;
                prev_at = t;
                prev = Some(after);
            }
            let haystack = format!(
                "{} {} {} {}",
                e.tenant,
                e.owner.as_deref().unwrap_or(""),
                e.tier.as_deref().unwrap_or(""),
                e.namespaces.join(" ")
            )
            .to_lowercase();
            rows.push(Row {
                tiers: StateCounts::of(&e),
                keys: e.keys.iter().filter(|k| !k.tiers.is_empty()).count(),
                maintenance: e.maintenance.as_ref().is_some_and(|m| m.active),
                silent: e.silent_mode.as_ref().is_some_and(|s| s.active),
                next_change: e.next_change,
                tenant: e.tenant,
                file: e.file,
                tier: e.tier,
                owner: e.owner,
                namespaces: e.namespaces,
                haystack,
            });
        }
        edges.sort_by(|a, b| (a.at, &a.tenant).cmp(&(b.at, &b.tenant)));
        let valid_until = rows.iter().filter_map(|r| r.next_change).min();
        Index {
            config,
            at,
            valid_until,
            rows,
            edges,
            keys: keys.len(),
        }
    }

    /// Whether this index still describes `config` served at `at`.
    pub fn fits(&self, config: &Arc<Config>, at: DateTime<Utc>) -> bool {
        Arc::ptr_eq(&self.config, config)
            && at >= self.at
            && self.valid_until.is_none_or(|v| at < v)
    }
}

/// Human-readable differences between two effective views of one tenant.
pub(crate) fn diff(before: &TenantEffective, after: &TenantEffective) -> Vec<String> {
    let mut out = Vec::new();
    let tiers =
        |e: &TenantEffective| -> BTreeMap<(String, &'static str), (Option<f64>, ValueState)> {
            e.keys
                .iter()
                .flat_map(|k| {
                    k.tiers
                        .iter()
                        .map(|t| ((k.key.to_string(), t.severity.as_str()), (t.value, t.state)))
                })
                .collect()
        };
    let (a, b) = (tiers(before), tiers(after));
    for (k, new) in &b {
        let old = a.get(k).copied();
        if old != Some(*new) {
            let show = |v: Option<(Option<f64>, ValueState)>| match v {
                Some((Some(x), _)) => x.to_string(),
                _ => "none".to_string(),
            };
            let (was, is, state) = (show(old), show(Some(*new)), state_name(new.1));
            out.push(format!("{} {} {was} -> {is} ({state})", k.0, k.1));
        }
    }
    let m = |e: &TenantEffective| e.maintenance.as_ref().is_some_and(|m| m.active);
    let s = |e: &TenantEffective| e.silent_mode.as_ref().is_some_and(|s| s.active);
    for (what, was, is) in [
        ("maintenance", m(before), m(after)),
        ("silent mode", s(before), s(after)),
    ] {
        if was != is {
            out.push(format!("{what} {}", if is { "starts" } else { "ends" }));
        }
    }
    out
}

pub fn state_name(s: ValueState) -> &'static str {
    match s {
        ValueState::Custom => "custom",
        ValueState::Default => "default",
        ValueState::Disabled => "disabled",
        ValueState::Scheduled => "scheduled",
        ValueState::Expired => "expired",
    }
}

/// The last index built, shared by all requests of one server.
#[derive(Default)]
pub struct Cache(Mutex<Option<Arc<Index>>>);

impl Cache {
    /// The index of `config` at `at`: the cached one when it still fits, else a new one.
    /// Concurrent callers wait for one build instead of building in parallel.
    pub fn get(&self, config: &Arc<Config>, at: DateTime<Utc>) -> Arc<Index> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ix) = slot.as_ref().filter(|ix| ix.fits(config, at)) {
            return ix.clone();
        }
        let ix = Arc::new(Index::build(config.clone(), at));
        *slot = Some(ix.clone());
        ix
    }
}
