//! The integrations a tenant may use, delivered by a real Alertmanager 0.25 (Debian
//! `prometheus-alertmanager`): one tenant receiver with several integrations (webhook with
//! basic auth, telegram, discord, opsgenie, webex, victorops, each pointed at a local HTTP
//! sink through its URL field) and an override matching `team=~"db|infra"` with its own
//! webhook and bearer token. The sink records every request's path and `Authorization`
//! header; the test waits until each integration's request has arrived.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Requests = Arc<Mutex<Vec<(String, String)>>>;

/// Kills and reaps the child process on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn handle(stream: TcpStream, seen: &Requests) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (mut len, mut auth) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("authorization") {
                auth = v.trim().to_string();
            }
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let answer = r#"{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":5}}}"#;
    let mut w = stream;
    write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    seen.lock().unwrap().push((path, auth));
    Ok(())
}

fn sink() -> (u16, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Requests = Arc::default();
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = handle(stream, &s);
        }
    });
    (port, seen)
}

fn post(port: u16, path: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_integration_of_a_tenant_receiver_is_delivered() {
    let (sink_port, seen) = sink();
    let s = format!("http://127.0.0.1:{sink_port}");
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("_defaults.yaml"),
        format!(
            r#"defaults: {{mysql_connections: 80}}
routing:
  default_receiver: platform-default
  receivers:
    - {{name: platform-default, webhook_configs: [{{url: "{s}/platform-default"}}]}}
  defaults: {{group_by: [alertname, tenant], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
  guardrails: {{receiver_types: [webhook, telegram, discord, opsgenie, webex, victorops]}}
  allowed_url_patterns: ["http://127\\.0\\.0\\.1:[0-9]+/.*"]
"#
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("t.yaml"),
        format!(
            r#"tenants:
  t:
    _routing:
      receiver:
        - {{type: webhook, url: "{s}/hook", http_config: {{basic_auth: {{username: u, password: p}}}}}}
        - {{type: telegram, api_url: "{s}/tg", bot_token: "1:x", chat_id: 5, message: "{{{{ .CommonLabels.alertname }}}}"}}
        - {{type: discord, webhook_url: "{s}/discord/x"}}
        - {{type: opsgenie, api_url: "{s}/og/", api_key: k, message: "{{{{ .CommonLabels.alertname | toUpper }}}}"}}
        - {{type: webex, api_url: "{s}/webex", room_id: r, http_config: {{authorization: {{credentials: wtok}}}}}}
      overrides:
        - matchers: ['team=~"db|infra"']
          receiver: {{type: webhook, url: "{s}/team", http_config: {{bearer_token: btok}}}}
          continue: true
"#
        ),
    )
    .unwrap();
    let report = dynalert_config::load_dir(&conf, chrono::Utc::now()).unwrap();
    let errors: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(report.errors(), 0, "{errors:#?}");
    let g = dynalert_alertmanager::generate(&report.config).unwrap();
    let file = tmp.path().join("alertmanager.yml");
    std::fs::write(&file, dynalert_alertmanager::render(&g, None).unwrap()).unwrap();

    let log_path = tmp.path().join("alertmanager.log");
    let _am = Proc(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.path={}",
                tmp.path().join("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:0")
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("start Alertmanager (Debian package `prometheus-alertmanager`)"),
    );
    let mut port = 0u16;
    wait_for("Alertmanager to listen", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        port = text
            .lines()
            .filter(|l| l.contains("msg=\"Listening on\""))
            .find_map(|l| l.rsplit("127.0.0.1:").next()?.trim().parse().ok())
            .unwrap_or(0);
        port != 0
    });
    let alert = r#"[{"labels":{"alertname":"MariaDBHighConnections","tenant":"t","severity":"warning","team":"db"}}]"#;
    wait_for(
        "Alertmanager to accept alerts",
        Duration::from_secs(60),
        || post(port, "/api/v2/alerts", alert) == 200,
    );
    // Paths each integration of Alertmanager 0.25 posts to, from its configured URL.
    let expected: [(&str, &str); 6] = [
        ("/team", "Bearer btok"),
        ("/hook", "Basic dTpw"),
        ("/tg/bot1:x/sendMessage", ""),
        ("/discord/x", ""),
        ("/og/v2/alerts", "GenieKey k"),
        ("/webex", "Bearer wtok"),
    ];
    wait_for(
        "every integration's request",
        Duration::from_secs(60),
        || {
            let got = seen.lock().unwrap();
            expected
                .iter()
                .all(|(p, _)| got.iter().any(|(path, _)| path == p))
        },
    );
    let got = seen.lock().unwrap().clone();
    for (path, auth) in expected {
        if !auth.is_empty() {
            assert!(
                got.iter().any(|(p, a)| p == path && a == auth),
                "`{path}` without `Authorization: {auth}`: {got:?}"
            );
        }
    }
    // The tenant's alert never reached the platform default receiver.
    assert!(
        !got.iter().any(|(p, _)| p == "/platform-default"),
        "{got:?}"
    );
}
