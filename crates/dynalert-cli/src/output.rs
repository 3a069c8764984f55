//! Shared output helpers: diagnostics on stderr, colour only when allowed.

use std::io::IsTerminal;

use std::path::Path;

use dynalert_config::{Diagnostic, Level, LoadReport};

/// Whether stderr may carry colour (`NO_COLOR` unset and a terminal).
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints diagnostics to stderr; the level word is always printed, colour only adds to it.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let color = color();
    for d in diags {
        let text = d.to_string();
        if color {
            let code = match d.level {
                Level::Error => "31",
                Level::Warning => "33",
            };
            eprintln!("\x1b[{code}m{text}\x1b[0m");
        } else {
            eprintln!("{text}");
        }
    }
}

/// Loads `dir` and prints its diagnostics; `None` (after saying why, with `consequence`)
/// when it has errors.
pub fn load_valid(dir: &Path, consequence: &str) -> anyhow::Result<Option<LoadReport>> {
    let report = dynalert_config::load_dir(dir, chrono::Utc::now())?;
    print_diagnostics(&report.diagnostics);
    if report.errors() > 0 {
        eprintln!(
            "error: `{}` has {} errors{consequence}",
            dir.display(),
            report.errors()
        );
        return Ok(None);
    }
    Ok(Some(report))
}

/// A value or `-`.
pub fn or_dash(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// `--format` of commands that print a report for people or for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}
