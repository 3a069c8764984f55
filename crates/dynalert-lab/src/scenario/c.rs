//! Scenario C (simulated Kubernetes): waiting reasons raise state alerts only for the tenant
//! with the filter on.

use std::time::Instant;

use anyhow::Context;

use super::harness::{now_ms, put_pod, Ctx, Restore};
use crate::api;
use crate::sim::PodSpec;

/// Scenario C: waiting reasons raise state alerts only for the tenant with the filter on.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    restore.sim_url = Some(ctx.lab.kubernetes_sim_url.clone());
    let sim = &ctx.lab.kubernetes_sim_url;
    api::send_json("POST", &format!("{sim}/api/reset"), &serde_json::json!({}))?;
    let pods: Vec<PodSpec> = serde_json::from_value(api::get_json(&format!("{sim}/api/pods"))?)?;
    let pod = |ns: &str| {
        let pod = pods.iter().find(|p| p.namespace == ns).cloned();
        pod.with_context(|| format!("no {ns} pod in the simulator"))
    };
    let (mut shop, mut batch) = (pod("shop")?, pod("batch")?);
    shop.containers[0].waiting_reason = Some("ImagePullBackOff".into());
    shop.containers[1].waiting_reason = Some("CrashLoopBackOff".into());
    batch.containers[0].waiting_reason = Some("CrashLoopBackOff".into());
    batch.containers[1].waiting_reason = Some("ImagePullBackOff".into());
    ctx.say(&format!(
        "SIMULATED: shop/{}: {} ImagePullBackOff, {} CrashLoopBackOff; batch/{} (filters disabled): the same",
        shop.name, shop.containers[0].name, shop.containers[1].name, batch.name
    ));
    let since = now_ms();
    let t0 = Instant::now();
    put_pod(ctx, &shop)?;
    put_pod(ctx, &batch)?;
    ctx.stage("simulated waiting reasons set", t0);
    let img = [
        ("tenant", "shop"),
        ("container", shop.containers[0].name.as_str()),
        ("severity", "warning"),
    ];
    let crash = [
        ("tenant", "shop"),
        ("container", shop.containers[1].name.as_str()),
        ("severity", "critical"),
    ];
    let alerts = [
        ("ContainerImagePullFailing", &img),
        ("ContainerCrashLooping", &crash),
    ];
    for (alert, labels) in alerts {
        ctx.wait_alert(alert, labels, true)?;
        ctx.stage(&format!("{alert} firing for shop"), t0);
    }
    for (alert, labels) in alerts {
        ctx.wait_notification(since, Some("shop"), alert, labels, "firing")?;
    }
    ctx.stage("both notifications received at `shop`", t0);
    // batch's series were scraped in the same scrape and evaluated by the same rules.
    let raw = ctx.query("kube_pod_container_status_waiting_reason{namespace=\"batch\"}")?;
    ctx.check(
        "batch's waiting reasons are in Prometheus",
        raw.len() == 2,
        format!("{} series", raw.len()),
    );
    let b = ctx.query(
        "ALERTS{alertname=~\"ContainerCrashLooping|ContainerImagePullFailing\",tenant=\"batch\"}",
    )?;
    ctx.check(
        "no state alert for batch (filters disabled)",
        b.is_empty(),
        format!("{b:?}"),
    );
    let nb: Vec<_> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|n| n.receiver == "batch")
        .collect();
    ctx.check(
        "no notification for batch",
        nb.is_empty(),
        format!("{} notifications", nb.len()),
    );
    ctx.say("clear the waiting reasons");
    let t1 = Instant::now();
    drop(restore);
    for (alert, _) in alerts {
        ctx.wait_alert(alert, &[("tenant", "shop")], false)?;
    }
    ctx.stage("state alerts resolved", t1);
    Ok(())
}
