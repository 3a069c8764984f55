//! Scenario `bad-config`: a broken tenant file during a live run.

use anyhow::Context;

use super::harness::{now_ms, series_value, Ctx, Restore, DB_A_BROKEN_FILE, DB_A_WARNING};

/// The alert that says a tenant file was rejected, and db-a's labels.
const ALERT: &str = "TenantConfigRejected";
const DB_A: [(&str, &str); 1] = [("tenant", "db-a")];

/// Whether the exporter accepts db-a's file (1) or not (0), in an exposition.
fn valid(series: &[crate::api::Line]) -> Option<f64> {
    series_value(series, "threshold_exporter_tenant_config_valid", &DB_A)
}

/// bad-config: a broken db-a file keeps db-a's last good thresholds and raises an alert.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    let path = ctx.conf("db-a");
    restore.keep(&path)?;
    let good = fs_err::read_to_string(&path)?;
    // Baseline: what the exporters serve now, once Prometheus agrees with it (an earlier
    // scenario may have just restored the file, and Prometheus lags by a scrape and an
    // evaluation).
    let before = ctx
        .served_threshold("db-a", "warning")?
        .context("the exporter serves no db-a mysql_connections warning threshold")?;
    ctx.wait_query(
        "Prometheus to agree with the exporters on db-a's threshold",
        DB_A_WARNING,
        |r| r.len() == 1 && r[0].value == before,
    )?;
    ctx.say("write a broken db-a file (typo in a key, non-numeric value)");
    let since = now_ms();
    let t0 = ctx.write_tenant("db-a", DB_A_BROKEN_FILE)?;
    ctx.stage("broken file written", t0);
    ctx.wait_exporters("db-a rejected", |s| valid(s) == Some(0.0))?;
    ctx.stage("exporters report the file rejected", t0);
    let kept = ctx.served_threshold("db-a", "warning")? == Some(before);
    ctx.check(
        "the exporter keeps db-a's last good threshold",
        kept,
        format!("expected {before}"),
    );
    ctx.wait_alert(ALERT, &DB_A, true)?;
    ctx.stage("TenantConfigRejected firing", t0);
    let n = ctx.wait_notification(since, None, ALERT, &DB_A, "firing")?;
    ctx.stage(&format!("notification received at `{}`", n.receiver), t0);
    let now = ctx.query(DB_A_WARNING)?;
    ctx.check(
        "Prometheus still sees db-a's last good threshold",
        now.len() == 1 && now[0].value == before,
        format!("expected {before}, got {now:?}"),
    );
    ctx.say("fix the file");
    let since = now_ms();
    let t1 = ctx.write_tenant("db-a", &good)?;
    ctx.stage("fixed file written", t1);
    ctx.wait_exporters("db-a accepted", |s| valid(s) == Some(1.0))?;
    ctx.stage("exporters accept the file", t1);
    ctx.wait_alert(ALERT, &DB_A, false)?;
    ctx.stage("TenantConfigRejected resolved", t1);
    let resolved = ctx.wait_notification(since, None, ALERT, &DB_A, "resolved");
    ctx.stage("resolved notification received", t1);
    ctx.check(
        "the rejection alert resolves once the file is fixed",
        resolved.is_ok(),
        resolved.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    Ok(())
}
