//! `dynalert schema`: JSON Schema of the config files, and a drift check of the committed copies.

use std::path::PathBuf;

use anyhow::Context;

use crate::EXIT_FINDINGS;

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
    let mut drift = false;
    for (name, text) in dynalert_config::schema::files() {
        let path = args.dir.join(name);
        if args.check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current != text {
                eprintln!("error: `{}` is out of date", path.display());
                drift = true;
            }
        } else {
            std::fs::create_dir_all(&args.dir)
                .with_context(|| format!("cannot create `{}`", args.dir.display()))?;
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    if drift {
        eprintln!(
            "  hint: run `cargo run -q --bin dynalert -- schema --dir {}` and commit the result",
            args.dir.display()
        );
        return Ok(EXIT_FINDINGS);
    }
    Ok(0)
}
