//! Command-line flags in the exporter dialect (`--config.dir`, `--web.listen-address`, …).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::logging::{LogFormat, LogLevel};

/// Serves per-tenant alert thresholds from a `conf.d/` directory as Prometheus metrics.
#[derive(Debug, Clone, Parser)]
#[command(name = "threshold-exporter", version, about)]
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
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,
    /// Log line format.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
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
}

/// Parses `500ms`, `30s`, `5m`, `1h` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{s}` (expected e.g. `500ms`, `30s`, `5m`)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit in `{s}` (use `ms`, `s`, `m` or `h`)"
            ))
        }
    };
    if secs <= 0.0 || !secs.is_finite() {
        return Err(format!("duration `{s}` must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
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
        let e = Args::try_parse_from(["x", "--config.poll-interval", "soon"]).unwrap_err();
        assert!(e.to_string().contains("--config.poll-interval"), "{e}");
        let e = Args::try_parse_from(["x", "--log.format", "xml"]).unwrap_err();
        assert!(e.to_string().contains("--log.format"), "{e}");
        assert!(parse_listen("nohost-:x")
            .unwrap_err()
            .contains("--web.listen-address"));
        assert_eq!(parse_listen(":9531").unwrap().port(), 9531);
        assert!(check_telemetry_path("metrics").is_err());
        let a = Args::try_parse_from(["x", "--config.watch=false"]).unwrap();
        assert!(!a.watch);
    }
}
