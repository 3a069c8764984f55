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
    let thresholds: usize = report
        .config
        .tenants
        .values()
        .map(|t| t.thresholds.values().map(|tiers| tiers.len()).sum::<usize>())
        .sum();
    eprintln!(
        "{} tenants, {} thresholds, {} errors, {} warnings",
        report.tenant_valid.len(),
        thresholds,
        report.errors(),
        report.warnings()
    );
    Ok(if report.errors() > 0 { EXIT_FINDINGS } else { 0 })
}
