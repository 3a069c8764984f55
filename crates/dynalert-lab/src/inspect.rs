//! What Prometheus knows about one tenant's thresholds: for each key, the observation the
//! rule packs compare, the thresholds each exporter replica serves, the recording rule, and
//! the alert state. Used by `inspect-tenant` and `verify-threshold` against any Prometheus
//! running the packs.

use std::collections::BTreeMap;

use serde::Serialize;

use dynalert_probe::prom::Prometheus;
use dynalert_probe::{wait_until, TimedOut};

use crate::api;

/// Each rule group's last evaluation time as Prometheus (or vmalert) reports it, and the
/// longest group interval in seconds.
fn evaluations(prom: &str) -> anyhow::Result<(BTreeMap<String, String>, f64)> {
    let groups = Prometheus::new(prom).rules()?;
    let interval = groups.iter().map(|g| g.interval).fold(0.0, f64::max);
    let last = groups
        .into_iter()
        .map(|g| (format!("{}/{}", g.file, g.name), g.last_evaluation))
        .collect();
    Ok((last, interval))
}

/// Waits until every rule group has been evaluated again since the call (a later look at
/// the alert state then reflects what was scraped before it). Gives up after two of the
/// longest group interval plus five seconds; returns whether every group was seen again.
pub fn wait_for_next_evaluation(prom: &str) -> anyhow::Result<bool> {
    let (before, interval) = evaluations(prom)?;
    let seen = wait_until::<_, anyhow::Error>(
        "every rule group to evaluate again",
        std::time::Duration::from_secs_f64(2.0 * interval.max(1.0) + 5.0),
        std::time::Duration::from_millis(200),
        || {
            let (now, _) = evaluations(prom)?;
            let all = before
                .iter()
                .all(|(g, t)| now.get(g).is_some_and(|n| n != t));
            Ok(all.then_some(()))
        },
    );
    match seen {
        Ok(()) => Ok(true),
        Err(e) if e.is::<TimedOut>() => Ok(false),
        Err(e) => Err(e),
    }
}

/// An alerting rule comparing an observation to `tenant:alert_threshold:<key>`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRule {
    pub key: String,
    pub alertname: String,
    /// The recorded observation on the left of the comparison.
    pub observation: String,
    /// The rule's `for:` in seconds.
    pub for_seconds: f64,
}

/// Reads the rules loaded in Prometheus and finds, per key, the alert and the observation it
/// compares: either in the alert itself (`obs > on(…) …:alert_threshold:<key>`) or in the
/// recorded comparison `…:alert_over_threshold:<key>` the alert selects its tier from.
pub fn key_rules(prom: &str) -> anyhow::Result<Vec<KeyRule>> {
    let v = api::get_json(&format!("{prom}/api/v1/rules"))?;
    let rules: Vec<&serde_json::Value> = v["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    let recorded: BTreeMap<String, (String, String)> = rules
        .iter()
        .filter(|r| r["type"] == "recording")
        .filter_map(|r| {
            let name = r["name"].as_str()?;
            Some((name.to_string(), comparison_of(r["query"].as_str()?)?))
        })
        .collect();
    let mut out: Vec<KeyRule> = Vec::new();
    for r in rules.iter().filter(|r| r["type"] == "alerting") {
        let rule = key_rule_of(
            r["name"].as_str().unwrap_or_default(),
            r["query"].as_str().unwrap_or_default(),
            r["duration"].as_f64().unwrap_or(0.0),
            &recorded,
        );
        let known = |r: &KeyRule| {
            out.iter()
                .any(|k| k.key == r.key && k.alertname == r.alertname)
        };
        if let Some(rule) = rule.filter(|r| !known(r)) {
            out.push(rule);
        }
    }
    Ok(out)
}

/// The key and observation of one alerting rule, from its query as Prometheus prints it;
/// `recorded` maps recorded comparisons to their (key, observation).
fn key_rule_of(
    name: &str,
    query: &str,
    for_seconds: f64,
    recorded: &BTreeMap<String, (String, String)>,
) -> Option<KeyRule> {
    let (key, observation) = comparison_of(query).or_else(|| {
        query
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '{')
            .filter(|t| t.contains(":alert_over_threshold:"))
            .find_map(|t| recorded.get(t).cloned())
    })?;
    Some(KeyRule {
        key,
        alertname: name.to_string(),
        observation,
        for_seconds,
    })
}

/// The first comparison `obs > on(…) [group_right | group_left(…)] <level>:alert_threshold:<key>`
/// in a query:
/// (key, observation). Prometheus prints `on (tenant)` and `group_right ()`; rule files say
/// `on(tenant)` and `group_right`.
fn comparison_of(query: &str) -> Option<(String, String)> {
    let q = query
        .replace("on (", "on(")
        .replace("group_right ()", "group_right")
        .replace("group_right()", "group_right");
    q.match_indices(" > on(").find_map(|(i, op)| {
        let observation = q[..i]
            .split_whitespace()
            .last()?
            .trim_start_matches('(')
            .split('{')
            .next()?;
        let rest = &q[i + op.len()..];
        let rest = rest[rest.find(')')? + 1..].trim_start();
        let rest = rest
            .strip_prefix("group_right")
            .unwrap_or(rest)
            .trim_start();
        // `group_left(severity)`: one tier per branch (observations per cluster and tenant).
        let rest = match rest.strip_prefix("group_left") {
            Some(r) => {
                let r = r.trim_start();
                match r.strip_prefix('(') {
                    Some(r) => r[r.find(')')? + 1..].trim_start(),
                    None => r,
                }
            }
            None => rest,
        };
        let threshold = rest
            .trim_start_matches('(')
            .split(|c: char| c == '{' || c == ')' || c.is_whitespace())
            .next()?;
        let (_, key) = threshold.split_once(":alert_threshold:")?;
        Some((key.to_string(), observation.to_string()))
    })
}

/// One tier of one key as Prometheus sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TierView {
    pub severity: String,
    /// From the configuration files.
    pub configured: Option<f64>,
    /// `user_threshold` per exporter replica (instance → value).
    pub exported: BTreeMap<String, f64>,
    /// `tenant:alert_threshold:<key>`.
    pub recorded: Option<f64>,
    /// `pending`, `firing` or `inactive`.
    pub alert_state: String,
}

/// One key of a tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyView {
    pub key: String,
    pub alertname: Option<String>,
    pub observation_rule: Option<String>,
    pub observed: Option<f64>,
    pub for_seconds: f64,
    pub tiers: Vec<TierView>,
    pub problems: Vec<String>,
}

fn one(prom: &str, expr: &str) -> anyhow::Result<Option<f64>> {
    Ok(api::query(prom, expr)?.first().map(|s| s.value))
}

/// Builds the view of one tenant-wide key (`configured`: severity → value from the config).
pub fn key_view(
    prom: &str,
    tenant: &str,
    key: &str,
    configured: &BTreeMap<String, f64>,
    rules: &[KeyRule],
    in_maintenance: bool,
) -> anyhow::Result<KeyView> {
    let (component, metric) = key.split_once('_').unwrap_or((key, ""));
    let rule = rules.iter().find(|r| r.key == key);
    let mut view = KeyView {
        key: key.to_string(),
        alertname: rule.map(|r| r.alertname.clone()),
        observation_rule: rule.map(|r| r.observation.clone()),
        for_seconds: rule.map(|r| r.for_seconds).unwrap_or(0.0),
        ..KeyView::default()
    };
    if let Some(r) = rule {
        let expr = format!("max({}{{tenant=\"{tenant}\"}})", r.observation);
        view.observed = one(prom, &expr)?;
    }
    let exported = api::query(
        prom,
        &format!(
            "user_threshold{{tenant=\"{tenant}\",component=\"{component}\",metric=\"{metric}\"}}"
        ),
    )?;
    let recorded = format!("tenant:alert_threshold:{key}{{tenant=\"{tenant}\"}}");
    let recorded = api::query(prom, &recorded)?;
    let alerts = match rule {
        Some(r) => api::query(
            prom,
            &format!(
                "ALERTS{{alertname=\"{}\",tenant=\"{tenant}\"}}",
                r.alertname
            ),
        )?,
        None => Vec::new(),
    };
    let mut severities: Vec<String> = configured.keys().cloned().collect();
    for s in exported.iter().filter_map(|s| s.labels.get("severity")) {
        if !severities.contains(s) {
            severities.push(s.clone());
        }
    }
    for sev in severities {
        let plain = |l: &api::Labels| {
            l.get("severity") == Some(&sev)
                && !l
                    .keys()
                    .any(|k| k.starts_with("container") || k == "datname" || k == "db")
        };
        let mut t = TierView {
            severity: sev.clone(),
            configured: configured.get(&sev).copied(),
            ..TierView::default()
        };
        for s in exported.iter().filter(|s| plain(&s.labels)) {
            let instance = s.labels.get("instance").cloned().unwrap_or_default();
            t.exported.insert(instance, s.value);
        }
        t.recorded = recorded.iter().find(|s| plain(&s.labels)).map(|s| s.value);
        t.alert_state = alerts
            .iter()
            .filter(|s| s.labels.get("severity") == Some(&sev))
            .filter_map(|s| s.labels.get("alertstate").cloned())
            .max()
            .unwrap_or_else(|| "inactive".to_string());
        // Agreement: config ⇔ every replica ⇔ recording rule.
        for (inst, v) in &t.exported {
            if t.configured != Some(*v) {
                view.problems.push(format!(
                    "{sev}: replica `{inst}` serves {v}, the configuration says {}",
                    t.configured
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "nothing (disabled or unset)".into())
                ));
            }
        }
        if t.configured.is_some() && t.exported.is_empty() {
            view.problems.push(format!(
                "{sev}: configured but no exporter replica serves it"
            ));
        }
        if t.recorded != t.configured && !t.exported.is_empty() {
            view.problems.push(format!(
                "{sev}: recording rule `tenant:alert_threshold:{key}` is {:?}, the configuration says {:?}",
                t.recorded, t.configured
            ));
        }
        // Value above threshold ⇔ alert pending or firing.
        if let (Some(obs), Some(thr), Some(_)) = (view.observed, t.recorded, rule) {
            let above = obs > thr;
            let active = t.alert_state == "pending" || t.alert_state == "firing";
            if above && !active && !in_maintenance {
                view.problems.push(format!(
                    "{sev}: observed {obs} is above the threshold {thr} but the alert is inactive"
                ));
            }
            if !above && active {
                view.problems.push(format!(
                    "{sev}: observed {obs} is not above the threshold {thr} but the alert is {}",
                    t.alert_state
                ));
            }
        }
        view.tiers.push(t);
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rule_found_in_the_query_as_prometheus_prints_it() {
        // Verbatim from Prometheus 2.42's /api/v1/rules: `on (tenant)` with a space.
        let q = "((tenant:mysql_threads_connected:max > on (tenant) tenant:alert_threshold:mysql_connections{severity=\"warning\"}) * on (tenant) group_left (tier, owner, runbook_url) tenant:metadata:info or on (tenant) (tenant:mysql_threads_connected:max > on (tenant) tenant:alert_threshold:mysql_connections{severity=\"warning\"})) unless on (tenant) (max by (tenant) (user_maintenance) == 1)";
        let none = BTreeMap::new();
        let r = key_rule_of("MariaDBHighConnections", q, 300.0, &none).unwrap();
        assert_eq!(r.key, "mysql_connections");
        assert_eq!(r.observation, "tenant:mysql_threads_connected:max");
        assert_eq!(r.for_seconds, 300.0);
        assert!(key_rule_of("Watchdog", "vector(1)", 0.0, &none).is_none());
    }

    #[test]
    fn key_rule_found_through_the_recorded_comparison() {
        // Both verbatim as Prometheus 2.42 prints the packs' rules.
        let recording = "tenant:container_cpu_usage:percent_of_limit > on (tenant, namespace, pod, container) group_right () container:alert_threshold:container_cpu";
        let mut recorded = BTreeMap::new();
        recorded.insert(
            "container:alert_over_threshold:container_cpu".to_string(),
            comparison_of(recording).unwrap(),
        );
        let alert = "(container:alert_over_threshold:container_cpu{severity=\"critical\"} * on (tenant) group_left (tier, owner, runbook_url) tenant:metadata:info or on (tenant) container:alert_over_threshold:container_cpu{severity=\"critical\"}) unless on (tenant) (max by (tenant) (user_maintenance) == 1)";
        let r = key_rule_of("PodContainerHighCPU", alert, 0.0, &recorded).unwrap();
        assert_eq!(r.key, "container_cpu");
        assert_eq!(r.observation, "tenant:container_cpu_usage:percent_of_limit");
        assert!(key_rule_of("PodContainerHighCPU", alert, 0.0, &BTreeMap::new()).is_none());
    }

    #[test]
    fn comparison_found_in_per_tier_branches() {
        // The MariaDB pack's comparison as Prometheus 2.42 prints it: one branch per tier.
        let recording = "tenant:mysql_threads_connected:max > on (tenant) group_left (severity) tenant:alert_threshold:mysql_connections{severity=\"critical\"} or tenant:mysql_threads_connected:max > on (tenant) group_left (severity) tenant:alert_threshold:mysql_connections{severity=\"warning\"}";
        assert_eq!(
            comparison_of(recording),
            Some((
                "mysql_connections".to_string(),
                "tenant:mysql_threads_connected:max".to_string()
            ))
        );
    }
}
