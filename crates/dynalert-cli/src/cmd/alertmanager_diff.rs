//! `dynalert alertmanager diff OLD NEW`: what a conf.d change does to the generated
//! Alertmanager configuration, route by route and receiver by receiver, secrets masked.
//!
//! Exit codes: 0 no change, 1 changes (or a directory with errors), 2 internal error.

use std::path::{Path, PathBuf};

use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert alertmanager --help`.
pub const ABOUT: &str = r#"Show what a conf.d change does to the Alertmanager routing"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Show what a conf.d change does to the Alertmanager routing.

Generates the Alertmanager configuration of both directories and prints the difference route
by route and receiver by receiver. Secrets (passwords, tokens, keys, URL credentials) are never
printed: a change of a secret shows as "a secret changed"."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Review a change before merging it:
    dynalert alertmanager diff conf.d.main conf.d

  Compare the shipped examples with a working copy:
    dynalert alertmanager diff examples/conf.d my-conf.d

Exit codes:
  0  no change
  1  changes found, or a directory has errors
  2  usage or internal error

See also:
  dynalert alertmanager    generate the configuration
  dynalert explain-route   which receivers one alert reaches, and why"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory before the change.
    pub old: PathBuf,
    /// The conf.d directory after the change.
    pub new: PathBuf,
}

fn generate(dir: &Path) -> anyhow::Result<Option<dynalert_alertmanager::Generated>> {
    let report = dynalert_config::load_dir(dir, chrono::Utc::now())?;
    crate::output::print_diagnostics(&report.diagnostics);
    if !report.platform_valid {
        eprintln!(
            "error: the platform files of `{}` have errors",
            dir.display()
        );
        return Ok(None);
    }
    let mut rejected = Vec::new();
    for (id, ok) in &report.tenant_valid {
        if !ok {
            eprintln!(
                "warning: tenant `{id}` of `{}` is rejected; compared as `dynalert alertmanager` generates it (last good routing, else the platform default receiver)",
                dir.display()
            );
            rejected.push(id.as_str());
        }
    }
    let config = dynalert_alertmanager::with_rejected(&report.config, &rejected);
    match dynalert_alertmanager::generate(&config) {
        Ok(g) => Ok(Some(g)),
        Err(e) => {
            eprintln!("error: `{}`: {e}", dir.display());
            Ok(None)
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let (Some(old), Some(new)) = (generate(&args.old)?, generate(&args.new)?) else {
        return Ok(EXIT_FINDINGS);
    };
    let mut secrets = old.secrets();
    secrets.extend(new.secrets());
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let lines = dynalert_alertmanager::diff(&old, &new);
    for l in &lines {
        println!("{}", dynalert_alertmanager::redact(l, &secrets));
    }
    if lines.is_empty() {
        eprintln!("no change to the generated Alertmanager configuration");
        Ok(0)
    } else {
        eprintln!("{} changes", lines.len());
        Ok(EXIT_FINDINGS)
    }
}
