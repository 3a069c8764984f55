//! Platform files (`_*.yaml`): defaults, optional keys, state filters, routing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dynalert_model::{Platform, Severity, StateFilterDef, ThresholdKey, Tiers};

use crate::diag::{did_you_mean, Ctx};
use crate::routing::parse_platform_routing;
use crate::scalars::{check_keys, map_of, parse_severity, seq_of, show};
use crate::values::{parse_key_name, parse_key_value, KeyEntry};
use crate::yaml::Node;

pub(crate) const PLATFORM_BLOCKS: [&str; 7] = [
    "defaults",
    "optional_overrides",
    "state_filters",
    "dimensions",
    "routing",
    "tenancy",
    "custom_alert_limits",
];

/// Merges one platform file into `platform`; later files override earlier keys.
///
/// With `level`, the file is a `_defaults.yaml` of a subdirectory (a level of a
/// hierarchical conf.d) merged into the platform of its parent directory: maps merge (per
/// key and tier), lists replace. What crosses tenants (`routing`, `tenancy`) stays in the
/// root platform files.
pub(crate) fn merge_file(
    ctx: &mut Ctx,
    doc: Option<&Node>,
    platform: &mut Platform,
    now: DateTime<Utc>,
    level: bool,
) {
    platform.files.push(ctx.file.clone());
    let Some(doc) = doc else { return };
    if map_of(ctx, doc, "a platform file", Some("start with `defaults:`")).is_none() {
        return;
    }
    for (k, v) in doc.as_map().unwrap_or_default() {
        let name = k.as_str().unwrap_or_default();
        if level && matches!(name, "routing" | "tenancy" | "custom_alert_limits") {
            ctx.error_hint(
                k.pos,
                format!("platform-wide block `{name}` in a subdirectory's defaults"),
                "routing and tenancy apply to every tenant: put the block in a platform file of the root directory",
            );
            continue;
        }
        if name == "_metadata" {
            ctx.warn(
                k.pos,
                "`_metadata` in a defaults file is ignored: metadata is never inherited",
                "set `_metadata` in each tenant's own settings; tier and namespaces come from the platform `tenancy:` block",
            );
            continue;
        }
        if crate::compat::upstream_setting(ctx, k, name, &crate::compat::UPSTREAM_PLATFORM_BLOCKS) {
            continue;
        }
        match name {
            "defaults" => merge_defaults(ctx, v, platform, now, level),
            "optional_overrides" => merge_optional(ctx, v, platform),
            "state_filters" => merge_state_filters(ctx, v, platform),
            "dimensions" => merge_dimensions(ctx, v, platform),
            "routing" => {
                if platform.routing.is_some() {
                    // A second block would silently replace the first one's NOC copy, tiers,
                    // guardrails and URL allow-list.
                    ctx.error_hint(
                        k.pos,
                        "a second platform `routing:` block",
                        "keep the platform's routing in one file; merge this block into the first one",
                    );
                } else {
                    platform.routing = parse_platform_routing(ctx, v);
                }
            }
            "tenancy" => merge_tenancy(ctx, v, platform),
            "_custom_alerts" => crate::recipes::merge_platform_custom_alerts(
                ctx,
                v,
                &mut platform.custom_alerts,
                now,
            ),
            "custom_alert_limits" => crate::recipes::merge_custom_alert_limits(ctx, k, v, platform),
            "tenants" => ctx.error_hint(
                k.pos,
                "tenant block `tenants` in a platform file",
                "put each tenant in its own file named after it, e.g. `db-a.yaml`",
            ),
            other => {
                let hint = did_you_mean(other, PLATFORM_BLOCKS).unwrap_or_else(|| {
                    "platform files hold `defaults`, `optional_overrides`, `state_filters`, `dimensions`, `routing` and `tenancy`".into()
                });
                ctx.error_hint(k.pos, format!("unknown platform block `{other}`"), hint);
            }
        }
    }
}

fn merge_defaults(
    ctx: &mut Ctx,
    node: &Node,
    platform: &mut Platform,
    now: DateTime<Utc>,
    level: bool,
) {
    let Some(entries) = map_of(ctx, node, "`defaults`", None) else {
        return;
    };
    let names: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
    let mut parsed: BTreeMap<ThresholdKey, KeyEntry> = BTreeMap::new();
    // Keys this file sets only through `<key>_<tier>`: they add a tier to the key.
    let mut suffix_only: std::collections::BTreeSet<ThresholdKey> = Default::default();
    let mut plain: std::collections::BTreeSet<ThresholdKey> = Default::default();
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default();
        // A free-form value under a key the platform already knows is a broken
        // threshold, not upstream's free-form setting.
        // So is one under a key the shipped rule packs read.
        let base = name.split('{').next().unwrap_or(name);
        let known = platform.knows(base) || crate::tenant::shipped_dimensions().contains_key(base);
        if crate::compat::key_without_component(ctx, k, v, name)
            || (!known && crate::compat::free_form_default(ctx, k, v, name))
        {
            continue;
        }
        // `<key>_critical` next to `<key>` is the compatible tier spelling.
        let (key_text, forced) = match name.rsplit_once('_') {
            // Wherever it is written: next to its base, or in a later file or a level below.
            Some((base, tier)) if names.contains(&base) || platform.knows(base) => {
                Severity::parse(tier).map_or((name, None), |sev| (base, Some(sev)))
            }
            _ => (name, None),
        };
        let Ok(key) = parse_key_name(key_text).map_err(|msg| ctx.error(k.pos, msg)) else {
            continue;
        };
        if key.is_dimensional() && !names.contains(&key.base.as_str()) && !platform.knows(&key.base)
        {
            ctx.error_hint(
                k.pos,
                format!(
                    "dimensional default `{name}` has no tenant-wide key `{}`",
                    key.base
                ),
                format!("add `{}: <value>` to `defaults`", key.base),
            );
            continue;
        }
        if forced.is_some() {
            suffix_only.insert(key.clone());
        } else {
            plain.insert(key.clone());
        }
        let entry = parsed.entry(key).or_default();
        parse_key_value(ctx, v, key_text, forced, entry, now);
    }
    for (key, entry) in parsed {
        let adds_tier = suffix_only.contains(&key) && !plain.contains(&key);
        let sole = entry.sole.is_some();
        // A default has nothing to fall back to after an expiry: refuse rather than
        // accept and ignore it.
        for (_, pos) in entry.tiers.values().filter(|(tv, _)| tv.expires.is_some()) {
            ctx.error_hint(
                *pos,
                format!("`expires` on the platform default `{key}`"),
                "a default applies until the platform file changes: drop `expires`, or put temporary values in tenant files",
            );
        }
        let mut tiers: Tiers = entry
            .tiers
            .into_iter()
            .map(|(s, (tv, _))| (s, tv))
            .collect();
        if let Some(pos) = entry.disable_all {
            tiers.insert_if_absent(Severity::Warning, || {
                dynalert_model::TierValue::fixed(None, ctx.source(pos))
            });
        }
        if platform.optional.remove(&key.base).is_some() {
            ctx.error_hint(
                node.pos,
                format!(
                    "key `{}` is both a default and an optional override",
                    key.base
                ),
                "list it in one place only",
            );
        }
        let source = tiers.values().next().map(|tv| tv.source.clone());
        if level && sole {
            // `"N:tier"` replaces the key's value as a whole (upstream: one row).
            platform
                .chain
                .entry(key.clone())
                .or_default()
                .extend(source);
        } else if level {
            // A level refines the tiers it names and inherits the others (maps merge).
            let chain = platform.chain.entry(key.clone()).or_insert_with(|| {
                platform
                    .defaults
                    .get(&key)
                    .and_then(|t| t.values().next())
                    .map(|tv| vec![tv.source.clone()])
                    .unwrap_or_default()
            });
            chain.extend(source);
        } else if !adds_tier {
            platform.chain.remove(&key);
        }
        // A level without `"N:tier"`, and `<key>_critical` in a later file, add their
        // tiers to the key; anything else replaces it.
        if (level && !sole) || (!level && adds_tier) {
            let merged = platform.defaults.entry(key).or_default();
            for (sev, tv) in tiers.iter() {
                merged.insert(sev, tv.clone());
            }
        } else {
            platform.defaults.insert(key, tiers);
        }
    }
}

fn merge_optional(ctx: &mut Ctx, node: &Node, platform: &mut Platform) {
    let Some(items) = node.as_seq() else {
        ctx.error_hint(
            node.pos,
            format!(
                "`optional_overrides` must be a list of key names, found {}",
                show(node)
            ),
            "write e.g. `optional_overrides: [mysql_slow_queries]`",
        );
        return;
    };
    for item in items {
        let name = item.as_str().unwrap_or_default();
        match parse_key_name(name) {
            Ok(key) if !key.is_dimensional() => {
                if platform.defaults.keys().any(|k| k.base == key.base) {
                    ctx.error_hint(
                        item.pos,
                        format!("key `{name}` is both a default and an optional override"),
                        "list it in one place only",
                    );
                    continue;
                }
                platform.optional.insert(key.base, ctx.source(item.pos));
            }
            Ok(_) => ctx.error(
                item.pos,
                format!("optional key `{name}` must not have labels"),
            ),
            Err(msg) => ctx.error(item.pos, msg),
        }
    }
}

fn merge_state_filters(ctx: &mut Ctx, node: &Node, platform: &mut Platform) {
    let Some(entries) = map_of(ctx, node, "`state_filters`", None) else {
        return;
    };
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default();
        if !parse_key_name(name).is_ok_and(|key| !key.is_dimensional()) {
            ctx.error(
                k.pos,
                format!("bad state filter name `{name}`: use lower-case letters, digits and `_`"),
            );
            continue;
        }
        if name == "maintenance" {
            ctx.warn(
                k.pos,
                "upstream state filter `maintenance` is not a container state filter and is ignored",
                "maintenance is the tenant's `_state_maintenance` setting, with `expires` or `recurring` windows",
            );
            continue;
        }
        if v.as_map().is_none() {
            ctx.error_hint(
                v.pos,
                format!("state filter `{name}` must be a mapping"),
                "write `{reasons: [CrashLoopBackOff], severity: critical}`",
            );
            continue;
        }
        check_keys(
            ctx,
            v,
            &["reasons", "severity"],
            &format!("state filter `{name}`"),
        );
        let reasons: Vec<String> = v
            .get("reasons")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        if reasons.is_empty() {
            ctx.error_hint(
                v.pos,
                format!("state filter `{name}` has no `reasons`"),
                "list the container waiting reasons it matches, e.g. `reasons: [CrashLoopBackOff]`",
            );
            continue;
        }
        let severity = match v.get("severity") {
            Some(s) => parse_severity(ctx, s, &format!("state filter `{name}`")),
            None => Some(Severity::Warning),
        };
        let Some(severity) = severity else { continue };
        platform.state_filters.insert(
            name.to_string(),
            StateFilterDef {
                reasons,
                severity,
                source: ctx.source(k.pos),
            },
        );
    }
}

fn merge_dimensions(ctx: &mut Ctx, node: &Node, platform: &mut Platform) {
    let hint = "write e.g. `dimensions: {container_cpu: [container]}`";
    let Some(entries) = map_of(ctx, node, "`dimensions`", Some(hint)) else {
        return;
    };
    let dims = platform.dimensions.get_or_insert_with(Default::default);
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default();
        let labels: Option<Vec<String>> = v.as_seq().map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        });
        match labels {
            Some(labels) if !labels.is_empty() => {
                dims.insert(key.to_string(), labels);
            }
            _ => ctx.error_hint(
                v.pos,
                format!("dimensions of `{key}` must be a non-empty list of label names"),
                "write e.g. `container_cpu: [container]`",
            ),
        }
    }
}

/// Reserved-key names derived from the platform's state filters.
pub(crate) fn state_filter_keys(platform: &Platform) -> Vec<String> {
    platform
        .state_filters
        .keys()
        .map(|f| format!("_state_{f}"))
        .collect()
}

/// A platform file of the root directory (`_*.yaml`).
pub(crate) fn is_platform_file(name: &str) -> bool {
    !name.contains('/') && name.starts_with('_')
}

/// A `_defaults.yaml` (`.yml`, any case) in a subdirectory: defaults of that level of a
/// hierarchical conf.d.
pub(crate) fn is_level_file(rel: &str) -> bool {
    rel.rsplit_once('/').is_some_and(|(_, base)| {
        crate::load::tenant_id(base).is_some_and(|stem| stem.eq_ignore_ascii_case("_defaults"))
    })
}

/// Any other `_*.yaml` file in a subdirectory: read by nothing (as upstream).
pub(crate) fn is_ignored_level_file(rel: &str) -> bool {
    rel.rsplit_once('/')
        .is_some_and(|(_, base)| base.starts_with('_'))
        && !is_level_file(rel)
}

/// A Kubernetes namespace name: lower-case letters, digits and `-`, at most 63.
pub(crate) fn valid_namespace(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `tenancy: {<tenant>: {tier, namespaces}}`: what the platform assigns to tenants.
/// A namespace assigned twice is an error on the second assignment.
fn merge_tenancy(ctx: &mut Ctx, node: &Node, platform: &mut Platform) {
    if node.is_null() {
        return;
    }
    let hint = "write `tenancy: {db-a: {tier: vip, namespaces: [db-a]}}`";
    let Some(entries) = map_of(ctx, node, "`tenancy`", Some(hint)) else {
        return;
    };
    for (k, v) in entries {
        let id = k.as_str().unwrap_or_default();
        if let Err(message) = crate::load::check_tenant_id(id) {
            let message = message.replace(
                "file name gives the tenant id",
                "`tenancy` names the tenant id",
            );
            ctx.error(k.pos, message);
            continue;
        }
        if let Some(prev) = platform.tenancy.get(id) {
            let at = prev
                .source
                .as_ref()
                .map_or_else(String::new, |s| format!(" (first at {s})"));
            ctx.error_hint(
                k.pos,
                format!("tenant `{id}` is assigned twice in `tenancy`{at}"),
                "keep one entry per tenant",
            );
            continue;
        }
        let mut a = dynalert_model::Assignment {
            source: Some(ctx.source(k.pos)),
            ..Default::default()
        };
        let hint = "write `{tier: vip, namespaces: [db-a]}`";
        if map_of(ctx, v, &format!("`tenancy.{id}`"), Some(hint)).is_none() {
            continue;
        }
        check_keys(ctx, v, &["tier", "namespaces"], &format!("`tenancy.{id}`"));
        if let Some(t) = v.get("tier") {
            match t.as_str() {
                Some(s) if !t.is_null() && !s.is_empty() => a.tier = Some(s.to_string()),
                _ => ctx.error(
                    t.pos,
                    format!("`tenancy.{id}.tier` must be a tier name, found {}", show(t)),
                ),
            }
        }
        if let Some(ns) = v.get("namespaces") {
            let Some(items) = seq_of(ctx, ns, &format!("`tenancy.{id}.namespaces`"), None) else {
                continue;
            };
            for item in items {
                let s = item.as_str().unwrap_or_default();
                if !valid_namespace(s) {
                    ctx.error_hint(
                        item.pos,
                        format!("bad namespace {}", crate::yaml::quote(s)),
                        "Kubernetes namespaces are lower-case letters, digits and `-` (max 63)",
                    );
                    continue;
                }
                match platform.namespace_owner.get(s) {
                    Some(owner) => ctx.error_hint(
                        item.pos,
                        format!("namespace `{s}` is already assigned to tenant `{owner}`"),
                        "a namespace belongs to one tenant: remove one of the two assignments",
                    ),
                    None => {
                        std::sync::Arc::make_mut(&mut platform.namespace_owner)
                            .insert(s.to_string(), id.to_string());
                        a.namespaces.push(s.to_string());
                    }
                }
            }
        }
        std::sync::Arc::make_mut(&mut platform.tenancy).insert(id.to_string(), a);
    }
}

/// Checks what needs every platform file: tiers assigned in `tenancy` exist in
/// `routing.tiers` (when the platform routes by tier).
pub(crate) fn finish_platform(ctx: &mut Ctx, platform: &Platform) {
    let Some(routing) = &platform.routing else {
        return;
    };
    for (id, a) in platform.tenancy.iter() {
        let Some(tier) = &a.tier else { continue };
        if routing.tiers.contains_key(tier) {
            continue;
        }
        // A tier without a route of its own (`standard`) is fine; one that is a near miss
        // of a routed tier (`VIP`, `vipp`) would silently lose its pages.
        let near = routing
            .tiers
            .keys()
            .find(|t| t.eq_ignore_ascii_case(tier))
            .map(|t| format!("tier names match exactly: did you mean `{t}`?"))
            .or_else(|| did_you_mean(tier, routing.tiers.keys().map(String::as_str)));
        let (file, line) = a
            .source
            .as_ref()
            .map_or((ctx.file.clone(), 1), |s| (s.file.clone(), s.line));
        let Some(hint) = near else { continue };
        ctx.out.push(crate::diag::Diagnostic {
            level: crate::diag::Level::Error,
            file,
            pos: crate::yaml::Pos { line, col: 1 },
            message: format!("tenant `{id}` is assigned the unknown tier `{tier}`"),
            hint: Some(hint),
        });
    }
}
