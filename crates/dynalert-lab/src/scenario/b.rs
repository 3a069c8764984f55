//! Scenario B (simulated Kubernetes): the weakest link, one container over its CPU threshold
//! while the pod average stays under it.

use std::time::Instant;

use super::harness::{has_alert, now_ms, put_pod, Ctx, Restore};
use crate::api;
use crate::sim::{container, PodSpec};

/// Scenario B: one container over its CPU threshold, the pod average under it.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    restore.sim_url = Some(ctx.lab.kubernetes_sim_url.clone());
    let pod = PodSpec {
        namespace: "shop".into(),
        name: "checkout-5f7c9d8b4-q8x2n".into(),
        containers: vec![
            container("app", 0.95),
            container("sidecar-proxy", 0.05),
            container("log-shipper", 0.05),
        ],
    };
    ctx.say("SIMULATED: pod shop/checkout-… with containers app (95% of its CPU limit), sidecar-proxy (5%), log-shipper (5%); pod average 35%, tenant `shop` threshold 75%");
    let since = now_ms();
    let t0 = Instant::now();
    put_pod(ctx, &pod)?;
    ctx.stage("simulated usage set", t0);
    let sel = format!("namespace=\"shop\",pod=\"{}\"", pod.name);
    ctx.wait_some(
        "Prometheus to see the container's CPU percent of limit",
        &format!("tenant:container_cpu_usage:percent_of_limit{{{sel},container=\"app\"}} > 75"),
    )?;
    ctx.stage("Prometheus sees app at >75% of its limit", t0);
    let labels = [
        ("tenant", "shop"),
        ("pod", pod.name.as_str()),
        ("container", "app"),
    ];
    let alert = "PodContainerHighCPU";
    ctx.wait_alert(alert, &labels, true)?;
    ctx.stage("alert firing", t0);
    let n = ctx.wait_notification(since, Some("shop"), alert, &labels, "firing")?;
    ctx.stage("notification received at `shop`", t0);
    ctx.check(
        "the notification names container `app`",
        has_alert(&n, alert, &[("container", "app")], "firing"),
        "",
    );
    let avg = ctx.query(&format!(
        "avg(tenant:container_cpu_usage:percent_of_limit{{{sel}}})"
    ))?;
    let avg = avg.first().map(|s| s.value).unwrap_or(f64::NAN);
    ctx.check(
        "the pod average stays under the threshold",
        avg < 75.0,
        format!("pod average {avg:.1}%"),
    );
    let others = ctx.query(&format!(
        "ALERTS{{alertname=\"PodContainerHighCPU\",{sel},container!=\"app\"}}"
    ))?;
    ctx.check(
        "no alert for the pod's other containers",
        others.is_empty(),
        format!("{others:?}"),
    );
    ctx.say("remove the pod");
    let t1 = Instant::now();
    let sim = &ctx.lab.kubernetes_sim_url;
    let delete = format!("{sim}/api/pods/shop/{}", pod.name);
    api::send_json("DELETE", &delete, &serde_json::json!({}))
        .or_else(|_| api::post_empty(&format!("{sim}/api/reset")).map(|_| ()))?;
    ctx.wait_alert(alert, &labels, false)?;
    ctx.stage("alert resolved", t1);
    Ok(())
}
