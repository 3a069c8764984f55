//! Upstream ("threshold-exporter" conf.d) settings that dynalert reads but does not
//! serve: each is a warning that names the key, never an error that drops a tenant.
//! `docs/compatibility.md` lists them with the reason.

use crate::diag::Ctx;
use crate::scalars::{is_disable, is_enable, TIER_NAMES};
use crate::values::VALUE_MAP_KEYS;
use crate::yaml::{Node, NodeKind};

/// Upstream platform blocks that are read and ignored, with what dynalert offers instead.
pub(crate) const UPSTREAM_PLATFORM_BLOCKS: [(&str, &str); 5] = [
    (
        "_routing_defaults",
        "set routing defaults in the platform `routing:` block (docs/alertmanager.md)",
    ),
    (
        "_routing_enforced",
        "the NOC copy is `routing.noc` in the platform `routing:` block (docs/alertmanager.md)",
    ),
    (
        "routing_profiles",
        "give each tenant its own `_routing`; shared profiles are not supported yet",
    ),
    (
        "domain_policies",
        "receiver guardrails are `routing.guardrails` in the platform `routing:` block",
    ),
    (
        "instance_tenant_mapping",
        "map namespaces to tenants with the platform `tenancy:` block",
    ),
];

/// Upstream tenant settings that are read and ignored.
pub(crate) const UPSTREAM_TENANT_KEYS: [(&str, &str); 1] = [(
    "_routing_profile",
    "write the receiver in the tenant's `_routing`; shared profiles are not supported yet",
)];

/// Upstream `_metadata` fields that are read and ignored.
pub(crate) const UPSTREAM_METADATA_FIELDS: [(&str, &str); 1] = [(
    "db_type",
    "exporter liveness is the rule packs' `TenantExporterMissing`, for every tenant",
)];

/// Warns about an upstream block, key or field that is not supported. Returns false when
/// `name` is not one of `known`.
pub(crate) fn upstream_setting(
    ctx: &mut Ctx,
    key: &Node,
    name: &str,
    known: &[(&str, &str)],
) -> bool {
    let Some((_, instead)) = known.iter().find(|(n, _)| *n == name) else {
        return false;
    };
    ctx.warn(
        key.pos,
        format!("upstream setting `{name}` is not supported and is ignored"),
        *instead,
    );
    true
}

/// Whether a value has the shape of a threshold (a number, `N:tier`, a disable or enable
/// word, a tier map or a value map), as opposed to upstream's free-form merged values
/// such as `level: L0`, `pages: [a]` or `threshold: {cpu: 70}`.
pub(crate) fn threshold_like(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Scalar { value, .. } => {
            let v = value.trim();
            // Anything that starts like a number is an attempt at one (`7O`, `-`, `.5x`).
            is_disable(v)
                || is_enable(v)
                || v.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        }
        NodeKind::Map(m) => m
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .any(|s| TIER_NAMES.contains(&s) || VALUE_MAP_KEYS.contains(&s)),
        NodeKind::Seq(_) => node.is_null(),
    }
}

/// A key without a component (no `_`, so no `component`/`metric` split). Upstream keeps
/// free-form keys (`level`, `region`, `threshold: {cpu: …}`) in its merged configuration
/// and serves nothing for them: such a key with a value that is not a threshold is a
/// warning. A threshold value under such a key is an error (it would be served with an
/// empty `metric`). Returns true when the key has no component (and was reported).
pub(crate) fn key_without_component(ctx: &mut Ctx, key: &Node, value: &Node, name: &str) -> bool {
    let base = name.split('{').next().unwrap_or(name).trim();
    if name == "<<" {
        ctx.error_hint(
            key.pos,
            "YAML merge key `<<` is not supported",
            "write the keys out in this mapping (files are read with bounded YAML: no merge keys)",
        );
        return true;
    }
    let plain = base.starts_with(|c: char| c.is_ascii_lowercase())
        && base
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !plain {
        // Not a key name at all: the key-name check reports it.
        return false;
    }
    if threshold_like(value) {
        ctx.error_hint(
            key.pos,
            format!("key `{name}` has no component"),
            format!(
                "threshold keys are `<component>_<metric>` (the label `component` is the part before the first `_`), e.g. `node_{base}`"
            ),
        );
    } else {
        ctx.warn(
            key.pos,
            format!("key `{name}` is not a threshold key and its value is not a threshold; ignored"),
            "upstream keeps such values in its merged view only; dynalert serves thresholds, named `<component>_<metric>`",
        );
    }
    true
}

/// A platform default whose value is free-form text or a list (upstream's `alert_group:
/// baseline`): not a threshold, so not in the catalogue. Returns true when reported.
pub(crate) fn free_form_default(ctx: &mut Ctx, key: &Node, value: &Node, name: &str) -> bool {
    // A list is never threshold-like; a mapping is left to the threshold grammar.
    let free = !matches!(value.kind, NodeKind::Map(_)) && !threshold_like(value);
    if free {
        ctx.warn(
            key.pos,
            format!("default `{name}` is not a threshold value; ignored"),
            "upstream keeps such values in its merged view only; a threshold default is a number, `N:tier`, `disable` or a tier map",
        );
    }
    free
}
