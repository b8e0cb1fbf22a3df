#!/usr/bin/env bash
# Installs what joinedup needs to build, test and run, from Debian packages only.
# Idempotent; runs as root (a fresh Debian 12 machine) or through sudo.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config python3
  libsqlite3-dev libpq-dev postgresql
  libsimdjson-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev libcpp-httplib-dev
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
