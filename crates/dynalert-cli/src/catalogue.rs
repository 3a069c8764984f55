//! The catalogue of the shipped rule packs (`rules/catalogue.yaml`): per key its pack, unit,
//! meaning and suggested default, built into the binary so that `dynalert init` works outside
//! the repository.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

/// The text of `rules/catalogue.yaml`.
pub const TEXT: &str = include_str!("../../../rules/catalogue.yaml");

/// One key the packs read.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pack: String,
    pub unit: String,
    pub meaning: String,
    /// Suggested default per tier (`warning`, `critical`); empty for optional keys.
    pub default: Vec<(String, f64)>,
    /// Labels a tenant may refine the key by.
    pub labels: Vec<String>,
}

impl Key {
    /// `unit: meaning`, the comment written next to the key.
    pub fn comment(&self) -> String {
        format!("{}: {}", self.unit, self.meaning)
    }
}

/// One state filter the packs read.
#[derive(Debug, Clone, PartialEq)]
pub struct StateFilter {
    pub name: String,
    pub reasons: Vec<String>,
    pub severity: String,
    pub meaning: String,
}

/// The whole catalogue, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub keys: Vec<Key>,
    pub state_filters: Vec<StateFilter>,
}

impl Catalogue {
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.name == name)
    }
}

/// The built-in catalogue.
pub fn builtin() -> Catalogue {
    parse(TEXT).expect("rules/catalogue.yaml is checked by the tests")
}

fn text(y: &Yaml, field: &str, owner: &str) -> Result<String, String> {
    y[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("`{owner}` has no `{field}`"))
}

fn number(y: &Yaml) -> Option<f64> {
    match y {
        Yaml::Integer(i) => Some(*i as f64),
        Yaml::Real(_) => y.as_f64(),
        _ => None,
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    let items = y.as_vec().into_iter().flatten();
    items
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Parses the catalogue text.
pub fn parse(source: &str) -> Result<Catalogue, String> {
    let docs = YamlLoader::load_from_str(source).map_err(|e| e.to_string())?;
    let doc = docs.first().ok_or("empty catalogue")?;
    let mut keys = Vec::new();
    for (name, body) in doc["keys"].as_hash().ok_or("no `keys:` mapping")? {
        let name = name
            .as_str()
            .ok_or("a key name is not a string")?
            .to_string();
        let default = match &body["default"] {
            Yaml::BadValue => Vec::new(),
            Yaml::Hash(h) => {
                let tiers: BTreeMap<String, f64> = h
                    .iter()
                    .map(|(t, v)| Some((t.as_str()?.to_string(), number(v)?)))
                    .collect::<Option<_>>()
                    .ok_or_else(|| format!("`{name}` has a malformed `default`"))?;
                // warning before critical, as a platform file writes them
                ["info", "warning", "critical"]
                    .iter()
                    .filter_map(|t| tiers.get(*t).map(|v| (t.to_string(), *v)))
                    .collect()
            }
            other => vec![(
                "warning".to_string(),
                number(other).ok_or_else(|| format!("`{name}` has a malformed `default`"))?,
            )],
        };
        keys.push(Key {
            pack: text(body, "pack", &name)?,
            unit: text(body, "unit", &name)?,
            meaning: text(body, "meaning", &name)?,
            labels: strings(&body["labels"]),
            default,
            name,
        });
    }
    let mut state_filters = Vec::new();
    if let Some(h) = doc["state_filters"].as_hash() {
        for (name, body) in h {
            let name = name
                .as_str()
                .ok_or("a state filter name is not a string")?
                .to_string();
            state_filters.push(StateFilter {
                reasons: strings(&body["reasons"]),
                severity: text(body, "severity", &name)?,
                meaning: text(body, "meaning", &name)?,
                name,
            });
        }
    }
    Ok(Catalogue {
        keys,
        state_filters,
    })
}

/// A number as YAML writes it (`80`, `0.5`).
pub fn fmt_number(v: f64) -> String {
    format!("{v}")
}

/// A default as a platform file writes it: `80` for a warning-only value, else a tier map.
pub fn fmt_tiers(tiers: &[(String, String)]) -> String {
    match tiers {
        [(t, v)] if t == "warning" => v.clone(),
        _ => {
            let inner: Vec<String> = tiers.iter().map(|(t, v)| format!("{t}: {v}")).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}
