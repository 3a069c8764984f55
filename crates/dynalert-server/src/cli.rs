//! Command-line flags in the exporter dialect (`--config.dir`, `--web.listen-address`, …).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::logging::{LogFormat, LogLevel};

/// Serves per-tenant alert thresholds from a `conf.d/` directory as Prometheus metrics.
///
/// The help texts below are what users read: explicit `about`/`long_about`, examples and exit
/// codes (snapshot-tested in `docs/cli/help/`).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "threshold-exporter",
    version = dynalert_version::LONG,
    mut_args = help_heading,
    about = "Serve per-tenant alert thresholds from a conf.d directory as Prometheus metrics",
    long_about = "\
Serve per-tenant alert thresholds from a conf.d directory as Prometheus metrics.

Reads the platform files (`_*.yaml`) and one file per tenant (`<tenant>.yaml`), validates them
and serves `user_threshold`, `user_state_filter`, `user_silent_mode`, `user_maintenance` and the
tenant metadata as metrics for the rule packs to join against. The directory is reloaded on
change (inotify, a stat poll, SIGHUP, or `POST /-/reload` where enabled): a tenant file that
fails validation keeps that tenant's last good thresholds, a bad platform file keeps the whole
last good configuration, and both are reported as metrics. Run two or more replicas with the
same directory for high availability; they serve identical series.

Endpoints: `/metrics`, `/` (status page), `/-/healthy`, `/-/ready` (503 until the first load),
`POST /-/reload` (where enabled), `/api/v1/tenants` and `/api/v1/tenants/{id}`.",
    after_long_help = "\
Examples:
  Serve ./conf.d on port 9531 (every interface):
    threshold-exporter

  Serve a mounted ConfigMap on localhost only, logging JSON:
    threshold-exporter --config.dir /etc/dynalert/conf.d \\
      --web.listen-address 127.0.0.1:9531 --log.format json

  Serve over TLS with basic auth, keeping the last good config across restarts:
    threshold-exporter --web.config.file web.yml --storage.path /var/lib/dynalert/last-good.json

Exit codes:
  0  stopped by SIGINT or SIGTERM
  2  bad flag or start-up error (listen address, web config file), named in the message

See also:
  dynalert validate DIR    check a conf.d before the exporter loads it
  dynalert effective DIR   print exactly the series the exporter serves, at any instant"
)]
pub struct Args {
    /// Directory of platform (`_*.yaml`) and tenant (`<tenant>.yaml`) files.
    #[arg(long = "config.dir", value_name = "DIR", default_value = "./conf.d")]
    pub config_dir: PathBuf,
    /// Address to listen on (`:9531` listens on every interface).
    #[arg(
        long = "web.listen-address",
        value_name = "ADDR",
        default_value = ":9531"
    )]
    pub listen_address: String,
    /// Path under which metrics are served.
    #[arg(
        long = "web.telemetry-path",
        value_name = "PATH",
        default_value = "/metrics"
    )]
    pub telemetry_path: String,
    /// Web config file (exporter-toolkit format) enabling TLS and basic auth.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<PathBuf>,
    /// Minimum level logged.
    #[arg(
        long = "log.level",
        value_name = "LEVEL",
        value_enum,
        default_value = "info"
    )]
    pub log_level: LogLevel,
    /// Log line format.
    #[arg(
        long = "log.format",
        value_name = "FORMAT",
        value_enum,
        default_value = "logfmt"
    )]
    pub log_format: LogFormat,
    /// File keeping the last good effective config across restarts.
    #[arg(long = "storage.path", value_name = "FILE")]
    pub storage_path: Option<PathBuf>,
    /// Prometheus running the rule packs: `/tenants/{id}` then shows observations and alert states.
    #[arg(long = "prometheus.url", value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Interval of the fallback poll (stat only; reads files whose stamp changed).
    #[arg(long = "config.poll-interval", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Watch the config directory with inotify (`--config.watch=false` relies on the poll).
    #[arg(long = "config.watch", value_name = "BOOL", default_value_t = true, action = ArgAction::Set)]
    pub watch: bool,
    /// Largest config file accepted (`512KiB`, `1MiB`, bytes when bare); larger files are
    /// rejected without being read.
    #[arg(long = "config.max-file-size", value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Deepest nesting of lists and mappings in a config file.
    #[arg(long = "config.max-depth", value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(4..))]
    pub max_depth: u16,
    /// Most YAML nodes in one config file, aliases counted as the nodes they repeat.
    #[arg(long = "config.max-nodes", value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(100..))]
    pub max_nodes: u32,
    /// A file modified less than this long ago is not read yet: it may be mid-write.
    #[arg(long = "config.settle-delay", value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub settle_delay: Duration,
    /// Enable `POST /-/reload` (as Prometheus' `--web.enable-lifecycle`); off by default.
    #[arg(long = "web.enable-lifecycle", default_value_t = false)]
    pub enable_lifecycle: bool,
    /// Most concurrent HTTP connections; further connections wait to be accepted.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

/// Parses a size: bytes, or a number with `KiB`, `MiB`, `GiB` (also `KB`, `MB`, `GB` as
/// powers of 1000).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size `{s}` (expected e.g. `512KiB`, `1MiB`, `65536`)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => {
            return Err(format!(
                "invalid size unit in `{s}` (use `KiB`, `MiB` or `GiB`)"
            ))
        }
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("size `{s}` must be positive and below 16 EiB")),
        Some(v) => Ok(v),
    }
}

/// Groups the flags in `--help` by their prefix, as exporter-toolkit's exporters do:
/// `--web.*`, `--config.*`, `--log.*`, `--storage.*`.
fn help_heading(arg: clap::Arg) -> clap::Arg {
    let heading = match arg.get_long().and_then(|l| l.split('.').next()) {
        Some("web") => "Web",
        Some("config") => "Configuration",
        Some("log") => "Logging",
        Some("storage") => "Storage",
        _ => return arg,
    };
    arg.help_heading(heading)
}

/// Parses a positive Prometheus duration (`500ms`, `30s`, `5m`, `1h30m`), as Prometheus' own
/// duration flags do ([`dynalert_model::duration`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    dynalert_model::duration::parse_positive(s)
}

/// Resolves `--web.listen-address` (`:port` means every IPv4 interface).
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    full.to_socket_addrs()
        .map_err(|e| format!("invalid `--web.listen-address` `{s}`: {e}"))?
        .next()
        .ok_or_else(|| format!("invalid `--web.listen-address` `{s}`: no address"))
}

/// Checks `--web.telemetry-path`.
pub fn check_telemetry_path(p: &str) -> Result<(), String> {
    let reserved = [
        "/",
        "/-/healthy",
        "/-/ready",
        "/-/reload",
        "/tenants",
        "/config",
    ];
    if !p.starts_with('/')
        || p.contains(['{', '}', '*'])
        || reserved.contains(&p)
        || p.starts_with("/api/")
        || p.starts_with("/tenants/")
    {
        return Err(format!(
            "invalid `--web.telemetry-path` `{p}`: must start with `/` and not clash with `/`, `/-/…`, `/api/…`, `/tenants` or `/config`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn flags_are_named_in_errors() {
        for (flag, value) in [
            ("--config.poll-interval", "soon"),
            ("--log.format", "xml"),
            ("--config.max-file-size", "lots"),
            ("--config.max-depth", "1"),
        ] {
            let e = Args::try_parse_from(["x", flag, value]).unwrap_err();
            assert!(e.to_string().contains(flag), "{e}");
        }
        assert!(parse_listen("nohost-:x")
            .unwrap_err()
            .contains("--web.listen-address"));
        assert_eq!(parse_listen(":9531").unwrap().port(), 9531);
        assert!(check_telemetry_path("metrics").is_err());
        let a = Args::try_parse_from(["x", "--config.watch=false"]).unwrap();
        assert!(!a.watch);
        assert!(!a.enable_lifecycle, "the lifecycle API is off by default");
        assert_eq!(a.max_file_size, 1 << 20);
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert!(parse_size("0").is_err());
    }
}
