#!/usr/bin/env bash
# Builds population_bench (Release, in build/bench), starts a throwaway PostgreSQL on loopback,
# runs the benchmark with it, and stops it again however the run ends. Arguments go to
# population_bench, e.g.:
#
#   bench/run.sh                          245,315 and 1,000,000 patients (the defaults)
#   bench/run.sh --patients 245315        one size
#   bench/run.sh --skip postgresql        SQLite only
#
# Scratch files (NDJSON, databases) go to $JOINEDUP_BENCH_WORK (default build/bench/work) and
# are removed afterwards; 1,000,000 patients need about 55 GB there and in /tmp together.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/bench"
work=${JOINEDUP_BENCH_WORK:-$build/work}

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOINEDUP_TESTS=OFF >/dev/null
cmake --build "$build" --target population_bench

# The PostgreSQL server runs as the postgres user when we are root, so its directory is in /tmp.
pg_dir=/tmp/joinedup-bench-pg-$$
cleanup() {
  "$root/scripts/pg-test-server.sh" stop "$pg_dir" || true
  rm -rf -- "$work"
}
trap cleanup EXIT
"$root/scripts/pg-test-server.sh" start "$pg_dir"

mkdir -p -- "$work"
"$build/bench/population_bench" --work "$work" --postgres-url "$(cat "$pg_dir/url")" "$@"
