//! The platform catalogue of `/config`: every key, its default tiers, and which alerts of
//! the rule packs built into this exporter read it (through their recording rules).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use dynalert_model::{Platform, Severity};
use dynalert_rules::contract::{keys_read, rule_id};
use dynalert_rules::{Rule, RuleKind};
use serde::Serialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/packs.rs"));
}

/// An alert reading a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AlertRef {
    pub pack: String,
    pub alert: String,
}

/// Threshold key -> alerts reading it, from the embedded packs (computed once).
pub struct Packs {
    pub names: Vec<String>,
    pub readers: BTreeMap<String, BTreeSet<AlertRef>>,
    /// Pack files that could not be read (never expected for a release build).
    pub errors: Vec<String>,
}

pub fn packs() -> &'static Packs {
    static PACKS: OnceLock<Packs> = OnceLock::new();
    PACKS.get_or_init(|| {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        let mut names = BTreeSet::new();
        for (pack, file, text) in embedded::PACK_FILES {
            names.insert(pack.to_string());
            match dynalert_rules::pack::parse_rule_file(pack, Path::new(file), text) {
                Ok(r) => rules.extend(r),
                Err(e) => errors.push(format!("{pack}/{e}")),
            }
        }
        let read = keys_read(&rules);
        let mut readers: BTreeMap<String, BTreeSet<AlertRef>> = BTreeMap::new();
        for rule in rules.iter().filter(|r| r.kind == RuleKind::Alert) {
            for key in read.get(&rule_id(rule)).into_iter().flatten() {
                readers.entry(key.clone()).or_default().insert(AlertRef {
                    pack: rule.pack.clone(),
                    alert: rule.name.clone(),
                });
            }
        }
        Packs {
            names: names.into_iter().collect(),
            readers,
            errors,
        }
    })
}

/// One catalogue key as shown on `/config`.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueKey {
    pub key: String,
    /// `defaults` (series for every tenant) or `optional` (series only when a tenant sets it).
    pub kind: &'static str,
    /// Default value per tier; `None` for a tier the platform disables.
    pub defaults: Vec<(Severity, Option<f64>)>,
    /// `file:line` of the definition.
    pub source: String,
    /// Labels the key may be refined by.
    pub dimensions: Vec<String>,
    pub alerts: Vec<AlertRef>,
    /// At least one alert reads the key.
    pub armed: bool,
}

/// Every key of the platform catalogue, sorted by name.
pub fn catalogue(platform: &Platform) -> Vec<CatalogueKey> {
    let packs = packs();
    let dims = |base: &str| -> Vec<String> {
        platform
            .dimensions
            .as_ref()
            .and_then(|d| d.get(base))
            .cloned()
            .unwrap_or_default()
    };
    let alerts = |base: &str| -> Vec<AlertRef> {
        packs
            .readers
            .get(base)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    };
    let mut out: Vec<CatalogueKey> = Vec::new();
    for (key, tiers) in &platform.defaults {
        let source = tiers
            .values()
            .next()
            .map(|v| v.source.to_string())
            .unwrap_or_default();
        let alerts = alerts(&key.base);
        out.push(CatalogueKey {
            key: key.to_string(),
            kind: "defaults",
            defaults: tiers.iter().map(|(s, v)| (s, v.default)).collect(),
            source,
            dimensions: dims(&key.base),
            armed: !alerts.is_empty(),
            alerts,
        });
    }
    for (key, source) in &platform.optional {
        let alerts = alerts(key);
        out.push(CatalogueKey {
            key: key.clone(),
            kind: "optional",
            defaults: Vec::new(),
            source: source.to_string(),
            dimensions: dims(key),
            armed: !alerts.is_empty(),
            alerts,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}
