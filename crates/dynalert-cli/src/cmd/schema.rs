//! `dynalert schema`: JSON Schema of the config files, and a drift check of the committed copies.

use std::path::PathBuf;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Write the JSON Schema of platform and tenant files"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Write the JSON Schema of platform and tenant files.

Writes `platform.schema.json` and `tenant.schema.json` into `--dir`. Point an editor's YAML
language server at them for completion and inline errors while editing conf.d files (the
example files carry a `# yaml-language-server: $schema=…` line). With `--check`, nothing is
written and the command fails when the files in `--dir` differ from the generated ones."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Refresh the committed schemas:
    dynalert schema --dir docs/schema

  Fail when they are out of date:
    dynalert schema --dir docs/schema --check

  Write them next to a deployment's conf.d:
    dynalert schema --dir deploy/schema

Exit codes:
  0  written, or up to date with `--check`
  1  `--check` found a file that differs
  2  usage error, or a file cannot be written

See also:
  dynalert validate   checks everything the schema cannot (cross-file rules, time zones)"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write `platform.schema.json` and `tenant.schema.json` into this directory.
    #[arg(long, default_value = "docs/schema")]
    pub dir: PathBuf,
    /// Do not write; exit 1 when the committed files differ from the generated ones.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let files = dynalert_config::schema::files();
    crate::generated::write_or_check(&args.dir, &files, args.check, "schema", true)
}
