//! Rule packs as data: loading the Prometheus rule files of `rules/packs/`, checking them
//! against the threshold catalogue and the real exporter metric names (the "contract"),
//! the key -> alerts coverage matrix, and the generated regex-threshold recording rules.
//!
//! Pure library: file reads only, no async runtime.

pub mod catalogue;
pub mod contract;
pub mod coverage;
pub mod custom;
pub mod joins;
pub mod migrate;
pub mod pack;
pub mod promql;
pub mod regex_rules;
pub mod runbook;

pub use catalogue::{load_catalogue, Catalogue};
pub use contract::{check, load_metric_types, MetricType, MetricTypes, Violation};
pub use coverage::{coverage, render_coverage, Coverage};
pub use custom::{render_custom_rules, shapes_of};
pub use joins::check_joins;
pub use pack::{load_packs, Rule, RuleKind};
pub use regex_rules::{
    armed_rows, regex_rows, regex_rows_of, render_regex_rules, unarmed_rows, RegexRow, UnarmedRow,
    ARMED, DIMENSIONS,
};
pub use runbook::{set_runbook_base, DEFAULT_RUNBOOK_BASE, RUNBOOK_SETTING};

use std::path::PathBuf;

/// Everything that can go wrong while reading packs, the catalogue or the captures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{path}: invalid YAML: {message}")]
    Yaml { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
}
