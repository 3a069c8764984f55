//! The port a child bound: children are started on `127.0.0.1:0` and the caller reads the
//! real port back, so no port is reserved, released and raced for.
//!
//! How each server reports it (checked against the installed versions' start-up logs):
//!
//! | server | reports | [`Announce`] |
//! |---|---|---|
//! | Prometheus 2.42, Alertmanager 0.25, mysqld_exporter 0.14 | `msg="Listening on" address=127.0.0.1:N` | [`EXPORTER_TOOLKIT`] |
//! | threshold-exporter | `msg=listening … address=127.0.0.1:N` | [`THRESHOLD_EXPORTER`] |
//! | `dynalert lab helper` | `msg=listening name=<server> address=127.0.0.1:N` | `Log("name=<server>")` |
//! | VictoriaMetrics, vmagent, vmalert 1.79 | nothing: they log the requested `http://127.0.0.1:0/` | [`Announce::Socket`] |
//! | MariaDB 10.11 | cannot bind `:0` (`--port=0` means 3306) | none: the lab uses its unix socket only |

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::wait::wait_until;

/// The start-up line of servers built on Prometheus' exporter-toolkit.
pub const EXPORTER_TOOLKIT: Announce = Announce::Log("msg=\"Listening on\"");

/// The start-up line of the threshold exporter (logfmt).
pub const THRESHOLD_EXPORTER: Announce = Announce::Log("msg=listening");

/// How a child reports the address it bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// The last log line holding this marker carries `address=127.0.0.1:N`.
    Log(&'static str),
    /// The server does not report it: the one TCP socket the process listens on, read from
    /// `/proc/<pid>/net/tcp` (the only fallback; used for the VictoriaMetrics family).
    Socket,
}

/// Waits until the child `pid` (logging to `log`) reports the port it bound. `alive` runs
/// before each look: a child that exited fails the wait at once.
pub fn bound_port(
    name: &str,
    pid: u32,
    log: &Path,
    announce: Announce,
    deadline: Duration,
    alive: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<u16> {
    wait_until(
        &format!("`{name}` to report its port"),
        deadline,
        Duration::from_millis(50),
        || {
            alive()?;
            match announce {
                Announce::Log(marker) => {
                    let text = std::fs::read_to_string(log).unwrap_or_default();
                    Ok(logged_port(&text, marker))
                }
                Announce::Socket => listening_port(pid),
            }
        },
    )
}

/// The port of the last line of `text` holding `marker` and `address=<host>:<port>`.
pub fn logged_port(text: &str, marker: &str) -> Option<u16> {
    text.lines()
        .rev()
        .filter(|l| l.contains(marker))
        .find_map(|l| {
            let addr = l
                .split_whitespace()
                .find_map(|f| f.strip_prefix("address="))?;
            addr.trim_matches('"').rsplit_once(':')?.1.parse().ok()
        })
}

/// The port of the one TCP socket `pid` listens on; `None` while it listens on none.
fn listening_port(pid: u32) -> anyhow::Result<Option<u16>> {
    match listening_ports(pid)?.as_slice() {
        [] => Ok(None),
        [p] => Ok(Some(*p)),
        more => bail!("pid {pid} listens on several ports {more:?}; cannot tell which to use"),
    }
}

/// Ports of the LISTEN sockets (state `0A` in `/proc/<pid>/net/tcp`) that `pid` holds.
fn listening_ports(pid: u32) -> anyhow::Result<Vec<u16>> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("cannot list the sockets of pid {pid}"))?;
    let inodes: std::collections::BTreeSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|t| {
            Some(
                t.to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp"))?;
    let ports: std::collections::BTreeSet<u16> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.get(3) != Some(&"0A") || !inodes.contains(*f.get(9)?) {
                return None;
            }
            u16::from_str_radix(f.get(1)?.rsplit_once(':')?.1, 16).ok()
        })
        .collect();
    Ok(ports.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_socket_of_this_process_is_found() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let want = l.local_addr().unwrap().port();
        // Other tests of this binary may hold listeners too: look for ours among them.
        assert!(listening_ports(std::process::id()).unwrap().contains(&want));
        drop(l);
    }

    #[test]
    fn the_last_announcement_wins() {
        let log = "ts=1 level=info msg=\"Listening on\" address=127.0.0.1:40001\n\
                   ts=2 level=info msg=\"TLS is disabled.\" http2=false address=127.0.0.1:40001\n\
                   ts=3 level=info msg=\"Listening on\" address=127.0.0.1:40002\n";
        let Announce::Log(marker) = EXPORTER_TOOLKIT else {
            unreachable!()
        };
        assert_eq!(logged_port(log, marker), Some(40002));
        assert_eq!(logged_port("msg=listening\n", "msg=listening"), None);
    }
}
