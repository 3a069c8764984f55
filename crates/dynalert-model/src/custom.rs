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
#[serde(rename_all = "lowercase")]
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
}

impl RecipeKind {
    pub const ALL: [RecipeKind; 5] = [
        RecipeKind::Threshold,
        RecipeKind::Rate,
        RecipeKind::Ratio,
        RecipeKind::Quantile,
        RecipeKind::Absence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipeKind::Threshold => "threshold",
            RecipeKind::Rate => "rate",
            RecipeKind::Ratio => "ratio",
            RecipeKind::Quantile => "quantile",
            RecipeKind::Absence => "absence",
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
        match self {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
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
}

impl RecipeShape {
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
