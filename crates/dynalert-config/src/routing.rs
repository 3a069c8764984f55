//! Validation of the routing blocks (`routing:` in platform files, `_routing` in tenant files).
//!
//! Every problem is reported with its position: unknown keys (with did-you-mean),
//! timings outside the platform guardrails, receiver types the platform does not
//! allow, missing receiver fields, URLs outside `routing.allowed_url_patterns`,
//! and dangling receiver references. Secrets never appear in a message.

use std::collections::{BTreeMap, BTreeSet};

use dynalert_model::routing::{
    check_host_port, check_url, denied_host, mask_url, Enforced, FieldKind, Guardrails,
    OverrideMatch, PlatformReceiver, PlatformRouting, Range, Receiver, ReceiverType, RouteOverride,
    TenantRouting, TierRoute, Timings, BLACKHOLE_RECEIVER,
};
use dynalert_model::{Platform, Severity};
use regex::Regex;

use crate::diag::{did_you_mean, Ctx};
use crate::values::{check_keys, parse_duration_secs, parse_severity, show};
use crate::yaml::Node;

const PLATFORM_KEYS: [&str; 7] = [
    "default_receiver",
    "receivers",
    "enforced",
    "tiers",
    "defaults",
    "guardrails",
    "allowed_url_patterns",
];
const TENANT_KEYS: [&str; 6] = [
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "overrides",
];
const TIMING_KEYS: [&str; 3] = ["group_wait", "group_interval", "repeat_interval"];
/// Upper bounds of the timings whatever the guardrails say: Alertmanager's durations
/// overflow past about 292 years, and values beyond these bounds are mistakes.
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
    if node.as_map().is_none() {
        ctx.error(
            node.pos,
            format!("{what} must be a mapping, found {}", show(node)),
        );
        return true;
    }
    false
}

fn duration(ctx: &mut Ctx, node: &Node, what: &str) -> Option<u64> {
    let text = node.as_str().unwrap_or_default();
    match parse_duration_secs(text).and_then(|s| u64::try_from(s).ok()) {
        Some(s) if node.as_map().is_none() && node.as_seq().is_none() => Some(s),
        _ => {
            ctx.error_hint(
                node.pos,
                format!("{what} is not a duration: {}", show(node)),
                "use a duration such as `30s`, `5m` or `4h`",
            );
            None
        }
    }
}

fn string_list(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Vec<String>> {
    let Some(items) = node.as_seq() else {
        ctx.error(
            node.pos,
            format!("{what} must be a list, found {}", show(node)),
        );
        return None;
    };
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
    match node.as_str() {
        Some(s) if !node.is_null() && !s.trim().is_empty() => Some(s.to_string()),
        _ => {
            ctx.error(
                node.pos,
                format!("{what} must be a non-empty string, found {}", show(node)),
            );
            None
        }
    }
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
fn timings(ctx: &mut Ctx, node: &Node, guard: &Guardrails, what: &str) -> Timings {
    let mut t = Timings::default();
    for key in TIMING_KEYS {
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
        let range = match key {
            "group_wait" => guard.group_wait,
            "group_interval" => guard.group_interval,
            _ => guard.repeat_interval,
        };
        let (_, limit) = HARD_LIMITS
            .iter()
            .find(|(k, _)| *k == key)
            .copied()
            .unwrap_or(("", u64::MAX));
        if secs > limit {
            ctx.error_hint(
                v.pos,
                format!(
                    "`{key}` of {what} is `{}`, longer than {} allows",
                    v.as_str().unwrap_or_default(),
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
        if let Some(r) = range {
            if secs < r.min || secs > r.max {
                ctx.error_hint(
                    v.pos,
                    format!(
                        "`{key}` of {what} is `{}`, outside the platform guardrail",
                        v.as_str().unwrap_or_default()
                    ),
                    format!(
                        "use a value from `{}` to `{}`",
                        fmt_secs(r.min),
                        fmt_secs(r.max)
                    ),
                );
                continue;
            }
        }
        match key {
            "group_wait" => t.group_wait = Some(secs),
            "group_interval" => t.group_interval = Some(secs),
            _ => t.repeat_interval = Some(secs),
        }
    }
    t
}

/// Compact duration text (`90s` -> `1m30s`).
pub fn fmt_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

fn guardrails(ctx: &mut Ctx, node: &Node) -> Guardrails {
    let mut g = Guardrails::default();
    if err_not_map(ctx, node, "`routing.guardrails`") {
        return g;
    }
    check_keys(ctx, node, &GUARDRAIL_KEYS, "`routing.guardrails`");
    for key in TIMING_KEYS {
        let Some(v) = node.get(key) else { continue };
        let what = format!("`routing.guardrails.{key}`");
        if err_not_map(ctx, v, &what) {
            continue;
        }
        check_keys(ctx, v, &["min", "max"], &what);
        let min = v
            .get("min")
            .and_then(|n| duration(ctx, n, &format!("`min` of {what}")));
        let max = v
            .get("max")
            .and_then(|n| duration(ctx, n, &format!("`max` of {what}")));
        let range = Range {
            min: min.unwrap_or(0),
            max: max.unwrap_or(u64::MAX),
        };
        if range.min > range.max {
            ctx.error(v.pos, format!("{what} has `min` greater than `max`"));
            continue;
        }
        match key {
            "group_wait" => g.group_wait = Some(range),
            "group_interval" => g.group_interval = Some(range),
            _ => g.repeat_interval = Some(range),
        }
    }
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
    let names: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
    let hint = did_you_mean(name, names.iter().copied()).unwrap_or_else(|| {
        format!(
            "allowed receiver types are {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
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
                if let Some(url) = v.as_str().filter(|_| v.as_map().is_none()) {
                    if let Err(e) = check_url(url) {
                        ctx.error(
                            v.pos,
                            format!("`{key}` `{}` is not a valid URL: it {e}", mask_url(url)),
                        );
                    }
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
    let Some(items) = node.as_seq() else {
        ctx.error_hint(
            node.pos,
            format!("`routing.receivers` must be a list, found {}", show(node)),
            "write Alertmanager receivers, e.g. `- {name: noc, webhook_configs: [{url: …}]}`",
        );
        return Vec::new();
    };
    let mut out: Vec<PlatformReceiver> = Vec::new();
    for item in items {
        if err_not_map(ctx, item, "a platform receiver") {
            continue;
        }
        let Some(name) = item
            .get("name")
            .and_then(|n| text(ctx, n, "receiver `name`"))
        else {
            if item.get("name").is_none() {
                ctx.error(item.pos, "platform receiver has no `name`");
            }
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
    if err_not_map(ctx, node, "`routing`") {
        return None;
    }
    let errors_before = ctx.out.iter().filter(|d| d.is_error()).count();
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
    let default_receiver = match node.get("default_receiver") {
        Some(n) => receiver_ref(ctx, n, &names, "`default_receiver`"),
        None => {
            ctx.error_hint(
                node.pos,
                "`routing` has no `default_receiver`",
                "add `default_receiver: <platform receiver>`",
            );
            None
        }
    };
    let enforced = node.get("enforced").and_then(|e| {
        if err_not_map(ctx, e, "`routing.enforced`") {
            return None;
        }
        check_keys(ctx, e, &["receiver", "severities"], "`routing.enforced`");
        let receiver = match e.get("receiver") {
            Some(r) => receiver_ref(ctx, r, &names, "enforced receiver")?,
            None => {
                ctx.error(e.pos, "`routing.enforced` has no `receiver`");
                return None;
            }
        };
        let severities = match e.get("severities") {
            Some(s) => severities(ctx, s, "`routing.enforced.severities`")?,
            None => vec![Severity::Critical],
        };
        Some(Enforced {
            receiver,
            severities,
        })
    });
    let mut tiers = BTreeMap::new();
    if let Some(t) = node.get("tiers") {
        if !err_not_map(ctx, t, "`routing.tiers`") {
            for (k, v) in t.as_map().unwrap_or_default() {
                let tier = k.as_str().unwrap_or_default().to_string();
                let what = format!("tier `{tier}`");
                if err_not_map(ctx, v, &what) {
                    continue;
                }
                let mut allowed = vec!["receiver", "severities"];
                allowed.extend(TIMING_KEYS);
                check_keys(ctx, v, &allowed, &what);
                let receiver = match v.get("receiver") {
                    Some(r) => receiver_ref(ctx, r, &names, &format!("receiver of {what}")),
                    None => {
                        ctx.error(v.pos, format!("{what} has no `receiver`"));
                        None
                    }
                };
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
        }
    }
    let mut group = vec!["alertname".to_string(), "tenant".to_string()];
    let mut defaults = Timings::default();
    if let Some(d) = node.get("defaults") {
        if !err_not_map(ctx, d, "`routing.defaults`") {
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
    let errors_after = ctx.out.iter().filter(|d| d.is_error()).count();
    if errors_after > errors_before {
        return None;
    }
    Some(PlatformRouting {
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

fn tenant_receiver(
    ctx: &mut Ctx,
    node: &Node,
    routing: Option<&PlatformRouting>,
    what: &str,
) -> Option<Receiver> {
    if node.as_map().is_none() {
        ctx.error_hint(
            node.pos,
            format!("{what} must be a mapping, found {}", show(node)),
            "write e.g. `{type: webhook, url: \"https://hooks.example.com/team\"}`",
        );
        return None;
    }
    let default_guard = Guardrails::default();
    let guard = routing.map_or(&default_guard, |r| &r.guardrails);
    let allowed_types = guard
        .receiver_types
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
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
    let patterns = allow_list(
        routing
            .map(|r| r.allowed_url_patterns.as_slice())
            .unwrap_or_default(),
    );
    let mut fields = BTreeMap::new();
    let mut ok = true;
    for (k, v) in node.as_map().unwrap_or_default() {
        let name = k.as_str().unwrap_or_default();
        let Some(spec) = kind.field(name) else {
            continue;
        };
        let value = match spec.kind {
            FieldKind::Text | FieldKind::Url => match v.as_str() {
                Some(s) if !v.is_null() && !s.trim().is_empty() && v.as_map().is_none() => {
                    serde_json::Value::String(s.to_string())
                }
                _ => {
                    let shown = if spec.secret {
                        "a secret".to_string()
                    } else {
                        show(v)
                    };
                    ctx.error(
                        v.pos,
                        format!("`{name}` must be a non-empty string, found {shown}"),
                    );
                    ok = false;
                    continue;
                }
            },
            FieldKind::Bool => match v.to_json() {
                b @ serde_json::Value::Bool(_) => b,
                _ => {
                    ctx.error(
                        v.pos,
                        format!("`{name}` must be `true` or `false`, found {}", show(v)),
                    );
                    ok = false;
                    continue;
                }
            },
            FieldKind::Count => match v.to_json() {
                serde_json::Value::Number(n) if n.as_u64().is_some() => {
                    serde_json::Value::Number(n)
                }
                _ => {
                    ctx.error(
                        v.pos,
                        format!("`{name}` must be a whole number, found {}", show(v)),
                    );
                    ok = false;
                    continue;
                }
            },
        };
        if spec.kind == FieldKind::Url {
            let url = value.as_str().unwrap_or_default();
            let shown = if spec.secret {
                mask_url(url)
            } else {
                url.to_string()
            };
            let host = match check_url(url) {
                Ok(h) => h,
                Err(e) => {
                    ctx.error_hint(
                        v.pos,
                        format!("`{name}` `{shown}` is not a valid URL: it {e}"),
                        "write an absolute URL such as `https://hooks.example.com/path`",
                    );
                    ok = false;
                    continue;
                }
            };
            let allowed = patterns.iter().any(|p| p.is_match(url));
            if !patterns.is_empty() && !allowed {
                ctx.error_hint(
                    v.pos,
                    format!("URL `{shown}` is outside the platform allow-list"),
                    "the platform allows only URLs matching `routing.allowed_url_patterns`; ask the platform team to add it",
                );
                ok = false;
                continue;
            }
            // Checked where Alertmanager configuration is generated (a `routing:` block);
            // a directory without one (an existing threshold-exporter layout) keeps loading.
            if let Some(why) = denied_host(&host.host).filter(|_| !allowed && routing.is_some()) {
                ctx.error_hint(
                    v.pos,
                    format!("URL `{shown}` points to {why}"),
                    "loopback, link-local and metadata addresses are denied unless `routing.allowed_url_patterns` allows them",
                );
                ok = false;
                continue;
            }
        }
        if kind == ReceiverType::Email && name == "smarthost" {
            if let Err(e) = check_host_port(value.as_str().unwrap_or_default()) {
                ctx.error(v.pos, format!("`smarthost` {e}"));
                ok = false;
                continue;
            }
        }
        fields.insert(name.to_string(), value);
    }
    let missing: Vec<String> = kind
        .required()
        .iter()
        .filter(|group| !group.iter().any(|f| fields.contains_key(*f)))
        .map(|group| {
            group
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect();
    if ok && !missing.is_empty() {
        let needed: Vec<String> = kind
            .required()
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        ctx.error_hint(
            node.pos,
            format!("{what} (`{kind}`) is missing {}", missing.join(" and ")),
            format!("`{kind}` receivers need {}", needed.join(", ")),
        );
        ok = false;
    }
    ok.then_some(Receiver { kind, fields })
}

/// Parses a tenant `_routing` block against the merged platform. `None` when it has errors.
pub(crate) fn parse_tenant_routing(
    ctx: &mut Ctx,
    node: &Node,
    platform: &Platform,
) -> Option<TenantRouting> {
    if err_not_map(ctx, node, "`_routing`") {
        return None;
    }
    let errors_before = ctx.out.iter().filter(|d| d.is_error()).count();
    let routing = platform.routing.as_ref();
    check_keys(ctx, node, &TENANT_KEYS, "`_routing`");
    let default_guard = Guardrails::default();
    let guard = routing.map_or(&default_guard, |r| &r.guardrails);
    let mut out = TenantRouting {
        receiver: node
            .get("receiver")
            .and_then(|r| tenant_receiver(ctx, r, routing, "`_routing.receiver`")),
        group_by: node
            .get("group_by")
            .and_then(|g| group_by(ctx, g, "`_routing.group_by`")),
        timings: timings(ctx, node, guard, "`_routing`"),
        overrides: Vec::new(),
    };
    if let Some(list) = node.get("overrides") {
        match list.as_seq() {
            None => ctx.error_hint(
                list.pos,
                format!("`_routing.overrides` must be a list, found {}", show(list)),
                "write `- {alertname: X, receiver: {type: webhook, url: …}}`",
            ),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let what = format!("override {}", i + 1);
                    if err_not_map(ctx, item, &format!("`_routing.overrides` entry {}", i + 1)) {
                        continue;
                    }
                    check_keys(ctx, item, &["alertname", "severity", "receiver"], &what);
                    let alertname = item
                        .get("alertname")
                        .and_then(|a| text(ctx, a, "`alertname`"));
                    let severity = item
                        .get("severity")
                        .and_then(|s| parse_severity(ctx, s, &format!("`severity` of {what}")));
                    if item.get("alertname").is_none() && item.get("severity").is_none() {
                        ctx.error_hint(
                            item.pos,
                            format!("{what} matches nothing"),
                            "add `alertname:` or `severity:`",
                        );
                        continue;
                    }
                    let receiver = match item.get("receiver") {
                        Some(r) => tenant_receiver(ctx, r, routing, &format!("receiver of {what}")),
                        None => {
                            ctx.error(item.pos, format!("{what} has no `receiver`"));
                            None
                        }
                    };
                    if let Some(receiver) = receiver {
                        out.overrides.push(RouteOverride {
                            matches: OverrideMatch {
                                alertname,
                                severity,
                            },
                            receiver,
                        });
                    }
                }
            }
        }
    }
    let errors_after = ctx.out.iter().filter(|d| d.is_error()).count();
    (errors_after == errors_before).then_some(out)
}
