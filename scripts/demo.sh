#!/usr/bin/env bash
# The demo: validate the example configuration and show what the exporter serves.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
EX=examples/conf.d

echo "== dynalert validate $EX"
"$BIN/dynalert" validate "$EX"
echo
echo "== dynalert effective $EX --tenant db-a --format prom (what the exporter serves for db-a)"
"$BIN/dynalert" effective "$EX" --tenant db-a --format prom | grep -v '^#'
echo
echo "== scheduled value: db-a's container_memory at 2026-06-01T23:30:00+08:00 (inside its 22:00-06:00 window)"
"$BIN/dynalert" effective "$EX" --tenant db-a --at 2026-06-01T23:30:00+08:00 --format prom | grep 'metric="memory"'
