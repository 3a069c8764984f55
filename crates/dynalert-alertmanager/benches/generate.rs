//! Generation + rendering at scale: 10,000 and 20,000 tenants, each with a webhook
//! receiver; every 5th has an override, every 10th is on the `vip` tier, every 7th is in
//! silent mode, every 11th has a recurring maintenance window. The configuration is
//! loaded once; the benchmark measures `generate` + `render` (what `dynalert alertmanager`
//! adds to the load). Run with `cargo bench -p dynalert-alertmanager`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PLATFORM: &str = r#"defaults: {mysql_connections: 80}
routing:
  default_receiver: platform-default
  receivers:
    - {name: platform-default, webhook_configs: [{url: "http://127.0.0.1:5001/platform-default"}]}
    - {name: noc, webhook_configs: [{url: "http://127.0.0.1:5001/noc"}]}
    - {name: vip-pager, webhook_configs: [{url: "http://127.0.0.1:5001/vip-pager"}]}
  enforced: {receiver: noc, severities: [critical]}
  tiers:
    vip: {receiver: vip-pager, severities: [critical], group_wait: 10s}
  allowed_url_patterns: ["http://127\\.0\\.0\\.1:[0-9]+/.*"]
"#;

/// Writes the fixture described in the module comment.
pub fn write_fixture(dir: &Path, tenants: usize) {
    std::fs::write(dir.join("_defaults.yaml"), PLATFORM).unwrap();
    // The platform assigns the tier; a tenant's `_metadata.tier` is only a claim.
    let mut tenancy = String::from("tenancy:\n");
    for i in (0..tenants).step_by(10) {
        tenancy += &format!("  t{i:05}: {{tier: vip}}\n");
    }
    std::fs::write(dir.join("_tenancy.yaml"), tenancy).unwrap();
    for i in 0..tenants {
        let id = format!("t{i:05}");
        let mut s = format!("tenants:\n  {id}:\n    mysql_connections: 90\n");
        if i % 10 == 0 {
            s += "    _metadata: {tier: vip}\n";
        }
        if i % 7 == 0 {
            s += "    _silent_mode: {target: warning, expires: \"2030-01-01T00:00:00Z\"}\n";
        }
        if i % 11 == 0 {
            s += "    _state_maintenance: {recurring: [{cron: \"0 2 * * sun\", duration: 2h, timezone: Asia/Taipei}]}\n";
        }
        s += &format!(
            "    _routing:\n      receiver: {{type: webhook, url: \"http://127.0.0.1:5001/{id}\"}}\n"
        );
        if i % 5 == 0 {
            s += &format!("      overrides:\n        - {{alertname: MariaDBHighConnections, receiver: {{type: webhook, url: \"http://127.0.0.1:5001/{id}-oncall\"}}}}\n");
        }
        std::fs::write(dir.join(format!("{id}.yaml")), s).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    // `AM_FIXTURE=DIR:N cargo bench -p dynalert-alertmanager` only writes the fixture of N
    // tenants into DIR (for measuring the whole command and Alertmanager's load time).
    if let Ok(spec) = std::env::var("AM_FIXTURE") {
        let (dir, n) = spec.rsplit_once(':').expect("AM_FIXTURE=DIR:N");
        std::fs::create_dir_all(dir).unwrap();
        write_fixture(Path::new(dir), n.parse().expect("AM_FIXTURE=DIR:N"));
        return;
    }
    let mut group = c.benchmark_group("alertmanager");
    group.sample_size(10);
    for n in [10_000, 20_000] {
        let tmp = tempfile::tempdir().unwrap();
        write_fixture(tmp.path(), n);
        let report = dynalert_config::load_dir(tmp.path(), chrono::Utc::now()).unwrap();
        assert_eq!(report.errors(), 0);
        group.bench_function(format!("generate+render {n} tenants"), |b| {
            b.iter(|| {
                let g = dynalert_alertmanager::generate(&report.config).unwrap();
                dynalert_alertmanager::render(&g, None).unwrap().len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
