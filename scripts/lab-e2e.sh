#!/usr/bin/env bash
# Lab end-to-end test: a fresh lab in a temporary directory, every scenario, then teardown
# (also on failure or interruption). Exit status: the scenarios'.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DYNALERT_BIN:-target/release/dynalert}
dir=$(mktemp -d "${TMPDIR:-/tmp}/dynalert-lab-e2e.XXXXXX")
cleanup() {
  "$BIN" lab down --dir "$dir" >/dev/null 2>&1 || true
  if [[ ${status:-1} -ne 0 ]]; then
    echo "lab logs kept in $dir/logs" >&2
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
status=1
"$BIN" lab up --dir "$dir" >/dev/null
status=0
"$BIN" scenario run all --dir "$dir" || status=$?
[[ $status -eq 0 ]] || exit "$status"

# The tenant skills against the same lab: inspect-tenant finds db-a's alert and observation,
# verify-threshold agrees with the configuration once the scenarios' changes have settled.
echo "== inspect-tenant db-a --format json"
inspect=$("$BIN" inspect-tenant db-a --lab.dir "$dir" --format json)
for want in '"alertname": "MariaDBHighConnections"' '"observation_rule": "tenant:mysql_threads_connected:max"' '"verdict":'; do
  if ! grep -qF "$want" <<<"$inspect"; then
    echo "FAIL: inspect-tenant output lacks $want" >&2
    status=1
  fi
done
echo "== verify-threshold db-a mysql_connections (until consistent, at most 90 s)"
deadline=$((SECONDS + 90))
until "$BIN" verify-threshold db-a mysql_connections --lab.dir "$dir"; do
  if ((SECONDS > deadline)); then
    echo "FAIL: verify-threshold kept reporting a mismatch" >&2
    status=1
    break
  fi
  sleep 5
done
echo "== verify-threshold db-a mysql_connections --format json"
verify=$("$BIN" verify-threshold db-a mysql_connections --lab.dir "$dir" --format json) || status=1
for want in '"observation_rule": "tenant:mysql_threads_connected:max"' '"alertname": "MariaDBHighConnections"' '"problems": []'; do
  if ! grep -qF "$want" <<<"$verify"; then
    echo "FAIL: verify-threshold --format json lacks $want" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "tenant skills: inspect-tenant and verify-threshold agree with the lab"
[[ $status -eq 0 ]] || exit "$status"

# backtest --served on the same lab reproduces the ALERTS intervals of scenario A.
echo "== backtest against the lab (scripts/lab-backtest.sh)"
DYNALERT="$BIN" scripts/lab-backtest.sh "$dir" || { status=1; exit 1; }

# The same packs on the VictoriaMetrics engine (vmagent ×2, VictoriaMetrics, vmalert): scenario
# A, HA, vmagent-failover (one of the two vmagents killed) and the custom alert recipes. A fresh
# lab in its own directory; the Prometheus lab above is down first (never two labs at once).
"$BIN" lab down --dir "$dir" >/dev/null 2>&1 || true
vmdir="$dir/vm"
cleanup_vm() {
  "$BIN" lab down --dir "$vmdir" >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_vm EXIT
status=1
echo "== lab up --engine victoriametrics"
"$BIN" lab up --engine victoriametrics --dir "$vmdir" --timeout 60 >/dev/null
status=0
for s in a ha vmagent-failover recipes; do
  "$BIN" scenario run "$s" --dir "$vmdir" || status=$?
done
echo "== inspect-tenant db-a against VictoriaMetrics"
inspect=$("$BIN" inspect-tenant db-a --lab.dir "$vmdir" --format json) || true
for want in '"alertname": "MariaDBHighConnections"' '"observation_rule": "tenant:mysql_threads_connected:max"'; do
  if ! grep -qF "$want" <<<"$inspect"; then
    echo "FAIL: inspect-tenant (VictoriaMetrics) output lacks $want" >&2
    status=1
  fi
done
exit "$status"
