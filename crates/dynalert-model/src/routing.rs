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

/// Notification integrations a receiver may use: those of Alertmanager 0.25 (Debian
/// bookworm). Microsoft Teams (`msteams_configs`) needs Alertmanager 0.26 and is refused
/// with that reason ([`UNSUPPORTED_TYPES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    Webhook,
    Email,
    Slack,
    Pagerduty,
    Opsgenie,
    Telegram,
    Discord,
    Webex,
    Sns,
    Victorops,
    Pushover,
}

/// Receiver types Alertmanager 0.25 does not have: name and why.
pub const UNSUPPORTED_TYPES: [(&str, &str); 1] = [(
    "msteams",
    "Microsoft Teams (`msteams_configs`) needs Alertmanager 0.26 or later; Debian's Alertmanager 0.25 rejects the whole file",
)];

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
    /// A whole number that may be negative (a Telegram `chat_id`).
    Int,
    /// Text Alertmanager expands as a Go template (checked before it reaches Alertmanager).
    Template,
    /// A path to a file holding a secret (`*_file`); tenants may only name files in their
    /// own directory under `routing.tenant_secret_dir`.
    File,
    /// A nested mapping with its own fields (`http_config`, `basic_auth`, `sigv4`, …).
    Map(&'static [FieldSpec]),
}

const fn f(name: &'static str, kind: FieldKind, secret: bool) -> FieldSpec {
    FieldSpec { name, kind, secret }
}

use FieldKind::{Bool, Count, File, Int, Map, Template, Text, Url};

const BASIC_AUTH: &[FieldSpec] = &[
    f("username", Text, false),
    f("password", Text, true),
    f("password_file", File, false),
];
const AUTHORIZATION: &[FieldSpec] = &[
    f("type", Text, false),
    f("credentials", Text, true),
    f("credentials_file", File, false),
];
const TLS_CONFIG: &[FieldSpec] = &[
    f("ca_file", File, false),
    f("cert_file", File, false),
    f("key_file", File, false),
    f("server_name", Text, false),
    f("insecure_skip_verify", Bool, false),
];
/// Alertmanager's `http_config` (Prometheus common HTTP client settings), without OAuth 2.
pub const HTTP_CONFIG: &[FieldSpec] = &[
    f("basic_auth", Map(BASIC_AUTH), false),
    f("authorization", Map(AUTHORIZATION), false),
    f("bearer_token", Text, true),
    f("bearer_token_file", File, false),
    f("tls_config", Map(TLS_CONFIG), false),
    f("proxy_url", Url, true),
    f("follow_redirects", Bool, false),
    f("enable_http2", Bool, false),
];
/// Fields of `http_config` of which at most one may be set (Alertmanager refuses more).
pub const HTTP_AUTH_FIELDS: [&str; 4] = [
    "basic_auth",
    "authorization",
    "bearer_token",
    "bearer_token_file",
];
const SIGV4: &[FieldSpec] = &[
    f("region", Text, false),
    f("access_key", Text, true),
    f("secret_key", Text, true),
    f("profile", Text, false),
    f("role_arn", Text, false),
];

const WEBHOOK: &[FieldSpec] = &[
    f("url", Url, true),
    f("send_resolved", Bool, false),
    f("max_alerts", Count, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const EMAIL: &[FieldSpec] = &[
    f("to", Text, false),
    f("from", Text, false),
    f("smarthost", Text, false),
    f("auth_username", Text, false),
    f("auth_password", Text, true),
    f("auth_password_file", File, false),
    f("auth_identity", Text, false),
    f("require_tls", Bool, false),
    f("send_resolved", Bool, false),
];
const SLACK: &[FieldSpec] = &[
    f("api_url", Url, true),
    f("api_url_file", File, false),
    f("channel", Text, false),
    f("username", Text, false),
    f("title", Template, false),
    f("text", Template, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const PAGERDUTY: &[FieldSpec] = &[
    f("routing_key", Text, true),
    f("routing_key_file", File, false),
    f("service_key", Text, true),
    f("service_key_file", File, false),
    f("url", Url, false),
    f("severity", Text, false),
    f("description", Template, false),
    f("client", Text, false),
    f("client_url", Text, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const OPSGENIE: &[FieldSpec] = &[
    f("api_key", Text, true),
    f("api_key_file", File, false),
    f("api_url", Url, false),
    f("message", Template, false),
    f("description", Template, false),
    f("source", Text, false),
    f("priority", Text, false),
    f("tags", Text, false),
    f("note", Template, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const TELEGRAM: &[FieldSpec] = &[
    f("bot_token", Text, true),
    f("chat_id", Int, false),
    f("message", Template, false),
    f("parse_mode", Text, false),
    f("disable_notifications", Bool, false),
    f("api_url", Url, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const DISCORD: &[FieldSpec] = &[
    f("webhook_url", Url, true),
    f("title", Template, false),
    f("message", Template, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const WEBEX: &[FieldSpec] = &[
    f("room_id", Text, false),
    f("message", Template, false),
    f("api_url", Url, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const SNS: &[FieldSpec] = &[
    f("topic_arn", Text, false),
    f("phone_number", Text, false),
    f("target_arn", Text, false),
    f("subject", Template, false),
    f("message", Template, false),
    f("api_url", Url, false),
    f("sigv4", Map(SIGV4), false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const VICTOROPS: &[FieldSpec] = &[
    f("api_key", Text, true),
    f("api_key_file", File, false),
    f("routing_key", Text, false),
    f("message_type", Text, false),
    f("entity_display_name", Template, false),
    f("state_message", Template, false),
    f("monitoring_tool", Text, false),
    f("api_url", Url, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];
const PUSHOVER: &[FieldSpec] = &[
    f("user_key", Text, true),
    f("token", Text, true),
    f("title", Template, false),
    f("message", Template, false),
    f("url", Url, false),
    f("priority", Text, false),
    f("send_resolved", Bool, false),
    f("http_config", Map(HTTP_CONFIG), false),
];

/// Per receiver type, in declaration order: its name, the Alertmanager receiver key holding
/// its configurations, and the fields a tenant may set.
const TYPES: [(ReceiverType, &str, &str, &[FieldSpec]); 11] = {
    use ReceiverType as T;
    [
        (T::Webhook, "webhook", "webhook_configs", WEBHOOK),
        (T::Email, "email", "email_configs", EMAIL),
        (T::Slack, "slack", "slack_configs", SLACK),
        (T::Pagerduty, "pagerduty", "pagerduty_configs", PAGERDUTY),
        (T::Opsgenie, "opsgenie", "opsgenie_configs", OPSGENIE),
        (T::Telegram, "telegram", "telegram_configs", TELEGRAM),
        (T::Discord, "discord", "discord_configs", DISCORD),
        (T::Webex, "webex", "webex_configs", WEBEX),
        (T::Sns, "sns", "sns_configs", SNS),
        (T::Victorops, "victorops", "victorops_configs", VICTOROPS),
        (T::Pushover, "pushover", "pushover_configs", PUSHOVER),
    ]
};

/// PagerDuty's keys: one is required, and at most one may be set.
const PAGERDUTY_KEYS: &[&str] = &[
    "routing_key",
    "service_key",
    "routing_key_file",
    "service_key_file",
];
/// SNS targets: one is required, and at most one may be set.
const SNS_TARGETS: &[&str] = &["topic_arn", "phone_number", "target_arn"];

impl ReceiverType {
    pub const ALL: [ReceiverType; 11] = {
        let mut all = [ReceiverType::Webhook; 11];
        let mut i = 0;
        while i < TYPES.len() {
            // `as_str` and the others index `TYPES` by the type's discriminant.
            assert!(TYPES[i].0 as usize == i);
            all[i] = TYPES[i].0;
            i += 1;
        }
        all
    };

    pub fn as_str(self) -> &'static str {
        TYPES[self as usize].1
    }

    pub fn parse(s: &str) -> Option<ReceiverType> {
        ReceiverType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Alertmanager receiver key holding configurations of this type.
    pub fn configs_key(self) -> &'static str {
        TYPES[self as usize].2
    }

    /// Fields a tenant may set for this type.
    pub fn fields(self) -> &'static [FieldSpec] {
        TYPES[self as usize].3
    }

    /// Required fields: every group must have at least one of its fields set.
    pub fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            ReceiverType::Webhook => &[&["url"]],
            ReceiverType::Email => &[&["to"], &["from"], &["smarthost"]],
            ReceiverType::Slack => &[&["api_url", "api_url_file"], &["channel"]],
            ReceiverType::Pagerduty => &[PAGERDUTY_KEYS],
            ReceiverType::Opsgenie => &[&["api_key", "api_key_file"]],
            ReceiverType::Telegram => &[&["bot_token"], &["chat_id"]],
            ReceiverType::Discord => &[&["webhook_url"]],
            ReceiverType::Webex => &[&["room_id"]],
            ReceiverType::Sns => &[SNS_TARGETS],
            ReceiverType::Victorops => &[&["api_key", "api_key_file"], &["routing_key"]],
            ReceiverType::Pushover => &[&["user_key"], &["token"]],
        }
    }

    /// Groups of fields of which at most one may be set (Alertmanager refuses more).
    pub fn exclusive(self) -> &'static [&'static [&'static str]] {
        match self {
            ReceiverType::Pagerduty => &[PAGERDUTY_KEYS],
            ReceiverType::Sns => &[SNS_TARGETS],
            _ => &[],
        }
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
    /// Field name -> value (strings, booleans, numbers or nested mappings), checked
    /// against [`ReceiverType::fields`].
    pub fields: BTreeMap<String, serde_json::Value>,
    /// More integrations of the same receiver (`receiver:` written as a list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<Receiver>,
}

/// `fields` (described by `specs`) with every secret replaced by `<secret>` (URLs keep
/// scheme and host), nested mappings included.
pub fn mask_fields(
    specs: &[FieldSpec],
    fields: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|(k, v)| {
            let spec = specs.iter().find(|s| s.name == k);
            let shown = match (spec, v) {
                (Some(s), serde_json::Value::String(text))
                    if s.secret && s.kind == FieldKind::Url =>
                {
                    serde_json::Value::String(mask_url(text))
                }
                (Some(s), _) if s.secret => serde_json::Value::String("<secret>".into()),
                (
                    Some(FieldSpec {
                        kind: FieldKind::Map(inner),
                        ..
                    }),
                    serde_json::Value::Object(m),
                ) => serde_json::Value::Object(mask_fields(inner, m)),
                _ => v.clone(),
            };
            (k.clone(), shown)
        })
        .collect()
}

impl Receiver {
    /// The fields with every secret replaced by `<secret>` (URLs keep scheme and host).
    pub fn masked(&self) -> BTreeMap<String, serde_json::Value> {
        let map = self.fields.clone().into_iter().collect();
        mask_fields(self.kind.fields(), &map).into_iter().collect()
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

/// Host and port of a URL checked by [`check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlHost {
    /// Lower-case host, IPv6 addresses without brackets.
    pub host: String,
    pub port: Option<u16>,
}

/// Whether every `%` of `s` is followed by two hex digits.
fn valid_escapes(s: &str) -> bool {
    s.split('%')
        .skip(1)
        .all(|after| after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit))
}

fn port(text: &str) -> Result<Option<u16>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("invalid port `{text}`"));
    }
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .map(Some)
        .ok_or_else(|| format!("port `{text}` is out of range"))
}

/// Checks an `http`/`https` URL the way Alertmanager reads it (Go's `net/url` plus a
/// required host), a little stricter: no spaces, every `%` escape valid, ports 1-65535.
/// Messages never repeat the URL (it may hold a secret).
pub fn check_url(url: &str) -> Result<UrlHost, String> {
    if let Some(c) = url.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {:?}", c));
    }
    if url.contains(' ') {
        return Err("contains a space; percent-encode it as `%20`".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("is not an absolute `http://` or `https://` URL".into());
    };
    if !matches!(scheme, "http" | "https") {
        return Err(format!("has scheme `{scheme}`; use `http` or `https`"));
    }
    if !valid_escapes(rest) {
        return Err("has an invalid `%` escape (`%` must be followed by two hex digits)".into());
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = match authority.rsplit_once('@') {
        Some((user, hp)) => {
            if !user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
            {
                return Err("has an invalid character in its user information".into());
            }
            hp
        }
        None => authority,
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (ip, after) = inner
            .split_once(']')
            .ok_or("is missing `]` after an IPv6 host")?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() && !ip.contains("%25") {
            return Err("has an invalid IPv6 address in `[…]`".into());
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => self::port(p)?,
                None => return Err("has text after `]` that is not a `:port`".into()),
            },
        };
        (ip.to_ascii_lowercase(), port)
    } else {
        if hostport.contains(['[', ']']) {
            return Err("has `[` or `]` outside an IPv6 host".into());
        }
        let (h, p) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, self::port(p)?),
            None => (hostport, None),
        };
        if let Some(c) = h
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=%".contains(*c)))
        {
            return Err(format!("has the invalid character {c:?} in its host name"));
        }
        (h.to_ascii_lowercase(), p)
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    Ok(UrlHost { host, port })
}

/// Why a host is on the default deny-list (loopback, link-local, cloud metadata, unspecified
/// or non-canonical IP addresses), or `None`.
pub fn denied_host(host: &str) -> Option<&'static str> {
    use std::net::{IpAddr, Ipv4Addr};
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("a loopback address");
    }
    if matches!(
        host,
        "metadata.google.internal" | "metadata" | "instance-data" | "metadata.azure.com"
    ) {
        return Some("a cloud metadata address");
    }
    let v4 = |ip: Ipv4Addr| {
        if ip.is_loopback() {
            Some("a loopback address")
        } else if ip.is_link_local() {
            Some("a link-local or cloud metadata address")
        } else if ip.is_unspecified() {
            Some("the unspecified address")
        } else {
            None
        }
    };
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => v4(ip),
        Ok(IpAddr::V6(ip)) => {
            if let Some(m) = ip.to_ipv4_mapped() {
                return v4(m);
            }
            let seg = ip.segments();
            if ip.is_loopback() {
                Some("a loopback address")
            } else if ip.is_unspecified() {
                Some("the unspecified address")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if seg[0] == 0xfd00 && seg[1] == 0x0ec2 {
                Some("a cloud metadata address")
            } else {
                None
            }
        }
        // Resolvers read `2130706433`, `0x7f.1` or `127.1` as IP addresses.
        Err(_)
            if host.split('.').all(|p| {
                !p.is_empty() && (p.bytes().all(|c| c.is_ascii_digit()) || p.starts_with("0x"))
            }) =>
        {
            Some("a non-canonical IP address")
        }
        Err(_) => None,
    }
}

/// Checks `host:port` as Alertmanager's email `smarthost` needs it.
pub fn check_host_port(text: &str) -> Result<(), String> {
    let (host, p) = if let Some(inner) = text.strip_prefix('[') {
        match inner.split_once("]:") {
            Some((h, p)) if h.parse::<std::net::Ipv6Addr>().is_ok() => (h, p),
            _ => return Err("must be `[ipv6]:port` for an IPv6 host".into()),
        }
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            None => {
                return Err("has no port; write `host:port`, e.g. `smtp.example.com:587`".into())
            }
            _ => return Err("must be `host:port`, e.g. `smtp.example.com:587`".into()),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c) || c == ':')
    {
        return Err("has an invalid host; write `host:port`".into());
    }
    match port(p)? {
        Some(_) => Ok(()),
        None => Err("has no port; write `host:port`, e.g. `smtp.example.com:587`".into()),
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
    /// Directory of tenant secret files: a tenant's `*_file` fields may only name files
    /// under `<dir>/<tenant id>/`; unset, tenants cannot use `*_file` fields.
    #[serde(default)]
    pub tenant_secret_dir: Option<String>,
    /// Limits on each tenant's routing (`routing.limits`).
    #[serde(default)]
    pub limits: TenantLimits,
    /// Per-tenant limits (`routing.tenant_limits.<id>`), each complete (unset keys take
    /// `limits`).
    #[serde(default)]
    pub tenant_limits: BTreeMap<String, TenantLimits>,
}

impl PlatformRouting {
    /// The limits that apply to one tenant.
    pub fn limits_of(&self, tenant: &str) -> &TenantLimits {
        self.tenant_limits.get(tenant).unwrap_or(&self.limits)
    }
}

/// How much routing one tenant may define; the platform sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantLimits {
    /// `_routing.overrides` entries.
    pub overrides: usize,
    /// Integrations of one receiver.
    pub integrations: usize,
    /// Label matchers of one override.
    pub matchers: usize,
    /// `_routing.time_intervals` entries.
    pub time_intervals: usize,
    /// Bytes of one template text field.
    pub template_bytes: usize,
}

impl TenantLimits {
    pub const KEYS: [&'static str; 5] = [
        "overrides",
        "integrations",
        "matchers",
        "time_intervals",
        "template_bytes",
    ];

    pub fn set(&mut self, key: &str, v: usize) {
        match key {
            "overrides" => self.overrides = v,
            "integrations" => self.integrations = v,
            "matchers" => self.matchers = v,
            "time_intervals" => self.time_intervals = v,
            _ => self.template_bytes = v,
        }
    }
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            overrides: 20,
            integrations: 5,
            matchers: 10,
            time_intervals: 10,
            template_bytes: 4096,
        }
    }
}

/// Operator of a label matcher, as Alertmanager writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "=~")]
    Re,
    #[serde(rename = "!~")]
    NotRe,
}

/// One label matcher of a tenant override (`label=value`, `label!~regex`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMatch {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

/// One entry of a tenant time interval, in Alertmanager's `time_intervals` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalSpec {
    /// `[start, end)` minutes of the day.
    pub times: Vec<(u32, u32)>,
    /// `monday`, `monday:friday`, …
    pub weekdays: Vec<String>,
    pub days_of_month: Vec<String>,
    pub months: Vec<String>,
    pub years: Vec<String>,
    /// IANA time zone.
    pub location: Option<String>,
}

/// Which alerts a tenant override applies to (all given conditions must hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideMatch {
    pub alertname: Option<String>,
    pub severity: Option<Severity>,
    /// Any other label conditions (`matchers: ['team=~"db|infra"', 'env!=dev']`).
    #[serde(default)]
    pub labels: Vec<LabelMatch>,
}

/// One `_routing.overrides` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteOverride {
    #[serde(rename = "match")]
    pub matches: OverrideMatch,
    pub receiver: Receiver,
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    #[serde(default)]
    pub timings: Timings,
    /// `continue`: later overrides and the tenant's receiver still see the alert.
    #[serde(default, rename = "continue")]
    pub cont: bool,
    /// Names of the tenant's `time_intervals` outside which this override notifies nobody.
    #[serde(default)]
    pub active_time_intervals: Vec<String>,
    /// Names of the tenant's `time_intervals` during which this override notifies nobody.
    #[serde(default)]
    pub mute_time_intervals: Vec<String>,
}

/// Tenant `_routing` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantRouting {
    pub receiver: Option<Receiver>,
    pub group_by: Option<Vec<String>>,
    pub timings: Timings,
    pub overrides: Vec<RouteOverride>,
    /// `_routing.time_intervals`: name -> entries (any one matching).
    #[serde(default)]
    pub time_intervals: BTreeMap<String, Vec<IntervalSpec>>,
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

    #[test]
    fn urls_alertmanager_rejects_are_rejected() {
        // Each of these fails Go's url.Parse or Alertmanager's host check.
        for bad in [
            "http:///x",
            "http://exa mple.com/",
            "http://[::1/",
            "https://h.example/%zz",
            "http://h.example/a\tb",
            "http://h.example:port/",
            "ftp://h.example/",
            "http://h.exa^mple/",
            "h.example/x",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?} accepted");
        }
        let ok = check_url("https://user:pw@Hooks.Example.com:8443/a%20b?x=1#f").unwrap();
        assert_eq!(ok.host, "hooks.example.com");
        assert_eq!(ok.port, Some(8443));
        assert_eq!(check_url("http://[::1]:9/").unwrap().host, "::1");
    }

    #[test]
    fn deny_list_covers_loopback_link_local_and_metadata() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "localhost",
            "metadata.google.internal",
            "2130706433",
            "0x7f.1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
            "0.0.0.0",
        ] {
            assert!(denied_host(h).is_some(), "{h} allowed");
        }
        for h in [
            "10.0.0.1",
            "hooks.example.com",
            "2001:db8::1",
            "192.168.1.1",
        ] {
            assert!(denied_host(h).is_none(), "{h} denied");
        }
    }

    #[test]
    fn smarthost_needs_a_port() {
        assert!(check_host_port("smtp.example.com:587").is_ok());
        assert!(check_host_port("[2001:db8::1]:25").is_ok());
        for bad in [
            "smtp.example.com",
            ":25",
            "smtp.example.com:",
            "a b:25",
            "::1:25",
        ] {
            assert!(check_host_port(bad).is_err(), "{bad} accepted");
        }
    }
}
