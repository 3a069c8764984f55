//! A guard that stops the measured servers before the machine runs out of memory. The
//! servers themselves run under [`dynalert_probe::process::Guard`].

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use dynalert_probe::process::{lock, rss_of};
pub use dynalert_probe::process::{which, Guard};

/// [`dynalert_probe::wait_until`] with the bench's errors: polls `f` every `every` until it
/// returns `Some`; an error ends the wait at once.
pub fn wait_for<T>(
    what: &str,
    deadline: Duration,
    every: Duration,
    f: impl FnMut() -> crate::Result<Option<T>>,
) -> crate::Result<T> {
    dynalert_probe::wait_until(what, deadline, every, f)
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
pub fn mem_available() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// The `MemAvailable:` line of a `/proc/meminfo` text, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut parts = line.split_whitespace().skip(1);
    let v: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(v * 1024),
        Some(_) => None,
    }
}

/// The smallest `MemAvailable` a run leaves to the rest of the machine (3 GiB). The bench
/// machine has no swap and is shared: below this, the servers under measurement are stopped
/// and the set is reported as not fitting, instead of letting the kernel's OOM killer pick a
/// process (possibly another user's).
pub const MEMORY_FLOOR: u64 = 3 << 30;

/// `m` locked, also after a holder panicked (the data stays usable).
fn held<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A watched process: its name, pid, and a handle that is gone once its [`Guard`] dropped.
type Watched = (String, u32, Weak<Mutex<Child>>);

/// Watches `MemAvailable` on a thread while it lives; when it falls below the floor, kills
/// every watched process and records why. Drop stops the watch (before the watched
/// [`Guard`]s are reaped, the watcher holds only weak references, so it never signals a
/// reaped process).
pub struct MemoryGuard {
    watched: Arc<Mutex<Vec<Watched>>>,
    tripped: Arc<Mutex<Option<String>>>,
    checks: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MemoryGuard {
    /// Starts watching with the given floor in bytes, checking every `every`.
    pub fn start(floor: u64, every: Duration) -> MemoryGuard {
        let watched: Arc<Mutex<Vec<Watched>>> = Arc::default();
        let tripped: Arc<Mutex<Option<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let checks = Arc::new(AtomicU64::new(0));
        let (w, t, s, c) = (
            watched.clone(),
            tripped.clone(),
            stop.clone(),
            checks.clone(),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Some(avail) = mem_available() else { return };
                c.fetch_add(1, Ordering::SeqCst);
                if avail < floor {
                    let mut parts = vec![];
                    for (name, pid, child) in held(&w).iter() {
                        if let Some(child) = child.upgrade() {
                            let rss = rss_of(*pid).unwrap_or(0);
                            let _ = lock(&child).kill();
                            parts.push(format!("`{name}` {} MiB", rss >> 20));
                        }
                    }
                    *held(&t) = Some(format!(
                        "MemAvailable fell to {} MiB, under the {} MiB left to the rest of the machine; stopped with RSS {}",
                        avail >> 20,
                        floor >> 20,
                        if parts.is_empty() { "-".to_string() } else { parts.join(", ") }
                    ));
                    return;
                }
                std::thread::sleep(every);
            }
        });
        MemoryGuard {
            watched,
            tripped,
            checks,
            stop,
            thread: Some(thread),
        }
    }

    /// Kills `guard`'s process too when memory runs short.
    pub fn watch(&self, guard: &Guard) {
        let watched = (guard.name.clone(), guard.pid(), guard.handle());
        held(&self.watched).push(watched);
    }

    /// Why the watched processes were stopped, if they were.
    pub fn tripped(&self) -> Option<String> {
        held(&self.tripped).clone()
    }

    /// How many times `MemAvailable` was read so far.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24634612 kB\nMemFree:         1000000 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(parse_mem_available(text), Some(22_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
        assert!(mem_available().is_some_and(|b| b > 0));
    }

    fn sleeper(dir: &Path) -> Guard {
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        Guard::spawn("sleep", cmd, &dir.join("sleep.log")).unwrap()
    }

    #[test]
    fn the_memory_guard_stops_watched_processes_below_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let g = sleeper(dir.path());
        // A floor above any machine's memory: the guard must trip at its first check.
        let mem = MemoryGuard::start(u64::MAX, Duration::from_millis(20));
        mem.watch(&g);
        let why = wait_for(
            "the guard to trip",
            Duration::from_secs(30),
            Duration::from_millis(20),
            || Ok(mem.tripped()),
        )
        .unwrap();
        assert!(why.contains("MemAvailable fell to"), "{why}");
        wait_for(
            "`sleep` to be killed",
            Duration::from_secs(30),
            Duration::from_millis(20),
            || Ok(g.check_alive().is_err().then_some(())),
        )
        .unwrap();
    }

    #[test]
    fn the_memory_guard_leaves_processes_alone_above_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let g = sleeper(dir.path());
        let mem = MemoryGuard::start(1, Duration::from_millis(10));
        mem.watch(&g);
        // Many checks pass while the process keeps running.
        wait_for(
            "20 checks",
            Duration::from_secs(30),
            Duration::from_millis(10),
            || {
                g.check_alive()?;
                Ok((mem.checks() >= 20).then_some(()))
            },
        )
        .unwrap();
        assert_eq!(mem.tripped(), None);
        drop(mem);
        g.check_alive().unwrap();
    }
}
