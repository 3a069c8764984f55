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
        dir,
        base: None,
        output,
        reload_url,
    }
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
    assert_eq!(
        alertmanager::run(args(examples(), Some(out.clone()), None)).unwrap(),
        0
    );
    let first = std::fs::read_to_string(&out).unwrap();
    assert!(first.contains("name: tenant-db-a"), "{first}");
    let mtime = std::fs::metadata(&out).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let (url, server) = fake_server("200 OK");
    assert_eq!(
        alertmanager::run(args(examples(), Some(out.clone()), Some(url))).unwrap(),
        0
    );
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
    let code =
        alertmanager::run(args(examples(), Some(tmp.path().join("am.yml")), Some(url))).unwrap();
    assert_eq!(code, 2);
    server.join().unwrap();
}

#[test]
fn invalid_directory_is_a_finding_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    for f in ["_defaults.yaml", "_routing.yaml"] {
        std::fs::copy(examples().join(f), conf.join(f)).unwrap();
    }
    std::fs::write(
        conf.join("t.yaml"),
        "tenants:\n  t:\n    _routing: {receiver: {type: webhok}}\n",
    )
    .unwrap();
    let out = tmp.path().join("am.yml");
    assert_eq!(
        alertmanager::run(args(conf.clone(), Some(out.clone()), None)).unwrap(),
        1
    );
    assert!(!out.exists());
    let explain = explain_route::Args {
        dir: conf,
        labels: vec!["tenant=t".into()],
    };
    assert_eq!(explain_route::run(explain).unwrap(), 1);
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
