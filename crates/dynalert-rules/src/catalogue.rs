//! The platform's key catalogue as the rules see it: `defaults:` keys, `optional_overrides:`
//! and `state_filters:` (with their waiting reasons) of `_defaults.yaml`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::Error;

/// Keys and state filters a pack may read.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// `defaults:` keys and `optional_overrides:` entries.
    pub keys: BTreeSet<String>,
    /// State filter name -> waiting reasons it matches.
    pub state_filters: BTreeMap<String, BTreeSet<String>>,
}

/// Reads `_defaults.yaml` (the platform file that defines the catalogue).
pub fn load_catalogue(defaults_yaml: &Path) -> Result<Catalogue, Error> {
    let text = fs_err::read_to_string(defaults_yaml)?;
    parse_catalogue(defaults_yaml, &text)
}

/// Parses the text of `_defaults.yaml`.
pub fn parse_catalogue(path: &Path, text: &str) -> Result<Catalogue, Error> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut cat = Catalogue::default();
    let Some(doc) = docs.first() else {
        return Ok(cat);
    };
    if let Yaml::Hash(h) = &doc["defaults"] {
        cat.keys
            .extend(h.keys().filter_map(|k| k.as_str()).map(str::to_string));
    }
    if let Yaml::Array(a) = &doc["optional_overrides"] {
        cat.keys
            .extend(a.iter().filter_map(|k| k.as_str()).map(str::to_string));
    }
    if let Yaml::Hash(h) = &doc["state_filters"] {
        for (name, body) in h {
            let reasons = body["reasons"].as_vec().into_iter().flatten();
            let reasons = reasons.filter_map(|r| r.as_str()).map(str::to_string);
            if let Some(name) = name.as_str() {
                cat.state_filters
                    .insert(name.to_string(), reasons.collect());
            }
        }
    }
    Ok(cat)
}
