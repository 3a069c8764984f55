//! `dynalert rules …`: which alerts read each catalogue key, and the generated
//! regex-threshold rule files of a conf.d.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the key -> alerts matrix; exit 1 when a key is unarmed or an alert reads an unknown key.
    Coverage(CoverageArgs),
    /// Write each pack's `regex-thresholds.yaml` for the regex rows (`key{label=~"…"}`) of a conf.d.
    Regex(RegexArgs),
}

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    /// The conf.d directory whose platform files define the catalogue.
    pub dir: PathBuf,
    /// The rule packs directory.
    #[arg(long, default_value = "rules/packs")]
    pub packs: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RegexArgs {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// The rule packs directory.
    #[arg(long, default_value = "rules/packs")]
    pub packs: PathBuf,
    /// Do not write; exit 1 when a committed file differs.
    #[arg(long)]
    pub check: bool,
}

pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Coverage(a) => coverage(a),
        Command::Regex(a) => regex(a),
    }
}

fn coverage(args: CoverageArgs) -> anyhow::Result<u8> {
    let report = dynalert_config::load_dir(&args.dir, Utc::now())?;
    if !report.platform_valid {
        print_diagnostics(&report.diagnostics);
        anyhow::bail!("the platform files of `{}` are invalid", args.dir.display());
    }
    let keys: BTreeSet<String> = report
        .config
        .platform
        .catalogue()
        .into_iter()
        .map(str::to_string)
        .collect();
    let cov = dynalert_rules::coverage(&args.packs, &keys)
        .with_context(|| format!("cannot read rule packs in `{}`", args.packs.display()))?;
    print!("{}", dynalert_rules::render_coverage(&cov));
    Ok(if cov.unarmed().is_empty() && cov.unknown.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}

fn regex(args: RegexArgs) -> anyhow::Result<u8> {
    // The validated model, read by the one conf.d loader of the workspace: a row (or a whole
    // tenant file) the exporter rejects is not in it, so it generates no rule.
    let report = dynalert_config::load_dir(&args.dir, Utc::now())
        .with_context(|| format!("cannot read `{}`", args.dir.display()))?;
    if !report.platform_valid {
        print_diagnostics(&report.diagnostics);
        anyhow::bail!("the platform files of `{}` are invalid", args.dir.display());
    }
    let rejected: Vec<&String> = report
        .tenant_valid
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(t, _)| t)
        .collect();
    if !rejected.is_empty() {
        print_diagnostics(&report.diagnostics);
        for t in &rejected {
            eprintln!("warning: tenant file of `{t}` is rejected: its regex rows generate no rule (a running exporter keeps serving its last good rows; fix the file and regenerate)");
        }
    }
    let rows = dynalert_rules::regex_rows_of(&report.config);
    let packs: BTreeSet<&str> = dynalert_rules::DIMENSIONS.iter().map(|d| d.1).collect();
    let mut drift = false;
    for pack in packs {
        let path = args.packs.join(pack).join("regex-thresholds.yaml");
        let text = dynalert_rules::render_regex_rules(pack, &rows, &args.dir.display().to_string());
        if args.check {
            if std::fs::read_to_string(&path).unwrap_or_default() != text {
                eprintln!("error: `{}` is out of date", path.display());
                drift = true;
            }
        } else {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    if drift {
        eprintln!(
            "  hint: run `dynalert rules regex {}` and reload Prometheus",
            args.dir.display()
        );
        return Ok(EXIT_FINDINGS);
    }
    Ok(0)
}
