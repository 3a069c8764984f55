//! Shared output helpers: diagnostics on stderr, colour only when allowed.

use std::io::IsTerminal;

use dynalert_config::{Diagnostic, Level};

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
