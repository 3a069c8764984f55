//! `dynalert inspect-tenant ID`: one tenant end to end — effective config with sources, its
//! exporters, per key the observed value, the thresholds as configured, as served and as
//! recorded, the alert state, the lab's notifications, and a one-line verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use dynalert_lab::{api, inspect, LabState};
use dynalert_model::TenantEffective;

pub use crate::output::Format;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str = r#"Show one tenant end to end, as the running Prometheus sees it"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Show one tenant end to end, as the running Prometheus sees it.

Prints the tenant's effective configuration with the file:line of every value, its exporters
and whether they are up, per key the observed value and the thresholds as configured, as
served by threshold-exporter and as recorded by the rule packs, the state of its alerts, the
notifications the lab's webhook sink received, and a one-line verdict. Asks the Prometheus of
the running lab unless `--prometheus.url` and `--config.dir` say otherwise."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  A tenant of the running lab:
    dynalert inspect-tenant db-a

  Against another Prometheus and conf.d:
    dynalert inspect-tenant db-a --prometheus.url http://127.0.0.1:9090 --config.dir conf.d

  As JSON for a script:
    dynalert inspect-tenant db-b --format json

Exit codes:
  0  everything about the tenant is consistent
  1  the verdict names a problem (a missing exporter, a threshold not served or not recorded, …)
  2  usage error, an unknown tenant, no running lab and no `--prometheus.url`, or Prometheus
     cannot be reached

See also:
  dynalert verify-threshold   one key, checked end to end
  dynalert effective          the configuration alone, without Prometheus"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The tenant id.
    pub tenant: String,
    #[command(flatten)]
    pub target: Target,
    /// Text for people, or JSON for scripts.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Where the tenant skills look: a Prometheus and a conf.d, by default the running lab's.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Prometheus to ask (default: the running lab's).
    #[arg(long = "prometheus.url")]
    pub prometheus_url: Option<String>,
    /// The conf.d directory (default: the running lab's).
    #[arg(long = "config.dir")]
    pub config_dir: Option<PathBuf>,
    /// The lab directory, used for defaults and the webhook sink's records.
    #[arg(long = "lab.dir", default_value = super::lab::DEFAULT_DIR)]
    pub lab_dir: PathBuf,
}

impl Target {
    /// Prometheus URL and conf.d directory from the flags, else from the running lab.
    pub fn resolve(self) -> anyhow::Result<(String, PathBuf, Option<LabState>)> {
        let lab = LabState::load(&self.lab_dir).ok();
        let prom = self
            .prometheus_url
            .or_else(|| lab.as_ref().map(|l| l.prometheus_url.clone()))
            .context("no running lab and no `--prometheus.url`")?;
        let conf = self
            .config_dir
            .or_else(|| lab.as_ref().map(|l| l.conf_dir.clone()))
            .context("no running lab and no `--config.dir`")?;
        Ok((prom.trim_end_matches('/').to_string(), conf, lab))
    }
}

/// Tenant-wide configured thresholds of a tenant: key → severity → value.
pub fn configured(eff: &TenantEffective) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for k in eff.keys.iter().filter(|k| k.labels.is_empty()) {
        let e = out.entry(k.key.to_string()).or_default();
        for t in &k.tiers {
            if let Some(v) = t.value {
                e.insert(t.severity.as_str().to_string(), v);
            }
        }
    }
    out
}

/// The effective configuration of `tenant` in `conf` now.
pub fn effective_of(conf: &Path, tenant: &str) -> anyhow::Result<TenantEffective> {
    let now = chrono::Utc::now();
    let report = dynalert_config::load_dir(conf, now)?;
    dynalert_model::effective(&report.config, now)
        .into_iter()
        .find(|t| t.tenant == tenant)
        .with_context(|| format!("no tenant `{tenant}` in `{}`", conf.display()))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let (prom, conf, lab) = args.target.resolve()?;
    let eff = effective_of(&conf, &args.tenant)?;
    let tenant = &args.tenant;
    let mut problems: Vec<String> = Vec::new();

    // Exporters: the tenant's own targets and the threshold exporter replicas.
    let targets = api::query(&prom, &format!("up{{tenant=\"{tenant}\"}} or mysql_up{{tenant=\"{tenant}\"}} or up{{job=\"threshold-exporter\"}}"))?;
    let exporters: Vec<serde_json::Value> = targets
        .iter()
        .map(|s| {
            let name = s.labels.get("__name__").cloned().unwrap_or_else(|| "up".into());
            serde_json::json!({"metric": name, "job": s.labels.get("job"), "instance": s.labels.get("instance"), "value": s.value})
        })
        .collect();
    for s in targets.iter().filter(|s| s.value != 1.0) {
        problems.push(format!(
            "{} is 0 for {}",
            s.labels.get("__name__").map(String::as_str).unwrap_or("up"),
            s.labels.get("instance").map(String::as_str).unwrap_or("?")
        ));
    }
    let valid = api::query(
        &prom,
        &format!("threshold_exporter_tenant_config_valid{{tenant=\"{tenant}\"}} == 0"),
    )?;
    if !valid.is_empty() {
        problems
            .push("the tenant's file is rejected by the exporter (last good config served)".into());
    }
    let in_maintenance = eff.maintenance.as_ref().is_some_and(|m| m.active);

    let rules = inspect::key_rules(&prom)?;
    let mut keys = Vec::new();
    for (key, tiers) in configured(&eff) {
        let v = inspect::key_view(&prom, tenant, &key, &tiers, &rules, in_maintenance)?;
        problems.extend(v.problems.iter().map(|p| format!("{key} {p}")));
        keys.push(v);
    }
    let firing: Vec<String> = api::query(
        &prom,
        &format!("ALERTS{{tenant=\"{tenant}\",alertstate=\"firing\"}}"),
    )?
    .iter()
    .map(|s| {
        format!(
            "{}{{severity={}}}",
            s.labels.get("alertname").cloned().unwrap_or_default(),
            s.labels.get("severity").cloned().unwrap_or_default()
        )
    })
    .collect();
    let notifications: Vec<serde_json::Value> = lab
        .as_ref()
        .map(|l| dynalert_lab::sink::read_all(&l.dir.join("sink/notifications.jsonl")))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.alerts.iter().any(|a| a.labels.get("tenant") == Some(tenant)))
        .rev()
        .take(10)
        .map(|n| serde_json::json!({"received_at": n.received_at, "receiver": n.receiver, "status": n.status,
            "alerts": n.alerts.iter().map(|a| format!("{} {} {}", a.status, a.labels.get("alertname").cloned().unwrap_or_default(), a.labels.get("severity").cloned().unwrap_or_default())).collect::<Vec<_>>()}))
        .collect();
    let verdict = if !problems.is_empty() {
        format!("degraded: {}", problems.join("; "))
    } else if !firing.is_empty() {
        format!("healthy, alerting: {}", firing.join(", "))
    } else {
        "healthy".to_string()
    };

    if args.format == Format::Json {
        let doc = serde_json::json!({
            "tenant": tenant, "prometheus": prom, "config_dir": conf,
            "verdict": verdict, "healthy": problems.is_empty(), "problems": problems,
            "effective": eff, "exporters": exporters, "keys": keys,
            "firing_alerts": firing, "recent_notifications": notifications,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "tenant {tenant} (tier {}, owner {})",
            eff.tier.as_deref().unwrap_or("-"),
            eff.owner.as_deref().unwrap_or("-")
        );
        println!("  file {}", eff.file);
        if let Some(s) = &eff.silent_mode {
            println!(
                "  silent mode: {} ({})",
                if s.active { "active" } else { "inactive" },
                s.source
            );
        }
        if let Some(m) = &eff.maintenance {
            println!(
                "  maintenance: {} ({})",
                if m.active { "active" } else { "inactive" },
                m.source
            );
        }
        println!("exporters:");
        for e in &exporters {
            println!(
                "  {} {} {} = {}",
                e["metric"].as_str().unwrap_or(""),
                e["job"].as_str().unwrap_or(""),
                e["instance"].as_str().unwrap_or(""),
                e["value"]
            );
        }
        println!("keys:");
        for k in &keys {
            let src = eff
                .keys
                .iter()
                .find(|e| e.key == k.key)
                .and_then(|e| e.tiers.first())
                .map(|t| t.source.to_string())
                .unwrap_or_default();
            println!(
                "  {:<24} observed {:<10} alert {} ({src})",
                k.key,
                crate::output::or_dash(k.observed),
                k.alertname.as_deref().unwrap_or("-")
            );
            for t in &k.tiers {
                let exported: Vec<String> = t.exported.values().map(|v| v.to_string()).collect();
                println!(
                    "    {:<9} config {:<8} exporters [{}]  recorded {:<8} alert {}",
                    t.severity,
                    crate::output::or_dash(t.configured),
                    exported.join(", "),
                    crate::output::or_dash(t.recorded),
                    t.alert_state
                );
            }
        }
        if !notifications.is_empty() {
            println!("recent notifications (lab webhook sink):");
            for n in &notifications {
                println!(
                    "  {} {} {}",
                    n["received_at"].as_str().unwrap_or(""),
                    n["receiver"].as_str().unwrap_or(""),
                    n["alerts"]
                );
            }
        }
        println!("verdict: {verdict}");
    }
    Ok(crate::exit_code(!problems.is_empty()))
}
