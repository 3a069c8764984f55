//! The key -> alerts matrix behind `dynalert rules coverage DIR`: which alerts read each
//! catalogue key (through recording rules), and which alerts read keys outside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::contract::{keys_read, rule_id};
use crate::pack::{load_packs, RuleKind};
use crate::Error;

/// Catalogue key -> alertnames reading it, plus keys read that the catalogue lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub keys: BTreeMap<String, BTreeSet<String>>,
    pub unknown: BTreeMap<String, BTreeSet<String>>,
}

impl Coverage {
    /// Catalogue keys no alert reads.
    pub fn unarmed(&self) -> Vec<&str> {
        self.keys
            .iter()
            .filter(|(_, a)| a.is_empty())
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// Builds the matrix for the packs in `packs_dir` against `catalogue_keys`.
pub fn coverage(packs_dir: &Path, catalogue_keys: &BTreeSet<String>) -> Result<Coverage, Error> {
    let rules = load_packs(packs_dir)?;
    let read = keys_read(&rules);
    let mut cov = Coverage {
        keys: catalogue_keys
            .iter()
            .map(|k| (k.clone(), BTreeSet::new()))
            .collect(),
        unknown: BTreeMap::new(),
    };
    for rule in rules.iter().filter(|r| r.kind == RuleKind::Alert) {
        for key in read.get(&rule_id(rule)).into_iter().flatten() {
            let slot = match cov.keys.get_mut(key) {
                Some(s) => s,
                None => cov.unknown.entry(key.clone()).or_default(),
            };
            slot.insert(rule.name.clone());
        }
    }
    Ok(cov)
}

/// Plain-text rendering: one line per key, then the findings.
pub fn render_coverage(cov: &Coverage) -> String {
    let width = cov
        .keys
        .keys()
        .chain(cov.unknown.keys())
        .map(String::len)
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = String::new();
    let _ = writeln!(out, "{:width$}  ALERTS", "KEY");
    for (key, alerts) in &cov.keys {
        let list = if alerts.is_empty() {
            "(none: unarmed)".to_string()
        } else {
            alerts.iter().cloned().collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(out, "{key:width$}  {list}");
    }
    for (key, alerts) in &cov.unknown {
        let list = alerts.iter().cloned().collect::<Vec<_>>().join(", ");
        let _ = writeln!(out, "{key:width$}  {list}  (not in the catalogue)");
    }
    let unarmed = cov.unarmed().len();
    let _ = writeln!(
        out,
        "{} keys, {} unarmed, {} unknown keys read",
        cov.keys.len(),
        unarmed,
        cov.unknown.len()
    );
    out
}
