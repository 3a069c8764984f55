//! Self-metrics of the exporter: reload status, served config, build and process metrics.
//!
//! Rendered per scrape from the published state the scrape started with, so the
//! `config_info` hash, series and tenant counts always describe the body served with them.

use dynalert_exposition::{write_header, write_sample, write_value, Format};

use crate::state::{Published, RELOAD_BUCKETS};

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    write_header(out, name, help, "gauge");
    write_sample::<&str>(out, name, &[], value);
}

/// A counter family: `name` without `_total`; OpenMetrics names the family without it.
fn counter(
    out: &mut String,
    format: Format,
    name: &str,
    help: &str,
    samples: &[(Vec<(String, String)>, f64)],
) {
    let family = match format {
        Format::Text => format!("{name}_total"),
        Format::OpenMetrics => name.to_string(),
    };
    write_header(out, &family, help, "counter");
    for (labels, v) in samples {
        write_sample(out, &format!("{name}_total"), labels, *v);
    }
}

/// An info family: one sample, always 1, whose labels are the information.
fn info(out: &mut String, name: &str, help: &str, labels: &[(&str, &str)]) {
    write_header(out, name, help, "gauge");
    write_sample(out, name, labels, 1.0);
}

fn label(k: &str, v: &str) -> Vec<(String, String)> {
    vec![(k.to_string(), v.to_string())]
}

/// Renders `threshold_exporter_tenant_config_valid` (kept pre-rendered per status).
pub fn render_tenant_valid(valid: &std::collections::BTreeMap<String, bool>) -> String {
    let mut out = String::with_capacity(valid.len() * 64 + 256);
    write_header(
        &mut out,
        "threshold_exporter_tenant_config_valid",
        "0 when the tenant's current file is rejected and its last good config is served.",
        "gauge",
    );
    for (tenant, ok) in valid {
        write_sample(
            &mut out,
            "threshold_exporter_tenant_config_valid",
            &label("tenant", tenant),
            f64::from(u8::from(*ok)),
        );
    }
    out
}

/// Renders every self-metric except `tenant_config_valid`, and the OpenMetrics `# EOF`.
pub fn render_tail(p: &Published, format: Format) -> String {
    let s = &p.status;
    let mut out = String::with_capacity(4096);
    gauge(
        &mut out,
        "threshold_exporter_config_last_reload_successful",
        "1 when the last reload applied every file, 0 when some file was rejected.",
        f64::from(u8::from(s.last_reload_ok)),
    );
    gauge(
        &mut out,
        "threshold_exporter_config_last_reload_success_timestamp_seconds",
        "Unix time of the last reload that applied every file.",
        s.last_success
            .map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0),
    );
    let h = &s.reload_duration;
    write_header(
        &mut out,
        "threshold_exporter_config_reload_duration_seconds",
        "Duration of the config scan and validation of a reload (resolution and rendering excluded).",
        "histogram",
    );
    let name = "threshold_exporter_config_reload_duration_seconds_bucket";
    for (le, n) in RELOAD_BUCKETS.iter().zip(h.buckets) {
        let mut v = String::new();
        write_value(&mut v, *le);
        if format == Format::OpenMetrics && !v.contains('.') {
            v.push_str(".0");
        }
        write_sample(&mut out, name, &label("le", &v), n as f64);
    }
    write_sample(&mut out, name, &label("le", "+Inf"), h.count as f64);
    for (suffix, v) in [("sum", h.sum), ("count", h.count as f64)] {
        let name = format!("threshold_exporter_config_reload_duration_seconds_{suffix}");
        write_sample::<&str>(&mut out, &name, &[], v);
    }
    counter(
        &mut out,
        format,
        "threshold_exporter_config_reloads",
        "Config reloads by trigger.",
        &s.reloads
            .iter()
            .map(|(k, v)| (label("trigger", k), *v as f64))
            .collect::<Vec<_>>(),
    );
    for (name, help, v) in [
        (
            "threshold_exporter_config_files_read",
            "Config files read from disk (unchanged files are only stat'ed).",
            s.files_read,
        ),
        (
            "threshold_exporter_config_files_parsed",
            "Config files parsed because their content changed.",
            s.files_parsed,
        ),
        (
            "threshold_exporter_body_renders",
            "Exposition bodies assembled (once per changed snapshot, never per scrape).",
            s.renders,
        ),
    ] {
        counter(&mut out, format, name, help, &[(vec![], v as f64)]);
    }
    for (name, help, v) in [
        ("threshold_exporter_tenants", "Tenants served.", p.body.tenants as f64),
        (
            "threshold_exporter_config_from_snapshot",
            "1 while the --storage.path snapshot is served because the first load has not finished.",
            f64::from(u8::from(s.from_snapshot)),
        ),
        (
            "threshold_exporter_series",
            "Threshold series served (all tenant families).",
            p.body.series as f64,
        ),
    ] {
        gauge(&mut out, name, help, v);
    }
    info(
        &mut out,
        "threshold_exporter_config_info",
        "Hash of the effective configuration served in this body, always 1.",
        &[("hash", &p.body.hash)],
    );
    info(
        &mut out,
        "threshold_exporter_build_info",
        "Build of the exporter, always 1.",
        &[("version", crate::VERSION), ("revision", crate::REVISION)],
    );
    render_process(&mut out, format);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Process metrics from `/proc` (Linux); nothing elsewhere.
fn render_process(out: &mut String, format: Format) {
    let Some(p) = ProcessStats::read() else {
        return;
    };
    counter(
        out,
        format,
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        &[(vec![], p.cpu_seconds)],
    );
    for (name, help, v) in [
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            Some(p.rss_bytes),
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            Some(p.vsize_bytes),
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            Some(p.start_time),
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            Some(p.open_fds),
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            p.max_fds,
        ),
    ] {
        if let Some(v) = v {
            gauge(out, name, help, v);
        }
    }
}

/// Figures of the current process.
#[derive(Debug, Clone, Copy)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub rss_bytes: f64,
    pub vsize_bytes: f64,
    pub start_time: f64,
    pub open_fds: f64,
    pub max_fds: Option<f64>,
}

impl ProcessStats {
    pub fn read() -> Option<ProcessStats> {
        // Clock ticks per second: 100 on every mainstream Linux architecture.
        const TICKS: f64 = 100.0;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name, which may contain spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
        // Field numbers of proc(5), minus 3 for pid, comm and the split offset.
        let utime = num(11)?;
        let stime = num(12)?;
        let starttime = num(19)?;
        let vsize = num(20)?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let rss_kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())?;
        let btime = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())?;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| {
                l.lines()
                    .find(|l| l.starts_with("Max open files"))
                    .and_then(|l| l.split_whitespace().nth(3))
                    .and_then(|v| v.parse::<f64>().ok())
            });
        Some(ProcessStats {
            cpu_seconds: (utime + stime) / TICKS,
            rss_bytes: rss_kb * 1024.0,
            vsize_bytes: vsize,
            start_time: btime + starttime / TICKS,
            open_fds,
            max_fds,
        })
    }
}
