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
exit "$status"
