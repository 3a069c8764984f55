//! Tenant files (`<tenant>.yaml`): thresholds and reserved `_` settings of one tenant.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dynalert_model::{
    Maintenance, Metadata, Platform, RecurringWindow, Severity, SilentMode, SilentTarget, Tenant,
    ThresholdKey, TierValue, Tiers,
};

use crate::diag::{did_you_mean, did_you_mean_or_list, Ctx, Diagnostic};
use crate::platform::{state_filter_keys, PLATFORM_BLOCKS};
use crate::routing::parse_tenant_routing;
use crate::scalars::{
    check_keys, duration_where, is_disable, is_enable, map_of, parse_expires, parse_switch,
    parse_time, parse_timezone, required, seq_of, show,
};
use crate::values::{parse_key_name, parse_key_value, KeyEntry};
use crate::yaml::{Node, Pos};

const RESERVED: [&str; 6] = [
    "_custom_alerts",
    "_metadata",
    "_routing",
    "_silent_mode",
    "_state_maintenance",
    "_severity_dedup",
];

/// One tenant declared in a file: its id, where it is declared, the tenant when it is
/// valid, and its own findings.
pub(crate) struct Declared {
    pub id: String,
    pub pos: Pos,
    pub tenant: Option<Tenant>,
    pub diags: Vec<Diagnostic>,
}

/// What a tenant file declares.
#[derive(Default)]
pub(crate) struct FileTenants {
    /// Findings about the file as a whole; an error here rejects every tenant of the file.
    pub diags: Vec<Diagnostic>,
    pub tenants: Vec<Declared>,
}

impl FileTenants {
    pub fn file_ok(&self) -> bool {
        !self.diags.iter().any(Diagnostic::is_error)
    }
}

/// What validating a tenant needs of its platform, computed once per platform rather
/// than once per tenant.
pub(crate) struct PlatformIndex<'p> {
    pub platform: &'p Platform,
    catalogue: std::collections::BTreeSet<&'p str>,
    filter_keys: Vec<String>,
}

impl<'p> PlatformIndex<'p> {
    pub fn new(platform: &'p Platform) -> PlatformIndex<'p> {
        PlatformIndex {
            platform,
            catalogue: platform.catalogue(),
            filter_keys: state_filter_keys(platform),
        }
    }
}

/// Validates a tenant file: `tenants:` holds one or more tenants, each named by its key
/// (upstream's format; a file may hold several tenants, as upstream's `tenants.yaml`).
pub(crate) fn parse_tenants_file(
    file: &Arc<str>,
    stem: &str,
    doc: Option<&Node>,
    platform: &Platform,
    index: &PlatformIndex,
    now: DateTime<Utc>,
) -> FileTenants {
    let mut out = FileTenants::default();
    let mut ctx = Ctx::new(file.clone(), &mut out.diags);
    let example = crate::load::check_tenant_id(stem).map_or("db-a", |()| stem);
    let Some(doc) = doc else {
        return out;
    };
    let hint = format!("start with `tenants:` and then `  {example}:`");
    let Some(top) = map_of(&mut ctx, doc, "a tenant file", Some(&hint)) else {
        return out;
    };
    let mut block = None;
    for (k, v) in top {
        let name = k.as_str().unwrap_or_default();
        if name == "tenants" {
            block = Some(v);
        } else if PLATFORM_BLOCKS.contains(&name) {
            platform_block_error(&mut ctx, k);
        } else {
            let hint = did_you_mean(name, ["tenants"])
                .unwrap_or_else(|| format!("a tenant file holds `tenants: {{{example}: …}}` only"));
            ctx.error_hint(
                k.pos,
                format!("unknown top-level key `{name}` in a tenant file"),
                hint,
            );
        }
    }
    let Some(block) = block else {
        ctx.error_hint(
            doc.pos,
            "tenant file has no `tenants:` block",
            format!("wrap the settings in `tenants:` and `  {example}:`"),
        );
        return out;
    };
    let hint = format!("write `tenants:` and then `  {example}:`");
    let Some(entries) = map_of(&mut ctx, block, "`tenants`", Some(&hint)) else {
        return out;
    };
    if entries.is_empty() {
        ctx.error_hint(
            block.pos,
            "`tenants` declares no tenant",
            format!("add `  {example}:` with the tenant's settings, or delete the file"),
        );
        return out;
    }
    for (k, v) in entries {
        let id = k.as_str().unwrap_or_default().to_string();
        let mut declared = Declared {
            id: id.clone(),
            pos: k.pos,
            tenant: None,
            diags: Vec::new(),
        };
        let mut tctx = Ctx::new(file.clone(), &mut declared.diags);
        if crate::load::check_tenant_id(&id).is_err() {
            tctx.error_hint(
                k.pos,
                format!("{} is not a valid tenant id", crate::yaml::quote(&id)),
                "tenant ids are lower-case letters, digits, `-`, `_` and `.`, start and end with a letter or digit, at most 63 characters",
            );
            out.tenants.push(declared);
            continue;
        }
        let mut tenant = Tenant {
            id: id.clone(),
            file: file.clone(),
            thresholds: BTreeMap::new(),
            state_filters: BTreeMap::new(),
            metadata: Metadata::default(),
            routing: None,
            silent_mode: None,
            maintenance: None,
            severity_dedup: true,
            custom_alerts: Vec::new(),
            level: None,
        };
        tenant_body(&mut tctx, v, platform, index, &mut tenant, now);
        // Tier and namespaces are the platform's; the file's `_metadata` only claimed them.
        tenant.apply_tenancy(platform);
        if !declared.diags.iter().any(Diagnostic::is_error) {
            declared.tenant = Some(tenant);
        }
        out.tenants.push(declared);
    }
    out
}

fn platform_block_error(ctx: &mut Ctx, k: &Node) {
    let name = k.as_str().unwrap_or_default();
    ctx.error_hint(
        k.pos,
        format!("platform-only block `{name}` in a tenant file"),
        "move it to a platform file such as `_defaults.yaml`",
    );
}

fn tenant_body(
    ctx: &mut Ctx,
    body: &Node,
    platform: &Platform,
    index: &PlatformIndex,
    tenant: &mut Tenant,
    now: DateTime<Utc>,
) {
    if body.is_null() {
        return;
    }
    let Some(entries) = map_of(ctx, body, &format!("settings of `{}`", tenant.id), None) else {
        return;
    };
    let filter_keys = &index.filter_keys;
    let catalogue = &index.catalogue;
    let mut keys: BTreeMap<ThresholdKey, KeyEntry> = BTreeMap::new();
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default();
        if name.starts_with('_') {
            reserved(ctx, k, v, platform, filter_keys, tenant, now);
            continue;
        }
        if PLATFORM_BLOCKS.contains(&name) {
            platform_block_error(ctx, k);
            continue;
        }
        if crate::compat::key_without_component(ctx, k, v, name) {
            continue;
        }
        let Ok(key) = parse_key_name(name).map_err(|msg| ctx.error(k.pos, msg)) else {
            continue;
        };
        let (key, forced) = if catalogue.contains(key.base.as_str()) {
            (key, None)
        } else {
            match key
                .base
                .rsplit_once('_')
                .and_then(|(b, t)| Some((b, Severity::parse(t)?)))
            {
                Some((base, sev)) if catalogue.contains(base) => (
                    ThresholdKey {
                        base: base.to_string(),
                        dims: key.dims,
                    },
                    Some(sev),
                ),
                Some((base, sev)) => {
                    let message =
                        format!("`_{sev}` key `{name}` has no base key `{base}` in the catalogue");
                    let add = format!(
                        "add `{base}` to `defaults` or `optional_overrides` in a platform file"
                    );
                    unknown_key(ctx, k, base, catalogue, message, add);
                    continue;
                }
                None => {
                    let message = format!("unknown key `{}`", key.base);
                    let add =
                        "add the key to `defaults` or `optional_overrides` in a platform file";
                    unknown_key(ctx, k, &key.base, catalogue, message, add.into());
                    continue;
                }
            }
        };
        if !dimensions_allowed(ctx, k, &key, platform) {
            continue;
        }
        let display = key.to_string();
        let entry = keys.entry(key).or_default();
        parse_key_value(ctx, v, &display, forced, entry, now);
    }
    for (key, entry) in keys {
        let platform_tiers = platform.defaults.get(&key);
        // An optional key has no default to fall back to: a value that expires would
        // just vanish. Refused, as upstream does.
        let expiring =
            |(tv, _): &&(TierValue, Pos)| platform_tiers.is_none() && tv.expires.is_some();
        for (_, pos) in entry.tiers.values().filter(expiring) {
            ctx.error_hint(
                *pos,
                format!("`expires` on `{key}`, which has no platform default to return to"),
                "drop `expires` and remove the key when it should stop, or ask the platform team for a default",
            );
        }
        let mut tiers = Tiers::new();
        for (sev, (tv, pos)) in entry.tiers {
            let default = platform_tiers.and_then(|p| p.get(&sev));
            warn_if_default(ctx, &key, sev, &tv, default, pos);
            tiers.insert(sev, tv);
        }
        if let Some(pos) = entry.sole {
            // `"N:critical"` is the key's one row: the default's other tiers do not
            // apply next to it.
            for sev in platform_tiers.into_iter().flat_map(Tiers::keys) {
                tiers.insert_if_absent(sev, || TierValue::fixed(None, ctx.source(pos)));
            }
        }
        if let Some(pos) = entry.disable_all {
            let mut disable = |sev: Severity| {
                tiers.insert_if_absent(sev, || TierValue::fixed(None, ctx.source(pos)));
            };
            disable(Severity::Warning);
            for sev in platform_tiers.into_iter().flat_map(Tiers::keys) {
                disable(sev);
            }
            if key.is_dimensional() {
                // No alert for that dimension at any tier.
                for sev in Severity::ALL {
                    disable(sev);
                }
            }
        }
        tenant.thresholds.insert(key, tiers);
    }
}

/// A key outside the platform's catalogue is not served. It is an error when it is a
/// likely typo of a catalogue key (at most two edits away, or cut short), so a misspelt threshold never
/// goes unnoticed; otherwise a warning (upstream files set keys of other rule packs that
/// the platform does not offer, and upstream does not serve them either).
fn unknown_key(
    ctx: &mut Ctx,
    k: &Node,
    base: &str,
    catalogue: &std::collections::BTreeSet<&str>,
    message: String,
    add: String,
) {
    let hint = did_you_mean(base, catalogue.iter().copied()).unwrap_or(add);
    let typo = catalogue
        .iter()
        .any(|c| strsim::levenshtein(base, c) <= 2 || c.starts_with(base) || base.starts_with(c));
    if typo {
        ctx.error_hint(k.pos, message, hint);
    } else {
        ctx.warn(k.pos, format!("{message}; not served"), hint);
    }
}

/// A dimensional key must use a label the platform declares for that key under
/// `dimensions:` (the labels the rule packs honour); otherwise its row would be folded
/// into the tenant-wide threshold and change the threshold of every other series.
/// Labels each key of the shipped rule packs may be refined by (`labels:` in
/// `rules/catalogue.yaml`): what applies when the platform declares no `dimensions:`.
pub(crate) fn shipped_dimensions() -> &'static BTreeMap<String, Vec<String>> {
    static DIMS: std::sync::OnceLock<BTreeMap<String, Vec<String>>> = std::sync::OnceLock::new();
    DIMS.get_or_init(|| {
        let text = include_str!("../../../rules/catalogue.yaml");
        let doc = crate::yaml::parse_with(text, crate::yaml::Limits::default())
            .ok()
            .flatten();
        let mut out = BTreeMap::new();
        let keys = doc
            .as_ref()
            .and_then(|d| d.get("keys"))
            .and_then(Node::as_map);
        for (k, v) in keys.unwrap_or_default() {
            let labels: Vec<String> = v
                .get("labels")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect();
            if let Some(name) = k.as_str() {
                out.insert(name.to_string(), labels);
            }
        }
        out
    })
}

fn dimensions_allowed(ctx: &mut Ctx, k: &Node, key: &ThresholdKey, platform: &Platform) -> bool {
    let allowed = match &platform.dimensions {
        // Without a `dimensions:` block (upstream's format), a key of the shipped packs
        // may be refined only by the labels those packs honour: a row on any other label
        // would be folded into the tenant-wide threshold.
        None => match shipped_dimensions().get(&key.base) {
            Some(allowed) => allowed.as_slice(),
            None => return true,
        },
        Some(declared) => declared
            .get(&key.base)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    };
    let mut ok = true;
    for d in key.dims.iter().filter(|d| !allowed.contains(&d.label)) {
        ok = false;
        let hint = match &platform.dimensions {
            None if allowed.is_empty() => format!("the shipped rule packs honour no per-label threshold for `{}`; a platform with its own rules declares them under `dimensions:`", key.base),
            None => format!(
                "the shipped rule packs refine `{}` by {}",
                key.base,
                allowed.join(", ")
            ),
            Some(declared) if allowed.is_empty() => {
                let refinable: Vec<String> = declared
                    .iter()
                    .map(|(k, l)| format!("`{k}` by {}", l.join(", ")))
                    .collect();
                format!(
                    "no rule honours a per-label threshold for `{}`; refinable keys: {}",
                    key.base,
                    refinable.join("; ")
                )
            }
            Some(_) => format!("`{}` can be refined by {}", key.base, allowed.join(", ")),
        };
        ctx.error_hint(
            k.pos,
            format!("`{}` cannot be refined by label `{}`", key.base, d.label),
            hint,
        );
    }
    ok
}

fn warn_if_default(
    ctx: &mut Ctx,
    key: &ThresholdKey,
    sev: Severity,
    tv: &TierValue,
    default: Option<&TierValue>,
    pos: crate::yaml::Pos,
) {
    let Some(d) = default else { return };
    if tv.overrides.is_empty()
        && d.overrides.is_empty()
        && tv.expires.is_none()
        && tv.default == d.default
    {
        let shown = tv.default.map_or("disable".to_string(), |v| v.to_string());
        ctx.warn(
            pos,
            format!("`{key}` {sev} is {shown}, the same as the platform default"),
            "remove the line to follow the platform default",
        );
    }
}

fn reserved(
    ctx: &mut Ctx,
    k: &Node,
    v: &Node,
    platform: &Platform,
    filter_keys: &[String],
    tenant: &mut Tenant,
    now: DateTime<Utc>,
) {
    let name = k.as_str().unwrap_or_default();
    if crate::compat::upstream_setting(ctx, k, name, &crate::compat::UPSTREAM_TENANT_KEYS) {
        return;
    }
    match name {
        "_custom_alerts" => {
            let own = crate::recipes::parse_custom_alerts(
                ctx,
                v,
                dynalert_model::RecipeScope::Tenant,
                now,
            );
            crate::recipes::check_against_platform(ctx, v, &own, &platform.custom_alerts);
            tenant.custom_alerts = own;
        }
        "_metadata" => tenant.metadata = metadata(ctx, v, &tenant.id, platform),
        "_routing" => tenant.routing = parse_tenant_routing(ctx, v, platform, &tenant.id),
        "_silent_mode" => tenant.silent_mode = silent_mode(ctx, v, now),
        "_state_maintenance" => tenant.maintenance = maintenance(ctx, v, now),
        "_severity_dedup" => {
            let on = parse_switch(ctx, v, "`_severity_dedup`");
            tenant.severity_dedup = on.unwrap_or(tenant.severity_dedup);
        }
        _ if filter_keys.iter().any(|f| f == name) => {
            let filter = &name["_state_".len()..];
            if let Some(on) = parse_switch(ctx, v, &format!("`{name}`")) {
                tenant
                    .state_filters
                    .insert(filter.to_string(), (on, ctx.source(k.pos)));
            }
        }
        _ => {
            let candidates = RESERVED
                .iter()
                .copied()
                .chain(filter_keys.iter().map(String::as_str));
            // `filter_keys` are the platform's state filters as `_state_<filter>` keys.
            let hint = did_you_mean_or_list(name, candidates, "reserved keys are");
            let what = if name.starts_with("_state_") {
                format!("unknown state filter key `{name}`")
            } else {
                format!("unknown reserved key `{name}`")
            };
            ctx.error_hint(k.pos, what, hint);
        }
    }
}

fn string_field(ctx: &mut Ctx, node: &Node, field: &str) -> Option<String> {
    let v = node.get(field)?;
    let s = v.as_str().filter(|_| !v.is_null());
    if s.is_none() {
        ctx.error(
            v.pos,
            format!("`{field}` must be a string, found {}", show(v)),
        );
    }
    s.map(str::to_string)
}

fn metadata(ctx: &mut Ctx, node: &Node, id: &str, platform: &Platform) -> Metadata {
    let mut m = Metadata::default();
    let hint =
        "write `{tier: vip, owner: dba-team, runbook_url: \"https://…\", namespaces: [db-a]}`";
    if map_of(ctx, node, "`_metadata`", Some(hint)).is_none() {
        return m;
    }
    m.source = Some(ctx.source(node.pos));
    for (k, _) in node.as_map().unwrap_or_default() {
        if let Some(name) = k.as_str() {
            crate::compat::upstream_setting(ctx, k, name, &crate::compat::UPSTREAM_METADATA_FIELDS);
        }
    }
    check_keys(
        ctx,
        node,
        &[
            "tier",
            "owner",
            "runbook_url",
            "namespaces",
            crate::compat::UPSTREAM_METADATA_FIELDS[0].0,
        ],
        "`_metadata`",
    );
    m.tier = string_field(ctx, node, "tier");
    if let (Some(claim), Some(n)) = (&m.tier, node.get("tier")) {
        check_tier_claim(ctx, n.pos, id, claim, platform);
    }
    m.owner = string_field(ctx, node, "owner");
    m.runbook_url = string_field(ctx, node, "runbook_url");
    if let (Some(url), Some(n)) = (&m.runbook_url, node.get("runbook_url")) {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            ctx.error_hint(
                n.pos,
                format!("`runbook_url` `{url}` is not an http(s) URL"),
                "use a full URL",
            );
        }
    }
    let namespaces = node.get("namespaces");
    if let Some(items) = namespaces.and_then(|ns| seq_of(ctx, ns, "`namespaces`", None)) {
        for item in items {
            let s = item.as_str().unwrap_or_default();
            if !crate::platform::valid_namespace(s) {
                ctx.error_hint(
                    item.pos,
                    format!("bad namespace {}", crate::yaml::quote(s)),
                    "Kubernetes namespaces are lower-case letters, digits and `-` (max 63)",
                );
            } else if !platform.namespaces_of(id).iter().any(|n| n == s) {
                let hint = match platform.namespace_owner.get(s) {
                    Some(owner) if owner != id => format!(
                        "the platform assigns `{s}` to tenant `{owner}`; namespaces are assigned under `tenancy:` in a platform file"
                    ),
                    _ => format!(
                        "ask the platform team to add `{id}: {{namespaces: [{s}]}}` under `tenancy:` in a platform file"
                    ),
                };
                ctx.error_hint(
                    item.pos,
                    format!("namespace `{s}` is not assigned to tenant `{id}` by the platform"),
                    hint,
                );
            }
        }
    }
    m
}

/// A tenant's `tier:` is a claim: it must be the tier the platform assigns, exactly.
fn check_tier_claim(ctx: &mut Ctx, pos: Pos, id: &str, claim: &str, platform: &Platform) {
    let assigned = platform.tier_of(id);
    if assigned == Some(claim) {
        return;
    }
    let tiers: Vec<&str> = platform
        .routing
        .as_ref()
        .map(|r| r.tiers.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let known = tiers.contains(&claim)
        || platform
            .tenancy
            .values()
            .any(|a| a.tier.as_deref() == Some(claim));
    let ask = || {
        format!("ask the platform team to add `{id}: {{tier: {claim}}}` under `tenancy:` in a platform file")
    };
    let hint = match (assigned, known) {
        (Some(t), _) if t.eq_ignore_ascii_case(claim) => {
            format!("tier names match exactly: did you mean `{t}`?")
        }
        (_, false) => did_you_mean(claim, tiers.iter().copied()).unwrap_or_else(ask),
        (Some(t), true) => {
            format!("the platform assigns tier `{t}` to `{id}`; remove `tier:` or write `{t}`")
        }
        (None, true) => ask(),
    };
    ctx.error_hint(
        pos,
        format!("tier `{claim}` is not assigned to tenant `{id}` by the platform"),
        hint,
    );
}

fn silent_target(ctx: &mut Ctx, node: &Node) -> Option<SilentTarget> {
    let s = node.as_str().unwrap_or_default().trim();
    match s {
        "warning" => Some(SilentTarget::Warning),
        "critical" => Some(SilentTarget::Critical),
        "all" => Some(SilentTarget::All),
        _ => {
            let hint = did_you_mean(s, ["warning", "critical", "all"])
                .unwrap_or_else(|| "the target is `warning`, `critical` or `all`".into());
            ctx.error_hint(node.pos, format!("unknown silent-mode target `{s}`"), hint);
            None
        }
    }
}

fn silent_mode(ctx: &mut Ctx, node: &Node, now: DateTime<Utc>) -> Option<SilentMode> {
    if let Some(s) = node.as_str().filter(|_| node.as_map().is_none()) {
        if is_disable(s) {
            return None;
        }
        return Some(SilentMode {
            target: silent_target(ctx, node)?,
            expires: None,
            reason: None,
            source: ctx.source(node.pos),
        });
    }
    map_of(ctx, node, "`_silent_mode`", None)?;
    check_keys(
        ctx,
        node,
        &["target", "expires", "reason"],
        "`_silent_mode`",
    );
    let hint = Some("add `target: warning` (or `critical`, `all`)");
    let missing = "`_silent_mode` has no `target`";
    let target = required(ctx, node, "target", missing, hint).and_then(|t| silent_target(ctx, t));
    let expires = match node.get("expires") {
        Some(e) => Some(parse_expires(ctx, e, now)?),
        None => None,
    };
    let reason = string_field(ctx, node, "reason");
    Some(SilentMode {
        target: target?,
        expires,
        reason,
        source: ctx.source(node.pos),
    })
}

fn maintenance(ctx: &mut Ctx, node: &Node, now: DateTime<Utc>) -> Option<Maintenance> {
    if let Some(s) = node.as_str().filter(|_| node.as_map().is_none()) {
        if is_disable(s) {
            return None;
        }
        if is_enable(s) {
            // Upstream's open-ended switch. Maintenance that never ends would mute the
            // tenant's alerts for good, so it is not applied: alerts keep flowing.
            ctx.warn(
                node.pos,
                "`_state_maintenance: enable` has no end and is not applied",
                "give the maintenance an end: `{expires: \"2026-12-01T06:00:00Z\", reason: \"upgrade\"}` or `recurring` windows",
            );
            return None;
        }
    }
    if node.as_map().is_none() {
        ctx.error_hint(
            node.pos,
            format!(
                "`_state_maintenance` must be a mapping or `enable`/`disable`, found {}",
                show(node)
            ),
            "write `{expires: \"2026-12-01T06:00:00Z\", reason: \"upgrade\"}`",
        );
        return None;
    }
    check_keys(
        ctx,
        node,
        &["start", "expires", "reason", "recurring", "target"],
        "`_state_maintenance`",
    );
    // Upstream's `target` limits maintenance to some severities; dynalert's maintenance
    // covers every severity, so a narrower target is not applied (alerts keep flowing)
    // rather than muting more than was asked.
    let narrower = |t: &&Node| t.as_str().is_none_or(|s| !s.eq_ignore_ascii_case("all"));
    if let Some(t) = node.get("target").filter(narrower) {
        ctx.warn(
            t.pos,
            format!("maintenance `target` {} is not supported and the maintenance is not applied", show(t)),
            "dynalert's maintenance covers every severity: drop `target` (or write `all`); to mute one severity use `_silent_mode`",
        );
        return None;
    }
    let start = node.get("start").map(|s| parse_time(ctx, s, "start"));
    let expires = node.get("expires").map(|e| parse_expires(ctx, e, now));
    let reason = string_field(ctx, node, "reason");
    let mut recurring = Vec::new();
    let mut ok = !matches!(start, Some(None)) && !matches!(expires, Some(None));
    if let Some(list) = node.get("recurring") {
        let items = seq_of(ctx, list, "`recurring`", None);
        ok &= items.is_some();
        for window in items.unwrap_or_default() {
            let window = recurring_window(ctx, window);
            ok &= window.is_some();
            recurring.extend(window);
        }
    }
    if !ok {
        return None;
    }
    let start = start.flatten();
    let expires = expires.flatten();
    if expires.is_none() && recurring.is_empty() {
        ctx.error_hint(
            node.pos,
            "maintenance has no end: neither `expires` nor `recurring` windows",
            "add `expires: \"2026-12-01T06:00:00Z\"` (RFC 3339) or `recurring: [{cron: \"0 2 * * sun\", duration: 2h}]`",
        );
        return None;
    }
    Some(Maintenance {
        one_off: start.is_some() || expires.is_some() || recurring.is_empty(),
        start,
        expires,
        reason,
        recurring,
        source: ctx.source(node.pos),
    })
}

fn recurring_window(ctx: &mut Ctx, node: &Node) -> Option<RecurringWindow> {
    let hint = "write `{cron: \"0 2 * * sun\", duration: 2h, timezone: \"Asia/Taipei\"}`";
    map_of(ctx, node, "a recurring window", Some(hint))?;
    check_keys(
        ctx,
        node,
        &["cron", "duration", "timezone", "reason"],
        "a recurring maintenance window",
    );
    let hint = Some("add `cron: \"0 2 * * sun\"`");
    let cron = required(ctx, node, "cron", "recurring window has no `cron`", hint).and_then(|c| {
        dynalert_model::CronSchedule::parse(c.as_str().unwrap_or_default())
            .map_err(|message| {
                let hint = "use `minute hour day-of-month month day-of-week`, e.g. `0 2 * * sun`";
                ctx.error_hint(c.pos, message, hint)
            })
            .ok()
    });
    let hint = Some("add `duration: 2h`");
    let missing = "recurring window has no `duration`";
    let duration = required(ctx, node, "duration", missing, hint).and_then(|d| {
        let text = d.as_str().unwrap_or_default();
        let message = || format!("bad duration {}", show(d));
        let hint = "use a positive duration such as `30m`, `2h` or `1h30m`";
        duration_where(ctx, d.pos, text, |s| s > 0, message, hint)
    });
    let timezone = node
        .get("timezone")
        .map_or(Some(chrono_tz::Tz::UTC), |tz| parse_timezone(ctx, tz));
    Some(RecurringWindow {
        cron: cron?,
        duration_secs: duration?,
        timezone: timezone?,
    })
}
