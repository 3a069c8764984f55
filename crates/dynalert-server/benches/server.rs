//! Exporter benchmark at scale: 10,000 tenants x 20 keys (~200,000 `user_threshold` series).
//!
//! `cargo bench -p dynalert-server --bench server` (set `BENCH_TENANTS`, `BENCH_SECONDS`
//! to change the size). Prints: cold load, scrape latency under 8 concurrent scrapers
//! (identity and gzip) over loopback, one file change -> served latency, the counters of
//! idle poll ticks (files read, bodies rendered), and resident memory.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynalert_server::selfmetrics::ProcessStats;
use dynalert_server::{Options, Server};
use dynalert_test::http::Client;

// The same allocator as the `threshold-exporter` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEYS: usize = 20;

fn key(i: usize) -> String {
    let components = ["mysql", "pg", "redis", "container"];
    format!("{}_metric{i:02}", components[i % components.len()])
}

fn write_config(dir: &Path, tenants: usize) {
    let mut platform = String::from("defaults:\n");
    for i in 0..KEYS {
        platform.push_str(&format!("  {}: {}\n", key(i), 50 + i));
    }
    std::fs::write(dir.join("_defaults.yaml"), platform).unwrap();
    for t in 0..tenants {
        std::fs::write(dir.join(format!("tenant-{t:05}.yaml")), tenant_file(t, 0)).unwrap();
    }
}

fn tenant_file(t: usize, bump: usize) -> String {
    let id = format!("tenant-{t:05}");
    let mut s = format!("tenants:\n  {id}:\n");
    for i in 0..KEYS {
        s.push_str(&format!(
            "    {}: \"{}\"\n",
            key(i),
            100 + (t + i + bump) % 50
        ));
    }
    s.push_str(&format!(
        "    _metadata: {{tier: standard, owner: team-{}}}\n",
        t % 17
    ));
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn scrape_load(addr: SocketAddr, gzip: bool, seconds: u64) -> (Vec<Duration>, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await.unwrap();
            let headers: &[(&str, &str)] = if gzip {
                &[("accept-encoding", "gzip")]
            } else {
                &[]
            };
            let mut lat = Vec::new();
            let mut bytes = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = c.request("GET", "/metrics", headers).await.unwrap();
                lat.push(t.elapsed());
                assert_eq!(r.status, 200);
                assert_eq!(r.header("content-encoding") == Some("gzip"), gzip);
                bytes = r.body.len();
            }
            (lat, bytes)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut size = 0;
    for t in tasks {
        let (lat, bytes) = t.await.unwrap();
        all.extend(lat);
        size = bytes;
    }
    all.sort();
    (all, size)
}

fn counters(server: &Server) -> (u64, u64, u64) {
    let s = server.state().load().status.clone();
    (s.files_read, s.files_parsed, s.renders)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let tenants: usize = std::env::var("BENCH_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    if std::env::var_os("BENCH_LOG").is_some() {
        dynalert_server::logging::init(
            dynalert_server::logging::LogLevel::Debug,
            dynalert_server::logging::LogFormat::Logfmt,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), tenants);
    println!(
        "config: {tenants} tenants x {KEYS} keys in {}",
        dir.path().display()
    );

    let poll = Duration::from_millis(500);
    let mut opts = Options::new(dir.path());
    opts.poll_interval = poll;
    let t = Instant::now();
    let server = Server::start(opts);
    assert!(server.wait_ready(Duration::from_secs(300)));
    let p = server.state().load();
    let rss_loaded = ProcessStats::read().map_or(0.0, |p| p.rss_bytes / 1e6);
    println!(
        "cold load + resolve + render: {} ({} tenants, {} series, body {} bytes)",
        ms(t.elapsed()),
        p.body.tenants,
        p.body.series,
        p.body.segment.raw.len()
    );
    while !p.body.segment.is_compressed() {
        std::thread::sleep(Duration::from_millis(5));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(dynalert_server::serve::serve(listener, server.router(), None, 512, std::future::pending()));

        for gzip in [false, true] {
            let (lat, size) = scrape_load(addr, gzip, seconds).await;
            println!(
                "scrape {} x8 concurrent for {seconds}s: {} scrapes, median {}, p99 {}, max {} ({} bytes each)",
                if gzip { "gzip    " } else { "identity" },
                lat.len(),
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99)),
                ms(*lat.last().unwrap()),
                size
            );
        }
    });

    // One tenant file changed -> new body published (watcher path).
    let mut served = Vec::new();
    for n in 1..=20 {
        let before = server.state().load().body.hash.clone();
        let t = n * 37 % tenants;
        std::fs::write(
            dir.path().join(format!("tenant-{t:05}.yaml")),
            tenant_file(t, n),
        )
        .unwrap();
        let written = Instant::now();
        while server.state().load().body.hash == before {
            assert!(
                written.elapsed() < Duration::from_secs(30),
                "change never served"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        served.push(written.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    served.sort();
    println!(
        "one file changed -> served (20 changes, watcher): median {}, p99/max {} (debounce {} included)",
        ms(percentile(&served, 0.5)),
        ms(*served.last().unwrap()),
        ms(dynalert_server::reload::DEBOUNCE)
    );

    // Idle: nothing changes; poll ticks stat every file but read none and render nothing.
    std::thread::sleep(poll);
    let poll_reloads = || {
        let published = server.state().load();
        published.status.reloads.get("poll").copied().unwrap_or(0)
    };
    let (before, reloads_before) = (counters(&server), poll_reloads());
    std::thread::sleep(poll * 8 + poll / 2);
    let (after, reloads_after) = (counters(&server), poll_reloads());
    println!(
        "idle for {} poll ticks: files read +{}, files parsed +{}, bodies rendered +{}",
        reloads_after - reloads_before,
        after.0 - before.0,
        after.1 - before.1,
        after.2 - before.2
    );
    assert_eq!((after.0, after.1, after.2), (before.0, before.1, before.2));
    let durations = server.state().load().status.reload_duration.clone();
    println!(
        "reloads: {} total, mean {}",
        durations.count,
        ms(Duration::from_secs_f64(
            durations.sum / durations.count.max(1) as f64
        ))
    );
    if let Some(p) = ProcessStats::read() {
        println!(
            "resident memory: {rss_loaded:.1} MB after the cold load; {:.1} MB at the end (includes the 8 in-process scrapers' buffers)",
            p.rss_bytes / 1e6
        );
    }
    drop(rt);
    server.stop();
}
