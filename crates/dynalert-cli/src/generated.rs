//! Generated reference files (manual pages, completion scripts) and their drift check.
//!
//! The committed copies under `docs/cli/` are what `make install` installs; `--check` compares
//! them with what the current definitions generate.

use std::path::Path;

use anyhow::Context;

use crate::EXIT_FINDINGS;

/// The manual pages of `cmd` and of every visible subcommand, as `(file name, roff text)`.
///
/// The pages name the package version only (not the revision), so that committed pages
/// change when the commands change, not on every commit.
pub fn man_pages(cmd: clap::Command) -> Vec<(String, String)> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, String)>) {
        let man = clap_mangen::Man::new(cmd.clone()).manual("dynalert manual");
        let mut text = Vec::new();
        man.render(&mut text)
            .expect("rendering into memory cannot fail");
        out.push((
            man.get_filename(),
            String::from_utf8(text).expect("roff is UTF-8"),
        ));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
    }
    let mut cmd = cmd
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out);
    out
}

/// Writes `files` into `dir`, or with `check` compares them and exits 1 on a difference.
/// Written files are reported one line each with `each`, else as one count.
pub fn write_or_check<N: AsRef<Path>>(
    dir: &Path,
    files: &[(N, String)],
    check: bool,
    command: &str,
    each: bool,
) -> anyhow::Result<u8> {
    let mut stale = 0;
    for (name, text) in files {
        let path = dir.join(name);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!("error: `{}` is out of date", path.display());
                stale += 1;
            }
        } else {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            if each {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    if stale > 0 {
        eprintln!(
            "  hint: run `cargo run -q --bin dynalert -- {command} --dir {}` and commit the result",
            dir.display()
        );
        return Ok(EXIT_FINDINGS);
    }
    if !check && !each {
        eprintln!("wrote {} files to {}", files.len(), dir.display());
    }
    Ok(0)
}
