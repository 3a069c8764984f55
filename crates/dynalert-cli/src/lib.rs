//! The `dynalert` command line.
//!
//! Exit codes: 0 success, 1 findings (validation errors, differences), 2 usage
//! or internal error. Data goes to stdout, diagnostics to stderr.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod cmd;
pub mod output;

/// Multi-tenant dynamic alerting for Prometheus.
#[derive(Debug, Parser)]
#[command(name = "dynalert", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a conf.d directory and report every problem.
    Validate(cmd::validate::Args),
    /// Print the effective configuration (as exported series or as JSON).
    Effective(cmd::effective::Args),
    /// Print the JSON Schema of platform or tenant files.
    Schema(cmd::schema::Args),
    /// Generate a tenant-scoped alertmanager.yml from a conf.d directory.
    Alertmanager(cmd::alertmanager::Args),
    /// Explain which receivers get an alert with the given labels, and why.
    ExplainRoute(cmd::explain_route::Args),
    /// Rule-pack tools: key coverage and generated regex-threshold rules.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// The local lab: real Prometheus, Alertmanager, MariaDB and exporters (`up`, `status`, `down`).
    Lab(cmd::lab::Args),
    /// Run lab scenarios A-D, `ha` and `bad-config` with stage timings and verdicts.
    Scenario(cmd::scenario::Args),
    /// A tenant's effective config, exporters, thresholds as Prometheus sees them, alerts, verdict.
    InspectTenant(cmd::inspect_tenant::Args),
    /// Check that config, exporters, recording rules and alert state agree for one key.
    VerifyThreshold(cmd::verify_threshold::Args),
    /// Scale benchmarks with a real Prometheus: per-tenant vs dynamic rules, exporter costs.
    #[command(subcommand)]
    Bench(cmd::bench::Command),
    /// Kubernetes delivery: render and check the Helm chart offline (`check`).
    #[command(subcommand)]
    Deploy(cmd::deploy::Command),
}

/// Exit code for findings.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage or internal errors.
pub const EXIT_ERROR: u8 = 2;

/// Runs the CLI on `args` (including the program name).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(a) => cmd::validate::run(a),
        Command::Effective(a) => cmd::effective::run(a),
        Command::Schema(a) => cmd::schema::run(a),
        Command::Alertmanager(a) => cmd::alertmanager::run(a),
        Command::ExplainRoute(a) => cmd::explain_route::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Lab(a) => cmd::lab::run(a),
        Command::Scenario(a) => cmd::scenario::run(a),
        Command::InspectTenant(a) => cmd::inspect_tenant::run(a),
        Command::VerifyThreshold(a) => cmd::verify_threshold::run(a),
        Command::Bench(c) => cmd::bench::run(c),
        Command::Deploy(c) => cmd::deploy::run(c),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
