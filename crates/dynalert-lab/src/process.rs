//! Child processes: start detached in their own process group with output to a log file,
//! check liveness without being fooled by zombies or reused pids, stop with TERM then KILL.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::state::Part;

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot bind a free port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

/// Start time of `pid` in clock ticks since boot; `None` when the process is gone or a zombie.
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: parse after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether the recorded process is still the one running under its pid.
pub fn is_alive(part: &Part) -> bool {
    start_ticks(part.pid) == Some(part.start_ticks)
}

/// Starts `argv` in a new process group, stdin closed, stdout and stderr appended to `log`.
pub fn spawn(
    name: &str,
    argv: &[String],
    env: &BTreeMap<String, String>,
    log: &Path,
    simulated: bool,
) -> anyhow::Result<Part> {
    use std::os::unix::process::CommandExt;
    let out = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?
        .into_parts()
        .0;
    let err = out.try_clone()?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0);
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {name} (`{}`)", argv[0]))?;
    let pid = child.id();
    // The child is not waited for here: it outlives this process. Its start time is read
    // right away so a later `down` can tell it from an unrelated process with the same pid.
    drop(child);
    let start_ticks = start_ticks(pid)
        .with_context(|| format!("{name} exited at once; see `{}`", log.display()))?;
    Ok(Part {
        name: name.to_string(),
        pid,
        start_ticks,
        url: None,
        log: log.to_path_buf(),
        argv: argv.to_vec(),
        env: env.clone(),
        simulated,
    })
}

/// Stops a part: TERM to its process group, KILL after `grace`. Returns whether it was running.
pub fn stop(part: &Part, grace: Duration) -> bool {
    if !is_alive(part) {
        return false;
    }
    let pid = Pid::from_raw(part.pid as i32);
    let _ = killpg(pid, Signal::SIGTERM);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_alive(part) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = killpg(pid, Signal::SIGKILL);
    let _ = kill(pid, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_alive(part) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Kills a part at once (scenario `ha`: a replica dies without a clean shutdown).
pub fn kill_now(part: &Part) {
    if is_alive(part) {
        let _ = killpg(Pid::from_raw(part.pid as i32), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_alive(part) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Polls `check` every 100 ms until it returns `Ok(Some(_))` or `deadline` passes.
pub fn wait_for<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match check() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() >= deadline {
            match last_err {
                Some(e) => bail!("timed out after {:?} waiting for {what}: {e:#}", deadline),
                None => bail!("timed out after {:?} waiting for {what}", deadline),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Finds `bin` on PATH.
pub fn which(bin: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}
