//! Generated conf.d directories shared by the load benchmark and the profiling example.
//!
//! 20 catalogue keys; each tenant sets 8 custom values, disables 2 keys, every 10th
//! tenant has a scheduled value with a time zone and every 5th a dimensional key. The
//! hierarchical fixture puts the same tenants under four levels of `_defaults.yaml`.

#![allow(dead_code)]

use std::path::Path;

const KEYS: usize = 20;

fn key(i: usize) -> String {
    format!("svc_metric{i:02}")
}

pub fn write_fixture(dir: &Path, tenants: usize) {
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
pub fn write_hierarchical_fixture(dir: &Path, tenants: usize) {
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

pub fn tenant_file(t: usize, bump: usize) -> String {
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
