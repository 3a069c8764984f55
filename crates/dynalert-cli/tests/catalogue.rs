//! `rules/catalogue.yaml` against the shipped packs: the platform file `dynalert init` writes
//! from it has exactly the keys the packs' alerts read, state filters with the reasons the
//! packs match, and a unit and meaning for every key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dynalert_cli::catalogue;
use dynalert_cli::cmd::init::platform_file;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_catalogue_is_exactly_what_the_packs_read() {
    let text = platform_file(&catalogue::builtin());
    let cat =
        dynalert_rules::catalogue::parse_catalogue(Path::new("_defaults.yaml"), &text).unwrap();
    let cov = dynalert_rules::coverage(&root().join("rules/packs"), &cat.keys).unwrap();
    assert!(
        cov.unarmed().is_empty(),
        "keys no alert reads: {:?}",
        cov.unarmed()
    );
    assert!(
        cov.unknown.is_empty(),
        "keys read but not listed: {:?}",
        cov.unknown
    );
    let rules = dynalert_rules::load_packs(&root().join("rules/packs")).unwrap();
    let types =
        dynalert_rules::load_metric_types(&root().join("testdata/exporter-output")).unwrap();
    let violations = dynalert_rules::check(&rules, &cat, &types);
    let said: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "{}", said.join("\n"));
}

#[test]
fn every_key_says_its_pack_unit_and_meaning() {
    let cat = catalogue::builtin();
    let packs: BTreeSet<String> = std::fs::read_dir(root().join("rules/packs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for k in &cat.keys {
        assert!(
            packs.contains(&k.pack),
            "`{}`: no pack `{}`",
            k.name,
            k.pack
        );
        assert!(!k.unit.is_empty() && !k.meaning.is_empty(), "`{}`", k.name);
        assert!(
            k.default
                .iter()
                .all(|(t, v)| ["warning", "critical"].contains(&t.as_str())
                    && v.is_finite()
                    && *v > 0.0),
            "`{}`: {:?}",
            k.name,
            k.default
        );
    }
    assert!(
        cat.keys.iter().any(|k| k.default.is_empty()),
        "optional keys are listed too"
    );
}

#[test]
fn the_written_platform_file_loads_with_the_catalogue_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalogue::builtin();
    std::fs::write(dir.path().join("_defaults.yaml"), platform_file(&cat)).unwrap();
    let report = dynalert_config::load_dir(dir.path(), chrono::Utc::now()).unwrap();
    assert_eq!(
        report.errors() + report.warnings(),
        0,
        "{:?}",
        report.diagnostics
    );
    let platform = &report.config.platform;
    let listed: BTreeSet<&str> = cat.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(platform.catalogue(), listed);
    for k in cat.keys.iter().filter(|k| !k.default.is_empty()) {
        let (_, tiers) = platform
            .defaults
            .iter()
            .find(|(key, _)| key.base == k.name)
            .unwrap();
        let loaded: Vec<(String, f64)> = tiers
            .iter()
            .map(|(s, v)| (s.as_str().to_string(), v.default.unwrap()))
            .collect();
        assert_eq!(loaded, k.default, "`{}`", k.name);
    }
}
