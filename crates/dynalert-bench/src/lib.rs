//! Scale benchmarks with a real Prometheus.
//!
//! `rules` generates, for N tenants and K keys, a synthetic source endpoint, a `conf.d`, the
//! per-tenant rule set (one alert rule per tenant, key and tier, constants inlined) and the
//! dynamic rule set (the rule packs' pattern), runs Debian's Prometheus on each in turn against
//! the same data, measures evaluation cost, load time, memory and CPU, and checks that both sets
//! fire exactly the same alerts. `exporter` measures the threshold exporter's own costs.
//! Everything binds 127.0.0.1; every child process is killed when its guard is dropped.

pub mod exporter;
pub mod fixture;
pub mod metrics;
pub mod process;
pub mod report;
pub mod rules;
pub mod serve;
pub mod svg;
pub mod vm;

use std::time::Duration;

/// Errors of a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("config: {0}")]
    Config(String),
    #[error("`{binary}` not found (Debian package: {package}); pass its path with `{flag}`")]
    MissingBinary {
        binary: String,
        package: String,
        flag: String,
    },
    #[error("{0}")]
    Process(String),
    #[error(transparent)]
    Timeout(#[from] dynalert_probe::TimedOut),
    #[error("{0}")]
    NotScraped(String),
    #[error("http: {0}")]
    Http(String),
}

pub type Result<T> = std::result::Result<T, BenchError>;

/// A child that failed to start or exited ([`dynalert_probe::process::Guard`]).
impl From<anyhow::Error> for BenchError {
    fn from(e: anyhow::Error) -> BenchError {
        BenchError::Process(format!("{e:#}"))
    }
}

/// A page that is not valid exposition text: a bad body, retried as an HTTP failure.
impl From<dynalert_probe::exposition::ParseError> for BenchError {
    fn from(e: dynalert_probe::exposition::ParseError) -> BenchError {
        BenchError::Http(e.to_string())
    }
}

/// Parses a positive Prometheus duration such as `15s`, `500ms`, `2m` ([`dynalert_model::duration`]).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    dynalert_model::duration::parse_positive(s.trim())
}

pub use dynalert_model::duration::format as prom_duration;

/// Whether a wait finished (`false`: it timed out); any other error is returned.
pub(crate) fn finished(wait: Result<()>) -> Result<bool> {
    match wait {
        Ok(()) => Ok(true),
        Err(BenchError::Timeout(..)) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
