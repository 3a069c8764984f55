//! `dynalert backtest` against a real Prometheus holding a backfilled history
//! (`promtool tsdb create-blocks-from openmetrics`). Expectations are derived by hand from
//! the history below and the MariaDB pack's `for: 5m`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use dynalert_cli::cmd::backtest;
use dynalert_cli::cmd::backtest::remote;
use dynalert_cli::cmd::backtest::Observations;
use dynalert_model::Severity;
use dynalert_probe::http::is_ready;
use dynalert_probe::port::EXPORTER_TOOLKIT;
use dynalert_probe::process::Guard;
use dynalert_probe::wait_for;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Backfills the OpenMetrics text `om` into a TSDB under `dir` with promtool and serves it
/// with a real Prometheus on a free port; the process is killed when the guard drops.
fn serve(dir: &Path, om: &str) -> (Guard, String) {
    let data = dir.join("data");
    dynalert_probe::process::backfill(om, &data).unwrap();

    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").unwrap();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--web.listen-address=127.0.0.1:0");
    let prom = Guard::spawn("prometheus", cmd, &dir.join("prometheus.log")).unwrap();
    let port = prom
        .port(EXPORTER_TOOLKIT, Duration::from_secs(60))
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_for("prometheus to be ready", Duration::from_secs(60), || {
        Ok(is_ready(&format!("{base}/-/ready")).then_some(()))
    })
    .unwrap();
    (prom, base)
}

const MIN: i64 = 60;

/// The packs' alerts on `mysql_connections`.
fn connection_alerts() -> Vec<backtest::KeyAlert> {
    let alerts = backtest::key_alerts(&root().join("rules/packs")).unwrap();
    alerts
        .into_iter()
        .filter(|a| a.key == "mysql_connections")
        .collect()
}

/// (tenant, tier) -> (firing intervals, firing intervals of `--against`), in minutes.
type Intervals = BTreeMap<(String, Severity), (Vec<(i64, i64)>, Vec<(i64, i64)>)>;

#[test]
fn backtest_replays_a_backfilled_history() {
    let dir = tempfile::tempdir().unwrap();
    // Two hours of history, whole minutes, ending an hour ago (backfilled blocks must not
    // overlap the head).
    let now = Utc::now().timestamp();
    let start = (now - 3 * 3600) - (now - 3 * 3600).rem_euclid(3600);
    let value_a = |m: i64| match m {
        0..30 => 60.0,
        30..60 => 100.0,
        60..90 => 130.0,
        _ => 60.0,
    };
    let value_b = |m: i64| if (40..50).contains(&m) { 90.0 } else { 10.0 };
    let mut om = String::from("# TYPE mysql_global_status_threads_connected gauge\n");
    for m in 0..=120 {
        let t = start + m * MIN;
        om.push_str(&format!(
            "mysql_global_status_threads_connected{{tenant=\"db-a\",instance=\"a\"}} {} {t}\n",
            value_a(m)
        ));
        om.push_str(&format!(
            "mysql_global_status_threads_connected{{tenant=\"db-b\",instance=\"b\"}} {} {t}\n",
            value_b(m)
        ));
    }
    om.push_str("# EOF\n");
    let (_prom, base) = serve(dir.path(), &om);

    let defaults = ("_defaults.yaml", "defaults:\n  mysql_connections: 80\n");
    let db_b = ("db-b.yaml", "tenants:\n  db-b: {}\n");
    let conf = conf_d(
        &dir.path().join("conf.d"),
        &[
            defaults,
            (
                "db-a.yaml",
                "tenants:\n  db-a:\n    mysql_connections: {warning: 70, critical: 120}\n",
            ),
            db_b,
        ],
    );
    let old = conf_d(
        &dir.path().join("old.d"),
        &[
            defaults,
            (
                "db-a.yaml",
                "tenants:\n  db-a:\n    mysql_connections: 50\n",
            ),
            db_b,
        ],
    );

    let at = Utc.timestamp_opt(start, 0).unwrap();
    let load = |d: &Path| (*dynalert_config::load_dir(d, at).unwrap().config).clone();
    let (config, against) = (load(&conf), load(&old));
    let alerts = connection_alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].for_secs, 300,
        "MariaDBHighConnections waits for: 5m"
    );
    let end = start + 120 * MIN;
    let steps: Vec<i64> = (0..=120).map(|m| start + m * MIN).collect();
    let now = backtest::served_segments(&config, &["mysql_connections"], start, end, MIN);
    let old = backtest::served_segments(&against, &["mysql_connections"], start, end, MIN);
    // The query leaves out what is under every threshold of both configurations (50).
    let floors = backtest::floors(&[&now, &old]);
    assert_eq!(floors["mysql_connections"], 50.0);
    let mut observations = BTreeMap::new();
    let mut progress = |_| {};
    let (data, stats) = backtest::fetch(
        &base,
        &alerts[0].observation,
        Some(floors["mysql_connections"]),
        start,
        end,
        MIN,
        // Chunks of 50 steps: three queries for 121 steps.
        50,
        &mut progress,
    )
    .unwrap();
    assert_eq!(stats.queries, 3);
    // Remote read, evaluated here, gives the same points.
    let remote::Probe::Streams(lookback) = remote::probe(&base).unwrap() else {
        panic!("prometheus streams remote read");
    };
    let matchers = remote::plain_selection(&alerts[0].observation).unwrap();
    let (remote_data, remote_stats) = remote::fetch(
        &base,
        &matchers,
        Some(floors["mysql_connections"]),
        (start, end, MIN),
        lookback,
        i64::MAX,
        &mut progress,
    )
    .unwrap();
    assert_eq!(remote_data, data);
    assert_eq!(remote_stats.samples, 2 * 121);
    // db-a is over 50 at every step, db-b only from minute 40 to 49.
    assert_eq!(data["db-a"].len(), 121);
    assert_eq!(
        data["db-b"].keys().copied().collect::<Vec<_>>(),
        (40..50).map(|m| start + m * MIN).collect::<Vec<_>>()
    );
    observations.insert("mysql_connections".to_string(), data);
    let rows = backtest::rows(&now, Some(&old), &alerts, &observations, (start, end, MIN));
    let rel = |f: &backtest::Firing| -> Vec<(i64, i64)> {
        let minutes = |(a, b): &(i64, i64)| ((a - start) / MIN, (b - start) / MIN);
        f.intervals.iter().map(minutes).collect()
    };
    let got: Intervals = rows
        .iter()
        .map(|r| {
            let against = r.against.as_ref().map(rel).unwrap_or_default();
            ((r.tenant.clone(), r.severity), (rel(&r.firing), against))
        })
        .collect();
    // db-a warning 70: over from minute 30 to 89, firing 5 minutes later, until 90.
    // critical 120: over 60..89, firing 65..90. The old configuration (warning 50): over
    // from minute 0 to the end, firing from 5 to the last step.
    // db-b (platform default 80): over 40..49, firing 45..50, the same in both.
    let want: Intervals = [
        ("db-a", Severity::Warning, vec![(35, 90)], vec![(5, 120)]),
        ("db-a", Severity::Critical, vec![(65, 90)], vec![]),
        ("db-b", Severity::Warning, vec![(45, 50)], vec![(45, 50)]),
    ]
    .into_iter()
    .map(|(tenant, tier, firing, against)| ((tenant.to_string(), tier), (firing, against)))
    .collect();
    assert_eq!(got, want);
    // The timeline of db-a: both tiers' thresholds, their firing intervals, and the
    // `--against` interval of the warning tier.
    let served = backtest::served(&config, "mysql_connections", &steps);
    let thresholds: Vec<(Severity, &BTreeMap<i64, f64>)> = served
        .iter()
        .filter(|((t, _), _)| t == "db-a")
        .map(|((_, s), m)| (*s, m))
        .collect();
    let mine: Vec<&backtest::Row> = rows.iter().filter(|r| r.tenant == "db-a").collect();
    let svg = backtest::render_svg(
        "db-a",
        "mysql_connections",
        &steps,
        &observations["mysql_connections"]["db-a"],
        &thresholds,
        &mine,
    );
    assert_eq!(svg.matches("<rect class=\"firing ").count(), 2);
    assert_eq!(svg.matches("<rect class=\"against warning\"").count(), 1);
    assert_eq!(svg.matches("<polyline class=\"threshold ").count(), 2);
    if let Ok(keep) = std::env::var("DYNALERT_BACKTEST_SVG") {
        std::fs::write(keep, &svg).unwrap();
    }
    let text = backtest::render_text(&rows);
    assert!(
        text.contains("db-a\tmysql_connections\twarning\t1\t55m00s"),
        "{text}"
    );
}

/// A conf.d at `dir` holding `files` (name, text).
fn conf_d(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.to_path_buf()
}

/// A small deterministic generator: numbers in `0..n`.
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

/// A messy history of three hours: 14 tenants, some with two series (the observation is their
/// maximum), samples every 15 s (with millisecond jitter), 37 s, 60 s or 300 s, series that
/// start or end mid-range, gaps longer than the lookback, a gap of 6 minutes whose first
/// sample is exactly 5 minutes before a step, spikes over the thresholds, and values with
/// fractions. Returns the OpenMetrics text.
fn messy_history(start: i64) -> String {
    let mut rng = Lcg(18);
    let mut om = String::from("# TYPE mysql_global_status_threads_connected gauge\n");
    let mut lines: Vec<(i64, String)> = Vec::new();
    for k in 0..14i64 {
        let tenant = format!("t{k:02}");
        let series = if k % 3 == 0 { 2 } else { 1 };
        for j in 0..series {
            let interval_ms = [15_000, 37_000, 60_000, 300_000][((k + j) % 4) as usize];
            let jitter = interval_ms < 60_000;
            let begin_min = if k % 4 == 1 { (k * 7) % 40 } else { 0 };
            let end_min = if k % 5 == 2 { 150 } else { 180 };
            let gap = (k % 2 == 0).then(|| (30 + k * 5, 30 + k * 5 + 7));
            let spikes = [(50 + k * 3, 62 + k * 3), (120 + k, 124 + k + j)];
            let mut t_ms = (start + begin_min * 60) * 1000;
            while t_ms <= (start + end_min * 60) * 1000 {
                let at = t_ms + if jitter { rng.next(1000) as i64 } else { 0 };
                let min = (at / 1000 - start) / 60;
                t_ms += interval_ms;
                if gap.is_some_and(|(a, b)| (a..b).contains(&min)) {
                    continue;
                }
                let high = spikes.iter().any(|(a, b)| (*a..*b).contains(&min));
                let v = if high {
                    60.0 + rng.next(6000) as f64 / 100.0
                } else {
                    10.0 + rng.next(4000) as f64 / 100.0
                };
                lines.push((
                    at,
                    format!(
                        "mysql_global_status_threads_connected{{tenant=\"{tenant}\",instance=\"i{j}\"}} {v} {}.{:03}\n",
                        at / 1000,
                        at % 1000
                    ),
                ));
            }
        }
    }
    // t-edge: every minute, over every threshold, with no sample from minute 10 to 15: the
    // sample of minute 10 is 5 minutes old at minute 15's step, then gone.
    for m in (0..=180).filter(|m| !(11..16).contains(m)) {
        let at = (start + m * 60) * 1000;
        lines.push((
            at,
            format!(
                "mysql_global_status_threads_connected{{tenant=\"t-edge\",instance=\"e\"}} 150 {}\n",
                at / 1000
            ),
        ));
    }
    // OpenMetrics wants the samples of a series together, in time order.
    lines.sort_by(|a, b| {
        let key = |l: &str| l.split(' ').next().unwrap_or_default().to_string();
        key(&a.1).cmp(&key(&b.1)).then(a.0.cmp(&b.0))
    });
    for (_, l) in lines {
        om.push_str(&l);
    }
    om.push_str("# EOF\n");
    om
}

#[test]
fn remote_read_and_query_range_give_the_same_points_and_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now().timestamp();
    let start = (now - 5 * 3600) - (now - 5 * 3600).rem_euclid(3600);
    let end = start + 180 * MIN;
    let (_prom, base) = serve(dir.path(), &messy_history(start));

    // The chunk decoder against Prometheus' own raw samples: `/api/v1/query` of a range
    // selector returns every stored sample of the range.
    let matchers =
        remote::plain_selection("max by (tenant) (mysql_global_status_threads_connected)").unwrap();
    let raw = remote::read_raw(&base, &matchers, (start - 600) * 1000, end * 1000).unwrap();
    let body = ureq::post(&format!("{base}/api/v1/query"))
        .send_form(&[
            ("query", "mysql_global_status_threads_connected[3h10m]"),
            ("time", &end.to_string()),
        ])
        .unwrap()
        .into_string()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut want = remote::RawSeries::new();
    for r in v["data"]["result"].as_array().unwrap() {
        let labels: Vec<(String, String)> = r["metric"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let samples = r["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().parse::<f64>().unwrap())
            })
            .collect();
        want.insert(labels, samples);
    }
    let got = raw;
    assert_eq!(got.len(), 20, "series");
    assert!(got.values().map(Vec::len).sum::<usize>() > 5000);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (labels, samples) in &got {
        // Exact timestamps and the exact bits of every value.
        let bits = |s: &[(i64, f64)]| s.iter().map(|(t, v)| (*t, v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(samples), bits(&want[labels]), "{labels:?}");
    }

    // Thresholds: 70 for everyone; t03 warning 50 and critical 100; t04 40 until it expires
    // mid-range; t05's critical 90. Against: 60 for everyone.
    let expires = Utc
        .timestamp_opt(start + 95 * MIN + 30, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut tenants: Vec<String> = (0..14).map(|k| format!("t{k:02}")).collect();
    tenants.push("t-edge".into());
    let conf = conf_d(
        &dir.path().join("conf.d"),
        &[("_defaults.yaml", "defaults:\n  mysql_connections: 70\n")],
    );
    let old = conf_d(
        &dir.path().join("old.d"),
        &[("_defaults.yaml", "defaults:\n  mysql_connections: 60\n")],
    );
    for t in &tenants {
        let plain = format!("tenants:\n  {t}: {{}}\n");
        std::fs::write(old.join(format!("{t}.yaml")), &plain).unwrap();
        let body = match t.as_str() {
            "t03" => "    mysql_connections: {warning: 50, critical: 100}\n".to_string(),
            "t04" => format!("    mysql_connections: {{value: 40, expires: \"{expires}\"}}\n"),
            "t05" => "    mysql_connections: {warning: 70, critical: 90}\n".to_string(),
            _ => String::new(),
        };
        let text = if body.is_empty() {
            plain
        } else {
            format!("tenants:\n  {t}:\n{body}")
        };
        std::fs::write(conf.join(format!("{t}.yaml")), text).unwrap();
    }
    let at = Utc.timestamp_opt(start, 0).unwrap();
    let load = |d: &Path| {
        let r = dynalert_config::load_dir(d, at).unwrap();
        assert_eq!(r.errors(), 0, "{:?}", r.diagnostics);
        (*r.config).clone()
    };
    let (config, against) = (load(&conf), load(&old));
    let alerts = connection_alerts();
    assert_eq!(alerts[0].for_secs, 300);
    let remote::Probe::Streams(lookback) = remote::probe(&base).unwrap() else {
        panic!("prometheus streams remote read");
    };
    // Prometheus 2: a sample exactly one lookback old is still seen.
    assert_eq!(
        lookback,
        remote::Lookback {
            ms: 300_000,
            closed: true
        }
    );

    let mut compared = 0;
    let mut fired = 0;
    for step in [60, 45] {
        let from = start - start.rem_euclid(step);
        let now = backtest::served_segments(&config, &["mysql_connections"], from, end, step);
        let was = backtest::served_segments(&against, &["mysql_connections"], from, end, step);
        let floor = backtest::floors(&[&now, &was])["mysql_connections"];
        assert_eq!(floor, 40.0);
        for floor in [Some(floor), None] {
            let mut quiet = |_| {};
            let (by_query, _) = backtest::fetch(
                &base,
                &alerts[0].observation,
                floor,
                from,
                end,
                step,
                100,
                &mut quiet,
            )
            .unwrap();
            // Whole windows, and windows of 7 minutes that cut through chunks (a chunk that
            // overlaps two windows comes in both).
            let mut by_windows = |window_ms| {
                let grid = (from, end, step);
                remote::fetch(
                    &base, &matchers, floor, grid, lookback, window_ms, &mut quiet,
                )
                .unwrap()
            };
            let (by_remote, st) = by_windows(i64::MAX);
            assert!(st.samples > 5000);
            let (cut, st) = by_windows(7 * 60_000);
            assert!(st.queries > 25, "{}", st.queries);
            assert_eq!(
                cut, by_remote,
                "7-minute windows, step {step}, floor {floor:?}"
            );
            assert_eq!(
                by_remote.len(),
                by_query.len(),
                "tenants, step {step}, floor {floor:?}"
            );
            for (tenant, q) in &by_query {
                assert_eq!(
                    &by_remote[tenant], q,
                    "{tenant}, step {step}, floor {floor:?}"
                );
                compared += q.len();
            }
            let rows = |obs: Observations| {
                let observations = BTreeMap::from([("mysql_connections".to_string(), obs)]);
                backtest::rows(&now, Some(&was), &alerts, &observations, (from, end, step))
                    .into_iter()
                    .map(|r| {
                        let against = r.against.unwrap_or_default().intervals;
                        ((r.tenant, r.severity), (r.firing.intervals, against))
                    })
                    .collect::<BTreeMap<_, _>>()
            };
            let (q, r) = (rows(by_query), rows(by_remote));
            assert_eq!(q, r, "step {step}, floor {floor:?}");
            fired += q.values().filter(|(f, _)| !f.is_empty()).count();
            // The edge case: t-edge's minute-10 sample is exactly 5 minutes old at minute 15
            // and still seen, so its pending timer never resets: one firing from minute 5
            // (its `for: 5m`) to the end.
            if step == 60 {
                assert_eq!(
                    q[&("t-edge".to_string(), Severity::Warning)].0,
                    vec![(start + 5 * MIN, end)]
                );
            }
        }
    }
    assert!(compared > 5_000, "{compared}");
    assert!(fired > 20, "{fired}");
}

/// `--served` reads what Prometheus recorded (the thresholds served, `user_maintenance`,
/// `ALERTS`) on both paths, remote read and `query_range`, with the same result, and that
/// result is the one derived by hand from the history below.
#[test]
fn served_thresholds_and_alerts_are_the_same_on_both_read_paths() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now().timestamp();
    let start = (now - 3 * 3600) - (now - 3 * 3600).rem_euclid(3600);
    let alerts = connection_alerts();
    let alert = alerts[0]
        .alert
        .clone()
        .expect("the pack alerts on mysql_connections");
    // One sample every 15 s over [start, start + 60m], `value(minute)` or none.
    let series = |om: &mut String, s: &str, value: &dyn Fn(i64) -> Option<f64>| {
        let mut t = start;
        while t <= start + 60 * MIN {
            if let Some(v) = value((t - start) / MIN) {
                let _ = writeln!(om, "{s} {v} {t}");
            }
            t += 15;
        }
    };
    let mut om = String::new();
    // Firing for `a` (warning) from minute 10 to 20 (last sample 19:45); pending for `b`, and
    // another alert of `a` all along: neither counts.
    series(&mut om, &format!("ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",tenant=\"a\",severity=\"warning\"}}"),
        &|m| (10..20).contains(&m).then_some(1.0));
    series(&mut om, &format!("ALERTS{{alertname=\"{alert}\",alertstate=\"pending\",tenant=\"b\",severity=\"warning\"}}"),
        &|_| Some(1.0));
    series(
        &mut om,
        "ALERTS{alertname=\"OtherAlert\",alertstate=\"firing\",tenant=\"a\",severity=\"warning\"}",
        &|_| Some(1.0),
    );
    // a: warning 70, then 50 from minute 30; critical 120. b: warning 80, no sample from
    // minute 20 to 35.
    let thr = "tenant:alert_threshold:mysql_connections";
    series(
        &mut om,
        &format!("{thr}{{tenant=\"a\",severity=\"critical\"}}"),
        &|_| Some(120.0),
    );
    series(
        &mut om,
        &format!("{thr}{{tenant=\"a\",severity=\"warning\"}}"),
        &|m| Some(if m < 30 { 70.0 } else { 50.0 }),
    );
    series(
        &mut om,
        &format!("{thr}{{tenant=\"b\",severity=\"warning\"}}"),
        &|m| (!(20..35).contains(&m)).then_some(80.0),
    );
    // b in maintenance from minute 40 to 50 on one of two replicas.
    series(
        &mut om,
        "user_maintenance{tenant=\"b\",instance=\"r1\"}",
        &|m| Some(if (40..50).contains(&m) { 1.0 } else { 0.0 }),
    );
    series(
        &mut om,
        "user_maintenance{tenant=\"b\",instance=\"r2\"}",
        &|_| Some(0.0),
    );
    om.push_str("# EOF\n");
    let (_prom, base) = serve(dir.path(), &om);

    let grid = (start, start + 60 * MIN, 60);
    let (q_thr, q_fire) = backtest::recorded(&base, &alerts, grid, 30).unwrap();
    let remote::Probe::Streams(lookback) = remote::probe(&base).unwrap() else {
        panic!("Debian's Prometheus streams remote read");
    };
    let (r_thr, r_fire) = remote::recorded(&base, &alerts, grid, lookback).unwrap();
    assert_eq!(r_thr, q_thr);
    assert_eq!(r_fire, q_fire);

    // By hand: a sample is seen for 5 minutes (the lookback) after it; the last step is
    // minute 60, so a segment open at the end ends at minute 61.
    let m = |x: i64| start + x * MIN;
    let segs = &r_thr["mysql_connections"];
    assert_eq!(
        segs[&("a".to_string(), Severity::Warning)],
        vec![(m(0), m(30), 70.0), (m(30), m(61), 50.0)]
    );
    assert_eq!(
        segs[&("a".to_string(), Severity::Critical)],
        vec![(m(0), m(61), 120.0)]
    );
    // b: seen until 19:45 + 5m (steps to minute 24), again from 35; paused in 40..50.
    assert_eq!(
        segs[&("b".to_string(), Severity::Warning)],
        vec![
            (m(0), m(25), 80.0),
            (m(35), m(40), 80.0),
            (m(50), m(61), 80.0)
        ]
    );
    assert_eq!(segs.len(), 3);
    let a = &r_fire[&(
        "a".to_string(),
        "mysql_connections".to_string(),
        Severity::Warning,
    )];
    assert_eq!(a.intervals, vec![(m(10), m(25))]);
    assert_eq!(r_fire.len(), 1, "{r_fire:?}");
}
