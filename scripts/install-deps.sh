#!/usr/bin/env bash
# Installs what joinedup needs to build, test and run, from Debian packages only.
# Idempotent; runs as root (a fresh Debian 12 machine) or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config python3
  libsqlite3-dev libpq-dev postgresql
  libsimdjson-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev libcpp-httplib-dev
  chromium  # the web UI's browser tests (tests/e2e), driven headless by playwright-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI (web/) is built by Vite into the binary: Node.js 20.19 or newer with npm. These
# machines carry Node 20; Debian 12's own nodejs (18) is installed only where there is none, and
# is too old for Vite 7 (configure with -DJOINEDUP_WEB=OFF there, or install Node 20).
if ! command -v npm > /dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
# Exactly what web/package-lock.json pins, from the npm registry (nothing at build time).
if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  npm ci --prefix web --no-audit --no-fund
fi
