//! Validated configuration: the platform catalogue and the tenants.
//!
//! Values here were checked by the loader; code that consumes them never
//! re-parses strings. Every value remembers the `file:line` it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::routing::{PlatformRouting, TenantRouting};
use crate::schedule::Override;
use crate::{Severity, ThresholdKey};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u32,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One tier of one key: a fixed or scheduled value, possibly disabled, possibly expiring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierValue {
    /// Value outside every override window; `None` means disabled.
    pub default: Option<f64>,
    /// Scheduled overrides; the first matching window wins.
    pub overrides: Vec<Override>,
    /// After this instant the tenant's value no longer applies (the platform default does).
    pub expires: Option<DateTime<Utc>>,
    pub source: Source,
}

impl TierValue {
    pub fn fixed(value: Option<f64>, source: Source) -> TierValue {
        TierValue {
            default: value,
            overrides: Vec::new(),
            expires: None,
            source,
        }
    }

    pub fn is_scheduled(&self) -> bool {
        !self.overrides.is_empty()
    }
}

/// The tiers set for one key: at most one value per severity.
///
/// A fixed array rather than a map: tens of thousands of tenants × tens of keys
/// each hold one, and a `BTreeMap` node costs about a kilobyte even for one entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    from = "BTreeMap<Severity, TierValue>",
    into = "BTreeMap<Severity, TierValue>"
)]
pub struct Tiers {
    /// Boxed: most keys set one or two tiers, so the empty slots stay one pointer each.
    slots: [Option<Box<TierValue>>; 3],
}

/// The slot of a tier: slots follow the order of [`Severity`] (info, warning, critical).
fn slot(s: Severity) -> usize {
    s as usize
}

impl Tiers {
    pub fn new() -> Tiers {
        Tiers::default()
    }

    pub fn get(&self, s: &Severity) -> Option<&TierValue> {
        self.slots[slot(*s)].as_deref()
    }

    pub fn contains_key(&self, s: &Severity) -> bool {
        self.get(s).is_some()
    }

    /// Sets a tier, returning the previous value.
    pub fn insert(&mut self, s: Severity, v: TierValue) -> Option<TierValue> {
        self.slots[slot(s)].replace(Box::new(v)).map(|b| *b)
    }

    /// Sets a tier only when it is not set yet.
    pub fn insert_if_absent(&mut self, s: Severity, v: impl FnOnce() -> TierValue) {
        let slot = &mut self.slots[slot(s)];
        if slot.is_none() {
            *slot = Some(Box::new(v()));
        }
    }

    /// `(severity, value)` in severity order (info, warning, critical).
    pub fn iter(&self) -> impl Iterator<Item = (Severity, &TierValue)> {
        Severity::ALL
            .into_iter()
            .zip(&self.slots)
            .filter_map(|(s, v)| v.as_deref().map(|v| (s, v)))
    }

    pub fn keys(&self) -> impl Iterator<Item = Severity> + '_ {
        self.iter().map(|(s, _)| s)
    }

    pub fn values(&self) -> impl Iterator<Item = &TierValue> {
        self.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromIterator<(Severity, TierValue)> for Tiers {
    fn from_iter<I: IntoIterator<Item = (Severity, TierValue)>>(iter: I) -> Tiers {
        let mut t = Tiers::new();
        for (s, v) in iter {
            t.insert(s, v);
        }
        t
    }
}

impl From<BTreeMap<Severity, TierValue>> for Tiers {
    fn from(m: BTreeMap<Severity, TierValue>) -> Tiers {
        m.into_iter().collect()
    }
}

impl From<Tiers> for BTreeMap<Severity, TierValue> {
    fn from(t: Tiers) -> BTreeMap<Severity, TierValue> {
        Severity::ALL
            .into_iter()
            .zip(t.slots)
            .filter_map(|(s, v)| v.map(|v| (s, *v)))
            .collect()
    }
}

/// A platform state filter definition (`state_filters:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateFilterDef {
    pub reasons: Vec<String>,
    pub severity: Severity,
    pub source: Source,
}

/// Everything the platform files define, merged in file-name order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// Keys with defaults (plain keys, possibly dimensional rows too).
    pub defaults: BTreeMap<ThresholdKey, Tiers>,
    /// Keys without a default: emitted only when a tenant sets them.
    pub optional: BTreeMap<String, Source>,
    pub state_filters: BTreeMap<String, StateFilterDef>,
    /// `dimensions:`: the labels each key may be refined by (what the rule packs honour).
    /// `None` when no platform file declares the block (dimensional keys then go unchecked).
    #[serde(default)]
    pub dimensions: Option<BTreeMap<String, Vec<String>>>,
    pub routing: Option<PlatformRouting>,
    /// Platform files that were merged, in order.
    pub files: Vec<Arc<str>>,
    /// `tenancy:`: the tier and namespaces the platform assigns to each tenant. What
    /// crosses tenants is decided here, never by a tenant's own file.
    #[serde(default)]
    /// Shared between the platform and the merged defaults of every directory of a
    /// hierarchical conf.d (which never change it).
    pub tenancy: Arc<BTreeMap<String, Assignment>>,
    /// Namespace -> tenant, from `tenancy:` (one owner per namespace by construction).
    #[serde(default)]
    pub namespace_owner: Arc<BTreeMap<String, String>>,
    /// `_custom_alerts:` of the platform files: recipes every tenant gets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_alerts: Vec<crate::custom::CustomAlert>,
    /// `custom_alert_limits:` of the platform files; `None` when no file sets it (the
    /// defaults of [`crate::custom::RecipeLimits`] apply, see [`Platform::recipe_limits`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_alert_limits: Option<crate::custom::RecipeLimits>,
    /// Per default key, where each level of a hierarchical conf.d set it, root first
    /// (one entry for a flat layout).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub chain: BTreeMap<ThresholdKey, Vec<Source>>,
}

/// What the platform assigns to one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub tier: Option<String>,
    /// Namespaces of the tenant; empty means the default (the tenant id).
    pub namespaces: Vec<String>,
    pub source: Option<Source>,
}

impl Platform {
    /// The limits on tenants' recipes: the platform's `custom_alert_limits:`, else the defaults.
    pub fn recipe_limits(&self) -> crate::custom::RecipeLimits {
        self.custom_alert_limits.unwrap_or_default()
    }

    /// Every base key a tenant may set.
    pub fn catalogue(&self) -> BTreeSet<&str> {
        self.defaults
            .keys()
            .map(|k| k.base.as_str())
            .chain(self.optional.keys().map(String::as_str))
            .collect()
    }

    pub fn knows(&self, base: &str) -> bool {
        self.optional.contains_key(base) || self.defaults.keys().any(|k| k.base == base)
    }

    /// The tier the platform assigns to a tenant.
    pub fn tier_of(&self, tenant: &str) -> Option<&str> {
        self.tenancy.get(tenant)?.tier.as_deref()
    }

    /// The namespaces a tenant owns: the ones the platform assigns, else its id, unless
    /// the platform assigns that namespace to another tenant.
    pub fn namespaces_of(&self, tenant: &str) -> Vec<String> {
        match self.tenancy.get(tenant) {
            Some(a) if !a.namespaces.is_empty() => a.namespaces.clone(),
            _ => match self.namespace_owner.get(tenant) {
                Some(owner) if owner != tenant => Vec::new(),
                _ => vec![tenant.to_string()],
            },
        }
    }

    /// Whether `namespaces` are exactly [`Platform::namespaces_of`] `tenant` (without
    /// building that list).
    pub fn namespaces_are(&self, tenant: &str, namespaces: &[String]) -> bool {
        match self.tenancy.get(tenant) {
            Some(a) if !a.namespaces.is_empty() => a.namespaces == namespaces,
            _ => match self.namespace_owner.get(tenant) {
                Some(owner) if owner != tenant => namespaces.is_empty(),
                _ => namespaces.len() == 1 && namespaces[0] == tenant,
            },
        }
    }
}

/// `_metadata` of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub tier: Option<String>,
    pub owner: Option<String>,
    pub runbook_url: Option<String>,
    /// Kubernetes namespaces of the tenant, as the platform assigns them (see
    /// [`Platform::namespaces_of`]); empty when the tenant owns none.
    pub namespaces: Vec<String>,
    /// Where `_metadata` was set, if it was.
    #[serde(default)]
    pub source: Option<Source>,
}

impl Tenant {
    /// The tenant's custom alert recipe named `name` (its alertname).
    pub fn custom_alert(&self, name: &str) -> Option<&crate::custom::CustomAlert> {
        self.custom_alerts.iter().find(|a| a.shape.name == name)
    }

    /// Kubernetes namespaces owned by the tenant (platform-assigned; see
    /// [`Platform::namespaces_of`]).
    pub fn namespaces(&self) -> Vec<&str> {
        self.metadata
            .namespaces
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// This tenant with the tier and namespaces the platform assigns (a tenant's own
    /// file only claims them).
    pub fn with_tenancy(&self, platform: &Platform) -> Option<Tenant> {
        let mut t = self.clone();
        t.apply_tenancy(platform);
        (t.metadata != self.metadata).then_some(t)
    }

    /// Sets the tier and namespaces the platform assigns to this tenant.
    pub fn apply_tenancy(&mut self, platform: &Platform) {
        self.metadata.tier = platform.tier_of(&self.id).map(str::to_string);
        self.metadata.namespaces = platform.namespaces_of(&self.id);
    }
}

/// Which severities silent mode mutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilentTarget {
    Warning,
    Critical,
    All,
}

impl SilentTarget {
    pub fn severities(self) -> &'static [Severity] {
        match self {
            SilentTarget::Warning => &[Severity::Warning],
            SilentTarget::Critical => &[Severity::Critical],
            SilentTarget::All => &Severity::ALL,
        }
    }
}

/// `_silent_mode` of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilentMode {
    pub target: SilentTarget,
    pub expires: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub source: Source,
}

/// A recurring maintenance window: starts at every cron match, lasts `duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecurringWindow {
    pub cron: crate::CronSchedule,
    pub duration_secs: i64,
    pub timezone: Tz,
}

/// `_state_maintenance` of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    /// One-off maintenance: active from `start` (or always) until `expires` (or forever).
    /// `false` when only recurring windows are configured.
    pub one_off: bool,
    pub start: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub recurring: Vec<RecurringWindow>,
    pub source: Source,
}

/// One validated tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub file: Arc<str>,
    pub thresholds: BTreeMap<ThresholdKey, Tiers>,
    /// `_state_<filter>` settings: filter name -> enabled.
    pub state_filters: BTreeMap<String, (bool, Source)>,
    pub metadata: Metadata,
    pub routing: Option<TenantRouting>,
    pub silent_mode: Option<SilentMode>,
    pub maintenance: Option<Maintenance>,
    /// `_severity_dedup`: critical inhibits warning (default true).
    pub severity_dedup: bool,
    /// `_custom_alerts:` of the tenant file (the platform's apply as well).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_alerts: Vec<crate::custom::CustomAlert>,
    /// The defaults of the tenant's directory in a hierarchical conf.d (the root platform
    /// deep-merged with every `_defaults.yaml` above the tenant file); `None` for a tenant
    /// in the root directory, which uses the root platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Arc<Platform>>,
}

/// The whole validated configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub platform: Arc<Platform>,
    pub tenants: BTreeMap<String, Arc<Tenant>>,
}

impl Drop for Config {
    /// Tens of thousands of tenants free a few million allocations: on all cores.
    fn drop(&mut self) {
        if crate::resolve::owns_many(self.tenants.values()) {
            let tenants: Vec<_> = std::mem::take(&mut self.tenants).into_values().collect();
            crate::resolve::parallel_drop(tenants);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `namespaces_are` answers exactly what comparing with `namespaces_of` answers.
    #[test]
    fn namespaces_are_matches_namespaces_of() {
        let assigned = |ns: &[&str]| Assignment {
            tier: None,
            namespaces: ns.iter().map(|n| n.to_string()).collect(),
            source: None,
        };
        let platform = Platform {
            tenancy: Arc::new(BTreeMap::from([
                ("a".to_string(), assigned(&["a", "a-batch"])),
                ("b".to_string(), assigned(&[])),
                ("c".to_string(), assigned(&["x"])),
            ])),
            namespace_owner: Arc::new(BTreeMap::from([
                ("a".to_string(), "a".to_string()),
                ("a-batch".to_string(), "a".to_string()),
                ("x".to_string(), "c".to_string()),
            ])),
            ..Platform::default()
        };
        let lists: [&[&str]; 6] = [
            &[],
            &["a"],
            &["a", "a-batch"],
            &["a-batch", "a"],
            &["x"],
            &["x", "x"],
        ];
        for tenant in ["a", "b", "c", "x", "unknown"] {
            for list in lists {
                let list: Vec<String> = list.iter().map(|n| n.to_string()).collect();
                assert_eq!(
                    platform.namespaces_are(tenant, &list),
                    platform.namespaces_of(tenant) == list,
                    "tenant {tenant}, namespaces {list:?}"
                );
            }
        }
    }
}
