//! Scenario `ha`: one of the two threshold exporter replicas is killed while an alert fires.

use std::time::Instant;

use anyhow::Context;

use super::harness::{
    check_alert_held, fire_db_a_warning, firing_active_at, group_last_evaluation, has_alert, kill,
    restart, Ctx, Restore, DB_A_WARNING, HIGH_CONNECTIONS,
};
use super::WAIT;
use crate::process::wait_for;

/// HA: kill one exporter replica while an alert fires.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    let labels = fire_db_a_warning(ctx, &mut restore)?;
    let t_fire = Instant::now();
    let active_at = firing_active_at(ctx, HIGH_CONNECTIONS, &labels)?;

    let victim = ctx
        .lab
        .part("threshold-exporter-1")
        .context("no threshold-exporter-1 in the lab")?
        .clone();
    let victim_instance = victim.url.as_deref().unwrap_or_default();
    let victim_instance = victim_instance.trim_start_matches("http://");
    let up_is =
        |v: u8| format!("up{{job=\"threshold-exporter\",instance=\"{victim_instance}\"}} == {v}");
    let (since, t1) = kill(ctx, &victim, "replica killed");
    ctx.wait_some("Prometheus to see the replica down", &up_is(0))?;
    ctx.stage("Prometheus sees the replica down", t1);
    // Let the rules run at least three more times with one replica.
    let until = chrono::Utc::now() + chrono::Duration::seconds(15);
    let prom = ctx.prom().to_string();
    wait_for("three more rule evaluations", WAIT, || {
        let evaluated = group_last_evaluation(&prom, HIGH_CONNECTIONS)?;
        Ok((evaluated > until).then_some(()))
    })?;
    ctx.stage("three rule evaluations with one replica", t1);
    // Only the span since the alert fired: before it the threshold was still the old one.
    let window = (t_fire.elapsed().as_secs_f64().floor() as u64)
        .saturating_sub(1)
        .max(5);
    let name = "threshold stays 5 (not doubled, not lost)";
    check_alert_held(ctx, name, window, &labels, &active_at)?;
    let resolved: Vec<_> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|n| has_alert(n, HIGH_CONNECTIONS, &labels, "resolved"))
        .collect();
    ctx.check(
        "nothing resolved spuriously",
        resolved.is_empty(),
        format!("{} resolved notifications", resolved.len()),
    );

    ctx.say("restart threshold-exporter-1");
    let t2 = Instant::now();
    restart(ctx, &victim.name, "/-/ready", "threshold-exporter-1 ready")?;
    ctx.stage("replica ready again", t2);
    ctx.wait_some("Prometheus to see the replica up", &up_is(1))?;
    ctx.stage("Prometheus sees the replica up", t2);
    let count = ctx.query("count(user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"})")?;
    let rec = ctx.query(DB_A_WARNING)?;
    ctx.check(
        "two replicas, one recorded threshold of 5",
        count.first().map(|s| s.value) == Some(2.0) && rec.len() == 1 && rec[0].value == 5.0,
        format!("{count:?} {rec:?}"),
    );
    drop(restore);
    ctx.wait_alert(HIGH_CONNECTIONS, &[("tenant", "db-a")], false)?;
    Ok(())
}
