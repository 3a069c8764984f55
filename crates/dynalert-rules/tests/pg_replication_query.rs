//! The PostgreSQL pack's exporter query (`rules/packs/postgresql/exporter/queries.yaml`)
//! against a real primary and a real streaming standby (Debian `postgresql`, unix sockets
//! only, no TCP port). The review case: the query of the exporter's example file computes the
//! lag as `now() - pg_last_xact_replay_timestamp()`, which keeps growing on an idle standby
//! that has replayed everything and pages quiet tenants. The pack's query must read 0 there,
//! a positive lag while replay is behind, and `streaming = 0` once the primary is gone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Debian PostgreSQL server binaries (initdb and pg_ctl are not on PATH there).
fn pg_bin(name: &str) -> PathBuf {
    let dirs = std::fs::read_dir("/usr/lib/postgresql").expect(
        "PostgreSQL is not installed (Debian package `postgresql`, scripts/install-deps.sh)",
    );
    let mut versions: Vec<PathBuf> = dirs.flatten().map(|e| e.path()).collect();
    versions.sort();
    let bin = versions
        .last()
        .expect("no PostgreSQL version")
        .join("bin")
        .join(name);
    assert!(bin.is_file(), "`{}` missing", bin.display());
    bin
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL tool; as the `postgres` user when the test runs as root (the server refuses
/// to run as root).
fn pg_command(bin: &Path) -> Command {
    if !is_root() {
        return Command::new(bin);
    }
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin);
    c
}

/// Runs a PostgreSQL tool and checks that it succeeds.
fn run(bin: &Path, args: &[&str]) -> std::process::Output {
    let out = pg_command(bin).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Server {
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let d = self.data.to_string_lossy().to_string();
        let _ = pg_command(&pg_bin("pg_ctl"))
            .args(["-D", &d, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn start(data: &Path, port: u16, sock: &Path) -> Server {
    let conf = format!(
        "\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{}'\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n",
        sock.display()
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .unwrap();
    std::io::Write::write_all(&mut f, conf.as_bytes()).unwrap();
    let log = data.with_extension("log");
    run(
        &pg_bin("pg_ctl"),
        &[
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "start",
        ],
    );
    Server {
        data: data.to_path_buf(),
    }
}

fn psql(sock: &Path, port: u16, sql: &str) -> String {
    let out = run(
        Path::new("psql"),
        &[
            "-h",
            sock.to_str().unwrap(),
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-X",
            "-At",
            "-F",
            " ",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `check` until it returns `Some`, at most `deadline`.
fn wait_for<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    dynalert_probe::wait_for(what, deadline, || Ok(check())).unwrap()
}

/// The `pg_replication` query of the pack's queries.yaml.
fn pack_query() -> String {
    let text = std::fs::read_to_string(root().join("rules/packs/postgresql/exporter/queries.yaml"))
        .unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    docs[0]["pg_replication"]["query"]
        .as_str()
        .unwrap()
        .to_string()
}

/// (lag, is_replica, streaming, replay_paused) as the exporter would read them.
fn row(sock: &Path, port: u16) -> (f64, u8, u8, u8) {
    let out = psql(
        sock,
        port,
        &format!(
            "SELECT lag, is_replica, streaming, replay_paused FROM ({}) q",
            pack_query()
        ),
    );
    let f: Vec<&str> = out.split(' ').collect();
    assert_eq!(f.len(), 4, "{out}");
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

#[test]
fn lag_is_zero_on_an_idle_caught_up_standby_positive_while_behind_and_streaming_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    if is_root() {
        let st = Command::new("chown")
            .args(["-R", "postgres:postgres", base.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let (p_port, s_port) = (5432, 5433);
    let (p_data, s_data) = (base.join("primary"), base.join("standby"));
    let (p_sock, s_sock) = (base.join("sock-p"), base.join("sock-s"));
    for d in [&p_sock, &s_sock] {
        run(Path::new("mkdir"), &["-p", d.to_str().unwrap()]);
    }
    run(
        &pg_bin("initdb"),
        &[
            "-D",
            p_data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ],
    );
    let primary = start(&p_data, p_port, &p_sock);
    run(
        &pg_bin("pg_basebackup"),
        &[
            "-h",
            p_sock.to_str().unwrap(),
            "-p",
            &p_port.to_string(),
            "-U",
            "postgres",
            "-D",
            s_data.to_str().unwrap(),
            "-R",
            "--no-sync",
        ],
    );
    let _standby = start(&s_data, s_port, &s_sock);

    // The primary: a lag of 0, not a replica, "streaming" (nothing to receive).
    assert_eq!(row(&p_sock, p_port), (0.0, 0, 1, 0));

    // One transaction, replayed by the standby; then nothing happens.
    psql(
        &p_sock,
        p_port,
        "CREATE TABLE t(x int); INSERT INTO t VALUES (1)",
    );
    let target = psql(&p_sock, p_port, "SELECT pg_current_wal_lsn()");
    let reached = |what: &str, lsn: &str, target: &str| {
        wait_for(what, Duration::from_secs(30), || {
            let sql = format!("SELECT {lsn}() >= '{target}'::pg_lsn");
            (psql(&s_sock, s_port, &sql) == "t").then_some(())
        })
    };
    reached(
        "the standby to replay the insert",
        "pg_last_wal_replay_lsn",
        &target,
    );
    // Idle for more than 2 seconds: the example file's formula now reads > 2 s of lag.
    let example = wait_for(
        "the standby to be idle for 2 s",
        Duration::from_secs(30),
        || {
            let v: f64 = psql(
                &s_sock,
                s_port,
                "SELECT EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))",
            )
            .parse()
            .unwrap();
            (v > 2.0).then_some(v)
        },
    );
    let (lag, replica, streaming, paused) = row(&s_sock, s_port);
    assert_eq!(
        (lag, replica, streaming, paused),
        (0.0, 1, 1, 0),
        "idle, caught-up standby (the example query reads {example} s)"
    );

    // Replay paused while the primary writes: received but not replayed, so a real lag.
    psql(&s_sock, s_port, "SELECT pg_wal_replay_pause()");
    psql(&p_sock, p_port, "INSERT INTO t VALUES (2)");
    let target = psql(&p_sock, p_port, "SELECT pg_current_wal_lsn()");
    reached(
        "the standby to receive the insert",
        "pg_last_wal_receive_lsn",
        &target,
    );
    let (lag, replica, streaming, paused) = row(&s_sock, s_port);
    assert!(lag > 2.0, "lag {lag} while replay is behind");
    assert_eq!((replica, streaming, paused), (1, 1, 1));
    psql(&s_sock, s_port, "SELECT pg_wal_replay_resume()");

    // The primary goes away: the standby stops streaming (PostgreSQLReplicationStopped).
    drop(primary);
    wait_for(
        "the standby to stop streaming",
        Duration::from_secs(30),
        || {
            let (_, replica, streaming, _) = row(&s_sock, s_port);
            (replica == 1 && streaming == 0).then_some(())
        },
    );
}
