#!/usr/bin/env bash
# Real FHIR clients from npm (fhirclient, fhir-kit-client) drive `joinedup serve`:
#   run_client_tests.sh JOINEDUP_BINARY [node --test arguments…]
# Builds its own world in a temporary directory: generates a small synthetic population in ONE
# practice (SYN001), imports it into a fresh SQLite file, adds a GP at that practice (so every
# generated person is within the GP's legitimate relationship and searches see them all),
# starts the server on a free loopback port (--port 0), signs in through /auth/token, runs the
# node:test files in tests/clients/test/, then stops the server with SIGTERM and removes the
# directory. Registered in ctest as `fhir_clients` (tests/clients/CMakeLists.txt).
#
# Exit status: the tests' (non-zero if any client test fails or the setup does), or 77 — ctest's
# SKIP_RETURN_CODE — only when node is not installed.
# Environment: CLIENTS_PATIENTS (default 3000), CLIENTS_KEEP=1 keeps the directory.
set -euo pipefail

bin=${1:?usage: run_client_tests.sh JOINEDUP_BINARY [node --test args…]}
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

if ! command -v node > /dev/null; then
  echo "SKIP: node is not installed (apt-get install -y nodejs npm); the FHIR client tests need it"
  exit 77
fi
if [[ ! -f $here/node_modules/.package-lock.json ]]; then
  # scripts/test.sh runs `npm ci --prefix tests/clients`; a bare ctest run does it here once.
  echo "== npm ci --prefix $here (node_modules missing)"
  npm ci --prefix "$here" --no-audit --no-fund
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/joinedup-clients.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  if [[ ${CLIENTS_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

patients=${CLIENTS_PATIENTS:-3000}
practice=SYN001
username=clients-gp
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

echo "== Generating $patients people in practice $practice"
"$bin" generate --out "$work/fhir" --patients "$patients" --practices 1 --seed 7 \
  --as-of 2026-03-31 > "$work/generate.log"
echo "== Importing into $work/joinedup.db"
"$bin" import --db "$work/joinedup.db" "$work/fhir" > "$work/import.log"
printf '%s\n' "$password" |
  "$bin" user add --db "$work/joinedup.db" --username "$username" --role gp \
    --organisation "$practice" --display-name "Client Test GP" > /dev/null

echo "== Starting joinedup serve"
mkdir -p "$work/export"
"$bin" serve --db "$work/joinedup.db" --bind 127.0.0.1 --port 0 --export-dir "$work/export" \
  2> "$work/serve.log" &
server_pid=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^joinedup serve: listening on \(http:[^ ]*\) .*/\1/p' "$work/serve.log")
  [[ -n $base ]] && break
  if ! kill -0 "$server_pid" 2> /dev/null; then
    echo "joinedup serve exited before listening:"
    cat "$work/serve.log"
    exit 1
  fi
  sleep 0.1
done
[[ -n $base ]] || { echo "joinedup serve did not start within 60 s"; cat "$work/serve.log"; exit 1; }
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "   $base"

token=$(curl -fsS -X POST "$base/auth/token" \
  --data-urlencode grant_type=password --data-urlencode "username=$username" \
  --data-urlencode "password=$password" --data-urlencode "scope=user/*.cruds" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).access_token))')
[[ -n $token ]] || { echo "no access token from $base/auth/token"; exit 1; }

export JOINEDUP_BIN=$bin JOINEDUP_FHIR_BASE=$base/fhir JOINEDUP_TOKEN=$token \
  JOINEDUP_NDJSON_DIR=$work/fhir JOINEDUP_WORK_DIR=$work JOINEDUP_PRACTICE=$practice
# One file at a time, in this order: the walks and the export compare against the generated
# population, so they run before fhir-kit-client adds people to it (and care-plan, plans).
status=0
for file in fhirclient export fhir-kit-client care-plan; do
  echo "== node --test test/$file.test.mjs"
  node --test --test-reporter=spec "$@" "$here/test/$file.test.mjs" || status=1
done
if [[ $status -ne 0 ]]; then
  echo "== joinedup serve log (last 40 lines)"
  tail -n 40 "$work/serve.log"
fi
exit "$status"
