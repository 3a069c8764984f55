//! The loader reads the file system fail-closed: whatever happens to a file, a tenant
//! never loses its last good configuration to something that is not a deliberate change.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use dynalert_config::{Limits, LoadReport, Loader, ReadOptions};

const DEFAULTS: &str = "defaults:\n  mysql_connections: 80\n";

fn tenant(id: &str, connections: u32) -> String {
    format!("tenants:\n  {id}:\n    mysql_connections: {connections}\n")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The warning threshold of `mysql_connections` a tenant is served (custom or default).
fn served(report: &LoadReport, id: &str) -> Option<f64> {
    let config = &report.config;
    let t = config.tenants.get(id)?;
    let series = dynalert_model::resolve_tenant(&config.platform, t, Utc::now());
    series
        .series
        .iter()
        .find(|s| {
            let has = |k: &str, v: &str| s.labels.iter().any(|(a, b)| a == k && b == v);
            has("metric", "connections") && has("severity", "warning")
        })
        .map(|s| s.value)
}

fn errors_for(report: &LoadReport, file: &str) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.file.ends_with(file))
        .map(ToString::to_string)
        .collect()
}

/// A directory with defaults, db-a (70) and db-b (90), loaded once.
fn setup() -> (tempfile::TempDir, Loader) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "_defaults.yaml", DEFAULTS);
    write(dir.path(), "db-a.yaml", &tenant("db-a", 70));
    write(dir.path(), "db-b.yaml", &tenant("db-b", 90));
    let mut loader = Loader::new(dir.path());
    let report = loader.reload(Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);
    assert_eq!(served(&report, "db-a"), Some(70.0));
    (dir, loader)
}

/// db-a keeps 70 with a located error on `file`, db-b is untouched.
fn assert_kept(report: &LoadReport, file: &str, expect: &str) {
    let errs = errors_for(report, file);
    assert!(
        errs.iter().any(|e| e.contains(expect)),
        "no error containing `{expect}` on {file}: {:?}",
        report.diagnostics
    );
    assert!(errs
        .iter()
        .all(|e| e.contains(":1:1: error:") || e.contains(": error:")));
    assert_eq!(
        served(report, "db-a"),
        Some(70.0),
        "db-a lost its last good config"
    );
    assert_eq!(served(report, "db-b"), Some(90.0));
}

#[test]
fn dangling_symlink_is_an_error_not_a_deletion() {
    let (dir, mut loader) = setup();
    std::fs::remove_file(dir.path().join("db-a.yaml")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("missing.yaml"),
        dir.path().join("db-a.yaml"),
    )
    .unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "dangling symbolic link");
    assert_eq!(report.tenant_valid.get("db-a"), Some(&false));
}

#[test]
fn looping_symlink_is_an_error() {
    let (dir, mut loader) = setup();
    std::fs::remove_file(dir.path().join("db-a.yaml")).unwrap();
    std::os::unix::fs::symlink("db-a.yaml", dir.path().join("db-a.yaml")).unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "looping symbolic link");
}

#[test]
fn fifo_directory_and_device_are_errors_and_never_block() {
    for kind in ["fifo", "dir", "dev"] {
        let (dir, mut loader) = setup();
        let path = dir.path().join("db-a.yaml");
        std::fs::remove_file(&path).unwrap();
        let expect = match kind {
            "fifo" => {
                let ok = std::process::Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(ok.success());
                "a FIFO"
            }
            "dir" => {
                std::fs::create_dir(&path).unwrap();
                "a directory"
            }
            _ => {
                std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
                "a device"
            }
        };
        let report = loader.reload(Utc::now()).unwrap();
        assert_kept(&report, "db-a.yaml", expect);
    }
}

#[test]
fn empty_tenant_file_is_an_error() {
    let (dir, mut loader) = setup();
    for text in ["", "# only a comment\n", "\n\n"] {
        write(dir.path(), "db-a.yaml", text);
        let report = loader.reload(Utc::now()).unwrap();
        assert_kept(&report, "db-a.yaml", "tenant file is empty");
    }
}

#[test]
fn deleted_tenant_file_removes_the_tenant() {
    let (dir, mut loader) = setup();
    std::fs::remove_file(dir.path().join("db-a.yaml")).unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.diagnostics);
    assert_eq!(served(&report, "db-a"), None);
    assert_eq!(served(&report, "db-b"), Some(90.0));
}

#[test]
fn removed_or_emptied_platform_file_keeps_the_last_good_platform() {
    let (dir, mut loader) = setup();
    // db-c relies on the platform default.
    write(dir.path(), "db-c.yaml", "tenants:\n  db-c: {}\n");
    let report = loader.reload(Utc::now()).unwrap();
    assert_eq!(served(&report, "db-c"), Some(80.0));

    write(dir.path(), "_defaults.yaml", "");
    let report = loader.reload(Utc::now()).unwrap();
    assert!(!report.platform_valid);
    assert!(errors_for(&report, "_defaults.yaml")
        .iter()
        .any(|e| e.contains("platform file is empty")));
    assert_eq!(served(&report, "db-c"), Some(80.0));

    std::fs::remove_file(dir.path().join("_defaults.yaml")).unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert!(!report.platform_valid);
    assert!(errors_for(&report, "_defaults.yaml")
        .iter()
        .any(|e| e.contains("platform file was removed")));
    assert_eq!(served(&report, "db-c"), Some(80.0));
    assert_eq!(served(&report, "db-a"), Some(70.0));

    // Restoring it brings everything back; retiring it on purpose works in two steps.
    write(dir.path(), "_defaults.yaml", DEFAULTS);
    let report = loader.reload(Utc::now()).unwrap();
    assert!(report.platform_valid, "{:?}", report.diagnostics);
    write(dir.path(), "_defaults.yaml", "{}\n");
    write(dir.path(), "db-c.yaml", &tenant("db-c", 10));
    // `mysql_connections` left the catalogue with the defaults: tenants that set it are
    // now rejected and keep their last good config; that is the platform's decision.
    let _ = loader.reload(Utc::now()).unwrap();
    std::fs::remove_file(dir.path().join("_defaults.yaml")).unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert!(report.platform_valid, "{:?}", report.diagnostics);
}

#[test]
fn two_files_for_one_tenant_serve_neither() {
    for other in ["db-a.yml", "db-a.YAML", "db-a.Yml"] {
        let (dir, mut loader) = setup();
        write(dir.path(), other, &tenant("db-a", 5));
        let report = loader.reload(Utc::now()).unwrap();
        assert_kept(&report, other, "defined twice");
        assert_eq!(report.tenant_valid.get("db-a"), Some(&false));
    }
}

#[test]
fn extensions_in_any_case_are_tenant_files() {
    let (dir, mut loader) = setup();
    write(dir.path(), "db-c.YAML", &tenant("db-c", 33));
    let report = loader.reload(Utc::now()).unwrap();
    assert_eq!(
        served(&report, "db-c"),
        Some(33.0),
        "{:?}",
        report.diagnostics
    );
}

#[test]
fn invalid_tenant_ids_from_file_names_are_errors() {
    for name in [
        "-bad.yaml",
        "Upper.yaml",
        "bad-.yml",
        "ünï.yaml",
        &format!("{}.yaml", "a".repeat(64)),
    ] {
        let (dir, mut loader) = setup();
        let id = dynalert_config::tenant_id(name).unwrap().to_string();
        write(dir.path(), name, &tenant(&id, 1));
        let report = loader.reload(Utc::now()).unwrap();
        assert!(
            errors_for(&report, name)
                .iter()
                .any(|e| e.contains("not a valid tenant id")),
            "{name}: {:?}",
            report.diagnostics
        );
        assert!(!report.config.tenants.contains_key(&id));
        assert_eq!(served(&report, "db-a"), Some(70.0));
    }
}

#[test]
fn oversized_file_is_rejected_with_the_limit_named() {
    let (dir, loader) = setup();
    let mut loader = loader.with_read_options(ReadOptions {
        limits: Limits {
            max_bytes: 4096,
            ..Limits::default()
        },
        ..ReadOptions::default()
    });
    let mut text = tenant("db-a", 1);
    text.push_str(&format!("# {}\n", "x".repeat(5000)));
    write(dir.path(), "db-a.yaml", &text);
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "over the limit of 4096 bytes");
    // A sparse 64 GiB file is refused from its size, without reading it.
    let f = std::fs::File::create(dir.path().join("db-a.yaml")).unwrap();
    f.set_len(64 << 30).unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "--config.max-file-size");
}

/// YAML that only the full parser rejects (a flow scalar `b -`, which the fast reader once
/// accepted): a located error, db-a keeps its last good value, db-b is untouched.
#[test]
fn yaml_the_full_parser_rejects_is_a_located_error() {
    let (dir, mut loader) = setup();
    write(
        dir.path(),
        "db-a.yaml",
        "tenants:\n  db-a:\n    mysql_connections: [ a , b -]\n",
    );
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "db-a.yaml:3:32: error: invalid YAML");
}

#[test]
fn nul_bytes_and_invalid_utf8_are_located_errors() {
    let (dir, mut loader) = setup();
    std::fs::write(
        dir.path().join("db-a.yaml"),
        b"tenants:\n  db-a:\n    x: \xff\n",
    )
    .unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(
        &report,
        "db-a.yaml",
        "db-a.yaml:3:8: error: file is not valid UTF-8",
    );
    std::fs::write(dir.path().join("db-a.yaml"), b"tenants:\0\n").unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert_kept(&report, "db-a.yaml", "NUL bytes");
}

#[test]
fn a_file_modified_within_the_settle_delay_is_not_read() {
    let (dir, loader) = setup();
    let mut loader = loader.with_read_options(ReadOptions {
        settle: Duration::from_secs(600),
        settle_timeout: Duration::from_millis(50),
        ..ReadOptions::default()
    });
    write(dir.path(), "db-a.yaml", &tenant("db-a", 11));
    let report = loader.reload(Utc::now()).unwrap();
    assert_eq!(report.unstable, vec!["db-a.yaml".to_string()]);
    assert_kept(&report, "db-a.yaml", "kept changing while it was read");
    // Once the write is old enough, it is applied.
    let f = std::fs::File::options()
        .write(true)
        .open(dir.path().join("db-a.yaml"))
        .unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let report = loader.reload(Utc::now()).unwrap();
    assert!(report.unstable.is_empty());
    assert_eq!(served(&report, "db-a"), Some(11.0));
}

/// A ConfigMap mount: `x.yaml -> ..data/x.yaml`, `..data -> ..2026_01`.
#[test]
fn broken_configmap_data_link_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v1 = d.join("..2026_01");
    std::fs::create_dir(&v1).unwrap();
    write(&v1, "_defaults.yaml", DEFAULTS);
    write(&v1, "db-a.yaml", &tenant("db-a", 70));
    write(&v1, "db-b.yaml", &tenant("db-b", 90));
    std::os::unix::fs::symlink("..2026_01", d.join("..data")).unwrap();
    for f in ["_defaults.yaml", "db-a.yaml", "db-b.yaml"] {
        std::os::unix::fs::symlink(format!("..data/{f}"), d.join(f)).unwrap();
    }
    let mut loader = Loader::new(d);
    let good = loader.reload(Utc::now()).unwrap();
    assert_eq!(good.errors(), 0);
    for broken in ["dangling", "looping", "empty"] {
        std::fs::remove_file(d.join("..data")).unwrap();
        match broken {
            "dangling" => std::os::unix::fs::symlink("..2026_99", d.join("..data")).unwrap(),
            "looping" => std::os::unix::fs::symlink("..data", d.join("..data")).unwrap(),
            _ => {
                std::fs::create_dir_all(d.join("..empty")).unwrap();
                std::os::unix::fs::symlink("..empty", d.join("..data")).unwrap();
            }
        }
        let report = loader.reload(Utc::now()).unwrap();
        assert!(report.errors() > 0, "{broken}");
        assert!(
            Arc::ptr_eq(&report.config, &good.config)
                || report.config.tenants == good.config.tenants,
            "{broken}"
        );
        assert_eq!(served(&report, "db-a"), Some(70.0), "{broken}");
        assert_eq!(served(&report, "db-b"), Some(90.0), "{broken}");
        std::fs::remove_file(d.join("..data")).unwrap();
        std::os::unix::fs::symlink("..2026_01", d.join("..data")).unwrap();
        let report = loader.reload(Utc::now()).unwrap();
        assert_eq!(report.errors(), 0, "{broken}: {:?}", report.diagnostics);
    }
    // All config files gone from a directory: a broken mount, not a mass deletion.
    for f in ["_defaults.yaml", "db-a.yaml", "db-b.yaml"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    let report = loader.reload(Utc::now()).unwrap();
    assert!(report
        .diagnostics
        .iter()
        .any(|e| e.message.contains("holds no config file")));
    assert_eq!(served(&report, "db-a"), Some(70.0));
}
