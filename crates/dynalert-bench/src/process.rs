//! Child processes with a kill-on-drop guard, free ports, and waiting on conditions.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{BenchError, Result};

/// A child process killed (and reaped) when dropped.
pub struct Guard {
    pub name: String,
    child: Child,
}

impl Guard {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Guard> {
        let out = fs_err::File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.into_parts().0))
            .stderr(Stdio::from(err.into_parts().0))
            .spawn()
            .map_err(|e| BenchError::Process(format!("cannot start `{name}`: {e}")))?;
        Ok(Guard {
            name: name.to_string(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            Some(status) => Err(BenchError::Process(format!(
                "`{}` exited early with {status}",
                self.name
            ))),
            None => Ok(()),
        }
    }

    /// Resident set size from `/proc/<pid>/status`, in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Polls `f` every `every` until it returns `Some`, or fails after `deadline`.
pub fn wait_for<T>(
    what: &str,
    deadline: Duration,
    every: Duration,
    mut f: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if start.elapsed() > deadline {
            return Err(BenchError::Timeout(deadline, what.to_string()));
        }
        std::thread::sleep(every);
    }
}

/// Finds `name` on `PATH`.
pub fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join(name))
        .find(|p| p.is_file())
}
