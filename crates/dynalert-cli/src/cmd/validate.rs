//! `dynalert validate DIR`: every problem of a conf.d directory, located.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use dynalert_config::yaml::Pos;
use dynalert_config::{Diagnostic, Level};

use crate::output::print_diagnostics;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Check a conf.d directory and report every problem at once"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Check a conf.d directory and report every problem at once.

Loads the platform files (`_*.yaml`) and every tenant file exactly as threshold-exporter does and
prints each problem as `path:line:col: error: message`, with a `hint:` where a fix is known
(did-you-mean for misspelt keys). All problems of a run are reported, not just the first,
platform and tenant files alike. A directory that declares no tenant is an error. Upstream
settings dynalert does not serve are warnings that name the setting. A summary (tenants,
thresholds, errors, warnings) goes to stderr; nothing is printed on stdout.

With `--rules DIR`, also checks that the rule files in DIR (Prometheus rule files or
PrometheusRule objects, read recursively) arm every regex row (`key{label=~"…"}`) of the
accepted tenants: PromQL cannot apply a label value as a regex, so each row needs the rules
`dynalert rules regex` generates. A row they do not cover is an error at the row's location;
deployed as is, it would use the tenant-wide threshold and raise ThresholdRegexRowUnarmed."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Check a directory before committing it:
    dynalert validate conf.d

  Check the shipped examples:
    dynalert validate examples/conf.d

  Use it as a CI gate (exit 1 fails the job):
    dynalert validate deploy/conf.d && echo ok

  Before deploying, check that the rules to be deployed arm every regex row:
    dynalert validate conf.d --rules rules/packs

Exit codes:
  0  no errors (warnings may be printed)
  1  at least one error was found (with `--rules`: or a regex row no rule covers)
  2  usage error, or a directory cannot be read (with `--rules`: or holds no rule file)

See also:
  dynalert effective   what the exporter would serve from the directory
  dynalert init        start a new conf.d that validates
  dynalert schema      JSON Schema for editor completion of the same files"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// Rule files to be deployed (read recursively): every regex row must be armed by them.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
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
    let mut unarmed = 0;
    if let Some(rules) = &args.rules {
        let texts = rule_texts(rules)?;
        let armed = dynalert_rules::armed_rows(texts.iter().map(String::as_str));
        let rows = dynalert_rules::unarmed_rows(&report.config, &armed);
        unarmed = rows.len();
        let diags: Vec<Diagnostic> = rows
            .iter()
            .map(|u| Diagnostic {
                level: Level::Error,
                file: u.file.as_str().into(),
                pos: Pos {
                    line: u.line,
                    col: column_of(&u.file, u.line),
                },
                message: format!(
                    "regex row `{}` of tenant `{}` is covered by no rule in `{}`: its series would use the tenant-wide threshold",
                    u.key,
                    u.tenant,
                    rules.display()
                ),
                hint: Some(format!(
                    "regenerate the regex rules with `dynalert rules regex {}` and deploy them with this conf.d",
                    args.dir.display()
                )),
            })
            .collect();
        print_diagnostics(&diags);
        eprintln!(
            "{} rule files in `{}`, {} regex rows armed, {} not armed",
            texts.len(),
            rules.display(),
            armed.len(),
            unarmed
        );
    }
    Ok(crate::exit_code(report.errors() > 0 || unarmed > 0))
}

/// Every `.yaml`/`.yml` file under `dir`, recursively (dot-names skipped).
fn rule_texts(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let rd = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the rules directory `{}`", dir.display()))?;
        for e in rd {
            let p = e?.path();
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            if name.as_deref().is_some_and(|n| n.starts_with('.')) {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else if p
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .map(|p| {
            std::fs::read_to_string(p).with_context(|| format!("cannot read `{}`", p.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    if !texts.iter().any(|t| t.contains("groups:")) {
        anyhow::bail!(
            "no rule file in `{}`\nhint: pass the directory of the rule files to be deployed, e.g. `rules/packs`",
            dir.display()
        );
    }
    Ok(texts)
}

/// Column of the first non-blank character of `line` in `file` (1 when unreadable).
fn column_of(file: &str, line: u32) -> u32 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(line.saturating_sub(1) as usize)
                .map(|l| (l.len() - l.trim_start().len()) as u32 + 1)
        })
        .unwrap_or(1)
}
