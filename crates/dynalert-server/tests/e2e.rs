//! End-to-end tests over real sockets (127.0.0.1 only): reload paths, ConfigMap swaps, TLS.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynalert_server::{Options, Server};
use dynalert_test::http::{self as client, Client};

mod common;
use common::basic;

const PLATFORM: &str = "defaults:\n  mysql_connections: 80\n";
const LINE: &str = "user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} ";

fn tenant(id: &str, conns: u32) -> String {
    format!("tenants:\n  {id}:\n    mysql_connections: \"{conns}\"\n")
}

struct Running {
    addr: SocketAddr,
    server: Option<Server>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        let server = self.server.take().unwrap();
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
    }
}

async fn start(opts: Options, tls: Option<Arc<rustls::ServerConfig>>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::start(opts);
    let app = server.router();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        dynalert_server::serve::serve(listener, app, tls, 512, async {
            let _ = rx.await;
        })
        .await;
    });
    Running {
        addr,
        server: Some(server),
        stop: Some(tx),
        task: Some(task),
    }
}

/// Options for `dir` with the hourly poll: the watcher alone serves edits.
fn watched(dir: &Path) -> Options {
    let mut opts = Options::new(dir);
    opts.poll_interval = Duration::from_secs(3600);
    opts
}

fn value_of(body: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix(LINE))
        .map(str::to_string)
}

/// Polls `/metrics` until the db-a value is `want`; returns the time it took.
async fn wait_value(addr: SocketAddr, want: u32, limit: Duration) -> Duration {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(20).max(limit * 3);
    loop {
        let body = client::get(addr, "/metrics").await.unwrap().text();
        if value_of(&body) == Some(want.to_string()) {
            return started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "value {want} never served; last: {:?}",
            value_of(&body)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_defaults.yaml"), PLATFORM).unwrap();
    std::fs::write(dir.path().join("db-a.yaml"), tenant("db-a", 70)).unwrap();
    dir
}

async fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client::get(addr, "/-/ready")
        .await
        .map(|r| r.status)
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_serves_an_edit_within_a_second() {
    let dir = setup();
    let run = start(watched(dir.path()), None).await;
    wait_ready(run.addr).await;
    assert_eq!(
        wait_value(run.addr, 70, Duration::from_secs(1))
            .await
            .as_secs(),
        0
    );
    for v in [71, 72, 73] {
        std::fs::write(dir.path().join("db-a.yaml"), tenant("db-a", v)).unwrap();
        let took = wait_value(run.addr, v, Duration::from_secs(1)).await;
        assert!(took < Duration::from_secs(1), "edit served after {took:?}");
    }
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_serves_an_edit_without_the_watcher() {
    let dir = setup();
    let mut opts = Options::new(dir.path());
    opts.watch = false;
    opts.poll_interval = Duration::from_millis(300);
    let run = start(opts, None).await;
    wait_ready(run.addr).await;
    std::fs::write(dir.path().join("db-a.yaml"), tenant("db-a", 99)).unwrap();
    let took = wait_value(run.addr, 99, Duration::from_millis(300)).await;
    assert!(
        took < Duration::from_millis(300 + 250),
        "served after {took:?}"
    );
    run.stop().await;
}

fn configmap_version(dir: &Path, name: &str, conns: u32) {
    let v = dir.join(name);
    std::fs::create_dir(&v).unwrap();
    std::fs::write(v.join("_defaults.yaml"), PLATFORM).unwrap();
    std::fs::write(v.join("db-a.yaml"), tenant("db-a", conns)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_data_symlink_swap_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    configmap_version(d, "..2026_01_01_00_00_00.1", 70);
    std::os::unix::fs::symlink("..2026_01_01_00_00_00.1", d.join("..data")).unwrap();
    for f in ["_defaults.yaml", "db-a.yaml"] {
        std::os::unix::fs::symlink(format!("..data/{f}"), d.join(f)).unwrap();
    }
    let run = start(watched(d), None).await;
    wait_ready(run.addr).await;
    wait_value(run.addr, 70, Duration::from_secs(1)).await;
    for (i, v) in [(2, 61), (3, 62)] {
        // What the kubelet does: new timestamped directory, new link, atomic rename over `..data`.
        let name = format!("..2026_01_01_00_00_00.{i}");
        configmap_version(d, &name, v);
        std::os::unix::fs::symlink(&name, d.join("..data_tmp")).unwrap();
        std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
        let took = wait_value(run.addr, v, Duration::from_secs(1)).await;
        assert!(took < Duration::from_secs(1), "swap served after {took:?}");
    }
    run.stop().await;
}

/// `--config.dir` is itself a symlink (as with git-sync's `current`): swapping it is seen
/// at once through the watch of its parent, not at the next poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_config_dir_symlink_is_seen_without_the_poll() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    configmap_version(d, "rev-1", 70);
    std::os::unix::fs::symlink("rev-1", d.join("current")).unwrap();
    let run = start(watched(&d.join("current")), None).await;
    wait_ready(run.addr).await;
    wait_value(run.addr, 70, Duration::from_secs(1)).await;
    for (i, v) in [(2, 64), (3, 65)] {
        let name = format!("rev-{i}");
        configmap_version(d, &name, v);
        std::os::unix::fs::symlink(&name, d.join("current.tmp")).unwrap();
        std::fs::rename(d.join("current.tmp"), d.join("current")).unwrap();
        let took = wait_value(run.addr, v, Duration::from_secs(2)).await;
        assert!(took < Duration::from_secs(2), "swap served after {took:?}");
    }
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_basic_auth() {
    let dir = setup();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.path().join("..cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("..key.pem"), cert.key_pair.serialize_pem()).unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let web = dir.path().join("..web.yml");
    std::fs::write(
        &web,
        format!("tls_server_config:\n  cert_file: ..cert.pem\n  key_file: ..key.pem\nbasic_auth_users:\n  prom: {hash}\n"),
    )
    .unwrap();
    let wc = dynalert_server::auth::WebConfig::load(&web).unwrap();
    let mut opts = Options::new(dir.path());
    opts.auth = wc.auth.map(Arc::new);
    let run = start(opts, wc.tls).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let mut c = Client::connect_tls(run.addr, config, "localhost")
        .await
        .unwrap();
    assert_eq!(c.request("GET", "/metrics", &[]).await.unwrap().status, 401);
    let wrong = basic("prom:wrong");
    let r = c
        .request("GET", "/metrics", &[("authorization", &wrong)])
        .await;
    assert_eq!(r.unwrap().status, 401);
    let right = basic("prom:s3cret");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = c
            .request("GET", "/metrics", &[("authorization", &right)])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        if value_of(&r.text()).is_some() {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = client::get(run.addr, "/metrics").await;
    assert!(plain.is_err() || plain.unwrap().status != 200);
    run.stop().await;
}

#[test]
fn bad_web_configs_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let check = |text: &str, want: &str| {
        let p = dir.path().join("web.yml");
        std::fs::write(&p, text).unwrap();
        let e = dynalert_server::auth::WebConfig::load(&p)
            .err()
            .expect("must fail")
            .to_string();
        assert!(e.contains(want), "{e} should contain {want}");
    };
    for (text, want) in [
        (
            "tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.key\n",
            "cert_file",
        ),
        (
            "basic_auth_users:\n  prom: plaintext\n",
            "basic_auth_users.prom",
        ),
        ("tls_server_confg: {}\n", "tls_server_confg"),
        (
            "tls_server_config:\n  key_file: k\n",
            "cert_file` is required",
        ),
        ("basic_auth_users: [\n", "invalid YAML"),
    ] {
        check(text, want);
    }
}
