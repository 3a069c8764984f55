//! `dynalert validate DIR`: every problem of a conf.d directory, located.

use std::path::PathBuf;

use chrono::Utc;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Check a conf.d directory and report every problem at once"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Check a conf.d directory and report every problem at once.

Loads the platform files (`_*.yaml`) and every tenant file exactly as threshold-exporter does and
prints each problem as `path:line:col: error: message`, with a `hint:` where a fix is known
(did-you-mean for misspelt keys). All problems of a run are reported, not just the first,
platform and tenant files alike. A directory that declares no tenant is an error. Upstream
settings dynalert does not serve are warnings that name the setting. A summary (tenants,
thresholds, errors, warnings) goes to stderr; nothing is printed on stdout."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Check a directory before committing it:
    dynalert validate conf.d

  Check the shipped examples:
    dynalert validate examples/conf.d

  Use it as a CI gate (exit 1 fails the job):
    dynalert validate deploy/conf.d && echo ok

Exit codes:
  0  no errors (warnings may be printed)
  1  at least one error was found
  2  usage error, or the directory cannot be read

See also:
  dynalert effective   what the exporter would serve from the directory
  dynalert init        start a new conf.d that validates
  dynalert schema      JSON Schema for editor completion of the same files"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut report = dynalert_config::load_dir(&args.dir, Utc::now())?;
    if report.platform_valid && report.tenant_valid.is_empty() {
        // A conf.d that serves no tenant is a broken mount or a wrong path, not a pass.
        report.diagnostics.push(dynalert_config::Diagnostic {
            level: dynalert_config::Level::Error,
            file: std::sync::Arc::from(args.dir.display().to_string()),
            pos: dynalert_config::yaml::Pos { line: 1, col: 1 },
            message: "the directory declares no tenant".into(),
            hint: Some(
                "add a tenant file such as `db-a.yaml` with `tenants: {db-a: {}}`, or check the path".into(),
            ),
        });
    }
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
