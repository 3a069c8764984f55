//! `dynalert tenant new ID --dir DIR`: a tenant file listing every catalogue key of DIR as a
//! comment with its current default, so a team edits values instead of guessing key names.

use std::path::PathBuf;

use chrono::Utc;

use crate::catalogue::{self, fmt_number, fmt_tiers};
use crate::output::print_diagnostics;
use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Add a tenant file to a conf.d"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Add a tenant file to a conf.d.

`tenant new ID` writes `<ID>.yaml` into `--dir`, listing every key of the directory's catalogue
(read from its platform files) as a comment with its current default and unit, so a team edits
values instead of guessing key names. The tenant then gets the platform defaults until a line
is uncommented. The id is the file name: lower-case letters, digits, `-`, `_` and `.`, starting
and ending with a letter or digit, at most 63 characters. An existing file is never
overwritten."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  A new tenant in conf.d:
    dynalert tenant new db-c --dir conf.d

  Check what it will be served (the platform defaults until edited):
    dynalert effective conf.d --tenant db-c

  Then validate after editing:
    dynalert validate conf.d

Exit codes:
  0  the file was written
  1  the file already exists, the id is invalid, or the platform files have errors
  2  usage error, or the directory cannot be read or written

See also:
  dynalert init       start a new conf.d
  dynalert validate   check the directory after editing"#;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    #[command(
        about = "Write a tenant file listing every catalogue key with its current default",
        long_about = None,
        after_long_help = AFTER_HELP
    )]
    New(NewArgs),
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The tenant id, which is also the file name (`<ID>.yaml`).
    pub id: String,
    /// The conf.d directory whose platform files define the catalogue.
    #[arg(long, default_value = "conf.d")]
    pub dir: PathBuf,
}

pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::New(a) => new(a),
    }
}

/// Why `id` is not a tenant id, if it is not one.
pub fn check_id(id: &str) -> Result<(), String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if id.is_empty() || id.len() > 63 {
        return Err(format!("tenant id `{id}` must be 1 to 63 characters long"));
    }
    if !id.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.')) {
        return Err(format!(
            "tenant id `{id}` may hold only lower-case letters, digits, `-`, `_` and `.`"
        ));
    }
    if !id.starts_with(alnum) || !id.ends_with(alnum) {
        return Err(format!(
            "tenant id `{id}` must start and end with a lower-case letter or a digit"
        ));
    }
    Ok(())
}

fn new(args: NewArgs) -> anyhow::Result<u8> {
    if let Err(e) = check_id(&args.id) {
        eprintln!("error: {e}");
        eprintln!("  hint: for example `db-a`, `team.shop` or `redis_01`");
        return Ok(EXIT_FINDINGS);
    }
    if !args.dir.is_dir() {
        eprintln!("error: `{}` is not a directory", args.dir.display());
        eprintln!(
            "  hint: start one with `dynalert init {}`",
            args.dir.display()
        );
        return Ok(crate::EXIT_ERROR);
    }
    let path = args.dir.join(format!("{}.yaml", args.id));
    let report = dynalert_config::load_dir(&args.dir, Utc::now())?;
    if !report.platform_valid {
        print_diagnostics(&report.diagnostics);
        eprintln!(
            "error: the platform files of `{}` have errors; no tenant file written",
            args.dir.display()
        );
        return Ok(EXIT_FINDINGS);
    }
    let claimed =
        report.config.tenants.contains_key(&args.id) || report.tenant_valid.contains_key(&args.id);
    if claimed && !path.exists() {
        eprintln!(
            "error: tenant `{}` is already defined in `{}`; nothing was written",
            args.id,
            args.dir.display()
        );
        return Ok(EXIT_FINDINGS);
    }
    if let Some(code) = super::init::refuse_existing([path.as_path()]) {
        return Ok(code);
    }
    let text = tenant_file(&args.id, &report.config.platform);
    super::init::write_new(&path, &text)?;
    eprintln!("wrote {}", path.display());
    Ok(0)
}

/// The tenant file: every catalogue key commented out with its current default.
pub fn tenant_file(id: &str, platform: &dynalert_model::Platform) -> String {
    let cat = catalogue::builtin();
    let about = |key: &str| cat.key(key).map(|k| k.comment());
    let mut rows: Vec<(String, String)> = Vec::new();
    for key in platform.catalogue() {
        let plain = platform
            .defaults
            .iter()
            .find(|(k, _)| k.base == key && k.dims.is_empty());
        let (value, note) = match plain {
            Some((_, tiers)) => {
                let shown: Vec<(String, String)> = tiers
                    .iter()
                    .map(|(s, v)| {
                        let value = v.default.map_or_else(|| "disable".to_string(), fmt_number);
                        (s.as_str().to_string(), value)
                    })
                    .collect();
                let scheduled = tiers.values().any(|v| !v.overrides.is_empty());
                (
                    fmt_tiers(&shown),
                    if scheduled {
                        "default outside scheduled windows"
                    } else {
                        "default"
                    },
                )
            }
            None => ("<value>".to_string(), "optional, no default"),
        };
        let comment = match about(key) {
            Some(a) => format!("{note}; {a}"),
            None => note.to_string(),
        };
        rows.push((format!("    # {key}: {value}"), comment));
    }
    for (name, f) in &platform.state_filters {
        rows.push((
            format!("    # _state_{name}: disable"),
            format!(
                "state alert, on by default ({}, {})",
                f.reasons.join(", "),
                f.severity.as_str()
            ),
        ));
    }
    rows.push((
        "    # _metadata: {owner: TEAM, runbook_url: \"https://…\"}".to_string(),
        "shown in alerts and on the status page".to_string(),
    ));
    let mut out = format!(
        "\
# Tenant `{id}`, written by `dynalert tenant new`. The file name is the tenant id.
# Every key of the platform catalogue is listed with its current default. Uncomment a line
# and change the value to override it, write `disable` to switch a key off, or set the tiers
# separately (`{{warning: 50, critical: 80}}`). Check with `dynalert validate`.
tenants:
  {id}:
"
    );
    super::init::aligned(&mut out, &rows);
    out
}
