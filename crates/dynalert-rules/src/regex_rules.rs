//! Regex threshold rows (`key{label=~"re"}`, exported as `<label>_re="re"`) cannot be joined
//! dynamically in PromQL: a join compares label values, it cannot apply one as a regex. So
//! each distinct (key, label, regex) of the configuration gets generated recording rules
//! (one per alerting tier) that select the matching observations with that regex and join
//! them with the tenants that set the row. The pack's resolution rule then prefers exact
//! rows over these, and these over the tenant-wide row.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::Error;

/// A dimensional key the packs honour: (key, pack, observation series, dimension label).
pub const DIMENSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "container_cpu",
        "kubernetes",
        "tenant:container_cpu_usage:percent_of_limit",
        "container",
    ),
    (
        "container_memory",
        "kubernetes",
        "tenant:container_memory_working_set:percent_of_limit",
        "container",
    ),
    (
        "pg_connections",
        "postgresql",
        "tenant:pg_stat_database_numbackends:max",
        "datname",
    ),
    ("redis_keys", "redis", "tenant:redis_db_keys:max", "db"),
];

/// Tiers the packs alert on.
pub const TIERS: &[&str] = &["warning", "critical", "info"];

/// One regex row of a tenant file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegexRow {
    pub key: String,
    pub label: String,
    pub regex: String,
}

/// A dimensional key as written in a tenant file: (key, label, is_regex, value).
pub fn parse_dimensional_key(raw: &str) -> Option<(String, String, bool, String)> {
    let (key, rest) = raw.split_once('{')?;
    let inner = rest.strip_suffix('}')?;
    let (label, is_regex, value) = if let Some((l, v)) = inner.split_once("=~") {
        (l, true, v)
    } else {
        let (l, v) = inner.split_once('=')?;
        (l, false, v)
    };
    let value = value.trim();
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .unwrap_or(value);
    Some((
        key.trim().to_string(),
        label.trim().to_string(),
        is_regex,
        value.to_string(),
    ))
}

/// Every dimensional key (raw spelling) of every tenant file in `conf_dir`.
pub fn dimensional_keys(conf_dir: &Path) -> Result<Vec<String>, Error> {
    let mut files: Vec<_> = fs_err::read_dir(conf_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            !name.starts_with('_')
                && !name.starts_with('.')
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = fs_err::read_to_string(&path)?;
        let docs = YamlLoader::load_from_str(&text).map_err(|e| Error::Yaml {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let Some(Yaml::Hash(tenants)) = docs.first().map(|d| &d["tenants"]) else {
            continue;
        };
        for body in tenants.values() {
            if let Yaml::Hash(keys) = body {
                out.extend(
                    keys.keys()
                        .filter_map(|k| k.as_str())
                        .filter(|k| k.contains('{'))
                        .map(str::to_string),
                );
            }
        }
    }
    Ok(out)
}

/// Distinct regex rows of the tenant files in `conf_dir`, sorted.
pub fn regex_rows(conf_dir: &Path) -> Result<Vec<RegexRow>, Error> {
    let rows: BTreeSet<RegexRow> = dimensional_keys(conf_dir)?
        .iter()
        .filter_map(|k| parse_dimensional_key(k))
        .filter(|(_, _, is_regex, _)| *is_regex)
        .map(|(key, label, _, regex)| RegexRow { key, label, regex })
        .collect();
    Ok(rows.into_iter().collect())
}

/// The generated `regex-thresholds.yaml` of `pack` for `rows` (rows of other packs and of
/// unsupported dimensions are ignored; the contract test reports the latter).
pub fn render_regex_rules(pack: &str, rows: &[RegexRow], source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated from the regex rows (`<label>_re`) of {source} by the dynalert-rules crate."
    );
    let _ = writeln!(
        out,
        "# Do not edit: regenerate with `UPDATE_GENERATED=1 cargo test -p dynalert-rules`."
    );
    let _ = writeln!(out, "groups:");
    let _ = writeln!(out, "  - name: dynalert-{pack}.regex-thresholds");
    let mine: Vec<(&RegexRow, &str)> = rows
        .iter()
        .filter_map(|row| {
            DIMENSIONS
                .iter()
                .find(|(k, p, _, l)| *k == row.key && *p == pack && *l == row.label)
                .map(|(_, _, obs, _)| (row, *obs))
        })
        .collect();
    if mine.is_empty() {
        let _ = writeln!(out, "    rules: []");
        return out;
    }
    let _ = writeln!(out, "    rules:");
    for (row, obs) in mine {
        let (key, label) = (&row.key, &row.label);
        let re = promql_string(&row.regex);
        for tier in TIERS {
            let _ = writeln!(out, "      - record: {label}_re:alert_threshold:{key}");
            let _ = writeln!(out, "        labels:");
            let _ = writeln!(out, "          severity: {tier}");
            let _ = writeln!(out, "          {label}_re: {}", yaml_string(&row.regex));
            let _ = writeln!(out, "        expr: |");
            let _ = writeln!(out, "          {obs}{{{label}=~{re}}} * 0");
            let _ = writeln!(out, "            + on(tenant) group_left()");
            let _ = writeln!(
                out,
                "          max by(tenant)(tenant:alert_threshold:{key}{{severity=\"{tier}\", {label}_re={re}}})"
            );
        }
    }
    out
}

fn promql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn yaml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
