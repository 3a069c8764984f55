//! Routing settings parsed from `routing:` (platform) and `_routing` (tenant).
//!
//! The loader validates both blocks (guardrails, receiver types and fields, URL
//! allow-list) before building these types, so the Alertmanager generator only
//! translates them. Durations are whole seconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// Receiver the generator adds for alerts that must notify nobody; platform receivers may not use the name.
pub const BLACKHOLE_RECEIVER: &str = "dynalert-blackhole";

/// Notification integrations a receiver may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    Webhook,
    Email,
    Slack,
    Pagerduty,
    Msteams,
}

/// Field of a receiver: name, whether it holds a secret, whether it is a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub secret: bool,
}

/// Value type of a receiver field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Url,
    Bool,
    Count,
}

const fn f(name: &'static str, kind: FieldKind, secret: bool) -> FieldSpec {
    FieldSpec { name, kind, secret }
}

use FieldKind::{Bool, Count, Text, Url};

const WEBHOOK: &[FieldSpec] = &[
    f("url", Url, true),
    f("send_resolved", Bool, false),
    f("max_alerts", Count, false),
];
const EMAIL: &[FieldSpec] = &[
    f("to", Text, false),
    f("from", Text, false),
    f("smarthost", Text, false),
    f("auth_username", Text, false),
    f("auth_password", Text, true),
    f("auth_identity", Text, false),
    f("require_tls", Bool, false),
    f("send_resolved", Bool, false),
];
const SLACK: &[FieldSpec] = &[
    f("api_url", Url, true),
    f("channel", Text, false),
    f("username", Text, false),
    f("title", Text, false),
    f("text", Text, false),
    f("send_resolved", Bool, false),
];
const PAGERDUTY: &[FieldSpec] = &[
    f("routing_key", Text, true),
    f("service_key", Text, true),
    f("url", Url, false),
    f("severity", Text, false),
    f("client", Text, false),
    f("client_url", Text, false),
    f("send_resolved", Bool, false),
];
const MSTEAMS: &[FieldSpec] = &[
    f("webhook_url", Url, true),
    f("title", Text, false),
    f("text", Text, false),
    f("send_resolved", Bool, false),
];

impl ReceiverType {
    pub const ALL: [ReceiverType; 5] = [
        ReceiverType::Webhook,
        ReceiverType::Email,
        ReceiverType::Slack,
        ReceiverType::Pagerduty,
        ReceiverType::Msteams,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverType::Webhook => "webhook",
            ReceiverType::Email => "email",
            ReceiverType::Slack => "slack",
            ReceiverType::Pagerduty => "pagerduty",
            ReceiverType::Msteams => "msteams",
        }
    }

    pub fn parse(s: &str) -> Option<ReceiverType> {
        ReceiverType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Alertmanager receiver key holding configurations of this type.
    pub fn configs_key(self) -> &'static str {
        match self {
            ReceiverType::Webhook => "webhook_configs",
            ReceiverType::Email => "email_configs",
            ReceiverType::Slack => "slack_configs",
            ReceiverType::Pagerduty => "pagerduty_configs",
            ReceiverType::Msteams => "msteams_configs",
        }
    }

    /// Fields a tenant may set for this type.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ReceiverType::Webhook => WEBHOOK,
            ReceiverType::Email => EMAIL,
            ReceiverType::Slack => SLACK,
            ReceiverType::Pagerduty => PAGERDUTY,
            ReceiverType::Msteams => MSTEAMS,
        }
    }

    /// Required fields: every group must have at least one of its fields set.
    pub fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            ReceiverType::Webhook => &[&["url"]],
            ReceiverType::Email => &[&["to"], &["from"], &["smarthost"]],
            ReceiverType::Slack => &[&["api_url"], &["channel"]],
            ReceiverType::Pagerduty => &[&["routing_key", "service_key"]],
            ReceiverType::Msteams => &[&["webhook_url"]],
        }
    }

    pub fn field(self, name: &str) -> Option<FieldSpec> {
        self.fields().iter().copied().find(|f| f.name == name)
    }
}

impl std::fmt::Display for ReceiverType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant receiver: one integration with its validated fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receiver {
    #[serde(rename = "type")]
    pub kind: ReceiverType,
    /// Field name -> value (strings, booleans or counts), checked against [`ReceiverType::fields`].
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl Receiver {
    /// The fields with every secret replaced by `<secret>` (URLs keep scheme and host).
    pub fn masked(&self) -> BTreeMap<String, serde_json::Value> {
        self.fields
            .iter()
            .map(|(k, v)| {
                let spec = self.kind.field(k);
                let shown = match (spec, v.as_str()) {
                    (Some(s), Some(text)) if s.secret && s.kind == FieldKind::Url => {
                        serde_json::Value::String(mask_url(text))
                    }
                    (Some(s), _) if s.secret => serde_json::Value::String("<secret>".into()),
                    _ => v.clone(),
                };
                (k.clone(), shown)
            })
            .collect()
    }
}

/// `scheme://host[:port]/<secret>`: enough to recognise an endpoint, never its token.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<secret>".into();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if rest.len() > authority.len() || authority.contains('@') {
        format!("{scheme}://{host}/<secret>")
    } else {
        format!("{scheme}://{host}")
    }
}

/// Notification timings; `None` inherits from the parent route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    pub group_wait: Option<u64>,
    pub group_interval: Option<u64>,
    pub repeat_interval: Option<u64>,
}

/// Allowed range of one timing, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

/// Limits the platform puts on tenant routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guardrails {
    pub group_wait: Option<Range>,
    pub group_interval: Option<Range>,
    pub repeat_interval: Option<Range>,
    /// Receiver types tenants may use.
    pub receiver_types: Vec<ReceiverType>,
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            receiver_types: vec![
                ReceiverType::Webhook,
                ReceiverType::Email,
                ReceiverType::Slack,
                ReceiverType::Pagerduty,
            ],
        }
    }
}

/// `enforced:`: a platform receiver that gets a copy of every alert of the listed severities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enforced {
    pub receiver: String,
    pub severities: Vec<Severity>,
}

/// `tiers.<name>:`: a platform receiver for tenants of that `_metadata.tier`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRoute {
    pub receiver: String,
    pub severities: Vec<Severity>,
    pub timings: Timings,
}

/// A platform receiver, kept in Alertmanager receiver syntax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformReceiver {
    pub name: String,
    /// The whole receiver mapping (including `name`), as written.
    pub config: serde_json::Value,
}

/// Platform `routing:` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRouting {
    pub default_receiver: String,
    pub receivers: Vec<PlatformReceiver>,
    pub enforced: Option<Enforced>,
    pub tiers: BTreeMap<String, TierRoute>,
    pub group_by: Vec<String>,
    pub timings: Timings,
    pub guardrails: Guardrails,
    /// Regular expressions (matched against the whole URL) tenant URLs must match; empty allows any.
    pub allowed_url_patterns: Vec<String>,
}

/// Which alerts a tenant override applies to (all given conditions must hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideMatch {
    pub alertname: Option<String>,
    pub severity: Option<Severity>,
}

/// One `_routing.overrides` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteOverride {
    #[serde(rename = "match")]
    pub matches: OverrideMatch,
    pub receiver: Receiver,
}

/// Tenant `_routing` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantRouting {
    pub receiver: Option<Receiver>,
    pub group_by: Option<Vec<String>>,
    pub timings: Timings,
    pub overrides: Vec<RouteOverride>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_url_keeps_host_only() {
        assert_eq!(
            mask_url("https://hooks.example.com/T0/B1/xyz"),
            "https://hooks.example.com/<secret>"
        );
        assert_eq!(mask_url("http://user:pw@h:1/p?q"), "http://h:1/<secret>");
        assert_eq!(mask_url("http://h:1"), "http://h:1");
        assert_eq!(mask_url("token"), "<secret>");
    }
}
