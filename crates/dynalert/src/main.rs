//! `dynalert`: thin binary; all logic lives in `dynalert-cli`.

fn main() -> std::process::ExitCode {
    dynalert_cli::run(std::env::args_os())
}
