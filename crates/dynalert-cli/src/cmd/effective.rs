//! `dynalert effective DIR`: what the exporter serves, at an instant.

use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use dynalert_exposition::render_families;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

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
    #[arg(long)]
    pub at: Option<String>,
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
            bail!("no valid tenant `{id}` in `{}`", args.dir.display());
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
            let tenants: Vec<_> = dynalert_model::effective(config, at)
                .into_iter()
                .filter(|t| args.tenant.as_ref().is_none_or(|id| &t.tenant == id))
                .collect();
            let doc = serde_json::json!({ "at": at.to_rfc3339(), "tenants": tenants });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    Ok(if report.errors() > 0 {
        EXIT_FINDINGS
    } else {
        0
    })
}
