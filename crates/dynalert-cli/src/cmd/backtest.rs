//! `dynalert backtest`: what a configuration would have done over past data.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, TimeZone, Utc};
use dynalert_model::{effective_tenant, Config, Severity};
use serde::Serialize;

use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Replay past observations against a conf.d: how often each key would have fired"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Replay past observations against a conf.d: how often each key would have fired.

Reads the observation each rule pack compares with a catalogue key (the expression of its
`tenant:<signal>` recording rule, found through `tenant:alert_over_threshold:<key>` in `--packs`)
from Prometheus with `query_range` (chunked, progress on stderr), applies the thresholds as the
exporter would have served them at each step (tiers, schedules, expiry, maintenance) and the
pack alert's `for:`, and reports per tenant, key and tier: how many times it would have fired, the
total firing time, and the first and last firing. With `--against OLD_DIR` it also reports the
difference to another configuration."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Last week of the lab, as text:
    dynalert backtest --prometheus http://127.0.0.1:9090 --from 2026-11-22T00:00:00Z --to 2026-11-29T00:00:00Z conf.d

  A threshold change against the current configuration, as JSON:
    dynalert backtest --prometheus http://127.0.0.1:9090 --from … --to … new-conf.d --against conf.d --format json

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
    f.fired = f.intervals.len();
    f.firing_seconds = f.intervals.iter().map(|(a, b)| b - a).sum();
    f.first = f
        .intervals
        .first()
        .and_then(|(a, _)| Utc.timestamp_opt(*a, 0).single());
    f.last = f
        .intervals
        .last()
        .and_then(|(a, _)| Utc.timestamp_opt(*a, 0).single());
    f
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
                .and_then(dynalert_config::values::parse_duration_secs)
                .unwrap_or(0),
        })
        .collect())
}

/// `query_range` in chunks of at most 10,000 steps; tenant -> step -> value.
pub fn fetch(
    prometheus: &str,
    expr: &str,
    from: i64,
    to: i64,
    step: i64,
    progress: &mut dyn FnMut(i64),
) -> anyhow::Result<BTreeMap<String, BTreeMap<i64, f64>>> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    let mut out: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    let chunk = step * 10_000;
    let mut start = from;
    while start <= to {
        let end = (start + chunk - step).min(to);
        let resp = agent
            .get(&format!(
                "{}/api/v1/query_range",
                prometheus.trim_end_matches('/')
            ))
            .query("query", expr)
            .query("start", &start.to_string())
            .query("end", &end.to_string())
            .query("step", &step.to_string())
            .call()
            .with_context(|| format!("query_range `{expr}` at `{prometheus}`"))?;
        let v: serde_json::Value = resp.into_json()?;
        if v["status"] != "success" {
            bail!("query_range `{expr}` failed: {}", v["error"]);
        }
        for r in v["data"]["result"].as_array().into_iter().flatten() {
            let Some(tenant) = r["metric"]["tenant"].as_str() else {
                continue;
            };
            let series = out.entry(tenant.to_string()).or_default();
            for p in r["values"].as_array().into_iter().flatten() {
                let t = p[0].as_f64().unwrap_or_default().round() as i64;
                if let Some(val) = p[1].as_str().and_then(|s| s.parse::<f64>().ok()) {
                    series.insert(t, val);
                }
            }
        }
        progress(end);
        start = end + step;
    }
    Ok(out)
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
}

/// Replays `config` (and `against`) over the observations.
pub fn rows(
    config: &Config,
    against: Option<&Config>,
    alerts: &[KeyAlert],
    observations: &BTreeMap<String, BTreeMap<String, BTreeMap<i64, f64>>>,
    steps: &[i64],
) -> Vec<Row> {
    let mut out = Vec::new();
    let empty = BTreeMap::new();
    for a in alerts {
        let Some(obs) = observations.get(&a.key) else {
            continue;
        };
        let now = served(config, &a.key, steps);
        let old = against.map(|c| served(c, &a.key, steps));
        let mut pairs: Vec<&(String, Severity)> = now.keys().collect();
        if let Some(o) = &old {
            pairs.extend(o.keys());
        }
        pairs.sort();
        pairs.dedup();
        for (tenant, sev) in pairs {
            let series = obs.get(tenant).unwrap_or(&empty);
            let run = |m: &BTreeMap<(String, Severity), BTreeMap<i64, f64>>| {
                let thr = m.get(&(tenant.clone(), *sev));
                replay(
                    steps,
                    series,
                    &|t| thr.and_then(|x| x.get(&t).copied()),
                    a.for_secs,
                )
            };
            let firing = run(&now);
            let against = old.as_ref().map(run);
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
        Utc.timestamp_opt(steps[0], 0)
            .single()
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        Utc.timestamp_opt(t1 as i64, 0)
            .single()
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "<text x=\"4\" y=\"{}\">{hi}</text><text x=\"4\" y=\"{}\">{lo}</text>",
        top + 4.0,
        top + plot_h
    );
    let points: Vec<String> = observation
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
        .collect();
    let _ = writeln!(
        s,
        "<polyline class=\"observation\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"{}\"/>",
        points.join(" ")
    );
    for (sev, m) in thresholds {
        let mut pts = Vec::new();
        for (t, v) in m.iter() {
            pts.push(format!("{:.1},{:.1}", x(*t), y(*v)));
            pts.push(format!(
                "{:.1},{:.1}",
                x(*t + steps.get(1).map_or(60, |n| n - steps[0])),
                y(*v)
            ));
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
    let alerts = key_alerts(&args.packs)?;
    let catalogue = config.platform.catalogue();
    let alerts: Vec<KeyAlert> = alerts
        .into_iter()
        .filter(|a| catalogue.contains(a.key.as_str()))
        .collect();
    let (from, to, step) = (args.from.timestamp(), args.to.timestamp(), args.step);
    let from = from - from.rem_euclid(step);
    let steps: Vec<i64> = (0..)
        .map(|i| from + i * step)
        .take_while(|t| *t <= to)
        .collect();
    let mut observations = BTreeMap::new();
    for (i, a) in alerts.iter().enumerate() {
        let mut progress = |done: i64| {
            eprintln!(
                "backtest: {}/{} `{}`: {:.0}%",
                i + 1,
                alerts.len(),
                a.key,
                100.0 * (done - from) as f64 / (to - from).max(1) as f64
            );
        };
        let data = fetch(
            &args.prometheus,
            &a.observation,
            from,
            to,
            step,
            &mut progress,
        )?;
        observations.insert(a.key.clone(), data);
    }
    let rows = rows(&config, against.as_ref(), &alerts, &observations, &steps);
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
                std::fs::write(
                    &path,
                    render_svg(tenant, &a.key, &steps, obs, &thresholds, &mine),
                )
                .with_context(|| format!("cannot write `{}`", path.display()))?;
                written += 1;
            }
        }
        eprintln!("backtest: wrote {written} timelines to {}", dir.display());
    }
    if args.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "from": args.from, "to": args.to, "step_seconds": step, "rows": rows
            }))?
        );
    } else {
        print!("{}", render_text(&rows));
    }
    let differs = rows.iter().any(|r| {
        r.against
            .as_ref()
            .is_some_and(|a| a.intervals != r.firing.intervals)
    });
    Ok(if differs { EXIT_FINDINGS } else { 0 })
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
