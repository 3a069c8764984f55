//! Wrong-password flood against basic auth: an authorised scraper's latency while 600
//! requests with distinct wrong passwords arrive 300 at a time.
//!
//! Prints the scraper's p50/p99 when idle and under the flood, and their ratio (target:
//! p99 under flood ≤ 2× idle p99). Real sockets on 127.0.0.1, a cost-10 bcrypt hash.
//! Run: `cargo bench -p dynalert-server --bench auth_flood`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use dynalert_server::auth::Auth;
use dynalert_server::{Options, Server};
use dynalert_test::http::Client;

const FLOOD: usize = 600;
const CONCURRENCY: usize = 300;

fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn scrape(client: &mut Client, auth: &str) -> Duration {
    let started = Instant::now();
    let r = client
        .request("GET", "/metrics", &[("authorization", auth)])
        .await
        .expect("scrape");
    assert_eq!(r.status, 200, "authorised scrape refused");
    started.elapsed()
}

fn summary(name: &str, mut v: Vec<Duration>) -> Duration {
    v.sort();
    let p50 = percentile(&v, 0.5);
    let p99 = percentile(&v, 0.99);
    println!(
        "{name:<14} scrapes {:>5}  p50 {:>8.2} ms  p99 {:>8.2} ms",
        v.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    p99
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n",
    )
    .unwrap();
    for i in 0..100 {
        std::fs::write(
            dir.path().join(format!("t{i:03}.yaml")),
            format!("tenants:\n  t{i:03}:\n    mysql_connections: {}\n", 50 + i),
        )
        .unwrap();
    }
    let hash = bcrypt::hash("right-password", 10).unwrap();
    let mut opts = Options::new(dir.path());
    opts.watch = false;
    opts.auth = Some(Arc::new(Auth::new(BTreeMap::from([(
        "prometheus".to_string(),
        hash,
    )]))));
    let server = Server::start(opts);
    assert!(server.wait_ready(Duration::from_secs(30)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(dynalert_server::serve::serve(
            listener,
            server.router(),
            None,
            4096,
            std::future::pending(),
        ));
        let good = basic("prometheus", "right-password");
        let mut client = Client::connect(addr).await.unwrap();
        // Warm up (the first check pays bcrypt once and is cached).
        for _ in 0..20 {
            scrape(&mut client, &good).await;
        }
        let mut idle = Vec::new();
        for _ in 0..300 {
            idle.push(scrape(&mut client, &good).await);
        }

        let done = Arc::new(AtomicBool::new(false));
        let flood_started = Instant::now();
        let mut attackers = Vec::new();
        let per_task = FLOOD / CONCURRENCY;
        for task in 0..CONCURRENCY {
            attackers.push(tokio::spawn(async move {
                let mut codes = Vec::new();
                for n in 0..per_task {
                    let wrong = basic("prometheus", &format!("wrong-{task}-{n}"));
                    let r = dynalert_test::http::request(
                        addr,
                        "GET",
                        "/metrics",
                        &[("authorization", &wrong)],
                    )
                    .await;
                    codes.push(r.map(|r| r.status).unwrap_or(0));
                }
                codes
            }));
        }
        let flag = done.clone();
        let waiter = tokio::spawn(async move {
            let mut codes = BTreeMap::<u16, usize>::new();
            for a in attackers {
                for c in a.await.unwrap() {
                    *codes.entry(c).or_default() += 1;
                }
            }
            flag.store(true, Ordering::SeqCst);
            codes
        });
        let mut flooded = Vec::new();
        while !done.load(Ordering::SeqCst) {
            flooded.push(scrape(&mut client, &good).await);
        }
        let codes = waiter.await.unwrap();
        let flood_time = flood_started.elapsed();

        println!(
            "wrong-password flood: {FLOOD} requests, concurrency {CONCURRENCY}, bcrypt cost 10, {:.1} s; answers {codes:?}",
            flood_time.as_secs_f64()
        );
        let idle_p99 = summary("idle", idle);
        let flood_p99 = summary("under flood", flooded);
        let ratio = flood_p99.as_secs_f64() / idle_p99.as_secs_f64();
        println!(
            "p99 under flood / idle p99 = {ratio:.2} (target ≤ 2.00: {})",
            if ratio <= 2.0 { "met" } else { "NOT met" }
        );
    });
}
