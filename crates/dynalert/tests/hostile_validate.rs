//! The hostile conf.d corpus (`testdata/hostile/`) through `dynalert validate`: a rejected
//! file or platform exits 1 with a located message (`path:line:col`), positive controls and
//! ignored names exit 0, and nothing ends in a signal, a panic (exit 101), a hang or a
//! memory blow-up. Every case runs; every failed one is listed.

#[path = "../../threshold-exporter/tests/common/corpus.rs"]
mod corpus;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corpus::{ConfDir, Outcome};
use dynalert_probe::process::rss_of as rss;

const EXE: &str = env!("CARGO_BIN_EXE_dynalert");
const TIME_BOUND: Duration = Duration::from_secs(30);
const MEMORY_BOUND: u64 = 1 << 30;
/// Output kept per stream (the rest is counted, not stored).
const KEEP: usize = 4 << 20;

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    output: String,
    output_len: usize,
    timed_out: bool,
    peak_rss: u64,
    millis: u128,
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<(Vec<u8>, usize)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0;
        let mut buf = [0u8; 65536];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            let room = KEEP.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        (kept, total)
    })
}

/// `dynalert validate DIR` with a time and memory bound (killed past either).
fn validate(dir: &Path) -> Run {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let mut child = Command::new(EXE)
        .arg("validate")
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let mut peak = 0;
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        let now = rss(child.id()).unwrap_or(0);
        peak = peak.max(now);
        if now > MEMORY_BOUND || started.elapsed() > TIME_BOUND {
            timed_out = started.elapsed() > TIME_BOUND;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (o, ol) = out.join().unwrap();
    let (e, el) = err.join().unwrap();
    Run {
        code: status.code(),
        signal: status.signal(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&o),
            String::from_utf8_lossy(&e)
        ),
        output_len: ol + el,
        timed_out,
        peak_rss: peak,
        millis: started.elapsed().as_millis(),
    }
}

fn clip(s: &str, n: usize) -> String {
    let one = s.replace('\n', " ⏎ ");
    one.chars().take(n).collect()
}

#[test]
fn validate_the_hostile_corpus() {
    let cases = corpus::load();
    assert!(cases.len() >= 45);
    let root =
        std::env::temp_dir().join(format!("dynalert-hostile-validate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut failed = Vec::new();
    let mut table = String::new();
    for (i, case) in cases.iter().enumerate() {
        if !corpus::selected(case) {
            continue;
        }
        if case.needs_non_root && corpus::uid() == Some(0) {
            table.push_str(&format!(
                "{:<34} {:<18} skipped: running as root, where permission bits do not deny a read\n",
                case.name,
                case.outcome.as_str()
            ));
            continue;
        }
        let dir = root.join(format!("{i:03}"));
        let conf = ConfDir::build(&dir, case.layout, 3);
        if let Err(e) = conf.apply(case) {
            failed.push(format!("{}: harness: {e}", case.name));
            continue;
        }
        let run = validate(&dir);
        let mut problems = Vec::new();
        if let Some(sig) = run.signal {
            problems.push(format!(
                "ended by signal {sig}{}",
                if run.timed_out {
                    " (killed after the time bound)".to_string()
                } else if run.peak_rss > MEMORY_BOUND {
                    format!(" (killed at {} MiB)", run.peak_rss >> 20)
                } else {
                    String::new()
                }
            ));
        }
        if run.code == Some(101) {
            problems.push("panicked (exit 101)".into());
        }
        let mentions = |names: &[String]| {
            if case.located {
                corpus::located(&run.output, names)
            } else {
                names.iter().any(|n| run.output.contains(n.as_str()))
                    || corpus::any_located_error(&run.output)
            }
        };
        match case.outcome {
            Outcome::Rejected => {
                if run.code != Some(1) || !mentions(&case.locate) {
                    problems.push(format!(
                        "wanted exit 1 naming one of {:?} as `name:line:col`",
                        case.locate
                    ));
                }
            }
            Outcome::PlatformRejected => {
                let ok = if case.located {
                    corpus::any_located_error(&run.output)
                } else {
                    mentions(&case.locate)
                };
                if run.code != Some(1) || !ok {
                    problems.push("wanted exit 1 with a located error".into());
                }
            }
            Outcome::Accepted | Outcome::Ignored => {
                if run.code != Some(0) {
                    problems.push("wanted exit 0".into());
                }
            }
        }
        if let Some(max) = case.max_body {
            if run.output_len > max {
                problems.push(format!(
                    "{} bytes of output (bound {max}): errors must quote a short prefix",
                    run.output_len
                ));
            }
        }
        let observed = match (run.code, run.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        };
        table.push_str(&format!(
            "{:<34} {:<18} {:<10} {:>6} ms  {}\n",
            case.name,
            case.outcome.as_str(),
            observed,
            run.millis,
            if problems.is_empty() { "ok" } else { "FAIL" }
        ));
        if !problems.is_empty() {
            failed.push(format!(
                "{} ({}): {observed}: {}\n      output: {}",
                case.name,
                case.outcome.as_str(),
                problems.join("; "),
                clip(&run.output, 300)
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&root);
    println!("\n{table}");
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n  - {}",
        failed.len(),
        cases.iter().filter(|c| corpus::selected(c)).count(),
        failed.join("\n  - ")
    );
}
