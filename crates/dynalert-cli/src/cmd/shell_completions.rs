//! `dynalert completions SHELL`: shell completion scripts from the command definitions.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Print a shell completion script"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Print a shell completion script.

Prints the completion script for SHELL on stdout, generated from the same definitions as this
help. `make install` installs the bash, zsh and fish scripts in their usual directories."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Complete in the current bash session:
    source <(dynalert completions bash)

  Install for zsh (a directory on $fpath):
    dynalert completions zsh > ~/.zfunc/_dynalert

  Install for fish:
    dynalert completions fish > ~/.config/fish/completions/dynalert.fish

Exit codes:
  0  printed
  2  usage error (an unknown shell)

See also:
  dynalert man   the manual pages"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum, required_unless_present = "dir")]
    pub shell: Option<Shell>,
    /// Write the bash, zsh and fish scripts into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// With `--dir`: write nothing; exit 1 when the scripts there differ.
    #[arg(long, requires = "dir")]
    pub check: bool,
}

/// The completion script of `shell` for `dynalert`.
pub fn script(shell: Shell) -> String {
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dynalert", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

/// File names and texts of the installed scripts: bash, zsh and fish.
pub fn files() -> Vec<(String, String)> {
    vec![
        ("dynalert.bash".to_string(), script(Shell::Bash)),
        ("_dynalert".to_string(), script(Shell::Zsh)),
        ("dynalert.fish".to_string(), script(Shell::Fish)),
    ]
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match (&args.dir, args.shell) {
        (Some(dir), _) => {
            crate::generated::write_or_check(dir, &files(), args.check, "completions", false)
        }
        (None, Some(shell)) => {
            print!("{}", script(shell));
            Ok(0)
        }
        (None, None) => unreachable!("clap requires SHELL without --dir"),
    }
}
