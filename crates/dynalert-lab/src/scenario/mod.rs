//! The scenario runner: drives scenarios A–D, `ha`, `bad-config`, `recipes` and
//! `vmagent-failover` against a running lab and judges them from what the real parts report
//! (exporter `/metrics`, the Prometheus and Alertmanager APIs, the webhook sink's records).
//!
//! Every wait is a condition with a generous deadline, never a fixed sleep. Every change a
//! scenario makes (tenant files, simulated pods, database load, a killed replica) is undone
//! by a guard, also when the scenario fails half-way. The shared machinery is in [`harness`];
//! each scenario is one module; the tenant files they write are in `fixtures/`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::state::LabState;

mod a;
mod b;
mod bad_config;
mod c;
mod d;
mod ha;
pub mod harness;
mod recipes;
mod vmagent_failover;

pub use harness::{has_alert, Ctx};
pub use recipes::{with_recipe_threshold, RECIPES};

/// All scenarios in the order `all` runs them.
pub const ALL: [&str; 7] = ["a", "b", "c", "d", "ha", "bad-config", "recipes"];

/// Scenarios of one engine only, run by name (`dynalert scenario run vmagent-failover`).
pub const ENGINE_ONLY: [(&str, &str); 1] = [("vmagent-failover", "victoriametrics")];

/// Deadline for each condition: several scrape + evaluation cycles.
const WAIT: Duration = Duration::from_secs(45);

/// One timed step of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    /// Seconds since the scenario's reference instant (the change that starts the phase).
    pub seconds: f64,
}

/// One verified expectation.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub title: String,
    pub passed: bool,
    pub reason: String,
    pub duration_seconds: f64,
    pub actions: Vec<String>,
    pub stages: Vec<Stage>,
    pub checks: Vec<Check>,
    /// Threshold change → notification, in seconds (scenario A): `fire`, `resolve`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_seconds: BTreeMap<String, f64>,
}

/// A scenario's script.
type Script = fn(&mut Ctx) -> anyhow::Result<()>;

/// Every scenario: name, title, script.
const SCENARIOS: [(&str, &str, Script); 8] = [
    ("a", "A dynamic threshold", a::run),
    ("b", "B weakest link (simulated Kubernetes)", b::run),
    ("c", "C state matching (simulated Kubernetes)", c::run),
    (
        "d",
        "D composite priority, routing, inhibition, silent mode, maintenance",
        d::run,
    ),
    ("ha", "HA: one exporter replica killed", ha::run),
    (
        "bad-config",
        "bad config during a live run",
        bad_config::run,
    ),
    (
        "vmagent-failover",
        "vmagent failover: one of two scrapers killed",
        vmagent_failover::run,
    ),
    (
        "recipes",
        "custom alert recipes: each kind fires for one tenant only",
        recipes::run,
    ),
];

/// The title of the scenario `name`, `unknown` for no scenario.
pub fn title(name: &str) -> &'static str {
    SCENARIOS
        .iter()
        .find(|s| s.0 == name)
        .map_or("unknown", |s| s.1)
}

/// Runs one scenario; never panics on a failed expectation, returns the verdict instead.
pub fn run(lab: &LabState, name: &str, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Outcome> {
    if let Some((_, engine)) = ENGINE_ONLY.iter().find(|(n, _)| *n == name) {
        if lab.engine != *engine {
            bail!(
                "scenario `{name}` needs the `{engine}` engine; this lab runs `{}`\n  hint: start it with `dynalert lab up --engine {engine}`",
                lab.engine
            );
        }
    } else if !ALL.contains(&name) {
        bail!(
            "unknown scenario `{name}`; expected one of {}, {}",
            ALL.join(", "),
            ENGINE_ONLY.map(|(n, _)| n).join(", ")
        );
    }
    let script = SCENARIOS.iter().find(|s| s.0 == name).map(|s| s.2);
    let script = script.with_context(|| format!("no script for the scenario `{name}`"))?;
    let mariadb = crate::up::check_mariadb_client()?;
    let start = Instant::now();
    let start_ms = chrono::Utc::now().timestamp_millis();
    (progress)(&format!("scenario {}: {}", name, title(name)));
    let mut ctx = Ctx {
        lab: lab.clone(),
        mariadb,
        progress,
        start,
        start_ms,
        out: Outcome {
            scenario: name.to_string(),
            title: title(name).to_string(),
            ..Outcome::default()
        },
    };
    let result = script(&mut ctx);
    let mut out = ctx.out;
    out.duration_seconds = (ctx.start.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    (out.passed, out.reason) = match (result, out.checks.iter().find(|c| !c.ok)) {
        (Err(e), _) => (false, format!("{e:#}")),
        (Ok(()), Some(c)) => (false, format!("{}: {}", c.name, c.detail)),
        (Ok(()), None) => (true, format!("all {} checks passed", out.checks.len())),
    };
    (ctx.progress)(&format!(
        "  => {} ({:.1}s): {}",
        if out.passed { "PASS" } else { "FAIL" },
        out.duration_seconds,
        out.reason
    ));
    Ok(out)
}

/// min, median, max.
pub fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    // The middle value, or the mean of the two middle ones (the same one twice for odd `n`).
    let median = (v[(n - 1) / 2] + v[n / 2]) / 2.0;
    Some((v[0], median, v[n - 1]))
}
