//! The hostile conf.d corpus (`testdata/hostile/`) against the real binary serving 1,000
//! other tenants: for every case the process stays up, the outcome class holds (a rejected
//! file gets a located error and its tenant keeps its last good config; a broken platform
//! keeps the whole last good config; positive controls are served; ignored names change
//! nothing), every other tenant's series stay byte-identical, RSS stays below its starting
//! value + 64 MiB, and after the revert the body is back to the baseline.
//!
//! Reloads are driven by `POST /-/reload` only (watcher off, poll 1h), so that the
//! half-applied states between the steps of a case are never observed. Every case runs even
//! when one fails; a table of case → outcome is printed and every failed case is listed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::corpus::{self, Case, ConfDir, Layout, Outcome};
use common::{by_tenant, clip, gauge, valid_lines, Exporter, Http, Resp};

const TENANTS: usize = 1000;
const GROWTH: u64 = 64 << 20;
/// How long a case may take to show its outcome (covers a settle delay before reading).
const SETTLE: Duration = Duration::from_secs(3);
/// How long the revert may take to bring the baseline back.
const RECOVER: Duration = Duration::from_secs(10);
/// Upper bound of one reload request.
const RELOAD_BOUND: Duration = Duration::from_secs(10);
const SUCCESS: &str = "threshold_exporter_config_last_reload_successful";

struct Live {
    exporter: Option<Exporter>,
    args: Vec<String>,
    http: Http,
    series: BTreeMap<String, Vec<String>>,
    valid: BTreeMap<String, String>,
    start_rss: u64,
}

impl Live {
    fn start(dir: &Path) -> Result<Live, String> {
        let args: Vec<String> = [
            "--config.dir",
            dir.to_str().unwrap(),
            "--config.watch=false",
            "--config.poll-interval",
            "1h",
            "--web.enable-lifecycle",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut live = Live {
            exporter: None,
            args,
            http: Http::with_timeout(RELOAD_BOUND + Duration::from_secs(5)),
            series: BTreeMap::new(),
            valid: BTreeMap::new(),
            start_rss: 0,
        };
        live.spawn()?;
        let body = live.metrics()?;
        live.series = by_tenant(&body);
        live.valid = valid_lines(&body);
        live.start_rss = live.exporter().rss().unwrap_or(0);
        Ok(live)
    }

    /// Starts the binary and waits until every tenant is served.
    fn spawn(&mut self) -> Result<(), String> {
        self.exporter = None;
        let e = Exporter::spawn(&self.args)?;
        let addr = e.addr;
        self.exporter = Some(e);
        let mut last = String::new();
        let ok = common::wait_until(Duration::from_secs(60), || {
            self.http.get(addr, "/metrics").is_ok_and(|r| {
                last = r.text();
                r.status == 200 && by_tenant(&last).len() >= TENANTS + 2
            })
        });
        ok.then_some(()).ok_or_else(|| {
            let n = TENANTS + 2;
            format!(
                "exporter never served the {n} tenants:\n{}",
                clip(&last, 400)
            )
        })
    }

    /// Restarts after a death; the fresh process must serve the baseline again.
    fn restart(&mut self) -> Result<(), String> {
        self.spawn()?;
        let body = self.metrics()?;
        if by_tenant(&body) != self.series {
            return Err("after a restart the baseline is not served".into());
        }
        self.start_rss = self.exporter().rss().unwrap_or(0);
        Ok(())
    }

    fn exporter(&self) -> &Exporter {
        self.exporter.as_ref().expect("exporter running")
    }

    fn dead(&mut self) -> Option<String> {
        let e = self.exporter.as_mut()?;
        let status = e.exited()?;
        let killed = e.mem.killed.load(std::sync::atomic::Ordering::Relaxed);
        Some(format!(
            "process died ({status}{}); log tail:\n{}",
            if killed {
                ", killed by the test's watchdog above 1 GiB RSS"
            } else {
                ""
            },
            e.log_tail(5)
        ))
    }

    fn metrics(&self) -> Result<String, String> {
        let r = self.http.get(self.exporter().addr, "/metrics")?;
        if r.status != 200 {
            return Err(format!("/metrics answered {}", r.status));
        }
        Ok(r.text())
    }

    fn reload(&self) -> Result<(Resp, Duration), String> {
        let t = Instant::now();
        let r = self.http.post(self.exporter().addr, "/-/reload")?;
        Ok((r, t.elapsed()))
    }
}

/// Whether the reload response and body show the case's outcome class.
fn shows_outcome(case: &Case, r: &Resp, body: &str) -> bool {
    let text = r.text();
    let names = |t: &str| {
        if case.located {
            corpus::located(t, &case.locate)
        } else {
            case.locate.iter().any(|n| t.contains(n.as_str()))
        }
    };
    match case.outcome {
        Outcome::Rejected | Outcome::PlatformRejected => r.status >= 400 && names(&text),
        Outcome::Accepted => {
            let series = by_tenant(body);
            let lines: BTreeSet<&str> = series
                .get(&case.tenant)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            r.status == 200
                && case.expect.iter().all(|e| lines.contains(e.as_str()))
                && case
                    .expect_contains
                    .iter()
                    .all(|e| lines.iter().any(|l| l.contains(e.as_str())))
        }
        Outcome::Ignored => r.status == 200,
    }
}

/// Tenants whose series differ between two bodies, except `skip`.
fn changed_tenants(
    base: &BTreeMap<String, Vec<String>>,
    now: &BTreeMap<String, Vec<String>>,
    skip: Option<&str>,
) -> Vec<String> {
    let keys: BTreeSet<&String> = base.keys().chain(now.keys()).collect();
    keys.into_iter()
        .filter(|k| Some(k.as_str()) != skip && base.get(*k) != now.get(*k))
        .map(|k| format!("`{}`", clip(k, 40)))
        .collect()
}

#[derive(Default)]
struct Row {
    name: String,
    expected: &'static str,
    observed: String,
    problems: Vec<String>,
    skipped: Option<String>,
    millis: u128,
}

fn run_case(live: &mut Live, conf: &ConfDir, case: &Case) -> Row {
    let started = Instant::now();
    let mut row = Row {
        name: case.name.clone(),
        expected: case.outcome.as_str(),
        ..Row::default()
    };
    if case.needs_non_root && corpus::uid() == Some(0) {
        row.skipped = Some("running as root: permission bits do not deny root a read".into());
        return row;
    }
    if live.exporter.as_mut().is_none_or(|e| e.exited().is_some()) {
        if let Err(e) = live.restart() {
            row.problems
                .push(format!("cannot restart the exporter: {e}"));
            return row;
        }
    }
    let pid = live.exporter().pid;
    live.exporter().mem.reset_peak(pid);

    if let Err(e) = conf.apply(case) {
        row.problems.push(format!("harness: {e}"));
    } else {
        check_outcome(live, case, &mut row);
    }
    let peak = live.exporter.as_ref().map_or(0, |e| e.mem.peak());
    if peak > live.start_rss + GROWTH {
        row.problems.push(format!(
            "RSS peaked at {} MiB, over the starting {} MiB + 64 MiB",
            peak >> 20,
            live.start_rss >> 20
        ));
    }

    if let Err(e) = conf.revert(case) {
        row.problems.push(format!("harness: {e}"));
    }
    // A dead exporter is already reported; the next case restarts it on the reverted
    // directory.
    if live.exporter.is_some() && live.dead().is_none() {
        check_recovered(live, &mut row);
    }
    row.millis = started.elapsed().as_millis();
    row
}

fn check_outcome(live: &mut Live, case: &Case, row: &mut Row) {
    let deadline = Instant::now()
        + if case.outcome == Outcome::Ignored {
            Duration::ZERO
        } else {
            SETTLE
        };
    let (r, body) = loop {
        let reload = live.reload();
        if let Some(d) = live.dead() {
            row.observed = "died".into();
            row.problems.push(d);
            return;
        }
        let (r, took) = match reload {
            Ok(x) => x,
            Err(e) => {
                // A dying process drops the connection before it can be reaped.
                if common::wait_until(Duration::from_secs(1), || {
                    live.exporter.as_mut().is_some_and(|x| x.exited().is_some())
                }) {
                    row.observed = "died".into();
                    row.problems.push(live.dead().unwrap_or_default());
                    return;
                }
                // An exporter that does not answer holds up every later case: kill it,
                // the next case starts a fresh one on the reverted directory.
                row.observed = "unresponsive".into();
                row.problems
                    .push(format!("reload: {e}; killed the unresponsive exporter"));
                live.exporter = None;
                return;
            }
        };
        if took > RELOAD_BOUND {
            row.problems
                .push(format!("a reload took {took:?} (bound {RELOAD_BOUND:?})"));
        }
        let Ok(body) = live.metrics().map_err(|e| row.problems.push(e)) else {
            return;
        };
        if shows_outcome(case, &r, &body) || Instant::now() >= deadline {
            break (r, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = r.text();
    let now = by_tenant(&body);
    let valid = valid_lines(&body);
    let tenant = case.tenant.as_str();
    let mine_before = live.series.get(tenant);
    let mine_now = now.get(tenant);
    let served = if mine_now == mine_before {
        "kept"
    } else if mine_now.is_none() {
        "gone"
    } else {
        "changed"
    };
    let others = changed_tenants(&live.series, &now, Some(tenant));
    row.observed = format!(
        "{} {tenant}:{served}{}",
        r.status,
        if others.is_empty() {
            ""
        } else {
            " others:CHANGED"
        }
    );

    if !shows_outcome(case, &r, &body) {
        let want = match case.outcome {
            Outcome::Rejected | Outcome::PlatformRejected if case.located => {
                format!("4xx/5xx naming one of {:?} as `name:line:col`", case.locate)
            }
            Outcome::Rejected | Outcome::PlatformRejected => {
                format!("4xx/5xx mentioning one of {:?}", case.locate)
            }
            Outcome::Accepted => format!(
                "200 and the series {:?}{:?}",
                case.expect, case.expect_contains
            ),
            Outcome::Ignored => "200".into(),
        };
        row.problems.push(format!(
            "reload answered {}: `{}`; wanted {want}",
            r.status,
            clip(&text, 300)
        ));
    }
    if let Some(max) = case.max_body {
        if text.len() > max {
            row.problems.push(format!(
                "the reload response is {} bytes (bound {max}): errors must quote a short prefix",
                text.len()
            ));
        }
    }
    if !others.is_empty() {
        row.problems.push(format!(
            "{} other tenant(s) changed: {}",
            others.len(),
            others[..others.len().min(5)].join(", ")
        ));
    }
    let valid_of = |t: &str| valid.get(t).map(String::as_str);
    if case.outcome != Outcome::Accepted && mine_now != mine_before {
        row.problems.push(format!(
            "tenant `{}` did not keep its last good series: {}",
            clip(tenant, 40),
            clip(
                &mine_now.map(|v| v.join("\n")).unwrap_or("(none)".into()),
                200
            )
        ));
    }
    let valid_series = format!("threshold_exporter_tenant_config_valid{{tenant=\"{tenant}\"}}");
    let flag: Option<(&str, Option<String>, &str)> = match case.outcome {
        Outcome::Rejected if corpus::valid_tenant_id(tenant) => {
            Some((&valid_series, valid_of(tenant).map(str::to_string), "0"))
        }
        Outcome::Accepted => Some((&valid_series, valid_of(tenant).map(str::to_string), "1")),
        Outcome::PlatformRejected => Some((SUCCESS, gauge(&body, SUCCESS), "0")),
        _ => None,
    };
    if let Some((series, got, want)) = flag {
        if got.as_deref() != Some(want) {
            row.problems
                .push(format!("{series} is {got:?}, wanted {want}"));
        }
    }
    if case.outcome != Outcome::PlatformRejected {
        let flipped: Vec<&String> = live
            .valid
            .iter()
            .filter(|(t, v)| t.as_str() != tenant && valid.get(*t) != Some(*v))
            .map(|(t, _)| t)
            .collect();
        if !flipped.is_empty() {
            row.problems.push(format!(
                "tenant_config_valid changed for other tenants: {:?}",
                flipped.iter().take(5).collect::<Vec<_>>()
            ));
        }
    }
    if case.outcome == Outcome::Ignored && gauge(&body, SUCCESS).as_deref() != Some("1") {
        row.problems.push(format!(
            "{SUCCESS} is {:?}, wanted 1",
            gauge(&body, SUCCESS)
        ));
    }
    if let Err(e) = common::promtool_check(&body) {
        row.problems
            .push(format!("promtool check metrics: {}", clip(&e, 300)));
    }
}

fn check_recovered(live: &mut Live, row: &mut Row) {
    let mut why = String::new();
    let ok = common::wait_until(RECOVER, || {
        let Ok((r, _)) = live.reload().map_err(|e| why = e) else {
            return false;
        };
        let Ok(body) = live.metrics() else {
            why = "no /metrics".into();
            return false;
        };
        let now = by_tenant(&body);
        let changed = changed_tenants(&live.series, &now, None);
        let valid = valid_lines(&body);
        why = format!(
            "reload {} `{}`; tenants differing: {:?}; valid flags equal: {}; {SUCCESS} {:?}",
            r.status,
            clip(&r.text(), 200),
            changed.iter().take(5).collect::<Vec<_>>(),
            valid == live.valid,
            gauge(&body, SUCCESS)
        );
        r.status == 200
            && changed.is_empty()
            && valid == live.valid
            && gauge(&body, SUCCESS).as_deref() == Some("1")
    });
    if !ok {
        if let Some(d) = live.dead() {
            row.problems.push(format!("after the revert: {d}"));
        } else {
            row.problems.push(format!(
                "not back to the baseline after the revert: {why}; restarting the exporter so that later cases start from the baseline"
            ));
            live.exporter = None;
        }
    }
}

#[test]
#[ignore = "stress test of a live exporter process: run by `make test` as the step `stress tests`"]
fn hostile_corpus_against_a_live_exporter() {
    let cases = corpus::load();
    assert!(cases.len() >= 45, "only {} cases", cases.len());
    let mut rows = Vec::new();
    let work = tempfile::tempdir().unwrap();
    for layout in [Layout::Plain, Layout::ConfigMap] {
        let these: Vec<&Case> = cases
            .iter()
            .filter(|c| c.layout == layout && corpus::selected(c))
            .collect();
        if these.is_empty() {
            continue;
        }
        let dir = work.path().join(format!("{layout:?}").to_lowercase());
        let conf = ConfDir::build(&dir, layout, TENANTS);
        let mut live = Live::start(&dir).unwrap_or_else(|e| panic!("{layout:?}: {e}"));
        // The harness itself: the baseline is what the base files say.
        let db_a = live.series.get("db-a").cloned().unwrap_or_default();
        assert!(
            db_a.contains(&"user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 70".to_string()),
            "{db_a:?}"
        );
        let last = corpus::generated_id(TENANTS - 1);
        let want = format!(
            "user_threshold{{tenant=\"{last}\",component=\"mysql\",metric=\"connections\",severity=\"warning\"}} {}",
            corpus::generated_value(TENANTS - 1)
        );
        assert!(live.series.get(&last).is_some_and(|v| v.contains(&want)));
        eprintln!(
            "{layout:?}: {} tenants served, RSS {} MiB at start",
            live.series.len(),
            live.start_rss >> 20
        );
        for case in these {
            let row = run_case(&mut live, &conf, case);
            eprintln!(
                "{:<34} {:<18} {:<6} {}",
                row.name,
                row.expected,
                if row.skipped.is_some() {
                    "skip"
                } else if row.problems.is_empty() {
                    "ok"
                } else {
                    "FAIL"
                },
                row.observed
            );
            rows.push(row);
        }
    }

    println!(
        "\n{:<34} {:<18} {:<32} {:>6}  result",
        "case", "expected", "observed", "ms"
    );
    for r in &rows {
        let result = match (&r.skipped, r.problems.is_empty()) {
            (Some(why), _) => format!("skipped: {why}"),
            (None, true) => "ok".into(),
            (None, false) => "FAIL".into(),
        };
        println!(
            "{:<34} {:<18} {:<32} {:>6}  {result}",
            r.name,
            r.expected,
            clip(&r.observed, 32),
            r.millis
        );
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.problems.is_empty()).collect();
    let mut report = String::new();
    for r in &failed {
        report.push_str(&format!("{} ({}):\n", r.name, r.expected));
        for p in &r.problems {
            report.push_str(&format!("    - {}\n", p.replace('\n', "\n      ")));
        }
    }
    println!(
        "\n{} cases: {} ok, {} failed, {} skipped",
        rows.len(),
        rows.iter()
            .filter(|r| r.problems.is_empty() && r.skipped.is_none())
            .count(),
        failed.len(),
        rows.iter().filter(|r| r.skipped.is_some()).count()
    );
    assert!(
        failed.is_empty(),
        "{} of {} hostile cases failed:\n{report}",
        failed.len(),
        rows.len()
    );
}
