//! Scenario A: a threshold change alone makes db-a's alert fire and resolve; db-b is untouched.

use std::time::Instant;

use super::harness::{
    has_alert, has_labels, now_ms, threshold_is, Ctx, Restore, DB_A_FILE, HIGH_CONNECTIONS,
};

const DB_B_THRESHOLDS: &str = "tenant:alert_threshold:mysql_connections{tenant=\"db-b\"}";

/// Scenario A: a threshold change alone makes db-a's alert fire and resolve; db-b is untouched.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    restore.keep(&ctx.conf("db-a"))?;
    ctx.say("open 15 real client connections to db-a's MariaDB (SELECT SLEEP)");
    restore.load(ctx, "db-a", 15)?;
    ctx.wait_some(
        "Prometheus to see db-a's connections",
        "tenant:mysql_threads_connected:max{tenant=\"db-a\"} >= 15",
    )?;
    let b_before = ctx.query(DB_B_THRESHOLDS)?;

    let (fire, resolve) = threshold_cycle(ctx, 5.0, 50.0)?;
    ctx.out.latency_seconds.insert("fire".into(), fire);
    ctx.out.latency_seconds.insert("resolve".into(), resolve);

    // Isolation: db-b saw nothing.
    let b_after = ctx.query(DB_B_THRESHOLDS)?;
    let same = b_before.len() == b_after.len()
        && b_before.iter().all(|s| {
            b_after
                .iter()
                .any(|t| t.labels == s.labels && t.value == s.value)
        });
    ctx.check(
        "db-b's thresholds unchanged",
        same,
        format!("before {b_before:?}, after {b_after:?}"),
    );
    let to_b: Vec<_> = ctx
        .notifications_since(ctx.start_ms)
        .into_iter()
        .filter(|n| {
            n.receiver == "db-b"
                || n.alerts
                    .iter()
                    .any(|a| has_labels(&a.labels, &[("tenant", "db-b")]))
        })
        .collect();
    ctx.check(
        "db-b got no notification",
        to_b.is_empty(),
        format!("{} notifications for db-b", to_b.len()),
    );
    drop(restore);
    ctx.wait_exporters("db-a's original file", |s| {
        threshold_is(s, "db-a", "warning", 50.0)
    })?;
    Ok(())
}

/// Writes db-a's file with its `mysql_connections` warning at `warning` and waits until the
/// exporters serve it; the instant the file was written.
fn set_warning(ctx: &mut Ctx, warning: f64) -> anyhow::Result<Instant> {
    let vars = [
        ("connections_warning", warning),
        ("connections_critical", 100.0),
        ("running_warning", 40.0),
        ("running_critical", 80.0),
    ];
    let text = ctx.fixture(DB_A_FILE, &vars)?;
    let t = ctx.write_tenant("db-a", &text)?;
    ctx.stage("file written", t);
    ctx.wait_exporters(&format!("db-a's threshold {warning}"), |s| {
        threshold_is(s, "db-a", "warning", warning)
    })?;
    ctx.stage("exporters serving the new threshold", t);
    Ok(t)
}

/// Lowers db-a's `mysql_connections` warning to `low` (fires), then raises it to `high`
/// (resolves). Returns the threshold change → notification latencies in seconds.
fn threshold_cycle(ctx: &mut Ctx, low: f64, high: f64) -> anyhow::Result<(f64, f64)> {
    let alert = HIGH_CONNECTIONS;
    let labels = [("tenant", "db-a"), ("severity", "warning")];
    ctx.say(&format!(
        "lower db-a's `mysql_connections` warning to {low} in its tenant file"
    ));
    let since = now_ms();
    let t0 = set_warning(ctx, low)?;
    ctx.wait_some(
        "Prometheus to see the new threshold",
        &format!("tenant:alert_threshold:mysql_connections{{tenant=\"db-a\",severity=\"warning\"}} == {low}"),
    )?;
    ctx.stage("Prometheus sees the threshold", t0);
    ctx.wait_alert(alert, &labels, true)?;
    ctx.stage("alert firing", t0);
    let n = ctx.wait_notification(since, Some("db-a"), alert, &labels, "firing")?;
    let fire = ctx.stage("notification received at `db-a`", t0);
    // Tenant routing: db-a's alert reaches db-a's receiver, never another tenant's.
    let leaked: Vec<String> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|m| m.receiver == "db-b" && has_alert(m, alert, &labels, "firing"))
        .map(|m| m.receiver)
        .collect();
    ctx.check(
        "firing notification reached db-a's receiver and not db-b's",
        n.receiver == "db-a" && leaked.is_empty(),
        format!("also received by {leaked:?}"),
    );

    ctx.say(&format!(
        "raise db-a's `mysql_connections` warning to {high}"
    ));
    let since = now_ms();
    let t1 = set_warning(ctx, high)?;
    ctx.wait_alert(alert, &labels, false)?;
    ctx.stage("alert resolved in Prometheus", t1);
    let resolved = ctx.wait_notification(since, Some("db-a"), alert, &labels, "resolved");
    let resolve = ctx.stage("resolved notification received at `db-a`", t1);
    ctx.check(
        "resolved notification reached db-a's receiver",
        resolved.is_ok(),
        resolved.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    Ok((fire, resolve))
}
