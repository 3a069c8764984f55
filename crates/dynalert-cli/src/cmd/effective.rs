//! `dynalert effective DIR`: what the exporter serves, at an instant.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use dynalert_exposition::render_families;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Print what threshold-exporter would serve from a conf.d, at any instant"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Print what threshold-exporter would serve from a conf.d, at any instant.

`--format prom` (the default) prints the Prometheus exposition text the exporter serves: every
`user_threshold`, state filter, silent mode, maintenance and metadata series. `--format json`
prints, per tenant, key and tier, the value, its state (custom, default, scheduled, disabled, …)
and the `file:line` it came from. `--at` resolves schedules, expiries and maintenance windows at
another instant than now. Problems of the directory are printed on stderr as by `validate`;
valid tenants are still printed."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Every series for every tenant, now:
    dynalert effective conf.d

  One tenant on a Monday night in Taipei (inside a 22:00-06:00 window):
    dynalert effective conf.d --tenant db-a --at 2026-06-01T23:30:00+08:00

  Where each of a tenant's values comes from:
    dynalert effective conf.d --tenant db-a --format json

Exit codes:
  0  printed, the directory has no errors
  1  printed, but the directory has errors (rejected tenants are left out), or the
     `--tenant` is not a valid tenant of the directory (nothing printed)
  2  usage error, a bad `--at`, or the directory cannot be read

See also:
  dynalert validate         the problems only
  dynalert inspect-tenant   the same tenant as the running Prometheus sees it"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Prometheus exposition text, exactly as the exporter serves it.
    Prom,
    /// Per tenant, key and tier: value, state and the file:line it came from.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Resolve at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// What to print.
    #[arg(long, value_enum, default_value = "prom")]
    pub format: OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let at = match &args.at {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .with_context(|| {
                format!("bad `--at` value `{s}`: expected RFC 3339, e.g. 2026-06-01T23:30:00+08:00")
            })?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let report = dynalert_config::load_dir(&args.dir, at)?;
    print_diagnostics(&report.diagnostics);
    let config = &report.config;
    if let Some(id) = &args.tenant {
        if !config.tenants.contains_key(id) {
            // A finding about the directory (the tenant is absent or rejected), not a
            // usage error.
            let why = match report.tenant_valid.get(id) {
                Some(false) => "its file is rejected and it has no last good configuration",
                _ => "no file declares it",
            };
            eprintln!(
                "error: no valid tenant `{id}` in `{}`: {why}",
                args.dir.display()
            );
            return Ok(EXIT_FINDINGS);
        }
    }
    match args.format {
        OutputFormat::Prom => {
            let snapshot = dynalert_model::resolve(config, at);
            let mut out = String::new();
            render_families(&mut out, &snapshot, args.tenant.as_deref());
            print!("{out}");
        }
        OutputFormat::Json => {
            // Streamed tenant by tenant: the effective view of 10,000 tenants is never
            // held in memory at once.
            use std::io::Write;
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write!(
                w,
                "{{\n\"at\": {},\n\"tenants\": [",
                serde_json::to_string(&at.to_rfc3339())?
            )?;
            let tenants = config
                .tenants
                .values()
                .filter(|t| args.tenant.as_ref().is_none_or(|id| &t.id == id));
            for (i, tenant) in tenants.enumerate() {
                let e = dynalert_model::effective_tenant(&config.platform, tenant, at);
                w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer_pretty(&mut w, &e)?;
            }
            w.write_all(b"\n]\n}\n")?;
            w.flush()?;
        }
    }
    Ok(crate::exit_code(report.errors() > 0))
}
