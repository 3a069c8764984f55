//! Routing validation through the loader (what `dynalert validate` reports): every
//! problem located, did-you-mean hints, no secret in any message.

use std::path::Path;

const PLATFORM: &str = r#"defaults: {mysql_connections: 80}
routing:
  default_receiver: platform-default
  receivers:
    - {name: platform-default, webhook_configs: [{url: "http://127.0.0.1:5001/x"}]}
  guardrails:
    group_wait: {min: 5s, max: 5m}
    repeat_interval: {min: 1m, max: 72h}
    receiver_types: [webhook, email, slack]
  allowed_url_patterns: ["https://hooks\\.example\\.com/.*"]
"#;

fn diagnostics(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let report = dynalert_config::load_dir(dir.path(), chrono::Utc::now()).unwrap();
    let prefix = format!("{}/", dir.path().display());
    report
        .diagnostics
        .iter()
        .map(|d| d.to_string().replace(&prefix, ""))
        .collect()
}

fn assert_has(diags: &[String], expected: &str) {
    assert!(
        diags.iter().any(|d| d == expected),
        "missing:\n{expected}\nin:\n{}",
        diags.join("\n")
    );
}

#[test]
fn tenant_routing_errors_are_located_and_complete() {
    let tenant = r##"tenants:
  t:
    _routing:
      receiver: {type: webhook, url: "https://evil.example.net/hook/SECRET-TOKEN"}
      group_wiat: 10s
      group_wait: 1s
      repeat_interval: 100h
      overrides:
        - {alertname: A, receiver: {type: webhok, url: "https://hooks.example.com/a"}}
        - {alertname: B, receiver: {type: email, to: "a@example.com"}}
        - {alertname: C, receiver: {type: pagerduty, routing_key: "k"}}
        - {receiver: {type: slack, api_url: "https://hooks.example.com/s", channel: "#c"}}
"##;
    let d = diagnostics(&[("_defaults.yaml", PLATFORM), ("t.yaml", tenant)]);
    for expected in [
        "t.yaml:4:38: error: URL `https://evil.example.net/<secret>` is outside the platform allow-list\n  \
         hint: the platform allows only URLs matching `routing.allowed_url_patterns`; ask the platform team to add it",
        "t.yaml:5:7: error: unknown key `group_wiat` in `_routing`\n  hint: did you mean `group_wait`?",
        "t.yaml:6:19: error: `group_wait` of `_routing` is `1s`, outside the platform guardrail\n  \
         hint: use a value from `5s` to `5m`",
        "t.yaml:7:24: error: `repeat_interval` of `_routing` is `100h`, outside the platform guardrail\n  \
         hint: use a value from `1m` to `72h`",
        "t.yaml:9:43: error: unknown receiver type `webhok`\n  hint: did you mean `webhook`?",
        "t.yaml:10:36: error: receiver of override 2 (`email`) is missing `from` and `smarthost`\n  \
         hint: `email` receivers need `to`, `from`, `smarthost`",
        "t.yaml:11:43: error: receiver type `pagerduty` is not allowed by the platform\n  \
         hint: allowed receiver types are `webhook`, `email`, `slack`",
        "t.yaml:12:11: error: override 4 matches nothing\n  hint: add `alertname:`, `severity:` or `matchers:`",
    ] {
        assert_has(&d, expected);
    }
    assert!(d.iter().all(|m| !m.contains("SECRET-TOKEN")), "{d:#?}");
    // `dynalert validate` prints the same diagnostics.
    assert!(
        d.iter().filter(|m| m.contains(": error: ")).count() == 8,
        "{d:#?}"
    );
}

#[test]
fn platform_routing_references_are_checked() {
    let platform = r#"routing:
  default_receiver: platfrom-default
  receivers:
    - {name: platform-default}
    - {name: tenant-x}
  enforced: {receiver: noc}
  tiers:
    vip: {receiver: platform-default, severities: [critcal]}
  defualts: {}
"#;
    let d = diagnostics(&[("_defaults.yaml", platform)]);
    for expected in [
        "_defaults.yaml:2:21: error: `default_receiver` `platfrom-default` is not a platform receiver\n  \
         hint: did you mean `platform-default`?",
        "_defaults.yaml:5:7: error: platform receiver name `tenant-x` is reserved\n  \
         hint: names `tenant-<id>`, `tenant-<id>-<n>` and `dynalert-blackhole` are generated; pick another name",
        "_defaults.yaml:6:24: error: enforced receiver `noc` is not a platform receiver\n  \
         hint: define it under `routing.receivers`",
        "_defaults.yaml:8:52: error: unknown tier `critcal` in severities of tier `vip`\n  hint: did you mean `critical`?",
        "_defaults.yaml:9:3: error: unknown key `defualts` in `routing`\n  hint: did you mean `defaults`?",
    ] {
        assert_has(&d, expected);
    }
}

#[test]
fn examples_validate_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d");
    let report = dynalert_config::load_dir(root, chrono::Utc::now()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let routing = report
        .config
        .platform
        .routing
        .as_ref()
        .expect("routing block");
    assert_eq!(routing.default_receiver, "platform-default");
    let db_a = &report.config.tenants["db-a"];
    let receiver = db_a
        .routing
        .as_ref()
        .and_then(|r| r.receiver.as_ref())
        .unwrap();
    assert_eq!(receiver.fields["url"], "http://127.0.0.1:5001/db-a");
    assert_eq!(db_a.routing.as_ref().unwrap().timings.group_wait, Some(30));
}

const OPEN_PLATFORM: &str = r#"defaults: {mysql_connections: 80}
routing:
  default_receiver: platform-default
  receivers:
    - {name: platform-default, webhook_configs: [{url: "http://hooks.example.com/x"}]}
"#;

/// Each input below passed validation before and produced a file Alertmanager rejects (or
/// reached an address the platform never allowed); each must now be a located error.
#[test]
fn inputs_alertmanager_rejects_are_located_errors() {
    let tenant = "tenants:\n  t:\n    _routing:\n      group_by: [alertname, tenant, alertname]\n      repeat_interval: 2600000h\n      overrides:\n        - {alertname: A, receiver: {type: webhook, url: \"http:///x\"}}\n        - {alertname: B, receiver: {type: webhook, url: \"http://exa mple.com/\"}}\n        - {alertname: C, receiver: {type: webhook, url: \"http://[::1/\"}}\n        - {alertname: D, receiver: {type: webhook, url: \"https://h.example/%zz\"}}\n        - {alertname: E, receiver: {type: webhook, url: \"http://h.example/a\tb\"}}\n        - {alertname: F, receiver: {type: email, to: a@example.com, from: b@example.com, smarthost: smtp.example.com}}\n        - {alertname: G, receiver: {type: webhook, url: \"http://169.254.169.254/latest\"}}\n        - {alertname: H, receiver: {type: webhook, url: \"http://[fe80::1]:80/x\"}}\n        - {alertname: I, receiver: {type: webhook, url: \"http://127.0.0.1:9093/x\"}}\n      receiver: {type: webhook, url: \"http://hooks.example.com/t\"}\n";
    let d = diagnostics(&[("_defaults.yaml", OPEN_PLATFORM), ("t.yaml", tenant)]);
    let at = |line: u32| {
        d.iter()
            .filter(|x| x.starts_with(&format!("t.yaml:{line}:")) && x.contains("error:"))
            .count()
    };
    for line in [4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15] {
        assert_eq!(at(line), 1, "line {line}:\n{}", d.join("\n"));
    }
    assert!(d.iter().any(|x| x.contains("`alertname` appears twice")));
    assert!(d.iter().any(|x| x.contains("points to a link-local")));
    assert!(d.iter().any(|x| x.contains("`smarthost` has no port")));
}

#[test]
fn the_allow_list_can_allow_a_denied_address() {
    let platform = OPEN_PLATFORM.to_string()
        + "  allowed_url_patterns: [\"http://127\\\\.0\\\\.0\\\\.1:[0-9]+/.*\"]\n";
    let tenant = "tenants:\n  t:\n    _routing: {receiver: {type: webhook, url: \"http://127.0.0.1:5001/t\"}}\n";
    let d = diagnostics(&[("_defaults.yaml", &platform), ("t.yaml", tenant)]);
    assert!(d.iter().all(|x| !x.contains("error")), "{d:#?}");
}

#[test]
fn platform_receivers_are_checked() {
    let platform = "routing:\n  default_receiver: a\n  receivers:\n    - name: a\n      webhook_configs:\n        - url: \"http:///x\"\n          send_resolved: yes\n    - name: b\n      email_configs: [{to: x@example.com, smarthost: smtp.example.com}]\n      <<: {x: 1}\n";
    let d = diagnostics(&[("_defaults.yaml", platform)]);
    for line in [6, 7, 9, 10] {
        assert!(
            d.iter()
                .any(|x| x.starts_with(&format!("_defaults.yaml:{line}:"))),
            "line {line}:\n{}",
            d.join("\n")
        );
    }
}

/// The diagnostic at `file:line:` containing `part`.
fn assert_at(diags: &[String], at: &str, part: &str) {
    assert!(
        diags.iter().any(|d| d.starts_with(at) && d.contains(part)),
        "missing at `{at}`: {part}\nin:\n{}",
        diags.join("\n")
    );
}

#[test]
fn new_tenant_routing_inputs_alertmanager_would_refuse_are_located() {
    let platform = r#"defaults: {mysql_connections: 80}
routing:
  default_receiver: platform-default
  receivers:
    - {name: platform-default, webhook_configs: [{url: "http://127.0.0.1:5001/x"}]}
  guardrails: {receiver_types: [webhook, slack, opsgenie, telegram, webex, sns]}
  allowed_url_patterns: ["https://hooks\\.example\\.com/.*"]
  tenant_secret_dir: /etc/am/secrets
  limits: {integrations: 2, template_bytes: 64}
"#;
    let tenant = r##"tenants:
  t:
    _routing:
      receiver: {type: msteams, webhook_url: "https://hooks.example.com/x"}
      time_intervals:
        office: [{weekdays: ["monday:friday"], times: [{start_time: "17:00", end_time: "09:00"}]}]
        tz: [{location: Mars/Base}]
      overrides:
        - {matchers: ['tenant=other'], receiver: {type: webhook, url: "https://hooks.example.com/a"}}
        - {matchers: ['job=~"(a"'], receiver: {type: webhook, url: "https://hooks.example.com/a"}}
        - {alertname: A, active_time_intervals: [ofice], receiver: {type: webhook, url: "https://hooks.example.com/a"}}
        - {alertname: B, receiver: {type: slack, api_url_file: /etc/am/secrets/other/k, channel: "#c"}}
        - {alertname: C, receiver: {type: slack, api_url_file: /etc/am/secrets/t/../other/k, channel: "#c"}}
        - {alertname: D, receiver: {type: telegram, bot_token: "1:x", chat_id: 5, message: "{{ .Status "}}
        - {alertname: E, receiver: {type: webex, room_id: r}}
        - {alertname: F, receiver: {type: webhook, url: "https://hooks.example.com/a", http_config: {basic_auth: {username: u, password: p}, bearer_token: b}}}
        - {alertname: G, receiver: {type: sns, topic_arn: "arn:aws:sns:us-east-1:1:t", phone_number: "+1"}}
        - {alertname: H, receiver: [{type: webhook, url: "https://hooks.example.com/a"}, {type: webhook, url: "https://hooks.example.com/b"}, {type: webhook, url: "https://hooks.example.com/c"}]}
        - {alertname: I, receiver: {type: opsgenie, api_key: k, message: "{{ range .Alerts }}{{ .Labels.alertname }} is firing, please have a look{{ end }}"}}
        - {alertname: J, receiver: {type: telegram, bot_token: "1:x", chat_id: 5, parse_mode: html}}
"##;
    let d = diagnostics(&[("_defaults.yaml", platform), ("t.yaml", tenant)]);
    for (at, part) in [
        ("t.yaml:4:", "receiver type `msteams` is not available"),
        ("t.yaml:4:", "needs Alertmanager 0.26"),
        ("t.yaml:6:", "`start_time` before `end_time`"),
        ("t.yaml:7:", "`Mars/Base` is not an IANA time zone"),
        ("t.yaml:9:", "matches `tenant`, which the platform decides"),
        ("t.yaml:10:", "invalid regular expression"),
        (
            "t.yaml:11:",
            "time interval `ofice` in `active_time_intervals`",
        ),
        (
            "t.yaml:12:",
            "outside the tenant's secret directory `/etc/am/secrets/t/`",
        ),
        ("t.yaml:13:", "outside the tenant's secret directory"),
        (
            "t.yaml:14:",
            "not a valid Alertmanager template: unclosed action",
        ),
        ("t.yaml:15:", "has no `http_config.authorization`"),
        ("t.yaml:16:", "at most one authentication method"),
        ("t.yaml:17:", "sets `topic_arn` and `phone_number`"),
        (
            "t.yaml:18:",
            "3 integrations, over the platform's limit of 2",
        ),
        ("t.yaml:19:", "over the platform's limit of 64"),
        ("t.yaml:20:", "`parse_mode` `html`"),
    ] {
        assert_at(&d, at, part);
    }
    let errors = d.iter().filter(|m| m.contains(": error: ")).count();
    assert_eq!(errors, 15, "{}", d.join("\n"));
}
