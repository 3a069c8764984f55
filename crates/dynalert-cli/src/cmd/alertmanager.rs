//! `dynalert alertmanager DIR`: a complete `alertmanager.yml` generated from conf.d.
//!
//! Refuses to generate from a directory with errors (a rejected tenant would silently
//! lose its routing). With `--output`, writes atomically and only when the content
//! changed; `--reload-url` then asks Alertmanager to reload.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::{EXIT_ERROR, EXIT_FINDINGS};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// An existing alertmanager.yml to merge into (its global settings, templates,
    /// time intervals, receivers, child routes and inhibit rules are kept).
    #[arg(long, value_name = "FILE")]
    pub base: Option<PathBuf>,
    /// Write here (atomically, only when changed) instead of to stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// After writing, POST Alertmanager's reload endpoint at this URL
    /// (e.g. `http://127.0.0.1:9093`, `/-/reload` is added when the URL has no path).
    #[arg(long, value_name = "URL")]
    pub reload_url: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Some(report) =
        crate::output::load_valid(&args.dir, "; no Alertmanager configuration generated")?
    else {
        return Ok(EXIT_FINDINGS);
    };
    let generated = match dynalert_alertmanager::generate(&report.config) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("  hint: add a `routing:` block with `default_receiver` and `receivers` to a platform file");
            return Ok(EXIT_FINDINGS);
        }
    };
    for note in &generated.notes {
        eprintln!("warning: {note}");
    }
    let base = match &args.base {
        Some(p) => Some(fs_read(p)?),
        None => None,
    };
    let text = match dynalert_alertmanager::render(&generated, base.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_FINDINGS);
        }
    };
    match &args.output {
        None => std::io::stdout().write_all(text.as_bytes())?,
        Some(path) => {
            if std::fs::read_to_string(path).ok().as_deref() == Some(text.as_str()) {
                eprintln!("`{}` is up to date", path.display());
            } else {
                write_atomic(path, &text)?;
                eprintln!(
                    "wrote `{}`: {} receivers, {} inhibit rules",
                    path.display(),
                    generated.receivers.len(),
                    generated.inhibit_rules.len()
                );
            }
        }
    }
    if let Some(url) = &args.reload_url {
        if let Err(e) = reload(url) {
            eprintln!("error: Alertmanager reload at `{url}` failed: {e:#}");
            return Ok(EXIT_ERROR);
        }
        eprintln!("Alertmanager at `{url}` reloaded");
    }
    Ok(0)
}

fn fs_read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Writes through a temporary file in the same directory and renames it into place.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    dynalert_config::fsutil::write_atomic(path, |f| f.write_all(text.as_bytes()))
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))
}

/// `POST /-/reload` over plain HTTP/1.1; success is a 2xx status.
fn reload(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("only `http://` reload URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = if path.is_empty() || path == "/" {
        "/-/reload"
    } else {
        path
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream =
        TcpStream::connect(&addr).with_context(|| format!("cannot connect to `{addr}`"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    // One write: `write!` on a socket sends each formatting piece separately, and a server
    // that answers after the first segment would see a truncated request.
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or_default();
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    if (200..300).contains(&code) {
        return Ok(());
    }
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    anyhow::bail!("status {code}: {}", body.lines().next().unwrap_or_default())
}
