#!/usr/bin/env bash
# Browser test of the status pages: a release threshold-exporter loaded with examples/conf.d,
# a tenant in maintenance, a tenant rejected after a good load, a tenant rejected from the
# start and 10,000 generated tenants, driven by headless Chromium (Debian `chromium`,
# `chromium-driver`) through scripts/status-browser.py. Screenshots go to
# target/status-browser/. Exits 1 when a check fails, 2 when a tool is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXPORTER=${THRESHOLD_EXPORTER:-$ROOT/target/release/threshold-exporter}
OUT="$ROOT/target/status-browser"
TENANTS=${STATUS_TENANTS:-10000}

need() { command -v "$1" >/dev/null || { echo "error: \`$1\` not found (Debian package: $2)" >&2; exit 2; }; }
need chromium chromium
need chromedriver chromium-driver
need python3 python3
[[ -x "$EXPORTER" ]] || { echo "error: \`$EXPORTER\` not built" >&2; echo "  hint: cargo build --release -p threshold-exporter" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits up to $2 seconds for a line matching $1 in file $3 and prints the match.
wait_line() {
  local deadline=$((SECONDS + $2)) m
  while ((SECONDS < deadline)); do
    if m=$(grep -o -m1 -E "$1" "$3" 2>/dev/null); then echo "$m"; return 0; fi
    sleep 0.05
  done
  echo "error: no \`$1\` in $3 within $2 s" >&2; cat "$3" >&2; return 1
}

conf="$work/conf.d"
mkdir -p "$conf" "$OUT"
cp "$ROOT"/examples/conf.d/*.yaml "$conf/"
cat >"$conf/maint-m.yaml" <<'EOF'
tenants:
  maint-m:
    mysql_connections: 90
    _state_maintenance: {expires: "2099-01-01T00:00:00Z", reason: "disk swap"}
EOF
printf 'tenants:\n  new-bad:\n    mysql_connections: [\n' >"$conf/new-bad.yaml"
python3 - "$conf" "$TENANTS" <<'EOF'
import sys
conf, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    t = f"gen-{i:05d}"
    with open(f"{conf}/{t}.yaml", "w") as f:
        f.write(f"tenants:\n  {t}:\n    mysql_connections: {50 + i % 100}\n"
                f"    container_cpu: {60 + i % 30}\n"
                f"    _metadata: {{owner: team-{i % 50}}}\n")
EOF

# The secrets of the example routing: every receiver `url:` of the platform and tenant files.
grep -h -o -E '[ {]url: "[^"]+"' "$ROOT"/examples/conf.d/*.yaml | sed -E 's/.*url: "([^"]+)"/\1/' >"$work/secrets"

log="$work/exporter.log"
"$EXPORTER" --config.dir "$conf" --web.listen-address 127.0.0.1:0 --config.watch=false \
  --config.poll-interval 1h >"$log" 2>&1 &
pids+=($!)
addr=$(wait_line 'address=127\.0\.0\.1:[0-9]+' 20 "$log" | cut -d= -f2)
base="http://$addr"
deadline=$((SECONDS + 60))
until curl -fsS "$base/-/ready" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { echo "error: exporter not ready within 60 s" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
# db-b is rejected after a good load (SIGHUP reloads): its last good config stays served.
printf 'tenants:\n  db-b:\n    mysql_connections: [\n' >"$conf/db-b.yaml"
kill -HUP "${pids[0]}"
deadline=$((SECONDS + 60))
until curl -fsS "$base/api/v1/tenants/db-b" 2>/dev/null | grep -q '"valid":false'; do
  ((SECONDS < deadline)) || { echo "error: db-b not rejected within 60 s of SIGHUP" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done

dlog="$work/chromedriver.log"
chromedriver --port=0 >"$dlog" 2>&1 &
pids+=($!)
port=$(wait_line 'started successfully on port [0-9]+' 20 "$dlog" | grep -o -E '[0-9]+$')

echo "== status pages in headless Chromium ($TENANTS generated tenants, exporter $base)"
python3 "$ROOT/scripts/status-browser.py" "http://127.0.0.1:$port" "$base" "$OUT" "$work/secrets"
