//! From the validated configuration to receivers, a route tree and inhibit rules.
//!
//! Guarantees, each checked by tests:
//! * an alert labelled `tenant="<a>"` only reaches platform receivers or receivers of
//!   tenant `<a>` (`tenant-<a>`, `tenant-<a>-<n>`): tenant routes match `tenant` exactly;
//! * every inhibit rule has `tenant` in `equal`, and no tenant-controlled rule can mute
//!   an alert labelled `scope="platform"`;
//! * silent mode and maintenance mute only the tenant's own delivery routes (time
//!   intervals), never the enforced copy, the tier copy or liveness alerts; so does a
//!   recipe's `mode: silent` for that custom alert (routed to [`BLACKHOLE`] after the copies);
//! * receiver secrets never reach a message: [`Generated::redact`].
//! * the output depends only on the configuration (tenants in id order), never on time.

use std::collections::BTreeMap;

use dynalert_model::routing::{PlatformRouting, Receiver, TenantRouting};
use dynalert_model::{Config, Severity, Tenant};

use crate::mute::{self, TimeInterval};
use crate::route::{InhibitRule, Matcher, Op, Route};

/// Receiver that notifies nobody: the silent-mode sentinel and the watchdog go there.
pub const BLACKHOLE: &str = dynalert_model::routing::BLACKHOLE_RECEIVER;
/// Alert names routed to [`BLACKHOLE`] (both carry `scope="platform"`).
pub const SINK_ALERTS: [&str; 2] = ["TenantSilentModeActive", "Watchdog"];
/// Labels of a custom alert whose recipe says `mode: silent` (set by the rules that
/// `dynalert rules recipes` generates): shown in Prometheus, never delivered to the tenant.
pub const SILENT_RECIPE: [(&str, &str); 2] = [("component", "custom"), ("mode", "silent")];
/// Labels that must be equal for a critical alert to inhibit a warning one.
///
/// Beyond `tenant` and `alertname`, the dimensional labels of the rule packs
/// (`instance`, `namespace`, `pod`, `container`, `datname`, `db`) keep a critical
/// alert of one container or database from hiding the warning of another. A label
/// absent on both sides counts as equal, so alerts without these labels still dedup.
pub const DEDUP_EQUAL: [&str; 8] = [
    "tenant",
    "alertname",
    "instance",
    "namespace",
    "pod",
    "container",
    "datname",
    "db",
];

/// Errors that stop generation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GenerateError {
    #[error("no `routing:` block in the platform files")]
    NoRouting,
    #[error("receiver name `{name}` is generated for both tenant `{first}` and tenant `{second}`; rename one of the tenants")]
    NameClash {
        name: String,
        first: String,
        second: String,
    },
}

/// Who owns a generated receiver.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    Platform,
    Tenant(String),
    Nobody,
}

/// A receiver of the generated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AmReceiver {
    pub name: String,
    pub owner: Owner,
    /// The Alertmanager receiver mapping (with `name`).
    pub config: serde_json::Value,
    /// The same with secrets masked, for messages and explanations.
    pub masked: serde_json::Value,
}

/// The generated part of an Alertmanager configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub route: Route,
    pub receivers: Vec<AmReceiver>,
    pub inhibit_rules: Vec<InhibitRule>,
    /// Time intervals referenced by `mute_time_intervals` (silent mode, maintenance).
    pub time_intervals: Vec<TimeInterval>,
    /// Problems that did not stop generation, located (`path:line:col: message`).
    pub notes: Vec<String>,
}

impl Generated {
    pub fn receiver(&self, name: &str) -> Option<&AmReceiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// Every secret of the receivers: values that masking hides, and for URLs their
    /// user information and everything after the host. Longest first.
    pub fn secrets(&self) -> Vec<String> {
        fn walk(plain: &serde_json::Value, masked: &serde_json::Value, out: &mut Vec<String>) {
            use serde_json::Value;
            match (plain, masked) {
                (Value::String(p), Value::String(m)) if p != m => {
                    out.push(p.clone());
                    if let Some((_, rest)) = p.split_once("://") {
                        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                        let (authority, tail) = rest.split_at(end);
                        if let Some((user, _)) = authority.rsplit_once('@') {
                            out.push(user.to_string());
                            if let Some((_, pw)) = user.split_once(':') {
                                out.push(pw.to_string());
                            }
                        }
                        out.push(tail.to_string());
                    }
                }
                (Value::Object(p), Value::Object(m)) => {
                    for (k, v) in p {
                        if let Some(mv) = m.get(k) {
                            walk(v, mv, out);
                        }
                    }
                }
                (Value::Array(p), Value::Array(m)) => {
                    for (a, b) in p.iter().zip(m) {
                        walk(a, b, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for r in &self.receivers {
            walk(&r.config, &r.masked, &mut out);
        }
        // Short fragments (`/`, `a`) would blank out ordinary text.
        out.retain(|s| s.len() >= 4);
        out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        out.dedup();
        out
    }

    /// `text` with every secret of the receivers replaced by `<secret>`, and every
    /// `scheme://…` URL reduced to its scheme and host.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets())
    }
}

/// `text` with every string of `secrets` (longest first) replaced by `<secret>`, and every
/// `scheme://…` URL reduced to its scheme and host.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "<secret>");
        }
    }
    let re = regex::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'`<>]+"#).expect("valid regex");
    re.replace_all(&out, |c: &regex::Captures| {
        dynalert_model::routing::mask_url(&c[0])
    })
    .into_owned()
}

/// Name of a tenant's own receiver.
pub fn tenant_receiver_name(id: &str) -> String {
    format!("tenant-{id}")
}

/// Name of a tenant's `n`-th (1-based) override receiver.
pub fn override_receiver_name(id: &str, n: usize) -> String {
    format!("tenant-{id}-{n}")
}

fn severity_matcher(sevs: &[Severity]) -> Matcher {
    let mut names: Vec<&str> = sevs.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    if names.len() == 1 {
        Matcher::eq("severity", names[0])
    } else {
        Matcher::new("severity", Op::Re, names.join("|"))
    }
}

fn severity_list(sevs: &[Severity]) -> String {
    sevs.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tenant `id`'s receiver `name`, plain and masked.
fn tenant_receiver(name: &str, r: &Receiver, id: &str) -> AmReceiver {
    AmReceiver {
        config: receiver_json(name, r, false),
        masked: receiver_json(name, r, true),
        name: name.to_string(),
        owner: Owner::Tenant(id.to_string()),
    }
}

fn receiver_json(name: &str, r: &Receiver, masked: bool) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("name".into(), serde_json::Value::String(name.into()));
    for one in std::iter::once(r).chain(&r.more) {
        let fields = if masked {
            one.masked()
        } else {
            one.fields.clone()
        };
        let cfg: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
        if let serde_json::Value::Array(list) = out
            .entry(one.kind.configs_key())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()))
        {
            list.push(serde_json::Value::Object(cfg));
        }
    }
    serde_json::Value::Object(out)
}

/// Name of the generated time interval of a tenant's own `_routing.time_intervals` entry
/// (`/` is in neither tenant ids nor interval names, so names never clash).
pub fn tenant_interval_name(id: &str, name: &str) -> String {
    format!("tenant-{id}/{name}")
}

fn tenant_intervals(tenant: &Tenant, intervals: &mut Vec<TimeInterval>) {
    let Some(tr) = &tenant.routing else { return };
    for (name, specs) in &tr.time_intervals {
        let mut out = Vec::new();
        for spec in specs {
            // One entry per time range: entries are alternatives, so this is the same set.
            let mut times: Vec<_> = spec.times.iter().copied().map(Some).collect();
            if times.is_empty() {
                times.push(None);
            }
            out.extend(times.into_iter().map(|times| mute::Spec {
                times,
                weekdays: spec.weekdays.clone(),
                days_of_month: spec.days_of_month.clone(),
                months: spec.months.clone(),
                years: spec.years.clone(),
                location: spec.location.clone(),
            }));
        }
        intervals.push(TimeInterval {
            name: tenant_interval_name(&tenant.id, name),
            specs: out,
        });
    }
}

fn mask_platform(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    const SECRET_KEYS: [&str; 17] = [
        "url",
        "api_url",
        "webhook_url",
        "proxy_url",
        "token_url",
        "routing_key",
        "service_key",
        "auth_password",
        "auth_secret",
        "password",
        "credentials",
        "token",
        "bot_token",
        "bearer_token",
        "client_secret",
        "api_key",
        "user_key",
    ];
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let shown = match v {
                        Value::String(s)
                            if SECRET_KEYS.contains(&k.as_str()) || k.ends_with("_key") =>
                        {
                            if s.contains("://") {
                                Value::String(dynalert_model::routing::mask_url(s))
                            } else {
                                Value::String("<secret>".into())
                            }
                        }
                        other => mask_platform(other),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask_platform).collect()),
        other => other.clone(),
    }
}

/// Alerts that reach the tenant's receivers even in silent mode or maintenance.
pub const LIVENESS_ALERTS: [&str; 4] = [
    "MariaDBDown",
    "PostgreSQLDown",
    "RedisDown",
    "TenantExporterMissing",
];

/// Name of the generated time interval of a tenant's silent mode.
pub fn silent_interval_name(id: &str) -> String {
    format!("tenant-{id}-silent-mode")
}

/// Name of the generated time interval of a tenant's maintenance.
pub fn maintenance_interval_name(id: &str) -> String {
    format!("tenant-{id}-maintenance")
}

/// What mutes a tenant's own deliveries: (silent severities, silent interval, maintenance interval).
struct Muting {
    silent: Option<(Vec<Severity>, String)>,
    maintenance: Option<String>,
}

fn tenant_muting(
    tenant: &Tenant,
    intervals: &mut Vec<TimeInterval>,
    notes: &mut Vec<String>,
) -> Muting {
    let id = &tenant.id;
    let mut interval = |name: String, specs: Vec<mute::Spec>| {
        (!specs.is_empty()).then(|| {
            intervals.push(TimeInterval {
                name: name.clone(),
                specs,
            });
            name
        })
    };
    let silent = tenant.silent_mode.as_ref().and_then(|s| {
        let name = interval(silent_interval_name(id), mute::absolute(None, s.expires))?;
        Some((s.target.severities().to_vec(), name))
    });
    let maintenance = tenant.maintenance.as_ref().and_then(|m| {
        let mut specs = Vec::new();
        if m.one_off {
            specs.extend(mute::absolute(m.start, m.expires));
        }
        for w in &m.recurring {
            match mute::recurring(w) {
                Ok(s) => specs.extend(s),
                Err(e) => notes.push(format!(
                    "{}: recurring maintenance `{}` of tenant `{id}` cannot be expressed as an Alertmanager time interval ({e}); its alerts are delivered during that window",
                    m.source, w.cron
                )),
            }
        }
        interval(maintenance_interval_name(id), specs)
    });
    Muting {
        silent,
        maintenance,
    }
}

/// `routes` with `mute` set on every delivering route.
fn muted(routes: &[Route], mute: &[String], why: &str) -> Vec<Route> {
    routes
        .iter()
        .cloned()
        .map(|mut r| {
            r.mute_time_intervals.extend(mute.iter().cloned());
            if !mute.is_empty() {
                r.why = format!("{} ({why})", r.why);
            }
            r
        })
        .collect()
}

fn tenant_route(
    tenant: &Tenant,
    routing: &PlatformRouting,
    receivers: &mut Vec<AmReceiver>,
    muting: &Muting,
    silent_recipes: bool,
) -> Option<Route> {
    let id = &tenant.id;
    let empty = TenantRouting::default();
    let tr = tenant.routing.as_ref().unwrap_or(&empty);
    let own = match &tr.receiver {
        Some(r) => {
            let name = tenant_receiver_name(id);
            receivers.push(tenant_receiver(&name, r, id));
            name
        }
        None => routing.default_receiver.clone(),
    };
    let mut copies = Vec::new();
    if let Some((tier_name, tier)) = tenant
        .metadata
        .tier
        .as_ref()
        .and_then(|t| routing.tiers.get_key_value(t))
        .filter(|(_, t)| !t.severities.is_empty())
    {
        let mut r = Route::new(
            &tier.receiver,
            vec![severity_matcher(&tier.severities)],
            format!(
                "tier `{tier_name}` of tenant `{id}` copies {} alerts to `{}`",
                severity_list(&tier.severities),
                tier.receiver
            ),
        );
        r.cont = true;
        r.timings = tier.timings.clone();
        copies.push(r);
    }
    let mut deliveries = Vec::new();
    for (i, o) in tr.overrides.iter().enumerate() {
        let name = override_receiver_name(id, i + 1);
        receivers.push(tenant_receiver(&name, &o.receiver, id));
        let mut matchers = Vec::new();
        let mut what = Vec::new();
        if let Some(a) = &o.matches.alertname {
            matchers.push(Matcher::eq("alertname", a.clone()));
            what.push(format!("alertname `{a}`"));
        }
        if let Some(s) = o.matches.severity {
            matchers.push(Matcher::eq("severity", s.as_str()));
            what.push(format!("severity `{s}`"));
        }
        for l in &o.matches.labels {
            let m = Matcher::new(&l.name, l.op, l.value.clone());
            what.push(format!("`{m}`"));
            matchers.push(m);
        }
        let mut route = Route::new(
            name,
            matchers,
            format!(
                "override {} of tenant `{id}` for {}",
                i + 1,
                what.join(" and ")
            ),
        );
        route.group_by = o.group_by.clone();
        route.timings = o.timings.clone();
        route.cont = o.cont;
        route.active_time_intervals = o
            .active_time_intervals
            .iter()
            .map(|n| tenant_interval_name(id, n))
            .collect();
        route.mute_time_intervals = o
            .mute_time_intervals
            .iter()
            .map(|n| tenant_interval_name(id, n))
            .collect();
        deliveries.push(route);
    }
    let custom = tr.group_by.is_some() || tr.timings != Default::default();
    let mutes = muting.silent.is_some() || muting.maintenance.is_some();
    if copies.is_empty() && deliveries.is_empty() && tr.receiver.is_none() && !custom && !mutes {
        return None;
    }
    let own_why = if tr.receiver.is_some() {
        format!("tenant `{id}` receiver")
    } else {
        format!("tenant `{id}` has no receiver: platform default receiver")
    };
    let copies_len = copies.len();
    let mut children = copies;
    if !children.is_empty() || !deliveries.is_empty() || mutes {
        // Explicit last delivery: after a `continue` child matched, Alertmanager no
        // longer falls back to the parent's receiver.
        deliveries.push(Route::new(&own, vec![], own_why.clone()));
    }
    if mutes {
        // Only the tenant's own deliveries are muted; the enforced and tier copies
        // above and the liveness alerts keep notifying.
        let mut live = Route::new(
            &own,
            vec![Matcher::new("alertname", Op::Re, LIVENESS_ALERTS.join("|"))],
            format!("liveness alerts of tenant `{id}` are never muted"),
        );
        live.routes = deliveries.clone();
        children.push(live);
        let maint: Vec<String> = muting.maintenance.iter().cloned().collect();
        if let Some((sevs, name)) = &muting.silent {
            let mut mute = vec![name.clone()];
            mute.extend(maint.iter().cloned());
            let mut r = Route::new(
                &own,
                vec![severity_matcher(sevs)],
                format!("silent mode of tenant `{id}` for {}", severity_list(sevs)),
            );
            r.routes = muted(&deliveries, &mute, "muted in silent mode and maintenance");
            children.push(r);
        }
        children.extend(muted(&deliveries, &maint, "muted in maintenance"));
    } else {
        children.extend(deliveries);
    }
    if silent_recipes {
        // After the tier copy: a silent recipe mutes only the tenant's own deliveries.
        children.insert(
            copies_len,
            silent_recipe_route(&format!(
                "custom alerts of tenant `{id}` with `mode: silent` are shown in Prometheus only"
            )),
        );
    }
    let mut route = Route::new(
        own,
        vec![
            Matcher::eq("tenant", id.clone()),
            Matcher::new("scope", Op::Ne, "platform"),
        ],
        own_why,
    );
    route.group_by = tr.group_by.clone();
    route.timings = tr.timings.clone();
    route.routes = children;
    Some(route)
}

/// The route that takes a silent recipe's alert to [`BLACKHOLE`]: never a platform alert.
fn silent_recipe_route(why: &str) -> Route {
    let mut matchers: Vec<Matcher> = SILENT_RECIPE
        .iter()
        .map(|(k, v)| Matcher::eq(k, *v))
        .collect();
    matchers.push(Matcher::new("scope", Op::Ne, "platform"));
    Route::new(BLACKHOLE, matchers, why)
}

/// `config` with a stand-in for every tenant in `rejected` that has no accepted
/// configuration (its file failed validation and no last good version exists): the tier
/// the platform assigns, no routing, no silent mode or maintenance. The platform's copies
/// (enforced receiver, tier page) are decided by platform files, so a tenant cannot lose
/// them by writing a bad file; its own alerts reach `default_receiver`.
pub fn with_rejected(config: &Config, rejected: &[&str]) -> Config {
    let mut out = config.clone();
    for id in rejected {
        if out.tenants.contains_key(*id) {
            continue;
        }
        let mut t = Tenant {
            id: id.to_string(),
            file: std::sync::Arc::from(""),
            thresholds: Default::default(),
            state_filters: Default::default(),
            metadata: Default::default(),
            routing: None,
            silent_mode: None,
            maintenance: None,
            severity_dedup: true,
            custom_alerts: Vec::new(),
            level: None,
        };
        t.apply_tenancy(&config.platform);
        out.tenants.insert(id.to_string(), std::sync::Arc::new(t));
    }
    out
}

/// Builds receivers, routes and inhibit rules for `config`.
pub fn generate(config: &Config) -> Result<Generated, GenerateError> {
    let routing = config
        .platform
        .routing
        .as_ref()
        .ok_or(GenerateError::NoRouting)?;
    let mut receivers = vec![AmReceiver {
        name: BLACKHOLE.into(),
        owner: Owner::Nobody,
        config: serde_json::json!({ "name": BLACKHOLE }),
        masked: serde_json::json!({ "name": BLACKHOLE }),
    }];
    for r in &routing.receivers {
        receivers.push(AmReceiver {
            name: r.name.clone(),
            owner: Owner::Platform,
            config: r.config.clone(),
            masked: mask_platform(&r.config),
        });
    }
    let mut root = Route::new(
        &routing.default_receiver,
        vec![],
        "platform default receiver: alerts no other route takes",
    );
    root.group_by = Some(routing.group_by.clone());
    root.timings = routing.timings.clone();

    root.routes.push(Route::new(
        BLACKHOLE,
        vec![
            Matcher::new("alertname", Op::Re, SINK_ALERTS.join("|")),
            Matcher::eq("scope", "platform"),
        ],
        "platform sentinel alerts notify nobody",
    ));
    if let Some(e) = routing
        .enforced
        .as_ref()
        .filter(|e| !e.severities.is_empty())
    {
        let mut r = Route::new(
            &e.receiver,
            vec![severity_matcher(&e.severities)],
            format!(
                "enforced platform copy of {} alerts",
                severity_list(&e.severities)
            ),
        );
        r.cont = true;
        root.routes.push(r);
    }
    let mut time_intervals = Vec::new();
    let mut notes = Vec::new();
    for tenant in config.tenants.values() {
        let muting = tenant_muting(tenant, &mut time_intervals, &mut notes);
        tenant_intervals(tenant, &mut time_intervals);
        // An override receiver `tenant-<id>-<n>` would take the name of tenant `<id>-<n>`'s
        // own receiver: the overriding tenant loses its overrides, never the other tenant
        // its receiver, and generation goes on for everyone.
        let clash = tenant.routing.as_ref().and_then(|tr| {
            (1..=tr.overrides.len())
                .map(|n| format!("{}-{n}", tenant.id))
                .find(|other| config.tenants.contains_key(other))
        });
        let stand_in;
        let tenant = match clash {
            Some(other) => {
                notes.push(format!(
                    "{}: the overrides of tenant `{}` are left out: receiver `{}` would have the name of tenant `{other}`'s receiver; its other alerts are routed as usual",
                    tenant.file,
                    tenant.id,
                    tenant_receiver_name(&other)
                ));
                let mut t = (**tenant).clone();
                if let Some(tr) = t.routing.as_mut() {
                    tr.overrides.clear();
                }
                stand_in = t;
                &stand_in
            }
            None => &**tenant,
        };
        let silent_recipes = tenant
            .level
            .as_deref()
            .unwrap_or(&config.platform)
            .custom_alerts
            .iter()
            .chain(&tenant.custom_alerts)
            .any(|c| c.shape.silent);
        if let Some(r) = tenant_route(tenant, routing, &mut receivers, &muting, silent_recipes) {
            root.routes.push(r);
        }
    }
    root.routes.push(silent_recipe_route(
        "custom alerts with `mode: silent` of tenants without routing are shown in Prometheus only",
    ));
    root.routes.push(Route::new(
        &routing.default_receiver,
        vec![],
        "platform default receiver: platform alerts and tenants without routing",
    ));

    let mut owners: BTreeMap<&str, &Owner> = BTreeMap::new();
    for r in &receivers {
        if let Some(prev) = owners.insert(&r.name, &r.owner) {
            let who = |o: &Owner| match o {
                Owner::Tenant(t) => t.clone(),
                _ => "platform".into(),
            };
            return Err(GenerateError::NameClash {
                name: r.name.clone(),
                first: who(prev),
                second: who(&r.owner),
            });
        }
    }
    Ok(Generated {
        route: root,
        receivers,
        inhibit_rules: inhibit_rules(config),
        time_intervals,
        notes,
    })
}

fn inhibit_rules(config: &Config) -> Vec<InhibitRule> {
    let equal: Vec<String> = DEDUP_EQUAL.iter().map(|s| s.to_string()).collect();
    let no_dedup: Vec<String> = config
        .tenants
        .values()
        .filter(|t| !t.severity_dedup)
        .map(|t| regex::escape(&t.id))
        .collect();
    let mut tenant_target = vec![
        Matcher::eq("severity", "warning"),
        Matcher::new("scope", Op::Ne, "platform"),
    ];
    if !no_dedup.is_empty() {
        tenant_target.push(Matcher::new("tenant", Op::NotRe, no_dedup.join("|")));
    }
    vec![
        InhibitRule {
            source: vec![
                Matcher::eq("severity", "critical"),
                Matcher::new("scope", Op::Ne, "platform"),
            ],
            target: tenant_target,
            equal: equal.clone(),
            why: "severity dedup: a tenant's critical alert inhibits its warning of the same alert"
                .into(),
        },
        InhibitRule {
            source: vec![
                Matcher::eq("severity", "critical"),
                Matcher::eq("scope", "platform"),
            ],
            target: vec![
                Matcher::eq("severity", "warning"),
                Matcher::eq("scope", "platform"),
            ],
            equal,
            why: "severity dedup of platform alerts".into(),
        },
    ]
}

/// One delivery of an explained alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub receiver: String,
    /// Matchers of every route on the way, root first (empty entries skipped).
    pub path: Vec<String>,
    pub why: String,
    /// The receiver with secrets masked.
    pub masked: Option<serde_json::Value>,
    /// Time intervals during which this delivery is muted (silent mode, maintenance).
    pub muted_by: Vec<String>,
    /// Time intervals outside which this delivery is muted (`active_time_intervals`).
    pub active_during: Vec<String>,
}

/// Matchers as written in messages: `a="x", b!="y"`.
fn matchers(ms: &[Matcher]) -> String {
    let written: Vec<String> = ms.iter().map(ToString::to_string).collect();
    written.join(", ")
}

/// Which receivers get an alert with `labels`, and why, in delivery order.
pub fn explain(generated: &Generated, labels: &BTreeMap<String, String>) -> Vec<Delivery> {
    generated
        .route
        .deliveries(labels)
        .into_iter()
        .filter_map(|chain| {
            let last = chain.last()?;
            let path = chain
                .iter()
                .filter(|r| !r.matchers.is_empty())
                .map(|r| format!("{{{}}}", matchers(&r.matchers)))
                .collect();
            Some(Delivery {
                receiver: last.receiver.clone(),
                path,
                why: last.why.clone(),
                masked: generated.receiver(&last.receiver).map(|r| r.masked.clone()),
                muted_by: last.mute_time_intervals.clone(),
                active_during: last.active_time_intervals.clone(),
            })
        })
        .collect()
}

/// Every delivering or copying route, keyed by its chain of matchers (root first).
fn flat_routes(root: &Route) -> Vec<(String, String)> {
    fn walk(
        r: &Route,
        path: &mut Vec<String>,
        seen: &mut BTreeMap<String, usize>,
        out: &mut Vec<(String, String)>,
    ) {
        path.push(format!("{{{}}}", matchers(&r.matchers)));
        let mut what = format!("-> {}", r.receiver);
        if r.cont {
            what += " (continue)";
        }
        if let Some(g) = &r.group_by {
            what += &format!(" group_by [{}]", g.join(", "));
        }
        for (k, v) in [
            ("group_wait", r.timings.group_wait),
            ("group_interval", r.timings.group_interval),
            ("repeat_interval", r.timings.repeat_interval),
        ] {
            if let Some(v) = v {
                what += &format!(" {k} {v}s");
            }
        }
        if !r.mute_time_intervals.is_empty() {
            what += &format!(" muted during {}", r.mute_time_intervals.join(", "));
        }
        if !r.active_time_intervals.is_empty() {
            what += &format!(" active during {}", r.active_time_intervals.join(", "));
        }
        let parts: Vec<&str> = path
            .iter()
            .map(String::as_str)
            .filter(|p| *p != "{}")
            .collect();
        let key = (!parts.is_empty()).then(|| parts.join(" > "));
        let key = key.unwrap_or_else(|| "(root)".to_string());
        let n = seen.entry(key.clone()).or_default();
        *n += 1;
        let key = if *n == 1 { key } else { format!("{key} #{n}") };
        out.push((key, what));
        for c in &r.routes {
            walk(c, path, seen, out);
        }
        path.pop();
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), &mut BTreeMap::new(), &mut out);
    out
}

/// Entries of `a` missing from `b` or changed in it (in `a`'s order), then entries only in
/// `b`, each as `line(key, old value, new value)` says.
fn map_diff(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    out: &mut Vec<String>,
    line: impl Fn(&str, Option<&str>, Option<&str>) -> String,
) {
    for (k, v) in a {
        match b.get(k) {
            None => out.push(line(k, Some(v), None)),
            Some(w) if w != v => out.push(line(k, Some(v), Some(w))),
            _ => {}
        }
    }
    for (k, w) in b {
        if !a.contains_key(k) {
            out.push(line(k, None, Some(w)));
        }
    }
}

/// What changes from `old` to `new`, route by route, receiver by receiver; secrets masked.
pub fn diff(old: &Generated, new: &Generated) -> Vec<String> {
    let mut out = Vec::new();
    let routes = |g: &Generated| flat_routes(&g.route).into_iter().collect();
    map_diff(&routes(old), &routes(new), &mut out, |k, v, w| {
        match (v, w) {
            (Some(v), None) => format!("- route {k} {v}"),
            (Some(v), Some(w)) => format!("~ route {k} {v}  =>  {w}"),
            (_, w) => format!("+ route {k} {}", w.unwrap_or_default()),
        }
    });
    for r in &old.receivers {
        match new.receiver(&r.name) {
            None => out.push(format!("- receiver {}: {}", r.name, r.masked)),
            Some(n) if n.config != r.config => {
                if n.masked == r.masked {
                    out.push(format!("~ receiver {}: a secret changed", r.name));
                } else {
                    out.push(format!(
                        "~ receiver {}: {}  =>  {}",
                        r.name, r.masked, n.masked
                    ));
                }
            }
            _ => {}
        }
    }
    for n in &new.receivers {
        if old.receiver(&n.name).is_none() {
            out.push(format!("+ receiver {}: {}", n.name, n.masked));
        }
    }
    let intervals = |g: &Generated| -> BTreeMap<String, String> {
        g.time_intervals
            .iter()
            .map(|t| (t.name.clone(), format!("{:?}", t.specs)))
            .collect()
    };
    map_diff(&intervals(old), &intervals(new), &mut out, |k, v, w| {
        let sign = match (v, w) {
            (Some(_), None) => '-',
            (Some(_), Some(_)) => '~',
            _ => '+',
        };
        format!("{sign} time interval {k}")
    });
    let rules = |g: &Generated| -> Vec<String> {
        g.inhibit_rules
            .iter()
            .map(|r| {
                format!(
                    "source {{{}}} target {{{}}} equal [{}]",
                    matchers(&r.source),
                    matchers(&r.target),
                    r.equal.join(", ")
                )
            })
            .collect()
    };
    let (ra, rb) = (rules(old), rules(new));
    for r in ra.iter().filter(|r| !rb.contains(r)) {
        out.push(format!("- inhibit rule {r}"));
    }
    for r in rb.iter().filter(|r| !ra.contains(r)) {
        out.push(format!("+ inhibit rule {r}"));
    }
    out
}
