//! Memory after hostile input: once a large file has been rejected and fixed, the
//! exporter's resident memory returns to within 20 % of what it was before (the freed
//! parse tree goes back to the OS, it does not stay with the allocator).
//!
//! The real binary serves 1,000 other tenants; reloads are driven by `POST /-/reload`.
//! Each large input is written, reloaded (and must be rejected), reverted and reloaded
//! three times, so memory that is kept per round would show as growth.

mod common;

use std::time::Duration;

use common::corpus::{self, ConfDir, Layout};
use common::{by_tenant, gauge, Exporter, Http};

const TENANTS: usize = 1000;
const ROUNDS: usize = 3;
/// How much above the baseline resident memory may stay after the fix.
const TOLERANCE: f64 = 0.20;
/// How long the exporter gets to hand the memory back after the fixed reload.
const RECOVER: Duration = Duration::from_secs(10);
const SUCCESS: &str = "threshold_exporter_config_last_reload_successful";

struct Harness {
    exporter: Exporter,
    http: Http,
    file: std::path::PathBuf,
    good: Vec<u8>,
}

impl Harness {
    fn reload(&self) -> String {
        let r = self.http.post(self.exporter.addr, "/-/reload").unwrap();
        assert!(r.status < 500, "reload answered {}: {}", r.status, r.text());
        self.metrics()
    }

    fn metrics(&self) -> String {
        let r = self.http.get(self.exporter.addr, "/metrics").unwrap();
        assert_eq!(r.status, 200, "/metrics: {}", r.text());
        r.text()
    }

    fn rss(&self) -> u64 {
        self.exporter.rss().expect("VmRSS of the exporter")
    }

    /// Writes `bytes` as db-a's file and reloads; `SUCCESS` must then be `want`.
    fn write(&self, bytes: &[u8], want: &str, why: &str) -> String {
        std::fs::write(&self.file, bytes).unwrap();
        let body = self.reload();
        assert_eq!(gauge(&body, SUCCESS).as_deref(), Some(want), "{why}");
        body
    }

    /// Writes `bytes` as db-a's file and reloads; the reload must reject it.
    fn reject(&self, name: &str, bytes: &[u8]) {
        self.write(bytes, "0", &format!("`{name}` was not rejected"));
    }

    /// Restores db-a's file and reloads; the reload must succeed.
    fn fix(&self) {
        let body = self.write(&self.good, "1", "fix not applied");
        assert!(by_tenant(&body).len() >= TENANTS + 2);
    }
}

#[test]
#[ignore = "stress test of a live exporter process: run by `make test` as the step `stress tests`"]
fn memory_returns_after_a_large_rejected_file() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("conf.d");
    ConfDir::build(&dir, Layout::Plain, TENANTS);
    let exporter = Exporter::spawn(&[
        "--config.dir",
        dir.to_str().unwrap(),
        "--config.watch=false",
        "--config.poll-interval",
        "1h",
        "--config.settle-delay",
        "1ms",
        "--web.enable-lifecycle",
    ])
    .unwrap();
    let file = dir.join("db-a.yaml");
    let h = Harness {
        exporter,
        http: Http::default(),
        good: std::fs::read(&file).unwrap(),
        file,
    };
    assert!(
        common::wait_until(Duration::from_secs(60), || {
            h.http
                .get(h.exporter.addr, "/metrics")
                .is_ok_and(|r| r.status == 200 && by_tenant(&r.text()).len() >= TENANTS + 2)
        }),
        "the exporter never served its {TENANTS} tenants"
    );
    // Steady state first: one ordinary reload and a few scrapes.
    h.fix();
    for _ in 0..5 {
        h.metrics();
    }
    let baseline = h.rss();

    let mut failures = Vec::new();
    for name in ["many-keys-flow", "long-scalar", "deep-flow"] {
        let bytes = corpus::generate(name);
        for round in 1..=ROUNDS {
            h.reject(name, &bytes);
            let rejected = h.rss();
            h.fix();
            let limit = (baseline as f64 * (1.0 + TOLERANCE)) as u64;
            let back = common::wait_until(RECOVER, || {
                h.metrics();
                h.rss() <= limit
            });
            let after = h.rss();
            let growth = 100.0 * (after as f64 - baseline as f64) / baseline as f64;
            eprintln!(
                "{name:<16} round {round}: {} KiB input, baseline {} KiB, after rejection {} KiB, \
                 after the fix {} KiB ({growth:+.1} %)",
                bytes.len() >> 10,
                baseline >> 10,
                rejected >> 10,
                after >> 10
            );
            if !back {
                failures.push(format!(
                    "{name} round {round}: {} KiB after the fix, over baseline {} KiB + 20 %",
                    after >> 10,
                    baseline >> 10
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
