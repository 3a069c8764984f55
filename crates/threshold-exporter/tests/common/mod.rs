//! Shared by the hostile-input and churn tests: the real binary as a child process with a
//! memory watchdog, a small HTTP helper, and a reader of the exposition body.

#![allow(dead_code)]

pub mod corpus;

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dynalert_test::http as client;

pub const EXE: &str = env!("CARGO_BIN_EXE_threshold-exporter");

/// Log lines kept per exporter (the tail is printed when something goes wrong).
const LOG_TAIL: usize = 200;

pub use dynalert_probe::process::rss_of as rss;

/// Samples a child's RSS every 20 ms: keeps the peak and kills the child above a hard
/// limit, so that a memory bomb cannot take the machine down with the test.
pub struct MemWatch {
    pub peak: AtomicU64,
    pub killed: AtomicBool,
    stop: AtomicBool,
}

impl MemWatch {
    pub fn start(pid: u32, limit: u64) -> Arc<MemWatch> {
        let w = Arc::new(MemWatch {
            peak: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let me = w.clone();
        std::thread::spawn(move || {
            while !me.stop.load(Ordering::Relaxed) {
                let Some(now) = rss(pid) else { break };
                me.peak.fetch_max(now, Ordering::Relaxed);
                if now > limit && !me.killed.swap(true, Ordering::Relaxed) {
                    eprintln!("watchdog: pid {pid} at {} MiB, killing it", now >> 20);
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        w
    }

    /// Starts a new peak measurement from the current value.
    pub fn reset_peak(&self, pid: u32) {
        self.peak.store(rss(pid).unwrap_or(0), Ordering::Relaxed);
    }

    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for MemWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The real `threshold-exporter`, killed when dropped.
pub struct Exporter {
    pub child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    pub log: Arc<Mutex<VecDeque<String>>>,
    pub mem: Arc<MemWatch>,
}

/// Hard memory limit of an exporter under test (the watchdog kills it above).
pub const KILL_ABOVE: u64 = 1 << 30;

impl Exporter {
    /// Starts the binary on `127.0.0.1:0` and reads the address back from its log.
    pub fn spawn(args: &[impl AsRef<std::ffi::OsStr>]) -> Result<Exporter, String> {
        Exporter::spawn_at("info", args)
    }

    /// [`Exporter::spawn`] with `--log.level` set to `level`.
    pub fn spawn_at(level: &str, args: &[impl AsRef<std::ffi::OsStr>]) -> Result<Exporter, String> {
        let mut child = Command::new(EXE)
            .args(["--web.listen-address", "127.0.0.1:0", "--log.level", level])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {EXE}: {e}"))?;
        let pid = child.id();
        let mem = MemWatch::start(pid, KILL_ABOVE);
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for buf in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
                // Lines may be huge (a quoted hostile value): keep a prefix only.
                let line = String::from_utf8_lossy(&buf[..buf.len().min(2000)]).into_owned();
                if let Some(port) = dynalert_probe::port::logged_port(&line, "msg=listening") {
                    let _ = tx.send(SocketAddr::from(([127, 0, 0, 1], port)));
                }
                let mut l = sink.lock().unwrap();
                if l.len() == LOG_TAIL {
                    l.pop_front();
                }
                l.push_back(line.trim_end().to_string());
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Ok(Exporter {
                child,
                addr,
                pid,
                log,
                mem,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let tail = Vec::from(log.lock().unwrap().clone()).join("\n");
                Err(format!("exporter did not start listening:\n{tail}"))
            }
        }
    }

    /// `None` while running; the exit status once it has died.
    pub fn exited(&mut self) -> Option<String> {
        (self.child.try_wait()).map_or_else(|e| Some(e.to_string()), |s| s.map(|s| s.to_string()))
    }

    pub fn log_tail(&self, n: usize) -> String {
        let l = self.log.lock().unwrap();
        let skip = l.len().saturating_sub(n);
        l.iter().skip(skip).cloned().collect::<Vec<_>>().join("\n")
    }

    pub fn rss(&self) -> Option<u64> {
        rss(self.pid)
    }

    /// How many of the kept log lines contain `needle`.
    pub fn logged(&self, needle: &str) -> usize {
        let l = self.log.lock().unwrap();
        l.iter().filter(|l| l.contains(needle)).count()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) {
        self.signal("-TERM");
        let exited = wait_until(Duration::from_secs(20), || {
            self.child.try_wait().unwrap().is_some()
        });
        assert!(exited, "no exit after SIGTERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git rev-parse --short HEAD` of the checkout, or `unknown` outside one (what the build
/// stamps into the binary).
pub fn git_revision() -> String {
    let git = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    git.unwrap_or_else(|| "unknown".to_string())
}

/// Blocking HTTP over the project's test client, with a timeout per request.
pub struct Http {
    rt: tokio::runtime::Runtime,
    pub timeout: Duration,
}

pub use client::Resp;

impl Default for Http {
    fn default() -> Self {
        Http::with_timeout(Duration::from_secs(30))
    }
}

impl Http {
    pub fn with_timeout(timeout: Duration) -> Http {
        Http {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            timeout,
        }
    }

    pub fn request(&self, addr: SocketAddr, method: &str, path: &str) -> Result<Resp, String> {
        self.rt.block_on(async {
            match tokio::time::timeout(self.timeout, client::request(addr, method, path, &[])).await
            {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(e)) => Err(format!("{method} {path}: {e}")),
                Err(_) => Err(format!("{method} {path}: no answer in {:?}", self.timeout)),
            }
        })
    }

    pub fn get(&self, addr: SocketAddr, path: &str) -> Result<Resp, String> {
        self.request(addr, "GET", path)
    }

    pub fn post(&self, addr: SocketAddr, path: &str) -> Result<Resp, String> {
        self.request(addr, "POST", path)
    }
}

/// Polls `f` every 20 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let every = Duration::from_millis(20);
    dynalert_probe::wait_until::<_, dynalert_probe::TimedOut>("", timeout, every, || {
        Ok(f().then_some(()))
    })
    .is_ok()
}

/// Series of the exporter itself (reload counters, timestamps, process metrics).
pub fn is_self_metric(line: &str) -> bool {
    line.starts_with("threshold_exporter_")
        || line.starts_with("process_")
        || line.starts_with("go_")
}

/// The (unescaped) `tenant` label of a series line.
pub fn tenant_label(line: &str) -> Option<String> {
    dynalert_probe::exposition::parse(line)
        .ok()?
        .pop()?
        .1
        .remove("tenant")
}

/// Series lines of the exposition body (no comments, no self-metrics) grouped by tenant;
/// lines without a tenant label are under "".
pub fn by_tenant(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in body.lines() {
        if line.is_empty() || line.starts_with('#') || is_self_metric(line) {
            continue;
        }
        out.entry(tenant_label(line).unwrap_or_default())
            .or_default()
            .push(line.to_string());
    }
    out
}

/// The `threshold_exporter_tenant_config_valid` lines, by tenant.
pub fn valid_lines(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter(|l| l.starts_with("threshold_exporter_tenant_config_valid{"))
        .filter_map(|l| Some((tenant_label(l)?, l.rsplit(' ').next()?.to_string())))
        .collect()
}

/// The value of an unlabelled series.
pub fn gauge(body: &str, name: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_string))
}

/// `promtool check metrics` on a body: Err with its complaints.
pub fn promtool_check(body: &str) -> Result<(), String> {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("promtool not found ({e}); install the `prometheus` package: scripts/install-deps.sh")
        })?;
    let mut stdin = p.stdin.take().unwrap();
    let text = body.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = p.wait_with_output().map_err(|e| e.to_string())?;
    let _ = feeder.join();
    let msg = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && msg.trim().is_empty() {
        Ok(())
    } else {
        Err(msg.chars().take(500).collect())
    }
}

/// A short, single-line prefix of a text for reports.
pub fn clip(s: &str, n: usize) -> String {
    let one: String = s.replace('\n', " ⏎ ");
    if one.chars().count() <= n {
        one
    } else {
        format!("{}…", one.chars().take(n).collect::<String>())
    }
}
