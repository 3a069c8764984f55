//! Real MariaDB load: `n` real client connections, each running `SELECT SLEEP(…)`, so both
//! `Threads_connected` and `Threads_running` rise on the server. Dropping the load ends them.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::process::wait_for;
use crate::up::mariadb_exec;

/// Open client connections; closed on drop.
pub struct Load {
    children: Vec<Child>,
    mariadb: std::path::PathBuf,
    socket: std::path::PathBuf,
}

/// Marks the load's queries so they can be found in the process list and killed.
const MARK: &str = "dynalert_lab_load";

/// `SELECT <what>` of the load's queries in the process list.
fn select_load(what: &str) -> String {
    format!("SELECT {what} FROM information_schema.processlist WHERE info LIKE '%{MARK}%' AND info NOT LIKE '%processlist%'")
}

impl Load {
    /// Opens `n` connections to the server at `socket` and waits until the server counts them.
    pub fn open(
        mariadb: &Path,
        socket: &Path,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Load> {
        let mut load = Load {
            children: Vec::with_capacity(n),
            mariadb: mariadb.to_path_buf(),
            socket: socket.to_path_buf(),
        };
        for _ in 0..n {
            let child = Command::new(mariadb)
                .args(["--no-defaults", "-uroot", "-S"])
                .arg(socket)
                .args(["-e", &format!("SELECT SLEEP(900) AS {MARK}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("cannot run `{}`", mariadb.display()))?;
            load.children.push(child);
        }
        wait_for("the load's connections", timeout, || {
            let count = mariadb_exec(mariadb, socket, &select_load("COUNT(*)"))?;
            Ok((count.trim().parse::<usize>().unwrap_or(0) >= n).then_some(()))
        })?;
        Ok(load)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        // A sleeping query does not notice its client going away: end it on the server.
        if let Ok(ids) = mariadb_exec(&self.mariadb, &self.socket, &select_load("id")) {
            let kills: String = ids
                .split_whitespace()
                .map(|id| format!("KILL {id};"))
                .collect();
            if !kills.is_empty() {
                let _ = mariadb_exec(&self.mariadb, &self.socket, &kills);
            }
        }
        for c in &mut self.children {
            let _ = c.kill();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}
