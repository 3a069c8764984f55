//! Deterministic fixtures for N tenants and K keys.
//!
//! The same inputs always give the same files, so two runs (and two machines) measure the same
//! thing. Per tenant and key the generator decides: platform default, a custom warning value, a
//! custom tier map, or `disable`; and an observed value. From that decision alone it derives the
//! expected firing set, independently of both rule sets and of the config loader.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use crate::{BenchError, Result};

/// The alert name used by both rule sets.
pub const ALERT: &str = "BenchKeyHigh";

/// Keys per simulated rule pack in the dynamic set (each pack has its own groups).
pub const KEYS_PER_PACK: usize = 5;
/// The component of every generated key (`bench_k00` → component `bench`, metric `k00`).
pub const COMPONENT: &str = "bench";
/// Platform default warning threshold.
pub const DEFAULT_WARNING: u64 = 70;
/// Platform default critical threshold (every fourth key only).
pub const DEFAULT_CRITICAL: u64 = 90;

/// One firing alert as the comparison sees it: (tenant, key, severity).
pub type Firing = (String, String, String);

/// How the dynamic set normalises thresholds (issue item 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// One `tenant:alert_threshold:<key>` recording rule per key; each alert compares the
    /// observation with its tier's threshold itself, twice (both branches of the left-outer
    /// metadata join). The rule packs' form before `PreJoined`.
    PerKey,
    /// One recording rule for all keys (`max by(tenant, component, metric, severity)`).
    Single,
    /// No threshold recording rule: each alert aggregates `user_threshold` inline.
    Inline,
    /// Per-key thresholds; the left-outer metadata join is done once, in the metadata
    /// recording rule (one series for every tenant with a threshold, with or without
    /// `tenant_metadata_info`), so each alert evaluates its comparison once, with an inner join.
    MetaOnce,
    /// The rule packs' pattern before `Lean`: per-key thresholds plus one recording rule per key holding
    /// only the (tenant, severity) pairs over their threshold
    /// (`tenant:alert_over_threshold:<key>`, comparison evaluated once for both tiers); each
    /// alert selects its tier from that small set and keeps the left-outer metadata join.
    PreJoined,
    /// The rule packs' pattern: `PreJoined` with the metadata read once per pack instead of once per alert: each pack
    /// records `tenant:metadata:alerting{pack}`, the metadata of the tenants over a threshold
    /// of the pack, and its alerts join that small set; the `runbook_url` annotation needs one
    /// template query, a read of `tenant:runbook:info` (the tenant's own URL and the platform
    /// base URL, recorded once per evaluation for every tenant).
    Lean,
    /// `Lean` before `tenant:runbook:info`: each active alert's `runbook_url` annotation
    /// evaluates the join of the tenant's metadata with the base URL setting itself.
    JoinedRunbook,
    /// `Lean` with no `labels:` on the alert rules: `component` and `key` are set by the
    /// comparison's recording rule and `severity` comes with the comparison, so the alerts
    /// carry the same labels. Prometheus expands every label value of an alert rule as a
    /// template for every active alert at every evaluation; a recording rule's labels are not
    /// templates.
    RecordedLabels,
}

/// Each variant and its name on the command line.
const VARIANTS: [(Variant, &str); 8] = [
    (Variant::PerKey, "per-key"),
    (Variant::Single, "single"),
    (Variant::Inline, "inline"),
    (Variant::MetaOnce, "meta-once"),
    (Variant::PreJoined, "pre-joined"),
    (Variant::Lean, "lean"),
    (Variant::JoinedRunbook, "joined-runbook"),
    (Variant::RecordedLabels, "recorded-labels"),
];

impl Variant {
    pub fn name(self) -> &'static str {
        VARIANTS.iter().find(|v| v.0 == self).expect("listed").1
    }

    pub fn parse(s: &str) -> Option<Variant> {
        VARIANTS.iter().find(|v| v.1 == s).map(|v| v.0)
    }
}

/// What a tenant does with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Default,
    Warning(u64),
    Tiers(u64, u64),
    Disabled,
}

/// A generated fixture: N tenants, K keys.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub tenants: usize,
    pub keys: usize,
}

/// splitmix64: a fast, well-mixed deterministic hash.
fn mix(a: u64, b: u64, salt: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Fixture {
    pub fn new(tenants: usize, keys: usize) -> Fixture {
        Fixture { tenants, keys }
    }

    /// The fixed evaluation time of the fixture (no schedules are used, so it only matters
    /// for the loader's expiry checks).
    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    pub fn tenant(t: usize) -> String {
        format!("t-{t:05}")
    }

    /// Key name in the config (`bench_k00`).
    pub fn key(k: usize) -> String {
        format!("{COMPONENT}_k{k:02}")
    }

    /// Metric part of the key (`k00`), also the `key` label of alerts.
    pub fn metric(k: usize) -> String {
        format!("k{k:02}")
    }

    fn has_default_critical(k: usize) -> bool {
        k.is_multiple_of(4)
    }

    fn choice(t: usize, k: usize) -> Choice {
        let h = mix(t as u64, k as u64, 1);
        let w = 40 + (h >> 8) % 50;
        match h % 10 {
            0 => Choice::Disabled,
            1..=3 => Choice::Warning(w),
            4 => Choice::Tiers(w, w + 20),
            _ => Choice::Default,
        }
    }

    /// Observed value of tenant `t` for key `k`. Like a real fleet, most observations sit well
    /// below every threshold (0..39, all thresholds are 40 or more): 2% are above every warning
    /// threshold (91..99) and 3% fall between thresholds (40..89), where the tenant's own value
    /// decides. About 4% of tenant-key pairs fire, so alert bookkeeping does not drown the cost
    /// of evaluating the rules.
    pub fn value(t: usize, k: usize) -> u64 {
        let h = mix(t as u64, k as u64, 2);
        match h % 100 {
            0..=1 => 91 + (h >> 8) % 9,
            2..=4 => 40 + (h >> 8) % 50,
            _ => (h >> 8) % 40,
        }
    }

    /// Effective (severity, threshold) pairs of tenant `t` for key `k`, by the contract's three
    /// states: custom value, platform default, disabled.
    pub fn thresholds(t: usize, k: usize) -> Vec<(&'static str, u64)> {
        let default_crit = Self::has_default_critical(k).then_some(DEFAULT_CRITICAL);
        let warning = match Self::choice(t, k) {
            Choice::Disabled => return vec![],
            Choice::Tiers(w, c) => return vec![("warning", w), ("critical", c)],
            Choice::Default => DEFAULT_WARNING,
            Choice::Warning(w) => w,
        };
        let mut v = vec![("warning", warning)];
        v.extend(default_crit.map(|c| ("critical", c)));
        v
    }

    /// The firing set derived from the fixture definition alone.
    pub fn expected_firing(&self) -> BTreeSet<Firing> {
        let mut out = BTreeSet::new();
        for t in 0..self.tenants {
            for k in 0..self.keys {
                let v = Self::value(t, k);
                for (sev, thr) in Self::thresholds(t, k) {
                    if v > thr {
                        out.insert((Self::tenant(t), Self::metric(k), sev.to_string()));
                    }
                }
            }
        }
        out
    }

    /// Writes `_defaults.yaml` and one file per tenant into `dir`.
    pub fn write_conf_d(&self, dir: &Path) -> Result<()> {
        fs_err::create_dir_all(dir)?;
        let mut platform = String::from("defaults:\n");
        for k in 0..self.keys {
            let value = if Self::has_default_critical(k) {
                format!("{{warning: {DEFAULT_WARNING}, critical: {DEFAULT_CRITICAL}}}")
            } else {
                DEFAULT_WARNING.to_string()
            };
            let _ = writeln!(platform, "  {}: {value}", Self::key(k));
        }
        fs_err::write(dir.join("_defaults.yaml"), platform)?;
        // Tiers are the platform's: `tenancy:` in files of at most 5,000 tenants each,
        // well inside the loader's per-file limits.
        for (i, chunk) in (0..self.tenants)
            .collect::<Vec<_>>()
            .chunks(5000)
            .enumerate()
        {
            let mut tenancy = String::from("tenancy:\n");
            for &t in chunk {
                let _ = writeln!(
                    tenancy,
                    "  {}: {{tier: {}}}",
                    Self::tenant(t),
                    Self::tier(t)
                );
            }
            fs_err::write(dir.join(format!("_tenancy-{i:03}.yaml")), tenancy)?;
        }
        for t in 0..self.tenants {
            fs_err::write(
                dir.join(format!("{}.yaml", Self::tenant(t))),
                self.tenant_file(t, 0),
            )?;
        }
        Ok(())
    }

    /// The file of tenant `t`; `bump` shifts one custom value (used by the reload benchmark).
    pub fn tenant_file(&self, t: usize, bump: u64) -> String {
        let name = Self::tenant(t);
        let mut s = format!("tenants:\n  {name}:\n");
        for k in 0..self.keys {
            let key = Self::key(k);
            let value = match Self::choice(t, k) {
                Choice::Default => continue,
                Choice::Disabled => "disable".to_string(),
                Choice::Warning(w) => format!("\"{}\"", w + bump),
                Choice::Tiers(w, c) => format!("{{warning: {}, critical: {c}}}", w + bump),
            };
            let _ = writeln!(s, "    {key}: {value}");
        }
        let _ = writeln!(s, "    _metadata: {{owner: team-{:02}}}", t % 50);
        s
    }

    /// The tier the platform assigns to tenant `t`.
    fn tier(t: usize) -> &'static str {
        if t.is_multiple_of(10) {
            "vip"
        } else {
            "standard"
        }
    }

    /// Loads `dir` with the real loader and renders what the exporter would serve.
    pub fn render_thresholds(dir: &Path) -> Result<String> {
        let now = Self::now();
        let report =
            dynalert_config::load_dir(dir, now).map_err(|e| BenchError::Config(e.to_string()))?;
        if report.errors() > 0 {
            let first: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .take(3)
                .map(|d| d.to_string())
                .collect();
            return Err(BenchError::Config(format!(
                "generated conf.d has {} errors, first: {}",
                report.errors(),
                first.join("; ")
            )));
        }
        let snapshot = dynalert_model::resolve(&report.config, now);
        Ok(dynalert_exposition::render(
            &snapshot,
            dynalert_exposition::Format::Text,
        ))
    }

    /// The source endpoint body: one gauge per tenant and key.
    pub fn source_body(&self) -> String {
        self.source_body_of(0..self.tenants)
    }

    /// The source series of the tenants in `range` (one scrape target's share).
    pub fn source_body_of(&self, range: std::ops::Range<usize>) -> String {
        let mut s = String::with_capacity(range.len() * self.keys * 40 + 1024);
        for k in 0..self.keys {
            let name = format!("bench_source_{}", Self::metric(k));
            let _ = writeln!(
                s,
                "# HELP {name} Synthetic observation for key {}.",
                Self::key(k)
            );
            let _ = writeln!(s, "# TYPE {name} gauge");
            for t in range.clone() {
                let _ = writeln!(
                    s,
                    "{name}{{tenant=\"{}\"}} {}",
                    Self::tenant(t),
                    Self::value(t, k)
                );
            }
        }
        s
    }

    /// The per-tenant rule set: one group per tenant, one alert rule per key and tier, with
    /// the thresholds (taken from the exporter's rendering of the conf.d, as a generator of
    /// per-tenant rules would) and the metadata inlined as constants.
    pub fn per_tenant_rules(&self, exposition: &str) -> Result<(String, usize)> {
        let parsed = dynalert_probe::exposition::parse(exposition)
            .map_err(|e| BenchError::Config(format!("the exporter's rendering: {e}")))?;
        let mut thresholds: BTreeMap<(String, String), Vec<(String, f64)>> = BTreeMap::new();
        let mut meta: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (name, labels, value) in parsed {
            let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
            match name.as_str() {
                "user_threshold" if get("component") == COMPONENT => {
                    thresholds
                        .entry((get("tenant"), get("metric")))
                        .or_default()
                        .push((get("severity"), value));
                }
                "tenant_metadata_info" => {
                    meta.insert(get("tenant"), (get("tier"), get("owner")));
                }
                _ => {}
            }
        }
        let mut s = String::with_capacity(self.tenants * self.keys * 220 + 64);
        s.push_str("groups:\n");
        let mut rules = 0;
        for t in 0..self.tenants {
            let tenant = Self::tenant(t);
            let (tier, owner) = meta.get(&tenant).cloned().unwrap_or_default();
            let _ = writeln!(s, "  - name: tenant-{tenant}\n    rules:");
            for k in 0..self.keys {
                let metric = Self::metric(k);
                let Some(list) = thresholds.get(&(tenant.clone(), metric.clone())) else {
                    continue;
                };
                let mut list = list.clone();
                list.sort_by(|a, b| a.0.cmp(&b.0));
                for (sev, thr) in list {
                    rules += 1;
                    let _ = write!(
                        s,
                        "      - alert: {ALERT}\n        expr: max by(tenant)(bench_source_{metric}{{tenant=\"{tenant}\"}}) > {thr}\n        labels: {{severity: {sev}, key: {metric}, tier: {tier}, owner: {owner}}}\n"
                    );
                }
            }
        }
        Ok((s, rules))
    }

    /// The dynamic rule set in the rule packs' shape (`rules/packs/*/alerts.yaml`): a platform
    /// group recording `tenant:metadata:info` exactly as the platform pack does, and one group
    /// per simulated pack of [`KEYS_PER_PACK`] keys holding its recording rules first
    /// (observation, threshold by `variant`) and its alerts after them, so every alert sees
    /// the values recorded in the same evaluation. Per key three alerts (critical, warning,
    /// info: the tiers the exporter serves) with the left-outer join of `tier`, `owner` and
    /// `runbook_url` as annotations read from the metadata (a query per firing alert, as in
    /// the packs), and no maintenance guard: the packs keep firing through maintenance, which
    /// Alertmanager mutes.
    pub fn dynamic_rules(&self, variant: Variant) -> (String, usize) {
        let mut s = String::from("groups:\n  - name: bench-dynamic-platform\n    rules:\n");
        let _ = write!(
            s,
            "      - record: instance:threshold_exporter_config_loaded:timestamp_seconds\n        expr: {PLATFORM_LOADED}\n"
        );
        let _ = write!(
            s,
            "      - record: dynalert:runbook_base_url:info\n        labels: {{url: \"https://runbooks.example.com/dynalert\"}}\n        expr: vector(1)\n"
        );
        let mut rules = 3;
        let every_tenant = match variant {
            Variant::MetaOnce => {
                "          or on(tenant) (max by(tenant)(user_threshold) * 0 + 1)\n"
            }
            _ => "",
        };
        let _ = write!(
            s,
            "      - record: tenant:metadata:info\n        expr: |\n{}\n{every_tenant}",
            indent_expr(PLATFORM_METADATA, 10)
        );
        if matches!(variant, Variant::Lean | Variant::RecordedLabels) {
            let _ = write!(
                s,
                "      - record: tenant:runbook:info\n        expr: |\n{}\n",
                indent_expr(PLATFORM_RUNBOOK, 10)
            );
            rules += 1;
        }
        if variant == Variant::Single {
            let _ = write!(
                s,
                "      - record: tenant:alert_threshold:{COMPONENT}\n        expr: max by(tenant, metric, severity)(user_threshold{{component=\"{COMPONENT}\"}})\n"
            );
            rules += 1;
        }
        let keys: Vec<usize> = (0..self.keys).collect();
        for (p, pack) in keys.chunks(KEYS_PER_PACK).enumerate() {
            let _ = write!(s, "  - name: bench-dynamic-p{p}\n    rules:\n");
            for &k in pack {
                let m = Self::metric(k);
                let _ = write!(
                    s,
                    "      - record: tenant:bench_{m}:max\n        expr: max by(cluster, tenant)(bench_source_{m})\n"
                );
                rules += 1;
                if matches!(
                    variant,
                    Variant::PerKey
                        | Variant::MetaOnce
                        | Variant::PreJoined
                        | Variant::Lean
                        | Variant::JoinedRunbook
                        | Variant::RecordedLabels
                ) {
                    let _ = write!(
                        s,
                        "      - record: tenant:alert_threshold:{COMPONENT}_{m}\n        expr: max by(tenant, severity)(user_threshold{{component=\"{COMPONENT}\", metric=\"{m}\"}})\n"
                    );
                    rules += 1;
                }
                if matches!(
                    variant,
                    Variant::PreJoined
                        | Variant::Lean
                        | Variant::JoinedRunbook
                        | Variant::RecordedLabels
                ) {
                    // One branch per tier: observations (per cluster and tenant) against the
                    // tier's threshold (unique per tenant), keeping the observation's labels,
                    // the tier and the observed value.
                    let _ = write!(
                        s,
                        "      - record: tenant:alert_over_threshold:{COMPONENT}_{m}\n{}        expr: |\n",
                        if variant == Variant::RecordedLabels {
                            format!("        labels: {{component: {COMPONENT}, key: {m}}}\n")
                        } else {
                            String::new()
                        }
                    );
                    for (i, sev) in SEVERITIES.iter().enumerate() {
                        let _ = writeln!(
                            s,
                            "          {}tenant:bench_{m}:max > on(tenant) group_left(severity) tenant:alert_threshold:{COMPONENT}_{m}{{severity=\"{sev}\"}}",
                            if i == 0 { "" } else { "or " }
                        );
                    }
                    rules += 1;
                }
            }
            if matches!(
                variant,
                Variant::Lean | Variant::JoinedRunbook | Variant::RecordedLabels
            ) {
                // The metadata of the pack's tenants over any threshold: one read of
                // `tenant:metadata:info` per pack, unique per tenant like its source.
                let over: Vec<String> = pack
                    .iter()
                    .map(|&k| {
                        format!(
                            "tenant:alert_over_threshold:{COMPONENT}_{}",
                            Self::metric(k)
                        )
                    })
                    .collect();
                let _ = write!(
                    s,
                    "      - record: tenant:metadata:alerting\n        labels: {{pack: p{p}}}\n        expr: tenant:metadata:info and on(tenant) ({})\n",
                    over.join(" or ")
                );
                rules += 1;
            }
            for &k in pack {
                for sev in SEVERITIES {
                    s.push_str(&Self::dynamic_alert(variant, k, sev, p));
                    rules += 1;
                }
            }
        }
        (s, rules)
    }

    /// The comparison of one alert of the dynamic set, before the metadata join.
    fn dynamic_comparison(variant: Variant, k: usize, sev: &str) -> String {
        let m = Self::metric(k);
        let thr = match variant {
            Variant::PerKey | Variant::MetaOnce => {
                format!("tenant:alert_threshold:{COMPONENT}_{m}{{severity=\"{sev}\"}}")
            }
            Variant::PreJoined
            | Variant::Lean
            | Variant::JoinedRunbook
            | Variant::RecordedLabels => {
                return format!("tenant:alert_over_threshold:{COMPONENT}_{m}{{severity=\"{sev}\"}}")
            }
            Variant::Single => {
                format!("tenant:alert_threshold:{COMPONENT}{{metric=\"{m}\", severity=\"{sev}\"}}")
            }
            Variant::Inline => format!(
                "max by(tenant)(user_threshold{{component=\"{COMPONENT}\", metric=\"{m}\", severity=\"{sev}\"}})"
            ),
        };
        format!("(tenant:bench_{m}:max > on(tenant) {thr})")
    }

    /// One alert rule of the dynamic set.
    fn dynamic_alert(variant: Variant, k: usize, sev: &str, pack: usize) -> String {
        let m = Self::metric(k);
        let cmp = Self::dynamic_comparison(variant, k, sev);
        let meta = "printf `tenant:metadata:info{tenant='%s'}` $labels.tenant | query";
        if matches!(
            variant,
            Variant::Lean | Variant::JoinedRunbook | Variant::RecordedLabels
        ) {
            let labels = if variant == Variant::RecordedLabels {
                String::new()
            } else {
                format!("        labels: {{severity: {sev}, component: {COMPONENT}, key: {m}}}\n")
            };
            let runbook = if variant != Variant::JoinedRunbook {
                "printf `tenant:runbook:info{tenant='%s'}` $labels.tenant | query"
            } else {
                "printf `tenant:metadata:info{tenant='%s'} * on() group_left(url) dynalert:runbook_base_url:info or on() dynalert:runbook_base_url:info` $labels.tenant | query"
            };
            return format!(
                "      - alert: {ALERT}\n        expr: |\n          (\n            {cmp}\n              * on(tenant) group_left(tier) tenant:metadata:alerting{{pack=\"p{pack}\"}}\n            or on(tenant)\n            {cmp}\n          )\n{labels}        annotations:\n          \
                 summary: \"{m} of tenant {{{{ $labels.tenant }}}} over its {sev} threshold\"\n          \
                 owner: \"{{{{ with {meta} }}}}{{{{ . | first | label \\\"owner\\\" }}}}{{{{ end }}}}\"\n          \
                 runbook_url: \"{{{{ with {runbook} }}}}{{{{ $s := . | first }}}}{{{{ with $s | label \\\"runbook_url\\\" }}}}{{{{ . }}}}{{{{ else }}}}{{{{ $s | label \\\"url\\\" }}}}/bench/README.md#{m}{{{{ end }}}}{{{{ else }}}}/bench/README.md#{m}{{{{ end }}}}\"\n"
            );
        }
        let joined = if variant == Variant::MetaOnce {
            format!("{cmp}\n            * on(tenant) group_left(tier) tenant:metadata:info")
        } else {
            format!("(\n            {cmp}\n              * on(tenant) group_left(tier) tenant:metadata:info\n            or on(tenant)\n            {cmp}\n          )")
        };
        let base = "{{ with query `dynalert:runbook_base_url:info` }}{{ . | first | label \\\"url\\\" }}{{ end }}";
        format!(
            "      - alert: {ALERT}\n        expr: |\n          {joined}\n        labels: {{severity: {sev}, component: {COMPONENT}, key: {m}}}\n        annotations:\n          \
             summary: \"{m} of tenant {{{{ $labels.tenant }}}} over its {sev} threshold\"\n          \
             owner: \"{{{{ with {meta} }}}}{{{{ . | first | label \\\"owner\\\" }}}}{{{{ end }}}}\"\n          \
             runbook_url: \"{{{{ with {meta} }}}}{{{{ with . | first | label \\\"runbook_url\\\" }}}}{{{{ . }}}}{{{{ else }}}}{base}/bench/README.md#{m}{{{{ end }}}}{{{{ else }}}}{base}/bench/README.md#{m}{{{{ end }}}}\"\n"
        )
    }
}

/// Tiers of every key of the dynamic set, in the packs' order (critical first).
pub const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// `instance:threshold_exporter_config_loaded:timestamp_seconds` of the platform pack.
pub const PLATFORM_LOADED: &str =
    "max by(job, instance)(threshold_exporter_config_last_reload_success_timestamp_seconds)";

/// `tenant:metadata:info` of the platform pack (`rules/packs/platform/alerts.yaml`): one
/// series per tenant, the replica that loaded its configuration last wins.
pub const PLATFORM_METADATA: &str = "0 * topk by(tenant)(1,
  max by(tenant, tier, owner, runbook_url)(
    tenant_metadata_info
      * on(job, instance) group_left()
    instance:threshold_exporter_config_loaded:timestamp_seconds
  )
  or on(tenant)
  max by(tenant, tier, owner, runbook_url)(tenant_metadata_info)
) + 1";

/// `tenant:runbook:info` of the platform pack: per tenant its own `runbook_url` and the
/// runbook base setting, what each alert's `runbook_url` annotation reads.
pub const PLATFORM_RUNBOOK: &str = "max by(tenant, runbook_url)(tenant:metadata:info)
  * on() group_left(url) (dynalert:runbook_base_url:info or on() vector(1))";

fn indent_expr(expr: &str, n: usize) -> String {
    expr.lines()
        .map(|l| format!("{}{l}", " ".repeat(n)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_conf_d_loads_and_matches_the_fixture_definition() {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture::new(50, 8);
        f.write_conf_d(dir.path()).unwrap();
        let text = Fixture::render_thresholds(dir.path()).unwrap();
        let from_loader: BTreeSet<_> = dynalert_probe::exposition::parse(&text)
            .unwrap()
            .into_iter()
            .filter(|(name, _, _)| name == "user_threshold")
            .map(|(_, l, value)| {
                (
                    l["tenant"].clone(),
                    l["metric"].clone(),
                    l["severity"].clone(),
                    value as u64,
                )
            })
            .collect();
        let mut from_definition = BTreeSet::new();
        for (t, k) in (0..50).flat_map(|t| (0..8).map(move |k| (t, k))) {
            for (sev, thr) in Fixture::thresholds(t, k) {
                let (tenant, metric) = (Fixture::tenant(t), Fixture::metric(k));
                from_definition.insert((tenant, metric, sev.to_string(), thr));
            }
        }
        assert_eq!(from_loader, from_definition);
        let (rules, n) = f.per_tenant_rules(&text).unwrap();
        assert_eq!(n, from_definition.len());
        assert!(rules.contains("bench_source_k00{tenant=\"t-00000\"}"));
    }

    /// Every rule (record or alert name, expression) of a rule file.
    fn rules_of(text: &str) -> Vec<(String, String)> {
        let docs = yaml_rust2::YamlLoader::load_from_str(text).unwrap();
        let mut out = Vec::new();
        for g in docs[0]["groups"].as_vec().unwrap() {
            for r in g["rules"].as_vec().unwrap() {
                let name = r["record"].as_str().or(r["alert"].as_str()).unwrap();
                let sev = r["labels"]["severity"].as_str().unwrap_or("");
                out.push((
                    format!("{name}/{sev}"),
                    r["expr"].as_str().unwrap().to_string(),
                ));
            }
        }
        out
    }

    fn squeeze(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn pack(name: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rules/packs")
            .join(name)
            .join("alerts.yaml");
        fs_err::read_to_string(p).unwrap()
    }

    /// The bench measures the packs' shape: its metadata rule is the platform pack's, and its
    /// alerts join and select tiers exactly as the MariaDB pack's MariaDBHighConnections does.
    #[test]
    fn dynamic_set_has_the_packs_shape() {
        let platform = rules_of(&pack("platform"));
        let mariadb = rules_of(&pack("mariadb"));
        let (text_of_lean, _) = Fixture::new(3, 5).dynamic_rules(Variant::Lean);
        let bench = rules_of(&text_of_lean);
        let find = |rules: &[(String, String)], name: &str| {
            rules
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, e)| squeeze(e))
                .unwrap_or_else(|| panic!("no rule `{name}`"))
        };
        for name in [
            "tenant:metadata:info/",
            "tenant:runbook:info/",
            "instance:threshold_exporter_config_loaded:timestamp_seconds/",
        ] {
            assert_eq!(find(&bench, name), find(&platform, name), "{name}");
        }
        for sev in SEVERITIES {
            let real = find(&mariadb, &format!("MariaDBHighConnections/{sev}"))
                .replace(
                    "tenant:alert_over_threshold:mysql_connections",
                    "tenant:alert_over_threshold:bench_k02",
                )
                .replace(
                    "tenant:metadata:alerting{pack=\"mariadb\"}",
                    "tenant:metadata:alerting{pack=\"p0\"}",
                );
            let ours = bench
                .iter()
                .filter(|(n, _)| n == &format!("{ALERT}/{sev}"))
                .map(|(_, e)| squeeze(e))
                .find(|e| e.contains("bench_k02"))
                .unwrap();
            assert_eq!(ours, real, "{sev}");
        }
        // The annotations read the same series.
        for query in [
            "printf `tenant:metadata:info{tenant='%s'}` $labels.tenant | query",
            "printf `tenant:runbook:info{tenant='%s'}` $labels.tenant | query",
        ] {
            assert!(pack("mariadb").contains(query), "{query}");
            assert!(text_of_lean.contains(query), "{query}");
        }
        // The comparison and the observation too.
        let real = find(&mariadb, "tenant:alert_over_threshold:mysql_connections/")
            .replace("tenant:mysql_threads_connected:max", "tenant:bench_k02:max")
            .replace(
                "tenant:alert_threshold:mysql_connections",
                "tenant:alert_threshold:bench_k02",
            );
        assert_eq!(find(&bench, "tenant:alert_over_threshold:bench_k02/"), real);
        let real = find(&mariadb, "tenant:mysql_threads_connected:max/")
            .replace("mysql_global_status_threads_connected", "bench_source_k02");
        assert_eq!(find(&bench, "tenant:bench_k02:max/"), real);
        // Neither reads user_maintenance: Alertmanager mutes maintenance.
        assert!(!pack("mariadb").contains("user_maintenance"));
        assert!(bench.iter().all(|(_, e)| !e.contains("user_maintenance")));
        // Recording rules first in every pack group.
        let text = Fixture::new(3, 12).dynamic_rules(Variant::Lean).0;
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        for g in docs[0]["groups"].as_vec().unwrap() {
            let kinds: Vec<bool> = g["rules"]
                .as_vec()
                .unwrap()
                .iter()
                .map(|r| r["alert"].as_str().is_some())
                .collect();
            assert!(kinds.windows(2).all(|w| w[0] <= w[1]), "{:?}", g["name"]);
        }
    }

    /// `recorded-labels`: no alert rule has `labels:`; each comparison sets `component` and
    /// `key`, and carries `severity` from its threshold, so the alerts' labels are `lean`'s.
    #[test]
    fn recorded_labels_move_the_alerts_labels_to_the_comparisons() {
        let text = Fixture::new(3, 5).dynamic_rules(Variant::RecordedLabels).0;
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        let rules = docs[0]["groups"]
            .as_vec()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_vec().unwrap());
        let (mut alerts, mut comparisons) = (0, 0);
        for r in rules {
            if r["alert"].as_str().is_some() {
                alerts += 1;
                assert!(r["labels"].is_badvalue(), "{r:?}");
            }
            let Some(name) = r["record"].as_str() else {
                continue;
            };
            if let Some(m) = name.strip_prefix("tenant:alert_over_threshold:bench_") {
                comparisons += 1;
                assert_eq!(r["labels"]["component"].as_str(), Some(COMPONENT));
                assert_eq!(r["labels"]["key"].as_str(), Some(m));
                assert!(r["expr"].as_str().unwrap().contains("group_left(severity)"));
            }
        }
        assert_eq!((alerts, comparisons), (15, 5));
    }
}
