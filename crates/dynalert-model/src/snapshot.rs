//! The resolved result: metric series per tenant, ready to be rendered.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Metric families produced by resolution (BRIEF §4). Order = exposition order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    UserThreshold,
    UserStateFilter,
    UserSilentMode,
    UserMaintenance,
    TenantMetadataInfo,
    TenantNamespaceInfo,
    ConfigEvent,
    UserCustomThreshold,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::UserThreshold,
        Family::UserStateFilter,
        Family::UserSilentMode,
        Family::UserMaintenance,
        Family::TenantMetadataInfo,
        Family::TenantNamespaceInfo,
        Family::ConfigEvent,
        Family::UserCustomThreshold,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::UserThreshold => "user_threshold",
            Family::UserStateFilter => "user_state_filter",
            Family::UserSilentMode => "user_silent_mode",
            Family::UserMaintenance => "user_maintenance",
            Family::TenantMetadataInfo => "tenant_metadata_info",
            Family::TenantNamespaceInfo => "tenant_namespace_info",
            Family::ConfigEvent => "threshold_exporter_config_event",
            Family::UserCustomThreshold => "user_custom_threshold",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Family::UserThreshold => "Alert threshold of a tenant for a key and severity tier.",
            Family::UserStateFilter => "1 while a state-based alert filter is enabled for a tenant.",
            Family::UserSilentMode => "1 while a tenant's silent mode mutes the target severity.",
            Family::UserMaintenance => "1 while a tenant is in a maintenance window.",
            Family::TenantMetadataInfo => "Tenant metadata (tier, owner, runbook), always 1.",
            Family::TenantNamespaceInfo => "Kubernetes namespace owned by a tenant, always 1.",
            Family::ConfigEvent => {
                "1 while a configuration event (such as an expiry) awaits cleanup in the tenant file."
            }
            Family::UserCustomThreshold => {
                "Threshold of a tenant for one custom alert recipe (rule = recipe shape id) and severity tier."
            }
        }
    }
}

/// A label name or value. Almost all of them (tenant ids, keys, severities) fit in 24
/// bytes and are stored inline: a snapshot of 10,000 tenants holds over a million labels,
/// and one heap string each made allocation the largest cost of a cold load.
pub type LabelStr = compact_str::CompactString;

/// One series: family, ordered label pairs, value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub family: Family,
    pub labels: Vec<(LabelStr, LabelStr)>,
    pub value: f64,
}

/// All series of one tenant, sorted by (family, labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantSeries {
    pub tenant: String,
    pub series: Vec<Series>,
    /// Next instant at which this tenant's series change, if any.
    pub next_change: Option<DateTime<Utc>>,
}

impl TenantSeries {
    /// The series of one family, in order.
    pub fn family(&self, family: Family) -> impl Iterator<Item = &Series> {
        let start = self.series.partition_point(|s| s.family < family);
        self.series[start..]
            .iter()
            .take_while(move |s| s.family == family)
    }
}

/// The resolved configuration at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    /// Sorted by tenant id.
    pub tenants: Vec<Arc<TenantSeries>>,
    /// Earliest instant at which any tenant's series change.
    pub next_change: Option<DateTime<Utc>>,
}

impl Drop for Snapshot {
    /// A large snapshot holds millions of labels: freed on all cores.
    fn drop(&mut self) {
        if crate::resolve::owns_many(&self.tenants) {
            crate::resolve::parallel_drop(std::mem::take(&mut self.tenants));
        }
    }
}

impl Snapshot {
    pub fn from_tenants(at: DateTime<Utc>, tenants: Vec<Arc<TenantSeries>>) -> Snapshot {
        let next_change = tenants.iter().filter_map(|t| t.next_change).min();
        Snapshot {
            at,
            tenants,
            next_change,
        }
    }

    /// Every series, sorted by family, then tenant, then labels.
    pub fn series(&self) -> impl Iterator<Item = &Series> {
        Family::ALL
            .into_iter()
            .flat_map(move |f| self.tenants.iter().flat_map(move |t| t.family(f)))
    }

    pub fn series_count(&self) -> usize {
        self.tenants.iter().map(|t| t.series.len()).sum()
    }
}
