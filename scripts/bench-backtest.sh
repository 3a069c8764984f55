#!/usr/bin/env bash
# Benchmark of `dynalert backtest` on a synthetic history in a real Prometheus.
#
#   scripts/bench-backtest.sh            # 10,000 tenants × 20 keys × 7 days
#   TENANTS=1000 DAYS=1 RUNS=1 scripts/bench-backtest.sh
#   READ=query scripts/bench-backtest.sh # Prometheus evaluates the observations (query_range)
#
# The history (crates/dynalert-cli/examples/backtest_history.rs: one gauge per tenant and key,
# a 20-minute spike every third day) is backfilled with `promtool tsdb create-blocks-from
# openmetrics`, one two-hour window at a time (promtool reads its input once per two-hour
# block, and the text of the whole week would not fit on the disk). Prometheus then serves it
# with compaction off (`--storage.tsdb.max-block-duration=2h`), so that nothing else runs
# while the backtest is measured. The backtest replays a conf.d (default 80, every 100th tenant
# 90 on the first key) against another (default 70) with a 60 s step, RUNS times, and prints
# the wall time of each run, its own split (Prometheus time vs total) and the machine's load.
# READ is `backtest --read`: auto (remote read where the server streams it), remote or query.
set -euo pipefail

TENANTS=${TENANTS:-10000}
KEYS=${KEYS:-20}
DAYS=${DAYS:-7}
SCRAPE=${SCRAPE:-300}   # seconds between samples of the history (≤ 300: the lookback)
STEP=${STEP:-60}
RUNS=${RUNS:-3}
READ=${READ:-auto}
WORK=${WORK:-$(mktemp -d /tmp/bench-backtest.XXXXXX)}
KEEP=${KEEP:-0}         # 1: reuse the history already in $WORK/data
ROOT=$(cd "$(dirname "$0")/.." && pwd)

export CARGO_INCREMENTAL=0
cargo build -q --release -p dynalert -p dynalert-cli --example backtest_history --bin dynalert \
  --manifest-path "$ROOT/Cargo.toml"
GEN="$ROOT/target/release/examples/backtest_history"
DYNALERT="$ROOT/target/release/dynalert"

PROM_PID=
cleanup() {
  if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null || true; wait "$PROM_PID" 2>/dev/null || true; fi
  if [ "$KEEP" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Two-hour windows ending at least three hours ago (backfilled blocks must not reach the head).
now=$(date +%s)
start=$(( (now - DAYS * 86400 - 3 * 3600) / 7200 * 7200 ))
windows=$(( DAYS * 12 ))
end=$(( start + DAYS * 86400 - STEP ))
samples=$(( TENANTS * KEYS * DAYS * 86400 / SCRAPE ))
echo "history: $TENANTS tenants × $KEYS keys × $DAYS days, a sample every ${SCRAPE}s: $samples samples"

if [ "$KEEP" = 1 ] && [ -f "$WORK/start" ]; then
  start=$(cat "$WORK/start"); end=$(( start + DAYS * 86400 - STEP ))
else
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"; echo "$start" > "$WORK/start"
  t0=$(date +%s)
  "$GEN" "$TENANTS" "$KEYS" "$start" 0 "$SCRAPE" "$WORK/w0.om"
  for ((w = 0; w < windows; w++)); do
    next=$(( w + 1 ))
    gen_pid=
    if (( next < windows )); then
      "$GEN" "$TENANTS" "$KEYS" "$start" "$next" "$SCRAPE" "$WORK/w$next.om" & gen_pid=$!
    fi
    promtool tsdb create-blocks-from openmetrics -q "$WORK/w$w.om" "$WORK/data" >/dev/null
    rm -f "$WORK/w$w.om"
    if [ -n "$gen_pid" ]; then wait "$gen_pid"; fi
    printf '\rbackfill: %d/%d windows' "$next" "$windows" >&2
  done
  echo >&2
  echo "backfill: $(( $(date +%s) - t0 ))s, $(du -sh "$WORK/data" | cut -f1) of blocks"
fi

# The rule pack: one observation, threshold and alert (for: 5m) per key.
mkdir -p "$WORK/packs" "$WORK/new.d" "$WORK/old.d"
{
  echo "groups:"
  echo "  - name: bench"
  echo "    interval: ${STEP}s"
  echo "    rules:"
  for ((k = 1; k <= KEYS; k++)); do
    key=$(printf 'bench_k%02d' "$k")
    cat <<YAML
      - record: tenant:${key}:max
        expr: max by(tenant) (${key}_value)
      - record: tenant:alert_threshold:${key}
        expr: max by(tenant, severity) (user_threshold{component="bench", metric="${key#bench_}"})
      - record: tenant:alert_over_threshold:${key}
        expr: tenant:${key}:max > on(tenant) group_right tenant:alert_threshold:${key}
      - alert: BenchHigh$(printf 'K%02d' "$k")
        expr: tenant:alert_over_threshold:${key}{severity="warning"}
        for: 5m
        labels: {severity: warning, component: bench}
YAML
  done
} > "$WORK/packs/bench.yaml"
{ echo "defaults:"; for ((k = 1; k <= KEYS; k++)); do printf '  bench_k%02d: 80\n' "$k"; done; } > "$WORK/new.d/_defaults.yaml"
{ echo "defaults:"; for ((k = 1; k <= KEYS; k++)); do printf '  bench_k%02d: 70\n' "$k"; done; } > "$WORK/old.d/_defaults.yaml"
for ((n = 0; n < TENANTS; n++)); do
  t=$(printf 't%05d' "$n")
  if (( n % 100 == 0 )); then
    printf 'tenants:\n  %s:\n    bench_k01: 90\n' "$t" > "$WORK/new.d/$t.yaml"
  else
    printf 'tenants:\n  %s: {}\n' "$t" > "$WORK/new.d/$t.yaml"
  fi
  printf 'tenants:\n  %s: {}\n' "$t" > "$WORK/old.d/$t.yaml"
done

echo "global: {}" > "$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --storage.tsdb.retention.time=60d --storage.tsdb.max-block-duration=2h \
  --web.listen-address=127.0.0.1:0 --log.level=warn 2>"$WORK/prometheus.log" &
PROM_PID=$!
port=
deadline=$(( $(date +%s) + 300 ))
while [ -z "$port" ]; do
  (( $(date +%s) < deadline )) || { echo "prometheus did not listen" >&2; cat "$WORK/prometheus.log" >&2; exit 1; }
  kill -0 "$PROM_PID" || { cat "$WORK/prometheus.log" >&2; exit 1; }
  port=$(ss -Hltnp 2>/dev/null | grep "pid=$PROM_PID," | awk '{print $4}' | sed 's/.*://' | head -1 || true)
  [ -n "$port" ] || sleep 0.2
done
url="http://127.0.0.1:$port"
until curl -sf "$url/-/ready" >/dev/null; do
  (( $(date +%s) < deadline )) || { echo "prometheus not ready" >&2; exit 1; }
  sleep 0.5
done
from=$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
echo "prometheus $url, range $from .. $to, step ${STEP}s"

for ((r = 1; r <= RUNS; r++)); do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(date +%s.%N)
  set +e
  "$DYNALERT" backtest --prometheus "$url" --from "$from" --to "$to" --step "$STEP" \
    --packs "$WORK/packs" "$WORK/new.d" --against "$WORK/old.d" --read "$READ" --format json \
    >"$WORK/report.json" 2>"$WORK/backtest.err"
  rc=$?
  set -e
  t1=$(date +%s.%N)
  if [ "$rc" -gt 1 ]; then cat "$WORK/backtest.err" >&2; exit 1; fi
  rows=$(grep -c '"tenant"' "$WORK/report.json" || true)
  printf 'run %d: %.1fs wall, %s rows, load before %s, after %s; %s\n' "$r" "$(echo "$t1 - $t0" | bc)" \
    "$rows" "$load" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(grep -E '^backtest: [0-9]+ tenants' "$WORK/backtest.err")"
done
