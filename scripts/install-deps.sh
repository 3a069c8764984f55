#!/usr/bin/env bash
# Installs the Debian packages and Rust components the demo and the tests need.
# Idempotent: packages already installed are not touched; `apt-get update` runs
# only when something is missing.
set -euo pipefail

PACKAGES=(
  prometheus                   # prometheus, promtool
  prometheus-alertmanager      # alertmanager, amtool
  mariadb-server               # mariadbd, mariadb-install-db, mariadb client
  prometheus-mysqld-exporter
  prometheus-postgres-exporter
  prometheus-redis-exporter
  postgresql
  redis-server
  victoria-metrics             # vmalert -dryRun compatibility check of the rule packs
  chromium                     # headless browser test of the status pages
  chromium-driver
  curl
  ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "  hint: run as root, or install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy || true
fi
