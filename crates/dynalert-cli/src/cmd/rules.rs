//! `dynalert rules …`: which alerts read each catalogue key, and the generated
//! regex-threshold rule files of a conf.d.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Check the rule packs against the catalogue, and generate regex-threshold rules"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Check the rule packs against the catalogue, and generate regex-threshold rules.

`coverage` prints which alerts read each key of a conf.d's catalogue, and fails when a key is
read by no alert or an alert reads a key the catalogue lacks. `regex` writes the recording
rules for the regex rows (`key{label=~"…"}`) of a conf.d into each pack's
`regex-thresholds.yaml`; PromQL cannot use a label value as a regex, so these rows need
generated rules (and a Prometheus reload when a new distinct regex appears)."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Which alerts read each key:
    dynalert rules coverage conf.d

  Regenerate the regex-threshold rules after a tenant added a regex row:
    dynalert rules regex conf.d

  Write the rules of the tenants' custom alert recipes:
    dynalert rules recipes conf.d --out rules/custom-alerts.yaml

  Fail when the committed rules are stale:
    dynalert rules regex examples/conf.d --check

Exit codes:
  0  no findings
  1  `coverage`: an unarmed or unknown key; `regex --check`: a stale file
  2  usage error, or a file cannot be read or written

See also:
  dynalert init   a conf.d whose catalogue is exactly the keys the packs read"#;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the key -> alerts matrix; exit 1 when a key is unarmed or an alert reads an unknown key.
    #[command(about = r#"Print which alerts read each catalogue key; fail on unarmed or unknown keys"#, long_about = None, after_long_help = AFTER_HELP)]
    Coverage(CoverageArgs),
    /// Write each pack's `regex-thresholds.yaml` for the regex rows (`key{label=~"…"}`) of a conf.d.
    #[command(about = r#"Write each pack's regex-thresholds.yaml for the regex rows of a conf.d"#, long_about = None, after_long_help = AFTER_HELP)]
    Regex(RegexArgs),
    /// Write the rules of the `_custom_alerts:` recipes of a conf.d: one rule per recipe shape.
    #[command(about = r#"Write the rules of the _custom_alerts recipes of a conf.d, one per recipe shape"#, long_about = None, after_long_help = AFTER_HELP)]
    Recipes(RecipesArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecipesArgs {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// The rule file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Do not write; exit 1 when the file differs.
    #[arg(long)]
    pub check: bool,
    /// Write a Prometheus Operator `PrometheusRule` object instead of a rule file.
    #[arg(long)]
    pub prometheus_rule: bool,
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
        Command::Recipes(a) => recipes(a),
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
    Ok(crate::exit_code(
        !cov.unarmed().is_empty() || !cov.unknown.is_empty(),
    ))
}

/// Loads conf.d for rule generation. The validated model is read by the one conf.d loader of
/// the workspace: a row (or a whole tenant file) the exporter rejects is not in it, so it
/// generates no rule; each rejected tenant is named with what it loses (`what`).
fn load_for_rules(
    dir: &std::path::Path,
    what: &str,
    served: &str,
) -> anyhow::Result<dynalert_config::LoadReport> {
    let report = dynalert_config::load_dir(dir, Utc::now())
        .with_context(|| format!("cannot read `{}`", dir.display()))?;
    if !report.platform_valid {
        print_diagnostics(&report.diagnostics);
        anyhow::bail!("the platform files of `{}` are invalid", dir.display());
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
            eprintln!("warning: tenant file of `{t}` is rejected: its {what} generate no rule (a running exporter keeps serving its last good {served}; fix the file and regenerate)");
        }
    }
    Ok(report)
}

fn regex(args: RegexArgs) -> anyhow::Result<u8> {
    let report = load_for_rules(&args.dir, "regex rows", "rows")?;
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

fn recipes(args: RecipesArgs) -> anyhow::Result<u8> {
    let report = load_for_rules(&args.dir, "custom alerts", "recipes")?;
    let shapes = dynalert_rules::shapes_of(&report.config);
    let mut text = dynalert_rules::render_custom_rules(
        &shapes,
        report.config.platform.recipe_limits(),
        &args.dir.display().to_string(),
    );
    if args.prometheus_rule {
        text = dynalert_rules::custom::as_prometheus_rule(&text, "dynalert-custom-alerts");
    }
    if args.check {
        if std::fs::read_to_string(&args.out).unwrap_or_default() != text {
            eprintln!("error: `{}` is out of date", args.out.display());
            eprintln!(
                "  hint: run `dynalert rules recipes {} --out {}` and reload Prometheus",
                args.dir.display(),
                args.out.display()
            );
            return Ok(EXIT_FINDINGS);
        }
        return Ok(0);
    }
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    eprintln!(
        "wrote {} ({} rule shapes from {} tenants)",
        args.out.display(),
        shapes.len(),
        report.config.tenants.len()
    );
    Ok(crate::exit_code(
        report.tenant_valid.values().any(|ok| !*ok),
    ))
}
