//! Regex threshold rows (`key{label=~"re"}`, exported as `<label>_re="re"`) cannot be joined
//! dynamically in PromQL: a join compares label values, it cannot apply one as a regex. So
//! each distinct (key, label, regex) of the configuration gets generated recording rules
//! (one per alerting tier) that select the matching observations with that regex and join
//! them with the tenants that set the row. The pack's resolution rule then prefers exact
//! rows over these, and these over the tenant-wide row.
//!
//! Each generated row also records a marker, `dynalert:regex_row:armed` with the row's
//! `component`, `metric` and `<label>_re` labels (the labels of the row's `user_threshold`
//! series). The platform pack's `ThresholdRegexRowUnarmed` fires for every regex row the
//! exporter serves without a marker: a row that only the tenant-wide threshold would cover.

use std::collections::BTreeSet;
use std::fmt::Write as _;

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

/// The marker each generated regex row records (value 1, labels `component`, `metric`,
/// `<label>_re`).
pub const ARMED: &str = "dynalert:regex_row:armed";

/// Tiers the packs alert on.
pub const TIERS: &[&str] = &["warning", "critical", "info"];

/// One regex row of a tenant file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegexRow {
    pub key: String,
    pub label: String,
    pub regex: String,
}

/// Distinct regex rows of every tenant of a validated configuration (the configuration
/// loader's model: tenant files it rejected are not in it, or only with their last good rows).
pub fn regex_rows_of(config: &dynalert_model::Config) -> Vec<RegexRow> {
    regex_rows(config.tenants.values().flat_map(|t| {
        t.thresholds.keys().flat_map(|k| {
            k.dims
                .iter()
                .filter(|d| d.regex)
                .map(move |d| (k.base.as_str(), d.label.as_str(), d.value.as_str()))
        })
    }))
}

/// Distinct regex rows, sorted, from `(key, label, regex)` triples of the validated model
/// (the threshold keys of every tenant the configuration loader accepted: dimensions with
/// `regex == true`). The rules crate has no conf.d parser of its own: a row the exporter
/// rejects is not in the model, so it generates no rule.
pub fn regex_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<RegexRow> {
    let rows: BTreeSet<RegexRow> = rows
        .into_iter()
        .map(|(key, label, regex)| RegexRow {
            key: key.to_string(),
            label: label.to_string(),
            regex: regex.to_string(),
        })
        .collect();
    rows.into_iter().collect()
}

/// The generated `regex-thresholds.yaml` of `pack` for `rows` (rows of other packs and of
/// unsupported dimensions are ignored; the contract test reports the latter).
pub fn render_regex_rules(pack: &str, rows: &[RegexRow], source: &str) -> String {
    let mut out = format!(
        "# Generated from the regex rows (`<label>_re`) of {source} by the dynalert-rules crate.
# Do not edit: regenerate with `UPDATE_GENERATED=1 cargo test -p dynalert-rules`.
groups:
  - name: dynalert-{pack}.regex-thresholds
"
    );
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
        // The same escapes make a PromQL and a YAML double-quoted string.
        let re = quoted(&row.regex);
        let (component, metric) = key.split_once('_').unwrap_or((key.as_str(), ""));
        let _ = write!(
            out,
            "      - record: {ARMED}
        labels:
          component: {component}
          metric: {metric}
          {label}_re: {re}
        expr: vector(1)
"
        );
        for tier in TIERS {
            let _ = write!(
                out,
                "      - record: {label}_re:alert_threshold:{key}
        labels:
          severity: {tier}
          {label}_re: {re}
        expr: |
          {obs}{{{label}=~{re}}} * 0
            + on(tenant) group_left()
          max by(tenant)(tenant:alert_threshold:{key}{{severity=\"{tier}\", {label}_re={re}}})
"
            );
        }
    }
    out
}

/// `s` between double quotes, with `\` and `"` escaped.
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Regex rows armed by rule files: the `component`, `metric` and `<label>_re` labels of every
/// `dynalert:regex_row:armed` recording rule in `texts` (Prometheus rule files), as rows.
/// Files that are not rule files are skipped.
pub fn armed_rows<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<RegexRow> {
    let mut out = BTreeSet::new();
    let docs = texts
        .into_iter()
        .filter_map(|text| yaml_rust2::YamlLoader::load_from_str(text).ok())
        .flatten();
    for doc in docs {
        // A rule file, or a Prometheus Operator PrometheusRule object.
        let groups = doc["groups"].as_vec().or(doc["spec"]["groups"].as_vec());
        let rules = groups
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_vec().into_iter().flatten());
        for r in rules.filter(|r| r["record"].as_str() == Some(ARMED)) {
            let Some(labels) = r["labels"].as_hash() else {
                continue;
            };
            let get = |k: &str| {
                labels
                    .get(&yaml_rust2::Yaml::String(k.into()))
                    .and_then(|v| v.as_str())
            };
            let (Some(c), Some(m)) = (get("component"), get("metric")) else {
                continue;
            };
            for (k, v) in labels {
                let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                    continue;
                };
                if let Some(label) = k.strip_suffix("_re") {
                    out.insert(RegexRow {
                        key: format!("{c}_{m}"),
                        label: label.to_string(),
                        regex: v.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// A regex row of one tenant that no rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnarmedRow {
    pub tenant: String,
    pub row: RegexRow,
    /// The whole key as written (`container_cpu{container=~"worker-.*"}`).
    pub key: String,
    /// Where the row is written (its first tier); the tenant file when unknown.
    pub file: String,
    pub line: u32,
}

/// Regex rows of every tenant of a validated configuration that `armed` does not cover.
pub fn unarmed_rows(
    config: &dynalert_model::Config,
    armed: &BTreeSet<RegexRow>,
) -> Vec<UnarmedRow> {
    let mut out = Vec::new();
    for (id, t) in &config.tenants {
        for (k, tiers) in &t.thresholds {
            for d in k.dims.iter().filter(|d| d.regex) {
                let row = RegexRow {
                    key: k.base.clone(),
                    label: d.label.clone(),
                    regex: d.value.clone(),
                };
                if !armed.contains(&row) {
                    let (file, line) = tiers
                        .iter()
                        .map(|(_, v)| (v.source.file.to_string(), v.source.line))
                        .next()
                        .unwrap_or_else(|| (t.file.to_string(), 1));
                    out.push(UnarmedRow {
                        tenant: id.clone(),
                        row,
                        key: k.to_string(),
                        file,
                        line,
                    });
                }
            }
        }
    }
    out
}
