//! Validation of the routing blocks (`routing:` in platform files, `_routing` in tenant files).
//!
//! Every problem is reported with its position: unknown keys (with did-you-mean),
//! timings outside the platform guardrails, receiver types the platform does not
//! allow, missing receiver fields, URLs outside `routing.allowed_url_patterns`,
//! and dangling receiver references. Secrets never appear in a message.

use std::collections::{BTreeMap, BTreeSet};

use dynalert_model::routing::{
    check_host_port, check_url, denied_host, mask_url, Enforced, FieldKind, FieldSpec, Guardrails,
    IntervalSpec, LabelMatch, MatchOp, OverrideMatch, PlatformReceiver, PlatformRouting, Range,
    Receiver, ReceiverType, RouteOverride, TenantLimits, TenantRouting, TierRoute, Timings,
    BLACKHOLE_RECEIVER, HTTP_AUTH_FIELDS, UNSUPPORTED_TYPES,
};
use dynalert_model::{Platform, Severity};
use regex::Regex;

use crate::diag::{did_you_mean, did_you_mean_or_list, ticked, Ctx};
use crate::recipes::is_label_name;
use crate::scalars::{check_keys, duration_where, map_of, parse_severity, required, seq_of, show};
use crate::yaml::Node;

const PLATFORM_KEYS: [&str; 10] = [
    "default_receiver",
    "receivers",
    "enforced",
    "tiers",
    "defaults",
    "guardrails",
    "allowed_url_patterns",
    "tenant_secret_dir",
    "limits",
    "tenant_limits",
];
const TENANT_KEYS: [&str; 7] = [
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "overrides",
    "time_intervals",
];
const OVERRIDE_KEYS: [&str; 11] = [
    "alertname",
    "severity",
    "matchers",
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "continue",
    "active_time_intervals",
    "mute_time_intervals",
];
const TIMING_KEYS: [&str; 3] = ["group_wait", "group_interval", "repeat_interval"];
/// Upper bounds of the timings whatever the guardrails say (in the order of
/// [`TIMING_KEYS`]): Alertmanager's durations overflow past about 292 years, and values
/// beyond these bounds are mistakes.
const HARD_LIMITS: [(&str, u64); 3] = [
    ("group_wait", 3600),
    ("group_interval", 24 * 3600),
    ("repeat_interval", 30 * 24 * 3600),
];
const GUARDRAIL_KEYS: [&str; 4] = [
    "group_wait",
    "group_interval",
    "repeat_interval",
    "receiver_types",
];

fn err_not_map(ctx: &mut Ctx, node: &Node, what: &str) -> bool {
    map_of(ctx, node, what, None).is_none()
}

fn duration(ctx: &mut Ctx, node: &Node, what: &str) -> Option<u64> {
    let text = node.as_str().unwrap_or_default();
    let message = || format!("{what} is not a duration: {}", show(node));
    let hint = "use a duration such as `30s`, `5m` or `4h`";
    let secs = duration_where(ctx, node.pos, text, |s| s >= 0, message, hint)?;
    u64::try_from(secs).ok()
}

fn string_list(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Vec<String>> {
    let items = seq_of(ctx, node, what, None)?;
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) if !item.is_null() => out.push(s.to_string()),
            _ => ctx.error(
                item.pos,
                format!("{what} entries must be strings, found {}", show(item)),
            ),
        }
    }
    Some(out)
}

fn text(ctx: &mut Ctx, node: &Node, what: &str) -> Option<String> {
    let s = node
        .as_str()
        .filter(|s| !node.is_null() && !s.trim().is_empty());
    if s.is_none() {
        ctx.error(
            node.pos,
            format!("{what} must be a non-empty string, found {}", show(node)),
        );
    }
    s.map(str::to_string)
}

fn group_by(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Vec<String>> {
    let labels = string_list(ctx, node, what)?;
    let mut ok = true;
    let items = node.as_seq().unwrap_or_default();
    if labels.len() != items.len() {
        return None;
    }
    if labels.len() > 1 && labels.iter().any(|l| l == "...") {
        ctx.error_hint(
            node.pos,
            format!("{what} mixes `...` with label names"),
            "`...` (group by all labels) must be the only entry",
        );
        ok = false;
    }
    let mut seen = BTreeSet::new();
    for (label, item) in labels.iter().zip(items) {
        if !seen.insert(label.as_str()) {
            ctx.error_hint(
                item.pos,
                format!("`{label}` appears twice in {what}"),
                "list every label once; Alertmanager rejects duplicates",
            );
            ok = false;
            continue;
        }
        if label == "..." {
            continue;
        }
        if !is_label_name(label) {
            ctx.error(item.pos, format!("`{label}` in {what} is not a label name"));
            ok = false;
        }
    }
    ok.then_some(labels)
}

fn severities(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Vec<Severity>> {
    let Some(items) = node.as_seq() else {
        ctx.error_hint(
            node.pos,
            format!("{what} must be a list of severities, found {}", show(node)),
            "write e.g. `severities: [critical]`",
        );
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        let sev = parse_severity(ctx, item, what)?;
        if !out.contains(&sev) {
            out.push(sev);
        }
    }
    Some(out)
}

/// Timings of `node` (`group_wait`, `group_interval`, `repeat_interval`), checked against `guard`.
fn timings(ctx: &mut Ctx, node: &Node, g: &Guardrails, what: &str) -> Timings {
    let mut t = [None; 3];
    for (i, key) in TIMING_KEYS.into_iter().enumerate() {
        let Some(v) = node.get(key) else { continue };
        let Some(secs) = duration(ctx, v, &format!("`{key}` of {what}")) else {
            continue;
        };
        if secs == 0 && key != "group_wait" {
            ctx.error(
                v.pos,
                format!("`{key}` of {what} must be greater than zero"),
            );
            continue;
        }
        let range = [g.group_wait, g.group_interval, g.repeat_interval][i];
        let (_, limit) = HARD_LIMITS[i];
        let text = v.as_str().unwrap_or_default();
        if secs > limit {
            ctx.error_hint(
                v.pos,
                format!(
                    "`{key}` of {what} is `{text}`, longer than {} allows",
                    if range.is_some() {
                        "the hard limit"
                    } else {
                        "the limit that applies without platform guardrails"
                    }
                ),
                format!("use at most `{}`", fmt_secs(limit)),
            );
            continue;
        }
        if let Some(r) = range.filter(|r| secs < r.min || secs > r.max) {
            ctx.error_hint(
                v.pos,
                format!("`{key}` of {what} is `{text}`, outside the platform guardrail"),
                format!(
                    "use a value from `{}` to `{}`",
                    fmt_secs(r.min),
                    fmt_secs(r.max)
                ),
            );
            continue;
        }
        t[i] = Some(secs);
    }
    let mut out = Timings::default();
    [out.group_wait, out.group_interval, out.repeat_interval] = t;
    out
}

/// Compact duration text (`90s` -> `1m30s`).
pub fn fmt_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    [
        (secs / 3600, 'h'),
        (secs % 3600 / 60, 'm'),
        (secs % 60, 's'),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n}{unit}"))
    .collect()
}

fn guardrails(ctx: &mut Ctx, node: &Node) -> Guardrails {
    let mut g = Guardrails::default();
    if err_not_map(ctx, node, "`routing.guardrails`") {
        return g;
    }
    check_keys(ctx, node, &GUARDRAIL_KEYS, "`routing.guardrails`");
    let mut ranges = [g.group_wait, g.group_interval, g.repeat_interval];
    for (i, key) in TIMING_KEYS.into_iter().enumerate() {
        let Some(v) = node.get(key) else { continue };
        let what = format!("`routing.guardrails.{key}`");
        if err_not_map(ctx, v, &what) {
            continue;
        }
        check_keys(ctx, v, &["min", "max"], &what);
        let [min, max] = ["min", "max"].map(|bound| {
            v.get(bound)
                .and_then(|n| duration(ctx, n, &format!("`{bound}` of {what}")))
        });
        let range = Range {
            min: min.unwrap_or(0),
            max: max.unwrap_or(u64::MAX),
        };
        if range.min > range.max {
            ctx.error(v.pos, format!("{what} has `min` greater than `max`"));
            continue;
        }
        ranges[i] = Some(range);
    }
    [g.group_wait, g.group_interval, g.repeat_interval] = ranges;
    if let Some(v) = node.get("receiver_types") {
        if let Some(names) = string_list(ctx, v, "`routing.guardrails.receiver_types`") {
            g.receiver_types.clear();
            for (name, item) in names.iter().zip(v.as_seq().unwrap_or_default()) {
                match ReceiverType::parse(name) {
                    Some(t) => g.receiver_types.push(t),
                    None => unknown_type(ctx, item, name, &ReceiverType::ALL),
                }
            }
        }
    }
    g
}

fn unknown_type(ctx: &mut Ctx, node: &Node, name: &str, allowed: &[ReceiverType]) {
    if let Some((_, why)) = UNSUPPORTED_TYPES.iter().find(|(n, _)| *n == name) {
        ctx.error_hint(
            node.pos,
            format!("receiver type `{name}` is not available"),
            format!("{why}; use `webhook` with a relay, or another type"),
        );
        return;
    }
    let names: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
    let hint = did_you_mean_or_list(name, names.iter().copied(), "allowed receiver types are");
    ctx.error_hint(node.pos, format!("unknown receiver type `{name}`"), hint);
}

/// Fields of Alertmanager integrations that hold a URL.
const URL_KEYS: [&str; 6] = [
    "url",
    "api_url",
    "webhook_url",
    "proxy_url",
    "token_url",
    "fallback_url",
];
/// Fields of Alertmanager integrations that are booleans.
const BOOL_KEYS: [&str; 8] = [
    "send_resolved",
    "require_tls",
    "insecure_skip_verify",
    "follow_redirects",
    "enable_http2",
    "short",
    "link_names",
    "disable_notifications",
];

/// Checks a platform receiver the way Alertmanager reads it: URLs, `host:port`
/// smarthosts, booleans, and no YAML merge keys (their meaning differs between the
/// YAML versions of this loader and Alertmanager's).
fn check_platform_fields(ctx: &mut Ctx, node: &Node) {
    if let Some(entries) = node.as_map() {
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            if key == "<<" {
                ctx.error_hint(
                    k.pos,
                    "YAML merge key `<<` in a platform receiver",
                    "write the keys out; merge keys are read differently by YAML 1.1 and 1.2",
                );
                continue;
            }
            if URL_KEYS.contains(&key) {
                if let Some((url, Err(e))) = v.as_str().map(|url| (url, check_url(url))) {
                    ctx.error(
                        v.pos,
                        format!("`{key}` `{}` is not a valid URL: it {e}", mask_url(url)),
                    );
                }
            } else if BOOL_KEYS.contains(&key) && !matches!(v.to_json(), serde_json::Value::Bool(_))
            {
                ctx.error_hint(
                    v.pos,
                    format!("`{key}` must be `true` or `false`, found {}", show(v)),
                    "YAML 1.1 words such as `yes`/`no`/`on`/`off` mean different things to Alertmanager; write `true` or `false`",
                );
            } else if key == "smarthost" {
                if let Err(e) = check_host_port(v.as_str().unwrap_or_default()) {
                    ctx.error(v.pos, format!("`smarthost` {e}"));
                }
            }
            check_platform_fields(ctx, v);
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            check_platform_fields(ctx, item);
        }
    }
}

fn platform_receivers(ctx: &mut Ctx, node: &Node) -> Vec<PlatformReceiver> {
    let hint = "write Alertmanager receivers, e.g. `- {name: noc, webhook_configs: [{url: …}]}`";
    let Some(items) = seq_of(ctx, node, "`routing.receivers`", Some(hint)) else {
        return Vec::new();
    };
    let mut out: Vec<PlatformReceiver> = Vec::new();
    for item in items {
        if err_not_map(ctx, item, "a platform receiver") {
            continue;
        }
        let missing = "platform receiver has no `name`";
        let Some(name) = required(ctx, item, "name", missing, None)
            .and_then(|n| text(ctx, n, "receiver `name`"))
        else {
            continue;
        };
        if name.starts_with("tenant-") || name == BLACKHOLE_RECEIVER {
            ctx.error_hint(
                item.pos,
                format!("platform receiver name `{name}` is reserved"),
                "names `tenant-<id>`, `tenant-<id>-<n>` and `dynalert-blackhole` are generated; pick another name",
            );
            continue;
        }
        if out.iter().any(|r| r.name == name) {
            ctx.error(
                item.pos,
                format!("platform receiver `{name}` is defined twice"),
            );
            continue;
        }
        check_platform_fields(ctx, item);
        out.push(PlatformReceiver {
            name,
            config: item.to_json(),
        });
    }
    out
}

fn receiver_ref(ctx: &mut Ctx, node: &Node, names: &BTreeSet<&str>, what: &str) -> Option<String> {
    let name = text(ctx, node, what)?;
    if !names.contains(name.as_str()) {
        let hint = did_you_mean(&name, names.iter().copied())
            .unwrap_or_else(|| "define it under `routing.receivers`".into());
        ctx.error_hint(
            node.pos,
            format!("{what} `{name}` is not a platform receiver"),
            hint,
        );
        return None;
    }
    Some(name)
}

/// Parses a platform `routing:` block. `None` when it has errors.
pub(crate) fn parse_platform_routing(ctx: &mut Ctx, node: &Node) -> Option<PlatformRouting> {
    map_of(ctx, node, "`routing`", None)?;
    let errors_before = ctx.errors();
    check_keys(ctx, node, &PLATFORM_KEYS, "`routing`");
    let guard = node
        .get("guardrails")
        .map(|g| guardrails(ctx, g))
        .unwrap_or_default();
    let receivers = node
        .get("receivers")
        .map(|r| platform_receivers(ctx, r))
        .unwrap_or_default();
    let names: BTreeSet<&str> = receivers.iter().map(|r| r.name.as_str()).collect();
    let missing = "`routing` has no `default_receiver`";
    let hint = Some("add `default_receiver: <platform receiver>`");
    let default_receiver = required(ctx, node, "default_receiver", missing, hint)
        .and_then(|n| receiver_ref(ctx, n, &names, "`default_receiver`"));
    let enforced = node.get("enforced").and_then(|e| {
        map_of(ctx, e, "`routing.enforced`", None)?;
        check_keys(ctx, e, &["receiver", "severities"], "`routing.enforced`");
        let missing = "`routing.enforced` has no `receiver`";
        let r = required(ctx, e, "receiver", missing, None)?;
        let receiver = receiver_ref(ctx, r, &names, "enforced receiver")?;
        let severities = e
            .get("severities")
            .map_or(Some(vec![Severity::Critical]), |s| {
                severities(ctx, s, "`routing.enforced.severities`")
            })?;
        Some(Enforced {
            receiver,
            severities,
        })
    });
    let mut tiers = BTreeMap::new();
    let tier_entries = node
        .get("tiers")
        .and_then(|t| map_of(ctx, t, "`routing.tiers`", None));
    for (k, v) in tier_entries.unwrap_or_default() {
        let tier = k.as_str().unwrap_or_default().to_string();
        let what = format!("tier `{tier}`");
        if err_not_map(ctx, v, &what) {
            continue;
        }
        let mut allowed = vec!["receiver", "severities"];
        allowed.extend(TIMING_KEYS);
        check_keys(ctx, v, &allowed, &what);
        let missing = format!("{what} has no `receiver`");
        let receiver = required(ctx, v, "receiver", missing, None)
            .and_then(|r| receiver_ref(ctx, r, &names, &format!("receiver of {what}")));
        let sevs = match v.get("severities") {
            Some(s) => severities(ctx, s, &format!("severities of {what}")),
            None => Some(vec![Severity::Critical]),
        };
        let timings = timings(ctx, v, &guard, &what);
        if let (Some(receiver), Some(severities)) = (receiver, sevs) {
            tiers.insert(
                tier,
                TierRoute {
                    receiver,
                    severities,
                    timings,
                },
            );
        }
    }
    let mut group = vec!["alertname".to_string(), "tenant".to_string()];
    let mut defaults = Timings::default();
    if let Some(d) = node
        .get("defaults")
        .filter(|d| !err_not_map(ctx, d, "`routing.defaults`"))
    {
        let mut allowed = vec!["group_by"];
        allowed.extend(TIMING_KEYS);
        check_keys(ctx, d, &allowed, "`routing.defaults`");
        if let Some(g) = d
            .get("group_by")
            .and_then(|g| group_by(ctx, g, "`routing.defaults.group_by`"))
        {
            group = g;
        }
        defaults = timings(ctx, d, &guard, "`routing.defaults`");
    }
    let mut allowed_url_patterns = Vec::new();
    if let Some(p) = node.get("allowed_url_patterns") {
        if let Some(list) = string_list(ctx, p, "`routing.allowed_url_patterns`") {
            for (pat, item) in list.into_iter().zip(p.as_seq().unwrap_or_default()) {
                match Regex::new(&format!("^(?:{pat})$")) {
                    Ok(_) => allowed_url_patterns.push(pat),
                    Err(e) => ctx.error(item.pos, format!("bad URL pattern `{pat}`: {e}")),
                }
            }
        }
    }
    let tenant_secret_dir = node.get("tenant_secret_dir").and_then(|d| {
        let dir = text(ctx, d, "`routing.tenant_secret_dir`")?;
        if !dir.starts_with('/') || dir.split('/').any(|c| c == "..") {
            ctx.error_hint(
                d.pos,
                "`routing.tenant_secret_dir` must be an absolute path without `..`",
                "e.g. `/etc/alertmanager/tenant-secrets`",
            );
            return None;
        }
        Some(dir.trim_end_matches('/').to_string())
    });
    let limits = node
        .get("limits")
        .map(|l| tenant_limits(ctx, l, &TenantLimits::default(), "`routing.limits`"))
        .unwrap_or_default();
    let mut per_tenant = BTreeMap::new();
    let limit_entries = node
        .get("tenant_limits")
        .and_then(|t| map_of(ctx, t, "`routing.tenant_limits`", None));
    for (k, v) in limit_entries.unwrap_or_default() {
        let id = k.as_str().unwrap_or_default().to_string();
        let l = tenant_limits(ctx, v, &limits, &format!("`routing.tenant_limits.{id}`"));
        per_tenant.insert(id, l);
    }
    if ctx.errors() > errors_before {
        return None;
    }
    Some(PlatformRouting {
        tenant_secret_dir,
        limits,
        tenant_limits: per_tenant,
        default_receiver: default_receiver?,
        receivers,
        enforced,
        tiers,
        group_by: group,
        timings: defaults,
        guardrails: guard,
        allowed_url_patterns,
    })
}

thread_local! {
    /// The last allow-list compiled on this thread: every tenant receiver of a load is
    /// checked against the same platform patterns, and compiling them per receiver
    /// dominated the load time of large directories.
    static ALLOW_LIST: std::cell::RefCell<(Vec<String>, std::rc::Rc<Vec<Regex>>)> =
        std::cell::RefCell::new((Vec::new(), std::rc::Rc::new(Vec::new())));
}

/// `routing.allowed_url_patterns` compiled, anchored at both ends (patterns that do not
/// compile are reported where the platform file is parsed).
fn allow_list(patterns: &[String]) -> std::rc::Rc<Vec<Regex>> {
    ALLOW_LIST.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0.as_slice() != patterns {
            let compiled = patterns
                .iter()
                .filter_map(|p| Regex::new(&format!("^(?:{p})$")).ok())
                .collect();
            *cache = (patterns.to_vec(), std::rc::Rc::new(compiled));
        }
        cache.1.clone()
    })
}

fn tenant_limits(ctx: &mut Ctx, node: &Node, base: &TenantLimits, what: &str) -> TenantLimits {
    let mut out = base.clone();
    if err_not_map(ctx, node, what) {
        return out;
    }
    check_keys(ctx, node, &TenantLimits::KEYS, what);
    for key in TenantLimits::KEYS {
        let Some(v) = node.get(key) else { continue };
        match v.to_json().as_u64() {
            Some(n) => out.set(key, n as usize),
            None => ctx.error(
                v.pos,
                format!(
                    "`{key}` of {what} must be a whole number, found {}",
                    show(v)
                ),
            ),
        }
    }
    out
}

/// What a tenant receiver is checked against: the platform's routing, the tenant.
struct ReceiverCtx<'a> {
    routing: Option<&'a PlatformRouting>,
    tenant: &'a str,
    patterns: std::rc::Rc<Vec<Regex>>,
    limits: TenantLimits,
}

/// Checks a URL field: syntax as Alertmanager reads it, allow-list, deny-list.
fn url_field(
    ctx: &mut Ctx,
    rc: &ReceiverCtx,
    v: &Node,
    name: &str,
    url: &str,
    secret: bool,
) -> bool {
    let shown = if secret {
        mask_url(url)
    } else {
        url.to_string()
    };
    let Ok(host) = check_url(url).map_err(|e| {
        ctx.error_hint(
            v.pos,
            format!("`{name}` `{shown}` is not a valid URL: it {e}"),
            "write an absolute URL such as `https://hooks.example.com/path`",
        )
    }) else {
        return false;
    };
    let allowed = rc.patterns.iter().any(|p| p.is_match(url));
    if !rc.patterns.is_empty() && !allowed {
        ctx.error_hint(
            v.pos,
            format!("URL `{shown}` is outside the platform allow-list"),
            "the platform allows only URLs matching `routing.allowed_url_patterns`; ask the platform team to add it",
        );
        return false;
    }
    // Checked where Alertmanager configuration is generated (a `routing:` block);
    // a directory without one (an existing threshold-exporter layout) keeps loading.
    if let Some(why) = denied_host(&host.host).filter(|_| !allowed && rc.routing.is_some()) {
        ctx.error_hint(
            v.pos,
            format!("URL `{shown}` points to {why}"),
            "loopback, link-local and metadata addresses are denied unless `routing.allowed_url_patterns` allows them",
        );
        return false;
    }
    true
}

/// Checks a secret file reference: inside `<tenant_secret_dir>/<tenant>/`.
fn file_field(ctx: &mut Ctx, rc: &ReceiverCtx, v: &Node, name: &str, path: &str) -> bool {
    let Some(dir) = rc.routing.and_then(|r| r.tenant_secret_dir.as_deref()) else {
        ctx.error_hint(
            v.pos,
            format!("`{name}` is not available: the platform sets no `routing.tenant_secret_dir`"),
            "write the secret inline, or ask the platform team for a secret directory",
        );
        return false;
    };
    let own = format!("{dir}/{}/", rc.tenant);
    let inside = path.starts_with(&own)
        && path.len() > own.len()
        && !path.split('/').any(|c| c == ".." || c == ".")
        && !path.contains("//")
        && !path.chars().any(|c| c.is_control());
    if !inside {
        ctx.error_hint(
            v.pos,
            format!("`{name}` `{path}` is outside the tenant's secret directory `{own}`"),
            format!("put the file under `{own}` (no `..`)"),
        );
        return false;
    }
    true
}

/// Checks the fields of `node` against `specs`; returns them as JSON, or `None` on errors.
fn check_fields(
    ctx: &mut Ctx,
    rc: &ReceiverCtx,
    node: &Node,
    specs: &'static [FieldSpec],
    kind: ReceiverType,
    what: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut fields = serde_json::Map::new();
    let mut ok = true;
    for (k, v) in node.as_map().unwrap_or_default() {
        let name = k.as_str().unwrap_or_default();
        let Some(spec) = specs.iter().find(|f| f.name == name).copied() else {
            continue;
        };
        // `Err(None)`: the problem is reported already (a nested mapping).
        let value = match spec.kind {
            FieldKind::Text | FieldKind::Url | FieldKind::File | FieldKind::Template => {
                match v.as_str() {
                    Some(s) if !v.is_null() && !s.trim().is_empty() => {
                        Ok(serde_json::Value::String(s.to_string()))
                    }
                    _ => {
                        let shown = if spec.secret {
                            "a secret".into()
                        } else {
                            show(v)
                        };
                        Err(Some(format!(
                            "`{name}` must be a non-empty string, found {shown}"
                        )))
                    }
                }
            }
            FieldKind::Bool => match v.to_json() {
                b @ serde_json::Value::Bool(_) => Ok(b),
                _ => Err(Some(format!(
                    "`{name}` must be `true` or `false`, found {}",
                    show(v)
                ))),
            },
            FieldKind::Count | FieldKind::Int => match v.to_json() {
                serde_json::Value::Number(n)
                    if n.as_u64().is_some()
                        || (spec.kind == FieldKind::Int && n.as_i64().is_some()) =>
                {
                    Ok(serde_json::Value::Number(n))
                }
                _ => Err(Some(format!(
                    "`{name}` must be a whole number, found {}",
                    show(v)
                ))),
            },
            FieldKind::Map(inner) => {
                let inner_what = format!("`{name}` of {what}");
                if err_not_map(ctx, v, &inner_what) {
                    Err(None)
                } else {
                    let allowed: Vec<&str> = inner.iter().map(|f| f.name).collect();
                    check_keys(ctx, v, &allowed, &inner_what);
                    check_fields(ctx, rc, v, inner, kind, &inner_what)
                        .map(serde_json::Value::Object)
                        .ok_or(None)
                }
            }
        };
        let Ok(value) = value.map_err(|message| message.map(|m| ctx.error(v.pos, m))) else {
            ok = false;
            continue;
        };
        let text = value.as_str().unwrap_or_default();
        let field_ok = match spec.kind {
            FieldKind::Url => url_field(ctx, rc, v, name, text, spec.secret),
            FieldKind::File => file_field(ctx, rc, v, name, text),
            FieldKind::Template => {
                if text.len() > rc.limits.template_bytes {
                    ctx.error_hint(
                        v.pos,
                        format!(
                            "`{name}` is {} bytes long, over the platform's limit of {}",
                            text.len(),
                            rc.limits.template_bytes
                        ),
                        "shorten the text (limit `template_bytes` in `routing.limits`)",
                    );
                    false
                } else if let Err(e) = dynalert_model::gotemplate::check(text) {
                    ctx.error_hint(
                        v.pos,
                        format!("`{name}` is not a valid Alertmanager template: {e}"),
                        "Go template syntax: `{{ .CommonLabels.alertname }}`, `{{ range .Alerts }}…{{ end }}`",
                    );
                    false
                } else {
                    true
                }
            }
            _ => true,
        };
        if !field_ok {
            ok = false;
            continue;
        }
        if kind == ReceiverType::Email && name == "smarthost" {
            if let Err(e) = check_host_port(text) {
                ctx.error(v.pos, format!("`smarthost` {e}"));
                ok = false;
                continue;
            }
        }
        if kind == ReceiverType::Telegram
            && name == "parse_mode"
            && !matches!(text, "Markdown" | "MarkdownV2" | "HTML")
        {
            ctx.error_hint(
                v.pos,
                format!("`parse_mode` `{text}` is not one Telegram knows"),
                "use `Markdown`, `MarkdownV2` or `HTML`",
            );
            ok = false;
            continue;
        }
        if name == "type" && text.eq_ignore_ascii_case("basic") {
            ctx.error_hint(
                v.pos,
                "authorization `type` cannot be `basic`",
                "use `basic_auth: {username, password}` instead",
            );
            ok = false;
            continue;
        }
        fields.insert(name.to_string(), value);
    }
    // `x` and `x_file` exclude each other; so do the authentication methods.
    for spec in specs.iter().filter(|f| f.kind == FieldKind::File) {
        let plain = spec.name.trim_end_matches("_file");
        if fields.contains_key(spec.name) && fields.contains_key(plain) {
            ctx.error_hint(
                node.pos,
                format!("{what} sets both `{plain}` and `{}`", spec.name),
                "keep one of them",
            );
            ok = false;
        }
    }
    if specs.iter().any(|f| f.name == "bearer_token_file") {
        let set: Vec<&str> = HTTP_AUTH_FIELDS
            .iter()
            .copied()
            .filter(|f| fields.contains_key(*f))
            .collect();
        if set.len() > 1 {
            ctx.error_hint(
                node.pos,
                format!(
                    "{what} sets {}: at most one authentication method",
                    ticked(set, " and ")
                ),
                "keep one of `basic_auth`, `authorization`, `bearer_token`, `bearer_token_file`",
            );
            ok = false;
        }
    }
    ok.then_some(fields)
}

fn one_integration(ctx: &mut Ctx, rc: &ReceiverCtx, node: &Node, what: &str) -> Option<Receiver> {
    let hint = "write e.g. `{type: webhook, url: \"https://hooks.example.com/team\"}`";
    map_of(ctx, node, what, Some(hint))?;
    let default_guard = Guardrails::default();
    let guard = rc.routing.map_or(&default_guard, |r| &r.guardrails);
    let allowed_types = ticked(&guard.receiver_types, ", ");
    let Some(type_node) = node.get("type") else {
        ctx.error_hint(
            node.pos,
            format!("{what} has no `type`"),
            format!("add `type:` with one of {allowed_types}"),
        );
        return None;
    };
    let type_name = type_node.as_str().unwrap_or_default();
    let kind = match ReceiverType::parse(type_name) {
        Some(k) if guard.receiver_types.contains(&k) => k,
        Some(k) => {
            ctx.error_hint(
                type_node.pos,
                format!("receiver type `{k}` is not allowed by the platform"),
                format!("allowed receiver types are {allowed_types}"),
            );
            return None;
        }
        None => {
            unknown_type(ctx, type_node, type_name, &guard.receiver_types);
            return None;
        }
    };
    let mut allowed: Vec<&str> = vec!["type"];
    allowed.extend(kind.fields().iter().map(|f| f.name));
    check_keys(ctx, node, &allowed, &format!("a `{kind}` receiver"));
    let fields = check_fields(ctx, rc, node, kind.fields(), kind, what)?;
    let group = |g: &[&str]| ticked(g, " or ");
    let missing: Vec<String> = kind
        .required()
        .iter()
        .filter(|g| !g.iter().any(|f| fields.contains_key(*f)))
        .map(|g| group(g))
        .collect();
    if !missing.is_empty() {
        let needed: Vec<String> = kind.required().iter().map(|g| group(g)).collect();
        ctx.error_hint(
            node.pos,
            format!("{what} (`{kind}`) is missing {}", missing.join(" and ")),
            format!("`{kind}` receivers need {}", needed.join(", ")),
        );
        return None;
    }
    for g in kind.exclusive() {
        let set: Vec<&str> = g
            .iter()
            .copied()
            .filter(|f| fields.contains_key(*f))
            .collect();
        if set.len() > 1 {
            ctx.error_hint(
                node.pos,
                format!("{what} (`{kind}`) sets {}", ticked(set, " and ")),
                format!("set exactly one of {}", group(g)),
            );
            return None;
        }
    }
    let has_authorization = fields
        .get("http_config")
        .and_then(|h| h.get("authorization"))
        .is_some();
    if kind == ReceiverType::Webex && !has_authorization {
        ctx.error_hint(
            node.pos,
            format!("{what} (`webex`) has no `http_config.authorization`"),
            "add `http_config: {authorization: {credentials: <bot token>}}`",
        );
        return None;
    }
    Some(Receiver {
        kind,
        fields: fields.into_iter().collect(),
        more: Vec::new(),
    })
}

/// A tenant receiver: one integration (a mapping) or several (a list of mappings).
fn tenant_receiver(ctx: &mut Ctx, rc: &ReceiverCtx, node: &Node, what: &str) -> Option<Receiver> {
    let Some(items) = node.as_seq() else {
        return one_integration(ctx, rc, node, what);
    };
    if items.is_empty() {
        ctx.error(node.pos, format!("{what} is an empty list"));
        return None;
    }
    if items.len() > rc.limits.integrations {
        ctx.error_hint(
            node.pos,
            format!(
                "{what} has {} integrations, over the platform's limit of {}",
                items.len(),
                rc.limits.integrations
            ),
            "limit `integrations` in `routing.limits`",
        );
        return None;
    }
    // Every integration is checked (and reported) before a failure is returned.
    let all: Vec<Option<Receiver>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            one_integration(ctx, rc, item, &format!("integration {} of {what}", i + 1))
        })
        .collect();
    let mut all: Vec<Receiver> = all.into_iter().collect::<Option<_>>()?;
    let mut first = all.remove(0);
    first.more = all;
    Some(first)
}

/// `label=value`, `label!=value`, `label=~regex`, `label!~regex`; the value may be quoted.
fn label_matcher(ctx: &mut Ctx, node: &Node, what: &str) -> Option<LabelMatch> {
    let text = text(ctx, node, what)?;
    let Some(at) = text.find(['=', '!']) else {
        ctx.error_hint(
            node.pos,
            format!("{what} `{text}` has no operator"),
            "write `label=value`, `label!=value`, `label=~regex` or `label!~regex`",
        );
        return None;
    };
    let name = text[..at].trim();
    let rest = &text[at..];
    let ops = [
        ("=~", MatchOp::Re),
        ("!~", MatchOp::NotRe),
        ("!=", MatchOp::Ne),
        ("=", MatchOp::Eq),
    ];
    let found = ops
        .into_iter()
        .find_map(|(text, op)| Some((op, rest.strip_prefix(text)?)));
    let Some((op, value)) = found else {
        ctx.error_hint(
            node.pos,
            format!("{what} `{text}` has no valid operator"),
            "use `=`, `!=`, `=~` or `!~`",
        );
        return None;
    };
    if !is_label_name(name) {
        ctx.error_hint(
            node.pos,
            format!("{what}: `{name}` is not a label name"),
            "label names are letters, digits and `_`, not starting with a digit",
        );
        return None;
    }
    if matches!(name, "tenant" | "scope") {
        ctx.error_hint(
            node.pos,
            format!("{what} matches `{name}`, which the platform decides"),
            "overrides already apply to this tenant's alerts only; match other labels",
        );
        return None;
    }
    let value = value.trim();
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let Ok(v) = serde_json::from_str::<String>(&format!("\"{inner}\"")) else {
                ctx.error(node.pos, format!("{what} has an invalid quoted value"));
                return None;
            };
            v
        }
        None => value.to_string(),
    };
    if value.chars().any(|c| c.is_control()) {
        ctx.error(
            node.pos,
            format!("{what} has a control character in its value"),
        );
        return None;
    }
    if matches!(op, MatchOp::Re | MatchOp::NotRe) {
        // Alertmanager compiles `^(?:regex)$` with Go's RE2; the syntax both accept.
        if value.contains("(?<") || value.contains("(?P=") {
            ctx.error(
                node.pos,
                format!("{what}: Go's regular expressions have no `(?<name>` or back-references"),
            );
            return None;
        }
        if let Err(e) = Regex::new(&format!("^(?:{value})$")) {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .trim_start_matches("error: ")
                .to_string();
            ctx.error_hint(
                node.pos,
                format!("{what} has an invalid regular expression: {first}"),
                "RE2 syntax, anchored at both ends, e.g. `team=~\"db|infra\"`",
            );
            return None;
        }
    }
    Some(LabelMatch {
        name: name.to_string(),
        op,
        value,
    })
}

const WEEKDAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Key, names, bounds and whether negative values count from the end.
type ListSpec<'a> = (&'a str, &'a [&'a str], (i64, i64), bool);

/// One list of `time_intervals` ranges (`monday:friday`, `1:15`, `-1`, `2026:2027`).
fn interval_ranges(
    ctx: &mut Ctx,
    node: &Node,
    what: &str,
    names: &[&str],
    bounds: (i64, i64),
    negative_ok: bool,
) -> Option<Vec<String>> {
    let list = string_list(ctx, node, what)?;
    let parse = |s: &str| -> Option<i64> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(p) = names.iter().position(|n| *n == lower) {
            return Some(p as i64 + if names.len() == 12 { 1 } else { 0 });
        }
        let n: i64 = lower.parse().ok()?;
        let in_range =
            (bounds.0..=bounds.1).contains(&n) || (negative_ok && (-bounds.1..=-1).contains(&n));
        in_range.then_some(n)
    };
    let mut out = Vec::new();
    for item in &list {
        let (a, b) = match item.split_once(':') {
            Some((a, b)) => (parse(a), parse(b)),
            None => (parse(item), parse(item)),
        };
        match (a, b) {
            (Some(a), Some(b)) if a <= b && (a < 0) == (b < 0) => {
                out.push(item.trim().to_ascii_lowercase())
            }
            _ => {
                let hint = if names.is_empty() {
                    format!(
                        "numbers from {} to {}, or ranges such as `{}:{}`",
                        bounds.0, bounds.1, bounds.0, bounds.1
                    )
                } else {
                    format!(
                        "names such as `{}` or ranges such as `{}:{}`",
                        names[1], names[1], names[5]
                    )
                };
                ctx.error_hint(
                    node.pos,
                    format!("{what}: `{item}` is not a valid range"),
                    hint,
                );
                return None;
            }
        }
    }
    Some(out)
}

fn hh_mm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || h == 24 && m == 0)).then_some(h * 60 + m)
}

/// `_routing.time_intervals`: name -> list of Alertmanager time interval entries.
fn tenant_time_intervals(
    ctx: &mut Ctx,
    node: &Node,
    limits: &TenantLimits,
) -> BTreeMap<String, Vec<IntervalSpec>> {
    let mut out = BTreeMap::new();
    let Some(entries) = map_of(ctx, node, "`_routing.time_intervals`", None) else {
        return out;
    };
    if entries.len() > limits.time_intervals {
        ctx.error_hint(
            node.pos,
            format!(
                "`_routing.time_intervals` has {} entries, over the platform's limit of {}",
                entries.len(),
                limits.time_intervals
            ),
            "limit `time_intervals` in `routing.limits`",
        );
        return out;
    }
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            ctx.error_hint(
                k.pos,
                format!("time interval name `{name}` is not valid"),
                "use letters, digits, `-` and `_`",
            );
            continue;
        }
        let what = format!("time interval `{name}`");
        let Some(items) = seq_of(ctx, v, &what, Some("write `- {weekdays: [\"monday:friday\"], times: [{start_time: \"09:00\", end_time: \"17:00\"}], location: Europe/Berlin}`")) else {
continue;
        };
        let mut specs = Vec::new();
        let mut ok = true;
        for item in items {
            if err_not_map(ctx, item, &format!("an entry of {what}")) {
                ok = false;
                continue;
            }
            check_keys(
                ctx,
                item,
                &[
                    "times",
                    "weekdays",
                    "days_of_month",
                    "months",
                    "years",
                    "location",
                ],
                &format!("an entry of {what}"),
            );
            let mut spec = IntervalSpec::default();
            if let Some(t) = item.get("times") {
                if t.as_seq().is_none() {
                    ctx.error(t.pos, format!("{what}: `times` must be a list"));
                    ok = false;
                }
                for r in t.as_seq().unwrap_or_default() {
                    let start = r.get("start_time").and_then(|n| n.as_str()).and_then(hh_mm);
                    let end = r.get("end_time").and_then(|n| n.as_str()).and_then(hh_mm);
                    match (start, end) {
                        (Some(a), Some(b)) if a < b && r.as_map().is_some_and(|m| m.len() == 2) => {
                            spec.times.push((a, b))
                        }
                        _ => {
                            ctx.error_hint(
                                r.pos,
                                format!("{what}: `times` entries need `start_time` before `end_time`, as `HH:MM`"),
                                "e.g. `{start_time: \"09:00\", end_time: \"17:00\"}` (`24:00` ends the day)",
                            );
                            ok = false;
                        }
                    }
                }
            }
            let lists: [ListSpec; 4] = [
                ("weekdays", &WEEKDAY_NAMES, (0, 6), false),
                ("days_of_month", &[], (1, 31), true),
                ("months", &MONTH_NAMES, (1, 12), false),
                ("years", &[], (1, 9999), false),
            ];
            for (key, names, bounds, neg) in lists {
                if let Some(n) = item.get(key) {
                    // Weekday numbers are not accepted by Alertmanager: names only.
                    let r =
                        interval_ranges(ctx, n, &format!("`{key}` of {what}"), names, bounds, neg);
                    match r {
                        Some(r)
                            if key == "weekdays"
                                && r.iter()
                                    .any(|x| x.split(':').any(|p| p.parse::<i64>().is_ok())) =>
                        {
                            ctx.error_hint(
                                n.pos,
                                format!("`weekdays` of {what} must name the days"),
                                "e.g. `monday:friday`",
                            );
                            ok = false;
                        }
                        Some(r) => match key {
                            "weekdays" => spec.weekdays = r,
                            "days_of_month" => spec.days_of_month = r,
                            "months" => spec.months = r,
                            _ => spec.years = r,
                        },
                        None => ok = false,
                    }
                }
            }
            if let Some(l) = item.get("location") {
                match l.as_str() {
                    Some("Local") => {
                        ctx.error_hint(
                            l.pos,
                            format!("{what}: `Local` depends on the Alertmanager host"),
                            "name an IANA time zone such as `Europe/Berlin`",
                        );
                        ok = false;
                    }
                    Some(z) if z.parse::<chrono_tz::Tz>().is_ok() => {
                        spec.location = Some(z.to_string());
                    }
                    _ => {
                        ctx.error_hint(
                            l.pos,
                            format!("{what}: `location` {} is not an IANA time zone", show(l)),
                            "e.g. `Europe/Berlin`, `Asia/Taipei` or `UTC`",
                        );
                        ok = false;
                    }
                }
            }
            specs.push(spec);
        }
        if ok {
            out.insert(name, specs);
        }
    }
    out
}

/// Parses a tenant `_routing` block against the merged platform. `None` when it has errors.
pub(crate) fn parse_tenant_routing(
    ctx: &mut Ctx,
    node: &Node,
    platform: &Platform,
    tenant: &str,
) -> Option<TenantRouting> {
    map_of(ctx, node, "`_routing`", None)?;
    let errors_before = ctx.errors();
    let routing = platform.routing.as_ref();
    check_keys(ctx, node, &TENANT_KEYS, "`_routing`");
    let default_guard = Guardrails::default();
    let guard = routing.map_or(&default_guard, |r| &r.guardrails);
    let rc = ReceiverCtx {
        routing,
        tenant,
        patterns: allow_list(
            routing
                .map(|r| r.allowed_url_patterns.as_slice())
                .unwrap_or_default(),
        ),
        limits: routing
            .map(|r| r.limits_of(tenant).clone())
            .unwrap_or_default(),
    };
    let time_intervals = node
        .get("time_intervals")
        .map(|t| tenant_time_intervals(ctx, t, &rc.limits))
        .unwrap_or_default();
    let mut out = TenantRouting {
        receiver: node
            .get("receiver")
            .and_then(|r| tenant_receiver(ctx, &rc, r, "`_routing.receiver`")),
        group_by: node
            .get("group_by")
            .and_then(|g| group_by(ctx, g, "`_routing.group_by`")),
        timings: timings(ctx, node, guard, "`_routing`"),
        overrides: Vec::new(),
        time_intervals,
    };
    if let Some(list) = node.get("overrides") {
        let hint = "write `- {alertname: X, receiver: {type: webhook, url: …}}`";
        match seq_of(ctx, list, "`_routing.overrides`", Some(hint)) {
            None => {}
            Some(items) if items.len() > rc.limits.overrides => ctx.error_hint(
                list.pos,
                format!(
                    "`_routing.overrides` has {} entries, over the platform's limit of {}",
                    items.len(),
                    rc.limits.overrides
                ),
                "limit `overrides` in `routing.limits`",
            ),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let what = format!("override {}", i + 1);
                    if err_not_map(ctx, item, &format!("`_routing.overrides` entry {}", i + 1)) {
                        continue;
                    }
                    check_keys(ctx, item, &OVERRIDE_KEYS, &what);
                    let alertname = item
                        .get("alertname")
                        .and_then(|a| text(ctx, a, "`alertname`"));
                    let severity = item
                        .get("severity")
                        .and_then(|s| parse_severity(ctx, s, &format!("`severity` of {what}")));
                    let mut labels = Vec::new();
                    if let Some(m) = item.get("matchers") {
                        let hint = "write `matchers: ['team=~\"db|infra\"', 'env!=dev']`";
                        match seq_of(ctx, m, &format!("`matchers` of {what}"), Some(hint)) {
                            Some(ms) if ms.len() > rc.limits.matchers => ctx.error_hint(
                                m.pos,
                                format!("`matchers` of {what} has {} entries, over the platform's limit of {}", ms.len(), rc.limits.matchers),
                                "limit `matchers` in `routing.limits`",
                            ),
                            Some(ms) => {
                                for (j, mn) in ms.iter().enumerate() {
                                    if let Some(lm) = label_matcher(ctx, mn, &format!("matcher {} of {what}", j + 1)) {
                                        labels.push(lm);
                                    }
                                }
                            }
                            None => {}
                        }
                    }
                    if item.get("alertname").is_none()
                        && item.get("severity").is_none()
                        && item.get("matchers").is_none()
                    {
                        ctx.error_hint(
                            item.pos,
                            format!("{what} matches nothing"),
                            "add `alertname:`, `severity:` or `matchers:`",
                        );
                        continue;
                    }
                    let missing = format!("{what} has no `receiver`");
                    let receiver = required(ctx, item, "receiver", missing, None)
                        .and_then(|r| tenant_receiver(ctx, &rc, r, &format!("receiver of {what}")));
                    let group = item
                        .get("group_by")
                        .and_then(|g| group_by(ctx, g, &format!("`group_by` of {what}")));
                    let timing = timings(ctx, item, guard, &what);
                    let cont = item.get("continue").is_some_and(|c| match c.to_json() {
                        serde_json::Value::Bool(b) => b,
                        _ => {
                            ctx.error(
                                c.pos,
                                format!(
                                    "`continue` of {what} must be `true` or `false`, found {}",
                                    show(c)
                                ),
                            );
                            false
                        }
                    });
                    let mut refs = [Vec::new(), Vec::new()];
                    for (slot, key) in ["active_time_intervals", "mute_time_intervals"]
                        .iter()
                        .enumerate()
                    {
                        let Some(n) = item.get(key) else { continue };
                        let Some(names) = string_list(ctx, n, &format!("`{key}` of {what}")) else {
                            continue;
                        };
                        for (name, pos) in names.iter().zip(n.as_seq().unwrap_or_default()) {
                            if out.time_intervals.contains_key(name) {
                                refs[slot].push(name.clone());
                            } else {
                                ctx.error_hint(
                                    pos.pos,
                                    format!("time interval `{name}` in `{key}` of {what} is not defined"),
                                    did_you_mean(name, out.time_intervals.keys().map(String::as_str)).unwrap_or_else(|| "define it under `_routing.time_intervals`".into()),
                                );
                            }
                        }
                    }
                    if let Some(receiver) = receiver {
                        let [active, mute] = refs;
                        out.overrides.push(RouteOverride {
                            matches: OverrideMatch {
                                alertname,
                                severity,
                                labels,
                            },
                            receiver,
                            group_by: group,
                            timings: timing,
                            cont,
                            active_time_intervals: active,
                            mute_time_intervals: mute,
                        });
                    }
                }
            }
        }
    }
    (ctx.errors() == errors_before).then_some(out)
}
