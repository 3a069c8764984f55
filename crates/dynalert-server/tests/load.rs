//! Consistency under load: concurrent scrapers while a writer rewrites tenant files.
//!
//! 8 scrapers for 20 s against a writer making more than 200 changes (every tenth one
//! invalid): no scrape fails, every body parses, and every body's `config_info` hash
//! matches the values in that same body.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynalert_server::body::body_hash;
use dynalert_server::{Options, Server};
use dynalert_test::http::Client;

const TENANTS: usize = 50;
const RUN: Duration = Duration::from_secs(20);

fn tenant_file(id: &str, v: u64, bad: bool) -> String {
    if bad {
        format!("tenants:\n  {id}:\n    mysql_connections: \"not-a-number-{v}\"\n")
    } else {
        format!("tenants:\n  {id}:\n    mysql_connections: \"{v}\"\n    container_cpu: {{warning: {v}, critical: {}}}\n", v + 10)
    }
}

/// Checks that a body is well-formed exposition text; returns the `config_info` hash.
fn parse(body: &str) -> Result<String, String> {
    let lines = dynalert_probe::exposition::parse(body).map_err(|e| e.to_string())?;
    lines
        .into_iter()
        .find(|(name, ..)| name == "threshold_exporter_config_info")
        .and_then(|(_, mut labels, _)| labels.remove("hash"))
        .ok_or_else(|| "no config_info".to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress test (20 s): run by `make test` as the step `stress tests`"]
async fn scrapes_stay_consistent_under_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(
        d.join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n  container_cpu: 80\n",
    )
    .unwrap();
    for i in 0..TENANTS {
        std::fs::write(
            d.join(format!("t{i:03}.yaml")),
            tenant_file(&format!("t{i:03}"), 100, false),
        )
        .unwrap();
    }
    let mut opts = Options::new(&d);
    opts.poll_interval = Duration::from_millis(500);
    let server = Server::start(opts);
    assert!(server.ready(Duration::from_secs(20)).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(dynalert_server::serve::serve(
        listener,
        server.router(),
        None,
        512,
        async {
            let _ = stop_rx.await;
        },
    ));

    let done = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(AtomicU64::new(0));
    let hashes = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let mut scrapers = Vec::new();
    for n in 0..8 {
        let (done, scrapes, hashes) = (done.clone(), scrapes.clone(), hashes.clone());
        scrapers.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await.unwrap();
            let headers: &[(&str, &str)] = if n % 2 == 0 {
                &[]
            } else {
                &[("accept-encoding", "gzip")]
            };
            while !done.load(Ordering::Relaxed) {
                let r = c
                    .request("GET", "/metrics", headers)
                    .await
                    .expect("scrape failed");
                assert_eq!(r.status, 200, "scrape status");
                let text = if r.header("content-encoding") == Some("gzip") {
                    use std::io::Read;
                    let mut s = String::new();
                    flate2::read::GzDecoder::new(&r.body[..])
                        .read_to_string(&mut s)
                        .unwrap();
                    s
                } else {
                    r.text()
                };
                let hash = parse(&text).unwrap_or_else(|e| panic!("body does not parse: {e}"));
                assert_eq!(
                    hash,
                    body_hash(&text),
                    "config_info hash does not match the body"
                );
                hashes.lock().unwrap().insert(hash);
                scrapes.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let writer = tokio::spawn(async move {
        let started = Instant::now();
        let mut changes = 0u64;
        let mut invalid = 0u64;
        while started.elapsed() < RUN {
            let i = (changes as usize * 7) % TENANTS;
            let bad = changes % 10 == 9;
            invalid += u64::from(bad);
            let id = format!("t{i:03}");
            std::fs::write(
                d.join(format!("{id}.yaml")),
                tenant_file(&id, 100 + changes, bad),
            )
            .unwrap();
            changes += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (changes, invalid)
    });
    let (changes, invalid) = writer.await.unwrap();
    done.store(true, Ordering::Relaxed);
    for s in scrapers {
        s.await.unwrap();
    }
    let _ = stop_tx.send(());
    serving.await.unwrap();
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    let distinct = hashes.lock().unwrap().len();
    eprintln!(
        "changes={changes} invalid={invalid} scrapes={} distinct_bodies={distinct}",
        scrapes.load(Ordering::Relaxed)
    );
    assert!(changes >= 200 && invalid >= 20);
    assert!(scrapes.load(Ordering::Relaxed) > 100);
    assert!(distinct > 20, "bodies should follow the changes");
}
