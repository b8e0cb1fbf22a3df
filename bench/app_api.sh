#!/usr/bin/env bash
# Server time of the web app's API calls behind its screens (issue: person page, worklist and
# population views under 50 ms p99; the caseload board of 180 under 50 ms p99), at each
# population size: generates the population straight
# into a SQLite store, stratifies it, adds a GP at the first practice and a commissioner, then
# runs app_api_bench (in process: the records service's decision, the store and the audit
# event of every call; no sockets).
#
#   bench/app_api.sh                     245,315 and 1,000,000 people
#   SIZES=245315 bench/app_api.sh
#
# Scratch files go to $JOINEDUP_BENCH_WORK (default build/bench/app-api-work; ~4 GB at 1M)
# and are removed afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/bench"
work=${JOINEDUP_BENCH_WORK:-$build/app-api-work}
sizes=${SIZES:-245315 1000000}

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOINEDUP_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target joinedup app_api_bench
bin="$build/src/cli/joinedup"

trap 'rm -rf -- "$work"' EXIT
for patients in $sizes; do
  rm -rf -- "$work"
  mkdir -p -- "$work"
  db="$work/joinedup.db"
  echo "== $patients people: generate, stratify"
  "$bin" generate --db "$db" --patients "$patients" --practices 45 --seed 1 --as-of 2026-03-31 >/dev/null
  "$bin" stratify --db "$db" --as-of 2026-03-31 >/dev/null
  password=$(head -c 18 /dev/urandom | base64)
  printf '%s\n' "$password" | "$bin" user add --db "$db" --username bench-gp --role gp \
    --organisation SYN001 --display-name "Bench GP" >/dev/null
  printf '%s\n' "$password" | "$bin" user add --db "$db" --username bench-commissioner \
    --role commissioner --organisation QHM --organisation-kind commissioner \
    --organisation-name "Bench ICB" --display-name "Bench Commissioner" >/dev/null
  # A case-management team of 180 (seed 001's caseload with care assistants), its care work and
  # the escalation rules over it: the board and task lists as a case manager opens them.
  printf '%s\n' "$password" | "$bin" user add --db "$db" --username bench-cm --role case-manager \
    --organisation RYG --organisation-kind community_trust --organisation-name "Bench Trust" \
    --display-name "Bench Case Manager" >/dev/null
  team=$("$bin" careteam add --db "$db" --name "Bench case management" --organisation RYG \
    --member bench-cm | sed -n 's/^added care team \([0-9]*\).*/\1/p')
  "$bin" caseload capacity --db "$db" --team "$team" --capacity 180 >/dev/null
  "$bin" caseload seed --db "$db" --team "$team" --fill 1 --waiting 10 >/dev/null
  "$bin" caseload care-work --db "$db" --team "$team" >/dev/null
  "$bin" stratify --db "$db" --as-of 2026-09-30 >/dev/null  # a second run: rises to escalate
  TIMEFORMAT="escalation rules over the caseload: %R s"
  time "$bin" escalate --db "$db" --as-of 2026-03-31
  "$build/bench/app_api_bench" --db "$db" --gp bench-gp --commissioner bench-commissioner \
    --case-manager bench-cm --team "$team" --samples "${SAMPLES:-300}"
done
