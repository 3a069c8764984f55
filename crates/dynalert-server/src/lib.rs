//! The threshold exporter as a library: flags, server lifecycle, router and reload path.
//!
//! `threshold-exporter` is a thin binary over [`run`]. Tests and benchmarks start a
//! [`Server`] in-process and drive [`router`] with or without a socket.

pub mod auth;
pub mod body;
mod chunks;
pub mod cli;
pub mod clock;
pub mod http;
pub mod logging;
pub mod reload;
pub mod selfmetrics;
pub mod serve;
pub mod state;
pub mod status;
pub mod storage;
pub mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use dynalert_config::{Limits, Loader, ReadOptions};

pub use cli::Args;
pub use clock::{Clock, SystemClock};
pub use http::router;
pub use state::AppState;

use crate::body::{Body, Segment};
use crate::state::{Msg, Published, Shared, Status};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Source revision: `git rev-parse --short HEAD` at build time, else `unknown`.
pub const REVISION: &str = dynalert_version::REVISION;

/// What a [`Server`] needs besides sockets.
#[derive(Clone)]
pub struct Options {
    pub config_dir: PathBuf,
    pub telemetry_path: String,
    pub storage_path: Option<PathBuf>,
    /// Prometheus asked by `/tenants/{id}` for observations and alert states.
    pub prometheus_url: Option<String>,
    pub poll_interval: Duration,
    pub watch: bool,
    pub auth: Option<Arc<auth::Auth>>,
    /// Limits and settle delay of config reads.
    pub read: ReadOptions,
    /// Whether `POST /-/reload` is enabled (`--web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// The time that expiry and schedule edges are resolved against.
    pub clock: Arc<dyn Clock>,
}

impl Options {
    pub fn new(config_dir: impl Into<PathBuf>) -> Options {
        Options {
            config_dir: config_dir.into(),
            telemetry_path: "/metrics".into(),
            storage_path: None,
            prometheus_url: None,
            poll_interval: Duration::from_secs(30),
            watch: true,
            auth: None,
            read: ReadOptions::default(),
            enable_lifecycle: true,
            clock: Arc::new(SystemClock),
        }
    }
}

/// A running reloader (and watcher) with its shared state.
pub struct Server {
    shared: AppState,
    reloader: Option<JoinHandle<()>>,
    _watch: Option<Arc<watch::DirWatch>>,
}

impl Server {
    /// Starts the reloader thread (which loads the config at once) and the watcher.
    pub fn start(opts: Options) -> Server {
        let (tx, rx) = mpsc::channel();
        let empty = Published {
            body: Arc::new(Body::assemble(&[])),
            config: Arc::default(),
            at: opts.clock.now(),
            status: Arc::new(Status::default()),
            valid: Arc::new(Segment::new(selfmetrics::render_tenant_valid(
                &Default::default(),
            ))),
        };
        let shared = Arc::new(Shared {
            published: ArcSwap::from_pointee(empty),
            reload: tx.clone(),
            status_cache: Default::default(),
            prometheus_url: opts.prometheus_url.clone(),
            telemetry_path: opts.telemetry_path.clone(),
            auth: arc_swap::ArcSwapOption::new(opts.auth.clone()),
            config_dir: opts.config_dir.display().to_string(),
            enable_lifecycle: opts.enable_lifecycle,
        });
        let mut loader = Loader::new(&opts.config_dir);
        let mut seed = None;
        if let Some(path) = &opts.storage_path {
            match storage::read(path) {
                Ok(Some(config)) => {
                    tracing::info!(path = %path.display(), tenants = config.tenants.len(), "seeded last good config from storage");
                    seed = Some(Arc::new(config.clone()));
                    loader = Loader::with_last_good(&opts.config_dir, config);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("ignoring storage snapshot: {e}"),
            }
        }
        let loader = loader.with_read_options(opts.read);
        let dir_watch = opts
            .watch
            .then(|| watch::DirWatch::start(&opts.config_dir, tx.clone()))
            .and_then(|w| {
                w.map_err(|e| {
                    tracing::warn!(error = %e, "cannot watch config directory; relying on the poll")
                })
                .ok()
            });
        let hook: Option<Box<dyn Fn() + Send>> = dir_watch.clone().map(|w| {
            Box::new(move || {
                if let Err(e) = w.rewatch() {
                    tracing::warn!(error = %e, "cannot re-add the config directory watch");
                }
            }) as Box<dyn Fn() + Send>
        });
        let mut reloader = reload::Reloader::new(
            loader,
            shared.clone(),
            opts.storage_path.clone(),
            opts.poll_interval,
            hook,
            opts.clock.clone(),
        );
        // The snapshot is served at once, marked as such, while the first load runs.
        if let Some(seed) = seed {
            reloader.publish_snapshot(&seed);
        }
        let handle = std::thread::Builder::new()
            .name("reloader".into())
            .spawn(move || reloader.run(rx))
            .expect("spawn reloader thread");
        Server {
            shared,
            reloader: Some(handle),
            _watch: dir_watch,
        }
    }

    pub fn state(&self) -> AppState {
        self.shared.clone()
    }

    pub fn router(&self) -> axum::Router {
        router(self.shared.clone())
    }

    /// Waits, without blocking the async runtime, until the first load finished or
    /// `timeout` passed; true when it finished.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.load().status.last_reload.is_some() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Blocks the calling thread until the first load finished (for synchronous callers
    /// such as the benchmarks; async code uses [`Server::ready`]).
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.shared.load().status.last_reload.is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    /// Tells the reloader that its clock moved (a manual clock in tests, or a wall-clock
    /// jump): it re-checks the next edge at once instead of at the instant it computed.
    /// Returns once any change is published.
    pub async fn clock_moved(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.shared.reload.send(Msg::Tick(Some(tx))).is_ok() {
            let _ = rx.await;
        }
    }

    /// Stops the reloader and waits for it.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        let _ = self.shared.reload.send(Msg::Stop);
        if let Some(h) = self.reloader.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Runs the exporter until SIGINT or SIGTERM. Exit code 2 on a start-up error.
pub fn run(args: Args) -> ExitCode {
    logging::init(args.log_level, args.log_format);
    match try_run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(2)
        }
    }
}

fn try_run(args: Args) -> Result<(), String> {
    cli::check_telemetry_path(&args.telemetry_path)?;
    let addr = cli::parse_listen(&args.listen_address)?;
    let web = (args.web_config_file.as_deref())
        .map(|p| auth::WebConfig::load(p).map_err(|e| format!("invalid `--web.config.file`: {e}")))
        .transpose()?;
    if !args.config_dir.is_dir() {
        tracing::warn!(dir = %args.config_dir.display(), "config directory does not exist (yet); not ready until it loads");
    }
    let (tls, cert, auth, web_files) = match web {
        Some(w) => (w.tls, w.cert, w.auth.map(Arc::new), w.files),
        None => (None, None, None, Vec::new()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("http")
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            format!(
                "cannot listen on `--web.listen-address` `{}`: {e}",
                args.listen_address
            )
        })?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let opts = Options {
            telemetry_path: args.telemetry_path.clone(),
            storage_path: args.storage_path.clone(),
            prometheus_url: args.prometheus_url.clone(),
            poll_interval: args.poll_interval,
            watch: args.watch,
            auth,
            read: ReadOptions {
                limits: Limits {
                    max_bytes: args.max_file_size,
                    max_depth: usize::from(args.max_depth),
                    max_nodes: args.max_nodes as usize,
                },
                settle: args.settle_delay,
                ..ReadOptions::default()
            },
            enable_lifecycle: args.enable_lifecycle,
            ..Options::new(&args.config_dir)
        };
        let server = Server::start(opts);
        tracing::info!(
            version = VERSION,
            revision = REVISION,
            address = %local,
            tls = tls.is_some(),
            dir = %args.config_dir.display(),
            "listening"
        );
        if let Some(path) = args.web_config_file.clone() {
            tokio::spawn(auth::watch(
                path,
                server.state(),
                cert,
                web_files,
                Duration::from_secs(2),
            ));
        }
        let reload = server.state().reload.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading");
                let _ = reload.send(Msg::Reload(state::Trigger::Signal, None));
            }
        });
        // SIGUSR1/SIGUSR2 would end the process by default: log and ignore them.
        for kind in [
            tokio::signal::unix::SignalKind::user_defined1(),
            tokio::signal::unix::SignalKind::user_defined2(),
        ] {
            if let Ok(mut sig) = tokio::signal::unix::signal(kind) {
                tokio::spawn(async move {
                    while sig.recv().await.is_some() {
                        tracing::info!("SIGUSR1/SIGUSR2 received and ignored (SIGHUP reloads)");
                    }
                });
            }
        }
        serve::serve(
            listener,
            server.router(),
            tls,
            args.max_connections as usize,
            shutdown_signal(),
        )
        .await;
        tracing::info!("shutting down");
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
