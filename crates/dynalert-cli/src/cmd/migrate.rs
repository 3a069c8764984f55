//! `dynalert migrate RULES... --out DIR`: static per-tenant rules -> a conf.d.

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use dynalert_rules::migrate;

use crate::output::print_diagnostics;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Turn static per-tenant alert rules into a conf.d, and report what was left alone"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Turn static per-tenant alert rules into a conf.d, and report what was left alone.

Reads Prometheus rule files and PrometheusRule objects. An alerting rule is a per-tenant copy when
it compares an expression with a constant and every selector of the expression has the same
`tenant="<id>"` matcher; copies with the same alert name, expression (without that matcher),
operator and `for` are one alert with a threshold per tenant and tier (the `severity` label).

Each alert becomes a catalogue key when a rule pack records the same observation and compares it
with `>` against `tenant:alert_threshold:<key>` (read from `--packs`), else a `_custom_alerts:`
recipe when a recipe generates that observation (a gauge's latest value, a counter's rate, a
histogram quantile), else it is left alone. The report lists every rule left alone and why, and
what changed for converted alerts (new alert names, `for:` differences, dropped static labels).

The written conf.d is loaded with the exporter's loader before the command returns; every key is
optional, so a tenant without an old rule for a key gets no threshold, as before."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Convert the rule files of a directory:
    dynalert migrate old-rules/*.yaml --out conf.d

  Also write the report to a file:
    dynalert migrate old-rules/*.yaml --out conf.d --report migrate-report.md

Exit codes:
  0  every alerting rule was converted
  1  some rules were left alone (see the report)
  2  usage error, a file cannot be read, or the output directory is not empty

See also:
  dynalert rules recipes   generate the rules of the recipes the migration wrote
  dynalert validate        check the written conf.d"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Prometheus rule files or PrometheusRule objects to read.
    #[arg(required = true)]
    pub rules: Vec<PathBuf>,
    /// The conf.d directory to write (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// The rule packs directory (which observations are catalogue keys).
    #[arg(long, default_value = "rules/packs")]
    pub packs: PathBuf,
    /// The label that holds the tenant id in the old rules' selectors.
    #[arg(long, default_value = "tenant")]
    pub tenant_label: String,
    /// Also write the report to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Prove the conversion: evaluate the old copies and the new rules (packs, recipes,
    /// exporter series of the written conf.d) on the same generated series with
    /// `promtool test rules`; fail unless both fire the same alerts at every step.
    #[arg(long)]
    pub prove: bool,
    /// The promtool binary `--prove` runs.
    #[arg(long, default_value = "promtool")]
    pub promtool: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .with_context(|| format!("cannot read `{}`", args.out.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "`{}` is not empty: migrate writes a new conf.d and never overwrites one",
            args.out.display()
        );
    }
    let (rules, recording) = migrate::read_rule_files(&args.rules).map_err(anyhow::Error::msg)?;
    let pack_files = migrate::rule_files_under(&args.packs);
    let packs = migrate::pack_keys(&pack_files).map_err(anyhow::Error::msg)?;
    let mut m = migrate::migrate(&rules, &packs, &args.tenant_label);
    m.recording_rules = recording;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))?;
    for (name, text) in migrate::render_conf_d(&m) {
        let path = args.out.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    let report = migrate::render_report(&m, rules.len());
    print!("{report}");
    if let Some(path) = &args.report {
        std::fs::write(path, &report)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    // The written conf.d must load: a migration that writes an invalid file is a bug.
    let loaded = dynalert_config::load_dir(&args.out, Utc::now())
        .with_context(|| format!("cannot read `{}`", args.out.display()))?;
    if loaded.errors() > 0 {
        print_diagnostics(&loaded.diagnostics);
        anyhow::bail!("the written conf.d `{}` does not load", args.out.display());
    }
    eprintln!(
        "wrote {} ({} tenants); run `dynalert rules recipes {} --out FILE` for its custom alerts",
        args.out.display(),
        loaded.config.tenants.len(),
        args.out.display()
    );
    let proved = !args.prove || prove(&args, &m, &rules, &loaded.config)?;
    Ok(crate::exit_code(!m.left_alone.is_empty() || !proved))
}

/// Runs the `--prove` comparison of a migration; true when the old copies and the new rules
/// fire the same alerts at every step and every converted alert could be compared.
pub fn prove(
    args: &Args,
    m: &migrate::Migration,
    rules: &[migrate::SourceRule],
    config: &dynalert_model::Config,
) -> anyhow::Result<bool> {
    let work = std::env::temp_dir().join(format!("dynalert-migrate-prove-{}", std::process::id()));
    std::fs::create_dir_all(&work)
        .with_context(|| format!("cannot create `{}`", work.display()))?;
    let result = prove_in(args, m, rules, config, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn prove_in(
    args: &Args,
    m: &migrate::Migration,
    rules: &[migrate::SourceRule],
    config: &dynalert_model::Config,
    work: &std::path::Path,
) -> anyhow::Result<bool> {
    let mut new_rules: Vec<PathBuf> = migrate::rule_files_under(&args.packs)
        .into_iter()
        .filter(|p| migrate::is_rule_file(p))
        .collect();
    let shapes = dynalert_rules::shapes_of(config);
    if !shapes.is_empty() {
        let path = work.join("custom-alerts.yaml");
        let limits = config.platform.recipe_limits();
        let text = dynalert_rules::render_custom_rules(&shapes, limits, "the migrated conf.d");
        std::fs::write(&path, text)?;
        new_rules.push(path);
    }
    let snapshot = dynalert_model::resolve(config, Utc::now());
    let exposition = dynalert_exposition::render(&snapshot, dynalert_exposition::Format::Text);
    let old_path = work.join("old-copies.yaml");
    let label = &args.tenant_label;
    let proof = migrate::proof(m, rules, &exposition, &new_rules, &old_path, label);
    std::fs::write(&old_path, &proof.old_rules)?;
    let test_path = work.join("prove.test.yaml");
    std::fs::write(&test_path, &proof.test)?;
    if let Ok(keep) = std::env::var("DYNALERT_MIGRATE_PROVE_KEEP") {
        let _ = std::fs::copy(&test_path, PathBuf::from(&keep).join("prove.test.yaml"));
        let _ = std::fs::copy(&old_path, PathBuf::from(&keep).join("old-copies.yaml"));
    }
    for (alert, why) in &proof.unproven {
        println!("prove: `{alert}` not proven: {why}");
    }
    if proof.proven.is_empty() {
        println!("prove: nothing to compare");
        return Ok(proof.unproven.is_empty());
    }
    let out = std::process::Command::new(&args.promtool)
        .args(["test", "rules"])
        .arg(&test_path)
        .output()
        .with_context(|| format!("cannot run `{}`", args.promtool.display()))?;
    if out.status.success() {
        println!(
            "prove: {} alerts fire the same (tenant, severity) alerts as their old copies at each of {} evaluation steps",
            proof.proven.len(),
            proof.steps
        );
        return Ok(proof.unproven.is_empty());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    println!("prove: the old and the new rules fire differently:");
    let said = text.lines().chain(err.lines());
    for line in said.filter(|l| !l.trim().is_empty()).take(60) {
        println!("  {line}");
    }
    Ok(false)
}
