//! Scenario D: routing by tier and severity, inhibition, silent mode and maintenance.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};

use super::harness::{
    firing_active_at, has_alert, is_alert, now_ms, threshold_is, Ctx, Restore, DB_A_FILE,
    DB_B_FILE, HIGH_CONNECTIONS,
};
use super::WAIT;
use crate::api;
use crate::process::wait_for;
use crate::sink::Notification;

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

/// db-a's file of this scenario, its running-threads critical at `running_critical`.
fn db_a(ctx: &Ctx, running_critical: f64) -> anyhow::Result<String> {
    let vars = [
        ("connections_warning", 5.0),
        ("connections_critical", 10.0),
        ("running_warning", 5.0),
        ("running_critical", running_critical),
    ];
    ctx.fixture(DB_A_FILE, &vars)
}

/// Scenario D: routing by tier and severity, inhibition, silent mode, maintenance.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
    restore.keep(&ctx.conf("db-a"))?;
    restore.keep(&ctx.conf("db-b"))?;
    ctx.say("open 15 real connections running SELECT SLEEP on db-a, 4 on db-b");
    restore.load(ctx, "db-a", 15)?;
    restore.load(ctx, "db-b", 4)?;
    ctx.wait_some(
        "Prometheus to see db-a's running threads",
        "tenant:mysql_threads_running:max{tenant=\"db-a\"} >= 15",
    )?;
    ctx.wait_some(
        "Prometheus to see db-b's connections",
        "tenant:mysql_threads_connected:max{tenant=\"db-b\"} >= 4",
    )?;

    ctx.say("db-a (vip): connections warning 5 / critical 10, running threads warning 5; db-b (standard): connections warning 2");
    let since = now_ms();
    let t0 = ctx.write_tenant("db-a", &db_a(ctx, 80.0)?)?;
    let db_b = ctx.fixture(DB_B_FILE, &[])?;
    ctx.write_tenant("db-b", &db_b)?;
    ctx.stage("files written", t0);
    ctx.wait_exporters("the new thresholds", |s| {
        threshold_is(s, "db-a", "critical", 10.0) && threshold_is(s, "db-b", "warning", 2.0)
    })?;
    ctx.stage("exporters serving the new thresholds", t0);
    let a_any = [("tenant", "db-a")];
    let a_crit = [("tenant", "db-a"), ("severity", "critical")];
    let a_warn = [("tenant", "db-a"), ("severity", "warning")];
    let b_warn = [("tenant", "db-b"), ("severity", "warning")];
    ctx.wait_alert(HIGH_CONNECTIONS, &a_crit, true)?;
    ctx.wait_alert("MariaDBSystemBottleneck", &a_any, true)?;
    ctx.wait_alert(HIGH_CONNECTIONS, &b_warn, true)?;
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
    ctx.wait_alert(HIGH_CONNECTIONS, &a_warn, true)?;
    let active = |ctx: &Ctx, l: &[(&str, &str)]| -> anyhow::Result<DateTime<FixedOffset>> {
        let s = firing_active_at(ctx, HIGH_CONNECTIONS, l)?;
        DateTime::parse_from_rfc3339(&s).with_context(|| format!("cannot read activeAt `{s}`"))
    };
    let crit_active = active(ctx, &a_crit)?;
    let warn_active = active(ctx, &a_warn)?;
    let mut missing: Vec<String> = ["vip-pager", "noc", "db-a"]
        .into_iter()
        .filter_map(|r| {
            ctx.wait_notification(since, Some(r), HIGH_CONNECTIONS, &a_crit, "firing")
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    let bottleneck = "MariaDBSystemBottleneck";
    if let Err(e) = ctx.wait_notification(since, Some("vip-pager"), bottleneck, &a_any, "firing") {
        missing.push(e.to_string());
    }
    ctx.stage("db-a's critical received at vip-pager, noc and db-a", t0);
    ctx.check(
        "VIP critical reached vip-pager, noc and db-a",
        missing.is_empty(),
        missing.join("; "),
    );
    ctx.wait_notification(since, Some("db-b"), HIGH_CONNECTIONS, &b_warn, "firing")?;
    ctx.stage("db-b's warning received at db-b", t0);
    // Inhibition: db-a's warning of the same alert is suppressed by its critical.
    let am = ctx.lab.alertmanager_url.clone();
    let inhibited = wait_for(
        "db-a's warning to be inhibited in Alertmanager",
        WAIT,
        || {
            let alerts = api::am_alerts(&am)?;
            Ok(alerts.into_iter().find(|a| {
                is_alert(&a.labels, HIGH_CONNECTIONS, &a_warn)
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
    let first = |l: &[(&str, &str)], now: DateTime<FixedOffset>| {
        first_started(&after, since, HIGH_CONNECTIONS, l).map_or(now, |t| t.min(now))
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
        .filter(|n| has_alert(n, HIGH_CONNECTIONS, &a_warn, "firing"))
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
        .filter(|n| n.receiver != "db-b" && has_alert(n, HIGH_CONNECTIONS, &b_warn, "firing"))
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
    let silent = format!(
        "{db_b}    _silent_mode: {{target: warning, expires: \"{expires}\", reason: \"lab scenario d\"}}\n"
    );
    let t1 = ctx.write_tenant("db-b", &silent)?;
    ctx.stage("file written", t1);
    regenerate_alertmanager(ctx)?;
    ctx.stage("Alertmanager configuration regenerated and reloaded", t1);
    let silent_since = now_ms();
    ctx.wait_alert("TenantSilentModeActive", &[("tenant", "db-b")], true)?;
    ctx.stage("TenantSilentModeActive firing", t1);

    // Maintenance for db-a: its alerts keep firing (no RESOLVED), its own receiver is
    // muted, and a new critical still reaches the NOC copy and the VIP pager.
    ctx.say("db-a: maintenance for one hour, running-threads critical lowered to 10");
    let since = now_ms();
    let maintenance = format!(
        "{}    _state_maintenance: {{expires: \"{expires}\", reason: \"lab scenario d\"}}\n",
        db_a(ctx, 10.0)?
    );
    let t2 = ctx.write_tenant("db-a", &maintenance)?;
    ctx.stage("file written", t2);
    regenerate_alertmanager(ctx)?;
    let running = "MariaDBHighThreadsRunning";
    ctx.wait_alert(running, &a_crit, true)?;
    for r in ["noc", "vip-pager"] {
        ctx.wait_notification(since, Some(r), running, &a_crit, "firing")?;
    }
    ctx.stage("new critical received at noc and vip-pager", t2);
    ctx.wait_alert(HIGH_CONNECTIONS, &a_crit, true)?;
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
        .filter(|n| has_alert(n, HIGH_CONNECTIONS, &a_crit, "resolved"))
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
    ctx.wait_alert(HIGH_CONNECTIONS, &[("tenant", "db-b")], false)?;
    ctx.wait_alert("TenantSilentModeActive", &[("tenant", "db-b")], false)?;
    ctx.stage("restored", t3);
    Ok(())
}

/// The earliest `startsAt` from `since_ms` on of `alertname` with these labels, firing or
/// resolved, in any of the notifications `ns` (they also carry resolved alerts of earlier
/// episodes, which started before).
fn first_started(
    ns: &[Notification],
    since_ms: i64,
    alertname: &str,
    labels: &[(&str, &str)],
) -> Option<DateTime<FixedOffset>> {
    ns.iter()
        .flat_map(|n| n.alerts.iter())
        .filter(|a| is_alert(&a.labels, alertname, labels))
        .filter_map(|a| DateTime::parse_from_rfc3339(&a.starts_at).ok())
        .filter(|t| t.timestamp_millis() >= since_ms)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::SinkAlert;

    /// An instant of 2026-11-30 (`05:56:42.072`), in milliseconds.
    fn at(time: &str) -> i64 {
        let t = DateTime::parse_from_rfc3339(&format!("2026-11-30T{time}Z"));
        t.unwrap().timestamp_millis()
    }

    /// db-a's `MariaDBHighConnections` at `severity`, with `tier` if any, started at `time`
    /// of 2026-11-30.
    fn alert(severity: &str, tier: Option<&str>, status: &str, time: &str) -> SinkAlert {
        let mut labels = [("alertname", HIGH_CONNECTIONS), ("tenant", "db-a")].to_vec();
        labels.push(("severity", severity));
        labels.extend(tier.map(|t| ("tier", t)));
        SinkAlert {
            status: status.into(),
            labels: (labels.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            starts_at: format!("2026-11-30T{time}Z"),
            ends_at: String::new(),
        }
    }

    /// The notifications of a VictoriaMetrics run of scenario D (sink records, times shortened):
    /// the group still held scenario A's resolved warning, the warning first fired without
    /// `tier`, the critical came an evaluation later with it.
    #[test]
    fn first_started_skips_earlier_episodes_and_sees_a_changed_label_set() {
        let n = |receiver: &str, alerts: Vec<SinkAlert>| Notification {
            received_at: String::new(),
            received_ms: 0,
            receiver: receiver.into(),
            status: "firing".into(),
            am_receiver: String::new(),
            alerts,
        };
        let (vip, firing, resolved) = (Some("vip"), "firing", "resolved");
        let ns = vec![
            n(
                "db-a",
                vec![
                    alert("warning", None, firing, "05:56:42.072816923"),
                    alert("warning", vip, resolved, "05:55:57.072"),
                ],
            ),
            n("db-a", vec![alert("critical", vip, firing, "05:56:47.072")]),
            n(
                "noc",
                vec![
                    alert("critical", None, resolved, "05:56:52.072"),
                    alert("critical", vip, firing, "05:56:47.072"),
                ],
            ),
        ];
        let ms = |l: &[(&str, &str)]| {
            first_started(&ns, at("05:56:30"), HIGH_CONNECTIONS, l).map(|t| t.timestamp_millis())
        };
        // Scenario A's warning (05:55:57, before `since`) does not count; the tier-less one does.
        let warning = ms(&[("tenant", "db-a"), ("severity", "warning")]);
        assert_eq!(warning, Some(at("05:56:42.072")));
        let critical = ms(&[("tenant", "db-a"), ("severity", "critical")]);
        assert_eq!(critical, Some(at("05:56:47.072")));
        assert_eq!(ms(&[("tenant", "db-b")]), None);
        assert_eq!(
            first_started(&ns, at("05:57:00"), HIGH_CONNECTIONS, &[]),
            None
        );
    }
}
