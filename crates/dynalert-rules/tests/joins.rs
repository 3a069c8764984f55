//! Structural join safety of the real packs: the one side of every `group_left` /
//! `group_right` (and both sides of every one-to-one match) is unique by construction, so two
//! disagreeing exporter replicas can never make a rule fail with a many-to-many error.

use std::path::{Path, PathBuf};

use dynalert_rules::pack::parse_rule_file;
use dynalert_rules::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packs() -> Vec<Rule> {
    load_packs(&root().join("rules/packs")).unwrap()
}

#[test]
fn every_join_of_every_pack_is_unique_by_construction() {
    let rules = packs();
    let joins = rules.iter().filter(|r| r.expr.contains("group_")).count();
    assert!(
        joins > 20,
        "only {joins} rules with a group modifier loaded"
    );
    let v: Vec<String> = check_joins(&rules)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(v.is_empty(), "joins that can fail:\n{}", v.join("\n"));
}

fn with(body: &str) -> Vec<String> {
    let text = format!("groups:\n  - name: t\n    rules:\n{body}");
    let mut rules = packs();
    rules.extend(parse_rule_file("probe", Path::new("t.yaml"), &text).unwrap());
    check_joins(&rules)
        .into_iter()
        .filter(|v| v.pack == "probe")
        .map(|v| v.to_string())
        .collect()
}

/// Some violation in `found` names `rule` and says `what`.
fn assert_named(found: &[String], rule: &str, what: &str) {
    assert!(
        found.iter().any(|v| v.contains(rule) && v.contains(what)),
        "{found:#?}"
    );
}

#[test]
fn a_one_side_unique_on_more_labels_than_the_match_is_caught_by_name() {
    // The shape that broke every tenant's Kubernetes alerts: one namespace, two owners.
    let found = with(
        "      - record: probe:joined\n        expr: kube_pod_container_status_waiting_reason * on(namespace) group_left(tenant) max by(namespace, tenant)(tenant_namespace_info)\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`probe:joined`"), "{found:#?}");
    assert!(
        found[0].contains("unique only on {namespace, tenant}"),
        "{found:#?}"
    );
}

#[test]
fn a_raw_scraped_one_side_is_caught() {
    let found = with(
        "      - alert: ProbeAlert\n        expr: tenant:mysql_threads_connected:max * on(tenant) group_left(tier) tenant_metadata_info\n",
    );
    assert_named(&found, "`ProbeAlert`", "nothing makes it unique");
}

#[test]
fn a_state_filter_joined_with_its_severity_is_caught() {
    // Two replicas disagreeing on a filter's severity give two series per tenant.
    let found = with(
        "      - alert: ProbeState\n        expr: max by(namespace, tenant)(kube_pod_container_status_waiting_reason * on(namespace) group_left(tenant) namespace:tenant:info) * on(tenant) group_left(severity) max by(tenant, severity)(user_state_filter{filter=\"container_crashloop\"})\n",
    );
    assert_named(&found, "`ProbeState`", "{severity, tenant}");
}

#[test]
fn a_recorded_one_side_inherits_its_recording_rule_shape() {
    let good = with(
        "      - record: probe:one\n        expr: topk by(tenant)(1, max by(tenant, tier)(tenant_metadata_info))\n      - record: probe:good\n        expr: tenant:mysql_threads_connected:max * on(tenant) group_left(tier) probe:one\n",
    );
    assert!(good.is_empty(), "{good:#?}");
    let bad = with(
        "      - record: probe:two\n        expr: max by(tenant, tier)(tenant_metadata_info)\n      - record: probe:bad\n        expr: tenant:mysql_threads_connected:max * on(tenant) group_left(tier) probe:two\n",
    );
    assert!(bad.iter().any(|v| v.contains("`probe:bad`")), "{bad:#?}");
}

#[test]
fn one_to_one_matches_need_both_sides_unique() {
    let found = with(
        "      - record: probe:ratio\n        expr: max by(tenant, instance)(mysql_up) / on(tenant) max by(tenant)(mysql_up)\n",
    );
    assert_named(&found, "`probe:ratio`", "left (one-to-one)");
}
