//! `dynalert backtest`: what a configuration would have done over past data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, TimeZone, Utc};
use dynalert_model::{effective_tenant, Config, Severity};
use dynalert_probe::prom::Prometheus;
use serde::Serialize;

pub mod remote;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Replay past observations against a conf.d: how often each key would have fired"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Replay past observations against a conf.d: how often each key would have fired.

Reads the observation each rule pack compares with a catalogue key (the expression of its
`tenant:<signal>` recording rule, found through `tenant:alert_over_threshold:<key>` in `--packs`)
from Prometheus: an observation `max by(tenant) (<selector>)` as raw samples with the remote read
API, evaluated here step by step as PromQL would (`--read`), any other with `query_range`
(chunked, progress on stderr). It applies the thresholds as the exporter would have served
them at each step (tiers, schedules, expiry, maintenance) and the pack alert's `for:`, and
reports per tenant, key and tier: how many times it would have fired, the
total firing time, and the first and last firing. With `--against OLD_DIR` it also reports the
difference to another configuration; with `--served`, the difference to what Prometheus recorded
(the thresholds served then, replayed, and the alert's firing intervals in `ALERTS`).

Only the points over the lowest threshold of a key are kept (`(<observation>) > <lowest>`, one
query per key over all tenants), unless `--svg` needs the whole observation."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Last week of the lab, as text:
    dynalert backtest --prometheus http://127.0.0.1:9090 --from 2026-11-22T00:00:00Z --to 2026-11-29T00:00:00Z conf.d

  A threshold change against the current configuration, as JSON:
    dynalert backtest --prometheus http://127.0.0.1:9090 --from … --to … new-conf.d --against conf.d --format json

  A threshold change against what was served and fired (ALERTS):
    dynalert backtest --prometheus http://127.0.0.1:9090 --from … --to … new-conf.d --served

Exit codes:
  0  the report was written
  1  with --against: the two configurations fire differently
  2  usage error, unreadable configuration or Prometheus error

See also:
  dynalert effective   the thresholds served now"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory to replay.
    pub dir: PathBuf,
    /// Base URL of the Prometheus that holds the observations.
    #[arg(long)]
    pub prometheus: String,
    /// Start (RFC 3339).
    #[arg(long)]
    pub from: DateTime<Utc>,
    /// End (RFC 3339).
    #[arg(long)]
    pub to: DateTime<Utc>,
    /// Another conf.d to compare with.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// The rule packs directory.
    #[arg(long, default_value = "rules/packs")]
    pub packs: PathBuf,
    /// Evaluation step in seconds (the rule evaluation interval).
    #[arg(long, default_value_t = 60)]
    pub step: i64,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Also write an SVG timeline per tenant and key that would have fired into this directory.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Compare with what Prometheus recorded instead of `--against`: the thresholds the
    /// exporters served (`tenant:alert_threshold:<key>`, outside `user_maintenance`) replayed,
    /// and the firing intervals of the pack alert in `ALERTS`.
    #[arg(long, conflicts_with = "against")]
    pub served: bool,
    /// How observations are read: `remote` reads the raw samples with Prometheus' remote read
    /// API (`/api/v1/read`, streamed chunks) and evaluates `max by(tenant) (<selector>)` here,
    /// `query` has Prometheus evaluate them with `query_range`, `auto` uses remote read when the
    /// server streams it (not VictoriaMetrics). Observations of another shape (`rate`, `sum`, …)
    /// always use `query_range`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "remote", "query"])]
    pub read: String,
    /// Keys read at once (default: the number of CPUs, at most 4).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
}

/// A key the packs alert on: its observation expression and the alert's `for:` (seconds).
#[derive(Debug, Clone)]
pub struct KeyAlert {
    pub key: String,
    pub observation: String,
    pub alert: Option<String>,
    pub for_secs: i64,
}

/// Firing summary of one tenant, key and tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Firing {
    /// Number of firing intervals.
    pub fired: usize,
    pub firing_seconds: i64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// (start, end) of every firing interval, unix seconds; end is the first step no longer
    /// firing (or the end of the range).
    pub intervals: Vec<(i64, i64)>,
}

/// Threshold of a tier at `t` as served, or `None` (disabled, not set, or in maintenance).
pub type ThresholdAt<'a> = dyn Fn(i64) -> Option<f64> + 'a;

/// The firing intervals of an alert `observation > threshold` with `for: for_secs`, evaluated
/// at every step of `steps` (unix seconds, ascending). `observation` maps a step to the value
/// at that step (absent = no data, which resets the pending timer, as a missing series does).
pub fn replay(
    steps: &[i64],
    observation: &BTreeMap<i64, f64>,
    threshold: &ThresholdAt<'_>,
    for_secs: i64,
) -> Firing {
    let mut f = Firing::default();
    let mut active_since: Option<i64> = None;
    let mut firing_since: Option<i64> = None;
    for &t in steps {
        let over = match (observation.get(&t), threshold(t)) {
            (Some(v), Some(thr)) => *v > thr,
            _ => false,
        };
        if over {
            let since = *active_since.get_or_insert(t);
            if firing_since.is_none() && t - since >= for_secs {
                firing_since = Some(t);
            }
        } else {
            active_since = None;
            if let Some(s) = firing_since.take() {
                f.intervals.push((s, t));
            }
        }
    }
    if let (Some(s), Some(&end)) = (firing_since, steps.last()) {
        f.intervals.push((s, end));
    }
    f.finish();
    f
}

/// Observations of one key: tenant -> step -> value.
pub type Observations = BTreeMap<String, BTreeMap<i64, f64>>;

/// Served thresholds: key -> (tenant, tier) -> segments.
pub type Served = BTreeMap<String, BTreeMap<(String, Severity), Segments>>;

/// A piecewise-constant served threshold: `(from, until, value)`, `from` inclusive, `until`
/// exclusive (unix seconds), ascending and disjoint.
pub type Segments = Vec<(i64, i64, f64)>;

/// The thresholds served for every key, tenant and tier over `[from, to]`, as segments: the
/// effective configuration is resolved once per tenant and change instant (window edges,
/// expiry, maintenance boundaries), not per step. Resolution happens at steps of the grid
/// `from + i * step`, as the exporter's served values are sampled by the evaluation.
pub fn served_segments(config: &Config, keys: &[&str], from: i64, to: i64, step: i64) -> Served {
    let mut out: Served = keys
        .iter()
        .map(|k| (k.to_string(), BTreeMap::new()))
        .collect();
    for tenant in config.tenants.values() {
        let mut t = from;
        while t <= to {
            let Some(at) = Utc.timestamp_opt(t, 0).single() else {
                break;
            };
            let e = effective_tenant(&config.platform, tenant, at);
            // The first grid step at or after the next change.
            let until = e.next_change.map_or(i64::MAX, |n| {
                let n = n.timestamp().max(t + 1);
                from + (n - from + step - 1).div_euclid(step) * step
            });
            let in_maintenance = e.maintenance.as_ref().is_some_and(|m| m.active);
            if !in_maintenance {
                for k in &e.keys {
                    let Some(per_tier) = out.get_mut(k.key.as_str()) else {
                        continue;
                    };
                    for tier in &k.tiers {
                        let Some(v) = tier.value else { continue };
                        let segs = per_tier
                            .entry((tenant.id.clone(), tier.severity))
                            .or_default();
                        match segs.last_mut() {
                            Some(last) if last.1 == t && last.2 == v => last.1 = until,
                            _ => segs.push((t, until, v)),
                        }
                    }
                }
            }
            if until == i64::MAX {
                break;
            }
            t = until;
        }
    }
    out
}

/// The value of `segments` at `t`.
pub fn segment_at(segments: &[(i64, i64, f64)], t: i64) -> Option<f64> {
    let i = segments.partition_point(|s| s.1 <= t);
    segments.get(i).filter(|s| s.0 <= t).map(|s| s.2)
}

/// [`replay`] on the regular grid `from, from + step, …, ≤ to`, visiting only the steps that
/// have an observation: a step without one is not over the threshold (no data, or a value the
/// query left out because it is under every threshold), which resets the pending timer.
/// Equal to [`replay`] on the full grid; its cost grows with the observations, not the steps.
pub fn replay_sparse(
    from: i64,
    to: i64,
    step: i64,
    observation: &BTreeMap<i64, f64>,
    threshold: &ThresholdAt<'_>,
    for_secs: i64,
) -> Firing {
    let last_step = from + (to - from).div_euclid(step) * step;
    let mut f = Firing::default();
    let mut active_since: Option<i64> = None;
    let mut firing_since: Option<i64> = None;
    let mut prev: Option<i64> = None;
    let close = |f: &mut Firing, since: &mut Option<i64>, at: i64| {
        if let Some(s) = since.take() {
            f.intervals.push((s, at));
        }
    };
    for (&t, v) in observation.range(from..=last_step) {
        if (t - from).rem_euclid(step) != 0 {
            continue;
        }
        if let Some(p) = prev {
            if t - p > step {
                // The step after `p` had no observation: not over there.
                active_since = None;
                close(&mut f, &mut firing_since, p + step);
            }
        }
        prev = Some(t);
        let over = threshold(t).is_some_and(|thr| *v > thr);
        if over {
            let since = *active_since.get_or_insert(t);
            if firing_since.is_none() && t - since >= for_secs {
                firing_since = Some(t);
            }
        } else {
            active_since = None;
            close(&mut f, &mut firing_since, t);
        }
    }
    if let (Some(s), Some(p)) = (firing_since, prev) {
        f.intervals
            .push((s, if p < last_step { p + step } else { last_step }));
    }
    f.finish();
    f
}

impl Firing {
    fn finish(&mut self) {
        self.fired = self.intervals.len();
        self.firing_seconds = self.intervals.iter().map(|(a, b)| b - a).sum();
        let start = |i: Option<&(i64, i64)>| i.and_then(|(a, _)| Utc.timestamp_opt(*a, 0).single());
        self.first = start(self.intervals.first());
        self.last = start(self.intervals.last());
    }
}

/// Thresholds of every tenant for `key` and tier over the steps, as served: the effective
/// configuration is re-resolved only at the instants it changes (window edges, expiry,
/// maintenance boundaries). `None` at a step: no series (disabled, unset, or maintenance).
pub fn served(
    config: &Config,
    key: &str,
    steps: &[i64],
) -> BTreeMap<(String, Severity), BTreeMap<i64, f64>> {
    let mut out: BTreeMap<(String, Severity), BTreeMap<i64, f64>> = BTreeMap::new();
    for tenant in config.tenants.values() {
        let mut i = 0;
        while i < steps.len() {
            let Some(at) = Utc.timestamp_opt(steps[i], 0).single() else {
                break;
            };
            let e = effective_tenant(&config.platform, tenant, at);
            let until = e.next_change.map_or(i64::MAX, |n| n.timestamp());
            let in_maintenance = e.maintenance.as_ref().is_some_and(|m| m.active);
            let tiers: Vec<(Severity, f64)> = e
                .keys
                .iter()
                .filter(|k| k.key == key)
                .flat_map(|k| k.tiers.iter())
                .filter_map(|t| Some((t.severity, t.value?)))
                .collect();
            while i < steps.len() && steps[i] < until {
                if !in_maintenance {
                    for (sev, v) in &tiers {
                        out.entry((tenant.id.clone(), *sev))
                            .or_default()
                            .insert(steps[i], *v);
                    }
                }
                i += 1;
            }
        }
    }
    out
}

/// The per-tenant alerts of the packs, read from their recording rules.
pub fn key_alerts(packs: &std::path::Path) -> anyhow::Result<Vec<KeyAlert>> {
    let files: Vec<PathBuf> = dynalert_rules::migrate::rule_files_under(packs)
        .into_iter()
        .filter(|p| dynalert_rules::migrate::is_rule_file(p))
        .collect();
    let keys = dynalert_rules::migrate::pack_keys(&files).map_err(anyhow::Error::msg)?;
    Ok(keys
        .by_template
        .into_iter()
        .map(|(observation, pk)| KeyAlert {
            key: pk.key,
            observation,
            alert: pk.alert,
            for_secs: pk
                .for_
                .as_deref()
                .and_then(dynalert_config::scalars::parse_duration_secs)
                .unwrap_or(0),
        })
        .collect())
}

/// What the queries cost: Prometheus' share (request to last byte) and the points returned.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchStats {
    pub queries: usize,
    pub prometheus: Duration,
    pub points: usize,
    /// Remote read only: the raw samples decoded, and the time spent decoding and evaluating
    /// them here (not part of `prometheus`).
    pub samples: usize,
    pub bytes: u64,
    pub local: Duration,
    /// Of `queries`, how many were remote reads.
    pub remote: usize,
}

/// At most this many points (series × steps) per `query_range`, well under Prometheus'
/// default `--query.max-samples` of 50 million.
pub const POINTS_PER_QUERY: i64 = 5_000_000;

/// Steps per `query_range` for `series` expected series: at most 10,000 (Prometheus' limit of
/// points per series) and at most [`POINTS_PER_QUERY`] points.
pub fn chunk_steps(series: usize) -> i64 {
    (POINTS_PER_QUERY / series.max(1) as i64).clamp(1, 10_000)
}

/// `query_range` of `expr` in chunks of `chunk` steps; tenant -> step -> value. With `floor`,
/// the query is `(expr) > floor`: Prometheus returns only the points over the lowest threshold
/// any tenant has for the key, the only ones that can fire (the rest is under every threshold,
/// which [`replay_sparse`] treats as a missing point: not over).
#[allow(clippy::too_many_arguments)]
pub fn fetch(
    prometheus: &str,
    expr: &str,
    floor: Option<f64>,
    from: i64,
    to: i64,
    step: i64,
    chunk: i64,
    progress: &mut dyn FnMut(i64),
) -> anyhow::Result<(Observations, FetchStats)> {
    let query = match floor {
        Some(f) if f.is_finite() => over_floor(expr, f),
        _ => expr.to_string(),
    };
    let mut out: Observations = BTreeMap::new();
    let stats = query_range(prometheus, &query, from, to, step, chunk, progress, |r| {
        if let Some(tenant) = r.metric.get("tenant") {
            let series = out.entry(tenant.clone()).or_default();
            series.extend(r.values);
        }
    })?;
    Ok((out, stats))
}

/// `(expr) > floor`, with the comparison moved inside a top-level `max by(…)(inner)`:
/// `max by(…)(inner > floor)` is the same vector (the maximum is over the floor exactly when
/// a series is, and then it is the maximum of those), and Prometheus aggregates only the
/// few series over the floor instead of every series at every step.
pub fn over_floor(expr: &str, floor: f64) -> String {
    let fallback = || format!("({expr}) > {floor:?}");
    let e = expr.trim();
    let Some(rest) = e.strip_prefix("max by") else {
        return fallback();
    };
    let rest = rest.trim_start();
    let Some(g_end) = rest.strip_prefix('(').and_then(|r| r.find(')')) else {
        return fallback();
    };
    let grouping = &rest[1..=g_end];
    let body = rest[g_end + 2..].trim_start();
    if !body.starts_with('(') {
        return fallback();
    }
    // The parenthesis that closes the body's first one, outside string literals.
    let (mut depth, mut quote, mut escaped, mut close) = (0usize, None::<char>, false, None);
    for (i, c) in body.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    match close {
        Some(i) if i == body.len() - 1 => {
            format!("max by({grouping}) (({}) > {floor:?})", &body[1..i])
        }
        _ => fallback(),
    }
}

/// One series of a `query_range` answer: its labels and (unix seconds, value) points.
pub struct Series {
    pub metric: BTreeMap<String, String>,
    pub values: Vec<(i64, f64)>,
}

impl Series {
    /// The `tenant` label and the tier of the `severity` label, when the series has both.
    fn tenant_and_severity(&self) -> Option<(&String, Severity)> {
        let sev = Severity::parse(self.metric.get("severity")?)?;
        Some((self.metric.get("tenant")?, sev))
    }
}

/// `query_range` of `query` in chunks of `chunk` steps, every series of every chunk handed to
/// `each`.
#[allow(clippy::too_many_arguments)]
pub fn query_range(
    prometheus: &str,
    query: &str,
    from: i64,
    to: i64,
    step: i64,
    chunk: i64,
    progress: &mut dyn FnMut(i64),
    mut each: impl FnMut(Series),
) -> anyhow::Result<FetchStats> {
    let api = Prometheus::with_timeout(prometheus, Duration::from_secs(300));
    let mut stats = FetchStats::default();
    let chunk = step * chunk.clamp(1, 10_000);
    let mut start = from;
    while start <= to {
        let end = (start + chunk - step).min(to);
        let began = std::time::Instant::now();
        let result = api.query_range(query, start, end, step)?;
        stats.prometheus += began.elapsed();
        stats.queries += 1;
        for r in result {
            let values: Vec<(i64, f64)> = r
                .values
                .into_iter()
                .map(|(t, v)| (t.round() as i64, v))
                .collect();
            stats.points += values.len();
            each(Series {
                metric: r.metric,
                values,
            });
        }
        progress(end);
        start = end + step;
    }
    Ok(stats)
}

/// What Prometheus recorded for `alerts` over the grid: the thresholds served
/// (`tenant:alert_threshold:<key>` per tenant and tier, dropped at the steps the tenant was in
/// `user_maintenance`), and the firing intervals of each key's alert in `ALERTS`.
#[allow(clippy::type_complexity)]
pub fn recorded(
    prometheus: &str,
    alerts: &[KeyAlert],
    (from, to, step): (i64, i64, i64),
    chunk: i64,
) -> anyhow::Result<(Served, BTreeMap<(String, String, Severity), Firing>)> {
    let range = |query: &str, each: &mut dyn FnMut(Series)| {
        query_range(prometheus, query, from, to, step, chunk, &mut |_| {}, each)
    };
    let mut maintenance: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    range("max by(tenant) (user_maintenance) == 1", &mut |r| {
        if let Some(tenant) = r.metric.get("tenant") {
            let steps = r.values.iter().map(|(t, _)| *t);
            maintenance.entry(tenant.clone()).or_default().extend(steps);
        }
    })?;
    let mut thresholds: Served = BTreeMap::new();
    let mut firing: BTreeMap<(String, String, Severity), BTreeMap<i64, f64>> = BTreeMap::new();
    for a in alerts {
        let per = thresholds.entry(a.key.clone()).or_default();
        let query = format!(
            "max by(tenant, severity) (tenant:alert_threshold:{})",
            a.key
        );
        range(&query, &mut |r| {
            if let Some((tenant, sev)) = r.tenant_and_severity() {
                let paused = maintenance.get(tenant);
                let segs = per.entry((tenant.clone(), sev)).or_default();
                extend_served(segs, r.values.iter().copied(), paused, step);
            }
        })?;
        let Some(alert) = &a.alert else { continue };
        let query = format!(
            "max by(tenant, severity) (ALERTS{{alertname=\"{alert}\", alertstate=\"firing\"}})"
        );
        range(&query, &mut |r| {
            if let Some((tenant, sev)) = r.tenant_and_severity() {
                let key = (tenant.clone(), a.key.clone(), sev);
                firing.entry(key).or_default().extend(r.values);
            }
        })?;
    }
    // A step with the alert in `ALERTS` is firing; the first step without it ends the interval.
    let firing = firing
        .into_iter()
        .map(|(k, steps)| (k, replay_sparse(from, to, step, &steps, &|_| Some(0.0), 0)))
        .collect();
    Ok((thresholds, firing))
}

/// Appends the recorded threshold `(t, v)` of each step (one step long) to `segs`, merging
/// equal neighbours, and leaving out the steps `paused` (maintenance) holds.
fn extend_served(
    segs: &mut Segments,
    steps: impl IntoIterator<Item = (i64, f64)>,
    paused: Option<&BTreeSet<i64>>,
    step: i64,
) {
    for (t, v) in steps {
        if paused.is_some_and(|p| p.contains(&t)) {
            continue;
        }
        match segs.last_mut() {
            Some(last) if last.1 == t && last.2 == v => last.1 = t + step,
            _ => segs.push((t, t + step, v)),
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub tenant: String,
    pub key: String,
    pub severity: Severity,
    pub alert: Option<String>,
    pub firing: Firing,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<Firing>,
    /// With `--served`: the firing intervals Prometheus recorded for the alert (`ALERTS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Firing>,
}

/// The lowest threshold any tenant and tier has for each key at any step, in `config` and
/// `against`: no observation at or under it can fire.
pub fn floors(served: &[&Served]) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for (key, per) in served.iter().flat_map(|m| m.iter()) {
        for (_, _, v) in per.values().flatten() {
            let e = out.entry(key.clone()).or_insert(f64::INFINITY);
            *e = e.min(*v);
        }
    }
    out
}

/// Replays the served thresholds of `now` (and `old`, `--against`) over the observations
/// (key -> tenant -> step -> value) on the grid `from, from + step, …, ≤ to`.
pub fn rows(
    now: &Served,
    old: Option<&Served>,
    alerts: &[KeyAlert],
    observations: &BTreeMap<String, Observations>,
    (from, to, step): (i64, i64, i64),
) -> Vec<Row> {
    let mut out = Vec::new();
    let none = BTreeMap::new();
    for a in alerts {
        let Some(obs) = observations.get(&a.key) else {
            continue;
        };
        let now = now.get(&a.key).unwrap_or(&none);
        let old = old.map(|o| o.get(&a.key).unwrap_or(&none));
        let olds = old.into_iter().flat_map(|o| o.keys());
        let pairs: BTreeSet<&(String, Severity)> = now.keys().chain(olds).collect();
        for (tenant, sev) in pairs {
            // A tenant without a single observation over the floor cannot fire.
            let Some(series) = obs.get(tenant) else {
                continue;
            };
            let run = |m: &BTreeMap<(String, Severity), Segments>| {
                let segs = m.get(&(tenant.clone(), *sev));
                replay_sparse(
                    from,
                    to,
                    step,
                    series,
                    &|t| segs.and_then(|s| segment_at(s, t)),
                    a.for_secs,
                )
            };
            let firing = run(now);
            let against = old.map(run);
            if firing.fired == 0 && against.as_ref().is_none_or(|f| f.fired == 0) {
                continue;
            }
            out.push(Row {
                tenant: tenant.clone(),
                key: a.key.clone(),
                severity: *sev,
                alert: a.alert.clone(),
                firing,
                against,
                recorded: None,
            });
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn tier_colour(s: Severity) -> &'static str {
    match s {
        Severity::Info => "#1f77b4",
        Severity::Warning => "#e69500",
        Severity::Critical => "#d62728",
    }
}

/// A timeline of one tenant and key: the observation, the served thresholds of every tier
/// drawn over it, and a band per tier with the firing intervals (and those of `--against`,
/// hatched, below them).
pub fn render_svg(
    tenant: &str,
    key: &str,
    steps: &[i64],
    observation: &BTreeMap<i64, f64>,
    thresholds: &[(Severity, &BTreeMap<i64, f64>)],
    rows: &[&Row],
) -> String {
    use std::fmt::Write as _;
    let (w, h, left, top, plot_h) = (960.0, 300.0, 60.0, 30.0, 180.0);
    let (t0, t1) = (
        steps[0] as f64,
        (*steps.last().unwrap_or(&steps[0])).max(steps[0] + 1) as f64,
    );
    let values = observation
        .values()
        .chain(thresholds.iter().flat_map(|(_, m)| m.values()))
        .copied()
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let x = |t: i64| left + (t as f64 - t0) / (t1 - t0) * (w - left - 20.0);
    let y = |v: f64| top + plot_h - (v - lo) / (hi - lo) * plot_h;
    let rfc = |t: i64| {
        let t = Utc.timestamp_opt(t, 0).single();
        t.map(|t| t.to_rfc3339()).unwrap_or_default()
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(s, "<title>{} {}</title>", esc(tenant), esc(key));
    let _ = writeln!(s, "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><path d=\"M0,6 l6,-6\" stroke=\"#888\"/></pattern></defs>");
    let _ = writeln!(
        s,
        "<text x=\"{left}\" y=\"18\">tenant {} · key {} · {} to {}</text>",
        esc(tenant),
        esc(key),
        rfc(steps[0]),
        rfc(t1 as i64)
    );
    let _ = writeln!(
        s,
        "<text x=\"4\" y=\"{}\">{hi}</text><text x=\"4\" y=\"{}\">{lo}</text>",
        top + 4.0,
        top + plot_h
    );
    let pt = |t: i64, v: f64| format!("{:.1},{:.1}", x(t), y(v));
    let points: Vec<String> = observation.iter().map(|(t, v)| pt(*t, *v)).collect();
    let _ = writeln!(
        s,
        "<polyline class=\"observation\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"{}\"/>",
        points.join(" ")
    );
    // Each served value drawn over its step.
    let step = steps.get(1).map_or(60, |n| n - steps[0]);
    for (sev, m) in thresholds {
        let mut pts = Vec::new();
        for (t, v) in m.iter() {
            pts.push(pt(*t, *v));
            pts.push(pt(*t + step, *v));
        }
        let _ = writeln!(
            s,
            "<polyline class=\"threshold {sev}\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"6 3\" points=\"{}\"/>",
            tier_colour(*sev),
            pts.join(" ")
        );
    }
    let mut band = top + plot_h + 14.0;
    for r in rows {
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{}\">{}</text>",
            band + 9.0,
            r.severity
        );
        for (a, b) in &r.firing.intervals {
            let _ = writeln!(
                s,
                "<rect class=\"firing {}\" x=\"{:.1}\" y=\"{band}\" width=\"{:.1}\" height=\"10\" fill=\"{}\"><title>firing {}s</title></rect>",
                r.severity,
                x(*a),
                (x(*b) - x(*a)).max(1.0),
                tier_colour(r.severity),
                b - a
            );
        }
        if let Some(f) = &r.against {
            for (a, b) in &f.intervals {
                let _ = writeln!(
                    s,
                    "<rect class=\"against {}\" x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"8\" fill=\"url(#hatch)\" stroke=\"{}\"><title>--against firing {}s</title></rect>",
                    r.severity,
                    x(*a),
                    band + 11.0,
                    (x(*b) - x(*a)).max(1.0),
                    tier_colour(r.severity),
                    b - a
                );
            }
        }
        band += 24.0;
    }
    s.push_str("</svg>\n");
    s
}

fn human(secs: i64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

pub fn render_text(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("tenant\tkey\ttier\tfired\tfiring\tfirst\tlast\tagainst\n");
    for r in rows {
        let f = &r.firing;
        let ts = |t: Option<DateTime<Utc>>| t.map_or("-".into(), |t| t.to_rfc3339());
        let against = r.against.as_ref().map_or(String::new(), |a| {
            format!(
                "{} fired, {} ({:+} fired, {:+}s)",
                a.fired,
                human(a.firing_seconds),
                f.fired as i64 - a.fired as i64,
                f.firing_seconds - a.firing_seconds
            )
        });
        let against = match &r.recorded {
            Some(rec) => format!(
                "{against}; recorded {} fired, {}",
                rec.fired,
                human(rec.firing_seconds)
            ),
            None => against,
        };
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{against}",
            r.tenant,
            r.key,
            r.severity,
            f.fired,
            human(f.firing_seconds),
            ts(f.first),
            ts(f.last)
        );
    }
    s
}

fn load(dir: &std::path::Path, at: DateTime<Utc>) -> anyhow::Result<Config> {
    let report = dynalert_config::load_dir(dir, at)
        .with_context(|| format!("cannot read `{}`", dir.display()))?;
    if report.errors() > 0 {
        crate::output::print_diagnostics(&report.diagnostics);
        bail!("`{}` has errors: fix them before a backtest", dir.display());
    }
    Ok((*report.config).clone())
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.to <= args.from || args.step <= 0 {
        bail!("`--to` must be after `--from` and `--step` positive");
    }
    let config = load(&args.dir, args.from)?;
    let against = args
        .against
        .as_deref()
        .map(|d| load(d, args.from))
        .transpose()?;
    let catalogue = config.platform.catalogue();
    let mut alerts = key_alerts(&args.packs)?;
    alerts.retain(|a| catalogue.contains(a.key.as_str()));
    let (from, to, step) = (args.from.timestamp(), args.to.timestamp(), args.step);
    let from = from - from.rem_euclid(step);
    let steps: Vec<i64> = (from..=to).step_by(step as usize).collect();
    let began = std::time::Instant::now();
    let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
    let now = served_segments(&config, &keys, from, to, step);
    let chunk = chunk_steps(config.tenants.len());
    // Remote read where the observation is a plain selection and the server streams it; the
    // recorded thresholds and `ALERTS` of `--served` are plain selections.
    let selections: Vec<Option<Vec<dynalert_remote_read::Matcher>>> = alerts
        .iter()
        .map(|a| remote::plain_selection(&a.observation))
        .collect();
    let lookback = if args.read == "query"
        || (!args.served && selections.iter().all(Option::is_none))
    {
        None
    } else {
        match remote::probe(&args.prometheus)? {
            remote::Probe::Streams(l) => Some(l),
            remote::Probe::Unsupported(why) if args.read == "auto" => {
                eprintln!("backtest: {why}: reading with query_range");
                None
            }
            remote::Probe::Unsupported(why) => bail!(
                "{why}\nhint: `--read auto` falls back to `query_range` on a server without remote read"
            ),
        }
    };
    let (old, recorded_firing) = if args.served {
        let (thresholds, firing) = match lookback {
            Some(l) => remote::recorded(&args.prometheus, &alerts, (from, to, step), l)?,
            None => recorded(&args.prometheus, &alerts, (from, to, step), chunk)?,
        };
        (Some(thresholds), Some(firing))
    } else {
        let old = against
            .as_ref()
            .map(|c| served_segments(c, &keys, from, to, step));
        (old, None)
    };
    let mut all = vec![&now];
    all.extend(old.as_ref());
    // A timeline draws the whole observation; otherwise only points that can fire are read.
    let floors = if args.svg.is_some() {
        BTreeMap::new()
    } else {
        floors(&all)
    };
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let parallel = args.jobs.map_or(cpus.clamp(1, 4), usize::from);
    let next = AtomicUsize::new(0);
    // Each key read, in the order the reads ended; the first error ends the others.
    let results: Mutex<Vec<(usize, anyhow::Result<_>)>> = Mutex::default();
    std::thread::scope(|s| {
        for _ in 0..parallel.min(alerts.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = alerts.get(i) else { break };
                if results
                    .lock()
                    .is_ok_and(|r| r.iter().any(|(_, f)| f.is_err()))
                {
                    break;
                }
                let mut progress = |done: i64| {
                    eprintln!(
                        "backtest: {}/{} `{}`: {:.0}%",
                        i + 1,
                        alerts.len(),
                        a.key,
                        100.0 * (done - from) as f64 / (to - from).max(1) as f64
                    );
                };
                // A key no tenant has a threshold for cannot fire: nothing to read.
                let floor = floors.get(&a.key).copied();
                if args.svg.is_none() && floor.is_none() {
                    continue;
                }
                let (prom, p, grid) = (&args.prometheus, &mut progress, (from, to, step));
                let fetched = match (lookback, &selections[i]) {
                    (Some(l), Some(m)) => remote::fetch(prom, m, floor, grid, l, i64::MAX, p),
                    _ => fetch(prom, &a.observation, floor, from, to, step, chunk, p),
                };
                if let Ok(mut r) = results.lock() {
                    r.push((i, fetched));
                }
            });
        }
    });
    let fetched = began.elapsed();
    let mut observations = BTreeMap::new();
    let mut stats = FetchStats::default();
    for (i, got) in results.into_inner().unwrap_or_default() {
        let (data, st) = got?;
        stats.queries += st.queries;
        stats.prometheus += st.prometheus;
        stats.points += st.points;
        stats.samples += st.samples;
        stats.bytes += st.bytes;
        stats.local += st.local;
        stats.remote += st.remote;
        observations.insert(alerts[i].key.clone(), data);
    }
    let mut rows = rows(&now, old.as_ref(), &alerts, &observations, (from, to, step));
    if let Some(rec) = recorded_firing {
        for r in rows.iter_mut() {
            let key = (r.tenant.clone(), r.key.clone(), r.severity);
            r.recorded = Some(rec.get(&key).cloned().unwrap_or_default());
        }
        // Alerts Prometheus recorded that neither replay fires.
        for ((tenant, key, severity), f) in rec {
            if rows
                .iter()
                .any(|r| r.tenant == tenant && r.key == key && r.severity == severity)
            {
                continue;
            }
            let alert = alerts
                .iter()
                .find(|a| a.key == key)
                .and_then(|a| a.alert.clone());
            rows.push(Row {
                tenant,
                key,
                severity,
                alert,
                firing: Firing::default(),
                against: Some(Firing::default()),
                recorded: Some(f),
            });
        }
        rows.sort_by(|a, b| (&a.key, &a.tenant, a.severity).cmp(&(&b.key, &b.tenant, b.severity)));
    }
    eprintln!(
        "backtest: {} tenants, {} keys, {} steps: {} queries ({} remote reads: {} samples in {:.0} MB, \
         {:.2}s decoding and evaluating here; {} points) took {:.2}s of Prometheus time \
         ({parallel} at once, {:.2}s wall), {:.2}s in total",
        config.tenants.len(),
        alerts.len(),
        steps.len(),
        stats.queries,
        stats.remote,
        stats.samples,
        stats.bytes as f64 / 1e6,
        stats.local.as_secs_f64(),
        stats.points,
        stats.prometheus.as_secs_f64(),
        fetched.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let mut written = 0;
        for a in &alerts {
            let served = served(&config, &a.key, &steps);
            let mut tenants: Vec<&String> = rows
                .iter()
                .filter(|r| r.key == a.key)
                .map(|r| &r.tenant)
                .collect();
            tenants.dedup();
            for tenant in tenants {
                let mine: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.key == a.key && &r.tenant == tenant)
                    .collect();
                let thresholds: Vec<(Severity, &BTreeMap<i64, f64>)> = served
                    .iter()
                    .filter(|((t, _), _)| t == tenant)
                    .map(|((_, sev), m)| (*sev, m))
                    .collect();
                let empty = BTreeMap::new();
                let obs = observations
                    .get(&a.key)
                    .and_then(|o| o.get(tenant))
                    .unwrap_or(&empty);
                let path = dir.join(format!("{tenant}__{}.svg", a.key));
                let svg = render_svg(tenant, &a.key, &steps, obs, &thresholds, &mine);
                std::fs::write(&path, svg)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                written += 1;
            }
        }
        eprintln!("backtest: wrote {written} timelines to {}", dir.display());
    }
    {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        if args.format == "json" {
            /// The JSON report (fields in alphabetical order).
            #[derive(Serialize)]
            struct Report<'a> {
                from: DateTime<Utc>,
                rows: &'a [Row],
                step_seconds: i64,
                to: DateTime<Utc>,
            }
            let report = Report {
                from: args.from,
                rows: &rows,
                step_seconds: step,
                to: args.to,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        } else {
            out.write_all(render_text(&rows).as_bytes())?;
        }
        out.flush()?;
    }
    let differs = rows.iter().any(|r| {
        r.against
            .as_ref()
            .is_some_and(|a| a.intervals != r.firing.intervals)
    });
    Ok(crate::exit_code(differs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(n: i64) -> Vec<i64> {
        (0..n).map(|i| i * 60).collect()
    }

    #[test]
    fn a_for_duration_delays_firing_and_a_dip_resets_it() {
        // Over 70 from minute 2 to 9, a dip at minute 5, over again 6..9; for: 2m.
        let values = [
            10.0, 10.0, 80.0, 80.0, 80.0, 10.0, 80.0, 80.0, 80.0, 80.0, 10.0, 10.0,
        ];
        let obs: BTreeMap<i64, f64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 60, *v))
            .collect();
        let f = replay(&steps(12), &obs, &|_| Some(70.0), 120);
        // First run 2..4: pending at 2, firing at 4 (2 minutes later), resolved at 5.
        // Second run 6..9: firing at 8, resolved at 10.
        assert_eq!(f.intervals, vec![(240, 300), (480, 600)]);
        assert_eq!(f.fired, 2);
        assert_eq!(f.firing_seconds, 60 + 120);
    }

    #[test]
    fn the_timeline_draws_every_firing_interval_and_threshold() {
        let steps = steps(12);
        let obs: BTreeMap<i64, f64> = steps
            .iter()
            .map(|t| (*t, if *t >= 240 { 90.0 } else { 10.0 }))
            .collect();
        let warn: BTreeMap<i64, f64> = steps.iter().map(|t| (*t, 70.0)).collect();
        let firing = replay(&steps, &obs, &|t| warn.get(&t).copied(), 0);
        let against = replay(&steps, &obs, &|_| Some(5.0), 0);
        let row = Row {
            tenant: "db-a".into(),
            key: "mysql_connections".into(),
            severity: Severity::Warning,
            alert: None,
            firing,
            against: Some(against),
            recorded: None,
        };
        let svg = render_svg(
            "db-a",
            "mysql_connections",
            &steps,
            &obs,
            &[(Severity::Warning, &warn)],
            &[&row],
        );
        assert_eq!(svg.matches("<rect class=\"firing warning\"").count(), 1);
        assert_eq!(svg.matches("<rect class=\"against warning\"").count(), 1);
        assert_eq!(
            svg.matches("<polyline class=\"threshold warning\"").count(),
            1
        );
        let points = svg
            .split("class=\"observation\"")
            .nth(1)
            .unwrap()
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 12);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    }

    /// A small deterministic generator (no dependency): numbers in `0..n`.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn the_sparse_replay_of_the_points_over_the_floor_equals_the_full_replay() {
        // The reference is `replay` on every step with every observation; `replay_sparse` sees
        // only the points over the lowest threshold, as the query returns them.
        let mut rng = Lcg(7);
        let mut fired = 0;
        for case in 0..500 {
            let n = 1 + rng.next(120) as i64;
            let grid = steps(n);
            let mut obs: BTreeMap<i64, f64> = BTreeMap::new();
            for t in &grid {
                if rng.next(10) > 0 {
                    obs.insert(*t, rng.next(100) as f64);
                }
            }
            // Piecewise-constant threshold with gaps (no series).
            let mut segs: Segments = Vec::new();
            let mut t = 0;
            while t < n * 60 {
                let len = 60 * (1 + rng.next(30) as i64);
                if rng.next(4) > 0 {
                    segs.push((t, t + len, 30.0 + rng.next(60) as f64));
                }
                t += len;
            }
            let floor = segs.iter().map(|s| s.2).fold(f64::INFINITY, f64::min);
            let over: BTreeMap<i64, f64> = obs
                .iter()
                .filter(|(_, v)| **v > floor)
                .map(|(t, v)| (*t, *v))
                .collect();
            let for_secs = 60 * rng.next(6) as i64;
            let thr = |t: i64| segment_at(&segs, t);
            let want = replay(&grid, &obs, &thr, for_secs);
            // `to` need not be on the grid.
            let to = (n - 1) * 60 + rng.next(60) as i64;
            let got = replay_sparse(0, to, 60, &over, &thr, for_secs);
            assert_eq!(got, want, "case {case}: {obs:?} {segs:?} for {for_secs}");
            fired += usize::from(want.fired > 1);
        }
        // The cases exercise alerts that fire, resolve and fire again.
        assert!(fired > 100, "{fired}");
    }

    #[test]
    fn segments_change_at_a_scheduled_window_and_at_expiry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_defaults.yaml"),
            "defaults:\n  mysql_connections: 80\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("db-a.yaml"),
            "tenants:\n  db-a:\n    mysql_connections:\n      default: 70\n      overrides:\n        - {window: \"22:00-06:00\", value: 95}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("db-b.yaml"),
            "tenants:\n  db-b:\n    mysql_connections: {value: 40, expires: \"2026-11-29T23:00:30Z\"}\n",
        )
        .unwrap();
        let from = Utc.with_ymd_and_hms(2026, 11, 29, 20, 0, 0).unwrap();
        let report = dynalert_config::load_dir(dir.path(), from).unwrap();
        assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);
        let (from, step) = (from.timestamp(), 60);
        let to = from + 6 * 3600;
        let h = |x: i64| from + x * 3600;
        let segs = served_segments(&report.config, &["mysql_connections"], from, to, step);
        let m = &segs["mysql_connections"];
        // db-a: 70 until 22:00, 95 until 06:00 (after the range), then 70 again.
        assert_eq!(
            m[&("db-a".to_string(), Severity::Warning)]
                .iter()
                .filter(|s| s.0 <= to)
                .map(|s| (s.0, s.2))
                .collect::<Vec<_>>(),
            vec![(h(0), 70.0), (h(2), 95.0)]
        );
        // db-b: 40 until it expires at 23:00:30, the default 80 from the next step.
        assert_eq!(
            m[&("db-b".to_string(), Severity::Warning)]
                .iter()
                .map(|s| (s.0, s.2))
                .collect::<Vec<_>>(),
            vec![(h(0), 40.0), (h(3) + 60, 80.0)]
        );
        // Equal to the per-step resolution.
        let grid: Vec<i64> = (from..=to).step_by(step as usize).collect();
        let per_step = served(&report.config, "mysql_connections", &grid);
        for ((tenant, sev), values) in &per_step {
            for (t, v) in values {
                assert_eq!(segment_at(&m[&(tenant.clone(), *sev)], *t), Some(*v));
            }
        }
    }

    #[test]
    fn the_floor_moves_inside_a_top_level_max_only() {
        assert_eq!(
            over_floor(
                "max by (cluster, tenant) (mysql_global_status_threads_connected)",
                50.0
            ),
            "max by(cluster, tenant) ((mysql_global_status_threads_connected) > 50.0)"
        );
        assert_eq!(
            over_floor("max by (tenant) (x{a=\")(\"} * on (tenant) y)", 1.5),
            "max by(tenant) ((x{a=\")(\"} * on (tenant) y) > 1.5)"
        );
        // A sum is not the sum of the parts over the floor; neither is a max compared later.
        assert_eq!(
            over_floor("sum by (tenant) (rate(x[5m]))", 2.0),
            "(sum by (tenant) (rate(x[5m]))) > 2.0"
        );
        assert_eq!(
            over_floor("max by (tenant) (x) / max by (tenant) (y)", 2.0),
            "(max by (tenant) (x) / max by (tenant) (y)) > 2.0"
        );
    }

    #[test]
    fn no_threshold_or_no_data_never_fires() {
        let obs: BTreeMap<i64, f64> = (0..5).map(|i| (i * 60, 100.0)).collect();
        assert_eq!(replay(&steps(5), &obs, &|_| None, 0).fired, 0);
        assert_eq!(
            replay(&steps(5), &BTreeMap::new(), &|_| Some(1.0), 0).fired,
            0
        );
        // Still over at the end: the interval ends with the range.
        let f = replay(&steps(5), &obs, &|t| (t >= 120).then_some(50.0), 0);
        assert_eq!(f.intervals, vec![(120, 240)]);
    }
}
