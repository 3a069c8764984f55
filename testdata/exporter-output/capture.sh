#!/usr/bin/env bash
# Re-creates the exporter captures in this directory from the Debian bookworm packages
# mariadb-server, postgresql, redis-server, prometheus-mysqld-exporter,
# prometheus-postgres-exporter and prometheus-redis-exporter.
#
# Everything runs as local processes bound to 127.0.0.1 with data under $WORK; every process
# started here is stopped on exit. Run as root (mariadbd runs with --user=root, PostgreSQL runs
# as the `postgres` system user).
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
WORK="${WORK:-/tmp/dynalert-capture}"
MY_PRIMARY_PORT=23306 MY_REPLICA_PORT=23307 PG_PORT=25432 REDIS_PORT=26379
MYSQLD_EXPORTER_PORT=29104 POSTGRES_EXPORTER_PORT=29187 REDIS_EXPORTER_PORT=29121
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_for() { # wait_for <description> <command...>: poll until the command succeeds (30 s max)
  local what=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; exit 1
}

rm -rf "$WORK" && mkdir -p "$WORK"

# --- MariaDB: a primary and a replica, so that the replication metrics exist -------------------
start_mariadb() { # start_mariadb <name> <port> <server-id> [extra args]
  local name=$1 port=$2 id=$3; shift 3
  mariadb-install-db --no-defaults --user=root --auth-root-authentication-method=normal \
    --datadir="$WORK/$name" >"$WORK/$name-install.log" 2>&1
  mariadbd --no-defaults --user=root --datadir="$WORK/$name" --socket="$WORK/$name.sock" \
    --bind-address=127.0.0.1 --port="$port" --server-id="$id" --pid-file="$WORK/$name.pid" \
    --slow-query-log=1 --long-query-time=0.1 "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for "$name" mariadb --no-defaults -uroot --socket="$WORK/$name.sock" -e 'SELECT 1'
}
start_mariadb mariadb-primary "$MY_PRIMARY_PORT" 1 --log-bin="$WORK/mariadb-primary-bin"
start_mariadb mariadb-replica "$MY_REPLICA_PORT" 2
my() { local name=$1; shift; mariadb --no-defaults -uroot --socket="$WORK/$name.sock" "$@"; }
my mariadb-primary -e "
  CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
  GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
  CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1);"
my mariadb-replica -e "
  CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PRIMARY_PORT,
    MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos;
  START SLAVE;
  CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY 'exporter' WITH MAX_USER_CONNECTIONS 3;
  GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';"
wait_for "replication" bash -c "mariadb --no-defaults -uroot --socket='$WORK/mariadb-replica.sock' \
  -e 'SHOW SLAVE STATUS\G' | grep -q 'Slave_SQL_Running: Yes'"
my mariadb-replica -e "SELECT SLEEP(0.2)" >/dev/null   # one slow query
DATA_SOURCE_NAME="exporter:exporter@tcp(127.0.0.1:$MY_REPLICA_PORT)/" \
  prometheus-mysqld-exporter --web.listen-address="127.0.0.1:$MYSQLD_EXPORTER_PORT" \
  >"$WORK/mysqld-exporter.log" 2>&1 &
PIDS+=($!)

# --- PostgreSQL ---------------------------------------------------------------------------------
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$WORK/postgres" && chown postgres: "$WORK/postgres"
su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$WORK/postgres/data' -U postgres --auth=trust" \
  >"$WORK/postgres-initdb.log" 2>&1
su postgres -s /bin/sh -c "exec $PG_BIN/postgres -D '$WORK/postgres/data' -p $PG_PORT \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories='$WORK/postgres'" \
  >"$WORK/postgres.log" 2>&1 &
PIDS+=($!)
wait_for "postgres" "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE orders"
DATA_SOURCE_NAME="postgresql://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" \
  prometheus-postgres-exporter --web.listen-address="127.0.0.1:$POSTGRES_EXPORTER_PORT" \
  --extend.query-path=/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml \
  >"$WORK/postgres-exporter.log" 2>&1 &
PIDS+=($!)

# --- Redis --------------------------------------------------------------------------------------
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' \
  --maxmemory 64mb >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_for "redis" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n 0 set k0 v >/dev/null
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n 1 set k1 v >/dev/null
prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$REDIS_PORT" \
  -web.listen-address "127.0.0.1:$REDIS_EXPORTER_PORT" >"$WORK/redis-exporter.log" 2>&1 &
PIDS+=($!)

# --- Captures -----------------------------------------------------------------------------------
capture() { # capture <file> <port> <metric that proves the exporter reached its server>
  local file=$1 port=$2 probe=$3
  wait_for "$file" bash -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q '^$probe'"
  curl -fsS "http://127.0.0.1:$port/metrics" >"$OUT/$file"
  echo "captured $OUT/$file ($(grep -c '^# TYPE' "$OUT/$file") metric families)"
}
capture mysqld_exporter-0.14.0.prom "$MYSQLD_EXPORTER_PORT" 'mysql_slave_status_seconds_behind_master'
capture postgres_exporter-0.11.1.prom "$POSTGRES_EXPORTER_PORT" 'pg_replication_lag'
capture redis_exporter-1.45.0.prom "$REDIS_EXPORTER_PORT" 'redis_up 1'
