//! `dynalert backtest` against a real Prometheus holding a backfilled history
//! (`promtool tsdb create-blocks-from openmetrics`). Expectations are derived by hand from
//! the history below and the MariaDB pack's `for: 5m`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use dynalert_cli::cmd::backtest;
use dynalert_model::Severity;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The port a process listens on, read from /proc (it was started on port 0).
fn listening_port(pid: u32) -> Option<u16> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().to_string();
            l.strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .collect();
    let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).ok()?;
    tcp.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(3) == Some(&"0A") && inodes.contains(*f.get(9)?))
            .then(|| u16::from_str_radix(f[1].rsplit(':').next()?, 16).ok())
            .flatten()
    })
}

fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const MIN: i64 = 60;

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
    let om_path = dir.path().join("history.om");
    std::fs::write(&om_path, om).unwrap();
    let data = dir.path().join("data");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om_path)
        .arg(&data)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prometheus runs");
    let mut prom = Kill(child);
    let pid = prom.0.id();
    let port = wait_until("prometheus to listen", Duration::from_secs(60), || {
        if let Ok(Some(status)) = prom.0.try_wait() {
            let mut err = String::new();
            let _ = prom.0.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("prometheus exited with {status}: {err}");
        }
        listening_port(pid)
    });
    let base = format!("http://127.0.0.1:{port}");
    wait_until("prometheus to be ready", Duration::from_secs(60), || {
        ureq::get(&format!("{base}/-/ready"))
            .call()
            .ok()
            .map(|_| ())
    });

    let conf = dir.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("db-a.yaml"),
        "tenants:\n  db-a:\n    mysql_connections: {warning: 70, critical: 120}\n",
    )
    .unwrap();
    std::fs::write(conf.join("db-b.yaml"), "tenants:\n  db-b: {}\n").unwrap();
    let old = dir.path().join("old.d");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(
        old.join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n",
    )
    .unwrap();
    std::fs::write(
        old.join("db-a.yaml"),
        "tenants:\n  db-a:\n    mysql_connections: 50\n",
    )
    .unwrap();
    std::fs::write(old.join("db-b.yaml"), "tenants:\n  db-b: {}\n").unwrap();

    let at = Utc.timestamp_opt(start, 0).unwrap();
    let load = |d: &Path| (*dynalert_config::load_dir(d, at).unwrap().config).clone();
    let (config, against) = (load(&conf), load(&old));
    let alerts: Vec<backtest::KeyAlert> = backtest::key_alerts(&root().join("rules/packs"))
        .unwrap()
        .into_iter()
        .filter(|a| a.key == "mysql_connections")
        .collect();
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
    // db-a is over 50 at every step, db-b only from minute 40 to 49.
    assert_eq!(data["db-a"].len(), 121);
    assert_eq!(
        data["db-b"].keys().copied().collect::<Vec<_>>(),
        (40..50).map(|m| start + m * MIN).collect::<Vec<_>>()
    );
    observations.insert("mysql_connections".to_string(), data);
    let rows = backtest::rows(&now, Some(&old), &alerts, &observations, (start, end, MIN));
    let got: Intervals = rows
        .iter()
        .map(|r| {
            let rel = |f: &backtest::Firing| -> Vec<(i64, i64)> {
                f.intervals
                    .iter()
                    .map(|(a, b)| ((a - start) / MIN, (b - start) / MIN))
                    .collect()
            };
            (
                (r.tenant.clone(), r.severity),
                (
                    rel(&r.firing),
                    r.against.as_ref().map(rel).unwrap_or_default(),
                ),
            )
        })
        .collect();
    // db-a warning 70: over from minute 30 to 89, firing 5 minutes later, until 90.
    // critical 120: over 60..89, firing 65..90. The old configuration (warning 50): over
    // from minute 0 to the end, firing from 5 to the last step.
    // db-b (platform default 80): over 40..49, firing 45..50, the same in both.
    let want: Intervals = [
        (
            ("db-a".to_string(), Severity::Warning),
            (vec![(35, 90)], vec![(5, 120)]),
        ),
        (
            ("db-a".to_string(), Severity::Critical),
            (vec![(65, 90)], vec![]),
        ),
        (
            ("db-b".to_string(), Severity::Warning),
            (vec![(45, 50)], vec![(45, 50)]),
        ),
    ]
    .into_iter()
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
