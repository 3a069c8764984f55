//! `dynalert init DIR`: a new conf.d whose catalogue is the keys the shipped packs read, with
//! their defaults and a unit-and-meaning comment per key, plus one example tenant. Never
//! overwrites: when a file exists, nothing is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::catalogue::{self, fmt_number, fmt_tiers, Catalogue};
use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Start a new conf.d: the catalogue of the shipped rule packs and one example tenant"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Start a new conf.d: the catalogue of the shipped rule packs and one example tenant.

Writes `_defaults.yaml`, a platform file whose catalogue is exactly the keys the shipped rule
packs read, each with its suggested default and a comment giving its unit and meaning, plus the
dimensions and state filters the packs honour; and `example.yaml`, one tenant that overrides a
few of them. The result validates as written. Existing files are never overwritten: the command
fails without writing anything when one of them exists."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  A new directory:
    dynalert init conf.d

  Then add the first real tenant and check the directory:
    dynalert tenant new db-a --dir conf.d
    dynalert validate conf.d

  See which alerts read each key of the new catalogue:
    dynalert rules coverage conf.d

Exit codes:
  0  the files were written
  1  a file already exists (nothing was written)
  2  usage error, or the directory cannot be written

See also:
  dynalert tenant new   add a tenant file to an existing conf.d
  dynalert validate     check the directory after editing"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write into (created when missing).
    pub dir: PathBuf,
}

/// Name of the example tenant (and of its file, without `.yaml`).
pub const EXAMPLE_TENANT: &str = "example";

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cat = catalogue::builtin();
    let files = [
        (args.dir.join("_defaults.yaml"), platform_file(&cat)),
        (
            args.dir.join(format!("{EXAMPLE_TENANT}.yaml")),
            example_tenant(&cat),
        ),
    ];
    if let Some(code) = refuse_existing(files.iter().map(|(p, _)| p.as_path())) {
        return Ok(code);
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create `{}`", args.dir.display()))?;
    for (path, text) in &files {
        write_new(path, text)?;
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "  next: `dynalert tenant new ID --dir {0}`, then `dynalert validate {0}`",
        args.dir.display()
    );
    Ok(0)
}

/// Says which of `paths` exist and returns exit code 1, or `None` when none does.
pub fn refuse_existing<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Option<u8> {
    let existing: Vec<&Path> = paths.into_iter().filter(|p| p.exists()).collect();
    if existing.is_empty() {
        return None;
    }
    for p in &existing {
        eprintln!(
            "error: `{}` already exists; nothing was written",
            p.display()
        );
    }
    eprintln!("  hint: edit the existing file, or move it away first");
    Some(EXIT_FINDINGS)
}

/// Creates `path` with `text`, failing if it appeared in the meantime.
pub fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// `  key: value` lines padded so that their `# comment`s line up; a line without a comment
/// (a heading) is written as it is.
pub(crate) fn aligned(out: &mut String, rows: &[(String, String)]) {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (line, comment) in rows {
        if comment.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "{line:width$}  # {comment}");
        }
    }
}

/// The platform file: defaults, optional keys, dimensions and state filters of the packs.
pub fn platform_file(cat: &Catalogue) -> String {
    let mut out = String::from(
        "\
# Platform defaults, written by `dynalert init` from the catalogue of the shipped rule packs.
# The keys under `defaults:` and `optional_overrides:` are this platform's catalogue: the only
# threshold keys a tenant may set. Each comment gives the key's unit and what it measures.
# Change the values to suit the platform, then run `dynalert validate` on this directory.
defaults:
",
    );
    let mut rows = Vec::new();
    let mut pack = "";
    for k in cat.keys.iter().filter(|k| !k.default.is_empty()) {
        if k.pack != pack {
            pack = &k.pack;
            rows.push((format!("  # {pack} pack"), String::new()));
        }
        let tiers: Vec<(String, String)> = k
            .default
            .iter()
            .map(|(t, v)| (t.clone(), fmt_number(*v)))
            .collect();
        rows.push((format!("  {}: {}", k.name, fmt_tiers(&tiers)), k.comment()));
    }
    aligned(&mut out, &rows);
    let optional: Vec<_> = cat.keys.iter().filter(|k| k.default.is_empty()).collect();
    if !optional.is_empty() {
        out.push_str(
            "\n# No default: no series until a tenant sets a value.\noptional_overrides:\n",
        );
        let rows: Vec<_> = optional
            .iter()
            .map(|k| (format!("  - {}", k.name), k.comment()))
            .collect();
        aligned(&mut out, &rows);
    }
    let dims: Vec<_> = cat.keys.iter().filter(|k| !k.labels.is_empty()).collect();
    if !dims.is_empty() {
        out.push_str(
            "\n# Labels a tenant may refine a key by (`key{label=\"value\"}`): the ones the packs honour.\ndimensions:\n",
        );
        for k in dims {
            let _ = writeln!(out, "  {}: [{}]", k.name, k.labels.join(", "));
        }
    }
    if !cat.state_filters.is_empty() {
        out.push_str(
            "\n# State-based alerts, on for every tenant unless it writes `_state_<name>: disable`.\nstate_filters:\n",
        );
        let rows: Vec<_> = cat
            .state_filters
            .iter()
            .map(|f| {
                (
                    format!(
                        "  {}: {{reasons: [{}], severity: {}}}",
                        f.name,
                        f.reasons.join(", "),
                        f.severity
                    ),
                    f.meaning.clone(),
                )
            })
            .collect();
        aligned(&mut out, &rows);
    }
    out
}

/// One tenant showing the three things a tenant does most: a custom value, one tier
/// switched off, and its metadata.
pub fn example_tenant(cat: &Catalogue) -> String {
    let mut out = format!(
        "\
# An example tenant, written by `dynalert init`. The file name is the tenant id. Add real
# tenants with `dynalert tenant new ID --dir DIR`, which lists every key with its default.
tenants:
  {EXAMPLE_TENANT}:
"
    );
    let mut rows = Vec::new();
    if let Some(k) = cat.keys.iter().find(|k| k.default.len() == 1) {
        let (_, v) = &k.default[0];
        rows.push((
            format!("    {}: {}", k.name, fmt_number(v * 2.0)),
            format!(
                "custom warning threshold (platform default {})",
                fmt_number(*v)
            ),
        ));
    }
    if let Some(k) = cat
        .keys
        .iter()
        .find(|k| k.default.iter().any(|(t, _)| t == "critical"))
    {
        rows.push((
            format!("    {}: {{critical: disable}}", k.name),
            "warning tier only: no critical series".to_string(),
        ));
    }
    rows.push((
        format!("    _metadata: {{owner: {EXAMPLE_TENANT}-team}}"),
        "shown in alerts and on the status page".to_string(),
    ));
    aligned(&mut out, &rows);
    out
}
