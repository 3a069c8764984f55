//! Child processes: start detached in their own process group with output to a log file,
//! check liveness without being fooled by zombies or reused pids, read back the port a part
//! bound on `127.0.0.1:0`, stop with TERM then KILL.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use dynalert_probe::port::Announce;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

pub use dynalert_probe::process::which;
pub use dynalert_probe::wait_for;

use crate::state::Part;

/// The address every part is started on: the kernel picks the port.
pub const ANY_PORT: &str = "127.0.0.1:0";

/// Waits until `part` (started on [`ANY_PORT`]) reports the port it bound, and pins its
/// command line to that port, so a restart (scenario `ha`) keeps the address the scrapers
/// know, as a restarted replica does.
pub fn bound_port(part: &mut Part, announce: Announce, deadline: Duration) -> anyhow::Result<u16> {
    let port = dynalert_probe::port::bound_port(
        &part.name,
        part.pid,
        &part.log,
        announce,
        deadline,
        &mut || {
            if is_alive(part) {
                return Ok(());
            }
            bail!("{} exited; see `{}`", part.name, part.log.display())
        },
    )?;
    // The first argument still on ANY_PORT is this server's (the helper has several, read in
    // the order of its arguments).
    if let Some(a) = part.argv.iter_mut().find(|a| a.contains(ANY_PORT)) {
        *a = a.replacen(ANY_PORT, &format!("127.0.0.1:{port}"), 1);
    }
    Ok(port)
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

/// Whether `part` is gone within `limit`.
fn gone(part: &Part, limit: Duration) -> bool {
    let every = Duration::from_millis(20);
    dynalert_probe::wait_until::<_, dynalert_probe::TimedOut>("", limit, every, || {
        Ok((!is_alive(part)).then_some(()))
    })
    .is_ok()
}

/// Stops a part: TERM to its process group, KILL after `grace`. Returns whether it was running.
pub fn stop(part: &Part, grace: Duration) -> bool {
    if !is_alive(part) {
        return false;
    }
    let pid = Pid::from_raw(part.pid as i32);
    let _ = killpg(pid, Signal::SIGTERM);
    let _ = kill(pid, Signal::SIGTERM);
    if !gone(part, grace) {
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = kill(pid, Signal::SIGKILL);
        gone(part, Duration::from_secs(5));
    }
    true
}

/// Kills a part at once (scenario `ha`: a replica dies without a clean shutdown).
pub fn kill_now(part: &Part) {
    if is_alive(part) {
        let _ = killpg(Pid::from_raw(part.pid as i32), Signal::SIGKILL);
        gone(part, Duration::from_secs(5));
    }
}
