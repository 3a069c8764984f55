//! `threshold-exporter`: serves per-tenant alert thresholds as Prometheus metrics.
//!
//! Thin binary: flags are parsed here, everything else lives in `dynalert-server`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    dynalert_server::run(dynalert_server::Args::parse())
}
