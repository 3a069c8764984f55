//! Load + validate + resolve benchmarks on generated conf.d directories.
//!
//! Fixtures: 20 catalogue keys; each tenant sets 8 custom values, disables 2
//! keys, every 10th tenant has a scheduled value with a time zone and every 5th
//! a dimensional key. The hierarchical fixture puts the same tenants under four levels
//! of `_defaults.yaml`. Run with `make bench` (or `cargo bench -p dynalert-config`).

use std::path::Path;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

// The binaries use the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEYS: usize = 20;

fn key(i: usize) -> String {
    format!("svc_metric{i:02}")
}

fn write_fixture(dir: &Path, tenants: usize) {
    let mut platform = String::from("defaults:\n");
    for i in 0..KEYS {
        if i.is_multiple_of(4) {
            platform.push_str(&format!(
                "  {}: {{warning: {}, critical: {}}}\n",
                key(i),
                50 + i,
                90 + i
            ));
        } else {
            platform.push_str(&format!("  {}: {}\n", key(i), 50 + i));
        }
    }
    platform.push_str("state_filters:\n  container_crashloop: {reasons: [CrashLoopBackOff], severity: critical}\n");
    std::fs::write(dir.join("_defaults.yaml"), platform).unwrap();
    // Tiers are assigned by the platform; each tenant's file claims the same tier.
    let mut tenancy = String::from("tenancy:\n");
    for t in 0..tenants {
        tenancy.push_str(&format!("  tenant-{t:05}: {{tier: standard}}\n"));
    }
    std::fs::write(dir.join("_tenancy.yaml"), tenancy).unwrap();
    for t in 0..tenants {
        std::fs::write(dir.join(format!("tenant-{t:05}.yaml")), tenant_file(t, 0)).unwrap();
    }
}

/// The same tenants under four levels: 10 domains x 10 regions x 10 environments, each
/// level with a `_defaults.yaml` that refines one key, 10 tenants per environment.
fn write_hierarchical_fixture(dir: &Path, tenants: usize) {
    write_fixture(dir, 0);
    let mut t = 0;
    'outer: for d in 0..10 {
        for r in 0..10 {
            for e in 0..10 {
                let domain = dir.join(format!("d{d}"));
                let region = domain.join(format!("r{r}"));
                let env = region.join(format!("e{e}"));
                std::fs::create_dir_all(&env).unwrap();
                std::fs::write(
                    domain.join("_defaults.yaml"),
                    format!("defaults:\n  {}: {}\n", key(12), 60 + d),
                )
                .unwrap();
                std::fs::write(
                    region.join("_defaults.yaml"),
                    format!("defaults:\n  {}: {{critical: {}}}\n", key(13), 90 + r),
                )
                .unwrap();
                std::fs::write(
                    env.join("_defaults.yaml"),
                    format!("defaults:\n  {}: {}\n", key(14), 70 + e),
                )
                .unwrap();
                for _ in 0..10 {
                    if t == tenants {
                        break 'outer;
                    }
                    std::fs::write(env.join(format!("tenant-{t:05}.yaml")), tenant_file(t, 0))
                        .unwrap();
                    t += 1;
                }
            }
        }
    }
    let mut tenancy = String::from("tenancy:\n");
    for t in 0..tenants {
        tenancy.push_str(&format!("  tenant-{t:05}: {{tier: standard}}\n"));
    }
    std::fs::write(dir.join("_tenancy.yaml"), tenancy).unwrap();
}

fn tenant_file(t: usize, bump: usize) -> String {
    let mut s = format!("tenants:\n  tenant-{t:05}:\n");
    for i in 0..8 {
        s.push_str(&format!(
            "    {}: \"{}\"\n",
            key(i),
            60 + (t + i + bump) % 30
        ));
    }
    s.push_str(&format!(
        "    {}: disable\n    {}: disable\n",
        key(8),
        key(9)
    ));
    if t.is_multiple_of(10) {
        s.push_str(&format!(
            "    {}:\n      default: 70\n      overrides:\n        - {{window: \"22:00-06:00\", timezone: \"Asia/Taipei\", days: [mon, tue, wed, thu, fri], value: 95}}\n",
            key(10)
        ));
    }
    if t.is_multiple_of(5) {
        s.push_str(&format!("    \"{}{{container='app'}}\": \"91\"\n", key(11)));
    }
    s.push_str(&format!(
        "    _metadata: {{tier: standard, owner: team-{}, namespaces: [tenant-{t:05}]}}\n",
        t % 50
    ));
    s
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let mut group = c.benchmark_group("config");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), n);
        group.bench_function(format!("cold_load_validate_resolve/{n}"), |b| {
            b.iter(|| {
                let report = dynalert_config::load_dir(dir.path(), now).unwrap();
                assert_eq!(report.errors(), 0, "{:?}", report.diagnostics.first());
                dynalert_model::resolve(&report.config, now)
            })
        });
    }
    {
        let n = 10_000;
        let dir = tempfile::tempdir().unwrap();
        write_hierarchical_fixture(dir.path(), n);
        group.bench_function(
            format!("cold_load_validate_resolve_hierarchical/{n}"),
            |b| {
                b.iter(|| {
                    let report = dynalert_config::load_dir(dir.path(), now).unwrap();
                    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics.first());
                    assert_eq!(report.config.tenants.len(), n);
                    dynalert_model::resolve(&report.config, now)
                })
            },
        );
    }
    let n = 10_000;
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), n);
    let mut loader = dynalert_config::Loader::new(dir.path());
    let mut resolver = dynalert_model::Resolver::new();
    let first = loader.reload(now).unwrap();
    resolver.resolve(&first.config, now);
    let mut bump = 0;
    group.bench_function(format!("one_file_changed_reload_resolve/{n}"), |b| {
        b.iter_batched(
            || {
                bump += 1;
                let path = dir.path().join("tenant-04242.yaml");
                std::fs::write(path, tenant_file(4242, bump)).unwrap();
            },
            |()| {
                let report = loader
                    .reload_files(&["tenant-04242.yaml".to_string()], now)
                    .unwrap();
                assert_eq!(report.files_parsed, 1);
                let (snapshot, fresh) = resolver.resolve(&report.config, now);
                assert_eq!(fresh, 1);
                snapshot
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
