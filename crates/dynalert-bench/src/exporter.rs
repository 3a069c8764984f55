//! `bench exporter`: the threshold exporter's own costs at N tenants.
//!
//! In-process: cold load + validate + resolve of the generated `conf.d`, and one rendering.
//! Against the real `threshold-exporter` binary: start to ready (cold load over HTTP), one
//! tenant file changed then `POST /-/reload` until it answers, `/metrics` latency (uncompressed,
//! sequential requests) and RSS.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use dynalert_probe::http::Client;
use dynalert_probe::port::THRESHOLD_EXPORTER;
use serde::Serialize;

use crate::fixture::Fixture;
use crate::process::{wait_for, Guard};
use crate::{BenchError, Result};

/// Options of a `bench exporter` run.
#[derive(Debug, Clone)]
pub struct Options {
    pub tenants: Vec<usize>,
    pub keys: usize,
    pub scrapes: usize,
    pub out: PathBuf,
    pub exporter: PathBuf,
    pub progress: bool,
}

/// Measurements at one tenant count.
#[derive(Debug, Clone, Serialize)]
pub struct ExporterSize {
    pub tenants: usize,
    pub series: usize,
    pub library_load_ms: f64,
    pub library_render_ms: f64,
    pub cold_start_s: f64,
    pub reload_ms: f64,
    pub scrape_p50_ms: f64,
    pub scrape_p90_ms: f64,
    pub body_bytes: usize,
    pub rss_bytes: u64,
}

/// A complete run.
#[derive(Debug, Clone, Serialize)]
pub struct ExporterReport {
    pub command: String,
    pub machine: String,
    pub keys: usize,
    pub sizes: Vec<ExporterSize>,
}

pub fn run(opts: &Options, command: String) -> Result<ExporterReport> {
    let mut report = ExporterReport {
        command,
        machine: crate::rules::machine_description(),
        keys: opts.keys,
        sizes: vec![],
    };
    for &n in &opts.tenants {
        report.sizes.push(run_size(opts, n)?);
    }
    Ok(report)
}

fn run_size(opts: &Options, n: usize) -> Result<ExporterSize> {
    let dir = opts.out.join(format!("exporter-{n}"));
    if dir.exists() {
        fs_err::remove_dir_all(&dir)?;
    }
    let conf_d = dir.join("conf.d");
    let fixture = Fixture::new(n, opts.keys);
    fixture.write_conf_d(&conf_d)?;
    if opts.progress {
        eprintln!("bench: exporter, {n} tenants");
    }

    let now = Fixture::now();
    let t = Instant::now();
    let report =
        dynalert_config::load_dir(&conf_d, now).map_err(|e| BenchError::Config(e.to_string()))?;
    let snapshot = dynalert_model::resolve(&report.config, now);
    let library_load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let body = dynalert_exposition::render(&snapshot, dynalert_exposition::Format::Text);
    let library_render_ms = t.elapsed().as_secs_f64() * 1000.0;
    let series = body.lines().filter(|l| !l.starts_with('#')).count();

    let mut cmd = Command::new(&opts.exporter);
    cmd.arg(format!("--config.dir={}", conf_d.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--config.watch=false")
        .arg("--web.enable-lifecycle")
        // `info`: the level of the line that reports the bound port.
        .arg("--log.level=info");
    let started = Instant::now();
    let guard = Guard::spawn("threshold-exporter", cmd, &dir.join("exporter.log"))?;
    let base = format!(
        "http://127.0.0.1:{}",
        guard.port(THRESHOLD_EXPORTER, Duration::from_secs(300))?
    );
    let http = Client::new(Duration::from_secs(120));
    let ready = format!("{base}/-/ready");
    wait_for(
        "the exporter to be ready",
        Duration::from_secs(300),
        Duration::from_millis(20),
        || {
            guard.check_alive()?;
            Ok((http.get_status(&ready).ok() == Some(200)).then_some(()))
        },
    )?;
    let cold_start_s = started.elapsed().as_secs_f64();

    // One tenant file changed, then an explicit reload.
    fs_err::write(
        conf_d.join(format!("{}.yaml", Fixture::tenant(1))),
        fixture.tenant_file(1, 1),
    )?;
    let t = Instant::now();
    let (code, body) = crate::metrics::http(http.post_empty(&format!("{base}/-/reload")))?;
    if code != 200 {
        return Err(BenchError::Http(format!("POST /-/reload: {code} {body}")));
    }
    let reload_ms = t.elapsed().as_secs_f64() * 1000.0;

    let mut lat = vec![];
    let mut body_bytes = 0;
    for _ in 0..opts.scrapes.max(1) {
        let t = Instant::now();
        let text = crate::metrics::http(http.get_text(&format!("{base}/metrics")))?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        body_bytes = text.len();
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let rss_bytes = guard.rss_bytes().unwrap_or(0);
    drop(guard);
    let _ = fs_err::remove_dir_all(&conf_d);
    Ok(ExporterSize {
        tenants: n,
        series,
        library_load_ms,
        library_render_ms,
        cold_start_s,
        reload_ms,
        scrape_p50_ms: lat[lat.len() / 2],
        scrape_p90_ms: lat[(lat.len() * 9 / 10).min(lat.len() - 1)],
        body_bytes,
        rss_bytes,
    })
}
