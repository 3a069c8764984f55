//! Scenario `bad-config`: a broken tenant file during a live run.

use anyhow::Context;

use super::harness::{now_ms, series_value, Ctx, Restore, DB_A_WARNING};

/// bad-config: a broken db-a file keeps db-a's last good thresholds and raises an alert.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    let path = ctx.conf("db-a");
    restore.keep(&path)?;
    let good = fs_err::read_to_string(&path)?;
    // Baseline: what the exporters serve now, once Prometheus agrees with it (an earlier
    // scenario may have just restored the file, and Prometheus lags by a scrape and an
    // evaluation).
    let before = ctx
        .served_threshold("db-a", "mysql", "connections", "warning")?
        .context("the exporter serves no db-a mysql_connections warning threshold")?;
    ctx.wait_query(
        "Prometheus to agree with the exporters on db-a's threshold",
        DB_A_WARNING,
        |r| r.len() == 1 && r[0].value == before,
    )?;
    ctx.say("write a broken db-a file (typo in a key, non-numeric value)");
    let since = now_ms();
    let broken = include_str!("../../fixtures/db-a-broken.yaml");
    let t0 = ctx.write_tenant("db-a", broken)?;
    ctx.stage("broken file written", t0);
    ctx.wait_exporters("db-a rejected", |s| {
        series_value(
            s,
            "threshold_exporter_tenant_config_valid",
            &[("tenant", "db-a")],
        ) == Some(0.0)
    })?;
    ctx.stage("exporters report the file rejected", t0);
    let kept = ctx.served_threshold("db-a", "mysql", "connections", "warning")? == Some(before);
    ctx.check(
        "the exporter keeps db-a's last good threshold",
        kept,
        format!("expected {before}"),
    );
    ctx.wait_alert("TenantConfigRejected", &[("tenant", "db-a")], true)?;
    ctx.stage("TenantConfigRejected firing", t0);
    let n = ctx.wait_notification(
        since,
        None,
        "TenantConfigRejected",
        &[("tenant", "db-a")],
        "firing",
    )?;
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
    ctx.wait_exporters("db-a accepted", |s| {
        series_value(
            s,
            "threshold_exporter_tenant_config_valid",
            &[("tenant", "db-a")],
        ) == Some(1.0)
    })?;
    ctx.stage("exporters accept the file", t1);
    ctx.wait_alert("TenantConfigRejected", &[("tenant", "db-a")], false)?;
    ctx.stage("TenantConfigRejected resolved", t1);
    ctx.wait_notification(
        since,
        None,
        "TenantConfigRejected",
        &[("tenant", "db-a")],
        "resolved",
    )?;
    ctx.stage("resolved notification received", t1);
    ctx.check(
        "the rejection alert resolves once the file is fixed",
        true,
        "",
    );
    Ok(())
}
