//! Scenario `vmagent-failover` (VictoriaMetrics engine): one of the two vmagents is killed
//! while an alert fires.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;

use super::harness::{
    check_alert_held, fire_db_a_warning, firing_active_at, firing_alerts, group_last_evaluation,
    kill, restart, Ctx, Restore, HIGH_CONNECTIONS,
};
use super::WAIT;
use crate::api;
use crate::process::wait_for;

/// vmagent-failover (VictoriaMetrics engine): with an alert firing, vmagent-1 is killed with
/// SIGKILL. vmagent-2 scrapes every target too (replication factor 2), so over the following
/// evaluations every tenant keeps all its recorded thresholds, both threshold exporter
/// replicas stay `up`, the alert keeps its `activeAt` and nothing resolves.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    let labels = fire_db_a_warning(ctx, &mut restore)?;
    let active_at = firing_active_at(ctx, HIGH_CONNECTIONS, &labels)?;
    let prom = ctx.prom().to_string();
    // The rule group that evaluates the alert (found by the rule, not by the group's name):
    // an error now, before anything is killed, if vmalert runs no such rule.
    group_last_evaluation(&prom, HIGH_CONNECTIONS)?;
    // Every tenant's recorded thresholds, once two reads with an evaluation of the group
    // between them agree (the file change above has settled).
    let mut prev: Option<(BTreeMap<String, f64>, chrono::DateTime<chrono::FixedOffset>)> = None;
    let before = wait_for("the recorded thresholds to settle", WAIT, || {
        let e = group_last_evaluation(&prom, HIGH_CONNECTIONS)?;
        if prev.as_ref().is_some_and(|(_, pe)| e <= *pe) {
            return Ok(None);
        }
        let now = recorded_per_tenant(&prom)?;
        let settled = matches!(&prev, Some((p, _)) if !p.is_empty() && *p == now);
        prev = Some((now.clone(), e));
        Ok(settled.then_some(now))
    })?;
    ctx.say(&format!(
        "{} tenants with recorded thresholds before the failure: {}",
        before.len(),
        before
            .iter()
            .map(|(t, n)| format!("{t}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));

    let victim = ctx
        .lab
        .part("vmagent-1")
        .context("no vmagent-1 in the lab (start it with `--engine victoriametrics`)")?
        .clone();
    let survivor = ctx
        .lab
        .part("vmagent-2")
        .and_then(|p| p.url.clone())
        .context("no vmagent-2 in the lab")?;
    let firing_before = firing_alerts(&prom)?;
    let n = firing_before.len();
    ctx.say(&format!("{n} alerts firing before the failure"));
    let (since, t1) = kill(ctx, &victim, "vmagent-1 killed");

    // Watch every second until the alert rules have run four more times without vmagent-1.
    let until = chrono::Utc::now() + chrono::Duration::seconds(4 * crate::up::INTERVAL_S as i64);
    let mut lost: Vec<String> = Vec::new();
    let mut exporters_down: Vec<String> = Vec::new();
    let mut looks = 0;
    wait_for("four rule evaluations without vmagent-1", WAIT * 2, || {
        looks += 1;
        let now = recorded_per_tenant(&prom)?;
        for (t, n) in &before {
            let got = now.get(t).copied().unwrap_or(0.0);
            if got < *n {
                lost.push(format!(
                    "{t}: {got} of {n} recorded thresholds at {:.1}s",
                    t1.elapsed().as_secs_f64()
                ));
            }
        }
        let up = api::query(&prom, "up{job=\"threshold-exporter\"} == 1")?;
        if up.len() != ctx.lab.exporter_urls.len() {
            exporters_down.push(format!(
                "{} of {} threshold exporters up at {:.1}s",
                up.len(),
                ctx.lab.exporter_urls.len(),
                t1.elapsed().as_secs_f64()
            ));
        }
        let evaluated = group_last_evaluation(&prom, HIGH_CONNECTIONS)?;
        Ok((evaluated > until).then_some(()))
    })?;
    ctx.stage("four rule evaluations with one vmagent", t1);
    ctx.check(
        "no tenant's recorded threshold disappeared",
        lost.is_empty(),
        format!("{} of {looks} looks: {}", lost.len(), lost.join("; ")),
    );
    ctx.check(
        "both threshold exporter replicas stayed up (scraped by vmagent-2)",
        exporters_down.is_empty(),
        exporters_down.join("; "),
    );
    // The survivor's own view: it scrapes both threshold exporters, recently.
    let targets = api::get_json(&format!("{survivor}/api/v1/targets"))?;
    let scraped: Vec<String> = targets["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["labels"]["job"] == "threshold-exporter" && t["health"] == "up")
        .filter_map(|t| t["scrapeUrl"].as_str().map(str::to_string))
        .collect();
    ctx.check(
        "vmagent-2 scrapes both threshold exporters",
        scraped.len() == ctx.lab.exporter_urls.len(),
        format!("{scraped:?}"),
    );
    let window = (t1.elapsed().as_secs_f64().floor() as u64).max(5);
    let name = "db-a's threshold stays 5 (not lost, not doubled)";
    check_alert_held(ctx, name, window, &labels, &active_at)?;
    let firing_after = firing_alerts(&prom)?;
    let changed: Vec<String> = firing_before
        .iter()
        .filter(|(l, at)| firing_after.get(*l) != Some(at))
        .map(|(l, at)| format!("{l:?} (active since {at})"))
        .collect();
    ctx.check(
        "every alert firing before the failure still fires with the same activeAt",
        changed.is_empty(),
        changed.join("; "),
    );
    let resolved: Vec<String> = ctx
        .notifications_since(since)
        .into_iter()
        .flat_map(|n| n.alerts)
        .filter(|a| a.status == "resolved")
        .filter(|a| firing_before.contains_key(&a.labels))
        .map(|a| format!("{:?}", a.labels))
        .collect();
    ctx.check(
        "no resolved notification for an alert that was firing",
        resolved.is_empty(),
        resolved.join("; "),
    );

    ctx.say("restart vmagent-1");
    let t2 = Instant::now();
    restart(ctx, "vmagent-1", "/health", "vmagent-1 healthy")?;
    ctx.stage("vmagent-1 healthy again", t2);
    drop(restore);
    ctx.wait_alert(HIGH_CONNECTIONS, &[("tenant", "db-a")], false)?;
    ctx.stage("alert resolved after the file is restored", t2);
    Ok(())
}

/// Recorded thresholds per tenant (series of every `tenant:alert_threshold:*` rule).
fn recorded_per_tenant(prom: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let expr = "count by(tenant)({__name__=~\"tenant:alert_threshold:.+\"})";
    Ok(api::query(prom, expr)?
        .into_iter()
        .map(|s| (s.labels.get("tenant").cloned().unwrap_or_default(), s.value))
        .collect())
}
