//! `bench rules --engine vmalert`: the same rule file evaluated by vmalert against a
//! single-node VictoriaMetrics that scrapes the same endpoint.
//!
//! VictoriaMetrics scrapes the source and threshold bodies (its built-in `-promscrape.config`,
//! the same scrape configuration the Prometheus run uses), vmalert evaluates the rule file with
//! `-datasource.url` pointing at it and writes recording rule results back with
//! `-remoteWrite.url`, as in production. Evaluation cost is split between the two processes:
//! vmalert sends the queries, VictoriaMetrics executes them; CPU and RSS are reported for both
//! together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use dynalert_probe::exposition::parse as parse_exposition;
use dynalert_probe::port::Announce;

use crate::fixture::Firing;
use crate::metrics;
use crate::process::{wait_for, Guard, MemoryGuard};
use crate::rules::{Options, SetResult};
use crate::serve::Endpoint;
use crate::{prom_duration, Result};

/// The path of the endpoint that stands in for Alertmanager (vmalert requires a notifier).
pub const NOTIFIER_PATH: &str = "/api/v2/alerts";

/// Flags that make VictoriaMetrics answer instant queries as Prometheus does at this
/// interval: no 30 s latency offset for queries at "now", and a lookback of a few intervals
/// instead of the 5-minute default step (vmalert's results carry no staleness markers).
pub fn vm_query_flags(interval: Duration) -> Vec<String> {
    vec![
        "-search.latencyOffset=1s".into(),
        format!(
            "-search.maxStalenessInterval={}",
            prom_duration(interval * 3)
        ),
    ]
}

/// vmalert's own metrics, summed per group.
#[derive(Debug, Clone, Default)]
pub struct VmalertMetrics {
    pub groups: usize,
    /// Per group: (iterations, sum of iteration durations in seconds).
    pub per_group: BTreeMap<String, (f64, f64)>,
    pub missed: f64,
    pub cpu: f64,
    pub rss: f64,
}

impl VmalertMetrics {
    pub fn parse(text: &str) -> Result<VmalertMetrics> {
        let mut m = VmalertMetrics::default();
        for (name, labels, v) in parse_exposition(text)? {
            let group = labels.get("group").cloned().unwrap_or_default();
            match name.as_str() {
                "vmalert_iteration_duration_seconds_count" => {
                    m.per_group.entry(group).or_default().0 += v;
                }
                "vmalert_iteration_duration_seconds_sum" => {
                    m.per_group.entry(group).or_default().1 += v;
                }
                "vmalert_iteration_missed_total" => m.missed += v,
                "process_cpu_seconds_total" => m.cpu = v,
                "process_resident_memory_bytes" => m.rss = v,
                _ => {}
            }
        }
        m.groups = m.per_group.len();
        Ok(m)
    }

    /// The fewest iterations any group has completed.
    pub fn min_iterations(&self) -> f64 {
        if self.per_group.is_empty() {
            return 0.0;
        }
        self.per_group
            .values()
            .map(|(n, _)| *n)
            .fold(f64::INFINITY, f64::min)
    }
}

/// VictoriaMetrics' own CPU, RSS and active series (series seen in the current hour).
fn vm_self(text: &str) -> Result<(f64, f64, f64)> {
    let (mut cpu, mut rss, mut series) = (0.0, 0.0, 0.0);
    for (name, labels, v) in parse_exposition(text)? {
        match name.as_str() {
            "process_cpu_seconds_total" => cpu = v,
            "process_resident_memory_bytes" => rss = v,
            "vm_cache_entries"
                if labels.get("type").map(String::as_str) == Some("storage/hour_metric_ids") =>
            {
                series = v
            }
            _ => {}
        }
    }
    Ok((cpu, rss, series))
}

/// The rules vmalert has loaded, from `/api/v1/rules`.
fn loaded_rules(base: &str) -> Option<usize> {
    let groups = metrics::api(base).rules().ok()?;
    Some(groups.iter().map(|g| g.rules.len()).sum())
}

/// Version of a VictoriaMetrics binary: its `-version` line, else (Debian builds print
/// nothing) the version of the Debian package that ships it.
pub fn version_line(bin: &Path) -> String {
    let name = bin
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let own = Command::new(bin)
        .arg("-version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        })
        .filter(|l| !l.is_empty());
    own.or_else(|| {
        Command::new("dpkg-query")
            .args(["-W", "-f=${Version}", "victoria-metrics"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|v| !v.is_empty())
            .map(|v| format!("{name} (Debian victoria-metrics {v})"))
    })
    .unwrap_or_else(|| format!("{name} (unknown version)"))
}

/// Runs one rule set on VictoriaMetrics + vmalert and measures it.
#[allow(clippy::too_many_arguments)]
pub fn run_set(
    opts: &Options,
    name: &str,
    n: usize,
    rules: usize,
    set_dir: &Path,
    rule_file: &Path,
    endpoint: &Endpoint,
    dynamic: bool,
    promtool_check_s: f64,
    mem: &MemoryGuard,
) -> Result<(SetResult, BTreeSet<Firing>)> {
    let rule_file_bytes = fs_err::metadata(rule_file)?.len();
    let interval = prom_duration(opts.interval);
    let (jobs_yaml, jobs) =
        crate::rules::scrape_jobs(endpoint, dynamic, crate::rules::source_shards(n));
    let config = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n{jobs_yaml}"
    );
    let config_file = set_dir.join("scrape.yml");
    fs_err::write(&config_file, config)?;

    let mut cmd = Command::new(&opts.victoria_metrics);
    cmd.arg("-httpListenAddr=127.0.0.1:0")
        .arg(format!(
            "-storageDataPath={}",
            set_dir.join("data").display()
        ))
        .arg(format!("-promscrape.config={}", config_file.display()))
        .arg("-retentionPeriod=1d")
        .arg("-search.maxUniqueTimeseries=100000000")
        .arg("-search.maxQueryDuration=10m")
        .arg("-search.maxConcurrentRequests=32")
        // The threshold body at 20,000 tenants is larger than the 16 MB default.
        .arg("-promscrape.maxScrapeSize=1GB")
        .arg("-loggerLevel=WARN")
        .args(vm_query_flags(opts.interval));
    let vm = Guard::spawn(
        "victoria-metrics",
        cmd,
        &set_dir.join("victoria-metrics.log"),
    )?;
    mem.watch(&vm);
    let vm_base = format!(
        "http://127.0.0.1:{}",
        vm.port(Announce::Socket, Duration::from_secs(60))?
    );
    let poll = (opts.interval / 2).max(Duration::from_millis(250));
    wait_for(
        "VictoriaMetrics to be ready",
        Duration::from_secs(60),
        poll,
        || {
            vm.check_alive()?;
            Ok(metrics::try_get_text(&format!("{vm_base}/health")).map(|_| ()))
        },
    )?;
    // Data scraped: every target up.
    crate::rules::wait_until_scraped(&vm_base, jobs, opts, poll, &mut || Ok(vm.check_alive()?))?;

    let mut cmd = Command::new(&opts.vmalert);
    cmd.arg(format!("-rule={}", rule_file.display()))
        .arg(format!("-datasource.url={vm_base}"))
        .arg(format!("-remoteWrite.url={vm_base}"))
        .arg(format!("-notifier.url=http://{}", endpoint.host_port()))
        .arg("-httpListenAddr=127.0.0.1:0")
        .arg(format!("-evaluationInterval={interval}"))
        .arg(format!("-datasource.queryStep={interval}"))
        .arg("-disableAlertgroupLabel")
        .arg("-remoteWrite.flushInterval=1s")
        .arg("-remoteWrite.maxQueueSize=100000000")
        .arg("-remoteWrite.maxBatchSize=10000")
        .arg("-remoteWrite.concurrency=4")
        .arg("-loggerLevel=WARN");
    let spawn_at = Instant::now();
    let va = Guard::spawn("vmalert", cmd, &set_dir.join("vmalert.log"))?;
    mem.watch(&va);
    let mut alive = || -> Result<()> {
        va.check_alive()?;
        Ok(vm.check_alive()?)
    };
    let base = format!(
        "http://127.0.0.1:{}",
        va.port(Announce::Socket, Duration::from_secs(60))?
    );
    let metrics_url = format!("{base}/metrics");
    let load_deadline = Duration::from_secs(600 + (rules as u64) / 200);
    wait_for(
        "every rule to be loaded",
        load_deadline,
        Duration::from_millis(200),
        || {
            alive()?;
            Ok(loaded_rules(&base).filter(|r| *r >= rules).map(|_| ()))
        },
    )?;
    let load_s = spawn_at.elapsed().as_secs_f64();

    // Warm-up: every group evaluated `warm_cycles` times, plus two more: a recorded result
    // reaches the next group through remote write and a scrape-free ingestion path, one
    // evaluation later than in Prometheus.
    let secs = opts.interval.as_secs_f64();
    let warm_target = f64::from(opts.warm_cycles + 2);
    let warm = wait_for(
        "rule groups to evaluate on scraped data",
        opts.saturation_limit + opts.interval * (opts.warm_cycles + 2),
        poll,
        || {
            let text = metrics::read_text(&metrics_url, &mut alive)?;
            let m = VmalertMetrics::parse(&text)?;
            Ok((m.groups > 0 && m.min_iterations() >= warm_target).then_some(()))
        },
    );
    let mut steady = crate::finished(warm)?;
    // Each level of recording rules reaches the next one through remote write, and
    // VictoriaMetrics makes a series it has never seen searchable only after a short delay:
    // the firing set completes several evaluations later than on Prometheus. Measure once it
    // has stopped changing over three consecutive evaluations.
    if steady {
        let mut last: Option<usize> = None;
        let mut same = 0;
        let settled = wait_for(
            "the firing set to settle",
            opts.saturation_limit,
            opts.interval,
            || {
                let n = metrics::retry(metrics::READ_DEADLINE, &mut alive, || {
                    metrics::firing(&base)
                })?
                .len();
                let unchanged = last == Some(n) && n > 0;
                same = if unchanged { same + 1 } else { 0 };
                last = Some(n);
                Ok((same >= 3).then_some(()))
            },
        );
        steady = crate::finished(settled)?;
    }
    let measure_limit = opts.interval * opts.measure_cycles + opts.saturation_limit / 2;

    let a_at = Instant::now();
    let vm_metrics_url = format!("{vm_base}/metrics");
    let a = VmalertMetrics::parse(&metrics::read_text(&metrics_url, &mut alive)?)?;
    let (vm_cpu_a, _, _) = vm_self(&metrics::read_text(&vm_metrics_url, &mut alive)?)?;
    let target = a.min_iterations() + f64::from(opts.measure_cycles);
    let b = wait_for("the measurement cycles", measure_limit * 2, poll, || {
        let m = VmalertMetrics::parse(&metrics::read_text(&metrics_url, &mut alive)?)?;
        if m.min_iterations() >= target {
            return Ok(Some(m));
        }
        if a_at.elapsed() >= measure_limit {
            steady = false;
            return Ok(Some(m));
        }
        Ok(None)
    })?;
    let wall = a_at.elapsed().as_secs_f64().max(1e-9);
    let (vm_cpu_b, vm_rss, series) = vm_self(&metrics::read_text(&vm_metrics_url, &mut alive)?)?;
    let firing = metrics::retry(metrics::READ_DEADLINE, &mut alive, || {
        metrics::firing(&base)
    })?;
    let rss_bytes = b.rss.max(va.rss_bytes().unwrap_or(0) as f64)
        + vm_rss.max(vm.rss_bytes().unwrap_or(0) as f64);
    drop(va);
    drop(vm);

    // Per group: mean duration of the iterations during the measurement.
    let mut eval_s = 0.0;
    let mut max_group: f64 = 0.0;
    let mut evals = 0.0;
    for (g, (n_b, s_b)) in &b.per_group {
        let (n_a, s_a) = a.per_group.get(g).copied().unwrap_or((0.0, 0.0));
        let dn = n_b - n_a;
        if dn > 0.0 {
            let mean = (s_b - s_a) / dn;
            eval_s += mean;
            max_group = max_group.max(mean);
            evals += dn;
        }
    }
    let missed = b.missed - a.missed;
    let result = SetResult {
        set: format!("vmalert {name}"),
        tenants: n,
        keys: opts.keys,
        rules,
        groups: b.groups,
        rule_file_bytes,
        promtool_check_s,
        load_s,
        eval_ms_per_cycle: eval_s * 1000.0,
        max_group_ms: max_group * 1000.0,
        missed,
        missed_total: b.missed,
        rule_eval_avg_us: if evals > 0.0 && rules > 0 {
            eval_s * 1e6 / rules as f64
        } else {
            0.0
        },
        cpu_cores: ((b.cpu - a.cpu) + (vm_cpu_b - vm_cpu_a)) / wall,
        rss_bytes,
        head_series: series,
        us_per_tenant_key: eval_s * 1e6 / (n * opts.keys).max(1) as f64,
        keeps_up: steady && missed == 0.0 && max_group < secs,
        firing: firing.len(),
        steady,
        measured_s: wall,
        ..SetResult::default()
    };
    Ok((result, firing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmalert_metrics_are_summed_per_group() {
        let text = "vmalert_iteration_duration_seconds_sum{group=\"a\"} 2\n\
                    vmalert_iteration_duration_seconds_count{group=\"a\"} 4\n\
                    vmalert_iteration_duration_seconds_sum{group=\"b\"} 1\n\
                    vmalert_iteration_duration_seconds_count{group=\"b\"} 3\n\
                    vmalert_iteration_missed_total{group=\"a\"} 1\n\
                    vmalert_iteration_missed_total{group=\"b\"} 0\n\
                    process_cpu_seconds_total 7.5\n";
        let m = VmalertMetrics::parse(text).unwrap();
        assert_eq!(m.groups, 2);
        assert_eq!(m.min_iterations(), 3.0);
        assert_eq!(m.missed, 1.0);
        assert_eq!(m.cpu, 7.5);
        assert_eq!(m.per_group["a"], (4.0, 2.0));
        assert_eq!(VmalertMetrics::default().min_iterations(), 0.0);
    }
}
