//! Secrets never shown: a conf.d full of known secret strings (telegram `bot_token`, email
//! `auth_password`/`auth_secret`, `bearer_token`, oauth2 `client_secret`, proxy and URL
//! credentials, tenant webhook, slack and pagerduty secrets, a tenant `http_config` password) goes through `explain-route`,
//! `alertmanager diff`, a generation, and a reload that a real Alertmanager rejects; none of
//! the secrets appears on stdout or stderr, while the generated file holds every one.

mod common;
use common::dynalert;

use std::path::{Path, PathBuf};
use std::process::Output;

use dynalert_probe::process::Guard;

const SECRETS: [&str; 18] = [
    "SECRET-BOT-1",
    "SECRET-PW-2",
    "SECRET-AS-3",
    "SECRET-URLPW-4",
    "SECRET-PATH-5",
    "SECRET-BEARER-6",
    "SECRET-PROXY-7",
    "SECRET-OAUTH-8",
    "SECRET-TENANT-9",
    "SECRET-TENANTPW-10",
    "SECRET-ROUTING-11",
    "SECRET-SLACK-12",
    "SECRET-BASEPW-13",
    "SECRET-BASEBT-14",
    "SECRET-BADPW-15",
    "SECRET-BADPATH-16",
    "SECRET-OUTSIDE-17",
    "SECRET-HTTPPW-18",
];

/// A tenant file with errors whose messages quote fields holding secrets: an unparsable
/// URL with credentials, a URL outside the allow-list, a secret of the wrong type.
const BAD_TENANT: &str = r##"tenants:
  db-b:
    _routing:
      receiver: {type: webhook, url: "https://u:SECRET-BADPW-15@exa mple.com/SECRET-BADPATH-16"}
      overrides:
        - {alertname: A, receiver: {type: slack, api_url: "https://other.example.com/SECRET-OUTSIDE-17", channel: "#x"}}
        - {alertname: B, receiver: {type: pagerduty, routing_key: ["SECRET-BADPW-15"]}}
"##;

fn platform(noc: &str) -> String {
    format!(
        r#"defaults: {{mysql_connections: 80}}
routing:
  default_receiver: platform-default
  receivers:
    - name: platform-default
      webhook_configs:
        - url: "http://user:SECRET-URLPW-4@127.0.0.1:5001/SECRET-PATH-5"
          http_config: {{bearer_token: "SECRET-BEARER-6", proxy_url: "http://pu:SECRET-PROXY-7@127.0.0.1:3128"}}
        - url: "http://127.0.0.1:5001/oauth"
          http_config: {{oauth2: {{client_id: c, client_secret: "SECRET-OAUTH-8", token_url: "http://127.0.0.1:1/token"}}}}
    - name: {noc}
      telegram_configs: [{{bot_token: "SECRET-BOT-1", chat_id: 1}}]
    - name: vip-pager
      email_configs: [{{to: a@example.com, from: b@example.com, smarthost: "smtp.example.com:587", auth_username: u, auth_password: "SECRET-PW-2", auth_secret: "SECRET-AS-3"}}]
  enforced: {{receiver: {noc}, severities: [critical]}}
  tiers:
    vip: {{receiver: vip-pager, severities: [critical]}}
  allowed_url_patterns: ["https://hooks\\.example\\.com/.*"]
"#
    )
}

const TENANT: &str = r##"tenants:
  db-a:
    _metadata: {tier: vip}
    _routing:
      receiver: {type: webhook, url: "https://hooks.example.com/SECRET-TENANT-9"}
      overrides:
        - {alertname: Mail, receiver: {type: email, to: t@example.com, from: am@example.com, smarthost: "smtp.example.com:587", auth_password: "SECRET-TENANTPW-10"}}
        - {alertname: Page, receiver: {type: pagerduty, routing_key: "SECRET-ROUTING-11"}}
        - {alertname: Chat, receiver: {type: slack, api_url: "https://hooks.example.com/SECRET-SLACK-12", channel: "#db"}}
        - {alertname: Hook, receiver: {type: webhook, url: "https://hooks.example.com/h", http_config: {basic_auth: {username: u, password: "SECRET-HTTPPW-18"}}}}
"##;

const BASE: &str = r#"receivers:
  - name: base-hook
    webhook_configs:
      - url: "http://127.0.0.1:5001/base"
        http_config: {basic_auth: {username: u, password: "SECRET-BASEPW-13"}, bearer_token: "SECRET-BASEBT-14"}
"#;

fn conf(dir: &Path, noc: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("_defaults.yaml"), platform(noc)).unwrap();
    std::fs::write(dir.join("_tenancy.yaml"), "tenancy:\n  db-a: {tier: vip}\n").unwrap();
    std::fs::write(dir.join("db-a.yaml"), TENANT).unwrap();
    dir.to_path_buf()
}

/// A real Alertmanager on `127.0.0.1:0`; the port is read back from its log.
fn alertmanager(dir: &Path, config: &Path) -> (Guard, u16) {
    dynalert_probe::process::start_alertmanager("prometheus-alertmanager", dir, config).unwrap()
}

fn shown(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn no_secret_in_explain_diff_generation_or_failed_reload() {
    let tmp = tempfile::tempdir().unwrap();
    let old = conf(&tmp.path().join("old"), "noc");
    let new = conf(&tmp.path().join("new"), "noc-telegram");
    let (old_s, new_s) = (old.to_str().unwrap(), new.to_str().unwrap());
    let mut outputs = Vec::new();

    for labels in [
        "tenant=db-a,severity=critical,alertname=X",
        "tenant=db-a,severity=critical,alertname=Mail",
        "tenant=db-a,severity=warning,alertname=Page",
        "tenant=db-a,severity=warning,alertname=Chat",
        "tenant=db-a,severity=warning,alertname=Hook",
        "tenant=other,severity=warning,alertname=X",
    ] {
        let out = dynalert(&["explain-route", old_s, "--labels", labels]);
        assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
        outputs.push(shown(&out));
    }
    // The receivers are explained (masked), not left out.
    let explained = outputs.join("\n");
    for part in [
        "telegram_configs",
        "auth_password",
        "bearer_token",
        "routing_key",
        "api_url",
        "basic_auth",
    ] {
        assert!(
            explained.contains(part),
            "`{part}` not explained:\n{explained}"
        );
    }

    // The platform receiver renamed in `new`: diff prints both versions (masked).
    let out = dynalert(&["alertmanager", "diff", old_s, new_s]);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(shown(&out).contains("bot_token"), "{}", shown(&out));
    outputs.push(shown(&out));

    // Generation: the file holds the secrets (Alertmanager needs them), messages do not.
    let am_file = tmp.path().join("alertmanager.yml");
    let out = dynalert(&["alertmanager", old_s, "--output", am_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    outputs.push(shown(&out));
    let generated = std::fs::read_to_string(&am_file).unwrap();
    for s in SECRETS.iter().take(12).chain(&SECRETS[17..]) {
        assert!(generated.contains(s), "{s} missing from the generated file");
    }

    // A reload the real Alertmanager rejects (two auth methods in a base receiver).
    let (_am, port) = alertmanager(tmp.path(), &am_file);
    let base = tmp.path().join("base.yml");
    std::fs::write(&base, BASE).unwrap();
    let before = std::fs::read_to_string(&am_file).unwrap();
    let out = dynalert(&[
        "alertmanager",
        old_s,
        "--base",
        base.to_str().unwrap(),
        "--output",
        am_file.to_str().unwrap(),
        "--reload-url",
        &format!("http://127.0.0.1:{port}"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
    assert!(shown(&out).contains("reload"), "{}", shown(&out));
    assert_eq!(
        std::fs::read_to_string(&am_file).unwrap(),
        before,
        "previous file not restored"
    );
    outputs.push(shown(&out));

    // Log output of rejected input: validation errors, generation warnings, explain-route.
    std::fs::write(old.join("db-b.yaml"), BAD_TENANT).unwrap();
    let isolated = tmp.path().join("isolated.yml");
    for args in [
        vec!["validate", old_s],
        vec![
            "alertmanager",
            old_s,
            "--output",
            isolated.to_str().unwrap(),
        ],
        vec![
            "explain-route",
            old_s,
            "--labels",
            "tenant=db-b,severity=critical",
        ],
        vec!["alertmanager", "diff", new_s, old_s],
    ] {
        let out = dynalert(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", shown(&out));
        assert!(
            shown(&out).contains("db-b.yaml:4:"),
            "{args:?}: {}",
            shown(&out)
        );
        outputs.push(shown(&out));
    }

    let all = outputs.join("\n");
    let leaked: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| all.contains(s))
        .collect();
    assert!(leaked.is_empty(), "secrets shown: {leaked:?}\n{all}");
}
