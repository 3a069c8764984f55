#!/usr/bin/env bash
# The demo: bring the lab up (real Prometheus, Alertmanager, MariaDB ×2, mysqld_exporter ×2,
# threshold-exporter ×2, webhook sink, SIMULATED Kubernetes endpoint), run every scenario with
# live progress, print the summary and the URLs, then keep the lab up until Ctrl-C.
# DEMO_EXIT=1: tear down after the report and exit with the scenarios' status.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DYNALERT_BIN:-target/release/dynalert}
LAB_DIR=${LAB_DIR:-target/lab}

down() { "$BIN" lab down --dir "$LAB_DIR" || true; }

# A lab left over from an interrupted run is stopped first.
if [[ -f "$LAB_DIR/lab.json" ]]; then down; fi
trap down EXIT

echo "== dynalert validate examples/lab"
"$BIN" validate examples/lab
echo
echo "== dynalert lab up --dir $LAB_DIR"
"$BIN" lab up --dir "$LAB_DIR"
echo
exporter=$(grep -A1 '"exporter_urls"' "$LAB_DIR/lab.json" | tail -n 1 | tr -d ' ",')
echo "== part of $exporter/metrics (threshold-exporter replica 1, tenant db-a)"
metrics=$(curl -fsS "$exporter/metrics")
grep -E '^(user_threshold|user_state_filter|tenant_metadata_info)\{tenant="db-a"' <<<"$metrics" | sed -n 1,12p || true
grep -E '^threshold_exporter_(config_last_reload_successful|tenants|series) ' <<<"$metrics" || true
echo
echo "== dynalert scenario run all"
status=0
"$BIN" scenario run all --dir "$LAB_DIR" || status=$?
echo
echo "== URLs"
"$BIN" lab status --dir "$LAB_DIR" || true
echo "status pages (threshold-exporter replica 1): $exporter/  $exporter/tenants  $exporter/tenants/db-a  $exporter/config"
echo
echo "try: $BIN inspect-tenant db-a --lab.dir $LAB_DIR"
echo "     $BIN verify-threshold db-a mysql_connections --lab.dir $LAB_DIR"

if [[ "${DEMO_EXIT:-0}" == "1" ]]; then
  exit "$status"
fi
echo
echo "the lab keeps running; press Ctrl-C to stop it"
trap 'echo; echo "stopping the lab"; exit "$status"' INT TERM
while :; do sleep 3600 & wait $!; done
