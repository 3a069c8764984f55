//! `dynalert alertmanager` and `dynalert explain-route`: exit codes, atomic and
//! change-only writing, the reload request.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use dynalert_cli::cmd::{alertmanager, explain_route};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d")
}

fn args(dir: PathBuf, output: Option<PathBuf>, reload_url: Option<String>) -> alertmanager::Args {
    alertmanager::Args {
        command: None,
        dir: Some(dir),
        base: None,
        output,
        reload_url,
    }
}

/// `dynalert alertmanager` of `dir` into `out`: its exit code.
fn generate(dir: PathBuf, out: &Path, reload_url: Option<String>) -> u8 {
    alertmanager::run(args(dir, Some(out.to_path_buf()), reload_url)).unwrap()
}

/// Answers one HTTP request with `status`; returns the request line.
fn fake_server(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // Read the whole request head before answering.
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(
                n > 0,
                "connection closed before the end of the request head"
            );
            head.extend_from_slice(&buf[..n]);
        }
        let req = String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        write!(
            s,
            "HTTP/1.1 {status}\r\nContent-Length: 7\r\nConnection: close\r\n\r\nfailed!"
        )
        .unwrap();
        req
    });
    (url, handle)
}

#[test]
fn writes_only_when_changed_and_reloads() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("alertmanager.yml");
    assert_eq!(generate(examples(), &out, None), 0);
    let first = std::fs::read_to_string(&out).unwrap();
    assert!(first.contains("name: tenant-db-a"), "{first}");
    let mtime = std::fs::metadata(&out).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let (url, server) = fake_server("200 OK");
    assert_eq!(generate(examples(), &out, Some(url)), 0);
    assert_eq!(
        std::fs::metadata(&out).unwrap().modified().unwrap(),
        mtime,
        "unchanged file rewritten"
    );
    assert_eq!(server.join().unwrap(), "POST /-/reload HTTP/1.1");
    // No temporary file left behind.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn failed_reload_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, server) = fake_server("500 Internal Server Error");
    assert_eq!(
        generate(examples(), &tmp.path().join("am.yml"), Some(url)),
        2
    );
    server.join().unwrap();
}

fn conf_with(tmp: &Path, tenants: &[(&str, &str)]) -> PathBuf {
    let conf = tmp.join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    for f in ["_defaults.yaml", "_routing.yaml"] {
        std::fs::copy(examples().join(f), conf.join(f)).unwrap();
    }
    for (name, text) in tenants {
        std::fs::write(conf.join(name), text).unwrap();
    }
    conf
}

#[test]
fn rejected_tenant_never_blocks_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = conf_with(
        tmp.path(),
        &[
            ("t.yaml", "tenants:\n  t:\n    _routing: {receiver: {type: webhok}}\n"),
            (
                "u.yaml",
                "tenants:\n  u:\n    _routing: {receiver: {type: webhook, url: \"http://127.0.0.1:5001/u\"}}\n",
            ),
        ],
    );
    let out = tmp.path().join("am.yml");
    // A finding (exit 1), but the file is written: `u` keeps its route, `t` gets none,
    // so its alerts reach the platform default receiver through the final route.
    assert_eq!(generate(conf.clone(), &out, None), 1);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("name: tenant-u"), "{text}");
    assert!(!text.contains("tenant=\"t\""), "{text}");
    let explain = explain_route::Args {
        dir: conf,
        labels: vec!["tenant=t".into()],
    };
    assert_eq!(explain_route::run(explain).unwrap(), 1);
}

#[test]
fn platform_errors_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = conf_with(tmp.path(), &[]);
    std::fs::write(
        conf.join("_routing.yaml"),
        "routing:\n  default_receiver: nobody\n  receivers: [{name: a, webhook_configs: [{url: \"http:///x\"}]}]\n",
    )
    .unwrap();
    let out = tmp.path().join("am.yml");
    assert_eq!(generate(conf, &out, None), 1);
    assert!(!out.exists());
}

#[test]
fn new_files_are_0600_and_existing_modes_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("am.yml");
    assert_eq!(generate(examples(), &out, None), 0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o600);
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(generate(examples(), &out, None), 0);
    assert_eq!(mode(&out), 0o640);
    assert_ne!(std::fs::read_to_string(&out).unwrap(), "old");
}

#[test]
fn rejected_reload_restores_the_previous_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("am.yml");
    std::fs::write(&out, "# the running configuration\n").unwrap();
    let (url, server) = fake_server("400 Bad Request");
    assert_eq!(generate(examples(), &out, Some(url)), 2);
    server.join().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "# the running configuration\n"
    );
    // Without a previous file, the rejected one is removed.
    let fresh = tmp.path().join("fresh.yml");
    let (url, server) = fake_server("400 Bad Request");
    assert_eq!(generate(examples(), &fresh, Some(url)), 2);
    server.join().unwrap();
    assert!(!fresh.exists());
}

#[test]
fn base_problems_are_located_and_block_the_write() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base.yml");
    std::fs::write(
        &base,
        "route:\n  receiver: x\n  routes:\n    - receiver: missing\n      mute_time_intervals: [nope]\nreceivers:\n  - name: x\n    webhook_configs:\n      - url: \"http://h.example/a\"\n        send_resolved: yes\n        <<: {max_alerts: 1}\n",
    )
    .unwrap();
    let problems = alertmanager::check_base(&std::fs::read_to_string(&base).unwrap(), &[]);
    let lines: Vec<u32> = problems.iter().map(|p| p.0.line).collect();
    // Dangling receiver (4), dangling time interval (5), YAML 1.1 boolean (10), merge key (11).
    assert_eq!(lines, [4, 5, 10, 11], "{problems:#?}");
    let out = tmp.path().join("am.yml");
    let mut a = args(examples(), Some(out.clone()), None);
    a.base = Some(base);
    assert_eq!(alertmanager::run(a).unwrap(), 1);
    assert!(!out.exists());
}

#[test]
fn explain_route_succeeds_on_examples() {
    let a = explain_route::Args {
        dir: examples(),
        labels: vec![
            "tenant=db-a,severity=critical".into(),
            "alertname=MariaDBHighConnections".into(),
        ],
    };
    assert_eq!(explain_route::run(a).unwrap(), 0);
    let bad = explain_route::Args {
        dir: examples(),
        labels: vec!["tenant".into()],
    };
    assert_eq!(explain_route::run(bad).unwrap(), 2);
}

/// Receivers `amtool config routes test` (Debian's Alertmanager) finds for `labels`.
fn amtool_routes(file: &Path, labels: &str) -> String {
    let out = std::process::Command::new("amtool")
        .args(["config", "routes", "test"])
        .arg(format!("--config.file={}", file.display()))
        .args(labels.split(' '))
        .output()
        .expect("run amtool (Debian package `prometheus-alertmanager`)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn rejected_vip_tenant_keeps_its_platform_page_and_a_false_claim_gets_none() {
    let tmp = tempfile::tempdir().unwrap();
    // `v` is on the platform's vip tier, but its own file is broken; `w` claims `vip`
    // without the platform's assignment (rejected too).
    let conf = conf_with(
        tmp.path(),
        &[
            ("_tenancy.yaml", "tenancy:\n  v: {tier: vip}\n"),
            (
                "v.yaml",
                "tenants:\n  v:\n    _routing: {receiver: {type: webhok}}\n",
            ),
            ("w.yaml", "tenants:\n  w:\n    _metadata: {tier: vip}\n"),
        ],
    );
    let out = tmp.path().join("am.yml");
    assert_eq!(generate(conf, &out, None), 1);
    // Contract: the enforced copy (noc) and the tier page (vip-pager) are the platform's;
    // the tenant's own alerts fall back to the default receiver.
    for (labels, want) in [
        (
            "tenant=v severity=critical alertname=MariaDBDown",
            "noc,vip-pager,platform-default",
        ),
        ("tenant=v severity=warning alertname=X", "platform-default"),
        (
            "tenant=w severity=critical alertname=X",
            "noc,platform-default",
        ),
    ] {
        assert_eq!(amtool_routes(&out, labels), want, "{labels}");
    }
}

#[test]
fn an_override_taking_another_tenants_receiver_name_never_blocks_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let hook = |p: &str| format!("{{type: webhook, url: \"http://127.0.0.1:5001/{p}\"}}");
    // Override 1 of `x` would be named `tenant-x-1`, the name of tenant `x-1`'s receiver.
    let x = format!(
        "tenants:\n  x:\n    _routing:\n      receiver: {}\n      overrides:\n        - {{alertname: A, receiver: {}}}\n",
        hook("x"),
        hook("x-override")
    );
    let routed = |t: &str| {
        format!(
            "tenants:\n  {t}:\n    _routing: {{receiver: {}}}\n",
            hook(t)
        )
    };
    let (x1, y) = (routed("x-1"), routed("y"));
    let conf = conf_with(
        tmp.path(),
        &[("x.yaml", &x), ("x-1.yaml", &x1), ("y.yaml", &y)],
    );
    let out = tmp.path().join("am.yml");
    assert_eq!(generate(conf, &out, None), 0);
    // `x-1` keeps its receiver, `y` is untouched, `x` keeps its own receiver.
    for t in ["x-1", "y", "x"] {
        let labels = format!("tenant={t} severity=warning alertname=A");
        assert_eq!(
            amtool_routes(&out, &labels),
            format!("tenant-{t}"),
            "{labels}"
        );
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("x-override"), "{text}");
}
