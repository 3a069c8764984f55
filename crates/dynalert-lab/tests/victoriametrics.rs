//! How VictoriaMetrics 1.79 answers the packs' queries with and without the flags the lab's
//! VictoriaMetrics engine sets (`docs/scaling.md`), against the real Debian binary: two
//! servers, one with the defaults and one with `victoriametrics_flags`, fed the same samples.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dynalert_lab::up::victoriametrics_flags;
use dynalert_probe::http::{get_text, post_text};
use dynalert_probe::process::{start_victoriametrics_part, Guard};
use dynalert_probe::prom::Prometheus;
use dynalert_probe::wait_for;

struct Server {
    api: Prometheus,
    _guard: Guard,
    _dir: tempfile::TempDir,
}

/// VictoriaMetrics on `127.0.0.1:0` (the probe reads the port from its socket).
fn start(name: &str, extra: &[String]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![format!(
        "-storageDataPath={}",
        dir.path().join("data").display()
    )];
    args.extend_from_slice(extra);
    let (guard, url) = start_victoriametrics_part("victoria-metrics", &args, dir.path())
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    Server {
        api: Prometheus::new(&url),
        _guard: guard,
        _dir: dir,
    }
}

/// Imports exposition lines with millisecond timestamps, then waits until `check` (a series
/// name) can be exported.
fn import(s: &Server, body: &str, check: &str) {
    let base = s.api.base();
    post_text(&format!("{base}/api/v1/import/prometheus"), body).unwrap();
    wait_for(
        "the samples to be searchable",
        Duration::from_secs(30),
        || {
            let text = get_text(&format!("{base}/api/v1/export?match[]={check}"))?;
            Ok((!text.trim().is_empty()).then_some(()))
        },
    )
    .unwrap();
}

/// Values of an instant query at `time` (seconds).
fn query_at(s: &Server, expr: &str, time: f64) -> Vec<f64> {
    s.api
        .query_at(expr, time)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .collect()
}

#[test]
fn lab_flags_bound_the_lookback_and_deduplicate_two_scrapers() {
    let plain = start("defaults", &[]);
    let lab = start("lab-flags", &victoriametrics_flags(5));
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // A recorded series whose rule stopped producing it 60 s ago (vmalert writes no staleness
    // marker), and one series sent by two scrapers one second apart within one 5 s interval.
    let vanished = now_ms - 60_000;
    let slot = (now_ms - 120_000) / 5_000 * 5_000;
    let body = format!(
        "lab_vanished_recorded 1 {vanished}\nlab_scraped_twice 7 {}\nlab_scraped_twice 7 {}\n",
        slot + 1_000,
        slot + 2_000
    );
    for s in [&plain, &lab] {
        import(s, &body, "lab_vanished_recorded");
        import(s, "", "lab_scraped_twice");
    }
    let now = now_ms as f64 / 1000.0;
    // Defaults: the instant query's lookback is its step, 5 minutes: the series stopped a
    // minute ago is still returned, as an alert's `ALERTS` series would be after it resolved.
    assert_eq!(query_at(&plain, "lab_vanished_recorded", now), vec![1.0]);
    // `-search.maxStalenessInterval` of three intervals: gone.
    assert!(query_at(&lab, "lab_vanished_recorded", now).is_empty());
    // Both samples of the two scrapers fall in one 5 s interval: the defaults keep both,
    // `-dedup.minScrapeInterval=5s` keeps one.
    let at = (slot + 30_000) as f64 / 1000.0;
    let samples = "count_over_time(lab_scraped_twice[1m])";
    assert_eq!(query_at(&plain, samples, at), vec![2.0]);
    assert_eq!(query_at(&lab, samples, at), vec![1.0]);
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Seconds from `t0` until an instant query at the current time returns `value` for `expr`;
/// panics 30 s after `t0`.
fn seconds_until(s: &Server, expr: &str, value: f64, t0: std::time::Instant) -> f64 {
    loop {
        if query_at(s, expr, now_s()) == vec![value] {
            return t0.elapsed().as_secs_f64();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "`{expr}` never returned {value}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Why vmalert can make a tenant's critical active evaluations after its warning
/// (`docs/scaling.md`, "a series seen for the first time"): an alert rule queries its
/// comparison series every evaluation, also while it matches nothing. VictoriaMetrics 1.79
/// keeps answering such a selector with nothing for a series created afterwards until its next
/// periodic update, about every 10 s, while a new sample of a series the selector already
/// matched shows in about a second.
#[test]
fn a_selector_that_matched_nothing_sees_a_new_series_only_at_the_next_update() {
    let lab = start("new-series", &victoriametrics_flags(5));
    let put = |body: String| {
        post_text(
            &format!("{}/api/v1/import/prometheus", lab.api.base()),
            &body,
        )
        .unwrap();
    };
    let ms = || (now_s() * 1000.0) as i64;
    let empty = |expr: &str| assert!(query_at(&lab, expr, now_s()).is_empty(), "{expr}");
    // The warning's comparison exists already; a first series, queried before it is written,
    // shows right at an update: from then on the next update is about 10 s away.
    empty("lab_over{severity=\"first\"}");
    put(format!(
        "lab_over{{severity=\"warning\"}} 1 {}\nlab_over{{severity=\"first\"}} 1 {}\n",
        ms(),
        ms()
    ));
    let t0 = std::time::Instant::now();
    seconds_until(&lab, "lab_over{severity=\"first\"}", 1.0, t0);
    seconds_until(&lab, "lab_over{severity=\"warning\"}", 1.0, t0);
    // One evaluation: the critical rule's selector matches nothing yet; then the comparisons
    // are written together, the warning's a new sample, the critical's a new series.
    empty("lab_over{severity=\"critical\"}");
    let t = ms();
    let t0 = std::time::Instant::now();
    put(format!(
        "lab_over{{severity=\"warning\"}} 2 {t}\nlab_over{{severity=\"critical\"}} 2 {t}\n"
    ));
    let known = seconds_until(&lab, "lab_over{severity=\"warning\"}", 2.0, t0);
    let new = seconds_until(&lab, "lab_over{severity=\"critical\"}", 2.0, t0);
    eprintln!("known series' new sample: {known:.1}s, new series: {new:.1}s");
    assert!(known < 4.0, "a known series' new sample took {known:.1}s");
    // At least one lab evaluation interval (5 s) later: the next update.
    assert!(
        (5.0..=15.0).contains(&new),
        "the new series took {new:.1}s (the known one's sample {known:.1}s)"
    );
}
