//! `dynalert bench …`: reproducible scale measurements with a real Prometheus.
//!
//! `rules` proves (or disproves) the scaling claim: per-tenant rules against the dynamic rule
//! set, same data, same Prometheus, identical firing alerts required. `exporter` measures the
//! threshold exporter's own costs. Both write a text table, JSON and (rules) an SVG plot to
//! `--out`; the table also goes to stdout.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use dynalert_bench::fixture::Variant;

use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Measure per-tenant against dynamic rules, and the exporter's costs, on a real Prometheus"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Measure per-tenant against dynamic rules, and the exporter's costs, on a real Prometheus.

`rules` loads the same generated tenants once as one rule copy per tenant and once as the
dynamic rule packs, into a real Prometheus, and compares evaluation time, load time and memory;
the two sets must fire identical alerts. `exporter` measures threshold-exporter's cold load,
one-file reload, scrape latency and memory. Both write a text table and JSON (and for `rules`
an SVG plot) to `--out`; the table also goes to stdout."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  A quick check of the harness:
    dynalert bench rules --tenants 100,1000 --quick

  The full scaling run (takes long):
    dynalert bench rules --tenants 100,1000,5000,20000 --out target/bench-scale

  The exporter's costs:
    dynalert bench exporter --tenants 1000,10000

Exit codes:
  0  measured (`rules`: both rule sets fired the same alerts)
  1  `rules`: the rule sets fired different alerts
  2  usage error, or Prometheus or the exporter could not be started

See also:
  dynalert lab up   the same servers, kept running"#;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Per-tenant rules vs the dynamic rule set on a real Prometheus; exit 1 when the firing alerts differ.
    #[command(about = r#"Per-tenant rules against the dynamic rule packs on a real Prometheus"#, long_about = None, after_long_help = AFTER_HELP)]
    Rules(RulesArgs),
    /// The threshold exporter's costs: cold load, one-file reload, scrape latency, RSS.
    #[command(about = r#"The exporter's costs: cold load, one-file reload, scrape latency, memory"#, long_about = None, after_long_help = AFTER_HELP)]
    Exporter(ExporterArgs),
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Tenant counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000,20000")]
    pub tenants: Vec<usize>,
    /// Threshold keys per tenant.
    #[arg(long, default_value_t = 20)]
    pub keys: usize,
    /// Scrape and evaluation interval (default 15s, 3s with `--quick`).
    #[arg(long, value_parser = dynalert_bench::parse_duration)]
    pub interval: Option<Duration>,
    /// Output directory for rules.txt, rules.json, rules.svg and the generated inputs.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// Fewer and shorter cycles (harness check, not a measurement).
    #[arg(long)]
    pub quick: bool,
    /// Variants of the dynamic set: `lean` (the rule packs), `joined-runbook` (the packs before
    /// `tenant:runbook:info`), `pre-joined` (before the metadata was read once per pack),
    /// `per-key` (before the comparison was recorded once per key), `single`, `inline`,
    /// `meta-once`, `recorded-labels` (the packs with the alerts' labels set by the recording
    /// rules).
    #[arg(long, value_delimiter = ',', default_value = "lean", value_parser = parse_variant)]
    pub variants: Vec<Variant>,
    /// Measure only the dynamic variants (to compare them faster; no scaling comparison).
    #[arg(long)]
    pub skip_per_tenant: bool,
    /// Save Prometheus' CPU profile over the measured cycles of every set evaluated by
    /// Prometheus: `prometheus-cpu.pprof` in the set's directory under `--out` (read it with
    /// `go tool pprof -top FILE`).
    #[arg(long)]
    pub profile: bool,
    /// Measured evaluation cycles (default 4, 2 with `--quick`).
    #[arg(long)]
    pub cycles: Option<u32>,
    /// The Prometheus binary.
    #[arg(long, default_value = "prometheus")]
    pub prometheus: PathBuf,
    /// The promtool binary.
    #[arg(long, default_value = "promtool")]
    pub promtool: PathBuf,
    /// Engines that evaluate every set on the same fixture, in turn: `prometheus` (scrapes and
    /// evaluates), `vmalert` (single-node VictoriaMetrics scrapes, vmalert evaluates).
    #[arg(long, value_delimiter = ',', default_value = "prometheus", value_parser = parse_engine)]
    pub engine: Vec<dynalert_bench::rules::Engine>,
    /// The victoria-metrics binary (`--engine vmalert`).
    #[arg(long, default_value = "victoria-metrics")]
    pub victoria_metrics: PathBuf,
    /// The vmalert binary (`--engine vmalert`).
    #[arg(long, default_value = "vmalert")]
    pub vmalert: PathBuf,
    /// Longest wait for a saturated Prometheus before measuring it over the time it had.
    #[arg(long, default_value = "4m", value_parser = dynalert_bench::parse_duration)]
    pub saturation_limit: Duration,
    /// Do not measure: re-render rules.txt and rules.svg in `--out` from this rules.json.
    #[arg(long, value_name = "FILE")]
    pub from_json: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExporterArgs {
    /// Tenant counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub tenants: Vec<usize>,
    /// Threshold keys per tenant.
    #[arg(long, default_value_t = 20)]
    pub keys: usize,
    /// Sequential `/metrics` requests to time.
    #[arg(long, default_value_t = 20)]
    pub scrapes: usize,
    /// Output directory for exporter.txt and exporter.json.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// The threshold-exporter binary (default: next to this binary, then PATH).
    #[arg(long)]
    pub exporter: Option<PathBuf>,
}

fn parse_variant(s: &str) -> Result<Variant, String> {
    Variant::parse(s).ok_or_else(|| {
        format!("unknown variant `{s}` (lean, joined-runbook, pre-joined, per-key, single, inline, meta-once, recorded-labels)")
    })
}

fn parse_engine(s: &str) -> Result<dynalert_bench::rules::Engine, String> {
    dynalert_bench::rules::Engine::parse(s)
        .ok_or_else(|| format!("unknown engine `{s}` (prometheus, vmalert)"))
}

fn command_line() -> String {
    std::iter::once("dynalert".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

fn binary(path: &std::path::Path, package: &str, flag: &str) -> anyhow::Result<PathBuf> {
    if path.components().count() > 1 {
        return Ok(path.to_path_buf());
    }
    let name = path.to_string_lossy();
    dynalert_bench::process::which(&name).ok_or_else(|| {
        dynalert_bench::BenchError::MissingBinary {
            binary: name.to_string(),
            package: package.to_string(),
            flag: flag.to_string(),
        }
        .into()
    })
}

pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Rules(a) => rules(a),
        Command::Exporter(a) => exporter(a),
    }
}

fn rules(a: RulesArgs) -> anyhow::Result<u8> {
    if let Some(path) = &a.from_json {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let report: dynalert_bench::rules::RulesReport = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a bench rules report", path.display()))?;
        dynalert_bench::report::write_rules(&report, &a.out)?;
        print!("{}", dynalert_bench::report::rules_table(&report));
        return Ok(crate::exit_code(!report.all_answers_match()));
    }
    // Prometheus reads `rule_files` relative to its configuration file: pass absolute paths.
    let a = RulesArgs {
        out: std::path::absolute(&a.out)
            .with_context(|| format!("bad `--out` `{}`", a.out.display()))?,
        ..a
    };
    // The VictoriaMetrics binaries are looked up only when an engine needs them.
    let vm = a.engine.contains(&dynalert_bench::rules::Engine::Vmalert);
    let vm_binary = |p: &PathBuf, flag| match vm {
        true => binary(p, "victoria-metrics", flag),
        false => Ok(p.clone()),
    };
    let opts = dynalert_bench::rules::Options {
        tenants: a.tenants,
        keys: a.keys,
        interval: a
            .interval
            .unwrap_or(Duration::from_secs(if a.quick { 3 } else { 15 })),
        warm_cycles: 2,
        measure_cycles: a.cycles.unwrap_or(if a.quick { 2 } else { 4 }),
        out: a.out.clone(),
        variants: a.variants,
        per_tenant: !a.skip_per_tenant,
        saturation_limit: a.saturation_limit,
        prometheus: binary(&a.prometheus, "prometheus", "--prometheus")?,
        promtool: binary(&a.promtool, "prometheus", "--promtool")?,
        victoria_metrics: vm_binary(&a.victoria_metrics, "--victoria-metrics")?,
        vmalert: vm_binary(&a.vmalert, "--vmalert")?,
        engines: a.engine,
        progress: true,
        memory_floor: dynalert_bench::process::MEMORY_FLOOR,
        profile: a.profile,
    };
    let report = dynalert_bench::rules::run(&opts, command_line()).context("bench rules")?;
    dynalert_bench::report::write_rules(&report, &a.out)?;
    print!("{}", dynalert_bench::report::rules_table(&report));
    eprintln!("bench: wrote {}/rules.{{txt,json,svg}}", a.out.display());
    if !report.all_answers_match() {
        eprintln!("error: the rule sets do not fire the same alerts (see DIFFERENCE above)");
        return Ok(EXIT_FINDINGS);
    }
    Ok(0)
}

fn exporter(a: ExporterArgs) -> anyhow::Result<u8> {
    let exporter = match a.exporter {
        Some(p) => p,
        None => std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("threshold-exporter")))
            .filter(|p| p.is_file())
            .or_else(|| dynalert_bench::process::which("threshold-exporter"))
            .context("`threshold-exporter` not found next to `dynalert` nor on PATH; build it with `cargo build --release --bin threshold-exporter` or pass `--exporter`")?,
    };
    let opts = dynalert_bench::exporter::Options {
        tenants: a.tenants,
        keys: a.keys,
        scrapes: a.scrapes,
        out: a.out.clone(),
        exporter,
        progress: true,
    };
    let report = dynalert_bench::exporter::run(&opts, command_line()).context("bench exporter")?;
    dynalert_bench::report::write_exporter(&report, &a.out)?;
    print!("{}", dynalert_bench::report::exporter_table(&report));
    Ok(0)
}
