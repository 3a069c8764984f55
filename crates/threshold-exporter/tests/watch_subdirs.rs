//! The file watcher sees the subdirectories of a hierarchical conf.d: the real binary,
//! with a one-hour poll so that only the watcher can explain a prompt reload, serves a
//! change to a tenant file two levels down, to a mid-level `_defaults.yaml`, and to a
//! subdirectory created after start.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{gauge, wait_until, Exporter, Http};

/// Far below the one-hour poll: a change seen within this was seen by the watcher.
const PROMPTLY: Duration = Duration::from_secs(10);

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `mysql_connections` warning threshold served for `tenant`.
fn connections(body: &str, tenant: &str) -> Option<String> {
    let prefix = format!(
        "user_threshold{{tenant=\"{tenant}\",component=\"mysql\",metric=\"connections\",severity=\"warning\"}} "
    );
    body.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::to_string)
}

fn reloads(body: &str, trigger: &str) -> u64 {
    gauge(
        body,
        &format!("threshold_exporter_config_reloads_total{{trigger=\"{trigger}\"}}"),
    )
    .map_or(0, |v| v.trim().parse().unwrap())
}

#[test]
fn changes_in_subdirectories_are_served_without_waiting_for_the_poll() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Root default 80; the `db` level sets 75; db-a (two levels down) sets its own value,
    // db-b follows the `db` level.
    let conns = |id: &str, v: u32| format!("tenants:\n  {id}:\n    mysql_connections: \"{v}\"\n");
    let defaults = |v: u32| format!("defaults:\n  mysql_connections: {v}\n");
    write(root, "_defaults.yaml", &defaults(80));
    write(root, "db/_defaults.yaml", &defaults(75));
    write(root, "db/eu/db-a.yaml", &conns("db-a", 70));
    let db_b = "tenants:\n  db-b:\n    _metadata: {owner: dba}\n";
    write(root, "db/eu/db-b.yaml", db_b);
    let e = Exporter::spawn(&[
        "--config.dir".into(),
        root.display().to_string(),
        "--config.poll-interval".into(),
        "1h".into(),
    ])
    .unwrap();
    let http = Http::default();
    let body = || http.get(e.addr, "/metrics").unwrap().text();
    let served = |tenant: &str, want: &str| {
        wait_until(PROMPTLY, || {
            connections(&body(), tenant).as_deref() == Some(want)
        })
    };
    assert!(
        served("db-a", "70") && served("db-b", "75"),
        "first load: {}",
        e.log_tail(20)
    );

    // Writes `rel`; `tenant` must then be served `want` promptly, db-a keeps its own value.
    let step = |rel: &str, text: &str, tenant: &str, want: &str| {
        write(root, rel, text);
        let late = format!("the change to {rel} was not served within {PROMPTLY:?}");
        assert!(served(tenant, want), "{late}: {}", e.log_tail(20));
        let db_a = if tenant == "db-a" { want } else { "33" };
        assert_eq!(connections(&body(), "db-a").as_deref(), Some(db_a));
    };
    // A tenant file two levels down.
    step("db/eu/db-a.yaml", &conns("db-a", 33), "db-a", "33");
    // A mid-level `_defaults.yaml`: db-b follows it, db-a keeps its own value.
    step("db/_defaults.yaml", &defaults(44), "db-b", "44");
    // A subdirectory created after start, with a tenant file in it...
    step("db/us/db-c.yaml", &conns("db-c", 22), "db-c", "22");
    // ... and a later change in that new subdirectory.
    step("db/us/db-c.yaml", &conns("db-c", 23), "db-c", "23");

    let body = body();
    assert_eq!(reloads(&body, "poll"), 0, "no poll may have run");
    assert!(reloads(&body, "watch") >= 4, "{}", e.log_tail(20));
}
