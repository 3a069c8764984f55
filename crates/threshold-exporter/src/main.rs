//! `threshold-exporter`: thin binary; all logic lives in `dynalert-server`.

fn main() -> std::process::ExitCode {
    eprintln!("threshold-exporter: not built yet");
    std::process::ExitCode::from(2)
}
