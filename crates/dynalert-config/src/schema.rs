//! JSON Schema of platform and tenant files, generated from `Raw*` types that mirror the YAML.
//!
//! Editors use the committed copies under `docs/schema/` (via the
//! `yaml-language-server` comment in example files). The loader's checks are
//! stricter than the schema (it knows the catalogue); the schema catches shape
//! mistakes while typing.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::{schema_for, JsonSchema};

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
    /// e.g. `2h`.
    duration: String,
    timezone: Option<String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
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

fn pretty(schema: &schemars::schema::RootSchema) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("schema serialises");
    s.push('\n');
    s
}

/// `(file name, content)` of every schema file.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            "platform.schema.json",
            pretty(&schema_for!(RawPlatformFile)),
        ),
        ("tenant.schema.json", pretty(&schema_for!(RawTenantFile))),
    ]
}
