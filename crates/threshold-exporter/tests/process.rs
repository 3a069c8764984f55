//! The real binary as a process: flags, signals, storage across restarts, promtool and a
//! real Prometheus scraping it. Every child process is killed when its guard drops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use dynalert_probe::process::start_prometheus;
use dynalert_probe::prom::Prometheus;
use dynalert_probe::{wait_until, TimedOut};
use dynalert_test::http as client;

mod common;
use common::{Exporter, EXE};
const LINE: &str = "user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} ";

/// The exporter at `--log.level debug`.
fn spawn(args: &[&str]) -> Exporter {
    Exporter::spawn_at("debug", args).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn get(addr: SocketAddr, path: &str) -> client::Resp {
    rt().block_on(client::get(addr, path)).unwrap()
}

fn post(addr: SocketAddr, path: &str) -> client::Resp {
    rt().block_on(client::request(addr, "POST", path, &[]))
        .unwrap()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let every = Duration::from_millis(20);
    wait_until::<_, TimedOut>(what, Duration::from_secs(30), every, || {
        Ok(f().then_some(()))
    })
    .unwrap();
}

fn value(addr: SocketAddr) -> Option<String> {
    get(addr, "/metrics")
        .text()
        .lines()
        .find_map(|l| l.strip_prefix(LINE))
        .map(str::to_string)
}

fn small_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n  container_cpu: {warning: 70, critical: 90}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("db-a.yaml"), tenant(70)).unwrap();
    std::fs::write(
        dir.path().join("db-b.yaml"),
        "tenants:\n  db-b:\n    \"container_cpu{container='mariadb'}\": \"95\"\n    _metadata: {tier: vip, owner: dba}\n",
    )
    .unwrap();
    dir
}

/// The exporter on `dir`, reloading only when asked (no watcher, hourly poll).
fn spawn_unwatched(dir: &Path) -> Exporter {
    spawn(&[
        "--config.dir",
        dir.to_str().unwrap(),
        "--config.watch=false",
        "--config.poll-interval",
        "1h",
    ])
}

fn tenant(v: u32) -> String {
    format!("tenants:\n  db-a:\n    mysql_connections: \"{v}\"\n")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d")
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn promtool_accepts_the_metrics() {
    let small = small_dir();
    for dir in [small.path().to_path_buf(), examples()] {
        let e = spawn(&["--config.dir", dir.to_str().unwrap()]);
        wait_for("ready", || get(e.addr, "/-/ready").status == 200);
        let body = get(e.addr, "/metrics").text();
        assert!(body.contains("user_threshold{"), "{body}");
        if let Err(msg) = common::promtool_check(&body) {
            panic!("promtool check metrics: {msg}");
        }
        e.stop();
    }
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn bad_flags_fail_at_start_naming_the_flag() {
    let run = |args: &[&str], want: &str| {
        let out = Command::new(EXE)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err} should name {want}");
    };
    for (flag, value) in [
        ("--config.poll-interval", Some("soon")),
        ("--log.format", Some("xml")),
        ("--web.listen-address", Some("nohost-:x")),
        ("--web.telemetry-path", Some("metrics")),
        ("--no-such-flag", None),
    ] {
        let args: Vec<&str> = std::iter::once(flag).chain(value).collect();
        run(&args, flag);
    }
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(&web, "basic_auth_users:\n  prom: plain\n").unwrap();
    run(
        &[
            "--web.listen-address",
            "127.0.0.1:0",
            "--web.config.file",
            web.to_str().unwrap(),
        ],
        "basic_auth_users.prom",
    );
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn lifecycle_is_off_by_default_and_user_signals_are_ignored() {
    let dir = small_dir();
    let e = spawn(&["--config.dir", dir.path().to_str().unwrap()]);
    wait_for("first value", || value(e.addr).as_deref() == Some("70"));
    let r = post(e.addr, "/-/reload");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("--web.enable-lifecycle"), "{}", r.text());
    // SIGUSR1/SIGUSR2 end a process by default; the exporter keeps serving.
    e.signal("-USR1");
    e.signal("-USR2");
    wait_for("signals logged", || {
        e.logged("SIGUSR1/SIGUSR2 received") >= 2
    });
    assert_eq!(value(e.addr).as_deref(), Some("70"));
    e.stop();
}

/// The web config is re-read when it changes: a new password applies without a restart,
/// an emptied file is refused (the running users stay), and an empty file at start fails.
#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn web_config_users_are_reloaded_and_an_empty_file_is_refused() {
    use base64::Engine as _;
    let dir = small_dir();
    let web = dir.path().join("..web.yml");
    let users = |password: &str| {
        format!(
            "basic_auth_users:\n  prom: {}\n",
            bcrypt::hash(password, 4).unwrap()
        )
    };
    let status = |addr, password: &str| {
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("prom:{password}"))
        );
        rt().block_on(client::request(
            addr,
            "GET",
            "/-/healthy",
            &[("authorization", &auth)],
        ))
        .unwrap()
        .status
    };
    std::fs::write(&web, "").unwrap();
    let out = Command::new(EXE)
        .args(["--config.dir", dir.path().to_str().unwrap()])
        .args(["--web.listen-address", "127.0.0.1:0", "--web.config.file"])
        .arg(&web)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--web.config.file") && err.contains("empty"),
        "{err}"
    );

    std::fs::write(&web, users("first")).unwrap();
    let e = spawn(&[
        "--config.dir",
        dir.path().to_str().unwrap(),
        "--web.config.file",
        web.to_str().unwrap(),
    ]);
    assert_eq!(status(e.addr, "first"), 200);
    assert_eq!(status(e.addr, "second"), 401);
    std::fs::write(&web, users("second")).unwrap();
    wait_for("new password accepted", || status(e.addr, "second") == 200);
    assert_eq!(status(e.addr, "first"), 401);
    std::fs::write(&web, "").unwrap();
    wait_for("empty web config refused", || {
        e.logged("keeping the running web config") > 0
    });
    assert_eq!(status(e.addr, "second"), 200);
    assert_eq!(get(e.addr, "/-/healthy").status, 401);
    e.stop();
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn sighup_reloads() {
    let dir = small_dir();
    let e = spawn_unwatched(dir.path());
    wait_for("first value", || value(e.addr).as_deref() == Some("70"));
    std::fs::write(dir.path().join("db-a.yaml"), tenant(33)).unwrap();
    e.signal("-HUP");
    wait_for("reload on SIGHUP", || {
        value(e.addr).as_deref() == Some("33")
    });
    assert!(e.logged("trigger=signal") > 0);
    e.stop();
}

fn signal_reloads(addr: SocketAddr) -> u64 {
    get(addr, "/metrics")
        .text()
        .lines()
        .find_map(|l| {
            l.strip_prefix("threshold_exporter_config_reloads_total{trigger=\"signal\"} ")
        })
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// A burst of SIGHUPs while reloads take time costs a few reloads, not one per signal.
#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn a_burst_of_sighups_is_coalesced() {
    const SIGNALS: usize = 1000;
    let dir = small_dir();
    for i in 0..1000 {
        std::fs::write(
            dir.path().join(format!("t{i:04}.yaml")),
            format!(
                "tenants:\n  t{i:04}:\n    mysql_connections: \"{}\"\n",
                100 + i % 300
            ),
        )
        .unwrap();
    }
    let e = spawn_unwatched(dir.path());
    wait_for("first value", || value(e.addr).as_deref() == Some("70"));
    std::fs::write(dir.path().join("db-a.yaml"), tenant(33)).unwrap();
    // The shell's built-in `kill` sends the whole burst within milliseconds.
    let pid = e.pid;
    let burst = Command::new("bash")
        .args([
            "-c",
            &format!("for i in $(seq {SIGNALS}); do kill -HUP {pid}; done"),
        ])
        .status()
        .unwrap();
    assert!(burst.success());
    // One more signal after the burst with a new value: once it is served, every signal
    // of the burst has been handled.
    std::fs::write(dir.path().join("db-a.yaml"), tenant(34)).unwrap();
    e.signal("-HUP");
    wait_for("the value after the burst", || {
        value(e.addr).as_deref() == Some("34")
    });
    let reloads = signal_reloads(e.addr);
    eprintln!("{SIGNALS} + 1 SIGHUPs: {reloads} reloads");
    assert!(
        (1..=20).contains(&reloads),
        "{SIGNALS} SIGHUPs cost {reloads} reloads"
    );
    e.stop();
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn storage_serves_last_good_after_restart_with_a_broken_file() {
    let dir = small_dir();
    let store = tempfile::tempdir().unwrap();
    let snapshot = store.path().join("last-good.cbor");
    let args = [
        "--config.dir",
        dir.path().to_str().unwrap(),
        "--storage.path",
        snapshot.to_str().unwrap(),
        "--web.enable-lifecycle",
    ];
    let e = spawn(&args);
    wait_for("first value", || value(e.addr).as_deref() == Some("70"));
    wait_for("snapshot written", || snapshot.exists());
    e.stop();

    std::fs::write(
        dir.path().join("db-a.yaml"),
        "tenants:\n  db-a:\n    mysql_connections: \"lots\"\n",
    )
    .unwrap();
    let e = spawn(&args);
    wait_for("ready", || get(e.addr, "/-/ready").status == 200);
    // The snapshot is served from the start; the first load then marks the file rejected.
    let body = get(e.addr, "/metrics").text();
    assert!(
        body.contains(&format!("{LINE}70\n")),
        "last good value not served:\n{body}"
    );
    wait_for("first load", || {
        get(e.addr, "/metrics")
            .text()
            .contains("threshold_exporter_config_from_snapshot 0\n")
    });
    let body = get(e.addr, "/metrics").text();
    assert!(body.contains(&format!("{LINE}70\n")));
    assert!(body.contains("threshold_exporter_tenant_config_valid{tenant=\"db-a\"} 0\n"));
    let r = post(e.addr, "/-/reload");
    assert_ne!(r.status, 200);
    assert!(r.text().contains("db-a.yaml:3:"), "{}", r.text());

    std::fs::write(dir.path().join("db-a.yaml"), tenant(75)).unwrap();
    wait_for("fixed file served", || {
        value(e.addr).as_deref() == Some("75")
    });
    let body = get(e.addr, "/metrics").text();
    assert!(body.contains("threshold_exporter_tenant_config_valid{tenant=\"db-a\"} 1\n"));
    e.stop();
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn real_prometheus_scrapes_the_same_thresholds_as_resolve() {
    let conf = examples();
    let e = spawn(&["--config.dir", conf.to_str().unwrap()]);
    wait_for("ready", || get(e.addr, "/-/ready").status == 200);

    let now = chrono::Utc::now();
    let report = dynalert_config::load_dir(&conf, now).unwrap();
    let snapshot = dynalert_model::resolve(&report.config, now);
    let mut expected: Vec<String> = snapshot
        .series()
        .filter(|s| s.family == dynalert_model::Family::UserThreshold)
        .map(|s| {
            let mut labels = s.labels.clone();
            labels.sort();
            format!("{labels:?} {}", s.value)
        })
        .collect();
    expected.sort();
    assert!(!expected.is_empty());

    let work = tempfile::tempdir().unwrap();
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: thresholds\n    static_configs:\n      - targets: ['{}']\n",
            e.addr
        ),
    )
    .unwrap();
    let (prom, port) = start_prometheus(work.path(), &cfg).unwrap();
    let api = Prometheus::new(&format!("http://127.0.0.1:{port}"));
    let mut got = Vec::new();
    wait_for("Prometheus to scrape the exporter", || {
        got = api
            .query("user_threshold")
            .unwrap_or_default()
            .into_iter()
            .map(|mut s| {
                s.labels
                    .retain(|k, _| !["__name__", "job", "instance"].contains(&k.as_str()));
                let labels: Vec<(String, String)> = s.labels.into_iter().collect();
                format!("{labels:?} {}", s.value)
            })
            .collect();
        got.sort();
        !got.is_empty()
    });
    assert_eq!(got, expected);
    assert_eq!(api.query_value("up").unwrap(), Some(1.0));
    drop(prom);
    e.stop();
}

#[test]
#[ignore = "starts the exporter binary (and Prometheus): run by `make test` as the step `real-server tests`"]
fn build_info_names_the_git_revision() {
    let revision = common::git_revision();
    let dir = small_dir();
    let e = spawn(&["--config.dir", dir.path().to_str().unwrap()]);
    wait_for("ready", || get(e.addr, "/-/ready").status == 200);
    let text = get(e.addr, "/metrics").text();
    let line = format!(
        "threshold_exporter_build_info{{version=\"{}\",revision=\"{revision}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    e.stop();
}
