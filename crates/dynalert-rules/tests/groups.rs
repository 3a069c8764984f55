//! Evaluation order and the lab's shortcuts, checked on the real packs.
//!
//! * Each pack is one rule group (plus its generated regex group) whose rules come in
//!   dependency order: a rule reading a series recorded by its own group comes after the rule
//!   that records it, so an alert sees the values recorded in the same evaluation.
//! * The lab rewrites every `for:` to 0 s; that is only acceptable because every alert with a
//!   real `for:` has a promtool case in which it fires at that `for:`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dynalert_rules::promql;
use dynalert_rules::*;
use yaml_rust2::YamlLoader;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn packs() -> Vec<Rule> {
    load_packs(&root().join("rules/packs")).unwrap()
}

fn is_generated(r: &Rule) -> bool {
    r.file
        .file_name()
        .is_some_and(|n| n == "regex-thresholds.yaml")
}

#[test]
fn each_pack_is_one_group_in_dependency_order() {
    let rules = packs();
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rules.iter().filter(|r| !is_generated(r)) {
        groups.entry(&r.pack).or_default().insert(&r.group);
    }
    assert_eq!(groups.len(), 6, "{groups:?}");
    for (pack, names) in &groups {
        assert_eq!(
            names.iter().copied().collect::<Vec<_>>(),
            vec![format!("dynalert-{pack}").as_str()],
            "pack `{pack}` must be exactly one group"
        );
    }
    let mut late = Vec::new();
    for group in groups.values().flatten() {
        let in_group: Vec<&Rule> = rules.iter().filter(|r| r.group == *group).collect();
        for (i, r) in in_group.iter().enumerate() {
            let Ok(e) = promql::parse(&r.expr) else {
                continue;
            };
            for s in promql::selectors(&e) {
                let recorder = in_group
                    .iter()
                    .position(|x| x.kind == RuleKind::Record && x.name == s.name);
                if recorder.is_some_and(|j| j >= i) {
                    late.push(format!(
                        "{group}: `{}` reads `{}` recorded after it",
                        r.name, s.name
                    ));
                }
            }
        }
    }
    assert!(late.is_empty(), "{}", late.join("\n"));
}

/// Alertnames with at least one promtool case expecting them to fire.
fn alerts_proven_firing() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let packs = root().join("rules/packs");
    for pack in std::fs::read_dir(&packs).unwrap() {
        let dir = pack.unwrap().path().join("tests");
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for f in files {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let docs = YamlLoader::load_from_str(&text).unwrap();
            let tests = docs[0]["tests"].as_vec().into_iter().flatten();
            for case in tests.flat_map(|t| t["alert_rule_test"].as_vec().into_iter().flatten()) {
                if case["exp_alerts"].as_vec().is_some_and(|a| !a.is_empty()) {
                    out.extend(case["alertname"].as_str().map(str::to_string));
                }
            }
        }
    }
    out
}

#[test]
fn every_alert_with_a_pending_period_is_proven_firing_by_promtool() {
    let proven = alerts_proven_firing();
    assert!(proven.contains("ContainerCrashLooping"), "{proven:?}");
    let rules = packs();
    let unproven: BTreeSet<&str> = rules
        .iter()
        .filter(|r| r.kind == RuleKind::Alert && !r.for_.is_empty() && r.for_ != "0s")
        .map(|r| r.name.as_str())
        .filter(|n| !proven.contains(*n))
        .collect();
    assert!(
        unproven.is_empty(),
        "alerts whose real `for:` no promtool case proves (the lab shortens it): {unproven:?}"
    );
}
