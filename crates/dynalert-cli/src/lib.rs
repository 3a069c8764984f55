//! The `dynalert` command line.
//!
//! Exit codes: 0 success, 1 findings (validation errors, differences), 2 usage
//! or internal error. Data goes to stdout, diagnostics to stderr.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod catalogue;
pub mod cmd;
pub mod errors;
pub mod generated;
pub mod output;

/// `--version`: the package version, the source revision and the build date.
pub const VERSION: &str = dynalert_version::LONG;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Check, preview and route per-tenant Prometheus alert thresholds"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Check, preview and route per-tenant Prometheus alert thresholds.

Thresholds live in a conf.d directory: platform files (`_*.yaml`) hold the defaults, the
catalogue of keys and the routing; one file per tenant (`<tenant>.yaml`) holds what the tenant
changes. threshold-exporter serves them as the `user_threshold` metric, and a fixed set of rule
packs compares every tenant's observations with its own thresholds. This command checks such a
directory, shows what the exporter would serve, generates the Alertmanager configuration, and
runs a local lab of real servers to see it all work.

Run `dynalert <command> --help` for a command's examples and exit codes."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Start a new conf.d, add a tenant and check the result:
    dynalert init conf.d
    dynalert tenant new db-a --dir conf.d
    dynalert validate conf.d

  See what the exporter will serve for one tenant:
    dynalert effective conf.d --tenant db-a

  Generate the Alertmanager configuration:
    dynalert alertmanager conf.d -o alertmanager.yml

Exit codes:
  0  success
  1  findings: validation errors, differences, failed checks
  2  usage error or internal error (an unreadable file, an unreachable server)

See also:
  threshold-exporter --help   the daemon that serves a conf.d as metrics
  man dynalert                this help as a manual page, with one page per command"#;

/// Multi-tenant dynamic alerting for Prometheus.
#[derive(Debug, Parser)]
#[command(name = "dynalert", version = VERSION, about = ABOUT, long_about = LONG_ABOUT, after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new conf.d with the packs' catalogue and an example tenant.
    #[command(about = cmd::init::ABOUT, long_about = cmd::init::LONG_ABOUT, after_long_help = cmd::init::AFTER_HELP)]
    Init(cmd::init::Args),
    /// Tenant files: `new`.
    #[command(about = cmd::tenant::ABOUT, long_about = cmd::tenant::LONG_ABOUT, after_long_help = cmd::tenant::AFTER_HELP)]
    #[command(subcommand)]
    Tenant(cmd::tenant::Command),
    /// Validate a conf.d directory and report every problem.
    #[command(about = cmd::validate::ABOUT, long_about = cmd::validate::LONG_ABOUT, after_long_help = cmd::validate::AFTER_HELP)]
    Validate(cmd::validate::Args),
    /// Print the effective configuration (as exported series or as JSON).
    #[command(about = cmd::effective::ABOUT, long_about = cmd::effective::LONG_ABOUT, after_long_help = cmd::effective::AFTER_HELP)]
    Effective(cmd::effective::Args),
    /// Print the JSON Schema of platform or tenant files.
    #[command(about = cmd::schema::ABOUT, long_about = cmd::schema::LONG_ABOUT, after_long_help = cmd::schema::AFTER_HELP)]
    Schema(cmd::schema::Args),
    /// Shell completion scripts.
    #[command(about = cmd::shell_completions::ABOUT, long_about = cmd::shell_completions::LONG_ABOUT, after_long_help = cmd::shell_completions::AFTER_HELP)]
    Completions(cmd::shell_completions::Args),
    /// Manual pages.
    #[command(about = cmd::man::ABOUT, long_about = cmd::man::LONG_ABOUT, after_long_help = cmd::man::AFTER_HELP)]
    Man(cmd::man::Args),
    /// Generate a tenant-scoped alertmanager.yml from a conf.d directory.
    #[command(about = cmd::alertmanager::ABOUT, long_about = cmd::alertmanager::LONG_ABOUT, after_long_help = cmd::alertmanager::AFTER_HELP)]
    Alertmanager(cmd::alertmanager::Args),
    /// Explain which receivers get an alert with the given labels, and why.
    #[command(about = cmd::explain_route::ABOUT, long_about = cmd::explain_route::LONG_ABOUT, after_long_help = cmd::explain_route::AFTER_HELP)]
    ExplainRoute(cmd::explain_route::Args),
    /// Rule-pack tools: key coverage and generated regex-threshold rules.
    #[command(subcommand)]
    #[command(about = cmd::rules::ABOUT, long_about = cmd::rules::LONG_ABOUT, after_long_help = cmd::rules::AFTER_HELP)]
    Rules(cmd::rules::Command),
    /// The local lab: real Prometheus, Alertmanager, MariaDB and exporters (`up`, `status`, `down`).
    #[command(about = cmd::lab::ABOUT, long_about = cmd::lab::LONG_ABOUT, after_long_help = cmd::lab::AFTER_HELP)]
    Lab(cmd::lab::Args),
    /// Run lab scenarios A-D, `ha` and `bad-config` with stage timings and verdicts.
    #[command(about = cmd::scenario::ABOUT, long_about = cmd::scenario::LONG_ABOUT, after_long_help = cmd::scenario::AFTER_HELP)]
    Scenario(cmd::scenario::Args),
    /// A tenant's effective config, exporters, thresholds as Prometheus sees them, alerts, verdict.
    #[command(about = cmd::inspect_tenant::ABOUT, long_about = cmd::inspect_tenant::LONG_ABOUT, after_long_help = cmd::inspect_tenant::AFTER_HELP)]
    InspectTenant(cmd::inspect_tenant::Args),
    /// Check that config, exporters, recording rules and alert state agree for one key.
    #[command(about = cmd::verify_threshold::ABOUT, long_about = cmd::verify_threshold::LONG_ABOUT, after_long_help = cmd::verify_threshold::AFTER_HELP)]
    VerifyThreshold(cmd::verify_threshold::Args),
    /// Scale benchmarks with a real Prometheus: per-tenant vs dynamic rules, exporter costs.
    #[command(subcommand)]
    #[command(about = cmd::bench::ABOUT, long_about = cmd::bench::LONG_ABOUT, after_long_help = cmd::bench::AFTER_HELP)]
    Bench(cmd::bench::Command),
    /// Kubernetes delivery: render and check the Helm chart offline (`check`).
    #[command(subcommand)]
    #[command(about = cmd::deploy::ABOUT, long_about = cmd::deploy::LONG_ABOUT, after_long_help = cmd::deploy::AFTER_HELP)]
    Deploy(cmd::deploy::Command),
    /// Turn static per-tenant alert rules into a conf.d, and report what was left alone.
    #[command(about = cmd::migrate::ABOUT, long_about = cmd::migrate::LONG_ABOUT, after_long_help = cmd::migrate::AFTER_HELP)]
    Migrate(cmd::migrate::Args),
    /// Replay past observations against a conf.d: how often each key would have fired.
    #[command(about = cmd::backtest::ABOUT, long_about = cmd::backtest::LONG_ABOUT, after_long_help = cmd::backtest::AFTER_HELP)]
    Backtest(cmd::backtest::Args),
}

/// Exit code for findings.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage or internal errors.
pub const EXIT_ERROR: u8 = 2;

/// The exit code of a command that ran: [`EXIT_FINDINGS`] when it found something, else 0.
pub fn exit_code(findings: bool) -> u8 {
    if findings {
        EXIT_FINDINGS
    } else {
        0
    }
}

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
        Command::Init(a) => cmd::init::run(a),
        Command::Tenant(c) => cmd::tenant::run(c),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Effective(a) => cmd::effective::run(a),
        Command::Schema(a) => cmd::schema::run(a),
        Command::Completions(a) => cmd::shell_completions::run(a),
        Command::Man(a) => cmd::man::run(a),
        Command::Alertmanager(a) => cmd::alertmanager::run(a),
        Command::ExplainRoute(a) => cmd::explain_route::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Lab(a) => cmd::lab::run(a),
        Command::Scenario(a) => cmd::scenario::run(a),
        Command::InspectTenant(a) => cmd::inspect_tenant::run(a),
        Command::VerifyThreshold(a) => cmd::verify_threshold::run(a),
        Command::Bench(c) => cmd::bench::run(c),
        Command::Deploy(c) => cmd::deploy::run(c),
        Command::Migrate(a) => cmd::migrate::run(a),
        Command::Backtest(a) => cmd::backtest::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", errors::chain(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
