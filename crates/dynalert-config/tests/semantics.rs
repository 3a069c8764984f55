//! The configuration contract (BRIEF §3), one test per rule.
//!
//! Expected series are written from the contract, not from the code's output.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use dynalert_model::{Family, Snapshot};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const PLATFORM: &str = "\
defaults:
  mysql_connections: 80
  mysql_replication_lag: {warning: 30, critical: 120}
  container_cpu: 80
optional_overrides:
  - mysql_slow_queries
state_filters:
  container_crashloop: {reasons: [CrashLoopBackOff], severity: critical}
  container_imagepull: {reasons: [ImagePullBackOff], severity: warning}
";

fn write(path: impl AsRef<Path>, text: impl AsRef<[u8]>) {
    std::fs::write(path, text).unwrap();
}

/// A tenant file of `id` that sets `mysql_connections` to `value`.
fn connections(id: &str, value: &str) -> String {
    format!("tenants:\n  {id}:\n    mysql_connections: {value}\n")
}

/// Writes a conf.d with the platform file and `tenants` as (id, body) pairs.
fn confd(tenants: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path().join("_defaults.yaml"), PLATFORM);
    for (id, body) in tenants {
        let text = format!("tenants:\n  {id}:\n{body}");
        write(dir.path().join(format!("{id}.yaml")), text);
    }
    dir
}

fn load(dir: &Path, t: DateTime<Utc>) -> (dynalert_config::LoadReport, Snapshot) {
    let report = dynalert_config::load_dir(dir, t).unwrap();
    let snap = dynalert_model::resolve(&report.config, t);
    (report, snap)
}

/// `name{labels} value` lines of one family for one tenant.
fn lines(snap: &Snapshot, family: Family, tenant: &str) -> Vec<String> {
    let line = |s: &dynalert_model::Series| {
        let labels: Vec<String> = s.labels[1..]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{} {}", labels.join(","), s.value)
    };
    snap.series()
        .filter(|s| s.family == family && s.labels[0].1 == tenant)
        .map(line)
        .collect()
}

fn thresholds(dir: &Path, tenant: &str, t: DateTime<Utc>) -> Vec<String> {
    let (report, snap) = load(dir, t);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    lines(&snap, Family::UserThreshold, tenant)
}

const NOW: &str = "2026-06-01T12:00:00Z";

#[test]
fn three_states_custom_default_disabled() {
    let dir = confd(&[(
        "db-a",
        "    mysql_connections: \"70\"\n    mysql_replication_lag: disable\n",
    )]);
    assert_eq!(
        thresholds(dir.path(), "db-a", at(NOW)),
        vec![
            "component=container,metric=cpu,severity=warning 80",
            "component=mysql,metric=connections,severity=warning 70",
        ]
    );
}

#[test]
fn optional_keys_emit_only_when_set() {
    let dir = confd(&[
        ("db-a", "    mysql_slow_queries: 5\n"),
        ("db-b", "    container_cpu: 70\n"),
    ]);
    let a = thresholds(dir.path(), "db-a", at(NOW));
    assert!(a.contains(&"component=mysql,metric=slow_queries,severity=warning 5".to_string()));
    let b = thresholds(dir.path(), "db-b", at(NOW));
    assert!(b.iter().all(|l| !l.contains("slow_queries")));
}

#[test]
fn disable_words_in_any_case() {
    for word in ["disable", "disabled", "off", "false", "DISABLE", "Off"] {
        let dir = confd(&[("db-a", &format!("    mysql_connections: {word}\n"))]);
        let got = thresholds(dir.path(), "db-a", at(NOW));
        assert!(
            got.iter().all(|l| !l.contains("connections")),
            "{word}: {got:?}"
        );
    }
}

#[test]
fn three_tier_spellings_are_equivalent() {
    let bodies = [
        "    mysql_connections: \"70\"\n    mysql_connections_critical: \"120\"\n",
        "    mysql_connections: {warning: 70, critical: 120}\n",
        "    mysql_connections: \"120:critical\"\n    mysql_connections_warning: \"70\"\n",
    ];
    let expected = vec![
        "component=container,metric=cpu,severity=warning 80",
        "component=mysql,metric=connections,severity=critical 120",
        "component=mysql,metric=connections,severity=warning 70",
        "component=mysql,metric=replication_lag,severity=critical 120",
        "component=mysql,metric=replication_lag,severity=warning 30",
    ];
    for body in bodies {
        let dir = confd(&[("db-a", body)]);
        assert_eq!(thresholds(dir.path(), "db-a", at(NOW)), expected, "{body}");
    }
    // `"120:critical"` alone is the key's one row, as upstream has it: the warning
    // default (80) is not served next to it. `<key>_critical` alone adds the critical
    // tier and keeps the warning default.
    let dir = confd(&[("db-a", "    mysql_connections: \"120:critical\"\n")]);
    let got = thresholds(dir.path(), "db-a", at(NOW));
    assert!(got.contains(&"component=mysql,metric=connections,severity=critical 120".to_string()));
    assert!(
        !got.iter()
            .any(|l| l.starts_with("component=mysql,metric=connections,severity=warning")),
        "{got:?}"
    );
    let dir = confd(&[("db-a", "    mysql_connections_critical: \"120\"\n")]);
    let got = thresholds(dir.path(), "db-a", at(NOW));
    assert!(got.contains(&"component=mysql,metric=connections,severity=critical 120".to_string()));
    assert!(got.contains(&"component=mysql,metric=connections,severity=warning 80".to_string()));
}

#[test]
fn platform_critical_default_and_disabling_one_tier() {
    let dir = confd(&[
        ("db-a", "    mysql_replication_lag: {critical: disable}\n"),
        ("db-b", "    mysql_replication_lag: \"60\"\n"),
    ]);
    let a = thresholds(dir.path(), "db-a", at(NOW));
    assert!(a.contains(&"component=mysql,metric=replication_lag,severity=warning 30".to_string()));
    assert!(a
        .iter()
        .all(|l| !l.contains("replication_lag,severity=critical")));
    let b = thresholds(dir.path(), "db-b", at(NOW));
    assert!(b.contains(&"component=mysql,metric=replication_lag,severity=warning 60".to_string()));
    assert!(b.contains(&"component=mysql,metric=replication_lag,severity=critical 120".to_string()));
}

#[test]
fn dimensional_and_regex_keys_add_labels_and_leave_other_rows_alone() {
    let dir = confd(&[(
        "db-a",
        "    \"container_cpu{container='mariadb'}\": \"90\"\n    \"container_cpu{container=~'sidecar-.*'}\": \"95:critical\"\n",
    )]);
    assert_eq!(
        thresholds(dir.path(), "db-a", at(NOW)),
        vec![
            "component=container,metric=cpu,severity=critical,container_re=sidecar-.* 95",
            "component=container,metric=cpu,severity=warning 80",
            "component=container,metric=cpu,severity=warning,container=mariadb 90",
            "component=mysql,metric=connections,severity=warning 80",
            "component=mysql,metric=replication_lag,severity=critical 120",
            "component=mysql,metric=replication_lag,severity=warning 30",
        ]
    );
}

#[test]
fn scheduled_value_crossing_midnight_with_days_and_timezone() {
    let body = "    container_cpu:\n      default: 85\n      overrides:\n        - {window: \"22:00-06:00\", timezone: \"Asia/Taipei\", days: [mon, tue, wed, thu, fri], value: 95}\n";
    let dir = confd(&[("db-a", body)]);
    let cpu = |t: &str| {
        thresholds(dir.path(), "db-a", at(t))
            .into_iter()
            .find(|l| l.contains("metric=cpu"))
            .unwrap()
    };
    // Monday 23:30 in Taipei: inside.
    assert!(cpu("2026-06-01T23:30:00+08:00").ends_with(" 95"));
    // Tuesday 05:59 in Taipei: still Monday's window.
    assert!(cpu("2026-06-02T05:59:00+08:00").ends_with(" 95"));
    // Monday 21:59 in Taipei: outside.
    assert!(cpu("2026-06-01T21:59:00+08:00").ends_with(" 85"));
    // Saturday 23:00: no window starts on Saturday.
    assert!(cpu("2026-06-06T23:00:00+08:00").ends_with(" 85"));
    // The next change is announced at the window edge (22:00 Taipei = 14:00 UTC).
    let (_, snap) = load(dir.path(), at("2026-06-01T12:00:00Z"));
    assert_eq!(snap.next_change, Some(at("2026-06-01T14:00:00Z")));
}

#[test]
fn expired_value_falls_back_to_default_with_an_event() {
    let body = "    mysql_connections:\n      value: 50\n      expires: \"2026-06-01T00:00:00Z\"\n";
    let dir = confd(&[("db-a", body)]);
    let before = thresholds(dir.path(), "db-a", at("2026-05-31T23:00:00Z"));
    assert!(before.contains(&"component=mysql,metric=connections,severity=warning 50".to_string()));
    let (report, snap) = load(dir.path(), at("2026-06-01T00:00:01Z"));
    assert_eq!(report.errors(), 0);
    let after = lines(&snap, Family::UserThreshold, "db-a");
    assert!(after.contains(&"component=mysql,metric=connections,severity=warning 80".to_string()));
    assert_eq!(
        lines(&snap, Family::ConfigEvent, "db-a"),
        vec!["event=threshold_expired,reason=mysql_connections 1"]
    );
    // Expiry in the past is a warning, not an error.
    assert_eq!(report.warnings(), 1);
    // Before expiry, the next change is the expiry instant.
    let (_, snap) = load(dir.path(), at("2026-05-31T23:00:00Z"));
    assert_eq!(snap.next_change, Some(at("2026-06-01T00:00:00Z")));
}

#[test]
fn state_filters_metadata_namespaces_silent_mode() {
    let dir = confd(&[
        (
            "db-a",
            "    _state_container_crashloop: disable\n    _metadata: {tier: vip, owner: dba, runbook_url: \"https://wiki/db-a\", namespaces: [ns1, ns2]}\n    _silent_mode: {target: all, expires: \"2030-01-01T00:00:00Z\", reason: x}\n",
        ),
        ("db-b", "    container_cpu: 70\n"),
    ]);
    // Tier and namespaces are the platform's to assign; db-a's file claims exactly them.
    write(
        dir.path().join("_tenancy.yaml"),
        "tenancy:\n  db-a: {tier: vip, namespaces: [ns1, ns2]}\n",
    );
    let (report, snap) = load(dir.path(), at(NOW));
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    assert_eq!(
        lines(&snap, Family::UserStateFilter, "db-a"),
        vec!["filter=container_imagepull,severity=warning 1"]
    );
    assert_eq!(
        lines(&snap, Family::UserStateFilter, "db-b"),
        vec![
            "filter=container_crashloop,severity=critical 1",
            "filter=container_imagepull,severity=warning 1"
        ]
    );
    assert_eq!(
        lines(&snap, Family::TenantMetadataInfo, "db-a"),
        vec!["tier=vip,owner=dba,runbook_url=https://wiki/db-a 1"]
    );
    assert_eq!(
        lines(&snap, Family::TenantNamespaceInfo, "db-a"),
        vec!["namespace=ns1 1", "namespace=ns2 1"]
    );
    assert_eq!(
        lines(&snap, Family::TenantNamespaceInfo, "db-b"),
        vec!["namespace=db-b 1"]
    );
    assert_eq!(
        lines(&snap, Family::UserSilentMode, "db-a"),
        vec![
            "target_severity=critical 1",
            "target_severity=info 1",
            "target_severity=warning 1"
        ]
    );
    assert!(lines(&snap, Family::UserSilentMode, "db-b").is_empty());
}

#[test]
fn hostile_maintenance_crons_stay_with_their_tenant() {
    // A cron that never matches (31 February), a nickname, six fields and a huge text: each is
    // a located error in its own file or a window of its own tenant; no other tenant moves.
    let huge = format!("0 0 * * {}", "1,".repeat(5000) + "1");
    let cron = |c: &str| {
        format!("    _state_maintenance:\n      recurring:\n        - {{cron: \"{c}\", duration: 2h}}\n")
    };
    let dir = confd(&[
        ("db-a", &cron("0 0 31 2 *")),
        ("db-c", &cron("@daily")),
        ("db-d", &cron("0 0 2 * * sun")),
        ("db-e", &cron(&huge)),
        ("db-b", "    mysql_connections: 50\n"),
    ]);
    let started = std::time::Instant::now();
    let (report, snap) = load(dir.path(), at("2026-06-01T00:30:00Z"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    for bad in ["db-c.yaml", "db-d.yaml"] {
        assert!(
            report.diagnostics.iter().any(|d| d.is_error()
                && d.file.ends_with(bad)
                && d.message.starts_with("bad cron")),
            "{bad}: {:#?}",
            report.diagnostics
        );
    }
    // Never matching: accepted, never active.
    assert!(lines(&snap, Family::UserMaintenance, "db-a").is_empty());
    // The others are untouched: db-b keeps its own threshold, nobody is in maintenance.
    assert_eq!(
        lines(&snap, Family::UserThreshold, "db-b")
            .iter()
            .filter(|l| l.contains("metric=connections"))
            .cloned()
            .collect::<Vec<_>>(),
        vec!["component=mysql,metric=connections,severity=warning 50"]
    );
    for t in ["db-b", "db-c", "db-d"] {
        assert!(lines(&snap, Family::UserMaintenance, t).is_empty(), "{t}");
    }
    // The 10,000-character cron is a valid "Mondays at 00:00": 2026-06-01 is a Monday, so
    // db-e (and only db-e) is in its two-hour window.
    assert_eq!(lines(&snap, Family::UserMaintenance, "db-e").len(), 1);
}

#[test]
fn maintenance_one_off_and_recurring() {
    let dir = confd(&[
        (
            "db-a",
            "    _state_maintenance: {expires: \"2026-06-01T06:00:00Z\", reason: upgrade}\n",
        ),
        (
            "db-b",
            "    _state_maintenance:\n      recurring:\n        - {cron: \"0 2 * * sun\", duration: 2h, timezone: \"Asia/Taipei\"}\n",
        ),
    ]);
    let maint = |t: &str| {
        let (_, snap) = load(dir.path(), at(t));
        (
            lines(&snap, Family::UserMaintenance, "db-a").len(),
            lines(&snap, Family::UserMaintenance, "db-b").len(),
            lines(&snap, Family::ConfigEvent, "db-a"),
        )
    };
    assert_eq!(maint("2026-06-01T05:00:00Z"), (1, 0, vec![]));
    assert_eq!(
        maint("2026-06-01T06:00:00Z"),
        (
            0,
            0,
            vec!["event=maintenance_expired,reason=upgrade 1".to_string()]
        )
    );
    // Sunday 2026-06-07 02:00-04:00 in Taipei = Saturday 18:00-20:00 UTC.
    assert_eq!(maint("2026-06-06T17:59:59Z").1, 0);
    assert_eq!(maint("2026-06-06T18:00:00Z").1, 1);
    assert_eq!(maint("2026-06-06T19:59:59Z").1, 1);
    assert_eq!(maint("2026-06-06T20:00:00Z").1, 0);
    let (_, snap) = load(dir.path(), at("2026-06-06T18:30:00Z"));
    let b = snap.tenants.iter().find(|t| t.tenant == "db-b").unwrap();
    assert_eq!(b.next_change, Some(at("2026-06-06T20:00:00Z")));
}

#[test]
fn overlapping_occurrences_of_a_recurring_window_are_one_window() {
    // 02:00-03:00 and 02:30-03:30 overlap: in maintenance from 02:00 to 03:30, and the next
    // change seen from inside is 03:30, also after the second occurrence has begun.
    let dir = confd(&[(
        "db-a",
        "    _state_maintenance:\n      recurring:\n        - {cron: \"0,30 2 * * *\", duration: 1h, timezone: UTC}\n",
    )]);
    let state = |t: &str| {
        let (_, snap) = load(dir.path(), at(t));
        let a = snap.tenants.iter().find(|x| x.tenant == "db-a").unwrap();
        let active = lines(&snap, Family::UserMaintenance, "db-a").len();
        (active, a.next_change)
    };
    let end = Some(at("2026-06-01T03:30:00Z"));
    assert_eq!(state("2026-06-01T02:10:00Z"), (1, end));
    assert_eq!(state("2026-06-01T02:45:00Z"), (1, end));
    assert_eq!(state("2026-06-01T03:10:00Z"), (1, end));
    let next_day = Some(at("2026-06-02T02:00:00Z"));
    assert_eq!(state("2026-06-01T03:30:00Z"), (0, next_day));
}

#[test]
fn a_window_overlapping_itself_without_end_is_joined_a_bounded_number_of_times() {
    // Every minute for 1000 hours (db-a) or 292 years (db-c, the longest duration the grammar
    // takes): always in maintenance. One resolve joins at most 32 occurrences, so the next
    // change is 32 minutes after the end of the earliest occurrence still running (the first
    // minute boundary after `t`), where the next resolve joins 32 more; db-b is never in
    // maintenance.
    let dir = confd(&[
        (
            "db-a",
            "    _state_maintenance:\n      recurring:\n        - {cron: \"* * * * *\", duration: 1000h}\n",
        ),
        ("db-b", "    mysql_connections: 50\n"),
        (
            "db-c",
            "    _state_maintenance:\n      recurring:\n        - {cron: \"* * * * *\", duration: 292y}\n",
        ),
    ]);
    let state = |t: &str, id: &str| {
        let (_, snap) = load(dir.path(), at(t));
        let x = snap.tenants.iter().find(|x| x.tenant == id).unwrap();
        (
            lines(&snap, Family::UserMaintenance, id).len(),
            x.next_change,
        )
    };
    let (joined_from_10_01, joined_from_10_34) =
        (at("2026-06-01T10:33:00Z"), at("2026-06-01T11:06:00Z"));
    assert_eq!(
        state("2026-06-01T10:00:30Z", "db-a"),
        (1, Some(joined_from_10_01))
    );
    assert_eq!(
        state("2026-06-01T10:33:00Z", "db-a"),
        (1, Some(joined_from_10_34))
    );
    assert_eq!(state("2026-06-01T10:33:00Z", "db-b").0, 0);
    assert_eq!(
        state("2026-06-01T10:00:30Z", "db-c"),
        (1, Some(joined_from_10_01))
    );
}

#[test]
fn symlinks_are_followed_and_dot_names_skipped() {
    // ConfigMap layout: conf.d/x.yaml -> ..data/x.yaml, ..data -> ..2026_06_01/
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("..2026_06_01");
    std::fs::create_dir(&data).unwrap();
    write(data.join("_defaults.yaml"), PLATFORM);
    write(data.join("db-a.yaml"), connections("db-a", "70"));
    std::os::unix::fs::symlink("..2026_06_01", dir.path().join("..data")).unwrap();
    for f in ["_defaults.yaml", "db-a.yaml"] {
        std::os::unix::fs::symlink(format!("..data/{f}"), dir.path().join(f)).unwrap();
    }
    write(dir.path().join(".hidden.yaml"), "not: [valid");
    let (report, snap) = load(dir.path(), at(NOW));
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    assert_eq!(report.tenant_valid.len(), 1);
    assert!(lines(&snap, Family::UserThreshold, "db-a")
        .contains(&"component=mysql,metric=connections,severity=warning 70".to_string()));
}

#[test]
fn bad_tenant_file_keeps_last_good_and_bad_platform_keeps_everything() {
    let dir = confd(&[
        ("db-a", "    mysql_connections: 70\n"),
        ("db-b", "    mysql_connections: 90\n"),
    ]);
    let p = dir.path();
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut loader = dynalert_config::Loader::new(p);
    let first = loader.reload(t).unwrap();
    assert!(first.applied_in_full());

    // Break db-a, change db-b: db-a keeps 70, db-b moves to 95.
    write(p.join("db-a.yaml"), connections("db-a", "lots"));
    write(p.join("db-b.yaml"), connections("db-b", "95"));
    let r = loader.reload(t).unwrap();
    assert!(!r.applied_in_full());
    assert_eq!(r.tenant_valid.get("db-a"), Some(&false));
    assert_eq!(r.tenant_valid.get("db-b"), Some(&true));
    let snap = dynalert_model::resolve(&r.config, t);
    assert!(lines(&snap, Family::UserThreshold, "db-a")
        .contains(&"component=mysql,metric=connections,severity=warning 70".to_string()));
    assert!(lines(&snap, Family::UserThreshold, "db-b")
        .contains(&"component=mysql,metric=connections,severity=warning 95".to_string()));

    // Break the platform file: nothing changes, even a valid tenant edit is held back.
    write(p.join("_defaults.yaml"), "defaults: [broken\n");
    write(p.join("db-b.yaml"), connections("db-b", "99"));
    let r2 = loader.reload(t).unwrap();
    assert!(!r2.platform_valid);
    assert_eq!(*r2.config, *r.config);

    // Fix everything: all applied.
    write(p.join("_defaults.yaml"), PLATFORM);
    write(p.join("db-a.yaml"), connections("db-a", "71"));
    let r3 = loader.reload(t).unwrap();
    assert!(r3.applied_in_full(), "{:#?}", r3.diagnostics);
    let snap = dynalert_model::resolve(&r3.config, t);
    assert!(lines(&snap, Family::UserThreshold, "db-a")
        .contains(&"component=mysql,metric=connections,severity=warning 71".to_string()));
    assert!(lines(&snap, Family::UserThreshold, "db-b")
        .contains(&"component=mysql,metric=connections,severity=warning 99".to_string()));
}

#[test]
fn only_changed_files_are_parsed_again() {
    let dir = confd(&[
        ("db-a", "    mysql_connections: 70\n"),
        ("db-b", "    mysql_connections: 90\n"),
    ]);
    let mut loader = dynalert_config::Loader::new(dir.path());
    let t = Utc::now();
    let first = loader.reload(t).unwrap();
    assert_eq!(first.files_parsed, 3);
    let idle = loader.reload(t).unwrap();
    assert_eq!(
        (idle.files_read, idle.files_parsed, idle.changed),
        (0, 0, false)
    );
    write(dir.path().join("db-b.yaml"), connections("db-b", "91"));
    let one = loader.reload(t).unwrap();
    assert_eq!(
        (one.files_read, one.files_parsed, one.changed),
        (1, 1, true)
    );
}

#[test]
fn override_equal_to_default_is_a_warning() {
    let dir = confd(&[("db-a", "    mysql_connections: 80\n")]);
    let (report, _) = load(dir.path(), at(NOW));
    assert_eq!(report.errors(), 0);
    let w: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains(
            ":3:24: warning: `mysql_connections` warning is 80, the same as the platform default"
        ),
        "{w:?}"
    );
}

#[test]
fn the_examples_are_valid_and_use_every_feature() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d");
    let report = dynalert_config::load_dir(&dir, at(NOW)).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let c = &report.config;
    assert!(c.tenants.len() >= 3);
    type Tenant = dynalert_model::Tenant;
    type Uses = dyn Fn(&Tenant) -> bool;
    fn value(t: &Tenant, f: fn(&dynalert_model::TierValue) -> bool) -> bool {
        t.thresholds.values().any(|m| m.values().any(f))
    }
    let features: [(&str, &Uses); 11] = [
        ("regex key", &|t| {
            t.thresholds.keys().any(|k| k.dims.iter().any(|d| d.regex))
        }),
        ("label key", &|t| {
            t.thresholds.keys().any(|k| k.dims.iter().any(|d| !d.regex))
        }),
        ("schedule", &|t| value(t, |v| v.is_scheduled())),
        ("expiry", &|t| value(t, |v| v.expires.is_some())),
        ("disabled tier", &|t| value(t, |v| v.default.is_none())),
        ("silent mode", &|t| t.silent_mode.is_some()),
        ("recurring maintenance", &|t| {
            t.maintenance
                .as_ref()
                .is_some_and(|m| !m.recurring.is_empty())
        }),
        ("routing", &|t| t.routing.is_some()),
        ("severity dedup off", &|t| !t.severity_dedup),
        ("state filter off", &|t| {
            t.state_filters.values().any(|(on, _)| !on)
        }),
        ("vip tier", &|t| t.metadata.tier.as_deref() == Some("vip")),
    ];
    for (feature, uses) in features {
        assert!(
            c.tenants.values().any(|t| uses(t)),
            "no example uses {feature}"
        );
    }
}

#[test]
fn existing_threshold_exporter_layout_loads_unchanged() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/compat");
    let t = at("2026-06-01T12:00:00Z");
    let report = dynalert_config::load_dir(base.join("conf.d"), t).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let snap = dynalert_model::resolve(&report.config, t);
    let mut got = String::new();
    for s in snap.series().filter(|s| s.family == Family::UserThreshold) {
        dynalert_exposition::write_sample(&mut got, s.family.name(), &s.labels, s.value);
    }
    let expected = std::fs::read_to_string(base.join("expected-user-threshold.prom")).unwrap();
    assert_eq!(got, expected);
}
