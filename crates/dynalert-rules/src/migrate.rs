//! `dynalert migrate`: static per-tenant alert rules -> a conf.d.
//!
//! A platform that copied one rule per tenant (`max(x{tenant="a"}) > 70`, the same rule for
//! `b` with another constant) has the N×M rule files the product replaces. Each alerting rule
//! is parsed with `promql-parser`; a rule is a *per-tenant copy* when it is a comparison of
//! an expression with a constant and every selector of that expression has the same
//! `tenant="<id>"` matcher. Removing that matcher gives the rule's *template*; copies with
//! equal templates (and equal alert name, operator and `for`) are one alert with a threshold
//! per tenant and tier:
//!
//! * a **catalogue key** when a rule pack records the same observation and compares it with
//!   `>` against `tenant:alert_threshold:<key>` (read from the packs, not from a list);
//! * else a **custom alert recipe** when the template is one a recipe generates (a gauge's
//!   latest value, a counter's rate, a histogram quantile);
//! * else the rule is left alone, and the report says why. So is every rule that is not a
//!   per-tenant copy.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr, LabelModifier};

use crate::pack::scalar;
use crate::promql::strip_parens as strip;
use crate::regex_rules::quoted;

/// One alerting rule read from a file.
#[derive(Debug, Clone)]
pub struct SourceRule {
    /// `file: group #index` for the report.
    pub location: String,
    pub alert: String,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// The YAML documents of the file at `path`.
fn yaml_docs(path: &Path) -> Result<Vec<yaml_rust2::Yaml>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    yaml_rust2::YamlLoader::load_from_str(&text)
        .map_err(|e| format!("{}: invalid YAML: {e}", path.display()))
}

/// The rule groups of a rule file, or of a PrometheusRule object (under `spec`).
fn groups_of(doc: &yaml_rust2::Yaml) -> &yaml_rust2::Yaml {
    if doc["kind"].as_str() == Some("PrometheusRule") {
        &doc["spec"]["groups"]
    } else {
        &doc["groups"]
    }
}

/// Reads the alerting rules of Prometheus rule files and PrometheusRule objects
/// (`kind: PrometheusRule`, rules under `spec.groups`), several YAML documents per file
/// allowed. Recording rules are skipped (the report counts them).
pub fn read_rule_files(paths: &[PathBuf]) -> Result<(Vec<SourceRule>, usize), String> {
    let mut out = Vec::new();
    let mut recording = 0;
    for path in paths {
        for doc in &yaml_docs(path)? {
            let Some(groups) = groups_of(doc).as_vec() else {
                return Err(format!(
                    "{}: no `groups:` (neither a rule file nor a PrometheusRule)",
                    path.display()
                ));
            };
            for g in groups {
                let group = g["name"].as_str().unwrap_or("?");
                for (i, r) in g["rules"].as_vec().into_iter().flatten().enumerate() {
                    let Some(alert) = r["alert"].as_str() else {
                        recording += 1;
                        continue;
                    };
                    let labels = r["labels"]
                        .as_hash()
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
                        .collect();
                    out.push(SourceRule {
                        location: format!("{}: group `{group}` rule {}", path.display(), i + 1),
                        alert: alert.to_string(),
                        expr: scalar(&r["expr"]).unwrap_or_default(),
                        for_: scalar(&r["for"]),
                        labels,
                    });
                }
            }
        }
    }
    Ok((out, recording))
}

/// Observations the packs compare with a catalogue key: canonical template -> (key, `for`).
#[derive(Debug, Default, Clone)]
pub struct PackKeys {
    pub by_template: BTreeMap<String, PackKey>,
}

/// A catalogue key a pack compares an observation with.
#[derive(Debug, Clone)]
pub struct PackKey {
    pub key: String,
    /// The pack alert that reads the comparison, and its `for:`.
    pub alert: Option<String>,
    pub for_: Option<String>,
    /// Static labels of that alert other than `severity`.
    pub labels: BTreeMap<String, String>,
}

/// Reads the packs' recording rules: `tenant:<signal>` observations and the
/// `tenant:alert_over_threshold:<key>` comparisons (`<obs> > on(tenant) group_right
/// tenant:alert_threshold:<key>`), and the `for:` of the alerts that read them.
pub fn pack_keys(files: &[PathBuf]) -> Result<PackKeys, String> {
    let mut obs: BTreeMap<String, String> = BTreeMap::new();
    let mut over: Vec<(String, String)> = Vec::new();
    type Reader = (String, String, Option<String>, BTreeMap<String, String>);
    let mut alert_for: Vec<Reader> = Vec::new();
    for path in files {
        for doc in &yaml_docs(path)? {
            for g in groups_of(doc).as_vec().into_iter().flatten() {
                for r in g["rules"].as_vec().into_iter().flatten() {
                    let expr = r["expr"].as_str().unwrap_or_default();
                    if let Some(alert) = r["alert"].as_str() {
                        let labels = r["labels"]
                            .as_hash()
                            .into_iter()
                            .flatten()
                            .filter_map(|(k, v)| {
                                Some((k.as_str()?.to_string(), v.as_str()?.to_string()))
                            })
                            .filter(|(k, _)| k != "severity")
                            .collect();
                        alert_for.push((
                            alert.to_string(),
                            expr.to_string(),
                            r["for"].as_str().map(str::to_string),
                            labels,
                        ));
                        continue;
                    }
                    let Some(record) = r["record"].as_str() else {
                        continue;
                    };
                    if let Some(key) = record.strip_prefix("tenant:alert_over_threshold:") {
                        over.push((key.to_string(), expr.to_string()));
                    } else if record.starts_with("tenant:") && !record.contains(":alert_") {
                        if let Ok(mut e) = parser::parse(expr) {
                            without_cluster(&mut e);
                            obs.insert(record.to_string(), canonical(&e));
                        }
                    }
                }
            }
        }
    }
    let mut keys = PackKeys::default();
    for (key, expr) in over {
        let Ok(e) = parser::parse(&expr) else {
            continue;
        };
        // `obs > on(…) tenant:alert_threshold:<key>`, once or once per tier joined by `or`:
        // every comparison must name the same observation.
        let threshold = format!("tenant:alert_threshold:{key}");
        let mut observed = BTreeSet::new();
        let mut others = false;
        threshold_comparisons(&e, &threshold, &mut observed, &mut others);
        if others || observed.len() != 1 {
            continue;
        }
        let l = observed.into_iter().next().expect("one observation");
        let Some(template) = obs.get(&l) else {
            continue;
        };
        let record = format!("tenant:alert_over_threshold:{key}");
        // `…:<key>{` or `…:<key>` at the end: not the record of a longer key.
        let reader = alert_for.iter().find(|(_, e, _, _)| {
            e.match_indices(&record).any(|(i, _)| {
                !e[i + record.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            })
        });
        keys.by_template.insert(
            template.clone(),
            PackKey {
                key,
                alert: reader.map(|(a, _, _, _)| a.clone()),
                for_: reader.and_then(|(_, _, f, _)| f.clone()),
                labels: reader.map(|(_, _, _, l)| l.clone()).unwrap_or_default(),
            },
        );
    }
    Ok(keys)
}

/// Collects the observation names `x` of every `x > … tenant:alert_threshold:<key>` in `e`,
/// walking through set operators (`or`, `and`, `unless`) and parentheses; anything else sets
/// `others`.
fn threshold_comparisons(
    e: &Expr,
    threshold: &str,
    observed: &mut BTreeSet<String>,
    others: &mut bool,
) {
    let Expr::Binary(b) = strip(e) else {
        *others = true;
        return;
    };
    match b.op.to_string().as_str() {
        "or" | "and" | "unless" => {
            threshold_comparisons(&b.lhs, threshold, observed, others);
            threshold_comparisons(&b.rhs, threshold, observed, others);
        }
        ">" => match (strip(&b.lhs), strip(&b.rhs)) {
            (Expr::VectorSelector(l), Expr::VectorSelector(r))
                if r.name.as_deref() == Some(threshold) && l.name.is_some() =>
            {
                observed.insert(l.name.clone().expect("checked"));
            }
            _ => *others = true,
        },
        _ => *others = true,
    }
}

/// Drops `cluster` from the grouping of every aggregation: the packs keep a `cluster` label
/// when observations carry one (several clusters behind one conf.d) and group by nothing more
/// when they do not, which is what a per-tenant rule of a single cluster computes.
fn without_cluster(e: &mut Expr) {
    if let Expr::Aggregate(a) = e {
        if let Some(LabelModifier::Include(l)) = &mut a.modifier {
            l.labels.retain(|x| x != "cluster");
        }
    }
    for child in children_mut(e) {
        without_cluster(child);
    }
}

/// The printer of `promql-parser`: equal structure, equal text.
fn canonical(e: &Expr) -> String {
    strip(e).to_string()
}

/// What a per-tenant rule became.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Key(String),
    Recipe(RecipeOut),
}

/// A recipe written into the tenant files.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeOut {
    pub recipe: &'static str,
    pub name: String,
    pub metric: String,
    pub selectors: BTreeMap<String, String>,
    pub selectors_re: BTreeMap<String, String>,
    pub op: String,
    pub window: Option<String>,
    pub quantile: Option<String>,
    pub for_: Option<String>,
}

impl RecipeOut {
    fn new(recipe: &'static str, sel: Sel, op: &str, window: Option<String>) -> RecipeOut {
        let (metric, selectors, selectors_re) = sel;
        RecipeOut {
            recipe,
            name: String::new(),
            metric,
            selectors,
            selectors_re,
            op: op.to_string(),
            window,
            quantile: None,
            for_: None,
        }
    }
}

/// One alert recognised across tenants.
#[derive(Debug, Clone)]
pub struct Converted {
    pub alert: String,
    pub template: String,
    pub target: Target,
    /// tenant -> severity -> threshold
    pub thresholds: BTreeMap<String, BTreeMap<String, f64>>,
    pub rules: usize,
    pub notes: Vec<String>,
    /// Indices (into the rules given to [`migrate`]) of the copies converted.
    pub sources: Vec<(usize, String)>,
    pub op: String,
    pub for_: Option<String>,
    /// The alert that replaces the copies: name and static labels that tell it apart
    /// (a pack alert can cover several keys under one name).
    pub new_alert: String,
    pub new_labels: BTreeMap<String, String>,
    /// `for:` of the new alert.
    pub new_for: Option<String>,
}

/// A rule left alone, and why.
#[derive(Debug, Clone)]
pub struct LeftAlone {
    pub location: String,
    pub alert: String,
    pub reason: String,
}

impl LeftAlone {
    fn of(rule: &SourceRule, reason: String) -> LeftAlone {
        let (location, alert) = (rule.location.clone(), rule.alert.clone());
        LeftAlone {
            location,
            alert,
            reason,
        }
    }
}

/// The result of a migration.
#[derive(Debug, Clone, Default)]
pub struct Migration {
    pub converted: Vec<Converted>,
    pub left_alone: Vec<LeftAlone>,
    pub recording_rules: usize,
}

/// A per-tenant copy: (tenant, template, op, constant).
struct Copy {
    tenant: String,
    /// The old expression aggregated without `by(tenant)`: its alerts had no tenant label.
    unlabelled: bool,
    template: Expr,
    op: String,
    value: f64,
}

const COMPARISONS: [&str; 6] = [">", ">=", "<", "<=", "==", "!="];

/// Splits `expr` into a per-tenant copy, or says why it is not one.
fn per_tenant(expr: &str, tenant_label: &str) -> Result<Copy, String> {
    let e = parser::parse(expr).map_err(|e| format!("the expression does not parse: {e}"))?;
    let Expr::Binary(b) = strip(&e) else {
        return Err("not a comparison with a constant".into());
    };
    let op = b.op.to_string();
    if !COMPARISONS.contains(&op.as_str()) {
        let what = if ["and", "or", "unless"].contains(&op.as_str()) {
            format!("combines two conditions with `{op}`")
        } else {
            format!("its top operator is `{op}`, not a comparison")
        };
        return Err(format!("{what}: no recipe or pack alert has that shape"));
    }
    if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
        return Err("a `bool` comparison never filters, so it always fires".into());
    }
    let Expr::NumberLiteral(n) = strip(&b.rhs) else {
        return Err(format!(
            "compares with `{}`, not with a constant",
            strip(&b.rhs)
        ));
    };
    let mut template = strip(&b.lhs).clone();
    let mut scan = Scan::default();
    remove_tenant(&mut template, tenant_label, &mut scan)?;
    if scan.selectors == 0 {
        return Err("selects no series".into());
    }
    match scan.tenants.len() {
        0 => {
            let hint = if scan.others.is_empty() {
                String::new()
            } else {
                format!(
                    " (it selects on {}; if that is the tenant, the observations need a `{tenant_label}` label first)",
                    scan.others.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(format!(
                "no `{tenant_label}=\"…\"` matcher: not a per-tenant rule{hint}"
            ));
        }
        1 => {}
        _ => return Err(format!("selects several tenants: {:?}", scan.tenants)),
    }
    if scan.with_tenant != scan.selectors {
        return Err(format!(
            "{} of its {} selectors have no `{tenant_label}` matcher",
            scan.selectors - scan.with_tenant,
            scan.selectors
        ));
    }
    // `max(x{tenant="a"})` is `max by(tenant)(x)` of that tenant.
    let mut unlabelled = false;
    if let Expr::Aggregate(a) = &mut template {
        if a.modifier.is_none() {
            unlabelled = true;
            a.modifier = Some(LabelModifier::Include(promql_parser::label::Labels {
                labels: vec![tenant_label.to_string()],
            }));
        }
    }
    Ok(Copy {
        tenant: scan.tenants.into_iter().next().unwrap_or_default(),
        unlabelled,
        template,
        op,
        value: n.val,
    })
}

/// What [`remove_tenant`] saw: the tenants matched, how many selectors there are and how many
/// of them had a tenant matcher, and the other labels selected on.
#[derive(Default)]
struct Scan {
    tenants: BTreeSet<String>,
    selectors: usize,
    with_tenant: usize,
    others: BTreeSet<String>,
}

/// Removes the `tenant="…"` matcher of every selector; each selector must have one.
fn remove_tenant(e: &mut Expr, label: &str, scan: &mut Scan) -> Result<(), String> {
    let mut vs_fix = |vs: &mut parser::VectorSelector| -> Result<(), String> {
        scan.selectors += 1;
        if !vs.matchers.or_matchers.is_empty() {
            return Err("uses `or` inside a selector".into());
        }
        let mut found = false;
        let mut bad = None;
        vs.matchers.matchers.retain(|m| {
            if m.name == label {
                if matches!(m.op, MatchOp::Equal) {
                    scan.tenants.insert(m.value.clone());
                    found = true;
                } else {
                    bad = Some(format!("matches `{label}` with `{}`, not `=`", m.op));
                }
                false
            } else {
                if m.name != "__name__" {
                    scan.others.insert(m.name.clone());
                }
                true
            }
        });
        if let Some(b) = bad {
            return Err(b);
        }
        scan.with_tenant += usize::from(found);
        Ok(())
    };
    match e {
        Expr::VectorSelector(vs) => vs_fix(vs),
        Expr::MatrixSelector(ms) => vs_fix(&mut ms.vs),
        _ => {
            for child in children_mut(e) {
                remove_tenant(child, label, scan)?;
            }
            Ok(())
        }
    }
}

/// The sub-expressions of `e`, in order (none for selectors and literals).
fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Aggregate(a) => {
            let mut out: Vec<&mut Expr> = a.param.as_deref_mut().into_iter().collect();
            out.push(&mut a.expr);
            out
        }
        Expr::Unary(u) => vec![&mut u.expr],
        Expr::Binary(b) => vec![&mut b.lhs, &mut b.rhs],
        Expr::Paren(p) => vec![&mut p.expr],
        Expr::Subquery(s) => vec![&mut s.expr],
        Expr::Call(c) => c.args.args.iter_mut().map(|a| &mut **a).collect(),
        Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => Vec::new(),
    }
}

/// `QueueDepthHigh` -> `queue_depth_high`, `MySQLDown` -> `my_sql_down` (recipe names are
/// snake_case).
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    let out = match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        _ => format!("a_{out}"),
    };
    out.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string()
}

/// A recipe's metric, `selectors` and `selectors_re`.
type Sel = (String, BTreeMap<String, String>, BTreeMap<String, String>);

/// Matchers of a selector as recipe selectors (the metric name separately).
fn recipe_selector(vs: &parser::VectorSelector) -> Option<Sel> {
    let mut name = vs.name.clone();
    let mut eq = BTreeMap::new();
    let mut re = BTreeMap::new();
    for m in &vs.matchers.matchers {
        // The parser keeps escape sequences of string literals as written: a value with a
        // backslash is left alone rather than guessed at.
        if m.value.contains('\\') {
            return None;
        }
        match (&m.op, m.name.as_str()) {
            (MatchOp::Equal, "__name__") => name = Some(m.value.clone()),
            (MatchOp::Equal, l) => {
                eq.insert(l.to_string(), m.value.clone());
            }
            (MatchOp::Re(_), l) if l != "__name__" => {
                re.insert(l.to_string(), m.value.clone());
            }
            _ => return None,
        }
    }
    if vs.offset.is_some() || vs.at.is_some() {
        return None;
    }
    Some((name?, eq, re))
}

/// The recipe whose generated observation equals `template`, if any.
fn recipe_for(template: &Expr, op: &str, label: &str) -> Result<RecipeOut, String> {
    let Expr::Aggregate(a) = strip(template) else {
        return Err("the observation is not aggregated by tenant".into());
    };
    if !matches!(&a.modifier, Some(LabelModifier::Include(l)) if l.labels == [label]) {
        return Err(format!(
            "the observation is not aggregated `by({label})` alone"
        ));
    }
    let agg = a.op.to_string();
    let unsupported = "the selector uses `!=`, `!~`, an escaped value, offset or @";
    match strip(&a.expr) {
        // threshold without a window: `max by(tenant)(m)` for `>`/`>=`, `min` for `<`/`<=`.
        Expr::VectorSelector(vs) => {
            let want = if matches!(op, "<" | "<=") {
                "min"
            } else {
                "max"
            };
            if matches!(op, "==" | "!=") {
                return Err(format!(
                    "`{op}` on an aggregate: the recipe compares every series"
                ));
            }
            if agg != want {
                return Err(format!(
                    "`{agg}` of a gauge compared with `{op}`: the threshold recipe takes `{want}` (the worst instance)"
                ));
            }
            let sel = recipe_selector(vs).ok_or(unsupported)?;
            Ok(RecipeOut::new("threshold", sel, op, None))
        }
        // rate: `sum by(tenant)(rate(m[w]))`.
        Expr::Call(c) if c.func.name == "rate" && agg == "sum" => {
            let Some(Expr::MatrixSelector(ms)) = c.args.args.first().map(|a| strip(a)) else {
                return Err("`rate` of something other than a range selector".into());
            };
            if matches!(op, "==" | "!=") {
                return Err(format!(
                    "`{op}` on a rate: computed values are never exactly equal"
                ));
            }
            let sel = recipe_selector(&ms.vs).ok_or(unsupported)?;
            let window = Some(dynalert_model::duration::format(ms.range));
            Ok(RecipeOut::new("rate", sel, op, window))
        }
        _ => Err(format!(
            "no recipe generates `{agg} by({label})` of this expression"
        )),
    }
}

/// `histogram_quantile(q, sum by(tenant, le)(rate(m_bucket[w])))`.
fn quantile_recipe(template: &Expr, op: &str, label: &str) -> Option<RecipeOut> {
    let Expr::Call(c) = strip(template) else {
        return None;
    };
    if c.func.name != "histogram_quantile" || matches!(op, "==" | "!=") {
        return None;
    }
    let Expr::NumberLiteral(q) = strip(c.args.args.first()?) else {
        return None;
    };
    let Expr::Aggregate(a) = strip(c.args.args.get(1)?) else {
        return None;
    };
    let ok_by = matches!(&a.modifier, Some(LabelModifier::Include(l))
        if l.labels.len() == 2 && l.labels.contains(&label.to_string()) && l.labels.contains(&"le".to_string()));
    if a.op.to_string() != "sum" || !ok_by {
        return None;
    }
    let Expr::Call(r) = strip(&a.expr) else {
        return None;
    };
    if r.func.name != "rate" {
        return None;
    }
    let Expr::MatrixSelector(ms) = strip(r.args.args.first()?) else {
        return None;
    };
    let (metric, selectors, selectors_re) = recipe_selector(&ms.vs)?;
    let sel = (
        metric.strip_suffix("_bucket")?.to_string(),
        selectors,
        selectors_re,
    );
    let window = Some(dynalert_model::duration::format(ms.range));
    Some(RecipeOut {
        quantile: Some(q.val.to_string()),
        ..RecipeOut::new("quantile", sel, op, window)
    })
}

/// Recognises the per-tenant copies among `rules`.
pub fn migrate(rules: &[SourceRule], packs: &PackKeys, tenant_label: &str) -> Migration {
    let mut m = Migration::default();
    // (alert, template, op, for) -> copies
    type GroupKey = (String, String, String, Option<String>);
    let mut groups: BTreeMap<GroupKey, Vec<(usize, Copy)>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        let copy = per_tenant(&r.expr, tenant_label).and_then(|c| match check_tenant(&c.tenant) {
            Ok(()) => Ok(c),
            Err(e) => Err(format!(
                "tenant `{}` is not a valid tenant id: {e}",
                c.tenant
            )),
        });
        match copy {
            Ok(c) => {
                let key = (
                    r.alert.clone(),
                    canonical(&c.template),
                    c.op.clone(),
                    r.for_.clone(),
                );
                groups.entry(key).or_default().push((i, c));
            }
            Err(reason) => m.left_alone.push(LeftAlone::of(r, reason)),
        }
    }
    let mut names_used: BTreeSet<String> = BTreeSet::new();
    for ((alert, template, op, for_), copies) in groups {
        let mut notes = Vec::new();
        let target = match packs.by_template.get(&template) {
            Some(pk) if op == ">" => {
                if let Some(a) = pk.alert.as_ref().filter(|a| **a != alert) {
                    notes.push(format!(
                        "the pack's alert is `{a}`: update routes and silences that match on `alertname`"
                    ));
                }
                if pk.for_ != for_ {
                    notes.push(format!(
                        "the pack alert waits `for: {}`, the old rules `for: {}`",
                        pk.for_.as_deref().unwrap_or("0s"),
                        for_.as_deref().unwrap_or("0s")
                    ));
                }
                Ok((
                    Target::Key(pk.key.clone()),
                    pk.alert.clone().unwrap_or_default(),
                    pk.labels.clone(),
                    pk.for_.clone(),
                ))
            }
            other => {
                if other.is_some() {
                    notes.push(format!(
                        "a pack records this observation but compares it with `>`, not `{op}`: converted to a recipe"
                    ));
                }
                let t = &copies[0].1.template;
                quantile_recipe(t, &op, tenant_label)
                    .ok_or(String::new())
                    .or_else(|_| recipe_for(t, &op, tenant_label))
                    .map(|mut r| {
                        let base = snake(&alert);
                        let mut name = base.clone();
                        let mut n = 2;
                        while !names_used.insert(name.clone()) {
                            name = format!("{base}_{n}");
                            n += 1;
                        }
                        if name != alert {
                            notes.push(format!(
                                "alert `{alert}` becomes `{name}` (recipe names are snake_case): update routes and silences that match on `alertname`"
                            ));
                        }
                        r.name = name.clone();
                        r.for_ = for_.clone();
                        (Target::Recipe(r), name, BTreeMap::new(), for_.clone())
                    })
            }
        };
        let (target, new_alert, new_labels, new_for) = match target {
            Ok(t) => t,
            Err(reason) => {
                for (i, _) in &copies {
                    let reason = format!("per-tenant copy, but {reason}");
                    m.left_alone.push(LeftAlone::of(&rules[*i], reason));
                }
                continue;
            }
        };
        let mut thresholds: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut conflicts = Vec::new();
        let mut sources = Vec::new();
        for (i, c) in &copies {
            let sev = rules[*i]
                .labels
                .get("severity")
                .cloned()
                .unwrap_or_else(|| "warning".into());
            if !["info", "warning", "critical"].contains(&sev.as_str()) {
                conflicts.push((
                    *i,
                    format!("severity `{sev}` is not a tier (info, warning, critical)"),
                ));
                continue;
            }
            let slot = thresholds.entry(c.tenant.clone()).or_default();
            match slot.get(&sev) {
                Some(v) if *v != c.value => conflicts.push((
                    *i,
                    format!(
                        "a second {sev} threshold for `{}` ({} and {})",
                        c.tenant, v, c.value
                    ),
                )),
                _ => {
                    slot.insert(sev, c.value);
                    sources.push((*i, c.tenant.clone()));
                }
            }
        }
        for (i, reason) in conflicts {
            m.left_alone.push(LeftAlone::of(&rules[i], reason));
        }
        if copies.iter().any(|(_, c)| c.unlabelled) {
            notes.push(format!(
                "the old alerts have no `{tenant_label}` label (aggregated without `by({tenant_label})`); the new ones have"
            ));
        }
        let dropped: BTreeSet<String> = copies
            .iter()
            .flat_map(|(i, _)| rules[*i].labels.keys())
            .filter(|l| *l != "severity")
            .cloned()
            .collect();
        if !dropped.is_empty() {
            notes.push(format!(
                "static labels not carried over: {} (tier and owner come from `tenancy:` and `_metadata`)",
                dropped.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        m.converted.push(Converted {
            alert,
            template,
            target,
            thresholds,
            rules: copies.len(),
            notes,
            sources,
            op,
            for_,
            new_alert,
            new_labels,
            new_for,
        });
    }
    m
}

/// Tenant id check (the config crate's rule, restated: lower-case letters, digits, `-`,
/// `_`, `.`, starting and ending with a letter or digit, at most 63 characters).
pub fn check_tenant(id: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if id.is_empty() || id.len() > 63 || !id.chars().all(ok_char) {
        return Err("lower-case letters, digits, `-`, `_`, `.`, at most 63 characters".into());
    }
    if !edge(id.chars().next()) || !edge(id.chars().last()) {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

fn yaml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The files of the conf.d: `(file name, text)`.
pub fn render_conf_d(m: &Migration) -> Vec<(String, String)> {
    let keys: BTreeSet<&str> = m
        .converted
        .iter()
        .filter_map(|c| match &c.target {
            Target::Key(k) => Some(k.as_str()),
            Target::Recipe(_) => None,
        })
        .collect();
    let mut defaults = String::from(
        "# Written by `dynalert migrate`. The old rules had no defaults: every key is optional,\n# so a tenant without an old rule for a key gets no threshold (and no alert), as before.\n",
    );
    if keys.is_empty() {
        defaults.push_str("optional_overrides: []\n");
    } else {
        defaults.push_str("optional_overrides:\n");
        for k in &keys {
            let _ = writeln!(defaults, "  - {k}");
        }
    }
    let mut files = vec![("_defaults.yaml".to_string(), defaults)];
    // tenant -> lines of keys, lines of recipes
    let mut tenants: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for c in &m.converted {
        for (tenant, tiers) in &c.thresholds {
            let tiers_text = tiers
                .iter()
                .map(|(s, v)| format!("{s}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let entry = tenants.entry(tenant.as_str()).or_default();
            match &c.target {
                Target::Key(k) => entry.0.push(format!("    {k}: {{{tiers_text}}}")),
                Target::Recipe(r) => {
                    let mut s = format!(
                        "      - recipe: {}\n        name: {}\n        metric: {}\n",
                        r.recipe, r.name, r.metric
                    );
                    for (field, map) in [
                        ("selectors", &r.selectors),
                        ("selectors_re", &r.selectors_re),
                    ] {
                        if !map.is_empty() {
                            let _ = writeln!(s, "        {field}:");
                            for (k, v) in map {
                                let _ = writeln!(s, "          {k}: {}", yaml_str(v));
                            }
                        }
                    }
                    if let Some(q) = &r.quantile {
                        let _ = writeln!(s, "        quantile: \"{q}\"");
                    }
                    let _ = writeln!(s, "        op: \"{}\"", r.op);
                    if let Some(w) = &r.window {
                        let _ = writeln!(s, "        window: {w}");
                    }
                    if let Some(f) = &r.for_ {
                        let _ = writeln!(s, "        for: {f}");
                    }
                    let _ = write!(s, "        threshold: {{{tiers_text}}}");
                    entry.1.push(s);
                }
            }
        }
    }
    for (tenant, (keys, recipes)) in tenants {
        let mut s = format!("# Written by `dynalert migrate`.\ntenants:\n  {tenant}:\n");
        for k in keys {
            let _ = writeln!(s, "{k}");
        }
        if !recipes.is_empty() {
            s.push_str("    _custom_alerts:\n");
            for r in recipes {
                let _ = writeln!(s, "{r}");
            }
        }
        files.push((format!("{tenant}.yaml"), s));
    }
    files
}

/// The human-readable report.
pub fn render_report(m: &Migration, total: usize) -> String {
    let converted: usize = m.converted.iter().map(|c| c.rules).sum();
    let mut s = format!(
        "# dynalert migrate report\n\n{total} alerting rules read ({} recording rules skipped): {converted} converted into {} alerts, {} left alone.\n\n## Converted\n\n",
        m.recording_rules,
        m.converted.len(),
        m.left_alone.len()
    );
    if m.converted.is_empty() {
        s.push_str("(none)\n");
    }
    for c in &m.converted {
        let target = match &c.target {
            Target::Key(k) => format!("catalogue key `{k}`"),
            Target::Recipe(r) => format!("custom alert recipe `{}` ({})", r.name, r.recipe),
        };
        let _ = writeln!(
            s,
            "* `{}`: {} rules of {} tenants -> {target}\n  - template: `{}`",
            c.alert,
            c.rules,
            c.thresholds.len(),
            c.template
        );
        for n in &c.notes {
            let _ = writeln!(s, "  - {n}");
        }
    }
    s.push_str("\n## Left alone\n\n");
    if m.left_alone.is_empty() {
        s.push_str("(none)\n");
    }
    for l in &m.left_alone {
        let _ = writeln!(s, "* {}: `{}`: {}", l.location, l.alert, l.reason);
    }
    s
}

/// Rule files under `dir` (`*.yaml`, `*.yml`, recursively), sorted.
pub fn rule_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "tests") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `--prove`: a `promtool test rules` file that evaluates the old per-tenant copies and the
/// new rules (packs and recipes, with the migrated conf.d's exporter series) on the same
/// synthetic observations, and fails unless both fire the same (tenant, severity) alerts at
/// every evaluation step.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// The old copies of the converted alerts, renamed `DynalertMigrateOld<n>` and labelled
    /// with their tenant (so that copies without a `tenant` label can be compared).
    pub old_rules: String,
    /// The promtool test (its `rule_files` are the old rules and `new_rules`).
    pub test: String,
    pub steps: usize,
    pub proven: Vec<String>,
    /// Converted alerts for which no observation series could be generated, and why.
    pub unproven: Vec<(String, String)>,
}

/// One generated observation: metric, labels (without the tenant), counter?
struct Observation {
    metric: String,
    labels: BTreeMap<String, String>,
    counter: bool,
}

/// A label value a simple regex matches fully: the first alternative of `a|b|c`, or a
/// literal with `.` wildcards replaced by `0`.
fn regex_example(re: &str) -> Option<String> {
    let first = re.split('|').next()?;
    let candidate: String = first
        .chars()
        .map(|c| if c == '.' { '0' } else { c })
        .collect();
    let ok = candidate
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let anchored = regex::Regex::new(&format!("^(?:{re})$")).ok()?;
    (ok && anchored.is_match(&candidate)).then_some(candidate)
}

fn observation(template: &str, tenant_label: &str) -> Result<Observation, String> {
    let e = parser::parse(template).map_err(|e| e.to_string())?;
    let none = || Err("no series generator for this observation".to_string());
    let Expr::Aggregate(a) = strip(&e) else {
        return none();
    };
    let (vs, counter) = match strip(&a.expr) {
        Expr::VectorSelector(vs) => (vs.clone(), false),
        Expr::Call(c) if c.func.name == "rate" && a.op.to_string() == "sum" => {
            match c.args.args.first().map(|x| strip(x)) {
                Some(Expr::MatrixSelector(ms)) => (ms.vs.clone(), true),
                _ => return none(),
            }
        }
        _ => return none(),
    };
    let mut metric = vs.name.clone().unwrap_or_default();
    let mut labels = BTreeMap::new();
    for m in &vs.matchers.matchers {
        match (&m.op, m.name.as_str()) {
            (MatchOp::Equal, "__name__") => metric = m.value.clone(),
            (_, l) if l == tenant_label => {}
            (MatchOp::Equal, l) => {
                labels.insert(l.to_string(), m.value.clone());
            }
            (MatchOp::Re(_), l) => {
                let v = regex_example(&m.value)
                    .ok_or_else(|| format!("no example value for the regex `{}`", m.value))?;
                labels.insert(l.to_string(), v);
            }
            _ => return Err(format!("matcher `{}` has no example value", m.name)),
        }
        if m.value.contains('\\') {
            return Err("an escaped matcher value".into());
        }
    }
    if metric.is_empty() {
        return Err("the selector has no metric name".into());
    }
    Ok(Observation {
        metric,
        labels,
        counter,
    })
}

/// Whole minutes of a `for:` duration, rounded up (0 when absent).
fn minutes(d: Option<&str>) -> i64 {
    d.and_then(|d| dynalert_model::duration::parse(d).ok())
        .map_or(0, |d| d.as_secs().div_ceil(60) as i64)
}

/// The observed values a tenant's series steps through: below every threshold, each
/// threshold exactly, between them, above all (reversed for `<` and `<=`).
fn phases(thresholds: impl Iterator<Item = f64>, op: &str, counter: bool) -> Vec<f64> {
    let mut t: Vec<f64> = thresholds.collect();
    t.sort_by(f64::total_cmp);
    t.dedup();
    let margin = |v: f64| (v.abs() * 0.5).max(1.0);
    let mut out = vec![t[0] - margin(t[0])];
    for (i, v) in t.iter().enumerate() {
        out.push(*v);
        if let Some(next) = t.get(i + 1) {
            out.push((v + next) / 2.0);
        }
    }
    let last = t[t.len() - 1];
    out.push(last + margin(last));
    if matches!(op, "<" | "<=") {
        out.reverse();
    }
    if counter {
        out.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    out
}

fn yaml_single(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Builds the proof for `m` (from `rules`), with the migrated conf.d's `exposition` and the
/// new rule files; `old_rules_path` is where the caller writes [`Proof::old_rules`].
pub fn proof(
    m: &Migration,
    rules: &[SourceRule],
    exposition: &str,
    new_rules: &[PathBuf],
    old_rules_path: &Path,
    tenant_label: &str,
) -> Proof {
    let mut p = Proof::default();
    let mut plans = Vec::new();
    for (k, c) in m.converted.iter().enumerate() {
        match observation(&c.template, tenant_label) {
            Ok(o) => plans.push((k, c, o)),
            Err(e) => p.unproven.push((c.alert.clone(), e)),
        }
    }
    let phase_len = plans
        .iter()
        .map(|(_, c, _)| minutes(c.for_.as_deref()).max(minutes(c.new_for.as_deref())))
        .max()
        .unwrap_or(0)
        + 2;
    let phase_count = plans
        .iter()
        .flat_map(|(_, c, o)| {
            c.thresholds
                .values()
                .map(|t| phases(t.values().copied(), &c.op, o.counter).len())
        })
        .max()
        .unwrap_or(1);
    let steps = (phase_len * phase_count as i64) as usize;
    p.steps = steps;

    // Old copies, renamed and labelled with their tenant.
    let mut old = String::from("groups:\n  - name: dynalert-migrate-old\n    rules:\n");
    for (k, c, _) in &plans {
        for (i, tenant) in &c.sources {
            let r = &rules[*i];
            let sev = r.labels.get("severity").map_or("warning", String::as_str);
            let _ = write!(
                old,
                "      - alert: DynalertMigrateOld{k}\n        expr: {}\n",
                yaml_single(&r.expr.replace('\n', " "))
            );
            if let Some(f) = &r.for_ {
                let _ = writeln!(old, "        for: {f}");
            }
            let _ = writeln!(
                old,
                "        labels:\n          severity: {}\n          {tenant_label}: {}",
                yaml_single(sev),
                yaml_single(tenant)
            );
        }
    }
    p.old_rules = old;

    let mut t = String::from("rule_files:\n");
    for f in std::iter::once(old_rules_path).chain(new_rules.iter().map(PathBuf::as_path)) {
        let _ = writeln!(t, "  - {}", yaml_single(&f.display().to_string()));
    }
    t.push_str("evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
    for line in exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let _ = writeln!(
            t,
            "      - series: {}\n        values: '{value}x{steps}'",
            yaml_single(series)
        );
    }
    for (_, c, o) in &plans {
        for (tenant, tiers) in &c.thresholds {
            let values = phases(tiers.values().copied(), &c.op, o.counter);
            let mut labels = vec![format!("{tenant_label}={}", quoted(tenant))];
            labels.extend(o.labels.iter().map(|(k, v)| format!("{k}={}", quoted(v))));
            let series = format!("{}{{{}}}", o.metric, labels.join(","));
            let mut segs = Vec::new();
            let mut last = 0.0_f64;
            for i in 0..=phase_count {
                let v = values[i.min(values.len() - 1)];
                let n = if i == phase_count { 1 } else { phase_len };
                if o.counter {
                    let d = v * 60.0;
                    let start = if i == 0 { 0.0 } else { last + d };
                    segs.push(format!("{start}+{d}x{}", n - 1));
                    last = start + d * (n - 1) as f64;
                } else {
                    segs.push(format!("{v}x{}", n - 1));
                }
            }
            let _ = writeln!(
                t,
                "      - series: {}\n        values: '{}'",
                yaml_single(&series),
                segs.join(" ")
            );
        }
    }
    t.push_str("    promql_expr_test:\n");
    for (k, c, _) in &plans {
        let mut sel = vec![
            "alertstate=\"firing\"".to_string(),
            format!("alertname={}", quoted(&c.new_alert)),
        ];
        sel.extend(
            c.new_labels
                .iter()
                .map(|(l, v)| format!("{l}={}", quoted(v))),
        );
        // Another converted alert becomes the same new alert (old copies that differed in
        // `for:`, say): compare only this one's tenants.
        let shared = m
            .converted
            .iter()
            .filter(|o| o.new_alert == c.new_alert && o.new_labels == c.new_labels)
            .count()
            > 1;
        if shared {
            let ids: Vec<String> = c
                .thresholds
                .keys()
                .map(|t| t.replace('.', "\\\\."))
                .collect();
            sel.push(format!("{tenant_label}=~\"{}\"", ids.join("|")));
        }
        let new = format!(
            "group by({tenant_label}, severity) (ALERTS{{{}}})",
            sel.join(", ")
        );
        let old = format!(
            "group by({tenant_label}, severity) (ALERTS{{alertstate=\"firing\", alertname=\"DynalertMigrateOld{k}\"}})"
        );
        let diff = format!(
            "({old} unless on({tenant_label}, severity) {new}) or ({new} unless on({tenant_label}, severity) {old})"
        );
        for step in 1..=steps {
            let _ = writeln!(
                t,
                "      - expr: {}\n        eval_time: {step}m\n        exp_samples: []",
                yaml_single(&diff)
            );
        }
        // Not vacuous: at the last step every tier of every tenant is crossed.
        if matches!(c.op.as_str(), ">" | ">=" | "<" | "<=") {
            let pairs: usize = c.thresholds.values().map(BTreeMap::len).sum();
            let _ = writeln!(
                t,
                "      - expr: {}\n        eval_time: {steps}m\n        exp_samples:\n          - labels: '{{}}'\n            value: {pairs}",
                yaml_single(&format!("count({old})"))
            );
        }
        p.proven.push(c.alert.clone());
    }
    p.test = t;
    p
}

/// Whether `path` holds Prometheus rule groups (the packs directory also holds other YAML,
/// such as exporter query files).
pub fn is_rule_file(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| yaml_rust2::YamlLoader::load_from_str(&t).ok())
        .is_some_and(|docs| docs.iter().any(|d| d["groups"].as_vec().is_some()))
}
