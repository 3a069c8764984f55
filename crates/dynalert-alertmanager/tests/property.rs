//! Property tests over random tenants and routing blocks, written as conf.d files and
//! loaded through the validator: tenant isolation of routes and of inhibit rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use dynalert_alertmanager::{generate, Op, Owner};
use proptest::prelude::*;

const IDS: [&str; 6] = ["a", "b", "ab", "db-a", "db-ab", "c.d"];
const ALERTS: [&str; 4] = ["A", "B", "C", "Special"];
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

#[derive(Debug, Clone)]
struct TenantSpec {
    tier: Option<&'static str>,
    receiver: bool,
    overrides: Vec<(Option<&'static str>, Option<&'static str>)>,
    dedup: bool,
}

fn tenant_spec() -> impl Strategy<Value = TenantSpec> {
    let over = (
        proptest::option::of(proptest::sample::select(&ALERTS[..])),
        proptest::option::of(proptest::sample::select(&SEVERITIES[..])),
    )
        .prop_filter("an override matches something", |(a, s)| {
            a.is_some() || s.is_some()
        });
    (
        proptest::option::of(proptest::sample::select(&["vip", "gold", "standard"][..])),
        any::<bool>(),
        proptest::collection::vec(over, 0..3),
        any::<bool>(),
    )
        .prop_map(|(tier, receiver, overrides, dedup)| TenantSpec {
            tier,
            receiver,
            overrides,
            dedup,
        })
}

const PLATFORM: &str = r#"
defaults: {mysql_connections: 80}
routing:
  default_receiver: platform-default
  receivers:
    - {name: platform-default, webhook_configs: [{url: "http://127.0.0.1:5001/platform-default"}]}
    - {name: noc, webhook_configs: [{url: "http://127.0.0.1:5001/noc"}]}
    - {name: vip-pager, webhook_configs: [{url: "http://127.0.0.1:5001/vip-pager"}]}
    - {name: gold-pager, webhook_configs: [{url: "http://127.0.0.1:5001/gold-pager"}]}
  enforced: {receiver: noc, severities: [critical]}
  tiers:
    vip: {receiver: vip-pager, severities: [critical]}
    gold: {receiver: gold-pager, severities: [warning, critical]}
  allowed_url_patterns: ["http://127\\.0\\.0\\.1:[0-9]+/.*"]
"#;

fn tenant_yaml(id: &str, t: &TenantSpec) -> String {
    let mut y = format!("tenants:\n  {id}:\n");
    if let Some(tier) = t.tier {
        writeln!(y, "    _metadata: {{tier: {tier}}}").unwrap();
    }
    if !t.dedup {
        writeln!(y, "    _severity_dedup: disable").unwrap();
    }
    if t.receiver || !t.overrides.is_empty() {
        writeln!(y, "    _routing:").unwrap();
        if t.receiver {
            writeln!(
                y,
                "      receiver: {{type: webhook, url: \"http://127.0.0.1:5001/{id}\"}}"
            )
            .unwrap();
        }
        if !t.overrides.is_empty() {
            writeln!(y, "      overrides:").unwrap();
            for (i, (a, s)) in t.overrides.iter().enumerate() {
                let mut m = String::new();
                if let Some(a) = a {
                    write!(m, "alertname: {a}, ").unwrap();
                }
                if let Some(s) = s {
                    write!(m, "severity: {s}, ").unwrap();
                }
                writeln!(
                    y,
                    "        - {{{m}receiver: {{type: webhook, url: \"http://127.0.0.1:5001/{id}-{i}\"}}}}"
                )
                .unwrap();
            }
        }
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_alert_crosses_tenants(specs in proptest::collection::btree_map(proptest::sample::select(&IDS[..]), tenant_spec(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("_defaults.yaml"), PLATFORM).unwrap();
        // Tiers are assigned by the platform; the tenant files claim the same tier.
        let mut tenancy = String::from("tenancy:\n");
        for (id, spec) in &specs {
            std::fs::write(dir.path().join(format!("{id}.yaml")), tenant_yaml(id, spec)).unwrap();
            if let Some(tier) = spec.tier {
                writeln!(tenancy, "  {id}: {{tier: {tier}}}").unwrap();
            }
        }
        std::fs::write(dir.path().join("_tenancy.yaml"), tenancy).unwrap();
        let report = dynalert_config::load_dir(dir.path(), chrono::Utc::now()).unwrap();
        let errors = report.error_lines();
        prop_assert!(errors.is_empty(), "{:?}", errors);
        let generated = generate(&report.config).unwrap();

        for id in specs.keys() {
            for sev in SEVERITIES {
                for alert in ALERTS {
                    let labels: BTreeMap<String, String> = [("tenant", *id), ("severity", sev), ("alertname", alert)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    let receivers = generated.route.receivers_for(&labels);
                    prop_assert!(!receivers.is_empty());
                    for r in &receivers {
                        let owner = &generated.receiver(r).expect("routed to a defined receiver").owner;
                        match owner {
                            Owner::Platform => {}
                            Owner::Tenant(t) => prop_assert_eq!(t, id, "alert of `{}` routed to `{}`", id, r),
                            Owner::Nobody => prop_assert!(false, "tenant alert sent to the blackhole"),
                        }
                    }
                }
            }
        }
        // Tenant routes match the tenant exactly, never by regex.
        for route in generated.route.walk() {
            for m in route.matchers.iter().filter(|m| m.name == "tenant") {
                prop_assert_eq!(m.op, Op::Eq);
            }
        }
        for rule in &generated.inhibit_rules {
            prop_assert!(rule.equal.iter().any(|l| l == "tenant"), "{:?}", rule);
            // Only platform alerts can inhibit platform alerts.
            let platform_target = rule.target.iter().any(|m| m.name == "scope" && m.op == Op::Eq && m.value == "platform");
            let platform_source = rule.source.iter().any(|m| m.name == "scope" && m.op == Op::Eq && m.value == "platform");
            let excludes_platform = rule.target.iter().any(|m| m.name == "scope" && m.op == Op::Ne && m.value == "platform");
            prop_assert!(excludes_platform || (platform_target && platform_source), "{:?}", rule);
        }
        // Severity dedup honours `_severity_dedup: disable`.
        let dedup = &generated.inhibit_rules[0];
        for (id, spec) in &specs {
            let warning: BTreeMap<String, String> = [("tenant", *id), ("severity", "warning"), ("alertname", "A")]
                .into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let mut critical = warning.clone();
            critical.insert("severity".into(), "critical".into());
            prop_assert_eq!(dedup.inhibits(&critical, &warning), spec.dedup, "dedup of `{}`", id);
            for (other, _) in specs.iter().filter(|(o, _)| *o != id) {
                let mut foreign = critical.clone();
                foreign.insert("tenant".into(), other.to_string());
                prop_assert!(!generated.inhibit_rules.iter().any(|r| r.inhibits(&foreign, &warning)));
            }
        }
    }
}
