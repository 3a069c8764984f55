//! `dynalert scenario run a|b|c|d|ha|bad-config|recipes|vmagent-failover|all`: run scenarios against a running lab and
//! report stage timings and a verdict for each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dynalert_lab::scenario::{self, Outcome, ALL};
use dynalert_lab::LabState;
use serde::Serialize;

pub use crate::output::Format;

/// The `--format json` document.
#[derive(Serialize)]
struct Report<'a> {
    passed: usize,
    failed: usize,
    /// Threshold change → notification (`fire`, `resolve`) over the runs that measured it.
    latency_seconds: BTreeMap<&'static str, Latency>,
    scenarios: &'a [Outcome],
}

#[derive(Serialize)]
struct Latency {
    runs: usize,
    min: f64,
    median: f64,
    max: f64,
}

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Run the acceptance scenarios against the running lab"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Run the acceptance scenarios against the running lab.

Scenarios: `a` (a dynamic threshold fires and resolves, the other tenant untouched), `b` (one
container of a pod over its CPU threshold), `c` (CrashLoopBackOff / ImagePullBackOff state
alerts), `d` (VIP routing, severity dedup, silent mode, maintenance), `ha` (one of two exporter
replicas killed), `bad-config` (a broken tenant file keeps its last good thresholds), `recipes`
(each kind of custom alert recipe fires for one tenant only), or `all` (these seven, in order).
`vmagent-failover` (one of the two vmagents killed) runs by name on a lab started with
`--engine victoriametrics`. Each stage is timed and each scenario ends with a verdict. Start the lab first with
`dynalert lab up`."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Every scenario, in order:
    dynalert scenario run all

  Scenario A five times, for latency figures (min/median/max):
    dynalert scenario run a --repeat 5

  A machine-readable report:
    dynalert scenario run all --format json

Exit codes:
  0  every scenario passed
  1  at least one scenario failed
  2  usage error, or no running lab in `--dir`

See also:
  dynalert lab up           start the lab
  dynalert inspect-tenant   look at one tenant after a failure"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ScenarioCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScenarioCommand {
    /// Run one scenario, or `all` of them in order.
    #[command(about = r#"Run one scenario, or `all` of them in order"#, long_about = None, after_long_help = AFTER_HELP)]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// `a`, `b`, `c`, `d`, `ha`, `bad-config`, `recipes`, `vmagent-failover` or `all`.
    pub scenario: String,
    /// The lab directory.
    #[arg(long, default_value = super::lab::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// A table for people, or a JSON report for scripts (progress goes to stderr either way).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Run the scenario this many times (latency figures: min/median/max over the runs).
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let ScenarioCommand::Run(a) = args.command;
    let lab = LabState::load(&a.dir)?;
    let names: Vec<&str> = if a.scenario == "all" {
        ALL.to_vec()
    } else if ALL.contains(&a.scenario.as_str())
        || scenario::ENGINE_ONLY
            .iter()
            .any(|(n, _)| *n == a.scenario.as_str())
    {
        vec![a.scenario.as_str()]
    } else {
        anyhow::bail!(
            "unknown scenario `{}`; expected one of {}, all",
            a.scenario,
            ALL.join(", ")
        );
    };
    let mut outcomes: Vec<Outcome> = Vec::new();
    for _ in 0..a.repeat.max(1) {
        for n in &names {
            // Progress goes to stderr so that `--format json` keeps stdout clean.
            let o = scenario::run(&lab, n, &mut |m| eprintln!("{m}"))?;
            outcomes.push(o);
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let failed = outcomes.len() - passed;
    let mut latency = BTreeMap::new();
    for kind in ["fire", "resolve"] {
        let v: Vec<f64> = outcomes
            .iter()
            .filter_map(|o| o.latency_seconds.get(kind).copied())
            .collect();
        if let Some((min, median, max)) = scenario::summary(&v) {
            let runs = v.len();
            latency.insert(
                kind,
                Latency {
                    runs,
                    min,
                    median,
                    max,
                },
            );
        }
    }
    if a.format == Format::Text {
        println!();
        println!(
            "{:<12} {:<8} {:>8}  reason",
            "scenario", "verdict", "seconds"
        );
        for o in &outcomes {
            println!(
                "{:<12} {:<8} {:>8.1}  {}",
                o.scenario,
                if o.passed { "PASS" } else { "FAIL" },
                o.duration_seconds,
                o.reason
            );
        }
        for (k, v) in &latency {
            println!(
                "latency threshold change -> {k} notification: min {:.1}s, median {:.1}s, max {:.1}s over {} runs",
                v.min, v.median, v.max, v.runs
            );
        }
        println!("{passed} passed, {failed} failed");
    } else {
        let doc = Report {
            passed,
            failed,
            latency_seconds: latency,
            scenarios: &outcomes,
        };
        // Through a `Value`, so that every object's keys come out sorted.
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::to_value(doc)?)?
        );
    }
    Ok(crate::exit_code(failed > 0))
}
