//! Write churn: 8 scrapers read `/metrics` continuously while one writer rewrites db-a's
//! file 300 times with valid contents (each with its own `mysql_connections`, 100..399)
//! and invalid ones (each with a value 9000+ that must never be served), cycling through
//! three write patterns: atomic rename, in-place `open(w)` + write, and a split write (the
//! first part, 20 ms, the rest). The file watcher and a 100 ms poll are both on.
//!
//! No scrape may serve a value that was never in a complete valid file (an invalid file's
//! value, or a partial read such as the first digit of a value), a missing or reset db-a
//! (the platform default 80), lost metadata, or a changed db-b; after a final valid write
//! the state is exact.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::corpus::{ConfDir, Layout};
use common::{by_tenant, valid_lines, Exporter, Http};

const REWRITES: usize = 300;
const LINE_A: &str =
    "user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} ";
const INITIAL: u32 = 99;
const FINAL: u32 = 400;
const PLATFORM_DEFAULT: &str = "80";

/// Padding first, so that a split write or a torn read cuts near the value.
fn padding(i: usize) -> String {
    let mut s = format!("# db-a, revision {i}\n");
    for n in 0..30 {
        s.push_str(&format!(
            "# padding line {n:02}: keeps the value away from the start of the file\n"
        ));
    }
    s
}

/// A valid file and the offset of a split inside the value (a torn read there is `1`, `2`…).
fn valid(i: usize, v: u32) -> (String, usize) {
    let head = format!("{}tenants:\n  db-a:\n    mysql_connections: ", padding(i));
    let cut = head.len() + 1;
    (
        format!(
            "{head}{v}\n    mysql_threads_running: {{warning: 20, critical: 40}}\n    _metadata: {{owner: dba-team}}\n"
        ),
        cut,
    )
}

/// An invalid file (its last line) and the offset of a split just before that line, where a
/// torn read is a valid file with the invalid file's value.
fn invalid(i: usize, v: u32) -> (String, usize) {
    let (body, _) = valid(i, v);
    let cut = body.len();
    (format!("{body}    container_cpu: lots-{v}\n"), cut)
}

#[derive(Clone, Copy, Debug)]
enum Pattern {
    Rename,
    InPlace,
    Split,
}

fn write(path: &Path, text: &str, cut: usize, pattern: Pattern) {
    match pattern {
        Pattern::Rename => {
            let tmp = path.with_file_name(".db-a.yaml.churn-tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        Pattern::InPlace => {
            let mut f = std::fs::File::create(path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
        }
        Pattern::Split => {
            let mut f = std::fs::File::create(path).unwrap();
            f.write_all(&text.as_bytes()[..cut]).unwrap();
            f.flush().unwrap();
            std::thread::sleep(Duration::from_millis(20));
            f.write_all(&text.as_bytes()[cut..]).unwrap();
        }
    }
}

#[derive(Default)]
struct Anomalies {
    scrapes: AtomicU64,
    by_kind: Mutex<BTreeMap<&'static str, (u64, String)>>,
}

impl Anomalies {
    fn record(&self, kind: &'static str, example: String) {
        let mut m = self.by_kind.lock().unwrap();
        let e = m.entry(kind).or_insert((0, example));
        e.0 += 1;
    }
}

fn db_a_value(body: &str) -> Option<&str> {
    body.lines().find_map(|l| l.strip_prefix(LINE_A))
}

#[test]
#[ignore = "stress test of a live exporter process: run by `make test` as the step `stress tests`"]
fn churn_never_serves_invalid_or_reset_thresholds() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("conf.d");
    // The base files and 20 generated tenants; db-a's file is replaced below.
    ConfDir::build(&dir, Layout::Plain, 20);
    let file = dir.join("db-a.yaml");
    std::fs::write(&file, valid(0, INITIAL).0).unwrap();

    let exporter = Exporter::spawn(&[
        "--config.dir".into(),
        dir.display().to_string(),
        "--config.watch=true".into(),
        "--config.poll-interval".into(),
        "100ms".into(),
    ])
    .unwrap();
    let addr = exporter.addr;
    let http = Http::default();
    let initial = INITIAL.to_string();
    assert!(
        common::wait_until(Duration::from_secs(30), || {
            http.get(addr, "/metrics")
                .is_ok_and(|r| r.status == 200 && db_a_value(&r.text()) == Some(initial.as_str()))
        }),
        "db-a's initial value never served"
    );
    let base = by_tenant(&http.get(addr, "/metrics").unwrap().text());
    let db_b = base.get("db-b").cloned().expect("db-b served");

    // Values written in complete valid files so far (inserted before the write starts).
    let written: Arc<Mutex<BTreeSet<u32>>> = Arc::new(Mutex::new(BTreeSet::from([INITIAL])));
    let anomalies = Arc::new(Anomalies::default());
    let stop = Arc::new(AtomicBool::new(false));
    let scrapers: Vec<_> = (0..8)
        .map(|_| {
            let (written, anomalies, stop, db_b) = (
                written.clone(),
                anomalies.clone(),
                stop.clone(),
                db_b.clone(),
            );
            std::thread::spawn(move || {
                let http = Http::default();
                while !stop.load(Ordering::Relaxed) {
                    let scrape = http.get(addr, "/metrics");
                    let Ok(r) = scrape.map_err(|e| anomalies.record("scrape failed", e)) else {
                        continue;
                    };
                    anomalies.scrapes.fetch_add(1, Ordering::Relaxed);
                    if r.status != 200 {
                        anomalies.record("status not 200", r.status.to_string());
                        continue;
                    }
                    let body = r.text();
                    match db_a_value(&body) {
                        None => anomalies.record("db-a missing", String::new()),
                        Some(PLATFORM_DEFAULT) => {
                            anomalies.record("db-a reset to the platform default 80", String::new())
                        }
                        Some(v) => match v.parse::<u32>() {
                            Ok(n) if n >= 9000 => {
                                anomalies.record("value of an invalid file served", v.to_string())
                            }
                            Ok(n) if written.lock().unwrap().contains(&n) => {}
                            _ => anomalies
                                .record("value never in a complete valid file", v.to_string()),
                        },
                    }
                    let series = by_tenant(&body);
                    let a = series.get("db-a").cloned().unwrap_or_default();
                    if !a.iter().any(|l| {
                        l.starts_with("tenant_metadata_info{") && l.contains("owner=\"dba-team\"")
                    }) {
                        anomalies.record("db-a metadata lost", String::new());
                    }
                    if series.get("db-b") != Some(&db_b) {
                        anomalies.record("db-b changed", String::new());
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in 1..=REWRITES {
        let pattern = [Pattern::Rename, Pattern::InPlace, Pattern::Split][i % 3];
        let is_valid = i % 4 != 0;
        let (text, cut) = if is_valid {
            let v = 100 + (i as u32 - 1);
            written.lock().unwrap().insert(v);
            valid(i, v)
        } else {
            invalid(i, 9000 + i as u32)
        };
        write(&file, &text, cut, pattern);
        *counts
            .entry(format!(
                "{pattern:?} {}",
                if is_valid { "valid" } else { "invalid" }
            ))
            .or_default() += 1;
        // Pacing: 15..60 ms between writes, so that some land between polls and events.
        std::thread::sleep(Duration::from_millis(15 + (i as u64 * 7) % 46));
    }
    let last = valid(REWRITES + 1, FINAL);
    written.lock().unwrap().insert(FINAL);
    write(&file, &last.0, last.1, Pattern::Rename);
    let fin = FINAL.to_string();
    let settled = common::wait_until(Duration::from_secs(20), || {
        http.get(addr, "/metrics")
            .is_ok_and(|r| db_a_value(&r.text()) == Some(fin.as_str()))
    });
    let writing = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for s in scrapers {
        s.join().unwrap();
    }

    let body = http.get(addr, "/metrics").unwrap().text();
    let scrapes = anomalies.scrapes.load(Ordering::Relaxed);
    let found = anomalies.by_kind.lock().unwrap().clone();
    eprintln!(
        "{} rewrites ({counts:?}) + 1 final in {writing:?}; {scrapes} scrapes by 8 scrapers",
        REWRITES
    );
    for (kind, (n, example)) in &found {
        eprintln!("  {n:>6} × {kind} {example}");
    }
    assert!(settled, "the final valid value {FINAL} was never served");
    assert!(scrapes > 0);
    assert_eq!(db_a_value(&body), Some(fin.as_str()));
    assert_eq!(
        valid_lines(&body).get("db-a").map(String::as_str),
        Some("1"),
        "db-a not valid after the final valid write"
    );
    assert_eq!(by_tenant(&body).get("db-b"), Some(&db_b));
    assert!(
        found.is_empty(),
        "{} of {scrapes} scrapes were wrong: {found:?}",
        found.values().map(|(n, _)| n).sum::<u64>()
    );
    drop(exporter);
}
