//! The pure threshold model shared by every part of dynalert.
//!
//! It holds validated configuration (platform catalogue and tenants), and the
//! resolution of that configuration at an instant into the metric series the
//! exporter serves, plus the next instant at which that result changes. Nothing
//! here touches the file system, the network or a clock: time is an argument.

pub mod config;
pub mod custom;
pub mod duration;
pub mod gotemplate;
pub mod key;
pub mod resolve;
pub mod routing;
pub mod schedule;
pub mod snapshot;

pub use config::{
    Assignment, Config, Maintenance, Metadata, Platform, RecurringWindow, SilentMode, SilentTarget,
    Source, StateFilterDef, Tenant, TierValue, Tiers,
};
pub use custom::{CompareOp, CustomAlert, RecipeKind, RecipeLimits, RecipeScope, RecipeShape};
pub use key::{Dim, ThresholdKey};
pub use resolve::{
    effective, effective_tenant, parallel_map, resolve, resolve_tenant, series_of, CustomEffective,
    KeyEffective, Resolver, TenantEffective, TierEffective, ValueState,
};
pub use schedule::{CronSchedule, Override, Window};
pub use snapshot::{Family, LabelStr, Series, Snapshot, TenantSeries};

use serde::{Deserialize, Serialize};

/// Alert tier of a threshold, carried in the `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        // Indexed by the discriminant: the names in declaration order.
        ["info", "warning", "critical"][self as usize]
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|sev| sev.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
