//! `threshold-exporter`: serves per-tenant alert thresholds as Prometheus metrics.
//!
//! Thin binary: flags are parsed here, everything else lives in `dynalert-server`.

use clap::Parser;

/// Loading and resolving thousands of tenant files is allocation-heavy; mimalloc
/// cuts that cost markedly against the system allocator (docs/performance.md).
#[global_allocator]
static GLOBAL: dynalert_alloc::MiMalloc = dynalert_alloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dynalert_alloc::return_freed_memory_at_once();
    dynalert_server::run(dynalert_server::Args::parse())
}
