//! `_custom_alerts:` recipes of tenant and platform files.
//!
//! A recipe is data, never PromQL: a metric name, label selectors as a map, an
//! operator, a window, tiered thresholds and an alert name. Everything is validated
//! here (names against the Prometheus grammar, regexes compiled, durations bounded),
//! so the rule compiler only ever quotes validated values into a fixed template.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dynalert_model::{
    CompareOp, CustomAlert, RecipeKind, RecipeScope, RecipeShape, Severity, TierValue, Tiers,
};

use crate::diag::{did_you_mean, did_you_mean_or_list, ticked, Ctx};
use crate::scalars::{duration_where, map_of, parse_duration_secs, seq_of, show};
use crate::values::{parse_key_value, KeyEntry};
use crate::yaml::{Node, Pos};

/// Most recipes one tenant file may declare.
pub const MAX_TENANT_RECIPES: usize = 20;
/// Most recipes all platform files together may declare (each applies to every tenant).
pub const MAX_PLATFORM_RECIPES: usize = 50;
/// Most selectors (`selectors` and `selectors_re` together) of one recipe.
pub const MAX_SELECTORS: usize = 8;
/// Longest selector value or regex, metric name and alert name.
pub const MAX_VALUE_LEN: usize = 256;
pub const MAX_NAME_LEN: usize = 63;
/// Longest `window` and `for`.
pub const MAX_DURATION_SECS: i64 = 7 * 86_400;

const FIELDS: [&str; 19] = [
    "recipe",
    "mode",
    "capacity_metric",
    "horizon",
    "group_by",
    "objective",
    "slo_period",
    "min_events",
    "name",
    "metric",
    "denominator_metric",
    "quantile",
    "selectors",
    "selectors_re",
    "op",
    "window",
    "threshold",
    "threshold_critical",
    "for",
];
const RECIPES: [&str; 8] = [
    "forecast",
    "slo_burn_rate",
    "threshold",
    "rate",
    "ratio",
    "quantile",
    "absence",
    "p99_latency",
];

/// Parses a `_custom_alerts:` list. Errors go to `ctx`; valid recipes are returned
/// (the caller rejects the whole file when any error was reported).
pub fn parse_custom_alerts(
    ctx: &mut Ctx,
    node: &Node,
    scope: RecipeScope,
    now: DateTime<Utc>,
) -> Vec<CustomAlert> {
    if node.is_null() {
        return Vec::new();
    }
    let hint = "write `_custom_alerts:` and then one `- recipe: …` entry per alert";
    let Some(items) = seq_of(ctx, node, "`_custom_alerts`", Some(hint)) else {
        return Vec::new();
    };
    let (limit, whose) = match scope {
        RecipeScope::Tenant => (MAX_TENANT_RECIPES, "a tenant"),
        RecipeScope::Platform => (MAX_PLATFORM_RECIPES, "the platform"),
    };
    // An `slo_burn_rate` recipe is two alerts and counts twice.
    let cost_of =
        |i: &Node| 1 + usize::from(i.get("recipe").and_then(Node::as_str) == Some("slo_burn_rate"));
    let cost: usize = items.iter().map(cost_of).sum();
    if cost > limit {
        let mut acc = 0;
        let at = items
            .iter()
            .find(|i| {
                acc += cost_of(i);
                acc > limit
            })
            .map_or(node.pos, |i| i.pos);
        ctx.error_hint(
            at,
            format!(
                "too many custom alerts: {cost} declared, {whose} may declare at most {limit} (an `slo_burn_rate` recipe counts twice)"
            ),
            "remove recipes, or merge alerts that differ only in thresholds into one recipe with tiers",
        );
        return Vec::new();
    }
    let mut out: Vec<CustomAlert> = Vec::new();
    let mut names: BTreeMap<String, Pos> = BTreeMap::new();
    for item in items {
        let Some(alert) = parse_recipe(ctx, item, scope, now) else {
            continue;
        };
        let at = item.get("name").map_or(item.pos, |n| n.pos);
        if let Some(first) = names.get(&alert.shape.name) {
            ctx.error_hint(
                at,
                format!(
                    "custom alert `{}` is declared twice (first at line {})",
                    alert.shape.name, first.line
                ),
                "give each custom alert its own name",
            );
            continue;
        }
        names.insert(alert.shape.name.clone(), at);
        out.push(alert);
    }
    out
}

/// Platform recipes: merged over every platform file, with the platform limit.
pub fn merge_platform_custom_alerts(
    ctx: &mut Ctx,
    node: &Node,
    existing: &mut Vec<CustomAlert>,
    now: DateTime<Utc>,
) {
    let parsed = parse_custom_alerts(ctx, node, RecipeScope::Platform, now);
    for alert in parsed {
        let used: usize = existing.iter().map(|a| a.shape.cost()).sum();
        if used + alert.shape.cost() > MAX_PLATFORM_RECIPES {
            ctx.error_hint(
                node.pos,
                format!(
                    "too many platform custom alerts: at most {MAX_PLATFORM_RECIPES} over all platform files"
                ),
                "every platform recipe applies to every tenant; remove some",
            );
            return;
        }
        if let Some(first) = existing.iter().find(|a| a.shape.name == alert.shape.name) {
            ctx.error_hint(
                node.pos,
                format!(
                    "platform custom alert `{}` is declared twice (first in {})",
                    alert.shape.name, first.source
                ),
                "give each custom alert its own name",
            );
            continue;
        }
        existing.push(alert);
    }
}

/// A tenant's recipes must not reuse the name of a platform recipe (the platform's
/// applies to the tenant already; two rules with one name would be indistinguishable).
pub fn check_against_platform(
    ctx: &mut Ctx,
    node: &Node,
    own: &[CustomAlert],
    platform: &[CustomAlert],
) {
    for a in own {
        if let Some(p) = platform.iter().find(|p| p.shape.name == a.shape.name) {
            let pos = node
                .as_seq()
                .unwrap_or_default()
                .iter()
                .find_map(|i| {
                    i.get("name")
                        .filter(|n| n.as_str() == Some(a.shape.name.as_str()))
                })
                .map_or(node.pos, |n| n.pos);
            ctx.error_hint(
                pos,
                format!(
                    "custom alert `{}` is already a platform custom alert ({})",
                    a.shape.name, p.source
                ),
                "platform recipes apply to every tenant and cannot be overridden; choose another name",
            );
        }
    }
}

fn str_field<'a>(ctx: &mut Ctx, item: &'a Node, field: &str, what: &str) -> Option<&'a str> {
    let v = item.get(field)?;
    let s = v.as_str().filter(|_| !v.is_null());
    if s.is_none() {
        ctx.error(
            v.pos,
            format!("`{field}` of {what} must be a string, found {}", show(v)),
        );
    }
    s
}

fn required<'a>(ctx: &mut Ctx, item: &'a Node, field: &str, what: &str) -> Option<&'a str> {
    let (missing, hint) = (
        format!("{what} has no `{field}`"),
        format!("add `{field}: …`"),
    );
    crate::scalars::required(ctx, item, field, missing, Some(&hint))?;
    str_field(ctx, item, field, what)
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: the Prometheus metric name grammar.
pub fn is_metric_name(s: &str) -> bool {
    is_name(s, true)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: the Prometheus label name grammar.
pub fn is_label_name(s: &str) -> bool {
    is_name(s, false)
}

/// Letters, digits, `_` (and `:` when `colon`), not starting with a digit.
fn is_name(s: &str, colon: bool) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':');
    s.chars().next().is_some_and(|c| !c.is_ascii_digit()) && s.chars().all(ok)
}

/// `[a-z][a-z0-9_]*`, at most 63 characters: alert names of recipes are snake_case, so
/// they can never equal a rule pack's alert (those are CamelCase).
pub fn is_alert_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= MAX_NAME_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `secs` (positive) as Prometheus writes it.
fn secs_text(secs: i64) -> String {
    dynalert_model::duration::format(std::time::Duration::from_secs(secs.unsigned_abs()))
}

fn duration(ctx: &mut Ctx, item: &Node, field: &str, what: &str) -> Option<Option<String>> {
    let Some(v) = item.get(field) else {
        return Some(None);
    };
    let text = str_field(ctx, item, field, what)?;
    match parse_duration_secs(text) {
        Some(s) if s > 0 && s <= MAX_DURATION_SECS => Some(Some(secs_text(s))),
        Some(0) if field == "for" => Some(None),
        _ => {
            ctx.error_hint(
                v.pos,
                format!("`{field}` of {what} must be a duration between 1s and 7d, found `{text}`"),
                "write a duration such as `5m`, `90s` or `1h`",
            );
            None
        }
    }
}

fn selectors(
    ctx: &mut Ctx,
    item: &Node,
    field: &str,
    regex: bool,
    what: &str,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let Some(node) = item.get(field).filter(|n| !n.is_null()) else {
        return Some(out);
    };
    let Some(entries) = node.as_map() else {
        ctx.error_hint(
            node.pos,
            format!(
                "`{field}` of {what} must be a mapping of label to value, found {}",
                show(node)
            ),
            "write `selectors: {method: POST}`; PromQL is never accepted here",
        );
        return None;
    };
    let mut ok = true;
    for (k, v) in entries {
        let label = k.as_str().unwrap_or_default();
        if !is_label_name(label) || label.starts_with("__") {
            ctx.error_hint(
                k.pos,
                format!("`{field}` of {what}: `{label}` is not a label name"),
                "label names are letters, digits and `_`, not starting with a digit or `__`",
            );
            ok = false;
            continue;
        }
        if label == "tenant" {
            ctx.error_hint(
                k.pos,
                format!("`{field}` of {what} selects on `tenant`"),
                "the generated rule already keeps every tenant to its own series; remove the selector",
            );
            ok = false;
            continue;
        }
        let Some(value) = v.as_str().filter(|_| !v.is_null()) else {
            ctx.error_hint(
                v.pos,
                format!(
                    "selector `{label}` of {what} must be a string, found {}",
                    show(v)
                ),
                "quote the value",
            );
            ok = false;
            continue;
        };
        if value.len() > MAX_VALUE_LEN {
            ctx.error(
                v.pos,
                format!("selector `{label}` of {what} is longer than {MAX_VALUE_LEN} characters"),
            );
            ok = false;
            continue;
        }
        if regex {
            // Prometheus anchors the regex and uses RE2 syntax; the `regex` crate rejects
            // what RE2 rejects (backreferences, look-around).
            if let Err(e) = regex::Regex::new(&format!("^(?:{value})$")) {
                let msg = e.to_string();
                let last = msg.lines().last().unwrap_or_default().trim().to_string();
                ctx.error_hint(
                    v.pos,
                    format!("selector `{label}` of {what} is not a valid regex: {last}"),
                    "write an RE2 regex such as `5..`; backreferences and look-around are not supported",
                );
                ok = false;
                continue;
            }
        }
        out.insert(label.to_string(), value.to_string());
    }
    ok.then_some(out)
}

fn parse_recipe(
    ctx: &mut Ctx,
    item: &Node,
    scope: RecipeScope,
    now: DateTime<Utc>,
) -> Option<CustomAlert> {
    let hint = "write `- recipe: threshold` with `name`, `metric`, `op`, `window` and `threshold`";
    map_of(ctx, item, "a custom alert", Some(hint))?;
    let errors_before = ctx.errors();
    let label = item.get("name").and_then(Node::as_str).map_or_else(
        || "a custom alert".to_string(),
        |n| format!("custom alert `{n}`"),
    );
    let what = label.as_str();
    // Where a field is written, or the custom alert itself when it is missing.
    let at = |field: &str| item.get(field).map_or(item.pos, |n| n.pos);
    let missing = |ctx: &mut Ctx, field: &str, hint: &str| {
        ctx.error_hint(item.pos, format!("{what} has no `{field}`"), hint);
    };
    for (k, _) in item.as_map().unwrap_or_default() {
        let name = k.as_str().unwrap_or_default();
        if !FIELDS.contains(&name) {
            let hint = did_you_mean_or_list(name, FIELDS.iter().copied(), "fields are");
            ctx.error_hint(k.pos, format!("unknown field `{name}` in {what}"), hint);
        }
    }
    let mode = item.get("mode");
    if let Some(m) = mode.filter(|m| !matches!(m.as_str(), Some("page" | "silent"))) {
        ctx.error_hint(
            m.pos,
            format!(
                "`mode` of {what} must be `page` or `silent`, found {}",
                show(m)
            ),
            "`page` notifies; `silent` marks the alert `mode=\"silent\"`",
        );
    }
    let silent = mode.and_then(Node::as_str) == Some("silent");

    let recipe = required(ctx, item, "recipe", what);
    let kind = recipe.and_then(|r| {
        // `p99_latency` is upstream's name of the quantile recipe.
        let name = if r == "p99_latency" { "quantile" } else { r };
        let kind = RecipeKind::ALL.into_iter().find(|k| k.as_str() == name);
        if kind.is_none() {
            let hint = did_you_mean(r, RECIPES).unwrap_or_else(|| {
                "recipes are `threshold`, `rate`, `ratio`, `quantile` (also `p99_latency`), `absence`, `forecast` and `slo_burn_rate`".into()
            });
            ctx.error_hint(at("recipe"), format!("unknown recipe `{r}` in {what}"), hint);
        }
        kind
    });

    let name = required(ctx, item, "name", what).and_then(|n| {
        if !is_alert_name(n) {
            ctx.error_hint(
                at("name"),
                format!("custom alert name `{n}` is not valid"),
                "names are lower-case letters, digits and `_`, starting with a letter, at most 63 characters (e.g. `queue_depth_high`)",
            );
        }
        is_alert_name(n).then(|| n.to_string())
    });

    let metric_field = |ctx: &mut Ctx, field: &str| -> Option<String> {
        let m = required(ctx, item, field, what)?;
        if is_metric_name(m) && m.len() <= MAX_VALUE_LEN {
            Some(m.to_string())
        } else {
            ctx.error_hint(
                at(field),
                format!("`{field}` of {what} is not a metric name: `{m}`"),
                "write the bare metric name (letters, digits, `_`, `:`); labels go in `selectors`",
            );
            None
        }
    };
    let metric = metric_field(ctx, "metric");
    let mut denominator = None;
    let mut quantile = None;
    match kind {
        Some(RecipeKind::Ratio | RecipeKind::SloBurnRate) => {
            denominator = metric_field(ctx, "denominator_metric")
        }
        Some(k) if item.get("denominator_metric").is_some() => {
            ctx.error_hint(
                at("denominator_metric"),
                format!("`denominator_metric` in {what}, a `{}` recipe", k.as_str()),
                "only `ratio` and `slo_burn_rate` recipes have a denominator",
            );
        }
        _ => {}
    }
    if kind == Some(RecipeKind::Quantile) {
        let default_q = (recipe == Some("p99_latency")).then_some("0.99");
        let q = match item.get("quantile") {
            Some(_) => str_field(ctx, item, "quantile", what),
            None => {
                if default_q.is_none() {
                    missing(ctx, "quantile", "add `quantile: \"0.99\"`");
                }
                default_q
            }
        };
        quantile = q.and_then(|q| match q.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v < 1.0 => Some(v.to_string()),
            _ => {
                ctx.error_hint(
                    at("quantile"),
                    format!("`quantile` of {what} must be a number between 0 and 1, found `{q}`"),
                    "write `0.99` for p99",
                );
                None
            }
        });
    } else if let Some(q) = item.get("quantile") {
        ctx.error_hint(
            q.pos,
            format!("`quantile` in {what}, which is not a `quantile` recipe"),
            "remove it, or use `recipe: quantile`",
        );
    }
    // A quantile recipe names the histogram; `_bucket` is appended by the compiler.
    let metric = match (kind, metric) {
        (Some(RecipeKind::Quantile), Some(m)) => {
            Some(m.strip_suffix("_bucket").unwrap_or(&m).to_string())
        }
        (_, m) => m,
    };

    let only = |ctx: &mut Ctx, field: &str, kinds: &[RecipeKind]| -> bool {
        match (item.get(field), kind) {
            (Some(f), Some(k)) if !kinds.contains(&k) => {
                ctx.error_hint(
                    f.pos,
                    format!("`{field}` in {what}, a `{}` recipe", k.as_str()),
                    format!(
                        "`{field}` belongs to {} recipes; remove it",
                        ticked(kinds.iter().map(|k| k.as_str()), " and ")
                    ),
                );
                false
            }
            (Some(_), _) => true,
            (None, _) => false,
        }
    };
    let forecast = [RecipeKind::Forecast];
    let slo = [RecipeKind::SloBurnRate];
    let capacity = only(ctx, "capacity_metric", &forecast)
        .then(|| metric_field(ctx, "capacity_metric"))
        .flatten();
    let horizon_secs = if only(ctx, "horizon", &forecast) {
        let text = str_field(ctx, item, "horizon", what).unwrap_or_default();
        let message =
            || format!("`horizon` of {what} must be a duration between 1s and 7d, found `{text}`");
        let (pos, hint) = (at("horizon"), "write a duration such as `4h`");
        duration_where(
            ctx,
            pos,
            text,
            |s| s > 0 && s <= MAX_DURATION_SECS,
            message,
            hint,
        )
    } else {
        if kind == Some(RecipeKind::Forecast) {
            missing(ctx, "horizon", "add `horizon: 4h`");
        }
        None
    };
    let mut group_by = Vec::new();
    if only(ctx, "group_by", &forecast) {
        let node = item.get("group_by").expect("checked");
        match node.as_seq() {
            Some(labels) if labels.len() <= 4 => {
                for l in labels {
                    let name = l.as_str().unwrap_or_default();
                    if is_label_name(name)
                        && !name.starts_with("__")
                        && name != "tenant"
                        && name != "severity"
                    {
                        group_by.push(name.to_string());
                    } else {
                        ctx.error_hint(
                            l.pos,
                            format!("`group_by` of {what}: `{name}` is not a label it can group by"),
                            "label names are letters, digits and `_`; `tenant` and `severity` are always kept",
                        );
                    }
                }
                group_by.sort();
                group_by.dedup();
            }
            _ => ctx.error_hint(
                node.pos,
                format!("`group_by` of {what} must be a list of at most 4 label names"),
                "write `group_by: [persistentvolumeclaim]`",
            ),
        }
    }
    let mut min_events = None;
    if only(ctx, "min_events", &slo) {
        let text = str_field(ctx, item, "min_events", what).unwrap_or_default();
        match text.trim().parse::<u64>() {
            Ok(n) if n <= 1_000_000 => min_events = Some(n),
            _ => {
                ctx.error_hint(
                    at("min_events"),
                    format!("`min_events` of {what} must be a whole number, found `{text}`"),
                    "write `min_events: 10`",
                );
            }
        }
    } else if kind == Some(RecipeKind::SloBurnRate) {
        min_events = Some(10);
    }
    // `slo_period` describes the objective; the burn windows are fixed by the recipe.
    if only(ctx, "slo_period", &slo) {
        let text = str_field(ctx, item, "slo_period", what).unwrap_or_default();
        let message = || format!("`slo_period` of {what} must be a duration, found `{text}`");
        let (pos, hint) = (at("slo_period"), "write `slo_period: 30d`");
        duration_where(ctx, pos, text, |s| s > 0, message, hint);
    }
    let objective = if only(ctx, "objective", &slo) {
        let text = str_field(ctx, item, "objective", what).unwrap_or_default();
        let percent = text.trim().trim_end_matches('%').parse::<f64>().ok();
        let objective = percent.filter(|v| *v > 0.0 && *v < 100.0);
        if objective.is_none() {
            ctx.error_hint(
                at("objective"),
                format!(
                    "`objective` of {what} must be a percentage between 0 and 100, found `{text}`"
                ),
                "write `objective: \"99.9\"`",
            );
        }
        objective
    } else {
        if kind == Some(RecipeKind::SloBurnRate) {
            missing(
                ctx,
                "objective",
                "add `objective: \"99.9\"` (percent of good events)",
            );
        }
        None
    };

    let selectors_eq = selectors(ctx, item, "selectors", false, what);
    let selectors_re = selectors(ctx, item, "selectors_re", true, what);
    if let (Some(a), Some(b)) = (&selectors_eq, &selectors_re) {
        if a.len() + b.len() > MAX_SELECTORS {
            ctx.error_hint(
                item.pos,
                format!(
                    "{what} has {} selectors, at most {MAX_SELECTORS}",
                    a.len() + b.len()
                ),
                "select on fewer labels",
            );
        }
        for l in a.keys().filter(|l| b.contains_key(*l)) {
            ctx.error_hint(
                at("selectors_re"),
                format!("label `{l}` of {what} is in both `selectors` and `selectors_re`"),
                "keep one of them",
            );
        }
    }

    let op = match (kind, item.get("op")) {
        (Some(RecipeKind::Absence | RecipeKind::SloBurnRate), None) => Some(CompareOp::Gt),
        (Some(k @ (RecipeKind::Absence | RecipeKind::SloBurnRate)), Some(o)) => {
            ctx.error_hint(
                o.pos,
                format!("`op` in {what}, an `{}` recipe", k.as_str()),
                "this recipe has a fixed condition; remove `op`",
            );
            None
        }
        (_, None) => {
            missing(
                ctx,
                "op",
                "add `op: \">\"` (one of `>`, `>=`, `<`, `<=`, `==`, `!=`)",
            );
            None
        }
        (k, Some(o)) => {
            let text = o.as_str().unwrap_or_default();
            match CompareOp::parse(text.trim()) {
                Some(op @ (CompareOp::Eq | CompareOp::Ne))
                    if k.is_some_and(|k| k != RecipeKind::Threshold) =>
                {
                    ctx.error_hint(
                        o.pos,
                        format!(
                            "`op: {}` in {what}: computed values are never exactly equal",
                            op.as_str()
                        ),
                        "`==` and `!=` are for `threshold` recipes on raw gauges; use `>` or `<`",
                    );
                    None
                }
                Some(op) => Some(op),
                None => {
                    ctx.error_hint(
                        o.pos,
                        format!("unknown `op` `{text}` in {what}"),
                        "`op` is one of `>`, `>=`, `<`, `<=`, `==`, `!=`",
                    );
                    None
                }
            }
        }
    };

    let window = match (kind, item.get("window")) {
        (Some(k @ (RecipeKind::Forecast | RecipeKind::SloBurnRate)), Some(w)) => {
            ctx.error_hint(
                w.pos,
                format!("`window` in {what}, a `{}` recipe", k.as_str()),
                "its windows are derived by the recipe (forecast: from `horizon`; slo_burn_rate: 5m/1h and 30m/6h); remove `window`",
            );
            None
        }
        // The forecast looks back over max(2 × horizon, 1h).
        (Some(RecipeKind::Forecast), None) => horizon_secs.map(|h| secs_text((2 * h).max(3600))),
        (Some(RecipeKind::SloBurnRate), None) => Some(String::new()),
        // A threshold without a window compares the latest sample, as a hand-written
        // `max(metric) > 70` does.
        (Some(RecipeKind::Threshold), None) => Some(String::new()),
        (_, None) => {
            missing(ctx, "window", "add `window: 5m`");
            None
        }
        (_, Some(_)) => duration(ctx, item, "window", what).flatten(),
    };
    let for_ = duration(ctx, item, "for", what);

    // Thresholds, in every spelling catalogue keys have.
    let mut entry = KeyEntry::default();
    match (kind, item.get("threshold")) {
        (Some(RecipeKind::SloBurnRate), Some(t)) => ctx.error_hint(
            t.pos,
            format!("`threshold` in {what}, an `slo_burn_rate` recipe"),
            "`objective` replaces the threshold: fast burn pages critical, slow burn warns",
        ),
        (Some(RecipeKind::SloBurnRate), None) => {
            // The served threshold is the error budget; the rule multiplies it by the
            // burn-rate factor of each tier.
            if let Some(o) = objective {
                let budget = (100.0 - o) / 100.0;
                for sev in [Severity::Critical, Severity::Warning] {
                    entry.tiers.insert(
                        sev,
                        (TierValue::fixed(Some(budget), ctx.source(item.pos)), item.pos),
                    );
                }
            }
        }
        (_, Some(t)) => parse_key_value(ctx, t, "threshold", None, &mut entry, now),
        (_, None) => missing(
            ctx,
            "threshold",
            "add `threshold: 100`, `threshold: \"100:critical\"` or `threshold: {warning: 100, critical: 200}`",
        ),
    }
    if let Some(t) = item.get("threshold_critical") {
        parse_key_value(
            ctx,
            t,
            "threshold",
            Some(Severity::Critical),
            &mut entry,
            now,
        );
    }
    let mut thresholds: Tiers = entry
        .tiers
        .into_iter()
        .map(|(s, (tv, _))| (s, tv))
        .collect();
    if let Some(pos) = entry.disable_all {
        thresholds.insert_if_absent(Severity::Warning, || {
            TierValue::fixed(None, ctx.source(pos))
        });
    }

    if ctx.errors() != errors_before {
        return None;
    }
    Some(CustomAlert {
        shape: RecipeShape {
            name: name?,
            kind: kind?,
            metric: metric?,
            denominator,
            quantile,
            selectors: selectors_eq?,
            selectors_re: selectors_re?,
            op: op?,
            window: window?,
            for_: for_?,
            horizon: horizon_secs.map(secs_text),
            capacity,
            group_by,
            min_events,
            silent,
        },
        thresholds,
        scope,
        source: ctx.source(item.pos),
    })
}

/// Fields of the platform block `custom_alert_limits:`.
const LIMIT_FIELDS: [&str; 2] = ["max_series_per_tenant", "max_alerts_per_rule"];

/// `custom_alert_limits: {max_series_per_tenant: N, max_alerts_per_rule: N}` of a platform
/// file: one block over all platform files, each value an integer in 1..=10,000,000.
pub fn merge_custom_alert_limits(
    ctx: &mut Ctx,
    key: &Node,
    node: &Node,
    platform: &mut dynalert_model::Platform,
) {
    if platform.custom_alert_limits.is_some() {
        ctx.error_hint(
            key.pos,
            "a second platform `custom_alert_limits:` block",
            "keep the limits in one platform file",
        );
        return;
    }
    let hint = "write e.g. `custom_alert_limits: {max_series_per_tenant: 10000, max_alerts_per_rule: 20000}`";
    let Some(entries) = map_of(ctx, node, "`custom_alert_limits`", Some(hint)) else {
        return;
    };
    let mut limits = dynalert_model::RecipeLimits::default();
    let mut ok = true;
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default();
        let slot = match name {
            "max_series_per_tenant" => &mut limits.max_series_per_tenant,
            "max_alerts_per_rule" => &mut limits.max_alerts_per_rule,
            other => {
                let hint = did_you_mean(other, LIMIT_FIELDS).unwrap_or_else(|| {
                    "the limits are `max_series_per_tenant` and `max_alerts_per_rule`".into()
                });
                ctx.error_hint(
                    k.pos,
                    format!("unknown field `{other}` in `custom_alert_limits`"),
                    hint,
                );
                ok = false;
                continue;
            }
        };
        let max = dynalert_model::RecipeLimits::MAX;
        match v.as_str().and_then(|s| s.parse::<u64>().ok()) {
            Some(n) if (1..=max).contains(&n) => *slot = n,
            _ => {
                ctx.error_hint(
                    v.pos,
                    format!(
                        "`custom_alert_limits.{name}` must be a whole number from 1 to {max}, found {}",
                        show(v)
                    ),
                    "a limit cannot be switched off; raise it instead",
                );
                ok = false;
            }
        }
    }
    if ok {
        platform.custom_alert_limits = Some(limits);
    }
}
