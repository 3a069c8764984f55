//! `dynalert scenario run a|b|c|d|ha|bad-config|all`: run scenarios against a running lab and
//! report stage timings and a verdict for each.

use std::path::PathBuf;

use dynalert_lab::scenario::{self, Outcome, ALL};
use dynalert_lab::LabState;

use crate::EXIT_FINDINGS;

pub use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ScenarioCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScenarioCommand {
    /// Run one scenario, or `all` of them in order.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// `a`, `b`, `c`, `d`, `ha`, `bad-config` or `all`.
    pub scenario: String,
    /// The lab directory.
    #[arg(long, default_value = super::lab::DEFAULT_DIR)]
    pub dir: PathBuf,
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
    let text = a.format == Format::Text;
    for _ in 0..a.repeat.max(1) {
        for n in &names {
            // Progress goes to stderr so that `--format json` keeps stdout clean.
            let o = scenario::run(&lab, n, &mut |m| eprintln!("{m}"))?;
            outcomes.push(o);
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let mut latency = serde_json::Map::new();
    for kind in ["fire", "resolve"] {
        let v: Vec<f64> = outcomes
            .iter()
            .filter_map(|o| o.latency_seconds.get(kind).copied())
            .collect();
        if let Some((min, med, max)) = scenario::summary(&v) {
            latency.insert(
                kind.into(),
                serde_json::json!({"runs": v.len(), "min": min, "median": med, "max": max}),
            );
        }
    }
    if text {
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
                v["min"].as_f64().unwrap_or_default(),
                v["median"].as_f64().unwrap_or_default(),
                v["max"].as_f64().unwrap_or_default(),
                v["runs"]
            );
        }
        println!("{passed} passed, {} failed", outcomes.len() - passed);
    } else {
        let doc = serde_json::json!({
            "passed": passed,
            "failed": outcomes.len() - passed,
            "latency_seconds": latency,
            "scenarios": outcomes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(if passed == outcomes.len() {
        0
    } else {
        EXIT_FINDINGS
    })
}
