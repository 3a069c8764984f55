//! `lab up`, `lab status`, `lab down`: bring every part up on `127.0.0.1:0` (each reports the
//! port it bound), wait until each is ready, record it in `lab.json`; stop exactly what was
//! recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use dynalert_probe::http::is_ready;
use dynalert_probe::port::{Announce, EXPORTER_TOOLKIT, THRESHOLD_EXPORTER};

use crate::process::{self, bound_port, spawn, wait_for, which, ANY_PORT};
use crate::state::{Database, LabState, Part};

/// The tenants that get a real MariaDB in the lab.
pub const DB_TENANTS: [&str; 2] = ["db-a", "db-b"];

/// The tenants whose application metrics the lab scrapes (job `application`): `shop` and
/// `batch` declare the same custom alert recipes, `db-b` declares none.
pub const APP_TENANTS: [&str; 3] = ["shop", "batch", "db-b"];

/// The scrape job of the application metrics.
pub const APP_JOB: &str = "application";

/// The application metrics kept from each application target (Alertmanager's own
/// `/metrics`): a gauge, the HTTP request and response-size histograms, the build info.
const APP_METRICS: &str =
    "go_goroutines|alertmanager_build_info|alertmanager_http_request_duration_seconds_.*|alertmanager_http_response_size_bytes_.*";

/// The generated recipe rule file, in the lab's rules directory.
pub const RECIPE_RULES: &str = "custom-alerts.yaml";

/// The placeholder sink address used in `examples/lab/`, rewritten to the real one.
pub const SINK_PLACEHOLDER: &str = "127.0.0.1:5001";

/// The engine that scrapes, stores and evaluates the rule packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One Prometheus scrapes, stores and evaluates.
    Prometheus,
    /// Two vmagent (sharing the targets, the threshold exporters scraped by both), a
    /// single-node VictoriaMetrics with deduplication, vmalert evaluating the same packs.
    VictoriaMetrics,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Prometheus => "prometheus",
            Engine::VictoriaMetrics => "victoriametrics",
        }
    }
}

/// Scrape and evaluation interval of the lab.
pub const INTERVAL_S: u64 = 5;

/// Scrape interval of the threshold exporter replicas on the Prometheus engine.
///
/// A threshold change reaches an alert after the exporters reload, after the scrape of the
/// later of the two replicas (thresholds are `max` over replicas, so a lowered threshold
/// counts once both serve it) and at the next evaluation of the pack's group. Prometheus
/// places every group at a fixed offset inside its interval (a hash of the group's name and
/// file path) and every target at a fixed offset too (a hash of its labels and URL, seeded
/// with the host name and external labels). With the exporter scraped at the 5 s evaluation
/// interval, the gap from the replicas' scrapes to the group's evaluation is fixed per lab
/// directory, anywhere from 0 to 5 s, and when the group's slot falls between the two
/// replicas' slots a lowered threshold waits one more interval: 4.8 s median in one
/// directory, 9.8 s in another. Scraping the exporter (a few hundred small series in the lab)
/// every second bounds that gap by 1 s in every directory; what is left is the wait for the
/// group's next evaluation, 0 to 5 s, the same in every directory. Observations and rules
/// keep the 5 s interval.
pub const EXPORTER_SCRAPE_INTERVAL_S: u64 = 1;

/// What `up` needs to know.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    /// Repository root: `rules/packs/` and `examples/lab/` are read from here.
    pub repo: PathBuf,
    pub dynalert_bin: PathBuf,
    pub exporter_bin: PathBuf,
    /// How long every part together may take to become ready.
    pub ready_timeout: Duration,
    pub engine: Engine,
}

/// Debian binaries the lab needs, with the package that ships each.
const BINARIES: [(&str, &str); 6] = [
    ("prometheus", "prometheus"),
    ("prometheus-alertmanager", "prometheus-alertmanager"),
    ("mariadbd", "mariadb-server"),
    ("mariadb-install-db", "mariadb-server"),
    ("mariadb", "mariadb-client"),
    ("prometheus-mysqld-exporter", "prometheus-mysqld-exporter"),
];

/// The VictoriaMetrics engine's binaries (Debian package `victoria-metrics`).
const VM_BINARIES: [(&str, &str); 3] = [
    ("victoria-metrics", "victoria-metrics"),
    ("vmagent", "victoria-metrics"),
    ("vmalert", "victoria-metrics"),
];

fn find_bin(bin: &str) -> Option<PathBuf> {
    which(bin).or_else(|| {
        ["/usr/sbin", "/usr/bin", "/sbin"]
            .iter()
            .map(|d| Path::new(d).join(bin))
            .find(|p| p.is_file())
    })
}

/// Fails naming the Debian package of every missing binary.
pub fn check_binaries(opts: &UpOptions) -> anyhow::Result<BTreeMap<&'static str, PathBuf>> {
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    let binaries: Vec<(&'static str, &'static str)> = match opts.engine {
        Engine::Prometheus => BINARIES.to_vec(),
        Engine::VictoriaMetrics => BINARIES
            .iter()
            .copied()
            .filter(|(b, _)| *b != "prometheus")
            .chain(VM_BINARIES)
            .collect(),
    };
    for &(bin, pkg) in &binaries {
        match find_bin(bin) {
            Some(p) => {
                found.insert(bin, p);
            }
            None => missing.push(format!("`{bin}` (Debian package `{pkg}`)")),
        }
    }
    if !opts.exporter_bin.is_file() {
        missing.push(format!(
            "`{}` (build it with `cargo build --release --bins`)",
            opts.exporter_bin.display()
        ));
    }
    if !missing.is_empty() {
        bail!(
            "missing {}\n  hint: run `scripts/install-deps.sh` (as root) or `apt-get install {}`",
            missing.join(", "),
            binaries
                .iter()
                .filter(|(b, _)| !found.contains_key(b))
                .map(|(_, p)| *p)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(found)
}

/// The parts of a lab being brought up: stopped in reverse order if `up` fails half-way.
struct Started {
    parts: Arc<Mutex<Vec<Part>>>,
    armed: bool,
}

impl Drop for Started {
    fn drop(&mut self) {
        if self.armed {
            let parts = self.parts.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for p in parts.iter().rev() {
                process::stop(p, Duration::from_secs(5));
            }
        }
    }
}

/// Rewrites `for:` of every rule to `0s` and the 3 to 15-minute windows to 30 s: the lab
/// measures the pipeline (scrape, evaluation, routing) at its 5 s intervals, not a pending
/// period or a smoothing window chosen for production (a `rate(…[5m])` of a series born a
/// minute ago is a fifth of its true rate; a state read over the kubelet's 10-minute back-off
/// window would resolve 10 minutes late). The real `for:` and windows are proven by the packs'
/// promtool tests instead (the dynalert-rules tests fail when an alert with a `for:` has no
/// promtool case in which it fires).
pub fn lab_rule_text(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("for:") {
                format!("{}for: 0s", &l[..l.len() - t.len()])
            } else {
                ["[3m])", "[5m])", "[10m])", "[15m])"]
                    .iter()
                    .fold(l.to_string(), |l, w| l.replace(w, "[30s])"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn copy_conf(src: &Path, dst: &Path, sink_addr: &str, engine: Engine) -> anyhow::Result<()> {
    fs_err::create_dir_all(dst)?;
    let group_wait = lab_group_wait_s(engine);
    for e in fs_err::read_dir(src)? {
        let e = e?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n.starts_with('.') || !(n.ends_with(".yaml") || n.ends_with(".yml")) {
            continue;
        }
        let mut text = fs_err::read_to_string(e.path())?.replace(SINK_PLACEHOLDER, sink_addr);
        if n == "_routing.yaml" {
            text = with_group_wait(&text, group_wait).with_context(|| {
                format!(
                    "cannot set the lab's group_wait in `{}`",
                    e.path().display()
                )
            })?;
        }
        fs_err::write(dst.join(&*n), text)?;
    }
    Ok(())
}

/// The lab's Alertmanager `group_wait` (routing defaults and the VIP tier), in seconds.
///
/// Prometheus sends a tenant's critical and warning of one alert from the same evaluation
/// (both read the values recorded in that evaluation), so 1 s is enough for the critical to
/// inhibit the warning. vmalert reads the recorded comparisons back from VictoriaMetrics
/// 1.79.5, which keeps answering a selector that matched nothing (the critical rule's, every
/// evaluation until the tenant first crosses its critical threshold) with nothing for a series
/// created afterwards until its next periodic update, about every 10 s: when a tenant's warning
/// comparison already exists and its critical one is new, the critical alert becomes active up
/// to two evaluations after the warning. Three evaluation intervals cover that for a new Alertmanager group. A group that
/// already exists sends a new alert after `group_interval` instead, so there the warning can
/// still go out first (`docs/scaling.md`).
pub fn lab_group_wait_s(engine: Engine) -> u64 {
    match engine {
        Engine::Prometheus => 1,
        Engine::VictoriaMetrics => 3 * INTERVAL_S,
    }
}

/// `text` (the lab's `_routing.yaml`) with every `group_wait: 1s` set to `seconds`; an error
/// when there is none, so a changed example file cannot silently keep the short wait.
fn with_group_wait(text: &str, seconds: u64) -> anyhow::Result<String> {
    const SHORT: &str = "group_wait: 1s";
    if !text.contains(SHORT) {
        bail!("no `{SHORT}` to set");
    }
    Ok(text.replace(SHORT, &format!("group_wait: {seconds}s")))
}

/// Writes each pack's group and the regex-row group generated from the lab's own conf.d (the
/// step that deploys a conf.d produces its regex rules, as `dynalert rules regex` does).
fn write_rules(repo: &Path, conf_dir: &Path, dst: &Path) -> anyhow::Result<usize> {
    fs_err::create_dir_all(dst)?;
    let report = dynalert_config::load_dir(conf_dir, chrono::Utc::now())?;
    if !report.platform_valid {
        bail!("the platform files of `{}` are invalid", conf_dir.display());
    }
    let rows = dynalert_rules::regex_rows_of(&report.config);
    let packs = repo.join("rules/packs");
    let mut n = 0;
    let mut entries: Vec<_> = fs_err::read_dir(&packs)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for pack in entries {
        if !pack.path().is_dir() {
            continue;
        }
        let pname = pack.file_name().to_string_lossy().to_string();
        // One group per pack in alerts.yaml (recording rules first), plus the generated
        // regex-row group.
        for file in ["regex-thresholds.yaml", "alerts.yaml"] {
            let p = pack.path().join(file);
            if p.is_file() {
                let text = if file == "regex-thresholds.yaml" {
                    dynalert_rules::render_regex_rules(&pname, &rows, "the lab's conf.d")
                } else {
                    // Runbooks: the packs' README.md files of this checkout.
                    let base = format!("file://{}", packs.display());
                    dynalert_rules::set_runbook_base(&fs_err::read_to_string(&p)?, &base)
                };
                fs_err::write(dst.join(format!("{pname}-{file}")), lab_rule_text(&text))?;
                n += 1;
            }
        }
    }
    if n == 0 {
        bail!("no rule files under `{}`", packs.display());
    }
    Ok(n)
}

/// Compiles the `_custom_alerts:` recipes of the lab's conf.d into `dst/custom-alerts.yaml`
/// the way a user deploys them: `dynalert rules recipes CONF_DIR --out FILE`. The file is
/// loaded as generated (no lab rewrite: the lab's recipes choose their own short windows).
fn write_recipe_rules(dynalert_bin: &Path, conf_dir: &Path, dst: &Path) -> anyhow::Result<()> {
    let out_file = dst.join(RECIPE_RULES);
    let out = std::process::Command::new(dynalert_bin)
        .args(["rules", "recipes"])
        .arg(conf_dir)
        .arg("--out")
        .arg(&out_file)
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot run `dynalert rules recipes`")?;
    if !out.status.success() || !out_file.is_file() {
        bail!(
            "`dynalert rules recipes {} --out {}` failed: {}",
            conf_dir.display(),
            out_file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The file-based service discovery file of the application targets.
pub fn app_targets_file(dir: &Path) -> PathBuf {
    dir.join("targets/application.json")
}

/// The application targets for `tenants`, as a `file_sd_configs` file: Alertmanager's own
/// `/metrics` at `am_addr`, once per tenant with that tenant's `tenant` label.
pub fn app_targets(am_addr: &str, tenants: &[&str]) -> String {
    let groups: Vec<serde_json::Value> = tenants
        .iter()
        .map(|t| serde_json::json!({"targets": [am_addr], "labels": {"tenant": t}}))
        .collect();
    serde_json::to_string_pretty(&groups).unwrap_or_default() + "\n"
}

/// Writes the application targets atomically (a dot-named file, then a rename), so a
/// scraper watching the file never reads half of it.
pub fn write_app_targets(dir: &Path, am_addr: &str, tenants: &[&str]) -> anyhow::Result<()> {
    let file = app_targets_file(dir);
    let parent = file.parent().context("the targets file has a directory")?;
    fs_err::create_dir_all(parent)?;
    let tmp = parent.join(".application.json.tmp");
    fs_err::write(&tmp, app_targets(am_addr, tenants))?;
    fs_err::rename(&tmp, &file)?;
    Ok(())
}

fn socket_path(dir: &Path, tenant: &str) -> PathBuf {
    let p = dir.join("mysqld.sock");
    if p.as_os_str().len() < 100 {
        p
    } else {
        std::env::temp_dir().join(format!("dynalert-lab-{tenant}-{}.sock", std::process::id()))
    }
}

/// Runs the `mariadb` client as root over the socket.
pub fn mariadb_exec(mariadb: &Path, socket: &Path, sql: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new(mariadb)
        .args(["--no-defaults", "-uroot", "-N", "-B", "-S"])
        .arg(socket)
        .args(["-e", sql])
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", mariadb.display()))?;
    if !out.status.success() {
        bail!("mariadb: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Brings the lab up and writes `lab.json`. On failure every part started so far is stopped.
pub fn up(opts: &UpOptions, progress: &mut dyn FnMut(&str)) -> anyhow::Result<LabState> {
    let t0 = Instant::now();
    let b = Bringup {
        bins: check_binaries(opts)?,
        dir: prepare_dir(&opts.dir)?,
        opts: opts.clone(),
        deadline: t0 + opts.ready_timeout,
        parts: Arc::default(),
    };
    let mut started = Started {
        parts: b.parts.clone(),
        armed: true,
    };
    progress("starting MariaDB ×2 and mysqld_exporter ×2");
    let db_threads = b.start_databases();
    progress("starting the webhook sink and the simulated Kubernetes endpoint");
    let (sink_port, sim_port) = b.start_helper()?;
    let n_rules = b.write_configs(sink_port)?;
    progress("starting threshold-exporter ×2");
    let exporters = b.start_exporters()?;
    progress("generating alertmanager.yml and starting Alertmanager");
    let am_port = b.start_alertmanager()?;
    // Application metrics with a `tenant` label: Alertmanager's own /metrics, one target per
    // tenant (the scenario `recipes` drops targets to make a series absent).
    write_app_targets(&b.dir, &format!("127.0.0.1:{am_port}"), &APP_TENANTS)?;
    // Databases must be up before the engine gets their exporters as targets. Every thread is
    // joined before errors are looked at, so that nothing is started after a cleanup.
    let joined: Vec<_> = db_threads.into_iter().map(|t| t.join()).collect();
    let databases = joined
        .into_iter()
        .map(|j| j.map_err(|_| anyhow::anyhow!("database start-up panicked"))?)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let targets = Targets {
        am_port,
        exporters,
        databases,
        sim_port,
    };
    progress(&match opts.engine {
        Engine::Prometheus => format!("starting Prometheus with {n_rules} rule files"),
        Engine::VictoriaMetrics => {
            format!("starting VictoriaMetrics, vmagent ×2 and vmalert with {n_rules} rule files")
        }
    });
    let (prom_url, vmalert_url) = b.start_engine(&targets)?;

    progress("waiting for every part to be ready");
    let mut state = LabState {
        dir: b.dir.clone(),
        conf_dir: b.conf_dir(),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        engine: opts.engine.name().to_string(),
        prometheus_url: prom_url,
        vmalert_url,
        alertmanager_url: local_url(am_port),
        exporter_urls: targets.exporters.iter().map(|p| local_url(*p)).collect(),
        sink_url: local_url(sink_port),
        kubernetes_sim_url: local_url(sim_port),
        databases: targets.databases,
        parts: Vec::new(),
    };
    b.wait_ready(&state)?;
    state.parts = b.snapshot();
    state.save()?;
    started.armed = false;
    progress(&format!("lab ready in {:.1}s", t0.elapsed().as_secs_f64()));
    Ok(state)
}

/// `http://127.0.0.1:<port>`.
fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Refuses a directory with a running lab, empties what a previous run left (its data would
/// change what the scenarios see) and creates the log directory; the canonical directory.
fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if let Ok(old) = LabState::load(dir) {
        if old.parts.iter().any(process::is_alive) {
            bail!(
                "a lab is already running in `{}`; stop it with `dynalert lab down --dir {}`",
                dir.display(),
                dir.display()
            );
        }
    }
    for sub in [
        "conf.d",
        "rules",
        "prometheus",
        "victoria-metrics",
        "vmagent-1",
        "vmagent-2",
        "vmalert",
        "alertmanager",
        "exporter-1",
        "exporter-2",
        "targets",
        "sink",
        "logs",
        "mariadb-db-a",
        "mariadb-db-b",
    ] {
        let p = dir.join(sub);
        if p.exists() {
            fs_err::remove_dir_all(&p)?;
        }
    }
    fs_err::create_dir_all(dir.join("logs"))?;
    Ok(fs_err::canonicalize(dir)?)
}

/// What the engine scrapes and where it sends alerts.
struct Targets {
    am_port: u16,
    exporters: Vec<u16>,
    databases: Vec<Database>,
    sim_port: u16,
}

/// What each step of `up` works with; cloned into the threads that start the databases.
#[derive(Clone)]
struct Bringup {
    opts: UpOptions,
    bins: BTreeMap<&'static str, PathBuf>,
    /// The lab directory, canonical; each part logs to `logs/<name>.log` in it.
    dir: PathBuf,
    /// When every part must be ready.
    deadline: Instant,
    /// The parts started so far, in start order.
    parts: Arc<Mutex<Vec<Part>>>,
}

impl Bringup {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
    fn conf_dir(&self) -> PathBuf {
        self.dir.join("conf.d")
    }
    fn log(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }
    fn push(&self, p: Part) {
        self.parts.lock().unwrap_or_else(|e| e.into_inner()).push(p);
    }
    fn snapshot(&self) -> Vec<Part> {
        self.parts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Records what was learnt after the start (the bound port, the URL).
    fn replace(&self, p: Part) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = parts.iter_mut().find(|o| o.name == p.name) {
            *old = p;
        }
    }

    /// Records a part just spawned, reads back the port it bound (`announce`) and records
    /// its URL; the port.
    fn track(&self, mut part: Part, announce: Announce) -> anyhow::Result<u16> {
        self.push(part.clone());
        let port = bound_port(&mut part, announce, self.remaining())?;
        part.url = Some(local_url(port));
        self.replace(part);
        Ok(port)
    }

    /// Spawns `argv` as the part `name` (no extra environment) and tracks it; the port.
    fn start(
        &self,
        name: &str,
        argv: &[String],
        simulated: bool,
        a: Announce,
    ) -> anyhow::Result<u16> {
        let part = spawn(name, argv, &BTreeMap::new(), &self.log(name), simulated)?;
        self.track(part, a)
    }

    /// Starts each tenant's MariaDB and mysqld_exporter in a thread of its own: they take the
    /// longest.
    fn start_databases(&self) -> Vec<std::thread::JoinHandle<anyhow::Result<Database>>> {
        DB_TENANTS
            .into_iter()
            .map(|tenant| {
                let b = self.clone();
                std::thread::spawn(move || b.start_database(tenant))
            })
            .collect()
    }

    /// Starts a tenant's MariaDB and its mysqld_exporter. MariaDB cannot bind port 0
    /// (`--port=0` means 3306): it listens on its unix socket only, where the exporter, the
    /// scenarios' load and the `mariadb` client connect.
    fn start_database(&self, tenant: &str) -> anyhow::Result<Database> {
        let bins = &self.bins;
        let ddir = self.dir.join(format!("mariadb-{tenant}"));
        let data = ddir.join("data");
        fs_err::create_dir_all(&ddir)?;
        let socket = socket_path(&ddir, tenant);
        // Each server gets its own temporary directory: two bootstraps sharing /tmp collide.
        let tmp = ddir.join("tmp");
        fs_err::create_dir_all(&tmp)?;
        let install_log = self.log(&format!("mariadb-install-{tenant}"));
        let out = fs_err::File::create(&install_log)?;
        let status = std::process::Command::new(&bins["mariadb-install-db"])
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
            ])
            .arg(format!("--datadir={}", data.display()))
            .env("TMPDIR", &tmp)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::from(out.try_clone()?.into_parts().0))
            .stderr(std::process::Stdio::from(out.into_parts().0))
            .status()
            .context("cannot run `mariadb-install-db`")?;
        if !status.success() {
            bail!(
                "mariadb-install-db failed for {tenant}; see `{}`",
                install_log.display()
            );
        }
        let argv: Vec<String> = vec![
            bins["mariadbd"].display().to_string(),
            "--no-defaults".into(),
            "--user=root".into(),
            format!("--datadir={}", data.display()),
            format!("--socket={}", socket.display()),
            "--skip-networking".into(),
            format!("--pid-file={}", ddir.join("mariadbd.pid").display()),
            format!("--tmpdir={}", tmp.display()),
            "--skip-grant-tables=0".into(),
            "--max-connections=500".into(),
            "--innodb-buffer-pool-size=32M".into(),
            "--performance-schema=OFF".into(),
        ];
        let name = format!("mariadb-{tenant}");
        let none = BTreeMap::new();
        self.push(spawn(&name, &argv, &none, &self.log(&name), false)?);
        let mariadb = &bins["mariadb"];
        wait_for(&format!("MariaDB of {tenant}"), self.remaining(), || {
            Ok(mariadb_exec(mariadb, &socket, "SELECT 1").ok())
        })?;
        mariadb_exec(
            mariadb,
            &socket,
            "CREATE USER IF NOT EXISTS 'exporter'@'localhost' IDENTIFIED BY 'exporter' WITH MAX_USER_CONNECTIONS 3; \
             GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'localhost'",
        )?;
        let dsn = format!("exporter:exporter@unix({})/", socket.display());
        let env = BTreeMap::from([("DATA_SOURCE_NAME".to_string(), dsn)]);
        let argv = vec![
            bins["prometheus-mysqld-exporter"].display().to_string(),
            format!("--web.listen-address={ANY_PORT}"),
        ];
        let name = format!("mysqld-exporter-{tenant}");
        let part = spawn(&name, &argv, &env, &self.log(&name), false)?;
        let url = local_url(self.track(part, EXPORTER_TOOLKIT)?);
        let (what, metrics) = (
            format!("mysqld_exporter of {tenant}"),
            format!("{url}/metrics"),
        );
        wait_for(&what, self.remaining(), || {
            let text = crate::api::get_text(&metrics).ok();
            Ok(text.filter(|t| t.contains("\nmysql_up 1")))
        })?;
        Ok(Database {
            tenant: tenant.to_string(),
            socket,
            exporter_url: url,
        })
    }

    /// Starts the webhook sink and the simulated Kubernetes endpoint (one helper process);
    /// their ports. The sink's address goes into the routing of conf.d.
    fn start_helper(&self) -> anyhow::Result<(u16, u16)> {
        fs_err::create_dir_all(self.dir.join("sink"))?;
        let sink_file = self.dir.join("sink/notifications.jsonl");
        let argv = vec![
            self.opts.dynalert_bin.display().to_string(),
            "lab".into(),
            "helper".into(),
            "--sink-listen".into(),
            ANY_PORT.into(),
            "--sim-listen".into(),
            ANY_PORT.into(),
            "--sink-file".into(),
            sink_file.display().to_string(),
        ];
        let name = "sink-and-kubernetes-sim";
        let mut part = spawn(name, &argv, &BTreeMap::new(), &self.log("helper"), true)?;
        self.push(part.clone());
        let sink_port = bound_port(&mut part, Announce::Log("name=sink"), self.remaining())?;
        let sim_port = bound_port(&mut part, Announce::Log("name=sim"), self.remaining())?;
        part.url = Some(local_url(sink_port));
        self.replace(part);
        Ok((sink_port, sim_port))
    }

    /// Copies `examples/lab` into conf.d with the sink's address and writes the rule files
    /// (the packs and the recipe rules); how many rule files.
    fn write_configs(&self, sink_port: u16) -> anyhow::Result<usize> {
        let (opts, conf_dir, rules) = (&self.opts, self.conf_dir(), self.dir.join("rules"));
        let sink_addr = format!("127.0.0.1:{sink_port}");
        let examples = opts.repo.join("examples/lab");
        copy_conf(&examples, &conf_dir, &sink_addr, opts.engine)?;
        let n_rules = write_rules(&opts.repo, &conf_dir, &rules)?;
        write_recipe_rules(&opts.dynalert_bin, &conf_dir, &rules)?;
        Ok(n_rules + 1)
    }

    /// Starts the two threshold exporter replicas (HA) on conf.d; their ports.
    fn start_exporters(&self) -> anyhow::Result<Vec<u16>> {
        (1..=2)
            .map(|n| {
                let edir = self.dir.join(format!("exporter-{n}"));
                fs_err::create_dir_all(&edir)?;
                let argv = vec![
                    self.opts.exporter_bin.display().to_string(),
                    format!("--config.dir={}", self.conf_dir().display()),
                    format!("--web.listen-address={ANY_PORT}"),
                    format!("--storage.path={}", edir.join("last-good").display()),
                    "--config.poll-interval=1s".into(),
                    "--web.enable-lifecycle".into(),
                ];
                let name = format!("threshold-exporter-{n}");
                self.start(&name, &argv, false, THRESHOLD_EXPORTER)
            })
            .collect()
    }

    /// Generates `alertmanager.yml` from conf.d with `dynalert alertmanager` and starts
    /// Alertmanager; its port.
    fn start_alertmanager(&self) -> anyhow::Result<u16> {
        let (am_dir, conf_dir) = (self.dir.join("alertmanager"), self.conf_dir());
        fs_err::create_dir_all(am_dir.join("data"))?;
        let am_config = am_dir.join("alertmanager.yml");
        let out = std::process::Command::new(&self.opts.dynalert_bin)
            .arg("alertmanager")
            .arg(&conf_dir)
            .arg("--output")
            .arg(&am_config)
            .output()
            .context("cannot run `dynalert alertmanager`")?;
        if !out.status.success() || !am_config.is_file() {
            bail!(
                "`dynalert alertmanager {}` failed: {}",
                conf_dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let argv = vec![
            self.bins["prometheus-alertmanager"].display().to_string(),
            format!("--config.file={}", am_config.display()),
            format!("--storage.path={}", am_dir.join("data").display()),
            format!("--web.listen-address={ANY_PORT}"),
            "--cluster.listen-address=".into(),
        ];
        self.start("alertmanager", &argv, false, EXPORTER_TOOLKIT)
    }

    /// Starts the engine: Prometheus, or VictoriaMetrics, vmagent ×2, vmalert and the query
    /// front; the URL of the Prometheus API the tools ask, and vmalert's.
    fn start_engine(&self, targets: &Targets) -> anyhow::Result<(String, Option<String>)> {
        let dir = &self.dir;
        if self.opts.engine == Engine::VictoriaMetrics {
            // vmagent keeps the common interval: VictoriaMetrics deduplicates to it anyway.
            let scrape = scrape_configs(dir, targets, None);
            let (vm_url, va_url) = self.start_victoriametrics(targets.am_port, &scrape)?;
            // The query front: one Prometheus-style URL for the tools.
            let argv = vec![
                self.opts.dynalert_bin.display().to_string(),
                "lab".into(),
                "helper".into(),
                "--query-listen".into(),
                ANY_PORT.into(),
                "--query-backend".into(),
                vm_url,
                "--rules-backend".into(),
                va_url.clone(),
            ];
            let port = self.start("query-front", &argv, true, Announce::Log("name=query"))?;
            return Ok((local_url(port), Some(va_url)));
        }
        let prom_dir = dir.join("prometheus");
        fs_err::create_dir_all(prom_dir.join("data"))?;
        let prom_config = prom_dir.join("prometheus.yml");
        fs_err::write(&prom_config, prometheus_config(dir, targets))?;
        let argv = vec![
            self.bins["prometheus"].display().to_string(),
            format!("--config.file={}", prom_config.display()),
            format!("--storage.tsdb.path={}", prom_dir.join("data").display()),
            format!("--web.listen-address={ANY_PORT}"),
            "--web.enable-lifecycle".into(),
            "--storage.tsdb.retention.time=1d".into(),
        ];
        let port = self.start("prometheus", &argv, false, EXPORTER_TOOLKIT)?;
        Ok((local_url(port), None))
    }

    /// Starts VictoriaMetrics, vmagent ×2 and vmalert, waits until each answers `/health`;
    /// returns the URLs of VictoriaMetrics and vmalert. None of them logs the port it bound
    /// ([`Announce::Socket`]).
    fn start_victoriametrics(
        &self,
        am_port: u16,
        scrape: &str,
    ) -> anyhow::Result<(String, String)> {
        let (bins, dir) = (&self.bins, &self.dir);
        // Starts one part on ANY_PORT, reads its port back, waits for `/health`; its URL.
        let start = |name: &str, argv: Vec<String>| -> anyhow::Result<String> {
            let url = local_url(self.start(name, &argv, false, Announce::Socket)?);
            let health = format!("{url}/health");
            wait_for(name, self.remaining(), || {
                Ok(is_ready(&health).then_some(()))
            })?;
            Ok(url)
        };
        let vm_dir = dir.join("victoria-metrics");
        fs_err::create_dir_all(&vm_dir)?;
        let mut argv = vec![
            bins["victoria-metrics"].display().to_string(),
            format!("-httpListenAddr={ANY_PORT}"),
            format!("-storageDataPath={}", vm_dir.join("data").display()),
            "-retentionPeriod=1d".into(),
        ];
        argv.extend(victoriametrics_flags(INTERVAL_S));
        let vm_url = start("victoria-metrics", argv)?;

        for i in 0..2 {
            let n = i + 1;
            let adir = dir.join(format!("vmagent-{n}"));
            fs_err::create_dir_all(&adir)?;
            let config = adir.join("scrape.yml");
            fs_err::write(
                &config,
                format!(
                    "# Generated by `dynalert lab up --engine victoriametrics`.\nglobal:\n  scrape_interval: {INTERVAL_S}s\n{scrape}"
                ),
            )?;
            let mut argv = vec![
                bins["vmagent"].display().to_string(),
                format!("-httpListenAddr={ANY_PORT}"),
                format!("-promscrape.config={}", config.display()),
                format!("-remoteWrite.tmpDataPath={}", adir.join("queue").display()),
            ];
            argv.extend(vmagent_flags(&vm_url, i));
            start(&format!("vmagent-{n}"), argv)?;
        }

        let mut argv = vec![
            bins["vmalert"].display().to_string(),
            format!("-httpListenAddr={ANY_PORT}"),
            format!("-rule={}/rules/*.yaml", dir.display()),
        ];
        argv.extend(vmalert_flags(&vm_url, &local_url(am_port), INTERVAL_S));
        let va_url = start("vmalert", argv)?;
        Ok((vm_url, va_url))
    }

    /// Waits until every part of `lab` answers ready and the engine sees every scrape target
    /// up.
    fn wait_ready(&self, lab: &LabState) -> anyhow::Result<()> {
        let ready = |name: &str, url: &str| {
            wait_for(name, self.remaining(), || Ok(is_ready(url).then_some(())))
        };
        ready("webhook sink", &format!("{}/-/ready", lab.sink_url))?;
        let sim = format!("{}/-/ready", lab.kubernetes_sim_url);
        ready("simulated Kubernetes endpoint", &sim)?;
        for u in &lab.exporter_urls {
            let (what, url) = (
                format!("threshold-exporter at `{u}`"),
                format!("{u}/-/ready"),
            );
            ready(&what, &url)?;
        }
        ready("Alertmanager", &format!("{}/-/ready", lab.alertmanager_url))?;
        let api_name = match self.opts.engine {
            Engine::Prometheus => "Prometheus",
            Engine::VictoriaMetrics => "the query front",
        };
        ready(api_name, &format!("{}/-/ready", lab.prometheus_url))?;
        wait_for("every scrape target up", self.remaining(), || {
            let up = crate::api::query(&lab.prometheus_url, "up")?;
            let expected = lab.exporter_urls.len() + lab.databases.len() + 1 + APP_TENANTS.len();
            Ok((up.len() == expected && up.iter().all(|s| s.value == 1.0)).then_some(()))
        })
    }
}

/// Prometheus' configuration: the lab's intervals, the rule files, Alertmanager, the targets.
fn prometheus_config(dir: &Path, targets: &Targets) -> String {
    format!(
        "# Generated by `dynalert lab up`.\n\
         global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n  external_labels: {{lab: dynalert}}\n\
         rule_files:\n  - {}/rules/*.yaml\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\n{}",
        dir.display(),
        targets.am_port,
        scrape_configs(dir, targets, Some(EXPORTER_SCRAPE_INTERVAL_S))
    )
}

/// The `scrape_configs` section, shared by Prometheus and vmagent; `exporter_interval_s`
/// overrides the global scrape interval for the threshold exporter job.
fn scrape_configs(dir: &Path, targets: &Targets, exporter_interval_s: Option<u64>) -> String {
    let mut s = String::new();
    s.push_str("scrape_configs:\n");
    s.push_str("  - job_name: threshold-exporter\n");
    if let Some(i) = exporter_interval_s {
        s.push_str(&format!("    scrape_interval: {i}s\n"));
    }
    s.push_str("    static_configs:\n      - targets:\n");
    for p in &targets.exporters {
        s.push_str(&format!("          - '127.0.0.1:{p}'\n"));
    }
    s.push_str("  - job_name: mysqld\n    static_configs:\n");
    for d in &targets.databases {
        let hp = d.exporter_url.trim_start_matches("http://");
        s.push_str(&format!(
            "      - targets: ['{hp}']\n        labels: {{tenant: {}}}\n",
            d.tenant
        ));
    }
    s.push_str(&format!(
        "  # SIMULATED: cAdvisor and kube-state-metrics series served by the lab, not by a cluster.\n  \
         - job_name: kubernetes-simulated\n    honor_labels: true\n    static_configs:\n      \
         - targets: ['127.0.0.1:{}']\n        labels: {{simulated: 'true'}}\n",
        targets.sim_port
    ));
    // Real application metrics with a `tenant` label (custom alert recipes): Alertmanager's own
    // /metrics, one target per tenant from a file the scenario `recipes` edits.
    s.push_str(&format!(
        "  - job_name: {APP_JOB}\n    file_sd_configs:\n      - files: ['{}']\n    \
         metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: '{APP_METRICS}'\n        action: keep\n",
        app_targets_file(dir).display()
    ));
    s
}

/// The flags that make the VictoriaMetrics engine evaluate the packs as Prometheus does at the
/// lab's interval (see `docs/scaling.md`): deduplication of the two vmagent replicas'
/// identical samples, no 30 s latency offset on queries at "now", and a lookback of three
/// intervals (vmalert's results carry no staleness markers; without it a resolved alert's
/// `ALERTS` series and a vanished recorded threshold stay visible for the 5-minute default).
pub fn victoriametrics_flags(interval_s: u64) -> Vec<String> {
    vec![
        format!("-dedup.minScrapeInterval={interval_s}s"),
        "-search.latencyOffset=1s".into(),
        format!("-search.maxStalenessInterval={}s", interval_s * 3),
    ]
}

/// vmalert's flags for the packs: same interval as the scrape, recorded results and alert
/// state written back, alert state restored on restart, no extra `alertgroup` label (the
/// packs' label sets and Alertmanager routing stay exactly as with Prometheus).
pub fn vmalert_flags(vm_url: &str, am_url: &str, interval_s: u64) -> Vec<String> {
    vec![
        format!("-datasource.url={vm_url}"),
        format!("-remoteWrite.url={vm_url}"),
        format!("-remoteRead.url={vm_url}"),
        format!("-notifier.url={am_url}"),
        format!("-evaluationInterval={interval_s}s"),
        format!("-datasource.queryStep={interval_s}s"),
        "-remoteWrite.flushInterval=1s".into(),
        "-disableAlertgroupLabel".into(),
    ]
}

/// vmagent's flags: member `member` of two, every target scraped by both (replication
/// factor 2), samples sent to VictoriaMetrics.
pub fn vmagent_flags(vm_url: &str, member: usize) -> Vec<String> {
    vec![
        format!("-remoteWrite.url={vm_url}/api/v1/write"),
        "-promscrape.cluster.membersCount=2".into(),
        format!("-promscrape.cluster.memberNum={member}"),
        "-promscrape.cluster.replicationFactor=2".into(),
        "-remoteWrite.flushInterval=1s".into(),
        // The application targets file changes during the scenario `recipes`.
        "-promscrape.fileSDCheckInterval=1s".into(),
    ]
}

/// Prints one line per part: name, pid, running or not, URL.
pub fn status(state: &LabState) -> Vec<(String, u32, bool, Option<String>, bool)> {
    let row = |p: &Part| {
        (
            p.name.clone(),
            p.pid,
            process::is_alive(p),
            p.url.clone(),
            p.simulated,
        )
    };
    state.parts.iter().map(row).collect()
}

/// Stops every recorded part in reverse start order; removes `lab.json`.
pub fn down(dir: &Path, progress: &mut dyn FnMut(&str)) -> anyhow::Result<usize> {
    let state = LabState::load(dir)?;
    let mut stopped = 0;
    for p in state.parts.iter().rev() {
        if process::stop(p, Duration::from_secs(10)) {
            progress(&format!("stopped {} (pid {})", p.name, p.pid));
            stopped += 1;
        }
    }
    let _ = fs_err::remove_file(LabState::path(dir));
    Ok(stopped)
}

/// Starts a stopped part again with the command line it was started with (scenario `ha`).
pub fn restart(state: &mut LabState, name: &str) -> anyhow::Result<()> {
    let p = state
        .part(name)
        .with_context(|| format!("no part `{name}` in the lab"))?
        .clone();
    if process::is_alive(&p) {
        return Ok(());
    }
    let mut np = spawn(&p.name, &p.argv, &p.env, &p.log, p.simulated)?;
    np.url = p.url.clone();
    *state.part_mut(name).expect("part exists") = np;
    state.save()
}

/// The `mariadb` client, or an error naming its Debian package.
pub fn check_mariadb_client() -> anyhow::Result<PathBuf> {
    find_bin("mariadb").context("missing `mariadb` (Debian package `mariadb-client`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The VictoriaMetrics lab's copy of the example routing waits longer than two evaluation
    /// intervals before a group's first notification (routing defaults and VIP tier alike);
    /// the Prometheus lab's copy keeps the example's 1 s.
    #[test]
    fn routing_group_wait_covers_vmalert_skew() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab");
        let base = std::env::temp_dir().join(format!("dynalert-lab-gw-{}", std::process::id()));
        for (engine, want) in [
            (Engine::Prometheus, "group_wait: 1s"),
            (Engine::VictoriaMetrics, "group_wait: 15s"),
        ] {
            let dst = base.join(engine.name());
            copy_conf(&src, &dst, "127.0.0.1:1", engine).unwrap();
            let text = fs_err::read_to_string(dst.join("_routing.yaml")).unwrap();
            let waits: Vec<&str> = text
                .lines()
                .flat_map(|l| l.split([',', '{', '}']))
                .map(str::trim)
                .filter(|t| t.starts_with("group_wait: "))
                .collect();
            assert_eq!(waits, [want, want], "{engine:?}:\n{text}");
        }
        assert!(lab_group_wait_s(Engine::VictoriaMetrics) > 2 * INTERVAL_S);
        let _ = fs_err::remove_dir_all(&base);
    }

    /// The lab's Prometheus configuration is accepted by the real promtool, scrapes the
    /// exporter replicas every second and everything else at the 5 s interval.
    #[test]
    fn prometheus_config_scrapes_the_exporters_every_second() {
        let dir = std::env::temp_dir().join(format!("dynalert-lab-config-{}", std::process::id()));
        fs_err::create_dir_all(dir.join("rules")).unwrap();
        let targets = Targets {
            am_port: 9093,
            exporters: vec![9531, 9532],
            databases: vec![Database {
                tenant: "db-a".into(),
                socket: dir.join("mysqld.sock"),
                exporter_url: "http://127.0.0.1:9104".into(),
            }],
            sim_port: 9000,
        };
        let text = prometheus_config(&dir, &targets);
        // promtool also reads the file_sd file of the application job.
        write_app_targets(&dir, "127.0.0.1:9093", &APP_TENANTS).unwrap();
        let file = dir.join("prometheus.yml");
        fs_err::write(&file, &text).unwrap();
        let out = std::process::Command::new("promtool")
            .arg("check")
            .arg("config")
            .arg(&file)
            .output()
            .expect("promtool (Debian package `prometheus`)");
        let _ = fs_err::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "{}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Per job: its own scrape_interval, if any.
        let mut job = String::new();
        let mut intervals = BTreeMap::new();
        for l in text.lines() {
            let t = l.trim();
            if let Some(j) = t.strip_prefix("- job_name: ") {
                job = j.to_string();
                intervals.insert(job.clone(), None);
            } else if let Some(i) = t.strip_prefix("scrape_interval: ") {
                if !job.is_empty() {
                    intervals.insert(job.clone(), Some(i.to_string()));
                }
            }
        }
        assert!(text.contains("global:\n  scrape_interval: 5s\n  evaluation_interval: 5s"));
        assert_eq!(intervals["threshold-exporter"].as_deref(), Some("1s"));
        assert_eq!(intervals["mysqld"], None);
        assert_eq!(intervals["kubernetes-simulated"], None);
        assert_eq!(intervals[APP_JOB], None);
        // vmagent keeps one interval (VictoriaMetrics deduplicates to it).
        assert!(!scrape_configs(&dir, &targets, None).contains("scrape_interval"));
    }

    /// The application targets: Alertmanager's address once per tenant, each group with its
    /// tenant's label; rewriting the file with fewer tenants drops exactly their targets.
    #[test]
    fn application_targets_carry_one_tenant_each() {
        let dir = std::env::temp_dir().join(format!("dynalert-lab-app-{}", std::process::id()));
        let read = |dir: &Path| -> Vec<(Vec<String>, String)> {
            let v: serde_json::Value =
                serde_json::from_str(&fs_err::read_to_string(app_targets_file(dir)).unwrap())
                    .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    (
                        g["targets"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|t| t.as_str().unwrap().to_string())
                            .collect(),
                        g["labels"]["tenant"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        write_app_targets(&dir, "127.0.0.1:9093", &APP_TENANTS).unwrap();
        let am = vec!["127.0.0.1:9093".to_string()];
        assert_eq!(
            read(&dir),
            [
                (am.clone(), "shop".to_string()),
                (am.clone(), "batch".to_string()),
                (am.clone(), "db-b".to_string())
            ]
        );
        write_app_targets(&dir, "127.0.0.1:9093", &["batch"]).unwrap();
        assert_eq!(read(&dir), [(am, "batch".to_string())]);
        // No temporary file is left beside it for a scraper to read.
        let names: Vec<String> = fs_err::read_dir(dir.join("targets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["application.json"]);
        let _ = fs_err::remove_dir_all(&dir);
    }
}
