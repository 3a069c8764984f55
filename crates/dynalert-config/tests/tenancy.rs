//! Ownership is the platform's: tiers and namespaces come from `tenancy:` in platform
//! files; a tenant's `_metadata.tier` / `_metadata.namespaces` are claims that must match.
//! Expected outcomes follow docs/configuration.md ("Tenancy").

use std::path::Path;

use chrono::Utc;
use dynalert_config::{LoadReport, Loader};

const PLATFORM: &str = "defaults:\n  mysql_connections: 80\n";
const ROUTING: &str = "routing:\n  default_receiver: d\n  receivers:\n    - {name: d, webhook_configs: [{url: \"http://127.0.0.1:1/d\"}]}\n    - {name: pager, webhook_configs: [{url: \"http://127.0.0.1:1/p\"}]}\n  tiers:\n    vip: {receiver: pager, severities: [critical]}\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn tenant(id: &str, metadata: &str) -> String {
    format!("tenants:\n  {id}:\n    _metadata: {metadata}\n")
}

fn dir_with(tenancy: &str, tenants: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "_defaults.yaml", PLATFORM);
    write(dir.path(), "_routing.yaml", ROUTING);
    if !tenancy.is_empty() {
        write(dir.path(), "_tenancy.yaml", tenancy);
    }
    for (id, meta) in tenants {
        write(dir.path(), &format!("{id}.yaml"), &tenant(id, meta));
    }
    dir
}

/// Loads [`dir_with`]`(tenancy, tenants)` once: the report and its errors.
fn load(tenancy: &str, tenants: &[(&str, &str)]) -> (LoadReport, Vec<String>) {
    let dir = dir_with(tenancy, tenants);
    let r = dynalert_config::load_dir(dir.path(), Utc::now()).unwrap();
    let e = r.error_lines();
    (r, e)
}

fn tier(r: &LoadReport, id: &str) -> Option<String> {
    r.config.tenants.get(id)?.metadata.tier.clone()
}

fn namespaces(r: &LoadReport, id: &str) -> Vec<String> {
    r.config
        .tenants
        .get(id)
        .map(|t| t.metadata.namespaces.clone())
        .unwrap_or_default()
}

#[test]
fn a_tier_claim_without_the_platform_is_a_located_error() {
    let (r, e) = load("", &[("db-a", "{tier: vip, owner: x}")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("db-a.yaml:3:"), "{e:?}");
    assert!(
        e[0].contains("tier `vip` is not assigned to tenant `db-a` by the platform"),
        "{e:?}"
    );
    assert!(e[0].contains("tenancy:"), "the hint names the fix: {e:?}");
    assert_eq!(r.tenant_valid.get("db-a"), Some(&false));
    assert!(
        !r.config.tenants.contains_key("db-a"),
        "no VIP tenant out of a claim"
    );
}

#[test]
fn the_platform_assigns_and_a_matching_claim_is_accepted() {
    let (r, _) = load(
        "tenancy:\n  db-a: {tier: vip, namespaces: [db-a, db-a-batch]}\n",
        &[
            ("db-a", "{tier: vip, namespaces: [db-a-batch]}"),
            ("db-b", "{owner: y}"),
        ],
    );
    assert!(r.error_lines().is_empty(), "{:?}", r.error_lines());
    assert_eq!(tier(&r, "db-a").as_deref(), Some("vip"));
    assert_eq!(namespaces(&r, "db-a"), vec!["db-a", "db-a-batch"]);
    // No assignment: no tier, the namespace named after the tenant.
    assert_eq!(tier(&r, "db-b"), None);
    assert_eq!(namespaces(&r, "db-b"), vec!["db-b"]);
}

#[test]
fn an_unassigned_tenant_gets_its_tier_from_the_platform_without_claiming_it() {
    let (r, _) = load("tenancy:\n  db-a: {tier: vip}\n", &[("db-a", "{owner: x}")]);
    assert!(r.error_lines().is_empty(), "{:?}", r.error_lines());
    assert_eq!(tier(&r, "db-a").as_deref(), Some("vip"));
}

#[test]
fn tier_names_match_exactly_with_a_hint() {
    let (_, e) = load(
        "tenancy:\n  db-a: {tier: vip}\n",
        &[("db-a", "{tier: VIP}")],
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("tier `VIP` is not assigned"), "{e:?}");
    assert!(e[0].contains("did you mean `vip`"), "{e:?}");
    // The platform itself cannot assign a near miss of a routed tier either.
    let (r, e) = load("tenancy:\n  db-a: {tier: Vip}\n", &[("db-a", "{owner: x}")]);
    assert!(
        e.iter()
            .any(|e| e.contains("_tenancy.yaml:2:") && e.contains("unknown tier `Vip`")),
        "{e:?}"
    );
    assert!(!r.platform_valid);
}

#[test]
fn another_tenants_namespace_cannot_be_claimed() {
    let (r, e) = load(
        "tenancy:\n  db-a: {namespaces: [payments]}\n",
        &[("db-a", "{owner: a}"), ("db-b", "{namespaces: [payments]}")],
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("db-b.yaml:3:")
            && e[0].contains("namespace `payments` is not assigned to tenant `db-b`"),
        "{e:?}"
    );
    assert!(
        e[0].contains("tenant `db-a`"),
        "the hint names the owner: {e:?}"
    );
    assert_eq!(namespaces(&r, "db-a"), vec!["payments"]);
}

#[test]
fn one_namespace_is_never_assigned_twice() {
    let (r, e) = load(
        "tenancy:\n  db-a: {namespaces: [shared]}\n  db-b: {namespaces: [shared]}\n",
        &[("db-a", "{owner: a}"), ("db-b", "{owner: b}")],
    );
    assert!(
        e.iter()
            .any(|e| e.contains("_tenancy.yaml:3:")
                && e.contains("already assigned to tenant `db-a`")),
        "{e:?}"
    );
    assert!(!r.platform_valid);
}

#[test]
fn a_default_namespace_assigned_to_another_tenant_is_not_served_twice() {
    // db-b's default namespace is `db-b`, but the platform gives it to db-a.
    let (r, _) = load(
        "tenancy:\n  db-a: {namespaces: [db-a, db-b]}\n",
        &[("db-a", "{owner: a}"), ("db-b", "{owner: b}")],
    );
    assert!(r.error_lines().is_empty(), "{:?}", r.error_lines());
    assert_eq!(namespaces(&r, "db-a"), vec!["db-a", "db-b"]);
    assert!(namespaces(&r, "db-b").is_empty());
}

/// Independent of file order and of history: a rejected tenant's last good config
/// follows the current platform assignment, so two owners are never served.
#[test]
fn ownership_follows_the_platform_through_rejections() {
    let dir = dir_with(
        "tenancy:\n  db-b: {namespaces: [db-b, shared]}\n",
        &[("db-a", "{owner: a}"), ("db-b", "{owner: b}")],
    );
    let mut loader = Loader::new(dir.path());
    let r = loader.reload(Utc::now()).unwrap();
    assert_eq!(namespaces(&r, "db-b"), vec!["db-b", "shared"]);
    // db-b's file breaks: its last good config is kept.
    write(
        dir.path(),
        "db-b.yaml",
        "tenants:\n  db-b:\n    mysql_connections: lots\n",
    );
    let r = loader.reload(Utc::now()).unwrap();
    assert_eq!(r.tenant_valid.get("db-b"), Some(&false));
    assert_eq!(namespaces(&r, "db-b"), vec!["db-b", "shared"]);
    // The platform moves `shared` to db-a: the kept config of db-b loses it.
    write(
        dir.path(),
        "_tenancy.yaml",
        "tenancy:\n  db-a: {namespaces: [db-a, shared]}\n",
    );
    let r = loader.reload(Utc::now()).unwrap();
    assert!(r.platform_valid, "{:?}", r.error_lines());
    assert_eq!(namespaces(&r, "db-a"), vec!["db-a", "shared"]);
    assert_eq!(namespaces(&r, "db-b"), vec!["db-b"]);
    let owners = r
        .config
        .tenants
        .values()
        .filter(|t| t.metadata.namespaces.iter().any(|n| n == "shared"))
        .count();
    assert_eq!(owners, 1);
}

#[test]
fn a_second_routing_block_is_an_error_not_a_silent_replacement() {
    let dir = dir_with("", &[("db-a", "{owner: a}")]);
    write(dir.path(), "_zz.yaml", "routing:\n  default_receiver: d\n  receivers:\n    - {name: d, webhook_configs: [{url: \"http://127.0.0.1:1/x\"}]}\n");
    let r = dynalert_config::load_dir(dir.path(), Utc::now()).unwrap();
    let e = r.error_lines();
    assert!(
        e.iter().any(
            |e| e.contains("_zz.yaml:1:1:") && e.contains("a second platform `routing:` block")
        ),
        "{e:?}"
    );
    assert!(!r.platform_valid);
}
