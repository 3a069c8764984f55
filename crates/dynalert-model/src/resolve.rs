//! Resolution: (configuration, instant) -> effective values and series.
//!
//! Precedence per key and tier: the tenant's value (unless expired), else the
//! platform default (for `defaults:` keys only). A disabled tier emits nothing.
//! The result also names the next instant at which it changes (window edge,
//! expiry, maintenance boundary), so callers re-resolve exactly then.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{Config, Maintenance, Platform, RecurringWindow, Tenant, TierValue, Tiers};
use crate::snapshot::{Family, LabelStr, Series, Snapshot, TenantSeries};
use crate::{Severity, Source, ThresholdKey};

/// How a tier's current value came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueState {
    /// Set by the tenant.
    Custom,
    /// Platform default.
    Default,
    /// Disabled: no series.
    Disabled,
    /// A scheduled override window is active.
    Scheduled,
    /// The tenant's value expired; the platform default (if any) applies.
    Expired,
}

/// One tier of one key at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierEffective {
    pub severity: Severity,
    /// `None` when no series is emitted.
    pub value: Option<f64>,
    pub state: ValueState,
    /// `file:line` of the value that decided the result.
    #[serde(serialize_with = "as_display")]
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}

/// All tiers of one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyEffective {
    pub key: LabelStr,
    pub component: LabelStr,
    pub metric: LabelStr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    pub tiers: Vec<TierEffective>,
    /// Where each level set the key (`file:line`, root first, the tenant's file last):
    /// the chain a hierarchical conf.d merged the value from.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "all_as_display"
    )]
    pub chain: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateFilterEffective {
    pub filter: String,
    pub enabled: bool,
    pub severity: Severity,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilentEffective {
    pub active: bool,
    pub severities: Vec<Severity>,
    pub expires: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenanceEffective {
    pub active: bool,
    pub reason: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventEffective {
    pub event: String,
    pub reason: String,
}

/// One custom alert recipe of a tenant at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomEffective {
    /// The alert name.
    pub alert: String,
    pub recipe: crate::custom::RecipeKind,
    /// Id of the recipe shape (the generated rule).
    pub rule: String,
    pub scope: crate::custom::RecipeScope,
    pub tiers: Vec<TierEffective>,
}

/// A tenant's effective configuration at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantEffective {
    pub tenant: String,
    pub file: String,
    pub keys: Vec<KeyEffective>,
    pub state_filters: Vec<StateFilterEffective>,
    pub silent_mode: Option<SilentEffective>,
    pub maintenance: Option<MaintenanceEffective>,
    pub tier: Option<String>,
    pub owner: Option<String>,
    pub runbook_url: Option<String>,
    pub namespaces: Vec<String>,
    pub severity_dedup: bool,
    pub events: Vec<EventEffective>,
    pub next_change: Option<DateTime<Utc>>,
    /// `_custom_alerts:` recipes that apply: the platform's, then the tenant's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_alerts: Vec<CustomEffective>,
}

fn as_display<S: serde::Serializer>(v: &Source, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn all_as_display<S: serde::Serializer>(v: &[Source], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}

/// Tracks the earliest future instant seen.
struct NextChange {
    now: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
}

impl NextChange {
    fn offer(&mut self, t: Option<DateTime<Utc>>) {
        if let Some(t) = t.filter(|t| *t > self.now && self.next.is_none_or(|n| *t < n)) {
            self.next = Some(t);
        }
    }
}

/// Value of a tier at `t`: (value, scheduled?) and offers its next edge.
fn evaluate<'a>(
    tv: &'a TierValue,
    t: DateTime<Utc>,
    next: &mut NextChange,
) -> (Option<f64>, Option<&'a Source>) {
    for o in &tv.overrides {
        next.offer(o.next_edge_after(t));
    }
    match tv.overrides.iter().find(|o| o.is_active(t)) {
        Some(o) => (o.value, Some(&o.source)),
        None => (tv.default, None),
    }
}

fn tier_effective(
    severity: Severity,
    tenant: Option<&TierValue>,
    platform: Option<&TierValue>,
    t: DateTime<Utc>,
    next: &mut NextChange,
    expired: &mut bool,
) -> TierEffective {
    let platform_value = |next: &mut NextChange| platform.map(|p| (evaluate(p, t, next), p));
    if let Some(tv) = tenant {
        match tv.expires {
            Some(e) if e <= t => {
                *expired = true;
                let value = platform_value(next).and_then(|((v, _), _)| v);
                return TierEffective {
                    severity,
                    value,
                    state: ValueState::Expired,
                    source: tv.source.clone(),
                    expires: tv.expires,
                };
            }
            e => next.offer(e),
        }
        let (value, window) = evaluate(tv, t, next);
        let state = match (value, window) {
            (None, _) => ValueState::Disabled,
            (Some(_), Some(_)) => ValueState::Scheduled,
            (Some(_), None) => ValueState::Custom,
        };
        return TierEffective {
            severity,
            value,
            state,
            source: window.unwrap_or(&tv.source).clone(),
            expires: tv.expires,
        };
    }
    let ((value, window), p) = platform_value(next).expect("tier comes from tenant or platform");
    TierEffective {
        severity,
        value,
        state: value.map_or(ValueState::Disabled, |_| ValueState::Default),
        source: window.unwrap_or(&p.source).clone(),
        expires: None,
    }
}

fn key_effective(
    key: &ThresholdKey,
    (tenant_tiers, platform_tiers): (Option<&Tiers>, Option<&Tiers>),
    platform: &Platform,
    t: DateTime<Utc>,
    next: &mut NextChange,
    events: &mut Vec<EventEffective>,
    chains: bool,
) -> KeyEffective {
    let mut tiers = Vec::new();
    let mut expired = false;
    for severity in Severity::ALL {
        let tv = tenant_tiers.and_then(|m| m.get(&severity));
        let pv = platform_tiers.and_then(|m| m.get(&severity));
        if tv.is_none() && pv.is_none() {
            continue;
        }
        tiers.push(tier_effective(severity, tv, pv, t, next, &mut expired));
    }
    if expired {
        events.push(EventEffective {
            event: "threshold_expired".into(),
            reason: key.to_string(),
        });
    }
    let mut chain: Vec<Source> = chains
        .then(|| platform.chain.get(key).cloned())
        .flatten()
        .unwrap_or_default();
    if let Some(own) = tenant_tiers
        .and_then(|m| m.values().next())
        .filter(|_| !chain.is_empty())
    {
        chain.push(own.source.clone());
    }
    KeyEffective {
        chain,
        key: if key.dims.is_empty() {
            LabelStr::from(&*key.base)
        } else {
            LabelStr::from(key.to_string())
        },
        component: LabelStr::from(key.component()),
        metric: LabelStr::from(key.metric()),
        labels: key
            .dims
            .iter()
            .map(|d| (d.exported_label(), d.value.clone()))
            .collect(),
        tiers,
    }
}

/// Occurrences of a recurring window joined into one in a single resolve.
const MAX_JOINED_OCCURRENCES: usize = 32;

/// Active state of one recurring window at `t`, offering its next edge.
fn recurring_active(w: &RecurringWindow, t: DateTime<Utc>, next: &mut NextChange) -> bool {
    let cron = w.cron.cron();
    let duration = Duration::seconds(w.duration_secs);
    let local = |x: DateTime<Utc>| x.with_timezone(&w.timezone);
    // The earliest occurrence that could still cover `t` starts after `t - duration`.
    let Ok(first) = cron.find_next_occurrence(&local(t - duration), false) else {
        return false;
    };
    let first = first.with_timezone(&Utc);
    if first > t {
        next.offer(Some(first));
        return false;
    }
    // Active: extend the end across every later occurrence that starts before it ends. A
    // window that overlaps itself more often (a tenant's `* * * * *` for a day) gets the end
    // found so far as its next change and is extended again then: a bounded cost per resolve.
    let (mut end, mut from) = (first + duration, first);
    for _ in 0..MAX_JOINED_OCCURRENCES {
        match cron.find_next_occurrence(&local(from), false) {
            Ok(o) if o.with_timezone(&Utc) <= end => {
                from = o.with_timezone(&Utc);
                end = end.max(from + duration);
            }
            _ => break,
        }
    }
    next.offer(Some(end));
    true
}

fn maintenance_active(
    m: &Maintenance,
    t: DateTime<Utc>,
    next: &mut NextChange,
    events: &mut Vec<EventEffective>,
) -> bool {
    let mut active = false;
    if m.one_off {
        next.offer(m.start);
        next.offer(m.expires);
        let started = m.start.is_none_or(|s| s <= t);
        let ended = m.expires.is_some_and(|e| e <= t);
        if ended {
            events.push(EventEffective {
                event: "maintenance_expired".into(),
                reason: m.reason.clone().unwrap_or_default(),
            });
        }
        active = started && !ended;
    }
    for w in &m.recurring {
        active |= recurring_active(w, t, next);
    }
    active
}

/// The effective configuration of one tenant at `t`.
pub fn effective_tenant(platform: &Platform, tenant: &Tenant, t: DateTime<Utc>) -> TenantEffective {
    effective_of(platform, tenant, t, true)
}

/// [`effective_tenant`]; `chains: false` leaves out the `_defaults.yaml` chain of each key,
/// which no series carries.
fn effective_of(
    platform: &Platform,
    tenant: &Tenant,
    t: DateTime<Utc>,
    chains: bool,
) -> TenantEffective {
    // A tenant beneath `_defaults.yaml` files of a hierarchical conf.d resolves against
    // the defaults of its directory.
    let platform = tenant.level.as_deref().unwrap_or(platform);
    let mut next = NextChange { now: t, next: None };
    let mut events = Vec::new();
    // Every key of the platform or the tenant, in order: both maps are sorted, so they
    // are merged rather than collected and sorted, and each key's tiers come along.
    let mut keys = Vec::with_capacity(platform.defaults.len() + tenant.thresholds.len());
    let mut ours = platform.defaults.iter().peekable();
    let mut theirs = tenant.thresholds.iter().peekable();
    loop {
        use std::cmp::Ordering::{Greater, Less};
        let order = match (ours.peek(), theirs.peek()) {
            (None, None) => break,
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (Some((pk, _)), Some((tk, _))) => pk.cmp(tk),
        };
        let ours_next = if order == Greater { None } else { ours.next() };
        let theirs_next = if order == Less { None } else { theirs.next() };
        let (key, _) = theirs_next.or(ours_next).expect("peeked");
        let tiers = (theirs_next.map(|(_, v)| v), ours_next.map(|(_, v)| v));
        keys.push(key_effective(
            key,
            tiers,
            platform,
            t,
            &mut next,
            &mut events,
            chains,
        ));
    }

    let state_filters = platform
        .state_filters
        .iter()
        .map(|(name, def)| {
            let own = tenant.state_filters.get(name);
            StateFilterEffective {
                filter: name.clone(),
                enabled: own.is_none_or(|(on, _)| *on),
                severity: def.severity,
                source: own.map_or(&def.source, |(_, s)| s).to_string(),
            }
        })
        .collect();

    let silent_mode = tenant.silent_mode.as_ref().map(|s| {
        next.offer(s.expires);
        let expired = s.expires.is_some_and(|e| e <= t);
        if expired {
            events.push(EventEffective {
                event: "silent_mode_expired".into(),
                reason: s.reason.clone().unwrap_or_default(),
            });
        }
        SilentEffective {
            active: !expired,
            severities: s.target.severities().to_vec(),
            expires: s.expires,
            reason: s.reason.clone(),
            source: s.source.to_string(),
        }
    });

    let maintenance = tenant.maintenance.as_ref().map(|m| MaintenanceEffective {
        active: maintenance_active(m, t, &mut next, &mut events),
        reason: m.reason.clone(),
        source: m.source.to_string(),
    });

    let custom_alerts = platform
        .custom_alerts
        .iter()
        .chain(&tenant.custom_alerts)
        .map(|c| {
            let mut expired = false;
            let tiers = c
                .thresholds
                .iter()
                .map(|(sev, tv)| tier_effective(sev, Some(tv), None, t, &mut next, &mut expired))
                .collect();
            if expired {
                events.push(EventEffective {
                    event: "threshold_expired".into(),
                    reason: format!("_custom_alerts/{}", c.shape.name),
                });
            }
            CustomEffective {
                alert: c.shape.name.clone(),
                recipe: c.shape.kind,
                rule: c.shape.id(),
                scope: c.scope,
                tiers,
            }
        })
        .collect();

    TenantEffective {
        tenant: tenant.id.clone(),
        file: tenant.file.to_string(),
        keys,
        state_filters,
        silent_mode,
        maintenance,
        tier: tenant.metadata.tier.clone(),
        owner: tenant.metadata.owner.clone(),
        runbook_url: tenant.metadata.runbook_url.clone(),
        namespaces: tenant.metadata.namespaces.clone(),
        severity_dedup: tenant.severity_dedup,
        events,
        next_change: next.next,
        custom_alerts,
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<(LabelStr, LabelStr)> {
    pairs
        .iter()
        .map(|(k, v)| (LabelStr::const_new(k), LabelStr::from(*v)))
        .collect()
}

/// The series of one tenant's effective configuration.
pub fn series_of(e: &TenantEffective) -> TenantSeries {
    let tenant = e.tenant.as_str();
    let mut out = Vec::new();
    for k in &e.keys {
        for tier in &k.tiers {
            // A disabled dimensional row is served as `+Inf`: the most specific row
            // wins in the rule packs, and nothing is above `+Inf`, so that dimension
            // raises no alert (the tenant-wide threshold does not take over).
            let value = match tier.value {
                Some(v) => v,
                None if !k.labels.is_empty() && tier.state == ValueState::Disabled => f64::INFINITY,
                None => continue,
            };
            // One allocation per series: both parts have an exact length.
            let fixed = [
                ("tenant", tenant),
                ("component", &*k.component),
                ("metric", &*k.metric),
                ("severity", tier.severity.as_str()),
            ];
            let labels = fixed
                .iter()
                .map(|(n, v)| (LabelStr::const_new(n), LabelStr::from(*v)))
                .chain(
                    k.labels
                        .iter()
                        .map(|(n, v)| (LabelStr::from(&**n), LabelStr::from(&**v))),
                )
                .collect();
            out.push(Series {
                family: Family::UserThreshold,
                labels,
                value,
            });
        }
    }
    let mut push = |family, pairs: &[(&'static str, &str)], value| {
        out.push(Series {
            family,
            labels: labels(pairs),
            value,
        })
    };
    for f in e.state_filters.iter().filter(|f| f.enabled) {
        let severity = f.severity.as_str();
        let pairs = [
            ("tenant", tenant),
            ("filter", &f.filter),
            ("severity", severity),
        ];
        push(Family::UserStateFilter, &pairs, 1.0);
    }
    if let Some(s) = e.silent_mode.as_ref().filter(|s| s.active) {
        for sev in &s.severities {
            let pairs = [("tenant", tenant), ("target_severity", sev.as_str())];
            push(Family::UserSilentMode, &pairs, 1.0);
        }
    }
    if e.maintenance.as_ref().is_some_and(|m| m.active) {
        push(Family::UserMaintenance, &[("tenant", tenant)], 1.0);
    }
    let info = [
        ("tenant", tenant),
        ("tier", e.tier.as_deref().unwrap_or("")),
        ("owner", e.owner.as_deref().unwrap_or("")),
        ("runbook_url", e.runbook_url.as_deref().unwrap_or("")),
    ];
    push(Family::TenantMetadataInfo, &info, 1.0);
    for ns in &e.namespaces {
        push(
            Family::TenantNamespaceInfo,
            &[("tenant", tenant), ("namespace", ns)],
            1.0,
        );
    }
    for c in &e.custom_alerts {
        for tier in &c.tiers {
            let Some(value) = tier.value else { continue };
            let pairs = [
                ("tenant", tenant),
                ("alert", &c.alert),
                ("recipe", c.recipe.as_str()),
                ("rule", &c.rule),
                ("severity", tier.severity.as_str()),
            ];
            push(Family::UserCustomThreshold, &pairs, value);
        }
    }
    for ev in &e.events {
        let pairs = [
            ("tenant", tenant),
            ("event", &ev.event),
            ("reason", &ev.reason),
        ];
        push(Family::ConfigEvent, &pairs, 1.0);
    }
    // Every series above starts with the same `tenant` label: the order by (family,
    // labels) is the order by (family, the labels after it), which compares less.
    debug_assert!(out.iter().all(|s| s
        .labels
        .first()
        .is_some_and(|(n, v)| n == "tenant" && v == tenant)));
    out.sort_by(|a, b| {
        a.family
            .cmp(&b.family)
            .then_with(|| a.labels[1..].cmp(&b.labels[1..]))
    });
    out.dedup_by(|a, b| a.family == b.family && a.labels[1..] == b.labels[1..]);
    TenantSeries {
        tenant: e.tenant.clone(),
        series: out,
        next_change: e.next_change,
    }
}

/// Resolves one tenant into its series.
pub fn resolve_tenant(platform: &Platform, tenant: &Tenant, t: DateTime<Utc>) -> TenantSeries {
    series_of(&effective_of(platform, tenant, t, false))
}

/// Effective configuration of every tenant at `t`, sorted by tenant id.
pub fn effective(config: &Config, t: DateTime<Utc>) -> Vec<TenantEffective> {
    config
        .tenants
        .values()
        .map(|tenant| effective_tenant(&config.platform, tenant, t))
        .collect()
}

/// Resolves the whole configuration at `t` (large configurations on all cores).
pub fn resolve(config: &Config, t: DateTime<Utc>) -> Snapshot {
    let tenants: Vec<&Arc<Tenant>> = config.tenants.values().collect();
    let resolved = parallel_map(&tenants, |tenant| {
        Arc::new(resolve_tenant(&config.platform, tenant, t))
    });
    Snapshot::from_tenants(t, resolved)
}

/// Below this many items, [`parallel_map`] and [`parallel_drop`] stay on one thread.
pub const PARALLEL_MIN: usize = 2 * MIN_CHUNK;
const MIN_CHUNK: usize = 256;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Maps `items` in order, in chunks on scoped threads when there are enough of them.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if threads < 2 || items.len() < PARALLEL_MIN {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads).max(MIN_CHUNK);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("resolver thread panicked"))
            .collect()
    })
}

/// Whether dropping `arcs` frees enough to be worth [`parallel_drop`]: only what they alone
/// hold counts (a resolver or a newer snapshot shares the rest).
pub(crate) fn owns_many<'a, T: 'a>(arcs: impl IntoIterator<Item = &'a Arc<T>>) -> bool {
    arcs.into_iter()
        .filter(|a| Arc::strong_count(a) == 1)
        .count()
        >= PARALLEL_MIN
}

/// Drops `items` in chunks on scoped threads when there are enough of them.
pub fn parallel_drop<T: Send>(mut items: Vec<T>) {
    let threads = threads();
    if threads < 2 || items.len() < PARALLEL_MIN {
        return;
    }
    let chunk = items.len().div_ceil(threads).max(MIN_CHUNK);
    std::thread::scope(|scope| {
        while items.len() > chunk {
            let tail = items.split_off(items.len() - chunk);
            scope.spawn(move || drop(tail));
        }
        drop(items);
    });
}

/// Incremental resolution: a per-tenant cache of what is derived from each tenant's
/// series (the series themselves, or their rendered text). A tenant is resolved again
/// only when its configuration changed (by `Arc` identity), the platform changed, or its
/// last result announced a change at or before `t`; those are resolved on all cores.
#[derive(Debug)]
pub struct Resolver<T> {
    platform: Option<Arc<Platform>>,
    last: Option<DateTime<Utc>>,
    entries: BTreeMap<String, Cached<T>>,
}

#[derive(Debug)]
struct Cached<T> {
    tenant: Arc<Tenant>,
    next_change: Option<DateTime<Utc>>,
    value: T,
}

/// What one [`Resolver::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Tenants resolved again.
    pub resolved: usize,
    /// Tenants no longer in the configuration.
    pub removed: usize,
}

impl<T> Default for Resolver<T> {
    fn default() -> Resolver<T> {
        Resolver {
            platform: None,
            last: None,
            entries: BTreeMap::new(),
        }
    }
}

impl<T: Send + Sync> Resolver<T> {
    pub fn new() -> Resolver<T> {
        Resolver::default()
    }

    /// Brings the cache to `config` at `t`. `derive` turns a tenant's fresh series into
    /// the cached value, given the value it replaces (to keep it when nothing changed).
    pub fn update(
        &mut self,
        config: &Config,
        t: DateTime<Utc>,
        derive: impl Fn(TenantSeries, Option<&T>) -> T + Sync,
    ) -> Update {
        let same_platform = self
            .platform
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &config.platform));
        let forward = self.last.is_none_or(|l| l <= t);
        self.platform = Some(config.platform.clone());
        self.last = Some(t);
        if !same_platform || !forward {
            // Kept only as the previous values handed to `derive`.
            for e in self.entries.values_mut() {
                e.next_change = Some(DateTime::<Utc>::MIN_UTC);
            }
        }
        // Both maps are sorted by tenant id: one walk finds what changed.
        let mut stale = Vec::new();
        let mut gone = Vec::new();
        let mut ours = self.entries.iter().peekable();
        for (id, tenant) in &config.tenants {
            while let Some((old_id, _)) = ours.next_if(|(old_id, _)| old_id.as_str() < id.as_str())
            {
                gone.push(old_id.clone());
            }
            match ours.next_if(|(old_id, _)| *old_id == id) {
                Some((_, e))
                    if Arc::ptr_eq(&e.tenant, tenant) && e.next_change.is_none_or(|n| n > t) => {}
                _ => stale.push((id, tenant)),
            }
        }
        gone.extend(ours.map(|(old_id, _)| old_id.clone()));
        for id in &gone {
            self.entries.remove(id);
        }
        let entries = &self.entries;
        let fresh = parallel_map(&stale, |(id, tenant)| {
            let series = resolve_tenant(&config.platform, tenant, t);
            let next_change = series.next_change;
            let prev = entries.get(id.as_str()).map(|e| &e.value);
            (next_change, derive(series, prev))
        });
        let (resolved, removed) = (stale.len(), gone.len());
        for ((id, tenant), (next_change, value)) in stale.into_iter().zip(fresh) {
            let cached = Cached {
                tenant: tenant.clone(),
                next_change,
                value,
            };
            self.entries.insert(id.clone(), cached);
        }
        Update { resolved, removed }
    }

    /// The cached values, by tenant id.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.values().map(|e| &e.value)
    }

    /// The earliest announced change after `t`, if any.
    pub fn next_change_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.entries
            .values()
            .filter_map(|e| e.next_change)
            .filter(|n| *n > t)
            .min()
    }
}

impl Resolver<Arc<TenantSeries>> {
    /// Resolves `config` at `t`, reusing unchanged tenants; returns the snapshot and
    /// how many tenants were resolved again.
    pub fn resolve(&mut self, config: &Config, t: DateTime<Utc>) -> (Snapshot, usize) {
        let update = self.update(config, t, |series, _| Arc::new(series));
        let tenants = self.values().cloned().collect();
        (Snapshot::from_tenants(t, tenants), update.resolved)
    }
}
