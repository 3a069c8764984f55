//! `dynalert lab up|status|down`: the local lab of real servers (see `docs/lab.md`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use dynalert_lab::up::{self, UpOptions};
use dynalert_lab::LabState;

/// Where the lab lives unless `--dir` says otherwise.
pub const DEFAULT_DIR: &str = "target/lab";

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Start, inspect and stop the local lab of real servers"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Start, inspect and stop the local lab of real servers.

The lab runs Prometheus, Alertmanager, two MariaDB servers with mysqld_exporter, two
threshold-exporter replicas, a webhook sink and a simulated Kubernetes endpoint (labelled as
simulated wherever it is shown) as local processes on free 127.0.0.1 ports, with the rule packs
and `examples/lab/` as configuration. Its state, data and logs live in `--dir`."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Start the lab and wait until every part is ready:
    dynalert lab up

  Show every part, its pid, whether it runs and its URL:
    dynalert lab status

  Stop exactly the processes `up` started:
    dynalert lab down

Exit codes:
  0  done (`status`: every part runs)
  1  `status`: at least one part is stopped
  2  usage error, or a part failed to start (its log is named)

See also:
  dynalert scenario run   the acceptance scenarios against the lab"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Start every part on free 127.0.0.1 ports and wait until all are ready.
    #[command(about = r#"Start every part on free 127.0.0.1 ports and wait until all are ready"#, long_about = None, after_long_help = AFTER_HELP)]
    Up(UpArgs),
    /// Show every part, its pid, whether it runs, and its URL.
    #[command(about = r#"Show every part, its pid, whether it runs, and its URL"#, long_about = None, after_long_help = AFTER_HELP)]
    Status(DirArgs),
    /// Stop exactly the processes `up` started.
    #[command(about = r#"Stop exactly the processes `up` started"#, long_about = None, after_long_help = AFTER_HELP)]
    Down(DirArgs),
    /// The webhook sink and the simulated Kubernetes endpoint (started by `up`).
    #[command(hide = true)]
    Helper(HelperArgs),
}

#[derive(Debug, clap::Args)]
pub struct DirArgs {
    /// The lab directory.
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The lab directory (data, logs, lab.json).
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Repository root holding `rules/packs/` and `examples/lab/` (default: found from the
    /// current directory or the binary's location).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// The `threshold-exporter` binary (default: next to this binary, then PATH).
    #[arg(long)]
    pub exporter: Option<PathBuf>,
    /// Seconds every part together may take to become ready.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// The engine that scrapes, stores and evaluates the rule packs: `prometheus`, or
    /// `victoriametrics` (vmagent ×2, single-node VictoriaMetrics, vmalert).
    #[arg(long, value_enum, default_value = "prometheus")]
    pub engine: EngineArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EngineArg {
    Prometheus,
    #[value(name = "victoriametrics")]
    VictoriaMetrics,
}

#[derive(Debug, clap::Args)]
pub struct HelperArgs {
    /// The webhook sink: listen address (port 0: the port bound is logged).
    #[arg(long, requires = "sink_file")]
    pub sink_listen: Option<std::net::SocketAddr>,
    /// The simulated Kubernetes endpoint: listen address.
    #[arg(long)]
    pub sim_listen: Option<std::net::SocketAddr>,
    /// The webhook sink: the file notifications are appended to.
    #[arg(long)]
    pub sink_file: Option<PathBuf>,
    /// The query front (VictoriaMetrics engine): listen address.
    #[arg(long, requires_all = ["query_backend", "rules_backend"])]
    pub query_listen: Option<std::net::SocketAddr>,
    /// The query front: VictoriaMetrics' URL.
    #[arg(long)]
    pub query_backend: Option<String>,
    /// The query front: vmalert's URL.
    #[arg(long)]
    pub rules_backend: Option<String>,
}

/// The repository root: the first ancestor of the current directory, then of this binary,
/// that holds `rules/packs` and `examples/lab`.
pub fn find_repo() -> anyhow::Result<PathBuf> {
    let mut starts = vec![std::env::current_dir()?];
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    for s in starts {
        for a in s.ancestors() {
            if a.join("rules/packs").is_dir() && a.join("examples/lab").is_dir() {
                return Ok(a.to_path_buf());
            }
        }
    }
    anyhow::bail!("cannot find the repository (a directory with `rules/packs` and `examples/lab`)\n  hint: run from the repository or pass `--repo`")
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        LabCommand::Up(a) => {
            let exe = std::env::current_exe()?;
            let exporter = a.exporter.clone().unwrap_or_else(|| {
                let sibling = exe.with_file_name("threshold-exporter");
                if sibling.is_file() {
                    sibling
                } else {
                    dynalert_lab::process::which("threshold-exporter").unwrap_or(sibling)
                }
            });
            let opts = UpOptions {
                dir: a.dir.clone(),
                repo: a.repo.map_or_else(find_repo, Ok)?,
                dynalert_bin: exe,
                exporter_bin: exporter,
                ready_timeout: Duration::from_secs(a.timeout),
                engine: match a.engine {
                    EngineArg::Prometheus => up::Engine::Prometheus,
                    EngineArg::VictoriaMetrics => up::Engine::VictoriaMetrics,
                },
            };
            let state = up::up(&opts, &mut |m| eprintln!("lab: {m}"))?;
            print_urls(&state);
            Ok(0)
        }
        LabCommand::Status(a) => {
            let state = LabState::load(&a.dir)?;
            let mut down = 0;
            for (name, pid, alive, url, simulated) in up::status(&state) {
                down += usize::from(!alive);
                println!(
                    "{:<26} pid {:<8} {:<8} {}{}",
                    name,
                    pid,
                    if alive { "running" } else { "STOPPED" },
                    url.unwrap_or_default(),
                    if simulated {
                        "  (ours; serves SIMULATED Kubernetes series)"
                    } else {
                        ""
                    }
                );
            }
            Ok(crate::exit_code(down > 0))
        }
        LabCommand::Down(a) => {
            let n = up::down(&a.dir, &mut |m| eprintln!("lab: {m}"))?;
            eprintln!("lab: stopped {n} processes");
            Ok(0)
        }
        LabCommand::Helper(a) => {
            let front = match (a.query_listen, a.query_backend, a.rules_backend) {
                (Some(listen), Some(query_backend), Some(rules_backend)) => {
                    Some(dynalert_lab::helper::QueryFront {
                        listen,
                        query_backend,
                        rules_backend,
                    })
                }
                _ => None,
            };
            let sink = match (a.sink_listen, a.sink_file) {
                (Some(listen), Some(file)) => Some(dynalert_lab::helper::Sink { listen, file }),
                _ => None,
            };
            dynalert_lab::helper::serve(sink, a.sim_listen, front).context("lab helper failed")?;
            Ok(0)
        }
    }
}

/// The URLs a person opens.
pub fn print_urls(state: &LabState) {
    match &state.vmalert_url {
        Some(vmalert) => {
            println!("query front (VM API)   {}", state.prometheus_url);
            println!("vmalert                {vmalert}");
        }
        None => println!("Prometheus             {}", state.prometheus_url),
    }
    println!("Alertmanager           {}", state.alertmanager_url);
    for (i, u) in state.exporter_urls.iter().enumerate() {
        println!("threshold-exporter {}   {u}", i + 1);
    }
    println!("webhook sink           {}", state.sink_url);
    println!("Kubernetes (SIMULATED) {}", state.kubernetes_sim_url);
    for d in &state.databases {
        println!(
            "MariaDB {:<14} {} (exporter {})",
            d.tenant,
            d.socket.display(),
            d.exporter_url
        );
    }
    println!("lab directory          {}", state.dir.display());
}
