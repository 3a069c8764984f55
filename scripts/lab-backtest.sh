#!/usr/bin/env bash
# `dynalert backtest` against the lab's Prometheus after scenario A ran:
#   1. replaying the thresholds the exporters actually served (`--served`) reproduces the
#      firing intervals Prometheus recorded in `ALERTS`, within one evaluation interval (5 s);
#   2. a changed threshold (db-a's `mysql_connections` warning 10 instead of what was served)
#      reports a difference.
#
#   scripts/lab-backtest.sh [LAB_DIR]     # default target/lab-backtest; started and stopped
#                                         # here unless it is already up
#   READ=query scripts/lab-backtest.sh    # the same with `--read query` (default auto)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/target/lab-backtest}
DYNALERT=${DYNALERT:-$ROOT/target/release/dynalert}
PY=${PY:-/opt/dynalert-tools/bin/python}
STEP=5   # the lab's evaluation interval
READ=${READ:-auto}   # backtest --read: auto, remote or query

started=0
if [ ! -f "$DIR/lab.json" ] || ! "$DYNALERT" lab status --dir "$DIR" >/dev/null 2>&1; then
  "$DYNALERT" lab up --dir "$DIR" >/dev/null
  started=1
fi
WORK=$(mktemp -d)
cleanup() {
  rm -rf "$WORK"
  if [ "$started" = 1 ]; then "$DYNALERT" lab down --dir "$DIR" >/dev/null || true; fi
}
trap cleanup EXIT

begin=$(( $(date +%s) - 30 ))
"$DYNALERT" scenario run a --repeat 2 --dir "$DIR"
end=$(( $(date +%s) + 10 ))
# The last evaluations must be in Prometheus before the range ends.
sleep_until=$(( end + STEP ))
while (( $(date +%s) < sleep_until )); do sleep 1; done

prom=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['prometheus_url'])" "$DIR/lab.json")
from=$(date -u -d "@$begin" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
cp -r "$DIR/conf.d" "$WORK/changed.d"
sed -i 's/mysql_connections: {warning: [0-9.]*/mysql_connections: {warning: 10/' "$WORK/changed.d/db-a.yaml"
grep -q 'mysql_connections: {warning: 10,' "$WORK/changed.d/db-a.yaml"

set +e
"$DYNALERT" backtest --prometheus "$prom" --from "$from" --to "$to" --step "$STEP" \
  --packs "$DIR/rules" "$WORK/changed.d" --served --read "$READ" --format json >"$WORK/report.json"
rc=$?
set -e
[ "$rc" -le 1 ] || exit 1

"$PY" - "$WORK/report.json" "$STEP" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
step = int(sys.argv[2])
rows = report["rows"]
failed = False
def show(iv):
    return [(a - iv[0][0] if iv else 0, b - iv[0][0] if iv else 0) for a, b in iv] if iv else []
seen = False
for r in rows:
    served = r["against"]["intervals"]
    recorded = r["recorded"]["intervals"]
    name = f'{r["tenant"]} {r["key"]} {r["severity"]}'
    same = len(served) == len(recorded) and all(
        abs(a - c) <= step and abs(b - d) <= step for (a, b), (c, d) in zip(served, recorded)
    )
    print(f"{name}: served replay {served}, ALERTS {recorded}: {'within one evaluation interval' if same else 'DIFFERENT'}")
    failed |= not same
    if r["tenant"] == "db-a" and r["key"] == "mysql_connections" and r["severity"] == "warning":
        seen = len(recorded) >= 2
        f, a = r["firing"], r["against"]
        delta = f["firing_seconds"] - a["firing_seconds"]
        print(f"changed threshold (warning 10): {f['fired']} firings, {f['firing_seconds']}s; "
              f"served: {a['fired']}, {a['firing_seconds']}s; delta {f['fired'] - a['fired']:+} firings, {delta:+}s")
        failed |= delta <= 0
if not seen:
    print("scenario A's two firings of MariaDBHighConnections{tenant=db-a,severity=warning} are not in ALERTS")
    failed = True
sys.exit(1 if failed else 0)
PY
echo "lab backtest: ok"
