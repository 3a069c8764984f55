//! `dynalert validate DIR`: every problem of a conf.d directory, located.

use std::path::PathBuf;

use chrono::Utc;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let report = dynalert_config::load_dir(&args.dir, Utc::now())?;
    print_diagnostics(&report.diagnostics);
    let snapshot = dynalert_model::resolve(&report.config, Utc::now());
    let thresholds = snapshot
        .series()
        .filter(|s| s.family == dynalert_model::Family::UserThreshold)
        .count();
    eprintln!(
        "{} tenants, {} thresholds, {} errors, {} warnings",
        report.tenant_valid.len(),
        thresholds,
        report.errors(),
        report.warnings()
    );
    Ok(if report.errors() > 0 {
        EXIT_FINDINGS
    } else {
        0
    })
}
