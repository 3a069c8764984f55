//! Loads a generated conf.d a few times, for profiling the cold load with callgrind:
//!
//! `cargo build --release -p dynalert-config --example load_once`, then
//! `taskset -c 0 valgrind --tool=callgrind --toggle-collect='load_once::run'
//! target/release/examples/load_once 10000 1` (one CPU: the load runs on one thread).
//! Arguments: tenants (default 10000), runs (default 1), `flat` or `hier` (default flat),
//! and a directory to keep a copy of the fixture in.

#[path = "../benches/common/mod.rs"]
mod common;

use chrono::{TimeZone, Utc};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tenants: usize = args.get(1).map_or(10_000, |a| a.parse().expect("tenants"));
    let runs: usize = args.get(2).map_or(1, |a| a.parse().expect("runs"));
    let hier = args.get(3).is_some_and(|a| a == "hier");
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let dir = tempfile::tempdir().expect("temporary directory");
    if hier {
        common::write_hierarchical_fixture(dir.path(), tenants);
    } else {
        common::write_fixture(dir.path(), tenants);
    }
    // A fourth argument keeps a copy of the fixture there (for `dynalert effective`).
    if let Some(keep) = args.get(4) {
        let keep = std::path::Path::new(keep);
        std::fs::create_dir_all(keep).expect("fixture copy");
        if hier {
            common::write_hierarchical_fixture(keep, tenants);
        } else {
            common::write_fixture(keep, tenants);
        }
    }
    let cpu_before = cpu_ms();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let (served, loaded) = run(dir.path(), now);
        println!(
            "{served} tenants: load {:.1} ms, load + resolve + drop {:.1} ms",
            loaded.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    // CPU time survives a busy machine better than wall time (10 ms ticks: use many runs).
    if let (Some(before), Some(after)) = (cpu_before, cpu_ms()) {
        println!(
            "cpu per run {:.1} ms",
            (after - before) / runs.max(1) as f64
        );
    }
}

/// User + system CPU time of the whole process so far, from `/proc/self/stat` (Linux).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// One measured run, as the benchmark times it: load, resolve, and drop both.
/// `valgrind --tool=callgrind --toggle-collect='load_once::run'` counts only this.
#[inline(never)]
fn run(dir: &std::path::Path, now: chrono::DateTime<Utc>) -> (usize, std::time::Duration) {
    let started = std::time::Instant::now();
    let report = dynalert_config::load_dir(dir, now).expect("load");
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics.first());
    let loaded = started.elapsed();
    let snapshot = dynalert_model::resolve(&report.config, now);
    let resolved = started.elapsed();
    let served = report.config.tenants.len();
    drop(snapshot);
    let dropped = started.elapsed();
    drop(report);
    if std::env::var_os("LOAD_ONCE_PHASES").is_some() {
        eprintln!(
            "phases: load {:.1} resolve {:.1} drop snapshot {:.1} drop config {:.1} ms",
            loaded.as_secs_f64() * 1e3,
            (resolved - loaded).as_secs_f64() * 1e3,
            (dropped - resolved).as_secs_f64() * 1e3,
            (started.elapsed() - dropped).as_secs_f64() * 1e3
        );
    }
    (served, loaded)
}
