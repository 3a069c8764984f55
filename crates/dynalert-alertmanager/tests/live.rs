//! End to end with a real Alertmanager (Debian `prometheus-alertmanager`): the generated
//! config is loaded, alerts are posted to `/api/v2/alerts`, and a webhook sink in this
//! test records what every receiver gets. Checks delivery to exactly the contract's
//! receivers, severity dedup, and silent mode muting only its tenant's target severity.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dynalert_alertmanager::{generate, render};

type Seen = Arc<Mutex<BTreeSet<(String, String, String, String)>>>;

/// Kills and reaps the child process on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn handle(mut stream: TcpStream, seen: &Seen) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut len = 0usize;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(());
    };
    let receiver = v["receiver"].as_str().unwrap_or_default().to_string();
    let mut seen = seen.lock().unwrap();
    for a in v["alerts"].as_array().into_iter().flatten() {
        let l = |k: &str| a["labels"][k].as_str().unwrap_or_default().to_string();
        seen.insert((receiver.clone(), l("tenant"), l("alertname"), l("severity")));
    }
    Ok(())
}

/// A webhook sink on 127.0.0.1 recording (receiver, tenant, alertname, severity).
fn sink() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle(stream, &s);
        }
    });
    (port, seen)
}

fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn alert(labels: &[(&str, &str)]) -> serde_json::Value {
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    serde_json::json!({ "labels": labels, "annotations": {} })
}

fn post(port: u16, alerts: &[serde_json::Value]) {
    let body = serde_json::Value::Array(alerts.to_vec()).to_string();
    let code = http(port, "POST", "/api/v2/alerts", &body).unwrap();
    assert_eq!(code, 200, "posting alerts");
}

fn binary() -> &'static str {
    for b in ["alertmanager", "prometheus-alertmanager"] {
        if Command::new(b).arg("--version").output().is_ok() {
            return b;
        }
    }
    panic!("no Alertmanager binary: install the Debian package `prometheus-alertmanager`");
}

fn write_conf(dir: &Path, sink: u16) {
    let url = |p: &str| format!("http://127.0.0.1:{sink}/{p}");
    let platform = format!(
        r#"defaults: {{mysql_connections: 80}}
routing:
  default_receiver: platform-default
  receivers:
    - {{name: platform-default, webhook_configs: [{{url: "{}"}}]}}
    - {{name: noc, webhook_configs: [{{url: "{}"}}]}}
    - {{name: vip-pager, webhook_configs: [{{url: "{}"}}]}}
  enforced: {{receiver: noc, severities: [critical]}}
  tiers:
    vip: {{receiver: vip-pager, severities: [critical]}}
  defaults: {{group_by: [alertname, tenant], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
  guardrails: {{group_wait: {{min: 1s, max: 1m}}, group_interval: {{min: 1s, max: 1m}}}}
  allowed_url_patterns: ["http://127\\.0\\.0\\.1:[0-9]+/.*"]
"#,
        url("platform-default"),
        url("noc"),
        url("vip-pager")
    );
    std::fs::write(dir.join("_defaults.yaml"), platform).unwrap();
    std::fs::write(
        dir.join("_tenancy.yaml"),
        "tenancy:\n  vip: {tier: vip}\n  std: {tier: standard}\n",
    )
    .unwrap();
    let tenant = |id: &str, extra: &str| {
        let text = format!(
            "tenants:\n  {id}:\n{extra}    _routing:\n      receiver: {{type: webhook, url: \"{}\"}}\n      group_wait: 1s\n",
            url(id)
        );
        std::fs::write(dir.join(format!("{id}.yaml")), text).unwrap();
    };
    tenant("vip", "    _metadata: {tier: vip}\n");
    tenant("silent", "    _silent_mode: {target: warning}\n");
    tenant("nodedup", "    _severity_dedup: disable\n");
    let std_tenant = format!(
        "tenants:\n  std:\n    _metadata: {{tier: standard}}\n    _routing:\n      receiver: {{type: webhook, url: \"{}\"}}\n      overrides:\n        - {{alertname: Special, receiver: {{type: webhook, url: \"{}\"}}}}\n",
        url("std"),
        url("std-special")
    );
    std::fs::write(dir.join("std.yaml"), std_tenant).unwrap();
    std::fs::write(
        dir.join("none.yaml"),
        "tenants:\n  none:\n    mysql_connections: 90\n",
    )
    .unwrap();
}

#[test]
fn real_alertmanager_delivers_to_exactly_the_contract_receivers() {
    let (sink_port, seen) = sink();
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    write_conf(&conf, sink_port);
    let report = dynalert_config::load_dir(&conf, chrono::Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let text = render(&generate(&report.config).unwrap(), None).unwrap();
    let config = tmp.path().join("alertmanager.yml");
    std::fs::write(&config, &text).unwrap();

    let port = free_port();
    let log = std::fs::File::create(tmp.path().join("alertmanager.log")).unwrap();
    let _am = Proc(
        Command::new(binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                tmp.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start Alertmanager"),
    );
    wait_for("Alertmanager to be ready", Duration::from_secs(60), || {
        http(port, "GET", "/-/ready", "").is_ok_and(|c| c == 200)
    });

    // Inhibiting alerts first: the silent-mode sentinel and the critical halves of dedup pairs.
    post(
        port,
        &[
            alert(&[
                ("alertname", "TenantSilentModeActive"),
                ("tenant", "silent"),
                ("target_severity", "warning"),
                ("severity", "none"),
                ("scope", "platform"),
            ]),
            alert(&[
                ("alertname", "HighB"),
                ("tenant", "std"),
                ("severity", "critical"),
            ]),
            alert(&[
                ("alertname", "HighC"),
                ("tenant", "nodedup"),
                ("severity", "critical"),
            ]),
        ],
    );
    post(
        port,
        &[
            alert(&[
                ("alertname", "HighA"),
                ("tenant", "vip"),
                ("severity", "critical"),
            ]),
            alert(&[
                ("alertname", "HighA"),
                ("tenant", "std"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "HighB"),
                ("tenant", "std"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "HighC"),
                ("tenant", "nodedup"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "HighD"),
                ("tenant", "silent"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "HighE"),
                ("tenant", "silent"),
                ("severity", "critical"),
            ]),
            alert(&[
                ("alertname", "HighD"),
                ("tenant", "std"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "TenantConfigRejected"),
                ("tenant", "silent"),
                ("severity", "warning"),
                ("scope", "platform"),
            ]),
            alert(&[
                ("alertname", "HighF"),
                ("tenant", "none"),
                ("severity", "warning"),
            ]),
            alert(&[
                ("alertname", "Special"),
                ("tenant", "std"),
                ("severity", "warning"),
            ]),
        ],
    );

    // Written from the contract: enforced copy, tier copy, override, own receiver, default.
    let mut expected: BTreeSet<(String, String, String, String)> = [
        ("noc", "vip", "HighA", "critical"),
        ("vip-pager", "vip", "HighA", "critical"),
        ("tenant-vip", "vip", "HighA", "critical"),
        ("tenant-std", "std", "HighA", "warning"),
        ("noc", "std", "HighB", "critical"),
        ("tenant-std", "std", "HighB", "critical"), // the warning is inhibited by the critical
        ("noc", "nodedup", "HighC", "critical"),
        ("tenant-nodedup", "nodedup", "HighC", "critical"),
        ("tenant-nodedup", "nodedup", "HighC", "warning"), // dedup disabled
        ("noc", "silent", "HighE", "critical"),            // silent mode mutes warnings only
        ("tenant-silent", "silent", "HighE", "critical"),
        ("tenant-std", "std", "HighD", "warning"), // another tenant's silent mode does not mute it
        (
            "platform-default",
            "silent",
            "TenantConfigRejected",
            "warning",
        ), // platform alerts never muted
        ("platform-default", "none", "HighF", "warning"),
        ("tenant-std-1", "std", "Special", "warning"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    wait_for(
        "every expected notification",
        Duration::from_secs(120),
        || seen.lock().unwrap().is_superset(&expected),
    );

    // A marker posted last is flushed after everything above: once it arrives, nothing
    // else (an inhibited warning, a cross-tenant copy) can still be on its way.
    post(
        port,
        &[alert(&[
            ("alertname", "Marker"),
            ("tenant", "none"),
            ("severity", "warning"),
        ])],
    );
    let marker = (
        "platform-default".to_string(),
        "none".to_string(),
        "Marker".to_string(),
        "warning".to_string(),
    );
    wait_for("the marker notification", Duration::from_secs(120), || {
        seen.lock().unwrap().contains(&marker)
    });
    expected.insert(marker);
    let got = seen.lock().unwrap().clone();
    let unexpected: Vec<_> = got.difference(&expected).collect();
    assert!(
        unexpected.is_empty(),
        "unexpected notifications: {unexpected:#?}"
    );
}
