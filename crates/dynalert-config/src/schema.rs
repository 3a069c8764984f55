//! JSON Schema of platform and tenant files, generated from `Raw*` types that mirror the YAML.
//!
//! Editors use the committed copies under `docs/schema/` (via the
//! `yaml-language-server` comment in example files). The loader's checks are
//! stricter than the schema (it knows the catalogue); the schema catches shape
//! mistakes while typing.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// A scalar value: a number, a quoted number with optional `:tier` suffix, or `disable`.
#[derive(JsonSchema)]
#[serde(untagged)]
enum RawScalar {
    Number(f64),
    /// `"70"`, `"70:critical"`, `disable` (also `disabled`, `off`, `false`).
    Text(String),
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum RawDay {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A scheduled override: `{window: "22:00-06:00", timezone, days, value}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    /// `HH:MM-HH:MM`; may cross midnight.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    window: String,
    /// IANA time zone, default UTC.
    timezone: Option<String>,
    /// Weekdays on which the window starts; default every day.
    days: Option<Vec<RawDay>>,
    value: RawScalar,
}

/// A value with an expiry or a schedule.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawValue {
    value: Option<RawScalar>,
    /// Value outside the override windows.
    default: Option<RawScalar>,
    overrides: Option<Vec<RawOverride>>,
    /// RFC 3339; after it the platform default applies again.
    expires: Option<String>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum RawTierValue {
    Scalar(RawScalar),
    Value(RawValue),
}

/// Tier map `{warning: …, critical: …}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    info: Option<RawTierValue>,
    warning: Option<RawTierValue>,
    critical: Option<RawTierValue>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum RawKeyValue {
    Scalar(RawScalar),
    Tiers(RawTiers),
    Value(RawValue),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawStateFilter {
    /// Container waiting reasons matched, e.g. `CrashLoopBackOff`.
    reasons: Vec<String>,
    severity: Option<String>,
    /// Upstream's maintenance switch (`default_state: disable`): read with a warning.
    default_state: Option<String>,
}

/// A platform file (`_*.yaml`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPlatformFile {
    /// Catalogue keys with their defaults; a scalar is the warning tier.
    defaults: Option<BTreeMap<String, RawKeyValue>>,
    /// Catalogue keys without a default.
    optional_overrides: Option<Vec<String>>,
    /// Per-tenant switches for state-based alerts.
    state_filters: Option<BTreeMap<String, RawStateFilter>>,
    /// Labels each key may be refined by (`key{label="v"}`): the ones the rule packs honour.
    dimensions: Option<BTreeMap<String, Vec<String>>>,
    /// Alertmanager routing defaults (see docs).
    routing: Option<serde_json::Value>,
    /// Tier and Kubernetes namespaces the platform assigns to each tenant (tenant id ->
    /// assignment). Only platform files decide what crosses tenants.
    tenancy: Option<BTreeMap<String, RawAssignment>>,
    /// Limits on what one tenant's `_custom_alerts:` recipes may cost the others.
    custom_alert_limits: Option<RawCustomAlertLimits>,
}

/// `custom_alert_limits:` (docs/recipes.md#limits).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCustomAlertLimits {
    /// Most series of a recipe's metrics one tenant may have (default 10000); above it that
    /// tenant's alert of the recipe is switched off and `CustomAlertSeriesLimit` fires.
    #[schemars(range(min = 1, max = 10_000_000))]
    max_series_per_tenant: Option<u64>,
    /// Rule group `limit` of each recipe shape (default 20000): most alerts its rule may produce.
    #[schemars(range(min = 1, max = 10_000_000))]
    max_alerts_per_rule: Option<u64>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    /// The tenant's tier (routing uses the keys of `routing.tiers`).
    tier: Option<String>,
    /// Namespaces the tenant owns; default: the one named after the tenant.
    namespaces: Option<Vec<String>>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    /// A claim: must equal the tier the platform assigns under `tenancy:`.
    tier: Option<String>,
    owner: Option<String>,
    runbook_url: Option<String>,
    /// A claim: each must be among the namespaces the platform assigns under `tenancy:`.
    namespaces: Option<Vec<String>>,
    /// Upstream setting, read with a warning.
    db_type: Option<String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSilentMode {
    /// `warning`, `critical` or `all`.
    target: String,
    expires: Option<String>,
    reason: Option<String>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum RawSilent {
    Short(String),
    Full(RawSilentMode),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRecurring {
    /// Five-field cron expression of the window starts.
    cron: String,
    /// e.g. `2h`, `1.5h`.
    duration: String,
    timezone: Option<String>,
    reason: Option<String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
    /// Upstream's severity target: only `all` is applied.
    target: Option<String>,
    start: Option<String>,
    expires: Option<String>,
    reason: Option<String>,
    recurring: Option<Vec<RawRecurring>>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum RawMaintenanceValue {
    Switch(String),
    Full(RawMaintenance),
}

/// Settings of one tenant: catalogue keys plus reserved `_` keys.
#[derive(JsonSchema)]
struct RawTenant {
    #[serde(rename = "_metadata")]
    metadata: Option<RawMetadata>,
    #[serde(rename = "_routing")]
    routing: Option<serde_json::Value>,
    #[serde(rename = "_silent_mode")]
    silent_mode: Option<RawSilent>,
    #[serde(rename = "_state_maintenance")]
    maintenance: Option<RawMaintenanceValue>,
    #[serde(rename = "_severity_dedup")]
    severity_dedup: Option<String>,
    /// Catalogue keys (`key`, `key_critical`, `key{label="v"}`) and `_state_<filter>` switches.
    #[serde(flatten)]
    keys: BTreeMap<String, RawKeyValue>,
}

/// A tenant file (`<tenant>.yaml`): exactly the tenant named after the file.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTenantFile {
    tenants: BTreeMap<String, RawTenant>,
}

fn pretty(schema: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("schema serialises");
    s.push('\n');
    s
}

/// A threshold scalar as text: a non-negative number with an optional `:tier`, or a
/// disable word (any case), as the loader reads it.
const SCALAR_TEXT: &str = r"^\s*(((\+)?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[dD][iI][sS][aA][bB][lL][eE][dD]?|[oO][fF][fF]|[fF][aA][lL][sS][eE])(\s*:\s*(info|warning|critical))?)\s*$";

/// Tenant ids (BRIEF §3 grammar).
const TENANT_ID: &str = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$";

/// Keys of a tenant's settings: catalogue keys (with an optional label selector) and
/// reserved `_` keys.
const TENANT_KEY: &str = r"^(_[a-z0-9_]+|[a-z][a-z0-9_]*(\{.*\})?)$";

fn generate<T: JsonSchema>() -> serde_json::Value {
    let settings = schemars::gen::SchemaSettings::draft07().with(|s| {
        // The loader rejects `null` for every optional setting: so does the schema.
        s.option_add_null_type = false;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
    serde_json::to_value(schema).expect("schema serialises")
}

/// What derive cannot say: values are thresholds (not any string), tenant settings
/// beyond the reserved keys are threshold values, tenant ids follow the grammar, and
/// upstream settings that are read with a warning are allowed.
fn refine(v: &mut serde_json::Value) {
    use serde_json::json;
    let defs = &mut v["definitions"];
    if defs.get("RawScalar").is_some() {
        defs["RawScalar"]["anyOf"] = json!([
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": SCALAR_TEXT,
             "description": "`\"70\"`, `\"70:critical\"`, `disable` (also `disabled`, `off`, `false`, any case)"},
            {"const": false}
        ]);
    }
    if defs.get("RawTenant").is_some() {
        let t = &mut defs["RawTenant"];
        t["propertyNames"] = json!({"pattern": TENANT_KEY});
        t["patternProperties"] = json!({
            "^_state_(?!maintenance$)[a-z0-9_]+$": {"type": ["string", "boolean"],
                "description": "`enable` / `disable` a platform state filter for this tenant"}
        });
        t["additionalProperties"] = json!({"$ref": "#/definitions/RawKeyValue"});
        for upstream in ["_custom_alerts", "_routing_profile"] {
            t["properties"][upstream] = json!({"description": "upstream setting: read with a warning (docs/compatibility.md)"});
        }
    }
    if let Some(tenants) = v.pointer_mut("/properties/tenants") {
        tenants["propertyNames"] = json!({"pattern": TENANT_ID});
        tenants["minProperties"] = json!(1);
        tenants["additionalProperties"] =
            json!({"anyOf": [{"$ref": "#/definitions/RawTenant"}, {"type": "null"}]});
    }
    if let Some(props) = v
        .pointer_mut("/properties")
        .filter(|p| p.get("defaults").is_some())
    {
        for upstream in [
            "_routing_defaults",
            "_routing_enforced",
            "routing_profiles",
            "domain_policies",
            "instance_tenant_mapping",
            "_custom_alerts",
            "_metadata",
        ] {
            props[upstream] = json!({"description": "upstream setting: read with a warning (docs/compatibility.md)"});
        }
    }
}

/// `(file name, content)` of every schema file.
pub fn files() -> Vec<(&'static str, String)> {
    let mut platform = generate::<RawPlatformFile>();
    refine(&mut platform);
    let mut tenant = generate::<RawTenantFile>();
    refine(&mut tenant);
    vec![
        ("platform.schema.json", pretty(&platform)),
        ("tenant.schema.json", pretty(&tenant)),
    ]
}
