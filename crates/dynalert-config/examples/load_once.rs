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
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let (served, loaded) = run(dir.path(), now);
        println!(
            "{served} tenants: load {:.1} ms, load + resolve + drop {:.1} ms",
            loaded.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
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
    let served = report.config.tenants.len();
    drop(snapshot);
    drop(report);
    (served, loaded)
}
