//! Differential test against the real `amtool check-config`: 1,200 seeded random and
//! hostile conf.d directories (tenant `_routing`, silent mode, maintenance, platform
//! `routing:` blocks with odd receivers). For each one:
//! * every error the loader reports names its file, line and column;
//! * when the platform files are valid, the file generated from the tenants that were
//!   accepted (rejected tenants fall back to the default receiver) is accepted by
//!   Alertmanager's own parser.
//!
//! The amtool calls are batched (many files per invocation) to keep the test fast.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Small deterministic generator (xorshift64*), so a failure is reproducible by seed.
struct Rng(u64);

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
        items[self.below(items.len())]
    }
}

const URLS: &[&str] = &[
    "http://127.0.0.1:5001/ok",
    "https://hooks.example.com/T0/B1/xyz",
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
    "0s",
    "1s",
    "30s",
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

fn receiver(r: &mut Rng) -> String {
    match r.below(6) {
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
            s + "}"
        }
        2 => format!(
            "{{type: email, to: {}, from: am@example.com, smarthost: {}, auth_password: hunter2}}",
            quote(r.pick(&["team@example.com", "", "a@b"])),
            quote(r.pick(SMARTHOSTS))
        ),
        3 => format!(
            "{{type: slack, api_url: {}, channel: {}}}",
            quote(r.pick(URLS)),
            quote(r.pick(&["#ops", "", "ops"]))
        ),
        4 => format!(
            "{{type: pagerduty, routing_key: {}}}",
            quote(r.pick(&["0123456789abcdef", "", "k"]))
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
    let mut s = format!("tenants:\n  {id}:\n    mysql_connections: 90\n");
    if r.chance(30) {
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
            s += &format!("      receiver: {}\n", receiver(r));
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
                o.push(format!("receiver: {}", receiver(r)));
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

#[test]
fn every_generated_file_passes_amtool_and_every_rejection_is_located() {
    const CASES: usize = 1200;
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut files = Vec::new();
    let (mut rejected_platforms, mut rejected_tenants, mut generated) = (0, 0, 0);
    for case in 0..CASES {
        let seed = 0x9e37_79b9_7f4a_7c15 ^ (case as u64 + 1);
        let mut r = Rng(seed);
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
        let g = dynalert_alertmanager::generate(&report.config)
            .unwrap_or_else(|e| panic!("seed {seed:#x}: {e}"));
        let text = dynalert_alertmanager::render(&g, None).unwrap();
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
    eprintln!(
        "{CASES} cases: {generated} files accepted by amtool, {rejected_platforms} platforms and {rejected_tenants} tenant files rejected with located errors"
    );
}
