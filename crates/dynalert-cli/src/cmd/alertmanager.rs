//! `dynalert alertmanager DIR`: a complete `alertmanager.yml` generated from conf.d.
//!
//! Refuses to generate when the platform files have errors; a rejected tenant file never
//! blocks the others (its alerts go to the platform default receiver, exit code 1). With
//! `--output`, writes atomically (keeping the file's mode, new files 0600) and only when
//! the content changed; `--reload-url` then asks Alertmanager to reload and restores the
//! previous file when the reload is rejected. Secrets never appear in a message.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{EXIT_ERROR, EXIT_FINDINGS};

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Generate a tenant-scoped alertmanager.yml from a conf.d"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Generate a tenant-scoped alertmanager.yml from a conf.d.

Builds one route per tenant from the `routing:` block of the platform files, the tier the
platform assigns (`tenancy:`) and each tenant's `_routing`, `_silent_mode` and
`_state_maintenance`: tier routing (VIP pager), the platform's copy, severity dedup (critical
inhibits warning), and silent mode and maintenance as time intervals that mute only the
tenant's own routes (the platform's copies are always delivered). Errors in the platform files
generate nothing; a tenant whose file is rejected is reported and its alerts go to the default
receiver, without blocking the others. With `--base`, the generated parts are merged into an
existing file whose own settings are kept. With `--output`, the file is written atomically
(keeping its mode; new files are 0600) and only when it changed; `--reload-url` then asks
Alertmanager to reload, and puts the previous file back when Alertmanager rejects it."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  Print the configuration:
    dynalert alertmanager conf.d

  Merge into the running configuration and reload Alertmanager:
    dynalert alertmanager conf.d --base alertmanager.base.yml \
      -o /etc/alertmanager/alertmanager.yml --reload-url http://127.0.0.1:9093

  Check the result with Alertmanager's own tool:
    dynalert alertmanager examples/conf.d -o am.yml && amtool check-config am.yml

Exit codes:
  0  generated (and reloaded, with `--reload-url`)
  1  the directory has errors, or its routing cannot be generated
  2  usage error, a file cannot be read or written, or the reload failed

See also:
  dynalert explain-route       which receivers one alert reaches, and why
  dynalert alertmanager diff   what a conf.d change does to the routing"#;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// The conf.d directory.
    #[arg(required = true)]
    pub dir: Option<PathBuf>,
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

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    #[command(
        about = super::alertmanager_diff::ABOUT,
        long_about = super::alertmanager_diff::LONG_ABOUT,
        after_long_help = super::alertmanager_diff::AFTER_HELP
    )]
    Diff(super::alertmanager_diff::Args),
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if let Some(Sub::Diff(d)) = args.command {
        return super::alertmanager_diff::run(d);
    }
    let Some(dir) = args.dir.clone() else {
        eprintln!("error: no conf.d directory given");
        return Ok(EXIT_ERROR);
    };
    let report = dynalert_config::load_dir(&dir, chrono::Utc::now())?;
    crate::output::print_diagnostics(&report.diagnostics);
    if !report.platform_valid || report.config.platform.routing.is_none() {
        if report.errors() > 0 {
            eprintln!(
                "error: the platform files of `{}` have errors; no Alertmanager configuration generated",
                dir.display()
            );
        } else {
            eprintln!("error: {}", dynalert_alertmanager::GenerateError::NoRouting);
            eprintln!("  hint: add a `routing:` block with `default_receiver` and `receivers` to a platform file");
        }
        return Ok(EXIT_FINDINGS);
    }
    // Per-tenant fault isolation: a rejected tenant file never blocks the others; its
    // alerts reach the platform default receiver (through the final catch-all route).
    // A rejected tenant with a last good configuration keeps it (`kept`).
    let (kept, rejected): (Vec<&String>, Vec<&String>) = report
        .tenant_valid
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(id, _)| id)
        .partition(|id| report.config.tenants.contains_key(*id));
    for id in &rejected {
        eprintln!(
            "warning: tenant `{id}` is rejected (errors above): its alerts go to the platform default receiver (and its platform tier and enforced copies) until its file is fixed"
        );
    }
    for id in &kept {
        eprintln!(
            "warning: tenant `{id}` is rejected (errors above): its last good routing is kept"
        );
    }
    let ids: Vec<&str> = rejected.iter().map(|s| s.as_str()).collect();
    let config = dynalert_alertmanager::with_rejected(&report.config, &ids);
    let generated = match dynalert_alertmanager::generate(&config) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_FINDINGS);
        }
    };
    for note in &generated.notes {
        eprintln!("warning: {}", generated.redact(note));
    }
    let base = match &args.base {
        Some(p) => {
            let text = fs_read(p)?;
            let names: Vec<&str> = generated
                .receivers
                .iter()
                .map(|r| r.name.as_str())
                .collect();
            let problems = check_base(&text, &names);
            if !problems.is_empty() {
                for (pos, msg, hint) in &problems {
                    eprintln!(
                        "{}:{}:{}: error: {}",
                        p.display(),
                        pos.line,
                        pos.col,
                        generated.redact(msg)
                    );
                    if let Some(h) = hint {
                        eprintln!("  hint: {h}");
                    }
                }
                eprintln!(
                    "error: `{}` has {} errors; no Alertmanager configuration generated",
                    p.display(),
                    problems.len()
                );
                return Ok(EXIT_FINDINGS);
            }
            Some(text)
        }
        None => None,
    };
    let text = match dynalert_alertmanager::render(&generated, base.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}", generated.redact(&e.to_string()));
            return Ok(EXIT_FINDINGS);
        }
    };
    let mut previous: Option<Option<String>> = None;
    match &args.output {
        None => std::io::stdout().write_all(text.as_bytes())?,
        Some(path) => {
            let old = std::fs::read_to_string(path).ok();
            if old.as_deref() == Some(text.as_str()) {
                eprintln!("`{}` is up to date", path.display());
            } else {
                write_atomic(path, &text)?;
                previous = Some(old);
                eprintln!(
                    "wrote `{}`: {} receivers, {} inhibit rules, {} time intervals",
                    path.display(),
                    generated.receivers.len(),
                    generated.inhibit_rules.len(),
                    generated.time_intervals.len()
                );
            }
        }
    }
    if let Some(url) = &args.reload_url {
        if let Err(e) = reload(url) {
            eprintln!(
                "error: Alertmanager reload at `{}` failed: {}",
                dynalert_model::routing::mask_url(url),
                generated.redact(&format!("{e:#}"))
            );
            if let (Some(path), Some(old)) = (&args.output, previous) {
                match old {
                    Some(old) => {
                        write_atomic(path, &old)?;
                        eprintln!(
                            "restored the previous `{}`, the configuration Alertmanager keeps running with",
                            path.display()
                        );
                    }
                    None => {
                        std::fs::remove_file(path)
                            .with_context(|| format!("cannot remove `{}`", path.display()))?;
                        eprintln!("removed `{}`: there was no previous file", path.display());
                    }
                }
            }
            return Ok(EXIT_ERROR);
        }
        eprintln!("Alertmanager at `{url}` reloaded");
    }
    Ok(crate::exit_code(!rejected.is_empty() || !kept.is_empty()))
}

fn fs_read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Writes through a temporary file in the same directory and renames it into place,
/// keeping the mode of an existing file; a new file is created readable by its owner only
/// (it holds receiver secrets).
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    dynalert_config::fsutil::write_atomic(path, |f| {
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())
    })
    .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))
}

/// Fields of Alertmanager integrations that are booleans.
const BOOL_KEYS: [&str; 8] = [
    "send_resolved",
    "require_tls",
    "insecure_skip_verify",
    "follow_redirects",
    "enable_http2",
    "short",
    "link_names",
    "continue",
];

pub type Problem = (dynalert_config::yaml::Pos, String, Option<String>);

/// Checks a `--base` file for what would change meaning or be rejected once merged:
/// YAML merge keys, YAML 1.1 booleans, child routes naming receivers or time intervals
/// that do not exist, URLs Alertmanager cannot parse. Each problem with its position.
pub fn check_base(text: &str, generated: &[&str]) -> Vec<Problem> {
    use dynalert_config::yaml::Node;
    let doc = match dynalert_config::yaml::parse(text) {
        Ok(Some(d)) => d,
        Ok(None) => return Vec::new(),
        Err(problems) => {
            return problems
                .into_iter()
                .map(|p| (p.pos, p.message, p.hint))
                .collect()
        }
    };
    let mut out: Vec<Problem> = Vec::new();
    fn walk(node: &Node, out: &mut Vec<Problem>) {
        if let Some(entries) = node.as_map() {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                if key == "<<" {
                    out.push((
                        k.pos,
                        "YAML merge key `<<`".into(),
                        Some("write the keys out; merge keys are read differently by YAML 1.1 and 1.2".into()),
                    ));
                } else if BOOL_KEYS.contains(&key)
                    && !matches!(v.to_json(), serde_json::Value::Bool(_))
                {
                    out.push((
                        v.pos,
                        format!("`{key}` must be `true` or `false`"),
                        Some("YAML 1.1 words such as `yes`/`no`/`on`/`off` change meaning when the file is rewritten; write `true` or `false`".into()),
                    ));
                } else if matches!(key, "url" | "api_url" | "webhook_url" | "proxy_url") {
                    if let Some(url) = v.as_str().filter(|_| v.as_map().is_none()) {
                        if let Err(e) = dynalert_model::routing::check_url(url) {
                            out.push((
                                v.pos,
                                format!(
                                    "`{key}` `{}` is not a valid URL: it {e}",
                                    dynalert_model::routing::mask_url(url)
                                ),
                                None,
                            ));
                        }
                    }
                }
                walk(v, out);
            }
        } else if let Some(items) = node.as_seq() {
            for item in items {
                walk(item, out);
            }
        }
    }
    walk(&doc, &mut out);
    let names_of = |key: &str| -> Vec<String> {
        doc.get(key)
            .and_then(|r| r.as_seq())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.get("name")?.as_str().map(str::to_string))
            .collect()
    };
    let mut receivers = names_of("receivers");
    receivers.extend(generated.iter().map(|s| s.to_string()));
    let mut intervals = names_of("time_intervals");
    intervals.extend(names_of("mute_time_intervals"));
    fn routes(node: &Node, receivers: &[String], intervals: &[String], out: &mut Vec<Problem>) {
        for child in node
            .get("routes")
            .and_then(|r| r.as_seq())
            .unwrap_or_default()
        {
            if let Some(r) = child.get("receiver") {
                let name = r.as_str().unwrap_or_default();
                if !receivers.iter().any(|n| n == name) {
                    out.push((
                        r.pos,
                        format!("route receiver `{name}` is not defined"),
                        Some("define it under `receivers` or use an existing receiver".into()),
                    ));
                }
            }
            for key in ["mute_time_intervals", "active_time_intervals"] {
                for item in child.get(key).and_then(|r| r.as_seq()).unwrap_or_default() {
                    let name = item.as_str().unwrap_or_default();
                    if !intervals.iter().any(|n| n == name) {
                        out.push((
                            item.pos,
                            format!("time interval `{name}` in `{key}` is not defined"),
                            Some("define it under `time_intervals`".into()),
                        ));
                    }
                }
            }
            routes(child, receivers, intervals, out);
        }
    }
    if let Some(root) = doc.get("route") {
        routes(root, &receivers, &intervals, &mut out);
    }
    out.sort_by_key(|p| p.0);
    out
}

/// `POST <url>/-/reload` (a URL that already ends in `/-/reload` is taken as it is); success
/// is a 2xx status.
fn reload(url: &str) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/').trim_end_matches("/-/reload");
    dynalert_probe::prom::Alertmanager::new(base).reload()
}
