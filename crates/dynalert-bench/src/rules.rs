//! `bench rules`: per-tenant rules against the dynamic rule set, with a real Prometheus.
//!
//! For each tenant count the fixture is generated once; then each rule set gets its own fresh
//! Prometheus (own port, own data directory) scraping the same endpoint. The run waits on
//! conditions, never on fixed sleeps: rules loaded, targets up, every group evaluated
//! `warm_cycles` times on data, then measures over `measure_cycles` evaluation cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::fixture::{Firing, Fixture, Variant};
use crate::metrics::{self, SelfMetrics};
use dynalert_probe::http::Client;
use dynalert_probe::port::EXPORTER_TOOLKIT;

use crate::process::{wait_for, Guard, MemoryGuard};
use crate::serve::Endpoint;
use crate::{prom_duration, BenchError, Result};

/// The engine that evaluates the rule sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's Prometheus scrapes and evaluates.
    Prometheus,
    /// Single-node VictoriaMetrics scrapes, vmalert evaluates against it and writes recorded
    /// results back by remote write.
    Vmalert,
}

const ENGINES: [(Engine, &str); 2] = [
    (Engine::Prometheus, "prometheus"),
    (Engine::Vmalert, "vmalert"),
];

impl Engine {
    pub fn parse(s: &str) -> Option<Engine> {
        ENGINES.iter().find(|e| e.1 == s).map(|e| e.0)
    }

    pub fn name(self) -> &'static str {
        ENGINES.iter().find(|e| e.0 == self).expect("listed").1
    }
}

/// Options of a `bench rules` run.
#[derive(Debug, Clone)]
pub struct Options {
    pub tenants: Vec<usize>,
    pub keys: usize,
    pub interval: Duration,
    pub warm_cycles: u32,
    pub measure_cycles: u32,
    pub out: PathBuf,
    pub variants: Vec<Variant>,
    /// Run the per-tenant set too (off only to compare dynamic variants faster).
    pub per_tenant: bool,
    pub prometheus: PathBuf,
    pub promtool: PathBuf,
    /// Which engines evaluate every set, in turn, on the same fixture.
    pub engines: Vec<Engine>,
    /// `victoria-metrics` and `vmalert` (used with [`Engine::Vmalert`]).
    pub victoria_metrics: PathBuf,
    pub vmalert: PathBuf,
    /// Longest wait for the warm-up, and for the measured cycles beyond their nominal length,
    /// before a set is declared saturated and measured over the time it had.
    pub saturation_limit: Duration,
    /// Print progress lines to stderr.
    pub progress: bool,
    /// Smallest `MemAvailable` (bytes) left to the rest of the machine: below it the engine's
    /// servers are stopped and the set is reported as not fitting
    /// ([`crate::process::MEMORY_FLOOR`] by default).
    pub memory_floor: u64,
    /// Save Prometheus' CPU profile over the measured cycles of every set
    /// (`prometheus-cpu.pprof` in the set's directory; `go tool pprof -top FILE` reads it).
    pub profile: bool,
}

/// The file [`Options::profile`] writes in a set's directory.
pub const PROFILE_FILE: &str = "prometheus-cpu.pprof";

/// Measurements of one rule set at one tenant count.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SetResult {
    /// `per-tenant` or `dynamic/<variant>`.
    pub set: String,
    pub tenants: usize,
    pub keys: usize,
    pub rules: usize,
    pub groups: usize,
    pub rule_file_bytes: u64,
    /// Wall time of `promtool check rules` on the rule file.
    pub promtool_check_s: f64,
    /// From process start to every rule loaded (`prometheus_rule_group_rules`).
    pub load_s: f64,
    /// Median over the measured cycles of the sum of `prometheus_rule_group_last_duration_seconds`.
    pub eval_ms_per_cycle: f64,
    /// Largest single group's last duration.
    pub max_group_ms: f64,
    /// Missed iterations (`prometheus_rule_group_iterations_missed_total`) during measurement.
    pub missed: f64,
    /// Missed iterations since start.
    pub missed_total: f64,
    /// Mean of `prometheus_rule_evaluation_duration_seconds` over the measurement, per rule.
    pub rule_eval_avg_us: f64,
    /// Prometheus CPU (`process_cpu_seconds_total`) per wall second during measurement.
    pub cpu_cores: f64,
    /// `process_resident_memory_bytes` at the end of the measurement.
    pub rss_bytes: f64,
    pub head_series: f64,
    /// Evaluation time per cycle divided by tenants × keys.
    pub us_per_tenant_key: f64,
    /// No missed iteration during measurement and every group faster than the interval.
    pub keeps_up: bool,
    pub firing: usize,
    /// Firing set equal to the set derived from the fixture definition.
    pub answers_match: bool,
    /// Every group evaluated on data within the saturation limit. When false, Prometheus could
    /// not evaluate every group within the limit: the figures cover the time it had, and its
    /// firing set is incomplete by construction (reported, not compared).
    #[serde(default = "yes")]
    pub steady: bool,
    pub measured_s: f64,
    /// Dynamic sets only: last evaluation time (ms) by kind of rule, from `/api/v1/rules`.
    #[serde(default)]
    pub rule_costs_ms: BTreeMap<String, f64>,
    /// Set when the engine's servers were stopped because the machine ran short of memory
    /// (see [`Options::memory_floor`]): why, and their RSS then. No other figure is measured.
    #[serde(default)]
    pub did_not_fit: Option<String>,
    /// Set when the engine could not scrape every target within the wait (the scrape of one
    /// target takes longer than the scrape timeout): which targets, and their last error. No
    /// other figure is measured.
    #[serde(default)]
    pub not_scraped: Option<String>,
    /// `/proc/loadavg` when the measurement ended (the machine may be shared).
    #[serde(default)]
    pub load_average: String,
    /// Wall time of the whole set, from start to stop of its servers.
    #[serde(default)]
    pub wall_s: f64,
}

impl SetResult {
    /// `did not fit` or `not scraped` when the set was stopped before any measurement.
    pub fn stopped(&self) -> Option<&'static str> {
        self.did_not_fit
            .is_some()
            .then_some("did not fit")
            .or(self.not_scraped.is_some().then_some("not scraped"))
    }
}

/// All sets at one tenant count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeResult {
    pub tenants: usize,
    pub expected_firing: usize,
    pub sets: Vec<SetResult>,
    /// Human-readable differences, empty when every set fired exactly the expected alerts.
    pub differences: Vec<String>,
    /// Sets not run at this size, with the reason.
    #[serde(default)]
    pub skipped: Vec<String>,
    /// `/proc/loadavg` when this size started.
    #[serde(default)]
    pub load_average: String,
}

/// A complete run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RulesReport {
    pub command: String,
    pub machine: String,
    pub prometheus_version: String,
    pub interval_s: f64,
    /// Cores available to Prometheus (the CPU capacity line of the plot).
    #[serde(default)]
    pub cores: usize,
    pub keys: usize,
    pub warm_cycles: u32,
    pub measure_cycles: u32,
    pub sizes: Vec<SizeResult>,
}

impl RulesReport {
    pub fn all_answers_match(&self) -> bool {
        self.sizes.iter().all(|s| s.differences.is_empty())
    }
}

/// Cores this machine offers (the CPU capacity of a Prometheus run here).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn yes() -> bool {
    true
}

/// `/proc/loadavg` without its trailing newline (empty where it cannot be read).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// RSS of the per-tenant set on Prometheus per tenant (20 keys): 8,992 MiB at 20,000 tenants,
/// measured with this bench (`docs/performance.md`, "Rule evaluation at scale").
pub const PER_TENANT_RSS_PER_TENANT: u64 = 8_992 * 1_048_576 / 20_000;

/// Why the per-tenant set is not run at `n` tenants × `keys`, if it is not: its measured
/// memory per tenant, scaled to `n` and `keys`, would not fit in `available` bytes minus
/// `floor`.
pub fn per_tenant_skip_reason(n: usize, keys: usize, available: u64, floor: u64) -> Option<String> {
    let need = PER_TENANT_RSS_PER_TENANT as f64 * n as f64 * keys as f64 / 20.0;
    let room = available.saturating_sub(floor) as f64;
    (need > room).then(|| {
        format!(
            "per-tenant: not run; its Prometheus needs about {:.1} GiB at {n} tenants × {keys} keys ({} KiB per tenant measured at 20,000) and {:.1} GiB are available above the {:.0} GiB floor",
            need / 1073741824.0,
            PER_TENANT_RSS_PER_TENANT >> 10,
            room / 1073741824.0,
            floor as f64 / 1073741824.0
        )
    })
}

fn unix_now() -> f64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.map_or(0.0, |d| d.as_secs_f64())
}

/// Runs the whole benchmark and returns the report (the caller writes it). Differences in
/// firing sets are recorded in the report, not returned as an error, so that the figures are
/// still written; callers must check [`RulesReport::all_answers_match`].
pub fn run(opts: &Options, command: String) -> Result<RulesReport> {
    fs_err::create_dir_all(&opts.out)?;
    let mut report = RulesReport {
        command,
        machine: machine_description(),
        prometheus_version: opts
            .engines
            .iter()
            .map(|e| match e {
                Engine::Prometheus => version_line(&opts.prometheus),
                Engine::Vmalert => format!(
                    "{} + {}",
                    crate::vm::version_line(&opts.victoria_metrics),
                    crate::vm::version_line(&opts.vmalert)
                ),
            })
            .collect::<Vec<_>>()
            .join("; "),
        interval_s: opts.interval.as_secs_f64(),
        cores: available_cores(),
        keys: opts.keys,
        warm_cycles: opts.warm_cycles,
        measure_cycles: opts.measure_cycles,
        sizes: vec![],
    };
    for &n in &opts.tenants {
        report.sizes.push(run_size(opts, n)?);
        // Keep what was measured so far even if a later size fails.
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        fs_err::write(opts.out.join("rules.partial.json"), json + "\n")?;
    }
    Ok(report)
}

fn progress(opts: &Options, msg: &str) {
    if opts.progress {
        eprintln!("bench: {msg}");
    }
}

fn run_size(opts: &Options, n: usize) -> Result<SizeResult> {
    let dir = opts.out.join(format!("tenants-{n}"));
    if dir.exists() {
        fs_err::remove_dir_all(&dir)?;
    }
    fs_err::create_dir_all(&dir)?;
    let size_load = load_average();
    progress(
        opts,
        &format!("{n} tenants: generating fixture (load average {size_load})"),
    );
    let mut skipped = vec![];
    let run_per_tenant = opts.per_tenant
        && match per_tenant_skip_reason(
            n,
            opts.keys,
            crate::process::mem_available().unwrap_or(0),
            opts.memory_floor,
        ) {
            Some(why) => {
                progress(opts, &why);
                skipped.push(why);
                false
            }
            None => true,
        };
    let fixture = Fixture::new(n, opts.keys);
    let conf_d = dir.join("conf.d");
    fixture.write_conf_d(&conf_d)?;
    let thresholds = Fixture::render_thresholds(&conf_d)?;
    let per_tenant = run_per_tenant
        .then(|| fixture.per_tenant_rules(&thresholds))
        .transpose()?;
    let expected = fixture.expected_firing();
    let mut bodies = BTreeMap::new();
    let shards = source_shards(n);
    for i in 0..shards {
        let lo = i * SOURCE_SHARD_TENANTS;
        let hi = (lo + SOURCE_SHARD_TENANTS).min(n);
        bodies.insert(format!("/source/{i}"), fixture.source_body_of(lo..hi));
    }
    bodies.insert("/thresholds".to_string(), thresholds);
    if opts.engines.contains(&Engine::Vmalert) {
        // vmalert requires a notifier: the endpoint accepts its notifications and drops them.
        bodies.insert(crate::vm::NOTIFIER_PATH.to_string(), String::new());
    }
    let endpoint = Endpoint::start(bodies)?;

    let mut sets: Vec<(String, String, usize, bool)> = Vec::new();
    if let Some((per_tenant, per_tenant_rules)) = per_tenant {
        sets.push(("per-tenant".into(), per_tenant, per_tenant_rules, false));
    }
    for &v in &opts.variants {
        let (text, count) = fixture.dynamic_rules(v);
        sets.push((format!("dynamic/{}", v.name()), text, count, true));
    }
    let mut results = vec![];
    let mut differences = vec![];
    for (name, text, rules, dynamic) in sets {
        let set_dir = dir.join(name.replace('/', "-"));
        fs_err::create_dir_all(&set_dir)?;
        let rule_file = set_dir.join("rules.yaml");
        fs_err::write(&rule_file, &text)?;
        drop(text);
        progress(opts, &format!("{n} tenants, {name}: {rules} rules"));
        for &engine in &opts.engines {
            let started = Instant::now();
            let mem = MemoryGuard::start(opts.memory_floor, Duration::from_millis(250));
            let outcome = match engine {
                Engine::Prometheus => run_set(
                    opts, &name, n, rules, &set_dir, &rule_file, &endpoint, dynamic, &mem,
                ),
                Engine::Vmalert => {
                    let check_s = promtool_check(opts, &rule_file)?;
                    let set_dir = set_dir.join("vmalert");
                    fs_err::create_dir_all(&set_dir)?;
                    let r = crate::vm::run_set(
                        opts, &name, n, rules, &set_dir, &rule_file, &endpoint, dynamic, check_s,
                        &mem,
                    );
                    let _ = fs_err::remove_dir_all(set_dir.join("data"));
                    r
                }
            };
            let tripped = mem.tripped();
            drop(mem);
            let set = match engine {
                Engine::Prometheus => name.clone(),
                Engine::Vmalert => format!("vmalert {name}"),
            };
            let (mut result, firing) = match (outcome, tripped) {
                (_, Some(why)) => {
                    let why = format!(
                        "{why}, {:.0} s after the start of its servers",
                        started.elapsed().as_secs_f64()
                    );
                    progress(opts, &format!("{n} tenants, {set}: did not fit: {why}"));
                    (
                        did_not_fit(opts, set, n, rules, &rule_file, why)?,
                        BTreeSet::new(),
                    )
                }
                (Ok(r), None) => r,
                (Err(BenchError::NotScraped(why)), None) => {
                    progress(opts, &format!("{n} tenants, {set}: not scraped: {why}"));
                    let mut r = did_not_fit(opts, set, n, rules, &rule_file, String::new())?;
                    r.did_not_fit = None;
                    r.not_scraped = Some(why);
                    (r, BTreeSet::new())
                }
                (Err(e), None) => return Err(e),
            };
            result.wall_s = started.elapsed().as_secs_f64();
            result.load_average = load_average();
            if result.did_not_fit.is_some() || result.not_scraped.is_some() {
                results.push(result);
                continue;
            }
            result.answers_match = firing == expected;
            if !result.answers_match && result.steady {
                differences.push(describe_difference(&result.set, &expected, &firing));
            }
            progress(
                opts,
                &format!(
                    "{n} tenants, {}: eval {:.1} ms/cycle, cpu {:.0} ms/cycle, load {:.1} s, rss {:.0} MiB, firing {} (expected {}), missed {}, keeps up {}, {:.0} s (load average {})",
                    result.set,
                    result.eval_ms_per_cycle,
                    result.cpu_cores * opts.interval.as_secs_f64() * 1000.0,
                    result.load_s,
                    result.rss_bytes / 1048576.0,
                    result.firing,
                    expected.len(),
                    result.missed,
                    result.keeps_up,
                    result.wall_s,
                    result.load_average
                ),
            );
            results.push(result);
        }
        // Prometheus' data directory is large at 20,000 tenants; the rule file and config stay.
        let _ = fs_err::remove_dir_all(set_dir.join("data"));
    }
    // The per-tenant rule file is the largest artefact; keep it only for small runs.
    if n > 1000 {
        let _ = fs_err::remove_file(dir.join("per-tenant").join("rules.yaml"));
        let _ = fs_err::remove_dir_all(&conf_d);
    }
    Ok(SizeResult {
        tenants: n,
        expected_firing: expected.len(),
        sets: results,
        differences,
        skipped,
        load_average: size_load,
    })
}

/// The result of a set whose servers were stopped by the memory guard.
fn did_not_fit(
    opts: &Options,
    set: String,
    n: usize,
    rules: usize,
    rule_file: &Path,
    why: String,
) -> Result<SetResult> {
    Ok(SetResult {
        set,
        tenants: n,
        keys: opts.keys,
        rules,
        rule_file_bytes: fs_err::metadata(rule_file)?.len(),
        did_not_fit: Some(why),
        ..SetResult::default()
    })
}

fn describe_difference(name: &str, expected: &BTreeSet<Firing>, got: &BTreeSet<Firing>) -> String {
    // The first five of `a` not in `b`.
    let sample = |a: &BTreeSet<Firing>, b| {
        let first: Vec<String> = a.difference(b).take(5).map(|f| format!("{f:?}")).collect();
        first.join(", ")
    };
    format!(
        "{name}: {} firing, {} expected; {} missing (e.g. {}), {} unexpected (e.g. {})",
        got.len(),
        expected.len(),
        expected.difference(got).count(),
        sample(expected, got),
        got.difference(expected).count(),
        sample(got, expected)
    )
}

#[allow(clippy::too_many_arguments)]
fn run_set(
    opts: &Options,
    name: &str,
    n: usize,
    rules: usize,
    set_dir: &Path,
    rule_file: &Path,
    endpoint: &Endpoint,
    dynamic: bool,
    mem: &MemoryGuard,
) -> Result<(SetResult, BTreeSet<Firing>)> {
    let rule_file_bytes = fs_err::metadata(rule_file)?.len();
    let promtool_check_s = promtool_check(opts, rule_file)?;

    let interval = prom_duration(opts.interval);
    let (jobs_yaml, jobs) = scrape_jobs(endpoint, dynamic, source_shards(n));
    let config = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\nrule_files: [\"{}\"]\n{jobs_yaml}",
        rule_file.display(),
    );
    let config_file = set_dir.join("prometheus.yml");
    fs_err::write(&config_file, config)?;
    let mut cmd = Command::new(&opts.prometheus);
    cmd.arg(format!("--config.file={}", config_file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            set_dir.join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--storage.tsdb.retention.time=2h");
    let spawn_at = Instant::now();
    let prom = Guard::spawn("prometheus", cmd, &set_dir.join("prometheus.log"))?;
    mem.watch(&prom);
    let base = format!(
        "http://127.0.0.1:{}",
        prom.port(EXPORTER_TOOLKIT, Duration::from_secs(60))?
    );

    // 1. Rule files loaded.
    let metrics_url = format!("{base}/metrics");
    let load_deadline = Duration::from_secs(600 + (rules as u64) / 200);
    let expected_rules = rules as f64;
    wait_for(
        "every rule to be loaded",
        load_deadline,
        Duration::from_millis(200),
        || {
            prom.check_alive()?;
            Ok(metrics::try_get_text(&metrics_url)
                .and_then(|t| SelfMetrics::parse(&t).ok())
                .filter(|m| m.rules >= expected_rules)
                .map(|_| ()))
        },
    )?;
    let load_s = spawn_at.elapsed().as_secs_f64();

    // 2. Data scraped: every target up.
    let poll = (opts.interval / 2).max(Duration::from_millis(250));
    let mut alive = || -> Result<()> { Ok(prom.check_alive()?) };
    wait_until_scraped(&base, jobs, opts, poll, &mut alive)?;
    let data_at = unix_now();

    // 3. Warm-up: every group evaluated `warm_cycles` times on data.
    let secs = opts.interval.as_secs_f64();
    let warm_until = data_at + f64::from(opts.warm_cycles) * secs;
    let warm = wait_for(
        "rule groups to evaluate on scraped data",
        opts.saturation_limit + opts.interval * opts.warm_cycles,
        poll,
        || {
            let text = metrics::read_text(&metrics_url, &mut alive)?;
            let m = SelfMetrics::parse(&text)?;
            Ok((m.min_last_eval_ts >= warm_until).then_some(()))
        },
    );
    let mut steady = crate::finished(warm)?;
    let measure_limit = opts.interval * opts.measure_cycles + opts.saturation_limit / 2;

    // 4. Measurement, with Prometheus' own CPU profile over the same cycles when asked for.
    let profile = opts.profile.then(|| {
        let seconds = (secs * f64::from(opts.measure_cycles)).ceil().max(1.0);
        let url = format!("{base}/debug/pprof/profile?seconds={seconds}");
        let file = set_dir.join(PROFILE_FILE);
        let client = Client::new(Duration::from_secs_f64(seconds) + metrics::READ_DEADLINE);
        std::thread::spawn(move || -> anyhow::Result<()> {
            Ok(fs_err::write(file, client.get_bytes(&url)?)?)
        })
    });
    let a_at = unix_now();
    let a = SelfMetrics::parse(&metrics::read_text(&metrics_url, &mut alive)?)?;
    let until = a_at + f64::from(opts.measure_cycles) * secs;
    let mut samples = vec![a.last_duration_sum];
    let mut max_group: f64 = a.last_duration_max;
    let mut last_sample_at = Instant::now();
    let measure_start = Instant::now();
    let (b, b_at) = wait_for("the measurement cycles", measure_limit * 2, poll, || {
        let m = SelfMetrics::parse(&metrics::read_text(&metrics_url, &mut alive)?)?;
        let now = unix_now();
        if last_sample_at.elapsed() >= opts.interval {
            samples.push(m.last_duration_sum);
            max_group = max_group.max(m.last_duration_max);
            last_sample_at = Instant::now();
        }
        if m.min_last_eval_ts >= until {
            return Ok(Some((m, now)));
        }
        if measure_start.elapsed() >= measure_limit {
            steady = false;
            return Ok(Some((m, now)));
        }
        Ok(None)
    })?;
    samples.push(b.last_duration_sum);
    max_group = max_group.max(b.last_duration_max);
    let firing = metrics::retry(metrics::READ_DEADLINE, &mut alive, || {
        metrics::firing(&base)
    })?;
    let rule_costs_ms = if dynamic {
        metrics::retry(metrics::READ_DEADLINE, &mut alive, || {
            metrics::rule_costs(&base)
        })?
    } else {
        BTreeMap::new()
    };
    if let Some(profile) = profile {
        let saved = profile.join().expect("the profile thread does not panic");
        saved.map_err(|e| BenchError::Http(format!("Prometheus' CPU profile: {e:#}")))?;
    }
    let rss_bytes = b.rss.max(prom.rss_bytes().unwrap_or(0) as f64);
    drop(prom);

    samples.sort_by(|x, y| x.total_cmp(y));
    let eval_s = samples[samples.len() / 2];
    let wall = (b_at - a_at).max(1e-9);
    let missed = b.missed - a.missed;
    let evals = b.rule_eval_count - a.rule_eval_count;
    let result = SetResult {
        set: name.to_string(),
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
        rule_eval_avg_us: if evals > 0.0 {
            (b.rule_eval_sum - a.rule_eval_sum) / evals * 1e6
        } else {
            0.0
        },
        cpu_cores: (b.cpu - a.cpu) / wall,
        rss_bytes,
        head_series: b.series,
        us_per_tenant_key: eval_s * 1e6 / (n * opts.keys).max(1) as f64,
        keeps_up: steady && missed == 0.0 && max_group < secs,
        firing: firing.len(),
        steady,
        measured_s: wall,
        rule_costs_ms,
        ..SetResult::default()
    };
    Ok((result, firing))
}

/// `promtool check rules` on the rule file; its wall time in seconds.
fn promtool_check(opts: &Options, rule_file: &Path) -> Result<f64> {
    let started = Instant::now();
    let check = Command::new(&opts.promtool)
        .arg("check")
        .arg("rules")
        .arg(rule_file)
        .output()
        .map_err(|e| BenchError::Process(format!("cannot run promtool: {e}")))?;
    let promtool_check_s = started.elapsed().as_secs_f64();
    if !check.status.success() {
        return Err(BenchError::Process(format!(
            "promtool check rules {} failed: {}",
            rule_file.display(),
            String::from_utf8_lossy(&check.stderr)
        )));
    }
    Ok(promtool_check_s)
}

fn version_line(prometheus: &Path) -> String {
    Command::new(prometheus)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let s = String::from_utf8_lossy(&o.stdout).to_string()
                + &String::from_utf8_lossy(&o.stderr);
            s.lines().next().map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// CPU model, core count and memory, from /proc.
pub fn machine_description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1048576.0))
        .unwrap_or_else(|| "? GiB".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem} RAM, load average {load} at start")
}

/// The `scrape_configs:` of a bench run (the observations, and the thresholds for the
/// dynamic sets, both from `endpoint`) and how many scrape jobs that is.
pub(crate) fn scrape_jobs(endpoint: &Endpoint, dynamic: bool, shards: usize) -> (String, f64) {
    let job = |name: &str, path: &str| {
        format!(
            "  - job_name: {name}\n    honor_labels: true\n    metrics_path: {path}\n    static_configs: [{{targets: [\"{}\"]}}]\n",
            endpoint.host_port()
        )
    };
    let mut yaml = "scrape_configs:\n".to_string();
    for i in 0..shards {
        yaml.push_str(&job(&format!("source-{i}"), &format!("/source/{i}")));
    }
    if dynamic {
        yaml.push_str(&job("threshold-exporter", "/thresholds"));
    }
    (yaml, (shards + usize::from(dynamic)) as f64)
}

/// Tenants per source scrape target. Sources are many exporters in practice; one target with
/// the observations of 100,000 tenants × 20 keys (2 million series) cannot be scraped within
/// a 15 s scrape timeout. The threshold exporter stays one target, as in production.
pub const SOURCE_SHARD_TENANTS: usize = 10_000;

/// Source scrape targets for `n` tenants.
pub fn source_shards(n: usize) -> usize {
    n.div_ceil(SOURCE_SHARD_TENANTS).max(1)
}

/// Waits until `jobs` scrape targets of the server at `base` (Prometheus or VictoriaMetrics)
/// are up; a server that does not get there in time is reported as not scraped, with the
/// targets that are down and their last errors.
pub(crate) fn wait_until_scraped(
    base: &str,
    jobs: f64,
    opts: &Options,
    poll: Duration,
    alive: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    // The first scrape of millions of new series is ingested long after its body was read.
    let up_limit = Duration::from_secs(120) + opts.interval * 4 + opts.saturation_limit;
    let up = wait_for("scrape targets to be up", up_limit, poll, || {
        alive()?;
        let up = metrics::retry(metrics::READ_DEADLINE, alive, || {
            metrics::query_value(base, "count(up == 1)")
        })?;
        Ok(up.filter(|v| *v >= jobs))
    });
    if let Err(BenchError::Timeout(..)) = up {
        return Err(BenchError::NotScraped(format!(
            "not every scrape target was up within {:.0} s: {}",
            up_limit.as_secs_f64(),
            targets_down(base)
        )));
    }
    up.map(|_| ())
}

/// Scrape targets that are not up, with their last error, from `/api/v1/targets` (served by
/// Prometheus and VictoriaMetrics alike).
pub(crate) fn targets_down(base: &str) -> String {
    let Some(text) = metrics::try_get_text(&format!("{base}/api/v1/targets")) else {
        return "targets not readable".into();
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let down: Vec<String> = v["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["health"] != "up")
        .map(|t| {
            format!(
                "`{}` {} ({})",
                t["labels"]["job"].as_str().unwrap_or("?"),
                t["health"].as_str().unwrap_or("?"),
                t["lastError"].as_str().unwrap_or("")
            )
        })
        .collect();
    if down.is_empty() {
        "every target up by then".into()
    } else {
        down.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn the_source_shards_carry_every_series_once() {
        assert_eq!(source_shards(0), 1);
        assert_eq!(source_shards(10_000), 1);
        assert_eq!(source_shards(10_001), 2);
        assert_eq!(source_shards(100_000), 10);
        let f = Fixture::new(25_000, 2);
        let parse = |t: &str| dynalert_probe::exposition::parse(t).unwrap();
        let whole: Vec<_> = parse(&f.source_body());
        let mut sharded = vec![];
        for i in 0..source_shards(25_000) {
            let lo = i * SOURCE_SHARD_TENANTS;
            let hi = (lo + SOURCE_SHARD_TENANTS).min(25_000);
            sharded.extend(parse(&f.source_body_of(lo..hi)));
        }
        assert_eq!(whole.len(), 25_000 * 2);
        let key = |v: &Vec<(String, BTreeMap<String, String>, f64)>| {
            let mut k: Vec<String> = v.iter().map(|(n, l, x)| format!("{n}{l:?}{x}")).collect();
            k.sort();
            k
        };
        assert_eq!(key(&whole), key(&sharded));
    }

    #[test]
    fn the_per_tenant_set_runs_only_where_its_measured_memory_fits() {
        // 20,000 tenants took 8,992 MiB: it fits in 22 GiB above a 3 GiB floor.
        assert_eq!(per_tenant_skip_reason(20_000, 20, 22 * GIB, 3 * GIB), None);
        // 50,000 tenants need about 22 GiB: not in 22 GiB available.
        let why = per_tenant_skip_reason(50_000, 20, 22 * GIB, 3 * GIB).unwrap();
        assert!(why.contains("about 22.0 GiB"), "{why}");
        assert!(why.contains("19.0 GiB are available"), "{why}");
        // Fewer keys per tenant, less memory.
        assert_eq!(per_tenant_skip_reason(50_000, 5, 22 * GIB, 3 * GIB), None);
        // Nothing available: skipped.
        assert!(per_tenant_skip_reason(100, 20, 0, 3 * GIB).is_some());
    }
}
