#!/usr/bin/env bash
# Builds joinedup and runs every test twice: a warnings-as-errors build, then the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer. PostgreSQL tests start their own
# throwaway server on loopback (see scripts/pg-test-server.sh). Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The FHIR client tests (tests/clients) drive the server with npm packages pinned by its lock.
# The browser tests (tests/e2e) likewise: playwright-core and axe-core, driving Debian's chromium.
if command -v npm > /dev/null; then
  npm ci --prefix tests/clients --no-audit --no-fund
  npm ci --prefix tests/e2e --no-audit --no-fund
fi

jobs=$(nproc)
run_suite() {  # run_suite BUILD_DIR CMAKE_ARGS...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DJOINEDUP_WERROR=ON "$@"
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" --timeout 900 | tee "$dir/ctest.log"
  summary+=("$dir: $(grep -E 'tests passed' "$dir/ctest.log" | tail -1)")
}
summary=()

echo "== Build and test (warnings as errors)"
run_suite build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== Build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
# -g1: line tables only, all a sanitizer report needs (file:line of every frame), cheaper to
# compile and link than full debug information.
run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DJOINEDUP_SANITIZE=ON \
  -DJOINEDUP_BENCH=OFF
echo "== Summary"
printf '%s\n' "${summary[@]}"
