//! End-to-end check of `bench rules` with a real Prometheus on a tiny fixture: the per-tenant
//! set and every dynamic variant load, evaluate, and fire exactly the alerts the fixture defines.
//! Needs Debian's `prometheus` package (installed by `make deps`).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dynalert_bench::fixture::Variant;
use dynalert_bench::process::which;
use dynalert_bench::rules::{run, Engine, Options, RulesReport};

/// A tiny run into `out`: 60 tenants, 4 keys, a 1 s interval, with the per-tenant set, the
/// binaries `[prometheus, promtool, victoria-metrics, vmalert]`.
fn tiny(out: &Path, variants: Vec<Variant>, engines: Vec<Engine>, bins: [PathBuf; 4]) -> Options {
    let [prometheus, promtool, victoria_metrics, vmalert] = bins;
    Options {
        tenants: vec![60],
        keys: 4,
        interval: Duration::from_secs(1),
        warm_cycles: 2,
        measure_cycles: 1,
        out: out.to_path_buf(),
        variants,
        per_tenant: true,
        prometheus,
        promtool,
        engines,
        victoria_metrics,
        vmalert,
        saturation_limit: Duration::from_secs(120),
        progress: false,
        memory_floor: dynalert_bench::process::MEMORY_FLOOR,
        profile: false,
    }
}

/// Every CPU profile file under `dir`.
fn profiles_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        if e.file_type().unwrap().is_dir() {
            found.extend(profiles_under(&e.path()));
        } else if e.file_name() == dynalert_bench::rules::PROFILE_FILE {
            found.push(e.path());
        }
    }
    found
}

/// Runs `opts`: the fixture fires something, and every set reaches steady state and fires
/// exactly the fixture's alerts.
fn run_and_check(opts: &Options) -> RulesReport {
    let report = run(opts, "test".into()).unwrap();
    let size = &report.sizes[0];
    assert!(size.expected_firing > 0, "the fixture must fire something");
    for set in &size.sets {
        assert!(set.steady, "{}: not steady", set.set);
        assert!(set.answers_match, "{}: {:?}", set.set, size.differences);
        assert_eq!(set.firing, size.expected_firing);
        assert!(
            set.eval_ms_per_cycle > 0.0,
            "{}: no evaluation time",
            set.set
        );
        assert!(set.rss_bytes > 0.0);
    }
    report
}

#[test]
#[ignore = "a real Prometheus through warm-up and measured cycles (about a minute): `make test` runs it as a named step"]
fn tiny_run_fires_identical_alerts_with_every_rule_set() {
    let (Some(prometheus), Some(promtool)) = (which("prometheus"), which("promtool")) else {
        panic!(
            "`prometheus` and `promtool` are required (Debian package: prometheus; `make deps`)"
        );
    };
    let out = tempfile::tempdir().unwrap();
    let variants = vec![
        Variant::PerKey,
        Variant::Single,
        Variant::Inline,
        Variant::MetaOnce,
        Variant::PreJoined,
        Variant::Lean,
    ];
    let bins = [
        prometheus,
        promtool,
        "victoria-metrics".into(),
        "vmalert".into(),
    ];
    let mut opts = tiny(out.path(), variants, vec![Engine::Prometheus], bins);
    opts.profile = true;
    let report = run_and_check(&opts);
    assert_eq!(report.sizes[0].sets.len(), 7);
    assert!(report.all_answers_match());
    // Each set's CPU profile: a gzip-compressed pprof protobuf from the running Prometheus,
    // whose string table names its sample types (a one-second profile of a tiny fixture may
    // hold no sample of the rule evaluation itself).
    let profiles = profiles_under(out.path());
    assert_eq!(profiles.len(), 7, "{profiles:?}");
    for p in profiles {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap())
            .read_to_end(&mut text)
            .unwrap_or_else(|e| panic!("{}: not gzip: {e}", p.display()));
        let text = String::from_utf8_lossy(&text);
        for word in ["samples", "cpu", "nanoseconds"] {
            assert!(text.contains(word), "{}: no `{word}`", p.display());
        }
    }
    dynalert_bench::report::write_rules(&report, out.path()).unwrap();
    let svg = std::fs::read_to_string(out.path().join("rules.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("per-tenant"));
}

/// The same fixture on VictoriaMetrics + vmalert: the per-tenant set and the rule packs' form
/// fire exactly the alerts the fixture defines, as they do on Prometheus in the same run.
#[test]
#[ignore = "Prometheus, VictoriaMetrics and vmalert through their cycles: `make test` runs it as a named step"]
fn tiny_run_fires_identical_alerts_on_both_engines() {
    let (Some(prometheus), Some(promtool), Some(victoria_metrics), Some(vmalert)) = (
        which("prometheus"),
        which("promtool"),
        which("victoria-metrics"),
        which("vmalert"),
    ) else {
        panic!("`prometheus`, `promtool`, `victoria-metrics` and `vmalert` are required (Debian packages: prometheus, victoria-metrics; `make deps`)");
    };
    let out = tempfile::tempdir().unwrap();
    let engines = vec![Engine::Prometheus, Engine::Vmalert];
    let bins = [prometheus, promtool, victoria_metrics, vmalert];
    let report = run_and_check(&tiny(out.path(), vec![Variant::Lean], engines, bins));
    let names: Vec<&str> = report.sizes[0]
        .sets
        .iter()
        .map(|s| s.set.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "per-tenant",
            "vmalert per-tenant",
            "dynamic/lean",
            "vmalert dynamic/lean"
        ]
    );
}
