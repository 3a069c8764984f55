//! Router tests without sockets (`tower::ServiceExt::oneshot`).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dynalert_server::Clock;

mod common;
use common::{basic, call, one_user, start, start_with, status, ManualClock, OffsetClock};

const PLATFORM: &str =
    "defaults:\n  mysql_connections: 80\n  container_cpu: {warning: 70, critical: 90}\n";

fn tenant(id: &str, conns: &str) -> String {
    format!("tenants:\n  {id}:\n    mysql_connections: \"{conns}\"\n")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "_defaults.yaml", PLATFORM);
    write(dir.path(), "db-a.yaml", &tenant("db-a", "70"));
    write(dir.path(), "db-b.yaml", &tenant("db-b", "200"));
    dir
}

fn sample(body: &str, prefix: &str) -> Option<String> {
    body.lines()
        .find(|l| l.starts_with(prefix))
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
}

#[tokio::test]
async fn metrics_serve_thresholds_and_self_metrics() {
    let dir = fixture();
    let server = start(dir.path()).await;
    let r = call(&server, "GET", "/metrics", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = r.text();
    for (series, want) in [
        (DB_A_WARNING, "70"),
        ("user_threshold{tenant=\"db-b\",component=\"container\",metric=\"cpu\",severity=\"critical\"}", "90"),
        ("threshold_exporter_config_last_reload_successful ", "1"),
        ("threshold_exporter_tenant_config_valid{tenant=\"db-a\"}", "1"),
        ("threshold_exporter_tenants ", "2"),
    ] {
        assert_eq!(sample(&body, series).as_deref(), Some(want), "{series}");
    }
    assert!(body.contains("threshold_exporter_build_info{version=\""));
    assert!(body.contains("# TYPE threshold_exporter_config_reload_duration_seconds histogram"));
    assert!(body.contains("process_resident_memory_bytes "));
    assert!(!body.contains("# EOF"));
    let hash = body
        .lines()
        .find_map(|l| l.strip_prefix("threshold_exporter_config_info{hash=\""))
        .map(|l| l[..l.find('"').unwrap()].to_string())
        .unwrap();
    assert_eq!(hash, dynalert_server::body::body_hash(&body));
}

#[tokio::test]
async fn openmetrics_by_negotiation() {
    let dir = fixture();
    let server = start(dir.path()).await;
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let r = call(&server, "GET", "/metrics", &[("accept", accept)]).await;
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text; version=1.0.0"));
    let body = r.text();
    assert!(body.ends_with("# EOF\n"));
    assert!(body.contains("# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total "));
    let r = call(
        &server,
        "GET",
        "/metrics",
        &[("accept", "text/plain;version=0.0.4")],
    )
    .await;
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(r
        .text()
        .contains("# TYPE process_cpu_seconds_total counter\n"));
}

#[tokio::test]
async fn gzip_when_asked_once_compressed() {
    let dir = fixture();
    let server = start(dir.path()).await;
    let plain = call(&server, "GET", "/metrics", &[]).await.text();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = call(&server, "GET", "/metrics", &[("accept-encoding", "gzip")]).await;
        if r.headers
            .get("content-encoding")
            .is_some_and(|v| v == "gzip")
        {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&r.body[..])
                .read_to_string(&mut text)
                .unwrap();
            let strip = |s: &str| {
                s.lines()
                    .filter(|l| !l.starts_with("process_"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(&text), strip(&plain));
            break;
        }
        assert!(Instant::now() < deadline, "body never compressed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn health_ready_and_landing() {
    let dir = fixture();
    let server = start(dir.path()).await;
    assert_eq!(status(&server, "GET", "/-/healthy").await, StatusCode::OK);
    assert_eq!(status(&server, "GET", "/-/ready").await, StatusCode::OK);
    let page = call(&server, "GET", "/", &[]).await.text();
    assert!(page.contains("href=\"/metrics\"") && page.contains("href=\"/tenants\""));
    assert!(page.contains("No current errors"));
    let list = call(&server, "GET", "/tenants", &[]).await.text();
    assert!(list.contains("href=\"/tenants/db-a\""), "{list}");
    let one = call(&server, "GET", "/tenants/db-a", &[]).await.text();
    assert!(one.contains("mysql_connections"), "{one}");
}

#[tokio::test]
async fn not_ready_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("missing")).await;
    assert_eq!(
        status(&server, "GET", "/-/ready").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // An empty 200 would read as "every threshold is gone": nothing true to serve yet.
    assert_eq!(
        status(&server, "GET", "/metrics").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let r = call(&server, "POST", "/-/reload", &[]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.text().contains("missing"), "{}", r.text());
}

#[tokio::test]
async fn reload_endpoint_is_gated_by_the_lifecycle_flag() {
    let dir = fixture();
    let server = start_with(dir.path(), |o| o.enable_lifecycle = false).await;
    write(dir.path(), "db-a.yaml", &tenant("db-a", "55"));
    let r = call(&server, "POST", "/-/reload", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let body = call(&server, "GET", "/metrics", &[]).await.text();
    assert!(
        body.contains("metric=\"connections\",severity=\"warning\"} 70\n"),
        "{body}"
    );
}

#[tokio::test]
async fn reload_applies_and_refuses_get() {
    let dir = fixture();
    let server = start(dir.path()).await;
    assert_eq!(
        status(&server, "GET", "/-/reload").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    write(dir.path(), "db-a.yaml", &tenant("db-a", "55"));
    let r = call(&server, "POST", "/-/reload", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = call(&server, "GET", "/metrics", &[]).await.text();
    assert!(body.contains("user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 55\n"));
}

#[tokio::test]
async fn broken_tenant_keeps_last_good_values() {
    let dir = fixture();
    let server = start(dir.path()).await;
    // A bad value, then a syntax error, then a file declaring another tenant that has its
    // own file.
    for bad in [
        tenant("db-a", "seventy"),
        "tenants:\n  db-a:\n    mysql_connections: [\n".to_string(),
        tenant("db-b", "10"),
    ] {
        write(dir.path(), "db-a.yaml", &bad);
        write(dir.path(), "db-b.yaml", &tenant("db-b", "201"));
        let r = call(&server, "POST", "/-/reload", &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = r.text();
        let path = dir.path().join("db-a.yaml").display().to_string();
        assert!(text.contains(&format!("{path}:")), "{text}");
        assert!(text.contains(": error: "), "{text}");
        let body = call(&server, "GET", "/metrics", &[]).await.text();
        assert!(body.contains("user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 70\n"));
        // The other tenant reloads normally.
        assert!(body.contains("user_threshold{tenant=\"db-b\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 201\n"));
        assert!(body.contains("threshold_exporter_tenant_config_valid{tenant=\"db-a\"} 0\n"));
        assert!(body.contains("threshold_exporter_tenant_config_valid{tenant=\"db-b\"} 1\n"));
        assert!(body.contains("threshold_exporter_config_last_reload_successful 0\n"));
        let page = call(&server, "GET", "/", &[]).await.text();
        assert!(page.contains(&path));
    }
    write(dir.path(), "db-a.yaml", &tenant("db-a", "71"));
    assert_eq!(status(&server, "POST", "/-/reload").await, StatusCode::OK);
    let body = call(&server, "GET", "/metrics", &[]).await.text();
    assert!(body.contains("threshold_exporter_tenant_config_valid{tenant=\"db-a\"} 1\n"));
    assert!(body.contains("severity=\"warning\"} 71\n"));
    assert!(body.contains("threshold_exporter_config_last_reload_successful 1\n"));
}

#[tokio::test]
async fn broken_platform_keeps_everything() {
    let dir = fixture();
    let server = start(dir.path()).await;
    let before = call(&server, "GET", "/metrics", &[]).await.text();
    write(
        dir.path(),
        "_defaults.yaml",
        "defaults:\n  mysql_connections: eighty\n",
    );
    write(dir.path(), "db-b.yaml", &tenant("db-b", "300"));
    let r = call(&server, "POST", "/-/reload", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("_defaults.yaml:"), "{}", r.text());
    let after = call(&server, "GET", "/metrics", &[]).await.text();
    let thresholds = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("user_"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(thresholds(&before), thresholds(&after));
    assert!(after.contains("threshold_exporter_config_last_reload_successful 0\n"));
}

#[tokio::test]
async fn tenant_api_has_effective_config_with_sources() {
    let dir = fixture();
    let server = start(dir.path()).await;
    let list: serde_json::Value =
        serde_json::from_slice(&call(&server, "GET", "/api/v1/tenants", &[]).await.body).unwrap();
    let ids: Vec<&str> = list["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["db-a", "db-b"]);
    let r = call(&server, "GET", "/api/v1/tenants/db-a", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let t = &doc["tenants"][0];
    assert_eq!(t["tenant"], "db-a");
    let key = t["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "mysql_connections")
        .unwrap();
    let source = key["tiers"][0]["source"].as_str().unwrap();
    assert!(source.ends_with("db-a.yaml:3"), "{source}");
    assert_eq!(
        status(&server, "GET", "/api/v1/tenants/nope").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn basic_auth_guards_every_endpoint() {
    let dir = fixture();
    let server = start_with(dir.path(), |o| o.auth = one_user("prom", "s3cret")).await;
    // No credentials, a wrong password, an unknown user, then the right ones twice.
    for (method, uri, credentials, want) in [
        ("GET", "/metrics", None, StatusCode::UNAUTHORIZED),
        (
            "GET",
            "/metrics",
            Some("prom:nope"),
            StatusCode::UNAUTHORIZED,
        ),
        ("GET", "/", Some("other:s3cret"), StatusCode::UNAUTHORIZED),
        ("GET", "/metrics", Some("prom:s3cret"), StatusCode::OK),
        ("GET", "/metrics", Some("prom:s3cret"), StatusCode::OK),
        ("POST", "/-/reload", None, StatusCode::UNAUTHORIZED),
    ] {
        let header = credentials.map(basic);
        let headers: Vec<(&str, &str)> = header.iter().map(|h| ("authorization", &**h)).collect();
        let got = call(&server, method, uri, &headers).await.status;
        assert_eq!(got, want, "{method} {uri} as {credentials:?}");
    }
}

const DB_A_WARNING: &str = "user_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"}";

/// The fixture with db-a's `mysql_connections` 42 until the returned instant.
fn expiring() -> (tempfile::TempDir, DateTime<Utc>) {
    let dir = fixture();
    let until = "2026-06-01T12:00:02Z";
    let conns = format!("{{value: 42, expires: \"{until}\"}}");
    let text = format!("tenants:\n  db-a:\n    mysql_connections: {conns}\n");
    write(dir.path(), "db-a.yaml", &text);
    let edge = DateTime::parse_from_rfc3339(until).unwrap().to_utc();
    (dir, edge)
}

/// BRIEF: after `expires` the platform default applies again and the tenant's
/// `threshold_exporter_config_event` says so; the exporter re-renders at the edge itself
/// (`expires` is the first instant at which the value no longer applies).
#[tokio::test]
async fn expiry_is_served_at_the_edge() {
    let (dir, edge) = expiring();
    let clock = Arc::new(ManualClock::at("2026-06-01T12:00:00Z"));
    let server = start_with(dir.path(), |o| o.clock = clock.clone()).await;
    let event = "threshold_exporter_config_event{tenant=\"db-a\",event=\"threshold_expired\",reason=\"mysql_connections\"}";
    // At the start, a millisecond before the edge, and at the edge.
    for (moved, value, expired) in [
        (None, "42", None),
        (Some(edge - chrono::Duration::milliseconds(1)), "42", None),
        // `_defaults.yaml` of the fixture: mysql_connections 80.
        (Some(edge), "80", Some("1")),
    ] {
        if let Some(t) = moved {
            clock.set(t);
            server.clock_moved().await;
        }
        let body = call(&server, "GET", "/metrics", &[]).await.text();
        let at = clock.now();
        assert_eq!(
            sample(&body, DB_A_WARNING).as_deref(),
            Some(value),
            "at {at}: {body}"
        );
        assert_eq!(sample(&body, event).as_deref(), expired, "at {at}: {body}");
    }
}

/// The reloader's timer serves an edge by itself (no reload, no nudge): the clock runs at
/// real speed from half a second before the edge, and the default must be served within a
/// second after it, never before it.
#[tokio::test]
async fn expiry_timer_fires_without_a_nudge() {
    let (dir, edge) = expiring();
    let clock = Arc::new(OffsetClock(
        edge - chrono::Duration::milliseconds(500) - chrono::Utc::now(),
    ));
    let server = start_with(dir.path(), |o| o.clock = clock.clone()).await;
    let line = DB_A_WARNING;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = call(&server, "GET", "/metrics", &[]).await.text();
        let seen = clock.now();
        match sample(&body, line).as_deref() {
            Some("42") => assert!(
                seen < edge + chrono::Duration::seconds(1),
                "still 42 at {seen}"
            ),
            Some("80") => {
                assert!(
                    seen >= edge,
                    "the default was served before the edge, at {seen}"
                );
                break;
            }
            other => panic!("unexpected value {other:?}: {body}"),
        }
        assert!(Instant::now() < deadline, "expiry never served");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
