//! Status pages and their JSON over the router (`tower::ServiceExt::oneshot`), loaded with
//! the example `conf.d` plus a tenant in maintenance, a rejected tenant and hostile input.
//! Expected values come from what the example files document, not from the pages.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use dynalert_probe::process::start_prometheus;
use dynalert_server::{Clock, Server};
use serde_json::{json, Value};

mod common;
use common::{basic, call, one_user, start, start_with, status, ManualClock};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/conf.d");

const MAINTENANCE: &str = "tenants:\n  maint-m:\n    mysql_connections: 90\n    \
_state_maintenance: {expires: \"2099-01-01T00:00:00Z\", reason: \"disk swap\"}\n";

const HOSTILE_OWNER: &str = "<script>alert(1)</script>";

fn hostile() -> String {
    format!(
        "tenants:\n  evil:\n    mysql_connections: 10\n    _metadata: {{owner: \"{HOSTILE_OWNER}\", \
runbook_url: \"https://wiki.example/\\\"><script>alert(2)</script>\"}}\n"
    )
}

/// A file named with markup whose tenant key is markup too: rejected, named in errors.
const HOSTILE_FILE: &str = "<b>x.yaml";
const HOSTILE_TENANT: &str =
    "tenants:\n  \"<img src=x onerror=alert(3)>\":\n    mysql_connections: 10\n";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(EXAMPLES).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("maint-m.yaml"), MAINTENANCE).unwrap();
    std::fs::write(dir.path().join("evil.yaml"), hostile()).unwrap();
    std::fs::write(dir.path().join(HOSTILE_FILE), HOSTILE_TENANT).unwrap();
    dir
}

async fn get(server: &Server, uri: &str) -> (StatusCode, String) {
    let r = call(server, "GET", uri, &[]).await;
    (r.status, r.text())
}

async fn json(server: &Server, uri: &str) -> Value {
    let (status, body) = get(server, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Breaks `db-b.yaml` after a good load: db-b is rejected and keeps its last good config.
async fn reject_db_b(server: &Server, dir: &Path) {
    std::fs::write(
        dir.join("db-b.yaml"),
        "tenants:\n  db-b:\n    mysql_connections: [\n",
    )
    .unwrap();
    let status = status(server, "POST", "/-/reload").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The object of the array `list` whose `field` is `value`.
fn find<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|k| k[field] == value)
        .unwrap_or_else(|| panic!("no {field} {value} in {list}"))
}

/// The value and state of a tier.
fn value_state(t: &Value) -> (&Value, &Value) {
    (&t["value"], &t["state"])
}

fn tier<'a>(doc: &'a Value, key: &str, severity: &str) -> &'a Value {
    let k = find(&doc["tenants"][0]["keys"], "key", key);
    find(&k["tiers"], "severity", severity)
}

#[tokio::test]
async fn status_page_counts_errors_and_modes() {
    let dir = setup();
    let server = start(dir.path()).await;
    reject_db_b(&server, dir.path()).await;
    let d = json(&server, "/api/v1/status").await;
    // db-a, cache-c, maint-m, evil are valid; db-b (last good) and `<b>x` are rejected.
    assert_eq!(d["counts"]["tenants_valid"], 4, "{d}");
    assert_eq!(d["counts"]["tenants_rejected"], 2, "{d}");
    assert_eq!(d["last_reload"]["outcome"], "partly rejected");
    assert!(d["last_reload"]["duration_seconds"].as_f64().unwrap() > 0.0);
    let errors = d["errors"].as_array().unwrap();
    let db_b = dir.path().join("db-b.yaml").display().to_string();
    assert!(
        errors.iter().any(|e| e["location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{db_b}:4:"))),
        "{errors:?}"
    );
    // The hostile file's error carries a hint (the rename it needs).
    assert!(errors.iter().any(|e| e["hint"].is_string()), "{errors:?}");
    assert_eq!(d["maintenance"], json!(["maint-m"]));
    // db-b's silent mode (until 2030) is served from its last good config.
    assert_eq!(d["silent"], json!(["db-b"]));
    // Threshold keys: the 10 platform defaults, plus the tenants' own keys: mysql_slow_queries,
    // two container_cpu rows (db-a), redis_keys{db}, pg_connections{datname}, pg_deadlocks.
    assert_eq!(d["counts"]["keys"], 16, "{d}");

    let (status, page) = get(&server, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("{db_b}:4:")), "{page}");
    assert!(page.contains("href=\"/tenants/maint-m\""));
    assert!(page.contains("partly rejected"));
    assert!(page.contains(env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn tenant_list_searches_filters_and_pages() {
    let dir = setup();
    let server = start(dir.path()).await;
    reject_db_b(&server, dir.path()).await;
    let all = json(&server, "/api/v1/tenants").await;
    let ids: Vec<&str> = all["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["<b>x", "cache-c", "db-a", "db-b", "evil", "maint-m"],
        "{all}"
    );
    let rejected = json(&server, "/api/v1/tenants?state=rejected").await;
    let rows = rejected["tenants"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["serving"], "nothing");
    assert_eq!(rows[1]["tenant"], "db-b");
    assert_eq!(rows[1]["serving"], "last good config");
    // db-b as documented: tier standard, owner app-team, namespaces db-b and db-b-jobs.
    assert_eq!(rows[1]["tier"], "standard");
    assert_eq!(rows[1]["owner"], "app-team");
    assert_eq!(rows[1]["namespaces"], json!(["db-b", "db-b-jobs"]));
    // db-a: mysql_replication_lag is disabled (warning and critical of the platform).
    let db_a = json(&server, "/api/v1/tenants?q=dba-team").await;
    assert_eq!(db_a["tenants"][0]["tenant"], "db-a");
    assert_eq!(db_a["tenants"][0]["tiers"]["disabled"], 2);
    let owner = json(&server, "/api/v1/tenants?q=CACHE-TEAM&state=valid").await;
    assert_eq!(owner["total"], 1);
    assert_eq!(owner["tenants"][0]["tenant"], "cache-c");
    let maint = json(&server, "/api/v1/tenants?state=maintenance").await;
    assert_eq!(maint["tenants"][0]["tenant"], "maint-m");
    assert_eq!(maint["total"], 1);

    let (_, page) = get(&server, "/tenants?q=db-&state=rejected").await;
    assert!(page.contains("href=\"/tenants/db-b\""));
    assert!(!page.contains("href=\"/tenants/db-a\""));
    assert!(page.contains("rejected: last good served"));
    assert!(page.contains("<option value=\"rejected\" selected>"));
    assert!(page.contains("<label for=\"q\">") && page.contains("<label for=\"state\">"));
}

#[tokio::test]
async fn pagination_of_many_tenants() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 80\n",
    )
    .unwrap();
    for i in 0..250 {
        std::fs::write(
            dir.path().join(format!("t{i:04}.yaml")),
            format!("tenants:\n  t{i:04}:\n    mysql_connections: {}\n", 100 + i),
        )
        .unwrap();
    }
    let server = start(dir.path()).await;
    let p3 = json(&server, "/api/v1/tenants?page=3").await;
    assert_eq!(p3["total"], 250);
    assert_eq!(p3["pagination"]["pages"], 3);
    let rows = p3["tenants"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["tenant"], "t0200");
    let (_, page2) = get(&server, "/tenants?page=2").await;
    assert!(page2.contains("href=\"/tenants/t0100\"") && page2.contains("href=\"/tenants/t0199\""));
    assert!(
        !page2.contains("href=\"/tenants/t0099\"") && !page2.contains("href=\"/tenants/t0200\"")
    );
    assert!(
        page2.contains("href=\"/tenants?page=1\"") && page2.contains("href=\"/tenants?page=3\"")
    );
}

#[tokio::test]
async fn tenant_view_has_values_states_sources_and_masked_routing() {
    let dir = setup();
    let server = start(dir.path()).await;
    let d = json(&server, "/api/v1/tenants/db-a").await;
    let file = dir.path().join("db-a.yaml").display().to_string();
    // db-a.yaml line 6: `mysql_connections: "70"`, line 7 its critical tier "120".
    let w = tier(&d, "mysql_connections", "warning");
    assert_eq!(value_state(w), (&json!(70.0), &json!("custom")));
    assert_eq!(w["source"], format!("{file}:6"));
    assert_eq!(tier(&d, "mysql_connections", "critical")["value"], 120.0);
    // `mysql_replication_lag: disable`: no series for either platform tier.
    for sev in ["warning", "critical"] {
        let t = tier(&d, "mysql_replication_lag", sev);
        assert_eq!(value_state(t), (&json!(null), &json!("disabled")));
    }
    // A key db-a never sets: the platform default of _defaults.yaml.
    let r = tier(&d, "redis_memory", "critical");
    assert_eq!(value_state(r), (&json!(95.0), &json!("default")));
    // container_memory: 85, or 95 inside the weekday night window.
    let m = tier(&d, "container_memory", "warning");
    match m["state"].as_str().unwrap() {
        "custom" => assert_eq!(m["value"], 85.0),
        "scheduled" => assert_eq!(m["value"], 95.0),
        other => panic!("container_memory warning is {other}"),
    }
    assert!(d["next_change"]["at"].is_string(), "the window has edges");
    // Routing: the webhook type and host, never the URL path.
    assert_eq!(d["routing"]["receiver"]["type"], "webhook");
    assert_eq!(d["routing"]["receiver"]["host"], "http://127.0.0.1:5001");
    assert_eq!(d["routing"]["tier_receiver"]["receiver"], "vip-pager");
    assert_eq!(d["routing"]["enforced"]["receiver"], "noc");

    let c = json(&server, "/api/v1/tenants/cache-c").await;
    // `redis_memory: {warning: 70, critical: disable}`.
    assert_eq!(tier(&c, "redis_memory", "warning")["value"], 70.0);
    assert_eq!(tier(&c, "redis_memory", "critical")["state"], "disabled");
    // pg_replication_lag 600 until 2030-06-30: still the tenant's value.
    let lag = tier(&c, "pg_replication_lag", "warning");
    assert_eq!(value_state(lag), (&json!(600.0), &json!("custom")));

    let (status, page) = get(&server, "/tenants/db-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("dba-team") && page.contains(&format!("{file}:6")));
    assert!(page.contains(">disabled</span>"));
    let (status, _) = get(&server, "/tenants/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rejected_tenant_page_names_its_error() {
    let dir = setup();
    let clock = Arc::new(ManualClock::at("2026-06-01T12:00:00Z"));
    let server = start_with(dir.path(), |o| o.clock = clock.clone()).await;
    reject_db_b(&server, dir.path()).await;
    let d = json(&server, "/api/v1/tenants/db-b").await;
    assert_eq!(d["valid"], false);
    assert_eq!(d["serving"], "last good config");
    // Rejected since the reload that found the broken file, which is the last one.
    let status = json(&server, "/api/v1/status").await;
    assert_eq!(d["rejected_since"], status["last_reload"]["at"]);
    // A later reload that still rejects the file keeps the first instant.
    clock.set(clock.now() + chrono::Duration::seconds(5));
    reject_db_b(&server, dir.path()).await;
    let again = json(&server, "/api/v1/tenants/db-b").await;
    assert_eq!(again["rejected_since"], d["rejected_since"]);
    assert_ne!(
        json(&server, "/api/v1/status").await["last_reload"]["at"],
        d["rejected_since"]
    );
    // The last good db-b.yaml: `mysql_connections: "200"`.
    assert_eq!(tier(&d, "mysql_connections", "warning")["value"], 200.0);
    let db_b = dir.path().join("db-b.yaml").display().to_string();
    assert!(d["errors"][0]["location"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{db_b}:4:")));
    let (_, page) = get(&server, "/tenants/db-b").await;
    assert!(page.contains("rejected: the last good config is served"));
    assert!(page.contains(&format!("{db_b}:4:")));
}

#[tokio::test]
async fn catalogue_lists_keys_defaults_and_alerts() {
    let dir = setup();
    let server = start(dir.path()).await;
    let d = json(&server, "/api/v1/config").await;
    // _defaults.yaml: ten `defaults:` keys and two `optional_overrides:`.
    assert_eq!(d["keys"].as_array().unwrap().len(), 12);
    let key = |name: &str| find(&d["keys"], "key", name);
    assert_eq!(
        key("mysql_connections")["defaults"],
        json!([["warning", 80.0]])
    );
    assert_eq!(
        key("pg_replication_lag")["defaults"],
        json!([["warning", 30.0], ["critical", 300.0]])
    );
    assert_eq!(key("pg_deadlocks")["kind"], "optional");
    assert_eq!(key("pg_connections")["dimensions"], json!(["datname"]));
    // rules/packs/mariadb/alerts.yaml: MariaDBHighConnections compares against this key.
    let alerts: Vec<&str> = key("mysql_connections")["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert"].as_str().unwrap())
        .collect();
    assert!(alerts.contains(&"MariaDBHighConnections"), "{alerts:?}");
    assert_eq!(key("mysql_connections")["armed"], true);
    let (_, page) = get(&server, "/config").await;
    assert!(page.contains("MariaDBHighConnections") && page.contains(">armed</span>"));
}

#[tokio::test]
async fn hostile_values_are_escaped_and_secrets_never_shown() {
    let dir = setup();
    let server = start(dir.path()).await;
    // Every URL of the example routing files is a secret (webhook URLs carry tokens).
    let mut secrets = Vec::new();
    for name in ["_routing.yaml", "db-a.yaml", "db-b.yaml", "cache-c.yaml"] {
        let text = std::fs::read_to_string(Path::new(EXAMPLES).join(name)).unwrap();
        // `url:` fields of receivers (not `runbook_url:`, which is public).
        for (i, _) in text.match_indices("url: \"") {
            if text[..i].ends_with([' ', '{']) {
                let rest = &text[i + "url: \"".len()..];
                secrets.push(rest.split('"').next().unwrap().to_string());
            }
        }
    }
    assert!(secrets.len() >= 6, "{secrets:?}");
    let pages = [
        "/",
        "/tenants",
        "/tenants?q=%3Cscript%3E",
        "/tenants/evil",
        "/tenants/db-a",
        "/tenants/db-b",
        "/tenants/%3Cb%3Ex",
        "/config",
        "/api/v1/status",
        "/api/v1/tenants",
        "/api/v1/tenants/db-a",
        "/api/v1/tenants/db-b",
        "/api/v1/config",
    ];
    for uri in pages {
        let (_, body) = get(&server, uri).await;
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "{uri} shows `{s}`");
        }
        if !uri.starts_with("/api/") {
            assert!(!body.contains("<script"), "{uri}: {body}");
            assert!(!body.contains("<img"), "{uri}: {body}");
            assert!(!body.contains("<b>x"), "{uri}: {body}");
        }
    }
    let (_, evil) = get(&server, "/tenants/evil").await;
    assert!(
        evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{evil}"
    );
    let (_, list) = get(&server, "/tenants").await;
    assert!(list.contains("&lt;b&gt;x"), "{list}");
    assert!(list.contains("href=\"/tenants/%3Cb%3Ex\""), "{list}");
    // The hostile file is named in the errors of `/`, escaped.
    let (_, status) = get(&server, "/").await;
    assert!(status.contains("&lt;b&gt;x.yaml:"), "{status}");
}

#[tokio::test]
async fn pages_sit_behind_basic_auth() {
    let dir = setup();
    let server = start_with(dir.path(), |o| o.auth = one_user("ops", "s3cret")).await;
    let right = basic("ops:s3cret");
    for uri in [
        "/",
        "/tenants",
        "/tenants/db-a",
        "/config",
        "/api/v1/status",
        "/api/v1/tenants",
        "/api/v1/tenants/db-a",
        "/api/v1/config",
    ] {
        let (status, _) = get(&server, uri).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let r = call(&server, "GET", uri, &[("authorization", &right)]).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
    }
}

/// Polls `f` every 100 ms until it returns `Some`, failing after `limit`.
async fn until<T>(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts a real Prometheus: run by `make test` as the step `real-server tests`"]
async fn prometheus_observations_next_to_each_key() {
    let dir = setup();
    // Replica 1 on a socket, scraped by a real Prometheus running the rule packs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let exporter = listener.local_addr().unwrap();
    let replica = start(dir.path()).await;
    let app = replica.router();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let work = tempfile::tempdir().unwrap();
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/packs");
    let mut rule_files = String::new();
    for pack in ["mariadb", "platform"] {
        for f in ["recording.yaml", "alerts.yaml"] {
            rule_files.push_str(&format!("  - {}\n", packs.join(pack).join(f).display()));
        }
    }
    let cfg = work.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files:\n{rule_files}\
scrape_configs:\n  - job_name: threshold-exporter\n    static_configs: [{{targets: ['{exporter}']}}]\n"
        ),
    )
    .unwrap();
    let (_prometheus, port) =
        tokio::task::block_in_place(|| start_prometheus(work.path(), &cfg)).unwrap();
    let prom = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let query = "/api/v1/query?query=tenant:alert_threshold:mysql_connections";
    until(
        "the recorded threshold",
        Duration::from_secs(60),
        async || {
            let r = dynalert_test::http::get(prom, query).await.ok()?;
            let v: Value = serde_json::from_slice(&r.body).ok()?;
            (!v["data"]["result"].as_array()?.is_empty()).then_some(())
        },
    )
    .await;

    // Replica 2 asks that Prometheus.
    let url = format!("http://{prom}");
    let server = start_with(dir.path(), |o| o.prometheus_url = Some(url)).await;
    let d = json(&server, "/api/v1/tenants/db-a").await;
    let conns = find(&d["prometheus"]["keys"], "key", "mysql_connections");
    // rules/packs/mariadb: MariaDBHighConnections compares the connections against the key.
    assert_eq!(conns["alertname"], "MariaDBHighConnections");
    // No mysqld_exporter runs here: nothing observed, nothing firing.
    assert!(conns["observed"].is_null(), "{conns}");
    let warning = find(&conns["tiers"], "severity", "warning");
    // db-a.yaml: `mysql_connections: "70"`, served by replica 1 and recorded by the pack.
    assert_eq!(warning["exported"][exporter.to_string()], 70.0, "{warning}");
    assert_eq!(warning["recorded"], 70.0, "{warning}");
    assert_eq!(warning["alert_state"], "inactive");
    let (_, page) = get(&server, "/tenants/db-a").await;
    assert!(page.contains("<th scope=\"col\">observed</th>"), "{page}");
    assert!(page.contains("MariaDBHighConnections <span class=\"badge mute\">inactive</span>"));
    server.stop();
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    replica.stop();
}

#[tokio::test]
async fn unreachable_prometheus_is_named_without_credentials() {
    let dir = setup();
    // A port nothing listens on: bound, then closed by dropping the listener.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://admin:hunter2@{closed}");
    let server = start_with(dir.path(), |o| o.prometheus_url = Some(url)).await;
    let (status, page) = get(&server, "/tenants/db-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("no observations"), "{page}");
    assert!(page.contains("mysql_connections"));
    assert!(!page.contains("hunter2"), "{page}");
    let d = json(&server, "/api/v1/tenants/db-a").await;
    let err = d["prometheus"]["error"].as_str().unwrap();
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_key_no_alert_reads_is_unarmed() {
    let dir = setup();
    // A platform key no alert of the packs compares against.
    let defaults = std::fs::read_to_string(dir.path().join("_defaults.yaml")).unwrap();
    let defaults = defaults.replace("defaults:\n", "defaults:\n  mysql_uptime_floor: 60\n");
    std::fs::write(dir.path().join("_defaults.yaml"), defaults).unwrap();
    let server = start(dir.path()).await;
    let d = json(&server, "/api/v1/config").await;
    let key = |name: &str| find(&d["keys"], "key", name);
    assert_eq!(key("mysql_uptime_floor")["armed"], false, "{d}");
    assert_eq!(key("mysql_uptime_floor")["alerts"], json!([]));
    assert_eq!(key("mysql_connections")["armed"], true);
    let (_, page) = get(&server, "/config").await;
    assert!(page.contains(">unarmed</span>"));
}
