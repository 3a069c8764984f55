//! The scenario runner: drives scenarios A–D, `ha`, `bad-config` and `recipes` against a
//! running lab and judges them from what the real parts report (exporter `/metrics`, the
//! Prometheus and Alertmanager APIs, the webhook sink's records).
//!
//! Every wait is a condition with a generous deadline, never a fixed sleep. Every change a
//! scenario makes (tenant files, simulated pods, database load, a killed replica) is undone
//! by a guard, also when the scenario fails half-way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::api::{self, Labels};
use crate::load::Load;
use crate::process::{self, wait_for};
use crate::sim::{container, PodSpec};
use crate::sink::{self, Notification};
use crate::state::LabState;

/// All scenarios in the order `all` runs them.
pub const ALL: [&str; 7] = ["a", "b", "c", "d", "ha", "bad-config", "recipes"];

/// Scenarios of one engine only, run by name (`dynalert scenario run vmagent-failover`).
pub const ENGINE_ONLY: [(&str, &str); 1] = [("vmagent-failover", "victoriametrics")];

/// Deadline for each condition: several scrape + evaluation cycles.
const WAIT: Duration = Duration::from_secs(45);

/// One timed step of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    /// Seconds since the scenario's reference instant (the change that starts the phase).
    pub seconds: f64,
}

/// One verified expectation.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub title: String,
    pub passed: bool,
    pub reason: String,
    pub duration_seconds: f64,
    pub actions: Vec<String>,
    pub stages: Vec<Stage>,
    pub checks: Vec<Check>,
    /// Threshold change → notification, in seconds (scenario A): `fire`, `resolve`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_seconds: BTreeMap<String, f64>,
}

pub fn title(name: &str) -> &'static str {
    match name {
        "a" => "A dynamic threshold",
        "b" => "B weakest link (simulated Kubernetes)",
        "c" => "C state matching (simulated Kubernetes)",
        "d" => "D composite priority, routing, inhibition, silent mode, maintenance",
        "ha" => "HA: one exporter replica killed",
        "bad-config" => "bad config during a live run",
        "vmagent-failover" => "vmagent failover: one of two scrapers killed",
        "recipes" => "custom alert recipes: each kind fires for one tenant only",
        _ => "unknown",
    }
}

/// What a scenario works with.
pub struct Ctx<'a> {
    pub lab: LabState,
    pub mariadb: PathBuf,
    progress: &'a mut dyn FnMut(&str),
    start: Instant,
    start_ms: i64,
    out: Outcome,
}

impl Ctx<'_> {
    fn say(&mut self, msg: &str) {
        self.out.actions.push(msg.to_string());
        (self.progress)(&format!("  {msg}"));
    }

    fn stage(&mut self, name: &str, since: Instant) -> f64 {
        let s = since.elapsed().as_secs_f64();
        self.out.stages.push(Stage {
            name: name.to_string(),
            seconds: (s * 10.0).round() / 10.0,
        });
        (self.progress)(&format!("    {:>6.1}s  {name}", s));
        s
    }

    fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        let detail = detail.into();
        (self.progress)(&format!(
            "    [{}] {name}{}",
            if ok { "ok" } else { "FAIL" },
            if ok {
                String::new()
            } else {
                format!(": {detail}")
            }
        ));
        self.out.checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
        });
    }

    fn prom(&self) -> &str {
        &self.lab.prometheus_url
    }

    fn conf(&self, tenant: &str) -> PathBuf {
        self.lab.conf_dir.join(format!("{tenant}.yaml"))
    }

    fn sink_file(&self) -> PathBuf {
        self.lab.dir.join("sink/notifications.jsonl")
    }

    fn notifications_since(&self, ms: i64) -> Vec<Notification> {
        sink::read_all(&self.sink_file())
            .into_iter()
            .filter(|n| n.received_ms >= ms)
            .collect()
    }

    /// The tenant-wide threshold the first exporter replica serves now.
    fn served_threshold(
        &self,
        tenant: &str,
        component: &str,
        metric: &str,
        severity: &str,
    ) -> anyhow::Result<Option<f64>> {
        let text = api::get_text(&format!("{}/metrics", self.lab.exporter_urls[0]))?;
        Ok(threshold_value(
            &api::parse_exposition(&text)?,
            tenant,
            component,
            metric,
            severity,
        ))
    }

    fn live_exporters(&self) -> Vec<String> {
        self.lab
            .parts
            .iter()
            .filter(|p| p.name.starts_with("threshold-exporter") && process::is_alive(p))
            .filter_map(|p| p.url.clone())
            .collect()
    }

    /// Writes a tenant file atomically (a dot-named temporary file the exporter ignores).
    fn write_tenant(&mut self, tenant: &str, body: &str) -> anyhow::Result<Instant> {
        let path = self.conf(tenant);
        let tmp = self.lab.conf_dir.join(format!(".{tenant}.yaml.tmp"));
        let text = format!(
            "# written by `dynalert scenario run {}`\ntenants:\n  {tenant}:\n{}",
            self.out.scenario,
            indent(body, 4)
        );
        fs_err::write(&tmp, text)?;
        fs_err::rename(&tmp, &path)?;
        Ok(Instant::now())
    }

    fn write_raw(&mut self, tenant: &str, text: &str) -> anyhow::Result<Instant> {
        let tmp = self.lab.conf_dir.join(format!(".{tenant}.yaml.tmp"));
        fs_err::write(&tmp, text)?;
        fs_err::rename(&tmp, self.conf(tenant))?;
        Ok(Instant::now())
    }

    /// Waits until every live exporter replica serves a series matching `pred`.
    fn wait_exporters(
        &mut self,
        what: &str,
        pred: impl Fn(&[(String, Labels, f64)]) -> bool,
    ) -> anyhow::Result<()> {
        let urls = self.live_exporters();
        let t = Instant::now();
        let mut nudged = false;
        wait_for(&format!("the exporters to serve {what}"), WAIT, || {
            let mut all = true;
            for u in &urls {
                let text = api::get_text(&format!("{u}/metrics"))?;
                if !pred(&api::parse_exposition(&text)?) {
                    all = false;
                }
            }
            // The file watcher should have picked the change up by now; ask explicitly once
            // (the same reload path) so a slow watcher cannot stall the scenario.
            if !all && !nudged && t.elapsed() > Duration::from_secs(5) {
                nudged = true;
                for u in &urls {
                    let _ = api::post_empty(&format!("{u}/-/reload"));
                }
            }
            Ok(all.then_some(()))
        })
    }

    fn wait_query(
        &self,
        what: &str,
        expr: &str,
        pred: impl Fn(&[api::Sample]) -> bool,
    ) -> anyhow::Result<Vec<api::Sample>> {
        let prom = self.prom().to_string();
        wait_for(what, WAIT, || {
            let r = api::query(&prom, expr)?;
            Ok(pred(&r).then_some(r))
        })
    }

    fn wait_alert(
        &self,
        alertname: &str,
        labels: &[(&str, &str)],
        firing: bool,
    ) -> anyhow::Result<()> {
        let sel = selector(alertname, labels);
        let expr = format!("ALERTS{{{sel},alertstate=\"firing\"}}");
        let what = format!(
            "`{alertname}` {} {}",
            fmt_labels(labels),
            if firing { "firing" } else { "resolved" }
        );
        self.wait_query(&what, &expr, |r| r.is_empty() != firing)
            .map(|_| ())
    }

    fn wait_notification(
        &self,
        since_ms: i64,
        receiver: Option<&str>,
        alertname: &str,
        labels: &[(&str, &str)],
        status: &str,
    ) -> anyhow::Result<Notification> {
        let what = format!(
            "a {status} notification of `{alertname}` {} at {}",
            fmt_labels(labels),
            receiver
                .map(|r| format!("receiver `{r}`"))
                .unwrap_or_else(|| "any receiver".into())
        );
        wait_for(&what, WAIT, || {
            Ok(self.notifications_since(since_ms).into_iter().find(|n| {
                receiver.is_none_or(|r| n.receiver == r) && has_alert(n, alertname, labels, status)
            }))
        })
    }
}

fn indent(s: &str, n: usize) -> String {
    s.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

fn selector(alertname: &str, labels: &[(&str, &str)]) -> String {
    let mut parts = vec![format!("alertname=\"{alertname}\"")];
    parts.extend(labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
    parts.join(",")
}

fn fmt_labels(labels: &[(&str, &str)]) -> String {
    format!(
        "{{{}}}",
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Whether `n` carries `alertname` with these labels in `status` (`firing`/`resolved`).
pub fn has_alert(n: &Notification, alertname: &str, labels: &[(&str, &str)], status: &str) -> bool {
    n.alerts.iter().any(|a| {
        a.status == status
            && a.labels.get("alertname").map(String::as_str) == Some(alertname)
            && labels
                .iter()
                .all(|(k, v)| a.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

fn threshold_is(
    series: &[(String, Labels, f64)],
    tenant: &str,
    component: &str,
    metric: &str,
    severity: &str,
    value: f64,
) -> bool {
    threshold_value(series, tenant, component, metric, severity) == Some(value)
}

/// The tenant-wide `user_threshold` of a tenant, metric and severity in an exposition.
fn threshold_value(
    series: &[(String, Labels, f64)],
    tenant: &str,
    component: &str,
    metric: &str,
    severity: &str,
) -> Option<f64> {
    series
        .iter()
        .find(|(n, l, _)| {
            n == "user_threshold"
                && l.get("tenant").map(String::as_str) == Some(tenant)
                && l.get("component").map(String::as_str) == Some(component)
                && l.get("metric").map(String::as_str) == Some(metric)
                && l.get("severity").map(String::as_str) == Some(severity)
                && !l.contains_key("container")
        })
        .map(|(_, _, v)| *v)
}

fn series_value(
    series: &[(String, Labels, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    series
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

/// Restores tenant files and simulated pods, and ends database load, when dropped.
struct Restore {
    files: Vec<(PathBuf, String)>,
    sim_url: Option<String>,
    loads: Vec<Load>,
}

impl Restore {
    fn new() -> Restore {
        Restore {
            files: Vec::new(),
            sim_url: None,
            loads: Vec::new(),
        }
    }
    fn keep(&mut self, path: &Path) -> anyhow::Result<()> {
        if !self.files.iter().any(|(p, _)| p == path) {
            self.files
                .push((path.to_path_buf(), fs_err::read_to_string(path)?));
        }
        Ok(())
    }
    fn restore_files(&mut self) {
        for (p, text) in self.files.drain(..) {
            let tmp = p.with_file_name(format!(
                ".{}.restore",
                p.file_name().unwrap_or_default().to_string_lossy()
            ));
            if std::fs::write(&tmp, &text).is_ok() {
                let _ = std::fs::rename(&tmp, &p);
            }
        }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        self.restore_files();
        self.loads.clear();
        if let Some(u) = &self.sim_url {
            let _ = api::post_empty(&format!("{u}/api/reset"));
        }
    }
}

/// Runs one scenario; never panics on a failed expectation, returns the verdict instead.
pub fn run(lab: &LabState, name: &str, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Outcome> {
    if let Some((_, engine)) = ENGINE_ONLY.iter().find(|(n, _)| *n == name) {
        if lab.engine != *engine {
            bail!(
                "scenario `{name}` needs the `{engine}` engine; this lab runs `{}`\n  hint: start it with `dynalert lab up --engine {engine}`",
                lab.engine
            );
        }
    } else if !ALL.contains(&name) {
        bail!(
            "unknown scenario `{name}`; expected one of {}, {}",
            ALL.join(", "),
            ENGINE_ONLY.map(|(n, _)| n).join(", ")
        );
    }
    let mariadb = crate::up::check_mariadb_client()?;
    let start = Instant::now();
    let start_ms = chrono::Utc::now().timestamp_millis();
    (progress)(&format!("scenario {}: {}", name, title(name)));
    let mut ctx = Ctx {
        lab: lab.clone(),
        mariadb,
        progress,
        start,
        start_ms,
        out: Outcome {
            scenario: name.to_string(),
            title: title(name).to_string(),
            passed: false,
            reason: String::new(),
            duration_seconds: 0.0,
            actions: Vec::new(),
            stages: Vec::new(),
            checks: Vec::new(),
            latency_seconds: BTreeMap::new(),
        },
    };
    let result = match name {
        "a" => scenario_a(&mut ctx),
        "b" => scenario_b(&mut ctx),
        "c" => scenario_c(&mut ctx),
        "d" => scenario_d(&mut ctx),
        "ha" => scenario_ha(&mut ctx),
        "vmagent-failover" => scenario_vmagent_failover(&mut ctx),
        "recipes" => scenario_recipes(&mut ctx),
        _ => scenario_bad_config(&mut ctx),
    };
    let mut out = ctx.out;
    out.duration_seconds = (ctx.start.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let _ = ctx.start_ms;
    match result {
        Err(e) => {
            out.passed = false;
            out.reason = format!("{e:#}");
        }
        Ok(()) => match out.checks.iter().find(|c| !c.ok) {
            Some(c) => {
                out.passed = false;
                out.reason = format!("{}: {}", c.name, c.detail);
            }
            None => {
                out.passed = true;
                out.reason = format!("all {} checks passed", out.checks.len());
            }
        },
    }
    (ctx.progress)(&format!(
        "  => {} ({:.1}s): {}",
        if out.passed { "PASS" } else { "FAIL" },
        out.duration_seconds,
        out.reason
    ));
    Ok(out)
}

fn db_socket(ctx: &Ctx, tenant: &str) -> anyhow::Result<PathBuf> {
    Ok(ctx
        .lab
        .database(tenant)
        .with_context(|| format!("no database for `{tenant}` in the lab"))?
        .socket
        .clone())
}

/// Scenario A: a threshold change alone makes db-a's alert fire and resolve; db-b is untouched.
fn scenario_a(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    restore.keep(&ctx.conf("db-a"))?;
    let sock = db_socket(ctx, "db-a")?;
    ctx.say("open 15 real client connections to db-a's MariaDB (SELECT SLEEP)");
    restore
        .loads
        .push(Load::open(&ctx.mariadb, &sock, 15, WAIT)?);
    ctx.wait_query(
        "Prometheus to see db-a's connections",
        "tenant:mysql_threads_connected:max{tenant=\"db-a\"} >= 15",
        |r| !r.is_empty(),
    )?;
    let b_before = api::query(
        ctx.prom(),
        "tenant:alert_threshold:mysql_connections{tenant=\"db-b\"}",
    )?;

    let (fire, resolve) = threshold_cycle(ctx, 5.0, 50.0)?;
    ctx.out.latency_seconds.insert("fire".into(), fire);
    ctx.out.latency_seconds.insert("resolve".into(), resolve);

    // Isolation: db-b saw nothing.
    let b_after = api::query(
        ctx.prom(),
        "tenant:alert_threshold:mysql_connections{tenant=\"db-b\"}",
    )?;
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
                    .any(|a| a.labels.get("tenant").map(String::as_str) == Some("db-b"))
        })
        .collect();
    ctx.check(
        "db-b got no notification",
        to_b.is_empty(),
        format!("{} notifications for db-b", to_b.len()),
    );
    drop(restore);
    ctx.wait_exporters("db-a's original file", |s| {
        threshold_is(s, "db-a", "mysql", "connections", "warning", 50.0)
    })?;
    Ok(())
}

/// Lowers db-a's `mysql_connections` warning to `low` (fires), then raises it to `high`
/// (resolves). Returns the threshold change → notification latencies in seconds.
fn threshold_cycle(ctx: &mut Ctx, low: f64, high: f64) -> anyhow::Result<(f64, f64)> {
    let sink_url = ctx.lab.sink_url.clone();
    let body = |w: f64| {
        format!(
            "mysql_connections: {{warning: {w}, critical: 100}}\nmysql_threads_running: {{warning: 40, critical: 80}}\n\
             mysql_replication_lag: disable\n_metadata: {{tier: vip, owner: dba-team, runbook_url: \"https://wiki.example/db-a\", namespaces: [db-a]}}\n\
             _routing:\n  receiver: {{type: webhook, url: \"{}/db-a\"}}\n",
            sink_url
        )
    };
    let labels = [("tenant", "db-a"), ("severity", "warning")];
    ctx.say(&format!(
        "lower db-a's `mysql_connections` warning to {low} in its tenant file"
    ));
    let since = chrono::Utc::now().timestamp_millis();
    let t0 = ctx.write_tenant("db-a", &body(low))?;
    ctx.stage("file written", t0);
    ctx.wait_exporters(&format!("db-a's threshold {low}"), |s| {
        threshold_is(s, "db-a", "mysql", "connections", "warning", low)
    })?;
    ctx.stage("exporters serving the new threshold", t0);
    ctx.wait_query(
        "Prometheus to see the new threshold",
        &format!("tenant:alert_threshold:mysql_connections{{tenant=\"db-a\",severity=\"warning\"}} == {low}"),
        |r| !r.is_empty(),
    )?;
    ctx.stage("Prometheus sees the threshold", t0);
    ctx.wait_alert("MariaDBHighConnections", &labels, true)?;
    ctx.stage("alert firing", t0);
    let n = ctx.wait_notification(
        since,
        Some("db-a"),
        "MariaDBHighConnections",
        &labels,
        "firing",
    )?;
    let fire = ctx.stage("notification received at `db-a`", t0);
    ctx.check(
        "firing notification reached db-a's receiver",
        n.receiver == "db-a",
        n.receiver.clone(),
    );

    ctx.say(&format!(
        "raise db-a's `mysql_connections` warning to {high}"
    ));
    let since = chrono::Utc::now().timestamp_millis();
    let t1 = ctx.write_tenant("db-a", &body(high))?;
    ctx.stage("file written", t1);
    ctx.wait_exporters(&format!("db-a's threshold {high}"), |s| {
        threshold_is(s, "db-a", "mysql", "connections", "warning", high)
    })?;
    ctx.stage("exporters serving the new threshold", t1);
    ctx.wait_alert("MariaDBHighConnections", &labels, false)?;
    ctx.stage("alert resolved in Prometheus", t1);
    ctx.wait_notification(
        since,
        Some("db-a"),
        "MariaDBHighConnections",
        &labels,
        "resolved",
    )?;
    let resolve = ctx.stage("resolved notification received at `db-a`", t1);
    ctx.check("resolved notification reached db-a's receiver", true, "");
    Ok((fire, resolve))
}

fn put_pod(ctx: &Ctx, pod: &PodSpec) -> anyhow::Result<()> {
    api::send_json(
        "PUT",
        &format!(
            "{}/api/pods/{}/{}",
            ctx.lab.kubernetes_sim_url, pod.namespace, pod.name
        ),
        pod,
    )
}

/// Scenario B: one container over its CPU threshold, the pod average under it.
fn scenario_b(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
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
    let since = chrono::Utc::now().timestamp_millis();
    let t0 = Instant::now();
    put_pod(ctx, &pod)?;
    ctx.stage("simulated usage set", t0);
    let sel = format!("namespace=\"shop\",pod=\"{}\"", pod.name);
    ctx.wait_query(
        "Prometheus to see the container's CPU percent of limit",
        &format!("tenant:container_cpu_usage:percent_of_limit{{{sel},container=\"app\"}} > 75"),
        |r| !r.is_empty(),
    )?;
    ctx.stage("Prometheus sees app at >75% of its limit", t0);
    let labels = [
        ("tenant", "shop"),
        ("pod", pod.name.as_str()),
        ("container", "app"),
    ];
    ctx.wait_alert("PodContainerHighCPU", &labels, true)?;
    ctx.stage("alert firing", t0);
    let n = ctx.wait_notification(
        since,
        Some("shop"),
        "PodContainerHighCPU",
        &labels,
        "firing",
    )?;
    ctx.stage("notification received at `shop`", t0);
    ctx.check(
        "the notification names container `app`",
        has_alert(&n, "PodContainerHighCPU", &[("container", "app")], "firing"),
        "",
    );
    let avg = api::query(
        ctx.prom(),
        &format!("avg(tenant:container_cpu_usage:percent_of_limit{{{sel}}})"),
    )?;
    let avg = avg.first().map(|s| s.value).unwrap_or(f64::NAN);
    ctx.check(
        "the pod average stays under the threshold",
        avg < 75.0,
        format!("pod average {avg:.1}%"),
    );
    let others = api::query(
        ctx.prom(),
        &format!("ALERTS{{alertname=\"PodContainerHighCPU\",{sel},container!=\"app\"}}"),
    )?;
    ctx.check(
        "no alert for the pod's other containers",
        others.is_empty(),
        format!("{others:?}"),
    );
    ctx.say("remove the pod");
    let t1 = Instant::now();
    api::send_json(
        "DELETE",
        &format!("{}/api/pods/shop/{}", ctx.lab.kubernetes_sim_url, pod.name),
        &serde_json::json!({}),
    )
    .or_else(|_| {
        api::post_empty(&format!("{}/api/reset", ctx.lab.kubernetes_sim_url)).map(|_| ())
    })?;
    ctx.wait_alert("PodContainerHighCPU", &labels, false)?;
    ctx.stage("alert resolved", t1);
    Ok(())
}

/// Scenario C: waiting reasons raise state alerts only for the tenant with the filter on.
fn scenario_c(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    restore.sim_url = Some(ctx.lab.kubernetes_sim_url.clone());
    let pods: Vec<PodSpec> = api::send_json(
        "POST",
        &format!("{}/api/reset", ctx.lab.kubernetes_sim_url),
        &serde_json::json!({}),
    )
    .and_then(|_| {
        Ok(serde_json::from_value(api::get_json(&format!(
            "{}/api/pods",
            ctx.lab.kubernetes_sim_url
        ))?)?)
    })?;
    let mut shop = pods
        .iter()
        .find(|p| p.namespace == "shop")
        .context("no shop pod in the simulator")?
        .clone();
    let mut batch = pods
        .iter()
        .find(|p| p.namespace == "batch")
        .context("no batch pod in the simulator")?
        .clone();
    shop.containers[0].waiting_reason = Some("ImagePullBackOff".into());
    shop.containers[1].waiting_reason = Some("CrashLoopBackOff".into());
    batch.containers[0].waiting_reason = Some("CrashLoopBackOff".into());
    batch.containers[1].waiting_reason = Some("ImagePullBackOff".into());
    ctx.say(&format!(
        "SIMULATED: shop/{}: {} ImagePullBackOff, {} CrashLoopBackOff; batch/{} (filters disabled): the same",
        shop.name, shop.containers[0].name, shop.containers[1].name, batch.name
    ));
    let since = chrono::Utc::now().timestamp_millis();
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
    ctx.wait_alert("ContainerImagePullFailing", &img, true)?;
    ctx.stage("ContainerImagePullFailing firing for shop", t0);
    ctx.wait_alert("ContainerCrashLooping", &crash, true)?;
    ctx.stage("ContainerCrashLooping firing for shop", t0);
    ctx.wait_notification(
        since,
        Some("shop"),
        "ContainerImagePullFailing",
        &img,
        "firing",
    )?;
    ctx.wait_notification(
        since,
        Some("shop"),
        "ContainerCrashLooping",
        &crash,
        "firing",
    )?;
    ctx.stage("both notifications received at `shop`", t0);
    // batch's series were scraped in the same scrape and evaluated by the same rules.
    let raw = api::query(
        ctx.prom(),
        "kube_pod_container_status_waiting_reason{namespace=\"batch\"}",
    )?;
    ctx.check(
        "batch's waiting reasons are in Prometheus",
        raw.len() == 2,
        format!("{} series", raw.len()),
    );
    let b = api::query(
        ctx.prom(),
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
    ctx.wait_alert("ContainerImagePullFailing", &[("tenant", "shop")], false)?;
    ctx.wait_alert("ContainerCrashLooping", &[("tenant", "shop")], false)?;
    ctx.stage("state alerts resolved", t1);
    Ok(())
}

/// Silent mode and maintenance are time intervals in the generated Alertmanager
/// configuration: regenerate it from conf.d and reload Alertmanager, as an operator's
/// `dynalert alertmanager --output … --reload-url …` does after a change.
fn regenerate_alertmanager(ctx: &Ctx) -> anyhow::Result<()> {
    let report = dynalert_config::load_dir(&ctx.lab.conf_dir, chrono::Utc::now())?;
    anyhow::ensure!(
        report.errors() == 0,
        "conf.d has errors: {:?}",
        report.diagnostics
    );
    let generated = dynalert_alertmanager::generate(&report.config)?;
    let text = dynalert_alertmanager::render(&generated, None)?;
    let path = ctx.lab.dir.join("alertmanager").join("alertmanager.yml");
    let tmp = path.with_extension("yml.tmp");
    fs_err::write(&tmp, text)?;
    fs_err::rename(&tmp, &path)?;
    let (code, body) = api::post_empty(&format!("{}/-/reload", ctx.lab.alertmanager_url))?;
    anyhow::ensure!(code == 200, "Alertmanager reload failed: {code} {body}");
    Ok(())
}

fn db_a_body(ctx: &Ctx, extra: &str) -> String {
    format!(
        "mysql_connections: {{warning: 5, critical: 10}}\nmysql_threads_running: {{warning: 5, critical: 80}}\nmysql_replication_lag: disable\n\
         _metadata: {{tier: vip, owner: dba-team, runbook_url: \"https://wiki.example/db-a\", namespaces: [db-a]}}\n\
         _routing:\n  receiver: {{type: webhook, url: \"{}/db-a\"}}\n{extra}",
        ctx.lab.sink_url
    )
}

fn db_b_body(ctx: &Ctx, extra: &str) -> String {
    format!(
        "mysql_connections: \"2\"\nmysql_threads_running: {{warning: 50, critical: 100}}\nmysql_replication_lag: disable\n\
         _metadata: {{tier: standard, owner: app-team, namespaces: [db-b]}}\n\
         _routing:\n  receiver: {{type: webhook, url: \"{}/db-b\"}}\n{extra}",
        ctx.lab.sink_url
    )
}

/// Scenario D: routing by tier and severity, inhibition, silent mode, maintenance.
fn scenario_d(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    restore.keep(&ctx.conf("db-a"))?;
    restore.keep(&ctx.conf("db-b"))?;
    ctx.say("open 15 real connections running SELECT SLEEP on db-a, 4 on db-b");
    let sa = db_socket(ctx, "db-a")?;
    let sb = db_socket(ctx, "db-b")?;
    restore.loads.push(Load::open(&ctx.mariadb, &sa, 15, WAIT)?);
    restore.loads.push(Load::open(&ctx.mariadb, &sb, 4, WAIT)?);
    ctx.wait_query(
        "Prometheus to see db-a's running threads",
        "tenant:mysql_threads_running:max{tenant=\"db-a\"} >= 15",
        |r| !r.is_empty(),
    )?;
    ctx.wait_query(
        "Prometheus to see db-b's connections",
        "tenant:mysql_threads_connected:max{tenant=\"db-b\"} >= 4",
        |r| !r.is_empty(),
    )?;

    ctx.say("db-a (vip): connections warning 5 / critical 10, running threads warning 5; db-b (standard): connections warning 2");
    let since = chrono::Utc::now().timestamp_millis();
    let t0 = ctx.write_tenant("db-a", &db_a_body(ctx, ""))?;
    ctx.write_tenant("db-b", &db_b_body(ctx, ""))?;
    ctx.stage("files written", t0);
    ctx.wait_exporters("the new thresholds", |s| {
        threshold_is(s, "db-a", "mysql", "connections", "critical", 10.0)
            && threshold_is(s, "db-b", "mysql", "connections", "warning", 2.0)
    })?;
    ctx.stage("exporters serving the new thresholds", t0);
    let a_crit = [("tenant", "db-a"), ("severity", "critical")];
    let a_warn = [("tenant", "db-a"), ("severity", "warning")];
    let b_warn = [("tenant", "db-b"), ("severity", "warning")];
    ctx.wait_alert("MariaDBHighConnections", &a_crit, true)?;
    ctx.wait_alert("MariaDBSystemBottleneck", &[("tenant", "db-a")], true)?;
    ctx.wait_alert("MariaDBHighConnections", &b_warn, true)?;
    ctx.stage(
        "alerts firing (db-a critical + composite, db-b warning)",
        t0,
    );
    // Alertmanager applies inhibition when it sends a group: a warning that reaches it before
    // its critical goes out at the group's next flush. That flush comes `group_wait` after the
    // warning only when the group is new; a group that already exists (it lives while it holds
    // alerts, resolved ones included, which both engines resend for 15 minutes after they
    // resolve, e.g. scenario A's warning) flushes every `group_interval`. So what inhibition
    // promises is that no warning goes out once its critical is active. Prometheus makes both
    // active in one evaluation and sends the critical first (its rule comes first), so there
    // the warning is never sent. vmalert reads the recorded comparisons back from
    // VictoriaMetrics, which answers the critical rule's selector, empty until the tenant
    // first crosses its critical threshold, with nothing for the new series until its next
    // periodic update (about every 10 s): the critical may become active up to two evaluations
    // after the warning (docs/scaling.md).
    ctx.wait_alert("MariaDBHighConnections", &a_warn, true)?;
    let active =
        |ctx: &Ctx, l: &[(&str, &str)]| -> anyhow::Result<chrono::DateTime<chrono::FixedOffset>> {
            let s = firing_active_at(ctx, "MariaDBHighConnections", l)?;
            chrono::DateTime::parse_from_rfc3339(&s)
                .with_context(|| format!("cannot read activeAt `{s}`"))
        };
    let crit_active = active(ctx, &a_crit)?;
    let warn_active = active(ctx, &a_warn)?;
    for r in ["vip-pager", "noc", "db-a"] {
        ctx.wait_notification(since, Some(r), "MariaDBHighConnections", &a_crit, "firing")?;
    }
    ctx.wait_notification(
        since,
        Some("vip-pager"),
        "MariaDBSystemBottleneck",
        &[("tenant", "db-a")],
        "firing",
    )?;
    ctx.stage("db-a's critical received at vip-pager, noc and db-a", t0);
    ctx.check("VIP critical reached vip-pager, noc and db-a", true, "");
    ctx.wait_notification(
        since,
        Some("db-b"),
        "MariaDBHighConnections",
        &b_warn,
        "firing",
    )?;
    ctx.stage("db-b's warning received at db-b", t0);
    // Inhibition: db-a's warning of the same alert is suppressed by its critical.
    let am = ctx.lab.alertmanager_url.clone();
    let inhibited = wait_for(
        "db-a's warning to be inhibited in Alertmanager",
        WAIT,
        || {
            let alerts = api::am_alerts(&am)?;
            Ok(alerts.into_iter().find(|a| {
                a.labels.get("alertname").map(String::as_str) == Some("MariaDBHighConnections")
                    && a.labels.get("tenant").map(String::as_str) == Some("db-a")
                    && a.labels.get("severity").map(String::as_str) == Some("warning")
                    && a.state == "suppressed"
                    && !a.inhibited_by.is_empty()
            }))
        },
    );
    ctx.check(
        "critical inhibits db-a's warning of the same alert",
        inhibited.is_ok(),
        inhibited
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default(),
    );
    let after = ctx.notifications_since(since);
    // When any critical, and any warning, of db-a was first active: on VictoriaMetrics the
    // alert first fires without `tier` and changes label set an evaluation later
    // (docs/scaling.md); the notifications still carry the first one's `startsAt`.
    let first = |l: &[(&str, &str)], now: chrono::DateTime<chrono::FixedOffset>| {
        first_started(&after, since, "MariaDBHighConnections", l).map_or(now, |t| t.min(now))
    };
    let crit_first = first(&a_crit, crit_active);
    let skew = (crit_first - first(&a_warn, warn_active)).num_milliseconds() as f64 / 1000.0;
    let vm = ctx.lab.engine == crate::up::Engine::VictoriaMetrics.name();
    if vm {
        let bound = 3 * crate::up::INTERVAL_S;
        ctx.check(
            &format!("db-a's critical active at most {bound}s after its warning"),
            skew <= bound as f64,
            format!("critical active {skew:.1}s after the warning"),
        );
    } else {
        ctx.check(
            "db-a's critical and warning active from the same evaluation",
            skew == 0.0,
            format!("critical active {skew:.1}s after the warning"),
        );
    }
    ctx.say(&format!(
        "db-a's critical became active {skew:.1}s after its warning"
    ));
    let leaked: Vec<_> = after
        .iter()
        .filter(|n| has_alert(n, "MariaDBHighConnections", &a_warn, "firing"))
        .map(|n| (n.receiver.clone(), n.received_at.clone(), n.received_ms))
        .collect();
    if !vm {
        ctx.check(
            "db-a's inhibited warning was never sent",
            leaked.is_empty(),
            format!("sent to {leaked:?}"),
        );
    }
    let late: Vec<_> = leaked
        .iter()
        .filter(|(_, _, ms)| *ms >= crit_first.timestamp_millis())
        .map(|(r, at, _)| format!("{r} at {at}"))
        .collect();
    ctx.check(
        "no notification carries db-a's warning once its critical is active",
        late.is_empty(),
        format!(
            "critical active from {}, warning sent to {late:?}",
            crit_first.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
    );
    if vm && !leaked.is_empty() {
        ctx.say(&format!(
            "db-a's warning was sent {} time(s) before its critical became active",
            leaked.len()
        ));
    }
    let b_wrong: Vec<_> = after
        .iter()
        .filter(|n| {
            n.receiver != "db-b" && has_alert(n, "MariaDBHighConnections", &b_warn, "firing")
        })
        .map(|n| n.receiver.clone())
        .collect();
    ctx.check(
        "db-b's warning reached only db-b",
        b_wrong.is_empty(),
        format!("also sent to {b_wrong:?}"),
    );

    // Silent mode for db-b's warnings.
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ctx.say("db-b: silent mode for warnings");
    let t1 = ctx.write_tenant("db-b", &db_b_body(ctx, &format!("_silent_mode: {{target: warning, expires: \"{expires}\", reason: \"lab scenario d\"}}\n")))?;
    ctx.stage("file written", t1);
    regenerate_alertmanager(ctx)?;
    ctx.stage("Alertmanager configuration regenerated and reloaded", t1);
    let silent_since = chrono::Utc::now().timestamp_millis();
    ctx.wait_alert("TenantSilentModeActive", &[("tenant", "db-b")], true)?;
    ctx.stage("TenantSilentModeActive firing", t1);

    // Maintenance for db-a: its alerts keep firing (no RESOLVED), its own receiver is
    // muted, and a new critical still reaches the NOC copy and the VIP pager.
    ctx.say("db-a: maintenance for one hour, running-threads critical lowered to 10");
    let since = chrono::Utc::now().timestamp_millis();
    let t2 = ctx.write_tenant(
        "db-a",
        &db_a_body(
            ctx,
            &format!(
                "_state_maintenance: {{expires: \"{expires}\", reason: \"lab scenario d\"}}\n"
            ),
        )
        .replace("critical: 80", "critical: 10"),
    )?;
    ctx.stage("file written", t2);
    regenerate_alertmanager(ctx)?;
    let a_run = [("tenant", "db-a"), ("severity", "critical")];
    ctx.wait_alert("MariaDBHighThreadsRunning", &a_run, true)?;
    for r in ["noc", "vip-pager"] {
        ctx.wait_notification(
            since,
            Some(r),
            "MariaDBHighThreadsRunning",
            &a_run,
            "firing",
        )?;
    }
    ctx.stage("new critical received at noc and vip-pager", t2);
    ctx.wait_alert("MariaDBHighConnections", &a_crit, true)?;
    let after = ctx.notifications_since(since);
    let to_a: Vec<_> = after
        .iter()
        .filter(|n| n.receiver == "db-a")
        .map(|n| n.status.clone())
        .collect();
    ctx.check(
        "maintenance mutes db-a's receiver, not the NOC copy or the VIP page",
        to_a.is_empty(),
        format!("db-a got {to_a:?}"),
    );
    let resolved: Vec<_> = after
        .iter()
        .filter(|n| has_alert(n, "MariaDBHighConnections", &a_crit, "resolved"))
        .map(|n| n.receiver.clone())
        .collect();
    ctx.check(
        "maintenance does not resolve db-a's firing alerts",
        resolved.is_empty(),
        format!("resolved sent to {resolved:?}"),
    );
    let to_b: Vec<_> = ctx
        .notifications_since(silent_since)
        .into_iter()
        .filter(|n| n.receiver == "db-b")
        .map(|n| n.status)
        .collect();
    ctx.check(
        "silent mode: db-b's receiver got nothing",
        to_b.is_empty(),
        format!("db-b got {to_b:?}"),
    );

    let t3 = Instant::now();
    drop(restore);
    regenerate_alertmanager(ctx)?;
    ctx.wait_alert("MariaDBHighConnections", &[("tenant", "db-b")], false)?;
    ctx.wait_alert("TenantSilentModeActive", &[("tenant", "db-b")], false)?;
    ctx.stage("restored", t3);
    Ok(())
}

/// Starts from a quiet db-a, opens 15 connections and lowers its connections warning to 5,
/// then waits for the warning to fire with db-a's metadata joined. Returns the alert's
/// labels; `restore` puts the file and the load back.
fn fire_db_a_warning(
    ctx: &mut Ctx,
    restore: &mut Restore,
) -> anyhow::Result<[(&'static str, &'static str); 3]> {
    // An alert still firing from the previous scenario (its files restored a moment ago)
    // would be taken for this one and then resolve.
    ctx.wait_alert("MariaDBHighConnections", &[("tenant", "db-a")], false)?;
    restore.keep(&ctx.conf("db-a"))?;
    let sock = db_socket(ctx, "db-a")?;
    ctx.say("open 15 connections to db-a and lower its connections warning to 5");
    restore
        .loads
        .push(Load::open(&ctx.mariadb, &sock, 15, WAIT)?);
    let t0 = ctx.write_tenant(
        "db-a",
        &format!(
            "mysql_connections: {{warning: 5, critical: 100}}\nmysql_replication_lag: disable\n\
             _metadata: {{tier: vip, owner: dba-team, namespaces: [db-a]}}\n_routing:\n  receiver: {{type: webhook, url: \"{}/db-a\"}}\n",
            ctx.lab.sink_url
        ),
    )?;
    // With its metadata joined (tier from db-a's file): on VictoriaMetrics a changed
    // `tenant:metadata:info` series becomes searchable an evaluation later, and until then
    // the alert fires without it and then changes label set (docs/scaling.md).
    let labels = [("tenant", "db-a"), ("severity", "warning"), ("tier", "vip")];
    ctx.wait_alert("MariaDBHighConnections", &labels, true)?;
    ctx.stage("alert firing", t0);
    Ok(labels)
}

/// HA: kill one exporter replica while an alert fires.
fn scenario_ha(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    let labels = fire_db_a_warning(ctx, &mut restore)?;
    let t_fire = Instant::now();
    let active_at = firing_active_at(ctx, "MariaDBHighConnections", &labels)?;

    let victim = ctx
        .lab
        .part("threshold-exporter-1")
        .context("no threshold-exporter-1 in the lab")?
        .clone();
    let victim_instance = victim
        .url
        .clone()
        .unwrap_or_default()
        .trim_start_matches("http://")
        .to_string();
    ctx.say(&format!(
        "kill -9 threshold-exporter-1 (pid {})",
        victim.pid
    ));
    let since = chrono::Utc::now().timestamp_millis();
    let t1 = Instant::now();
    process::kill_now(&victim);
    ctx.stage("replica killed", t1);
    ctx.wait_query(
        "Prometheus to see the replica down",
        &format!("up{{job=\"threshold-exporter\",instance=\"{victim_instance}\"}} == 0"),
        |r| !r.is_empty(),
    )?;
    let seen = ctx.stage("Prometheus sees the replica down", t1);
    // Let the rules run at least three more times with one replica.
    let until = chrono::Utc::now() + chrono::Duration::seconds(15);
    let prom = ctx.prom().to_string();
    wait_for("three more rule evaluations", WAIT, || {
        let v = api::get_json(&format!("{prom}/api/v1/rules?type=alert"))?;
        let evaluated = v["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["name"] == "dynalert-mariadb")
            .and_then(|g| g["lastEvaluation"].as_str())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
        Ok(evaluated.filter(|e| *e > until).map(|_| ()))
    })?;
    ctx.stage("three rule evaluations with one replica", t1);
    // Only the span since the alert fired: before it the threshold was still the old one.
    let window = (t_fire.elapsed().as_secs_f64().floor() as u64)
        .saturating_sub(1)
        .max(5);
    let max = api::query(ctx.prom(), &format!("max_over_time(tenant:alert_threshold:mysql_connections{{tenant=\"db-a\",severity=\"warning\"}}[{window}s])"))?;
    let min = api::query(ctx.prom(), &format!("min_over_time(tenant:alert_threshold:mysql_connections{{tenant=\"db-a\",severity=\"warning\"}}[{window}s])"))?;
    let (mx, mn) = (max.first().map(|s| s.value), min.first().map(|s| s.value));
    ctx.check(
        "threshold stays 5 (not doubled, not lost)",
        mx == Some(5.0) && mn == Some(5.0),
        format!("min {mn:?}, max {mx:?} over {window}s"),
    );
    let still = firing_active_at(ctx, "MariaDBHighConnections", &labels);
    ctx.check(
        "the alert stayed firing (same activeAt)",
        still.as_ref().ok() == Some(&active_at),
        format!("before {active_at}, now {still:?}"),
    );
    let resolved: Vec<_> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|n| has_alert(n, "MariaDBHighConnections", &labels, "resolved"))
        .collect();
    ctx.check(
        "nothing resolved spuriously",
        resolved.is_empty(),
        format!("{} resolved notifications", resolved.len()),
    );
    let _ = seen;

    ctx.say("restart threshold-exporter-1");
    let t2 = Instant::now();
    crate::up::restart(&mut ctx.lab, "threshold-exporter-1")?;
    let url = victim.url.clone().unwrap_or_default();
    wait_for("threshold-exporter-1 ready", WAIT, || {
        Ok((api::get_status(&format!("{url}/-/ready")).ok() == Some(200)).then_some(()))
    })?;
    ctx.stage("replica ready again", t2);
    ctx.wait_query(
        "Prometheus to see the replica up",
        &format!("up{{job=\"threshold-exporter\",instance=\"{victim_instance}\"}} == 1"),
        |r| !r.is_empty(),
    )?;
    ctx.stage("Prometheus sees the replica up", t2);
    let count = api::query(
        ctx.prom(),
        "count(user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"})",
    )?;
    let rec = api::query(
        ctx.prom(),
        "tenant:alert_threshold:mysql_connections{tenant=\"db-a\",severity=\"warning\"}",
    )?;
    ctx.check(
        "two replicas, one recorded threshold of 5",
        count.first().map(|s| s.value) == Some(2.0) && rec.len() == 1 && rec[0].value == 5.0,
        format!("{count:?} {rec:?}"),
    );
    drop(restore);
    ctx.wait_alert("MariaDBHighConnections", &[("tenant", "db-a")], false)?;
    Ok(())
}

/// Firing alerts (label set rendered as text → `activeAt`) from `/api/v1/alerts`.
fn firing_alerts(prom: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let v = api::get_json(&format!("{prom}/api/v1/alerts"))?;
    Ok(v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["state"] == "firing")
        .map(|a| {
            let labels: BTreeMap<String, String> =
                serde_json::from_value(a["labels"].clone()).unwrap_or_default();
            (
                format!("{labels:?}"),
                a["activeAt"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// Recorded thresholds per tenant (series of every `tenant:alert_threshold:*` rule).
fn recorded_per_tenant(prom: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    Ok(api::query(
        prom,
        "count by(tenant)({__name__=~\"tenant:alert_threshold:.+\"})",
    )?
    .into_iter()
    .map(|s| (s.labels.get("tenant").cloned().unwrap_or_default(), s.value))
    .collect())
}

/// vmagent-failover (VictoriaMetrics engine): with an alert firing, vmagent-1 is killed with
/// SIGKILL. vmagent-2 scrapes every target too (replication factor 2), so over the following
/// evaluations every tenant keeps all its recorded thresholds, both threshold exporter
/// replicas stay `up`, the alert keeps its `activeAt` and nothing resolves.
fn scenario_vmagent_failover(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    let labels = fire_db_a_warning(ctx, &mut restore)?;
    let active_at = firing_active_at(ctx, "MariaDBHighConnections", &labels)?;
    let prom = ctx.prom().to_string();
    // The rule group that evaluates the alert (found by the rule, not by the group's name):
    // an error now, before anything is killed, if vmalert runs no such rule.
    group_last_evaluation(&prom, "MariaDBHighConnections")?;
    // Every tenant's recorded thresholds, once two reads with an evaluation of the group
    // between them agree (the file change above has settled).
    let mut prev: Option<(BTreeMap<String, f64>, chrono::DateTime<chrono::FixedOffset>)> = None;
    let before = wait_for("the recorded thresholds to settle", WAIT, || {
        let e = group_last_evaluation(&prom, "MariaDBHighConnections")?;
        match &prev {
            Some((_, pe)) if e <= *pe => return Ok(None),
            _ => {}
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
    ctx.say(&format!(
        "{} alerts firing before the failure",
        firing_before.len()
    ));
    ctx.say(&format!("kill -9 vmagent-1 (pid {})", victim.pid));
    let since = chrono::Utc::now().timestamp_millis();
    let t1 = Instant::now();
    process::kill_now(&victim);
    ctx.stage("vmagent-1 killed", t1);

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
        let evaluated = group_last_evaluation(&prom, "MariaDBHighConnections")?;
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
    let q = |f: &str| {
        format!("{f}(tenant:alert_threshold:mysql_connections{{tenant=\"db-a\",severity=\"warning\"}}[{window}s])")
    };
    let (mx, mn) = (
        api::query(&prom, &q("max_over_time"))?
            .first()
            .map(|s| s.value),
        api::query(&prom, &q("min_over_time"))?
            .first()
            .map(|s| s.value),
    );
    ctx.check(
        "db-a's threshold stays 5 (not lost, not doubled)",
        mx == Some(5.0) && mn == Some(5.0),
        format!("min {mn:?}, max {mx:?} over {window}s"),
    );
    let still = firing_active_at(ctx, "MariaDBHighConnections", &labels);
    ctx.check(
        "the alert stayed firing (same activeAt)",
        still.as_ref().ok() == Some(&active_at),
        format!("before {active_at}, now {still:?}"),
    );
    let firing_after = firing_alerts(&prom)?;
    let changed: Vec<String> = firing_before
        .iter()
        .filter(|(l, at)| firing_after.get(*l) != Some(at))
        .map(|(l, at)| format!("{l} (active since {at})"))
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
        .map(|a| format!("{:?}", a.labels))
        .filter(|l| firing_before.contains_key(l))
        .collect();
    ctx.check(
        "no resolved notification for an alert that was firing",
        resolved.is_empty(),
        resolved.join("; "),
    );

    ctx.say("restart vmagent-1");
    let t2 = Instant::now();
    crate::up::restart(&mut ctx.lab, "vmagent-1")?;
    let url = victim.url.clone().unwrap_or_default();
    wait_for("vmagent-1 healthy", WAIT, || {
        Ok((api::get_status(&format!("{url}/health")).ok() == Some(200)).then_some(()))
    })?;
    ctx.stage("vmagent-1 healthy again", t2);
    drop(restore);
    ctx.wait_alert("MariaDBHighConnections", &[("tenant", "db-a")], false)?;
    ctx.stage("alert resolved after the file is restored", t2);
    Ok(())
}

/// When the rule group holding the alerting rule `alertname` was last evaluated (vmalert's or
/// Prometheus' `/api/v1/rules`); an error naming the rule when no group holds it.
fn group_last_evaluation(
    prom: &str,
    alertname: &str,
) -> anyhow::Result<chrono::DateTime<chrono::FixedOffset>> {
    let v = api::get_json(&format!("{prom}/api/v1/rules?type=alert"))?;
    let group = v["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| {
            g["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["name"] == alertname)
        })
        .with_context(|| format!("no rule group evaluates the alert `{alertname}`"))?;
    let s = group["lastEvaluation"].as_str().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(s).with_context(|| {
        format!(
            "cannot read lastEvaluation `{s}` of group `{}`",
            group["name"].as_str().unwrap_or_default()
        )
    })
}

/// The earliest `startsAt` from `since_ms` on of `alertname` with these labels, firing or
/// resolved, in any of the notifications `ns` (they also carry resolved alerts of earlier
/// episodes, which started before).
fn first_started(
    ns: &[Notification],
    since_ms: i64,
    alertname: &str,
    labels: &[(&str, &str)],
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    ns.iter()
        .flat_map(|n| n.alerts.iter())
        .filter(|a| {
            a.labels.get("alertname").map(String::as_str) == Some(alertname)
                && labels
                    .iter()
                    .all(|(k, v)| a.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .filter_map(|a| chrono::DateTime::parse_from_rfc3339(&a.starts_at).ok())
        .filter(|t| t.timestamp_millis() >= since_ms)
        .min()
}

fn firing_active_at(ctx: &Ctx, alertname: &str, labels: &[(&str, &str)]) -> anyhow::Result<String> {
    let v = api::get_json(&format!("{}/api/v1/alerts", ctx.prom()))?;
    v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["state"] == "firing"
                && a["labels"]["alertname"] == alertname
                && labels.iter().all(|(k, val)| a["labels"][*k] == *val)
        })
        .and_then(|a| a["activeAt"].as_str().map(str::to_string))
        .with_context(|| format!("`{alertname}` {} is not firing", fmt_labels(labels)))
}

/// bad-config: a broken db-a file keeps db-a's last good thresholds and raises an alert.
fn scenario_bad_config(ctx: &mut Ctx) -> anyhow::Result<()> {
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
        "tenant:alert_threshold:mysql_connections{tenant=\"db-a\",severity=\"warning\"}",
        |r| r.len() == 1 && r[0].value == before,
    )?;
    ctx.say("write a broken db-a file (typo in a key, non-numeric value)");
    let since = chrono::Utc::now().timestamp_millis();
    let t0 = ctx.write_raw(
        "db-a",
        "tenants:\n  db-a:\n    mysql_conections: 10\n    mysql_threads_running: lots\n    mysql_connections: {warning: 1}\n",
    )?;
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
    let now = api::query(
        ctx.prom(),
        "tenant:alert_threshold:mysql_connections{tenant=\"db-a\",severity=\"warning\"}",
    )?;
    ctx.check(
        "Prometheus still sees db-a's last good threshold",
        now.len() == 1 && now[0].value == before,
        format!("expected {before}, got {now:?}"),
    );
    ctx.say("fix the file");
    let since = chrono::Utc::now().timestamp_millis();
    let t1 = ctx.write_raw("db-a", &good)?;
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

/// min, median, max.
pub fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((v[0], median, v[n - 1]))
}

/// The recipes `shop` and `batch` declare in `examples/lab/` (the same shapes), in the order
/// the scenario `recipes` makes them fire: alert name, recipe, and the threshold shop gets
/// (below the live value once there is traffic; the absence recipe has none to change).
///
/// The live values, on Alertmanager's own `/metrics` with requests to `/-/healthy`: a few
/// dozen goroutines; about 10 requests per second (the scenario's traffic); a mean response
/// size of exactly 2 bytes (the body `OK`); a 0.99 quantile of the response size of 99 bytes
/// (every response falls in the first bucket, `le="100"`, interpolated from 0). batch keeps
/// 10000, 50, 3 and 150: above each.
pub const RECIPES: [(&str, &str, Option<f64>); 5] = [
    ("app_goroutines_high", "threshold", Some(1.0)),
    ("app_health_checks_fast", "rate", Some(2.0)),
    ("app_response_size_high", "ratio", Some(1.0)),
    ("app_response_size_p99_high", "quantile", Some(50.0)),
    ("app_metrics_gone", "absence", None),
];

/// `text` (a tenant file) with the warning threshold of the recipe named `alert` set to
/// `value`; only the `threshold: "…:warning"` of that recipe's line changes, so the recipe's
/// shape, and with it its rule, stays the same.
pub fn with_recipe_threshold(text: &str, alert: &str, value: f64) -> anyhow::Result<String> {
    let name = format!("name: {alert},");
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if !l.contains(&name) {
                return l.to_string();
            }
            const KEY: &str = "threshold: \"";
            let Some(start) = l.find(KEY).map(|i| i + KEY.len()) else {
                return l.to_string();
            };
            let Some(end) = l[start..].find(":warning\"").map(|i| start + i) else {
                return l.to_string();
            };
            found = true;
            format!("{}{value}{}", &l[..start], &l[end..])
        })
        .collect();
    if !found {
        bail!("no recipe `{alert}` with a `threshold: \"…:warning\"` in the tenant file");
    }
    Ok(lines.join("\n") + "\n")
}

/// Real HTTP requests to one URL at a steady pace in a background thread, until dropped.
struct Traffic {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    fn start(url: String, every: Duration) -> Traffic {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let _ = api::get_status(&url);
                std::thread::sleep(every.saturating_sub(t.elapsed()));
            }
        });
        Traffic {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A PromQL regex matching exactly the recipes' alert names.
fn recipe_alerts_re() -> String {
    RECIPES.map(|(n, _, _)| n).join("|")
}

/// Scenario `recipes`: each custom alert recipe kind fires for the one tenant whose
/// threshold (or absent series) says so, on real application metrics; batch, with the same
/// recipe shapes and thresholds above the live values, and db-b, with the same metrics and no
/// recipe, get nothing.
fn scenario_recipes(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::new();
    let shop_file = ctx.conf("shop");
    let targets_file = crate::up::app_targets_file(&ctx.lab.dir);
    restore.keep(&shop_file)?;
    restore.keep(&targets_file)?;
    let original = fs_err::read_to_string(&shop_file)?;
    let am_addr = ctx
        .lab
        .alertmanager_url
        .trim_start_matches("http://")
        .to_string();
    let re = recipe_alerts_re();
    let health = "alertmanager_http_request_duration_seconds_count{handler=\"/-/healthy\"}";

    // Where every run starts: each tenant's application series in the engine, no recipe
    // alert active, and no traffic of an earlier run left in the recipes' 30 s windows (so
    // the rate, ratio and quantile recipes can only fire from this run's requests).
    ctx.wait_query(
        "the application metrics of shop, batch and db-b",
        &format!(
            "count by(tenant) (alertmanager_build_info{{job=\"{}\"}})",
            crate::up::APP_JOB
        ),
        |r| {
            crate::up::APP_TENANTS.iter().all(|t| {
                r.iter()
                    .any(|s| s.labels.get("tenant").map(String::as_str) == Some(*t))
            })
        },
    )?;
    ctx.wait_query(
        "no recipe alert active and no earlier requests in the 30 s windows",
        &format!("ALERTS{{alertname=~\"{re}\"}} or (sum by(tenant) (rate({health}[30s])) > 0)"),
        |r| r.is_empty(),
    )?;
    let since = chrono::Utc::now().timestamp_millis();
    let run_start = Instant::now();

    // 1. shop's thresholds below the live values; the shapes (and rules) stay the same.
    let mut text = original.clone();
    for (alert, _, v) in RECIPES {
        if let Some(v) = v {
            text = with_recipe_threshold(&text, alert, v)?;
        }
    }
    ctx.say("lower shop's recipe thresholds: goroutines 1, requests/s 2, mean response size 1 B, p99 response size 50 B (batch keeps 10000, 50, 3, 150)");
    let t0 = ctx.write_raw("shop", &text)?;
    ctx.stage("file written", t0);
    ctx.wait_exporters("shop's lowered recipe thresholds", |s| {
        RECIPES.iter().all(|(alert, _, v)| {
            v.is_none()
                || series_value(
                    s,
                    "user_custom_threshold",
                    &[
                        ("tenant", "shop"),
                        ("alert", alert),
                        ("severity", "warning"),
                    ],
                ) == *v
        })
    })?;
    ctx.stage("exporters serving user_custom_threshold", t0);
    ctx.wait_query(
        "the engine to see shop's lowered thresholds",
        "max by(alert) (user_custom_threshold{tenant=\"shop\",severity=\"warning\"})",
        |r| {
            RECIPES.iter().all(|(alert, _, v)| {
                v.is_none_or(|v| {
                    r.iter().any(|s| {
                        s.labels.get("alert").map(String::as_str) == Some(*alert) && s.value == v
                    })
                })
            })
        },
    )?;
    ctx.stage("the engine sees the thresholds", t0);

    // 2. threshold: the live gauge is over shop's threshold at once.
    let (threshold_alert, _, _) = RECIPES[0];
    let shop = [("tenant", "shop"), ("severity", "warning")];
    ctx.wait_alert(threshold_alert, &shop, true)?;
    ctx.stage(
        &format!("`{threshold_alert}` (threshold) firing for shop"),
        t0,
    );
    // Evaluated in the same group with the same served thresholds: without requests there is
    // no rate over 2, no response size (the ratio's zero denominator yields nothing) and no
    // quantile, so these three must not fire yet.
    let early = api::query(
        ctx.prom(),
        &format!(
            "ALERTS{{alertname=~\"{}\"}}",
            RECIPES[1..4]
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join("|")
        ),
    )?;
    ctx.check(
        "rate, ratio and quantile recipes silent before any request",
        early.is_empty(),
        format!("{early:?}"),
    );

    // 3. rate, ratio, quantile: real requests to Alertmanager's `/-/healthy`.
    ctx.say("send 10 requests per second to Alertmanager's `/-/healthy`");
    let t1 = Instant::now();
    let traffic = Traffic::start(
        format!("{}/-/healthy", ctx.lab.alertmanager_url),
        Duration::from_millis(100),
    );
    for (alert, recipe, _) in &RECIPES[1..4] {
        ctx.wait_alert(alert, &shop, true)?;
        ctx.stage(&format!("`{alert}` ({recipe}) firing for shop"), t1);
    }
    for (alert, _, _) in &RECIPES[..4] {
        let n = ctx.wait_notification(since, Some("shop"), alert, &shop, "firing")?;
        ctx.check(
            &format!("`{alert}` reached shop's receiver"),
            n.receiver == "shop",
            n.receiver.clone(),
        );
    }
    ctx.stage("four notifications received at `shop`", t1);

    // 4. absence: shop's and db-b's application targets are dropped; batch's stays. Only
    // shop declared the absence recipe among the two.
    ctx.say("drop shop's and db-b's application targets (batch's stays)");
    let t2 = Instant::now();
    crate::up::write_app_targets(&ctx.lab.dir, &am_addr, &["batch"])?;
    let (absence_alert, _, _) = RECIPES[4];
    ctx.wait_alert(absence_alert, &shop, true)?;
    ctx.stage(&format!("`{absence_alert}` (absence) firing for shop"), t2);
    let n = ctx.wait_notification(since, Some("shop"), absence_alert, &shop, "firing")?;
    ctx.stage("notification received at `shop`", t2);
    ctx.check(
        &format!("`{absence_alert}` reached shop's receiver"),
        n.receiver == "shop",
        n.receiver.clone(),
    );
    // The liveness pack sees the same vanished targets on its own, for shop and db-b alike
    // (a tenant's scrape job whose targets disappeared): the platform's alert, not a recipe.
    let missing = format!(
        "ALERTS{{alertname=\"TenantExporterMissing\",job=\"{}\",alertstate=\"firing\"}}",
        crate::up::APP_JOB
    );
    let tenants_of = |r: &[api::Sample]| -> Vec<String> {
        let mut t: Vec<String> = r
            .iter()
            .filter_map(|s| s.labels.get("tenant").cloned())
            .collect();
        t.sort();
        t
    };
    let seen = ctx
        .wait_query(
            "the liveness pack's TenantExporterMissing for shop and db-b",
            &missing,
            |r| tenants_of(r) == ["db-b", "shop"],
        )
        .map(|r| tenants_of(&r));
    ctx.check(
        "the liveness pack reports the vanished application targets of shop and db-b only",
        seen.is_ok(),
        format!("{seen:?}"),
    );

    // 5. Nobody else: over the whole run (from the instant no recipe alert was active) no
    // recipe alert of another tenant was pending or firing in the engine, and no receiver but
    // shop's got a recipe alert.
    let secs = run_start.elapsed().as_secs() + 1;
    let others = api::query(
        ctx.prom(),
        &format!("count_over_time(ALERTS{{alertname=~\"{re}\",tenant!=\"shop\"}}[{secs}s])"),
    )?;
    ctx.check(
        "no recipe alert for batch, db-b or any other tenant during the run",
        others.is_empty(),
        format!("{others:?}"),
    );
    let names: Vec<&str> = RECIPES.iter().map(|(n, _, _)| *n).collect();
    let elsewhere: Vec<String> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|n| {
            n.alerts.iter().any(|a| {
                a.labels
                    .get("alertname")
                    .is_some_and(|x| names.contains(&x.as_str()))
                    && (n.receiver != "shop"
                        || a.labels.get("tenant").map(String::as_str) != Some("shop"))
            })
        })
        .map(|n| n.receiver)
        .collect();
    ctx.check(
        "recipe alerts reached shop's receiver only",
        elsewhere.is_empty(),
        format!("also at {elsewhere:?}"),
    );
    let unarmed = api::query(ctx.prom(), "ALERTS{alertname=\"CustomAlertUnarmed\"}")?;
    ctx.check(
        "every served recipe shape is covered by a loaded rule (no CustomAlertUnarmed)",
        unarmed.is_empty(),
        format!("{unarmed:?}"),
    );

    // 6. Undo: no traffic, shop's thresholds and the targets back; every recipe alert ends.
    drop(traffic);
    drop(restore);
    let t3 = Instant::now();
    ctx.wait_exporters("shop's original recipe thresholds", |s| {
        series_value(
            s,
            "user_custom_threshold",
            &[
                ("tenant", "shop"),
                ("alert", threshold_alert),
                ("severity", "warning"),
            ],
        ) == Some(10000.0)
    })?;
    ctx.wait_query(
        "every recipe alert resolved",
        &format!("ALERTS{{alertname=~\"{re}\"}}"),
        |r| r.is_empty(),
    )?;
    ctx.stage("all recipe alerts resolved", t3);
    // The next scenario starts clean: the liveness alerts resolved and their resolved
    // notifications delivered.
    ctx.wait_query("TenantExporterMissing resolved", &missing, |r| r.is_empty())?;
    for t in ["shop", "db-b"] {
        ctx.wait_notification(
            since,
            Some(t),
            "TenantExporterMissing",
            &[("tenant", t)],
            "resolved",
        )?;
    }
    ctx.stage("TenantExporterMissing resolved and notified", t3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab_conf() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab")
    }

    fn sink_alert(
        severity: &str,
        tier: Option<&str>,
        status: &str,
        starts_at: &str,
    ) -> sink::SinkAlert {
        let mut labels: BTreeMap<String, String> = [
            ("alertname", "MariaDBHighConnections"),
            ("tenant", "db-a"),
            ("severity", severity),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(t) = tier {
            labels.insert("tier".into(), t.into());
        }
        sink::SinkAlert {
            status: status.into(),
            labels,
            starts_at: starts_at.into(),
            ends_at: String::new(),
        }
    }

    /// The notifications of a VictoriaMetrics run of scenario D (sink records, times shortened):
    /// the group still held scenario A's resolved warning, the warning first fired without
    /// `tier`, the critical came an evaluation later with it.
    #[test]
    fn first_started_skips_earlier_episodes_and_sees_a_changed_label_set() {
        let n = |receiver: &str, alerts: Vec<sink::SinkAlert>| Notification {
            received_at: String::new(),
            received_ms: 0,
            receiver: receiver.into(),
            status: "firing".into(),
            am_receiver: String::new(),
            alerts,
        };
        let ns = vec![
            n(
                "db-a",
                vec![
                    sink_alert("warning", None, "firing", "2026-11-30T05:56:42.072816923Z"),
                    sink_alert(
                        "warning",
                        Some("vip"),
                        "resolved",
                        "2026-11-30T05:55:57.072Z",
                    ),
                ],
            ),
            n(
                "db-a",
                vec![sink_alert(
                    "critical",
                    Some("vip"),
                    "firing",
                    "2026-11-30T05:56:47.072Z",
                )],
            ),
            n(
                "noc",
                vec![
                    sink_alert("critical", None, "resolved", "2026-11-30T05:56:52.072Z"),
                    sink_alert(
                        "critical",
                        Some("vip"),
                        "firing",
                        "2026-11-30T05:56:47.072Z",
                    ),
                ],
            ),
        ];
        let since = chrono::DateTime::parse_from_rfc3339("2026-11-30T05:56:30Z")
            .unwrap()
            .timestamp_millis();
        let ms = |l: &[(&str, &str)]| {
            first_started(&ns, since, "MariaDBHighConnections", l).map(|t| t.timestamp_millis())
        };
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        // Scenario A's warning (05:55:57, before `since`) does not count; the tier-less one does.
        assert_eq!(
            ms(&[("tenant", "db-a"), ("severity", "warning")]),
            Some(at("2026-11-30T05:56:42.072Z"))
        );
        assert_eq!(
            ms(&[("tenant", "db-a"), ("severity", "critical")]),
            Some(at("2026-11-30T05:56:47.072Z"))
        );
        assert_eq!(ms(&[("tenant", "db-b")]), None);
        assert_eq!(
            first_started(
                &ns,
                at("2026-11-30T05:57:00Z"),
                "MariaDBHighConnections",
                &[]
            ),
            None
        );
    }

    /// The lab's tenant files compiled as `dynalert rules recipes` does: shop and batch share
    /// one rule per recipe (the same shapes), db-b declares none, and the scenario's lowered
    /// thresholds change shop's served values only, never a shape (a changed shape would need
    /// new rules, and the scenario would wait on an alert no loaded rule can raise).
    #[test]
    fn scenario_thresholds_keep_the_lab_recipe_shapes() {
        let now = chrono::Utc::now();
        let report = dynalert_config::load_dir(lab_conf(), now).unwrap();
        assert!(report.platform_valid);
        assert!(report.tenant_valid.values().all(|ok| *ok), "{report:?}");
        let shapes = dynalert_rules::shapes_of(&report.config);
        let names: std::collections::BTreeSet<&str> =
            shapes.iter().map(|s| s.name.as_str()).collect();
        let want: std::collections::BTreeSet<&str> = RECIPES.iter().map(|r| r.0).collect();
        assert_eq!(names, want);
        assert_eq!(shapes.len(), RECIPES.len(), "one shape per recipe, shared");
        for (name, recipe, _) in RECIPES {
            let s = shapes.iter().find(|s| s.name == name).unwrap();
            assert_eq!(s.kind.as_str(), recipe, "{name}");
        }
        macro_rules! shapes_of_tenant {
            ($cfg:expr, $t:expr) => {
                $cfg.tenants[$t]
                    .custom_alerts
                    .iter()
                    .map(|a| a.shape.clone())
                    .collect::<Vec<_>>()
            };
        }
        assert_eq!(
            shapes_of_tenant!(report.config, "shop"),
            shapes_of_tenant!(report.config, "batch")
        );
        assert!(report.config.tenants["db-b"].custom_alerts.is_empty());

        // shop's file with the scenario's thresholds, in a copy of the conf.d.
        let dir = std::env::temp_dir().join(format!("dynalert-lab-recipes-{}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(&dir).unwrap();
        for e in fs_err::read_dir(lab_conf()).unwrap() {
            let e = e.unwrap();
            fs_err::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
        let mut text = fs_err::read_to_string(dir.join("shop.yaml")).unwrap();
        for (alert, _, v) in RECIPES {
            if let Some(v) = v {
                text = with_recipe_threshold(&text, alert, v).unwrap();
            }
        }
        fs_err::write(dir.join("shop.yaml"), &text).unwrap();
        let lowered = dynalert_config::load_dir(&dir, now).unwrap();
        let _ = fs_err::remove_dir_all(&dir);
        assert!(lowered.tenant_valid.values().all(|ok| *ok), "{lowered:?}");
        assert_eq!(dynalert_rules::shapes_of(&lowered.config), shapes);
        assert_eq!(
            shapes_of_tenant!(lowered.config, "shop"),
            shapes_of_tenant!(report.config, "shop")
        );
        assert_ne!(
            lowered.config.tenants["shop"].custom_alerts,
            report.config.tenants["shop"].custom_alerts,
            "the thresholds changed"
        );
    }

    #[test]
    fn recipe_threshold_rewrite_touches_one_recipe() {
        let text = "x:\n  - {recipe: rate, name: a_fast, metric: m, op: \">\", window: 30s, threshold: \"50:warning\"}\n  - {recipe: rate, name: a_fast_too, metric: m, op: \">\", window: 30s, threshold: \"50:warning\"}\n";
        let out = with_recipe_threshold(text, "a_fast", 2.0).unwrap();
        assert_eq!(
            out,
            "x:\n  - {recipe: rate, name: a_fast, metric: m, op: \">\", window: 30s, threshold: \"2:warning\"}\n  - {recipe: rate, name: a_fast_too, metric: m, op: \">\", window: 30s, threshold: \"50:warning\"}\n"
        );
        let err = with_recipe_threshold(text, "missing", 1.0).unwrap_err();
        assert!(err.to_string().contains("no recipe `missing`"), "{err}");
    }
}
