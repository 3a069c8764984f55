//! Tenant-authored alerts (`_custom_alerts:` recipes), as validated by the loader.
//!
//! A recipe never carries PromQL: it names a metric, a map of label selectors, an
//! operator and a window, and the rule compiler writes the expression. Every tenant
//! that uses the same [`RecipeShape`] shares one generated rule; its own threshold
//! reaches that rule as a `user_custom_threshold{rule="<shape id>"}` series.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::{Source, Tiers};

/// What a recipe measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipeKind {
    /// A gauge against a value.
    Threshold,
    /// Per-second rate of a counter.
    Rate,
    /// Rate of a numerator counter over the rate of a denominator counter.
    Ratio,
    /// A quantile of a histogram (`<metric>_bucket`).
    Quantile,
    /// A series that stops, for tenants that exported it.
    Absence,
    /// `predict_linear` of a gauge (optionally as a fraction of a capacity) over a horizon.
    Forecast,
    /// Multi-window error-budget burn rate of an availability objective.
    SloBurnRate,
}

impl RecipeKind {
    pub const ALL: [RecipeKind; 7] = [
        RecipeKind::Threshold,
        RecipeKind::Rate,
        RecipeKind::Ratio,
        RecipeKind::Quantile,
        RecipeKind::Absence,
        RecipeKind::Forecast,
        RecipeKind::SloBurnRate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipeKind::Threshold => "threshold",
            RecipeKind::Rate => "rate",
            RecipeKind::Ratio => "ratio",
            RecipeKind::Quantile => "quantile",
            RecipeKind::Absence => "absence",
            RecipeKind::Forecast => "forecast",
            RecipeKind::SloBurnRate => "slo_burn_rate",
        }
    }
}

/// Comparison of the observation with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CompareOp {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl CompareOp {
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Eq,
        CompareOp::Ne,
    ];

    pub fn as_str(self) -> &'static str {
        // Indexed by the discriminant: the operators in declaration order.
        [">", ">=", "<", "<=", "==", "!="][self as usize]
    }

    pub fn parse(s: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Everything that decides the generated rule of a recipe. Tenants whose recipes have
/// equal shapes share one rule.
///
/// The alert name and `for` are part of the shape because Prometheus fixes both per rule
/// (`alertname` is the rule's name; `for` is one duration per rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecipeShape {
    pub name: String,
    pub kind: RecipeKind,
    pub metric: String,
    /// `ratio` only: the denominator counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// `quantile` only: the quantile, canonical text in (0, 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<String>,
    /// Exact-match label selectors.
    pub selectors: BTreeMap<String, String>,
    /// Regex label selectors (fully anchored, as in PromQL).
    pub selectors_re: BTreeMap<String, String>,
    pub op: CompareOp,
    /// Window as written after validation (a Prometheus duration such as `5m`).
    pub window: String,
    /// `for:` as a Prometheus duration; `None` = fire at the first evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// `forecast` only: how far ahead (a Prometheus duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<String>,
    /// `forecast` only: the capacity gauge; the forecast is then a fraction of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// `forecast` only: labels evaluated separately (e.g. one volume of many).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// `slo_burn_rate` only: fewest requests in a window for it to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_events: Option<u64>,
    /// `mode: silent`: the alert carries `mode="silent"` (visible, meant not to notify).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

impl RecipeShape {
    /// How many rules the shape costs toward the limits (`slo_burn_rate` is two alerts).
    pub fn cost(&self) -> usize {
        1 + usize::from(self.kind == RecipeKind::SloBurnRate)
    }

    /// Canonical text of the shape: equal shapes, equal text.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
            self.name,
            self.kind.as_str(),
            self.metric,
            self.denominator.as_deref().unwrap_or(""),
            self.quantile.as_deref().unwrap_or(""),
            self.op.as_str(),
            self.window,
            self.for_.as_deref().unwrap_or(""),
        );
        let _ = write!(
            s,
            "\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
            self.horizon.as_deref().unwrap_or(""),
            self.capacity.as_deref().unwrap_or(""),
            self.group_by.join(","),
            self.min_events.map(|m| m.to_string()).unwrap_or_default(),
            if self.silent { "silent" } else { "" },
        );
        for (sep, map) in [('=', &self.selectors), ('~', &self.selectors_re)] {
            for (k, v) in map {
                let _ = write!(s, "\u{1}{k}{sep}{}:{v}", v.len());
            }
        }
        s
    }

    /// Stable id of the shape: 16 hex digits of the FNV-1a hash of its canonical text.
    /// It labels the threshold series (`rule`) and selects them in the generated rule.
    pub fn id(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.canonical().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Where a recipe was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipeScope {
    /// A platform file: applies to every tenant.
    Platform,
    /// A tenant file: applies to that tenant only.
    Tenant,
}

/// One validated recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomAlert {
    pub shape: RecipeShape,
    /// Thresholds per tier (schedules and expiry as for catalogue keys).
    pub thresholds: Tiers,
    pub scope: RecipeScope,
    pub source: Source,
}

/// Platform limits on what one tenant's recipes may cost the others
/// (`custom_alert_limits:` in a platform file; docs/recipes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipeLimits {
    /// Most series of a recipe's metrics (after its selectors) one tenant may have; above it
    /// that tenant's alert of the recipe is switched off and `CustomAlertSeriesLimit` fires.
    pub max_series_per_tenant: u64,
    /// The rule group `limit` of each recipe shape: most alerts its rule may produce; above
    /// it the shape's rule fails alone (and its evaluation failure is alerted on).
    pub max_alerts_per_rule: u64,
}

impl RecipeLimits {
    /// Default of `max_series_per_tenant`.
    pub const DEFAULT_MAX_SERIES_PER_TENANT: u64 = 10_000;
    /// Default of `max_alerts_per_rule`.
    pub const DEFAULT_MAX_ALERTS_PER_RULE: u64 = 20_000;
    /// Largest value either limit accepts.
    pub const MAX: u64 = 10_000_000;
}

impl Default for RecipeLimits {
    fn default() -> Self {
        RecipeLimits {
            max_series_per_tenant: Self::DEFAULT_MAX_SERIES_PER_TENANT,
            max_alerts_per_rule: Self::DEFAULT_MAX_ALERTS_PER_RULE,
        }
    }
}
