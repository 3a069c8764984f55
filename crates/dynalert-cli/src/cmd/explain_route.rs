//! `dynalert explain-route DIR --labels k=v,…`: which receivers get an alert and why.
//!
//! Answers from the same route tree that `dynalert alertmanager` renders, with
//! Alertmanager's matching semantics; receiver secrets are masked.

use std::path::PathBuf;

use crate::EXIT_FINDINGS;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Explain which receivers get an alert with the given labels, and why"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Explain which receivers get an alert with the given labels, and why.

Walks the route tree that `dynalert alertmanager` generates, with Alertmanager's matching
semantics, and prints every receiver the alert reaches with the reason (tier route, platform
copy, tenant route, default). Receiver secrets are masked. Labels are given as `name=value`
pairs, comma-separated or in several `--labels`."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  A critical alert of a VIP tenant:
    dynalert explain-route examples/conf.d \
      --labels tenant=db-a,severity=critical,alertname=MariaDBHighConnections

  A warning of a standard tenant:
    dynalert explain-route conf.d -l tenant=db-b -l severity=warning -l alertname=MariaDBHighConnections

  A platform alert:
    dynalert explain-route conf.d --labels alertname=ThresholdExporterDown,severity=critical,scope=platform

Exit codes:
  0  the receivers were printed
  1  the directory has errors, or its routing cannot be generated
  2  usage error, or a malformed `--labels` value

See also:
  dynalert alertmanager   the full generated configuration"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The conf.d directory.
    pub dir: PathBuf,
    /// Alert labels, e.g. `tenant=db-a,severity=critical,alertname=MariaDBHighConnections`
    /// (may be repeated).
    #[arg(long, short, required = true, value_name = "LABELS")]
    pub labels: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut labels = std::collections::BTreeMap::new();
    for l in &args.labels {
        match dynalert_alertmanager::parse_labels(l) {
            Ok(parsed) => labels.extend(parsed),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(crate::EXIT_ERROR);
            }
        }
    }
    let Some(report) = crate::output::load_valid(&args.dir, "")? else {
        return Ok(EXIT_FINDINGS);
    };
    let generated = match dynalert_alertmanager::generate(&report.config) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_FINDINGS);
        }
    };
    let deliveries = dynalert_alertmanager::explain(&generated, &labels);
    let names: Vec<&str> = deliveries.iter().map(|d| d.receiver.as_str()).collect();
    println!("receivers: {}", names.join(","));
    for (i, d) in deliveries.iter().enumerate() {
        println!("{}. {}: {}", i + 1, d.receiver, d.why);
        if !d.path.is_empty() {
            println!("   matched: {}", d.path.join(" > "));
        }
        if let Some(m) = &d.masked {
            println!("   receiver: {m}");
        }
        if !d.active_during.is_empty() {
            println!("   only during: {}", d.active_during.join(", "));
        }
        if !d.muted_by.is_empty() {
            println!("   muted during: {}", d.muted_by.join(", "));
        }
    }
    let inhibitors: Vec<&str> = generated
        .inhibit_rules
        .iter()
        .filter(|r| r.target.iter().all(|m| m.matches(&labels)))
        .map(|r| r.why.as_str())
        .collect();
    if !inhibitors.is_empty() {
        println!("can be inhibited by:");
        for w in inhibitors {
            println!("  - {w}");
        }
    }
    Ok(0)
}
