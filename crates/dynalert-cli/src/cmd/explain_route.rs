//! `dynalert explain-route DIR --labels k=v,…`: which receivers get an alert and why.
//!
//! Answers from the same route tree that `dynalert alertmanager` renders, with
//! Alertmanager's matching semantics; receiver secrets are masked.

use std::path::PathBuf;

use crate::EXIT_FINDINGS;

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
