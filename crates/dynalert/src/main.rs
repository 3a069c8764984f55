//! `dynalert`: thin binary; all logic lives in `dynalert-cli`.

/// Loading and resolving thousands of tenant files is allocation-heavy; mimalloc
/// cuts that cost markedly against the system allocator (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dynalert_cli::run(std::env::args_os())
}
