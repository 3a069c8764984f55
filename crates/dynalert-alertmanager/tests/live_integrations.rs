//! The integrations a tenant may use, delivered by a real Alertmanager 0.25 (Debian
//! `prometheus-alertmanager`): one tenant receiver with several integrations (webhook with
//! basic auth, telegram, discord, opsgenie, webex, victorops and sns, each pointed at a local
//! HTTP sink through its URL field) and an override matching `team=~"db|infra"` with its own
//! webhook and bearer token. Pushover has no URL field in 0.25 (it always posts to
//! `https://api.pushover.net/1/messages.json`), so its receiver goes through the tenant's
//! `http_config.proxy_url`: a local proxy answers the `CONNECT` and terminates TLS with a
//! certificate for `api.pushover.net` that the tenant's `tls_config.ca_file` trusts. The sink
//! records every request's host, path, `Authorization` header and body; the test waits until
//! each integration's request has arrived.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dynalert_probe::http::send_json;

/// One request seen by the sink.
#[derive(Clone, Debug)]
struct Seen {
    /// The `CONNECT` target for a request that came through the proxy, else empty.
    tunnel: String,
    path: String,
    /// The query string (pushover sends its form there).
    query: String,
    auth: String,
    body: String,
}

type Requests = Arc<Mutex<Vec<Seen>>>;

/// Answers one request on `stream` (plain or TLS) and records it.
fn serve(stream: impl Read + Write, tunnel: String, seen: &Requests) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let (line, len, auth) = common::read_head(&mut reader)?;
    let target = line.split_whitespace().nth(1).unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_string(), query.to_string());
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    // SNS (the AWS SDK) reads an XML answer; every other integration only needs a 2xx (telegram
    // parses this JSON).
    let (kind, answer) = if path.starts_with("/sns") {
        (
            "text/xml",
            "<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>",
        )
    } else {
        (
            "application/json",
            r#"{"ok":true,"status":1,"request":"r","result":{"message_id":1,"date":0,"chat":{"id":5}}}"#,
        )
    };
    let w = reader.get_mut();
    write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    w.flush()?;
    seen.lock().unwrap().push(Seen {
        tunnel,
        path,
        query,
        auth,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    Ok(())
}

/// A plain request, or a `CONNECT` tunnel whose TLS is terminated with `tls`.
fn handle(
    stream: TcpStream,
    tls: &Arc<rustls::ServerConfig>,
    seen: &Requests,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut first = [0u8; 8];
    let n = stream.peek(&mut first)?;
    if !first[..n].starts_with(b"CONNECT ") {
        return serve(stream, String::new(), seen);
    }
    let mut reader = BufReader::new(stream);
    let (line, _, _) = common::read_head(&mut reader)?;
    let target = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut stream = reader.into_inner();
    stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let conn = rustls::ServerConnection::new(tls.clone()).map_err(std::io::Error::other)?;
    serve(rustls::StreamOwned::new(conn, stream), target, seen)
}

/// The sink and proxy; `tls` serves tunnelled connections.
fn sink(tls: Arc<rustls::ServerConfig>) -> (u16, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Requests = Arc::default();
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (tls, s) = (tls.clone(), s.clone());
            std::thread::spawn(move || handle(stream, &tls, &s));
        }
    });
    (port, seen)
}

/// A TLS server configuration for `api.pushover.net`, and its certificate in PEM (which the
/// tenant's `ca_file` trusts).
fn pushover_tls() -> (Arc<rustls::ServerConfig>, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["api.pushover.net".to_string()]).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    (Arc::new(config), cert.cert.pem())
}

#[test]
fn every_integration_of_a_tenant_receiver_is_delivered() {
    let (tls, ca_pem) = pushover_tls();
    let (sink_port, seen) = sink(tls);
    let s = format!("http://127.0.0.1:{sink_port}");
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    let secrets = tmp.path().join("secrets");
    std::fs::create_dir_all(secrets.join("t")).unwrap();
    let ca_file = secrets.join("t").join("pushover-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    std::fs::write(
        conf.join("_defaults.yaml"),
        format!(
            r#"defaults: {{mysql_connections: 80}}
routing:
  default_receiver: platform-default
  receivers:
    - {{name: platform-default, webhook_configs: [{{url: "{s}/platform-default"}}]}}
  defaults: {{group_by: [alertname, tenant], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
  guardrails: {{receiver_types: [webhook, telegram, discord, opsgenie, webex, victorops, sns, pushover]}}
  allowed_url_patterns: ["http://127\\.0\\.0\\.1:[0-9]+/.*"]
  tenant_secret_dir: {secrets}
  limits: {{integrations: 8}}
"#,
            secrets = secrets.display()
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
        - {{type: victorops, api_url: "{s}/vo/", api_key: vkey, routing_key: "db-{{{{ .CommonLabels.severity }}}}"}}
        - {{type: sns, api_url: "{s}/sns", topic_arn: "arn:aws:sns:eu-west-1:123456789012:t", sigv4: {{region: eu-west-1, access_key: AKIDTENANT, secret_key: ssecret}}}}
        - {{type: pushover, user_key: ukey, token: ptoken, http_config: {{proxy_url: "{s}/", tls_config: {{ca_file: "{ca}"}}}}}}
      overrides:
        - matchers: ['team=~"db|infra"']
          receiver: {{type: webhook, url: "{s}/team", http_config: {{bearer_token: btok}}}}
          continue: true
"#,
            ca = ca_file.display()
        ),
    )
    .unwrap();
    let report = dynalert_config::load_dir(&conf, chrono::Utc::now()).unwrap();
    let errors: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(report.errors(), 0, "{errors:#?}");
    let g = dynalert_alertmanager::generate(&report.config).unwrap();
    let file = tmp.path().join("alertmanager.yml");
    std::fs::write(&file, dynalert_alertmanager::render(&g, None).unwrap()).unwrap();

    let (am, port) =
        dynalert_probe::process::start_alertmanager("prometheus-alertmanager", tmp.path(), &file)
            .unwrap();
    let alert: serde_json::Value = serde_json::from_str(
        r#"[{"labels":{"alertname":"MariaDBHighConnections","tenant":"t","severity":"warning","team":"db"}}]"#,
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v2/alerts");
    dynalert_probe::wait_for(
        "Alertmanager to accept alerts",
        Duration::from_secs(60),
        || Ok(send_json("POST", &url, &alert).ok()),
    )
    .unwrap();
    // Paths each integration of Alertmanager 0.25 posts to, from its configured URL (victorops
    // appends `<api_key>/<routing_key>`, the AWS SDK posts SNS's Publish action to the endpoint's
    // root), and the `Authorization` each sends.
    let expected: [(&str, &str); 9] = [
        ("/team", "Bearer btok"),
        ("/hook", "Basic dTpw"),
        ("/tg/bot1:x/sendMessage", ""),
        ("/discord/x", ""),
        ("/og/v2/alerts", "GenieKey k"),
        ("/webex", "Bearer wtok"),
        ("/vo/vkey/db-warning", ""),
        ("/sns/", "AWS4-HMAC-SHA256 Credential=AKIDTENANT/"),
        ("/1/messages.json", ""),
    ];
    let every = dynalert_probe::wait_for(
        "every integration's request",
        Duration::from_secs(60),
        || {
            let seen = seen.lock().unwrap();
            let all = expected
                .iter()
                .all(|(p, _)| seen.iter().any(|r| r.path == *p));
            Ok(all.then_some(()))
        },
    );
    if let Err(e) = every {
        let log = std::fs::read_to_string(am.log()).unwrap_or_default();
        panic!(
            "{e}; seen: {:#?}\nAlertmanager log:\n{log}",
            seen.lock().unwrap()
        );
    }
    let got = seen.lock().unwrap().clone();
    let one = |path: &str| got.iter().find(|r| r.path == path).unwrap();
    for (path, auth) in expected {
        assert!(
            one(path).auth.starts_with(auth),
            "`{path}` without `Authorization: {auth}…`: {got:#?}"
        );
    }
    // Pushover went through the tenant's proxy to its fixed endpoint, over TLS verified with
    // the tenant's CA, with the tenant's keys in its form (Alertmanager 0.25 sends the form as
    // the query string of its POST).
    let pushover = one("/1/messages.json");
    assert_eq!(pushover.tunnel, "api.pushover.net:443", "{pushover:?}");
    for field in ["token=ptoken", "user=ukey"] {
        assert!(
            pushover.query.split('&').any(|kv| kv == field),
            "{pushover:?}"
        );
    }
    // SNS publishes to the tenant's topic; victorops sends the alert as CRITICAL/WARNING state.
    let sns = one("/sns/");
    assert!(sns.body.contains("Action=Publish"), "{sns:?}");
    assert!(
        sns.body
            .contains("TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At"),
        "{sns:?}"
    );
    let victorops = one("/vo/vkey/db-warning");
    assert!(
        victorops.body.contains("\"message_type\":\"CRITICAL\""),
        "{victorops:?}"
    );
    // The tenant's alert never reached the platform default receiver, and nothing but pushover
    // used the proxy.
    assert!(
        !got.iter().any(|r| r.path == "/platform-default"),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .all(|r| r.tunnel.is_empty() == (r.path != "/1/messages.json")),
        "{got:#?}"
    );
}
