//! `dynalert verify-threshold ID KEY`: checks one tenant-wide key end to end — the value in
//! the configuration, what every exporter replica serves, the recording rule, and that the
//! alert is pending or firing exactly while the observation is above the threshold.

use dynalert_lab::inspect;

use crate::output::Format;

/// One-line purpose, shown in `dynalert --help` and `-h`.
pub const ABOUT: &str =
    r#"Check that config, exporters, recording rule and alert state agree for one key"#;
/// Description shown by `--help`.
pub const LONG_ABOUT: &str = r#"Check that config, exporters, recording rule and alert state agree for one key.

For one tenant-wide key of one tenant: the value in the configuration, the value every
threshold-exporter replica serves, the value the rule packs record
(`tenant:alert_threshold:<key>`), and that the key's alert is pending or firing exactly while
the observation is above the threshold. Asks the running lab unless `--prometheus.url` and
`--config.dir` say otherwise."#;
/// Examples, exit codes and related commands, shown by `--help`.
pub const AFTER_HELP: &str = r#"Examples:
  The connections threshold of db-a in the running lab:
    dynalert verify-threshold db-a mysql_connections

  Against another Prometheus:
    dynalert verify-threshold db-b mysql_connections --prometheus.url http://127.0.0.1:9090 --config.dir conf.d

  As JSON:
    dynalert verify-threshold db-a mysql_threads_running --format json

Exit codes:
  0  configuration, exporters, recording rule and alert state agree
  1  a mismatch was found (each is printed)
  2  usage error, an unknown tenant or key, no running lab and no `--prometheus.url`, or
     Prometheus cannot be reached

See also:
  dynalert inspect-tenant   every key of the tenant at once"#;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The tenant id.
    pub tenant: String,
    /// The key, e.g. `mysql_connections`.
    pub key: String,
    #[command(flatten)]
    pub target: super::inspect_tenant::Target,
    /// Text for people, or JSON for scripts.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Same as `--format json` (kept for scripts written before `--format`).
    #[arg(long, hide = true)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let (prom, conf, _) = args.target.resolve()?;
    let rules = inspect::key_rules(&prom)?;
    // A change may be between scrape and evaluation: a mismatch is confirmed on two later
    // looks, each after every rule group has been evaluated again, before it is reported.
    let mut view = None;
    for attempt in 0..3 {
        if attempt > 0 {
            inspect::wait_for_next_evaluation(&prom)?;
        }
        let eff = super::inspect_tenant::effective_of(&conf, &args.tenant)?;
        let configured = super::inspect_tenant::configured(&eff)
            .remove(&args.key)
            .unwrap_or_default();
        if configured.is_empty() && !eff.keys.iter().any(|k| k.key == args.key) {
            anyhow::bail!("tenant `{}` has no key `{}`", args.tenant, args.key);
        }
        let in_maintenance = eff.maintenance.as_ref().is_some_and(|m| m.active);
        let v = inspect::key_view(
            &prom,
            &args.tenant,
            &args.key,
            &configured,
            &rules,
            in_maintenance,
        )?;
        let ok = v.problems.is_empty();
        view = Some(v);
        if ok {
            break;
        }
    }
    let v = view.expect("at least one attempt");
    if args.json || args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{} {}: observed {} ({}), alert {}",
            args.tenant,
            args.key,
            crate::output::or_dash(v.observed),
            v.observation_rule
                .as_deref()
                .unwrap_or("no observation rule"),
            v.alertname.as_deref().unwrap_or("-")
        );
        for t in &v.tiers {
            let exp: Vec<String> = t.exported.iter().map(|(i, x)| format!("{i}={x}")).collect();
            println!(
                "  {:<9} config {:<8} exporters [{}] recorded {:<8} alert {}",
                t.severity,
                crate::output::or_dash(t.configured),
                exp.join(", "),
                crate::output::or_dash(t.recorded),
                t.alert_state
            );
        }
        if v.problems.is_empty() {
            println!("consistent: configuration, exporters, recording rule and alert state agree");
        } else {
            for p in &v.problems {
                println!("mismatch: {p}");
            }
        }
    }
    Ok(crate::exit_code(!v.problems.is_empty()))
}
