//! A child process killed (and reaped) when its guard is dropped, with its output in a log
//! file that errors name.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::port::{self, Announce};

/// A child process killed (and reaped) when dropped.
pub struct Guard {
    pub name: String,
    log: PathBuf,
    pid: u32,
    child: Arc<Mutex<Child>>,
}

impl Guard {
    /// Spawns `cmd` with stdin closed, stdout and stderr written to `log` (truncated).
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> anyhow::Result<Guard> {
        let out = fs_err::File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.into_parts().0))
            .stderr(Stdio::from(err.into_parts().0))
            .spawn()
            .with_context(|| format!("cannot start `{name}`"))?;
        Ok(Guard {
            name: name.to_string(),
            log: log.to_path_buf(),
            pid: child.id(),
            child: Arc::new(Mutex::new(child)),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// An error naming the process and its log if it has exited.
    pub fn check_alive(&self) -> anyhow::Result<()> {
        if let Some(status) = lock(&self.child).try_wait()? {
            bail!(
                "`{}` exited early with {status}; its log: `{}`",
                self.name,
                self.log.display()
            );
        }
        Ok(())
    }

    /// The port the child bound (it was given `127.0.0.1:0`), as it reports it; fails at once
    /// when the child exits, and after `deadline`.
    pub fn port(&self, announce: Announce, deadline: Duration) -> anyhow::Result<u16> {
        port::bound_port(
            &self.name,
            self.pid,
            &self.log,
            announce,
            deadline,
            &mut || self.check_alive(),
        )
    }

    /// Resident set size from `/proc/<pid>/status`, in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        rss_of(self.pid)
    }

    /// A handle that kills the child while the guard lives, and is gone once it dropped
    /// (a watcher holding it never signals a reaped pid).
    pub fn handle(&self) -> Weak<Mutex<Child>> {
        Arc::downgrade(&self.child)
    }
}

/// Locks a child, also after a panic elsewhere.
pub fn lock(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resident set size of `pid` from `/proc/<pid>/status`, in bytes.
pub fn rss_of(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts the Alertmanager binary `bin` with `config`, its data under `dir`, on
/// `127.0.0.1:0` and without clustering; returns its guard and the port it bound.
pub fn start_alertmanager(bin: &str, dir: &Path, config: &Path) -> anyhow::Result<(Guard, u16)> {
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--cluster.listen-address=");
    let am = Guard::spawn("alertmanager", cmd, &dir.join("alertmanager.log"))?;
    let port = am.port(port::EXPORTER_TOOLKIT, Duration::from_secs(60))?;
    Ok((am, port))
}

/// Starts `prometheus` with `config`, its TSDB and log under `dir`, on `127.0.0.1:0`;
/// returns its guard and the port it bound.
pub fn start_prometheus(dir: &Path, config: &Path) -> anyhow::Result<(Guard, u16)> {
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0");
    let prom = Guard::spawn("prometheus", cmd, &dir.join("prometheus.log"))?;
    let port = prom.port(port::EXPORTER_TOOLKIT, Duration::from_secs(30))?;
    Ok((prom, port))
}

/// Starts a VictoriaMetrics binary (`victoria-metrics`, `vmagent`, `vmalert`) on
/// `127.0.0.1:0` with `args`, its log `<bin>.log` in `dir`. They log no port (1.79), so it is
/// read from the socket; waits for `/health`. Returns the guard and the base URL.
pub fn start_victoriametrics_part(
    bin: &str,
    args: &[String],
    dir: &Path,
) -> anyhow::Result<(Guard, String)> {
    let Some(path) = which(bin) else {
        bail!("`{bin}` is required (Debian package victoria-metrics; `make deps`)");
    };
    let mut cmd = Command::new(path);
    cmd.arg("-httpListenAddr=127.0.0.1:0").args(args);
    let guard = Guard::spawn(bin, cmd, &dir.join(format!("{bin}.log")))?;
    let url = format!(
        "http://127.0.0.1:{}",
        guard.port(Announce::Socket, Duration::from_secs(60))?
    );
    let health = format!("{url}/health");
    crate::wait_for(
        &format!("{bin} to answer /health"),
        Duration::from_secs(60),
        || {
            guard.check_alive()?;
            Ok(crate::http::is_ready(&health).then_some(()))
        },
    )?;
    Ok((guard, url))
}

/// Writes the OpenMetrics text `om` next to `tsdb` and backfills it into the TSDB directory
/// `tsdb` with `promtool tsdb create-blocks-from openmetrics`.
pub fn backfill(om: &str, tsdb: &Path) -> anyhow::Result<()> {
    let file = tsdb.with_extension("om");
    fs_err::write(&file, om)?;
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(tsdb)
        .output()
        .context("cannot run `promtool` (package prometheus, installed by `make deps`)")?;
    if !out.status.success() {
        bail!(
            "promtool could not backfill `{}`: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Finds `bin` on `PATH`.
pub fn which(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::wait_until;

    #[test]
    fn a_dead_process_is_named_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let g = Guard::spawn("true", Command::new("true"), &dir.path().join("true.log")).unwrap();
        let err = wait_until::<_, anyhow::Error>(
            "`true` to exit",
            Duration::from_secs(30),
            Duration::from_millis(20),
            || Ok(g.check_alive().err()),
        )
        .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("`true` exited early"), "{msg}");
        assert!(msg.contains("true.log"), "{msg}");
    }

    #[test]
    fn dropping_the_guard_kills_the_child() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        let g = Guard::spawn("sleep", cmd, &dir.path().join("sleep.log")).unwrap();
        let pid = g.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        drop(g);
        // Killed and reaped: the pid is gone, not a zombie.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
