//! `dynalert man`: manual pages from the command definitions, one per command.

use std::path::PathBuf;

use clap::CommandFactory;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Print or write the manual pages"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Print or write the manual pages.

Without `--dir`, prints the page `dynalert(1)` on stdout. With `--dir`, writes `dynalert.1` and
one page per command (`dynalert-validate.1`, …) into the directory; with `--check` as well,
writes nothing and fails when the pages there differ from the generated ones. The pages are
generated from the same definitions as this help."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Read the manual without installing it:
    dynalert man | man -l -

  Write every page:
    dynalert man --dir /usr/local/share/man/man1

  Fail when the committed pages are stale:
    dynalert man --dir docs/cli/man --check

Exit codes:
  0  printed, written, or up to date
  1  `--check` found a page that differs
  2  usage error, or a page cannot be written

See also:
  dynalert completions   shell completion scripts"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write `dynalert.1` and one page per command into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// With `--dir`: write nothing; exit 1 when the pages there differ.
    #[arg(long, requires = "dir")]
    pub check: bool,
}

/// Every page: `dynalert.1`, `dynalert-validate.1`, `dynalert-rules-coverage.1`, …
pub fn pages() -> Vec<(String, String)> {
    crate::generated::man_pages(crate::Cli::command())
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let pages = pages();
    match &args.dir {
        Some(dir) => crate::generated::write_or_check(dir, &pages, args.check, "man", false),
        None => {
            let (_, top) = pages
                .iter()
                .find(|(name, _)| name == "dynalert.1")
                .expect("the top-level page is generated");
            print!("{top}");
            Ok(0)
        }
    }
}
