//! Reads `conf.d/` directories into the validated model.
//!
//! YAML is parsed with positions so that every problem is reported as
//! `path:line:col: error: message` with a hint where a fix is known. All
//! problems of a run are collected; nothing stops at the first error.

mod compat;
pub mod diag;
pub mod fsutil;
pub mod load;
mod platform;
pub mod recipes;
mod routing;
pub mod scalars;
pub mod schema;
mod tenant;
pub mod values;
pub mod yaml;
mod yaml_fast;

pub use diag::{Diagnostic, Level};
pub use load::{check_tenant_id, load_dir, tenant_id, LoadError, LoadReport, Loader, ReadOptions};
pub use yaml::Limits;
