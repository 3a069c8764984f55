//! Loads every rule of every pack (`<packs_dir>/<pack>/*.yaml`, tests excluded) into a flat
//! list; each rule keeps the pack and file it came from for error messages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::Error;

/// Recording rule or alerting rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    Record,
    Alert,
}

/// One rule of a pack.
#[derive(Debug, Clone)]
pub struct Rule {
    pub pack: String,
    pub file: PathBuf,
    pub kind: RuleKind,
    /// The recorded series name or the alertname.
    pub name: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
    /// The rule group it belongs to.
    pub group: String,
    /// The alert's `for:` as written (empty when unset).
    pub for_: String,
}

/// Reads every `*.yaml` file directly inside each pack directory, sorted by pack and file.
pub fn load_packs(packs_dir: &Path) -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for pack_dir in sorted_entries(packs_dir, |p| p.is_dir())? {
        let pack = pack_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let yaml = |p: &Path| p.is_file() && p.extension().is_some_and(|x| x == "yaml");
        for file in sorted_entries(&pack_dir, yaml)? {
            let text = fs_err::read_to_string(&file)?;
            rules.extend(parse_rule_file(&pack, &file, &text)?);
        }
    }
    Ok(rules)
}

/// Parses one Prometheus rule file (`groups: [{name, rules: [...]}]`).
pub fn parse_rule_file(pack: &str, file: &Path, text: &str) -> Result<Vec<Rule>, Error> {
    let shape = |message: &str| Error::Shape {
        path: file.to_path_buf(),
        message: message.to_string(),
    };
    let docs = YamlLoader::load_from_str(text).map_err(|e| Error::Yaml {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let doc = docs.first().ok_or_else(|| shape("empty rule file"))?;
    let groups = doc["groups"]
        .as_vec()
        .ok_or_else(|| shape("missing `groups` list"))?;
    let mut out = Vec::new();
    for group in groups {
        let group_name = group["name"].as_str().unwrap_or_default().to_string();
        let rules = match &group["rules"] {
            Yaml::Array(rules) => rules.as_slice(),
            _ => return Err(shape("group without a `rules` list")),
        };
        for rule in rules {
            let (kind, name) = match (rule["record"].as_str(), rule["alert"].as_str()) {
                (Some(r), None) => (RuleKind::Record, r),
                (None, Some(a)) => (RuleKind::Alert, a),
                _ => return Err(shape("a rule needs exactly one of `record` and `alert`")),
            };
            let expr = rule["expr"]
                .as_str()
                .ok_or_else(|| shape(&format!("rule `{name}` has no `expr` string")))?;
            let labels = rule["labels"]
                .as_hash()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let key = k.as_str().unwrap_or_default().to_string();
                    (key, scalar(v).unwrap_or_default())
                })
                .collect();
            out.push(Rule {
                pack: pack.to_string(),
                file: file.to_path_buf(),
                kind,
                name: name.to_string(),
                expr: expr.to_string(),
                labels,
                group: group_name.clone(),
                for_: rule["for"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    Ok(out)
}

/// A YAML scalar as text (`None` for a sequence, mapping or null).
pub(crate) fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The entries of `dir` that pass `keep`, sorted.
fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    out.sort();
    Ok(out)
}
