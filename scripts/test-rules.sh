#!/usr/bin/env bash
# Checks every rule pack with the reference tools:
#   promtool check rules --lint-fatal   on every rule file
#   promtool test rules                 on every unit-test file
#   vmalert -dryRun                     on every rule file (VictoriaMetrics compatibility)
# Needs the Debian packages `prometheus` (promtool) and `victoria-metrics` (vmalert); installs
# nothing. Runs every step, then exits 1 if any failed (2 when promtool is missing).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACKS="$ROOT/rules/packs"
fail=0

need() { command -v "$1" >/dev/null || { echo "error: \`$1\` not found (Debian package: $2)" >&2; exit 2; }; }
need promtool prometheus

mapfile -t rule_files < <(find "$PACKS" -mindepth 2 -maxdepth 2 -name '*.yaml' | sort)
mapfile -t test_files < <(find "$PACKS" -path '*/tests/*.test.yaml' | sort)
[ "${#rule_files[@]}" -gt 0 ] || { echo "error: no rule files under $PACKS" >&2; exit 2; }

echo "== promtool check rules --lint-fatal (${#rule_files[@]} files)"
promtool check rules --lint-fatal "${rule_files[@]}" || fail=1

echo "== promtool test rules (${#test_files[@]} files)"
for t in "${test_files[@]}"; do
  (cd "$(dirname "$t")" && promtool test rules "$(basename "$t")") || fail=1
done

echo "== vmalert -dryRun"
if command -v vmalert >/dev/null; then
  args=()
  for f in "${rule_files[@]}"; do args+=("-rule=$f"); done
  if out=$(vmalert -dryRun "${args[@]}" 2>&1); then
    echo "vmalert: ${#rule_files[@]} rule files accepted"
  else
    echo "$out" >&2; fail=1
  fi
else
  echo "error: vmalert not found (Debian package: victoria-metrics)" >&2; fail=1
fi

if [ "$fail" -ne 0 ]; then echo "FAILED" >&2; exit 1; fi
echo "OK"
