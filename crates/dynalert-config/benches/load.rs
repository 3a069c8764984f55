//! Load + validate + resolve benchmarks on generated conf.d directories.
//!
//! Fixtures: 20 catalogue keys; each tenant sets 8 custom values, disables 2
//! keys, every 10th tenant has a scheduled value with a time zone and every 5th
//! a dimensional key. The hierarchical fixture puts the same tenants under four levels
//! of `_defaults.yaml`. Run with `make bench` (or `cargo bench -p dynalert-config`).

mod common;

use chrono::{TimeZone, Utc};
use common::{tenant_file, write_fixture, write_hierarchical_fixture};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

// The binaries use the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
