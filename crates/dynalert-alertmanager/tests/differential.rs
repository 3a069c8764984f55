//! Differential test against the real `amtool check-config`: 2,000 seeded random and
//! hostile conf.d directories (tenant `_routing` with every integration type, several
//! integrations, `http_config`, `*_file` secrets, template text, label matchers, time
//! intervals, silent mode, maintenance, platform `routing:` blocks with odd receivers and
//! limits). For each one:
//! * every error the loader reports names its file, line and column;
//! * when the platform files are valid, the file generated from the tenants that were
//!   accepted (rejected tenants fall back to the default receiver) is accepted by
//!   Alertmanager's own parser.
//!
//! The amtool calls are batched (many files per invocation) to keep the test fast.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Small deterministic generator (xorshift64*), so a failure is reproducible by seed.
/// `tame`: `pick` returns the first item (the lists start with a valid value), so a
/// share of the tenants is valid as a whole and its new features reach accepted files.
struct Rng(u64, bool);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = self.below(items.len());
        if self.1 {
            items[0]
        } else {
            items[i]
        }
    }
}

const URLS: &[&str] = &[
    "https://hooks.example.com/T0/B1/xyz",
    "http://127.0.0.1:5001/ok",
    "http://hooks.example.com:8080/a%20b?q=1#f",
    "https://user:pw@hooks.example.com/x",
    "http://[2001:db8::1]:9000/x",
    "http:///x",
    "http://exa mple.com/",
    "http://[::1/",
    "https://h.example/%zz",
    "http://h.example/a\tb",
    "http://h.example:99999/",
    "http://h.example:port/",
    "ftp://h.example/",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/x",
    "http://localhost:9093/",
    "http://2130706433/",
    "http://h.exa^mple/",
    "https://hooks.example.com/\u{7f}",
    "http://[::ffff:127.0.0.1]/",
    "http://h.example/%",
    "",
    "//h.example/x",
];

const DURATIONS: &[&str] = &[
    "30s",
    "0s",
    "1s",
    "5m",
    "1h",
    "4h",
    "72h",
    "2600000h",
    "-5m",
    "5",
    "1y",
    "5 m",
    "1h30m",
    "0",
    "9999999999999h",
    "720h",
    "10d",
];

const LABELS: &[&str] = &[
    "alertname",
    "tenant",
    "severity",
    "instance",
    "...",
    "0bad",
    "bad-label",
    "",
    "__name__",
    "ünï",
];

const SMARTHOSTS: &[&str] = &[
    "smtp.example.com:587",
    "smtp.example.com",
    ":25",
    "[2001:db8::1]:25",
    "smtp.example.com:",
    "::1:25",
    "smtp example.com:25",
];

const CRONS: &[&str] = &[
    "0 2 * * sun",
    "30 23 * * 1-5",
    "0 0 1 * *",
    "0 23 31 * *",
    "*/15 * * * *",
    "0 2 L * *",
    "0 2 * * sun#2",
    "0 12 * jan,jul mon",
    "0 2 * *",
    "61 2 * * *",
];

const TIMEZONES: &[&str] = &["UTC", "Asia/Taipei", "America/New_York", "Mars/Base"];

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Template text: valid, invalid, and valid only in a newer Go (checked by the real parser
/// in `templates_parse_like_alertmanager`).
const TEMPLATES: &[&str] = &[
    "{{ .CommonLabels.alertname }}",
    "{{ range .Alerts }}{{ .Labels.instance }} {{ end }}",
    "{{ if eq .Status \"firing\" }}FIRING{{ else }}ok{{ end }}",
    "{{ .CommonLabels.alertname | toUpper }}",
    "{{ template \"slack.default.title\" . }}",
    "plain text",
    "{{ .Status ",
    "{{ nosuch . }}",
    "{{ end }}",
    "{{ $x }}",
    "{{ with .X }}{{ else with .Y }}{{ end }}",
    "{{ if .X }}unclosed",
    "{{ \"a\\q\" }}",
];

/// Paths inside the tenant's own directory come up more often than the hostile ones, so
/// that accepted files carry every `*_file` field often enough to be checked by amtool.
const SECRET_FILES: &[&str] = &[
    "/etc/am/tenant-secrets/{id}/key",
    "/etc/am/tenant-secrets/{id}/token",
    "/etc/am/tenant-secrets/{id}/password",
    "/etc/am/tenant-secrets/{id}/sub/key",
    "/etc/am/tenant-secrets/other/key",
    "/etc/am/tenant-secrets/{id}/../other/key",
    "/etc/alertmanager/platform.key",
    "relative/key",
];

/// A quoted secret file path for tenant `id`.
fn secret_file(r: &mut Rng, id: &str) -> String {
    quote(&r.pick(SECRET_FILES).replace("{id}", id))
}

fn http_config(r: &mut Rng, id: &str) -> String {
    let mut parts = Vec::new();
    // `password_file` has two arms: it needs the most to line up to be accepted (a secret
    // directory on the platform, a path inside it), and the test wants it in accepted files.
    match r.below(7) {
        0 => parts.push("basic_auth: {username: u, password: p}".to_string()),
        1 | 6 => parts.push(format!(
            "basic_auth: {{username: u, password_file: {}}}",
            secret_file(r, id)
        )),
        2 => parts.push("authorization: {credentials: tok}".to_string()),
        3 => parts.push(format!(
            "authorization: {{type: {}, credentials: tok}}",
            r.pick(&["Bearer", "basic", "Token"])
        )),
        4 => parts.push("bearer_token: tok".to_string()),
        _ => parts.push(format!("bearer_token_file: {}", secret_file(r, id))),
    }
    if !r.1 && r.chance(20) {
        // A second authentication method: Alertmanager refuses the file.
        parts.push("bearer_token: again".to_string());
    }
    if !r.1 && r.chance(20) {
        parts.push("basic_auth: {username: u, password: p, password_file: /x}".to_string());
    }
    if r.chance(40) {
        parts.push(format!(
            "tls_config: {{ca_file: {}, insecure_skip_verify: {}}}",
            secret_file(r, id),
            r.pick(&["false", "true", "yes"])
        ));
    }
    if r.chance(30) {
        parts.push(format!("proxy_url: {}", quote(r.pick(URLS))));
    }
    if !r.1 && r.chance(10) {
        parts.push("oauth2: {client_id: c}".to_string());
    }
    format!("{{{}}}", parts.join(", "))
}

/// Integrations Debian's Alertmanager 0.25 has beyond the four first ones.
fn new_integration(r: &mut Rng, id: &str) -> String {
    let tmpl = |r: &mut Rng| quote(r.pick(TEMPLATES));
    let mut s = match r.below(if r.1 { 8 } else { 9 }) {
        0 => format!(
            "{{type: opsgenie, api_key: k, message: {}, priority: P1",
            tmpl(r)
        ),
        1 => format!("{{type: opsgenie, api_key_file: {}", secret_file(r, id)),
        2 => format!(
            "{{type: telegram, bot_token: \"1:x\", chat_id: {}, parse_mode: {}, message: {}",
            r.pick(&["-100123", "42", "x", "1.5"]),
            r.pick(&["HTML", "Markdown", "html", "\"\""]),
            tmpl(r)
        ),
        3 => format!(
            "{{type: discord, webhook_url: {}, title: {}",
            quote(r.pick(URLS)),
            tmpl(r)
        ),
        4 => format!(
            "{{type: webex, room_id: r1{}",
            if r.1 || r.chance(80) {
                ", http_config: {authorization: {credentials: tok}}"
            } else {
                ""
            }
        ),
        5 => format!(
            "{{type: sns, {}, subject: {}, sigv4: {{region: us-east-1, access_key: a, secret_key: b}}",
            r.pick(&[
                "topic_arn: \"arn:aws:sns:us-east-1:1:t\"",
                "phone_number: \"+15550100\"",
                "topic_arn: \"arn:aws:sns:us-east-1:1:t\", phone_number: \"+1\"",
                "target_arn: \"arn:aws:sns:us-east-1:1:e\""
            ]),
            tmpl(r)
        ),
        6 => format!(
            "{{type: victorops, {}{}",
            r.pick(&["api_key: k", "api_key_file: /etc/am/tenant-secrets/x/k", ""]),
            if r.1 || r.chance(80) { ", routing_key: rk" } else { "" }
        ),
        7 => format!(
            "{{type: pushover, user_key: u{}, title: {}",
            if r.1 || r.chance(85) { ", token: t" } else { "" },
            tmpl(r)
        ),
        _ => format!(
            "{{type: {}, webhook_url: \"https://hooks.example.com/x\"",
            r.pick(&["msteams", "opsgenei"])
        ),
    };
    if r.chance(25) {
        s += &format!(", http_config: {}", http_config(r, id));
    }
    s + "}"
}

fn receiver(r: &mut Rng, id: &str) -> String {
    if r.chance(15) {
        let n = 1 + r.below(4);
        let items: Vec<String> = (0..n).map(|_| one_receiver(r, id)).collect();
        return format!("[{}]", items.join(", "));
    }
    one_receiver(r, id)
}

fn one_receiver(r: &mut Rng, id: &str) -> String {
    if r.chance(35) {
        return new_integration(r, id);
    }
    match r.below(if r.1 { 5 } else { 6 }) {
        0 | 1 => {
            let mut s = format!("{{type: webhook, url: {}", quote(r.pick(URLS)));
            if r.chance(30) {
                s += &format!(
                    ", send_resolved: {}",
                    r.pick(&["true", "false", "yes", "'no'"])
                );
            }
            if r.chance(20) {
                s += &format!(", max_alerts: {}", r.pick(&["0", "5", "-1", "x"]));
            }
            if r.chance(30) {
                s += &format!(", http_config: {}", http_config(r, id));
            }
            s + "}"
        }
        2 => format!(
            "{{type: email, to: {}, from: am@example.com, smarthost: {}, auth_password: hunter2}}",
            quote(r.pick(&["team@example.com", "", "a@b"])),
            quote(r.pick(SMARTHOSTS))
        ),
        3 => format!(
            "{{type: slack, {}, channel: {}, title: {}}}",
            if r.chance(25) {
                format!("api_url_file: {}", secret_file(r, id))
            } else {
                format!("api_url: {}", quote(r.pick(URLS)))
            },
            quote(r.pick(&["#ops", "", "ops"])),
            quote(r.pick(TEMPLATES))
        ),
        4 => format!(
            "{{type: pagerduty, {}}}",
            r.pick(&[
                "routing_key: \"0123456789abcdef\"",
                "routing_key: \"\"",
                "routing_key: k",
                "routing_key_file: /etc/am/tenant-secrets/t0/pd",
                "routing_key: k, routing_key_file: /etc/am/tenant-secrets/t0/pd"
            ])
        ),
        _ => format!(
            "{{type: {}, url: {}}}",
            r.pick(&["webhok", "msteams", "opsgenie", "Webhook"]),
            quote(r.pick(URLS))
        ),
    }
}

fn timestamp(r: &mut Rng) -> String {
    let base = chrono::Utc::now();
    let offset = chrono::Duration::minutes(r.below(60 * 24 * 400) as i64 - 60 * 24 * 30);
    match r.below(8) {
        0 => "not-a-date".into(),
        1 => "2026-02-30T00:00:00Z".into(),
        _ => (base + offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

fn tenant(r: &mut Rng, id: &str) -> String {
    r.1 = r.chance(50);
    let s = tenant_text(r, id);
    r.1 = false;
    s
}

fn tenant_text(r: &mut Rng, id: &str) -> String {
    let mut s = format!("tenants:\n  {id}:\n    mysql_connections: 90\n");
    if !r.1 && r.chance(30) {
        s += &format!(
            "    _metadata: {{tier: {}}}\n",
            r.pick(&["vip", "gold", "standard", "VIP"])
        );
    }
    if r.chance(30) {
        s += &format!(
            "    _silent_mode: {{target: {}{}}}\n",
            r.pick(&["warning", "critical", "all", "everything"]),
            if r.chance(60) {
                format!(", expires: {}", quote(&timestamp(r)))
            } else {
                String::new()
            }
        );
    }
    if r.chance(30) {
        let mut m = Vec::new();
        if r.chance(50) {
            m.push(format!("start: {}", quote(&timestamp(r))));
        }
        if r.chance(60) {
            m.push(format!("expires: {}", quote(&timestamp(r))));
        }
        if r.chance(50) {
            m.push(format!(
                "recurring: [{{cron: {}, duration: {}, timezone: {}}}]",
                quote(r.pick(CRONS)),
                r.pick(&["2h", "30m", "26h", "9d", "0s", "xx"]),
                r.pick(TIMEZONES)
            ));
        }
        s += &format!("    _state_maintenance: {{{}}}\n", m.join(", "));
    }
    if r.chance(10) {
        s += "    _severity_dedup: disable\n";
    }
    if r.chance(85) {
        s += "    _routing:\n";
        if r.chance(85) {
            s += &format!("      receiver: {}\n", receiver(r, id));
        }
        if r.chance(40) {
            let n = 1 + r.below(4);
            let labels: Vec<String> = (0..n).map(|_| quote(r.pick(LABELS))).collect();
            s += &format!("      group_by: [{}]\n", labels.join(", "));
        }
        for key in ["group_wait", "group_interval", "repeat_interval"] {
            if r.chance(25) {
                s += &format!("      {key}: {}\n", quote(r.pick(DURATIONS)));
            }
        }
        let intervals = r.1 || r.chance(30);
        if intervals {
            s += &format!(
                "      time_intervals:\n        business-hours:\n          - {{weekdays: [{}], times: [{}], location: {}}}\n",
                quote(r.pick(&["monday:friday", "saturday", "mon:fri", "1:5", "friday:monday"])),
                r.pick(&[
                    "{start_time: \"09:00\", end_time: \"17:00\"}",
                    "{start_time: \"09:00\", end_time: \"12:00\"}, {start_time: \"13:00\", end_time: \"24:00\"}",
                    "{start_time: \"17:00\", end_time: \"09:00\"}",
                    "{start_time: \"9:00\", end_time: \"17:00\"}",
                    "{start_time: \"09:00\", end_time: \"24:01\"}"
                ]),
                r.pick(&["Europe/Berlin", "UTC", "Asia/Taipei", "Mars/Base", "Local"])
            );
            if r.chance(50) {
                s += &format!(
                    "        month-end:\n          - {{days_of_month: [{}], months: [{}], years: [{}]}}\n",
                    quote(r.pick(&["-3:-1", "1:15", "25:31", "0", "-1:5", "32"])),
                    quote(r.pick(&["january:march", "12", "dec", "13"])),
                    quote(r.pick(&["2026:2030", "2030", "2030:2026"]))
                );
            }
        }
        if r.chance(40) {
            s += "      overrides:\n";
            for _ in 0..1 + r.below(3) {
                let mut o = Vec::new();
                if r.chance(70) {
                    o.push(format!(
                        "alertname: {}",
                        quote(r.pick(&[
                            "MariaDBHighConnections",
                            "A\"B",
                            "x\\y",
                            "MariaDBDown",
                            ""
                        ]))
                    ));
                }
                if r.chance(40) {
                    o.push(format!(
                        "severity: {}",
                        r.pick(&["critical", "warning", "page"])
                    ));
                }
                if r.chance(40) {
                    let n = 1 + r.below(3);
                    let ms: Vec<String> = (0..n)
                        .map(|_| {
                            // Valid matchers first: a tame tenant picks among those five.
                            const VALID: usize = 5;
                            let i = r.below(VALID);
                            if r.1 {
                                return quote(
                                    [
                                        "team=db",
                                        "team=~\"db|infra\"",
                                        "env!=dev",
                                        "instance!~\"10\\\\..*\"",
                                        "x=~\"\\\\d+\"",
                                    ][i],
                                );
                            }
                            quote(r.pick(&[
                                "team=db",
                                "team=~\"db|infra\"",
                                "env!=dev",
                                "instance!~\"10\\\\..*\"",
                                "job=~\"(a|b\"",
                                "0bad=x",
                                "team~db",
                                "tenant=t9",
                                "scope!=platform",
                                "x=~\"(?<n>a)\"",
                                "x=~\"\\\\d+\"",
                                "quoted=\"a\\\"b\"",
                            ]))
                        })
                        .collect();
                    o.push(format!("matchers: [{}]", ms.join(", ")));
                }
                if r.chance(20) {
                    o.push(format!(
                        "group_by: [{}]",
                        r.pick(&["alertname, team", "alertname, alertname", "..."])
                    ));
                }
                if r.chance(20) {
                    o.push(format!("group_wait: {}", quote(r.pick(DURATIONS))));
                }
                if r.chance(25) {
                    o.push(format!("continue: {}", r.pick(&["true", "false", "yes"])));
                }
                if r.chance(30) {
                    o.push(format!(
                        "{}: [{}]",
                        r.pick(&["active_time_intervals", "mute_time_intervals"]),
                        r.pick(&["business-hours", "month-end", "nosuch"])
                    ));
                }
                o.push(format!("receiver: {}", receiver(r, id)));
                s += &format!("        - {{{}}}\n", o.join(", "));
            }
        }
    }
    s
}

fn platform(r: &mut Rng, sink: &str) -> String {
    let hostile = r.chance(25);
    let url = |r: &mut Rng, name: &str| {
        if hostile && r.chance(30) {
            quote(r.pick(URLS))
        } else {
            quote(&format!("{sink}/{name}"))
        }
    };
    let mut s = String::from("defaults: {mysql_connections: 80}\nrouting:\n  default_receiver: platform-default\n  receivers:\n");
    for name in ["platform-default", "noc", "vip-pager"] {
        s += &format!(
            "    - name: {name}\n      webhook_configs:\n        - url: {}\n",
            url(r, name)
        );
        if hostile && r.chance(15) {
            s += &format!(
                "          send_resolved: {}\n",
                r.pick(&["yes", "on", "true"])
            );
        }
        if hostile && r.chance(10) {
            s += "          <<: {max_alerts: 1}\n";
        }
    }
    if hostile && r.chance(20) {
        s += &format!(
            "    - {{name: mail, email_configs: [{{to: a@example.com, from: b@example.com, smarthost: {}}}]}}\n",
            quote(r.pick(SMARTHOSTS))
        );
    }
    if r.chance(80) {
        s += "  enforced: {receiver: noc, severities: [critical]}\n";
    }
    if r.chance(80) {
        s += &format!(
            "  tiers:\n    vip: {{receiver: {}, severities: [critical]}}\n",
            if hostile && r.chance(20) {
                "vip-pagr"
            } else {
                "vip-pager"
            }
        );
    }
    if r.chance(60) {
        s += &format!(
            "  defaults: {{group_by: [{}], group_wait: {}, repeat_interval: {}}}\n",
            if hostile && r.chance(30) {
                "alertname, alertname"
            } else {
                "alertname, tenant"
            },
            quote(if hostile {
                r.pick(DURATIONS)
            } else {
                r.pick(&["10s", "30s", "1m"])
            }),
            quote(if hostile {
                r.pick(DURATIONS)
            } else {
                r.pick(&["1h", "4h", "24h"])
            })
        );
    }
    if r.chance(40) {
        s += "  guardrails: {group_wait: {min: 1s, max: 5m}, repeat_interval: {min: 1m, max: 72h}, receiver_types: [webhook, email, slack, pagerduty]}\n";
    } else if r.chance(70) {
        s += &format!(
            "  guardrails: {{receiver_types: [webhook, email, slack, pagerduty, opsgenie, telegram, discord, webex, sns, victorops, pushover{}]}}\n",
            if hostile && r.chance(20) { ", msteams" } else { "" }
        );
    }
    if r.chance(60) {
        s += &format!(
            "  tenant_secret_dir: {}\n",
            if hostile && r.chance(20) {
                "etc/am/../x"
            } else {
                "/etc/am/tenant-secrets"
            }
        );
    }
    if r.chance(30) {
        s += &format!(
            "  limits: {{overrides: {}, integrations: {}, template_bytes: {}}}\n",
            r.pick(&["1", "2", "20"]),
            r.pick(&["1", "2", "5"]),
            r.pick(&["20", "4096", "-1"])
        );
    }
    if r.chance(20) {
        s += "  tenant_limits: {t0: {overrides: 3, matchers: 1}}\n";
    }
    if r.chance(50) {
        s += "  allowed_url_patterns: [\"http://127\\\\.0\\\\.0\\\\.1:[0-9]+/.*\", \"https://hooks\\\\.example\\\\.com/.*\"]\n";
    }
    s
}

fn amtool_check(files: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let out = Command::new("amtool")
        .arg("check-config")
        .args(files)
        .output()
        .expect("amtool (Debian package `prometheus-alertmanager`)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let mut failed = Vec::new();
    // amtool prints `Checking '<file>'  SUCCESS` or `Checking '<file>'  FAILED: <why>`.
    for f in files {
        let needle = format!("Checking '{}'", f.display());
        let line = text
            .lines()
            .find(|l| l.starts_with(&needle))
            .unwrap_or_default();
        if !line.contains("SUCCESS") {
            failed.push((f.clone(), line.to_string()));
        }
    }
    if failed.is_empty() {
        assert!(
            out.status.success(),
            "amtool failed without naming a file:\n{text}"
        );
    }
    failed
}

/// Parts of the generated file that must appear in accepted files.
const COVERED: [&str; 16] = [
    "opsgenie_configs",
    "telegram_configs",
    "discord_configs",
    "webex_configs",
    "sns_configs",
    "victorops_configs",
    "pushover_configs",
    "http_config",
    "password_file",
    "api_url_file",
    "active_time_intervals",
    "team=~",
    "env!=",
    "instance!~",
    "tenant-t0/business-hours",
    "{{",
];

#[test]
fn every_generated_file_passes_amtool_and_every_rejection_is_located() {
    const CASES: usize = 2000;
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut files = Vec::new();
    let (mut rejected_platforms, mut rejected_tenants, mut generated) = (0, 0, 0);
    let mut covered = [0usize; COVERED.len()];
    for case in 0..CASES {
        let seed = 0x9e37_79b9_7f4a_7c15 ^ (case as u64 + 1);
        let mut r = Rng(seed, false);
        let conf = tmp.path().join(format!("c{case}"));
        std::fs::create_dir(&conf).unwrap();
        std::fs::write(
            conf.join("_defaults.yaml"),
            platform(&mut r, "http://127.0.0.1:5001"),
        )
        .unwrap();
        for t in 0..1 + r.below(4) {
            let id = format!("t{t}");
            std::fs::write(conf.join(format!("{id}.yaml")), tenant(&mut r, &id)).unwrap();
        }
        let report = dynalert_config::load_dir(&conf, chrono::Utc::now()).unwrap();
        for d in report.diagnostics.iter().filter(|d| d.is_error()) {
            assert!(
                d.pos.line >= 1 && d.pos.col >= 1 && Path::new(&*d.file).starts_with(&conf),
                "seed {seed:#x}: unlocated error {d}"
            );
        }
        rejected_tenants += report.tenant_valid.values().filter(|ok| !**ok).count();
        if !report.platform_valid || report.config.platform.routing.is_none() {
            rejected_platforms += 1;
            continue;
        }
        // As `dynalert alertmanager` does: rejected tenants keep the platform's copies.
        let rejected: Vec<&str> = report
            .tenant_valid
            .iter()
            .filter(|(_, ok)| !**ok)
            .map(|(id, _)| id.as_str())
            .collect();
        let config = dynalert_alertmanager::with_rejected(&report.config, &rejected);
        let g = dynalert_alertmanager::generate(&config)
            .unwrap_or_else(|e| panic!("seed {seed:#x}: {e}"));
        let text = dynalert_alertmanager::render(&g, None).unwrap();
        for (n, needle) in COVERED.iter().enumerate() {
            if text.contains(needle) {
                covered[n] += 1;
            }
        }
        let file = out_dir.join(format!("case-{case}-seed-{seed:x}.yml"));
        std::fs::write(&file, text).unwrap();
        files.push(file);
        generated += 1;
    }
    let mut failed = Vec::new();
    for batch in files.chunks(150) {
        failed.extend(amtool_check(batch));
    }
    if !failed.is_empty() {
        let (file, why) = &failed[0];
        panic!(
            "{} generated files rejected by amtool; first: {why}\n{}",
            failed.len(),
            std::fs::read_to_string(file).unwrap()
        );
    }
    // The generator must exercise both sides, or the test proves little.
    assert!(generated > CASES / 2, "only {generated} files generated");
    assert!(
        rejected_platforms > 20,
        "only {rejected_platforms} platforms rejected"
    );
    assert!(
        rejected_tenants > 200,
        "only {rejected_tenants} tenants rejected"
    );
    // The new inputs of tenant routing reach accepted files, not only rejections.
    for (needle, n) in COVERED.iter().zip(covered) {
        assert!(
            n >= 5,
            "only {n} accepted files contain `{needle}`: {:?}",
            COVERED.iter().zip(covered).collect::<Vec<_>>()
        );
    }
    eprintln!(
        "{CASES} cases: {generated} files accepted by amtool, {rejected_platforms} platforms and {rejected_tenants} tenant files rejected with located errors; accepted files containing {:?}: {covered:?}",
        COVERED
    );
}

/// Pieces of Go template text; joined at random they make valid and invalid templates.
const FRAGMENTS: &[&str] = &[
    "{{ .Status }}",
    "{{ .CommonLabels.alertname | toUpper }}",
    "{{ range .Alerts }}",
    "{{ range $i, $a := .Alerts }}{{ $i }}",
    "{{ if eq .Status \"firing\" }}",
    "{{ else }}",
    "{{ else if .X }}",
    "{{ with .CommonLabels }}",
    "{{ end }}",
    "{{ $x := 1 }}",
    "{{ $x }}",
    "{{ $ }}",
    "{{- \"trim\" -}}",
    "{{/* comment */}}",
    "{{- /* comment */ -}}",
    "{{ /* bad comment */ }}",
    "{{ printf \"%s-%d\" \"a\" 1 }}",
    "{{ (len .Alerts) }}",
    "{{ (len .Alerts }}",
    "{{ len .Alerts | printf \"%d\" }}",
    "{{ | len }}",
    "{{ nosuch }}",
    "{{ since . }}",
    "{{ break }}",
    "{{ continue }}",
    "{{ define \"x\" }}",
    "{{ template \"x\" . }}",
    "{{ block \"b\" . }}",
    "{{ \"unterminated }}",
    "{{ `raw` }}",
    "{{ 'c' }}",
    "{{ 0x1F }}",
    "{{ 1.5e3 }}",
    "{{-3}}",
    "{{ .Labels.a-b }}",
    "{{}}",
    "{{ if }}",
    "{{ .Status ",
    "{{ reReplaceAll \"a\" \"b\" .Status }}",
    "{{ join (stringSlice \"a\" \"b\") \",\" }}",
    "{{ match \"a\" .Status | not }}",
    "{{ safeHtml \"<b>\" | title | toLower }}",
    "text ",
    "}} ",
];

/// Whether Alertmanager's own parser (`amtool template render`) accepts `text`: it either
/// renders or fails only while executing.
fn amtool_parses(text: &str, empty: &Path) -> (bool, String) {
    let out = Command::new("amtool")
        .arg("template")
        .arg("render")
        .arg(format!("--template.glob={}", empty.display()))
        .arg(format!("--template.text={text}"))
        .output()
        .expect("amtool (Debian package `prometheus-alertmanager`)");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.success() || err.contains("executing"), err)
}

#[test]
fn templates_parse_like_alertmanager() {
    const CASES: usize = 300;
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.tmpl");
    std::fs::write(&empty, "").unwrap();
    let mut r = Rng(0x5851_f42d_4c95_7f2d, false);
    let mut accepted = 0;
    let mut mismatches = Vec::new();
    for _ in 0..CASES {
        let n = 1 + r.below(4);
        let text: String = (0..n).map(|_| r.pick(FRAGMENTS)).collect();
        let (parses, why) = amtool_parses(&text, &empty);
        let ours = dynalert_model::gotemplate::check(&text);
        accepted += usize::from(parses);
        if parses != ours.is_ok() {
            mismatches.push(format!("{text:?}: amtool {why:?}, ours {ours:?}"));
        }
    }
    let refused = CASES - accepted;
    assert!(
        mismatches.is_empty(),
        "{} of {CASES} templates judged differently:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        accepted > 30 && refused > 30,
        "{accepted} accepted, {refused} refused"
    );
    eprintln!(
        "{CASES} templates: {accepted} parsed by Alertmanager, {refused} refused, same verdicts"
    );
}
