//! What every scenario works with: the context that records actions, stages and checks, the
//! guard that undoes a scenario's changes, waits on the exporters, the engine, Alertmanager
//! and the webhook sink, and the queries on what they report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{Check, Outcome, Stage, WAIT};
use crate::api::{self, Labels, Line};
use crate::load::Load;
use crate::process::{self, wait_for};
use crate::sim::PodSpec;
use crate::sink::{self, Notification};
use crate::state::{LabState, Part};

/// What a scenario works with.
pub struct Ctx<'a> {
    pub lab: LabState,
    pub mariadb: PathBuf,
    pub(super) progress: &'a mut dyn FnMut(&str),
    pub(super) start: Instant,
    pub(super) start_ms: i64,
    pub(super) out: Outcome,
}

impl Ctx<'_> {
    pub(super) fn say(&mut self, msg: &str) {
        self.out.actions.push(msg.to_string());
        (self.progress)(&format!("  {msg}"));
    }

    pub(super) fn stage(&mut self, name: &str, since: Instant) -> f64 {
        let s = since.elapsed().as_secs_f64();
        self.out.stages.push(Stage {
            name: name.to_string(),
            seconds: (s * 10.0).round() / 10.0,
        });
        (self.progress)(&format!("    {:>6.1}s  {name}", s));
        s
    }

    pub(super) fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        let detail = detail.into();
        let (mark, why) = if ok {
            ("ok", String::new())
        } else {
            ("FAIL", format!(": {detail}"))
        };
        (self.progress)(&format!("    [{mark}] {name}{why}"));
        self.out.checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
        });
    }

    pub(super) fn prom(&self) -> &str {
        &self.lab.prometheus_url
    }

    pub(super) fn conf(&self, tenant: &str) -> PathBuf {
        self.lab.conf_dir.join(format!("{tenant}.yaml"))
    }

    pub(super) fn sink_file(&self) -> PathBuf {
        self.lab.dir.join("sink/notifications.jsonl")
    }

    pub(super) fn notifications_since(&self, ms: i64) -> Vec<Notification> {
        sink::read_all(&self.sink_file())
            .into_iter()
            .filter(|n| n.received_ms >= ms)
            .collect()
    }

    /// The tenant-wide `mysql_connections` threshold the first exporter replica serves now.
    pub(super) fn served_threshold(
        &self,
        tenant: &str,
        severity: &str,
    ) -> anyhow::Result<Option<f64>> {
        let text = api::get_text(&format!("{}/metrics", self.lab.exporter_urls[0]))?;
        let series = api::parse_exposition(&text)?;
        Ok(threshold_value(&series, tenant, severity))
    }

    pub(super) fn live_exporters(&self) -> Vec<String> {
        self.lab
            .parts
            .iter()
            .filter(|p| p.name.starts_with("threshold-exporter") && process::is_alive(p))
            .filter_map(|p| p.url.clone())
            .collect()
    }

    /// A tenant file from `fixtures/` with `${scenario}`, `${sink}` and each of `vars` filled
    /// in.
    pub(super) fn fixture(&self, template: &str, vars: &[(&str, f64)]) -> anyhow::Result<String> {
        let mut all = vec![("scenario", self.out.scenario.clone())];
        all.push(("sink", self.lab.sink_url.clone()));
        all.extend(vars.iter().map(|(k, v)| (*k, v.to_string())));
        fill(template, &all)
    }

    /// Writes a tenant file atomically (a dot-named temporary file the exporter ignores).
    pub(super) fn write_tenant(&mut self, tenant: &str, text: &str) -> anyhow::Result<Instant> {
        let tmp = self.lab.conf_dir.join(format!(".{tenant}.yaml.tmp"));
        fs_err::write(&tmp, text)?;
        fs_err::rename(&tmp, self.conf(tenant))?;
        Ok(Instant::now())
    }

    /// The engine's answer to the instant query `expr`.
    pub(super) fn query(&self, expr: &str) -> anyhow::Result<Vec<api::Sample>> {
        api::query(self.prom(), expr)
    }

    /// Waits until the engine answers `expr` with at least one series.
    pub(super) fn wait_some(&self, what: &str, expr: &str) -> anyhow::Result<()> {
        self.wait_query(what, expr, |r| !r.is_empty()).map(drop)
    }

    /// Waits until every live exporter replica serves a series matching `pred`.
    pub(super) fn wait_exporters(
        &mut self,
        what: &str,
        pred: impl Fn(&[Line]) -> bool,
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

    pub(super) fn wait_query(
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

    pub(super) fn wait_alert(
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

    pub(super) fn wait_notification(
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

/// The alert on a tenant's MariaDB connections, the one most scenarios watch.
pub(super) const HIGH_CONNECTIONS: &str = "MariaDBHighConnections";

/// `template` with each `${name}` of `vars` replaced by its value; an error names a
/// placeholder left over.
pub(super) fn fill(template: &str, vars: &[(&str, String)]) -> anyhow::Result<String> {
    let mut text = template.to_string();
    for (k, v) in vars {
        text = text.replace(&format!("${{{k}}}"), v);
    }
    match text.find("${") {
        Some(i) => {
            let name = text[i..].split_inclusive('}').next().unwrap_or_default();
            bail!("fixture placeholder `{name}` not filled in")
        }
        None => Ok(text),
    }
}

/// db-a's tenant file with its four MariaDB thresholds as placeholders.
pub(super) const DB_A_FILE: &str = include_str!("../../fixtures/db-a.yaml");
/// db-a's tenant file with its connections warning at 5 and no running-threads threshold.
const DB_A_WARNING_FILE: &str = include_str!("../../fixtures/db-a-warning.yaml");
/// db-b's tenant file with its connections threshold at 2.
pub(super) const DB_B_FILE: &str = include_str!("../../fixtures/db-b.yaml");
/// db-a's tenant file with a typo in a key and a non-numeric value.
pub(super) const DB_A_BROKEN_FILE: &str = include_str!("../../fixtures/db-a-broken.yaml");

/// db-a's recorded `mysql_connections` warning threshold.
pub(super) const DB_A_WARNING: &str =
    "tenant:alert_threshold:mysql_connections{tenant=\"db-a\",severity=\"warning\"}";

/// Now, in milliseconds since the epoch (the sink's `received_ms`).
pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn selector(alertname: &str, labels: &[(&str, &str)]) -> String {
    let mut parts = vec![format!("alertname=\"{alertname}\"")];
    parts.extend(labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
    parts.join(",")
}

fn fmt_labels(labels: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(","))
}

/// Whether the label set `l` has each of `want`.
pub(super) fn has_labels(l: &Labels, want: &[(&str, &str)]) -> bool {
    want.iter()
        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
}

/// Whether the label set `l` is of `alertname` and has each of `labels`.
pub(super) fn is_alert(l: &Labels, alertname: &str, labels: &[(&str, &str)]) -> bool {
    l.get("alertname").map(String::as_str) == Some(alertname) && has_labels(l, labels)
}

/// Whether `n` carries `alertname` with these labels in `status` (`firing`/`resolved`).
pub fn has_alert(n: &Notification, alertname: &str, labels: &[(&str, &str)], status: &str) -> bool {
    n.alerts
        .iter()
        .any(|a| a.status == status && is_alert(&a.labels, alertname, labels))
}

/// Whether `series` has `tenant`'s `mysql_connections` threshold at `severity` at `value`.
pub(super) fn threshold_is(series: &[Line], tenant: &str, severity: &str, value: f64) -> bool {
    threshold_value(series, tenant, severity) == Some(value)
}

/// The tenant-wide `user_threshold` of a tenant's `mysql_connections` at `severity` in an
/// exposition.
fn threshold_value(series: &[Line], tenant: &str, severity: &str) -> Option<f64> {
    let want = [
        ("tenant", tenant),
        ("component", "mysql"),
        ("metric", "connections"),
        ("severity", severity),
    ];
    series
        .iter()
        .find(|(n, l, _)| {
            n == "user_threshold" && has_labels(l, &want) && !l.contains_key("container")
        })
        .map(|(_, _, v)| *v)
}

/// The value of the first series `name` with these labels in an exposition.
pub(super) fn series_value(series: &[Line], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    series
        .iter()
        .find(|(n, l, _)| n == name && has_labels(l, labels))
        .map(|(_, _, v)| *v)
}

/// Restores tenant files and simulated pods, and ends database load, when dropped.
#[derive(Default)]
pub(super) struct Restore {
    files: Vec<(PathBuf, String)>,
    pub(super) sim_url: Option<String>,
    pub(super) loads: Vec<Load>,
}

impl Restore {
    pub(super) fn keep(&mut self, path: &Path) -> anyhow::Result<()> {
        if !self.files.iter().any(|(p, _)| p == path) {
            self.files
                .push((path.to_path_buf(), fs_err::read_to_string(path)?));
        }
        Ok(())
    }
    /// Opens `n` client connections to `tenant`'s MariaDB, held until the guard drops.
    pub(super) fn load(&mut self, ctx: &Ctx, tenant: &str, n: usize) -> anyhow::Result<()> {
        let db = ctx.lab.database(tenant);
        let db = db.with_context(|| format!("no database for `{tenant}` in the lab"))?;
        self.loads
            .push(Load::open(&ctx.mariadb, &db.socket, n, WAIT)?);
        Ok(())
    }

    pub(super) fn restore_files(&mut self) {
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

pub(super) fn put_pod(ctx: &Ctx, pod: &PodSpec) -> anyhow::Result<()> {
    api::send_json(
        "PUT",
        &format!(
            "{}/api/pods/{}/{}",
            ctx.lab.kubernetes_sim_url, pod.namespace, pod.name
        ),
        pod,
    )
}

/// Starts from a quiet db-a, opens 15 connections and lowers its connections warning to 5,
/// then waits for the warning to fire with db-a's metadata joined. Returns the alert's
/// labels; `restore` puts the file and the load back.
pub(super) fn fire_db_a_warning(
    ctx: &mut Ctx,
    restore: &mut Restore,
) -> anyhow::Result<[(&'static str, &'static str); 3]> {
    // An alert still firing from the previous scenario (its files restored a moment ago)
    // would be taken for this one and then resolve.
    ctx.wait_alert(HIGH_CONNECTIONS, &[("tenant", "db-a")], false)?;
    restore.keep(&ctx.conf("db-a"))?;
    ctx.say("open 15 connections to db-a and lower its connections warning to 5");
    restore.load(ctx, "db-a", 15)?;
    let text = ctx.fixture(DB_A_WARNING_FILE, &[])?;
    let t0 = ctx.write_tenant("db-a", &text)?;
    // With its metadata joined (tier from db-a's file): on VictoriaMetrics a changed
    // `tenant:metadata:info` series becomes searchable an evaluation later, and until then
    // the alert fires without it and then changes label set (docs/scaling.md).
    let labels = [("tenant", "db-a"), ("severity", "warning"), ("tier", "vip")];
    ctx.wait_alert(HIGH_CONNECTIONS, &labels, true)?;
    ctx.stage("alert firing", t0);
    Ok(labels)
}

/// The `activeAt` of the firing `alertname` with these labels.
pub(super) fn firing_active_at(
    ctx: &Ctx,
    alertname: &str,
    labels: &[(&str, &str)],
) -> anyhow::Result<String> {
    firing_alerts(ctx.prom())?
        .into_iter()
        .find(|(l, _)| is_alert(l, alertname, labels))
        .map(|(_, at)| at)
        .with_context(|| format!("`{alertname}` {} is not firing", fmt_labels(labels)))
}

/// Firing alerts (label set → `activeAt`) from `/api/v1/alerts`.
pub(super) fn firing_alerts(prom: &str) -> anyhow::Result<BTreeMap<Labels, String>> {
    let v = api::get_json(&format!("{prom}/api/v1/alerts"))?;
    Ok(v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["state"] == "firing")
        .map(|a| {
            let labels = serde_json::from_value(a["labels"].clone()).unwrap_or_default();
            let at = a["activeAt"].as_str().unwrap_or_default().to_string();
            (labels, at)
        })
        .collect())
}

/// After a part was killed under the firing db-a warning `labels` (active since
/// `active_at`): checks that db-a's recorded warning threshold stayed 5 over the last
/// `window` seconds (check `name`) and that the alert still fires since `active_at`.
pub(super) fn check_alert_held(
    ctx: &mut Ctx,
    name: &str,
    window: u64,
    labels: &[(&str, &str)],
    active_at: &str,
) -> anyhow::Result<()> {
    let over = |f: &str| -> anyhow::Result<Option<f64>> {
        let r = ctx.query(&format!("{f}_over_time({DB_A_WARNING}[{window}s])"))?;
        Ok(r.first().map(|s| s.value))
    };
    let (mx, mn) = (over("max")?, over("min")?);
    ctx.check(
        name,
        mx == Some(5.0) && mn == Some(5.0),
        format!("min {mn:?}, max {mx:?} over {window}s"),
    );
    let still = firing_active_at(ctx, HIGH_CONNECTIONS, labels);
    ctx.check(
        "the alert stayed firing (same activeAt)",
        still.as_deref().ok() == Some(active_at),
        format!("before {active_at}, now {still:?}"),
    );
    Ok(())
}

/// Kills `victim` at once (`kill -9`), then records the stage `stage`; when, as the sink's
/// `received_ms` and as an instant.
pub(super) fn kill(ctx: &mut Ctx, victim: &Part, stage: &str) -> (i64, Instant) {
    ctx.say(&format!("kill -9 {} (pid {})", victim.name, victim.pid));
    let (since, t) = (now_ms(), Instant::now());
    process::kill_now(victim);
    ctx.stage(stage, t);
    (since, t)
}

/// Starts the killed part `name` again and waits until its `path` answers 200 (`what`).
pub(super) fn restart(ctx: &mut Ctx, name: &str, path: &str, what: &str) -> anyhow::Result<()> {
    crate::up::restart(&mut ctx.lab, name)?;
    let url = ctx.lab.part(name).and_then(|p| p.url.clone());
    let url = format!("{}{path}", url.unwrap_or_default());
    wait_for(what, WAIT, || {
        Ok((api::get_status(&url).ok() == Some(200)).then_some(()))
    })
}

/// When the rule group holding the alerting rule `alertname` was last evaluated (vmalert's or
/// Prometheus' `/api/v1/rules`); an error naming the rule when no group holds it.
pub(super) fn group_last_evaluation(
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Each fixture, filled in as the scenarios fill it, is a tenant file the configuration
    /// loader accepts next to the lab's other files, except the broken one, which it rejects.
    #[test]
    fn fixtures_are_the_tenant_files_they_stand_for() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab");
        for e in fs_err::read_dir(lab).unwrap() {
            let e = e.unwrap();
            fs_err::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
        const SINK: &str = "http://127.0.0.1:5001";
        let vars = |nums: &[(&'static str, f64)]| {
            let mut v = vec![("scenario", "test".to_string()), ("sink", SINK.to_string())];
            v.extend(nums.iter().map(|(k, n)| (*k, n.to_string())));
            v
        };
        let db_a = vars(&[
            ("connections_warning", 5.0),
            ("connections_critical", 10.0),
            ("running_warning", 5.0),
            ("running_critical", 80.0),
        ]);
        for (tenant, template, vars, valid) in [
            ("db-a", DB_A_FILE, db_a.clone(), true),
            ("db-a", DB_A_WARNING_FILE, vars(&[]), true),
            ("db-b", DB_B_FILE, vars(&[]), true),
            ("db-a", DB_A_BROKEN_FILE, vars(&[]), false),
        ] {
            let text = fill(template, &vars).unwrap();
            fs_err::write(dir.path().join(format!("{tenant}.yaml")), &text).unwrap();
            let report = dynalert_config::load_dir(dir.path(), chrono::Utc::now()).unwrap();
            assert_eq!(
                report.tenant_valid[tenant], valid,
                "{text}{:?}",
                report.diagnostics
            );
        }
        let without = [&db_a[..2], &db_a[3..]].concat();
        let err = fill(DB_A_FILE, &without).unwrap_err().to_string();
        assert!(err.contains("`${connections_warning}`"), "{err}");
    }
}
