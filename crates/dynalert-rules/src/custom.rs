//! The compiler of `_custom_alerts:` recipes into Prometheus rules.
//!
//! One alerting rule per distinct [`RecipeShape`], whatever the number of tenants using
//! it: the observation is aggregated per tenant and joined on `tenant` with
//! `user_custom_threshold{rule="<shape id>"}`, which the exporter serves only for the
//! tenants that declared the recipe (or all tenants for a platform recipe). An `absence`
//! shape has one recording rule more (which tenants exported the series).
//!
//! Recipes carry no PromQL. Metric and label names were validated against the Prometheus
//! grammar by the loader; selector values are written as escaped PromQL string literals,
//! so no value can end the literal, the selector or the expression.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use dynalert_model::{duration, CompareOp, Config, RecipeKind, RecipeLimits, RecipeShape};

/// Name of the rule group of the platform rules of the generated file (which shapes are
/// armed, unarmed recipes, failing shape groups).
pub const GROUP: &str = "dynalert-custom-alerts";
/// Prefix of the rule group of each recipe shape: `<prefix><name>-<shape id>`.
pub const SHAPE_GROUP_PREFIX: &str = "dynalert-custom-alert-";
/// Platform alert: a tenant has more series of a recipe's metrics than the platform allows;
/// its alert of that recipe is switched off until it has fewer.
pub const SERIES_LIMIT: &str = "CustomAlertSeriesLimit";
/// Platform alert: the rule group of a recipe shape fails to evaluate (over its `limit`, or
/// a query error), naming every tenant whose recipe it switches off.
pub const RULE_FAILING: &str = "CustomAlertRuleFailing";
/// Recording rule: one series per recipe shape the file has a rule for.
pub const ARMED: &str = "dynalert:custom_alert_rule:armed";
/// Platform alert: a tenant's recipe whose shape no loaded rule covers.
pub const UNARMED: &str = "CustomAlertUnarmed";

/// Distinct recipe shapes of a validated configuration (platform recipes and the
/// recipes of every accepted tenant), sorted.
pub fn shapes_of(config: &Config) -> Vec<RecipeShape> {
    let shapes: BTreeSet<&RecipeShape> = config
        .platform
        .custom_alerts
        .iter()
        .chain(config.tenants.values().flat_map(|t| &t.custom_alerts))
        .map(|a| &a.shape)
        .collect();
    shapes.into_iter().cloned().collect()
}

/// A PromQL double-quoted string literal holding exactly `s`.
pub fn promql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// `metric{sel="v",re=~"r"}` of a shape (`suffix` appended to the metric name).
fn selector(shape: &RecipeShape, metric: &str, suffix: &str) -> String {
    let mut parts: Vec<String> = shape
        .selectors
        .iter()
        .map(|(k, v)| format!("{k}={}", promql_string(v)))
        .collect();
    parts.extend(
        shape
            .selectors_re
            .iter()
            .map(|(k, v)| format!("{k}=~{}", promql_string(v))),
    );
    if parts.is_empty() {
        format!("{metric}{suffix}")
    } else {
        format!("{metric}{suffix}{{{}}}", parts.join(", "))
    }
}

/// The rule group of a shape.
pub fn shape_group(shape: &RecipeShape) -> String {
    format!("{SHAPE_GROUP_PREFIX}{}-{}", shape.name, shape.id())
}

/// Every series a shape's rule reads, per tenant: `count by(tenant)` over the selectors of
/// all its metrics (the histogram's `_bucket` series for a quantile).
pub fn series_count(shape: &RecipeShape) -> String {
    let mut sels = vec![match shape.kind {
        RecipeKind::Quantile => selector(shape, &shape.metric, "_bucket"),
        _ => selector(shape, &shape.metric, ""),
    }];
    for other in [&shape.denominator, &shape.capacity].into_iter().flatten() {
        sels.push(selector(shape, other, ""));
    }
    format!("count by(tenant) ({})", sels.join(" or "))
}

/// Name of the recording rule of an absence shape.
pub fn seen_record(shape: &RecipeShape) -> String {
    format!("tenant:custom_alert_seen:r{}", shape.id())
}

fn threshold(id: &str, severity: Option<&str>) -> String {
    match severity {
        Some(s) => format!(
            "max by(tenant, severity) (user_custom_threshold{{rule=\"{id}\", severity=\"{s}\"}})"
        ),
        None => format!("max by(tenant, severity) (user_custom_threshold{{rule=\"{id}\"}})"),
    }
}

/// The per-tenant observation of a shape (one series per tenant, label `tenant` only).
fn observation(shape: &RecipeShape) -> String {
    let w = &shape.window;
    let low = matches!(shape.op, CompareOp::Lt | CompareOp::Le);
    let agg = if low { "min" } else { "max" };
    let sel = selector(shape, &shape.metric, "");
    match shape.kind {
        RecipeKind::Threshold if w.is_empty() => format!("{agg} by(tenant) ({sel})"),
        RecipeKind::Threshold => format!("{agg} by(tenant) (avg_over_time({sel}[{w}]))"),
        RecipeKind::Rate => format!("sum by(tenant) (rate({sel}[{w}]))"),
        RecipeKind::Ratio => format!(
            "sum by(tenant) (rate({sel}[{w}]))\n  / (sum by(tenant) (rate({}[{w}])) > 0)",
            selector(shape, shape.denominator.as_deref().unwrap_or_default(), "")
        ),
        RecipeKind::Quantile => format!(
            "histogram_quantile({}, sum by(tenant, le) (rate({}[{w}])))",
            shape.quantile.as_deref().unwrap_or("0.99"),
            selector(shape, &shape.metric, "_bucket")
        ),
        RecipeKind::Forecast => {
            let by = std::iter::once("tenant")
                .chain(shape.group_by.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ");
            let horizon = shape.horizon.as_deref().unwrap_or("1h");
            let predicted = format!(
                "predict_linear({sel}[{w}], {})",
                duration::parse(horizon).map_or(0, |d| d.as_secs())
            );
            match &shape.capacity {
                Some(c) => format!(
                    "{agg} by({by}) ({predicted}\n  / {})",
                    selector(shape, c, "")
                ),
                None => format!("{agg} by({by}) ({predicted})"),
            }
        }
        RecipeKind::Absence | RecipeKind::SloBurnRate => String::new(),
    }
}

/// Error ratio of an `slo_burn_rate` shape over `w`, only where at least `min_events`
/// requests were made (a low-traffic window never counts).
fn slo_ratio(shape: &RecipeShape, w: &str) -> String {
    let errors = selector(shape, &shape.metric, "");
    let total = selector(shape, shape.denominator.as_deref().unwrap_or_default(), "");
    format!(
        "(sum by(tenant) (rate({errors}[{w}])) / (sum by(tenant) (rate({total}[{w}])) > 0)\n   and on(tenant) sum by(tenant) (increase({total}[{w}])) >= {})",
        shape.min_events.unwrap_or(10)
    )
}

/// Burn-rate windows and factors: (severity, long window, short window, factor).
pub const BURN_WINDOWS: [(&str, &str, &str, &str); 2] = [
    ("critical", "1h", "5m", "14.4"),
    ("warning", "6h", "30m", "6"),
];

/// `lhs` compared with the threshold of each tier, one term per tier.
fn per_tier(lhs: &str, op: &str, id: &str) -> String {
    ["critical", "warning", "info"]
        .map(|sev| {
            let threshold = threshold(id, Some(sev));
            format!("  ({lhs}\n     {op} on(tenant) group_left(severity)\n   {threshold})")
        })
        .join("\n  or\n")
}

/// The condition of a shape: one series per (tenant, severity) over its threshold.
fn condition(shape: &RecipeShape) -> String {
    let id = shape.id();
    let op = shape.op.as_str();
    match (shape.kind, shape.op) {
        (RecipeKind::SloBurnRate, _) => {
            let terms: Vec<String> = BURN_WINDOWS
                .iter()
                .map(|(sev, long, short, factor)| {
                    // `group_right (…)` would read the parenthesis as a label list.
                    let t = format!("{} * {factor}", threshold(&id, Some(sev)));
                    format!(
                        "(\n  {}\n    > on(tenant) group_right {t}\n)\nand on(tenant)\n(\n  {}\n    > on(tenant) group_right {t}\n)",
                        slo_ratio(shape, long),
                        slo_ratio(shape, short)
                    )
                })
                .collect();
            format!("(\n{}\n)", terms.join("\nor\n"))
        }
        // Grouped forecasts have several series per tenant: one term per tier keeps the
        // threshold side of each join unique.
        (RecipeKind::Forecast, _) if !shape.group_by.is_empty() => {
            per_tier(&observation(shape), op, &id)
        }
        (RecipeKind::Absence, _) => format!(
            "{}\n  and on(tenant) {}\n  unless on(tenant) group by(tenant) (present_over_time({}[{}]))",
            threshold(&id, None),
            seen_record(shape),
            selector(shape, &shape.metric, ""),
            shape.window
        ),
        // Equality is checked per series before aggregating, so two instances holding
        // different values never mask each other; one term per tier keeps the one-side of
        // each join unique.
        (_, CompareOp::Eq | CompareOp::Ne) => {
            let sel = selector(shape, &shape.metric, "");
            let latest = if shape.window.is_empty() {
                sel
            } else {
                format!("last_over_time({sel}[{}])", shape.window)
            };
            format!("max by(tenant, severity) (\n{}\n)", per_tier(&latest, op, &id))
        }
        _ => format!(
            "{}\n  {op} on(tenant) group_right\n{}",
            observation(shape),
            threshold(&id, None)
        ),
    }
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

/// The full alert expression: the condition, with the tenant's tier joined (left outer)
/// and nothing while the tenant is in maintenance.
/// A tenant over `max_series_per_tenant` is left out (and [`SERIES_LIMIT`] names it).
pub fn alert_expr(shape: &RecipeShape, limits: RecipeLimits) -> String {
    let c = condition(shape);
    format!(
        "(\n  (\n{c}\n  )\n    * on(tenant) group_left(tier)\n  topk by(tenant) (1, max by(tenant, tier) (tenant_metadata_info))\n  or on(tenant)\n  (\n{c}\n  )\n)\nunless on(tenant) (max by(tenant) (user_maintenance) == 1)\nunless on(tenant) ({} > {})",
        series_count(shape),
        limits.max_series_per_tenant,
        c = indent(&c, 4).trim_end()
    )
}

fn describe(shape: &RecipeShape) -> String {
    let (m, w) = (&shape.metric, &shape.window);
    let den = shape.denominator.as_deref().unwrap_or_default();
    let what = match shape.kind {
        RecipeKind::Threshold if w.is_empty() => format!("latest value of {m}"),
        RecipeKind::Threshold if matches!(shape.op, CompareOp::Eq | CompareOp::Ne) => {
            format!("last value of {m} over {w}")
        }
        RecipeKind::Threshold => format!("average of {m} over {w}"),
        RecipeKind::Rate => format!("per-second rate of {m} over {w}"),
        RecipeKind::Ratio => format!("rate of {m} over rate of {den} ({w})"),
        RecipeKind::Quantile => {
            let q = shape.quantile.as_deref().unwrap_or_default();
            format!("quantile {q} of {m} over {w}")
        }
        RecipeKind::Forecast => {
            let horizon = shape.horizon.as_deref().unwrap_or_default();
            let capacity = shape.capacity.as_ref().map(|c| format!(" as a fraction of {c}"));
            format!("{m} forecast {horizon} ahead{}", capacity.unwrap_or_default())
        }
        RecipeKind::SloBurnRate => {
            return format!(
                "{m} over {den} burns the error budget too fast (fast burn 14.4x over 1h and 5m is critical, slow burn 6x over 6h and 30m is a warning)"
            )
        }
        RecipeKind::Absence => {
            return format!("no {m} series for {w} although the tenant exported it before")
        }
    };
    format!("{what} {} the tenant's threshold", shape.op.as_str())
}

/// The generated rule file for `shapes` (`source` names the conf.d in the header): the
/// platform group [`GROUP`], then one group per shape, with `limit:` set to
/// `limits.max_alerts_per_rule` so an over-limit shape fails alone.
pub fn render_custom_rules(shapes: &[RecipeShape], limits: RecipeLimits, source: &str) -> String {
    let armed = if shapes.is_empty() {
        "vector(1) == 0".to_string()
    } else {
        shapes
            .iter()
            .map(|s| {
                format!(
                    "label_replace(vector(1), \"rule\", \"{}\", \"\", \"\")",
                    s.id()
                )
            })
            .collect::<Vec<_>>()
            .join("\nor ")
    };
    let armed = indent(&armed, 10);
    let unarmed = indent(
        &format!("group by(tenant, alert, rule) (user_custom_threshold)\nunless on(rule) {ARMED}"),
        10,
    );
    let max_alerts = limits.max_alerts_per_rule;
    // vmalert 1.79 marks no error on a rule over its group's `limit` (health "ok", error gauge
    // 0; only its log says so), but its last evaluation's samples exceed the limit.
    let vmalert = |func: &str, metric: &str, over: &str| {
        format!("{func}({metric}{{group=~\"{SHAPE_GROUP_PREFIX}.*\"}}[10m]) > {over}")
    };
    let failing = indent(
        &format!(
            "group by(tenant, alert, rule) (user_custom_threshold)\n  * on(rule) group_left()\nmax by(rule) (label_replace(\n    sum by(rule_group) (increase(prometheus_rule_evaluation_failures_total{{rule_group=~\".*;{SHAPE_GROUP_PREFIX}.*\"}}[10m])) > 0\n  or\n    label_replace(\n        {}\n      or\n        {}\n      or\n        {}\n      or\n        {}\n      or\n        {},\n      \"rule_group\", \"$1\", \"group\", \"(.*)\"\n    ),\n  \"rule\", \"$1\", \"rule_group\", \"(?:.*;)?{SHAPE_GROUP_PREFIX}.*-([0-9a-f]{{16}})\"\n))",
            vmalert("max_over_time", "vmalert_alerting_rules_error", "0"),
            vmalert("max_over_time", "vmalert_recording_rules_error", "0"),
            vmalert("increase", "vmalert_alerting_rules_errors_total", "0"),
            vmalert("increase", "vmalert_recording_rules_errors_total", "0"),
            vmalert(
                "max_over_time",
                "vmalert_alerting_rules_last_evaluation_samples",
                &max_alerts.to_string()
            ),
        ),
        10,
    );
    // The ARMED record says which shapes this file arms: a tenant's recipe whose shape is
    // not here (the file was not regenerated, or not reloaded) is reported, never silently
    // off. A shape group that fails (over its `limit`, or a query error such as
    // --query.max-samples) produces no alert for any tenant of the shape: RULE_FAILING
    // names each of them, from Prometheus' failure counter (`rule_group` "<file>;<group>")
    // or vmalert's (`group`): a per-rule gauge up to 1.95, a counter from 1.96.
    let mut out = format!(
        r#"# Generated from the `_custom_alerts:` recipes of {source} by `dynalert rules recipes`.
# One rule group per recipe shape; thresholds come from user_custom_threshold. Do not edit.
groups:
  - name: {GROUP}
    rules:
      - record: {ARMED}
        expr: |
{armed}      - alert: {UNARMED}
        expr: |
{unarmed}        for: 15m
        labels:
          severity: warning
          component: custom
        annotations:
          summary: "Custom alert {{{{ $labels.alert }}}} of tenant {{{{ $labels.tenant }}}} has no rule"
          description: "The exporter serves thresholds of recipe shape {{{{ $labels.rule }}}}, but the loaded custom-alert rules do not cover it: run `dynalert rules recipes` and reload Prometheus."
          runbook_url: "docs/recipes.md#generating-the-rules"
      - alert: {RULE_FAILING}
        expr: |
{failing}        labels:
          severity: critical
          component: custom
          scope: platform
        annotations:
          summary: "Custom alert {{{{ $labels.alert }}}} of tenant {{{{ $labels.tenant }}}} cannot fire: its rule fails"
          description: "The rule group of recipe shape {{{{ $labels.rule }}}} failed to evaluate in the last 10 minutes (over its limit of {max_alerts} alerts, or a query error; the log of Prometheus or vmalert names it): no tenant of that shape gets this alert."
          runbook_url: "docs/recipes.md#limits"
"#
    );
    for shape in shapes {
        let (id, name, kind) = (shape.id(), &shape.name, shape.kind.as_str());
        let group = shape_group(shape);
        let _ = writeln!(
            out,
            "  - name: {group}\n    limit: {max_alerts}\n    rules:"
        );
        // Recording rule first: the alert reads this cycle's value.
        if shape.kind == RecipeKind::Absence {
            let (sel, seen) = (selector(shape, &shape.metric, ""), seen_record(shape));
            let expr = format!(
                "(\n  group by(tenant) ({sel})\n  or {seen}\n)\nand on(tenant) group by(tenant) (user_custom_threshold{{rule=\"{id}\"}})"
            );
            let _ = write!(
                out,
                "      # which tenants exported the series of this shape\n      - record: {seen}\n        expr: |\n{}",
                indent(&expr, 10)
            );
        }
        let _ = writeln!(out, "      - alert: {name}\n        expr: |");
        out.push_str(&indent(&alert_expr(shape, limits), 10));
        if let Some(f) = &shape.for_ {
            let _ = writeln!(out, "        for: {f}");
        }
        let silent = if shape.silent {
            "          mode: silent\n"
        } else {
            ""
        };
        // The second alert names the tenants the first leaves out for reading too many
        // series: never silent.
        let max_series = limits.max_series_per_tenant;
        let over = indent(
            &format!(
                "{} > {max_series}\n  and on(tenant) group by(tenant) (user_custom_threshold{{rule=\"{id}\"}})",
                series_count(shape),
            ),
            10,
        );
        let _ = write!(
            out,
            r#"        labels:
          component: custom
          recipe: {kind}
          rule: "{id}"
{silent}        annotations:
          summary: "Custom alert {name} of tenant {{{{ $labels.tenant }}}} ({{{{ $labels.severity }}}})"
          description: "Tenant {{{{ $labels.tenant }}}}: {} (value {{{{ $value | humanize }}}})."
          runbook_url: "docs/recipes.md#{kind}"
      - alert: {SERIES_LIMIT}
        expr: |
{over}        labels:
          alert: {name}
          rule: "{id}"
          severity: warning
          component: custom
          scope: platform
        annotations:
          summary: "Custom alert {name} of tenant {{{{ $labels.tenant }}}} is off: {{{{ $value }}}} series, limit {max_series}"
          description: "Tenant {{{{ $labels.tenant }}}} has {{{{ $value }}}} series of the metrics of its recipe {name} (shape {id}), more than the platform's custom_alert_limits.max_series_per_tenant of {max_series}: its alert {name} is switched off until it has fewer. Narrow the recipe's selectors, or raise the limit."
          runbook_url: "docs/recipes.md#limits"
"#,
            describe(shape)
        );
    }
    out
}

/// The generated rule file as a Prometheus Operator `PrometheusRule` object (for the chart):
/// the same groups under `spec`.
pub fn as_prometheus_rule(rule_file: &str, name: &str) -> String {
    let mut out = String::new();
    let mut body = false;
    for line in rule_file.lines() {
        if !body {
            if line == "groups:" {
                body = true;
                let _ = writeln!(
                    out,
                    "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {name}\n  labels:\n    app.kubernetes.io/part-of: dynalert\nspec:\n  groups:"
                );
            } else {
                let _ = writeln!(out, "{line}");
            }
            continue;
        }
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}
