//! Scenario `recipes`: each kind of custom alert recipe fires for one tenant only.

use std::time::{Duration, Instant};

use anyhow::bail;

use super::harness::{has_labels, now_ms, series_value, Ctx, Restore};
use crate::api;

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

/// shop's served warning threshold of the recipe `alert`, in an exposition.
fn shop_threshold(series: &[crate::api::Line], alert: &str) -> Option<f64> {
    let labels = [
        ("tenant", "shop"),
        ("alert", alert),
        ("severity", "warning"),
    ];
    series_value(series, "user_custom_threshold", &labels)
}

/// A PromQL regex matching exactly the recipes' alert names.
fn recipe_alerts_re() -> String {
    RECIPES.map(|(n, _, _)| n).join("|")
}

/// Scenario `recipes`: each custom alert recipe kind fires for the one tenant whose
/// threshold (or absent series) says so, on real application metrics; batch, with the same
/// recipe shapes and thresholds above the live values, and db-b, with the same metrics and no
/// recipe, get nothing.
pub(super) fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut restore = Restore::default();
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
            crate::up::APP_TENANTS
                .iter()
                .all(|t| r.iter().any(|s| has_labels(&s.labels, &[("tenant", t)])))
        },
    )?;
    ctx.wait_query(
        "no recipe alert active and no earlier requests in the 30 s windows",
        &format!("ALERTS{{alertname=~\"{re}\"}} or (sum by(tenant) (rate({health}[30s])) > 0)"),
        |r| r.is_empty(),
    )?;
    let since = now_ms();
    let run_start = Instant::now();

    // 1. shop's thresholds below the live values; the shapes (and rules) stay the same.
    let mut text = original.clone();
    for (alert, _, v) in RECIPES {
        if let Some(v) = v {
            text = with_recipe_threshold(&text, alert, v)?;
        }
    }
    ctx.say("lower shop's recipe thresholds: goroutines 1, requests/s 2, mean response size 1 B, p99 response size 50 B (batch keeps 10000, 50, 3, 150)");
    let t0 = ctx.write_tenant("shop", &text)?;
    ctx.stage("file written", t0);
    ctx.wait_exporters("shop's lowered recipe thresholds", |s| {
        RECIPES
            .iter()
            .all(|(alert, _, v)| v.is_none() || shop_threshold(s, alert) == *v)
    })?;
    ctx.stage("exporters serving user_custom_threshold", t0);
    ctx.wait_query(
        "the engine to see shop's lowered thresholds",
        "max by(alert) (user_custom_threshold{tenant=\"shop\",severity=\"warning\"})",
        |r| {
            RECIPES.iter().all(|(alert, _, v)| {
                v.is_none_or(|v| {
                    r.iter()
                        .any(|s| has_labels(&s.labels, &[("alert", alert)]) && s.value == v)
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
    let names: Vec<&str> = RECIPES.iter().map(|(n, _, _)| *n).collect();
    let early = ctx.query(&format!(
        "ALERTS{{alertname=~\"{}\"}}",
        names[1..4].join("|")
    ))?;
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
    let others = ctx.query(&format!(
        "count_over_time(ALERTS{{alertname=~\"{re}\",tenant!=\"shop\"}}[{secs}s])"
    ))?;
    ctx.check(
        "no recipe alert for batch, db-b or any other tenant during the run",
        others.is_empty(),
        format!("{others:?}"),
    );
    let elsewhere: Vec<String> = ctx
        .notifications_since(since)
        .into_iter()
        .filter(|n| {
            n.alerts.iter().any(|a| {
                a.labels
                    .get("alertname")
                    .is_some_and(|x| names.contains(&x.as_str()))
                    && (n.receiver != "shop" || !has_labels(&a.labels, &[("tenant", "shop")]))
            })
        })
        .map(|n| n.receiver)
        .collect();
    ctx.check(
        "recipe alerts reached shop's receiver only",
        elsewhere.is_empty(),
        format!("also at {elsewhere:?}"),
    );
    let unarmed = ctx.query("ALERTS{alertname=\"CustomAlertUnarmed\"}")?;
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
        shop_threshold(s, threshold_alert) == Some(10000.0)
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
        let (name, labels) = ("TenantExporterMissing", [("tenant", t)]);
        ctx.wait_notification(since, Some(t), name, &labels, "resolved")?;
    }
    ctx.stage("TenantExporterMissing resolved and notified", t3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn lab_conf() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab")
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
