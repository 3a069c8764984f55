//! `dynalert deploy check`: what a values file and a conf.d would deploy to Kubernetes, checked
//! offline before anything reaches a cluster.
//!
//! The chart is rendered and linted by the real Helm engine, every object is validated against
//! the Kubernetes and Prometheus Operator schemas, the conf.d by `dynalert validate`, the rules by
//! `promtool` and the Alertmanager output by `amtool`. That tooling lives in
//! `deploy/tools/dynalert_deploy.py` (installed by `scripts/install-deps.sh`); this command runs
//! it with this very binary for the conf.d steps, so both agree on what is valid. Exit 1 on any
//! problem, each located in the file that causes it.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use anyhow::{bail, Context};

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Render and check the Helm chart offline for a values file and a conf.d"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Render and check the Helm chart offline for a values file and a conf.d.

Renders `deploy/helm/dynalert/` with the real Helm engine for the given values files, lints it,
validates every rendered object against the Kubernetes and Prometheus Operator schemas, checks
the conf.d as `dynalert validate` does, the rule packs with promtool and the generated
Alertmanager configuration with amtool, then prints what would be deployed. Nothing talks to a
cluster: everything is checked offline before it reaches one."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Check a deployment before applying it:
    dynalert deploy check conf.d -f values.yaml

  Keep the rendered objects for review:
    dynalert deploy check conf.d -f values.yaml -o rendered.yaml

Exit codes:
  0  every check passed
  1  a problem was found (each one located in the file that causes it)
  2  usage error, or the deploy tools are not installed

See also:
  dynalert validate       check the conf.d alone
  dynalert alertmanager   the Alertmanager configuration the chart ships"#;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    #[command(about = ABOUT, long_about = LONG_ABOUT, after_long_help = AFTER_HELP)]
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The conf.d directory to deploy.
    pub dir: PathBuf,
    /// A values file of the chart (repeatable; later files win).
    #[arg(long = "values", short = 'f')]
    pub values: Vec<PathBuf>,
    /// Write the rendered objects (multi-document YAML) here.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Checkout holding `deploy/` (default: found from the current directory upwards).
    #[arg(long, env = "DYNALERT_REPO")]
    pub repo: Option<PathBuf>,
    /// Directory of the installed deploy tools (Python venv with the Helm engine and schemas).
    #[arg(long, env = "DYNALERT_TOOLS", default_value = "/opt/dynalert-tools")]
    pub tools: PathBuf,
}

/// Path of the deploy tooling inside a checkout.
const TOOL: &str = "deploy/tools/dynalert_deploy.py";

pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let repo = match args.repo {
        Some(r) => r,
        None => find_repo(&std::env::current_dir().context("cannot read the current directory")?)?,
    };
    let tool = repo.join(TOOL);
    let python = args.tools.join("bin").join("python");
    if !python.exists() {
        bail!(
            "deploy tools not installed: `{}` is missing\n  hint: run scripts/install-deps.sh",
            python.display()
        );
    }
    let mut p = Process::new(&python);
    p.arg(&tool).arg("check").arg("--confd").arg(&args.dir);
    for v in &args.values {
        p.arg("--values").arg(v);
    }
    if let Some(o) = &args.output {
        p.arg("--output").arg(o);
    }
    if let Ok(me) = std::env::current_exe() {
        p.env("DYNALERT", me);
    }
    p.env("DYNALERT_TOOLS", &args.tools);
    let status = p
        .status()
        .with_context(|| format!("cannot run `{}`", python.display()))?;
    match status.code() {
        Some(0) => Ok(0),
        Some(1) => Ok(crate::EXIT_FINDINGS),
        _ => Ok(crate::EXIT_ERROR),
    }
}

/// The nearest directory at or above `start` that holds the deploy tooling.
fn find_repo(start: &Path) -> anyhow::Result<PathBuf> {
    for dir in start.ancestors() {
        if dir.join(TOOL).is_file() {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no `{TOOL}` in `{}` or above\n  hint: run from a dynalert checkout or pass --repo",
        start.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_repo_walks_up_to_the_checkout() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("deploy/tools")).unwrap();
        std::fs::write(root.path().join(TOOL), "").unwrap();
        let deep = root.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_repo(&deep).unwrap(), root.path());
        let elsewhere = tempfile::tempdir().unwrap();
        let err = find_repo(elsewhere.path()).unwrap_err().to_string();
        assert!(err.contains("hint: run from a dynalert checkout"), "{err}");
    }
}
